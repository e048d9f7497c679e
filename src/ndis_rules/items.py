"""NDIS support item numbers: ``CC_SSS_RRRR_O_P`` with an optional claim-type suffix.

Source: NDIS Support Catalogue (NDIA, Pricing Arrangements and Price Limits), spec/claims-files.md.

* ``CC`` the legacy support category (the number's prefix; the PACE category of an item comes
  from the catalogue's PACE column, not from here: see
  :meth:`ndis_rules.catalogue.Catalogue.pace_category`),
* ``SSS`` a sequence number: 3 digits; 9 digits (an ISO 9999 code) for assistive technology;
  3 to 9 digits are accepted, as the catalogue also lists e.g. ``05_0002_0103_1_2``,
* ``RRRR`` the registration group, ``O`` the outcome domain,
* ``P`` the purpose: 1 core, 2 capital, 3 capacity building,
* from 2026-27 therapy items may end in ``_CA`` (short notice cancellation), ``_NF``
  (non-face-to-face), ``_PT`` (provider travel), ``_RR`` (NDIA-requested report) or ``_TH``
  (telehealth).

Quirks of the real files are accepted: an id with a trailing space, and the non-standard id
``Bereavement`` (plan management bereavement payment, listed by the catalogue under category 14,
registration group 0127).

Examples:
    >>> n = parse_item_number("01_011_0107_1_1")
    >>> n.legacy_category, n.sequence, n.registration_group, n.outcome_domain, n.purpose
    ('01', '011', '0107', '1', 1)
    >>> parse_item_number("15_617_0128_1_3_TH").suffix
    'TH'
    >>> parse_item_number("05_150300111_0123_2_2 ").text
    '05_150300111_0123_2_2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from .errors import InputError
from .models import CATEGORIES

__all__ = [
    "PURPOSES",
    "SUFFIXES",
    "ItemNumber",
    "Purpose",
    "Suffix",
    "parse_item_number",
]

Suffix = Literal["CA", "NF", "PT", "RR", "TH"]
Purpose = Literal[1, 2, 3]

#: Claim-type suffixes of 2026-27 therapy items and what each one claims.
SUFFIXES: Final[dict[str, str]] = {
    "CA": "short notice cancellation",
    "NF": "non-face-to-face",
    "PT": "provider travel",
    "RR": "NDIA-requested report",
    "TH": "telehealth",
}
#: Purpose digit -> name.
PURPOSES: Final[dict[int, str]] = {1: "core", 2: "capital", 3: "capacity_building"}

_PURPOSE_OF: Final[dict[str, Purpose]] = {"1": 1, "2": 2, "3": 3}
_SUFFIX_OF: Final[dict[str, Suffix]] = {"CA": "CA", "NF": "NF", "PT": "PT", "RR": "RR", "TH": "TH"}

_ITEM_RE: Final = re.compile(
    r"^(?P<cat>\d{2})_(?P<seq>\d{3,9})_(?P<reg>\d{4})_(?P<dom>\d)_(?P<pur>\d)"
    r"(?:_(?P<suf>[A-Z]{2}))?$",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class ItemNumber:
    """A parsed support item number.

    Attributes:
        legacy_category: the two-digit prefix, e.g. ``"01"`` (not necessarily the PACE category).
        sequence: ``"011"``, nine digits (ISO 9999 code) for assistive technology, or another
            length of 3 to 9 digits (``"0002"`` in ``05_0002_0103_1_2``).
        registration_group: four digits, e.g. ``"0107"``.
        outcome_domain: one digit.
        purpose: 1 core, 2 capital, 3 capacity building.
        suffix: ``"CA"``, ``"NF"``, ``"PT"``, ``"RR"``, ``"TH"`` or ``None``.
        text: the number as written in the catalogue, whitespace removed.
    """

    legacy_category: str
    sequence: str
    registration_group: str
    outcome_domain: str
    purpose: Purpose
    suffix: Suffix | None
    text: str

    @property
    def purpose_name(self) -> str:
        """``"core"``, ``"capital"`` or ``"capacity_building"``.

        Examples:
            >>> parse_item_number("15_617_0128_1_3").purpose_name
            'capacity_building'
        """
        return PURPOSES[self.purpose]

    @property
    def base(self) -> str:
        """The number without its claim-type suffix.

        Examples:
            >>> parse_item_number("15_617_0128_1_3_CA").base
            '15_617_0128_1_3'
        """
        if self.suffix is None:
            return self.text
        return self.text[: -len(self.suffix) - 1]

    @property
    def is_standard(self) -> bool:
        """False for the catalogue's non-standard ids (``Bereavement``)."""
        return self.text not in _QUIRKS

    def __str__(self) -> str:
        return self.text


_QUIRKS: Final[dict[str, ItemNumber]] = {
    # Listed in the 2025-26 and 2026-27 catalogues as category 14 (Improved Life Choices /
    # Choice and Control), registration group 0127, beside 14_034_0127_8_3 (plan management).
    "Bereavement": ItemNumber("14", "", "0127", "8", 3, None, "Bereavement"),
}


def parse_item_number(value: str, *, source: str | None = None) -> ItemNumber:
    """Parse a support item number (surrounding whitespace is ignored).

    Args:
        value: e.g. ``"01_011_0107_1_1"``, ``"15_617_0128_1_3_TH"`` or ``"Bereavement"``.
        source: named in the error message (a file name), if any.

    Raises:
        InputError: the value is not a support item number; the message says what was expected.

    Examples:
        >>> parse_item_number("Bereavement").legacy_category
        '14'
        >>> parse_item_number("01-011-0107-1-1")
        Traceback (most recent call last):
        ...
        ndis_rules.errors.InputError: not a support item number: '01-011-0107-1-1' ...
    """
    if not isinstance(value, str):
        raise InputError(
            f"a support item number must be text, not {type(value).__name__}", source=source
        )
    text = value.strip()
    quirk = _QUIRKS.get(text)
    if quirk is not None:
        return quirk
    m = _ITEM_RE.match(text)
    if m is None:
        raise InputError(
            f"not a support item number: {value!r} (expected CC_SSS_RRRR_O_P such as "
            "01_011_0107_1_1, optionally with _CA, _NF, _PT, _RR or _TH)",
            source=source,
        )
    problems: list[str] = []
    if m["cat"] not in CATEGORIES:
        problems.append(f"support category {m['cat']} is not 01-21")
    purpose = _PURPOSE_OF.get(m["pur"])
    if purpose is None:
        problems.append(f"purpose {m['pur']} is not 1 (core), 2 (capital) or 3 (capacity building)")
    suffix: Suffix | None = None
    if m["suf"] is not None:
        suffix = _SUFFIX_OF.get(m["suf"])
        if suffix is None:
            problems.append(f"suffix _{m['suf']} is not one of _CA, _NF, _PT, _RR, _TH")
    if problems or purpose is None:
        raise InputError(
            f"not a support item number: {value!r}: " + "; ".join(problems),
            source=source,
            problems=problems,
        )
    return ItemNumber(
        legacy_category=m["cat"],
        sequence=m["seq"],
        registration_group=m["reg"],
        outcome_domain=m["dom"],
        purpose=purpose,
        suffix=suffix,
        text=text,
    )
