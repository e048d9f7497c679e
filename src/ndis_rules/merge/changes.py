"""The change set of a sync: what :func:`~ndis_rules.merge.preview` found and
:func:`~ndis_rules.merge.apply` applies, as frozen data (spec/sync.md).

A :class:`ChangeSet` holds the plan field changes, one :class:`BudgetChange` per category budget
(``added`` / ``changed`` / ``ended`` / ``unchanged``, with old -> new per field and per funding
period) and the :class:`Conflict` s found, each with a stable code from :data:`CONFLICT_CODES`.
It serialises to JSON and prints as text (:meth:`ChangeSet.summary`).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ..codes import ConflictCode
from ..models import CategoryBudget, FundingPeriod, IsoDate
from ..money import Money

__all__ = [
    "ACCEPTABLE_CODES",
    "CONFLICT_CODES",
    "BudgetChange",
    "ChangeSet",
    "Conflict",
    "ConflictCode",
    "FieldChange",
    "PeriodChange",
    "PlanFields",
]

#: Every conflict code (:data:`ndis_rules.codes.ConflictCode`), in a stable order.
CONFLICT_CODES: Final[tuple[str, ...]] = get_args(ConflictCode)
#: Codes a caller may accept; ``NEW_PLAN`` never can (a reassessment is never merged).
ACCEPTABLE_CODES: Final = frozenset(CONFLICT_CODES) - {"NEW_PLAN"}


BudgetKind = Literal["added", "changed", "ended", "unchanged"]


# -- the change set ---------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldChange(_Model):
    """One field's old -> new value, as text (money as ``"123.45"``, dates ISO, None as null)."""

    field: str
    old: str | None
    new: str | None


class PeriodChange(_Model):
    """A funding period added, removed or changed (by ``funding_period_id``)."""

    period_id: str
    change: Literal["added", "removed", "changed"]
    old: FundingPeriod | None = None
    new: FundingPeriod | None = None


class Conflict(_Model):
    """A reason not to apply silently: a stable ``code``, the ``subject`` it concerns (a budget
    key, ``key:period``, an SPCB id or ``plan``), a message and the facts it used."""

    code: ConflictCode
    subject: str
    message: str
    facts: dict[str, str] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        """``"<code>:<subject>"``: accept one conflict by its id, or all of a code by the code."""
        return f"{self.code}:{self.subject}"


class BudgetChange(_Model):
    """What the sync does to one category budget. ``key`` is the local budget's key before the
    sync (the PACE budget's for ``added``); ``ref`` the local budget's ref (None when added);
    ``result`` the budget after apply (None when unchanged, or an ended budget that is removed
    because it had not started)."""

    key: str
    kind: BudgetKind
    ref: str | None = None
    pace_budget_id: str | None = None
    fields: tuple[FieldChange, ...] = ()
    periods: tuple[PeriodChange, ...] = ()
    result: CategoryBudget | None = None


class PlanFields(_Model):
    """The contract's plan-level fields after apply."""

    plan_id: str
    participant: str
    start: IsoDate
    end_inclusive: IsoDate
    total: Money


class ChangeSet(_Model):
    """The preview of a sync: what apply would change, and the conflicts. Built for one contract
    version (``contract_id``, ``contract_version``) and one plan."""

    contract_id: str
    contract_version: int
    plan_id: str
    plan_status: str | None = None
    today: IsoDate
    new_plan: bool = False
    plan: PlanFields | None = None
    plan_changes: tuple[FieldChange, ...] = ()
    budgets: tuple[BudgetChange, ...] = ()
    conflicts: tuple[Conflict, ...] = ()

    def _keys(self, kind: BudgetKind) -> list[str]:
        return [b.key for b in self.budgets if b.kind == kind]

    @property
    def added(self) -> list[str]:
        """Keys of the budgets added."""
        return self._keys("added")

    @property
    def changed(self) -> list[str]:
        """Keys of the budgets changed."""
        return self._keys("changed")

    @property
    def ended(self) -> list[str]:
        """Keys of the budgets ended (in the contract, gone from PACE)."""
        return self._keys("ended")

    @property
    def unchanged(self) -> list[str]:
        """Keys of the budgets unchanged."""
        return self._keys("unchanged")

    @property
    def has_changes(self) -> bool:
        """True when apply would change the contract."""
        return bool(self.plan_changes) or any(b.kind != "unchanged" for b in self.budgets)

    @property
    def is_empty(self) -> bool:
        """No changes and no conflicts: the contract is in sync with the plan."""
        return not self.has_changes and not self.conflicts

    def summary(self) -> str:
        """A human-readable account of the change set, one line per change or conflict."""
        head = f"sync of contract {self.contract_id} v{self.contract_version} with plan "
        lines = [head + f"{self.plan_id} as of {self.today}"]
        if self.new_plan:
            lines.append("  NEW PLAN: not merged; create a new contract from it")
        lines.extend(
            f"  plan {c.field}: {c.old or '-'} -> {c.new or '-'}" for c in self.plan_changes
        )
        for b in self.budgets:
            lines.append(f"  {b.kind} {b.key}")
            lines.extend(f"    {c.field}: {c.old or '-'} -> {c.new or '-'}" for c in b.fields)
            for p in b.periods:
                old = _period_text(p.old)
                new = _period_text(p.new)
                lines.append(f"    period {p.period_id} {p.change}: {old} -> {new}")
        lines.extend(f"  CONFLICT {c.id}: {c.message}" for c in self.conflicts)
        if self.is_empty:
            lines.append("  in sync: nothing to apply")
        return "\n".join(lines)


def _period_text(p: FundingPeriod | None) -> str:
    if p is None:
        return "-"
    released = "" if p.released else " (not released)"
    return f"{p.start}..{p.end_inclusive} {p.amount}{released}"


def _text(value: object) -> str | None:
    return None if value is None else str(value)
