"""The fast path for plain lines (issue 15): a contract compiled once into integer-cent state, and
the lines whose decision is plain arithmetic decided without the exact engine's general flow.

A *plain* line is one the exact engine (:func:`~.lines.evaluate_line`) would decide as follows,
and nothing else: its input, dates, claim type and catalogue checks pass (no finding); it is no
duplicate; it selects exactly one category budget; it lies inside one funding period that has
started (or the budget has none), is not future dated; its budget's management type is
claimable (``claimable_management``); the provider's SPCB for it, if any, covers the line's dates
(its agreement) and the amount (its share of the line's period, where distributed), and its
support item budget, if any, covers the amount (so the only provider finding is
``PROVIDER_NOT_ON_CONTRACT``, for a provider with no budget anywhere on the contract); and
the budget's own availability (and, for a core flexible pool member, the pool's) covers the whole
amount. Its decision is then one draw and one part on that budget (its reference naming the
SPCB and support item budget the line counts against, as ``counts_against`` lists them):
``active_fp_covers`` / ``category_covers`` (no code) or ``expired_fp_covers`` (``PAST_PERIOD``).

:meth:`FastPath.decide` returns exactly the :class:`~ndis_rules.outcomes.LineDecision` the exact
engine would for such a line, and commits its draw to the same :class:`~ndis_rules.budgets.Ledger`
the exact engine reads, so the lines after it (plain or not) see the same availability. For any
other line it returns ``None`` without touching anything, and the caller hands the line to the
exact engine, in order. When in doubt it defers: every condition it cannot decide cheaply is a
reason to defer, never a guess.

Availability is read with the exact engine's own functions (``period_available``,
``pool_available``) over the shared ledger; what the fast path saves is the general flow around
them (the work object, each rule's findings machinery, the selection, period placement, trace
and key lookups), compiled once per contract and cached per item, provider and date.

``tests/claims/test_fast_path.py`` proves, on generated books and on the property strategies'
contracts and invoices, that every decision is identical with the fast path on and off.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from ..budgets import BudgetPeriods, Ledger
from ..catalogue import CatalogueItem
from ..channels import severity_for
from ..codes import CODES, Code, render
from ..itemchecks import CLAIM_TYPES, cancellation_findings, catalogue_findings, price_findings
from ..models import (
    CATEGORIES,
    CORE_CATEGORIES,
    CategoryBudget,
    ClaimLine,
    Invoice,
    is_valid_item_number,
)
from ..money import Money
from ..outcomes import BudgetRef, Draw, Finding, LineDecision, LinePart, Severity, outcome_of
from ..periods import available_cents, period_status
from .claimchecks import category_of, invoice_key
from .context import EvalContext
from .prepare import line_key

__all__ = ["FastPath", "FastPathStats"]

_NOT_ON_CONTRACT: Final[Code] = "PROVIDER_NOT_ON_CONTRACT"
_PAST_PERIOD: Final[Code] = "PAST_PERIOD"
_MANAGEMENTS: Final = (None, "agency", "plan", "self")


@dataclass(slots=True)
class FastPathStats:
    """How many lines the fast path decided, and why the others went to the exact engine
    (the first reason found for each; for measurement only, never part of a decision)."""

    taken: int = 0
    deferred: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    #: of the lines taken, those counting against an SPCB or a support item budget
    provider_budget: int = 0

    @property
    def share(self) -> float:
        """The share of lines the fast path decided (0.0 when none were seen)."""
        seen = self.taken + self.deferred
        return self.taken / seen if seen else 0.0


@dataclass(frozen=True, slots=True)
class _Period:
    start: date
    end: date
    expired: bool
    position: int
    id: str
    key: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Budget:
    """One category budget, compiled: what the plain-line decision needs of it."""

    budget: CategoryBudget
    bp: BudgetPeriods
    category: str
    management: str
    name: str
    total_cents: int
    cat_key: tuple[str, ...]
    dates: tuple[date, date] | None
    periods: tuple[_Period, ...]
    has_periods: bool
    pool_member: bool
    #: every period's amount and ledger key, and the position of the current period (rollover)
    amounts: tuple[int, ...] = ()
    fp_keys: tuple[tuple[str, ...], ...] = ()
    current: int = -1


_Key = tuple[str, ...]
#: What a core flexible pool's availability on one day sums: the members' periods (budget,
#: position), the members without periods (total, key), and the orphan spend keys (subtracted).
_PoolTerms = tuple[
    tuple[tuple["_Budget", int], ...], tuple[tuple[int, _Key], ...], tuple[_Key, ...]
]


@dataclass(frozen=True, slots=True)
class _ProviderBudgets:
    """The SPCB and support item budget a provider's lines of one category, management type and
    item count against (at least one of them), compiled: ids, agreement dates, amounts in cents,
    ledger keys (empty: none), and what the decision's ``counts_against`` lists."""

    spcb_id: str | None
    spcb_start: date
    spcb_end: date
    spcb_cents: int
    spcb_key: _Key
    #: a distributed SPCB's share of each funding period (``None``: not distributed)
    shares: dict[str, int] | None
    sib_id: str | None
    sib_cents: int
    sib_key: _Key
    counts_against: tuple[str, ...]


_DEFER: Final = None
#: not looked up yet (a provider's budgets are looked up once per category, type and item)
_UNKNOWN: Final = _ProviderBudgets(None, date.min, date.max, 0, (), None, None, 0, (), ())


class FastPath:
    """One contract compiled for one validation call (today, channel, settings, catalogue):
    decides plain lines, defers everything else (see the module's documentation)."""

    __slots__ = (
        "_amounts",
        "_catalogue_ok",
        "_claimable",
        "_ctx",
        "_findings",
        "_invoice",
        "_invoice_ok",
        "_item_ok",
        "_not_on_contract",
        "_past_period",
        "_pools",
        "_price_ok",
        "_provider",
        "_rollover",
        "_selection",
        "enabled",
        "stats",
    )

    def __init__(self, ctx: EvalContext, stats: FastPathStats | None = None) -> None:
        self._ctx = ctx
        self.stats = stats
        index, settings = ctx.index, ctx.settings
        contract = index.contract
        self._not_on_contract: Severity = severity_for(
            _NOT_ON_CONTRACT, ctx.channel, ctx.mode, settings
        )
        self._past_period: Severity = severity_for(_PAST_PERIOD, ctx.channel, ctx.mode, settings)
        # Anything that changes every line's flow: leave the whole contract to the exact engine.
        self.enabled = (
            not ctx.explain
            and (contract.active or settings.allow_inactive_contracts)
            and self._not_on_contract != "error"
        )
        self._selection: dict[tuple[str, str | None], _Budget | None] = {}
        compiled: dict[int, _Budget | None] = {}
        for category, budgets in index.budgets_by_category.items():
            for management in _MANAGEMENTS:
                chosen = [b for b in budgets if management is None or b.management == management]
                sel: _Budget | None = None
                if len(chosen) == 1:
                    b = chosen[0]
                    if not (b.in_core_pool and b.total.cents == 0) and not (
                        b.budget_type == "stated" and b.stated_items_only
                    ):
                        if id(b) not in compiled:
                            compiled[id(b)] = self._compile(b)
                        sel = compiled[id(b)]
                self._selection[(category, management)] = sel
        self._findings: dict[tuple[str, str], Finding] = {}
        self._provider: dict[tuple[str, str, str, str], _ProviderBudgets | None] = {}
        self._item_ok: dict[str, bool] = {}
        self._catalogue_ok: dict[tuple[str, date, date, str], CatalogueItem | None] = {}
        self._price_ok: dict[tuple[str, date, date, int, str], bool] = {}
        self._invoice: Invoice | None = None
        self._invoice_ok = False
        self._rollover = settings.rollover
        self._claimable = frozenset(settings.claimable_management)
        self._pools: dict[tuple[str, date], _PoolTerms] = {}
        self._amounts: dict[tuple[object, int], Money] = {}

    def _compile(self, b: CategoryBudget) -> _Budget | None:
        ctx = self._ctx
        index = ctx.index
        bp = index.of(b)
        if bp.overlaps:  # overlapping periods: the channel's overlap rules decide
            return None
        periods = tuple(
            _Period(
                p.start,
                p.end_inclusive,
                period_status(p.start, p.end_inclusive, ctx.as_of) == "expired",
                i,
                p.id,
                bp.fp_keys[i],
            )
            for i, p in enumerate(bp.periods)
            if p.start <= ctx.as_of  # a pending period's lines are not plain
        )
        dates = (
            (b.start, b.end_inclusive)
            if b.start is not None and b.end_inclusive is not None
            else None
        )
        return _Budget(
            budget=b,
            bp=bp,
            category=b.category,
            management=b.management,
            name=b.key,
            total_cents=b.total.cents,
            cat_key=bp.cat_key,
            dates=dates,
            periods=periods,
            has_periods=bool(bp.periods),
            pool_member=index.has_pool(b.management) and b.in_core_pool,
            amounts=bp.amount_cents,
            fp_keys=bp.fp_keys,
            current=bp.current(ctx.as_of),
        )

    def _provider_budgets(
        self, provider: str, category: str, management: str, item: str
    ) -> _ProviderBudgets | None:
        """The provider's SPCB and support item budget for such lines, as ``provider_checks``
        finds them (``None``: neither)."""
        index = self._ctx.index
        spcb = index.spcb_for(provider, category, management)
        sib = index.support_item_for(item.strip(), provider, management)
        if spcb is None and sib is None:
            return None
        counts: list[str] = []
        shares: dict[str, int] | None = None
        if spcb is not None:
            counts.append(spcb.id)
            if spcb.distribution:
                shares = {}
                for s in spcb.distribution:  # the first share of a period counts
                    shares.setdefault(s.period_id, s.amount.cents)
        if sib is not None and sib.id not in counts:
            counts.append(sib.id)
        return _ProviderBudgets(
            spcb_id=spcb.id if spcb is not None else None,
            spcb_start=spcb.start if spcb is not None else date.min,
            spcb_end=spcb.end_inclusive if spcb is not None else date.max,
            spcb_cents=spcb.amount.cents if spcb is not None else 0,
            spcb_key=("spcb", spcb.id) if spcb is not None else (),
            shares=shares,
            sib_id=sib.id if sib is not None else None,
            sib_cents=sib.amount.cents if sib is not None else 0,
            sib_key=("sib", sib.id) if sib is not None else (),
            counts_against=tuple(counts),
        )

    def _own(self, b: _Budget, position: int, spent: dict[tuple[str, ...], int]) -> int:
        """``period_available`` in cents, for a compiled budget."""
        get = spent.get
        if not self._rollover:
            return b.amounts[position] - get(b.fp_keys[position], 0)
        return available_cents(
            b.amounts,
            [get(k, 0) for k in b.fp_keys],
            position,
            max(b.current, position),
            rollover=True,
        )

    def _pool_terms(self, management: str, day: date) -> _PoolTerms:
        """What ``pool_available`` sums for ``management`` on ``day``, worked out once."""
        key = (management, day)
        found = self._pools.get(key)
        if found is not None:
            return found
        ctx = self._ctx
        index = ctx.index
        periods: list[tuple[_Budget, int]] = []
        categories: list[tuple[int, _Key]] = []
        for m in index.pool_members.get(management, ()):
            bp = index.of(m)
            if bp.periods:
                pos = bp.containing(day)
                if pos is None:
                    continue
                p = bp.periods[pos]
                if period_status(p.start, p.end_inclusive, ctx.as_of) == "pending":
                    continue
                compiled = _Budget(
                    budget=m,
                    bp=bp,
                    category=m.category,
                    management=m.management,
                    name=m.key,
                    total_cents=m.total.cents,
                    cat_key=bp.cat_key,
                    dates=None,
                    periods=(),
                    has_periods=True,
                    pool_member=True,
                    amounts=bp.amount_cents,
                    fp_keys=bp.fp_keys,
                    current=bp.current(ctx.as_of),
                )
                periods.append((compiled, pos))
                continue
            dated = m.start is not None and m.end_inclusive is not None
            if dated and not (m.start <= day <= m.end_inclusive):  # type: ignore[operator]
                continue
            categories.append((m.total.cents, bp.cat_key))
        orphans = tuple(
            ("orphan", cat, management)
            for cat in sorted(CORE_CATEGORIES)
            if index.budget_for(cat, management) is None
        )
        found = self._pools[key] = (tuple(periods), tuple(categories), orphans)
        return found

    def _pool(self, management: str, day: date, spent: dict[tuple[str, ...], int]) -> int:
        """``pool_available`` in cents."""
        periods, categories, orphans = self._pool_terms(management, day)
        get = spent.get
        cents = 0
        for budget, position in periods:
            cents += self._own(budget, position, spent)
        for total, cat_key in categories:
            cents += total - get(cat_key, 0)
        for k in orphans:
            cents -= get(k, 0)
        return cents

    def begin(self, invoice: Invoice) -> None:
        """Start an invoice: its duplicate-invoice check (the same for each of its lines, as the
        batch's memory of invoices changes only after the invoice)."""
        ctx = self._ctx
        self._invoice = invoice
        existing = ctx.seen.invoice(invoice_key(ctx, invoice.provider, invoice.number))
        self._invoice_ok = not (invoice.number and existing is not None) or (
            existing == invoice.id
        )

    def _defer(self, reason: str) -> None:
        if self.stats is not None:
            self.stats.deferred += 1
            self.stats.reasons[reason] += 1

    def _finding(self, code: Code, severity: Severity, facts: dict[str, str]) -> Finding:
        return Finding(code, severity, render(code, facts), dict(facts), CODES[code].source)

    def decide(self, ledger: Ledger, invoice: Invoice, line: ClaimLine) -> LineDecision | None:
        """The exact engine's decision on a plain line (its draw committed to ``ledger``), or
        ``None`` (nothing done) when the line is not plain."""
        ctx = self._ctx
        # -- section 8 and the input checks, each "no finding" or defer ------------------------
        if invoice is not self._invoice:
            self.begin(invoice)
        if not self._invoice_ok:
            self._defer("duplicate_invoice")
            return _DEFER
        from_, to = line.from_, line.to
        if to < from_ or line.quantity <= 0 or line.unit_price.cents <= 0:
            self._defer("input")
            return _DEFER
        category = category_of(line, ctx.catalogue)
        if category is None or category not in CATEGORIES:
            self._defer("input")
            return _DEFER
        item = line.item
        valid = self._item_ok.get(item)
        if valid is None:
            valid = self._item_ok[item] = is_valid_item_number(item)
        akey = (line.quantity, line.unit_price.cents)
        cached = self._amounts.get(akey)
        if cached is None:
            cached = self._amounts[akey] = line.line_amount
        amount = cached
        cents = amount.cents
        if not valid or cents <= 0 or (line.amount is not None and line.amount != amount):
            self._defer("input")
            return _DEFER
        contract = ctx.index.contract
        if from_ < contract.start or to > contract.end_inclusive or from_ < ctx.oldest:
            self._defer("dates")
            return _DEFER
        if to > ctx.as_of:
            self._defer("future")
            return _DEFER
        claim_type = line.claim_type
        if (claim_type or line.cancellation_reason) and (
            claim_type.strip().upper() not in CLAIM_TYPES or cancellation_findings(line)
        ):
            self._defer("claim_type")
            return _DEFER
        catalogue = ctx.catalogue
        found: CatalogueItem | None = None
        if catalogue is not None:
            ckey = (item, from_, to, claim_type)
            if ckey in self._catalogue_ok:
                found = self._catalogue_ok[ckey]
            else:
                found, conditions = catalogue_findings(catalogue, line)
                if conditions:
                    found = None
                self._catalogue_ok[ckey] = found
            if found is None:
                self._defer("catalogue")
                return _DEFER
        key = line_key(
            claim_type,
            line.cancellation_reason,
            line.gst_code,
            from_,
            to,
            category,
            item,
            line.quantity,
            line.unit_price,
        )
        if ctx.seen.line(key) is not None:
            self._defer("duplicate_line")
            return _DEFER
        # -- section 2: one category budget ---------------------------------------------------
        b = self._selection.get((category, line.management or invoice.management))
        if b is None:
            self._defer("budget")
            return _DEFER
        management = b.management
        if management not in self._claimable:  # MANAGEMENT_TYPE_NOT_CLAIMABLE
            self._defer("not_claimable")
            return _DEFER
        if found is not None and catalogue is not None:
            pkey = (found.number, from_, to, line.unit_price.cents, management)
            priced = self._price_ok.get(pkey)
            if priced is None:
                priced = self._price_ok[pkey] = not price_findings(
                    catalogue, found, line, management
                )
            if not priced:
                self._defer("price")
                return _DEFER
        # -- section 1: inside the budget's dates and one started funding period ---------------
        if b.dates is not None and not (b.dates[0] <= from_ and to <= b.dates[1]):
            self._defer("budget_dates")
            return _DEFER
        period: _Period | None = None
        if b.has_periods:
            for p in b.periods:
                if p.start <= from_ and to <= p.end:
                    period = p
                    break
            if period is None:
                self._defer("periods")
                return _DEFER
        # -- section 3: the provider's SPCB and support item budget, each covering ------------
        provider = invoice.provider
        provider_key = (provider, category, management, item)
        pb = self._provider.get(provider_key, _UNKNOWN)
        if pb is _UNKNOWN:
            pb = self._provider[provider_key] = self._provider_budgets(
                provider, category, management, item
            )
        spent = ledger.spent
        if pb is not None:
            if pb.spcb_id is not None:
                if not (pb.spcb_start <= from_ and to <= pb.spcb_end):
                    self._defer("provider_agreement")
                    return _DEFER
                if period is not None and pb.shares is not None:
                    # a distributed SPCB: the period's share (0 when it has none)
                    share = pb.shares.get(period.id, 0)
                    spcb_left = share - spent.get(("spcb_fp", pb.spcb_id, period.id), 0)
                else:
                    spcb_left = pb.spcb_cents - spent.get(pb.spcb_key, 0)
                if spcb_left < cents:
                    self._defer("provider_budget")
                    return _DEFER
            if pb.sib_id is not None and pb.sib_cents - spent.get(pb.sib_key, 0) < cents:
                self._defer("support_item_budget")
                return _DEFER
        if period is not None:
            own = self._own(b, period.position, spent)
        else:
            own = b.total_cents - spent.get(b.cat_key, 0)
        if own < cents:
            self._defer("funds")
            return _DEFER
        pool: int | None = None
        if b.pool_member:
            pool = self._pool(management, from_, spent)
            if pool < cents:
                self._defer("pool")
                return _DEFER
        expired = period is not None and period.expired
        if expired and self._past_period == "error":
            self._defer("past_period")
            return _DEFER
        # -- the decision, exactly as the exact engine builds it ------------------------------
        # PROVIDER_NOT_ON_CONTRACT only for a provider with no SPCB or support item budget
        # anywhere on the contract (one on it but with none for this line draws the same way)
        period_id = period.id if period is not None else None
        first: tuple[Finding, ...] = ()
        if pb is None:
            fkey = (provider, b.name)
            not_on = self._findings.get(fkey)
            if not_on is None and provider not in ctx.index.providers_on_contract:
                not_on = self._findings[fkey] = self._finding(
                    _NOT_ON_CONTRACT,
                    self._not_on_contract,
                    {"provider": provider, "budget": b.name},
                )
            if not_on is not None:
                first = (not_on,)
            ref = BudgetRef(b.category, management, period_id, None, None)
        else:
            ref = BudgetRef(b.category, management, period_id, pb.spcb_id, pb.sib_id)
        if expired:
            assert period is not None
            facts = {
                "amount": str(amount),
                "budget": b.name,
                "available": str(Money._of(own)),
                "period": period.id,
            }
            if pool is not None:
                facts["pool_available"] = str(Money._of(pool))
            findings = (*first, self._finding(_PAST_PERIOD, self._past_period, facts))
        else:
            findings = first
        outcome = outcome_of(f.severity for f in findings)
        # the ledger keys of the exact engine's commit (``ContractIndex.keys_for``), in its order
        spent[b.cat_key] += cents
        if period is not None:
            spent[period.key] += cents
        if pb is not None:
            if pb.sib_key:
                spent[pb.sib_key] += cents
            if pb.spcb_key:  # the agreement covers the line, so its first day
                spent[pb.spcb_key] += cents
                if pb.shares is not None and period is not None:
                    spent[("spcb_fp", pb.spcb_key[1], period.id)] += cents
        ctx.seen.lines.setdefault(key, f"line {line.id} of invoice {invoice.id}")
        if self.stats is not None:
            self.stats.taken += 1
            if pb is not None:
                self.stats.provider_budget += 1
        return LineDecision(
            line_id=line.id,
            outcome=outcome,
            action="create",
            amount=amount,
            draws=(Draw(ref, amount),),
            findings=findings,
            counts_against=pb.counts_against if pb is not None else (),
            parts=(LinePart(from_, to, line.quantity, amount, ref),),
            trace=(),
        )
