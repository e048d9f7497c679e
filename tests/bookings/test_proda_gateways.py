"""The PRODA port: one behaviour suite for both adapters, then the fake's scripted faults and the
JSON store's atomic writes. A failing call never changes anything."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from booking_support import PLAN_END, participant, proda_plan, request

from ndis_rules.adapters.proda_jsonfile import JsonFileProdaGateway
from ndis_rules.adapters.proda_memory import InMemoryProdaGateway
from ndis_rules.errors import NdisRulesError
from ndis_rules.money import Money
from ndis_rules.ports import ProdaGateway
from ndis_rules.proda import (
    BookingNotFound,
    GatewayError,
    GatewayRefused,
    GatewayTimeout,
    GatewayUnavailable,
    Participant,
)
from ndis_rules.testing.contracts import ProdaEntry, ProdaGatewayContract

P1 = participant(1)


class GatewayContract:
    """Behaviour every ProdaGateway adapter must have (run per adapter below)."""

    def make(self) -> Any:  # returns the adapter, registered with P1 and its plan
        raise NotImplementedError

    def state(self, gw: Any) -> object:
        raise NotImplementedError

    def refused_unchanged(self, gw: Any, call: Any, match: str) -> None:
        before = self.state(gw)
        with pytest.raises(GatewayRefused, match=match):
            call()
        assert self.state(gw) == before

    def test_an_idempotency_key_makes_one_booking(self) -> None:
        gw = self.make()
        first = gw.create_booking(request(), idempotency_key="C1/budget:01:agency")
        again = gw.create_booking(request(), idempotency_key="C1/budget:01:agency")
        other = gw.create_booking(request(), idempotency_key="C1/budget:01:agency/replaces:x")
        assert (first.replayed, again.replayed, other.replayed) == (False, True, False)
        assert first.booking_id == again.booking_id != other.booking_id
        assert len(gw.list_bookings(P1)) == 2

    def test_update_amount_of_a_category_level_booking(self) -> None:
        gw = self.make()
        made = gw.create_booking(request())
        updated = gw.update_amount(made.booking_id, Money.parse("1250.50"))
        assert updated.request.amount == Money.parse("1250.50")
        assert gw.refresh_booking(made.booking_id).request.amount == Money.parse("1250.50")

    def test_update_amount_of_a_support_items_booking_is_refused(self) -> None:
        gw = self.make()
        made = gw.create_booking(
            request(source_kind="support", source_id="S1", item="01_011_0107_1_1")
        )
        self.refused_unchanged(
            gw,
            lambda: gw.update_amount(made.booking_id, Money.parse("10.00")),
            "category-level",
        )

    def test_find_plan(self) -> None:
        plan = self.make().find_plan(P1)
        assert (plan.participant, plan.start, plan.end_inclusive) == (
            "430000001",
            date(2025, 7, 1),
            PLAN_END,
        )

    @pytest.mark.parametrize(
        ("who", "reason"),
        [
            (participant(1, name="Smith"), "name does not match"),
            (participant(1, dob=date(1991, 1, 2)), "date of birth does not match"),
            (participant(2), "NDIS number 430000002 not found"),
        ],
    )
    def test_find_plan_refused(self, who: Participant, reason: str) -> None:
        with pytest.raises(GatewayRefused) as info:
            self.make().find_plan(who)
        assert info.value.reason == reason

    def test_name_compares_case_insensitively(self) -> None:
        assert self.make().find_plan(participant(1, name=" citizen ")).plan_id

    def test_create_refresh_list(self) -> None:
        gw = self.make()
        b = gw.create_booking(request())
        assert (b.status, b.proda_code) == ("pending", "INPR")
        # only what PRODA knows comes back: never our contract id or source
        mine = request()
        assert (b.request.contract_id, b.request.source) == ("proda", f"external:{b.booking_id}")
        assert (b.request.category, b.request.item, b.request.type, b.request.amount) == (
            mine.category, mine.item, mine.type, mine.amount,
        )
        assert (b.start, b.end_inclusive) == (
            request().start,
            request().end_inclusive,
        )
        assert [x.booking_id for x in gw.list_bookings(P1)] == [b.booking_id]
        assert gw.list_bookings(participant(2)) == []
        refreshed = gw.refresh_booking(b.booking_id)
        assert (refreshed.status, refreshed.proda_code) == ("success", "APPR")
        second = gw.create_booking(request(source_id="07:agency", category="07"))
        assert second.booking_id != b.booking_id
        assert len(gw.list_bookings(P1)) == 2

    def test_create_outside_the_plan_is_refused(self) -> None:
        gw = self.make()
        self.refused_unchanged(
            gw,
            lambda: gw.create_booking(request(end_inclusive=date(2026, 7, 31))),
            "outside the PRODA plan",
        )
        self.refused_unchanged(
            gw, lambda: gw.create_booking(request(participant="430000002")), "not found"
        )

    def test_update_end_date_later_then_early_once(self) -> None:
        gw = self.make()
        b = gw.create_booking(request())
        assert gw.update_end_date(b.booking_id, PLAN_END).end_inclusive == PLAN_END
        early = gw.update_end_date(b.booking_id, date(2025, 12, 31))
        assert (early.end_inclusive, early.ended_early) == (date(2025, 12, 31), True)
        self.refused_unchanged(
            gw, lambda: gw.update_end_date(b.booking_id, date(2025, 11, 30)), "once"
        )
        self.refused_unchanged(
            gw, lambda: gw.update_end_date(b.booking_id, date(2026, 12, 31)), "after the plan"
        )
        self.refused_unchanged(
            gw, lambda: gw.update_end_date(b.booking_id, date(2025, 1, 1)), "before the start"
        )

    def test_end_booking(self) -> None:
        gw = self.make()
        b = gw.create_booking(request())
        ended = gw.end_booking(b.booking_id)
        assert (ended.status, ended.proda_code) == ("inactive", "DELE")
        self.refused_unchanged(gw, lambda: gw.end_booking(b.booking_id), "already inactive")
        self.refused_unchanged(gw, lambda: gw.update_end_date(b.booking_id, PLAN_END), "inactive")

    def test_booking_with_payments_cannot_be_ended(self) -> None:
        gw = self.make()
        b = gw.create_booking(request())
        gw.record_payment(b.booking_id)
        self.refused_unchanged(gw, lambda: gw.end_booking(b.booking_id), "payment requests")

    def test_inactive_booking(self) -> None:
        gw = self.make()
        b = gw.create_booking(request())
        gw.make_inactive(b.booking_id)
        assert gw.refresh_booking(b.booking_id).status == "inactive"
        self.refused_unchanged(gw, lambda: gw.update_end_date(b.booking_id, PLAN_END), "inactive")

    def test_unknown_booking(self) -> None:
        gw = self.make()
        before = self.state(gw)
        calls: list[Callable[[], object]] = [
            lambda: gw.refresh_booking("NOPE"),
            lambda: gw.end_booking("NOPE"),
            lambda: gw.update_end_date("NOPE", PLAN_END),
        ]
        for call in calls:
            with pytest.raises(BookingNotFound) as info:
                call()
            assert isinstance(info.value, LookupError) and info.value.booking_id == "NOPE"
        assert self.state(gw) == before


class TestInMemoryGateway(GatewayContract):
    def make(self) -> InMemoryProdaGateway:
        return InMemoryProdaGateway([(P1, proda_plan(P1))])

    def state(self, gw: Any) -> object:
        return gw.to_state()


class TestJsonFileGateway(GatewayContract):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.path = tmp_path / "store" / "proda.json"

    def make(self) -> JsonFileProdaGateway:
        gw = JsonFileProdaGateway(self.path)
        gw.register(P1, proda_plan(P1))
        return gw

    def state(self, gw: Any) -> object:
        return self.path.read_bytes()

    def test_state_survives_a_new_instance_money_as_strings(self) -> None:
        b = self.make().create_booking(request())
        again = JsonFileProdaGateway(self.path)
        assert again.refresh_booking(b.booking_id).request.amount == request().amount
        data = json.loads(self.path.read_text())
        assert data["bookings"][0]["request"]["amount"] == "900.00"
        assert data["bookings"][0]["start"] == "2025-07-01"
        # no temp files (the lock file stays beside the store)
        assert sorted(p.name for p in self.path.parent.iterdir()) == [
            "proda.json",
            "proda.json.lock",
        ]

    def test_unreadable_file_is_a_gateway_error(self) -> None:
        self.path.parent.mkdir(parents=True)
        self.path.write_text("{not json")
        with pytest.raises(GatewayError, match="not a PRODA store file"):
            JsonFileProdaGateway(self.path).list_bookings(P1)
        assert self.path.read_text() == "{not json"

    def test_failed_write_changes_nothing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        gw = self.make()
        before = self.path.read_bytes()

        def broken(src: object, dst: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("ndis_rules.adapters.proda_jsonfile.os.replace", broken)
        with pytest.raises(GatewayUnavailable, match="cannot write"):
            gw.create_booking(request())
        assert self.path.read_bytes() == before
        assert sorted(p.name for p in self.path.parent.iterdir()) == [
            "proda.json",
            "proda.json.lock",
        ]

    def test_a_missing_file_is_an_empty_store(self) -> None:
        assert JsonFileProdaGateway(self.path).list_bookings(P1) == []
        assert not self.path.exists()


# -- the fake's scripted faults ----------------------------------------------------------------


def fake() -> InMemoryProdaGateway:
    p2 = participant(2)
    return InMemoryProdaGateway([(P1, proda_plan(P1)), (p2, proda_plan(p2))])


def test_timeout_n_times_then_ok() -> None:
    gw = fake()
    gw.timeout("find_plan", times=2)
    for _ in range(2):
        with pytest.raises(GatewayTimeout) as info:
            gw.find_plan(P1)
        assert isinstance(info.value, TimeoutError) and isinstance(info.value, NdisRulesError)
        assert info.value.transient
    assert gw.find_plan(P1).plan_id
    assert gw.calls["find_plan"] == 3


def test_timeout_always() -> None:
    gw = fake()
    gw.timeout("create_booking")
    for _ in range(5):
        with pytest.raises(GatewayTimeout):
            gw.create_booking(request())
    assert gw.bookings == {} and gw.calls["create_booking"] == 5
    gw.clear_faults()
    assert gw.create_booking(request()).booking_id == "SB000001"


def test_refusal_with_a_reason_for_one_participant() -> None:
    gw = fake()
    gw.refuse("find_plan", "plan dates not matching", participant="430000001")
    with pytest.raises(GatewayRefused) as info:
        gw.find_plan(P1)
    assert info.value.reason == "plan dates not matching" and not info.value.transient
    assert gw.find_plan(participant(2)).plan_id


def test_unavailable() -> None:
    gw = fake()
    gw.unavailable("list_bookings", times=1)
    with pytest.raises(GatewayUnavailable) as info:
        gw.list_bookings(P1)
    assert isinstance(info.value, ConnectionError) and info.value.transient
    assert gw.list_bookings(P1) == []


def test_reject_answers_with_a_rejected_booking() -> None:
    gw = fake()
    gw.reject_bookings("participant not found in PRODA", times=1)
    b = gw.create_booking(request())
    assert (b.status, b.proda_code) == ("failed", "REJT")
    assert b.reason == "participant not found in PRODA"
    assert gw.refresh_booking(b.booking_id).status == "failed"  # a refresh does not approve REJT
    assert gw.create_booking(request(source_id="x")).status == "pending"


def test_fault_on_a_booking_id_method_filters_by_its_participant() -> None:
    gw = fake()
    b = gw.create_booking(request())
    gw.timeout("refresh_booking", participant="430000002")
    assert gw.refresh_booking(b.booking_id).status == "success"


def test_auto_approve_off_keeps_pending_and_set_status() -> None:
    gw = InMemoryProdaGateway([(P1, proda_plan(P1))], auto_approve=False)
    b = gw.create_booking(request())
    assert gw.refresh_booking(b.booking_id).status == "pending"
    gw.set_status(b.booking_id, "APAP")
    assert gw.refresh_booking(b.booking_id).proda_code == "APAP"


def test_no_plan_in_proda() -> None:
    gw = InMemoryProdaGateway([(P1, None)])
    with pytest.raises(GatewayRefused, match="no active plan"):
        gw.find_plan(P1)
    with pytest.raises(GatewayRefused, match="no active plan"):
        gw.create_booking(request())


# -- the shipped contract suite (ndis_rules.testing.contracts) over both adapters -----------------
class TestInMemoryGatewayContract(ProdaGatewayContract):
    def make_gateway(self, tmp_path: Path, participants: Sequence[ProdaEntry]) -> ProdaGateway:
        return InMemoryProdaGateway(participants)

    def state(self, gateway: Any) -> object:
        return gateway.to_state()


class TestJsonFileGatewayContract(ProdaGatewayContract):
    def make_gateway(self, tmp_path: Path, participants: Sequence[ProdaEntry]) -> ProdaGateway:
        gw = JsonFileProdaGateway(tmp_path / "store" / "proda.json")
        for who, plan in participants:
            gw.register(who, plan)
        return gw

    def reopen(self, gateway: ProdaGateway, tmp_path: Path) -> ProdaGateway:
        return JsonFileProdaGateway(tmp_path / "store" / "proda.json")

    def state(self, gateway: Any) -> object:
        return gateway.path.read_bytes()
