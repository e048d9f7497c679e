"""Reading contracts, invoices and settings from JSON (or YAML) files and text, with every
problem reported as one :class:`~ndis_rules.errors.InputError` naming the file and field path.

Examples:
    >>> parse_model(Settings, '{"rollover": false, "claims_flexiblity": true}', "s.json")
    Traceback (most recent call last):
    ...
    ndis_rules.errors.InputError: s.json: claims_flexiblity: Extra inputs are not permitted
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InputError, input_error_from
from ..models import Contract, Invoice, Settings
from ..parsing import JSON_INT_DIGITS, ParseError, json_loads, refuse_unpaired_surrogates

__all__ = [
    "dumps_exact",
    "loads_exact",
    "parse_model",
    "read_contract",
    "read_data",
    "read_invoices",
    "read_model",
    "read_settings",
    "read_text",
]

M = TypeVar("M", bound=BaseModel)


def loads_exact(text: str | bytes) -> Any:
    """:func:`ndis_rules.parsing.json_loads` for text or UTF-8 bytes: every number read exactly
    (``70.23`` is ``Decimal("70.23")``, never a float; ``12`` an ``int``); ``NaN`` and
    ``Infinity`` are refused. Errors are those of
    ``json.loads`` (``json.JSONDecodeError``, or ``ValueError`` for a refused constant or an
    integer too long to read), plus ``RecursionError`` for a document nested too deeply.

    Examples:
        >>> loads_exact('{"amount": 1500.5, "id": 12}')
        {'amount': Decimal('1500.5'), 'id': 12}
        >>> loads_exact('[NaN]')
        Traceback (most recent call last):
        ...
        ndis_rules.errors.ParseError: NaN is not a number JSON allows
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json_loads(text)


def dumps_exact(data: Any) -> str:
    """Compact JSON with ``Decimal`` values written as exact JSON numbers (``Decimal("900.05")``
    is ``900.05``, never through a float); the inverse of :func:`loads_exact`.

    Examples:
        >>> dumps_exact({"rate": Decimal("900.05"), "ids": [1, "a"], "ok": None})
        '{"rate":900.05,"ids":[1,"a"],"ok":null}'
    """
    if isinstance(data, Decimal):
        if not data.is_finite():
            raise ValueError(f"{data} is not a number JSON allows")
        return format(data, "f")
    if isinstance(data, dict):
        items = (f"{json.dumps(str(k))}:{dumps_exact(v)}" for k, v in data.items())
        return "{" + ",".join(items) + "}"
    if isinstance(data, list | tuple):
        return "[" + ",".join(dumps_exact(v) for v in data) + "]"
    return json.dumps(data, allow_nan=False)


def _load_text(text: str, source: str, prefix: str = "") -> Any:
    if source.endswith((".yaml", ".yml")):
        return load_yaml_or_json(text, source)
    try:
        return json_loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{prefix}not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            source=source,
        ) from None
    except ParseError as exc:
        raise InputError(f"{prefix}not valid JSON: {exc}", source=source) from None
    except RecursionError:
        raise InputError("the JSON document is nested too deeply", source=source) from None


def read_text(path: str | Path) -> str:
    """A file's UTF-8 text; an unreadable file or text that is not UTF-8 is an
    :class:`InputError` naming the file."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=str(p)) from None


def read_data(path: str | Path, *, prefix: str = "") -> Any:
    """A JSON (or, by suffix, YAML) file's data; an unreadable file, text that is not UTF-8 or
    not JSON is an :class:`InputError` naming the file (``prefix`` starts the message)."""
    return _load_text(read_text(path), str(Path(path)), prefix)


def parse_model(model: type[M], text: str, source: str = "<input>") -> M:
    """Validate ``text`` (JSON, or YAML when ``source`` ends in .yaml) as ``model``."""
    data = _load_text(text, source)
    return validate_model(model, data, source)


def validate_model(model: type[M], data: Any, source: str = "<input>") -> M:
    """Validate already-parsed data as ``model``; problems raise :class:`InputError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_error_from(exc, source) from None
    except RecursionError:
        raise InputError("the document is nested too deeply", source=source) from None


def read_model(model: type[M], path: str | Path) -> M:
    """Read and validate a file as ``model``."""
    return parse_model(model, read_text(path), str(Path(path)))


def read_contract(path: str | Path) -> Contract:
    """Read a contract file (a bare contract, or ``{"contract": {...}}``)."""
    p = Path(path)
    data = read_data(p)
    if isinstance(data, dict) and set(data) == {"contract"}:
        data = data["contract"]
    return validate_model(Contract, data, str(p))


def read_invoices(path: str | Path) -> list[Invoice]:
    """Read one invoice, a list of invoices, or ``{"invoices": [...]}`` from a file."""
    p = Path(path)
    data = read_data(p)
    if isinstance(data, dict) and "invoices" in data and "lines" not in data:
        data = data["invoices"]
    items = data if isinstance(data, list) else [data]
    out: list[Invoice] = []
    for n, item in enumerate(items):
        try:
            out.append(Invoice.model_validate(item))
        except ValidationError as exc:
            err = input_error_from(exc, str(p))
            prefix = f"invoices.{n}." if isinstance(data, list) else ""
            problems = [prefix + problem for problem in err.problems]
            raise InputError("; ".join(problems), source=str(p), problems=problems) from None
    return out


def read_settings(path: str | Path) -> Settings:
    """Read a settings file; unknown settings are an error."""
    return read_model(Settings, path)


def load_yaml_or_json(text: str, source: str) -> Any:
    """A JSON (``source`` ending ``.json``) or YAML document, money and item numbers kept exact."""
    if source.endswith(".json"):
        try:
            return json_loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg} at line {exc.lineno}", source=source
            ) from None
        except ParseError as exc:
            raise InputError(f"not valid JSON: {exc}", source=source) from None
        except RecursionError:
            raise InputError("the JSON document is nested too deeply", source=source) from None
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(
            "reading YAML scenarios needs PyYAML: pip install 'ndis-rules[yaml]'", source=source
        ) from exc
    try:
        value = yaml.load(text, Loader=_scenario_loader(yaml))
        refuse_unpaired_surrogates(value)  # "\ud800" is valid YAML too, but not text
        return value
    except ParseError as exc:
        raise InputError(f"not valid YAML: {exc}", source=source) from None
    except RecursionError:
        raise InputError("the YAML document is nested too deeply", source=source) from None
    except yaml.YAMLError as exc:
        raise InputError(_yaml_problem(yaml, exc), source=source) from None
    except (ValueError, ArithmeticError):  # a value the YAML constructors refuse
        # e.g. an unquoted impossible date (2025-02-30); the value is not quoted
        raise InputError(
            "not valid YAML: a value that cannot be read (an impossible date? quote it, or "
            "write a real date as YYYY-MM-DD)",
            source=source,
        ) from None


def _yaml_problem(yaml: Any, exc: Exception) -> str:
    """One line for a YAML error: where and what, never PyYAML's multi-line snippet of the
    text (which would repeat the file's content)."""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        return (
            f"not valid YAML at character {exc.position + 1}: a character YAML does not allow "
            f"(#x{exc.character:04x})"
            if isinstance(exc.character, int)
            else f"not valid YAML at character {exc.position + 1}: bytes that are not text"
        )
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    return f"not valid YAML{where}: {' '.join(str(problem).split())}"


@functools.cache
def _scenario_loader(yaml: Any) -> Any:
    """A ``SafeLoader`` that keeps item numbers such as ``01_011_0107_1_1`` as text (YAML 1.1
    would read them as integers), reads decimal numbers such as ``70.23`` as exact
    ``Decimal`` (never a float), integers in base 10 only (YAML 1.1 reads ``010`` as 8; more
    than 30 digits stay a ``Decimal`` for the field to refuse by its bound), and leaves
    unquoted dates as text for the field's own date parser (an impossible ``2025-02-30`` is
    then an error naming the field, not a crash)."""
    import re
    from decimal import Decimal

    class ScenarioLoader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    resolvers = {
        first: [
            (tag, rx)
            for tag, rx in entries
            if tag
            not in (
                "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float",
                "tag:yaml.org,2002:timestamp",
            )
        ]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    ScenarioLoader.yaml_implicit_resolvers = resolvers
    ScenarioLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
    )
    ScenarioLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)$"),
        list("-+.0123456789"),
    )

    def decimal(loader: Any, node: Any) -> Decimal:
        return Decimal(loader.construct_scalar(node))

    def integer(loader: Any, node: Any) -> int | Decimal:
        text = loader.construct_scalar(node)
        return Decimal(text) if len(text.lstrip("+-")) > JSON_INT_DIGITS else int(text, 10)

    ScenarioLoader.add_constructor("tag:yaml.org,2002:float", decimal)
    ScenarioLoader.add_constructor("tag:yaml.org,2002:int", integer)
    return ScenarioLoader
