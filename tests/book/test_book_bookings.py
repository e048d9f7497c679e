"""PRODA booking ids in the book (spec/book.md, "Bookings"): ``book bookings`` runs the PRODA
bookings batch for the book's legacy contracts and records each booking id against the budget or
support it funds, once; a re-run records nothing new, and two processes at once record each id
once."""

from __future__ import annotations

import io
import json
import multiprocessing as mp
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from ndis_rules.adapters.book_sqlite import SqliteBookStore
from ndis_rules.adapters.proda_jsonfile import JsonFileProdaGateway
from ndis_rules.bookings import stored_booking_ids
from ndis_rules.cli.bookings import read_participants
from ndis_rules.cli.main import main
from ndis_rules.files.contracts import load_contracts
from ndis_rules.services.book import Book

EXAMPLE = Path(__file__).parents[2] / "examples" / "bookings"
TODAY = date(2025, 9, 1)
CTX = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()


def _prepare(tmp_path: Path) -> tuple[Path, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    book_path = tmp_path / "book.db"
    gateway = tmp_path / "gateway.json"
    shutil.copy(EXAMPLE / "gateway.json", gateway)
    book = Book(SqliteBookStore(book_path))
    book.init()
    book.import_contracts(load_contracts(EXAMPLE / "contracts"), source_digest="example")
    book.store.close()
    return book_path, gateway


def _participants() -> list[Any]:
    return [e.participant() for e in read_participants(EXAMPLE / "participants.json")]


def _state(book_path: Path) -> tuple[list[Any], dict[str, Any]]:
    store = SqliteBookStore(book_path)
    try:
        return store.bookings(), dict(store.snapshot().contracts)
    finally:
        store.close()


def _gateway_bookings(gateway: Path) -> int:
    return len(json.loads(gateway.read_text())["bookings"])


def test_bookings_recorded_once_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    book_path, gateway = _prepare(tmp_path)
    book = Book(SqliteBookStore(book_path))
    first = book.bookings(_participants(), JsonFileProdaGateway(gateway), today=TODAY)
    legacy = first.report.result_for("430000001")
    assert legacy is not None and legacy.outcome == "success"
    assert len(first.recorded) == len(legacy.booking_ids) > 0
    assert first.already == () and first.contracts == ("C-LEGACY-1",)
    records, contracts = _state(book_path)
    assert sorted(b.booking_id for b in records) == sorted(legacy.booking_ids.values())
    by_id = {b.booking_id: b for b in records}
    # each id against what it funds: a budget, or a support (with its budget)
    assert by_id[legacy.booking_ids["budget:01:plan"]].budget == "01:plan"
    assert by_id[legacy.booking_ids["budget:01:plan"]].item is None
    setup = by_id[legacy.booking_ids["support:PM-SETUP"]]
    assert (setup.budget, setup.item, setup.contract_id) == ("14", "PM-SETUP", "C-LEGACY-1")
    # ... and on the contract, where the next batch looks for it
    assert stored_booking_ids(contracts["C-LEGACY-1"]) == dict(legacy.booking_ids)
    assert contracts["C-LEGACY-1"].version == 1
    assert stored_booking_ids(contracts["C-PACE-2"]) == {}
    made = _gateway_bookings(gateway)
    journal = [e for e in book.store.journal() if e.operation == "bookings"]
    assert len(journal) == 1 and journal[0].outcome.startswith(f"recorded {len(records)} ")

    again = book.bookings(_participants(), JsonFileProdaGateway(gateway), today=TODAY)
    assert again.recorded == () and again.contracts == ()
    assert sorted(again.already) == sorted(b.booking_id for b in records)
    assert _state(book_path) == (records, contracts)
    assert _gateway_bookings(gateway) == made
    journal = [e for e in book.store.journal() if e.operation == "bookings"]
    assert len(journal) == 2 and journal[1].outcome.startswith("recorded 0 ")
    book.store.close()


def _run(book_path: str, gateway: str, barrier: Any, queue: Any) -> None:
    book = Book(SqliteBookStore(Path(book_path)))
    barrier.wait()
    out = book.bookings(_participants(), JsonFileProdaGateway(Path(gateway)), today=TODAY)
    queue.put([b.booking_id for b in out.recorded])
    book.store.close()


def test_two_processes_at_once_record_each_booking_id_once(tmp_path: Path) -> None:
    alone, alone_gateway = _prepare(tmp_path / "alone")
    Book(SqliteBookStore(alone)).bookings(
        _participants(), JsonFileProdaGateway(alone_gateway), today=TODAY
    )
    expected = len(_state(alone)[0])

    for trial in range(3):
        book_path, gateway = _prepare(tmp_path / f"t{trial}")
        barrier = CTX.Barrier(2)
        queue = CTX.Queue()
        procs = [
            CTX.Process(target=_run, args=(str(book_path), str(gateway), barrier, queue))
            for _ in range(2)
        ]
        for p in procs:
            p.start()
        got = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        recorded = [i for ids in got for i in ids]
        assert len(recorded) == len(set(recorded)) == expected  # each id recorded once
        records, contracts = _state(book_path)
        assert sorted(b.booking_id for b in records) == sorted(recorded)
        assert _gateway_bookings(gateway) == expected  # and booked once in PRODA
        assert set(stored_booking_ids(contracts["C-LEGACY-1"]).values()) == set(recorded)


def test_book_bookings_command_twice(tmp_path: Path) -> None:
    book_path, gateway = _prepare(tmp_path)

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return main(list(argv), out=out), out.getvalue()

    args = ("book", "bookings", str(book_path), "--participants",
            str(EXAMPLE / "participants.json"), "--gateway", str(gateway),
            "--today", TODAY.isoformat())  # fmt: skip
    code, out = run(*args)
    assert code == 1  # the PACE participant has no legacy contract: named, not synced
    assert "book: recorded 4 booking id(s); 0 already" in out
    assert "contract C-LEGACY-1, budget 01:plan" in out
    assert "1990-01-02" not in out  # never a date of birth
    code, out = run(*args, "--format", "json")
    doc = json.loads(out)
    assert doc["book"]["recorded"] == [] and len(doc["book"]["already"]) == 4
    assert doc["book"]["contracts_updated"] == []

    code, out = run("book", "bookings", str(tmp_path / "none.db"), "--participants",
                    str(EXAMPLE / "participants.json"), "--gateway", str(gateway))  # fmt: skip
    assert code == 2
