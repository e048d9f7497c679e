"""The PACE plan as the source supplies it: plan, budgets, funding component and funding periods.

A :class:`PacePlan` is boundary data (pydantic, frozen, ``extra="forbid"``), read from a PACE
gateway or a JSON file. Field names are our snake_case (spec/api-fields.md); each field also
accepts the camelCase names vendors' gateways use (``planNumber``, ``ndisNumber``,
``supportCategoryApi``, ``fundingPeriodId`` ...). Money is an exact string (floats are refused),
dates are ``YYYY-MM-DD`` and every range is inclusive: ``start`` .. ``end_inclusive``. Enumerated
values are read case-insensitively (``PLAN``, ``Plan``, ``plan``). The format is documented in
``docs/pace-plan-format.md``; :func:`pace_plan_json_schema` exports its JSON Schema.

What a plan *means* for a contract (added / changed / ended budgets, conflicts) is decided by
:mod:`ndis_rules.merge`; whether its funding periods are consistent (no overlap, no gap, summing to
the component amount) is reported there as ``PLAN_PERIODS_INVALID``, so such a plan still loads.

Examples:
    >>> plan = PacePlan.model_validate({
    ...     "planNumber": "PLN-1", "ndisNumber": "430000001", "status": "ACTIVE",
    ...     "startDate": "2025-07-01", "endDate": "2026-06-30", "totalFunding": "1000.00",
    ...     "budgets": [{"supportCategory": "1", "managementType": "PLAN",
    ...                  "budgetType": "FLEXIBLE", "allocatedAmount": "1000.00",
    ...                  "supportCategoryApi": "DAILY_ACTIVITIES"}]})
    >>> plan.plan_id, plan.budgets[0].key, str(plan.budgets[0].total)
    ('PLN-1', '01:plan', '1000.00')
    >>> PacePlan.model_validate({"plan_id": "P", "ndis_number": "430000001",
    ...     "start": "2025-07-01", "end_inclusive": "2026-06-30", "total": 10.5})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for PacePlan
    total
      Value error, money must be a string or Decimal such as "70.23", not a float (10.5) ...
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from .models import BudgetType, CategoryCode, IsoDate, ManagementType, repeated
from .money import Money

__all__ = [
    "IGNORED_KEYS",
    "NDIA_CATEGORY_CODES",
    "PaceBudget",
    "PaceFundingComponent",
    "PaceFundingPeriod",
    "PacePlan",
    "ParticipantRef",
    "RawPayload",
    "SupportType",
    "pace_plan_json_schema",
]

SupportType = Literal["CORE", "CAPACITY_BUILDING", "CAPITAL", "RECURRING"]

_MANAGEMENT: Final = {
    "agency": "agency",
    "agency_managed": "agency",
    "ndia": "agency",
    "ndia_managed": "agency",
    "plan": "plan",
    "plan_managed": "plan",
    "plan_management": "plan",
    "self": "self",
    "self_managed": "self",
}
_TRUE: Final = frozenset({"yes", "y", "true", "released"})
_FALSE: Final = frozenset({"no", "n", "false", "not_released", "not_yet_released", "pending"})


def _words(value: str) -> str:
    return "_".join(value.strip().lower().replace("-", " ").split())


def _management(value: object) -> object:
    if isinstance(value, str):
        key = _words(value)
        if key in _MANAGEMENT:
            return _MANAGEMENT[key]
        raise ValueError(f"unknown management type {value!r} (expected AGENCY, PLAN or SELF)")
    return value


def _lower(value: object) -> object:
    return _words(value) if isinstance(value, str) else value


def _upper(value: object) -> object:
    return _words(value).upper() if isinstance(value, str) else value


def _released(value: object) -> object:
    if isinstance(value, str):
        key = _words(value)
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise ValueError(f"expected released yes/no, got {value!r}")
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _aliases(*names: str) -> AliasChoices:
    """Field options accepting the snake_case name first, then the aliases given, each also in
    its other spelling (``planNumber`` brings ``plan_number``; ``start_date`` brings
    ``startDate``): the NDIA's snake_case style and the vendors' camelCase are both read."""
    out: list[str] = []
    for name in names:
        for spelling in (name, _snake(name), _camel(name)):
            if spelling not in out:
                out.append(spelling)
    return AliasChoices(*out)


def _id_text(value: object) -> object:
    """An id given as a JSON number (``123``, or an integral decimal) is read as its text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    return value


#: The NDIA's support category names (as vendors' gateways give them, e.g. quickclaim's
#: ``supportCategoryApi``) and the category number each stands for. A payload that names a
#: category only by one of these is mapped to the number; an unknown name is refused by name.
NDIA_CATEGORY_CODES: Final[Mapping[str, str]] = {
    "DAILY_ACTIVITIES": "01",
    "TRANSPORT": "02",
    "CONSUMABLES": "03",
    "SOCIAL_COMMUNITY_CIVIC": "04",
    "ASSISTIVE_TECHNOLOGY": "05",
    "HOME_MODIFICATIONS": "06",
    "SUPPORT_COORDINATION": "07",
    "CB_HOME_LIVING": "08",
    "CB_SOCIAL_COMMUNITY_CIVIC": "09",
    "CB_EMPLOYMENT": "10",
    "CB_RELATIONSHIPS": "11",
    "CB_HEALTH_WELLBEING": "12",
    "CB_LIFELONG_LEARNING": "13",
    "CB_CHOICE_CONTROL": "14",
    "CB_DAILY_ACTIVITY": "15",
}

#: Keys a source may send that are deliberately not read: *remaining* is never taken from PACE
#: (spec/sync.md "Rules": it is always total - delivered, computed locally). A plan records the
#: path of each one it ignored in :attr:`PacePlan.ignored`.
#: Also ignored: what a gateway adds about itself or the participant that a plan does not hold
#: (quickclaim's ``version``, ``rego``, ``participantId``, ``ndisRefreshDate``,
#: ``participantName``). Any other unknown key is refused, naming it: a misspelt key is never
#: silently dropped.
IGNORED_KEYS: Final = frozenset(
    spelling
    for name in (
        "remaining",
        "remainingAmount",
        "amountRemaining",
        "version",
        "rego",
        "ndisRego",
        "participantId",
        "participantName",
        "ndisRefreshDate",
    )
    for spelling in (name, _snake(name))
)


def _strip_ignored(data: Any, path: tuple[str | int, ...], found: list[str]) -> Any:
    if isinstance(data, Mapping):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            if key in IGNORED_KEYS:
                found.append(".".join(str(x) for x in (*path, key)))
                continue
            out[key] = _strip_ignored(value, (*path, key), found)
        return out
    if isinstance(data, list | tuple):
        return [_strip_ignored(v, (*path, i), found) for i, v in enumerate(data)]
    return data


class RawPayload(Mapping[str, Any]):
    """The payload a plan was read from, exactly as the source sent it (a read-only mapping over
    a private deep copy). It never takes part in comparing plans (two plans with the same content
    are equal whatever shape they came in), is not serialised and is not shown in ``repr`` (it may
    hold what the plan does not need, such as a participant's name).

    Examples:
        >>> raw = RawPayload({"planId": 12})
        >>> raw["planId"], raw == RawPayload({"other": 1}), len(raw)
        (12, True, 1)
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = copy.deepcopy(dict(data))

    def __getitem__(self, key: str) -> Any:
        return copy.deepcopy(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawPayload)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"RawPayload(<{len(self._data)} keys>)"

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the payload."""
        return copy.deepcopy(self._data)


def _is_number_text(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | Decimal):
        return True
    return isinstance(value, str) and value.strip().isdigit()


_Management = Annotated[ManagementType, BeforeValidator(_management)]
_BudgetType = Annotated[BudgetType, BeforeValidator(_lower)]
_SupportType = Annotated[SupportType, BeforeValidator(_upper)]
_Released = Annotated[bool, BeforeValidator(_released)]
#: An NDIS number: 9 digits (a JSON number such as ``430000001`` is read as its text).
NdisNumber = Annotated[str, Field(pattern=r"^\d{9}$"), BeforeValidator(_id_text)]
#: An id, given as text or as a JSON number.
PaceId = Annotated[str, Field(min_length=1), BeforeValidator(_id_text)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ParticipantRef(_Model):
    """Who to look up in PACE: the NDIS number, last name and date of birth (all three are
    needed; the last name is compared case-insensitively).

    Examples:
        >>> ParticipantRef.model_validate({"ndisNumber": "430000001", "lastName": "Citizen",
        ...     "dateOfBirth": "1990-01-31"}).last_name
        'Citizen'
    """

    ndis_number: NdisNumber = Field(validation_alias=_aliases("ndis_number", "ndisNumber"))
    last_name: str = Field(
        min_length=1, validation_alias=_aliases("last_name", "lastName", "surname")
    )
    date_of_birth: IsoDate = Field(
        validation_alias=_aliases("date_of_birth", "dateOfBirth", "dob", "birthDate")
    )

    def matches(self, ndis_number: str, last_name: str, date_of_birth: date) -> bool:
        """True when all three details match (last name case- and space-insensitively)."""
        return (
            self.ndis_number == ndis_number
            and _words(self.last_name) == _words(last_name)
            and self.date_of_birth == date_of_birth
        )


class PaceFundingPeriod(_Model):
    """One funding period as PACE gives it: ``funding_period_id``, inclusive dates, amount and
    whether its funds are ``released`` yet."""

    funding_period_id: PaceId = Field(
        validation_alias=_aliases("funding_period_id", "fundingPeriodId", "id")
    )
    start: IsoDate = Field(validation_alias=_aliases("start", "startDate", "start_date"))
    end_inclusive: IsoDate = Field(
        validation_alias=_aliases("end_inclusive", "endDate", "end_date", "end")
    )
    amount: Money = Field(validation_alias=_aliases("amount", "allocatedAmount", "fundingAmount"))
    released: _Released = Field(
        default=True, validation_alias=_aliases("released", "isReleased", "releaseStatus")
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> PaceFundingPeriod:
        if self.end_inclusive < self.start:
            raise ValueError(
                f"funding period {self.funding_period_id}: end_inclusive {self.end_inclusive} "
                f"is before start {self.start}"
            )
        return self


class PaceFundingComponent(_Model):
    """A budget's funding component: its amount, instalment type/interval and funding periods.
    Periods may be empty (funds not yet in periods): :mod:`ndis_rules.merge` reports that."""

    id: PaceId | None = Field(
        default=None, validation_alias=_aliases("id", "fundingComponentId", "componentId")
    )
    amount: Money | None = Field(
        default=None, validation_alias=_aliases("amount", "fundingAmount", "totalAmount")
    )
    instalment_type: str | None = Field(
        default=None, validation_alias=_aliases("instalment_type", "instalmentType")
    )
    instalment_months: Literal[1, 3, 6, 12] | None = Field(
        default=None,
        validation_alias=_aliases(
            "instalment_months", "instalmentInterval", "instalmentIntervalMonths"
        ),
    )
    periods: tuple[PaceFundingPeriod, ...] = Field(
        default=(), validation_alias=_aliases("periods", "fundingPeriods")
    )

    @model_validator(mode="after")
    def _unique_period_ids(self) -> PaceFundingComponent:
        ids = [p.funding_period_id for p in self.periods]
        dupes = repeated(ids)
        if dupes:
            raise ValueError(f"funding_period_id must be unique, repeated: {', '.join(dupes)}")
        return self


class PaceBudget(_Model):
    """One PACE category budget: category, management type, budget type, total (the allocated
    amount), optional own dates, the PACE ids and codes, and its funding component."""

    pace_budget_id: PaceId | None = Field(
        default=None, validation_alias=_aliases("pace_budget_id", "budgetId", "paceBudgetId")
    )
    category: CategoryCode = Field(
        validation_alias=_aliases(
            "category", "supportCategory", "supportCategoryNumber", "categoryNumber"
        )
    )
    ndia_category_code: str | None = Field(
        default=None,
        validation_alias=_aliases("ndia_category_code", "supportCategoryApi", "ndiaCategoryCode"),
    )
    category_name: str | None = Field(
        default=None,
        description="the category's label as the source gave it (informational)",
        validation_alias=_aliases("category_name", "supportCategoryName", "categoryName"),
    )
    support_type: _SupportType | None = Field(
        default=None, validation_alias=_aliases("support_type", "supportType")
    )
    plan_component: str | None = Field(
        default=None, validation_alias=_aliases("plan_component", "planComponent")
    )
    management: _Management = Field(
        validation_alias=_aliases("management", "managementType", "management_type")
    )
    budget_type: _BudgetType = Field(
        default="flexible", validation_alias=_aliases("budget_type", "budgetType")
    )
    stated_support_type: str | None = Field(
        default=None, validation_alias=_aliases("stated_support_type", "statedSupportType")
    )
    stated_items_only: bool = Field(
        default=False, validation_alias=_aliases("stated_items_only", "statedItemsOnly")
    )
    total: Money = Field(
        validation_alias=_aliases("total", "allocatedAmount", "totalAmount", "amount")
    )
    start: IsoDate | None = Field(
        default=None, validation_alias=_aliases("start", "startDate", "start_date")
    )
    end_inclusive: IsoDate | None = Field(
        default=None, validation_alias=_aliases("end_inclusive", "endDate", "end_date", "end")
    )
    funding: PaceFundingComponent | None = Field(
        default=None, validation_alias=_aliases("funding", "fundingComponent")
    )

    @property
    def key(self) -> str:
        """``"<category>:<management>"``, e.g. ``"01:plan"``, as a contract budget's key."""
        return f"{self.category}:{self.management}"

    @model_validator(mode="before")
    @classmethod
    def _category_aliases(cls, data: Any) -> Any:
        """Read the category however the source names it: ``categoryCode`` is the number
        (``"04"``, ``4``) or the NDIA name (``DAILY_ACTIVITIES``); ``supportCategory`` holding a
        label rather than a number is kept as ``category_name``; a budget named only by its NDIA
        code gets the category number that code stands for (an unknown code is refused)."""
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        number_keys = (
            "category",
            "supportCategory",
            "support_category",
            "supportCategoryNumber",
            "support_category_number",
            "categoryNumber",
            "category_number",
        )
        name_keys = (
            "ndia_category_code",
            "supportCategoryApi",
            "support_category_api",
            "ndiaCategoryCode",
        )
        for key in ("supportCategory", "support_category"):
            value = out.get(key)
            if isinstance(value, str) and value.strip() and not _is_number_text(value):
                if value.strip().upper() in NDIA_CATEGORY_CODES:
                    out.setdefault("ndia_category_code", out.pop(key))
                else:
                    out.setdefault("category_name", out.pop(key))
        for key in ("categoryCode", "category_code"):
            if key not in out:
                continue
            value = out.pop(key)
            target = number_keys[0] if _is_number_text(value) else name_keys[0]
            given = [k for k in (number_keys if target == "category" else name_keys) if k in out]
            if given:
                raise ValueError(
                    f"{key} and {given[0]} both name the category: give only one of them"
                )
            out[target] = value
        if not any(k in out for k in number_keys):
            code = next((out[k] for k in name_keys if k in out), None)
            if isinstance(code, str):
                number = NDIA_CATEGORY_CODES.get(code.strip().upper())
                if number is None:
                    raise ValueError(
                        f"category: the NDIA category code {code!r} is not one we can map to a "
                        "support category number; give the number as supportCategoryNumber"
                    )
                out["category"] = number
        return out

    @model_validator(mode="after")
    def _dates_in_order(self) -> PaceBudget:
        if (self.start is None) != (self.end_inclusive is None):
            raise ValueError("a budget's own dates need both start and end_inclusive")
        if self.start and self.end_inclusive and self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self


class PacePlan(_Model):
    """A participant's PACE plan: id, NDIS number, status, inclusive dates, total and budgets.

    The plan is the snapshot of what the source sent: :attr:`raw` keeps the payload exactly as it
    arrived (not serialised, not shown in ``repr``), and :attr:`ignored` names every key that was
    deliberately not read (``budgets.0.remaining``: remaining is always computed locally).
    """

    plan_id: PaceId = Field(validation_alias=_aliases("plan_id", "planNumber", "planId"))
    gateway_plan_id: PaceId | None = Field(
        default=None,
        description="the gateway's own id of the plan (quickclaim's planId, when planNumber is "
        "given too)",
        validation_alias=_aliases("gateway_plan_id", "gatewayPlanId"),
    )
    ndis_number: NdisNumber = Field(
        validation_alias=_aliases("ndis_number", "ndisNumber", "participant")
    )
    status: str | None = Field(
        default=None, validation_alias=_aliases("status", "planStatus", "plan_status")
    )
    start: IsoDate = Field(validation_alias=_aliases("start", "startDate", "planStartDate"))
    end_inclusive: IsoDate = Field(
        validation_alias=_aliases("end_inclusive", "endDate", "planEndDate", "end")
    )
    total: Money = Field(
        validation_alias=_aliases("total", "totalFunding", "totalFundingAmount", "totalAmount")
    )
    budgets: tuple[PaceBudget, ...] = Field(
        default=(), validation_alias=_aliases("budgets", "planBudgets")
    )
    ignored: tuple[str, ...] = Field(
        default=(), description="paths of the payload's keys that were ignored (remaining)"
    )
    raw: SkipJsonSchema[Any] = Field(
        default=None,
        exclude=True,
        repr=False,
        description="the payload as the source sent it (a RawPayload; never serialised)",
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_raw_drop_ignored(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        found: list[str] = []
        given = {k: v for k, v in data.items() if k not in ("raw", "ignored")}
        out = _strip_ignored(given, (), found)
        number = next((k for k in ("planNumber", "plan_number") if k in out), None)
        gateway_id = next((k for k in ("planId",) if k in out), None)
        if number and gateway_id and "plan_id" not in out:
            out.setdefault("gateway_plan_id", out.pop(gateway_id))
        out["ignored"] = (*data.get("ignored", ()), *found)
        kept = data.get("raw")
        out["raw"] = kept if isinstance(kept, RawPayload) else RawPayload(given)
        return out

    @model_validator(mode="after")
    def _dates_in_order(self) -> PacePlan:
        if self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self

    def covers(self, day: date) -> bool:
        """True when ``day`` is within the plan's dates (inclusive)."""
        return self.start <= day <= self.end_inclusive


def pace_plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of a PACE plan, with our snake_case names (the camelCase aliases listed in
    ``docs/pace-plan-format.md`` are accepted too).

    Examples:
        >>> schema = pace_plan_json_schema()
        >>> sorted(schema["required"])
        ['end_inclusive', 'ndis_number', 'plan_id', 'start', 'total']
        >>> schema["properties"]["total"]["type"]
        'string'
    """
    schema = PacePlan.model_json_schema(by_alias=False, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "PACE plan"
    return schema
