"""Previewing a sync: the :class:`~ndis_rules.merge.changes.ChangeSet` that syncing a PACE plan
into a contract would make, as of *today* (re-exported as :func:`ndis_rules.merge.preview`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..errors import SyncMismatchError
from ..models import CategoryBudget, Contract
from ..money import Money
from ..pace import PacePlan
from ..periods import checked_day
from .changes import BudgetChange, BudgetKind, ChangeSet, Conflict, FieldChange, PlanFields, _text
from .conflicts import (
    _budget_conflicts,
    _collisions,
    _ids,
    _m,
    _outside,
    _pace_period_conflicts_if_changed,
)
from .funding import _normal, _period_changes
from .matching import (
    _SYNCED_FIELDS,
    _field_changes,
    _local_names,
    _match,
    _new_budget,
    _pace_names,
    _synced,
    _unique_ref,
)
from .totals import _active, _delivered_of

__all__ = ["SyncMismatchError", "preview"]


def preview(contract: Contract, plan: PacePlan, today: date) -> ChangeSet:
    """The change set that syncing ``plan`` into ``contract`` would make, as of ``today``.

    * A plan with another id than the contract's ``plan_id`` is a reassessment: the change set
      has ``new_plan=True`` and the single conflict ``NEW_PLAN``, and lists no changes.
    * Plan fields (plan id and participant where the contract has none yet, start,
      end_inclusive, total) are taken from the plan.
    * Each PACE budget is matched to a local one (see the module docs); a matched budget is
      ``changed`` when any synced field or funding period differs, else ``unchanged``; an
      unmatched PACE budget is ``added``; a local budget gone from PACE is ``ended`` (its end
      date becomes ``today``; a budget not started by ``today`` is removed), or ``unchanged`` when
      it has already ended by ``today``.
    * Conflicts are raised only for what the sync would change, so a resynced contract has none.

    Raises:
        SyncMismatchError: the plan is another participant's.
    """
    today = checked_day(today, "today")
    base: dict[str, Any] = {
        "contract_id": contract.id,
        "contract_version": contract.version,
        "plan_id": plan.plan_id,
        "plan_status": plan.status,
        "today": today,
    }
    if contract.participant is not None and contract.participant != plan.ndis_number:
        raise SyncMismatchError(
            f"plan {plan.plan_id} is participant {plan.ndis_number}'s, contract {contract.id} is "
            f"participant {contract.participant}'s"
        )
    if contract.plan_id is not None and contract.plan_id != plan.plan_id:
        return ChangeSet(
            **base,
            new_plan=True,
            conflicts=(
                Conflict(
                    code="NEW_PLAN",
                    subject=plan.plan_id,
                    message=f"plan {plan.plan_id} ({plan.start}..{plan.end_inclusive}) is a new "
                    f"plan, not contract {contract.id}'s plan {contract.plan_id}: a reassessment "
                    "is never merged; create a new contract from it",
                    facts={
                        "contract_plan_id": contract.plan_id,
                        "plan_id": plan.plan_id,
                        "plan_start": str(plan.start),
                        "plan_end_inclusive": str(plan.end_inclusive),
                    },
                ),
            ),
        )
    fields = PlanFields(
        plan_id=plan.plan_id,
        participant=plan.ndis_number,
        start=plan.start,
        end_inclusive=plan.end_inclusive,
        total=plan.total,
    )
    plan_changes = [
        FieldChange(field=name, old=_text(old), new=_text(new))
        for name, old, new in (
            ("plan_id", contract.plan_id, plan.plan_id),
            ("participant", contract.participant, plan.ndis_number),
            ("start", contract.start, plan.start),
            ("end_inclusive", contract.end_inclusive, plan.end_inclusive),
            ("total", contract.total, plan.total),
        )
        if old != new
    ]
    conflicts: list[Conflict] = []
    if (contract.start, contract.end_inclusive) != (plan.start, plan.end_inclusive):
        out_ds = _outside(_active(contract), plan.start, plan.end_inclusive)
        if out_ds:
            conflicts.append(
                Conflict(
                    code="DELIVERED_OUTSIDE_DATES",
                    subject="plan",
                    message=f"the new plan dates {plan.start}..{plan.end_inclusive} leave "
                    f"{len(out_ds)} delivered service(s) outside: {_ids(out_ds)}",
                    facts={
                        "new_start": str(plan.start),
                        "new_end_inclusive": str(plan.end_inclusive),
                        "delivered": _ids(out_ds),
                    },
                )
            )

    pairs, ambiguous = _match(contract, plan)
    blocked_local = {j for _, _, lis in ambiguous for j in lis}
    blocked_pace = {i for _, pis, _ in ambiguous for i in pis}
    for key, pis, lis in ambiguous:
        conflicts.append(
            Conflict(
                code="AMBIGUOUS_MATCH",
                subject=key,
                message=f"PACE budget(s) {_pace_names(plan, pis)} could match local budget(s) "
                f"{_local_names(contract, lis)}: link them by PACE budget id, or accept to "
                "leave them untouched in this sync",
                facts={
                    "key": key,
                    "pace_budgets": _pace_names(plan, pis),
                    "local_budgets": _local_names(contract, lis),
                },
            )
        )

    changes: list[BudgetChange] = []
    synced = {i: _synced(contract.budgets[j], plan.budgets[i]) for i, j in pairs.items()}
    moved = {j for i, j in pairs.items() if synced[i].ref != contract.budgets[j].ref}
    # refs stay unique: a budget whose ref moves (no id, management changed) or a new budget
    # gets an id when its key is already some other budget's ref
    taken = {b.ref for j, b in enumerate(contract.budgets) if j not in moved}
    for i, p in enumerate(plan.budgets):
        if i in blocked_pace:
            continue
        conflicts.extend(_pace_period_conflicts_if_changed(contract, p, pairs.get(i)))
        if i in pairs:
            old = contract.budgets[pairs[i]]
            new = synced[i]
            if new.ref != old.ref:
                if new.ref in taken:
                    new = new.model_copy(
                        update={"id": _unique_ref(f"{new.key}:{p.pace_budget_id or 'pace'}", taken)}
                    )
                taken.add(new.ref)
            ffields = _field_changes(old, new)
            fund_fields, pchanges = _period_changes(_normal(old.funding), _normal(new.funding))
            kind: BudgetKind = "changed" if ffields or fund_fields or pchanges else "unchanged"
            delivered = _delivered_of(contract, old.category, old.management, old.ref)
            if kind == "changed":
                conflicts.extend(
                    _budget_conflicts(contract, old.key, old, new, delivered, pchanges)
                )
            changes.append(
                BudgetChange(
                    key=old.key,
                    kind=kind,
                    ref=old.ref,
                    pace_budget_id=p.pace_budget_id,
                    fields=tuple(ffields + fund_fields),
                    periods=tuple(pchanges),
                    result=new if kind == "changed" else None,
                )
            )
        else:
            new = _new_budget(p, taken)
            taken.add(new.ref)
            fund_fields, pchanges = _period_changes(None, new.funding)
            orphans = (
                _delivered_of(contract, p.category, p.management, None)
                if contract.budget(p.category, p.management) is None
                else []
            )
            conflicts.extend(_budget_conflicts(contract, p.key, None, new, orphans, ()))
            changes.append(
                BudgetChange(
                    key=p.key,
                    kind="added",
                    pace_budget_id=p.pace_budget_id,
                    fields=tuple(
                        FieldChange(field=f, old=None, new=_text(getattr(new, f)))
                        for f in _SYNCED_FIELDS
                        if getattr(new, f) is not None
                    )
                    + tuple(fund_fields),
                    periods=tuple(pchanges),
                    result=new,
                )
            )
    matched_local = set(pairs.values())
    for j, b in enumerate(contract.budgets):
        if j in matched_local or j in blocked_local:
            continue
        change, more = _end_budget(contract, b, fields, today)
        changes.append(change)
        conflicts.extend(more)
    conflicts.extend(_collisions(contract, changes))
    return ChangeSet(
        **base,
        plan=fields,
        plan_changes=tuple(plan_changes),
        budgets=tuple(changes),
        conflicts=tuple(conflicts),
    )


def _end_budget(
    contract: Contract, b: CategoryBudget, plan: PlanFields, today: date
) -> tuple[BudgetChange, list[Conflict]]:
    """A local budget gone from PACE: ended by ``today`` (removed when not yet started). A
    budget without its own dates follows the contract's, which become the plan's."""
    start = b.start or plan.start
    end = b.end_inclusive or plan.end_inclusive
    if end <= today:
        return BudgetChange(key=b.key, kind="unchanged", ref=b.ref), []
    delivered = _delivered_of(contract, b.category, b.management, b.ref)
    if start > today:
        result = None
        fields = [FieldChange(field="budget", old=b.ref, new=None)]
        left = delivered
        how = "removed (it had not started)"
    else:
        result = b.model_copy(update={"start": start, "end_inclusive": today})
        fields = _field_changes(b, result)
        left = _outside(delivered, start, today)
        how = f"ended on {today}"
    conflicts = []
    if left:
        conflicts.append(
            Conflict(
                code="DELIVERED_OUTSIDE_DATES",
                subject=b.key,
                message=f"{b.key} is gone from PACE and would be {how}, leaving {len(left)} "
                f"delivered service(s) outside its dates: {_ids(left)}",
                facts={
                    "budget": b.key,
                    "new_end_inclusive": "removed" if result is None else str(today),
                    "delivered": _ids(left),
                    "amount": _m(Money(sum(d.amount.cents for d in left))),
                },
            )
        )
    return (
        BudgetChange(
            key=b.key,
            kind="ended",
            ref=b.ref,
            pace_budget_id=b.pace_budget_id,
            fields=tuple(fields),
            result=result,
        ),
        conflicts,
    )
