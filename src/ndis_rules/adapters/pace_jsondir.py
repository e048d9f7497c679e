"""A PACE plan source reading a directory of JSON files (one per participant, or one per plan).

Each ``*.json`` file in the directory holds the participant's identity and either all their
plans or one plan (snake_case or the camelCase names of ``docs/pace-plan-format.md``)::

    {"participant": {"ndis_number": "430000001", "last_name": "Citizen",
                     "date_of_birth": "1990-01-31"},
     "plans": [ {PACE plan}, ... ]}          # or "plan": {PACE plan}

An optional ``"authorised": false`` in the participant block makes lookups raise
``SourceNotAuthorised`` (as PACE does when the plan manager relationship is missing). A file that
is not valid JSON, or whose content is not valid, raises ``SourcePayloadError`` naming the file and
the field path (``plans.0.budgets.1.total``). JSON numbers are read exactly (``1500.5`` is
``Decimal("1500.5")``, never a float). A missing or unreadable directory raises
``SourceRefused``. Files are read on every call, so edits show up at once.

Examples:
    >>> import json, tempfile
    >>> from datetime import date
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "430000001.json").write_text(json.dumps({
    ...     "participant": {"ndisNumber": "430000001", "lastName": "Citizen",
    ...                     "dateOfBirth": "1990-01-31"},
    ...     "plans": [{"planNumber": "P1", "ndisNumber": "430000001", "startDate": "2025-07-01",
    ...                "endDate": "2026-06-30", "totalFunding": 12}]}))
    >>> who = ParticipantRef(ndis_number="430000001", last_name="citizen",
    ...                      date_of_birth=date(1990, 1, 31))
    >>> [p.plan_id for p in JsonDirPaceSource(d).plans_for(who)]
    ['P1']
    >>> _ = (d / "430000001.json").write_text(json.dumps({
    ...     "participant": {"ndisNumber": "430000001", "lastName": "Citizen",
    ...                     "dateOfBirth": "1990-01-31"},
    ...     "plans": [{"planNumber": "P1", "ndisNumber": "430000001", "startDate": "2025-07-01",
    ...                "endDate": "2026-06-30", "totalFunding": 12.5, "remaining": 3}]}))
    >>> [(str(p.total), p.ignored) for p in JsonDirPaceSource(d).plans_for(who)]
    [('12.50', ('remaining',))]
    >>> _ = (d / "430000001.json").write_text(json.dumps({
    ...     "participant": {"ndisNumber": "430000001", "lastName": "Citizen",
    ...                     "dateOfBirth": "1990-01-31"},
    ...     "plans": [{"planNumber": "P1", "ndisNumber": "430000001", "startDate": "2025-07-01",
    ...                "endDate": "2026-06-30", "totalFunding": 12.505}]}))
    >>> try:
    ...     JsonDirPaceSource(d).plans_for(who)
    ... except SourcePayloadError as exc:
    ...     print(exc.loc)
    ('plans', 0, 'totalFunding')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import (
    ParticipantNotFound,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
)
from ..pace import PacePlan, ParticipantRef
from ..parsing import ParseError, json_loads

__all__ = ["JsonDirPaceSource", "PaceParticipantFile"]


class _Who(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    participant: ParticipantRef


class PaceParticipantFile(BaseModel):
    """The content of one file: who, whether we are authorised, and their plan(s)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    participant: ParticipantRef
    authorised: bool = True
    plans: tuple[PacePlan, ...] = ()
    plan: PacePlan | None = None

    def all_plans(self) -> list[PacePlan]:
        """``plans`` and ``plan`` together."""
        return [*self.plans, *([self.plan] if self.plan else [])]


def _payload_error(exc: ValidationError, source: str) -> SourcePayloadError:
    errors = exc.errors(include_input=False)
    msgs = [e["msg"].removeprefix("Value error, ") for e in errors]
    if len(errors) == 1:
        return SourcePayloadError(msgs[0], source=source, loc=tuple(errors[0]["loc"]))
    problems = [
        ".".join(str(x) for x in e["loc"]) + ": " + m if e["loc"] else m
        for e, m in zip(errors, msgs, strict=True)
    ]
    return SourcePayloadError(
        f"{len(errors)} problems: " + "; ".join(problems),
        source=source,
        loc=tuple(errors[0]["loc"]),
        problems=problems,
    )


@dataclass(frozen=True)
class JsonDirPaceSource:
    """PACE plans from ``directory``'s ``*.json`` files (see the module docs)."""

    directory: Path | str

    def _files(self) -> list[Path]:
        try:
            return sorted(p for p in Path(self.directory).glob("*.json") if p.is_file())
        except OSError as exc:
            raise SourceRefused(f"cannot read PACE directory {self.directory}: {exc}") from exc

    def _load(self, path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceRefused(f"cannot read {path.name}: {exc}") from exc
        try:
            # numbers are read exactly from their text (ndis_rules.parsing.json_loads)
            return json_loads(text)
        except json.JSONDecodeError as exc:
            raise SourcePayloadError(
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                source=path.name,
            ) from exc
        except ParseError as exc:
            raise SourcePayloadError(f"not valid JSON: {exc}", source=path.name) from None
        except RecursionError:
            raise SourcePayloadError("the JSON is nested too deeply", source=path.name) from None

    def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
        """The plans of every file whose participant matches all three details."""
        if not Path(self.directory).is_dir():
            raise SourceRefused(f"PACE directory {self.directory} does not exist")
        plans: list[PacePlan] = []
        found = False
        for path in self._files():
            data = self._load(path)
            try:
                who = _Who.model_validate(data).participant
            except ValidationError as exc:
                raise _payload_error(exc, path.name) from exc
            except RecursionError:
                raise SourcePayloadError("nested too deeply", source=path.name) from None
            if not who.matches(
                participant.ndis_number, participant.last_name, participant.date_of_birth
            ):
                continue
            try:
                content = PaceParticipantFile.model_validate(data)
            except ValidationError as exc:
                raise _payload_error(exc, path.name) from exc
            except RecursionError:
                raise SourcePayloadError("nested too deeply", source=path.name) from None
            if not content.authorised:
                raise SourceNotAuthorised(
                    f"not authorised for participant {participant.ndis_number}: no plan manager "
                    "or provider relationship in PACE"
                )
            found = True
            plans.extend(content.all_plans())
        if not found:
            raise ParticipantNotFound(
                "no PACE participant matches this NDIS number, last name and date of birth"
            )
        return plans
