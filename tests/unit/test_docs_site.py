"""The documentation site builds with ``mkdocs build --strict`` (a broken link, anchor or nav
entry fails it), every page of docs/ is in the nav, and the CLI reference in docs/cli.md is the
one ``ndis_rules.cli.build_parser()`` describes.

Regenerate the CLI reference after changing an option: ``python tests/unit/test_docs_site.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ndis_rules.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
CLI_PAGE = ROOT / "docs" / "cli.md"
BEGIN = "<!-- BEGIN generated from ndis_rules.cli.build_parser() -->"
END = "<!-- END generated -->"


# -- the CLI reference ----------------------------------------------------------------------------
def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str, argparse.ArgumentParser]]:
    """Every leaf command: its words, its one-line help and its parser, in parser order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                path = (*words, name)
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    yield from _commands(sub, path)
                else:
                    yield path, helps.get(name, ""), sub


def _value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return str(action.metavar or action.dest.upper())


def _synopsis(words: tuple[str, ...], parser: argparse.ArgumentParser) -> str:
    parts = ["ndis-rules", *words]
    for a in parser._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if not a.option_strings:
            name = str(a.metavar or a.dest).upper()
            parts.append(f"{name} [{name} ...]" if a.nargs == "+" else name)
            continue
        text = " ".join(x for x in (a.option_strings[-1], _value(a)) if x)
        parts.append(text if a.required else f"[{text}]")
    return " ".join(parts)


#: Meanings of the options the parser gives no help text for (by destination).
FALLBACK_HELP = {
    "channel": "the channel the invoices arrive through",
    "action": "the action the invoices are validated for",
    "format": "output format",
    "out": "folder to write the schema files into",
    "verbose": "also list the scenarios that pass",
    "paths": "scenario files, or folders (searched for `.yaml`, `.yml` and `.json` files)",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | value | default | meaning |", "|---|---|---|---|"]
    for a in parser._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        default = a.default
        shown = "" if default is None or default is False or a.nargs == 0 else f"`{default}`"
        meaning = a.help or FALLBACK_HELP.get(a.dest, "")
        if a.option_strings:
            name = "`" + ", ".join(a.option_strings) + "`" + (" (required)" if a.required else "")
            value = f"`{_cell(_value(a))}`" if _value(a) else ""
        else:  # a positional argument
            name = f"`{str(a.metavar or a.dest).upper()}`"
            value = "one or more" if a.nargs == "+" else "one"
        rows.append(f"| {name} | {value} | {shown} | {_cell(meaning)} |")
    return rows


def cli_reference() -> str:
    """The generated part of docs/cli.md."""
    parser = build_parser()
    out = [
        BEGIN,
        "",
        "## Every command",
        "",
        "Generated from `ndis_rules.cli.build_parser()`; `ndis-rules COMMAND --help` prints the "
        "same. Every command also takes `-h, --help`; `ndis-rules --version` prints the version.",
        "",
    ]
    for words, help_text, sub in _commands(parser):
        out += [f"### ndis-rules {' '.join(words)}", ""]
        if help_text:
            out += [help_text[0].upper() + help_text[1:] + ".", ""]
        out += ["```text", _synopsis(words, sub), "```", "", *_table(sub), ""]
    out.append(END)
    return "\n".join(out) + "\n"


def _generated_part(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end] + "\n"


def test_cli_reference_is_current() -> None:
    assert _generated_part(CLI_PAGE.read_text()) == cli_reference(), (
        "docs/cli.md is stale: run `python tests/unit/test_docs_site.py`"
    )


def test_cli_reference_names_every_command_and_option() -> None:
    page = CLI_PAGE.read_text()
    for words, _, sub in _commands(build_parser()):
        assert f"### ndis-rules {' '.join(words)}\n" in page
        for a in sub._actions:
            for option in a.option_strings:
                assert f"`{option}" in page or f" {option}`" in page, (words, option)


# -- the site -------------------------------------------------------------------------------------
def _nav_pages() -> set[str]:
    text = (ROOT / "mkdocs.yml").read_text()
    return set(re.findall(r":\s*([\w./-]+\.md)\s*$", text, flags=re.M))


def test_every_page_is_in_the_nav() -> None:
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == _nav_pages()


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
    reason="mkdocs and mkdocs-material are not installed (extra: docs)",
)
def test_site_builds_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / "index.html").is_file()
    assert (site / "how-it-decides" / "index.html").is_file()
    assert (site / "schema" / "claims-report.schema.json").is_file()


def test_readme_report_is_the_real_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first command runs the main job, and the report lines pasted in the README
    are the first lines it prints."""
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"```bash\n(.*?)\n```", readme)
    assert first is not None
    install, _, command = first.group(1).partition(" && ")
    assert install == 'pip install -e ".[dev]"' and command.startswith("ndis-rules claims check ")
    pasted = re.search(r"## What the report shows.*?```text\n(.*?)```", readme, flags=re.S)
    assert pasted is not None
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    assert main(command.split()[1:], out=out) == 1  # the example holds rejected lines
    assert out.getvalue().startswith(pasted.group(1))


if __name__ == "__main__":  # regenerate the CLI reference in docs/cli.md
    page = CLI_PAGE.read_text()
    old = _generated_part(page).rstrip("\n")
    CLI_PAGE.write_text(page.replace(old, cli_reference().rstrip("\n")))
    print(f"wrote {CLI_PAGE}")
