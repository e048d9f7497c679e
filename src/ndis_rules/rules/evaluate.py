"""Validating invoices and batches against one contract (spec/validation.md section 4): lines
of an invoice, and invoices of a batch, in order, each against the availability left by the lines
before it that were not errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Final

from dateutil.relativedelta import relativedelta

from ..budgets import Ledger
from ..channels import base_action
from ..codes import CODES, render
from ..errors import InputError
from ..itemchecks import CatalogueContext
from ..models import Channel, Contract, Invoice, ProcessingMode, Settings
from ..outcomes import Action, Finding, InvoiceDecision, LineDecision, outcome_of
from ..periods import checked_day
from .claimchecks import invoice_key
from .context import EvalContext, InvoiceAction, Seen
from .fast import FastPath, FastPathStats
from .lines import evaluate_line
from .prepare import PreparedContract, prepare

__all__ = ["BatchRun", "evaluate_batch", "evaluate_invoice"]


_DEFAULT_SETTINGS: Final = Settings()


@lru_cache(maxsize=64)
def _oldest(as_of: date) -> date:
    """The earliest service date still claimable on ``as_of`` (NDIS Act s45A: two years)."""
    return as_of - relativedelta(years=2)


def _approved_provider(prepared: PreparedContract | None, provider: str, item: str) -> bool:
    assert prepared is not None
    if provider in prepared.index.providers_on_contract:
        return True
    return (provider, item.strip()) in prepared.paid_items


def _with_action(decision: LineDecision, action: Action) -> LineDecision:
    """The decision with ``action`` (itself when it has it already: most lines)."""
    return decision if decision.action == action else replace(decision, action=action)


def _check_mode(channel: Channel, mode: ProcessingMode | None) -> ProcessingMode | None:
    if channel == "streamline":
        return mode or "manual"
    if mode is not None:
        raise InputError(
            f"processing mode {mode!r} applies only to the streamline channel, not {channel!r}",
            loc=("mode",),
        )
    return None


def _entered(ctx: EvalContext, invoice: Invoice) -> None:
    """The invoice was entered (one of its lines was not an error): its number now counts for
    ``DUPLICATE_INVOICE`` on the batch's later invoices."""
    if invoice.number:
        ctx.seen.invoices.setdefault(invoice_key(ctx, invoice.provider, invoice.number), invoice.id)


def _evaluate_invoice_on(
    ctx: EvalContext, ledger: Ledger, invoice: Invoice, fast: FastPath | None = None
) -> InvoiceDecision:
    if fast is not None and fast.enabled:
        # plain lines decided by the fast path, the others by the exact engine, in order
        fast.begin(invoice)
        decisions = [
            fast.decide(ledger, invoice, line) or evaluate_line(ctx, ledger, invoice, line)
            for line in invoice.lines
        ]
    else:
        decisions = [evaluate_line(ctx, ledger, invoice, line) for line in invoice.lines]
    if ctx.channel == "streamline" and ctx.mode == "automated":
        return _automated(ctx, invoice, decisions)
    # No line can be sent to review for its provider: a line's action follows its own outcome
    # alone (``ok`` for a line that is not an error), and so does the invoice's.
    ok = base_action(ctx.channel, ctx.mode, warned=False, unapproved_provider=False)
    if len(decisions) == 1:  # most invoices of a bulk file
        d = decisions[0]
        worst = d.outcome
        if worst != "error":
            _entered(ctx, invoice)
        action: Action = "reject" if worst == "error" else ok
        if d.action != action:
            d = replace(d, action=action)
        return InvoiceDecision(invoice.id, worst, action, (d,))
    if any(d.outcome != "error" for d in decisions):
        _entered(ctx, invoice)
    worst = outcome_of(d.outcome for d in decisions)
    lines = tuple(_with_action(d, "reject" if d.outcome == "error" else ok) for d in decisions)
    return InvoiceDecision(invoice.id, worst, "reject" if worst == "error" else ok, lines)


def _automated(
    ctx: EvalContext, invoice: Invoice, decisions: list[LineDecision]
) -> InvoiceDecision:
    """The invoice's decision in streamline automated mode, where a line whose provider is not
    approved for its item is sent to review; the invoice is when any of its lines is."""
    if any(d.outcome != "error" for d in decisions):
        _entered(ctx, invoice)
    unapproved_lines = [
        not _approved_provider(ctx.prepared, invoice.provider, line.item) for line in invoice.lines
    ]
    unapproved = any(unapproved_lines)
    if unapproved:
        f = Finding(
            "PROVIDER_NOT_APPROVED",
            "info",
            render("PROVIDER_NOT_APPROVED", {"provider": invoice.provider}),
            {"provider": invoice.provider},
            CODES["PROVIDER_NOT_APPROVED"].source,
        )
        decisions = [
            replace(d, findings=(*d.findings, f)) if flagged else d
            for d, flagged in zip(decisions, unapproved_lines, strict=True)
        ]
    worst = outcome_of(d.outcome for d in decisions)
    # Each line's own action is what would happen to that line on its own (validation.md §6);
    # the invoice's action decides what happens to the invoice.
    lines = tuple(
        _with_action(
            d,
            "reject"
            if d.outcome == "error"
            else base_action(
                ctx.channel, ctx.mode, warned=d.outcome == "warning", unapproved_provider=flagged
            ),
        )
        for d, flagged in zip(decisions, unapproved_lines, strict=True)
    )
    ok_action = base_action(
        ctx.channel, ctx.mode, warned=worst == "warning", unapproved_provider=unapproved
    )
    action: Action = "reject" if worst == "error" else ok_action
    return InvoiceDecision(invoice.id, worst, action, lines)


def evaluate_invoice(
    contract: Contract | PreparedContract,
    invoice: Invoice,
    *,
    as_of: date,
    channel: Channel = "service_entry",
    mode: ProcessingMode | None = None,
    settings: Settings | None = None,
    action: InvoiceAction = "create",
    explain: bool = False,
    catalogue: CatalogueContext | None = None,
    fast_path: bool | FastPathStats = True,
) -> InvoiceDecision:
    """Validate one invoice against a contract as of ``as_of`` (today).

    The invoice's own earlier delivered services (same invoice id) are released first, so an
    edit or re-validation never counts them against itself; a clone carries a new id and is
    validated as new. ``mode`` is the streamline processing mode (default ``manual``).
    ``fast_path`` as in :func:`evaluate_batch` (on; ``False`` turns it off).
    """
    return evaluate_batch(
        contract,
        [invoice],
        as_of=as_of,
        channel=channel,
        mode=mode,
        settings=settings,
        action=action,
        explain=explain,
        catalogue=catalogue,
        fast_path=fast_path,
    )[0]


def evaluate_batch(
    contract: Contract | PreparedContract,
    invoices: Sequence[Invoice],
    *,
    as_of: date,
    channel: Channel = "service_entry",
    mode: ProcessingMode | None = None,
    settings: Settings | None = None,
    action: InvoiceAction = "create",
    explain: bool = False,
    catalogue: CatalogueContext | None = None,
    fast_path: bool | FastPathStats = True,
) -> list[InvoiceDecision]:
    """Validate invoices in order against one contract; lines compete for the same money.

    ``contract`` may be a :class:`PreparedContract` (see :func:`prepare`) to validate many
    batches against one contract quickly. Returns one decision per invoice, in input order, each
    with one decision per line in order. Business outcomes never raise; a malformed argument
    raises :class:`InputError`.

    ``fast_path`` (on by default) decides plain lines with integer arithmetic over a compiled
    contract (:mod:`.fast`) and gives the others to the exact engine, in order: the decisions are
    identical either way (``tests/claims/test_fast_path.py`` proves it). ``fast_path=False``
    turns it off (every line through the exact engine); a :class:`~.fast.FastPathStats` turns
    it on and counts what it did.
    """
    ctx, ledger, fast = _start(
        contract,
        frozenset(inv.id for inv in invoices),
        as_of=as_of,
        channel=channel,
        mode=mode,
        settings=settings,
        action=action,
        explain=explain,
        catalogue=catalogue,
        fast_path=fast_path,
        reuse=True,
    )
    return [_evaluate_invoice_on(ctx, ledger, inv, fast) for inv in invoices]


def _start(
    contract: Contract | PreparedContract,
    batch_ids: frozenset[str],
    *,
    as_of: date,
    channel: Channel,
    mode: ProcessingMode | None,
    settings: Settings | None,
    action: InvoiceAction,
    explain: bool,
    catalogue: CatalogueContext | None,
    fast_path: bool | FastPathStats,
    reuse: bool,
) -> tuple[EvalContext, Ledger, FastPath | None]:
    """What a batch is decided with (:func:`evaluate_batch`, :class:`BatchRun`): its context,
    the ledger without the batch's earlier delivered services, and the fast path (``None``
    when off). ``reuse``: a prepared contract's compiled form is taken from an earlier call."""
    as_of = checked_day(as_of, "as_of")
    settings = settings or _DEFAULT_SETTINGS
    mode = _check_mode(channel, mode)
    reused = reuse and isinstance(contract, PreparedContract)
    prepared = contract if isinstance(contract, PreparedContract) else prepare(contract)
    ledger = prepared.ledger_without(batch_ids)
    seen = Seen(prepared.invoices(settings.duplicate_key), prepared.lines, batch_ids)
    ctx = EvalContext(
        prepared.index,
        as_of,
        channel,
        mode,
        settings,
        action,
        explain,
        catalogue,
        seen,
        oldest=_oldest(as_of),
        prepared=prepared,
    )
    fast: FastPath | None = None
    if fast_path is not False:
        # a prepared contract is validated again and again: its compiled form is reused
        stats = fast_path if isinstance(fast_path, FastPathStats) else None
        fast = FastPath(ctx, stats, reuse=reused)
    return ctx, ledger, fast


class BatchRun:
    """:func:`evaluate_batch`, an invoice (or part of one) at a time, for a batch too large to
    hold at once: one ledger and one record of what was entered are carried from call to call,
    so giving the batch's invoices in order gives the decisions :func:`evaluate_batch` gives.

    ``batch_ids``: the ids of *every* invoice of the batch, known before the first call (their
    earlier delivered services are released, as :func:`evaluate_batch` does). :meth:`invoice`
    decides a whole invoice; :meth:`lines` decides some lines of one (the next lines in order)
    and :meth:`close` ends it. Lines decided part by part carry the action of their own outcome
    (``reject`` or ``create``); that is the invoice's action on every channel but ``streamline``,
    which :meth:`lines` refuses (its actions depend on the whole invoice). ``fast_path`` as in
    :func:`evaluate_batch`.

    Examples:
        >>> c = Contract.model_validate({"id": "C", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30",
        ...     "budgets": [{"category": "01", "management": "plan", "total": "200.00"}]})
        >>> line = {"from": "2025-08-04", "to": "2025-08-04", "item": "01_011_0107_1_1",
        ...         "quantity": "2", "unit_price": "70.23"}
        >>> inv = Invoice.model_validate({"id": "I", "provider": "P", "lines": [
        ...     {**line, "id": "1"}, {**line, "id": "2", "quantity": "1"}]})
        >>> run = BatchRun(c, ["I"], as_of=date(2025, 11, 15))
        >>> first = run.lines(inv.model_copy(update={"lines": inv.lines[:1]}))
        >>> second = run.lines(inv.model_copy(update={"lines": inv.lines[1:]}))
        >>> run.close(inv, entered=True)
        >>> [d.outcome for d in first + second]
        ['allowed', 'error']
        >>> whole = evaluate_batch(c, [inv], as_of=date(2025, 11, 15))[0].lines
        >>> list(whole) == first + second
        True
    """

    __slots__ = ("_ctx", "_fast", "_ledger")

    def __init__(
        self,
        contract: Contract | PreparedContract,
        batch_ids: Iterable[str],
        *,
        as_of: date,
        channel: Channel = "service_entry",
        mode: ProcessingMode | None = None,
        settings: Settings | None = None,
        action: InvoiceAction = "create",
        explain: bool = False,
        catalogue: CatalogueContext | None = None,
        fast_path: bool | FastPathStats = True,
    ) -> None:
        self._ctx, self._ledger, self._fast = _start(
            contract,
            frozenset(batch_ids),
            as_of=as_of,
            channel=channel,
            mode=mode,
            settings=settings,
            action=action,
            explain=explain,
            catalogue=catalogue,
            fast_path=fast_path,
            reuse=False,
        )

    def invoice(self, invoice: Invoice) -> InvoiceDecision:
        """The next whole invoice of the batch (as :func:`evaluate_batch` decides it)."""
        return _evaluate_invoice_on(self._ctx, self._ledger, invoice, self._fast)

    def lines(self, part: Invoice) -> list[LineDecision]:
        """The next lines of an invoice (``part``: the invoice with just those lines); call
        :meth:`close` after its last part."""
        if self._ctx.channel == "streamline":
            raise InputError("a streamline invoice is decided whole", loc=("channel",))
        ctx, ledger, fast = self._ctx, self._ledger, self._fast
        if fast is not None and fast.enabled:  # as _evaluate_invoice_on: plain lines fast
            return [
                fast.decide(ledger, part, line) or evaluate_line(ctx, ledger, part, line)
                for line in part.lines
            ]
        return [evaluate_line(ctx, ledger, part, line) for line in part.lines]

    def close(self, invoice: Invoice, *, entered: bool) -> None:
        """End an invoice decided with :meth:`lines`; ``entered``: any of its lines was not an
        error (its number then counts for ``DUPLICATE_INVOICE`` on later invoices)."""
        if entered:
            _entered(self._ctx, invoice)
