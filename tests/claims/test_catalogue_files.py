"""The NDIS Support Catalogue reader (spec/claims-files.md), against real NDIA rows.

Small copies in tests/data: NDIA Support Catalogue 2025-26 v1.1 (CSV) and 2026-27 v1.0 (XLSX).
Tests over the whole files read ../shared/data and skip when it is absent.
"""

from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ndis_rules.catalogue import (
    OPEN_END,
    STATES,
    Catalogue,
    CatalogueError,
    CatalogueItem,
    ItemNotFoundError,
    RegionError,
    normalise_region,
)
from ndis_rules.errors import InputError
from ndis_rules.files import catalogue as catalogue_files
from ndis_rules.files.catalogue import detect_and_load
from ndis_rules.money import Money

DATA = Path(__file__).resolve().parents[1] / "data"
M = Money.parse
AUG_2025 = date(2025, 8, 4)
AUG_2026 = date(2026, 8, 3)
SELF_CARE = "01_011_0107_1_1"

HEADER_2025 = (
    "Support Item Number,Support Item Name,Registration Group Number,Registration Group Name,"
    "Support Category Number,Support Category Number (PACE),Support Category Name,"
    "Support Category Name (PACE),Unit,Quote,Start date,End Date,ACT,NSW,NT,QLD,SA,TAS,VIC,WA,"
    "Remote,Very Remote,Non-Face-to-Face Support Provision,Provider Travel,"
    "Short Notice Cancellations.,NDIA Requested Reports,Irregular SIL Supports,Type"
)
GOOD_ROW = (
    "01_011_0107_1_1,Assistance With Self-Care Activities - Standard - Weekday Daytime,0107,"
    "Daily Personal Activities,1,1,Assistance with Daily Life (Includes SIL),"
    "Assistance with Daily Life,H,No,20250701,99991231,$70.23,$70.23,$70.23,$70.23,$70.23,"
    "$70.23,$70.23,$70.23,$98.32,$105.35,Y,Y,Y,N,N,Price Limited Supports"
)


# -- 2025-26 CSV (state columns) ------------------------------------------------------------------
def test_known_price_2025_26(small_2025: Catalogue) -> None:
    for region in (*STATES, "national", "nsw"):
        assert small_2025.price_limit(SELF_CARE, AUG_2025, region) == M("70.23")
    assert small_2025.price_limit(SELF_CARE, AUG_2025, "remote") == M("98.32")
    assert small_2025.price_limit(SELF_CARE, AUG_2025, "Very Remote") == M("105.35")


def test_item_fields_2025_26(small_2025: Catalogue) -> None:
    item = small_2025.item(SELF_CARE, on=AUG_2025)
    assert item is not None
    assert item.name == "Assistance With Self-Care Activities - Standard - Weekday Daytime"
    assert (item.registration_group, item.registration_group_name) == (
        "0107",
        "Daily Personal Activities",
    )
    assert (item.legacy_category, item.pace_category) == ("01", "01")
    assert item.pace_category_name == "Assistance with Daily Life"
    assert (item.unit, item.quote, item.type) == ("H", False, "Price Limited Supports")
    assert (item.start, item.end_inclusive, item.open_ended) == (date(2025, 7, 1), OPEN_END, True)
    assert (item.non_face_to_face, item.provider_travel, item.short_notice_cancellations) == (
        "Y",
        "Y",
        "Y",
    )
    assert (item.ndia_requested_reports, item.irregular_sil) == ("N", "N")
    assert item.claim_type_flag("CANC") == "Y"
    assert item.claim_type_flag("REPW") == "N"
    assert item.claim_type_flag("THLT") is None
    assert set(item.prices) == {*STATES, "remote", "very_remote"}
    assert item.source_sheet is None


def test_bom_trailing_space_and_bereavement(small_2025: Catalogue) -> None:
    # the header starts with a BOM: the first column is still found
    assert "05_150300111_0123_2_2" in small_2025
    item = small_2025.item("05_150300111_0123_2_2 ", on=date(2025, 12, 1))
    assert item is not None and item.number == "05_150300111_0123_2_2"
    assert small_2025.item("05_150300111_0123_2_2", on=date(2025, 11, 23)) is None  # starts 24 Nov
    bereavement = small_2025.item("Bereavement", on=AUG_2025)
    assert bereavement is not None and bereavement.price("national") == M("104.45")


def test_quotable_item_has_no_limit(small_2025: Catalogue) -> None:
    item = small_2025.item("01_003_0107_1_1", on=AUG_2025)
    assert item is not None and item.quote and item.type == "Quotable Supports"
    assert small_2025.price_limit("01_003_0107_1_1", AUG_2025, "NSW") is None


def test_unpriced_item_has_no_limit(small_2025: Catalogue) -> None:
    assert small_2025.price_limit("03_089_0121_1_1", AUG_2025, "VIC") is None


def test_date_ranged_versions(small_2025: Catalogue) -> None:
    versions = small_2025.versions("15_610_0118_1_3")
    assert [(v.start, v.end_inclusive) for v in versions] == [
        (date(2025, 7, 2), date(2025, 11, 23)),
        (date(2025, 11, 24), OPEN_END),
    ]
    number = "15_610_0118_1_3"
    assert small_2025.price_limit(number, date(2025, 11, 23), "QLD") == M("193.99")
    assert small_2025.price_limit(number, date(2025, 11, 24), "QLD") == M("156.16")
    assert small_2025.item(number, on=date(2025, 7, 1)) is None  # before the first version
    with pytest.raises(ItemNotFoundError, match="not in force on 2025-07-01"):
        small_2025.price_limit(number, date(2025, 7, 1), "QLD")
    with pytest.raises(ItemNotFoundError, match="not in the catalogue"):
        small_2025.price_limit("01_999_0107_1_1", AUG_2025, "QLD")
    assert small_2025.versions("01_999_0107_1_1") == ()


def test_pace_category_comes_from_the_pace_column(small_2025: Catalogue) -> None:
    differing = {(i.legacy_category, i.pace_category) for i in small_2025}
    assert {("01", "16"), ("05", "19"), ("06", "17"), ("11", "20")} <= differing
    sil = next(i for i in small_2025 if i.pace_category == "16")
    assert small_2025.pace_category(sil.number, sil.start) == "16"
    assert sil.number.startswith("01_")
    assert small_2025.pace_category("01_999_0107_1_1", AUG_2025) is None


# -- 2026-27 XLSX (national column) ---------------------------------------------------------------
def test_known_price_2026_27(small_2026: Catalogue) -> None:
    assert small_2026.price_limit(SELF_CARE, AUG_2026, "national") == M("73.58")
    assert small_2026.price_limit(SELF_CARE, AUG_2026, "TAS") == M("73.58")  # national file
    assert small_2026.price_limit(SELF_CARE, AUG_2026, "remote") == M("103.01")
    assert small_2026.price_limit(SELF_CARE, AUG_2026, "very_remote") == M("110.37")
    item = small_2026.item(SELF_CARE, on=AUG_2026)
    assert item is not None and set(item.prices) == {"national", "remote", "very_remote"}
    assert item.source_sheet == "Current Support Items"


def test_xlsx_cells_as_published(small_2026: Catalogue) -> None:
    # an int price cell
    pt = small_2026.item("15_617_0128_1_3_PT", on=AUG_2026)
    assert pt is not None and pt.price("national") == M("97.00")
    # prices given as empty strings, on the legacy sheet
    legacy = small_2026.item("01_022_0120_1_1", on=AUG_2026)
    assert legacy is not None and legacy.source_sheet == "Legacy Support Items"
    assert legacy.end_inclusive == date(2027, 9, 30) and legacy.price("national") is None
    # an int remote price beside float ones
    sil = small_2026.item("01_058_0115_1_1", on=AUG_2026)
    assert sil is not None and sil.price("remote") == M("3050.00")
    assert sil.price("very_remote") == M("3267.86")


def test_xlsx_therapy_suffixes(small_2026: Catalogue) -> None:
    for suffix in ("CA", "NF", "PT", "RR", "TH"):
        assert f"15_617_0128_1_3_{suffix}" in small_2026


def test_only_current_sheet(small_2026: Catalogue) -> None:
    current = catalogue_files.load_xlsx(
        DATA / "catalogue-2026-27-subset.xlsx", sheets=["Current Support Items"]
    )
    assert {i.source_sheet for i in current} == {"Current Support Items"}
    assert len(current) < len(small_2026)
    with pytest.raises(CatalogueError, match="no sheet 'Prices'"):
        catalogue_files.load_xlsx(DATA / "catalogue-2026-27-subset.xlsx", sheets=["Prices"])


def test_float_cells_are_converted_through_repr(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Current Support Items"
    ws.append(
        [
            "Support Item Number",
            "Support Item Name",
            "Registration Group Number",
            "Support Category Number",
            "Support Category Number (PACE)",
            "Unit",
            "Quote",
            "Start date",
            "End Date",
            "National",
            "Remote",
            "Very Remote",
        ]
    )
    # 81.069999999999993 is the binary float nearest 81.07; 0.1 + 0.2 is 0.30000000000000004
    ws.append(
        [
            "01_011_0107_1_1",
            "x",
            107,
            1,
            16,
            "H",
            "No",
            20260701,
            99991231,
            81.069999999999993,
            0.1 + 0.2,
            1234.565,
        ]
    )
    path = tmp_path / "tiny.xlsx"
    wb.save(path)
    item = catalogue_files.load_xlsx(path).item(SELF_CARE, on=AUG_2026)
    assert item is not None
    assert item.price("national") == M("81.07")
    assert item.price("remote") == M("0.30")
    assert item.price("very_remote") == M("1234.57")  # repr 1234.565, half-up once
    assert (item.registration_group, item.legacy_category, item.pace_category) == (
        "0107",
        "01",
        "16",
    )


def test_merged_years_later_version_wins(small_2025: Catalogue, small_2026: Catalogue) -> None:
    both = small_2025.merged(small_2026)
    assert both.price_limit(SELF_CARE, date(2026, 6, 30), "NSW") == M("70.23")
    assert both.price_limit(SELF_CARE, date(2026, 7, 1), "NSW") == M("73.58")
    assert len(both.versions(SELF_CARE)) == 2
    assert len(both) == len(small_2025) + len(small_2026)


def test_detect_and_load(small_2025: Catalogue) -> None:
    assert len(detect_and_load(DATA / "catalogue-2025-26-subset.csv")) == len(small_2025)
    pytest.importorskip("openpyxl")
    assert SELF_CARE in detect_and_load(str(DATA / "catalogue-2026-27-subset.xlsx"))
    with pytest.raises(CatalogueError, match=r"suffix '\.pdf'"):
        detect_and_load("catalogue.pdf")


# -- regions --------------------------------------------------------------------------------------
def _item(prices: dict[str, Money | None], quote: bool = False) -> CatalogueItem:
    return CatalogueItem(
        SELF_CARE, "x", "0107", "01", "01", "H", quote, date(2025, 7, 1), OPEN_END, prices
    )


def test_national_in_a_state_file_needs_equal_states() -> None:
    prices: dict[str, Money | None] = {s: M("70.23") for s in STATES}
    assert _item(prices).price("national") == M("70.23")
    prices["WA"] = M("75.00")
    item = _item(prices)
    assert item.price("WA") == M("75.00")
    with pytest.raises(RegionError, match="prices differ by state"):
        item.price("national")
    assert _item(prices, quote=True).price("national") is None


def test_region_names() -> None:
    assert [normalise_region(r) for r in ("act", " Remote ", "very-remote", "P02", "MMM6")] == [
        "ACT",
        "remote",
        "very_remote",
        "very_remote",
        "remote",
    ]
    with pytest.raises(RegionError, match="unknown region 'Narnia'"):
        normalise_region("Narnia")
    assert issubclass(RegionError, InputError)


def test_state_file_region_missing_falls_back_to_national() -> None:
    item = _item({"national": M("10.00"), "remote": None})
    assert item.price("NT") == M("10.00")
    assert item.price("very_remote") is None


# -- broken files ---------------------------------------------------------------------------------
def _csv(*rows: str) -> str:
    return "\n".join([HEADER_2025, *rows]) + "\n"


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("01_011_0107_1_1,", "01-011-0107-1-1,", "Support Item Number"),
        (",H,No,", ",HR,No,", "Unit"),
        (",No,20250701", ",Maybe,20250701", "Quote"),
        ("20250701,99991231", "20250231,99991231", "Start date"),
        ("20250701,99991231", "20250701,2025-07-01", "End Date"),
        ("20250701,99991231", "20250701,20250601", "End Date"),
        (
            "$70.23,$70.23,$70.23,$70.23,$70.23,$70.23,$70.23,$70.23,",
            "$70.23,$70.23,$70.23,seventy,$70.23,$70.23,$70.23,$70.23,",
            "QLD",
        ),
        ("$98.32", "$98.325", "Remote"),
        ("$105.35", "-$1.00", "Very Remote"),
        (",Y,Y,Y,N,N,", ",Y,Y,Maybe,N,N,", "Short Notice Cancellations."),
        (",1,1,Assistance", ",1,22,Assistance", "Support Category Number (PACE)"),
        (",0107,", ",107A,", "Registration Group Number"),
    ],
)
def test_broken_row_names_row_and_column(old: str, new: str, column: str) -> None:
    assert old in GOOD_ROW
    text = _csv(GOOD_ROW, GOOD_ROW.replace(old, new, 1))
    with pytest.raises(CatalogueError) as info:
        catalogue_files.load_csv(text)
    assert info.value.row == 3
    assert info.value.loc == (column,)
    assert f"row 3: {column}" in str(info.value)


def test_every_broken_row_is_listed() -> None:
    bad = GOOD_ROW.replace(",H,", ",X,", 1)
    with pytest.raises(CatalogueError) as info:
        catalogue_files.load_csv(_csv(bad, GOOD_ROW, bad))
    assert info.value.row == 2
    assert len(info.value.problems) == 2
    assert info.value.problems[1].startswith("row 4: Unit:")
    assert "(and 1 more)" in str(info.value)


def test_missing_columns() -> None:
    with pytest.raises(CatalogueError, match=r"missing column.*Unit") as info:
        catalogue_files.load_csv(_csv(GOOD_ROW).replace(",Unit,", ",Units,"))
    assert info.value.row == 1
    with pytest.raises(CatalogueError, match="price columns"):
        catalogue_files.load_csv(
            "Support Item Number,Support Item Name,Registration Group Number,"
            "Support Category Number,Unit,Quote,Start date,End Date\n"
        )
    with pytest.raises(CatalogueError, match="empty"):
        catalogue_files.load_csv("\n\n")


def test_unreadable_inputs_are_catalogue_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        catalogue_files.load_csv(tmp_path / "missing.csv")
    with pytest.raises(CatalogueError, match="not an NDIS Support Catalogue"):
        catalogue_files.load_csv(b"\x00\x01\x02,\xff")
    pytest.importorskip("openpyxl")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CatalogueError, match="cannot read the workbook"):
        catalogue_files.load_xlsx(junk)


def test_older_layout_p01_p02_and_no_pace_column() -> None:
    text = (
        "Support Item Number,Support Item Name,Registration Group Number,Support Category Number,"
        "Unit,Quote,Start date,End Date,ACT,NSW,NT,QLD,SA,TAS,VIC,WA,P01,P02\n"
        "01_011_0107_1_1,Self-care weekday,0107,1,H,No,20220701,20230630,"
        "$57.10,$57.10,$57.10,$57.10,$57.10,$57.10,$57.10,$57.10,$79.94,$85.65\n"
    )
    cat = catalogue_files.load_csv(text)
    assert cat.price_limit(SELF_CARE, date(2023, 1, 2), "remote") == M("79.94")
    assert cat.price_limit(SELF_CARE, date(2023, 1, 2), "very_remote") == M("85.65")
    assert cat.pace_category(SELF_CARE, date(2023, 1, 2)) == "01"  # no PACE column: legacy
    item = cat.item(SELF_CARE, on=date(2023, 1, 2))
    assert item is not None and item.non_face_to_face is None  # no flag columns


# -- the whole real files (skip without shared/data) ----------------------------------------------
def test_real_2025_26_file(real_2025: Catalogue) -> None:
    assert len(real_2025) == 635
    assert real_2025.price_limit(SELF_CARE, AUG_2025, "national") == M("70.23")
    assert sum(1 for i in real_2025 if i.quote) == 39
    _check_legacy_to_pace(real_2025)


def test_real_2026_27_file(real_2026: Catalogue) -> None:
    current = [i for i in real_2026 if i.source_sheet == "Current Support Items"]
    assert len(current) == 975
    assert len(real_2026) == 975 + 41
    assert real_2026.price_limit(SELF_CARE, AUG_2026, "national") == M("73.58")
    assert sum(1 for i in current if i.quote) == 39
    _check_legacy_to_pace(real_2026)


def test_real_2026_27_remote_loadings(real_2026: Catalogue) -> None:
    """Remote = 1.4 x and very remote = 1.5 x national (to the cent, the NDIA rounds either way)
    for 611 of the 613 priced items; plan management items carry no loading."""
    priced = [
        i
        for i in real_2026
        if i.source_sheet == "Current Support Items"
        and i.type == "Priced Supports"
        and i.price("national") is not None
    ]
    assert len(priced) == 613
    loaded = [i for i in priced if _loaded(i)]
    assert len(loaded) == 611
    assert {i.number for i in priced} - {i.number for i in loaded} == {
        "14_034_0127_8_3",
        "Bereavement",
    }


def test_small_copy_remote_loadings(small_2026: Catalogue) -> None:
    priced = [i for i in small_2026 if i.type == "Priced Supports" and i.price("national")]
    unloaded = {i.number for i in priced if not _loaded(i)}
    assert unloaded == {"14_034_0127_8_3", "Bereavement"}
    assert len(priced) - len(unloaded) >= 15


def _loaded(item: CatalogueItem) -> bool:
    national, remote, very = (item.price(r) for r in ("national", "remote", "very_remote"))
    assert national is not None and remote is not None and very is not None
    cent = Decimal("0.01")
    n = national.to_decimal()
    return (
        abs(remote.to_decimal() - n * Decimal("1.4")) <= cent
        and abs(very.to_decimal() - n * Decimal("1.5")) <= cent
    )


def _check_legacy_to_pace(cat: Catalogue) -> None:
    allowed = {"01": {"01", "16"}, "05": {"05", "19"}, "06": {"06", "17"}, "11": {"11", "20"}}
    seen: dict[str, set[str]] = {}
    for item in cat:
        seen.setdefault(item.legacy_category, set()).add(item.pace_category)
        expected = allowed.get(item.legacy_category, {item.legacy_category})
        assert item.pace_category in expected, item
    assert seen["01"] == {"01", "16"} and seen["05"] == {"05", "19"}
    assert seen["06"] == {"06", "17"} and seen["11"] == {"11", "20"}


def test_loading_emits_no_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        catalogue_files.load_csv(DATA / "catalogue-2025-26-subset.csv")
