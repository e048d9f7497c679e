"""Make the small catalogue copies in tests/data from the real NDIA files in shared/data.

Run once by hand (``python tests/data/make_catalogue_subsets.py /path/to/shared/data``); the
outputs are committed so the tests run from the repository alone. Only the rows the tests need
are copied, byte for byte for the CSV (BOM, ``$`` prices, trailing-space id) and cell for cell
for the XLSX (binary floats, ints and empty strings as openpyxl reads them).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CSV_NAME = "NDIS-Support Catalogue-2025-26 -v1.1.csv"
XLSX_NAME = "Clean - NDIS Support Catalogue - 2026-27 v1.0.xlsx"

CSV_ITEMS = {
    "01_002_0107_1_1",  # weekday night
    "01_003_0107_1_1",  # quotable
    "01_010_0107_1_1",  # sleepover (no day type)
    "01_011_0107_1_1",  # weekday daytime, $70.23
    "01_012_0107_1_1",  # public holiday
    "01_013_0107_1_1",  # saturday
    "01_014_0107_1_1",  # sunday
    "01_015_0107_1_1",  # weekday evening
    "05_150300111_0123_2_2 ",  # id with a trailing space
    "Bereavement",
    "15_610_0118_1_3",  # two date-ranged versions
    "03_089_0121_1_1",  # no price, not quotable, blank type
}
XLSX_CURRENT = {
    "01_011_0107_1_1",  # $73.58 national
    "01_003_0107_1_1",  # quotable
    "07_004_0132_8_3",  # very remote one cent under 1.5 x
    "14_034_0127_8_3",  # same price in every region
    "Bereavement",
    "01_821_0115_1_1",  # priced support with no price
    "15_617_0128_1_3",
    "15_617_0128_1_3_CA",
    "15_617_0128_1_3_NF",
    "15_617_0128_1_3_PT",
    "15_617_0128_1_3_RR",
    "15_617_0128_1_3_TH",
}
XLSX_LEGACY = {
    "01_022_0120_1_1",  # prices given as empty strings
    "05_043306003_0103_1_2",  # quotable, ends 20260930
    "01_058_0115_1_1",  # an int Remote price (3050)
    "14_031_0127_8_3",
}


def _first_per_mapping(rows: list[list[object]], seen: set[tuple[object, object]]) -> list[int]:
    """Indexes of the first row of every (legacy category, PACE category) pair."""
    picked = []
    for i, r in enumerate(rows):
        key = (int(str(r[4])), int(str(r[5])))
        if key not in seen:
            seen.add(key)
            picked.append(i)
    return picked


def make_csv(src: Path) -> None:
    raw = (src / CSV_NAME).read_bytes()
    lines = raw.splitlines(keepends=True)
    rows = [next(csv.reader([line.decode("utf-8-sig")])) for line in lines]
    keep = {0}
    keep |= {i for i, r in enumerate(rows) if i and r[0] in CSV_ITEMS}
    data = rows[1:]
    keep |= {i + 1 for i in _first_per_mapping(data, set())}
    keep |= set(sorted(i for i, r in enumerate(rows) if i and r[27] == "Unit Price = $1")[:1])
    (HERE / "catalogue-2025-26-subset.csv").write_bytes(b"".join(lines[i] for i in sorted(keep)))


def make_xlsx(src: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(src / XLSX_NAME, read_only=True, data_only=True)
    out = openpyxl.Workbook()
    out.remove(out.active)
    for sheet, wanted in (
        ("Current Support Items", XLSX_CURRENT),
        ("Legacy Support Items", XLSX_LEGACY),
    ):
        rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
        header, data = rows[0], rows[1:]
        keep = {i for i, r in enumerate(data) if r[0] in wanted}
        if sheet == "Current Support Items":
            keep |= set(_first_per_mapping(data, set()))
            keep |= set(sorted(i for i, r in enumerate(data) if r[20] == "Unit Price = $1")[:1])
        ws = out.create_sheet(sheet)
        ws.append(header)
        for i in sorted(keep):
            ws.append(data[i])
    wb.close()
    out.save(HERE / "catalogue-2026-27-subset.xlsx")


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    make_csv(source)
    make_xlsx(source)
