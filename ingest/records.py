"""Typed records shared by every package: a loaded source document and a chunk of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class SourceDoc:
    """One file of the corpus, as text, with the lines of the original file kept 1:1."""

    source: str  # file name inside the corpus folder: the citation key
    text: str
    title: str = ""
    pages: tuple[int, ...] = ()  # page number of each line (1-based) when the format has pages
    banners: tuple[int, ...] = ()  # 1-based lines where a repeated page banner stood (blanked by repair)

    @cached_property
    def lines(self) -> list[str]:
        """The text's lines, split once (chunking reads them per card and per chunk); do not mutate."""
        return self.text.split("\n")


@dataclass(frozen=True)
class Chunk:
    """A passage of a source document with fixed provenance keys.

    ``line_start``/``line_end`` are 1-based, inclusive lines of the original file named ``source``;
    citations point there. ``id`` is derived from source, lines and text, so re-ingesting the same
    corpus yields the same ids.
    """

    source: str
    line_start: int
    line_end: int
    text: str
    title: str = ""
    kind: str = "paragraph"
    page: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    id: str = ""

    def __post_init__(self) -> None:
        if self.line_start < 1 or self.line_end < self.line_start:
            raise ValueError(
                f"bad line range {self.line_start}-{self.line_end} for {self.source}: lines are 1-based, start <= end"
            )
        if not self.id:
            digest = hashlib.sha256(f"{self.source}\0{self.line_start}\0{self.line_end}\0{self.text}".encode()).hexdigest()
            object.__setattr__(self, "id", f"{self.source}:{self.line_start}-{self.line_end}:{digest[:10]}")

    def to_json(self) -> dict[str, Any]:
        """The `reperes chunks` record shape (a stable contract)."""
        return {
            "id": self.id,
            "source": self.source,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "page": self.page,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Chunk:
        return cls(
            source=record["source"],
            line_start=int(record["line_start"]),
            line_end=int(record["line_end"]),
            text=record["text"],
            title=record.get("title", ""),
            kind=record.get("kind", "paragraph"),
            page=record.get("page"),
            metadata=dict(record.get("metadata") or {}),
            id=record.get("id", ""),
        )
