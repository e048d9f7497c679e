"""The ``ndis-rules sync preview`` and ``sync apply`` commands (run through ``main``)."""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ndis_rules import merge
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.cli import main
from ndis_rules.cli import sync as cli_sync
from ndis_rules.files.documents import read_contract
from ndis_rules.merge import ChangeSet
from ndis_rules.models import Contract
from ndis_rules.pace import PacePlan, ParticipantRef
from ndis_rules.services import sync as sync_service
from ndis_rules.store_errors import SourceTimeout

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "sync"
TODAY = "2025-10-01"
NUMBER = "430000001"


def _run(argv: list[str]) -> tuple[int, str]:
    stream = io.StringIO()
    code = main(argv, out=stream)
    return code, stream.getvalue()


_APPLY_ONLY = {"--out": 1, "--expected-version": 1, "--accept": 1, "--format": 1}


def run(*argv: str) -> tuple[int, str]:
    """Run the command line. ``sync apply`` without ``--changes`` is run the reviewed way: the
    same options previewed and saved first (``sync preview --save FILE``), then applied with
    ``--changes FILE`` (the one form apply takes; tests/sync/test_sync_reviewed.py tests the
    refusal of the old one)."""
    args = list(argv)
    if args[:2] != ["sync", "apply"] or "--changes" in args:
        return _run(args)
    preview: list[str] = ["sync", "preview"]
    rest = args[2:]
    i = 0
    while i < len(rest):
        if rest[i] in _APPLY_ONLY:
            i += 1 + _APPLY_ONLY[rest[i]]
            continue
        preview.append(rest[i])
        i += 1
    saved = Path(tempfile.mkdtemp()) / "reviewed.json"
    code, text = _run([*preview, "--save", str(saved)])
    if code not in (0, 1):
        return code, text
    return _run([*args, "--changes", str(saved)])


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A copy of examples/sync (apply writes the contract file)."""
    target = tmp_path / "sync"
    shutil.copytree(EXAMPLES, target)
    return target


def file_args(work: Path, command: str, *extra: str, contract: Path | None = None) -> list[str]:
    return [
        "sync",
        command,
        "--contract",
        str(contract or work / "contract.json"),
        "--plans",
        str(work / "plans"),
        "--participant",
        NUMBER,
        "--today",
        TODAY,
        *extra,
    ]


def store_args(work: Path, command: str, *extra: str, contract_id: str = "C-SYNC-1") -> list[str]:
    return [
        "sync",
        command,
        "--store",
        str(work / "contracts.sqlite"),
        "--contract-id",
        contract_id,
        "--plans",
        str(work / "plans"),
        "--participant",
        NUMBER,
        "--today",
        TODAY,
        *extra,
    ]


@pytest.fixture
def store(work: Path) -> Path:
    """An SQLite store holding the example contract (version 0)."""
    path = work / "contracts.sqlite"
    with SqliteContractRepository(path) as repo:
        repo.save(read_contract(work / "contract.json"), expected_version=None)
    return path


def stored(path: Path, contract_id: str = "C-SYNC-1") -> Contract:
    with SqliteContractRepository(path) as repo:
        return repo.get(contract_id)


def plans_file(work: Path) -> Path:
    return work / "plans" / f"{NUMBER}.json"


def edit_plans(work: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = plans_file(work)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def error_of(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("ndis-rules: error: "), err
    assert "Traceback" not in err
    return err


# -- preview -------------------------------------------------------------------------------------


def test_preview_table_shows_plan_budgets_periods_and_conflicts() -> None:
    code, text = run(*file_args(EXAMPLES, "preview"))
    assert code == 1  # one conflict not accepted
    lines = text.splitlines()
    assert lines[0] == (
        "contract C-SYNC-1 v0 (participant 430000001) <- PACE plan PLN-2025-0001 (Active), "
        "as of 2025-10-01"
    )
    body = "\n".join(lines)
    plan = body.split("plan:\n")[1].split("\n\n")[0].splitlines()
    assert [x.split() for x in plan] == [
        ["end_inclusive", "2026-06-30", "->", "2026-09-30"],
        ["total", "16500.00", "->", "17500.00"],
    ]
    assert "budgets: 2 changed, 1 unchanged" in lines
    b01 = lines.index("  changed 01:plan [PACE B-01]")
    assert [" ".join(x.split()) for x in lines[b01 + 1 : b01 + 5]] == [
        "total 12000.00 -> 13500.00",
        "end_inclusive 2026-06-30 -> 2026-09-30",
        "funding.amount 12000.00 -> 13500.00",
        "period FP4 changed: end_inclusive 2026-06-30 -> 2026-09-30; amount 3000.00 -> 4500.00",
    ]
    b15 = lines.index("  changed 15:plan [PACE B-15]")
    assert lines[b15 + 1].split() == ["total", "2000.00", "->", "1500.00"]
    assert "  unchanged 07:agency [PACE B-07]" in lines
    # budgets come in the order added, changed, ended, unchanged
    assert b01 < b15 < lines.index("  unchanged 07:agency [PACE B-07]")
    assert "conflicts: 1, 1 not accepted" in lines
    assert (
        "  TOTAL_BELOW_DELIVERED [15:plan] not accepted: the new total 1500.00 of 15:plan is "
        "below the 1800.00 already delivered in it (remaining would be -300.00)"
    ) in lines
    assert "accept with --accept CODE" in lines[-1]
    assert "--accept TOTAL_BELOW_DELIVERED" in lines[-1]


def test_preview_json_is_the_change_set() -> None:
    code, text = run(*file_args(EXAMPLES, "preview", "--format", "json"))
    assert code == 1
    cs = ChangeSet.model_validate(json.loads(text))
    assert (cs.contract_id, cs.contract_version, cs.plan_id) == ("C-SYNC-1", 0, "PLN-2025-0001")
    assert cs.changed == ["01:plan", "15:plan"] and cs.unchanged == ["07:agency"]
    assert [c.id for c in cs.conflicts] == ["TOTAL_BELOW_DELIVERED:15:plan"]
    assert [f.field for f in cs.plan_changes] == ["end_inclusive", "total"]
    fp4 = cs.budgets[0].periods[0]
    assert (fp4.period_id, fp4.change, str(fp4.new.amount if fp4.new else None)) == (
        "FP4",
        "changed",
        "4500.00",
    )


@pytest.mark.parametrize("accept", ["TOTAL_BELOW_DELIVERED", "TOTAL_BELOW_DELIVERED:15:plan"])
def test_preview_with_the_conflict_accepted_exits_0(accept: str) -> None:
    code, text = run(*file_args(EXAMPLES, "preview", "--accept", accept))
    assert code == 0
    assert "conflicts: 1, 0 not accepted" in text
    assert "TOTAL_BELOW_DELIVERED [15:plan] accepted:" in text
    assert text.splitlines()[-1] == "ready to apply"


def test_preview_with_explicit_identity(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(*file_args(EXAMPLES, "preview", "--last-name", "CITIZEN", "--dob", "1990-01-31"))
    assert code == 1
    code, text = run(
        *file_args(EXAMPLES, "preview", "--last-name", "Citizen", "--dob", "1990-02-01")
    )
    assert code == 2 and text == ""
    assert "participant 430000001 not found in PACE" in error_of(capsys)
    code, _ = run(*file_args(EXAMPLES, "preview", "--last-name", "Citizen"))
    assert code == 2
    assert "give both --last-name and --dob, or neither" in error_of(capsys)


def test_preview_new_plan_exits_1_and_apply_is_refused(work: Path) -> None:
    code, text = run(*file_args(work, "preview", "--on", "2025-06-01"))
    assert code == 1
    assert "PACE plan PLN-2024-0007 (Inactive)" in text.splitlines()[0]
    assert "NEW PLAN: PLN-2024-0007 is not this contract's plan" in text
    assert "NEW_PLAN [PLN-2024-0007] never accepted:" in text
    assert text.splitlines()[-1] == "NEW_PLAN cannot be accepted: a reassessment is never merged"
    before = (work / "contract.json").read_bytes()
    code, text = run(*file_args(work, "apply", "--plan-id", "PLN-2024-0007"))
    assert code == 1
    assert "apply refused: plan PLN-2024-0007 is a new plan" in text
    assert (work / "contract.json").read_bytes() == before


def test_preview_table_shows_added_and_ended_budgets_and_added_periods(work: Path) -> None:
    def reshape(data: dict[str, Any]) -> None:
        budgets = data["plans"][1]["planBudgets"]
        budgets[1] = {  # 15 is gone from PACE, 14 (self-managed) is new
            "budgetId": "B-14",
            "supportCategory": 14,
            "managementType": "Self",
            "allocatedAmount": "800.00",
            "startDate": "2025-10-01",
            "endDate": "2026-09-30",
        }
        periods = budgets[0]["fundingComponent"]["fundingPeriods"]
        periods[3].update(endDate="2026-06-30", allocatedAmount="3000.00")
        periods.append(
            {
                "fundingPeriodId": "FP5",
                "startDate": "2026-07-01",
                "endDate": "2026-09-30",
                "allocatedAmount": "1500.00",
                "isReleased": False,
            }
        )

    edit_plans(work, reshape)
    code, text = run(*file_args(work, "preview"))
    assert code == 0  # no conflict: D-1003 of 15 lies before the end date it gets
    lines = [" ".join(x.split()) for x in text.splitlines()]
    assert "budgets: 1 added, 1 changed, 1 ended, 1 unchanged" in lines
    added = lines.index("added 14:self [PACE B-14]")
    assert lines[added + 1 : added + 3] == ["total 800.00", "start 2025-10-01"]
    assert "period FP5 added: 2026-07-01..2026-09-30 1500.00 (not released)" in lines
    ended = lines.index("ended 15:plan [PACE B-15]")
    assert lines[ended + 1 : ended + 3] == [
        "start - -> 2025-07-01",
        "end_inclusive - -> 2025-10-01",
    ]
    assert added < lines.index("changed 01:plan [PACE B-01]") < ended
    assert lines[-1] == "ready to apply"


# -- selection -----------------------------------------------------------------------------------


def test_unknown_plan_id_lists_the_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(*file_args(EXAMPLES, "preview", "--plan-id", "NOPE"))
    assert code == 2 and text == ""
    err = error_of(capsys)
    assert "no plan matches plan id NOPE" in err
    assert "  PLN-2024-0007 2024-07-01..2025-06-30 Inactive\n" in err
    assert "  PLN-2025-0001 2025-07-01..2026-09-30 Active\n" in err


def test_no_plan_covering_the_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(*file_args(EXAMPLES, "preview", "--on", "2030-01-01"))
    assert code == 2
    err = error_of(capsys)
    assert "no plan matches a plan covering 2030-01-01" in err
    assert "PLN-2024-0007" in err and "PLN-2025-0001" in err


def test_several_plans_covering_the_date_list_them(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def overlap(data: dict[str, Any]) -> None:
        data["plans"][0]["endDate"] = "2025-12-31"

    edit_plans(work, overlap)
    code, _ = run(*file_args(work, "preview"))
    assert code == 2
    err = error_of(capsys)
    assert "2 plans match, pick one by id or date; give --plan-id ID or --on DATE" in err
    assert "  PLN-2024-0007 2024-07-01..2025-12-31 Inactive\n" in err
    assert "  PLN-2025-0001 2025-07-01..2026-09-30 Active\n" in err
    code, _ = run(*file_args(work, "preview", "--plan-id", "PLN-2025-0001"))
    assert code == 1  # picked by id


# -- apply to a file -----------------------------------------------------------------------------


def test_apply_refused_leaves_the_file_unchanged(work: Path) -> None:
    before = (work / "contract.json").read_bytes()
    code, text = run(*file_args(work, "apply"))
    assert code == 1
    assert text.splitlines()[-1] == (
        "apply refused: 1 conflict(s) not accepted: TOTAL_BELOW_DELIVERED:15:plan; "
        "nothing was written"
    )
    assert "accept with --accept CODE" in text
    assert (work / "contract.json").read_bytes() == before
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in EXAMPLES.iterdir())


def test_apply_accepted_overwrites_the_contract_file(work: Path) -> None:
    path = work / "contract.json"
    old = read_contract(path)
    code, text = run(*file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED"))
    assert code == 0
    assert text.splitlines()[-1] == (
        "applied plan PLN-2025-0001 to contract C-SYNC-1: version 0 -> 1, accepting "
        f"TOTAL_BELOW_DELIVERED:15:plan; written to {path}"
    )
    assert "ready to apply" not in text
    new = read_contract(path)
    assert new.version == 1
    assert (str(new.end_inclusive), str(new.total)) == ("2026-09-30", "17500.00")
    totals = {b.key: str(b.total) for b in new.budgets}
    assert totals == {"01:plan": "13500.00", "15:plan": "1500.00", "07:agency": "2500.00"}
    fp4 = new.budgets[0].funding.periods[-1] if new.budgets[0].funding else None
    assert fp4 is not None and (str(fp4.end_inclusive), str(fp4.amount)) == (
        "2026-09-30",
        "4500.00",
    )
    # local-only data survives
    assert new.delivered == old.delivered and new.notes == old.notes
    assert not list(work.glob(".*.tmp"))
    # the next preview is empty; applying again writes nothing
    code, text = run(*file_args(work, "preview"))
    assert code == 0 and text.splitlines()[-1] == "in sync: nothing to apply"
    before = path.read_bytes()
    code, text = run(*file_args(work, "apply"))
    assert code == 0
    assert text.splitlines()[-1] == "nothing to apply: contract C-SYNC-1 is in sync"
    assert path.read_bytes() == before


def test_apply_out_writes_elsewhere_and_keeps_the_input(work: Path) -> None:
    before = (work / "contract.json").read_bytes()
    out = work / "synced.json"
    code, text = run(
        *file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED:15:plan", "--out", str(out))
    )
    assert code == 0 and f"written to {out}" in text
    assert (work / "contract.json").read_bytes() == before
    assert read_contract(out).version == 1
    # the written contract is the applied one: in sync with the plan
    code, text = run(*file_args(work, "preview", contract=out))
    assert code == 0 and text.splitlines()[-1] == "in sync: nothing to apply"


def test_apply_json_output(work: Path) -> None:
    code, text = run(
        *file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED", "--format", "json")
    )
    assert code == 0
    doc = json.loads(text)
    assert doc["applied"] is True and doc["refused"] is None
    assert (doc["version_before"], doc["version"]) == (0, 1)
    assert doc["accepted"] == ["TOTAL_BELOW_DELIVERED:15:plan"] and doc["not_accepted"] == []
    assert doc["written_to"] == str(work / "contract.json")
    assert ChangeSet.model_validate(doc["change_set"]).changed == ["01:plan", "15:plan"]


def test_apply_refused_json_output(work: Path) -> None:
    code, text = run(*file_args(work, "apply", "--format", "json"))
    assert code == 1
    doc = json.loads(text)
    assert doc["applied"] is False and doc["written_to"] is None
    assert doc["not_accepted"] == ["TOTAL_BELOW_DELIVERED:15:plan"]
    assert doc["refused"].startswith("apply refused: 1 conflict(s) not accepted")


def test_apply_unknown_accept_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (work / "contract.json").read_bytes()
    code, _ = run(*file_args(work, "apply", "--accept", "TOTAL_BELOW"))
    assert code == 2
    err = error_of(capsys)
    assert "--accept TOTAL_BELOW: not a conflict code or a conflict id" in err
    assert "conflicts here: TOTAL_BELOW_DELIVERED:15:plan" in err
    assert (work / "contract.json").read_bytes() == before


def test_apply_file_expected_version_mismatch_is_stale(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (work / "contract.json").read_bytes()
    code, _ = run(
        *file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED", "--expected-version", "3")
    )
    assert code == 2
    assert "is at version 0, not the expected version 3" in error_of(capsys)
    assert (work / "contract.json").read_bytes() == before
    code, _ = run(
        *file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED", "--expected-version", "0")
    )
    assert code == 0


def test_apply_file_changed_meanwhile_is_stale(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = work / "contract.json"
    real_apply = merge.apply

    def apply_while_someone_saves(contract: Contract, cs: ChangeSet, **kw: Any) -> Contract:
        new = real_apply(contract, cs, **kw)
        other = contract.model_copy(update={"version": 7, "notes": ("someone else's edit",)})
        path.write_text(other.model_dump_json(by_alias=True))
        return new

    monkeypatch.setattr(cli_sync, "apply", apply_while_someone_saves)
    code, _ = run(*file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED"))
    assert code == 2
    assert "is at version 7, not the expected version 0" in error_of(capsys)
    assert read_contract(path).notes == ("someone else's edit",)  # theirs is kept


def test_yaml_contract_is_not_overwritten(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_file = work / "contract.yaml"
    yaml_file.write_text((work / "contract.json").read_text())  # JSON is YAML
    code, _ = run(
        *file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED", contract=yaml_file)
    )
    assert code == 2
    assert "not overwritten with JSON: give --out FILE" in error_of(capsys)
    out = work / "out.json"
    code, _ = run(
        *file_args(
            work,
            "apply",
            "--accept",
            "TOTAL_BELOW_DELIVERED",
            "--out",
            str(out),
            contract=yaml_file,
        )
    )
    assert code == 0 and read_contract(out).version == 1


# -- apply to a SQLite store ---------------------------------------------------------------------


def test_store_preview_and_apply(store: Path) -> None:
    work = store.parent
    code, text = run(*store_args(work, "preview"))
    assert code == 1 and "TOTAL_BELOW_DELIVERED [15:plan] not accepted" in text
    code, text = run(*store_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED"))
    assert code == 0
    assert text.splitlines()[-1].endswith(
        f"version 0 -> 1, accepting TOTAL_BELOW_DELIVERED:15:plan; written to store {store}"
    )
    new = stored(store)
    assert new.version == 1 and str(new.total) == "17500.00"
    with SqliteContractRepository(store) as repo:
        assert repo.budget_totals_cents("C-SYNC-1") == {
            "01:plan": 1350000,
            "07:agency": 250000,
            "15:plan": 150000,
        }
    code, text = run(*store_args(work, "apply"))
    assert code == 0 and "nothing to apply" in text
    assert stored(store).version == 1


def test_store_refused_apply_leaves_the_store_unchanged(store: Path) -> None:
    before = stored(store)
    code, text = run(*store_args(store.parent, "apply"))
    assert code == 1 and "nothing was written" in text
    assert stored(store) == before


def test_store_expected_version_mismatch_is_stale(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(
        *store_args(
            store.parent, "apply", "--accept", "TOTAL_BELOW_DELIVERED", "--expected-version", "2"
        )
    )
    assert code == 2
    assert "contract C-SYNC-1 is at version 0, not the expected version 2" in error_of(capsys)
    assert stored(store).version == 0


def bump(store: Path) -> None:
    """Another user's write: the stored contract moves to the next version."""
    with SqliteContractRepository(store) as repo:
        c = repo.get("C-SYNC-1")
        repo.save(c.model_copy(update={"notes": ("theirs",)}), expected_version=c.version)


def test_store_changed_after_the_preview_is_stale(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_preview = merge.preview

    def preview_then_someone_saves(*a: Any, **kw: Any) -> ChangeSet:
        cs = real_preview(*a, **kw)
        bump(store)
        return cs

    monkeypatch.setattr(cli_sync, "preview", preview_then_someone_saves)
    code, text = run(*store_args(store.parent, "apply", "--accept", "TOTAL_BELOW_DELIVERED"))
    assert code == 2 and text == ""
    err = error_of(capsys)
    assert "is at version 1, not the expected version 0" in err and "nothing was written" in err
    assert stored(store).notes == ("theirs",) and stored(store).version == 1


def test_store_changed_while_saving_is_stale(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_apply = merge.apply

    def apply_while_someone_saves(*a: Any, **kw: Any) -> Contract:
        new = real_apply(*a, **kw)
        bump(store)
        return new

    monkeypatch.setattr(sync_service, "apply", apply_while_someone_saves)
    code, _ = run(*store_args(store.parent, "apply", "--accept", "TOTAL_BELOW_DELIVERED"))
    assert code == 2
    err = error_of(capsys)
    assert "contract C-SYNC-1 is at version 1, not the expected version 0" in err
    assert "nothing was written" in err
    assert stored(store).notes == ("theirs",)


def test_store_errors_exit_2(work: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(*store_args(work, "preview", contract_id="NOPE"))
    assert code == 2
    assert f"{store}: no contract with id 'NOPE' in the store" in error_of(capsys)
    missing = work / "missing.sqlite"
    code, _ = run(
        "sync", "preview", "--store", str(missing), "--contract-id", "C", "--plans",
        str(work / "plans"), "--participant", NUMBER,
    )  # fmt: skip
    assert code == 2 and not missing.exists()
    assert "no such contract store" in error_of(capsys)
    not_db = work / "contract.json"
    code, _ = run(
        "sync", "preview", "--store", str(not_db), "--contract-id", "C", "--plans",
        str(work / "plans"), "--participant", NUMBER,
    )  # fmt: skip
    assert code == 2
    assert "cannot open the contract store" in error_of(capsys)


# -- bad input -----------------------------------------------------------------------------------


def test_bad_contract_names_file_and_field(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = work / "contract.json"
    data = json.loads(path.read_text())
    data["budgets"][1]["total"] = "2000,5"
    path.write_text(json.dumps(data))
    code, text = run(*file_args(work, "preview"))
    assert code == 2 and text == ""
    err = error_of(capsys)
    assert f"{path}: budgets.1.total:" in err and "not an amount of money" in err


def test_malformed_plan_names_file_and_field(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def float_amount(data: dict[str, Any]) -> None:
        data["plans"][1]["planBudgets"][1]["allocatedAmount"] = 1500.505

    edit_plans(work, float_amount)
    before = (work / "contract.json").read_bytes()
    code, _ = run(*file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED"))
    assert code == 2
    err = error_of(capsys)
    assert (
        f"{plans_file(work)}: malformed PACE payload: plans.1.planBudgets.1.allocatedAmount:"
    ) in err
    assert "more than 2 decimal places" in err
    assert (work / "contract.json").read_bytes() == before


def test_plan_file_not_json(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plans_file(work).write_text("{not json")
    code, _ = run(*file_args(work, "preview", "--last-name", "Citizen", "--dob", "1990-01-31"))
    assert code == 2
    err = error_of(capsys)
    assert f"{plans_file(work)}: malformed PACE payload: not valid JSON" in err
    code, _ = run(*file_args(work, "preview"))  # identity from the folder: same message
    assert code == 2
    assert f"{plans_file(work)}: malformed PACE payload: not valid JSON" in error_of(capsys)


def test_malformed_participant_block_names_the_field(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def bad_dob(data: dict[str, Any]) -> None:
        data["participant"]["dateOfBirth"] = "31/01/1990"

    edit_plans(work, bad_dob)
    code, _ = run(*file_args(work, "preview"))
    assert code == 2
    err = error_of(capsys)
    assert f"{plans_file(work)}: malformed PACE payload: participant.dateOfBirth:" in err
    assert "expected a date as YYYY-MM-DD" in err


def test_not_authorised(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_plans(work, lambda data: data.update(authorised=False))
    code, _ = run(*file_args(work, "preview"))
    assert code == 2
    assert "not authorised by PACE: not authorised for participant 430000001" in error_of(capsys)


def test_timeout(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class SlowSource:
        def __init__(self, directory: str) -> None:
            self.directory = directory

        def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
            raise SourceTimeout("no answer from the PACE gateway within 30 s")

    monkeypatch.setattr(cli_sync, "JsonDirPaceSource", SlowSource)
    before = (work / "contract.json").read_bytes()
    code, text = run(*file_args(work, "apply", "--accept", "TOTAL_BELOW_DELIVERED"))
    assert code == 2 and text == ""
    err = error_of(capsys)
    assert "PACE source timed out: no answer from the PACE gateway within 30 s" in err
    assert (work / "contract.json").read_bytes() == before


def test_participant_not_in_the_folder(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = work / "contract.json"
    data = json.loads(path.read_text())
    data["participant"] = "430000009"
    path.write_text(json.dumps(data))
    args = file_args(work, "preview")
    args[args.index(NUMBER)] = "430000009"
    code, _ = run(*args)
    assert code == 2
    assert "no participant with NDIS number 430000009 in the PACE folder" in error_of(capsys)


def test_contract_of_another_participant(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = file_args(work, "preview")
    args[args.index(NUMBER)] = "430000002"
    code, _ = run(*args)
    assert code == 2
    assert "contract C-SYNC-1 is participant 430000001's, not 430000002's" in error_of(capsys)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--participant", "12345"], "expected an NDIS number of 9 digits"),
        (["--today", "1/10/2025"], "expected a date as YYYY-MM-DD"),
        (["--plan-id", "P", "--on", "2025-10-01"], "not allowed with argument"),
        (["--format", "csv"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(*file_args(EXAMPLES, "preview"), *extra)
    assert code == 2
    assert message in capsys.readouterr().err


def test_store_and_contract_options(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = store_args(work, "preview")
    i = args.index("--contract-id")
    del args[i : i + 2]
    code, _ = run(*args)
    assert code == 2 and "--store needs --contract-id ID" in error_of(capsys)
    code, _ = run(*file_args(work, "preview", "--contract-id", "C-SYNC-1"))
    assert code == 2 and "--contract-id goes with --store" in error_of(capsys)
    changes = str(work / "reviewed.json")
    code, _ = run(*store_args(work, "apply", "--out", str(work / "x.json"), "--changes", changes))
    assert code == 2 and "--out goes with --contract" in error_of(capsys)


def test_missing_plans_folder(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(work / "plans")
    code, _ = run(*file_args(work, "preview", "--last-name", "Citizen", "--dob", "1990-01-31"))
    assert code == 2
    assert f"{work / 'plans'}: not a folder of PACE plan files" in error_of(capsys)


# -- the docs ------------------------------------------------------------------------------------


def test_the_documented_preview_table_is_current() -> None:
    page = (ROOT / "docs" / "scenarios-sync.md").read_text()
    section = page.split("## Command line")[1]
    blocks = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    shown = next(b for b in blocks if b.startswith("contract C-SYNC-1 v0"))
    code, text = run(*file_args(EXAMPLES, "preview"))
    assert code == 1
    assert shown == text.replace(str(EXAMPLES), "examples/sync")
