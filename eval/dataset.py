"""Question sets: load and validate JSONL files in the format of `eval/data/dev.jsonl`.

One object per line: ``{"id", "question", "answer", "must_include": [...], "sources": [{"file",
"line_start", "line_end"}], "type"}`` (``history``, the earlier questions of a conversation, optional).
A conversation line ``{"id", "turns": [{"question", "must_include", "sources", "must_not_include"}]}``
(format of `eval/data/dev-conversations.jsonl`) becomes one item per turn, with the earlier turns'
questions as history and the type "conversation". A malformed line stops loading with its line
number and what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNANSWERABLE = "unanswerable"


class DatasetError(ValueError):
    """A question set cannot be used; the message (French) names the file, the line and the fix."""


@dataclass(frozen=True)
class GoldSource:
    """Lines of a corpus file that hold the evidence (1-based, inclusive)."""

    file: str
    line_start: int
    line_end: int

    def overlaps(self, source: str, line_start: int, line_end: int) -> bool:
        return source == self.file and line_start <= self.line_end and self.line_start <= line_end


@dataclass(frozen=True)
class EvalItem:
    """One question of a set, with what a correct answer contains and where the evidence is."""

    id: str
    question: str
    answer: str = ""
    must_include: tuple[str, ...] = ()
    sources: tuple[GoldSource, ...] = ()
    type: str = "factual"
    history: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()  # what a follow-up makes wrong (conversation sets)

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE


def _item(record: Any, where: str) -> EvalItem:
    if not isinstance(record, dict):
        raise DatasetError(f"{where} : un objet JSON est attendu, pas {type(record).__name__}")
    for key in ("id", "question"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise DatasetError(f'{where} : le champ "{key}" doit être un texte non vide')
    must = record.get("must_include", [])
    if not isinstance(must, list) or not all(isinstance(m, str) for m in must):
        raise DatasetError(f'{where} : "must_include" doit être une liste de textes')
    history = record.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise DatasetError(f'{where} : "history" doit être une liste des questions précédentes (textes)')
    sources = []
    for n, src in enumerate(record.get("sources", []) or [], start=1):
        try:
            gold = GoldSource(str(src["file"]), int(src["line_start"]), int(src["line_end"]))
        except (KeyError, TypeError, ValueError):
            raise DatasetError(f'{where} : la source {n} doit avoir "file", "line_start" et "line_end" (entiers)') from None
        if gold.line_start < 1 or gold.line_end < gold.line_start:
            raise DatasetError(f"{where} : la source {n} a une plage de lignes invalide {gold.line_start}-{gold.line_end}")
        sources.append(gold)
    return EvalItem(
        id=record["id"],
        question=record["question"],
        answer=str(record.get("answer", "")),
        must_include=tuple(must),
        sources=tuple(sources),
        type=str(record.get("type", "factual")),
        history=tuple(history),
    )


def _conversation(record: dict[str, Any], where: str) -> list[EvalItem]:
    turns = record.get("turns")
    if not isinstance(turns, list) or not turns or not isinstance(record.get("id"), str):
        raise DatasetError(f'{where} : une conversation a un "id" et une liste "turns" non vide')
    items: list[EvalItem] = []
    for number, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict):
            raise DatasetError(f"{where} : le tour {number} doit être un objet JSON")
        forbidden = turn.get("must_not_include", [])
        if not isinstance(forbidden, list) or not all(isinstance(f, str) for f in forbidden):
            raise DatasetError(f'{where} : tour {number}, "must_not_include" doit être une liste de textes')
        base = _item(
            {**turn, "id": f"{record['id']}#{number}", "type": "conversation", "history": [t.question for t in items]}, where
        )
        items.append(EvalItem(**{**base.__dict__, "must_not_include": tuple(forbidden)}))
    return items


def jsonl_records(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, parsed object) for each non-blank line of a JSONL file; DatasetError names a bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"lecture impossible de {path} : {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, ligne {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where} : JSON invalide ({exc.msg}, colonne {exc.colno})") from None


def load_set(path: Path) -> list[EvalItem]:
    """Every item of a JSONL question set; raises DatasetError at the first malformed line."""
    items: list[EvalItem] = []
    seen: set[str] = set()
    for where, record in jsonl_records(path):
        for item in _conversation(record, where) if isinstance(record, dict) and "turns" in record else [_item(record, where)]:
            if item.id in seen:
                raise DatasetError(f'{where} : identifiant en double "{item.id}"')
            seen.add(item.id)
            items.append(item)
    if not items:
        raise DatasetError(f"{path} ne contient aucune question")
    return items
