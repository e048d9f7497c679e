"""Ports: every ``typing.Protocol`` of ndis-rules, in one place (issue 11).

The outside world (clock, PACE, PRODA, contract storage, public holidays) and the structural
types the core accepts are declared here. The core never calls a port itself: the service shell
reads them once and passes plain values in. Each port has a contract test suite every adapter
subclasses (:mod:`ndis_rules.testing.contracts`).

The old paths (``ndis_rules.proda.ProdaGateway``, ``ndis_rules.daytypes.HolidayCalendar``,
``ndis_rules.periods.PeriodLike``) re-export these.

This module imports nothing from the rest of the package at run time (the types named in the
signatures are for the type checker only), so every module may import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from .book import (
        BookChanges,
        BookingRecord,
        BookSnapshot,
        ChangeSetRecord,
        CheckBatch,
        JournalEntry,
        PlanSnapshot,
        UploadFile,
    )
    from .bookings import BookingRequest, ServiceBooking
    from .models import Contract
    from .money import Money
    from .pace import PacePlan, ParticipantRef
    from .proda import Participant, ProdaPlan

__all__ = [
    "BatchOutcome",
    "BatchResultLike",
    "BookStore",
    "Clock",
    "ContractRepository",
    "HasNdisNumber",
    "HolidayCalendar",
    "PacePlanSource",
    "PeriodLike",
    "ProdaGateway",
]

#: What a batch job (:mod:`ndis_rules.services.batch`) did for one participant.
BatchOutcome = Literal["success", "failed", "uncompleted", "no_active_contract"]

_P_co = TypeVar("_P_co", covariant=True)


class Clock(Protocol):
    """Supplies *today*: the local date in the configured zone."""

    def today(self) -> date:
        """Today's date."""
        ...


class HolidayCalendar(Protocol):
    """Tells whether a date is a public holiday in a state or territory (``NSW``, ``VIC``...)."""

    def is_public_holiday(self, d: date, state: str) -> bool:
        """True when ``d`` is a public holiday in ``state``."""
        ...


class PeriodLike(Protocol):
    """Anything with inclusive ``start`` / ``end_inclusive`` dates (funding periods, budgets)."""

    @property
    def start(self) -> date: ...

    @property
    def end_inclusive(self) -> date: ...


class PacePlanSource(Protocol):
    """The PACE plan source (a PACE gateway, or files): a participant's plans.

    Failures are typed (:mod:`ndis_rules.errors`): ``SourceTimeout``, ``SourceRefused``,
    ``SourceNotAuthorised`` (no plan manager or provider relationship), ``SourcePayloadError``
    (malformed plan, naming the field) and ``ParticipantNotFound``.
    """

    def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
        """The participant's PACE plans; the lookup needs NDIS number, last name and date of
        birth."""
        ...


class ContractRepository(Protocol):
    """Stores service contracts with optimistic versioning.

    ``save(contract, expected_version)`` succeeds only when the stored version is
    ``expected_version`` (``None``: the contract must not exist yet); the stored contract then
    carries version ``expected_version + 1`` (a new one keeps its own version) and is returned.
    Otherwise it raises ``StaleContractError`` and nothing is written. Failures are
    ``StoreError`` subclasses; no backend exception escapes.
    """

    def get(self, contract_id: str) -> Contract:
        """The stored contract; ``ContractNotFound`` when there is none."""
        ...

    def save(self, contract: Contract, expected_version: int | None) -> Contract:
        """Write the contract if the stored version is still ``expected_version``; returns the
        contract as stored (with its new version)."""
        ...

    def ids(self) -> list[str]:
        """The stored contract ids, sorted."""
        ...

    def delete(self, contract_id: str, expected_version: int | None = None) -> None:
        """Remove a contract (checking its version when ``expected_version`` is given);
        ``ContractNotFound`` when there is none."""
        ...


class BookStore(Protocol):
    """The plan manager's book (spec/book.md): contracts with their versions, plan snapshots,
    change sets, check batches, claim lines, PRODA booking ids and an append-only journal.

    Reads return what one consistent state of the book holds. ``commit(changes, expected)``
    writes everything in ``changes`` in one transaction only when the book's version is still
    ``expected`` (and every contract is still at the version the change names); the book's
    version is then ``expected + 1`` and the journal entry is appended with the next sequence
    number. Otherwise it raises ``StaleBookError`` (or ``StaleContractError``) and writes
    nothing. Failures are ``StoreError`` subclasses; no backend exception escapes.
    """

    def snapshot(self) -> BookSnapshot:
        """The book's version, contracts and claim lines, read together."""
        ...

    def contract_at(self, contract_id: str, version: int) -> Contract:
        """A contract as it was at one version; ``BookRecordNotFound`` when never stored."""
        ...

    def change_set(self, change_set_id: str) -> ChangeSetRecord:
        """A saved change set; ``BookRecordNotFound`` when there is none."""
        ...

    def plan_snapshots(self, plan_id: str) -> list[PlanSnapshot]:
        """The snapshots of one PACE plan, oldest first."""
        ...

    def plan_snapshot(self, snapshot_id: str) -> PlanSnapshot:
        """One plan snapshot; ``BookRecordNotFound`` when there is none."""
        ...

    def batch(self, batch_id: str) -> CheckBatch:
        """A stored check batch; ``BookRecordNotFound`` when there is none."""
        ...

    def bookings(self) -> list[BookingRecord]:
        """The PRODA booking ids held, by booking id."""
        ...

    def uploads(self, submission: str) -> list[UploadFile]:
        """The upload files one submission wrote, by name."""
        ...

    def journal(self) -> list[JournalEntry]:
        """Every journal entry, oldest first."""
        ...

    def commit(self, changes: BookChanges, expected_version: int) -> int:
        """Write ``changes`` if the book is still at ``expected_version``; the new version."""
        ...

    def close(self) -> None:
        """Release the store's resources."""


class ProdaGateway(Protocol):
    """PRODA service bookings, through a registration such as HICAPS/LanternPay.

    Every method raises a ``GatewayError`` (:mod:`ndis_rules.errors`) on failure and then has
    changed nothing.
    """

    def find_plan(self, participant: Participant) -> ProdaPlan:
        """The participant's current plan; ``GatewayRefused`` when the NDIS number, name or
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


class HasNdisNumber(Protocol):
    """A participant as a batch job selects them: by NDIS number (PRODA's ``Participant``,
    PACE's ``ParticipantRef``)."""

    @property
    def ndis_number(self) -> str: ...


class BatchResultLike(Protocol[_P_co]):
    """What a batch job did for one participant, as the shared counters and reports read it."""

    @property
    def participant(self) -> _P_co: ...

    @property
    def outcome(self) -> BatchOutcome: ...

    @property
    def contract_id(self) -> str | None: ...

    @property
    def message(self) -> str: ...
