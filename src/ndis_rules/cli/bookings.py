"""The ``ndis-rules bookings`` commands: plan a contract's PRODA service bookings, and run the
batch "sync active plans" job against a PRODA gateway (spec/bookings.md, docs/bookings.md).

* ``bookings plan --contract FILE [--plan-manager ID] [--format table|json]``: the booking
  requests :func:`~ndis_rules.bookings.plan_bookings` plans, and its findings. Exit 0 when no
  finding is an error, 1 when one is, 2 for bad input.
* ``bookings sync --participants FILE --contracts DIR --gateway FILE [--today D] [--retries N]
  [--plan-manager ID] [--format table|json]``:
  :func:`~ndis_rules.services.bookings.sync_active_plans`
  with a progress display. Exit 0 when every participant was synchronised, 1 when any was not
  (failed, uncompleted, or without an active contract) or when planned bookings were left out
  with errors (named under "left out"), 2 for bad input.

The participants file is JSON: a list of objects with
``ndis_number``, ``name`` (the last name PRODA holds), ``date_of_birth`` (``YYYY-MM-DD``) and
``contracts`` (the ids of their contracts, found in the contracts folder). The contracts folder
holds one contract per ``*.json`` file (read with
:func:`~ndis_rules.files.documents.read_contract`).
The gateway file is the JSON PRODA store of
:class:`~ndis_rules.adapters.proda_jsonfile.JsonFileProdaGateway`: an offline stand-in for a
real gateway (HICAPS/LanternPay), updated in place by the sync.

Only the names and NDIS numbers of the participants given appear in the output (never the
date of birth, never another record of the PRODA store).

This module does not import :mod:`ndis_rules.cli` (which imports it to register the commands).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict, Field

from ..adapters.proda_jsonfile import JsonFileProdaGateway
from ..bookings import (
    BookingPlan,
    BookingRequest,
    ServiceBooking,
    plan_bookings,
    store_booking_ids,
)
from ..errors import InputError
from ..files.documents import read_contract, read_data
from ..models import Contract, IsoDate
from ..proda import Participant, ProdaPlan
from ..services.bookings import ParticipantResult, SyncReport, sync_active_plans
from .batch import (
    EXIT_ATTENTION,
    EXIT_OK,
    BatchProgressDisplay,
    attention_lines,
    contract_note,
    counters_dict,
    counters_line,
    exit_code,
    read_model_list,
    refuse_repeated_numbers,
    retries_arg,
    validate_items,
)
from .common import add_today_options, today_from

__all__ = [
    "ParticipantEntry",
    "ProgressDisplay",
    "format_plan_table",
    "format_sync_table",
    "plan_to_dict",
    "read_contracts_dir",
    "read_participants",
    "register",
    "sync_to_dict",
]



# -- inputs --------------------------------------------------------------------------------------


class ParticipantEntry(BaseModel):
    """One participant of the participants file: who PRODA looks up, and their contract ids."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ndis_number: str = Field(min_length=1)
    name: str = Field(min_length=1, description="the participant's (last) name, as in PRODA")
    date_of_birth: IsoDate
    contracts: tuple[str, ...] = Field(default=(), description="ids of the participant's contracts")

    def participant(self) -> Participant:
        """The participant as the gateway looks them up."""
        return Participant(
            ndis_number=self.ndis_number, name=self.name, date_of_birth=self.date_of_birth
        )


def read_participants(path: str | Path) -> list[ParticipantEntry]:
    """Read the participants file: a JSON list of :class:`ParticipantEntry` objects. A repeated
    NDIS number is an error."""
    entries = read_model_list(path, ParticipantEntry, "participants")
    refuse_repeated_numbers(entries, str(Path(path)))
    return entries


def read_contracts_dir(path: str | Path) -> dict[str, tuple[Path, Contract]]:
    """Every contract of a folder (one per ``*.json`` file, in name order), by contract id.
    Two files with the same contract id are an error."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError("not a folder of contract files", source=str(folder))
    found: dict[str, tuple[Path, Contract]] = {}
    for file in sorted(folder.glob("*.json")):
        contract = read_contract(file)
        if contract.id in found:
            raise InputError(
                f"contract id {contract.id!r} is also in {found[contract.id][0]}",
                source=str(file),
                loc=("id",),
            )
        found[contract.id] = (file, contract)
    return found


def _contracts_by_participant(
    entries: Sequence[ParticipantEntry],
    contracts: Mapping[str, tuple[Path, Contract]],
    participants_file: str,
    contracts_dir: str,
) -> dict[str, list[Contract]]:
    by_number: dict[str, list[Contract]] = {}
    for n, entry in enumerate(entries):
        mine: list[Contract] = []
        for m, contract_id in enumerate(entry.contracts):
            if contract_id not in contracts:
                raise InputError(
                    f"no contract with id {contract_id!r} in {contracts_dir}",
                    source=participants_file,
                    loc=(n, "contracts", m),
                )
            file, contract = contracts[contract_id]
            if contract.participant not in (None, entry.ndis_number):
                raise InputError(
                    f"contract {contract_id!r} ({file}) is for another participant",
                    source=participants_file,
                    loc=(n, "contracts", m),
                )
            mine.append(contract)
        by_number[entry.ndis_number] = mine
    return by_number


def _check_gateway_file(path: Path) -> None:
    """Refuse a gateway file that is not a PRODA store, before the sync starts (bad input, and
    never a message echoing the store's records)."""
    if not path.is_file():
        raise InputError(
            "no such PRODA store file (create it with {} for an empty store)", source=str(path)
        )
    state = read_data(path)
    if not isinstance(state, dict):
        raise InputError("not a PRODA store file: expected a JSON object", source=str(path))
    sections: tuple[tuple[str, type[BaseModel]], ...] = (
        ("participants", Participant),
        ("plans", ProdaPlan),
        ("bookings", ServiceBooking),
    )
    for section, model in sections:
        items = state.get(section, [])
        if not isinstance(items, list):
            raise InputError("expected a list", source=str(path), loc=(section,))
        validate_items(model, items, str(path), f"{section}.")
    next_id = state.get("next_id", 1)
    if not isinstance(next_id, int) or isinstance(next_id, bool) or next_id < 1:
        raise InputError("expected a whole number of 1 or more", source=str(path), loc=("next_id",))


# -- plan ----------------------------------------------------------------------------------------


def _request_dict(r: BookingRequest) -> dict[str, Any]:
    return {
        "source": r.source,
        "key": r.key,
        "type": r.type,
        "category": r.category,
        "item": r.item,
        "start": r.start.isoformat(),
        "end_inclusive": r.end_inclusive.isoformat(),
        "amount": str(r.amount),
        "provider": r.provider,
    }


def plan_to_dict(contract: Contract, plan: BookingPlan) -> dict[str, Any]:
    """The JSON document of ``bookings plan``."""
    return {
        "contract": contract.id,
        "participant": contract.participant,
        "requests": [_request_dict(r) for r in plan.requests],
        "findings": [f.to_dict() for f in plan.findings],
        "errors": sum(1 for f in plan.findings if f.severity == "error"),
    }


def format_plan_table(contract: Contract, plan: BookingPlan) -> str:
    """The plain-text report of ``bookings plan``: the requests, then the findings."""
    who = f" (participant {contract.participant})" if contract.participant else ""
    lines = [
        f"contract {contract.id}{who}: {len(plan.requests)} booking request(s), "
        f"{len(plan.findings)} finding(s)"
    ]
    if plan.requests:
        rows = [
            (
                r.source,
                r.type,
                r.category + (f" {r.item}" if r.item else ""),
                f"{r.start.isoformat()} to {r.end_inclusive.isoformat()}",
                str(r.amount),
                r.provider or "-",
            )
            for r in plan.requests
        ]
        header = ("source", "type", "category/item", "dates", "amount", "provider")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines.append("")
        for row in [header, *rows]:
            cells = [
                cell.rjust(w) if i == 4 else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  " + "  ".join(cells).rstrip())
    if plan.findings:
        lines.append("")
        lines.append("findings:")
        lines.extend(f"  [{f.severity}] {f.code}: {f.message}" for f in plan.findings)
    return "\n".join(lines)


def _cmd_plan(args: argparse.Namespace, out: TextIO) -> int:
    contract = read_contract(args.contract)
    plan = plan_bookings(contract, plan_manager=args.plan_manager)
    if args.format == "json":
        out.write(json.dumps(plan_to_dict(contract, plan), indent=2) + "\n")
    else:
        out.write(format_plan_table(contract, plan) + "\n")
    return EXIT_ATTENTION if any(f.severity == "error" for f in plan.findings) else EXIT_OK


# -- sync ----------------------------------------------------------------------------------------


class ProgressDisplay(BatchProgressDisplay[Participant]):
    """The progress callback of ``bookings sync`` (see :class:`~.batch.BatchProgressDisplay`):
    plain lines name the participant by name and NDIS number."""

    def label(self, participant: Participant) -> str:
        return participant.label


def _booking_dict(b: ServiceBooking, sources: Mapping[str, str]) -> dict[str, Any]:
    return {
        "booking_id": b.booking_id,
        "source": sources.get(b.booking_id, b.request.source),
        "status": b.status,
        "proda_code": b.proda_code,
        "reason": b.reason,
        "start": b.start.isoformat(),
        "end_inclusive": b.end_inclusive.isoformat(),
        "amount": str(b.request.amount),
    }


def _result_dict(r: ParticipantResult) -> dict[str, Any]:
    sources = {booking_id: source for source, booking_id in r.booking_ids.items()}
    return {
        "ndis_number": r.participant.ndis_number,
        "name": r.participant.name,
        "outcome": r.outcome,
        "message": r.message,
        "contract": r.contract_id,
        "reasons": list(r.reasons),
        "bookings": [_booking_dict(b, sources) for b in r.bookings],
        "created": list(r.created),
        "refreshed": list(r.refreshed),
        "findings": [f.to_dict() for f in r.findings],
        "actions": [
            {
                "source": a.source,
                "action": a.action,
                "booking_id": a.booking_id,
                "status": a.status,
                "detail": a.detail,
                "replaces": a.replaces,
            }
            for a in r.actions
        ],
        "booking_ids": dict(r.booking_ids),
        "left_out": list(r.left_out),
    }


def sync_to_dict(report: SyncReport, today: date) -> dict[str, Any]:
    """The JSON document of ``bookings sync`` (dates of birth are left out)."""
    return {
        "today": today.isoformat(),
        "counters": counters_dict(report),
        "left_out": sum(len(r.left_out) for r in report.results),
        "results": [_result_dict(r) for r in report.results],
    }


def format_sync_table(report: SyncReport) -> str:
    """The plain-text summary of ``bookings sync``: the counters, then every participant that was
    not synchronised, with the reason."""
    created = sum(len(r.created) for r in report.results)
    refreshed = sum(len(r.refreshed) for r in report.results)
    lines = [counters_line(report), f"bookings: {created} created, {refreshed} refreshed"]
    kinds: dict[str, int] = {}
    for r in report.results:
        for a in r.actions:
            if a.action not in ("created", "refreshed"):
                kinds[a.action] = kinds.get(a.action, 0) + 1
    if kinds:
        lines[-1] += ", " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    left = [r for r in report.results if r.left_out]
    lines += attention_lines(report.results, _label, failed="failed")
    if left:
        lines.append("")
        lines.append("planned bookings left out with errors (not booked):")
        for r in left:
            lines.append(
                f"  {r.participant.label}{contract_note(r.contract_id)}: {', '.join(r.left_out)}"
            )
    return "\n".join(lines)


def _label(participant: Participant) -> str:
    return participant.label


def _cmd_sync(args: argparse.Namespace, out: TextIO) -> int:
    entries = read_participants(args.participants)
    contracts = read_contracts_dir(args.contracts)
    by_number = _contracts_by_participant(
        entries, contracts, str(args.participants), str(args.contracts)
    )
    gateway_path = Path(args.gateway)
    _check_gateway_file(gateway_path)
    gateway = JsonFileProdaGateway(gateway_path)
    today: date = today_from(args)

    # JSON output keeps stdout for the one document: progress goes to stderr then.
    display = ProgressDisplay(sys.stderr if args.format == "json" else out)
    try:
        report = sync_active_plans(
            [e.participant() for e in entries],
            by_number,
            gateway,
            today=today,
            retries=args.retries,
            progress=display,
            plan_manager=args.plan_manager,
        )
    finally:
        display.close()
    if args.store_ids:
        _store_ids(report, contracts)
    if args.format == "json":
        out.write(json.dumps(sync_to_dict(report, today), indent=2) + "\n")
    else:
        out.write(format_sync_table(report) + "\n")
    return exit_code(report, attention=any(r.left_out for r in report.results))


def _store_ids(report: SyncReport, contracts: Mapping[str, tuple[Path, Contract]]) -> None:
    """Write PRODA's booking ids into the contract files, against the budget or support each
    booking funds (only files whose ids changed are rewritten, atomically)."""
    from .sync import write_contract_file

    for r in report.results:
        if r.contract_id is None or not r.booking_ids or r.contract_id not in contracts:
            continue
        path, contract = contracts[r.contract_id]
        booked = store_booking_ids(contract, r.booking_ids)
        if booked is not contract:
            write_contract_file(booked, path)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bookings plan`` and ``bookings sync`` to the ``ndis-rules`` subcommands."""
    b = sub.add_parser("bookings", help="PRODA service bookings of legacy (non-PACE) plans")
    bsub = b.add_subparsers(dest="bookings_command", required=True)

    p = bsub.add_parser("plan", help="the service bookings a contract needs, and the findings")
    p.add_argument("--contract", required=True, help="contract JSON (or YAML) file")
    p.add_argument("--plan-manager", help="provider making the bookings (plan manager id)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.set_defaults(handler=_cmd_plan)

    s = bsub.add_parser("sync", help="sync the participants' active legacy plans with PRODA")
    s.add_argument(
        "--participants",
        required=True,
        help="JSON list of participants: ndis_number, name, date_of_birth, contracts (ids)",
    )
    s.add_argument("--contracts", required=True, help="folder of contract JSON files")
    s.add_argument(
        "--gateway",
        required=True,
        help="JSON PRODA store file (an offline stand-in for a real gateway; updated in place)",
    )
    add_today_options(s)
    s.add_argument(
        "--retries",
        type=retries_arg,
        default=2,
        help="extra attempts after a timeout or unavailable gateway (default 2)",
    )
    s.add_argument("--plan-manager", help="provider making the bookings (plan manager id)")
    s.add_argument(
        "--store-ids",
        action="store_true",
        help="write PRODA's booking ids into the contract files, against the budget or support "
        "each booking funds",
    )
    s.add_argument("--format", default="table", choices=["table", "json"])
    s.set_defaults(handler=_cmd_sync)
