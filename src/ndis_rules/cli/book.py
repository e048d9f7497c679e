"""The ``ndis-rules book`` commands: a thin shell over :class:`ndis_rules.services.book.Book`
(docs/workflow.md walks them on the example book).

Exit codes: 0 done; 1 done, but some rows need a person (error lines in a check, results rows
that matched no line or several, key conflicts); 2 bad input or a refused operation (nothing
written).

This module does not import :mod:`ndis_rules.cli` (which imports it to register the commands).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final, TextIO

from ..adapters.book_sqlite import SqliteBookStore
from ..adapters.proda_jsonfile import JsonFileProdaGateway
from ..book import BudgetRow, LineKey, digest
from ..catalogue import STATES, normalise_region
from ..daytypes import HolidayCalendar, NoHolidays
from ..errors import InputError
from ..files.bpr import read_bpr
from ..files.catalogue import detect_and_load
from ..files.contracts import load_contracts
from ..files.documents import load_yaml_or_json, read_settings, validate_model
from ..itemchecks import CatalogueContext
from ..merge import select_plan
from ..models import Settings
from ..money import Money
from ..pace import PacePlan
from ..services.book import Book, CheckOutcome
from .batch import exit_code, retries_arg
from .bookings import (
    ProgressDisplay,
    _check_gateway_file,
    format_sync_table,
    read_participants,
    sync_to_dict,
)
from .common import add_today_options, today_from
from .common import iso_date as _date

__all__ = ["format_report_table", "register"]

EXIT_OK, EXIT_ATTENTION, EXIT_INPUT = 0, 1, 2
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "'")


def _open(path: str, *, create: bool = False) -> Book:
    p = Path(path)
    if not create and not p.is_file():
        raise InputError("no such book: create it with `ndis-rules book init`", source=path)
    return Book(SqliteBookStore(p))


def _read_text(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", source=path) from None


def _plan(path: str, today: date, plan_id: str | None) -> tuple[str, PacePlan]:
    raw = _read_text(path)
    data = load_yaml_or_json(raw, path)
    if isinstance(data, dict) and "plans" in data:
        plans = [
            validate_model(PacePlan, p, f"{path} plans[{i}]") for i, p in enumerate(data["plans"])
        ]
        plan = select_plan(plans, plan_id=plan_id, on=None if plan_id else today)
        return json.dumps(plan.model_dump(mode="json", by_alias=True), sort_keys=True), plan
    return raw, validate_model(PacePlan, data, path)


def _catalogue(args: argparse.Namespace) -> tuple[CatalogueContext | None, dict[str, str]]:
    if args.catalogue is None:
        if args.region or args.state or args.holidays:
            raise InputError("--region, --state and --holidays need --catalogue FILE")
        return None, {}
    state: str | None = args.state.strip().upper() if args.state else None
    if state is not None and state not in STATES:
        raise InputError(f"unknown state {args.state!r}: expected one of {', '.join(STATES)}")
    calendar: HolidayCalendar = NoHolidays()
    if args.holidays:
        if state is None:
            raise InputError("--holidays needs --state (public holidays differ by state)")
        try:
            from ..adapters.holidays_au import HolidaysAuCalendar

            calendar = HolidaysAuCalendar()
        except ImportError as exc:
            raise InputError(f"--holidays: {exc}") from None
    region = args.region or state or "national"
    normalise_region(region)
    path = Path(args.catalogue)
    identity = {
        "name": path.name,
        "sha256": digest(path.read_bytes()),
        "region": region,
        "state": state or "",
        "holidays": "yes" if args.holidays else "no",
    }
    context = CatalogueContext(detect_and_load(path), region=region, state=state, holidays=calendar)
    return context, identity


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


# -- commands -----------------------------------------------------------------------------------
def _cmd_init(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book, create=True)
    version = book.init()
    out.write(f"book {args.book}: ready (version {version})\n")
    return EXIT_OK


def _cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    contracts = load_contracts(args.folder)
    source = digest(*(c.model_dump_json() for c in contracts))
    result = book.import_contracts(contracts, source_digest=source)
    out.write(
        f"contracts: {len(result.added)} added, {len(result.already)} already in the book, "
        f"{len(result.differing)} differ from the book's (not changed: sync them)\n"
    )
    for cid in result.added:
        out.write(f"  added {cid}\n")
    for cid in result.differing:
        out.write(f"  DIFFERS {cid}\n")
    return EXIT_ATTENTION if result.differing else EXIT_OK


def _used(pairs: Sequence[str]) -> dict[str, Money]:
    used: dict[str, Money] = {}
    for pair in pairs:
        key, sep, amount = pair.partition("=")
        if not sep:
            raise InputError(f"--used takes CATEGORY[:MANAGEMENT]=AMOUNT, got {pair!r}")
        try:
            used[key.strip()] = Money.parse(amount.strip())
        except (ValueError, ArithmeticError) as exc:
            raise InputError(f"--used {pair!r}: {exc}") from None
    return used


def _cmd_new_contract(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    today = today_from(args)
    raw, plan = _plan(args.plan, today, args.plan_id)
    contract_id = args.id or plan.plan_id
    contract = book.new_contract(
        raw, plan, contract_id, _used(args.used), on=args.used_on, accept=args.accept
    )
    out.write(
        f"contract {contract.id} v{contract.version} from plan {plan.plan_id}: "
        f"{len(contract.budgets)} budget(s), total {contract.total}\n"
    )
    for d in contract.delivered:
        out.write(f"  adjustment {d.id}: {d.amount} used before ({d.category}:{d.management})\n")
    return EXIT_OK


def _cmd_sync_preview(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    today = today_from(args)
    raw, plan = _plan(args.plan, today, args.plan_id)
    record, cs = book.sync_preview(args.contract, raw, plan, today=today, save=args.save)
    out.write(cs.summary() + "\n")
    if args.save:
        out.write(
            f"saved change set {record.id} (apply: ndis-rules book sync-apply BOOK {record.id})\n"
        )
    return EXIT_OK


def _cmd_sync_apply(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    contract = book.sync_apply(args.change_set, accept=args.accept)
    out.write(
        f"applied {args.change_set}: contract {contract.id} is at version {contract.version}\n"
    )
    return EXIT_OK


def _check_table(result: CheckOutcome, source: str) -> str:
    counts = {k: result.count(k) for k in ("recorded", "already", "key_conflict", "not_recorded")}
    checked = result.count("checked")
    s = result.report.summary
    head = (
        f"book check of {source}: {len(result.rows)} row(s); checked {s.lines}: "
        f"{s.allowed} allowed, {s.warnings} warning, {s.errors} error"
    )
    out = [head]
    if checked:
        out.append(f"not recorded (no --record): {checked} row(s) checked only")
    else:
        out.append(
            f"recorded {counts['recorded']} new line(s); {counts['already']} already in the book "
            f"(recorded nothing twice); {counts['not_recorded']} error line(s) not recorded"
        )
    if counts["key_conflict"]:
        out.append(
            f"{counts['key_conflict']} row(s) reuse a key the book holds for a different line"
        )
    for r in result.rows:
        o = r.outcome
        if r.status == "key_conflict":
            out.append(f"  KEY CONFLICT {r.key.text}: the book holds another line under this key")
        elif o is not None and o.outcome != "allowed":
            out.append(f"  row {o.row:<5} {o.outcome.upper():<7} {r.key.text}")
            for code, message, severity in zip(
                o.message_codes, o.messages, o.message_severities, strict=True
            ):
                if severity != "info":
                    out.append(f"           {code}: {message}")
    return "\n".join(out)


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    settings = read_settings(args.settings) if args.settings else Settings()
    catalogue, identity = _catalogue(args)
    data = Path(args.file).read_bytes() if Path(args.file).is_file() else b""
    results = read_bpr(args.file)
    result = book.check(
        results,
        today=today_from(args),
        source=Path(args.file).name,
        file_digest=digest(data),
        record=args.record,
        settings=settings,
        catalogue=catalogue,
        catalogue_identity=identity,
    )
    if args.format == "json":
        rows = []
        for r in result.rows:
            item: dict[str, Any] = {"key": r.key.text, "book": r.status}
            if r.outcome is not None:
                item.update(r.outcome.to_dict())
            rows.append(item)
        out.write(
            json.dumps(
                {
                    "summary": result.report.summary.to_dict(),
                    "batch": result.batch_id,
                    "rows": rows,
                },
                indent=2,
            )
            + "\n"
        )
    else:
        out.write(_check_table(result, Path(args.file).name) + "\n")
    attention = result.report.summary.errors or result.count("key_conflict")
    return EXIT_ATTENTION if attention else EXIT_OK


def _cmd_bookings(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    entries = read_participants(args.participants)
    gateway_path = Path(args.gateway)
    _check_gateway_file(gateway_path)
    today = today_from(args)
    display = ProgressDisplay(sys.stderr if args.format == "json" else out)
    try:
        result = book.bookings(
            [e.participant() for e in entries],
            JsonFileProdaGateway(gateway_path),
            today=today,
            contract_ids={e.ndis_number: e.contracts for e in entries if e.contracts},
            retries=args.retries,
            plan_manager=args.plan_manager,
            progress=display,
        )
    finally:
        display.close()
    report = result.report
    if args.format == "json":
        doc = sync_to_dict(report, today)
        doc["book"] = {
            "recorded": [
                {"booking_id": b.booking_id, "contract": b.contract_id, "budget": b.budget,
                 "support": b.item}
                for b in result.recorded
            ],
            "already": list(result.already),
            "contracts_updated": list(result.contracts),
        }  # fmt: skip
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        out.write(format_sync_table(report) + "\n")
        out.write(
            f"book: recorded {len(result.recorded)} booking id(s); {len(result.already)} already "
            f"in the book (recorded nothing twice); {len(result.contracts)} contract(s) updated\n"
        )
        for b in result.recorded:
            what = f"support {b.item} ({b.budget})" if b.item else f"budget {b.budget}"
            out.write(f"  {b.booking_id}: contract {b.contract_id}, {what}\n")
    return exit_code(report, attention=any(r.left_out for r in report.results))


def _cmd_submit(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    result = book.submit(Path(args.out), date_format=args.date_format)
    if result.submission is None:
        out.write("nothing to submit: no recorded line waits (no folder written)\n")
        return EXIT_OK
    out.write(
        f"submission {result.submission}: {len(result.keys)} line(s) in {len(result.files)} "
        f"file(s) written to {result.folder}\n"
    )
    for name in result.files:
        out.write(f"  {name}\n")
    return EXIT_OK


def _cmd_files(args: argparse.Namespace, out: TextIO) -> int:
    names = _open(args.book).rewrite_uploads(args.submission, Path(args.out))
    out.write(f"wrote {len(names)} file(s) of {args.submission} to {args.out}\n")
    return EXIT_OK


def _cmd_results(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    result = book.results(_read_text(args.file), source=Path(args.file).name)
    out.write(
        f"results {Path(args.file).name}: {len(result.matches)} row(s): {len(result.paid)} paid, "
        f"{len(result.rejected)} rejected, {result.count('already')} already applied, "
        f"{result.count('unmatched')} unmatched, {result.count('ambiguous')} ambiguous, "
        f"{result.count('unreadable')} unreadable\n"
    )
    for m in result.matches:
        r = m.row
        if m.kind == "matched":
            line = result.lines[m.keys[0]]
            if line.state == "paid":
                capped = " (capped price)" if line.capped else ""
                out.write(f"  row {r.row:<4} PAID     {line.key.text} {line.paid_amount}{capped}\n")
            else:
                out.write(f"  row {r.row:<4} REJECTED {line.key.text}: {line.ndia_reason}\n")
                if line.rule_code or line.fix:
                    out.write(
                        f"           our code: {line.rule_code or '-'}; fix: {line.fix or '-'}\n"
                    )
        elif m.kind in {"unmatched", "ambiguous"}:
            what = (
                "matches no submitted line"
                if m.kind == "unmatched"
                else ("matches several lines: " + ", ".join(k.text for k in m.keys))
            )
            out.write(
                f"  row {r.row:<4} {m.kind.upper()} {r.claim_reference} {r.support_number} "
                f"{r.from_}: {what} (nothing changed)\n"
            )
        elif m.kind == "unreadable":
            for p in r.problems:
                out.write(f"  UNREADABLE {p}\n")
    attention = result.count("unmatched") + result.count("ambiguous") + result.count("unreadable")
    return EXIT_ATTENTION if attention else EXIT_OK


def _cmd_cancel(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    keys = [LineKey.parse(k) for k in args.keys]
    done = book.cancel(keys, reason=args.reason or "")
    for k in done:
        out.write(f"cancelled {k.text}: its money is released\n")
    return EXIT_OK


_REPORT_FIELDS: Final = (
    "participant", "contract", "budget", "period", "start", "end", "total", "released",
    "earlier", "recorded", "submitted", "paid", "available", "runs_out", "runs_out_before_end",
)  # fmt: skip


def format_report_table(rows: Sequence[BudgetRow], today: date) -> str:
    """The report as a plain-text table."""
    head = (
        f"{'participant':<11} {'budget':<10} {'period':<6} {'total':>10} {'released':>10} "
        f"{'earlier':>9} {'recorded':>9} {'submitted':>9} {'paid':>9} {'available':>10}  runs out"
    )
    out = [f"book report as of {today}", head]
    for r in rows:
        runs = "-"
        if r.runs_out is not None:
            runs = r.runs_out.isoformat() + (" BEFORE END" if r.before_end else "")
        out.append(
            f"{r.participant:<11} {r.budget:<10} {r.period or '-':<6} {r.total!s:>10} "
            f"{r.released!s:>10} {r.earlier!s:>9} {r.recorded!s:>9} {r.submitted!s:>9} "
            f"{r.paid!s:>9} {r.available!s:>10}  {runs}"
        )
    return "\n".join(out)


def _pending(args: argparse.Namespace, book: Book, today: date) -> tuple[int, list[Any]]:
    settings = read_settings(args.settings) if args.settings else Settings()
    catalogue, _ = _catalogue(args)
    return book.pending(read_bpr(args.pending), today=today, settings=settings, catalogue=catalogue)


def _pending_dict(p: Any) -> dict[str, Any]:
    return {
        "key": p.key.text,
        "row": p.row,
        "alone": p.alone.outcome,
        "together": p.together.outcome,
        "codes": list(p.together.codes),
        "messages": [
            m
            for m, sev in zip(p.together.messages, p.together.message_severities, strict=True)
            if sev == "error"
        ],
    }


def _cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    today = today_from(args)
    rows = book.report(today)
    if args.pending is None and (args.settings or args.catalogue):
        raise InputError("--settings and --catalogue go with --pending FILE")
    if args.pending is not None and args.format == "csv":
        raise InputError("--pending is shown with --format table or json (one CSV per table)")
    if args.pending is not None:
        count, failing = _pending(args, book, today)
        if args.format == "json":
            doc = {
                "budgets": [r.to_dict() for r in rows],
                "pending": {
                    "file": args.pending,
                    "lines": count,
                    "would_fail_together": [_pending_dict(p) for p in failing],
                },
            }
            out.write(json.dumps(doc, indent=2) + "\n")
            return EXIT_ATTENTION if failing else EXIT_OK
        out.write(format_report_table(rows, today) + "\n\n")
        out.write(
            f"pending lines of {Path(args.pending).name} as if submitted together: {count} "
            f"line(s) not in the book, {len(failing)} would fail because of the others\n"
        )
        for p in failing:
            d = _pending_dict(p)
            out.write(
                f"  row {p.row:<5} {p.key.text}: {p.alone.outcome} alone, ERROR together "
                f"({' '.join(d['codes'])})\n"
            )
            for m in d["messages"]:
                out.write(f"           {m}\n")
        return EXIT_ATTENTION if failing else EXIT_OK
    if args.format == "json":
        out.write(json.dumps([r.to_dict() for r in rows], indent=2) + "\n")
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(_REPORT_FIELDS)
        for r in rows:
            d = r.to_dict()
            writer.writerow([_safe("" if d[f] is None else str(d[f])) for f in _REPORT_FIELDS])
        out.write(buffer.getvalue())
    else:
        out.write(format_report_table(rows, today) + "\n")
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    book = _open(args.book)
    catalogue, identity = _catalogue(args)
    today = today_from(args)
    e = book.explain(
        LineKey.parse(args.key), today=today, catalogue=catalogue, catalogue_identity=identity
    )
    line = e.line
    out.write(
        f"claim line {line.key.text}: {line.state}, {line.amount} on contract {line.contract_id} "
        f"(attempt {line.attempt})\n"
    )
    for h in line.history:
        out.write(
            f"  {h.at} {h.state:<9} {h.operation}" + (f" ({h.note})" if h.note else "") + "\n"
        )
    out.write(
        f"recorded by check {e.batch.id} of {e.batch.source} row {line.row}, as of "
        f"{e.batch.today}, tool {e.batch.tool_version}, contract versions "
        + ", ".join(f"{k} v{v}" for k, v in sorted(e.batch.contract_versions.items()))
        + "\n"
    )
    draws = "; ".join(
        f"{d.amount} from {d.budget}" + (f" {d.period}" if d.period else "") for d in line.draws
    )
    out.write(f"decision then: {line.outcome} {' '.join(line.codes) or '-'}; draws {draws}\n")
    if e.same:
        out.write("replayed from its stored inputs: the same decision\n")
    else:
        out.write("replayed from its stored inputs: DIFFERENT\n")
        for d in e.differences:
            out.write(f"  {d}\n")
    if e.today is not None:
        t = e.today
        out.write(
            f"checked again as of {today}: {t.outcome} {' '.join(t.codes) or '-'}; draws "
            f"{t.draws_text or 'nothing'}\n"
        )
    if e.changed_since:
        out.write("changed since:\n")
        for c in e.changed_since:
            out.write(f"  {c}\n")
    return EXIT_OK if e.same else EXIT_ATTENTION


# -- the parser ---------------------------------------------------------------------------------
def _today_args(p: argparse.ArgumentParser) -> None:
    add_today_options(p)


def _catalogue_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalogue", help="NDIS Support Catalogue file (.csv or .xlsx)")
    p.add_argument("--region", help="price region (national, remote, very_remote or a state)")
    p.add_argument("--state", help="state for public holidays and prices")
    p.add_argument("--holidays", action="store_true", help="check public holidays (--state)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``book`` command group."""
    b = sub.add_parser("book", help="the plan manager's book: record, submit, results, report")
    bsub = b.add_subparsers(dest="book_command", required=True)

    p = bsub.add_parser("init", help="create a book (an SQLite file)")
    p.add_argument("book")
    p.set_defaults(handler=_cmd_init)

    p = bsub.add_parser("import-contracts", help="add the contracts of a folder (or store)")
    p.add_argument("book")
    p.add_argument("folder")
    p.set_defaults(handler=_cmd_import)

    p = bsub.add_parser("new-contract", help="create a contract from a PACE plan")
    p.add_argument("book")
    p.add_argument("--plan", required=True, help="PACE plan JSON (one plan, or {plans: [...]})")
    p.add_argument("--plan-id", help="which plan of the file (default: the one covering today)")
    p.add_argument("--id", help="the contract id (default: the plan id)")
    p.add_argument(
        "--used", action="append", default=[], metavar="CATEGORY[:MANAGEMENT]=AMOUNT",
        help="funds used before this contract (an adjustment per budget)",
    )  # fmt: skip
    p.add_argument("--used-on", type=_date, help="date of the adjustments")
    p.add_argument("--accept", action="append", default=[], help="conflict code or id accepted")
    _today_args(p)
    p.set_defaults(handler=_cmd_new_contract)

    p = bsub.add_parser("sync-preview", help="preview a sync with a PACE plan (and save it)")
    p.add_argument("book")
    p.add_argument("--contract", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--plan-id")
    p.add_argument("--save", action="store_true", help="keep the change set; prints its id")
    _today_args(p)
    p.set_defaults(handler=_cmd_sync_preview)

    p = bsub.add_parser("sync-apply", help="apply exactly a saved change set")
    p.add_argument("book")
    p.add_argument("change_set")
    p.add_argument("--accept", action="append", default=[], help="conflict code or id accepted")
    p.set_defaults(handler=_cmd_sync_apply)

    p = bsub.add_parser("check", help="check a bulk payment request (and record it)")
    p.add_argument("book")
    p.add_argument("file")
    p.add_argument("--record", action="store_true", help="record allowed and warned lines")
    p.add_argument("--settings", help="settings JSON file")
    p.add_argument("--format", default="table", choices=["table", "json"])
    _catalogue_args(p)
    _today_args(p)
    p.set_defaults(handler=_cmd_check)

    p = bsub.add_parser(
        "bookings",
        help="run the PRODA bookings batch for the book's legacy contracts; record the ids",
    )
    p.add_argument("book")
    p.add_argument(
        "--participants",
        required=True,
        help="JSON list of participants: ndis_number, name, date_of_birth (contracts: optional "
        "ids of the book's contracts; default: all the book's contracts of the participant)",
    )
    p.add_argument(
        "--gateway",
        required=True,
        help="JSON PRODA store file (an offline stand-in for a real gateway; updated in place)",
    )
    _today_args(p)
    p.add_argument(
        "--retries",
        type=retries_arg,
        default=2,
        help="extra attempts after a timeout or unavailable gateway (default 2)",
    )
    p.add_argument("--plan-manager", help="provider making the bookings (plan manager id)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.set_defaults(handler=_cmd_bookings)

    p = bsub.add_parser("submit", help="write the recorded lines' upload files")
    p.add_argument("book")
    p.add_argument("--out", required=True, help="a new (or empty) folder")
    p.add_argument("--date-format", default="%Y/%m/%d")
    p.set_defaults(handler=_cmd_submit)

    p = bsub.add_parser("files", help="write a submission's upload files again")
    p.add_argument("book")
    p.add_argument("submission")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=_cmd_files)

    p = bsub.add_parser("results", help="apply the NDIA's bulk payment results file")
    p.add_argument("book")
    p.add_argument("file")
    p.set_defaults(handler=_cmd_results)

    p = bsub.add_parser("cancel", help="cancel claim lines before payment")
    p.add_argument("book")
    p.add_argument("keys", nargs="+", metavar="PROVIDER/REFERENCE/LINE")
    p.add_argument("--reason")
    p.set_defaults(handler=_cmd_cancel)

    p = bsub.add_parser("report", help="money per participant, budget and funding period")
    p.add_argument("book")
    p.add_argument("--format", default="table", choices=["table", "csv", "json"])
    p.add_argument(
        "--pending",
        metavar="FILE",
        help="a BPR file checked but not recorded: list its lines that pass alone but would fail "
        "if submitted together (exit 1 when one would)",
    )
    p.add_argument("--settings", help="settings JSON file for --pending")
    _catalogue_args(p)
    _today_args(p)
    p.set_defaults(handler=_cmd_report)

    p = bsub.add_parser("explain", help="replay a recorded line from its stored inputs")
    p.add_argument("book")
    p.add_argument("key", metavar="PROVIDER/REFERENCE/LINE")
    _catalogue_args(p)
    _today_args(p)
    p.set_defaults(handler=_cmd_explain)
