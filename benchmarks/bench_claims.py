"""Book-scale benchmarks of the bulk claims check, each printed next to its target.

* end-to-end check of M lines over N contracts (the CLI's work: read the store, read and check
  the file, report), lines/s, against 100,000 lines/s and against 10x the time polars takes just
  to read the same CSV;
* peak memory of that run (<= 1.5 GB), and growth from M/10 to M lines (<= 12x time and memory);
* SQLite store: load N contracts (<= 2 s).

Every measured run is a fresh subprocess on one core (``taskset`` when available), so peak
memory (ru_maxrss) is that run's alone.

Run: python benchmarks/bench_claims.py --participants 5000 --lines 1000000
(generates the book under --work on first use; --quick for 500 / 50,000).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2025-11-15"


PEAK = """
import resource, sys
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def run_measured(code: str, *args: str) -> tuple[float, float, str]:
    """Run python -c code in a fresh process pinned to one core: (seconds, peak MB, stdout).
    The time includes the interpreter's start and imports, as a user's command would."""
    cmd = [sys.executable, "-c", code + PEAK, *args]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    t = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    peak_kb = int(done.stderr.split("PEAK_KB")[-1].split()[0])
    return seconds, peak_kb / 1024, done.stdout


CHECK = """
import sys
from datetime import date
from ndis_rules.files.contracts import load_contracts
from ndis_rules.services.scaleout import check_claims_streamed
contracts = load_contracts(sys.argv[1])
report = check_claims_streamed(sys.argv[2], contracts, as_of=date(2025, 11, 15))
s = report.summary
print(s.lines, s.allowed, s.warnings, s.errors, len(report.rows))
"""

POLARS = """
import sys, polars
df = polars.read_csv(sys.argv[1], infer_schema_length=0)
print(df.height)
"""

LOAD = """
import sys, time
from ndis_rules.files.contracts import load_contracts
t = time.perf_counter()
n = len(load_contracts(sys.argv[1]))
print(n, time.perf_counter() - t)
"""


def ensure_book(work: Path, participants: int, lines: int) -> Path:
    folder = work / f"book-{participants}-{lines}"
    if not (folder / "claims.csv").exists():
        subprocess.run([sys.executable, str(HERE / "generate_book.py"), "--participants",
                        str(participants), "--lines", str(lines), "--out", str(folder)],
                       check=True)
    return folder


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ndis-rules-bench"))
    parser.add_argument("--quick", action="store_true", help="500 participants, 50,000 lines")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.participants, args.lines = 500, 50_000
    big = ensure_book(args.work, args.participants, args.lines)
    small = ensure_book(args.work, args.participants, args.lines // 10)
    store = big / "contracts.sqlite"

    _load_s, _, load_out = run_measured(LOAD, str(store))
    n_contracts, load_inner = load_out.split()
    t_small, mem_small, _ = run_measured(CHECK, str(small / "contracts.sqlite"),
                                         str(small / "claims.csv"))
    t_big, mem_big, out = run_measured(CHECK, str(store), str(big / "claims.csv"))
    polars_s: float | None
    try:
        polars_s, _, _ = run_measured(POLARS, str(big / "claims.csv"))
    except subprocess.CalledProcessError:
        polars_s = None

    rate = args.lines / t_big
    figures = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, one used",
        "python": platform.python_version(),
        "participants": args.participants,
        "lines": args.lines,
        "check_seconds": round(t_big, 2),
        "lines_per_second": round(rate),
        "peak_mb": round(mem_big),
        "small_check_seconds": round(t_small, 2),
        "small_peak_mb": round(mem_small),
        "polars_read_seconds": round(polars_s, 2) if polars_s else None,
        "sqlite_load_seconds": round(float(load_inner), 2),
        "summary": out.strip(),
    }
    print(f"book: {args.participants} contracts, {args.lines} lines; {figures['machine']}; "
          f"Python {figures['python']}")
    print(f"claims check end to end: {t_big:.1f} s = {rate:,.0f} lines/s "
          f"(target >= 100,000 lines/s: {verdict(rate >= 100_000)})")
    if polars_s:
        print(f"  vs polars reading the CSV ({polars_s:.2f} s): {t_big / polars_s:.0f}x "
              f"(target <= 10x: {verdict(t_big <= 10 * polars_s)})")
    else:
        print("  polars not installed (pip install polars): ratio not measured")
    print(f"peak memory: {mem_big:,.0f} MB (target <= 1,500 MB: {verdict(mem_big <= 1500)})")
    print(f"growth {args.lines // 10} -> {args.lines} lines: time {t_big / t_small:.1f}x, "
          f"memory {mem_big / mem_small:.1f}x (target <= 12x each: "
          f"{verdict(t_big / t_small <= 12 and mem_big / mem_small <= 12)})")
    print(f"SQLite store: load {n_contracts} contracts in {float(load_inner):.2f} s "
          f"(target <= 2 s: {verdict(float(load_inner) <= 2)})")
    print(f"(summary: lines allowed warnings errors kept-rows = {out.strip()})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
