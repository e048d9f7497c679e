"""The PRODA port: the participant reference, the plan PRODA holds, the gateway Protocol, and the
typed errors every gateway adapter raises (spec/bookings.md "Ports and adapters").

An adapter translates its transport's failures into these errors, never anything else: the
batch sync relies on it (a :class:`GatewayError` is a participant's failure, any other exception
is a bug). An adapter must also change nothing when it raises.

Examples:
    >>> p = Participant(ndis_number="430000001", name="Citizen", date_of_birth=date(1990, 1, 2))
    >>> p.matches(Participant(ndis_number="430000001", name="CITIZEN",
    ...                       date_of_birth=date(1990, 1, 2)))
    []
    >>> GatewayRefused("date of birth does not match").reason
    'date of birth does not match'
    >>> GatewayTimeout("find_plan").transient, GatewayRefused("x").transient
    (True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .bookings import BookingRequest, ServiceBooking
from .errors import NdisRulesError
from .models import IsoDate
from .money import Money

__all__ = [
    "BookingNotFound",
    "GatewayError",
    "GatewayPayloadError",
    "GatewayRefused",
    "GatewayTimeout",
    "GatewayUnavailable",
    "Participant",
    "ProdaGateway",
    "ProdaPlan",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Participant(_Model):
    """A participant as PRODA looks them up: NDIS number, (last) name and date of birth."""

    ndis_number: str = Field(min_length=1)
    name: str = Field(min_length=1, description="the participant's (last) name")
    date_of_birth: IsoDate

    @property
    def label(self) -> str:
        """``"<name> (<NDIS number>)"`` for messages."""
        return f"{self.name} ({self.ndis_number})"

    def matches(self, other: Participant) -> list[str]:
        """What does not match between two participant records (empty: they match). Names
        compare case- and space-insensitively."""
        problems: list[str] = []
        if self.ndis_number.strip() != other.ndis_number.strip():
            problems.append("NDIS number does not match")
        if " ".join(self.name.split()).casefold() != " ".join(other.name.split()).casefold():
            problems.append("name does not match")
        if self.date_of_birth != other.date_of_birth:
            problems.append("date of birth does not match")
        return problems


class ProdaPlan(_Model):
    """The participant's current plan as PRODA holds it."""

    participant: str = Field(min_length=1, description="participant NDIS number")
    plan_id: str | None = None
    start: IsoDate
    end_inclusive: IsoDate

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProdaPlan:
        if self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self


class GatewayError(NdisRulesError, RuntimeError):
    """A PRODA gateway call failed; nothing was changed. ``transient`` errors may be retried."""

    transient: ClassVar[bool] = False


class GatewayTimeout(GatewayError, TimeoutError):
    """The gateway did not answer in time (may be retried)."""

    transient: ClassVar[bool] = True


class GatewayUnavailable(GatewayError, ConnectionError):
    """The gateway could not be reached (may be retried)."""

    transient: ClassVar[bool] = True


class GatewayRefused(GatewayError):
    """PRODA refused the call, with its reason (e.g. "date of birth does not match")."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class GatewayPayloadError(GatewayError, ValueError):
    """The gateway answered with something that is not what the call returns (not JSON, or a
    field that cannot be mapped, named in the message). Not retried: the call may have taken
    effect, so look before repeating it."""


class BookingNotFound(GatewayError, LookupError):
    """No booking with that id in PRODA."""

    def __init__(self, booking_id: str) -> None:
        self.booking_id = booking_id
        super().__init__(f"no service booking {booking_id!r} in PRODA")


class ProdaGateway(Protocol):
    """PRODA service bookings, through a registration such as HICAPS/LanternPay.

    Every method raises a :class:`GatewayError` on failure and then has changed nothing.
    """

    def find_plan(self, participant: Participant) -> ProdaPlan:
        """The participant's current plan; :class:`GatewayRefused` when the NDIS number, name or
        date of birth does not match, or PRODA holds no plan."""
        ...

    def create_booking(
        self, request: BookingRequest, *, idempotency_key: str | None = None
    ) -> ServiceBooking:
        """Create a booking for a request; the answer is usually ``pending`` (``INPR``).

        With an ``idempotency_key`` already used by an earlier create, nothing new is made: the
        answer is the booking that create made, with ``replayed`` set. The answer holds only what
        PRODA knows (see :func:`~ndis_rules.bookings.booking_from_proda`)."""
        ...

    def refresh_booking(self, booking_id: str) -> ServiceBooking:
        """The booking's current state in PRODA."""
        ...

    def update_end_date(self, booking_id: str, end_inclusive: date) -> ServiceBooking:
        """Move a booking's end date (later: an extension; earlier: ending it early)."""
        ...

    def update_amount(self, booking_id: str, amount: Money) -> ServiceBooking:
        """Change the amount of a category-level booking (PRODA refuses it for a booking of a
        support item: end it and make a new one instead)."""
        ...

    def end_booking(self, booking_id: str) -> ServiceBooking:
        """Delete an unused booking (``DELE``); refused when it has payment requests."""
        ...

    def list_bookings(self, participant: Participant) -> Sequence[ServiceBooking]:
        """Every booking PRODA holds for the participant, made through this registration."""
        ...
