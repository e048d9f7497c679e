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


def test_a_bpr_quantity_with_trailing_zeros_past_the_cents_is_the_same_number() -> None:
    """``1.0000000000`` in a BPR's Quantity stopped ``claims check`` with an internal error (the
    reader kept 10 places, a claim line takes at most 9). It is 1.00."""
    from ndis_rules.bpr import COLUMNS, parse_bpr

    cells = [
        "4050012345",
        "431111111",
        "2025/11/03",
        "2025/11/03",
        "01_011_0107_1_1",
        "INV-1",
        "1.0000000000",
        "",
        "70.23",
        "P2",
        "",
        "",
        "",
        "",
        "",
        "12100000691",
    ]
    [result] = parse_bpr(",".join(COLUMNS) + "\n" + ",".join(cells) + "\n")
    assert result.row is not None and str(result.row.quantity) == "1.00"
