"""Fault injection around PACE sync, checked by reading the store back: a failing save during
``sync_apply`` (each statement of the SQLite save in turn, disk full or an interruption; the
JSON-file store's ``os.replace``) leaves the store unchanged and a retry applies cleanly; a PACE
source that times out, refuses, is not authorised or answers garbage touches nothing."""

from __future__ import annotations

import errno
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from faults import FaultyConnection, dump
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ndis_rules.adapters import jsonfile_store
from ndis_rules.adapters.jsonfile_store import JsonFileContractRepository
from ndis_rules.adapters.pace_jsondir import JsonDirPaceSource
from ndis_rules.adapters.pace_memory import InMemoryPaceSource
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.merge import ACCEPTABLE_CODES
from ndis_rules.pace import ParticipantRef
from ndis_rules.services.sync import sync_apply, sync_preview
from ndis_rules.store_errors import (
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
    StoreError,
)
from ndis_rules.testing.strategies import ChangeSetInput, change_set_inputs

WHO = ParticipantRef(ndis_number="430000001", last_name="Citizen", date_of_birth=date(1990, 1, 31))


def _source(case: ChangeSetInput) -> InMemoryPaceSource:
    s = InMemoryPaceSource()
    s.add_participant(WHO, [case.plan])
    return s


class Crash(Exception):
    """The process dies between two statements of the save."""


@settings(deadline=None)
@given(change_set_inputs(), st.integers(0, 30), st.sampled_from(["disk_full", "crash"]))
def test_a_failing_sqlite_save_in_sync_apply_leaves_the_store_unchanged(
    case: ChangeSetInput, k: int, fault: str
) -> None:
    with SqliteContractRepository(":memory:") as repo:
        repo.save(case.contract, expected_version=None)

        def rows() -> Any:
            db = getattr(repo._db, "real", repo._db)
            return (db.execute("SELECT * FROM contracts").fetchall(),
                    db.execute("SELECT * FROM contract_budgets").fetchall())

        before = rows()
        cs = sync_preview(repo, _source(case), WHO, "C1", today=case.today, plan_id="P1")
        if not cs.has_changes:
            return
        real = repo._db
        conn = (
            FaultyConnection(real, fail_at=k, error=Crash)
            if fault == "crash"
            else FaultyConnection(real, fail_at=k)
        )
        repo._db = conn  # type: ignore[assignment]
        try:
            sync_apply(repo, cs, accept=ACCEPTABLE_CODES)
        except (StoreError, Crash) as exc:
            event("save failed")
            assert conn.fired == 1
            assert isinstance(exc, Crash) == (fault == "crash")
            repo._db = real
            assert rows() == before and repo.get("C1") == case.contract
            saved = sync_apply(repo, cs, accept=ACCEPTABLE_CODES)  # the retry goes through
        else:
            event("save went through")
            assert conn.fired == 0
            repo._db = real
            saved = repo.get("C1")
        assert saved.version == case.contract.version + 1
        again = sync_preview(repo, _source(case), WHO, "C1", today=case.today, plan_id="P1")
        assert not again.has_changes


@settings(deadline=None)
@given(change_set_inputs())
def test_a_failing_replace_in_sync_apply_leaves_the_json_store_unchanged(
    case: ChangeSetInput,
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        repo = JsonFileContractRepository(d)
        repo.save(case.contract, expected_version=None)
        before = {p.name: p.read_bytes() for p in Path(d).iterdir()}
        cs = sync_preview(repo, _source(case), WHO, "C1", today=case.today, plan_id="P1")
        with pytest.MonkeyPatch.context() as m:

            def refuse(*_: Any) -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

            m.setattr(jsonfile_store.os, "replace", refuse)
            if cs.has_changes:
                with pytest.raises(StoreError):
                    sync_apply(repo, cs, accept=ACCEPTABLE_CODES)
            else:
                assert sync_apply(repo, cs, accept=ACCEPTABLE_CODES) == case.contract
        assert {p.name: p.read_bytes() for p in Path(d).iterdir()} == before
        assert JsonFileContractRepository(d).get("C1") == case.contract


FAULTS = {
    "timeout": SourceTimeout,
    "refused": SourceRefused,
    "not_authorised": SourceNotAuthorised,
    "payload": SourcePayloadError,
}


@settings(deadline=None)
@given(change_set_inputs(), st.sampled_from(sorted(FAULTS)), st.booleans())
def test_source_faults_touch_nothing(case: ChangeSetInput, fault: Any, always: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.db"
        with SqliteContractRepository(path) as repo:
            repo.save(case.contract, expected_version=None)
        before = dump(path)
        source = _source(case)
        if always:
            source.fail_always(fault)
        else:
            source.fail_next(fault)
        with SqliteContractRepository(path) as repo:
            for _ in range(3 if always else 1):
                with pytest.raises(FAULTS[fault]):
                    sync_preview(repo, source, WHO, "C1", today=case.today, plan_id="P1")
        assert dump(path) == before


def test_json_directory_source_failures_touch_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.db"
    contract = _contract()
    with SqliteContractRepository(path) as repo:
        repo.save(contract, expected_version=None)
    before = dump(path)
    pace = tmp_path / "pace"
    cases: list[tuple[str, type[SourceError]]] = [
        ("missing directory", SourceRefused),
        ("not json", SourcePayloadError),
        ("bad plan", SourcePayloadError),
        ("unreadable", SourceRefused),
        ("not authorised", SourceNotAuthorised),
    ]
    who = '{"ndis_number": "430000001", "last_name": "Citizen", "date_of_birth": "1990-01-31"}'
    for name, error in cases:
        if name != "missing directory":
            pace.mkdir(exist_ok=True)
        f = pace / "430000001.json"
        match name:
            case "not json":
                f.write_text('{"participant": ', encoding="utf-8")
            case "bad plan":
                f.write_text('{"participant": ' + who + ', "plan": {"plan_id": ""}}', "utf-8")
            case "unreadable":
                f.write_text('{"participant": ' + who + "}", encoding="utf-8")

                def unreadable(*_: Any, **__: Any) -> str:
                    raise PermissionError(errno.EACCES, "Permission denied")

                monkeypatch.setattr(Path, "read_text", unreadable)
            case "not authorised":
                monkeypatch.undo()
                f.write_text('{"participant": ' + who + ', "authorised": false}', "utf-8")
        with SqliteContractRepository(path) as repo, pytest.raises(error):
            sync_preview(repo, JsonDirPaceSource(pace), WHO, "C1", today=date(2025, 9, 1))
        monkeypatch.undo()
        assert dump(path) == before, name


def _contract() -> Any:
    from ndis_rules.models import Contract

    return Contract.model_validate(
        {"id": "C1", "participant": "430000001", "plan_id": "P1", "start": "2025-07-01",
         "end_inclusive": "2026-06-30",
         "budgets": [{"category": "01", "management": "plan", "total": "400.00"}]}
    )
