"""The PACE plan model, its JSON Schema and documented example, and the two PACE sources."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ndis_rules.adapters.pace_jsondir import JsonDirPaceSource
from ndis_rules.adapters.pace_memory import InMemoryPaceSource
from ndis_rules.errors import NdisRulesError
from ndis_rules.pace import PacePlan, ParticipantRef, pace_plan_json_schema
from ndis_rules.store_errors import (
    ParticipantNotFound,
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
)

ROOT = Path(__file__).resolve().parents[2]
WHO = ParticipantRef(ndis_number="430000001", last_name="Citizen", date_of_birth=date(1990, 1, 31))


def plan_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "plan_id": "P1",
        "ndis_number": "430000001",
        "status": "ACTIVE",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "3000.00",
        "budgets": [
            {
                "pace_budget_id": "B-01",
                "category": "01",
                "ndia_category_code": "DAILY_ACTIVITIES",
                "support_type": "CORE",
                "management": "PLAN",
                "budget_type": "FLEXIBLE",
                "total": "3000.00",
                "funding": {
                    "amount": "3000.00",
                    "instalment_type": "Regular",
                    "instalment_months": 3,
                    "periods": [
                        {
                            "funding_period_id": "FP1",
                            "start": "2025-07-01",
                            "end_inclusive": "2025-12-31",
                            "amount": "1500.00",
                            "released": "yes",
                        },
                        {
                            "funding_period_id": "FP2",
                            "start": "2026-01-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "1500.00",
                            "released": False,
                        },
                    ],
                },
            }
        ],
    }
    data.update(changes)
    return data


def camel(data: dict[str, Any]) -> dict[str, Any]:
    names = {
        "plan_id": "planNumber",
        "ndis_number": "ndisNumber",
        "status": "planStatus",
        "start": "startDate",
        "end_inclusive": "endDate",
        "total": "totalFunding",
        "pace_budget_id": "budgetId",
        "category": "supportCategory",
        "ndia_category_code": "supportCategoryApi",
        "support_type": "supportType",
        "management": "managementType",
        "budget_type": "budgetType",
        "funding": "fundingComponent",
        "instalment_type": "instalmentType",
        "instalment_months": "instalmentInterval",
        "periods": "fundingPeriods",
        "funding_period_id": "fundingPeriodId",
    }

    def walk(x: Any, in_budget: bool = False) -> Any:
        if isinstance(x, dict):
            out = {}
            for k, v in x.items():
                key = names.get(k, k)
                if in_budget and k == "total":
                    key = "allocatedAmount"
                out[key] = walk(v, k == "budgets")
            return out
        if isinstance(x, list):
            return [walk(v, in_budget) for v in x]
        return x

    return walk(data)  # type: ignore[no-any-return]


def test_snake_and_camel_case_give_the_same_plan() -> None:
    snake = PacePlan.model_validate(plan_data())
    assert PacePlan.model_validate(camel(plan_data())) == snake
    b = snake.budgets[0]
    assert (b.key, b.support_type, b.budget_type, b.ndia_category_code) == (
        "01:plan",
        "CORE",
        "flexible",
        "DAILY_ACTIVITIES",
    )
    assert b.funding is not None
    assert [p.released for p in b.funding.periods] == [True, False]


def test_plan_round_trips_through_json() -> None:
    plan = PacePlan.model_validate(plan_data())
    assert PacePlan.model_validate_json(plan.model_dump_json()) == plan


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"total": 3000.5}, ("total",)),
        ({"ndis_number": "43000"}, ("ndis_number",)),
        ({"start": "2025-07-01T00:00"}, ("start",)),
        ({"end_inclusive": "2025-06-30"}, ()),
        ({"unknown": 1}, ("unknown",)),
    ],
)
def test_invalid_plans_name_the_field(change: dict[str, Any], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        PacePlan.model_validate(plan_data(**change))
    assert info.value.errors()[0]["loc"] == loc


def test_budget_enumerations_are_checked() -> None:
    data = plan_data()
    data["budgets"][0]["management"] = "PARENT"
    with pytest.raises(ValidationError, match="management type"):
        PacePlan.model_validate(data)
    data = plan_data()
    data["budgets"][0]["funding"]["periods"][1]["funding_period_id"] = "FP1"
    with pytest.raises(ValidationError, match="repeated: FP1"):
        PacePlan.model_validate(data)


def test_json_schema_is_exported_with_snake_case_names() -> None:
    schema = pace_plan_json_schema()
    assert schema["title"] == "PACE plan"
    budget = schema["$defs"]["PaceBudget"]["properties"]
    assert {"pace_budget_id", "ndia_category_code", "stated_items_only", "funding"} <= set(budget)
    period = schema["$defs"]["PaceFundingPeriod"]["properties"]
    assert {"funding_period_id", "released", "end_inclusive"} <= set(period)
    json.dumps(schema)


def _json_blocks(page: Path) -> list[str]:
    return re.findall(r"```json\n(.*?)```", page.read_text(), flags=re.S)


def test_documented_example_plan_is_valid() -> None:
    blocks = _json_blocks(ROOT / "docs" / "pace-plan-format.md")
    assert len(blocks) >= 2
    plans = [json.loads(b) for b in blocks]
    for data in plans:
        if "participant" in data:  # a participant file for the JSON-directory source
            PacePlan.model_validate(data["plans"][0])
        else:
            PacePlan.model_validate(data)


# -- sources ------------------------------------------------------------------------------------
def test_memory_source_looks_up_by_all_three_details() -> None:
    source = InMemoryPaceSource()
    source.add_participant(WHO, [PacePlan.model_validate(plan_data())])
    assert [
        p.plan_id for p in source.plans_for(WHO.model_copy(update={"last_name": "CITIZEN"}))
    ] == ["P1"]
    for wrong in (
        {"last_name": "Smith"},
        {"date_of_birth": date(1990, 1, 30)},
        {"ndis_number": "430000002"},
    ):
        with pytest.raises(ParticipantNotFound):
            source.plans_for(WHO.model_copy(update=wrong))


@pytest.mark.parametrize(
    ("fault", "error", "builtin"),
    [
        ("timeout", SourceTimeout, TimeoutError),
        ("refused", SourceRefused, ConnectionRefusedError),
        ("not_authorised", SourceNotAuthorised, PermissionError),
        ("payload", SourcePayloadError, ValueError),
    ],
)
def test_memory_source_scripted_faults(
    fault: Any, error: type[Exception], builtin: type[Exception]
) -> None:
    source = InMemoryPaceSource()
    source.add_participant(WHO, [PacePlan.model_validate(plan_data())])
    source.fail_next(fault)
    with pytest.raises(error) as info:
        source.plans_for(WHO)
    assert isinstance(info.value, builtin)
    assert isinstance(info.value, SourceError)
    assert isinstance(info.value, NdisRulesError)
    assert source.plans_for(WHO)
    source.fail_always(fault)
    for _ in range(2):
        with pytest.raises(error):
            source.plans_for(WHO)
    source.recover()
    assert source.plans_for(WHO)


def test_memory_source_unauthorised_participant() -> None:
    source = InMemoryPaceSource()
    source.add_participant(WHO, [], authorised=False)
    with pytest.raises(SourceNotAuthorised):
        source.plans_for(WHO)


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data))


WHO_JSON = {"ndis_number": "430000001", "last_name": "Citizen", "date_of_birth": "1990-01-31"}


def test_jsondir_reads_participant_and_plan_files(tmp_path: Path) -> None:
    _write(tmp_path / "430000001.json", {"participant": WHO_JSON, "plans": [plan_data()]})
    _write(
        tmp_path / "430000001-P2.json",
        {"participant": WHO_JSON, "plan": camel(plan_data(plan_id="P2"))},
    )
    _write(
        tmp_path / "other.json",
        {"participant": {**WHO_JSON, "ndis_number": "430000009"}, "plans": [{"broken": True}]},
    )
    (tmp_path / "notes.txt").write_text("ignored")
    plans = JsonDirPaceSource(tmp_path).plans_for(WHO)
    assert sorted(p.plan_id for p in plans) == ["P1", "P2"]
    with pytest.raises(ParticipantNotFound):
        JsonDirPaceSource(tmp_path).plans_for(WHO.model_copy(update={"last_name": "Smith"}))


def test_jsondir_malformed_payload_names_file_and_field(tmp_path: Path) -> None:
    data = plan_data()
    data["budgets"][0]["funding"]["periods"][1]["amount"] = 1500.505  # read exactly: 3 places
    _write(tmp_path / "430000001.json", {"participant": WHO_JSON, "plans": [data]})
    with pytest.raises(SourcePayloadError) as info:
        JsonDirPaceSource(tmp_path).plans_for(WHO)
    err = info.value
    assert err.source == "430000001.json"
    assert err.loc == ("plans", 0, "budgets", 0, "funding", "periods", 1, "amount")
    assert "430000001.json: plans.0.budgets.0.funding.periods.1.amount" in str(err)
    assert "more than 2 decimal places" in str(err)


def test_jsondir_invalid_json_and_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{oops")
    with pytest.raises(SourcePayloadError, match=r"x.json: not valid JSON"):
        JsonDirPaceSource(tmp_path).plans_for(WHO)
    with pytest.raises(SourceRefused):
        JsonDirPaceSource(tmp_path / "missing").plans_for(WHO)


def test_jsondir_unauthorised(tmp_path: Path) -> None:
    _write(tmp_path / "a.json", {"participant": WHO_JSON, "authorised": False, "plans": []})
    with pytest.raises(SourceNotAuthorised):
        JsonDirPaceSource(tmp_path).plans_for(WHO)
