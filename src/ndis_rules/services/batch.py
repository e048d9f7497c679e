"""What the batch jobs share (the shell): the outcome of one participant, the progress counters,
and the loop over the selected participants that keeps them.

Both the PRODA bookings batch (:func:`~ndis_rules.services.bookings.sync_active_plans`) and the
PACE sync batch (:func:`~ndis_rules.services.sync.sync_batch`) count the same way:

* ``total``: participants selected (distinct NDIS numbers, the first given wins);
* ``processed``: participants processed so far, always ``success + failed + uncompleted``;
* ``no_active_contract``: participants not processed (named in the report), so
  ``processed + no_active_contract == total`` at the end, and ``done`` at every event.

Examples:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Who:
    ...     ndis_number: str
    >>> @dataclass(frozen=True)
    ... class Done:
    ...     outcome: Outcome
    >>> events: list[Progress[Who]] = []
    >>> counts = run_batch(
    ...     distinct([Who("1"), Who("2"), Who("1")]),
    ...     lambda w: Done("success" if w.ndis_number == "1" else "no_active_contract"),
    ...     event=Progress,
    ...     progress=events.append,
    ...     report=Totals,
    ... )
    >>> counts.total, counts.processed, counts.success, len(counts.no_active_contract)
    (2, 1, 1, 1)
    >>> [(e.done, e.percent) for e in events]
    [(1, 50), (2, 100)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..ports import BatchOutcome, BatchResultLike, HasNdisNumber

__all__ = [
    "Outcome",
    "Progress",
    "Totals",
    "check_retries",
    "distinct",
    "run_batch",
]

#: What a batch did for one participant.
Outcome = BatchOutcome

P = TypeVar("P", bound=HasNdisNumber)
R = TypeVar("R", bound=BatchResultLike[Any])
E = TypeVar("E", bound="Progress[Any]")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Progress(Generic[P]):
    """A progress event, sent after each participant: the counters so far and who was just done.

    Invariant: ``processed == success + failed + uncompleted``; ``done`` counts participants
    (processed, plus those without an active contract) out of ``total``.
    """

    total: int
    processed: int
    success: int
    failed: int
    uncompleted: int
    no_active_contract: int
    participant: P
    outcome: Outcome

    @property
    def done(self) -> int:
        """Participants handled so far."""
        return self.processed + self.no_active_contract

    @property
    def percent(self) -> int:
        """Whole percent done, for a progress bar (100 when there is nothing to do)."""
        return 100 if self.total == 0 else self.done * 100 // self.total


@dataclass(frozen=True, slots=True)
class Totals(Generic[P, R]):
    """The end counters of a batch, who had no active contract, and one result each."""

    total: int
    processed: int
    success: int
    failed: int
    uncompleted: int
    no_active_contract: tuple[P, ...]
    results: tuple[R, ...] = field(default=())


def check_retries(retries: int) -> None:
    """Refuse a negative number of extra attempts (a caller's bug: ``ValueError``)."""
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, got {retries}")


def distinct(participants: Iterable[P]) -> list[P]:
    """The participants once each, by NDIS number (the first given wins), in order."""
    selected: dict[str, P] = {}
    for p in participants:
        selected.setdefault(p.ndis_number, p)
    return list(selected.values())


def run_batch(
    selected: Iterable[P],
    one: Callable[[P], R],
    *,
    event: Callable[[int, int, int, int, int, int, P, Outcome], E],
    progress: Callable[[E], object] | None,
    report: Callable[[int, int, int, int, int, tuple[P, ...], tuple[R, ...]], T],
) -> T:
    """Run ``one`` for each selected participant in order, keeping the counters; after each,
    send ``progress`` an ``event`` (built from the counters so far, the participant and its
    outcome); at the end build the ``report`` from the counters, those without an active
    contract and the results. Each participant is independent: ``one`` turns its participant's
    failures into a result; anything it raises propagates (a bug, or a failure of the batch)."""
    people = list(selected)
    total = len(people)
    processed = success = failed = uncompleted = 0
    none_active: list[P] = []
    results: list[R] = []
    for participant in people:
        result = one(participant)
        results.append(result)
        match result.outcome:
            case "no_active_contract":
                none_active.append(participant)
            case "success":
                processed += 1
                success += 1
            case "failed":
                processed += 1
                failed += 1
            case "uncompleted":
                processed += 1
                uncompleted += 1
        if progress is not None:
            progress(
                event(
                    total,
                    processed,
                    success,
                    failed,
                    uncompleted,
                    len(none_active),
                    participant,
                    result.outcome,
                )
            )
    return report(
        total, processed, success, failed, uncompleted, tuple(none_active), tuple(results)
    )
