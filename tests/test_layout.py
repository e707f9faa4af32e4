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
    assert config["project"]["scripts"]["reperes"] == "assistant.cli:main"
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
