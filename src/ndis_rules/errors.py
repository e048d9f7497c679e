"""Exceptions for contract and programming errors only; business outcomes are returned as data.

Every exception derives from :class:`NdisRulesError` and from the matching builtin.

The ports' failures (PACE plan source, contract store) are here too: callers never see
``sqlite3``, ``json`` or ``OSError`` exceptions from an adapter.

Examples:
    >>> err = SourcePayloadError("expected a date", source="430000001.json",
    ...                          loc=("plans", 0, "budgets", 1, "start"))
    >>> str(err)
    '430000001.json: plans.0.budgets.1.start: expected a date'
    >>> isinstance(err, ValueError), isinstance(StaleContractError("C1", 3, 4), SourceError)
    (True, False)
    >>> print(StaleContractError("C1", expected=3, actual=4))
    contract C1 was changed since it was read: expected version 3, the store holds version 4; \
read it again and redo the change
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

__all__ = [
    "BookRecordNotFound",
    "ContractNotFound",
    "InputError",
    "NdisRulesError",
    "ParticipantNotFound",
    "RuleConflictError",
    "RuleGapError",
    "SourceError",
    "SourceNotAuthorised",
    "SourcePayloadError",
    "SourceRefused",
    "SourceTimeout",
    "StaleBookError",
    "StaleContractError",
    "StoreError",
    "StoreIntegrityError",
    "StoreUnavailable",
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


# -- the ports' failures (PACE plan source, contract store) -----------------------------------
class SourceError(NdisRulesError):
    """The PACE plan source failed; nothing local was touched."""


class SourceTimeout(SourceError, TimeoutError):
    """The source did not answer in time (retrying later may succeed)."""


class SourceRefused(SourceError, ConnectionRefusedError):
    """The source refused the request or could not be reached."""


class SourceNotAuthorised(SourceError, PermissionError):
    """The source refused access to this participant: the plan manager or provider relationship
    with the participant is missing in PACE (or the credentials are wrong)."""


class SourcePayloadError(SourceError, ValueError):
    """The source answered with a payload that is not a valid PACE plan. ``source`` names the
    file or endpoint, ``loc`` the field path (of the first problem), ``problems`` every problem
    found as ``field.path: message`` (when given, the message already names the fields)."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        loc: Sequence[str | int] = (),
        problems: Sequence[str] = (),
    ) -> None:
        self.source = source
        self.loc = tuple(loc)
        self.problems = tuple(problems) or (message,)
        parts = [source] if source else []
        if self.loc and not problems:
            parts.append(".".join(str(x) for x in self.loc))
        parts.append(message)
        super().__init__(": ".join(parts))


class ParticipantNotFound(SourceError, LookupError):
    """No participant matches the NDIS number, last name and date of birth given (which of the
    three did not match is deliberately not said)."""


class StoreError(NdisRulesError):
    """The contract store failed; the stored state is what it was before the call."""


class StoreUnavailable(StoreError, ConnectionError):
    """The store cannot be reached or is locked (retrying later may succeed)."""


class StoreIntegrityError(StoreError, ValueError):
    """What the store holds is corrupt or inconsistent (e.g. unreadable contract JSON)."""


class StaleContractError(StoreError, ValueError):
    """Optimistic versioning refused a write: the contract changed since it was read (or a
    contract created as new already exists)."""

    def __init__(self, contract_id: str, expected: int | None, actual: int | None) -> None:
        self.contract_id = contract_id
        self.expected = expected
        self.actual = actual
        want = "no stored contract" if expected is None else f"version {expected}"
        have = "no stored contract" if actual is None else f"version {actual}"
        super().__init__(
            f"contract {contract_id} was changed since it was read: expected {want}, the store "
            f"holds {have}; read it again and redo the change"
        )


class StaleBookError(StoreError, ValueError):
    """Optimistic versioning refused a write to the book: another operation wrote since it was
    read. Nothing was written; read the book again and redo the operation."""


class BookRecordNotFound(StoreError, LookupError):
    """The book holds no record with this id (change set, check batch, contract version)."""


class ContractNotFound(StoreError, LookupError):
    """No contract with this id is stored."""

    def __init__(self, contract_id: str) -> None:
        self.contract_id = contract_id
        super().__init__(f"no contract with id {contract_id!r} is stored")
