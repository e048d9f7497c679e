"""What is done with a decided invoice: record it (its parts saved as delivered services, each
against the budget its decision drew from), cancel it, clone it, change its provider."""

from __future__ import annotations

from ..models import Contract, DeliveredService, Invoice
from ..outcomes import InvoiceDecision

__all__ = ["cancel_invoice", "change_provider", "clone_invoice", "record_invoice"]


def record_invoice(contract: Contract, invoice: Invoice, decision: InvoiceDecision) -> Contract:
    """A new contract with the invoice's non-error lines saved as delivered services (one per
    part), replacing any earlier delivered services of the same invoice (edit, undo cancel).
    The old contract is not changed.

    Each delivered service is saved against the budget its part of the decision records
    (category, management type, funding period): the decision's catalogue and budget choice are
    copied, never worked out again.
    """
    lines = {line.id: line for line in invoice.lines}
    kept = [d for d in contract.delivered if d.invoice_id != invoice.id]
    added: list[DeliveredService] = []
    for ld in decision.lines:
        if ld.outcome == "error":
            continue
        line = lines[ld.line_id]
        # the parts of a line split over funding periods keep the whole line's dates and
        # quantity, so a repeat or a clone of it is still a DUPLICATE_LINE
        whole = (
            {"line_from": line.from_, "line_to": line.to, "line_quantity": line.quantity}
            if len(ld.parts) > 1
            else {}
        )
        for n, part in enumerate(ld.parts, start=1):
            added.append(
                DeliveredService.model_validate(
                    {
                        "id": f"{invoice.id}:{line.id}:{n}",
                        "invoice_id": invoice.id,
                        "invoice_number": invoice.number,
                        "line_id": line.id,
                        "provider": invoice.provider,
                        "item": line.item.strip(),
                        "category": part.budget.category,
                        "management": part.budget.management,
                        "from": part.from_,
                        "to": part.to,
                        "quantity": part.quantity,
                        "unit_price": line.unit_price,
                        "amount": part.amount,
                        "period_id": part.budget.period,
                        "claim_type": line.claim_type,
                        "cancellation_reason": line.cancellation_reason,
                        "gst_code": line.gst_code,
                        **whole,
                    }
                )
            )
    return contract.model_copy(
        update={"delivered": (*kept, *added), "version": contract.version + 1}
    )


def cancel_invoice(contract: Contract, invoice_id: str) -> Contract:
    """A new contract with the invoice's delivered services cancelled (their draws released).
    Cancelling is always allowed."""
    delivered = tuple(
        d.model_copy(update={"status": "cancelled"}) if d.invoice_id == invoice_id else d
        for d in contract.delivered
    )
    return contract.model_copy(update={"delivered": delivered, "version": contract.version + 1})


def clone_invoice(invoice: Invoice, new_id: str, number: str | None = None) -> Invoice:
    """A copy of an invoice under a new id, validated as new. The copy carries ``number`` (no
    invoice number when none is given: the original's would make it a ``DUPLICATE_INVOICE``)."""
    return invoice.model_copy(update={"id": new_id, "number": number})


def change_provider(invoice: Invoice, provider: str) -> Invoice:
    """The invoice with another provider (re-validate it with ``action="edit"``)."""
    return invoice.model_copy(update={"provider": provider})
