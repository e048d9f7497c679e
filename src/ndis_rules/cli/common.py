"""Argument helpers shared by the ``ndis-rules`` subcommands.

Examples:
    >>> iso_date("2025-11-15")
    datetime.date(2025, 11, 15)
"""

from __future__ import annotations

import argparse
from datetime import date

from ..adapters.clock import SystemClock
from ..parsing import ParseError, parse_iso_date

__all__ = ["iso_date", "today_from"]


def iso_date(text: str) -> date:
    """An argparse type: a date written ``YYYY-MM-DD``."""
    try:
        return parse_iso_date(text)
    except ParseError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def today_from(args: argparse.Namespace) -> date:
    """``--today`` when given, else today in ``--zone`` (read once, at the edge)."""
    if args.today is not None:
        today: date = args.today
        return today
    return SystemClock.in_zone(args.zone).today()
