"""Shrunk failures found by the properties, kept as plain regressions."""

from __future__ import annotations

from datetime import date

from ndis_rules import Contract, Invoice, Settings, evaluate_invoice


def test_a_one_cent_line_split_over_two_periods_draws_no_zero_part() -> None:
    """Found by test_draws_sum_to_amount_and_errors_draw_nothing: 0.01 split pro rata over
    two funding periods is 0.01 + 0.00; the 0.00 part must not be reported as a draw."""
    contract = Contract.model_validate(
        {
            "id": "C1",
            "start": "2024-07-01",
            "end_inclusive": "2025-06-30",
            "budgets": [
                {
                    "category": "01",
                    "management": "plan",
                    "total": "10.00",
                    "funding": {
                        "periods": [
                            {
                                "id": "FP1",
                                "start": "2024-07-01",
                                "end_inclusive": "2024-07-31",
                                "amount": "5.00",
                            },
                            {
                                "id": "FP2",
                                "start": "2024-08-01",
                                "end_inclusive": "2025-06-30",
                                "amount": "5.00",
                            },
                        ]
                    },
                }
            ],
        }
    )
    invoice = Invoice.model_validate(
        {
            "id": "INV1",
            "provider": "P1",
            "lines": [
                {
                    "id": "L1",
                    "from": "2024-07-26",
                    "to": "2024-08-01",
                    "item": "01_011_0107_1_1",
                    "quantity": "1",
                    "unit_price": "0.01",
                }
            ],
        }
    )
    decision = evaluate_invoice(
        contract, invoice, as_of=date(2024, 8, 1), settings=Settings(claims_flexibility=True)
    )
    line = decision.lines[0]
    assert line.outcome != "error"
    assert [(d.budget, str(d.amount)) for d in line.draws] == [("01:plan", "0.01")]
    assert sum(p.amount.cents for p in line.parts) == 1
