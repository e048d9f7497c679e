"""The layout rule of DESIGN.md section 1, as a checker the architecture tests run.

Top-level modules of ``ndis_rules`` (and the ``rules`` and ``merge`` packages) are the pure
core; ``files``, ``services``, ``adapters``, ``cli`` and ``testing`` are the shell. The core,
and everything it imports transitively, never imports a shell package, a module that reaches
files, the network, processes or the clock, nor calls ``date.today()``/``datetime.now()``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SHELL = ("files", "services", "adapters", "cli", "testing")
#: Standard and third-party modules that open files, sockets or processes, read the clock or
#: draw randomness; the core may import none of them, directly or through another module.
FORBIDDEN = frozenset(
    {
        "os",
        "io",
        "pathlib",
        "shutil",
        "tempfile",
        "glob",
        "fcntl",
        "mmap",
        "sqlite3",
        "dbm",
        "socket",
        "ssl",
        "select",
        "selectors",
        "urllib",
        "http",
        "httpx",
        "requests",
        "asyncio",
        "subprocess",
        "multiprocessing",
        "concurrent",
        "threading",
        "signal",
        "time",
        "random",
        "uuid",
        "secrets",
        "logging",
        "importlib",
        "zlib",
        "gzip",
        "csv_files",
        "openpyxl",
        "yaml",
        "holidays",
        "polars",
        "pyarrow",
        "dask",
        "distributed",
        "rich",
        "pytest",
        "hypothesis",
        "sys",
        "builtins",
    }
)
#: Calls that read the clock or do I/O, by (object, attribute) or builtin name.
FORBIDDEN_CALLS = frozenset(
    {
        ("date", "today"),
        ("datetime", "now"),
        ("datetime", "today"),
        ("datetime", "utcnow"),
        ("time", "time"),
        ("time", "monotonic"),
    }
)
FORBIDDEN_BUILTINS = frozenset({"open", "print", "input", "exec", "eval", "__import__"})
#: The one core module allowed to import ``importlib``: it forwards old import paths to their
#: new shell homes by name, on first use (one release; see ``ndis_rules/_compat.py``).
COMPAT = "_compat"


@dataclass(frozen=True)
class Violation:
    module: str
    chain: tuple[str, ...]
    what: str

    def __str__(self) -> str:
        via = " -> ".join(self.chain)
        return f"{self.module}: {self.what}" + (f" (via {via})" if len(self.chain) > 1 else "")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_core(name: str) -> bool:
    return not name or (name.split(".", maxsplit=1)[0] not in SHELL and name != "__main__")


def _modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, skipping ``if TYPE_CHECKING:`` blocks (no import happens at run time)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    base = current.split(".") if current else []
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def imports_of(root: Path, name: str, path: Path, known: set[str]) -> tuple[set[str], set[str]]:
    """(package modules, outside top-level modules) imported by one module at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    internal: set[str] = set()
    outside: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ndis_rules"):
                    internal.add(alias.name.removeprefix("ndis_rules").lstrip("."))
                else:
                    outside.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and not (node.module or "").startswith("ndis_rules"):
                outside.add((node.module or "").split(".")[0])
                continue
            if node.level == 0:
                target = (node.module or "").removeprefix("ndis_rules").lstrip(".")
            else:
                target = _resolve(name, is_package, node.level, node.module)
            internal.add(target)
            for alias in node.names:  # ``from . import adapters`` imports a module
                sub = f"{target}.{alias.name}" if target else alias.name
                if sub in known:
                    internal.add(sub)
    return internal, outside


def _calls(path: Path) -> set[str]:
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
            found.add(f"{func.id}()")
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and (func.value.id, func.attr) in FORBIDDEN_CALLS
        ):
            found.add(f"{func.value.id}.{func.attr}()")
    return found


def check(root: Path) -> list[Violation]:
    """Every way the core of the package at ``root`` reaches the shell or the outside world."""
    modules = _modules(root)
    known = set(modules)
    graph: dict[str, tuple[set[str], set[str]]] = {
        name: imports_of(root, name, path, known) for name, path in modules.items()
    }
    violations: list[Violation] = []
    for start in sorted(n for n in modules if is_core(n)):
        seen = {start: (start,)}
        queue = [start]
        while queue:
            current = queue.pop(0)
            chain = seen[current]
            internal, outside = graph.get(current, (set(), set()))
            bad_outside = outside & FORBIDDEN
            if current == COMPAT:
                bad_outside -= {"importlib"}
            for mod in sorted(bad_outside):
                violations.append(Violation(start, chain, f"imports {mod}"))
            for target in sorted(internal):
                if not is_core(target):
                    violations.append(
                        Violation(start, (*chain, target), f"imports the shell module {target}")
                    )
                    continue
                if target in known and target not in seen:
                    seen[target] = (*chain, target)
                    queue.append(target)
        for call in sorted(_calls(modules[start])):
            violations.append(Violation(start, (start,), f"calls {call}"))
    return violations
