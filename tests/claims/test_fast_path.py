"""The fast path for plain lines (issue 15 deliverable 2) decides exactly what the exact engine
decides: the same claims report, row for row (codes, findings with messages and facts, draws,
parts, action), on generated books of every mix, under every setting, with and without the
catalogue; and the same invoice decisions on the property strategies' contracts and invoices in
every channel and mode. Each test also checks the fast path did decide lines, so that a fast
path that defers everything cannot pass for a proven one."""

from __future__ import annotations

import importlib.util
import io
import random
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ndis_rules.bpr import parse_bpr
from ndis_rules.claims import (
    ClaimsReport,
    FastPathStats,
    check_claims,
    fast_path_default,
    set_fast_path_default,
)
from ndis_rules.files import catalogue as catalogue_files
from ndis_rules.itemchecks import CatalogueContext
from ndis_rules.models import Contract, Invoice, Settings
from ndis_rules.money import Money
from ndis_rules.rules import evaluate_batch
from ndis_rules.testing import strategies as S

from ._bookgen import CATALOGUE_CSV, GEN, ROOT

#: every channel, and streamline in each of its processing modes
CHANNEL_MODES: list[tuple[str, str | None]] = [
    ("service_entry", None),
    ("bulk_import", None),
    ("case_note", None),
    ("streamline", "manual"),
    ("streamline", "automated"),
    ("streamline", "disabled"),
]


@dataclass(frozen=True)
class Book:
    contracts: list[Contract]
    text: str


def _book(tmp: Path, mix: str, participants: int = 12, lines: int = 600, seed: int = 7) -> Book:
    rng = random.Random(seed)
    abns = [GEN.abn(1000 + k) for k in range(GEN.PROVIDERS)]
    contracts = [GEN.contract(i, rng, abns, 20) for i in range(participants)]
    path = tmp / f"claims-{mix}.csv"
    GEN.write_claims(path, participants, lines, abns, rng, mix)
    return Book(contracts, path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Book]:
    tmp = tmp_path_factory.mktemp("fast-path-books")
    return {mix: _book(tmp, mix) for mix in GEN.MIXES}


@pytest.fixture(scope="module")
def catalogue_context() -> CatalogueContext:
    return CatalogueContext(catalogue_files.load_csv(CATALOGUE_CSV), region="NSW", state="NSW")


def _rows(report: ClaimsReport) -> list[dict[str, Any]]:
    """Every row as JSON, with its full decision (parts, action, facts in order)."""
    out = []
    for r in report.rows:
        d = r.to_dict()
        d["decision"] = r.decision.to_dict() if r.decision is not None else None
        out.append(d)
    return out


def assert_identical(exact: ClaimsReport, fast: ClaimsReport) -> None:
    assert len(exact.rows) == len(fast.rows)
    for a, b, da, db in zip(exact.rows, fast.rows, _rows(exact), _rows(fast), strict=True):
        assert da == db, f"row {a.row} differs"
        assert a == b and a.decision == b.decision, f"row {a.row} differs"
    assert exact.summary == fast.summary


_CLAIMABLE: list[tuple[Any, ...]] = [("plan",), ("plan", "agency", "self"), ("self", "agency")]

ALL_SETTINGS = [
    Settings(
        claimable_management=_CLAIMABLE[n % 3] if n else ("plan",),
        claims_flexibility=flex,
        rollover=rollover,
        allow_inactive_contracts=inactive,
        support_item_overdraw_is_error=overdraw,
        price_limit_is_error=price,
        weekday_weekend_is_warning=weekday,
        duplicate_key=key,
    )
    for n, (flex, rollover, inactive, overdraw, price, weekday, key) in enumerate(
        product(
            (False, True),
            (True, False),
            (False, True),
            (False, True),
            (False, True),
            (False, True),
            ("client_provider_invoice", "provider_invoice"),
        )
    )
]


@pytest.mark.parametrize("mix", ["clean", "realistic", "pessimistic"])
@pytest.mark.parametrize("with_catalogue", [False, True])
def test_book_report_identical_with_fast_path_on_and_off(
    books: dict[str, Book], catalogue_context: CatalogueContext, mix: str, with_catalogue: bool
) -> None:
    book = books[mix]
    results = parse_bpr(book.text)
    catalogue = catalogue_context if with_catalogue else None
    stats = FastPathStats()
    # every settings combination on a slice of the book, the whole book under the defaults
    for n, s in enumerate(ALL_SETTINGS):
        part = results if n == 0 else results[(n * 37) % 500 :][:48]
        for as_of in (GEN.TODAY, date(2025, 8, 20)) if n % 16 == 0 else (GEN.TODAY,):
            exact = check_claims(
                part, book.contracts, as_of=as_of, settings=s, catalogue=catalogue, fast_path=False
            )
            fast = check_claims(
                part, book.contracts, as_of=as_of, settings=s, catalogue=catalogue, fast_path=stats
            )
            assert_identical(exact, fast)
    assert stats.taken > 0.3 * (stats.taken + stats.deferred), stats
    # the lines of providers with an SPCB or support item budget are decided too
    assert stats.provider_budget > 0.05 * stats.taken, stats


def test_realistic_book_is_mostly_plain(books: dict[str, Book]) -> None:
    stats = FastPathStats()
    results = parse_bpr(books["realistic"].text)
    check_claims(results, books["realistic"].contracts, as_of=GEN.TODAY, fast_path=stats)
    assert stats.share > 0.75, stats
    assert stats.provider_budget > 0.05 * stats.taken, stats
    assert stats.reasons["provider_budget"] + stats.reasons["support_item_budget"] == 0, stats


def test_late_lines_compete_with_fast_lines(books: dict[str, Book]) -> None:
    """A contract whose budgets run out part way through the file: the lines after the money is
    gone are insufficient-funds errors either way (the fast path commits what it decides)."""
    book = books["clean"]
    # a little more than the delivered services (on 01) left in each budget, without periods
    poor = [
        c.model_copy(
            update={
                "budgets": tuple(
                    b.model_copy(
                        update={
                            "total": Money(3300_00 if b.category == "01" else 500_00),
                            "funding": None,
                        }
                    )
                    for b in c.budgets
                )
            }
        )
        for c in book.contracts
    ]
    results = parse_bpr(book.text)
    stats = FastPathStats()
    exact = check_claims(results, poor, as_of=GEN.TODAY, fast_path=False)
    fast = check_claims(results, poor, as_of=GEN.TODAY, fast_path=stats)
    assert_identical(exact, fast)
    assert stats.taken > 0 and stats.reasons["funds"] + stats.reasons["pool"] > 0, stats
    assert fast.summary.by_code.get("INSUFFICIENT_FUNDS", 0) > 0


def test_default_switch() -> None:
    assert fast_path_default() is True
    set_fast_path_default(False)
    try:
        assert fast_path_default() is False
    finally:
        set_fast_path_default(True)


def _all_settings() -> st.SearchStrategy[Settings]:
    return st.builds(
        Settings,
        claims_flexibility=st.booleans(),
        rollover=st.booleans(),
        allow_inactive_contracts=st.booleans(),
        support_item_overdraw_is_error=st.booleans(),
        price_limit_is_error=st.booleans(),
        weekday_weekend_is_warning=st.booleans(),
        duplicate_key=st.sampled_from(["client_provider_invoice", "provider_invoice"]),
        claimable_management=st.sampled_from(_CLAIMABLE),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inputs=st.one_of(
        S.validation_inputs(),
        S.validation_inputs(allow_overdrawn=True),
        S.validation_inputs(with_catalogue=True),
    ),
    s=_all_settings(),
    explain=st.booleans(),
)
def test_engine_decisions_identical(inputs: S.ValidationInput, s: Settings, explain: bool) -> None:
    """Every channel and mode, every setting, with and without the catalogue, any today."""
    kwargs: dict[str, Any] = {
        "as_of": inputs.as_of,
        "channel": inputs.channel,
        "mode": inputs.mode,
        "settings": s,
        "catalogue": inputs.catalogue,
        "explain": explain,
    }
    exact = evaluate_batch(inputs.contract, inputs.invoices, fast_path=False, **kwargs)
    fast = evaluate_batch(inputs.contract, inputs.invoices, fast_path=True, **kwargs)
    assert [d.to_dict() for d in fast] == [d.to_dict() for d in exact]
    assert fast == exact


@pytest.mark.parametrize(("channel", "mode"), CHANNEL_MODES)
def test_engine_takes_the_fast_path_in_every_channel(channel: str, mode: str | None) -> None:
    contract = Contract.model_validate(
        {
            "id": "C1",
            "start": "2025-07-01",
            "end_inclusive": "2026-06-30",
            "budgets": [
                {"category": "01", "management": "plan", "total": "1000.00", "funding": {
                    "periods": [
                        {"id": "FP1", "start": "2025-07-01", "end_inclusive": "2025-09-30",
                         "amount": "500.00"},
                        {"id": "FP2", "start": "2025-10-01", "end_inclusive": "2026-06-30",
                         "amount": "500.00"},
                    ]}},
                {"category": "07", "management": "plan", "total": "100.00"},
            ],
        }
    )
    invoice = Invoice.model_validate(
        {"id": "I1", "number": "N1", "provider": "P9", "lines": [
            {"id": "L1", "from": "2025-08-04", "to": "2025-08-04", "item": "01_011_0107_1_1",
             "quantity": "2", "unit_price": "70.23"},  # expired period: PAST_PERIOD
            {"id": "L2", "from": "2025-10-06", "to": "2025-10-06", "item": "01_011_0107_1_1",
             "quantity": "1", "unit_price": "70.23"},  # active period
            {"id": "L3", "from": "2025-10-06", "to": "2025-10-06", "item": "07_002_0106_8_3",
             "quantity": "1", "unit_price": "60.00"},  # no periods
            {"id": "L4", "from": "2025-10-07", "to": "2025-10-07", "item": "07_002_0106_8_3",
             "quantity": "1", "unit_price": "60.00"},  # short: the exact engine
        ]}
    )
    stats = FastPathStats()
    kwargs: dict[str, Any] = {"as_of": date(2025, 11, 15), "channel": channel, "mode": mode}
    exact = evaluate_batch(contract, [invoice], fast_path=False, **kwargs)
    fast = evaluate_batch(contract, [invoice], fast_path=stats, **kwargs)
    assert [d.to_dict() for d in fast] == [d.to_dict() for d in exact]
    assert (stats.taken, stats.deferred, dict(stats.reasons)) == (3, 1, {"funds": 1})
    codes = [line.codes[:2] for line in fast[0].lines]  # automated streamline: one more code
    assert codes[0] == ("PROVIDER_NOT_ON_CONTRACT", "PAST_PERIOD")
    assert codes[1][:1] == codes[2][:1] == ("PROVIDER_NOT_ON_CONTRACT",)
    assert "INSUFFICIENT_FUNDS" in fast[0].lines[3].codes


def test_no_fast_path_when_explaining(books: dict[str, Book]) -> None:
    stats = FastPathStats()
    results = parse_bpr(books["clean"].text)[:50]
    check_claims(results, books["clean"].contracts, as_of=GEN.TODAY, explain=True, fast_path=stats)
    assert stats.taken == 0

def test_command_output_identical_with_fast_path_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NDIS_RULES_FAST_PATH=0`` turns the fast path off for ``claims check``: every format, one
    or two workers, the same output (the example book with its catalogue)."""
    from ndis_rules.cli import main

    base = [
        "claims",
        "check",
        str(ROOT / "examples" / "book" / "claims.csv"),
        "--contracts",
        str(ROOT / "examples" / "book" / "contracts"),
        "--catalogue",
        str(ROOT / "docs" / "scenarios" / "catalogues" / "catalogue-2025-26-sample.csv"),
        "--today",
        "2025-11-15",
    ]
    try:
        for fmt, workers in product(("table", "json", "csv"), ("1", "2")):
            outputs = []
            for env in ("0", "1"):
                monkeypatch.setenv("NDIS_RULES_FAST_PATH", env)
                out = io.StringIO()
                assert main([*base, "--format", fmt, "--workers", workers], out=out) == 1
                assert fast_path_default() is (env == "1")
                outputs.append(out.getvalue())
            assert outputs[0] == outputs[1], (fmt, workers)
    finally:
        set_fast_path_default(True)


# -- lines of providers with an SPCB or a support item budget ----------------------------------

_PROVIDER_CONTRACT: dict[str, Any] = {
    "id": "C2",
    "participant": "430000002",
    "start": "2025-07-01",
    "end_inclusive": "2026-06-30",
    "budgets": [
        {"category": "01", "management": "plan", "total": "1000.00", "funding": {"periods": [
            {"id": "FP1", "start": "2025-07-01", "end_inclusive": "2025-09-30",
             "amount": "500.00"},
            {"id": "FP2", "start": "2025-10-01", "end_inclusive": "2026-06-30",
             "amount": "500.00"},
        ]}},
        {"category": "04", "management": "plan", "total": "300.00"},
        {"category": "07", "management": "plan", "total": "400.00"},
    ],
    "provider_budgets": [
        # distributed over the periods: FP1's share only (a line in FP2 has none)
        {"id": "S1", "provider": "P1", "category": "01", "amount": "400.00",
         "start": "2025-07-01", "end_inclusive": "2026-06-30",
         "distribution": [{"period_id": "FP1", "amount": "300.00"}]},
        # a category without periods, an agreement shorter than the contract
        {"id": "S2", "provider": "P1", "category": "07", "amount": "150.00",
         "start": "2025-08-01", "end_inclusive": "2025-12-31"},
        {"id": "S3", "provider": "P2", "category": "01", "management": "plan",
         "amount": "300.00", "start": "2025-07-01", "end_inclusive": "2026-06-30"},
    ],
    "support_items": [
        {"id": "SI1", "item": "01_011_0107_1_1", "category": "01", "provider": "P1",
         "quantity": "2", "rate": "70.23"},
        # a stated support with no provider: any provider's lines of the item count against it
        {"id": "SI2", "kind": "stated", "item": "04_104_0125_6_1", "category": "04",
         "quantity": "4", "rate": "50.00"},
    ],
    "delivered": [
        {"id": "D1", "invoice_id": "OLD", "invoice_number": "N0", "provider": "P1",
         "item": "01_011_0107_1_1", "category": "01", "management": "plan",
         "from": "2025-07-02", "to": "2025-07-02", "quantity": "1", "unit_price": "70.23",
         "amount": "70.23"},
    ],
}


def _line(n: int, day: str, item: str, quantity: str, price: str) -> dict[str, str]:
    return {"id": f"L{n}", "from": day, "to": day, "item": item, "quantity": quantity,
            "unit_price": price}


_PROVIDER_INVOICES: list[dict[str, Any]] = [
    {"id": "I1", "number": "A1", "provider": "P1", "lines": [
        _line(1, "2025-08-04", "01_011_0107_1_1", "1", "70.23"),  # S1's FP1 share, SI1: taken
        _line(2, "2025-08-05", "01_011_0107_1_1", "1", "70.23"),  # SI1 now short: exact
        _line(3, "2025-10-06", "01_002_0107_1_1", "1", "10.00"),  # S1 has no FP2 share: exact
        _line(4, "2025-08-06", "01_002_0107_1_1", "1", "50.00"),  # S1 FP1 share: taken
        _line(5, "2025-09-01", "07_002_0106_8_3", "1", "100.00"),  # S2, no periods: taken
        _line(6, "2025-09-02", "07_002_0106_8_3", "1", "60.00"),  # S2 short: exact
        _line(7, "2025-07-15", "07_002_0106_8_3", "1", "10.00"),  # before S2's agreement: exact
        _line(8, "2025-09-03", "04_104_0125_6_1", "1", "50.00"),  # SI2 (any provider): taken
    ]},
    {"id": "I3", "number": "A3", "provider": "P9", "lines": [
        _line(1, "2025-10-10", "04_104_0125_6_1", "1", "50.00"),  # SI2 for P9 too: taken
    ]},
    {"id": "I2", "number": "A2", "provider": "P2", "lines": [
        _line(1, "2025-10-07", "01_011_0107_1_1", "2", "70.23"),  # S3 (not SI1: P1's): taken
        _line(2, "2025-10-08", "04_104_0125_6_1", "4", "50.00"),  # SI2 short: exact
        _line(3, "2025-10-09", "07_002_0106_8_3", "1", "20.00"),  # P2 on the contract: taken
        _line(4, "2025-08-11", "01_011_0107_1_1", "1", "70.23"),  # FP1 expired: PAST_PERIOD
    ]},
]


@pytest.mark.parametrize(("channel", "mode"), CHANNEL_MODES)
@pytest.mark.parametrize("action", ["create", "undo_cancel"])
@pytest.mark.parametrize("rollover", [True, False])
def test_provider_budget_lines_take_the_fast_path(
    channel: str, mode: str | None, action: str, rollover: bool
) -> None:
    """Lines counting against an SPCB (distributed over periods or not, agreement dates) or a
    support item budget (the provider's own, or a stated one with no provider) are decided on
    the fast path when every budget covers them, and by the exact engine otherwise: the same
    decisions either way, and the statistics say which lines were taken."""
    contract = Contract.model_validate(_PROVIDER_CONTRACT)
    invoices = [Invoice.model_validate(i) for i in _PROVIDER_INVOICES]
    stats = FastPathStats()
    kwargs: dict[str, Any] = {
        "as_of": date(2025, 11, 15),
        "channel": channel,
        "mode": mode,
        "action": action,
        "settings": Settings(rollover=rollover),
    }
    exact = evaluate_batch(contract, invoices, fast_path=False, **kwargs)
    fast = evaluate_batch(contract, invoices, fast_path=stats, **kwargs)
    assert [d.to_dict() for d in fast] == [d.to_dict() for d in exact]
    assert fast == exact
    assert (stats.taken, stats.provider_budget) == (8, 7), stats
    assert dict(stats.reasons) == {
        "support_item_budget": 2,
        "provider_budget": 2,
        "provider_agreement": 1,
    }
    first, third, second = fast
    assert first.lines[0].counts_against == ("S1", "SI1")
    assert first.lines[0].draws[0].ref.spcb == "S1"
    assert first.lines[0].parts[0].budget.support_item == "SI1"
    assert first.lines[4].counts_against == ("S2",)
    assert second.lines[0].counts_against == ("S3",)
    assert second.lines[2].counts_against == () and second.lines[2].codes[:1] == ()
    assert "PAST_PERIOD" in second.lines[3].codes
    assert third.lines[0].counts_against == ("SI2",)
    assert "PROVIDER_NOT_ON_CONTRACT" not in third.lines[0].codes


@st.composite
def _provider_budget_inputs(draw: st.DrawFn, *, overdrawn: bool) -> S.ValidationInput:
    """The strategies' inputs with each invoice's lines moved (most of them) onto one of the
    contract's SPCBs or support item budgets: its provider, an item of its category (the
    support's own item), a day inside its agreement and not after today, a small amount; so
    that such lines often pass every check (the plain strategies reach them rarely)."""
    inputs = draw(S.validation_inputs(allow_overdrawn=overdrawn))
    c = inputs.contract
    targets = [
        (s.provider, S.ITEMS.get(s.category), s.start, s.end_inclusive)
        for s in c.provider_budgets
    ] + [
        (s.provider or draw(st.sampled_from(S.PROVIDERS)), s.item, c.start, c.end_inclusive)
        for s in c.support_items
    ]
    targets = [t for t in targets if t[1] is not None]
    if not targets:
        return inputs
    invoices = []
    for inv in inputs.invoices:
        provider, item, first, last = draw(st.sampled_from(targets))
        last = min(last, inputs.as_of)
        lines = []
        for original in inv.lines:
            line = original
            if first <= last and draw(st.integers(0, 3)):
                day = draw(st.dates(first, last))
                line = original.model_copy(
                    update={
                        "from_": day,
                        "to": day,
                        "item": item,
                        "quantity": Decimal(draw(st.sampled_from([1, 2]))),
                        "unit_price": draw(S.money(1, 5_000)),
                        "amount": None,
                    }
                )
            lines.append(line)
        invoices.append(inv.model_copy(update={"provider": provider, "lines": tuple(lines)}))
    return replace(inputs, invoices=invoices)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inputs=st.one_of(
        _provider_budget_inputs(overdrawn=False), _provider_budget_inputs(overdrawn=True)
    ),
    s=_all_settings(),
)
def test_provider_budget_decisions_identical(inputs: S.ValidationInput, s: Settings) -> None:
    """As :func:`test_engine_decisions_identical`, on lines aimed at the contract's SPCBs and
    support item budgets (every channel and mode, every setting, any today); and on a prepared
    contract validated twice, the second time with what the fast path compiled the first."""
    from ndis_rules.rules import prepare

    kwargs: dict[str, Any] = {
        "as_of": inputs.as_of,
        "channel": inputs.channel,
        "mode": inputs.mode,
        "settings": s,
    }
    exact = evaluate_batch(inputs.contract, inputs.invoices, fast_path=False, **kwargs)
    fast = evaluate_batch(inputs.contract, inputs.invoices, fast_path=True, **kwargs)
    assert [d.to_dict() for d in fast] == [d.to_dict() for d in exact]
    assert fast == exact
    prepared = prepare(inputs.contract)
    for _ in range(2):
        assert evaluate_batch(prepared, inputs.invoices, **kwargs) == exact


def _provider_budget_lines_taken(inputs: S.ValidationInput) -> int:
    stats = FastPathStats()
    kwargs: dict[str, Any] = {
        "as_of": inputs.as_of,
        "channel": inputs.channel,
        "mode": inputs.mode,
        "catalogue": inputs.catalogue,
    }
    exact = evaluate_batch(inputs.contract, inputs.invoices, fast_path=False, **kwargs)
    fast = evaluate_batch(inputs.contract, inputs.invoices, fast_path=stats, **kwargs)
    assert fast == exact
    return stats.provider_budget


@pytest.mark.parametrize("overdrawn", [False, True])
def test_strategies_reach_provider_budget_lines_on_the_fast_path(overdrawn: bool) -> None:
    """The strategies above give fast-path lines counting against an SPCB or support item
    budget, often (so the identity property covers them)."""
    counts: list[int] = []

    @settings(max_examples=100, database=None, derandomize=True, deadline=None,
              phases=[Phase.generate], suppress_health_check=[HealthCheck.too_slow])
    @given(_provider_budget_inputs(overdrawn=overdrawn))
    def run(inputs: S.ValidationInput) -> None:
        counts.append(_provider_budget_lines_taken(inputs))

    run()
    assert sum(1 for n in counts if n > 0) >= 0.1 * len(counts), counts


def test_api_benchmark_invoice_is_all_fast() -> None:
    """The API benchmark's invoice (provider P1: an SPCB and a support item budget) is decided
    entirely on the fast path, identically."""
    spec = importlib.util.spec_from_file_location(
        "bench_api", ROOT / "benchmarks" / "bench_api.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for delivered in (10, 500):
        contract, invoice = bench.contract_with(delivered), bench.invoice()
        stats = FastPathStats()
        exact = evaluate_batch(contract, [invoice], as_of=bench.TODAY, fast_path=False)
        fast = evaluate_batch(contract, [invoice], as_of=bench.TODAY, fast_path=stats)
        assert fast == exact
        assert (stats.taken, stats.provider_budget, stats.deferred) == (20, 20, 0)
        assert all(d.counts_against == ("S1", "SI1") for d in fast[0].lines)


def test_api_uses_the_fast_path_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """``evaluate_batch``, ``evaluate_invoice`` and ``BatchRun`` take the fast path unless told
    ``fast_path=False`` (the decisions are the same either way)."""
    from ndis_rules.rules import BatchRun, evaluate_invoice
    from ndis_rules.rules.fast import FastPath

    decided: list[str] = []
    original = FastPath.decide

    def counting(self: FastPath, ledger: Any, invoice: Invoice, line: Any) -> Any:
        found = original(self, ledger, invoice, line)
        if found is not None:
            decided.append(line.id)
        return found

    monkeypatch.setattr(FastPath, "decide", counting)
    contract = Contract.model_validate(_PROVIDER_CONTRACT)
    invoice = Invoice.model_validate(_PROVIDER_INVOICES[0])
    today = date(2025, 11, 15)
    on = evaluate_batch(contract, [invoice], as_of=today)
    assert decided == ["L1", "L4", "L5", "L8"]
    decided.clear()
    assert evaluate_invoice(contract, invoice, as_of=today) == on[0]
    assert BatchRun(contract, ["I1"], as_of=today).invoice(invoice) == on[0]
    assert decided == ["L1", "L4", "L5", "L8"] * 2
    decided.clear()
    off = evaluate_batch(contract, [invoice], as_of=today, fast_path=False)
    assert evaluate_invoice(contract, invoice, as_of=today, fast_path=False) == off[0] == on[0]
    assert BatchRun(contract, ["I1"], as_of=today, fast_path=False).invoice(invoice) == on[0]
    assert decided == []


def test_prepared_contract_reuses_its_compiled_form_identically() -> None:
    """A prepared contract validated again and again (the API's way) reuses what the fast path
    compiled for it on the same day, channel and settings: each call still decides exactly what
    the exact engine does, whatever was validated before (warm caches never leak a decision)."""
    from ndis_rules.rules import fast as fast_module
    from ndis_rules.rules import prepare

    prepared = prepare(Contract.model_validate(_PROVIDER_CONTRACT))
    invoices = [Invoice.model_validate(i) for i in _PROVIDER_INVOICES]
    calls: list[tuple[list[Invoice], dict[str, Any]]] = []
    for as_of in (date(2025, 11, 15), date(2025, 9, 20)):
        for s in (Settings(), Settings(rollover=False, claims_flexibility=True)):
            for channel in ("service_entry", "bulk_import"):
                kwargs = {"as_of": as_of, "settings": s, "channel": channel}
                calls += [(invoices, kwargs), (invoices[::-1], kwargs), (invoices[:1], kwargs)]
    taken = 0
    for batch, kwargs in calls * 2:
        stats = FastPathStats()
        fast = evaluate_batch(prepared, batch, fast_path=stats, **kwargs)
        assert fast == evaluate_batch(prepared, batch, fast_path=False, **kwargs)
        taken += stats.taken
    assert taken > 0
    # kept for the prepared contract (one per set of parameters), never for a plain contract
    kept = [entry for entry in fast_module._reuse.values() if entry[0] is prepared.index]
    assert 1 <= len(kept) <= fast_module._REUSE_LIMIT
    before = dict(fast_module._reuse)
    evaluate_batch(prepared.contract, invoices, as_of=date(2025, 11, 15))
    assert fast_module._reuse == before


def test_duplicate_line_key_built_from_parts_is_the_engines() -> None:
    """The fast path builds the duplicate-line key from parts it works out once per value; a
    line written differently (quantity ``2.0`` / ``2``, claim type and GST code with spaces and
    lower case, the item with a trailing space) but the same claim is still the duplicate of a
    line the fast path took, and decided the same way with the fast path off."""
    contract = Contract.model_validate(_PROVIDER_CONTRACT)
    base = {"from": "2025-10-13", "to": "2025-10-13", "unit_price": "20.00"}
    first = Invoice.model_validate(
        {"id": "I1", "number": "B1", "provider": "P9", "lines": [
            {**base, "id": "L1", "item": "07_002_0106_8_3", "quantity": "2",
             "claim_type": "REPW", "gst_code": "P2"},
        ]}
    )
    second = Invoice.model_validate(
        {"id": "I2", "number": "B2", "provider": "P9", "lines": [
            {**base, "id": "L1", "item": "07_002_0106_8_3 ", "quantity": "2.0",
             "claim_type": " repw", "gst_code": " P2 "},
            {**base, "id": "L2", "item": "07_002_0106_8_3", "quantity": "2",
             "claim_type": "REPW", "gst_code": "P1"},  # another GST code: not a duplicate
        ]}
    )
    stats = FastPathStats()
    kwargs: dict[str, Any] = {"as_of": date(2025, 11, 15)}
    fast = evaluate_batch(contract, [first, second], fast_path=stats, **kwargs)
    assert fast == evaluate_batch(contract, [first, second], fast_path=False, **kwargs)
    assert "DUPLICATE_LINE" in fast[1].lines[0].codes
    assert "DUPLICATE_LINE" not in fast[1].lines[1].codes
    assert (stats.taken, dict(stats.reasons)) == (2, {"duplicate_line": 1}), stats
