"""An in-memory PACE plan source with scriptable faults, for tests and demos.

Examples:
    >>> from datetime import date
    >>> who = ParticipantRef(ndis_number="430000001", last_name="Citizen",
    ...                      date_of_birth=date(1990, 1, 31))
    >>> source = InMemoryPaceSource()
    >>> source.add_participant(who, [PacePlan.model_validate({"plan_id": "P1",
    ...     "ndis_number": "430000001", "start": "2025-07-01", "end_inclusive": "2026-06-30",
    ...     "total": "0"})])
    >>> [p.plan_id for p in source.plans_for(who)]
    ['P1']
    >>> source.fail_next("timeout")
    >>> source.plans_for(who)
    Traceback (most recent call last):
    ...
    ndis_rules.errors.SourceTimeout: PACE did not answer in time (scripted fault)
    >>> len(source.plans_for(who)), source.calls
    (1, 3)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..errors import (
    ParticipantNotFound,
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
)
from ..pace import PacePlan, ParticipantRef

__all__ = ["Fault", "InMemoryPaceSource"]

#: A scripted failure of the source.
Fault = Literal["timeout", "refused", "not_authorised", "payload"]


def _fault_error(fault: Fault) -> SourceError:
    match fault:
        case "timeout":
            return SourceTimeout("PACE did not answer in time (scripted fault)")
        case "refused":
            return SourceRefused("PACE refused the connection (scripted fault)")
        case "not_authorised":
            return SourceNotAuthorised(
                "not authorised for this participant: no plan manager relationship in PACE "
                "(scripted fault)"
            )
        case "payload":
            return SourcePayloadError("malformed plan payload (scripted fault)", source="memory")


@dataclass
class _Entry:
    who: ParticipantRef
    plans: list[PacePlan]
    authorised: bool


@dataclass
class InMemoryPaceSource:
    """Plans held in a dict by NDIS number. Faults are scripted: :meth:`fail_next` queues one
    failure per call, :meth:`fail_always` fails every call until :meth:`recover`. A participant
    added with ``authorised=False`` raises ``SourceNotAuthorised``. ``calls`` counts lookups."""

    _entries: dict[str, _Entry] = field(default_factory=dict, init=False)
    _queued: list[Fault] = field(default_factory=list, init=False)
    _always: Fault | None = field(default=None, init=False)
    calls: int = field(default=0, init=False)

    def add_participant(
        self, who: ParticipantRef, plans: Iterable[PacePlan], *, authorised: bool = True
    ) -> None:
        """Hold ``plans`` for the participant (replacing any held before)."""
        self._entries[who.ndis_number] = _Entry(who, list(plans), authorised)

    def fail_next(self, *faults: Fault) -> None:
        """The next calls fail with these faults, one per call, in order."""
        self._queued.extend(faults)

    def fail_always(self, fault: Fault) -> None:
        """Every call fails with ``fault`` until :meth:`recover`."""
        self._always = fault

    def recover(self) -> None:
        """Clear every scripted fault."""
        self._queued.clear()
        self._always = None

    def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
        """The participant's plans (copies of the list; the plans themselves are immutable)."""
        self.calls += 1
        if self._queued:
            raise _fault_error(self._queued.pop(0))
        if self._always is not None:
            raise _fault_error(self._always)
        entry = self._entries.get(participant.ndis_number)
        if entry is None or not entry.who.matches(
            participant.ndis_number, participant.last_name, participant.date_of_birth
        ):
            raise ParticipantNotFound(
                "no PACE participant matches this NDIS number, last name and date of birth"
            )
        if not entry.authorised:
            raise SourceNotAuthorised(
                f"not authorised for participant {participant.ndis_number}: no plan manager or "
                "provider relationship in PACE"
            )
        return list(entry.plans)
