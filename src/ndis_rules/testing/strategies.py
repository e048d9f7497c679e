"""Hypothesis strategies for contracts, invoices and validation inputs (shipped for integrators).

Every generated value is a valid model: contracts with funding periods in every status, core
flexible pools, SPCBs (some distributed over periods), support item budgets and delivered
services; invoices whose lines fall inside, at the edges of, and just outside the contract.
Also PACE plans (:func:`pace_plans`), sync inputs (:func:`change_set_inputs`: a contract, the
plan PACE now returns for it with random changes, and today), legacy contracts for booking
planning (:func:`booking_contracts`) and bulk payment request rows (:func:`bpr_rows`).

With a catalogue (:func:`catalogue`, ``contracts(with_catalogue=True)``,
``invoices(..., catalogue_items=True)``, ``validation_inputs(with_catalogue=True)``) some items'
PACE category differs from their number's prefix (:data:`REMAPPED_ITEMS`: ``01_050_0115_1_1`` is
category 16), so a step that works a line's category out again without the catalogue the
evaluation used is caught.

Examples:
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(validation_inputs())
    ... def check(case):
    ...     assert case.contract.start <= case.contract.end_inclusive
    >>> check()
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st

from ..bpr import CANCELLATION_REASONS, CLAIM_TYPES, GST_CODES, BprRow
from ..catalogue import OPEN_END, Catalogue, CatalogueItem
from ..itemchecks import CatalogueContext
from ..merge import ACCEPTABLE_CODES, new_contract_from_plan
from ..models import (
    CORE_CATEGORIES,
    Channel,
    Contract,
    DeliveredService,
    Invoice,
    ProcessingMode,
    Settings,
)
from ..money import Money, allocate
from ..pace import PacePlan

__all__ = [
    "CLAIMABLE",
    "ITEMS",
    "PROVIDERS",
    "REMAPPED_ITEMS",
    "SPCB_ELSEWHERE_PROVIDER",
    "ChangeSetInput",
    "ValidationInput",
    "booking_contracts",
    "bpr_rows",
    "catalogue",
    "change_set_inputs",
    "contracts",
    "invoices",
    "money",
    "pace_plans",
    "settings_objects",
    "validation_inputs",
]

#: A valid support item number per category used by the strategies.
ITEMS: Final = {
    "01": "01_011_0107_1_1",
    "02": "02_051_0108_1_1",
    "03": "03_092_0103_1_1",
    "04": "04_104_0125_6_1",
    "07": "07_002_0106_8_3",
    "14": "14_034_0127_8_3",
    "15": "15_037_0117_1_3",
}
PROVIDERS: Final = ("P1", "P2", "P3")
#: A provider that may hold an SPCB in one category only: its lines in other categories are
#: from a provider on the contract with no SPCB there (no ``PROVIDER_NOT_ON_CONTRACT``).
SPCB_ELSEWHERE_PROVIDER: Final = "P4"
#: ``claimable_management`` choices: the default (a plan manager) most often.
CLAIMABLE: Final = (
    ("plan",),
    ("plan",),
    ("agency",),
    ("self",),
    ("plan", "agency"),
    ("plan", "self"),
    ("agency", "plan", "self"),
)
#: Items whose catalogue PACE category differs from their number's prefix, by that category.
REMAPPED_ITEMS: Final = {"16": "01_050_0115_1_1"}


def catalogue() -> CatalogueContext:
    """A catalogue of every item the strategies use: each :data:`ITEMS` item in its own
    category, and each :data:`REMAPPED_ITEMS` item in the category it is listed under (not its
    prefix). Items are quotable (no price limit), per each, in force from 2020 with no end, with
    plain names (no day type), so only the category changes what a line is decided."""
    pairs = [*ITEMS.items(), *REMAPPED_ITEMS.items()]
    return CatalogueContext(
        Catalogue(
            CatalogueItem(
                number,
                f"support {number}",
                number.split("_")[2],
                number[:2],
                category,
                "E",
                True,
                date(2020, 1, 1),
                OPEN_END,
            )
            for category, number in pairs
        )
    )


def _item_for(category: str) -> str:
    return REMAPPED_ITEMS.get(category) or ITEMS[category]


def money(min_cents: int = 0, max_cents: int = 500_000) -> st.SearchStrategy[Money]:
    """Amounts of money in a range of cents."""
    return st.integers(min_cents, max_cents).map(Money)


@st.composite
def _periods(draw: st.DrawFn, start: date, end: date, total: Money) -> list[dict[str, Any]]:
    months = draw(st.sampled_from([1, 3, 6]))
    bounds: list[date] = []
    k = 0
    while True:
        b = start + relativedelta(months=months * k)
        if b > end:
            break
        bounds.append(b)
        k += 1
    bounds.append(end + timedelta(days=1))
    n = len(bounds) - 1
    weights = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    amounts = allocate(total, weights) if total.cents > 0 else [Money(0)] * n
    return [
        {
            "id": f"FP{i + 1}",
            "start": bounds[i],
            "end_inclusive": bounds[i + 1] - timedelta(days=1),
            "amount": str(amounts[i]),
        }
        for i in range(n)
    ]


@st.composite
def contracts(
    draw: st.DrawFn, *, allow_overdrawn: bool = False, with_catalogue: bool = False
) -> Contract:
    """A service contract of 12 months with 1-5 category budgets.

    With ``allow_overdrawn=False`` the delivered services never exceed any budget, FP or SPCB.
    With ``with_catalogue=True`` there is also a budget in each category of
    :data:`REMAPPED_ITEMS` (validate with :func:`catalogue`), its supports and delivered services
    naming those items.
    """
    start = draw(st.dates(date(2024, 7, 1), date(2026, 6, 30)))
    end = start + relativedelta(months=12) - timedelta(days=1)
    choices = sorted(ITEMS | REMAPPED_ITEMS) if with_catalogue else sorted(ITEMS)
    cats = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=5, unique=True))
    if with_catalogue:  # always a budget in a remapped category, so its lines can be allowed
        cats += [c for c in sorted(REMAPPED_ITEMS) if c not in cats]
    budgets: list[dict[str, Any]] = []
    for cat in cats:
        mgmt = draw(st.sampled_from(["plan", "plan", "agency"]))
        if any(b["category"] == cat and b["management"] == mgmt for b in budgets):
            continue
        total = draw(money(0, 600_000))
        b: dict[str, Any] = {"category": cat, "management": mgmt, "total": str(total)}
        if cat not in CORE_CATEGORIES and draw(st.booleans()):
            b["budget_type"] = "stated"
        if draw(st.booleans()):
            b["funding"] = {"periods": draw(_periods(start, end, total))}
        budgets.append(b)
    spcbs: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 2))):
        b = draw(st.sampled_from(budgets))
        s_start = draw(st.dates(start, end))
        s_end = draw(st.dates(s_start, end))
        spcb: dict[str, Any] = {
            "id": f"SPCB{n}",
            "provider": draw(st.sampled_from(PROVIDERS[:2])),
            "category": b["category"],
            "management": b["management"],
            "amount": str(draw(money(0, 200_000))),
            "start": s_start,
            "end_inclusive": s_end,
        }
        if "funding" in b and draw(st.booleans()):
            periods = b["funding"]["periods"]
            shares = allocate(Money.parse(spcb["amount"]), [1] * len(periods))
            spcb["distribution"] = [
                {"period_id": p["id"], "amount": str(a)}
                for p, a in zip(periods, shares, strict=True)
            ]
        if not any(
            s["provider"] == spcb["provider"] and s["category"] == spcb["category"] for s in spcbs
        ):
            spcbs.append(spcb)
    if draw(st.booleans()):  # a provider with an SPCB in one category only
        b = draw(st.sampled_from(budgets))
        spcbs.append(
            {
                "id": "SPCB-ELSEWHERE",
                "provider": SPCB_ELSEWHERE_PROVIDER,
                "category": b["category"],
                "management": b["management"],
                "amount": str(draw(money(0, 200_000))),
                "start": start,
                "end_inclusive": end,
            }
        )
    sibs: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 2))):
        b = draw(st.sampled_from(budgets))
        kind = draw(st.sampled_from(["service", "stated"]))
        sibs.append(
            {
                "id": f"SIB{n}",
                "kind": kind,
                "item": _item_for(b["category"]),
                "category": b["category"],
                "provider": draw(st.sampled_from([*PROVIDERS[:2], None]))
                if kind == "stated"
                else draw(st.sampled_from(PROVIDERS[:2])),
                "quantity": str(draw(st.integers(1, 20))),
                "rate": str(draw(money(100, 30_000))),
            }
        )
    for b in budgets:
        if b.get("budget_type") == "stated" and draw(st.booleans()):
            b["stated_items_only"] = True
    delivered: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 4))):
        b = draw(st.sampled_from(budgets))
        day = draw(st.dates(start, end))
        delivered.append(
            {
                "id": f"D{n}",
                "invoice_id": f"OLD{n}",
                "provider": draw(st.sampled_from(PROVIDERS)),
                "item": _item_for(b["category"]),
                "category": b["category"],
                "management": b["management"],
                "from": day,
                "to": day,
                "amount": str(draw(money(1, 50_000))),
                "paid": draw(st.booleans()),
            }
        )
    contract = Contract.model_validate(
        {
            "id": "C1",
            "start": start,
            "end_inclusive": end,
            "active": draw(st.sampled_from([True, True, True, False])),
            "budgets": budgets,
            "provider_budgets": spcbs,
            "support_items": sibs,
            "delivered": delivered,
        }
    )
    if not allow_overdrawn:
        contract = _without_overdraw(contract)
    return contract


def _without_overdraw(contract: Contract) -> Contract:
    """Drop delivered services until nothing is overdrawn (checked with the plain sums)."""
    kept: list[DeliveredService] = []
    for d in contract.delivered:
        trial = contract.model_copy(update={"delivered": (*kept, d)})
        if _fits(trial):
            kept.append(d)
    return contract.model_copy(update={"delivered": tuple(kept)})


def _fits(c: Contract) -> bool:
    for b in c.budgets:
        spent = [
            d for d in c.delivered if d.category == b.category and d.management == b.management
        ]
        if sum(d.amount.cents for d in spent) > b.total.cents:
            return False
        if b.funding:
            for p in b.funding.periods:
                used = sum(d.amount.cents for d in spent if p.start <= d.from_ <= p.end_inclusive)
                if used > p.amount.cents:
                    return False
    for s in c.provider_budgets:
        used = sum(
            d.amount.cents
            for d in c.delivered
            if d.provider == s.provider
            and d.category == s.category
            and s.start <= d.from_ <= s.end_inclusive
        )
        if used > s.amount.cents:
            return False
        for share in s.distribution:
            p = next(
                p
                for b in c.budgets
                if b.funding and b.category == s.category
                for p in b.funding.periods
                if p.id == share.period_id
            )
            used = sum(
                d.amount.cents
                for d in c.delivered
                if d.provider == s.provider
                and d.category == s.category
                and p.start <= d.from_ <= p.end_inclusive
            )
            if used > share.amount.cents:
                return False
    return True


@st.composite
def invoices(
    draw: st.DrawFn,
    contract: Contract,
    n: int | None = None,
    id_prefix: str = "INV",
    *,
    catalogue_items: bool = False,
) -> list[Invoice]:
    """1-3 invoices (or ``n``) of 1-4 lines against ``contract``; dates inside the contract,
    and now and then just outside it or spanning periods. With ``catalogue_items=True`` lines
    also claim the :data:`REMAPPED_ITEMS` (their category is the catalogue's, see
    :func:`catalogue`)."""
    count = n if n is not None else draw(st.integers(1, 3))
    extra = {"02", *REMAPPED_ITEMS} if catalogue_items else {"02"}
    cats = sorted(({b.category for b in contract.budgets} & (ITEMS.keys() | extra)) | extra)
    if catalogue_items:  # the remapped items often: they are what a catalogue changes
        cats += sorted(REMAPPED_ITEMS) * 2
    out: list[Invoice] = []
    for i in range(count):
        lines = []
        for j in range(draw(st.integers(1, 4))):
            cat = draw(st.sampled_from(cats))
            start = draw(
                st.dates(
                    contract.start - timedelta(days=5), contract.end_inclusive + timedelta(days=5)
                )
            )
            span = draw(st.sampled_from([0, 0, 0, 1, 6, 40]))
            lines.append(
                {
                    "id": f"L{j + 1}",
                    "from": start,
                    "to": start + timedelta(days=span),
                    "item": _item_for(cat),
                    "quantity": str(
                        draw(
                            st.sampled_from(
                                [
                                    Decimal(1),
                                    Decimal(2),
                                    Decimal("1.5"),
                                    Decimal("0.25"),
                                    Decimal(3),
                                ]
                            )
                        )
                    ),
                    "unit_price": str(draw(money(1, 150_000))),
                }
            )
        out.append(
            Invoice.model_validate(
                {
                    "id": f"{id_prefix}{i + 1}",
                    "provider": draw(st.sampled_from((*PROVIDERS, SPCB_ELSEWHERE_PROVIDER))),
                    "lines": lines,
                }
            )
        )
    return out


def settings_objects() -> st.SearchStrategy[Settings]:
    """Any combination of the boolean settings, and of the management types claimed."""
    return st.builds(
        Settings,
        claimable_management=st.sampled_from(CLAIMABLE),
        claims_flexibility=st.booleans(),
        rollover=st.booleans(),
        allow_inactive_contracts=st.booleans(),
        support_item_overdraw_is_error=st.booleans(),
    )


@dataclass(frozen=True)
class ValidationInput:
    """Everything one validation call takes."""

    contract: Contract
    invoices: list[Invoice]
    as_of: date
    channel: Channel
    mode: ProcessingMode | None
    settings: Settings
    catalogue: CatalogueContext | None = None


@st.composite
def validation_inputs(
    draw: st.DrawFn, *, allow_overdrawn: bool = False, with_catalogue: bool = False
) -> ValidationInput:
    """A contract, invoices against it, today, a channel (and mode), and settings; with
    ``with_catalogue=True`` also the :func:`catalogue`, and lines claiming remapped items."""
    contract = draw(contracts(allow_overdrawn=allow_overdrawn, with_catalogue=with_catalogue))
    channel: Channel = draw(
        st.sampled_from(["service_entry", "streamline", "bulk_import", "case_note"])
    )
    mode: ProcessingMode | None = (
        draw(st.sampled_from(["manual", "automated", "disabled"]))
        if channel == "streamline"
        else None
    )
    as_of = draw(
        st.dates(contract.start - timedelta(days=10), contract.end_inclusive + timedelta(days=40))
    )
    return ValidationInput(
        contract,
        draw(invoices(contract, catalogue_items=with_catalogue)),
        as_of,
        channel,
        mode,
        draw(settings_objects()),
        catalogue() if with_catalogue else None,
    )


# -- PACE plans and sync inputs -------------------------------------------------------------------

#: (category, management) keys the PACE strategies draw from (repeats make ambiguous matches).
PACE_KEYS: Final = (
    ("01", "plan"),
    ("02", "plan"),
    ("04", "plan"),
    ("07", "agency"),
    ("15", "plan"),
    ("15", "self"),
    ("01", "agency"),
)


def _month_bounds(start: date, months: int = 12) -> list[date]:
    """``months + 1`` month starts from ``start``; the last is the day after the plan."""
    return [start + relativedelta(months=k) for k in range(months + 1)]


@st.composite
def _pace_budget(
    draw: st.DrawFn, key: tuple[str, str], pace_id: str, bounds: list[date]
) -> dict[str, Any]:
    lo, hi = 0, len(bounds) - 1
    spec: dict[str, Any] = {
        "pace_budget_id": pace_id,
        "category": key[0],
        "management": key[1],
        "budget_type": draw(st.sampled_from(["flexible", "stated"])),
        "total": str(Money(draw(st.integers(0, 2_000_000)))),
    }
    if draw(st.booleans()):
        lo = draw(st.integers(0, hi // 2))
        hi = draw(st.integers(lo + 1, hi))
        spec["start"] = bounds[lo].isoformat()
        spec["end_inclusive"] = (bounds[hi] - timedelta(days=1)).isoformat()
    if draw(st.booleans()):
        cuts = sorted(draw(st.sets(st.integers(lo + 1, hi - 1), max_size=3))) if hi - lo > 1 else []
        edges = [lo, *cuts, hi]
        periods = [
            {
                "funding_period_id": f"{pace_id}-F{n + 1}-{a}",
                "start": bounds[a].isoformat(),
                "end_inclusive": (bounds[b] - timedelta(days=1)).isoformat(),
                "amount": str(Money(draw(st.integers(0, 500_000)))),
                "released": draw(st.booleans()),
            }
            for n, (a, b) in enumerate(itertools.pairwise(edges))
        ]
        total = sum(Money.parse(p["amount"]).cents for p in periods)
        off = draw(st.sampled_from([0, 0, 0, 1]))  # now and then funds not all in periods
        spec["funding"] = {"amount": str(Money(total + off)), "periods": periods}
    return spec


def _plan(
    budgets: list[dict[str, Any]], start: date, end: date, total: str, ndis_number: str
) -> PacePlan:
    return PacePlan.model_validate(
        {
            "plan_id": "P1",
            "ndis_number": ndis_number,
            "start": start.isoformat(),
            "end_inclusive": end.isoformat(),
            "total": total,
            "budgets": budgets,
        }
    )


@st.composite
def pace_plans(
    draw: st.DrawFn, *, ndis_number: str = "430000001", start: date | None = None
) -> PacePlan:
    """A 12-month PACE plan (id ``P1``) of 0-4 budgets: flexible or stated, any management
    type, some with their own dates, some with funding periods (released or not, their sum
    now and then a cent short of the component); a repeated category and management type now
    and then (an ambiguous match for sync)."""
    begin = start or draw(st.dates(date(2024, 7, 1), date(2026, 7, 1)))
    bounds = _month_bounds(begin)
    keys = draw(st.lists(st.sampled_from(PACE_KEYS), max_size=4))
    budgets = [draw(_pace_budget(k, f"B{n}", bounds)) for n, k in enumerate(keys)]
    total = draw(st.sampled_from(["0.00", "100.00", "250.50", "99999.99"]))
    return _plan(budgets, begin, bounds[-1] - timedelta(days=1), total, ndis_number)


@dataclass(frozen=True)
class ChangeSetInput:
    """What a sync preview takes: the stored contract (made from an older plan, with local
    data), the plan PACE returns now, and today."""

    contract: Contract
    plan: PacePlan
    today: date


@st.composite
def change_set_inputs(draw: st.DrawFn) -> ChangeSetInput:
    """A contract made from a PACE plan (then given delivered services, SPCBs, a support item
    budget, notes, booking flags, and some budgets not linked to PACE yet) and the plan PACE
    returns now: each budget kept, redrawn, dropped, moved to another management type or given
    a new total, new budgets added, the end date and total changed now and then."""
    start = draw(st.sampled_from([date(2025, 7, 1), date(2024, 10, 15), date(2026, 1, 1)]))
    bounds = _month_bounds(start)
    end = bounds[-1] - timedelta(days=1)
    keys = draw(st.lists(st.sampled_from(PACE_KEYS), min_size=1, max_size=4))
    old = [draw(_pace_budget(k, f"B{n}", bounds)) for n, k in enumerate(keys)]
    new: list[dict[str, Any]] = []
    for n, spec in enumerate(old):
        action = draw(st.sampled_from(["same", "same", "redraw", "drop", "management", "total"]))
        if action == "same":
            new.append(spec)
        elif action == "redraw":
            new.append(draw(_pace_budget((spec["category"], spec["management"]), f"B{n}", bounds)))
        elif action == "management":
            new.append({**spec, "management": draw(st.sampled_from(["plan", "agency", "self"]))})
        elif action == "total":
            new.append({**spec, "total": str(Money(draw(st.integers(0, 2_000_000))))})
    for n, k in enumerate(draw(st.lists(st.sampled_from(PACE_KEYS), max_size=2))):
        new.append(draw(_pace_budget(k, f"N{n}", bounds)))
    old_plan = _plan(old, start, end, "100.00", "430000001")
    new_end = draw(
        st.sampled_from([end, end + relativedelta(years=1), end - relativedelta(months=3)])
    )
    new_plan = _plan(new, start, new_end, draw(st.sampled_from(["100.00", "250.50"])), "430000001")
    base = new_contract_from_plan(old_plan, "C1", accept=ACCEPTABLE_CODES)
    budgets = []
    for b in base.budgets:
        upd: dict[str, Any] = {"requires_booking": draw(st.booleans())}
        if draw(st.integers(0, 4)) == 0:
            upd["pace_budget_id"] = None  # not linked to PACE yet
        budgets.append(b.model_copy(update=upd))
    delivered = []
    for n in range(draw(st.integers(0, 6))):
        b = draw(st.sampled_from(budgets))
        day = start + timedelta(days=draw(st.integers(0, (end - start).days)))
        periods = [p.id for p in b.funding.periods] if b.funding else []
        delivered.append(
            {
                "id": f"D{n}",
                "category": b.category,
                "management": b.management,
                "from": day,
                "to": day + timedelta(days=draw(st.integers(0, 3))),
                "amount": str(Money(draw(st.integers(1, 300_000)))),
                "period_id": draw(st.sampled_from([None, *periods])),
                "status": draw(st.sampled_from(["active", "active", "cancelled"])),
                "provider": "PROV-1",
            }
        )
    spcbs = [
        {
            "id": f"SP{n}",
            "provider": "PROV-1",
            "category": b.category,
            "amount": "1000.00",
            "start": start,
            "end_inclusive": end,
            "distribution": [{"period_id": p.id, "amount": "10.00"} for p in b.funding.periods],
        }
        for n, b in enumerate(budgets)
        if b.funding is not None and draw(st.booleans())
    ]
    contract = Contract.model_validate(
        {
            **base.model_dump(by_alias=True),
            "budgets": [b.model_dump() for b in budgets],
            "delivered": delivered,
            "provider_budgets": spcbs,
            "support_items": [
                {
                    "id": "S1",
                    "item": ITEMS["01"],
                    "category": "01",
                    "quantity": "3",
                    "rate": "70.23",
                }
            ],
            "notes": draw(st.lists(st.text(max_size=5), max_size=2)),
        }
    )
    today = start + timedelta(days=draw(st.integers(0, 400)))
    return ChangeSetInput(contract, new_plan, today)


# -- booking planning -----------------------------------------------------------------------------


@st.composite
def booking_contracts(draw: st.DrawFn, *, participant: str | None = "430000001") -> Contract:
    """A legacy (non-PACE) contract for booking planning: 0-4 category budgets of any
    management type, most requiring a booking, some with their own dates (now and then outside
    the contract), stated categories with support item budgets requiring bookings (same item
    and provider twice now and then: overlapping bookings), and now and then a placeholder
    total of at most $1."""
    start = draw(st.dates(date(2024, 7, 1), date(2026, 6, 30)))
    end = start + relativedelta(months=12) - timedelta(days=1)
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(ITEMS)), st.sampled_from(["agency", "plan", "self"])),
            max_size=4,
            unique=True,
        )
    )
    budgets: list[dict[str, Any]] = []
    for cat, mgmt in keys:
        b: dict[str, Any] = {
            "category": cat,
            "management": mgmt,
            "total": str(draw(money(0, 600_000))),
            "requires_booking": draw(st.sampled_from([True, True, True, False])),
        }
        if cat not in CORE_CATEGORIES and draw(st.booleans()):
            b["budget_type"] = "stated"
        if draw(st.integers(0, 3)) == 0:
            own_start = draw(st.dates(start - timedelta(days=20), end))
            b["start"] = own_start
            b["end_inclusive"] = draw(st.dates(own_start, end + timedelta(days=20)))
        budgets.append(b)
    sibs: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 3)) if budgets else 0):
        b = draw(st.sampled_from(budgets))
        sibs.append(
            {
                "id": f"SIB{n}",
                "kind": "stated",
                "item": ITEMS[b["category"]],
                "category": b["category"],
                "management": b["management"],
                "provider": draw(st.sampled_from([*PROVIDERS[:2], None])),
                "quantity": str(draw(st.integers(1, 20))),
                "rate": str(draw(money(100, 30_000))),
                "requires_booking": draw(st.booleans()),
            }
        )
    total = draw(st.sampled_from([None, "1.00", "0.50", "10000.00", "250000.00"]))
    data: dict[str, Any] = {
        "id": draw(st.sampled_from(["C1", "C-2", "LEGACY/3"])),
        "participant": participant,
        "pace": False,
        "active": True,
        "start": start,
        "end_inclusive": end,
        "budgets": budgets,
        "support_items": sibs,
    }
    if total is not None:
        data["total"] = total
    return Contract.model_validate(data)


# -- bulk payment request rows -----------------------------------------------------------------

_BPR_ITEMS: Final = (
    "01_011_0107_1_1",
    "15_617_0128_1_3_TH",
    "05_150300111_0123_2_2",
    "Bereavement",
    "05_0002_0103_1_2",
    "01_002_0107_1_1",
)
#: ABNs that pass the checksum.
VALID_ABNS: Final = ("51824753556", "53004085616", "33051775556", "83914571673")


@st.composite
def bpr_rows(draw: st.DrawFn) -> BprRow:
    """A valid bulk payment request row: any claim type (with a cancellation reason exactly
    when a cancellation), quantity or hours, prices up to $10M, free text that may start with
    a spreadsheet formula character, with or without a valid ABN."""
    start = draw(st.dates(date(2019, 1, 1), date(2030, 12, 31)))
    end = draw(st.dates(start, date(2030, 12, 31)))
    claim_type = draw(st.sampled_from(CLAIM_TYPES))
    units = draw(
        st.one_of(
            st.integers(1, 99_999).map(Decimal),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2),
        )
    )
    use_hours = draw(st.booleans())
    text = st.text(
        st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs"), blacklist_characters="\x85"
        ),
        max_size=20,
    )
    data: dict[str, Any] = {
        "registration_number": draw(st.text("0123456789", min_size=1, max_size=12)),
        "ndis_number": draw(st.text("0123456789", min_size=9, max_size=9)),
        "supports_delivered_from": start,
        "supports_delivered_to": end,
        "support_number": draw(st.sampled_from(_BPR_ITEMS)),
        "claim_reference": draw(st.text("abcXYZ0129/_-", min_size=1, max_size=50)),
        "quantity": None if use_hours else units,
        "hours": units if use_hours else None,
        "unit_price": Money(draw(st.integers(1, 10**9 - 1))),
        "gst_code": draw(st.sampled_from(GST_CODES)),
        "authorised_by": draw(text),
        "participant_approved": draw(text),
        "in_kind_funding_program": draw(text),
        "claim_type": claim_type,
        "cancellation_reason": draw(st.sampled_from([r for r in CANCELLATION_REASONS if r]))
        if claim_type == "CANC"
        else "",
        "abn": draw(st.sampled_from(["", *VALID_ABNS])),
    }
    return BprRow.model_validate(data)
