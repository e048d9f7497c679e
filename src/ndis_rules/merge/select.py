"""Choosing the PACE plan to sync: by id, else the plan covering a date, else the only one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..errors import PlanSelectionError
from ..pace import PacePlan

__all__ = ["PlanSelectionError", "select_plan"]


def _describe_plan(p: PacePlan) -> str:
    return f"{p.plan_id} {p.start}..{p.end_inclusive} {p.status or '-'}"


def select_plan(
    plans: Sequence[PacePlan], *, plan_id: str | None = None, on: date | None = None
) -> PacePlan:
    """The one plan to sync: the plan with ``plan_id``, else the plan whose dates cover ``on``
    (the current plan), else the only plan. None or several is a :class:`PlanSelectionError`
    listing the candidates.

    Examples:
        >>> p = [PacePlan.model_validate({"plan_id": i, "ndis_number": "430000001",
        ...       "start": s, "end_inclusive": e, "total": "0"})
        ...      for i, s, e in (("A", "2024-07-01", "2025-06-30"), ("B", "2025-07-01",
        ...                      "2026-06-30"))]
        >>> select_plan(p, on=date(2025, 8, 1)).plan_id
        'B'
        >>> try:
        ...     select_plan(p)
        ... except PlanSelectionError as exc:
        ...     print(exc.candidates)
        ('A 2024-07-01..2025-06-30 -', 'B 2025-07-01..2026-06-30 -')
    """
    if plan_id is not None:
        hits = [p for p in plans if p.plan_id == plan_id]
        what = f"plan id {plan_id}"
    elif on is not None:
        hits = [p for p in plans if p.covers(on)]
        what = f"a plan covering {on}"
    else:
        hits = list(plans)
        what = "a plan"
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise PlanSelectionError(f"no plan matches {what}", [_describe_plan(p) for p in plans])
    raise PlanSelectionError(
        f"{len(hits)} plans match, pick one by id or date", [_describe_plan(p) for p in hits]
    )
