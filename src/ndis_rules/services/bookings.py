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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Literal, TypeVar

from ..bookings import (
    BookingRequest,
    LinkResult,
    ServiceBooking,
    delete_booking,
    edit_booking,
    end_booking_early,
    link_booking,
    plan_bookings,
)
from ..errors import NdisRulesError
from ..models import Contract
from ..outcomes import Finding
from ..proda import GatewayError, GatewayRefused, Participant, ProdaGateway, ProdaPlan

__all__ = [
    "NOT_SYNCHRONISED",
    "ContractLookup",
    "ContractSource",
    "ParticipantOutcome",
    "ParticipantResult",
    "SyncProgress",
    "SyncReport",
    "change_end_date",
    "end_early",
    "link_existing",
    "remove_booking",
    "select_active_contract",
    "sync_active_plans",
]

T = TypeVar("T")

ParticipantOutcome = Literal["success", "failed", "uncompleted", "no_active_contract"]
#: The contracts of a participant: one, several, or none.
ContractSource = Contract | Sequence[Contract] | None
#: A lookup from a participant to their contracts.
ContractLookup = Callable[[Participant], ContractSource]
#: The message of a failed participant, followed by the reasons.
NOT_SYNCHRONISED = "Not synchronised with PRODA"


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


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """A progress event, sent after each participant: the counters so far and who was just done.

    Invariant: ``processed == success + failed + uncompleted``; ``done`` counts participants
    (processed, plus those without an active contract) out of ``total``.
    """

    total: int
    processed: int
    success: int
    failed: int
    uncompleted: int
    no_active_contract: int
    participant: Participant
    outcome: ParticipantOutcome

    @property
    def done(self) -> int:
        """Participants handled so far."""
        return self.processed + self.no_active_contract

    @property
    def percent(self) -> int:
        """Whole percent done, for a progress bar (100 when there is nothing to do)."""
        return 100 if self.total == 0 else self.done * 100 // self.total


@dataclass(frozen=True, slots=True)
class SyncReport:
    """The end result of a batch: the counters, who had no active contract, and every result."""

    total: int
    processed: int
    success: int
    failed: int
    uncompleted: int
    no_active_contract: tuple[Participant, ...]
    results: tuple[ParticipantResult, ...] = field(default=())

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
    gateway: ProdaGateway, participant: Participant, request: BookingRequest, retries: int
) -> tuple[ServiceBooking, bool]:
    """Create a booking, retrying timeouts; before a retry, look whether the timed-out call made
    the booking after all (so a retry never duplicates). Returns (booking, created)."""
    attempt = 0
    while True:
        try:
            if attempt:
                for b in gateway.list_bookings(participant):
                    if b.key == request.key:
                        return b, False
            return gateway.create_booking(request), True
        except GatewayError as exc:
            if not exc.transient or attempt >= retries:
                raise
            attempt += 1


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
) -> ParticipantResult:
    why = "; ".join(reasons)
    match outcome:
        case "success":
            message = "Synchronised with PRODA"
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
    )


def _sync_one(
    participant: Participant,
    contract: Contract,
    gateway: ProdaGateway,
    *,
    retries: int,
    plan_manager: str | None,
    linked: Mapping[str, str],
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
    try:
        existing_list = _retry(lambda: gateway.list_bookings(participant), retries)
    except GatewayRefused as exc:
        return failed([exc.reason])
    except GatewayError as exc:
        return uncompleted([_describe(exc)])
    existing: dict[str, str] = dict(linked)
    for b in existing_list:
        existing.setdefault(b.key, b.booking_id)

    bookings: list[ServiceBooking] = []
    created: list[str] = []
    refreshed: list[str] = []
    reasons: list[str] = []
    errors: list[str] = []
    for request in planned.requests:
        try:
            booking_id = existing.get(request.key)
            if booking_id is not None:
                booking = _retry(partial(gateway.refresh_booking, booking_id), retries)
                refreshed.append(booking.booking_id)
            else:
                booking, made = _create(gateway, participant, request, retries)
                (created if made else refreshed).append(booking.booking_id)
        except GatewayRefused as exc:
            reasons.append(f"{request.source}: {exc.reason}")
            continue
        except GatewayError as exc:
            errors.append(f"{request.source}: {_describe(exc)}")
            continue
        bookings.append(booking)
        if booking.status == "failed":
            reasons.append(f"{request.source}: rejected ({booking.reason or booking.proda_code})")

    if reasons:
        outcome: ParticipantOutcome = "failed"
    elif errors:
        outcome = "uncompleted"
    else:
        outcome = "success"
    return _result(
        participant,
        contract,
        outcome,
        reasons + errors,
        bookings=tuple(bookings),
        created=tuple(created),
        refreshed=tuple(refreshed),
        findings=findings,
    )


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
) -> SyncReport:
    """Sync each selected participant's active legacy contract with PRODA (the batch job).

    Each participant is independent: a refusal or an error is recorded for that participant and
    the batch goes on. Re-running is safe: a booking already made for a request (same key, see
    :attr:`~ndis_rules.bookings.BookingRequest.key`) is refreshed, never made again; the
    contracts are never changed. A gateway error that is not transient (see
    :class:`~ndis_rules.proda.GatewayError`) is not retried; any exception that is not an
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

    Returns:
        The counters, the participants without an active contract, and one result each.
    """
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, got {retries}")
    selected: dict[str, Participant] = {}
    for p in participants:
        selected.setdefault(p.ndis_number, p)
    links = {b.key: b.booking_id for b in linked if b.linked_budget is not None}

    def lookup(p: Participant) -> list[Contract]:
        if isinstance(contracts, Mapping):
            return _as_list(contracts.get(p.ndis_number))
        return _as_list(contracts(p))

    total = len(selected)
    processed = success = failed = uncompleted = 0
    none_active: list[Participant] = []
    results: list[ParticipantResult] = []
    for participant in selected.values():
        try:
            contract, why = select_active_contract(participant, lookup(participant), today)
        except NdisRulesError as exc:
            result = _result(participant, None, "uncompleted", [str(exc)])
        else:
            if contract is None:
                result = _result(participant, None, "no_active_contract", [why])
            else:
                result = _sync_one(
                    participant,
                    contract,
                    gateway,
                    retries=retries,
                    plan_manager=plan_manager,
                    linked=links,
                )
        results.append(result)
        match result.outcome:
            case "no_active_contract":
                none_active.append(participant)
            case "success":
                processed += 1
                success += 1
            case "failed":
                processed += 1
                failed += 1
            case "uncompleted":
                processed += 1
                uncompleted += 1
        if progress is not None:
            progress(
                SyncProgress(
                    total,
                    processed,
                    success,
                    failed,
                    uncompleted,
                    len(none_active),
                    participant,
                    result.outcome,
                )
            )
    return SyncReport(
        total, processed, success, failed, uncompleted, tuple(none_active), tuple(results)
    )


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
