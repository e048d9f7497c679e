"""Booking-planning scenarios (``kind: bookings``): a contract, and the bookings and findings
:func:`~ndis_rules.bookings.plan_bookings` must give for it. The format is in ``docs/bookings.md``.

Examples:
    >>> run_booking_scenario({
    ...     "kind": "bookings", "name": "one agency budget",
    ...     "contract": {"id": "C1", "participant": "430000001", "pace": False,
    ...                  "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": "900.00",
    ...                  "budgets": [{"category": "01", "management": "agency",
    ...                               "total": "900.00", "requires_booking": True}]},
    ...     "expect": {"bookings": [{"source": "budget:01:agency", "type": "standard",
    ...                              "amount": "900.00"}], "findings": []}})
    []
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..bookings import BookingRequest, plan_bookings
from ..errors import InputError, input_error_from
from ..models import Contract
from ..money import Money

__all__ = ["BOOKING_KEYS", "run_booking_scenario"]

#: The keys an expected booking may give (any subset).
BOOKING_KEYS: Final = (
    "source",
    "source_kind",
    "source_id",
    "type",
    "amount",
    "category",
    "item",
    "provider",
    "start",
    "end_inclusive",
)


class _Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bookings: list[dict[str, Any]] | None = None
    findings: list[str] | None = None


class _Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["bookings"] = "bookings"
    name: str
    description: str | None = None
    reference: str | None = None
    contract: Contract
    plan_manager: str | None = None
    expect: _Expect = _Expect()


def _actual(request: BookingRequest, key: str) -> str | None:
    value: object
    match key:
        case "source":
            value = request.source
        case "amount":
            value = request.amount
        case _:
            value = getattr(request, key)
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _expected(key: str, value: object) -> str | None:
    if value is None:
        return None
    if key == "amount":
        return str(Money.parse(value))
    if key == "category" and isinstance(value, int):
        return f"{value:02d}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def run_booking_scenario(data: Mapping[str, Any]) -> list[str]:
    """Run one parsed booking scenario; the mismatches, as sentences (empty: it passes).

    Keys: ``name``, ``contract`` (a contract, inline), optional ``plan_manager``,
    ``description``, ``reference`` and ``kind`` (``bookings``), and ``expect`` with
    ``bookings`` (a list of partial bookings, keys from :data:`BOOKING_KEYS`; matched by
    ``source`` when given, else by position; the count must match) and ``findings`` (finding
    codes, compared as a multiset). A key left out is not checked.

    Raises:
        InputError: the scenario itself is malformed (an unknown key, a bad contract).
    """
    name = str(data.get("name", "<unnamed>"))
    try:
        scenario = _Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise input_error_from(exc, source=f"scenario {name!r}") from None
    plan = plan_bookings(scenario.contract, plan_manager=scenario.plan_manager)
    mismatches: list[str] = []

    if scenario.expect.bookings is not None:
        expected = scenario.expect.bookings
        actual = list(plan.requests)
        if len(expected) != len(actual):
            mismatches.append(
                f"bookings: expected {len(expected)}, got {len(actual)} "
                f"({', '.join(r.source for r in actual) or 'none'})"
            )
        used: set[int] = set()
        for n, exp in enumerate(expected):
            unknown = sorted(set(exp) - set(BOOKING_KEYS))
            if unknown:
                raise InputError(
                    f"expect.bookings[{n}]: unknown key(s) {', '.join(unknown)} "
                    f"(expected some of: {', '.join(BOOKING_KEYS)})",
                    source=f"scenario {name!r}",
                )
            index: int | None
            if "source" in exp:
                index = next(
                    (
                        i
                        for i, r in enumerate(actual)
                        if i not in used and r.source == str(exp["source"])
                    ),
                    None,
                )
                label = f"booking {exp['source']}"
            else:
                index = n if n < len(actual) and n not in used else None
                label = f"booking #{n + 1}"
            if index is None:
                mismatches.append(f"{label}: expected, not planned")
                continue
            used.add(index)
            for key, value in exp.items():
                want = _expected(key, value)
                got = _actual(actual[index], key)
                if want != got:
                    mismatches.append(f"{label}: {key} expected {want}, got {got}")

    if scenario.expect.findings is not None:
        want_codes = sorted(scenario.expect.findings)
        got_codes = sorted(plan.codes)
        if want_codes != got_codes:
            mismatches.append(f"findings: expected {want_codes}, got {got_codes}")
    return mismatches
