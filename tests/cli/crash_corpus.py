"""The crash corpus of issue 12: hostile inputs every ``ndis-rules`` subcommand must refuse with
exit 2 and one ``ndis-rules: error:`` line (or run cleanly, exit 0/1, when the input is in fact
valid), never a traceback.

A *base* is a valid invocation of one subcommand over copies of ``examples/``; a *poison*
rewrites the files the invocation reads (or its options) into one hostile input. The test
(``test_crash_corpus.py``) runs every subcommand of ``build_parser()`` against every poison
that applies to it, so a new subcommand without a base here fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CATALOGUE_CSV = ROOT / "tests" / "data" / "catalogue-2025-26-subset.csv"
CATALOGUE_XLSX = ROOT / "tests" / "data" / "catalogue-2026-27-subset.xlsx"
SCENARIO = ROOT / "docs" / "scenarios" / "validation" / "catalogue.yaml"

#: Exit codes: 2 = refused as bad input; ANY = the input may be valid (0 or 1), or refused (2).
REFUSED = frozenset({2})
ANY = frozenset({0, 1, 2})


def _copy(src: Path, work: Path) -> Path:
    dst = work / src.name
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy(src, dst)
    return dst


def _copy_scenarios(work: Path) -> Path:
    """A scenario file with the fixtures it names (../catalogues, ../contracts)."""
    base = work / "scenarios"
    shutil.copytree(SCENARIO.parents[1] / "catalogues", base / "catalogues")
    shutil.copytree(SCENARIO.parents[1] / "contracts", base / "contracts")
    (base / "validation").mkdir()
    return Path(shutil.copy(SCENARIO, base / "validation" / SCENARIO.name))


TODAY = ["--today", "2025-11-15"]


def _validate(w: Path) -> list[str]:
    return [
        "validate",
        "--contract",
        str(_copy(EXAMPLES / "contract.json", w)),
        "--invoice",
        str(_copy(EXAMPLES / "invoices.json", w)),
        *TODAY,
    ]


def _scenarios(w: Path) -> list[str]:
    return ["scenarios", "run", str(_copy_scenarios(w))]


def _codes(w: Path) -> list[str]:
    return ["codes"]


def _schema(w: Path) -> list[str]:
    return ["schema", "--out", str(w / "schema")]


def _bookings_plan(w: Path) -> list[str]:
    c = _copy(EXAMPLES / "bookings" / "contracts", w) / "C-LEGACY-1.json"
    return ["bookings", "plan", "--contract", str(c)]


def _bookings_sync(w: Path) -> list[str]:
    return [
        "bookings",
        "sync",
        "--participants",
        str(_copy(EXAMPLES / "bookings" / "participants.json", w)),
        "--contracts",
        str(_copy(EXAMPLES / "bookings" / "contracts", w)),
        "--gateway",
        str(_copy(EXAMPLES / "bookings" / "gateway.json", w)),
        *TODAY,
    ]


def _claims_check(w: Path) -> list[str]:
    return [
        "claims",
        "check",
        str(_copy(EXAMPLES / "book" / "claims.csv", w)),
        "--contracts",
        str(_copy(EXAMPLES / "book" / "contracts", w)),
        "--catalogue",
        str(_copy(CATALOGUE_CSV, w)),
        *TODAY,
    ]


def _claims_write(w: Path) -> list[str]:
    return [
        "claims",
        "write",
        "--from",
        str(_copy(EXAMPLES / "book" / "claims.csv", w)),
        "--out",
        str(w / "upload"),
        "--contracts",
        str(_copy(EXAMPLES / "book" / "contracts", w)),
        *TODAY,
    ]


def _catalogue_lookup(w: Path) -> list[str]:
    return [
        "catalogue",
        "lookup",
        "01_011_0107_1_1",
        "--date",
        "2025-11-03",
        "--catalogue",
        str(_copy(CATALOGUE_CSV, w)),
    ]


def _sync(command: str) -> Callable[[Path], list[str]]:
    def base(w: Path) -> list[str]:
        argv = [
            "sync",
            command,
            "--contract",
            str(_copy(EXAMPLES / "sync" / "contract.json", w)),
            "--plans",
            str(_copy(EXAMPLES / "sync" / "plans", w)),
            "--participant",
            "430000001",
            "--last-name",
            "Citizen",
            "--dob",
            "1990-01-31",
            *TODAY,
        ]
        if command == "apply":  # the change set reviewed: saved by preview --save first
            import io

            from ndis_rules.cli import main

            saved = w / "reviewed.json"
            preview = ["sync", "preview", *argv[2:], "--save", str(saved)]
            assert main(preview, out=io.StringIO()) == 1  # one conflict, accepted below
            argv += [
                "--changes", str(saved), "--out", str(w / "applied.json"),
                "--accept", "TOTAL_BELOW_DELIVERED",
            ]  # fmt: skip
        return argv

    return base


def _sync_batch(w: Path) -> list[str]:
    from ndis_rules.adapters.sqlite_store import SqliteContractRepository
    from ndis_rules.files.documents import read_contract

    contract = read_contract(_copy(EXAMPLES / "sync" / "contract.json", w))
    store = SqliteContractRepository(w / "store.sqlite")
    store.save(contract, None)
    store.close()
    people = w / "people.json"
    people.write_text(
        json.dumps(
            [{"ndis_number": "430000001", "last_name": "Citizen", "date_of_birth": "1990-01-31"}]
        ),
        encoding="utf-8",
    )
    return [
        "sync",
        "batch",
        "--participants",
        str(people),
        "--plans",
        str(_copy(EXAMPLES / "sync" / "plans", w)),
        "--store",
        str(w / "store.sqlite"),
        *TODAY,
    ]


# -- the book: each command after the steps it needs (run here, output ignored) --------------
BOOK_TODAY = ["--today", "2025-12-01"]


def _setup(*argv: str) -> str:
    import io

    from ndis_rules.cli.main import main

    out = io.StringIO()
    code = main(list(argv), out=out)
    assert code in {0, 1}, (argv, code)
    return out.getvalue()


def _book(
    w: Path, *, contracts: bool = True, checked: bool = False, submitted: bool = False
) -> str:
    db = str(w / "book.db")
    _setup("book", "init", db)
    if contracts:
        _setup("book", "import-contracts", db, str(_copy(EXAMPLES / "book" / "contracts", w)))
    if checked or submitted:
        claims = str(_copy(EXAMPLES / "book" / "claims.csv", w))
        _setup("book", "check", db, claims, "--record", *BOOK_TODAY)
    if submitted:
        _setup("book", "submit", db, "--out", str(w / "upload-0"))
    return db


def _book_legacy(w: Path) -> str:
    """A book holding the legacy (and PACE) contracts of the bookings example."""
    db = _book(w, contracts=False)
    _setup("book", "import-contracts", db, str(_copy(EXAMPLES / "bookings" / "contracts", w)))
    return db


def _book_submission(w: Path) -> tuple[str, str]:
    db = _book(w, checked=True)
    said = _setup("book", "submit", db, "--out", str(w / "upload-1"))
    return db, said.split()[1].rstrip(":")


def _book_change_set(w: Path) -> tuple[str, str]:
    db = _book(w, contracts=False)
    plan = str(_copy(EXAMPLES / "sync" / "plans", w) / "430000001.json")
    _setup("book", "new-contract", db, "--plan", plan, "--id", "P-1", "--today", "2025-08-01")
    said = _setup(
        "book",
        "sync-preview",
        db,
        "--contract",
        "P-1",
        "--plan",
        plan,
        "--save",
        "--today",
        "2025-08-02",
    )
    return db, said.split("saved change set ")[1].split()[0]


BOOK_BASES: dict[str, Callable[[Path], list[str]]] = {
    "book init": lambda w: ["book", "init", str(w / "book.db")],
    "book import-contracts": lambda w: [
        "book",
        "import-contracts",
        _book(w, contracts=False),
        str(_copy(EXAMPLES / "book" / "contracts", w)),
    ],
    "book new-contract": lambda w: [
        "book",
        "new-contract",
        _book(w, contracts=False),
        "--plan",
        str(_copy(EXAMPLES / "sync" / "plans", w) / "430000001.json"),
        "--id",
        "P-1",
        "--today",
        "2025-08-01",
    ],
    "book sync-preview": lambda w: [
        "book",
        "sync-preview",
        _book_change_set(w)[0],
        "--contract",
        "P-1",
        "--plan",
        str(w / "plans" / "430000001.json"),
        "--today",
        "2025-08-02",
    ],
    "book sync-apply": lambda w: ["book", "sync-apply", *_book_change_set(w)],
    "book check": lambda w: [
        "book",
        "check",
        _book(w),
        str(_copy(EXAMPLES / "book" / "claims.csv", w)),
        "--catalogue",
        str(_copy(CATALOGUE_CSV, w)),
        *BOOK_TODAY,
    ],
    "book bookings": lambda w: [
        "book",
        "bookings",
        _book_legacy(w),
        "--participants",
        str(_copy(EXAMPLES / "bookings" / "participants.json", w)),
        "--gateway",
        str(_copy(EXAMPLES / "bookings" / "gateway.json", w)),
        *TODAY,
    ],
    "book submit": lambda w: ["book", "submit", _book(w, checked=True), "--out", str(w / "upload")],
    "book files": lambda w: ["book", "files", *_book_submission(w), "--out", str(w / "again")],
    "book results": lambda w: [
        "book",
        "results",
        _book(w, submitted=True),
        str(_copy(EXAMPLES / "book" / "results.csv", w)),
    ],
    "book cancel": lambda w: [
        "book",
        "cancel",
        _book(w, checked=True),
        "12100000691/INV-S-1001/1",
        "--reason",
        "duplicate",
    ],
    "book report": lambda w: ["book", "report", _book(w, submitted=True), *BOOK_TODAY],
    "book explain": lambda w: [
        "book",
        "explain",
        _book(w, checked=True),
        "12100000691/INV-S-1001/1",
        *BOOK_TODAY,
    ],
}


#: A valid invocation of every subcommand, by its words.
BASES: dict[str, Callable[[Path], list[str]]] = {
    "validate": _validate,
    "scenarios run": _scenarios,
    "codes": _codes,
    "schema": _schema,
    "bookings plan": _bookings_plan,
    "bookings sync": _bookings_sync,
    "claims check": _claims_check,
    "claims write": _claims_write,
    "catalogue lookup": _catalogue_lookup,
    "sync preview": _sync("preview"),
    "sync apply": _sync("apply"),
    "sync batch": _sync_batch,
    **BOOK_BASES,
}


# -- poisons --------------------------------------------------------------------------------------
def _inputs(argv: list[str], work: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files under ``work`` that ``argv`` names (directly or inside a named folder)."""
    found: list[Path] = []
    for arg in argv:
        p = Path(arg)
        if not p.is_absolute() or work not in p.parents:
            continue
        if p.is_file() and p.suffix in suffixes:
            found.append(p)
        elif p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in suffixes)
    return found


def _rewrite(files: list[Path], change: Callable[[bytes], bytes]) -> bool:
    changed = False
    for f in files:
        before = f.read_bytes()
        after = change(before)
        if after != before:
            f.write_bytes(after)
            changed = True
    return changed


Poison = Callable[[list[str], Path], "list[str] | None"]


def _in_files(suffixes: tuple[str, ...], change: Callable[[bytes], bytes]) -> Poison:
    def poison(argv: list[str], work: Path) -> list[str] | None:
        return argv if _rewrite(_inputs(argv, work, suffixes), change) else None

    return poison


def _insert_first(value: bytes) -> Callable[[bytes], bytes]:
    """Put ``value`` first in the document's top-level object (or list)."""

    def change(text: bytes) -> bytes:
        m = re.search(rb"[{\[]", text)
        if m is None:
            return text
        at = m.end()
        item = b'"poison": ' + value + b", " if m.group() == b"{" else value + b", "
        return text[:at] + item + text[at:]

    return change


def _quantity(value: bytes) -> Callable[[bytes], bytes]:
    def change(text: bytes) -> bytes:
        return re.sub(rb'("quantity"\s*:\s*)"[^"]*"', rb"\g<1>" + value, text, count=1)

    return change


def _csv_cell(column: int, value: bytes) -> Callable[[bytes], bytes]:
    def change(text: bytes) -> bytes:
        lines = text.split(b"\n")
        cells = lines[1].split(b",")
        cells[column] = value
        lines[1] = b",".join(cells)
        return b"\n".join(lines)

    return change


_ISO = rb"\b\d{4}-\d{2}-\d{2}\b"
_BPR_DATE = rb"\b\d{4}/\d{2}/\d{2}\b"


def _dates(iso: bytes, bpr: bytes) -> Callable[[bytes], bytes]:
    def change(text: bytes) -> bytes:
        return re.sub(_BPR_DATE, bpr, re.sub(_ISO, iso, text))

    return change


def _option(name: str, value: str) -> Poison:
    def poison(argv: list[str], work: Path) -> list[str] | None:
        if name not in argv:
            return None
        i = argv.index(name)
        return [*argv[: i + 1], value, *argv[i + 2 :]]

    return poison


def _zone(argv: list[str], work: Path) -> list[str] | None:
    return None  # decided by the parser: see ZONE_COMMANDS in the test


def _garbage_store(argv: list[str], work: Path) -> list[str] | None:
    if argv[:2] == ["sync", "batch"]:
        (work / "store.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
        return argv
    if argv[0] == "book":
        db = work / "book.db"
        if not db.exists():
            return None  # book init makes the file
        db.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
        return argv
    if argv[0] != "sync":
        return None
    store = work / "store.db"
    store.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    i = argv.index("--contract")
    return [*argv[:i], "--store", str(store), "--contract-id", "C-SYNC-1", *argv[i + 2 :]]


def _scenario_text(change: Callable[[bytes], bytes]) -> Poison:
    return _in_files((".yaml",), change)


def _not_utf8(text: bytes) -> bytes:
    return b"\xff\xfe\xfa" + text


DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_INT = b"1" * 4400
JSON = (".json",)
CSV = (".csv",)
ALL_TEXT = (".json", ".csv", ".yaml")


@dataclass(frozen=True)
class Case:
    """One hostile input: how it poisons an invocation, and the exit codes allowed."""

    name: str
    poison: Poison
    exits: frozenset[int] = REFUSED


CASES: list[Case] = [
    Case("json quantity 1e30", _in_files(JSON, _quantity(b"1e30"))),
    Case("json quantity '1e30'", _in_files(JSON, _quantity(b'"1e30"'))),
    Case("csv quantity 1e30", _in_files(CSV, _csv_cell(6, b"1e30")), ANY),
    # an unknown key of a PACE payload is ignored (and recorded) by design: exit 0 is right there
    Case("json integer of 4,400 digits", _in_files(JSON, _insert_first(HUGE_INT)), ANY),
    Case("json nested 100,000 deep", _in_files(JSON, _insert_first(DEEP))),
    Case("dates 9999-12-31", _in_files(ALL_TEXT, _dates(b"9999-12-31", b"9999/12/31")), ANY),
    Case("dates in year 1", _in_files(ALL_TEXT, _dates(b"0001-01-01", b"0001/01/01")), ANY),
    Case("dates in year 2", _in_files(ALL_TEXT, _dates(b"0002-01-01", b"0002/01/01")), ANY),
    Case("--today 9999-12-31", _option("--today", "9999-12-31"), ANY),
    Case("--today 0001-01-01", _option("--today", "0001-01-01"), ANY),
    Case("--date 9999-12-31", _option("--date", "9999-12-31"), ANY),
    Case("--date 0001-01-01", _option("--date", "0001-01-01"), ANY),
    Case("--dob 9999-12-31", _option("--dob", "9999-12-31"), ANY),
    Case("--dob 0001-01-01", _option("--dob", "0001-01-01"), ANY),
    Case("non-UTF-8 bytes in JSON or YAML", _in_files((".json", ".yaml"), _not_utf8)),
    # a catalogue CSV may be Windows-1252 (the NDIA's own files are): read as such
    Case("non-UTF-8 bytes in CSV", _in_files(CSV, _not_utf8), ANY),
    Case(
        "scenario: unquoted impossible date",
        _scenario_text(lambda t: t.replace(b"today: 2025-12-15", b"today: 2025-02-30", 1)),
    ),
    Case(
        "scenario: bad money",
        _scenario_text(lambda t: t.replace(b'unit_price: "70.23"', b'unit_price: "7,0.2.3"', 1)),
    ),
    # the scenario loader reads 70.23 as an exact Decimal, never a float: valid
    Case(
        "scenario: money as a YAML number",
        _scenario_text(lambda t: t.replace(b'unit_price: "70.23"', b"unit_price: 70.23", 1)),
        ANY,
    ),
    Case("unreadable SQLite store", _garbage_store),
]
