"""The book-scale benchmark still runs (a tiny scale, no timing assertions): every figure is
printed beside its target, and the identity checks of workers and Dask hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_claims.py"), "--scale", "0.0005",
         "--work", str(tmp_path), "--json", str(figures)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for words in ("realistic book", "pessimistic book", "one participant", "Python API",
                  "SQLite store", "--workers 2", "lines/s"):
        assert words in out, words
    assert out.count("(target ") >= 10  # each figure beside its target
    data = json.loads(figures.read_text())
    assert data["lines"] == 500 and data["workers2_identical"] is True
    assert data.get("dask_identical") in (True, None)  # None: dask not installed
    assert 0 < data["realistic_flagged"] < data["pessimistic_flagged"]
    assert data["store_load_seconds"] > 0  # the time to load the store's contracts
    assert not list(tmp_path.glob("*.out"))  # the reports it wrote were removed
