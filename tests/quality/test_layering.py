"""The package's shape: its stages are layered (the import-linter contract in pyproject.toml), no module imports
itself back through others, no private name crosses a package, and no module grows past about 400 lines.

Every import counts: at module top, inside a function (deferred) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "adjudicator"
#: "no module over about 400 lines" (issue 19): the test allows a few lines of slack, not a second module's worth
MAX_LINES = 420


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the package found in ``root``, with the contracts of ``root``/pyproject.toml."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_the_stages_keep_their_layers() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("adjudicator/contract.py", "import adjudicator.cli"),  # at the top
        ("adjudicator/engine/checks.py", "def _later() -> None:\n    from adjudicator.embedded import driver"),
        (
            "adjudicator/rules/tables.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import adjudicator.run",
        ),
    ],
    ids=["top-level", "deferred", "type-checking"],
)
def test_the_contract_breaks_on_a_new_upward_import(tmp_path: Path, module: str, upward: str) -> None:
    """The contract is not vacuous: one upward import added to a copy of the package breaks it, wherever it is."""
    shutil.copytree(PACKAGE, tmp_path / "adjudicator", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + "\n\n" + upward + "\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout or "broken" in done.stdout


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("adjudicator", cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    # the package faces (``__init__``) import nothing, so a cycle is between modules themselves
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


def _package_of(module: str) -> str:
    """``adjudicator.readers.layouts`` -> ``adjudicator.readers``; a top-level module is its own package."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def test_no_private_name_crosses_a_package() -> None:
    crossing = []
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("adjudicator"):
                continue
            if _package_of(node.module or "") == _package_of(module):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    crossing.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}")
    assert crossing == []


def test_no_module_is_over_about_400_lines() -> None:
    long = {module: n for module, path in _modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_importing_the_command_line_imports_no_polars() -> None:
    """``main`` applies the reader settings polars reads once at import (``embedded.tuning``) before polars is
    imported: the command line's own modules must not import it."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, adjudicator.cli; print(sorted({'polars', 'pyarrow'} & set(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
