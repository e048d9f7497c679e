"""Moved into :mod:`ndis_rules.errors` (issue 11: every exception in one place); this path
re-exports them for one release."""

from .errors import (
    ContractNotFound,
    ParticipantNotFound,
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
    StaleContractError,
    StoreError,
    StoreIntegrityError,
    StoreUnavailable,
)

__all__ = [
    "ContractNotFound",
    "ParticipantNotFound",
    "SourceError",
    "SourceNotAuthorised",
    "SourcePayloadError",
    "SourceRefused",
    "SourceTimeout",
    "StaleContractError",
    "StoreError",
    "StoreIntegrityError",
    "StoreUnavailable",
]
