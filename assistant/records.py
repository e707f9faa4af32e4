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
        }
