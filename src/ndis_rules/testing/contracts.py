"""The contract test suite of :class:`ndis_rules.ports.ContractRepository` (eventsourcing
style): subclass :class:`ContractRepositoryContract`, implement :meth:`make_repository`, and
pytest runs every behaviour against your adapter::

    class TestMyStore(ContractRepositoryContract):
        def make_repository(self, tmp_path):
            return MyStore(tmp_path / "db")

        def reopen(self, repo, tmp_path):      # optional, for persistent adapters
            return MyStore(tmp_path / "db")

Needs pytest (extra ``ndis-rules[testing]``).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..errors import ContractNotFound, StaleContractError, StoreError
from ..models import Contract
from ..ports import ContractRepository

__all__ = ["ContractRepositoryContract", "sample_contract"]


def sample_contract(contract_id: str = "C1", **changes: Any) -> Contract:
    """A contract using every part of the model (budgets with funding periods, support item
    budgets, SPCBs with a distribution, delivered services, notes) and awkward money (one cent,
    twelve digits), for round-trip tests."""
    data: dict[str, Any] = {
        "id": contract_id,
        "participant": "430000001",
        "plan_id": "PLAN-1",
        "pace": True,
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "9999999999.99",
        "budgets": [
            {
                "category": "01",
                "management": "plan",
                "total": "10000.01",
                "start": "2025-07-01",
                "end_inclusive": "2026-06-30",
                "pace_budget_id": "B-01",
                "funding": {
                    "id": "FC-01",
                    "amount": "10000.01",
                    "instalment_months": 6,
                    "periods": [
                        {
                            "id": "FP1",
                            "start": "2025-07-01",
                            "end_inclusive": "2025-12-31",
                            "amount": "5000.01",
                        },
                        {
                            "id": "FP2",
                            "start": "2026-01-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "5000.00",
                            "released": False,
                        },
                    ],
                },
            },
            {"category": "07", "management": "agency", "total": "0.01", "requires_booking": True},
        ],
        "support_items": [
            {
                "id": "S1",
                "item": "01_011_0107_1_1",
                "category": "01",
                "provider": "PROV-1",
                "quantity": "10.5",
                "rate": "70.23",
            }
        ],
        "provider_budgets": [
            {
                "id": "SP1",
                "provider": "PROV-1",
                "category": "01",
                "amount": "2000.00",
                "start": "2025-07-01",
                "end_inclusive": "2026-06-30",
                "distribution": [
                    {"period_id": "FP1", "amount": "1000.00"},
                    {"period_id": "FP2", "amount": "1000.00"},
                ],
            }
        ],
        "delivered": [
            {
                "id": "D1",
                "invoice_id": "INV-1",
                "category": "01",
                "management": "plan",
                "from": "2025-07-02",
                "to": "2025-07-02",
                "quantity": "1.5",
                "unit_price": "70.23",
                "amount": "105.35",
                "provider": "PROV-1",
                "item": "01_011_0107_1_1",
            }
        ],
        "notes": ["first note", "ünïcödé note"],
    }
    data.update(changes)
    return Contract.model_validate(data)


class ContractRepositoryContract(abc.ABC):
    """Behaviour every contract repository adapter must have."""

    @abc.abstractmethod
    def make_repository(self, tmp_path: Path) -> ContractRepository:
        """A new, empty repository (``tmp_path`` is a fresh directory for on-disk adapters)."""

    def reopen(self, repo: ContractRepository, tmp_path: Path) -> ContractRepository | None:
        """A second repository over the same storage (None: the adapter does not persist)."""
        return None

    @pytest.fixture
    def repo(self, tmp_path: Path) -> Iterator[ContractRepository]:
        """The repository under test, closed afterwards when it has ``close()``."""
        repository = self.make_repository(tmp_path)
        yield repository
        close = getattr(repository, "close", None)
        if callable(close):
            close()

    # -- get / save ---------------------------------------------------------------------------
    def test_get_missing_raises_contract_not_found(self, repo: ContractRepository) -> None:
        with pytest.raises(ContractNotFound) as info:
            repo.get("nope")
        assert isinstance(info.value, LookupError)
        assert isinstance(info.value, StoreError)

    def test_new_contract_round_trips_exactly(self, repo: ContractRepository) -> None:
        contract = sample_contract()
        stored = repo.save(contract, expected_version=None)
        assert stored == contract
        got = repo.get("C1")
        assert got == contract
        assert got.model_dump_json() == contract.model_dump_json()
        assert got.total is not None and got.total.cents == 999999999999

    def test_new_contract_keeps_its_version(self, repo: ContractRepository) -> None:
        stored = repo.save(sample_contract(version=7), expected_version=None)
        assert stored.version == 7
        assert repo.get("C1").version == 7

    def test_creating_an_existing_contract_is_stale(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        with pytest.raises(StaleContractError):
            repo.save(sample_contract(notes=["other"]), expected_version=None)
        assert repo.get("C1") == sample_contract()

    def test_update_bumps_the_version(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        changed = sample_contract(notes=["changed"])
        stored = repo.save(changed, expected_version=0)
        assert stored.version == 1
        assert repo.get("C1") == stored
        assert repo.get("C1").notes == ("changed",)
        assert repo.save(stored, expected_version=1).version == 2

    def test_stale_write_is_refused_and_changes_nothing(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        first = repo.save(sample_contract(notes=["first"]), expected_version=0)
        with pytest.raises(StaleContractError) as info:
            repo.save(sample_contract(notes=["second"]), expected_version=0)
        assert (info.value.expected, info.value.actual) == (0, 1)
        assert repo.get("C1") == first

    def test_update_of_a_missing_contract_is_stale(self, repo: ContractRepository) -> None:
        with pytest.raises(StaleContractError):
            repo.save(sample_contract(), expected_version=0)
        assert repo.ids() == []

    def test_saves_of_different_contracts_are_independent(self, repo: ContractRepository) -> None:
        repo.save(sample_contract("A"), expected_version=None)
        repo.save(sample_contract("B"), expected_version=None)
        repo.save(sample_contract("A", notes=["a"]), expected_version=0)
        assert repo.get("A").version == 1
        assert repo.get("B") == sample_contract("B")

    # -- ids / delete -------------------------------------------------------------------------
    def test_ids_are_sorted(self, repo: ContractRepository) -> None:
        assert repo.ids() == []
        for cid in ("b", "C/2", "a b", "Ä1", "a"):
            repo.save(sample_contract(cid), expected_version=None)
        assert repo.ids() == sorted(["b", "C/2", "a b", "Ä1", "a"])
        for cid in repo.ids():
            assert repo.get(cid).id == cid

    def test_delete(self, repo: ContractRepository) -> None:
        repo.save(sample_contract("A"), expected_version=None)
        repo.save(sample_contract("B"), expected_version=None)
        repo.delete("A")
        assert repo.ids() == ["B"]
        with pytest.raises(ContractNotFound):
            repo.get("A")
        with pytest.raises(ContractNotFound):
            repo.delete("A")

    def test_delete_checks_the_version(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        with pytest.raises(StaleContractError):
            repo.delete("C1", expected_version=3)
        assert repo.ids() == ["C1"]
        repo.delete("C1", expected_version=0)
        assert repo.ids() == []

    def test_recreate_after_delete(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        repo.delete("C1")
        assert repo.save(sample_contract(), expected_version=None) == sample_contract()

    # -- persistence --------------------------------------------------------------------------
    def test_reopened_store_holds_the_same_contracts(
        self, repo: ContractRepository, tmp_path: Path
    ) -> None:
        repo.save(sample_contract("A"), expected_version=None)
        stored = repo.save(sample_contract("A", notes=["x"]), expected_version=0)
        again = self.reopen(repo, tmp_path)
        if again is None:
            pytest.skip("the adapter does not persist")
        try:
            assert again.ids() == ["A"]
            assert again.get("A") == stored
            with pytest.raises(StaleContractError):
                again.save(sample_contract("A"), expected_version=0)
        finally:
            close = getattr(again, "close", None)
            if callable(close):
                close()
