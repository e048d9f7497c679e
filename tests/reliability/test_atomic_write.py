"""Fault injection in :func:`ndis_rules.files.atomic.write_atomic`, the one atomic write: a
failure at every step (creating the temporary file, a disk full half-way through the write,
``fsync``, ``chmod``, ``os.replace``, an interruption) leaves the old file's bytes intact and no
temporary file behind; a folder that cannot be synced after the rename is not a failure; a
reader of the folder never sees a temporary file; the three writers use it."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ndis_rules.files import atomic
from ndis_rules.files.atomic import is_temporary, write_atomic

OLD = b'{"id": "C1", "version": 0}\n'
NEW = '{"id": "C1", "version": 1, "note": "\u00e9"}\n'


def _enospc(*_: Any, **__: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


_REAL_FDOPEN = os.fdopen


class _HalfWritten:
    """A file whose write lands half of the bytes, then finds the disk full."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def write(self, data: bytes) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)

    def __enter__(self) -> _HalfWritten:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


def _half_written(fd: int, *args: Any, **kw: Any) -> _HalfWritten:
    return _HalfWritten(_REAL_FDOPEN(fd, *args, **kw))


def _interrupt(*_: Any, **__: Any) -> Any:
    raise KeyboardInterrupt


def _fdopen_fails(fd: int, *args: Any, **kw: Any) -> Any:
    raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))


_REAL_FSYNC = os.fsync


def _fsync_file_only(fail: Callable[..., Any]) -> Callable[[int], None]:
    """Fail the fsync of a regular file (the temporary file), not that of a folder."""

    def fsync(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            fail()
        _REAL_FSYNC(fd)

    return fsync


#: (what is patched on which module, the fake, the exception expected)
STEPS: dict[str, tuple[Any, str, Callable[..., Any], type[BaseException]]] = {
    "mkstemp: disk full": (atomic.tempfile, "mkstemp", _enospc, OSError),
    "fdopen: too many files": (atomic.os, "fdopen", _fdopen_fails, OSError),
    "write: disk full half-way": (atomic.os, "fdopen", _half_written, OSError),
    "fsync: disk full": (atomic.os, "fsync", _fsync_file_only(_enospc), OSError),
    "fsync: interrupted": (atomic.os, "fsync", _fsync_file_only(_interrupt), KeyboardInterrupt),
    "chmod: refused": (atomic.os, "chmod", _enospc, OSError),
    "replace: disk full": (atomic.os, "replace", _enospc, OSError),
    "replace: interrupted": (atomic.os, "replace", _interrupt, KeyboardInterrupt),
    "stat: refused": (atomic.os, "stat", _enospc, OSError),
}


def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_failure_at_any_step_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    target = tmp_path / "c.json"
    target.write_bytes(OLD)
    before = _folder(tmp_path)
    module, name, fake, expected = STEPS[step]
    with monkeypatch.context() as m:
        m.setattr(module, name, fake)
        with pytest.raises(expected):
            write_atomic(target, NEW)
    assert _folder(tmp_path) == before  # the same bytes, and nothing else in the folder
    write_atomic(target, NEW)  # and it works again
    assert target.read_text(encoding="utf-8") == NEW and _folder(tmp_path).keys() == {"c.json"}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_failure_creating_a_new_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    module, name, fake, expected = STEPS[step]
    if name == "stat":
        pytest.skip("a new file is not stat-ed successfully anyway")
    with monkeypatch.context() as m:
        m.setattr(module, name, fake)
        with pytest.raises(expected):
            write_atomic(tmp_path / "new.json", NEW)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_synced_is_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "c.json"
    target.write_bytes(OLD)
    synced: list[int] = []

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced.append(fd)
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        _REAL_FSYNC(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    write_atomic(target, NEW)
    assert synced, "the folder was not synced"
    assert target.read_text(encoding="utf-8") == NEW and _folder(tmp_path).keys() == {"c.json"}


def test_the_file_and_the_folder_are_synced_before_and_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_replace = os.replace

    def fsync(fd: int) -> None:
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        _REAL_FSYNC(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    write_atomic(tmp_path / "c.json", NEW)
    assert events == ["fsync file", "replace", "fsync dir"]


def test_permissions_are_kept_and_new_files_get_the_mode_asked(tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_bytes(OLD)
    kept.chmod(0o640)
    write_atomic(kept, NEW)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    write_atomic(tmp_path / "private.json", NEW)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
    write_atomic(tmp_path / "shared.json", NEW, new_file_mode=0o644)
    assert stat.S_IMODE((tmp_path / "shared.json").stat().st_mode) == 0o644


def test_a_temporary_file_is_never_read_as_a_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between the write and the rename leaves a temporary file: its name is a dot file
    ending ``.tmp``, which the folder readers (``*.json``) and ``is_temporary`` recognise."""
    left: list[str] = []
    real_mkstemp = atomic.tempfile.mkstemp

    def mkstemp(*a: Any, **k: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(*a, **k)
        left.append(Path(name).name)
        return fd, name

    def crash(*_: Any) -> None:  # a power cut: the temporary file is not cleaned up
        raise SystemExit("power cut")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(atomic.os, "unlink", lambda *_: None)
    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(SystemExit):
        write_atomic(tmp_path / "c.json", NEW)
    [name] = left
    assert (tmp_path / name).exists() and is_temporary(name)
    assert list(tmp_path.glob("*.json")) == []


def test_the_three_writers_use_the_one_helper() -> None:
    """The JSON-file contract store, the JSON-file PRODA store and ``sync apply --contract``
    write through ``write_atomic``; no other module of the package calls ``os.replace``."""
    src = Path(atomic.__file__).parents[1]
    callers = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if "os.replace(" in p.read_text(encoding="utf-8")
        or "mkstemp(" in p.read_text(encoding="utf-8")
    )
    assert callers == ["files/atomic.py"]
    users = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if "write_atomic(" in p.read_text(encoding="utf-8") and p.name != "atomic.py"
    )
    assert users == ["adapters/jsonfile_store.py", "adapters/proda_jsonfile.py", "cli/sync.py"]
