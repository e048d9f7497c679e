"""A stateful test of the book's lifecycle: lines recorded, submitted, paid (in full or capped),
rejected, cancelled and recorded again after a correction, in any order hypothesis finds,
checked after every step against a plain model of the money: recorded - released = what the
budgets show (the contract's active delivered services, and the report)."""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ndis_rules.adapters.book_memory import InMemoryBookStore
from ndis_rules.book import LineKey, drawn_by
from ndis_rules.bpr import COLUMNS, parse_bpr
from ndis_rules.models import Contract
from ndis_rules.money import Money, line_amount
from ndis_rules.services.book import Book

TODAY = date(2025, 12, 1)
ABN = "51824753556"
PARTICIPANT = "431234567"
HEADER = ",".join(COLUMNS)
RESULTS_HEADER = (
    "ClaimReference,NDISNumber,SupportNumber,SupportsDeliveredFrom,SupportsDeliveredTo,"
    "Payment Request Status,Paid Total Amount,Capped Price,Error Message"
)


def _row(reference: str, quantity: int, price: str) -> str:
    return (
        f"4050000001,{PARTICIPANT},2025/11/03,2025/11/03,01_011_0107_1_1,{reference},"
        f"{quantity},,{price},P2,,,,,,{ABN}"
    )


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = Book(InMemoryBookStore(), now=lambda: "2025-12-01T09:00:00+11:00")
        contract = Contract.model_validate(
            {
                "id": "C1",
                "participant": PARTICIPANT,
                "start": "2025-07-01",
                "end_inclusive": "2026-06-30",
                "budgets": [{"category": "01", "management": "plan", "total": "1000000.00"}],
            }
        )
        self.book.import_contracts([contract], source_digest="c")
        #: the model: per key, (state, amount, paid) and the row's cells
        self.model: dict[str, tuple[str, Money, Money | None]] = {}
        self.rows: dict[str, str] = {}
        self.n = 0
        self.uploads = 0

    def _keys(self, *states: str) -> list[str]:
        return sorted(k for k, (s, _, _) in self.model.items() if s in states)

    @rule(quantity=st.integers(1, 9), cents=st.integers(1, 20000))
    def record(self, quantity: int, cents: int) -> None:
        self.n += 1
        price = str(Money(cents))
        row = _row(f"R{self.n}", quantity, price)
        outcome = self.book.check(
            parse_bpr(HEADER + "\n" + row), today=TODAY, record=True, file_digest=row
        )
        key = f"{ABN}/R{self.n}/1"
        assert [r.status for r in outcome.rows] == ["recorded"]
        self.model[key] = ("recorded", line_amount(Decimal(quantity), Money(cents)), None)
        self.rows[key] = row

    @precondition(lambda self: self.rows)
    @rule(data=st.data())
    def record_again(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.rows)))
        outcome = self.book.check(
            parse_bpr(HEADER + "\n" + self.rows[key]), today=TODAY, record=True, file_digest="x"
        )
        assert [r.status for r in outcome.rows] == ["already"]  # never twice

    @precondition(lambda self: self._keys("rejected", "cancelled"))
    @rule(data=st.data(), cents=st.integers(1, 20000))
    def correct_and_record(self, data: st.DataObject, cents: int) -> None:
        key = data.draw(st.sampled_from(self._keys("rejected", "cancelled")))
        reference = LineKey.parse(key).reference
        self.n += 1  # every correction has a price no row had before: a changed line
        price = Money(cents + 20000 * self.n)
        row = _row(reference, 1, str(price))
        outcome = self.book.check(
            parse_bpr(HEADER + "\n" + row), today=TODAY, record=True, file_digest=row
        )
        assert [r.status for r in outcome.rows] == ["recorded"]
        self.model[key] = ("recorded", price, None)
        self.rows[key] = row

    @rule()
    def submit(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            result = self.book.submit(Path(d) / "up")
        assert sorted(k.text for k in result.keys) == self._keys("recorded")
        for k in self._keys("recorded"):
            _, amount, paid = self.model[k]
            self.model[k] = ("submitted", amount, paid)

    @precondition(lambda self: self._keys("submitted"))
    @rule(data=st.data(), how=st.sampled_from(["paid", "capped", "rejected"]))
    def result(self, data: st.DataObject, how: str) -> None:
        key = data.draw(st.sampled_from(self._keys("submitted")))
        _, amount, _ = self.model[key]
        cells = self.rows[key].split(",")
        paid = amount if how == "paid" else Money(amount.cents // 2)
        status = "ERROR" if how == "rejected" else "SUCCESSFUL"
        line = (
            f"{cells[5]},{PARTICIPANT},{cells[4]},2025/11/03,2025/11/03,{status},"
            f"{'' if how == 'rejected' else paid},{'Y' if how == 'capped' else 'N'},"
            f"{'C20 - amount' if how == 'rejected' else ''}"
        )
        text = RESULTS_HEADER + "\n" + line
        outcome = self.book.results(text)
        assert [m.kind for m in outcome.matches] == ["matched"]
        again = self.book.results(text)
        assert [m.kind for m in again.matches] == ["already"]  # the same file twice
        self.model[key] = (
            ("rejected", amount, None) if how == "rejected" else ("paid", amount, paid)
        )

    @precondition(lambda self: self._keys("recorded", "submitted"))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self._keys("recorded", "submitted")))
        self.book.cancel([LineKey.parse(key)])
        _, amount, _ = self.model[key]
        self.model[key] = ("cancelled", amount, None)

    @invariant()
    def recorded_minus_released_is_what_the_budgets_show(self) -> None:
        snap = self.book.snapshot()
        expected = sum(drawn_by(s, a, p).cents for s, a, p in self.model.values())  # type: ignore[arg-type]
        contract = snap.contracts["C1"]
        shown = sum(d.amount.cents for d in contract.delivered if d.status == "active")
        assert shown == expected
        (row,) = self.book.report(TODAY)
        assert row.recorded.cents + row.submitted.cents + row.paid.cents == expected
        assert row.available.cents == 100000000 - expected
        assert {k.text: line.state for k, line in snap.lines.items()} == {
            k: s for k, (s, _, _) in self.model.items()
        }


BookMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestBookMachine = BookMachine.TestCase
