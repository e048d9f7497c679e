"""The quickclaim public gateway API's shapes (spec/api-fields.md "A public gateway API"), read
leniently and exactly, and the bodies of its service booking calls. No transport here: the HTTP
adapters (:mod:`.http_pace`, :mod:`.http_proda`) and the local test server share these.

Plans come from ``GET /planByNdisNumber/{n}``: one plan object (``planId``, ``planNumber``,
``startDate``, ``endDate``, ...), ``{"plans": [...]}`` or ``{"plan": {...}}``, each with a
``version`` key the reader ignores. Where a gateway returns the participant's last name and date
of birth with the plan (``lastName``/``dateOfBirth`` at the top level or under ``participant``),
the adapters check them against the participant looked up; quickclaim's documented plan does not
carry them, and then that check is the gateway's.

A service booking (``serviceBookingId``, ``serviceBookingNumber``, ``ndisNumber``,
``startDate``, ``endDate``, ``supportCategoryApi``, ``supportItem``, ``rate``, ``amount``,
``remaining``, ``status``) is read by :class:`QuickclaimBooking`; amounts are JSON numbers read
exactly (the JSON is parsed with :func:`~ndis_rules.files.documents.loads_exact`), ``remaining`` is
ignored (it is always computed locally).

Examples:
    >>> from decimal import Decimal
    >>> b = QuickclaimBooking.model_validate({"version": "1", "serviceBookingId": 77,
    ...     "serviceBookingNumber": 1234567, "ndisNumber": 430000001, "startDate": "2025-07-01",
    ...     "endDate": "2026-06-30", "supportCategory": "Assistance with Daily Life",
    ...     "supportCategoryApi": "DAILY_ACTIVITIES", "supportItem": "", "unit": "EA",
    ...     "rate": Decimal("900.5"), "amount": Decimal("900.5"), "remaining": Decimal("10"),
    ...     "status": "APPR"})
    >>> b.booking_id, b.category, b.item, str(b.amount), b.status
    ('77', '01', None, '900.50', 'APPR')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..bookings import BookingRequest, BookingType, ProdaStatusCode, ServiceBooking
from ..models import CategoryCode, IsoDate
from ..money import Money
from ..pace import NDIA_CATEGORY_CODES, PaceId, _aliases

__all__ = [
    "BOOKING_TYPE_CODES",
    "QuickclaimBooking",
    "create_body",
    "identity_of",
    "plans_of",
]

#: PRODA's booking type codes (and plain names) as a gateway may give them.
BOOKING_TYPE_CODES: Final[Mapping[str, BookingType]] = {
    "ZSAG": "standard",
    "STANDARD": "standard",
    "ZPLM": "plan_managed",
    "PLAN_MANAGED": "plan_managed",
}


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _blank_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _booking_type(value: object) -> object:
    if isinstance(value, str):
        key = "_".join(value.strip().upper().replace("-", " ").split())
        if key in BOOKING_TYPE_CODES:
            return BOOKING_TYPE_CODES[key]
        raise ValueError(
            f"unknown booking type {value!r} (expected ZSAG/standard, ZPLM/plan managed)"
        )
    return value


class QuickclaimBooking(BaseModel):
    """A service booking as the gateway answers it (quickclaim's camelCase names, their
    snake_case spellings too). Keys the gateway adds about the participant (``participantName``)
    or remaining funds (``remaining``) are ignored; any other unknown key is refused, naming it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    booking_id: PaceId = Field(validation_alias=_aliases("booking_id", "serviceBookingId"))
    booking_number: PaceId | None = Field(
        default=None, validation_alias=_aliases("booking_number", "serviceBookingNumber")
    )
    ndis_number: PaceId = Field(validation_alias=_aliases("ndis_number", "ndisNumber"))
    start: IsoDate = Field(validation_alias=_aliases("start", "startDate"))
    end_inclusive: IsoDate = Field(validation_alias=_aliases("end_inclusive", "endDate"))
    category: CategoryCode
    category_name: str | None = None
    item: Annotated[str | None, BeforeValidator(_blank_none)] = Field(
        default=None, validation_alias=_aliases("item", "supportItem")
    )
    unit: str | None = None
    rate: Money | None = None
    quantity: Decimal | None = None
    amount: Money
    status: Annotated[ProdaStatusCode, BeforeValidator(_upper)]
    booking_type: Annotated[BookingType | None, BeforeValidator(_booking_type)] = Field(
        default=None, validation_alias=_aliases("booking_type", "bookingType", "type")
    )
    reason: str | None = Field(
        default=None, validation_alias=_aliases("reason", "statusReason", "rejectionReason")
    )
    ended_early: bool = Field(
        default=False,
        description="the end date was brought forward once (where the gateway says so)",
        validation_alias=_aliases("ended_early", "endedEarly"),
    )

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = {
            k: v
            for k, v in data.items()
            if k not in ("version", "remaining", "participantName", "participant_name")
        }
        label = out.pop("supportCategory", out.pop("support_category", None))
        api = out.pop("supportCategoryApi", out.pop("support_category_api", None))
        code = out.pop("categoryCode", out.pop("category_code", None))
        if label is not None:
            out["category_name"] = label
        if "category" not in out:
            if code is not None:
                out["category"] = code
            elif isinstance(api, str) and api.strip().upper() in NDIA_CATEGORY_CODES:
                out["category"] = NDIA_CATEGORY_CODES[api.strip().upper()]
            elif isinstance(out.get("supportItem"), str) and out["supportItem"][:2].isdigit():
                out["category"] = out["supportItem"][:2]
            elif api is not None:
                raise ValueError(
                    f"supportCategoryApi: {api!r} is not an NDIA category code we can map to a "
                    "support category number"
                )
        return out

    def to_service_booking(
        self,
        request: BookingRequest | None = None,
        *,
        default_type: BookingType = "standard",
        ended_early: bool = False,
    ) -> ServiceBooking:
        """Our record of the booking. With the ``request`` it was made from (a create), that
        request is kept; otherwise one is rebuilt from what PRODA knows (``source_kind``
        ``external``, ``contract_id`` ``"proda"``, the booking id as ``source_id``)."""
        if request is None:
            request = BookingRequest(
                contract_id="proda",
                participant=self.ndis_number,
                source_kind="external",
                source_id=self.booking_id,
                category=self.category,
                item=self.item,
                type=self.booking_type or default_type,
                start=self.start,
                end_inclusive=self.end_inclusive,
                amount=self.amount,
            )
        booking = ServiceBooking.from_request(self.booking_id, request, self.status, self.reason)
        return booking.model_copy(
            update={
                "start": self.start,
                "end_inclusive": self.end_inclusive,
                "ended_early": ended_early or self.ended_early,
            }
        )


_IDENTITY_KEYS: Final = {
    "last_name": ("lastName", "last_name", "surname", "familyName"),
    "date_of_birth": ("dateOfBirth", "date_of_birth", "dob", "birthDate"),
}


def identity_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The participant's last name and date of birth where the response gives them (top level or
    under ``participant``), as ``{"last_name": ..., "date_of_birth": date}``; empty if none."""
    found: dict[str, Any] = {}
    block = data.get("participant")
    for source in (data, block if isinstance(block, Mapping) else {}):
        for ours, keys in _IDENTITY_KEYS.items():
            for key in keys:
                if key in source and ours not in found:
                    found[ours] = source[key]
    dob = found.get("date_of_birth")
    if isinstance(dob, str):
        try:
            found["date_of_birth"] = date.fromisoformat(dob.strip()[:10])
        except ValueError:
            raise ValueError("dateOfBirth: expected a date as YYYY-MM-DD") from None
    return found


def plans_of(data: Any) -> list[Mapping[str, Any]]:
    """The plan objects of a plan response: ``{"plans": [...]}``, ``{"plan": {...}}``, a list,
    or one flat plan (quickclaim). The identity keys and ``participant`` block are dropped."""
    drop = {"participant", "version", *(k for keys in _IDENTITY_KEYS.values() for k in keys)}
    if isinstance(data, list):
        plans: Sequence[Any] = data
    elif isinstance(data, Mapping):
        if isinstance(data.get("plans"), list):
            plans = data["plans"]
        elif isinstance(data.get("plan"), Mapping):
            plans = [data["plan"]]
        else:
            plans = [data]
    else:
        raise ValueError(f"expected a JSON object or list of plans, got {type(data).__name__}")
    out: list[Mapping[str, Any]] = []
    for n, plan in enumerate(plans):
        if not isinstance(plan, Mapping):
            raise ValueError(f"plans.{n}: expected a JSON object")
        out.append({k: v for k, v in plan.items() if k not in drop})
    return out


def create_body(request: BookingRequest, plan_id: str | None) -> dict[str, Any]:
    """The create call's body (quickclaim: ``ndisNumber``, ``planId``, ``startDate``,
    ``endDate``, ``categoryCode`` such as ``"04"``, optional ``supportItem``, ``rate``,
    ``quantity``). The booking's amount is sent as ``rate`` with ``quantity`` 1, as exact JSON
    numbers (never through a float).

    Examples:
        >>> from datetime import date
        >>> r = BookingRequest(contract_id="C1", participant="430000001", source_kind="budget",
        ...     source_id="04:agency", category="04", type="standard", start=date(2025, 7, 1),
        ...     end_inclusive=date(2026, 6, 30), amount=Money.parse("900.05"))
        >>> create_body(r, "1001")
        {'ndisNumber': 430000001, 'planId': 1001, 'startDate': '2025-07-01', \
'endDate': '2026-06-30', 'categoryCode': '04', 'rate': Decimal('900.05'), 'quantity': 1}
    """
    body: dict[str, Any] = {
        "ndisNumber": _number_if_digits(request.participant or ""),
        "planId": _number_if_digits(plan_id) if plan_id is not None else None,
        "startDate": request.start.isoformat(),
        "endDate": request.end_inclusive.isoformat(),
        "categoryCode": request.category,
    }
    if body["planId"] is None:
        del body["planId"]
    if request.item:
        body["supportItem"] = request.item
    body["rate"] = request.amount.to_decimal()
    body["quantity"] = 1
    return body


def _number_if_digits(text: str) -> int | str:
    """quickclaim's ids are ints (``ndisNumber``, ``planId``): send digits as a JSON number."""
    return int(text) if text.isdigit() else text


#: What a PRODA gateway call did (for messages).
Operation = Literal["find_plan", "create", "get", "list", "extend", "cancel"]
