"""The HTTP PACE plan source against the local gateway server (127.0.0.1): every scripted fault
maps to the port's typed error or is retried as specified; the client's backoff, Retry-After,
rate limiter and auth hook; the server's own bounds. Sleeps are injected: nothing really waits
except a read timeout of a fraction of a second."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.adapters.http_client import HttpClient, HttpSettings, RateLimiter
from ndis_rules.adapters.http_pace import HttpPaceSource
from ndis_rules.errors import (
    ParticipantNotFound,
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
)
from ndis_rules.money import Money
from ndis_rules.pace import ParticipantRef
from ndis_rules.ports import PacePlanSource
from ndis_rules.testing.contracts import PaceEntry, PaceFault, PacePlanSourceContract
from ndis_rules.testing.http_gateway import LocalGateway

WHO = ParticipantRef(ndis_number="430000001", last_name="Citizen", date_of_birth=date(1990, 1, 31))
PLAN = """{"planId": 1001, "planNumber": 5000123, "participantId": 77, "rego": "4050000000",
  "startDate": "2025-07-01", "endDate": "2026-06-30", "ndisRefreshDate": "2025-07-02",
  "totalFunding": 14500.05,
  "planBudgets": [{"budgetId": 11, "categoryCode": "01", "managementType": "PLAN",
                   "allocatedAmount": 14500.05, "remaining": 3.10}]}"""
PATH = "/planByNdisNumber"


class Sleeps:
    """An injected sleep that records the waits (and a clock that moves with them)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[LocalGateway]:
    with LocalGateway(lifetime=60) as gateway:
        gateway.add_pace_plans(WHO, [PLAN])
        yield gateway


def source(server: LocalGateway, sleeps: Sleeps | None = None, **settings: Any) -> HttpPaceSource:
    sleeps = sleeps or Sleeps()
    options: dict[str, Any] = {
        "timeout": 2.0,
        "retries": 2,
        "sleep": sleeps,
        "clock": sleeps.clock,
        "random": lambda: 1.0,
    }
    options.update(settings)
    return HttpPaceSource(HttpSettings(server.url, **options))


def test_the_plan_is_read_exactly_from_the_gateway(server: LocalGateway) -> None:
    with source(server) as pace:
        (plan,) = pace.plans_for(WHO)
    assert (plan.plan_id, plan.gateway_plan_id, plan.ndis_number) == (
        "5000123",
        "1001",
        WHO.ndis_number,
    )
    assert plan.total == Money.parse("14500.05") and plan.budgets[0].total == plan.total
    assert plan.ignored == ("participantId", "rego", "ndisRefreshDate", "planBudgets.0.remaining")
    assert plan.raw["planBudgets"][0]["remaining"] == Decimal("3.10")
    assert [(r.method, r.path) for r in server.requests] == [("GET", f"{PATH}/430000001")]


def test_the_name_and_date_of_birth_are_checked_never_sent(server: LocalGateway) -> None:
    with source(server) as pace:
        for other in (
            WHO.model_copy(update={"last_name": "Smith"}),
            WHO.model_copy(update={"date_of_birth": date(1990, 2, 1)}),
        ):
            with pytest.raises(ParticipantNotFound) as info:
                pace.plans_for(other)
            assert "Smith" not in str(info.value) and "1990" not in str(info.value)
        assert pace.plans_for(WHO.model_copy(update={"last_name": " CITIZEN "}))
    assert all("Citizen" not in r.path and "Smith" not in r.path for r in server.requests)
    with source(server) as pace, pytest.raises(ParticipantNotFound):
        pace.plans_for(WHO.model_copy(update={"ndis_number": "430000009"}))  # 404


def test_not_authorised_participant(server: LocalGateway) -> None:
    server.add_pace_plans(WHO, [PLAN], authorised=False)
    with source(server) as pace, pytest.raises(SourceNotAuthorised, match="HTTP 403"):
        pace.plans_for(WHO)
    assert len(server.requests) == 1  # a refusal is not retried


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("500", {}),
        ("429", {"retry_after": 3}),
        ("drop", {}),
        ("slow", {"delay": 2.0}),
    ],
)
def test_transient_faults_are_retried_with_backoff(
    server: LocalGateway, kind: Any, options: dict[str, Any]
) -> None:
    sleeps = Sleeps()
    server.fail(PATH, kind, times=2, **options)
    with source(server, sleeps, timeout=0.3) as pace:
        (plan,) = pace.plans_for(WHO)
    assert plan.plan_id == "5000123"
    assert len(server.calls("GET", PATH)) == 3
    expected = [3.0, 3.0] if kind == "429" else [0.5, 1.0]  # Retry-After, else 0.5 * 2**n
    assert sleeps.waits == expected


@pytest.mark.parametrize(
    ("kind", "options", "error", "needle"),
    [
        ("500", {}, SourceRefused, "HTTP 500"),
        ("429", {"retry_after": 1}, SourceRefused, "HTTP 429"),
        ("drop", {}, SourceRefused, "connection failed"),
        ("slow", {"delay": 2.0}, SourceTimeout, "no answer"),
    ],
)
def test_retries_are_bounded_then_the_typed_error(
    server: LocalGateway, kind: Any, options: dict[str, Any], error: type[SourceError], needle: str
) -> None:
    server.fail(PATH, kind, times=None, **options)
    with source(server, timeout=0.3, retries=2) as pace, pytest.raises(error) as info:
        pace.plans_for(WHO)
    assert needle in str(info.value) and "after 3 attempt(s)" in str(info.value)
    assert len(server.calls("GET", PATH)) == 3


def test_a_malformed_body_is_a_payload_error_not_retried(server: LocalGateway) -> None:
    server.fail(PATH, "malformed")
    with source(server) as pace, pytest.raises(SourcePayloadError, match="not valid JSON"):
        pace.plans_for(WHO)
    assert len(server.requests) == 1


def test_a_plan_that_cannot_be_mapped_names_the_field(server: LocalGateway) -> None:
    server.add_pace_plans(
        WHO, [PLAN.replace('14500.05,\n  "planBudgets"', '14500.055,\n  "planBudgets"')]
    )
    with source(server) as pace, pytest.raises(SourcePayloadError) as info:
        pace.plans_for(WHO)
    assert info.value.loc == ("plans", 0, "totalFunding")
    assert "2 decimal places" in str(info.value) and "GET /planByNdisNumber" in str(info.value)
    server.add_pace_plans(WHO, [PLAN.replace('"rego"', '"regoo"')])
    with source(server) as pace, pytest.raises(SourcePayloadError, match=r"plans\.0\.regoo"):
        pace.plans_for(WHO)


def test_another_participants_plan_is_refused(server: LocalGateway) -> None:
    server.add_pace_plans(
        WHO, [PLAN.replace('"planId": 1001,', '"planId": 1001, "ndisNumber": 430000002,')]
    )
    with source(server) as pace, pytest.raises(SourcePayloadError, match="another NDIS number"):
        pace.plans_for(WHO)


def test_the_auth_hook_adds_headers_and_nothing_keeps_them() -> None:
    secret = "k-123-very-secret"
    with LocalGateway(require_headers={"x-api-key": secret, "org-id": "ORG"}) as server:
        server.add_pace_plans(WHO, [PLAN])
        calls = []

        def auth() -> dict[str, str]:
            calls.append(1)
            return {"x-api-key": secret, "org-id": "ORG"}

        with source(server, auth=auth) as pace:
            assert pace.plans_for(WHO) and pace.plans_for(WHO)
            assert len(calls) == 2  # asked for every request
            kept = repr(pace.client.settings) + repr(pace.client.attempts) + repr(vars(pace))
            assert secret not in kept
        with source(server) as pace, pytest.raises(SourceNotAuthorised) as info:
            pace.plans_for(WHO)  # no credentials: 401
        assert secret not in str(info.value)
        assert "x-api-key" in server.requests[0].header_names


def test_the_rate_limiter_spaces_requests(server: LocalGateway) -> None:
    sleeps = Sleeps()
    with source(server, sleeps, rate=2.0, burst=1) as pace:
        for _ in range(3):
            pace.plans_for(WHO)
    assert sleeps.waits == [0.5, 0.5]


def test_rate_limiter_burst_and_refill() -> None:
    sleeps = Sleeps()
    bucket = RateLimiter(rate=1.0, burst=3, clock=sleeps.clock, sleep=sleeps)
    assert [bucket.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    sleeps.now += 10  # idle: the bucket refills to its burst, no more
    assert [bucket.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    with pytest.raises(ValueError):
        RateLimiter(rate=0)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    client = HttpClient(
        HttpSettings("http://127.0.0.1:9", backoff=0.5, backoff_max=4.0, random=lambda: 0.5)
    )
    with client:
        assert [client.backoff_delay(n, None) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
        assert client.backoff_delay(0, 30.0) == 30.0  # Retry-After when longer
        assert client.backoff_delay(0, 1e9) == 60.0  # capped


def test_the_server_is_bounded_and_stops_by_itself() -> None:
    server = LocalGateway(max_requests=1, lifetime=0.2).start()
    assert server.url.startswith("http://127.0.0.1:")
    server.add_pace_plans(WHO, [PLAN])
    with source(server, retries=0) as pace:
        assert pace.plans_for(WHO)
        with pytest.raises(SourceRefused, match="HTTP 503"):
            pace.plans_for(WHO)
    assert server._thread is not None
    server._thread.join(timeout=10)  # the lifetime ends it: no stop() called
    assert not server._thread.is_alive()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


class TestHttpPaceSourceContract(PacePlanSourceContract):
    """The shipped PacePlanSource contract suite, run over HTTP against the local gateway."""

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with LocalGateway(lifetime=60) as gateway:
            self.server = gateway
            yield

    def make_source(self, tmp_path: Path, participants: Sequence[PaceEntry]) -> PacePlanSource:
        for who, plans, authorised in participants:
            payloads = [p.model_dump(mode="json", exclude_none=True) for p in plans]
            self.server.add_pace_plans(who, payloads, authorised=authorised)
        return source(self.server)

    def failing_source(self, tmp_path: Path, fault: PaceFault) -> PacePlanSource:
        self.server.add_pace_plans(WHO, [PLAN])
        match fault:
            case "timeout":
                self.server.fail(PATH, "slow", times=None, delay=1.0)
            case "refused":
                self.server.fail(PATH, "500", times=None)
            case "payload":
                self.server.fail(PATH, "malformed", times=None)
        return source(self.server, timeout=0.3, retries=0)
