"""Booking identity is PRODA's booking id (issue 14, first half, as reproduced).

The gateway fakes answer only what PRODA knows (booking id, participant, category/item, booking
type, dates, amount, status): never our contract id or source. The batch matches by the booking
id stored against the budget or support, then by the request's idempotency key, then by what PRODA
holds for the same category/item/type; it never creates what already exists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from booking_support import PM_FEES, TODAY, budget, contract, participant, proda_plan, support

from ndis_rules.adapters.proda_jsonfile import JsonFileProdaGateway
from ndis_rules.adapters.proda_memory import InMemoryProdaGateway
from ndis_rules.bookings import BookingRequest, store_booking_ids
from ndis_rules.models import Contract
from ndis_rules.money import Money
from ndis_rules.proda import Participant
from ndis_rules.services.bookings import SyncReport, sync_active_plans

ROOT = Path(__file__).resolve().parents[2]
P1 = participant(1)


def contract_for(p: Participant, **fields: object) -> Contract:
    base: dict[str, object] = {
        "id": f"C-{p.ndis_number}",
        "participant": p.ndis_number,
        "budgets": [budget("01"), budget("15", "plan", total="2000.00")],
        "support_items": PM_FEES,
    }
    base.update(fields)
    return contract(**base)


def setup(*people: Participant) -> tuple[InMemoryProdaGateway, dict[str, Contract]]:
    gw = InMemoryProdaGateway([(p, proda_plan(p)) for p in people])
    return gw, {p.ndis_number: contract_for(p) for p in people}


def sync(
    people: Sequence[Participant], contracts: object, gw: object, **kw: object
) -> SyncReport:
    return sync_active_plans(people, contracts, gw, today=TODAY, **kw)  # type: ignore[arg-type]


def created(report: SyncReport) -> int:
    return sum(len(r.created) for r in report.results)


# -- the fake answers only what PRODA knows --------------------------------------------------------


def test_the_fake_never_echoes_our_keys() -> None:
    gw, contracts = setup(P1)
    sync([P1], contracts, gw)
    for b in gw.list_bookings(P1):
        assert b.request.contract_id != "C-430000001"
        assert b.request.source_kind == "external" and b.request.source_id == b.booking_id
        assert b.request.participant == P1.ndis_number


# -- re-runs ---------------------------------------------------------------------------------------


def test_reruns_create_nothing_more() -> None:
    gw, contracts = setup(P1)
    counts = []
    for _ in range(3):
        report = sync([P1], contracts, gw)
        counts.append((created(report), len(gw.bookings)))
        assert report.results[0].outcome == "success"
    assert counts == [(4, 4), (0, 4), (0, 4)]


def test_rerun_matches_by_the_booking_id_stored_in_the_book() -> None:
    gw, contracts = setup(P1)
    first = sync([P1], contracts, gw).results[0]
    assert set(first.booking_ids) == {
        "support:PM-SETUP",
        "support:PM-MONTHLY",
        "budget:01:agency",
        "budget:15:plan",
    }
    booked = store_booking_ids(contracts[P1.ndis_number], first.booking_ids)
    assert booked.budgets[0].booking_id == first.booking_ids["budget:01:agency"]
    assert booked.support_items[0].booking_id == first.booking_ids["support:PM-SETUP"]
    gw.idempotency.clear()  # PRODA's idempotency window is long gone
    again = sync([P1], {P1.ndis_number: booked}, gw).results[0]
    assert again.created == () and len(gw.bookings) == 4
    assert sorted(again.refreshed) == sorted(first.created)


def test_without_ids_or_keys_an_existing_booking_is_adopted_not_duplicated() -> None:
    gw, contracts = setup(P1)
    sync([P1], contracts, gw)
    gw.idempotency.clear()
    again = sync([P1], contracts, gw).results[0]
    assert again.created == () and len(gw.bookings) == 4
    assert {a.action for a in again.actions} == {"adopted"}


def test_the_fake_and_the_store_honour_idempotency_keys(tmp_path: Path) -> None:
    for gw in (InMemoryProdaGateway(), JsonFileProdaGateway(tmp_path / "proda.json")):
        gw.register(P1, proda_plan(P1))
        r = BookingRequest(
            contract_id="C1", participant=P1.ndis_number, source_kind="budget",
            source_id="01:agency", category="01", type="standard", start=TODAY,
            end_inclusive=proda_plan(P1).end_inclusive, amount=Money.parse("10.00"),
        )
        a = gw.create_booking(r, idempotency_key="k1")
        b = gw.create_booking(r, idempotency_key="k1")
        c = gw.create_booking(r, idempotency_key="k2")
        assert a.booking_id == b.booking_id != c.booking_id
        assert len(gw.list_bookings(P1)) == 2


# -- concurrency -----------------------------------------------------------------------------------


def test_two_batches_at_once_on_one_gateway_create_no_duplicates() -> None:
    people = [participant(n) for n in range(1, 11)]
    for _trial in range(30):
        gw, contracts = setup(*people)
        start = threading.Barrier(2)
        reports: list[SyncReport] = []

        def batch(order: list[Participant], start: threading.Barrier = start) -> None:
            start.wait()
            reports.append(sync(order, contracts, gw))  # noqa: B023

        threads = [
            threading.Thread(target=batch, args=(people,)),
            threading.Thread(target=batch, args=(people[::-1],)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(gw.bookings) == 4 * len(people)
        assert sum(created(r) for r in reports) == 4 * len(people)
        assert all(r.success == len(people) for r in reports)


def test_two_cli_runs_on_the_json_store_create_no_duplicates(tmp_path: Path) -> None:
    examples = ROOT / "examples" / "bookings"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for trial in range(4):
        work = tmp_path / f"t{trial}"
        shutil.copytree(examples, work)
        before = len(json.loads((work / "gateway.json").read_text())["bookings"])
        argv = [
            sys.executable, "-m", "ndis_rules", "bookings", "sync",
            "--participants", str(work / "participants.json"),
            "--contracts", str(work / "contracts"),
            "--gateway", str(work / "gateway.json"),
            "--today", "2025-09-01", "--format", "json",
        ]
        procs = [
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            for _ in range(2)
        ]
        outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
        made = sum(len(r["created"]) for out in outs for r in out["results"])
        after = json.loads((work / "gateway.json").read_text())["bookings"]
        assert len(after) - before == made
        one = outs[0]["results"]
        planned = sum(len(r["bookings"]) for r in one if r["outcome"] != "no_active_contract")
        assert made == planned  # made once between the two runs, never twice


# -- budget changes --------------------------------------------------------------------------------


def test_a_budget_total_change_updates_its_booking() -> None:
    gw, contracts = setup(P1)
    first = sync([P1], contracts, gw).results[0]
    grown = contract_for(
        P1, budgets=[budget("01", total="1500.00"), budget("15", "plan", total="2000.00")]
    )
    again = sync([P1], {P1.ndis_number: grown}, gw).results[0]
    assert again.outcome == "success" and again.created == ()
    booking_id = first.booking_ids["budget:01:agency"]
    assert gw.bookings[booking_id].request.amount == Money.parse("1500.00")
    assert [(a.action, a.booking_id) for a in again.actions if a.action == "updated"] == [
        ("updated", booking_id)
    ]


def test_a_support_amount_change_ends_and_replaces_its_booking() -> None:
    gw, contracts = setup(P1)
    first = sync([P1], contracts, gw).results[0]
    fees = [
        support("PM-SETUP", "14_033_0127_8_3", "14", rate="250.00", management="agency"),
        PM_FEES[1],
    ]
    changed = contract_for(P1, support_items=fees)
    again = sync([P1], {P1.ndis_number: changed}, gw).results[0]
    old = first.booking_ids["support:PM-SETUP"]
    new = again.booking_ids["support:PM-SETUP"]
    assert new != old and gw.bookings[old].status == "inactive"
    assert gw.bookings[new].request.amount == Money.parse("250.00")
    assert again.outcome == "success"
    third = sync([P1], {P1.ndis_number: store_booking_ids(changed, again.booking_ids)}, gw)
    assert created(third) == 0


def test_a_later_budget_end_extends_its_booking() -> None:
    gw, _ = setup(P1)
    short = contract_for(
        P1, budgets=[budget("01", start="2025-07-01", end_inclusive="2026-03-31")],
        support_items=[],
    )
    first = sync([P1], {P1.ndis_number: short}, gw).results[0]
    longer = contract_for(
        P1, budgets=[budget("01", start="2025-07-01", end_inclusive="2026-06-30")],
        support_items=[],
    )
    again = sync([P1], {P1.ndis_number: longer}, gw).results[0]
    [booking_id] = first.created
    assert again.created == () and gw.bookings[booking_id].end_inclusive.isoformat() == "2026-06-30"


# -- rejected, replaced, completed -----------------------------------------------------------------


def test_a_rejected_booking_later_replaced_reports_replaced() -> None:
    gw, _ = setup(P1)
    c = contract_for(P1, support_items=[], budgets=[budget("01")])
    gw.reject_bookings("participant not found", times=1)
    first = sync([P1], {P1.ndis_number: c}, gw).results[0]
    assert first.outcome == "failed"
    [rejected] = first.created
    # the plan manager makes a replacement in PRODA, which approves it
    replacement = gw.create_booking(
        BookingRequest(
            contract_id="portal", participant=P1.ndis_number, source_kind="external",
            source_id="x", category="01", type="standard", start=TODAY,
            end_inclusive=proda_plan(P1).end_inclusive, amount=Money.parse("1000.00"),
        )
    )
    gw.refresh_booking(replacement.booking_id)
    stored = store_booking_ids(c, first.booking_ids)
    for book in (c, stored):
        again = sync([P1], {P1.ndis_number: book}, gw).results[0]
        assert again.outcome == "success", again.message
        assert again.created == ()
        assert [(a.action, a.booking_id, a.replaces) for a in again.actions] == [
            ("replaced", replacement.booking_id, rejected)
        ]
        assert again.booking_ids == {"budget:01:agency": replacement.booking_id}


def test_a_completed_booking_on_a_live_budget_is_not_success() -> None:
    gw, contracts = setup(P1)
    first = sync([P1], contracts, gw).results[0]
    done = first.booking_ids["budget:01:agency"]
    gw.make_inactive(done)
    again = sync([P1], contracts, gw).results[0]
    assert again.outcome == "failed"
    assert "CMPD" in again.message and "budget:01:agency" in again.message
    assert again.created == () and len(gw.bookings) == 4
    assert [a.action for a in again.actions if a.booking_id == done] == ["inactive"]


# -- bookings left out with errors ----------------------------------------------------------


def test_bookings_left_out_with_errors_are_reported() -> None:
    gw, _ = setup(P1)
    outside = contract_for(
        P1, support_items=[], budgets=[budget("01"), budget("07", start="2025-01-01",
                                                          end_inclusive="2025-12-31")],
    )
    result = sync([P1], {P1.ndis_number: outside}, gw).results[0]
    assert result.left_out == ("budget:07:agency",)
    assert "left out" in result.message


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_cli_sync_exits_1_when_planned_bookings_were_left_out(tmp_path: Path, fmt: str) -> None:
    from ndis_rules.cli import main

    work = tmp_path / "b"
    shutil.copytree(ROOT / "examples" / "bookings", work)
    path = work / "contracts" / "C-LEGACY-1.json"
    data = json.loads(path.read_text())
    data["budgets"].append(
        budget("07", start="2025-01-01", end_inclusive="2025-12-31")
    )
    path.write_text(json.dumps(data))
    participants = [p for p in json.loads((work / "participants.json").read_text())
                    if data["id"] in p.get("contracts", [])]
    (work / "one.json").write_text(json.dumps(participants))
    import io

    out = io.StringIO()
    code = main(
        ["bookings", "sync", "--participants", str(work / "one.json"), "--contracts",
         str(work / "contracts"), "--gateway", str(work / "gateway.json"), "--today",
         "2025-09-01", "--format", fmt],
        out=out,
    )
    assert code == 1
    assert "left out" in out.getvalue()


def test_cli_store_ids_writes_prodas_ids_into_the_contract_files(tmp_path: Path) -> None:
    import io

    from ndis_rules.cli import main
    from ndis_rules.files.documents import read_contract

    work = tmp_path / "b"
    shutil.copytree(ROOT / "examples" / "bookings", work)
    argv = ["bookings", "sync", "--participants", str(work / "participants.json"),
            "--contracts", str(work / "contracts"), "--gateway", str(work / "gateway.json"),
            "--today", "2025-09-01", "--format", "json"]
    out = io.StringIO()
    main([*argv, "--store-ids"], out=out)
    [legacy] = [r for r in json.loads(out.getvalue())["results"] if r["booking_ids"]]
    stored = read_contract(work / "contracts" / "C-LEGACY-1.json")
    from ndis_rules.bookings import stored_booking_ids

    assert stored_booking_ids(stored) == legacy["booking_ids"]
    # PRODA forgets the idempotency keys: the stored ids still find every booking
    state = json.loads((work / "gateway.json").read_text())
    state["idempotency"] = {}
    (work / "gateway.json").write_text(json.dumps(state))
    out = io.StringIO()
    main(argv, out=out)
    again = json.loads(out.getvalue())["results"]
    assert sum(len(r["created"]) for r in again) == 0
    assert {a["action"] for r in again for a in r["actions"]} == {"refreshed"}
