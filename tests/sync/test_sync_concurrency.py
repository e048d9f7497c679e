"""Two ``sync apply`` runs at once on one contract (a single file, or the JSON-file store): the
version is compared and the file written under the folder's lock, so exactly one succeeds, the
other is refused as stale (exit 2) and nothing is lost (docs/testing.md, "sync apply at once").

Each trial saves two different reviewed change sets built on version 0 (PACE gives 17500.00 to
one and 18000.00 to the other), then runs two real processes (fork) released together by a
barrier. ``SYNC_TRIALS=N`` sets the trials (6 in the default run)."""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.adapters.jsonfile_store import JsonFileContractRepository
from ndis_rules.cli import main
from ndis_rules.files.atomic import folder_lock
from ndis_rules.files.documents import read_contract

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "sync"
NUMBER = "430000001"
TRIALS = int(os.environ.get("SYNC_TRIALS", "6"))
CTX = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
pytestmark = pytest.mark.skipif(CTX is None, reason="needs fork")
TOTALS = {"a": "17500.00", "b": "18000.00"}


def _plans(work: Path, which: str) -> Path:
    folder = work / f"plans-{which}"
    shutil.copytree(EXAMPLES / "plans", folder)
    path = folder / f"{NUMBER}.json"
    text = path.read_text()
    if which == "b":  # PACE says something else to the second reviewer
        text = text.replace('"totalFunding": "17500.00"', '"totalFunding": "18000.00"')
    path.write_text(text)
    return folder


def _where(work: Path, mode: str) -> list[str]:
    if mode == "file":
        return ["--contract", str(work / "contracts" / "contract.json")]
    return ["--store", str(work / "contracts"), "--contract-id", "C-SYNC-1"]


def _prepare(work: Path, mode: str) -> dict[str, Path]:
    (work / "contracts").mkdir(parents=True)
    contract = read_contract(EXAMPLES / "contract.json")
    if mode == "file":
        shutil.copy(EXAMPLES / "contract.json", work / "contracts" / "contract.json")
    else:
        JsonFileContractRepository(work / "contracts").save(contract, None)
    saved: dict[str, Path] = {}
    for which in ("a", "b"):
        plans = _plans(work, which)
        saved[which] = work / f"reviewed-{which}.json"
        code = main(
            ["sync", "preview", *_where(work, mode), "--plans", str(plans), "--participant",
             NUMBER, "--today", "2025-10-01", "--save", str(saved[which])],
            out=io.StringIO(),
        )  # fmt: skip
        assert code == 1
    return saved


def _apply_argv(work: Path, mode: str, which: str, saved: Path) -> list[str]:
    return [
        "sync", "apply", *_where(work, mode), "--plans", str(work / f"plans-{which}"),
        "--participant", NUMBER, "--today", "2025-10-01", "--changes", str(saved),
        "--accept", "TOTAL_BELOW_DELIVERED",
    ]  # fmt: skip


def _child(argv: list[str], barrier: Any, result: Any) -> None:
    err = io.StringIO()
    sys.stderr = err
    if barrier is not None:
        barrier.wait()
    code = main(argv, out=io.StringIO())
    result.put((argv[argv.index("--changes") + 1], code, err.getvalue()))


def _stored(work: Path, mode: str) -> tuple[int, str]:
    if mode == "file":
        c = read_contract(work / "contracts" / "contract.json")
    else:
        c = JsonFileContractRepository(work / "contracts").get("C-SYNC-1")
    return c.version, str(c.total)


@pytest.mark.parametrize("mode", ["file", "jsonstore"])
def test_two_applies_at_once_one_wins_the_other_is_stale(tmp_path: Path, mode: str) -> None:
    assert CTX is not None
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        work = tmp_path / f"{mode}-{trial}"
        saved = _prepare(work, mode)
        barrier = CTX.Barrier(2)
        results = CTX.Queue()
        procs = [
            CTX.Process(
                target=_child,
                args=(_apply_argv(work, mode, w, saved[w]), barrier, results),
                daemon=True,
            )
            for w in ("a", "b")
        ]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(60)
        codes = sorted(code for _, code, _ in outcomes)
        assert codes == [0, 2], outcomes
        winner = next(path for path, code, _ in outcomes if code == 0)
        loser_err = next(err for _, code, err in outcomes if code == 2)
        assert loser_err.count("\n") == 1
        assert "is at version 1, not the expected version 0" in loser_err
        which = "a" if winner.endswith("reviewed-a.json") else "b"
        # nothing lost: the contract is exactly the winner's change set applied once
        assert _stored(work, mode) == (1, TOTALS[which])
        assert not [p.name for p in (work / "contracts").iterdir() if p.name.endswith(".tmp")]
        tally[which] += 1
    print(f"\nsync apply at once ({mode}): {TRIALS} trials, winner {dict(tally)}")
    assert sum(tally.values()) == TRIALS


@pytest.mark.parametrize("mode", ["file", "jsonstore"])
def test_apply_waits_for_the_lock_and_compares_after_it(tmp_path: Path, mode: str) -> None:
    """Deterministic: while another writer holds the folder's lock and moves the contract on,
    apply waits; once the lock is free it sees the new version and refuses as stale."""
    assert CTX is not None
    work = tmp_path / mode
    saved = _prepare(work, mode)
    results = CTX.Queue()
    go = CTX.Barrier(2)
    child = CTX.Process(
        target=_child, args=(_apply_argv(work, mode, "a", saved["a"]), go, results), daemon=True
    )
    child.start()  # before the lock is taken: a forked child would inherit it
    with folder_lock(work / "contracts"):
        go.wait()
        time.sleep(1.0)  # the child reads the plan and waits for the lock
        assert child.is_alive() and results.empty()
        # another writer (holding the lock) moves the contract to version 1
        if mode == "file":
            path = work / "contracts" / "contract.json"
            c = read_contract(path)
            path.write_text(c.model_copy(update={"version": 1}).model_dump_json(by_alias=True))
        else:
            folder = work / "contracts"
            c = read_contract(EXAMPLES / "contract.json")
            data = c.model_copy(update={"version": 1}).model_dump_json(by_alias=True)
            (folder / "C-SYNC-1.json").write_text(data)
    _, code, err = results.get(timeout=60)
    child.join(60)
    assert code == 2 and "is at version 1, not the expected version 0" in err
    assert _stored(work, mode) == (1, "16500.00")
