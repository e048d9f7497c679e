"""``sync preview --save FILE`` then ``sync apply --changes FILE``: apply applies exactly the
change set that was reviewed, and refuses (exit 2, one error line) when the contract or the plan
moved since (issue 13's reproduced failures are the first tests here)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from ndis_rules.adapters.jsonfile_store import JsonFileContractRepository
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.cli import main
from ndis_rules.files.documents import read_contract

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "sync"
NUMBER = "430000001"


def run(*argv: str) -> tuple[int, str]:
    stream = io.StringIO()
    code = main(list(argv), out=stream)
    return code, stream.getvalue()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    target = tmp_path / "sync"
    shutil.copytree(EXAMPLES, target)
    return target


def where(work: Path) -> list[str]:
    return ["--contract", str(work / "contract.json")]


def common(work: Path) -> list[str]:
    return ["--plans", str(work / "plans"), "--participant", NUMBER, "--today", "2025-10-01"]


def change_pace(work: Path, old: str = '"totalFunding": "17500.00"',
                new: str = '"totalFunding": "103999.00"') -> None:
    """PACE changes the plan after the review (the issue's 17500 -> 103999)."""
    path = work / "plans" / f"{NUMBER}.json"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def save(work: Path, *where_: str) -> Path:
    saved = work / "reviewed.json"
    code, text = run("sync", "preview", *where_, *common(work), "--save", str(saved))
    assert code == 1, text  # one conflict not accepted yet
    assert f"saved the change set to {saved}" in text
    return saved


def test_apply_applies_the_reviewed_change_set(work: Path) -> None:
    saved = save(work, *where(work))
    doc = json.loads(saved.read_text())
    assert doc["contract_id"] == "C-SYNC-1" and doc["contract_version"] == 0
    assert doc["plan_id"] == "PLN-2025-0001" and len(doc["plan_digest"]) == 64
    code, text = run(
        "sync", "apply", *where(work), *common(work), "--changes", str(saved),
        "--accept", "TOTAL_BELOW_DELIVERED",
    )
    assert code == 0, text
    assert "version 0 -> 1" in text
    c = read_contract(work / "contract.json")
    assert c.version == 1 and str(c.total) == "17500.00"


def test_pace_changed_after_the_review_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = save(work, *where(work))
    change_pace(work)
    before = (work / "contract.json").read_bytes()
    code, text = run(
        "sync", "apply", *where(work), *common(work), "--changes", str(saved),
        "--accept", "TOTAL_BELOW_DELIVERED", "--expected-version", "0",
    )
    err = capsys.readouterr().err
    assert code == 2 and text == ""
    assert err.count("\n") == 1 and "plan PLN-2025-0001 changed in PACE" in err
    assert (work / "contract.json").read_bytes() == before  # 16500 stays, no 103999


def test_contract_moved_after_the_review_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = save(work, *where(work))
    c = read_contract(work / "contract.json")
    bumped = c.model_copy(update={"version": 1})
    (work / "contract.json").write_text(bumped.model_dump_json(by_alias=True))
    before = (work / "contract.json").read_bytes()
    code, _ = run(
        "sync", "apply", *where(work), *common(work), "--changes", str(saved),
        "--accept", "TOTAL_BELOW_DELIVERED",
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "contract C-SYNC-1 is at version 1" in err and "version 0" in err
    assert (work / "contract.json").read_bytes() == before


def test_an_edited_change_set_file_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = save(work, *where(work))
    saved.write_text(saved.read_text().replace("13500.00", "99999.00"))
    code, _ = run(
        "sync", "apply", *where(work), *common(work), "--changes", str(saved),
        "--accept", "TOTAL_BELOW_DELIVERED",
    )
    err = capsys.readouterr().err
    assert code == 2 and "changed since it was saved" in err
    assert read_contract(work / "contract.json").version == 0


def test_apply_without_changes_is_refused_pointing_to_the_new_form(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (work / "contract.json").read_bytes()
    code, _ = run(
        "sync", "apply", *where(work), *common(work), "--accept", "TOTAL_BELOW_DELIVERED",
        "--expected-version", "0",
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--save FILE" in err and "sync apply ... --changes FILE" in err
    assert (work / "contract.json").read_bytes() == before


def test_the_change_set_of_another_contract_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = save(work, *where(work))
    other = work / "other.json"
    c = read_contract(work / "contract.json")
    other.write_text(c.model_copy(update={"id": "C-OTHER"}).model_dump_json(by_alias=True))
    code, _ = run(
        "sync", "apply", "--contract", str(other), *common(work), "--changes", str(saved),
    )
    assert code == 2 and "C-SYNC-1" in capsys.readouterr().err
    assert read_contract(other).version == 0


def test_sqlite_store_applies_the_reviewed_change_set_and_refuses_a_moved_plan(
    work: Path,
) -> None:
    db = work / "contracts.sqlite"
    repo = SqliteContractRepository(db)
    repo.save(read_contract(work / "contract.json"), None)
    repo.close()
    store = ["--store", str(db), "--contract-id", "C-SYNC-1"]
    saved = save(work, *store)
    change_pace(work)
    code, _ = run("sync", "apply", *store, *common(work), "--changes", str(saved),
                  "--accept", "TOTAL_BELOW_DELIVERED")
    assert code == 2
    repo = SqliteContractRepository(db)
    assert repo.get("C-SYNC-1").version == 0
    repo.close()


def test_json_files_store_applies_the_reviewed_change_set(work: Path) -> None:
    folder = work / "store"
    JsonFileContractRepository(folder).save(read_contract(work / "contract.json"), None)
    store = ["--store", str(folder), "--contract-id", "C-SYNC-1"]
    saved = save(work, *store)
    code, text = run("sync", "apply", *store, *common(work), "--changes", str(saved),
                     "--accept", "TOTAL_BELOW_DELIVERED")
    assert code == 0, text
    stored = JsonFileContractRepository(folder).get("C-SYNC-1")
    assert stored.version == 1 and str(stored.total) == "17500.00"
    # applying the same change set again is stale: the contract moved on
    code, _ = run("sync", "apply", *store, *common(work), "--changes", str(saved),
                  "--accept", "TOTAL_BELOW_DELIVERED")
    assert code == 2
    assert JsonFileContractRepository(folder).get("C-SYNC-1").version == 1
