"""JSON Schemas of the input models and of the decision report, written to ``docs/schema/``.

Examples:
    >>> schemas()["contract"]["title"]
    'Contract'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .codes import all_codes
from .models import Contract, Invoice, Settings

__all__ = ["DECISION_SCHEMA", "schemas", "write_schemas"]

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


def schemas() -> dict[str, dict[str, Any]]:
    """Every schema by name."""
    return {
        "contract": Contract.model_json_schema(by_alias=True),
        "invoice": Invoice.model_json_schema(by_alias=True),
        "settings": Settings.model_json_schema(by_alias=True),
        "decision": DECISION_SCHEMA,
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
