"""Engine properties not covered in tests/properties: splitting a line by funding periods
conserves amount AND quantity, and decisions do not depend on the order of any collection of
the contract (random permutations of budgets, SPCBs, support item budgets, delivered services
and funding periods)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ndis_rules import evaluate_batch, evaluate_invoice
from ndis_rules.models import Contract, Invoice, Settings
from ndis_rules.testing.strategies import ITEMS, ValidationInput, contracts, validation_inputs


def _decide(case: ValidationInput) -> str:
    decisions = evaluate_batch(
        case.contract,
        case.invoices,
        as_of=case.as_of,
        channel=case.channel,
        mode=case.mode,
        settings=case.settings,
    )
    return json.dumps([d.to_dict() for d in decisions])


# -- splitting conserves amount and quantity -----------------------------------------------------

QUANTITIES = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(40), places=2),
    st.sampled_from([Decimal(1), Decimal(3), Decimal("0.25"), Decimal("7.5")]),
)


@st.composite
def spanning_cases(draw: st.DrawFn, quantities: st.SearchStrategy[Decimal] = QUANTITIES) -> (
    tuple[Contract, Invoice, date]
):
    """A contract whose budgets have funding periods, and a one-line invoice that often spans
    several of them (claims flexibility on, a channel that splits)."""
    contract = draw(contracts())
    funded = [b for b in contract.budgets if b.funding and b.funding.periods]
    budget = draw(st.sampled_from(funded)) if funded else draw(st.sampled_from(contract.budgets))
    start = draw(st.dates(contract.start, contract.end_inclusive))
    span = draw(st.integers(0, 200))
    line = {
        "id": "L1",
        "from": start,
        "to": min(start + timedelta(days=span), contract.end_inclusive),
        "item": ITEMS[budget.category],
        "quantity": str(draw(quantities)),
        "unit_price": str(draw(st.integers(1, 50_000)).__truediv__(100)),
    }
    inv = Invoice.model_validate(
        {"id": "INV1", "provider": draw(st.sampled_from(["P1", "P2"])), "lines": [line]}
    )
    as_of = draw(st.dates(contract.start, contract.end_inclusive + timedelta(days=30)))
    return contract, inv, as_of


def _check_parts(contract: Contract, inv: Invoice, as_of: date) -> int:
    settings = Settings(claims_flexibility=True, rollover=True)
    [ld] = evaluate_invoice(
        contract, inv, as_of=as_of, channel="service_entry", settings=settings
    ).lines
    line = inv.lines[0]
    if ld.outcome == "error":
        assert ld.parts == ()
        return 0
    assert sum(p.amount.cents for p in ld.parts) == ld.amount.cents
    assert sum((p.quantity for p in ld.parts), Decimal(0)) == line.quantity, ld.parts
    # the parts tile the line's dates, in order, without a gap or an overlap
    assert ld.parts[0].from_ == line.from_ and ld.parts[-1].to == line.to
    for a, b in zip(ld.parts, ld.parts[1:], strict=False):
        assert b.from_ == a.to + timedelta(days=1)
    return len(ld.parts)


@given(spanning_cases())
def test_splitting_by_periods_conserves_amount_and_quantity(
    case: tuple[Contract, Invoice, date],
) -> None:
    _check_parts(*case)


def _three_month_contract() -> Contract:
    return Contract.model_validate(
        {
            "id": "C1",
            "start": "2025-07-01",
            "end_inclusive": "2025-09-30",
            "budgets": [
                {
                    "category": "01",
                    "management": "plan",
                    "total": "9000.00",
                    "funding": {
                        "periods": [
                            {"id": f"FP{m}", "start": f"2025-0{m}-01",
                             "end_inclusive": f"2025-0{m}-{d}", "amount": "3000.00"}
                            for m, d in ((7, 31), (8, 31), (9, 30))
                        ]
                    },
                }
            ],
        }
    )


@pytest.mark.parametrize("quantity", ["3", "1", "0.01", "2.99", "7.5"])
def test_a_line_over_three_periods_is_split_in_three(quantity: str) -> None:
    inv = Invoice.model_validate(
        {"id": "I1", "provider": "P1", "lines": [
            {"id": "L1", "from": "2025-07-31", "to": "2025-09-01", "item": ITEMS["01"],
             "quantity": quantity, "unit_price": "10.01"}]}
    )
    assert _check_parts(_three_month_contract(), inv, date(2025, 9, 15)) == 3


@given(spanning_cases(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(40), places=3)))
@example(
    (
        _three_month_contract(),
        Invoice.model_validate(
            {"id": "I1", "provider": "P1", "lines": [
                {"id": "L1", "from": "2025-07-31", "to": "2025-09-01", "item": ITEMS["01"],
                 "quantity": "1.333", "unit_price": "10.00"}]}
        ),
        date(2025, 9, 15),
    )
)
def test_splitting_conserves_a_quantity_with_three_decimals(
    case: tuple[Contract, Invoice, date],
) -> None:
    _check_parts(*case)


# -- independent of collection order -----------------------------------------------------------


TWINS = Contract.model_validate(
    {
        "id": "C1",
        "start": "2024-07-01",
        "end_inclusive": "2025-06-30",
        "budgets": [{"category": "07", "management": "plan", "total": "100.00"}],
        "support_items": [
            {"id": sid, "kind": "service", "item": ITEMS["07"], "category": "07",
             "provider": "P1", "quantity": "1", "rate": "10.00"}
            for sid in ("SIB0", "SIB1")
        ],
    }
)


def test_twin_support_item_budgets_do_not_depend_on_their_order() -> None:
    inv = Invoice.model_validate(
        {"id": "I1", "provider": "P1", "lines": [
            {"id": "L1", "from": "2024-07-01", "to": "2024-07-01", "item": ITEMS["07"],
             "quantity": "1", "unit_price": "5.00"}]}
    )
    swapped = TWINS.model_copy(update={"support_items": TWINS.support_items[::-1]})
    decide = [
        evaluate_invoice(c, inv, as_of=date(2024, 7, 2), channel="service_entry").to_dict()
        for c in (TWINS, swapped)
    ]
    assert decide[0] == decide[1]


@given(validation_inputs(), st.randoms(use_true_random=False))
def test_decisions_independent_of_the_order_of_every_collection(
    case: ValidationInput, rnd: object
) -> None:
    import random

    assert isinstance(rnd, random.Random)

    def shuffled(items: tuple[object, ...]) -> tuple[object, ...]:
        out = list(items)
        rnd.shuffle(out)
        return tuple(out)

    c = case.contract
    budgets = []
    for b in c.budgets:
        if b.funding is not None:
            funding = b.funding.model_copy(update={"periods": shuffled(b.funding.periods)})
            budgets.append(b.model_copy(update={"funding": funding}))
        else:
            budgets.append(b)
    spcbs = [
        s.model_copy(update={"distribution": shuffled(s.distribution)}) for s in c.provider_budgets
    ]
    permuted = Contract.model_validate(
        {
            **c.model_dump(by_alias=True),
            "budgets": [b.model_dump(by_alias=True) for b in shuffled(tuple(budgets))],  # type: ignore[attr-defined]
            "provider_budgets": [s.model_dump(by_alias=True) for s in shuffled(tuple(spcbs))],  # type: ignore[attr-defined]
            "support_items": [s.model_dump(by_alias=True) for s in shuffled(c.support_items)],  # type: ignore[attr-defined]
            "delivered": [d.model_dump(by_alias=True) for d in shuffled(c.delivered)],  # type: ignore[attr-defined]
        }
    )
    assert _decide(replace(case, contract=permuted)) == _decide(case)
