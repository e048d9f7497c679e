"""The plan manager's book, its pure part (spec/book.md): the claim line lifecycle, the money each
state draws or releases, the NDIA results file read from text and matched to submitted lines,
rejection reasons mapped to our rule codes, and the per-budget report with its forecast.

Nothing here reads a file, a database or the clock: the operations that read the store, call
these functions and write once are :mod:`ndis_rules.services.book`; the stores are
:mod:`ndis_rules.adapters.book_sqlite` and :mod:`ndis_rules.adapters.book_memory`.

Lifecycle of a claim line, keyed by (provider, claim reference, line number within that
reference)::

    (checked) -> recorded -> submitted -> paid
                     |           |----> rejected -> recorded (corrected, same key)
                     |           '----> cancelled
                     '----> cancelled -> recorded

Examples:
    >>> can_move(None, "recorded"), can_move("recorded", "paid"), can_move("paid", "cancelled")
    (True, False, False)
    >>> drawn_by("submitted", Money.parse("100.00"), None), drawn_by("rejected", Money(10000), None)
    (Money('100.00'), Money('0.00'))
    >>> drawn_by("paid", Money.parse("100.00"), Money.parse("90.00"))  # capped: 10.00 released
    Money('90.00')
    >>> LineKey.parse("51824753556/INV-1/2")
    LineKey(provider='51824753556', reference='INV-1', number=2)
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from .codes import CODES
from .errors import BookRefused, InputError, LifecycleError
from .models import Contract, DeliveredService
from .money import Money
from .outcomes import BudgetRef, Draw

__all__ = [
    "ALLOWED_MOVES",
    "LIVE_STATES",
    "BookChanges",
    "BookLine",
    "BookRefused",
    "BookSnapshot",
    "BookingRecord",
    "BudgetRow",
    "ChangeSetRecord",
    "CheckBatch",
    "HistoryEntry",
    "JournalEntry",
    "LifecycleError",
    "LineKey",
    "LineState",
    "PlanSnapshot",
    "ResultRow",
    "ResultsMatch",
    "UploadFile",
    "can_move",
    "digest",
    "drawn_by",
    "line_keys",
    "map_rejection",
    "match_results",
    "move",
    "parse_results",
    "release_in",
    "report_rows",
    "settle_paid_in",
]

LineState = Literal["recorded", "submitted", "paid", "rejected", "cancelled"]

#: Which state a line may move to from which (``None``: a line the book does not hold yet, i.e.
#: one that was only *checked*). A rejected or cancelled line may be recorded again under the
#: same key (corrected); a paid line is final.
ALLOWED_MOVES: Final[Mapping[LineState | None, frozenset[LineState]]] = {
    None: frozenset({"recorded"}),
    "recorded": frozenset({"submitted", "cancelled"}),
    "submitted": frozenset({"paid", "rejected", "cancelled"}),
    "paid": frozenset(),
    "rejected": frozenset({"recorded"}),
    "cancelled": frozenset({"recorded"}),
}
#: States whose line holds money (recording the same key again changes nothing).
LIVE_STATES: Final = frozenset({"recorded", "submitted", "paid"})


def can_move(current: LineState | None, to: LineState) -> bool:
    """Whether a line in ``current`` may move to ``to`` (see :data:`ALLOWED_MOVES`)."""
    return to in ALLOWED_MOVES[current]


def drawn_by(state: LineState | None, amount: Money, paid: Money | None) -> Money:
    """The money a line in ``state`` draws from its budgets: recorded and submitted lines their
    amount, a paid line what was paid (a capped line's difference is released), rejected,
    cancelled and merely checked lines nothing."""
    match state:
        case "recorded" | "submitted":
            return amount
        case "paid":
            return paid if paid is not None else amount
        case "rejected" | "cancelled" | None:
            return Money(0)


def digest(*parts: str | bytes) -> str:
    """The SHA-256 of the parts (each length-prefixed), hex: a digest of an operation's inputs."""
    h = hashlib.sha256()
    for p in parts:
        data = p.encode() if isinstance(p, str) else p
        h.update(str(len(data)).encode() + b":" + data)
    return h.hexdigest()


# -- keys, lines, history -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True, order=True)
class LineKey:
    """A claim line's key: the provider (ABN, else registration number), the claim reference, and
    the line's number among that provider's rows with that reference (1-based, in file order)."""

    provider: str
    reference: str
    number: int

    @property
    def text(self) -> str:
        """``provider/reference/number`` (a reference may hold ``/``: the provider is the first
        part and the number the last)."""
        return f"{self.provider}/{self.reference}/{self.number}"

    @classmethod
    def parse(cls, text: str) -> LineKey:
        """The key written as ``provider/reference/number``.

        Raises:
            InputError: not three parts with a whole number last.
        """
        provider, _, rest = text.strip().partition("/")
        reference, _, number = rest.rpartition("/")
        if not provider or not reference or not number.isdigit() or int(number) < 1:
            raise InputError(
                f"a claim line key is PROVIDER/CLAIM-REFERENCE/LINE-NUMBER, got {text!r}",
                loc=("line_key",),
            )
        return cls(provider, reference, int(number))


def line_keys(pairs: Iterable[tuple[str, str]]) -> list[LineKey]:
    """One key per (provider, claim reference), numbering repeats of the pair in order.

    Examples:
        >>> [k.text for k in line_keys([("P", "A"), ("P", "B"), ("P", "A"), ("Q", "A")])]
        ['P/A/1', 'P/B/1', 'P/A/2', 'Q/A/1']
    """
    seen: dict[tuple[str, str], int] = {}
    out: list[LineKey] = []
    for provider, reference in pairs:
        n = seen.get((provider, reference), 0) + 1
        seen[(provider, reference)] = n
        out.append(LineKey(provider, reference, n))
    return out


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One move of a line: the state it reached, when (ISO date-time), the operation, a note."""

    state: LineState
    at: str
    operation: str
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"state": self.state, "at": self.at, "operation": self.operation, "note": self.note}


@dataclass(frozen=True, slots=True)
class BookLine:
    """A claim line the book holds, with its state, money and history.

    Attributes:
        key: provider / claim reference / line number.
        participant: NDIS number.
        contract_id: the contract it draws on.
        state: where it is in its lifecycle.
        amount: the amount claimed (quantity x unit price).
        item, from_, to: the support item and service dates (for matching results rows).
        cells: the bulk payment request row as read (16 cells): what is uploaded.
        delivered_ids: the contract's delivered services this line became.
        batch_id, row: the check that recorded it (its stored inputs) and the line's row there.
        outcome, codes: the check's outcome and rule codes.
        draws: the budgets the amount was charged to.
        attempt: how many times the key was recorded (a corrected line is recorded again).
        bpr_file: the upload file it was written into.
        paid_amount, capped: what the NDIA paid, and whether it capped the price.
        ndia_reason, ndia_code, rule_code, fix: a rejection's reason, the NDIA code in it, our
            rule code that prevents it and what to do (where one exists).
        history: every move, oldest first.
    """

    key: LineKey
    participant: str
    contract_id: str
    state: LineState
    amount: Money
    item: str
    from_: date
    to: date
    cells: tuple[str, ...]
    delivered_ids: tuple[str, ...] = ()
    batch_id: str = ""
    row: int = 0
    outcome: str = "allowed"
    codes: tuple[str, ...] = ()
    draws: tuple[Draw, ...] = ()
    attempt: int = 1
    bpr_file: str | None = None
    paid_amount: Money | None = None
    capped: bool = False
    ndia_reason: str | None = None
    ndia_code: str | None = None
    rule_code: str | None = None
    fix: str | None = None
    history: tuple[HistoryEntry, ...] = ()

    @property
    def drawn(self) -> Money:
        """The money this line draws now (:func:`drawn_by`)."""
        return drawn_by(self.state, self.amount, self.paid_amount)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as strings); :meth:`from_dict` reads it back."""
        return {
            "key": self.key.text,
            "provider": self.key.provider,
            "reference": self.key.reference,
            "number": self.key.number,
            "participant": self.participant,
            "contract_id": self.contract_id,
            "state": self.state,
            "amount": str(self.amount),
            "item": self.item,
            "from": self.from_.isoformat(),
            "to": self.to.isoformat(),
            "cells": list(self.cells),
            "delivered_ids": list(self.delivered_ids),
            "batch_id": self.batch_id,
            "row": self.row,
            "outcome": self.outcome,
            "codes": list(self.codes),
            "draws": [{**d.to_dict(), "category": d.ref.category} for d in self.draws],
            "attempt": self.attempt,
            "bpr_file": self.bpr_file,
            "paid_amount": str(self.paid_amount) if self.paid_amount is not None else None,
            "capped": self.capped,
            "ndia_reason": self.ndia_reason,
            "ndia_code": self.ndia_code,
            "rule_code": self.rule_code,
            "fix": self.fix,
            "history": [h.to_dict() for h in self.history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BookLine:
        """The line from :meth:`to_dict`'s form."""
        paid = data.get("paid_amount")
        return cls(
            key=LineKey(str(data["provider"]), str(data["reference"]), int(data["number"])),
            participant=str(data["participant"]),
            contract_id=str(data["contract_id"]),
            state=data["state"],
            amount=Money.parse(data["amount"]),
            item=str(data["item"]),
            from_=date.fromisoformat(data["from"]),
            to=date.fromisoformat(data["to"]),
            cells=tuple(data["cells"]),
            delivered_ids=tuple(data.get("delivered_ids", ())),
            batch_id=str(data.get("batch_id", "")),
            row=int(data.get("row", 0)),
            outcome=str(data.get("outcome", "allowed")),
            codes=tuple(data.get("codes", ())),
            draws=tuple(_draw_from_dict(d) for d in data.get("draws", ())),
            attempt=int(data.get("attempt", 1)),
            bpr_file=data.get("bpr_file"),
            paid_amount=Money.parse(paid) if paid is not None else None,
            capped=bool(data.get("capped", False)),
            ndia_reason=data.get("ndia_reason"),
            ndia_code=data.get("ndia_code"),
            rule_code=data.get("rule_code"),
            fix=data.get("fix"),
            history=tuple(
                HistoryEntry(h["state"], h["at"], h["operation"], h.get("note", ""))
                for h in data.get("history", ())
            ),
        )


def move(
    line: BookLine, to: LineState, *, at: str, operation: str, note: str = "", **changes: Any
) -> BookLine:
    """The line moved to ``to`` with one more history entry (and the given field changes).

    Raises:
        LifecycleError: the lifecycle does not allow the move.
    """
    if not can_move(line.state, to):
        raise LifecycleError(f"claim line {line.key.text} is {line.state}: it cannot become {to}")
    entry = HistoryEntry(to, at, operation, note)
    return replace(line, state=to, history=(*line.history, entry), **changes)


# -- money on the contract: release and settle --------------------------------------------------
def release_in(contract: Contract, line: BookLine) -> Contract:
    """The contract with the line's delivered services cancelled (their draws released); the
    version is left to the store."""
    ids = set(line.delivered_ids)
    delivered = tuple(
        d.model_copy(update={"status": "cancelled"}) if d.id in ids else d
        for d in contract.delivered
    )
    return contract.model_copy(update={"delivered": delivered})


def settle_paid_in(contract: Contract, line: BookLine, paid: Money) -> Contract:
    """The contract with the line's delivered services marked paid, their amounts brought down to
    what was paid (a capped price's difference released, taken from the last part first)."""
    ids = [d.id for d in contract.delivered if d.id in set(line.delivered_ids)]
    excess = max(line.amount.cents - paid.cents, 0)
    new_amounts: dict[str, int] = {}
    by_id = {d.id: d for d in contract.delivered}
    for ds_id in reversed(ids):
        cents = by_id[ds_id].amount.cents
        cut = min(cents, excess)
        excess -= cut
        new_amounts[ds_id] = cents - cut
    delivered: list[DeliveredService] = []
    for d in contract.delivered:
        if d.id in new_amounts:
            delivered.append(
                d.model_copy(update={"paid": True, "amount": Money(new_amounts[d.id])})
            )
        else:
            delivered.append(d)
    return contract.model_copy(update={"delivered": tuple(delivered)})


# -- stored inputs ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlanSnapshot:
    """A PACE plan payload as read: raw text, the mapped plan (JSON), when, and its digest."""

    id: str
    plan_id: str
    participant: str
    read_at: str
    digest: str
    raw: str
    mapped: str


@dataclass(frozen=True, slots=True)
class ChangeSetRecord:
    """A saved sync preview: its id, the contract version and plan snapshot it was built from,
    and the change set itself (JSON)."""

    id: str
    contract_id: str
    contract_version: int
    snapshot_id: str
    created_at: str
    body: str
    applied_at: str | None = None


@dataclass(frozen=True, slots=True)
class CheckBatch:
    """Everything a bulk check decided from, kept so a recorded line can be replayed: the rows
    checked (row number, cells), the contract versions, settings, catalogue identity, *today*
    and the tool version."""

    id: str
    source: str
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    contract_versions: Mapping[str, int]
    settings: str
    catalogue: Mapping[str, str]
    today: date
    tool_version: str

    def to_json(self) -> str:
        """The batch as JSON text (:meth:`from_json` reads it back)."""
        return json.dumps(
            {
                "id": self.id,
                "source": self.source,
                "rows": [[n, list(c)] for n, c in self.rows],
                "contract_versions": dict(self.contract_versions),
                "settings": self.settings,
                "catalogue": dict(self.catalogue),
                "today": self.today.isoformat(),
                "tool_version": self.tool_version,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> CheckBatch:
        """The batch from :meth:`to_json`'s text."""
        d = json.loads(text)
        return cls(
            id=d["id"],
            source=d["source"],
            rows=tuple((int(n), tuple(c)) for n, c in d["rows"]),
            contract_versions={k: int(v) for k, v in d["contract_versions"].items()},
            settings=d["settings"],
            catalogue=dict(d["catalogue"]),
            today=date.fromisoformat(d["today"]),
            tool_version=d["tool_version"],
        )


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One operation: what, when, the tool version, a digest of its inputs, the ids it touched,
    its outcome. ``seq`` is given by the store (0 before it is appended)."""

    operation: str
    at: str
    tool_version: str
    inputs_digest: str
    ids: tuple[str, ...]
    outcome: str
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "seq": self.seq,
            "operation": self.operation,
            "at": self.at,
            "tool_version": self.tool_version,
            "inputs_digest": self.inputs_digest,
            "ids": list(self.ids),
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """A PRODA service booking id held against the budget (or support item) it funds."""

    booking_id: str
    contract_id: str
    budget: str
    item: str | None = None
    recorded_at: str = ""


@dataclass(frozen=True, slots=True)
class UploadFile:
    """A bulk payment request file written by a submission, kept so it can be written again."""

    name: str
    submission: str
    text: str


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """What an operation reads: the book's version, its contracts and its claim lines."""

    version: int
    contracts: Mapping[str, Contract]
    lines: Mapping[LineKey, BookLine]


@dataclass(frozen=True, slots=True)
class BookChanges:
    """Everything one operation writes, in one transaction, with its journal entry.

    ``contracts`` pairs each contract as it is to be stored with the version the store must
    still hold (``None``: the contract must be new); the stored contract keeps the version it
    carries (the caller sets ``expected + 1``).
    """

    journal: JournalEntry
    contracts: tuple[tuple[Contract, int | None], ...] = ()
    lines: tuple[BookLine, ...] = ()
    snapshots: tuple[PlanSnapshot, ...] = ()
    change_sets: tuple[ChangeSetRecord, ...] = ()
    batches: tuple[CheckBatch, ...] = ()
    bookings: tuple[BookingRecord, ...] = ()
    uploads: tuple[UploadFile, ...] = ()


# -- the NDIA results file ------------------------------------------------------------------------
def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


#: Known spellings of the results file's columns (case, spaces, underscores, hyphens ignored).
RESULT_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "claim_reference": ("claimreference", "refdocno", "claimref"),
    "ndis_number": ("ndisnumber", "participant", "participantndisnumber"),
    "support_number": ("supportnumber", "productcategoryitem", "supportitemnumber"),
    "from": ("supportsdeliveredfrom", "startdate", "servicestartdate"),
    "to": ("supportsdeliveredto", "enddate", "serviceenddate"),
    "status": ("paymentrequeststatus", "status", "claimstatus"),
    "paid": ("paidtotalamount", "paidamount", "amountpaid", "totalpaid"),
    "capped": ("cappedprice", "pricecapped", "capped"),
    "reason": ("errormessage", "rejectionreason", "reason", "message", "error"),
    "abn": ("abnofsupportprovider", "abnprovider", "abn"),
    "registration": ("registrationnumber",),
}
_REQUIRED: Final = ("claim_reference", "ndis_number", "support_number", "from", "to", "status")
_NDIA_CODE: Final = re.compile(r"^\s*([A-Z]\d{2})\b")
_YES: Final = frozenset({"y", "yes", "true", "1"})
_NO: Final = frozenset({"", "n", "no", "false", "0"})


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One row of the NDIA's results file, or the problems that kept it from being read."""

    row: int
    claim_reference: str
    ndis_number: str
    support_number: str
    from_: date | None
    to: date | None
    status: str
    paid: Money | None
    capped: bool
    reason: str
    abn: str = ""
    registration: str = ""
    problems: tuple[str, ...] = ()


def _result_date(text: str) -> date:
    from .bpr import parse_bpr_date  # the BPR reader's date rules (three layouts, no guessing)

    return parse_bpr_date(text)


def parse_results(text: str, source: str = "<results>") -> list[ResultRow]:
    """Read the NDIA's bulk payment results file by header name: one :class:`ResultRow` per
    data row (a row that cannot be read keeps its problems, naming the row and column).

    Raises:
        InputError: empty, or a header without the columns a row is matched by.
    """
    records = list(csv.reader(text.removeprefix("\ufeff").splitlines()))
    records = [r for r in records if any(c.strip() for c in r)]
    if not records:
        raise InputError("the results file is empty", source=source)
    header = [_norm(c) for c in records[0]]
    where: dict[str, int] = {}
    for name, spellings in RESULT_COLUMNS.items():
        for i, h in enumerate(header):
            if h in spellings:
                where.setdefault(name, i)
    missing = [n for n in _REQUIRED if n not in where]
    if missing:
        raise InputError(
            "the results file has no column for "
            + ", ".join(missing)
            + " (columns are read by name; see docs/workflow.md)",
            source=source,
        )
    out: list[ResultRow] = []
    for number, record in enumerate(records[1:], start=2):

        def cell(name: str, record: list[str] = record) -> str:
            i = where.get(name)
            return record[i].strip() if i is not None and i < len(record) else ""

        problems: list[str] = []
        dates: list[date | None] = []
        for name in ("from", "to"):
            try:
                dates.append(_result_date(cell(name)))
            except (ValueError, InputError) as exc:
                problems.append(f"row {number}, {name}: {exc}")
                dates.append(None)
        status = cell("status").upper()
        if status not in {"SUCCESSFUL", "ERROR"}:
            problems.append(
                f"row {number}, Payment Request Status: expected SUCCESSFUL or ERROR, got "
                f"{cell('status')!r}"
            )
        paid: Money | None = None
        paid_text = cell("paid").replace("$", "").replace(",", "")
        if paid_text:
            try:
                paid = Money.parse(paid_text)
            except (ValueError, InvalidOperation, InputError):
                problems.append(f"row {number}, Paid Total Amount: not an amount: {paid_text!r}")
        capped_text = cell("capped").lower()
        if capped_text in _YES:
            capped = True
        elif capped_text in _NO:
            capped = False
        else:
            try:  # a price in the column: the capped price the NDIA paid at
                capped = Decimal(capped_text.replace("$", "")) > 0
            except InvalidOperation:
                problems.append(f"row {number}, Capped Price: expected Y or N, got {capped_text!r}")
                capped = False
        if status == "SUCCESSFUL" and paid is None and not problems:
            problems.append(f"row {number}, Paid Total Amount: missing on a SUCCESSFUL row")
        out.append(
            ResultRow(
                row=number,
                claim_reference=cell("claim_reference"),
                ndis_number=cell("ndis_number"),
                support_number=cell("support_number"),
                from_=dates[0],
                to=dates[1],
                status=status,
                paid=paid,
                capped=capped,
                reason=cell("reason"),
                abn=cell("abn"),
                registration=cell("registration"),
                problems=tuple(problems),
            )
        )
    return out


#: Fixes for NDIA rejection codes the rules cannot prevent (no rule code of ours).
NDIA_FIXES: Final[Mapping[str, str]] = {
    "A01": "read the full reason; correct the line and record it again",
    "C12": "add the claim reference (invoice number) and record the line again",
    "C13": "add the unit of measure (quantity or hours) and record the line again",
    "C14": "the provider has no active bank account with the NDIA: ask them to update it",
    "C15": "the provider is not registered for this item: check the item number",
    "C18": "claim at item level (the budget is not self-managed)",
    "C19": "claim at budget level only (the budget is self-managed)",
}


def map_rejection(reason: str) -> tuple[str | None, str | None, str | None]:
    """The NDIA code at the start of a rejection reason, our rule code that prevents it (where
    one exists) and what to do.

    Examples:
        >>> map_rejection("C20 - Amount must be greater than zero")
        ('C20', 'INVALID_LINE', 'ndis-rules checks this as INVALID_LINE (validation.md §1): correct the line, check it again and record it')
        >>> map_rejection("C14: no active bank account")[1:]
        (None, 'the provider has no active bank account with the NDIA: ask them to update it')
        >>> map_rejection("something else")
        (None, None, None)
    """  # noqa: E501
    m = _NDIA_CODE.match(reason)
    if m is None:
        return None, None, None
    code = m.group(1)
    for rule, spec in CODES.items():
        if spec.ndia_rejection and code in spec.ndia_rejection.split("/"):
            return (
                code,
                rule,
                (
                    f"ndis-rules checks this as {rule} ({spec.source}): correct the line, check it "
                    "again and record it"
                ),
            )
    return code, None, NDIA_FIXES.get(code)


@dataclass(frozen=True, slots=True)
class ResultsMatch:
    """How one results row met the book: ``matched`` (one submitted line), ``already`` (the line
    already carries this result: nothing changes), ``unmatched`` (no submitted line),
    ``ambiguous`` (several), or ``unreadable`` (the row's problems)."""

    row: ResultRow
    kind: Literal["matched", "already", "unmatched", "ambiguous", "unreadable"]
    keys: tuple[LineKey, ...] = ()


def _settled_same(line: BookLine, row: ResultRow) -> bool:
    if row.status == "SUCCESSFUL":
        return line.state == "paid" and line.paid_amount == row.paid
    return line.state == "rejected" and (line.ndia_reason or "") == row.reason


def _result_of(row: ResultRow) -> tuple[str, Money | None, bool, str]:
    return (row.status, row.paid, row.capped, row.reason if row.status == "ERROR" else "")


def match_results(rows: Sequence[ResultRow], lines: Iterable[BookLine]) -> list[ResultsMatch]:
    """Match each results row to a submitted line by claim reference, NDIS number, item and
    dates (and the provider, when the file names one).

    Rows and lines that agree on all of these are indistinguishable: when as many rows as
    submitted lines share them and every one of those rows carries the same result, they are
    paired in key order (which line gets which identical result changes nothing); otherwise
    each of those rows is ``ambiguous``. A row whose lines are no longer submitted but already
    carry its result is ``already`` (the same file applied again); else it is ``unmatched``.
    """
    index: dict[tuple[str, str, str, date, date], list[BookLine]] = {}
    for line in sorted(lines, key=lambda x: x.key):
        k = (line.key.reference, line.participant, line.item, line.from_, line.to)
        index.setdefault(k, []).append(line)
    groups: dict[tuple[Any, ...], list[ResultRow]] = {}
    out: dict[int, ResultsMatch] = {}
    for i, row in enumerate(rows):
        if row.problems or row.from_ is None or row.to is None:
            out[i] = ResultsMatch(row, "unreadable")
            continue
        gk = (
            row.claim_reference,
            row.ndis_number,
            row.support_number,
            row.from_,
            row.to,
            row.abn,
            row.registration,
        )
        groups.setdefault(gk, []).append(row)
    position = {id(r): i for i, r in enumerate(rows)}
    for gk, group in groups.items():
        found = index.get(gk[:5], [])
        abn, registration = gk[5], gk[6]
        if abn:
            found = [f for f in found if f.key.provider in {abn, registration}]
        submitted = [f for f in found if f.state == "submitted"]
        same_result = len({_result_of(r) for r in group}) == 1
        if submitted and len(submitted) == len(group) and same_result:
            for row, line in zip(group, submitted, strict=True):
                out[position[id(row)]] = ResultsMatch(row, "matched", (line.key,))
        elif submitted:
            keys = tuple(f.key for f in submitted)
            for row in group:
                out[position[id(row)]] = ResultsMatch(row, "ambiguous", keys)
        else:
            for row in group:
                same = tuple(f.key for f in found if _settled_same(f, row))
                kind: Literal["already", "unmatched"] = "already" if same else "unmatched"
                out[position[id(row)]] = ResultsMatch(row, kind, same)
    return [out[i] for i in range(len(rows))]


# -- the report -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One row of the report: a participant's budget in one funding period (``period`` None: a
    budget without funding periods).

    ``recorded``, ``submitted`` and ``paid`` are the book's lines by state; ``earlier`` is what
    the contract held as delivered before the book (imported services and adjustments);
    ``available`` is released minus everything drawn (cumulative over the budget's periods, as
    with rollover). ``runs_out`` is the date the available amount reaches zero at the average
    daily spend of the last 8 weeks (None when nothing was spent), ``before_end`` whether that
    is before the period (or budget) ends.
    """

    participant: str
    contract_id: str
    budget: str
    period: str | None
    start: date
    end: date
    total: Money
    released: Money
    earlier: Money
    recorded: Money
    submitted: Money
    paid: Money
    available: Money
    runs_out: date | None
    before_end: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as strings)."""
        return {
            "participant": self.participant,
            "contract": self.contract_id,
            "budget": self.budget,
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total": str(self.total),
            "released": str(self.released),
            "earlier": str(self.earlier),
            "recorded": str(self.recorded),
            "submitted": str(self.submitted),
            "paid": str(self.paid),
            "available": str(self.available),
            "runs_out": self.runs_out.isoformat() if self.runs_out else None,
            "runs_out_before_end": self.before_end,
        }


FORECAST_WINDOW: Final = timedelta(weeks=8)
#: A forecast further out than this (at a tiny rate of spend) is reported as none.
FORECAST_HORIZON_DAYS: Final = 36500


@dataclass(slots=True)
class _Acc:
    earlier: int = 0
    recorded: int = 0
    submitted: int = 0
    paid: int = 0
    spent_recently: int = 0

    @property
    def drawn(self) -> int:
        return self.earlier + self.recorded + self.submitted + self.paid


def report_rows(
    contracts: Iterable[Contract], lines: Iterable[BookLine], today: date
) -> list[BudgetRow]:
    """Per participant, budget and funding period: total, released, drawn by state, available
    and the forecast, from the contracts' delivered services (what the budgets show) and the
    book's lines (which state each delivered service's line is in)."""
    state_of: dict[str, LineState] = {}
    for line in lines:
        for ds in line.delivered_ids:
            state_of[ds] = line.state
    rows: list[BudgetRow] = []
    for c in sorted(contracts, key=lambda c: (c.participant or "", c.start, c.id)):
        window_start = max(today - FORECAST_WINDOW, c.start)
        window_days = max((today - window_start).days + 1, 1)
        for b in c.budgets:
            periods = (
                [(p.id, p.start, p.end_inclusive, p.amount, p.released) for p in b.funding.periods]
                if b.funding
                else [(None, b.start or c.start, b.end_inclusive or c.end_inclusive, b.total, True)]
            )
            periods.sort(key=lambda p: p[1])
            accs = {p[0]: _Acc() for p in periods}
            for d in c.delivered:
                if d.status != "active" or d.category != b.category or d.management != b.management:
                    continue
                pid = d.period_id if b.funding else None
                if b.funding and pid not in accs:
                    pid = next((p[0] for p in periods if p[1] <= d.from_ <= p[2]), periods[-1][0])
                acc = accs[pid]
                state = state_of.get(d.id)
                if state is None:
                    acc.earlier += d.amount.cents
                elif state == "paid":
                    acc.paid += d.amount.cents
                elif state == "submitted":
                    acc.submitted += d.amount.cents
                else:
                    acc.recorded += d.amount.cents
                if window_start <= d.from_ <= today:
                    acc.spent_recently += d.amount.cents
            released_total = drawn_total = 0
            recent = sum(a.spent_recently for a in accs.values())
            for pid, start, end, amount, released_flag in periods:
                acc = accs[pid]
                released = amount.cents if released_flag and start <= today else 0
                released_total += released
                drawn_total += acc.drawn
                available = released_total - drawn_total
                runs_out: date | None = None
                if recent > 0 and start <= today <= end:
                    days = max(available, 0) * window_days // recent
                    if days <= FORECAST_HORIZON_DAYS:  # else: not in any plan's lifetime
                        runs_out = today + timedelta(days=days)
                rows.append(
                    BudgetRow(
                        participant=c.participant or "",
                        contract_id=c.id,
                        budget=b.key,
                        period=pid,
                        start=start,
                        end=end,
                        total=amount,
                        released=Money(released),
                        earlier=Money(acc.earlier),
                        recorded=Money(acc.recorded),
                        submitted=Money(acc.submitted),
                        paid=Money(acc.paid),
                        available=Money(available),
                        runs_out=runs_out,
                        before_end=runs_out is not None and runs_out < min(end, c.end_inclusive),
                    )
                )
    return rows


def snapshot_id(raw: str) -> str:
    """A plan snapshot's id: ``PS-`` and 12 hex digits of its text's digest."""
    return "PS-" + digest(raw)[:12]


def _draw_from_dict(data: Mapping[str, Any]) -> Draw:
    """A draw from its stored form: ``budget`` (``"01:plan"`` or ``"core_flexible:plan"``), the
    category it was charged in, the period and the amount."""
    budget = str(data["budget"])
    name, _, management = budget.rpartition(":")
    pool = name == "core_flexible"
    category = str(data.get("category") or ("" if pool else name))
    ref = BudgetRef(category, management, data.get("period"))
    return Draw(ref, Money.parse(data["amount"]), pool)
