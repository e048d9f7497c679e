"""The whole loop through the command line, twice, on the example book (docs/workflow.md)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ndis_rules.adapters.book_sqlite import SqliteBookStore
from ndis_rules.cli.main import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "book"
PLANS = Path(__file__).parents[2] / "examples" / "sync" / "plans" / "430000001.json"
TODAY = "2025-12-01"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def states(book: Path) -> dict[str, str]:
    store = SqliteBookStore(book)
    try:
        return {k.text: line.state for k, line in store.snapshot().lines.items()}
    finally:
        store.close()


def test_the_whole_loop_twice(tmp_path: Path) -> None:
    book = tmp_path / "book.db"
    assert run("book", "init", str(book))[0] == 0
    code, out = run("book", "import-contracts", str(book), str(EXAMPLE / "contracts"))
    assert code == 0 and "4 added" in out

    # first run: check and record, submit, results, report
    code, out = run("book", "check", str(book), str(EXAMPLE / "claims.csv"), "--record",
                    "--today", TODAY)
    assert code == 1  # the file has error lines: they are not recorded
    assert "recorded 17 new line(s); 0 already" in out
    code, out = run("book", "submit", str(book), "--out", str(tmp_path / "upload-1"))
    assert code == 0 and "17 line(s) in 1 file(s)" in out
    files = list((tmp_path / "upload-1").iterdir())
    assert [f.name for f in files] == ["bpr3_001.csv"]  # book version 3: unique per run
    assert len(files[0].read_text().splitlines()) == 18
    code, out = run("book", "results", str(book), str(EXAMPLE / "results.csv"))
    assert code == 1  # one row matches no submitted line: reported, not dropped
    assert "15 paid, 2 rejected, 0 already applied, 1 unmatched" in out
    assert "UNMATCHED INV-S-PORTAL-7" in out
    assert "our code: ITEM_NOT_VALID_ON_DATE" in out
    assert "(capped price)" in out
    after_first = states(book)
    assert sorted(after_first.values()).count("paid") == 15

    # second run of every step: nothing new
    code, out = run("book", "import-contracts", str(book), str(EXAMPLE / "contracts"))
    assert "0 added, 4 already" in out
    code, out = run("book", "check", str(book), str(EXAMPLE / "claims.csv"), "--record",
                    "--today", TODAY)
    assert "recorded 0 new line(s); 17 already in the book" in out
    code, out = run("book", "submit", str(book), "--out", str(tmp_path / "upload-2"))
    assert code == 0 and "nothing to submit" in out
    assert not (tmp_path / "upload-2").exists()
    code, out = run("book", "results", str(book), str(EXAMPLE / "results.csv"))
    assert "0 paid, 0 rejected, 17 already applied, 1 unmatched" in out
    assert states(book) == after_first

    # the report, three ways
    code, out = run("book", "report", str(book), "--today", TODAY)
    assert code == 0 and "431111111   01:plan    FP2" in out
    code, out = run("book", "report", str(book), "--today", TODAY, "--format", "json")
    rows = json.loads(out)
    fp2 = next(r for r in rows if r["participant"] == "431111111" and r["budget"] == "01:plan"
               and r["period"] == "FP2")
    assert fp2["paid"] == "576.14" and fp2["released"] == "3000.00"
    code, out = run("book", "report", str(book), "--today", TODAY, "--format", "csv")
    assert next(iter(csv.reader(io.StringIO(out))))[:3] == ["participant", "contract", "budget"]

    # replay: the same decision from the stored inputs
    code, out = run("book", "explain", str(book), "51824753556/INV-7781/1", "--today", TODAY)
    assert code == 0 and "the same decision" in out and "contract A-2025 v0 -> v" in out

    journal = SqliteBookStore(book).journal()
    assert [j.operation for j in journal] == [
        "init", "import-contracts", "check --record", "submit", "results",
        "import-contracts", "check --record", "results",
    ]


def test_a_rejected_line_corrected_is_recorded_again_under_its_key(tmp_path: Path) -> None:
    book = tmp_path / "book.db"
    run("book", "init", str(book))
    run("book", "import-contracts", str(book), str(EXAMPLE / "contracts"))
    run("book", "check", str(book), str(EXAMPLE / "claims.csv"), "--record", "--today", TODAY)
    run("book", "submit", str(book), "--out", str(tmp_path / "up"))
    run("book", "results", str(book), str(EXAMPLE / "results.csv"))
    assert states(book)["51824753556/INV-7781/3"] == "rejected"
    fixed = (EXAMPLE / "claims.csv").read_text().replace(
        "01_003_0107_1_1,INV-7781,1,,500.00", "01_003_0107_1_1,INV-7781,1,,450.00"
    )
    (tmp_path / "fixed.csv").write_text(fixed)
    _, out = run("book", "check", str(book), str(tmp_path / "fixed.csv"), "--record",
                    "--today", TODAY)
    assert "recorded 1 new line(s)" in out  # the fixed one; the other rejected line is as it was
    store = SqliteBookStore(book)
    line = next(v for k, v in store.snapshot().lines.items() if k.text.endswith("INV-7781/3"))
    assert line.state == "recorded" and line.attempt == 2
    assert [h.state for h in line.history] == ["recorded", "submitted", "rejected", "recorded"]


def test_submit_refuses_a_folder_that_is_not_fresh(tmp_path: Path) -> None:
    book = tmp_path / "book.db"
    run("book", "init", str(book))
    run("book", "import-contracts", str(book), str(EXAMPLE / "contracts"))
    run("book", "check", str(book), str(EXAMPLE / "claims.csv"), "--record", "--today", TODAY)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "bpr003.csv").write_text("an older run")
    code, _ = run("book", "submit", str(book), "--out", str(tmp_path / "old"))
    assert code == 2
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["bpr003.csv"]
    assert set(states(book).values()) == {"recorded"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    (tmp_path / "empty").mkdir()
    assert run("book", "submit", str(book), "--out", str(tmp_path / "empty"))[0] == 0
    assert set(states(book).values()) == {"submitted"}


def test_cancel_releases_and_a_paid_line_cannot_be_cancelled(tmp_path: Path) -> None:
    book = tmp_path / "book.db"
    run("book", "init", str(book))
    run("book", "import-contracts", str(book), str(EXAMPLE / "contracts"))
    run("book", "check", str(book), str(EXAMPLE / "claims.csv"), "--record", "--today", TODAY)
    code, out = run("book", "cancel", str(book), "45100000030/INV-PM-2510/2", "--reason", "dup")
    assert code == 0 and "released" in out
    assert states(book)["45100000030/INV-PM-2510/2"] == "cancelled"
    run("book", "submit", str(book), "--out", str(tmp_path / "up"))
    run("book", "results", str(book), str(EXAMPLE / "results.csv"))
    code, _ = run("book", "cancel", str(book), "12100000691/INV-S-1001/1")
    assert code == 2 and states(book)["12100000691/INV-S-1001/1"] == "paid"


def test_sync_apply_applies_exactly_the_saved_change_set(tmp_path: Path) -> None:
    book = tmp_path / "book.db"
    run("book", "init", str(book))
    code, out = run("book", "new-contract", str(book), "--plan", str(PLANS), "--id", "P-2025",
                    "--used", "01=1000.00", "--today", "2025-08-01")
    assert code == 0 and "adjustment" in out
    plans = json.loads(PLANS.read_text())
    plans["plans"][1]["planBudgets"][0]["allocatedAmount"] = "14500.00"
    plans["plans"][1]["totalFunding"] = "18500.00"
    plans["plans"][1]["planBudgets"][0]["fundingComponent"]["fundingPeriods"][3][
        "allocatedAmount"] = "5500.00"
    plans["plans"][1]["planBudgets"][0]["fundingComponent"]["fundingAmount"] = "14500.00"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(plans))
    code, out = run("book", "sync-preview", str(book), "--contract", "P-2025", "--plan",
                    str(changed), "--save", "--today", "2025-08-01")
    assert code == 0, out
    cs_id = out.split("saved change set ")[1].split()[0]
    # PACE changes again after the review: the reviewed change set is stale, never re-fetched
    plans["plans"][1]["totalFunding"] = "103999.00"
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(plans))
    code, out2 = run("book", "sync-preview", str(book), "--contract", "P-2025", "--plan",
                     str(moved), "--save", "--today", "2025-08-01")
    assert code == 0
    assert run("book", "sync-apply", str(book), cs_id)[0] == 2  # the plan moved since
    newest = out2.split("saved change set ")[1].split()[0]
    code, out = run("book", "sync-apply", str(book), newest)
    assert code == 0 and "version 1" in out
    assert run("book", "sync-apply", str(book), newest)[0] == 2  # applied already
    contract = SqliteBookStore(book).snapshot().contracts["P-2025"]
    assert str(contract.total) == "103999.00"


def test_a_missing_book_is_an_input_error(tmp_path: Path) -> None:
    assert run("book", "report", str(tmp_path / "none.db"))[0] == 2


@pytest.mark.parametrize("key", ["nope", "a/b/0", "a//1"])
def test_a_bad_line_key_is_an_input_error(tmp_path: Path, key: str) -> None:
    book = tmp_path / "book.db"
    run("book", "init", str(book))
    assert run("book", "explain", str(book), key)[0] == 2





def test_a_line_break_inside_a_quoted_value_keeps_the_error_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A contract id holding a form feed (found by the subcommand fuzzer) is named in the
    refusal; the error is still exactly one line, the break written as an escape."""
    bookings = EXAMPLE.parent / "bookings"
    book = tmp_path / "book.db"
    assert run("book", "init", str(book))[0] == 0
    assert run("book", "import-contracts", str(book), str(bookings / "contracts"))[0] == 0
    participants = json.loads((bookings / "participants.json").read_text())
    participants[0]["contracts"] = ["C\f\u2028X"]
    path = tmp_path / "participants.json"
    path.write_text(json.dumps(participants))
    capsys.readouterr()
    code, _ = run("book", "bookings", str(book), "--participants", str(path), "--gateway",
                  str(bookings / "gateway.json"), "--today", TODAY)
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == ["ndis-rules: error: the book holds no contract C\\x0c\\u2028X"]
