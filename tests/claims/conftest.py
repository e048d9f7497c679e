"""Fixtures for the catalogue and BPR tests: the small catalogue copies in tests/data, and the
real NDIA files in ../shared/data when they are there (tests using those skip otherwise)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ndis_rules.catalogue import Catalogue
from ndis_rules.files import catalogue as catalogue_files

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL_CSV = DATA / "catalogue-2025-26-subset.csv"
SMALL_XLSX = DATA / "catalogue-2026-27-subset.xlsx"


def _shared_data() -> Path:
    here = Path(__file__).resolve()
    candidates = [Path(os.environ["NDIS_SHARED_DATA"])] if "NDIS_SHARED_DATA" in os.environ else []
    candidates += [p / "shared" / "data" for p in here.parents]
    return next((c for c in candidates if c.is_dir()), Path("/nonexistent"))


SHARED = _shared_data()
REAL_CSV = SHARED / "NDIS-Support Catalogue-2025-26 -v1.1.csv"
REAL_XLSX = SHARED / "Clean - NDIS Support Catalogue - 2026-27 v1.0.xlsx"


@pytest.fixture(scope="session")
def small_2025() -> Catalogue:
    """Rows of the NDIA Support Catalogue 2025-26 v1.1 (CSV, state columns)."""
    return catalogue_files.load_csv(SMALL_CSV)


@pytest.fixture(scope="session")
def small_2026() -> Catalogue:
    """Rows of the NDIA Support Catalogue 2026-27 v1.0 (XLSX, national column)."""
    pytest.importorskip("openpyxl")
    return catalogue_files.load_xlsx(SMALL_XLSX)


@pytest.fixture(scope="session")
def real_2025() -> Catalogue:
    """The whole 2025-26 file from shared/data (skips when it is not there)."""
    if not REAL_CSV.is_file():
        pytest.skip("the real 2025-26 catalogue is not in shared/data")
    return catalogue_files.load_csv(REAL_CSV)


@pytest.fixture(scope="session")
def real_2026() -> Catalogue:
    """The whole 2026-27 workbook from shared/data (skips when it is not there)."""
    pytest.importorskip("openpyxl")
    if not REAL_XLSX.is_file():
        pytest.skip("the real 2026-27 catalogue is not in shared/data")
    return catalogue_files.load_xlsx(REAL_XLSX)
