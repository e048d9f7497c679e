"""The core never imports adapters, I/O or the clock; dependencies point inwards."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "ndis_rules"
CORE = [
    "money",
    "periods",
    "models",
    "codes",
    "outcomes",
    "budgets",
    "channels",
    "streamline",
    "rules",
    "merge",
    "pace",
]
FORBIDDEN = {"os", "sqlite3", "pathlib", "socket", "urllib", "http", "subprocess", "time"}


def imports_of(module: str) -> set[str]:
    tree = ast.parse((SRC / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level
            names.add(prefix + (node.module or ""))
    return names


def test_core_is_pure() -> None:
    for module in CORE:
        names = imports_of(module)
        assert not any(
            n.startswith((".adapters", ".cli", ".testing", "ndis_rules.adapters")) for n in names
        ), module
        assert not {n.split(".")[0] for n in names} & FORBIDDEN, module
        text = (SRC / f"{module}.py").read_text()
        assert "date.today()" not in text and "datetime.now(" not in text, module
