"""Columnar reading of bulk payment request files (the extra ``fast``: polars).

The same results as the pure-Python reader (:func:`ndis_rules.files.bpr.read_bpr`,
:func:`ndis_rules.bpr.read_record`), row for row, issue for issue, finding for finding; that
reader stays the reference and the fallback when polars is not installed
(``tests/claims/test_bpr_columnar.py`` runs both over every test and fuzz input).

How the same results are guaranteed:

* **Reading.** polars reads the file's lines (one record per line, as the pure reader splits
  them) when the text holds no quote; a file with quotes is split by the pure reader's own
  splitter (:func:`ndis_rules.bpr.split_lines`), then validated as columns. Blank rows, the
  header, month-first files, more than 5,000 rows are decided as the pure reader decides them
  (the month-first rule: a column pattern picks the candidate rows, the pure rule decides).
* **Cells as columns.** Each column's distinct values are parsed once by the pure reader's own
  cell parser (a file of a million lines has a few thousand distinct dates, prices, items,
  participants); the outcome is spread back over the rows as columns. The cross-field rules
  (dates in order, Quantity xor Hours, a CANC reason, the ABN required, the NDIS number's
  ``43``) are column expressions over the parsed values.
* **Suspicious rows go through the exact reader.** A row with any cell that does not parse,
  any cross-field problem or warning, a cell count other than 16, or a cell carrying the
  writer's formula guard (``'``) is read by :func:`~ndis_rules.bpr.read_record` itself. Only
  rows with nothing to report are built here, with the values the pure parsers gave.

The switch: :func:`columnar_enabled` (``auto`` = when polars is importable; the environment
variable ``NDIS_RULES_BPR_READER=pure`` forces the pure reader, ``columnar`` requires polars).
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

from .._gc import gc_paused
from ..bpr import (
    _FIELD_OF,
    _PARSERS,
    COLUMNS,
    BprFileError,
    BprResult,
    BprResults,
    BprRow,
    _check_header,
    check_date_order,
    file_findings,
    read_record,
)
from ..errors import InputError
from .bpr import load_text

if TYPE_CHECKING:  # pragma: no cover
    from polars import Series

__all__ = [
    "READER_ENV",
    "columnar_enabled",
    "parse_bpr_columnar",
    "partition_of_rows",
    "polars_available",
    "read_bpr_columnar",
    "read_bpr_for_check",
    "read_part",
    "read_results",
    "stream_groups",
]

#: The environment variable choosing the BPR reader of the bulk check: ``auto`` (the default:
#: columnar when polars is installed), ``pure`` or ``columnar``.
READER_ENV: Final = "NDIS_RULES_BPR_READER"
_WIDTH: Final = len(COLUMNS)
_FIELDS: Final = tuple(_FIELD_OF[c] for c in COLUMNS)
_FIELDS_SET: Final = frozenset(_FIELDS)
# Python's ``\s`` in ASCII mode, as the month-first rule reads it (Rust's ``\s`` is Unicode).
_ASCII_SPACE: Final = r"[ \t\n\r\x0b\x0c]*"
_MONTH_FIRST_CANDIDATE: Final = (
    rf"^{_ASCII_SPACE}[0-9]{{1,2}}/([0-9]{{1,2}})/[0-9]{{4}}{_ASCII_SPACE}$"
)
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")


_FORKED_AFTER_POLARS = False


def _after_fork_in_child() -> None:
    # polars' thread pool does not survive a fork: a forked worker (the scale-out's --workers)
    # of a process that used polars would hang in it, so it reads with the pure reader
    global _FORKED_AFTER_POLARS  # noqa: PLW0603 - set once, in a forked child
    if "polars" in sys.modules:
        _FORKED_AFTER_POLARS = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def polars_available() -> bool:
    """True when polars (the extra ``fast``) can be imported."""
    return importlib.util.find_spec("polars") is not None


def columnar_enabled() -> bool:
    """Whether the bulk check reads BPR files with this reader: ``NDIS_RULES_BPR_READER`` is
    ``auto`` (or unset: when polars is installed), ``pure`` (never) or ``columnar`` (always;
    an error without polars). A process forked from one that used polars reads with the pure
    reader whatever the setting (polars cannot run after a fork).

    Raises:
        InputError: an unknown value, or ``columnar`` without polars.
    """
    choice = os.environ.get(READER_ENV, "auto").strip().lower() or "auto"
    if choice == "pure":
        return False
    if choice not in ("auto", "columnar"):
        raise InputError(
            f"{READER_ENV} must be auto, pure or columnar, got {choice[:20]!r}", loc=(READER_ENV,)
        )
    if _FORKED_AFTER_POLARS:
        return False
    available = polars_available()
    if choice == "columnar" and not available:
        raise InputError(
            f"{READER_ENV}=columnar needs polars: pip install 'ndis-rules[fast]'",
            loc=(READER_ENV,),
        )
    return available


def _pl() -> Any:
    import polars

    return polars


# -- rows to results -----------------------------------------------------------------------------
_new_row = BprRow.__new__
_set = object.__setattr__


def _row(values: dict[str, object]) -> BprRow:
    """A row from values the model's own parsers gave, as ``BprRow.model_construct`` builds it
    (the pure reader's call), without its per-call overhead."""
    row = _new_row(BprRow)
    _set(row, "__dict__", values)
    _set(row, "__pydantic_fields_set__", set(_FIELDS_SET))
    _set(row, "__pydantic_extra__", None)
    _set(row, "__pydantic_private__", None)
    return row


#: Columns whose every cell matching the pattern is its own value, as the pure parser would
#: return it (no white space to strip, no other check): such cells are not parsed one by one
#: (a claim reference is different on almost every row). A cell that does not match is read
#: by the exact reader, row and all. Rust's ``$`` is the end of the text only.
_IDENTITY: Final[dict[str, str]] = {
    "ClaimReference": r"^[A-Za-z0-9/_\-]{1,50}$",
}


class _Parsed:
    """A column's distinct cells, each parsed once by the pure reader's parser; or, for a column
    of :data:`_IDENTITY`, the cells that are their own value (``codes`` is then ``None``)."""

    __slots__ = ("cells", "codes", "column", "identity", "ok", "values")

    def __init__(
        self, column: Series, parse: Callable[[object], object], identity: str | None = None
    ) -> None:
        pl = _pl()
        self.column = column
        self.identity: Series | None = None
        if identity is not None:
            self.identity = column.str.contains(identity).fill_null(False)
            self.cells: list[str] = []
            self.values: list[object] = []
            self.ok: list[bool] = []
            self.codes: Series | None = None
            return
        distinct = column.unique()
        self.cells = distinct.to_list()
        self.values = []
        self.ok = []
        for cell in self.cells:
            try:
                self.values.append(parse(cell))
                self.ok.append(True)
            except Exception:  # any failure: the exact reader reads the row and words it
                self.values.append(None)
                self.ok.append(False)
        self.codes = column.replace_strict(
            distinct, pl.Series(range(len(self.cells)), dtype=pl.UInt32), return_dtype=pl.UInt32
        )

    def failed(self) -> Series:
        """The rows whose cell did not parse (or is not its own value)."""
        pl = _pl()
        if self.identity is not None:
            return ~self.identity
        return ~self.spread(self.ok, pl.Boolean)

    def spread(self, per_value: Sequence[object], dtype: Any) -> Series:
        """A per-distinct-value feature as a column over the rows."""
        pl = _pl()
        assert self.codes is not None
        spread: Series = pl.Series(list(per_value), dtype=dtype).gather(self.codes)
        return spread

    def plain(self, rows: Series) -> tuple[Sequence[str], Sequence[object]]:
        """The cells and values of the rows picked by the mask ``rows``, in order."""
        if self.codes is None:
            cells: list[str] = self.column.filter(rows).to_list()
            return cells, cells
        codes = self.codes.filter(rows).to_list()
        return _pick(self.cells, codes), _pick(self.values, codes)


def _pick(items: Sequence[Any], indexes: list[int]) -> Sequence[Any]:
    """``[items[i] for i in indexes]``, in C."""
    if len(indexes) > 1:
        picked: tuple[Any, ...] = itemgetter(*indexes)(items)
        return picked
    return [items[i] for i in indexes]


def _ordinal(value: object) -> object:
    return value.toordinal() if isinstance(value, date) else None


def _is_none(value: object) -> bool:
    return value is None


def _validate(
    numbers: Sequence[int], columns: Sequence[Series], *, abn_required: bool
) -> list[BprResult]:
    """The results of rows of exactly 16 cells (``columns``), in the order given."""
    pl = _pl()
    count = len(numbers)
    if not count:
        return []
    parsed = [
        _Parsed(col, _PARSERS[name], _IDENTITY.get(name))
        for name, col in zip(COLUMNS, columns, strict=True)
    ]
    suspect = pl.Series([False] * count, dtype=pl.Boolean)
    for col, p in zip(columns, parsed, strict=True):
        suspect = suspect | col.str.starts_with("'") | p.failed()

    def feature(name: str, of: Callable[[object], object], dtype: Any) -> Series:
        p = parsed[COLUMNS.index(name)]
        per_value = [of(v) if ok else None for v, ok in zip(p.values, p.ok, strict=True)]
        return p.spread(per_value, dtype)

    day_from = feature("SupportsDeliveredFrom", _ordinal, pl.Int64)
    day_to = feature("SupportsDeliveredTo", _ordinal, pl.Int64)
    no_quantity = feature("Quantity", _is_none, pl.Boolean)
    no_hours = feature("Hours", _is_none, pl.Boolean)
    claim_type = feature("ClaimType", str, pl.String)
    reason = feature("CancellationReason", str, pl.String)
    ndis = feature("NDISNumber", str, pl.String)
    abn = feature("ABN of Support Provider", str, pl.String)
    problems = (
        (day_to < day_from)
        | (no_quantity == no_hours)  # neither, or both
        | ((claim_type == "CANC") & (reason == ""))
        | ((claim_type != "CANC") & (reason != ""))
        | ~ndis.str.starts_with("43")  # a warning: the exact reader words it
    )
    if abn_required:
        problems = problems | (abn == "")
    suspect = (suspect | problems).fill_null(True)

    # plain rows: built from the values the pure parsers gave (cells shared per distinct value)
    plain = ~suspect
    plain_numbers = pl.Series(numbers, dtype=pl.Int64).filter(plain).to_list()
    picked = [p.plain(plain) for p in parsed]
    # row tuples, row dicts and results assembled by C iterators (zip, map) over the columns
    cells = zip(*(c for c, _ in picked), strict=True)
    values = zip(*(v for _, v in picked), strict=True)
    rows = map(_row, map(dict, map(zip, repeat(_FIELDS), values)))
    built = list(map(BprResult, plain_numbers, rows, repeat(()), repeat(()), cells))
    if len(built) == count:
        return built
    # suspicious rows: the exact reader, merged back in order
    positions = suspect.arg_true()
    raw = zip(*(col.gather(positions).to_list() for col in columns), strict=True)
    exact = {
        int(i): read_record(numbers[int(i)], list(row_cells), abn_required=abn_required)
        for i, row_cells in zip(positions.to_list(), raw, strict=True)
    }
    plain_iter = iter(built)
    return [exact[i] if i in exact else next(plain_iter) for i in range(count)]


def read_results(
    records: Iterable[tuple[int, list[str]]], *, abn_required: bool = True
) -> list[BprResult]:
    """The results of records (row number, cells) as split by the pure reader: identical to
    ``[read_record(n, cells, abn_required=...) for n, cells in records]``."""
    pl = _pl()
    records = list(records)
    wide = [
        (i, r)
        for i, r in enumerate(records)
        if len(r[1]) == _WIDTH and type(r[1]) is list  # not an UnclosedRecord
    ]
    if not wide:
        return [read_record(n, cells, abn_required=abn_required) for n, cells in records]
    transposed = zip(*(r[1] for _, r in wide), strict=True)
    columns = [pl.Series(col, dtype=pl.String) for col in transposed]
    validated = _validate([r[0] for _, r in wide], columns, abn_required=abn_required)
    out: list[BprResult | None] = [None] * len(records)
    for (i, _), result in zip(wide, validated, strict=True):
        out[i] = result
    return [
        result if result is not None else read_record(*records[i], abn_required=abn_required)
        for i, result in enumerate(out)
    ]


def read_part(
    records: Iterable[tuple[int, list[str]]], *, abn_required: bool = True
) -> list[BprResult]:
    """The results of records (row number, cells) with the reader :func:`columnar_enabled`
    chooses: the switch of the bulk check (:mod:`ndis_rules.services.scaleout`)."""
    if columnar_enabled():
        return read_results(records, abn_required=abn_required)
    return [read_record(n, cells, abn_required=abn_required) for n, cells in records]


# -- reading a file ------------------------------------------------------------------------------
class _Lines:
    """A file's text as polars columns: physical lines (1-based numbers), the data lines after
    the header, their cells and the file-level findings; ``None`` from :meth:`of` for text polars
    should not split (quotes: the pure splitter does)."""

    def __init__(self, numbers: Series, lines: Series, findings: tuple[str, ...]) -> None:
        self.numbers = numbers  # of the data lines, in order
        self.lines = lines
        self.findings = findings

    @staticmethod
    def read(text: str) -> Series | None:
        """The physical lines of quote-free text (``None`` when it has quotes)."""
        pl = _pl()
        if '"' in text:
            return None
        lines: Series | None = None
        carriage = text.count("\r")
        if "\x1f" not in text and carriage == text.count("\r\n"):
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:
                data = b""
            if data:
                frame = pl.read_csv(
                    io.BytesIO(data),
                    has_header=False,
                    separator="\x1f",
                    quote_char=None,
                    schema={"line": pl.String},
                )
                got = frame.to_series().fill_null("")
                expected = text.count("\n") + (0 if text.endswith("\n") else 1)
                size = int(got.str.len_bytes().sum()) + text.count("\n") + carriage
                if len(got) == expected and size == len(data):
                    lines = got  # polars read every line, byte for byte
        if lines is None:  # the pure reader's line breaks, in polars
            split = _LINE_BREAK.split(text)
            if split and split[-1] == "":
                split.pop()
            lines = pl.Series("line", split, dtype=pl.String)
        return lines

    @classmethod
    def of(cls, text: str, source: str) -> _Lines | None:
        pl = _pl()
        text = text.removeprefix("\ufeff")
        lines = cls.read(text)
        if lines is None:
            return None
        numbers = pl.Series("row", range(1, len(lines) + 1), dtype=pl.Int64)
        # blank: only commas and white space (Python's); a letter or digit is never white space
        maybe_blank = ~lines.str.contains(r"[A-Za-z0-9]")
        blank_positions = [
            i
            for i, line in zip(
                maybe_blank.arg_true().to_list(),
                lines.filter(maybe_blank).to_list(),
                strict=True,
            )
            if not line.replace(",", "").strip()
        ]
        blank = pl.Series([False] * len(lines), dtype=pl.Boolean)
        if blank_positions:
            blank = blank.scatter(blank_positions, True)
        kept = ~blank
        if not kept.any():
            raise BprFileError(
                "the file is empty: expected a header row of the 16 BPR columns", source=source
            )
        first = int(kept.arg_true()[0])
        _check_header(str(lines[first]).split(","), source, first + 1)
        data = kept & (numbers > first + 1)
        data_lines = lines.filter(data)
        data_numbers = numbers.filter(data)
        _check_month_first(data_numbers, data_lines, source)
        blank_after = numbers.filter(blank & (numbers > first + 1)).to_list()
        findings = file_findings(len(data_lines), blank_after)
        return cls(data_numbers, data_lines, findings)


def _check_month_first(numbers: Series, lines: Series, source: str) -> None:
    """The pure month-first rule over the rows a column pattern picks as candidates."""
    pl = _pl()
    cells = lines.str.splitn(",", 5).struct.unnest()
    candidate = pl.Series([False] * len(lines), dtype=pl.Boolean)
    for name in ("field_2", "field_3"):
        if name not in cells.columns:
            continue
        second = cells[name].str.extract(_MONTH_FIRST_CANDIDATE, 1).cast(pl.Int64, strict=False)
        candidate = candidate | (second > 12).fill_null(False)
    if candidate.any():
        picked = zip(
            numbers.filter(candidate).to_list(), lines.filter(candidate).to_list(), strict=True
        )
        check_date_order(((n, line.split(",")) for n, line in picked), source)


def _results_of_lines(numbers: Series, lines: Series, *, abn_required: bool) -> list[BprResult]:
    """The results of quote-free data lines, in order."""
    pl = _pl()
    if not len(lines):
        return []
    cells = lines.str.splitn(",", _WIDTH + 1).struct.unnest()
    if len(cells.columns) > _WIDTH:
        wide = cells[f"field_{_WIDTH}"].is_null() & cells[f"field_{_WIDTH - 1}"].is_not_null()
    elif len(cells.columns) == _WIDTH:
        wide = cells[f"field_{_WIDTH - 1}"].is_not_null()
    else:
        wide = pl.Series([False] * len(lines), dtype=pl.Boolean)
    validated = _validate(
        numbers.filter(wide).to_list(),
        [cells[f"field_{i}"].filter(wide) for i in range(_WIDTH)] if wide.any() else [],
        abn_required=abn_required,
    )
    if bool(wide.all()):
        return validated
    it = iter(validated)
    others = zip(numbers.filter(~wide).to_list(), lines.filter(~wide).to_list(), strict=True)
    out: list[BprResult] = []
    for is_wide in wide.to_list():
        if is_wide:
            out.append(next(it))
        else:
            n, line = next(others)
            out.append(read_record(n, line.split(","), abn_required=abn_required))
    return out


def parse_bpr_columnar(
    text: str, *, abn_required: bool = True, source: str = "<input>"
) -> BprResults:
    """:func:`ndis_rules.bpr.parse_bpr`, read as columns: the same results and findings, and
    the same :class:`~ndis_rules.bpr.BprFileError` for what is not a BPR file."""
    lines = _Lines.of(text, source)
    if lines is None:  # quotes: the pure splitter, then the columns
        from ..bpr import parse_records

        records = parse_records(text, source)
        out = BprResults(read_results(records, abn_required=abn_required))
        out.findings = records.findings
        return out
    out = BprResults(_results_of_lines(lines.numbers, lines.lines, abn_required=abn_required))
    out.findings = lines.findings
    return out


def read_bpr_columnar(
    text_or_path: str | bytes | os.PathLike[str],
    *,
    abn_required: bool = True,
    source: str | None = None,
) -> BprResults:
    """:func:`ndis_rules.files.bpr.read_bpr`, read as columns (the same arguments, results,
    findings and errors)."""
    text, name = load_text(text_or_path, source)
    with gc_paused():
        return parse_bpr_columnar(text, abn_required=abn_required, source=name)


def read_bpr_for_check(
    text_or_path: str | bytes | os.PathLike[str],
    *,
    abn_required: bool = True,
    source: str | None = None,
) -> BprResults:
    """:func:`read_bpr_columnar` or :func:`ndis_rules.files.bpr.read_bpr`, as
    :func:`columnar_enabled` chooses (the same results either way)."""
    if columnar_enabled():
        return read_bpr_columnar(text_or_path, abn_required=abn_required, source=source)
    from .bpr import read_bpr

    return read_bpr(text_or_path, abn_required=abn_required, source=source)


# -- grouping by participant ---------------------------------------------------------------------
def partition_of_rows(ndis_cells: Series, parts: int, part_of: Callable[[str, int], int]) -> Series:
    """Each row's partition as a column: ``part_of`` (the scale-out's participant hash) runs
    once per distinct NDIS cell and is spread over the rows."""
    pl = _pl()
    ndis_cells = ndis_cells.fill_null("")
    distinct = ndis_cells.unique()
    parts_of = pl.Series([part_of(v, parts) for v in distinct.to_list()], dtype=pl.UInt32)
    return ndis_cells.replace_strict(distinct, parts_of, return_dtype=pl.UInt32)


def stream_groups(
    text: str, name: str, partitions: int, part_of: Callable[[str, int], int]
) -> tuple[list[list[tuple[int, str]]], tuple[str, ...]] | None:
    """The scale-out's groups of raw data lines by participant, read and grouped as columns
    (``None`` for text with quotes: the pure splitter reads it)."""
    lines = _Lines.of(text, name)
    if lines is None:
        return None
    ndis = lines.lines.str.splitn(",", 3).struct.unnest()
    column = ndis["field_1"] if "field_1" in ndis.columns else ndis["field_0"].clear(len(ndis))
    part = partition_of_rows(column, partitions, part_of)
    groups: list[list[tuple[int, str]]] = []
    for i in range(partitions):
        mask = part == i
        groups.append(
            list(
                zip(
                    lines.numbers.filter(mask).to_list(),
                    lines.lines.filter(mask).to_list(),
                    strict=True,
                )
            )
        )
    return groups, lines.findings
