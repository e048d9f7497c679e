"""The ``ndis-rules sync batch`` command: preview every participant's PACE contract against the
plan PACE holds (spec/sync.md, across the book), with the bookings batch's progress counters.

``sync batch --participants FILE --plans DIR --store SQLITE [--apply] [--accept CODE ...]
[--today D] [--retries N] [--format table|json]``

* Preview only by default: nothing is written. With ``--apply``, each change set without
  unaccepted conflicts is applied and saved (optimistic versioning); one with a conflict left is
  not, and its participant is counted ``failed``.
* The participants file is a JSON list of ``{"ndis_number", "last_name", "date_of_birth"}``
  (what PACE needs to look a participant up). Each participant's active PACE contract is found
  in the store (the one covering today, else the next to start).
* Exit 0: every participant synced (previewed, or applied with ``--apply``) with nothing left to
  look at; 1: some participant needs attention (a conflict not accepted, a reassessment, refused
  by PACE, no active contract, or not finished: re-run); 2: bad input (nothing is written).

Only NDIS numbers appear in the output (never names or dates of birth).

This module does not import :mod:`ndis_rules.cli` (which imports it to register the command).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ..adapters.pace_jsondir import JsonDirPaceSource
from ..errors import InputError, StoreError
from ..pace import ParticipantRef
from ..services.sync import BatchReport, BatchResult, sync_batch
from .batch import (
    BatchProgressDisplay,
    attention_lines,
    counters_dict,
    counters_line,
    exit_code,
    read_model_list,
    refuse_repeated_numbers,
    retries_arg,
)

__all__ = ["batch_to_dict", "format_batch_table", "read_batch_participants", "register_batch"]


def read_batch_participants(path: str | Path) -> list[ParticipantRef]:
    """The participants file: a JSON list of ``ndis_number``, ``last_name``, ``date_of_birth``
    (camelCase accepted). A repeated NDIS number is an error naming its position."""
    people = read_model_list(path, ParticipantRef, "participants")
    refuse_repeated_numbers(people, str(Path(path)))
    return people


def _result_dict(r: BatchResult) -> dict[str, Any]:
    cs = r.change_set
    return {
        "ndis_number": r.participant.ndis_number,
        "contract": r.contract_id,
        "outcome": r.outcome,
        "message": r.message,
        "in_sync": r.in_sync,
        "applied": r.applied,
        "unresolved": list(r.unresolved),
        "change_set": cs.model_dump(mode="json") if cs is not None else None,
    }


def batch_to_dict(report: BatchReport, today: date) -> dict[str, Any]:
    """The JSON document of ``sync batch``."""
    return {
        "today": today.isoformat(),
        "applied": report.applied,
        "counters": counters_dict(report),
        "results": [_result_dict(r) for r in report.results],
    }


def format_batch_table(report: BatchReport) -> str:
    """The counters, what changed, then each participant needing attention with the reason."""
    mode = "applied" if report.applied else "preview only: nothing written (--apply to apply)"
    lines = [counters_line(report), f"contracts with changes: {report.changes} ({mode})"]
    for r in report.results:
        if r.outcome == "success" and r.change_set is not None and r.change_set.has_changes:
            what = "applied" if r.applied else "would change"
            lines.append(f"  {r.participant.ndis_number} [contract {r.contract_id}]: {what}: "
                         f"{r.change_set.summary()}")
    lines += attention_lines(report.results, _ndis_number, failed="needs attention")
    return "\n".join(lines)


def _ndis_number(who: ParticipantRef) -> str:
    return who.ndis_number


def _cmd_batch(args: argparse.Namespace, out: TextIO) -> int:
    from ..adapters.sqlite_store import SqliteContractRepository
    from .common import today_from

    people = read_batch_participants(args.participants)
    if not Path(args.plans).is_dir():
        raise InputError("not a folder of PACE plan files", source=args.plans)
    if not Path(args.store).is_file():
        raise InputError("no such contract store (an SQLite file)", source=args.store)
    today = today_from(args)
    try:
        repo = SqliteContractRepository(args.store)
    except StoreError as exc:
        raise InputError(f"cannot open the contract store: {exc}", source=args.store) from None
    display = BatchProgressDisplay[ParticipantRef](sys.stderr if args.format == "json" else out)
    try:
        report = sync_batch(
            repo,
            JsonDirPaceSource(args.plans),
            people,
            today=today,
            apply_changes=args.apply,
            accept=args.accept,
            retries=args.retries,
            progress=display,
        )
    except StoreError as exc:
        raise InputError(f"the contract store failed: {exc}", source=args.store) from None
    finally:
        display.close()
        repo.close()
    if args.format == "json":
        out.write(json.dumps(batch_to_dict(report, today), indent=2) + "\n")
    else:
        out.write(format_batch_table(report) + "\n")
    return exit_code(report)


def register_batch(ssub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sync batch`` under the ``sync`` command."""
    from .common import add_today_options

    b = ssub.add_parser(
        "batch", help="preview (or --apply) every participant's PACE contract against PACE"
    )
    b.add_argument(
        "--participants",
        required=True,
        metavar="FILE",
        help="JSON list of participants: ndis_number, last_name, date_of_birth",
    )
    b.add_argument("--plans", required=True, metavar="DIR", help="folder of PACE plan JSON files")
    b.add_argument("--store", required=True, metavar="SQLITE", help="the contract store")
    b.add_argument(
        "--apply",
        action="store_true",
        help="apply each change set without unaccepted conflicts (default: preview only)",
    )
    b.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="CODE",
        help="accept conflicts with this code (or this conflict id); repeatable",
    )
    add_today_options(b)
    b.add_argument(
        "--retries", type=retries_arg, default=2, help="extra attempts after a PACE timeout"
    )
    b.add_argument("--format", default="table", choices=["table", "json"])
    b.set_defaults(handler=_cmd_batch)
