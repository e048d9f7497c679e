"""A contract repository over a directory of JSON files, one per contract, written atomically.

Each contract is ``<directory>/<quoted id>.json`` (the id percent-encoded, so any id is a safe
file name), holding the contract's JSON (money as exact ``"123.45"`` strings, dates ISO, its
``version``). A save writes a temporary file in the same directory, flushes and fsyncs it, and
``os.replace``-s it over the old one, so a reader sees the old contract or the new one, never half
of one; a temporary file a killed save left is skipped by every reader and removed by the next
save of that contract. Saves and deletes hold an exclusive ``fcntl`` lock on
``<directory>/.lock`` where the platform has one
(:func:`~ndis_rules.files.atomic.folder_lock`), so the version check and the write are one step
across processes too.
``OSError`` becomes ``StoreUnavailable``; an unreadable file, ``StoreIntegrityError``.

Examples:
    >>> import tempfile
    >>> repo = JsonFileContractRepository(tempfile.mkdtemp())
    >>> c = Contract.model_validate({"id": "C/1", "start": "2025-07-01",
    ...                              "end_inclusive": "2026-06-30"})
    >>> _ = repo.save(c, expected_version=None)
    >>> repo.ids(), sorted(p.name for p in repo.directory.iterdir())
    (['C/1'], ['.lock', 'C%2F1.json'])
"""

from __future__ import annotations

import contextlib
import glob
import os  # noqa: F401  (the fault tests patch os here)
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

from pydantic import ValidationError

from ..errors import (
    ContractNotFound,
    StaleContractError,
    StoreIntegrityError,
    StoreUnavailable,
)
from ..files.atomic import TEMP_SUFFIX, folder_lock, is_temporary, write_atomic
from ..models import Contract
from .memory_store import versioned_for_save

try:  # the lock itself is files.atomic.folder_lock's; named here for the fault tests
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["JsonFileContractRepository"]

_SUFFIX = ".json"


class JsonFileContractRepository:
    """Contracts as JSON files in ``directory`` (created when missing)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create contract directory {directory}: {exc}") from exc

    def _path(self, contract_id: str) -> Path:
        return self.directory / (quote(contract_id, safe="") + _SUFFIX)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            try:  # the folder's one lock (files.atomic.folder_lock), shared with sync apply
                stack.enter_context(folder_lock(self.directory))
            except OSError as exc:  # e.g. ENOLCK on a network file system: refuse
                raise StoreUnavailable(
                    f"cannot lock contract directory {self.directory}: {exc}"
                ) from exc
            yield

    def _read(self, contract_id: str) -> Contract | None:
        path = self._path(contract_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreUnavailable(f"cannot read {path}: {exc}") from exc
        try:
            contract = Contract.model_validate_json(text)
        except ValidationError as exc:
            raise StoreIntegrityError(f"{path} is not a valid contract: {exc}") from exc
        if contract.id != contract_id:
            raise StoreIntegrityError(f"{path} holds contract {contract.id}, not {contract_id}")
        return contract

    def get(self, contract_id: str) -> Contract:
        """The stored contract; ``ContractNotFound`` when there is none."""
        contract = self._read(contract_id)
        if contract is None:
            raise ContractNotFound(contract_id)
        return contract

    def save(self, contract: Contract, expected_version: int | None) -> Contract:
        """Write the contract atomically if the stored version is still ``expected_version``."""
        path = self._path(contract.id)
        with self._locked():
            current = self._read(contract.id)
            stored = versioned_for_save(
                contract, expected_version, current.version if current else None
            )
            data = stored.model_dump_json(by_alias=True, indent=2) + "\n"
            try:
                write_atomic(path, data)
            except OSError as exc:
                raise StoreUnavailable(f"cannot write {path}: {exc}") from exc
            self._sweep(path)
        return stored

    def _sweep(self, path: Path) -> None:
        """Remove the temporary files a killed save of ``path`` left (``.<name>.<random>.tmp``):
        every writer of the file holds the folder's lock, so none of them is in use now. Best
        effort: a leftover is harmless (no reader picks it up)."""
        with contextlib.suppress(OSError):
            for leftover in self.directory.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"):
                if is_temporary(leftover.name):
                    leftover.unlink(missing_ok=True)

    def ids(self) -> list[str]:
        """The stored contract ids, sorted."""
        try:
            names = [p.name for p in self.directory.iterdir()]
        except OSError as exc:
            raise StoreUnavailable(f"cannot list {self.directory}: {exc}") from exc
        return sorted(
            unquote(n[: -len(_SUFFIX)])
            for n in names
            if n.endswith(_SUFFIX) and not n.startswith(".")
        )

    def delete(self, contract_id: str, expected_version: int | None = None) -> None:
        """Remove a contract's file (if it still has ``expected_version``, when given)."""
        with self._locked():
            current = self.get(contract_id)
            if expected_version is not None and current.version != expected_version:
                raise StaleContractError(contract_id, expected_version, current.version)
            try:
                self._path(contract_id).unlink()
            except OSError as exc:
                raise StoreUnavailable(f"cannot delete contract {contract_id}: {exc}") from exc
