"""The book's operations (spec/book.md): each reads the book once, decides with the pure core
(:mod:`ndis_rules.book`, :mod:`ndis_rules.claims`, :mod:`ndis_rules.merge`) and writes once
with the version it read. When another process wrote in between, the write is refused and the
operation is run again on what is now there (so a second run of the same work finds it done).

Examples:
    >>> from ndis_rules.adapters.book_memory import InMemoryBookStore
    >>> book = Book(InMemoryBookStore(), now=lambda: "2025-11-15T09:00:00+11:00")
    >>> c = Contract.model_validate({"id": "C1", "participant": "431234567",
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "500.00"}]})
    >>> book.import_contracts([c], source_digest="d").added
    ('C1',)
    >>> book.import_contracts([c], source_digest="d").already
    ('C1',)
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from .. import __version__
from ..book import (
    LIVE_STATES,
    BookChanges,
    BookingRecord,
    BookLine,
    BookRefused,
    BookSnapshot,
    BudgetRow,
    ChangeSetRecord,
    CheckBatch,
    HistoryEntry,
    JournalEntry,
    LineKey,
    PlanSnapshot,
    ResultsMatch,
    UploadFile,
    digest,
    line_keys,
    map_rejection,
    match_results,
    move,
    parse_results,
    release_in,
    report_rows,
    settle_paid_in,
    snapshot_id,
)
from ..bookings import store_booking_ids
from ..bpr import BprResult, read_record, write_bpr
from ..claims import ClaimsReport, RowOutcome, check_claims
from ..errors import StaleBookError, StaleContractError
from ..files import atomic
from ..itemchecks import CatalogueContext
from ..merge import ChangeSet, StaleChangeSet, apply, new_contract_from_plan, preview
from ..models import ClaimLine, Contract, Invoice, Settings
from ..money import Money
from ..outcomes import LineDecision
from ..pace import PacePlan
from ..ports import BookStore, ProdaGateway
from ..proda import Participant
from ..rules import record_invoice
from .bookings import SyncProgress, SyncReport, sync_active_plans

__all__ = [
    "Book",
    "BookingsOutcome",
    "CheckOutcome",
    "ExplainOutcome",
    "ImportOutcome",
    "PendingLine",
    "ResultsOutcome",
    "SubmitOutcome",
    "now_iso",
    "write_folder",
]

T = TypeVar("T")

#: How often an operation is run again after another process wrote first.
RETRIES: Final = 50


def now_iso() -> str:
    """Now, as an ISO date-time with its UTC offset (the journal's *when*)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """Contracts added, already in the book (the same contract was imported before, whatever
    happened to it since), and refused because the book holds a different contract under the
    id (sync it instead)."""

    added: tuple[str, ...]
    already: tuple[str, ...]
    differing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckedRow:
    """One row of a book check: its key, what the book did with it, and the check's outcome
    (``None`` for a row the book already holds)."""

    key: LineKey
    status: Literal["recorded", "already", "key_conflict", "not_recorded", "checked"]
    outcome: RowOutcome | None
    existing: BookLine | None = None


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The check's report (rows that were checked), and what the book did with every row."""

    report: ClaimsReport
    rows: tuple[CheckedRow, ...]
    batch_id: str | None

    def count(self, status: str) -> int:
        """Rows with this status."""
        return sum(1 for r in self.rows if r.status == status)


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """The submission: its id, the folder, the files written and the lines they hold."""

    submission: str | None
    folder: Path | None
    files: tuple[str, ...]
    keys: tuple[LineKey, ...]


@dataclass(frozen=True, slots=True)
class ResultsOutcome:
    """Per results row how it met the book, and the lines paid and rejected."""

    matches: tuple[ResultsMatch, ...]
    paid: tuple[LineKey, ...]
    rejected: tuple[LineKey, ...]
    lines: Mapping[LineKey, BookLine] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        """Rows of this kind."""
        return sum(1 for m in self.matches if m.kind == kind)


@dataclass(frozen=True, slots=True)
class BookingsOutcome:
    """The PRODA bookings batch run for the book's contracts, and what the book recorded: the
    booking ids new to the book, those it already held, and the contracts whose budgets or
    supports now carry a booking id they did not."""

    report: SyncReport
    recorded: tuple[BookingRecord, ...]
    already: tuple[str, ...]
    contracts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PendingLine:
    """A checked-but-unrecorded line that would fail if submitted together with the others
    (validation.md section 4): allowed (or warned) checked alone against the book, an error when
    checked in order with the pending lines before it."""

    key: LineKey
    row: int
    alone: RowOutcome
    together: RowOutcome


@dataclass(frozen=True, slots=True)
class ExplainOutcome:
    """A line replayed from its stored inputs, and checked again as of today."""

    line: BookLine
    batch: CheckBatch
    replayed: LineDecision | None
    replayed_outcome: RowOutcome | None
    same: bool
    differences: tuple[str, ...]
    today: RowOutcome | None
    changed_since: tuple[str, ...]


def _decision_text(outcome: str, codes: Sequence[str], draws: Iterable[Any]) -> str:
    return f"{outcome} {' '.join(codes) or '-'} " + "; ".join(
        f"{d.amount} from {d.budget}" + (f" {d.period}" if d.period else "") for d in draws
    )


def _provider_and_reference(result: BprResult) -> tuple[str, str]:
    if result.row is not None:
        return (result.row.abn or result.row.registration_number), result.row.claim_reference
    cells = result.cells
    abn = cells[15].strip() if len(cells) > 15 else ""
    registration = cells[0].strip() if cells else ""
    reference = cells[5].strip() if len(cells) > 5 else ""
    return abn or registration, reference


def _bump(contract: Contract, original: Contract) -> Contract:
    return contract.model_copy(update={"version": original.version + 1})


def write_folder(out: Path, files: Sequence[tuple[str, str]]) -> Path:
    """Write files into a temporary folder beside ``out`` (each synced to disk), ready to be
    renamed into place whole; the temporary folder is removed when any write fails
    (:func:`ndis_rules.files.atomic.write_folder`).

    Raises:
        BookRefused: ``out`` exists and is not an empty folder.
        OSError: a write failed (disk full, ...): nothing is left behind.
    """
    try:
        return atomic.write_folder(out, files)
    except FileExistsError as exc:
        raise BookRefused(
            f"{out} already exists and is not an empty folder: submit into a new folder "
            "(a folder never mixes two runs)"
        ) from exc


def _place(tmp: Path, out: Path) -> None:
    """Rename the finished temporary folder to ``out`` (an empty ``out`` is replaced)."""
    try:
        atomic.place_folder(tmp, out)
    except FileExistsError as exc:
        raise BookRefused(f"{out} was filled by someone else meanwhile: nothing written") from exc


class Book:
    """The plan manager's book over a :class:`~ndis_rules.ports.BookStore`."""

    def __init__(
        self,
        store: BookStore,
        *,
        now: Callable[[], str] = now_iso,
        tool_version: str = __version__,
    ) -> None:
        self.store = store
        self.now = now
        self.tool_version = tool_version

    # -- plumbing ---------------------------------------------------------------------------------
    def _entry(self, operation: str, inputs: str, ids: Iterable[str], outcome: str) -> JournalEntry:
        return JournalEntry(operation, self.now(), self.tool_version, inputs, tuple(ids), outcome)

    def _run(self, step: Callable[[BookSnapshot], tuple[T, BookChanges | None]]) -> T:
        """Read, decide, write once with the version read; run again when another writer came
        first (the retry sees what that writer did)."""
        for attempt in range(RETRIES):
            snap = self.store.snapshot()
            result, changes = step(snap)
            if changes is None:
                return result
            try:
                self.store.commit(changes, snap.version)
            except (StaleBookError, StaleContractError):
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
                continue
            return result
        raise StaleBookError(f"the book kept changing: gave up after {RETRIES} attempts")

    def snapshot(self) -> BookSnapshot:
        """The book as it is now."""
        return self.store.snapshot()

    def init(self) -> int:
        """Journal the book's creation (the store already made its schema); the version."""
        snap = self.store.snapshot()
        if snap.version:
            return snap.version
        return self.store.commit(
            BookChanges(self._entry("init", digest("init"), (), "book created")), 0
        )

    # -- contracts --------------------------------------------------------------------------------
    def import_contracts(
        self, contracts: Sequence[Contract], *, source_digest: str
    ) -> ImportOutcome:
        """Add contracts the book does not hold; the same contract again changes nothing; a
        different contract under a held id is refused (use sync)."""

        def step(snap: BookSnapshot) -> tuple[ImportOutcome, BookChanges]:
            added: list[Contract] = []
            already: list[str] = []
            differing: list[str] = []
            for c in contracts:
                held = snap.contracts.get(c.id)
                if held is None:
                    added.append(c)
                elif held == c or self._imported_before(c):
                    already.append(c.id)
                else:
                    differing.append(c.id)
            result = ImportOutcome(tuple(c.id for c in added), tuple(already), tuple(differing))
            outcome = f"added {len(added)}, already {len(already)}, differing {len(differing)}"
            return result, BookChanges(
                self._entry("import-contracts", source_digest, result.added, outcome),
                contracts=tuple((c, None) for c in added),
            )

        return self._run(step)

    def _imported_before(self, contract: Contract) -> bool:
        """The book held this very contract at its version (it was imported, then used)."""
        try:
            return self.store.contract_at(contract.id, contract.version) == contract
        except LookupError:
            return False

    def _snapshot_of(self, raw: str, plan: PacePlan) -> PlanSnapshot:
        return PlanSnapshot(
            id=snapshot_id(raw),
            plan_id=plan.plan_id,
            participant=plan.ndis_number,
            read_at=self.now(),
            digest=digest(raw),
            raw=raw,
            mapped=plan.model_dump_json(by_alias=True),
        )

    def new_contract(
        self,
        raw: str,
        plan: PacePlan,
        contract_id: str,
        used: Mapping[str, Money] | None = None,
        *,
        on: date | None = None,
        accept: Iterable[str] = (),
    ) -> Contract:
        """A new contract from a PACE plan (with one adjustment delivered service per budget for
        funds used before it), stored with the plan snapshot it came from."""
        accepted = tuple(accept)

        def step(snap: BookSnapshot) -> tuple[Contract, BookChanges]:
            if contract_id in snap.contracts:
                raise BookRefused(f"the book already holds contract {contract_id}")
            contract = new_contract_from_plan(plan, contract_id, used or {}, on=on, accept=accepted)
            s = self._snapshot_of(raw, plan)
            return contract, BookChanges(
                self._entry(
                    "new-contract",
                    digest(raw, json.dumps({k: str(v) for k, v in (used or {}).items()})),
                    (contract_id, s.id),
                    f"contract {contract_id} v{contract.version} from plan {plan.plan_id}, "
                    f"{len(contract.delivered)} adjustment(s)",
                ),
                contracts=((contract, None),),
                snapshots=(s,),
            )

        return self._run(step)

    def sync_preview(
        self, contract_id: str, raw: str, plan: PacePlan, *, today: date, save: bool = True
    ) -> tuple[ChangeSetRecord, ChangeSet]:
        """Preview a sync of the contract with the plan; with ``save`` the plan snapshot and the
        change set are kept under the id printed (``CS-...``)."""

        def step(
            snap: BookSnapshot,
        ) -> tuple[tuple[ChangeSetRecord, ChangeSet], BookChanges | None]:
            contract = snap.contracts.get(contract_id)
            if contract is None:
                raise BookRefused(f"the book holds no contract {contract_id}")
            cs = preview(contract, plan, today)
            s = self._snapshot_of(raw, plan)
            cs_id = "CS-" + digest(contract_id, str(contract.version), s.digest, str(today))[:12]
            record = ChangeSetRecord(
                cs_id, contract_id, contract.version, s.id, self.now(), cs.model_dump_json()
            )
            if not save:
                return (record, cs), None
            try:
                existing = self.store.change_set(cs_id)
            except LookupError:
                existing = None
            return (existing or record, cs), BookChanges(
                self._entry(
                    "sync-preview",
                    s.digest,
                    (contract_id, s.id, cs_id),
                    f"change set {cs_id}: {len(cs.conflicts)} conflict(s)",
                ),
                snapshots=(s,),
                change_sets=() if existing else (record,),
            )

        return self._run(step)

    def sync_apply(self, change_set_id: str, *, accept: Iterable[str] = ()) -> Contract:
        """Apply exactly the saved change set; refused when the contract's version moved, when a
        newer snapshot of the plan was read since, or when it was applied already. PACE is not
        asked again."""
        accepted = tuple(accept)

        def step(snap: BookSnapshot) -> tuple[Contract, BookChanges]:
            record = self.store.change_set(change_set_id)
            if record.applied_at:
                raise BookRefused(f"change set {change_set_id} was applied at {record.applied_at}")
            contract = snap.contracts.get(record.contract_id)
            if contract is None:
                raise BookRefused(f"the book holds no contract {record.contract_id}")
            if contract.version != record.contract_version:
                raise StaleChangeSet(
                    f"change set {change_set_id} was built on contract {contract.id} version "
                    f"{record.contract_version}; the book holds version {contract.version}: "
                    "preview again"
                )
            s = self.store.plan_snapshot(record.snapshot_id)
            latest = self.store.plan_snapshots(s.plan_id)[-1]
            if latest.digest != s.digest:
                raise StaleChangeSet(
                    f"plan {s.plan_id} moved since change set {change_set_id} was built (a newer "
                    f"snapshot {latest.id} was read at {latest.read_at}): preview again"
                )
            cs = ChangeSet.model_validate_json(record.body)
            new = apply(contract, cs, accept=accepted)
            changed = new is not contract
            return new, BookChanges(
                self._entry(
                    "sync-apply",
                    digest(record.body, json.dumps(accepted)),
                    (contract.id, change_set_id),
                    f"contract {contract.id} v{contract.version} -> v{new.version}"
                    if changed
                    else "in sync: nothing to apply",
                ),
                contracts=((new, contract.version),) if changed else (),
                change_sets=(replace(record, applied_at=self.now()),),
            )

        return self._run(step)

    # -- PRODA bookings (legacy plans) -----------------------------------------------------------
    def bookings(
        self,
        participants: Sequence[Participant],
        gateway: ProdaGateway,
        *,
        today: date,
        contract_ids: Mapping[str, Sequence[str]] | None = None,
        retries: int = 2,
        plan_manager: str | None = None,
        progress: Callable[[SyncProgress], object] | None = None,
    ) -> BookingsOutcome:
        """Run the PRODA bookings batch (:func:`~ndis_rules.services.bookings.sync_active_plans`)
        for the participants' active legacy (non-PACE) contracts in the book, then record
        PRODA's booking id against the budget or support each booking funds: in the bookings
        table and on the contract (so the next batch finds the booking by its stored id), in one
        transaction, journaled.

        A booking id the book already holds is not recorded again; a re-run records nothing new
        (the gateway's idempotency keys keep the bookings themselves single, also when two
        processes run the batch at once). ``contract_ids`` restricts a participant (by NDIS
        number) to those contracts of the book; otherwise all the book's contracts for the
        participant are offered and the batch picks the active legacy one.

        Raises:
            BookRefused: ``contract_ids`` names a contract the book does not hold, or one of
                another participant.
        """
        snap = self.store.snapshot()
        by_number: dict[str, list[Contract]] = {}
        for p in participants:
            wanted = (contract_ids or {}).get(p.ndis_number)
            if wanted:
                mine: list[Contract] = []
                for cid in wanted:
                    c = snap.contracts.get(cid)
                    if c is None:
                        raise BookRefused(f"the book holds no contract {cid}")
                    if c.participant not in (None, p.ndis_number):
                        raise BookRefused(f"contract {cid} is for another participant")
                    mine.append(c)
            else:
                mine = [c for c in snap.contracts.values() if c.participant == p.ndis_number]
            by_number[p.ndis_number] = sorted(mine, key=lambda c: c.id)
        report = sync_active_plans(
            participants,
            by_number,
            gateway,
            today=today,
            retries=retries,
            progress=progress,
            plan_manager=plan_manager,
        )
        ids_digest = digest(
            json.dumps(
                sorted(
                    (r.contract_id or "", src, bid)
                    for r in report.results
                    for src, bid in r.booking_ids.items()
                )
            )
        )

        def step(snap: BookSnapshot) -> tuple[BookingsOutcome, BookChanges]:
            held = {b.booking_id for b in self.store.bookings()}
            at = self.now()
            recorded: list[BookingRecord] = []
            already: list[str] = []
            changed: list[tuple[Contract, int | None]] = []
            for r in report.results:
                contract = snap.contracts.get(r.contract_id or "")
                if contract is None or not r.booking_ids:
                    continue
                for source, booking_id in sorted(r.booking_ids.items()):
                    if booking_id in held:
                        already.append(booking_id)
                        continue
                    budget, item = _funded_by(contract, source)
                    recorded.append(BookingRecord(booking_id, contract.id, budget, item, at))
                    held.add(booking_id)
                booked = store_booking_ids(contract, r.booking_ids)
                if booked is not contract:
                    changed.append((_bump(booked, contract), contract.version))
            result = BookingsOutcome(
                report,
                tuple(recorded),
                tuple(already),
                tuple(c.id for c, _ in changed),
            )
            outcome = (
                f"recorded {len(recorded)} booking id(s), already {len(already)}; "
                f"{len(changed)} contract(s) updated; participants: {report.success} synced, "
                f"{report.failed} failed, {report.uncompleted} uncompleted"
            )
            return result, BookChanges(
                self._entry(
                    "bookings",
                    ids_digest,
                    [b.booking_id for b in recorded] + [c.id for c, _ in changed],
                    outcome,
                ),
                contracts=tuple(changed),
                bookings=tuple(recorded),
            )

        return self._run(step)

    # -- claims -----------------------------------------------------------------------------------
    def check(
        self,
        results: Sequence[BprResult],
        *,
        today: date,
        source: str = "<input>",
        file_digest: str = "",
        record: bool = False,
        settings: Settings | None = None,
        catalogue: CatalogueContext | None = None,
        catalogue_identity: Mapping[str, str] | None = None,
    ) -> CheckOutcome:
        """Check a bulk payment request against the book's contracts; with ``record`` the allowed
        and warned lines become delivered services and the book's claim lines.

        A row the book already holds under its key, unchanged, is not checked again (whatever
        its state: nothing is recorded twice, and a rejected or cancelled line is not sent
        again as it was). A changed row under the key of a rejected or cancelled line is the
        correction and is checked and recorded again (its history kept); a changed row under
        the key of a live line is a ``key_conflict`` and changes nothing.

        With ``settings.claims_flexibility`` a line that spans funding periods is still one
        book line (its amount the whole line, submitted as the one row it was claimed as: the
        NDIA sees one row); each part of its decision becomes a delivered service drawn in its
        own period, and paying, rejecting or cancelling the line settles or releases every
        part."""
        settings = settings or Settings()
        keys = line_keys(_provider_and_reference(r) for r in results)

        def step(snap: BookSnapshot) -> tuple[CheckOutcome, BookChanges | None]:
            status: dict[int, CheckedRow] = {}
            to_check: list[tuple[int, BprResult]] = []
            for i, (key, result) in enumerate(zip(keys, results, strict=True)):
                held = snap.lines.get(key)
                if held is not None and held.cells == tuple(result.cells):
                    status[i] = CheckedRow(key, "already", None, held)
                elif held is not None and held.state in LIVE_STATES:
                    status[i] = CheckedRow(key, "key_conflict", None, held)
                else:  # new, or a rejected / cancelled line corrected
                    to_check.append((i, result))
            contracts = list(snap.contracts.values())
            report = check_claims(
                [r for _, r in to_check],
                contracts,
                as_of=today,
                settings=settings,
                catalogue=catalogue,
            )
            batch = CheckBatch(
                id="CK-" + digest(file_digest, str(snap.version), str(today), source)[:12],
                source=source,
                rows=tuple((r.row_number, tuple(r.cells)) for _, r in to_check),
                contract_versions={c.id: c.version for c in contracts},
                settings=settings.model_dump_json(),
                catalogue=dict(catalogue_identity or {}),
                today=today,
                tool_version=self.tool_version,
            )
            originals = dict(snap.contracts)
            working = dict(snap.contracts)
            new_lines: list[BookLine] = []
            at = self.now()
            for (i, result), outcome in zip(to_check, report.rows, strict=True):
                key = keys[i]
                if not record:
                    status[i] = CheckedRow(key, "checked", outcome)
                    continue
                if outcome.outcome == "error" or outcome.decision is None or result.row is None:
                    status[i] = CheckedRow(key, "not_recorded", outcome)
                    continue
                held = snap.lines.get(key)
                attempt = held.attempt + 1 if held is not None else 1
                contract = working[outcome.contract or ""]
                contract, ds_ids = _record_line(contract, key, attempt, result, outcome, catalogue)
                working[contract.id] = contract
                line = BookLine(
                    key=key,
                    participant=result.row.ndis_number,
                    contract_id=contract.id,
                    state="recorded" if held is None else held.state,
                    amount=outcome.amount or Money(0),
                    item=result.row.support_number,
                    from_=result.row.supports_delivered_from,
                    to=result.row.supports_delivered_to,
                    cells=tuple(result.cells),
                    delivered_ids=ds_ids,
                    batch_id=batch.id,
                    row=result.row_number,
                    outcome=outcome.outcome,
                    codes=outcome.codes,
                    draws=outcome.draws,
                    attempt=attempt,
                    history=held.history if held is not None else (),
                )
                line = _recorded(line, held, at)
                new_lines.append(line)
                status[i] = CheckedRow(key, "recorded", outcome, held)
            rows = tuple(status[i] for i in range(len(results)))
            result_ = CheckOutcome(report, rows, batch.id if new_lines else None)
            if not record:
                return result_, None
            changed = [
                (_bump(c, originals[cid]), originals[cid].version)
                for cid, c in working.items()
                if c is not originals[cid]
            ]
            outcome_text = (
                f"recorded {len(new_lines)}, already {result_.count('already')}, "
                f"not recorded {result_.count('not_recorded')}, "
                f"key conflicts {result_.count('key_conflict')}"
            )
            return result_, BookChanges(
                self._entry(
                    "check --record",
                    digest(file_digest, str(today), batch.settings, json.dumps(batch.catalogue)),
                    [line.key.text for line in new_lines],
                    outcome_text,
                ),
                contracts=tuple(changed),
                lines=tuple(new_lines),
                batches=(batch,) if new_lines else (),
            )

        return self._run(step)

    def submit(self, out: Path, *, date_format: str = "%Y/%m/%d") -> SubmitOutcome:
        """Write every recorded line into upload files in a fresh folder, all or nothing, and
        mark the lines submitted. Nothing to submit: no folder, nothing written.

        Order: the files are written and synced in a temporary folder beside ``out``; then the
        book is written (lines submitted, the files kept in the book); then the folder is
        renamed into place. A failure before the book is written removes the temporary folder
        and leaves the book as it was; the files of a submission can be written again from the
        book (:meth:`rewrite_uploads`)."""
        out = Path(out)
        temporary: list[Path] = []

        def drop_temporary() -> None:
            while temporary:
                shutil.rmtree(temporary.pop(), ignore_errors=True)

        def step(snap: BookSnapshot) -> tuple[SubmitOutcome, BookChanges | None]:
            drop_temporary()  # a refused attempt's folder
            pending = sorted(
                (line for line in snap.lines.values() if line.state == "recorded"),
                key=lambda line: (line.batch_id, line.row, line.key),
            )
            if not pending:
                return SubmitOutcome(None, None, (), ()), None
            submission = f"S{snap.version}"
            rows = []
            for line in pending:
                parsed = read_record(line.row, list(line.cells), abn_required=False)
                if parsed.row is None:  # pragma: no cover - recorded rows were read before
                    raise BookRefused(f"claim line {line.key.text} cannot be written again")
                rows.append(parsed.row)
            files = write_bpr(rows, date_format=date_format, name_prefix=f"bpr{snap.version}_")
            names = tuple(name for name, _ in files)
            row_file: list[str] = []
            for name, text in files:
                row_file.extend([name] * (text.count("\r\n") - 1))
            at = self.now()
            lines = tuple(
                move(line, "submitted", at=at, operation="submit", note=name, bpr_file=name)
                for line, name in zip(pending, row_file, strict=True)
            )
            temporary.append(write_folder(out, files))
            changes = BookChanges(
                self._entry(
                    "submit",
                    digest(*(text for _, text in files)),
                    [submission, *names],
                    f"submission {submission}: {len(lines)} line(s) in {len(names)} file(s)",
                ),
                lines=lines,
                uploads=tuple(UploadFile(n, submission, t) for n, t in files),
            )
            return SubmitOutcome(submission, out, names, tuple(x.key for x in pending)), changes

        try:
            result = self._run(step)
        except BaseException:
            drop_temporary()
            raise
        if result.submission is not None:
            _place(temporary.pop(), out)
        return result

    def rewrite_uploads(self, submission: str, out: Path) -> tuple[str, ...]:
        """Write a submission's upload files again (all or nothing, into a fresh folder)."""
        uploads = self.store.uploads(submission)
        if not uploads:
            raise BookRefused(f"the book holds no submission {submission}")
        tmp = write_folder(Path(out), [(u.name, u.text) for u in uploads])
        _place(tmp, Path(out))
        return tuple(u.name for u in uploads)

    def results(self, text: str, *, source: str = "<results>") -> ResultsOutcome:
        """Apply the NDIA's results file: ``SUCCESSFUL`` rows pay their line (a capped price's
        difference is released), ``ERROR`` rows reject it (its money is released; the reason is
        mapped to our rule code and a fix). Unmatched and ambiguous rows change nothing and are
        reported. The same file applied twice changes nothing the second time."""
        rows = parse_results(text, source)

        def step(snap: BookSnapshot) -> tuple[ResultsOutcome, BookChanges]:
            matches = match_results(rows, snap.lines.values())
            originals = dict(snap.contracts)
            working = dict(snap.contracts)
            changed_lines: dict[LineKey, BookLine] = {}
            paid: list[LineKey] = []
            rejected: list[LineKey] = []
            at = self.now()
            for m in matches:
                if m.kind != "matched":
                    continue
                line = snap.lines[m.keys[0]]
                contract = working[line.contract_id]
                r = m.row
                if r.status == "SUCCESSFUL":
                    amount = r.paid if r.paid is not None else line.amount
                    note = f"paid {amount}" + (" (capped price)" if r.capped else "")
                    new = move(
                        line,
                        "paid",
                        at=at,
                        operation="results",
                        note=note,
                        paid_amount=amount,
                        capped=r.capped,
                    )
                    working[contract.id] = settle_paid_in(contract, line, amount)
                    paid.append(line.key)
                else:
                    code, rule, fix = map_rejection(r.reason)
                    new = move(
                        line,
                        "rejected",
                        at=at,
                        operation="results",
                        note=r.reason,
                        ndia_reason=r.reason,
                        ndia_code=code,
                        rule_code=rule,
                        fix=fix,
                    )
                    working[contract.id] = release_in(contract, line)
                    rejected.append(line.key)
                changed_lines[line.key] = new
            changed = [
                (_bump(c, originals[cid]), originals[cid].version)
                for cid, c in working.items()
                if c is not originals[cid]
            ]
            result = ResultsOutcome(tuple(matches), tuple(paid), tuple(rejected), changed_lines)
            outcome = (
                f"paid {len(paid)}, rejected {len(rejected)}, already "
                f"{result.count('already')}, unmatched {result.count('unmatched')}, ambiguous "
                f"{result.count('ambiguous')}, unreadable {result.count('unreadable')}"
            )
            return result, BookChanges(
                self._entry("results", digest(text), [k.text for k in (*paid, *rejected)], outcome),
                contracts=tuple(changed),
                lines=tuple(changed_lines.values()),
            )

        return self._run(step)

    def cancel(self, keys: Sequence[LineKey], *, reason: str = "") -> tuple[LineKey, ...]:
        """Cancel recorded or submitted lines (before payment): their money is released."""

        def step(snap: BookSnapshot) -> tuple[tuple[LineKey, ...], BookChanges]:
            originals = dict(snap.contracts)
            working = dict(snap.contracts)
            lines: list[BookLine] = []
            at = self.now()
            for key in keys:
                line = snap.lines.get(key)
                if line is None:
                    raise BookRefused(f"the book holds no claim line {key.text}")
                lines.append(move(line, "cancelled", at=at, operation="cancel", note=reason))
                working[line.contract_id] = release_in(working[line.contract_id], line)
            changed = [
                (_bump(c, originals[cid]), originals[cid].version)
                for cid, c in working.items()
                if c is not originals[cid]
            ]
            done = tuple(line.key for line in lines)
            return done, BookChanges(
                self._entry(
                    "cancel",
                    digest(*(k.text for k in keys), reason),
                    [k.text for k in done],
                    f"cancelled {len(done)}",
                ),
                contracts=tuple(changed),
                lines=tuple(lines),
            )

        return self._run(step)

    # -- reading ----------------------------------------------------------------------------------
    def report(self, today: date) -> list[BudgetRow]:
        """Per participant, budget and funding period: money by state, available, forecast."""
        snap = self.store.snapshot()
        return report_rows(snap.contracts.values(), snap.lines.values(), today)

    def pending(
        self,
        results: Sequence[BprResult],
        *,
        today: date,
        settings: Settings | None = None,
        catalogue: CatalogueContext | None = None,
    ) -> tuple[int, list[PendingLine]]:
        """Lines checked but not recorded, "as if submitted together" (spec/book.md, Reports):
        the rows the book does not hold yet are checked together, in order, against the book's
        contracts (each against what the rows before it left, validation.md section 4), and each
        alone; the lines that pass alone but fail together are returned, with how many rows were
        pending. Nothing is written."""
        settings = settings or Settings()
        snap = self.store.snapshot()
        keys = line_keys(_provider_and_reference(r) for r in results)
        pending = [
            (k, r)
            for k, r in zip(keys, results, strict=True)
            if (held := snap.lines.get(k)) is None or held.cells != tuple(r.cells)
        ]
        contracts = list(snap.contracts.values())
        together = check_claims(
            [r for _, r in pending], contracts, as_of=today, settings=settings,
            catalogue=catalogue,
        )  # fmt: skip
        failing: list[PendingLine] = []
        for (key, result), both in zip(pending, together.rows, strict=True):
            if both.outcome != "error":
                continue
            alone = check_claims(
                [result], contracts, as_of=today, settings=settings, catalogue=catalogue
            ).rows[0]
            if alone.outcome != "error":
                failing.append(PendingLine(key, result.row_number, alone, both))
        return len(pending), failing

    def explain(
        self,
        key: LineKey,
        *,
        today: date,
        catalogue: CatalogueContext | None = None,
        catalogue_identity: Mapping[str, str] | None = None,
    ) -> ExplainOutcome:
        """Replay a recorded line from its stored inputs (contract versions, settings, catalogue
        identity, *today*, tool version) and check it again as of ``today``."""
        snap = self.store.snapshot()
        line = snap.lines.get(key)
        if line is None:
            raise BookRefused(f"the book holds no claim line {key.text}")
        batch = self.store.batch(line.batch_id)
        contracts = [self.store.contract_at(cid, v) for cid, v in batch.contract_versions.items()]
        settings = Settings.model_validate_json(batch.settings)
        results = [read_record(n, list(cells), abn_required=False) for n, cells in batch.rows]
        changed: list[str] = []
        identity = dict(catalogue_identity or {})
        if batch.catalogue.get("sha256") != identity.get("sha256"):
            changed.append(
                "catalogue: checked with "
                + (batch.catalogue.get("name", "-") if batch.catalogue else "no catalogue")
                + ", replayed with "
                + (identity.get("name", "-") if identity else "no catalogue")
            )
        if batch.tool_version != self.tool_version:
            changed.append(f"tool version {batch.tool_version} -> {self.tool_version}")
        replay = check_claims(
            results, contracts, as_of=batch.today, settings=settings, catalogue=catalogue
        )
        found = next((r for r in replay.rows if r.row == line.row), None)
        differences: list[str] = []
        if found is None:
            differences.append("the line is not in its stored check")
        else:
            before = _decision_text(line.outcome, line.codes, line.draws)
            after = _decision_text(found.outcome, found.codes, found.draws)
            if before != after:
                differences.append(f"recorded: {before} | replayed: {after}")
        current = snap.contracts.get(line.contract_id)
        today_row: RowOutcome | None = None
        if current is not None:
            then = batch.contract_versions.get(line.contract_id)
            if then is not None and current.version != then:
                changed.append(f"contract {current.id} v{then} -> v{current.version}")
            own = set(line.delivered_ids)
            without = current.model_copy(
                update={"delivered": tuple(d for d in current.delivered if d.id not in own)}
            )
            others = [c for c in snap.contracts.values() if c.id != current.id]
            me = read_record(line.row, list(line.cells), abn_required=False)
            now_report = check_claims(
                [me], [without, *others], as_of=today, settings=settings, catalogue=catalogue
            )
            today_row = now_report.rows[0]
        return ExplainOutcome(
            line=line,
            batch=batch,
            replayed=found.decision if found else None,
            replayed_outcome=found,
            same=not differences,
            differences=tuple(differences),
            today=today_row,
            changed_since=tuple(changed),
        )


def _funded_by(contract: Contract, source: str) -> tuple[str, str | None]:
    """What a booking's source funds, as the book keeps it: the budget (``"01:plan"``) and, for
    a support, the support's id on the contract."""
    kind, _, ref = source.partition(":")
    if kind == "support":
        support = next((s for s in contract.support_items if s.id == ref), None)
        if support is None:
            return "", ref
        budget = support.category + (f":{support.management}" if support.management else "")
        return budget, ref
    funded = next((b for b in contract.budgets if b.ref == ref), None)
    return (funded.key if funded is not None else ref), None


def _recorded(line: BookLine, held: BookLine | None, at: str) -> BookLine:
    """The new or corrected line in state ``recorded``, its history kept and extended."""
    if held is None:
        return replace(
            line, state="recorded", history=(HistoryEntry("recorded", at, "check --record"),)
        )
    return move(
        replace(line, state=held.state, history=held.history),
        "recorded",
        at=at,
        operation="check --record",
        note=f"attempt {line.attempt}",
    )


def _record_line(
    contract: Contract,
    key: LineKey,
    attempt: int,
    result: BprResult,
    outcome: RowOutcome,
    catalogue: CatalogueContext | None,
) -> tuple[Contract, tuple[str, ...]]:
    """The contract with the line's delivered services added (through
    :func:`~ndis_rules.rules.record_invoice`), and their ids."""
    row = result.row
    decision = outcome.decision
    assert row is not None and decision is not None
    category: str | None = None
    if catalogue is not None:
        category = catalogue.catalogue.pace_category(
            row.support_number, row.supports_delivered_from
        )
    # the decision says which budget it charged: copy it, never work it out again
    if decision.parts:
        category = decision.parts[0].budget.category
        management = decision.parts[0].budget.management
    else:
        management = "plan"
    invoice = Invoice.model_validate(
        {
            "id": f"book:{key.text}#{attempt}",
            "contract_id": contract.id,
            "participant": row.ndis_number,
            "provider": key.provider,
            "lines": [
                ClaimLine.model_validate(
                    {
                        "id": decision.line_id,
                        "from": row.supports_delivered_from,
                        "to": row.supports_delivered_to,
                        "item": row.support_number,
                        "category": category,
                        "quantity": row.units,
                        "unit_price": row.unit_price,
                        "management": management,
                        "claim_type": row.claim_type,
                        "cancellation_reason": row.cancellation_reason or None,
                        "gst_code": row.gst_code,
                    }
                )
            ],
        }
    )
    from ..outcomes import InvoiceDecision

    recorded = record_invoice(
        contract, invoice, InvoiceDecision(invoice.id, decision.outcome, "create", (decision,))
    )
    before = {d.id for d in contract.delivered}
    ids = tuple(d.id for d in recorded.delivered if d.id not in before)
    return recorded.model_copy(update={"version": contract.version}), ids
