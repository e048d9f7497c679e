"""The HTTP PRODA gateway against the local gateway server (127.0.0.1): the port's behaviour suite
(the same one the in-memory and JSON-file gateways pass), then the faults: timeouts, 429, 500,
dropped connections and malformed bodies map to the port's errors; GETs and keyed creates are
retried, and no other POST ever is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from booking_support import PLAN_END, participant, proda_plan, request

from ndis_rules.adapters.http_client import HttpSettings
from ndis_rules.adapters.http_proda import HttpProdaGateway
from ndis_rules.ports import ProdaGateway
from ndis_rules.proda import (
    BookingNotFound,
    GatewayPayloadError,
    GatewayRefused,
    GatewayTimeout,
    GatewayUnavailable,
)
from ndis_rules.testing.contracts import ProdaEntry, ProdaGatewayContract
from ndis_rules.testing.http_gateway import LocalGateway

P1 = participant(1)
CREATE = "/serviceBooking/create"


def no_sleep(seconds: float) -> None:
    """Injected: the tests never really wait for a backoff."""


def gateway(
    server: LocalGateway, default_type: Any = "standard", **settings: Any
) -> HttpProdaGateway:
    options: dict[str, Any] = {"timeout": 2.0, "retries": 2, "sleep": no_sleep, "rate": None}
    options.update(settings)
    return HttpProdaGateway(HttpSettings(server.url, **options), default_type=default_type)


class _Served:
    """The HTTP adapter, plus the test hooks of the fake behind the server (payments, PRODA
    ending a booking) that the suite calls on the gateway it is given."""

    def __init__(self, adapter: HttpProdaGateway, server: LocalGateway) -> None:
        self._adapter = adapter
        self._server = server

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)

    def record_payment(self, booking_id: str) -> None:
        self._server.proda.record_payment(booking_id)

    def make_inactive(self, booking_id: str) -> None:
        self._server.proda.make_inactive(booking_id)


class TestHttpGateway(ProdaGatewayContract):
    """The shipped ProdaGateway contract suite, run over HTTP."""

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with LocalGateway(lifetime=60) as server:
            self.server = server
            yield

    def make_gateway(self, tmp_path: Path, participants: Sequence[ProdaEntry]) -> ProdaGateway:
        for who, plan in participants:
            self.server.proda.register(who, plan)
        return cast(ProdaGateway, _Served(gateway(self.server), self.server))

    def state(self, gw: Any) -> object:
        return self.server.proda.to_state()


@pytest.fixture
def server() -> Iterator[LocalGateway]:
    with LocalGateway(lifetime=60) as gw:
        gw.proda.register(P1, proda_plan(P1))
        yield gw


def test_create_sends_the_documented_body_and_idempotency_key(server: LocalGateway) -> None:
    with gateway(server) as gw:
        booking = gw.create_booking(request())
    # only what the gateway says comes back (never our contract id or source)
    assert booking.proda_code == "INPR" and booking.request.source_kind == "external"
    assert (booking.request.category, booking.request.amount) == (
        request().category,
        request().amount,
    )
    post = server.calls("POST", CREATE)
    assert len(post) == 1 and post[0].idempotency_key == request().key
    made = server.proda.bookings[booking.booking_id].request
    assert (made.participant, made.category, str(made.amount)) == ("430000001", "01", "900.00")


def test_a_keyed_create_is_retried_and_never_duplicated(server: LocalGateway) -> None:
    server.fail(CREATE, "500", times=1)
    server.fail(CREATE, "drop", times=1)
    with gateway(server) as gw:
        first = gw.create_booking(request())
        again = gw.create_booking(request())  # the same request key: the same booking
    assert len(server.calls("POST", CREATE)) == 4
    assert first.booking_id == again.booking_id and len(server.proda.bookings) == 1


@pytest.mark.parametrize("kind", ["500", "drop", "429"])
def test_a_create_without_a_key_is_never_retried(server: LocalGateway, kind: Any) -> None:
    server.fail(CREATE, kind, times=1, retry_after=1)
    with gateway(server, idempotency_header=None) as gw, pytest.raises(GatewayUnavailable):
        gw.create_booking(request())
    assert len(server.calls("POST", CREATE)) == 1
    assert server.calls("POST", CREATE)[0].idempotency_key is None


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/serviceBooking/extend", lambda gw, b: gw.update_end_date(b, date(2026, 5, 31))),
        ("/serviceBooking/cancel", lambda gw, b: gw.end_booking(b)),
    ],
)
@pytest.mark.parametrize("kind", ["500", "drop", "slow"])
def test_other_posts_are_never_retried(
    server: LocalGateway, path: str, call: Any, kind: Any
) -> None:
    with gateway(server, timeout=0.3) as gw:
        booking = gw.refresh_booking(gw.create_booking(request()).booking_id)  # approved
        before = server.proda.to_state()
        server.fail(path, kind, times=None, delay=2.0)
        error = GatewayTimeout if kind == "slow" else GatewayUnavailable
        with pytest.raises(error):
            call(gw, booking.booking_id)
    assert len(server.calls("POST", path)) == 1
    assert server.proda.to_state() == before


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("500", GatewayUnavailable),
        ("429", GatewayUnavailable),
        ("drop", GatewayUnavailable),
        ("slow", GatewayTimeout),
    ],
)
def test_gets_are_retried_then_typed(server: LocalGateway, kind: Any, error: type) -> None:
    with gateway(server, timeout=0.3) as gw:
        server.fail("/planByNdisNumber", kind, times=2, delay=2.0, retry_after=1)
        assert gw.find_plan(P1).end_inclusive == PLAN_END  # third attempt answers
        server.fail("/serviceBookingsByNdisNumber", kind, times=None, delay=2.0)
        with pytest.raises(error) as info:
            gw.list_bookings(P1)
    assert "after 3 attempt(s)" in str(info.value)
    assert len(server.calls("GET", "/serviceBookingsByNdisNumber")) == 3


def test_malformed_answers_are_payload_errors(server: LocalGateway) -> None:
    with gateway(server) as gw:
        booking = gw.create_booking(request())
        server.fail("/serviceBooking/", "malformed")
        with pytest.raises(GatewayPayloadError, match="not valid JSON"):
            gw.refresh_booking(booking.booking_id)
        assert len(server.calls("GET", "/serviceBooking/")) == 1  # not retried
        server.fail("/serviceBooking/create", "malformed")
        with pytest.raises(GatewayPayloadError):
            gw.create_booking(request(source_id="07:agency", category="07"))
    assert len(server.calls("POST", CREATE)) == 2


def test_status_codes_map_to_the_ports_errors(server: LocalGateway) -> None:
    with gateway(server) as gw:
        server.fail("/planByNdisNumber", "status", code=401)
        with pytest.raises(GatewayRefused, match="not authorised"):
            gw.find_plan(P1)
        with pytest.raises(BookingNotFound):
            gw.refresh_booking("SB999")
        server.fail("/serviceBooking/SB", "status", code=504, times=None)
        with pytest.raises(GatewayTimeout):
            gw.refresh_booking("SB000001")


def test_what_prodas_answer_gives_is_what_comes_back(server: LocalGateway) -> None:
    with gateway(server, default_type="plan_managed") as gw:
        made = gw.create_booking(request(category="15", source_id="15:agency"))
        (listed,) = gw.list_bookings(P1)
    assert listed.booking_id == made.booking_id and listed.proda_code == "INPR"
    # PRODA knows no contract: the record names the booking itself as its source
    assert (listed.request.source_kind, listed.request.source_id) == ("external", made.booking_id)
    assert (listed.request.category, str(listed.request.amount)) == ("15", "900.00")
    assert listed.request.type == "standard"  # the answer's ZSAG wins over the default
