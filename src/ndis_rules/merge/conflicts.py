"""Conflicts: the reasons a sync must not apply silently, and the refusal that lists them.

Each detector returns :class:`~ndis_rules.merge.changes.Conflict` s for what the sync *would
change* only, so a resynced contract has none: ``TOTAL_BELOW_DELIVERED``,
``DELIVERED_OUTSIDE_DATES``, ``BOOKING_LOCKS_MANAGEMENT``, ``PERIOD_HAS_DELIVERED`` and
``SPCB_REALIGN_NEEDED`` for a budget (:func:`_budget_conflicts`), ``PLAN_PERIODS_INVALID`` for a
PACE budget's funding periods (:func:`plan_period_conflicts`), ``AMBIGUOUS_MATCH`` for a
management type change landing on a key another budget holds (:func:`_collisions`).
``NEW_PLAN`` and the ambiguous pairings are raised by :func:`~ndis_rules.merge.preview`
itself. A conflict the caller did not accept is an :class:`UnacceptedConflicts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Final

from ..errors import ApplyRefused, UnacceptedConflicts
from ..models import (
    CategoryBudget,
    Contract,
    DeliveredService,
    FundingPeriod,
    ServiceProviderCategoryBudget,
)
from ..money import Money
from ..pace import PaceBudget
from ..periods import DateRange, find_gaps, find_overlaps
from .changes import BudgetChange, Conflict, PeriodChange, _text
from .funding import _component, _normal, _sorted_periods

__all__ = ["ApplyRefused", "UnacceptedConflicts", "plan_period_conflicts"]

_ONE_DAY: Final = timedelta(days=1)


def _m(amount: Money) -> str:
    return str(amount)


def plan_period_conflicts(budget: PaceBudget) -> list[Conflict]:
    """``PLAN_PERIODS_INVALID`` for a PACE budget whose funding periods overlap, leave a gap
    (between them, or within the budget's own dates), lie outside the budget's dates, do not sum
    to the component amount, or are missing while funds exist. Empty when they are consistent.

    Examples:
        >>> b = PaceBudget.model_validate({"category": "01", "management": "plan",
        ...     "total": "300.00", "funding": {"amount": "300.00", "periods": [
        ...       {"funding_period_id": "F1", "start": "2025-07-01",
        ...        "end_inclusive": "2025-09-30", "amount": "100.00"},
        ...       {"funding_period_id": "F2", "start": "2025-09-01",
        ...        "end_inclusive": "2025-12-31", "amount": "100.00"}]}})
        >>> [c.facts["periods"] for c in plan_period_conflicts(b)]
        ['F1, F2']
        >>> plan_period_conflicts(b)[0].facts["problems"]
        'F1 overlaps F2; periods sum to 200.00, the component amount is 300.00'
    """
    f = budget.funding
    if f is None:
        return []
    problems: list[str] = []
    offending: set[str] = set()
    periods = sorted(f.periods, key=lambda p: (p.start, p.end_inclusive, p.funding_period_id))
    amount = f.amount
    if not periods:
        if amount is not None and amount.cents != 0:
            problems.append(f"the component amount {amount} is not yet in funding periods")
    else:
        for a, b in find_overlaps(periods):
            problems.append(f"{a.funding_period_id} overlaps {b.funding_period_id}")
            offending.update({a.funding_period_id, b.funding_period_id})
        span_start = periods[0].start
        span_end = max(p.end_inclusive for p in periods)
        if budget.start is not None and budget.end_inclusive is not None:
            span_start, span_end = budget.start, budget.end_inclusive
            for p in periods:
                if p.start < budget.start or p.end_inclusive > budget.end_inclusive:
                    problems.append(
                        f"{p.funding_period_id} ({p.start}..{p.end_inclusive}) lies outside "
                        f"the budget's dates {budget.start}..{budget.end_inclusive}"
                    )
                    offending.add(p.funding_period_id)
        for gap in find_gaps(periods, DateRange.from_inclusive(span_start, span_end)):
            problems.append(f"no funding period covers {gap.start}..{gap.last_day}")
            offending.update(
                p.funding_period_id
                for p in periods
                if p.end_inclusive == gap.start - _ONE_DAY or p.start == gap.end
            )
        total = Money(sum(p.amount.cents for p in periods))
        if amount is not None and total != amount:
            problems.append(f"periods sum to {total}, the component amount is {amount}")
            offending.update(p.funding_period_id for p in periods)
    if not problems:
        return []
    ids = ", ".join(sorted(offending))
    return [
        Conflict(
            code="PLAN_PERIODS_INVALID",
            subject=budget.key,
            message=f"the PACE funding periods of {budget.key} are not consistent: "
            + "; ".join(problems),
            facts={
                "budget": budget.key,
                "pace_budget_id": budget.pace_budget_id or "",
                "periods": ids,
                "problems": "; ".join(problems),
                "component_amount": _text(amount) or "",
            },
        )
    ]


def _outside(ds: Sequence[DeliveredService], start: date, end: date) -> list[DeliveredService]:
    return [d for d in ds if d.from_ < start or d.to > end]


def _sits_in(d: DeliveredService, periods: Sequence[FundingPeriod]) -> FundingPeriod | None:
    if d.period_id is not None:
        for p in periods:
            if p.id == d.period_id:
                return p
    for p in periods:
        if p.start <= d.from_ <= p.end_inclusive:
            return p
    return None


def _ids(ds: Iterable[DeliveredService]) -> str:
    return ", ".join(d.id for d in ds)


def _budget_conflicts(
    contract: Contract,
    key: str,
    old: CategoryBudget | None,
    new: CategoryBudget,
    delivered: Sequence[DeliveredService],
    period_changes: Sequence[PeriodChange],
) -> list[Conflict]:
    out: list[Conflict] = []
    used = Money(sum(d.amount.cents for d in delivered))
    if (old is None or old.total != new.total) and new.total < used:
        out.append(
            Conflict(
                code="TOTAL_BELOW_DELIVERED",
                subject=key,
                message=f"the new total {new.total} of {key} is below the {used} already "
                f"delivered in it (remaining would be {new.total - used})",
                facts={
                    "budget": key,
                    "old_total": _text(old.total if old else None) or "",
                    "new_total": _m(new.total),
                    "delivered": _m(used),
                },
            )
        )
    dates_changed = old is None or (old.start, old.end_inclusive) != (
        new.start,
        new.end_inclusive,
    )
    if dates_changed and new.start is not None and new.end_inclusive is not None:
        out_ds = _outside(delivered, new.start, new.end_inclusive)
        if out_ds:
            out.append(
                Conflict(
                    code="DELIVERED_OUTSIDE_DATES",
                    subject=key,
                    message=f"the new dates {new.start}..{new.end_inclusive} of {key} leave "
                    f"{len(out_ds)} delivered service(s) outside: {_ids(out_ds)}",
                    facts={
                        "budget": key,
                        "new_start": str(new.start),
                        "new_end_inclusive": str(new.end_inclusive),
                        "delivered": _ids(out_ds),
                        "amount": _m(Money(sum(d.amount.cents for d in out_ds))),
                    },
                )
            )
    if (
        old is not None
        and old.management != new.management
        and (old.requires_booking or old.booking_id is not None)
    ):
        out.append(
            Conflict(
                code="BOOKING_LOCKS_MANAGEMENT",
                subject=key,
                message=f"{key} is linked to a PRODA service booking; its management type would "
                f"change from {old.management} to {new.management}",
                facts={
                    "budget": key,
                    "old_management": old.management,
                    "new_management": new.management,
                },
            )
        )
    if old is not None and old.management != new.management and delivered:
        out.append(
            Conflict(
                code="MANAGEMENT_CHANGE_HAS_DELIVERED",
                subject=key,
                message=f"the management type of {key} would change from {old.management} to "
                f"{new.management} while {len(delivered)} delivered service(s) draw on it as "
                f"{old.management}: {_ids(delivered)}; accept to move them with the budget",
                facts={
                    "budget": key,
                    "old_management": old.management,
                    "new_management": new.management,
                    "delivered": _ids(delivered),
                    "amount": _m(Money(sum(d.amount.cents for d in delivered))),
                },
            )
        )
    if old is not None and old.funding is not None and period_changes:
        new_periods = {p.id: p for p in (new.funding.periods if new.funding else ())}
        by_period: dict[str, list[DeliveredService]] = {}
        for d in delivered:
            p = _sits_in(d, old.funding.periods)
            if p is not None:
                by_period.setdefault(p.id, []).append(d)
        for p in _sorted_periods(old.funding.periods):
            sitting = by_period.get(p.id, [])
            if not sitting:
                continue
            np = new_periods.get(p.id)
            if np is None:
                how, left = "removed", sitting
            else:
                left = [d for d in sitting if not np.start <= d.from_ <= np.end_inclusive]
                how = f"shortened to {np.start}..{np.end_inclusive}"
            if left:
                out.append(
                    Conflict(
                        code="PERIOD_HAS_DELIVERED",
                        subject=f"{key}:{p.id}",
                        message=f"funding period {p.id} ({p.start}..{p.end_inclusive}) of {key} "
                        f"would be {how} while delivered services sit in it: {_ids(left)}",
                        facts={
                            "budget": key,
                            "period_id": p.id,
                            "old_start": str(p.start),
                            "old_end_inclusive": str(p.end_inclusive),
                            "new": "removed" if np is None else f"{np.start}..{np.end_inclusive}",
                            "delivered": _ids(left),
                            "amount": _m(Money(sum(d.amount.cents for d in left))),
                        },
                    )
                )
    if old is not None and period_changes:
        moved = {c.period_id for c in period_changes if c.change == "removed"} | {
            c.period_id
            for c in period_changes
            if c.change == "changed"
            and c.old is not None
            and c.new is not None
            and (c.old.start, c.old.end_inclusive) != (c.new.start, c.new.end_inclusive)
        }
        for s in contract.provider_budgets:
            if not _spcb_in(s, old):
                continue
            bad = sorted({sh.period_id for sh in s.distribution if sh.period_id in moved})
            if bad:
                out.append(
                    Conflict(
                        code="SPCB_REALIGN_NEEDED",
                        subject=s.id,
                        message=f"SPCB {s.id} ({s.provider}, {key}) is distributed over funding "
                        f"period(s) {', '.join(bad)} that would be removed or moved; on accept "
                        "its distribution is cleared (it caps on its whole amount) until it is "
                        "distributed again",
                        facts={
                            "spcb": s.id,
                            "provider": s.provider,
                            "budget": key,
                            "periods": ", ".join(bad),
                        },
                    )
                )
    return out


def _spcb_in(s: ServiceProviderCategoryBudget, budget: CategoryBudget) -> bool:
    return (
        bool(s.distribution)
        and s.category == budget.category
        and (s.management is None or s.management == budget.management)
    )


def _pace_period_conflicts_if_changed(
    contract: Contract, p: PaceBudget, local_index: int | None
) -> list[Conflict]:
    """``PLAN_PERIODS_INVALID`` only when the plan's periods would be brought in (a new budget,
    or funding that differs from the local budget's)."""
    if local_index is not None:
        local = contract.budgets[local_index]
        if _normal(local.funding) == _normal(_component(p.funding)):
            return []
    return plan_period_conflicts(p)


def _collisions(contract: Contract, changes: Sequence[BudgetChange]) -> list[Conflict]:
    """A management type change landing on a key another budget already holds."""
    changed_refs = {c.ref for c in changes if c.ref is not None and c.kind != "unchanged"}
    keys: dict[str, list[str]] = {}
    for b in contract.budgets:
        if b.ref not in changed_refs:
            keys.setdefault(b.key, []).append(b.ref)
    for c in changes:
        if c.result is not None:
            keys.setdefault(c.result.key, []).append(c.result.ref)
    out = []
    for c in changes:
        if c.kind == "changed" and c.result is not None and c.result.key != c.key:
            holders = keys.get(c.result.key, [])
            if len(holders) > 1:
                out.append(
                    Conflict(
                        code="AMBIGUOUS_MATCH",
                        subject=c.result.key,
                        message=f"{c.key} would become {c.result.key}, a key budget(s) "
                        f"{', '.join(h for h in holders if h != c.result.ref)} also hold: "
                        "matching by key would be ambiguous; on accept both are kept (delivered "
                        "services of that key draw on the first)",
                        facts={"key": c.result.key, "local_budgets": ", ".join(holders)},
                    )
                )
    return out
