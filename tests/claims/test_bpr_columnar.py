"""The columnar BPR reader gives exactly the pure reader's results: rows, issues, warnings,
cells, file-level findings and the errors refusing a file, on every input here (the hostile
corpus, the example book, edge cases and generated and arbitrary text)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ndis_rules.bpr import COLUMNS, BprRow, read_record, split_lines, write_bpr
from ndis_rules.errors import InputError
from ndis_rules.files import bpr_columnar
from ndis_rules.files.bpr import read_bpr
from ndis_rules.testing.strategies import bpr_rows

pytest.importorskip("polars")

from ndis_rules.files.bpr_columnar import (
    columnar_enabled,
    read_bpr_columnar,
    read_results,
)

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = sorted((ROOT / "tests" / "inputs" / "hostile").glob("*.*"))
BOOK = ROOT / "examples" / "book" / "claims.csv"
HEADER = ",".join(COLUMNS)
GOOD = (
    "4050000001,431234567,2025/08/04,2025/08/04,01_011_0107_1_1,INV-1,2,,70.23,P2,,,,,,51824753556"
)


def _outcome(read: Callable[..., Any], source: Any, abn_required: bool) -> tuple[Any, ...]:
    try:
        results = read(source, abn_required=abn_required)
    except InputError as exc:
        return ("refused", type(exc).__name__, str(exc), getattr(exc, "row", None))
    return ("read", list(results), results.findings)


def assert_same(source: Any) -> tuple[Any, ...]:
    """Both readers on ``source``, with and without the ABN required; the pure outcome."""
    for abn_required in (True, False):
        pure = _outcome(read_bpr, source, abn_required)
        columnar = _outcome(read_bpr_columnar, source, abn_required)
        assert columnar == pure
    return pure


def _lines(*rows: str, end: str = "\r\n") -> str:
    return end.join([HEADER, *rows]) + end


EDGE_TEXTS = {
    "good": _lines(GOOD),
    "lf, no final break": "\n".join([HEADER, GOOD, GOOD.replace("INV-1", "INV-2")]),
    "cr only": _lines(GOOD, GOOD, end="\r"),
    "mixed breaks": HEADER + "\r\n" + GOOD + "\n" + GOOD + "\r" + GOOD,
    "blank rows": _lines("", GOOD, ",,,", " , ", GOOD, "", "\u3000,\x1c"),
    "blank before header": "\n\n" + _lines(GOOD),
    "bom": "\ufeff" + _lines(GOOD),
    "header only": HEADER,
    "empty": "",
    "only blanks": "\n , \n",
    "wrong header": "a,b,c\n1,2,3",
    "short and long rows": _lines(GOOD + ",", GOOD + ",x", "1,2,3", GOOD.rsplit(",", 3)[0]),
    "quotes": _lines(GOOD.replace("INV-1", '"INV-1"'), GOOD.replace("INV-1", '"a,b"')),
    "unclosed quote": _lines(GOOD.replace("INV-1", '"INV-1'), GOOD),
    "formula guard": _lines(GOOD.replace("INV-1", "'=1"), GOOD.replace("INV-1", "'INV")),
    "warnings and errors": _lines(
        GOOD.replace("431234567", "511234567"),
        GOOD.replace("2025/08/04,2025/08/04", "2025/08/05,2025/08/04"),
        GOOD.replace(",2,,", ",,,"),
        GOOD.replace(",2,,", ",2,1,"),
        GOOD.replace(",,,,,,5", ",,,,CANC,,5"),
        GOOD.replace(",,,,,,5", ",,,,,NSDH,5"),
        GOOD.replace(",,,,,,5", ",,,,canc,nsdh,5"),
        GOOD.replace("51824753556", ""),
        GOOD.replace("51824753556", "51 824 753 556"),
        GOOD.replace("51824753556", "51824753557"),
        GOOD.replace("70.23", "70,23"),
        GOOD.replace("70.23", " 70.23 "),
        GOOD.replace("2025/08/04", "2025/02/30"),
        GOOD.replace("2025/08/04", "04/08/2025"),
        GOOD.replace("2025/08/04", "4/8/2025"),
        GOOD.replace("01_011_0107_1_1", "01_011_0107_1_9"),
        GOOD.replace(",2,,", ",1:30,,"),
        GOOD.replace(",2,,", ",,1:30,"),
        GOOD.replace(",2,,", ",,0,"),
        GOOD.replace(",2,,", ",\u0662,,"),
        GOOD.replace("P2", "p1"),
        GOOD.replace("INV-1", "x" * 51),
        GOOD.replace(",,,,,,5", ",Jo\tBloggs,,,,,5"),
        GOOD.replace("4050000001", "405000000\uff11"),
    ),
    "month-first": _lines(GOOD.replace("2025/08/04", "9/13/2025"), GOOD),
    "day-first with a 13": _lines(GOOD.replace("2025/08/04", "13/9/2025")),
    "too many rows": _lines(*[GOOD.replace("INV-1", f"INV-{i}") for i in range(5002)]),
    "nul and unit separator": _lines(GOOD.replace("INV-1", "IN\x00V"), GOOD + "\x1f"),
}


@pytest.mark.parametrize("path", [*HOSTILE, BOOK], ids=lambda p: p.name)
def test_same_results_on_the_corpus_files(path: Path) -> None:
    assert_same(path)


@pytest.mark.parametrize("name", sorted(EDGE_TEXTS))
def test_same_results_on_edge_cases(name: str) -> None:
    text = EDGE_TEXTS[name]
    assert_same(text)
    assert_same(text.encode("utf-8"))


def test_edge_cases_exercise_both_sides() -> None:
    # the suspicious rows went through the exact reader with its own messages, and plain rows
    # were built by the columns
    pure = assert_same(EDGE_TEXTS["warnings and errors"])
    results = pure[1]
    assert sum(1 for r in results if r.ok) >= 5
    assert sum(1 for r in results if r.errors) >= 12
    assert any(r.warnings for r in results)
    refused = assert_same(EDGE_TEXTS["month-first"])
    assert refused[0] == "refused" and "month-first" in refused[2]
    findings = assert_same(EDGE_TEXTS["too many rows"])[2]
    assert any("5,002 data rows" in f for f in findings)


def test_a_large_generated_book_is_read_identically() -> None:
    text = _lines(
        *[
            GOOD.replace("431234567", f"43{i % 97:07d}").replace("INV-1", f"INV-{i // 3}")
            for i in range(6000)
        ],
        GOOD.replace("70.23", "0"),
    )
    pure = assert_same(text)
    assert len(pure[1]) == 6001 and not pure[1][-1].ok


# -- generated and arbitrary input ----------------------------------------------------------------
JUNK = st.sampled_from(
    ["", " ", "x", "0", "-1", "1.234", "1:30", "CANC", "NSDH", "'=1", "2025/02/29", "9/13/2025",
     "13/9/2025", "43", "511234567", "1,000.00", '"', "\t", "\u00a0", "\uff11"]
) | st.text(max_size=6)


@st.composite
def mutated_books(draw: st.DrawFn) -> str:
    rows: list[BprRow] = draw(st.lists(bpr_rows(), min_size=1, max_size=8))
    fmt = draw(st.sampled_from(["%Y/%m/%d", "%Y-%m-%d", "%d/%m/%Y"]))
    [(_, text)] = write_bpr(rows, date_format=fmt)
    lines = text.split("\r\n")
    for _ in range(draw(st.integers(0, 4))):
        index = draw(st.integers(1, len(lines) - 2))
        cells = lines[index].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(JUNK)
        lines[index] = ",".join(cells)
    return draw(st.sampled_from(["\r\n", "\n"])).join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_books())
def test_same_results_on_generated_books(text: str) -> None:
    assert_same(text)


@settings(deadline=None)
@given(st.text(max_size=300))
@example("\n" + GOOD)
@example(GOOD + "\r")
def test_same_results_on_arbitrary_text_after_a_header(text: str) -> None:
    assert_same(HEADER + "\n" + text)


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_same_results_on_arbitrary_bytes(data: bytes) -> None:
    assert_same(data)
    assert_same(HEADER.encode() + b"\r\n" + data)


CELLS = st.text(max_size=8)


@settings(deadline=None)
@given(st.lists(st.lists(CELLS | JUNK, min_size=14, max_size=18), max_size=10))
def test_same_results_on_csv_written_records(records: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(records)
    assert_same(out.getvalue())


@settings(deadline=None)
@given(st.lists(st.lists(CELLS | JUNK, min_size=15, max_size=17), max_size=10), st.booleans())
def test_read_results_is_read_record(records: list[list[str]], abn_required: bool) -> None:
    numbered = list(enumerate(records, start=2))
    expected = [read_record(n, cells, abn_required=abn_required) for n, cells in numbered]
    assert read_results(numbered, abn_required=abn_required) == expected


def test_read_results_on_split_records_with_unclosed_quotes() -> None:
    records, _ = split_lines(EDGE_TEXTS["unclosed quote"] + EDGE_TEXTS["quotes"])
    expected = [read_record(n, cells) for n, cells in records]
    assert read_results(records) == expected


# -- the switch ----------------------------------------------------------------------------------
def test_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bpr_columnar.READER_ENV, raising=False)
    assert columnar_enabled()
    monkeypatch.setenv(bpr_columnar.READER_ENV, "pure")
    assert not columnar_enabled()
    monkeypatch.setenv(bpr_columnar.READER_ENV, "Columnar")
    assert columnar_enabled()
    monkeypatch.setenv(bpr_columnar.READER_ENV, "fastest")
    with pytest.raises(InputError, match="auto, pure or columnar"):
        columnar_enabled()


def test_without_polars_auto_is_pure_and_columnar_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bpr_columnar, "polars_available", lambda: False)
    monkeypatch.setenv(bpr_columnar.READER_ENV, "auto")
    assert not columnar_enabled()
    assert bpr_columnar.read_part([(2, GOOD.split(","))]) == [read_record(2, GOOD.split(","))]
    monkeypatch.setenv(bpr_columnar.READER_ENV, "columnar")
    with pytest.raises(InputError, match=r"ndis-rules\[fast\]"):
        columnar_enabled()


def test_stream_groups_match_the_pure_grouping() -> None:
    from ndis_rules.services.scaleout import _part_of, _participant_key

    def part_of(ndis: str, parts: int) -> int:
        return _part_of(_participant_key(ndis), parts)

    text = _lines(*[GOOD.replace("431234567", f"43{i % 13:07d}") for i in range(40)], "", "x", ",")
    read = bpr_columnar.stream_groups(text, "<input>", 4, part_of)
    assert read is not None
    groups, findings = read
    # the pure reader's records, grouped by the same hash, in file order
    pure: list[list[tuple[int, str]]] = [[] for _ in range(4)]
    for number, line in enumerate(text.split("\r\n")[1:-1], start=2):
        if line.replace(",", "").strip():
            cells = line.split(",")
            pure[part_of(cells[1] if len(cells) > 1 else "", 4)].append((number, line))
    assert groups == pure
    assert findings == read_bpr(text).findings
    assert sum(len(g) for g in groups) == 41
    assert bpr_columnar.stream_groups(EDGE_TEXTS["quotes"], "<input>", 4, part_of) is None


def test_rows_built_by_the_columns_behave_as_model_rows() -> None:
    [result] = read_bpr_columnar(EDGE_TEXTS["good"])
    assert result.row is not None
    assert result.row == BprRow.model_validate(result.row.model_dump())
    assert result.row.model_fields_set == set(BprRow.model_fields)
    assert result.row.supports_delivered_from == date(2025, 8, 4)
    assert str(result.row.amount) == "140.46"


REFERENCES = st.text(alphabet="AZaz09/_-. \t\u00e9\u3000'", max_size=55) | st.sampled_from(
    ["A" * 50, "A" * 51, " INV-1", "INV-1 ", "INV 1", "", "'INV-1", "INV-1\u00a0", "\u0661\u0662"]
)


@settings(deadline=None, max_examples=200)
@given(st.lists(REFERENCES, min_size=1, max_size=12), st.booleans())
def test_claim_references_taken_as_their_own_value_are_read_record(
    references: list[str], abn_required: bool
) -> None:
    """The claim reference column is not parsed cell by cell: a cell of 1-50 ASCII letters,
    digits, / _ - is its own value, anything else is read by the exact reader."""
    cells = GOOD.split(",")
    numbered = [(n, [*cells[:5], ref, *cells[6:]]) for n, ref in enumerate(references, start=2)]
    expected = [read_record(n, list(c), abn_required=abn_required) for n, c in numbered]
    got = read_results(numbered, abn_required=abn_required)
    assert got == expected
    assert [r.row.claim_reference if r.row else None for r in got] == [
        r.row.claim_reference if r.row else None for r in expected
    ]
