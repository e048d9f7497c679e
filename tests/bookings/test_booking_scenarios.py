"""Run the booking-planning scenarios of docs/scenarios/bookings, and check the runner itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ndis_rules.bookings import BOOKING_CODES
from ndis_rules.errors import InputError
from ndis_rules.testing.booking_scenarios import run_booking_scenario

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "scenarios" / "bookings"
FILES = sorted(FOLDER.glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 6


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(path: Path) -> None:
    data = load(path)
    assert data["kind"] == "bookings"
    assert run_booking_scenario(data) == []


def test_scenarios_cover_every_planning_code() -> None:
    seen = {code for p in FILES for code in load(p)["expect"].get("findings", [])}
    assert seen == set(BOOKING_CODES)


BASE: dict[str, Any] = {
    "kind": "bookings",
    "name": "runner check",
    "plan_manager": "PM1",
    "contract": {
        "id": "C1",
        "participant": "430000001",
        "pace": False,
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "900.00",
        "budgets": [
            {"category": "01", "management": "agency", "total": "900.00", "requires_booking": True}
        ],
    },
}


def scenario(expect: dict[str, Any]) -> dict[str, Any]:
    return {**BASE, "expect": expect}


def test_keys_left_out_are_not_checked() -> None:
    assert run_booking_scenario(BASE) == []
    assert run_booking_scenario(scenario({"bookings": [{}]})) == []


def test_mismatches_are_reported() -> None:
    out = run_booking_scenario(
        scenario(
            {
                "bookings": [
                    {"source": "budget:01:agency", "type": "plan_managed", "amount": "90.00"},
                    {"source": "support:X"},
                ],
                "findings": ["PLACEHOLDER_TOTAL"],
            }
        )
    )
    assert out == [
        "bookings: expected 2, got 1 (budget:01:agency)",
        "booking budget:01:agency: type expected plan_managed, got standard",
        "booking budget:01:agency: amount expected 90.00, got 900.00",
        "booking support:X: expected, not planned",
        "findings: expected ['PLACEHOLDER_TOTAL'], got []",
    ]


def test_positional_match_and_other_keys() -> None:
    out = run_booking_scenario(
        scenario(
            {
                "bookings": [
                    {
                        "category": 1,
                        "provider": "PM1",
                        "start": "2025-07-01",
                        "end_inclusive": "2026-06-30",
                        "item": None,
                        "source_kind": "budget",
                        "source_id": "01:agency",
                    }
                ]
            }
        )
    )
    assert out == []


def test_malformed_scenarios_raise_input_error() -> None:
    with pytest.raises(InputError, match=r"expect\.bookings\[0\]: unknown key"):
        run_booking_scenario(scenario({"bookings": [{"sauce": "x"}]}))
    with pytest.raises(InputError, match="expectations"):
        run_booking_scenario({**BASE, "expectations": {}})
    with pytest.raises(InputError, match=r"contract\.total"):
        run_booking_scenario({**BASE, "contract": {**BASE["contract"], "total": 1.5}})
