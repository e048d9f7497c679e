"""Shared builders for the booking tests (imported by the test modules of this folder)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ndis_rules.bookings import BookingRequest, ServiceBooking
from ndis_rules.models import Contract
from ndis_rules.money import Money
from ndis_rules.proda import Participant, ProdaPlan

PLAN_START = date(2025, 7, 1)
PLAN_END = date(2026, 6, 30)
TODAY = date(2025, 9, 1)


def participant(n: int = 1, name: str = "Citizen", dob: date = date(1990, 1, 2)) -> Participant:
    """Participant number ``n`` (NDIS number 43000000n)."""
    return Participant(ndis_number=f"4300{n:05d}", name=name, date_of_birth=dob)


def proda_plan(p: Participant, start: date = PLAN_START, end: date = PLAN_END) -> ProdaPlan:
    """PRODA's plan for a participant."""
    return ProdaPlan(
        participant=p.ndis_number, plan_id=f"PLAN-{p.ndis_number}", start=start, end_inclusive=end
    )


def contract(**fields: Any) -> Contract:
    """A legacy contract for participant 1 over the plan dates; ``fields`` override."""
    data: dict[str, Any] = {
        "id": "C1",
        "participant": "430000001",
        "pace": False,
        "start": PLAN_START.isoformat(),
        "end_inclusive": PLAN_END.isoformat(),
        "total": "10000.00",
    }
    data.update(fields)
    return Contract.model_validate(data)


def budget(
    category: str, management: str = "agency", total: str = "1000.00", **fields: Any
) -> dict[str, Any]:
    """A category budget (as JSON) that requires a booking unless told otherwise."""
    return {
        "category": category,
        "management": management,
        "total": total,
        "requires_booking": True,
        **fields,
    }


def support(
    sid: str, item: str, category: str, quantity: str = "1", rate: str = "100.00", **fields: Any
) -> dict[str, Any]:
    """A support item budget (as JSON) that requires a booking unless told otherwise."""
    return {
        "id": sid,
        "item": item,
        "category": category,
        "quantity": quantity,
        "rate": rate,
        "requires_booking": True,
        **fields,
    }


PM_FEES = [
    support("PM-SETUP", "14_033_0127_8_3", "14", rate="232.35", management="agency"),
    support(
        "PM-MONTHLY", "14_034_0127_8_3", "14", quantity="12", rate="104.45", management="agency"
    ),
]


def request(**fields: Any) -> BookingRequest:
    """A standard booking request for budget 01:agency of C1."""
    data: dict[str, Any] = {
        "contract_id": "C1",
        "participant": "430000001",
        "source_kind": "budget",
        "source_id": "01:agency",
        "category": "01",
        "type": "standard",
        "start": date(2025, 7, 1),
        "end_inclusive": date(2026, 3, 31),
        "amount": Money.parse("900.00"),
    }
    data.update(fields)
    return BookingRequest.model_validate(data)


def booking(code: str = "APPR", **fields: Any) -> ServiceBooking:
    """Booking SB1 for :func:`request`, with PRODA status ``code``; ``fields`` override."""
    b = ServiceBooking.from_request("SB1", request(), code)
    return b.model_copy(update=fields) if fields else b
