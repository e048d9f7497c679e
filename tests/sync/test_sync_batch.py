"""The batch PACE sync across the book (issue 14, deliverable 5): preview-only by default, the
bookings batch's counters, apply only with a flag and only change sets without unaccepted
conflicts, and the ``sync batch`` command's exit codes."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.adapters.memory_store import InMemoryContractRepository
from ndis_rules.adapters.pace_memory import InMemoryPaceSource
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.cli import main
from ndis_rules.models import Contract
from ndis_rules.pace import PacePlan, ParticipantRef
from ndis_rules.services.sync import BatchProgress, sync_batch

TODAY = date(2025, 9, 1)


def who(n: int) -> ParticipantRef:
    return ParticipantRef(
        ndis_number=f"4300{n:05d}", last_name="Citizen", date_of_birth=date(1990, 1, n)
    )


def plan_json(n: int, total: str = "1200.00", **extra: Any) -> dict[str, Any]:
    return {
        "plan_id": f"P{n}",
        "ndis_number": who(n).ndis_number,
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": total,
        "budgets": [{"pace_budget_id": f"B{n}", "category": "01", "management": "plan",
                     "total": total}],
        **extra,
    }


def contract_json(n: int, total: str = "1000.00", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"C{n}",
        "participant": who(n).ndis_number,
        "plan_id": f"P{n}",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": total,
        "budgets": [{"category": "01", "management": "plan", "total": total,
                     "pace_budget_id": f"B{n}"}],
        **extra,
    }


def book() -> tuple[InMemoryContractRepository, InMemoryPaceSource]:
    """1: PACE raised the total; 2: in sync; 3: total below delivered (a conflict);
    4: no contract; 5: PACE times out."""
    repo, source = InMemoryContractRepository(), InMemoryPaceSource()
    delivered = [{"id": "D1", "category": "01", "management": "plan", "from": "2025-08-01",
                  "to": "2025-08-01", "amount": "900.00"}]
    contracts = [
        contract_json(1),
        contract_json(2, total="1200.00"),
        contract_json(3, delivered=delivered),
        contract_json(5),
    ]
    for c in contracts:
        repo.save(Contract.model_validate(c), None)
    source.add_participant(who(1), [PacePlan.model_validate(plan_json(1))])
    source.add_participant(who(2), [PacePlan.model_validate(plan_json(2))])
    source.add_participant(who(3), [PacePlan.model_validate(plan_json(3, total="500.00"))])
    source.add_participant(who(4), [PacePlan.model_validate(plan_json(4))])
    source.add_participant(who(5), [PacePlan.model_validate(plan_json(5))])
    return repo, source


class TimesOutFor:
    """A PACE source that times out for one participant."""

    def __init__(self, inner: InMemoryPaceSource, ndis_number: str) -> None:
        self.inner, self.ndis_number, self.calls = inner, ndis_number, 0

    def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
        from ndis_rules.errors import SourceTimeout

        if participant.ndis_number == self.ndis_number:
            self.calls += 1
            raise SourceTimeout("PACE timed out (scripted)")
        return self.inner.plans_for(participant)


def test_preview_only_by_default_with_the_bookings_counters() -> None:
    repo, inner = book()
    source = TimesOutFor(inner, who(5).ndis_number)
    before = {i: repo.get(i) for i in repo.ids()}
    events: list[BatchProgress] = []
    report = sync_batch(repo, source, [who(n) for n in range(1, 6)], today=TODAY,
                        progress=events.append, retries=1)
    assert (report.total, report.processed, report.success, report.failed,
            report.uncompleted) == (5, 4, 2, 1, 1)
    assert report.no_active_contract == (who(4),)
    assert {i: repo.get(i) for i in repo.ids()} == before  # nothing written
    by = {r.participant.ndis_number: r for r in report.results}
    assert by[who(1).ndis_number].change_set is not None and not by[who(1).ndis_number].applied
    assert by[who(2).ndis_number].in_sync
    assert by[who(3).ndis_number].unresolved == ("TOTAL_BELOW_DELIVERED:01:plan",)
    assert source.calls == 2  # one try and one retry
    assert [e.done for e in events] == [1, 2, 3, 4, 5] and events[-1].percent == 100
    for e in events:
        assert e.processed == e.success + e.failed + e.uncompleted


def test_apply_only_change_sets_without_unaccepted_conflicts() -> None:
    repo, source = book()
    report = sync_batch(repo, source, [who(1), who(2), who(3)], today=TODAY, apply_changes=True)
    assert str(repo.get("C1").total) == "1200.00" and repo.get("C1").version == 1
    assert repo.get("C2").version == 0  # in sync: nothing written
    assert str(repo.get("C3").total) == "1000.00"  # conflict not accepted: not applied
    assert [r.applied for r in report.results] == [True, False, False]
    accepted = sync_batch(repo, source, [who(3)], today=TODAY, apply_changes=True,
                          accept=["TOTAL_BELOW_DELIVERED"])
    assert accepted.success == 1 and str(repo.get("C3").total) == "500.00"
    again = sync_batch(repo, source, [who(1), who(3)], today=TODAY, apply_changes=True)
    assert all(r.in_sync for r in again.results)  # idempotent


def test_a_stale_contract_is_uncompleted_and_nothing_is_written() -> None:
    repo, source = book()

    class Racing:
        def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
            c = repo.get("C1")  # someone else saves the contract while PACE answers
            repo.save(c.model_copy(update={"notes": ("edited",)}), c.version)
            return source.plans_for(participant)

    report = sync_batch(repo, Racing(), [who(1)], today=TODAY, apply_changes=True)
    assert report.uncompleted == 1 and repo.get("C1").notes == ("edited",)
    assert str(repo.get("C1").total) == "1000.00"


# -- the command -----------------------------------------------------------------------------------


@pytest.fixture
def work(tmp_path: Path) -> Path:
    store = SqliteContractRepository(tmp_path / "book.sqlite")
    for c in (contract_json(1), contract_json(2, total="1200.00")):
        store.save(Contract.model_validate(c), None)
    store.close()
    plans = tmp_path / "plans"
    plans.mkdir()
    for n in (1, 2):
        body = {"participant": {"ndis_number": who(n).ndis_number, "last_name": "Citizen",
                                "date_of_birth": who(n).date_of_birth.isoformat()},
                "plans": [plan_json(n)]}
        (plans / f"{n}.json").write_text(json.dumps(body))
    people = [{"ndis_number": who(n).ndis_number, "last_name": "Citizen",
               "date_of_birth": who(n).date_of_birth.isoformat()} for n in (1, 2)]
    (tmp_path / "people.json").write_text(json.dumps(people))
    return tmp_path


def batch(work: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["sync", "batch", "--participants", str(work / "people.json"), "--plans",
                 str(work / "plans"), "--store", str(work / "book.sqlite"), "--today",
                 TODAY.isoformat(), *extra], out=out)
    return code, out.getvalue()


def test_cli_batch_previews_then_applies_with_the_flag(work: Path) -> None:
    code, text = batch(work)
    assert code == 0, text
    assert "total 2  processed 2  success 2" in text and "preview only" in text
    store = SqliteContractRepository(work / "book.sqlite")
    assert str(store.get("C1").total) == "1000.00"
    store.close()
    code, text = batch(work, "--apply", "--format", "json")
    assert code == 0
    doc = json.loads(text)
    assert doc["applied"] is True and doc["counters"]["success"] == 2
    assert [r["applied"] for r in doc["results"]] == [True, False]
    store = SqliteContractRepository(work / "book.sqlite")
    assert str(store.get("C1").total) == "1200.00"
    store.close()


def test_cli_batch_exit_1_when_a_participant_needs_attention(work: Path) -> None:
    people = json.loads((work / "people.json").read_text())
    people.append({"ndis_number": "430000009", "last_name": "Nobody",
                   "date_of_birth": "1990-01-09"})
    (work / "people.json").write_text(json.dumps(people))
    code, text = batch(work)
    assert code == 1
    assert "no active contract" in text and "430000009" in text


def test_cli_batch_bad_input_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "people.json").write_text('[{"ndis_number": "1"}]')
    code, _ = batch(work)
    assert code == 2
    assert "people.json" in capsys.readouterr().err
