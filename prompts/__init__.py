"""Prompt and message templates (French), loaded by name from this package's `.md` files."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """Text of ``prompts/<name>.md`` (trailing newline stripped). Raises KeyError if unknown."""
    resource = resources.files(__package__).joinpath(f"{name}.md")
    if not resource.is_file():
        available = sorted(p.name[:-3] for p in resources.files(__package__).iterdir() if p.name.endswith(".md"))
        raise KeyError(f"unknown prompt {name!r}; available: {', '.join(available)}")
    return resource.read_text(encoding="utf-8").rstrip("\n")


__all__ = ["load"]
