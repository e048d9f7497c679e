"""Property tests: the counters invariant at every progress event, re-runs never duplicate a
booking, and no failed gateway call changes stored state."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from booking_support import PM_FEES, TODAY, budget, contract, participant, proda_plan, request
from hypothesis import given, settings
from hypothesis import strategies as st

from ndis_rules.adapters.proda_jsonfile import JsonFileProdaGateway
from ndis_rules.adapters.proda_memory import InMemoryProdaGateway, Method
from ndis_rules.bookings import BookingRequest
from ndis_rules.models import Contract
from ndis_rules.proda import GatewayError, Participant
from ndis_rules.services.bookings import SyncProgress, sync_active_plans

METHODS: list[Method] = [
    "find_plan",
    "create_booking",
    "refresh_booking",
    "update_end_date",
    "end_booking",
    "list_bookings",
]
SITUATIONS = [
    "ok",
    "timeout_some",
    "timeout_always",
    "unavailable_some",
    "refuse_plan",
    "refuse_create",
    "reject",
    "wrong_name",
    "no_contract",
    "pace",
    "dates_differ",
    "unknown",
]

FAST = settings(max_examples=60, deadline=None)


def contract_for(p: Participant) -> Contract:
    return contract(
        id=f"C-{p.ndis_number}",
        participant=p.ndis_number,
        budgets=[budget("01"), budget("15", "plan")],
        support_items=PM_FEES,
    )


@st.composite
def batches(
    draw: st.DrawFn,
) -> tuple[list[Participant], dict[str, Contract], InMemoryProdaGateway, int]:
    n = draw(st.integers(0, 6))
    people = [participant(i + 1) for i in range(n)]
    gw = InMemoryProdaGateway()
    contracts: dict[str, Contract] = {}
    for p in people:
        situation = draw(st.sampled_from(SITUATIONS))
        number = p.ndis_number
        if situation != "unknown":
            start = date(2025, 8, 1) if situation == "dates_differ" else date(2025, 7, 1)
            gw.register(p, proda_plan(p, start=start))
        if situation == "wrong_name":
            gw.register(participant(int(number[-5:]), name="Other"), proda_plan(p))
        if situation != "no_contract":
            c = contract_for(p)
            contracts[number] = c.model_copy(update={"pace": True}) if situation == "pace" else c
        method = draw(st.sampled_from(METHODS))
        times = draw(st.integers(1, 4))
        match situation:
            case "timeout_some":
                gw.timeout(method, times=times, participant=number)
            case "timeout_always":
                gw.timeout(method, participant=number)
            case "unavailable_some":
                gw.unavailable(method, times=times, participant=number)
            case "refuse_plan":
                gw.refuse("find_plan", "plan dates not matching", participant=number)
            case "refuse_create":
                gw.refuse("create_booking", "item not in plan", times=times, participant=number)
            case "reject":
                gw.reject_bookings("rejected", times=times, participant=number)
    retries = draw(st.integers(0, 3))
    selection = draw(st.lists(st.sampled_from(people), max_size=8)) if people else []
    return selection, contracts, gw, retries


@FAST
@given(batches())
def test_counters_invariant_at_every_progress_event(
    batch: tuple[list[Participant], dict[str, Contract], InMemoryProdaGateway, int],
) -> None:
    people, contracts, gw, retries = batch
    events: list[SyncProgress] = []
    report = sync_active_plans(
        people, contracts, gw, today=TODAY, retries=retries, progress=events.append
    )
    distinct = len({p.ndis_number for p in people})
    assert report.total == distinct == len(events) == len(report.results)
    for i, e in enumerate(events, start=1):
        assert e.processed == e.success + e.failed + e.uncompleted
        assert e.done == i and e.total == distinct
        assert 0 <= e.percent <= 100
    assert report.processed == report.success + report.failed + report.uncompleted
    assert report.processed + len(report.no_active_contract) == report.total
    # no call is tried more than 1 + retries times for one request in a row: bounded work
    assert sum(gw.calls.values()) <= distinct * (1 + retries) * 20


@FAST
@given(batches(), st.booleans())
def test_rerun_never_duplicates_a_booking(
    batch: tuple[list[Participant], dict[str, Contract], InMemoryProdaGateway, int],
    clear: bool,
) -> None:
    people, contracts, gw, retries = batch
    sync_active_plans(people, contracts, gw, today=TODAY, retries=retries)
    if clear:
        gw.clear_faults()
    sync_active_plans(people, contracts, gw, today=TODAY, retries=retries)
    keys = [b.key for b in gw.bookings.values()]
    assert len(keys) == len(set(keys))
    after_two = dict(gw.bookings)
    gw.clear_faults()
    third = sync_active_plans(people, contracts, gw, today=TODAY)
    assert set(after_two) <= set(gw.bookings)
    keys = [b.key for b in gw.bookings.values()]
    assert len(keys) == len(set(keys))
    # once nothing fails, a re-run creates nothing new
    before = set(gw.bookings)
    fourth = sync_active_plans(people, contracts, gw, today=TODAY)
    assert set(gw.bookings) == before
    assert all(r.created == () for r in fourth.results)
    assert fourth.success >= third.success


P1 = participant(1)

operations = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 3), st.integers(-40, 400)),
    st.tuples(st.just("refresh"), st.integers(0, 6), st.just(0)),
    st.tuples(st.just("update"), st.integers(0, 6), st.integers(-400, 400)),
    st.tuples(st.just("end"), st.integers(0, 6), st.just(0)),
    st.tuples(st.just("list"), st.just(0), st.just(0)),
    st.tuples(st.just("pay"), st.integers(0, 6), st.just(0)),
    st.tuples(st.just("inactive"), st.integers(0, 6), st.just(0)),
)
faults = st.lists(
    st.tuples(
        st.sampled_from(METHODS),
        st.sampled_from(["timeout", "unavailable", "refuse"]),
        st.one_of(st.none(), st.integers(1, 3)),
    ),
    max_size=3,
)


def _apply(gw: Any, op: tuple[str, int, int], ids: list[str]) -> None:
    kind, n, days = op
    booking_id = ids[n % len(ids)] if ids else f"SB{n:06d}"
    match kind:
        case "create":
            end = date(2025, 7, 1) + timedelta(days=max(days, 0))
            req: BookingRequest = (
                request(source_id=f"src{n}", end_inclusive=end)
                if days >= 0
                else request(source_id=f"src{n}", participant="439999999")
            )
            ids.append(gw.create_booking(req).booking_id)
        case "refresh":
            gw.refresh_booking(booking_id)
        case "update":
            gw.update_end_date(booking_id, date(2026, 1, 1) + timedelta(days=days))
        case "end":
            gw.end_booking(booking_id)
        case "list":
            gw.list_bookings(P1)
        case "pay":
            if ids:
                gw.record_payment(booking_id)
        case "inactive":
            if ids:
                gw.make_inactive(booking_id)


@FAST
@given(st.lists(operations, max_size=25), faults)
def test_no_failed_call_changes_the_fake(
    ops: list[tuple[str, int, int]],
    scripted: list[tuple[Method, str, int | None]],
) -> None:
    gw = InMemoryProdaGateway([(P1, proda_plan(P1))])
    for method, kind, times in scripted:
        if kind == "refuse":
            gw.refuse(method, "no", times=times)
        elif kind == "timeout":
            gw.timeout(method, times=times)
        else:
            gw.unavailable(method, times=times)
    ids: list[str] = []
    for op in ops:
        before = gw.to_state()
        try:
            _apply(gw, op, ids)
        except GatewayError:
            assert gw.to_state() == before


@settings(max_examples=25, deadline=None)
@given(st.lists(operations, max_size=12))
def test_no_failed_call_changes_the_json_file(ops: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "proda.json"
        gw = JsonFileProdaGateway(path)
        gw.register(P1, proda_plan(P1))
        ids: list[str] = []
        for op in ops:
            before = path.read_bytes()
            try:
                _apply(gw, op, ids)
            except GatewayError:
                assert path.read_bytes() == before
            # no temporary file left behind (the lock file beside the store stays)
            assert sorted(p.name for p in Path(folder).iterdir()) == [
                "proda.json",
                "proda.json.lock",
            ]
