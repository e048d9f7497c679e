"""One line's evaluation: its checks, then its budget, periods and draws, committed to the
ledger piece by piece and rolled back together when the line is an error."""

from __future__ import annotations

from ..budgets import Key, Ledger
from ..catalogue import CatalogueItem
from ..itemchecks import price_findings
from ..models import ClaimLine, Invoice
from ..outcomes import LineDecision, outcome_of
from ..periods import DateRange
from .claimchecks import category_of, check_claim, check_dates, check_input
from .context import EvalContext, LineWork
from .funding import Piece, Selection, fund_part, place_in_periods, select_budget

__all__ = ["evaluate_line"]


def evaluate_line(
    ctx: EvalContext, ledger: Ledger, invoice: Invoice, line: ClaimLine
) -> LineDecision:
    """The decision on one line; what it draws is committed to ``ledger`` (nothing when it is
    an error)."""
    w = LineWork(ctx)
    category = category_of(line, ctx.catalogue)
    amount = line.line_amount
    check_input(w, line, category)
    item: CatalogueItem | None = None
    if not w.failed:
        check_dates(w, line)
        item = check_claim(w, invoice, line, category)
    sel: Selection | None = None
    pieces: list[Piece] = []
    if not w.failed and category is not None:
        sel = select_budget(w, invoice, line, category)
        if item is not None and sel is not None and ctx.catalogue is not None:
            for code, facts in price_findings(ctx.catalogue, item, line, sel.management):
                w.find(code, facts)
        if not w.failed and sel is not None:
            if sel.budget is not None:
                pieces = place_in_periods(w, line, sel.budget, amount)
            else:
                if line.to > ctx.as_of:
                    w.find("FUTURE_DATE", {"to": str(line.to), "today": str(ctx.as_of)})
                days = DateRange.from_inclusive(line.from_, line.to)
                pieces = [Piece(None, days, amount, line.quantity)]
    committed: list[tuple[list[Key], int]] = []
    if not w.failed and sel is not None:
        for piece in pieces:
            before = len(w.uses)
            ok = fund_part(w, ledger, sel, piece)
            if len(w.uses) > before:
                use = w.uses[-1]
                committed.append((ctx.index.keys_for(use), use.amount.cents))
            if not ok:
                break
    outcome = outcome_of(f.severity for f in w.findings)
    if outcome != "error" and w.line_key is not None:
        ctx.seen.lines.setdefault(w.line_key, f"line {line.id} of invoice {invoice.id}")
    if outcome == "error":
        for keys, cents in committed:  # roll back parts committed before the failing one
            for k in keys:
                ledger.spent[k] -= cents
        w.draws.clear()
        w.parts.clear()
        w.uses.clear()
    return LineDecision(
        line_id=line.id,
        outcome=outcome,
        action="reject" if outcome == "error" else "create",
        amount=amount,
        draws=tuple(w.draws),
        findings=tuple(w.findings),
        counts_against=tuple(w.counts_against),
        parts=tuple(w.parts),
        trace=tuple(w.trace),
    )
