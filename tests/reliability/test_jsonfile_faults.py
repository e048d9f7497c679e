"""Fault injection in the JSON-file contract store, checked by reading the directory back:
disk full while creating, writing or syncing the temporary file, ``os.replace`` failing, the
lock failing, the unlink of a delete failing, and an interruption mid-write. After each failure
the directory holds exactly the files (and bytes) from before, no temporary file is left, and
the error is a typed ``StoreError`` (``StoreUnavailable``), never a raw ``OSError``."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.adapters import jsonfile_store
from ndis_rules.adapters.jsonfile_store import JsonFileContractRepository
from ndis_rules.files import atomic
from ndis_rules.models import Contract
from ndis_rules.store_errors import StoreError, StoreUnavailable

BASE = Contract.model_validate(
    {
        "id": "C/1",
        "start": "2025-07-01",
        "end_inclusive": "2026-06-30",
        "budgets": [{"category": "01", "management": "plan", "total": "1000.00"}],
    }
)
CHANGED = BASE.model_copy(update={"notes": ("changed",)})


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name != ".lock"}


def _enospc(*_: Any, **__: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _FullFile:
    """A file whose writes fail half-way: the first bytes land, then the disk is full."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def write(self, data: str) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)

    def __enter__(self) -> _FullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


_REAL_FDOPEN = os.fdopen


def _full_fdopen(fd: int, *args: Any, **kw: Any) -> _FullFile:
    return _FullFile(_REAL_FDOPEN(fd, *args, **kw))


FAULTS: dict[str, tuple[str, Callable[..., Any]]] = {
    "mkstemp: disk full": ("tempfile.mkstemp", _enospc),
    "write: disk full half-way": ("os.fdopen", _full_fdopen),
    "fsync: disk full": ("os.fsync", _enospc),
    "os.replace: refused": (
        "os.replace",
        lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EACCES, "Permission denied")),
    ),
    "os.replace: disk full": ("os.replace", _enospc),
    "lock file: cannot open": (
        "os.open",
        lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only file system")),
    ),
    "flock: no locks": (
        "fcntl.flock",
        lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOLCK, "No locks available")),
    ),
}


def _patch(monkeypatch: pytest.MonkeyPatch, target: str, fake: Callable[..., Any]) -> None:
    module, name = target.split(".")
    if module == "os":
        monkeypatch.setattr(jsonfile_store.os, name, fake)
    elif module == "tempfile":
        monkeypatch.setattr(atomic.tempfile, name, fake)
    else:
        if jsonfile_store.fcntl is None:  # pragma: no cover - not POSIX
            pytest.skip("no fcntl")
        monkeypatch.setattr(jsonfile_store.fcntl, name, fake)


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("op", ["update", "insert", "delete"])
def test_a_failed_write_leaves_the_directory_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, op: str
) -> None:
    repo = JsonFileContractRepository(tmp_path)
    repo.save(BASE, expected_version=None)
    before = _files(tmp_path)
    target, fake = FAULTS[fault]
    if op == "delete" and target in {"tempfile.mkstemp", "os.fdopen", "os.fsync", "os.replace"}:
        target, fake = "os.unlink", _enospc  # a delete writes nothing: fail its unlink
    with monkeypatch.context() as m:
        _patch(m, target, fake)
        with pytest.raises(StoreError) as info:
            match op:
                case "update":
                    repo.save(CHANGED, expected_version=0)
                case "insert":
                    repo.save(CHANGED.model_copy(update={"id": "C2"}), expected_version=None)
                case "delete":
                    repo.delete("C/1", expected_version=0)
    assert isinstance(info.value, StoreUnavailable) and type(info.value) is not OSError
    assert _files(tmp_path) == before  # same files, same bytes, no temporary file left
    fresh = JsonFileContractRepository(tmp_path)
    assert fresh.get("C/1") == BASE and fresh.ids() == ["C/1"]
    assert repo.save(CHANGED, expected_version=0).version == 1  # and it works again


def test_flock_failing_is_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: an ``OSError`` from ``fcntl.flock`` (ENOLCK on some network file systems)
    escaped raw from save and delete."""
    repo = JsonFileContractRepository(tmp_path)
    repo.save(BASE, expected_version=None)
    _patch(monkeypatch, "fcntl.flock", FAULTS["flock: no locks"][1])
    with pytest.raises(StoreUnavailable, match="No locks available"):
        repo.save(CHANGED, expected_version=0)
    with pytest.raises(StoreUnavailable, match="No locks available"):
        repo.delete("C/1")


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interruption_mid_write_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[BaseException]
) -> None:
    repo = JsonFileContractRepository(tmp_path)
    repo.save(BASE, expected_version=None)
    before = _files(tmp_path)

    def interrupted(*_: Any) -> None:
        raise error("interrupted")

    monkeypatch.setattr(jsonfile_store.os, "fsync", interrupted)
    with pytest.raises(error):
        repo.save(CHANGED, expected_version=0)
    monkeypatch.undo()
    assert _files(tmp_path) == before
    assert repo.save(CHANGED, expected_version=0).version == 1


def test_a_stray_temporary_file_is_never_a_contract(tmp_path: Path) -> None:
    """A crash between mkstemp and os.replace leaves ``.tmp-*.json`` behind: never listed."""
    repo = JsonFileContractRepository(tmp_path)
    repo.save(BASE, expected_version=None)
    fd, _ = tempfile.mkstemp(dir=tmp_path, prefix=".tmp-", suffix=".json")
    os.write(fd, b'{"id": "half')
    os.close(fd)
    assert repo.ids() == ["C/1"] and repo.get("C/1") == BASE
