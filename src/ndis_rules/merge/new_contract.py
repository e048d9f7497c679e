"""A new contract from a PACE plan, with funds already used as adjustment delivered services."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Final

from ..errors import InputError
from ..models import CategoryBudget, Contract, DeliveredService
from ..money import Money
from ..pace import PacePlan
from .changes import Conflict
from .conflicts import UnacceptedConflicts, _m, plan_period_conflicts
from .matching import _new_budget

__all__ = ["ADJUSTMENT_DESCRIPTION", "new_contract_from_plan"]

#: The description of an adjustment delivered service (funds used before the contract).
ADJUSTMENT_DESCRIPTION: Final = "PACE budget adjustment"


def _budget_for_used(budgets: Sequence[CategoryBudget], key: str) -> CategoryBudget:
    category, _, management = key.partition(":")
    if category.isdigit() and len(category) == 1:
        category = "0" + category
    hits = [
        b
        for b in budgets
        if b.category == category and (not management or b.management == management)
    ]
    if len(hits) != 1:
        found = ", ".join(b.key for b in hits) or "none"
        raise InputError(
            f"used funds for {key!r} need exactly one budget of the plan to go to, found: "
            f"{found}; name it as '<category>:<management>'",
            loc=("used_by_category", key),
        )
    return hits[0]


def new_contract_from_plan(
    plan: PacePlan,
    contract_id: str,
    used_by_category: Mapping[str, Money] = {},
    *,
    on: date | None = None,
    accept: Iterable[str] = (),
) -> Contract:
    """A new contract (version 0) holding the plan's budgets, linked to the plan.

    Funds already used (e.g. by a previous plan manager) are given per category (``"01"``, or
    ``"01:plan"`` when the category has budgets under several management types) and become one
    **adjustment** delivered service per budget: no item number, description
    ``"PACE budget adjustment"``, ``adjustment=True``, dated ``on`` (clamped into the budget's
    dates; default: the budget's start). Self- and agency-managed budgets are kept; they are
    excluded from :func:`allocation_total`.

    Raises:
        UnacceptedConflicts: ``PLAN_PERIODS_INVALID`` or ``TOTAL_BELOW_DELIVERED`` (used more
            than the total) not in ``accept``.
        InputError: a ``used_by_category`` key matches no budget or several.

    Examples:
        >>> from ndis_rules.merge import allocation_total, remaining
        >>> plan = PacePlan.model_validate({"plan_id": "P2", "ndis_number": "430000001",
        ...     "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": "1500.00",
        ...     "budgets": [{"category": "01", "management": "plan", "total": "1000.00"},
        ...                 {"category": "15", "management": "self", "total": "500.00"}]})
        >>> c = new_contract_from_plan(plan, "C2", {"01": Money.parse("250.00")})
        >>> d = c.delivered[0]
        >>> d.description, d.adjustment, d.item, str(d.amount), str(remaining(c, c.budgets[0]))
        ('PACE budget adjustment', True, None, '250.00', '750.00')
        >>> str(allocation_total(c))
        '1000.00'
    """
    conflicts: list[Conflict] = []
    for p in plan.budgets:
        conflicts.extend(plan_period_conflicts(p))
    refs: set[str] = set()
    budgets: list[CategoryBudget] = []
    for p in plan.budgets:
        b = _new_budget(p, refs)
        refs.add(b.ref)
        budgets.append(b)
    delivered: list[DeliveredService] = []
    for key in sorted(used_by_category):
        used = used_by_category[key]
        if not isinstance(used, Money):
            raise InputError(f"used funds must be Money, got {type(used).__name__}", loc=(key,))
        b = _budget_for_used(budgets, key)
        if used.cents == 0:
            continue
        start = b.start or plan.start
        end = b.end_inclusive or plan.end_inclusive
        day = min(max(on, start), end) if on is not None else start
        if used > b.total:
            conflicts.append(
                Conflict(
                    code="TOTAL_BELOW_DELIVERED",
                    subject=b.key,
                    message=f"{used} already used of {b.key} is above its total {b.total}",
                    facts={"budget": b.key, "new_total": _m(b.total), "delivered": _m(used)},
                )
            )
        period = (
            next((p.id for p in b.funding.periods if p.start <= day <= p.end_inclusive), None)
            if b.funding
            else None
        )
        delivered.append(
            DeliveredService.model_validate(
                {
                    "id": f"ADJ-{b.category}-{b.management}",
                    "category": b.category,
                    "management": b.management,
                    "from": day,
                    "to": day,
                    "amount": used,
                    "period_id": period,
                    "adjustment": True,
                    "description": ADJUSTMENT_DESCRIPTION,
                }
            )
        )
    accepted = set(accept)
    unresolved = [c for c in conflicts if c.code not in accepted and c.id not in accepted]
    if unresolved:
        raise UnacceptedConflicts(unresolved)
    return Contract(
        id=contract_id,
        participant=plan.ndis_number,
        plan_id=plan.plan_id,
        pace=True,
        start=plan.start,
        end_inclusive=plan.end_inclusive,
        total=plan.total,
        budgets=tuple(budgets),
        delivered=tuple(delivered),
    )
