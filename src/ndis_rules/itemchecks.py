"""Checks of a claim line against the NDIS Support Catalogue and the claim-type rules
(spec/validation.md section 8; spec/claims-files.md). Pure: each returns the conditions it found
as ``(code, facts)`` pairs, and :mod:`ndis_rules.rules` turns them into findings.

Examples:
    >>> from ndis_rules.models import ClaimLine
    >>> line = ClaimLine.model_validate({"id": "L1", "from": "2025-08-04", "to": "2025-08-04",
    ...     "item": "01_011_0107_1_1", "quantity": "1", "unit_price": "70.23",
    ...     "claim_type": "CANC"})
    >>> [code for code, _ in cancellation_findings(line)]
    ['CANCELLATION_REASON_REQUIRED']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from .catalogue import Catalogue, CatalogueItem, RegionError
from .codes import Code
from .daytypes import HolidayCalendar, NoHolidays, day_type, item_day_type
from .editions import CatalogueSet
from .models import ClaimLine

__all__ = [
    "CANCELLATION_REASONS",
    "CLAIM_TYPES",
    "CatalogueContext",
    "cancellation_findings",
    "catalogue_findings",
    "coverage_findings",
    "price_findings",
]

Conditions = list[tuple[Code, dict[str, str]]]

#: Claim types of the bulk payment request (blank = a direct service).
CLAIM_TYPES: Final = frozenset({"", "CANC", "REPW", "TRAN", "NF2F", "THLT", "IRSS"})
#: Short-notice cancellation reasons (only with claim type CANC).
CANCELLATION_REASONS: Final = frozenset({"NSDH", "NSDF", "NSDT", "NSDO"})
_MAX_DAYS_CHECKED: Final = 366


@dataclass(frozen=True)
class CatalogueContext:
    """The catalogue a validation uses, and where the participant is: ``region`` picks the price
    column (a state code, ``national``, ``remote`` or ``very_remote``), ``state`` the public
    holidays (``holidays`` calendar; without one, only weekends are known).

    When ``catalogue`` is a :class:`~ndis_rules.editions.CatalogueSet` (several files, or one
    with its effective dates), a line with a date no edition covers gets
    ``NO_CATALOGUE_FOR_DATE`` instead of the catalogue checks."""

    catalogue: Catalogue
    region: str = "national"
    state: str | None = None
    holidays: HolidayCalendar = field(default_factory=NoHolidays)


def _days(line: ClaimLine) -> Iterator[date]:
    d, n = line.from_, 0
    while d <= line.to and n < _MAX_DAYS_CHECKED:
        yield d
        d += timedelta(days=1)
        n += 1


def cancellation_findings(line: ClaimLine) -> Conditions:
    """``CANCELLATION_REASON_REQUIRED``: claim type CANC without one of NSDH, NSDF, NSDT, NSDO,
    or a reason without CANC. An unknown claim type is ``CLAIM_TYPE_NOT_ALLOWED``."""
    claim_type = line.claim_type.strip().upper()
    reason = (line.cancellation_reason or "").strip().upper()
    out: Conditions = []
    if claim_type not in CLAIM_TYPES:
        out.append(
            (
                "CLAIM_TYPE_NOT_ALLOWED",
                {
                    "claim_type": claim_type,
                    "item": line.item.strip(),
                    "reason": "it is not a claim type of the bulk payment request",
                },
            )
        )
    if claim_type == "CANC" and reason not in CANCELLATION_REASONS:
        out.append(
            (
                "CANCELLATION_REASON_REQUIRED",
                {
                    "claim_type": claim_type,
                    "reason": reason or "none",
                    "problem": "a cancellation (CANC) needs a reason: NSDH, NSDF, NSDT or NSDO",
                },
            )
        )
    elif claim_type != "CANC" and reason:
        out.append(
            (
                "CANCELLATION_REASON_REQUIRED",
                {
                    "claim_type": claim_type or "blank",
                    "reason": reason,
                    "problem": "a cancellation reason is only given with claim type CANC",
                },
            )
        )
    return out


def catalogue_item(
    ctx: CatalogueContext, line: ClaimLine
) -> tuple[CatalogueItem | None, Conditions]:
    """The catalogue version in force on the line's dates, or the finding why there is none:
    ``UNKNOWN_SUPPORT_ITEM`` (never listed) or ``ITEM_NOT_VALID_ON_DATE``."""
    number = line.item.strip()
    versions = ctx.catalogue.versions(number)
    if not versions:
        return None, [("UNKNOWN_SUPPORT_ITEM", {"item": number, "from": str(line.from_)})]
    first = ctx.catalogue.item(number, line.from_)
    last = ctx.catalogue.item(number, line.to)
    if first is None or last is None:
        ranges = ", ".join(f"{v.start} to {v.end_inclusive}" for v in versions)
        return None, [
            (
                "ITEM_NOT_VALID_ON_DATE",
                {
                    "item": number,
                    "from": str(line.from_),
                    "to": str(line.to),
                    "valid": ranges,
                },
            )
        ]
    return first, []


def catalogue_findings(
    ctx: CatalogueContext, line: ClaimLine
) -> tuple[CatalogueItem | None, Conditions]:
    """Item validity on the dates, claim type allowed by the item's flags, and day type; for a
    :class:`~ndis_rules.editions.CatalogueSet`, first that a catalogue covers the dates."""
    gap = coverage_findings(ctx, line)
    if gap:
        return None, gap
    item, out = catalogue_item(ctx, line)
    if item is None:
        return None, out
    claim_type = line.claim_type.strip().upper()
    if claim_type:
        flag = item.claim_type_flag(claim_type)
        if flag in ("N", "NA"):
            out.append(
                (
                    "CLAIM_TYPE_NOT_ALLOWED",
                    {
                        "claim_type": claim_type,
                        "item": item.number,
                        "reason": f"the catalogue flag for it is {flag}",
                    },
                )
            )
    expected = item_day_type(item)
    if expected is not None:
        for d in _days(line):
            actual = day_type(d, ctx.state or "", ctx.holidays)
            if actual != expected:
                out.append(
                    (
                        "DAY_TYPE_MISMATCH",
                        {
                            "item": item.number,
                            "expected": expected.value.replace("_", " "),
                            "day": str(d),
                            "actual": actual.value.replace("_", " "),
                            "state": f"in {ctx.state}"
                            if ctx.state
                            else "no state given: public holidays unknown",
                        },
                    )
                )
                break
    return item, out


def coverage_findings(ctx: CatalogueContext, line: ClaimLine) -> Conditions:
    """``NO_CATALOGUE_FOR_DATE`` when a day of the line is covered by none of the catalogue
    editions given (only for a :class:`~ndis_rules.editions.CatalogueSet`)."""
    catalogue = ctx.catalogue
    if not isinstance(catalogue, CatalogueSet):
        return []
    day = catalogue.uncovered(line.from_, max(line.from_, line.to))
    if day is None:
        return []
    return [
        (
            "NO_CATALOGUE_FOR_DATE",
            {
                "day": str(day),
                "from": str(line.from_),
                "to": str(line.to),
                "covered": catalogue.covered_text(),
            },
        )
    ]


def price_findings(
    ctx: CatalogueContext, item: CatalogueItem, line: ClaimLine, management: str
) -> Conditions:
    """``PRICE_ABOVE_LIMIT`` on agency- or plan-managed funds (self-managed is exempt;
    quotable items and items without a price have no limit)."""
    if management == "self":
        return []
    if line.to > line.from_:  # a line over two catalogue years meets both years' limits
        later = ctx.catalogue.item(item.number, line.to)
        if later is not None and later != item:
            found = _price_findings(ctx, item, line)
            return found or _price_findings(ctx, later, line)
    return _price_findings(ctx, item, line)


def _price_findings(ctx: CatalogueContext, item: CatalogueItem, line: ClaimLine) -> Conditions:
    try:
        limit = item.price(ctx.region)
    except RegionError as exc:
        return [
            (
                "PRICE_ABOVE_LIMIT",
                {
                    "item": item.number,
                    "unit_price": str(line.unit_price),
                    "limit": "unknown",
                    "region": ctx.region,
                    "note": str(exc),
                },
            )
        ]
    if limit is None or line.unit_price <= limit:
        return []
    return [
        (
            "PRICE_ABOVE_LIMIT",
            {
                "item": item.number,
                "unit_price": str(line.unit_price),
                "limit": str(limit),
                "region": ctx.region,
                "note": f"the NDIA pays at most {limit}",
            },
        )
    ]
