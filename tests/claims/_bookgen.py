"""The benchmarks' book generator (``benchmarks/generate_book.py``), loaded once for the tests
that check generated books (fast path vs exact engine, the lean rows)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_CSV = ROOT / "tests" / "data" / "catalogue-2025-26-subset.csv"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_book", ROOT / "benchmarks" / "generate_book.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_book", module)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
