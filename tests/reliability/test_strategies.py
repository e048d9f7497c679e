"""The strategies shipped in ``ndis_rules.testing.strategies`` for PACE plans, sync inputs,
booking planning contracts and BPR rows: every value is a valid model the library accepts."""

from __future__ import annotations

from hypothesis import given

from ndis_rules.bookings import plan_bookings
from ndis_rules.bpr import BprRow, write_bpr
from ndis_rules.files.bpr import read_bpr
from ndis_rules.merge import ACCEPTABLE_CODES, ChangeSet, apply, preview
from ndis_rules.models import Contract
from ndis_rules.pace import PacePlan
from ndis_rules.testing.strategies import (
    ChangeSetInput,
    booking_contracts,
    bpr_rows,
    change_set_inputs,
    pace_plans,
)


@given(pace_plans())
def test_pace_plans_round_trip_through_json(plan: PacePlan) -> None:
    assert PacePlan.model_validate_json(plan.model_dump_json()) == plan
    for b in plan.budgets:
        if b.start is not None and b.end_inclusive is not None:
            assert plan.start <= b.start <= b.end_inclusive <= plan.end_inclusive


@given(change_set_inputs())
def test_change_set_inputs_preview_and_apply(case: ChangeSetInput) -> None:
    assert Contract.model_validate_json(case.contract.model_dump_json()) == case.contract
    cs = preview(case.contract, case.plan, case.today)
    assert ChangeSet.model_validate_json(cs.model_dump_json()) == cs
    new = apply(case.contract, cs, accept=ACCEPTABLE_CODES)
    assert new.id == case.contract.id


@given(booking_contracts())
def test_booking_contracts_are_planned(contract: Contract) -> None:
    assert not contract.pace
    planned = plan_bookings(contract, plan_manager="PM1")
    keys = [r.key for r in planned.requests]
    assert len(keys) == len(set(keys))  # one request per source
    for r in planned.requests:
        assert r.contract_id == contract.id and r.start <= r.end_inclusive


@given(bpr_rows())
def test_bpr_rows_survive_the_writer_and_reader(row: BprRow) -> None:
    [(_, text)] = write_bpr([row])
    [result] = read_bpr(text, abn_required=False)
    assert result.row == row, result.errors
