"""Every funding decision table is total and unambiguous (Catala semantics)."""

from __future__ import annotations

import itertools

import pytest

from ndis_rules.errors import RuleConflictError, RuleGapError
from ndis_rules.streamline import (
    POOL_ONLY,
    WITH_PERIODS,
    WITHOUT_PERIODS,
    FundingFacts,
    Step,
    select_step,
)


def all_facts(statuses: tuple[str, ...]) -> list[FundingFacts]:
    return [
        FundingFacts(status, *flags)  # type: ignore[arg-type]
        for status in statuses
        for flags in itertools.product([False, True], repeat=5)
    ]


@pytest.mark.parametrize(
    ("table", "statuses"),
    [(WITH_PERIODS, ("active", "expired")), (WITHOUT_PERIODS, ("none",)), (POOL_ONLY, ("none",))],
)
def test_table_total_and_unambiguous(table: tuple[Step, ...], statuses: tuple[str, ...]) -> None:
    used = set()
    for facts in all_facts(statuses):
        used.add(select_step(table, facts).label)
    assert used == {s.label for s in table}, "every step is reachable"


def test_conflict_and_gap_are_reported() -> None:
    always = Step("a", lambda f: True, "own")
    also = Step("b", lambda f: True, "none")
    facts = FundingFacts("none", True, False, False)
    with pytest.raises(RuleConflictError, match="a, b"):
        select_step((always, also), facts)
    with pytest.raises(RuleGapError):
        select_step((), facts)


def test_active_fp_short_and_pool_covers_draws_on_pool() -> None:
    step = select_step(WITH_PERIODS, FundingFacts("active", False, True, True))
    assert (step.code, step.draws) == ("DRAWS_CORE_FLEXIBLE", "own_and_pool")
    step = select_step(WITH_PERIODS, FundingFacts("active", False, False, True))
    assert step.code == "INSUFFICIENT_FUNDS"
