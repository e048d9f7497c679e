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
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ValidationError

if TYPE_CHECKING:  # names for annotations only: errors.py imports no other module of the core
    from .codes import RefusalCode
    from .merge import Conflict

__all__ = [
    "ApplyRefused",
    "BookRecordNotFound",
    "BookRefused",
    "BookingNotFound",
    "BookingRuleError",
    "BprFileError",
    "CatalogueError",
    "ContractNotFound",
    "FailureKind",
    "GatewayError",
    "GatewayPayloadError",
    "GatewayRefused",
    "GatewayTimeout",
    "GatewayUnavailable",
    "HttpFailure",
    "InputError",
    "ItemNotFoundError",
    "LifecycleError",
    "MissingExtra",
    "NdisRulesError",
    "NewPlanNotMerged",
    "ParseError",
    "ParticipantNotFound",
    "PlanSelectionError",
    "RegionError",
    "RuleConflictError",
    "RuleGapError",
    "SourceError",
    "SourceNotAuthorised",
    "SourcePayloadError",
    "SourceRefused",
    "SourceTimeout",
    "StaleBookError",
    "StaleChangeSet",
    "StaleContractError",
    "StoreError",
    "StoreIntegrityError",
    "StoreUnavailable",
    "SyncMismatchError",
    "UnacceptedConflicts",
    "UnknownProdaStatus",
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


class ParseError(NdisRulesError, ValueError):
    """A value that is not in the accepted format (the reader adds the field and the row);
    raised by :mod:`ndis_rules.parsing`."""


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


# -- the plan manager's book ----------------------------------------------------------------
class LifecycleError(NdisRulesError, ValueError):
    """A move the lifecycle does not allow (e.g. paying a line that was never submitted)."""


class BookRefused(NdisRulesError, ValueError):
    """The book refuses an operation as asked (a stale change set, an unknown line, a folder
    that is not fresh); nothing was written."""


# -- the environment ---------------------------------------------------------------------------
class MissingExtra(NdisRulesError, ImportError):
    """An optional extra is not installed (``xlsx`` for workbooks, ``holidays`` for public
    holidays); the message says what to install. Still an ``ImportError``, as before."""


# -- files: BPR and catalogue -------------------------------------------------------------------
class BprFileError(InputError):
    """The input is not a bulk payment request file at all (not text, no or wrong header)."""


class CatalogueError(InputError):
    """A catalogue file that cannot be read: a missing column, or a broken row (``row`` is the
    row number as a spreadsheet shows it, the header being row 1; ``loc`` names the column)."""


class RegionError(InputError):
    """A region that is not known, or ``national`` asked of a state-column file whose state
    prices differ."""


class ItemNotFoundError(NdisRulesError, LookupError):
    """No version of the item is in force on the date asked (or the item is not listed)."""


# -- bookings and the PRODA gateway -------------------------------------------------------------
class BookingRuleError(NdisRulesError, ValueError):
    """A lifecycle operation refused by a booking rule; ``code`` is stable (``RefusalCode``).

    Examples:
        >>> err = BookingRuleError("BOOKING_HAS_PAYMENTS", "booking SB1 has payment requests")
        >>> err.code, str(err)
        ('BOOKING_HAS_PAYMENTS', 'BOOKING_HAS_PAYMENTS: booking SB1 has payment requests')
    """

    def __init__(self, code: RefusalCode, message: str) -> None:
        self.code: RefusalCode = code
        self.detail = message
        super().__init__(f"{code}: {message}")


#: The PRODA booking status codes (api-fields.md); ``bookings.ProdaStatusCode`` spells the same.
_PRODA_STATUS_CODES = ("INPR", "APAP", "APRO", "APAC", "APRC", "APPR", "REJT", "CMPD", "DELE")


class UnknownProdaStatus(NdisRulesError, ValueError):
    """A PRODA booking status code that is not one of ``INPR APAP APRO APAC APRC APPR REJT CMPD
    DELE`` (api-fields.md)."""

    def __init__(self, code: object) -> None:
        self.code = code
        known = " ".join(_PRODA_STATUS_CODES)
        super().__init__(f"unknown PRODA booking status {code!r} (expected one of: {known})")


class GatewayError(NdisRulesError, RuntimeError):
    """A PRODA gateway call failed; nothing was changed. ``transient`` errors may be retried."""

    transient: ClassVar[bool] = False


class GatewayTimeout(GatewayError, TimeoutError):
    """The gateway did not answer in time (may be retried)."""

    transient: ClassVar[bool] = True


class GatewayUnavailable(GatewayError, ConnectionError):
    """The gateway could not be reached (may be retried)."""

    transient: ClassVar[bool] = True


class GatewayRefused(GatewayError):
    """PRODA refused the call, with its reason (e.g. "date of birth does not match")."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class GatewayPayloadError(GatewayError, ValueError):
    """The gateway answered with something that is not what the call returns (not JSON, or a
    field that cannot be mapped, named in the message). Not retried: the call may have taken
    effect, so look before repeating it."""


class BookingNotFound(GatewayError, LookupError):
    """No booking with that id in PRODA."""

    def __init__(self, booking_id: str) -> None:
        self.booking_id = booking_id
        super().__init__(f"no service booking {booking_id!r} in PRODA")


# -- sync (merge) ------------------------------------------------------------------------------
class PlanSelectionError(NdisRulesError, LookupError):
    """No plan, or several, matched the selection; ``candidates`` lists the plans considered as
    ``"<plan id> <start>..<end_inclusive> <status>"``."""

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        self.candidates = tuple(candidates)
        listed = "; ".join(self.candidates) if self.candidates else "none"
        super().__init__(f"{message}; candidates: {listed}")


class SyncMismatchError(NdisRulesError, ValueError):
    """The plan belongs to another participant than the contract."""


class ApplyRefused(NdisRulesError, ValueError):
    """``merge.apply`` refused the change set; the contract is unchanged."""


class StaleChangeSet(ApplyRefused):
    """The change set was built for another contract or another version of it: preview again."""


class NewPlanNotMerged(ApplyRefused):
    """The change set is a ``NEW_PLAN`` (reassessment): it is never merged into the old contract;
    create a new contract from the plan with ``merge.new_contract_from_plan``."""


class UnacceptedConflicts(ApplyRefused):
    """Conflicts the caller did not accept; ``conflicts`` lists them."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        ids = ", ".join(c.id for c in self.conflicts)
        n = len(self.conflicts)
        super().__init__(
            f"apply refused: {n} conflict{'s' if n != 1 else ''} not accepted: {ids}; resolve "
            "them locally and preview again, or pass their codes or ids in accept="
        )


# -- the HTTP adapters (internal: each adapter turns it into its port's errors) -------------
#: What went wrong with an HTTP request.
FailureKind = Literal["timeout", "unavailable", "status", "payload"]


class HttpFailure(Exception):
    """A request failed: ``kind`` is ``timeout``, ``unavailable`` (refused, dropped, reset),
    ``status`` (an HTTP error status, with ``status`` and the server's ``reason``) or ``payload``
    (the body is not the JSON expected). ``attempts`` counts the tries made. Internal to the
    adapters, which turn it into their port's errors."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.kind = kind
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(message)
