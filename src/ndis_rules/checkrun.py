"""What a bulk claims check ran with, and what it did *not* check: the catalogue editions (file,
version, effective dates), region, state, public holidays, *today*, settings, channel and tool
version, stated in every format of the report so a clean-looking result can be trusted only as
far as its checks went (issue 12, deliverable 4).

Pure: the shell gathers the facts (file names, the version of the package) and passes them in.

Examples:
    >>> from ndis_rules.models import Settings
    >>> run = CheckRun.build(tool_version="0.1.0", today=date(2025, 11, 15), catalogues=(),
    ...                      region=None, state=None, holidays=False, settings=Settings())
    >>> [n.check for n in run.not_checked]
    ['support items', 'price limits', 'claim type flags', 'day types', 'PACE categories']
    >>> run.not_checked[0].reason
    'no --catalogue given: UNKNOWN_SUPPORT_ITEM and ITEM_NOT_VALID_ON_DATE were not checked'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from .editions import CatalogueEdition
from .models import Settings

__all__ = ["CheckRun", "NotChecked", "checks_not_run"]

CHANNEL: Final = "bulk_import"


@dataclass(frozen=True)
class NotChecked:
    """A check that did not run, and why."""

    check: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"check": self.check, "reason": self.reason}


def checks_not_run(
    catalogues: Sequence[CatalogueEdition], state: str | None, holidays: bool
) -> tuple[NotChecked, ...]:
    """The checks of spec/validation.md section 8 that a run with these inputs cannot make."""
    if not catalogues:
        why = "no --catalogue given: "
        return (
            NotChecked(
                "support items",
                why + "UNKNOWN_SUPPORT_ITEM and ITEM_NOT_VALID_ON_DATE were not checked",
            ),
            NotChecked("price limits", why + "PRICE_ABOVE_LIMIT was not checked"),
            NotChecked(
                "claim type flags",
                why + "CLAIM_TYPE_NOT_ALLOWED was checked for unknown claim types only, "
                "not against the item's catalogue flags",
            ),
            NotChecked(
                "day types", why + "DAY_TYPE_MISMATCH (weekday, weekend, holiday) was not checked"
            ),
            NotChecked(
                "PACE categories",
                why + "each line's category was taken from its item number, not the catalogue",
            ),
        )
    if state is None:
        return (
            NotChecked(
                "public holidays",
                "no --state given: day types know weekends only, a public holiday counts as a "
                "weekday",
            ),
        )
    if not holidays:
        return (
            NotChecked(
                "public holidays",
                f"no --holidays: the public holidays of {state} were not loaded, day types "
                "know weekends only",
            ),
        )
    return ()


def _non_default(settings: Settings) -> dict[str, Any]:
    defaults = Settings().model_dump(mode="json")
    return {k: v for k, v in settings.model_dump(mode="json").items() if defaults.get(k) != v}


@dataclass(frozen=True)
class CheckRun:
    """The inputs and scope of one bulk claims check.

    Attributes:
        tool_version: ``ndis_rules.__version__``.
        today: the *today* the check used.
        channel: always ``bulk_import``.
        catalogues: the catalogue editions given, oldest first (empty: none given).
        region: the price column used (``None`` without a catalogue).
        state: the participant's state for public holidays (``None``: not given).
        holidays: True when the public holidays of ``state`` were loaded.
        settings: every setting as used (JSON form).
        settings_changed: the settings that differ from the defaults.
        not_checked: the checks that did not run, with the reason.
    """

    tool_version: str
    today: date
    channel: str
    catalogues: tuple[CatalogueEdition, ...]
    region: str | None
    state: str | None
    holidays: bool
    settings: Mapping[str, Any] = field(default_factory=dict)
    settings_changed: Mapping[str, Any] = field(default_factory=dict)
    not_checked: tuple[NotChecked, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        tool_version: str,
        today: date,
        catalogues: Sequence[CatalogueEdition],
        region: str | None,
        state: str | None,
        holidays: bool,
        settings: Settings | None,
    ) -> CheckRun:
        """The run of a check with these inputs (``settings=None``: the defaults)."""
        used = settings or Settings()
        return cls(
            tool_version=tool_version,
            today=today,
            channel=CHANNEL,
            catalogues=tuple(sorted(catalogues, key=lambda e: e.start)),
            region=region if catalogues else None,
            state=state,
            holidays=holidays,
            settings=used.model_dump(mode="json"),
            settings_changed=_non_default(used),
            not_checked=checks_not_run(catalogues, state, holidays),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "tool": "ndis-rules",
            "tool_version": self.tool_version,
            "today": self.today.isoformat(),
            "channel": self.channel,
            "catalogues": [e.to_dict() for e in self.catalogues],
            "region": self.region,
            "state": self.state,
            "public_holidays": self.holidays,
            "settings": dict(self.settings),
            "settings_changed": dict(self.settings_changed),
            "not_checked": [n.to_dict() for n in self.not_checked],
        }

    def rows(self) -> list[tuple[str, ...]]:
        """The run as ``(key, value, ...)`` rows: one per catalogue, setting changed and check
        not run (for the table and CSV reports)."""
        out: list[tuple[str, ...]] = [
            ("tool", f"ndis-rules {self.tool_version}"),
            ("today", self.today.isoformat()),
            ("channel", self.channel),
        ]
        if not self.catalogues:
            out.append(("catalogue", "none given"))
        for e in self.catalogues:
            out.append(
                (
                    "catalogue",
                    e.source,
                    e.financial_year,
                    f"version {e.version}" if e.version else "version not named",
                    f"in force {e.start.isoformat()} to {e.end_inclusive.isoformat()}",
                    f"dates from the {e.basis}",
                )
            )
        out.append(("region", self.region or "none (no catalogue)"))
        out.append(("state", self.state or "not given"))
        holidays = f"{self.state} (holidays package)" if self.holidays else "not known"
        out.append(("public holidays", holidays))
        if self.settings_changed:
            for key, value in self.settings_changed.items():
                out.append(("setting", f"{key}={_text(value)}"))
        else:
            out.append(("settings", "defaults"))
        for n in self.not_checked:
            out.append(("not checked", n.check, n.reason))
        return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
