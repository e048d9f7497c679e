"""Moved to :mod:`ndis_rules.services.sync` (issue 11); this path forwards for one release."""

from ._compat import forward

__getattr__ = forward(
    "ndis_rules.services.sync",
    (
        "sync_apply",
        "sync_preview",
    ),
)
