"""The ``ndis-rules`` command line: a thin shell over the public API.

Exit codes: 0 no error line (or every scenario passed), 1 any error line (or a scenario failed),
2 bad input, usage, or any other failure of the run: one ``ndis-rules: error:`` line on stderr
naming the file, the field path and the problem, never a traceback (a last-resort handler turns
an unexpected exception into that line too, without its text); 130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Final, NoReturn, TextIO, cast

from .. import __version__
from ..codes import FAMILIES, registry, severity_changes
from ..errors import InputError, NdisRulesError
from ..files.documents import read_contract, read_invoices, read_settings
from ..models import Settings
from ..outcomes import InvoiceDecision
from ..rules import evaluate_batch
from .common import add_today_options, check_zone, today_from

__all__ = ["main"]

EXIT_OK, EXIT_ERRORS, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

Handler = Callable[[argparse.Namespace, TextIO], int]


def _today(args: argparse.Namespace) -> date:
    return today_from(args)


def format_table(decisions: Sequence[InvoiceDecision]) -> str:
    """A plain-text report: one row per line, then its findings."""
    out: list[str] = []
    lines = [ld for inv in decisions for ld in inv.lines]
    counts = {o: sum(1 for ld in lines if ld.outcome == o) for o in ("allowed", "warning", "error")}
    out.append(
        f"{len(decisions)} invoice(s), {len(lines)} line(s): {counts['allowed']} allowed, "
        f"{counts['warning']} warning, {counts['error']} error"
    )
    for inv in decisions:
        out.append("")
        out.append(f"invoice {inv.invoice_id}: {inv.outcome.upper()} -> {inv.action}")
        for ld in inv.lines:
            draws = " + ".join(d.text for d in ld.draws) or "nothing drawn"
            out.append(
                f"  {ld.line_id:<8} {ld.outcome:<8} {ld.action:<7} {ld.amount!s:>11}  {draws}"
            )
            for f in ld.findings:
                out.append(f"           [{f.severity}] {f.code}: {f.message}")
            for t in ld.trace:
                inputs = ", ".join(f"{k}={v}" for k, v in t.inputs.items())
                out.append(
                    f"           . {t.rule} -> {t.outcome}" + (f" ({inputs})" if inputs else "")
                )
    return "\n".join(out)


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    contract = read_contract(args.contract)
    invoices = read_invoices(args.invoice)
    settings = read_settings(args.settings) if args.settings else Settings()
    decisions = evaluate_batch(
        contract,
        invoices,
        as_of=_today(args),
        channel=args.channel,
        mode=args.mode,
        settings=settings,
        action=args.action,
        explain=args.explain,
    )
    if args.format == "json":
        for inv in decisions:
            out.write(json.dumps(inv.to_dict(), sort_keys=False) + "\n")
    else:
        out.write(format_table(decisions) + "\n")
    errors = any(ld.outcome == "error" for inv in decisions for ld in inv.lines)
    return EXIT_ERRORS if errors else EXIT_OK


def _cmd_scenarios_run(args: argparse.Namespace, out: TextIO) -> int:
    from ..testing.scenarios import run_scenario_file, scenario_files

    files = scenario_files(args.paths)
    if not files:
        raise InputError("no scenario files found", source=" ".join(args.paths))
    passed = failed = 0
    for f in files:
        for result in run_scenario_file(f):
            if args.k and args.k.lower() not in result.scenario.lower():
                continue
            if result.passed:
                passed += 1
                if args.verbose:
                    out.write(f"PASS {result.source}: {result.scenario}\n")
            else:
                failed += 1
                out.write("FAIL " + result.explain() + "\n")
    out.write(f"scenarios: {passed} passed, {failed} failed\n")
    return EXIT_ERRORS if failed else EXIT_OK


def _cmd_codes(args: argparse.Namespace, out: TextIO) -> int:
    specs = registry(args.family)
    if args.format == "json":
        data = [
            {
                "code": s.code,
                "severity": s.severity,
                "source": s.source,
                "ndia_rejection": s.ndia_rejection,
                "template": s.template,
                "family": s.family,
                "severity_changes": list(severity_changes(s.code)) if s.family == "rule" else [],
                "what_to_do": s.what_to_do,
                "ours": s.ours,
            }
            for s in specs
        ]
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        for s in specs:
            ndia = f"  prevents NDIA {s.ndia_rejection}" if s.ndia_rejection else ""
            out.write(f"{s.family:<8} {s.code:<36} {s.severity or '-':<8} {s.source}{ndia}\n")
            out.write(f"{'':<8} what to do: {s.what_to_do}\n")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    from ..files.schema import write_schemas

    for path in write_schemas(Path(args.out)):
        out.write(f"wrote {path}\n")
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``ndis-rules: error:`` line (exit 2), like
    every other failure of the command line; ``--help`` still prints the usage."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("ndis-rules").strip()
        where = f"{command}: " if command else ""
        hint = f"ndis-rules {command} --help" if command else "ndis-rules --help"
        self.exit(EXIT_INPUT, f"ndis-rules: error: {where}{message} (see {hint})\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    parser = _Parser(
        prog="ndis-rules",
        description="Validate NDIS claims against plan budgets and funding periods.",
    )
    parser.add_argument("--version", action="version", version=f"ndis-rules {__version__}")
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(  # type: ignore[assignment]
        dest="command", required=True
    )

    v = sub.add_parser("validate", help="validate invoices against a service contract")
    v.add_argument("--contract", required=True, help="contract JSON (or YAML) file")
    v.add_argument(
        "--invoice", required=True, help='invoice JSON file: one, a list, or {"invoices": [...]}'
    )
    add_today_options(v)
    v.add_argument(
        "--channel",
        default="service_entry",
        choices=["service_entry", "streamline", "bulk_import", "case_note"],
    )
    v.add_argument(
        "--mode",
        choices=["manual", "automated", "disabled"],
        help="streamline processing mode (default manual)",
    )
    v.add_argument("--action", default="create", choices=["create", "edit", "clone", "undo_cancel"])
    v.add_argument("--settings", help="settings JSON file")
    v.add_argument("--format", default="table", choices=["table", "json"])
    v.add_argument("--explain", action="store_true", help="include the rule trace")
    v.set_defaults(handler=_cmd_validate)

    s = sub.add_parser("scenarios", help="executable scenarios")
    ssub = s.add_subparsers(dest="scenarios_command", required=True)
    r = ssub.add_parser("run", help="run scenario files or folders")
    r.add_argument("paths", nargs="+")
    r.add_argument("-k", help="only scenarios whose name contains this text")
    r.add_argument("-v", "--verbose", action="store_true")
    r.set_defaults(handler=_cmd_scenarios_run)

    c = sub.add_parser(
        "codes", help="list every code (rule, conflict, booking, refusal, file) and what to do"
    )
    c.add_argument("--format", default="table", choices=["table", "json"])
    c.add_argument("--family", choices=FAMILIES, help="only the codes of this family")
    c.set_defaults(handler=_cmd_codes)

    sc = sub.add_parser("schema", help="write the JSON Schemas of the input models")
    sc.add_argument("--out", default="docs/schema")
    sc.set_defaults(handler=_cmd_schema)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


#: Functions that add more subcommands (sync, bookings, claims, catalogue).
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []


#: Characters other than ``\n`` that end a line for ``str.splitlines`` (a form feed in a
#: contract id, say): written as escapes so an error stays the one line it is meant to be.
_LINE_BREAKS: Final = str.maketrans(
    {c: repr(c)[1:-1] for c in "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}
)


def _error(message: str) -> None:
    """Write the one error line; a stderr that cannot take it changes nothing. Line breaks
    other than ``\n`` inside the message (a value quoted from the input) are escaped."""
    try:
        sys.stderr.write(f"ndis-rules: error: {message.translate(_LINE_BREAKS)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # pragma: no cover - stderr closed or full
        pass


def _silence(out: TextIO) -> None:
    """After the output failed (a full device, a closed pipe), point the standard output at
    the null device so the interpreter's final flush does not fail again with a traceback."""
    if out is not sys.stdout:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - no file descriptor behind stdout
        pass


class _OutputFailed(Exception):
    """Writing the command's output failed (a full device, a closed pipe)."""

    def __init__(self, cause: OSError) -> None:
        self.cause = cause
        super().__init__(cause.strerror or type(cause).__name__)


class _Output(io.TextIOBase):
    """The output stream as the handlers see it: a failed write or flush is told apart from
    any other ``OSError`` of the run (a file that cannot be read is not the output)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _OutputFailed(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _OutputFailed(exc) from None

    def isatty(self) -> bool:
        try:
            return bool(self._stream.isatty())
        except (AttributeError, ValueError):
            return False

    def writable(self) -> bool:
        return True


def _last_resort(exc: Exception) -> str:
    """The one line for an exception no command turned into a typed error: its kind only,
    never its text (which may hold a value from a file, a name or a date of birth)."""
    if isinstance(exc, RecursionError):
        return "an input is nested too deeply to be read"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"the run failed: {exc.strerror or type(exc).__name__}{where}"
    return (
        f"internal error ({type(exc).__name__}): the run stopped; please report it with the "
        "command you ran"
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code: 0 clean, 1 some line is an error, 2 bad
    input or any failure of the run (one ``ndis-rules: error:`` line on stderr, never a
    traceback), 130 interrupted (Ctrl-C)."""
    out = out or sys.stdout
    output = _Output(out)
    try:
        code = _run(argv, cast(TextIO, output))
        output.flush()  # a full device fails here, not at the interpreter's exit
        return code
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except InputError as exc:
        _error(str(exc))
        return EXIT_INPUT
    except NdisRulesError as exc:
        _error(str(exc))
        return EXIT_INPUT
    except _OutputFailed as exc:  # the output could not be written (a full device, a pipe)
        _error(f"cannot write the output: {exc}")
        _silence(out)
        return EXIT_INPUT
    except Exception as exc:  # the last resort: never a traceback, never exit 1
        _error(_last_resort(exc))
        return EXIT_INPUT


def _run(argv: Sequence[str] | None, out: TextIO) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message (or --help, --version)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INPUT
    handler: Handler = args.handler
    check_zone(args)  # an unknown --zone is bad input before anything is read
    return handler(args, out)


from .bookings import register as _register_bookings  # noqa: E402

EXTRA_COMMANDS.append(_register_bookings)
from .claims import register as _register_claims  # noqa: E402

EXTRA_COMMANDS.append(_register_claims)
from .sync import register as _register_sync  # noqa: E402

EXTRA_COMMANDS.append(_register_sync)
from .book import register as _register_book  # noqa: E402

EXTRA_COMMANDS.append(_register_book)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
