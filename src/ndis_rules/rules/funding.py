"""Sections 1-3 for one line: which budget it is charged to (:func:`select_budget`), how it is
placed in funding periods (:func:`place_in_periods`), and the draws of each piece from its
budget, the core flexible pool, the SPCB and the support item budget (:func:`fund_part`).

Every piece funded becomes a :class:`~ndis_rules.outcomes.LinePart` carrying the
:class:`~ndis_rules.outcomes.BudgetRef` it was charged to, so nothing after the decision has to
work the budget out again."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Literal, NamedTuple

from ..budgets import (
    BudgetPeriods,
    Consumption,
    ContractIndex,
    Ledger,
    category_available,
    period_available,
    pool_available,
    spcb_available,
    support_item_available,
)
from ..channels import CHANNELS
from ..codes import Code
from ..models import CORE_CATEGORIES, CategoryBudget, ClaimLine, Invoice
from ..money import Money
from ..outcomes import BudgetRef, Draw, LinePart
from ..periods import DateRange, as_range, period_status, split_pro_rata, uncovered_days
from ..streamline import POOL_ONLY, WITH_PERIODS, WITHOUT_PERIODS, FundingFacts, select_step
from .context import LineWork
from .context import money_text as _m

__all__ = ["Piece", "Selection", "fund_part", "place_in_periods", "select_budget"]


class Selection(NamedTuple):
    """What every piece of one line is charged to, as section 2 selected it: the line, its
    provider and item, its category and management type, and the category budget (``None``: the
    core flexible pool alone) with its indexed periods. Immutable (a named tuple: built once per
    line on the hot path)."""

    line: ClaimLine
    provider: str
    item: str
    category: str
    management: str
    budget: CategoryBudget | None
    periods: BudgetPeriods | None

    @property
    def name(self) -> str:
        """The budget's name in draws and messages: ``"01:plan"`` or ``"core_flexible:plan"``."""
        if self.budget is not None:
            return self.budget.key
        return f"core_flexible:{self.management}"

    def ref(self, period: str | None) -> BudgetRef:
        """The budget reference of a piece drawn in ``period``."""
        return BudgetRef(self.category, self.management, period)


class Piece(NamedTuple):
    """A piece of a line to fund: the position of its funding period in the budget's periods
    (``None``: no periods), its days, amount and quantity."""

    position: int | None
    days: DateRange
    amount: Money
    quantity: Decimal


def select_budget(
    w: LineWork, invoice: Invoice, line: ClaimLine, category: str
) -> Selection | None:
    """Section 2: the line's category budget, or the core flexible pool alone for a Core line
    without a budget of its own; ``None`` when none can be chosen (a finding says why)."""
    index = w.ctx.index
    found = _select(w, index, invoice, line, category)
    if found is None:
        return None
    budget, management = found
    claimable = w.ctx.settings.claimable_management
    if management not in claimable:
        # validation.md §1a: who may claim which money; the pool of another management type
        # is never drawn (a line of this category is charged to this type's pool, if at all).
        w.find(
            "MANAGEMENT_TYPE_NOT_CLAIMABLE",
            {
                "budget": budget.key if budget is not None else f"core_flexible:{management}",
                "management": management,
                "claimable": ", ".join(claimable),
            },
        )
        return None
    return Selection(
        line=line,
        provider=invoice.provider,
        item=line.item.strip(),
        category=category,
        management=management,
        budget=budget,
        periods=index.of(budget) if budget is not None else None,
    )


def _select(
    w: LineWork, index: ContractIndex, invoice: Invoice, line: ClaimLine, category: str
) -> tuple[CategoryBudget | None, str] | None:
    management = line.management or invoice.management
    budgets = index.budgets_by_category.get(category, [])
    if management is not None:
        budgets = [b for b in budgets if b.management == management]
    if len(budgets) == 1:
        b = budgets[0]
        if b.in_core_pool and b.total == Money(0) and index.has_pool(b.management):
            # a $0 flexible Core budget: the whole amount is a draw on the pool of the budget's
            # own management type (the contract implies it: no other type is asked for)
            w.step("budget.select", "core_flexible_only", management=b.management)
            return None, b.management
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
        return None
    if category in CORE_CATEGORIES:
        pools = [m for m in ("agency", "plan", "self") if index.has_pool(m)]
        if management is not None:
            pools = [m for m in pools if m == management]
        if len(pools) == 1:
            w.step("budget.select", "core_flexible_only", management=pools[0])
            return None, pools[0]
        if len(pools) > 1:
            w.find("MANAGEMENT_TYPE_REQUIRED", {"category": category, "options": ", ".join(pools)})
            return None
    w.find("NO_CATEGORY_BUDGET", {"category": category, "management": management or "any"})
    return None


def place_in_periods(
    w: LineWork, line: ClaimLine, budget: CategoryBudget, amount: Money
) -> list[Piece]:
    """Section 1 period rules; the pieces of the line to fund (one per funding period)."""
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
        return [Piece(None, service, amount, line.quantity)]
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
        return [Piece(bp.position[last.id], service, amount, line.quantity)]
    pieces = [as_range(p) for p in touching]
    split = split_pro_rata(service, pieces, amount, line.quantity)
    return [Piece(bp.position[touching[s.index].id], s.days, s.amount, s.quantity) for s in split]


def _draw(w: LineWork, draw: Draw) -> None:
    """Keep a draw of the line; a part of 0.00 (a one-cent line split over two periods) draws
    nothing, so no draw of 0.00 is ever reported (found by the draws property)."""
    if draw.amount.cents:
        w.draws.append(draw)


def provider_checks(
    w: LineWork, ledger: Ledger, sel: Selection, period_id: str | None, piece: Piece
) -> BudgetRef | None:
    """SPCB and support item budget checks of one piece: its budget reference with the SPCB and
    support item budget it counts against; ``None`` when an error stops it."""
    ctx, index = w.ctx, w.ctx.index
    provider, category, management = sel.provider, sel.category, sel.management
    days, amount = piece.days, piece.amount
    label = f"{sel.name} {period_id}" if period_id is not None else sel.name
    spcb = index.spcb_for(provider, category, management)
    sib = index.support_item_for(sel.item, provider, management)
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
            return None
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
                return None
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
                "fallback": label,
            },
        ):
            return None
        if sib.id not in w.counts_against:
            w.counts_against.append(sib.id)
    if spcb is None and sib is None and provider not in index.providers_on_contract:
        # a provider on the contract (an SPCB or support item budget anywhere on it) but with
        # none for this line draws from the category / pool the same way, with no finding
        w.find("PROVIDER_NOT_ON_CONTRACT", {"provider": provider, "budget": sel.name})
    return BudgetRef(
        category,
        management,
        period_id,
        spcb.id if spcb is not None else None,
        sib.id if sib is not None else None,
    )


def fund_part(w: LineWork, ledger: Ledger, sel: Selection, piece: Piece) -> bool:
    """Sections 2 and 3 for one piece of a line; on success, its draws and part (with the
    budget it was charged to) are added and it is committed to ``ledger``. False when an error
    stops the line."""
    ctx, index = w.ctx, w.ctx.index
    rollover = ctx.settings.rollover
    category, management, budget, bp = sel.category, sel.management, sel.budget, sel.periods
    amount, days, pos = piece.amount, piece.days, piece.position
    period = bp.periods[pos] if bp is not None and pos is not None else None
    if budget is not None and budget.budget_type == "stated" and budget.stated_items_only:
        stated = index.stated_items.get(category, set())
        if sel.item not in stated:
            w.find("NOT_A_STATED_ITEM", {"category": category, "item": sel.item})
            return False
    own_name = sel.name
    checked = provider_checks(w, ledger, sel, period.id if period else None, piece)
    if checked is None:
        return False

    pool_member = index.has_pool(management) and (budget is None or budget.in_core_pool)
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
    current_covers = current_avail is not None and current_avail >= amount
    if current_covers and pool_member and ctx.settings.claims_flexibility:
        # charged to the current period, the line is a draw there: the pool is measured in the
        # current period too (validation.md §1a), where other members may have overdrawn it
        current_pool = pool_available(
            index, ledger, management, ctx.as_of, ctx.as_of, rollover=rollover
        )
        current_covers = current_pool >= amount
        if ctx.explain:
            w.step("pool.current_period", _m(current_pool), amount=_m(amount))
    facts = FundingFacts(
        status=status,
        own_covers=own_covers,
        pool_member=pool_member,
        pool_covers=pool is not None and pool >= amount,
        flexibility=ctx.settings.claims_flexibility,
        current_covers=current_covers,
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
    ref = checked
    common = {
        "amount": _m(amount),
        "budget": own_name,
        "available": _m(own),
        "period": ref.period or "",
    }
    if pool is not None:
        common["pool_available"] = _m(pool)
    pool_note = f" and the core flexible pool has {pool}" if pool is not None else ""
    match step.draws:
        case "own":
            _draw(w, Draw(ref, amount))
        case "own_and_pool":
            from_own = max(Money(0), min(own, amount))
            from_pool = amount - from_own
            if from_own:
                _draw(w, Draw(ref, from_own))
            _draw(w, Draw(ref, from_pool, pool=True))
            common |= {"from_budget": _m(from_own), "from_pool": _m(from_pool)}
        case "pool":
            _draw(w, Draw(replace(ref, period=None), amount, pool=True))
            common |= {"from_budget": "0.00", "from_pool": _m(amount)}
        case "current_period":
            assert bp is not None and current_pos is not None and current_avail is not None
            ref = replace(ref, period=bp.periods[current_pos].id)
            _draw(w, Draw(ref, amount))
            common |= {
                "expired_period": period.id if period else "",
                "period": ref.period or "",
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
        sel.provider,
        sel.item,
        ref.period,
    )
    w.parts.append(LinePart(days.start, days.last_day, piece.quantity, amount, ref))
    w.uses.append(use)
    ledger.commit(use)
    return True
