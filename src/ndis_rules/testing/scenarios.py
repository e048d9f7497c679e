"""Executable scenarios: a contract, today, a channel, invoices, and the expected result per line.

The format is documented in ``docs/scenarios.md``. A scenario file is YAML (or JSON) holding one
scenario (a mapping) or several (a list, or a mapping with a ``scenarios:`` list). Expected keys
left out are not checked. Scenarios run through the public API, exactly as an integrator would.

Examples:
    >>> text = '''
    ... name: one allowed line
    ... today: 2025-09-01
    ... contract:
    ...   id: C1
    ...   start: 2025-07-01
    ...   end_inclusive: 2026-06-30
    ...   budgets: [{category: "01", management: plan, total: "500.00"}]
    ... invoices:
    ...   - id: INV1
    ...     provider: P1
    ...     lines:
    ...       - {id: L1, from: 2025-08-04, to: 2025-08-04, item: 01_011_0107_1_1,
    ...          quantity: "2", unit_price: "70.23"}
    ... expect:
    ...   lines:
    ...     L1: {outcome: allowed, draws: [{budget: "01:plan", amount: "140.46"}]}
    ... '''
    >>> [scenario] = parse_scenarios(text, source="example.yaml")
    >>> run_scenario(scenario).mismatches
    []
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..catalogue import Catalogue
from ..daytypes import HolidayList
from ..errors import InputError, input_error_from
from ..files.catalogue import load_editions
from ..files.documents import load_yaml_or_json as _yaml_load
from ..files.documents import read_text
from ..itemchecks import CatalogueContext
from ..models import Channel, Contract, Invoice, IsoDate, ProcessingMode, Settings
from ..money import Money
from ..outcomes import InvoiceDecision, LineDecision
from ..rules import InvoiceAction, cancel_invoice, evaluate_batch, record_invoice

__all__ = [
    "DrawExpectation",
    "LineExpectation",
    "Scenario",
    "ScenarioResult",
    "load_scenario_file",
    "parse_scenarios",
    "run_scenario",
    "run_scenario_file",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DrawExpectation(_Strict):
    """An expected draw: budget (``"01:plan"``, ``"core_flexible:plan"``), amount, and the
    funding period (left out: not checked)."""

    budget: str
    amount: Money
    period: str | None = None


class LineExpectation(_Strict):
    """What is expected of one line; a key left out is not checked."""

    outcome: Literal["allowed", "warning", "error"] | None = None
    action: Literal["create", "review", "reject"] | None = None
    codes: list[str] | None = Field(default=None, description="exactly these codes (in any order)")
    codes_include: list[str] | None = Field(default=None, description="at least these codes")
    draws: list[DrawExpectation] | None = Field(
        default=None, description="exactly these draws (in any order)"
    )
    amount: Money | None = None
    severities: dict[str, Literal["error", "warning", "info"]] | None = Field(
        default=None, description="code -> expected severity"
    )


class InvoiceExpectation(_Strict):
    """What is expected of one invoice."""

    outcome: Literal["allowed", "warning", "error"] | None = None
    action: Literal["create", "review", "reject"] | None = None


class Expect(_Strict):
    """Expected results per line id (``L1``, or ``INV1/L1`` where line ids repeat) and per
    invoice id."""

    lines: dict[str, LineExpectation] = Field(default_factory=dict)
    invoices: dict[str, InvoiceExpectation] = Field(default_factory=dict)


class HistoryStep(_Strict):
    """A step run before the scenario's invoices: record an invoice (validated as of today in the
    scenario's channel; its non-error lines become delivered services) or cancel one."""

    record: Invoice | None = None
    cancel: str | None = None


class Scenario(_Strict):
    """One executable scenario (see ``docs/scenarios.md``)."""

    kind: Literal["validation"] = "validation"
    name: str = Field(min_length=1)
    reference: str | None = None
    seed_row: str | None = Field(
        default=None, description="the row of the seed article's table this scenario is"
    )
    description: str | None = None
    today: IsoDate
    channel: Channel = "service_entry"
    mode: ProcessingMode | None = None
    settings: Settings = Field(default_factory=Settings)
    action: InvoiceAction = "create"
    contract: Contract | None = None
    contract_file: str | None = None
    catalogue_file: str | None = Field(
        default=None,
        description="an NDIS Support Catalogue file (CSV or XLSX), relative to "
        "the scenario file: turns on the catalogue checks",
    )
    catalogue_files: list[str] = Field(
        default_factory=list,
        description="further catalogue files (e.g. the next financial year's): each line is "
        "checked against the one in force on its dates",
    )
    region: str = Field(
        default="national",
        description="price column: a state code, national, remote or very_remote",
    )
    state: str | None = Field(default=None, description="state for public holidays")
    public_holidays: list[IsoDate] = Field(
        default_factory=list, description="public holidays in the state (day type checks)"
    )
    history: list[HistoryStep] = Field(default_factory=list)
    invoices: list[Invoice] = Field(min_length=1)
    expect: Expect
    source: str = Field(default="<scenario>", exclude=True)
    base: str = Field(default=".", exclude=True)


@dataclass(frozen=True)
class ScenarioResult:
    """The result of running one scenario."""

    scenario: str
    source: str
    mismatches: list[str]
    decisions: list[InvoiceDecision] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.mismatches

    def explain(self) -> str:
        """Expected vs actual, then the trace of every line."""
        out = [f"{self.source}: scenario {self.scenario!r}"]
        out += [f"  MISMATCH {m}" for m in self.mismatches]
        for inv in self.decisions:
            out.append(f"  invoice {inv.invoice_id}: {inv.outcome}, {inv.action}")
            for ld in inv.lines:
                draws = ", ".join(d.text for d in ld.draws)
                out.append(
                    f"    line {ld.line_id}: {ld.outcome}, {ld.action}, "
                    f"codes {list(ld.codes)}, draws [{draws}]"
                )
                for t in ld.trace:
                    inputs = ", ".join(f"{k}={v}" for k, v in t.inputs.items())
                    suffix = f" ({inputs})" if inputs else ""
                    out.append(f"      - {t.rule}: {t.outcome}{suffix}")
        return "\n".join(out)


def _documents(data: Any, source: str) -> list[Mapping[str, Any]]:
    if isinstance(data, Mapping) and "scenarios" in data:
        data = data["scenarios"]
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list) and all(isinstance(d, Mapping) for d in data):
        return list(data)
    raise InputError(
        "a scenario file holds a scenario (a mapping) or a list of them", source=source
    )


def parse_scenarios(
    text: str, *, source: str = "<scenario>", base: Path | None = None
) -> list[Scenario]:
    """Parse the validation scenarios in a file's text (other kinds are skipped: see
    :func:`run_scenario_file`). Raises :class:`InputError` naming the file, scenario and field."""
    out: list[Scenario] = []
    for n, doc in enumerate(_documents(_yaml_load(text, source), source)):
        if doc.get("kind", "validation") != "validation":
            continue
        out.append(_parse_one(doc, source, n, base))
    return out


def _parse_one(doc: Mapping[str, Any], source: str, n: int, base: Path | None) -> Scenario:
    label = f"scenario {doc.get('name', n)!r}"
    data = dict(doc)
    file_ref = data.get("contract_file")
    if file_ref is not None and data.get("contract") is None:
        path = (base or Path(".")) / str(file_ref)
        try:
            raw = _yaml_load(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise InputError(
                f"{label}: cannot read contract_file {file_ref!r}: {exc.strerror}", source=source
            ) from None
        except UnicodeDecodeError:
            raise InputError(
                f"{label}: contract_file {file_ref!r} is not UTF-8 text", source=source
            ) from None
        if isinstance(raw, Mapping) and "contract" in raw:
            raw = raw["contract"]
        data["contract"] = raw
    try:
        scenario = Scenario.model_validate(
            {**data, "source": source, "base": str(base or Path("."))}
        )
    except ValidationError as exc:
        problems = input_error_from(exc, source).problems
        raise InputError(
            f"{label}: " + "; ".join(problems), source=source, problems=problems
        ) from None
    if scenario.contract is None:
        raise InputError(f"{label}: needs a contract (inline) or a contract_file", source=source)
    if scenario.catalogue_file is not None:
        _catalogue(Path(scenario.base) / scenario.catalogue_file)  # a bad file fails here
    if scenario.catalogue_files:
        _catalogues(tuple(Path(scenario.base) / f for f in scenario.catalogue_files))
    return scenario


@functools.cache
def _catalogue(path: Path) -> Catalogue:
    return load_editions([path])


@functools.cache
def _catalogues(paths: tuple[Path, ...]) -> Catalogue:
    return load_editions(paths)


def catalogue_context(scenario: Scenario) -> CatalogueContext | None:
    """The catalogue checks a scenario asks for (``catalogue_file``), or ``None``."""
    files = [scenario.catalogue_file] if scenario.catalogue_file else []
    files += scenario.catalogue_files
    if not files:
        return None
    return CatalogueContext(
        _catalogues(tuple(Path(scenario.base) / f for f in files)),
        region=scenario.region,
        state=scenario.state,
        holidays=HolidayList(scenario.public_holidays),
    )


def load_scenario_file(path: str | Path) -> list[Scenario]:
    """Read a scenario file (validation scenarios only)."""
    p = Path(path)
    text = read_text(p)
    return parse_scenarios(text, source=str(p), base=p.parent)


def _find_line(
    decisions: Sequence[InvoiceDecision], key: str
) -> tuple[LineDecision | None, str | None]:
    if "/" in key:
        inv_id, line_id = key.split("/", 1)
        hits = [
            ld
            for inv in decisions
            if inv.invoice_id == inv_id
            for ld in inv.lines
            if ld.line_id == line_id
        ]
    else:
        hits = [ld for inv in decisions for ld in inv.lines if ld.line_id == key]
    if not hits:
        return None, f"line {key}: no such line in the scenario's invoices"
    if len(hits) > 1:
        return None, f"line {key}: the id is used in several invoices; write INVOICE/LINE"
    return hits[0], None


def _draw_key(budget: str, period: str | None, amount: Money) -> str:
    return f"{amount} from {budget}" + (f" {period}" if period else "")


def compare_line(key: str, exp: LineExpectation, got: LineDecision) -> list[str]:
    """Mismatches between an expectation and a line decision."""
    out: list[str] = []
    if exp.outcome is not None and exp.outcome != got.outcome:
        out.append(f"line {key}: outcome expected {exp.outcome}, got {got.outcome}")
    if exp.action is not None and exp.action != got.action:
        out.append(f"line {key}: action expected {exp.action}, got {got.action}")
    if exp.amount is not None and exp.amount != got.amount:
        out.append(f"line {key}: amount expected {exp.amount}, got {got.amount}")
    codes = set(got.codes)
    if exp.codes is not None and set(exp.codes) != codes:
        out.append(f"line {key}: codes expected {sorted(exp.codes)}, got {sorted(codes)}")
    if exp.codes_include is not None and not set(exp.codes_include) <= codes:
        out.append(
            f"line {key}: codes expected to include {sorted(exp.codes_include)}, "
            f"got {sorted(codes)}"
        )
    if exp.severities:
        sev: dict[str, str] = {f.code: f.severity for f in got.findings}
        for code, s in exp.severities.items():
            if sev.get(code) != s:
                out.append(f"line {key}: {code} expected severity {s}, got {sev.get(code)}")
    if exp.draws is not None:
        want = sorted(_draw_key(d.budget, d.period, d.amount) for d in exp.draws)
        have = sorted(
            _draw_key(d.budget, d.period if any(e.period for e in exp.draws) else None, d.amount)
            for d in got.draws
        )
        if want != have:
            out.append(
                f"line {key}: draws expected {want}, got "
                f"{sorted(_draw_key(d.budget, d.period, d.amount) for d in got.draws)}"
            )
    return out


def run_scenario(scenario: Scenario, *, explain: bool = True) -> ScenarioResult:
    """Run one validation scenario through the public API and compare."""
    contract = scenario.contract
    assert contract is not None
    kwargs: dict[str, Any] = {
        "as_of": scenario.today,
        "channel": scenario.channel,
        "mode": scenario.mode,
        "settings": scenario.settings,
        "catalogue": catalogue_context(scenario),
    }
    try:
        for step in scenario.history:
            if step.record is not None:
                [d] = evaluate_batch(contract, [step.record], **kwargs)
                contract = record_invoice(contract, step.record, d)
            if step.cancel is not None:
                contract = cancel_invoice(contract, step.cancel)
        decisions = evaluate_batch(
            contract, scenario.invoices, action=scenario.action, explain=explain, **kwargs
        )
    except InputError as exc:
        return ScenarioResult(scenario.name, scenario.source, [f"input error: {exc}"])
    mismatches: list[str] = []
    for key, exp in scenario.expect.lines.items():
        got, problem = _find_line(decisions, key)
        if got is None:
            mismatches.append(problem or key)
            continue
        mismatches += compare_line(key, exp, got)
    by_id = {d.invoice_id: d for d in decisions}
    for inv_id, iexp in scenario.expect.invoices.items():
        inv = by_id.get(inv_id)
        if inv is None:
            mismatches.append(f"invoice {inv_id}: no such invoice in the scenario")
            continue
        if iexp.outcome is not None and iexp.outcome != inv.outcome:
            mismatches.append(
                f"invoice {inv_id}: outcome expected {iexp.outcome}, got {inv.outcome}"
            )
        if iexp.action is not None and iexp.action != inv.action:
            mismatches.append(f"invoice {inv_id}: action expected {iexp.action}, got {inv.action}")
    return ScenarioResult(scenario.name, scenario.source, mismatches, decisions)


#: Runners for other scenario kinds: kind -> function(parsed dict) -> mismatches.
OTHER_KINDS: dict[str, str] = {
    "sync": "ndis_rules.testing.sync_scenarios:run_sync_scenario",
    "bookings": "ndis_rules.testing.booking_scenarios:run_booking_scenario",
}


def _other_runner(kind: str, source: str) -> Callable[[Mapping[str, Any]], list[str]]:
    import importlib

    target = OTHER_KINDS.get(kind)
    if target is None:
        raise InputError(
            f"unknown scenario kind {kind!r} (expected validation, {', '.join(OTHER_KINDS)})",
            source=source,
        )
    module, _, attr = target.partition(":")
    fn: Callable[[Mapping[str, Any]], list[str]] = getattr(importlib.import_module(module), attr)
    return fn


def run_scenario_file(path: str | Path) -> list[ScenarioResult]:
    """Run every scenario of a file, of any kind. Raises :class:`InputError` for a bad file."""
    p = Path(path)
    text = read_text(p)
    results: list[ScenarioResult] = []
    for n, doc in enumerate(_documents(_yaml_load(text, str(p)), str(p))):
        kind = str(doc.get("kind", "validation"))
        if kind == "validation":
            results.append(run_scenario(_parse_one(doc, str(p), n, p.parent)))
        else:
            runner = _other_runner(kind, str(p))
            name = str(doc.get("name", n))
            try:
                mismatches = runner(doc)
            except (InputError, ValidationError) as exc:
                raise InputError(f"scenario {name!r}: {exc}", source=str(p)) from None
            results.append(ScenarioResult(name, str(p), mismatches))
    return results


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into the ``*.yaml`` / ``*.yml`` / ``*.json`` scenario files in them
    (sorted); files are kept as given. ``contracts/`` folders hold fixtures, not scenarios."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = [
                f
                for f in p.rglob("*")
                if f.suffix in {".yaml", ".yml", ".json"}
                and "contracts" not in f.relative_to(p).parts[:-1]
            ]
            out += sorted(found)
        else:
            out.append(p)
    return out
