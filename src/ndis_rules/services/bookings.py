"""The batch "sync active plans" job, and the gateway-backed booking operations (the shell).

:func:`sync_active_plans` syncs each selected participant's active legacy contract with PRODA
(spec/bookings.md "Batch sync active plans"): it finds the participant's plan in PRODA, checks the
plan dates against the contract, plans the bookings (:func:`ndis_rules.bookings.plan_bookings`)
and creates each booking not made yet, or refreshes the one already made for the same source
(idempotent by the request key, so a re-run never duplicates a booking). Counters:

* ``total``: participants selected (distinct NDIS numbers);
* ``processed``: active contracts processed so far, always ``success + failed + uncompleted``;
* ``success``: contracts synced; ``failed``: PRODA refused (participant details or plan dates
  not matching, a booking rejected): "Not synchronised with PRODA" with the reasons;
* ``uncompleted``: contracts not finished because of an error (a timeout after the retries);
  re-running the batch retries them.

A participant without an active legacy contract is **not** processed: it is counted in
``no_active_contract`` and named, so ``processed + len(no_active_contract) == total`` at the end
and ``processed + no_active_contract`` is the number done at every progress event.

Examples:
    >>> from ndis_rules.adapters.proda_memory import InMemoryProdaGateway
    >>> p = Participant(ndis_number="430000001", name="Citizen", date_of_birth=date(1990, 1, 2))
    >>> gw = InMemoryProdaGateway([(p, ProdaPlan(participant="430000001",
    ...     start=date(2025, 7, 1), end_inclusive=date(2026, 6, 30)))])
    >>> c = Contract.model_validate({"id": "C1", "participant": "430000001", "pace": False,
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": "900.00",
    ...     "budgets": [{"category": "01", "management": "agency", "total": "900.00",
    ...                  "requires_booking": True}]})
    >>> events = []
    >>> report = sync_active_plans([p], {"430000001": c}, gw, today=date(2025, 9, 1),
    ...                            progress=events.append)
    >>> report.total, report.processed, report.success, len(events)
    (1, 1, 1, 1)
    >>> again = sync_active_plans([p], {"430000001": c}, gw, today=date(2025, 9, 1))
    >>> len(gw.bookings), again.results[0].refreshed == report.results[0].created
    (1, True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Literal, TypeVar

from ..bookings import (
    BookingMatch,
    BookingRequest,
    LinkResult,
    ServiceBooking,
    delete_booking,
    edit_booking,
    end_booking_early,
    link_booking,
    match_bookings,
    plan_bookings,
    plan_replacement,
    stored_booking_ids,
)
from ..errors import NdisRulesError
from ..models import Contract
from ..outcomes import Finding
from ..proda import GatewayError, GatewayRefused, Participant, ProdaGateway, ProdaPlan
from .batch import Outcome, Progress, Totals, check_retries, distinct, run_batch

__all__ = [
    "NOT_SYNCHRONISED",
    "BookingAction",
    "BookingActionKind",
    "ContractLookup",
    "ContractSource",
    "ParticipantOutcome",
    "ParticipantResult",
    "SyncProgress",
    "SyncReport",
    "change_end_date",
    "end_early",
    "link_existing",
    "participant_lock",
    "remove_booking",
    "select_active_contract",
    "sync_active_plans",
]

T = TypeVar("T")

ParticipantOutcome = Outcome
#: The contracts of a participant: one, several, or none.
ContractSource = Contract | Sequence[Contract] | None
#: A lookup from a participant to their contracts.
ContractLookup = Callable[[Participant], ContractSource]
#: The message of a failed participant, followed by the reasons.
NOT_SYNCHRONISED = "Not synchronised with PRODA"


BookingActionKind = Literal[
    "created", "refreshed", "adopted", "updated", "extended", "replaced", "rejected",
    "inactive", "completed",
]


@dataclass(frozen=True, slots=True)
class BookingAction:
    """What the batch did or found for one planned booking (by source).

    ``created`` (made now), ``refreshed`` (the booking the book or an idempotency key names),
    ``adopted`` (found in PRODA by category, item and type: made before its id was stored),
    ``updated`` (amount changed), ``extended`` (end date moved later), ``replaced`` (this booking
    stands in for the rejected or inactive ``replaces``), ``rejected`` (rejected and not
    replaced), ``inactive`` (completed or deleted while its budget is live), ``completed`` (ended
    with its budget's dates: nothing to do).
    """

    source: str
    action: BookingActionKind
    booking_id: str
    status: str
    detail: str = ""
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipantResult:
    """What the sync did for one participant."""

    participant: Participant
    outcome: ParticipantOutcome
    message: str
    contract_id: str | None = None
    reasons: tuple[str, ...] = ()
    bookings: tuple[ServiceBooking, ...] = ()
    created: tuple[str, ...] = ()
    refreshed: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    actions: tuple[BookingAction, ...] = ()
    #: PRODA's booking id for each planned source: store them in the book (store_booking_ids)
    booking_ids: Mapping[str, str] = field(default_factory=dict)
    #: sources of planned bookings left out by an error finding (not booked)
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SyncProgress(Progress[Participant]):
    """A progress event, sent after each participant: the counters so far and who was just done
    (see :class:`~ndis_rules.services.batch.Progress`).

    Invariant: ``processed == success + failed + uncompleted``; ``done`` counts participants
    (processed, plus those without an active contract) out of ``total``.
    """


@dataclass(frozen=True, slots=True)
class SyncReport(Totals[Participant, ParticipantResult]):
    """The end result of a batch: the counters, who had no active contract, and every result."""

    def result_for(self, ndis_number: str) -> ParticipantResult | None:
        """The result for one participant, if selected."""
        return next((r for r in self.results if r.participant.ndis_number == ndis_number), None)

    @property
    def retryable(self) -> tuple[Participant, ...]:
        """The participants left uncompleted (re-run the batch for them)."""
        return tuple(r.participant for r in self.results if r.outcome == "uncompleted")


# -- selection -----------------------------------------------------------------------------------


def _as_list(found: ContractSource) -> list[Contract]:
    if found is None:
        return []
    if isinstance(found, Contract):
        return [found]
    return list(found)


def select_active_contract(
    participant: Participant, contracts: Iterable[Contract], today: date
) -> tuple[Contract | None, str]:
    """The participant's active legacy contract, or ``None`` with the reason.

    Active: ``active``, not PACE (PACE plans have no service bookings), for this participant (or
    naming none), and not ended before ``today``. The one covering ``today`` wins, else the next
    to start; ties go to the later start, then the id.

    Examples:
        >>> p = Participant(ndis_number="1", name="A", date_of_birth=date(1990, 1, 1))
        >>> select_active_contract(p, [], date(2025, 9, 1))
        (None, 'no contract')
    """
    given = [c for c in contracts if c.participant in (None, participant.ndis_number)]
    if not given:
        return None, "no contract"
    legacy = [c for c in given if not c.pace]
    if not legacy:
        return None, "only PACE contracts (claimed without PRODA service bookings)"
    live = [c for c in legacy if c.active and c.end_inclusive >= today]
    if not live:
        return None, f"no active legacy contract on {today.isoformat()}"
    current = [c for c in live if c.start <= today]
    if current:
        return max(current, key=lambda c: (c.start, c.id)), ""
    return min(live, key=lambda c: (c.start, c.id)), ""


# -- one participant at a time -----------------------------------------------------------------

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def participant_lock(ndis_number: str) -> Iterator[None]:
    """Hold this process's lock for one participant (batches on threads take turns per
    participant: the second lists what the first made, and makes nothing twice)."""
    with _LOCKS_GUARD:
        held = _LOCKS.setdefault(ndis_number, threading.Lock())
    with held:
        yield


# -- gateway helpers -----------------------------------------------------------------------------


def _retry(call: Callable[[], T], retries: int) -> T:
    """Call, retrying a transient :class:`GatewayError` up to ``retries`` more times."""
    attempt = 0
    while True:
        try:
            return call()
        except GatewayError as exc:
            if not exc.transient or attempt >= retries:
                raise
            attempt += 1


def _create(
    gateway: ProdaGateway, request: BookingRequest, retries: int
) -> tuple[ServiceBooking, bool]:
    """Create a booking with the request's key as its idempotency key, retrying timeouts: a
    retry after a lost answer (or a second batch making the same request) gets the booking the
    first call made, never a second one. Returns (booking, created)."""
    booking = _retry(lambda: gateway.create_booking(request, idempotency_key=request.key), retries)
    return booking, not booking.replayed


def _describe(exc: GatewayError) -> str:
    return exc.reason if isinstance(exc, GatewayRefused) else f"{type(exc).__name__}: {exc}"


# -- the batch -----------------------------------------------------------------------------------


def _result(
    participant: Participant,
    contract: Contract | None,
    outcome: ParticipantOutcome,
    reasons: Sequence[str],
    *,
    bookings: tuple[ServiceBooking, ...] = (),
    created: tuple[str, ...] = (),
    refreshed: tuple[str, ...] = (),
    findings: tuple[Finding, ...] = (),
    actions: tuple[BookingAction, ...] = (),
    booking_ids: Mapping[str, str] | None = None,
    left_out: tuple[str, ...] = (),
) -> ParticipantResult:
    why = "; ".join(reasons)
    match outcome:
        case "success":
            message = "Synchronised with PRODA" + (f" ({why})" if why else "")
        case "failed":
            message = f"{NOT_SYNCHRONISED}: {why}"
        case "uncompleted":
            message = f"Not finished (may be retried): {why}"
        case "no_active_contract":
            message = f"No active contract: {why}"
    return ParticipantResult(
        participant,
        outcome,
        message,
        contract.id if contract is not None else None,
        tuple(reasons),
        bookings,
        created,
        refreshed,
        findings,
        actions,
        dict(booking_ids or {}),
        left_out,
    )


def _sync_one(
    participant: Participant,
    contract: Contract,
    gateway: ProdaGateway,
    *,
    retries: int,
    plan_manager: str | None,
    linked: Mapping[str, str],
    today: date,
) -> ParticipantResult:
    findings: tuple[Finding, ...] = ()

    def failed(reasons: Sequence[str]) -> ParticipantResult:
        return _result(participant, contract, "failed", reasons, findings=findings)

    def uncompleted(errors: Sequence[str]) -> ParticipantResult:
        return _result(participant, contract, "uncompleted", errors, findings=findings)

    if contract.participant and contract.participant != participant.ndis_number:
        return failed([f"NDIS number does not match the contract ({contract.participant})"])
    try:
        plan: ProdaPlan = _retry(lambda: gateway.find_plan(participant), retries)
    except GatewayRefused as exc:
        return failed([exc.reason])
    except GatewayError as exc:
        return uncompleted([_describe(exc)])
    if (plan.start, plan.end_inclusive) != (contract.start, contract.end_inclusive):
        return failed(
            [
                f"plan dates not matching: PRODA {plan.start.isoformat()} to "
                f"{plan.end_inclusive.isoformat()}, contract {contract.start.isoformat()} to "
                f"{contract.end_inclusive.isoformat()}"
            ]
        )

    if contract.participant is None:  # plan for the participant being synced
        contract = contract.model_copy(update={"participant": participant.ndis_number})
    planned = plan_bookings(contract, plan_manager=plan_manager)
    findings = planned.findings
    left_out = _left_out(planned.findings)
    try:
        held = list(_retry(lambda: gateway.list_bookings(participant), retries))
    except GatewayRefused as exc:
        return failed([exc.reason])
    except GatewayError as exc:
        return uncompleted([_describe(exc)])
    stored = {**stored_booking_ids(contract), **linked}

    run = _Run(gateway, retries, today)
    for match in match_bookings(planned.requests, stored, held):
        try:
            run.settle(match)
        except GatewayRefused as exc:
            run.reasons.append(f"{match.request.source}: {exc.reason}")
        except GatewayError as exc:
            run.errors.append(f"{match.request.source}: {_describe(exc)}")

    if run.reasons:
        outcome: ParticipantOutcome = "failed"
    elif run.errors:
        outcome = "uncompleted"
    else:
        outcome = "success"
    notes = [f"{len(left_out)} planned booking(s) left out with errors: {', '.join(left_out)}"]
    return _result(
        participant,
        contract,
        outcome,
        run.reasons + run.errors + (notes if left_out else []),
        bookings=tuple(run.bookings),
        created=tuple(run.created),
        refreshed=tuple(run.refreshed),
        findings=findings,
        actions=tuple(run.actions),
        booking_ids=dict(run.ids),
        left_out=left_out,
    )


def _left_out(findings: Sequence[Finding]) -> tuple[str, ...]:
    """The sources of planned bookings left out by an error finding."""
    out: list[str] = []
    for f in findings:
        if f.severity != "error":
            continue
        source = str(f.facts.get("source", "")) if f.facts else ""
        name = source or f.code
        if name not in out:
            out.append(name)
    return tuple(out)


class _Run:
    """One participant's booking work: what each match needs, done through the gateway."""

    def __init__(self, gateway: ProdaGateway, retries: int, today: date) -> None:
        self.gateway = gateway
        self.retries = retries
        self.today = today
        self.bookings: list[ServiceBooking] = []
        self.created: list[str] = []
        self.refreshed: list[str] = []
        self.reasons: list[str] = []
        self.errors: list[str] = []
        self.actions: list[BookingAction] = []
        self.ids: dict[str, str] = {}

    def _act(
        self, request: BookingRequest, action: BookingActionKind, booking: ServiceBooking,
        detail: str = "", replaces: str | None = None,
    ) -> None:
        self.actions.append(
            BookingAction(request.source, action, booking.booking_id, booking.status, detail,
                          replaces)
        )

    def _refresh(self, booking_id: str) -> ServiceBooking:
        return _retry(partial(self.gateway.refresh_booking, booking_id), self.retries)

    def _make(self, request: BookingRequest, replaces: str | None = None) -> ServiceBooking:
        booking, made = _create(self.gateway, request, self.retries)
        if made:
            self.created.append(booking.booking_id)
            self._act(request, "replaced" if replaces else "created", booking, replaces=replaces)
        else:
            booking = self._refresh(booking.booking_id)
            self.refreshed.append(booking.booking_id)
            self._act(request, "refreshed", booking, "made by an earlier request with this key")
        return booking

    def settle(self, match: BookingMatch) -> None:
        request = match.request
        if match.ambiguous:
            self.reasons.append(
                f"{request.source}: several bookings in PRODA could fund it "
                f"({', '.join(match.ambiguous)}); link one to the budget"
            )
            return
        found = match.booking
        if found is None:
            booking = self._make(request)
            self.ids[request.source] = booking.booking_id
            self._keep(request, booking)
            return
        booking = self._refresh(found.booking_id)
        self.ids[request.source] = booking.booking_id
        if booking.status in ("failed", "inactive"):
            self.bookings.append(booking)
            self._dead(request, booking)
            return
        self.refreshed.append(booking.booking_id)
        booking = self._bring_up_to_date(request, booking, match)
        self.ids[request.source] = booking.booking_id
        self._keep(request, booking)

    def _keep(self, request: BookingRequest, booking: ServiceBooking) -> None:
        self.bookings.append(booking)
        if booking.status == "failed":
            self.reasons.append(
                f"{request.source}: rejected ({booking.reason or booking.proda_code}), "
                f"booking {booking.booking_id}"
            )

    def _dead(self, request: BookingRequest, booking: ServiceBooking) -> None:
        if booking.status == "failed":
            self._act(request, "rejected", booking, booking.reason or booking.proda_code)
            self.reasons.append(
                f"{request.source}: rejected ({booking.reason or booking.proda_code}), "
                f"booking {booking.booking_id}, and not replaced"
            )
        elif request.end_inclusive < self.today:
            self._act(request, "completed", booking, booking.proda_code)
        else:
            self._act(request, "inactive", booking, booking.proda_code)
            what = "completed" if booking.proda_code == "CMPD" else "deleted"
            self.reasons.append(
                f"{request.source}: booking {booking.booking_id} is {what} "
                f"({booking.proda_code}) while its budget runs to "
                f"{request.end_inclusive.isoformat()}: a new booking is needed"
            )

    def _bring_up_to_date(
        self, request: BookingRequest, booking: ServiceBooking, match: BookingMatch
    ) -> ServiceBooking:
        replaced = match.replaces.booking_id if match.replaces is not None else None
        if replaced is not None:
            self._act(request, "replaced", booking, replaces=replaced)
        elif match.how == "found":
            self._act(request, "adopted", booking, "found in PRODA by category, item and type")
        if booking.request.amount != request.amount:
            if booking.request.item:
                return self._end_and_replace(request, booking)
            old = booking.request.amount
            booking = _retry(
                partial(self.gateway.update_amount, booking.booking_id, request.amount),
                self.retries,
            )
            self._act(request, "updated", booking, f"amount {old} -> {request.amount}")
        if request.end_inclusive > booking.end_inclusive:
            old_end = booking.end_inclusive
            booking = _retry(
                partial(self.gateway.update_end_date, booking.booking_id, request.end_inclusive),
                self.retries,
            )
            self._act(
                request, "extended", booking,
                f"end {old_end.isoformat()} -> {request.end_inclusive.isoformat()}",
            )
        if replaced is None and match.how != "found" and not any(
            a.booking_id == booking.booking_id and a.source == request.source
            for a in self.actions
        ):
            self._act(request, "refreshed", booking)
        return booking

    def _end_and_replace(self, request: BookingRequest, booking: ServiceBooking) -> ServiceBooking:
        """A support's booking whose amount changed (PRODA updates only category-level
        amounts): an unused one is deleted and made again for the same range (the new request
        names the one it replaces, so its idempotency key differs); a used one is left as it is
        and reported (the amount used is PRODA's to know)."""
        if booking.has_payments:
            self.reasons.append(
                f"{request.source}: the amount changed ({booking.request.amount} -> "
                f"{request.amount}) on booking {booking.booking_id} of support item "
                f"{booking.request.item}, which has payment requests: end it early and book the "
                "rest by hand"
            )
            return booking
        _retry(partial(self.gateway.end_booking, booking.booking_id), self.retries)
        new_request = plan_replacement(
            booking.model_copy(update={"request": request}),
            start=request.start, end_inclusive=request.end_inclusive,
        )
        return self._make(new_request, replaces=booking.booking_id)


def sync_active_plans(
    participants: Iterable[Participant],
    contracts: Mapping[str, ContractSource] | ContractLookup,
    gateway: ProdaGateway,
    *,
    today: date,
    retries: int = 2,
    progress: Callable[[SyncProgress], object] | None = None,
    plan_manager: str | None = None,
    linked: Iterable[ServiceBooking] = (),
    lock: Callable[[str], AbstractContextManager[object]] | None = None,
) -> SyncReport:
    """Sync each selected participant's active legacy contract with PRODA (the batch job).

    Each participant is independent: a refusal or an error is recorded for that participant and
    the batch goes on. Re-running is safe: a booking already made for a request (same key, see
    :attr:`~ndis_rules.bookings.BookingRequest.key`) is refreshed, never made again; the
    contracts are never changed. A gateway error that is not transient (see
    :class:`~ndis_rules.errors.GatewayError`) is not retried; any exception that is not an
    :class:`~ndis_rules.errors.NdisRulesError` is a bug and propagates.

    Args:
        participants: the selected participants (a repeated NDIS number is synced once).
        contracts: contracts by NDIS number (one, several or none each), or a lookup callable.
        gateway: the PRODA port.
        today: the date the batch runs on (read once, by the caller, from a Clock).
        retries: extra attempts for each call that times out or cannot connect (>= 0).
        progress: called with a :class:`SyncProgress` after each participant.
        plan_manager: the provider that makes the bookings (see ``plan_bookings``).
        linked: local booking records linked to budgets (``link_booking``); their bookings are
            refreshed for the budget, not made again.
        lock: the lock held while one participant is synced, by NDIS number (default:
            :func:`participant_lock`, one per participant in this process), so two batches at
            once never both create a participant's bookings. Across processes the gateway's
            idempotency keys keep them single.

    Returns:
        The counters, the participants without an active contract, and one result each.
    """
    check_retries(retries)
    if lock is None:
        lock = participant_lock
    selected = distinct(participants)
    links = {b.request.source: b.booking_id for b in linked if b.linked_budget is not None}

    def lookup(p: Participant) -> list[Contract]:
        if isinstance(contracts, Mapping):
            return _as_list(contracts.get(p.ndis_number))
        return _as_list(contracts(p))

    def one(participant: Participant) -> ParticipantResult:
        try:
            contract, why = select_active_contract(participant, lookup(participant), today)
        except NdisRulesError as exc:
            return _result(participant, None, "uncompleted", [str(exc)])
        if contract is None:
            return _result(participant, None, "no_active_contract", [why])
        with lock(participant.ndis_number):
            return _sync_one(
                participant,
                contract,
                gateway,
                retries=retries,
                plan_manager=plan_manager,
                linked=links,
                today=today,
            )

    return run_batch(selected, one, event=SyncProgress, progress=progress, report=SyncReport)


# -- single-booking operations through the gateway ------------------------------------------------


def _keep_local(local: ServiceBooking, remote: ServiceBooking) -> ServiceBooking:
    """The gateway's answer, with what only we know (the link to a budget) kept."""
    if local.linked_budget is None:
        return remote
    return remote.model_copy(
        update={"linked_budget": local.linked_budget, "request": local.request}
    )


def change_end_date(
    gateway: ProdaGateway,
    booking: ServiceBooking,
    end_inclusive: date,
    *,
    plan_end: date | None = None,
) -> ServiceBooking:
    """Move a booking's end date later (the rules of :func:`~ndis_rules.bookings.edit_booking`
    first, then PRODA). A refusal or gateway error changes nothing; the record returned is new.
    """
    checked = edit_booking(booking, end_inclusive=end_inclusive, plan_end=plan_end)
    if checked is booking:
        return booking
    return _keep_local(booking, gateway.update_end_date(booking.booking_id, end_inclusive))


def end_early(
    gateway: ProdaGateway, booking: ServiceBooking, end_inclusive: date, *, today: date
) -> ServiceBooking:
    """End a booking early (see :func:`~ndis_rules.bookings.end_booking_early`), then in PRODA."""
    checked = end_booking_early(booking, end_inclusive, today=today)
    remote = gateway.update_end_date(booking.booking_id, end_inclusive)
    return _keep_local(booking, remote).model_copy(update={"ended_early": checked.ended_early})


def remove_booking(gateway: ProdaGateway, booking: ServiceBooking) -> ServiceBooking:
    """Delete an unused booking (see :func:`~ndis_rules.bookings.delete_booking`), then in PRODA."""
    delete_booking(booking)
    return _keep_local(booking, gateway.end_booking(booking.booking_id))


def link_existing(
    gateway: ProdaGateway, contract: Contract, budget_ref: str, booking_id: str
) -> LinkResult:
    """Link a booking already in PRODA to a budget: refresh it, then
    :func:`~ndis_rules.bookings.link_booking` (irreversible; a new contract is returned)."""
    current = gateway.refresh_booking(booking_id)
    return link_booking(contract, budget_ref, current)
