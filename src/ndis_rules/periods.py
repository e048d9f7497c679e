"""Date ranges and funding periods (FPs): status as of a date, placing a service range in
periods, gaps, spans and overlaps, pro-rata splitting, and availability with or without rollover.

Every range the outside world sees is inclusive at both ends (``start`` .. ``end_inclusive``), as
the NDIA writes them (spec/README.md "Conventions"). Internally :class:`DateRange` is half-open
``[start, end)`` so lengths and adjacency need no ``+1``.

Examples:
    >>> r = DateRange.from_inclusive(date(2025, 7, 1), date(2025, 9, 30))
    >>> r.days, r.last_day
    (92, datetime.date(2025, 9, 30))
    >>> period_status(date(2025, 7, 1), date(2025, 9, 30), as_of=date(2025, 6, 30))
    'pending'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, TypeVar

from .errors import InputError, ParseError
from .money import Money, allocate
from .parsing import check_date_bounds
from .ports import PeriodLike

__all__ = [
    "DateRange",
    "PeriodLike",
    "PeriodStatus",
    "available_in_period",
    "check_day",
    "checked_day",
    "find_gaps",
    "find_overlaps",
    "period_status",
    "periods_touching",
    "split_pro_rata",
]

PeriodStatus = Literal["pending", "active", "expired"]
_DAY = timedelta(days=1)


def check_day(value: object, what: str = "date") -> date:
    """``value`` when it is a day within :data:`ndis_rules.parsing.MIN_DATE` ..
    :data:`~ndis_rules.parsing.MAX_DATE`; ``ValueError`` naming ``what`` for a ``datetime`` (a
    date and a time is not a day), any other type, or a day out of bounds (so date arithmetic,
    a day after or two years before, never overflows). The value is not quoted (it may be a
    date of birth).

    Examples:
        >>> check_day(date(2025, 7, 1))
        datetime.date(2025, 7, 1)
        >>> check_day(date(9999, 12, 31), "as_of")
        Traceback (most recent call last):
        ...
        ValueError: as_of: the date is out of range: dates from 1900-01-01 to 2100-12-31 only
        >>> check_day(datetime(2025, 7, 1, 9, 30), "as_of")
        Traceback (most recent call last):
        ...
        ValueError: as_of: expected a date, got a date and time
    """
    if isinstance(value, datetime):
        raise ValueError(f"{what}: expected a date, got a date and time")
    if not isinstance(value, date):
        raise ValueError(f"{what}: expected a date, got {type(value).__name__}")
    try:
        return check_date_bounds(value)
    except ParseError as exc:
        raise ValueError(f"{what}: {exc}") from None


def checked_day(value: object, what: str) -> date:
    """:func:`check_day` for an argument of the public API: :class:`InputError` when it is not
    a day in bounds (a ``datetime`` passed where a date is expected, a year 9999)."""
    try:
        return check_day(value, what)
    except ValueError as exc:
        raise InputError(str(exc)) from None


@dataclass(frozen=True, slots=True, order=True)
class DateRange:
    """A half-open range of days ``[start, end)``; build it from inclusive dates with
    :meth:`from_inclusive`."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"empty date range: {self.start} .. {self.end} (end is exclusive)")

    @classmethod
    def from_inclusive(cls, start: date, last_day: date) -> DateRange:
        """The range of days ``start`` .. ``last_day``, both included."""
        return cls(start, last_day + _DAY)

    @property
    def last_day(self) -> date:
        """The last day inside the range (inclusive end)."""
        return self.end - _DAY

    @property
    def days(self) -> int:
        """Number of days in the range."""
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def covers(self, other: DateRange) -> bool:
        """True when every day of ``other`` is inside this range."""
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: DateRange) -> bool:
        """True when the two ranges share at least one day."""
        return self.start < other.end and other.start < self.end

    def intersection(self, other: DateRange) -> DateRange | None:
        """The shared days, or ``None``."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return DateRange(start, end) if start < end else None


P = TypeVar("P", bound=PeriodLike)


def as_range(period: PeriodLike) -> DateRange:
    """The half-open range of an inclusive period."""
    return DateRange.from_inclusive(period.start, period.end_inclusive)


def period_status(start: date, end_inclusive: date, as_of: date) -> PeriodStatus:
    """FP status relative to *today* (spec/README.md): ``pending`` when start > today,
    ``active`` when start <= today <= end, ``expired`` when end < today.

    Examples:
        >>> d = date(2025, 9, 30)
        >>> [period_status(date(2025, 7, 1), d, as_of=x) for x in (d, d + _DAY)]
        ['active', 'expired']
    """
    if start > as_of:
        return "pending"
    if end_inclusive < as_of:
        return "expired"
    return "active"


def periods_touching(periods: Sequence[P], service: DateRange) -> list[P]:
    """The periods sharing at least one day with ``service``, in start order."""
    hits = [p for p in periods if as_range(p).overlaps(service)]
    return sorted(hits, key=lambda p: (p.start, p.end_inclusive))


def uncovered_days(periods: Sequence[PeriodLike], service: DateRange) -> list[DateRange]:
    """The parts of ``service`` that no period covers (a gap in the funding periods)."""
    gaps: list[DateRange] = []
    cursor = service.start
    for p in sorted((as_range(p) for p in periods), key=lambda r: r.start):
        if p.end <= cursor:
            continue
        if p.start >= service.end:
            break
        if p.start > cursor:
            gaps.append(DateRange(cursor, min(p.start, service.end)))
        cursor = max(cursor, p.end)
        if cursor >= service.end:
            break
    if cursor < service.end:
        gaps.append(DateRange(cursor, service.end))
    return gaps


def find_gaps(periods: Sequence[PeriodLike], within: DateRange) -> list[DateRange]:
    """Days of ``within`` covered by no period.

    Examples:
        >>> from types import SimpleNamespace as P
        >>> ps = [P(start=date(2025, 1, 1), end_inclusive=date(2025, 1, 10)),
        ...       P(start=date(2025, 1, 12), end_inclusive=date(2025, 1, 20))]
        >>> find_gaps(ps, DateRange.from_inclusive(date(2025, 1, 1), date(2025, 1, 20)))
        [DateRange(start=datetime.date(2025, 1, 11), end=datetime.date(2025, 1, 12))]
    """
    return uncovered_days(periods, within)


def find_overlaps(periods: Sequence[P]) -> list[tuple[P, P]]:
    """Every pair of periods that share a day, in start order."""
    ordered = sorted(periods, key=lambda p: (p.start, p.end_inclusive))
    pairs: list[tuple[P, P]] = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start > a.end_inclusive:
                break
            pairs.append((a, b))
    return pairs


@dataclass(frozen=True, slots=True)
class SplitPart:
    """One period's share of a line split pro rata by days."""

    index: int
    days: DateRange
    amount: Money
    quantity: Decimal


def split_pro_rata(
    service: DateRange,
    pieces: Sequence[DateRange],
    amount: Money,
    quantity: Decimal,
) -> list[SplitPart]:
    """Split a line's amount (and quantity) over ``pieces`` of its service range, pro rata by
    days, largest remainder to the cent (spec/validation.md ``SPANS_PERIODS``). The amounts add
    up to ``amount`` exactly and the quantities to ``quantity`` exactly (quantity to 2 places).

    Examples:
        >>> s = DateRange.from_inclusive(date(2025, 9, 29), date(2025, 10, 2))
        >>> a = DateRange.from_inclusive(date(2025, 9, 29), date(2025, 9, 30))
        >>> b = DateRange.from_inclusive(date(2025, 10, 1), date(2025, 10, 2))
        >>> [(str(p.amount), str(p.quantity)) for p in split_pro_rata(s, [a, b],
        ...     Money.parse("100.01"), Decimal("3"))]
        [('50.01', '1.50'), ('50.00', '1.50')]
    """
    clipped = [piece.intersection(service) for piece in pieces]
    weights = [c.days if c else 0 for c in clipped]
    amounts = allocate(amount, weights)
    # quantities are split with the same largest-remainder rule, in units of the quantity's own
    # last decimal place (at least hundredths), so the parts always add up exactly
    exponent = quantity.as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    units = int(quantity.scaleb(places))
    q_parts = [m.cents for m in allocate(Money(units), weights)]
    parts: list[SplitPart] = []
    for i, c in enumerate(clipped):
        if c is None:
            continue
        parts.append(SplitPart(i, c, amounts[i], Decimal(q_parts[i]).scaleb(-places)))
    return parts


def available_in_period(
    amounts: Sequence[Money],
    spent: Sequence[Money],
    k: int,
    current: int,
    *,
    rollover: bool,
) -> Money:
    """Availability of period ``k`` of one funding component (spec/validation.md section 2).

    ``amounts[i]`` and ``spent[i]`` are period ``i``'s released amount and what delivered services
    dated in it used; ``current`` is the index of the current period (the last one that has
    started). Without rollover: ``amounts[k] - spent[k]``. With rollover, unspent funds roll
    forward, so the cumulative availability of ``j`` is ``sum(amounts[:j+1]) - sum(spent[:j+1])``,
    and a draw in ``k`` may not overdraw any cumulative availability from ``k`` to ``current``:
    the answer is the smallest of those.

    Examples:
        >>> m = Money.parse
        >>> amounts, spent = [m("100"), m("100"), m("100")], [m("20"), m("150"), m("0")]
        >>> str(available_in_period(amounts, spent, 0, 2, rollover=True))
        '30.00'
        >>> str(available_in_period(amounts, spent, 0, 2, rollover=False))
        '80.00'
    """
    return Money(
        available_cents(
            [a.cents for a in amounts], [s.cents for s in spent], k, current, rollover=rollover
        )
    )


def available_cents(
    amounts: Sequence[int], spent: Sequence[int], k: int, current: int, *, rollover: bool
) -> int:
    """:func:`available_in_period` in plain cents (the engine's hot path)."""
    if not rollover:
        return amounts[k] - spent[k]
    running = 0
    for i in range(k):
        running += amounts[i] - spent[i]
    best: int | None = None
    for j in range(k, max(k, current) + 1):
        running += amounts[j] - spent[j]
        if best is None or running < best:
            best = running
    assert best is not None
    return best
