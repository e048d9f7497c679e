"""Book-scale benchmarks of the bulk claims check (issue 15), each figure printed beside its
target in one run:

* end-to-end ``ndis-rules claims check`` (the command, table report) of M lines over N
  contracts on two books: a realistic one (about 3% of lines flagged, >= 100,000 lines/s) and
  a pessimistic one (about 35%, >= 30,000 lines/s); on the realistic book, the ratio to polars'
  bare read of the same CSV, measured in the same run (<= 10x);
* peak memory (RSS) of the command on both books and on a file of M lines of one participant,
  table and JSON reports (<= 1 GB each);
* one 20-line invoice through the Python API: p95 (<= 1 ms), and 10 vs 10,000 delivered
  services (<= 1.2x);
* an SQLite store of N contracts: open it and check its first invoice (<= 1 s); load all of
  its contracts (the time printed, no target);
* ``--workers 2`` and the Dask entry point: output identical to one process, and the speed-up.

Full size: 5,000 contracts and 1,000,000 lines (``--scale 1``); ``--scale 0.05`` is a quick run
(250 / 50,000). Books are generated under ``--work`` on first use
(``benchmarks/generate_book.py``). Every measured command is a fresh process; its time includes
the interpreter's start, as a user's command would, and its peak memory is its own
(``ru_maxrss`` of the child). Timings are medians of ``--repeat`` runs.

Run: python benchmarks/bench_claims.py [--scale 1] [--repeat 3] [--json figures.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TODAY = "2025-11-15"
GB = 1024**3

MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
seconds = time.perf_counter() - t
print(seconds, code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""

POLARS = """
import sys, polars
print(polars.read_csv(sys.argv[1], infer_schema_length=0).height)
"""

STORE = """
import sys, time
t = time.perf_counter()
from datetime import date
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.claims import check_claims
from ndis_rules.files.bpr import read_bpr
imported = time.perf_counter()
with open(sys.argv[2], encoding="utf-8") as f:
    head = "".join(f.readline() for _ in range(200))
rows = read_bpr(head)
first = rows[0].row
assert first is not None
rows = [r for r in rows if r.row is not None and r.row.claim_reference == first.claim_reference
        and r.row.ndis_number == first.ndis_number]
with SqliteContractRepository(sys.argv[1]) as store:
    contracts = [store.get(i) for i in store.ids_for_participant(first.ndis_number)]
report = check_claims(rows, contracts, as_of=date(2025, 11, 15))
done = time.perf_counter()
print(done - imported, done - t, len(rows), report.summary.lines)
"""

LOAD = """
import sys, time
from ndis_rules.files.contracts import load_contracts
wall, cpu = time.perf_counter(), time.process_time()
contracts = load_contracts(sys.argv[1])
print(time.perf_counter() - wall, time.process_time() - cpu, len(contracts))
"""

DASK = """
import sys, time
from datetime import date
from pathlib import Path
from ndis_rules.claims import check_claims
from ndis_rules.files.bpr import read_bpr
from ndis_rules.files.contracts import load_contracts
from ndis_rules.services.scaleout import check_claims_dask
from dask.distributed import Client, LocalCluster
contracts = load_contracts(sys.argv[1])
t = time.perf_counter()
single = check_claims(read_bpr(Path(sys.argv[2])), contracts, as_of=date(2025, 11, 15))
t_single = time.perf_counter() - t
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \\
        Client(cluster) as client:
    t = time.perf_counter()
    dask = check_claims_dask(Path(sys.argv[2]), contracts, client, partitions=2,
                             as_of=date(2025, 11, 15))
    t_dask = time.perf_counter() - t
print(t_single, t_dask, single.to_dict() == dask.to_dict())
"""


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def ensure_book(work: Path, mix: str, participants: int, lines: int) -> Path:
    """The book of ``mix``: ``realistic`` (``generate_book.py --mix typical``, about 3% flagged),
    ``pessimistic`` (about 35%) or ``one`` (one participant's lines), generated on first use."""
    one = mix == "one"
    folder = work / f"{mix}-{1 if one else participants}-{lines}"
    if not (folder / "claims.csv").exists():
        cmd = [sys.executable, str(HERE / "generate_book.py"), "--participants",
               str(1 if one else participants), "--lines", str(lines), "--out", str(folder),
               "--mix", "pessimistic" if mix == "pessimistic" else "typical"]
        subprocess.run([*cmd, "--one-participant"] if one else cmd, check=True,
                       stdout=subprocess.DEVNULL)
    return folder


def command(book: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ndis_rules", "claims", "check", str(book / "claims.csv"),
            "--contracts", str(book / "contracts.sqlite"), "--today", TODAY, *extra]


def measured(cmd: list[str], out: Path | None = None) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS bytes) of a command run in a fresh child process."""
    target = str(out) if out is not None else os.devnull
    done = subprocess.run([sys.executable, "-c", MEASURE, target, *cmd], check=True,
                          capture_output=True, text=True)
    seconds, code, peak = done.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {code}")
    return float(seconds), int(code), int(peak)


def python_out(code: str, *args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True,
                          text=True)
    return done.stdout.split()


def flagged_share(table: Path) -> float:
    with table.open(encoding="utf-8") as f:
        first = f.readline()  # "... N line(s): A allowed, W warning, E error"
    words = first.replace(",", "").split()
    lines = int(words[words.index("line(s):") - 1])
    allowed = int(words[words.index("allowed") - 1])
    return (lines - allowed) / lines if lines else 0.0


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Report:
    def __init__(self) -> None:
        self.figures: dict[str, Any] = {}
        self.met: list[bool] = []

    def line(self, key: str, value: Any, text: str, target: str | None = None,
             ok: bool | None = None) -> None:
        self.figures[key] = value
        if target is None or ok is None:
            print(f"  {text}")
            return
        self.figures[key + "_met"] = ok
        self.met.append(ok)
        print(f"  {text}  (target {target}: {verdict(ok)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = 5,000 contracts and 1,000,000 lines; 0.05 = a quick run")
    parser.add_argument("--quick", action="store_true", help="the same as --scale 0.05")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each (median)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ndis-rules-bench"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    args = parser.parse_args()
    scale = 0.05 if args.quick else args.scale
    participants = max(5, round(5000 * scale))
    lines = max(100, round(1_000_000 * scale))
    repeat = max(1, args.repeat)
    args.work.mkdir(parents=True, exist_ok=True)
    books = {mix: ensure_book(args.work, mix, participants, lines)
             for mix in ("realistic", "pessimistic", "one")}
    small = ensure_book(args.work, "realistic", participants, max(100, lines // 10))
    r = Report()
    r.figures.update(date=date.today().isoformat(), python=platform.python_version(),
                     machine=f"{platform.machine()}, {os.cpu_count()} cores",
                     participants=participants, lines=lines, repeat=repeat)
    print(f"{participants:,} contracts, {lines:,} lines; {r.figures['machine']}; "
          f"Python {r.figures['python']}; median of {repeat} run(s)")

    polars_s: float | None
    try:
        polars_s = statistics.median(
            measured([sys.executable, "-c", POLARS, str(books["realistic"] / "claims.csv")])[0]
            for _ in range(repeat))
    except subprocess.CalledProcessError:
        polars_s = None
    r.figures["polars_read_seconds"] = polars_s

    single: dict[str, float] = {}
    for mix, floor in (("realistic", 100_000), ("pessimistic", 30_000)):
        book = books[mix]
        table = args.work / f"{mix}.out"
        runs = [measured(command(book), table) for _ in range(repeat)]
        seconds = statistics.median(t for t, _, _ in runs)
        peak = max(p for _, _, p in runs)
        single[mix] = seconds
        print(f"{mix} book ({flagged_share(table):.1%} of lines flagged):")
        r.line(f"{mix}_flagged", round(flagged_share(table), 4),
               f"flagged: {flagged_share(table):.1%}")
        rate = lines / seconds
        r.line(f"{mix}_lines_per_second", round(rate),
               f"claims check end to end: {seconds:.1f} s = {rate:,.0f} lines/s",
               f">= {floor:,} lines/s", rate >= floor)
        if mix == "realistic":
            if polars_s:
                r.line("realistic_vs_polars", round(seconds / polars_s, 1),
                       f"vs polars reading the CSV ({polars_s:.2f} s): {seconds / polars_s:.0f}x",
                       "<= 10x", seconds <= 10 * polars_s)
            else:
                r.line("realistic_vs_polars", None, "polars not installed: ratio not measured")
        r.line(f"{mix}_peak_bytes", peak, f"peak memory: {peak / 2**20:,.0f} MiB", "<= 1 GB",
               peak <= GB)
        if mix == "realistic":
            t2 = statistics.median(
                measured(command(book, "--workers", "2"), args.work / "workers.out")[0]
                for _ in range(repeat))
            same = digest(table) == digest(args.work / "workers.out")
            r.line("workers2_identical", same, "--workers 2: output identical to one process",
                   "identical", same)
            r.line("workers2_speedup", round(seconds / t2, 2),
                   f"--workers 2: {t2:.1f} s = {lines / t2:,.0f} lines/s, "
                   f"speed-up {seconds / t2:.2f}x")
            (args.work / "workers.out").unlink()
        table.unlink()

    print(f"one participant, {lines:,} lines:")
    for fmt in ("table", "json"):
        t, _, peak = measured(command(books["one"], "--format", fmt))
        r.line(f"one_{fmt}_peak_bytes", peak,
               f"{fmt} report: peak memory {peak / 2**20:,.0f} MiB ({t:.1f} s)", "<= 1 GB",
               peak <= GB)

    print("Python API, one 20-line invoice:")
    sys.path.insert(0, str(HERE))
    from bench_api import latencies, p

    calls = 300 if scale >= 0.5 else 60
    few, many = latencies(10, calls), latencies(10_000, calls)
    r.line("api_p95_ms", round(p(few, 95), 3),
           f"10 delivered services: p50 {p(few, 50):.3f} ms, p95 {p(few, 95):.3f} ms",
           "p95 <= 1 ms", p(few, 95) <= 1)
    ratio = p(many, 95) / p(few, 95)
    r.line("api_history_ratio", round(ratio, 2),
           f"10,000 delivered services: p95 {p(many, 95):.3f} ms = {ratio:.2f}x", "<= 1.2x",
           ratio <= 1.2)

    print(f"SQLite store of {participants:,} contracts:")
    inner, whole, n_rows, _ = python_out(STORE, str(books["realistic"] / "contracts.sqlite"),
                                         str(books["realistic"] / "claims.csv"))
    r.line("store_first_invoice_seconds", round(float(inner), 3),
           f"open it and check its first invoice ({n_rows} line(s)): {float(inner):.3f} s "
           f"({float(whole):.2f} s with the imports)", "<= 1 s", float(inner) <= 1)
    wall, cpu, n_loaded = python_out(LOAD, str(books["realistic"] / "contracts.sqlite"))
    r.line("store_load_seconds", round(float(wall), 3),
           f"load all {int(n_loaded):,} contracts (what `claims check` does first): "
           f"{float(wall):.3f} s, {float(cpu):.3f} s CPU = "
           f"{1000 * float(cpu) / max(1, int(n_loaded)):.2f} ms CPU a contract")

    if not args.no_dask:
        print(f"Dask entry point ({max(100, lines // 10):,} lines, 2 local workers):")
        try:
            t_one, t_dask, same = python_out(DASK, str(small / "contracts.sqlite"),
                                             str(small / "claims.csv"))
        except subprocess.CalledProcessError:
            r.line("dask_identical", None, "dask not installed (pip install 'ndis-rules[dask]')")
        else:
            r.line("dask_identical", same == "True", "report identical to one process",
                   "identical", same == "True")
            r.line("dask_speedup", round(float(t_one) / float(t_dask), 2),
                   f"{float(t_dask):.1f} s vs {float(t_one):.1f} s in one process: "
                   f"speed-up {float(t_one) / float(t_dask):.2f}x")
    print(f"{sum(r.met)} of {len(r.met)} targets met")
    if args.json:
        args.json.write_text(json.dumps(r.figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
