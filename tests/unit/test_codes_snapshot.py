"""Every code of every family is pinned: removing or renaming one is a visible diff."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ndis_rules.codes import CODES, FAMILIES, Family, all_codes, codes_of, render

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "codes.json"


def pinned() -> dict[str, list[str]]:
    data = json.loads(SNAPSHOT.read_text())
    assert isinstance(data, dict)
    return data


def test_the_snapshot_pins_every_family() -> None:
    assert list(pinned()) == list(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_codes_are_pinned(family: Family) -> None:
    pins = pinned()[family]
    current = list(codes_of(family))
    assert [c for c in pins if c not in current] == [], f"a {family} code was removed or renamed"
    assert current[: len(pins)] == pins, "new codes go at the end of their family's list"
    assert current == pins, f"pin the new {family} code(s) at the end of tests/snapshots/codes.json"


def test_the_rule_codes_keep_their_first_pins() -> None:
    """The rule codes pinned before the other families joined the registry, in their order."""
    first = pinned()["rule"][:33]
    assert first[0] == "INVALID_LINE" and first[-1] == "DUPLICATE_LINE"
    assert list(all_codes())[:33] == first


def test_every_code_has_a_spec_and_upper_snake_name() -> None:
    assert set(CODES) == set(all_codes())
    for code in all_codes():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code)
        assert CODES[code].severity in {"error", "warning", "info"}


def test_render_leaves_unknown_fields_visible() -> None:
    assert "{period}" in render("PENDING_PERIOD", {"start": "2025-10-01"})
