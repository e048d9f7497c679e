"""PACE payloads as they come (issue 14, deliverable 3): aliases, ids and amounts as JSON numbers
read exactly, categoryCode either way, remaining ignored and recorded, the raw payload kept, only
what cannot be mapped refused (by name); a legacy contract must say it is not PACE; a misspelt key
in the PRODA store is an error; the schema files accept every documented shape."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from ndis_rules.adapters.proda_jsonfile import JsonFileProdaGateway
from ndis_rules.adapters.quickclaim import QuickclaimBooking
from ndis_rules.errors import InputError
from ndis_rules.files.documents import dumps_exact, loads_exact, parse_model
from ndis_rules.models import Contract
from ndis_rules.money import Money
from ndis_rules.pace import PacePlan, RawPayload, _snake
from ndis_rules.proda import GatewayError, Participant

ROOT = Path(__file__).resolve().parents[2]

VENDOR = """{
  "version": "2", "planId": 1001, "planNumber": 5000123, "participantId": 77,
  "ndisNumber": 430000001, "startDate": "2025-07-01", "endDate": "2026-06-30",
  "ndisRefreshDate": "2025-07-02", "rego": "4050000000", "totalFunding": 14500.05,
  "remaining": 999.99,
  "planBudgets": [
    {"budgetId": 11, "categoryCode": "01", "supportCategoryApi": "DAILY_ACTIVITIES",
     "managementType": "PLAN", "budgetType": "FLEXIBLE", "allocatedAmount": 12000.05,
     "remaining": 1.5,
     "fundingComponent": {"fundingComponentId": 5, "fundingAmount": 12000.05,
       "instalmentType": "Regular", "instalmentInterval": 6,
       "fundingPeriods": [
         {"fundingPeriodId": 1, "startDate": "2025-07-01", "endDate": "2025-12-31",
          "allocatedAmount": 6000.05, "isReleased": "yes"},
         {"fundingPeriodId": 2, "startDate": "2026-01-01", "endDate": "2026-06-30",
          "allocatedAmount": 6000, "isReleased": "not yet released"}]}},
    {"budgetId": "B-07", "categoryCode": "SUPPORT_COORDINATION", "managementType": "AGENCY",
     "budgetType": "STATED", "allocatedAmount": 2500}
  ]
}"""

NDIA = """{
  "plan_number": "5000123", "ndis_number": "430000001", "plan_start_date": "2025-07-01",
  "plan_end_date": "2026-06-30", "total_funding_amount": "14500.05",
  "plan_budgets": [
    {"budget_id": "11", "support_category_number": 1, "ndia_category_code": "DAILY_ACTIVITIES",
     "management_type": "PLAN_MANAGED", "budget_type": "flexible", "allocated_amount": "12000.05",
     "remaining_amount": "1.50",
     "funding_component": {"funding_component_id": "5", "funding_amount": "12000.05",
       "instalment_type": "Regular", "instalment_interval": 6,
       "funding_periods": [
         {"funding_period_id": "1", "start_date": "2025-07-01", "end_date": "2025-12-31",
          "amount": "6000.05", "released": true},
         {"funding_period_id": "2", "start_date": "2026-01-01", "end_date": "2026-06-30",
          "amount": "6000.00", "release_status": "no"}]}},
    {"budget_id": "B-07", "category_code": "SUPPORT_COORDINATION", "management_type": "agency",
     "budget_type": "stated", "allocated_amount": 2500}
  ]
}"""


def plan_of(text: str) -> PacePlan:
    return PacePlan.model_validate(loads_exact(text))


def test_vendor_and_ndia_shapes_give_the_same_plan_exactly() -> None:
    vendor, ndia = plan_of(VENDOR), plan_of(NDIA)
    # the raw payloads differ, and so do the keys ignored; the plans do not
    same = {"ignored": (), "gateway_plan_id": None}
    assert vendor.model_copy(update=same) == ndia.model_copy(update=same)
    assert vendor.plan_id == "5000123" and vendor.gateway_plan_id == "1001"
    assert ndia.gateway_plan_id is None
    assert vendor.total == Money.parse("14500.05")
    core, coordination = vendor.budgets
    assert (core.pace_budget_id, core.category, core.ndia_category_code) == (
        "11",
        "01",
        "DAILY_ACTIVITIES",
    )
    assert core.total == Money.parse("12000.05")
    assert core.funding is not None and core.funding.id == "5"
    assert [(p.funding_period_id, str(p.amount), p.released) for p in core.funding.periods] == [
        ("1", "6000.05", True),
        ("2", "6000.00", False),
    ]
    assert (coordination.category, coordination.ndia_category_code) == (
        "07",
        "SUPPORT_COORDINATION",
    )
    assert coordination.key == "07:agency" and coordination.budget_type == "stated"


def test_remaining_is_ignored_and_recorded_never_read() -> None:
    vendor, ndia = plan_of(VENDOR), plan_of(NDIA)
    assert vendor.ignored == (
        "version",
        "participantId",
        "ndisRefreshDate",
        "rego",
        "remaining",
        "planBudgets.0.remaining",
    )
    assert ndia.ignored == ("plan_budgets.0.remaining_amount",)
    dumped = json.dumps(vendor.model_dump(mode="json"))
    assert "999.99" not in dumped and "1.5" not in dumped


def test_the_raw_payload_is_kept_as_sent_and_never_serialised() -> None:
    data = loads_exact(VENDOR)
    plan = PacePlan.model_validate(data)
    assert isinstance(plan.raw, RawPayload)
    assert plan.raw["totalFunding"] == Decimal("14500.05")
    assert plan.raw["planBudgets"][0]["remaining"] == Decimal("1.5")
    data["planId"] = 0  # the caller's dict changing later does not change the snapshot
    assert plan.raw["planId"] == 1001
    assert "raw" not in plan.model_dump() and "14500.05" not in repr(plan.raw)
    assert PacePlan.model_validate(plan.model_dump()) == plan  # round trip, raw aside
    assert plan.model_copy().raw["planNumber"] == 5000123


@pytest.mark.parametrize(
    ("code", "category", "name"),
    [
        ("04", "04", None),
        (4, "04", None),
        ("SOCIAL_COMMUNITY_CIVIC", "04", "SOCIAL_COMMUNITY_CIVIC"),
        ("cb_choice_control", "14", "cb_choice_control"),
    ],
)
def test_category_code_is_a_number_or_an_ndia_name(
    code: object, category: str, name: str | None
) -> None:
    budget = {"categoryCode": code, "managementType": "PLAN", "allocatedAmount": 1}
    plan = PacePlan.model_validate({**base(), "budgets": [budget]})
    assert (plan.budgets[0].category, plan.budgets[0].ndia_category_code) == (category, name)


def test_a_support_category_label_is_kept_as_its_name() -> None:
    budget = {
        "supportCategory": "Assistance with Daily Life",
        "supportCategoryApi": "DAILY_ACTIVITIES",
        "managementType": "PLAN",
        "allocatedAmount": 1,
    }
    b = PacePlan.model_validate({**base(), "budgets": [budget]}).budgets[0]
    assert (b.category, b.category_name) == ("01", "Assistance with Daily Life")


def base(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "planNumber": 1,
        "ndisNumber": 430000001,
        "startDate": "2025-07-01",
        "endDate": "2026-06-30",
        "totalFunding": 1,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("budget", "needle"),
    [
        ({"categoryCode": "NOT_A_CATEGORY"}, "NDIA category code 'NOT_A_CATEGORY'"),
        ({"categoryCode": "04", "supportCategoryNumber": 4}, "categoryCode and"),
        ({"supportCategoryNumber": 4, "alocatedAmount": 1}, "alocatedAmount"),
        ({"supportCategoryNumber": 4, "allocatedAmount": Decimal("1.005")}, "2 decimal places"),
        ({"supportCategoryNumber": 4, "allocatedAmount": 1.5}, "not a float"),
    ],
)
def test_only_what_cannot_be_mapped_is_refused_by_name(budget: dict[str, Any], needle: str) -> None:
    data = {"managementType": "PLAN", "allocatedAmount": 1} | budget
    if "alocatedAmount" in budget:
        del data["allocatedAmount"]
    with pytest.raises(ValidationError) as info:
        PacePlan.model_validate({**base(), "budgets": [data]})
    assert needle in str(info.value) and "budgets.0" in str(info.value)


def test_an_ndis_number_must_still_be_nine_digits() -> None:
    with pytest.raises(ValidationError, match=r"ndis_number|ndisNumber"):
        PacePlan.model_validate(base(ndisNumber=12345))


def test_loads_exact_never_makes_a_float() -> None:
    data = loads_exact('{"a": 0.1, "b": [1e2, 12, 70.230], "c": true}')
    assert data == {"a": Decimal("0.1"), "b": [Decimal("1E+2"), 12, Decimal("70.230")], "c": True}
    assert dumps_exact(data) == '{"a":0.1,"b":[100,12,70.230],"c":true}'
    for bad in ("[NaN]", "[Infinity]", "[-Infinity]"):
        with pytest.raises(ValueError, match="not a number JSON allows"):
            loads_exact(bad)


def test_documents_read_numbers_with_cents_exactly() -> None:
    text = json.dumps(
        {
            "id": "C1",
            "pace": True,
            "start": "2025-07-01",
            "end_inclusive": "2026-06-30",
            "total": 0.3,
            "budgets": [{"category": "01", "management": "plan", "total": 0.3}],
        }
    )
    contract = parse_model(Contract, text, "c.json")
    assert contract.total == Money(30) and contract.budgets[0].total == Money(30)
    with pytest.raises(InputError, match="not valid JSON"):
        parse_model(Contract, '{"total": NaN}', "c.json")


# -- legacy contracts --------------------------------------------------------------------------
LEGACY: dict[str, Any] = {
    "id": "C1",
    "start": "2025-07-01",
    "end_inclusive": "2026-06-30",
    "budgets": [
        {"category": "01", "management": "agency", "total": "10", "requires_booking": True}
    ],
}


def test_a_contract_with_bookings_must_say_whether_it_is_pace() -> None:
    with pytest.raises(InputError) as info:
        parse_model(Contract, json.dumps(LEGACY), "legacy.json")
    assert 'set "pace": false' in str(info.value) and str(info.value).startswith("legacy.json")
    assert Contract.model_validate({**LEGACY, "pace": False}).pace is False
    assert Contract.model_validate({**LEGACY, "pace": True}).pace is True
    supports = {
        **LEGACY,
        "budgets": [],
        "support_items": [
            {
                "id": "S",
                "item": "01_011_0107_1_1",
                "category": "01",
                "quantity": "1",
                "rate": "1.00",
                "requires_booking": True,
            }
        ],
    }
    with pytest.raises(ValidationError, match="pace"):
        Contract.model_validate(supports)
    plain = {**LEGACY, "budgets": [{"category": "01", "management": "plan", "total": "10"}]}
    assert Contract.model_validate(plain).pace is True  # nothing booked: PACE, the default
    stored = Contract.model_validate({**LEGACY, "pace": False})
    assert Contract.model_validate_json(stored.model_dump_json()).pace is False


# -- the PRODA store file --------------------------------------------------------------------------
def test_a_misspelt_key_in_the_proda_store_is_an_error_not_an_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "proda.json"
    gw = JsonFileProdaGateway(path)
    p = Participant(ndis_number="430000001", name="Citizen", date_of_birth=date(1990, 1, 2))
    gw.register(p)
    state = json.loads(path.read_text())
    state["booking"] = state.pop("bookings")
    path.write_text(json.dumps(state))
    before = path.read_bytes()
    with pytest.raises(GatewayError, match=r"unknown top-level key.*'booking'"):
        JsonFileProdaGateway(path).list_bookings(p)
    assert path.read_bytes() == before


# -- schema files ------------------------------------------------------------------------------
def schema(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text())


def snake_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {_snake(k): snake_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [snake_keys(v) for v in data]
    return data


def test_every_accepted_shape_validates_against_its_schema() -> None:
    vendor = loads_exact(VENDOR)  # numbers as Decimal: exact, and numbers to the validator
    jsonschema.validate(vendor, schema("pace-plan-camelcase"))
    ndia = snake_keys({k: v for k, v in vendor.items() if k != "planId"})
    jsonschema.validate(ndia, schema("pace-plan-snakecase"))
    assert PacePlan.model_validate(ndia).budgets == plan_of(VENDOR).budgets
    ours = plan_of(VENDOR).model_dump(mode="json")
    jsonschema.validate(ours, schema("pace-plan"))
    broken = {**vendor, "totalFundng": 1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema("pace-plan-camelcase"))
    doc = (ROOT / "docs" / "pace-plan-format.md").read_text()
    example = json.loads(doc.split("```json\n", 1)[1].split("```", 1)[0])
    jsonschema.validate(example, schema("pace-plan"))
    booking = loads_exact(BOOKING)
    jsonschema.validate(booking, schema("quickclaim-service-booking"))
    assert QuickclaimBooking.model_validate(booking).amount == Money.parse("900.05")


BOOKING = """{"version": "1", "serviceBookingId": 77, "serviceBookingNumber": 5000001,
  "ndisNumber": 430000001, "participantName": "Citizen", "startDate": "2025-07-01",
  "endDate": "2026-06-30", "supportCategory": "Assistance with Daily Life",
  "supportCategoryApi": "DAILY_ACTIVITIES", "supportItem": "", "unit": "EA", "rate": 900.05,
  "amount": 900.05, "remaining": 100.5, "status": "APPR"}"""
