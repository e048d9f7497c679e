"""Issue 12, exit codes that mean what they say: every subcommand of ``build_parser()`` run
against the crash corpus (``crash_corpus.py``) exits 2 with one ``ndis-rules: error:`` line (or
0/1 when the input is in fact valid), never a traceback, and never through the last-resort
handler (each crash is fixed where it happens, as a typed error); the last-resort handler turns
anything else into one line without the exception's text; Ctrl-C exits 130."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import crash_corpus as cc
import pytest

from ndis_rules.cli.main import build_parser, main
from ndis_rules.errors import InputError

cli_main = importlib.import_module("ndis_rules.cli.main")


def _subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every leaf subcommand, by its words, with its parser."""
    found: dict[str, Any] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_subcommands(sub, (*prefix, name)))
            return found
    return {" ".join(prefix): parser}


SUBCOMMANDS = _subcommands(build_parser())
ZONED = sorted(
    name for name, p in SUBCOMMANDS.items() if any("--zone" in a.option_strings for a in p._actions)
)


_TEMPLATES: dict[str, tuple[Path, list[str]]] = {}


def _invocation(command: str, factory: pytest.TempPathFactory, work: Path) -> list[str]:
    """The valid invocation of ``command`` over a fresh copy of its files in ``work`` (each
    command's files are made once per session, then copied: the book's steps are slow)."""
    if command not in _TEMPLATES:
        template = factory.mktemp(command.replace(" ", "-"))
        _TEMPLATES[command] = (template, cc.BASES[command](template))
    template, argv = _TEMPLATES[command]
    shutil.copytree(template, work, dirs_exist_ok=True)
    return [a.replace(str(template), str(work)) for a in argv]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], out: Any = None) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv, out=out if out is not None else io.StringIO())
    return code, capsys.readouterr().err


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one error line, got: {err!r}"
    assert lines[0].startswith("ndis-rules: error: "), lines[0]
    return lines[0]


def _no_crash(code: int, err: str, allowed: frozenset[int]) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, f"the last-resort handler caught it: {err!r}"
    assert code in allowed, f"exit {code}: {err!r}"
    if code == 2:
        _one_error_line(err)


def test_every_subcommand_has_a_valid_invocation_in_the_corpus() -> None:
    assert set(SUBCOMMANDS) == set(cc.BASES)
    assert set(ZONED) >= {
        "validate",
        "claims check",
        "claims write",
        "sync preview",
        "sync apply",
        "bookings sync",
    }


@pytest.mark.parametrize("command", sorted(cc.BASES))
def test_the_valid_invocation_runs_cleanly(
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run(_invocation(command, tmp_path_factory, tmp_path), capsys)
    assert code in {0, 1}, err
    assert err == ""


CASES = [(command, case) for command in sorted(cc.BASES) for case in cc.CASES]


@pytest.mark.parametrize(("command", "case"), CASES, ids=[f"{c} | {k.name}" for c, k in CASES])
def test_every_subcommand_survives_the_corpus(
    command: str,
    case: cc.Case,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    argv = case.poison(_invocation(command, tmp_path_factory, tmp_path), tmp_path)
    if argv is None:
        pytest.skip("this input does not reach this command")
    code, err = _run(argv, capsys)
    _no_crash(code, err, case.exits)


def test_the_corpus_reaches_every_command_and_every_case(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No poison is dead: each one applies to at least one command; each command that reads a
    file gets at least one poison, and each that reads JSON or CSV at least four."""
    reached: dict[str, int] = {}
    for n, case in enumerate(cc.CASES):
        hits = 0
        for m, command in enumerate(cc.BASES):
            work = tmp_path / f"{n}-{m}"
            if case.poison(_invocation(command, tmp_path_factory, work), work) is not None:
                hits += 1
                reached[command] = reached.get(command, 0) + 1
        assert hits, f"{case.name} reaches no command"
    no_files = {"codes", "schema", "book init"}
    book_only = {c for c in cc.BASES if c.startswith("book ")} - {
        "book import-contracts",
        "book new-contract",
        "book sync-preview",
        "book check",
        "book results",
    }
    few = {c: reached.get(c, 0) for c in cc.BASES if c not in no_files}
    assert {c: n for c, n in few.items() if n < (1 if c in book_only else 4)} == {}


@pytest.mark.parametrize("today", [None, "2025-11-15"])
@pytest.mark.parametrize("command", ZONED)
def test_an_unknown_zone_is_one_error_line_in_every_command(
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    today: str | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = list(_invocation(command, tmp_path_factory, tmp_path))
    if "--today" in argv:
        i = argv.index("--today")
        del argv[i : i + 2]
    argv += ["--zone", "Mars/Olympus"] + (["--today", today] if today else [])
    code, err = _run(argv, capsys)
    assert code == 2
    assert "--zone: unknown time zone 'Mars/Olympus'" in _one_error_line(err)


@pytest.mark.parametrize("zone", ["/etc/passwd", "../../etc/localtime", "", "x" * 500])
def test_a_zone_is_never_a_path(
    tmp_path_factory: pytest.TempPathFactory,
    zone: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run([*_invocation("validate", tmp_path_factory, tmp_path), "--zone", zone], capsys)
    assert code == 2 and "--zone" in _one_error_line(err)


@pytest.mark.parametrize("command", sorted(cc.BASES))
def test_output_to_a_full_device_is_exit_2(
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not Path("/dev/full").exists():  # pragma: no cover - not Linux
        pytest.skip("no /dev/full")
    with open("/dev/full", "w", encoding="utf-8") as full:
        code, err = _run(_invocation(command, tmp_path_factory, tmp_path), capsys, out=full)
        assert code == 2
        assert "cannot write the output: No space left on device" in _one_error_line(err)
        with contextlib.suppress(OSError):  # bytes still buffered cannot be written either
            full.close()


def test_a_full_device_from_the_shell_leaves_no_traceback() -> None:
    if not Path("/dev/full").exists():  # pragma: no cover - not Linux
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "ndis_rules", "codes"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr == "ndis-rules: error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("command", ["claims check", "catalogue lookup"])
def test_an_xlsx_catalogue_without_openpyxl_is_one_error_line(
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = _invocation(command, tmp_path_factory, tmp_path)
    i = argv.index("--catalogue")
    argv[i + 1] = str(cc.CATALOGUE_XLSX)
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl -> ImportError
    code, err = _run(argv, capsys)
    assert code == 2
    line = _one_error_line(err)
    assert "xlsx" in line and "internal error" not in line


# -- the last-resort handler ----------------------------------------------------------------
PERSONAL = "Jane Smith born 1990-01-02"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RuntimeError(PERSONAL), "internal error (RuntimeError)"),
        (KeyError(PERSONAL), "internal error (KeyError)"),
        (TypeError(PERSONAL), "internal error (TypeError)"),
        (RecursionError(PERSONAL), "nested too deeply"),
        (MemoryError(PERSONAL), "out of memory"),
        (PermissionError(13, "Permission denied"), "the run failed: Permission denied"),
    ],
)
def test_any_exception_is_one_line_without_its_text(
    tmp_path_factory: pytest.TempPathFactory,
    error: BaseException,
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*_: Any, **__: Any) -> int:
        raise error

    monkeypatch.setattr(cli_main, "evaluate_batch", boom)
    code, err = _run(_invocation("validate", tmp_path_factory, tmp_path), capsys)
    assert code == 2
    line = _one_error_line(err)
    assert expected in line
    assert "Jane" not in line and "1990" not in line


def test_ctrl_c_exits_130(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*_: Any, **__: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "evaluate_batch", interrupted)
    code, err = _run(_invocation("validate", tmp_path_factory, tmp_path), capsys)
    assert code == 130 and _one_error_line(err) == "ndis-rules: error: interrupted"


def test_a_usage_error_is_one_line_naming_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run(["claims", "check", "--today", "2025-13-01"], capsys)
    assert code == 2
    line = _one_error_line(err)
    assert line.startswith("ndis-rules: error: claims check: ") and "--help" in line


# -- a datetime where a date is expected (the Python API) ----------------------------------
def test_a_datetime_as_today_is_a_typed_error() -> None:
    from ndis_rules.claims import check_claims
    from ndis_rules.files.documents import read_contract, read_invoices
    from ndis_rules.merge import preview
    from ndis_rules.pace import PacePlan
    from ndis_rules.rules import evaluate_batch

    contract = read_contract(cc.EXAMPLES / "contract.json")
    invoices = read_invoices(cc.EXAMPLES / "invoices.json")
    moment = datetime(2025, 11, 15, 9, 30)
    with pytest.raises(InputError, match="as_of: expected a date, got a date and time"):
        evaluate_batch(contract, invoices, as_of=moment)
    with pytest.raises(InputError, match="as_of: the date is out of range"):
        evaluate_batch(contract, invoices, as_of=date(9999, 12, 31))
    with pytest.raises(InputError, match="as_of: expected a date"):
        check_claims([], [contract], as_of=moment)
    plan = PacePlan.model_validate(
        {
            "plan_id": "P",
            "ndis_number": "430000001",
            "start": "2025-07-01",
            "end_inclusive": "2026-06-30",
            "total": "0",
        }
    )
    with pytest.raises(InputError, match="today: expected a date"):
        preview(contract, plan, moment)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", [datetime(2025, 7, 1, 0, 0), date(9999, 12, 31), date(1, 1, 1), "2025-07-01T00:00"]
)
def test_a_model_date_is_a_day_in_bounds(value: object) -> None:
    from pydantic import ValidationError

    from ndis_rules.models import FundingPeriod

    with pytest.raises(ValidationError):
        FundingPeriod(id="FP1", start=value, end_inclusive=date(2026, 6, 30), amount="1.00")  # type: ignore[arg-type]
