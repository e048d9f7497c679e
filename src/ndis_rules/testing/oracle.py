"""An independent model of the money: plain sums over a contract's delivered services, with no
use of the engine's ledger. Integrators can run it over their own data as a cross-check.

Examples:
    >>> from ndis_rules.models import Contract
    >>> c = Contract.model_validate({"id": "C", "start": "2025-07-01",
    ...     "end_inclusive": "2026-06-30",
    ...     "budgets": [{"category": "15", "management": "plan", "total": "10.00"}],
    ...     "delivered": [{"id": "D", "category": "15", "management": "plan",
    ...                    "from": "2025-08-01", "to": "2025-08-01", "amount": "12.00"}]})
    >>> overdraw_problems(c, date(2025, 9, 1), rollover=True)
    ['15:plan overdrawn']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from ..models import CORE_CATEGORIES, CategoryBudget, Contract, DeliveredService
from ..periods import period_status

__all__ = ["overdraw_problems", "unclaimable_problems"]


def overdraw_problems(contract: Contract, as_of: date, rollover: bool) -> list[str]:
    """Everything overdrawn: a funding period (with rollover, a cumulative availability up to the
    current period), a category budget outside the core flexible pool, an SPCB or its period
    share, or a core flexible pool whose members have no periods. Empty when all is well."""
    problems: list[str] = []
    active = [d for d in contract.delivered if d.status == "active"]
    for b in contract.budgets:
        mine = [d for d in active if d.category == b.category and d.management == b.management]
        in_pool = b.in_core_pool
        if b.funding is None:
            if not in_pool and sum(d.amount.cents for d in mine) > b.total.cents:
                problems.append(f"{b.key} overdrawn")
            continue
        if in_pool:
            continue
        periods = sorted(b.funding.periods, key=lambda p: p.start)
        spent = []
        for p in periods:
            spent.append(
                sum(
                    d.amount.cents
                    for d in mine
                    if (d.period_id == p.id)
                    or (d.period_id is None and p.start <= d.from_ <= p.end_inclusive)
                )
            )
        current = max(
            (
                i
                for i, p in enumerate(periods)
                if period_status(p.start, p.end_inclusive, as_of) != "pending"
            ),
            default=-1,
        )
        running = 0
        for i, p in enumerate(periods[: current + 1]):
            if rollover:
                running += p.amount.cents - spent[i]
                if running < 0:
                    problems.append(f"{b.key} cumulative to {p.id} negative")
            elif spent[i] > p.amount.cents:
                problems.append(f"{b.key} {p.id} overdrawn")
    for s in contract.provider_budgets:
        mine = [d for d in active if d.provider == s.provider and d.category == s.category]
        if s.distribution:
            for share in s.distribution:
                used = sum(d.amount.cents for d in mine if d.period_id == share.period_id)
                if used > share.amount.cents:
                    problems.append(f"{s.id} share {share.period_id} overdrawn")
        else:
            used = sum(d.amount.cents for d in mine if s.start <= d.from_ <= s.end_inclusive)
            if used > s.amount.cents:
                problems.append(f"{s.id} overdrawn")
    for mgmt in ("agency", "plan", "self"):
        members = [b for b in contract.budgets if b.in_core_pool and b.management == mgmt]
        if members and any(b.funding is not None for b in members):
            pool_today = _pool_today(contract, active, members, mgmt, as_of, rollover)
            if pool_today is not None and pool_today < 0:
                problems.append(f"core_flexible:{mgmt} negative on {as_of}")
            continue
        if not members:
            continue
        member_cats = {b.category for b in members}
        pool = sum(b.total.cents for b in members) - sum(
            d.amount.cents
            for d in active
            if d.management == mgmt
            and d.category in CORE_CATEGORIES
            and (
                d.category in member_cats
                or not any(
                    b.category == d.category and b.management == mgmt for b in contract.budgets
                )
            )
        )
        if pool < 0:
            problems.append(f"core_flexible:{mgmt} negative")
    return problems


def _pool_today(
    contract: Contract,
    active: list[DeliveredService],
    members: list[CategoryBudget],
    mgmt: str,
    as_of: date,
    rollover: bool,
) -> int | None:
    """The core flexible pool of members some of which have funding periods, in cents, measured
    in the period each member has today (every draw was measured at its own dates, or in the
    current period, and with rollover nothing later is larger than today's): the sum of each
    member's availability today (with rollover, cumulative up to today's period) less what Core
    categories without a budget of this type spent. ``None`` when a member with periods has none
    today (nothing to measure)."""
    cents = 0
    for b in members:
        mine = [d for d in active if d.category == b.category and d.management == b.management]
        if b.funding is None:
            dated = b.start is not None and b.end_inclusive is not None
            if dated and not b.start <= as_of <= b.end_inclusive:  # type: ignore[operator]
                continue
            cents += b.total.cents - sum(d.amount.cents for d in mine)
            continue
        periods = sorted(b.funding.periods, key=lambda p: p.start)
        today = [i for i, p in enumerate(periods) if p.start <= as_of <= p.end_inclusive]
        if not today:
            return None
        k = today[0]
        for i, p in enumerate(periods[: k + 1]):
            if rollover or i == k:
                cents += p.amount.cents - sum(
                    d.amount.cents
                    for d in mine
                    if d.period_id == p.id
                    or (d.period_id is None and p.start <= d.from_ <= p.end_inclusive)
                )
    held = {b.category for b in contract.budgets if b.management == mgmt}
    cents -= sum(
        d.amount.cents
        for d in active
        if d.management == mgmt and d.category in CORE_CATEGORIES and d.category not in held
    )
    return cents


def unclaimable_problems(
    delivered: Iterable[DeliveredService], claimable: Collection[str]
) -> list[str]:
    """Delivered services (those a run recorded) of a management type the settings do not
    claim: a line may never draw on them, nor on another management type's pool."""
    return [
        f"{d.id} drew on {d.category}:{d.management}"
        for d in delivered
        if d.management not in claimable
    ]
