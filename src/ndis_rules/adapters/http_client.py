"""The HTTP client the gateway adapters share (extra ``http``: ``pip install 'ndis-rules[http]'``).

One :class:`HttpClient` sends a request with:

* **timeouts** (connect, read, write and pool, ``timeout`` seconds each);
* **bounded retries** with exponential backoff and full jitter, *only* for calls the caller marks
  idempotent (GETs; a create only when it carries an idempotency key): a timeout, a dropped or
  refused connection, ``429`` and ``5xx`` are retried up to ``retries`` more times, waiting
  ``random() * min(backoff_max, backoff * 2**attempt)`` seconds, or the server's
  ``Retry-After`` (capped at ``retry_after_max``) when it is longer;
* a **client-side rate limiter** (a token bucket of ``rate`` requests per second, ``burst``
  deep), so a batch never floods the gateway;
* an **auth hook**: ``auth()`` returns the headers to add (``x-api-key``, a bearer token...);
  it is called for every request and nothing it returns is kept, logged or put in an error;
* the **clock, sleep and random source injectable**, so tests never really wait.

Every failure comes back as one :class:`HttpFailure` (what happened, the status and the server's
reason); each adapter maps it to its port's typed errors. Nothing else escapes.

Examples:
    >>> now = [0.0]                                  # a clock that moves only when we sleep
    >>> def sleep(seconds: float) -> None:
    ...     now[0] += seconds
    >>> bucket = RateLimiter(rate=2.0, burst=1, clock=lambda: now[0], sleep=sleep)
    >>> [bucket.acquire() for _ in range(3)], now[0]
    ([0.0, 0.5, 0.5], 1.0)
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("the HTTP adapters need httpx: pip install 'ndis-rules[http]'") from exc

from pydantic import ValidationError

from ..errors import HttpFailure
from ..files.documents import dumps_exact, loads_exact

__all__ = [
    "HttpAdapter",
    "HttpClient",
    "HttpFailure",
    "HttpSettings",
    "RateLimiter",
    "Reply",
    "map_failure",
    "payload_problems",
]

E = TypeVar("E", bound=Exception)

@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: the status and the body parsed exactly (``None`` when empty);
    ``replayed`` when the server says (``Idempotent-Replayed: true``) that it answered an
    earlier request with the same idempotency key and made nothing new."""

    status: int
    data: Any
    replayed: bool = False


class RateLimiter:
    """A token bucket: ``rate`` requests per second, up to ``burst`` at once. :meth:`acquire`
    sleeps (through the injected ``sleep``) until a token is free and returns the wait."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._last: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting for it if need be; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            if self._last is not None:
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            if wait:
                self._last = now + wait
                self._tokens = 0.0
        if wait:
            self._sleep(wait)
        return wait


@dataclass
class HttpSettings:
    """How to reach a gateway. ``base_url`` such as ``https://gateway.example/public``;
    ``auth`` returns the headers that authenticate a request (called per request, nothing kept).
    """

    base_url: str
    auth: Callable[[], Mapping[str, str]] | None = None
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    rate: float | None = 5.0
    burst: int = 5
    idempotency_header: str | None = "Idempotency-Key"
    user_agent: str = "ndis-rules"
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    transport: httpx.BaseTransport | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.retries < 0 or self.timeout <= 0 or self.backoff < 0:
            raise ValueError("retries must be >= 0, timeout > 0 and backoff >= 0")


_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def _reason_of(response: httpx.Response) -> str:
    """The server's reason: ``message``/``error``/``detail`` of a JSON body, else the status."""
    try:
        data = loads_exact(response.content) if response.content else None
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, Mapping):
        for key in ("message", "error", "detail", "reason"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:500]
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


class HttpClient:
    """Sends requests for an adapter (see the module docs). Thread-safe; use as a context
    manager or call :meth:`close`."""

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        self.limiter = (
            RateLimiter(settings.rate, settings.burst, clock=settings.clock, sleep=settings.sleep)
            if settings.rate
            else None
        )
        self._client = httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            timeout=httpx.Timeout(settings.timeout),
            transport=settings.transport,
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
            follow_redirects=False,
        )
        #: Every attempt sent, as ``(method, path)``: for tests and metrics (no headers, no body).
        self.attempts: list[tuple[str, str]] = []

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def backoff_delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt + 1``: full jitter over the exponential
        backoff, or the server's ``Retry-After`` (capped) when that is longer."""
        s = self.settings
        delay = float(s.random()) * min(s.backoff_max, s.backoff * (2.0**attempt))
        if retry_after is not None:
            delay = max(delay, min(retry_after, s.retry_after_max))
        return delay

    def send(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        body: Any = None,
        idempotency_key: str | None = None,
    ) -> Reply:
        """Send one call; retried (bounded) only when ``idempotent``. Returns the exact JSON
        body of a 2xx answer; raises :class:`HttpFailure` otherwise."""
        s = self.settings
        content = dumps_exact(body).encode("utf-8") if body is not None else None
        attempt = 0
        while True:
            try:
                return self._once(method, path, content, idempotency_key)
            except HttpFailure as failure:
                failure.attempts = attempt + 1
                retryable = failure.kind in ("timeout", "unavailable") or (
                    failure.kind == "status" and failure.status in _TRANSIENT_STATUS
                )
                if not (idempotent and retryable) or attempt >= s.retries:
                    raise
                s.sleep(self.backoff_delay(attempt, failure.retry_after))
                attempt += 1

    def _once(
        self, method: str, path: str, content: bytes | None, idempotency_key: str | None
    ) -> Reply:
        if self.limiter is not None:
            self.limiter.acquire()
        headers: dict[str, str] = {}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None and self.settings.idempotency_header:
            headers[self.settings.idempotency_header] = idempotency_key
        if self.settings.auth is not None:
            headers.update(self.settings.auth())
        self.attempts.append((method, path))
        where = f"{method} {path}"
        try:
            response = self._client.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException:
            raise HttpFailure(
                "timeout", f"{where}: no answer in {self.settings.timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise HttpFailure(
                "unavailable", f"{where}: connection failed ({type(exc).__name__})"
            ) from None
        finally:
            headers.clear()  # the auth headers are not kept
        if response.status_code >= 400:
            raise HttpFailure(
                "status",
                f"{where}: HTTP {response.status_code}",
                status=response.status_code,
                reason=_reason_of(response),
                retry_after=_retry_after(response),
            )
        replayed = response.headers.get("Idempotent-Replayed", "").strip().lower() == "true"
        if not response.content.strip():
            return Reply(response.status_code, None, replayed)
        try:
            return Reply(response.status_code, loads_exact(response.content), replayed)
        except (ValueError, RecursionError) as exc:
            raise HttpFailure(
                "payload", f"{where}: the answer is not valid JSON ({str(exc)[:120]})"
            ) from None


class HttpAdapter:
    """What a port adapter over HTTP shares: its :class:`HttpClient` (one of its own made from
    ``settings``, or ``client`` to share; ``settings`` is then ignored), :meth:`close` and the
    context manager."""

    def __init__(self, settings: HttpSettings | None, client: HttpClient | None) -> None:
        if client is None:
            if settings is None:
                raise ValueError("give settings or a client")
            client = HttpClient(settings)
        self.client = client

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def map_failure(
    failure: HttpFailure,
    *,
    timeout: Callable[[str], E],
    unavailable: Callable[[str], E],
    payload: Callable[[str], E],
    status: Callable[[int, str], E],
) -> E:
    """An adapter's typed error for a failure: ``timeout`` and ``unavailable`` get the failure's
    text followed by `` after N attempt(s)`` when it was tried more than once, ``payload`` its
    text, ``status`` the HTTP status (0 when unknown) and that same attempts note."""
    tries = f" after {failure.attempts} attempt(s)" if failure.attempts > 1 else ""
    match failure.kind:
        case "timeout":
            return timeout(f"{failure}{tries}")
        case "unavailable":
            return unavailable(f"{failure}{tries}")
        case "payload":
            return payload(str(failure))
    return status(failure.status or 0, tries)


def payload_problems(exc: ValidationError, *prefix: str | int) -> list[str]:
    """Each problem of a payload that cannot be mapped: ``field.path: message`` (the path after
    ``prefix``), never the value sent."""
    return [
        ".".join(str(x) for x in (*prefix, *e["loc"]))
        + ": "
        + e["msg"].removeprefix("Value error, ")
        for e in exc.errors(include_input=False)
    ]
