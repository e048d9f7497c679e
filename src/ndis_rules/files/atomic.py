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
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "is_temporary", "write_atomic"]

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
