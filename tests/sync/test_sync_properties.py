"""Property tests of sync (Hypothesis): idempotent, local data survives, remaining is computed,
and a failed fetch or refused apply leaves the SQLite store unchanged."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from ndis_rules.adapters.pace_memory import InMemoryPaceSource
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.budgets import ContractIndex, Ledger, category_available
from ndis_rules.merge import (
    ACCEPTABLE_CODES,
    ApplyRefused,
    ChangeSet,
    UnacceptedConflicts,
    apply,
    new_contract_from_plan,
    preview,
    remaining,
)
from ndis_rules.models import Contract
from ndis_rules.money import Money
from ndis_rules.pace import PacePlan, ParticipantRef
from ndis_rules.services.sync import sync_apply, sync_preview
from ndis_rules.store_errors import SourceError

START = date(2025, 7, 1)
BOUNDS = [START + relativedelta(months=k) for k in range(13)]  # 13 month starts, last = end + 1
END = BOUNDS[-1] - timedelta(days=1)
KEYS = [
    ("01", "plan"),
    ("02", "plan"),
    ("04", "plan"),
    ("07", "agency"),
    ("15", "plan"),
    ("15", "self"),
    ("01", "agency"),
]
WHO = ParticipantRef(ndis_number="430000001", last_name="Citizen", date_of_birth=date(1990, 1, 31))


@st.composite
def budget_spec(draw: st.DrawFn, key: tuple[str, str], pace_id: str) -> dict[str, Any]:
    lo, hi = 0, 12
    spec: dict[str, Any] = {
        "pace_budget_id": pace_id,
        "category": key[0],
        "management": key[1],
        "budget_type": draw(st.sampled_from(["flexible", "stated"])),
        "total": str(Money(draw(st.integers(0, 2_000_000)))),
    }
    if draw(st.booleans()):
        lo = draw(st.integers(0, 6))
        hi = draw(st.integers(lo + 1, 12))
        spec["start"] = BOUNDS[lo].isoformat()
        spec["end_inclusive"] = (BOUNDS[hi] - timedelta(days=1)).isoformat()
    if draw(st.booleans()):
        cuts = sorted(draw(st.sets(st.integers(lo + 1, hi - 1), max_size=3))) if hi - lo > 1 else []
        edges = [lo, *cuts, hi]
        periods = []
        for n, (a, b) in enumerate(itertools.pairwise(edges)):
            periods.append(
                {
                    "funding_period_id": f"{pace_id}-F{n + 1}-{a}",
                    "start": BOUNDS[a].isoformat(),
                    "end_inclusive": (BOUNDS[b] - timedelta(days=1)).isoformat(),
                    "amount": str(Money(draw(st.integers(0, 500_000)))),
                    "released": draw(st.booleans()),
                }
            )
        total = sum(Money.parse(p["amount"]).cents for p in periods)
        off = draw(st.sampled_from([0, 0, 0, 1]))  # sometimes funds not all in periods
        spec["funding"] = {"amount": str(Money(total + off)), "periods": periods}
    return spec


@st.composite
def plans(draw: st.DrawFn) -> tuple[PacePlan, PacePlan]:
    """An old plan and the new plan PACE now returns (same id, budgets mutated)."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4))  # duplicates: ambiguity
    old = [draw(budget_spec(k, f"B{n}")) for n, k in enumerate(keys)]
    new: list[dict[str, Any]] = []
    for n, spec in enumerate(old):
        action = draw(st.sampled_from(["same", "same", "redraw", "drop", "management", "total"]))
        if action == "same":
            new.append(spec)
        elif action == "redraw":
            new.append(draw(budget_spec((spec["category"], spec["management"]), f"B{n}")))
        elif action == "management":
            new.append({**spec, "management": draw(st.sampled_from(["plan", "agency", "self"]))})
        elif action == "total":
            new.append({**spec, "total": str(Money(draw(st.integers(0, 2_000_000))))})
    for n, k in enumerate(draw(st.lists(st.sampled_from(KEYS), max_size=2))):
        new.append(draw(budget_spec(k, f"N{n}")))
    base = {"plan_id": "P1", "ndis_number": "430000001", "start": START.isoformat()}
    end_old = END.isoformat()
    end_new = draw(st.sampled_from([END, END + relativedelta(years=1), date(2026, 3, 31)]))
    return (
        PacePlan.model_validate(
            {**base, "end_inclusive": end_old, "total": "100.00", "budgets": old}
        ),
        PacePlan.model_validate(
            {
                **base,
                "end_inclusive": end_new.isoformat(),
                "total": draw(st.sampled_from(["100.00", "250.50"])),
                "budgets": new,
            }
        ),
    )


@st.composite
def scenario(draw: st.DrawFn) -> tuple[Contract, PacePlan, date]:
    old, new = draw(plans())
    c = new_contract_from_plan(old, "C1", accept=ACCEPTABLE_CODES)
    budgets = []
    for b in c.budgets:
        upd: dict[str, Any] = {"requires_booking": draw(st.booleans())}
        if draw(st.integers(0, 4)) == 0:
            upd["pace_budget_id"] = None  # not linked yet
        budgets.append(b.model_copy(update=upd))
    delivered = []
    for n in range(draw(st.integers(0, 6))):
        b = draw(st.sampled_from(budgets))
        day = START + timedelta(days=draw(st.integers(0, 364)))
        periods = [p.id for p in b.funding.periods] if b.funding else []
        delivered.append(
            {
                "id": f"D{n}",
                "category": b.category,
                "management": b.management,
                "from": day,
                "to": day + timedelta(days=draw(st.integers(0, 3))),
                "amount": str(Money(draw(st.integers(1, 300_000)))),
                "period_id": draw(st.sampled_from([None, *periods])),
                "status": draw(st.sampled_from(["active", "active", "cancelled"])),
                "provider": "PROV-1",
            }
        )
    spcbs = []
    for n, b in enumerate(x for x in budgets if x.funding):
        if draw(st.booleans()):
            assert b.funding is not None
            spcbs.append(
                {
                    "id": f"SP{n}",
                    "provider": "PROV-1",
                    "category": b.category,
                    "amount": "1000.00",
                    "start": START,
                    "end_inclusive": END,
                    "distribution": [
                        {"period_id": p.id, "amount": "10.00"} for p in b.funding.periods
                    ],
                }
            )
    contract = Contract.model_validate(
        {
            **c.model_dump(by_alias=True),
            "budgets": [b.model_dump() for b in budgets],
            "delivered": delivered,
            "provider_budgets": spcbs,
            "support_items": [
                {
                    "id": "S1",
                    "item": "01_011_0107_1_1",
                    "category": "01",
                    "quantity": "3",
                    "rate": "70.23",
                }
            ],
            "notes": draw(st.lists(st.text(max_size=5), max_size=2)),
        }
    )
    today = START + timedelta(days=draw(st.integers(0, 400)))
    return contract, new, today


def _local(c: Contract) -> tuple[Any, ...]:
    return (c.support_items, c.delivered, c.notes, c.id, c.pace, c.active)


@given(scenario())
def test_preview_after_apply_is_empty(case: tuple[Contract, PacePlan, date]) -> None:
    contract, plan, today = case
    cs = preview(contract, plan, today)
    assert ChangeSet.model_validate_json(cs.model_dump_json()) == cs
    new = apply(contract, cs, accept=ACCEPTABLE_CODES)
    again = preview(new, plan, today)
    assert not again.has_changes, again.summary()
    assert {c.code for c in again.conflicts} <= {"AMBIGUOUS_MATCH"}, again.summary()
    assert apply(new, again, accept=ACCEPTABLE_CODES) is new


@given(scenario())
def test_local_data_survives_every_sync(case: tuple[Contract, PacePlan, date]) -> None:
    contract, plan, today = case
    before = contract.model_dump_json()
    cs = preview(contract, plan, today)
    try:
        strict = apply(contract, cs)
    except UnacceptedConflicts:
        strict = None
    new = apply(contract, cs, accept=ACCEPTABLE_CODES)
    assert contract.model_dump_json() == before  # never mutated
    if strict is not None:
        assert strict == new
    # an accepted MANAGEMENT_CHANGE_HAS_DELIVERED moves those delivered services with their
    # budget (their management type only); everything else local is kept as it was
    moved = {
        d
        for c in cs.conflicts
        if c.code == "MANAGEMENT_CHANGE_HAS_DELIVERED"
        for d in c.facts["delivered"].split(", ")
    }
    kept = new.model_copy(
        update={
            "delivered": tuple(
                d.model_copy(update={"management": old.management}) if d.id in moved else d
                for d, old in zip(new.delivered, contract.delivered, strict=True)
            )
        }
    )
    assert _local(kept) == _local(contract)
    realigned = {c.subject for c in cs.conflicts if c.code == "SPCB_REALIGN_NEEDED"}
    for old, kept in zip(contract.provider_budgets, new.provider_budgets, strict=True):
        expected = old.model_copy(update={"distribution": ()}) if old.id in realigned else old
        assert kept == expected
    old_by_id = {b.id: b for b in contract.budgets if b.id}
    for b in new.budgets:
        if b.id in old_by_id:
            assert b.requires_booking == old_by_id[b.id].requires_booking


@given(scenario())
def test_remaining_is_total_minus_delivered(case: tuple[Contract, PacePlan, date]) -> None:
    contract, plan, today = case
    new = apply(contract, preview(contract, plan, today), accept=ACCEPTABLE_CODES)
    index = ContractIndex.build(new)
    ledger = Ledger.from_contract(index)
    for b in new.budgets:
        assert remaining(new, b) == category_available(index, ledger, b)
        first = new.budget(b.category, b.management)
        delivered = (
            sum(
                d.amount.cents
                for d in new.delivered
                if d.status == "active"
                and d.category == b.category
                and d.management == b.management
            )
            if first is not None and first.ref == b.ref
            else 0
        )
        assert remaining(new, b).cents == b.total.cents - delivered


@given(scenario(), st.sampled_from(["timeout", "refused", "not_authorised", "payload"]))
def test_failed_fetch_or_refused_apply_leaves_sqlite_unchanged(
    case: tuple[Contract, PacePlan, date], fault: Any
) -> None:
    contract, plan, today = case
    with SqliteContractRepository(":memory:") as repo:
        repo.save(contract, expected_version=None)
        rows = repo.budget_totals_cents("C1")
        source = InMemoryPaceSource()
        source.add_participant(WHO, [plan])
        source.fail_next(fault)
        try:
            sync_preview(repo, source, WHO, "C1", today=today, plan_id="P1")
            raise AssertionError("the scripted fault did not fire")
        except SourceError:
            pass
        assert repo.get("C1") == contract and repo.budget_totals_cents("C1") == rows
        cs = sync_preview(repo, source, WHO, "C1", today=today, plan_id="P1")
        if cs.conflicts:
            try:
                sync_apply(repo, cs)
                raise AssertionError("apply with unaccepted conflicts went through")
            except UnacceptedConflicts:
                pass
            assert repo.get("C1") == contract and repo.budget_totals_cents("C1") == rows
        if cs.has_changes:
            # someone else saves first: the change set is stale and refused
            bumped = repo.save(
                contract.model_copy(update={"notes": ("bumped",)}), expected_version=0
            )
            rows = repo.budget_totals_cents("C1")
            try:
                sync_apply(repo, cs, accept=ACCEPTABLE_CODES)
                raise AssertionError("a stale change set was applied")
            except ApplyRefused:
                pass
            assert repo.get("C1") == bumped and repo.budget_totals_cents("C1") == rows
