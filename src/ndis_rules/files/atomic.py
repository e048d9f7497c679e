"""Atomic file writes: a reader sees the old file or the new one, never half of one.

:func:`write_atomic` is the one way ndis-rules replaces a file (the JSON-file contract store,
the JSON-file PRODA store, ``sync apply --contract FILE``):

1. write the bytes to a temporary file **in the same folder** (a rename is atomic only within
   one file system), named ``.<name>.<random>.tmp``: a dot file with a ``.tmp`` suffix, which
   no reader of a folder picks up (they read ``*.json`` and skip dot files);
2. flush it and ``fsync`` it (the bytes are on the disk before the name points at them);
3. give it the permissions of the file it replaces (a new file gets ``new_file_mode``);
4. ``os.replace`` it over the target (atomic on POSIX and Windows);
5. ``fsync`` the folder, so the rename itself survives a power cut.

Whatever fails before step 4 (a full disk half-way through the write, a failed ``fsync``, an
interruption, even ``KeyboardInterrupt``) removes the temporary file and leaves the old file
untouched, then re-raises: ``OSError`` as it came, for the caller to turn into its own typed
error. Step 5 is best effort: once the rename is done the new file is in place, and a folder
that cannot be synced (some file systems refuse) is not a failure of the write.

Examples:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "c.json", '{"id": "C1"}\\n')
    >>> write_atomic(folder / "c.json", b'{"id": "C2"}\\n')
    >>> sorted(p.name for p in folder.iterdir()), (folder / "c.json").read_text()
    (['c.json'], '{"id": "C2"}\\n')
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

try:  # POSIX only; elsewhere the lock is not taken (documented in docs/decisions.md)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "TEMP_SUFFIX",
    "folder_lock",
    "is_temporary",
    "place_folder",
    "write_atomic",
    "write_folder",
]

#: The lock file :func:`folder_lock` takes in a folder (a dot file no folder reader picks up).
LOCK_NAME = ".lock"

#: Every temporary file of :func:`write_atomic` ends with this (and starts with a dot).
TEMP_SUFFIX = ".tmp"


def is_temporary(name: str) -> bool:
    """True for a name :func:`write_atomic` may leave behind after a crash (a power cut between
    steps 1 and 4): readers of a folder skip these.

    Examples:
        >>> is_temporary(".c.json.k2j3h4.tmp"), is_temporary("c.json")
        (True, False)
    """
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder that cannot be opened (Windows): the rename is done anyway
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse to sync a folder: best effort
        pass
    finally:
        os.close(fd)


def write_atomic(
    path: str | os.PathLike[str], data: str | bytes, *, new_file_mode: int = 0o600
) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) atomically.

    The file keeps its permissions when it exists; a new file gets ``new_file_mode`` (owner
    only by default: these files hold personal data). Raises ``OSError`` (and anything else
    that interrupts it) after removing the temporary file; the old file is then untouched.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = new_file_mode
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
        try:
            fh = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _sync_folder(target.parent)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``<folder>/.lock`` (created when missing) for the
    duration: the one lock of a folder of contract files, so a version check and the write after
    it are one step across processes (the JSON-file store and ``sync apply --contract FILE`` take
    the same lock, so they exclude each other too). Raises ``OSError`` when the lock cannot be
    taken (e.g. ``ENOLCK`` on a network file system): refuse rather than write unguarded."""
    fd = os.open(Path(folder) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_folder(out: str | os.PathLike[str], files: Sequence[tuple[str, str]]) -> Path:
    """Write ``files`` (name, text) into a new temporary folder beside ``out``, named
    ``.<out name>.<random>.tmp`` (each file synced to disk), ready for :func:`place_folder`.
    Whatever fails (a full disk half-way through a file, an interruption) removes the temporary
    folder and re-raises: nothing is left behind.

    Raises:
        FileExistsError: ``out`` exists and is not an empty folder (a folder never mixes two
            runs); nothing is written.
        OSError: a write failed.
    """
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(errno.EEXIST, "exists and is not an empty folder", str(target))
    parent = target.parent if str(target.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=parent))
    try:
        tmp.chmod(0o755)
        for name, text in files:
            fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(text.encode("utf-8"))
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
        _sync_folder(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def place_folder(tmp: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Rename the finished temporary folder of :func:`write_folder` to ``out`` whole (an empty
    ``out`` is replaced) and sync the parent folder. When ``out`` was filled meanwhile the
    temporary folder is removed and ``FileExistsError`` raised; on any failure it is removed."""
    source, target = Path(tmp), Path(out)
    try:
        os.rename(source, target)
    except OSError as exc:
        shutil.rmtree(source, ignore_errors=True)
        if exc.errno in {errno.ENOTEMPTY, errno.EEXIST}:
            raise FileExistsError(
                errno.EEXIST, "was filled by someone else meanwhile", str(target)
            ) from exc
        raise
    _sync_folder(target.parent if str(target.parent) else Path("."))
