"""Operations: the Docker image and compose file, the licence, `reperes --version` and the French help.

Docker cannot run here: the files are parsed and their key lines checked (a non-root user, the serving
command, the data volume, the health check), so a careless edit is caught before an image is built.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from assistant.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_dockerfile_serves_as_a_non_root_user_with_data_in_a_volume() -> None:
    steps = _instructions()
    kinds = [kind for kind, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    torch = next(i for i, (kind, args) in enumerate(steps) if kind == "RUN" and "torch==" in args)
    project = next(i for i, (kind, args) in enumerate(steps) if kind == "RUN" and "pip install -e ." in args)
    assert torch < project and "download.pytorch.org/whl/cpu" in steps[torch][1]  # the CPU build, first
    pinned = re.search(r"torch==([\d.]+)", (ROOT / "Makefile").read_text())
    assert pinned and f"torch=={pinned.group(1)}" in steps[torch][1]  # the Makefile's version
    user = [args for kind, args in steps if kind == "USER"]
    assert user and user[-1] not in {"root", "0"}
    assert kinds.index("USER") < kinds.index("CMD")
    env = " ".join(args for kind, args in steps if kind == "ENV")
    assert "REPERES_HOME=/data" in env
    assert ("EXPOSE", "7860") in steps
    cmd = [args for kind, args in steps if kind == "CMD"][-1]
    assert json.loads(cmd) == ["reperes", "serve", "--host", "0.0.0.0", "--port", "7860"]
    copied = {args.split()[0] for kind, args in steps if kind == "COPY"}
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert copied.isdisjoint(ignored)  # nothing copied is excluded from the build context


def test_compose_runs_the_app_with_a_named_volume_a_token_and_a_health_check() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["reperes"]
    assert service["build"] == "."
    assert "reperes-data:/data" in service["volumes"] and "reperes-data" in compose["volumes"]
    assert service["environment"]["REPERES_API_TOKEN"].startswith("${REPERES_API_TOKEN")
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])  # behind the proxy only
    check = service["healthcheck"]
    assert check["test"][0] == "CMD" and "/api/health" in check["test"][-1]
    compile(check["test"][-1], "healthcheck", "exec")  # the inline Python at least parses


def test_mit_licence_and_its_metadata() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 Repères contributors" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"reperes {metadata.version('reperes')}"


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["feedback", "export", "--help"]])
def test_help_is_in_french(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("utilisation : reperes")
    assert "options :" in out and "afficher cette aide et quitter" in out
    for english in ("usage:", "options:", "positional arguments", "show this help message"):
        assert english not in out, shlex.join(argv)
