"""Support Catalogue files: the CSV export and the XLSX workbook opened and read into a
:class:`~ndis_rules.catalogue.Catalogue` (the pure lookups live in :mod:`ndis_rules.catalogue`).

Examples:
    >>> header = ("Support Item Number,Support Item Name,Registration Group Number,"
    ...           "Support Category Number,Support Category Number (PACE),Unit,Quote,"
    ...           "Start date,End Date,National,Remote,Very Remote")
    >>> row = ("01_011_0107_1_1,Self-Care - Weekday Daytime,0107,1,1,H,No,"
    ...        "20260701,99991231,73.58,103.01,110.37")
    >>> len(load_csv(header + "\\n" + row + "\\n"))
    1
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..catalogue import XLSX_SHEETS, Catalogue, CatalogueError, CatalogueItem, items_from_records
from ..editions import CatalogueSet, edition_of
from ..errors import MissingExtra

__all__ = ["detect_and_load", "load_csv", "load_editions", "load_xlsx"]


def load_csv(
    path_or_text: str | os.PathLike[str] | bytes, *, source: str | None = None
) -> Catalogue:
    """Read a catalogue CSV export (state or national price columns).

    Args:
        path_or_text: a path, the CSV text (a ``str`` containing a line break or a comma),
            or bytes.
        source: the name used in error messages (defaults to the file name).

    Raises:
        CatalogueError: the file cannot be read, a required column is missing, or rows are
            broken (every broken row is listed in ``problems``; ``row`` and ``loc`` name the
            first).
    """
    text, name = _read_text(path_or_text, source)
    return Catalogue.parse_csv(text, source=name)


def load_xlsx(
    path: str | os.PathLike[str],
    *,
    sheets: Sequence[str] | None = None,
    source: str | None = None,
) -> Catalogue:
    """Read a catalogue workbook (needs the optional extra ``xlsx``: openpyxl).

    Args:
        path: the ``.xlsx`` file.
        sheets: sheet names to read; by default "Current Support Items" and "Legacy Support
            Items" where present, else the first sheet.
        source: the name used in error messages (defaults to the file name).

    Raises:
        CatalogueError: the file or a sheet cannot be read, or rows are broken.
        MissingExtra: openpyxl is not installed (an ``ImportError``).
    """
    try:
        import openpyxl
    except ImportError as exc:  # the extra "xlsx" is not installed
        raise MissingExtra(
            "reading an XLSX catalogue needs openpyxl: pip install 'ndis-rules[xlsx]' "
            "(or export the sheet as CSV and use load_csv)"
        ) from exc
    name = source or Path(path).name
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and data validation it does not read
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise CatalogueError(f"cannot read the workbook: {exc}", source=name) from None
    items: list[CatalogueItem] = []
    try:
        names = (
            list(sheets)
            if sheets is not None
            else [s for s in XLSX_SHEETS if s in wb.sheetnames] or wb.sheetnames[:1]
        )
        for sheet in names:
            if sheet not in wb.sheetnames:
                raise CatalogueError(
                    f"no sheet {sheet!r} (the workbook has {', '.join(wb.sheetnames)})",
                    source=name,
                )
            ws = wb[sheet]
            records = [list(r) for r in ws.iter_rows(values_only=True)]
            items.extend(items_from_records(records, name, sheet=sheet))
    finally:
        wb.close()
    return Catalogue(items, source=name)


def detect_and_load(path: str | os.PathLike[str]) -> Catalogue:
    """Load a catalogue file choosing the reader by suffix (``.csv`` or ``.xlsx``/``.xlsm``).

    Raises:
        CatalogueError: an unknown suffix or a broken file.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_csv(Path(path))
    if suffix in (".xlsx", ".xlsm"):
        return load_xlsx(path)
    raise CatalogueError(
        f"cannot tell the catalogue format from the suffix {suffix or '(none)'!r}: "
        "expected .csv or .xlsx",
        source=Path(path).name,
    )


def load_editions(paths: Sequence[str | os.PathLike[str]]) -> CatalogueSet:
    """Load one or more catalogue files as a :class:`~ndis_rules.editions.CatalogueSet`: each
    file an edition whose effective dates come from its file name (financial year) or its items'
    dates (:func:`~ndis_rules.editions.edition_of`).

    Raises:
        CatalogueError: a file cannot be read, holds no item, or two files take effect on the
            same day.
    """
    return CatalogueSet([edition_of(detect_and_load(p), Path(p).name) for p in paths])


def _read_text(value: str | os.PathLike[str] | bytes, source: str | None) -> tuple[str, str]:
    if isinstance(value, bytes):
        data, name = value, source or "<input>"
    elif isinstance(value, str) and (not value or any(c in value for c in "\r\n,")):
        return value.lstrip("\ufeff"), source or "<input>"
    else:
        name = source or Path(value).name
        try:
            data = Path(value).read_bytes()
        except OSError as exc:
            raise CatalogueError(
                f"cannot read the file: {exc.strerror or exc}", source=name
            ) from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), name
        except UnicodeDecodeError:
            continue
    raise CatalogueError("not a text file (neither UTF-8 nor Windows-1252)", source=name)
