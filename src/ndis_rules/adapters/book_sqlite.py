"""The book in one SQLite file: the embedded default (spec/book.md).

* One file in WAL mode (readers never wait for a writer), ``PRAGMA foreign_keys=ON``, and a busy
  timeout so two processes take turns instead of failing at once.
* Migrations: ``schema_version`` holds the schema's version; :data:`MIGRATIONS` are applied in
  order, each inside one ``BEGIN IMMEDIATE`` transaction, when a book is opened. A book written
  by a newer library is refused, never downgraded.
* Every commit is one ``BEGIN IMMEDIATE`` transaction that first compares the book's version
  (``meta.book_version``) and each contract's version with what the operation read, then writes;
  any failure rolls the whole operation back. Reads run in one read transaction, so a snapshot
  is one consistent state.
* Money is INTEGER cents in every money column (``amount_cents``, ``paid_cents``); the bodies
  (contracts, lines) are JSON with money as exact strings. Never a REAL.
* The journal is append-only: triggers refuse every UPDATE and DELETE of it.
* Every ``sqlite3`` error becomes ``StoreUnavailable`` or ``StoreIntegrityError``.

Examples:
    >>> store = SqliteBookStore(":memory:")
    >>> store.snapshot().version
    0
    >>> store.schema_version()
    1
    >>> store.close()
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final, TypeVar

from pydantic import ValidationError

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
from ..errors import (
    BookRecordNotFound,
    StaleContractError,
    StoreError,
    StoreIntegrityError,
    StoreUnavailable,
)
from ..models import Contract
from .book_memory import stale_book
from .sqlite_common import connect, wrap_error

__all__ = ["MIGRATIONS", "SqliteBookStore"]

T = TypeVar("T")

#: (version, statements): applied in order to bring a book up to this library's schema.
MIGRATIONS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (
        1,
        (
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
            "INSERT INTO meta (key, value) VALUES ('book_version', 0)",
            """CREATE TABLE contracts (
                id TEXT PRIMARY KEY,
                version INTEGER NOT NULL CHECK (version >= 0),
                participant TEXT,
                plan_id TEXT,
                body TEXT NOT NULL)""",
            """CREATE TABLE contract_versions (
                contract_id TEXT NOT NULL REFERENCES contracts (id),
                version INTEGER NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (contract_id, version))""",
            """CREATE TABLE plan_snapshots (
                id TEXT PRIMARY KEY,
                plan_id TEXT NOT NULL,
                participant TEXT NOT NULL,
                read_at TEXT NOT NULL,
                digest TEXT NOT NULL,
                raw TEXT NOT NULL,
                mapped TEXT NOT NULL,
                seq INTEGER NOT NULL)""",
            "CREATE INDEX plan_snapshots_plan ON plan_snapshots (plan_id, seq)",
            """CREATE TABLE change_sets (
                id TEXT PRIMARY KEY,
                contract_id TEXT NOT NULL REFERENCES contracts (id),
                contract_version INTEGER NOT NULL,
                snapshot_id TEXT NOT NULL REFERENCES plan_snapshots (id),
                created_at TEXT NOT NULL,
                applied_at TEXT,
                body TEXT NOT NULL)""",
            "CREATE TABLE check_batches (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
            """CREATE TABLE claim_lines (
                provider TEXT NOT NULL,
                reference TEXT NOT NULL,
                number INTEGER NOT NULL CHECK (number >= 1),
                participant TEXT NOT NULL,
                contract_id TEXT NOT NULL REFERENCES contracts (id),
                state TEXT NOT NULL CHECK (state IN
                    ('recorded', 'submitted', 'paid', 'rejected', 'cancelled')),
                amount_cents INTEGER NOT NULL,
                paid_cents INTEGER,
                bpr_file TEXT,
                batch_id TEXT REFERENCES check_batches (id),
                body TEXT NOT NULL,
                PRIMARY KEY (provider, reference, number))""",
            "CREATE INDEX claim_lines_state ON claim_lines (state)",
            "CREATE INDEX claim_lines_participant ON claim_lines (participant)",
            """CREATE TABLE bookings (
                booking_id TEXT PRIMARY KEY,
                contract_id TEXT NOT NULL REFERENCES contracts (id),
                budget TEXT NOT NULL,
                item TEXT,
                recorded_at TEXT NOT NULL)""",
            """CREATE TABLE uploads (
                name TEXT PRIMARY KEY,
                submission TEXT NOT NULL,
                text TEXT NOT NULL)""",
            """CREATE TABLE journal (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                operation TEXT NOT NULL,
                at TEXT NOT NULL,
                tool_version TEXT NOT NULL,
                inputs_digest TEXT NOT NULL,
                ids TEXT NOT NULL,
                outcome TEXT NOT NULL)""",
            """CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
                BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
            """CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
                BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
        ),
    ),
)
SCHEMA_VERSION: Final = MIGRATIONS[-1][0]


class SqliteBookStore:
    """The book in an SQLite file (or ``":memory:"``)."""

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self._closed = False
        try:
            self._db = connect(self.path, timeout=timeout, wal=True)
        except sqlite3.Error as exc:
            raise wrap_error(exc, f"cannot open the book {self.path}") from exc
        try:
            self._migrate()
        except StoreError:
            self._db.close()
            raise

    # -- plumbing ---------------------------------------------------------------------------------
    def _current_schema(self) -> int:
        row = self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if row is None:
            return 0
        found = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(found[0] or 0)

    def _migrate(self) -> None:
        try:
            if self._current_schema() == SCHEMA_VERSION:
                return  # opening a current book takes no write lock
            with self._write("migrating the book") as db:
                current = self._current_schema()
                if current > SCHEMA_VERSION:
                    raise StoreIntegrityError(
                        f"the book {self.path} has schema version {current}, newer than this "
                        f"library's {SCHEMA_VERSION}: upgrade ndis-rules"
                    )
                if current == 0:
                    names = db.execute(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                    ).fetchone()[0]
                    if names:
                        raise StoreIntegrityError(
                            f"{self.path} is an SQLite file but not a book (it has other tables)"
                        )
                    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                for version, statements in MIGRATIONS:
                    if version <= current:
                        continue
                    for statement in statements:
                        db.execute(statement)
                    db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        except sqlite3.Error as exc:
            raise wrap_error(exc, f"cannot open the book {self.path}") from exc

    def schema_version(self) -> int:
        """The schema version the book is at."""
        return self._read("reading the schema version", self._current_schema)

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise StoreUnavailable("the book is closed")
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise wrap_error(exc, what) from exc
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as exc:
            with suppress(sqlite3.Error):
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise wrap_error(exc, what) from exc
            raise

    def _read(self, what: str, fn: Callable[[], T]) -> T:
        if self._closed:
            raise StoreUnavailable("the book is closed")
        try:
            self._db.execute("BEGIN")
            try:
                return fn()
            finally:
                with suppress(sqlite3.Error):
                    self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise wrap_error(exc, what) from exc

    def close(self) -> None:
        """Close the connection; later calls raise ``StoreUnavailable``."""
        if not self._closed:
            self._closed = True
            self._db.close()

    # -- reads ------------------------------------------------------------------------------------
    def _contract(self, body: str, where: str) -> Contract:
        try:
            return Contract.model_validate_json(body)
        except (ValidationError, ValueError) as exc:
            raise StoreIntegrityError(f"{where} in {self.path} is not a valid contract") from exc

    def _line(self, body: str) -> BookLine:
        try:
            return BookLine.from_dict(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreIntegrityError(f"a claim line in {self.path} cannot be read") from exc

    def snapshot(self) -> BookSnapshot:
        """The book's version, contracts and lines, read in one transaction."""

        def read() -> BookSnapshot:
            (version,) = self._db.execute(
                "SELECT value FROM meta WHERE key = 'book_version'"
            ).fetchone()
            contracts = {
                str(cid): self._contract(body, f"contract {cid}")
                for cid, body in self._db.execute("SELECT id, body FROM contracts ORDER BY id")
            }
            lines: dict[LineKey, BookLine] = {}
            for (body,) in self._db.execute(
                "SELECT body FROM claim_lines ORDER BY provider, reference, number"
            ):
                line = self._line(body)
                lines[line.key] = line
            return BookSnapshot(int(version), contracts, lines)

        return self._read("reading the book", read)

    def contract_at(self, contract_id: str, version: int) -> Contract:
        """A contract at one version."""
        row = self._read(
            "reading a contract version",
            lambda: self._db.execute(
                "SELECT body FROM contract_versions WHERE contract_id = ? AND version = ?",
                (contract_id, version),
            ).fetchone(),
        )
        if row is None:
            raise BookRecordNotFound(f"contract {contract_id} version {version} is not in the book")
        return self._contract(row[0], f"contract {contract_id} version {version}")

    def change_set(self, change_set_id: str) -> ChangeSetRecord:
        """A saved change set."""
        row = self._read(
            "reading a change set",
            lambda: self._db.execute(
                "SELECT id, contract_id, contract_version, snapshot_id, created_at, body,"
                " applied_at FROM change_sets WHERE id = ?",
                (change_set_id,),
            ).fetchone(),
        )
        if row is None:
            raise BookRecordNotFound(f"no change set {change_set_id} in the book")
        return ChangeSetRecord(row[0], row[1], int(row[2]), row[3], row[4], row[5], row[6])

    def _snapshots(self, where: str, arg: str) -> list[PlanSnapshot]:
        rows = self._read(
            "reading plan snapshots",
            lambda: self._db.execute(
                "SELECT id, plan_id, participant, read_at, digest, raw, mapped FROM "
                f"plan_snapshots WHERE {where} = ? ORDER BY seq",
                (arg,),
            ).fetchall(),
        )
        return [PlanSnapshot(*r) for r in rows]

    def plan_snapshots(self, plan_id: str) -> list[PlanSnapshot]:
        """The snapshots of one plan, oldest first."""
        return self._snapshots("plan_id", plan_id)

    def plan_snapshot(self, snapshot_id: str) -> PlanSnapshot:
        """One plan snapshot."""
        found = self._snapshots("id", snapshot_id)
        if not found:
            raise BookRecordNotFound(f"no plan snapshot {snapshot_id} in the book")
        return found[0]

    def batch(self, batch_id: str) -> CheckBatch:
        """A stored check batch."""
        row = self._read(
            "reading a check batch",
            lambda: self._db.execute(
                "SELECT body FROM check_batches WHERE id = ?", (batch_id,)
            ).fetchone(),
        )
        if row is None:
            raise BookRecordNotFound(f"no check batch {batch_id} in the book")
        return CheckBatch.from_json(row[0])

    def bookings(self) -> list[BookingRecord]:
        """The booking ids held."""
        rows = self._read(
            "reading bookings",
            lambda: self._db.execute(
                "SELECT booking_id, contract_id, budget, item, recorded_at FROM bookings"
                " ORDER BY booking_id"
            ).fetchall(),
        )
        return [BookingRecord(*r) for r in rows]

    def uploads(self, submission: str) -> list[UploadFile]:
        """The upload files of one submission, by name."""
        rows = self._read(
            "reading upload files",
            lambda: self._db.execute(
                "SELECT name, submission, text FROM uploads WHERE submission = ? ORDER BY name",
                (submission,),
            ).fetchall(),
        )
        return [UploadFile(*r) for r in rows]

    def journal(self) -> list[JournalEntry]:
        """The journal, oldest first."""
        rows = self._read(
            "reading the journal",
            lambda: self._db.execute(
                "SELECT operation, at, tool_version, inputs_digest, ids, outcome, seq"
                " FROM journal ORDER BY seq"
            ).fetchall(),
        )
        return [
            JournalEntry(op, at, tv, dg, tuple(json.loads(ids)), outcome, int(seq))
            for op, at, tv, dg, ids, outcome, seq in rows
        ]

    # -- the one write ----------------------------------------------------------------------------
    def commit(self, changes: BookChanges, expected_version: int) -> int:
        """Write the changes in one transaction if the book is still at ``expected_version``."""
        with self._write(f"writing the book ({changes.journal.operation})") as db:
            (version,) = db.execute("SELECT value FROM meta WHERE key = 'book_version'").fetchone()
            if int(version) != expected_version:
                raise stale_book(expected_version, int(version))
            for contract, expected in changes.contracts:
                row = db.execute(
                    "SELECT version FROM contracts WHERE id = ?", (contract.id,)
                ).fetchone()
                actual = None if row is None else int(row[0])
                if actual != expected:
                    raise StaleContractError(contract.id, expected, actual)
            for s in changes.snapshots:
                found = db.execute(
                    "SELECT digest FROM plan_snapshots WHERE id = ?", (s.id,)
                ).fetchone()
                if found is None:
                    db.execute(
                        "INSERT INTO plan_snapshots (id, plan_id, participant, read_at, digest,"
                        " raw, mapped, seq) VALUES (?, ?, ?, ?, ?, ?, ?,"
                        " (SELECT coalesce(max(seq), 0) + 1 FROM plan_snapshots))",
                        (s.id, s.plan_id, s.participant, s.read_at, s.digest, s.raw, s.mapped),
                    )
            for contract, _ in changes.contracts:
                body = contract.model_dump_json(by_alias=True)
                db.execute(
                    "INSERT INTO contracts (id, version, participant, plan_id, body)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                    " version = excluded.version, participant = excluded.participant,"
                    " plan_id = excluded.plan_id, body = excluded.body",
                    (contract.id, contract.version, contract.participant, contract.plan_id, body),
                )
                db.execute(
                    "INSERT OR REPLACE INTO contract_versions (contract_id, version, body)"
                    " VALUES (?, ?, ?)",
                    (contract.id, contract.version, body),
                )
            for cs in changes.change_sets:
                db.execute(
                    "INSERT INTO change_sets (id, contract_id, contract_version, snapshot_id,"
                    " created_at, applied_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET applied_at = excluded.applied_at",
                    (
                        cs.id,
                        cs.contract_id,
                        cs.contract_version,
                        cs.snapshot_id,
                        cs.created_at,
                        cs.applied_at,
                        cs.body,
                    ),
                )
            for b in changes.batches:
                db.execute(
                    "INSERT OR IGNORE INTO check_batches (id, body) VALUES (?, ?)",
                    (b.id, b.to_json()),
                )
            db.executemany(
                "INSERT INTO claim_lines (provider, reference, number, participant, contract_id,"
                " state, amount_cents, paid_cents, bpr_file, batch_id, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (provider, reference, number) DO UPDATE SET"
                " participant = excluded.participant, contract_id = excluded.contract_id,"
                " state = excluded.state, amount_cents = excluded.amount_cents,"
                " paid_cents = excluded.paid_cents, bpr_file = excluded.bpr_file,"
                " batch_id = excluded.batch_id, body = excluded.body",
                [
                    (
                        line.key.provider,
                        line.key.reference,
                        line.key.number,
                        line.participant,
                        line.contract_id,
                        line.state,
                        line.amount.cents,
                        line.paid_amount.cents if line.paid_amount is not None else None,
                        line.bpr_file,
                        line.batch_id or None,
                        json.dumps(line.to_dict(), sort_keys=True),
                    )
                    for line in changes.lines
                ],
            )
            for u in changes.uploads:
                db.execute(
                    "INSERT INTO uploads (name, submission, text) VALUES (?, ?, ?)",
                    (u.name, u.submission, u.text),
                )
            for bk in changes.bookings:
                db.execute(
                    "INSERT OR REPLACE INTO bookings (booking_id, contract_id, budget, item,"
                    " recorded_at) VALUES (?, ?, ?, ?, ?)",
                    (bk.booking_id, bk.contract_id, bk.budget, bk.item, bk.recorded_at),
                )
            j = changes.journal
            db.execute(
                "INSERT INTO journal (operation, at, tool_version, inputs_digest, ids, outcome)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    j.operation,
                    j.at,
                    j.tool_version,
                    j.inputs_digest,
                    json.dumps(list(j.ids)),
                    j.outcome,
                ),
            )
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'book_version'", (expected_version + 1,)
            )
        return expected_version + 1

    def __enter__(self) -> SqliteBookStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
