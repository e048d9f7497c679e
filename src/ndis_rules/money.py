"""Exact Australian-dollar money.

`Money` holds whole cents in an ``int``. It never touches a float: parsing a float raises
``TypeError``, and the only rounding (a line's quantity x unit price) is half-up, written at the
call site through :data:`LINE_ROUNDING`.

Examples:
    >>> Money.parse("70.23") * 2
    Money('140.46')
    >>> str(Money.parse("1") + Money(5))
    '1.05'
    >>> line_amount(Decimal("1.5"), Money.parse("70.23"))
    Money('105.35')
    >>> [str(part) for part in allocate(Money.parse("100.00"), [1, 1, 1])]
    ['33.34', '33.33', '33.33']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from .parsing import ParseError, parse_money, remembered

__all__ = ["LINE_ROUNDING", "ZERO", "Money", "allocate", "line_amount", "round_cents"]

#: Rounding used for a line amount (quantity x unit price), once per line. The NDIA does not
#: publish its mode; spec/README.md fixes half-up.
LINE_ROUNDING: Final = ROUND_HALF_UP

_CENT = Decimal("0.01")
#: Money texts the models' validator has read, and their value (``Money`` is immutable, so one
#: instance is shared): :func:`~ndis_rules.parsing.remembered` keeps and bounds it.
_PARSED: Final[dict[str, Money]] = {}
_MEMO_LIMIT: Final = 16_384


class Money:
    """An exact amount of Australian dollars, stored as integer cents.

    Supports ``+``, ``-``, unary ``-``, ``* int``, comparisons with other ``Money`` and
    ``sum()`` (``0`` is the identity). ``Money * Money`` and ``Money * float`` raise ``TypeError``.
    """

    __slots__ = ("cents",)
    cents: int

    def __init__(self, cents: int) -> None:
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise TypeError(f"Money takes whole cents as int, got {type(cents).__name__}")
        object.__setattr__(self, "cents", cents)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    @classmethod
    def _of(cls, cents: int) -> Money:
        """Internal fast constructor for cents already known to be an ``int``."""
        m = object.__new__(cls)
        _set_cents(m, cents)
        return m

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def parse(cls, value: object) -> Money:
        """Parse ``"70.23"``, ``"$1,234.50"``, a ``Decimal`` with at most 2 places, or an ``int``
        (whole dollars) with :func:`ndis_rules.parsing.parse_money`: ``.`` decimals only,
        thousands separators only between groups of three, less than ten billion dollars.
        Floats are refused (``TypeError``); anything else is a ``ValueError``.

        Examples:
            >>> Money.parse("$1,234.5")
            Money('1234.50')
            >>> Money.parse(0.1)
            Traceback (most recent call last):
            ...
            TypeError: money must be a string or Decimal such as "70.23", not a float (0.1)
        """
        if isinstance(value, Money):
            return value
        if isinstance(value, str):
            fast = _plain_cents(value)
            if fast is not None:
                return cls._of(fast)
        try:
            return cls.from_decimal(parse_money(value))
        except ParseError as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def from_decimal(cls, value: Decimal) -> Money:
        """Exact conversion; more than 2 decimal places (or NaN/inf) raises ``ValueError``."""
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        try:
            cents = value.scaleb(2)
            if cents != cents.to_integral_value():
                raise ValueError(f"amount {value} has more than 2 decimal places")
            return cls(int(cents))
        except InvalidOperation as exc:  # pragma: no cover - defensive
            raise ValueError(f"not an amount of money: {value}") from exc

    # -- conversion ---------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        """The amount as a ``Decimal`` with exactly two places."""
        return Decimal(self.cents).scaleb(-2).quantize(_CENT)

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        whole, cents = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{cents:02d}"

    def __repr__(self) -> str:
        return f"Money('{self}')"

    def __reduce__(self) -> tuple[type[Money], tuple[int]]:
        return (Money, (self.cents,))

    def __hash__(self) -> int:
        return hash(("Money", self.cents))

    def __bool__(self) -> bool:
        return self.cents != 0

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: Money) -> Money:
        if isinstance(other, Money):
            return Money._of(self.cents + other.cents)
        return NotImplemented

    def __radd__(self, other: object) -> Money:
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self  # sum() identity
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if isinstance(other, Money):
            return Money._of(self.cents - other.cents)
        return NotImplemented

    def __neg__(self) -> Money:
        return Money._of(-self.cents)

    def __mul__(self, other: int) -> Money:
        if isinstance(other, int) and not isinstance(other, bool):
            return Money(self.cents * other)
        return NotImplemented

    __rmul__ = __mul__

    # -- comparison ---------------------------------------------------------------------------
    def _cmp(self, other: object) -> int:
        if not isinstance(other, Money):
            raise TypeError(f"cannot compare Money with {type(other).__name__}")
        return self.cents - other.cents

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.cents == other.cents
        return NotImplemented

    def __lt__(self, other: Money) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other: Money) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other: Money) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other: Money) -> bool:
        return self._cmp(other) >= 0

    # -- pydantic integration -----------------------------------------------------------------
    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def parse(value: object) -> Money:
            try:
                return cls.parse(value)
            except TypeError as exc:
                raise ValueError(str(exc)) from exc

        def validate(value: object) -> Money:
            return remembered(_PARSED, value, parse, _MEMO_LIMIT)

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="always"),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^-?\d{1,12}(\.\d{1,2})?$",
            "description": 'Australian dollars as an exact decimal string, e.g. "70.23"',
            "examples": ["70.23"],
        }


ZERO: Final = Money(0)


def _plain_cents(text: str) -> int | None:
    """Cents of a plain ``"-123.45"`` / ``"70.2"`` / ``"5"`` (ASCII digits, at most 10 before
    the point and 2 after), or ``None`` for anything else (the full parser decides those)."""
    negative = text.startswith("-")
    body = text[1:] if negative else text
    whole, dot, frac = body.partition(".")
    if not (0 < len(whole) <= 10 and whole.isascii() and whole.isdigit()):
        return None
    cents = int(whole) * 100
    if dot:
        if not (0 < len(frac) <= 2 and frac.isascii() and frac.isdigit()):
            return None
        cents += int(frac) * (10 if len(frac) == 1 else 1)
    return -cents if negative else cents
_set_cents: Callable[[Money, int], None] = Money.__dict__["cents"].__set__  # slot descriptor


def round_cents(value: Decimal, rounding: str = LINE_ROUNDING) -> Money:
    """Round a ``Decimal`` number of dollars to whole cents with the given rounding mode.

    Examples:
        >>> round_cents(Decimal("0.005"))
        Money('0.01')
    """
    return Money(int(value.quantize(_CENT, rounding=rounding).scaleb(2)))


def line_amount(quantity: Decimal, unit_price: Money) -> Money:
    """``quantity x unit_price``, rounded half-up to the cent once (spec/README.md)."""
    if isinstance(quantity, float):
        raise TypeError("quantity must be a Decimal, not a float")
    return round_cents(quantity * unit_price.to_decimal(), LINE_ROUNDING)


def allocate(total: Money, weights: Sequence[int]) -> list[Money]:
    """Split ``total`` over non-negative integer ``weights`` by the largest-remainder method.

    The parts always add up to ``total`` exactly; ties go to the earlier part.

    Examples:
        >>> [str(m) for m in allocate(Money.parse("10.00"), [31, 30])]
        ['5.08', '4.92']
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("allocate needs at least one positive weight and no negative ones")
    whole = sum(weights)
    sign = -1 if total.cents < 0 else 1
    cents = abs(total.cents)
    floors = [cents * w // whole for w in weights]
    remainders = [cents * w % whole for w in weights]
    left = cents - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [Money(sign * f) for f in floors]


def total(amounts: Iterable[Money]) -> Money:
    """Sum of amounts (``ZERO`` for none)."""
    return Money(sum(m.cents for m in amounts))
