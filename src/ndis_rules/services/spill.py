"""The bulk claims check in memory bounded by a setting, whatever the file's shape.

The rows of a file are split by participant into partitions written to a temporary folder; each
partition is then checked on its own (a participant's rows only compete with that participant's
other rows). A partition with more rows than the budget (``spill_rows``) is split again by
participant into batches of at most that many rows; a participant with more rows than the budget
is checked alone, an invoice (or part of one) at a time, in the order the single-process check
decides it (see :class:`~ndis_rules.claims.ContractRun`), with one running ledger per contract.

What the report keeps of each row (``render``: a line of text, a JSON object, or the row itself)
is written, a budget's worth at a time and sorted by row, to run files in the same folder; the
report reads them back merged in file order. So at most about ``spill_rows`` rows (and their
decisions) are in memory at once, and the folder is removed on every way out of the ``with``
block (the end, an error, an interrupt).

Decisions are identical to :func:`~ndis_rules.claims.check_claims`: the tests compare every
report format, with a tiny budget and without, on one and two workers.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import math
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Final

from .._gc import gc_paused
from ..bpr import (
    MONTH_FIRST_HINT,
    BprFileError,
    BprResult,
    _check_header,
    check_date_order,
    file_findings,
    read_record,
)
from ..claims import ClaimsBook, ClaimsSummary, ContractRun, Keep, RowOutcome, summarise
from ..errors import InputError
from ..files.bpr import load_text, read_records
from ..itemchecks import CatalogueContext
from ..models import Contract, Settings
from .scaleout import (
    CatalogueSpec,
    _part_of,
    _participant_key,
    check_records,
    combine_summaries,
    partition_contracts,
)

__all__ = ["DEFAULT_SPILL_ROWS", "Render", "SpilledReport", "check_claims_spilled"]

#: Rows held in memory at once by default: about 0.4 GB of rows and decisions.
DEFAULT_SPILL_ROWS = 50_000

#: What the report keeps of a row (picklable; ``None``: nothing).
Render = Callable[[RowOutcome], Any]

_PROTOCOL = pickle.HIGHEST_PROTOCOL
_LINE_END = re.compile(r"\r\n|\r|\n")
#: Run files merged at once (more are merged in rounds).
_FAN_IN = 64


#: A data record as stored: (row number, the raw line of a file without quotes, or its cells).
_Stored = tuple[int, str | list[str]]


def _key_of(record: _Stored) -> str:
    cells = record[1]
    if isinstance(cells, str):
        return _participant_key(cells.split(",", 2)[1] if "," in cells else "")
    return _participant_key(cells[1] if len(cells) > 1 else "")


def _records(path: Path) -> Iterator[_Stored]:
    with path.open("rb") as f:
        while True:
            try:
                yield pickle.load(f)
            except EOFError:
                return


#: Items of a run file pickled together (one ``pickle.dump`` per item cost more than the
#: formatting of a table row; a few hundred keep the merge's memory small).
_RUN_CHUNK = 256


def _write_run(path: Path, items: Sequence[tuple[int, Any]]) -> None:
    """A run file: ``items`` (sorted by row) pickled in chunks of :data:`_RUN_CHUNK`."""
    with path.open("wb") as f:
        for start in range(0, len(items), _RUN_CHUNK):
            pickle.dump(items[start : start + _RUN_CHUNK], f, _PROTOCOL)


def _run_items(path: Path) -> Iterator[tuple[int, Any]]:
    """The items of a run file (:func:`_write_run`), in order."""
    with path.open("rb") as f:
        while True:
            try:
                chunk = pickle.load(f)
            except EOFError:
                return
            yield from chunk


def _read(record: _Stored, abn_required: bool) -> BprResult:
    number, cells = record
    return read_record(
        number, cells.split(",") if isinstance(cells, str) else cells, abn_required=abn_required
    )


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """Physical lines numbered as the BPR reader numbers records (for text without quotes),
    empty and blank ones included (:func:`_is_blank`); what follows a final line break is not
    a line."""
    number = 0
    start = 0
    for m in _LINE_END.finditer(text):
        number += 1
        yield number, text[start : m.start()]
        start = m.end()
    if start < len(text):
        yield number + 1, text[start:]


def _is_blank(line: str) -> bool:
    """A line the reader skips as a blank row (only commas and spaces)."""
    return not line.replace(",", "").strip()


@dataclass
class _Folder:
    """The temporary folder and the names of its files."""

    path: Path
    made: int = 0

    def new(self, what: str) -> Path:
        self.made += 1
        return self.path / f"{what}-{os.getpid()}-{self.made}"


#: Characters of a blank row: commas and what ``str.strip()`` removes (Unicode white space), so
#: ``not line.strip(_BLANK_CHARS)`` is :func:`_is_blank` without building a copy of the line.
_BLANK_CHARS: Final = (
    ",\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: The month-first hint's middle (``/13/2025``): text without it cannot match the hint, and the
#: hint's look-behind makes the whole-text search ten times slower than this one.
_MONTH_FIRST_MIDDLE: Final = re.compile(r"/(?:1[3-9]|2\d|3[01])/\d{4}", re.ASCII)
#: Characters of text split into lines at once (then the next block): bounded memory.
_BLOCK: Final = 1 << 20
#: Most partition files open at once (a tiny budget over a large file asked for one per budget
#: of rows, which ran out of open files: 33,000 for 100,000 rows at ``--spill-rows 3``).
_MOST_PARTS: Final = 256
#: Distinct NDIS cells whose partition is remembered (then the table starts again).
_KEYS_HELD: Final = 1 << 16


def _line_blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    r"""The physical lines of :func:`_numbered_lines`, a block at a time: (number of the
    block's first line, its lines). Blocks end after a ``\n``, so a ``\r\n`` is never cut."""
    carriage = "\r" in text
    number = 1
    start = 0
    size = len(text)
    while start < size:
        end = text.find("\n", start + _BLOCK)
        end = size if end < 0 else end + 1
        piece = text[start:end]
        lines = _LINE_END.split(piece) if carriage else piece.split("\n")
        if lines[-1] == "":  # the block ends with a line break: nothing follows it here
            lines.pop()
        yield number, lines
        number += len(lines)
        start = end


def _split_file(
    text_or_path: str | bytes | os.PathLike[str], folder: _Folder, partitions: int, budget: int
) -> tuple[str, list[tuple[Path, int]], tuple[str, ...]]:
    """The file's rows written by participant into partition files: (path, rows) of each, and
    the reader's findings about the file as a whole. The file's text is read once and split as
    it is written, a block of lines at a time (the lines are not held)."""
    source = str(text_or_path) if isinstance(text_or_path, Path) else None
    text, name = load_text(text_or_path, source)
    # enough partitions that one rarely needs splitting again (about 130 characters a row), but
    # not more files open at once than a system allows (a larger one is split again by part())
    parts = max(partitions, min(_MOST_PARTS, math.ceil(1.25 * len(text) / 130 / budget)))
    paths = [folder.new("part") for _ in range(parts)]
    counts = [0] * parts
    files: list[IO[bytes]] = []
    if '"' in text:  # quoted cells may hold line breaks: the full reader's split
        _, split = read_records(text, name)
        del text
        try:
            for p in paths:
                files.append(p.open("wb"))
            for record in split:
                i = _part_of(_key_of(record), parts)
                pickle.dump(record, files[i], _PROTOCOL)
                counts[i] += 1
        finally:
            for f in files:
                f.close()
        return name, list(zip(paths, counts, strict=True)), split.findings
    first = next((nl for nl in _numbered_lines(text) if not _is_blank(nl[1])), None)
    if first is None:
        raise BprFileError(
            "the file is empty: expected a header row of the 16 BPR columns", source=name
        )
    _check_header(first[1].split(","), name, first[0])
    header = first[0]
    if (
        _MONTH_FIRST_MIDDLE.search(text) is not None
        and MONTH_FIRST_HINT.search(text) is not None
    ):  # the reader's per-file date-order rule
        check_date_order(
            (
                (n, line.split(","))
                for n, line in _numbered_lines(text)
                if n > header and not _is_blank(line)
            ),
            name,
        )
    blank: list[int] = []
    part_of_cell: dict[str, int] = {}
    dump = pickle.dump
    try:
        for p in paths:
            files.append(p.open("wb"))
        for first_number, lines in _line_blocks(text):
            for number, line in enumerate(lines, first_number):
                if number <= header:
                    continue
                if not line.strip(_BLANK_CHARS):
                    blank.append(number)
                    continue
                cell = line.split(",", 2)[1] if "," in line else ""
                i = part_of_cell.get(cell, -1)
                if i < 0:
                    if len(part_of_cell) >= _KEYS_HELD:
                        part_of_cell.clear()
                    i = part_of_cell[cell] = _part_of(_participant_key(cell), parts)
                dump((number, line), files[i], _PROTOCOL)
                counts[i] += 1
    finally:
        for f in files:
            f.close()
    return name, list(zip(paths, counts, strict=True)), file_findings(sum(counts), blank)


@dataclass
class _Job:
    """Everything a partition's check needs (inherited by forked workers)."""

    folder: _Folder
    contracts: Sequence[Contract]
    as_of: date
    render: Render
    budget: int
    settings: Settings | None
    catalogue: CatalogueSpec | CatalogueContext | None
    abn_required: bool
    explain: bool
    keep: Keep = "all"
    summaries: list[ClaimsSummary] = field(default_factory=list)
    runs: list[Path] = field(default_factory=list)

    def context(self) -> CatalogueContext | None:
        c = self.catalogue
        return c.context() if isinstance(c, CatalogueSpec) else c

    # -- output -----------------------------------------------------------------------------
    def emit(
        self,
        rows: list[RowOutcome],
        contracts: int,
        invoices: int,
        summary: ClaimsSummary | None = None,
    ) -> None:
        """Count the rows in the summary (``summary``: already counted, with any rows the
        check did not keep) and write what the report keeps of them, sorted by row, as one run
        file. ``rows`` is emptied: the rows are freed before the collector runs."""
        self.summaries.append(summarise(rows, contracts, invoices) if summary is None else summary)
        render = self.render
        if self.keep == "flagged":
            kept = [(r.row, render(r)) for r in rows if r.outcome != "allowed"]
        else:
            kept = [(r.row, render(r)) for r in rows]
        rows.clear()
        kept = [k for k in kept if k[1] is not None]
        if kept:
            kept.sort(key=itemgetter(0))
            path = self.folder.new("run")
            _write_run(path, kept)
            self.runs.append(path)
        del kept
        # the cyclic collector is paused for the check, but formatting can leave cycles (the
        # json module's indenting encoder makes a few per call): free them a budget at a time,
        # or they would grow with the file (after the rows are freed, so that it does not
        # scan them)
        gc.collect(0)

    # -- checking ---------------------------------------------------------------------------
    def part(self, path: Path, count: int, contracts: Sequence[Contract]) -> None:
        """Check one partition file (``count`` rows) and remove it."""
        if count <= self.budget:
            records: list[tuple[int, list[str]]] = []
            add = records.append
            with path.open("rb") as stored:  # _records, without a generator step per record
                while True:
                    try:
                        number, cells = pickle.load(stored)
                    except EOFError:
                        break
                    add((number, cells.split(",") if isinstance(cells, str) else cells))
            path.unlink()
            report = check_records(
                records,
                contracts,
                as_of=self.as_of,
                settings=self.settings,
                catalogue=self.context(),
                abn_required=self.abn_required,
                explain=self.explain,
                keep=self.keep,
            )
            del records
            summary, rows = report.summary, list(report.rows)
            del report
            self.emit(rows, summary.contracts, summary.invoices, summary)
            return
        counts = Counter(_key_of(r) for r in _records(path))
        # participants that fit go together into batches of at most the budget; each larger one
        # gets a file of its own
        target: dict[str, int] = {}
        sizes: list[int] = []
        big: list[bool] = []
        open_batch = -1
        for key, n in counts.items():
            if n > self.budget:
                target[key] = len(sizes)
                sizes.append(n)
                big.append(True)
                continue
            if open_batch < 0 or sizes[open_batch] + n > self.budget:
                open_batch = len(sizes)
                sizes.append(0)
                big.append(False)
            target[key] = open_batch
            sizes[open_batch] += n
        del counts
        paths = [self.folder.new("batch") for _ in sizes]
        files: list[IO[bytes]] = []
        try:
            for p in paths:
                files.append(p.open("wb"))
            for record in _records(path):
                pickle.dump(record, files[target[_key_of(record)]], _PROTOCOL)
        finally:
            for f in files:
                f.close()
        path.unlink()
        del target
        for p, n, alone in zip(paths, sizes, big, strict=True):
            if alone:
                self.participant(p, contracts)
            else:
                self.part(p, n, contracts)

    def participant(self, path: Path, contracts: Sequence[Contract]) -> None:
        """Check the rows of one participant, more than the budget: each row placed first
        (contract and invoice), then each contract's invoices decided in the order
        :meth:`~ndis_rules.claims.ClaimsBook.check` decides them, a budget of rows at a time."""
        book = ClaimsBook(contracts)
        catalogue = self.context()
        pending: list[RowOutcome] = []
        placed: dict[str, tuple[Contract, dict[tuple[str, str], list[int]]]] = {}
        with path.open("rb") as f:
            while True:
                offset = f.tell()
                try:
                    record = pickle.load(f)
                except EOFError:
                    break
                where = book.place(_read(record, self.abn_required))
                if isinstance(where, RowOutcome):
                    pending.append(where)
                    if len(pending) >= self.budget:
                        self.emit(pending, 0, 0)
                        pending = []
                    continue
                contract, provider, reference = where
                entry = placed.get(contract.id)
                if entry is None:
                    entry = placed[contract.id] = (contract, {})
                entry[1].setdefault((provider, reference), []).append(offset)
            self.emit(pending, 0, 0)
            pending = []
            for contract, invoices in placed.values():
                run = ContractRun(
                    book,
                    contract,
                    invoices,
                    as_of=self.as_of,
                    settings=self.settings,
                    catalogue=catalogue,
                    explain=self.explain,
                )
                for offsets in invoices.values():
                    for start in range(0, len(offsets), self.budget):
                        results = []
                        for offset in offsets[start : start + self.budget]:
                            f.seek(offset)
                            results.append(_read(pickle.load(f), self.abn_required))
                        pending.extend(
                            run.check(
                                results,
                                first=start == 0,
                                last=start + self.budget >= len(offsets),
                            )
                        )
                        del results
                        if len(pending) >= self.budget:
                            self.emit(pending, 0, 0)
                            pending = []
            self.emit(pending, len(placed), sum(len(i) for _, i in placed.values()))
        path.unlink()


def _merged(runs: list[Path], folder: _Folder) -> Iterator[Any]:
    """The kept items of every run, in row order (runs merged ``_FAN_IN`` at a time)."""
    while len(runs) > _FAN_IN:
        group, runs = runs[:_FAN_IN], runs[_FAN_IN:]
        path = folder.new("merged")
        with path.open("wb") as f:
            chunk: list[tuple[int, Any]] = []
            for item in heapq.merge(*(_run_items(p) for p in group), key=itemgetter(0)):
                chunk.append(item)
                if len(chunk) >= _RUN_CHUNK:
                    pickle.dump(chunk, f, _PROTOCOL)
                    chunk = []
            if chunk:
                pickle.dump(chunk, f, _PROTOCOL)
        for p in group:
            p.unlink()
        runs.append(path)
    if len(runs) == 1:  # nothing to merge
        for _, payload in _run_items(runs[0]):
            yield payload
        return
    for _, payload in heapq.merge(*(_run_items(p) for p in runs), key=itemgetter(0)):
        yield payload


@dataclass(frozen=True)
class SpilledReport:
    """The summary of every row, and what the report keeps of the rows (:meth:`rows`, in file
    order, read from the temporary folder: valid inside the ``with`` block only)."""

    summary: ClaimsSummary
    _runs: tuple[Path, ...]
    _folder: _Folder
    #: the reader's findings about the file as a whole (blank rows, too many rows, ...)
    findings: tuple[str, ...] = ()

    def rows(self) -> Iterator[Any]:
        """What ``render`` kept of each row, in file order (once)."""
        return _merged(list(self._runs), self._folder)


_JOBS: list[tuple[_Job, list[tuple[Path, int, int]], list[list[Contract]]]] = []


def _run_share(share: Sequence[int]) -> tuple[list[ClaimsSummary], list[Path]]:
    job, units, contract_parts = _JOBS[0]
    job.summaries, job.runs = [], []
    with gc_paused():
        for i in share:
            path, count, part = units[i]
            job.part(path, count, contract_parts[part])
    return job.summaries, job.runs


@contextlib.contextmanager
def check_claims_spilled(
    text_or_path: str | bytes | os.PathLike[str],
    contracts: Sequence[Contract],
    *,
    as_of: date,
    render: Render,
    keep: Keep = "all",
    spill_rows: int = DEFAULT_SPILL_ROWS,
    partitions: int = 16,
    settings: Settings | None = None,
    catalogue: CatalogueSpec | CatalogueContext | None = None,
    abn_required: bool = True,
    explain: bool = False,
    workers: int = 1,
    advance: Callable[[int], None] | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> Iterator[SpilledReport]:
    """The bulk claims check holding at most about ``spill_rows`` rows in memory; see the
    module. ``render(row)`` is what the report keeps of each row (``None``: nothing); it runs
    where the row is decided and must return something picklable. ``keep="flagged"``: the
    report keeps nothing of allowed rows (``render`` is called for errors and warnings only,
    and the check need not build the allowed rows at all); the summary counts every row.
    ``workers > 1`` checks the partitions on that many local processes (a
    :class:`CatalogueSpec` is needed there, not a loaded catalogue). ``folder``: where the
    temporary folder is made (default: the system's).
    ``advance(rows)`` is called as partitions are done (single process only).

    Raises:
        InputError: a bad file (see :func:`~ndis_rules.files.bpr.read_bpr`), a budget below 1,
            or a loaded catalogue with workers.
    """
    if spill_rows < 1:
        raise InputError(f"the spill budget must be at least 1 row, got {spill_rows}")
    if workers > 1 and isinstance(catalogue, CatalogueContext):
        raise InputError("workers need a CatalogueSpec (a file), not a loaded catalogue")
    with tempfile.TemporaryDirectory(prefix="ndis-rules-", dir=folder) as tmp, gc_paused():
        spill = _Folder(Path(tmp))
        job = _Job(
            spill,
            contracts,
            as_of,
            render,
            spill_rows,
            settings,
            catalogue,
            abn_required,
            explain,
            keep,
        )
        _, parts, findings = _split_file(text_or_path, spill, partitions, spill_rows)
        contract_parts = partition_contracts(contracts, len(parts))
        units = [(path, count, i) for i, (path, count) in enumerate(parts) if count]
        for path, count in parts:
            if not count:
                path.unlink()
        if workers <= 1 or len(units) <= 1:
            for path, count, i in units:
                job.part(path, count, contract_parts[i])
                if advance is not None:
                    advance(count)
            summaries, runs = job.summaries, job.runs
        else:
            summaries, runs = _in_processes(job, units, contract_parts, workers)
        yield SpilledReport(combine_summaries(summaries), tuple(runs), spill, findings)


def _worker_signals() -> None:
    """Workers stop at once when the pool ends them (the parent removes the folder)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _in_processes(
    job: _Job,
    units: list[tuple[Path, int, int]],
    contract_parts: list[list[Contract]],
    workers: int,
) -> tuple[list[ClaimsSummary], list[Path]]:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        for path, count, i in units:
            job.part(path, count, contract_parts[i])
        return job.summaries, job.runs
    # the largest partitions first, dealt out in turn
    order = sorted(range(len(units)), key=lambda i: -units[i][1])
    shares = [order[w::workers] for w in range(workers)]
    _JOBS.append((job, units, contract_parts))
    try:
        with multiprocessing.get_context("fork").Pool(workers, _worker_signals) as pool:
            results = pool.map(_run_share, shares)
    finally:
        _JOBS.clear()
    summaries = [s for share, _ in results for s in share]
    runs = [r for _, share in results for r in share]
    return summaries, runs
