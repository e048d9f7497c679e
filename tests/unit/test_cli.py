from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ndis_rules.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_validate_example_table() -> None:
    code, text = run(
        "validate",
        "--contract",
        str(EXAMPLES / "contract.json"),
        "--invoice",
        str(EXAMPLES / "invoices.json"),
        "--today",
        "2025-11-15",
    )
    assert code == 1  # the example holds rejected lines
    assert text.splitlines()[0] == ("5 invoice(s), 8 line(s): 3 allowed, 2 warning, 3 error")
    assert "PENDING_PERIOD" in text and "140.46 from 01:plan FP2" in text


def test_validate_json_matches_schema_shape() -> None:
    code, text = run(
        "validate",
        "--contract",
        str(EXAMPLES / "contract.json"),
        "--invoice",
        str(EXAMPLES / "invoices.json"),
        "--today",
        "2025-11-15",
        "--format",
        "json",
        "--explain",
    )
    assert code == 1
    rows = [json.loads(x) for x in text.splitlines()]
    assert [r["invoice_id"] for r in rows] == [
        "INV-1001",
        "INV-1002",
        "INV-1003",
        "INV-1004",
        "INV-1005",
    ]
    assert rows[0]["lines"][0]["draws"] == [
        {"budget": "01:plan", "period": "FP2", "amount": "140.46"}
    ]
    assert rows[0]["lines"][0]["trace"]
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "schema" / "decision.schema.json").read_text())
    for r in rows:
        jsonschema.validate(r, schema)


def test_exit_zero_without_errors(tmp_path: Path) -> None:
    invoices = json.loads((EXAMPLES / "invoices.json").read_text())["invoices"][:1]
    f = tmp_path / "one.json"
    f.write_text(json.dumps(invoices))
    code, _ = run(
        "validate",
        "--contract",
        str(EXAMPLES / "contract.json"),
        "--invoice",
        str(f),
        "--today",
        "2025-11-15",
    )
    assert code == 0


def test_bad_input_exit_2_names_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bad.json"
    f.write_text(
        json.dumps(
            {
                "id": "I",
                "provider": "P",
                "lines": [
                    {
                        "id": "L1",
                        "from": "2025-11-03",
                        "to": "2025-11-03",
                        "item": "01_011_0107_1_1",
                        "quantity": True,
                        "unit_price": "70.23",
                    }
                ],
            }
        )
    )
    code, _ = run(
        "validate",
        "--contract",
        str(EXAMPLES / "contract.json"),
        "--invoice",
        str(f),
        "--today",
        "2025-11-15",
    )
    err = capsys.readouterr().err
    assert code == 2
    assert str(f) in err and "lines.0.quantity" in err and "Traceback" not in err


def test_mode_only_for_streamline(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(
        "validate",
        "--contract",
        str(EXAMPLES / "contract.json"),
        "--invoice",
        str(EXAMPLES / "invoices.json"),
        "--today",
        "2025-11-15",
        "--mode",
        "automated",
    )
    assert code == 2
    assert "streamline" in capsys.readouterr().err


def test_usage_error_exit_2() -> None:
    code, _ = run(
        "validate", "--contract", "x.json", "--invoice", "y.json", "--today", "15/11/2025"
    )
    assert code == 2


def test_scenarios_run(tmp_path: Path) -> None:
    code, text = run("scenarios", "run", str(ROOT / "docs" / "scenarios" / "validation"))
    assert code == 0, text
    assert text.strip().splitlines()[-1].endswith(" failed") and ", 0 failed" in text
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        (ROOT / "docs" / "scenarios" / "validation" / "streamline_seed.yaml")
        .read_text()
        .replace("../contracts/", str(ROOT / "docs" / "scenarios" / "contracts") + "/")
        .replace(
            "L1: {outcome: error, action: reject, codes: [PENDING_PERIOD]",
            "L1: {outcome: allowed, action: reject, codes: [PENDING_PERIOD]",
        )
    )
    code, text = run("scenarios", "run", str(wrong), "-k", "pending")
    assert code == 1
    assert "outcome expected allowed, got error" in text
    assert "period.place" in text or "finding.PENDING_PERIOD" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntoday: 2025-01-01\ninvoices: []\nexpect: {}\nfoo: 1\n")
    code, _ = run("scenarios", "run", str(bad))
    assert code == 2


def test_codes_listing() -> None:
    code, text = run("codes", "--format", "json")
    assert code == 0
    assert {c["code"] for c in json.loads(text)} >= {"PENDING_PERIOD", "SPANS_PERIODS"}


def test_schema_is_current(tmp_path: Path) -> None:
    code, _ = run("schema", "--out", str(tmp_path))
    assert code == 0
    for f in tmp_path.iterdir():
        assert f.read_text() == (ROOT / "docs" / "schema" / f.name).read_text(), (
            f"docs/schema/{f.name} is stale: run `ndis-rules schema`"
        )
