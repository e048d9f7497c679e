"""The folders are the architecture: the core never reaches the shell (DESIGN.md section 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .layout import SHELL, Violation, check, is_core, module_name

SRC = Path(__file__).resolve().parents[2] / "src" / "ndis_rules"


def test_the_core_never_reaches_the_shell_nor_the_outside_world() -> None:
    violations = check(SRC)
    assert violations == [], "\n".join(map(str, violations))


def test_the_walk_covers_every_module_of_the_core() -> None:
    names = {module_name(SRC, p) for p in SRC.rglob("*.py")}
    core = {n for n in names if is_core(n)}
    # the spec-fixed modules are core, at the top
    assert {"periods", "budgets", "streamline", "bookings"} <= core
    assert {"rules", "merge", "money", "models", "codes", "catalogue", "bpr", "claims"} <= core
    # every shell package exists and nothing of it is core
    for package in SHELL:
        assert (SRC / package / "__init__.py").is_file(), package
        assert not any(n.split(".")[0] == package for n in core)


def test_old_paths_forward_only_to_the_shell_by_name() -> None:
    """A core module reaches a moved name only through ``_compat.forward``, at module level
    (``__getattr__``) or in a deprecated method, always naming a shell module."""
    for path in SRC.rglob("*.py"):
        name = module_name(SRC, path)
        if not is_core(name):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "forward"
            ):
                target = node.args[0]
                assert isinstance(target, ast.Constant), name
                assert str(target.value).split(".")[1] in SHELL, (name, target.value)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in {**{p + "/__init__.py": "" for p in SHELL}, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "__init__.py").write_text("")
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"rules.py": "from .adapters import sqlite\n", "adapters/sqlite.py": ""},
            "imports the shell module adapters",
        ),
        ({"rules.py": "from . import cli\n"}, "imports the shell module cli"),
        (
            {"rules.py": "def f():\n    from .files.bpr import read\n"},
            "imports the shell module files.bpr",
        ),
        # transitive: the core module is clean, the module it imports is not
        (
            {"rules.py": "from .helpers import x\n", "helpers.py": "import sqlite3\n"},
            "imports sqlite3",
        ),
        (
            {
                "rules.py": "from .a import x\n",
                "a.py": "from .b import y\n",
                "b.py": "from .services.sync import z\n",
            },
            "imports the shell module services.sync",
        ),
        (
            {"periods.py": "from datetime import date\ndef f():\n    return date.today()\n"},
            "calls date.today()",
        ),
        (
            {"periods.py": "import datetime\ndef f():\n    return datetime.now()\n"},
            "calls datetime.now()",
        ),
        ({"bpr.py": "def f(p):\n    return open(p).read()\n"}, "calls open()"),
        (
            {
                "rules/__init__.py": "from ..adapters.clock import SystemClock\n",
                "adapters/clock.py": "",
            },
            "imports the shell module adapters.clock",
        ),
        ({"money.py": "import pathlib\n"}, "imports pathlib"),
    ],
)
def test_the_checker_fails_on_a_core_that_reaches_out(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    violations = check(_package(tmp_path, files))
    assert any(expected in str(v) for v in violations), violations


def test_the_checker_passes_a_clean_core_and_allows_the_shell_everything(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "rules.py": "from typing import TYPE_CHECKING\nfrom .periods import x\n"
            "if TYPE_CHECKING:\n    from os import PathLike\n",
            "periods.py": "from datetime import date\n",
            "files/bpr.py": "import os\nfrom ..rules import r\ndef f(p):\n    return open(p)\n",
            "cli/main.py": "import sys\nfrom ..adapters import clock\nprint('x')\n",
        },
    )
    assert check(root) == []


def test_a_violation_names_the_chain() -> None:
    v = Violation("rules", ("rules", "a", "services.sync"), "imports the shell module x")
    assert str(v) == "rules: imports the shell module x (via rules -> a -> services.sync)"
