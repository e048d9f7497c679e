"""The ``ndis-rules sync`` commands: preview and apply a PACE plan sync (spec/sync.md,
docs/scenarios-sync.md "Command line").

* ``sync preview (--contract FILE | --store SQLITE --contract-id ID) --plans DIR
  --participant NDIS_NUMBER [--last-name N --dob D] [--plan-id ID | --on DATE] [--today D]
  [--accept CODE ...] [--format table|json]``: fetches the participant's plans from the
  JSON-directory PACE source (:class:`~ndis_rules.adapters.pace_jsondir.JsonDirPaceSource`),
  selects one (:func:`~ndis_rules.merge.select_plan`: by id, else the plan covering ``--on``,
  else the plan covering today) and prints the change set of
  :func:`~ndis_rules.merge.preview`. Exit 0 when every conflict is accepted (or there is
  none), 1 when a conflict is not (``NEW_PLAN`` never can be), 2 for bad input.
* ``sync apply`` (the same options, plus ``--out FILE`` and ``--expected-version N``) applies
  it: to a contract file (written atomically to ``--out``, by default over the input file) or
  through the SQLite repository with optimistic versioning
  (:func:`~ndis_rules.services.sync.sync_apply`). Exit 0 applied (or nothing to apply), 1
  refused (a conflict not accepted, or ``NEW_PLAN``: nothing is written), 2 bad input, a
  failed fetch or a stale contract (nothing is written).

Without ``--last-name`` and ``--dob`` the participant's identity is taken from the PACE
folder's file for that NDIS number (a real PACE gateway needs all three).

Every failure is one ``ndis-rules: error: ...`` line (or a short block listing plan
candidates) on stderr with exit 2, never a traceback: source failures (timeout, refused, not
authorised, malformed payload naming the file and the field path), store failures and plan
selection errors (which list the candidates).

This module does not import :mod:`ndis_rules.cli` (which imports it to register the commands).
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict, ValidationError

from ..adapters.jsonfile_store import JsonFileContractRepository
from ..adapters.pace_jsondir import JsonDirPaceSource
from ..adapters.sqlite_store import SqliteContractRepository
from ..errors import (
    ContractNotFound,
    InputError,
    ParticipantNotFound,
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
    StaleContractError,
    StoreError,
    input_error_from,
)
from ..files.atomic import folder_lock, write_atomic
from ..files.documents import read_contract, read_data
from ..merge import (
    CONFLICT_CODES,
    ApplyRefused,
    BudgetChange,
    ChangeSet,
    Conflict,
    FieldChange,
    PeriodChange,
    PlanSelectionError,
    StaleChangeSet,
    SyncMismatchError,
    UnacceptedConflicts,
    apply,
    preview,
    select_plan,
)
from ..models import Contract, FundingPeriod
from ..pace import PacePlan, ParticipantRef
from ..ports import ContractRepository
from ..services.sync import (
    REVIEWED_FORMAT,
    ReviewedChangeSet,
    change_set_digest,
    plan_digest,
    reviewed_change_set,
    sync_apply,
)
from .common import add_today_options, today_from
from .common import iso_date as _date

__all__ = [
    "change_set_to_dict",
    "format_change_table",
    "identity_from_folder",
    "register",
    "unresolved",
    "write_contract_file",
]

EXIT_OK, EXIT_CONFLICTS, EXIT_INPUT = 0, 1, 2
_KIND_ORDER = ("added", "changed", "ended", "unchanged")


# -- argument types ------------------------------------------------------------------------------


def _ndis_number(text: str) -> str:
    value = text.strip()
    if len(value) != 9 or not value.isdigit():
        raise argparse.ArgumentTypeError("expected an NDIS number of 9 digits")
    return value


def _version(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


# -- the change set as text and JSON -------------------------------------------------------------


def unresolved(change_set: ChangeSet, accept: Iterable[str] = ()) -> list[Conflict]:
    """The conflicts ``accept`` (codes or conflict ids) leaves unresolved; ``NEW_PLAN`` always
    is (a reassessment is never merged)."""
    accepted = set(accept)
    return [
        c
        for c in change_set.conflicts
        if c.code == "NEW_PLAN" or (c.code not in accepted and c.id not in accepted)
    ]


def _v(value: str | None) -> str:
    return "-" if value is None else value


def _period_text(p: FundingPeriod | None) -> str:
    if p is None:
        return "-"
    released = "" if p.released else " (not released)"
    return f"{p.start}..{p.end_inclusive} {p.amount}{released}"


def _period_row(c: PeriodChange) -> tuple[str, str]:
    label = f"period {c.period_id}"
    if c.change == "added":
        return label, f"added: {_period_text(c.new)}"
    if c.change == "removed":
        return label, f"removed: {_period_text(c.old)}"
    diffs: list[str] = []
    if c.old is not None and c.new is not None:
        for name in ("start", "end_inclusive", "amount", "released"):
            a, b = getattr(c.old, name), getattr(c.new, name)
            if a != b:
                diffs.append(f"{name} {a} -> {b}")
    return label, "changed: " + ("; ".join(diffs) or f"{_period_text(c.old)} -> ...")


def _field_row(f: FieldChange, added: bool) -> tuple[str, str]:
    return f.field, _v(f.new) if added else f"{_v(f.old)} -> {_v(f.new)}"


def _rows(rows: Sequence[tuple[str, str]], indent: str) -> list[str]:
    if not rows:
        return []
    width = max(len(name) for name, _ in rows)
    return [f"{indent}{name.ljust(width)}  {value}".rstrip() for name, value in rows]


def _budget_title(b: BudgetChange) -> str:
    title = f"  {b.kind} {b.key}"
    if b.ref is not None and b.ref != b.key:
        title += f" (budget {b.ref})"
    if b.pace_budget_id:
        title += f" [PACE {b.pace_budget_id}]"
    return title


def format_change_table(
    change_set: ChangeSet, accept: Iterable[str] = (), *, next_step: bool = True
) -> str:
    """The readable change table of ``sync preview``: the plan field changes, the budgets
    (added, changed with old -> new per field and funding period, ended, unchanged), then the
    conflicts (code, subject, whether accepted, message) and, with ``next_step``, what to do
    next (in sync, ready to apply, or how to accept the conflicts)."""
    cs = change_set
    accepted = set(accept)
    status = f" ({cs.plan_status})" if cs.plan_status else ""
    who = f" (participant {cs.plan.participant})" if cs.plan else ""
    lines = [
        f"contract {cs.contract_id} v{cs.contract_version}{who} <- PACE plan {cs.plan_id}"
        f"{status}, as of {cs.today}"
    ]
    if cs.new_plan:
        lines += [
            "",
            f"NEW PLAN: {cs.plan_id} is not this contract's plan (a reassessment); it is never "
            "merged: create a new contract from it",
        ]
    if cs.plan_changes:
        lines += ["", "plan:"]
        lines += _rows([_field_row(f, added=False) for f in cs.plan_changes], "  ")
    elif not cs.new_plan:
        lines += ["", "plan: no changes"]
    if cs.budgets:
        counts = [
            f"{n} {kind}"
            for kind in _KIND_ORDER
            if (n := sum(1 for b in cs.budgets if b.kind == kind))
        ]
        lines += ["", "budgets: " + ", ".join(counts)]
        for kind in _KIND_ORDER:
            for b in (b for b in cs.budgets if b.kind == kind):
                lines.append(_budget_title(b))
                rows = [_field_row(f, added=kind == "added") for f in b.fields]
                rows += [_period_row(p) for p in b.periods]
                lines += _rows(rows, "      ")
    open_ = unresolved(cs, accepted)
    if cs.conflicts:
        lines += ["", f"conflicts: {len(cs.conflicts)}, {len(open_)} not accepted"]
        for c in cs.conflicts:
            if c.code == "NEW_PLAN":
                state = "never accepted"
            else:
                state = "not accepted" if c in open_ else "accepted"
            lines.append(f"  {c.code} [{c.subject}] {state}: {c.message}")
    if not next_step:
        return "\n".join(lines)
    lines.append("")
    if cs.is_empty:
        lines.append("in sync: nothing to apply")
    elif not open_:
        lines.append("ready to apply")
    else:
        acceptable = [c for c in open_ if c.code != "NEW_PLAN"]
        if acceptable:
            lines.append(
                "apply is refused until every conflict is accepted: accept with --accept CODE "
                "(every conflict of that code) or --accept CODE:SUBJECT (that one only), e.g. "
                f"--accept {acceptable[0].code}"
            )
        if len(acceptable) != len(open_):
            lines.append("NEW_PLAN cannot be accepted: a reassessment is never merged")
    return "\n".join(lines)


def change_set_to_dict(change_set: ChangeSet) -> dict[str, Any]:
    """The change set as JSON-ready data (``ChangeSet.model_validate`` reads it back)."""
    data: dict[str, Any] = change_set.model_dump(mode="json")
    return data


# -- inputs --------------------------------------------------------------------------------------


class _Identity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    participant: ParticipantRef


def _read_json(path: Path) -> Any:
    return read_data(path, prefix="malformed PACE payload: ")


def identity_from_folder(folder: str | Path, ndis_number: str) -> ParticipantRef:
    """The participant with ``ndis_number`` as the PACE folder's files give them (used when
    ``--last-name`` and ``--dob`` are not given). None, or files disagreeing on the last name or
    date of birth, is an :class:`InputError`."""
    d = Path(folder)
    found: dict[tuple[str, date], ParticipantRef] = {}
    for path in sorted(p for p in d.glob("*.json") if p.is_file()):
        data = _read_json(path)
        try:
            who = _Identity.model_validate(data).participant
        except ValidationError as exc:
            err = input_error_from(exc, str(path))
            raise InputError(
                f"malformed PACE payload: {err.problems[0]}"
                if len(err.problems) == 1
                else f"malformed PACE payload: {'; '.join(err.problems)}",
                source=str(path),
                problems=err.problems,
            ) from None
        if who.ndis_number == ndis_number:
            found.setdefault((who.last_name.casefold(), who.date_of_birth), who)
    if not found:
        raise InputError(
            f"no participant with NDIS number {ndis_number} in the PACE folder", source=str(d)
        )
    if len(found) > 1:
        raise InputError(
            f"the files for NDIS number {ndis_number} give different last names or dates of "
            "birth: give --last-name and --dob",
            source=str(d),
        )
    return next(iter(found.values()))


def _participant(args: argparse.Namespace) -> ParticipantRef:
    if (args.last_name is None) != (args.dob is None):
        raise InputError("give both --last-name and --dob, or neither")
    if args.last_name is None:
        return identity_from_folder(args.plans, args.participant)
    if not args.last_name.strip():
        raise InputError("--last-name must not be empty")
    return ParticipantRef(
        ndis_number=args.participant, last_name=args.last_name, date_of_birth=args.dob
    )


def _fetch(folder: str, who: ParticipantRef) -> list[PacePlan]:
    """The participant's plans; every source failure becomes one clear :class:`InputError`."""
    try:
        return JsonDirPaceSource(folder).plans_for(who)
    except SourceTimeout as exc:
        msg = f"PACE source timed out: {exc}; nothing was changed, try again later"
    except SourceNotAuthorised as exc:
        msg = f"not authorised by PACE: {exc}"
    except SourcePayloadError as exc:
        where = str(Path(folder) / exc.source) if exc.source else folder
        detail = str(exc).removeprefix(f"{exc.source}: ") if exc.source else str(exc)
        raise InputError(f"malformed PACE payload: {detail}", source=where) from None
    except ParticipantNotFound as exc:
        msg = f"participant {who.ndis_number} not found in PACE: {exc}"
    except SourceRefused as exc:
        msg = f"PACE source refused: {exc}"
    except SourceError as exc:
        msg = f"PACE source failed: {exc}"
    raise InputError(msg, source=folder)


def _select(plans: Sequence[PacePlan], args: argparse.Namespace, today: date) -> PacePlan:
    on = None if args.plan_id is not None else (args.on or today)
    try:
        return select_plan(plans, plan_id=args.plan_id, on=on)
    except PlanSelectionError as exc:
        head = str(exc).split("; candidates:")[0]
        listed = "".join(f"\n  {c}" for c in exc.candidates) or "\n  (none)"
        raise InputError(
            f"{head}; give --plan-id ID or --on DATE; candidates:{listed}", source=args.plans
        ) from None


def _today(args: argparse.Namespace) -> date:
    return today_from(args)


def _check_accept(change_set: ChangeSet, accept: Sequence[str]) -> None:
    ids = {c.id for c in change_set.conflicts}
    unknown = [a for a in accept if a not in CONFLICT_CODES and a not in ids]
    if unknown:
        here = ", ".join(sorted(ids)) or "none"
        raise InputError(
            f"--accept {', '.join(unknown)}: not a conflict code or a conflict id of this "
            f"change set (codes: {', '.join(CONFLICT_CODES)}; conflicts here: {here})"
        )


# -- where the contract lives --------------------------------------------------------------------


@contextlib.contextmanager
def _opened_store(path: str) -> Iterator[ContractRepository]:
    """The SQLite contract store file, or a folder of the JSON-file contract store
    (:class:`~ndis_rules.adapters.jsonfile_store.JsonFileContractRepository`)."""
    if Path(path).is_dir():
        yield JsonFileContractRepository(path)
        return
    if not Path(path).is_file():
        raise InputError(
            "no such contract store (an SQLite file, or a folder of the JSON-file store)",
            source=path,
        )
    try:
        repo = SqliteContractRepository(path)
    except StoreError as exc:
        raise InputError(f"cannot open the contract store: {exc}", source=path) from None
    try:
        yield repo
    finally:
        repo.close()


def _store_get(repo: ContractRepository, contract_id: str, path: str) -> Contract:
    try:
        return repo.get(contract_id)
    except ContractNotFound:
        raise InputError(f"no contract with id {contract_id!r} in the store", source=path) from None
    except StoreError as exc:
        raise InputError(str(exc), source=path) from None


def _check_where(args: argparse.Namespace) -> None:
    if args.store is not None and args.contract_id is None:
        raise InputError("--store needs --contract-id ID")
    if args.contract is not None and args.contract_id is not None:
        raise InputError("--contract-id goes with --store, not with --contract")
    if getattr(args, "out", None) is not None and args.store is not None:
        raise InputError("--out goes with --contract, not with --store")


def write_contract_file(contract: Contract, path: str | Path) -> None:
    """Write the contract's JSON to ``path`` atomically: a temporary file in the same folder,
    flushed and fsynced, then renamed over ``path`` (a reader sees the old file or the new one,
    never half of one). The file keeps its permissions when it exists. ``OSError`` becomes an
    :class:`InputError` naming the file."""
    target = Path(path)
    data = contract.model_dump_json(by_alias=True, exclude_defaults=True, indent=2) + "\n"
    try:
        write_atomic(target, data, new_file_mode=0o644)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", source=str(target)) from None


# -- the commands --------------------------------------------------------------------------------


def _preview(args: argparse.Namespace, contract: Contract, where: str) -> ChangeSet:
    """Check the participant, fetch the plans, select one and preview (nothing is written)."""
    return _preview_with_plan(args, contract, where)[0]


def _preview_with_plan(
    args: argparse.Namespace, contract: Contract, where: str
) -> tuple[ChangeSet, PacePlan]:
    """:func:`_preview`, and the plan it was built from."""
    if contract.participant is not None and contract.participant != args.participant:
        raise InputError(
            f"contract {contract.id} is participant {contract.participant}'s, not "
            f"{args.participant}'s",
            source=where,
        )
    who = _participant(args)
    if not Path(args.plans).is_dir():
        raise InputError("not a folder of PACE plan files", source=args.plans)
    plans = _fetch(args.plans, who)
    today = _today(args)
    plan = _select(plans, args, today)
    try:
        change_set = preview(contract, plan, today)
    except SyncMismatchError as exc:
        raise InputError(str(exc), source=args.plans) from None
    _check_accept(change_set, args.accept)
    return change_set, plan


def _cmd_preview(args: argparse.Namespace, out: TextIO) -> int:
    _check_where(args)
    if args.store is not None:
        with _opened_store(args.store) as repo:
            contract = _store_get(repo, args.contract_id, args.store)
            change_set, plan = _preview_with_plan(args, contract, args.store)
    else:
        change_set, plan = _preview_with_plan(args, read_contract(args.contract), args.contract)
    if args.save is not None:
        reviewed = reviewed_change_set(change_set, plan)
        text = reviewed.model_dump_json(indent=2) + "\n"
        try:
            write_atomic(Path(args.save), text)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", source=args.save) from None
    if args.format == "json":
        doc = change_set_to_dict(change_set)
        if args.save is not None:  # an added field; the change set's own shape is unchanged
            doc["saved_to"] = args.save
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        out.write(format_change_table(change_set, args.accept) + "\n")
        if args.save is not None:
            out.write(
                f"saved the change set to {args.save} (contract {change_set.contract_id} "
                f"v{change_set.contract_version}, plan {plan.plan_id}); apply exactly it with "
                f"ndis-rules sync apply --changes {args.save}\n"
            )
    return EXIT_CONFLICTS if unresolved(change_set, args.accept) else EXIT_OK


def _stale(contract_id: str, expected: int, actual: int) -> InputError:
    return InputError(
        f"contract {contract_id} is at version {actual}, not the expected version {expected}: "
        "it changed since it was previewed; nothing was written, preview again"
    )


def _check_expected(args: argparse.Namespace, contract: Contract) -> None:
    if args.expected_version is not None and contract.version != args.expected_version:
        raise _stale(contract.id, args.expected_version, contract.version)


def _report(
    args: argparse.Namespace,
    out: TextIO,
    change_set: ChangeSet,
    *,
    applied: Contract | None,
    written_to: str | None,
    refused: str | None = None,
) -> None:
    accepted = [c.id for c in change_set.conflicts if c not in unresolved(change_set, args.accept)]
    if args.format == "json":
        doc = {
            "applied": applied is not None,
            "contract_id": change_set.contract_id,
            "version_before": change_set.contract_version,
            "version": applied.version if applied is not None else change_set.contract_version,
            "written_to": written_to,
            "accepted": accepted,
            "not_accepted": [c.id for c in unresolved(change_set, args.accept)],
            "refused": refused,
            "change_set": change_set_to_dict(change_set),
        }
        out.write(json.dumps(doc, indent=2) + "\n")
        return
    table = format_change_table(change_set, args.accept, next_step=refused is not None)
    out.write(table + "\n\n")
    if refused is not None:
        out.write(f"{refused}; nothing was written\n")
    elif applied is None or written_to is None:
        out.write(f"nothing to apply: contract {change_set.contract_id} is in sync\n")
    elif applied.version == change_set.contract_version:
        out.write(
            f"nothing to apply: contract {change_set.contract_id} is in sync; written unchanged "
            f"to {written_to}\n"
        )
    else:
        how = f", accepting {', '.join(accepted)}" if accepted else ""
        out.write(
            f"applied plan {change_set.plan_id} to contract {change_set.contract_id}: version "
            f"{change_set.contract_version} -> {applied.version}{how}; written to {written_to}\n"
        )


def _refusal(exc: ApplyRefused) -> str:
    if isinstance(exc, UnacceptedConflicts):
        ids = ", ".join(c.id for c in exc.conflicts)
        return f"apply refused: {len(exc.conflicts)} conflict(s) not accepted: {ids}"
    return f"apply refused: {exc}"


def _read_reviewed(path: str) -> ReviewedChangeSet:
    """The saved change set file; one whose change set no longer matches its digest (edited, or
    damaged) is refused."""
    data = read_data(Path(path), prefix="not a saved change set: ")
    if not isinstance(data, dict) or data.get("format") != REVIEWED_FORMAT:
        raise InputError(
            "not a change set saved by `ndis-rules sync preview --save FILE`", source=path
        )
    try:
        saved = ReviewedChangeSet.model_validate(data)
    except ValidationError as exc:
        err = input_error_from(exc, path)
        raise InputError(
            f"not a saved change set: {'; '.join(err.problems)}", source=path
        ) from None
    if change_set_digest(saved.change_set) != saved.change_set_digest or (
        saved.change_set.contract_id,
        saved.change_set.contract_version,
        saved.change_set.plan_id,
    ) != (saved.contract_id, saved.contract_version, saved.plan_id):
        raise InputError(
            "the change set changed since it was saved (its digest does not match): preview "
            "and save it again; nothing was written",
            source=path,
        )
    return saved


def _check_saved_matches(
    args: argparse.Namespace, saved: ReviewedChangeSet, contract_id: str
) -> None:
    if contract_id != saved.contract_id:
        raise InputError(
            f"the saved change set is for contract {saved.contract_id}, not {contract_id}; "
            "nothing was written",
            source=args.changes,
        )
    if args.plan_id is not None and args.plan_id != saved.plan_id:
        raise InputError(
            f"--plan-id {args.plan_id}: the saved change set is for plan {saved.plan_id}",
            source=args.changes,
        )
    if args.on is not None:
        raise InputError("--on goes with sync preview: the saved change set names its plan")


def _check_plan_unmoved(
    args: argparse.Namespace, contract: Contract, saved: ReviewedChangeSet
) -> None:
    """Read the plan again (only to compare it; it is never applied) and refuse when PACE
    changed it since the review."""
    if contract.participant is not None and contract.participant != args.participant:
        raise InputError(
            f"contract {contract.id} is participant {contract.participant}'s, not "
            f"{args.participant}'s"
        )
    who = _participant(args)
    if not Path(args.plans).is_dir():
        raise InputError("not a folder of PACE plan files", source=args.plans)
    plans = _fetch(args.plans, who)
    now = [p for p in plans if p.plan_id == saved.plan_id]
    if not now:
        raise InputError(
            f"plan {saved.plan_id} is no longer in PACE: preview again; nothing was written",
            source=args.plans,
        )
    if len(now) > 1 or plan_digest(now[0]) != saved.plan_digest:
        raise InputError(
            f"plan {saved.plan_id} changed in PACE since the change set was saved: preview and "
            "review again; nothing was written",
            source=args.plans,
        )


def _stale_saved(contract_id: str, saved: ReviewedChangeSet, actual: int) -> InputError:
    return InputError(
        f"contract {contract_id} is at version {actual}, not the expected version "
        f"{saved.contract_version} the change set was built on: it changed since the review; "
        "nothing was written, preview again"
    )


def _apply_file(args: argparse.Namespace, out: TextIO, saved: ReviewedChangeSet) -> int:
    source = Path(args.contract)
    target = Path(args.out) if args.out is not None else source
    if args.out is None and source.suffix.lower() in (".yaml", ".yml"):
        raise InputError(
            "a YAML contract is not overwritten with JSON: give --out FILE", source=str(source)
        )
    first = read_contract(source)
    _check_expected(args, first)
    _check_saved_matches(args, saved, first.id)
    _check_plan_unmoved(args, first, saved)
    change_set = saved.change_set
    _check_accept(change_set, args.accept)
    if first.version != saved.contract_version:
        raise _stale_saved(first.id, saved, first.version)
    try:  # a refusal (conflicts not accepted, NEW_PLAN) is known before any lock is taken
        apply(first, change_set, accept=args.accept)
    except ApplyRefused as exc:
        _report(args, out, change_set, applied=None, written_to=None, refused=_refusal(exc))
        return EXIT_CONFLICTS
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(target.parent if str(target.parent) else Path(".")))
        except OSError as exc:
            raise InputError(
                f"cannot lock the contract's folder: {exc.strerror or exc}; nothing was written",
                source=str(target),
            ) from None
        # locked: compare the version, then write; two applies at once cannot both succeed
        contract = read_contract(source)
        if contract.version != saved.contract_version:
            raise _stale_saved(contract.id, saved, contract.version)
        try:
            new = apply(contract, change_set, accept=args.accept)
        except StaleChangeSet as exc:  # pragma: no cover - the version was compared above
            raise InputError(str(exc)) from None
        except ApplyRefused as exc:
            _report(args, out, change_set, applied=None, written_to=None, refused=_refusal(exc))
            return EXIT_CONFLICTS
        if new is contract and args.out is None:
            _report(args, out, change_set, applied=None, written_to=None)
            return EXIT_OK
        if args.out is None:
            # a writer that does not take the lock (an editor): refuse rather than overwrite
            again = read_contract(source)
            if again.version != contract.version:
                raise _stale_saved(contract.id, saved, again.version)
        write_contract_file(new, target)
    _report(args, out, change_set, applied=new, written_to=str(target))
    return EXIT_OK


def _apply_store(args: argparse.Namespace, out: TextIO, saved: ReviewedChangeSet) -> int:
    with _opened_store(args.store) as repo:
        _check_saved_matches(args, saved, args.contract_id)
        contract = _store_get(repo, args.contract_id, args.store)
        _check_expected(args, contract)
        _check_plan_unmoved(args, contract, saved)
        change_set = saved.change_set
        _check_accept(change_set, args.accept)
        if contract.version != saved.contract_version:
            raise _stale_saved(contract.id, saved, contract.version)
        try:  # the store compares the version and writes in one step (lock or transaction)
            stored = sync_apply(repo, change_set, accept=args.accept)
        except (StaleChangeSet, StaleContractError):  # another apply came first
            actual = _store_get(repo, args.contract_id, args.store).version
            raise _stale_saved(contract.id, saved, actual) from None
        except ApplyRefused as exc:
            _report(args, out, change_set, applied=None, written_to=None, refused=_refusal(exc))
            return EXIT_CONFLICTS
        except StoreError as exc:
            raise InputError(f"{exc}; nothing was written", source=args.store) from None
    if stored.version == saved.contract_version:  # an empty change set: nothing written
        _report(args, out, change_set, applied=None, written_to=None)
    else:
        _report(args, out, change_set, applied=stored, written_to=f"store {args.store}")
    return EXIT_OK


def _cmd_apply(args: argparse.Namespace, out: TextIO) -> int:
    _check_where(args)
    if args.changes is None:
        raise InputError(
            "sync apply applies a reviewed change set only: run `ndis-rules sync preview ... "
            "--save FILE`, read it, then `ndis-rules sync apply ... --changes FILE` (apply never "
            "fetches PACE's plan again to apply it; `sync batch --apply` is the unattended form)"
        )
    saved = _read_reviewed(args.changes)
    if args.store is not None:
        return _apply_store(args, out, saved)
    return _apply_file(args, out, saved)


# -- registration --------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--contract", metavar="FILE", help="contract JSON (or YAML) file")
    where.add_argument(
        "--store",
        metavar="STORE",
        help="SQLite contract store file, or a JSON-file store folder (with --contract-id)",
    )
    p.add_argument("--contract-id", metavar="ID", help="the contract's id in --store")
    p.add_argument(
        "--plans",
        required=True,
        metavar="DIR",
        help="folder of PACE plan JSON files (docs/pace-plan-format.md)",
    )
    p.add_argument(
        "--participant",
        required=True,
        type=_ndis_number,
        metavar="NDIS_NUMBER",
        help="the participant's NDIS number",
    )
    p.add_argument("--last-name", metavar="NAME", help="the participant's last name (with --dob)")
    p.add_argument(
        "--dob",
        type=_date,
        metavar="DATE",
        help="the participant's date of birth (with --last-name)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--plan-id", metavar="ID", help="sync the plan with this PACE plan id")
    which.add_argument("--on", type=_date, metavar="DATE", help="sync the plan covering this date")
    add_today_options(p, metavar="DATE")
    p.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="CODE",
        help="accept a conflict: a code (all of that code) or a conflict id CODE:SUBJECT "
        "(repeatable)",
    )
    p.add_argument("--format", default="table", choices=["table", "json"])


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sync preview`` and ``sync apply`` to the ``ndis-rules`` subcommands."""
    s = sub.add_parser("sync", help="sync a contract with the participant's PACE plan")
    ssub = s.add_subparsers(dest="sync_command", required=True)

    p = ssub.add_parser("preview", help="show what syncing the PACE plan would change")
    _common(p)
    p.add_argument(
        "--save",
        metavar="FILE",
        help="save the change set shown (with the contract version and a digest of the plan) "
        "for sync apply --changes FILE",
    )
    p.set_defaults(handler=_cmd_preview)

    a = ssub.add_parser(
        "apply", help="apply a reviewed change set (saved by preview --save) to the contract"
    )
    _common(a)
    a.add_argument(
        "--changes",
        metavar="FILE",
        help="the change set saved by sync preview --save FILE: applied exactly; refused "
        "(exit 2) when the contract's version or PACE's plan moved since (required)",
    )
    a.add_argument(
        "--out",
        metavar="FILE",
        help="write the new contract here (default: overwrite --contract atomically)",
    )
    a.add_argument(
        "--expected-version",
        type=_version,
        metavar="N",
        help="refuse (exit 2) unless the saved change set was built on this version",
    )
    a.set_defaults(handler=_cmd_apply)

    from .sync_batch import register_batch

    register_batch(ssub)
