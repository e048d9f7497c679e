from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ndis_rules.money import Money, allocate, line_amount, round_cents


def test_parse_formats() -> None:
    assert Money.parse("70.23").cents == 7023
    assert Money.parse("$1,234.5").cents == 123450
    assert Money.parse("-0.05").cents == -5
    assert Money.parse(Decimal("1.10")).cents == 110
    assert Money.parse(3).cents == 300


@pytest.mark.parametrize("bad", ["", "abc", "1.234", "1e5", "--1", "$", "1.2.3"])
def test_parse_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        Money.parse(bad)


def test_float_and_bool_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        Money.parse(0.1)
    with pytest.raises(TypeError):
        Money.parse(True)
    with pytest.raises(TypeError):
        Money(1.0)  # type: ignore[arg-type]


def test_arithmetic_refuses_other_types() -> None:
    m = Money.parse("1.00")
    with pytest.raises(TypeError):
        m * m  # type: ignore[operator]
    with pytest.raises(TypeError):
        m * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = m < 5  # type: ignore[operator]
    assert m != 100
    assert sum([m, m]) == Money(200)


def test_line_amount_rounds_half_up_once() -> None:
    assert line_amount(Decimal("1.5"), Money.parse("193.99")) == Money.parse("290.99")
    assert line_amount(Decimal("0.5"), Money.parse("0.01")) == Money.parse("0.01")
    assert round_cents(Decimal("2.345")) == Money.parse("2.35")
    with pytest.raises(TypeError):
        line_amount(1.5, Money(1))  # type: ignore[arg-type]


def test_money_is_immutable() -> None:
    m = Money(1)
    with pytest.raises(AttributeError):
        m.cents = 2  # type: ignore[misc]


@given(st.integers(-(10**12) + 1, 10**12 - 1))
def test_round_trip(cents: int) -> None:
    m = Money(cents)
    assert Money.parse(str(m)) == m
    assert Money.from_decimal(m.to_decimal()) == m


@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=12))
def test_allocate_conserves_total(cents: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        with pytest.raises(ValueError):
            allocate(Money(cents), weights)
        return
    parts = allocate(Money(cents), weights)
    assert sum(p.cents for p in parts) == cents
    assert all(p.cents == 0 for p, w in zip(parts, weights, strict=True) if w == 0)
    whole = sum(weights)
    for p, w in zip(parts, weights, strict=True):
        assert abs(p.cents * whole - cents * w) < whole  # within one cent of the exact share


@given(
    st.decimals(min_value=0, max_value=10**6, places=4),
    st.decimals(min_value=0, max_value=10**6, places=4),
)
def test_rounding_is_monotone(a: Decimal, b: Decimal) -> None:
    lo, hi = sorted([a, b])
    assert round_cents(lo) <= round_cents(hi)


@pytest.mark.parametrize("text", ["\u0661\u0662", "12.\u0663\u0664", "\uff11\uff12"])
def test_non_ascii_digits_are_not_money(text: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        Money.parse(text)


@given(st.integers(-10**14 + 1, 10**14 - 1))
def test_fast_and_full_parsers_agree(cents: int) -> None:
    text = str(Money(cents))
    if abs(cents) >= 10**12:  # ten billion dollars or more: both refuse it, by size
        for t in (text, " " + text):
            with pytest.raises(ValueError, match="too large"):
                Money.parse(t)
        return
    assert Money.parse(text) == Money.parse(" " + text) == Money(cents)
    assert Money.parse(text.rstrip("0").rstrip(".") or "0") == Money(cents)


@pytest.mark.parametrize(
    "text", ["70,23", "1,5", "1,23,456.00", "1e30", "1_000", "\u0661\u0662", "70.234", "NaN",
             "Infinity", "1,234.5.6", "$-5", "12345678901", "0" * 5000 + "1" * 11, "9" * 5000]
)
def test_money_text_is_read_strictly(text: str) -> None:
    with pytest.raises(ValueError) as info:
        Money.parse(text)
    assert len(str(info.value)) < 200  # a huge value is not echoed whole


@pytest.mark.parametrize(
    ("text", "cents"),
    [("1,234.56", 123456), ("$1,234,567.00", 123456700), ("-70.23", -7023),
     ("9999999999.99", 999999999999), ("0000000000001.00", 100)],
)
def test_money_text_with_valid_separators_is_read(text: str, cents: int) -> None:
    assert Money.parse(text).cents == cents


def test_money_of_any_size_from_a_number_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="too large"):
        Money.parse(10**5000)
    with pytest.raises(ValueError, match="too large"):
        Money.parse(Decimal("1e30"))
