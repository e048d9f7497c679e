"""``claims write`` writes its upload files all or nothing: into a temporary folder beside the
target, renamed into place whole. An existing non-empty folder is refused (a folder never mixes
two runs: uploading it would claim an older run's rows again); a full disk leaves nothing."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.cli import main
from ndis_rules.files import atomic
from ndis_rules.files.bpr import read_bpr

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = ROOT / "examples" / "book" / "claims.csv"


def run(*argv: str) -> tuple[int, str]:
    stream = io.StringIO()
    code = main(list(argv), out=stream)
    return code, stream.getvalue()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_previous_runs_folder_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "upload"
    out.mkdir()
    (out / "bpr003.csv").write_text("an older run\n")
    code, text = run("claims", "write", "--from", str(CLAIMS), "--out", str(out))
    err = capsys.readouterr().err
    assert code == 2 and text == "" and err.count("\n") == 1
    assert "already exists and is not an empty folder" in err
    assert sorted(p.name for p in out.iterdir()) == ["bpr003.csv"]
    assert (out / "bpr003.csv").read_text() == "an older run\n"
    assert _leftovers(tmp_path) == []


def test_a_new_folder_holds_exactly_this_runs_files(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "upload"
    code, text = run("claims", "write", "--from", str(CLAIMS), "--out", str(out))
    assert code == 1 and "kept 28 of 30" in text  # two rows were left out
    assert sorted(p.name for p in out.iterdir()) == ["bpr001.csv"]
    assert len(read_bpr(out / "bpr001.csv")) == 28
    assert _leftovers(out.parent) == []


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    out = tmp_path / "upload"
    out.mkdir()
    code, _ = run("claims", "write", "--from", str(CLAIMS), "--out", str(out))
    assert code == 1 and sorted(p.name for p in out.iterdir()) == ["bpr001.csv"]


def _full_after(limit: int) -> Any:
    real = os.write
    written = {"n": 0}

    def write(fd: int, data: Any) -> int:
        chunk = bytes(data)
        room = limit - written["n"]
        if room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real(fd, chunk[:room])
        written["n"] += n
        return n

    return write


@pytest.mark.parametrize("limit", [0, 1, 500, 3000])
def test_a_full_disk_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    limit: int,
) -> None:
    out = tmp_path / "upload"
    monkeypatch.setattr(atomic.os, "write", _full_after(limit))
    code, text = run("claims", "write", "--from", str(CLAIMS), "--out", str(out))
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2 and text == "" and "No space left on device" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no half file, no temp folder
    code, _ = run("claims", "write", "--from", str(CLAIMS), "--out", str(out))  # room again
    assert code == 1 and len(read_bpr(out / "bpr001.csv")) == 28


def test_a_failed_rename_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*_: Any) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.os, "rename", refuse)
    code, _ = run("claims", "write", "--from", str(CLAIMS), "--out", str(tmp_path / "upload"))
    monkeypatch.undo()
    assert code == 2 and "Permission denied" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
