"""Old import paths kept for one release (issue 11): a module that moved to a shell package
forwards its names from the new place, resolved on first use.

The core never imports a shell package (``tests/architecture`` walks every import); a forward is
a name lookup by string, done only when old code asks for the old path, so the core's import
graph stays free of the shell. New code imports from the new path.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["forward"]


def forward(target: str, names: Iterable[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that serves ``names`` from the module ``target``.

    Examples:
        >>> getattr_ = forward("ndis_rules.money", ["Money"])
        >>> getattr_("Money").__name__
        'Money'
    """
    served = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name in served:
            return getattr(importlib.import_module(target), name)
        raise AttributeError(f"module has no attribute {name!r}")

    return __getattr__
