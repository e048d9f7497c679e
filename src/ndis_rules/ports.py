"""Ports: the outside world (clock, PACE, PRODA, storage) as ``typing.Protocol`` classes.

The core never sees a port; the service shell reads them once and passes plain values in.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from .models import Contract
from .pace import PacePlan, ParticipantRef

__all__ = ["Clock", "ContractRepository", "PacePlanSource"]


class Clock(Protocol):
    """Supplies *today*: the local date in the configured zone."""

    def today(self) -> date:
        """Today's date."""
        ...


class PacePlanSource(Protocol):
    """The PACE plan source (a PACE gateway, or files): a participant's plans.

    Failures are typed (:mod:`ndis_rules.store_errors`): ``SourceTimeout``, ``SourceRefused``,
    ``SourceNotAuthorised`` (no plan manager or provider relationship), ``SourcePayloadError``
    (malformed plan, naming the field) and ``ParticipantNotFound``.
    """

    def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
        """The participant's PACE plans; the lookup needs NDIS number, last name and date of
        birth."""
        ...


class ContractRepository(Protocol):
    """Stores service contracts with optimistic versioning.

    ``save(contract, expected_version)`` succeeds only when the stored version is
    ``expected_version`` (``None``: the contract must not exist yet); the stored contract then
    carries version ``expected_version + 1`` (a new one keeps its own version) and is returned.
    Otherwise it raises ``StaleContractError`` and nothing is written. Failures are
    ``StoreError`` subclasses; no backend exception escapes.
    """

    def get(self, contract_id: str) -> Contract:
        """The stored contract; ``ContractNotFound`` when there is none."""
        ...

    def save(self, contract: Contract, expected_version: int | None) -> Contract:
        """Write the contract if the stored version is still ``expected_version``; returns the
        contract as stored (with its new version)."""
        ...

    def ids(self) -> list[str]:
        """The stored contract ids, sorted."""
        ...

    def delete(self, contract_id: str, expected_version: int | None = None) -> None:
        """Remove a contract (checking its version when ``expected_version`` is given);
        ``ContractNotFound`` when there is none."""
        ...
