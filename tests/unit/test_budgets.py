from __future__ import annotations

from datetime import date

from ndis_rules import (
    Contract,
    Invoice,
    cancel_invoice,
    change_provider,
    clone_invoice,
    evaluate_invoice,
    record_invoice,
)
from ndis_rules.budgets import (
    Consumption,
    ContractIndex,
    Ledger,
    period_available,
    pool_available,
    spcb_available,
)
from ndis_rules.money import Money

CONTRACT = Contract.model_validate(
    {
        "id": "C1",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "budgets": [
            {
                "category": "01",
                "management": "plan",
                "total": "2000.00",
                "funding": {
                    "periods": [
                        {
                            "id": "FP1",
                            "start": "2025-07-01",
                            "end_inclusive": "2025-12-31",
                            "amount": "1000.00",
                        },
                        {
                            "id": "FP2",
                            "start": "2026-01-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "1000.00",
                        },
                    ]
                },
            },
            {"category": "04", "management": "plan", "total": "300.00"},
        ],
        "provider_budgets": [
            {
                "id": "S1",
                "provider": "SP1",
                "category": "01",
                "amount": "900.00",
                "start": "2025-07-01",
                "end_inclusive": "2026-06-30",
                "distribution": [
                    {"period_id": "FP1", "amount": "400.00"},
                    {"period_id": "FP2", "amount": "500.00"},
                ],
            }
        ],
    }
)


def use(amount: str, day: date, provider: str = "SP1", category: str = "01") -> Consumption:
    return Consumption(category, "plan", Money.parse(amount), day, day, provider, "01_011_0107_1_1")


def test_commit_and_release() -> None:
    idx = ContractIndex.build(CONTRACT)
    ledger = Ledger.from_contract(idx)
    budget = idx.budget_for("01", "plan")
    assert budget is not None
    ledger.commit(use("250.00", date(2025, 8, 1)), "INV1")
    ledger.commit(use("100.00", date(2026, 2, 1)), "INV1")
    ledger.commit(use("50.00", date(2025, 8, 2)), "INV2")
    today = date(2026, 3, 1)
    assert period_available(idx, ledger, budget, 0, today, rollover=False) == Money.parse("700")
    assert period_available(idx, ledger, budget, 0, today, rollover=True) == Money.parse("700")
    assert period_available(idx, ledger, budget, 1, today, rollover=True) == Money.parse("1600")
    spcb = CONTRACT.provider_budgets[0]
    assert spcb_available(ledger, spcb, "FP1") == (Money.parse("100.00"), "FP1")
    assert pool_available(
        idx, ledger, "plan", date(2026, 2, 1), today, rollover=True
    ) == Money.parse("1900.00")
    ledger.release("INV1")
    assert spcb_available(ledger, spcb, "FP1") == (Money.parse("350.00"), "FP1")
    assert period_available(idx, ledger, budget, 1, today, rollover=False) == Money.parse("1000")
    ledger.release("INV1")  # releasing twice changes nothing
    assert spcb_available(ledger, spcb, "FP2") == (Money.parse("500.00"), "FP2")


def test_record_cancel_clone_and_provider_change() -> None:
    inv = Invoice.model_validate(
        {
            "id": "INV1",
            "number": "A-1",
            "provider": "SP1",
            "lines": [
                {
                    "id": "L1",
                    "from": "2025-08-01",
                    "to": "2025-08-01",
                    "item": "01_011_0107_1_1",
                    "quantity": "1",
                    "unit_price": "400.00",
                }
            ],
        }
    )
    today = date(2025, 9, 1)
    first = evaluate_invoice(CONTRACT, inv, as_of=today)
    assert first.outcome == "allowed"
    saved = record_invoice(CONTRACT, inv, first)
    assert saved.version == CONTRACT.version + 1 and CONTRACT.delivered == ()
    [ds] = saved.delivered
    assert (ds.invoice_id, ds.period_id, ds.amount) == ("INV1", "FP1", Money.parse("400.00"))
    copy = clone_invoice(inv, "INV2")
    assert evaluate_invoice(saved, copy, as_of=today).lines[0].codes == (
        "DUPLICATE_LINE",
        "PROVIDER_BUDGET_INSUFFICIENT",
    )
    moved = change_provider(inv, "OTHER")
    again = evaluate_invoice(saved, moved, as_of=today, action="edit").lines[0]
    assert again.codes == ("PROVIDER_NOT_ON_CONTRACT",)
    cancelled = cancel_invoice(saved, "INV1")
    assert cancelled.delivered[0].status == "cancelled"
    assert evaluate_invoice(cancelled, copy, as_of=today).outcome == "allowed"
    undone = evaluate_invoice(cancelled, inv, as_of=today, action="undo_cancel")
    restored = record_invoice(cancelled, inv, undone)
    assert [d.status for d in restored.delivered] == ["active"]
