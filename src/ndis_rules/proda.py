"""The PRODA port: the participant reference and the plan PRODA holds; the gateway Protocol
(:mod:`ndis_rules.ports`) and the typed errors every gateway adapter raises
(:mod:`ndis_rules.errors`) are re-exported here (spec/bookings.md "Ports and adapters").

An adapter translates its transport's failures into these errors, never anything else: the
batch sync relies on it (a :class:`GatewayError` is a participant's failure, any other exception
is a bug). An adapter must also change nothing when it raises.

Examples:
    >>> from datetime import date
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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import (
    BookingNotFound,
    GatewayError,
    GatewayPayloadError,
    GatewayRefused,
    GatewayTimeout,
    GatewayUnavailable,
)
from .models import IsoDate
from .ports import ProdaGateway

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
