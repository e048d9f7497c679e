"""Budgets: which budgets a line uses, what each has available, and the ledger of what is spent.

Pure functions over a :class:`ContractIndex` (lookups precomputed once per contract) and a
:class:`Ledger` (cents spent per budget key, built from the contract's delivered services and
updated as lines are committed). Availability is always computed, never stored
(spec/validation.md sections 1a, 2 and 3):

* FP: its amount minus delivered services dated in it; with ``rollover`` the smallest cumulative
  availability from that period to the current one.
* Category without FPs: total minus delivered.
* Support item budget: quantity x rate minus what delivered services for that item and
  provider used.
* SPCB: amount minus the provider's delivered services in the category within its agreement dates;
  where distributed over FPs, the FP's share minus the provider's delivered services in that FP.
* Core flexible pool: the sum over the flexible Core categories of one management type of each
  member's availability at the line's dates (a category with no budget counts its negative spend).

Examples:
    >>> from ndis_rules.models import Contract
    >>> c = Contract.model_validate({"id": "C1", "start": "2025-07-01",
    ...     "end_inclusive": "2026-06-30", "budgets": [
    ...       {"category": "01", "management": "plan", "total": "1000.00"},
    ...       {"category": "04", "management": "plan", "total": "500.00"}],
    ...     "delivered": [{"id": "D1", "category": "01", "management": "plan",
    ...       "from": "2025-07-02", "to": "2025-07-02", "amount": "1200.00"}]})
    >>> idx = ContractIndex.build(c)
    >>> ledger = Ledger.from_contract(idx)
    >>> str(category_available(idx, ledger, idx.budget_for("01", "plan")))
    '-200.00'
    >>> str(pool_available(idx, ledger, "plan", date(2025, 8, 1), date(2025, 8, 1), rollover=True))
    '300.00'
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from .models import (
    CORE_CATEGORIES,
    CategoryBudget,
    Contract,
    DeliveredService,
    FundingPeriod,
    ServiceProviderCategoryBudget,
    SupportItemBudget,
)
from .money import Money
from .periods import available_cents, find_overlaps, period_status

__all__ = [
    "BudgetPeriods",
    "Consumption",
    "ContractIndex",
    "Ledger",
    "category_available",
    "period_available",
    "pool_available",
    "spcb_available",
    "support_item_available",
]

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BudgetPeriods:
    """A category budget's funding periods in start order, with id -> position."""

    budget: CategoryBudget
    periods: tuple[FundingPeriod, ...]
    position: dict[str, int]
    amounts: tuple[Money, ...]
    overlaps: tuple[tuple[FundingPeriod, FundingPeriod], ...] = ()
    #: the budget's ref and key, its ledger key, and each period's ledger key (computed once)
    ref: str = ""
    key: str = ""
    cat_key: Key = ()
    fp_keys: tuple[Key, ...] = ()
    amount_cents: tuple[int, ...] = ()

    @classmethod
    def of(cls, budget: CategoryBudget) -> BudgetPeriods:
        periods = tuple(
            sorted(budget.funding.periods, key=lambda p: (p.start, p.end_inclusive, p.id))
            if budget.funding
            else ()
        )
        ref = budget.ref
        return cls(
            budget,
            periods,
            {p.id: i for i, p in enumerate(periods)},
            tuple(p.amount for p in periods),
            tuple(find_overlaps(periods)),
            ref,
            budget.key,
            ("cat", ref),
            tuple(("fp", ref, p.id) for p in periods),
            tuple(p.amount.cents for p in periods),
        )

    def touching(self, first: date, last: date) -> list[FundingPeriod]:
        """The periods sharing a day with ``first`` .. ``last``, in start order."""
        return [p for p in self.periods if p.start <= last and first <= p.end_inclusive]

    def containing(self, day: date) -> int | None:
        """Position of the first period containing ``day``."""
        for i, p in enumerate(self.periods):
            if p.start <= day <= p.end_inclusive:
                return i
        return None

    def current(self, as_of: date) -> int:
        """Position of the current period: the last one that has started by ``as_of`` (-1: none)."""
        cur = -1
        for i, p in enumerate(self.periods):
            if p.start <= as_of:
                cur = i
        return cur

    def active(self, as_of: date) -> int | None:
        """Position of the period active on ``as_of``, if any."""
        for i, p in enumerate(self.periods):
            if period_status(p.start, p.end_inclusive, as_of) == "active":
                return i
        return None


@dataclass(frozen=True, slots=True)
class Consumption:
    """What one delivered service (or one committed part of a line) uses."""

    category: str
    management: str
    amount: Money
    from_: date
    to: date
    provider: str | None = None
    item: str | None = None
    period_id: str | None = None


@dataclass(slots=True)
class ContractIndex:
    """Lookups over one contract, computed once: budgets by category, periods, SPCBs, supports."""

    contract: Contract
    budgets_by_category: dict[str, list[CategoryBudget]] = field(default_factory=dict)
    periods: dict[str, BudgetPeriods] = field(default_factory=dict)
    spcbs: dict[tuple[str, str], list[ServiceProviderCategoryBudget]] = field(default_factory=dict)
    supports_by_item: dict[str, list[SupportItemBudget]] = field(default_factory=dict)
    stated_items: dict[str, set[str]] = field(default_factory=dict)
    pool_members: dict[str, list[CategoryBudget]] = field(default_factory=dict)
    providers_on_contract: set[str] = field(default_factory=set)
    by_budget: dict[int, BudgetPeriods] = field(default_factory=dict)

    @classmethod
    def build(cls, contract: Contract) -> ContractIndex:
        """Index a contract."""
        idx = cls(contract)
        for b in contract.budgets:
            idx.budgets_by_category.setdefault(b.category, []).append(b)
            bp = BudgetPeriods.of(b)
            idx.periods[bp.ref] = bp
            idx.by_budget[id(b)] = bp
            if b.in_core_pool:
                idx.pool_members.setdefault(b.management, []).append(b)
        for s in contract.provider_budgets:
            idx.spcbs.setdefault((s.provider, s.category), []).append(s)
            idx.providers_on_contract.add(s.provider)
        for sib in contract.support_items:
            idx.supports_by_item.setdefault(sib.item.strip(), []).append(sib)
            if sib.kind == "stated":
                idx.stated_items.setdefault(sib.category, set()).add(sib.item.strip())
            if sib.provider:
                idx.providers_on_contract.add(sib.provider)
        return idx

    def of(self, budget: CategoryBudget) -> BudgetPeriods:
        """The indexed periods (and ledger keys) of one of the contract's budgets."""
        bp = self.by_budget.get(id(budget))
        return bp if bp is not None and bp.budget is budget else self.periods[budget.ref]

    def budget_for(self, category: str, management: str) -> CategoryBudget | None:
        """The category budget for a category and management type."""
        for b in self.budgets_by_category.get(category, ()):
            if b.management == management:
                return b
        return None

    def has_pool(self, management: str) -> bool:
        """A core flexible pool of this management type exists (a flexible Core budget)."""
        return bool(self.pool_members.get(management))

    def spcb_for(
        self, provider: str | None, category: str, management: str
    ) -> ServiceProviderCategoryBudget | None:
        """The provider's SPCB in the category (management type matching where it is given)."""
        if provider is None:
            return None
        for s in self.spcbs.get((provider, category), ()):
            if s.management is None or s.management == management:
                return s
        return None

    def support_item_for(
        self, item: str | None, provider: str | None, management: str
    ) -> SupportItemBudget | None:
        """The service or stated support for this item and provider: one naming the provider
        first, else a stated support with no provider (which matches any provider)."""
        if item is None:
            return None
        candidates = sorted(
            (
                s
                for s in self.supports_by_item.get(item.strip(), ())
                if s.management is None or s.management == management
            ),
            key=lambda s: s.id,  # twins for one item and provider: the lowest id, in any order
        )
        for s in candidates:
            if provider is not None and s.provider == provider:
                return s
        for s in candidates:
            if s.provider is None and s.kind == "stated":
                return s
        return None

    def keys_for(self, use: Consumption) -> list[Key]:
        """The ledger keys a consumption counts against."""
        keys: list[Key] = []
        budget = self.budget_for(use.category, use.management)
        period_id = use.period_id
        if budget is None:
            keys.append(("orphan", use.category, use.management))
        else:
            bp = self.of(budget)
            keys.append(bp.cat_key)
            if bp.periods:
                pos = bp.position.get(period_id) if period_id else bp.containing(use.from_)
                if pos is not None:
                    period_id = bp.periods[pos].id
                    keys.append(bp.fp_keys[pos])
        sib = self.support_item_for(use.item, use.provider, use.management)
        if sib is not None:
            keys.append(("sib", sib.id))
        spcb = self.spcb_for(use.provider, use.category, use.management)
        if spcb is not None and spcb.start <= use.from_ <= spcb.end_inclusive:
            keys.append(("spcb", spcb.id))
            if spcb.distribution and period_id is not None:
                keys.append(("spcb_fp", spcb.id, period_id))
        return keys


def consumption_of(ds: DeliveredService) -> Consumption:
    """A delivered service as a consumption."""
    return Consumption(
        ds.category, ds.management, ds.amount, ds.from_, ds.to, ds.provider, ds.item, ds.period_id
    )


@dataclass(slots=True)
class Ledger:
    """Cents spent per budget key. Built from a contract's active delivered services (an invoice
    being re-validated can be left out), then lines are committed to it as they are accepted."""

    index: ContractIndex
    spent: defaultdict[Key, int] = field(default_factory=lambda: defaultdict(int))
    by_invoice: dict[str, list[tuple[list[Key], int]]] = field(default_factory=dict)

    @classmethod
    def from_contract(cls, index: ContractIndex, exclude_invoice: str | None = None) -> Ledger:
        """The ledger of a contract's active delivered services (cancelled ones are released)."""
        ledger = cls(index)
        for ds in index.contract.delivered:
            if ds.status != "active":
                continue
            if exclude_invoice is not None and ds.invoice_id == exclude_invoice:
                continue
            ledger.commit(consumption_of(ds), ds.invoice_id)
        return ledger

    def get(self, key: Key) -> Money:
        """Spent on one key."""
        return Money(self.spent.get(key, 0))

    def commit(self, use: Consumption, invoice_id: str | None = None) -> None:
        """Record a consumption."""
        keys = self.index.keys_for(use)
        for k in keys:
            self.spent[k] += use.amount.cents
        if invoice_id is not None:
            self.by_invoice.setdefault(invoice_id, []).append((keys, use.amount.cents))

    def commit_all(self, uses: Iterable[Consumption], invoice_id: str | None = None) -> None:
        """Record several consumptions."""
        for use in uses:
            self.commit(use, invoice_id)

    def release(self, invoice_id: str) -> None:
        """Release everything an invoice committed (cancel)."""
        for keys, cents in self.by_invoice.pop(invoice_id, []):
            for k in keys:
                self.spent[k] -= cents

    def copy(self) -> Ledger:
        """An independent copy (for trying a line's parts before committing them)."""
        new = Ledger(self.index)
        new.spent = defaultdict(int, self.spent)
        new.by_invoice = {k: list(v) for k, v in self.by_invoice.items()}
        return new


def category_available(index: ContractIndex, ledger: Ledger, budget: CategoryBudget) -> Money:
    """A category budget's remaining: total minus delivered (may be negative for a Core member
    overdrawn through the pool)."""
    return Money._of(budget.total.cents - ledger.spent.get(index.of(budget).cat_key, 0))


def period_available(
    index: ContractIndex,
    ledger: Ledger,
    budget: CategoryBudget,
    position: int,
    as_of: date,
    *,
    rollover: bool,
) -> Money:
    """Availability of the budget's period at ``position`` (see
    :func:`ndis_rules.periods.available_in_period`)."""
    bp = index.of(budget)
    get = ledger.spent.get
    if not rollover:
        return Money._of(bp.amount_cents[position] - get(bp.fp_keys[position], 0))
    spent = [get(k, 0) for k in bp.fp_keys]
    current = max(bp.current(as_of), position)
    return Money._of(available_cents(bp.amount_cents, spent, position, current, rollover=True))


def _member_available(
    index: ContractIndex,
    ledger: Ledger,
    member: CategoryBudget,
    day: date,
    as_of: date,
    *,
    rollover: bool,
) -> Money:
    bp = index.of(member)
    if bp.periods:
        pos = bp.containing(day)
        if pos is None:
            return Money(0)
        p = bp.periods[pos]
        if period_status(p.start, p.end_inclusive, as_of) == "pending":
            return Money(0)
        return period_available(index, ledger, member, pos, as_of, rollover=rollover)
    has_dates = member.start is not None and member.end_inclusive is not None
    if has_dates and not (member.start <= day <= member.end_inclusive):  # type: ignore[operator]
        return Money(0)
    return category_available(index, ledger, member)


def pool_available(
    index: ContractIndex,
    ledger: Ledger,
    management: str,
    day: date,
    as_of: date,
    *,
    rollover: bool,
) -> Money:
    """The core flexible pool's availability for a line dated ``day``: the sum of its members'
    availability there (a member whose FP is pending gives 0; a Core category with no budget of
    this management type counts its spend as negative availability)."""
    cents = 0
    for m in index.pool_members.get(management, ()):
        cents += _member_available(index, ledger, m, day, as_of, rollover=rollover).cents
    for cat in sorted(CORE_CATEGORIES):
        if index.budget_for(cat, management) is None:
            cents -= ledger.spent.get(("orphan", cat, management), 0)
    return Money(cents)


def support_item_available(ledger: Ledger, sib: SupportItemBudget) -> Money:
    """quantity x rate minus what delivered services for that item and provider used."""
    return sib.amount - ledger.get(("sib", sib.id))


def spcb_available(
    ledger: Ledger, spcb: ServiceProviderCategoryBudget, period_id: str | None
) -> tuple[Money, str | None]:
    """The SPCB's availability for a line, and the period whose share applies (None: the whole
    SPCB). Where the SPCB is distributed over FPs, it is that FP's share minus the provider's
    delivered services in that FP (a period with no share has 0)."""
    if spcb.distribution and period_id is not None:
        share = next((s.amount for s in spcb.distribution if s.period_id == period_id), Money(0))
        return share - ledger.get(("spcb_fp", spcb.id, period_id)), period_id
    return spcb.amount - ledger.get(("spcb", spcb.id)), None
