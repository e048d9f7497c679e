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

Availability is read from the shared ledger as the exact engine's own functions
(``period_available``, ``pool_available``, ``spcb_available``, ``support_item_available``) read
it, in integer cents; what the fast path saves is the general flow around them (the work object,
each rule's findings machinery, the selection, period placement, trace and key lookups),
compiled once per contract and cached per item, provider, value and day. A prepared contract
validated again with the same parameters reuses what was compiled for it (:func:`compiled_for`).

``tests/claims/test_fast_path.py`` proves, on generated books and on the property strategies'
contracts and invoices, that every decision is identical with the fast path on and off.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from ..budgets import BudgetPeriods, ContractIndex, Ledger
from ..catalogue import CatalogueItem
from ..channels import severity_for
from ..codes import CODES, Code, render
from ..itemchecks import (
    CLAIM_TYPES,
    CatalogueContext,
    cancellation_findings,
    catalogue_findings,
    price_findings,
)
from ..models import (
    CATEGORIES,
    CORE_CATEGORIES,
    CategoryBudget,
    ClaimLine,
    Invoice,
    is_valid_item_number,
)
from ..money import Money, line_amount
from ..outcomes import (
    BudgetRef,
    Draw,
    Finding,
    LineDecision,
    LinePart,
    Outcome,
    Severity,
    outcome_of,
)
from ..periods import period_status
from .claimchecks import category_of, invoice_key
from .context import EvalContext

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
#: What a core flexible pool's availability sums for the days of one interval (see
#: :meth:`_Compiled.pool_terms`): the members with periods (budget, period amounts, period keys,
#: position, last position of the rollover minimum), the members without (budget, total, key).
_PeriodTerm = tuple[CategoryBudget, tuple[int, ...], tuple[_Key, ...], int, int]
_CategoryTerm = tuple[CategoryBudget, int, _Key]
_Get = Callable[[_Key, int], int]
_PoolTerms = tuple[tuple[_PeriodTerm, ...], tuple[_CategoryTerm, ...]]


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


#: What a line's input gives, worked out once per value: (the amount, its cents, the quantity's
#: and the unit price's text in the duplicate-line key); ``None``: an input finding.
_AmountInfo = tuple[Money, int, str, str]
_ItemInfo = tuple[str, str]  # (category, item stripped)

_DEFER: Final = None
#: not looked up yet (a provider's budgets are looked up once per category, type and item)
_UNKNOWN: Final = _ProviderBudgets(None, date.min, date.max, 0, (), None, None, 0, (), ())
#: not worked out yet (the per-value caches' default; never a value they hold)
_NO_ITEM: Final = ("", "")
_DAY: Final = timedelta(days=1)
#: ``str(day)`` of the days seen (the same few hundred days recur across a book's contracts)
_DAY_TEXT: dict[date, str] = {}
_DAY_TEXT_LIMIT: Final = 50_000


def _lowest_cumulative(
    amounts: tuple[int, ...], keys: tuple[_Key, ...], k: int, last: int, get: _Get
) -> int:
    """``available_cents(..., rollover=True)`` reading the spend from the ledger as it goes."""
    running = 0
    for i in range(k):
        running += amounts[i] - get(keys[i], 0)
    running += amounts[k] - get(keys[k], 0)
    best = running
    for j in range(k + 1, last + 1):
        running += amounts[j] - get(keys[j], 0)
        best = min(best, running)
    return best


class _Compiled:
    """One contract compiled for one set of call parameters (today, channel, mode, settings,
    catalogue): the budgets, and every cache of the fast path (per item, provider, key, value
    and day). Nothing here depends on the ledger or on what was entered, so a prepared contract
    validated again with the same parameters reuses it (:func:`compiled_for`)."""

    __slots__ = (
        "amounts",
        "catalogue_ok",
        "claimable",
        "enabled",
        "findings",
        "heads",
        "index",
        "items",
        "not_on_contract",
        "orphans",
        "outcomes",
        "past_period",
        "pool_bounds",
        "pools",
        "price_ok",
        "provider",
        "refs",
        "rollover",
        "selection",
    )

    def __init__(self, ctx: EvalContext) -> None:
        index, settings = ctx.index, ctx.settings
        contract = index.contract
        self.index = index
        self.not_on_contract: Severity = severity_for(
            _NOT_ON_CONTRACT, ctx.channel, ctx.mode, settings
        )
        self.past_period: Severity = severity_for(_PAST_PERIOD, ctx.channel, ctx.mode, settings)
        # Anything that changes every line's flow: leave the whole contract to the exact engine.
        self.enabled = (
            not ctx.explain
            and (contract.active or settings.allow_inactive_contracts)
            and self.not_on_contract != "error"
        )
        self.rollover = settings.rollover
        self.claimable = frozenset(settings.claimable_management)
        self.selection: dict[tuple[str, str | None], _Budget | None] = {}
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
                            compiled[id(b)] = self._compile(ctx, b)
                        sel = compiled[id(b)]
                self.selection[(category, management)] = sel
        self.findings: dict[tuple[str, str], Finding] = {}
        self.provider: dict[tuple[str, str, str, str], _ProviderBudgets | None] = {}
        self.items: dict[tuple[str, str | None], _ItemInfo | None] = {}
        self.amounts: dict[tuple[object, int], _AmountInfo | None] = {}
        self.heads: dict[tuple[str, str | None, str | None], tuple[str, str, str] | None] = {}
        self.catalogue_ok: dict[tuple[str, date, date, str], CatalogueItem | None] = {}
        self.price_ok: dict[tuple[str, date, date, int, str], bool] = {}
        self.refs: dict[tuple[int, int, int], BudgetRef] = {}
        # the outcome of a plain line's findings: PROVIDER_NOT_ON_CONTRACT and / or PAST_PERIOD
        self.outcomes: dict[tuple[bool, bool], Outcome] = {
            (not_on, past): outcome_of(
                ([self.not_on_contract] if not_on else []) + ([self.past_period] if past else [])
            )
            for not_on in (False, True)
            for past in (False, True)
        }
        self.pools: dict[tuple[str, int], _PoolTerms] = {}
        self.pool_bounds: dict[str, list[date]] = {}
        self.orphans: dict[str, tuple[_Key, ...]] = {}
        for management, members in index.pool_members.items():
            bounds: set[date] = set()
            for m in members:
                bp = index.of(m)
                spans = [(p.start, p.end_inclusive) for p in bp.periods]
                if not spans and m.start is not None and m.end_inclusive is not None:
                    spans = [(m.start, m.end_inclusive)]
                for first, last in spans:
                    bounds.add(first)
                    if last < date.max:
                        bounds.add(last + _DAY)
            # between two bounds every member's period (or dates) holds every day or none
            self.pool_bounds[management] = sorted(bounds)
            self.orphans[management] = tuple(
                ("orphan", cat, management)
                for cat in sorted(CORE_CATEGORIES)
                if index.budget_for(cat, management) is None
            )

    @staticmethod
    def _compile(ctx: EvalContext, b: CategoryBudget) -> _Budget | None:
        index = ctx.index
        bp = index.of(b)
        if bp.overlaps:  # overlapping periods: the channel's overlap rules decide
            return None
        if any(bp.position.get(p.id) != i for i, p in enumerate(bp.periods)):
            return None  # two periods with one id: the ledger keys would not say which
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

    def provider_budgets(
        self, provider: str, category: str, management: str, item: str
    ) -> _ProviderBudgets | None:
        """The provider's SPCB and support item budget for such lines, as ``provider_checks``
        finds them (``None``: neither)."""
        index = self.index
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

    def pool_terms(self, management: str, day: date, as_of: date) -> _PoolTerms:
        """What ``pool_available`` sums for ``management`` on ``day``: worked out once for all
        the days between two of the members' period (or date) bounds, which it is the same for."""
        key = (management, bisect_right(self.pool_bounds[management], day))
        found = self.pools.get(key)
        if found is not None:
            return found
        index = self.index
        periods: list[_PeriodTerm] = []
        categories: list[_CategoryTerm] = []
        for m in index.pool_members.get(management, ()):
            bp = index.of(m)
            if bp.periods:
                pos = bp.containing(day)
                if pos is None:
                    continue
                p = bp.periods[pos]
                if period_status(p.start, p.end_inclusive, as_of) == "pending":
                    continue
                # the last period of the rollover minimum; -1: rollover off, the period alone
                last = max(bp.current(as_of), pos) if self.rollover else -1
                periods.append((m, bp.amount_cents, bp.fp_keys, pos, last))
                continue
            dated = m.start is not None and m.end_inclusive is not None
            if dated and not (m.start <= day <= m.end_inclusive):  # type: ignore[operator]
                continue
            categories.append((m, m.total.cents, bp.cat_key))
        found = self.pools[key] = (tuple(periods), tuple(categories))
        return found

    def amount_info(self, line: ClaimLine) -> _AmountInfo | None:
        """The line's amount and key texts (``None``: quantity, price or amount not above 0)."""
        quantity, price = line.quantity, line.unit_price
        info: _AmountInfo | None
        if quantity <= 0 or price.cents <= 0:
            info = None
        else:
            amount = line_amount(quantity, price)
            info = (amount, amount.cents, str(quantity.normalize()), str(price))
            if amount.cents <= 0:
                info = None
        self.amounts[(quantity, price.cents)] = info
        return info

    def item_info(self, line: ClaimLine, catalogue: CatalogueContext | None) -> _ItemInfo | None:
        """The line's category and stripped item (``None``: an input finding on either)."""
        category = category_of(line, catalogue)
        item = line.item
        info: _ItemInfo | None = None
        if category is not None and category in CATEGORIES and is_valid_item_number(item):
            info = (category, item.strip())
        if catalogue is None:  # else the category depends on the line's date
            self.items[(item, line.category)] = info
        return info

    def head(self, line: ClaimLine) -> tuple[str, str, str] | None:
        """The claim type, reason and GST code in the duplicate-line key (``None``: a claim type
        or cancellation finding)."""
        claim_type, reason, gst = line.claim_type, line.cancellation_reason, line.gst_code
        kind = claim_type.strip().upper()
        found: tuple[str, str, str] | None = (
            kind,
            (reason or "").strip().upper(),
            (gst or "").strip(),
        )
        if (claim_type or reason) and (kind not in CLAIM_TYPES or cancellation_findings(line)):
            found = None
        self.heads[(claim_type, reason, gst)] = found
        return found

    def day(self, day: date) -> str:
        """A day's text in the duplicate-line key (``str(day)``), kept for every contract."""
        if len(_DAY_TEXT) > _DAY_TEXT_LIMIT:
            _DAY_TEXT.clear()
        text = _DAY_TEXT[day] = str(day)
        return text


#: Compiled contracts kept for prepared contracts validated again (an API serving invoices of
#: the same few contracts); the oldest is dropped beyond the limit.
_REUSE_LIMIT: Final = 16
_reuse: OrderedDict[tuple[object, ...], tuple[ContractIndex, object, _Compiled]] = OrderedDict()


def compiled_for(ctx: EvalContext) -> _Compiled:
    """The contract compiled for this call, reused from an earlier call on the same indexed
    contract with the same parameters (today, channel, mode, settings, catalogue)."""
    key = (id(ctx.index), ctx.as_of, ctx.channel, ctx.mode, ctx.settings, id(ctx.catalogue))
    found = _reuse.get(key)
    if found is not None and found[0] is ctx.index and found[1] is ctx.catalogue:
        with suppress(KeyError):  # another thread may just have dropped it
            _reuse.move_to_end(key)
        return found[2]
    compiled = _Compiled(ctx)
    _reuse[key] = (ctx.index, ctx.catalogue, compiled)
    while len(_reuse) > _REUSE_LIMIT:
        with suppress(KeyError):
            _reuse.popitem(last=False)
    return compiled


class FastPath:
    """One contract compiled for one validation call (today, channel, settings, catalogue):
    decides plain lines, defers everything else (see the module's documentation).

    ``reuse``: take the compiled contract from an earlier call with the same indexed contract
    and parameters (:func:`compiled_for`), for a prepared contract validated again and again."""

    __slots__ = ("_c", "_ctx", "_invoice", "_invoice_ok", "enabled", "stats")

    def __init__(
        self, ctx: EvalContext, stats: FastPathStats | None = None, *, reuse: bool = False
    ) -> None:
        self._ctx = ctx
        self.stats = stats
        self._c = compiled_for(ctx) if reuse and not ctx.explain else _Compiled(ctx)
        self.enabled = self._c.enabled
        self._invoice: Invoice | None = None
        self._invoice_ok = False

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

    @staticmethod
    def _finding(code: Code, severity: Severity, facts: dict[str, str]) -> Finding:
        return Finding(code, severity, render(code, facts), dict(facts), CODES[code].source)

    def decide(self, ledger: Ledger, invoice: Invoice, line: ClaimLine) -> LineDecision | None:
        """The exact engine's decision on a plain line (its draw committed to ``ledger``), or
        ``None`` (nothing done) when the line is not plain."""
        ctx, c = self._ctx, self._c
        # -- section 8 and the input checks, each "no finding" or defer ------------------------
        if invoice is not self._invoice:
            self.begin(invoice)
        if not self._invoice_ok:
            self._defer("duplicate_invoice")
            return _DEFER
        from_, to = line.from_, line.to
        catalogue = ctx.catalogue
        item = line.item
        iinfo = c.items.get((item, line.category), _NO_ITEM) if catalogue is None else _NO_ITEM
        if iinfo is _NO_ITEM:
            iinfo = c.item_info(line, catalogue)
        ainfo = c.amounts.get((line.quantity, line.unit_price.cents), _NO_ITEM)
        if ainfo is _NO_ITEM:
            ainfo = c.amount_info(line)
        if to < from_ or iinfo is None or ainfo is None:
            self._defer("input")
            return _DEFER
        category, stripped = iinfo
        amount, cents, quantity_text, price_text = ainfo  # type: ignore[misc]
        if line.amount is not None and line.amount != amount:
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
        head = c.heads.get((claim_type, line.cancellation_reason, line.gst_code), _NO_ITEM)
        if head is _NO_ITEM:
            head = c.head(line)
        if head is None:
            self._defer("claim_type")
            return _DEFER
        found: CatalogueItem | None = None
        if catalogue is not None:
            ckey = (item, from_, to, claim_type)
            if ckey in c.catalogue_ok:
                found = c.catalogue_ok[ckey]
            else:
                found, conditions = catalogue_findings(catalogue, line)
                if conditions:
                    found = None
                c.catalogue_ok[ckey] = found
            if found is None:
                self._defer("catalogue")
                return _DEFER
        days = _DAY_TEXT
        key = (
            *head,
            days.get(from_) or c.day(from_),
            days.get(to) or c.day(to),
            category,
            stripped,
            quantity_text,
            price_text,
        )  # ``prepare.line_key``, from its parts worked out once
        if ctx.seen.line(key) is not None:
            self._defer("duplicate_line")
            return _DEFER
        # -- section 2: one category budget ---------------------------------------------------
        b = c.selection.get((category, line.management or invoice.management))
        if b is None:
            self._defer("budget")
            return _DEFER
        management = b.management
        if management not in c.claimable:  # MANAGEMENT_TYPE_NOT_CLAIMABLE
            self._defer("not_claimable")
            return _DEFER
        if found is not None and catalogue is not None:
            pkey = (found.number, from_, to, line.unit_price.cents, management)
            priced = c.price_ok.get(pkey)
            if priced is None:
                priced = c.price_ok[pkey] = not price_findings(catalogue, found, line, management)
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
        pb = c.provider.get(provider_key, _UNKNOWN)
        if pb is _UNKNOWN:
            pb = c.provider[provider_key] = c.provider_budgets(provider, category, management, item)
        spent = ledger.spent
        get = spent.get
        if pb is not None:
            if pb.spcb_id is not None:
                if not (pb.spcb_start <= from_ and to <= pb.spcb_end):
                    self._defer("provider_agreement")
                    return _DEFER
                if period is not None and pb.shares is not None:
                    # a distributed SPCB: the period's share (0 when it has none)
                    share = pb.shares.get(period.id, 0)
                    spcb_left = share - get(("spcb_fp", pb.spcb_id, period.id), 0)
                else:
                    spcb_left = pb.spcb_cents - get(pb.spcb_key, 0)
                if spcb_left < cents:
                    self._defer("provider_budget")
                    return _DEFER
            if pb.sib_id is not None and pb.sib_cents - get(pb.sib_key, 0) < cents:
                self._defer("support_item_budget")
                return _DEFER
        # -- the budget's own funds and the pool's, each covering -----------------------------
        if period is None:
            own = b.total_cents - get(b.cat_key, 0)
        elif not c.rollover:
            own = b.amounts[period.position] - get(period.key, 0)
        else:
            position = period.position
            own = _lowest_cumulative(
                b.amounts, b.fp_keys, position, max(b.current, position), get
            )
        if own < cents:
            self._defer("funds")
            return _DEFER
        pool: int | None = None
        if b.pool_member:
            # ``pool_available``: the members' availability on the line's first day (the line's
            # own budget is one of them, its availability the ``own`` above), less the orphans'
            pool = 0
            mine = b.budget
            with_mine = False
            period_terms, category_terms = c.pool_terms(management, from_, ctx.as_of)
            for m, amounts, keys, k, last in period_terms:
                if m is mine:
                    with_mine = True
                elif last < 0:
                    pool += amounts[k] - get(keys[k], 0)
                else:
                    pool += _lowest_cumulative(amounts, keys, k, last, get)
            for m, total, cat_key in category_terms:
                if m is mine:
                    with_mine = True
                else:
                    pool += total - get(cat_key, 0)
            if with_mine:
                pool += own
            for orphan in c.orphans[management]:
                pool -= get(orphan, 0)
            if pool < cents:
                self._defer("pool")
                return _DEFER
        expired = period is not None and period.expired
        if expired and c.past_period == "error":
            self._defer("past_period")
            return _DEFER
        # -- the decision, exactly as the exact engine builds it ------------------------------
        rkey = (id(b), period.position if period is not None else -1, id(pb))
        ref = c.refs.get(rkey)
        if ref is None:
            ref = c.refs[rkey] = BudgetRef(
                b.category,
                management,
                period.id if period is not None else None,
                pb.spcb_id if pb is not None else None,
                pb.sib_id if pb is not None else None,
            )
        # PROVIDER_NOT_ON_CONTRACT only for a provider with no SPCB or support item budget
        # anywhere on the contract (one on it but with none for this line draws the same way)
        findings: tuple[Finding, ...] = ()
        not_on = None
        if pb is None:
            fkey = (provider, b.name)
            not_on = c.findings.get(fkey)
            if not_on is None and provider not in ctx.index.providers_on_contract:
                not_on = c.findings[fkey] = self._finding(
                    _NOT_ON_CONTRACT,
                    c.not_on_contract,
                    {"provider": provider, "budget": b.name},
                )
            if not_on is not None:
                findings = (not_on,)
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
            findings = (*findings, self._finding(_PAST_PERIOD, c.past_period, facts))
        outcome = c.outcomes[(not_on is not None, expired)]
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
