"""The repository contract suite against every shipped adapter, plus adapter-specific failure
handling (backend errors are wrapped, failed writes change nothing)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from ndis_rules.adapters.jsonfile_store import JsonFileContractRepository
from ndis_rules.adapters.memory_store import InMemoryContractRepository
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.ports import ContractRepository
from ndis_rules.store_errors import (
    StaleContractError,
    StoreError,
    StoreIntegrityError,
    StoreUnavailable,
)
from ndis_rules.testing.contracts import ContractRepositoryContract, sample_contract


class TestInMemoryRepository(ContractRepositoryContract):
    def make_repository(self, tmp_path: Path) -> ContractRepository:
        return InMemoryContractRepository()


class TestSqliteInMemoryRepository(ContractRepositoryContract):
    def make_repository(self, tmp_path: Path) -> ContractRepository:
        return SqliteContractRepository(":memory:")


class TestSqliteFileRepository(ContractRepositoryContract):
    def make_repository(self, tmp_path: Path) -> ContractRepository:
        return SqliteContractRepository(tmp_path / "contracts.db")

    def reopen(self, repo: ContractRepository, tmp_path: Path) -> ContractRepository:
        return SqliteContractRepository(tmp_path / "contracts.db")


class TestJsonFileRepository(ContractRepositoryContract):
    def make_repository(self, tmp_path: Path) -> ContractRepository:
        return JsonFileContractRepository(tmp_path / "contracts")

    def reopen(self, repo: ContractRepository, tmp_path: Path) -> ContractRepository:
        return JsonFileContractRepository(tmp_path / "contracts")


# -- SQLite specifics ---------------------------------------------------------------------------
def test_sqlite_stores_money_as_integer_cents_and_enforces_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteContractRepository(path) as repo:
        repo.save(sample_contract(), expected_version=None)
        assert repo.budget_totals_cents("C1") == {"01:plan": 1000001, "07:agency": 1}
        assert repo.ids_for_participant("430000001") == ["C1"]
        assert repo._db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    db = sqlite3.connect(path)
    try:
        types = {r[0] for r in db.execute("SELECT typeof(total_cents) FROM contract_budgets")}
        assert types == {"integer"}
        assert db.execute("SELECT typeof(total_cents) FROM contracts").fetchone() == ("integer",)
    finally:
        db.close()


def test_sqlite_delete_cascades_to_budget_rows() -> None:
    with SqliteContractRepository() as repo:
        repo.save(sample_contract(), expected_version=None)
        repo.delete("C1")
        assert repo._db.execute("SELECT count(*) FROM contract_budgets").fetchone() == (0,)


def test_sqlite_corrupt_json_is_an_integrity_error(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteContractRepository(path) as repo:
        repo.save(sample_contract(), expected_version=None)
    db = sqlite3.connect(path)
    db.execute('UPDATE contracts SET body = \'{"id": "C1", "total": 1.5}\'')
    db.commit()
    db.close()
    with SqliteContractRepository(path) as repo, pytest.raises(StoreIntegrityError, match="C1"):
        repo.get("C1")


def test_sqlite_version_column_and_json_must_agree(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteContractRepository(path) as repo:
        repo.save(sample_contract(), expected_version=None)
    db = sqlite3.connect(path)
    db.execute("UPDATE contracts SET version = 9")
    db.commit()
    db.close()
    with SqliteContractRepository(path) as repo, pytest.raises(StoreIntegrityError):
        repo.get("C1")


def test_sqlite_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    path.write_bytes(b"this is not an sqlite database, just some text" * 20)
    with pytest.raises(StoreIntegrityError) as info:
        SqliteContractRepository(path)
    assert not isinstance(info.value, sqlite3.Error)


def test_sqlite_locked_database_is_unavailable_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteContractRepository(path) as repo:
        repo.save(sample_contract(), expected_version=None)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            slow = SqliteContractRepository.__new__(SqliteContractRepository)
            slow.path = str(path)
            slow._db = sqlite3.connect(path, timeout=0.05, isolation_level=None)
            with pytest.raises(StoreUnavailable):
                slow.save(sample_contract(notes=["x"]), expected_version=0)
            slow.close()
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert repo.get("C1") == sample_contract()


def test_sqlite_closed_store_is_unavailable() -> None:
    repo = SqliteContractRepository()
    repo.close()
    with pytest.raises(StoreUnavailable):
        repo.ids()
    with pytest.raises(StoreError):
        repo.save(sample_contract(), expected_version=None)


def test_sqlite_stale_save_rolls_back(tmp_path: Path) -> None:
    with SqliteContractRepository(tmp_path / "c.db") as repo:
        repo.save(sample_contract(), expected_version=None)
        with pytest.raises(StaleContractError):
            repo.save(sample_contract(budgets=[]), expected_version=5)
        assert repo.budget_totals_cents("C1") == {"01:plan": 1000001, "07:agency": 1}
        assert not repo._db.in_transaction


# -- JSON-file specifics ------------------------------------------------------------------------
def test_jsonfile_writes_money_as_strings_and_leaves_no_temp_files(tmp_path: Path) -> None:
    repo = JsonFileContractRepository(tmp_path)
    repo.save(sample_contract(), expected_version=None)
    repo.save(sample_contract(notes=["n"]), expected_version=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".lock", "C1.json"]
    data = json.loads((tmp_path / "C1.json").read_text())
    assert data["total"] == "9999999999.99"
    assert data["delivered"][0]["from"] == "2025-07-02"


def test_jsonfile_failed_replace_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = JsonFileContractRepository(tmp_path)
    repo.save(sample_contract(), expected_version=None)

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(StoreUnavailable, match="No space"):
        repo.save(sample_contract(notes=["lost"]), expected_version=0)
    monkeypatch.undo()
    assert repo.get("C1") == sample_contract()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "C1.json"]


def test_jsonfile_corrupt_file_is_an_integrity_error(tmp_path: Path) -> None:
    repo = JsonFileContractRepository(tmp_path)
    (tmp_path / "C1.json").write_text("{not json")
    with pytest.raises(StoreIntegrityError, match=r"C1\.json"):
        repo.get("C1")
    (tmp_path / "C2.json").write_text(sample_contract("C9").model_dump_json(by_alias=True))
    with pytest.raises(StoreIntegrityError, match="C9"):
        repo.get("C2")


def test_jsonfile_directory_that_is_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(StoreUnavailable):
        JsonFileContractRepository(tmp_path / "f")
