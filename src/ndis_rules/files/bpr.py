"""Bulk payment request files opened from a path, bytes or text and read row by row (the row
model, the cell rules and the writer are the pure :mod:`ndis_rules.bpr`)."""

from __future__ import annotations

import os
from datetime import date, datetime, time
from pathlib import Path

from .._gc import gc_paused
from ..bpr import BprFileError, BprRecords, BprResults, decode_text, parse_bpr, parse_records

__all__ = ["load_text", "read_bpr", "read_records"]


def read_bpr(
    text_or_path: str | bytes | os.PathLike[str],
    *,
    abn_required: bool = True,
    source: str | None = None,
) -> BprResults:
    """Read a bulk payment request file: one :class:`BprResult` per data row, in order.

    Args:
        text_or_path: the CSV text (a ``str`` with a line break or a comma), its bytes (UTF-8
            with or without a byte-order mark, or Windows-1252), or a path.
        abn_required: when True (the default) a blank "ABN of Support Provider" is an error;
            pass False for claims that need none (participant reimbursement, ATO exclusion).
        source: the name used in error messages (defaults to the file name).

    Returns:
        As many results as the file has data rows (empty lines are not rows); a row with the
        wrong number of cells still gets a result.

    Raises:
        BprFileError: the input is not a BPR file: not text, empty, or a header that is not the
            16 BPR columns.
    """
    text, name = load_text(text_or_path, source)
    with gc_paused():
        return parse_bpr(text, abn_required=abn_required, source=name)


def read_records(
    text_or_path: str | bytes | os.PathLike[str], source: str | None = None
) -> tuple[str, BprRecords]:
    """The file's name and its data records, (row number, cells), with the header checked but
    the rows not parsed yet (see
    :func:`~ndis_rules.bpr.read_record`; :func:`read_bpr` is both in one).

    Raises:
        BprFileError: not a BPR file (empty, not text, or not the 16 BPR columns).
    """
    text, name = load_text(text_or_path, source)
    return name, parse_records(text, name)


def _is_text(value: str) -> bool:
    """A ``str`` argument is CSV text when it is empty or has a line break or a comma."""
    return not value or any(c in value for c in "\r\n,")


def load_text(value: str | bytes | os.PathLike[str], source: str | None) -> tuple[str, str]:
    """The text of a BPR given as text, bytes or a path, and the name to report it by."""
    if isinstance(value, str) and _is_text(value):
        return value.removeprefix("\ufeff"), source or "<input>"
    if isinstance(value, bytes):
        data, name = value, source or "<input>"
    elif isinstance(value, (str, os.PathLike)):
        try:
            path = Path(value)
            name = source or path.name or str(value)
            data = path.read_bytes()
        except (OSError, ValueError) as exc:
            raise BprFileError(f"cannot read the file: {exc}", source=source or "<input>") from None
    else:
        raise BprFileError(f"expected CSV text, bytes or a path, not {type(value).__name__}")
    if data[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm")):
        return _workbook_text(data, name), name
    return decode_text(data, name), name


def _workbook_text(data: bytes, name: str) -> str:
    """The first sheet of an Excel workbook given as a BPR, as CSV text (with the extra
    ``xlsx``); without openpyxl, a :class:`BprFileError` saying how to export CSV."""
    try:
        import openpyxl
    except ImportError:
        raise BprFileError(
            "this is an Excel workbook (.xlsx), not a CSV file: install the extra "
            "(pip install 'ndis-rules[xlsx]') to read it, or open it in Excel and use "
            "File > Save As > CSV UTF-8 (Comma delimited), then check the .csv file",
            source=name,
        ) from None
    import csv
    import io
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for values in sheet.iter_rows(values_only=True):
            writer.writerow([_cell_text(v) for v in values])
        book.close()
    except BprFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise BprFileError(
            f"an Excel workbook that cannot be read ({type(exc).__name__})", source=name
        ) from None
    return out.getvalue()


def _cell_text(value: object) -> str:
    """A workbook cell as the CSV text a spreadsheet's CSV export would give (exact: a number
    stored as a binary float is written with its shortest repr, never more digits)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() != time():
            raise BprFileError("a workbook cell holds a date and time, not a date")
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)
