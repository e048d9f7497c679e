"""A PRODA gateway over HTTP (extra ``http``), on the quickclaim public API's service booking
calls by default (spec/api-fields.md): plan lookup, create, get, list, extend and cancel.

==================  ==========================================  ================================
port method         call (default route)                        retried?
==================  ==========================================  ================================
``find_plan``       ``GET /planByNdisNumber/{n}``               yes (idempotent)
``create_booking``  ``GET`` the plan (for ``planId``), then     the GET yes; the POST only when
                    ``POST /serviceBooking/create``             it carries an idempotency key
``refresh_booking`` ``GET /serviceBooking/{id}``                yes
``update_end_date`` ``GET`` it, then ``POST                     the GET yes; the POST never
                    /serviceBooking/extend`` (``endDate``)
``update_amount``   ``POST /serviceBooking/update``             never
                    (``rate``, ``quantity`` 1)
``end_booking``     ``POST /serviceBooking/cancel``             never
``list_bookings``   ``GET /serviceBookingsByNdisNumber/{n}``    yes
==================  ==========================================  ================================

The create's idempotency key is the one the caller gives (the batch gives the request's
:attr:`~ndis_rules.bookings.BookingRequest.key`; without one, that key is sent), in the
``Idempotency-Key`` header (``HttpSettings.idempotency_header``; ``None`` sends none, and then a
create is never retried). A server's ``Idempotent-Replayed: true`` marks the answer ``replayed``
(nothing new was made). Every booking returned holds only what the gateway says (never our
contract id or source: see :func:`~ndis_rules.bookings.booking_from_proda`).

quickclaim documents ``extend`` for a later end date only; an earlier one (PRODA's "bring the
end date forward", once) goes to the same route and a gateway that cannot do it refuses it
(``GatewayRefused``). The routes are :class:`BookingRoutes`, so another gateway's paths can be
given.

Failures are the port's errors: no answer in time -> ``GatewayTimeout``; refused or dropped
connection, 429, 5xx (after the retries) -> ``GatewayUnavailable``; 404 on a booking ->
``BookingNotFound``; 401/403 and other 4xx -> ``GatewayRefused`` with the gateway's reason; a body
that is not JSON or cannot be mapped -> ``GatewayPayloadError`` naming the field. Over a network
"a failed call changes nothing" cannot be promised for a POST that got no answer: it is not
retried, and the caller looks (``list_bookings``) before repeating it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import ValidationError

from ..bookings import BookingRequest, BookingType, ServiceBooking
from ..money import Money
from ..proda import (
    BookingNotFound,
    GatewayError,
    GatewayPayloadError,
    GatewayRefused,
    GatewayTimeout,
    GatewayUnavailable,
    Participant,
    ProdaPlan,
)
from .http_client import (
    HttpAdapter,
    HttpClient,
    HttpFailure,
    HttpSettings,
    Reply,
    map_failure,
    payload_problems,
)
from .quickclaim import QuickclaimBooking, create_body, identity_of, plans_of

if TYPE_CHECKING:
    from ..proda import ProdaGateway

__all__ = ["BookingRoutes", "HttpProdaGateway"]


@dataclass(frozen=True, slots=True)
class BookingRoutes:
    """The gateway's paths (``{ndis_number}`` and ``{booking_id}`` filled in). The defaults
    follow quickclaim's call names; its published paths may differ: set them here."""

    plan: str = "/planByNdisNumber/{ndis_number}"
    list: str = "/serviceBookingsByNdisNumber/{ndis_number}"
    get: str = "/serviceBooking/{booking_id}"
    create: str = "/serviceBooking/create"
    update: str = "/serviceBooking/update"
    extend: str = "/serviceBooking/extend"
    cancel: str = "/serviceBooking/cancel"


def _gateway_error(failure: HttpFailure, where: str, booking_id: str | None) -> GatewayError:
    def by_status(status: int, tries: str) -> GatewayError:
        if status == 404 and booking_id is not None:
            return BookingNotFound(booking_id)
        if status in (408, 504):
            return GatewayTimeout(f"{where}: HTTP {status}{tries}")
        if status == 429 or status >= 500:
            return GatewayUnavailable(f"{where}: HTTP {status}: {failure.reason}{tries}")
        if status in (401, 403):
            return GatewayRefused(f"not authorised by the gateway (HTTP {status})")
        return GatewayRefused(failure.reason or f"HTTP {status}")

    return map_failure(
        failure,
        timeout=GatewayTimeout,
        unavailable=GatewayUnavailable,
        payload=GatewayPayloadError,
        status=by_status,
    )


def _bookings_of(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        for key in ("serviceBookings", "service_bookings", "bookings", "data"):
            if isinstance(data.get(key), list):
                return list(data[key])
    raise GatewayPayloadError(f"expected a list of service bookings, got {type(data).__name__}")


class HttpProdaGateway(HttpAdapter):
    """The :class:`~ndis_rules.proda.ProdaGateway` port over HTTP (see the module docs).

    Args:
        settings: where and how to call (base URL, auth hook, timeouts, retries, rate).
        routes: the gateway's paths.
        client: an :class:`HttpClient` to share (``settings`` is then ignored).
        default_type: the booking type of a booking whose answer does not say
            (quickclaim's does not).
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        routes: BookingRoutes | None = None,
        client: HttpClient | None = None,
        default_type: BookingType = "standard",
    ) -> None:
        super().__init__(settings, client)
        self.routes = routes or BookingRoutes()
        self.default_type: BookingType = default_type

    # -- internals ----------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, body: Any = None, booking_id: str | None = None
    ) -> Any:
        """The answer's data (see :meth:`_reply`)."""
        return self._reply(method, path, body=body, booking_id=booking_id).data

    def _reply(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        booking_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Reply:
        idempotent = method == "GET" or idempotency_key is not None
        try:
            return self.client.send(
                method, path, idempotent=idempotent, body=body, idempotency_key=idempotency_key
            )
        except HttpFailure as failure:
            raise _gateway_error(failure, f"{method} {path}", booking_id) from None

    def _booking(
        self,
        data: Any,
        request: BookingRequest | None = None,
        *,
        ended_early: bool = False,
    ) -> ServiceBooking:
        try:
            parsed = QuickclaimBooking.model_validate(data)
            return parsed.to_service_booking(
                request, default_type=self.default_type, ended_early=ended_early
            )
        except ValidationError as exc:
            raise GatewayPayloadError(
                "the gateway's service booking cannot be read: "
                + "; ".join(payload_problems(exc))
            ) from None

    def _path(self, template: str, **values: str) -> str:
        return template.format(**{k: quote(v, safe="") for k, v in values.items()})

    def _plan_data(self, ndis_number: str) -> tuple[Mapping[str, Any], dict[str, Any]]:
        path = self._path(self.routes.plan, ndis_number=ndis_number)
        data = self._call("GET", path)
        try:
            plans = plans_of(data)
            who = identity_of(data) if isinstance(data, Mapping) else {}
        except ValueError as exc:
            raise GatewayPayloadError(f"GET {path}: {exc}") from None
        if len(plans) != 1:
            raise GatewayPayloadError(
                f"GET {path}: expected the participant's current plan, got {len(plans)} plans"
            )
        return plans[0], who

    # -- the port -----------------------------------------------------------------------------
    def find_plan(self, participant: Participant) -> ProdaPlan:
        """The participant's current plan; refused when the name or date of birth the gateway
        returns differ (checked here: they are never sent)."""
        plan, who = self._plan_data(participant.ndis_number)
        if who:
            known = Participant(
                ndis_number=participant.ndis_number,
                name=str(who.get("last_name", participant.name)) or participant.name,
                date_of_birth=who.get("date_of_birth", participant.date_of_birth),
            )
            problems = known.matches(participant)
            if problems:
                raise GatewayRefused("; ".join(problems))
        plan_id = next(
            (plan[k] for k in ("planNumber", "plan_number", "planId", "plan_id") if k in plan),
            None,
        )
        try:
            return ProdaPlan(
                participant=participant.ndis_number,
                plan_id=None if plan_id is None else str(plan_id),
                start=plan.get("startDate", plan.get("start_date", plan.get("start"))),
                end_inclusive=plan.get("endDate", plan.get("end_date", plan.get("end_inclusive"))),
            )
        except ValidationError as exc:
            fields = ", ".join(
                ".".join(str(x) for x in e["loc"]) for e in exc.errors(include_input=False)
            )
            raise GatewayPayloadError(f"the gateway's plan cannot be read: {fields}") from None

    def create_booking(
        self, request: BookingRequest, *, idempotency_key: str | None = None
    ) -> ServiceBooking:
        """Create the booking (see the module docs for when it is retried); the answer holds
        only what the gateway says, ``replayed`` when its idempotency key was used before."""
        if not request.participant:
            raise GatewayRefused("the booking request names no participant")
        plan, _ = self._plan_data(request.participant)
        plan_id = next((plan[k] for k in ("planId", "plan_id") if k in plan), None)
        key = (idempotency_key or request.key) if self.client.settings.idempotency_header else None
        reply = self._reply(
            "POST",
            self.routes.create,
            body=create_body(request, None if plan_id is None else str(plan_id)),
            idempotency_key=key,
        )
        booking = self._booking(reply.data)
        return booking.model_copy(update={"replayed": True}) if reply.replayed else booking

    def update_amount(self, booking_id: str, amount: Money) -> ServiceBooking:
        """Change a category-level booking's amount (sent as ``rate`` with ``quantity`` 1;
        the gateway refuses it for a support item's booking)."""
        data = self._call(
            "POST",
            self.routes.update,
            body={"serviceBookingId": booking_id, "rate": amount.to_decimal(), "quantity": 1},
            booking_id=booking_id,
        )
        return self._booking(data)

    def refresh_booking(self, booking_id: str) -> ServiceBooking:
        """The booking as the gateway holds it now."""
        path = self._path(self.routes.get, booking_id=booking_id)
        return self._booking(self._call("GET", path, booking_id=booking_id))

    def update_end_date(self, booking_id: str, end_inclusive: date) -> ServiceBooking:
        """Move the end date: later is an extension; earlier brings it forward (once)."""
        current = self.refresh_booking(booking_id)
        data = self._call(
            "POST",
            self.routes.extend,
            body={"serviceBookingId": booking_id, "endDate": end_inclusive.isoformat()},
            booking_id=booking_id,
        )
        earlier = end_inclusive < current.end_inclusive
        return self._booking(data, ended_early=earlier or current.ended_early)

    def end_booking(self, booking_id: str) -> ServiceBooking:
        """Cancel the booking (an unused one is deleted: ``DELE``)."""
        data = self._call(
            "POST", self.routes.cancel, body={"serviceBookingId": booking_id}, booking_id=booking_id
        )
        return self._booking(data)

    def list_bookings(self, participant: Participant) -> Sequence[ServiceBooking]:
        """Every booking the gateway holds for the participant, by booking id."""
        path = self._path(self.routes.list, ndis_number=participant.ndis_number)
        bookings = [self._booking(b) for b in _bookings_of(self._call("GET", path))]
        return sorted(bookings, key=lambda b: b.booking_id)


if TYPE_CHECKING:  # static check: the adapter implements the port
    _conforms: ProdaGateway = HttpProdaGateway(HttpSettings("http://127.0.0.1"))
