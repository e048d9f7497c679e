"""The sync shell: reads the ports once, calls the pure core (:mod:`ndis_rules.merge`).

* :func:`sync_preview` reads the contract from the repository and the participant's plans from
  the PACE source, selects the plan (by id, else the plan covering ``today``) and returns the
  change set. It writes nothing, so a failed fetch (``SourceError``) leaves the store unchanged.
* :func:`sync_apply` reads the contract the change set was built for, applies it and saves the
  result with optimistic versioning in one write. A refused apply (stale change set, unaccepted
  conflicts, ``NEW_PLAN``) raises before anything is written; a concurrent write in between
  raises ``StaleContractError`` from the store and nothing is written either.

Examples:
    >>> from ndis_rules.adapters.memory_store import InMemoryContractRepository
    >>> from ndis_rules.adapters.pace_memory import InMemoryPaceSource
    >>> from ndis_rules.pace import PacePlan
    >>> repo, source = InMemoryContractRepository(), InMemoryPaceSource()
    >>> who = ParticipantRef(ndis_number="430000001", last_name="Citizen",
    ...                      date_of_birth=date(1990, 1, 31))
    >>> source.add_participant(who, [PacePlan.model_validate({"plan_id": "P1",
    ...     "ndis_number": "430000001", "start": "2025-07-01", "end_inclusive": "2026-06-30",
    ...     "total": "500.00",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "500.00"}]})])
    >>> _ = repo.save(Contract.model_validate({"id": "C1", "plan_id": "P1",
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "400.00"}]}), None)
    >>> cs = sync_preview(repo, source, who, "C1", today=date(2025, 8, 1))
    >>> cs.changed
    ['01:plan']
    >>> saved = sync_apply(repo, cs)
    >>> str(saved.budgets[0].total), saved.version
    ('500.00', 1)
    >>> sync_preview(repo, source, who, "C1", today=date(2025, 8, 1)).is_empty
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ..merge import ChangeSet, apply, preview, select_plan
from ..models import Contract
from ..pace import ParticipantRef
from ..ports import ContractRepository, PacePlanSource

__all__ = ["sync_apply", "sync_preview"]


def sync_preview(
    repo: ContractRepository,
    source: PacePlanSource,
    participant: ParticipantRef,
    contract_id: str,
    *,
    today: date,
    plan_id: str | None = None,
) -> ChangeSet:
    """Preview syncing the participant's PACE plan into contract ``contract_id``.

    The plan is the one with ``plan_id`` when given, else the one covering ``today``.

    Raises:
        ContractNotFound: no such contract (checked before PACE is called).
        SourceError: the fetch failed (timeout, refused, not authorised, malformed payload,
            participant not found).
        PlanSelectionError: no plan, or several, match.
        SyncMismatchError: the plan is another participant's.
    """
    contract = repo.get(contract_id)
    plans = source.plans_for(participant)
    plan = select_plan(plans, plan_id=plan_id, on=None if plan_id is not None else today)
    return preview(contract, plan, today)


def sync_apply(
    repo: ContractRepository, change_set: ChangeSet, *, accept: Iterable[str] = ()
) -> Contract:
    """Apply a previewed change set to the stored contract and save it; returns the contract
    as stored. An empty change set writes nothing and returns the stored contract.

    Raises:
        ApplyRefused: stale change set, ``NEW_PLAN`` or unaccepted conflicts (nothing written).
        StaleContractError: the contract changed between reading and writing (nothing written).
        StoreError: the store failed (nothing written).
    """
    contract = repo.get(change_set.contract_id)
    new = apply(contract, change_set, accept=accept)
    if new is contract:
        return contract
    return repo.save(new, expected_version=contract.version)
