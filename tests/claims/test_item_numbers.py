"""Support item numbers (spec/claims-files.md "Item number")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ndis_rules.errors import InputError
from ndis_rules.items import SUFFIXES, ItemNumber, parse_item_number
from ndis_rules.models import is_valid_item_number


def test_parts_of_a_core_item() -> None:
    assert parse_item_number("01_011_0107_1_1") == ItemNumber(
        "01", "011", "0107", "1", 1, None, "01_011_0107_1_1"
    )


@pytest.mark.parametrize(
    ("number", "purpose", "name"),
    [
        ("01_011_0107_1_1", 1, "core"),
        ("05_150300111_0123_2_2", 2, "capital"),
        ("15_617_0128_1_3", 3, "capacity_building"),
    ],
)
def test_purpose(number: str, purpose: int, name: str) -> None:
    parsed = parse_item_number(number)
    assert (parsed.purpose, parsed.purpose_name) == (purpose, name)


@pytest.mark.parametrize("suffix", sorted(SUFFIXES))
def test_therapy_suffixes(suffix: str) -> None:
    parsed = parse_item_number(f"15_617_0128_1_3_{suffix}")
    assert parsed.suffix == suffix
    assert parsed.base == "15_617_0128_1_3"
    assert str(parsed) == f"15_617_0128_1_3_{suffix}"


def test_iso_9999_and_four_digit_sequences() -> None:
    assert parse_item_number("05_150300111_0123_2_2").sequence == "150300111"
    assert parse_item_number("05_0002_0103_1_2").sequence == "0002"  # listed in 2026-27


def test_quirks_trailing_space_and_bereavement() -> None:
    assert parse_item_number("05_150300111_0123_2_2 ").text == "05_150300111_0123_2_2"
    bereavement = parse_item_number("Bereavement")
    assert not bereavement.is_standard
    assert (bereavement.legacy_category, bereavement.registration_group) == ("14", "0127")
    assert parse_item_number("01_011_0107_1_1").is_standard


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "01-011-0107-1-1",
        "1_011_0107_1_1",
        "01_011_107_1_1",
        "01_011_0107_1",
        "01_011_0107_1_4",  # purpose 4
        "22_011_0107_1_1",  # category 22
        "15_617_0128_1_3_XX",  # unknown suffix
        "15_617_0128_1_3_th",
        "bereavement",
        "\u0660\u0661_011_0107_1_1",  # non-ASCII digits
    ],
)
def test_malformed_numbers_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError, match="not a support item number"):
        parse_item_number(bad)


def test_a_non_string_is_an_input_error() -> None:
    with pytest.raises(InputError, match="must be text"):
        parse_item_number(1011010711)  # type: ignore[arg-type]


@given(st.text(max_size=30))
def test_any_text_parses_or_gives_input_error(text: str) -> None:
    try:
        parsed = parse_item_number(text)
    except InputError:
        return
    assert is_valid_item_number(parsed.text)


@given(
    st.integers(1, 21),
    st.from_regex(r"[0-9]{3,9}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.integers(0, 9),
    st.integers(1, 3),
    st.sampled_from([None, *SUFFIXES]),
)
def test_well_formed_numbers_round_trip(
    cat: int, seq: str, reg: str, dom: int, purpose: int, suffix: str | None
) -> None:
    text = f"{cat:02d}_{seq}_{reg}_{dom}_{purpose}" + (f"_{suffix}" if suffix else "")
    parsed = parse_item_number(text + " ")
    assert parsed.text == text
    assert (parsed.legacy_category, parsed.sequence, parsed.registration_group) == (
        f"{cat:02d}",
        seq,
        reg,
    )
    assert (parsed.outcome_domain, parsed.purpose, parsed.suffix) == (str(dom), purpose, suffix)
