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

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from pydantic import BaseModel, ConfigDict

from ..errors import (
    NdisRulesError,
    SourceError,
    SourceRefused,
    SourceTimeout,
    StaleContractError,
    StoreError,
)
from ..merge import (
    ApplyRefused,
    ChangeSet,
    PlanSelectionError,
    SyncMismatchError,
    apply,
    preview,
    select_plan,
)
from ..models import Contract
from ..pace import PacePlan, ParticipantRef
from ..ports import ContractRepository, PacePlanSource
from .batch import Outcome, Progress, Totals, check_retries, distinct, run_batch

__all__ = [
    "REVIEWED_FORMAT",
    "BatchOutcome",
    "BatchProgress",
    "BatchReport",
    "BatchResult",
    "ReviewedChangeSet",
    "change_set_digest",
    "plan_digest",
    "reviewed_change_set",
    "sync_apply",
    "sync_batch",
    "sync_preview",
]


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


# -- a reviewed change set, kept in a file between preview and apply ---------------------------

#: The ``format`` of a saved change set file.
REVIEWED_FORMAT = "ndis-rules reviewed change set 1"


def _sha256(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_digest(plan: PacePlan) -> str:
    """The SHA-256 (hex) of the PACE plan as read (its canonical JSON): two reads of an
    unchanged plan give the same digest; any change PACE makes gives another."""
    return _sha256(plan.model_dump(mode="json", by_alias=True))


def change_set_digest(change_set: ChangeSet) -> str:
    """The SHA-256 (hex) of the change set's canonical JSON."""
    return _sha256(change_set.model_dump(mode="json"))


class ReviewedChangeSet(BaseModel):
    """A previewed change set as it was shown to a person (``sync preview --save FILE``): the
    contract and version it was built on, the PACE plan and the digest of the plan snapshot it
    was built from, and the change set with its own digest (an edited file is refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = REVIEWED_FORMAT
    contract_id: str
    contract_version: int
    participant: str | None = None
    plan_id: str
    plan_digest: str
    change_set_digest: str
    change_set: ChangeSet


def reviewed_change_set(change_set: ChangeSet, plan: PacePlan) -> ReviewedChangeSet:
    """The change set to save for review, bound to the plan it was built from."""
    return ReviewedChangeSet(
        contract_id=change_set.contract_id,
        contract_version=change_set.contract_version,
        participant=plan.ndis_number,
        plan_id=plan.plan_id,
        plan_digest=plan_digest(plan),
        change_set_digest=change_set_digest(change_set),
        change_set=change_set,
    )


# -- the batch: every participant's contract against PACE --------------------------------------

BatchOutcome = Outcome


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What the batch did for one participant.

    ``outcome``: ``success`` (previewed, and applied when asked, with every conflict accepted;
    ``in_sync`` when there was nothing to change), ``failed`` (a person must look: a conflict not
    accepted, a reassessment (``NEW_PLAN``), the participant not found or not authorised in PACE,
    a malformed payload, no plan or several covering today), ``uncompleted`` (a timeout or a
    refused connection after the retries, or the contract changed while the batch ran: run it
    again), ``no_active_contract`` (no active PACE contract, named).
    ``unresolved``: the ids of the conflicts not accepted.
    """

    participant: ParticipantRef
    outcome: BatchOutcome
    message: str
    contract_id: str | None = None
    change_set: ChangeSet | None = None
    unresolved: tuple[str, ...] = ()
    applied: bool = False

    @property
    def in_sync(self) -> bool:
        """Previewed with nothing to change."""
        return self.change_set is not None and not self.change_set.has_changes


@dataclass(frozen=True, slots=True)
class BatchProgress(Progress[ParticipantRef]):
    """A progress event after each participant: the counters every batch keeps
    (:class:`~ndis_rules.services.batch.Progress`): ``processed == success + failed +
    uncompleted``, ``done`` adds those without an active contract, out of ``total``."""


@dataclass(frozen=True, slots=True)
class BatchReport(Totals[ParticipantRef, BatchResult]):
    """The counters, who had no active contract, and one result per participant."""

    applied: bool = False

    @property
    def changes(self) -> int:
        """Participants whose contract has (or had, when applied) changes."""
        return sum(
            1 for r in self.results if r.change_set is not None and r.change_set.has_changes
        )

    @property
    def all_done(self) -> bool:
        """Every participant synced (or previewed) without anything left to look at."""
        return self.success == self.total


def _active_pace_contract(
    repo: ContractRepository, ids: Sequence[str], who: ParticipantRef, today: date
) -> tuple[Contract | None, str]:
    mine = [c for c in (repo.get(i) for i in ids) if c.participant == who.ndis_number]  # fresh
    live = [c for c in mine if c.pace and c.active and c.end_inclusive >= today]
    if not live:
        return None, ("no contract" if not mine else f"no active PACE contract on {today}")
    current = [c for c in live if c.start <= today]
    if current:
        return max(current, key=lambda c: (c.start, c.id)), ""
    return min(live, key=lambda c: (c.start, c.id)), ""


def _fetch_with_retries(
    source: PacePlanSource, who: ParticipantRef, retries: int
) -> list[PacePlan]:
    attempt = 0
    while True:
        try:
            return list(source.plans_for(who))
        except (SourceTimeout, SourceRefused):  # transient: may be retried
            if attempt >= retries:
                raise
            attempt += 1


def _one(
    repo: ContractRepository,
    source: PacePlanSource,
    who: ParticipantRef,
    ids: Sequence[str],
    *,
    today: date,
    apply_changes: bool,
    accept: Sequence[str],
    retries: int,
) -> BatchResult:
    try:
        contract, why = _active_pace_contract(repo, ids, who, today)
    except StoreError as exc:
        return BatchResult(who, "uncompleted", f"Not finished (may be retried): {exc}")
    if contract is None:
        return BatchResult(who, "no_active_contract", f"No active contract: {why}")
    cid = contract.id
    try:
        plans = _fetch_with_retries(source, who, retries)
        plan = select_plan(plans, on=today)
        change_set = preview(contract, plan, today)
    except (SourceTimeout, SourceRefused) as exc:
        return BatchResult(who, "uncompleted", f"Not finished (may be retried): {exc}", cid)
    except (SourceError, PlanSelectionError, SyncMismatchError) as exc:
        return BatchResult(who, "failed", f"Not synchronised with PACE: {exc}", cid)
    accepted = set(accept)
    unresolved = tuple(
        c.id for c in change_set.conflicts if c.code not in accepted and c.id not in accepted
    )
    if unresolved:
        return BatchResult(
            who,
            "failed",
            f"Conflicts to resolve: {', '.join(unresolved)}"
            + ("; nothing applied" if apply_changes else ""),
            cid,
            change_set,
            unresolved,
        )
    if not apply_changes or not change_set.has_changes:
        what = "in sync" if not change_set.has_changes else "changes previewed (not applied)"
        return BatchResult(who, "success", f"Previewed: {what}", cid, change_set)
    try:
        new = apply(contract, change_set, accept=[c.id for c in change_set.conflicts])
        repo.save(new, expected_version=contract.version)
    except StaleContractError as exc:
        return BatchResult(
            who, "uncompleted", f"Not finished (may be retried): {exc}", cid, change_set
        )
    except (ApplyRefused, StoreError) as exc:
        return BatchResult(who, "failed", f"Not applied: {exc}", cid, change_set)
    return BatchResult(who, "success", "Applied", cid, change_set, applied=True)


def sync_batch(
    repo: ContractRepository,
    source: PacePlanSource,
    participants: Iterable[ParticipantRef],
    *,
    today: date,
    apply_changes: bool = False,
    accept: Sequence[str] = (),
    retries: int = 2,
    progress: Callable[[BatchProgress], object] | None = None,
) -> BatchReport:
    """Preview (and, only with ``apply_changes``, apply) every participant's active PACE
    contract against the plan PACE holds for ``today`` (spec/sync.md, across the book).

    Preview-only by default: nothing is written. With ``apply_changes`` a change set is applied
    and saved (optimistic versioning) only when every conflict is named in ``accept`` (a code or
    a conflict id); one with a conflict left is not applied and its participant is ``failed``.
    Each participant is independent: one failure never stops the batch. A timeout of the PACE
    source is retried up to ``retries`` more times, then ``uncompleted``. Progress events carry
    the same counters as the bookings batch.

    Args:
        repo: the contracts (the participant's active PACE contract is the one covering
            ``today``, else the next to start).
        source: the PACE port.
        participants: who to sync (a repeated NDIS number is synced once).
        today: the date the batch runs on (read once by the caller).
        apply_changes: apply the change sets without unaccepted conflicts.
        accept: conflict codes or ids the caller accepts.
        retries: extra attempts after a source timeout (>= 0).
        progress: called with a :class:`BatchProgress` after each participant.
    """
    check_retries(retries)
    selected = distinct(participants)
    by_participant: dict[str, list[str]] = {}  # one pass over the book (a StoreError here is
    for cid in repo.ids():  # the whole batch's, and propagates)
        owner = repo.get(cid).participant
        if owner is not None:
            by_participant.setdefault(owner, []).append(cid)

    def one(who: ParticipantRef) -> BatchResult:
        try:
            return _one(
                repo,
                source,
                who,
                by_participant.get(who.ndis_number, []),
                today=today,
                apply_changes=apply_changes,
                accept=accept,
                retries=retries,
            )
        except NdisRulesError as exc:  # any other typed failure is this participant's
            return BatchResult(who, "uncompleted", f"Not finished (may be retried): {exc}")

    return run_batch(
        selected,
        one,
        event=BatchProgress,
        progress=progress,
        report=partial(BatchReport, applied=apply_changes),
    )
