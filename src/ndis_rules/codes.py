"""Stable rule codes (spec/validation.md): the ``Code`` literal type and, per code, its message
template, default severity, the spec section it comes from, and the NDIA rejection it prevents.

A code is never renamed or reused; ``tests/snapshots/codes.json`` pins the set.

Examples:
    >>> render("PENDING_PERIOD", {"period": "FP3", "start": "2025-10-01"})
    'The service dates fall in funding period FP3, which is pending until 2025-10-01: funds are not released yet.'
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from .outcomes import Severity

__all__ = ["CODES", "Code", "CodeSpec", "all_codes", "render"]

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
]


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """What a code means: its message template (``str.format`` fields from the finding's facts),
    default severity (a channel may change it, see :mod:`ndis_rules.channels`), the spec row it
    comes from, and the NDIA rejection code it prevents, if any."""

    template: str
    severity: Severity
    source: str
    ndia_rejection: str | None = None
    ours: bool = False  # True for codes ndis-rules adds beyond spec/validation.md


CODES: Final[Mapping[Code, CodeSpec]] = {
    "INVALID_LINE": CodeSpec(
        "The line is not valid: {problem}.", "error", "validation.md §1", "C20"
    ),
    "OUTSIDE_CONTRACT": CodeSpec(
        "Service dates {from} to {to} are outside the service contract "
        "({contract_start} to {contract_end}): no category or support item can be selected.",
        "error",
        "validation.md §1",
        "C22",
    ),
    "CONTRACT_INACTIVE": CodeSpec(
        "The service contract {contract} is inactive.", "error", "validation.md §1"
    ),
    "OUTSIDE_BUDGET_DATES": CodeSpec(
        "Service dates {from} to {to} are outside the {budget} budget's dates "
        "({budget_start} to {budget_end}): the category is not offered.",
        "error",
        "validation.md §1",
        "C16",
    ),
    "PENDING_PERIOD": CodeSpec(
        "The service dates fall in funding period {period}, which is pending until {start}: "
        "funds are not released yet.",
        "error",
        "validation.md §1",
    ),
    "SPANS_PERIODS": CodeSpec(
        "Service dates {from} to {to} span {count} funding periods ({periods}).",
        "error",
        "validation.md §1",
    ),
    "NO_PERIOD": CodeSpec(
        "No funding period of the {budget} budget covers {gap_from} to {gap_to}.",
        "error",
        "validation.md §1",
    ),
    "FUTURE_DATE": CodeSpec(
        "Invoice has future dates. PRODA may reject this. (to {to} is after today {today})",
        "warning",
        "validation.md §1",
    ),
    "CLAIM_TOO_OLD": CodeSpec(
        "The service started {from}, more than 2 years before today {today} (NDIS Act s45A).",
        "error",
        "validation.md §1",
    ),
    "NO_CATEGORY_BUDGET": CodeSpec(
        "The contract has no {management} budget for category {category}.",
        "error",
        "validation.md §1a",
    ),
    "MANAGEMENT_TYPE_REQUIRED": CodeSpec(
        "Category {category} is held under {options}: the invoice must state the management "
        "type it is claimed under.",
        "error",
        "validation.md §1a",
        ours=True,
    ),
    "PROVIDER_NOT_ON_CONTRACT": CodeSpec(
        "Provider {provider} has no provider budget or support item budget on the contract: "
        "the line draws from the {budget} budget.",
        "info",
        "validation.md §1a, §5",
    ),
    "NOT_A_STATED_ITEM": CodeSpec(
        "Category {category} is stated for selected support items only, and {item} is not one "
        "of them.",
        "error",
        "validation.md §2",
        "C21",
    ),
    "OUTSIDE_PROVIDER_AGREEMENT": CodeSpec(
        "Service dates {from} to {to} are outside provider {provider}'s agreement "
        "({agreement_start} to {agreement_end}) in category {category}.",
        "error",
        "validation.md §2",
    ),
    "PROVIDER_BUDGET_INSUFFICIENT": CodeSpec(
        "{amount} exceeds provider {provider}'s category budget {spcb} with {available} "
        "available{period_note}.",
        "error",
        "validation.md §2",
    ),
    "SUPPORT_ITEM_BUDGET_EXCEEDED": CodeSpec(
        "{amount} exceeds the support item budget {support_item} ({item}) with {available} "
        "available; the line draws from {fallback}.",
        "info",
        "validation.md §2",
    ),
    "DRAWS_CORE_FLEXIBLE": CodeSpec(
        "The {budget} budget has {available} available for {amount}: {from_budget} from it and "
        "{from_pool} from the core flexible pool ({pool_available} available).",
        "info",
        "validation.md §2",
    ),
    "INSUFFICIENT_FUNDS": CodeSpec(
        "{amount} exceeds what is available: {budget} has {available}{pool_note}.",
        "error",
        "validation.md §2",
    ),
    "PAST_PERIOD": CodeSpec(
        "Drawn from expired funding period {period} ({available} available).",
        "info",
        "validation.md §2",
    ),
    "EXPIRED_PERIOD_DRAWS_CORE_FLEXIBLE": CodeSpec(
        "Expired funding period {period} has {available} available for {amount}: {from_pool} "
        "drawn from the core flexible pool ({pool_available} available).",
        "warning",
        "validation.md §2",
    ),
    "EXPIRED_PERIOD_INSUFFICIENT": CodeSpec(
        "Expired funding period {period} has {available} available for {amount}{pool_note}.",
        "error",
        "validation.md §2",
    ),
    "CLAIMED_AGAINST_CURRENT_PERIOD": CodeSpec(
        "Expired funding period {expired_period} cannot cover {amount}: claimed against the "
        "current funding period {period} ({available} available).",
        "warning",
        "validation.md §2 (claims_flexibility)",
    ),
    "UNDO_CANCEL_PROVIDER_BUDGET": CodeSpec(
        "Undo cancel: {amount} exceeds provider {provider}'s category budget {spcb} with "
        "{available} available{period_note}.",
        "warning",
        "validation.md §5",
    ),
    "OVERLAPPING_PERIODS": CodeSpec(
        "Funding periods {periods} of the {budget} budget overlap.",
        "error",
        "validation.md §6",
    ),
    "PROVIDER_NOT_APPROVED": CodeSpec(
        "Provider {provider} is not an approved service provider on this contract: the invoice "
        "goes to manual review.",
        "info",
        "validation.md §6 (streamline automated)",
        ours=True,
    ),
    "UNKNOWN_SUPPORT_ITEM": CodeSpec(
        "Support item {item} is not in the NDIS Support Catalogue.",
        "error",
        "validation.md §8",
        "C21",
    ),
    "ITEM_NOT_VALID_ON_DATE": CodeSpec(
        "Support item {item} is not in force for {from} to {to} (the catalogue lists it for "
        "{valid}).",
        "error",
        "validation.md §8",
        "C16/C17",
    ),
    "PRICE_ABOVE_LIMIT": CodeSpec(
        "Unit price {unit_price} is above the {region} price limit {limit} for {item}: {note}.",
        "warning",
        "validation.md §8",
        "capped price",
    ),
    "DAY_TYPE_MISMATCH": CodeSpec(
        "{item} is a {expected} item but {day} is a {actual} ({state}).",
        "error",
        "validation.md §8",
    ),
    "CLAIM_TYPE_NOT_ALLOWED": CodeSpec(
        "Claim type {claim_type} is not allowed for {item}: {reason}.",
        "error",
        "validation.md §8",
    ),
    "CANCELLATION_REASON_REQUIRED": CodeSpec(
        "Claim type {claim_type} with cancellation reason {reason}: {problem}.",
        "error",
        "validation.md §8",
    ),
    "DUPLICATE_INVOICE": CodeSpec(
        "Invoice {number} from provider {provider} was already entered ({existing}).",
        "error",
        "validation.md §8",
    ),
    "DUPLICATE_LINE": CodeSpec(
        "The line repeats {existing}: same claim type, reason, GST code, dates, category, "
        "item, quantity and rate.",
        "warning",
        "validation.md §8",
    ),
    "NO_CATALOGUE_FOR_DATE": CodeSpec(
        "No catalogue given covers {day} (the line runs {from} to {to}; the catalogues cover "
        "{covered}): item, price limit, claim type and day type were not checked for this line.",
        "warning",
        "validation.md §8",
        ours=True,
    ),
}


def all_codes() -> tuple[Code, ...]:
    """Every code, in declaration order."""
    return get_args(Code)


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(code: Code, facts: Mapping[str, str]) -> str:
    """The human message for ``code`` from its template and the finding's facts."""
    return CODES[code].template.format_map(_Facts(facts))


def codes_reference() -> str:
    """The Markdown page ``docs/codes.md``: every code with its default severity, the
    channel/setting severity changes, its source and the NDIA rejection it prevents."""
    from .channels import SETTING_SEVERITY, SEVERITY

    lines = [
        "# Rule codes",
        "",
        "Generated from `src/ndis_rules/codes.py` and `channels.py` "
        "(`python -c 'from ndis_rules.codes import codes_reference; print(codes_reference())'`);"
        " a test keeps it current. A code is never renamed or reused.",
        "",
        "| code | severity | changed by channel / setting | source | prevents NDIA | message |",
        "|---|---|---|---|---|---|",
    ]
    for code in all_codes():
        spec = CODES[code]
        changes = [
            f"{ch}{'/' + mode if mode else ''}: {table[code]}"
            for (ch, mode), table in SEVERITY.items()
            if code in table
        ] + [f"{setting}: {sev}" for setting, c, sev in SETTING_SEVERITY if c == code]
        if code == "SPANS_PERIODS":
            changes.append("claims_flexibility (not case_note): info, line split")
        ours = " (ours)" if spec.ours else ""
        template = spec.template.replace("|", "\\|")
        lines.append(
            f"| `{code}` | {spec.severity} | {'; '.join(changes) or '-'} | {spec.source}{ours} "
            f"| {spec.ndia_rejection or '-'} | {template} |"
        )
    return "\n".join(lines) + "\n"
