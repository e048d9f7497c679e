"""Catalogue editions: which NDIS Support Catalogue file is in force on which service date, so
that a check given several catalogue files (e.g. 2025-26 and 2026-27) uses, for each line, the
one in force on its dates, and never last (or next) year's prices for a date no file covers.

An edition is one catalogue file with its effective date range:

* the file name names the financial year (``2025-26``, ``2025-2026``, ``FY2026-27``): the
  edition covers 1 July of the first year to 30 June of the next;
* otherwise it covers from the earliest start date of its items to the latest end date when every
  item has one, else to the 30 June that ends the financial year of that earliest start (the
  NDIA publishes one catalogue a financial year; items usually carry no end date).

The version is read from the file name (``v1.1``, ``version 1.0``), ``None`` when it names none.

:class:`CatalogueSet` is a :class:`~ndis_rules.catalogue.Catalogue` over several editions: a
service date is looked up in the edition in force on it (when editions overlap, the one that
takes effect last), and each item version is clipped to its edition's range.

Examples:
    >>> from ndis_rules.catalogue import CatalogueItem
    >>> def item(start, end=date(9999, 12, 31)):
    ...     return CatalogueItem("01_011_0107_1_1", "Self-Care", "0107", "01", "01", "H", False,
    ...                          start, end)
    >>> old = edition_of(Catalogue([item(date(2025, 7, 1))]), "NDIS Catalogue 2025-26 v1.1.csv")
    >>> (old.financial_year, old.version, str(old.start), str(old.end_inclusive))
    ('2025-26', '1.1', '2025-07-01', '2026-06-30')
    >>> new = edition_of(Catalogue([item(date(2026, 7, 1))]), "catalogue.csv")
    >>> (new.financial_year, new.version, str(new.start), str(new.end_inclusive))
    ('2026-27', None, '2026-07-01', '2027-06-30')
    >>> both = CatalogueSet([old, new])
    >>> both.item("01_011_0107_1_1", date(2026, 6, 30)).start  # the 2025-26 version
    datetime.date(2025, 7, 1)
    >>> both.item("01_011_0107_1_1", date(2026, 7, 1)).start  # the 2026-27 version
    datetime.date(2026, 7, 1)
    >>> CatalogueSet([old]).item("01_011_0107_1_1", date(2026, 7, 1)) is None  # not covered
    True
    >>> CatalogueSet([old]).uncovered(date(2026, 6, 29), date(2026, 7, 2))
    datetime.date(2026, 7, 1)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Final

from .catalogue import OPEN_END, Catalogue, CatalogueError, CatalogueItem

__all__ = ["CatalogueEdition", "CatalogueSet", "edition_of", "financial_year_of"]

_FY_IN_NAME: Final = re.compile(r"(?<!\d)(20\d\d)\s*[-\u2013_/ ]\s*(20\d\d|\d\d)(?!\d)")
_VERSION_IN_NAME: Final = re.compile(r"(?i)(?:(?<![a-z])v|version)\s*(\d+(?:\.\d+)*)")


def financial_year_of(day: date) -> int:
    """The first calendar year of the financial year (1 July to 30 June) holding ``day``."""
    return day.year if day.month >= 7 else day.year - 1


def _fy_label(first_year: int) -> str:
    return f"{first_year}-{(first_year + 1) % 100:02d}"


def _fy_from_name(name: str) -> int | None:
    for m in _FY_IN_NAME.finditer(name):
        first, second = int(m.group(1)), m.group(2)
        following = int(second) if len(second) == 4 else (first + 1) % 100
        if (len(second) == 4 and following == first + 1) or (
            len(second) == 2 and int(second) == (first + 1) % 100
        ):
            return first
    return None


@dataclass(frozen=True)
class CatalogueEdition:
    """One catalogue file and the service dates it covers.

    Attributes:
        source: the file name (no folder).
        version: the version the file name gives (``"1.1"``), ``None`` when it gives none.
        financial_year: ``"2025-26"``: from the file name, else from ``start``.
        start, end_inclusive: the first and last service date the edition covers.
        items: the number of item versions (rows) in the file.
        basis: how the range was decided (``"file name"`` or ``"item dates"``).
        catalogue: the catalogue read from the file.
    """

    source: str
    version: str | None
    financial_year: str
    start: date
    end_inclusive: date
    items: int
    basis: str
    catalogue: Catalogue = field(compare=False, repr=False)

    def covers(self, day: date) -> bool:
        """True when ``start <= day <= end_inclusive``."""
        return self.start <= day <= self.end_inclusive

    @property
    def label(self) -> str:
        """``"catalogue.csv (2025-26, version 1.1, 2025-07-01 to 2026-06-30)"``."""
        version = f"version {self.version}" if self.version else "version not named"
        return (
            f"{self.source} ({self.financial_year}, {version}, "
            f"{self.start.isoformat()} to {self.end_inclusive.isoformat()})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "file": self.source,
            "version": self.version,
            "financial_year": self.financial_year,
            "effective_from": self.start.isoformat(),
            "effective_to": self.end_inclusive.isoformat(),
            "items": self.items,
            "basis": self.basis,
        }


def edition_of(catalogue: Catalogue, name: str) -> CatalogueEdition:
    """The edition of a catalogue read from the file ``name`` (see the module docstring).

    Raises:
        CatalogueError: the file holds no item (no date range can be derived).
    """
    items = list(catalogue)
    if not items:
        raise CatalogueError("the catalogue holds no support item", source=name)
    version_match = _VERSION_IN_NAME.search(name)
    version = version_match.group(1) if version_match else None
    named = _fy_from_name(name)
    if named is not None:
        start, end = date(named, 7, 1), date(named + 1, 6, 30)
        first_year, basis = named, "file name"
    else:
        start = min(i.start for i in items)
        first_year = financial_year_of(start)
        if all(i.end_inclusive != OPEN_END for i in items):
            end = max(i.end_inclusive for i in items)
        else:
            end = date(first_year + 1, 6, 30)
        basis = "item dates"
    return CatalogueEdition(
        source=name,
        version=version,
        financial_year=_fy_label(first_year),
        start=start,
        end_inclusive=end,
        items=len(items),
        basis=basis,
        catalogue=catalogue,
    )


def _clipped(edition: CatalogueEdition) -> Iterable[CatalogueItem]:
    for item in edition.catalogue:
        start = max(item.start, edition.start)
        end = min(item.end_inclusive, edition.end_inclusive)
        if start <= end:
            yield replace(item, start=start, end_inclusive=end)


class CatalogueSet(Catalogue):
    """A catalogue over several editions: a date is looked up in the edition in force on it.

    ``versions`` lists every item version clipped to its edition's range; ``item`` (and so
    ``price_limit`` and ``pace_category``) answers from the edition covering the date only, and
    ``None`` when no edition covers it.

    Raises:
        CatalogueError: two editions take effect on the same day (which one is in force would
            be a guess), or no edition is given.
    """

    __slots__ = ("editions",)

    def __init__(self, editions: Sequence[CatalogueEdition]) -> None:
        if not editions:
            raise CatalogueError("no catalogue given")
        ordered = sorted(editions, key=lambda e: e.start)
        for a, b in itertools.pairwise(ordered):
            if a.start == b.start:
                raise CatalogueError(
                    f"{a.source} and {b.source} both take effect on {a.start.isoformat()}: "
                    "give one catalogue per financial year"
                )
        self.editions: tuple[CatalogueEdition, ...] = tuple(ordered)
        super().__init__(
            (i for e in ordered for i in _clipped(e)),
            source=", ".join(e.source for e in ordered),
        )

    def edition_for(self, day: date) -> CatalogueEdition | None:
        """The edition in force on ``day`` (overlapping: the one taking effect last)."""
        found: CatalogueEdition | None = None
        for e in self.editions:  # by start: a later one wins
            if e.covers(day):
                found = e
        return found

    def uncovered(self, first: date, last: date) -> date | None:
        """The first day of ``first .. last`` no edition covers, or ``None``."""
        day = first
        while day <= last:
            edition = self.edition_for(day)
            if edition is None:
                return day
            if edition.end_inclusive >= last:
                return None
            day = edition.end_inclusive + timedelta(days=1)
        return None

    def covered_text(self) -> str:
        """``"2025-07-01 to 2026-06-30 (a.csv); 2026-07-01 to 2027-06-30 (b.xlsx)"``."""
        return "; ".join(
            f"{e.start.isoformat()} to {e.end_inclusive.isoformat()} ({e.source})"
            for e in self.editions
        )

    def item(self, number: str, on: date) -> CatalogueItem | None:
        """The version of ``number`` in force on ``on`` in the edition covering ``on`` (clipped
        to the edition's range), or ``None``."""
        if isinstance(on, datetime) or not isinstance(on, date):
            raise TypeError(f"on must be a date, not {type(on).__name__}")
        edition = self.edition_for(on)
        found = edition.catalogue.item(number, on) if edition is not None else None
        if edition is None or found is None:
            return None
        return replace(
            found,
            start=max(found.start, edition.start),
            end_inclusive=min(found.end_inclusive, edition.end_inclusive),
        )
