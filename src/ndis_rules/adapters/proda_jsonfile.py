"""A PRODA gateway kept in one JSON file: an offline stand-in for PRODA, written atomically.

Each call takes an exclusive lock (``flock`` on ``<file>.lock`` beside the store, so two processes
or threads never interleave), loads the file, applies the operation exactly as the in-memory
gateway does, and on success compares the file's ``revision`` with the one it read (a writer that
did not take the lock is caught: :class:`GatewayUnavailable`, which the batch retries), then
writes the whole state with the next revision to a temporary file in the same folder and moves
it into place with ``os.replace``; a call that fails writes nothing, so the file is unchanged.
Idempotency keys are kept in the file, so two runs that create the same request make one
booking. Money is stored as
``"123.45"`` strings and dates as ISO ``YYYY-MM-DD``. An unreadable file, or one with a
top-level key the store does not write (a misspelt ``"booking"``), is a
:class:`~ndis_rules.errors.GatewayError`, never an empty store; a failed write is
:class:`GatewayUnavailable`.

Examples:
    >>> import tempfile, pathlib
    >>> from datetime import date
    >>> folder = tempfile.TemporaryDirectory()
    >>> gw = JsonFileProdaGateway(pathlib.Path(folder.name) / "proda.json")
    >>> p = Participant(ndis_number="430000001", name="Citizen", date_of_birth=date(1990, 1, 2))
    >>> gw.register(p, ProdaPlan(participant="430000001", start=date(2025, 7, 1),
    ...                          end_inclusive=date(2026, 6, 30)))
    >>> JsonFileProdaGateway(gw.path).find_plan(p).start
    datetime.date(2025, 7, 1)
    >>> folder.cleanup()
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from ..bookings import BookingRequest, ServiceBooking
from ..errors import input_error_from
from ..files.atomic import write_atomic
from ..money import Money
from ..parsing import json_loads
from ..proda import GatewayError, GatewayUnavailable, Participant, ProdaGateway, ProdaPlan
from .proda_memory import STATE_KEYS as _STORE_KEYS
from .proda_memory import InMemoryProdaGateway

__all__ = ["JsonFileProdaGateway"]

T = TypeVar("T")

_fcntl: ModuleType | None
try:  # POSIX; elsewhere only the revision compare guards the store
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - not POSIX
    _fcntl = None


class JsonFileProdaGateway:
    """A :class:`~ndis_rules.proda.ProdaGateway` persisted in the JSON file ``path``."""

    def __init__(
        self, path: str | os.PathLike[str], *, auto_approve: bool = True, id_prefix: str = "SB"
    ) -> None:
        self.path = Path(path)
        self.auto_approve = auto_approve
        self.id_prefix = id_prefix

    # -- storage ------------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        """The lock file beside the store."""
        return self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise GatewayUnavailable(f"{self.path}: cannot lock ({exc.strerror})") from None
        try:
            if _fcntl is not None:
                _fcntl.flock(fd, _fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> tuple[dict[str, object] | None, int]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, 0
        except OSError as exc:
            raise GatewayUnavailable(f"{self.path}: cannot read ({exc.strerror})") from None
        try:
            state = json_loads(text)
            if not isinstance(state, dict):
                raise TypeError("the file does not hold a JSON object")
            # every key the store writes is known: a misspelt one is an error, never an empty store
            unknown = sorted(set(state) - _STORE_KEYS)
            if unknown:
                raise ValueError(f"unknown top-level key(s): {', '.join(map(repr, unknown))}")
            revision = state.get("revision", 0)
            if not isinstance(revision, int) or isinstance(revision, bool):
                raise TypeError("revision: expected a whole number")
        except RecursionError:
            raise GatewayError(f"{self.path}: not a PRODA store file (nested too deeply)") from None
        except (ValueError, TypeError) as exc:
            raise GatewayError(f"{self.path}: not a PRODA store file ({exc})") from None
        return state, revision

    def _load(self) -> tuple[InMemoryProdaGateway, int]:
        gateway = InMemoryProdaGateway(auto_approve=self.auto_approve, id_prefix=self.id_prefix)
        state, revision = self._read()
        if state is None:
            return gateway, 0
        try:
            gateway.load_state(state)
        except ValidationError as exc:
            # name the fields, never their values (last names, dates of birth)
            raise GatewayError(
                f"{self.path}: not a PRODA store file ({input_error_from(exc, 'store')})"
            ) from None
        except RecursionError:
            raise GatewayError(f"{self.path}: not a PRODA store file (nested too deeply)") from None
        except (ValueError, TypeError) as exc:
            raise GatewayError(f"{self.path}: not a PRODA store file ({exc})") from None
        return gateway, revision

    def _save(self, gateway: InMemoryProdaGateway, revision: int) -> None:
        state = {**gateway.to_state(), "revision": revision}
        text = json.dumps(state, indent=2, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_atomic(self.path, text)
        except OSError as exc:
            raise GatewayUnavailable(f"{self.path}: cannot write ({exc.strerror})") from None

    def _run(self, operation: Callable[[InMemoryProdaGateway], T], *, write: bool = True) -> T:
        with self._exclusive():
            gateway, revision = self._load()
            result = operation(gateway)  # raises before anything is written
            if write:
                _, now = self._read()
                if now != revision:  # compare-and-set: someone wrote without the lock
                    raise GatewayUnavailable(
                        f"{self.path}: the store changed during the call (revision {revision} "
                        f"-> {now}); nothing was written"
                    )
                self._save(gateway, revision + 1)
            return result

    # -- set-up -------------------------------------------------------------------------------
    def register(self, participant: Participant, plan: ProdaPlan | None = None) -> None:
        """Make the store know a participant (and their current plan)."""
        self._run(lambda g: g.register(participant, plan))

    def record_payment(self, booking_id: str) -> None:
        """A payment request is made against a booking."""
        self._run(lambda g: g.record_payment(booking_id))

    def make_inactive(self, booking_id: str) -> None:
        """PRODA completes a booking (``CMPD``)."""
        self._run(lambda g: g.make_inactive(booking_id))

    # -- the port -----------------------------------------------------------------------------
    def find_plan(self, participant: Participant) -> ProdaPlan:
        """See :meth:`InMemoryProdaGateway.find_plan`."""
        return self._run(lambda g: g.find_plan(participant), write=False)

    def create_booking(
        self, request: BookingRequest, *, idempotency_key: str | None = None
    ) -> ServiceBooking:
        """See :meth:`InMemoryProdaGateway.create_booking`."""
        return self._run(lambda g: g.create_booking(request, idempotency_key=idempotency_key))

    def update_amount(self, booking_id: str, amount: Money) -> ServiceBooking:
        """See :meth:`InMemoryProdaGateway.update_amount`."""
        return self._run(lambda g: g.update_amount(booking_id, amount))

    def refresh_booking(self, booking_id: str) -> ServiceBooking:
        """See :meth:`InMemoryProdaGateway.refresh_booking`."""
        return self._run(lambda g: g.refresh_booking(booking_id))

    def update_end_date(self, booking_id: str, end_inclusive: date) -> ServiceBooking:
        """See :meth:`InMemoryProdaGateway.update_end_date`."""
        return self._run(lambda g: g.update_end_date(booking_id, end_inclusive))

    def end_booking(self, booking_id: str) -> ServiceBooking:
        """See :meth:`InMemoryProdaGateway.end_booking`."""
        return self._run(lambda g: g.end_booking(booking_id))

    def list_bookings(self, participant: Participant) -> Sequence[ServiceBooking]:
        """See :meth:`InMemoryProdaGateway.list_bookings`."""
        return self._run(lambda g: g.list_bookings(participant), write=False)


if TYPE_CHECKING:  # static check: the adapter implements the port
    _conforms: ProdaGateway = JsonFileProdaGateway("proda.json")
