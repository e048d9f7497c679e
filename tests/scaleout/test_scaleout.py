"""Scale-out gives results identical, line for line, to the single-process bulk check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndis_rules.claims import check_claims
from ndis_rules.files.bpr import read_bpr
from ndis_rules.files.contracts import load_contracts
from ndis_rules.services.scaleout import (
    CatalogueSpec,
    check_claims_dask,
    check_claims_parallel,
    check_records,
    merge_reports,
    partition_contracts,
    partition_records,
    read_records,
)

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "examples" / "book"
CATALOGUE = ROOT / "docs" / "scenarios" / "catalogues" / "catalogue-2025-26-sample.csv"
TODAY = date(2025, 11, 15)
CONTRACTS = load_contracts(BOOK / "contracts")
TEXT = (BOOK / "claims.csv").read_text(encoding="utf-8")


def single() -> dict[str, object]:
    spec = CatalogueSpec(str(CATALOGUE), region="NSW")
    report = check_claims(read_bpr(TEXT), CONTRACTS, as_of=TODAY, catalogue=spec.context())
    return report.to_dict()


EXPECTED = single()


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.randoms(use_true_random=False))
def test_partitions_merge_to_the_single_result(parts: int, rnd: object) -> None:
    _, records = read_records(TEXT)
    record_parts = partition_records(records, parts)
    contract_parts = partition_contracts(CONTRACTS, parts)
    order = list(range(parts))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    spec = CatalogueSpec(str(CATALOGUE), region="NSW")
    reports = [check_records(record_parts[i], contract_parts[i], as_of=TODAY, catalogue=spec)
               for i in order]
    assert merge_reports(reports).to_dict() == EXPECTED
    assert sum(len(p) for p in record_parts) == len(records)


def test_local_workers_give_the_same_result() -> None:
    report = check_claims_parallel(BOOK / "claims.csv", CONTRACTS, workers=2, as_of=TODAY,
                                   catalogue=CatalogueSpec(str(CATALOGUE), region="NSW"))
    assert report.to_dict() == EXPECTED


def test_duplicate_contract_ids_are_refused() -> None:
    from ndis_rules.errors import InputError

    with pytest.raises(InputError, match="repeated"):
        partition_contracts([*CONTRACTS, CONTRACTS[0]], 2)


def test_dask_local_cluster_of_two_workers() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        report = check_claims_dask(BOOK / "claims.csv", CONTRACTS, client, partitions=4,
                                   as_of=TODAY,
                                   catalogue=CatalogueSpec(str(CATALOGUE), region="NSW"))
    assert report.to_dict() == EXPECTED


@pytest.mark.parametrize("keep", ["flagged", "all"])
@pytest.mark.parametrize("partitions", [1, 3, 16])
def test_streamed_check_matches_in_bounded_memory(keep: str, partitions: int) -> None:
    from dataclasses import replace

    from ndis_rules.services.scaleout import check_claims_streamed

    spec = CatalogueSpec(str(CATALOGUE), region="NSW")
    full = check_claims(read_bpr(TEXT), CONTRACTS, as_of=TODAY, catalogue=spec.context())
    streamed = check_claims_streamed(BOOK / "claims.csv", CONTRACTS, as_of=TODAY,
                                     partitions=partitions, keep=keep,  # type: ignore[arg-type]
                                     catalogue=spec)
    assert streamed.summary == full.summary
    wanted = [replace(r, decision=None, issues=()) for r in full.rows
              if keep == "all" or r.outcome != "allowed"]
    assert [r.to_dict() for r in streamed.rows] == [r.to_dict() for r in wanted]


def test_streamed_check_reads_quoted_files_too() -> None:
    from ndis_rules.services.scaleout import check_claims_streamed

    quoted = TEXT.replace("\n", "\r\n").replace(",P2,", ',"P2",', 3)
    full = check_claims(read_bpr(quoted), CONTRACTS, as_of=TODAY)
    streamed = check_claims_streamed(quoted, CONTRACTS, as_of=TODAY, keep="all")
    assert streamed.summary == full.summary
    assert [r.row for r in streamed.rows] == [r.row for r in full.rows]


@given(st.one_of(st.none(), st.text(), st.text("0123456789"), st.text("0123456789 -²٣")))
def test_participant_key_keeps_the_digits_of_the_number(text: str | None) -> None:
    """The key a participant's rows are partitioned by: the number's digits (a short cut
    for text that is all digits gives the same key)."""
    from ndis_rules.services.scaleout import _participant_key

    assert _participant_key(text) == "".join(ch for ch in (text or "") if ch.isdigit())
    assert _participant_key(" 431 234-567") == "431234567"
