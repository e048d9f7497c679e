from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ndis_rules.errors import InputError
from ndis_rules.files.documents import parse_model, read_contract, read_invoices, read_settings
from ndis_rules.models import Contract, Invoice, Settings

CONTRACT = {
    "id": "C1",
    "start": "2025-07-01",
    "end_inclusive": "2026-06-30",
    "budgets": [{"category": "01", "management": "plan", "total": "100.00"}],
}


def line(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "L1",
        "from": "2025-08-01",
        "to": "2025-08-01",
        "item": "01_011_0107_1_1",
        "quantity": "1",
        "unit_price": "70.23",
    }
    base.update(over)
    return base


def test_json_round_trip() -> None:
    c = Contract.model_validate(CONTRACT)
    again = Contract.model_validate_json(c.model_dump_json(by_alias=True))
    assert again == c
    inv = Invoice.model_validate({"id": "I", "provider": "P", "lines": [line()]})
    assert Invoice.model_validate_json(inv.model_dump_json(by_alias=True)) == inv
    assert json.loads(inv.model_dump_json(by_alias=True))["lines"][0]["unit_price"] == "70.23"


@pytest.mark.parametrize(
    ("over", "field", "needle"),
    [
        ({"quantity": "1,5"}, "lines.0.quantity", "digits 0-9"),
        ({"quantity": "1e30"}, "lines.0.quantity", "digits 0-9"),
        ({"quantity": 1e30}, "lines.0.quantity", "too large"),
        ({"quantity": "\u0661"}, "lines.0.quantity", "digits 0-9"),
        ({"unit_price": "70,23"}, "lines.0.unit_price", "not an amount of money"),
        ({"unit_price": 1e30}, "lines.0.unit_price", "too large"),
        ({"to": "2025-W01-1"}, "lines.0.to", "YYYY-MM-DD"),
        ({"to": "9999-12-31"}, "lines.0.to", "out of range"),
        ({"to": "0002-01-01"}, "lines.0.to", "out of range"),
        ({"from": "01/08/2025"}, "lines.0.from", "YYYY-MM-DD"),
        ({"to": "2025-02-30"}, "lines.0.to", "YYYY-MM-DD"),
        ({"from": 20250801}, "lines.0.from", "YYYY-MM-DD"),
        ({"unit_price": "12.345"}, "lines.0.unit_price", "not an amount of money"),
        ({"quantitty": "1"}, "lines.0.quantitty", "Extra inputs"),
    ],
)
def test_bad_input_names_the_field(over: dict[str, object], field: str, needle: str) -> None:
    text = json.dumps({"id": "I", "provider": "P", "lines": [line(**over)]})
    with pytest.raises(InputError) as info:
        parse_model(Invoice, text, "inv.json")
    message = str(info.value)
    assert message.startswith("inv.json: ")
    assert field in message
    assert needle in message


def test_datetime_refused_as_date() -> None:
    with pytest.raises(ValueError, match="date and time"):
        Invoice.model_validate(
            {"id": "I", "provider": "P", "lines": [line(**{"from": datetime(2025, 8, 1, 9, 0)})]}
        )


def test_unknown_category_on_a_budget_is_an_input_error() -> None:
    bad = {**CONTRACT, "budgets": [{"category": "22", "management": "plan", "total": "1.00"}]}
    with pytest.raises(InputError, match=r"budgets\.0\.category: unknown support category"):
        parse_model(Contract, json.dumps(bad), "c.json")


def test_duplicate_ids_refused() -> None:
    bad = {
        **CONTRACT,
        "delivered": [
            {
                "id": "D",
                "category": "01",
                "management": "plan",
                "from": "2025-08-01",
                "to": "2025-08-01",
                "amount": "1.00",
            }
        ]
        * 2,
    }
    with pytest.raises(InputError, match="repeated: D"):
        parse_model(Contract, json.dumps(bad), "c.json")


def test_period_dates_in_order() -> None:
    bad = {
        **CONTRACT,
        "budgets": [
            {
                "category": "15",
                "management": "plan",
                "total": "1.00",
                "funding": {
                    "periods": [
                        {
                            "id": "FP1",
                            "start": "2025-09-01",
                            "end_inclusive": "2025-08-01",
                            "amount": "1.00",
                        }
                    ]
                },
            }
        ],
    }
    with pytest.raises(InputError, match="before start"):
        parse_model(Contract, json.dumps(bad), "c.json")


def test_unknown_setting_is_an_error() -> None:
    with pytest.raises(InputError, match="claims_flexiblity"):
        parse_model(Settings, '{"claims_flexiblity": true}', "s.json")


def test_out_of_range_line_values_are_accepted_for_the_rules() -> None:
    inv = Invoice.model_validate(
        {
            "id": "I",
            "provider": "P",
            "lines": [line(quantity="0", unit_price="-1.00", category="99")],
        }
    )
    assert inv.lines[0].quantity == 0


def test_files(tmp_path: Path) -> None:
    folder = tmp_path
    c = folder / "c.json"
    c.write_text(json.dumps({"contract": CONTRACT}))
    assert read_contract(c).id == "C1"
    i = folder / "i.json"
    i.write_text(
        json.dumps(
            [
                {"id": "I", "provider": "P", "lines": [line()]},
                {"id": "J", "provider": "P", "lines": [line(quantity="2,5")]},
            ]
        )
    )
    with pytest.raises(InputError, match=r"invoices\.1\.lines\.0\.quantity"):
        read_invoices(i)
    # a JSON number with a fraction is read exactly, never as a float
    i.write_text(json.dumps([{"id": "J", "provider": "P", "lines": [line(quantity=2.5)]}]))
    assert read_invoices(i)[0].lines[0].quantity == Decimal("2.5")
    s = folder / "s.json"
    s.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_settings(s)
    with pytest.raises(InputError, match="cannot read"):
        read_contract(folder / "missing.json")
    assert Contract.model_validate(CONTRACT).start == date(2025, 7, 1)
