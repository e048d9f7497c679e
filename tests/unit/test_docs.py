"""Every Python example in README.md and docs/ runs; every YAML scenario example in
docs/scenarios.md passes; the generated codes page is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ndis_rules.codes import codes_reference
from ndis_rules.testing.scenarios import parse_scenarios, run_scenario

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(page: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", page.read_text(), flags=re.S)


PY = [(p.name, i, code) for p in PAGES for i, code in enumerate(blocks(p, "python"))]


@pytest.mark.parametrize(("page", "index", "code"), PY, ids=[f"{p}-{i}" for p, i, _ in PY])
def test_python_examples_run(page: str, index: int, code: str) -> None:
    exec(compile(code, f"{page}[{index}]", "exec"), {"__name__": "__doc_example__"})


def test_scenario_examples_in_the_format_doc_pass() -> None:
    examples = [
        b for b in blocks(ROOT / "docs" / "scenarios.md", "yaml") if "expect:" in b and "name:" in b
    ]
    assert examples
    for text in examples:
        for scenario in parse_scenarios(text, source="docs/scenarios.md"):
            result = run_scenario(scenario)
            assert result.passed, result.explain()


def test_codes_page_is_current() -> None:
    assert (ROOT / "docs" / "codes.md").read_text() == codes_reference(), (
        "docs/codes.md is stale: regenerate it from ndis_rules.codes.codes_reference()"
    )
