"""Question sets: load and validate JSONL files in the format of `eval/data/dev.jsonl`.

One object per line: ``{"id", "question", "answer", "must_include": [...], "sources": [{"file",
"line_start", "line_end"}], "type"}`` (``history``, the earlier questions of a conversation, optional).
Optional too: ``expect``, the behaviour a correct answer shows (``answer``; ``refuse``: the documents do
not say it; ``clarify``: too vague, ask for age, commune, need; ``out_of_scope``: a place or subject
outside the assistant's; ``error_message``: not a question at all), by default ``refuse`` for the type
"unanswerable" and ``answer`` otherwise; ``must_not_include``, what proves a confusion or a leak; and
``note``, the reviewer's explanation. A line that declares ``expect`` may have an empty question
(`eval/data/dev-adversarial.jsonl`: handling it is the test); elsewhere a question is never empty.
An item without ``type`` is "factual", or "adversarial" in a set whose file name says "adversarial".

A conversation line ``{"id", "turns": [{"question", "must_include", "sources", "must_not_include"}]}``
(format of `eval/data/dev-conversations.jsonl`) becomes one item per turn, with the earlier turns'
questions as history and the type "conversation". A malformed line stops loading with its line
number and what to fix.

Every set is split once and for all into a *tune* half and a *check* half by a hash of the id
(``split_of``; a conversation's turns follow the conversation's id). Rules, phrase lists, examples
and parameters are written from the tune half only (``tune_items``); the check half is read by
``reperes eval`` alone, so its scores say how the system does on questions nobody tuned it to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ingest.text import fold_spaces

UNANSWERABLE = "unanswerable"
CONVERSATION = "conversation"
ADVERSARIAL = "adversarial"
# What a correct answer does; the answer kind (``Answer.kind``) each expectation asks for is in eval.metrics.
EXPECTS = ("answer", "refuse", "clarify", "out_of_scope", "error_message")
Half = Literal["tune", "check"]
TUNE: Half = "tune"
CHECK: Half = "check"
HALVES: tuple[Half, Half] = (CHECK, TUNE)  # the order of every report: the check half first


def split_of(item_id: str) -> Half:
    """The half an id belongs to, forever: "tune" when the first byte of its SHA-256 is even, else "check".

    A pure function of the id: adding, removing or reordering other items never moves an item.
    """
    return TUNE if hashlib.sha256(item_id.encode("utf-8")).digest()[0] % 2 == 0 else CHECK


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
    must_not_include: tuple[str, ...] = ()  # what proves a confusion (a follow-up made it wrong) or a leak
    expect: str = ""  # one of EXPECTS; empty: "refuse" for an unanswerable question, else "answer"
    note: str = ""
    conversation: str = ""  # the conversation's id, for the turns of one

    def __post_init__(self) -> None:
        if not self.expect:
            object.__setattr__(self, "expect", "refuse" if self.type == UNANSWERABLE else "answer")
        if self.expect not in EXPECTS:
            raise ValueError(f"unknown expect {self.expect!r}: use one of {', '.join(EXPECTS)}")

    @property
    def answerable(self) -> bool:
        """The documents answer it: coverage, retrieval and false refusals are measured on it."""
        return self.expect == "answer"

    @property
    def split(self) -> Half:
        """The item's half; the turns of a conversation share their conversation's."""
        return split_of(self.conversation or self.id)


def _texts(record: dict[str, Any], key: str, where: str, what: str) -> tuple[str, ...]:
    value = record.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f'{where} : "{key}" doit être une liste {what}')
    return tuple(value)


def _item(record: Any, where: str, default_type: str = "factual") -> EvalItem:
    if not isinstance(record, dict):
        raise DatasetError(f"{where} : un objet JSON est attendu, pas {type(record).__name__}")
    if not isinstance(record.get("id"), str) or not record["id"].strip():
        raise DatasetError(f'{where} : le champ "id" doit être un texte non vide')
    expect = record.get("expect")
    if expect is not None and expect not in EXPECTS:
        raise DatasetError(f'{where} : "expect" vaut {expect!r} ; valeurs possibles : {", ".join(EXPECTS)}')
    question = record.get("question")
    if not isinstance(question, str):
        raise DatasetError(f'{where} : le champ "question" doit être un texte')
    if not question.strip() and expect is None:
        raise DatasetError(
            f'{where} : le champ "question" doit être un texte non vide (une question vide n\'est admise '
            'que si la ligne déclare "expect", comme dans dev-adversarial.jsonl)'
        )
    must = _texts(record, "must_include", where, "de textes")
    forbidden = _texts(record, "must_not_include", where, "de textes")
    history = _texts(record, "history", where, "des questions précédentes (textes)")
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
        question=question,
        answer=str(record.get("answer", "")),
        must_include=must,
        sources=tuple(sources),
        type=str(record.get("type", default_type)),
        history=history,
        must_not_include=forbidden,
        expect=expect or "",
        note=str(record.get("note", "") or ""),
        conversation=str(record.get("conversation", "")),
    )


def _conversation(record: dict[str, Any], where: str) -> list[EvalItem]:
    turns = record.get("turns")
    if not isinstance(turns, list) or not turns or not isinstance(record.get("id"), str):
        raise DatasetError(f'{where} : une conversation a un "id" et une liste "turns" non vide')
    items: list[EvalItem] = []
    for number, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict):
            raise DatasetError(f"{where} : le tour {number} doit être un objet JSON")
        turn_where = f"{where}, tour {number}"
        # A turn whose only must-include is "non précisé" asks for what the documents do not say: a correct
        # answer is a refusal (turns declare no "expect"; left as "answer", a right refusal would count as
        # a false one).
        must = turn.get("must_include")
        refuses = isinstance(must, list) and bool(must) and all(is_refusal_marker(f) for f in must)
        items.append(
            _item(
                {
                    **({"expect": "refuse"} if refuses and "expect" not in turn else {}),
                    **turn,
                    "id": f"{record['id']}#{number}",
                    "type": CONVERSATION,
                    "history": [t.question for t in items],
                    "conversation": record["id"],
                },
                turn_where,
            )
        )
    return items


def is_refusal_marker(fact: object) -> bool:
    """ "non précisé" (or its agreed forms): the must-include fact a refusal shows, not a text to find."""
    return isinstance(fact, str) and fold_spaces(fact) in {"non precise", "non precisee", "non precises"}


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
    """Every item of a JSONL question set, both halves; raises DatasetError at the first malformed line.

    Only `reperes eval` reads the check half: code that tunes anything uses ``tune_items``.
    """
    default_type = ADVERSARIAL if ADVERSARIAL in Path(path).name else "factual"
    items: list[EvalItem] = []
    seen: set[str] = set()
    for where, record in jsonl_records(path):
        is_conversation = isinstance(record, dict) and "turns" in record
        for item in _conversation(record, where) if is_conversation else [_item(record, where, default_type)]:
            if item.id in seen:
                raise DatasetError(f'{where} : identifiant en double "{item.id}"')
            seen.add(item.id)
            items.append(item)
    if not items:
        raise DatasetError(f"{path} ne contient aucune question")
    return items


def tune_items(path: Path) -> list[EvalItem]:
    """The tune half of a set: the only items tuning code (eval/tune.py, rules, phrase lists) may read."""
    return [item for item in load_set(path) if item.split == TUNE]


def select_half(items: list[EvalItem], split: str) -> list[EvalItem]:
    """The items of one half ("tune" or "check"), or all of them ("both")."""
    if split not in (TUNE, CHECK, "both"):
        raise ValueError(f"unknown split {split!r}: tune, check or both")
    return items if split == "both" else [item for item in items if item.split == split]


def set_kind(items: list[EvalItem]) -> str:
    """Which gate a set answers to: "conversations" (every item a turn), "adversarial" (hostile inputs),
    "expect" (questions to clarify, out of scope or with what must not appear: dev-broad.jsonl) or "dev"
    (answers and refusals only: dev.jsonl)."""
    if items and all(item.type == CONVERSATION for item in items):
        return "conversations"
    if any(item.type == ADVERSARIAL for item in items):
        return ADVERSARIAL
    if any(item.expect not in ("answer", "refuse") or item.must_not_include for item in items):
        return "expect"
    return "dev"
