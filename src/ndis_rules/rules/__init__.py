"""Validation of claim lines, invoices and batches (spec/validation.md sections 1-7).

Pure and deterministic: everything a rule needs arrives as an argument (``as_of`` is *today*).
Lines of an invoice, and invoices of a batch, are validated in order, each against the
availability left by the lines before it that were not errors (section 4).

Examples:
    >>> from datetime import date
    >>> from ndis_rules.models import Contract, Invoice
    >>> contract = Contract.model_validate({"id": "C1", "start": "2025-07-01",
    ...   "end_inclusive": "2026-06-30", "budgets": [{"category": "01", "management": "plan",
    ...   "total": "1000.00", "funding": {"periods": [
    ...     {"id": "FP1", "start": "2025-07-01", "end_inclusive": "2025-09-30", "amount": "250.00"},
    ...     {"id": "FP2", "start": "2025-10-01", "end_inclusive": "2025-12-31", "amount": "250.00"},
    ...     {"id": "FP3", "start": "2026-01-01", "end_inclusive": "2026-06-30", "amount": "500.00"}
    ...   ]}}]})
    >>> invoice = Invoice.model_validate({"id": "INV1", "provider": "P1", "lines": [
    ...   {"id": "L1", "from": "2025-08-04", "to": "2025-08-04", "item": "01_011_0107_1_1",
    ...    "quantity": "2", "unit_price": "70.23"},
    ...   {"id": "L2", "from": "2025-10-06", "to": "2025-10-06", "item": "01_011_0107_1_1",
    ...    "quantity": "1", "unit_price": "70.23"}]})
    >>> decision = evaluate_invoice(contract, invoice, as_of=date(2025, 9, 1))
    >>> [(d.line_id, d.outcome, d.codes) for d in decision.lines]
    [('L1', 'allowed', ('PROVIDER_NOT_ON_CONTRACT',)), ('L2', 'error', ('PENDING_PERIOD',))]
    >>> [d.text for d in decision.lines[0].draws]
    ['140.46 from 01:plan FP1']
    >>> part = decision.lines[0].parts[0]
    >>> part.budget.key, part.budget.period
    ('01:plan', 'FP1')

The package, along its seams:

* :mod:`.prepare`: :class:`PreparedContract` (a contract indexed once) and the duplicate keys;
* :mod:`.context`: what one call shares (:class:`~.context.EvalContext`) and the line's work;
* :mod:`.claimchecks`: the input, date and section 8 checks of a line;
* :mod:`.funding`: the budget a line is charged to, its periods, and its draws (sections 1-3);
* :mod:`.lines`: one line's evaluation; :mod:`.evaluate`: invoices and batches;
* :mod:`.actions`: record, cancel, clone, change provider.
"""

from __future__ import annotations

from .actions import cancel_invoice, change_provider, clone_invoice, record_invoice
from .context import InvoiceAction
from .evaluate import BatchRun, evaluate_batch, evaluate_invoice
from .prepare import PreparedContract, prepare

__all__ = [
    "BatchRun",
    "InvoiceAction",
    "PreparedContract",
    "cancel_invoice",
    "change_provider",
    "clone_invoice",
    "evaluate_batch",
    "evaluate_invoice",
    "prepare",
    "record_invoice",
]
