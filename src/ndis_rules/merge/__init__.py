"""Merging a PACE plan into a local service contract: select, preview, apply (spec/sync.md).

Pure functions, no I/O, no clock: *today* is a parameter.

* :func:`select_plan` picks the plan to sync (by id, or the plan covering a date).
* :func:`preview` compares a contract with a plan and returns a :class:`ChangeSet`: plan field
  changes, per category budget ``added`` / ``changed`` / ``ended`` / ``unchanged`` (old -> new per
  field and per funding period) and the **conflicts** found. It is data: serialisable to JSON
  and printable (:meth:`ChangeSet.summary`).
* :func:`apply` turns a contract and a change set into a **new** contract (the old one is never
  mutated). It refuses a change set built for another contract or version, a ``NEW_PLAN`` change
  set (a reassessment is never merged) and any conflict the caller did not accept.
* :func:`new_contract_from_plan` creates a contract from a plan, with one adjustment delivered
  service per category for funds already used.
* :func:`remaining` (total - delivered, always computed) and :func:`allocation_total`
  (plan-managed budgets only: self- and agency-managed ones are kept and shown, but excluded).

Matching a PACE budget to a local one is by category + management type, and by PACE budget id
once the local budget is linked to one; an ambiguous match is the conflict ``AMBIGUOUS_MATCH``,
never a guess. Only PACE's fields are synced (total, own dates, management type, budget type,
stated items only, funding component, the PACE budget id); local-only data (support item
budgets, SPCBs, delivered services, notes, ``requires_booking``, budget ids) is left as it is,
except that an accepted ``SPCB_REALIGN_NEEDED`` clears the SPCB's distribution over the periods.

Examples:
    >>> c = Contract.model_validate({"id": "C1", "plan_id": "P1", "start": "2025-07-01",
    ...     "end_inclusive": "2026-06-30", "total": "1000.00", "budgets": [
    ...       {"category": "01", "management": "plan", "total": "1000.00"}],
    ...     "delivered": [{"id": "D1", "category": "01", "management": "plan",
    ...       "from": "2025-07-02", "to": "2025-07-02", "amount": "900.00"}]})
    >>> plan = PacePlan.model_validate({"plan_id": "P1", "ndis_number": "430000001",
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": "800.00",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "800.00"}]})
    >>> cs = preview(c, plan, date(2025, 8, 1))
    >>> cs.changed, [k.code for k in cs.conflicts]
    (['01:plan'], ['TOTAL_BELOW_DELIVERED'])
    >>> try:
    ...     apply(c, cs)
    ... except UnacceptedConflicts as exc:
    ...     print([k.id for k in exc.conflicts])
    ['TOTAL_BELOW_DELIVERED:01:plan']
    >>> new = apply(c, cs, accept=["TOTAL_BELOW_DELIVERED"])
    >>> str(remaining(new, new.budgets[0])), new.version, c.version
    ('-100.00', 1, 0)
    >>> preview(new, plan, date(2025, 8, 1)).is_empty
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, NdisRulesError, input_error_from
from ..models import (
    CategoryBudget,
    Contract,
    DeliveredService,
    FundingComponent,
    FundingPeriod,
    IsoDate,
    ServiceProviderCategoryBudget,
)
from ..money import Money
from ..pace import PaceBudget, PaceFundingComponent, PacePlan
from ..periods import DateRange, find_gaps, find_overlaps

__all__ = [
    "ACCEPTABLE_CODES",
    "ADJUSTMENT_DESCRIPTION",
    "CONFLICT_CODES",
    "ApplyRefused",
    "BudgetChange",
    "ChangeSet",
    "Conflict",
    "ConflictCode",
    "FieldChange",
    "NewPlanNotMerged",
    "PeriodChange",
    "PlanFields",
    "PlanSelectionError",
    "StaleChangeSet",
    "SyncMismatchError",
    "UnacceptedConflicts",
    "allocation_total",
    "apply",
    "delivered_total",
    "excluded_from_allocation",
    "new_contract_from_plan",
    "plan_period_conflicts",
    "preview",
    "remaining",
    "select_plan",
]

ConflictCode = Literal[
    "TOTAL_BELOW_DELIVERED",
    "PERIOD_HAS_DELIVERED",
    "DELIVERED_OUTSIDE_DATES",
    "SPCB_REALIGN_NEEDED",
    "BOOKING_LOCKS_MANAGEMENT",
    "NEW_PLAN",
    "PLAN_PERIODS_INVALID",
    "AMBIGUOUS_MATCH",
]
#: Every conflict code, in a stable order.
CONFLICT_CODES: Final[tuple[str, ...]] = get_args(ConflictCode)
#: Codes a caller may accept; ``NEW_PLAN`` never can (a reassessment is never merged).
ACCEPTABLE_CODES: Final = frozenset(CONFLICT_CODES) - {"NEW_PLAN"}
#: The description of an adjustment delivered service (funds used before the contract).
ADJUSTMENT_DESCRIPTION: Final = "PACE budget adjustment"

_ONE_DAY: Final = timedelta(days=1)

BudgetKind = Literal["added", "changed", "ended", "unchanged"]


# -- errors -----------------------------------------------------------------------------------
class PlanSelectionError(NdisRulesError, LookupError):
    """No plan, or several, matched the selection; ``candidates`` lists the plans considered as
    ``"<plan id> <start>..<end_inclusive> <status>"``."""

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        self.candidates = tuple(candidates)
        listed = "; ".join(self.candidates) if self.candidates else "none"
        super().__init__(f"{message}; candidates: {listed}")


class SyncMismatchError(NdisRulesError, ValueError):
    """The plan belongs to another participant than the contract."""


class ApplyRefused(NdisRulesError, ValueError):
    """:func:`apply` refused the change set; the contract is unchanged."""


class StaleChangeSet(ApplyRefused):
    """The change set was built for another contract or another version of it: preview again."""


class NewPlanNotMerged(ApplyRefused):
    """The change set is a ``NEW_PLAN`` (reassessment): it is never merged into the old contract;
    create a new contract from the plan with :func:`new_contract_from_plan`."""


class UnacceptedConflicts(ApplyRefused):
    """Conflicts the caller did not accept; ``conflicts`` lists them."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        ids = ", ".join(c.id for c in self.conflicts)
        n = len(self.conflicts)
        super().__init__(
            f"apply refused: {n} conflict{'s' if n != 1 else ''} not accepted: {ids}; resolve "
            "them locally and preview again, or pass their codes or ids in accept="
        )


# -- the change set ---------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldChange(_Model):
    """One field's old -> new value, as text (money as ``"123.45"``, dates ISO, None as null)."""

    field: str
    old: str | None
    new: str | None


class PeriodChange(_Model):
    """A funding period added, removed or changed (by ``funding_period_id``)."""

    period_id: str
    change: Literal["added", "removed", "changed"]
    old: FundingPeriod | None = None
    new: FundingPeriod | None = None


class Conflict(_Model):
    """A reason not to apply silently: a stable ``code``, the ``subject`` it concerns (a budget
    key, ``key:period``, an SPCB id or ``plan``), a message and the facts it used."""

    code: ConflictCode
    subject: str
    message: str
    facts: dict[str, str] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        """``"<code>:<subject>"``: accept one conflict by its id, or all of a code by the code."""
        return f"{self.code}:{self.subject}"


class BudgetChange(_Model):
    """What the sync does to one category budget. ``key`` is the local budget's key before the
    sync (the PACE budget's for ``added``); ``ref`` the local budget's ref (None when added);
    ``result`` the budget after apply (None when unchanged, or an ended budget that is removed
    because it had not started)."""

    key: str
    kind: BudgetKind
    ref: str | None = None
    pace_budget_id: str | None = None
    fields: tuple[FieldChange, ...] = ()
    periods: tuple[PeriodChange, ...] = ()
    result: CategoryBudget | None = None


class PlanFields(_Model):
    """The contract's plan-level fields after apply."""

    plan_id: str
    participant: str
    start: IsoDate
    end_inclusive: IsoDate
    total: Money


class ChangeSet(_Model):
    """The preview of a sync: what apply would change, and the conflicts. Built for one contract
    version (``contract_id``, ``contract_version``) and one plan."""

    contract_id: str
    contract_version: int
    plan_id: str
    plan_status: str | None = None
    today: IsoDate
    new_plan: bool = False
    plan: PlanFields | None = None
    plan_changes: tuple[FieldChange, ...] = ()
    budgets: tuple[BudgetChange, ...] = ()
    conflicts: tuple[Conflict, ...] = ()

    def _keys(self, kind: BudgetKind) -> list[str]:
        return [b.key for b in self.budgets if b.kind == kind]

    @property
    def added(self) -> list[str]:
        """Keys of the budgets added."""
        return self._keys("added")

    @property
    def changed(self) -> list[str]:
        """Keys of the budgets changed."""
        return self._keys("changed")

    @property
    def ended(self) -> list[str]:
        """Keys of the budgets ended (in the contract, gone from PACE)."""
        return self._keys("ended")

    @property
    def unchanged(self) -> list[str]:
        """Keys of the budgets unchanged."""
        return self._keys("unchanged")

    @property
    def has_changes(self) -> bool:
        """True when apply would change the contract."""
        return bool(self.plan_changes) or any(b.kind != "unchanged" for b in self.budgets)

    @property
    def is_empty(self) -> bool:
        """No changes and no conflicts: the contract is in sync with the plan."""
        return not self.has_changes and not self.conflicts

    def summary(self) -> str:
        """A human-readable account of the change set, one line per change or conflict."""
        head = f"sync of contract {self.contract_id} v{self.contract_version} with plan "
        lines = [head + f"{self.plan_id} as of {self.today}"]
        if self.new_plan:
            lines.append("  NEW PLAN: not merged; create a new contract from it")
        lines.extend(
            f"  plan {c.field}: {c.old or '-'} -> {c.new or '-'}" for c in self.plan_changes
        )
        for b in self.budgets:
            lines.append(f"  {b.kind} {b.key}")
            lines.extend(f"    {c.field}: {c.old or '-'} -> {c.new or '-'}" for c in b.fields)
            for p in b.periods:
                old = _period_text(p.old)
                new = _period_text(p.new)
                lines.append(f"    period {p.period_id} {p.change}: {old} -> {new}")
        lines.extend(f"  CONFLICT {c.id}: {c.message}" for c in self.conflicts)
        if self.is_empty:
            lines.append("  in sync: nothing to apply")
        return "\n".join(lines)


def _period_text(p: FundingPeriod | None) -> str:
    if p is None:
        return "-"
    released = "" if p.released else " (not released)"
    return f"{p.start}..{p.end_inclusive} {p.amount}{released}"


# -- small helpers ----------------------------------------------------------------------------
def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _active(contract: Contract) -> list[DeliveredService]:
    return [d for d in contract.delivered if d.status == "active"]


def excluded_from_allocation(budget: CategoryBudget) -> bool:
    """Self- and agency-managed budgets are excluded from the contract's allocation totals (a plan
    manager does not pay them); they are kept and shown.

    Examples:
        >>> b = CategoryBudget.model_validate({"category": "01", "management": "self",
        ...                                    "total": "10.00"})
        >>> excluded_from_allocation(b)
        True
    """
    return budget.management != "plan"


def allocation_total(contract: Contract) -> Money:
    """The contract's allocation total: the totals of its plan-managed budgets.

    Examples:
        >>> c = Contract.model_validate({"id": "C", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30", "budgets": [
        ...       {"category": "01", "management": "plan", "total": "100.00"},
        ...       {"category": "07", "management": "agency", "total": "50.00"}]})
        >>> str(allocation_total(c))
        '100.00'
    """
    return Money(sum(b.total.cents for b in contract.budgets if not excluded_from_allocation(b)))


def _owner_ref(contract: Contract, category: str, management: str) -> str | None:
    b = contract.budget(category, management)
    return b.ref if b is not None else None


def _delivered_of(
    contract: Contract, category: str, management: str, ref: str | None
) -> list[DeliveredService]:
    """Active delivered services drawing on the budget of this key. As in the ledger, they belong
    to the *first* budget of their category and management type (``ref`` None: no budget yet)."""
    if _owner_ref(contract, category, management) != ref:
        return []
    return [d for d in _active(contract) if d.category == category and d.management == management]


def delivered_total(contract: Contract, budget: CategoryBudget) -> Money:
    """What the contract's active delivered services (adjustments included) used of a budget."""
    ds = _delivered_of(contract, budget.category, budget.management, budget.ref)
    return Money(sum(d.amount.cents for d in ds))


def remaining(contract: Contract, budget: CategoryBudget) -> Money:
    """A budget's remaining: its total minus what is delivered against it; always computed,
    never taken from PACE (may be negative).

    Examples:
        >>> c = Contract.model_validate({"id": "C", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30", "budgets": [
        ...       {"category": "01", "management": "plan", "total": "100.00"}],
        ...     "delivered": [{"id": "D", "category": "01", "management": "plan",
        ...       "from": "2025-07-01", "to": "2025-07-01", "amount": "30.50"}]})
        >>> str(remaining(c, c.budgets[0]))
        '69.50'
    """
    return budget.total - delivered_total(contract, budget)


def _m(amount: Money) -> str:
    return str(amount)


# -- selecting a plan -------------------------------------------------------------------------
def _describe_plan(p: PacePlan) -> str:
    return f"{p.plan_id} {p.start}..{p.end_inclusive} {p.status or '-'}"


def select_plan(
    plans: Sequence[PacePlan], *, plan_id: str | None = None, on: date | None = None
) -> PacePlan:
    """The one plan to sync: the plan with ``plan_id``, else the plan whose dates cover ``on``
    (the current plan), else the only plan. None or several is a :class:`PlanSelectionError`
    listing the candidates.

    Examples:
        >>> p = [PacePlan.model_validate({"plan_id": i, "ndis_number": "430000001",
        ...       "start": s, "end_inclusive": e, "total": "0"})
        ...      for i, s, e in (("A", "2024-07-01", "2025-06-30"), ("B", "2025-07-01",
        ...                      "2026-06-30"))]
        >>> select_plan(p, on=date(2025, 8, 1)).plan_id
        'B'
        >>> try:
        ...     select_plan(p)
        ... except PlanSelectionError as exc:
        ...     print(exc.candidates)
        ('A 2024-07-01..2025-06-30 -', 'B 2025-07-01..2026-06-30 -')
    """
    if plan_id is not None:
        hits = [p for p in plans if p.plan_id == plan_id]
        what = f"plan id {plan_id}"
    elif on is not None:
        hits = [p for p in plans if p.covers(on)]
        what = f"a plan covering {on}"
    else:
        hits = list(plans)
        what = "a plan"
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise PlanSelectionError(f"no plan matches {what}", [_describe_plan(p) for p in plans])
    raise PlanSelectionError(
        f"{len(hits)} plans match, pick one by id or date", [_describe_plan(p) for p in hits]
    )


# -- funding ----------------------------------------------------------------------------------
def _sorted_periods(periods: Iterable[FundingPeriod]) -> tuple[FundingPeriod, ...]:
    return tuple(sorted(periods, key=lambda p: (p.start, p.end_inclusive, p.id)))


def _component(f: PaceFundingComponent | None) -> FundingComponent | None:
    """PACE's funding component as a contract one (None when it has no periods yet)."""
    if f is None or not f.periods:
        return None
    periods = _sorted_periods(
        FundingPeriod(
            id=p.funding_period_id,
            start=p.start,
            end_inclusive=p.end_inclusive,
            amount=p.amount,
            released=p.released,
        )
        for p in f.periods
    )
    return FundingComponent(
        id=f.id, amount=f.amount, instalment_months=f.instalment_months, periods=periods
    )


def _normal(f: FundingComponent | None) -> FundingComponent | None:
    if f is None:
        return None
    return f.model_copy(update={"periods": _sorted_periods(f.periods)})


def _period_changes(
    old: FundingComponent | None, new: FundingComponent | None
) -> tuple[list[FieldChange], list[PeriodChange]]:
    fields: list[FieldChange] = []
    for name in ("id", "amount", "instalment_months"):
        a = getattr(old, name) if old else None
        b = getattr(new, name) if new else None
        if a != b:
            fields.append(FieldChange(field=f"funding.{name}", old=_text(a), new=_text(b)))
    olds = {p.id: p for p in (old.periods if old else ())}
    news = {p.id: p for p in (new.periods if new else ())}
    changes: list[PeriodChange] = []
    for pid, p in olds.items():
        if pid not in news:
            changes.append(PeriodChange(period_id=pid, change="removed", old=p))
        elif news[pid] != p:
            changes.append(PeriodChange(period_id=pid, change="changed", old=p, new=news[pid]))
    changes.extend(
        PeriodChange(period_id=pid, change="added", new=p)
        for pid, p in news.items()
        if pid not in olds
    )
    changes.sort(key=_period_change_order)
    return fields, changes


def _period_change_order(c: PeriodChange) -> tuple[date, str]:
    p = c.new or c.old
    return (p.start if p else date.min, c.period_id)


def plan_period_conflicts(budget: PaceBudget) -> list[Conflict]:
    """``PLAN_PERIODS_INVALID`` for a PACE budget whose funding periods overlap, leave a gap
    (between them, or within the budget's own dates), lie outside the budget's dates, do not sum
    to the component amount, or are missing while funds exist. Empty when they are consistent.

    Examples:
        >>> b = PaceBudget.model_validate({"category": "01", "management": "plan",
        ...     "total": "300.00", "funding": {"amount": "300.00", "periods": [
        ...       {"funding_period_id": "F1", "start": "2025-07-01",
        ...        "end_inclusive": "2025-09-30", "amount": "100.00"},
        ...       {"funding_period_id": "F2", "start": "2025-09-01",
        ...        "end_inclusive": "2025-12-31", "amount": "100.00"}]}})
        >>> [c.facts["periods"] for c in plan_period_conflicts(b)]
        ['F1, F2']
        >>> plan_period_conflicts(b)[0].facts["problems"]
        'F1 overlaps F2; periods sum to 200.00, the component amount is 300.00'
    """
    f = budget.funding
    if f is None:
        return []
    problems: list[str] = []
    offending: set[str] = set()
    periods = sorted(f.periods, key=lambda p: (p.start, p.end_inclusive, p.funding_period_id))
    amount = f.amount
    if not periods:
        if amount is not None and amount.cents != 0:
            problems.append(f"the component amount {amount} is not yet in funding periods")
    else:
        for a, b in find_overlaps(periods):
            problems.append(f"{a.funding_period_id} overlaps {b.funding_period_id}")
            offending.update({a.funding_period_id, b.funding_period_id})
        span_start = periods[0].start
        span_end = max(p.end_inclusive for p in periods)
        if budget.start is not None and budget.end_inclusive is not None:
            span_start, span_end = budget.start, budget.end_inclusive
            for p in periods:
                if p.start < budget.start or p.end_inclusive > budget.end_inclusive:
                    problems.append(
                        f"{p.funding_period_id} ({p.start}..{p.end_inclusive}) lies outside "
                        f"the budget's dates {budget.start}..{budget.end_inclusive}"
                    )
                    offending.add(p.funding_period_id)
        for gap in find_gaps(periods, DateRange.from_inclusive(span_start, span_end)):
            problems.append(f"no funding period covers {gap.start}..{gap.last_day}")
            offending.update(
                p.funding_period_id
                for p in periods
                if p.end_inclusive == gap.start - _ONE_DAY or p.start == gap.end
            )
        total = Money(sum(p.amount.cents for p in periods))
        if amount is not None and total != amount:
            problems.append(f"periods sum to {total}, the component amount is {amount}")
            offending.update(p.funding_period_id for p in periods)
    if not problems:
        return []
    ids = ", ".join(sorted(offending))
    return [
        Conflict(
            code="PLAN_PERIODS_INVALID",
            subject=budget.key,
            message=f"the PACE funding periods of {budget.key} are not consistent: "
            + "; ".join(problems),
            facts={
                "budget": budget.key,
                "pace_budget_id": budget.pace_budget_id or "",
                "periods": ids,
                "problems": "; ".join(problems),
                "component_amount": _text(amount) or "",
            },
        )
    ]


# -- matching ---------------------------------------------------------------------------------
def _match(
    contract: Contract, plan: PacePlan
) -> tuple[dict[int, int], list[tuple[str, list[int], list[int]]]]:
    """Pair PACE budgets (by index) with local budgets (by index). Returns the pairs and the
    ambiguous groups ``(key, pace indexes, local indexes)``; unpaired PACE budgets are new and
    unpaired local ones are gone from PACE."""
    local = contract.budgets
    pace = plan.budgets
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    ambiguous: list[tuple[str, list[int], list[int]]] = []
    blocked_pace: set[int] = set()
    # 1. linked budgets: same PACE budget id (and category)
    by_id: dict[str, list[int]] = {}
    for i, p in enumerate(pace):
        if p.pace_budget_id:
            by_id.setdefault(p.pace_budget_id, []).append(i)
    for pid, pis in by_id.items():
        lis = [
            j
            for j, b in enumerate(local)
            if b.pace_budget_id == pid and b.category == pace[pis[0]].category
        ]
        if not lis:
            continue
        if len(pis) == 1 and len(lis) == 1:
            pairs[pis[0]] = lis[0]
            taken.add(lis[0])
        else:
            ambiguous.append((f"{pace[pis[0]].category}:id={pid}", pis, lis))
            blocked_pace.update(pis)
            taken.update(lis)

    # 2. the rest by category + management type
    def candidates(i: int) -> list[int]:
        p = pace[i]
        return [
            j
            for j, b in enumerate(local)
            if j not in taken
            and b.key == p.key
            and (p.pace_budget_id is None or b.pace_budget_id is None)
        ]

    rest = [i for i in range(len(pace)) if i not in pairs and i not in blocked_pace]
    cands = {i: candidates(i) for i in rest}
    keys = sorted({pace[i].key for i in rest})
    for key in keys:
        pis = [i for i in rest if pace[i].key == key]
        lis = sorted({j for i in pis for j in cands[i]})
        if not lis:
            continue
        if len(pis) == 1 and len(lis) == 1:
            pairs[pis[0]] = lis[0]
            taken.add(lis[0])
            continue
        # several PACE budgets or several local ones could pair up: never guess
        involved = [i for i in pis if cands[i]]
        ambiguous.append((key, involved, lis))
        blocked_pace.update(involved)
        taken.update(lis)
    return pairs, ambiguous


# -- preview ----------------------------------------------------------------------------------
def _outside(ds: Sequence[DeliveredService], start: date, end: date) -> list[DeliveredService]:
    return [d for d in ds if d.from_ < start or d.to > end]


def _sits_in(d: DeliveredService, periods: Sequence[FundingPeriod]) -> FundingPeriod | None:
    if d.period_id is not None:
        for p in periods:
            if p.id == d.period_id:
                return p
    for p in periods:
        if p.start <= d.from_ <= p.end_inclusive:
            return p
    return None


def _ids(ds: Iterable[DeliveredService]) -> str:
    return ", ".join(d.id for d in ds)


def _budget_conflicts(
    contract: Contract,
    key: str,
    old: CategoryBudget | None,
    new: CategoryBudget,
    delivered: Sequence[DeliveredService],
    period_changes: Sequence[PeriodChange],
) -> list[Conflict]:
    out: list[Conflict] = []
    used = Money(sum(d.amount.cents for d in delivered))
    if (old is None or old.total != new.total) and new.total < used:
        out.append(
            Conflict(
                code="TOTAL_BELOW_DELIVERED",
                subject=key,
                message=f"the new total {new.total} of {key} is below the {used} already "
                f"delivered in it (remaining would be {new.total - used})",
                facts={
                    "budget": key,
                    "old_total": _text(old.total if old else None) or "",
                    "new_total": _m(new.total),
                    "delivered": _m(used),
                },
            )
        )
    dates_changed = old is None or (old.start, old.end_inclusive) != (
        new.start,
        new.end_inclusive,
    )
    if dates_changed and new.start is not None and new.end_inclusive is not None:
        out_ds = _outside(delivered, new.start, new.end_inclusive)
        if out_ds:
            out.append(
                Conflict(
                    code="DELIVERED_OUTSIDE_DATES",
                    subject=key,
                    message=f"the new dates {new.start}..{new.end_inclusive} of {key} leave "
                    f"{len(out_ds)} delivered service(s) outside: {_ids(out_ds)}",
                    facts={
                        "budget": key,
                        "new_start": str(new.start),
                        "new_end_inclusive": str(new.end_inclusive),
                        "delivered": _ids(out_ds),
                        "amount": _m(Money(sum(d.amount.cents for d in out_ds))),
                    },
                )
            )
    if old is not None and old.management != new.management and old.requires_booking:
        out.append(
            Conflict(
                code="BOOKING_LOCKS_MANAGEMENT",
                subject=key,
                message=f"{key} is linked to a PRODA service booking; its management type would "
                f"change from {old.management} to {new.management}",
                facts={
                    "budget": key,
                    "old_management": old.management,
                    "new_management": new.management,
                },
            )
        )
    if old is not None and old.funding is not None and period_changes:
        new_periods = {p.id: p for p in (new.funding.periods if new.funding else ())}
        by_period: dict[str, list[DeliveredService]] = {}
        for d in delivered:
            p = _sits_in(d, old.funding.periods)
            if p is not None:
                by_period.setdefault(p.id, []).append(d)
        for p in _sorted_periods(old.funding.periods):
            sitting = by_period.get(p.id, [])
            if not sitting:
                continue
            np = new_periods.get(p.id)
            if np is None:
                how, left = "removed", sitting
            else:
                left = [d for d in sitting if not np.start <= d.from_ <= np.end_inclusive]
                how = f"shortened to {np.start}..{np.end_inclusive}"
            if left:
                out.append(
                    Conflict(
                        code="PERIOD_HAS_DELIVERED",
                        subject=f"{key}:{p.id}",
                        message=f"funding period {p.id} ({p.start}..{p.end_inclusive}) of {key} "
                        f"would be {how} while delivered services sit in it: {_ids(left)}",
                        facts={
                            "budget": key,
                            "period_id": p.id,
                            "old_start": str(p.start),
                            "old_end_inclusive": str(p.end_inclusive),
                            "new": "removed" if np is None else f"{np.start}..{np.end_inclusive}",
                            "delivered": _ids(left),
                            "amount": _m(Money(sum(d.amount.cents for d in left))),
                        },
                    )
                )
    if old is not None and period_changes:
        moved = {c.period_id for c in period_changes if c.change == "removed"} | {
            c.period_id
            for c in period_changes
            if c.change == "changed"
            and c.old is not None
            and c.new is not None
            and (c.old.start, c.old.end_inclusive) != (c.new.start, c.new.end_inclusive)
        }
        for s in contract.provider_budgets:
            if not _spcb_in(s, old):
                continue
            bad = sorted({sh.period_id for sh in s.distribution if sh.period_id in moved})
            if bad:
                out.append(
                    Conflict(
                        code="SPCB_REALIGN_NEEDED",
                        subject=s.id,
                        message=f"SPCB {s.id} ({s.provider}, {key}) is distributed over funding "
                        f"period(s) {', '.join(bad)} that would be removed or moved; on accept "
                        "its distribution is cleared (it caps on its whole amount) until it is "
                        "distributed again",
                        facts={
                            "spcb": s.id,
                            "provider": s.provider,
                            "budget": key,
                            "periods": ", ".join(bad),
                        },
                    )
                )
    return out


def _spcb_in(s: ServiceProviderCategoryBudget, budget: CategoryBudget) -> bool:
    return (
        bool(s.distribution)
        and s.category == budget.category
        and (s.management is None or s.management == budget.management)
    )


def _synced(local: CategoryBudget, p: PaceBudget) -> CategoryBudget:
    """The local budget with PACE's fields taken over (local-only fields kept)."""
    funding = _component(p.funding)
    if _normal(local.funding) == _normal(funding):
        funding = local.funding
    data = local.model_dump()
    data.update(
        management=p.management,
        budget_type=p.budget_type,
        stated_items_only=p.stated_items_only,
        total=p.total,
        start=p.start,
        end_inclusive=p.end_inclusive,
        funding=funding,
        pace_budget_id=p.pace_budget_id or local.pace_budget_id,
    )
    return CategoryBudget.model_validate(data)


_SYNCED_FIELDS: Final = (
    "id",
    "total",
    "start",
    "end_inclusive",
    "management",
    "budget_type",
    "stated_items_only",
    "pace_budget_id",
)


def _field_changes(old: CategoryBudget, new: CategoryBudget) -> list[FieldChange]:
    return [
        FieldChange(field=f, old=_text(getattr(old, f)), new=_text(getattr(new, f)))
        for f in _SYNCED_FIELDS
        if getattr(old, f) != getattr(new, f)
    ]


def _unique_ref(base: str, taken: set[str]) -> str:
    ref, n = base, 2
    while ref in taken:
        ref = f"{base}:{n}"
        n += 1
    return ref


def _new_budget(p: PaceBudget, taken_refs: set[str]) -> CategoryBudget:
    budget_id = (
        None
        if p.key not in taken_refs
        else _unique_ref(f"{p.key}:{p.pace_budget_id or 'pace'}", taken_refs)
    )
    return CategoryBudget(
        id=budget_id,
        category=p.category,
        management=p.management,
        budget_type=p.budget_type,
        stated_items_only=p.stated_items_only,
        total=p.total,
        start=p.start,
        end_inclusive=p.end_inclusive,
        funding=_component(p.funding),
        pace_budget_id=p.pace_budget_id,
    )


def preview(contract: Contract, plan: PacePlan, today: date) -> ChangeSet:
    """The change set that syncing ``plan`` into ``contract`` would make, as of ``today``.

    * A plan with another id than the contract's ``plan_id`` is a reassessment: the change set
      has ``new_plan=True`` and the single conflict ``NEW_PLAN``, and lists no changes.
    * Plan fields (plan id and participant where the contract has none yet, start,
      end_inclusive, total) are taken from the plan.
    * Each PACE budget is matched to a local one (see the module docs); a matched budget is
      ``changed`` when any synced field or funding period differs, else ``unchanged``; an
      unmatched PACE budget is ``added``; a local budget gone from PACE is ``ended`` (its end
      date becomes ``today``; a budget not started by ``today`` is removed), or ``unchanged`` when
      it has already ended by ``today``.
    * Conflicts are raised only for what the sync would change, so a resynced contract has none.

    Raises:
        SyncMismatchError: the plan is another participant's.
    """
    base: dict[str, Any] = {
        "contract_id": contract.id,
        "contract_version": contract.version,
        "plan_id": plan.plan_id,
        "plan_status": plan.status,
        "today": today,
    }
    if contract.participant is not None and contract.participant != plan.ndis_number:
        raise SyncMismatchError(
            f"plan {plan.plan_id} is participant {plan.ndis_number}'s, contract {contract.id} is "
            f"participant {contract.participant}'s"
        )
    if contract.plan_id is not None and contract.plan_id != plan.plan_id:
        return ChangeSet(
            **base,
            new_plan=True,
            conflicts=(
                Conflict(
                    code="NEW_PLAN",
                    subject=plan.plan_id,
                    message=f"plan {plan.plan_id} ({plan.start}..{plan.end_inclusive}) is a new "
                    f"plan, not contract {contract.id}'s plan {contract.plan_id}: a reassessment "
                    "is never merged; create a new contract from it",
                    facts={
                        "contract_plan_id": contract.plan_id,
                        "plan_id": plan.plan_id,
                        "plan_start": str(plan.start),
                        "plan_end_inclusive": str(plan.end_inclusive),
                    },
                ),
            ),
        )
    fields = PlanFields(
        plan_id=plan.plan_id,
        participant=plan.ndis_number,
        start=plan.start,
        end_inclusive=plan.end_inclusive,
        total=plan.total,
    )
    plan_changes = [
        FieldChange(field=name, old=_text(old), new=_text(new))
        for name, old, new in (
            ("plan_id", contract.plan_id, plan.plan_id),
            ("participant", contract.participant, plan.ndis_number),
            ("start", contract.start, plan.start),
            ("end_inclusive", contract.end_inclusive, plan.end_inclusive),
            ("total", contract.total, plan.total),
        )
        if old != new
    ]
    conflicts: list[Conflict] = []
    if (contract.start, contract.end_inclusive) != (plan.start, plan.end_inclusive):
        out_ds = _outside(_active(contract), plan.start, plan.end_inclusive)
        if out_ds:
            conflicts.append(
                Conflict(
                    code="DELIVERED_OUTSIDE_DATES",
                    subject="plan",
                    message=f"the new plan dates {plan.start}..{plan.end_inclusive} leave "
                    f"{len(out_ds)} delivered service(s) outside: {_ids(out_ds)}",
                    facts={
                        "new_start": str(plan.start),
                        "new_end_inclusive": str(plan.end_inclusive),
                        "delivered": _ids(out_ds),
                    },
                )
            )

    pairs, ambiguous = _match(contract, plan)
    blocked_local = {j for _, _, lis in ambiguous for j in lis}
    blocked_pace = {i for _, pis, _ in ambiguous for i in pis}
    for key, pis, lis in ambiguous:
        conflicts.append(
            Conflict(
                code="AMBIGUOUS_MATCH",
                subject=key,
                message=f"PACE budget(s) {_pace_names(plan, pis)} could match local budget(s) "
                f"{_local_names(contract, lis)}: link them by PACE budget id, or accept to "
                "leave them untouched in this sync",
                facts={
                    "key": key,
                    "pace_budgets": _pace_names(plan, pis),
                    "local_budgets": _local_names(contract, lis),
                },
            )
        )

    changes: list[BudgetChange] = []
    synced = {i: _synced(contract.budgets[j], plan.budgets[i]) for i, j in pairs.items()}
    moved = {j for i, j in pairs.items() if synced[i].ref != contract.budgets[j].ref}
    # refs stay unique: a budget whose ref moves (no id, management changed) or a new budget
    # gets an id when its key is already some other budget's ref
    taken = {b.ref for j, b in enumerate(contract.budgets) if j not in moved}
    for i, p in enumerate(plan.budgets):
        if i in blocked_pace:
            continue
        conflicts.extend(_pace_period_conflicts_if_changed(contract, p, pairs.get(i)))
        if i in pairs:
            old = contract.budgets[pairs[i]]
            new = synced[i]
            if new.ref != old.ref:
                if new.ref in taken:
                    new = new.model_copy(
                        update={"id": _unique_ref(f"{new.key}:{p.pace_budget_id or 'pace'}", taken)}
                    )
                taken.add(new.ref)
            ffields = _field_changes(old, new)
            fund_fields, pchanges = _period_changes(_normal(old.funding), _normal(new.funding))
            kind: BudgetKind = "changed" if ffields or fund_fields or pchanges else "unchanged"
            delivered = _delivered_of(contract, old.category, old.management, old.ref)
            if kind == "changed":
                conflicts.extend(
                    _budget_conflicts(contract, old.key, old, new, delivered, pchanges)
                )
            changes.append(
                BudgetChange(
                    key=old.key,
                    kind=kind,
                    ref=old.ref,
                    pace_budget_id=p.pace_budget_id,
                    fields=tuple(ffields + fund_fields),
                    periods=tuple(pchanges),
                    result=new if kind == "changed" else None,
                )
            )
        else:
            new = _new_budget(p, taken)
            taken.add(new.ref)
            fund_fields, pchanges = _period_changes(None, new.funding)
            orphans = (
                _delivered_of(contract, p.category, p.management, None)
                if contract.budget(p.category, p.management) is None
                else []
            )
            conflicts.extend(_budget_conflicts(contract, p.key, None, new, orphans, ()))
            changes.append(
                BudgetChange(
                    key=p.key,
                    kind="added",
                    pace_budget_id=p.pace_budget_id,
                    fields=tuple(
                        FieldChange(field=f, old=None, new=_text(getattr(new, f)))
                        for f in _SYNCED_FIELDS
                        if getattr(new, f) is not None
                    )
                    + tuple(fund_fields),
                    periods=tuple(pchanges),
                    result=new,
                )
            )
    matched_local = set(pairs.values())
    for j, b in enumerate(contract.budgets):
        if j in matched_local or j in blocked_local:
            continue
        change, more = _end_budget(contract, b, fields, today)
        changes.append(change)
        conflicts.extend(more)
    conflicts.extend(_collisions(contract, changes))
    return ChangeSet(
        **base,
        plan=fields,
        plan_changes=tuple(plan_changes),
        budgets=tuple(changes),
        conflicts=tuple(conflicts),
    )


def _pace_period_conflicts_if_changed(
    contract: Contract, p: PaceBudget, local_index: int | None
) -> list[Conflict]:
    """``PLAN_PERIODS_INVALID`` only when the plan's periods would be brought in (a new budget,
    or funding that differs from the local budget's)."""
    if local_index is not None:
        local = contract.budgets[local_index]
        if _normal(local.funding) == _normal(_component(p.funding)):
            return []
    return plan_period_conflicts(p)


def _pace_names(plan: PacePlan, indexes: Sequence[int]) -> str:
    return ", ".join(
        f"{plan.budgets[i].key}"
        + (f" ({plan.budgets[i].pace_budget_id})" if plan.budgets[i].pace_budget_id else "")
        for i in indexes
    )


def _local_names(contract: Contract, indexes: Sequence[int]) -> str:
    return ", ".join(contract.budgets[j].ref for j in indexes)


def _end_budget(
    contract: Contract, b: CategoryBudget, plan: PlanFields, today: date
) -> tuple[BudgetChange, list[Conflict]]:
    """A local budget gone from PACE: ended by ``today`` (removed when not yet started). A
    budget without its own dates follows the contract's, which become the plan's."""
    start = b.start or plan.start
    end = b.end_inclusive or plan.end_inclusive
    if end <= today:
        return BudgetChange(key=b.key, kind="unchanged", ref=b.ref), []
    delivered = _delivered_of(contract, b.category, b.management, b.ref)
    if start > today:
        result = None
        fields = [FieldChange(field="budget", old=b.ref, new=None)]
        left = delivered
        how = "removed (it had not started)"
    else:
        result = b.model_copy(update={"start": start, "end_inclusive": today})
        fields = _field_changes(b, result)
        left = _outside(delivered, start, today)
        how = f"ended on {today}"
    conflicts = []
    if left:
        conflicts.append(
            Conflict(
                code="DELIVERED_OUTSIDE_DATES",
                subject=b.key,
                message=f"{b.key} is gone from PACE and would be {how}, leaving {len(left)} "
                f"delivered service(s) outside its dates: {_ids(left)}",
                facts={
                    "budget": b.key,
                    "new_end_inclusive": "removed" if result is None else str(today),
                    "delivered": _ids(left),
                    "amount": _m(Money(sum(d.amount.cents for d in left))),
                },
            )
        )
    return (
        BudgetChange(
            key=b.key,
            kind="ended",
            ref=b.ref,
            pace_budget_id=b.pace_budget_id,
            fields=tuple(fields),
            result=result,
        ),
        conflicts,
    )


def _collisions(contract: Contract, changes: Sequence[BudgetChange]) -> list[Conflict]:
    """A management type change landing on a key another budget already holds."""
    changed_refs = {c.ref for c in changes if c.ref is not None and c.kind != "unchanged"}
    keys: dict[str, list[str]] = {}
    for b in contract.budgets:
        if b.ref not in changed_refs:
            keys.setdefault(b.key, []).append(b.ref)
    for c in changes:
        if c.result is not None:
            keys.setdefault(c.result.key, []).append(c.result.ref)
    out = []
    for c in changes:
        if c.kind == "changed" and c.result is not None and c.result.key != c.key:
            holders = keys.get(c.result.key, [])
            if len(holders) > 1:
                out.append(
                    Conflict(
                        code="AMBIGUOUS_MATCH",
                        subject=c.result.key,
                        message=f"{c.key} would become {c.result.key}, a key budget(s) "
                        f"{', '.join(h for h in holders if h != c.result.ref)} also hold: "
                        "matching by key would be ambiguous; on accept both are kept (delivered "
                        "services of that key draw on the first)",
                        facts={"key": c.result.key, "local_budgets": ", ".join(holders)},
                    )
                )
    return out


# -- apply ------------------------------------------------------------------------------------
def _accepted(change_set: ChangeSet, accept: Iterable[str]) -> set[str]:
    accepted = set(accept)
    ids = {c.id for c in change_set.conflicts}
    unknown = sorted(a for a in accepted if a not in CONFLICT_CODES and a not in ids)
    if unknown:
        raise InputError(
            f"accept= names no conflict code or conflict id of this change set: "
            f"{', '.join(unknown)} (codes: {', '.join(CONFLICT_CODES)})",
            loc=("accept",),
        )
    return accepted


def apply(contract: Contract, change_set: ChangeSet, *, accept: Iterable[str] = ()) -> Contract:
    """A **new** contract with the change set applied; ``contract`` is not mutated.

    ``accept`` names conflict codes (``"TOTAL_BELOW_DELIVERED"``: all of that code) or conflict
    ids (``"TOTAL_BELOW_DELIVERED:01:plan"``: just that one). An accepted ``AMBIGUOUS_MATCH``
    leaves those budgets untouched; an accepted ``SPCB_REALIGN_NEEDED`` clears the SPCB's
    distribution; the other accepted conflicts let PACE's figures in as they are. The new
    contract's version is one more than the old one's; an empty change set returns ``contract``
    itself.

    Raises:
        StaleChangeSet: the change set was built for another contract or version.
        NewPlanNotMerged: the change set is a ``NEW_PLAN``.
        UnacceptedConflicts: a conflict was not accepted.
        InputError: ``accept`` names something that is neither a code nor a conflict id here.
    """
    if change_set.contract_id != contract.id or change_set.contract_version != contract.version:
        raise StaleChangeSet(
            f"the change set was built for contract {change_set.contract_id} version "
            f"{change_set.contract_version}, not contract {contract.id} version "
            f"{contract.version}: preview again"
        )
    if change_set.new_plan:
        raise NewPlanNotMerged(
            f"plan {change_set.plan_id} is a new plan (reassessment), never merged into contract "
            f"{contract.id} (plan {contract.plan_id}): create a new contract from it"
        )
    accepted = _accepted(change_set, accept)
    unresolved = [
        c for c in change_set.conflicts if c.code not in accepted and c.id not in accepted
    ]
    if unresolved:
        raise UnacceptedConflicts(unresolved)
    if not change_set.has_changes:
        return contract
    by_ref = {c.ref: c for c in change_set.budgets if c.ref is not None and c.kind != "unchanged"}
    budgets: list[CategoryBudget] = []
    for b in contract.budgets:
        change = by_ref.get(b.ref)
        if change is None:
            budgets.append(b)
        elif change.result is not None:
            budgets.append(change.result)
    budgets.extend(c.result for c in change_set.budgets if c.kind == "added" and c.result)
    realign = {
        c.subject for c in change_set.conflicts if c.code == "SPCB_REALIGN_NEEDED"
    }  # every one of them was accepted by now
    spcbs = tuple(
        s.model_copy(update={"distribution": ()}) if s.id in realign else s
        for s in contract.provider_budgets
    )
    plan = change_set.plan
    data = contract.model_dump(by_alias=True)
    data.update(
        budgets=[b.model_dump() for b in budgets],
        provider_budgets=[s.model_dump() for s in spcbs],
        version=contract.version + 1,
    )
    if plan is not None:
        data.update(
            plan_id=plan.plan_id,
            participant=plan.participant,
            start=plan.start,
            end_inclusive=plan.end_inclusive,
            total=plan.total,
        )
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        err = input_error_from(exc, source=f"contract {contract.id} after sync")
        raise ApplyRefused(str(err)) from exc


# -- a new contract from a plan ---------------------------------------------------------------
def _budget_for_used(budgets: Sequence[CategoryBudget], key: str) -> CategoryBudget:
    category, _, management = key.partition(":")
    if category.isdigit() and len(category) == 1:
        category = "0" + category
    hits = [
        b
        for b in budgets
        if b.category == category and (not management or b.management == management)
    ]
    if len(hits) != 1:
        found = ", ".join(b.key for b in hits) or "none"
        raise InputError(
            f"used funds for {key!r} need exactly one budget of the plan to go to, found: "
            f"{found}; name it as '<category>:<management>'",
            loc=("used_by_category", key),
        )
    return hits[0]


def new_contract_from_plan(
    plan: PacePlan,
    contract_id: str,
    used_by_category: Mapping[str, Money] = {},
    *,
    on: date | None = None,
    accept: Iterable[str] = (),
) -> Contract:
    """A new contract (version 0) holding the plan's budgets, linked to the plan.

    Funds already used (e.g. by a previous plan manager) are given per category (``"01"``, or
    ``"01:plan"`` when the category has budgets under several management types) and become one
    **adjustment** delivered service per budget: no item number, description
    ``"PACE budget adjustment"``, ``adjustment=True``, dated ``on`` (clamped into the budget's
    dates; default: the budget's start). Self- and agency-managed budgets are kept; they are
    excluded from :func:`allocation_total`.

    Raises:
        UnacceptedConflicts: ``PLAN_PERIODS_INVALID`` or ``TOTAL_BELOW_DELIVERED`` (used more
            than the total) not in ``accept``.
        InputError: a ``used_by_category`` key matches no budget or several.

    Examples:
        >>> plan = PacePlan.model_validate({"plan_id": "P2", "ndis_number": "430000001",
        ...     "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": "1500.00",
        ...     "budgets": [{"category": "01", "management": "plan", "total": "1000.00"},
        ...                 {"category": "15", "management": "self", "total": "500.00"}]})
        >>> c = new_contract_from_plan(plan, "C2", {"01": Money.parse("250.00")})
        >>> d = c.delivered[0]
        >>> d.description, d.adjustment, d.item, str(d.amount), str(remaining(c, c.budgets[0]))
        ('PACE budget adjustment', True, None, '250.00', '750.00')
        >>> str(allocation_total(c))
        '1000.00'
    """
    conflicts: list[Conflict] = []
    for p in plan.budgets:
        conflicts.extend(plan_period_conflicts(p))
    refs: set[str] = set()
    budgets: list[CategoryBudget] = []
    for p in plan.budgets:
        b = _new_budget(p, refs)
        refs.add(b.ref)
        budgets.append(b)
    delivered: list[DeliveredService] = []
    for key in sorted(used_by_category):
        used = used_by_category[key]
        if not isinstance(used, Money):
            raise InputError(f"used funds must be Money, got {type(used).__name__}", loc=(key,))
        b = _budget_for_used(budgets, key)
        if used.cents == 0:
            continue
        start = b.start or plan.start
        end = b.end_inclusive or plan.end_inclusive
        day = min(max(on, start), end) if on is not None else start
        if used > b.total:
            conflicts.append(
                Conflict(
                    code="TOTAL_BELOW_DELIVERED",
                    subject=b.key,
                    message=f"{used} already used of {b.key} is above its total {b.total}",
                    facts={"budget": b.key, "new_total": _m(b.total), "delivered": _m(used)},
                )
            )
        period = (
            next((p.id for p in b.funding.periods if p.start <= day <= p.end_inclusive), None)
            if b.funding
            else None
        )
        delivered.append(
            DeliveredService.model_validate(
                {
                    "id": f"ADJ-{b.category}-{b.management}",
                    "category": b.category,
                    "management": b.management,
                    "from": day,
                    "to": day,
                    "amount": used,
                    "period_id": period,
                    "adjustment": True,
                    "description": ADJUSTMENT_DESCRIPTION,
                }
            )
        )
    accepted = set(accept)
    unresolved = [c for c in conflicts if c.code not in accepted and c.id not in accepted]
    if unresolved:
        raise UnacceptedConflicts(unresolved)
    return Contract(
        id=contract_id,
        participant=plan.ndis_number,
        plan_id=plan.plan_id,
        pace=True,
        start=plan.start,
        end_inclusive=plan.end_inclusive,
        total=plan.total,
        budgets=tuple(budgets),
        delivered=tuple(delivered),
    )
