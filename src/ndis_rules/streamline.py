"""The funding decision tables of the Streamline / Service Entry validation logic, as data.

Source: Careview, "Streamline Funding Period Validation Logic Overview" (shared/seeds/003), and
spec/validation.md sections 2 and 3. Each table is an ordered chain of labelled steps; for any
state of the facts exactly one step must match. Two matching steps is a :class:`RuleConflictError`
(a bug in the table), none a :class:`RuleGapError` (Catala's semantics). ``tests`` check every
table is total and unambiguous over every combination of facts.

Examples:
    >>> facts = FundingFacts(status="active", own_covers=False, pool_member=True,
    ...                      pool_covers=True)
    >>> select_step(WITH_PERIODS, facts).label
    'active_fp_short_pool_covers'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from .codes import Code
from .errors import RuleConflictError, RuleGapError

__all__ = [
    "POOL_ONLY",
    "SEED_ROWS",
    "WITHOUT_PERIODS",
    "WITH_PERIODS",
    "DrawPlan",
    "FundingFacts",
    "Step",
    "select_step",
]

#: Where a step's money comes from.
DrawPlan = Literal[
    "own",  # the FP (or the category budget without FPs) covers the whole amount
    "own_and_pool",  # the FP / category's remainder, the shortfall from the core flexible pool
    "pool",  # the whole amount from the core flexible pool (no budget of its own)
    "current_period",  # charged to the current active FP instead (claims_flexibility)
    "none",  # error: nothing is drawn
]


@dataclass(frozen=True, slots=True)
class FundingFacts:
    """What the funding step of a line depends on."""

    status: Literal["active", "expired", "none"]  # "none": a category without FPs
    own_covers: bool  # the FP / category availability covers the amount
    pool_member: bool  # the category is a flexible Core category with a pool behind it
    pool_covers: bool  # the core flexible pool's availability covers the amount
    flexibility: bool = False  # claims_flexibility is on
    current_covers: bool = False  # an active FP exists and covers the amount


@dataclass(frozen=True, slots=True)
class Step:
    """One labelled step of a decision table."""

    label: str
    when: Callable[[FundingFacts], bool]
    draws: DrawPlan
    code: Code | None = None
    seed_row: str | None = None


def _pool(f: FundingFacts) -> bool:
    return f.pool_member and f.pool_covers


WITH_PERIODS: Final[tuple[Step, ...]] = (
    Step(
        "active_fp_covers",
        lambda f: f.status == "active" and f.own_covers,
        "own",
    ),
    Step(
        "active_fp_short_pool_covers",
        lambda f: f.status == "active" and not f.own_covers and _pool(f),
        "own_and_pool",
        "DRAWS_CORE_FLEXIBLE",
        "Insufficient Active FP budget but sufficient Core Flexible budget",
    ),
    Step(
        "active_fp_and_pool_short",
        lambda f: f.status == "active" and not f.own_covers and not _pool(f),
        "none",
        "INSUFFICIENT_FUNDS",
        "Insufficient Category FP and Core Flexible budget",
    ),
    Step(
        "expired_fp_covers",
        lambda f: f.status == "expired" and f.own_covers,
        "own",
        "PAST_PERIOD",
    ),
    Step(
        "expired_fp_short_pool_covers",
        lambda f: f.status == "expired" and not f.own_covers and _pool(f),
        "own_and_pool",
        "EXPIRED_PERIOD_DRAWS_CORE_FLEXIBLE",
        "Expired FP with sufficient total core flexible budget",
    ),
    Step(
        "expired_fp_short_current_covers",
        lambda f: (
            f.status == "expired"
            and not f.own_covers
            and not _pool(f)
            and f.flexibility
            and f.current_covers
        ),
        "current_period",
        "CLAIMED_AGAINST_CURRENT_PERIOD",
    ),
    Step(
        "expired_fp_and_pool_short",
        lambda f: (
            f.status == "expired"
            and not f.own_covers
            and not _pool(f)
            and not (f.flexibility and f.current_covers)
        ),
        "none",
        "EXPIRED_PERIOD_INSUFFICIENT",
        "Expired FP with insufficient budget",
    ),
)

WITHOUT_PERIODS: Final[tuple[Step, ...]] = (
    Step("category_covers", lambda f: f.own_covers, "own"),
    Step(
        "category_short_pool_covers",
        lambda f: not f.own_covers and _pool(f),
        "own_and_pool",
        "DRAWS_CORE_FLEXIBLE",
        "Plan Budget insufficient, but Total Core Flexible sufficient",
    ),
    Step(
        "category_and_pool_short",
        lambda f: not f.own_covers and not _pool(f),
        "none",
        "INSUFFICIENT_FUNDS",
        "Category and Core Flexible budgets insufficient",
    ),
)

POOL_ONLY: Final[tuple[Step, ...]] = (
    Step("pool_covers", lambda f: f.pool_covers, "pool", "DRAWS_CORE_FLEXIBLE"),
    Step("pool_short", lambda f: not f.pool_covers, "none", "INSUFFICIENT_FUNDS"),
)


def select_step(table: tuple[Step, ...], facts: FundingFacts) -> Step:
    """The one step of ``table`` that matches ``facts``.

    Raises:
        RuleConflictError: more than one step matches.
        RuleGapError: no step matches.
    """
    matched = [s for s in table if s.when(facts)]
    if len(matched) > 1:
        raise RuleConflictError(
            f"steps {', '.join(s.label for s in matched)} all match {facts}: the table is ambiguous"
        )
    if not matched:
        raise RuleGapError(f"no step matches {facts}: the table has a gap")
    return matched[0]


#: Every row of the seed's tables (shared/seeds/003), with the code and outcome ndis-rules gives
#: it. ``tests/test_scenario_coverage.py`` checks each row has a scenario named after it.
SEED_ROWS: Final[tuple[tuple[str, str, Code | None, str], ...]] = (
    ("date", "Dates match a Pending Funding Period", "PENDING_PERIOD", "error"),
    ("date", "Future date within Active Funding Period", "FUTURE_DATE", "warning"),
    ("date", "From/To dates span multiple Funding Periods (overlap)", "SPANS_PERIODS", "error"),
    ("date", "Dates outside Service Contract range", "OUTSIDE_CONTRACT", "error"),
    ("with_fp", "Expired FP with insufficient budget", "EXPIRED_PERIOD_INSUFFICIENT", "error"),
    (
        "with_fp",
        "Expired FP with sufficient total core flexible budget",
        "EXPIRED_PERIOD_DRAWS_CORE_FLEXIBLE",
        "warning",
    ),
    (
        "with_fp",
        "Active FP with insufficient Support Item budget",
        "SUPPORT_ITEM_BUDGET_EXCEEDED",
        "allowed",
    ),
    (
        "with_fp",
        "Active FP with insufficient Service Provider Category budget",
        "PROVIDER_BUDGET_INSUFFICIENT",
        "error",
    ),
    (
        "with_fp",
        "Insufficient Active FP budget but sufficient Core Flexible budget",
        "DRAWS_CORE_FLEXIBLE",
        "allowed",
    ),
    (
        "with_fp",
        "Insufficient Category FP and Core Flexible budget",
        "INSUFFICIENT_FUNDS",
        "error",
    ),
    ("without_fp", "Future date within Service Contract", "FUTURE_DATE", "warning"),
    ("without_fp", "Support Item budget insufficient", "SUPPORT_ITEM_BUDGET_EXCEEDED", "allowed"),
    (
        "without_fp",
        "Service Provider Category budget insufficient",
        "PROVIDER_BUDGET_INSUFFICIENT",
        "error",
    ),
    (
        "without_fp",
        "Plan Budget insufficient, but Total Core Flexible sufficient",
        "DRAWS_CORE_FLEXIBLE",
        "allowed",
    ),
    (
        "without_fp",
        "Category and Core Flexible budgets insufficient",
        "INSUFFICIENT_FUNDS",
        "error",
    ),
    (
        "action",
        "Update Service Provider not in Service Contract",
        "PROVIDER_NOT_ON_CONTRACT",
        "allowed",
    ),
    (
        "action",
        "Cancel then Undo Cancel with insufficient SPCB budget",
        "UNDO_CANCEL_PROVIDER_BUDGET",
        "warning",
    ),
    ("action", "Cancel then Undo Cancel with sufficient budgets", None, "allowed"),
)
