"""Sync scenarios (``kind: sync``): a contract, a PACE plan, *today*, which conflicts to accept,
and what the preview and apply must give. The format is in ``docs/scenarios-sync.md``; the
shipped scenarios are in ``docs/scenarios/sync/``.

Besides what ``expect`` names, every scenario whose apply succeeds is checked for two things the
spec always requires: the contract given is not mutated, and a preview of the new contract against
the same plan has no changes (idempotent sync).

Examples:
    >>> run_sync_scenario({
    ...     "kind": "sync", "name": "extend the budget", "today": "2025-08-01",
    ...     "contract": {"id": "C1", "plan_id": "P1", "start": "2025-07-01",
    ...                  "end_inclusive": "2026-06-30", "total": "1000.00",
    ...                  "budgets": [{"category": "01", "management": "plan",
    ...                               "total": "1000.00"}]},
    ...     "plan": {"plan_id": "P1", "ndis_number": "430000001", "start": "2025-07-01",
    ...              "end_inclusive": "2026-06-30", "total": "1200.00",
    ...              "budgets": [{"category": "01", "management": "plan",
    ...                           "total": "1200.00"}]},
    ...     "expect": {"changed": ["01:plan"], "conflicts": [], "applies": True,
    ...                "after": {"budgets": {"01:plan": {"total": "1200.00",
    ...                                                  "remaining": "1200.00"}}}}})
    []
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, NdisRulesError, input_error_from
from ..merge import (
    CONFLICT_CODES,
    ChangeSet,
    allocation_total,
    apply,
    preview,
    remaining,
)
from ..models import CategoryBudget, Contract, IsoDate
from ..money import Money
from ..pace import PacePlan

__all__ = ["AFTER_BUDGET_KEYS", "AFTER_CONTRACT_KEYS", "SyncScenario", "run_sync_scenario"]

#: Fields ``expect.after.budgets.<key>`` may check.
AFTER_BUDGET_KEYS: Final = (
    "total",
    "remaining",
    "start",
    "end_inclusive",
    "management",
    "budget_type",
    "stated_items_only",
    "pace_budget_id",
    "periods",
    "excluded",
)
#: Fields ``expect.after.contract`` may check.
AFTER_CONTRACT_KEYS: Final = (
    "plan_id",
    "participant",
    "start",
    "end_inclusive",
    "total",
    "version",
    "allocation_total",
    "budgets",
    "spcb_distributions",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _After(_Model):
    contract: dict[str, Any] | None = None
    budgets: dict[str, dict[str, Any]] | None = None


class _Expect(_Model):
    conflicts: list[str] | None = None
    added: list[str] | None = None
    changed: list[str] | None = None
    ended: list[str] | None = None
    unchanged: list[str] | None = None
    plan_changes: list[str] | None = None
    new_plan: bool | None = None
    applies: bool | None = None
    after: _After | None = None


class SyncScenario(_Model):
    """One sync scenario, parsed (unknown keys are an error)."""

    kind: Literal["sync"] = "sync"
    name: str = Field(min_length=1)
    description: str | None = None
    reference: str | None = None
    today: IsoDate
    contract: Contract
    plan: PacePlan
    accept: list[str] = Field(default_factory=list)
    expect: _Expect = _Expect()


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _expected_text(key: str, value: object) -> object:
    if key in {"total", "remaining", "allocation_total"} and value is not None:
        return str(Money.parse(value))
    if key in {"periods", "budgets"} and isinstance(value, list):
        return [str(v) for v in value]
    if key == "spcb_distributions" and isinstance(value, Mapping):
        return {str(k): [str(x) for x in v] for k, v in value.items()}
    return _as_text(value)


def _budget_value(contract: Contract, b: CategoryBudget, key: str) -> object:
    match key:
        case "remaining":
            return str(remaining(contract, b))
        case "periods":
            return [p.id for p in b.funding.periods] if b.funding else []
        case "excluded":
            return _as_text(b.management != "plan")
        case _:
            return _as_text(getattr(b, key))


def _contract_value(contract: Contract, key: str) -> object:
    match key:
        case "allocation_total":
            return str(allocation_total(contract))
        case "budgets":
            return [b.key for b in contract.budgets]
        case "spcb_distributions":
            return {
                s.id: [sh.period_id for sh in s.distribution] for s in contract.provider_budgets
            }
        case _:
            return _as_text(getattr(contract, key))


def _compare_lists(label: str, want: Sequence[str] | None, got: Sequence[str]) -> list[str]:
    if want is None or sorted(want) == sorted(got):
        return []
    return [f"{label}: expected {sorted(want)}, got {sorted(got)}"]


def _check_after(exp: _After, new: Contract, source: str) -> list[str]:
    out: list[str] = []
    for key, want in (exp.contract or {}).items():
        if key not in AFTER_CONTRACT_KEYS:
            raise InputError(
                f"expect.after.contract: unknown key {key!r} "
                f"(expected some of: {', '.join(AFTER_CONTRACT_KEYS)})",
                source=source,
            )
        got = _contract_value(new, key)
        if _expected_text(key, want) != got:
            out.append(f"after: contract {key} expected {_expected_text(key, want)}, got {got}")
    for bkey, fields in (exp.budgets or {}).items():
        hits = [b for b in new.budgets if b.ref == bkey] or [
            b for b in new.budgets if b.key == bkey
        ]
        if len(hits) != 1:
            out.append(f"after: budget {bkey}: expected one such budget, found {len(hits)}")
            continue
        for key, want in fields.items():
            if key not in AFTER_BUDGET_KEYS:
                raise InputError(
                    f"expect.after.budgets.{bkey}: unknown key {key!r} "
                    f"(expected some of: {', '.join(AFTER_BUDGET_KEYS)})",
                    source=source,
                )
            got = _budget_value(new, hits[0], key)
            if _expected_text(key, want) != got:
                out.append(
                    f"after: budget {bkey} {key} expected {_expected_text(key, want)}, got {got}"
                )
    return out


def run_sync_scenario(data: Mapping[str, Any]) -> list[str]:
    """Run one parsed sync scenario; the mismatches, as sentences (empty: it passes).

    Keys: ``name``, ``today``, ``contract`` (a contract), ``plan`` (a PACE plan), optional
    ``accept`` (conflict codes or ids), ``description``, ``reference``, ``kind`` (``sync``) and
    ``expect``: ``conflicts`` (codes, compared as a multiset), ``added`` / ``changed`` /
    ``ended`` / ``unchanged`` (budget keys such as ``"01:plan"``, compared as multisets),
    ``plan_changes`` (plan field names), ``new_plan``, ``applies`` and ``after`` (fields of the
    applied contract: ``contract`` with keys :data:`AFTER_CONTRACT_KEYS`, ``budgets`` keyed by
    budget key or ref with keys :data:`AFTER_BUDGET_KEYS`). A key left out is not checked.

    Raises:
        InputError: the scenario itself is malformed (an unknown key, a bad contract or plan).
    """
    name = str(data.get("name", "<unnamed>"))
    source = f"scenario {name!r}"
    try:
        scenario = SyncScenario.model_validate(dict(data))
    except ValidationError as exc:
        raise input_error_from(exc, source=source) from None
    exp = scenario.expect
    unknown = sorted(set(exp.conflicts or ()) - set(CONFLICT_CODES))
    if unknown:
        raise InputError(
            f"expect.conflicts: unknown code(s) {', '.join(unknown)} "
            f"(expected some of: {', '.join(CONFLICT_CODES)})",
            source=source,
        )
    contract = scenario.contract
    before = contract.model_dump_json()
    try:
        cs = preview(contract, scenario.plan, scenario.today)
    except NdisRulesError as exc:
        return [f"preview failed: {type(exc).__name__}: {exc}"]
    if ChangeSet.model_validate_json(cs.model_dump_json()) != cs:
        return ["the change set does not survive a JSON round trip"]
    out: list[str] = []
    out += _compare_lists("conflicts", exp.conflicts, [c.code for c in cs.conflicts])
    out += _compare_lists("added", exp.added, cs.added)
    out += _compare_lists("changed", exp.changed, cs.changed)
    out += _compare_lists("ended", exp.ended, cs.ended)
    out += _compare_lists("unchanged", exp.unchanged, cs.unchanged)
    out += _compare_lists("plan_changes", exp.plan_changes, [c.field for c in cs.plan_changes])
    if exp.new_plan is not None and exp.new_plan != cs.new_plan:
        out.append(f"new_plan: expected {exp.new_plan}, got {cs.new_plan}")
    try:
        new: Contract | None = apply(contract, cs, accept=scenario.accept)
        refusal = ""
    except NdisRulesError as exc:
        new, refusal = None, f"{type(exc).__name__}: {exc}"
    if exp.applies is not None and exp.applies != (new is not None):
        out.append(
            f"applies: expected {exp.applies}, got {new is not None}"
            + (f" ({refusal})" if refusal else "")
        )
    if contract.model_dump_json() != before:
        out.append("apply mutated the contract it was given")
    if new is not None:
        again = preview(new, scenario.plan, scenario.today)
        if again.has_changes:
            out.append(
                "not idempotent: a preview after apply still has changes:\n" + again.summary()
            )
        if exp.after is not None:
            out += _check_after(exp.after, new, source)
    elif exp.after is not None and exp.applies is not False:
        out.append(f"after: cannot check, apply was refused ({refusal})")
    return out
