"""The claims check report is byte-identical whichever BPR reader the switch picks (columnar
with polars, or the pure reference), in every format and with one or two workers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ndis_rules.cli import main
from ndis_rules.files.bpr_columnar import READER_ENV

pytest.importorskip("polars")

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "examples" / "book"
CATALOGUE = ROOT / "docs" / "scenarios" / "catalogues" / "catalogue-2025-26-sample.csv"


def _book(tmp_path: Path, *, quoted: bool) -> Path:
    """The example book, repeated, with blank rows, bad cells, warnings and (optionally)
    quoted cells and an unclosed quote."""
    header, *lines = BOOK.joinpath("claims.csv").read_text().splitlines()
    out = [header]
    for k in range(2):
        for i, original in enumerate(lines):
            line = original.replace("INV-", f"INV{k}-")
            if i % 7 == 3:
                line = line.replace("2025/11/", "2025/13/")
            if i % 11 == 5:
                line = line.replace("431111111", "531111111")
            if i % 13 == 2:
                out.append(" , ,")
            if quoted and i % 5 == 1:
                line = line.replace(f"INV{k}-", f'"INV{k}-', 1).replace(",2,", '",2,', 1)
            out.append(line)
    if quoted:
        out.append(lines[0].replace("INV-", '"INV-'))
    path = tmp_path / "claims.csv"
    path.write_text("\r\n".join(out) + "\r\n")
    return path


@pytest.mark.parametrize("quoted", [False, True])
def test_report_identical_with_either_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quoted: bool
) -> None:
    path = _book(tmp_path, quoted=quoted)
    base = ["claims", "check", str(path), "--contracts", str(BOOK / "contracts"),
            "--catalogue", str(CATALOGUE), "--today", "2025-11-15"]
    for fmt in ("table", "json", "csv"):
        for workers in ("1", "2"):
            outputs = {}
            for reader in ("pure", "columnar"):
                monkeypatch.setenv(READER_ENV, reader)
                out = io.StringIO()
                assert main([*base, "--format", fmt, "--workers", workers], out=out) == 1
                outputs[reader] = out.getvalue()
            assert outputs["columnar"] == outputs["pure"], (fmt, workers)
            assert "row" in outputs["pure"]
    monkeypatch.setenv(READER_ENV, "columnar")
    out = io.StringIO()
    main([*base, "--format", "json", "--explain"], out=out)
    explained = out.getvalue()
    monkeypatch.setenv(READER_ENV, "pure")
    out = io.StringIO()
    main([*base, "--format", "json", "--explain"], out=out)
    assert out.getvalue() == explained


def test_a_bad_switch_value_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(READER_ENV, "quick")
    err = io.StringIO()
    code = main(["claims", "check", str(BOOK / "claims.csv"), "--contracts",
                 str(BOOK / "contracts"), "--today", "2025-11-15"], out=err)
    assert code not in {0, 1}
