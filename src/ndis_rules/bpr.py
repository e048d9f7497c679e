"""The NDIA bulk payment request (BPR) CSV: reading, writing and splitting lines.

Source: NDIA myplace provider portal, *Bulk payment requests* (the upload template);
spec/claims-files.md "Bulk payment request (BPR) CSV"; spec/api-fields.md.

The file has a header row and 16 columns in this order (:data:`COLUMNS`): RegistrationNumber,
NDISNumber, SupportsDeliveredFrom, SupportsDeliveredTo, SupportNumber, ClaimReference, Quantity,
Hours, UnitPrice, GSTCode, AuthorisedBy, ParticipantApproved, InKindFundingProgram, ClaimType,
CancellationReason, ABN of Support Provider.

* :func:`parse_bpr` (text) and :func:`ndis_rules.files.bpr.read_bpr` (a file) give **one
  result per data row**, in order, each either ok (with a
  :class:`BprRow`) or with every error found, each naming the row and the column. It never stops
  at a bad row and never raises, except :class:`BprFileError` for input that is not a BPR file
  at all (no text, wrong header). Row numbers are as a spreadsheet shows them: the header is
  row 1, the first data row is row 2.
* :func:`write_bpr` writes files of at most 5,000 rows with names of at most 20 characters,
  neutralising spreadsheet formulas; reading what it wrote gives the same rows back.
* :func:`split_row_at` splits a line that spans plan or funding-period boundaries pro rata by
  days.

Examples:
    >>> row = BprRow(registration_number="4050000001", ndis_number="431234567",
    ...     supports_delivered_from=date(2025, 8, 4), supports_delivered_to=date(2025, 8, 4),
    ...     support_number="01_011_0107_1_1", claim_reference="INV-1/1", quantity="2",
    ...     unit_price="70.23", gst_code="P2", abn="51824753556")
    >>> [(name, text)] = write_bpr([row])
    >>> name
    'bpr001.csv'
    >>> text.splitlines()[1]
    '4050000001,431234567,2025/08/04,2025/08/04,01_011_0107_1_1,INV-1/1,2,,70.23,P2,,,,,,51824753556'
    >>> [result] = parse_bpr(text)
    >>> result.ok, result.row == row, str(result.row.amount)
    (True, True, '140.46')
"""

from __future__ import annotations

import csv
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ._compat import forward
from .errors import BprFileError, InputError
from .items import parse_item_number
from .models import built_model
from .money import Money, line_amount
from .parsing import check_date_bounds, parse_decimal
from .periods import DateRange, split_pro_rata

__getattr__ = forward("ndis_rules.files.bpr", ("read_bpr", "read_records"))

__all__ = [
    "CANCELLATION_REASONS",
    "CLAIM_TYPES",
    "COLUMNS",
    "GST_CODES",
    "MAX_ROWS_PER_FILE",
    "MONTH_FIRST_HINT",
    "BprFileError",
    "BprIssue",
    "BprRecords",
    "BprResult",
    "BprResults",
    "BprRow",
    "SplitRow",
    "UnclosedRecord",
    "check_date_order",
    "decode_text",
    "file_findings",
    "is_valid_abn",
    "month_first_rows",
    "parse_bpr",
    "parse_bpr_date",
    "parse_records",
    "read_record",
    "split_lines",
    "split_row_at",
    "write_bpr",
]

#: The 16 columns of a bulk payment request, in order.
COLUMNS: Final[tuple[str, ...]] = (
    "RegistrationNumber",
    "NDISNumber",
    "SupportsDeliveredFrom",
    "SupportsDeliveredTo",
    "SupportNumber",
    "ClaimReference",
    "Quantity",
    "Hours",
    "UnitPrice",
    "GSTCode",
    "AuthorisedBy",
    "ParticipantApproved",
    "InKindFundingProgram",
    "ClaimType",
    "CancellationReason",
    "ABN of Support Provider",
)
#: The NDIA's limit of rows per uploaded file.
MAX_ROWS_PER_FILE: Final = 5000
#: The NDIA's limit on a file name, ``.csv`` included.
MAX_FILE_NAME: Final = 20

GstCode = Literal["P1", "P2", "P5"]
ClaimType = Literal["", "CANC", "REPW", "TRAN", "NF2F", "THLT", "IRSS"]
CancellationReason = Literal["", "NSDH", "NSDF", "NSDT", "NSDO"]

#: P1 taxable, P2 GST free, P5 out of scope.
GST_CODES: Final[tuple[str, ...]] = ("P1", "P2", "P5")
#: Blank = direct service; CANC short notice cancellation; REPW NDIA-requested report; TRAN
#: provider travel; NF2F non-face-to-face; THLT telehealth; IRSS irregular SIL supports.
CLAIM_TYPES: Final[tuple[str, ...]] = ("", "CANC", "REPW", "TRAN", "NF2F", "THLT", "IRSS")
#: With CANC only: NSDH no show due to health, NSDF family, NSDT transport, NSDO other.
CANCELLATION_REASONS: Final[tuple[str, ...]] = ("NSDH", "NSDF", "NSDT", "NSDO")

_FIELD_OF: Final[dict[str, str]] = {
    "RegistrationNumber": "registration_number",
    "NDISNumber": "ndis_number",
    "SupportsDeliveredFrom": "supports_delivered_from",
    "SupportsDeliveredTo": "supports_delivered_to",
    "SupportNumber": "support_number",
    "ClaimReference": "claim_reference",
    "Quantity": "quantity",
    "Hours": "hours",
    "UnitPrice": "unit_price",
    "GSTCode": "gst_code",
    "AuthorisedBy": "authorised_by",
    "ParticipantApproved": "participant_approved",
    "InKindFundingProgram": "in_kind_funding_program",
    "ClaimType": "claim_type",
    "CancellationReason": "cancellation_reason",
    "ABN of Support Provider": "abn",
}
_COLUMN_OF: Final[dict[str, str]] = {v: k for k, v in _FIELD_OF.items()}

# A cell starting with one of these is read by a spreadsheet as a formula (or hides one).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


# -- cell parsers (shared by the model and the reader) -------------------------------------------
def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value.strip()


def _digits(value: object, what: str, *, exactly: int | None = None, most: int = 20) -> str:
    text = _text(value)
    if not text:
        raise ValueError(f"{what} is missing")
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{what} must be digits only (0-9)")
    if exactly is not None and len(text) != exactly:
        raise ValueError(f"{what} must be {exactly} digits, got {len(text)}")
    if len(text) > most:
        raise ValueError(f"{what} has more than {most} digits")
    return text


def _registration_number(value: object) -> str:
    return _digits(value, "the provider registration number")


def _ndis_number(value: object) -> str:
    return _digits(value, "the NDIS number", exactly=9)


_DATE_FORMATS: Final = (
    (re.compile(r"^(\d{4})/(\d{2})/(\d{2})$", re.ASCII), (1, 2, 3)),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII), (3, 2, 1)),
)


def parse_bpr_date(value: object) -> date:
    """A BPR date: ``YYYY/MM/DD``, ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (or a ``date``).

    Two-digit years, month-first dates, impossible dates and dates outside 1900-01-01 ..
    2100-12-31 (:func:`ndis_rules.parsing.check_date_bounds`) are refused.

    Examples:
        >>> parse_bpr_date("2025/08/04") == parse_bpr_date("04/08/2025") == date(2025, 8, 4)
        True
        >>> parse_bpr_date("2025/02/30")
        Traceback (most recent call last):
        ...
        ValueError: no such date: '2025/02/30'
    """
    if isinstance(value, datetime):
        raise ValueError("expected a date, got a date and time")
    if isinstance(value, date):
        return check_date_bounds(value)
    text = _text(value)
    if not text:
        raise ValueError("the date is missing")
    for pattern, (y, m, d) in _DATE_FORMATS:
        match = pattern.match(text)
        if match:
            try:
                day = date(int(match[y]), int(match[m]), int(match[d]))
            except ValueError:
                raise ValueError(f"no such date: {text!r}") from None
            return check_date_bounds(day)
    raise ValueError(f"expected a date as YYYY/MM/DD, YYYY-MM-DD or DD/MM/YYYY, got {text!r}")


def _support_number(value: object) -> str:
    text = _text(value)
    if not text:
        raise ValueError("the support item number is missing")
    try:
        return parse_item_number(text).text
    except InputError as exc:
        raise ValueError(str(exc)) from None


_REFERENCE: Final = re.compile(r"^[A-Za-z0-9/_\-]{1,50}$", re.ASCII)


def _claim_reference(value: object) -> str:
    text = _text(value)
    if not text:
        raise ValueError("the claim reference is missing")
    if len(text) > 50:
        raise ValueError(f"the claim reference has {len(text)} characters, at most 50 allowed")
    if not _REFERENCE.match(text):
        raise ValueError(f"the claim reference {text!r} may hold only letters, digits and / _ -")
    return text


_NUMBER: Final = re.compile(r"^\d+(\.\d+)?$", re.ASCII)


def _amount_of_units(value: object, what: str) -> Decimal | None:
    """Quantity or Hours: up to 5 digits, or up to 3 digits and 2 decimals; > 0."""
    if value is None:
        return None
    if isinstance(value, float):
        raise ValueError(f"{what}: a float is not exact; give a string such as '1.50'")
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a number, got a boolean")
    if isinstance(value, (int, Decimal)):
        number = parse_decimal(value, what=what)
    else:
        text = _text(value)
        if not text:
            return None
        if what == "Hours" and ":" in text:
            return _hours_minutes(text)
        if not _NUMBER.match(text):
            raise ValueError(f"{what} must be a number such as 2 or 1.50, got {text!r}")
        number = Decimal(text)
    return _check_units(number, what)


def _check_units(number: Decimal, what: str) -> Decimal:
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number")
    if number <= 0:
        raise ValueError(f"{what} must be more than zero, got {number}")
    if number >= 100000:
        raise ValueError(f"{what} has more than 5 digits: {number}")
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(f"{what} has more than 2 decimal places: {number}")
    if number != number.to_integral_value() and number >= 1000:
        raise ValueError(
            f"{what} with decimals may have at most 3 digits before the point (NNN.NN): {number}"
        )
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        # trailing zeros past the cents ("1.0000000000") are the same number: keep it to the
        # hundredths the NDIA takes, so a claim line never sees more places than it accepts
        return number.quantize(Decimal("0.01"))
    return number


def _hours_minutes(text: str) -> Decimal:
    m = re.fullmatch(r"(\d{1,3}):([0-5]\d)", text, re.ASCII)
    if m is None:
        raise ValueError(f"Hours must be a number such as 1.50 (or HHH:MM), got {text!r}")
    minutes = int(m[1]) * 60 + int(m[2])
    if minutes * 100 % 60:
        raise ValueError(
            f"Hours {text} is not a whole number of hundredths of an hour; give it in decimal "
            "hours or as Quantity"
        )
    return _check_units(Decimal(minutes * 100 // 60).scaleb(-2), "Hours")


def _unit_price(value: object) -> Money:
    if isinstance(value, Money):
        price = value
    elif isinstance(value, Decimal):
        try:
            price = Money.from_decimal(value)
        except ValueError as exc:
            raise ValueError(f"UnitPrice: {exc}") from None
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("the unit price is missing")
        try:  # the one money parser (ndis_rules.parsing): "70,23" is refused, "1,234.56" read
            price = Money.parse(text)
        except ValueError as exc:
            raise ValueError(
                f"UnitPrice must be up to 7 digits and 2 decimals such as 70.23: {exc}"
            ) from None
    else:
        raise ValueError(f"UnitPrice must be text such as '70.23', not {type(value).__name__}")
    if price.cents <= 0:
        raise ValueError(f"UnitPrice must be more than zero, got {price}")
    if price.cents >= 10**9:
        raise ValueError(f"UnitPrice must be up to 7 digits and 2 decimals: {price} has more")
    return price


def _code(allowed: Sequence[str], what: str, *, required: bool) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = _text(value).upper()
        if not text and required:
            raise ValueError(f"{what} is missing (expected {', '.join(allowed)})")
        if text not in allowed and (text or required):
            shown = ", ".join(a or "blank" for a in allowed)
            raise ValueError(f"{what} must be one of {shown}, got {text!r}")
        return text

    return parse


_gst_code = _code(GST_CODES, "GSTCode", required=True)
_claim_type = _code(CLAIM_TYPES, "ClaimType", required=False)
_cancellation_reason = _code(("", *CANCELLATION_REASONS), "CancellationReason", required=False)


def _free_text(value: object) -> str:
    text = _text(value)
    if _CONTROL.search(text):
        raise ValueError("control characters (tab, line break ...) are not allowed")
    return text


_ABN_WEIGHTS: Final = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


@functools.lru_cache(maxsize=65536)
def is_valid_abn(abn: str) -> bool:
    """True for 11 digits passing the ABN checksum (spaces are ignored).

    Source: Australian Business Register, "ABN format": subtract 1 from the first digit, weight
    the digits 10, 1, 3, 5, ..., 19; the sum must divide by 89.

    Examples:
        >>> is_valid_abn("51 824 753 556"), is_valid_abn("51824753557")
        (True, False)
    """
    digits = abn.replace(" ", "")
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return False
    values = [int(c) for c in digits]
    values[0] -= 1
    return sum(w * v for w, v in zip(_ABN_WEIGHTS, values, strict=True)) % 89 == 0


def _abn(value: object) -> str:
    text = _text(value).replace(" ", "")
    if not text:
        return ""
    if len(text) != 11 or not text.isascii() or not text.isdigit():
        raise ValueError(f"an ABN is 11 digits, got {text!r}")
    if not is_valid_abn(text):
        raise ValueError(f"ABN {text} fails the ABN checksum")
    return text


def _cross_problems(
    date_from: date | None,
    date_to: date | None,
    quantity: Decimal | None,
    hours: Decimal | None,
    claim_type: str | None,
    reason: str | None,
    *,
    check_units: bool = True,
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if date_from and date_to and date_to < date_from:
        problems.append(
            ("SupportsDeliveredTo", f"{date_to} is before SupportsDeliveredFrom {date_from}")
        )
    if not check_units:
        pass
    elif quantity is None and hours is None:
        problems.append(("Quantity", "give Quantity (or Hours for an hourly item)"))
    elif quantity is not None and hours is not None:
        problems.append(("Hours", "give Quantity or Hours, not both"))
    if claim_type is not None and reason is not None:
        if claim_type == "CANC" and not reason:
            problems.append(
                (
                    "CancellationReason",
                    "a CANC claim needs a reason: " + ", ".join(CANCELLATION_REASONS),
                )
            )
        elif claim_type != "CANC" and reason:
            problems.append(("CancellationReason", "a cancellation reason is only for CANC claims"))
    return problems


# -- the row model ------------------------------------------------------------------------------
def _before(parser: Callable[[object], object]) -> BeforeValidator:
    return BeforeValidator(parser)


class BprRow(BaseModel):
    """One line of a bulk payment request. Construct it with the Python field names (or the
    CSV column names as aliases); values are validated as the reader validates cells.

    ``abn`` may be blank here: whether a blank ABN is allowed is the reader's ``abn_required``
    (an ABN is required on plan-managed claims except participant reimbursements and ATO
    exclusions).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    registration_number: Annotated[str, _before(_registration_number)] = Field(
        alias="RegistrationNumber"
    )
    ndis_number: Annotated[str, _before(_ndis_number)] = Field(alias="NDISNumber")
    supports_delivered_from: Annotated[date, _before(parse_bpr_date)] = Field(
        alias="SupportsDeliveredFrom"
    )
    supports_delivered_to: Annotated[date, _before(parse_bpr_date)] = Field(
        alias="SupportsDeliveredTo"
    )
    support_number: Annotated[str, _before(_support_number)] = Field(alias="SupportNumber")
    claim_reference: Annotated[str, _before(_claim_reference)] = Field(alias="ClaimReference")
    quantity: Annotated[Decimal | None, _before(lambda v: _amount_of_units(v, "Quantity"))] = Field(
        default=None, alias="Quantity"
    )
    hours: Annotated[Decimal | None, _before(lambda v: _amount_of_units(v, "Hours"))] = Field(
        default=None, alias="Hours"
    )
    unit_price: Annotated[Money, _before(_unit_price)] = Field(alias="UnitPrice")
    gst_code: Annotated[GstCode, _before(_gst_code)] = Field(alias="GSTCode")
    authorised_by: Annotated[str, _before(_free_text)] = Field(default="", alias="AuthorisedBy")
    participant_approved: Annotated[str, _before(_free_text)] = Field(
        default="", alias="ParticipantApproved"
    )
    in_kind_funding_program: Annotated[str, _before(_free_text)] = Field(
        default="", alias="InKindFundingProgram"
    )
    claim_type: Annotated[ClaimType, _before(_claim_type)] = Field(default="", alias="ClaimType")
    cancellation_reason: Annotated[CancellationReason, _before(_cancellation_reason)] = Field(
        default="", alias="CancellationReason"
    )
    abn: Annotated[str, _before(_abn)] = Field(default="", alias="ABN of Support Provider")

    @model_validator(mode="after")
    def _consistent(self) -> BprRow:
        problems = _cross_problems(
            self.supports_delivered_from,
            self.supports_delivered_to,
            self.quantity,
            self.hours,
            self.claim_type,
            self.cancellation_reason,
        )
        if problems:
            raise ValueError("; ".join(f"{column}: {message}" for column, message in problems))
        return self

    @property
    def units(self) -> Decimal:
        """Quantity, or Hours when the line gives hours."""
        value = self.quantity if self.quantity is not None else self.hours
        assert value is not None  # the model requires one of them
        return value

    @property
    def amount(self) -> Money:
        """Quantity (or Hours) x UnitPrice, rounded half-up to the cent once."""
        return line_amount(self.units, self.unit_price)

    @property
    def service_days(self) -> DateRange:
        """SupportsDeliveredFrom .. SupportsDeliveredTo as a half-open range."""
        return DateRange.from_inclusive(self.supports_delivered_from, self.supports_delivered_to)

    def cells(self, date_format: str = "%Y/%m/%d") -> tuple[str, ...]:
        """The 16 cells as text, in column order (not yet formula-neutralised)."""
        return (
            self.registration_number,
            self.ndis_number,
            self.supports_delivered_from.strftime(date_format),
            self.supports_delivered_to.strftime(date_format),
            self.support_number,
            self.claim_reference,
            _format_units(self.quantity),
            _format_units(self.hours),
            str(self.unit_price),
            self.gst_code,
            self.authorised_by,
            self.participant_approved,
            self.in_kind_funding_program,
            self.claim_type,
            self.cancellation_reason,
            self.abn,
        )


def _format_units(value: Decimal | None) -> str:
    if value is None:
        return ""
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.quantize(Decimal('0.01')):f}"


# -- results ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BprIssue:
    """An error or warning about one cell (``column``) or the whole row (``column == ""``)."""

    row_number: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row_number}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class BprResult:
    """The outcome of one data row: ``row`` when it is valid, else ``errors``.

    Attributes:
        row_number: the row as a spreadsheet numbers it (header = 1, first data row = 2).
        row: the parsed row, or ``None`` when there are errors.
        errors: every error of the row, each naming the column.
        warnings: things to check that do not stop the row (e.g. an NDIS number not starting 43).
        cells: the row's cells as read (formula prefix removed).
    """

    row_number: int
    row: BprRow | None
    errors: tuple[BprIssue, ...] = ()
    warnings: tuple[BprIssue, ...] = ()
    cells: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the row has no errors."""
        return not self.errors


# -- reading ------------------------------------------------------------------------------------
_PARSERS: Final[dict[str, Callable[[object], object]]] = {
    "RegistrationNumber": _registration_number,
    "NDISNumber": _ndis_number,
    "SupportsDeliveredFrom": parse_bpr_date,
    "SupportsDeliveredTo": parse_bpr_date,
    "SupportNumber": _support_number,
    "ClaimReference": _claim_reference,
    "Quantity": lambda v: _amount_of_units(v, "Quantity"),
    "Hours": lambda v: _amount_of_units(v, "Hours"),
    "UnitPrice": _unit_price,
    "GSTCode": _gst_code,
    "AuthorisedBy": _free_text,
    "ParticipantApproved": _free_text,
    "InKindFundingProgram": _free_text,
    "ClaimType": _claim_type,
    "CancellationReason": _cancellation_reason,
    "ABN of Support Provider": _abn,
}


def decode_text(data: bytes, name: str) -> str:
    """The text of a file's bytes: UTF-16 (with its byte-order mark), UTF-8 (with or without
    one) or Windows-1252, in that order.

    Raises:
        BprFileError: none of them decodes the bytes.
    """
    encodings = ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ()
    for encoding in (*encodings, "utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise BprFileError("not a text file (neither UTF-8, UTF-16 nor Windows-1252)", source=name)


def parse_records(text: str, source: str = "<input>") -> BprRecords:
    """The data records of a BPR file's text, (row number, cells), with the header checked but
    the rows not parsed yet (see :func:`read_record`); blank rows are left out and listed in
    the result's ``blank_rows`` and ``findings``.

    Raises:
        BprFileError: not a BPR file (empty, or not the 16 BPR columns), or a file whose dates
            are written month-first (:func:`check_date_order`).
    """
    records, blank = split_lines(text.removeprefix("\ufeff"))
    if not records:
        raise BprFileError(
            "the file is empty: expected a header row of the 16 BPR columns", source=source
        )
    header_number, header = records[0]
    _check_header(header, source, header_number)
    out = BprRecords(records[1:])
    check_date_order(out, source)
    out.blank_rows = tuple(b for b in blank if b > header_number)
    out.findings = file_findings(
        len(out),
        out.blank_rows,
        [n for n, cells in out if isinstance(cells, UnclosedRecord)],
    )
    return out


def file_findings(
    data_rows: int, blank_rows: Sequence[int], unclosed_rows: Sequence[int] = ()
) -> tuple[str, ...]:
    """The reader's findings about a file as a whole, as sentences (each reported once)."""
    out: list[str] = []
    if blank_rows:
        out.append(f"{len(blank_rows)} blank row(s) skipped: {_rows_text(blank_rows)}")
    if unclosed_rows:
        out.append(
            f"{len(unclosed_rows)} row(s) with a quote not closed on its line, each an error "
            f"(the rows after each were read on their own): {_rows_text(unclosed_rows)}"
        )
    if data_rows > MAX_ROWS_PER_FILE:
        out.append(
            f"the file has {data_rows:,} data rows: the NDIA accepts at most "
            f"{MAX_ROWS_PER_FILE:,} per upload (ndis-rules claims write splits it into files "
            "of 5,000)"
        )
    return tuple(out)


def _rows_text(rows: Sequence[int], most: int = 10) -> str:
    shown_rows = ", ".join(str(r) for r in rows[:most])
    more = f" and {len(rows) - most} more" if len(rows) > most else ""
    return f"row(s) {shown_rows}{more}"


_DAY_MONTH_YEAR: Final = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$", re.ASCII)
#: Cheap test for text that may hold a month-first date (a second number 13-31).
MONTH_FIRST_HINT: Final = re.compile(r"(?<![\d/])\d{1,2}/(?:1[3-9]|2\d|3[01])/\d{4}", re.ASCII)


def month_first_rows(records: Iterable[tuple[int, Sequence[str]]]) -> list[int]:
    """The rows with a ``N/N/YYYY`` date that makes sense only month-first (its second number
    is above 12 and its first is a month, e.g. ``9/13/2025``)."""
    rows: list[int] = []
    for number, cells in records:
        for cell in cells[2:4]:
            m = _DAY_MONTH_YEAR.match(cell)
            if m and int(m[2]) > 12 and _is_date(int(m[3]), int(m[1]), int(m[2])):
                rows.append(number)
                break
    return rows


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def check_date_order(records: Iterable[tuple[int, Sequence[str]]], source: str) -> None:
    """Refuse a file whose dates are written month-first.

    ``DD/MM/YYYY`` dates are read day-first (the Australian order the NDIA documents). When some
    row has a date that only makes sense month-first (``9/13/2025``), the file was written
    month-first and every other ``N/N/YYYY`` date in it would be read with day and month
    swapped: the whole file is refused, naming the rows that prove it, rather than half
    re-dated.

    Raises:
        BprFileError: the rows that prove the file is month-first.
    """
    rows = month_first_rows(records)
    if rows:
        raise BprFileError(
            "the dates are written month-first (MM/DD/YYYY): "
            f"{_rows_text(rows)} have a date whose second number is above 12. The reader reads "
            "N/N/YYYY dates day-first (DD/MM/YYYY), so the other dates of this file would be "
            "read with day and month swapped; nothing was read. Save the file with dates as "
            "YYYY-MM-DD or DD/MM/YYYY and check it again",
            source=source,
            row=rows[0],
            problems=[f"row {r}: a month-first date" for r in rows],
        )


def parse_bpr(text: str, *, abn_required: bool = True, source: str = "<input>") -> BprResults:
    """The rows of a BPR file's text: one :class:`BprResult` per data row, in order (files,
    bytes and paths are read by :func:`ndis_rules.files.bpr.read_bpr`), with the file-level
    ``findings`` (blank rows skipped, more than 5,000 rows, unclosed quotes).

    Raises:
        BprFileError: empty, a header that is not the 16 BPR columns, or month-first dates.
    """
    records = parse_records(text, source)
    out = BprResults(
        read_record(number, cells, abn_required=abn_required) for number, cells in records
    )
    out.findings = records.findings
    return out


def read_record(number: int, cells: list[str], *, abn_required: bool = True) -> BprResult:
    """One data record (its row number and cells) read as
    :func:`ndis_rules.files.bpr.read_bpr` reads it."""
    if isinstance(cells, UnclosedRecord):
        column = COLUMNS[cells.column] if cells.column < len(COLUMNS) else ""
        issue = BprIssue(
            number,
            column,
            "a quote opened in this cell is not closed on its line (a BPR cell holds no line "
            "break): the row cannot be read; the next line is read as the next row",
        )
        return BprResult(number, None, (issue,), (), tuple(cells))
    return _read_row(number, cells, abn_required=abn_required)


class UnclosedRecord(list[str]):
    """The cells of a record whose quote (opened in cell ``column``, 0-based) is not closed on
    its line: the cell runs to the end of the line and the record is an error."""

    column: int

    def __init__(self, cells: Iterable[str], column: int) -> None:
        super().__init__(cells)
        self.column = column


class BprRecords(list[tuple[int, list[str]]]):
    """A file's data records, (row number, cells), in order, and what the reader found about
    the file as a whole (:attr:`blank_rows`; :attr:`findings` as sentences)."""

    blank_rows: tuple[int, ...] = ()
    findings: tuple[str, ...] = ()


class BprResults(list["BprResult"]):
    """One :class:`BprResult` per data row, in order, and the file-level :attr:`findings` (blank
    rows skipped, more rows than the NDIA accepts in one file)."""

    findings: tuple[str, ...] = ()


def _is_blank(cells: Sequence[str]) -> bool:
    return all(not c.strip() for c in cells)


def _split_records(text: str) -> list[tuple[int, list[str]]]:
    """Split CSV text into records numbered by line, 1, 2, ... (blank lines, and lines of only
    commas and spaces, are skipped but counted; :func:`split_lines` gives them).

    A small RFC 4180 reader that never raises, and in which **every line is one record**: a BPR
    cell never holds a line break, so a quote still open at the end of its line makes that
    line an :class:`UnclosedRecord` (an error naming the row where the quote opened) and the
    next line is read as the next record. Quotes may hold commas and doubled quotes; text after
    a closing quote is kept. Lines end at CRLF, LF or CR.
    """
    return split_lines(text)[0]


def split_lines(text: str) -> tuple[list[tuple[int, list[str]]], list[int]]:
    """The records of CSV text as :func:`_split_records` gives them, and the numbers of the
    blank lines it skipped (the empty remainder after a final line break is not a line)."""
    records: list[tuple[int, list[str]]] = []
    blank: list[int] = []
    n = len(text)
    i = 0
    number = 0
    while i < n:
        number += 1
        row: list[str] = []
        unclosed = -1
        while True:
            if i < n and text[i] == '"':
                parts: list[str] = []
                j = i + 1
                while True:
                    m = _IN_QUOTES.match(text, j)
                    assert m is not None
                    parts.append(m.group())
                    k = m.end()
                    if k < n and text[k] == '"':
                        if text.startswith('""', k):
                            parts.append('"')
                            j = k + 2
                            continue
                        j = k + 1
                        break
                    unclosed = len(row)  # the line (or the text) ended inside the quote
                    j = k
                    break
                if unclosed < 0:
                    m = _UNQUOTED.match(text, j)
                    assert m is not None
                    parts.append(m.group())
                    j = m.end()
                row.append("".join(parts))
                i = j
            else:
                m = _UNQUOTED.match(text, i)
                assert m is not None
                row.append(m.group())
                i = m.end()
            if unclosed < 0 and i < n and text[i] == ",":
                i += 1
                continue
            break
        if unclosed >= 0:
            records.append((number, UnclosedRecord(row, unclosed)))
        elif _is_blank(row):
            blank.append(number)
        else:
            records.append((number, row))
        if i < n:  # a line break ends the record
            i += 2 if text.startswith("\r\n", i) else 1
    return records, blank


_IN_QUOTES: Final = re.compile(r'[^"\r\n]*')
_UNQUOTED: Final = re.compile(r"[^,\r\n]*")


def _norm_header(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.replace("\ufeff", "")).strip().lower()


def _check_header(header: list[str], source: str, number: int) -> None:
    cells = [_norm_header(c) for c in header]
    while len(cells) > len(COLUMNS) and not cells[-1]:
        cells.pop()
    expected = [c.lower() for c in COLUMNS]
    if cells == expected:
        return
    problems: list[str] = []
    if len(cells) != len(expected):
        problems.append(f"the header has {len(cells)} column(s), a BPR has {len(expected)}")
    for idx, (got, want) in enumerate(zip(cells, COLUMNS, strict=False), start=1):
        if got != want.lower():
            problems.append(f"column {idx} is {header[idx - 1][:40]!r}, expected {want!r}")
            break
    raise BprFileError(
        "not a bulk payment request file: "
        + "; ".join(problems)
        + " (expected the columns "
        + ", ".join(COLUMNS)
        + ")",
        source=source,
        row=number,
        problems=problems,
    )


#: the model's fields, in order; the reader fills every one of them in this order
_ROW_FIELDS: Final = tuple(BprRow.model_fields)
assert tuple(_FIELD_OF.values()) == _ROW_FIELDS


#: each column's name, field and parser, in file order
_CELL_READERS: Final = tuple((c, _FIELD_OF[c], _PARSERS[c]) for c in COLUMNS)


def _unneutralise(cell: str) -> str:
    """Undo the writer's formula guard: drop one leading ``'`` before ``= + - @ tab CR '``."""
    if len(cell) >= 2 and cell[0] == "'" and (cell[1] in _FORMULA_START or cell[1] == "'"):
        return cell[1:]
    return cell


def _read_row(number: int, record: list[str], *, abn_required: bool) -> BprResult:
    errors: list[BprIssue] = []
    warnings: list[BprIssue] = []
    # (only a cell starting with ' can hold the writer's guard)
    cells = [_unneutralise(c) if c[:1] == "'" else c for c in record]
    if len(cells) != len(COLUMNS) and (
        len(cells) < len(COLUMNS) or any(c.strip() for c in cells[len(COLUMNS) :])
    ):
        # name the first missing column, or the first extra one
        where = COLUMNS[len(cells)] if len(cells) < len(COLUMNS) else f"column {len(COLUMNS) + 1}"
        errors.append(
            BprIssue(
                number, where, f"the row has {len(cells)} cell(s), a BPR row has {len(COLUMNS)}"
            )
        )
    if len(cells) != len(COLUMNS):
        cells = (cells + [""] * len(COLUMNS))[: len(COLUMNS)]
    values: dict[str, object] = {}
    for (column, name, parse), cell in zip(_CELL_READERS, cells, strict=True):
        try:
            values[name] = parse(cell)
        except ValueError as exc:
            errors.append(BprIssue(number, column, str(exc)))
        except Exception as exc:  # pragma: no cover - a parser bug must not lose the row
            errors.append(BprIssue(number, column, f"cannot read the cell: {exc!r}"))
    if abn_required and values.get("abn") == "":
        errors.append(BprIssue(number, "ABN of Support Provider", "the provider's ABN is missing"))
    for column, message in _cross_problems(
        _as_date(values.get("supports_delivered_from")),
        _as_date(values.get("supports_delivered_to")),
        _as_decimal(values.get("quantity")),
        _as_decimal(values.get("hours")),
        _as_str(values.get("claim_type")),
        _as_str(values.get("cancellation_reason")),
        check_units="quantity" in values and "hours" in values,
    ):
        errors.append(BprIssue(number, column, message))
    ndis = values.get("ndis_number")
    if isinstance(ndis, str) and not ndis.startswith("43"):
        warnings.append(
            BprIssue(number, "NDISNumber", "NDIS numbers usually start with 43")
        )
    row: BprRow | None = None
    if not errors:
        # every cell went through the model's own parsers above and the cross-field checks ran:
        # build the row without validating it a second time (the reader's hot path)
        # (every field is in ``values``, in the model's order: ``_FIELD_OF`` follows it)
        row = built_model(BprRow, values, set(_ROW_FIELDS))
    return BprResult(number, row, tuple(errors), tuple(warnings), tuple(cells))


def _as_date(value: object) -> date | None:
    return value if isinstance(value, date) else None


def _as_decimal(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# -- writing ------------------------------------------------------------------------------------
def _neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (or that starts with ``'``)."""
    if cell and (cell[0] in _FORMULA_START or cell[0] == "'"):
        return "'" + cell
    return cell


_PREFIX: Final = re.compile(r"^[A-Za-z0-9_\-]+$")


class _TextBuffer:
    """What ``csv.writer`` needs to write into: text kept in memory, no file."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._parts)


def write_bpr(
    rows: Iterable[BprRow],
    *,
    date_format: str = "%Y/%m/%d",
    max_rows: int = MAX_ROWS_PER_FILE,
    name_prefix: str = "bpr",
) -> list[tuple[str, str]]:
    """Write rows as bulk payment request files of at most ``max_rows`` rows each.

    Args:
        rows: the lines, in order.
        date_format: ``strftime`` format of the dates: ``%Y/%m/%d`` (default), ``%Y-%m-%d`` or
            ``%d/%m/%Y`` (what the reader reads back).
        max_rows: rows per file, 1 to 5,000 (the NDIA's limit).
        name_prefix: file names are ``<prefix><NNN>.csv`` (``bpr001.csv``, ...), at most 20
            characters; letters, digits, ``_`` and ``-`` only.

    Returns:
        ``(file name, CSV text)`` per file, each with the header row and CRLF line ends; an
        empty list when there are no rows. Every cell starting with ``=``, ``+``, ``-``, ``@``,
        a tab or a carriage return (or ``'``) gets a ``'`` prefix, which :func:`parse_bpr` removes.

    Raises:
        ValueError: a bad ``date_format``, ``max_rows`` or ``name_prefix``.
    """
    if not 1 <= max_rows <= MAX_ROWS_PER_FILE:
        raise ValueError(f"max_rows must be 1 to {MAX_ROWS_PER_FILE}, got {max_rows}")
    if not _PREFIX.match(name_prefix):
        raise ValueError(f"name_prefix may hold only letters, digits, _ and -, got {name_prefix!r}")
    probe = date(2025, 12, 31)
    try:
        if parse_bpr_date(probe.strftime(date_format)) != probe:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"date_format {date_format!r} does not write YYYY/MM/DD, YYYY-MM-DD or DD/MM/YYYY"
        ) from None
    all_rows = list(rows)
    chunks = [all_rows[i : i + max_rows] for i in range(0, len(all_rows), max_rows)]
    width = max(3, len(str(len(chunks))))
    files: list[tuple[str, str]] = []
    for index, chunk in enumerate(chunks, start=1):
        name = f"{name_prefix}{index:0{width}d}.csv"
        if len(name) > MAX_FILE_NAME:
            raise ValueError(
                f"file name {name!r} is longer than {MAX_FILE_NAME} characters: "
                "use a shorter name_prefix"
            )
        buffer = _TextBuffer()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in chunk:
            writer.writerow([_neutralise(c) for c in row.cells(date_format)])
        files.append((name, buffer.getvalue()))
    return files


# -- splitting ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SplitRow:
    """One part of a line split at plan / funding-period boundaries.

    Attributes:
        row: the part as a BPR row (its dates, and its share of Quantity or Hours; same unit
            price and other cells).
        amount: the part's exact share of the original amount; the parts add up to it.
        days: the part's days.
    """

    row: BprRow
    amount: Money
    days: DateRange


def split_row_at(row: BprRow, boundaries: Sequence[date]) -> list[SplitRow]:
    """Split a line spanning plan or funding-period boundaries into one line per part, pro rata
    by days (spec/claims-files.md; :func:`ndis_rules.periods.split_pro_rata`).

    Each boundary is the first day of a new plan or period; boundaries outside the line's days
    are ignored. The parts' quantities (or hours) add up exactly to the line's, and their
    ``amount`` values exactly to the line's amount. (The NDIA recomputes each part as quantity x
    unit price, which can differ from ``amount`` by a cent.)

    Raises:
        InputError: a part would get a quantity the file cannot hold (zero, or more decimals
            than NNN.NN allows).

    Examples:
        >>> row = BprRow(registration_number="4050000001", ndis_number="431234567",
        ...     supports_delivered_from=date(2025, 9, 29), supports_delivered_to=date(2025, 10, 2),
        ...     support_number="01_011_0107_1_1", claim_reference="INV-9", quantity="4",
        ...     unit_price="70.23", gst_code="P2", abn="51824753556")
        >>> [(str(p.row.supports_delivered_from), str(p.row.quantity), str(p.amount))
        ...  for p in split_row_at(row, [date(2025, 10, 1)])]
        [('2025-09-29', '2.00', '140.46'), ('2025-10-01', '2.00', '140.46')]
    """
    service = row.service_days
    cuts = sorted({b for b in boundaries if service.start < b < service.end})
    if not cuts:
        return [SplitRow(row, row.amount, service)]
    edges = [service.start, *cuts, service.end]
    pieces = [DateRange(a, b) for a, b in itertools.pairwise(edges)]
    units_field = "quantity" if row.quantity is not None else "hours"
    parts = split_pro_rata(service, pieces, row.amount, row.units)
    out: list[SplitRow] = []
    for part in parts:
        try:
            new = BprRow.model_validate(
                row.model_dump()
                | {
                    "supports_delivered_from": part.days.start,
                    "supports_delivered_to": part.days.last_day,
                    units_field: part.quantity,
                }
            )
        except ValidationError as exc:
            raise InputError(
                f"cannot split the line {row.claim_reference} at {', '.join(map(str, cuts))}: "
                f"the part {part.days.start}..{part.days.last_day} would get "
                f"{units_field} {part.quantity}, which a BPR row cannot hold",
                loc=(units_field,),
                problems=[e["msg"] for e in exc.errors(include_input=False)],
            ) from None
        out.append(SplitRow(new, part.amount, part.days))
    return out
