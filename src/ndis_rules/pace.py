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

from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .models import BudgetType, CategoryCode, IsoDate, ManagementType, repeated
from .money import Money

__all__ = [
    "PaceBudget",
    "PaceFundingComponent",
    "PaceFundingPeriod",
    "PacePlan",
    "ParticipantRef",
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


def _aliases(*names: str) -> AliasChoices:
    """Field options accepting the snake_case name first, then camelCase aliases."""
    return AliasChoices(*names)


_Management = Annotated[ManagementType, BeforeValidator(_management)]
_BudgetType = Annotated[BudgetType, BeforeValidator(_lower)]
_SupportType = Annotated[SupportType, BeforeValidator(_upper)]
_Released = Annotated[bool, BeforeValidator(_released)]
#: An NDIS number: 9 digits.
NdisNumber = Annotated[str, Field(pattern=r"^\d{9}$")]


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

    funding_period_id: str = Field(
        min_length=1, validation_alias=_aliases("funding_period_id", "fundingPeriodId", "id")
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

    id: str | None = Field(
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

    pace_budget_id: str | None = Field(
        default=None, validation_alias=_aliases("pace_budget_id", "budgetId", "paceBudgetId")
    )
    category: CategoryCode = Field(
        validation_alias=_aliases(
            "category", "supportCategory", "supportCategoryNumber", "categoryNumber"
        )
    )
    ndia_category_code: str | None = Field(
        default=None,
        validation_alias=_aliases(
            "ndia_category_code", "supportCategoryApi", "ndiaCategoryCode", "categoryCode"
        ),
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

    @model_validator(mode="after")
    def _dates_in_order(self) -> PaceBudget:
        if (self.start is None) != (self.end_inclusive is None):
            raise ValueError("a budget's own dates need both start and end_inclusive")
        if self.start and self.end_inclusive and self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self


class PacePlan(_Model):
    """A participant's PACE plan: id, NDIS number, status, inclusive dates, total and budgets."""

    plan_id: str = Field(min_length=1, validation_alias=_aliases("plan_id", "planNumber", "planId"))
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
