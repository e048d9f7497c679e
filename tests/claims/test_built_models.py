"""The bulk check builds its ``BprRow``, ``ClaimLine`` and ``Invoice`` models without validating
them a second time (``models.built_model``): each must be exactly what validation returns for
the same values: the same field values (the same objects), in the same order, the same fields
set, no extra and no private state."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from ndis_rules.bpr import COLUMNS, BprResult, BprRow, read_bpr, write_bpr
from ndis_rules.claims import _add_line, _ContractWork, _invoice, _InvoiceWork
from ndis_rules.models import ClaimLine, Contract, Invoice
from ndis_rules.testing.strategies import bpr_rows

CONTRACT = Contract.model_validate(
    {"id": "C1", "participant": "431234567", "start": "2024-07-01", "end_inclusive": "2026-06-30"}
)


def _same(built: BaseModel, validated: BaseModel) -> None:
    assert type(built) is type(validated)
    assert list(built.__dict__) == list(validated.__dict__)
    for name, value in validated.__dict__.items():
        got = built.__dict__[name]
        assert type(got) is type(value), name
        assert got == value, name
        assert repr(got) == repr(value), name
    assert built.model_fields_set == validated.model_fields_set
    assert built.__pydantic_extra__ == validated.__pydantic_extra__
    assert built.__pydantic_private__ == validated.__pydantic_private__
    assert built == validated


def _validated_line(result: BprResult, line_id: str, management: Any) -> ClaimLine:
    row = result.row
    assert row is not None
    return ClaimLine.model_validate(
        {
            "id": line_id,
            "from": row.supports_delivered_from,
            "to": row.supports_delivered_to,
            "item": row.support_number,
            "quantity": row.units,
            "unit_price": row.unit_price,
            "management": management,
            "claim_type": row.claim_type,
            "cancellation_reason": row.cancellation_reason or None,
            "gst_code": row.gst_code,
        }
    )


def _check_results(results: list[BprResult], held: dict[str, frozenset[str]]) -> int:
    read = [r for r in results if r.row is not None]
    for result in read:
        assert result.row is not None
        _same(result.row, BprRow.model_validate(dict(result.row.__dict__)))
    cw = _ContractWork(CONTRACT, held)
    for index, result in enumerate(read):
        assert result.row is not None
        _add_line(cw, index, result, result.row, None)
    for iw in cw.invoices.values():
        for line, index in zip(iw.lines, iw.rows, strict=True):
            _same(line, _validated_line(read[index], line.id, line.management))
        _same(_invoice(iw, CONTRACT.id), _validated_invoice(iw))
    return len(read)


def _validated_invoice(iw: _InvoiceWork) -> Invoice:
    return Invoice.model_validate(
        {
            "id": iw.id,
            "number": iw.number,
            "contract_id": CONTRACT.id,
            "participant": iw.participant,
            "provider": iw.provider,
            "lines": iw.lines,
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(bpr_rows(), min_size=1, max_size=8),
    st.sampled_from([{}, {"01": frozenset({"agency"})}, {"01": frozenset({"plan", "self"})}]),
)
def test_rows_lines_and_invoices_are_what_validation_returns(
    rows: list[BprRow], held: dict[str, frozenset[str]]
) -> None:
    [(_, text)] = write_bpr(rows)
    # the same rows twice: the repeated line ids of the second copy are made unique
    results = read_bpr(text, abn_required=False)
    assert _check_results(results + results, held) == 2 * len(rows)


def _cells(**changes: str) -> list[str]:
    cells = dict.fromkeys(COLUMNS, "")
    cells.update(
        {
            "RegistrationNumber": "4050000001",
            "NDISNumber": "431234567",
            "SupportsDeliveredFrom": "2025/10/01",
            "SupportsDeliveredTo": "01/10/2025",
            "SupportNumber": "01_011_0107_1_1",
            "ClaimReference": "INV-1",
            "Quantity": "2",
            "UnitPrice": "70.23",
            "GSTCode": "P2",
        }
    )
    cells.update(changes)
    return list(cells.values())


def test_written_forms_of_units_and_prices() -> None:
    """Quantities and hours as people write them (trailing zeros, leading zeros, HHH:MM,
    nine decimal places) and prices with a dollar sign and thousands separators."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    variants = [
        {"Quantity": "1.50"},
        {"Quantity": "0002"},
        {"Quantity": "1.000000000"},
        {"Quantity": "", "Hours": "1:30"},
        {"Quantity": "", "Hours": "0.25"},
        {"UnitPrice": "$1,234.50"},
        {"ClaimType": "CANC", "CancellationReason": "NSDT"},
        {"ABN of Support Provider": "51824753556", "ClaimReference": "INV-2"},
    ]
    for changes in variants:
        w.writerow(_cells(**changes))
    results = read_bpr(out.getvalue(), abn_required=False)
    assert all(r.row is not None and not r.errors for r in results)
    assert _check_results(results, {}) == len(variants)
