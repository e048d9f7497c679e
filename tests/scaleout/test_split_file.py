"""The spill's file split (lines split a block at a time, blank rows by ``str.strip``, each
participant's partition remembered) gives exactly the records, row numbers, findings and errors
of the full reader's split (``files.bpr.read_records``), the reference."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndis_rules.bpr import COLUMNS, BprFileError
from ndis_rules.files.bpr import read_records
from ndis_rules.services import spill
from ndis_rules.services.scaleout import _part_of, _participant_key

HEADER = ",".join(COLUMNS)
LINE = "4050000001,{ndis},2025/08/04,{to},01_011_0107_1_1,INV-{n},2,,70.23,P2,,,,,,51824753556"


def _split(text: str, tmp_path: Path, parts: int = 3) -> tuple[list[list[object]], object]:
    folder = spill._Folder(tmp_path)
    _, written, findings = spill._split_file(text, folder, parts, 50_000)
    out = []
    for path, count in written:
        records = list(spill._records(path))
        assert len(records) == count
        out.append(records)
        path.unlink()
    return out, findings


def _reference(text: str, parts: int = 3) -> tuple[list[list[object]], object]:
    _, records = read_records(text)
    out: list[list[object]] = [[] for _ in range(parts)]
    for number, cells in records:
        key = _participant_key(cells[1] if len(cells) > 1 else "")
        out[_part_of(key, parts)].append((number, ",".join(cells)))
    return out, records.findings


def _outcome(fn: object, *args: object) -> object:
    try:
        return fn(*args)  # type: ignore[operator]
    except BprFileError as exc:
        return ("error", str(exc), exc.problems)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("final", [True, False])
def test_the_split_is_the_readers_split(tmp_path: Path, end: str, final: bool) -> None:
    lines = ["", " , ,", HEADER]
    for n in range(40):
        lines.append(LINE.format(ndis=f"43000000{n % 7}", to="2025/08/05", n=n))
        if n % 9 == 4:
            lines.extend(["", ",,,", "\u3000 ,\x85", "\t"])
    lines.append("4050000001,not a number,x")
    lines.append("no commas at all")
    text = end.join(lines) + (end if final else "")
    got, findings = _split(text, tmp_path)
    want, want_findings = _reference(text)
    assert got == want
    assert findings == want_findings
    assert sum(map(len, got)) == 42


def test_blocks_of_lines_are_cut_after_a_line_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "_BLOCK", 7)  # many blocks, cut anywhere a block may end
    monkeypatch.setattr(spill, "_KEYS_HELD", 2)  # the partition table starts again often
    for end in ("\n", "\r\n", "\r"):
        lines = [HEADER, *(LINE.format(ndis=f"4300000{n:02d}", to="2025/08/04", n=n)
                           for n in range(30)), "", " ,"]
        text = end.join(lines) + end
        assert _split(text, tmp_path) == _reference(text)


def test_errors_are_the_readers(tmp_path: Path) -> None:
    month_first = LINE.format(ndis="430000001", to="13/08/2025", n=1).replace(
        "2025/08/04", "8/13/2025"
    )
    for text in ("", "\n , \n", "a,b,c\n" + HEADER, HEADER + "\n" + month_first + "\n"):
        got = _outcome(_split, text, tmp_path)
        want = _outcome(_reference, text)
        assert isinstance(got, tuple) and got[0] == "error"
        assert got == want


def test_the_blank_characters_are_what_strip_removes() -> None:
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(spill._BLANK_CHARS) == spaces | {","}


_CELL = st.text(alphabet="43 0,\t\r\n\x85/1-", max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(_CELL, max_size=12), st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_quote_free_text(tmp_path_factory: pytest.TempPathFactory, cells: list[str],
                             end: str) -> None:
    tmp_path = tmp_path_factory.mktemp("split")
    text = HEADER + end + end.join(
        LINE.format(ndis=c, to="2025/08/04", n=i) if i % 2 else c for i, c in enumerate(cells)
    )
    assert _outcome(_split, text, tmp_path) == _outcome(_reference, text)


def test_a_tiny_budget_opens_a_bounded_number_of_partition_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [HEADER, *(LINE.format(ndis=f"4300000{n:02d}", to="2025/08/04", n=n)
                       for n in range(60))]
    text = "\n".join(lines)
    folder = spill._Folder(tmp_path)
    _, written, _ = spill._split_file(text, folder, 3, 1)
    assert len(written) == 58  # one per budget of rows, as asked (about 130 characters a row)
    monkeypatch.setattr(spill, "_MOST_PARTS", 5)
    _, capped, _ = spill._split_file(text, folder, 3, 1)
    assert len(capped) == 5
    assert sum(n for _, n in capped) == 60


def test_the_check_is_the_same_with_fewer_partitions_than_budgets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from ndis_rules.cli import main

    root = Path(__file__).resolve().parents[2]
    book = root / "examples" / "book"
    argv = ["claims", "check", str(book / "claims.csv"), "--contracts", str(book / "contracts"),
            "--today", "2025-11-15", "--format", "json"]
    outputs = []
    for most in (256, 2):
        monkeypatch.setattr(spill, "_MOST_PARTS", most)
        out = io.StringIO()
        main([*argv, "--spill-rows", "1"], out=out)
        outputs.append(out.getvalue())
    plain = io.StringIO()
    main(argv, out=plain)
    assert outputs[0] == outputs[1] == plain.getvalue()
    assert '"rows"' in plain.getvalue()
