"""The one code registry (ndis_rules.codes): every family complete and consistent, every code
string of the source registered, every registered code produced by a test or a scenario, and
``ndis-rules codes`` listing each family with what to do."""

from __future__ import annotations

import ast
import functools
import io
import json
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import ValidationError

from ndis_rules.bookings import BOOKING_CODES, BookingRuleError
from ndis_rules.bpr import parse_bpr
from ndis_rules.claims import FILE_CODES, check_claims
from ndis_rules.cli.main import main
from ndis_rules.codes import (
    FAMILIES,
    REGISTRY,
    Family,
    codes_of,
    codes_reference,
    lookup,
    registry,
    spec_for,
)
from ndis_rules.merge import CONFLICT_CODES, Conflict
from ndis_rules.models import Contract
from ndis_rules.pace import NDIA_CATEGORY_CODES
from ndis_rules.testing.booking_scenarios import run_booking_scenario
from ndis_rules.testing.scenarios import load_scenario_file, run_scenario, scenario_files
from ndis_rules.testing.sync_scenarios import run_sync_scenario

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "ndis_rules"
GRADED: frozenset[Family] = frozenset({"rule", "booking", "file"})


# -- the registry itself ----------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_is_complete_and_consistent(family: Family) -> None:
    specs = REGISTRY[family]
    assert list(specs) == list(codes_of(family)), "the registry follows the family's Literal"
    for code, spec in specs.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", code)
        assert (spec.code, spec.family) == (code, family)
        if family in GRADED:
            assert spec.severity in {"error", "warning", "info"}, code
            assert spec.default_severity == spec.severity
        else:
            assert spec.severity is None, f"{code}: {family} codes are not graded"
            with pytest.raises(ValueError, match="has no severity"):
                _ = spec.default_severity
        assert spec.source and spec.template, code
        assert re.fullmatch(r"[A-Z][^\n]{10,200}\.", spec.what_to_do), (
            f"{code}: what to do is one sentence a plan manager can act on"
        )
        if spec.ndia_rejection is not None:
            assert re.fullmatch(r"[AC]\d\d(/[AC]\d\d)*|capped price", spec.ndia_rejection), code
        fields = re.findall(r"\{([^{}]*)\}", spec.template)
        assert all(re.fullmatch(r"[a-z_]+", f) for f in fields), (code, fields)


def test_the_public_families_are_views_of_the_registry() -> None:
    assert BOOKING_CODES is REGISTRY["booking"]
    assert codes_of("conflict") == CONFLICT_CODES
    assert codes_of("file") == FILE_CODES


def test_a_code_in_two_families_has_a_spec_in_each() -> None:
    assert [s.family for s in lookup("BOOKING_DATES_INVALID")] == ["booking", "refusal"]
    assert spec_for("booking", "BOOKING_DATES_INVALID").severity == "error"
    assert spec_for("refusal", "BOOKING_DATES_INVALID").severity is None
    assert lookup("NOT_A_CODE") == ()
    with pytest.raises(KeyError):
        spec_for("rule", "NEW_PLAN")


def test_codes_are_unique_across_families_but_for_the_known_one() -> None:
    seen: dict[str, list[str]] = {}
    for spec in registry():
        seen.setdefault(spec.code, []).append(spec.family)
    assert {c: f for c, f in seen.items() if len(f) > 1} == {
        "BOOKING_DATES_INVALID": ["booking", "refusal"]
    }


def test_a_conflict_code_is_checked_where_conflicts_are_built() -> None:
    ok = Conflict(code="NEW_PLAN", subject="plan", message="m")
    assert ok.id == "NEW_PLAN:plan"
    with pytest.raises(ValidationError):
        Conflict(code="NEW_PLANS", subject="plan", message="m")  # type: ignore[arg-type]


def test_booking_findings_use_the_registry_templates() -> None:
    from ndis_rules.bookings import plan_bookings

    c = Contract.model_validate(
        {"id": "C1", "participant": "430000001", "pace": True, "start": "2025-07-01",
         "end_inclusive": "2026-06-30"}
    )  # fmt: skip
    [finding] = plan_bookings(c, plan_manager="PM1").findings
    spec = spec_for("booking", finding.code)
    assert finding.message == spec.template.format(contract="C1")
    assert finding.severity == spec.severity


# -- every code used in the source is registered -------------------------------------------------
#: Upper-snake strings of the source that are not codes, and why.
NOT_CODES: dict[str, str] = {
    "NDIS_NUMBER": "an argparse metavar",
    "CAPACITY_BUILDING": "a PACE support type (pace.SupportType)",
    "NOT_SYNCHRONISED": "a constant's name forwarded from an old import path (booking_sync.py)",
    "PLAN_MANAGED": "a PRODA booking type as a gateway names it (adapters.quickclaim)",
    "NDIS_RULES_FAST_PATH": "an environment variable of the claims check (cli/claims.py)",
    **dict.fromkeys(
        (name for name in NDIA_CATEGORY_CODES if "_" in name),
        "an NDIA support category name a payload may use (pace.py)",
    ),
    "NDIS_RULES_BPR_READER": "an environment variable choosing the BPR reader (bpr_columnar.py)",
}
_UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


@functools.cache
def _source_strings() -> dict[str, set[str]]:
    """Every upper-snake string constant of the package, by file, outside ``__all__`` lists."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exported: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                exported |= {id(n) for n in ast.walk(node.value)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in exported
                and _UPPER_SNAKE.fullmatch(node.value)
            ):
                found.setdefault(node.value, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_code_string_in_the_source_is_registered() -> None:
    strings = _source_strings()
    registered = {s.code for s in registry()}
    unknown = {
        s: sorted(files)
        for s, files in strings.items()
        if s not in registered and s not in NOT_CODES
    }
    assert unknown == {}, (
        "register these codes in ndis_rules.codes (or list them in NOT_CODES with a reason)"
    )
    assert set(NOT_CODES) <= set(strings), "NOT_CODES lists strings the source no longer has"


def test_the_source_scan_sees_the_codes_of_every_family() -> None:
    strings = _source_strings()
    for family in FAMILIES:
        assert set(codes_of(family)) & set(strings), family
    assert any(f.startswith("src/ndis_rules/merge/") for f in strings["TOTAL_BELOW_DELIVERED"])
    assert "src/ndis_rules/claims.py" in strings["NO_CONTRACT_FOR_PARTICIPANT"]


# -- every registered code is produced -----------------------------------------------------------
#: Registered codes no test or scenario produces yet, with the reason (empty: all are produced).
NOT_YET_PRODUCED: dict[tuple[Family, str], str] = {}


def _produced_rule_codes() -> set[str]:
    out: set[str] = set()
    for f in scenario_files([ROOT / "docs" / "scenarios"]):
        for s in load_scenario_file(f):
            for inv in run_scenario(s, explain=False).decisions:
                for ld in inv.lines:
                    out |= set(ld.codes)
    return out


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _produced_conflict_codes() -> set[str]:
    """The conflicts of the sync scenarios that pass: their runner compares the expected codes
    with the change set's (as a multiset), so a passing scenario produced them."""
    out: set[str] = set()
    for path in sorted((ROOT / "docs" / "scenarios" / "sync").glob("*.yaml")):
        data = _load(path)
        if run_sync_scenario(data) == []:
            out |= set(data["expect"].get("conflicts", []))
    return out


def _produced_booking_codes() -> set[str]:
    """The findings of the booking scenarios that pass (compared with the plan's findings)."""
    out: set[str] = set()
    for path in sorted((ROOT / "docs" / "scenarios" / "bookings").glob("*.yaml")):
        data = _load(path)
        if run_booking_scenario(data) == []:
            out |= set(data["expect"].get("findings", []))
    return out


def _refusal_cases() -> list[tuple[str, Callable[[], object]]]:
    sys.path.insert(0, str(ROOT / "tests" / "bookings"))  # as pytest's default import mode does
    try:
        from test_booking_lifecycle import CASES
    finally:
        sys.path.remove(str(ROOT / "tests" / "bookings"))
    return list(CASES)


def _produced_refusal_codes() -> set[str]:
    out: set[str] = set()
    for _code, call in _refusal_cases():
        try:
            call()
        except BookingRuleError as err:
            out.add(err.code)
    return out


HEADER = (
    "RegistrationNumber,NDISNumber,SupportsDeliveredFrom,SupportsDeliveredTo,SupportNumber,"
    "ClaimReference,Quantity,Hours,UnitPrice,GSTCode,AuthorisedBy,ParticipantApproved,"
    "InKindFundingProgram,ClaimType,CancellationReason,ABN of Support Provider"
)


def _produced_file_codes() -> set[str]:
    line = "4050000001,{n},2025/08/04,2025/08/04,01_011_0107_1_1,{ref},2,,70.23,P2,,,,,,51824753556"
    text = "\n".join(
        [
            HEADER,
            line.format(n="431234567", ref=""),  # no claim reference: the reader rejects it
            line.format(n="531234567", ref="INV-2"),  # not 43..., and no contract
        ]
    )
    report = check_claims(parse_bpr(text), [], as_of=date(2025, 11, 15))
    return {c for r in report.rows for c in r.codes}


PRODUCERS: dict[Family, Callable[[], set[str]]] = {
    "rule": _produced_rule_codes,
    "conflict": _produced_conflict_codes,
    "booking": _produced_booking_codes,
    "refusal": _produced_refusal_codes,
    "file": _produced_file_codes,
}


@pytest.mark.parametrize("family", FAMILIES)
def test_every_registered_code_is_produced(family: Family) -> None:
    produced = PRODUCERS[family]()
    assert produced <= set(codes_of(family)), "produced codes that are not registered"
    waived = {code for (f, code) in NOT_YET_PRODUCED if f == family}
    assert produced & waived == set(), "a waived code is produced now: drop its waiver"
    assert set(codes_of(family)) - produced - waived == set(), (
        f"{family} codes no test or scenario produces (produce them, or list them in "
        "NOT_YET_PRODUCED with the reason)"
    )


def test_waivers_name_registered_codes_with_a_reason() -> None:
    for (family, code), reason in NOT_YET_PRODUCED.items():
        assert code in REGISTRY[family] and reason.strip()


# -- the command and the page ------------------------------------------------------------------
def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_the_command_lists_every_family() -> None:
    code, text = run("codes")
    assert code == 0
    for spec in registry():
        assert re.search(rf"^{spec.family}\s+{spec.code}\s", text, re.M), spec.code
    assert text.count("what to do: ") == len(registry())


@pytest.mark.parametrize("family", FAMILIES)
def test_the_command_filters_by_family(family: Family) -> None:
    code, text = run("codes", "--family", family, "--format", "json")
    assert code == 0
    data = json.loads(text)
    assert [d["code"] for d in data] == list(codes_of(family))
    for d in data:
        spec = spec_for(family, d["code"])
        assert d["family"] == family
        assert d["what_to_do"] == spec.what_to_do
        assert d["ndia_rejection"] == spec.ndia_rejection
        assert d["severity"] == spec.severity
        assert {"source", "template", "severity_changes", "ours"} <= set(d)
    code, table = run("codes", "--family", family)
    assert code == 0
    assert {line.split()[0] for line in table.splitlines() if not line.startswith(" ")} == {
        family
    }


def test_the_json_listing_keeps_its_old_fields_and_rule_severity_changes() -> None:
    _, text = run("codes", "--format", "json")
    data = json.loads(text)
    assert len(data) == len(registry())
    first = data[0]
    assert list(first)[:5] == ["code", "severity", "source", "ndia_rejection", "template"]
    by_code = {(d["family"], d["code"]): d for d in data}
    assert by_code[("rule", "SUPPORT_ITEM_BUDGET_EXCEEDED")]["severity_changes"] == [
        "bulk_import: error",
        "support_item_overdraw_is_error: error",
    ]


def test_an_unknown_family_is_a_usage_error() -> None:
    code, _ = run("codes", "--family", "rules")
    assert code == 2


def test_the_page_lists_every_family_and_what_to_do() -> None:
    page = codes_reference()
    for family in FAMILIES:
        assert f"(`{family}`)" in page
    for spec in registry():
        assert f"| `{spec.code}` |" in page
        assert spec.what_to_do in page
    assert page == (ROOT / "docs" / "codes.md").read_text()


def test_literal_types_match_the_public_aliases() -> None:
    from ndis_rules import bookings, merge

    assert get_args(bookings.BookingCode) == codes_of("booking")
    assert get_args(bookings.RefusalCode) == codes_of("refusal")
    assert get_args(merge.ConflictCode) == codes_of("conflict")
