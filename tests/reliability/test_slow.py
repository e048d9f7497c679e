"""The ``slow`` set (``pytest -m slow``; the default run deselects it through the ``-m "not
slow"`` in pyproject's addopts): the engine properties of tests/properties and the stateful
ledger machine of tests/stateful re-run with many more examples, and the reliability properties
of this folder with the ``slow`` profile's 2,000.

The modules are loaded here under private names, so raising their settings never touches the
copies the fast run collects.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parent.parent
SLOW_EXAMPLES = 2000
SLOW = settings(
    max_examples=SLOW_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _load(relative: str) -> ModuleType:
    path = TESTS / relative
    spec = importlib.util.spec_from_file_location(f"_slow_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ENGINE = _load("properties/test_engine_properties.py")
LEDGER = _load("stateful/test_ledger_machine.py")
ENGINE_TESTS = sorted(name for name in vars(ENGINE) if name.startswith("test_"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ENGINE_TESTS)
def test_engine_property_with_many_examples(name: str) -> None:
    test: Callable[[], Any] = getattr(ENGINE, name)
    SLOW(test)()


@pytest.mark.slow
class TestLedgerMachineLong(LEDGER.LedgerMachine.TestCase):  # type: ignore[misc,name-defined]
    """The stateful machine with 2,000 programs of up to 30 steps (the fast run: 25 of 12)."""

    settings = settings(
        max_examples=SLOW_EXAMPLES,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
