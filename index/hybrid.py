"""Hybrid retrieval: BM25 and dense lists fused by reciprocal rank, then eligibility, mentions, diversity.

``fuse`` composes four steps, each a function: ``fuse_ranks`` (3), ``rescore`` (4, 5), ``pin`` (6) and
``collapse`` (7).

1. Query analysis (``index.query``): the person (age, communes, QPV), situations and needs.
2. BM25 on the question plus the documents' words for its situations and needs; dense e5 search on
   the question as asked; for a person described with a need, BM25 on the documents' words for the need
   alone, over the plans' paragraphs and table rows (``need_query``). ``candidates`` from each.
3. Reciprocal rank fusion: ``w_lex / (rrf_k + rank_lex) + w_dense / (rrf_k + rank_dense)`` (``+ w_need /
   (rrf_k + rank_need)``).
4. Eligibility (optional): an action that excludes the person is multiplied by ``excluded_factor``
   (it goes down, its reason recorded, and stays available for "ne conviennent pas"); one that states
   nothing is multiplied by ``unknown_factor`` when the question describes a person; each matched
   criterion adds ``match_boost`` (relative).
5. A passage that names the person's commune (among at most ``max_places``) adds ``place_boost``; an
   action whose title or public names the person's quartier adds ``quartier_boost``.
   An exact mention of an action's title or porteur in the question ("Connect'Emploi", "Unis-Cité")
   adds ``mention_boost`` (relative).
6. A follow-up without a subject of its own ("tu as un contact ?") is about the action the previous
   answer showed first: the chain passes it as ``referents`` and it comes first, as if named.
7. Diversity: chunks of the same action (or the same table row) collapse into their best passage,
   except for an action the question names (its parts hold the details asked for).

Every step carries a ``Why`` (``index.why``): lexical rank, dense rank, fused score, verdict and reasons,
what the question named; every returned document carries it as JSON in ``metadata["why"]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from pydantic import ConfigDict, Field, SkipValidation, model_validator

from index.documents import hit_to_document
from index.eligibility import EXCLUDED, MATCH, UNKNOWN, judge
from index.fusion import FusionParams
from index.intent import find_entities, is_institution, plans_asked, value_asked
from index.lexical import LexicalSearch, lexical_index
from index.query import QueryAnalysis, analyse
from index.records import Records
from index.store import Hit
from index.vectorstore import dense_hits, vectorstore_of
from index.why import Why
from ingest.quartiers import load_quartiers
from ingest.records import Chunk
from ingest.text import fold_words
from ingest.vocabulary import load_concepts


@lru_cache(maxsize=8192)
def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold_words(text))


def mentioned(chunk: Chunk, question: str) -> str | None:
    """The action title or porteur of ``chunk`` named in ``question`` (punctuation, case, accents ignored)."""
    squashed = _squash(question)
    meta = chunk.metadata
    for name in (meta.get("action"), chunk.title if chunk.kind in {"action_card", "action"} else None, meta.get("porteur")):
        if not name or (name == meta.get("porteur") and is_institution(name)):
            # "la Métropole européenne de Lille" runs dozens of actions: naming it names none of them.
            continue
        if any(key in squashed for key in _name_keys(name)):
            return name
    return None


@lru_cache(maxsize=8192)
def _name_keys(name: str) -> tuple[str, ...]:
    """The squashed forms of a name that name it: the whole name, or one of its parts (« Mon Avenir J'Y Crois »
    (MAJ'YC) is named by "MAJ'YC"); five letters at least. Read once per name, not per passage and question."""
    keys = (_squash(part) for part in [name, *re.split(r"[«»():–]", name)])
    return tuple(key for key in keys if len(key) >= 5)


def _resident(analysis: QueryAnalysis) -> bool:
    """True when the question's commune is where a described young person lives (an age or situation too)."""
    described = analysis.age is not None or analysis.age_min is not None or analysis.age_max is not None
    return bool(analysis.communes) and (described or bool(analysis.situations) or analysis.qpv is not None)


@lru_cache(maxsize=4096)
def _quartiers_named(title: str, public: str) -> tuple[str, ...]:
    """The quartiers of the two territories an action's title or public names (ingest.quartiers)."""
    return tuple(m.quartier.name for m in load_quartiers().mentions(f"{title}. {public}"))


def group_key(chunk: Chunk) -> str:
    """Chunks that present the same action (or the same table row) share a key."""
    if chunk.kind == "action_part" and chunk.metadata.get("action_id"):
        return f"action:{chunk.metadata['action_id']}"  # the catalogue's action (ingest.catalogue)
    if chunk.kind == "action_part" and chunk.metadata.get("action"):
        return f"{chunk.source}#action:{chunk.metadata['action']}"
    if chunk.kind == "table_row":
        return f"{chunk.source}#row:{chunk.line_start}"
    return chunk.id


Scored = tuple[Chunk, float, Why]  # (chunk, score, why)


def fuse_ranks(
    lexical: list[Hit], dense: list[Hit], params: FusionParams, extra: tuple[Chunk, ...] = (), need: list[Hit] | None = None
) -> list[Scored]:
    """Reciprocal rank fusion of the lists: ``w_lex / (rrf_k + rank_lex) + w_dense / (rrf_k + rank_dense)``, plus
    ``w_need / (rrf_k + rank_need)`` for the ``need`` list (BM25 on the words of the person's needs alone).

    One entry per chunk, in the order first seen (lexical list, dense list, need list, then ``extra`` chunks
    that no list holds, scored 0); ``why`` holds the lexical and dense ranks (None when absent) and the fused
    score.
    """
    chunks: dict[str, Chunk] = {}
    ranks: dict[str, dict[str, int]] = {}
    for name, hits in (("lexical_rank", lexical), ("dense_rank", dense), ("need_rank", need or [])):
        for hit in hits:
            chunks[hit.chunk.id] = hit.chunk
            ranks.setdefault(hit.chunk.id, {})[name] = hit.rank
    for chunk in extra:
        chunks.setdefault(chunk.id, chunk)
        ranks.setdefault(chunk.id, {})
    fused: list[Scored] = []
    for cid, chunk in chunks.items():
        r = ranks[cid]
        rrf = sum(
            weight / (params.rrf_k + r[name])
            for name, weight in (
                ("lexical_rank", params.lexical_weight),
                ("dense_rank", params.dense_weight),
                ("need_rank", params.need_weight),
            )
            if name in r
        )
        fused.append((chunk, rrf, Why(r.get("lexical_rank"), r.get("dense_rank"), round(rrf, 6))))
    return fused


def rescore(
    question: str, analysis: QueryAnalysis, fused: list[Scored], params: FusionParams, use_eligibility: bool
) -> list[Scored]:
    """Each fused score times its factors, recorded in ``why``: the person's eligibility (with
    ``use_eligibility``), the young person's commune named in the passage, an action or porteur named in
    the question. Same order as ``fused``."""
    scored: list[Scored] = []
    # What the question says is read once, not for each of the hundred passages.
    resident, has_person = _resident(analysis), analysis.has_person
    places_home = {p.name for p in analysis.places if p.kind == "quartier" and p.residence} if resident else set()
    verdict_of = judge(analysis) if use_eligibility else None
    for chunk, rrf, why in fused:
        factor = 1.0
        changes: dict[str, Any] = {}  # of ``why``, made in one ``replace``
        if verdict_of is not None:
            verdict = verdict_of(chunk.metadata)
            if verdict.status == EXCLUDED:
                factor *= params.excluded_factor
            elif verdict.status == UNKNOWN and has_person:
                factor *= params.unknown_factor
            elif verdict.status == MATCH:
                factor *= 1.0 + params.match_boost * verdict.matched
            changes["eligibility"] = verdict
        # Only for a described person ("16 ans d'Anzin"): in "la Mission locale de Lille" the commune
        # names an organisation, not where the young person lives.
        places = chunk.metadata.get("places") or [] if resident else []
        local = next((c for c in analysis.communes if c in places), None) if len(places) <= params.max_places else None
        if local and params.place_boost:
            factor *= 1.0 + params.place_boost
            changes["place"] = local
        # The young person's quartier named in the action's title or public ("CONCIERGERIE DE QUARTIER À
        # MOULINS", "jeunes du quartier Moulins"): an action made for where they live.
        named_here = _quartiers_named(chunk.title, str(chunk.metadata.get("public") or "")) if places_home else ()
        home = next((q for q in named_here if q in places_home), None)
        if home and params.quartier_boost:
            factor *= 1.0 + params.quartier_boost
            changes["place"] = home
        named = mentioned(chunk, question)
        if named:
            factor *= 1.0 + params.mention_boost
            changes["mention"] = named
        scored.append((chunk, rrf * factor, replace(why, **changes) if changes else why))
    return scored


def pin(scored: list[Scored], referents: tuple[Chunk, ...], params: FusionParams) -> list[Scored]:
    """Best first, with the ``referents`` (what a follow-up is about) above everything else, in the order
    given, marked as named (``why.mention``, ``why.referent``)."""
    if referents:
        top = max(score for _, score, _ in scored) * (1.0 + params.mention_boost)
        order = {r.id: k for k, r in enumerate(referents)}
        pinned: list[Scored] = []
        for chunk, score, why in scored:
            if chunk.id in order:
                why = replace(why, mention=why.mention or chunk.metadata.get("action") or chunk.title, referent=True)
                score = top * (1 - 0.01 * order[chunk.id])
            pinned.append((chunk, score, why))
        scored = pinned
    return sorted(scored, key=lambda item: -item[1])


def collapse(ranked: list[Scored], analysis: QueryAnalysis) -> list[Scored]:
    """Diversity: the chunks of one action (or one table row) collapse into their best-ranked passage,
    except for an action the question names (its parts hold the details asked for). For a described
    person, an action is shown by its part that says whom it is for (its public line), at its best
    part's rank: that is what an eligibility answer lists."""
    presenting = {group_key(c): (c, why) for c, _, why in reversed(ranked) if analysis.has_person and c.metadata.get("public")}
    seen: set[str] = set()
    collapsed: list[Scored] = []
    for chunk, score, why in ranked:
        key = group_key(chunk)
        # An action the question names keeps all its parts: the question is about its details.
        if key in seen and why.mention is None:
            continue
        seen.add(key)
        if why.mention is None and chunk.kind == "action_part" and key in presenting:
            chunk, why = presenting[key]
        collapsed.append((chunk, score, why))
    return collapsed


def fuse(
    question: str,
    analysis: QueryAnalysis,
    lexical: list[Hit],
    dense: list[Hit],
    params: FusionParams,
    use_eligibility: bool,
    referents: tuple[Chunk, ...] = (),
    need: list[Hit] | None = None,
) -> list[Scored]:
    """Fused, re-scored, pinned, collapsed results: (chunk, score, why), best first.

    ``referents`` are what a follow-up ("tu as un contact ?") is about: the action the previous answer
    showed first. They come first, as if the question named them, with their verdict for the person.
    """
    fused = fuse_ranks(lexical, dense, params, extra=referents, need=need)
    scored = rescore(question, analysis, fused, params, use_eligibility)
    return collapse(pin(scored, referents, params), analysis)


def with_named(
    question: str,
    analysis: QueryAnalysis,
    ranked: list[Scored],
    parts: dict[str, tuple[Chunk, ...]],
    params: FusionParams,
    use_eligibility: bool,
) -> list[Scored]:
    """The first chunk of each action in ``parts`` that ``ranked`` does not show at all, then ``ranked``: the
    question names it (with a typo, "fabrik ta ville", or in words retrieval missed), so it is what the
    question is about, with the person's verdict on it, at the top score."""
    shown = {a for c, _, _ in ranked for a in (c.metadata.get("action_ids") or [c.metadata.get("action_id")]) if a}
    top = max((score for _, score, _ in ranked), default=0.0)
    missing = [(chunks[0], top, Why(None, None, 0.0)) for a, chunks in parts.items() if a not in shown and chunks]
    scored = rescore(question, analysis, missing, params, use_eligibility)
    return [(c, top, replace(why, mention=why.mention or c.metadata.get("action") or c.title)) for c, _, why in scored] + ranked


def with_parts(ranked: list[Scored], parts: dict[str, tuple[Chunk, ...]], named: bool = True) -> list[Scored]:
    """``ranked`` followed by the other chunks of each action in ``parts`` that ``ranked`` shows: the
    question names the action, and the detail it asks for (a figure in the "Indicateurs" column of a long
    table row) may sit in a part retrieval did not rank. They come last, so the ranking stays as it was.
    ``named``: the question names the action (the parts carry its name as a mention); else they are only parts."""
    present = {c.id for c, _, _ in ranked}
    extra: list[Scored] = []
    done: set[str] = set()
    for chunk, score, why in ranked:
        for action_id in chunk.metadata.get("action_ids") or [chunk.metadata.get("action_id")]:
            if action_id in parts and action_id not in done:
                done.add(action_id)
                name = why.mention or chunk.metadata.get("action") or chunk.title
                more = [c for c in parts[action_id] if c.id not in present]
                present |= {c.id for c in more}
                extra += [(c, score, replace(why, mention=name if named else why.mention, part=True)) for c in more]
    return ranked + extra


def with_row_parts(ranked: list[Scored], chunks: Sequence[Chunk]) -> list[Scored]:
    """``ranked`` followed by the other chunks of each table row it shows (a long row is cut into several
    chunks, and ``collapse`` keeps its best ranked one), at that row's score, marked as parts."""
    rows = {group_key(c): (score, why) for c, score, why in reversed(ranked) if c.kind == "table_row"}
    present = {c.id for c, _, _ in ranked}
    extra = [
        (c, rows[key][0], replace(rows[key][1], part=True))
        for c in chunks
        if c.kind == "table_row" and c.id not in present and (key := group_key(c)) in rows
    ]
    return ranked + extra


_PLAN_KINDS = frozenset({"paragraph", "table_row"})


def need_query(analysis: QueryAnalysis) -> str:
    """The documents' words for the needs of a person described ("", without a person or a need)."""
    if not analysis.has_person or not analysis.needs:
        return ""
    words = [e for c in load_concepts() if c.key in analysis.needs for e in c.expansions]
    return " ".join(dict.fromkeys(words))


class HybridRetriever(BaseRetriever):
    """BM25 + dense e5, fused by reciprocal rank; with ``use_eligibility``, the person's eligibility too.

    Works over any (dense ``VectorStore``, ``LexicalSearch``, ``Records``) triple: ``store`` holds the records,
    ``dense`` defaults to the store's own vector store and ``lexical`` to BM25 over the store's chunks."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: SkipValidation[Records]
    embeddings: Embeddings
    dense: SkipValidation[VectorStore | None] = None
    lexical: SkipValidation[LexicalSearch | None] = None
    k: int = Field(default=10, ge=1)
    params: FusionParams = FusionParams()
    use_eligibility: bool = True

    @model_validator(mode="after")
    def _default_dense(self) -> HybridRetriever:
        if self.dense is None:
            self.dense = vectorstore_of(self.store, self.embeddings)
        return self

    def _lexical(self) -> LexicalSearch:
        return self.lexical or lexical_index(self.store)

    def _parts_of(self, chunks: Sequence[Chunk]) -> dict[str, tuple[Chunk, ...]]:
        """The parts of the actions ``chunks`` belong to, for those in more than one chunk."""
        by_action = self.store.parts_by_action
        ids = {str(c.metadata.get("action_id")) for c in chunks if c.metadata.get("action_id")}
        return {a: by_action[a] for a in ids if len(by_action.get(a, ())) > 1}

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        analysis: QueryAnalysis = kwargs.get("analysis") or analyse(query)
        n = max(self.params.candidates, k)
        lexical = self._lexical().search(analysis.lexical_query, n)
        # An English question is embedded with the documents' French words for it too ("priority neighbourhoods":
        # "quartiers prioritaires"): the passages are French, and the bundled small model matches across
        # languages less well than within one.
        assert self.dense is not None  # set at construction
        dense = dense_hits(self.dense, self.store, self.embeddings.embed_query(" ".join([query, *analysis.translations])), n)
        wanted = dict.fromkeys(kwargs.get("referents") or ())  # in the previous answer's order
        referents = tuple(self.store.by_id[i] for i in wanted if i in self.store.by_id)
        # A person described with a need ("pas d'ordi, perdu avec les démarches en ligne"): the question's own
        # words describe them at length, and the documents' words for the need weigh little among them; BM25 on
        # those words alone is a third list, so that a plan's measure on the need ranks with the actions.
        need_words = need_query(analysis)
        need = self._lexical().search(need_words, n) if need_words and self.params.need_weight else None
        if need:
            # Only the plans' passages (a paragraph, a table row): actions are ranked by who they are for.
            plans = [h.chunk for h in need if h.chunk.kind in _PLAN_KINDS]
            need = [Hit(c, 0.0, r) for r, c in enumerate(plans, 1)]
        ranked = fuse(query, analysis, lexical, dense, self.params, self.use_eligibility, referents, need=need)[:k]
        # The actions the question names (index.intent: titles, acronyms, typos) bring all their parts.
        named = {e.action_id for e in find_entities(query, list(self.store.actions_by_id.values())) if e.action_id}
        if named:
            by_action = self.store.parts_by_action
            in_store = {a: by_action[a] for a in named if a in by_action}
            ranked = with_named(query, analysis, ranked, in_store, self.params, self.use_eligibility)
            ranked = with_parts(ranked, {a: by_action[a] for a in named if len(by_action.get(a, ())) > 1})
        elif ranked and value_asked(query):
            # A value asked of the subject the question describes without naming it ("les épiceries solidaires
            # étudiantes, moins chères de combien ?"): the top action's other parts may hold it (a slide's
            # figure in the next chunk); they come last, as for a named action.
            ranked = with_parts(ranked, self._parts_of([ranked[0][0]]), named=False)
        elif ranked and plans_asked(query):
            # Asked what the plans provide: a table row is cut into several chunks and only its best ranked one is
            # kept (collapse), yet the measure asked may sit in another of its cells ("EYES : développer les
            # capacités entrepreneuriales des NEETs" beside the row's means). The rows' other parts come last.
            ranked = with_row_parts(ranked, self.store.chunks)
        if referents:
            # A follow-up about the previous answer's action ("c'est où ?", "ça dure combien de temps ?") asks
            # it of the whole action: its other parts come too, after the ranking.
            ranked = with_parts(ranked, self._parts_of(referents))
        docs = []
        for rank, (chunk, score, why) in enumerate(ranked, 1):
            doc = hit_to_document(Hit(chunk, score, rank))
            doc.metadata.pop("dense_rank", None)
            doc.metadata["why"] = why.to_json()  # metadata stays JSON (the API's and `ask --json`'s "why")
            docs.append(doc)
        return docs
