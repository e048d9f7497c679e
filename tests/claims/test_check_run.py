"""The bulk claims check says what it checked (issue 12, deliverable 4): catalogue editions,
state, region, today, settings, channel and version in every format, the checks that did not
run; several catalogues, each line against the one in force on its dates; a date no catalogue
covers is a finding; the CSV rows stand alone; workers give the same report."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

import ndis_rules
from ndis_rules.catalogue import Catalogue, CatalogueError, CatalogueItem
from ndis_rules.cli import main
from ndis_rules.editions import CatalogueSet, edition_of
from ndis_rules.files.catalogue import load_editions

from .conftest import REAL_CSV, REAL_XLSX, SMALL_CSV, SMALL_XLSX
from .test_claims_check import bpr, bpr_line, contract

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "docs" / "scenarios" / "catalogues"
CAT_2025 = SAMPLES / "catalogue-2025-26-sample.csv"
CAT_2026 = SAMPLES / "catalogue-2026-27-sample.csv"
ITEM = "01_011_0107_1_1"  # $70.23 in 2025-26, $73.58 in 2026-27


def _item(start: date, end: date = date(9999, 12, 31)) -> CatalogueItem:
    return CatalogueItem(ITEM, "Self-Care", "0107", "01", "01", "H", False, start, end)


# -- editions -----------------------------------------------------------------------------------
def test_edition_dates_from_the_file_name() -> None:
    e = edition_of(Catalogue([_item(date(2025, 7, 1))]), "NDIS-Support Catalogue-2025-26 -v1.1.csv")
    assert (e.financial_year, e.version, e.basis) == ("2025-26", "1.1", "file name")
    assert (e.start, e.end_inclusive) == (date(2025, 7, 1), date(2026, 6, 30))
    long_year = edition_of(
        Catalogue([_item(date(2026, 7, 1))]), "catalogue 2026-2027 version 2.csv"
    )
    assert (long_year.financial_year, long_year.version) == ("2026-27", "2")
    assert long_year.end_inclusive == date(2027, 6, 30)


def test_edition_dates_from_the_items_when_the_name_has_no_year() -> None:
    open_ended = edition_of(Catalogue([_item(date(2025, 11, 24))]), "prices.csv")
    assert (open_ended.start, open_ended.end_inclusive) == (date(2025, 11, 24), date(2026, 6, 30))
    assert open_ended.basis == "item dates" and open_ended.version is None
    closed = edition_of(Catalogue([_item(date(2025, 7, 1), date(2025, 9, 30))]), "p.csv")
    assert closed.end_inclusive == date(2025, 9, 30)
    with pytest.raises(CatalogueError, match="no support item"):
        edition_of(Catalogue([]), "empty.csv")


def test_a_set_answers_from_the_edition_in_force_only() -> None:
    old = edition_of(Catalogue([_item(date(2025, 7, 1))]), "c-2025-26.csv")
    new = edition_of(Catalogue([_item(date(2026, 7, 1))]), "c-2026-27.csv")
    both = CatalogueSet([new, old])  # any order
    assert [e.source for e in both.editions] == ["c-2025-26.csv", "c-2026-27.csv"]
    on_30_june = both.item(ITEM, date(2026, 6, 30))
    assert on_30_june is not None and on_30_june.start == date(2025, 7, 1)
    assert on_30_june.end_inclusive == date(2026, 6, 30)  # clipped to its edition
    assert both.item(ITEM, date(2027, 7, 1)) is None  # no edition covers it
    assert both.uncovered(date(2026, 6, 1), date(2026, 7, 31)) is None
    assert both.uncovered(date(2027, 6, 1), date(2027, 7, 31)) == date(2027, 7, 1)
    assert CatalogueSet([old]).item(ITEM, date(2026, 7, 1)) is None  # never last year's prices
    assert [v.end_inclusive for v in both.versions(ITEM)] == [date(2026, 6, 30), date(2027, 6, 30)]


def test_two_catalogues_taking_effect_on_one_day_are_refused() -> None:
    with pytest.raises(CatalogueError, match="both take effect on 2025-07-01"):
        load_editions([CAT_2025, CAT_2025])


def test_the_real_files_cover_consecutive_years() -> None:
    pytest.importorskip("openpyxl")
    small = load_editions([SMALL_XLSX, SMALL_CSV])
    assert [(e.financial_year, e.start, e.end_inclusive) for e in small.editions] == [
        ("2025-26", date(2025, 7, 1), date(2026, 6, 30)),
        ("2026-27", date(2026, 7, 1), date(2027, 6, 30)),
    ]
    if not (REAL_CSV.is_file() and REAL_XLSX.is_file()):
        pytest.skip("the shared data folder is not here")
    real = load_editions([REAL_CSV, REAL_XLSX])
    assert [(e.financial_year, e.version) for e in real.editions] == [
        ("2025-26", "1.1"),
        ("2026-27", "1.0"),
    ]
    assert real.price_limit(ITEM, date(2026, 6, 30), "NSW") == real.price_limit(
        ITEM, date(2025, 7, 1), "NSW"
    )
    assert str(real.price_limit(ITEM, date(2026, 6, 30), "NSW")) == "70.23"
    assert str(real.price_limit(ITEM, date(2026, 7, 1), "NSW")) == "73.58"


# -- the command --------------------------------------------------------------------------------
@pytest.fixture
def book(tmp_path: Path) -> tuple[Path, Path]:
    """A contract over two financial years, and a file with lines on 30 June and 1 July 2026
    at $72.00 (above the 2025-26 limit $70.23, within the 2026-27 limit $73.58), one over both
    days, and one in July 2027 (no catalogue given covers it)."""
    folder = tmp_path / "contracts"
    folder.mkdir()
    c = contract(start="2025-07-01", end="2027-09-30", total="5000.00")
    (folder / "c1.json").write_text(c.model_dump_json(by_alias=True))
    claims = tmp_path / "claims.csv"
    claims.write_text(
        bpr(
            bpr_line(day="2026/06/30", reference="A", quantity="1", price="72.00"),
            bpr_line(day="2026/07/01", reference="B", quantity="1", price="72.00"),
            bpr_line(day="2026/06/30", to="2026/07/01", reference="C", price="72.00"),
            bpr_line(day="2027/07/05", reference="D", quantity="1", price="72.00"),
        )
    )
    return claims, folder


def _check(book: tuple[Path, Path], *extra: str) -> tuple[int, str]:
    claims, folder = book
    out = io.StringIO()
    argv = ["claims", "check", str(claims), "--contracts", str(folder), "--today", "2027-08-01"]
    code = main([*argv, *extra], out=out)
    return code, out.getvalue()


def _json(book: tuple[Path, Path], *extra: str) -> dict[str, object]:
    code, text = _check(book, "--format", "json", *extra)
    assert code in (0, 1)
    document: dict[str, object] = json.loads(text)
    return document


def _codes(document: dict[str, object]) -> dict[str, list[str]]:
    rows = document["rows"]
    assert isinstance(rows, list)
    return {r["claim_reference"]: r["codes"] for r in rows}


def test_two_years_each_line_against_the_catalogue_in_force(book: tuple[Path, Path]) -> None:
    doc = _json(book, "--catalogue", str(CAT_2026), "--catalogue", str(CAT_2025), "--state", "NSW")
    codes = _codes(doc)
    assert "PRICE_ABOVE_LIMIT" in codes["A"]  # 30 June 2026: 2025-26 limit 70.23
    assert "PRICE_ABOVE_LIMIT" not in codes["B"]  # 1 July 2026: 2026-27 limit 73.58
    assert "PRICE_ABOVE_LIMIT" in codes["C"]  # over both days: both limits
    assert "NO_CATALOGUE_FOR_DATE" in codes["D"]  # July 2027: neither covers it
    assert not any("NO_CATALOGUE_FOR_DATE" in codes[k] for k in "ABC")
    run = doc["run"]
    assert isinstance(run, dict)
    assert [(c["file"], c["effective_from"], c["effective_to"]) for c in run["catalogues"]] == [
        (CAT_2025.name, "2025-07-01", "2026-06-30"),
        (CAT_2026.name, "2026-07-01", "2027-06-30"),
    ]


def test_one_catalogue_never_prices_another_year(book: tuple[Path, Path]) -> None:
    code, _ = _check(book, "--catalogue", str(CAT_2025))
    assert code == 0  # a missing catalogue year is a warning, not an error
    doc = _json(book, "--catalogue", str(CAT_2025))
    codes = _codes(doc)
    assert "PRICE_ABOVE_LIMIT" in codes["A"]
    assert codes["B"] == ["NO_CATALOGUE_FOR_DATE", "PROVIDER_NOT_ON_CONTRACT"]  # no price check
    assert "NO_CATALOGUE_FOR_DATE" in codes["C"]  # its second day is not covered
    rows = doc["rows"]
    assert isinstance(rows, list)
    b = next(r for r in rows if r["claim_reference"] == "B")
    assert b["outcome"] == "warning"
    assert b["findings"][0]["facts"] == {
        "day": "2026-07-01",
        "from": "2026-07-01",
        "to": "2026-07-01",
        "covered": f"2025-07-01 to 2026-06-30 ({CAT_2025.name})",
    }
    summary = doc["summary"]
    assert isinstance(summary, dict) and summary["severities"]["NO_CATALOGUE_FOR_DATE"] == "warning"


def test_without_a_catalogue_the_report_says_what_did_not_run(book: tuple[Path, Path]) -> None:
    code, table = _check(book)
    assert code == 0  # no line is an error
    lines = table.splitlines()
    assert lines[2] == "not checked (the result says nothing about these):"
    assert lines[3].startswith("  support items: no --catalogue given")
    assert any(line.startswith("  price limits: no --catalogue given") for line in lines[3:8])
    assert any(line.startswith("  day types: no --catalogue given") for line in lines[3:8])
    doc = _json(book)
    run = doc["run"]
    assert isinstance(run, dict)
    assert run["catalogues"] == [] and run["region"] is None
    assert [n["check"] for n in run["not_checked"]] == [
        "support items",
        "price limits",
        "claim type flags",
        "day types",
        "PACE categories",
    ]
    _, text = _check(book, "--format", "csv")
    assert "# not checked,price limits,no --catalogue given" in text


def test_holidays_not_loaded_is_a_check_not_run(book: tuple[Path, Path]) -> None:
    doc = _json(book, "--catalogue", str(CAT_2025), "--state", "nsw")
    run = doc["run"]
    assert isinstance(run, dict)
    assert (run["state"], run["region"], run["public_holidays"]) == ("NSW", "NSW", False)
    assert run["not_checked"] == [
        {
            "check": "public holidays",
            "reason": "no --holidays: the public holidays of NSW were not loaded, day types "
            "know weekends only",
        }
    ]


def test_every_format_carries_the_run(book: tuple[Path, Path], tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text('{"price_limit_is_error": true}')
    extra = ("--catalogue", str(CAT_2025), "--settings", str(settings), "--region", "remote")
    doc = _json(book, *extra)
    run = doc["run"]
    assert isinstance(run, dict)
    assert run["tool_version"] == ndis_rules.__version__ and run["tool"] == "ndis-rules"
    assert (run["today"], run["channel"], run["region"]) == ("2027-08-01", "bulk_import", "remote")
    assert run["settings_changed"] == {"price_limit_is_error": True}
    assert run["settings"]["price_limit_is_error"] is True
    assert run["catalogues"][0] == {
        "file": CAT_2025.name,
        "version": None,
        "financial_year": "2025-26",
        "effective_from": "2025-07-01",
        "effective_to": "2026-06-30",
        "items": 32,
        "basis": "file name",
    }
    code, table = _check(book, *extra)
    assert code == 0  # remote prices are higher: no line above the limit
    footer = table[table.index("\nchecked with:\n") :]
    for text in (
        f"ndis-rules {ndis_rules.__version__}",
        "today            2027-08-01",
        "channel          bulk_import",
        f"{CAT_2025.name}: 2025-26, version not named, in force 2025-07-01 to 2026-06-30",
        "region           remote",
        "state            not given",
        "setting          price_limit_is_error=true",
    ):
        assert text in footer, text
    _, text = _check(book, "--format", "csv", *extra)
    head = [r for r in csv.reader(io.StringIO(text)) if r and r[0].startswith("#")]
    assert head[0][0] == "# ndis-rules claims check" and head[0][1].endswith("claims.csv")
    keyed = {r[0]: r[1:] for r in head}
    assert keyed["# tool"] == [f"ndis-rules {ndis_rules.__version__}"]
    assert keyed["# today"] == ["2027-08-01"]
    assert keyed["# catalogue"][:2] == [CAT_2025.name, "2025-26"]
    assert keyed["# region"] == ["remote"] and keyed["# setting"] == ["price_limit_is_error=true"]


def test_csv_rows_stand_alone(book: tuple[Path, Path]) -> None:
    _, text = _check(book, "--format", "csv", "--catalogue", str(CAT_2025))
    rows = list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))
    c = next(r for r in rows if r["claim_reference"] == "C")
    assert (c["participant"], c["item"], c["service_from"], c["service_to"], c["amount"]) == (
        "431234567",
        ITEM,
        "2026-06-30",
        "2026-07-01",
        "144.00",
    )
    assert c["outcome"] == "warning" and "NO_CATALOGUE_FOR_DATE" in c["codes"]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_workers_give_the_same_report_with_several_catalogues(
    book: tuple[Path, Path], fmt: str
) -> None:
    extra = ("--format", fmt, "--catalogue", str(CAT_2025), "--catalogue", str(CAT_2026))
    outputs = {w: _check(book, *extra, "--workers", w) for w in ("1", "2", "3")}
    assert outputs["1"] == outputs["2"] == outputs["3"]
    assert "NO_CATALOGUE_FOR_DATE" in outputs["1"][1] and CAT_2026.name in outputs["1"][1]


def test_overlapping_catalogues_are_bad_input(
    book: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _check(book, "--catalogue", str(CAT_2025), "--catalogue", str(CAT_2025))
    assert code == 2
    assert "both take effect on 2025-07-01" in capsys.readouterr().err
