"""Hybrid retrieval: BM25 and dense lists fused by reciprocal rank, then eligibility, mentions, diversity.

1. Query analysis (``index.query``): the person (age, communes, QPV), situations and needs.
2. BM25 on the question plus the documents' words for its situations and needs; dense e5 search on
   the question as asked. ``candidates`` from each.
3. Reciprocal rank fusion: ``w_lex / (rrf_k + rank_lex) + w_dense / (rrf_k + rank_dense)``.
4. Eligibility (optional): an action that excludes the person is multiplied by ``excluded_factor``
   (it goes down, its reason recorded, and stays available for "ne conviennent pas"); one that states
   nothing is multiplied by ``unknown_factor`` when the question describes a person; each matched
   criterion adds ``match_boost`` (relative).
5. A passage that names the person's commune (among at most ``max_places``) adds ``place_boost``.
   An exact mention of an action's title or porteur in the question ("Connect'Emploi", "Unis-Cité")
   adds ``mention_boost`` (relative).
6. A follow-up without a subject of its own ("tu as un contact ?") is about the action the previous
   answer showed first: the chain passes it as ``referents`` and it comes first, as if named.
7. Diversity: chunks of the same action (or the same table row) collapse into their best passage,
   except for an action the question names (its parts hold the details asked for).

Every returned document carries ``why``: lexical rank, dense rank, fused score, verdict and reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from index.eligibility import EXCLUDED, MATCH, UNKNOWN, eligibility
from index.lexical import lexical_index
from index.query import QueryAnalysis, analyse, fold
from index.retriever import hit_to_document
from index.store import FaissStore, Hit
from ingest.records import Chunk


@dataclass(frozen=True)
class FusionParams:
    """Fusion and eligibility parameters (from the settings; tuned on the dev set)."""

    # The values tuned on the dev set, as in assistant/settings.py (a test keeps the two equal).
    rrf_k: int = 5
    lexical_weight: float = 1.0
    dense_weight: float = 0.2
    candidates: int = 60
    excluded_factor: float = 0.6
    unknown_factor: float = 0.85
    match_boost: float = 0.15
    mention_boost: float = 1.0
    place_boost: float = 0.3
    max_places: int = 4  # a passage naming more communes than this is a list, not local to one

    def __post_init__(self) -> None:
        if self.rrf_k < 1 or self.candidates < 1:
            raise ValueError(f"rrf_k ({self.rrf_k}) and candidates ({self.candidates}) must be >= 1")
        if not 0.0 <= self.excluded_factor <= 1.0 or not 0.0 <= self.unknown_factor <= 1.0:
            raise ValueError("excluded_factor and unknown_factor must be between 0 and 1")


@lru_cache(maxsize=8192)
def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def mentioned(chunk: Chunk, question: str) -> str | None:
    """The action title or porteur of ``chunk`` named in ``question`` (punctuation, case, accents ignored)."""
    squashed = _squash(question)
    meta = chunk.metadata
    for name in (meta.get("action"), chunk.title if chunk.kind in {"action_card", "action"} else None, meta.get("porteur")):
        if not name:
            continue
        # The whole name, or one of its parts: « Mon Avenir J'Y Crois » (MAJ'YC) is named by "MAJ'YC".
        for part in [name, *re.split(r"[«»():–]", name)]:
            key = _squash(part)
            if len(key) >= 5 and key in squashed:
                return name
    return None


def _resident(analysis: QueryAnalysis) -> bool:
    """True when the question's commune is where a described young person lives (an age or situation too)."""
    described = analysis.age is not None or analysis.age_min is not None or analysis.age_max is not None
    return bool(analysis.communes) and (described or bool(analysis.situations) or analysis.qpv is not None)


def group_key(chunk: Chunk) -> str:
    """Chunks that present the same action (or the same table row) share a key."""
    if chunk.kind == "action_part" and chunk.metadata.get("action_id"):
        return f"action:{chunk.metadata['action_id']}"  # the catalogue's action (ingest.catalogue)
    if chunk.kind == "action_part" and chunk.metadata.get("action"):
        return f"{chunk.source}#action:{chunk.metadata['action']}"
    if chunk.kind == "table_row":
        return f"{chunk.source}#row:{chunk.line_start}"
    return chunk.id


def fuse(
    question: str,
    analysis: QueryAnalysis,
    lexical: list[Hit],
    dense: list[Hit],
    params: FusionParams,
    use_eligibility: bool,
    referents: tuple[Chunk, ...] = (),
) -> list[tuple[Chunk, float, dict[str, Any]]]:
    """Fused, re-scored, collapsed results: (chunk, score, why), best first.

    ``referents`` are what a follow-up ("tu as un contact ?") is about: the action the previous answer
    showed first. They come first, as if the question named them, with their verdict for the person.
    """
    chunks: dict[str, Chunk] = {}
    ranks: dict[str, dict[str, int]] = {}
    for name, hits in (("lexical_rank", lexical), ("dense_rank", dense)):
        for hit in hits:
            chunks[hit.chunk.id] = hit.chunk
            ranks.setdefault(hit.chunk.id, {})[name] = hit.rank
    for chunk in referents:
        chunks.setdefault(chunk.id, chunk)
        ranks.setdefault(chunk.id, {})
    scored: list[tuple[Chunk, float, dict[str, Any]]] = []
    for cid, chunk in chunks.items():
        r = ranks[cid]
        rrf = sum(
            weight / (params.rrf_k + r[name])
            for name, weight in (("lexical_rank", params.lexical_weight), ("dense_rank", params.dense_weight))
            if name in r
        )
        why: dict[str, Any] = {"lexical_rank": r.get("lexical_rank"), "dense_rank": r.get("dense_rank"), "rrf": round(rrf, 6)}
        factor = 1.0
        if use_eligibility:
            verdict = eligibility(chunk.metadata, analysis)
            if verdict.status == EXCLUDED:
                factor *= params.excluded_factor
            elif verdict.status == UNKNOWN and analysis.has_person:
                factor *= params.unknown_factor
            elif verdict.status == MATCH:
                factor *= 1.0 + params.match_boost * verdict.matched
            why["eligibility"] = verdict.to_json()
        # Only for a described person ("16 ans d'Anzin"): in "la Mission locale de Lille" the commune
        # names an organisation, not where the young person lives.
        places = chunk.metadata.get("places") or [] if _resident(analysis) else []
        local = next((c for c in analysis.communes if c in places), None) if len(places) <= params.max_places else None
        if local and params.place_boost:
            factor *= 1.0 + params.place_boost
            why["place"] = local
        named = mentioned(chunk, question)
        if named:
            factor *= 1.0 + params.mention_boost
            why["mention"] = named
        if any(chunk.id == r.id for r in referents):
            why["mention"], why["referent"] = why.get("mention") or chunk.metadata.get("action") or chunk.title, True
        scored.append((chunk, rrf * factor, why))
    if referents:
        # Above everything else, in the order given (the previous answer's order).
        top = max(score for _, score, _ in scored) * (1.0 + params.mention_boost)
        order = {r.id: k for k, r in enumerate(referents)}
        scored = [(c, top * (1 - 0.01 * order[c.id]) if why.get("referent") else score, why) for c, score, why in scored]
    scored.sort(key=lambda item: -item[1])
    # For a described person, an action is shown by its part that says whom it is for (its public
    # line), at its best part's rank: that is what an eligibility answer lists.
    presenting = {group_key(c): (c, why) for c, _, why in reversed(scored) if analysis.has_person and c.metadata.get("public")}
    seen: set[str] = set()
    collapsed = []
    for chunk, score, why in scored:
        key = group_key(chunk)
        # An action the question names keeps all its parts: the question is about its details.
        if key in seen and "mention" not in why:
            continue
        seen.add(key)
        if "mention" not in why and chunk.kind == "action_part" and key in presenting:
            chunk, why = presenting[key]
        collapsed.append((chunk, score, why))
    return collapsed


class HybridRetriever(BaseRetriever):
    """BM25 + dense e5, fused by reciprocal rank; with ``use_eligibility``, the person's eligibility too."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: FaissStore
    embeddings: Embeddings
    k: int = Field(default=10, ge=1)
    params: FusionParams = FusionParams()
    use_eligibility: bool = True

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        analysis: QueryAnalysis = kwargs.get("analysis") or analyse(query)
        n = max(self.params.candidates, k)
        lexical = lexical_index(self.store).search(analysis.lexical_query, n)
        dense = self.store.search(self.embeddings.embed_query(query), n)
        wanted = dict.fromkeys(kwargs.get("referents") or ())  # in the previous answer's order
        referents = tuple(self.store.by_id[i] for i in wanted if i in self.store.by_id)
        docs = []
        for rank, (chunk, score, why) in enumerate(
            fuse(query, analysis, lexical, dense, self.params, self.use_eligibility, referents)[:k], 1
        ):
            doc = hit_to_document(Hit(chunk, score, rank))
            doc.metadata.pop("dense_rank", None)
            doc.metadata["why"] = why
            docs.append(doc)
        return docs
