"""Ports: the outside world (clock, PACE, PRODA, storage) as ``typing.Protocol`` classes.

The core never sees a port; the service shell reads them once and passes plain values in.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from .book import (
    BookChanges,
    BookingRecord,
    BookSnapshot,
    ChangeSetRecord,
    CheckBatch,
    JournalEntry,
    PlanSnapshot,
    UploadFile,
)
from .models import Contract
from .pace import PacePlan, ParticipantRef

__all__ = ["BookStore", "Clock", "ContractRepository", "PacePlanSource"]


class Clock(Protocol):
    """Supplies *today*: the local date in the configured zone."""

    def today(self) -> date:
        """Today's date."""
        ...


class PacePlanSource(Protocol):
    """The PACE plan source (a PACE gateway, or files): a participant's plans.

    Failures are typed (:mod:`ndis_rules.store_errors`): ``SourceTimeout``, ``SourceRefused``,
    ``SourceNotAuthorised`` (no plan manager or provider relationship), ``SourcePayloadError``
    (malformed plan, naming the field) and ``ParticipantNotFound``.
    """

    def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
        """The participant's PACE plans; the lookup needs NDIS number, last name and date of
        birth."""
        ...


class ContractRepository(Protocol):
    """Stores service contracts with optimistic versioning.

    ``save(contract, expected_version)`` succeeds only when the stored version is
    ``expected_version`` (``None``: the contract must not exist yet); the stored contract then
    carries version ``expected_version + 1`` (a new one keeps its own version) and is returned.
    Otherwise it raises ``StaleContractError`` and nothing is written. Failures are
    ``StoreError`` subclasses; no backend exception escapes.
    """

    def get(self, contract_id: str) -> Contract:
        """The stored contract; ``ContractNotFound`` when there is none."""
        ...

    def save(self, contract: Contract, expected_version: int | None) -> Contract:
        """Write the contract if the stored version is still ``expected_version``; returns the
        contract as stored (with its new version)."""
        ...

    def ids(self) -> list[str]:
        """The stored contract ids, sorted."""
        ...

    def delete(self, contract_id: str, expected_version: int | None = None) -> None:
        """Remove a contract (checking its version when ``expected_version`` is given);
        ``ContractNotFound`` when there is none."""
        ...


class BookStore(Protocol):
    """The plan manager's book (spec/book.md): contracts with their versions, plan snapshots,
    change sets, check batches, claim lines, PRODA booking ids and an append-only journal.

    Reads return what one consistent state of the book holds. ``commit(changes, expected)``
    writes everything in ``changes`` in one transaction only when the book's version is still
    ``expected`` (and every contract is still at the version the change names); the book's
    version is then ``expected + 1`` and the journal entry is appended with the next sequence
    number. Otherwise it raises ``StaleBookError`` (or ``StaleContractError``) and writes
    nothing. Failures are ``StoreError`` subclasses; no backend exception escapes.
    """

    def snapshot(self) -> BookSnapshot:
        """The book's version, contracts and claim lines, read together."""
        ...

    def contract_at(self, contract_id: str, version: int) -> Contract:
        """A contract as it was at one version; ``BookRecordNotFound`` when never stored."""
        ...

    def change_set(self, change_set_id: str) -> ChangeSetRecord:
        """A saved change set; ``BookRecordNotFound`` when there is none."""
        ...

    def plan_snapshots(self, plan_id: str) -> list[PlanSnapshot]:
        """The snapshots of one PACE plan, oldest first."""
        ...

    def plan_snapshot(self, snapshot_id: str) -> PlanSnapshot:
        """One plan snapshot; ``BookRecordNotFound`` when there is none."""
        ...

    def batch(self, batch_id: str) -> CheckBatch:
        """A stored check batch; ``BookRecordNotFound`` when there is none."""
        ...

    def bookings(self) -> list[BookingRecord]:
        """The PRODA booking ids held, by booking id."""
        ...

    def uploads(self, submission: str) -> list[UploadFile]:
        """The upload files one submission wrote, by name."""
        ...

    def journal(self) -> list[JournalEntry]:
        """Every journal entry, oldest first."""
        ...

    def commit(self, changes: BookChanges, expected_version: int) -> int:
        """Write ``changes`` if the book is still at ``expected_version``; the new version."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...
