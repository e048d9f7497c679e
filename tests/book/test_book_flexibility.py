"""A line that spans two funding periods, checked with ``claims_flexibility`` (spec/book.md):
recorded once as one book line whose amount is the whole line, each part drawn in its own
period, submitted as the one row it was claimed as, and paid or rejected as a whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ndis_rules.adapters.book_memory import InMemoryBookStore
from ndis_rules.adapters.book_sqlite import SqliteBookStore
from ndis_rules.book import LineKey
from ndis_rules.files.bpr import read_bpr
from ndis_rules.files.contracts import load_contracts
from ndis_rules.models import Settings
from ndis_rules.money import Money
from ndis_rules.services.book import Book

EXAMPLE = Path(__file__).parents[2] / "examples" / "book"
TODAY = date(2025, 11, 15)
HEADER = (EXAMPLE / "claims.csv").read_text().splitlines()[0]
SPANNING = (
    "4050012345,431111111,2025/09/29,2025/10/02,01_011_0107_1_1,INV-SPAN,4,,"
    "70.23,P2,,,,,,51824753556"
)
KEY = LineKey("51824753556", "INV-SPAN", 1)
FLEX = Settings(claims_flexibility=True)
RESULTS_HEADER = (
    "RegistrationNumber,NDISNumber,SupportsDeliveredFrom,SupportsDeliveredTo,SupportNumber,"
    "ClaimReference,Quantity,Hours,UnitPrice,GSTCode,AuthorisedBy,ParticipantApproved,"
    "InKindFundingProgram,ClaimType,CancellationReason,ABN of Support Provider,"
    "Payment Request Number,Payment Request Status,Error Message,Claimed Amount,"
    "Paid Total Amount,Capped Price"
)


def _book(tmp_path: Path, kind: str) -> Book:
    store = SqliteBookStore(tmp_path / "book.db") if kind == "sqlite" else InMemoryBookStore()
    book = Book(store, now=lambda: "2025-11-15T09:00:00+11:00")
    book.init()
    book.import_contracts(load_contracts(EXAMPLE / "contracts"), source_digest="example")
    return book


def _claims(tmp_path: Path) -> Path:
    f = tmp_path / "claims.csv"
    f.write_text(HEADER + "\r\n" + SPANNING + "\r\n")
    return f


def _active_parts(book: Book) -> list[tuple[str | None, Money, bool]]:
    snap = book.snapshot()
    line = snap.lines[KEY]
    contract = snap.contracts[line.contract_id]
    ids = set(line.delivered_ids)
    return [
        (d.period_id, d.amount, d.paid)
        for d in contract.delivered
        if d.id in ids and d.status == "active"
    ]


def _record(book: Book, claims: Path) -> None:
    book.check(read_bpr(claims), today=TODAY, record=True, settings=FLEX, source="claims.csv")


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
@pytest.mark.parametrize("status", ["SUCCESSFUL", "ERROR"])
def test_spanning_line_recorded_once_submitted_as_one_row_settled_whole(
    tmp_path: Path, kind: str, status: str
) -> None:
    book = _book(tmp_path, kind)
    claims = _claims(tmp_path)
    first = book.check(
        read_bpr(claims), today=TODAY, record=True, settings=FLEX, source="claims.csv"
    )
    assert [r.status for r in first.rows] == ["recorded"]
    line = book.snapshot().lines[KEY]
    assert line.amount == Money.parse("280.92")  # the whole line: 4 x 70.23
    assert len(line.delivered_ids) == 2
    parts = _active_parts(book)
    assert [p[0] for p in parts] == ["FP1", "FP2"]  # each part drawn in its own period
    assert sum((p[1] for p in parts), Money(0)) == line.amount
    assert {d.period for d in line.draws} == {"FP1", "FP2"}

    version = book.snapshot().version
    again = book.check(
        read_bpr(claims), today=TODAY, record=True, settings=FLEX, source="claims.csv"
    )
    assert [r.status for r in again.rows] == ["already"]
    snap = book.snapshot()
    assert snap.lines[KEY] == line
    assert len(_active_parts(book)) == 2
    assert snap.version == version + 1  # the journal entry only: nothing else changed

    sub = book.submit(tmp_path / "upload")
    assert sub.keys == (KEY,)
    (written,) = [tmp_path / "upload" / n for n in sub.files]
    rows = read_bpr(written)
    assert len(rows) == 1  # one row per line, as the NDIA sees it: the split is ours
    assert rows[0].row is not None
    assert str(rows[0].row.supports_delivered_from) == "2025-09-29"
    assert str(rows[0].row.supports_delivered_to) == "2025-10-02"
    assert str(rows[0].row.quantity) == "4"

    cells = SPANNING.split(",")
    paid = "280.92" if status == "SUCCESSFUL" else ""
    reason = "C20 - Amount must be greater than zero" if status == "ERROR" else ""
    result = ",".join([*cells, "PR1", status, reason, "280.92", paid, "N"])
    text = RESULTS_HEADER + "\r\n" + result + "\r\n"
    outcome = book.results(text)
    assert outcome.count("matched") == 1
    line = book.snapshot().lines[KEY]
    if status == "SUCCESSFUL":
        assert line.state == "paid"
        parts = _active_parts(book)
        assert len(parts) == 2 and all(p[2] for p in parts)  # both parts settled
        assert sum((p[1] for p in parts), Money(0)) == Money.parse("280.92")
    else:
        assert line.state == "rejected"
        assert _active_parts(book) == []  # both parts released
    after = book.snapshot()
    assert book.results(text).count("already") == 1
    assert book.snapshot().lines == after.lines
    assert book.snapshot().contracts == after.contracts


def test_cancel_releases_both_parts(tmp_path: Path) -> None:
    book = _book(tmp_path, "memory")
    _record(book, _claims(tmp_path))
    assert len(_active_parts(book)) == 2
    book.cancel([KEY], reason="duplicate")
    assert _active_parts(book) == []


def test_without_flexibility_the_spanning_line_is_not_recorded(tmp_path: Path) -> None:
    """The control: the same line is an error without claims_flexibility, so the test above
    exercises the split."""
    book = _book(tmp_path, "memory")
    out = book.check(
        read_bpr(_claims(tmp_path)), today=TODAY, record=True, source="claims.csv"
    )
    assert [r.status for r in out.rows] == ["not_recorded"]


def test_capped_payment_releases_the_difference_from_the_parts(tmp_path: Path) -> None:
    book = _book(tmp_path, "memory")
    claims = _claims(tmp_path)
    _record(book, claims)
    book.submit(tmp_path / "upload")
    cells = SPANNING.split(",")
    row = ",".join([*cells, "PR1", "SUCCESSFUL", "", "280.92", "250.00", "Y"])
    book.results(RESULTS_HEADER + "\r\n" + row + "\r\n")
    parts = _active_parts(book)
    assert len(parts) == 2 and all(p[2] for p in parts)
    assert sum((p[1] for p in parts), Money(0)) == Money.parse("250.00")
    assert book.snapshot().lines[KEY].drawn == Money.parse("250.00")


def test_book_check_command_records_a_spanning_line_with_flexibility(tmp_path: Path) -> None:
    import io

    from ndis_rules.cli.main import main

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return main(list(argv), out=out), out.getvalue()

    book = tmp_path / "book.db"
    settings = tmp_path / "settings.json"
    settings.write_text('{"claims_flexibility": true}')
    claims = _claims(tmp_path)
    assert run("book", "init", str(book))[0] == 0
    assert run("book", "import-contracts", str(book), str(EXAMPLE / "contracts"))[0] == 0
    args = ("book", "check", str(book), str(claims), "--record", "--today", "2025-11-15",
            "--settings", str(settings))  # fmt: skip
    code, out = run(*args)
    assert code == 0 and "recorded 1 new line(s); 0 already" in out
    code, out = run(*args)
    assert code == 0 and "recorded 0 new line(s); 1 already" in out
    code, out = run("book", "submit", str(book), "--out", str(tmp_path / "up"))
    assert code == 0 and "1 line(s) in 1 file(s)" in out
