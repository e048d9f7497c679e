"""Boundary models: the service contract and what is validated against it.

Pydantic v2, frozen, ``extra="forbid"``: a misspelt key is an error naming the field. Money is an
exact string (``"70.23"``) and floats are refused everywhere; dates are ISO ``YYYY-MM-DD`` (a
``datetime`` or a number is refused). Every range is inclusive at both ends: ``start`` ..
``end_inclusive`` for budgets and periods, ``from`` .. ``to`` for service dates.

Examples:
    >>> line = ClaimLine.model_validate({"id": "L1", "from": "2025-08-04", "to": "2025-08-04",
    ...     "item": "01_011_0107_1_1", "quantity": "2", "unit_price": "70.23"})
    >>> str(line.line_amount)
    '140.46'
    >>> ClaimLine.model_validate({"id": "L1", "from": "2025-08-04", "to": "2025-08-04",
    ...     "item": "01_011_0107_1_1", "quantity": 2.5, "unit_price": "70.23"})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ClaimLine
    quantity
      Value error, a float is not exact: write the number as a string such as "2.50" ...
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .money import Money, line_amount
from .parsing import ParseError, parse_decimal, parse_iso_date, remembered

__all__ = [
    "CATEGORIES",
    "CORE_CATEGORIES",
    "BudgetType",
    "CategoryBudget",
    "CategoryCode",
    "Channel",
    "ClaimLine",
    "Contract",
    "DeliveredService",
    "FundingComponent",
    "FundingPeriod",
    "Invoice",
    "IsoDate",
    "ManagementType",
    "ProcessingMode",
    "ProviderShare",
    "Quantity",
    "ServiceProviderCategoryBudget",
    "Settings",
    "SupportItemBudget",
    "is_valid_item_number",
]

ManagementType = Literal["agency", "plan", "self"]
BudgetType = Literal["flexible", "stated"]
Channel = Literal["service_entry", "streamline", "bulk_import", "case_note"]
ProcessingMode = Literal["manual", "automated", "disabled"]

#: PACE support categories 01-21.
CATEGORIES: Final = frozenset(f"{n:02d}" for n in range(1, 22))
#: Core categories that form a core flexible pool when their budget is flexible.
CORE_CATEGORIES: Final = frozenset({"01", "02", "03", "04"})

_ITEM_RE: Final = re.compile(r"^\d{2}_\d{3,9}_\d{4}_\d_\d(_[A-Z]{2})?$")
_QUIRK_ITEMS: Final = frozenset({"Bereavement"})


def repeated(ids: Iterable[str]) -> list[str]:
    """The ids that occur more than once, sorted (linear time).

    Examples:
        >>> repeated(["a", "b", "a", "c", "b"])
        ['a', 'b']
    """
    seen = ids if isinstance(ids, list | tuple) else list(ids)
    if len(set(seen)) == len(seen):  # the usual case, without counting
        return []
    return sorted(i for i, n in Counter(seen).items() if n > 1)


def is_valid_item_number(item: str) -> bool:
    """``CC_SSS_RRRR_O_P`` with an optional 2-letter suffix (``_CA``, ``_NF``, ``_PT``, ``_RR``,
    ``_TH``), SSS 3 to 9 digits; a trailing space and the catalogue's ``Bereavement`` accepted.

    Examples:
        >>> is_valid_item_number("01_011_0107_1_1"), is_valid_item_number("15_617_0128_1_3_TH")
        (True, True)
        >>> is_valid_item_number("01-011-0107-1-1")
        False
    """
    item = item.strip()
    return bool(_ITEM_RE.match(item)) or item in _QUIRK_ITEMS


#: Leaf values already parsed from text, shared between the models that hold them (a book of
#: contracts repeats the same dates, amounts and categories thousands of times). Only text that
#: parsed is kept (a failure raises as before, every time); dates, ``Decimal`` and category
#: strings are immutable, so sharing one instance changes nothing. Each table is cleared when it
#: reaches :data:`_MEMO_LIMIT` entries, so its memory stays bounded whatever is read.
_MEMO_LIMIT: Final = 16_384
_DATES: Final[dict[str, date]] = {}
_DECIMALS: Final[dict[str, Decimal]] = {}
_CATEGORY_TEXT: Final[dict[str, str]] = {}


def _parse_iso_date(value: object) -> date:
    try:
        return parse_iso_date(value)
    except ParseError as exc:
        raise ValueError(str(exc)) from None


def _iso_date(value: object) -> object:
    return remembered(_DATES, value, _parse_iso_date, _MEMO_LIMIT)


def _parse_exact_decimal(value: object) -> Decimal:
    try:
        return parse_decimal(value)
    except (ParseError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def _exact_decimal(value: object) -> object:
    return remembered(_DECIMALS, value, _parse_exact_decimal, _MEMO_LIMIT)


def _category_text(value: object) -> str:
    if isinstance(value, bool):
        raise ValueError("expected a support category 01-21")
    if isinstance(value, int):
        value = f"{value:02d}"
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and len(text) == 1:
            text = "0" + text
        if text not in CATEGORIES:
            raise ValueError(f"unknown support category {value!r} (expected 01-21)")
        return text
    raise ValueError(f"expected a support category 01-21, got {type(value).__name__}")


def _category(value: object) -> object:
    return remembered(_CATEGORY_TEXT, value, _category_text, _MEMO_LIMIT)


#: A date given as ``YYYY-MM-DD`` (or a ``datetime.date``); datetimes and numbers are refused.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
#: An exact decimal number (string, int or Decimal); floats are refused.
Quantity = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(allow_inf_nan=False)]
#: A PACE support category, ``"01"`` .. ``"21"`` (``1`` and ``"1"`` are read as ``"01"``).
CategoryCode = Annotated[str, BeforeValidator(_category)]


_M = TypeVar("_M", bound=BaseModel)
_object_setattr: Final = object.__setattr__


def built_model(cls: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    """The instance ``cls.model_construct`` would build, without its per-field bookkeeping.

    For values that are already *validated* (as the model's own validators would leave them)
    and given for **every** field of ``cls``, in the model's field order, defaults included;
    ``fields_set`` is the fields the equivalent ``model_validate`` input names (its
    ``model_fields_set``). Only for models without ``extra="allow"``, private attributes,
    ``model_post_init`` or a root. The hot paths of the bulk check use it where
    ``model_validate`` would only confirm what was checked a step before (a test compares the
    two, ``__dict__`` and fields set included).
    """
    m = cls.__new__(cls)
    _object_setattr(m, "__dict__", values)
    _object_setattr(m, "__pydantic_fields_set__", fields_set)
    _object_setattr(m, "__pydantic_extra__", None)
    _object_setattr(m, "__pydantic_private__", None)
    return m


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, str_strip_whitespace=False
    )


class FundingPeriod(_Model):
    """One funding period of a funding component: funds released for ``start`` ..
    ``end_inclusive``."""

    id: str = Field(min_length=1, description="the period's funding_period_id")
    start: IsoDate
    end_inclusive: IsoDate
    amount: Money
    released: bool = True

    @model_validator(mode="after")
    def _dates_in_order(self) -> FundingPeriod:
        if self.end_inclusive < self.start:
            raise ValueError(
                f"funding period {self.id}: end_inclusive {self.end_inclusive} is before "
                f"start {self.start}"
            )
        return self


class FundingComponent(_Model):
    """A category budget's funding component, split into funding periods."""

    id: str | None = None
    amount: Money | None = Field(
        default=None, description="the component total; the sum of its periods when left out"
    )
    instalment_months: int | None = Field(default=None, ge=1, le=12)
    periods: tuple[FundingPeriod, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_period_ids(self) -> FundingComponent:
        ids = [p.id for p in self.periods]
        dupes = repeated(ids)
        if dupes:
            raise ValueError(f"funding period ids must be unique, repeated: {', '.join(dupes)}")
        return self


class CategoryBudget(_Model):
    """The contract's budget for one support category under one management type."""

    id: str | None = Field(default=None, description='defaults to "<category>:<management>"')
    category: CategoryCode
    management: ManagementType
    budget_type: BudgetType = "flexible"
    stated_items_only: bool = Field(
        default=False,
        description='stated budget restricted to "selected support items only" '
        "(the stated supports of this category on the contract)",
    )
    total: Money
    start: IsoDate | None = None
    end_inclusive: IsoDate | None = None
    funding: FundingComponent | None = None
    pace_budget_id: str | None = None
    requires_booking: bool = False
    booking_id: str | None = Field(
        default=None, description="PRODA's id of the service booking that funds this budget"
    )

    @property
    def key(self) -> str:
        """The budget's name in draws: ``"<category>:<management>"``, e.g. ``"01:plan"``."""
        return f"{self.category}:{self.management}"

    @property
    def ref(self) -> str:
        """The budget's id, or its key when it has none."""
        return self.id or self.key

    @property
    def in_core_pool(self) -> bool:
        """A flexible Core category (01-04): a member of its management type's pool."""
        return self.category in CORE_CATEGORIES and self.budget_type == "flexible"

    @model_validator(mode="after")
    def _dates_in_order(self) -> CategoryBudget:
        if (self.start is None) != (self.end_inclusive is None):
            raise ValueError("a budget's own dates need both start and end_inclusive")
        if self.start and self.end_inclusive and self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self


class SupportItemBudget(_Model):
    """A service support or stated support: an item, quantity x rate, for a provider."""

    id: str = Field(min_length=1)
    kind: Literal["service", "stated"] = "service"
    item: str
    category: CategoryCode
    management: ManagementType | None = None
    provider: str | None = Field(
        default=None, description="None on a stated support matches any provider"
    )
    quantity: Quantity
    rate: Money
    requires_booking: bool = False
    booking_id: str | None = Field(
        default=None, description="PRODA's id of the service booking that funds this support"
    )

    @property
    def amount(self) -> Money:
        """quantity x rate, to the cent."""
        return line_amount(self.quantity, self.rate)


class ProviderShare(_Model):
    """An SPCB's share of one funding period."""

    period_id: str
    amount: Money


class ServiceProviderCategoryBudget(_Model):
    """SPCB: a cap for one provider within one category, with its own agreement dates."""

    id: str = Field(min_length=1)
    provider: str
    category: CategoryCode
    management: ManagementType | None = None
    amount: Money
    start: IsoDate
    end_inclusive: IsoDate
    distribution: tuple[ProviderShare, ...] = ()

    @model_validator(mode="after")
    def _dates_in_order(self) -> ServiceProviderCategoryBudget:
        if self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        return self


class DeliveredService(_Model):
    """One claimed line (or part of one) saved against the contract; it consumes budget."""

    id: str = Field(min_length=1)
    invoice_id: str | None = None
    invoice_number: str | None = None
    line_id: str | None = None
    provider: str | None = None
    item: str | None = None
    category: CategoryCode
    management: ManagementType
    from_: IsoDate = Field(alias="from")
    to: IsoDate
    quantity: Quantity | None = None
    unit_price: Money | None = None
    amount: Money
    period_id: str | None = Field(
        default=None, description="the funding period it was drawn in (else: the one of `from`)"
    )
    status: Literal["active", "cancelled"] = "active"
    paid: bool = False
    adjustment: bool = False
    description: str | None = None
    claim_type: str = ""
    cancellation_reason: str | None = None
    gst_code: str | None = None
    line_from: IsoDate | None = Field(
        default=None,
        description="on a part of a line split over funding periods: the whole line's from "
        "(the duplicate-line check compares the whole line it was claimed as)",
    )
    line_to: IsoDate | None = Field(
        default=None, description="on a part of a split line: the whole line's to"
    )
    line_quantity: Quantity | None = Field(
        default=None, description="on a part of a split line: the whole line's quantity"
    )

    @model_validator(mode="after")
    def _whole_line_dates(self) -> DeliveredService:
        if (self.line_from is None) != (self.line_to is None):
            raise ValueError("the whole line's dates need both line_from and line_to")
        if self.line_from and self.line_to and self.line_to < self.line_from:
            raise ValueError(f"line_to {self.line_to} is before line_from {self.line_from}")
        return self


class Contract(_Model):
    """A local service contract for one plan: budgets, local-only budgets and delivered services."""

    id: str = Field(min_length=1)
    participant: str | None = Field(default=None, description="participant NDIS number")
    plan_id: str | None = None
    pace: bool = Field(
        default=True,
        description="a PACE plan (the default); false for a legacy plan claimed against PRODA "
        "service bookings. A contract that marks anything requires_booking must say which",
    )
    start: IsoDate
    end_inclusive: IsoDate
    active: bool = True
    version: int = Field(default=0, ge=0)
    total: Money | None = None
    budgets: tuple[CategoryBudget, ...] = ()
    support_items: tuple[SupportItemBudget, ...] = ()
    provider_budgets: tuple[ServiceProviderCategoryBudget, ...] = ()
    delivered: tuple[DeliveredService, ...] = ()
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        if self.end_inclusive < self.start:
            raise ValueError(f"end_inclusive {self.end_inclusive} is before start {self.start}")
        if "pace" not in self.model_fields_set and (
            any(b.requires_booking for b in self.budgets)
            or any(s.requires_booking for s in self.support_items)
        ):
            raise ValueError(
                "pace: the contract marks budgets or supports requires_booking (PRODA service "
                "bookings, for legacy plans) but does not say whether it is a PACE plan: set "
                '"pace": false for a legacy plan, or "pace": true'
            )
        for label, ids in (
            ("budget", [b.ref for b in self.budgets]),
            ("support item budget", [s.id for s in self.support_items]),
            ("provider budget", [s.id for s in self.provider_budgets]),
            ("delivered service", [d.id for d in self.delivered]),
        ):
            dupes = repeated(ids)
            if dupes:
                raise ValueError(f"{label} ids must be unique, repeated: {', '.join(dupes)}")
        return self

    def budget(self, category: str, management: str) -> CategoryBudget | None:
        """The category budget for a category and management type, if any."""
        for b in self.budgets:
            if b.category == category and b.management == management:
                return b
        return None


class ClaimLine(_Model):
    """One line of an invoice. Out-of-range values (quantity <= 0, an unknown category) are
    accepted here and reported by validation as ``INVALID_LINE``; wrong *types* are refused."""

    id: str = Field(min_length=1)
    from_: IsoDate = Field(alias="from")
    to: IsoDate
    item: str
    category: str | None = Field(
        default=None, description="PACE category; else from the catalogue, else the item prefix"
    )
    quantity: Quantity
    unit_price: Money
    amount: Money | None = Field(
        default=None, description="if given, must equal quantity x unit_price to the cent"
    )
    management: ManagementType | None = None
    claim_type: str = ""
    cancellation_reason: str | None = None
    gst_code: str | None = None

    @property
    def line_amount(self) -> Money:
        """quantity x unit price, rounded half-up once."""
        return line_amount(self.quantity, self.unit_price)


class Invoice(_Model):
    """One provider's lines for one participant, entered against a contract."""

    id: str = Field(min_length=1)
    number: str | None = Field(default=None, description="the provider's invoice number")
    contract_id: str | None = None
    participant: str | None = None
    provider: str = Field(min_length=1, description="provider id or ABN")
    management: ManagementType | None = Field(
        default=None,
        description="the management type claimed under, where the contract "
        "holds the category under several or none",
    )
    lines: tuple[ClaimLine, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_lines(self) -> Invoice:
        ids = [line.id for line in self.lines]
        dupes = repeated(ids)
        if dupes:
            raise ValueError(f"line ids must be unique within an invoice: {', '.join(dupes)}")
        return self


class Settings(_Model):
    """Validation settings (spec/validation.md section 7). Unknown settings are an error."""

    claims_flexibility: bool = False
    rollover: bool = True
    allow_inactive_contracts: bool = False
    support_item_overdraw_is_error: bool = False
    price_limit_is_error: bool = False
    weekday_weekend_is_warning: bool = False
    claimable_management: tuple[ManagementType, ...] = Field(
        default=("plan",),
        min_length=1,
        description="the management types whose funds the user claims (default plan: a plan "
        "manager); a line whose category budget is of another type is "
        "MANAGEMENT_TYPE_NOT_CLAIMABLE, and another type's core flexible pool is never drawn",
    )
    duplicate_key: Literal["client_provider_invoice", "provider_invoice"] = (
        "client_provider_invoice"
    )

    @model_validator(mode="after")
    def _claimable_once(self) -> Settings:
        dupes = repeated(self.claimable_management)
        if dupes:
            raise ValueError(
                f"claimable_management names a management type more than once: {', '.join(dupes)}"
            )
        return self
