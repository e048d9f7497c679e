"""The batch "sync active plans": counters, progress, refusals, retries, idempotent re-runs, and
the gateway-backed single-booking operations (a failure changes nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from booking_support import PM_FEES, TODAY, budget, contract, participant, proda_plan, request

from ndis_rules.adapters.proda_memory import InMemoryProdaGateway, Method
from ndis_rules.bookings import BookingRequest, BookingRuleError, ServiceBooking
from ndis_rules.errors import InputError
from ndis_rules.models import Contract
from ndis_rules.proda import GatewayRefused, GatewayTimeout, Participant
from ndis_rules.services.bookings import (
    NOT_SYNCHRONISED,
    SyncProgress,
    SyncReport,
    change_end_date,
    end_early,
    link_existing,
    remove_booking,
    select_active_contract,
    sync_active_plans,
)

P1, P2, P3 = participant(1), participant(2), participant(3)


def contract_for(p: Participant, **fields: object) -> Contract:
    base: dict[str, object] = {
        "id": f"C-{p.ndis_number}",
        "participant": p.ndis_number,
        "budgets": [budget("01"), budget("15", "plan", total="2000.00")],
        "support_items": PM_FEES,
    }
    base.update(fields)
    return contract(**base)


def setup(*people: Participant) -> tuple[InMemoryProdaGateway, dict[str, Contract]]:
    gw = InMemoryProdaGateway([(p, proda_plan(p)) for p in people])
    return gw, {p.ndis_number: contract_for(p) for p in people}


def run(
    people: Sequence[Participant], contracts: object, gw: InMemoryProdaGateway, **kw: object
) -> tuple[SyncReport, list[SyncProgress]]:
    events: list[SyncProgress] = []
    report = sync_active_plans(
        people,
        contracts,
        gw,
        today=TODAY,  # type: ignore[arg-type]
        progress=events.append,
        **kw,
    )  # type: ignore[arg-type]
    return report, events


def assert_invariants(report: SyncReport, events: list[SyncProgress]) -> None:
    for e in events:
        assert e.processed == e.success + e.failed + e.uncompleted
    assert [e.done for e in events] == list(range(1, report.total + 1))
    assert report.processed == report.success + report.failed + report.uncompleted
    assert report.processed + len(report.no_active_contract) == report.total
    if events:
        assert events[-1].percent == 100


def test_success_creates_one_booking_per_request() -> None:
    gw, contracts = setup(P1)
    report, events = run([P1], contracts, gw, plan_manager="PM1")
    assert (report.total, report.processed, report.success) == (1, 1, 1)
    [result] = report.results
    assert result.outcome == "success" and result.message == "Synchronised with PRODA"
    assert result.contract_id == "C-430000001" and len(result.created) == 4
    assert {b.status for b in result.bookings} == {"pending"}
    # PRODA holds its own ids only: the book learns them per source
    assert list(result.booking_ids) == [
        "support:PM-SETUP",
        "support:PM-MONTHLY",
        "budget:01:agency",
        "budget:15:plan",
    ]
    assert [(b.request.category, b.request.item) for b in gw.bookings.values()] == [
        ("14", "14_033_0127_8_3"),
        ("14", "14_034_0127_8_3"),
        ("01", None),
        ("15", None),
    ]
    assert events[0].participant == P1 and events[0].outcome == "success"
    assert_invariants(report, events)


def test_rerun_refreshes_and_never_duplicates() -> None:
    gw, contracts = setup(P1, P2)
    first, _ = run([P1, P2], contracts, gw)
    second, events = run([P1, P2], contracts, gw)
    assert len(gw.bookings) == 8
    for a, b in zip(first.results, second.results, strict=True):
        assert b.created == () and sorted(b.refreshed) == sorted(a.created)
        assert {x.status for x in b.bookings} == {"success"}  # refresh approved them
    assert gw.calls["create_booking"] == 8
    assert_invariants(second, events)


def test_a_new_budget_on_rerun_gets_only_its_own_booking() -> None:
    gw, contracts = setup(P1)
    run([P1], contracts, gw)
    grown = contracts["430000001"].model_copy(
        update={
            "budgets": (
                *contracts["430000001"].budgets,
                Contract.model_validate(
                    {
                        "id": "x",
                        "pace": False,
                        "start": "2025-07-01",
                        "end_inclusive": "2026-06-30",
                        "budgets": [budget("07")],
                    }
                ).budgets[0],
            )
        }
    )
    report, _ = run([P1], {"430000001": grown}, gw)
    assert len(report.results[0].created) == 1 and len(gw.bookings) == 5


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (participant(1, name="Smith"), "name does not match"),
        (participant(1, dob=date(1980, 5, 5)), "date of birth does not match"),
    ],
)
def test_refused_participant_details_fail_with_the_reason(who: Participant, reason: str) -> None:
    gw, contracts = setup(P1)
    report, events = run([who], contracts, gw)
    assert (report.processed, report.failed) == (1, 1)
    [result] = report.results
    assert result.outcome == "failed" and result.reasons == (reason,)
    assert result.message == f"{NOT_SYNCHRONISED}: {reason}"
    assert gw.bookings == {}
    assert_invariants(report, events)


def test_unknown_ndis_number_fails() -> None:
    gw = InMemoryProdaGateway()
    report, _ = run([P1], {"430000001": contract_for(P1)}, gw)
    assert report.failed == 1 and "not found" in report.results[0].message


def test_plan_dates_not_matching_fail() -> None:
    gw, contracts = setup(P1)
    gw.register(P1, proda_plan(P1, start=date(2025, 8, 1)))
    report, _ = run([P1], contracts, gw)
    assert report.failed == 1
    assert "plan dates not matching" in report.results[0].message
    assert report.results[0].message.startswith(NOT_SYNCHRONISED)
    assert gw.calls["create_booking"] == 0


def test_contract_naming_no_participant_is_booked_for_the_one_synced() -> None:
    gw, _ = setup(P1)
    anonymous = contract_for(P1).model_copy(update={"participant": None})
    report, _ = run([P1], lambda p: anonymous, gw)
    assert report.success == 1
    assert {b.request.participant for b in gw.bookings.values()} == {"430000001"}


def test_contract_of_another_participant_is_not_theirs() -> None:
    gw, _ = setup(P1)
    report, _ = run([P1], {"430000001": [contract_for(P2)]}, gw)
    assert report.no_active_contract == (P1,)  # P2's contract is not P1's


def test_rejected_booking_fails_the_participant() -> None:
    gw, contracts = setup(P1)
    gw.reject_bookings("support item not in plan", times=1)
    report, _ = run([P1], contracts, gw)
    [result] = report.results
    assert result.outcome == "failed" and report.failed == 1
    assert "support:PM-SETUP: rejected (support item not in plan)" in result.message
    assert len(result.bookings) == 4  # the other bookings were still made


def test_timeout_retried_then_success() -> None:
    gw, contracts = setup(P1)
    gw.timeout("find_plan", times=2)
    report, _ = run([P1], contracts, gw, retries=2)
    assert report.success == 1 and gw.calls["find_plan"] == 3


def test_timeout_after_retries_is_uncompleted_and_retryable() -> None:
    gw, contracts = setup(P1)
    gw.timeout("find_plan")
    report, events = run([P1], contracts, gw, retries=3)
    assert (report.processed, report.uncompleted) == (1, 1)
    assert gw.calls["find_plan"] == 4
    assert report.retryable == (P1,)
    assert "GatewayTimeout" in report.results[0].message
    assert_invariants(report, events)
    gw.clear_faults()
    again, _ = run(report.retryable, contracts, gw)
    assert again.success == 1


def test_retries_zero_means_one_attempt() -> None:
    gw, contracts = setup(P1)
    gw.timeout("list_bookings", times=1)
    report, _ = run([P1], contracts, gw, retries=0)
    assert report.uncompleted == 1 and gw.calls["list_bookings"] == 1
    with pytest.raises(ValueError, match="retries"):
        run([P1], contracts, gw, retries=-1)


def test_booking_timeout_is_uncompleted_but_others_are_made() -> None:
    gw, contracts = setup(P1)
    gw.timeout("create_booking", times=3)  # the first request: 1 + 2 retries
    report, _ = run([P1], contracts, gw, retries=2)
    [result] = report.results
    assert result.outcome == "uncompleted" and len(result.created) == 3
    assert result.reasons == (
        "support:PM-SETUP: GatewayTimeout: create_booking timed out (scripted)",
    )
    report2, _ = run([P1], contracts, gw)
    assert report2.success == 1 and len(gw.bookings) == 4


class CreatesThenTimesOut(InMemoryProdaGateway):
    """PRODA made the booking but the answer was lost (the worst kind of timeout)."""

    lost = 1

    def create_booking(
        self, request: BookingRequest, *, idempotency_key: str | None = None
    ) -> ServiceBooking:
        booking = super().create_booking(request, idempotency_key=idempotency_key)
        if self.lost:
            self.lost -= 1
            raise GatewayTimeout("answer lost")
        return booking


def test_a_retry_after_a_lost_answer_does_not_duplicate() -> None:
    gw = CreatesThenTimesOut([(P1, proda_plan(P1))])
    report, _ = run([P1], {"430000001": contract_for(P1)}, gw)
    assert report.success == 1 and len(gw.bookings) == 4
    assert len({b.key for b in gw.bookings.values()}) == 4
    assert len(report.results[0].created) == 3 and len(report.results[0].refreshed) == 1


def test_a_failure_half_way_through_never_stops_the_batch() -> None:
    gw, contracts = setup(P1, P2, P3)
    gw.timeout("find_plan", participant=P2.ndis_number)
    gw.refuse("list_bookings", "registration not linked", participant=P3.ndis_number)
    report, events = run([P1, P2, P3], contracts, gw, retries=1)
    assert [r.outcome for r in report.results] == ["success", "uncompleted", "failed"]
    assert (report.success, report.uncompleted, report.failed) == (1, 1, 1)
    assert [(e.processed, e.success, e.failed, e.uncompleted) for e in events] == [
        (1, 1, 0, 0),
        (2, 1, 0, 1),
        (3, 1, 1, 1),
    ]
    assert [e.participant for e in events] == [P1, P2, P3]
    assert_invariants(report, events)


def test_inactive_booking_is_refreshed_not_recreated() -> None:
    gw, contracts = setup(P1)
    first, _ = run([P1], contracts, gw)
    gw.make_inactive(first.results[0].created[0])
    report, _ = run([P1], contracts, gw)
    [result] = report.results
    # completed while its budget is live: reported as what it is, never as success
    assert result.outcome == "failed" and result.created == ()
    assert "completed (CMPD)" in result.message
    assert [b.status for b in result.bookings].count("inactive") == 1
    assert len(gw.bookings) == 4


def test_participants_without_an_active_contract_are_counted_and_named() -> None:
    p4, p5, p6 = participant(4), participant(5), participant(6)
    gw, contracts = setup(P1)
    contracts.update(
        {
            p4.ndis_number: contract_for(p4, pace=True),
            p5.ndis_number: contract_for(p5, active=False),
            p6.ndis_number: contract_for(p6, end_inclusive="2025-08-31"),
        }
    )
    report, events = run([P1, P2, p4, p5, p6], contracts, gw)
    assert (report.total, report.processed, report.success) == (5, 1, 1)
    assert report.no_active_contract == (P2, p4, p5, p6)
    reasons = {r.participant.ndis_number: r.message for r in report.results}
    assert reasons[P2.ndis_number] == "No active contract: no contract"
    assert "only PACE" in reasons[p4.ndis_number]
    assert "no active legacy contract on 2025-09-01" in reasons[p5.ndis_number]
    assert [e.no_active_contract for e in events] == [0, 1, 2, 3, 4]
    assert_invariants(report, events)


def test_select_active_contract_prefers_the_one_covering_today() -> None:
    old = contract_for(P1, id="OLD", start="2024-07-01", end_inclusive="2025-06-30")
    now = contract_for(P1, id="NOW")
    nxt = contract_for(P1, id="NEXT", start="2026-07-01", end_inclusive="2027-06-30")
    assert select_active_contract(P1, [old, nxt, now], TODAY)[0] is now
    assert select_active_contract(P1, [old, nxt], TODAY)[0] is nxt


def test_lookup_callable_and_duplicates() -> None:
    gw, contracts = setup(P1)
    seen: list[str] = []

    def lookup(p: Participant) -> Contract | None:
        seen.append(p.ndis_number)
        return contracts.get(p.ndis_number)

    report, _ = run([P1, P1, P2], lookup, gw)
    assert report.total == 2 and seen == ["430000001", "430000002"]


def test_lookup_error_is_uncompleted() -> None:
    gw, _ = setup(P1)

    def lookup(p: Participant) -> Contract:
        raise InputError("contract store unreadable")

    report, events = run([P1, P2], lookup, gw)
    assert report.uncompleted == 2 and report.results[0].contract_id is None
    assert_invariants(report, events)


def test_unexpected_exceptions_are_bugs_and_propagate() -> None:
    gw, _ = setup(P1)

    def boom(p: Participant) -> Contract:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run([P1], boom, gw)


def test_booking_not_found_is_not_retried() -> None:
    gw, contracts = setup(P1)
    first, _ = run([P1], contracts, gw)
    del gw.bookings[first.results[0].created[0]]
    gw.calls.clear()
    # the listing still shows it (as a stale cache would), so the refresh finds nothing
    listed = list(first.results[0].bookings)
    gw.list_bookings = lambda participant: listed  # type: ignore[method-assign]
    report, _ = run([P1], contracts, gw, retries=5)
    assert report.uncompleted == 1 and "BookingNotFound" in report.results[0].message
    assert gw.calls["refresh_booking"] == 4


def test_linked_bookings_are_refreshed_for_their_budget() -> None:
    gw, _ = setup(P1)
    external = gw.create_booking(
        request(source_kind="external", source_id="PRODA-1", contract_id="elsewhere")
    )
    c = contract_for(P1, support_items=[], budgets=[budget("01", id="B1")])
    linked = link_existing(gw, c, "B1", external.booking_id)
    report, _ = run([P1], {"430000001": linked.contract}, gw, linked=[linked.booking])
    assert report.results[0].refreshed == (external.booking_id,)
    assert len(gw.bookings) == 1


def test_empty_selection() -> None:
    gw = InMemoryProdaGateway()
    report, events = run([], {}, gw)
    assert (report.total, report.processed, events) == (0, 0, [])


# -- single-booking operations through the gateway ----------------------------------------------


def made() -> tuple[InMemoryProdaGateway, ServiceBooking]:
    gw, _ = setup(P1)
    return gw, gw.refresh_booking(gw.create_booking(request()).booking_id)


def test_change_end_date_through_the_gateway() -> None:
    gw, b = made()
    moved = change_end_date(gw, b, date(2026, 6, 30), plan_end=date(2026, 6, 30))
    assert moved.end_inclusive == gw.bookings[b.booking_id].end_inclusive == date(2026, 6, 30)
    assert change_end_date(gw, b, b.end_inclusive) is b


def test_rule_refusal_calls_nothing() -> None:
    gw, b = made()
    gw.calls.clear()
    with pytest.raises(BookingRuleError):
        change_end_date(gw, b, date(2025, 12, 1))
    with pytest.raises(BookingRuleError):
        end_early(gw, b.model_copy(update={"ended_early": True}), TODAY, today=TODAY)
    with pytest.raises(BookingRuleError):
        remove_booking(gw, b.model_copy(update={"has_payments": True}))
    assert sum(gw.calls.values()) == 0


@pytest.mark.parametrize("fault", ["timeout", "refuse"])
def test_gateway_failure_changes_nothing(fault: str) -> None:
    gw, b = made()
    c = contract_for(P1, budgets=[budget("01", "plan", id="B1")])
    methods: list[Method] = ["update_end_date", "end_booking", "refresh_booking"]
    for method in methods:
        if fault == "timeout":
            gw.timeout(method)
        else:
            gw.refuse(method, "refused")
    state = gw.to_state()
    for call in (
        lambda: change_end_date(gw, b, date(2026, 6, 30)),
        lambda: end_early(gw, b, TODAY, today=TODAY),
        lambda: remove_booking(gw, b),
        lambda: link_existing(gw, c, "B1", b.booking_id),
    ):
        with pytest.raises((GatewayTimeout, GatewayRefused)):
            call()
        assert gw.to_state() == state
    assert b == gw.bookings[b.booking_id] and c.budgets[0].management == "plan"


def test_end_early_and_remove_through_the_gateway() -> None:
    gw, b = made()
    ended = end_early(gw, b, date(2025, 12, 31), today=TODAY)
    assert ended.ended_early and gw.bookings[b.booking_id].end_inclusive == date(2025, 12, 31)
    with pytest.raises(BookingRuleError, match="ALREADY_ENDED_EARLY"):
        end_early(gw, ended, date(2025, 10, 31), today=TODAY)
    gw2, b2 = made()
    assert remove_booking(gw2, b2).proda_code == "DELE"


def test_link_existing_keeps_the_link_through_later_operations() -> None:
    gw, b = made()
    c = contract_for(P1, budgets=[budget("01", "plan", id="B1")])
    result = link_existing(gw, c, "B1", b.booking_id)
    assert result.contract.budgets[0].management == "agency"
    moved = change_end_date(gw, result.booking, date(2026, 6, 30))
    assert moved.linked_budget == "B1" and moved.request.source == "budget:B1"
