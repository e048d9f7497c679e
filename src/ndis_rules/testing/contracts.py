"""The contract test suites of the ports (eventsourcing style): one per port of
:mod:`ndis_rules.ports`. Subclass the suite, implement its ``make_...`` method, and pytest runs
every behaviour against your adapter:

* :class:`ContractRepositoryContract` for a :class:`~ndis_rules.ports.ContractRepository`::

    class TestMyStore(ContractRepositoryContract):
        def make_repository(self, tmp_path):
            return MyStore(tmp_path / "db")

        def reopen(self, repo, tmp_path):      # optional, for persistent adapters
            return MyStore(tmp_path / "db")

* :class:`PacePlanSourceContract` for a :class:`~ndis_rules.ports.PacePlanSource`
  (``make_source(tmp_path, participants)`` holding the participants given, and optionally
  ``failing_source(tmp_path, fault)`` for a source that times out, refuses or answers garbage);
* :class:`ProdaGatewayContract` for a :class:`~ndis_rules.ports.ProdaGateway`
  (``make_gateway(tmp_path, participants)``; ``record_payment`` / ``make_inactive`` hooks
  to stage what PRODA does by itself, and ``reopen`` for persistent adapters).

Needs pytest (extra ``ndis-rules[testing]``).
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pytest

from ..bookings import BookingRequest
from ..errors import (
    BookingNotFound,
    ContractNotFound,
    GatewayError,
    GatewayRefused,
    ParticipantNotFound,
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
    StaleContractError,
    StoreError,
)
from ..models import Contract
from ..money import Money
from ..pace import PacePlan, ParticipantRef
from ..ports import ContractRepository, PacePlanSource, ProdaGateway
from ..proda import Participant, ProdaPlan

__all__ = [
    "ContractRepositoryContract",
    "PaceEntry",
    "PaceFault",
    "PacePlanSourceContract",
    "ProdaEntry",
    "ProdaGatewayContract",
    "sample_booking_request",
    "sample_contract",
    "sample_pace_plan",
    "sample_participant",
    "sample_participant_ref",
    "sample_proda_plan",
]


def sample_contract(contract_id: str = "C1", **changes: Any) -> Contract:
    """A contract using every part of the model (budgets with funding periods, support item
    budgets, SPCBs with a distribution, delivered services, notes) and awkward money (one cent,
    twelve digits), for round-trip tests."""
    data: dict[str, Any] = {
        "id": contract_id,
        "participant": "430000001",
        "plan_id": "PLAN-1",
        "pace": True,
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "9999999999.99",
        "budgets": [
            {
                "category": "01",
                "management": "plan",
                "total": "10000.01",
                "start": "2025-07-01",
                "end_inclusive": "2026-06-30",
                "pace_budget_id": "B-01",
                "funding": {
                    "id": "FC-01",
                    "amount": "10000.01",
                    "instalment_months": 6,
                    "periods": [
                        {
                            "id": "FP1",
                            "start": "2025-07-01",
                            "end_inclusive": "2025-12-31",
                            "amount": "5000.01",
                        },
                        {
                            "id": "FP2",
                            "start": "2026-01-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "5000.00",
                            "released": False,
                        },
                    ],
                },
            },
            {"category": "07", "management": "agency", "total": "0.01", "requires_booking": True},
        ],
        "support_items": [
            {
                "id": "S1",
                "item": "01_011_0107_1_1",
                "category": "01",
                "provider": "PROV-1",
                "quantity": "10.5",
                "rate": "70.23",
            }
        ],
        "provider_budgets": [
            {
                "id": "SP1",
                "provider": "PROV-1",
                "category": "01",
                "amount": "2000.00",
                "start": "2025-07-01",
                "end_inclusive": "2026-06-30",
                "distribution": [
                    {"period_id": "FP1", "amount": "1000.00"},
                    {"period_id": "FP2", "amount": "1000.00"},
                ],
            }
        ],
        "delivered": [
            {
                "id": "D1",
                "invoice_id": "INV-1",
                "category": "01",
                "management": "plan",
                "from": "2025-07-02",
                "to": "2025-07-02",
                "quantity": "1.5",
                "unit_price": "70.23",
                "amount": "105.35",
                "provider": "PROV-1",
                "item": "01_011_0107_1_1",
            }
        ],
        "notes": ["first note", "ünïcödé note"],
    }
    data.update(changes)
    return Contract.model_validate(data)


class ContractRepositoryContract(abc.ABC):
    """Behaviour every contract repository adapter must have."""

    @abc.abstractmethod
    def make_repository(self, tmp_path: Path) -> ContractRepository:
        """A new, empty repository (``tmp_path`` is a fresh directory for on-disk adapters)."""

    def reopen(self, repo: ContractRepository, tmp_path: Path) -> ContractRepository | None:
        """A second repository over the same storage (None: the adapter does not persist)."""
        return None

    @pytest.fixture
    def repo(self, tmp_path: Path) -> Iterator[ContractRepository]:
        """The repository under test, closed afterwards when it has ``close()``."""
        repository = self.make_repository(tmp_path)
        yield repository
        close = getattr(repository, "close", None)
        if callable(close):
            close()

    # -- get / save ---------------------------------------------------------------------------
    def test_get_missing_raises_contract_not_found(self, repo: ContractRepository) -> None:
        with pytest.raises(ContractNotFound) as info:
            repo.get("nope")
        assert isinstance(info.value, LookupError)
        assert isinstance(info.value, StoreError)

    def test_new_contract_round_trips_exactly(self, repo: ContractRepository) -> None:
        contract = sample_contract()
        stored = repo.save(contract, expected_version=None)
        assert stored == contract
        got = repo.get("C1")
        assert got == contract
        assert got.model_dump_json() == contract.model_dump_json()
        assert got.total is not None and got.total.cents == 999999999999

    def test_new_contract_keeps_its_version(self, repo: ContractRepository) -> None:
        stored = repo.save(sample_contract(version=7), expected_version=None)
        assert stored.version == 7
        assert repo.get("C1").version == 7

    def test_creating_an_existing_contract_is_stale(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        with pytest.raises(StaleContractError):
            repo.save(sample_contract(notes=["other"]), expected_version=None)
        assert repo.get("C1") == sample_contract()

    def test_update_bumps_the_version(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        changed = sample_contract(notes=["changed"])
        stored = repo.save(changed, expected_version=0)
        assert stored.version == 1
        assert repo.get("C1") == stored
        assert repo.get("C1").notes == ("changed",)
        assert repo.save(stored, expected_version=1).version == 2

    def test_stale_write_is_refused_and_changes_nothing(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        first = repo.save(sample_contract(notes=["first"]), expected_version=0)
        with pytest.raises(StaleContractError) as info:
            repo.save(sample_contract(notes=["second"]), expected_version=0)
        assert (info.value.expected, info.value.actual) == (0, 1)
        assert repo.get("C1") == first

    def test_update_of_a_missing_contract_is_stale(self, repo: ContractRepository) -> None:
        with pytest.raises(StaleContractError):
            repo.save(sample_contract(), expected_version=0)
        assert repo.ids() == []

    def test_saves_of_different_contracts_are_independent(self, repo: ContractRepository) -> None:
        repo.save(sample_contract("A"), expected_version=None)
        repo.save(sample_contract("B"), expected_version=None)
        repo.save(sample_contract("A", notes=["a"]), expected_version=0)
        assert repo.get("A").version == 1
        assert repo.get("B") == sample_contract("B")

    # -- ids / delete -------------------------------------------------------------------------
    def test_ids_are_sorted(self, repo: ContractRepository) -> None:
        assert repo.ids() == []
        for cid in ("b", "C/2", "a b", "Ä1", "a"):
            repo.save(sample_contract(cid), expected_version=None)
        assert repo.ids() == sorted(["b", "C/2", "a b", "Ä1", "a"])
        for cid in repo.ids():
            assert repo.get(cid).id == cid

    def test_delete(self, repo: ContractRepository) -> None:
        repo.save(sample_contract("A"), expected_version=None)
        repo.save(sample_contract("B"), expected_version=None)
        repo.delete("A")
        assert repo.ids() == ["B"]
        with pytest.raises(ContractNotFound):
            repo.get("A")
        with pytest.raises(ContractNotFound):
            repo.delete("A")

    def test_delete_checks_the_version(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        with pytest.raises(StaleContractError):
            repo.delete("C1", expected_version=3)
        assert repo.ids() == ["C1"]
        repo.delete("C1", expected_version=0)
        assert repo.ids() == []

    def test_recreate_after_delete(self, repo: ContractRepository) -> None:
        repo.save(sample_contract(), expected_version=None)
        repo.delete("C1")
        assert repo.save(sample_contract(), expected_version=None) == sample_contract()

    # -- persistence --------------------------------------------------------------------------
    def test_reopened_store_holds_the_same_contracts(
        self, repo: ContractRepository, tmp_path: Path
    ) -> None:
        repo.save(sample_contract("A"), expected_version=None)
        stored = repo.save(sample_contract("A", notes=["x"]), expected_version=0)
        again = self.reopen(repo, tmp_path)
        if again is None:
            pytest.skip("the adapter does not persist")
        try:
            assert again.ids() == ["A"]
            assert again.get("A") == stored
            with pytest.raises(StaleContractError):
                again.save(sample_contract("A"), expected_version=0)
        finally:
            close = getattr(again, "close", None)
            if callable(close):
                close()


# -- the PACE plan source ----------------------------------------------------------------------
#: A PACE participant entry for :meth:`PacePlanSourceContract.make_source`: who, their plans,
#: and whether the plan manager is authorised for them.
PaceEntry = tuple[ParticipantRef, Sequence[PacePlan], bool]
PaceFault = Literal["timeout", "refused", "payload"]


def sample_participant_ref(
    n: int = 1, last_name: str = "Citizen", dob: date = date(1990, 1, 31)
) -> ParticipantRef:
    """PACE participant number ``n`` (NDIS number ``43000000n``)."""
    return ParticipantRef(ndis_number=f"4300{n:05d}", last_name=last_name, date_of_birth=dob)


def sample_pace_plan(
    plan_id: str = "P1", ndis_number: str = "430000001", **changes: Any
) -> PacePlan:
    """A PACE plan using every part of the model (budgets with a funding component and periods,
    one not released yet) and awkward money, for round-trip tests."""
    data: dict[str, Any] = {
        "plan_id": plan_id,
        "ndis_number": ndis_number,
        "status": "active",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "total": "10000.01",
        "budgets": [
            {
                "pace_budget_id": f"{plan_id}-B01",
                "category": "01",
                "management": "plan",
                "total": "10000.00",
                "funding": {
                    "id": f"{plan_id}-FC01",
                    "amount": "10000.00",
                    "instalment_months": 6,
                    "periods": [
                        {
                            "funding_period_id": "FP1",
                            "start": "2025-07-01",
                            "end_inclusive": "2025-12-31",
                            "amount": "5000.00",
                        },
                        {
                            "funding_period_id": "FP2",
                            "start": "2026-01-01",
                            "end_inclusive": "2026-06-30",
                            "amount": "5000.00",
                            "released": False,
                        },
                    ],
                },
            },
            {"category": "07", "management": "agency", "total": "0.01"},
        ],
    }
    data.update(changes)
    return PacePlan.model_validate(data)


def _no_personal_details(message: str, who: ParticipantRef | Participant) -> None:
    name = who.last_name if isinstance(who, ParticipantRef) else who.name
    dob = who.date_of_birth
    for secret in (name.strip(), dob.isoformat(), f"{dob.day}/{dob.month}/{dob.year}"):
        assert secret.casefold() not in message.casefold(), "a personal detail is echoed"


class PacePlanSourceContract(abc.ABC):
    """Behaviour every PACE plan source adapter must have."""

    @abc.abstractmethod
    def make_source(self, tmp_path: Path, participants: Sequence[PaceEntry]) -> PacePlanSource:
        """A source holding exactly these participants (``tmp_path`` is a fresh directory)."""

    def failing_source(self, tmp_path: Path, fault: PaceFault) -> PacePlanSource | None:
        """A source whose lookups fail with ``fault`` (None: the adapter cannot stage it)."""
        return None

    @pytest.fixture
    def people(self) -> list[PaceEntry]:
        """Participant 1 with two plans, 2 with none, 3 not authorised."""
        return [
            (
                sample_participant_ref(1),
                [
                    sample_pace_plan("P1"),
                    sample_pace_plan(
                        "P0", start="2024-07-01", end_inclusive="2025-06-30", status="inactive"
                    ),
                ],
                True,
            ),
            (sample_participant_ref(2, last_name="van der Berg"), [], True),
            (sample_participant_ref(3), [sample_pace_plan("P3", ndis_number="430000003")], False),
        ]

    @pytest.fixture
    def source(self, tmp_path: Path, people: list[PaceEntry]) -> PacePlanSource:
        """The source under test, holding :meth:`people`."""
        return self.make_source(tmp_path, people)

    def test_plans_round_trip_exactly(
        self, source: PacePlanSource, people: list[PaceEntry]
    ) -> None:
        got = source.plans_for(sample_participant_ref(1))
        assert sorted(got, key=lambda p: p.plan_id) == sorted(people[0][1], key=lambda p: p.plan_id)
        assert {p.plan_id: p.total for p in got}["P1"] == Money.parse("10000.01")

    def test_last_name_compares_case_and_space_insensitively(self, source: PacePlanSource) -> None:
        who = sample_participant_ref(2, last_name="  VAN  DER berg ")
        assert source.plans_for(who) == []

    @pytest.mark.parametrize(
        "who",
        [
            sample_participant_ref(1, last_name="Smith"),
            sample_participant_ref(1, dob=date(1990, 1, 30)),
            sample_participant_ref(9),
        ],
        ids=["last name", "date of birth", "NDIS number"],
    )
    def test_a_mismatch_is_not_found_without_saying_which(
        self, source: PacePlanSource, who: ParticipantRef
    ) -> None:
        with pytest.raises(ParticipantNotFound) as info:
            source.plans_for(who)
        assert isinstance(info.value, LookupError) and isinstance(info.value, SourceError)
        _no_personal_details(str(info.value), who)
        for detail in ("last name does not", "date of birth does not", "number does not"):
            assert detail not in str(info.value)

    def test_not_authorised_is_typed(self, source: PacePlanSource) -> None:
        who = sample_participant_ref(3)
        with pytest.raises(SourceNotAuthorised) as info:
            source.plans_for(who)
        assert isinstance(info.value, PermissionError)
        _no_personal_details(str(info.value), who)

    def test_only_the_participants_own_plans(self, source: PacePlanSource) -> None:
        assert {p.ndis_number for p in source.plans_for(sample_participant_ref(1))} == {"430000001"}

    def test_lookups_repeat_and_the_answer_is_the_callers(self, source: PacePlanSource) -> None:
        first = source.plans_for(sample_participant_ref(1))
        first.clear()
        again = source.plans_for(sample_participant_ref(1))
        assert len(again) == 2 and again == source.plans_for(sample_participant_ref(1))

    @pytest.mark.parametrize(
        ("fault", "error", "builtin"),
        [
            ("timeout", SourceTimeout, TimeoutError),
            ("refused", SourceRefused, ConnectionError),
            ("payload", SourcePayloadError, ValueError),
        ],
    )
    def test_failures_are_typed(
        self, tmp_path: Path, fault: PaceFault, error: type[SourceError], builtin: type[Exception]
    ) -> None:
        failing = self.failing_source(tmp_path, fault)
        if failing is None:
            pytest.skip(f"the adapter cannot stage a {fault} fault")
        with pytest.raises(error) as info:
            failing.plans_for(sample_participant_ref(1))
        assert isinstance(info.value, builtin)


# -- the PRODA gateway -------------------------------------------------------------------------
#: A PRODA participant for :meth:`ProdaGatewayContract.make_gateway` and their plan (if any).
ProdaEntry = tuple[Participant, ProdaPlan | None]

PLAN_START = date(2025, 7, 1)
PLAN_END = date(2026, 6, 30)


def sample_participant(
    n: int = 1, name: str = "Citizen", dob: date = date(1990, 1, 2)
) -> Participant:
    """PRODA participant number ``n`` (NDIS number ``43000000n``)."""
    return Participant(ndis_number=f"4300{n:05d}", name=name, date_of_birth=dob)


def sample_proda_plan(p: Participant) -> ProdaPlan:
    """PRODA's plan for a participant, 1 July 2025 to 30 June 2026."""
    return ProdaPlan(
        participant=p.ndis_number,
        plan_id=f"PLAN-{p.ndis_number}",
        start=PLAN_START,
        end_inclusive=PLAN_END,
    )


def sample_booking_request(**fields: Any) -> BookingRequest:
    """A booking request for budget ``01:agency`` of contract C1 (participant 1)."""
    data: dict[str, Any] = {
        "contract_id": "C1",
        "participant": "430000001",
        "source_kind": "budget",
        "source_id": "01:agency",
        "category": "01",
        "type": "standard",
        "start": PLAN_START,
        "end_inclusive": date(2026, 3, 31),
        "amount": Money.parse("900.00"),
    }
    data.update(fields)
    return BookingRequest.model_validate(data)


class ProdaGatewayContract(abc.ABC):
    """Behaviour every PRODA gateway adapter must have. Participant 1 has a plan, participant 2
    is known without one. A refused or failed call changes nothing."""

    @abc.abstractmethod
    def make_gateway(self, tmp_path: Path, participants: Sequence[ProdaEntry]) -> ProdaGateway:
        """A gateway knowing exactly these participants (``tmp_path``: a fresh directory)."""

    def reopen(self, gateway: ProdaGateway, tmp_path: Path) -> ProdaGateway | None:
        """A second gateway over the same storage (None: the adapter does not persist)."""
        return None

    def record_payment(self, gateway: ProdaGateway, booking_id: str) -> None:
        """Stage a payment request against a booking (PRODA's doing, not a port call)."""
        hook = getattr(gateway, "record_payment", None)
        if hook is None:
            pytest.skip("the adapter cannot stage a payment request")
        hook(booking_id)

    def make_inactive(self, gateway: ProdaGateway, booking_id: str) -> None:
        """Stage PRODA completing a booking (``CMPD``)."""
        hook = getattr(gateway, "make_inactive", None)
        if hook is None:
            pytest.skip("the adapter cannot stage a completed booking")
        hook(booking_id)

    def state(self, gateway: ProdaGateway) -> object:
        """What the gateway holds, to check a refused call changed nothing (default: every
        booking of both participants, through the port)."""
        return [tuple(gateway.list_bookings(sample_participant(n))) for n in (1, 2)]

    @pytest.fixture
    def gateway(self, tmp_path: Path) -> ProdaGateway:
        """The gateway under test."""
        p1, p2 = sample_participant(1), sample_participant(2)
        return self.make_gateway(tmp_path, [(p1, sample_proda_plan(p1)), (p2, None)])

    def _refused_unchanged(
        self, gateway: ProdaGateway, call: Callable[[], object], match: str | None = None
    ) -> GatewayRefused:
        before = self.state(gateway)
        with pytest.raises(GatewayRefused, match=match) as info:
            call()
        assert isinstance(info.value, GatewayError) and info.value.transient is False
        assert self.state(gateway) == before
        return info.value

    def test_find_plan(self, gateway: ProdaGateway) -> None:
        plan = gateway.find_plan(sample_participant(1))
        assert (plan.participant, plan.start, plan.end_inclusive) == (
            "430000001",
            PLAN_START,
            PLAN_END,
        )

    @pytest.mark.parametrize(
        "who",
        [
            sample_participant(1, name="Smith"),
            sample_participant(1, dob=date(1991, 1, 2)),
            sample_participant(9),
            sample_participant(2),
        ],
        ids=["name", "date of birth", "NDIS number", "no plan"],
    )
    def test_find_plan_refused_without_echoing_personal_details(
        self, gateway: ProdaGateway, who: Participant
    ) -> None:
        refusal = self._refused_unchanged(gateway, lambda: gateway.find_plan(who))
        assert refusal.reason
        _no_personal_details(refusal.reason, who)

    def test_name_compares_case_insensitively(self, gateway: ProdaGateway) -> None:
        assert gateway.find_plan(sample_participant(1, name=" citizen ")).plan_id

    def test_create_refresh_list(self, gateway: ProdaGateway) -> None:
        p1 = sample_participant(1)
        asked = sample_booking_request()
        b = gateway.create_booking(asked)
        assert (b.status, b.proda_code) == ("pending", "INPR")
        # only what PRODA knows comes back (never our contract id or source)
        assert (b.request.category, b.request.item, b.request.type, b.request.amount) == (
            asked.category,
            asked.item,
            asked.type,
            asked.amount,
        )
        assert (b.start, b.end_inclusive) == (PLAN_START, date(2026, 3, 31))
        assert [x.booking_id for x in gateway.list_bookings(p1)] == [b.booking_id]
        assert list(gateway.list_bookings(sample_participant(2))) == []
        refreshed = gateway.refresh_booking(b.booking_id)
        assert refreshed.booking_id == b.booking_id
        assert (refreshed.start, refreshed.end_inclusive) == (b.start, b.end_inclusive)
        assert refreshed.request.amount == b.request.amount
        second = gateway.create_booking(
            sample_booking_request(source_id="07:agency", category="07")
        )
        assert second.booking_id != b.booking_id
        assert len(gateway.list_bookings(p1)) == 2

    def test_an_idempotency_key_makes_one_booking(self, gateway: ProdaGateway) -> None:
        key = "C1/budget:01:agency"
        first = gateway.create_booking(sample_booking_request(), idempotency_key=key)
        again = gateway.create_booking(sample_booking_request(), idempotency_key=key)
        other = gateway.create_booking(sample_booking_request(), idempotency_key=key + "/x")
        assert (first.replayed, again.replayed, other.replayed) == (False, True, False)
        assert first.booking_id == again.booking_id != other.booking_id
        assert len(gateway.list_bookings(sample_participant(1))) == 2

    def test_update_amount_of_a_category_level_booking(self, gateway: ProdaGateway) -> None:
        made = gateway.create_booking(sample_booking_request())
        updated = gateway.update_amount(made.booking_id, Money.parse("1250.50"))
        assert updated.request.amount == Money.parse("1250.50")
        assert gateway.refresh_booking(made.booking_id).request.amount == Money.parse("1250.50")

    def test_update_amount_of_a_support_items_booking_is_refused(
        self, gateway: ProdaGateway
    ) -> None:
        made = gateway.create_booking(
            sample_booking_request(source_kind="support", source_id="S1", item="01_011_0107_1_1")
        )
        self._refused_unchanged(
            gateway, functools.partial(gateway.update_amount, made.booking_id, Money.parse("10"))
        )

    def test_create_outside_the_plan_or_for_a_stranger_is_refused(
        self, gateway: ProdaGateway
    ) -> None:
        late = sample_booking_request(end_inclusive=date(2026, 7, 31))
        self._refused_unchanged(gateway, lambda: gateway.create_booking(late))
        stranger = sample_booking_request(participant="430000009")
        self._refused_unchanged(gateway, lambda: gateway.create_booking(stranger))

    def test_update_end_date_later_then_early_once(self, gateway: ProdaGateway) -> None:
        b = gateway.create_booking(sample_booking_request())
        assert gateway.update_end_date(b.booking_id, PLAN_END).end_inclusive == PLAN_END
        early = gateway.update_end_date(b.booking_id, date(2025, 12, 31))
        assert (early.end_inclusive, early.ended_early) == (date(2025, 12, 31), True)
        for end in (date(2025, 11, 30), date(2026, 12, 31), date(2025, 1, 1)):
            self._refused_unchanged(
                gateway, functools.partial(gateway.update_end_date, b.booking_id, end)
            )

    def test_end_booking(self, gateway: ProdaGateway) -> None:
        b = gateway.create_booking(sample_booking_request())
        ended = gateway.end_booking(b.booking_id)
        assert (ended.status, ended.proda_code) == ("inactive", "DELE")
        self._refused_unchanged(gateway, lambda: gateway.end_booking(b.booking_id))
        self._refused_unchanged(gateway, lambda: gateway.update_end_date(b.booking_id, PLAN_END))

    def test_a_booking_with_payments_cannot_be_ended(self, gateway: ProdaGateway) -> None:
        b = gateway.create_booking(sample_booking_request())
        self.record_payment(gateway, b.booking_id)
        self._refused_unchanged(gateway, lambda: gateway.end_booking(b.booking_id), "payment")

    def test_an_inactive_booking_cannot_change(self, gateway: ProdaGateway) -> None:
        b = gateway.create_booking(sample_booking_request())
        self.make_inactive(gateway, b.booking_id)
        assert gateway.refresh_booking(b.booking_id).status == "inactive"
        self._refused_unchanged(gateway, lambda: gateway.update_end_date(b.booking_id, PLAN_END))

    def test_an_unknown_booking_is_not_found(self, gateway: ProdaGateway) -> None:
        before = self.state(gateway)
        calls: list[Callable[[], object]] = [
            lambda: gateway.refresh_booking("NOPE"),
            lambda: gateway.end_booking("NOPE"),
            lambda: gateway.update_end_date("NOPE", PLAN_END),
        ]
        for call in calls:
            with pytest.raises(BookingNotFound) as info:
                call()
            assert isinstance(info.value, LookupError) and info.value.booking_id == "NOPE"
        assert self.state(gateway) == before

    def test_a_reopened_gateway_holds_the_same_bookings(
        self, gateway: ProdaGateway, tmp_path: Path
    ) -> None:
        b = gateway.create_booking(sample_booking_request())
        again = self.reopen(gateway, tmp_path)
        if again is None:
            pytest.skip("the adapter does not persist")
        assert again.refresh_booking(b.booking_id).request.amount == Money.parse("900.00")
        assert again.find_plan(sample_participant(1)).end_inclusive == PLAN_END
