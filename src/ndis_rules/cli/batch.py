"""What the batch commands share (``bookings sync`` and ``sync batch``): the participants file,
the ``--retries`` argument, the progress display, the counters line and JSON object, the
sections naming each participant needing attention, and the exit code.

Both commands show the counters of :mod:`ndis_rules.services.batch` the same way, and exit 0
only when every participant selected was a success (1 otherwise; bad input is 2, raised as an
:class:`~ndis_rules.errors.InputError` before anything runs).

This module does not import :mod:`ndis_rules.cli` (which imports the commands using it).

Examples:
    >>> from ndis_rules.services.batch import Totals
    >>> counters_line(Totals(3, 2, 1, 1, 0, ("x",)))
    'total 3  processed 2  success 1  failed 1  uncompleted 0  no active contract 1'
    >>> exit_code(Totals(1, 1, 1, 0, 0, ())), exit_code(Totals(1, 1, 1, 0, 0, ()), attention=True)
    (0, 1)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InputError, input_error_from
from ..files.documents import read_data
from ..ports import BatchResultLike, HasNdisNumber
from ..services.batch import Outcome, Progress, Totals

__all__ = [
    "BAR_WIDTH",
    "EXIT_ATTENTION",
    "EXIT_OK",
    "BatchProgressDisplay",
    "attention_lines",
    "contract_note",
    "counters_dict",
    "counters_line",
    "exit_code",
    "isatty",
    "read_model_list",
    "refuse_repeated_numbers",
    "retries_arg",
    "validate_items",
]

EXIT_OK, EXIT_ATTENTION = 0, 1
BAR_WIDTH = 20


P = TypeVar("P", bound=HasNdisNumber)
M = TypeVar("M", bound=BaseModel)


# -- arguments and the participants file ---------------------------------------------------------


def retries_arg(text: str) -> int:
    """An argparse type: extra attempts, a whole number of 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def validate_items(model: type[M], items: Sequence[Any], source: str, prefix: str) -> list[M]:
    """Each item as a ``model``; the first invalid one is an :class:`InputError` whose problems
    start with ``prefix`` and the item's position."""
    out: list[M] = []
    for n, item in enumerate(items):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            err = input_error_from(exc, source)
            problems = [f"{prefix}{n}.{problem}" for problem in err.problems]
            raise InputError("; ".join(problems), source=source, problems=problems) from None
    return out


def read_model_list(path: str | Path, model: type[M], what: str) -> list[M]:
    """A JSON (or YAML) file holding a list of ``what``, each read as a ``model``."""
    p = Path(path)
    data = read_data(p)
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of {what}", source=str(p))
    return validate_items(model, data, str(p), "")


def refuse_repeated_numbers(items: Sequence[HasNdisNumber], source: str) -> None:
    """An :class:`InputError` at the second place an NDIS number is given."""
    seen: dict[str, int] = {}
    for n, item in enumerate(items):
        if item.ndis_number in seen:
            raise InputError(
                f"NDIS number repeated (already given at {seen[item.ndis_number]})",
                source=source,
                loc=(n, "ndis_number"),
            )
        seen[item.ndis_number] = n


# -- progress and the summary ---------------------------------------------------------------------


def counters_line(p: Progress[Any] | Totals[Any, Any]) -> str:
    """The counters on one line (a progress event's or a report's)."""
    none = p.no_active_contract if isinstance(p, Progress) else len(p.no_active_contract)
    return (
        f"total {p.total}  processed {p.processed}  success {p.success}  failed {p.failed}  "
        f"uncompleted {p.uncompleted}  no active contract {none}"
    )


def counters_dict(report: Totals[Any, Any]) -> dict[str, int]:
    """The ``counters`` object of a batch command's JSON document."""
    return {
        "total": report.total,
        "processed": report.processed,
        "success": report.success,
        "failed": report.failed,
        "uncompleted": report.uncompleted,
        "no_active_contract": len(report.no_active_contract),
    }


def isatty(stream: TextIO) -> bool:
    """Whether the stream is a terminal (``False`` for a closed or not a real stream)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


class BatchProgressDisplay(Generic[P]):
    """The progress callback: a bar redrawn on one line (``\\r``) on a terminal, else one plain
    line per event naming the participant by :meth:`label` (the NDIS number). Call
    :meth:`close` after the batch to end the bar's line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = isatty(stream)
        self._width = 0

    def label(self, participant: P) -> str:
        """How a plain progress line names the participant."""
        return participant.ndis_number

    def __call__(self, event: Progress[P]) -> None:
        if self.live:
            filled = event.percent * BAR_WIDTH // 100
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            text = f"[{bar}] {event.percent:3d}%  {counters_line(event)}"
            pad = " " * max(0, self._width - len(text))  # clear what a longer frame left
            self._width = max(self._width, len(text))
            self.stream.write(f"\r{text}{pad}")
        else:
            self.stream.write(
                f"progress {event.done}/{event.total} ({event.percent}%): "
                f"{self.label(event.participant)} {event.outcome.replace('_', ' ')}; "
                f"{counters_line(event)}\n"
            )
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (nothing to do for plain lines)."""
        if self.live and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def contract_note(contract_id: str | None) -> str:
    """`` [contract ID]`` after a participant's name, when there is one."""
    return f" [contract {contract_id}]" if contract_id else ""


def attention_lines(
    results: Iterable[BatchResultLike[P]], label: Callable[[P], str], *, failed: str
) -> list[str]:
    """The participants not synchronised, under ``failed`` (the title of the failed ones), then
    ``uncompleted (re-run to retry)``, then ``no active contract``: for each title with any, a
    blank line, the title, then each participant (by ``label``) with its contract and message."""
    done = list(results)
    lines: list[str] = []
    titles: tuple[tuple[Outcome, str], ...] = (
        ("failed", failed),
        ("uncompleted", "uncompleted (re-run to retry)"),
        ("no_active_contract", "no active contract"),
    )
    for outcome, title in titles:
        named = [r for r in done if r.outcome == outcome]
        if named:
            lines.append("")
            lines.append(f"{title}:")
            for r in named:
                lines.append(f"  {label(r.participant)}{contract_note(r.contract_id)}: {r.message}")
    return lines


def exit_code(report: Totals[Any, Any], *, attention: bool = False) -> int:
    """0 when every participant selected was a success and nothing else needs ``attention``,
    else 1."""
    return EXIT_OK if report.success == report.total and not attention else EXIT_ATTENTION
