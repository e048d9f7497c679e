"""Applying a change set: a **new** contract (the old one is never mutated), refusing a change
set built for another contract or version, a ``NEW_PLAN`` one, and any conflict not accepted
(re-exported as :func:`ndis_rules.merge.apply`)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from ..errors import InputError, NewPlanNotMerged, StaleChangeSet, input_error_from
from ..models import CategoryBudget, Contract, ManagementType
from .changes import CONFLICT_CODES, ChangeSet
from .conflicts import ApplyRefused, UnacceptedConflicts
from .totals import _delivered_of

__all__ = ["NewPlanNotMerged", "StaleChangeSet", "apply"]


def _accepted(change_set: ChangeSet, accept: Iterable[str]) -> set[str]:
    accepted = set(accept)
    ids = {c.id for c in change_set.conflicts}
    unknown = sorted(a for a in accepted if a not in CONFLICT_CODES and a not in ids)
    if unknown:
        raise InputError(
            f"accept= names no conflict code or conflict id of this change set: "
            f"{', '.join(unknown)} (codes: {', '.join(CONFLICT_CODES)})",
            loc=("accept",),
        )
    return accepted


def apply(contract: Contract, change_set: ChangeSet, *, accept: Iterable[str] = ()) -> Contract:
    """A **new** contract with the change set applied; ``contract`` is not mutated.

    ``accept`` names conflict codes (``"TOTAL_BELOW_DELIVERED"``: all of that code) or conflict
    ids (``"TOTAL_BELOW_DELIVERED:01:plan"``: just that one). An accepted ``AMBIGUOUS_MATCH``
    leaves those budgets untouched; an accepted ``SPCB_REALIGN_NEEDED`` clears the SPCB's
    distribution; an accepted ``MANAGEMENT_CHANGE_HAS_DELIVERED`` moves those delivered services
    to the budget's new management type; the other accepted conflicts let PACE's figures in as
    they are. The new contract's version is one more than the old one's; an empty change set
    returns ``contract`` itself.

    Raises:
        StaleChangeSet: the change set was built for another contract or version.
        NewPlanNotMerged: the change set is a ``NEW_PLAN``.
        UnacceptedConflicts: a conflict was not accepted.
        InputError: ``accept`` names something that is neither a code nor a conflict id here.
    """
    if change_set.contract_id != contract.id or change_set.contract_version != contract.version:
        raise StaleChangeSet(
            f"the change set was built for contract {change_set.contract_id} version "
            f"{change_set.contract_version}, not contract {contract.id} version "
            f"{contract.version}: preview again"
        )
    if change_set.new_plan:
        raise NewPlanNotMerged(
            f"plan {change_set.plan_id} is a new plan (reassessment), never merged into contract "
            f"{contract.id} (plan {contract.plan_id}): create a new contract from it"
        )
    accepted = _accepted(change_set, accept)
    unresolved = [
        c for c in change_set.conflicts if c.code not in accepted and c.id not in accepted
    ]
    if unresolved:
        raise UnacceptedConflicts(unresolved)
    if not change_set.has_changes:
        return contract
    by_ref = {c.ref: c for c in change_set.budgets if c.ref is not None and c.kind != "unchanged"}
    budgets: list[CategoryBudget] = []
    for b in contract.budgets:
        change = by_ref.get(b.ref)
        if change is None:
            budgets.append(b)
        elif change.result is not None:
            budgets.append(change.result)
    budgets.extend(c.result for c in change_set.budgets if c.kind == "added" and c.result)
    realign = {
        c.subject for c in change_set.conflicts if c.code == "SPCB_REALIGN_NEEDED"
    }  # every one of them was accepted by now
    spcbs = tuple(
        s.model_copy(update={"distribution": ()}) if s.id in realign else s
        for s in contract.provider_budgets
    )
    moved: dict[str, ManagementType] = {}  # delivered service id -> its budget's new type
    for c in change_set.conflicts:
        if c.code != "MANAGEMENT_CHANGE_HAS_DELIVERED":  # (accepted by now)
            continue
        for change in change_set.budgets:
            old = next((b for b in contract.budgets if b.ref == change.ref), None)
            if change.key != c.subject or change.result is None or old is None:
                continue
            for d in _delivered_of(contract, old.category, old.management, old.ref):
                moved[d.id] = change.result.management
    delivered = tuple(
        d.model_copy(update={"management": moved[d.id]}) if d.id in moved else d
        for d in contract.delivered
    )
    plan = change_set.plan
    data = contract.model_dump(by_alias=True)
    data.update(
        budgets=[b.model_dump() for b in budgets],
        provider_budgets=[s.model_dump() for s in spcbs],
        delivered=[d.model_dump(by_alias=True) for d in delivered],
        version=contract.version + 1,
    )
    if plan is not None:
        data.update(
            plan_id=plan.plan_id,
            participant=plan.participant,
            start=plan.start,
            end_inclusive=plan.end_inclusive,
            total=plan.total,
        )
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        err = input_error_from(exc, source=f"contract {contract.id} after sync")
        raise ApplyRefused(str(err)) from exc
