"""Issue 11: every ``Protocol`` lives in ``ndis_rules.ports`` and every exception class in
``ndis_rules.errors``; the old paths re-export the same objects."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Protocol

import pytest

import ndis_rules


def _modules() -> list[str]:
    names = ["ndis_rules"]
    for info in pkgutil.walk_packages(ndis_rules.__path__, "ndis_rules."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def _defined_classes() -> list[tuple[str, type]]:
    found = []
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional extra (e.g. dask) is not installed
            continue
        for _, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == name:
                found.append((name, obj))
    return found


def test_every_protocol_is_in_ports() -> None:
    protocols = [
        (m, c.__name__)
        for m, c in _defined_classes()
        if Protocol in getattr(c, "__mro__", ())
        and c is not Protocol
        and getattr(c, "_is_protocol", False)
    ]
    elsewhere = [(m, n) for m, n in protocols if m != "ndis_rules.ports"]
    assert elsewhere == []
    assert {n for _, n in protocols} >= {
        "Clock",
        "ContractRepository",
        "HolidayCalendar",
        "PacePlanSource",
        "PeriodLike",
        "ProdaGateway",
    }


def test_every_public_exception_is_in_errors() -> None:
    exceptions = [
        (m, c.__name__)
        for m, c in _defined_classes()
        if issubclass(c, BaseException) and not c.__name__.startswith("_")
    ]
    elsewhere = [(m, n) for m, n in exceptions if m != "ndis_rules.errors"]
    assert elsewhere == []
    assert len(exceptions) > 30


OLD_PATHS = [
    ("ndis_rules.proda", "ProdaGateway", "ndis_rules.ports"),
    ("ndis_rules.daytypes", "HolidayCalendar", "ndis_rules.ports"),
    ("ndis_rules.periods", "PeriodLike", "ndis_rules.ports"),
    ("ndis_rules.bpr", "BprFileError", "ndis_rules.errors"),
    ("ndis_rules.catalogue", "CatalogueError", "ndis_rules.errors"),
    ("ndis_rules.catalogue", "RegionError", "ndis_rules.errors"),
    ("ndis_rules.catalogue", "ItemNotFoundError", "ndis_rules.errors"),
    ("ndis_rules.bookings", "BookingRuleError", "ndis_rules.errors"),
    ("ndis_rules.bookings", "UnknownProdaStatus", "ndis_rules.errors"),
    ("ndis_rules.proda", "GatewayError", "ndis_rules.errors"),
    ("ndis_rules.proda", "GatewayTimeout", "ndis_rules.errors"),
    ("ndis_rules.proda", "GatewayUnavailable", "ndis_rules.errors"),
    ("ndis_rules.proda", "GatewayRefused", "ndis_rules.errors"),
    ("ndis_rules.proda", "BookingNotFound", "ndis_rules.errors"),
    ("ndis_rules.merge", "PlanSelectionError", "ndis_rules.errors"),
    ("ndis_rules.merge", "SyncMismatchError", "ndis_rules.errors"),
    ("ndis_rules.merge", "ApplyRefused", "ndis_rules.errors"),
    ("ndis_rules.merge", "StaleChangeSet", "ndis_rules.errors"),
    ("ndis_rules.merge", "NewPlanNotMerged", "ndis_rules.errors"),
    ("ndis_rules.merge", "UnacceptedConflicts", "ndis_rules.errors"),
    ("ndis_rules.parsing", "ParseError", "ndis_rules.errors"),
    ("ndis_rules.book", "LifecycleError", "ndis_rules.errors"),
    ("ndis_rules.book", "BookRefused", "ndis_rules.errors"),
]


@pytest.mark.parametrize(("old", "name", "new"), OLD_PATHS)
def test_an_old_path_re_exports_the_moved_name(old: str, name: str, new: str) -> None:
    assert getattr(importlib.import_module(old), name) is getattr(
        importlib.import_module(new), name
    )


def test_the_proda_status_list_in_errors_matches_the_literal() -> None:
    from typing import get_args

    from ndis_rules import errors
    from ndis_rules.bookings import ProdaStatusCode

    assert get_args(ProdaStatusCode) == errors._PRODA_STATUS_CODES
