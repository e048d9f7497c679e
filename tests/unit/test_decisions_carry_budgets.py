"""Decisions carry what they decided: the budget a line drew from is saved with it, never worked
out again (issue 11, the double spend of a catalogue-mapped category)."""

from __future__ import annotations

from datetime import date

from ndis_rules import Contract, Invoice, evaluate_invoice, record_invoice
from ndis_rules.catalogue import OPEN_END, Catalogue, CatalogueItem
from ndis_rules.itemchecks import CatalogueContext
from ndis_rules.money import Money

TODAY = date(2025, 11, 15)
#: Its number starts 01, but the catalogue's PACE category is 16 (Home and Living).
ITEM = "01_050_0115_1_1"


def _catalogue() -> CatalogueContext:
    item = CatalogueItem(
        ITEM,
        "Assistance With Daily Life Tasks Provided In Residential Aged Care Facility",
        "0115",
        "01",
        "16",
        "E",
        False,
        date(2025, 7, 1),
        OPEN_END,
        {"national": Money.parse("1.00")},
    )
    return CatalogueContext(Catalogue([item]))


def _contract() -> Contract:
    return Contract.model_validate(
        {
            "id": "C1",
            "start": "2025-07-01",
            "end_inclusive": "2026-06-30",
            "budgets": [
                {"category": "01", "management": "plan", "total": "1000.00"},
                {"category": "16", "management": "plan", "total": "100.00"},
            ],
        }
    )


def _invoice(invoice_id: str, day: str) -> Invoice:
    return Invoice.model_validate(
        {
            "id": invoice_id,
            "provider": "P1",
            "lines": [
                {
                    "id": "L1",
                    "from": day,
                    "to": day,
                    "item": ITEM,
                    "quantity": "80",
                    "unit_price": "1.00",
                }
            ],
        }
    )


def test_a_catalogue_mapped_line_is_saved_against_the_budget_it_drew_from() -> None:
    catalogue = _catalogue()
    first = _invoice("INV1", "2025-08-04")
    decision = evaluate_invoice(_contract(), first, as_of=TODAY, catalogue=catalogue)
    [line] = decision.lines
    assert line.outcome != "error"
    assert [(d.budget, str(d.amount)) for d in line.draws] == [("16:plan", "80.00")]
    saved = record_invoice(_contract(), first, decision)
    # The 16 budget has 20.00 left: a second 80.00 from it must be refused, not drawn again.
    second = evaluate_invoice(
        saved, _invoice("INV2", "2025-08-05"), as_of=TODAY, catalogue=catalogue
    )
    [again] = second.lines
    assert again.outcome == "error"
    assert "INSUFFICIENT_FUNDS" in again.codes
    assert again.draws == ()
    assert [(d.category, d.management, str(d.amount)) for d in saved.delivered] == [
        ("16", "plan", "80.00")
    ]


def test_each_part_names_its_budget() -> None:
    decision = evaluate_invoice(
        _contract(), _invoice("INV1", "2025-08-04"), as_of=TODAY, catalogue=_catalogue()
    )
    [line] = decision.lines
    [part] = line.parts
    assert (part.budget.category, part.budget.management, part.budget.period) == (
        "16",
        "plan",
        None,
    )
    [draw] = line.draws
    assert draw.ref.category == "16"
    assert draw.budget == "16:plan"
