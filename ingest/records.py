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


@dataclass(frozen=True)
class Figure:
    """A key figure of an action ("75 jeunes") with the sentence that states it and its 1-based line."""

    value: str
    sentence: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "sentence": self.sentence, "line": self.line}


@dataclass(frozen=True)
class Action:
    """One action, project or measure of a document, every field read from its text at ingest.

    The `reperes actions --json` record (a contract). ``line_start``/``line_end`` are 1-based,
    inclusive lines of the original file ``source``; ``id`` depends on the source and the title only,
    so it is stable across runs. ``qpv`` is "only" (for priority-neighbourhood residents), "excluded"
    ("hors politique de la ville") or None, with the phrase it comes from in ``qpv_evidence``; the ages
    come from ``age_evidence``, an eligibility statement, never from a statistic.
    """

    id: str
    title: str
    source: str
    line_start: int
    line_end: int
    document: str = ""
    kind: str = "action"  # card | deck | table_row | item | paragraph: the structure it was read from
    page: int | None = None
    acronym: str | None = None
    porteur: str | None = None
    partners: tuple[str, ...] = ()
    public: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    age_max_extended: int | None = None
    age_condition: str | None = None
    age_evidence: str | None = None
    communes: tuple[str, ...] = ()
    epci: str | None = None
    territory_scope: str | None = None
    territory_evidence: str | None = None
    qpv: str | None = None
    qpv_evidence: str | None = None
    mission_locale_sectors: tuple[str, ...] = ()
    situations: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    summary: str | None = None
    figures: tuple[Figure, ...] = ()
    contacts: tuple[Any, ...] = ()  # ingest.records.Contact records
    section: str | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError(f"an action of {self.source} lines {self.line_start}-{self.line_end} has no title")
        if self.line_start < 1 or self.line_end < self.line_start:
            raise ValueError(f"bad line range {self.line_start}-{self.line_end} for action {self.title!r}")

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for key in self.__dataclass_fields__:
            value = getattr(self, key)
            if key == "figures":
                value = [f.to_json() for f in value]
            elif key == "contacts":
                value = [c.to_json() for c in value]
            elif isinstance(value, tuple):
                value = list(value)
            record[key] = value
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Action:
        values = dict(record)
        values["figures"] = tuple(Figure(**f) for f in record.get("figures") or ())
        values["contacts"] = tuple(Contact.from_json(c) for c in record.get("contacts") or ())
        for key in ("partners", "communes", "mission_locale_sectors", "situations", "themes"):
            values[key] = tuple(record.get(key) or ())
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class Contact:
    """A person or an organisation a passage names, with the details the text gives it (``ingest.contacts``).

    Values are as written. ``name`` is None for an organisation's own details (switchboard, generic
    address) and for details whose owner the text does not establish; ``line`` is the 1-based line of
    the original file where the contact starts, when known; ``text`` holds the line(s) as written when
    the grouping is ambiguous (several people and shared details) or the details have no owner at all.
    """

    name: str | None = None
    role: str | None = None
    organisation: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    line: int | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "organisation": self.organisation,
            "emails": list(self.emails),
            "phones": list(self.phones),
            "urls": list(self.urls),
            "line": self.line,
            "text": self.text,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Contact:
        line = record.get("line")
        return cls(
            name=record.get("name"),
            role=record.get("role"),
            organisation=record.get("organisation"),
            emails=tuple(record.get("emails") or ()),
            phones=tuple(record.get("phones") or ()),
            urls=tuple(record.get("urls") or ()),
            line=None if line is None else int(line),
            text=record.get("text"),
        )
