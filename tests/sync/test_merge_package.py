"""``merge`` is a package split along its seams; its public paths are the ones of the old module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from ndis_rules import merge

#: Every name the single ``merge`` module exported before the split (README.md, docs/).
PUBLIC = {
    "ACCEPTABLE_CODES",
    "ADJUSTMENT_DESCRIPTION",
    "CONFLICT_CODES",
    "ApplyRefused",
    "BudgetChange",
    "ChangeSet",
    "Conflict",
    "ConflictCode",
    "FieldChange",
    "NewPlanNotMerged",
    "PeriodChange",
    "PlanFields",
    "PlanSelectionError",
    "StaleChangeSet",
    "SyncMismatchError",
    "UnacceptedConflicts",
    "allocation_total",
    "apply",
    "delivered_total",
    "excluded_from_allocation",
    "new_contract_from_plan",
    "plan_period_conflicts",
    "preview",
    "remaining",
    "select_plan",
}


def _submodules() -> list[str]:
    return [f"ndis_rules.merge.{m.name}" for m in pkgutil.iter_modules(merge.__path__)]


def test_every_old_public_name_is_exported_from_the_package() -> None:
    assert set(merge.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(merge, name) is not None, name


def test_every_exported_name_is_the_one_its_submodule_defines() -> None:
    homes = {
        name: module
        for module in map(importlib.import_module, _submodules())
        for name in getattr(module, "__all__", ())
    }
    assert set(homes) == PUBLIC
    for name, module in homes.items():
        assert getattr(merge, name) is getattr(module, name), name


def test_preview_and_apply_stay_functions_after_every_submodule_is_imported() -> None:
    for name in _submodules():
        importlib.import_module(name)
    assert inspect.isfunction(merge.preview) and merge.preview.__name__ == "preview"
    assert inspect.isfunction(merge.apply) and merge.apply.__name__ == "apply"
    assert inspect.isfunction(merge.select_plan)
