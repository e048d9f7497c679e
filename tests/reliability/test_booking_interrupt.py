"""The bookings batch interrupted half-way (the process dies: an exception out of the progress
callback, or out of the gateway right after PRODA made a booking), then re-run: the re-run
completes every participant and no booking is ever made twice (one per request key)."""

from __future__ import annotations

import contextlib
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from ndis_rules.adapters.proda_memory import InMemoryProdaGateway
from ndis_rules.bookings import BookingRequest, ServiceBooking
from ndis_rules.models import Contract
from ndis_rules.proda import Participant, ProdaPlan
from ndis_rules.services.bookings import SyncProgress, sync_active_plans
from ndis_rules.testing.strategies import booking_contracts

TODAY = date(2025, 6, 30)  # every generated contract is live on this day


class Killed(BaseException):
    """The process is killed (not an error the batch may catch)."""


def _people(n: int) -> list[Participant]:
    return [
        Participant(ndis_number=f"4300{i:05d}", name="Citizen", date_of_birth=date(1990, 1, 2))
        for i in range(1, n + 1)
    ]


class DiesAfterCreate(InMemoryProdaGateway):
    """PRODA makes the booking, then the caller dies before it hears the answer."""

    def __init__(self, *a: object, die_at: int, **k: object) -> None:
        super().__init__(*a, **k)  # type: ignore[arg-type]
        self.die_at = die_at

    def create_booking(
        self, request: BookingRequest, *, idempotency_key: str | None = None
    ) -> ServiceBooking:
        booking = super().create_booking(request, idempotency_key=idempotency_key)
        if self.calls["create_booking"] == self.die_at:
            raise Killed("killed after PRODA made the booking")
        return booking


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[Participant], dict[str, Contract]]:
    people = _people(draw(st.integers(1, 5)))
    contracts: dict[str, Contract] = {}
    for p in people:
        c = draw(booking_contracts(participant=p.ndis_number))
        contracts[p.ndis_number] = c.model_copy(update={"id": f"C-{p.ndis_number}"})
    return people, contracts


def _gateway(
    people: list[Participant], contracts: dict[str, Contract], die_at: int
) -> DiesAfterCreate:
    return DiesAfterCreate(
        [
            (
                p,
                ProdaPlan(
                    participant=p.ndis_number,
                    start=contracts[p.ndis_number].start,
                    end_inclusive=contracts[p.ndis_number].end_inclusive,
                ),
            )
            for p in people
        ],
        die_at=die_at,
    )


def _check_rerun(
    people: list[Participant], contracts: dict[str, Contract], gw: InMemoryProdaGateway
) -> None:
    report = sync_active_plans(people, contracts, gw, today=TODAY, plan_manager="PM1")
    keys = [b.key for b in gw.bookings.values()]
    assert len(keys) == len(set(keys)), "a booking was made twice"
    clean = _gateway(people, contracts, 0)  # the same batch never interrupted
    sync_active_plans(people, contracts, clean, today=TODAY, plan_manager="PM1")
    assert sorted(keys) == sorted(b.key for b in clean.bookings.values())
    assert {b.key: b.request for b in gw.bookings.values()} == {
        b.key: b.request for b in clean.bookings.values()
    }
    assert report.processed + len(report.no_active_contract) == report.total == len(people)
    assert report.uncompleted == 0
    # a second re-run makes nothing at all
    made = gw.calls["create_booking"]
    sync_active_plans(people, contracts, gw, today=TODAY, plan_manager="PM1")
    assert gw.calls["create_booking"] == made and len(gw.bookings) == len(keys)


@settings(deadline=None)
@given(batches(), st.integers(1, 12))
def test_killed_after_proda_made_a_booking_then_rerun(
    batch: tuple[list[Participant], dict[str, Contract]], die_at: int
) -> None:
    people, contracts = batch
    gw = _gateway(people, contracts, die_at)
    with contextlib.suppress(Killed):
        sync_active_plans(people, contracts, gw, today=TODAY, plan_manager="PM1")
    gw.die_at = 0
    _check_rerun(people, contracts, gw)


@settings(deadline=None)
@given(batches(), st.integers(1, 5))
def test_killed_between_participants_then_rerun(
    batch: tuple[list[Participant], dict[str, Contract]], after: int
) -> None:
    people, contracts = batch
    gw = _gateway(people, contracts, 0)
    seen: list[SyncProgress] = []

    def progress(event: SyncProgress) -> None:
        seen.append(event)
        if len(seen) == after:
            raise Killed("killed between participants")

    try:
        sync_active_plans(
            people, contracts, gw, today=TODAY, plan_manager="PM1", progress=progress
        )
    except Killed:
        assert len(seen) == after
    _check_rerun(people, contracts, gw)
