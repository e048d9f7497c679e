"""Runs every validation scenario under docs/scenarios/ and checks their coverage:
every rule code is expected and produced by at least one scenario, and every row of the seed's
Streamline tables has a scenario named after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndis_rules.codes import all_codes
from ndis_rules.streamline import SEED_ROWS
from ndis_rules.testing.scenarios import (
    LineExpectation,
    Scenario,
    compare_line,
    load_scenario_file,
    run_scenario,
    scenario_files,
)

ROOT = Path(__file__).resolve().parents[2]
FILES = scenario_files([ROOT / "docs" / "scenarios"])
SCENARIOS: list[Scenario] = [s for f in FILES for s in load_scenario_file(f)]


def test_scenarios_found() -> None:
    assert len(SCENARIOS) >= 60


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    result = run_scenario(scenario)
    assert result.passed, result.explain()


def _expected_codes(s: Scenario) -> set[str]:
    out: set[str] = set()
    for exp in s.expect.lines.values():
        out |= set(exp.codes or ()) | set(exp.codes_include or ())
    return out


def test_every_code_is_expected_and_produced_by_a_scenario() -> None:
    expected: set[str] = set()
    produced: set[str] = set()
    for s in SCENARIOS:
        expected |= _expected_codes(s)
        for inv in run_scenario(s, explain=False).decisions:
            for ld in inv.lines:
                produced |= set(ld.codes)
    codes = set(all_codes())
    assert codes - expected == set(), "codes no scenario expects"
    assert codes - produced == set(), "codes no scenario produces"
    assert expected - codes == set(), "scenarios expect codes that do not exist"


def test_every_seed_row_has_its_own_scenario() -> None:
    by_row = {s.seed_row: s for s in SCENARIOS if s.seed_row}
    for _table, row, code, outcome in SEED_ROWS:
        s = by_row.get(row)
        assert s is not None, f"no scenario for seed row {row!r}"
        assert s.name == row
        [exp] = list(s.expect.lines.values())[:1]
        assert exp.outcome == outcome, row
        if code is not None:
            assert code in (exp.codes or []), row


def test_a_wrong_expectation_fails() -> None:
    s = next(x for x in SCENARIOS if x.seed_row == "Dates match a Pending Funding Period")
    result = run_scenario(s)
    [line] = result.decisions[0].lines
    assert compare_line("L1", LineExpectation(outcome="allowed"), line) == [
        "line L1: outcome expected allowed, got error"
    ]
    assert compare_line("L1", LineExpectation(codes=["FUTURE_DATE"]), line)
    assert compare_line(
        "L1",
        LineExpectation.model_validate({"draws": [{"budget": "01:plan", "amount": "70.23"}]}),
        line,
    )
    assert compare_line("L1", LineExpectation(codes_include=["PENDING_PERIOD"]), line) == []
