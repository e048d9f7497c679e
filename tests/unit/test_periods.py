from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from ndis_rules.money import Money
from ndis_rules.periods import (
    DateRange,
    available_in_period,
    find_gaps,
    find_overlaps,
    period_status,
    split_pro_rata,
    uncovered_days,
)


def P(start: date, last: date, pid: str = "P") -> SimpleNamespace:
    return SimpleNamespace(id=pid, start=start, end_inclusive=last)


def test_status_edges_are_inclusive() -> None:
    s, e = date(2025, 7, 1), date(2025, 9, 30)
    assert period_status(s, e, s - timedelta(days=1)) == "pending"
    assert period_status(s, e, s) == "active"
    assert period_status(s, e, e) == "active"
    assert period_status(s, e, e + timedelta(days=1)) == "expired"


def test_empty_range_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        DateRange(date(2025, 1, 2), date(2025, 1, 2))


def test_gaps_and_overlaps() -> None:
    a = P(date(2025, 1, 1), date(2025, 1, 10), "A")
    b = P(date(2025, 1, 12), date(2025, 1, 20), "B")
    c = P(date(2025, 1, 18), date(2025, 1, 25), "C")
    within = DateRange.from_inclusive(date(2025, 1, 1), date(2025, 1, 31))
    gaps = find_gaps([a, b, c], within)
    assert [(g.start, g.last_day) for g in gaps] == [
        (date(2025, 1, 11), date(2025, 1, 11)),
        (date(2025, 1, 26), date(2025, 1, 31)),
    ]
    assert [(x.id, y.id) for x, y in find_overlaps([a, b, c])] == [("B", "C")]
    assert uncovered_days([a], DateRange.from_inclusive(date(2025, 1, 2), date(2025, 1, 3))) == []


def test_rollover_keeps_later_cumulative_non_negative() -> None:
    m = Money.parse
    amounts = [m("750"), m("750"), m("1500")]
    spent = [m("0"), m("1400"), m("0")]
    assert available_in_period(amounts, spent, 0, 1, rollover=True) == m("100")
    assert available_in_period(amounts, spent, 0, 1, rollover=False) == m("750")
    assert available_in_period(amounts, spent, 1, 1, rollover=True) == m("100")
    # the current period is the one asked for when it is later than `current`
    assert available_in_period(amounts, spent, 2, 1, rollover=True) == m("1600")


@given(st.dates(date(2020, 1, 1), date(2030, 1, 1)), st.integers(0, 400))
def test_inclusive_round_trip(start: date, days: int) -> None:
    r = DateRange.from_inclusive(start, start + timedelta(days=days))
    assert DateRange.from_inclusive(r.start, r.last_day) == r
    assert r.days == days + 1


@given(
    st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    st.sampled_from([1, 3, 6]),
    st.integers(1, 12),
)
def test_generated_periods_cover_exactly(start: date, months: int, count: int) -> None:
    bounds = [start + relativedelta(months=months * k) for k in range(count + 1)]
    periods = [P(bounds[i], bounds[i + 1] - timedelta(days=1), f"P{i}") for i in range(count)]
    plan = DateRange(bounds[0], bounds[-1])
    assert find_gaps(periods, plan) == []
    assert find_overlaps(periods) == []
    day = start
    while day < plan.end:
        assert sum(1 for p in periods if p.start <= day <= p.end_inclusive) == 1
        day += timedelta(days=37)


@given(
    st.dates(date(2025, 1, 1), date(2025, 12, 31)),
    st.integers(0, 120),
    st.lists(st.integers(1, 60), min_size=1, max_size=5),
    st.integers(1, 10**8),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(99999), places=2),
)
def test_split_conserves_amount_and_quantity(
    start: date, length: int, cuts: list[int], cents: int, quantity: Decimal
) -> None:
    service = DateRange.from_inclusive(start, start + timedelta(days=length))
    bounds = [service.start]
    for c in cuts:
        nxt = bounds[-1] + timedelta(days=c)
        if nxt >= service.end:
            break
        bounds.append(nxt)
    bounds.append(service.end)
    pieces = [DateRange(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    parts = split_pro_rata(service, pieces, Money(cents), quantity)
    assert sum(p.amount.cents for p in parts) == cents
    assert sum(p.quantity for p in parts) == quantity
    assert sum(p.days.days for p in parts) == service.days
