"""Decisions as data: findings, draws, the explanation trace, and line / invoice decisions.

A line's outcome is ``error`` if any finding is an error, else ``warning`` if any is a warning,
else ``allowed`` (``info`` findings explain without flagging). An invoice's outcome is its worst
line. The draws of a line add up to its amount when it is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from .codes import FindingCode
from .money import Money

__all__ = [
    "Action",
    "BudgetRef",
    "Draw",
    "Finding",
    "InvoiceDecision",
    "LineDecision",
    "LinePart",
    "Outcome",
    "Severity",
    "TraceStep",
    "outcome_of",
]

Severity = Literal["error", "warning", "info"]
Outcome = Literal["error", "warning", "allowed"]
Action = Literal["create", "review", "reject"]

_RANK: dict[str, int] = {"allowed": 0, "info": 0, "warning": 1, "error": 2}
_OUTCOMES: tuple[Outcome, Outcome, Outcome] = ("allowed", "warning", "error")


def outcome_of(severities: Iterable[str]) -> Outcome:
    """The outcome for a set of finding severities (or outcomes): the worst of them.

    Examples:
        >>> outcome_of(["info", "warning"]), outcome_of([]), outcome_of(["warning", "error"])
        ('warning', 'allowed', 'error')
    """
    return _OUTCOMES[max((_RANK[s] for s in severities), default=0)]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's finding on a line: a stable code, its severity in this channel, a message
    rendered from the facts, and the facts themselves (all strings; money as ``"123.45"``).
    ``code`` is a rule code or a booking-planning code (:mod:`ndis_rules.codes`)."""

    code: FindingCode
    severity: Severity
    message: str
    facts: Mapping[str, str] = field(default_factory=dict)
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "facts": dict(self.facts),
        }
        if self.reference:
            out["reference"] = self.reference
        return out


@dataclass(frozen=True, slots=True)
class BudgetRef:
    """The budget a part of a line was charged to, exactly as the evaluation chose it: the
    category and management type of the category budget (or of the core flexible pool member),
    the funding period id where there is one, and the SPCB and support item budget ids where the
    part also counted against them. Everything after the decision copies it (saving, reports),
    never working it out again.

    Examples:
        >>> ref = BudgetRef("16", "plan", "FP2")
        >>> ref.key, ref.pool_key, ref.label
        ('16:plan', 'core_flexible:plan', '16:plan FP2')
    """

    category: str
    management: str
    period: str | None = None
    spcb: str | None = None
    support_item: str | None = None

    @property
    def key(self) -> str:
        """The category budget's name, ``"<category>:<management>"``, e.g. ``"01:plan"``."""
        return f"{self.category}:{self.management}"

    @property
    def pool_key(self) -> str:
        """The name of the core flexible pool of its management type."""
        return f"core_flexible:{self.management}"

    @property
    def label(self) -> str:
        """The key and the funding period, as messages show it: ``"01:plan FP2"``."""
        return f"{self.key} {self.period}" if self.period else self.key


@dataclass(frozen=True, slots=True)
class Draw:
    """Money a line charges to one budget: a category budget (``"01:plan"``) or, with ``pool``,
    the core flexible pool of its management type (``"core_flexible:plan"``), with the funding
    period where there is one. ``ref`` is the budget as decided; ``budget`` and ``period`` are
    its names in the JSON form."""

    ref: BudgetRef
    amount: Money
    pool: bool = False

    @property
    def budget(self) -> str:
        """``"01:plan"`` or ``"core_flexible:plan"``."""
        return self.ref.pool_key if self.pool else self.ref.key

    @property
    def period(self) -> str | None:
        """The funding period id (``None``: a budget without periods, or a draw on the pool as a
        whole)."""
        return self.ref.period

    @property
    def text(self) -> str:
        """``"140.46 from 01:plan FP2"`` (as reports show it)."""
        return f"{self.amount} from {self.budget}" + (f" {self.period}" if self.period else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"budget": self.budget, "period": self.period, "amount": str(self.amount)}


@dataclass(frozen=True, slots=True)
class LinePart:
    """The part of a line drawn in one funding period (a line that spans periods with
    ``claims_flexibility`` has several), as it is saved as a delivered service, with the budget
    it was charged to."""

    from_: date
    to: date
    quantity: Decimal
    amount: Money
    budget: BudgetRef

    @property
    def period(self) -> str | None:
        """The funding period id the part was drawn in."""
        return self.budget.period

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "from": self.from_.isoformat(),
            "to": self.to.isoformat(),
            "quantity": str(self.quantity),
            "amount": str(self.amount),
            "period": self.period,
            "category": self.budget.category,
            "management": self.budget.management,
            "spcb": self.budget.spcb,
            "support_item": self.budget.support_item,
        }


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One rule step evaluated for a line (filled only with ``explain=True``)."""

    rule: str
    outcome: str
    inputs: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rule": self.rule, "outcome": self.outcome, "inputs": dict(self.inputs)}


@dataclass(frozen=True, slots=True)
class LineDecision:
    """The decision on one claim line."""

    line_id: str
    outcome: Outcome
    action: Action
    amount: Money
    draws: tuple[Draw, ...]
    findings: tuple[Finding, ...]
    counts_against: tuple[str, ...] = ()
    parts: tuple[LinePart, ...] = ()
    trace: tuple[TraceStep, ...] = ()

    @property
    def codes(self) -> tuple[FindingCode, ...]:
        """The codes of the findings, in the order found."""
        return tuple(f.code for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as strings)."""
        out: dict[str, Any] = {
            "line_id": self.line_id,
            "outcome": self.outcome,
            "action": self.action,
            "amount": str(self.amount),
            "draws": [d.to_dict() for d in self.draws],
            "counts_against": list(self.counts_against),
            "parts": [p.to_dict() for p in self.parts],
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.trace:
            out["trace"] = [t.to_dict() for t in self.trace]
        return out


@dataclass(frozen=True, slots=True)
class InvoiceDecision:
    """The decision on an invoice: its worst line's outcome, one action, and every line."""

    invoice_id: str
    outcome: Outcome
    action: Action
    lines: tuple[LineDecision, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as strings)."""
        return {
            "invoice_id": self.invoice_id,
            "outcome": self.outcome,
            "action": self.action,
            "lines": [line.to_dict() for line in self.lines],
        }
