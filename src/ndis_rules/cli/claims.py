"""The ``ndis-rules claims`` and ``ndis-rules catalogue`` commands: the bulk claims check of a
bulk payment request (BPR) file, writing a clean BPR, and looking an item up in the Support
Catalogue (docs/catalogue-and-bpr.md, "The bulk claims check").

* ``claims check FILE.csv --contracts (DIR|SQLITE) [--catalogue FILE] [--region R] [--state S]
  [--holidays] [--today D] [--format table|json|csv] [--explain]``: every row validated with
  :func:`~ndis_rules.claims.check_claims`. Exit 0 when no row is an error, 1 when one is, 2 for
  bad input (the message names the file, row and column). On a long run (a file of at least
  :data:`PROGRESS_MIN_BYTES`) whose output is a terminal, a progress bar is drawn on stderr with
  ``rich`` (extra ``cli``) and erased when done; otherwise, or without ``rich``, nothing is.
* ``claims write --from FILE.csv --out DIR [--date-format F]``: the rows the reader accepts,
  written again with :func:`~ndis_rules.bpr.write_bpr` (5,000 rows a file), all or nothing: into
  a temporary folder beside ``DIR``, renamed into place whole (an existing non-empty ``DIR`` is
  refused: a folder never mixes two runs). Exit 0 when every row was kept, 1 when a rejected
  row was left out, 2 for bad input or a failed write (nothing is left behind).
* ``catalogue lookup ITEM --date D [--region R] --catalogue FILE``: the item version in force on
  the date. Exit 0, or 2 when the item is unknown or not in force.

This module does not import :mod:`ndis_rules.cli` (which imports it to register the commands).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final, TextIO

from .. import __version__
from ..bpr import BprResult, BprRow, split_row_at, write_bpr
from ..catalogue import (
    OPEN_END,
    STATES,
    Catalogue,
    CatalogueItem,
    normalise_region,
)
from ..checkrun import CheckRun
from ..claims import (
    ClaimsBook,
    ClaimsReport,
    ClaimsSummary,
    RowOutcome,
    check_claims,
    set_fast_path_default,
)
from ..editions import CatalogueSet
from ..errors import InputError
from ..files.atomic import place_folder, write_folder
from ..files.bpr import read_bpr
from ..files.catalogue import detect_and_load
from ..files.contracts import load_contracts
from ..files.documents import read_settings
from ..itemchecks import CatalogueContext
from ..models import Contract, Settings
from ..services.scaleout import (
    CatalogueSpec,
    load_catalogue_context,
    merge_reports,
)
from ..services.spill import DEFAULT_SPILL_ROWS, check_claims_spilled
from .common import add_today_options, today_from
from .common import iso_date as _date

__all__ = [
    "CSV_COLUMNS",
    "PROGRESS_MIN_BYTES",
    "check_in_chunks",
    "format_claims_csv",
    "format_claims_table",
    "format_lookup",
    "register",
]

EXIT_OK, EXIT_ERRORS, EXIT_INPUT = 0, 1, 2

_UNITS: Final = {"H": "hour", "E": "each", "D": "day", "WK": "week", "MON": "month", "YR": "year"}
_DATE_FORMATS: Final = {
    "YYYY/MM/DD": "%Y/%m/%d",
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD/MM/YYYY": "%d/%m/%Y",
}
# A cell starting with one of these is run by a spreadsheet as a formula (as in ndis_rules.bpr).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "'")


# -- claims check -------------------------------------------------------------------------------
def _catalogue_spec(args: argparse.Namespace) -> CatalogueSpec | None:
    """The catalogue files, region, state and holidays of the options (``None``: no catalogue);
    option errors are input errors."""
    state: str | None = args.state.strip().upper() if args.state else None
    if state is not None and state not in STATES:
        raise InputError(f"unknown state {args.state!r}: expected one of {', '.join(STATES)}")
    if not args.catalogue:
        if args.region or state or args.holidays:
            raise InputError("--region, --state and --holidays need --catalogue FILE")
        return None
    if args.holidays and state is None:
        raise InputError("--holidays needs --state (public holidays differ by state)")
    region = args.region or state or "national"
    normalise_region(region)  # an unknown region is an input error, not a price finding
    first, *more = args.catalogue
    return CatalogueSpec(first, region, state, bool(args.holidays), more=tuple(more))


def _catalogue_context(args: argparse.Namespace) -> CatalogueContext | None:
    spec = _catalogue_spec(args)
    if spec is None:
        return None
    try:
        return load_catalogue_context(spec)
    except ImportError as exc:  # --holidays without the 'holidays' extra
        raise InputError(f"--holidays: {exc}") from None


def _check_run(
    args: argparse.Namespace,
    context: CatalogueContext | None,
    today: date,
    settings: Settings | None,
) -> CheckRun:
    catalogue = context.catalogue if context is not None else None
    return CheckRun.build(
        tool_version=__version__,
        today=today,
        catalogues=catalogue.editions if isinstance(catalogue, CatalogueSet) else (),
        region=context.region if context is not None else None,
        state=context.state if context is not None else None,
        holidays=bool(args.holidays),
        settings=settings,
    )


def _settings(args: argparse.Namespace) -> Settings | None:
    return read_settings(args.settings) if getattr(args, "settings", None) else None


def _draws_or_target(r: RowOutcome) -> str:
    return "draws " + r.draws_text if r.draws else "nothing drawn"


def format_claims_table(report: ClaimsReport, *, source: str = "", explain: bool = False) -> str:
    """The summary, then the rejected and warned rows with their codes, messages and draws."""
    shown = [_table_row(r, explain) for r in report.rows if r.outcome != "allowed"]
    return "\n".join(_table_parts(report.summary, report.run, source, shown))


def _table_parts(
    s: ClaimsSummary,
    run: CheckRun | None,
    source: str,
    shown: Iterable[str],
    findings: Sequence[str] = (),
) -> Iterator[str]:
    """The table's lines: the head (the reader's file-level ``findings`` as ``file:`` lines
    after the first), the rows shown (``shown``: flagged rows already formatted by
    :func:`_table_row`, in file order; there are ``warnings + errors`` of them), the tail."""
    out = [
        f"claims check{' of ' + source if source else ''}: {s.lines} line(s): "
        f"{s.allowed} allowed, {s.warnings} warning, {s.errors} error",
        *(f"file: {finding}" for finding in findings),
        f"claimable {s.claimable} over {s.contracts} contract(s), {s.invoices} invoice(s)",
    ]
    if run is not None and run.not_checked:
        out.append("not checked (the result says nothing about these):")
        out.extend(f"  {n.check}: {n.reason}" for n in run.not_checked)
    if s.by_code:
        out.append("lines by rule code:")
        width = max(len(c) for c in s.by_code)
        rank = {"error": 0, "warning": 1, "info": 2}
        for code, count in sorted(
            s.by_code.items(), key=lambda kv: (rank[s.severities.get(kv[0], "info")], -kv[1], kv[0])
        ):
            out.append(f"  {code:<{width}}  {s.severities.get(code, 'info'):<7}  {count:>7}")
    yield from out
    if s.warnings + s.errors:
        yield ""
        yield "rejected and warned lines:"
        yield from shown
    out = []
    hidden = s.allowed
    if hidden:
        out.append("")
        out.append(f"{hidden} allowed line(s) not shown (use --format json or csv for every line)")
    if run is not None:
        out.append("")
        out.append("checked with:")
        facts = [r for r in run.rows() if r[0] != "not checked"]  # those are listed on top
        width = max(len(r[0]) for r in facts)
        for key, first, *rest in facts:
            out.append(f"  {key:<{width}}  {first}" + (": " + ", ".join(rest) if rest else ""))
    yield from out


def _table_row(r: RowOutcome, explain: bool) -> str:
    """The lines of one flagged row in the table."""
    amount = str(r.amount) if r.amount is not None else "-"
    out = [
        f"row {r.row:<6} {r.outcome.upper():<7} {r.participant or '-':<10} "
        f"{r.claim_reference or '-':<16} {r.item or '-':<18} {amount:>10}  "
        f"{_draws_or_target(r)}"
    ]
    for note in r.notes:
        if note.severity != "info" or explain:
            out.append(f"           {note.code}: {note.message}")
    if explain and r.decision is not None:
        for t in r.decision.trace:
            inputs = ", ".join(f"{k}={v}" for k, v in t.inputs.items())
            out.append(f"           . {t.rule} -> {t.outcome}" + (f" ({inputs})" if inputs else ""))
    return "\n".join(out)


def _safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading ``'`` before ``= + - @ tab CR '``."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


#: The columns of the CSV report, after its ``#`` lines.
CSV_COLUMNS: Final = (
    "row",
    "outcome",
    "participant",
    "claim_reference",
    "item",
    "service_from",
    "service_to",
    "amount",
    "codes",
    "draws",
    "message",
)


def format_claims_csv(report: ClaimsReport, *, source: str = "") -> str:
    """One CSV row per input row: row, outcome, participant, claim reference, item, service
    dates, amount, codes, draws, message (formulas neutralised). When the report knows its run,
    ``#`` lines come first: the file checked, the tool, *today*, the catalogues, region, state,
    settings and the checks that did not run (a spreadsheet shows them above the table;
    ``pandas.read_csv(..., comment="#")`` skips them)."""
    return _csv_head(report.run, source) + "".join(_csv_row(r) for r in report.rows)


def _csv_writer() -> tuple[io.StringIO, Any]:
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, lineterminator="\r\n")


def _csv_head(run: CheckRun | None, source: str) -> str:
    """The ``#`` lines (when the run is known) and the column names."""
    buffer, writer = _csv_writer()
    if run is not None:
        writer.writerow(["# ndis-rules claims check", _safe(source)])
        for key, *values in run.rows():
            writer.writerow([f"# {key}", *(_safe(v) for v in values)])
    writer.writerow(CSV_COLUMNS)
    return buffer.getvalue()


def _csv_row(r: RowOutcome) -> str:
    """One row of the CSV report, with its line break."""
    buffer, writer = _csv_writer()
    writer.writerow(
        [
            _safe(cell)
            for cell in (
                str(r.row),
                r.outcome,
                r.participant,
                r.claim_reference,
                r.item,
                r.service_from,
                r.service_to,
                str(r.amount) if r.amount is not None else "",
                " ".join(r.codes),
                r.draws_text,
                " | ".join(r.messages),
            )
        ]
    )
    return buffer.getvalue()


def _json_row(r: RowOutcome) -> str:
    """One row of the JSON report as ``json.dumps(report.to_dict(), indent=2)`` writes it
    inside the ``rows`` list (indented two levels)."""
    return "    " + json.dumps(r.to_dict(), indent=2).replace("\n", "\n    ")


_ROWS: Final = "\x00rows\x00"


def _json_parts(
    s: ClaimsSummary, run: CheckRun | None, rows: Iterable[str], findings: Sequence[str] = ()
) -> Iterator[str]:
    """The JSON report in pieces, byte for byte ``json.dumps`` (indent 2) of the report's
    ``to_dict()`` with the reader's file-level ``findings`` after the rows: the summary and
    run, then each row as it comes (``rows``: :func:`_json_row` texts), then the findings."""
    document: dict[str, Any] = {"summary": s.to_dict()}
    if run is not None:
        document["run"] = run.to_dict()
    document["rows"] = _ROWS
    document["findings"] = list(findings)
    head, _, tail = json.dumps(document, indent=2).partition(json.dumps(_ROWS))
    yield head + "["
    empty = True
    for row in rows:
        yield ("\n" if empty else ",\n") + row
        empty = False
    yield ("]" if empty else "\n  ]") + tail


def _spill_rows(text: str) -> int:
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of rows >= 1, got {text!r}")
    return n


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of workers >= 1, got {text!r}")
    return n


def _renderer(form: str, explain: bool) -> Callable[[RowOutcome], str | None]:
    """What the report keeps of each row, formatted where the row is decided."""
    if form == "json":
        return _json_row
    if form == "csv":
        return _csv_row
    return functools.partial(_flagged_table_row, explain=explain)


def _flagged_table_row(r: RowOutcome, *, explain: bool) -> str | None:
    return _table_row(r, explain) if r.outcome != "allowed" else None


#: Set to ``0`` to check every line with the exact engine (the fast path for plain lines is on
#: otherwise; the report is identical either way).
FAST_PATH_ENV: Final = "NDIS_RULES_FAST_PATH"


def _apply_fast_path_env() -> None:
    set_fast_path_default(os.environ.get(FAST_PATH_ENV, "1").strip() != "0")


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    _apply_fast_path_env()
    """Every format in bounded memory: the rows are checked a partition of participants (or a
    budget of rows) at a time, each row formatted as it is decided and spilled to a temporary
    folder, then written in file order (see :mod:`ndis_rules.services.spill`)."""
    with contextlib.ExitStack() as stack:
        with _progress(out, Path(args.file)) as progress:
            progress.stage(
                "loading the catalogue and contracts" if args.catalogue else "loading contracts"
            )
            context = _catalogue_context(args)
            settings = _settings(args)
            contracts = load_contracts(args.contracts)
            today: date = today_from(args)
            spec = _catalogue_spec(args) if args.workers > 1 else None
            progress.stage(f"checking {args.file}")
            stack.enter_context(_exit_on_terminate())
            report = stack.enter_context(
                check_claims_spilled(
                    Path(args.file),
                    contracts,
                    as_of=today,
                    render=_renderer(args.format, args.explain),
                    keep="flagged" if args.format == "table" else "all",  # as the table shows
                    spill_rows=args.spill_rows,
                    settings=settings,
                    catalogue=spec if spec is not None else context,
                    explain=args.explain,
                    workers=args.workers,
                    advance=progress.advance if progress.live else None,
                )
            )
        run = _check_run(args, context, today, settings)
        rows: Iterator[str] = report.rows()
        findings = report.findings
        if args.format == "json":
            for part in _json_parts(report.summary, run, rows, findings):
                out.write(part)
            out.write("\n")
        elif args.format == "csv":
            out.write(_csv_head(run, args.file))
            for row in rows:
                out.write(row)
            for finding in findings:
                sys.stderr.write(f"ndis-rules: note: {args.file}: {finding}\n")
        else:
            for line in _table_parts(report.summary, run, args.file, rows, findings):
                out.write(line + "\n")
    return EXIT_ERRORS if report.summary.errors else EXIT_OK


@contextlib.contextmanager
def _exit_on_terminate() -> Iterator[None]:
    """SIGTERM ends the command as Ctrl-C does (``finally`` blocks run: the temporary folder is
    removed); outside the main thread, nothing changes."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- progress -----------------------------------------------------------------------------------
#: A BPR file at least this large (about 2,000 rows) is a long run: it gets a progress bar.
PROGRESS_MIN_BYTES: Final = 256 * 1024


class _Quiet:
    """No progress display (output not a terminal, a short run, or ``rich`` not installed)."""

    live = False

    def stage(self, description: str, total: int | None = None) -> None:
        """Start a stage of the run."""

    def advance(self, rows: int) -> None:
        """``rows`` more rows are done."""


class _RichBar(_Quiet):
    """A transient ``rich`` progress bar on stderr: erased when the run ends."""

    live = True

    def __init__(self, progress: Any) -> None:
        self._progress = progress
        self._task: Any = None

    def stage(self, description: str, total: int | None = None) -> None:
        if self._task is None:
            self._task = self._progress.add_task(description, total=total)
        else:
            self._progress.update(self._task, description=description, total=total, completed=0)

    def advance(self, rows: int) -> None:
        self._progress.advance(self._task, rows)


@contextlib.contextmanager
def _progress(out: TextIO, source: Path) -> Iterator[_Quiet]:
    """A progress bar when ``out`` is a terminal, the file is large and ``rich`` is installed."""
    try:
        long_run = source.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:  # read_bpr reports a missing file
        long_run = False
    if not (long_run and out.isatty()):
        yield _Quiet()
        return
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:  # the extra "cli" is not installed: plain output
        yield _Quiet()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        yield _RichBar(bar)


def check_in_chunks(
    results: Sequence[BprResult],
    contracts: Sequence[Contract],
    *,
    as_of: date,
    settings: Settings | None = None,
    catalogue: CatalogueContext | None = None,
    explain: bool = False,
    advance: Callable[[int], None] | None = None,
    chunk_rows: int = 1000,
) -> ClaimsReport:
    """:func:`~ndis_rules.claims.check_claims`, a few participants at a time, calling
    ``advance(rows)`` after each chunk of about ``chunk_rows`` rows: the same report.

    A row only ever meets the contracts of its own participant (NDISNumber), so the rows of
    different participants never compete for money: checking them participant by participant
    (each participant's rows in file order) and merging with
    :func:`~ndis_rules.services.scaleout.merge_reports` gives exactly the report of one call.
    """
    book = ClaimsBook(contracts)
    by_participant: dict[str, list[int]] = {}
    for index, result in enumerate(results):
        key = result.row.ndis_number.strip() if result.row is not None else ""
        by_participant.setdefault(key, []).append(index)
    reports: list[ClaimsReport] = []
    chunk: list[int] = []
    groups = list(by_participant.values())
    for n, indexes in enumerate(groups):
        chunk.extend(indexes)
        if len(chunk) < chunk_rows and n + 1 < len(groups):
            continue
        chunk.sort()
        rows = [results[i] for i in chunk]
        reports.append(
            book.check(rows, as_of=as_of, settings=settings, catalogue=catalogue, explain=explain)
        )
        if advance is not None:
            advance(len(chunk))
        chunk = []
    return merge_reports(reports)


# -- claims write -------------------------------------------------------------------------------
def _validated_rows(
    args: argparse.Namespace, results: Sequence[BprResult]
) -> tuple[list[BprRow], list[str]]:
    """With ``--contracts``: the rows validation allows, each split into one row per plan or
    funding-period part it draws in; and a line for each row left out."""
    settings = read_settings(args.settings) if args.settings else None
    today: date = today_from(args)
    report = check_claims(results, load_contracts(args.contracts), as_of=today, settings=settings)
    kept: list[BprRow] = []
    dropped: list[str] = []
    for result, outcome in zip(results, report.rows, strict=True):
        if outcome.outcome == "error" or result.row is None:
            dropped.append(f"row {outcome.row}: {' '.join(outcome.codes)}")
            continue
        parts = outcome.decision.parts if outcome.decision is not None else ()
        cuts = [p.from_ for p in parts[1:]]
        kept.extend(s.row for s in split_row_at(result.row, cuts)) if cuts else kept.append(
            result.row
        )
    return kept, dropped


def _cmd_write(args: argparse.Namespace, out: TextIO) -> int:
    date_format = _DATE_FORMATS.get(args.date_format.upper(), args.date_format)
    results = read_bpr(Path(args.source), source=args.source)
    for finding in results.findings:
        out.write(f"file: {finding}\n")
    if args.contracts:
        kept, left_out = _validated_rows(args, results)
        return _write_files(args, out, date_format, kept, len(results), left_out)
    kept = [r.row for r in results if r.ok and r.row is not None]
    dropped = [r for r in results if not (r.ok and r.row is not None)]
    return _write_files(
        args,
        out,
        date_format,
        kept,
        len(results),
        [f"left out {issue}" for r in dropped for issue in r.errors],
    )


def _write_files(
    args: argparse.Namespace,
    out: TextIO,
    date_format: str,
    kept: list[BprRow],
    read: int,
    left_out: list[str],
) -> int:
    try:
        files = write_bpr(kept, date_format=date_format)
    except ValueError as exc:
        raise InputError(str(exc), loc=("--date-format",)) from None
    folder = Path(args.out)
    # all or nothing: a temporary folder beside the target, renamed into place whole; an
    # existing non-empty folder is refused (a folder never mixes two runs)
    try:
        place_folder(write_folder(folder, files), folder)
    except FileExistsError:
        raise InputError(
            "already exists and is not an empty folder: write into a new folder (a folder "
            "never mixes two runs); nothing was written",
            source=str(folder),
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot write: {exc.strerror or exc}; nothing was written", source=str(folder)
        ) from None
    out.write(f"kept {len(kept)} of {read} row(s) of {args.source}\n")
    for name, text in files:
        rows = text.count("\r\n") - 1
        out.write(f"wrote {folder / name} ({rows} row(s))\n")
    for line in left_out:
        out.write(f"{line}\n")
    return EXIT_ERRORS if left_out else EXIT_OK


# -- catalogue lookup ---------------------------------------------------------------------------
def format_lookup(item: CatalogueItem, region: str) -> str:
    """The item version in force: name, dates, unit, PACE category and the price limit."""
    end = "open" if item.end_inclusive == OPEN_END else item.end_inclusive.isoformat()
    limit = item.price(region)
    if limit is not None:
        price = f"{limit} ({region})"
    elif item.quote:
        price = "no limit (quotable)"
    else:
        price = "no limit (no price in the catalogue)"
    pace = item.pace_category + (f" {item.pace_category_name}" if item.pace_category_name else "")
    return "\n".join(
        [
            f"item:          {item.number}",
            f"name:          {item.name}",
            f"in force:      {item.start.isoformat()} to {end}",
            f"unit:          {item.unit} ({_UNITS.get(item.unit, item.unit)})",
            f"PACE category: {pace}",
            f"price limit:   {price}",
        ]
    )


def _cmd_lookup(args: argparse.Namespace, out: TextIO) -> int:
    catalogue: Catalogue = detect_and_load(args.catalogue)
    number = args.item.strip()
    item = catalogue.item(number, args.date)
    if item is None:
        versions = catalogue.versions(number)
        if not versions:
            raise InputError(
                f"support item {number!r} is not in the catalogue", source=args.catalogue
            )
        ranges = ", ".join(f"{v.start} to {v.end_inclusive}" for v in versions)
        raise InputError(
            f"support item {number!r} is not in force on {args.date} (in force: {ranges})",
            source=args.catalogue,
        )
    out.write(format_lookup(item, args.region) + "\n")
    return EXIT_OK


# -- registration -------------------------------------------------------------------------------
def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``claims check``, ``claims write`` and ``catalogue lookup`` to the subcommands."""
    c = sub.add_parser("claims", help="bulk payment request (BPR) files")
    csub = c.add_subparsers(dest="claims_command", required=True)

    k = csub.add_parser("check", help="validate every row of a BPR file against the contracts")
    k.add_argument("file", help="the bulk payment request CSV file")
    k.add_argument(
        "--contracts", required=True, help="folder of contract JSON files, or an SQLite store"
    )
    k.add_argument(
        "--catalogue",
        action="append",
        help="NDIS Support Catalogue file (.csv or .xlsx); repeat it for several financial years: "
        "each line is checked against the one in force on its dates",
    )
    k.add_argument(
        "--region", help="price column: a state, national, remote or very_remote (default: --state)"
    )
    k.add_argument("--state", help="the participant's state, for public holidays (e.g. NSW)")
    k.add_argument(
        "--holidays",
        action="store_true",
        help="public holidays of --state from the 'holidays' package (extra: holidays)",
    )
    k.add_argument("--settings", help="settings JSON file (default: the default settings)")
    add_today_options(k)
    k.add_argument("--format", default="table", choices=["table", "json", "csv"])
    k.add_argument("--explain", action="store_true", help="include each line's rule trace")
    k.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes, one partition of participants each (default 1; the result is "
        "the same for any number)",
    )
    k.add_argument(
        "--spill-rows",
        type=_spill_rows,
        default=DEFAULT_SPILL_ROWS,
        help="rows held in memory at once; a larger partition or participant is checked that "
        f"many rows at a time through a temporary folder (default {DEFAULT_SPILL_ROWS:,}; the "
        "result is the same for any number)",
    )
    k.set_defaults(handler=_cmd_check)

    w = csub.add_parser("write", help="write the rows the reader accepts as new BPR files")
    w.add_argument("--from", dest="source", required=True, help="the BPR CSV file to read")
    w.add_argument(
        "--out",
        required=True,
        help="a new (or empty) folder for bpr001.csv, bpr002.csv ..., written all or nothing",
    )
    w.add_argument(
        "--date-format",
        default="%Y/%m/%d",
        help="YYYY/MM/DD (default), YYYY-MM-DD or DD/MM/YYYY (or the strftime format)",
    )
    w.add_argument(
        "--contracts",
        help="validate first (folder of contract JSON files, or an SQLite store): keep only the "
        "rows that are not errors, one row per plan or funding-period part",
    )
    w.add_argument("--settings", help="settings JSON file for that validation")
    add_today_options(w)
    w.set_defaults(handler=_cmd_write)

    g = sub.add_parser("catalogue", help="the NDIS Support Catalogue")
    gsub = g.add_subparsers(dest="catalogue_command", required=True)
    lk = gsub.add_parser("lookup", help="the version of an item in force on a date")
    lk.add_argument("item", help="support item number, e.g. 01_011_0107_1_1")
    lk.add_argument("--date", required=True, type=_date, help="service date YYYY-MM-DD")
    lk.add_argument("--region", default="national", help="state, national, remote, very_remote")
    lk.add_argument("--catalogue", required=True, help="catalogue file (.csv or .xlsx)")
    lk.set_defaults(handler=_cmd_lookup)
