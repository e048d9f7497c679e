"""plan_bookings: one booking per budget or support, types, and every planning finding."""

from __future__ import annotations

from datetime import date

import pytest
from booking_support import PM_FEES, budget, contract, support

from ndis_rules.bookings import BOOKING_CODES, BookingPlan, plan_bookings
from ndis_rules.money import Money


def codes(plan: BookingPlan) -> list[str]:
    return sorted(plan.codes)


def sources(plan: BookingPlan) -> list[str]:
    return [r.source for r in plan.requests]


def test_one_booking_per_budget_never_one_for_many() -> None:
    c = contract(
        budgets=[budget("01"), budget("04"), budget("07"), budget("15", "plan")],
        support_items=PM_FEES,
    )
    plan = plan_bookings(c, plan_manager="PM1")
    assert sources(plan) == [
        "support:PM-SETUP",
        "support:PM-MONTHLY",
        "budget:01:agency",
        "budget:04:agency",
        "budget:07:agency",
        "budget:15:plan",
    ]
    assert len({r.key for r in plan.requests}) == len(plan.requests)
    assert plan.findings == ()


def test_type_follows_management_type() -> None:
    c = contract(budgets=[budget("01", "agency"), budget("01", "plan")], support_items=PM_FEES)
    plan = plan_bookings(c)
    types = {r.source: r.type for r in plan.requests}
    assert types["budget:01:agency"] == "standard"
    assert types["budget:01:plan"] == "plan_managed"
    assert {r.management for r in plan.requests if r.source_kind == "budget"} == {"agency", "plan"}


def test_request_is_traceable_to_its_source() -> None:
    c = contract(budgets=[budget("07", id="B7", total="3000.00")])
    [r] = plan_bookings(c, plan_manager="PM1").requests
    assert (r.contract_id, r.participant, r.source_kind, r.source_id) == (
        "C1",
        "430000001",
        "budget",
        "B7",
    )
    assert (r.category, r.item, r.provider, r.amount) == ("07", None, "PM1", Money.parse("3000"))
    assert (r.start, r.end_inclusive) == (date(2025, 7, 1), date(2026, 6, 30))


def test_budgets_and_supports_not_marked_are_not_booked() -> None:
    c = contract(
        budgets=[budget("01", requires_booking=False)],
        support_items=[support("S1", "01_011_0107_1_1", "01", requires_booking=False)],
    )
    plan = plan_bookings(c)
    assert plan.requests == () and plan.findings == ()


def test_plan_management_fees_are_two_bookings() -> None:
    plan = plan_bookings(contract(total="1.00", support_items=PM_FEES), plan_manager="PM1")
    assert [(r.item, r.type, str(r.amount), r.provider) for r in plan.requests] == [
        ("14_033_0127_8_3", "standard", "232.35", "PM1"),
        ("14_034_0127_8_3", "standard", "1253.40", "PM1"),
    ]
    assert codes(plan) == ["PLACEHOLDER_TOTAL"]


def test_support_provider_wins_over_plan_manager() -> None:
    c = contract(
        support_items=[
            support("S1", "15_056_0128_1_3", "15", management="plan", provider="OT-PROV")
        ],
        budgets=[budget("15", "plan")],
    )
    plan = plan_bookings(c, plan_manager="PM1")
    assert {r.source: r.provider for r in plan.requests} == {
        "support:S1": "OT-PROV",
        "budget:15:plan": "PM1",
    }


def test_support_takes_management_and_dates_from_its_category_budget() -> None:
    c = contract(
        budgets=[
            budget(
                "15", "plan", requires_booking=False, start="2025-08-01", end_inclusive="2026-01-31"
            )
        ],
        support_items=[support("S1", "15_056_0128_1_3", "15")],
    )
    [r] = plan_bookings(c).requests
    assert r.type == "plan_managed"
    assert (r.start, r.end_inclusive) == (date(2025, 8, 1), date(2026, 1, 31))


# -- every finding code ----------------------------------------------------------------------


def test_self_managed_budget_and_support_get_a_finding_not_a_booking() -> None:
    c = contract(
        budgets=[budget("01", "self"), budget("02", "self", requires_booking=False)],
        support_items=[support("S1", "15_056_0128_1_3", "15", management="self")],
    )
    plan = plan_bookings(c)
    assert plan.requests == ()
    assert codes(plan) == ["SELF_MANAGED_NO_BOOKING", "SELF_MANAGED_NO_BOOKING"]
    assert {f.facts["source"] for f in plan.findings} == {"budget:01:self", "support:S1"}
    assert all(f.severity == "warning" for f in plan.findings)


def test_stated_category_is_booked_at_support_level_only() -> None:
    c = contract(
        budgets=[budget("14", budget_type="stated", stated_items_only=True, total="1485.75")],
        support_items=[{**s, "kind": "stated"} for s in PM_FEES],
    )
    plan = plan_bookings(c)
    assert sources(plan) == ["support:PM-SETUP", "support:PM-MONTHLY"]
    assert codes(plan) == ["BOOKED_AT_SUPPORT_LEVEL"]
    [f] = plan.findings
    assert f.severity == "info" and f.facts["total"] == "1485.75"


def test_stated_remainder_is_reported_with_the_amount_and_not_booked() -> None:
    c = contract(
        budgets=[
            budget(
                "14",
                budget_type="stated",
                stated_items_only=True,
                total="2000.00",
                requires_booking=False,
            )
        ],
        support_items=[{**s, "kind": "stated"} for s in PM_FEES],
    )
    plan = plan_bookings(c)
    assert codes(plan) == ["STATED_REMAINDER_UNBOOKABLE"]
    [f] = plan.findings
    assert (f.facts["remainder"], f.facts["allocated"], f.facts["total"]) == (
        "514.25",
        "1485.75",
        "2000.00",
    )
    assert "514.25" in f.message
    assert Money.parse("514.25") not in {r.amount for r in plan.requests}
    assert sum((r.amount for r in plan.requests), Money(0)) == Money.parse("1485.75")


def test_stated_supports_make_a_category_stated_even_without_the_flag() -> None:
    c = contract(
        budgets=[budget("14", total="1485.75")],
        support_items=[{**s, "kind": "stated"} for s in PM_FEES],
    )
    plan = plan_bookings(c)
    assert "budget:14:agency" not in sources(plan)
    assert codes(plan) == ["BOOKED_AT_SUPPORT_LEVEL"]


def test_stated_category_with_nothing_to_book_is_not_reported() -> None:
    c = contract(budgets=[budget("14", stated_items_only=True, requires_booking=False)])
    assert plan_bookings(c).findings == ()


def test_booking_outside_the_plan_is_invalid_and_left_out() -> None:
    c = contract(
        budgets=[budget("07", start="2025-06-01", end_inclusive="2026-06-30"), budget("01")]
    )
    plan = plan_bookings(c)
    assert sources(plan) == ["budget:01:agency"]
    [f] = plan.findings
    assert f.code == "BOOKING_DATES_INVALID" and f.severity == "error"
    assert f.facts["source"] == "budget:07:agency" and "outside the plan" in f.facts["problem"]


def test_overlapping_bookings_same_category_and_provider_are_invalid() -> None:
    c = contract(
        budgets=[
            budget("01", id="A", start="2025-07-01", end_inclusive="2025-12-31"),
            budget("01", id="B", start="2025-12-31", end_inclusive="2026-06-30"),
        ]
    )
    plan = plan_bookings(c, plan_manager="PM1")
    assert plan.requests == ()
    assert codes(plan) == ["BOOKING_DATES_INVALID"]
    assert plan.findings[0].facts["other"] == "budget:A"


def test_adjacent_bookings_do_not_overlap() -> None:
    c = contract(
        budgets=[
            budget("01", id="A", start="2025-07-01", end_inclusive="2025-12-31"),
            budget("01", id="B", start="2026-01-01", end_inclusive="2026-06-30"),
        ]
    )
    assert sources(plan_bookings(c)) == ["budget:A", "budget:B"]


def test_overlap_needs_the_same_provider() -> None:
    c = contract(
        support_items=[
            support("S1", "15_056_0128_1_3", "15", management="agency", provider="P1"),
            support("S2", "15_056_0128_1_3", "15", management="agency", provider="P2"),
            support("S3", "15_056_0128_1_3", "15", management="agency", provider="P2"),
        ]
    )
    plan = plan_bookings(c)
    assert sources(plan) == ["support:S1"]
    assert codes(plan) == ["BOOKING_DATES_INVALID", "PLACEHOLDER_TOTAL"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"total": "1.00", "budgets": [budget("01")]}, "at most $1.00"),
        ({"total": "0.50"}, "no category budgets yet"),
        ({"total": None}, "no category budgets yet"),
    ],
)
def test_placeholder_total(fields: dict[str, object], problem: str) -> None:
    plan = plan_bookings(contract(**fields))
    assert codes(plan) == ["PLACEHOLDER_TOTAL"]
    assert plan.findings[0].facts["problem"] == problem


def test_real_total_with_budgets_is_no_placeholder() -> None:
    assert plan_bookings(contract(total="1.01", budgets=[budget("01", total="1.01")])).codes == ()


def test_support_without_management_in_an_ambiguous_category() -> None:
    c = contract(
        budgets=[
            budget("01", "agency", requires_booking=False),
            budget("01", "plan", requires_booking=False),
        ],
        support_items=[support("S1", "01_011_0107_1_1", "01")],
    )
    plan = plan_bookings(c)
    assert plan.requests == ()
    assert codes(plan) == ["BOOKING_MANAGEMENT_UNKNOWN"]
    assert plan.findings[0].facts["count"] == "2"


def test_support_without_management_and_no_budget() -> None:
    plan = plan_bookings(contract(support_items=[support("S1", "01_011_0107_1_1", "01")]))
    assert codes(plan) == ["BOOKING_MANAGEMENT_UNKNOWN", "PLACEHOLDER_TOTAL"]


def test_bookings_exceeding_the_budget_are_flagged_but_planned() -> None:
    c = contract(
        budgets=[budget("15", "plan", total="100.00")],
        support_items=[support("S1", "15_056_0128_1_3", "15", rate="50.00")],
    )
    plan = plan_bookings(c)
    assert len(plan.requests) == 2
    assert "BOOKINGS_EXCEED_BUDGET" in plan.codes
    f = next(f for f in plan.findings if f.code == "BOOKINGS_EXCEED_BUDGET")
    assert (f.facts["booked"], f.facts["total"]) == ("150.00", "100.00")


def test_plan_managed_needs_a_standard_choice_and_control_booking() -> None:
    assert plan_bookings(contract(budgets=[budget("01", "plan")])).codes == (
        "PLAN_MANAGED_NEEDS_STANDARD_BOOKING",
    )
    with_fees = contract(budgets=[budget("01", "plan")], support_items=PM_FEES)
    assert plan_bookings(with_fees).codes == ()


def test_pace_plan_needs_no_booking() -> None:
    plan = plan_bookings(contract(pace=True, budgets=[budget("01")]))
    assert plan.requests == () and plan.codes == ("PACE_PLAN_NO_BOOKING",)


def test_every_code_has_a_rendered_message_and_string_facts() -> None:
    cases = [
        contract(pace=True),
        contract(total="1.00", budgets=[budget("01", "self")]),
        contract(
            budgets=[budget("14", stated_items_only=True, total="5000.00")],
            support_items=[{**s, "kind": "stated"} for s in PM_FEES],
        ),
        contract(
            budgets=[
                budget("07", start="2025-01-01", end_inclusive="2025-12-31"),
                budget("15", "plan", total="1.00"),
                budget("01", "agency"),
                budget("01", "plan", requires_booking=False),
            ],
            support_items=[
                support("S", "15_056_0128_1_3", "15"),
                support("D", "01_011_0107_1_1", "01"),
            ],
        ),
    ]
    seen: set[str] = set()
    for c in cases:
        for f in plan_bookings(c).findings:
            seen.add(f.code)
            assert "{" not in f.message and f.message
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in f.facts.items())
            assert f.severity == BOOKING_CODES[f.code].severity  # type: ignore[index]
    assert seen == set(BOOKING_CODES)


def test_planning_is_deterministic_and_pure() -> None:
    c = contract(budgets=[budget("01"), budget("15", "plan")], support_items=PM_FEES)
    before = c.model_dump()
    assert plan_bookings(c, plan_manager="X") == plan_bookings(c, plan_manager="X")
    assert c.model_dump() == before
