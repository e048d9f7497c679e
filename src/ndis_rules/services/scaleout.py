"""Scale-out of the bulk claims check: a pure per-participant partition entry point, local
worker processes, and an existing distributed engine (Dask).

A participant's rows only ever compete with that participant's other rows (their contracts are
theirs alone), so the rows of a bulk payment request can be split by NDIS number, each part
checked independently against that part's contracts, and the parts merged back in file order.
The result is identical, line for line, to the single-process check: every function here ends
in :func:`merge_reports`, and the tests compare it with :func:`~ndis_rules.claims.check_claims`.

Examples:
    >>> from ndis_rules.models import Contract
    >>> contract = Contract.model_validate({"id": "C1", "participant": "431234567",
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30",
    ...     "budgets": [{"category": "01", "management": "plan", "total": "200.00"}]})
    >>> from ndis_rules.bpr import COLUMNS
    >>> header = ",".join(COLUMNS)
    >>> line = "4050000001,431234567,2025/08/04,2025/08/04,01_011_0107_1_1,INV-1,2,,70.23,P2,,,,,,"
    >>> text = "\\n".join([header, line + "51824753556", line.replace("431234567",
    ...     "432222222") + "51824753556"])
    >>> _, records = read_records(text)
    >>> parts = partition_records(records, 2)
    >>> sorted(len(p) for p in parts)
    [1, 1]
    >>> report = merge_reports([check_records(p, [contract], as_of=date(2025, 11, 15))
    ...                         for p in parts])
    >>> [(r.row, r.outcome) for r in report.rows]
    [(2, 'allowed'), (3, 'error')]
"""

from __future__ import annotations

import functools
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from ..claims import ClaimsReport, ClaimsSummary, Keep, RowOutcome, check_claims
from ..daytypes import HolidayCalendar, NoHolidays
from ..errors import InputError
from ..files.bpr import read_records
from ..files.bpr_columnar import read_part
from ..files.catalogue import load_editions
from ..itemchecks import CatalogueContext
from ..models import Contract, Settings, repeated
from ..money import Money

__all__ = [
    "CatalogueSpec",
    "Record",
    "StreamedReport",
    "check_claims_dask",
    "check_claims_parallel",
    "check_claims_streamed",
    "check_records",
    "combine_summaries",
    "load_catalogue_context",
    "merge_reports",
    "partition_contracts",
    "partition_records",
    "read_records",
]

#: One data row of the file before it is parsed: (row number, cells).
Record = tuple[int, list[str]]


@dataclass(frozen=True)
class CatalogueSpec:
    """How a worker builds its catalogue checks: the catalogue file (loaded once per process),
    the price region, the state, and whether to use the ``holidays`` package for that state;
    ``more``: further catalogue files (e.g. the next financial year's). The files are loaded as
    a :class:`~ndis_rules.editions.CatalogueSet`: each line is checked against the edition in
    force on its dates. A spec, not a loaded catalogue, travels to workers: it is small and
    always picklable."""

    path: str
    region: str = "national"
    state: str | None = None
    holidays: bool = False
    more: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """Every catalogue file of the spec, ``path`` first."""
        return (self.path, *self.more)

    def context(self) -> CatalogueContext:
        """The catalogue context (the catalogue file is read once per process)."""
        return _context(self)


def load_catalogue_context(spec: CatalogueSpec) -> CatalogueContext:
    """The catalogue context of a spec, loaded now (:meth:`CatalogueSpec.context` caches it)."""
    calendar: HolidayCalendar = NoHolidays()
    if spec.holidays:
        from ..adapters.holidays_au import HolidaysAuCalendar

        calendar = HolidaysAuCalendar()
    return CatalogueContext(load_editions(spec.paths), spec.region, spec.state, calendar)


_context = functools.cache(load_catalogue_context)


def _participant_key(text: str | None) -> str:
    if not text or text.isdigit():  # the usual NDIS number: every character kept
        return text or ""
    return "".join(ch for ch in text if ch.isdigit())


def _part_of(key: str, parts: int) -> int:
    return zlib.crc32(key.encode()) % parts


def partition_records(records: Sequence[Record], parts: int) -> list[list[Record]]:
    """Split records into ``parts`` groups by NDIS number (the same number always lands in the
    same group; file order is kept within a group)."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    out: list[list[Record]] = [[] for _ in range(parts)]
    for record in records:
        cells = record[1]
        out[_part_of(_participant_key(cells[1] if len(cells) > 1 else ""), parts)].append(record)
    return out


def partition_contracts(contracts: Sequence[Contract], parts: int) -> list[list[Contract]]:
    """Split contracts the same way as :func:`partition_records` (by participant)."""
    ids = [c.id for c in contracts]
    if len(set(ids)) != len(ids):
        dupes = repeated(ids)
        raise InputError(f"contract ids must be unique, repeated: {', '.join(dupes)}")
    out: list[list[Contract]] = [[] for _ in range(parts)]
    for c in contracts:
        out[_part_of(_participant_key(c.participant), parts)].append(c)
    return out


def check_records(
    records: Sequence[Record],
    contracts: Sequence[Contract],
    *,
    as_of: date,
    settings: Settings | None = None,
    catalogue: CatalogueSpec | CatalogueContext | None = None,
    abn_required: bool = True,
    explain: bool = False,
    keep: Keep = "all",
) -> ClaimsReport:
    """The pure per-partition entry point: parse and check some records of a file against the
    contracts of the same participants. Pure and deterministic; safe to run anywhere. ``keep``
    as in :func:`~ndis_rules.claims.check_claims` (``"flagged"``: only errors and warnings)."""
    results = read_part(records, abn_required=abn_required)  # columnar when polars is there
    context = catalogue.context() if isinstance(catalogue, CatalogueSpec) else catalogue
    return check_claims(
        results,
        contracts,
        as_of=as_of,
        settings=settings,
        catalogue=context,
        explain=explain,
        keep=keep,
    )


def merge_reports(reports: Sequence[ClaimsReport]) -> ClaimsReport:
    """Merge partition reports into one: rows in file order, the summaries combined."""
    rows: list[RowOutcome] = sorted(
        (r for report in reports for r in report.rows), key=lambda r: r.row
    )
    return ClaimsReport(tuple(rows), combine_summaries([report.summary for report in reports]))


# -- local worker processes ----------------------------------------------------------------------
_WORK: dict[str, Any] = {}


def _run_part(index: int) -> ClaimsReport:
    w = _WORK
    return _check_part(
        w["records"][index],
        w["contracts"][index],
        w["as_of"],
        w["settings"],
        w["catalogue"],
        w["abn_required"],
        w["explain"],
        w["keep"],
    )


def check_claims_parallel(
    text_or_path: str | bytes | os.PathLike[str],
    contracts: Sequence[Contract],
    *,
    workers: int,
    as_of: date,
    settings: Settings | None = None,
    catalogue: CatalogueSpec | None = None,
    abn_required: bool = True,
    explain: bool = False,
    keep: Keep = "all",
) -> ClaimsReport:
    """The bulk claims check on ``workers`` local processes (one partition each), merged.

    With ``workers=1`` it runs in this process. Where the platform can fork, workers inherit the
    partitions without copying them; elsewhere each partition is sent to its worker. With
    ``keep="flagged"`` only the error and warning rows come back from the workers (the summary
    still counts every row): sending every allowed row's decision back costs about as much as
    checking it, so a report that shows only flagged rows should ask for just those.
    """
    source = str(text_or_path) if isinstance(text_or_path, Path) else None
    _, records = read_records(text_or_path, source)
    parts = max(1, workers)
    record_parts = partition_records(records, parts)
    contract_parts = partition_contracts(contracts, parts)
    if parts == 1:
        return check_records(
            record_parts[0],
            contract_parts[0],
            as_of=as_of,
            settings=settings,
            catalogue=catalogue,
            abn_required=abn_required,
            explain=explain,
            keep=keep,
        )
    import multiprocessing

    _WORK.update(
        records=record_parts,
        contracts=contract_parts,
        as_of=as_of,
        settings=settings,
        catalogue=catalogue,
        abn_required=abn_required,
        explain=explain,
        keep=keep,
    )
    try:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        if method == "fork":
            with multiprocessing.get_context("fork").Pool(parts) as pool:
                reports = pool.map(_run_part, range(parts))
        else:  # pragma: no cover - platforms without fork
            with multiprocessing.get_context("spawn").Pool(parts) as pool:
                reports = pool.starmap(
                    _check_part,
                    [
                        (
                            record_parts[i],
                            contract_parts[i],
                            as_of,
                            settings,
                            catalogue,
                            abn_required,
                            explain,
                            keep,
                        )
                        for i in range(parts)
                    ],
                )
    finally:
        _WORK.clear()
    return merge_reports(reports)


def _check_part(
    records: Sequence[Record],
    contracts: Sequence[Contract],
    as_of: date,
    settings: Settings | None,
    catalogue: CatalogueSpec | None,
    abn_required: bool,
    explain: bool,
    keep: Keep = "all",
) -> ClaimsReport:
    return check_records(
        records,
        contracts,
        as_of=as_of,
        settings=settings,
        catalogue=catalogue,
        abn_required=abn_required,
        explain=explain,
        keep=keep,
    )


# -- Dask ---------------------------------------------------------------------------------------
def check_claims_dask(
    text_or_path: str | bytes | os.PathLike[str],
    contracts: Sequence[Contract],
    client: Any,
    *,
    partitions: int,
    as_of: date,
    settings: Settings | None = None,
    catalogue: CatalogueSpec | None = None,
    abn_required: bool = True,
) -> ClaimsReport:
    """The bulk claims check on a Dask cluster (``client``: a ``dask.distributed.Client``): one
    task per partition running :func:`check_records`, merged here. Needs the ``dask`` extra.
    """
    source = str(text_or_path) if isinstance(text_or_path, Path) else None
    _, records = read_records(text_or_path, source)
    record_parts = partition_records(records, partitions)
    contract_parts = partition_contracts(contracts, partitions)
    futures = [
        client.submit(
            _check_part,
            record_parts[i],
            contract_parts[i],
            as_of,
            settings,
            catalogue,
            abn_required,
            False,
            pure=True,
        )
        for i in range(partitions)
    ]
    reports: list[ClaimsReport] = client.gather(futures)
    return merge_reports(reports)


# -- bounded memory -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamedReport:
    """The summary of every row, and the rows kept (``flagged``: errors and warnings only;
    ``all``: every row), in file order, without the engine's per-line decision objects."""

    summary: ClaimsSummary
    rows: tuple[RowOutcome, ...]
    kept: Keep
    #: the reader's findings about the file as a whole (blank rows, too many rows, ...)
    findings: tuple[str, ...] = ()


def combine_summaries(parts: Sequence[ClaimsSummary]) -> ClaimsSummary:
    """One summary from the summaries of disjoint parts of a file."""
    by_code: dict[str, int] = {}
    severities: dict[str, Any] = {}
    rank = {"info": 0, "warning": 1, "error": 2}
    for p in parts:
        for code, n in p.by_code.items():
            by_code[code] = by_code.get(code, 0) + n
        for code, sev in p.severities.items():
            if code not in severities or rank[sev] > rank[severities[code]]:
                severities[code] = sev
    return ClaimsSummary(
        lines=sum(p.lines for p in parts),
        allowed=sum(p.allowed for p in parts),
        warnings=sum(p.warnings for p in parts),
        errors=sum(p.errors for p in parts),
        by_code=dict(sorted(by_code.items())),
        severities=dict(sorted(severities.items())),
        claimable=Money(sum(p.claimable.cents for p in parts)),
        contracts=sum(p.contracts for p in parts),
        invoices=sum(p.invoices for p in parts),
    )


def check_claims_streamed(
    text_or_path: str | bytes | os.PathLike[str],
    contracts: Sequence[Contract],
    *,
    as_of: date,
    partitions: int = 16,
    keep: Keep = "flagged",
    settings: Settings | None = None,
    catalogue: CatalogueSpec | CatalogueContext | None = None,
    abn_required: bool = True,
    workers: int = 1,
    advance: Callable[[int], None] | None = None,
    spill_rows: int | None = None,
) -> StreamedReport:
    """The bulk claims check in bounded memory: the file's rows are split by participant into
    at least ``partitions`` groups in a temporary folder, and each group is parsed, checked and
    reduced to its summary and kept rows (without the engine's decision objects and the
    reader's issue objects; their messages stay) before the next one starts; a group or a
    participant with more than ``spill_rows`` rows is checked that many rows at a time (see
    :func:`~ndis_rules.services.spill.check_claims_spilled`, which also streams the kept rows).
    Decisions are identical to :func:`~ndis_rules.claims.check_claims` (a participant's rows
    are always checked in the order that function checks them).

    ``workers > 1`` shares the groups out to that many local processes (a
    :class:`CatalogueSpec` is needed there, not a loaded catalogue). ``advance`` is called with
    each group's number of rows as it is done (single process only).
    """
    from .spill import DEFAULT_SPILL_ROWS, check_claims_spilled

    def render(r: RowOutcome) -> RowOutcome:
        return replace(r, decision=None, issues=())

    with check_claims_spilled(
        text_or_path,
        contracts,
        as_of=as_of,
        render=render,
        keep=keep,
        spill_rows=spill_rows or DEFAULT_SPILL_ROWS,
        partitions=partitions,
        settings=settings,
        catalogue=catalogue,
        abn_required=abn_required,
        workers=workers,
        advance=advance,
    ) as report:
        rows = tuple(report.rows())
    return StreamedReport(report.summary, rows, keep, report.findings)
