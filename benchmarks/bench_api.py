"""One 20-line invoice through the Python API: p50/p95 latency, and whether it depends on how
many delivered services the contract already holds (10 vs 10,000).

Run: python benchmarks/bench_api.py [--repeat 300] [--exact]

The API decides plain lines on the fast path (``ndis_rules.rules.fast``); ``--exact`` measures
the exact engine alone (``fast_path=False``), for comparison. Targets (issue 15): p95 <= 1 ms,
and p95 with 10,000 delivered services <= 1.2x p95 with 10.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

from ndis_rules import Contract, Invoice, evaluate_batch, prepare

TODAY = date(2025, 11, 15)


def contract_with(delivered: int) -> Contract:
    periods = [
        {"id": f"FP{i + 1}", "start": (date(2025, 7, 1) + timedelta(days=91 * i)).isoformat(),
         "end_inclusive": (date(2025, 7, 1) + timedelta(days=91 * (i + 1) - 1)).isoformat(),
         "amount": "250000.00"}
        for i in range(4)
    ]
    periods[-1]["end_inclusive"] = "2026-06-30"
    return Contract.model_validate({
        "id": "C1", "participant": "430000001", "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "budgets": [
            {"category": "01", "management": "plan", "total": "1000000.00",
             "funding": {"periods": periods}},
            {"category": "04", "management": "plan", "total": "50000.00"},
            {"category": "15", "management": "plan", "total": "90000.00"},
        ],
        "provider_budgets": [
            {"id": "S1", "provider": "P1", "category": "01", "amount": "900000.00",
             "start": "2025-07-01", "end_inclusive": "2026-06-30"}],
        "support_items": [
            {"id": "SI1", "item": "01_011_0107_1_1", "category": "01", "provider": "P1",
             "quantity": "10000", "rate": "70.23"}],
        "delivered": [
            {"id": f"D{i}", "invoice_id": f"OLD{i // 5}", "invoice_number": f"N{i // 5}",
             "provider": "P1" if i % 2 else "P2", "item": "01_011_0107_1_1", "category": "01",
             "management": "plan",
             "from": (date(2025, 7, 1) + timedelta(days=i % 130)).isoformat(),
             "to": (date(2025, 7, 1) + timedelta(days=i % 130)).isoformat(),
             "quantity": "1", "unit_price": "1.00", "amount": "1.00"}
            for i in range(delivered)
        ],
    })


def invoice() -> Invoice:
    return Invoice.model_validate({"id": "NEW", "number": "X-1", "provider": "P1", "lines": [
        {"id": f"L{i}", "from": (date(2025, 10, 1) + timedelta(days=i)).isoformat(),
         "to": (date(2025, 10, 1) + timedelta(days=i)).isoformat(),
         "item": "01_011_0107_1_1", "quantity": "2", "unit_price": "70.23"}
        for i in range(20)]})


P95_TARGET_MS = 1.0
RATIO_TARGET = 1.2


def latencies(
    delivered: int,
    repeat: int,
    *,
    fast_path: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Seconds per call (``clock``: wall time; ``time.thread_time`` for CPU time)."""
    prepared = prepare(contract_with(delivered))
    inv = [invoice()]
    out = []
    for _ in range(repeat):
        t = clock()
        evaluate_batch(prepared, inv, as_of=TODAY, fast_path=fast_path)
        out.append(clock() - t)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument(
        "--exact", action="store_true", help="the exact engine alone (fast_path=False)"
    )
    args = parser.parse_args()
    fast = not args.exact
    small = latencies(10, args.repeat, fast_path=fast)
    large = latencies(10_000, args.repeat, fast_path=fast)
    ratio = p(large, 95) / p(small, 95)
    engine = "fast path on" if fast else "exact engine only"
    for label, values in (("10 delivered:    ", small), ("10,000 delivered:", large)):
        met = "met" if p(values, 95) <= P95_TARGET_MS else "NOT met"
        print(
            f"20-line invoice ({engine}), {label} p50 {p(values, 50):.3f} ms"
            f"  p95 {p(values, 95):.3f} ms  (target p95 <= {P95_TARGET_MS:g} ms: {met})"
        )
    print(
        f"p95 ratio 10,000 vs 10 delivered: {ratio:.2f}x (target <= {RATIO_TARGET:g}x: "
        f"{'met' if ratio <= RATIO_TARGET else 'NOT met'})"
    )
    # CPU time per call: what the call costs, without the waits of a shared machine
    cpu = latencies(10, args.repeat, fast_path=fast, clock=time.thread_time)
    print(f"CPU time per call, 10 delivered: p50 {p(cpu, 50):.3f} ms  p95 {p(cpu, 95):.3f} ms")


if __name__ == "__main__":
    main()
