"""The bulk claims check (``ndis_rules.claims``) and its commands ``claims check``,
``claims write`` and ``catalogue lookup`` (``ndis_rules.cli.claims``), over examples/book."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.bpr import COLUMNS, BprIssue
from ndis_rules.claims import (
    BPR_INVALID_ROW,
    BPR_ROW_WARNING,
    NO_CONTRACT_FOR_PARTICIPANT,
    ClaimsBook,
    ClaimsReport,
    ClaimsSummary,
    RowNote,
    RowOutcome,
    check_claims,
)
from ndis_rules.cli import claims as cli_claims
from ndis_rules.cli import main
from ndis_rules.cli.claims import CSV_COLUMNS, check_in_chunks, format_claims_csv
from ndis_rules.errors import InputError
from ndis_rules.files.bpr import read_bpr
from ndis_rules.files.catalogue import detect_and_load
from ndis_rules.files.contracts import load_contracts
from ndis_rules.itemchecks import CatalogueContext
from ndis_rules.models import Contract, Settings
from ndis_rules.money import Money

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "examples" / "book"
CLAIMS = BOOK / "claims.csv"
CONTRACTS = BOOK / "contracts"
CATALOGUE = ROOT / "docs" / "scenarios" / "catalogues" / "catalogue-2025-26-sample.csv"
TODAY = date(2025, 11, 15)
HEADER = ",".join(COLUMNS)
SUNRISE = "12100000691"
OTHER = "51824753556"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def check_book(*extra: str) -> tuple[int, str]:
    return run(
        "claims",
        "check",
        str(CLAIMS),
        "--contracts",
        str(CONTRACTS),
        "--catalogue",
        str(CATALOGUE),
        "--today",
        TODAY.isoformat(),
        *extra,
    )


def bpr_line(
    participant: str = "431234567",
    day: str = "2025/08/04",
    reference: str = "INV-1",
    quantity: str = "2",
    price: str = "70.23",
    item: str = "01_011_0107_1_1",
    abn: str = OTHER,
    to: str | None = None,
) -> str:
    return (
        f"4050000001,{participant},{day},{to or day},{item},{reference},{quantity},,{price},P2,"
        f",,,,,{abn}"
    )


def bpr(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def contract(
    cid: str = "C1",
    participant: str = "431234567",
    start: str = "2025-07-01",
    end: str = "2026-06-30",
    total: str = "200.00",
    management: str = "plan",
    **extra: Any,
) -> Contract:
    return Contract.model_validate(
        {
            "id": cid,
            "participant": participant,
            "start": start,
            "end_inclusive": end,
            "budgets": [{"category": "01", "management": management, "total": total}],
            **extra,
        }
    )


@pytest.fixture(scope="module")
def book_report() -> ClaimsReport:
    results = read_bpr(CLAIMS)
    context = CatalogueContext(detect_and_load(CATALOGUE))
    return check_claims(results, load_contracts(CONTRACTS), as_of=TODAY, catalogue=context)


def by_row(report: ClaimsReport) -> dict[int, RowOutcome]:
    return {r.row: r for r in report.rows}


# -- the core -----------------------------------------------------------------------------------
def test_every_row_of_the_book_gets_one_outcome_in_file_order(book_report: ClaimsReport) -> None:
    results = read_bpr(CLAIMS)
    assert len(results) == 30
    assert [r.row for r in book_report.rows] == [r.row_number for r in results]
    s = book_report.summary
    assert (s.lines, s.allowed, s.warnings, s.errors) == (30, 13, 4, 13)
    assert s.allowed + s.warnings + s.errors == s.lines
    assert (s.contracts, s.invoices) == (4, 16)
    assert s.by_code["BPR_INVALID_ROW"] == 2
    assert s.by_code["NO_CONTRACT_FOR_PARTICIPANT"] == 2
    assert s.by_code["PROVIDER_NOT_ON_CONTRACT"] == 11
    assert s.by_code["MANAGEMENT_TYPE_NOT_CLAIMABLE"] == 2  # rows 19 and 21 (row 20: day type)
    assert s.severities["PRICE_ABOVE_LIMIT"] == "warning"
    assert s.claimable == Money.parse("3749.93")
    assert list(s.by_code) == sorted(s.by_code)


@pytest.mark.parametrize(
    ("row", "outcome", "code"),
    [
        (2, "allowed", None),  # SPCB covers it, FP2
        (3, "allowed", None),  # a short notice cancellation with a reason
        (4, "error", "DAY_TYPE_MISMATCH"),  # weekday item on a Saturday
        (5, "error", "PENDING_PERIOD"),
        (6, "error", "PROVIDER_BUDGET_INSUFFICIENT"),  # the SPCB's FP2 share is short
        (8, "error", "SUPPORT_ITEM_BUDGET_EXCEEDED"),  # row 7 (another invoice) used it
        (10, "warning", "PRICE_ABOVE_LIMIT"),
        (12, "warning", "DUPLICATE_LINE"),
        (13, "warning", "FUTURE_DATE"),
        (14, "allowed", "DRAWS_CORE_FLEXIBLE"),
        (15, "allowed", "PAST_PERIOD"),
        (16, "error", BPR_INVALID_ROW),  # 2025/11/31
        (19, "error", "MANAGEMENT_TYPE_NOT_CLAIMABLE"),  # B-2025 holds Core agency-managed
        (26, "allowed", "PAST_PERIOD"),  # late claim: the participant's previous plan
        (28, "error", "OUTSIDE_CONTRACT"),  # the nearest contract ended before
        (29, "error", NO_CONTRACT_FOR_PARTICIPANT),
        (31, "error", BPR_INVALID_ROW),  # ABN checksum
    ],
)
def test_book_rows(book_report: ClaimsReport, row: int, outcome: str, code: str | None) -> None:
    r = by_row(book_report)[row]
    assert r.outcome == outcome, r
    if code is not None:
        assert code in r.codes
    if outcome == "error":
        assert r.draws == ()
    else:
        assert r.amount is not None
        assert sum((d.amount for d in r.draws), Money(0)) == r.amount


def test_book_rows_are_matched_by_date_and_management(book_report: ClaimsReport) -> None:
    rows = by_row(book_report)
    assert rows[26].contract == "B-2024" and rows[19].contract == "B-2025"
    # B-2025 holds Core only as agency-managed: the line is claimed under that type, which a
    # plan manager does not claim (validation.md §1a)
    assert rows[19].codes == ("MANAGEMENT_TYPE_NOT_CLAIMABLE",)
    assert "01:agency" in rows[19].messages[0]
    assert [(d.budget, d.period) for d in rows[2].draws] == [("01:plan", "FP2")]
    assert rows[28].contract == "C-2024"
    assert rows[29].contract is None and "C22" in rows[29].messages[0]
    assert "434444444" in rows[29].messages[0]
    assert rows[16].amount is None
    assert rows[16].issues[0] == BprIssue(16, "SupportsDeliveredFrom", "no such date: '2025/11/31'")
    assert rows[16].participant == "431111111" and rows[16].claim_reference == "INV-S-1003"


def test_lines_compete_across_invoices_in_file_order() -> None:
    c = contract(total="200.00")
    first, second = bpr_line(reference="INV-1"), bpr_line(reference="INV-2", day="2025/08/05")
    report = check_claims(read_bpr(bpr(first, second)), [c], as_of=TODAY)
    assert [r.outcome for r in report.rows] == ["allowed", "error"]
    assert "INSUFFICIENT_FUNDS" in report.rows[1].codes
    swapped = check_claims(read_bpr(bpr(second, first)), [c], as_of=TODAY)
    assert [(r.claim_reference, r.outcome) for r in swapped.rows] == [
        ("INV-2", "allowed"),
        ("INV-1", "error"),
    ]


def test_rows_of_one_claim_reference_form_one_invoice_in_order_of_first_appearance() -> None:
    # rows 2 and 4 are one invoice, validated before row 3's invoice: row 4 takes the money
    c = contract(total="300.00")
    text = bpr(
        bpr_line(reference="INV-A", day="2025/08/04"),
        bpr_line(reference="INV-B", day="2025/08/05"),
        bpr_line(reference="INV-A", day="2025/08/06"),
    )
    report = check_claims(read_bpr(text), [c], as_of=TODAY)
    assert [r.outcome for r in report.rows] == ["allowed", "error", "allowed"]
    assert report.rows[0].invoice == report.rows[2].invoice == f"bpr:{OTHER}:INV-A"
    assert report.summary.invoices == 2


def test_the_same_reference_of_two_providers_is_two_invoices() -> None:
    text = bpr(bpr_line(abn=OTHER), bpr_line(abn=SUNRISE, day="2025/08/05"))
    report = check_claims(read_bpr(text), [contract(total="900.00")], as_of=TODAY)
    assert [r.provider for r in report.rows] == [OTHER, SUNRISE]
    assert report.summary.invoices == 2
    assert [r.outcome for r in report.rows] == ["allowed", "allowed"]


def chosen(book: ClaimsBook, day: date) -> str | None:
    found = book.contract_for("431234567", day)
    return found.id if found is not None else None


def test_contract_selection_by_date() -> None:
    old = contract("OLD", start="2024-07-01", end="2025-06-30")
    new = contract("NEW", start="2025-07-01", end="2026-06-30")
    replaced = contract("NEW-INACTIVE", start="2025-07-01", end="2026-06-30", active=False)
    later = contract("LATER", start="2025-09-01", end="2026-06-30")
    book = ClaimsBook([new, old])
    assert chosen(book, date(2025, 6, 30)) == "OLD"
    assert chosen(book, date(2025, 7, 1)) == "NEW"
    assert chosen(book, date(2026, 9, 1)) == "NEW"
    assert chosen(book, date(2023, 1, 1)) == "OLD"
    assert book.contract_for("439999999", date(2025, 8, 1)) is None
    both = ClaimsBook([replaced, new, later])
    # several cover: the active one, then the latest start
    assert chosen(both, date(2025, 8, 1)) == "NEW"
    assert chosen(both, date(2025, 9, 2)) == "LATER"
    text = bpr(bpr_line(day="2025/06/30"), bpr_line(day="2026/07/01", reference="INV-2"))
    report = check_claims(read_bpr(text), [old, new], as_of=TODAY)
    assert [r.contract for r in report.rows] == ["OLD", "NEW"]
    assert report.rows[1].codes[0] == "OUTSIDE_CONTRACT"


def test_a_row_whose_participant_has_no_contract_is_an_error_not_a_lost_line() -> None:
    text = bpr(bpr_line(participant="439999999"), bpr_line(day="2025/08/05"))
    report = check_claims(read_bpr(text), [contract()], as_of=TODAY)
    assert [r.codes for r in report.rows] == [
        (NO_CONTRACT_FOR_PARTICIPANT,),
        ("PROVIDER_NOT_ON_CONTRACT",),
    ]
    assert report.rows[0].amount == Money.parse("140.46")
    assert report.summary.contracts == 1 and report.has_errors


def test_management_is_plan_unless_the_contract_holds_the_category_otherwise() -> None:
    agency = contract(management="agency")
    report = check_claims(read_bpr(bpr(bpr_line())), [agency], as_of=TODAY)
    assert report.rows[0].codes == ("MANAGEMENT_TYPE_NOT_CLAIMABLE",)  # a plan manager's
    settings = Settings(claimable_management=("plan", "agency"))
    report = check_claims(read_bpr(bpr(bpr_line())), [agency], as_of=TODAY, settings=settings)
    assert [d.budget for d in report.rows[0].draws] == ["01:agency"]
    both = Contract.model_validate(
        {
            "id": "C2",
            "participant": "431234567",
            "start": "2025-07-01",
            "end_inclusive": "2026-06-30",
            "budgets": [
                {"category": "01", "management": "agency", "total": "500.00"},
                {"category": "01", "management": "plan", "total": "500.00"},
            ],
        }
    )
    report = check_claims(read_bpr(bpr(bpr_line())), [both], as_of=TODAY)
    assert [d.budget for d in report.rows[0].draws] == ["01:plan"]


def test_reader_warnings_flag_the_row() -> None:
    c = contract(participant="123456789")
    report = check_claims(read_bpr(bpr(bpr_line(participant="123456789"))), [c], as_of=TODAY)
    [row] = report.rows
    assert row.outcome == "warning" and BPR_ROW_WARNING in row.codes
    assert row.draws and row.message_codes[-1] == BPR_ROW_WARNING
    assert report.summary.severities[BPR_ROW_WARNING] == "warning"


def test_the_check_is_deterministic_and_explains() -> None:
    text = bpr(bpr_line(), bpr_line(day="2025/13/01"), bpr_line(participant="439999999"))
    a = check_claims(read_bpr(text), [contract()], as_of=TODAY, explain=True)
    b = check_claims(read_bpr(text), [contract()], as_of=TODAY, explain=True)
    assert a == b and a.to_dict() == b.to_dict()
    assert "trace" in a.to_dict()["rows"][0]
    assert (
        "trace" not in check_claims(read_bpr(text), [contract()], as_of=TODAY).to_dict()["rows"][0]
    )


def test_two_contracts_with_one_id_are_an_input_error() -> None:
    with pytest.raises(InputError, match="C1"):
        ClaimsBook([contract(), contract(participant="439999999")])


# -- loading contracts --------------------------------------------------------------------------
def test_load_contracts_from_a_folder_and_from_sqlite(tmp_path: Path) -> None:
    from_folder = load_contracts(CONTRACTS)
    assert [c.id for c in from_folder] == ["A-2025", "B-2024", "B-2025", "C-2024"]
    store = tmp_path / "contracts.db"
    with SqliteContractRepository(store) as repo:
        for c in from_folder:
            repo.save(c, expected_version=None)
    from_store = load_contracts(str(store))
    assert [c.id for c in from_store] == [c.id for c in from_folder]
    code, text = run(
        "claims",
        "check",
        str(CLAIMS),
        "--contracts",
        str(store),
        "--catalogue",
        str(CATALOGUE),
        "--today",
        "2025-11-15",
    )
    assert code == 1
    assert text.splitlines()[0].endswith("30 line(s): 13 allowed, 4 warning, 13 error")


def test_load_contracts_refuses_what_is_not_contracts(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        load_contracts(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match=r"notes\.txt"):
        load_contracts(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="no contract"):
        load_contracts(tmp_path)
    (tmp_path / "bad.json").write_text('{"id": "X", "start": "2025-07-01"}')
    with pytest.raises(InputError, match=r"bad\.json"):
        load_contracts(tmp_path)


# -- claims check -------------------------------------------------------------------------------
def test_check_table(book_report: ClaimsReport) -> None:
    code, text = check_book()
    assert code == 1
    lines = text.splitlines()
    assert lines[0] == (f"claims check of {CLAIMS}: 30 line(s): 13 allowed, 4 warning, 13 error")
    assert lines[1] == "claimable 3749.93 over 4 contract(s), 16 invoice(s)"
    assert "lines by rule code:" in lines
    assert "rejected and warned lines:" in lines
    assert any(
        line.startswith("row 5 ") and "PENDING" not in line and "nothing drawn" in line
        for line in lines
    )
    assert "           PENDING_PERIOD: The service dates fall in funding period FP3" in text
    assert "draws 160.00 from 01:plan FP2" in text  # the price warning row
    assert "BPR_INVALID_ROW: row 16, SupportsDeliveredFrom: no such date" in text
    assert not any(line.startswith("row 2 ") for line in lines)  # allowed rows are counted only
    assert "13 allowed line(s) not shown (use --format json or csv for every line)" in lines


def test_check_json_is_one_document(book_report: ClaimsReport) -> None:
    code, text = check_book("--format", "json", "--explain")
    assert code == 1
    doc = json.loads(text)
    assert doc["summary"]["lines"] == len(doc["rows"]) == 30
    assert doc["summary"] == book_report.summary.to_dict()
    rows = {r["row"]: r for r in doc["rows"]}
    assert rows[2]["draws"] == [{"budget": "01:plan", "period": "FP2", "amount": "140.46"}]
    assert rows[5]["codes"] == ["PENDING_PERIOD"] and rows[5]["trace"]
    assert rows[16]["issues"][0]["column"] == "SupportsDeliveredFrom"


def test_check_csv_one_row_per_input_row() -> None:
    code, text = check_book("--format", "csv")
    assert code == 1
    rows = [r for r in csv.reader(io.StringIO(text)) if not r[0].startswith("#")]
    assert rows[0] == list(CSV_COLUMNS)
    assert [int(r[0]) for r in rows[1:]] == list(range(2, 32))
    assert rows[1] == [
        "2", "allowed", "431111111", "INV-S-1001", "01_011_0107_1_1", "2025-11-03",
        "2025-11-03", "140.46", "", "140.46 from 01:plan FP2", "",
    ]
    assert rows[15][:2] == ["16", "error"] and rows[15][8] == "BPR_INVALID_ROW"
    assert rows[15][5] == "2025/11/31"  # the cell as read: the reader rejected it


def test_csv_cells_are_neutralised() -> None:
    row = RowOutcome(
        2,
        "431234567",
        "INV-1",
        "01_011_0107_1_1",
        None,
        "error",
        ("X",),
        (RowNote("X", "error", "=HYPERLINK(1)"),),
    )
    summary = ClaimsSummary(1, 0, 0, 1, {"X": 1}, {"X": "error"}, Money(0), 0, 0)
    text = format_claims_csv(ClaimsReport((row,), summary))
    assert list(csv.reader(io.StringIO(text)))[1] == [
        "2", "error", "431234567", "INV-1", "01_011_0107_1_1", "", "", "", "X", "",
        "'=HYPERLINK(1)",
    ]


def test_check_exit_0_when_no_row_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "c1.json").write_text(contract().model_dump_json(by_alias=True))
    claims = tmp_path / "ok.csv"
    claims.write_text(bpr(bpr_line()))
    code, text = run(
        "claims", "check", str(claims), "--contracts", str(folder), "--today", "2025-11-15"
    )
    assert code == 0, text
    assert "1 line(s): 1 allowed, 0 warning, 0 error" in text.splitlines()[0]


def test_holidays_turn_a_public_holiday_item_allowed() -> None:
    pytest.importorskip("holidays")
    code, text = check_book("--format", "json", "--holidays", "--state", "NSW")
    assert code == 1
    rows = {r["row"]: r for r in json.loads(text)["rows"]}
    # Labour Day 2025-10-06 (NSW): the day type is right (the row is still an error: B-2025's
    # Core is agency-managed)
    assert rows[20]["codes"] == ["MANAGEMENT_TYPE_NOT_CLAIMABLE"]
    _, plain = check_book("--format", "json")
    assert json.loads(plain)["rows"][18]["codes"] == ["DAY_TYPE_MISMATCH"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--holidays"], "--holidays needs --state"),
        (["--state", "XYZ"], "unknown state"),
        (["--region", "mars"], "unknown region"),
    ],
)
def test_check_bad_options_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = check_book(*argv)
    assert code == 2
    assert message in capsys.readouterr().err


def test_holidays_without_the_extra_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)
    code, _ = check_book("--holidays", "--state", "NSW")
    assert code == 2
    err = capsys.readouterr().err
    assert "pip install 'ndis-rules[holidays]'" in err and "Traceback" not in err


def test_bad_input_exit_2_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_bpr = tmp_path / "claims.csv"
    not_bpr.write_text("Participant,Amount\n431234567,10.00\n")
    code, _ = run("claims", "check", str(not_bpr), "--contracts", str(CONTRACTS))
    err = capsys.readouterr().err
    assert code == 2 and "claims.csv: row 1" in err and "RegistrationNumber" in err
    code, _ = run("claims", "check", str(tmp_path / "missing.csv"), "--contracts", str(CONTRACTS))
    assert code == 2 and "missing.csv" in capsys.readouterr().err
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "broken.json").write_text('{"id": "X", "start": 20250701}')
    code, _ = run("claims", "check", str(CLAIMS), "--contracts", str(folder))
    err = capsys.readouterr().err
    assert code == 2 and "broken.json" in err and "start" in err and "Traceback" not in err


# -- catalogue lookup ---------------------------------------------------------------------------
def test_catalogue_lookup_by_date() -> None:
    code, text = run(
        "catalogue", "lookup", "15_610_0118_1_3", "--date", "2025-11-23", "--catalogue",
        str(CATALOGUE),
    )  # fmt: skip
    assert code == 0
    assert "name:          Early Childhood Intervention Professional - Art Therapist" in text
    assert "price limit:   193.99 (national)" in text and "2025-07-02 to 2025-11-23" in text
    code, text = run(
        "catalogue", "lookup", "15_610_0118_1_3", "--date", "2025-11-24", "--region", "remote",
        "--catalogue", str(CATALOGUE),
    )  # fmt: skip
    assert code == 0 and "price limit:   218.62 (remote)" in text and "to open" in text
    code, text = run(
        "catalogue", "lookup", "01_003_0107_1_1", "--date", "2025-11-24", "--catalogue",
        str(CATALOGUE),
    )  # fmt: skip
    assert "no limit (quotable)" in text and "PACE category: 01 Assistance with Daily Life" in text


@pytest.mark.parametrize(
    ("item", "day", "message"),
    [
        ("99_999_0107_1_1", "2025-11-24", "not in the catalogue"),
        ("01_011_0107_1_1", "2025-06-30", "not in force on 2025-06-30"),
    ],
)
def test_catalogue_lookup_unknown_exit_2(
    item: str, day: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run("catalogue", "lookup", item, "--date", day, "--catalogue", str(CATALOGUE))
    assert code == 2 and text == ""
    assert message in capsys.readouterr().err


# -- claims write -------------------------------------------------------------------------------
def test_claims_write_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = run(
        "claims", "write", "--from", str(CLAIMS), "--out", str(out), "--date-format", "DD/MM/YYYY"
    )
    assert code == 1  # two rows were left out
    assert text.splitlines()[0] == f"kept 28 of 30 row(s) of {CLAIMS}"
    assert "left out row 31, ABN of Support Provider" in text
    [written] = sorted(out.iterdir())
    assert written.name == "bpr001.csv"
    original = [r.row for r in read_bpr(CLAIMS) if r.ok]
    again = read_bpr(written)
    assert all(r.ok for r in again) and [r.row for r in again] == original
    assert written.read_text().splitlines()[1].startswith("4050012345,431111111,03/11/2025,")


def test_claims_write_splits_at_5000_rows(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_text(bpr(*[bpr_line(reference=f"INV-{n}") for n in range(5001)]))
    code, text = run("claims", "write", "--from", str(source), "--out", str(tmp_path / "o"))
    assert code == 0 and "kept 5001 of 5001" in text
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == ["bpr001.csv", "bpr002.csv"] and all(len(n) <= 20 for n in names)
    assert [len(read_bpr(tmp_path / "o" / n)) for n in names] == [5000, 1]


def test_claims_write_bad_date_format_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(
        "claims", "write", "--from", str(CLAIMS), "--out", str(tmp_path), "--date-format", "%d.%m"
    )
    assert code == 2 and "date_format" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# -- property -----------------------------------------------------------------------------------
ROW_KINDS = st.sampled_from(
    [
        "good",
        "good_hours",
        "bad_date",
        "bad_abn",
        "no_contract",
        "outside",
        "short",
        "empty_cells",
        "blank_line",
    ]
)


def _row_text(kind: str, n: int, quantity: int, day: int) -> str:
    ref = f"INV-{n % 4}"
    when = f"2025/08/{day:02d}"
    match kind:
        case "good":
            return bpr_line(reference=ref, quantity=str(quantity), day=when)
        case "good_hours":
            return bpr_line(reference=ref, quantity="", day=when).replace(",,70.23", ",1.5,70.23")
        case "bad_date":
            return bpr_line(reference=ref, day="2025/02/30")
        case "bad_abn":
            return bpr_line(reference=ref, abn="51824753557")
        case "no_contract":
            return bpr_line(participant="439999999", reference=ref)
        case "outside":
            return bpr_line(reference=ref, day="2027/01/05")
        case "short":
            return "4050000001,431234567,2025/08/04"
        case "empty_cells":
            return ",,,,,,,,,,,,,,,"
        case _:
            return ""


@given(
    st.lists(st.tuples(ROW_KINDS, st.integers(1, 9), st.integers(1, 28)), min_size=0, max_size=25)
)
def test_one_outcome_per_row_in_order(rows: list[tuple[str, int, int]]) -> None:
    lines = [_row_text(kind, n, q, d) for n, (kind, q, d) in enumerate(rows)]
    results = read_bpr(bpr(*lines))
    # an empty line and a line of only commas are blank rows: skipped (and listed once)
    data_rows = [i + 2 for i, line in enumerate(lines) if line.replace(",", "")]
    assert [r.row_number for r in results] == data_rows
    report = check_claims(results, [contract(total="1000.00")], as_of=TODAY)
    assert [r.row for r in report.rows] == data_rows
    s = report.summary
    assert s.lines == len(data_rows) == s.allowed + s.warnings + s.errors
    for result, outcome in zip(results, report.rows, strict=True):
        if not result.ok:
            assert outcome.outcome == "error" and outcome.codes[0] == BPR_INVALID_ROW
        if outcome.outcome != "error":
            assert outcome.amount is not None
            assert sum((d.amount for d in outcome.draws), Money(0)) == outcome.amount


# -- the progress bar (issue 6) -----------------------------------------------------------------
class _Terminal(io.StringIO):
    """Standard output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("chunk_rows", [1, 4, 1000])
@pytest.mark.parametrize("explain", [False, True])
def test_the_check_in_chunks_is_the_check(chunk_rows: int, explain: bool) -> None:
    results = read_bpr(CLAIMS)
    context = CatalogueContext(detect_and_load(CATALOGUE))
    contracts = load_contracts(CONTRACTS)
    whole = check_claims(results, contracts, as_of=TODAY, catalogue=context, explain=explain)
    done: list[int] = []
    chunked = check_in_chunks(
        results,
        contracts,
        as_of=TODAY,
        catalogue=context,
        explain=explain,
        advance=done.append,
        chunk_rows=chunk_rows,
    )
    assert chunked == whole and chunked.to_dict() == whole.to_dict()
    assert sum(done) == len(results) and (len(done) > 1 or chunk_rows == 1000)
    assert check_in_chunks([], contracts, as_of=TODAY).summary.lines == 0


@given(
    st.lists(st.tuples(ROW_KINDS, st.integers(1, 9), st.integers(1, 28)), min_size=0, max_size=25),
    st.integers(1, 6),
)
def test_the_check_in_chunks_is_the_check_for_any_file(
    rows: list[tuple[str, int, int]], chunk_rows: int
) -> None:
    lines = [_row_text(kind, n, q, d) for n, (kind, q, d) in enumerate(rows)]
    lines += [line.replace("431234567", "432222222") for line in lines[::2]]
    contracts = [
        contract(total="1000.00"),
        contract(cid="C2", participant="432222222", total="300.00"),
    ]
    results = read_bpr(bpr(*lines))
    whole = check_claims(results, contracts, as_of=TODAY)
    chunked = check_in_chunks(results, contracts, as_of=TODAY, chunk_rows=chunk_rows)
    assert chunked.to_dict() == whole.to_dict()


def _check_to(out: io.StringIO, *extra: str) -> tuple[int, str]:
    argv = ["claims", "check", str(CLAIMS), "--contracts", str(CONTRACTS), *extra]
    code = main([*argv, "--catalogue", str(CATALOGUE), "--today", "2025-11-15"], out=out)
    return code, out.getvalue()


def _spy_advance(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = cli_claims._RichBar.advance

    def spy(self: Any, rows: int) -> None:
        calls.append(rows)
        real(self, rows)

    monkeypatch.setattr(cli_claims._RichBar, "advance", spy)
    return calls


def test_progress_bar_on_a_terminal_for_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rich")
    plain = _check_to(io.StringIO())
    advanced = _spy_advance(monkeypatch)
    assert _check_to(_Terminal()) == plain and advanced == []  # the example book is short
    monkeypatch.setattr(cli_claims, "PROGRESS_MIN_BYTES", 0)
    assert _check_to(_Terminal()) == plain and sum(advanced) == 30  # same report, a bar
    assert _check_to(io.StringIO()) == plain and sum(advanced) == 30  # not a terminal: no bar


def test_progress_bar_for_the_json_report(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rich")
    plain = _check_to(io.StringIO(), "--format", "json")
    advanced = _spy_advance(monkeypatch)  # the JSON report is streamed like the others
    monkeypatch.setattr(cli_claims, "PROGRESS_MIN_BYTES", 0)
    assert _check_to(_Terminal(), "--format", "json") == plain and sum(advanced) == 30


def test_plain_output_without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _check_to(io.StringIO())
    advanced = _spy_advance(monkeypatch)
    monkeypatch.setattr(cli_claims, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setitem(sys.modules, "rich.progress", None)  # import fails as if not installed
    assert _check_to(_Terminal()) == plain and advanced == []


# -- the JSON report's schema (issue 6) ---------------------------------------------------------
@pytest.mark.parametrize("extra", [(), ("--explain",)])
def test_check_json_matches_the_published_schema(tmp_path: Path, extra: tuple[str, ...]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "schema" / "claims-report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    code, text = check_book("--format", "json", *extra)
    assert code == 1
    document = json.loads(text)
    validator.validate(document)
    rows = document["rows"]
    assert {"issues", "findings", "counts_against"} <= {k for r in rows for k in r}
    assert ("trace" in rows[0]) == bool(extra)
    # a reader warning (NDIS number not starting 43) and a row the reader rejects
    f = tmp_path / "claims.csv"
    f.write_text(bpr(bpr_line(participant="421234567"), bpr_line(day="2025/02/30")))
    main_args = ["claims", "check", str(f), "--contracts", str(CONTRACTS), "--format", "json"]
    out = io.StringIO()
    assert main([*main_args, "--today", "2025-11-15", *extra], out=out) == 1
    document = json.loads(out.getvalue())
    validator.validate(document)
    assert document["summary"]["severities"]["BPR_ROW_WARNING"] == "warning"
    assert document["rows"][1]["amount"] is None
    broken = {**document, "rows": [{**document["rows"][0], "amount": 12.5}]}
    assert not validator.is_valid(broken)  # money is a string, never a float


def test_workers_give_the_same_report_in_every_format() -> None:
    from ndis_rules.cli import main

    root = Path(__file__).resolve().parents[2]
    base = [
        "claims",
        "check",
        str(root / "examples" / "book" / "claims.csv"),
        "--contracts",
        str(root / "examples" / "book" / "contracts"),
        "--catalogue",
        str(root / "docs" / "scenarios" / "catalogues" / "catalogue-2025-26-sample.csv"),
        "--today",
        "2025-11-15",
    ]
    for fmt in ("table", "json", "csv"):
        outputs = []
        for workers in ("1", "2", "3"):
            out = io.StringIO()
            assert main([*base, "--format", fmt, "--workers", workers], out=out) == 1
            outputs.append(out.getvalue())
        assert outputs[0] == outputs[1] == outputs[2], fmt
    assert main([*base, "--workers", "0"], out=io.StringIO()) == 2


def test_claims_write_from_validated_lines_splits_at_funding_periods(tmp_path: Path) -> None:
    """With --contracts, only rows validation allows are written, and a row that spans two
    funding periods (allowed with claims_flexibility) becomes one row per period."""
    settings = tmp_path / "settings.json"
    settings.write_text('{"claims_flexibility": true}')
    claims = tmp_path / "claims.csv"
    spanning_row = (
        "4050012345,431111111,2025/09/29,2025/10/02,01_011_0107_1_1,INV-SPAN,4,,"
        "70.23,P2,,,,,,51824753556"
    )
    claims.write_text(CLAIMS.read_text().rstrip("\r\n") + "\r\n" + spanning_row + "\r\n")
    out_dir = tmp_path / "out"
    out = io.StringIO()
    code = main(
        [
            "claims",
            "write",
            "--from",
            str(claims),
            "--out",
            str(out_dir),
            "--contracts",
            str(CONTRACTS),
            "--today",
            "2025-11-15",
            "--settings",
            str(settings),
        ],
        out=out,
    )
    assert code == 1  # the example book has error rows, listed as left out
    assert "left out" not in out.getvalue() or "row " in out.getvalue()
    written = read_bpr(out_dir / "bpr001.csv")
    assert all(r.ok for r in written)
    report = check_claims(
        read_bpr(claims),
        load_contracts(CONTRACTS),
        as_of=TODAY,
        settings=Settings(claims_flexibility=True),
    )
    parts = sum(
        len(r.decision.parts)
        for r in report.rows
        if r.outcome != "error" and r.decision is not None
    )
    assert len(written) == parts
    spanning = [r for r in report.rows if r.decision is not None and len(r.decision.parts) > 1]
    assert spanning, "the added row spans two funding periods"
    split = [r for r in written if r.row is not None and r.row.claim_reference == "INV-SPAN"]
    assert [
        (str(r.row.supports_delivered_from), str(r.row.quantity))
        for r in split
        if r.row is not None
    ] == [("2025-09-29", "2"), ("2025-10-01", "2")]
