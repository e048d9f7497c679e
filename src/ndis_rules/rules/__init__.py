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
    >>> [str(d.amount) + " from " + d.budget + " " + str(d.period) for d in decision.lines[0].draws]
    ['140.46 from 01:plan FP1']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from dateutil.relativedelta import relativedelta

from ..budgets import (
    Consumption,
    ContractIndex,
    Key,
    Ledger,
    category_available,
    consumption_of,
    period_available,
    pool_available,
    spcb_available,
    support_item_available,
)
from ..catalogue import CatalogueItem
from ..channels import CHANNELS, base_action, severity_for
from ..codes import CODES, Code, render
from ..errors import InputError
from ..itemchecks import (
    CatalogueContext,
    cancellation_findings,
    catalogue_findings,
    price_findings,
)
from ..models import (
    CATEGORIES,
    CORE_CATEGORIES,
    CategoryBudget,
    Channel,
    ClaimLine,
    Contract,
    DeliveredService,
    Invoice,
    ProcessingMode,
    Settings,
    is_valid_item_number,
)
from ..money import Money
from ..outcomes import (
    Action,
    Draw,
    Finding,
    InvoiceDecision,
    LineDecision,
    LinePart,
    Severity,
    TraceStep,
    outcome_of,
)
from ..periods import (
    DateRange,
    as_range,
    period_status,
    split_pro_rata,
    uncovered_days,
)
from ..streamline import POOL_ONLY, WITH_PERIODS, WITHOUT_PERIODS, FundingFacts, select_step

__all__ = [
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

#: What is being done with the invoice: it only changes which rule applies to a provider budget
#: shortfall (``undo_cancel``: ``UNDO_CANCEL_PROVIDER_BUDGET``). Every action re-validates against
#: current availability without the invoice's own earlier draws.
InvoiceAction = Literal["create", "edit", "clone", "undo_cancel"]


Entry = tuple[str, str | None]  # (what it is, for messages; the invoice id it belongs to)


@dataclass(slots=True)
class _Seen:
    """Invoices and lines already entered, for the duplicate checks: the contract's saved ones
    (``base_*``, shared by every batch on a prepared contract; entries of the invoices being
    re-validated are ignored) and those earlier in this batch."""

    base_invoices: Mapping[tuple[str, ...], list[Entry]] = field(default_factory=dict)
    base_lines: Mapping[tuple[str, ...], list[Entry]] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    invoices: dict[tuple[str, ...], str] = field(default_factory=dict)
    lines: dict[tuple[str, ...], str] = field(default_factory=dict)

    def _base(
        self, table: Mapping[tuple[str, ...], list[Entry]], key: tuple[str, ...]
    ) -> str | None:
        for what, invoice_id in table.get(key, ()):
            if invoice_id is None or invoice_id not in self.ignore:
                return what
        return None

    def invoice(self, key: tuple[str, ...]) -> str | None:
        """The invoice already entered under this duplicate key, if any."""
        return self.invoices.get(key) or self._base(self.base_invoices, key)

    def line(self, key: tuple[str, ...]) -> str | None:
        """The line already entered with this key, if any."""
        return self.lines.get(key) or self._base(self.base_lines, key)


@dataclass(frozen=True, slots=True)
class _Ctx:
    index: ContractIndex
    as_of: date
    channel: Channel
    mode: ProcessingMode | None
    settings: Settings
    action: InvoiceAction
    explain: bool
    catalogue: CatalogueContext | None = None
    seen: _Seen = field(default_factory=_Seen)
    #: the earliest service date still claimable (NDIS Act s45A), computed once
    oldest: date = date.min
    prepared: PreparedContract | None = None


def _m(x: Money) -> str:
    return str(x)


@dataclass(slots=True)
class _Work:
    """Findings, draws and trace of the line being evaluated."""

    ctx: _Ctx
    findings: list[Finding] = field(default_factory=list)
    draws: list[Draw] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
    counts_against: list[str] = field(default_factory=list)
    parts: list[LinePart] = field(default_factory=list)
    uses: list[Consumption] = field(default_factory=list)
    line_key: tuple[str, ...] | None = None

    def find(self, code: Code, facts: Mapping[str, str], severity: Severity | None = None) -> bool:
        """Add a finding; True when it is an error."""
        ctx = self.ctx
        sev = severity or severity_for(code, ctx.channel, ctx.mode, ctx.settings)
        if any(f.code == code and f.facts == facts for f in self.findings):
            return sev == "error"
        self.findings.append(
            Finding(code, sev, render(code, facts), dict(facts), CODES[code].source)
        )
        if ctx.explain:
            self.trace.append(TraceStep(f"finding.{code}", sev, dict(facts)))
        return sev == "error"

    def step(self, rule: str, outcome: str, **inputs: str) -> None:
        if self.ctx.explain:
            self.trace.append(TraceStep(rule, outcome, inputs))

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def _category_of(line: ClaimLine, catalogue: CatalogueContext | None = None) -> str | None:
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


def _check_input(w: _Work, line: ClaimLine, category: str | None) -> None:
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


def _check_dates(w: _Work, line: ClaimLine) -> None:
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


def _line_key(
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
    return (
        claim_type.strip().upper(),
        (reason or "").strip().upper(),
        (gst or "").strip(),
        str(from_),
        str(to),
        category,
        item.strip(),
        str(quantity.normalize()) if quantity is not None else "",
        str(unit_price),
    )


def _check_claim(
    w: _Work, invoice: Invoice, line: ClaimLine, category: str | None
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
    existing = ctx.seen.invoice(_invoice_key(ctx, invoice.provider, invoice.number))
    if invoice.number and existing is not None and existing != invoice.id:
        w.find(
            "DUPLICATE_INVOICE",
            {"number": invoice.number, "provider": invoice.provider, "existing": existing},
        )
    key = _line_key(
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


def _invoice_key(ctx: _Ctx, provider: str | None, number: str | None) -> tuple[str, ...]:
    return _duplicate_key(ctx.settings.duplicate_key, ctx.index.contract, provider, number)


def _duplicate_key(
    mode: str, contract: Contract, provider: str | None, number: str | None
) -> tuple[str, ...]:
    number = (number or "").strip().upper()
    if mode == "provider_invoice":
        return (provider or "", number)
    return (contract.participant or contract.id, provider or "", number)


def _select_budget(
    w: _Work, invoice: Invoice, line: ClaimLine, category: str
) -> tuple[CategoryBudget | None, str | None]:
    """The line's category budget, or (None, management) for a pool-only Core line."""
    index = w.ctx.index
    management = line.management or invoice.management
    budgets = index.budgets_by_category.get(category, [])
    if management is not None:
        budgets = [b for b in budgets if b.management == management]
    if len(budgets) == 1 and not (budgets[0].in_core_pool and budgets[0].total == Money(0)):
        b = budgets[0]
        w.step("budget.select", "category", budget=b.key)
        return b, b.management
    if len(budgets) > 1:
        w.find(
            "MANAGEMENT_TYPE_REQUIRED",
            {
                "category": category,
                "options": ", ".join(sorted(b.management for b in budgets)),
            },
        )
        return None, None
    if category in CORE_CATEGORIES:
        pools = [m for m in ("agency", "plan", "self") if index.has_pool(m)]
        if management is not None:
            pools = [m for m in pools if m == management]
        if len(pools) == 1:
            w.step("budget.select", "core_flexible_only", management=pools[0])
            return None, pools[0]
        if len(pools) > 1:
            w.find("MANAGEMENT_TYPE_REQUIRED", {"category": category, "options": ", ".join(pools)})
            return None, None
    w.find("NO_CATEGORY_BUDGET", {"category": category, "management": management or "any"})
    return None, None


def _place_in_periods(
    w: _Work, line: ClaimLine, budget: CategoryBudget, amount: Money
) -> list[tuple[int | None, DateRange, Money, Decimal]]:
    """Section 1 period rules; the parts (period position, days, amount, quantity) to fund."""
    ctx = w.ctx
    service = DateRange.from_inclusive(line.from_, line.to)
    if budget.start is not None and budget.end_inclusive is not None:
        own = DateRange.from_inclusive(budget.start, budget.end_inclusive)
        if not own.covers(service):
            w.find(
                "OUTSIDE_BUDGET_DATES",
                {
                    "from": str(line.from_),
                    "to": str(line.to),
                    "budget": budget.key,
                    "budget_start": str(budget.start),
                    "budget_end": str(budget.end_inclusive),
                },
            )
            return []
    bp = ctx.index.of(budget)
    if not bp.periods:
        if line.to > ctx.as_of:
            w.find("FUTURE_DATE", {"to": str(line.to), "today": str(ctx.as_of)})
        return [(None, service, amount, line.quantity)]
    overlaps = list(bp.overlaps)
    touching = bp.touching(line.from_, line.to)
    touched_ids = {p.id for p in touching}
    bad = [(a, b) for a, b in overlaps if a.id in touched_ids and b.id in touched_ids]
    if CHANNELS[ctx.channel].overlapping_periods_fail_category and overlaps:
        bad = overlaps
    if bad:
        ids = sorted({p.id for pair in bad for p in pair})
        w.find("OVERLAPPING_PERIODS", {"periods": ", ".join(ids), "budget": budget.key})
        return []
    for p in touching:
        if period_status(p.start, p.end_inclusive, ctx.as_of) == "pending":
            w.find(
                "PENDING_PERIOD",
                {"period": p.id, "start": str(p.start), "end": str(p.end_inclusive)},
            )
            return []
    single = len(touching) == 1 and touching[0].start <= line.from_
    gaps = (
        [] if single and line.to <= touching[0].end_inclusive else uncovered_days(touching, service)
    )
    if gaps:
        w.find(
            "NO_PERIOD",
            {"budget": budget.key, "gap_from": str(gaps[0].start), "gap_to": str(gaps[0].last_day)},
        )
        return []
    if ctx.explain:
        w.step("period.place", ",".join(p.id for p in touching))
    if len(touching) > 1:
        facts = {
            "from": str(line.from_),
            "to": str(line.to),
            "count": str(len(touching)),
            "periods": ", ".join(p.id for p in touching),
        }
        may_split = (
            ctx.settings.claims_flexibility
            and CHANNELS[ctx.channel].flexibility_splits_spanning_lines
        )
        if not may_split:
            w.find("SPANS_PERIODS", facts)
            return []
        w.find("SPANS_PERIODS", facts, severity="info")
    last = touching[-1]
    if line.to > ctx.as_of and period_status(last.start, last.end_inclusive, ctx.as_of) == "active":
        w.find("FUTURE_DATE", {"to": str(line.to), "today": str(ctx.as_of)})
    if len(touching) == 1:
        return [(bp.position[last.id], service, amount, line.quantity)]
    pieces = [as_range(p) for p in touching]
    split = split_pro_rata(service, pieces, amount, line.quantity)
    return [(bp.position[touching[s.index].id], s.days, s.amount, s.quantity) for s in split]


def _draw(w: _Work, draw: Draw) -> None:
    """Keep a draw of the line; a part of 0.00 (a one-cent line split over two periods) draws
    nothing, so no draw of 0.00 is ever reported (found by the draws property)."""
    if draw.amount.cents:
        w.draws.append(draw)


def _provider_checks(
    w: _Work,
    ledger: Ledger,
    line: ClaimLine,
    provider: str,
    category: str,
    management: str,
    period_id: str | None,
    days: DateRange,
    amount: Money,
    fallback: str,
) -> bool:
    """SPCB and support item budget checks of one part; False when an error stops it."""
    ctx, index = w.ctx, w.ctx.index
    spcb = index.spcb_for(provider, category, management)
    sib = index.support_item_for(line.item, provider, management)
    if spcb is not None:
        agreement = DateRange.from_inclusive(spcb.start, spcb.end_inclusive)
        if not agreement.covers(days):
            w.find(
                "OUTSIDE_PROVIDER_AGREEMENT",
                {
                    "from": str(days.start),
                    "to": str(days.last_day),
                    "provider": provider,
                    "agreement_start": str(spcb.start),
                    "agreement_end": str(spcb.end_inclusive),
                    "category": category,
                },
            )
            return False
        available, share = spcb_available(ledger, spcb, period_id)
        if ctx.explain:
            w.step("spcb.available", _m(available), spcb=spcb.id, amount=_m(amount))
        if available < amount:
            code: Code = (
                "UNDO_CANCEL_PROVIDER_BUDGET"
                if ctx.action == "undo_cancel"
                else "PROVIDER_BUDGET_INSUFFICIENT"
            )
            if w.find(
                code,
                {
                    "amount": _m(amount),
                    "provider": provider,
                    "spcb": spcb.id,
                    "available": _m(available),
                    "period_note": f" in funding period {share}" if share else "",
                },
            ):
                return False
        if spcb.id not in w.counts_against:
            w.counts_against.append(spcb.id)
    if sib is not None:
        available = support_item_available(ledger, sib)
        if ctx.explain:
            w.step("support_item.available", _m(available), support_item=sib.id, amount=_m(amount))
        if available < amount and w.find(
            "SUPPORT_ITEM_BUDGET_EXCEEDED",
            {
                "amount": _m(amount),
                "support_item": sib.id,
                "item": sib.item,
                "available": _m(available),
                "fallback": fallback,
            },
        ):
            return False
        if sib.id not in w.counts_against:
            w.counts_against.append(sib.id)
    if spcb is None and sib is None:
        w.find(
            "PROVIDER_NOT_ON_CONTRACT",
            {"provider": provider, "budget": fallback.split(" ", maxsplit=1)[0]},
        )
    return True


def _fund_part(
    w: _Work,
    ledger: Ledger,
    line: ClaimLine,
    provider: str,
    category: str,
    management: str,
    budget: CategoryBudget | None,
    pos: int | None,
    days: DateRange,
    amount: Money,
    quantity: Decimal,
) -> bool:
    """Sections 2 and 3 for one part of a line; on success, draws are added and the part is
    committed to ``ledger``. False when an error stops the line."""
    ctx, index = w.ctx, w.ctx.index
    rollover = ctx.settings.rollover
    pool_name = f"core_flexible:{management}"
    bp = index.of(budget) if budget is not None else None
    period = bp.periods[pos] if bp is not None and pos is not None else None
    if budget is not None and budget.budget_type == "stated" and budget.stated_items_only:
        stated = index.stated_items.get(category, set())
        if line.item.strip() not in stated:
            w.find("NOT_A_STATED_ITEM", {"category": category, "item": line.item.strip()})
            return False
    own_name = budget.key if budget is not None else pool_name
    fallback = f"{own_name} {period.id}" if period is not None else own_name
    if not _provider_checks(
        w,
        ledger,
        line,
        provider,
        category,
        management,
        period.id if period else None,
        days,
        amount,
        fallback,
    ):
        return False

    pool_member = management is not None and (
        (budget is None and index.has_pool(management))
        or (budget is not None and budget.in_core_pool and index.has_pool(management))
    )
    if budget is None:
        own = Money(0)
        status: Literal["active", "expired", "none"] = "none"
        table = POOL_ONLY
    elif period is not None and pos is not None:
        own = period_available(index, ledger, budget, pos, ctx.as_of, rollover=rollover)
        st = period_status(period.start, period.end_inclusive, ctx.as_of)
        status = "active" if st == "active" else "expired"
        table = WITH_PERIODS
    else:
        own = category_available(index, ledger, budget)
        status = "none"
        table = WITHOUT_PERIODS
    # A pool member's own funds are part of the pool: a line it covers must also leave the pool
    # (which other members may have overdrawn into) non-negative.
    pool: Money | None = None
    if pool_member:
        pool = pool_available(index, ledger, management, days.start, ctx.as_of, rollover=rollover)
    own_covers = budget is not None and own >= amount and (pool is None or pool >= amount)
    current_pos = (
        bp.active(ctx.as_of) if bp is not None and status == "expired" and not own_covers else None
    )
    current_avail = (
        period_available(index, ledger, budget, current_pos, ctx.as_of, rollover=rollover)
        if budget is not None and current_pos is not None
        else None
    )
    facts = FundingFacts(
        status=status,
        own_covers=own_covers,
        pool_member=pool_member,
        pool_covers=pool is not None and pool >= amount,
        flexibility=ctx.settings.claims_flexibility,
        current_covers=current_avail is not None and current_avail >= amount,
    )
    step = select_step(table, facts)
    if ctx.explain:
        w.step(
            f"funding.{step.label}",
            step.draws,
            available=_m(own),
            pool=_m(pool) if pool is not None else "not needed",
            amount=_m(amount),
        )
    period_id = period.id if period is not None else None
    common = {
        "amount": _m(amount),
        "budget": own_name,
        "available": _m(own),
        "period": period_id or "",
    }
    if pool is not None:
        common["pool_available"] = _m(pool)
    pool_note = f" and the core flexible pool has {pool}" if pool is not None else ""
    match step.draws:
        case "own":
            _draw(w, Draw(own_name, amount, period_id))
        case "own_and_pool":
            from_own = max(Money(0), min(own, amount))
            from_pool = amount - from_own
            if from_own:
                _draw(w, Draw(own_name, from_own, period_id))
            _draw(w, Draw(pool_name, from_pool, period_id))
            common |= {"from_budget": _m(from_own), "from_pool": _m(from_pool)}
        case "pool":
            _draw(w, Draw(pool_name, amount, None))
            common |= {"from_budget": "0.00", "from_pool": _m(amount)}
        case "current_period":
            assert bp is not None and current_pos is not None and current_avail is not None
            period_id = bp.periods[current_pos].id
            _draw(w, Draw(own_name, amount, period_id))
            common |= {
                "expired_period": period.id if period else "",
                "period": period_id,
                "available": _m(current_avail),
            }
        case "none":
            common |= {"pool_note": pool_note}
    if step.code is not None and w.find(step.code, common):
        return False
    use = Consumption(
        category,
        management,
        amount,
        days.start,
        days.last_day,
        provider,
        line.item.strip(),
        period_id,
    )
    w.parts.append(LinePart(days.start, days.last_day, quantity, amount, period_id))
    w.uses.append(use)
    ledger.commit(use)
    return True


def _evaluate_line(
    ctx: _Ctx, ledger: Ledger, invoice: Invoice, line: ClaimLine
) -> tuple[LineDecision, list[Consumption]]:
    w = _Work(ctx)
    category = _category_of(line, ctx.catalogue)
    amount = line.line_amount
    _check_input(w, line, category)
    item: CatalogueItem | None = None
    if not w.failed:
        _check_dates(w, line)
        item = _check_claim(w, invoice, line, category)
    budget: CategoryBudget | None = None
    management: str | None = None
    parts: list[tuple[int | None, DateRange, Money, Decimal]] = []
    if not w.failed and category is not None:
        budget, management = _select_budget(w, invoice, line, category)
        if item is not None and management is not None and ctx.catalogue is not None:
            for code, facts in price_findings(ctx.catalogue, item, line, management):
                w.find(code, facts)
        if not w.failed:
            if budget is not None:
                parts = _place_in_periods(w, line, budget, amount)
            else:
                if line.to > ctx.as_of:
                    w.find("FUTURE_DATE", {"to": str(line.to), "today": str(ctx.as_of)})
                parts = [
                    (None, DateRange.from_inclusive(line.from_, line.to), amount, line.quantity)
                ]
    committed: list[tuple[list[Key], int]] = []
    if not w.failed and management is not None and category is not None:
        for pos, days, part_amount, quantity in parts:
            before = len(w.uses)
            ok = _fund_part(
                w,
                ledger,
                line,
                invoice.provider,
                category,
                management,
                budget,
                pos,
                days,
                part_amount,
                quantity,
            )
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
    decision = LineDecision(
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
    return decision, list(w.uses)


def _approved_provider(prepared: PreparedContract | None, provider: str, item: str) -> bool:
    assert prepared is not None
    if provider in prepared.index.providers_on_contract:
        return True
    return (provider, item.strip()) in prepared.paid_items


def _check_mode(channel: Channel, mode: ProcessingMode | None) -> ProcessingMode | None:
    if channel == "streamline":
        return mode or "manual"
    if mode is not None:
        raise InputError(
            f"processing mode {mode!r} applies only to the streamline channel, not {channel!r}",
            loc=("mode",),
        )
    return None


def _evaluate_invoice_on(
    ctx: _Ctx, ledger: Ledger, invoice: Invoice
) -> tuple[InvoiceDecision, list[tuple[str, list[Consumption]]]]:
    decisions: list[LineDecision] = []
    uses: list[tuple[str, list[Consumption]]] = []
    for line in invoice.lines:
        d, u = _evaluate_line(ctx, ledger, invoice, line)
        decisions.append(d)
        uses.append((line.id, u))
    if invoice.number and any(d.outcome != "error" for d in decisions):
        ctx.seen.invoices.setdefault(
            _invoice_key(ctx, invoice.provider, invoice.number), invoice.id
        )
    unapproved = (
        ctx.channel == "streamline"
        and ctx.mode == "automated"
        and not all(
            _approved_provider(ctx.prepared, invoice.provider, line.item) for line in invoice.lines
        )
    )
    if unapproved:
        f = Finding(
            "PROVIDER_NOT_APPROVED",
            "info",
            render("PROVIDER_NOT_APPROVED", {"provider": invoice.provider}),
            {"provider": invoice.provider},
            CODES["PROVIDER_NOT_APPROVED"].source,
        )
        decisions = [replace(d, findings=(*d.findings, f)) for d in decisions]
    worst = outcome_of(d.outcome for d in decisions)
    ok_action = base_action(
        ctx.channel, ctx.mode, warned=worst == "warning", unapproved_provider=unapproved
    )
    lines = tuple(
        replace(d, action="reject" if d.outcome == "error" else ok_action) for d in decisions
    )
    action: Action = "reject" if worst == "error" else ok_action
    return InvoiceDecision(invoice.id, worst, action, lines), uses


def evaluate_invoice(
    contract: Contract | PreparedContract,
    invoice: Invoice,
    *,
    as_of: date,
    channel: Channel = "service_entry",
    mode: ProcessingMode | None = None,
    settings: Settings | None = None,
    action: InvoiceAction = "create",
    explain: bool = False,
    catalogue: CatalogueContext | None = None,
) -> InvoiceDecision:
    """Validate one invoice against a contract as of ``as_of`` (today).

    The invoice's own earlier delivered services (same invoice id) are released first, so an
    edit or re-validation never counts them against itself; a clone carries a new id and is
    validated as new. ``mode`` is the streamline processing mode (default ``manual``).
    """
    return evaluate_batch(
        contract,
        [invoice],
        as_of=as_of,
        channel=channel,
        mode=mode,
        settings=settings,
        action=action,
        explain=explain,
        catalogue=catalogue,
    )[0]


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
                    key = _duplicate_key(mode, self.contract, ds.provider, ds.invoice_number)
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
            key = _line_key(
                ds.claim_type,
                ds.cancellation_reason,
                ds.gst_code,
                ds.from_,
                ds.to,
                ds.category,
                ds.item,
                ds.quantity,
                ds.unit_price,
            )
            lines.setdefault(key, []).append((f"delivered service {ds.id}", ds.invoice_id))
    return PreparedContract(contract, index, ledger, lines, paid)


def evaluate_batch(
    contract: Contract | PreparedContract,
    invoices: Sequence[Invoice],
    *,
    as_of: date,
    channel: Channel = "service_entry",
    mode: ProcessingMode | None = None,
    settings: Settings | None = None,
    action: InvoiceAction = "create",
    explain: bool = False,
    catalogue: CatalogueContext | None = None,
) -> list[InvoiceDecision]:
    """Validate invoices in order against one contract; lines compete for the same money.

    ``contract`` may be a :class:`PreparedContract` (see :func:`prepare`) to validate many
    batches against one contract quickly. Returns one decision per invoice, in input order, each
    with one decision per line in order. Business outcomes never raise; a malformed argument
    raises :class:`InputError`.
    """
    settings = settings or Settings()
    mode = _check_mode(channel, mode)
    prepared = contract if isinstance(contract, PreparedContract) else prepare(contract)
    batch_ids = frozenset(inv.id for inv in invoices)
    ledger = prepared.ledger_without(batch_ids)
    seen = _Seen(prepared.invoices(settings.duplicate_key), prepared.lines, batch_ids)
    ctx = _Ctx(
        prepared.index,
        as_of,
        channel,
        mode,
        settings,
        action,
        explain,
        catalogue,
        seen,
        oldest=as_of - relativedelta(years=2),
        prepared=prepared,
    )
    return [_evaluate_invoice_on(ctx, ledger, inv)[0] for inv in invoices]


def record_invoice(contract: Contract, invoice: Invoice, decision: InvoiceDecision) -> Contract:
    """A new contract with the invoice's non-error lines saved as delivered services (one per
    part), replacing any earlier delivered services of the same invoice (edit, undo cancel).
    The old contract is not changed."""
    lines = {line.id: line for line in invoice.lines}
    kept = [d for d in contract.delivered if d.invoice_id != invoice.id]
    added: list[DeliveredService] = []
    for ld in decision.lines:
        if ld.outcome == "error":
            continue
        line = lines[ld.line_id]
        category = _category_of(line) or ""
        management = _management_of(contract, invoice, line, category)
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
                        "category": category,
                        "management": management,
                        "from": part.from_,
                        "to": part.to,
                        "quantity": part.quantity,
                        "unit_price": line.unit_price,
                        "amount": part.amount,
                        "period_id": part.period,
                        "claim_type": line.claim_type,
                        "cancellation_reason": line.cancellation_reason,
                        "gst_code": line.gst_code,
                    }
                )
            )
    return contract.model_copy(
        update={"delivered": (*kept, *added), "version": contract.version + 1}
    )


def _management_of(contract: Contract, invoice: Invoice, line: ClaimLine, category: str) -> str:
    m = line.management or invoice.management
    if m is not None:
        return m
    options = [b.management for b in contract.budgets if b.category == category]
    if len(options) == 1:
        return options[0]
    pools = sorted({b.management for b in contract.budgets if b.in_core_pool})
    return pools[0] if pools else "plan"


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
