"""The bulk payment request CSV (spec/claims-files.md "Bulk payment request (BPR) CSV")."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from ndis_rules.bpr import (
    COLUMNS,
    BprFileError,
    BprRow,
    is_valid_abn,
    parse_bpr_date,
    read_bpr,
    split_row_at,
    write_bpr,
)
from ndis_rules.errors import InputError
from ndis_rules.money import Money

ABN = "51824753556"
HEADER = ",".join(COLUMNS)


def make_row(**changes: object) -> BprRow:
    values: dict[str, object] = {
        "registration_number": "4050000001",
        "ndis_number": "431234567",
        "supports_delivered_from": date(2025, 8, 4),
        "supports_delivered_to": date(2025, 8, 4),
        "support_number": "01_011_0107_1_1",
        "claim_reference": "INV-100/1",
        "quantity": Decimal("2"),
        "unit_price": Money.parse("70.23"),
        "gst_code": "P2",
        "abn": ABN,
    }
    values.update(changes)
    return BprRow.model_validate(values)


def line(**cells: str) -> str:
    """One CSV data line: a valid row with some cells (by column name) replaced."""
    base = dict(zip(COLUMNS, make_row().cells(), strict=True))
    base.update(cells)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([base[c] for c in COLUMNS])
    return out.getvalue()


def read_one(**cells: str) -> list[tuple[str, str]]:
    [result] = read_bpr(HEADER + "\n" + line(**cells))
    return [(e.column, e.message) for e in result.errors]


def test_a_valid_row() -> None:
    [result] = read_bpr(HEADER + "\n" + line())
    assert result.ok and result.row == make_row()
    assert result.row_number == 2 and result.warnings == ()
    assert result.row is not None and result.row.amount == Money.parse("140.46")


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        ("RegistrationNumber", "", "missing"),
        ("RegistrationNumber", "40500A", "digits only"),
        ("NDISNumber", "43123456", "9 digits"),
        ("NDISNumber", "4312345678", "9 digits"),
        ("SupportsDeliveredFrom", "2025/02/30", "no such date"),
        ("SupportsDeliveredFrom", "02/30/2025", "no such date"),
        ("SupportsDeliveredFrom", "04/08/25", "expected a date"),
        ("SupportsDeliveredFrom", "2025.08.04", "expected a date"),
        ("SupportsDeliveredTo", "2025/08/03", "before SupportsDeliveredFrom"),
        ("SupportNumber", "01_011_0107_1", "not a support item number"),
        ("SupportNumber", "", "missing"),
        ("ClaimReference", "", "missing"),
        ("ClaimReference", "INV 1", "letters, digits"),
        ("ClaimReference", "A" * 51, "at most 50"),
        ("Quantity", "0", "more than zero"),
        ("Quantity", "123456", "more than 5 digits"),
        ("Quantity", "1234.5", "at most 3 digits before the point"),
        ("Quantity", "1.505", "more than 2 decimal places"),
        ("Quantity", "1,5", "number such as"),
        ("Quantity", "-1", "number such as"),
        ("Quantity", "1e3", "number such as"),
        ("UnitPrice", "", "missing"),
        ("UnitPrice", "70.235", "7 digits and 2 decimals"),
        ("UnitPrice", "12345678", "7 digits and 2 decimals"),
        ("UnitPrice", "0.00", "more than zero"),
        ("GSTCode", "", "missing"),
        ("GSTCode", "P3", "one of P1, P2, P5"),
        ("ClaimType", "STANDARD", "one of blank, CANC"),
        ("CancellationReason", "NSDH", "only for CANC"),
        ("ABN of Support Provider", "", "ABN is missing"),
        ("ABN of Support Provider", "51824753557", "checksum"),
        ("ABN of Support Provider", "5182475355", "11 digits"),
        ("AuthorisedBy", "a\tb", "control characters"),
    ],
)
def test_each_bad_cell_names_its_column(column: str, value: str, fragment: str) -> None:
    errors = read_one(**{column: value})
    assert errors, (column, value)
    assert any(c == column and fragment in m for c, m in errors), errors


def test_canc_needs_a_reason_and_takes_one() -> None:
    assert read_one(ClaimType="CANC") == [
        ("CancellationReason", "a CANC claim needs a reason: NSDH, NSDF, NSDT, NSDO")
    ]
    for reason in ("NSDH", "NSDF", "NSDT", "NSDO"):
        assert read_one(ClaimType="CANC", CancellationReason=reason) == []
    for claim_type in ("", "REPW", "TRAN", "NF2F", "THLT", "IRSS", "canc"):
        reason = "NSDO" if claim_type.upper() == "CANC" else ""
        assert read_one(ClaimType=claim_type, CancellationReason=reason) == []


def test_quantity_or_hours() -> None:
    assert read_one(Quantity="", Hours="1.50") == []
    assert read_one(Quantity="", Hours="1:30") == []
    [result] = read_bpr(HEADER + "\n" + line(Quantity="", Hours="2:15"))
    assert result.row is not None and result.row.hours == Decimal("2.25")
    assert result.row.amount == Money.parse("158.02")  # 2.25 x 70.23 = 158.0175, half-up
    assert read_one(Quantity="", Hours="1:20")[0][0] == "Hours"  # 1.333... h is not exact
    assert read_one(Quantity="", Hours="") == [
        ("Quantity", "give Quantity (or Hours for an hourly item)")
    ]
    assert read_one(Quantity="1", Hours="1") == [("Hours", "give Quantity or Hours, not both")]
    assert read_one(Quantity="99999") == []
    assert read_one(Quantity="999.99") == []


def test_dates_in_three_formats() -> None:
    for text in ("2025/08/04", "2025-08-04", "04/08/2025", "4/8/2025"):
        assert parse_bpr_date(text) == date(2025, 8, 4)
        assert read_one(SupportsDeliveredFrom=text) == []


def test_ndis_number_not_starting_43_is_a_warning() -> None:
    [result] = read_bpr(HEADER + "\n" + line(NDISNumber="512345678"))
    assert result.ok
    assert [(w.row_number, w.column) for w in result.warnings] == [(2, "NDISNumber")]


def test_abn_not_required_when_told() -> None:
    text = HEADER + "\n" + line(**{"ABN of Support Provider": ""})
    [strict] = read_bpr(text)
    [relaxed] = read_bpr(text, abn_required=False)
    assert not strict.ok and relaxed.ok
    assert relaxed.row is not None and relaxed.row.abn == ""
    [bad] = read_bpr(HEADER + "\n" + line(**{"ABN of Support Provider": "123"}), abn_required=False)
    assert not bad.ok  # a given ABN must still be valid


def test_abn_checksum() -> None:
    assert is_valid_abn("51 824 753 556")  # the ABR's worked example
    assert is_valid_abn("53004085616")
    assert not is_valid_abn("53004085617")
    assert not is_valid_abn("5300408561")


def test_every_row_gets_a_result_with_row_numbers() -> None:
    text = (
        HEADER
        + "\r\n"
        + line()
        + line(NDISNumber="x")
        + "\r\n"
        + line(GSTCode="P9")
        + "4050000001,,,\n"
        + ",,,\n"
        + line()
    )
    results = read_bpr(text)
    # line 4 is empty and line 7 only commas: blank rows, skipped and reported once
    assert [r.row_number for r in results] == [2, 3, 5, 6, 8]
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert results.findings == ("2 blank row(s) skipped: row(s) 4, 7",)
    assert results[2].errors[0].column == "GSTCode"
    assert str(results[2].errors[0]).startswith("row 5, GSTCode: ")
    short = results[3]
    assert short.errors[0].column == "SupportNumber"  # the first missing cell (5th)
    assert "4 cell(s)" in short.errors[0].message


def test_extra_blank_cells_are_tolerated_extra_values_are_not() -> None:
    assert read_bpr(HEADER + ",\n" + line().rstrip("\n") + ",\n")[0].ok
    [result] = read_bpr(HEADER + "\n" + line().rstrip("\n") + ",surprise\n")
    assert [e.column for e in result.errors] == ["column 17"]


def test_quoted_cells_with_commas_and_line_breaks() -> None:
    text = HEADER + "\n" + line(AuthorisedBy="Smith, Jo") + line(ParticipantApproved='say "yes"')
    results = read_bpr(text)
    assert [r.ok for r in results] == [True, True]
    assert results[0].row is not None and results[0].row.authorised_by == "Smith, Jo"
    assert results[1].row is not None and results[1].row.participant_approved == 'say "yes"'
    # a BPR cell holds no line break: the quote is unclosed on row 2, and row 3 is read alone
    broken, after = read_bpr(HEADER + "\n" + line(AuthorisedBy="two\nlines"))
    assert [e.column for e in broken.errors] == ["AuthorisedBy"]
    assert "not closed on its line" in broken.errors[0].message
    assert after.row_number == 3 and not after.ok


def test_not_a_bpr_file() -> None:
    for text in ("", "\n\n", "a,b,c\n1,2,3\n", HEADER.replace("Hours", "Hrs") + "\n"):
        with pytest.raises(BprFileError, match=r"empty|not a bulk payment request"):
            read_bpr(text)
    with pytest.raises(BprFileError) as info:
        read_bpr(",".join(COLUMNS[:-1]) + "\n")
    assert info.value.row == 1 and "15 column(s)" in str(info.value)
    assert issubclass(BprFileError, InputError)


def test_header_tolerates_bom_case_and_spaces() -> None:
    header = "\ufeff" + ",".join(f" {c.upper()} " for c in COLUMNS)
    assert read_bpr((header + "\n" + line()).encode("utf-8"))[0].ok


def test_reads_paths_bytes_and_encodings(tmp_path: Path) -> None:
    text = HEADER + "\r\n" + line(AuthorisedBy="Zoë")
    for data in (text.encode("utf-8-sig"), text.encode("cp1252"), text.encode("utf-16")):
        path = tmp_path / "claims.csv"
        path.write_bytes(data)
        for source in (path, str(path), data):
            [result] = read_bpr(source)
            assert result.row is not None and result.row.authorised_by == "Zoë"
    with pytest.raises(BprFileError, match="cannot read"):
        read_bpr(tmp_path / "missing.csv")
    with pytest.raises(BprFileError, match="cannot read"):
        read_bpr(str(tmp_path))  # a directory


# -- writing ---------------------------------------------------------------------------------------
def test_writer_layout() -> None:
    [(name, text)] = write_bpr([make_row(quantity=Decimal("1.5"))])
    assert name == "bpr001.csv"
    lines = text.split("\r\n")
    assert lines[0] == HEADER and lines[-1] == ""
    assert lines[1] == (
        f"4050000001,431234567,2025/08/04,2025/08/04,01_011_0107_1_1,INV-100/1,1.50,,70.23,P2,"
        f",,,,,{ABN}"
    )


@pytest.mark.parametrize("fmt", ["%Y/%m/%d", "%Y-%m-%d", "%d/%m/%Y"])
def test_writer_date_formats_read_back(fmt: str) -> None:
    row = make_row(supports_delivered_from=date(2025, 1, 2), supports_delivered_to=date(2025, 1, 3))
    [(_, text)] = write_bpr([row], date_format=fmt)
    assert date(2025, 1, 2).strftime(fmt) in text
    assert read_bpr(text)[0].row == row


def test_writer_refuses_unreadable_date_format() -> None:
    with pytest.raises(ValueError, match="date_format"):
        write_bpr([make_row()], date_format="%m/%d/%Y")


def test_formula_cells_are_neutralised() -> None:
    rows = [
        make_row(claim_reference="-1", authorised_by='=HYPERLINK("http://x")'),
        make_row(
            claim_reference="-SUM", participant_approved="+61 400", in_kind_funding_program="@x"
        ),
        make_row(authorised_by="'quoted"),
    ]
    [(_, text)] = write_bpr(rows)
    cells = list(csv.reader(io.StringIO(text, newline="")))
    for record in cells[1:]:
        for cell in record:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert cells[1][5] == "'-1" and cells[1][10].startswith("'=")
    assert cells[2][11] == "'+61 400" and cells[2][12] == "'@x"
    assert cells[3][10] == "''quoted"
    assert [r.row for r in read_bpr(text)] == rows


def test_split_into_files_of_5000_rows() -> None:
    rows = [make_row(claim_reference=f"R{i}") for i in range(12001)]
    files = write_bpr(rows, name_prefix="pm-2025-08")
    assert [name for name, _ in files] == [
        "pm-2025-08001.csv",
        "pm-2025-08002.csv",
        "pm-2025-08003.csv",
    ]
    assert all(len(name) <= 20 for name, _ in files)
    counts = [text.count("\r\n") - 1 for _, text in files]
    assert counts == [5000, 5000, 2001]
    back = [r.row for _, text in files for r in read_bpr(text)]
    assert back == rows
    assert write_bpr([]) == []
    assert [n for n, _ in write_bpr(rows[:5], max_rows=2)] == [
        "bpr001.csv",
        "bpr002.csv",
        "bpr003.csv",
    ]


def test_file_name_and_max_rows_limits() -> None:
    with pytest.raises(ValueError, match="longer than 20"):
        write_bpr([make_row()], name_prefix="a-very-long-prefix")
    with pytest.raises(ValueError, match="letters, digits"):
        write_bpr([make_row()], name_prefix="../x")
    with pytest.raises(ValueError, match="max_rows"):
        write_bpr([make_row()], max_rows=5001)


# -- the model -------------------------------------------------------------------------------------
def test_model_refuses_floats_and_bad_values() -> None:
    with pytest.raises(ValidationError):
        make_row(quantity=1.5)
    with pytest.raises(ValidationError):
        make_row(unit_price=70.23)
    with pytest.raises(ValidationError, match="CancellationReason"):
        make_row(cancellation_reason="NSDH")
    with pytest.raises(ValidationError, match="not both"):
        make_row(hours=Decimal("1"))
    with pytest.raises(ValidationError):
        make_row(surprise="x")
    row = BprRow.model_validate(dict(zip(COLUMNS, make_row().cells(), strict=True)))
    assert row == make_row()  # the CSV column names work as aliases


# -- splitting at plan / funding-period boundaries ------------------------------------------------
def test_split_row_at_a_period_boundary() -> None:
    row = make_row(
        supports_delivered_from=date(2025, 9, 29),
        supports_delivered_to=date(2025, 10, 2),
        quantity=Decimal("3"),
        unit_price=Money.parse("33.33"),
    )
    parts = split_row_at(row, [date(2025, 10, 1), date(2026, 1, 1), date(2025, 7, 1)])
    assert [(p.row.supports_delivered_from, p.row.supports_delivered_to) for p in parts] == [
        (date(2025, 9, 29), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2025, 10, 2)),
    ]
    assert sum((p.row.units for p in parts), Decimal(0)) == row.units
    assert sum(p.amount for p in parts) == row.amount == Money.parse("99.99")
    assert [p.days.days for p in parts] == [2, 2]
    assert all(p.row.claim_reference == row.claim_reference for p in parts)


def test_split_row_without_boundaries_inside() -> None:
    row = make_row()
    [part] = split_row_at(row, [date(2025, 8, 4), date(2025, 8, 5)])  # first day / day after
    assert part.row == row and part.amount == row.amount


def test_split_row_with_hours() -> None:
    row = make_row(
        quantity=None,
        hours=Decimal("10"),
        supports_delivered_from=date(2025, 6, 28),
        supports_delivered_to=date(2025, 7, 4),
    )
    parts = split_row_at(row, [date(2025, 7, 1)])
    assert [p.row.hours for p in parts] == [Decimal("4.29"), Decimal("5.71")]
    assert all(p.row.quantity is None for p in parts)
    assert sum(p.amount for p in parts) == row.amount


def test_split_row_refuses_a_zero_part() -> None:
    row = make_row(
        quantity=Decimal("0.01"),
        supports_delivered_from=date(2025, 9, 30),
        supports_delivered_to=date(2025, 10, 1),
    )
    with pytest.raises(InputError, match="cannot split"):
        split_row_at(row, [date(2025, 10, 1)])
