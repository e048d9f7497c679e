"""An in-memory PRODA gateway: a fake for tests, with scriptable faults and call counts.

It answers only what PRODA knows: a booking's own id, participant, category/item, booking type,
dates, amount and status, never our contract id or source (its request is ``external``, see
:func:`~ndis_rules.bookings.booking_from_proda`). A create with an idempotency key used before
makes nothing and answers the booking that key made (``replayed``). Every call holds one lock, so
batches on threads see one consistent PRODA.

It behaves like PRODA as spec/bookings.md describes it: a plan is found only when the NDIS number,
name and date of birth match; a new booking is pending (``INPR``) and a refresh approves it
(``APPR``, unless ``auto_approve=False``); an inactive booking cannot be changed; a booking with
payment requests cannot be deleted; the end date may be brought forward once. Faults are checked
before anything else, so a failing call changes nothing (the calls are still counted).

Examples:
    >>> from datetime import date
    >>> p = Participant(ndis_number="430000001", name="Citizen", date_of_birth=date(1990, 1, 2))
    >>> gw = InMemoryProdaGateway()
    >>> gw.register(p, ProdaPlan(participant="430000001", start=date(2025, 7, 1),
    ...                          end_inclusive=date(2026, 6, 30)))
    >>> gw.timeout("find_plan", times=1)
    >>> gw.find_plan(p)
    Traceback (most recent call last):
    ...
    ndis_rules.errors.GatewayTimeout: find_plan timed out (scripted)
    >>> gw.find_plan(p).end_inclusive, gw.calls["find_plan"]
    (datetime.date(2026, 6, 30), 2)
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, TypeVar, cast

from ..bookings import BookingRequest, ServiceBooking, booking_from_proda, status_from_proda
from ..money import Money
from ..proda import (
    BookingNotFound,
    GatewayRefused,
    GatewayTimeout,
    GatewayUnavailable,
    Participant,
    ProdaGateway,
    ProdaPlan,
)

__all__ = ["STATE_KEYS", "Fault", "FaultKind", "InMemoryProdaGateway", "Method"]

Method = Literal[
    "find_plan",
    "create_booking",
    "refresh_booking",
    "update_end_date",
    "update_amount",
    "end_booking",
    "list_bookings",
]
FaultKind = Literal["timeout", "unavailable", "refuse", "reject"]

_PENDING = frozenset({"INPR", "APAP", "APRO", "APAC", "APRC"})
#: The top-level keys of the stored state (``to_state``), and the JSON store's ``revision``.
STATE_KEYS = frozenset(
    {"version", "next_id", "participants", "plans", "bookings", "idempotency", "revision"}
)

P = ParamSpec("P")
R = TypeVar("R")


def _locked(
    method: Callable[Concatenate[InMemoryProdaGateway, P], R],
) -> Callable[Concatenate[InMemoryProdaGateway, P], R]:
    """Run a port method under the gateway's lock (one consistent PRODA for threads)."""

    @wraps(method)
    def run(self: InMemoryProdaGateway, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast("Callable[Concatenate[InMemoryProdaGateway, P], R]", run)


def _as_proda_holds(booking: ServiceBooking, **changes: Any) -> ServiceBooking:
    """``booking`` (with ``changes``) reduced to what PRODA knows."""
    r = booking.request
    fields: dict[str, Any] = {
        "participant": r.participant or "",
        "category": r.category,
        "item": r.item,
        "type": r.type,
        "start": booking.start,
        "end_inclusive": booking.end_inclusive,
        "amount": r.amount,
        "proda_code": booking.proda_code,
        "reason": booking.reason,
        "provider": r.provider,
        "has_payments": booking.has_payments,
        "ended_early": booking.ended_early,
    }
    fields.update(changes)
    return booking_from_proda(booking.booking_id, **fields)


@dataclass(slots=True)
class Fault:
    """A scripted fault: ``kind`` on calls to ``method`` (for one participant, or all), ``times``
    times (``None``: always). ``reject`` (create only) answers with a ``REJT`` booking instead of
    raising."""

    method: Method
    kind: FaultKind
    times: int | None = None
    reason: str = ""
    participant: str | None = None


class InMemoryProdaGateway:
    """A :class:`~ndis_rules.proda.ProdaGateway` held in dictionaries."""

    def __init__(
        self,
        participants: Iterable[tuple[Participant, ProdaPlan | None]] = (),
        *,
        auto_approve: bool = True,
        id_prefix: str = "SB",
    ) -> None:
        self.participants: dict[str, Participant] = {}
        self.plans: dict[str, ProdaPlan] = {}
        self.bookings: dict[str, ServiceBooking] = {}
        self.auto_approve = auto_approve
        self.id_prefix = id_prefix
        self.next_id = 1
        #: idempotency key -> the booking id its first create made
        self.idempotency: dict[str, str] = {}
        self._lock = threading.RLock()
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        for participant, plan in participants:
            self.register(participant, plan)

    # -- set-up and scripting ---------------------------------------------------------------
    def register(self, participant: Participant, plan: ProdaPlan | None = None) -> None:
        """Make PRODA know a participant (and their current plan)."""
        self.participants[participant.ndis_number] = participant
        if plan is not None:
            self.plans[participant.ndis_number] = plan

    def add_fault(self, fault: Fault) -> None:
        """Script a fault (checked in the order added)."""
        self.faults.append(fault)

    def timeout(
        self, method: Method, *, times: int | None = None, participant: str | None = None
    ) -> None:
        """Time out ``times`` calls to ``method`` (``None``: every call), then answer normally."""
        self.add_fault(Fault(method, "timeout", times, participant=participant))

    def unavailable(
        self, method: Method, *, times: int | None = None, participant: str | None = None
    ) -> None:
        """Fail to connect on ``times`` calls to ``method`` (``None``: every call)."""
        self.add_fault(Fault(method, "unavailable", times, participant=participant))

    def refuse(
        self,
        method: Method,
        reason: str,
        *,
        times: int | None = None,
        participant: str | None = None,
    ) -> None:
        """Refuse calls to ``method`` with ``reason`` (:class:`GatewayRefused`)."""
        self.add_fault(Fault(method, "refuse", times, reason, participant))

    def reject_bookings(
        self, reason: str, *, times: int | None = None, participant: str | None = None
    ) -> None:
        """Answer ``create_booking`` with a rejected (``REJT``) booking carrying ``reason``."""
        self.add_fault(Fault("create_booking", "reject", times, reason, participant))

    def clear_faults(self) -> None:
        """Remove every scripted fault."""
        self.faults.clear()

    @_locked
    def set_status(self, booking_id: str, code: str, reason: str | None = None) -> ServiceBooking:
        """Set a booking's PRODA status directly (as PRODA itself would), e.g. ``CMPD``."""
        status_from_proda(code)  # an unknown code is a typed error
        updated = _as_proda_holds(self._get(booking_id), proda_code=code, reason=reason)
        self.bookings[booking_id] = updated
        return updated

    def make_inactive(self, booking_id: str, code: Literal["CMPD", "DELE"] = "CMPD") -> None:
        """PRODA ends a booking (completed or deleted): it becomes inactive."""
        self.set_status(booking_id, code)

    @_locked
    def record_payment(self, booking_id: str) -> None:
        """A payment request is made against a booking (it can no longer be deleted)."""
        self.bookings[booking_id] = self._get(booking_id).model_copy(update={"has_payments": True})

    # -- state, for tests and the JSON file adapter --------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """The stored state as JSON-ready data (faults and call counts are not state)."""
        return {
            "version": 1,
            "next_id": self.next_id,
            "participants": [p.model_dump(mode="json") for p in self.participants.values()],
            "plans": [p.model_dump(mode="json") for p in self.plans.values()],
            "bookings": [b.model_dump(mode="json") for b in self.bookings.values()],
            "idempotency": dict(sorted(self.idempotency.items())),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the stored state with ``state`` (as written by :meth:`to_state`). A key that
        is not part of the state is refused (a misspelt section never loads as empty)."""
        unknown = sorted(str(k) for k in state if k not in STATE_KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) in PRODA state: {', '.join(unknown)}")
        participants = [Participant.model_validate(p) for p in state.get("participants", [])]
        plans = [ProdaPlan.model_validate(p) for p in state.get("plans", [])]
        bookings = [ServiceBooking.model_validate(b) for b in state.get("bookings", [])]
        keys = state.get("idempotency", {})
        if not isinstance(keys, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
        ):
            raise ValueError("idempotency: expected an object of booking ids by key")
        self.participants = {p.ndis_number: p for p in participants}
        self.plans = {p.participant: p for p in plans}
        self.bookings = {b.booking_id: b for b in bookings}
        self.idempotency = dict(keys)
        self.next_id = int(state.get("next_id", len(bookings) + 1))

    # -- internals ----------------------------------------------------------------------------
    def _get(self, booking_id: str) -> ServiceBooking:
        try:
            return self.bookings[booking_id]
        except KeyError:
            raise BookingNotFound(booking_id) from None

    def _fault(self, method: Method, participant: str | None) -> Fault | None:
        """Count the call and raise (or return a ``reject``) the first matching fault."""
        self.calls[method] += 1
        for fault in self.faults:
            if fault.method != method:
                continue
            if fault.participant is not None and fault.participant != participant:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            match fault.kind:
                case "timeout":
                    raise GatewayTimeout(f"{method} timed out (scripted)")
                case "unavailable":
                    raise GatewayUnavailable(f"{method}: gateway unavailable (scripted)")
                case "refuse":
                    raise GatewayRefused(fault.reason or f"{method} refused")
                case "reject":
                    return fault
        return None

    def _participant_of(self, booking_id: str) -> str | None:
        booking = self.bookings.get(booking_id)
        return booking.request.participant if booking else None

    # -- the port -----------------------------------------------------------------------------
    @_locked
    def find_plan(self, participant: Participant) -> ProdaPlan:
        """The participant's plan, when NDIS number, name and date of birth match."""
        self._fault("find_plan", participant.ndis_number)
        known = self.participants.get(participant.ndis_number)
        if known is None:
            raise GatewayRefused(f"NDIS number {participant.ndis_number} not found")
        problems = known.matches(participant)
        if problems:
            raise GatewayRefused("; ".join(problems))
        plan = self.plans.get(participant.ndis_number)
        if plan is None:
            raise GatewayRefused(f"no active plan in PRODA for {participant.ndis_number}")
        return plan

    @_locked
    def create_booking(
        self, request: BookingRequest, *, idempotency_key: str | None = None
    ) -> ServiceBooking:
        """A new pending booking (or a rejected one, when scripted); with an idempotency key
        used before, the booking that key made (``replayed``), and nothing new."""
        reject = self._fault("create_booking", request.participant)
        if idempotency_key is not None and idempotency_key in self.idempotency:
            made = self._get(self.idempotency[idempotency_key])
            return made.model_copy(update={"replayed": True})
        if request.participant is None or request.participant not in self.participants:
            raise GatewayRefused(f"participant {request.participant} not found")
        plan = self.plans.get(request.participant)
        if plan is None:
            raise GatewayRefused(f"no active plan in PRODA for {request.participant}")
        if request.start < plan.start or request.end_inclusive > plan.end_inclusive:
            raise GatewayRefused(
                f"booking dates {request.start} to {request.end_inclusive} are outside the "
                f"PRODA plan {plan.start} to {plan.end_inclusive}"
            )
        booking_id = f"{self.id_prefix}{self.next_id:06d}"
        if reject is not None:
            code, reason = "REJT", reject.reason or "rejected"
        else:
            code, reason = "INPR", None
        booking = booking_from_proda(
            booking_id,
            participant=request.participant,
            category=request.category,
            item=request.item,
            type=request.type,
            start=request.start,
            end_inclusive=request.end_inclusive,
            amount=request.amount,
            proda_code=code,
            reason=reason,
            provider=request.provider,
        )
        self.next_id += 1
        self.bookings[booking_id] = booking
        if idempotency_key is not None:
            self.idempotency[idempotency_key] = booking_id
        return booking

    @_locked
    def refresh_booking(self, booking_id: str) -> ServiceBooking:
        """The booking now; a pending booking is approved when ``auto_approve``."""
        self._fault("refresh_booking", self._participant_of(booking_id))
        booking = self._get(booking_id)
        if self.auto_approve and booking.proda_code in _PENDING:
            booking = _as_proda_holds(booking, proda_code="APPR")
            self.bookings[booking_id] = booking
        return booking

    def _require_changeable(self, booking: ServiceBooking) -> None:
        if booking.status == "inactive":
            raise GatewayRefused(f"booking {booking.booking_id} is inactive ({booking.proda_code})")
        if booking.status == "failed":
            raise GatewayRefused(f"booking {booking.booking_id} was rejected")

    @_locked
    def update_end_date(self, booking_id: str, end_inclusive: date) -> ServiceBooking:
        """Move the end date (bringing it forward only once)."""
        self._fault("update_end_date", self._participant_of(booking_id))
        booking = self._get(booking_id)
        self._require_changeable(booking)
        if end_inclusive < booking.start:
            raise GatewayRefused(f"end date {end_inclusive} is before the start {booking.start}")
        plan = self.plans.get(booking.request.participant or "")
        if plan is not None and end_inclusive > plan.end_inclusive:
            raise GatewayRefused(f"end date {end_inclusive} is after the plan end")
        earlier = end_inclusive < booking.end_inclusive
        if earlier and booking.ended_early:
            raise GatewayRefused(
                f"the end date of booking {booking_id} was already brought forward once"
            )
        updated = _as_proda_holds(
            booking, end_inclusive=end_inclusive, ended_early=booking.ended_early or earlier
        )
        self.bookings[booking_id] = updated
        return updated

    @_locked
    def update_amount(self, booking_id: str, amount: Money) -> ServiceBooking:
        """Change the amount of a category-level booking (refused for a support item's)."""
        self._fault("update_amount", self._participant_of(booking_id))
        booking = self._get(booking_id)
        self._require_changeable(booking)
        if booking.request.item:
            raise GatewayRefused(
                f"booking {booking_id} is for support item {booking.request.item}: only a "
                "category-level booking's amount can be updated"
            )
        if amount.cents <= 0:
            raise GatewayRefused(f"amount {amount} must be greater than zero")
        updated = _as_proda_holds(booking, amount=amount)
        self.bookings[booking_id] = updated
        return updated

    @_locked
    def end_booking(self, booking_id: str) -> ServiceBooking:
        """Delete an unused booking (``DELE``)."""
        self._fault("end_booking", self._participant_of(booking_id))
        booking = self._get(booking_id)
        if booking.has_payments:
            raise GatewayRefused(f"booking {booking_id} has payment requests against it")
        if booking.status == "inactive":
            raise GatewayRefused(f"booking {booking_id} is already inactive")
        updated = _as_proda_holds(booking, proda_code="DELE")
        self.bookings[booking_id] = updated
        return updated

    @_locked
    def list_bookings(self, participant: Participant) -> Sequence[ServiceBooking]:
        """The participant's bookings, by booking id."""
        self._fault("list_bookings", participant.ndis_number)
        return [
            b
            for _, b in sorted(self.bookings.items())
            if b.request.participant == participant.ndis_number
        ]


if TYPE_CHECKING:  # static check: the fake implements the port
    _conforms: ProdaGateway = InMemoryProdaGateway()
