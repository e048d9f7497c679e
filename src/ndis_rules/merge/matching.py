"""Matching PACE budgets to local ones, and taking PACE's fields over.

A PACE budget pairs with a local one, in order:

1. by PACE budget id, once the local budget is linked to one (the link is kept);
2. else by category + management type, with a local budget that is not linked yet, or whose link
   is *stale* (its PACE budget id is no longer in the plan: a category PACE dropped and later
   re-added under a new budget id re-links to its old budget instead of becoming a second
   budget of the same key);
3. else, for what is left of a category, by category alone when exactly one PACE budget and one
   unlinked (or stale-linked) local budget remain: a management type change on a budget that is
   not linked yet changes that budget (keeping its delivered services and local data) instead of
   ending it and adding another. A booked budget then gets ``BOOKING_LOCKS_MANAGEMENT``.

When several could pair up the group is ambiguous (the conflict ``AMBIGUOUS_MATCH``), never a
guess. Only PACE's fields are synced (total, own dates,
management type, budget type, stated items only, funding component, the PACE budget id);
local-only data is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..models import CategoryBudget, Contract
from ..pace import PaceBudget, PacePlan
from .changes import FieldChange, _text
from .funding import _component, _normal

__all__: list[str] = []


def _match(
    contract: Contract, plan: PacePlan
) -> tuple[dict[int, int], list[tuple[str, list[int], list[int]]]]:
    """Pair PACE budgets (by index) with local budgets (by index). Returns the pairs and the
    ambiguous groups ``(key, pace indexes, local indexes)``; unpaired PACE budgets are new and
    unpaired local ones are gone from PACE."""
    local = contract.budgets
    pace = plan.budgets
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    ambiguous: list[tuple[str, list[int], list[int]]] = []
    blocked_pace: set[int] = set()
    # 1. linked budgets: same PACE budget id (and category)
    by_id: dict[str, list[int]] = {}
    for i, p in enumerate(pace):
        if p.pace_budget_id:
            by_id.setdefault(p.pace_budget_id, []).append(i)
    for pid, pis in by_id.items():
        lis = [
            j
            for j, b in enumerate(local)
            if b.pace_budget_id == pid and b.category == pace[pis[0]].category
        ]
        if not lis:
            continue
        if len(pis) == 1 and len(lis) == 1:
            pairs[pis[0]] = lis[0]
            taken.add(lis[0])
        else:
            ambiguous.append((f"{pace[pis[0]].category}:id={pid}", pis, lis))
            blocked_pace.update(pis)
            taken.update(lis)

    # 2. the rest by category + management type; a local budget linked to a PACE budget id that
    # is no longer in the plan (a stale link) may re-link
    plan_ids = {p.pace_budget_id for p in pace if p.pace_budget_id}

    def relinkable(b: CategoryBudget) -> bool:
        return b.pace_budget_id is None or b.pace_budget_id not in plan_ids

    def candidates(i: int) -> list[int]:
        p = pace[i]
        return [
            j
            for j, b in enumerate(local)
            if j not in taken
            and b.key == p.key
            and (p.pace_budget_id is None or relinkable(b))
        ]

    rest = [i for i in range(len(pace)) if i not in pairs and i not in blocked_pace]
    cands = {i: candidates(i) for i in rest}
    keys = sorted({pace[i].key for i in rest})
    for key in keys:
        pis = [i for i in rest if pace[i].key == key]
        lis = sorted({j for i in pis for j in cands[i]})
        if not lis:
            continue
        if len(pis) == 1 and len(lis) == 1:
            pairs[pis[0]] = lis[0]
            taken.add(lis[0])
            continue
        # several PACE budgets or several local ones could pair up: never guess
        involved = [i for i in pis if cands[i]]
        ambiguous.append((key, involved, lis))
        blocked_pace.update(involved)
        taken.update(lis)

    # 3. what is left of a category, one on each side: a management type change
    left_pace = [i for i in range(len(pace)) if i not in pairs and i not in blocked_pace]
    for category in sorted({pace[i].category for i in left_pace}):
        pis = [i for i in left_pace if pace[i].category == category]
        lis = [
            j
            for j, b in enumerate(local)
            if j not in taken and b.category == category and relinkable(b)
        ]
        if len(pis) == 1 and len(lis) == 1:
            pairs[pis[0]] = lis[0]
            taken.add(lis[0])
    return pairs, ambiguous


def _pace_names(plan: PacePlan, indexes: Sequence[int]) -> str:
    return ", ".join(
        f"{plan.budgets[i].key}"
        + (f" ({plan.budgets[i].pace_budget_id})" if plan.budgets[i].pace_budget_id else "")
        for i in indexes
    )


def _local_names(contract: Contract, indexes: Sequence[int]) -> str:
    return ", ".join(contract.budgets[j].ref for j in indexes)


def _synced(local: CategoryBudget, p: PaceBudget) -> CategoryBudget:
    """The local budget with PACE's fields taken over (local-only fields kept)."""
    funding = _component(p.funding)
    if _normal(local.funding) == _normal(funding):
        funding = local.funding
    data = local.model_dump()
    data.update(
        management=p.management,
        budget_type=p.budget_type,
        stated_items_only=p.stated_items_only,
        total=p.total,
        start=p.start,
        end_inclusive=p.end_inclusive,
        funding=funding,
        pace_budget_id=p.pace_budget_id or local.pace_budget_id,
    )
    return CategoryBudget.model_validate(data)


_SYNCED_FIELDS: Final = (
    "id",
    "total",
    "start",
    "end_inclusive",
    "management",
    "budget_type",
    "stated_items_only",
    "pace_budget_id",
)


def _field_changes(old: CategoryBudget, new: CategoryBudget) -> list[FieldChange]:
    return [
        FieldChange(field=f, old=_text(getattr(old, f)), new=_text(getattr(new, f)))
        for f in _SYNCED_FIELDS
        if getattr(old, f) != getattr(new, f)
    ]


def _unique_ref(base: str, taken: set[str]) -> str:
    ref, n = base, 2
    while ref in taken:
        ref = f"{base}:{n}"
        n += 1
    return ref


def _new_budget(p: PaceBudget, taken_refs: set[str]) -> CategoryBudget:
    budget_id = (
        None
        if p.key not in taken_refs
        else _unique_ref(f"{p.key}:{p.pace_budget_id or 'pace'}", taken_refs)
    )
    return CategoryBudget(
        id=budget_id,
        category=p.category,
        management=p.management,
        budget_type=p.budget_type,
        stated_items_only=p.stated_items_only,
        total=p.total,
        start=p.start,
        end_inclusive=p.end_inclusive,
        funding=_component(p.funding),
        pace_budget_id=p.pace_budget_id,
    )
