"""Why a passage was retrieved where it was: its ranks, fused score, verdict and what the question named.

``index.hybrid`` builds one ``Why`` per passage and derives the next step's with ``dataclasses.replace``;
a LangChain ``Document`` carries it as ``to_json()`` (metadata stays JSON: it is the ``why`` of
``reperes ask --json`` and of the API), and the answerer reads it back with ``from_json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.eligibility import UNKNOWN, Verdict


@dataclass(frozen=True)
class Why:
    """The ranks in the lexical and dense lists (None when absent from one), the fused score, and:

    - ``eligibility``: the person's verdict (None when eligibility was not used);
    - ``place``: the young person's commune, named in the passage;
    - ``mention``: the action or porteur the question names (or a follow-up is about);
    - ``referent``: the action a follow-up is about (the previous answer's first);
    - ``part``: a part of a named action that retrieval did not rank, added after the ranking.
    """

    lexical_rank: int | None
    dense_rank: int | None
    rrf: float
    eligibility: Verdict | None = None
    place: str | None = None
    mention: str | None = None
    referent: bool = False
    part: bool = False

    def __post_init__(self) -> None:
        for name, rank in (("lexical_rank", self.lexical_rank), ("dense_rank", self.dense_rank)):
            if rank is not None and rank < 1:
                raise ValueError(f"{name} must be >= 1 (ranks start at 1), got {rank!r}")

    @property
    def status(self) -> str:
        return self.eligibility.status if self.eligibility else UNKNOWN

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.eligibility.reasons if self.eligibility else ()

    def to_json(self) -> dict[str, Any]:
        """Both ranks and the score always; the other keys only when set (the shape clients already read)."""
        out: dict[str, Any] = {"lexical_rank": self.lexical_rank, "dense_rank": self.dense_rank, "rrf": self.rrf}
        if self.eligibility is not None:
            out["eligibility"] = self.eligibility.to_json()
        if self.place is not None:
            out["place"] = self.place
        if self.mention is not None:
            out["mention"] = self.mention
        if self.referent:
            out["referent"] = True
        if self.part:
            out["part"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Why:
        """The record ``to_json`` wrote, or the part of it a document carries (a retriever without fusion
        writes none; tests write only a verdict or a mention): missing ranks are None, a missing score 0."""
        data = data or {}
        verdict = data.get("eligibility")
        return cls(
            lexical_rank=data.get("lexical_rank"),
            dense_rank=data.get("dense_rank"),
            rrf=float(data.get("rrf") or 0.0),
            eligibility=Verdict.from_json(verdict) if isinstance(verdict, Mapping) else None,
            place=data.get("place"),
            mention=data.get("mention"),
            referent=bool(data.get("referent")),
            part=bool(data.get("part")),
        )
