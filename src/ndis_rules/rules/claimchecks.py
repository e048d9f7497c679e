"""Section 8 and the input checks of one line: its category, well-formed input, dates inside the
contract and not too old, claim type, the catalogue item on the dates, day type, duplicates."""

from __future__ import annotations

from ..catalogue import CatalogueItem
from ..itemchecks import CatalogueContext, cancellation_findings, catalogue_findings
from ..models import CATEGORIES, ClaimLine, Invoice, is_valid_item_number
from ..money import Money
from .context import EvalContext, LineWork
from .prepare import duplicate_key, line_key

__all__ = ["category_of", "check_claim", "check_dates", "check_input", "invoice_key"]


def category_of(line: ClaimLine, catalogue: CatalogueContext | None) -> str | None:
    """The line's support category: the one it states, else the catalogue's PACE category of
    the item on its first day, else the item number's prefix. Worked out once, by the
    evaluation (the decision's parts carry it from then on)."""
    if line.category is None and catalogue is not None:
        pace = catalogue.catalogue.pace_category(line.item.strip(), line.from_)
        if pace is not None:
            return pace
    if line.category is not None:
        c = line.category.strip()
        if c.isdigit() and len(c) == 1:
            c = "0" + c
        return c
    prefix = line.item.strip()[:2]
    return prefix if prefix.isdigit() else None


def check_input(w: LineWork, line: ClaimLine, category: str | None) -> None:
    """``INVALID_LINE`` naming every problem of the line's input."""
    problems: list[str] = []
    if line.to < line.from_:
        problems.append(f"to {line.to} is before from {line.from_}")
    if line.quantity <= 0:
        problems.append(f"quantity {line.quantity} is not above zero")
    if line.unit_price <= Money(0):
        problems.append(f"unit price {line.unit_price} is not above zero")
    if line.quantity > 0 and line.unit_price > Money(0) and line.line_amount <= Money(0):
        problems.append(
            f"amount {line.line_amount} (quantity x unit price, to the cent) is not above zero"
        )
    if not is_valid_item_number(line.item):
        problems.append(f"support item number {line.item!r} is malformed")
    if category is None or category not in CATEGORIES:
        problems.append(f"support category {category or line.category!r} is unknown")
    if line.amount is not None and line.amount != line.line_amount:
        problems.append(f"amount {line.amount} is not quantity x unit price = {line.line_amount}")
    w.step("input.valid", "failed" if problems else "passed")
    if problems:
        w.find("INVALID_LINE", {"problem": "; ".join(problems), "line": line.id})


def check_dates(w: LineWork, line: ClaimLine) -> None:
    """The contract is active, the line inside it and not older than the claim limit."""
    ctx, contract = w.ctx, w.ctx.index.contract
    if not contract.active and not ctx.settings.allow_inactive_contracts:
        w.find("CONTRACT_INACTIVE", {"contract": contract.id})
    inside = contract.start <= line.from_ and line.to <= contract.end_inclusive
    if ctx.explain:
        w.step(
            "date.inside_contract",
            "passed" if inside else "failed",
            contract_start=str(contract.start),
            contract_end=str(contract.end_inclusive),
        )
    if not inside:
        w.find(
            "OUTSIDE_CONTRACT",
            {
                "from": str(line.from_),
                "to": str(line.to),
                "contract_start": str(contract.start),
                "contract_end": str(contract.end_inclusive),
            },
        )
    oldest = ctx.oldest
    if line.from_ < oldest:
        w.find(
            "CLAIM_TOO_OLD",
            {"from": str(line.from_), "today": str(ctx.as_of), "oldest": str(oldest)},
        )


def check_claim(
    w: LineWork, invoice: Invoice, line: ClaimLine, category: str | None
) -> CatalogueItem | None:
    """Section 8: claim type and cancellation reason, the catalogue item on the dates, the day
    type, and duplicates. Returns the catalogue item in force (for the price check)."""
    ctx = w.ctx
    for code, facts in cancellation_findings(line):
        w.find(code, facts)
    item: CatalogueItem | None = None
    if ctx.catalogue is not None:
        item, found = catalogue_findings(ctx.catalogue, line)
        for code, facts in found:
            w.find(code, facts)
    existing = ctx.seen.invoice(invoice_key(ctx, invoice.provider, invoice.number))
    if invoice.number and existing is not None and existing != invoice.id:
        w.find(
            "DUPLICATE_INVOICE",
            {"number": invoice.number, "provider": invoice.provider, "existing": existing},
        )
    key = line_key(
        line.claim_type,
        line.cancellation_reason,
        line.gst_code,
        line.from_,
        line.to,
        category or "",
        line.item,
        line.quantity,
        line.unit_price,
    )
    twin = ctx.seen.line(key)
    if twin is not None:
        w.find("DUPLICATE_LINE", {"existing": twin})
    w.line_key = key
    w.step("claim.checks", "failed" if w.failed else "passed")
    return item


def invoice_key(ctx: EvalContext, provider: str | None, number: str | None) -> tuple[str, ...]:
    """The duplicate-invoice key under this validation's settings."""
    return duplicate_key(ctx.settings.duplicate_key, ctx.index.contract, provider, number)
