"""One registry of every code a user can see, in five families:

* ``rule``: claim validation findings (spec/validation.md), the ``code`` of a
  :class:`~ndis_rules.outcomes.Finding` on a line; their severity per channel and setting is in
  :mod:`ndis_rules.channels`;
* ``conflict``: sync conflicts (spec/sync.md), the ``code`` of a :class:`ndis_rules.merge.Conflict`;
* ``booking``: booking-planning findings (spec/bookings.md), the ``code`` of a
  :class:`~ndis_rules.outcomes.Finding` of :func:`ndis_rules.bookings.plan_bookings`;
* ``refusal``: booking lifecycle refusals, the ``code`` of a
  :class:`ndis_rules.errors.BookingRuleError`;
* ``file``: codes of the bulk check itself (:mod:`ndis_rules.claims`), beside the rule codes of a
  claims report row.

Each code has one frozen :class:`CodeSpec` per family it belongs to (``BOOKING_DATES_INVALID`` is
both a planning finding and a lifecycle refusal): its message template, its default severity where
the family is graded (rule, booking, file; conflicts and refusals stop an operation instead), the
spec section or help article it comes from, the NDIA rejection code it prevents where one exists,
and one line a plan manager can act on. Each family's codes are a ``Literal`` type here, so a typo
in a code is a type error. A code is never renamed or reused: ``tests/snapshots/codes.json`` pins
every family, and ``docs/codes.md`` is generated from this module (:func:`codes_reference`).

Examples:
    >>> render("PENDING_PERIOD", {"period": "FP3", "start": "2025-10-01"})
    'The service dates fall in funding period FP3, which is pending until 2025-10-01: funds are not released yet.'
    >>> spec = spec_for("conflict", "NEW_PLAN")
    >>> spec.family, spec.severity, spec.what_to_do.split(":")[0]
    ('conflict', None, 'Create a new contract from the new plan')
    >>> [s.family for s in lookup("BOOKING_DATES_INVALID")]
    ['booking', 'refusal']
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, TypeVar, cast, get_args

if TYPE_CHECKING:
    from .outcomes import Severity

__all__ = [
    "BOOKING_SPECS",
    "CODES",
    "CONFLICT_SPECS",
    "FAMILIES",
    "FILE_SPECS",
    "REFUSAL_SPECS",
    "REGISTRY",
    "AnyCode",
    "BookingCode",
    "Code",
    "CodeSpec",
    "ConflictCode",
    "Family",
    "FileCode",
    "FindingCode",
    "RefusalCode",
    "ReportCode",
    "RuleCode",
    "all_codes",
    "codes_of",
    "codes_reference",
    "lookup",
    "registry",
    "render",
    "severity_changes",
    "spec_for",
]

#: The code families, in the order they are listed.
Family = Literal["rule", "conflict", "booking", "refusal", "file"]
FAMILIES: Final[tuple[Family, ...]] = get_args(Family)

#: Claim validation rule codes (spec/validation.md).
Code = Literal[
    # 1. input and date rules
    "INVALID_LINE",
    "OUTSIDE_CONTRACT",
    "CONTRACT_INACTIVE",
    "OUTSIDE_BUDGET_DATES",
    "PENDING_PERIOD",
    "SPANS_PERIODS",
    "NO_PERIOD",
    "FUTURE_DATE",
    "CLAIM_TOO_OLD",
    # 1a. which budgets a line uses
    "NO_CATEGORY_BUDGET",
    "MANAGEMENT_TYPE_REQUIRED",
    "PROVIDER_NOT_ON_CONTRACT",
    # 2./3. funding rules
    "NOT_A_STATED_ITEM",
    "OUTSIDE_PROVIDER_AGREEMENT",
    "PROVIDER_BUDGET_INSUFFICIENT",
    "SUPPORT_ITEM_BUDGET_EXCEEDED",
    "DRAWS_CORE_FLEXIBLE",
    "INSUFFICIENT_FUNDS",
    "PAST_PERIOD",
    "EXPIRED_PERIOD_DRAWS_CORE_FLEXIBLE",
    "EXPIRED_PERIOD_INSUFFICIENT",
    "CLAIMED_AGAINST_CURRENT_PERIOD",
    # 5. invoice actions
    "UNDO_CANCEL_PROVIDER_BUDGET",
    # 6. channels
    "OVERLAPPING_PERIODS",
    "PROVIDER_NOT_APPROVED",
    # 8. checks that need the support catalogue, claim types, duplicates
    "UNKNOWN_SUPPORT_ITEM",
    "ITEM_NOT_VALID_ON_DATE",
    "PRICE_ABOVE_LIMIT",
    "DAY_TYPE_MISMATCH",
    "CLAIM_TYPE_NOT_ALLOWED",
    "CANCELLATION_REASON_REQUIRED",
    "DUPLICATE_INVOICE",
    "DUPLICATE_LINE",
    "NO_CATALOGUE_FOR_DATE",
    # 1a. who may claim which money (added after the families joined the registry)
    "MANAGEMENT_TYPE_NOT_CLAIMABLE",
]
RuleCode: TypeAlias = Code

#: Sync conflict codes (spec/sync.md): the ``code`` of a :class:`ndis_rules.merge.Conflict`.
ConflictCode = Literal[
    "TOTAL_BELOW_DELIVERED",
    "PERIOD_HAS_DELIVERED",
    "DELIVERED_OUTSIDE_DATES",
    "SPCB_REALIGN_NEEDED",
    "BOOKING_LOCKS_MANAGEMENT",
    "NEW_PLAN",
    "PLAN_PERIODS_INVALID",
    "AMBIGUOUS_MATCH",
    "MANAGEMENT_CHANGE_HAS_DELIVERED",
]

#: Booking-planning finding codes (spec/bookings.md).
BookingCode = Literal[
    "SELF_MANAGED_NO_BOOKING",
    "STATED_REMAINDER_UNBOOKABLE",
    "BOOKING_DATES_INVALID",
    "PLACEHOLDER_TOTAL",
    "BOOKED_AT_SUPPORT_LEVEL",
    "BOOKING_MANAGEMENT_UNKNOWN",
    "BOOKINGS_EXCEED_BUDGET",
    "PLAN_MANAGED_NEEDS_STANDARD_BOOKING",
    "PACE_PLAN_NO_BOOKING",
]

#: Booking lifecycle refusal codes: the ``code`` of a :class:`ndis_rules.errors.BookingRuleError`.
RefusalCode = Literal[
    "START_DATE_LOCKED",
    "END_DATE_EARLIER_REFUSED",
    "MANAGEMENT_TYPE_LOCKED",
    "ALREADY_ENDED_EARLY",
    "END_DATE_IN_PAST",
    "END_DATE_NOT_EARLIER",
    "BOOKING_DATES_INVALID",
    "BOOKING_HAS_PAYMENTS",
    "BOOKING_INACTIVE",
    "BOOKING_REJECTED",
    "ALREADY_LINKED",
    "BUDGET_NOT_FOUND",
    "CATEGORY_MISMATCH",
    "PARTICIPANT_MISMATCH",
    "MANAGEMENT_CONFLICT",
]

#: Codes of the bulk check itself (:mod:`ndis_rules.claims`), beside the engine's rule codes.
FileCode = Literal["BPR_INVALID_ROW", "BPR_ROW_WARNING", "NO_CONTRACT_FOR_PARTICIPANT"]

#: The ``code`` of a :class:`~ndis_rules.outcomes.Finding`: a rule or a booking-planning finding.
FindingCode: TypeAlias = Code | BookingCode
#: A code on a row of a claims report: the engine's findings and the file codes.
ReportCode: TypeAlias = FindingCode | FileCode
#: Any code of any family.
AnyCode: TypeAlias = Code | ConflictCode | BookingCode | RefusalCode | FileCode


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeSpec:
    """What a code means.

    Attributes:
        template: the message, ``str.format`` fields from the facts. For rule and booking codes
            it *is* the message; conflict, refusal and file messages are composed where they are
            raised, and the template shows their usual shape.
        severity: the default severity of a graded code (rule, booking, file); a channel or a
            setting may change a rule code's (:mod:`ndis_rules.channels`). ``None`` for conflicts
            (apply is refused until accepted) and refusals (the operation is refused).
        source: the spec section or help article the code comes from.
        what_to_do: one line a plan manager can act on.
        ndia_rejection: the NDIA rejection code (api-fields.md) the check prevents, if any.
        ours: True when the spec does not name the code (ndis-rules adds it).
        family: the family (``rule``, ``conflict``, ``booking``, ``refusal``, ``file``).
        code: the code itself.
    """

    template: str
    severity: Severity | None
    source: str
    what_to_do: str
    ndia_rejection: str | None = None
    ours: bool = False
    family: Family = "rule"
    code: str = ""

    @property
    def default_severity(self) -> Severity:
        """The severity of a graded code; :class:`ValueError` for a conflict or a refusal."""
        if self.severity is None:
            raise ValueError(f"{self.family} code {self.code} has no severity")
        return self.severity


def _c(
    template: str,
    severity: Severity | None,
    source: str,
    what_to_do: str,
    ndia_rejection: str | None = None,
    *,
    ours: bool = False,
) -> CodeSpec:
    return CodeSpec(
        template=template,
        severity=severity,
        source=source,
        what_to_do=what_to_do,
        ndia_rejection=ndia_rejection,
        ours=ours,
    )


K = TypeVar("K", bound=str)


def _family(family: Family, specs: Mapping[K, CodeSpec]) -> Mapping[K, CodeSpec]:
    return {code: replace(spec, family=family, code=code) for code, spec in specs.items()}


CODES: Final[Mapping[Code, CodeSpec]] = _family(
    "rule",
    {
        "INVALID_LINE": _c(
            "The line is not valid: {problem}.",
            "error",
            "validation.md §1",
            "Correct the line (dates in order, quantity and unit price above zero, a known "
            "category, a well-formed item number) and enter it again.",
            "C20",
        ),
        "OUTSIDE_CONTRACT": _c(
            "Service dates {from} to {to} are outside the service contract "
            "({contract_start} to {contract_end}): no category or support item can be selected.",
            "error",
            "validation.md §1",
            "Check the service dates; if they are right, claim against the contract of the plan "
            "that covers them, or sync the plan if its dates changed.",
            "C22",
        ),
        "CONTRACT_INACTIVE": _c(
            "The service contract {contract} is inactive.",
            "error",
            "validation.md §1",
            "Claim against the participant's active contract, or reactivate this one (setting "
            "allow_inactive_contracts) if it is still to be claimed.",
        ),
        "OUTSIDE_BUDGET_DATES": _c(
            "Service dates {from} to {to} are outside the {budget} budget's dates "
            "({budget_start} to {budget_end}): the category is not offered.",
            "error",
            "validation.md §1",
            "Check the service dates; sync the plan from PACE if the budget's dates changed, "
            "otherwise the category cannot be claimed for those dates.",
            "C16",
        ),
        "PENDING_PERIOD": _c(
            "The service dates fall in funding period {period}, which is pending until {start}: "
            "funds are not released yet.",
            "error",
            "validation.md §1",
            "Hold the invoice until the funding period starts, or correct the dates.",
        ),
        "SPANS_PERIODS": _c(
            "Service dates {from} to {to} span {count} funding periods ({periods}).",
            "error",
            "validation.md §1",
            "Split the line into one line per funding period (or turn on claims_flexibility to "
            "split it pro rata).",
        ),
        "NO_PERIOD": _c(
            "No funding period of the {budget} budget covers {gap_from} to {gap_to}.",
            "error",
            "validation.md §1",
            "Sync the plan from PACE to bring in the missing funding period; if PACE has none "
            "for these dates, they cannot be claimed.",
        ),
        "FUTURE_DATE": _c(
            "Invoice has future dates. PRODA may reject this. (to {to} is after today {today})",
            "warning",
            "validation.md §1",
            "Check the service dates; claim the line once the services have been delivered.",
        ),
        "CLAIM_TOO_OLD": _c(
            "The service started {from}, more than 2 years before today {today} (NDIS Act s45A).",
            "error",
            "validation.md §1",
            "Do not claim it: the NDIA does not pay supports delivered more than 2 years ago; "
            "tell the provider.",
        ),
        "NO_CATEGORY_BUDGET": _c(
            "The contract has no {management} budget for category {category}.",
            "error",
            "validation.md §1a",
            "Check the item's category and management type; if the plan does not fund it, the "
            "line cannot be paid from this plan.",
        ),
        "MANAGEMENT_TYPE_REQUIRED": _c(
            "Category {category} is held under {options}: the invoice must state the management "
            "type it is claimed under.",
            "error",
            "validation.md §1a",
            "State on the invoice (or the line) the management type it is claimed under.",
            ours=True,
        ),
        "PROVIDER_NOT_ON_CONTRACT": _c(
            "Provider {provider} has no provider budget or support item budget on the contract: "
            "the line draws from the {budget} budget.",
            "info",
            "validation.md §1a, §5",
            "Nothing to do; add a provider budget (SPCB) for the provider if its spending "
            "should be capped.",
        ),
        "NOT_A_STATED_ITEM": _c(
            "Category {category} is stated for selected support items only, and {item} is not "
            "one of them.",
            "error",
            "validation.md §2",
            "Claim one of the category's stated support items, or ask the NDIA to add the item "
            "to the plan.",
            "C21",
        ),
        "OUTSIDE_PROVIDER_AGREEMENT": _c(
            "Service dates {from} to {to} are outside provider {provider}'s agreement "
            "({agreement_start} to {agreement_end}) in category {category}.",
            "error",
            "validation.md §2",
            "Check the dates with the provider; extend the provider's agreement (SPCB dates) if "
            "the services were agreed.",
        ),
        "PROVIDER_BUDGET_INSUFFICIENT": _c(
            "{amount} exceeds provider {provider}'s category budget {spcb} with {available} "
            "available{period_note}.",
            "error",
            "validation.md §2",
            "Raise the provider's category budget (SPCB) with the participant's agreement, or "
            "pay only what it covers.",
        ),
        "SUPPORT_ITEM_BUDGET_EXCEEDED": _c(
            "{amount} exceeds the support item budget {support_item} ({item}) with {available} "
            "available; the line draws from {fallback}.",
            "info",
            "validation.md §2",
            "Review the support item budget with the participant and raise it if the extra "
            "services were agreed (bulk import: before the line can go through).",
        ),
        "DRAWS_CORE_FLEXIBLE": _c(
            "The {budget} budget has {available} available for {amount}: {from_budget} from it "
            "and {from_pool} from the core flexible pool ({pool_available} available).",
            "info",
            "validation.md §2",
            "Nothing to do; the core flexible pool covers the shortfall (keep an eye on the "
            "participant's Core spending).",
        ),
        "INSUFFICIENT_FUNDS": _c(
            "{amount} exceeds what is available: {budget} has {available}{pool_note}.",
            "error",
            "validation.md §2",
            "Do not pay it from this plan: tell the provider and the participant the funds are "
            "used up, or pay a part agreed with them.",
        ),
        "PAST_PERIOD": _c(
            "Drawn from expired funding period {period} ({available} available).",
            "info",
            "validation.md §2",
            "Nothing to do; the late claim is paid from the expired period's unspent funds.",
        ),
        "EXPIRED_PERIOD_DRAWS_CORE_FLEXIBLE": _c(
            "Expired funding period {period} has {available} available for {amount}: "
            "{from_pool} drawn from the core flexible pool ({pool_available} available).",
            "warning",
            "validation.md §2",
            "Check the late claim: part of it is paid from the core flexible pool.",
        ),
        "EXPIRED_PERIOD_INSUFFICIENT": _c(
            "Expired funding period {period} has {available} available for {amount}"
            "{pool_note}.",
            "error",
            "validation.md §2",
            "The expired period cannot pay it: turn on claims_flexibility to charge the current "
            "period, or tell the provider.",
        ),
        "CLAIMED_AGAINST_CURRENT_PERIOD": _c(
            "Expired funding period {expired_period} cannot cover {amount}: claimed against the "
            "current funding period {period} ({available} available).",
            "warning",
            "validation.md §2 (claims_flexibility)",
            "Check the late claim: it uses the current period's funds.",
        ),
        "UNDO_CANCEL_PROVIDER_BUDGET": _c(
            "Undo cancel: {amount} exceeds provider {provider}'s category budget {spcb} with "
            "{available} available{period_note}.",
            "warning",
            "validation.md §5",
            "Raise the provider's category budget (SPCB), or leave the invoice cancelled.",
        ),
        "OVERLAPPING_PERIODS": _c(
            "Funding periods {periods} of the {budget} budget overlap.",
            "error",
            "validation.md §6",
            "Resync the plan from PACE (or correct the funding periods) so they do not overlap, "
            "then check the lines again.",
        ),
        "PROVIDER_NOT_APPROVED": _c(
            "Provider {provider} is not an approved service provider on this contract: the "
            "invoice goes to manual review.",
            "info",
            "validation.md §6 (streamline automated)",
            "Review the invoice by hand; add the provider to the contract (SPCB or support item "
            "budget) to let its invoices through automatically.",
            ours=True,
        ),
        "UNKNOWN_SUPPORT_ITEM": _c(
            "Support item {item} is not in the NDIS Support Catalogue.",
            "error",
            "validation.md §8",
            "Correct the support item number (see the NDIS Support Catalogue in force on the "
            "service date).",
            "C21",
        ),
        "ITEM_NOT_VALID_ON_DATE": _c(
            "Support item {item} is not in force for {from} to {to} (the catalogue lists it for "
            "{valid}).",
            "error",
            "validation.md §8",
            "Use the item in force on the service dates, or check against the catalogue of "
            "that year.",
            "C16/C17",
        ),
        "PRICE_ABOVE_LIMIT": _c(
            "Unit price {unit_price} is above the {region} price limit {limit} for {item}: "
            "{note}.",
            "warning",
            "validation.md §8",
            "Ask the provider for an invoice at or below the price limit, or pay only up to the "
            "limit.",
            "capped price",
        ),
        "DAY_TYPE_MISMATCH": _c(
            "{item} is a {expected} item but {day} is a {actual} ({state}).",
            "error",
            "validation.md §8",
            "Use the item for the day type of the service date (weekday, Saturday, Sunday or "
            "public holiday in the participant's state).",
        ),
        "CLAIM_TYPE_NOT_ALLOWED": _c(
            "Claim type {claim_type} is not allowed for {item}: {reason}.",
            "error",
            "validation.md §8",
            "Claim it as a direct service, or use an item the catalogue allows for that claim "
            "type.",
        ),
        "CANCELLATION_REASON_REQUIRED": _c(
            "Claim type {claim_type} with cancellation reason {reason}: {problem}.",
            "error",
            "validation.md §8",
            "Give a cancellation reason (NSDH, NSDF, NSDT or NSDO) with claim type CANC, and "
            "none with any other claim type.",
        ),
        "DUPLICATE_INVOICE": _c(
            "Invoice {number} from provider {provider} was already entered ({existing}).",
            "error",
            "validation.md §8",
            "Do not enter it twice: check whether the first one was paid, and cancel it first "
            "if this invoice replaces it.",
        ),
        "DUPLICATE_LINE": _c(
            "The line repeats {existing}: same claim type, reason, GST code, dates, category, "
            "item, quantity and rate.",
            "warning",
            "validation.md §8",
            "Ask the provider whether the service was delivered twice; remove the line if it is "
            "a repeat.",
        ),
        "NO_CATALOGUE_FOR_DATE": _c(
            "No catalogue given covers {day} (the line runs {from} to {to}; the catalogues cover "
            "{covered}): item, price limit, claim type and day type were not checked for this "
            "line.",
            "warning",
            "validation.md §8",
            "Check the line again with the NDIS Support Catalogue in force on its dates (give "
            "that year's catalogue too).",
            ours=True,
        ),
        "MANAGEMENT_TYPE_NOT_CLAIMABLE": _c(
            "The line is claimed from the {budget} budget, which is {management}-managed; these "
            "settings claim {claimable}-managed funds only.",
            "error",
            "validation.md §1a, §7",
            "Send the invoice back (agency-managed funds are claimed by a registered provider "
            "from the NDIA, self-managed by the participant), or add the type to the setting "
            "claimable_management if you do claim it.",
        ),
    },
)

CONFLICT_SPECS: Final[Mapping[ConflictCode, CodeSpec]] = _family(
    "conflict",
    {
        "TOTAL_BELOW_DELIVERED": _c(
            "The new total {new_total} of {budget} is below the {delivered} already delivered "
            "in it.",
            None,
            "sync.md Flow 2",
            "Check the budget's delivered services for a wrong entry; accept only if the budget "
            "is to stay overspent.",
        ),
        "PERIOD_HAS_DELIVERED": _c(
            "Funding period {period_id} of {budget} would be {new} while delivered services sit "
            "in it: {delivered}.",
            None,
            "sync.md Flow 2",
            "Check the delivered services of that period with the NDIA's figures; accept to let "
            "PACE's periods in as they are.",
        ),
        "DELIVERED_OUTSIDE_DATES": _c(
            "The new dates {new_start}..{new_end_inclusive} of {budget} leave delivered "
            "service(s) outside: {delivered}.",
            None,
            "sync.md Flow 2",
            "Check the delivered services listed (their dates or budget); accept to let PACE's "
            "dates in and leave them outside.",
        ),
        "SPCB_REALIGN_NEEDED": _c(
            "SPCB {spcb} ({provider}, {budget}) is distributed over funding period(s) {periods} "
            "that would be removed or moved.",
            None,
            "sync.md Flow 2",
            "Accept (the provider budget's distribution is cleared), then distribute it over the "
            "new funding periods again.",
        ),
        "BOOKING_LOCKS_MANAGEMENT": _c(
            "{budget} is linked to a PRODA service booking; its management type would change "
            "from {old_management} to {new_management}.",
            None,
            "sync.md Flow 2",
            "Check the change with the NDIA and end the PRODA service booking first; accept "
            "only if the booking no longer applies.",
        ),
        "NEW_PLAN": _c(
            "Plan {plan_id} is a new plan, not the contract's plan {contract_plan_id}: a "
            "reassessment is never merged.",
            None,
            "sync.md Rules (reassessment)",
            "Create a new contract from the new plan: the old contract stays as it is (this "
            "conflict cannot be accepted).",
        ),
        "PLAN_PERIODS_INVALID": _c(
            "The PACE funding periods of {budget} are not consistent: {problems}.",
            None,
            "sync.md Rules",
            "Check the plan's funding periods in PACE with the NDIA; accept only to take the "
            "budget in as PACE holds it.",
        ),
        "AMBIGUOUS_MATCH": _c(
            "PACE budget(s) {pace_budgets} could match local budget(s) {local_budgets}.",
            None,
            "sync.md Rules (matching)",
            "Link the local budget to its PACE budget id, or accept to leave those budgets "
            "untouched in this sync.",
            ours=True,
        ),
        "MANAGEMENT_CHANGE_HAS_DELIVERED": _c(
            "The management type of {budget} would change from {old_management} to "
            "{new_management} while delivered service(s) {delivered} draw on it as "
            "{old_management}.",
            None,
            "sync.md Rules (matching)",
            "Check the change with the NDIA; accept to move those delivered services with the "
            "budget (remaining stays total - delivered).",
            ours=True,
        ),
    },
)

BOOKING_SPECS: Final[Mapping[BookingCode, CodeSpec]] = _family(
    "booking",
    {
        "SELF_MANAGED_NO_BOOKING": _c(
            "{source} is self-managed: self-managed funds are not booked in PRODA, so no service "
            "booking is planned for it.",
            "warning",
            "bookings.md Planning",
            "Nothing to book: the participant pays self-managed supports; check the management "
            "type if it should be booked.",
            ours=True,
        ),
        "STATED_REMAINDER_UNBOOKABLE": _c(
            "Category {category} ({management}) totals {total} but its stated items allocate "
            "only {allocated}: the remaining {remainder} cannot be synced with PRODA and is not "
            "booked.",
            "warning",
            "bookings.md Planning",
            "Add stated supports for the rest of the category (or ask the NDIA to); the "
            "remainder cannot be claimed without a booking.",
            "C05",
        ),
        "BOOKING_DATES_INVALID": _c(
            "{source}: booking dates {start} to {end_inclusive} are not valid ({problem}); no "
            "booking is planned for it.",
            "error",
            "bookings.md Planning",
            "Correct the budget's or support's dates so they sit inside the plan and do not "
            "overlap another booking of the same category and provider.",
        ),
        "PLACEHOLDER_TOTAL": _c(
            "The contract total {total} looks like a placeholder ({problem}): no booking is "
            "planned for budgets that are not on the contract yet.",
            "warning",
            "bookings.md Planning; Careview: How to create new Service Bookings (seed 002)",
            "Enter the plan's budgets and the real total on the contract, then plan the "
            "bookings again.",
        ),
        "BOOKED_AT_SUPPORT_LEVEL": _c(
            "Category {category} ({management}) has stated items: it is booked at the support "
            "level only, and its total {total} stays on the contract without a booking.",
            "info",
            "bookings.md Planning",
            "Nothing to do; claims go against the support-level bookings.",
            ours=True,
        ),
        "BOOKING_MANAGEMENT_UNKNOWN": _c(
            "{source}: the management type is not set and category {category} has {count} "
            "budgets to take it from; set the support's management type to plan its booking.",
            "error",
            "bookings.md Planning",
            "Set the support's management type, then plan the bookings again.",
            ours=True,
        ),
        "BOOKINGS_EXCEED_BUDGET": _c(
            "Bookings planned for category {category} ({management}) add up to {booked}, more "
            "than its budget of {total}: PRODA may refuse them.",
            "warning",
            "bookings.md Planning",
            "Reduce the supports' amounts so their bookings fit the category budget.",
            ours=True,
        ),
        "PLAN_MANAGED_NEEDS_STANDARD_BOOKING": _c(
            "Plan-managed bookings need a standard booking under Capacity Building Choice and "
            "Control (category 14) between the plan manager and the participant; none is "
            "planned.",
            "warning",
            "api-fields.md PRODA service booking status codes; bookings.md Planning",
            "Add the plan management supports (set-up and monthly fees, category 14) to the "
            "contract, then plan the bookings again.",
            "C08",
            ours=True,
        ),
        "PACE_PLAN_NO_BOOKING": _c(
            "Contract {contract} is a PACE plan: PACE plans are claimed without PRODA service "
            "bookings, so none is planned.",
            "info",
            "README.md (PACE plans are not booked)",
            "Nothing to do: claim PACE plans without service bookings.",
            ours=True,
        ),
    },
)

_LIFECYCLE: Final = "bookings.md Booking lifecycle"

REFUSAL_SPECS: Final[Mapping[RefusalCode, CodeSpec]] = _family(
    "refusal",
    {
        "START_DATE_LOCKED": _c(
            "The start date of booking {booking} ({start}) is locked.",
            None,
            _LIFECYCLE,
            "Leave the start date: for another start, end this booking and plan a new one.",
            ours=True,
        ),
        "END_DATE_EARLIER_REFUSED": _c(
            "An edit may only move the end date of booking {booking} later than {end}.",
            None,
            _LIFECYCLE,
            "To bring the end date forward, end the booking early instead.",
        ),
        "MANAGEMENT_TYPE_LOCKED": _c(
            "Booking {booking} is {type}: its management type is locked.",
            None,
            _LIFECYCLE,
            "End this booking and plan a new one of the other type.",
            ours=True,
        ),
        "ALREADY_ENDED_EARLY": _c(
            "Booking {booking} was already ended early (end {end}).",
            None,
            _LIFECYCLE,
            "It cannot be ended early twice; plan a new booking if more services are needed.",
            ours=True,
        ),
        "END_DATE_IN_PAST": _c(
            "A booking can be ended today ({today}) or later, not {end}.",
            None,
            _LIFECYCLE,
            "End the booking today or later.",
            ours=True,
        ),
        "END_DATE_NOT_EARLIER": _c(
            "{end} is not before the current end {current_end} of booking {booking}.",
            None,
            _LIFECYCLE,
            "To move the end date later, edit the booking instead.",
            ours=True,
        ),
        "BOOKING_DATES_INVALID": _c(
            "{problem} (the booking's dates).",
            None,
            _LIFECYCLE,
            "Choose dates inside the booking and the plan, with the end not before the start.",
        ),
        "BOOKING_HAS_PAYMENTS": _c(
            "Booking {booking} has payment requests against it and cannot be deleted.",
            None,
            _LIFECYCLE,
            "End the booking early instead of deleting it.",
        ),
        "BOOKING_INACTIVE": _c(
            "Booking {booking} is inactive ({proda_code}).",
            None,
            _LIFECYCLE,
            "Plan a replacement booking for the new range.",
            ours=True,
        ),
        "BOOKING_REJECTED": _c(
            "Booking {booking} was rejected by PRODA ({reason}): it cannot be changed.",
            None,
            _LIFECYCLE,
            "Read PRODA's reason, fix its cause, and plan a new booking.",
            ours=True,
        ),
        "ALREADY_LINKED": _c(
            "Booking {booking} is already linked to budget {budget}: linking is irreversible.",
            None,
            _LIFECYCLE,
            "Nothing to do: the link stays; link another booking to the other budget.",
            ours=True,
        ),
        "BUDGET_NOT_FOUND": _c(
            "Contract {contract} has no budget {budget}.",
            None,
            _LIFECYCLE,
            "Check the budget reference against the contract's budgets.",
            ours=True,
        ),
        "CATEGORY_MISMATCH": _c(
            "Booking {booking} is for category {category}, budget {budget} for category "
            "{budget_category}.",
            None,
            _LIFECYCLE,
            "Link the booking to a budget of its own category.",
            ours=True,
        ),
        "PARTICIPANT_MISMATCH": _c(
            "Booking {booking} is for another participant than contract {contract}.",
            None,
            _LIFECYCLE,
            "Link the booking to a contract of the same participant.",
            ours=True,
        ),
        "MANAGEMENT_CONFLICT": _c(
            "Budget {other} already holds category {category} as {management}.",
            None,
            _LIFECYCLE,
            "Merge or remove the other budget of that category and management type first.",
            ours=True,
        ),
    },
)

FILE_SPECS: Final[Mapping[FileCode, CodeSpec]] = _family(
    "file",
    {
        "BPR_INVALID_ROW": _c(
            "row {row}, {column}: {problem}",
            "error",
            "claims-files.md Bulk payment request CSV",
            "Correct the named cell of the row in the file and check the file again; the row is "
            "not claimed until then.",
            "C10/C12/C20",
            ours=True,
        ),
        "BPR_ROW_WARNING": _c(
            "row {row}, {column}: {problem}",
            "warning",
            "claims-files.md Bulk payment request CSV",
            "Check the flagged cell (e.g. an NDIS number not starting 43) before uploading.",
            ours=True,
        ),
        "NO_CONTRACT_FOR_PARTICIPANT": _c(
            "row {row}: no contract for participant {participant}: the NDIA would reject the "
            "line (C22, no plan covers the support dates)",
            "error",
            "claims-files.md; api-fields.md NDIA rejection codes",
            "Check the NDIS number; add the participant's service contract before claiming.",
            "C22",
            ours=True,
        ),
    },
)

#: Every family's specs, keyed by code.
REGISTRY: Final[Mapping[Family, Mapping[str, CodeSpec]]] = {
    "rule": cast("Mapping[str, CodeSpec]", CODES),
    "conflict": cast("Mapping[str, CodeSpec]", CONFLICT_SPECS),
    "booking": cast("Mapping[str, CodeSpec]", BOOKING_SPECS),
    "refusal": cast("Mapping[str, CodeSpec]", REFUSAL_SPECS),
    "file": cast("Mapping[str, CodeSpec]", FILE_SPECS),
}

#: Each family's ``Literal`` type (the registry's keys are checked against it by a test).
_FAMILY_TYPES: Final[Mapping[Family, object]] = {
    "rule": Code,
    "conflict": ConflictCode,
    "booking": BookingCode,
    "refusal": RefusalCode,
    "file": FileCode,
}

_TITLES: Final[Mapping[Family, str]] = {
    "rule": "Claim validation rules",
    "conflict": "Sync conflicts",
    "booking": "Booking planning findings",
    "refusal": "Booking lifecycle refusals",
    "file": "Bulk file checks",
}


def all_codes() -> tuple[Code, ...]:
    """Every rule code, in declaration order."""
    return get_args(Code)


def codes_of(family: Family) -> tuple[str, ...]:
    """The codes of one family, in declaration order (its ``Literal`` type's order).

    Examples:
        >>> codes_of("file")
        ('BPR_INVALID_ROW', 'BPR_ROW_WARNING', 'NO_CONTRACT_FOR_PARTICIPANT')
    """
    return get_args(_FAMILY_TYPES[family])


def registry(family: Family | None = None) -> tuple[CodeSpec, ...]:
    """Every spec (of one family, or of all families in :data:`FAMILIES` order)."""
    families = FAMILIES if family is None else (family,)
    return tuple(REGISTRY[f][c] for f in families for c in codes_of(f))


def spec_for(family: Family, code: str) -> CodeSpec:
    """The spec of ``code`` in ``family`` (:class:`KeyError` when it is not one)."""
    return REGISTRY[family][code]


def lookup(code: str) -> tuple[CodeSpec, ...]:
    """The specs of ``code`` in every family it belongs to (empty when it is no code)."""
    return tuple(REGISTRY[f][code] for f in FAMILIES if code in REGISTRY[f])


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(code: Code, facts: Mapping[str, str]) -> str:
    """The human message for rule ``code`` from its template and the finding's facts."""
    return CODES[code].template.format_map(_Facts(facts))


def severity_changes(code: str) -> tuple[str, ...]:
    """How channels, processing modes and settings change a rule code's severity, as
    ``"<channel>[/<mode>]: <severity>"`` and ``"<setting>: <severity>"`` (empty: none)."""
    from .channels import SETTING_SEVERITY, SEVERITY

    changes = [
        f"{ch}{'/' + mode if mode else ''}: {sev}"
        for (ch, mode), table in SEVERITY.items()
        for c, sev in table.items()
        if c == code
    ] + [f"{setting}: {sev}" for setting, c, sev in SETTING_SEVERITY if c == code]
    if code == "SPANS_PERIODS":
        changes.append("claims_flexibility (not case_note): info, line split")
    return tuple(changes)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def codes_reference() -> str:
    """The Markdown page ``docs/codes.md``: every code of every family with its default
    severity (and, for rule codes, the channel/setting changes), its source, the NDIA rejection
    it prevents, what to do, and its message."""
    lines = [
        "# Codes",
        "",
        "Generated from `src/ndis_rules/codes.py` and `channels.py` "
        "(`python -c 'from ndis_rules.codes import codes_reference; print(codes_reference())'`);"
        " a test keeps it current. `ndis-rules codes` lists the same registry "
        "(`--family`, `--format json`). A code is never renamed or reused.",
        "",
        "Families: " + ", ".join(f"`{f}` ({_TITLES[f].lower()})" for f in FAMILIES) + ". "
        "Rule, booking and file codes are graded (`error` blocks, `warning` flags, `info` "
        "explains); a conflict stops a sync from applying until it is accepted, and a refusal "
        "stops a booking operation. *(ours)*: the spec does not name the code.",
    ]
    for family in FAMILIES:
        lines += ["", f"## {_TITLES[family]} (`{family}`)", ""]
        if family == "rule":
            lines += [
                "| code | severity | changed by channel / setting | source | prevents NDIA "
                "| what to do | message |",
                "|---|---|---|---|---|---|---|",
            ]
        else:
            lines += [
                "| code | severity | source | prevents NDIA | what to do | message |",
                "|---|---|---|---|---|---|",
            ]
        for spec in registry(family):
            ours = " (ours)" if spec.ours else ""
            cells = [f"`{spec.code}`", spec.severity or "-"]
            if family == "rule":
                cells.append("; ".join(severity_changes(spec.code)) or "-")
            cells += [
                f"{spec.source}{ours}",
                spec.ndia_rejection or "-",
                spec.what_to_do,
                spec.template,
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
