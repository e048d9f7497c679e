"""Issue 12, "the fuzz tests run every subcommand with a property 'typed error, exit 2, rows
conserved'": the property-based layer over the fixed crash corpus (``crash_corpus.py``).

For every subcommand of ``build_parser()`` (its valid invocation is the corpus's base), one input
file the invocation reads is replaced by generated content: arbitrary bytes, or the valid file
mutated (truncated, a cell or value replaced by junk, a key removed or misspelt, deep nesting,
huge numbers, bytes that are not UTF-8). ``main`` then runs in-process and must:

* exit 0, 1 or 2;
* on exit 2 write exactly one ``ndis-rules: error:`` line (besides documented
  ``ndis-rules: note:`` lines), never a traceback; on exit 0/1 only documented notes;
* never reach the last-resort handler of ``cli/main.py`` (an exception found that way is a bug,
  fixed where it is raised, as a typed error naming field and row);
* for ``claims check`` of a BPR file (JSON report): rows in = rows out, i.e. the report's rows
  plus the counted blank rows equal the data lines of the input.

The CI run is a few examples per subcommand; ``pytest -m slow`` runs many more.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import crash_corpus as cc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndis_rules.cli.main import main

cli_main = importlib.import_module("ndis_rules.cli.main")

#: The files a command reads that the fuzzer may replace.
TEXT = (".json", ".csv", ".yaml")
STORES = (".db", ".sqlite")
NOTE = "ndis-rules: note: "  # documented: docs/catalogue-and-bpr.md (beside a CSV report)
ERROR = "ndis-rules: error: "

CI = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


# -- the valid invocations, made once per session ------------------------------------------------
_TEMPLATES: dict[str, tuple[Path, list[str]]] = {}


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> pytest.TempPathFactory:
    return tmp_path_factory


@contextlib.contextmanager
def _workspace(command: str, factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A fresh copy of ``command``'s files and its valid invocation over that copy."""
    if command not in _TEMPLATES:
        template = factory.mktemp(command.replace(" ", "-"))
        _TEMPLATES[command] = (template, cc.BASES[command](template))
        gc.collect()  # a connection the setup left open closes: its -wal goes now, not mid-copy
    template, argv = _TEMPLATES[command]
    with tempfile.TemporaryDirectory(dir=factory.getbasetemp()) as tmp:
        work = Path(tmp)
        shutil.copytree(template, work, dirs_exist_ok=True)
        yield work, [a.replace(str(template), str(work)) for a in argv]


def _input_files(argv: list[str], work: Path) -> list[Path]:
    return cc._inputs(argv, work, TEXT + STORES)


# -- generated content ---------------------------------------------------------------------------
JUNK_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "", " ", "1e30", "-1", "0", "NaN", "inf", "1,5", "70,23", "1_000", "\u0661\u0662",
            "9" * 400, "2025-02-30", "9999-12-31", "0001-01-01", "2025/13/01", "31/12/9999",
            '"', '"open', "a,b", "\x00", "\u202e", "=cmd|' /C calc'!A0", "null", "[]", "{}",
        ]
    ),
)
#: JSON tokens written as raw text (so they can be numbers no ``json.dumps`` would produce).
RAW_JSON = st.one_of(
    st.sampled_from(
        [
            b"1e30", b"1e999", b"-1e999", b"NaN", b"Infinity", b"-0", b"0.1e-400", b"1" * 4400,
            b"-" + b"9" * 40, b"123456789012345.67", b"true", b"null", b"[]", b"{}", b'""',
            b'"2025-02-30"', b'"9999-12-31"', b'"0001-01-01"', b'"1,234.5"', b'"70,23"',
            b'"1e30"', b'"\\ud800"',
        ]
    ),
    st.integers(min_value=-(10**60), max_value=10**60).map(lambda n: str(n).encode()),
    st.builds(lambda n: b"[" * n + b"]" * n, st.sampled_from([50, 2000, 100_000])),
    st.builds(lambda n: b'{"a":' * n + b"1" + b"}" * n, st.sampled_from([50, 2000, 100_000])),
    JUNK_TEXT.map(lambda s: json.dumps(s).encode()),
)
HOLE = "\x00__fuzz_hole__\x00"


def _json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _json_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _json_paths(v, (*prefix, i))


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _misspell(key: str, how: int) -> str:
    if how == 0 or len(key) < 2:
        return key + "x"
    if how == 1:
        return key[:-1]
    return key.swapcase() if key.swapcase() != key else key.upper() + "_"


def _mutate_json(data: st.DataObject, raw: bytes) -> bytes:
    try:
        doc = json.loads(raw)
    except ValueError:  # already not JSON: mutate it as text
        return _mutate_text(data, raw)
    how = data.draw(st.sampled_from(["value", "key", "raw"]), label="json mutation")
    if how == "key":
        objects = [p for p in _json_paths(doc) if isinstance(_at(doc, p), dict) and _at(doc, p)]
        if objects:
            path = data.draw(st.sampled_from(objects), label="object")
            obj = _at(doc, path)
            key = data.draw(st.sampled_from(sorted(obj)), label="key")
            value = obj.pop(key)
            if data.draw(st.booleans(), label="misspelt (else removed)"):
                obj[_misspell(key, data.draw(st.integers(0, 2), label="spelling"))] = value
            return json.dumps(doc).encode()
    path = data.draw(st.sampled_from(list(_json_paths(doc))), label="path")
    if path:
        _at(doc, path[:-1])[path[-1]] = HOLE
    else:
        doc = HOLE
    token = data.draw(RAW_JSON, label="raw value")
    return json.dumps(doc).encode().replace(json.dumps(HOLE).encode(), token, 1)


def _mutate_csv(data: st.DataObject, raw: bytes) -> bytes:
    lines = raw.split(b"\n")
    row = data.draw(st.integers(0, max(len(lines) - 1, 0)), label="csv line")
    cells = lines[row].split(b",")
    how = data.draw(st.sampled_from(["cell", "cell", "drop cell", "header"]), label="csv mutation")
    if how == "header":
        row, cells = 0, lines[0].split(b",")
    col = data.draw(st.integers(0, len(cells) - 1), label="csv column")
    if how == "drop cell":
        del cells[col]
    elif how == "header":
        name = cells[col].decode("utf-8", "replace")
        cells[col] = _misspell(name, data.draw(st.integers(0, 2), label="spelling")).encode()
    else:
        cells[col] = data.draw(JUNK_TEXT, label="junk cell").encode("utf-8", "surrogatepass")
    lines[row] = b",".join(cells)
    return b"\n".join(lines)


def _mutate_text(data: st.DataObject, raw: bytes) -> bytes:
    """A YAML (or any text) file: one line's value replaced, or its key misspelt."""
    lines = raw.split(b"\n")
    keyed = [i for i, line in enumerate(lines) if re.match(rb"\s*-?\s*[\w.]+:", line)]
    if not keyed:
        return raw + data.draw(JUNK_TEXT, label="junk").encode("utf-8", "surrogatepass")
    i = data.draw(st.sampled_from(keyed), label="yaml line")
    m = re.match(rb"(\s*-?\s*)([\w.]+)(:\s*)(.*)", lines[i])
    assert m is not None
    indent, key, colon, _ = m.groups()
    if data.draw(st.booleans(), label="misspelt key (else junk value)"):
        spelt = _misspell(key.decode(), data.draw(st.integers(0, 2), label="spelling"))
        lines[i] = indent + spelt.encode() + colon + m.group(4)
    else:
        junk = data.draw(st.one_of(JUNK_TEXT.map(str.encode), RAW_JSON), label="junk value")
        lines[i] = indent + key + b": " + junk.replace(b"\n", b" ")
    return b"\n".join(lines)


def _position(data: st.DataObject, raw: bytes, label: str) -> int:
    """A position in ``raw`` drawn without depending on its length (a SQLite file's size may
    differ from one session to the next, and Hypothesis replays its examples)."""
    return data.draw(st.integers(0, 2**24), label=label) % (len(raw) + 1)


def _not_utf8(data: st.DataObject, raw: bytes) -> bytes:
    at = _position(data, raw, "at")
    invalid = [b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]
    bad = data.draw(st.sampled_from(invalid), label="bytes")
    return raw[:at] + bad + raw[at:]


def _generate(data: st.DataObject, file: Path) -> bytes:
    raw = file.read_bytes()
    kinds = ["bytes", "truncated", "not utf-8"]
    if file.suffix in TEXT:
        kinds += ["mutated", "mutated", "mutated"]
    kind = data.draw(st.sampled_from(kinds), label="content")
    if kind == "bytes":
        return data.draw(st.binary(max_size=600), label="arbitrary bytes")
    if kind == "truncated":
        return raw[: _position(data, raw, "cut at")]
    if kind == "not utf-8":
        return _not_utf8(data, raw)
    mutate: Callable[[st.DataObject, bytes], bytes] = {
        ".json": _mutate_json,
        ".csv": _mutate_csv,
    }.get(file.suffix, _mutate_text)
    return mutate(data, raw)


# -- running one invocation ----------------------------------------------------------------------
def _run(argv: list[str]) -> tuple[int, str, str, list[BaseException]]:
    """Run ``main`` in-process: exit code, stdout, stderr and the exceptions (if any) that reached
    the last-resort handler."""
    caught: list[BaseException] = []
    real = cli_main._last_resort

    def spy(exc: Exception) -> str:
        caught.append(exc)
        return real(exc)

    # stdout as a real one is: UTF-8, strict (a value that cannot be written is found here too)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
    err = io.StringIO()
    with mock.patch.object(cli_main, "_last_resort", spy), contextlib.redirect_stderr(err):
        code = main(argv, out=out)
    with contextlib.suppress(ValueError, UnicodeError):
        out.flush()
    return code, raw.getvalue().decode("utf-8"), err.getvalue(), caught


def _check(argv: list[str], replaced: Path) -> tuple[int, str]:
    code, out, err, caught = _run(argv)
    where = f"{replaced.name} in {' '.join(argv[:2])}"
    if caught:
        exc = caught[0]
        raise AssertionError(
            f"the last-resort handler caught {type(exc).__name__} ({where}): {exc!s:.300}"
        ) from exc
    assert "Traceback" not in err, err
    assert code in {0, 1, 2}, (code, err)
    lines = [line for line in err.splitlines() if not line.startswith(NOTE)]
    if lines and lines[0].endswith("; candidates:"):
        # documented (cli/sync.py, docs/scenarios-sync.md): a plan selection error lists the
        # PACE plans it considered, one indented line each, under its one error line
        assert argv[0] in {"sync", "book"} and all(x.startswith("  ") for x in lines[1:]), err
        lines = lines[:1]
    if code == 2:
        assert len(lines) == 1, f"expected one error line ({where}), got: {err!r}"
        assert lines[0].startswith(ERROR), lines[0]
    else:
        assert lines == [], f"exit {code} with stderr ({where}): {err!r}"
    return code, out


def _fuzz_one(command: str, factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    with _workspace(command, factory) as (work, argv):
        files = _input_files(argv, work)
        if not files:
            pytest.skip(f"{command} reads no file")
        target = data.draw(st.sampled_from(files), label="file replaced")
        target.write_bytes(_generate(data, target))
        _check(argv, target)


COMMANDS = sorted(cc.BASES)


@pytest.mark.parametrize("command", COMMANDS)
@CI
@given(data=st.data())
def test_every_subcommand_refuses_generated_input_by_name(
    factory: pytest.TempPathFactory, command: str, data: st.DataObject
) -> None:
    _fuzz_one(command, factory, data)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
@SLOW
@given(data=st.data())
def test_every_subcommand_refuses_generated_input_by_name_slow(
    factory: pytest.TempPathFactory, command: str, data: st.DataObject
) -> None:
    _fuzz_one(command, factory, data)


def test_every_subcommand_that_reads_a_file_is_fuzzed(factory: pytest.TempPathFactory) -> None:
    """The fuzzer reaches every command but those that read no file (and a new subcommand
    without a base in the corpus fails ``test_crash_corpus``)."""
    reads = set()
    for command in COMMANDS:
        with _workspace(command, factory) as (work, argv):
            if _input_files(argv, work):
                reads.add(command)
    assert set(COMMANDS) - reads == {"codes", "schema", "book init"}


# -- claims check: rows in = rows out -------------------------------------------------------------
def _data_lines(raw: bytes) -> int:
    """Lines after the header, as the BPR reader counts them (``\\r\\n``, ``\\r`` or ``\\n``)."""
    from ndis_rules.bpr import decode_text

    lines = re.split(r"\r\n|\r|\n", decode_text(raw, "x"))
    if lines and lines[-1] == "":
        lines.pop()
    return len(lines) - 1


def _blank_rows(findings: list[str]) -> int:
    counts = [int(m.group(1)) for f in findings if (m := re.match(r"(\d+) blank row", f))]
    assert len(counts) <= 1, findings
    return sum(counts)


def _conserved(command: str, factory: pytest.TempPathFactory, content: bytes | None,
               data: st.DataObject | None) -> None:
    with _workspace(command, factory) as (_work, argv):
        bpr = Path(argv[2])
        assert bpr.suffix == ".csv" and bpr.is_file()
        if content is None:
            assert data is not None
            content = _generate(data, bpr)
        bpr.write_bytes(content)
        code, out = _check([*argv, "--format", "json"], bpr)
        if code == 2:
            return  # refused whole, by name (e.g. no header, a month-first file)
        report = json.loads(out)
        rows = report["rows"]
        assert report["summary"]["lines"] == len(rows)
        assert [r["row"] for r in rows] == sorted({r["row"] for r in rows})
        assert len(rows) + _blank_rows(report["findings"]) == _data_lines(content), (
            report["findings"]
        )


_CLAIMS = (Path(cc.EXAMPLES) / "book" / "claims.csv").read_bytes()
_HEAD = _CLAIMS.split(b"\n", 1)[0] + b"\n"


@pytest.mark.parametrize(
    "content",
    [
        _HEAD + b'4050012345,"Jane Smith\r\n\r\n,,, ,\n1,2\r',
        _CLAIMS.replace(b"2025/11/03", b"2025/11/03\x00", 1) + b"\n\n\n",
        _CLAIMS + b"\xff\xfe",
    ],
)
def test_claims_check_conserves_rows_of_known_hostile_files(
    factory: pytest.TempPathFactory, content: bytes
) -> None:
    _conserved("claims check", factory, content, None)


@CI
@given(data=st.data())
def test_claims_check_conserves_rows(factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    _conserved("claims check", factory, None, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_claims_check_conserves_rows_slow(
    factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    _conserved("claims check", factory, None, data)


# -- what the fuzzer found, kept as regression tests ---------------------------------------------
def test_sync_apply_refuses_an_unpaired_surrogate_escape_by_its_path(
    factory: pytest.TempPathFactory,
) -> None:
    """``"\\ud800"`` in a contract's notes was read, then could not be written: the last-resort
    handler caught a serialisation error."""
    with _workspace("sync apply", factory) as (work, argv):
        contract = work / "contract.json"
        doc = json.loads(contract.read_text())
        doc["notes"] = ["\ud800"]
        contract.write_text(json.dumps(doc))  # ensure_ascii: written as the escape \ud800
        code, _, err, caught = _run(argv)
    assert not caught and code == 2
    assert err.startswith(f"{ERROR}{contract}: not valid JSON: notes.0: a \\u escape that is half")
