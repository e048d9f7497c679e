"""Does compiling the hot core with mypyc pay? Compile a copy, compare it with the pure package.

Nothing in the checkout or the installed package changes: the sources are copied twice into
``--work``, one copy is compiled with mypyc (``pip install mypy``; a C compiler and the Python
headers are needed), and the same ``claims check`` runs alternately on each copy, each in a
fresh process. It prints the CPU time (user + system) and wall time of every run, their
medians, whether the reports are byte-identical, and the CPU time of one 20-line invoice
through the API (``bench_api.py``'s invoice). docs/performance.md, "Compiling the hot core
(mypyc)", gives the figures and why the build stays pure.

    python benchmarks/mypyc_experiment.py --book /tmp/ndis-rules-bench/realistic-500-100000

One process only: a frozen dataclass compiled by mypyc cannot be unpickled (mypyc issue 1213),
so ``--workers`` would hang on the compiled copy.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What compiles without a source change and decides identically (in one process).
#: ``rules/fast.py`` compiles too but then stops the check: its ``_NO_ITEM`` sentinel is a
#: ``Final`` tuple that mypyc boxes anew at each use, so ``is _NO_ITEM`` is never true
#: (add it with ``--modules`` to see; docs/performance.md).
MODULES = (
    "ndis_rules/budgets.py", "ndis_rules/channels.py", "ndis_rules/itemchecks.py",
    "ndis_rules/outcomes.py", "ndis_rules/periods.py", "ndis_rules/rules/claimchecks.py",
    "ndis_rules/rules/context.py", "ndis_rules/rules/evaluate.py",
    "ndis_rules/rules/funding.py", "ndis_rules/rules/lines.py", "ndis_rules/rules/prepare.py",
)
MYPY_CONFIG = "[mypy]\nstrict = True\npython_version = 3.11\nplugins = pydantic.mypy\n"
API = """
import sys, time
sys.path.insert(0, sys.argv[1])
from bench_api import TODAY, contract_with, invoice
from ndis_rules import evaluate_batch, prepare
contract, invoices = prepare(contract_with(10)), [invoice()]
for _ in range(50):
    evaluate_batch(contract, invoices, as_of=TODAY)
t = time.process_time()
for _ in range(1000):
    evaluate_batch(contract, invoices, as_of=TODAY)
print((time.process_time() - t) / 1000 * 1000)
"""


def copy_package(dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "src" / "ndis_rules", dest / "ndis_rules",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))


def compile_copy(dest: Path, modules: list[str]) -> None:
    (dest / "mypy.ini").write_text(MYPY_CONFIG, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mypyc", "--config-file", "mypy.ini", *modules],
                          cwd=dest, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"mypyc failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    shutil.rmtree(dest / "build", ignore_errors=True)


def run(copy: Path, args: list[str], out: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one command in a fresh process on ``copy``."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with out.open("wb") as f:
        subprocess.run([sys.executable, "-m", "ndis_rules", *args], stdout=f, env=env,
                       check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path,
                        default=Path("/tmp/ndis-rules-bench/realistic-500-100000"),
                        help="a folder with claims.csv and contracts.sqlite")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ndis-rules-mypyc"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["table", "csv", "json"])
    parser.add_argument("--modules", nargs="+", default=list(MODULES),
                        help="source files to compile, relative to src/")
    args = parser.parse_args()
    pure, compiled = args.work / "pure", args.work / "compiled"
    copy_package(pure)
    copy_package(compiled)
    t = time.perf_counter()
    compile_copy(compiled, args.modules)
    print(f"compiled {len(args.modules)} modules in {time.perf_counter() - t:.0f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    base = ["claims", "check", str(args.book / "claims.csv"),
            "--contracts", str(args.book / "contracts.sqlite"), "--today", "2025-11-15"]
    for fmt in args.formats:
        figures: dict[str, list[tuple[float, float]]] = {"pure": [], "compiled": []}
        outputs = {}
        for _ in range(args.repeat):  # alternately, so both see the same load
            for name, copy in (("pure", pure), ("compiled", compiled)):
                outputs[name] = args.work / f"{name}.{fmt}"
                figures[name].append(run(copy, [*base, "--format", fmt], outputs[name]))
        same = digest(outputs["pure"]) == digest(outputs["compiled"])
        cpu = {n: statistics.median(c for c, _ in f) for n, f in figures.items()}
        wall = {n: statistics.median(w for _, w in f) for n, f in figures.items()}
        for name, runs in figures.items():
            print(f"{fmt:5} {name:8} CPU " + " ".join(f"{c:.2f}" for c, _ in runs)
                  + " s, wall " + " ".join(f"{w:.2f}" for _, w in runs) + " s")
        print(f"{fmt:5} median CPU {cpu['pure']:.2f} -> {cpu['compiled']:.2f} s "
              f"({cpu['pure'] / cpu['compiled']:.2f}x), wall {wall['pure']:.2f} -> "
              f"{wall['compiled']:.2f} s ({wall['pure'] / wall['compiled']:.2f}x); "
              f"output {'identical' if same else 'DIFFERENT'}")
    api: dict[str, list[float]] = {"pure": [], "compiled": []}
    for _ in range(args.repeat):
        for name, copy in (("pure", pure), ("compiled", compiled)):
            env = {**os.environ, "PYTHONPATH": str(copy)}
            done = subprocess.run([sys.executable, "-c", API, str(ROOT / "benchmarks")],
                                  env=env, capture_output=True, text=True, check=True)
            api[name].append(float(done.stdout))
    p, c = statistics.median(api["pure"]), statistics.median(api["compiled"])
    print(f"API, one 20-line invoice: median CPU {p:.3f} -> {c:.3f} ms ({p / c:.2f}x)")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
