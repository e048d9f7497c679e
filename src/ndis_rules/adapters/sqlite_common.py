"""What the SQLite adapters share (the contract repository and the book): opening a connection
with the same pragmas, and turning every ``sqlite3`` error into a typed store error.

Examples:
    >>> db = connect(":memory:", timeout=1.0)
    >>> db.execute("PRAGMA foreign_keys").fetchone()
    (1,)
    >>> wrap_error(sqlite3.IntegrityError("UNIQUE constraint failed"), "saving C1")
    StoreIntegrityError('saving C1: UNIQUE constraint failed')
    >>> type(wrap_error(sqlite3.OperationalError("database is locked"), "saving C1")).__name__
    'StoreUnavailable'
    >>> db.close()
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress

from ..errors import StoreError, StoreIntegrityError, StoreUnavailable

__all__ = ["connect", "in_memory", "wrap_error"]


def wrap_error(exc: sqlite3.Error, what: str) -> StoreError:
    """The typed error of an ``sqlite3`` error while doing ``what``: ``StoreIntegrityError`` for
    a constraint that failed or a file that is not a (sound) database, else ``StoreUnavailable``
    (locked, cannot open, closed)."""
    text = f"{what}: {exc}"
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreIntegrityError(text)
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, sqlite3.OperationalError | sqlite3.ProgrammingError
    ):
        return StoreIntegrityError(text)
    return StoreUnavailable(text)


def in_memory(path: str) -> bool:
    """Whether ``path`` names an in-memory database (``":memory:"`` or ``""``)."""
    return path in {":memory:", ""}


def connect(path: str, *, timeout: float, wal: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (the adapters issue ``BEGIN`` themselves) with
    ``PRAGMA foreign_keys = ON`` and a busy ``timeout`` (seconds). With ``wal``, a file database
    is put in WAL mode (readers never wait for a writer) with ``synchronous = FULL``. Raises
    ``sqlite3.Error`` (the caller wraps it, naming what it was opening); a connection whose
    pragmas failed is closed first."""
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        if wal and not in_memory(path):
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error:
        with suppress(sqlite3.Error):
            db.close()
        raise
    return db
