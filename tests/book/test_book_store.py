"""The book store contract suite run against both adapters, and what only SQLite does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ndis_rules.adapters.book_memory import InMemoryBookStore
from ndis_rules.adapters.book_sqlite import SCHEMA_VERSION, SqliteBookStore
from ndis_rules.book import BookChanges, JournalEntry
from ndis_rules.errors import StoreIntegrityError
from ndis_rules.ports import BookStore
from ndis_rules.testing.book_contracts import BookStoreContract


class TestInMemoryBook(BookStoreContract):
    def make_store(self, tmp_path: Path) -> BookStore:
        return InMemoryBookStore()


class TestSqliteBook(BookStoreContract):
    def make_store(self, tmp_path: Path) -> BookStore:
        return SqliteBookStore(tmp_path / "book.db")

    def reopen(self, store: BookStore, tmp_path: Path) -> BookStore:
        store.close()
        return SqliteBookStore(tmp_path / "book.db")


def _entry() -> JournalEntry:
    return JournalEntry("op", "t", "0.1.0", "d", (), "ok")


def test_the_book_file_is_wal_with_foreign_keys_and_a_schema_version(tmp_path: Path) -> None:
    SqliteBookStore(tmp_path / "b.db").close()
    db = sqlite3.connect(tmp_path / "b.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    money = db.execute("SELECT type FROM pragma_table_info('claim_lines') WHERE name LIKE '%cents'")
    assert {t for (t,) in money} == {"INTEGER"}
    db.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(sqlite3.IntegrityError):  # a line must name a stored contract
        db.execute(
            "INSERT INTO claim_lines (provider, reference, number, participant, contract_id,"
            " state, amount_cents, body) VALUES ('P', 'R', 1, 'X', 'NO-SUCH', 'recorded', 1, '{}')"
        )


def test_the_journal_is_append_only(tmp_path: Path) -> None:
    store = SqliteBookStore(tmp_path / "b.db")
    store.commit(BookChanges(_entry()), 0)
    store.close()
    db = sqlite3.connect(tmp_path / "b.db")
    for sql in ("UPDATE journal SET outcome = 'x'", "DELETE FROM journal"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    assert db.execute("SELECT count(*) FROM journal").fetchone()[0] == 1


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    SqliteBookStore(tmp_path / "b.db").close()
    db = sqlite3.connect(tmp_path / "b.db")
    db.execute("INSERT INTO schema_version (version) VALUES (99)")
    db.commit()
    db.close()
    with pytest.raises(StoreIntegrityError, match="newer"):
        SqliteBookStore(tmp_path / "b.db")


def test_an_sqlite_file_that_is_not_a_book_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "other.db")
    db.execute("CREATE TABLE something (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreIntegrityError, match="not a book"):
        SqliteBookStore(tmp_path / "other.db")
