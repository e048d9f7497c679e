"""The set of rule codes is pinned: removing or renaming one is a visible diff."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ndis_rules.codes import CODES, all_codes, render

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "codes.json"


def test_codes_are_pinned() -> None:
    pinned = json.loads(SNAPSHOT.read_text())
    current = list(all_codes())
    assert [c for c in pinned if c not in current] == [], "a code was removed or renamed"
    assert current[: len(pinned)] == pinned, "new codes go at the end of the snapshot"


def test_every_code_has_a_spec_and_upper_snake_name() -> None:
    assert set(CODES) == set(all_codes())
    for code in all_codes():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code)
        assert CODES[code].severity in {"error", "warning", "info"}


def test_render_leaves_unknown_fields_visible() -> None:
    assert "{period}" in render("PENDING_PERIOD", {"start": "2025-10-01"})
