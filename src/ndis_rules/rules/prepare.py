"""A contract prepared once for many validations (:class:`PreparedContract`): its index, the
ledger of its delivered services, and the keys the duplicate checks compare."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..budgets import ContractIndex, Ledger, consumption_of
from ..models import Contract
from ..money import Money
from .context import Entry

__all__ = ["PreparedContract", "duplicate_key", "line_key", "prepare"]


#: The text of amounts already written by :func:`line_key`, by cents (bounded: it starts again
#: when full). A book's lines repeat a few unit prices thousands of times.
_PRICE_TEXT: dict[int, str] = {}
_PRICES_HELD = 4096


def _price_text(unit_price: Money | None) -> str:
    if unit_price is None:
        return "None"
    cents = unit_price.cents
    text = _PRICE_TEXT.get(cents)
    if text is None:
        if len(_PRICE_TEXT) >= _PRICES_HELD:
            _PRICE_TEXT.clear()
        text = _PRICE_TEXT[cents] = str(unit_price)
    return text


def line_key(
    claim_type: str,
    reason: str | None,
    gst: str | None,
    from_: date,
    to: date,
    category: str,
    item: str,
    quantity: Decimal | None,
    unit_price: Money | None,
) -> tuple[str, ...]:
    """The duplicate-line key: two lines with the same key are the same claim.

    Examples:
        >>> line_key(" canc ", None, "P2", date(2025, 8, 4), date(2025, 8, 4), "01",
        ...          "01_011_0107_1_1 ", Decimal("2.50"), Money(7023))
        ('CANC', '', 'P2', '2025-08-04', '2025-08-04', '01', '01_011_0107_1_1', '2.5', '70.23')
    """
    return (
        claim_type.strip().upper() if claim_type else "",
        reason.strip().upper() if reason else "",
        gst.strip() if gst else "",
        str(from_),
        str(to),
        category,
        item.strip(),
        str(quantity.normalize()) if quantity is not None else "",
        _price_text(unit_price),
    )


def duplicate_key(
    mode: str, contract: Contract, provider: str | None, number: str | None
) -> tuple[str, ...]:
    """The duplicate-invoice key under the settings' ``duplicate_key`` choice."""
    number = (number or "").strip().upper()
    if mode == "provider_invoice":
        return (provider or "", number)
    return (contract.participant or contract.id, provider or "", number)


@dataclass(slots=True)
class PreparedContract:
    """A contract indexed once, with the ledger of its delivered services and what the duplicate
    checks need, so many invoices can be validated against it without reading its delivered
    services again: the cost of a validation then does not grow with the contract's history.

    Build it with :func:`prepare`; pass it wherever a contract is taken. It is valid for the
    contract it was built from: after :func:`record_invoice` or :func:`cancel_invoice`, prepare
    the new contract.

    Examples:
        >>> from ndis_rules.models import Contract
        >>> c = Contract.model_validate({"id": "C", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30"})
        >>> prepare(c).contract is c
        True
    """

    contract: Contract
    index: ContractIndex
    ledger: Ledger
    lines: dict[tuple[str, ...], list[Entry]]
    paid_items: set[tuple[str, str]]
    _invoices: dict[str, dict[tuple[str, ...], list[Entry]]] = field(default_factory=dict)

    def invoices(self, mode: str) -> dict[tuple[str, ...], list[Entry]]:
        """Saved invoices by duplicate key (for one duplicate key choice), built on first use."""
        table = self._invoices.get(mode)
        if table is None:
            table = {}
            for ds in self.contract.delivered:
                if ds.status == "active" and ds.invoice_number:
                    key = duplicate_key(mode, self.contract, ds.provider, ds.invoice_number)
                    entries = table.setdefault(key, [])
                    label = ds.invoice_id or ds.invoice_number
                    if all(e[1] != ds.invoice_id for e in entries):
                        entries.append((label, ds.invoice_id))
            self._invoices[mode] = table
        return table

    def ledger_without(self, invoice_ids: Iterable[str]) -> Ledger:
        """A fresh ledger of the delivered services, less those of the given invoices."""
        ledger = Ledger(self.index)
        ledger.spent.update(self.ledger.spent)
        for invoice_id in invoice_ids:
            for keys, cents in self.ledger.by_invoice.get(invoice_id, ()):
                for k in keys:
                    ledger.spent[k] -= cents
        return ledger


def prepare(contract: Contract) -> PreparedContract:
    """Index a contract and its delivered services once (see :class:`PreparedContract`)."""
    index = ContractIndex.build(contract)
    ledger = Ledger(index)
    lines: dict[tuple[str, ...], list[Entry]] = {}
    paid: set[tuple[str, str]] = set()
    for ds in contract.delivered:
        if ds.status != "active":
            continue
        ledger.commit(consumption_of(ds), ds.invoice_id)
        if ds.paid and ds.provider and ds.item:
            paid.add((ds.provider, ds.item.strip()))
        if ds.item:
            key = line_key(
                ds.claim_type,
                ds.cancellation_reason,
                ds.gst_code,
                ds.line_from or ds.from_,
                ds.line_to or ds.to,
                ds.category,
                ds.item,
                ds.line_quantity if ds.line_quantity is not None else ds.quantity,
                ds.unit_price,
            )
            entries = lines.setdefault(key, [])
            if ds.line_from is None or all(e[1] != ds.invoice_id for e in entries):
                entries.append((f"delivered service {ds.id}", ds.invoice_id))
    return PreparedContract(contract, index, ledger, lines, paid)
