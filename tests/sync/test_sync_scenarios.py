"""Runs every sync scenario in docs/scenarios/sync/ and checks they cover every conflict code
and the plain cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ndis_rules.errors import InputError
from ndis_rules.merge import CONFLICT_CODES
from ndis_rules.testing.sync_scenarios import run_sync_scenario

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "docs" / "scenarios" / "sync").glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: one scenario (a mapping) per file"
    return data


SCENARIOS = {p.name: load(p) for p in FILES}


def test_scenarios_found() -> None:
    assert len(SCENARIOS) >= 10


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name: str) -> None:
    data = SCENARIOS[name]
    assert data.get("kind") == "sync", f"{name}: kind must be sync"
    mismatches = run_sync_scenario(data)
    assert mismatches == [], f"{name}: {data['name']}\n" + "\n".join(mismatches)


def test_every_conflict_code_has_a_scenario() -> None:
    expected = {c for d in SCENARIOS.values() for c in d["expect"].get("conflicts", [])}
    assert set(CONFLICT_CODES) - expected == set()


def test_plain_cases_are_covered() -> None:
    kinds = {
        k for d in SCENARIOS.values() for k in ("added", "changed", "ended") if d["expect"].get(k)
    }
    assert kinds == {"added", "changed", "ended"}
    assert any(
        d["expect"].get("conflicts") == []
        and not d["expect"].get("changed")
        and not d["expect"].get("added")
        and not d["expect"].get("ended")
        and d["expect"].get("unchanged")
        for d in SCENARIOS.values()
    ), "an idempotent resync scenario"


def test_a_failing_expectation_is_reported() -> None:
    data = dict(SCENARIOS["extend_budget.yaml"])
    data["expect"] = {"conflicts": ["NEW_PLAN"], "changed": [], "applies": False}
    mismatches = run_sync_scenario(data)
    assert len(mismatches) == 3
    assert any(m.startswith("conflicts: expected ['NEW_PLAN'], got []") for m in mismatches)


def test_a_malformed_scenario_is_an_input_error() -> None:
    data = dict(SCENARIOS["extend_budget.yaml"])
    data["expect"] = {"conflict": []}
    with pytest.raises(InputError, match=r"expect\.conflict"):
        run_sync_scenario(data)
    data["expect"] = {"conflicts": ["NOT_A_CODE"]}
    with pytest.raises(InputError, match="NOT_A_CODE"):
        run_sync_scenario(data)


def test_unquoted_money_in_yaml_is_refused() -> None:
    text = (ROOT / "docs" / "scenarios" / "sync" / "new_budgets_added.yaml").read_text()
    data = yaml.safe_load(text.replace('total: "16000.00"', "total: 16000.50"))
    with pytest.raises(InputError, match="float"):
        run_sync_scenario(data)


def test_the_lead_scenario_runner_runs_sync_files() -> None:
    from ndis_rules.testing.scenarios import run_scenario_file

    results = run_scenario_file(FILES[0])
    assert len(results) == 1
    assert results[0].passed


def test_the_format_doc_example_passes() -> None:
    import re

    text = (ROOT / "docs" / "scenarios-sync.md").read_text(encoding="utf-8")
    examples = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert examples
    for block in examples:
        assert run_sync_scenario(yaml.safe_load(block)) == []
