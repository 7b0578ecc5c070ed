"""The house keeps one idea per room: no import circles, no module past 400 lines.

Both checks read the source with :mod:`ast` (nothing is imported), so they see the
imports made inside functions too: a lazy import still ties two modules together.
A package's ``__init__`` only re-exports, so it is left out of the circle check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("planners", "envs", "rlkit", "benchmarks")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _targets(module: str, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> list:
    """The project modules one import statement names (a name that is a submodule counts)."""
    # benchmarks/ scripts import their sibling modules by bare name ("import scripting").
    sibling = "benchmarks." if module.startswith("benchmarks.") else ""
    if isinstance(node, ast.Import):
        return [
            sibling + alias.name if sibling + alias.name in modules else alias.name
            for alias in node.names
        ]
    base = node.module or ""
    if not node.level and sibling + base in modules:
        base = sibling + base
    if node.level:
        package = module.split(".")
        if modules[module].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [
        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
        for alias in node.names
    ]


def import_graph() -> nx.DiGraph:
    """Module -> module edges between the project's modules, ``__init__`` files left out."""
    modules = _modules()
    graph = nx.DiGraph()
    for module, path in modules.items():
        if path.name == "__init__.py":
            continue
        graph.add_node(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(module, node, modules):
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module and modules[target].name != "__init__.py":
                    graph.add_edge(module, target)
    return graph


def test_import_graph_sees_lazy_imports() -> None:
    # rlkit.cli imports subcommands inside functions, benchmarks import siblings by bare name.
    graph = import_graph()
    assert graph.has_edge("rlkit.cli", "rlkit.deep.cli")
    assert graph.has_edge("benchmarks.learning", "benchmarks.scripting")


def test_no_import_circles() -> None:
    circles = [" -> ".join([*cycle, cycle[0]]) for cycle in nx.simple_cycles(import_graph())]
    assert circles == [], "modules that import each other (move the shared piece down):\n" + (
        "\n".join(circles)
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_fit_in_400_lines(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / package).rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these along their ideas (at most {MAX_LINES} lines each): {long}"
