"""What one validation call shares (:class:`EvalContext`), the duplicate-check memory of a batch
(:class:`Seen`), and the findings, draws and parts of the line being evaluated
(:class:`LineWork`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from ..budgets import Consumption, ContractIndex
from ..channels import severity_for
from ..codes import CODES, Code, render
from ..itemchecks import CatalogueContext
from ..models import Channel, ProcessingMode, Settings
from ..money import Money
from ..outcomes import Draw, Finding, LinePart, Severity, TraceStep

if TYPE_CHECKING:
    from .prepare import PreparedContract

__all__ = ["Entry", "EvalContext", "InvoiceAction", "LineWork", "Seen", "money_text"]

#: What is being done with the invoice: it only changes which rule applies to a provider budget
#: shortfall (``undo_cancel``: ``UNDO_CANCEL_PROVIDER_BUDGET``). Every action re-validates against
#: current availability without the invoice's own earlier draws.
InvoiceAction = Literal["create", "edit", "clone", "undo_cancel"]


Entry = tuple[str, str | None]  # (what it is, for messages; the invoice id it belongs to)


@dataclass(slots=True)
class Seen:
    """Invoices and lines already entered, for the duplicate checks: the contract's saved ones
    (``base_*``, shared by every batch on a prepared contract; entries of the invoices being
    re-validated are ignored) and those earlier in this batch."""

    base_invoices: Mapping[tuple[str, ...], list[Entry]] = field(default_factory=dict)
    base_lines: Mapping[tuple[str, ...], list[Entry]] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    invoices: dict[tuple[str, ...], str] = field(default_factory=dict)
    lines: dict[tuple[str, ...], str] = field(default_factory=dict)

    def _base(
        self, table: Mapping[tuple[str, ...], list[Entry]], key: tuple[str, ...]
    ) -> str | None:
        for what, invoice_id in table.get(key, ()):
            if invoice_id is None or invoice_id not in self.ignore:
                return what
        return None

    def invoice(self, key: tuple[str, ...]) -> str | None:
        """The invoice already entered under this duplicate key, if any."""
        return self.invoices.get(key) or self._base(self.base_invoices, key)

    def line(self, key: tuple[str, ...]) -> str | None:
        """The line already entered with this key, if any."""
        return self.lines.get(key) or self._base(self.base_lines, key)


@dataclass(frozen=True, slots=True)
class EvalContext:
    """Everything one validation call shares across its lines, built once by
    :func:`~ndis_rules.rules.evaluate_batch`: the indexed contract, today, the channel, mode,
    settings and action, the catalogue, and the duplicate checks' memory."""

    index: ContractIndex
    as_of: date
    channel: Channel
    mode: ProcessingMode | None
    settings: Settings
    action: InvoiceAction
    explain: bool
    catalogue: CatalogueContext | None = None
    seen: Seen = field(default_factory=Seen)
    #: the earliest service date still claimable (NDIS Act s45A), computed once
    oldest: date = date.min
    prepared: PreparedContract | None = None


def money_text(x: Money) -> str:
    """Money as it appears in a finding's facts: ``"123.45"``."""
    return str(x)


@dataclass(slots=True)
class LineWork:
    """Findings, draws and trace of the line being evaluated."""

    ctx: EvalContext
    findings: list[Finding] = field(default_factory=list)
    draws: list[Draw] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
    counts_against: list[str] = field(default_factory=list)
    parts: list[LinePart] = field(default_factory=list)
    uses: list[Consumption] = field(default_factory=list)
    line_key: tuple[str, ...] | None = None

    def find(self, code: Code, facts: Mapping[str, str], severity: Severity | None = None) -> bool:
        """Add a finding; True when it is an error."""
        ctx = self.ctx
        sev = severity or severity_for(code, ctx.channel, ctx.mode, ctx.settings)
        if any(f.code == code and f.facts == facts for f in self.findings):
            return sev == "error"
        self.findings.append(
            Finding(code, sev, render(code, facts), dict(facts), CODES[code].source)
        )
        if ctx.explain:
            self.trace.append(TraceStep(f"finding.{code}", sev, dict(facts)))
        return sev == "error"

    def step(self, rule: str, outcome: str, **inputs: str) -> None:
        """Add a trace step (only when explaining)."""
        if self.ctx.explain:
            self.trace.append(TraceStep(rule, outcome, inputs))

    @property
    def failed(self) -> bool:
        """An error has been found."""
        return any(f.severity == "error" for f in self.findings)
