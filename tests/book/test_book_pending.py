"""``book report --pending FILE``: the lines checked but not recorded that would fail if
submitted together (spec/book.md, Reports; validation.md section 4), read back from the book."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ndis_rules.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "book"
TODAY = ["--today", "2025-12-01"]
FAILING_TOGETHER = [
    "12100000691/INV-S-1001/3",
    "12100000691/INV-S-1002/2",
    "23100000460/INV-B-202/1",
    "34100000180/INV-C-56/1",
]


def run(*argv: str) -> tuple[int, str]:
    stream = io.StringIO()
    code = main(list(argv), out=stream)
    return code, stream.getvalue()


@pytest.fixture
def book(tmp_path: Path) -> str:
    path = str(tmp_path / "book.db")
    assert run("book", "init", path)[0] == 0
    assert run("book", "import-contracts", path, str(EXAMPLE / "contracts"))[0] == 0
    return path


def test_pending_lines_that_fail_only_together(book: str) -> None:
    code, text = run("book", "report", book, *TODAY, "--pending", str(EXAMPLE / "claims.csv"))
    assert code == 1
    assert "30 line(s) not in the book, 4 would fail because of the others" in text
    for key in FAILING_TOGETHER:
        assert f"{key}: allowed alone, ERROR together" in text
    code, text = run(
        "book", "report", book, *TODAY, "--pending", str(EXAMPLE / "claims.csv"),
        "--format", "json",
    )  # fmt: skip
    doc = json.loads(text)
    assert code == 1 and doc["pending"]["lines"] == 30
    assert [p["key"] for p in doc["pending"]["would_fail_together"]] == FAILING_TOGETHER
    failing = doc["pending"]["would_fail_together"]
    assert doc["budgets"] and all(p["alone"] == "allowed" for p in failing)


def test_recorded_lines_are_no_longer_pending_and_nothing_is_written(book: str) -> None:
    before = run("book", "report", book, *TODAY, "--format", "json")[1]
    run("book", "report", book, *TODAY, "--pending", str(EXAMPLE / "claims.csv"))
    assert run("book", "report", book, *TODAY, "--format", "json")[1] == before  # read only
    assert run("book", "check", book, str(EXAMPLE / "claims.csv"), "--record", *TODAY)[0] == 1
    code, text = run("book", "report", book, *TODAY, "--pending", str(EXAMPLE / "claims.csv"))
    # the recorded lines are in the book; the error lines left are errors alone as well
    assert code == 0 and "13 line(s) not in the book, 0 would fail" in text


def test_pending_with_csv_is_refused(book: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(
        "book", "report", book, *TODAY, "--pending", str(EXAMPLE / "claims.csv"), "--format", "csv"
    )
    assert code == 2 and "--pending" in capsys.readouterr().err
