"""The sync shell over the in-memory, SQLite and JSON-directory adapters."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.adapters.memory_store import InMemoryContractRepository
from ndis_rules.adapters.pace_jsondir import JsonDirPaceSource
from ndis_rules.adapters.pace_memory import InMemoryPaceSource
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.merge import PlanSelectionError, StaleChangeSet, UnacceptedConflicts
from ndis_rules.models import Contract
from ndis_rules.pace import PacePlan, ParticipantRef
from ndis_rules.services.sync import sync_apply, sync_preview
from ndis_rules.store_errors import ContractNotFound, SourceTimeout, StaleContractError

TODAY = date(2025, 9, 1)
WHO = ParticipantRef(ndis_number="430000001", last_name="Citizen", date_of_birth=date(1990, 1, 31))
PLAN: dict[str, Any] = {
    "plan_id": "P1",
    "ndis_number": "430000001",
    "start": "2025-07-01",
    "end_inclusive": "2026-06-30",
    "total": "1200.00",
    "budgets": [
        {"pace_budget_id": "B1", "category": "01", "management": "plan", "total": "1200.00"}
    ],
}
CONTRACT = Contract.model_validate(
    {
        "id": "C1",
        "participant": "430000001",
        "plan_id": "P1",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "1000.00",
        "budgets": [{"category": "01", "management": "plan", "total": "1000.00"}],
        "delivered": [
            {
                "id": "D1",
                "category": "01",
                "management": "plan",
                "from": "2025-07-03",
                "to": "2025-07-03",
                "amount": "1100.00",
            }
        ],
    }
)


def source_with(*plans: dict[str, Any]) -> InMemoryPaceSource:
    s = InMemoryPaceSource()
    s.add_participant(WHO, [PacePlan.model_validate(p) for p in plans])
    return s


def test_preview_apply_resync_with_sqlite(tmp_path: Path) -> None:
    with SqliteContractRepository(tmp_path / "c.db") as repo:
        repo.save(CONTRACT, expected_version=None)
        source = source_with(PLAN)
        cs = sync_preview(repo, source, WHO, "C1", today=TODAY)
        assert cs.changed == ["01:plan"] and not cs.conflicts
        saved = sync_apply(repo, cs)
        assert saved == repo.get("C1") and saved.version == 1
        assert repo.budget_totals_cents("C1") == {"01:plan": 120000}
        again = sync_preview(repo, source, WHO, "C1", today=TODAY)
        assert again.is_empty
        assert sync_apply(repo, again) == saved  # nothing written
        assert repo.get("C1").version == 1


def test_plan_selected_by_today_or_id() -> None:
    repo = InMemoryContractRepository()
    repo.save(CONTRACT, expected_version=None)
    old = {**PLAN, "plan_id": "P0", "start": "2024-07-01", "end_inclusive": "2025-06-30"}
    source = source_with(old, PLAN)
    assert sync_preview(repo, source, WHO, "C1", today=TODAY).plan_id == "P1"
    assert sync_preview(repo, source, WHO, "C1", today=TODAY, plan_id="P0").new_plan
    with pytest.raises(PlanSelectionError):
        sync_preview(repo, source, WHO, "C1", today=date(2027, 1, 1))


def test_failed_fetch_and_missing_contract_leave_the_store_unchanged() -> None:
    repo = InMemoryContractRepository()
    repo.save(CONTRACT, expected_version=None)
    source = source_with(PLAN)
    source.fail_next("timeout")
    with pytest.raises(SourceTimeout):
        sync_preview(repo, source, WHO, "C1", today=TODAY)
    with pytest.raises(ContractNotFound):
        sync_preview(repo, source, WHO, "nope", today=TODAY)
    assert source.calls == 1  # the contract is read before PACE is called
    assert repo.get("C1") == CONTRACT


def test_refused_apply_leaves_the_store_unchanged() -> None:
    repo = InMemoryContractRepository()
    repo.save(CONTRACT, expected_version=None)
    plan = {**PLAN, "budgets": [{**PLAN["budgets"][0], "total": "900.00"}]}
    cs = sync_preview(repo, source_with(plan), WHO, "C1", today=TODAY)
    with pytest.raises(UnacceptedConflicts):
        sync_apply(repo, cs)
    assert repo.get("C1") == CONTRACT
    repo.save(CONTRACT.model_copy(update={"notes": ("edited meanwhile",)}), expected_version=0)
    with pytest.raises(StaleChangeSet):
        sync_apply(repo, cs, accept=["TOTAL_BELOW_DELIVERED"])
    assert repo.get("C1").notes == ("edited meanwhile",)


class _RacingRepository(InMemoryContractRepository):
    """Someone else saves between our read and our write."""

    def get(self, contract_id: str) -> Contract:
        got = super().get(contract_id)
        if got.version == 0 and not got.notes:
            super().save(got.model_copy(update={"notes": ("racer",)}), expected_version=0)
        return got


def test_concurrent_write_between_read_and_save_is_stale() -> None:
    repo = _RacingRepository()
    repo.save(CONTRACT.model_copy(update={"notes": ("x",)}), expected_version=None)
    cs = sync_preview(repo, source_with(PLAN), WHO, "C1", today=TODAY)
    repo.delete("C1")
    repo.save(CONTRACT, expected_version=None)
    with pytest.raises(StaleContractError):
        sync_apply(repo, cs)
    assert repo.get("C1").notes == ("racer",)


def test_json_directory_source_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "430000001.json").write_text(
        json.dumps(
            {
                "participant": {
                    "ndisNumber": "430000001",
                    "lastName": "Citizen",
                    "dateOfBirth": "1990-01-31",
                },
                "plans": [PLAN],
            }
        )
    )
    repo = InMemoryContractRepository()
    repo.save(CONTRACT, expected_version=None)
    cs = sync_preview(repo, JsonDirPaceSource(tmp_path), WHO, "C1", today=TODAY)
    assert str(sync_apply(repo, cs).budgets[0].total) == "1200.00"
