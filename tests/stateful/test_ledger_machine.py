"""A stateful test: a contract driven through submit, cancel, undo cancel, edit, clone and the
passing of time, checked after every step against a plain model of the money (what each saved
invoice drew, and from which category budget), and against the no-overdraw invariants.

Lines are validated with a catalogue in which some items' PACE category differs from their
number's prefix (``01_050_0115_1_1`` is category 16), so saving a line against any budget but the
one its decision drew from is caught."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from ndis_rules import (
    Contract,
    Invoice,
    cancel_invoice,
    change_provider,
    clone_invoice,
    evaluate_invoice,
    record_invoice,
)
from ndis_rules.testing.oracle import overdraw_problems
from ndis_rules.testing.strategies import catalogue, contracts, invoices

CATALOGUE = catalogue()


class LedgerMachine(RuleBasedStateMachine):
    saved = Bundle("saved")
    cancelled = Bundle("cancelled")

    def __init__(self) -> None:
        super().__init__()
        self.contract: Contract
        self.today: date
        self.model: dict[str, int] = {}  # invoice id -> cents drawn (independent of the engine)
        #: invoice id -> cents drawn per (category, management), as the decision drew them
        self.drawn_from: dict[str, Counter[tuple[str, str]]] = {}
        self.invoices: dict[str, Invoice] = {}
        self.counter = 0
        self.spcb_may_overdraw = False

    @initialize(contract=contracts(with_catalogue=True), offset=st.integers(0, 200))
    def start(self, contract: Contract, offset: int) -> None:
        self.contract = contract.model_copy(update={"active": True})
        self.today = contract.start + timedelta(days=offset)
        self.base = sum(d.amount.cents for d in self.contract.delivered if d.status == "active")

    def _submit(self, inv: Invoice, action: str = "create") -> bool:
        decision = evaluate_invoice(
            self.contract,
            inv,
            as_of=self.today,
            action=action,  # type: ignore[arg-type]
            catalogue=CATALOGUE,
        )
        drawn = sum(d.amount.cents for ld in decision.lines for d in ld.draws)
        allowed = sum(ld.amount.cents for ld in decision.lines if ld.outcome != "error")
        assert drawn == allowed
        if any(
            f.code == "UNDO_CANCEL_PROVIDER_BUDGET" and f.severity == "warning"
            for ld in decision.lines
            for f in ld.findings
        ):
            self.spcb_may_overdraw = True
        self.contract = record_invoice(self.contract, inv, decision)
        self.model[inv.id] = drawn
        self.drawn_from[inv.id] = Counter()
        for ld in decision.lines:
            for d in ld.draws:
                self.drawn_from[inv.id][(d.ref.category, d.ref.management)] += d.amount.cents
        self.invoices[inv.id] = inv
        return drawn > 0

    @rule(target=saved, data=st.data())
    def submit(self, data: st.DataObject) -> object:
        self.counter += 1
        [inv] = data.draw(
            invoices(self.contract, n=1, id_prefix=f"S{self.counter}-", catalogue_items=True)
        )
        self._submit(inv)
        return inv.id

    @rule(target=cancelled, invoice_id=consumes(saved))
    def cancel(self, invoice_id: str) -> str:
        self.contract = cancel_invoice(self.contract, invoice_id)
        self.model[invoice_id] = 0
        return invoice_id

    @rule(target=saved, invoice_id=consumes(cancelled))
    def undo_cancel(self, invoice_id: str) -> str:
        self._submit(self.invoices[invoice_id], "undo_cancel")
        return invoice_id

    @rule(target=saved, invoice_id=consumes(saved), provider=st.sampled_from(["P1", "P2", "P3"]))
    def edit_provider(self, invoice_id: str, provider: str) -> object:
        self._submit(change_provider(self.invoices[invoice_id], provider), "edit")
        return invoice_id

    @rule(target=saved, invoice_id=saved)
    def clone(self, invoice_id: str) -> object:
        self.counter += 1
        copy = clone_invoice(self.invoices[invoice_id], f"C{self.counter}")
        self._submit(copy, "clone")
        return multiple(copy.id)

    @rule(days=st.integers(1, 60))
    def advance_clock(self, days: int) -> None:
        self.today += timedelta(days=days)

    @invariant()
    def money_matches_the_model(self) -> None:
        if not hasattr(self, "contract"):
            return
        active = sum(d.amount.cents for d in self.contract.delivered if d.status == "active")
        assert active == self.base + sum(self.model.values())

    @invariant()
    def saved_against_the_budgets_drawn(self) -> None:
        if not hasattr(self, "contract"):
            return
        for invoice_id, drawn in self.drawn_from.items():
            saved: Counter[tuple[str, str]] = Counter()
            for d in self.contract.delivered:
                if d.invoice_id == invoice_id and d.status == "active":
                    saved[(d.category, d.management)] += d.amount.cents
            if self.model[invoice_id]:  # not cancelled
                assert +saved == +drawn, invoice_id

    @invariant()
    def nothing_overdrawn(self) -> None:
        if not hasattr(self, "contract"):
            return
        problems = overdraw_problems(self.contract, self.today, rollover=True)
        if self.spcb_may_overdraw:
            problems = [p for p in problems if not p.startswith("SPCB")]
        assert problems == []


LedgerMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=12, deadline=None)
TestLedger = LedgerMachine.TestCase
