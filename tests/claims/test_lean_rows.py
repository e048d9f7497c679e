"""Less per-row work around the rules (issue 15), each shortcut against the general way:

* an invoice's decision wrapped around its line decisions (outcome, actions, the memory of
  entered invoice numbers) with the one-line and non-streamline shortcuts gives what the
  general wrapping (the code before the shortcuts, kept here as the reference) gives, in every
  channel and mode, fast path on and off, for whole invoices and one-line ones;
* ``check_claims(keep="flagged")`` (no row built for an allowed row) keeps exactly the flagged
  rows of ``keep="all"``, and the same summary;
* the spilled check with ``keep="flagged"`` never formats an allowed row and keeps what a
  renderer that drops allowed rows keeps; run files written in chunks come back in order.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndis_rules.bpr import parse_bpr
from ndis_rules.channels import base_action
from ndis_rules.claims import RowOutcome, check_claims
from ndis_rules.codes import CODES, render
from ndis_rules.files import catalogue as catalogue_files
from ndis_rules.itemchecks import CatalogueContext
from ndis_rules.models import Contract, Invoice
from ndis_rules.outcomes import Finding, InvoiceDecision, LineDecision, outcome_of
from ndis_rules.rules import evaluate as evaluate_module
from ndis_rules.rules import evaluate_batch
from ndis_rules.rules.claimchecks import invoice_key
from ndis_rules.rules.lines import evaluate_line
from ndis_rules.services import spill
from ndis_rules.services.spill import check_claims_spilled
from ndis_rules.testing import strategies as S

from ._bookgen import CATALOGUE_CSV, GEN


# -- the invoice wrapping -----------------------------------------------------------------------
def _reference_invoice_on(
    ctx: Any, ledger: Any, invoice: Invoice, fast: Any = None
) -> InvoiceDecision:
    """The wrapping as it was before the shortcuts (every channel the same way)."""
    if fast is not None and fast.enabled:
        fast.begin(invoice)
        decisions = [
            fast.decide(ledger, invoice, line) or evaluate_line(ctx, ledger, invoice, line)
            for line in invoice.lines
        ]
    else:
        decisions = [evaluate_line(ctx, ledger, invoice, line) for line in invoice.lines]
    if invoice.number and any(d.outcome != "error" for d in decisions):
        ctx.seen.invoices.setdefault(invoice_key(ctx, invoice.provider, invoice.number), invoice.id)
    automated = ctx.channel == "streamline" and ctx.mode == "automated"
    unapproved_lines = [
        automated
        and not evaluate_module._approved_provider(ctx.prepared, invoice.provider, line.item)
        for line in invoice.lines
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
    lines: tuple[LineDecision, ...] = tuple(
        evaluate_module._with_action(
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
    return InvoiceDecision(invoice.id, worst, "reject" if worst == "error" else ok_action, lines)


def _one_line_invoices(invoices: list[Invoice]) -> list[Invoice]:
    """Each line as an invoice of its own, keeping the invoice's number and provider (so the
    memory of entered numbers matters: the second of them is a duplicate invoice)."""
    return [
        inv.model_copy(update={"id": f"{inv.id}~{k}", "lines": (line,)})
        for inv in invoices
        for k, line in enumerate(inv.lines)
    ]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inputs=st.one_of(
        S.validation_inputs(),
        S.validation_inputs(allow_overdrawn=True),
        S.validation_inputs(with_catalogue=True),
    ),
    fast_path=st.booleans(),
    one_line=st.booleans(),
)
def test_invoice_wrapping_identical_to_the_general_one(
    inputs: S.ValidationInput, fast_path: bool, one_line: bool
) -> None:
    invoices = _one_line_invoices(list(inputs.invoices)) if one_line else list(inputs.invoices)
    kwargs: dict[str, Any] = {
        "as_of": inputs.as_of,
        "channel": inputs.channel,
        "mode": inputs.mode,
        "catalogue": inputs.catalogue,
        "fast_path": fast_path,
    }
    lean = evaluate_batch(inputs.contract, invoices, **kwargs)
    original = evaluate_module._evaluate_invoice_on
    evaluate_module._evaluate_invoice_on = _reference_invoice_on
    try:
        general = evaluate_batch(inputs.contract, invoices, **kwargs)
    finally:
        evaluate_module._evaluate_invoice_on = original
    assert [d.to_dict() for d in lean] == [d.to_dict() for d in general]
    assert lean == general


@pytest.mark.parametrize(("channel", "mode"), [("bulk_import", None), ("streamline", "disabled")])
def test_one_line_invoices_remember_their_numbers(channel: str, mode: str | None) -> None:
    """A one-line invoice that is not an error enters its number: a later invoice with the same
    number is a DUPLICATE_INVOICE; after an error line, it is not."""
    contract = Contract.model_validate(
        {
            "id": "C1",
            "start": "2025-07-01",
            "end_inclusive": "2026-06-30",
            "budgets": [{"category": "01", "management": "plan", "total": "150.00"}],
        }
    )

    def invoice(iid: str, number: str, quantity: str) -> Invoice:
        return Invoice.model_validate(
            {"id": iid, "number": number, "provider": "P1", "lines": [
                {"id": "L1", "from": "2025-08-04", "to": "2025-08-04",
                 "item": "01_011_0107_1_1", "quantity": quantity, "unit_price": "70.23"}]}
        )  # fmt: skip

    decisions = evaluate_batch(
        contract,
        [invoice("I1", "N1", "1"), invoice("I2", "N1", "1"), invoice("I3", "N2", "9"),
         invoice("I4", "N2", "1")],
        as_of=date(2025, 11, 15),
        channel=channel,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        fast_path=True,
    )  # fmt: skip
    codes = [d.lines[0].codes for d in decisions]
    assert "DUPLICATE_INVOICE" not in codes[0]
    assert "DUPLICATE_INVOICE" in codes[1]
    assert decisions[2].outcome == "error"  # 9 x 70.23 is more than is left
    assert "DUPLICATE_INVOICE" not in codes[3]
    expected_ok = "review" if mode == "disabled" else "create"
    assert [d.action for d in decisions] == [
        "reject" if d.outcome == "error" else expected_ok for d in decisions
    ]
    assert all(d.lines[0].action == d.action for d in decisions)


# -- keep="flagged" -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("lean-rows")
    rng = random.Random(11)
    abns = [GEN.abn(1000 + k) for k in range(GEN.PROVIDERS)]
    contracts = [GEN.contract(i, rng, abns, 20) for i in range(10)]
    paths = {}
    for mix in ("realistic", "pessimistic"):
        paths[mix] = tmp / f"claims-{mix}.csv"
        GEN.write_claims(paths[mix], 10, 400, abns, rng, mix)
    return {"contracts": contracts, "paths": paths}


@pytest.mark.parametrize("mix", ["realistic", "pessimistic"])
@pytest.mark.parametrize("with_catalogue", [False, True])
def test_keep_flagged_keeps_the_flagged_rows_and_the_summary(
    book: dict[str, Any], mix: str, with_catalogue: bool
) -> None:
    results = parse_bpr(book["paths"][mix].read_text(encoding="utf-8"))
    catalogue = (
        CatalogueContext(catalogue_files.load_csv(CATALOGUE_CSV), region="NSW", state="NSW")
        if with_catalogue
        else None
    )
    full = check_claims(results, book["contracts"], as_of=GEN.TODAY, catalogue=catalogue)
    flagged = check_claims(
        results, book["contracts"], as_of=GEN.TODAY, catalogue=catalogue, keep="flagged"
    )
    expected = [r for r in full.rows if r.outcome != "allowed"]
    assert 0 < len(expected) < len(full.rows)
    assert [r.to_dict() for r in flagged.rows] == [r.to_dict() for r in expected]
    assert list(flagged.rows) == expected
    assert flagged.summary == full.summary
    assert flagged.summary.to_dict() == full.summary.to_dict()


@pytest.mark.parametrize("spill_rows", [3, 50_000])
@pytest.mark.parametrize("workers", [1, 2])
def test_spilled_keep_flagged_formats_no_allowed_row(
    book: dict[str, Any], spill_rows: int, workers: int
) -> None:
    path = book["paths"]["pessimistic"]
    seen: list[str] = []

    def every(r: RowOutcome) -> str:
        seen.append(r.outcome)
        return f"{r.row} {r.outcome} {' '.join(r.codes)} {r.draws_text}"

    def flagged_only(r: RowOutcome) -> str | None:
        return every(r) if r.outcome != "allowed" else None

    def run(keep: str, render: Any) -> tuple[list[str], Any]:
        with check_claims_spilled(
            path,
            book["contracts"],
            as_of=GEN.TODAY,
            render=render,
            keep=keep,  # type: ignore[arg-type]
            spill_rows=spill_rows,
            workers=workers,
        ) as report:
            return list(report.rows()), report.summary

    rows_all, summary_all = run("all", flagged_only)
    seen.clear()
    rows_flagged, summary_flagged = run("flagged", every)
    assert rows_flagged == rows_all
    assert summary_flagged == summary_all
    assert summary_all.allowed > 0 and summary_all.warnings + summary_all.errors > 0
    if workers == 1:  # the renderer runs in this process
        assert seen and "allowed" not in seen


def test_run_files_come_back_in_order(tmp_path: Path) -> None:
    """Runs longer than a chunk, merged (also in rounds, when there are more than the fan-in)."""
    folder = spill._Folder(tmp_path)
    runs = []
    for k in range(spill._FAN_IN + 3):
        items = [(row, f"r{row}") for row in range(k, 3 * spill._RUN_CHUNK + k * 7, 5)]
        path = folder.new("run")
        spill._write_run(path, items)
        assert list(spill._run_items(path)) == items
        runs.append(path)
    merged = list(spill._merged(runs, folder))
    expected = sorted(
        (row, f"r{row}")
        for k in range(spill._FAN_IN + 3)
        for row in range(k, 3 * spill._RUN_CHUNK + k * 7, 5)
    )
    assert merged == [text for _, text in expected]
    one = folder.new("run")
    spill._write_run(one, [(1, "a"), (2, "b")])
    assert list(spill._merged([one], folder)) == ["a", "b"]


def test_rows_built_from_drafts_are_frozen_row_outcomes(book: dict[str, Any]) -> None:
    """``_decided`` builds each row as a draft turned into a RowOutcome: the same fields (a
    guard at import), equal to the RowOutcome built field by field, frozen, hashable and
    picklable like one."""
    import dataclasses
    import pickle

    from ndis_rules import claims

    assert [f.name for f in dataclasses.fields(claims._RowOutcomeDraft)] == [
        f.name for f in dataclasses.fields(RowOutcome)
    ]
    results = parse_bpr(book["paths"]["pessimistic"].read_text(encoding="utf-8"))
    report = check_claims(results, book["contracts"], as_of=GEN.TODAY)
    decided = [r for r in report.rows if r.decision is not None]
    assert decided
    for r in decided[:50]:
        assert type(r) is RowOutcome
        copy = RowOutcome(**{f.name: getattr(r, f.name) for f in dataclasses.fields(RowOutcome)})
        assert r == copy and hash(r) == hash(copy) and r.to_dict() == copy.to_dict()
        assert pickle.loads(pickle.dumps(r)) == r
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.outcome = "error"  # type: ignore[misc]
