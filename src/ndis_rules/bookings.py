"""PRODA service bookings for legacy (non-PACE) plans: planning, status and lifecycle rules.

Pure core (spec/bookings.md): no I/O, no clock. :func:`plan_bookings` turns a contract into the
booking requests it needs, each traceable to the category budget or support item budget it comes
from, plus findings that explain what was *not* planned and why. The lifecycle functions take a
:class:`ServiceBooking` record and return a new one, or refuse with a :class:`BookingRuleError`
whose ``code`` is stable; talking to PRODA is the job of :mod:`ndis_rules.proda` (the port) and
:mod:`ndis_rules.booking_sync` (the shell).

Examples:
    >>> contract = Contract.model_validate({
    ...     "id": "C1", "participant": "430000001", "pace": False,
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": "5000.00",
    ...     "budgets": [{"category": "01", "management": "agency", "total": "5000.00",
    ...                  "requires_booking": True}]})
    >>> plan = plan_bookings(contract, plan_manager="PM1")
    >>> [(r.source, r.type, str(r.amount)) for r in plan.requests]
    [('budget:01:agency', 'standard', '5000.00')]
    >>> plan.codes
    ()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .codes import BOOKING_SPECS, BookingCode, CodeSpec, RefusalCode
from .errors import BookingRuleError, UnknownProdaStatus
from .models import (
    CategoryBudget,
    CategoryCode,
    Contract,
    IsoDate,
    ManagementType,
    SupportItemBudget,
)
from .money import Money, total
from .outcomes import Finding

__all__ = [
    "BOOKING_CODES",
    "PLACEHOLDER_LIMIT",
    "PLAN_MANAGEMENT_CATEGORY",
    "BookingCode",
    "BookingMatch",
    "BookingPlan",
    "BookingRequest",
    "BookingRuleError",
    "BookingStatus",
    "BookingType",
    "LinkResult",
    "MatchKind",
    "ProdaStatusCode",
    "RefusalCode",
    "ServiceBooking",
    "SourceKind",
    "UnknownProdaStatus",
    "apply_proda_status",
    "booking_from_proda",
    "booking_type_for",
    "delete_booking",
    "edit_booking",
    "end_booking_early",
    "link_booking",
    "management_for",
    "match_bookings",
    "plan_bookings",
    "plan_replacement",
    "status_from_proda",
    "store_booking_ids",
    "stored_booking_ids",
]

BookingType = Literal["standard", "plan_managed"]
BookingStatus = Literal["pending", "success", "failed", "inactive"]
SourceKind = Literal["budget", "support", "external"]
ProdaStatusCode = Literal["INPR", "APAP", "APRO", "APAC", "APRC", "APPR", "REJT", "CMPD", "DELE"]

#: Support category of Capacity Building Choice and Control (plan management fees).
PLAN_MANAGEMENT_CATEGORY: Final = "14"
#: A contract total at or below this is a placeholder ("pop in a $1 value", seed 002).
PLACEHOLDER_LIMIT: Final = Money(100)

_STATUS_OF_CODE: Final[Mapping[str, BookingStatus]] = {
    "INPR": "pending",
    "APAP": "pending",
    "APRO": "pending",
    "APAC": "pending",
    "APRC": "pending",
    "APPR": "success",
    "REJT": "failed",
    "CMPD": "inactive",
    "DELE": "inactive",
}
_TYPE_OF_MANAGEMENT: Final[Mapping[str, BookingType]] = {
    "agency": "standard",
    "plan": "plan_managed",
}
_MANAGEMENT_OF_TYPE: Final[Mapping[str, ManagementType]] = {
    "standard": "agency",
    "plan_managed": "plan",
}


#: Per planning code: its spec (default severity, message template, what to do).
BOOKING_CODES: Final[Mapping[BookingCode, CodeSpec]] = BOOKING_SPECS


def _finding(code: BookingCode, **facts: str) -> Finding:
    spec = BOOKING_CODES[code]
    return Finding(code, spec.default_severity, spec.template.format(**facts), dict(facts))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BookingRequest(_Model):
    """One service booking a contract needs: traceable to the budget or support it comes from.

    ``key`` identifies it across runs (the batch sync is idempotent by it): the contract, the
    source, and the booking it replaces, if any.

    Examples:
        >>> r = BookingRequest(contract_id="C1", participant="430000001", source_kind="support",
        ...     source_id="PM-SETUP", category="14", item="14_033_0127_8_3", type="standard",
        ...     start=date(2025, 7, 1), end_inclusive=date(2026, 6, 30),
        ...     amount=Money.parse("233.29"), provider="PM1")
        >>> r.source, r.key, r.management
        ('support:PM-SETUP', 'C1/support:PM-SETUP', 'agency')
    """

    contract_id: str = Field(min_length=1)
    participant: str | None = Field(default=None, description="participant NDIS number")
    source_kind: SourceKind
    source_id: str = Field(min_length=1, description="budget ref or support item budget id")
    category: CategoryCode
    item: str | None = Field(default=None, description="support item number (supports only)")
    type: BookingType
    start: IsoDate
    end_inclusive: IsoDate
    amount: Money
    provider: str | None = None
    replaces: str | None = Field(
        default=None, description="booking id of the inactive booking this one replaces"
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> BookingRequest:
        if self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self

    @property
    def source(self) -> str:
        """``"<kind>:<id>"``, e.g. ``"budget:01:agency"`` or ``"support:PM-SETUP"``."""
        return f"{self.source_kind}:{self.source_id}"

    @property
    def key(self) -> str:
        """The idempotency key: contract, source and (for a replacement) the booking replaced."""
        base = f"{self.contract_id}/{self.source}"
        return f"{base}/replaces:{self.replaces}" if self.replaces else base

    @property
    def management(self) -> ManagementType:
        """The management type the booking type stands for (``standard`` -> ``agency``)."""
        return _MANAGEMENT_OF_TYPE[self.type]


@dataclass(frozen=True, slots=True)
class BookingPlan:
    """What :func:`plan_bookings` decided: requests to make, and findings explaining the rest."""

    requests: tuple[BookingRequest, ...]
    findings: tuple[Finding, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """The finding codes, in the order found."""
        return tuple(f.code for f in self.findings)


def booking_type_for(management: ManagementType) -> BookingType | None:
    """The booking type for a management type; ``None`` for ``self`` (never booked).

    Examples:
        >>> booking_type_for("agency"), booking_type_for("plan"), booking_type_for("self")
        ('standard', 'plan_managed', None)
    """
    return _TYPE_OF_MANAGEMENT.get(management)


def management_for(booking_type: BookingType) -> ManagementType:
    """The management type a booking type sets on a linked budget.

    Examples:
        >>> management_for("plan_managed")
        'plan'
    """
    return _MANAGEMENT_OF_TYPE[booking_type]


# -- planning ----------------------------------------------------------------------------------


def _stated_supports(contract: Contract, budget: CategoryBudget) -> list[SupportItemBudget]:
    return [
        s
        for s in contract.support_items
        if s.kind == "stated"
        and s.category == budget.category
        and s.management in (None, budget.management)
    ]


def _resolve_support_management(
    contract: Contract, support: SupportItemBudget
) -> tuple[ManagementType | None, int]:
    if support.management is not None:
        return support.management, 1
    managements = sorted({b.management for b in contract.budgets if b.category == support.category})
    if len(managements) == 1:
        return managements[0], 1
    return None, len(managements)


def _dates_for(
    contract: Contract, category: str, management: ManagementType
) -> tuple[date, date]:
    """A support's booking dates: those of its category budget when there is exactly one for
    the category and management type and it has its own dates, else the contract's."""
    matching = [b for b in contract.budgets if (b.category, b.management) == (category, management)]
    if len(matching) == 1 and matching[0].start and matching[0].end_inclusive:
        return matching[0].start, matching[0].end_inclusive
    return contract.start, contract.end_inclusive


def _own_dates(contract: Contract, budget: CategoryBudget) -> tuple[date, date]:
    if budget.start is not None and budget.end_inclusive is not None:
        return budget.start, budget.end_inclusive
    return contract.start, contract.end_inclusive


def _overlap(a: BookingRequest, b: BookingRequest) -> bool:
    return a.start <= b.end_inclusive and b.start <= a.end_inclusive


def plan_bookings(contract: Contract, *, plan_manager: str | None = None) -> BookingPlan:
    """The service bookings a legacy contract needs (spec/bookings.md "Planning bookings").

    One booking per category budget and one per support item budget marked ``requires_booking``
    (never one booking for many budgets). The type follows the management type (``agency`` ->
    ``standard``, ``plan`` -> ``plan_managed``; ``self`` -> ``SELF_MANAGED_NO_BOOKING``).
    Categories with stated items are booked at the support level only; an unallocated remainder
    is reported (``STATED_REMAINDER_UNBOOKABLE``) and never booked. Dates come from the budget
    (or, for a support, its only category budget), else from the contract; a booking outside the
    plan, or overlapping another booking of the same type for the same category, item and
    provider, gets ``BOOKING_DATES_INVALID`` and is left out (both of an overlapping pair). A
    placeholder total (at most $1) or a contract without budgets gets ``PLACEHOLDER_TOTAL``.
    Requests come supports first (the plan management fees are booked first, seed 002), then
    budgets, each in contract order.

    Args:
        contract: the local service contract of a legacy (non-PACE) plan.
        plan_manager: the provider (registration) that makes the bookings; it is the provider
            of budget bookings and of supports that name none.

    Returns:
        The requests to make and the findings (errors name requests left out).

    Examples:
        >>> c = Contract.model_validate({"id": "C2", "pace": False, "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30", "total": "1.00"})
        >>> plan_bookings(c).codes
        ('PLACEHOLDER_TOTAL',)
    """
    if contract.pace:
        return BookingPlan((), (_finding("PACE_PLAN_NO_BOOKING", contract=contract.id),))

    findings: list[Finding] = []
    if not contract.budgets or (contract.total is not None and contract.total <= PLACEHOLDER_LIMIT):
        problem = "no category budgets yet" if not contract.budgets else "at most $1.00"
        findings.append(
            _finding(
                "PLACEHOLDER_TOTAL",
                total=str(contract.total) if contract.total is not None else "(none)",
                problem=problem,
                budget_count=str(len(contract.budgets)),
            )
        )

    def request(
        kind: SourceKind,
        source_id: str,
        category: str,
        item: str | None,
        btype: BookingType,
        management: ManagementType,
        amount: Money,
        provider: str | None,
        dates: tuple[date, date],
    ) -> BookingRequest:
        start, end = dates
        return BookingRequest(
            contract_id=contract.id,
            participant=contract.participant,
            source_kind=kind,
            source_id=source_id,
            category=category,
            item=item,
            type=btype,
            start=start,
            end_inclusive=end,
            amount=amount,
            provider=provider,
        )

    candidates: list[BookingRequest] = []

    # supports (service and stated) that require a booking
    for s in contract.support_items:
        if not s.requires_booking:
            continue
        management, count = _resolve_support_management(contract, s)
        source = f"support:{s.id}"
        if management is None:
            findings.append(
                _finding(
                    "BOOKING_MANAGEMENT_UNKNOWN",
                    source=source,
                    category=s.category,
                    count=str(count),
                )
            )
            continue
        btype = booking_type_for(management)
        if btype is None:
            findings.append(
                _finding(
                    "SELF_MANAGED_NO_BOOKING", source=source, category=s.category, item=s.item
                )
            )
            continue
        candidates.append(
            request(
                "support", s.id, s.category, s.item, btype, management, s.amount,
                s.provider or plan_manager, _dates_for(contract, s.category, management),
            )
        )

    # category budgets: booked at the category level unless they have stated items
    for b in contract.budgets:
        stated = _stated_supports(contract, b)
        has_stated = b.stated_items_only or bool(stated)
        relevant = b.requires_booking or any(s.requires_booking for s in stated)
        source = f"budget:{b.ref}"
        if b.management == "self":
            if b.requires_booking:
                findings.append(
                    _finding("SELF_MANAGED_NO_BOOKING", source=source, category=b.category)
                )
            continue
        if has_stated:
            allocated = total(s.amount for s in stated)
            if relevant and allocated < b.total:
                findings.append(
                    _finding(
                        "STATED_REMAINDER_UNBOOKABLE",
                        category=b.category,
                        management=b.management,
                        budget=b.ref,
                        total=str(b.total),
                        allocated=str(allocated),
                        remainder=str(b.total - allocated),
                    )
                )
            if b.requires_booking:
                findings.append(
                    _finding(
                        "BOOKED_AT_SUPPORT_LEVEL",
                        category=b.category,
                        management=b.management,
                        budget=b.ref,
                        total=str(b.total),
                    )
                )
            continue
        if not b.requires_booking:
            continue
        btype = booking_type_for(b.management)
        assert btype is not None  # self handled above
        candidates.append(
            request(
                "budget", b.ref, b.category, None, btype, b.management, b.total, plan_manager,
                _own_dates(contract, b),
            )
        )

    # dates: inside the plan, and no overlap for the same category, item and provider
    invalid: set[int] = set()
    for i, r in enumerate(candidates):
        if r.start < contract.start or r.end_inclusive > contract.end_inclusive:
            invalid.add(i)
            findings.append(
                _finding(
                    "BOOKING_DATES_INVALID",
                    source=r.source,
                    start=r.start.isoformat(),
                    end_inclusive=r.end_inclusive.isoformat(),
                    problem=f"outside the plan {contract.start.isoformat()} to "
                    f"{contract.end_inclusive.isoformat()}",
                )
            )
    for i, a in enumerate(candidates):
        for j in range(i + 1, len(candidates)):
            b2 = candidates[j]
            same_scope = (a.category, a.item, a.provider, a.type) == (
                b2.category, b2.item, b2.provider, b2.type
            )
            if same_scope and _overlap(a, b2):
                invalid.update((i, j))
                findings.append(
                    _finding(
                        "BOOKING_DATES_INVALID",
                        source=b2.source,
                        start=b2.start.isoformat(),
                        end_inclusive=b2.end_inclusive.isoformat(),
                        problem=f"overlaps {a.source} ({a.start.isoformat()} to "
                        f"{a.end_inclusive.isoformat()}) for the same category and provider",
                        other=a.source,
                    )
                )
    requests = tuple(r for i, r in enumerate(candidates) if i not in invalid)

    # amounts against each budget
    for b in contract.budgets:
        scoped = [
            r for r in requests if r.category == b.category and r.management == b.management
        ]
        booked = total(r.amount for r in scoped)
        if scoped and booked > b.total:
            findings.append(
                _finding(
                    "BOOKINGS_EXCEED_BUDGET",
                    category=b.category,
                    management=b.management,
                    budget=b.ref,
                    booked=str(booked),
                    total=str(b.total),
                )
            )

    if any(r.type == "plan_managed" for r in requests) and not any(
        r.type == "standard" and r.category == PLAN_MANAGEMENT_CATEGORY for r in requests
    ):
        findings.append(_finding("PLAN_MANAGED_NEEDS_STANDARD_BOOKING"))

    return BookingPlan(requests, tuple(findings))


# -- status --------------------------------------------------------------------------------------


def status_from_proda(code: str) -> BookingStatus:
    """Our booking status for a PRODA status code (api-fields.md).

    Examples:
        >>> [status_from_proda(c) for c in ("INPR", "APPR", "REJT", "CMPD")]
        ['pending', 'success', 'failed', 'inactive']
        >>> status_from_proda("CANC")
        Traceback (most recent call last):
        ...
        ndis_rules.errors.UnknownProdaStatus: unknown PRODA booking status 'CANC' (expected ...
    """
    try:
        return _STATUS_OF_CODE[code]
    except (KeyError, TypeError):
        raise UnknownProdaStatus(code) from None


class ServiceBooking(_Model):
    """A service booking as PRODA holds it, with the request it was made from.

    ``status`` always agrees with ``proda_code``; ``start`` equals the request's start (locked).
    """

    booking_id: str = Field(min_length=1)
    request: BookingRequest
    status: BookingStatus
    proda_code: ProdaStatusCode
    reason: str | None = Field(default=None, description="the gateway's reason (e.g. REJT)")
    start: IsoDate
    end_inclusive: IsoDate
    linked_budget: str | None = Field(default=None, description="budget ref, once linked")
    has_payments: bool = False
    ended_early: bool = False
    replayed: bool = Field(
        default=False,
        exclude=True,
        description="the gateway answered a create with the booking an earlier request with the "
        "same idempotency key made (nothing new was created); never stored",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ServiceBooking:
        if self.status != _STATUS_OF_CODE[self.proda_code]:
            raise ValueError(
                f"status {self.status!r} does not match PRODA code {self.proda_code} "
                f"({_STATUS_OF_CODE[self.proda_code]})"
            )
        if self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self

    @classmethod
    def from_request(
        cls, booking_id: str, request: BookingRequest, proda_code: str = "INPR",
        reason: str | None = None,
    ) -> ServiceBooking:
        """A new booking record for a request, as PRODA answered it (``INPR``: pending)."""
        return cls(
            booking_id=booking_id,
            request=request,
            status=status_from_proda(proda_code),
            proda_code=proda_code,  # type: ignore[arg-type]  # checked by status_from_proda
            reason=reason,
            start=request.start,
            end_inclusive=request.end_inclusive,
        )

    @property
    def key(self) -> str:
        """The request's idempotency key."""
        return self.request.key


# -- lifecycle -----------------------------------------------------------------------------------


def apply_proda_status(
    booking: ServiceBooking, code: str, *, reason: str | None = None
) -> ServiceBooking:
    """The booking after a refresh reported PRODA status ``code`` (unknown -> typed error).

    Examples:
        >>> b = _example_booking()
        >>> apply_proda_status(b, "APPR").status
        'success'
    """
    status = status_from_proda(code)
    return booking.model_copy(update={"status": status, "proda_code": code, "reason": reason})


def _require_live(booking: ServiceBooking) -> None:
    if booking.status == "inactive":
        raise BookingRuleError(
            "BOOKING_INACTIVE",
            f"booking {booking.booking_id} is inactive ({booking.proda_code}): plan a new "
            "booking for the new range instead (plan_replacement)",
        )
    if booking.status == "failed":
        raise BookingRuleError(
            "BOOKING_REJECTED",
            f"booking {booking.booking_id} was rejected by PRODA"
            + (f" ({booking.reason})" if booking.reason else "")
            + ": it cannot be changed",
        )


def edit_booking(
    booking: ServiceBooking,
    *,
    start: date | None = None,
    end_inclusive: date | None = None,
    type: BookingType | None = None,
    plan_end: date | None = None,
) -> ServiceBooking:
    """Edit a booking: only the end date may change, and only to a later date.

    Refusals: ``START_DATE_LOCKED``, ``MANAGEMENT_TYPE_LOCKED`` (a different booking type),
    ``END_DATE_EARLIER_REFUSED`` (use :func:`end_booking_early`), ``BOOKING_INACTIVE`` /
    ``BOOKING_REJECTED`` (extending a booking that is not live), ``BOOKING_DATES_INVALID`` (a new
    end after ``plan_end``). Giving a field its current value is not a change.

    Examples:
        >>> b = _example_booking()
        >>> edit_booking(b, end_inclusive=date(2026, 6, 30)).end_inclusive
        datetime.date(2026, 6, 30)
        >>> edit_booking(b, end_inclusive=date(2025, 12, 1))
        Traceback (most recent call last):
        ...
        ndis_rules.errors.BookingRuleError: END_DATE_EARLIER_REFUSED: ...
    """
    if start is not None and start != booking.start:
        raise BookingRuleError(
            "START_DATE_LOCKED",
            f"the start date of booking {booking.booking_id} ({booking.start}) is locked",
        )
    if type is not None and type != booking.request.type:
        raise BookingRuleError(
            "MANAGEMENT_TYPE_LOCKED",
            f"booking {booking.booking_id} is {booking.request.type}: its management type is "
            "locked",
        )
    if end_inclusive is None or end_inclusive == booking.end_inclusive:
        return booking
    if end_inclusive < booking.end_inclusive:
        raise BookingRuleError(
            "END_DATE_EARLIER_REFUSED",
            f"an edit may only move the end date of booking {booking.booking_id} later than "
            f"{booking.end_inclusive} (got {end_inclusive}); ending early is its own operation",
        )
    _require_live(booking)
    if plan_end is not None and end_inclusive > plan_end:
        raise BookingRuleError(
            "BOOKING_DATES_INVALID",
            f"new end {end_inclusive} of booking {booking.booking_id} is after the plan end "
            f"{plan_end}",
        )
    return booking.model_copy(update={"end_inclusive": end_inclusive})


def end_booking_early(
    booking: ServiceBooking, end_inclusive: date, *, today: date
) -> ServiceBooking:
    """End a booking early (PRODA's cancel): bring its end date forward to today or later, once.

    Refusals: ``BOOKING_INACTIVE`` / ``BOOKING_REJECTED``, ``ALREADY_ENDED_EARLY`` (a second
    time), ``END_DATE_IN_PAST`` (before ``today``), ``END_DATE_NOT_EARLIER`` (not before the
    current end: that is an edit), ``BOOKING_DATES_INVALID`` (before the booking's start: delete
    an unused booking instead).

    Examples:
        >>> b = end_booking_early(_example_booking(), date(2025, 9, 30), today=date(2025, 9, 1))
        >>> b.end_inclusive, b.ended_early
        (datetime.date(2025, 9, 30), True)
        >>> end_booking_early(b, date(2025, 9, 15), today=date(2025, 9, 1))
        Traceback (most recent call last):
        ...
        ndis_rules.errors.BookingRuleError: ALREADY_ENDED_EARLY: ...
    """
    _require_live(booking)
    if booking.ended_early:
        raise BookingRuleError(
            "ALREADY_ENDED_EARLY",
            f"booking {booking.booking_id} was already ended early (end {booking.end_inclusive})",
        )
    if end_inclusive < today:
        raise BookingRuleError(
            "END_DATE_IN_PAST",
            f"a booking can be ended today ({today}) or later, not {end_inclusive}",
        )
    if end_inclusive >= booking.end_inclusive:
        raise BookingRuleError(
            "END_DATE_NOT_EARLIER",
            f"{end_inclusive} is not before the current end {booking.end_inclusive} of booking "
            f"{booking.booking_id}",
        )
    if end_inclusive < booking.start:
        raise BookingRuleError(
            "BOOKING_DATES_INVALID",
            f"{end_inclusive} is before the start {booking.start} of booking "
            f"{booking.booking_id}",
        )
    return booking.model_copy(update={"end_inclusive": end_inclusive, "ended_early": True})


def delete_booking(booking: ServiceBooking) -> ServiceBooking:
    """Delete an unused booking: it becomes ``inactive`` (``DELE``).

    Refusals: ``BOOKING_HAS_PAYMENTS`` (cancel a used booking by ending it early instead),
    ``BOOKING_INACTIVE``.

    Examples:
        >>> delete_booking(_example_booking()).proda_code
        'DELE'
    """
    if booking.has_payments:
        raise BookingRuleError(
            "BOOKING_HAS_PAYMENTS",
            f"booking {booking.booking_id} has payment requests against it and cannot be "
            "deleted; end it early instead",
        )
    if booking.status == "inactive":
        raise BookingRuleError(
            "BOOKING_INACTIVE", f"booking {booking.booking_id} is already inactive"
        )
    return booking.model_copy(update={"status": "inactive", "proda_code": "DELE"})


def plan_replacement(
    booking: ServiceBooking, *, start: date, end_inclusive: date
) -> BookingRequest:
    """A new booking request for a new range, for an inactive booking that cannot be extended.

    The request keeps the source of the old one and names the booking it replaces (so its key
    differs). Refused (``BOOKING_DATES_INVALID``) when the range is reversed.

    Examples:
        >>> old = delete_booking(_example_booking())
        >>> new = plan_replacement(old, start=date(2026, 1, 1), end_inclusive=date(2026, 6, 30))
        >>> new.key, new.start
        ('C1/budget:01:agency/replaces:SB1', datetime.date(2026, 1, 1))
    """
    if end_inclusive < start:
        raise BookingRuleError(
            "BOOKING_DATES_INVALID", f"end {end_inclusive} is before start {start}"
        )
    return booking.request.model_copy(
        update={"start": start, "end_inclusive": end_inclusive, "replaces": booking.booking_id}
    )


@dataclass(frozen=True, slots=True)
class LinkResult:
    """A linked booking and the contract whose budget it now governs."""

    contract: Contract
    booking: ServiceBooking


def link_booking(contract: Contract, budget_ref: str, booking: ServiceBooking) -> LinkResult:
    """Link an existing PRODA booking to a category budget (irreversible).

    The budget takes its management type from the booking (``standard`` -> ``agency``,
    ``plan_managed`` -> ``plan``) and is marked ``requires_booking``; the booking records the
    budget and becomes traceable to it. The contract given is not changed: a new one is returned.

    Refusals: ``ALREADY_LINKED``, ``BUDGET_NOT_FOUND``, ``CATEGORY_MISMATCH``,
    ``PARTICIPANT_MISMATCH``, ``MANAGEMENT_CONFLICT`` (the contract already holds the category
    under the booking's management type in another budget), ``BOOKING_INACTIVE`` /
    ``BOOKING_REJECTED``.

    Examples:
        >>> c = Contract.model_validate({"id": "C1", "participant": "430000001", "pace": False,
        ...     "start": "2025-07-01", "end_inclusive": "2026-06-30",
        ...     "budgets": [{"id": "B1", "category": "01", "management": "plan",
        ...                  "total": "900.00"}]})
        >>> result = link_booking(c, "B1", _example_booking())
        >>> result.contract.budgets[0].management, result.booking.linked_budget
        ('agency', 'B1')
    """
    if booking.linked_budget is not None:
        raise BookingRuleError(
            "ALREADY_LINKED",
            f"booking {booking.booking_id} is already linked to budget {booking.linked_budget}: "
            "linking is irreversible",
        )
    _require_live(booking)
    index = next((i for i, b in enumerate(contract.budgets) if b.ref == budget_ref), None)
    if index is None:
        raise BookingRuleError(
            "BUDGET_NOT_FOUND", f"contract {contract.id} has no budget {budget_ref!r}"
        )
    budget = contract.budgets[index]
    if budget.category != booking.request.category:
        raise BookingRuleError(
            "CATEGORY_MISMATCH",
            f"booking {booking.booking_id} is for category {booking.request.category}, budget "
            f"{budget_ref} for category {budget.category}",
        )
    participant = booking.request.participant
    if contract.participant and participant and contract.participant != participant:
        raise BookingRuleError(
            "PARTICIPANT_MISMATCH",
            f"booking {booking.booking_id} is for participant {participant}, contract "
            f"{contract.id} for {contract.participant}",
        )
    management = management_for(booking.request.type)
    clash = [
        b.ref
        for i, b in enumerate(contract.budgets)
        if i != index and b.category == budget.category and b.management == management
    ]
    if clash:
        raise BookingRuleError(
            "MANAGEMENT_CONFLICT",
            f"budget {clash[0]} already holds category {budget.category} as {management}",
        )
    new_budget = budget.model_copy(update={"management": management, "requires_booking": True})
    budgets = (*contract.budgets[:index], new_budget, *contract.budgets[index + 1 :])
    new_contract = contract.model_copy(update={"budgets": budgets})
    request = booking.request.model_copy(
        update={
            "contract_id": contract.id,
            "source_kind": "budget",
            "source_id": new_budget.ref,
            "participant": participant or contract.participant,
        }
    )
    new_booking = booking.model_copy(update={"linked_budget": new_budget.ref, "request": request})
    return LinkResult(new_contract, new_booking)


# -- identity: PRODA's booking id ------------------------------------------------------------------

#: The ``contract_id`` of a booking as PRODA knows it (PRODA holds none of our keys).
PRODA_CONTRACT: Final = "proda"


def booking_from_proda(
    booking_id: str,
    *,
    participant: str,
    category: str,
    item: str | None,
    type: BookingType,
    start: date,
    end_inclusive: date,
    amount: Money,
    proda_code: str,
    reason: str | None = None,
    provider: str | None = None,
    has_payments: bool = False,
    ended_early: bool = False,
) -> ServiceBooking:
    """A booking as PRODA answers it: its own id, participant, category/item, type, dates,
    amount and status, and none of our keys (its request is ``external``, named by its id).

    Examples:
        >>> b = booking_from_proda("SB9", participant="430000001", category="01", item=None,
        ...     type="standard", start=date(2025, 7, 1), end_inclusive=date(2026, 6, 30),
        ...     amount=Money.parse("10.00"), proda_code="APPR")
        >>> b.request.source, b.status
        ('external:SB9', 'success')
    """
    request = BookingRequest(
        contract_id=PRODA_CONTRACT,
        participant=participant,
        source_kind="external",
        source_id=booking_id,
        category=category,
        item=item or None,
        type=type,
        start=start,
        end_inclusive=end_inclusive,
        amount=amount,
        provider=provider,
    )
    booking = ServiceBooking.from_request(booking_id, request, proda_code, reason)
    return booking.model_copy(update={"has_payments": has_payments, "ended_early": ended_early})


def stored_booking_ids(contract: Contract) -> dict[str, str]:
    """The booking ids the book holds, by source (``"budget:<ref>"``, ``"support:<id>"``).

    Examples:
        >>> c = Contract.model_validate({"id": "C1", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30", "budgets": [{"category": "01",
        ...     "management": "agency", "total": "9.00", "booking_id": "SB1"}]})
        >>> stored_booking_ids(c)
        {'budget:01:agency': 'SB1'}
    """
    ids = {f"budget:{b.ref}": b.booking_id for b in contract.budgets if b.booking_id}
    ids.update({f"support:{s.id}": s.booking_id for s in contract.support_items if s.booking_id})
    return ids


def store_booking_ids(contract: Contract, ids: Mapping[str, str]) -> Contract:
    """The contract with each booking id stored against the budget or support it funds (by
    source, as :func:`stored_booking_ids` names them); sources it does not hold are ignored. The
    contract given is not changed; it is returned as is when nothing changes.

    Examples:
        >>> c = Contract.model_validate({"id": "C1", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30", "budgets": [{"category": "01",
        ...     "management": "agency", "total": "9.00"}]})
        >>> store_booking_ids(c, {"budget:01:agency": "SB7"}).budgets[0].booking_id
        'SB7'
    """
    budgets = tuple(
        b.model_copy(update={"booking_id": ids[f"budget:{b.ref}"]})
        if ids.get(f"budget:{b.ref}", b.booking_id) != b.booking_id
        else b
        for b in contract.budgets
    )
    supports = tuple(
        s.model_copy(update={"booking_id": ids[f"support:{s.id}"]})
        if ids.get(f"support:{s.id}", s.booking_id) != s.booking_id
        else s
        for s in contract.support_items
    )
    if budgets == contract.budgets and supports == contract.support_items:
        return contract
    return contract.model_copy(update={"budgets": budgets, "support_items": supports})


MatchKind = Literal["stored", "found", "none"]


@dataclass(frozen=True, slots=True)
class BookingMatch:
    """What PRODA holds for one planned request.

    ``booking``: the live booking (pending or approved) that funds the request, else the rejected
    or inactive one found for it, else ``None`` (nothing: create it). ``how``: ``stored`` (by the
    id stored in the book), ``found`` (by category, item, booking type and overlapping dates among
    what PRODA holds), ``none``. ``replaces``: the rejected or inactive booking a live one stands
    in for. ``ambiguous``: the ids of several live bookings that could fund it (never a guess:
    nothing is created or changed).
    """

    request: BookingRequest
    booking: ServiceBooking | None
    how: MatchKind
    replaces: ServiceBooking | None = None
    ambiguous: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        """The matched booking is pending or approved."""
        return self.booking is not None and self.booking.status in ("pending", "success")


def _same_scope(request: BookingRequest, booking: ServiceBooking) -> bool:
    r = booking.request
    return (
        (r.participant in (None, request.participant))
        and r.category == request.category
        and (r.item or None) == (request.item or None)
        and r.type == request.type
        and booking.start <= request.end_inclusive
        and request.start <= booking.end_inclusive
    )


def _is_live(booking: ServiceBooking) -> bool:
    return booking.status in ("pending", "success")


def match_bookings(
    requests: tuple[BookingRequest, ...] | list[BookingRequest],
    stored: Mapping[str, str],
    held: tuple[ServiceBooking, ...] | list[ServiceBooking],
) -> tuple[BookingMatch, ...]:
    """Match each planned request to what PRODA holds (spec/bookings.md, identity by booking id).

    In order: the booking id stored in the book against the request's source; when that booking
    is rejected or inactive (or there is none), a live booking PRODA holds for the same category,
    item and booking type whose dates overlap the request's (a replacement, or one made before the
    id was stored); when there is no live one, the rejected or inactive one found that way. A
    booking matches at most one request (stored ids first, then requests in order). Pure.

    Examples:
        >>> r = _example_booking().request
        >>> held = [booking_from_proda("SB5", participant="430000001", category="01",
        ...     item=None, type="standard", start=r.start, end_inclusive=r.end_inclusive,
        ...     amount=r.amount, proda_code="APPR")]
        >>> [(m.how, m.booking.booking_id) for m in match_bookings([r], {}, held)]
        [('found', 'SB5')]
        >>> match_bookings([r], {}, [])[0].how
        'none'
    """
    by_id = {b.booking_id: b for b in held}
    claimed: set[str] = set()
    first: list[ServiceBooking | None] = []
    for request in requests:  # stored ids claim their bookings first
        found = by_id.get(stored.get(request.source, ""))
        if found is not None and found.booking_id not in claimed:
            claimed.add(found.booking_id)
            first.append(found)
        else:
            first.append(None)
    matches: list[BookingMatch] = []
    for request, stored_booking in zip(requests, first, strict=True):
        if stored_booking is not None and _is_live(stored_booking):
            matches.append(BookingMatch(request, stored_booking, "stored"))
            continue
        candidates = [
            b for b in held if b.booking_id not in claimed and _same_scope(request, b)
        ]
        live = [b for b in candidates if _is_live(b)]
        if len(live) > 1:
            matches.append(
                BookingMatch(
                    request, stored_booking, "stored" if stored_booking else "none",
                    ambiguous=tuple(b.booking_id for b in live),
                )
            )
            continue
        if live:
            claimed.add(live[0].booking_id)
            dead = stored_booking
            if dead is None:
                others = [b for b in candidates if not _is_live(b)]
                dead = others[-1] if others else None
                if dead is not None:
                    claimed.add(dead.booking_id)
            matches.append(BookingMatch(request, live[0], "found", replaces=dead))
            continue
        if stored_booking is not None:
            matches.append(BookingMatch(request, stored_booking, "stored"))
            continue
        if candidates:
            dead = candidates[-1]
            claimed.add(dead.booking_id)
            matches.append(BookingMatch(request, dead, "found"))
            continue
        matches.append(BookingMatch(request, None, "none"))
    return tuple(matches)


def _example_booking() -> ServiceBooking:
    """A pending standard booking SB1 for budget 01:agency of C1 (for the examples)."""
    request = BookingRequest(
        contract_id="C1",
        participant="430000001",
        source_kind="budget",
        source_id="01:agency",
        category="01",
        type="standard",
        start=date(2025, 7, 1),
        end_inclusive=date(2026, 3, 31),
        amount=Money.parse("900.00"),
    )
    return ServiceBooking.from_request("SB1", request)
