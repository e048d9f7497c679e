"""Booking status and the lifecycle rules: every refusal is a typed BookingRuleError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import get_args

import pytest
from booking_support import booking, budget, contract, request

from ndis_rules.bookings import (
    BookingRuleError,
    RefusalCode,
    ServiceBooking,
    UnknownProdaStatus,
    apply_proda_status,
    delete_booking,
    edit_booking,
    end_booking_early,
    link_booking,
    plan_replacement,
    status_from_proda,
)
from ndis_rules.errors import NdisRulesError

TODAY = date(2025, 9, 1)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("INPR", "pending"),
        ("APAP", "pending"),
        ("APRO", "pending"),
        ("APAC", "pending"),
        ("APRC", "pending"),
        ("APPR", "success"),
        ("REJT", "failed"),
        ("CMPD", "inactive"),
        ("DELE", "inactive"),
    ],
)
def test_status_from_proda(code: str, status: str) -> None:
    assert status_from_proda(code) == status


@pytest.mark.parametrize("code", ["CANC", "appr", "", "APPR "])
def test_unknown_proda_code_is_a_typed_error(code: str) -> None:
    with pytest.raises(UnknownProdaStatus) as info:
        status_from_proda(code)
    assert isinstance(info.value, NdisRulesError) and isinstance(info.value, ValueError)
    assert repr(code) in str(info.value)


def test_apply_proda_status_refresh() -> None:
    b = booking("INPR")
    assert b.status == "pending"
    rejected = apply_proda_status(b, "REJT", reason="participant not found")
    assert (rejected.status, rejected.proda_code, rejected.reason) == (
        "failed",
        "REJT",
        "participant not found",
    )
    with pytest.raises(UnknownProdaStatus):
        apply_proda_status(b, "NOPE")


def test_record_status_must_match_the_code() -> None:
    data = booking().model_dump()
    data["status"] = "pending"
    with pytest.raises(ValueError, match="does not match PRODA code APPR"):
        ServiceBooking.model_validate(data)


def test_booking_round_trips_as_json() -> None:
    b = booking(has_payments=True)
    assert ServiceBooking.model_validate_json(b.model_dump_json()) == b
    assert b.model_dump(mode="json")["request"]["amount"] == "900.00"


# -- edits ---------------------------------------------------------------------------------------


def test_edit_moves_the_end_date_later() -> None:
    b = booking()
    later = edit_booking(b, end_inclusive=date(2026, 6, 30), start=b.start, type="standard")
    assert later.end_inclusive == date(2026, 6, 30) and later.start == b.start
    assert b.end_inclusive == date(2026, 3, 31)  # the original is unchanged
    assert edit_booking(b) is b
    assert edit_booking(b, end_inclusive=b.end_inclusive) is b


def refusal(code: RefusalCode, call: Callable[[], object]) -> BookingRuleError:
    with pytest.raises(BookingRuleError) as info:
        call()
    err = info.value
    assert err.code == code, str(err)
    assert isinstance(err, NdisRulesError) and isinstance(err, ValueError)
    assert str(err).startswith(code)
    return err


refused = refusal


def test_start_date_locked() -> None:
    refused("START_DATE_LOCKED", lambda: edit_booking(booking(), start=date(2025, 8, 1)))


def test_end_date_earlier_refused_in_an_edit() -> None:
    refused(
        "END_DATE_EARLIER_REFUSED", lambda: edit_booking(booking(), end_inclusive=date(2026, 1, 31))
    )


def test_management_type_locked() -> None:
    refused("MANAGEMENT_TYPE_LOCKED", lambda: edit_booking(booking(), type="plan_managed"))


def test_inactive_booking_cannot_be_extended() -> None:
    for code in ("CMPD", "DELE"):
        extend = partial(edit_booking, booking(code), end_inclusive=date(2026, 6, 30))
        err = refused("BOOKING_INACTIVE", extend)
        assert "plan_replacement" in str(err)


def test_rejected_booking_cannot_be_extended() -> None:
    refused(
        "BOOKING_REJECTED", lambda: edit_booking(booking("REJT"), end_inclusive=date(2026, 6, 30))
    )


def test_extension_beyond_the_plan_is_refused() -> None:
    refused(
        "BOOKING_DATES_INVALID",
        lambda: edit_booking(
            booking(), end_inclusive=date(2026, 7, 31), plan_end=date(2026, 6, 30)
        ),
    )


def test_a_pending_booking_can_be_extended() -> None:
    assert edit_booking(booking("APAP"), end_inclusive=date(2026, 5, 1)).status == "pending"


# -- ending early ------------------------------------------------------------------------------


def test_end_early_once() -> None:
    b = end_booking_early(booking(), TODAY, today=TODAY)
    assert (b.end_inclusive, b.ended_early) == (TODAY, True)
    refused("ALREADY_ENDED_EARLY", lambda: end_booking_early(b, TODAY, today=TODAY))


def test_end_early_not_before_today() -> None:
    refused(
        "END_DATE_IN_PAST", lambda: end_booking_early(booking(), date(2025, 8, 31), today=TODAY)
    )


def test_end_early_must_bring_the_end_forward() -> None:
    refused(
        "END_DATE_NOT_EARLIER", lambda: end_booking_early(booking(), date(2026, 3, 31), today=TODAY)
    )
    refused(
        "END_DATE_NOT_EARLIER", lambda: end_booking_early(booking(), date(2026, 4, 30), today=TODAY)
    )


def test_end_early_not_before_the_start() -> None:
    future = booking(start=date(2025, 10, 1))
    refused(
        "BOOKING_DATES_INVALID", lambda: end_booking_early(future, date(2025, 9, 15), today=TODAY)
    )


def test_end_early_refused_for_inactive_or_rejected() -> None:
    refused("BOOKING_INACTIVE", lambda: end_booking_early(booking("CMPD"), TODAY, today=TODAY))
    refused("BOOKING_REJECTED", lambda: end_booking_early(booking("REJT"), TODAY, today=TODAY))


def test_after_ending_early_an_edit_still_cannot_move_the_end_earlier() -> None:
    b = end_booking_early(booking(), date(2025, 12, 31), today=TODAY)
    refused("END_DATE_EARLIER_REFUSED", lambda: edit_booking(b, end_inclusive=TODAY))


# -- deleting ------------------------------------------------------------------------------------


def test_delete_unused_booking() -> None:
    b = delete_booking(booking())
    assert (b.status, b.proda_code) == ("inactive", "DELE")


def test_booking_with_payments_cannot_be_deleted() -> None:
    err = refused("BOOKING_HAS_PAYMENTS", lambda: delete_booking(booking(has_payments=True)))
    assert "end it early" in str(err)


def test_inactive_booking_cannot_be_deleted_again() -> None:
    refused("BOOKING_INACTIVE", lambda: delete_booking(booking("DELE")))


# -- replacement ------------------------------------------------------------------------------


def test_inactive_booking_gets_a_new_request_for_the_new_range() -> None:
    old = booking("CMPD")
    new = plan_replacement(old, start=date(2026, 4, 1), end_inclusive=date(2026, 6, 30))
    assert new.source == old.request.source and new.replaces == "SB1"
    assert new.key != old.key
    assert (new.start, new.end_inclusive) == (date(2026, 4, 1), date(2026, 6, 30))
    refused(
        "BOOKING_DATES_INVALID",
        lambda: plan_replacement(old, start=date(2026, 6, 30), end_inclusive=date(2026, 4, 1)),
    )


# -- linking -------------------------------------------------------------------------------------


def external(type_: str = "plan_managed", category: str = "01", **fields: object) -> ServiceBooking:
    req = request(source_kind="external", source_id="PRODA-77", type=type_, category=category)
    b = ServiceBooking.from_request("SB77", req, "APPR")
    return b.model_copy(update=fields) if fields else b


def test_link_sets_the_budget_management_type_from_the_booking() -> None:
    c = contract(budgets=[budget("01", "agency", id="B1", requires_booking=False)])
    result = link_booking(c, "B1", external("plan_managed"))
    [b] = result.contract.budgets
    assert (b.management, b.requires_booking) == ("plan", True)
    assert c.budgets[0].management == "agency"  # the given contract is unchanged
    assert result.booking.linked_budget == "B1"
    assert result.booking.request.source == "budget:B1"
    assert result.booking.key == "C1/budget:B1"


def test_link_a_budget_without_id_takes_its_new_key() -> None:
    c = contract(budgets=[budget("07", "plan")])
    result = link_booking(c, "07:plan", external("standard", "07"))
    assert result.contract.budgets[0].ref == "07:agency"
    assert result.booking.linked_budget == "07:agency"


def test_linking_is_irreversible() -> None:
    c = contract(budgets=[budget("01", id="B1"), budget("01", "plan", id="B2")])
    linked = link_booking(c, "B1", external("standard")).booking
    refused("ALREADY_LINKED", lambda: link_booking(c, "B1", linked))
    refused("ALREADY_LINKED", lambda: link_booking(c, "B2", linked))


def test_link_refusals() -> None:
    c = contract(
        budgets=[
            budget("01", "agency", id="B1"),
            budget("01", "plan", id="B2"),
            budget("07", id="B7"),
        ]
    )
    refused("BUDGET_NOT_FOUND", lambda: link_booking(c, "B9", external()))
    refused("CATEGORY_MISMATCH", lambda: link_booking(c, "B7", external()))
    refused("MANAGEMENT_CONFLICT", lambda: link_booking(c, "B1", external("plan_managed")))
    refused(
        "BOOKING_INACTIVE",
        lambda: link_booking(c, "B1", external(status="inactive", proda_code="CMPD")),
    )
    other = external("standard").model_copy(update={"request": request(participant="439999999")})
    refused("PARTICIPANT_MISMATCH", lambda: link_booking(c, "B1", other))


_C = contract(
    budgets=[budget("01", "agency", id="B1"), budget("01", "plan", id="B2"), budget("07", id="B7")]
)

#: One case per refusal code, so the table shows every code is reachable.
CASES: list[tuple[RefusalCode, Callable[[], object]]] = [
    ("START_DATE_LOCKED", lambda: edit_booking(booking(), start=date(2025, 8, 1))),
    ("END_DATE_EARLIER_REFUSED", lambda: edit_booking(booking(), end_inclusive=TODAY)),
    ("MANAGEMENT_TYPE_LOCKED", lambda: edit_booking(booking(), type="plan_managed")),
    (
        "ALREADY_ENDED_EARLY",
        lambda: end_booking_early(booking(ended_early=True), TODAY, today=TODAY),
    ),
    ("END_DATE_IN_PAST", lambda: end_booking_early(booking(), date(2025, 1, 1), today=TODAY)),
    ("END_DATE_NOT_EARLIER", lambda: end_booking_early(booking(), date(2026, 5, 1), today=TODAY)),
    (
        "BOOKING_DATES_INVALID",
        lambda: edit_booking(booking(), end_inclusive=date(2027, 1, 1), plan_end=date(2026, 6, 30)),
    ),
    ("BOOKING_HAS_PAYMENTS", lambda: delete_booking(booking(has_payments=True))),
    ("BOOKING_INACTIVE", lambda: edit_booking(booking("CMPD"), end_inclusive=date(2026, 6, 1))),
    ("BOOKING_REJECTED", lambda: end_booking_early(booking("REJT"), TODAY, today=TODAY)),
    ("ALREADY_LINKED", lambda: link_booking(_C, "B1", booking(linked_budget="B1"))),
    ("BUDGET_NOT_FOUND", lambda: link_booking(_C, "B9", booking())),
    ("CATEGORY_MISMATCH", lambda: link_booking(_C, "B7", booking())),
    (
        "PARTICIPANT_MISMATCH",
        lambda: link_booking(
            _C, "B1", booking().model_copy(update={"request": request(participant="439999999")})
        ),
    ),
    ("MANAGEMENT_CONFLICT", lambda: link_booking(_C, "B2", booking())),
]


@pytest.mark.parametrize(("code", "call"), CASES, ids=[c for c, _ in CASES])
def test_refusal_table(code: RefusalCode, call: Callable[[], object]) -> None:
    refusal(code, call)


def test_every_refusal_code_is_in_the_table() -> None:
    assert sorted(c for c, _ in CASES) == sorted(get_args(RefusalCode))
