"""The contract test suite of :class:`ndis_rules.ports.BookStore`: subclass
:class:`BookStoreContract`, implement :meth:`~BookStoreContract.make_store` (and ``reopen`` for a
persistent store), and pytest runs every behaviour against your adapter::

    class TestMyBook(BookStoreContract):
        def make_store(self, tmp_path):
            return MyBook(tmp_path / "book")

Needs pytest (extra ``ndis-rules[testing]``).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from ..book import (
    BookChanges,
    BookingRecord,
    BookLine,
    ChangeSetRecord,
    CheckBatch,
    JournalEntry,
    LineKey,
    PlanSnapshot,
    UploadFile,
)
from ..errors import BookRecordNotFound, StaleBookError, StaleContractError, StoreError
from ..money import Money
from ..ports import BookStore
from .contracts import sample_contract

__all__ = ["BookStoreContract", "sample_line"]


def _entry(operation: str = "test") -> JournalEntry:
    return JournalEntry(operation, "2025-11-15T09:00:00+11:00", "0.1.0", "digest", ("C1",), "ok")


def sample_line(number: int = 1, **changes: object) -> BookLine:
    """A recorded claim line of contract ``C1`` with awkward money (one cent over a dollar)."""
    line = BookLine(
        key=LineKey("51824753556", "INV/1", number),
        participant="430000001",
        contract_id="C1",
        state="recorded",
        amount=Money.parse("100.01"),
        item="01_011_0107_1_1",
        from_=date(2025, 8, 4),
        to=date(2025, 8, 4),
        cells=tuple(str(i) for i in range(16)),
        delivered_ids=(f"book:{number}:1",),
        batch_id="CK-1",
        row=number + 1,
    )
    return replace(line, **changes)  # type: ignore[arg-type]


def _batch() -> CheckBatch:
    return CheckBatch(
        "CK-1", "claims.csv", ((2, ("a", "b")),), {"C1": 0}, "{}", {}, date(2025, 11, 15), "0.1.0"
    )


class BookStoreContract(abc.ABC):
    """Every behaviour a book store must have."""

    @abc.abstractmethod
    def make_store(self, tmp_path: Path) -> BookStore:
        """A new, empty store."""

    def reopen(self, store: BookStore, tmp_path: Path) -> BookStore:
        """The same store opened again (persistent stores); the default returns it as it is."""
        return store

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[BookStore]:
        s = self.make_store(tmp_path)
        yield s
        s.close()

    def _seed(self, store: BookStore) -> int:
        return store.commit(
            BookChanges(
                _entry("seed"), contracts=((sample_contract("C1"), None),), batches=(_batch(),)
            ),
            0,
        )

    def test_a_new_book_is_empty_at_version_0(self, store: BookStore) -> None:
        snap = store.snapshot()
        assert (snap.version, dict(snap.contracts), dict(snap.lines)) == (0, {}, {})
        assert store.journal() == []

    def test_commit_writes_everything_and_counts_the_version(
        self, store: BookStore, tmp_path: Path
    ) -> None:
        assert self._seed(store) == 1
        snapshot = PlanSnapshot("PS-1", "PLAN-1", "430000001", "t", "d", "{}", "{}")
        record = ChangeSetRecord("CS-1", "C1", 0, "PS-1", "t", "{}")
        version = store.commit(
            BookChanges(
                _entry("all"),
                lines=(sample_line(1), sample_line(2)),
                snapshots=(snapshot,),
                change_sets=(record,),
                bookings=(BookingRecord("SB-1", "C1", "01:plan", None, "t"),),
                uploads=(UploadFile("bpr1_001.csv", "S1", "a,b\r\n"),),
            ),
            1,
        )
        assert version == 2
        store = self.reopen(store, tmp_path)
        snap = store.snapshot()
        assert snap.version == 2
        assert snap.contracts["C1"] == sample_contract("C1")
        assert snap.lines[LineKey("51824753556", "INV/1", 2)] == sample_line(2)
        assert store.change_set("CS-1") == record
        assert store.plan_snapshots("PLAN-1") == [snapshot]
        assert store.plan_snapshot("PS-1") == snapshot
        assert store.batch("CK-1") == _batch()
        assert [b.booking_id for b in store.bookings()] == ["SB-1"]
        assert store.uploads("S1") == [UploadFile("bpr1_001.csv", "S1", "a,b\r\n")]
        assert [(j.seq, j.operation) for j in store.journal()] == [(1, "seed"), (2, "all")]

    def test_money_is_exact_to_the_cent(self, store: BookStore, tmp_path: Path) -> None:
        self._seed(store)
        paid = sample_line(1, state="paid", paid_amount=Money.parse("9999999999.99"))
        store.commit(BookChanges(_entry(), lines=(paid,)), 1)
        line = self.reopen(store, tmp_path).snapshot().lines[paid.key]
        assert line.paid_amount == Money.parse("9999999999.99")
        assert line.amount == Money.parse("100.01")

    def test_a_stale_commit_writes_nothing(self, store: BookStore) -> None:
        self._seed(store)
        with pytest.raises(StaleBookError):
            store.commit(BookChanges(_entry("late"), lines=(sample_line(),)), 0)
        snap = store.snapshot()
        assert snap.version == 1 and not snap.lines
        assert [j.operation for j in store.journal()] == ["seed"]

    def test_a_stale_contract_refuses_the_whole_commit(self, store: BookStore) -> None:
        self._seed(store)
        newer = sample_contract("C1").model_copy(update={"version": 6})
        with pytest.raises(StaleContractError):
            store.commit(
                BookChanges(_entry(), contracts=((newer, 5),), lines=(sample_line(),)), 1
            )
        with pytest.raises(StaleContractError):  # a new contract whose id is taken
            store.commit(BookChanges(_entry(), contracts=((sample_contract("C1"), None),)), 1)
        snap = store.snapshot()
        assert snap.version == 1 and not snap.lines and snap.contracts["C1"].version == 0

    def test_contract_versions_are_kept(self, store: BookStore) -> None:
        self._seed(store)
        v1 = sample_contract("C1").model_copy(update={"version": 1, "notes": ("changed",)})
        store.commit(BookChanges(_entry(), contracts=((v1, 0),)), 1)
        assert store.contract_at("C1", 0) == sample_contract("C1")
        assert store.contract_at("C1", 1) == v1
        with pytest.raises(BookRecordNotFound):
            store.contract_at("C1", 7)

    def test_a_line_is_one_row_per_key_with_its_history(self, store: BookStore) -> None:
        self._seed(store)
        store.commit(BookChanges(_entry(), lines=(sample_line(),)), 1)
        later = sample_line(state="submitted", bpr_file="bpr2_001.csv")
        store.commit(BookChanges(_entry(), lines=(later,)), 2)
        lines = store.snapshot().lines
        assert list(lines.values()) == [later]

    def test_unknown_records_are_typed_errors(self, store: BookStore) -> None:
        for call in (
            lambda: store.change_set("CS-none"),
            lambda: store.batch("CK-none"),
            lambda: store.plan_snapshot("PS-none"),
        ):
            with pytest.raises(BookRecordNotFound):
                call()
        assert store.uploads("S-none") == []

    def test_a_closed_store_raises_a_store_error(self, tmp_path: Path) -> None:
        s = self.make_store(tmp_path)
        s.close()
        with pytest.raises(StoreError):
            s.snapshot()
