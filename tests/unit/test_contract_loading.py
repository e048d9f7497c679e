"""Loading a book of contracts fast without validating less: the SQLite store read with one
query (each row validated as ``get`` validates it), and the models' leaf values (dates, money,
quantities, categories) parsed once per distinct text."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ndis_rules import models, money
from ndis_rules.adapters.sqlite_store import SqliteContractRepository
from ndis_rules.errors import InputError, StoreIntegrityError
from ndis_rules.files.contracts import load_contracts
from ndis_rules.models import Contract, FundingPeriod, SupportItemBudget
from ndis_rules.testing.contracts import sample_contract


def _store(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "contracts.db"
    with SqliteContractRepository(path) as repo:
        for i in range(n):
            repo.save(
                sample_contract(f"C{i}", participant=f"43000000{i}"), expected_version=None
            )
    return path


def _set_body(path: Path, contract_id: str, body: str) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE contracts SET body = ? WHERE id = ?", (body, contract_id))
    db.commit()
    db.close()


def test_all_contracts_is_get_of_every_id_in_id_order(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with SqliteContractRepository(path) as repo:
        one_by_one = [repo.get(i) for i in repo.ids()]
        together = list(repo.all_contracts())
    assert [c.id for c in together] == ["C0", "C1", "C2", "C3"]
    assert together == one_by_one
    assert [c.model_dump() for c in together] == [c.model_dump() for c in one_by_one]
    assert load_contracts(path) == one_by_one


def test_a_bad_row_among_good_ones_is_the_error_get_gives_naming_the_contract(
    tmp_path: Path,
) -> None:
    path = _store(tmp_path)
    _set_body(path, "C2", '{"id": "C2", "start": "2025-07-01", "total": 1.5}')
    with SqliteContractRepository(path) as repo:
        with pytest.raises(StoreIntegrityError) as by_get:
            repo.get("C2")
        with pytest.raises(StoreIntegrityError) as by_all:
            list(repo.all_contracts())
    assert str(by_all.value) == str(by_get.value)
    assert "contract C2" in str(by_all.value)
    with pytest.raises(InputError, match=r"cannot read the contract store: contract C2 .*"
                       r"not a valid contract") as loaded:
        load_contracts(path)
    assert "end_inclusive" in str(loaded.value)  # the field the text lacks


def test_a_row_whose_json_disagrees_with_its_columns_is_refused(tmp_path: Path) -> None:
    path = _store(tmp_path)
    body = sample_contract("C9", participant="430000001").model_dump_json(by_alias=True)
    _set_body(path, "C1", body)
    with pytest.raises(InputError, match=r"contract C1 .*the stored JSON says id C9"):
        load_contracts(path)


def test_a_date_or_amount_refused_once_is_refused_every_time() -> None:
    good = {"id": "FP", "start": "2025-07-01", "end_inclusive": "2025-07-31", "amount": "1.50"}
    assert FundingPeriod.model_validate(good).amount == money.Money(150)
    for _ in range(3):
        with pytest.raises(ValidationError, match="no such date"):
            FundingPeriod.model_validate({**good, "start": "2025-02-30"})
        with pytest.raises(ValidationError, match="not an amount of money"):
            FundingPeriod.model_validate({**good, "amount": "1.505"})
        with pytest.raises(ValidationError, match="unknown support category"):
            SupportItemBudget.model_validate(
                {"id": "S", "item": "01_011_0107_1_1", "category": "22",
                 "quantity": "1", "rate": "1.00"}
            )
    # ... and an accepted text gives the same value wherever it is read
    again = Contract.model_validate_json(sample_contract().model_dump_json(by_alias=True))
    assert again == sample_contract()
    assert models._DATES["2025-07-01"] == date(2025, 7, 1)
    assert money._PARSED["1.50"] == money.Money(150)


def test_the_leaf_values_are_normalised_as_without_the_memo() -> None:
    item = {"id": "S", "item": "01_011_0107_1_1", "quantity": " 2.50 ", "rate": "3"}
    for _ in range(2):  # the second read comes from the memo
        a = SupportItemBudget.model_validate({**item, "category": "1"})
        b = SupportItemBudget.model_validate({**item, "category": 1})
        assert a.category == b.category == "01"
        assert a.quantity == Decimal("2.50") and str(a.quantity) == "2.50"
        assert a.rate == money.Money(300)


def test_the_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_MEMO_LIMIT", 5)
    monkeypatch.setattr(money, "_MEMO_LIMIT", 5)
    monkeypatch.setattr(models, "_DATES", {})
    monkeypatch.setattr(money, "_PARSED", {})
    for day in range(1, 29):
        p = FundingPeriod.model_validate(
            {"id": "P", "start": f"2025-07-{day:02d}", "end_inclusive": "2025-07-28",
             "amount": f"{day}.00"}
        )
        assert p.start == date(2025, 7, day) and p.amount == money.Money(day * 100)
        assert len(models._DATES) <= 5
        assert len(money._PARSED) <= 5
    assert models._DATES and money._PARSED


def _line_key_before(claim_type: str, reason: str | None, gst: str | None, from_: date,
                     to: date, category: str, item: str, quantity: Decimal | None,
                     unit_price: money.Money | None) -> tuple[str, ...]:
    """rules.prepare.line_key as it was written before its amounts' text was remembered."""
    return (claim_type.strip().upper(), (reason or "").strip().upper(), (gst or "").strip(),
            str(from_), str(to), category, item.strip(),
            str(quantity.normalize()) if quantity is not None else "", str(unit_price))


@settings(max_examples=300, deadline=None)
@given(
    st.text(" cancANC", max_size=5), st.none() | st.text(" abNO", max_size=4),
    st.none() | st.text(" P2", max_size=3), st.dates(), st.dates(), st.text(max_size=3),
    st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.none() | st.integers(-10**12, 10**12).map(money.Money),
)
def test_line_key_is_what_it_was(claim_type: str, reason: str | None, gst: str | None,
                                 start: date, end: date, item: str, quantity: Decimal | None,
                                 unit_price: money.Money | None) -> None:
    from ndis_rules.rules.prepare import line_key

    args = (claim_type, reason, gst, start, end, "01", item, quantity, unit_price)
    assert line_key(*args) == _line_key_before(*args)
    assert line_key(*args) == _line_key_before(*args)  # the remembered text


def test_a_loaded_book_is_handed_to_the_oldest_generation_and_nothing_stays_frozen(
    tmp_path: Path,
) -> None:
    import gc

    path = _store(tmp_path, 2)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    loaded = load_contracts(path)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.get_count()[0] < 100  # no young collection pending over the book
    assert any(o is loaded[0] for o in gc.get_objects(generation=2))
    gc.disable()
    try:
        load_contracts(path)
    finally:
        assert not gc.isenabled()  # the caller's pause is left as it was
        gc.enable()


def test_what_a_caller_froze_stays_frozen(tmp_path: Path) -> None:
    import gc

    path = _store(tmp_path, 2)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert load_contracts(path)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
