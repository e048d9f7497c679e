"""The shell helpers both batches, both SQLite stores and both HTTP adapters share: each behaves
the one way its users relied on when they had their own copy."""

from __future__ import annotations

import argparse
import io
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ndis_rules.adapters.http_client import HttpFailure, map_failure
from ndis_rules.adapters.sqlite_common import connect, in_memory, wrap_error
from ndis_rules.cli import batch as cli_batch
from ndis_rules.errors import InputError, StoreIntegrityError, StoreUnavailable
from ndis_rules.files.documents import read_text
from ndis_rules.pace import ParticipantRef
from ndis_rules.proda import Participant
from ndis_rules.services.batch import (
    Outcome,
    Progress,
    Totals,
    check_retries,
    distinct,
    run_batch,
)
from ndis_rules.services.bookings import SyncProgress, SyncReport
from ndis_rules.services.sync import BatchProgress, BatchReport


@dataclass(frozen=True)
class Who:
    ndis_number: str


@dataclass(frozen=True)
class Done:
    participant: Who
    outcome: Outcome
    contract_id: str | None = None
    message: str = ""


# -- services.batch ------------------------------------------------------------------------------


def test_run_batch_counts_every_outcome_and_reports_after_each_participant() -> None:
    outcomes: dict[str, Outcome] = {
        "1": "success",
        "2": "failed",
        "3": "uncompleted",
        "4": "no_active_contract",
        "5": "success",
    }
    events: list[Progress[Who]] = []
    totals = run_batch(
        [Who(n) for n in outcomes],
        lambda w: Done(w, outcomes[w.ndis_number]),
        event=Progress,
        progress=events.append,
        report=Totals,
    )
    assert (totals.total, totals.processed, totals.success, totals.failed, totals.uncompleted) == (
        5, 4, 2, 1, 1,
    )
    assert totals.no_active_contract == (Who("4"),)
    assert [r.participant.ndis_number for r in totals.results] == list(outcomes)
    assert [(e.participant.ndis_number, e.outcome, e.done) for e in events] == [
        (n, o, i) for i, (n, o) in enumerate(outcomes.items(), start=1)
    ]
    for e in events:
        assert e.processed == e.success + e.failed + e.uncompleted
    assert [e.percent for e in events] == [20, 40, 60, 80, 100]


def test_run_batch_with_nobody_is_done_and_sends_nothing() -> None:
    events: list[Progress[Who]] = []
    totals: Totals[Who, Done] = run_batch(
        [], lambda w: Done(w, "success"), event=Progress, progress=events.append, report=Totals
    )
    assert (totals.total, totals.results, events) == (0, (), [])
    assert Progress(0, 0, 0, 0, 0, 0, Who("1"), "success").percent == 100


def test_distinct_keeps_the_first_of_each_ndis_number_in_order() -> None:
    first, again = Who("2"), Who("2")
    assert distinct([first, Who("1"), again]) == [first, Who("1")]
    assert distinct([first, Who("1"), again])[0] is first


def test_check_retries_refuses_a_negative_number_only() -> None:
    check_retries(0)
    with pytest.raises(ValueError, match="retries must be 0 or more, got -1"):
        check_retries(-1)


def test_both_batches_use_the_shared_types() -> None:
    p = Participant(ndis_number="430000001", name="A", date_of_birth=date(1990, 1, 1))
    ref = ParticipantRef(ndis_number="430000001", last_name="A", date_of_birth=date(1990, 1, 1))
    assert isinstance(SyncProgress(1, 1, 1, 0, 0, 0, p, "success"), Progress)
    assert isinstance(BatchProgress(1, 1, 1, 0, 0, 0, ref, "success"), Progress)
    assert isinstance(SyncReport(1, 1, 1, 0, 0, ()), Totals)
    report = BatchReport(1, 1, 1, 0, 0, (), (), applied=True)
    assert isinstance(report, Totals) and report.applied and report.all_done


# -- cli.batch -----------------------------------------------------------------------------------


def test_counters_line_reads_an_event_and_a_report_alike() -> None:
    event = Progress(3, 2, 1, 1, 0, 1, Who("1"), "failed")
    report: Totals[Who, Done] = Totals(3, 2, 1, 1, 0, (Who("9"),))
    expected = "total 3  processed 2  success 1  failed 1  uncompleted 0  no active contract 1"
    assert cli_batch.counters_line(event) == cli_batch.counters_line(report) == expected
    assert cli_batch.counters_dict(Totals(3, 2, 1, 1, 0, (Who("9"),))) == {
        "total": 3, "processed": 2, "success": 1, "failed": 1, "uncompleted": 0,
        "no_active_contract": 1,
    }


def test_attention_lines_name_each_unfinished_participant_under_its_title() -> None:
    results = [
        Done(Who("1"), "success"),
        Done(Who("2"), "no_active_contract", None, "No active contract: no contract"),
        Done(Who("3"), "uncompleted", "C3", "Not finished"),
        Done(Who("4"), "failed", "C4", "Refused"),
    ]
    lines = cli_batch.attention_lines(
        results, lambda w: f"#{w.ndis_number}", failed="needs attention"
    )
    assert lines == [
        "",
        "needs attention:",
        "  #4 [contract C4]: Refused",
        "",
        "uncompleted (re-run to retry):",
        "  #3 [contract C3]: Not finished",
        "",
        "no active contract:",
        "  #2: No active contract: no contract",
    ]
    assert cli_batch.attention_lines(results[:1], str, failed="failed") == []


def test_exit_code_is_0_only_when_every_participant_succeeded_and_nothing_else_waits() -> None:
    assert cli_batch.exit_code(Totals(2, 2, 2, 0, 0, ())) == 0
    assert cli_batch.exit_code(Totals(2, 2, 2, 0, 0, ()), attention=True) == 1
    assert cli_batch.exit_code(Totals(2, 1, 1, 0, 0, (Who("2"),))) == 1
    assert cli_batch.exit_code(Totals(0, 0, 0, 0, 0, ())) == 0


def test_plain_progress_lines_name_the_participant_by_the_display_label() -> None:
    class Named(cli_batch.BatchProgressDisplay[Who]):
        def label(self, participant: Who) -> str:
            return f"name ({participant.ndis_number})"

    plain, named = io.StringIO(), io.StringIO()
    event = Progress(2, 0, 0, 0, 0, 1, Who("7"), "no_active_contract")
    cli_batch.BatchProgressDisplay[Who](plain)(event)
    Named(named)(event)
    tail = "; total 2  processed 0  success 0  failed 0  uncompleted 0  no active contract 1\n"
    assert plain.getvalue() == "progress 1/2 (50%): 7 no active contract" + tail
    assert named.getvalue() == "progress 1/2 (50%): name (7) no active contract" + tail


def test_retries_arg_takes_a_whole_number_of_0_or_more() -> None:
    assert cli_batch.retries_arg("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match="must be 0 or more"):
        cli_batch.retries_arg("-1")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a whole number"):
        cli_batch.retries_arg("two")


def test_participant_lists_name_the_position_of_a_bad_or_repeated_entry(tmp_path: Path) -> None:
    good = tmp_path / "people.json"
    good.write_text(
        '[{"ndis_number": "430000001", "last_name": "A", "date_of_birth": "1990-01-01"},'
        ' {"ndis_number": "430000001", "last_name": "B", "date_of_birth": "1991-01-01"}]',
        encoding="utf-8",
    )
    people = cli_batch.read_model_list(good, ParticipantRef, "participants")
    with pytest.raises(InputError) as repeated:
        cli_batch.refuse_repeated_numbers(people, str(good))
    assert repeated.value.loc == (1, "ndis_number")
    assert "already given at 0" in str(repeated.value)
    assert "A" not in str(repeated.value).replace(str(good), "")  # no name echoed

    bad = tmp_path / "bad.json"
    bad.write_text('[{"ndis_number": "430000001", "last_name": "A"}]', encoding="utf-8")
    with pytest.raises(InputError) as missing:
        cli_batch.read_model_list(bad, ParticipantRef, "participants")
    assert missing.value.problems[0].startswith("0.date_of_birth")
    not_list = tmp_path / "obj.json"
    not_list.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="expected a JSON list of participants"):
        cli_batch.read_model_list(not_list, ParticipantRef, "participants")


# -- adapters.sqlite_common ----------------------------------------------------------------------


def test_wrap_error_maps_each_kind_of_sqlite_error() -> None:
    assert isinstance(wrap_error(sqlite3.IntegrityError("x"), "w"), StoreIntegrityError)
    assert isinstance(wrap_error(sqlite3.DatabaseError("file is not a database"), "w"),
                      StoreIntegrityError)
    assert isinstance(wrap_error(sqlite3.OperationalError("locked"), "w"), StoreUnavailable)
    assert isinstance(wrap_error(sqlite3.ProgrammingError("closed"), "w"), StoreUnavailable)
    assert str(wrap_error(sqlite3.OperationalError("locked"), "saving C1")) == "saving C1: locked"


def test_connect_turns_foreign_keys_on_and_wal_only_for_a_file_when_asked(tmp_path: Path) -> None:
    plain = connect(str(tmp_path / "a.db"), timeout=1.0)
    wal = connect(str(tmp_path / "b.db"), timeout=1.0, wal=True)
    memory = connect(":memory:", timeout=1.0, wal=True)
    try:
        for db in (plain, wal, memory):
            assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
            assert db.isolation_level is None
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert wal.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert wal.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert memory.execute("PRAGMA journal_mode").fetchone() == ("memory",)
    finally:
        for db in (plain, wal, memory):
            db.close()
    assert in_memory(":memory:") and in_memory("") and not in_memory("a.db")


# -- adapters.http_client ------------------------------------------------------------------------


def test_map_failure_sends_each_kind_to_its_error_with_the_attempts() -> None:
    def kinds(failure: HttpFailure) -> str:
        return str(map_failure(
            failure,
            timeout=lambda t: RuntimeError(f"timeout|{t}"),
            unavailable=lambda t: RuntimeError(f"unavailable|{t}"),
            payload=lambda t: RuntimeError(f"payload|{t}"),
            status=lambda s, tries: RuntimeError(f"status|{s}|{tries}"),
        ))

    assert kinds(HttpFailure("timeout", "GET /x: slow", attempts=3)) == (
        "timeout|GET /x: slow after 3 attempt(s)"
    )
    assert kinds(HttpFailure("unavailable", "GET /x: refused")) == "unavailable|GET /x: refused"
    assert kinds(HttpFailure("payload", "GET /x: not JSON", attempts=2)) == (
        "payload|GET /x: not JSON"
    )
    assert kinds(HttpFailure("status", "GET /x: HTTP 503", status=503, attempts=2)) == (
        "status|503| after 2 attempt(s)"
    )


# -- files.documents -----------------------------------------------------------------------------


def test_read_text_names_the_file_of_an_unreadable_or_non_utf8_one(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8 text") as err:
        read_text(latin)
    assert err.value.source == str(latin)
    with pytest.raises(InputError, match="cannot read"):
        read_text(tmp_path / "missing.json")
    ok = tmp_path / "ok.json"
    ok.write_text("{}", encoding="utf-8")
    assert read_text(ok) == "{}"
