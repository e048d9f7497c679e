"""JSON Schemas of the input models and of the reports, written to ``docs/schema/``
(``ndis-rules schema --out docs/schema``; a test keeps the files current).

* ``decision``: one invoice decision, a line of ``ndis-rules validate --format json``.
* ``claims-report``: the document ``ndis-rules claims check --format json`` writes.
* ``contract``, ``invoice``, ``settings``: the inputs, from the pydantic models.

Examples:
    >>> schemas()["contract"]["title"]
    'Contract'
    >>> sorted(schemas()["claims-report"]["properties"])
    ['findings', 'rows', 'run', 'summary']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..claims import FILE_CODES
from ..codes import all_codes
from ..models import Contract, Invoice, Settings

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
