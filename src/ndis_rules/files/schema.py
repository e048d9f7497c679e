"""JSON Schemas of the input models and of the reports, written to ``docs/schema/``
(``ndis-rules schema --out docs/schema``; a test keeps the files current).

* ``decision``: one invoice decision, a line of ``ndis-rules validate --format json``.
* ``claims-report``: the document ``ndis-rules claims check --format json`` writes.
* ``contract``, ``invoice``, ``settings``: the inputs, from the pydantic models.
* ``pace-plan``, ``pace-plan-camelcase``, ``pace-participant-file``,
  ``quickclaim-service-booking``: every accepted shape of an external payload, generated from
  the models that read them (amounts and ids also as JSON numbers, ignored keys listed).

Examples:
    >>> schemas()["contract"]["title"]
    'Contract'
    >>> sorted(schemas()["claims-report"]["properties"])
    ['findings', 'rows', 'run', 'summary']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from ..claims import FILE_CODES
from ..codes import all_codes
from ..models import Contract, Invoice, Settings
from ..pace import _camel, _snake

__all__ = ["CLAIMS_REPORT_SCHEMA", "DECISION_SCHEMA", "schemas", "write_schemas"]

_MONEY = {"type": "string", "pattern": r"^-?\d{1,12}\.\d{2}$", "examples": ["70.23"]}
_DATE = {"type": "string", "format": "date"}

#: The JSON form of an invoice decision (``InvoiceDecision.to_dict()``; one per line of the CLI's
#: ``--format json`` output).
DECISION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "InvoiceDecision",
    "type": "object",
    "required": ["invoice_id", "outcome", "action", "lines"],
    "additionalProperties": False,
    "properties": {
        "invoice_id": {"type": "string"},
        "outcome": {"enum": ["allowed", "warning", "error"]},
        "action": {"enum": ["create", "review", "reject"]},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/LineDecision"}},
    },
    "$defs": {
        "LineDecision": {
            "type": "object",
            "required": ["line_id", "outcome", "action", "amount", "draws", "findings"],
            "additionalProperties": False,
            "properties": {
                "line_id": {"type": "string"},
                "outcome": {"enum": ["allowed", "warning", "error"]},
                "action": {"enum": ["create", "review", "reject"]},
                "amount": _MONEY,
                "draws": {"type": "array", "items": {"$ref": "#/$defs/Draw"}},
                "counts_against": {"type": "array", "items": {"type": "string"}},
                "parts": {"type": "array", "items": {"$ref": "#/$defs/LinePart"}},
                "findings": {"type": "array", "items": {"$ref": "#/$defs/Finding"}},
                "trace": {"type": "array", "items": {"$ref": "#/$defs/TraceStep"}},
            },
        },
        "Draw": {
            "type": "object",
            "required": ["budget", "period", "amount"],
            "additionalProperties": False,
            "properties": {
                "budget": {"type": "string", "examples": ["01:plan", "core_flexible:plan"]},
                "period": {"type": ["string", "null"]},
                "amount": _MONEY,
            },
        },
        "LinePart": {
            "type": "object",
            "required": ["from", "to", "quantity", "amount", "period"],
            "additionalProperties": False,
            "properties": {
                "from": _DATE,
                "to": _DATE,
                "quantity": {"type": "string"},
                "amount": _MONEY,
                "period": {"type": ["string", "null"]},
                "category": {"type": "string", "description": "the support category drawn from"},
                "management": {"enum": ["agency", "plan", "self"]},
                "spcb": {"type": ["string", "null"], "description": "the SPCB it counts against"},
                "support_item": {
                    "type": ["string", "null"],
                    "description": "the support item budget it counts against",
                },
            },
        },
        "Finding": {
            "type": "object",
            "required": ["code", "severity", "message", "facts"],
            "additionalProperties": False,
            "properties": {
                "code": {"enum": list(all_codes())},
                "severity": {"enum": ["error", "warning", "info"]},
                "message": {"type": "string"},
                "facts": {"type": "object", "additionalProperties": {"type": "string"}},
                "reference": {"type": "string"},
            },
        },
        "TraceStep": {
            "type": "object",
            "required": ["rule", "outcome", "inputs"],
            "additionalProperties": False,
            "properties": {
                "rule": {"type": "string"},
                "outcome": {"type": "string"},
                "inputs": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    },
}

_SEVERITY = {"enum": ["error", "warning", "info"]}
_COUNT = {"type": "integer", "minimum": 0}
#: Every code a claims check row can carry: the engine's rule codes and the file codes.
_CLAIMS_CODES = [*all_codes(), *FILE_CODES]

#: The JSON form of a bulk claims check (``ClaimsReport.to_dict()``; the document written by
#: ``ndis-rules claims check --format json``). Draws, findings and trace steps have the shapes
#: of :data:`DECISION_SCHEMA`.
CLAIMS_REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ClaimsReport",
    "description": "ndis-rules claims check --format json: the summary, then one row per data "
    "row of the bulk payment request, in file order.",
    "type": "object",
    "required": ["summary", "rows"],
    "additionalProperties": False,
    "properties": {
        "summary": {"$ref": "#/$defs/ClaimsSummary"},
        "run": {"$ref": "#/$defs/CheckRun"},
        "rows": {"type": "array", "items": {"$ref": "#/$defs/RowOutcome"}},
        "findings": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the reader's findings about the file as a whole (blank rows "
            "skipped, more rows than the NDIA accepts in one upload, unclosed quotes)",
        },
    },
    "$defs": {
        "CheckRun": {
            "description": "what the check ran with and what it did not check (always written "
            "by the command line)",
            "type": "object",
            "required": [
                "tool",
                "tool_version",
                "today",
                "channel",
                "catalogues",
                "region",
                "state",
                "public_holidays",
                "settings",
                "settings_changed",
                "not_checked",
            ],
            "additionalProperties": False,
            "properties": {
                "tool": {"const": "ndis-rules"},
                "tool_version": {"type": "string"},
                "today": _DATE,
                "channel": {"const": "bulk_import"},
                "catalogues": {
                    "description": "the catalogue files given, oldest first (empty: none)",
                    "type": "array",
                    "items": {"$ref": "#/$defs/CatalogueEdition"},
                },
                "region": {
                    "description": "the price column; null without a catalogue",
                    "type": ["string", "null"],
                },
                "state": {"type": ["string", "null"]},
                "public_holidays": {
                    "description": "true when the state's public holidays were loaded",
                    "type": "boolean",
                },
                "settings": {"type": "object", "description": "every setting as used"},
                "settings_changed": {
                    "type": "object",
                    "description": "the settings that differ from the defaults",
                },
                "not_checked": {
                    "description": "the checks that did not run, with the reason",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["check", "reason"],
                        "additionalProperties": False,
                        "properties": {
                            "check": {"type": "string"},
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
        },
        "CatalogueEdition": {
            "type": "object",
            "required": [
                "file",
                "version",
                "financial_year",
                "effective_from",
                "effective_to",
                "items",
                "basis",
            ],
            "additionalProperties": False,
            "properties": {
                "file": {"type": "string", "description": "the file name"},
                "version": {
                    "description": "the version the file name gives, or null",
                    "type": ["string", "null"],
                },
                "financial_year": {"type": "string", "examples": ["2025-26"]},
                "effective_from": _DATE,
                "effective_to": _DATE,
                "items": _COUNT,
                "basis": {"enum": ["file name", "item dates"]},
            },
        },
        "ClaimsSummary": {
            "type": "object",
            "required": [
                "lines",
                "allowed",
                "warnings",
                "errors",
                "by_code",
                "severities",
                "claimable",
                "contracts",
                "invoices",
            ],
            "additionalProperties": False,
            "properties": {
                "lines": {**_COUNT, "description": "data rows read"},
                "allowed": _COUNT,
                "warnings": _COUNT,
                "errors": _COUNT,
                "by_code": {
                    "description": "rows per code (a code counted once per row)",
                    "type": "object",
                    "propertyNames": {"enum": _CLAIMS_CODES},
                    "additionalProperties": _COUNT,
                },
                "severities": {
                    "description": "the worst severity each code of by_code had",
                    "type": "object",
                    "propertyNames": {"enum": _CLAIMS_CODES},
                    "additionalProperties": _SEVERITY,
                },
                "claimable": {**_MONEY, "description": "total of the rows that are not errors"},
                "contracts": _COUNT,
                "invoices": _COUNT,
            },
        },
        "RowOutcome": {
            "type": "object",
            "required": [
                "row",
                "participant",
                "claim_reference",
                "item",
                "service_from",
                "service_to",
                "amount",
                "outcome",
                "codes",
                "messages",
                "draws",
                "contract",
                "provider",
                "invoice",
            ],
            "additionalProperties": False,
            "properties": {
                "row": {"type": "integer", "minimum": 2, "description": "header = row 1"},
                "participant": {"type": "string"},
                "claim_reference": {"type": "string"},
                "item": {"type": "string"},
                "service_from": {
                    "description": "SupportsDeliveredFrom as an ISO date (the cell as read when "
                    "the reader rejected the row)",
                    "type": "string",
                },
                "service_to": {
                    "description": "SupportsDeliveredTo, likewise",
                    "type": "string",
                },
                "amount": {
                    "description": "null when the reader rejected the row",
                    "anyOf": [_MONEY, {"type": "null"}],
                },
                "outcome": {"enum": ["allowed", "warning", "error"]},
                "codes": {"type": "array", "items": {"enum": _CLAIMS_CODES}},
                "messages": {"type": "array", "items": {"type": "string"}},
                "draws": {"type": "array", "items": {"$ref": "#/$defs/Draw"}},
                "contract": {"type": ["string", "null"]},
                "provider": {"type": ["string", "null"]},
                "invoice": {"type": ["string", "null"]},
                "issues": {"type": "array", "items": {"$ref": "#/$defs/BprIssue"}},
                "findings": {"type": "array", "items": {"$ref": "#/$defs/Finding"}},
                "counts_against": {"type": "array", "items": {"type": "string"}},
                "trace": {"type": "array", "items": {"$ref": "#/$defs/TraceStep"}},
            },
        },
        "BprIssue": {
            "type": "object",
            "required": ["row", "column", "message"],
            "additionalProperties": False,
            "properties": {
                "row": {"type": "integer"},
                "column": {"type": "string", "description": "empty for the whole row"},
                "message": {"type": "string"},
            },
        },
        **{k: DECISION_SCHEMA["$defs"][k] for k in ("Draw", "Finding", "TraceStep")},
    },
}


def schemas() -> dict[str, dict[str, Any]]:
    """Every schema by name."""
    return {
        "contract": Contract.model_json_schema(by_alias=True),
        "invoice": Invoice.model_json_schema(by_alias=True),
        "settings": Settings.model_json_schema(by_alias=True),
        "decision": DECISION_SCHEMA,
        "claims-report": CLAIMS_REPORT_SCHEMA,
        **payload_schemas(),
    }


def write_schemas(folder: Path) -> list[Path]:
    """Write ``<name>.schema.json`` for every schema into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


# -- the accepted shapes of external payloads (PACE plans, quickclaim bookings) ------------------
_ID_TYPES = [{"type": "string", "minLength": 1}, {"type": "integer"}]


def _camel_name(name: str, info: Any) -> str:
    """The first camelCase spelling a field accepts (its own name when it has none)."""
    alias = getattr(info, "validation_alias", None)
    own = _camel(name)
    for choice in getattr(alias, "choices", ()):
        if isinstance(choice, str) and choice != own and any(c.isupper() for c in choice):
            return choice
    return own


def _lenient_property(prop: dict[str, Any], is_id: bool) -> dict[str, Any]:
    """Amounts as exact strings or JSON numbers; ids as strings or JSON integers."""
    if prop.get("type") == "string" and "pattern" in prop and "examples" in prop:
        money = {k: v for k, v in prop.items() if k not in ("title", "description")}
        return {
            **{k: prop[k] for k in ("title", "description") if k in prop},
            "anyOf": [money, {"type": "number", "description": "read exactly, at most 2 places"}],
        }
    if is_id:
        options = prop.get("anyOf", [prop])
        nullable = any(o.get("type") == "null" for o in options)
        keep: dict[str, Any] = {
            k: prop[k] for k in ("title", "description", "default") if k in prop
        }
        pattern = next((o["pattern"] for o in options if "pattern" in o), None)
        strings = {"type": "string", **({"pattern": pattern} if pattern else {"minLength": 1})}
        return {**keep, "anyOf": [strings, {"type": "integer"}, *([{"type": "null"}] * nullable)]}
    if "enum" in prop and all(isinstance(v, str) for v in prop["enum"]):
        # read case-insensitively, with the other names a value is known by
        words = [
            *prop["enum"],
            *(_ENUM_ALIASES if set(prop["enum"]) == {"agency", "plan", "self"} else ()),
        ]
        spelt = sorted({w for v in words for w in (v, v.upper(), v.title())})
        return {**prop, "enum": spelt}
    if prop.get("type") == "boolean":
        words = sorted({w for v in _YES_NO for w in (v, v.upper(), v.title())})
        return {**prop, "type": ["boolean", "string"], "enum": [True, False, *words]}
    if "anyOf" in prop:
        prop = {**prop, "anyOf": [_lenient_property(o, False) for o in prop["anyOf"]]}
    return prop


_ENUM_ALIASES = (
    "agency_managed",
    "ndia",
    "ndia_managed",
    "plan_managed",
    "plan_management",
    "self_managed",
)
_YES_NO = (
    "yes",
    "no",
    "y",
    "n",
    "true",
    "false",
    "released",
    "not released",
    "not yet released",
    "pending",
)


def _shape(
    models: dict[str, Any],
    title: str,
    *,
    style: Literal["ours", "camel", "snake"],
    extra: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """A model's validation schema, its property names in our snake_case or the camelCase the
    vendors use, amounts and ids also as JSON numbers, and the keys read but ignored (``extra``:
    definition name -> {key: schema}) listed so that a valid payload validates."""
    root_name, root = next(iter(models.items()))
    schema = root.model_json_schema(by_alias=False, mode="validation")
    defs = schema.get("$defs", {})
    ids = {
        "plan_id",
        "gateway_plan_id",
        "ndis_number",
        "pace_budget_id",
        "funding_period_id",
        "id",
        "booking_id",
        "booking_number",
    }
    for name, model in models.items():
        target = schema if name == root_name else defs[name]
        renamed: dict[str, Any] = {}
        names: dict[str, str] = {}
        for field_name, prop in target.get("properties", {}).items():
            info = model.model_fields.get(field_name)
            if info is not None and (info.exclude or (field_name == "ignored" and style != "ours")):
                continue
            new = field_name
            if style != "ours" and info is not None:
                new = _camel_name(field_name, info)
                new = _snake(new) if style == "snake" else new
            names[field_name] = new
            renamed[new] = _lenient_property(prop, field_name in ids)
        for key, extra_schema in extra.get(name, {}).items():
            renamed.setdefault(key, extra_schema)
        target["properties"] = renamed
        if "required" in target:  # the category may come from categoryCode or an NDIA name
            target["required"] = [
                names[r] for r in target["required"] if r in names and r != "category"
            ]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return dict(schema)


def payload_schemas() -> dict[str, dict[str, Any]]:
    """The accepted shapes of external payloads, generated from the models that read them."""
    from ..adapters.pace_jsondir import PaceParticipantFile
    from ..adapters.quickclaim import QuickclaimBooking
    from ..pace import PaceBudget, PaceFundingComponent, PaceFundingPeriod, PacePlan

    ignored: dict[str, Any] = {
        "description": "read but ignored (remaining is always computed locally)"
    }
    pace = {
        "PacePlan": PacePlan,
        "PaceBudget": PaceBudget,
        "PaceFundingComponent": PaceFundingComponent,
        "PaceFundingPeriod": PaceFundingPeriod,
    }
    category_code: dict[str, Any] = {
        "description": 'the category number ("04", 4) or the NDIA\'s name (DAILY_ACTIVITIES)',
        "anyOf": [{"type": "string"}, {"type": "integer"}],
    }
    gateway_id = {"description": "the gateway's own plan id", "anyOf": _ID_TYPES}
    plan_extra_camel = {
        "PacePlan": {"planId": gateway_id}
        | dict.fromkeys(
            ("remaining", "version", "rego", "participantId", "ndisRefreshDate"), ignored
        ),
        "PaceBudget": {"remaining": ignored, "categoryCode": category_code},
    }
    plan_extra_snake = {
        "PacePlan": dict.fromkeys(
            ("remaining", "version", "rego", "participant_id", "ndis_refresh_date"), ignored
        ),
        "PaceBudget": {"remaining": ignored, "category_code": category_code},
    }
    booking = _shape(
        {"QuickclaimBooking": QuickclaimBooking},
        "quickclaim service booking",
        style="camel",
        extra={
            "QuickclaimBooking": {
                "version": ignored,
                "remaining": ignored,
                "participantName": ignored,
                "supportCategory": {"type": "string", "description": "label"},
                "supportCategoryApi": {"type": "string", "examples": ["DAILY_ACTIVITIES"]},
                "categoryCode": category_code,
            }
        },
    )
    participant_file = PaceParticipantFile.model_json_schema(by_alias=False, mode="validation")
    participant_file["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    participant_file["title"] = "PACE participant file (JsonDirPaceSource)"
    return {
        "pace-plan": _shape(
            pace, "PACE plan (our snake_case names)", style="ours", extra=plan_extra_snake
        ),
        "pace-plan-camelcase": _shape(
            pace, "PACE plan (vendors' camelCase names)", style="camel", extra=plan_extra_camel
        ),
        "pace-plan-snakecase": _shape(
            pace, "PACE plan (the NDIA's snake_case style)", style="snake", extra=plan_extra_snake
        ),
        "pace-participant-file": participant_file,
        "quickclaim-service-booking": booking,
    }
