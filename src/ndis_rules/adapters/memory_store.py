"""An in-memory contract repository (optimistic versioning), and the versioning rule every
repository adapter shares.

Examples:
    >>> repo = InMemoryContractRepository()
    >>> c = Contract.model_validate({"id": "C1", "start": "2025-07-01",
    ...                              "end_inclusive": "2026-06-30"})
    >>> repo.save(c, expected_version=None).version
    0
    >>> repo.save(c.model_copy(update={"notes": ("hello",)}), expected_version=0).version
    1
    >>> repo.save(c, expected_version=0)
    Traceback (most recent call last):
    ...
    ndis_rules.errors.StaleContractError: contract C1 was changed since it was read: \
expected version 0, the store holds version 1; read it again and redo the change
"""

from __future__ import annotations

from ..errors import ContractNotFound, StaleContractError
from ..models import Contract

__all__ = ["InMemoryContractRepository", "versioned_for_save"]


def versioned_for_save(
    contract: Contract, expected_version: int | None, current_version: int | None
) -> Contract:
    """The contract as it is to be stored, or ``StaleContractError``.

    ``current_version`` is the stored contract's version (None: none stored). With
    ``expected_version`` None the contract must be new and is stored with its own version;
    otherwise the stored version must equal ``expected_version`` and the contract is stored with
    version ``expected_version + 1``.

    Examples:
        >>> c = Contract.model_validate({"id": "C1", "start": "2025-07-01",
        ...                              "end_inclusive": "2026-06-30", "version": 4})
        >>> versioned_for_save(c, 4, 4).version, versioned_for_save(c, None, None).version
        (5, 4)
    """
    if expected_version is None:
        if current_version is not None:
            raise StaleContractError(contract.id, None, current_version)
        return contract
    if current_version != expected_version:
        raise StaleContractError(contract.id, expected_version, current_version)
    new_version = expected_version + 1
    if contract.version == new_version:
        return contract
    return contract.model_copy(update={"version": new_version})


class InMemoryContractRepository:
    """Contracts in a dict. Contracts are immutable, so no copies are needed."""

    def __init__(self) -> None:
        self._contracts: dict[str, Contract] = {}

    def get(self, contract_id: str) -> Contract:
        """The stored contract; ``ContractNotFound`` when there is none."""
        try:
            return self._contracts[contract_id]
        except KeyError:
            raise ContractNotFound(contract_id) from None

    def save(self, contract: Contract, expected_version: int | None) -> Contract:
        """Store the contract if the stored version is still ``expected_version``."""
        current = self._contracts.get(contract.id)
        stored = versioned_for_save(
            contract, expected_version, current.version if current else None
        )
        self._contracts[contract.id] = stored
        return stored

    def ids(self) -> list[str]:
        """The stored contract ids, sorted."""
        return sorted(self._contracts)

    def delete(self, contract_id: str, expected_version: int | None = None) -> None:
        """Remove a contract (if it still has ``expected_version``, when given)."""
        current = self.get(contract_id)
        if expected_version is not None and current.version != expected_version:
            raise StaleContractError(contract_id, expected_version, current.version)
        del self._contracts[contract_id]
