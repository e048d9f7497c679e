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
import sys
from dataclasses import dataclass
from datetime import date
from itertools import product
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
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

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_CSV = ROOT / "tests" / "data" / "catalogue-2025-26-subset.csv"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_book", ROOT / "benchmarks" / "generate_book.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_book", module)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


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


def test_realistic_book_is_mostly_plain(books: dict[str, Book]) -> None:
    stats = FastPathStats()
    results = parse_bpr(books["realistic"].text)
    check_claims(results, books["realistic"].contracts, as_of=GEN.TODAY, fast_path=stats)
    assert stats.share > 0.6, stats


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
    exact = evaluate_batch(inputs.contract, inputs.invoices, **kwargs)
    fast = evaluate_batch(inputs.contract, inputs.invoices, fast_path=True, **kwargs)
    assert [d.to_dict() for d in fast] == [d.to_dict() for d in exact]
    assert fast == exact


@pytest.mark.parametrize(
    ("channel", "mode"),
    [
        ("service_entry", None),
        ("bulk_import", None),
        ("case_note", None),
        ("streamline", "manual"),
        ("streamline", "automated"),
        ("streamline", "disabled"),
    ],
)
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
    exact = evaluate_batch(contract, [invoice], **kwargs)
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
