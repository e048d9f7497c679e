"""Argument helpers shared by the ``ndis-rules`` subcommands.

Examples:
    >>> iso_date("2025-11-15")
    datetime.date(2025, 11, 15)
"""

from __future__ import annotations

import argparse
from datetime import date

from ..adapters.clock import SystemClock

__all__ = ["iso_date", "today_from"]


def iso_date(text: str) -> date:
    """An argparse type: a date written ``YYYY-MM-DD``."""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def today_from(args: argparse.Namespace) -> date:
    """``--today`` when given, else today in ``--zone`` (read once, at the edge)."""
    if args.today is not None:
        today: date = args.today
        return today
    return SystemClock.in_zone(args.zone).today()
