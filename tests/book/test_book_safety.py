"""The book under concurrency and faults, measured (docs/testing.md, "The book"):

* two real processes recording into one SQLite book at once: the same file (nothing recorded
  twice) and two halves of a file (no update lost);
* a kill loop: a child process killed with SIGKILL at a random instant during record, submit or
  results; the book read back is before or after the operation, its journal consistent, and the
  next run works;
* disk full while the upload files are written: no folder, no partial file, the book unchanged.

The default run keeps the trial counts small; ``BOOK_TRIALS=N`` raises them (the figures in
docs/testing.md were taken with N=100).
"""

from __future__ import annotations

import errno
import multiprocessing as mp
import os
import random
import shutil
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.adapters.book_sqlite import SqliteBookStore
from ndis_rules.book import LIVE_STATES
from ndis_rules.files import atomic
from ndis_rules.files.bpr import read_bpr
from ndis_rules.files.contracts import load_contracts
from ndis_rules.services.book import Book

EXAMPLE = Path(__file__).parents[2] / "examples" / "book"
TODAY = __import__("datetime").date(2025, 12, 1)
TRIALS = int(os.environ.get("BOOK_TRIALS", "8"))
CTX = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()


def _book(path: Path) -> Book:
    return Book(SqliteBookStore(path))


def _prepared(path: Path) -> Path:
    b = _book(path)
    b.init()
    b.import_contracts(load_contracts(EXAMPLE / "contracts"), source_digest="example")
    b.store.close()
    return path


def _record(path: str, csv: str, barrier: Any = None) -> None:
    b = _book(Path(path))
    rows = read_bpr(csv)
    if barrier is not None:
        barrier.wait()
    b.check(rows, today=TODAY, record=True, source="claims.csv", file_digest=csv)
    b.store.close()


def _submit(path: str, out: str) -> None:
    b = _book(Path(path))
    b.submit(Path(out))
    b.store.close()


def _results(path: str) -> None:
    b = _book(Path(path))
    b.results((EXAMPLE / "results.csv").read_text())
    b.store.close()


def _consistent(path: Path) -> dict[str, int]:
    """Read the book back and check every invariant; the lines per state."""
    store = SqliteBookStore(path)
    try:
        snap = store.snapshot()
        journal = store.journal()
        assert snap.version == len(journal), "one journal entry per committed operation"
        assert [j.seq for j in journal] == list(range(1, len(journal) + 1))
        delivered = {d.id: d for c in snap.contracts.values() for d in c.delivered}
        seen: Counter[str] = Counter()
        for line in snap.lines.values():
            for ds in line.delivered_ids:
                seen[ds] += 1
                status = delivered[ds].status
                assert status == ("active" if line.state in LIVE_STATES else "cancelled"), line
        assert all(n == 1 for n in seen.values()), "a delivered service belongs to one line"
        book_ds = [d for d in delivered if d.startswith("book:")]
        assert sorted(book_ds) == sorted(seen), "no delivered service without its line"
        return dict(Counter(line.state for line in snap.lines.values()))
    finally:
        store.close()


def test_two_processes_recording_the_same_file_record_it_once(tmp_path: Path) -> None:
    outcomes: Counter[str] = Counter()
    for trial in range(TRIALS):
        path = _prepared(tmp_path / f"same-{trial}.db")
        barrier = CTX.Barrier(2)
        procs = [
            CTX.Process(target=_record, args=(str(path), str(EXAMPLE / "claims.csv"), barrier))
            for _ in range(2)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        assert _consistent(path) == {"recorded": 17}
        journal = SqliteBookStore(path).journal()
        records = sorted(
            j.outcome.split(",")[0] for j in journal if j.operation == "check --record"
        )
        assert records == ["recorded 0", "recorded 17"]
        outcomes["once"] += 1
    assert outcomes["once"] == TRIALS


def test_two_processes_recording_two_halves_lose_no_update(tmp_path: Path) -> None:
    lines = (EXAMPLE / "claims.csv").read_text().splitlines()
    half_a = tmp_path / "a.csv"
    half_b = tmp_path / "b.csv"
    half_a.write_text("\n".join([lines[0], *lines[1:16]]) + "\n")
    half_b.write_text("\n".join([lines[0], *lines[16:]]) + "\n")
    for trial in range(TRIALS):
        path = _prepared(tmp_path / f"halves-{trial}.db")
        barrier = CTX.Barrier(2)
        procs = [
            CTX.Process(target=_record, args=(str(path), str(f), barrier)) for f in (half_a, half_b)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        states = _consistent(path)
        # each half recorded alone gives the same keys: the union is every allowed line
        assert sum(states.values()) >= 16, states
        store = SqliteBookStore(path)
        ops = [j for j in store.journal() if j.operation == "check --record"]
        store.close()
        assert len(ops) == 2 and sum(len(j.ids) for j in ops) == sum(states.values())


def _kill_at_random(target: Any, args: tuple[Any, ...], window: float) -> bool:
    """Run ``target`` in a child and SIGKILL it after a random delay; True if it was killed
    before finishing."""
    p = CTX.Process(target=target, args=args)
    p.start()
    time.sleep(random.uniform(0, window))
    killed = p.is_alive()
    if killed:
        os.kill(p.pid or 0, signal.SIGKILL)
    p.join(60)
    return killed and p.exitcode == -signal.SIGKILL


@pytest.mark.parametrize("operation", ["record", "submit", "results"])
def test_a_kill_at_any_instant_leaves_the_book_before_or_after(
    tmp_path: Path, operation: str
) -> None:
    template = _prepared(tmp_path / "template.db")
    if operation in {"submit", "results"}:
        _record(str(template), str(EXAMPLE / "claims.csv"))
    if operation == "results":
        _submit(str(template), str(tmp_path / "template-upload"))
    before = _consistent(template)
    # the window: how long the operation takes in a child process, start to exit
    probe = tmp_path / "probe.db"
    shutil.copy(template, probe)
    started = time.perf_counter()
    p = CTX.Process(
        target={"record": _record, "submit": _submit, "results": _results}[operation],
        args={
            "record": (str(probe), str(EXAMPLE / "claims.csv")),
            "submit": (str(probe), str(tmp_path / "probe-up")),
            "results": (str(probe),),
        }[operation],
    )
    p.start()
    p.join(60)
    window = (time.perf_counter() - started) * 1.1
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        path = tmp_path / f"{operation}-{trial}.db"
        shutil.copy(template, path)
        out = tmp_path / f"up-{trial}"
        args: dict[str, tuple[Any, ...]] = {
            "record": (str(path), str(EXAMPLE / "claims.csv")),
            "submit": (str(path), str(out)),
            "results": (str(path),),
        }
        target = {"record": _record, "submit": _submit, "results": _results}[operation]
        killed = _kill_at_random(target, args[operation], window=window)
        states = _consistent(path)
        if states == before:
            tally["before" + (" (killed)" if killed else "")] += 1
        else:
            tally["after" + (" (killed)" if killed else "")] += 1
            expected = {
                "record": {"recorded": 17},
                "submit": {"submitted": 17},
                "results": {"paid": 15, "rejected": 2},
            }[operation]
            assert states == expected
        if operation == "submit" and out.exists():
            assert len(list(out.iterdir())) == 1  # a placed folder is whole
        # whatever the instant, the next run works and finishes the operation
        target(*args[operation][:1], *(
            (str(tmp_path / f"again-{trial}"),) if operation == "submit" else args[operation][1:]
        ))
        assert sum(_consistent(path).values()) == 17
    print(f"\nkill loop {operation}: {TRIALS} trials in {window:.3f}s: {dict(tally)}")
    assert sum(tally.values()) == TRIALS


def test_disk_full_while_writing_the_upload_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _prepared(tmp_path / "book.db")
    _record(str(path), str(EXAMPLE / "claims.csv"))
    real_write = os.write
    calls = {"n": 0}

    def full(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] >= 1:
            return real_write(fd, bytes(data)[:100]) if calls["n"] == 1 else _enospc()
        return real_write(fd, data)  # pragma: no cover

    def _enospc() -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "write", full)
    b = _book(path)
    with pytest.raises(OSError, match="No space"):
        b.submit(tmp_path / "upload")
    monkeypatch.undo()
    assert not (tmp_path / "upload").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert _consistent(path) == {"recorded": 17}
    assert b.submit(tmp_path / "upload").keys  # with room again it goes through
    assert _consistent(path) == {"submitted": 17}
