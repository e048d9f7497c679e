"""The book held in memory (tests, and integrators that keep their own storage): the same
contract as the SQLite book (:class:`ndis_rules.testing.book_contracts.BookStoreContract`).

A commit checks every version first and only then writes, under a lock, so a refused commit
changes nothing.

Examples:
    >>> from ndis_rules.book import BookChanges, JournalEntry
    >>> store = InMemoryBookStore()
    >>> entry = JournalEntry("init", "2025-11-15T09:00:00", "0.1.0", "d", (), "created")
    >>> store.commit(BookChanges(entry), expected_version=0)
    1
    >>> store.commit(BookChanges(entry), expected_version=0)
    Traceback (most recent call last):
    ...
    ndis_rules.errors.StaleBookError: the book was written since it was read: expected version 0, it is at version 1; read it again and redo the operation
"""  # noqa: E501

from __future__ import annotations

import threading
from dataclasses import replace

from ..book import (
    BookChanges,
    BookingRecord,
    BookLine,
    BookSnapshot,
    ChangeSetRecord,
    CheckBatch,
    JournalEntry,
    LineKey,
    PlanSnapshot,
    UploadFile,
)
from ..errors import BookRecordNotFound, StaleBookError, StaleContractError, StoreUnavailable
from ..models import Contract

__all__ = ["InMemoryBookStore", "stale_book"]


def stale_book(expected: int, actual: int) -> StaleBookError:
    """The error of a commit whose expected version is not the book's."""
    return StaleBookError(
        f"the book was written since it was read: expected version {expected}, it is at "
        f"version {actual}; read it again and redo the operation"
    )


class InMemoryBookStore:
    """A book in memory (not shared between processes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._version = 0
        self._contracts: dict[str, Contract] = {}
        self._history: dict[tuple[str, int], Contract] = {}
        self._lines: dict[LineKey, BookLine] = {}
        self._snapshots: dict[str, PlanSnapshot] = {}
        self._change_sets: dict[str, ChangeSetRecord] = {}
        self._batches: dict[str, CheckBatch] = {}
        self._bookings: dict[str, BookingRecord] = {}
        self._journal: list[JournalEntry] = []
        self._uploads: dict[str, UploadFile] = {}

    def _open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the book is closed")

    def snapshot(self) -> BookSnapshot:
        """The book's version, contracts and lines, read together."""
        with self._lock:
            self._open()
            return BookSnapshot(self._version, dict(self._contracts), dict(self._lines))

    def contract_at(self, contract_id: str, version: int) -> Contract:
        """A contract at one version."""
        with self._lock:
            self._open()
            found = self._history.get((contract_id, version))
        if found is None:
            raise BookRecordNotFound(f"contract {contract_id} version {version} is not in the book")
        return found

    def change_set(self, change_set_id: str) -> ChangeSetRecord:
        """A saved change set."""
        with self._lock:
            self._open()
            found = self._change_sets.get(change_set_id)
        if found is None:
            raise BookRecordNotFound(f"no change set {change_set_id} in the book")
        return found

    def plan_snapshots(self, plan_id: str) -> list[PlanSnapshot]:
        """The snapshots of one plan, oldest first."""
        with self._lock:
            self._open()
            return [s for s in self._snapshots.values() if s.plan_id == plan_id]

    def plan_snapshot(self, snapshot_id: str) -> PlanSnapshot:
        """One plan snapshot."""
        with self._lock:
            self._open()
            found = self._snapshots.get(snapshot_id)
        if found is None:
            raise BookRecordNotFound(f"no plan snapshot {snapshot_id} in the book")
        return found

    def batch(self, batch_id: str) -> CheckBatch:
        """A stored check batch."""
        with self._lock:
            self._open()
            found = self._batches.get(batch_id)
        if found is None:
            raise BookRecordNotFound(f"no check batch {batch_id} in the book")
        return found

    def bookings(self) -> list[BookingRecord]:
        """The booking ids held."""
        with self._lock:
            self._open()
            return [self._bookings[k] for k in sorted(self._bookings)]

    def uploads(self, submission: str) -> list[UploadFile]:
        """The upload files of one submission, by name."""
        with self._lock:
            self._open()
            return sorted(
                (u for u in self._uploads.values() if u.submission == submission),
                key=lambda u: u.name,
            )

    def journal(self) -> list[JournalEntry]:
        """The journal, oldest first."""
        with self._lock:
            self._open()
            return list(self._journal)

    def commit(self, changes: BookChanges, expected_version: int) -> int:
        """Write the changes if the book is still at ``expected_version``."""
        with self._lock:
            self._open()
            if self._version != expected_version:
                raise stale_book(expected_version, self._version)
            for contract, expected in changes.contracts:
                current = self._contracts.get(contract.id)
                actual = None if current is None else current.version
                if actual != expected:
                    raise StaleContractError(contract.id, expected, actual)
            for contract, _ in changes.contracts:
                self._contracts[contract.id] = contract
                self._history[(contract.id, contract.version)] = contract
            for line in changes.lines:
                self._lines[line.key] = line
            for s in changes.snapshots:
                self._snapshots.setdefault(s.id, s)
            for u in changes.uploads:
                self._uploads.setdefault(u.name, u)
            for cs in changes.change_sets:
                self._change_sets[cs.id] = cs
            for b in changes.batches:
                self._batches[b.id] = b
            for booking in changes.bookings:
                self._bookings[booking.booking_id] = booking
            self._version += 1
            self._journal.append(replace(changes.journal, seq=len(self._journal) + 1))
            return self._version

    def close(self) -> None:
        """Close the book; later calls raise ``StoreUnavailable``."""
        self._closed = True
