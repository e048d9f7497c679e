"""A JSON-file store save killed at any instant leaves nothing that breaks a later run: a child
process saves a contract again and again and is killed (SIGKILL) at a random instant; then
``claims check --contracts FOLDER`` and the store both still work, and the contract read back is
whole (a version the child wrote, before or after the save it was in). A temporary file a kill
leaves (``.<name>.<random>.tmp``) is skipped by every reader of the folder.

``KILL_TRIALS=N`` sets the trials (15 in the default run); docs/testing.md has the figures."""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from ndis_rules.adapters.jsonfile_store import JsonFileContractRepository
from ndis_rules.cli import main
from ndis_rules.files.atomic import is_temporary
from ndis_rules.files.contracts import load_contracts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "book"
TRIALS = int(os.environ.get("KILL_TRIALS", "15"))
CTX = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
pytestmark = pytest.mark.skipif(CTX is None, reason="needs fork")


def _saving_forever(folder: str, contract_id: str) -> None:
    repo = JsonFileContractRepository(folder)
    while True:
        c = repo.get(contract_id)
        repo.save(c, expected_version=c.version)


def _check(folder: Path) -> int:
    return main(
        ["claims", "check", str(EXAMPLE / "claims.csv"), "--contracts", str(folder),
         "--today", "2025-12-01", "--format", "json"],
        out=io.StringIO(),
    )  # fmt: skip


def test_a_killed_save_never_breaks_a_later_check(tmp_path: Path) -> None:
    assert CTX is not None
    folder = tmp_path / "store"
    repo = JsonFileContractRepository(folder)
    contracts = load_contracts(EXAMPLE / "contracts")
    for c in contracts:
        repo.save(c, expected_version=None)
    baseline = _check(folder)
    assert baseline in (0, 1)
    target = contracts[0].id
    tally: Counter[str] = Counter()
    for _ in range(TRIALS):
        before = repo.get(target).version
        child = CTX.Process(target=_saving_forever, args=(str(folder), target), daemon=True)
        child.start()
        time.sleep(random.uniform(0.01, 0.08))
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join(30)
        assert child.exitcode == -signal.SIGKILL
        leftovers = [p.name for p in folder.iterdir() if is_temporary(p.name)]
        tally["temporary file left" if leftovers else "no temporary file"] += 1
        # a later run: the check and the store both work, the contract is whole
        assert _check(folder) == baseline
        fresh = JsonFileContractRepository(folder)
        assert sorted(fresh.ids()) == sorted(c.id for c in contracts)
        after = fresh.get(target)
        assert after.version >= before  # before or after each save, never less
        assert after.model_copy(update={"version": 0}) == contracts[0]
        saved = fresh.save(after, expected_version=after.version)  # and it saves again
        assert saved.version == after.version + 1
        # the next save swept what the killed one left
        assert [p.name for p in folder.iterdir() if is_temporary(p.name)] == []
        tally["saves"] += saved.version - before - 1
    print(f"\nJSON store kill loop: {TRIALS} trials: {dict(tally)}")
    assert tally["temporary file left"] + tally["no temporary file"] == TRIALS
