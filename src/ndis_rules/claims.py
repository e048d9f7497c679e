"""The bulk claims check: every row of a bulk payment request (BPR) file validated against the
participants' contracts (issue 5 item 6; spec/claims-files.md, spec/validation.md sections 4, 6
and 8).

* :class:`ClaimsBook` indexes contracts by participant once and picks the contract of a row:
  the participant's contract whose ``start .. end_inclusive`` covers SupportsDeliveredFrom (when
  several do, the active one, then the latest start); when none covers the date, the nearest
  one, so that the engine reports ``OUTSIDE_CONTRACT``; when the participant has no contract at
  all, a row error ``NO_CONTRACT_FOR_PARTICIPANT`` (the NDIA would reject it, C22).
* Rows are grouped into invoices by (contract, provider, ClaimReference) in order of first
  appearance; the provider is the ABN of Support Provider, else the RegistrationNumber. Each
  contract's invoices are validated in **one** :func:`~ndis_rules.rules.evaluate_batch` call with
  the ``bulk_import`` channel, so its lines compete for the same money in file order (section 4).
* :func:`check_claims` returns a :class:`ClaimsReport`: exactly one :class:`RowOutcome` per data
  row, in file order (rows the reader rejected keep their reader errors), and a
  :class:`ClaimsSummary`. The result depends only on the arguments.

:func:`ndis_rules.files.contracts.load_contracts` reads the contracts (a folder of contract JSON
files, or an SQLite contract store file).

Examples:
    >>> from ndis_rules.bpr import parse_bpr
    >>> contract = Contract.model_validate({"id": "C1", "participant": "431234567",
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "200.00"}]})
    >>> header = "RegistrationNumber,NDISNumber,SupportsDeliveredFrom,SupportsDeliveredTo,"
    >>> header += "SupportNumber,ClaimReference,Quantity,Hours,UnitPrice,GSTCode,AuthorisedBy,"
    >>> header += "ParticipantApproved,InKindFundingProgram,ClaimType,CancellationReason,"
    >>> header += "ABN of Support Provider"
    >>> line = "4050000001,431234567,2025/08/04,2025/08/04,01_011_0107_1_1,INV-1,2,,70.23,P2,,,,,,"
    >>> text = "\\n".join([header, line + "51824753556", line + "51824753556",
    ...                   line.replace("2025/08/04", "2025/13/04") + "51824753556"])
    >>> report = check_claims(parse_bpr(text), [contract], as_of=date(2025, 11, 15))
    >>> [(r.row, r.outcome, r.codes) for r in report.rows]  # doctest: +NORMALIZE_WHITESPACE
    [(2, 'allowed', ('PROVIDER_NOT_ON_CONTRACT',)),
     (3, 'error', ('DUPLICATE_LINE', 'PROVIDER_NOT_ON_CONTRACT', 'INSUFFICIENT_FUNDS')),
     (4, 'error', ('BPR_INVALID_ROW',))]
    >>> report.summary.lines, report.summary.allowed, report.summary.errors
    (3, 1, 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal, cast

from ._compat import forward
from ._gc import gc_paused
from .bpr import BprIssue, BprResult, BprRow
from .checkrun import CheckRun
from .codes import FileCode, ReportCode
from .errors import InputError
from .itemchecks import CatalogueContext
from .models import (
    CORE_CATEGORIES,
    ClaimLine,
    Contract,
    Invoice,
    ManagementType,
    Settings,
    built_model,
)
from .money import Money
from .outcomes import Draw, LineDecision, Outcome, Severity
from .parsing import DECIMAL_MAX_DIGITS
from .periods import checked_day
from .rules import BatchRun, evaluate_batch
from .rules.fast import FastPathStats

__getattr__ = forward("ndis_rules.files.contracts", ("load_contracts",))

__all__ = [
    "BPR_INVALID_ROW",
    "BPR_ROW_WARNING",
    "FILE_CODES",
    "NO_CONTRACT_FOR_PARTICIPANT",
    "ClaimsBook",
    "ClaimsReport",
    "ClaimsSummary",
    "ContractRun",
    "FastPathStats",
    "RowNote",
    "RowOutcome",
    "check_claims",
    "fast_path_default",
    "set_fast_path_default",
    "summarise",
]

#: The bulk payment request reader rejected the row (each message names the row and column).
BPR_INVALID_ROW: Final[FileCode] = "BPR_INVALID_ROW"
#: The reader warned about the row (e.g. an NDIS number not starting 43): the row is flagged.
BPR_ROW_WARNING: Final[FileCode] = "BPR_ROW_WARNING"
#: No contract of the row's participant at all: the NDIA would reject the line (C22).
NO_CONTRACT_FOR_PARTICIPANT: Final[FileCode] = "NO_CONTRACT_FOR_PARTICIPANT"
#: Codes of the bulk check itself (file level), beside the engine's rule codes.
FILE_CODES: Final[tuple[FileCode, ...]] = (
    BPR_INVALID_ROW,
    BPR_ROW_WARNING,
    NO_CONTRACT_FOR_PARTICIPANT,
)

_CHANNEL: Final = "bulk_import"

#: The rows a report keeps: ``all``, or ``flagged`` (errors and warnings; the summary still
#: counts every row).
Keep = Literal["all", "flagged"]

#: Whether a check without an explicit ``fast_path`` argument uses the fast path for plain lines
#: (:mod:`ndis_rules.rules.fast`). The decisions are identical either way; the shell turns it off
#: with ``NDIS_RULES_FAST_PATH=0`` (to compare, or to rule it out).
_FAST_PATH_DEFAULT: list[bool] = [True]


def set_fast_path_default(enabled: bool) -> None:
    """Use the fast path (or not) in checks that do not say (see :func:`check_claims`); worker
    processes started by fork inherit the choice."""
    _FAST_PATH_DEFAULT[0] = enabled


def fast_path_default() -> bool:
    """Whether checks that do not say use the fast path (on unless turned off)."""
    return _FAST_PATH_DEFAULT[0]


# -- results ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RowNote:
    """One message about a row: an engine finding or a reader issue, with its code and severity.

    Attributes:
        code: the code (an engine rule code or one of :data:`FILE_CODES`).
        severity: ``error``, ``warning`` or ``info``.
        message: the message, naming the row where the reader wrote it.
    """

    code: ReportCode
    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """The result of one data row of the file.

    Attributes:
        row: the row number as a spreadsheet shows it (header = 1).
        participant: the NDISNumber cell (as read, when the row was rejected).
        claim_reference: the ClaimReference cell.
        item: the SupportNumber cell.
        amount: quantity (or hours) x unit price; ``None`` when the reader rejected the row.
        outcome: ``allowed``, ``warning`` or ``error``.
        codes: the rule codes that spoke (engine codes and :data:`FILE_CODES`), in order.
        notes: one :class:`RowNote` per finding or reader issue, in the order found
            (``messages``, ``message_codes`` and ``message_severities`` read them).
        draws: the budgets the amount is charged to (empty for an error).
        contract: the contract the row was validated against (``None`` when not matched).
        provider: the ABN of the provider, else the registration number.
        invoice: the id of the invoice the row was grouped into.
        issues: the reader's errors and warnings for the row (each with row and column).
        decision: the engine's line decision (``None`` when the engine did not see the row).
        service_from, service_to: SupportsDeliveredFrom and SupportsDeliveredTo as ISO dates
            (the cells as read when the reader rejected the row).
    """

    row: int
    participant: str
    claim_reference: str
    item: str
    amount: Money | None
    outcome: Outcome
    codes: tuple[ReportCode, ...]
    notes: tuple[RowNote, ...] = ()
    draws: tuple[Draw, ...] = ()
    contract: str | None = None
    provider: str | None = None
    invoice: str | None = None
    issues: tuple[BprIssue, ...] = ()
    decision: LineDecision | None = field(default=None, compare=False)
    service_from: str = ""
    service_to: str = ""

    @property
    def messages(self) -> tuple[str, ...]:
        """One message per finding or reader issue, in the order found."""
        return tuple(n.message for n in self.notes)

    @property
    def message_codes(self) -> tuple[ReportCode, ...]:
        """The code of each message (same length as ``messages``)."""
        return tuple(n.code for n in self.notes)

    @property
    def message_severities(self) -> tuple[Severity, ...]:
        """The severity of each message (same length as ``messages``)."""
        return tuple(n.severity for n in self.notes)

    @property
    def draws_text(self) -> str:
        """The draws as ``"140.46 from 01:plan FP2; 10.00 from core_flexible:plan FP2"``."""
        return "; ".join(d.text for d in self.draws)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as strings); findings with facts, and the trace if explained."""
        out: dict[str, Any] = {
            "row": self.row,
            "participant": self.participant,
            "claim_reference": self.claim_reference,
            "item": self.item,
            "service_from": self.service_from,
            "service_to": self.service_to,
            "amount": str(self.amount) if self.amount is not None else None,
            "outcome": self.outcome,
            "codes": list(self.codes),
            "messages": list(self.messages),
            "draws": [d.to_dict() for d in self.draws],
            "contract": self.contract,
            "provider": self.provider,
            "invoice": self.invoice,
        }
        if self.issues:
            out["issues"] = [
                {"row": i.row_number, "column": i.column, "message": i.message} for i in self.issues
            ]
        if self.decision is not None:
            out["findings"] = [f.to_dict() for f in self.decision.findings]
            out["counts_against"] = list(self.decision.counts_against)
            if self.decision.trace:
                out["trace"] = [t.to_dict() for t in self.decision.trace]
        return out


@dataclass(slots=True)
class _RowOutcomeDraft:
    """A :class:`RowOutcome` being built: the same fields in the same order (so the same slots),
    without the frozen class's ``object.__setattr__`` per field, which made building the
    outcome of each row cost several times its other work. :func:`_outcome` turns it into the
    :class:`RowOutcome` it is (the class of an object with the same slots can be assigned)."""

    row: int
    participant: str
    claim_reference: str
    item: str
    amount: Money | None
    outcome: Outcome
    codes: tuple[ReportCode, ...]
    notes: tuple[RowNote, ...]
    draws: tuple[Draw, ...]
    contract: str | None
    provider: str | None
    invoice: str | None
    issues: tuple[BprIssue, ...]
    decision: LineDecision | None
    service_from: str
    service_to: str


if _RowOutcomeDraft.__slots__ != RowOutcome.__slots__:  # pragma: no cover - a guard
    raise TypeError("_RowOutcomeDraft must have RowOutcome's fields, in its order")


def _outcome(draft: _RowOutcomeDraft) -> RowOutcome:
    """The :class:`RowOutcome` of the draft's fields (the draft itself, frozen from now on)."""
    draft.__class__ = RowOutcome  # type: ignore[assignment]
    return cast(RowOutcome, draft)


@dataclass(frozen=True, slots=True)
class ClaimsSummary:
    """Counts over the rows of one check.

    Attributes:
        lines: data rows (always the number of rows read).
        allowed, warnings, errors: rows by outcome (they add up to ``lines``).
        by_code: rows per code (a code counted once per row), sorted by code.
        severities: per code of ``by_code``, the worst severity it had (``error``, ``warning``
            or ``info``).
        claimable: the total amount of the rows that are not errors.
        contracts: contracts that rows were validated against.
        invoices: invoices the rows were grouped into.
    """

    lines: int
    allowed: int
    warnings: int
    errors: int
    by_code: Mapping[str, int]
    severities: Mapping[str, Severity]
    claimable: Money
    contracts: int
    invoices: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "lines": self.lines,
            "allowed": self.allowed,
            "warnings": self.warnings,
            "errors": self.errors,
            "by_code": dict(self.by_code),
            "severities": dict(self.severities),
            "claimable": str(self.claimable),
            "contracts": self.contracts,
            "invoices": self.invoices,
        }


@dataclass(frozen=True, slots=True)
class ClaimsReport:
    """One :class:`RowOutcome` per data row, in file order, and the summary; ``run`` says what
    the check ran with and what it did not check (set by the command line)."""

    rows: tuple[RowOutcome, ...]
    summary: ClaimsSummary
    run: CheckRun | None = None

    @property
    def has_errors(self) -> bool:
        """True when any row is an error."""
        return self.summary.errors > 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"summary": {...}, "rows": [...]}``, and ``"run"`` when known."""
        out: dict[str, Any] = {"summary": self.summary.to_dict()}
        if self.run is not None:
            out["run"] = self.run.to_dict()
        out["rows"] = [r.to_dict() for r in self.rows]
        return out


# -- the book of contracts ----------------------------------------------------------------------
def _distance(contract: Contract, on: date) -> int:
    if on < contract.start:
        return (contract.start - on).days
    if on > contract.end_inclusive:
        return (on - contract.end_inclusive).days
    return 0


@dataclass(slots=True)
class _InvoiceWork:
    id: str
    number: str
    provider: str
    participant: str
    lines: list[ClaimLine] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # indexes into the results
    line_ids: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _ContractWork:
    contract: Contract
    held: dict[str, frozenset[str]]
    invoices: dict[tuple[str, str], _InvoiceWork] = field(default_factory=dict)


def _managements_held(contract: Contract) -> dict[str, frozenset[str]]:
    """Per category, the management types the contract holds it under; a Core category with no
    budget of its own counts the management types of the core flexible pools."""
    held: dict[str, set[str]] = {}
    for b in contract.budgets:
        held.setdefault(b.category, set()).add(b.management)
    pools = {b.management for b in contract.budgets if b.in_core_pool}
    for category in CORE_CATEGORIES:
        if category not in held and pools:
            held[category] = set(pools)
    return {k: frozenset(v) for k, v in held.items()}


class ClaimsBook:
    """Contracts indexed by participant (NDIS number), built once for any number of checks.

    Contracts without a participant cannot be matched to a row and are ignored. Two contracts
    with the same id are an :class:`InputError`.

    Examples:
        >>> book = ClaimsBook([
        ...     Contract.model_validate({"id": "OLD", "participant": "431234567",
        ...         "start": "2024-07-01", "end_inclusive": "2025-06-30"}),
        ...     Contract.model_validate({"id": "NEW", "participant": "431234567",
        ...         "start": "2025-07-01", "end_inclusive": "2026-06-30"})])
        >>> book.contract_for("431234567", date(2025, 6, 30)).id
        'OLD'
        >>> book.contract_for("431234567", date(2026, 9, 1)).id  # none covers: the nearest
        'NEW'
        >>> book.contract_for("439999999", date(2025, 8, 1)) is None
        True
    """

    __slots__ = ("_by_participant", "_held", "contracts")

    def __init__(self, contracts: Iterable[Contract]) -> None:
        self.contracts: tuple[Contract, ...] = tuple(contracts)
        by_participant: dict[str, list[Contract]] = {}
        seen: set[str] = set()
        for c in self.contracts:
            if c.id in seen:
                raise InputError(f"contract id {c.id!r} appears more than once", loc=("contracts",))
            seen.add(c.id)
            if c.participant:
                by_participant.setdefault(c.participant.strip(), []).append(c)
        self._by_participant: dict[str, tuple[Contract, ...]] = {
            p: tuple(sorted(cs, key=lambda c: (c.start, c.end_inclusive, c.id)))
            for p, cs in by_participant.items()
        }
        self._held: dict[str, dict[str, frozenset[str]]] = {}

    def participants(self) -> list[str]:
        """The participants that have contracts, sorted."""
        return sorted(self._by_participant)

    def contracts_of(self, participant: str) -> tuple[Contract, ...]:
        """The participant's contracts, oldest start first."""
        return self._by_participant.get(participant.strip(), ())

    def contract_for(self, participant: str, on: date) -> Contract | None:
        """The contract a service on ``on`` is claimed against.

        The participant's contract covering ``on`` (several: the active one, then the latest
        start); when none covers it, the nearest one (the engine then reports
        ``OUTSIDE_CONTRACT``; on a tie the later one); ``None`` when the participant has none.
        """
        candidates = self._by_participant.get(participant.strip())
        if not candidates:
            return None
        if len(candidates) == 1:  # covering or not, the only one is the nearest
            return candidates[0]
        best: Contract | None = None
        for c in candidates:  # sorted by start: a later one wins ties
            if c.start <= on <= c.end_inclusive and (best is None or c.active or not best.active):
                best = c
        if best is not None:
            return best
        nearest = candidates[0]
        for c in candidates[1:]:
            if _distance(c, on) <= _distance(nearest, on):
                nearest = c
        return nearest

    def held(self, contract: Contract) -> dict[str, frozenset[str]]:
        """Per category, the management types the contract holds it under (cached)."""
        found = self._held.get(contract.id)
        if found is None:
            found = self._held[contract.id] = _managements_held(contract)
        return found

    def place(self, result: BprResult) -> tuple[Contract, str, str] | RowOutcome:
        """Where :meth:`check` puts a row: its contract, provider and claim reference (the
        invoice it joins), or, for a row the reader rejected or without a contract, its
        outcome (decided without the engine)."""
        row = result.row
        if row is None or result.errors:
            return _rejected(result)
        contract = self.contract_for(row.ndis_number, row.supports_delivered_from)
        if contract is None:
            return _no_contract(result, row)
        return contract, _provider_of(row), row.claim_reference

    def check(
        self,
        results: Sequence[BprResult],
        *,
        as_of: date,
        settings: Settings | None = None,
        catalogue: CatalogueContext | None = None,
        explain: bool = False,
        fast_path: bool | FastPathStats | None = None,
        keep: Keep = "all",
    ) -> ClaimsReport:
        """Validate the rows of a BPR file; see :func:`check_claims`."""
        as_of = checked_day(as_of, "as_of")
        fast: bool | FastPathStats = fast_path_default() if fast_path is None else fast_path
        n = len(results)
        outcomes: list[RowOutcome | None] = [None] * n
        work: dict[str, _ContractWork] = {}
        contract_for = self.contract_for
        for index, result in enumerate(results):
            row = result.row
            if row is None or result.errors:
                outcomes[index] = _rejected(result)
                continue
            contract = contract_for(row.ndis_number, row.supports_delivered_from)
            if contract is None:
                outcomes[index] = _no_contract(result, row)
                continue
            cw = work.get(contract.id)
            if cw is None:
                cw = work[contract.id] = _ContractWork(contract, self.held(contract))
            _add_line(cw, index, result, row, catalogue)
        invoices = 0
        # allowed rows without a reader warning that the report does not keep: only counted
        plain: list[LineDecision] = []
        keep_all = keep == "all"
        for cw in work.values():
            batch = list(cw.invoices.values())
            invoices += len(batch)
            contract_id = cw.contract.id
            decisions = evaluate_batch(
                cw.contract,
                [_invoice(iw, contract_id) for iw in batch],
                as_of=as_of,
                channel=_CHANNEL,
                settings=settings,
                explain=explain,
                catalogue=catalogue,
                fast_path=fast,
            )
            for iw, decision in zip(batch, decisions, strict=True):
                lines = decision.lines
                if len(lines) == 1:  # most invoices of a bulk file
                    pairs: Iterable[tuple[int, LineDecision]] = ((iw.rows[0], lines[0]),)
                else:
                    pairs = zip(iw.rows, lines, strict=True)
                for index, ld in pairs:
                    result = results[index]
                    if keep_all or ld.outcome != "allowed" or result.warnings:
                        outcomes[index] = _decided(result, contract_id, iw, ld)
                    else:
                        plain.append(ld)
        rows = tuple(o for o in outcomes if o is not None)
        assert len(rows) + len(plain) == n, "every row gets exactly one outcome"
        return ClaimsReport(rows, _summary(rows, len(work), invoices, plain))


def _cell(result: BprResult, position: int) -> str:
    return result.cells[position].strip() if len(result.cells) > position else ""


def _reader_notes(
    issues: Iterable[BprIssue], code: FileCode, severity: Severity
) -> tuple[RowNote, ...]:
    return tuple(RowNote(code, severity, str(i)) for i in issues)


def _rejected(result: BprResult) -> RowOutcome:
    errors = result.errors or (BprIssue(result.row_number, "", "the row could not be read"),)
    issues = (*errors, *result.warnings)
    codes = (BPR_INVALID_ROW, BPR_ROW_WARNING) if result.warnings else (BPR_INVALID_ROW,)
    return RowOutcome(
        row=result.row_number,
        participant=_cell(result, 1),
        claim_reference=_cell(result, 5),
        item=_cell(result, 4),
        service_from=_cell(result, 2),
        service_to=_cell(result, 3),
        amount=None,
        outcome="error",
        codes=codes,
        notes=(
            *_reader_notes(errors, BPR_INVALID_ROW, "error"),
            *_reader_notes(result.warnings, BPR_ROW_WARNING, "warning"),
        ),
        issues=issues,
    )


def _provider_of(row: BprRow) -> str:
    return row.abn or row.registration_number


def _no_contract(result: BprResult, row: BprRow) -> RowOutcome:
    message = (
        f"row {result.row_number}: no contract for participant {row.ndis_number}: "
        "the NDIA would reject the line (C22, no plan covers the support dates)"
    )
    codes: tuple[ReportCode, ...] = (NO_CONTRACT_FOR_PARTICIPANT,)
    if result.warnings:
        codes += (BPR_ROW_WARNING,)
    return RowOutcome(
        row=result.row_number,
        participant=row.ndis_number,
        claim_reference=row.claim_reference,
        item=row.support_number,
        service_from=row.supports_delivered_from.isoformat(),
        service_to=row.supports_delivered_to.isoformat(),
        amount=row.amount,
        outcome="error",
        codes=codes,
        notes=(
            RowNote(NO_CONTRACT_FOR_PARTICIPANT, "error", message),
            *_reader_notes(result.warnings, BPR_ROW_WARNING, "warning"),
        ),
        provider=_provider_of(row),
        issues=result.warnings,
    )


def _category_guess(row: BprRow, catalogue: CatalogueContext | None) -> str:
    if catalogue is not None:
        pace = catalogue.catalogue.pace_category(row.support_number, row.supports_delivered_from)
        if pace is not None:
            return pace
    return row.support_number[:2]


def _add_line(
    cw: _ContractWork,
    index: int,
    result: BprResult,
    row: BprRow,
    catalogue: CatalogueContext | None,
) -> None:
    provider = row.abn or row.registration_number  # _provider_of
    reference = row.claim_reference
    iw = cw.invoices.get((provider, reference))
    if iw is None:
        iw = cw.invoices[provider, reference] = _InvoiceWork(
            f"bpr:{provider}:{reference}", reference, provider, row.ndis_number
        )
    category = row.support_number[:2] if catalogue is None else _category_guess(row, catalogue)
    held = cw.held.get(category)
    # BPR lines are plan-managed claims, unless the contract holds the category only under
    # another management type: then the engine picks the contract's own.
    management: ManagementType | None = "plan" if not held or "plan" in held else None
    line_id = str(result.row_number)
    line_ids = iw.line_ids
    if line_id in line_ids:  # rows of several files given together
        line_id = f"{line_id}#{index}"
    line_ids.add(line_id)
    quantity = row.quantity
    if quantity is None:  # row.units
        quantity = row.units
    exponent = quantity.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -DECIMAL_MAX_DIGITS:
        # Every value is already what ClaimLine's validators would return for it (the same
        # objects): the reader parsed and bounded them, the id is unique and not empty. Only a
        # quantity written with more decimal places than ClaimLine takes (``1.0000000000``)
        # is not, and goes through validation below as before.
        line = built_model(
            ClaimLine,
            {
                "id": line_id,
                "from_": row.supports_delivered_from,
                "to": row.supports_delivered_to,
                "item": row.support_number,
                "category": None,
                "quantity": quantity,
                "unit_price": row.unit_price,
                "amount": None,
                "management": management,
                "claim_type": row.claim_type,
                "cancellation_reason": row.cancellation_reason or None,
                "gst_code": row.gst_code,
            },
            set(_LINE_FIELDS_SET),
        )
    else:
        line = ClaimLine.model_validate(
            {
                "id": line_id,
                "from": row.supports_delivered_from,
                "to": row.supports_delivered_to,
                "item": row.support_number,
                "quantity": quantity,
                "unit_price": row.unit_price,
                "management": management,
                "claim_type": row.claim_type,
                "cancellation_reason": row.cancellation_reason or None,
                "gst_code": row.gst_code,
            }
        )
    iw.lines.append(line)
    iw.rows.append(index)


#: the fields ``ClaimLine.model_validate`` of a BPR line's dict would mark as set
_LINE_FIELDS_SET: Final = frozenset(
    {
        "id",
        "from_",
        "to",
        "item",
        "quantity",
        "unit_price",
        "management",
        "claim_type",
        "cancellation_reason",
        "gst_code",
    }
)
_INVOICE_FIELDS_SET: Final = frozenset(
    {"id", "number", "contract_id", "participant", "provider", "lines"}
)


def _invoice(iw: _InvoiceWork, contract_id: str) -> Invoice:
    # what Invoice.model_validate of these values returns (a test compares them): the id and
    # provider are not empty, there is a line and the line ids are unique (``_add_line``)
    return built_model(
        Invoice,
        {
            "id": iw.id,
            "number": iw.number,
            "contract_id": contract_id,
            "participant": iw.participant,
            "provider": iw.provider,
            "management": None,
            "lines": tuple(iw.lines),
        },
        set(_INVOICE_FIELDS_SET),
    )


def _decided(result: BprResult, contract_id: str, iw: _InvoiceWork, ld: LineDecision) -> RowOutcome:
    row = result.row
    assert row is not None
    findings = ld.findings
    outcome = ld.outcome
    codes: tuple[ReportCode, ...]
    notes: tuple[RowNote, ...]
    if findings:
        codes = tuple(f.code for f in findings)  # ld.codes
        notes = tuple(RowNote(f.code, f.severity, f.message) for f in findings)
    else:
        codes = notes = ()
    warnings = result.warnings
    if warnings:
        codes += (BPR_ROW_WARNING,)
        notes += _reader_notes(warnings, BPR_ROW_WARNING, "warning")
        if outcome == "allowed":  # outcome_of((outcome, "warning"))
            outcome = "warning"
    return _outcome(
        _RowOutcomeDraft(
            result.row_number,
            row.ndis_number,
            row.claim_reference,
            row.support_number,
            ld.amount,
            outcome,
            codes,
            notes,
            ld.draws,
            contract_id,
            iw.provider,
            iw.id,
            warnings,
            ld,
            _iso(row.supports_delivered_from),
            _iso(row.supports_delivered_to),
        )
    )


#: ISO texts of the service dates seen (a book has a few hundred distinct days)
_ISO_DAYS: dict[date, str] = {}


def _iso(day: date) -> str:
    text = _ISO_DAYS.get(day)
    if text is None:
        if len(_ISO_DAYS) >= 100_000:
            _ISO_DAYS.clear()
        text = _ISO_DAYS[day] = day.isoformat()
    return text


_RANK: Final[Mapping[str, int]] = {"info": 0, "warning": 1, "error": 2}


def _summary(
    rows: Sequence[RowOutcome],
    contracts: int,
    invoices: int,
    plain: Sequence[LineDecision] = (),
) -> ClaimsSummary:
    """The summary of ``rows`` and of the ``plain`` rows (allowed, no reader warning) known
    only by their line decisions: each of those counts as the row :func:`_decided` would make
    of it (allowed, the decision's codes, findings and amount)."""
    allowed = warnings = errors = 0
    by_code: dict[str, int] = {}
    severities: dict[str, Severity] = {}
    claimable = 0
    rank = _RANK
    for r in rows:
        outcome = r.outcome
        if outcome == "error":
            errors += 1
        else:
            if outcome == "allowed":
                allowed += 1
            else:
                warnings += 1
            if r.amount is not None:
                claimable += r.amount.cents
        if r.codes:
            for code in set(r.codes):
                by_code[code] = by_code.get(code, 0) + 1
        for note in r.notes:
            code, severity = note.code, note.severity
            known = severities.get(code)
            if known is None or rank[severity] > rank[known]:
                severities[code] = severity
    for ld in plain:
        allowed += 1
        claimable += ld.amount.cents
        findings = ld.findings
        if findings:
            for code in {f.code for f in findings}:
                by_code[code] = by_code.get(code, 0) + 1
            for f in findings:
                code, severity = f.code, f.severity
                known = severities.get(code)
                if known is None or rank[severity] > rank[known]:
                    severities[code] = severity
    return ClaimsSummary(
        lines=len(rows) + len(plain),
        allowed=allowed,
        warnings=warnings,
        errors=errors,
        by_code=dict(sorted(by_code.items())),
        severities=dict(sorted(severities.items())),
        claimable=Money(claimable),
        contracts=contracts,
        invoices=invoices,
    )


def summarise(rows: Sequence[RowOutcome], contracts: int, invoices: int) -> ClaimsSummary:
    """The summary of some rows (``contracts`` and ``invoices``: how many they were checked
    against and grouped into); summaries of disjoint rows add up."""
    return _summary(rows, contracts, invoices)


class ContractRun:
    """One contract's rows checked an invoice (or part of one) at a time, with the decisions
    :meth:`ClaimsBook.check` gives: for a participant with more rows than fit in memory.

    :meth:`ClaimsBook.check` groups a contract's rows into invoices by (provider, claim
    reference) in order of first appearance and decides them in that order against one ledger.
    Give :meth:`check` the same invoices in the same order (each invoice's rows in file order,
    whole or in consecutive parts): ``invoices`` are all their (provider, claim reference)
    keys, known before the first call (see :meth:`ClaimsBook.place`). ``fast_path`` as in
    :func:`check_claims`.
    """

    __slots__ = ("_catalogue", "_contract", "_entered", "_held", "_run")

    def __init__(
        self,
        book: ClaimsBook,
        contract: Contract,
        invoices: Iterable[tuple[str, str]],
        *,
        as_of: date,
        settings: Settings | None = None,
        catalogue: CatalogueContext | None = None,
        explain: bool = False,
        fast_path: bool | FastPathStats | None = None,
    ) -> None:
        self._contract = contract
        self._held = book.held(contract)
        self._catalogue = catalogue
        self._entered = False
        self._run = BatchRun(
            contract,
            [f"bpr:{provider}:{reference}" for provider, reference in invoices],
            as_of=as_of,
            channel=_CHANNEL,
            settings=settings,
            explain=explain,
            catalogue=catalogue,
            fast_path=fast_path_default() if fast_path is None else fast_path,
        )

    def check(
        self, results: Sequence[BprResult], *, first: bool = True, last: bool = True
    ) -> list[RowOutcome]:
        """The outcomes of the rows of one invoice (``first``/``last``: this part starts / ends
        it), in the order given. Every row must be placed on this contract and invoice."""
        cw = _ContractWork(self._contract, self._held)
        for index, result in enumerate(results):
            assert result.row is not None
            _add_line(cw, index, result, result.row, self._catalogue)
        if not cw.invoices:
            return []
        (iw,) = cw.invoices.values()
        invoice = _invoice(iw, self._contract.id)
        if first and last:
            lines = list(self._run.invoice(invoice).lines)
        else:
            if first:
                self._entered = False
            lines = self._run.lines(invoice)
            self._entered = self._entered or any(ld.outcome != "error" for ld in lines)
            if last:
                self._run.close(invoice, entered=self._entered)
        return [
            _decided(results[index], self._contract.id, iw, ld)
            for index, ld in zip(iw.rows, lines, strict=True)
        ]


def check_claims(
    results: Sequence[BprResult],
    contracts: Sequence[Contract],
    *,
    as_of: date,
    settings: Settings | None = None,
    catalogue: CatalogueContext | None = None,
    explain: bool = False,
    fast_path: bool | FastPathStats | None = None,
    keep: Keep = "all",
) -> ClaimsReport:
    """Validate every row of a bulk payment request against the participants' contracts.

    Args:
        results: :func:`~ndis_rules.files.bpr.read_bpr`'s results, one per data row, in file order.
        contracts: the contracts of the participants (any order; each with its ``participant``).
        as_of: today.
        settings: validation settings (``support_item_overdraw_is_error`` is forced on by the
            ``bulk_import`` channel).
        catalogue: the Support Catalogue, region and holidays, for the section 8 checks.
        explain: keep each line's rule trace.
        fast_path: decide plain lines on the fast path (:mod:`ndis_rules.rules.fast`), the
            others with the exact engine, in file order: the report is identical either way.
            ``None``: :func:`fast_path_default` (on). A :class:`FastPathStats` turns it on and
            counts the lines it decided.
        keep: ``"all"`` (default): every row; ``"flagged"``: only the rows that are errors
            or warnings (a report that shows no allowed row need not build them); the summary
            counts every row either way.

    Returns:
        One :class:`RowOutcome` per result (with ``keep="flagged"``: per flagged result), in
        the same order, and the summary.

    Raises:
        InputError: two contracts with the same id.
    """
    with gc_paused():
        return ClaimsBook(contracts).check(
            results,
            as_of=as_of,
            settings=settings,
            catalogue=catalogue,
            explain=explain,
            fast_path=fast_path,
            keep=keep,
        )
