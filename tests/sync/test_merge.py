"""Unit tests of the pure merge core: select, preview, apply, new contract, remaining."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ndis_rules.errors import InputError
from ndis_rules.merge import (
    ADJUSTMENT_DESCRIPTION,
    ChangeSet,
    NewPlanNotMerged,
    PlanSelectionError,
    StaleChangeSet,
    SyncMismatchError,
    UnacceptedConflicts,
    allocation_total,
    apply,
    new_contract_from_plan,
    preview,
    remaining,
    select_plan,
)
from ndis_rules.models import Contract
from ndis_rules.money import Money
from ndis_rules.pace import PacePlan

TODAY = date(2025, 9, 1)


def contract(**changes: Any) -> Contract:
    data: dict[str, Any] = {
        "id": "C1",
        "participant": "430000001",
        "plan_id": "P1",
        "pace": True,
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "1000.00",
        "budgets": [{"category": "01", "management": "plan", "total": "1000.00"}],
    }
    data.update(changes)
    return Contract.model_validate(data)


def plan(**changes: Any) -> PacePlan:
    data: dict[str, Any] = {
        "plan_id": "P1",
        "ndis_number": "430000001",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "1000.00",
        "budgets": [{"category": "01", "management": "plan", "total": "1000.00"}],
    }
    data.update(changes)
    return PacePlan.model_validate(data)


# -- select_plan --------------------------------------------------------------------------------
def test_select_plan_by_id_and_by_date() -> None:
    a = plan(plan_id="A", start="2024-07-01", end_inclusive="2025-06-30")
    b = plan(plan_id="B")
    assert select_plan([a, b], plan_id="A") is a
    assert select_plan([a, b], on=date(2025, 7, 1)) is b
    assert select_plan([b]) is b


def test_select_plan_none_or_several_lists_candidates() -> None:
    a = plan(plan_id="A")
    b = plan(plan_id="B")
    with pytest.raises(PlanSelectionError) as info:
        select_plan([a, b], on=date(2025, 8, 1))
    assert [c.split()[0] for c in info.value.candidates] == ["A", "B"]
    assert isinstance(info.value, LookupError)
    with pytest.raises(PlanSelectionError, match="no plan matches plan id Z"):
        select_plan([a, b], plan_id="Z")
    with pytest.raises(PlanSelectionError, match="candidates: none"):
        select_plan([], on=TODAY)


# -- preview ------------------------------------------------------------------------------------
def test_preview_of_synced_contract_is_empty_and_apply_returns_it() -> None:
    c = contract()
    cs = preview(c, plan(), TODAY)
    assert cs.is_empty and cs.unchanged == ["01:plan"]
    assert apply(c, cs) is c
    assert "in sync" in cs.summary()


def test_change_set_round_trips_through_json() -> None:
    c = contract(
        delivered=[
            {
                "id": "D1",
                "category": "01",
                "management": "plan",
                "from": "2025-07-02",
                "to": "2025-07-02",
                "amount": "900.00",
            }
        ]
    )
    cs = preview(
        c,
        plan(
            total="500.00",
            budgets=[
                {
                    "category": "01",
                    "management": "plan",
                    "total": "500.00",
                    "funding": {
                        "periods": [
                            {
                                "funding_period_id": "F1",
                                "start": "2025-07-01",
                                "end_inclusive": "2026-06-30",
                                "amount": "500.00",
                            }
                        ]
                    },
                },
                {"category": "07", "management": "agency", "total": "10.00"},
            ],
        ),
        TODAY,
    )
    assert cs.conflicts and cs.added == ["07:agency"]
    text = cs.model_dump_json()
    assert ChangeSet.model_validate_json(text) == cs
    assert '"500.00"' in text and "500.0," not in text


def test_plan_of_another_participant_is_refused() -> None:
    with pytest.raises(SyncMismatchError):
        preview(contract(), plan(ndis_number="430000002"), TODAY)


def test_new_plan_is_never_merged() -> None:
    c = contract()
    cs = preview(c, plan(plan_id="P2"), TODAY)
    assert cs.new_plan and [x.code for x in cs.conflicts] == ["NEW_PLAN"]
    assert not cs.budgets and not cs.plan_changes
    with pytest.raises(NewPlanNotMerged):
        apply(c, cs, accept=["NEW_PLAN"])


def test_linked_budget_matches_by_pace_id_across_management_change() -> None:
    c = contract(
        budgets=[
            {"category": "07", "management": "agency", "total": "10.00", "pace_budget_id": "B7"}
        ]
    )
    cs = preview(
        c,
        plan(
            budgets=[
                {"pace_budget_id": "B7", "category": "07", "management": "plan", "total": "10.00"}
            ]
        ),
        TODAY,
    )
    assert cs.changed == ["07:agency"] and not cs.added and not cs.conflicts
    new = apply(c, cs)
    assert [b.key for b in new.budgets] == ["07:plan"]


def test_linked_budget_whose_pace_id_left_the_plan_relinks_to_the_new_id() -> None:
    # issue 14: a category PACE dropped and re-added under a new budget id is the same budget
    # (re-linked), never a second 01:plan budget
    c = contract(
        budgets=[
            {"category": "01", "management": "plan", "total": "10.00", "pace_budget_id": "OLD"}
        ]
    )
    cs = preview(
        c,
        plan(
            budgets=[
                {"pace_budget_id": "NEW", "category": "01", "management": "plan", "total": "20.00"}
            ]
        ),
        TODAY,
    )
    assert cs.added == [] and cs.ended == [] and cs.changed == ["01:plan"]
    [change] = cs.budgets
    assert {(f.field, f.old, f.new) for f in change.fields} >= {("pace_budget_id", "OLD", "NEW")}
    new = apply(c, cs)
    assert [(b.ref, b.pace_budget_id, str(b.total)) for b in new.budgets] == [
        ("01:plan", "NEW", "20.00")
    ]


def test_two_local_budgets_for_one_pace_budget_is_ambiguous() -> None:
    c = contract(
        budgets=[
            {"id": "a", "category": "01", "management": "plan", "total": "10.00"},
            {"id": "b", "category": "01", "management": "plan", "total": "20.00"},
        ]
    )
    cs = preview(c, plan(), TODAY)
    assert [x.code for x in cs.conflicts] == ["AMBIGUOUS_MATCH"]
    assert cs.conflicts[0].facts["local_budgets"] == "a, b"
    assert not cs.budgets
    with pytest.raises(UnacceptedConflicts):
        apply(c, cs)
    new = apply(c, cs, accept=["AMBIGUOUS_MATCH:01:plan"])
    assert new.budgets == c.budgets and str(new.total) == "1000.00"


def test_management_change_onto_a_held_key_is_ambiguous() -> None:
    c = contract(
        budgets=[
            {"category": "07", "management": "agency", "total": "10.00", "pace_budget_id": "B7"},
            {"category": "07", "management": "plan", "total": "5.00"},
        ]
    )
    p = plan(
        budgets=[
            {"pace_budget_id": "B7", "category": "07", "management": "plan", "total": "10.00"},
        ]
    )
    cs = preview(c, p, TODAY)
    assert "AMBIGUOUS_MATCH" in [x.code for x in cs.conflicts]


def test_budget_not_started_and_gone_from_pace_is_removed() -> None:
    c = contract(
        budgets=[
            {"category": "01", "management": "plan", "total": "1000.00"},
            {
                "category": "09",
                "management": "plan",
                "total": "50.00",
                "start": "2026-01-01",
                "end_inclusive": "2026-06-30",
            },
        ]
    )
    cs = preview(c, plan(), TODAY)
    assert cs.ended == ["09:plan"]
    assert [b.key for b in apply(c, cs).budgets] == ["01:plan"]


def test_budget_gone_from_pace_with_later_delivered_is_a_conflict() -> None:
    c = contract(
        budgets=[
            {"category": "01", "management": "plan", "total": "1000.00"},
            {"category": "09", "management": "plan", "total": "50.00"},
        ],
        delivered=[
            {
                "id": "D9",
                "category": "09",
                "management": "plan",
                "from": "2025-09-10",
                "to": "2025-09-10",
                "amount": "5.00",
            }
        ],
    )
    cs = preview(c, plan(), TODAY)
    assert [(x.code, x.subject) for x in cs.conflicts] == [("DELIVERED_OUTSIDE_DATES", "09:plan")]


def test_budget_already_ended_and_gone_is_unchanged() -> None:
    c = contract(
        budgets=[
            {"category": "01", "management": "plan", "total": "1000.00"},
            {
                "category": "09",
                "management": "plan",
                "total": "50.00",
                "start": "2025-07-01",
                "end_inclusive": "2025-08-31",
            },
        ]
    )
    assert preview(c, plan(), TODAY).unchanged == ["01:plan", "09:plan"]


def test_plan_dates_leaving_delivered_outside() -> None:
    c = contract(
        delivered=[
            {
                "id": "D1",
                "category": "01",
                "management": "plan",
                "from": "2026-06-01",
                "to": "2026-06-01",
                "amount": "5.00",
            }
        ]
    )
    cs = preview(c, plan(end_inclusive="2026-03-31"), TODAY)
    assert [(x.code, x.subject) for x in cs.conflicts] == [("DELIVERED_OUTSIDE_DATES", "plan")]
    assert cs.conflicts[0].facts["delivered"] == "D1"


def test_removed_period_with_delivered_is_period_has_delivered() -> None:
    fp = {"start": "2025-07-01", "end_inclusive": "2025-12-31", "amount": "500.00"}
    c = contract(
        budgets=[
            {
                "category": "01",
                "management": "plan",
                "total": "1000.00",
                "funding": {
                    "periods": [
                        {"id": "F1", **fp},
                        {
                            "id": "F2",
                            "start": "2026-01-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "500.00",
                        },
                    ]
                },
            }
        ],
        delivered=[
            {
                "id": "D1",
                "category": "01",
                "management": "plan",
                "from": "2025-08-01",
                "to": "2025-08-01",
                "amount": "5.00",
            }
        ],
    )
    p = plan(
        budgets=[
            {
                "category": "01",
                "management": "plan",
                "total": "1000.00",
                "funding": {
                    "amount": "1000.00",
                    "periods": [
                        {
                            "funding_period_id": "G1",
                            "start": "2025-07-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "1000.00",
                        }
                    ],
                },
            }
        ]
    )
    cs = preview(c, p, TODAY)
    assert [x.id for x in cs.conflicts] == ["PERIOD_HAS_DELIVERED:01:plan:F1"]
    assert cs.conflicts[0].facts["new"] == "removed"


@pytest.mark.parametrize(
    ("periods", "amount", "problem"),
    [
        (
            [
                ("F1", "2025-07-01", "2025-09-30", "100.00"),
                ("F2", "2025-10-02", "2025-12-31", "100.00"),
            ],
            "200.00",
            "no funding period covers 2025-10-01..2025-10-01",
        ),
        ([], "200.00", "not yet in funding periods"),
        ([("F1", "2025-07-01", "2025-12-31", "100.00")], "200.00", "periods sum to 100.00"),
    ],
)
def test_plan_periods_invalid(
    periods: list[tuple[str, str, str, str]], amount: str, problem: str
) -> None:
    p = plan(
        budgets=[
            {
                "category": "01",
                "management": "plan",
                "total": "1000.00",
                "funding": {
                    "amount": amount,
                    "periods": [
                        {"funding_period_id": i, "start": s, "end_inclusive": e, "amount": a}
                        for i, s, e, a in periods
                    ],
                },
            }
        ]
    )
    # reported when the periods would be brought in: here the budget is new to the contract
    cs = preview(contract(budgets=[]), p, TODAY)
    assert [x.code for x in cs.conflicts] == ["PLAN_PERIODS_INVALID"], cs.summary()
    assert problem in cs.conflicts[0].facts["problems"]
    # a contract that already holds the same periods (or none, when PACE has none) is not
    # reported again, so a resync after an accepted apply is empty
    new = apply(contract(budgets=[]), cs, accept=["PLAN_PERIODS_INVALID"])
    assert preview(new, p, TODAY).is_empty


def test_periods_outside_the_budget_dates_are_invalid() -> None:
    p = plan(
        budgets=[
            {
                "category": "01",
                "management": "plan",
                "total": "100.00",
                "start": "2025-07-01",
                "end_inclusive": "2025-12-31",
                "funding": {
                    "periods": [
                        {
                            "funding_period_id": "F1",
                            "start": "2025-07-01",
                            "end_inclusive": "2026-01-31",
                            "amount": "100.00",
                        }
                    ]
                },
            }
        ]
    )
    cs = preview(contract(), p, TODAY)
    assert cs.conflicts[0].code == "PLAN_PERIODS_INVALID"
    assert cs.conflicts[0].facts["periods"] == "F1"


# -- apply --------------------------------------------------------------------------------------
def test_apply_returns_a_new_contract_and_keeps_local_data() -> None:
    c = contract(
        budgets=[
            {
                "category": "01",
                "management": "plan",
                "total": "1000.00",
                "requires_booking": True,
                "id": "core",
            }
        ],
        support_items=[
            {
                "id": "S1",
                "item": "01_011_0107_1_1",
                "category": "01",
                "quantity": "2",
                "rate": "70.23",
            }
        ],
        notes=["keep me"],
    )
    before = c.model_dump_json()
    cs = preview(
        c,
        plan(
            total="2000.00",
            budgets=[
                {"category": "01", "management": "plan", "total": "2000.00", "pace_budget_id": "B1"}
            ],
        ),
        TODAY,
    )
    new = apply(c, cs)
    assert c.model_dump_json() == before
    assert new is not c and new.version == 1
    b = new.budgets[0]
    assert (b.id, b.requires_booking, str(b.total), b.pace_budget_id) == (
        "core",
        True,
        "2000.00",
        "B1",
    )
    assert new.support_items == c.support_items and new.notes == c.notes


def test_apply_refuses_a_stale_or_foreign_change_set() -> None:
    c = contract()
    cs = preview(c, plan(total="5.00"), TODAY)
    with pytest.raises(StaleChangeSet):
        apply(c.model_copy(update={"version": 3}), cs)
    with pytest.raises(StaleChangeSet):
        apply(c.model_copy(update={"id": "C2"}), cs)


def test_apply_refuses_unknown_accept_names() -> None:
    c = contract()
    cs = preview(c, plan(total="5.00"), TODAY)
    with pytest.raises(InputError, match="TOTAL_BELOW"):
        apply(c, cs, accept=["TOTAL_BELOW"])


def test_accepting_one_conflict_by_id_leaves_the_others_refused() -> None:
    c = contract(
        budgets=[
            {"category": "01", "management": "plan", "total": "100.00"},
            {"category": "02", "management": "plan", "total": "100.00"},
        ],
        delivered=[
            {
                "id": f"D{k}",
                "category": k,
                "management": "plan",
                "from": "2025-07-02",
                "to": "2025-07-02",
                "amount": "50.00",
            }
            for k in ("01", "02")
        ],
    )
    cs = preview(
        c,
        plan(
            budgets=[{"category": k, "management": "plan", "total": "10.00"} for k in ("01", "02")]
        ),
        TODAY,
    )
    with pytest.raises(UnacceptedConflicts) as info:
        apply(c, cs, accept=["TOTAL_BELOW_DELIVERED:01:plan"])
    assert [x.id for x in info.value.conflicts] == ["TOTAL_BELOW_DELIVERED:02:plan"]


# -- new contract, remaining, allocation --------------------------------------------------------
def test_new_contract_from_plan_with_used_funds() -> None:
    p = plan(
        total="1500.00",
        budgets=[
            {
                "category": "01",
                "management": "plan",
                "total": "1000.00",
                "funding": {
                    "periods": [
                        {
                            "funding_period_id": "F1",
                            "start": "2025-07-01",
                            "end_inclusive": "2025-12-31",
                            "amount": "500.00",
                        },
                        {
                            "funding_period_id": "F2",
                            "start": "2026-01-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "500.00",
                        },
                    ]
                },
            },
            {"category": "07", "management": "agency", "total": "300.00"},
            {"category": "07", "management": "plan", "total": "200.00"},
        ],
    )
    c = new_contract_from_plan(
        p, "C9", {"01": Money.parse("120.00"), "07:plan": Money(5)}, on=date(2026, 2, 1)
    )
    assert (c.plan_id, c.participant, c.version) == ("P1", "430000001", 0)
    assert [(d.category, d.management, str(d.amount), d.period_id) for d in c.delivered] == [
        ("01", "plan", "120.00", "F2"),
        ("07", "plan", "0.05", None),
    ]
    assert all(
        d.adjustment and d.item is None and d.description == ADJUSTMENT_DESCRIPTION
        for d in c.delivered
    )
    assert str(remaining(c, c.budgets[0])) == "880.00"
    assert str(allocation_total(c)) == "1200.00"
    assert preview(c, p, TODAY).is_empty
    with pytest.raises(InputError, match="07:agency, 07:plan"):
        new_contract_from_plan(p, "C9", {"07": Money(1)})
    with pytest.raises(UnacceptedConflicts):
        new_contract_from_plan(p, "C9", {"07:plan": Money.parse("300.00")})


def test_new_contract_refuses_invalid_periods_unless_accepted() -> None:
    p = plan(
        budgets=[
            {
                "category": "01",
                "management": "plan",
                "total": "10.00",
                "funding": {
                    "amount": "20.00",
                    "periods": [
                        {
                            "funding_period_id": "F1",
                            "start": "2025-07-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "10.00",
                        }
                    ],
                },
            }
        ]
    )
    with pytest.raises(UnacceptedConflicts):
        new_contract_from_plan(p, "C9")
    assert new_contract_from_plan(p, "C9", accept=["PLAN_PERIODS_INVALID"]).budgets


def test_remaining_ignores_cancelled_and_counts_adjustments() -> None:
    c = contract(
        delivered=[
            {
                "id": "D1",
                "category": "01",
                "management": "plan",
                "from": "2025-07-02",
                "to": "2025-07-02",
                "amount": "100.00",
                "status": "cancelled",
            },
            {
                "id": "D2",
                "category": "01",
                "management": "plan",
                "from": "2025-07-01",
                "to": "2025-07-01",
                "amount": "30.00",
                "adjustment": True,
            },
            {
                "id": "D3",
                "category": "01",
                "management": "self",
                "from": "2025-07-01",
                "to": "2025-07-01",
                "amount": "7.00",
            },
        ]
    )
    assert remaining(c, c.budgets[0]) == Money.parse("970.00")
