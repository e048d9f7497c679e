"""The points validation.md clarified (issue 12), beyond their scenarios in
docs/scenarios/validation/clarifications.yaml: clones of split lines, the whole-line fields of
saved parts, per-line approval in automated mode, and the claimable_management setting."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from ndis_rules import (
    Contract,
    Invoice,
    Settings,
    clone_invoice,
    evaluate_invoice,
    record_invoice,
)
from ndis_rules.models import DeliveredService
from ndis_rules.testing.oracle import overdraw_problems, unclaimable_problems

TODAY = date(2025, 11, 15)
FLEX = Settings(claims_flexibility=True)


def contract() -> Contract:
    periods = [
        {"id": "FP1", "start": "2025-07-01", "end_inclusive": "2025-09-30", "amount": "750.00"},
        {"id": "FP2", "start": "2025-10-01", "end_inclusive": "2025-12-31", "amount": "750.00"},
    ]
    return Contract.model_validate(
        {
            "id": "C",
            "start": "2025-07-01",
            "end_inclusive": "2025-12-31",
            "budgets": [
                {"category": "15", "management": "plan", "total": "1500.00",
                 "funding": {"periods": periods}},
                {"category": "07", "management": "agency", "total": "500.00"},
            ],
        }
    )


def spanning(invoice_id: str = "INV0", provider: str = "P9") -> Invoice:
    return Invoice.model_validate(
        {"id": invoice_id, "provider": provider, "lines": [
            {"id": "L1", "from": "2025-09-29", "to": "2025-10-02", "item": "15_037_0117_1_3",
             "quantity": "4", "unit_price": "25.00"}]}
    )


def test_the_parts_of_a_split_line_keep_the_whole_line() -> None:
    inv = spanning()
    saved = record_invoice(contract(), inv, evaluate_invoice(contract(), inv, as_of=TODAY,
                                                             settings=FLEX))
    parts = [d for d in saved.delivered if d.invoice_id == "INV0"]
    assert [(str(d.from_), str(d.to), str(d.quantity)) for d in parts] == [
        ("2025-09-29", "2025-09-30", "2.00"), ("2025-10-01", "2025-10-02", "2.00")]
    assert {(str(d.line_from), str(d.line_to), str(d.line_quantity)) for d in parts} == {
        ("2025-09-29", "2025-10-02", "4")}


def test_a_line_in_one_period_keeps_no_whole_line_fields() -> None:
    inv = Invoice.model_validate(
        {"id": "INV0", "provider": "P9", "lines": [
            {"id": "L1", "from": "2025-10-02", "to": "2025-10-02", "item": "15_037_0117_1_3",
             "quantity": "1", "unit_price": "25.00"}]}
    )
    saved = record_invoice(contract(), inv, evaluate_invoice(contract(), inv, as_of=TODAY))
    [part] = saved.delivered
    assert part.line_from is None and part.line_to is None and part.line_quantity is None


def test_a_clone_of_a_split_line_is_a_duplicate_and_an_edit_is_not() -> None:
    inv = spanning()
    first = evaluate_invoice(contract(), inv, as_of=TODAY, settings=FLEX)
    assert "DUPLICATE_LINE" not in first.lines[0].codes
    saved = record_invoice(contract(), inv, first)
    clone = evaluate_invoice(saved, clone_invoice(inv, "INV1"), as_of=TODAY, settings=FLEX,
                             action="clone")
    assert "DUPLICATE_LINE" in clone.lines[0].codes
    assert clone.lines[0].findings[0].facts["existing"].startswith("delivered service INV0:L1")
    again = evaluate_invoice(saved, inv, as_of=TODAY, settings=FLEX, action="edit")
    assert "DUPLICATE_LINE" not in again.lines[0].codes


def test_the_whole_line_needs_both_dates_in_order() -> None:
    base = {"id": "D", "category": "15", "management": "plan", "from": "2025-09-29",
            "to": "2025-09-30", "amount": "50.00"}
    with pytest.raises(ValidationError, match="line_from and line_to"):
        DeliveredService.model_validate({**base, "line_from": "2025-09-29"})
    with pytest.raises(ValidationError, match="before line_from"):
        DeliveredService.model_validate(
            {**base, "line_from": "2025-10-02", "line_to": "2025-09-29"})


def test_automated_mode_approves_per_line() -> None:
    """A provider with an earlier paid service for one item only: on its own, that item's line
    is created; the other line is reviewed, and so is the invoice."""
    c = contract().model_copy(update={"delivered": (DeliveredService.model_validate(
        {"id": "D1", "provider": "NEW", "item": "15_037_0117_1_3", "category": "15",
         "management": "plan", "from": "2025-10-01", "to": "2025-10-01", "amount": "10.00",
         "paid": True}),)})
    inv = Invoice.model_validate(
        {"id": "INV1", "provider": "NEW", "lines": [
            {"id": "L1", "from": "2025-10-06", "to": "2025-10-06", "item": "15_037_0117_1_3",
             "quantity": "1", "unit_price": "25.00"},
            {"id": "L2", "from": "2025-10-06", "to": "2025-10-06", "item": "15_038_0117_1_3",
             "quantity": "1", "unit_price": "25.00"}]}
    )
    d = evaluate_invoice(c, inv, as_of=TODAY, channel="streamline", mode="automated")
    assert [(ld.outcome, ld.action) for ld in d.lines] == [("allowed", "create"),
                                                          ("allowed", "review")]
    assert "PROVIDER_NOT_APPROVED" not in d.lines[0].codes
    assert "PROVIDER_NOT_APPROVED" in d.lines[1].codes
    assert d.action == "review"


@pytest.mark.parametrize("channel", ["service_entry", "streamline", "bulk_import", "case_note"])
def test_management_type_not_claimable_is_an_error_in_every_channel(channel: str) -> None:
    inv = Invoice.model_validate(
        {"id": "INV1", "provider": "P1", "lines": [
            {"id": "L1", "from": "2025-10-06", "to": "2025-10-06", "item": "07_002_0106_8_3",
             "quantity": "1", "unit_price": "25.00"}]}
    )
    d = evaluate_invoice(contract(), inv, as_of=TODAY, channel=channel)  # type: ignore[arg-type]
    [ld] = d.lines
    assert (ld.outcome, ld.codes, ld.draws) == ("error", ("MANAGEMENT_TYPE_NOT_CLAIMABLE",), ())
    assert ld.findings[0].facts == {"budget": "07:agency", "management": "agency",
                                    "claimable": "plan"}
    allowed = evaluate_invoice(contract(), inv, as_of=TODAY, channel=channel,  # type: ignore[arg-type]
                               settings=Settings(claimable_management=("plan", "agency")))
    assert [d.text for d in allowed.lines[0].draws] == ["25.00 from 07:agency"]


def test_claimable_management_is_a_nonempty_list_of_known_types_named_once() -> None:
    assert Settings().claimable_management == ("plan",)
    assert Settings.model_validate({"claimable_management": ["agency", "self"]}
                                   ).claimable_management == ("agency", "self")
    for bad in ([], ["plan", "plan"], ["planned"], "plan"):
        with pytest.raises(ValidationError, match="claimable_management"):
            Settings.model_validate({"claimable_management": bad})


def test_the_oracle_sees_a_pool_overdrawn_in_the_current_period() -> None:
    periods = lambda a, b: {"periods": [  # noqa: E731
        {"id": "FP1", "start": "2025-07-01", "end_inclusive": "2025-09-30", "amount": a},
        {"id": "FP2", "start": "2025-10-01", "end_inclusive": "2026-06-30", "amount": b}]}
    c = Contract.model_validate(
        {"id": "C", "start": "2025-07-01", "end_inclusive": "2026-06-30",
         "budgets": [
             {"category": "01", "management": "plan", "total": "100.00",
              "funding": periods("0.00", "100.00")},
             {"category": "04", "management": "plan", "total": "100.00",
              "funding": periods("0.00", "100.00")}],
         "delivered": [{"id": "D", "category": "04", "management": "plan",
                        "from": "2025-10-10", "to": "2025-10-10", "amount": "250.00"}]}
    )
    negative = ["core_flexible:plan negative on 2025-11-15"]
    assert overdraw_problems(c, TODAY, rollover=True) == negative
    assert overdraw_problems(c, TODAY, rollover=False) == negative
    # measured in a period no period of a member covers: nothing to measure
    assert overdraw_problems(c, date(2026, 8, 1), rollover=True) == []
    assert unclaimable_problems(c.delivered, ("agency",)) == ["D drew on 04:plan"]
    assert unclaimable_problems(c.delivered, ("plan",)) == []
