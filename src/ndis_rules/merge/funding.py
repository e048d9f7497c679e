"""Funding components in a sync: PACE's component as a contract one, and the field and funding
period changes between two components (periods compared by id)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ..models import FundingComponent, FundingPeriod
from ..pace import PaceFundingComponent
from .changes import FieldChange, PeriodChange, _text

__all__: list[str] = []


def _sorted_periods(periods: Iterable[FundingPeriod]) -> tuple[FundingPeriod, ...]:
    return tuple(sorted(periods, key=lambda p: (p.start, p.end_inclusive, p.id)))


def _component(f: PaceFundingComponent | None) -> FundingComponent | None:
    """PACE's funding component as a contract one (None when it has no periods yet)."""
    if f is None or not f.periods:
        return None
    periods = _sorted_periods(
        FundingPeriod(
            id=p.funding_period_id,
            start=p.start,
            end_inclusive=p.end_inclusive,
            amount=p.amount,
            released=p.released,
        )
        for p in f.periods
    )
    return FundingComponent(
        id=f.id, amount=f.amount, instalment_months=f.instalment_months, periods=periods
    )


def _normal(f: FundingComponent | None) -> FundingComponent | None:
    if f is None:
        return None
    return f.model_copy(update={"periods": _sorted_periods(f.periods)})


def _period_changes(
    old: FundingComponent | None, new: FundingComponent | None
) -> tuple[list[FieldChange], list[PeriodChange]]:
    fields: list[FieldChange] = []
    for name in ("id", "amount", "instalment_months"):
        a = getattr(old, name) if old else None
        b = getattr(new, name) if new else None
        if a != b:
            fields.append(FieldChange(field=f"funding.{name}", old=_text(a), new=_text(b)))
    olds = {p.id: p for p in (old.periods if old else ())}
    news = {p.id: p for p in (new.periods if new else ())}
    changes: list[PeriodChange] = []
    for pid, p in olds.items():
        if pid not in news:
            changes.append(PeriodChange(period_id=pid, change="removed", old=p))
        elif news[pid] != p:
            changes.append(PeriodChange(period_id=pid, change="changed", old=p, new=news[pid]))
    changes.extend(
        PeriodChange(period_id=pid, change="added", new=p)
        for pid, p in news.items()
        if pid not in olds
    )
    changes.sort(key=_period_change_order)
    return fields, changes


def _period_change_order(c: PeriodChange) -> tuple[date, str]:
    p = c.new or c.old
    return (p.start if p else date.min, c.period_id)
