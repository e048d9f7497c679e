"""Malformed and hostile input for every reader of ours: contract / invoice / settings JSON,
scenario files and catalogue CSV. Each must answer with the library's typed error naming where
the problem is, or with a valid value: never another exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndis_rules.errors import InputError, NdisRulesError
from ndis_rules.files import catalogue as catalogue_files
from ndis_rules.files.documents import parse_model
from ndis_rules.models import Contract, Invoice, Settings
from ndis_rules.testing.scenarios import parse_scenarios, run_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONTRACT = json.loads((ROOT / "examples" / "contract.json").read_text())
EXAMPLE_INVOICES = json.loads((ROOT / "examples" / "invoices.json").read_text())["invoices"]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(["", "2025-02-30", "01", "99", "-1", "1e9", "NaN",
                                           "=cmd|' /C calc'!A0", "\x00", "70.234", "P1"]),
)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def _text(value: Any) -> str:
    try:
        return json.dumps(value)
    except ValueError:  # NaN/inf floats are still written by json.dumps; keep the guard
        return "{}"


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(st.data())
def test_mutated_contracts_fail_with_a_located_input_error(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_paths(EXAMPLE_CONTRACT)))
    mutated = _replace(EXAMPLE_CONTRACT, path, data.draw(JSON))
    try:
        parse_model(Contract, _text(mutated), "contract.json")
    except InputError as exc:
        assert str(exc).startswith("contract.json: ")
        assert exc.problems


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(st.data())
def test_mutated_invoices_fail_with_a_located_input_error(data: st.DataObject) -> None:
    invoice = EXAMPLE_INVOICES[0]
    path = data.draw(st.sampled_from(_paths(invoice)))
    mutated = _replace(invoice, path, data.draw(JSON))
    try:
        parse_model(Invoice, _text(mutated), "invoice.json")
    except InputError as exc:
        assert str(exc).startswith("invoice.json: ")


@given(st.text(max_size=200))
def test_arbitrary_text_as_json(text: str) -> None:
    for model in (Contract, Invoice, Settings):
        try:
            value = parse_model(model, text, "x.json")
        except InputError as exc:
            assert str(exc).startswith("x.json: ")
        else:
            assert isinstance(value, model)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_scenario_file(raw: bytes) -> None:
    text = raw.decode("utf-8", errors="replace")
    try:
        for scenario in parse_scenarios(text, source="s.yaml"):
            run_scenario(scenario)
    except InputError:
        pass


SCENARIO = (ROOT / "docs" / "scenarios" / "validation" / "input_and_dates.yaml").read_text()


@settings(max_examples=100)
@given(st.integers(0, len(SCENARIO) - 1), st.integers(1, 40), st.text(max_size=10))
def test_corrupted_scenario_files(start: int, length: int, junk: str) -> None:
    text = SCENARIO[:start] + junk + SCENARIO[start + length:]
    try:
        for scenario in parse_scenarios(text, source="s.yaml"):
            run_scenario(scenario)
    except InputError as exc:
        assert "s.yaml" in str(exc)


CATALOGUE = (ROOT / "tests" / "data" / "catalogue-2025-26-subset.csv").read_text(
    encoding="utf-8-sig")


@settings(max_examples=100)
@given(st.integers(0, len(CATALOGUE) - 1), st.integers(0, 30), st.text(max_size=12))
def test_corrupted_catalogue_csv(start: int, length: int, junk: str) -> None:
    text = CATALOGUE[:start] + junk + CATALOGUE[start + length:]
    try:
        catalogue_files.load_csv(text, source="cat.csv")
    except NdisRulesError as exc:
        assert "cat.csv" in str(exc)


def test_deeply_nested_document_is_an_input_error() -> None:
    hostile = ('{"id": "C", "start": "2025-07-01", "end_inclusive": "2026-06-30", "budgets": '
               + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        parse_model(Contract, hostile, "c.json")
    with pytest.raises(InputError, match="nested too deeply"):
        parse_scenarios("a: " + "[" * 5000 + "]" * 5000, source="s.json".replace("json", "yaml"))


def test_huge_values_are_read_without_trouble() -> None:
    big = '{"id": "' + "x" * 1_000_000 + '", "start": "2025-07-01", "end_inclusive": "2026-06-30"}'
    assert len(parse_model(Contract, big, "c.json").id) == 1_000_000


@pytest.mark.parametrize("text", ["\x00", "a: 1\nb: \x07", "\ufffe", "a: 'Zqxw\x01vutsrq'"])
def test_a_character_yaml_refuses_is_one_line_without_the_text(text: str) -> None:
    """Found by fuzzing the CLI: PyYAML's reader error is several lines quoting the text."""
    with pytest.raises(InputError) as info:
        parse_scenarios(text, source="s.yaml")
    message = str(info.value)
    assert "\n" not in message and "Zqxw" not in message
    assert message.startswith("s.yaml: not valid YAML at character ")


@pytest.mark.parametrize(
    ("text", "where"),
    [('{"notes": ["\\ud800"]}', "notes.0"), ('"\\uDFFF"', "the document"),
     ('{"\\udc00": 1}', "(a key)"), ('{"a": {"b": "x\\ud83dy"}}', "a.b")],
)
def test_an_unpaired_surrogate_escape_is_refused_by_its_path(text: str, where: str) -> None:
    """Found by fuzzing ``sync apply``: ``"\\ud800"`` is valid JSON but not text; read, it could
    not be written back (UTF-8 cannot encode it) and the run stopped in the last resort."""
    from ndis_rules.parsing import ParseError, json_loads

    with pytest.raises(ParseError) as info:
        json_loads(text)
    assert str(info.value).startswith(f"{where}: a \\u escape that is half of a character")
    assert json_loads('"\\ud83d\\ude00"') == "\U0001f600"  # a pair is one character


@pytest.mark.parametrize(
    ("text", "where"),
    [('a: "\\ud800"', "a"), ('1: ["x", "\\U0000DC00"]', "1.1"),
     ('- name: "\\ud800 Zqxw"', "0.name")],
)
def test_an_unpaired_surrogate_escape_in_yaml_is_refused_by_its_path(
    text: str, where: str
) -> None:
    with pytest.raises(InputError) as info:
        parse_scenarios(text, source="s.yaml")
    message = str(info.value)
    assert f"{where}: a \\u escape that is half of a character" in message
    assert "Zqxw" not in message
