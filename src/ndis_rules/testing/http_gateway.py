"""A local HTTP gateway for tests and demos: the quickclaim-shaped PACE plan and PRODA service
booking routes on ``127.0.0.1`` (stdlib ``http.server`` in a thread, an ephemeral port), with
scriptable faults. Reuse it to test an integration without a network::

    with LocalGateway() as server:
        server.add_pace_plans(who, [plan_payload])          # PACE: GET /planByNdisNumber/{n}
        server.proda.register(participant, proda_plan)      # PRODA: the in-memory fake behind it
        server.fail("/planByNdisNumber", "429", retry_after=2)
        source = HttpPaceSource(HttpSettings(server.url, ...))

Behind the PRODA routes is an :class:`~ndis_rules.adapters.proda_memory.InMemoryProdaGateway`
(``server.proda``), so the server behaves as the reference fake: a refusal is ``422`` with the
reason as ``{"message": ...}``, an unknown booking ``404``. A create that repeats an
``Idempotency-Key`` answers the booking made the first time. PACE plans are served as given (the
payload text is kept, so numbers with cents go out exactly), with the participant's last name and
date of birth for the client to check; ``authorised=False`` answers ``403``.

Faults (:meth:`LocalGateway.fail`), matched by path prefix in the order scripted, each ``times``
times: ``slow`` (answer after ``delay`` seconds), ``429`` (with ``Retry-After``), ``500``,
``drop`` (close the connection without an answer), ``malformed`` (``200`` with a body that is not
JSON), ``status`` (any ``code``, e.g. 401). It is bounded: it listens on ``127.0.0.1`` only,
serves at most ``max_requests`` requests, reads at most 1 MiB per body, and stops by itself after
``lifetime`` seconds (or when the ``with`` block ends).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import ValidationError

from ..adapters.proda_memory import InMemoryProdaGateway
from ..bookings import BookingRequest, ServiceBooking
from ..files.documents import dumps_exact, loads_exact
from ..money import Money
from ..pace import NDIA_CATEGORY_CODES, ParticipantRef
from ..proda import BookingNotFound, GatewayError, GatewayRefused

__all__ = ["FaultKind", "LocalGateway", "ScriptedFault"]

FaultKind = Literal["slow", "429", "500", "drop", "malformed", "status"]
_MAX_BODY = 1 << 20
_API_NAME = {number: name for name, number in NDIA_CATEGORY_CODES.items()}


@dataclass
class ScriptedFault:
    """One scripted fault: ``kind`` for requests whose path starts with ``path`` (``""``: any),
    ``times`` times (``None``: until cleared)."""

    path: str
    kind: FaultKind
    times: int | None = 1
    delay: float = 0.0
    retry_after: float | None = None
    code: int = 500


@dataclass
class _Pace:
    who: ParticipantRef
    plans: list[Any]
    authorised: bool


@dataclass
class _Seen:
    """A request the server received: method, path, whether it carried an idempotency key, and
    the names (never the values) of its headers."""

    method: str
    path: str
    idempotency_key: str | None
    header_names: frozenset[str] = field(default_factory=frozenset)


class LocalGateway:
    """The local gateway server (see the module docs)."""

    def __init__(
        self,
        *,
        max_requests: int = 10_000,
        lifetime: float = 120.0,
        require_headers: Mapping[str, str] | None = None,
        auto_approve: bool = True,
    ) -> None:
        self.proda = InMemoryProdaGateway(auto_approve=auto_approve)
        self.max_requests = max_requests
        self.lifetime = lifetime
        self._required = dict(require_headers or {})
        self._pace: dict[str, _Pace] = {}
        self._faults: list[ScriptedFault] = []
        self._keys: dict[str, str] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self.requests: list[_Seen] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> LocalGateway:
        """Listen on 127.0.0.1 (an ephemeral port) and serve in a daemon thread."""
        if self._server is not None:
            return self
        gateway = self

        class Handler(_Handler):
            owner = gateway

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); slow answers in flight end at once."""
        self._stopping.set()
        server, self._server = self._server, None
        if self._timer is not None:
            self._timer.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._server is None:
            raise RuntimeError("the local gateway is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- scripting ----------------------------------------------------------------------------
    def add_pace_plans(
        self, who: ParticipantRef, plans: Iterable[Any], *, authorised: bool = True
    ) -> None:
        """Serve these plan payloads (dicts, with ``Decimal`` for exact numbers, or JSON text)
        for the participant on ``GET /planByNdisNumber/{n}``."""
        payloads = [loads_exact(p) if isinstance(p, str | bytes) else p for p in plans]
        with self._lock:
            self._pace[who.ndis_number] = _Pace(who, payloads, authorised)

    def fail(
        self,
        path: str,
        kind: FaultKind,
        *,
        times: int | None = 1,
        delay: float = 0.0,
        retry_after: float | None = None,
        code: int = 500,
    ) -> None:
        """Script a fault for requests whose path starts with ``path``."""
        with self._lock:
            self._faults.append(ScriptedFault(path, kind, times, delay, retry_after, code))

    def clear_faults(self) -> None:
        """Remove every scripted fault."""
        with self._lock:
            self._faults.clear()

    def calls(self, method: str | None = None, prefix: str = "") -> list[_Seen]:
        """The requests received (optionally only one method, paths starting with ``prefix``)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(prefix)
            ]

    # -- answering (called by the handler, one request at a time per connection) -------------
    def _fault_for(self, path: str) -> ScriptedFault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _answer(self, method: str, path: str, body: Any, key: str | None) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        with self._lock:
            try:
                return self._route(method, parts, body, key)
            except BookingNotFound as exc:
                return 404, {"message": str(exc)}
            except GatewayRefused as exc:
                return 422, {"message": exc.reason}
            except GatewayError as exc:  # pragma: no cover - the fake raises no other
                return 503, {"message": str(exc)}
            except (ValidationError, ValueError, TypeError, KeyError) as exc:
                return 400, {"message": f"bad request: {type(exc).__name__}"}

    def _route(self, method: str, parts: list[str], body: Any, key: str | None) -> tuple[int, Any]:
        match method, parts:
            case "GET", ["planByNdisNumber", ndis]:
                return self._plan(ndis)
            case "GET", ["serviceBookingsByNdisNumber", ndis]:
                bookings = [
                    b for b in self.proda.bookings.values() if b.request.participant == ndis
                ]
                return 200, [self._booking_json(b) for b in sorted(bookings, key=_id)]
            case "GET", ["serviceBooking", booking_id]:
                return 200, self._booking_json(self.proda.refresh_booking(booking_id))
            case "POST", ["serviceBooking", "create"]:
                return self._create(body, key)
            case "POST", ["serviceBooking", "extend"]:
                end = date.fromisoformat(body["endDate"])
                booking = self.proda.update_end_date(str(body["serviceBookingId"]), end)
                return 200, self._booking_json(booking)
            case "POST", ["serviceBooking", "update"]:
                booking_id = str(body["serviceBookingId"])
                amount = Money.parse(body["rate"]) * int(body.get("quantity", 1))
                # refused for a support item's booking, and changes nothing then
                return 200, self._booking_json(self.proda.update_amount(booking_id, amount))
            case "POST", ["serviceBooking", "cancel"]:
                return 200, self._booking_json(
                    self.proda.end_booking(str(body["serviceBookingId"]))
                )
        return 404, {"message": f"no route {method} /{'/'.join(parts)}"}

    def _plan(self, ndis: str) -> tuple[int, Any]:
        pace = self._pace.get(ndis)
        if pace is not None:
            if not pace.authorised:
                return 403, {"message": "no plan manager relationship with this participant"}
            return 200, {
                "version": "1",
                "lastName": pace.who.last_name,
                "dateOfBirth": pace.who.date_of_birth.isoformat(),
                "plans": pace.plans,
            }
        known = self.proda.participants.get(ndis)
        plan = self.proda.plans.get(ndis)
        if known is None or plan is None:
            return 404, {"message": f"NDIS number {ndis} not found"}
        plan_id = plan.plan_id or f"PLAN-{ndis}"
        return 200, {
            "version": "1",
            "planId": int(ndis),
            "planNumber": plan_id,
            "startDate": plan.start.isoformat(),
            "endDate": plan.end_inclusive.isoformat(),
            "lastName": known.name,
            "dateOfBirth": known.date_of_birth.isoformat(),
        }

    def _create(self, body: Mapping[str, Any], key: str | None) -> tuple[int, Any]:
        if key is not None and key in self._keys:
            return 200, self._booking_json(self.proda.bookings[self._keys[key]])
        rate = Money.parse(body["rate"])
        quantity = body.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise ValueError("quantity")
        request = BookingRequest(
            contract_id="gateway",
            participant=str(body["ndisNumber"]),
            source_kind="external",
            source_id=key or f"create-{len(self.proda.bookings) + 1}",
            category=str(body["categoryCode"]),
            item=body.get("supportItem") or None,
            type="standard",
            start=date.fromisoformat(body["startDate"]),
            end_inclusive=date.fromisoformat(body["endDate"]),
            amount=rate * quantity,
        )
        booking = self.proda.create_booking(request)
        if key is not None:
            self._keys[key] = booking.booking_id
        return 201, self._booking_json(booking)

    def _booking_json(self, b: ServiceBooking) -> dict[str, Any]:
        who = self.proda.participants.get(b.request.participant or "")
        out: dict[str, Any] = {
            "version": "1",
            "serviceBookingId": b.booking_id,
            "serviceBookingNumber": int(b.booking_id.lstrip("SB") or 0) + 5_000_000,
            "ndisNumber": int(b.request.participant or 0),
            "participantName": who.name if who else "",
            "startDate": b.start.isoformat(),
            "endDate": b.end_inclusive.isoformat(),
            "supportItem": b.request.item or "",
            "unit": "EA",
            "rate": b.request.amount.to_decimal(),
            "amount": b.request.amount.to_decimal(),
            "remaining": b.request.amount.to_decimal(),
            "status": b.proda_code,
            "bookingType": "ZPLM" if b.request.type == "plan_managed" else "ZSAG",
            "endedEarly": b.ended_early,
        }
        name = _API_NAME.get(b.request.category)
        if name:
            out["supportCategoryApi"] = name
        else:
            out["categoryCode"] = b.request.category
        if b.reason:
            out["reason"] = b.reason
        return out


def _id(b: ServiceBooking) -> str:
    return b.booking_id


class _Handler(BaseHTTPRequestHandler):
    owner: LocalGateway
    protocol_version = "HTTP/1.0"
    timeout = 5

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test server logs nothing (no paths with NDIS numbers in test output)."""

    def _handle(self, method: str) -> None:
        owner = self.owner
        path = self.path.split("?", 1)[0]
        key = self.headers.get("Idempotency-Key")
        with owner._lock:
            over = len(owner.requests) >= owner.max_requests
            owner.requests.append(
                _Seen(method, path, key, frozenset(h.lower() for h in self.headers))
            )
        if over:
            self._send(503, {"message": "the local gateway's request limit is reached"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._send(413, {"message": "body too large"})
            return
        raw = self.rfile.read(length) if length else b""
        for name, value in owner._required.items():
            if self.headers.get(name) != value:
                self._send(401, {"message": "not authenticated"})
                return
        fault = owner._fault_for(path)
        if fault is not None:
            if fault.kind == "slow":
                if owner._stopping.wait(fault.delay):
                    return
            elif fault.kind == "429":
                extra = (
                    {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                )
                self._send(429, {"message": "too many requests"}, extra)
                return
            elif fault.kind == "500":
                self._send(500, {"message": "internal error (scripted)"})
                return
            elif fault.kind == "status":
                self._send(fault.code, {"message": f"scripted HTTP {fault.code}"})
                return
            elif fault.kind == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):  # already closed
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            elif fault.kind == "malformed":
                self._send_raw(200, b'{"planId": 1, "startDate": ')
                return
        try:
            body = loads_exact(raw) if raw.strip() else None
        except (ValueError, RecursionError):
            self._send(400, {"message": "the body is not JSON"})
            return
        status, data = owner._answer(method, path, body, key)
        # a create answered from its idempotency key (200, not 201) says so, as servers do
        replayed = method == "POST" and path.rstrip("/").endswith("/create") and status == 200
        self._send(status, data, {"Idempotent-Replayed": "true"} if replayed else None)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _send(self, status: int, data: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send_raw(status, dumps_exact(_plain(data)).encode("utf-8"), headers)

    def _send_raw(
        self, status: int, content: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)
        except OSError:  # the client went away (e.g. it timed out): nothing to do
            pass


def _plain(data: Any) -> Any:
    """JSON-ready data: dates as text, Decimals kept (written exactly)."""
    if isinstance(data, Mapping):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    if isinstance(data, date):
        return data.isoformat()
    if isinstance(data, Decimal | str | int | float | bool) or data is None:
        return data
    return json.loads(json.dumps(data, default=str))
