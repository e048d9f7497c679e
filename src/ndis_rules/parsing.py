"""The one parser per kind of value, shared by every reader: money, exact decimal numbers, dates
and JSON text (docs/catalogue-and-bpr.md "Accepted formats"; docs/decisions.md).

Every reader of ours (BPR cells, contract / invoice / plan JSON and YAML, scenario files, CLI
options) reads these kinds through this module, so a value is either read exactly or refused with
a :class:`ParseError` (a ``ValueError``) that the reader turns into its own typed error naming the
field and the row. The rules:

* **Money**: ASCII digits, ``.`` as the decimal point with at most 2 places, an optional leading
  ``-`` and ``$``, thousands separators only in groups of three (``1,234.56``; ``"70,23"`` and
  ``"1,5"`` are refused, never read as 7023.00 or 15.00), and less than
  :data:`MONEY_LIMIT_DOLLARS` in size (a store reads back at most 12 digits of dollars; no NDIS
  plan or price comes near ten billion dollars).
* **Decimal numbers** (quantities, hours): ASCII digits and ``.`` only: no exponent (``1e30``),
  no ``_`` (``1_000``), no other scripts' digits, no ``NaN``; at most
  :data:`DECIMAL_MAX_DIGITS` digits on each side of the point.
* **Dates**: ISO ``YYYY-MM-DD`` exactly (no week dates ``2025-W01-1``, no basic ``20250804``, no
  date and time), from :data:`MIN_DATE` to :data:`MAX_DATE`.
* **JSON**: numbers are read from their text as ``Decimal`` (never a float): ``1234.56`` in an
  API payload is exact; ``NaN`` and ``Infinity`` are refused; an integer of more than
  :data:`JSON_INT_DIGITS` digits is kept as a ``Decimal`` so that the field it lands in refuses
  it by name (never Python's 4,300-digit conversion error).

Messages never repeat a rejected date or free text (a date may be a date of birth); money and
numbers are repeated only shortened.

Examples:
    >>> parse_money("$1,234.50"), parse_money("-70.23")
    (Decimal('1234.50'), Decimal('-70.23'))
    >>> parse_money("70,23")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ndis_rules.errors.ParseError: not an amount of money: '70,23' (write dollars with a '.' ...)
    >>> parse_iso_date("2025-08-04")
    datetime.date(2025, 8, 4)
    >>> json_loads('{"amount": 1234.56}')
    {'amount': Decimal('1234.56')}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from .errors import ParseError

__all__ = [
    "DECIMAL_MAX_DIGITS",
    "JSON_INT_DIGITS",
    "MAX_DATE",
    "MIN_DATE",
    "MONEY_LIMIT_DOLLARS",
    "ParseError",
    "check_date_bounds",
    "json_loads",
    "parse_decimal",
    "parse_iso_date",
    "parse_money",
    "refuse_unpaired_surrogates",
    "remembered",
    "shown",
]

#: Money is less than this many dollars in size (10 digits of dollars, then 2 of cents).
MONEY_LIMIT_DOLLARS: Final = 10**10
#: Digits allowed on each side of the point of a decimal number (quantities, hours).
DECIMAL_MAX_DIGITS: Final = 9
#: The earliest and latest dates any reader accepts.
MIN_DATE: Final = date(1900, 1, 1)
MAX_DATE: Final = date(2100, 12, 31)
#: A JSON integer longer than this is kept as a ``Decimal`` (and refused by the field's bound).
JSON_INT_DIGITS: Final = 30


def shown(text: str, most: int = 24) -> str:
    """``repr`` of a value, shortened to ``most`` characters (for money and numbers only)."""
    return repr(text if len(text) <= most else text[: most - 3] + "...")


_MONEY: Final = re.compile(
    r"^(-?)\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$",
    re.ASCII,
)
_MONEY_HINT: Final = (
    "write dollars with a '.' before the cents, e.g. 70.23; ',' only between groups of three "
    "digits, e.g. 1,234.56"
)


def parse_money(value: object) -> Decimal:
    """Dollars as an exact ``Decimal`` from text, a ``Decimal`` or an ``int`` (whole dollars).

    Raises:
        ParseError: not money (see the module rules), more than 2 decimal places, or too large.
        TypeError: a float or a bool (never exact).
    """
    if isinstance(value, float):
        raise TypeError(
            f'money must be a string or Decimal such as "70.23", not a float ({value!r})'
        )
    if isinstance(value, bool):
        raise TypeError("money must be a string or Decimal, not a bool")
    if isinstance(value, int):
        if abs(value) >= MONEY_LIMIT_DOLLARS:  # (before str(): no 4,300-digit conversion error)
            raise ParseError(_too_large("a whole number of dollars"))
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ParseError(f"not a finite amount: {value}")
        if abs(value) >= MONEY_LIMIT_DOLLARS:
            raise ParseError(_too_large(value))
        if value != value.quantize(Decimal("0.01")):
            raise ParseError(f"amount {shown(str(value))} has more than 2 decimal places")
        return value
    if not isinstance(value, str):
        raise TypeError(f"money must be a string or Decimal, not {type(value).__name__}")
    text = value.strip()
    m = _MONEY.match(text)
    if m is None:
        raise ParseError(f"not an amount of money: {shown(value)} ({_MONEY_HINT})")
    whole = m[2].replace(",", "").lstrip("0")
    if len(whole) > 10:
        raise ParseError(_too_large(value))
    number = Decimal(m[1] + (whole or "0") + ("." + m[3] if m[3] else ""))
    return _bounded_money(number, value)


def _too_large(value: object) -> str:
    what = value if isinstance(value, str) and " " in value else shown(str(value))
    return (
        f"the amount {what} is too large: at most "
        f"{MONEY_LIMIT_DOLLARS - 1:,}.99 dollars"
    )


def _bounded_money(number: Decimal, text: str) -> Decimal:
    if abs(number) >= MONEY_LIMIT_DOLLARS:
        raise ParseError(_too_large(text))
    return number


_DECIMAL: Final = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$", re.ASCII)


def parse_decimal(value: object, *, what: str = "the number") -> Decimal:
    """An exact decimal number (a quantity, hours) from text, an ``int`` or a ``Decimal``.

    Raises:
        ParseError: not plain ASCII digits with an optional ``-`` and ``.`` (no exponent, no
            ``_``, no other digits), or more than :data:`DECIMAL_MAX_DIGITS` digits on a side.
        TypeError: a float or a bool.
    """
    if isinstance(value, float):
        raise TypeError(
            f'a float is not exact: write the number as a string such as "2.50" (got {value!r})'
        )
    if isinstance(value, bool):
        raise TypeError("expected a number, got a bool")
    if isinstance(value, int):
        if abs(value) >= 10**DECIMAL_MAX_DIGITS:
            raise ParseError(f"{what} is too large: at most {DECIMAL_MAX_DIGITS} digits")
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ParseError(f"{what} must be a finite number")
        if abs(value) >= 10**DECIMAL_MAX_DIGITS:
            raise ParseError(f"{what} is too large: at most {DECIMAL_MAX_DIGITS} digits")
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent > DECIMAL_MAX_DIGITS:
            raise ParseError(f"{what} has more than {DECIMAL_MAX_DIGITS} decimal places")
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected a number, not {type(value).__name__}")
    text = value.strip()
    m = _DECIMAL.match(text)
    if m is None:
        raise ParseError(
            f'{what} must be a number written with the digits 0-9 and a ".", such as "2.50", '
            f"got {shown(value)}"
        )
    if len(m[2].lstrip("0")) > DECIMAL_MAX_DIGITS:
        raise ParseError(f"{what} is too large: at most {DECIMAL_MAX_DIGITS} digits")
    if m[3] and len(m[3]) > DECIMAL_MAX_DIGITS:
        raise ParseError(f"{what} has more than {DECIMAL_MAX_DIGITS} decimal places")
    return Decimal(text)


_ISO_DATE: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_DATE_HINT: Final = f"YYYY-MM-DD, from {MIN_DATE} to {MAX_DATE}"


def check_date_bounds(day: date) -> date:
    """``day`` when it is within :data:`MIN_DATE` .. :data:`MAX_DATE` (no value is echoed).

    Raises:
        ParseError: outside the bounds.
    """
    if not MIN_DATE <= day <= MAX_DATE:
        raise ParseError(f"the date is out of range: dates from {MIN_DATE} to {MAX_DATE} only")
    return day


def parse_iso_date(value: object) -> date:
    """A date written ``YYYY-MM-DD`` (or a ``date``, not a ``datetime``), within the bounds.

    The message never repeats the text (it may be a date of birth).

    Raises:
        ParseError: anything else, an impossible date, or one out of range.
    """
    if isinstance(value, datetime):
        raise ParseError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, date):
        return check_date_bounds(value)
    if not isinstance(value, str):
        raise ParseError(f"expected a date as {_DATE_HINT}, got {type(value).__name__}")
    m = _ISO_DATE.match(value)
    if m is None:
        raise ParseError(f"expected a date as {_DATE_HINT}")
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ParseError("no such date (YYYY-MM-DD: check the month and the day)") from None
    return check_date_bounds(day)


def _json_int(text: str) -> int | Decimal:
    digits = text.lstrip("-")
    if len(digits) > JSON_INT_DIGITS:
        return Decimal(text)
    return int(text)


def _json_constant(name: str) -> Any:
    raise ParseError(f"{name} is not a number JSON allows")


def json_loads(text: str) -> Any:
    """JSON text with its numbers read exactly: fractions and exponents as ``Decimal``, integers
    as ``int`` (or ``Decimal`` beyond :data:`JSON_INT_DIGITS` digits).

    Raises:
        json.JSONDecodeError: not JSON.
        ParseError: ``NaN``, ``Infinity`` or ``-Infinity``; a string with an unpaired
            surrogate escape (``"\\ud800"``), named by its path.
        RecursionError: nested too deeply (the caller names the file).
    """
    value = json.loads(
        text, parse_float=Decimal, parse_int=_json_int, parse_constant=_json_constant
    )
    if _SURROGATE_ESCAPE.search(text) is not None:
        refuse_unpaired_surrogates(value)
    return value


#: A ``\\uD800``-``\\uDFFF`` escape: half of a character unless paired (valid JSON, not text).
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def refuse_unpaired_surrogates(value: Any, path: tuple[str, ...] = ()) -> None:
    """Refuse a string (key or value) holding an unpaired surrogate escape such as ``"\\ud800"``:
    it is valid JSON but not text, and could never be written out again (UTF-8 cannot encode
    it). The error names the path to the value, never the value."""
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value):
            where = ".".join(path) or "the document"
            raise ParseError(
                f"{where}: a \\u escape that is half of a character (an unpaired "
                "surrogate), not text"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unpaired_surrogates(key, (*path, "(a key)"))
            refuse_unpaired_surrogates(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            refuse_unpaired_surrogates(item, (*path, str(i)))


_T = TypeVar("_T")


def remembered(
    table: dict[str, _T], value: object, parse: Callable[[object], _T], limit: int
) -> _T:
    """``parse(value)``, remembered in ``table`` when ``value`` is a ``str``: a book of
    contracts repeats the same dates, amounts and categories thousands of times, and the values
    parsed are immutable, so one instance can be shared. Only text that parsed is kept (a
    refused text is refused again, every time, with the same error); the table starts again
    when it holds ``limit`` texts, so its memory is bounded whatever is read.

    Examples:
        >>> seen: dict[str, Decimal] = {}
        >>> remembered(seen, "1.50", parse_decimal, 2), seen
        (Decimal('1.50'), {'1.50': Decimal('1.50')})
        >>> remembered(seen, 3, parse_decimal, 2), len(seen)  # not text: parsed, not kept
        (Decimal('3'), 1)
    """
    if type(value) is not str:
        return parse(value)
    known = table.get(value)
    if known is not None:
        return known
    result = parse(value)
    if len(table) >= limit:
        table.clear()
    table[value] = result
    return result
