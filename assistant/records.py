"""Answer records: what `ask` returns. `Answer.to_json()` is the `reperes ask --json` contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """A numbered source of the answer: `[n]` in the text points here."""

    n: int
    source: str
    title: str
    line_start: int
    line_end: int
    page: int | None
    quote: str  # verbatim text of the cited passage
    chunk_id: str = ""  # the cited chunk (internal: follow-ups find what an answer showed; not in the JSON)


@dataclass(frozen=True)
class Retrieved:
    """One retrieved passage, ranked best first."""

    source: str
    line_start: int
    line_end: int
    score: float
    title: str
    chunk_id: str = ""
    why: dict[str, Any] | None = None  # lexical rank, dense rank, fused score, eligibility verdict


# The sections of a person answer a piste belongs to: shown in full, named in the "Autres pistes" line, open
# under a condition to check ("Sous condition"), or ruled out for this person ("Ne conviennent pas").
FIT, MORE, CONDITION, EXCLUDED = "fit", "more", "condition", "excluded"
PISTE_SECTIONS = (FIT, MORE, CONDITION, EXCLUDED)


@dataclass(frozen=True)
class Piste:
    """One action of a person answer, in fields: what its numbered line says, for the chat's action cards.

    Every value is the one the answer's text shows (or would show in full, for a piste it names in one line):
    read from the cited passage ``n`` and its catalogue record, never composed anew.
    """

    n: int  # the citation the piste's facts come from
    section: str
    title: str
    acronym: str = ""
    porteur: str = ""
    public: str = ""
    offer: str = ""  # what the action does, its local detail and figures
    fits: tuple[str, ...] = ()  # why it fits this person (age, territory), as the passage states it
    check: tuple[str, ...] = ()  # what the counsellor must check (a condition, an unknown age or place)
    contact: str = ""  # the contact line as the answer writes it
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    action_id: str = ""  # the catalogue action (``reperes actions``), "" for a plan's passage

    def __post_init__(self) -> None:
        if self.section not in PISTE_SECTIONS:
            raise ValueError(f"unknown piste section {self.section!r}: use one of {', '.join(PISTE_SECTIONS)}")

    def to_json(self) -> dict[str, Any]:
        return {key: list(v) if isinstance(v := getattr(self, key), tuple) else v for key in self.__dataclass_fields__}


# What an answer is (the `kind` of `reperes ask --json`): an answer; a refusal (the documents do not say it);
# a request for what is missing (too vague: age, commune, need); out of scope (a subject outside youth
# insertion, or a young person outside both territories); an error. ``refused`` is true for all but "answer".
ANSWER, REFUSAL, CLARIFICATION, OUT_OF_SCOPE, ERROR = "answer", "refusal", "clarification", "out_of_scope", "error"
ANSWER_KINDS = (ANSWER, REFUSAL, CLARIFICATION, OUT_OF_SCOPE, ERROR)


@dataclass(frozen=True)
class Answer:
    """The answer to one question, with its citations and the passages retrieved for it."""

    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Retrieved, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)
    filters: dict[str, Any] | None = None  # what was understood from the question (age, communes, …)
    grounding_drops: tuple[tuple[str, str], ...] = ()  # (sentence, reason) removed as unsupported
    kind: str = ""  # one of ANSWER_KINDS; empty means ANSWER or REFUSAL as ``refused`` says
    pistes: tuple[Piste, ...] = ()  # a person answer's actions in fields (the chat's cards); () otherwise

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", REFUSAL if self.refused else ANSWER)
        if self.kind not in ANSWER_KINDS:
            raise ValueError(f"unknown answer kind {self.kind!r}: use one of {', '.join(ANSWER_KINDS)}")
        if (self.kind == ANSWER) == self.refused:
            raise ValueError(f"an answer of kind {self.kind!r} cannot have refused={self.refused}")

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                {
                    "n": c.n,
                    "source": c.source,
                    "title": c.title,
                    "line_start": c.line_start,
                    "line_end": c.line_end,
                    "page": c.page,
                    "quote": c.quote,
                }
                for c in self.citations
            ],
            "retrieved": [
                {
                    "source": r.source,
                    "line_start": r.line_start,
                    "line_end": r.line_end,
                    "score": round(r.score, 6),
                    "title": r.title,
                    **({"why": r.why} if r.why is not None else {}),
                }
                for r in self.retrieved
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "filters": self.filters,
            "grounding_drops": [{"sentence": sentence, "reason": reason} for sentence, reason in self.grounding_drops],
            "kind": self.kind,
            "pistes": [p.to_json() for p in self.pistes],
        }
