"""Moved to :mod:`ndis_rules.services.bookings` (issue 11); this path forwards for one release."""

from ._compat import forward

__getattr__ = forward(
    "ndis_rules.services.bookings",
    (
        "NOT_SYNCHRONISED",
        "ContractLookup",
        "ContractSource",
        "ParticipantOutcome",
        "ParticipantResult",
        "SyncProgress",
        "SyncReport",
        "change_end_date",
        "end_early",
        "link_existing",
        "remove_booking",
        "select_active_contract",
        "sync_active_plans",
    ),
)
