"""Per-channel rule settings as data (spec/validation.md sections 5-7).

Rules emit a condition code; the tables here decide its severity in a channel and processing
mode, and what a channel changes in the flow. Nothing in the rules branches on a channel name.

Examples:
    >>> from ndis_rules.models import Settings
    >>> severity_for("SUPPORT_ITEM_BUDGET_EXCEEDED", "streamline", "manual", Settings())
    'info'
    >>> severity_for("SUPPORT_ITEM_BUDGET_EXCEEDED", "bulk_import", None, Settings())
    'error'
    >>> severity_for("UNDO_CANCEL_PROVIDER_BUDGET", "streamline", "automated", Settings())
    'error'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .codes import CODES, Code
from .models import Channel, ProcessingMode, Settings
from .outcomes import Action, Severity

__all__ = ["CHANNELS", "SEVERITY", "ChannelRules", "base_action", "severity_for"]


@dataclass(frozen=True, slots=True)
class ChannelRules:
    """What a channel changes in the flow."""

    #: Overlapping FPs in a category are an error for every line of that category
    #: (elsewhere only a line that falls in two overlapping periods is).
    overlapping_periods_fail_category: bool = False
    #: ``claims_flexibility`` may split a line that spans periods (never for case notes).
    flexibility_splits_spanning_lines: bool = True
    #: Support item budget short is always an error.
    support_item_overdraw_is_error: bool = False


CHANNELS: Final[Mapping[Channel, ChannelRules]] = {
    "service_entry": ChannelRules(),
    "streamline": ChannelRules(),
    "bulk_import": ChannelRules(
        overlapping_periods_fail_category=True, support_item_overdraw_is_error=True
    ),
    "case_note": ChannelRules(flexibility_splits_spanning_lines=False),
}

#: Severity overrides per (channel, processing mode); ``None`` as the mode applies to every mode
#: of the channel. A code absent here keeps its default severity from :mod:`ndis_rules.codes`.
SEVERITY: Final[Mapping[tuple[Channel, ProcessingMode | None], Mapping[Code, Severity]]] = {
    ("bulk_import", None): {
        "SUPPORT_ITEM_BUDGET_EXCEEDED": "error",
        "UNDO_CANCEL_PROVIDER_BUDGET": "error",
        "NO_CATALOGUE_FOR_DATE": "warning",
    },
    ("streamline", "automated"): {"UNDO_CANCEL_PROVIDER_BUDGET": "error"},
}

#: Severity changes made by settings: (setting name, code, severity when the setting is on).
SETTING_SEVERITY: Final[tuple[tuple[str, Code, Severity], ...]] = (
    ("support_item_overdraw_is_error", "SUPPORT_ITEM_BUDGET_EXCEEDED", "error"),
    ("price_limit_is_error", "PRICE_ABOVE_LIMIT", "error"),
    ("weekday_weekend_is_warning", "DAY_TYPE_MISMATCH", "warning"),
)


def severity_for(
    code: Code, channel: Channel, mode: ProcessingMode | None, settings: Settings
) -> Severity:
    """The severity of ``code`` in a channel and mode under the settings."""
    for setting, setting_code, severity in SETTING_SEVERITY:
        if setting_code == code and getattr(settings, setting):
            return severity
    for key in ((channel, mode), (channel, None)):
        table = SEVERITY.get(key)
        if table and code in table:
            return table[code]
    return CODES[code].default_severity


def base_action(
    channel: Channel, mode: ProcessingMode | None, *, warned: bool, unapproved_provider: bool
) -> Action:
    """The action for an invoice with no error line (spec/validation.md section 6).

    ``streamline``: ``manual`` creates (warnings shown); ``automated`` sends an invoice with any
    warning, or from a provider that is not an approved service provider, to review;
    ``disabled`` creates nothing automatically: every invoice is released by a person (review).
    Other channels create.

    Examples:
        >>> base_action("streamline", "automated", warned=True, unapproved_provider=False)
        'review'
        >>> base_action("service_entry", None, warned=True, unapproved_provider=True)
        'create'
    """
    if channel != "streamline":
        return "create"
    if mode == "disabled":
        return "review"
    if mode == "automated" and (warned or unapproved_provider):
        return "review"
    return "create"
