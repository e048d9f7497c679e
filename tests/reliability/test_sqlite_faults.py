"""Fault injection in the SQLite contract store, checked by reading the database back with a
fresh connection: disk full (simulated on every statement of a save and a delete, and real, with
``PRAGMA max_page_count``), a locked database (another connection holding the write lock), and
interruption mid-batch (an exception between the statements of a save, and a real
``sqlite3`` interrupt). After each failure the store holds exactly the state from before the
operation, the error is a typed ``StoreError`` (never a raw ``sqlite3`` error), and the same
repository object keeps working."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faults import DISK_FULL, FaultyConnection, dump
from hypothesis import given, settings
from hypothesis import strategies as st

from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.models import Contract
from ndis_rules.store_errors import StoreError, StoreUnavailable
from ndis_rules.testing.strategies import contracts

BASE = Contract.model_validate(
    {
        "id": "C1",
        "participant": "430000001",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "1500.00",
        "budgets": [
            {"category": "01", "management": "plan", "total": "1000.00"},
            {"category": "15", "management": "plan", "total": "500.00"},
        ],
    }
)
CHANGED = BASE.model_copy(
    update={
        "notes": ("changed",),
        "budgets": (
            BASE.budgets[0].model_copy(update={"total": BASE.budgets[0].total * 2}),
            BASE.budgets[1],
            Contract.model_validate(
                {"id": "x", "start": "2025-07-01", "end_inclusive": "2026-06-30",
                 "budgets": [{"category": "07", "management": "agency", "total": "70.00"}]}
            ).budgets[0],
        ),
    }
)
OTHER = BASE.model_copy(update={"id": "C2"})


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "contracts.db"
    with SqliteContractRepository(path) as repo:
        repo.save(BASE, expected_version=None)
        repo.save(OTHER, expected_version=None)
    yield path


def _faulty(repo: SqliteContractRepository, **kw: Any) -> FaultyConnection:
    conn = FaultyConnection(repo._db, **kw)
    repo._db = conn  # type: ignore[assignment]
    return conn


def _count(path: Path, op: str) -> int:
    """How many statements the operation runs (counted on a copy of the database)."""
    copy = path.with_name("count.db")
    copy.write_bytes(path.read_bytes())
    with SqliteContractRepository(copy) as repo:
        conn = _faulty(repo)
        _run(repo, op)
        n = len(conn.counted)
    copy.unlink()
    return n


def _run(repo: SqliteContractRepository, op: str) -> None:
    match op:
        case "update":
            repo.save(CHANGED, expected_version=0)
        case "insert":
            repo.save(CHANGED.model_copy(update={"id": "C3"}), expected_version=None)
        case "delete":
            repo.delete("C1", expected_version=0)


def _assert_usable_and_unchanged(
    path: Path, before: object, repo: SqliteContractRepository
) -> None:
    assert dump(path) == before  # a fresh connection sees the state from before
    with SqliteContractRepository(path) as fresh:
        assert fresh.get("C1") == BASE and fresh.ids() == ["C1", "C2"]
        assert fresh.budget_totals_cents("C1") == {"01:plan": 100000, "15:plan": 50000}
    # the same repository (its connection) is not left inside a transaction
    assert repo.get("C1") == BASE
    repo._db = getattr(repo._db, "real", repo._db)
    assert not repo._db.in_transaction
    saved = repo.save(CHANGED, expected_version=0)
    assert saved.version == 1 and SqliteContractRepository(path).get("C1") == saved


OPS = ["update", "insert", "delete"]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("after", [False, True], ids=["before-statement", "after-statement"])
def test_disk_full_on_every_statement_leaves_the_store_as_it_was(
    db: Path, op: str, after: bool
) -> None:
    n = _count(db, op)
    assert n >= 3  # BEGIN, the statements, COMMIT
    before = dump(db)
    for k in range(n - (1 if after else 0)):  # a COMMIT that ran has committed: not a failure
        with SqliteContractRepository(db) as repo:
            conn = _faulty(repo, fail_at=k, after=after)
            with pytest.raises(StoreError) as info:
                _run(repo, op)
            assert conn.fired >= 1
            assert isinstance(info.value, StoreUnavailable), info.value
            assert DISK_FULL in str(info.value)
            assert not isinstance(info.value, sqlite3.Error)
            _assert_usable_and_unchanged(db, before, repo)
            repo.delete("C1")  # put the database back for the next round
            repo.save(BASE, expected_version=None)
            repo.delete("C3") if "C3" in repo.ids() else None
        assert dump(db) == before


class Interrupted(Exception):
    """A crash of the caller between two statements (e.g. a signal handler raising)."""


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("error", [Interrupted, KeyboardInterrupt])
def test_interruption_mid_batch_rolls_back_and_propagates(
    db: Path, op: str, error: type[BaseException]
) -> None:
    n = _count(db, op)
    before = dump(db)
    for k in range(1, n - 1):  # between BEGIN and COMMIT
        with SqliteContractRepository(db) as repo:
            _faulty(repo, fail_at=k, error=error)
            with pytest.raises(error):  # not ours to translate: it propagates as it is
                _run(repo, op)
            _assert_usable_and_unchanged(db, before, repo)
            repo.delete("C1")
            repo.save(BASE, expected_version=None)


def test_a_real_sqlite_interrupt_mid_save_is_typed(db: Path) -> None:
    before = dump(db)
    with SqliteContractRepository(db) as repo:
        calls = 0

        def handler() -> int:
            nonlocal calls
            calls += 1
            return 1 if calls > 3 else 0  # let BEGIN through, interrupt the writes

        repo._db.set_progress_handler(handler, 1)
        big = CHANGED.model_copy(update={"notes": tuple(f"note {i}" for i in range(2000))})
        with pytest.raises(StoreUnavailable, match="interrupted"):
            repo.save(big, expected_version=0)
        repo._db.set_progress_handler(None, 1)
        _assert_usable_and_unchanged(db, before, repo)


def test_real_disk_full_through_max_page_count(db: Path) -> None:
    before = dump(db)
    with SqliteContractRepository(db) as repo:
        (pages,) = repo._db.execute("PRAGMA page_count").fetchone()
        repo._db.execute(f"PRAGMA max_page_count = {pages}")
        huge = CHANGED.model_copy(update={"notes": ("x" * 200_000,)})
        with pytest.raises(StoreUnavailable, match="full"):
            repo.save(huge, expected_version=0)
        with pytest.raises(StoreUnavailable, match="full"):
            repo.save(huge.model_copy(update={"id": "C9"}), expected_version=None)
        repo._db.execute("PRAGMA max_page_count = 1073741823")
        _assert_usable_and_unchanged(db, before, repo)


def test_commit_failing_then_rollback_failing_leaves_nothing_half_done(db: Path) -> None:
    """The worst case: COMMIT fails (disk full) and so does the ROLLBACK after it."""
    before = dump(db)
    with SqliteContractRepository(db) as repo:
        _faulty(repo, when=lambda sql: sql.strip().upper() in {"COMMIT", "ROLLBACK"})
        with pytest.raises(StoreUnavailable):
            repo.save(CHANGED, expected_version=0)
        assert dump(db) == before
        # the repository must not go on reading (or building on) its own uncommitted write:
        # it dropped the connection (discarding the transaction) and opened a new one
        assert isinstance(repo._db, sqlite3.Connection) and not repo._db.in_transaction
        assert repo.get("C1") == BASE
        _assert_usable_and_unchanged(db, before, repo)


def test_in_memory_store_whose_rollback_fails_never_shows_the_uncommitted_write() -> None:
    """An in-memory database cannot be reopened (that would wipe it): the failed transaction is
    rolled back before the next call, and while that fails too, calls fail typed."""
    with SqliteContractRepository(":memory:") as repo:
        repo.save(BASE, expected_version=None)
        conn = _faulty(repo, when=lambda sql: sql.strip().upper() in {"COMMIT", "ROLLBACK"})
        with pytest.raises(StoreUnavailable):
            repo.save(CHANGED, expected_version=0)
        assert repo._db is conn and conn.real.in_transaction  # still open: ROLLBACK failed
        with pytest.raises(StoreUnavailable, match="could not be rolled back"):
            repo.get("C1")
        with pytest.raises(StoreUnavailable, match="could not be rolled back"):
            repo.save(CHANGED, expected_version=0)
        conn.when = None  # the fault clears: the next call rolls back first
        assert repo.get("C1") == BASE and repo.budget_totals_cents("C1") == {
            "01:plan": 100000,
            "15:plan": 50000,
        }
        assert repo.save(CHANGED, expected_version=0).version == 1


def test_a_closed_repository_stays_closed_after_a_failed_call(db: Path) -> None:
    repo = SqliteContractRepository(db)
    repo.close()
    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            repo.save(CHANGED, expected_version=0)
        with pytest.raises(StoreUnavailable):
            repo.get("C1")
    assert dump(db)[0][0][-1] == BASE.model_dump_json(by_alias=True)


@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
def test_locked_database_is_store_unavailable_and_unchanged(db: Path, lock: str) -> None:
    before = dump(db)
    repo = SqliteContractRepository(db, timeout=0.05)
    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute(f"BEGIN {lock}")
    holder.execute("UPDATE contracts SET participant = 'held' WHERE id = 'C2'")
    try:
        for call in (
            lambda: repo.save(CHANGED, expected_version=0),
            lambda: repo.delete("C1"),
            lambda: repo.save(OTHER.model_copy(update={"id": "C5"}), None),
        ):
            with pytest.raises(StoreUnavailable, match="locked") as info:
                call()
            assert not isinstance(info.value, sqlite3.Error)
        if lock == "EXCLUSIVE":  # even readers are shut out: typed as well
            reads = (lambda: repo.get("C1"), repo.ids, lambda: repo.budget_totals_cents("C1"))
            for read in reads:
                with pytest.raises(StoreUnavailable, match="locked"):
                    read()
            with pytest.raises(StoreUnavailable, match="locked"):
                SqliteContractRepository(db, timeout=0.05)
        else:
            assert repo.get("C1") == BASE
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert dump(db) == before
    assert not repo._db.in_transaction
    assert repo.save(CHANGED, expected_version=0).version == 1
    repo.close()


def test_opening_an_existing_store_takes_no_write_lock(db: Path) -> None:
    """Regression: opening ran BEGIN IMMEDIATE (to create the schema) every time, so a reader
    could not even open the store while another process was writing."""
    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with SqliteContractRepository(db, timeout=0.05) as repo:
            assert repo.get("C1") == BASE
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_opening_a_locked_new_database_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable):
            SqliteContractRepository(path, timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with SqliteContractRepository(path) as repo:
        assert repo.ids() == []


def test_a_closed_repository_is_typed(db: Path) -> None:
    repo = SqliteContractRepository(db)
    repo.close()
    for call in (lambda: repo.get("C1"), repo.ids, lambda: repo.save(CHANGED, 0)):
        with pytest.raises(StoreUnavailable):
            call()


@settings(deadline=None)
@given(contracts(allow_overdrawn=True), st.integers(0, 40), st.booleans())
def test_any_contract_any_failing_statement(contract: Contract, k: int, new: bool) -> None:
    """Generated contracts (any number of budgets): fail statement ``k`` of a save."""
    with SqliteContractRepository(":memory:") as repo:
        if not new:
            repo.save(contract, expected_version=None)
        before = (repo._db.execute("SELECT * FROM contracts").fetchall(),
                  repo._db.execute("SELECT * FROM contract_budgets").fetchall())
        conn = _faulty(repo, fail_at=k)
        try:
            repo.save(contract.model_copy(update={"notes": ("x",)}), None if new else 0)
        except StoreError:
            assert conn.fired == 1
        else:
            assert conn.fired == 0
            return
        repo._db = conn.real  # type: ignore[assignment]
        after = (repo._db.execute("SELECT * FROM contracts").fetchall(),
                 repo._db.execute("SELECT * FROM contract_budgets").fetchall())
        assert after == before and not repo._db.in_transaction
