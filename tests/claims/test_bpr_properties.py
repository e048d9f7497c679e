"""Properties of the BPR reader and writer: lossless round trip, no row ever lost, nothing but
``BprFileError`` ever raised, formula cells neutralised, files split at 5,000 rows."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ndis_rules.bpr import (
    CANCELLATION_REASONS,
    CLAIM_TYPES,
    COLUMNS,
    GST_CODES,
    BprFileError,
    BprRow,
    _split_records,
    is_valid_abn,
    read_bpr,
    split_row_at,
    write_bpr,
)
from ndis_rules.money import Money

HEADER = ",".join(COLUMNS)
VALID_ABNS = ["51824753556", "53004085616", "33051775556", "83914571673"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

digits = st.text("0123456789", min_size=1, max_size=12)
dates = st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 12, 31))
item_numbers = st.sampled_from(
    [
        "01_011_0107_1_1",
        "15_617_0128_1_3_TH",
        "05_150300111_0123_2_2",
        "Bereavement",
        "05_0002_0103_1_2",
        "01_002_0107_1_1",
    ]
)
references = st.text("abcXYZ0129/_-", min_size=1, max_size=50)
# free text may start with anything a spreadsheet would run; no control characters, no edges
free_text = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
        max_size=20,
    )
    .map(str.strip)
    .filter(lambda s: not any(c.isspace() and c != " " for c in s))
)
units = st.one_of(
    st.integers(1, 99999).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2),
)
prices = st.integers(1, 10**9 - 1).map(Money)


@st.composite
def bpr_rows(draw: st.DrawFn) -> BprRow:
    start = draw(dates)
    end = draw(st.dates(min_value=start, max_value=date(2030, 12, 31)))
    claim_type = draw(st.sampled_from(CLAIM_TYPES))
    use_hours = draw(st.booleans())
    amount = draw(units)
    return BprRow.model_validate(
        {
            "registration_number": draw(digits),
            "ndis_number": draw(st.text("0123456789", min_size=9, max_size=9)),
            "supports_delivered_from": start,
            "supports_delivered_to": end,
            "support_number": draw(item_numbers),
            "claim_reference": draw(references),
            "quantity": None if use_hours else amount,
            "hours": amount if use_hours else None,
            "unit_price": draw(prices),
            "gst_code": draw(st.sampled_from(GST_CODES)),
            "authorised_by": draw(free_text),
            "participant_approved": draw(free_text),
            "in_kind_funding_program": draw(free_text),
            "claim_type": claim_type,
            "cancellation_reason": draw(st.sampled_from(CANCELLATION_REASONS))
            if claim_type == "CANC"
            else "",
            "abn": draw(st.sampled_from(VALID_ABNS)),
        }
    )


@given(
    st.lists(bpr_rows(), max_size=8),
    st.sampled_from(["%Y/%m/%d", "%Y-%m-%d", "%d/%m/%Y"]),
    st.integers(1, 5),
)
def test_write_then_read_is_lossless(rows: list[BprRow], fmt: str, max_rows: int) -> None:
    files = write_bpr(rows, date_format=fmt, max_rows=max_rows)
    assert len(files) == -(-len(rows) // max_rows)
    back: list[BprRow | None] = []
    for name, text in files:
        assert len(name) <= 20 and name.endswith(".csv")
        results = read_bpr(text)
        assert all(r.ok for r in results), [str(e) for r in results for e in r.errors]
        back.extend(r.row for r in results)
    assert back == rows


@given(st.lists(bpr_rows(), min_size=1, max_size=5))
def test_no_written_cell_starts_like_a_formula(rows: list[BprRow]) -> None:
    [(_, text)] = write_bpr(rows)
    for record in list(csv.reader(io.StringIO(text, newline="")))[1:]:
        assert len(record) == 16
        assert not any(cell.startswith(FORMULA_STARTS) for cell in record)


cells = st.text(max_size=12) | st.sampled_from(["", "CANC", "P2", "2025/08/04", "1.5", "-1"])


@given(st.lists(st.lists(cells, max_size=20), max_size=12))
@example([[]])
@example([[""], ["", ""]])
def test_reader_never_loses_a_row(records: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(records)
    results = read_bpr(out.getvalue())
    # a record of only empty or blank cells is a blank row: skipped and listed once; a cell
    # with a line break makes its line an unclosed-quote error and the rest of it a row
    blank = [r for r in records if all(not c.strip() for c in r)]
    if not any("\r" in c or "\n" in c for r in records for c in r):
        assert len(results) == len(records) - len(blank)
    for result in results:
        assert result.ok == (result.row is not None)
        assert result.ok or all(e.row_number == result.row_number for e in result.errors)


@given(st.binary(max_size=300))
@example(b"\xff\xfe\x00\x00")
@example(HEADER.encode() + b'\n\x00"unterminated')
def test_reader_on_arbitrary_bytes(data: bytes) -> None:
    for payload in (data, HEADER.encode() + b"\r\n" + data):
        try:
            results = read_bpr(payload)
        except BprFileError:
            continue
        assert all(r.row_number >= 2 for r in results)


@given(st.text(max_size=200))
def test_reader_on_arbitrary_text_after_a_header(text: str) -> None:
    results = read_bpr(HEADER + "\n" + text)
    # never more results than records, and every non-empty line starts a record
    assert len(results) <= len(_split_records(HEADER + "\n" + text)) - 1


ONE_LINE_CELLS = st.text(max_size=8).filter(lambda c: "\r" not in c and "\n" not in c)


@given(st.lists(st.lists(ONE_LINE_CELLS, min_size=1, max_size=5), max_size=8))
def test_record_splitter_agrees_with_the_csv_module(records: list[list[str]]) -> None:
    # on one-line cells (a BPR cell holds no line break), apart from blank rows, which skips
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    text = out.getvalue()
    mine = [r for _, r in _split_records(text)]
    theirs = [
        r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)
    ]
    assert mine == theirs


@settings(max_examples=40)
@given(bpr_rows(), st.lists(dates, max_size=4))
def test_split_parts_add_up(row: BprRow, boundaries: list[date]) -> None:
    try:
        parts = split_row_at(row, boundaries)
    except ValueError:  # InputError: a part would get a quantity a BPR cannot hold
        return
    assert sum(p.amount for p in parts) == row.amount
    assert sum((p.row.units for p in parts), Decimal(0)) == row.units
    assert parts[0].row.supports_delivered_from == row.supports_delivered_from
    assert parts[-1].row.supports_delivered_to == row.supports_delivered_to
    assert sum(p.days.days for p in parts) == row.service_days.days
    for a, b in itertools.pairwise(parts):
        assert a.days.end == b.days.start


def test_abn_examples_used_are_valid() -> None:
    assert all(is_valid_abn(a) for a in VALID_ABNS)
