"""Ports: the outside world (clock, PACE, PRODA, storage) as ``typing.Protocol`` classes.

The core never sees a port; the service shell reads them once and passes plain values in.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    """Supplies *today*: the local date in the configured zone."""

    def today(self) -> date:
        """Today's date."""
        ...
