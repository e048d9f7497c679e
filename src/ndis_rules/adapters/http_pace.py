"""A PACE plan source over HTTP (extra ``http``), on the quickclaim public API's route
``GET /planByNdisNumber/{n}`` by default (spec/api-fields.md).

:meth:`HttpPaceSource.plans_for` GETs the participant's plans (retried, bounded, with backoff:
the call is idempotent), reads the JSON exactly (numbers as decimals), and maps each plan
leniently through :class:`~ndis_rules.pace.PacePlan` (aliases, ids as numbers, ``remaining``
ignored and recorded, the raw payload kept). Every failure is the port's typed error:

======================================================  ===================================
what happened                                           error
======================================================  ===================================
no answer in time (after the retries)                   ``SourceTimeout``
connection refused or dropped, 429 or 5xx (after them)  ``SourceRefused``
401, 403                                                ``SourceNotAuthorised``
404, or the name / date of birth returned differ        ``ParticipantNotFound``
any other 4xx                                           ``SourceRefused``
a body that is not JSON, or not a plan                  ``SourcePayloadError`` (names field)
======================================================  ===================================

The NDIS number goes in the path (quickclaim's route); the last name and date of birth are never
sent: where the gateway returns them with the plan they are compared here, and the message never
says which of the three did not match.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import ValidationError

from ..errors import (
    ParticipantNotFound,
    SourceError,
    SourceNotAuthorised,
    SourcePayloadError,
    SourceRefused,
    SourceTimeout,
)
from ..pace import PacePlan, ParticipantRef, RawPayload
from .http_client import (
    HttpAdapter,
    HttpClient,
    HttpFailure,
    HttpSettings,
    map_failure,
    payload_problems,
)
from .quickclaim import identity_of, plans_of

if TYPE_CHECKING:
    from ..ports import PacePlanSource

__all__ = ["HttpPaceSource"]

_NOT_FOUND = "no PACE participant matches this NDIS number, last name and date of birth"


def _source_error(failure: HttpFailure, where: str) -> SourceError:
    def by_status(status: int, tries: str) -> SourceError:
        if status in (401, 403):
            return SourceNotAuthorised(
                f"{where}: not authorised (HTTP {status}): the plan manager or provider "
                "relationship with the participant is missing in PACE, or the credentials are "
                "wrong"
            )
        if status == 404:
            return ParticipantNotFound(_NOT_FOUND)
        return SourceRefused(f"{where}: HTTP {status}: {failure.reason}{tries}")

    return map_failure(
        failure,
        timeout=SourceTimeout,
        unavailable=SourceRefused,
        payload=lambda text: SourcePayloadError(text, source=where),
        status=by_status,
    )


def _payload_error(exc: ValidationError, where: str, index: int) -> SourcePayloadError:
    problems = payload_problems(exc, "plans", index)
    return SourcePayloadError(
        problems[0] if len(problems) == 1 else f"{len(problems)} problems: " + "; ".join(problems),
        source=where,
        loc=("plans", index, *exc.errors(include_input=False)[0]["loc"]),
        problems=problems,
    )


class HttpPaceSource(HttpAdapter):
    """The :class:`~ndis_rules.ports.PacePlanSource` port over HTTP.

    Args:
        settings: where and how to call (base URL, auth hook, timeouts, retries, rate).
        plan_path: the plan route, ``{ndis_number}`` filled in (quickclaim's by default).
        client: an :class:`HttpClient` to share (``settings`` is then ignored).
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        plan_path: str = "/planByNdisNumber/{ndis_number}",
        client: HttpClient | None = None,
    ) -> None:
        super().__init__(settings, client)
        self.plan_path = plan_path

    def plans_for(self, participant: ParticipantRef) -> list[PacePlan]:
        """The participant's PACE plans (see the module docs for the errors)."""
        path = self.plan_path.format(ndis_number=quote(participant.ndis_number, safe=""))
        where = f"GET {path}"
        try:
            reply = self.client.send("GET", path, idempotent=True)
        except HttpFailure as failure:
            raise _source_error(failure, where) from None
        data = reply.data
        try:
            if isinstance(data, Mapping):
                who = identity_of(data)
                if who and not participant.matches(
                    participant.ndis_number,
                    str(who.get("last_name", participant.last_name)),
                    who.get("date_of_birth", participant.date_of_birth),
                ):
                    raise ParticipantNotFound(_NOT_FOUND)
            raw_plans = plans_of(data)
        except ValueError as exc:
            raise SourcePayloadError(str(exc), source=where) from None
        plans: list[PacePlan] = []
        for n, raw in enumerate(raw_plans):
            payload: dict[str, Any] = {**raw, "raw": RawPayload(raw)}  # kept as sent
            if not any(k in payload for k in ("ndis_number", "ndisNumber", "participant")):
                payload["ndisNumber"] = participant.ndis_number  # the route's own key
            try:
                plan = PacePlan.model_validate(payload)
            except ValidationError as exc:
                raise _payload_error(exc, where, n) from None
            if plan.ndis_number != participant.ndis_number:
                raise SourcePayloadError(
                    f"plans.{n}: the plan is for another NDIS number than the one asked for",
                    source=where,
                    loc=("plans", n, "ndis_number"),
                )
            plans.append(plan)
        return plans


if TYPE_CHECKING:  # static check: the adapter implements the port
    _conforms: PacePlanSource = HttpPaceSource(HttpSettings("http://127.0.0.1"))
