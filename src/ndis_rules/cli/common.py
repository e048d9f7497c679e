"""Argument helpers shared by the ``ndis-rules`` subcommands, among them the one place that
decides *today* for every command: :func:`add_today_options` gives a subcommand ``--today`` and
``--zone``, :func:`today_from` reads them (the clock is read once, at the edge). An unknown
``--zone`` is bad input in every command (exit 2, one ``ndis-rules: error:`` line), checked
even when ``--today`` is given.

Examples:
    >>> iso_date("2025-11-15")
    datetime.date(2025, 11, 15)
    >>> p = argparse.ArgumentParser()
    >>> add_today_options(p)
    >>> today_from(p.parse_args(["--today", "2025-11-15"]))
    datetime.date(2025, 11, 15)
    >>> today_from(p.parse_args(["--today", "2025-11-15", "--zone", "Mars/Olympus"]))
    Traceback (most recent call last):
    ...
    ndis_rules.errors.InputError: --zone: unknown time zone 'Mars/Olympus' (expected ...)
"""

from __future__ import annotations

import argparse
from datetime import date

from ..adapters.clock import DEFAULT_ZONE, SystemClock
from ..errors import InputError
from ..parsing import ParseError, parse_iso_date

__all__ = ["add_today_options", "check_zone", "iso_date", "today_from"]


def iso_date(text: str) -> date:
    """An argparse type: a date written ``YYYY-MM-DD``."""
    try:
        return parse_iso_date(text)
    except ParseError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_today_options(parser: argparse.ArgumentParser, *, metavar: str | None = None) -> None:
    """Give a subcommand ``--today DATE`` and ``--zone NAME`` (the same in every command)."""
    parser.add_argument(
        "--today", type=iso_date, metavar=metavar, help="today's date (default: now in --zone)"
    )
    parser.add_argument("--zone", default=DEFAULT_ZONE, help="time zone for today")


def check_zone(args: argparse.Namespace) -> SystemClock | None:
    """The clock of ``--zone`` (``None`` for a command without one); :class:`InputError`
    naming ``--zone`` when it is not a known time zone."""
    zone = getattr(args, "zone", None)
    if zone is None:
        return None
    try:
        return SystemClock.in_zone(zone)
    except ValueError as exc:
        raise InputError(str(exc), source="--zone") from None


def today_from(args: argparse.Namespace) -> date:
    """``--today`` when given, else today in ``--zone``; the zone is checked either way."""
    clock = check_zone(args)
    if args.today is not None:
        today: date = args.today
        return today
    if clock is None:  # pragma: no cover - every command with --today has --zone
        clock = SystemClock.in_zone(DEFAULT_ZONE)
    return clock.today()
