"""Hypothesis strategies for contracts, invoices and validation inputs (shipped for integrators).

Every generated value is a valid model: contracts with funding periods in every status, core
flexible pools, SPCBs (some distributed over periods), support item budgets and delivered
services; invoices whose lines fall inside, at the edges of, and just outside the contract.

Examples:
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(validation_inputs())
    ... def check(case):
    ...     assert case.contract.start <= case.contract.end_inclusive
    >>> check()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st

from ..models import Channel, Contract, DeliveredService, Invoice, ProcessingMode, Settings
from ..money import Money, allocate

__all__ = [
    "ITEMS",
    "ValidationInput",
    "contracts",
    "invoices",
    "money",
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
def contracts(draw: st.DrawFn, *, allow_overdrawn: bool = False) -> Contract:
    """A service contract of 12 months with 1-5 category budgets.

    With ``allow_overdrawn=False`` the delivered services never exceed any budget, FP or SPCB.
    """
    start = draw(st.dates(date(2024, 7, 1), date(2026, 6, 30)))
    end = start + relativedelta(months=12) - timedelta(days=1)
    cats = draw(st.lists(st.sampled_from(sorted(ITEMS)), min_size=1, max_size=5, unique=True))
    budgets: list[dict[str, Any]] = []
    for cat in cats:
        mgmt = draw(st.sampled_from(["plan", "plan", "agency"]))
        if any(b["category"] == cat and b["management"] == mgmt for b in budgets):
            continue
        total = draw(money(0, 600_000))
        b: dict[str, Any] = {"category": cat, "management": mgmt, "total": str(total)}
        if cat not in {"01", "02", "03", "04"} and draw(st.booleans()):
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
    sibs: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 2))):
        b = draw(st.sampled_from(budgets))
        kind = draw(st.sampled_from(["service", "stated"]))
        sibs.append(
            {
                "id": f"SIB{n}",
                "kind": kind,
                "item": ITEMS[b["category"]],
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
                "item": ITEMS[b["category"]],
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
    draw: st.DrawFn, contract: Contract, n: int | None = None, id_prefix: str = "INV"
) -> list[Invoice]:
    """1-3 invoices (or ``n``) of 1-4 lines against ``contract``; dates inside the contract,
    and now and then just outside it or spanning periods."""
    count = n if n is not None else draw(st.integers(1, 3))
    cats = sorted({b.category for b in contract.budgets} | {"02"})
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
                    "item": ITEMS[cat],
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
                    "provider": draw(st.sampled_from(PROVIDERS)),
                    "lines": lines,
                }
            )
        )
    return out


def settings_objects() -> st.SearchStrategy[Settings]:
    """Any combination of the boolean settings."""
    return st.builds(
        Settings,
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


@st.composite
def validation_inputs(draw: st.DrawFn, *, allow_overdrawn: bool = False) -> ValidationInput:
    """A contract, invoices against it, today, a channel (and mode), and settings."""
    contract = draw(contracts(allow_overdrawn=allow_overdrawn))
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
        contract, draw(invoices(contract)), as_of, channel, mode, draw(settings_objects())
    )
