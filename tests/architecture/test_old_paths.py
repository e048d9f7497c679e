"""Old import paths used in the README and docs before issue 11 keep working for a release."""

from __future__ import annotations

import importlib

import pytest

from ndis_rules.errors import StaleContractError

MOVED = [
    ("ndis_rules.sync_service", "sync_apply", "ndis_rules.services.sync"),
    ("ndis_rules.sync_service", "sync_preview", "ndis_rules.services.sync"),
    ("ndis_rules.booking_sync", "sync_active_plans", "ndis_rules.services.bookings"),
    ("ndis_rules.bpr", "read_bpr", "ndis_rules.files.bpr"),
    ("ndis_rules.bpr", "read_records", "ndis_rules.files.bpr"),
    ("ndis_rules.catalogue", "detect_and_load", "ndis_rules.files.catalogue"),
    ("ndis_rules.claims", "load_contracts", "ndis_rules.files.contracts"),
    ("ndis_rules.store_errors", "StaleContractError", "ndis_rules.errors"),
    ("ndis_rules.store_errors", "ContractNotFound", "ndis_rules.errors"),
    ("ndis_rules.scaleout", "check_records", "ndis_rules.services.scaleout"),
    ("ndis_rules.scaleout", "check_claims_dask", "ndis_rules.services.scaleout"),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED)
def test_an_old_path_serves_the_same_object(old: str, name: str, new: str) -> None:
    assert getattr(importlib.import_module(old), name) is getattr(
        importlib.import_module(new), name
    )


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        importlib.import_module("ndis_rules.sync_service").no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from ndis_rules.bpr import no_such_name")


def test_the_catalogue_loaders_kept_on_the_class() -> None:
    from ndis_rules.catalogue import Catalogue

    header = (
        "Support Item Number,Support Item Name,Registration Group Number,"
        "Support Category Number,Support Category Number (PACE),Unit,Quote,"
        "Start date,End Date,National,Remote,Very Remote"
    )
    row = "01_011_0107_1_1,Self-Care,0107,1,1,H,No,20260701,99991231,73.58,103.01,110.37"
    assert len(Catalogue.load_csv(header + "\n" + row + "\n")) == 1


def test_store_errors_are_the_errors() -> None:
    from ndis_rules import store_errors

    assert store_errors.StaleContractError is StaleContractError
