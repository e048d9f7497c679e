"""The embedded default contract repository: SQLite through the standard library.

* One transaction per call (``BEGIN IMMEDIATE`` .. ``COMMIT``, rolled back on any failure), so a
  refused or failed save leaves the database as it was. The connection is never left inside a
  failed transaction: when even the ROLLBACK fails, a file database is reopened (which discards
  the transaction and releases its lock) and an in-memory one is rolled back before its next
  use. Opening an existing store takes no write lock.
* Optimistic versioning: the ``UPDATE`` only matches the row still at ``expected_version``.
* The contract is stored as its JSON (money as exact ``"123.45"`` strings, dates ISO) in
  ``contracts.body``, the source of truth; ``contracts`` also has indexed columns (participant,
  plan id, dates, ``total_cents`` INTEGER) and ``contract_budgets`` one row per category budget
  (``total_cents`` INTEGER, a foreign key to ``contracts`` with ``ON DELETE CASCADE``,
  ``PRAGMA foreign_keys=ON``) for queries by other tools. Money is never a REAL.
* Every ``sqlite3`` error is wrapped: ``StoreUnavailable`` (locked, cannot open, closed) or
  ``StoreIntegrityError`` (constraint failed, not a database, unreadable contract JSON).

Examples:
    >>> repo = SqliteContractRepository(":memory:")
    >>> c = Contract.model_validate({"id": "C1", "start": "2025-07-01",
    ...     "end_inclusive": "2026-06-30", "total": "70.23",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "70.23"}]})
    >>> repo.save(c, expected_version=None) == repo.get("C1")
    True
    >>> repo.budget_totals_cents("C1")
    {'01:plan': 7023}
    >>> repo.close()
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Final

from pydantic import ValidationError

from ..errors import (
    ContractNotFound,
    StaleContractError,
    StoreError,
    StoreIntegrityError,
    StoreUnavailable,
)
from ..models import Contract
from .memory_store import versioned_for_save
from .sqlite_common import connect, in_memory, wrap_error

__all__ = ["SqliteContractRepository"]

SCHEMA_VERSION: Final = 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS contracts (
    id            TEXT PRIMARY KEY,
    version       INTEGER NOT NULL CHECK (version >= 0),
    participant   TEXT,
    plan_id       TEXT,
    start         TEXT NOT NULL,
    end_inclusive TEXT NOT NULL,
    total_cents   INTEGER,
    body          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contracts_participant ON contracts (participant);
CREATE INDEX IF NOT EXISTS contracts_plan ON contracts (plan_id);
CREATE TABLE IF NOT EXISTS contract_budgets (
    contract_id    TEXT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    ref            TEXT NOT NULL,
    category       TEXT NOT NULL,
    management     TEXT NOT NULL,
    total_cents    INTEGER NOT NULL,
    start          TEXT,
    end_inclusive  TEXT,
    pace_budget_id TEXT,
    PRIMARY KEY (contract_id, ref)
);
"""


class SqliteContractRepository:
    """Contracts in an SQLite database file (or ``":memory:"``)."""

    _closed: bool = False  # class defaults: also set for objects made without __init__
    _timeout: float = 5.0

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 5.0) -> None:
        self.path = str(path)
        self._timeout = timeout
        self._closed = False
        try:
            self._db = self._connect()
        except sqlite3.Error as exc:
            raise wrap_error(exc, f"cannot open contract store {self.path}") from exc
        try:
            self._create_schema()
        except StoreError:
            self._db.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------
    def _create_schema(self) -> None:
        try:
            (current,) = self._db.execute("PRAGMA user_version").fetchone()
            if current > SCHEMA_VERSION:
                raise StoreIntegrityError(
                    f"contract store {self.path} has schema version {current}, newer than this "
                    f"library's {SCHEMA_VERSION}"
                )
            if current == SCHEMA_VERSION:
                return  # opening an existing store takes no write lock
            with self._transaction("creating the schema"):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise wrap_error(exc, f"cannot open contract store {self.path}") from exc

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        self._ensure_clean()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            self._abort()  # a BEGIN that ran before the failure must not stay open
            if isinstance(exc, sqlite3.Error):
                raise wrap_error(exc, what) from exc
            raise
        try:
            yield self._db
        except BaseException as exc:
            self._abort()
            if isinstance(exc, sqlite3.Error):
                raise wrap_error(exc, what) from exc
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except BaseException as exc:
                self._abort()
                if isinstance(exc, sqlite3.Error):
                    raise wrap_error(exc, what) from exc
                raise

    def _abort(self) -> None:
        """Roll back whatever the connection has open. When the ROLLBACK itself fails, a file
        database's connection is closed (SQLite then discards the transaction and its lock) and
        opened again; an in-memory one (which closing would wipe) is rolled back before its next
        use (:meth:`_ensure_clean`). Either way this object never reads, or builds on, a write
        that was not committed."""
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if not self._db.in_transaction:
                return
        except sqlite3.Error:
            if self._closed:
                return
        if self._closed or in_memory(self.path):
            return
        with suppress(sqlite3.Error):
            self._db.close()
        with suppress(sqlite3.Error):
            self._db = self._connect()

    def _ensure_clean(self) -> None:
        """Roll back a transaction an earlier failure left open (see :meth:`_abort`)."""
        try:
            if self._closed or not self._db.in_transaction:
                return
        except sqlite3.Error:  # the call itself fails on the connection, with a typed error
            return
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"contract store {self.path}: a failed write could not be rolled back: {exc}"
            ) from exc

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path, timeout=self._timeout)

    def close(self) -> None:
        """Close the connection; later calls raise ``StoreUnavailable``."""
        self._closed = True
        self._db.close()

    def __enter__(self) -> SqliteContractRepository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _version_of(self, contract_id: str) -> int | None:
        row = self._db.execute(
            "SELECT version FROM contracts WHERE id = ?", (contract_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    # -- the port -----------------------------------------------------------------------------
    def get(self, contract_id: str) -> Contract:
        """The stored contract; ``ContractNotFound`` when there is none."""
        self._ensure_clean()
        try:
            row = self._db.execute(
                "SELECT version, body FROM contracts WHERE id = ?", (contract_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise wrap_error(exc, f"reading contract {contract_id}") from exc
        if row is None:
            raise ContractNotFound(contract_id)
        version, body = row
        return self._contract_of(contract_id, version, body)

    def _contract_of(self, contract_id: str, version: object, body: str | bytes) -> Contract:
        """The contract a row holds, validated from its JSON text (one typed error naming the
        contract when the text is not a valid contract or disagrees with its row)."""
        try:
            contract = Contract.model_validate_json(body)
        except (ValidationError, ValueError, TypeError) as exc:
            raise StoreIntegrityError(
                f"contract {contract_id} in {self.path} is not a valid contract: {exc}"
            ) from exc
        if contract.id != contract_id or contract.version != version:
            raise StoreIntegrityError(
                f"contract {contract_id} in {self.path}: the stored JSON says id "
                f"{contract.id} version {contract.version}, the row says version {version}"
            )
        return contract

    def all_contracts(self) -> Iterator[Contract]:
        """Every stored contract, in id order, read with one query and each validated as
        :meth:`get` validates it (the same ``StoreIntegrityError`` naming the contract).

        Reads row by row: a book of contracts is never held twice (text and models) at once.
        """
        self._ensure_clean()
        try:
            cursor = self._db.execute("SELECT id, version, body FROM contracts ORDER BY id")
            while True:
                rows = cursor.fetchmany(256)
                if not rows:
                    return
                for contract_id, version, body in rows:
                    yield self._contract_of(str(contract_id), version, body)
        except sqlite3.Error as exc:
            raise wrap_error(exc, "reading contracts") from exc

    def save(self, contract: Contract, expected_version: int | None) -> Contract:
        """Store the contract in one transaction if the stored version is still
        ``expected_version``."""
        with self._transaction(f"saving contract {contract.id}") as db:
            stored = versioned_for_save(contract, expected_version, self._version_of(contract.id))
            row = (
                stored.version,
                stored.participant,
                stored.plan_id,
                stored.start.isoformat(),
                stored.end_inclusive.isoformat(),
                stored.total.cents if stored.total is not None else None,
                stored.model_dump_json(by_alias=True),
                stored.id,
            )
            if expected_version is None:
                db.execute(
                    "INSERT INTO contracts (version, participant, plan_id, start, end_inclusive,"
                    " total_cents, body, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            else:
                cur = db.execute(
                    "UPDATE contracts SET version = ?, participant = ?, plan_id = ?, start = ?,"
                    " end_inclusive = ?, total_cents = ?, body = ? WHERE id = ? AND version = ?",
                    (*row, expected_version),
                )
                if cur.rowcount != 1:  # pragma: no cover - guarded by BEGIN IMMEDIATE
                    raise StaleContractError(contract.id, expected_version, None)
            db.execute("DELETE FROM contract_budgets WHERE contract_id = ?", (stored.id,))
            db.executemany(
                "INSERT INTO contract_budgets (contract_id, ref, category, management,"
                " total_cents, start, end_inclusive, pace_budget_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        stored.id,
                        b.ref,
                        b.category,
                        b.management,
                        b.total.cents,
                        b.start.isoformat() if b.start else None,
                        b.end_inclusive.isoformat() if b.end_inclusive else None,
                        b.pace_budget_id,
                    )
                    for b in stored.budgets
                ],
            )
        return stored

    def ids(self) -> list[str]:
        """The stored contract ids, sorted."""
        self._ensure_clean()
        try:
            rows = self._db.execute("SELECT id FROM contracts ORDER BY id").fetchall()
        except sqlite3.Error as exc:
            raise wrap_error(exc, "listing contracts") from exc
        return [str(r[0]) for r in rows]

    def delete(self, contract_id: str, expected_version: int | None = None) -> None:
        """Remove a contract and its budget rows in one transaction."""
        with self._transaction(f"deleting contract {contract_id}") as db:
            current = self._version_of(contract_id)
            if current is None:
                raise ContractNotFound(contract_id)
            if expected_version is not None and current != expected_version:
                raise StaleContractError(contract_id, expected_version, current)
            db.execute("DELETE FROM contracts WHERE id = ?", (contract_id,))

    # -- queries beyond the port ----------------------------------------------------------------
    def budget_totals_cents(self, contract_id: str) -> dict[str, int]:
        """``{budget ref: total in cents}`` from the budget rows (exact INTEGER cents)."""
        self._ensure_clean()
        try:
            rows = self._db.execute(
                "SELECT ref, total_cents FROM contract_budgets WHERE contract_id = ? ORDER BY ref",
                (contract_id,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise wrap_error(exc, f"reading budgets of {contract_id}") from exc
        return {str(ref): int(cents) for ref, cents in rows}

    def ids_for_participant(self, participant: str) -> list[str]:
        """Ids of the contracts of one participant (NDIS number), sorted."""
        self._ensure_clean()
        try:
            rows = self._db.execute(
                "SELECT id FROM contracts WHERE participant = ? ORDER BY id", (participant,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise wrap_error(exc, "listing contracts") from exc
        return [str(r[0]) for r in rows]
