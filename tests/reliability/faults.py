"""Fault injection helpers for the reliability tests (imported by the test modules here).

``FaultyConnection`` wraps a real ``sqlite3.Connection`` (whose methods cannot be patched) and
fails chosen statements: a disk-full or locked error, or any exception (an interruption), raised
*before* the statement runs, or after it ran (``after=True``). ``FaultyConnection.counted``
records every statement run, so a test can first count the statements of an operation, then
fail each one in turn.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DISK_FULL = "database or disk is full"


def disk_full() -> BaseException:
    return sqlite3.OperationalError(DISK_FULL)


class FaultyConnection:
    """A ``sqlite3.Connection`` stand-in failing statement number ``fail_at`` (0-based, counting
    ``execute`` and ``executemany`` calls) with ``error()``, or every statement for which
    ``when(sql)`` is true."""

    def __init__(
        self,
        real: sqlite3.Connection,
        *,
        fail_at: int | None = None,
        when: Callable[[str], bool] | None = None,
        error: Callable[[], BaseException] = disk_full,
        after: bool = False,
    ) -> None:
        self.real = real
        self.fail_at = fail_at
        self.when = when
        self.error = error
        self.after = after
        self.counted: list[str] = []
        self.fired = 0

    def _check(self, sql: str, run: Callable[[], Any]) -> Any:
        n = len(self.counted)
        self.counted.append(" ".join(sql.split())[:40])
        fire = (self.fail_at is not None and n == self.fail_at) or (
            self.when is not None and self.when(sql)
        )
        if fire and not self.after:
            self.fired += 1
            raise self.error()
        result = run()
        if fire:
            self.fired += 1
            raise self.error()
        return result

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self._check(sql, lambda: self.real.execute(sql, tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Any:
        return self._check(sql, lambda: self.real.executemany(sql, rows))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def dump(path: Path | str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row of both tables, read with a plain connection of its own."""
    db = sqlite3.connect(str(path))
    try:
        return (
            db.execute("SELECT * FROM contracts ORDER BY id").fetchall(),
            db.execute("SELECT * FROM contract_budgets ORDER BY contract_id, ref").fetchall(),
        )
    finally:
        db.close()
