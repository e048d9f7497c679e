"""The NDIS Support Catalogue: support items, their date ranges and price limits by region.

Source: NDIA, *NDIS Support Catalogue* (Pricing Arrangements and Price Limits), read in the two
published layouts (spec/claims-files.md):

* **CSV, state columns** (e.g. 2025-26 v1.1): ``$``-formatted prices in the columns ACT, NSW, NT,
  QLD, SA, TAS, VIC, WA, Remote, Very Remote; a byte-order mark before the first header.
* **XLSX, national column** (e.g. 2026-27 v1.0): sheets "Current Support Items" and "Legacy
  Support Items", prices in National, Remote, Very Remote as binary floats. A float is converted
  through ``Decimal(repr(x))`` and quantised to the cent once, never through ``Decimal(x)``.
  Reading XLSX needs the optional extra ``xlsx`` (openpyxl).
* Older files name the Remote and Very Remote columns ``P01`` and ``P02``.

An item may appear several times with different start/end dates (a mid-year price change): every
version is kept and looked up by **service date**. Dates are inclusive; ``99991231`` means open
(stored as ``date(9999, 12, 31)``). When catalogues of several years are merged and two versions
of an item both cover a date (an open-ended 2025-26 item and its 2026-27 successor), the version
that starts later wins.

Examples:
    >>> header = ("Support Item Number,Support Item Name,Registration Group Number,"
    ...           "Support Category Number,Support Category Number (PACE),Unit,Quote,"
    ...           "Start date,End Date,National,Remote,Very Remote")
    >>> row = ("01_011_0107_1_1,Self-Care - Weekday Daytime,0107,1,1,H,No,"
    ...        "20260701,99991231,73.58,103.01,110.37")
    >>> cat = Catalogue.parse_csv(header + "\\n" + row + "\\n")
    >>> cat.price_limit("01_011_0107_1_1", date(2026, 8, 3), "NSW")
    Money('73.58')
    >>> cat.price_limit("01_011_0107_1_1", date(2026, 8, 3), "very_remote")
    Money('110.37')
    >>> cat.item("01_011_0107_1_1", on=date(2026, 6, 30)) is None
    True
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

from ._compat import forward
from .errors import CatalogueError, InputError, ItemNotFoundError, RegionError
from .items import parse_item_number
from .models import CATEGORIES
from .money import Money

if TYPE_CHECKING:
    from os import PathLike

__getattr__ = forward("ndis_rules.files.catalogue", ["detect_and_load"])

__all__ = [
    "CLAIM_TYPE_FLAGS",
    "OPEN_END",
    "REGIONS",
    "STATES",
    "Catalogue",
    "CatalogueError",
    "CatalogueItem",
    "Flag",
    "ItemNotFoundError",
    "Region",
    "RegionError",
    "Unit",
    "items_from_records",
    "normalise_region",
]

Unit = Literal["H", "E", "D", "WK", "MON", "YR"]
Flag = Literal["Y", "N", "NA"]
Region = Literal[
    "ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA", "national", "remote", "very_remote"
]

#: The state and territory price columns of state-layout files.
STATES: Final[tuple[str, ...]] = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")
#: Every region a price can be asked for.
REGIONS: Final[tuple[str, ...]] = (*STATES, "national", "remote", "very_remote")
#: ``99991231``: the catalogue's "no end date".
OPEN_END: Final = date(9999, 12, 31)
#: Bulk-claim ``ClaimType`` code -> the catalogue flag that permits it.
CLAIM_TYPE_FLAGS: Final[dict[str, str]] = {
    "NF2F": "non_face_to_face",
    "TRAN": "provider_travel",
    "CANC": "short_notice_cancellations",
    "REPW": "ndia_requested_reports",
    "IRSS": "irregular_sil",
}

_UNITS: Final[dict[str, Unit]] = {
    "H": "H",
    "E": "E",
    "D": "D",
    "WK": "WK",
    "MON": "MON",
    "YR": "YR",
}
_FLAGS: Final[dict[str, Flag]] = {"Y": "Y", "N": "N", "NA": "NA"}
_CENT: Final = Decimal("0.01")
_MAX_PROBLEMS: Final = 50

XLSX_SHEETS: Final[tuple[str, ...]] = ("Current Support Items", "Legacy Support Items")


def normalise_region(region: str) -> Region:
    """Map ``"nsw"``, ``"Very Remote"``, ``"very-remote"``, ``"P02"`` ... to a :data:`Region`.

    Examples:
        >>> normalise_region("nsw"), normalise_region("Very Remote"), normalise_region("P01")
        ('NSW', 'very_remote', 'remote')
    """
    if not isinstance(region, str):
        raise RegionError(f"a region must be text, not {type(region).__name__}")
    key = re.sub(r"[\s_-]+", "_", region.strip()).lower()
    key = {"p01": "remote", "p02": "very_remote", "mmm6": "remote", "mmm7": "very_remote"}.get(
        key, key
    )
    for r in REGIONS:
        if r.lower() == key:
            return r  # type: ignore[return-value]  # every member of REGIONS is a Region
    raise RegionError(
        f"unknown region {region!r}: expected a state ({', '.join(STATES)}), "
        "'national', 'remote' or 'very_remote'"
    )


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """One version (one start..end range) of a support item in the catalogue.

    Attributes:
        number: the support item number, whitespace removed (``"01_011_0107_1_1"``).
        name: the support item name.
        registration_group: four digits, e.g. ``"0107"``.
        registration_group_name: its name ("" when the file has none).
        legacy_category: "Support Category Number" as two digits (``"01"``..``"15"``).
        legacy_category_name: "Support Category Name".
        pace_category: "Support Category Number (PACE)" as two digits (``"01"``..``"21"``); for
            files without a PACE column, the legacy category.
        pace_category_name: "Support Category Name (PACE)".
        unit: H hour, E each, D day, WK week, MON month, YR year.
        quote: True when the item is quotable (no price limit).
        start: first day the version is in force.
        end_inclusive: last day it is in force (``OPEN_END`` = 9999-12-31 for open).
        prices: price limit per region key exactly as the file has them: the state codes and/or
            ``national``, plus ``remote`` and ``very_remote``; ``None`` where the cell is empty.
        non_face_to_face, provider_travel, short_notice_cancellations, ndia_requested_reports,
        irregular_sil: the claim-type flags ``Y``/``N``/``NA`` (``None`` if the file has no
            such column).
        type: "Price Limited Supports", "Priced Supports", "Quotable Supports", "Unit Price = $1"
            or "".
        source_sheet: the XLSX sheet the row came from (``None`` for CSV).
        row: the row number in the file (header = row 1).
    """

    number: str
    name: str
    registration_group: str
    legacy_category: str
    pace_category: str
    unit: Unit
    quote: bool
    start: date
    end_inclusive: date
    prices: Mapping[str, Money | None] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    registration_group_name: str = ""
    legacy_category_name: str = ""
    pace_category_name: str = ""
    non_face_to_face: Flag | None = None
    provider_travel: Flag | None = None
    short_notice_cancellations: Flag | None = None
    ndia_requested_reports: Flag | None = None
    irregular_sil: Flag | None = None
    type: str = ""
    source_sheet: str | None = None
    row: int | None = field(default=None, compare=False)

    @property
    def open_ended(self) -> bool:
        """True when the catalogue gives no end date (``99991231``)."""
        return self.end_inclusive == OPEN_END

    def in_force(self, on: date) -> bool:
        """True when ``start <= on <= end_inclusive``."""
        return self.start <= on <= self.end_inclusive

    def price(self, region: str) -> Money | None:
        """The price limit in ``region``; ``None`` = no limit (a quotable item, or no price).

        A state code reads that state's column, or the National column of a national file;
        ``national`` reads the National column, or in a state-column file the common value of
        the state columns (a :class:`RegionError` when they differ: give a state then).

        Examples:
            >>> item = CatalogueItem("01_011_0107_1_1", "x", "0107", "01", "01", "H", False,
            ...     date(2025, 7, 1), OPEN_END,
            ...     {s: Money.parse("70.23") for s in STATES} | {"remote": Money.parse("98.32")})
            >>> item.price("national"), item.price("WA"), item.price("remote")
            (Money('70.23'), Money('70.23'), Money('98.32'))
        """
        key = normalise_region(region)
        if self.quote:
            return None
        prices = self.prices
        if key in ("remote", "very_remote"):
            return prices.get(key)
        if key in STATES:
            if key in prices:
                return prices[key]
            return prices.get("national")
        # national
        if "national" in prices:
            return prices["national"]
        values = {prices[s] for s in STATES if s in prices}
        if len(values) <= 1:
            return next(iter(values), None)
        raise RegionError(
            f"{self.number}: prices differ by state in this catalogue; "
            f"give a state ({', '.join(STATES)}) instead of 'national'"
        )

    def claim_type_flag(self, claim_type: str) -> Flag | None:
        """The catalogue flag for a bulk-claim ``ClaimType`` (``CANC``, ``NF2F``, ``TRAN``,
        ``REPW``, ``IRSS``); ``None`` when the catalogue has no flag for it (blank, ``THLT``) or
        the file lacks the column.

        Examples:
            >>> item = CatalogueItem("01_011_0107_1_1", "x", "0107", "01", "01", "H", False,
            ...     date(2025, 7, 1), OPEN_END, short_notice_cancellations="Y")
            >>> item.claim_type_flag("CANC"), item.claim_type_flag("")
            ('Y', None)
        """
        attr = CLAIM_TYPE_FLAGS.get(claim_type.strip().upper())
        if attr is None:
            return None
        value: Flag | None = getattr(self, attr)
        return value


class Catalogue:
    """Every version of every support item of one or more catalogue files, looked up by
    service date.

    Build it with :meth:`parse_csv` or the file readers of :mod:`ndis_rules.files.catalogue`,
    or from
    :class:`CatalogueItem` values; combine catalogues with :meth:`merged`.
    """

    __slots__ = ("_by_number", "source")

    def __init__(self, items: Iterable[CatalogueItem] = (), *, source: str | None = None) -> None:
        self.source = source
        by_number: dict[str, list[CatalogueItem]] = {}
        for item in items:
            by_number.setdefault(item.number, []).append(item)
        for versions in by_number.values():
            versions.sort(key=lambda i: (i.start, i.end_inclusive))
        self._by_number: dict[str, tuple[CatalogueItem, ...]] = {
            k: tuple(v) for k, v in by_number.items()
        }

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def parse_csv(cls, text: str, *, source: str = "<input>") -> Catalogue:
        """Read the text of a catalogue CSV export (state or national price columns).

        Files are opened by :func:`ndis_rules.files.catalogue.load_csv`; this is the pure part.

        Raises:
            CatalogueError: a required column is missing, or rows are broken (every broken row
                is listed in ``problems``; ``row`` and ``loc`` name the first).
        """
        try:
            records = list(csv.reader(text.lstrip("\ufeff").splitlines(keepends=True)))
        except csv.Error as exc:
            raise CatalogueError(f"not a CSV file: {exc}", source=source) from None
        return cls(items_from_records(records, source, sheet=None), source=source)

    @classmethod
    def load_csv(
        cls, path_or_text: str | PathLike[str] | bytes, *, source: str | None = None
    ) -> Catalogue:
        """Moved to :func:`ndis_rules.files.catalogue.load_csv` (kept for one release)."""
        load: Callable[..., Catalogue] = forward("ndis_rules.files.catalogue", ["load_csv"])(
            "load_csv"
        )
        return load(path_or_text, source=source)

    @classmethod
    def load_xlsx(
        cls,
        path: str | PathLike[str],
        *,
        sheets: Sequence[str] | None = None,
        source: str | None = None,
    ) -> Catalogue:
        """Moved to :func:`ndis_rules.files.catalogue.load_xlsx` (kept for one release)."""
        load: Callable[..., Catalogue] = forward("ndis_rules.files.catalogue", ["load_xlsx"])(
            "load_xlsx"
        )
        return load(path, sheets=sheets, source=source)

    def merged(self, *others: Catalogue) -> Catalogue:
        """A catalogue holding the versions of this one and ``others`` (e.g. two years)."""
        items = list(self)
        for other in others:
            items.extend(other)
        return Catalogue(items, source=self.source)

    # -- lookups --------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[CatalogueItem]:
        for versions in self._by_number.values():
            yield from versions

    def __len__(self) -> int:
        """The number of item versions (rows)."""
        return sum(len(v) for v in self._by_number.values())

    def __contains__(self, number: object) -> bool:
        return isinstance(number, str) and number.strip() in self._by_number

    def numbers(self) -> list[str]:
        """Every support item number, sorted."""
        return sorted(self._by_number)

    def versions(self, number: str) -> tuple[CatalogueItem, ...]:
        """Every version of an item, oldest start first (empty when not listed)."""
        return self._by_number.get(number.strip(), ())

    def item(self, number: str, on: date) -> CatalogueItem | None:
        """The version of ``number`` in force on the service date ``on``, or ``None``.

        When several versions cover the date (merged years), the one that starts last wins.
        """
        if isinstance(on, datetime) or not isinstance(on, date):
            raise TypeError(f"on must be a date, not {type(on).__name__}")
        best: CatalogueItem | None = None
        for version in self.versions(number):
            if version.in_force(on) and (best is None or version.start >= best.start):
                best = version
        return best

    def price_limit(self, number: str, on: date, region: str) -> Money | None:
        """The price limit of ``number`` for a service on ``on`` in ``region``.

        Returns ``None`` when there is no limit (a quotable item, or no price in the file).

        Raises:
            ItemNotFoundError: no version of the item is in force on ``on``.
            RegionError: an unknown region, or ``national`` where state prices differ.
        """
        item = self.item(number, on)
        if item is None:
            listed = bool(self.versions(number))
            raise ItemNotFoundError(
                f"support item {number.strip()!r} is "
                + ("not in force on " + on.isoformat() if listed else "not in the catalogue")
            )
        return item.price(region)

    def pace_category(self, number: str, on: date) -> str | None:
        """The PACE support category (``"01"``..``"21"``) of the version in force on ``on``,
        from the catalogue's PACE column (not the number's prefix); ``None`` if none is."""
        item = self.item(number, on)
        return item.pace_category if item else None


def _norm(header: object) -> str:
    text = "" if header is None else str(header)
    return re.sub(r"[^a-z0-9]+", " ", text.replace("\ufeff", "").lower()).strip()


# normalised header -> field key
_COLUMNS: Final[dict[str, str]] = {
    "support item number": "number",
    "support item name": "name",
    "registration group number": "registration_group",
    "registration group name": "registration_group_name",
    "support category number": "legacy_category",
    "support category name": "legacy_category_name",
    "support category number pace": "pace_category",
    "support category name pace": "pace_category_name",
    "unit": "unit",
    "unit of measure": "unit",
    "quote": "quote",
    "start date": "start",
    "end date": "end",
    "national": "national",
    "national non remote": "national",
    "remote": "remote",
    "p01": "remote",
    "very remote": "very_remote",
    "p02": "very_remote",
    "non face to face support provision": "non_face_to_face",
    "provider travel": "provider_travel",
    "short notice cancellations": "short_notice_cancellations",
    "ndia requested reports": "ndia_requested_reports",
    "irregular sil supports": "irregular_sil",
    "type": "type",
    **{s.lower(): s for s in STATES},
}
_REQUIRED: Final[dict[str, str]] = {
    "number": "Support Item Number",
    "name": "Support Item Name",
    "registration_group": "Registration Group Number",
    "legacy_category": "Support Category Number",
    "unit": "Unit",
    "quote": "Quote",
    "start": "Start date",
    "end": "End Date",
}
_FLAG_KEYS: Final = (
    "non_face_to_face",
    "provider_travel",
    "short_notice_cancellations",
    "ndia_requested_reports",
    "irregular_sil",
)
_PRICE_KEYS: Final = (*STATES, "national", "remote", "very_remote")


class _RowProblem(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def items_from_records(
    records: Sequence[Sequence[object]], source: str, sheet: str | None
) -> list[CatalogueItem]:
    where = f"{source} [{sheet}]" if sheet else source
    header_at = next(
        (i for i, r in enumerate(records) if any(c not in (None, "") for c in r)), None
    )
    if header_at is None:
        raise CatalogueError("the file is empty: no header row", source=where)
    header = records[header_at]
    columns: dict[str, int] = {}
    titles: dict[str, str] = {}
    for idx, title in enumerate(header):
        key = _COLUMNS.get(_norm(title))
        if key is not None and key not in columns:
            columns[key] = idx
            titles[key] = str(title).replace("\ufeff", "").strip()
    missing = [title for key, title in _REQUIRED.items() if key not in columns]
    if not any(k in columns for k in (*STATES, "national")):
        missing.append("price columns (ACT..WA or National)")
    if missing:
        raise CatalogueError(
            "not an NDIS Support Catalogue: missing column(s) " + ", ".join(missing),
            source=where,
            row=header_at + 1,
            loc=(missing[0],),
        )
    items: list[CatalogueItem] = []
    problems: list[tuple[int, str, str]] = []
    for offset, record in enumerate(records[header_at + 1 :], start=header_at + 2):
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in record):
            continue
        try:
            items.append(_item_from_record(record, columns, titles, offset, sheet))
        except _RowProblem as exc:
            problems.append((offset, exc.column, str(exc)))
            if len(problems) >= _MAX_PROBLEMS:
                break
    if problems:
        row, column, message = problems[0]
        listed = [f"row {r}: {c}: {m}" for r, c, m in problems]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CatalogueError(message + more, source=where, row=row, loc=(column,), problems=listed)
    return items


def _item_from_record(
    record: Sequence[object],
    columns: Mapping[str, int],
    titles: Mapping[str, str],
    row: int,
    sheet: str | None,
) -> CatalogueItem:
    def cell(key: str) -> object:
        idx = columns.get(key)
        if idx is None or idx >= len(record):
            return None
        return record[idx]

    def text(key: str) -> str:
        value = cell(key)
        if value is None:
            return ""
        if isinstance(value, float):
            raise _RowProblem(titles[key], f"expected text, got the number {value!r}")
        return str(value).strip()

    try:
        number = parse_item_number(text("number")).text
    except InputError as exc:
        raise _RowProblem(titles["number"], str(exc)) from None
    name = text("name")
    if not name:
        raise _RowProblem(titles["name"], "the support item name is empty")
    reg = text("registration_group")
    if reg.isdigit() and len(reg) <= 4:
        reg = reg.zfill(4)
    else:
        raise _RowProblem(
            titles["registration_group"], f"expected a 4-digit registration group, got {reg!r}"
        )
    legacy = _category(cell("legacy_category"), titles["legacy_category"])
    pace = (
        _category(cell("pace_category"), titles["pace_category"])
        if "pace_category" in columns
        else legacy
    )
    unit_text = text("unit").upper()
    unit = _UNITS.get(unit_text)
    if unit is None:
        raise _RowProblem(
            titles["unit"], f"unknown unit {unit_text!r} (expected H, E, D, WK, MON or YR)"
        )
    quote = _yes_no(cell("quote"), titles["quote"])
    start = _yyyymmdd(cell("start"), titles["start"])
    end = _yyyymmdd(cell("end"), titles["end"])
    if end < start:
        raise _RowProblem(titles["end"], f"end date {end} is before start date {start}")
    prices: dict[str, Money | None] = {}
    for key in _PRICE_KEYS:
        if key in columns:
            prices[key] = _price(cell(key), titles[key])
    flags: dict[str, Flag | None] = {}
    for key in _FLAG_KEYS:
        if key not in columns:
            flags[key] = None
            continue
        raw = text(key).upper()
        if not raw:
            flags[key] = None
            continue
        flag = _FLAGS.get(raw)
        if flag is None:
            raise _RowProblem(titles[key], f"expected Y, N or NA, got {raw!r}")
        flags[key] = flag
    return CatalogueItem(
        number=number,
        name=name,
        registration_group=reg,
        registration_group_name=text("registration_group_name"),
        legacy_category=legacy,
        legacy_category_name=text("legacy_category_name"),
        pace_category=pace,
        pace_category_name=text("pace_category_name"),
        unit=unit,
        quote=quote,
        start=start,
        end_inclusive=end,
        prices=MappingProxyType(prices),
        non_face_to_face=flags["non_face_to_face"],
        provider_travel=flags["provider_travel"],
        short_notice_cancellations=flags["short_notice_cancellations"],
        ndia_requested_reports=flags["ndia_requested_reports"],
        irregular_sil=flags["irregular_sil"],
        type=text("type") if "type" in columns else "",
        source_sheet=sheet,
        row=row,
    )


def _category(value: object, column: str) -> str:
    if isinstance(value, bool):
        raise _RowProblem(column, "expected a support category number, got a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:02d}" if isinstance(value, int) else str(value or "").strip()
    if text.isdigit() and len(text) == 1:
        text = "0" + text
    if text not in CATEGORIES:
        raise _RowProblem(column, f"expected a support category 1-21, got {value!r}")
    return text


def _yes_no(value: object, column: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("yes", "y", "true"):
        return True
    if text in ("no", "n", "false"):
        return False
    raise _RowProblem(column, f"expected Yes or No, got {value!r}")


def _yyyymmdd(value: object, column: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    if not isinstance(value, bool) and re.fullmatch(r"[0-9]{8}", text):
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            raise _RowProblem(column, f"no such date: {text}") from None
    raise _RowProblem(column, f"expected a date as YYYYMMDD, got {value!r}")


def _price(value: object, column: str) -> Money | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _RowProblem(column, "expected a price, got a boolean")
    try:
        if isinstance(value, float):
            # a binary float from a spreadsheet: shortest repr, then to the cent once
            amount = Money.from_decimal(
                Decimal(repr(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
            )
        elif isinstance(value, int):
            amount = Money(value * 100)
        else:
            text = str(value).strip()
            if not text or text.upper() in ("N/A", "NA", "-"):
                return None
            amount = Money.parse(text)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise _RowProblem(column, f"not a price: {value!r} ({exc})") from None
    if amount.cents < 0:
        raise _RowProblem(column, f"a price limit cannot be negative: {value!r}")
    return amount
