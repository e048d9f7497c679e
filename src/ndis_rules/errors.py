"""Exceptions for contract and programming errors only; business outcomes are returned as data.

Every exception derives from :class:`NdisRulesError` and from the matching builtin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

__all__ = [
    "InputError",
    "NdisRulesError",
    "RuleConflictError",
    "RuleGapError",
    "input_error_from",
]


class NdisRulesError(Exception):
    """Root of every error ndis-rules raises."""


class InputError(NdisRulesError, ValueError):
    """Malformed input at the boundary. ``source`` names the file (or ``<input>``), ``loc`` the
    field path, ``row`` the CSV row where there is one; ``problems`` lists every problem found.

    Examples:
        >>> str(InputError("quantity: a float is not exact", source="inv.json", loc=("lines", 0)))
        'inv.json: lines.0: quantity: a float is not exact'
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        loc: Sequence[str | int] = (),
        row: int | None = None,
        problems: Sequence[str] = (),
    ) -> None:
        self.source = source
        self.loc = tuple(loc)
        self.row = row
        self.problems = tuple(problems) or (message,)
        parts = [p for p in (source, f"row {row}" if row is not None else None) if p]
        if self.loc:
            parts.append(".".join(str(x) for x in self.loc))
        parts.append(message)
        super().__init__(": ".join(parts))


class RuleConflictError(NdisRulesError, RuntimeError):
    """Two steps of a rule table matched with no precedence between them: a bug in the table."""


class RuleGapError(NdisRulesError, RuntimeError):
    """No step of a rule table matched: a gap in the table."""


def _loc_text(loc: Sequence[str | int]) -> str:
    return ".".join(str(x) for x in loc) or "(root)"


def input_error_from(exc: ValidationError, source: str = "<input>") -> InputError:
    """Turn a pydantic ``ValidationError`` into one :class:`InputError` listing every problem as
    ``field.path: message`` (no input values are echoed beyond the field path)."""
    errors = exc.errors(include_input=False)
    locs = [tuple(e["loc"]) for e in errors]

    def cascade(e: Any) -> bool:  # a length error caused by failing items under the same field
        loc = tuple(e["loc"])
        return e["type"] == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in locs
        )

    problems = [
        f"{_loc_text(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in errors
        if not cascade(e)
    ]
    if len(problems) == 1:
        return InputError(problems[0], source=source, problems=problems)
    summary = f"{len(problems)} problems: " + "; ".join(problems)
    return InputError(summary, source=source, problems=problems)
