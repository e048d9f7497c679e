"""Merging a PACE plan into a local service contract: select, preview, apply (spec/sync.md).

Pure functions, no I/O, no clock: *today* is a parameter.

* :func:`select_plan` picks the plan to sync (by id, or the plan covering a date).
* :func:`preview` compares a contract with a plan and returns a :class:`ChangeSet`: plan field
  changes, per category budget ``added`` / ``changed`` / ``ended`` / ``unchanged`` (old -> new per
  field and per funding period) and the **conflicts** found. It is data: serialisable to JSON
  and printable (:meth:`ChangeSet.summary`).
* :func:`apply` turns a contract and a change set into a **new** contract (the old one is never
  mutated). It refuses a change set built for another contract or version, a ``NEW_PLAN`` change
  set (a reassessment is never merged) and any conflict the caller did not accept.
* :func:`new_contract_from_plan` creates a contract from a plan, with one adjustment delivered
  service per category for funds already used.
* :func:`remaining` (total - delivered, always computed) and :func:`allocation_total`
  (plan-managed budgets only: self- and agency-managed ones are kept and shown, but excluded).

Matching a PACE budget to a local one is by category + management type, and by PACE budget id
once the local budget is linked to one; an ambiguous match is the conflict ``AMBIGUOUS_MATCH``,
never a guess. Only PACE's fields are synced (total, own dates, management type, budget type,
stated items only, funding component, the PACE budget id); local-only data (support item
budgets, SPCBs, delivered services, notes, ``requires_booking``, budget ids) is left as it is,
except that an accepted ``SPCB_REALIGN_NEEDED`` clears the SPCB's distribution over the periods.

Where each part lives (every public name is re-exported here; import from ``ndis_rules.merge``):
:mod:`.select` (choosing the plan), :mod:`.changes` (the change set types and conflict codes),
:mod:`.matching` (pairing PACE budgets with local ones), :mod:`.funding` (funding components and
period changes), :mod:`.conflicts` (conflict detection, :class:`UnacceptedConflicts`),
:mod:`.totals` (remaining, allocation), :mod:`.previewing` (:func:`preview`), :mod:`.applying`
(:func:`apply`) and :mod:`.new_contract` (:func:`new_contract_from_plan`).

Examples:
    >>> from datetime import date
    >>> from ndis_rules.models import Contract
    >>> from ndis_rules.pace import PacePlan
    >>> c = Contract.model_validate({"id": "C1", "plan_id": "P1", "start": "2025-07-01",
    ...     "end_inclusive": "2026-06-30", "total": "1000.00", "budgets": [
    ...       {"category": "01", "management": "plan", "total": "1000.00"}],
    ...     "delivered": [{"id": "D1", "category": "01", "management": "plan",
    ...       "from": "2025-07-02", "to": "2025-07-02", "amount": "900.00"}]})
    >>> plan = PacePlan.model_validate({"plan_id": "P1", "ndis_number": "430000001",
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": "800.00",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "800.00"}]})
    >>> cs = preview(c, plan, date(2025, 8, 1))
    >>> cs.changed, [k.code for k in cs.conflicts]
    (['01:plan'], ['TOTAL_BELOW_DELIVERED'])
    >>> try:
    ...     apply(c, cs)
    ... except UnacceptedConflicts as exc:
    ...     print([k.id for k in exc.conflicts])
    ['TOTAL_BELOW_DELIVERED:01:plan']
    >>> new = apply(c, cs, accept=["TOTAL_BELOW_DELIVERED"])
    >>> str(remaining(new, new.budgets[0])), new.version, c.version
    ('-100.00', 1, 0)
    >>> preview(new, plan, date(2025, 8, 1)).is_empty
    True
"""

from __future__ import annotations

from .applying import NewPlanNotMerged, StaleChangeSet, apply
from .changes import (
    ACCEPTABLE_CODES,
    CONFLICT_CODES,
    BudgetChange,
    ChangeSet,
    Conflict,
    ConflictCode,
    FieldChange,
    PeriodChange,
    PlanFields,
)
from .conflicts import ApplyRefused, UnacceptedConflicts, plan_period_conflicts
from .new_contract import ADJUSTMENT_DESCRIPTION, new_contract_from_plan
from .previewing import SyncMismatchError, preview
from .select import PlanSelectionError, select_plan
from .totals import allocation_total, delivered_total, excluded_from_allocation, remaining

__all__ = [
    "ACCEPTABLE_CODES",
    "ADJUSTMENT_DESCRIPTION",
    "CONFLICT_CODES",
    "ApplyRefused",
    "BudgetChange",
    "ChangeSet",
    "Conflict",
    "ConflictCode",
    "FieldChange",
    "NewPlanNotMerged",
    "PeriodChange",
    "PlanFields",
    "PlanSelectionError",
    "StaleChangeSet",
    "SyncMismatchError",
    "UnacceptedConflicts",
    "allocation_total",
    "apply",
    "delivered_total",
    "excluded_from_allocation",
    "new_contract_from_plan",
    "plan_period_conflicts",
    "preview",
    "remaining",
    "select_plan",
]
