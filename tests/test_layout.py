"""The required layout: real packages resolving inside the repo, one-way imports, lazy heavy loads."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["ingest", "index", "assistant", "prompts", "eval"]
# Which project packages each package may import (the dependency rule, one direction only).
ALLOWED = {
    "ingest": set(),
    "index": {"ingest"},
    "prompts": set(),
    "assistant": {"ingest", "index", "prompts"},
    "eval": {"ingest", "index", "prompts", "assistant"},
}


def test_pyproject_lists_the_packages_explicitly() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["name"] == "reperes"
    assert config["project"]["scripts"]["reperes"] == "assistant.launch:main"  # the prefetch, then the CLI
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == PACKAGES


@pytest.mark.parametrize("name", PACKAGES)
def test_package_resolves_inside_the_repo(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(ROOT / name)


def test_bundled_corpus_is_in_the_repo() -> None:
    names = sorted(p.name for p in (ROOT / "data" / "corpus").iterdir())
    assert len(names) == 5 and all(n.endswith(".txt") for n in names)
    assert (ROOT / "eval" / "data" / "dev.jsonl").is_file()


def _project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_go_one_way(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        if package == "assistant" and path.name == "cli.py":
            continue  # the CLI is the one face allowed to reach every package
        bad = _project_imports(path) - ALLOWED[package] - {package}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def _module_name(package: str, path: Path) -> str:
    relative = path.relative_to(ROOT / package).with_suffix("")
    parts = [package, *relative.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, at module level or inside a function."""
    modules = {_module_name(package, path): path for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # "from index import query" imports the module index.query; "from index import X", the package.
                targets = [f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in modules]
                targets = targets or [node.module]
            else:
                continue
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]  # "from index.query import fold": the module index.query
                if target in modules and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two modules or more (Tarjan), each as one cycle through its modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(_cycle_through(graph, set(group)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _cycle_through(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest cycle through the first module of ``group`` (a strongly connected set), back to it."""
    start = min(group)
    previous: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{sorted(group)} is not strongly connected")


def test_the_cycle_finder_names_a_cycle() -> None:
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert _cycles(graph) == [["a.x", "a.y", "a.z", "a.x"]]
    assert _cycles({"a.x": {"a.y"}, "a.y": set()}) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(package: str) -> None:
    """No module of a package imports, even inside a function, a module that imports it back."""
    cycles = _cycles(_import_graph(package))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def test_no_bare_import_of_generic_package_names() -> None:
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name not in {"eval", "index"}, f"bare `import {alias.name}` in {path}"


def test_importing_the_packages_loads_no_model() -> None:
    code = (
        "import sys, ingest, index, assistant, prompts, eval, assistant.cli, assistant.app\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'gradio', 'faiss') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_prompts_load_by_name() -> None:
    from prompts import load

    assert "ne précisent pas" in load("refusal")
    with pytest.raises(KeyError, match="refusal"):
        load("does-not-exist")
