"""No personal data echoed (issue 12, deliverable 6): every error path of the readers that a
personal value can reach names the field and the row, never the value. Sentinel values stand in
for names, dates of birth, notes and NDIS numbers; stdout, stderr and exception text are searched
for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ndis_rules.adapters.pace_jsondir import JsonDirPaceSource
from ndis_rules.adapters.proda_jsonfile import JsonFileProdaGateway
from ndis_rules.bpr import COLUMNS
from ndis_rules.cli import main
from ndis_rules.errors import NdisRulesError
from ndis_rules.files.bpr import read_bpr
from ndis_rules.pace import ParticipantRef
from ndis_rules.parsing import parse_iso_date

NAME = "Zqxwvutsrq"
DOB = "1961-02-29"  # no such date: an error path
DOB2 = "1899-07-04"  # out of range
NOTE = "Qzzy note xylophone"
NDIS = "43999999Z"  # not digits: an error path
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SENTINELS = (NAME, NAME.lower(), DOB, DOB2, NOTE, NDIS)


def _clean(text: str, sentinels: tuple[str, ...] = SENTINELS) -> None:
    for sentinel in sentinels:
        assert sentinel not in text, sentinel


def _bpr(tmp_path: Path) -> Path:
    ok = ("4050000001,431234567,2025/08/04,2025/08/04,01_011_0107_1_1,INV-{n},1,,70.23,P2,"
          "{auth},{approved},{inkind},,,51824753556")
    rows = [
        ok.format(n=1, auth=f'"{NAME}', approved="", inkind=""),  # unclosed quote
        ok.format(n=2, auth=f"{NAME}\x07", approved=f"{NOTE}\x01", inkind=f"{NOTE}\x02"),
        ok.replace("431234567", NDIS).format(n=3, auth=NAME, approved="", inkind=""),
        ok.replace("431234567", "531234567").format(n=4, auth=NAME, approved="", inkind=""),
        ok.replace("2025/08/04", DOB.replace("-", "/")).format(n=5, auth="", approved="",
                                                                inkind=""),
    ]
    f = tmp_path / "p.csv"
    f.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n")
    return f


def test_the_bpr_reader_and_the_claims_commands_never_echo_personal_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _bpr(tmp_path)
    results = read_bpr(f)
    assert not all(r.ok for r in results)
    _clean(" ".join(str(e) for r in results for e in (*r.errors, *r.warnings)))
    contracts = tmp_path / "c"
    contracts.mkdir()
    (contracts / "c.json").write_text((EXAMPLES / "contract.json").read_text())
    for fmt in ("table", "json", "csv"):
        main(["claims", "check", str(f), "--contracts", str(contracts), "--format", fmt,
              "--today", "2025-11-15"])
        captured = capsys.readouterr()
        _clean(captured.err)
        # the report's participant column is the row's NDIS number by design (it says whose
        # line it is); names, dates of birth and notes appear nowhere
        _clean(captured.out, (NAME, NAME.lower(), DOB, NOTE))
    main(["claims", "write", "--from", str(f), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    _clean(captured.out + captured.err)


@pytest.mark.parametrize("dob", [DOB, DOB2, "1961-02-29T00:00", "29/02/1961"])
def test_a_rejected_date_of_birth_is_never_echoed(dob: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_iso_date(dob)
    assert dob not in str(info.value) and "1961" not in str(info.value)


def test_pace_files_and_the_proda_store_never_echo_names_or_dates_of_birth(
    tmp_path: Path,
) -> None:
    (tmp_path / "430000001.json").write_text(json.dumps({
        "participant": {"ndisNumber": "430000001", "lastName": NAME, "dateOfBirth": DOB},
        "plans": []}))
    who = ParticipantRef(ndis_number="430000001", last_name=NAME, date_of_birth="1990-01-31")
    with pytest.raises(NdisRulesError) as info:
        JsonDirPaceSource(tmp_path).plans_for(who)
    _clean(str(info.value))
    store = tmp_path / "proda.json"
    store.write_text(json.dumps({"participants": [
        {"ndis_number": "430000001", "name": NAME, "date_of_birth": DOB}]}))
    with pytest.raises(NdisRulesError) as info2:
        JsonFileProdaGateway(store)._load()
    _clean(str(info2.value))


def test_validate_never_echoes_notes_or_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = json.loads((EXAMPLES / "contract.json").read_text())
    contract["notes"] = [NOTE, 5]
    contract["start"] = DOB
    f = tmp_path / "c.json"
    f.write_text(json.dumps(contract))
    code = main(["validate", "--contract", str(f), "--invoice",
                 str(EXAMPLES / "invoices.json"), "--today", "2025-11-15"])
    captured = capsys.readouterr()
    assert code == 2
    _clean(captured.out + captured.err)


@pytest.mark.parametrize("command", ["preview", "apply"])
@pytest.mark.parametrize(
    ("option", "value"),
    [("--participant", NDIS), ("--participant", "4399999991"),
     ("--expected-version", NDIS), ("--expected-version", "-43999999")],
)
def test_sync_option_errors_name_the_option_never_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, value: str
) -> None:
    if option == "--expected-version" and command == "preview":
        pytest.skip("--expected-version is an option of sync apply only")
    argv = ["sync", command, "--contract", str(EXAMPLES / "sync" / "contract.json"),
            "--plans", str(EXAMPLES / "sync" / "plans"), "--participant", "430000001",
            "--today", "2025-11-15"]
    argv += [option, value]  # argparse keeps the last --participant
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert f"argument {option}: " in captured.err
    _clean(captured.out + captured.err, (value, value.lstrip("-"), "43999999"))
