"""The ``ndis-rules bookings plan`` and ``bookings sync`` commands (run through ``main``)."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.adapters.proda_jsonfile import JsonFileProdaGateway
from ndis_rules.cli import bookings as cli_bookings
from ndis_rules.cli import main
from ndis_rules.proda import GatewayTimeout, Participant, ProdaPlan
from ndis_rules.services.bookings import SyncProgress

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "bookings"
LEGACY = EXAMPLES / "contracts" / "C-LEGACY-1.json"
TODAY = "2025-09-01"
CITIZEN = {
    "ndis_number": "430000001",
    "name": "Citizen",
    "date_of_birth": "1990-01-02",
    "contracts": ["C-LEGACY-1"],
}


class Terminal(io.StringIO):
    """An output stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run(*argv: str, out: io.StringIO | None = None) -> tuple[int, str]:
    stream = out if out is not None else io.StringIO()
    code = main(list(argv), out=stream)
    return code, stream.getvalue()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A copy of examples/bookings (the sync writes to the gateway file)."""
    target = tmp_path / "bookings"
    shutil.copytree(EXAMPLES, target)
    return target


def sync_args(work: Path, *extra: str, participants: Path | None = None) -> list[str]:
    return [
        "bookings",
        "sync",
        "--participants",
        str(participants or work / "participants.json"),
        "--contracts",
        str(work / "contracts"),
        "--gateway",
        str(work / "gateway.json"),
        "--today",
        TODAY,
        *extra,
    ]


def write_participants(work: Path, entries: list[dict[str, Any]]) -> Path:
    path = work / "some-participants.json"
    path.write_text(json.dumps(entries))
    return path


# -- plan ----------------------------------------------------------------------------------------


def test_plan_table_lists_requests_and_findings() -> None:
    code, text = run("bookings", "plan", "--contract", str(LEGACY), "--plan-manager", "PM-ABN")
    assert code == 0  # warnings and info only
    lines = text.splitlines()
    assert lines[0] == "contract C-LEGACY-1 (participant 430000001): 4 booking request(s), " + (
        "2 finding(s)"
    )
    row = next(line for line in lines if "support:PM-SETUP" in line)
    assert row.split() == [
        "support:PM-SETUP",
        "standard",
        "14",
        "14_033_0127_8_3",
        "2025-07-01",
        "to",
        "2026-06-30",
        "232.35",
        "PM-ABN",
    ]
    assert any("support:PM-MONTHLY" in x and "1253.40" in x for x in lines)
    assert any("budget:01:plan" in x and "plan_managed" in x for x in lines)
    assert "budget:15" not in text  # the stated-support category is booked at the support level
    assert "[warning] STATED_REMAINDER_UNBOOKABLE:" in text and "1060.10" in text
    assert "[info] BOOKED_AT_SUPPORT_LEVEL:" in text


def test_plan_json() -> None:
    code, text = run("bookings", "plan", "--contract", str(LEGACY), "--format", "json")
    assert code == 0
    doc = json.loads(text)
    assert doc["contract"] == "C-LEGACY-1" and doc["errors"] == 0
    assert [(r["source"], r["type"], r["amount"]) for r in doc["requests"]] == [
        ("support:PM-SETUP", "standard", "232.35"),
        ("support:PM-MONTHLY", "standard", "1253.40"),
        ("support:THERAPY-15", "standard", "1939.90"),
        ("budget:01:plan", "plan_managed", "5000.00"),
    ]
    assert doc["requests"][0]["provider"] is None  # no --plan-manager
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [
        ("STATED_REMAINDER_UNBOOKABLE", "warning"),
        ("BOOKED_AT_SUPPORT_LEVEL", "info"),
    ]
    assert doc["findings"][0]["facts"]["remainder"] == "1060.10"


def test_plan_error_finding_exits_1(tmp_path: Path) -> None:
    data = json.loads(LEGACY.read_text())
    data["budgets"][0]["end_inclusive"] = "2026-12-31"  # after the plan
    data["budgets"][0]["start"] = "2025-07-01"
    f = tmp_path / "bad-dates.json"
    f.write_text(json.dumps(data))
    code, text = run("bookings", "plan", "--contract", str(f))
    assert code == 1
    assert "[error] BOOKING_DATES_INVALID: budget:01:plan" in text
    assert "budget:01:plan " not in text.split("findings:")[0]  # left out of the requests


def test_plan_pace_contract_is_info_only() -> None:
    code, text = run(
        "bookings", "plan", "--contract", str(EXAMPLES / "contracts" / "C-PACE-2.json")
    )
    assert code == 0
    assert "0 booking request(s)" in text and "PACE_PLAN_NO_BOOKING" in text


def test_plan_bad_input_names_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(LEGACY.read_text())
    data["support_items"][0]["rate"] = 232.355  # read exactly: 3 places are refused
    f = tmp_path / "float.json"
    f.write_text(json.dumps(data))
    code, text = run("bookings", "plan", "--contract", str(f))
    err = capsys.readouterr().err
    assert code == 2 and text == ""
    assert str(f) in err and "support_items.0.rate" in err
    assert "Traceback" not in err


def test_plan_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    code, _ = run("bookings", "plan", "--contract", str(missing))
    assert code == 2
    assert f"{missing}: cannot read" in capsys.readouterr().err


# -- sync: output --------------------------------------------------------------------------------


def test_sync_example_table_and_plain_progress_lines(work: Path) -> None:
    code, text = run(*sync_args(work, "--plan-manager", "PM-ABN"))
    assert code == 1  # Smith has no active (legacy) contract
    lines = text.splitlines()
    assert lines[:2] == [
        "progress 1/2 (50%): Citizen (430000001) success; total 2  processed 1  success 1  "
        "failed 0  uncompleted 0  no active contract 0",
        "progress 2/2 (100%): Smith (430000002) no active contract; total 2  processed 1  "
        "success 1  failed 0  uncompleted 0  no active contract 1",
    ]
    assert lines[2] == (
        "total 2  processed 1  success 1  failed 0  uncompleted 0  no active contract 1"
    )
    assert lines[3] == "bookings: 4 created, 0 refreshed"
    assert "no active contract:" in lines
    assert "  Smith (430000002): No active contract: only PACE contracts" in text
    assert "\r" not in text


def test_sync_all_succeeded_exits_0_and_rerun_refreshes(work: Path) -> None:
    only = write_participants(work, [CITIZEN])
    code, text = run(*sync_args(work, participants=only))
    assert code == 0
    assert "bookings: 4 created, 0 refreshed" in text
    code, text = run(*sync_args(work, participants=only))
    assert code == 0
    assert "bookings: 0 created, 4 refreshed" in text  # idempotent: nothing made twice
    citizen = Participant(ndis_number="430000001", name="Citizen", date_of_birth=date(1990, 1, 2))
    assert len(JsonFileProdaGateway(work / "gateway.json").list_bookings(citizen)) == 4


def test_sync_refused_participant_is_failed_with_the_reason(work: Path) -> None:
    wrong = write_participants(work, [{**CITIZEN, "date_of_birth": "1990-02-01"}])
    code, text = run(*sync_args(work, participants=wrong))
    assert code == 1
    assert "failed 1" in text.splitlines()[1]
    assert (
        "  Citizen (430000001) [contract C-LEGACY-1]: Not synchronised with PRODA: "
        "date of birth does not match"
    ) in text


def test_sync_json_is_one_document_and_progress_goes_to_stderr(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(*sync_args(work, "--format", "json"))
    err = capsys.readouterr().err
    assert code == 1
    doc = json.loads(text)
    assert doc["today"] == TODAY
    assert doc["counters"] == {
        "total": 2,
        "processed": 1,
        "success": 1,
        "failed": 0,
        "uncompleted": 0,
        "no_active_contract": 1,
    }
    citizen, smith = doc["results"]
    assert (citizen["ndis_number"], citizen["outcome"], citizen["contract"]) == (
        "430000001",
        "success",
        "C-LEGACY-1",
    )
    assert [b["source"] for b in citizen["bookings"]] == [
        "support:PM-SETUP",
        "support:PM-MONTHLY",
        "support:THERAPY-15",
        "budget:01:plan",
    ]
    assert citizen["created"] == [b["booking_id"] for b in citizen["bookings"]]
    assert {f["code"] for f in citizen["findings"]} == {
        "STATED_REMAINDER_UNBOOKABLE",
        "BOOKED_AT_SUPPORT_LEVEL",
    }
    assert smith["outcome"] == "no_active_contract" and smith["contract"] is None
    assert "date_of_birth" not in citizen and "1990-01-02" not in text
    assert [x.split(":")[0] for x in err.splitlines()] == [
        "progress 1/2 (50%)",
        "progress 2/2 (100%)",
    ]


def test_sync_terminal_draws_one_line_bar(work: Path) -> None:
    code, text = run(*sync_args(work), out=Terminal())
    assert code == 1
    bar, summary = text.split("\n", 1)
    frames = bar.split("\r")
    assert frames[0] == ""
    assert frames[1:] == [
        "[##########----------]  50%  total 2  processed 1  success 1  failed 0  "
        "uncompleted 0  no active contract 0",
        "[####################] 100%  total 2  processed 1  success 1  failed 0  "
        "uncompleted 0  no active contract 1",
    ]
    assert "progress " not in text
    assert summary.startswith("total 2  processed 1")


def test_progress_bar_pads_a_shorter_frame() -> None:
    p = Participant(ndis_number="1", name="A", date_of_birth=date(1990, 1, 1))
    stream = Terminal()
    display = cli_bookings.ProgressDisplay(stream)
    display(SyncProgress(1000, 999, 999, 0, 0, 0, p, "success"))
    display(SyncProgress(1000, 1000, 1000, 0, 0, 0, p, "success"))
    display.close()
    first, second = stream.getvalue().split("\r")[1:]
    assert len(second.rstrip("\n")) >= len(first)
    assert stream.getvalue().endswith("\n")


def test_sync_timeout_is_uncompleted_and_retries_are_passed(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    class TimingOut(JsonFileProdaGateway):
        def find_plan(self, participant: Participant) -> ProdaPlan:
            calls.append(participant.ndis_number)
            raise GatewayTimeout("find_plan timed out")

    monkeypatch.setattr(cli_bookings, "JsonFileProdaGateway", TimingOut)
    only = write_participants(work, [CITIZEN])
    code, text = run(*sync_args(work, "--retries", "3", participants=only))
    assert code == 1
    assert calls == ["430000001"] * 4  # one call and three retries
    assert "uncompleted (re-run to retry):" in text
    assert (
        "  Citizen (430000001) [contract C-LEGACY-1]: Not finished (may be retried): "
        "GatewayTimeout: find_plan timed out" in text
    )


def test_sync_no_participants_exits_0(work: Path) -> None:
    none = write_participants(work, [])
    code, text = run(*sync_args(work, participants=none))
    assert code == 0
    assert text.splitlines()[0].startswith("total 0  processed 0")


def test_only_the_participants_given_appear(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the example store also holds Jones (430000009), who is not in the participants file
    assert "Jones" in (work / "gateway.json").read_text()
    outputs = [run(*sync_args(work))[1], run(*sync_args(work, "--format", "json"))[1]]
    outputs.append(run(*sync_args(work), out=Terminal())[1])
    outputs.append(capsys.readouterr().err)
    for text in outputs:
        assert "Jones" not in text and "430000009" not in text
        assert "1985-03-04" not in text  # nor a date of birth


# -- sync: bad input -----------------------------------------------------------------------------


def _break_participants(work: Path) -> tuple[str, str]:
    (work / "participants.json").write_text(
        json.dumps([{**CITIZEN, "date_of_birth": "02/01/1990"}])
    )
    return "participants.json", "0.date_of_birth"


def _unknown_contract(work: Path) -> tuple[str, str]:
    (work / "participants.json").write_text(json.dumps([{**CITIZEN, "contracts": ["C-NOPE"]}]))
    return "participants.json", "0.contracts.0: no contract with id 'C-NOPE'"


def _someone_elses_contract(work: Path) -> tuple[str, str]:
    other = {**CITIZEN, "ndis_number": "430000005", "contracts": ["C-LEGACY-1"]}
    (work / "participants.json").write_text(json.dumps([other]))
    return "participants.json", "0.contracts.0: contract 'C-LEGACY-1'"


def _repeated_number(work: Path) -> tuple[str, str]:
    (work / "participants.json").write_text(json.dumps([CITIZEN, CITIZEN]))
    return "participants.json", "1.ndis_number: NDIS number repeated"


def _not_a_list(work: Path) -> tuple[str, str]:
    (work / "participants.json").write_text(json.dumps({"participants": [CITIZEN]}))
    return "participants.json", "expected a JSON list"


def _not_json(work: Path) -> tuple[str, str]:
    (work / "participants.json").write_text("[{")
    return "participants.json", "not valid JSON"


def _bad_contract_file(work: Path) -> tuple[str, str]:
    (work / "contracts" / "broken.json").write_text(json.dumps({"id": "X", "start": "2025-07-01"}))
    return "broken.json", "end_inclusive"


def _duplicate_contract_id(work: Path) -> tuple[str, str]:
    shutil.copy(work / "contracts" / "C-LEGACY-1.json", work / "contracts" / "copy.json")
    return "copy.json", "id: contract id 'C-LEGACY-1' is also in"


def _no_contracts_dir(work: Path) -> tuple[str, str]:
    shutil.rmtree(work / "contracts")
    return "contracts", "not a folder of contract files"


def _bad_gateway(work: Path) -> tuple[str, str]:
    state = json.loads((work / "gateway.json").read_text())
    state["participants"][2]["date_of_birth"] = "someday"
    (work / "gateway.json").write_text(json.dumps(state))
    return "gateway.json", "participants.2.date_of_birth"


def _no_gateway(work: Path) -> tuple[str, str]:
    (work / "gateway.json").unlink()
    return "gateway.json", "no such PRODA store file"


@pytest.mark.parametrize(
    "breakage",
    [
        _break_participants,
        _unknown_contract,
        _someone_elses_contract,
        _repeated_number,
        _not_a_list,
        _not_json,
        _bad_contract_file,
        _duplicate_contract_id,
        _no_contracts_dir,
        _bad_gateway,
        _no_gateway,
    ],
)
def test_sync_bad_input_exits_2_naming_the_file(
    work: Path, capsys: pytest.CaptureFixture[str], breakage: Any
) -> None:
    file, detail = breakage(work)
    before = (work / "gateway.json").read_text() if (work / "gateway.json").exists() else None
    code, text = run(*sync_args(work))
    err = capsys.readouterr().err
    assert code == 2
    assert text == ""  # nothing synced, no progress
    assert err.startswith("ndis-rules: error: ") and file in err and detail in err, err
    assert "Traceback" not in err
    assert "Jones" not in err  # a bad store is reported without its records
    after = (work / "gateway.json").read_text() if (work / "gateway.json").exists() else None
    assert after == before


@pytest.mark.parametrize(
    ("flag", "value"), [("--retries", "-1"), ("--retries", "two"), ("--today", "1/9/2025")]
)
def test_sync_bad_option_exits_2(
    work: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    code, _ = run(*sync_args(work), flag, value)
    assert code == 2
    assert f"argument {flag}" in capsys.readouterr().err
