"""Contracts read from where a plan manager keeps them: a folder of contract JSON files or an
SQLite contract store file."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..adapters.sqlite_store import SqliteContractRepository
from ..errors import InputError, StoreError
from ..models import Contract
from .documents import read_contract

__all__ = ["load_contracts"]


def load_contracts(source: str | Path) -> list[Contract]:
    """The contracts of a folder of contract JSON files (``*.json``, in name order, read with
    :func:`~ndis_rules.files.documents.read_contract`), or of an SQLite contract store file
    (:class:`~ndis_rules.adapters.sqlite_store.SqliteContractRepository`, in id order).

    Raises:
        InputError: the path does not exist, a file is not a valid contract, two files hold the
            same contract id, or the SQLite file cannot be read.
    """
    path = Path(source)
    if path.is_dir():
        return _load_folder(path)
    if not path.is_file():
        raise InputError("no such folder or SQLite file of contracts", source=str(path))
    return _load_sqlite(path)


def _load_folder(folder: Path) -> list[Contract]:
    out: list[Contract] = []
    where: dict[str, Path] = {}
    with _kept_book():
        for file in sorted(folder.glob("*.json")):
            contract = read_contract(file)
            if contract.id in where:
                raise InputError(
                    f"contract id {contract.id!r} is also in {where[contract.id]}",
                    source=str(file),
                )
            where[contract.id] = file
            out.append(contract)
    if not out:
        raise InputError("the folder holds no contract *.json files", source=str(folder))
    return out


def _load_sqlite(path: Path) -> list[Contract]:
    with path.open("rb") as f:
        magic = f.read(16)
    if magic != b"SQLite format 3\x00":
        raise InputError(
            "not a folder of contract JSON files nor an SQLite contract store", source=str(path)
        )
    try:
        repo = SqliteContractRepository(path)
    except StoreError as exc:
        raise InputError(f"cannot open the contract store: {exc}", source=str(path)) from None
    try:
        with _kept_book():
            return list(repo.all_contracts())
    except StoreError as exc:
        raise InputError(f"cannot read the contract store: {exc}", source=str(path)) from None
    finally:
        repo.close()


@contextmanager
def _kept_book() -> Iterator[None]:
    """The cyclic collector paused while a book is read (as ``gc_paused``), and what the block
    made handed to the oldest generation as it ends, without a young collection scanning it.

    A book of contracts is hundreds of thousands of objects (every model, its ``__dict__`` and
    its fields-set) that are kept, not garbage: once the pause ended, the collector's next young
    collection scanned them all (0.3 s for 5,000 contracts), and later ones again as they aged.
    ``gc.freeze()`` then ``gc.unfreeze()`` moves every tracked object to the oldest generation
    in constant time; they are scanned at the next full collection, as any old object. Only
    when nothing else is frozen (unfreezing would release another's frozen objects); nothing
    stays frozen. Reference counting frees everything as usual throughout.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()
