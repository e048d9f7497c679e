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

from datetime import date

from ..models import CORE_CATEGORIES, Contract
from ..periods import period_status

__all__ = ["overdraw_problems"]


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
        if not members or any(b.funding is not None for b in members):
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
