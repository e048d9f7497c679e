"""Memory bounded by a setting (``--spill-rows``): a tiny budget, which spills partitions,
batches and one participant's rows to disk and decides them a few at a time, gives reports
identical, byte for byte, to no spill, in every format, on one and two workers; the JSON report
is byte for byte ``json.dumps`` of the whole report; the temporary folder is always removed."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date
from pathlib import Path

import pytest

from ndis_rules.bpr import COLUMNS
from ndis_rules.claims import ClaimsBook, ContractRun, RowOutcome, check_claims
from ndis_rules.cli import main
from ndis_rules.cli.claims import _catalogue_context, _check_run
from ndis_rules.errors import InputError
from ndis_rules.files.bpr import read_bpr
from ndis_rules.files.contracts import load_contracts
from ndis_rules.models import Contract
from ndis_rules.services import spill
from ndis_rules.services.scaleout import check_claims_streamed
from ndis_rules.services.spill import check_claims_spilled

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "examples" / "book"
CATALOGUE = ROOT / "docs" / "scenarios" / "catalogues" / "catalogue-2025-26-sample.csv"
TODAY = date(2025, 11, 15)
ABN = "51824753556"
BIG = "431234567"


def _contract(cid: str, participant: str, start: str, end: str, total: str) -> Contract:
    return Contract.model_validate(
        {
            "id": cid,
            "participant": participant,
            "start": start,
            "end_inclusive": end,
            "budgets": [
                {"category": "01", "management": "plan", "total": total},
                {"category": "04", "management": "plan", "total": "300.00"},
            ],
        }
    )


def _line(who: str, day: str, ref: str, qty: str = "2", item: str = "01_011_0107_1_1") -> str:
    price = "70.23"
    return f"4050000001,{who},{day},{day},{item},{ref},{qty},,{price},P2,,,,,,{ABN}"


def _book(tmp_path: Path, quoted: bool = False) -> tuple[Path, Path]:
    """One participant with most rows, several invoices interleaved (so the order invoices are
    decided in is not file order), an invoice longer than the budget, funds that run out, a
    repeated line, a row the reader rejects, rows of last year's contract; and a few rows of
    other participants (one without a contract)."""
    lines = []
    for n in range(24):
        ref = ("INV-A", "INV-B", "INV-C")[n % 3] if n < 12 else "INV-LONG"
        day = f"2025/08/{4 + n % 20:02d}"
        lines.append(_line(BIG, day, ref, qty=("1", "2", "3")[n % 3]))
        if n % 5 == 0:
            lines.append(_line("432222222", day, f"OTHER-{n}"))
        if n % 7 == 0:
            lines.append(_line("439999999", day, "NOBODY"))
    lines.insert(5, lines[3])  # a repeated line
    lines.insert(9, _line(BIG, "2025/13/04", "INV-A"))  # no such month
    lines.insert(11, ",,, ,")  # a blank row, and an empty line: file-level findings
    lines.insert(14, "")
    lines += [_line(BIG, "2025/03/03", "OLD-1"), _line(BIG, "2025/03/04", "OLD-1", qty="9")]
    lines += [_line(BIG, "2025/08/11", "INV-D", item="04_104_0125_6_1", qty="3")] * 2
    lines.append(_line(BIG, "2025/08/12", "inv-long", qty="1"))  # the long invoice's number again
    if quoted:
        lines.append(_line(BIG, "2025/08/12", '"INV-Q"'))
    folder = tmp_path / "contracts"
    folder.mkdir()
    for c in (
        _contract("BIG-2025", BIG, "2025-07-01", "2026-06-30", "2000.00"),
        _contract("BIG-2024", BIG, "2024-07-01", "2025-06-30", "500.00"),
        _contract("OTHER", "432222222", "2025-07-01", "2026-06-30", "5000.00"),
    ):
        (folder / f"{c.id}.json").write_text(c.model_dump_json(by_alias=True))
    claims = tmp_path / "claims.csv"
    claims.write_text("\r\n".join([",".join(COLUMNS), *lines]) + "\r\n", encoding="utf-8")
    return claims, folder


def _check(claims: Path, contracts: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["claims", "check", str(claims), "--contracts", str(contracts)]
    code = main([*argv, "--today", TODAY.isoformat(), *extra], out=out)
    return code, out.getvalue()


FORMATS = [
    ("--format", "table"),
    ("--format", "json"),
    ("--format", "csv"),
    ("--format", "table", "--explain"),
    ("--format", "json", "--explain"),
]


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_tiny_budget_gives_the_same_report(
    tmp_path: Path, fmt: tuple[str, ...], quoted: bool
) -> None:
    claims, contracts = _book(tmp_path, quoted)
    plain = _check(claims, contracts, *fmt)
    assert plain[0] == 1
    assert all(c in plain[1] for c in ("INSUFFICIENT_FUNDS", "DUPLICATE_LINE", "DUPLICATE_INVOICE"))
    for budget in ("1", "2", "3", "5", "40"):
        assert _check(claims, contracts, *fmt, "--spill-rows", budget) == plain, budget
    assert _check(claims, contracts, *fmt, "--spill-rows", "2", "--workers", "2") == plain
    assert _check(claims, contracts, *fmt, "--workers", "2") == plain



@pytest.mark.parametrize("fmt", FORMATS)
def test_a_tiny_budget_with_the_fast_path_is_the_exact_engine(
    tmp_path: Path, fmt: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    claims, contracts = _book(tmp_path)
    monkeypatch.setenv("NDIS_RULES_FAST_PATH", "0")
    exact = _check(claims, contracts, *fmt)
    monkeypatch.setenv("NDIS_RULES_FAST_PATH", "1")
    assert _check(claims, contracts, *fmt, "--spill-rows", "2") == exact
    assert _check(claims, contracts, *fmt, "--spill-rows", "3", "--workers", "2") == exact


@pytest.mark.parametrize("explain", [False, True])
def test_the_streamed_json_is_todays_json_byte_for_byte(tmp_path: Path, explain: bool) -> None:
    claims, contracts = _book(tmp_path)
    flags = ("--explain",) if explain else ()
    code, text = _check(claims, contracts, "--format", "json", "--spill-rows", "2", *flags)
    results = read_bpr(claims)
    assert results.findings  # the blank rows
    report = check_claims(results, load_contracts(contracts), as_of=TODAY, explain=explain)

    class Args:
        holidays = False

    run = _check_run(Args(), None, TODAY, None)  # type: ignore[arg-type]
    document = dataclasses.replace(report, run=run).to_dict()
    document["findings"] = list(results.findings)
    expected = json.dumps(document, indent=2) + "\n"
    assert text == expected and code == 1


def test_the_example_book_with_a_catalogue(tmp_path: Path) -> None:
    def check(*extra: str) -> tuple[int, str]:
        return _check(BOOK / "claims.csv", BOOK / "contracts", "--catalogue", str(CATALOGUE),
                      "--state", "NSW", *extra)

    for fmt in FORMATS:
        plain = check(*fmt)
        assert check(*fmt, "--spill-rows", "2") == plain
        assert check(*fmt, "--spill-rows", "3", "--workers", "2") == plain


def test_an_empty_report_and_a_file_of_only_a_header(tmp_path: Path) -> None:
    claims, contracts = _book(tmp_path)
    claims.write_text(",".join(COLUMNS) + "\r\n")
    code, text = _check(claims, contracts, "--format", "json", "--spill-rows", "1")
    assert code == 0 and json.loads(text)["rows"] == [] and '"rows": [],\n' in text


def test_a_participant_over_the_budget_is_decided_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims, contracts = _book(tmp_path)
    parts: list[tuple[bool, bool]] = []
    real = ContractRun.check

    def spy(self: ContractRun, results: list[object], *, first: bool = True,
            last: bool = True) -> list[RowOutcome]:
        parts.append((first, last))
        return real(self, results, first=first, last=last)  # type: ignore[arg-type]

    monkeypatch.setattr(ContractRun, "check", spy)
    _check(claims, contracts, "--spill-rows", "4")
    assert (True, False) in parts and (False, True) in parts  # the long invoice, in parts
    assert (True, True) in parts  # the short ones, whole


def _render(r: RowOutcome) -> str:
    return f"{r.row} {r.outcome}"


def test_the_temporary_folder_is_removed_on_every_way_out(tmp_path: Path) -> None:
    claims, contracts_dir = _book(tmp_path)
    contracts = load_contracts(contracts_dir)
    spills = tmp_path / "spills"
    spills.mkdir()
    with check_claims_spilled(claims, contracts, as_of=TODAY, render=_render, spill_rows=2,
                              folder=spills) as report:
        assert any(spills.iterdir())  # the runs are there while the report is read
        rows = list(report.rows())
    assert not any(spills.iterdir())
    whole = check_claims(read_bpr(claims), contracts, as_of=TODAY)
    assert rows == [_render(r) for r in whole.rows]
    assert report.summary == whole.summary

    with pytest.raises(KeyboardInterrupt), check_claims_spilled(
        claims, contracts, as_of=TODAY, render=_render, spill_rows=2, folder=spills
    ) as report:
        next(report.rows())
        raise KeyboardInterrupt
    assert not any(spills.iterdir())

    def boom(r: RowOutcome) -> str:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError), check_claims_spilled(
        claims, contracts, as_of=TODAY, render=boom, spill_rows=2, folder=spills
    ):
        pass
    assert not any(spills.iterdir())

    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,bpr\r\n")
    with pytest.raises(InputError), check_claims_spilled(
        bad, contracts, as_of=TODAY, render=_render, folder=spills
    ):
        pass
    assert not any(spills.iterdir())


def test_a_budget_below_one_row_is_an_input_error(tmp_path: Path) -> None:
    claims, contracts = _book(tmp_path)
    with pytest.raises(InputError), check_claims_spilled(
        claims, [], as_of=TODAY, render=_render, spill_rows=0
    ):
        pass
    code, _ = _check(claims, contracts, "--spill-rows", "0")
    assert code == 2


def test_streamed_library_check_is_the_same_with_a_tiny_budget(tmp_path: Path) -> None:
    claims, contracts_dir = _book(tmp_path)
    contracts = load_contracts(contracts_dir)
    plain = check_claims_streamed(claims, contracts, as_of=TODAY, keep="all")
    tiny = check_claims_streamed(claims, contracts, as_of=TODAY, keep="all", spill_rows=2)
    assert tiny == plain and len(plain.rows) == plain.summary.lines


def test_place_says_where_check_puts_a_row(tmp_path: Path) -> None:
    claims, contracts_dir = _book(tmp_path)
    book = ClaimsBook(load_contracts(contracts_dir))
    results = read_bpr(claims)
    where = [book.place(r) for r in results]
    assert {w[0].id for w in where if isinstance(w, tuple)} == {"BIG-2025", "BIG-2024", "OTHER"}
    rejected = [w.codes for w in where if isinstance(w, RowOutcome)]
    assert ("BPR_INVALID_ROW",) in rejected and ("NO_CONTRACT_FOR_PARTICIPANT",) in rejected


def test_partition_files_hold_every_row(tmp_path: Path) -> None:
    claims, _ = _book(tmp_path)
    folder = spill._Folder(tmp_path)
    _, parts, findings = spill._split_file(claims, folder, 4, 1)
    assert findings == read_bpr(claims).findings
    records = [r for path, _ in parts for r in spill._records(path)]
    assert sorted(n for n, _ in records) == [r.row_number for r in read_bpr(claims)]
    assert sum(n for _, n in parts) == len(records)
    _ = _catalogue_context  # the CLI helper used above stays importable


def test_formatting_leaves_no_garbage_to_grow_with_the_file(tmp_path: Path) -> None:
    """The check runs with the cyclic collector paused; the JSON formatter's closures form
    cycles, which must be freed a budget at a time (they once grew to GBs on a big file)."""
    import gc
    import types

    from ndis_rules._gc import gc_paused
    from ndis_rules.cli.claims import _json_row

    claims, contracts_dir = _book(tmp_path)
    contracts = load_contracts(contracts_dir)

    def closures() -> int:
        return sum(
            1
            for o in gc.get_objects()
            if isinstance(o, types.FunctionType) and "_make_iterencode" in o.__qualname__
        )

    gc.collect()
    with gc_paused():
        before = closures()
        with check_claims_spilled(
            claims, contracts, as_of=TODAY, render=_json_row, spill_rows=3
        ) as report:
            after = closures()
            rows = sum(1 for _ in report.rows())
    assert rows > 30 and after - before < 10
