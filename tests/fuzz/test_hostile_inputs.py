"""The hostile-input corpus of issue 12 (tests/inputs/hostile/) and the "typed error or result,
rows conserved" properties of every BPR reader: the core text reader, the file reader and the
scale-out reader that re-reads records for partitions. Each reproduced failure of the issue is a
regression test here."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ndis_rules.bpr import COLUMNS, BprFileError, BprRow, decode_text, parse_bpr, write_bpr
from ndis_rules.cli import main
from ndis_rules.errors import InputError
from ndis_rules.files.bpr import read_bpr, read_records
from ndis_rules.files.documents import read_invoices
from ndis_rules.parsing import MAX_DATE, MIN_DATE, ParseError, json_loads, parse_iso_date
from ndis_rules.services.scaleout import check_claims_streamed
from ndis_rules.testing.scenarios import load_scenario_file

HOSTILE = Path(__file__).resolve().parents[1] / "inputs" / "hostile"
HEADER = ",".join(COLUMNS)
TODAY = date(2025, 11, 15)


def _lines_after_header(text: str) -> int:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return len(lines) - 1


# -- rows in = rows out -------------------------------------------------------------------------
@settings(max_examples=300)
@given(st.binary(max_size=400))
@example(b'4050000001,"Jane Smith\r\n1,2\r\n')
@example(b'"\n"\n,,,\n\r\n\r')
@example(b"9/13/2025,1/2/2025\n")
def test_every_line_after_the_header_is_a_row_or_a_counted_blank(data: bytes) -> None:
    payload = HEADER.encode() + b"\r\n" + data
    try:
        results = read_bpr(payload)
        _, records = read_records(payload)
    except BprFileError:  # typed: e.g. a month-first file, refused whole
        return
    lines = _lines_after_header(decode_text(payload, "x"))
    assert len(results) == len(records)
    assert len(results) + len(records.blank_rows) == lines
    assert [r.row_number for r in results] == [n for n, _ in records]
    assert all(r.ok == (r.row is not None) for r in results)
    # the scale-out reader (raw lines, or records when quoted) counts the same rows
    streamed = check_claims_streamed(payload, [], as_of=TODAY, partitions=3, keep="all")
    assert streamed.summary.lines == len(results)
    assert [r.row for r in streamed.rows] == [r.row_number for r in results]
    assert streamed.findings == results.findings


@given(st.text(max_size=300))
def test_core_reader_on_arbitrary_text(text: str) -> None:
    try:
        results = parse_bpr(HEADER + "\n" + text)
    except BprFileError:
        return
    assert len(results) + int(bool(results.findings) and "blank" in results.findings[0]) >= 0
    assert len(results) <= _lines_after_header(HEADER + "\n" + text)


# -- the corpus ---------------------------------------------------------------------------------
def test_an_unclosed_quote_names_its_row_and_every_later_row_is_reported() -> None:
    results = read_bpr(HOSTILE / "unclosed-quote-100-rows.csv")
    assert len(results) == 100
    assert [r.row_number for r in results] == list(range(2, 102))
    bad = results[1]
    assert not bad.ok and bad.errors[0].column == "AuthorisedBy"
    assert "not closed" in bad.errors[0].message and "Jane" not in str(bad.errors[0])
    assert all(r.ok for i, r in enumerate(results) if i != 1)
    assert any("quote not closed" in f and "row(s) 3" in f for f in results.findings)


def test_claims_write_keeps_every_good_row_after_an_unclosed_quote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["claims", "write", "--from", str(HOSTILE / "unclosed-quote-100-rows.csv"),
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "kept 99 of 100" in out and "Jane" not in out


def test_numbers_are_never_misread() -> None:
    results = read_bpr(HOSTILE / "misread-numbers.csv")
    assert [r.ok for r in results] == [False, False, False, False, False, True]
    assert [r.errors[0].column for r in results[:5]] == ["UnitPrice"] + ["Quantity"] * 4
    assert results[5].row is not None and str(results[5].row.unit_price) == "1234.56"


def test_a_month_first_file_is_refused_with_the_rows_that_prove_it() -> None:
    with pytest.raises(BprFileError) as info:
        read_bpr(HOSTILE / "month-first.csv")
    assert "month-first" in str(info.value) and info.value.row == 3
    with pytest.raises(BprFileError, match="month-first"):
        check_claims_streamed(HOSTILE / "month-first.csv", [], as_of=TODAY)


def test_day_first_dates_stay_day_first_without_a_month_first_proof() -> None:
    text = (HOSTILE / "month-first.csv").read_text().replace("9/13/2025", "13/9/2025")
    rows = [r.row for r in read_bpr(text)]
    assert [r.supports_delivered_from for r in rows if r] == [
        date(2025, 3, 9), date(2025, 9, 13), date(2025, 2, 10)]


def test_bad_dates_are_refused() -> None:
    results = read_bpr(HOSTILE / "bad-dates.csv")
    assert not any(r.ok for r in results)
    assert all(r.errors[0].column == "SupportsDeliveredFrom" for r in results)


def test_blank_rows_are_counted_and_reported_once() -> None:
    results = read_bpr(HOSTILE / "blank-rows.csv")
    assert [r.ok for r in results] == [True, True]
    assert results.findings == ("11 blank row(s) skipped: row(s) 3, 4, 5, 6, 7, 8, 9, 10, 11, "
                                "12 and 1 more",)


def test_too_many_rows_is_warned_and_the_report_shows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = ("4050000001,431234567,2025/08/04,2025/08/04,01_011_0107_1_1,R{},1,,70.23,P2,,,,,,"
           "51824753556")
    f = tmp_path / "big.csv"
    f.write_text(HEADER + "\n" + "\n".join(row.format(i) for i in range(5001)) + "\n")
    assert any("5,001 data rows" in x for x in read_bpr(f).findings)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "c.json").write_text(
        (Path(__file__).resolve().parents[2] / "examples" / "contract.json").read_text())
    for fmt in ("table", "json"):
        main(["claims", "check", str(f), "--contracts", str(tmp_path / "c"), "--format", fmt,
              "--today", "2025-11-15"])
        assert "at most 5,000 per upload" in capsys.readouterr().out


def test_a_workbook_given_as_a_bpr_is_named_as_one() -> None:
    with pytest.raises(BprFileError, match="Excel workbook"):
        read_bpr(HOSTILE / "workbook.xlsx")


def test_a_real_workbook_is_read_when_openpyxl_is_there(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["4050000001", "431234567", date(2025, 8, 4), date(2025, 8, 4),
                  "01_011_0107_1_1", "INV-1", 2, None, 70.23, "P2", None, None, None, None,
                  None, "51824753556"])
    book.save(tmp_path / "bpr.xlsx")
    [result] = read_bpr(tmp_path / "bpr.xlsx")
    assert result.ok and result.row is not None and str(result.row.amount) == "140.46"


def test_a_json_integer_of_4400_digits_is_a_typed_error() -> None:
    with pytest.raises(InputError, match=r"lines\.0\.quantity: .*too large"):
        read_invoices(HOSTILE / "huge-integer-invoice.json")


@pytest.mark.parametrize("name", ["scenario-impossible-date.yaml", "scenario-not-utf8.yaml"])
def test_hostile_scenario_files_are_input_errors(name: str) -> None:
    with pytest.raises(InputError):
        load_scenario_file(HOSTILE / name)


def test_json_numbers_are_read_exactly() -> None:
    assert json_loads('{"a": 1234.56, "b": 1e30, "c": 2}') == {
        "a": Decimal("1234.56"), "b": Decimal("1e30"), "c": 2}
    with pytest.raises(ParseError):
        json_loads('{"a": NaN}')


@pytest.mark.parametrize(
    "text", ["2025-W32-1", "20250804", "2025-08-04T00:00", "1899-12-31", "2101-01-01",
             "0001-01-01", "\u0662\u0660\u0662\u0665-08-04", " 2025-08-04"])
def test_dates_only_in_the_documented_format_and_bounds(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_iso_date(text)
    assert text.strip() not in str(info.value)  # a date may be a date of birth: never echoed


# -- the writer never writes what the reader refuses --------------------------------------------
@settings(max_examples=60)
@given(st.dates(MIN_DATE, MAX_DATE), st.sampled_from(["%Y/%m/%d", "%Y-%m-%d", "%d/%m/%Y"]))
def test_written_dates_read_back(day: date, fmt: str) -> None:
    row = BprRow(registration_number="4050000001", ndis_number="431234567",
                 supports_delivered_from=day, supports_delivered_to=day,
                 support_number="01_011_0107_1_1", claim_reference="R", quantity="1",
                 unit_price="70.23", gst_code="P2", abn="51824753556")
    [(_, text)] = write_bpr([row], date_format=fmt)
    [result] = read_bpr(text)
    assert result.row == row


def test_a_year_below_1900_cannot_be_made_into_a_row() -> None:
    with pytest.raises(ValueError, match="out of range"):
        BprRow(registration_number="4050000001", ndis_number="431234567",
               supports_delivered_from=date(999, 1, 1), supports_delivered_to=date(999, 1, 1),
               support_number="01_011_0107_1_1", claim_reference="R", quantity="1",
               unit_price="70.23", gst_code="P2", abn="51824753556")
