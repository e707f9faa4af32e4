"""The retrieval modes by name (settings ``REPERES_RETRIEVAL``, ``reperes eval --compare``) and their retrievers."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore

from index.hybrid import FusionParams, HybridRetriever
from index.lexical import BM25Retriever, LexicalSearch
from index.records import Records
from index.retriever import DenseRetriever

RETRIEVAL_MODES = ("dense", "bm25", "hybrid", "hybrid+eligibility")


def make_retriever(
    mode: str,
    store: Records,
    embeddings: Embeddings,
    k: int,
    params: FusionParams | None = None,
    dense: VectorStore | None = None,
    lexical: LexicalSearch | None = None,
) -> BaseRetriever:
    """The retriever for a mode name over ``store``'s records; ``params`` are the fusion parameters; ``dense`` and
    ``lexical`` default to the store's own vector store and BM25 over its chunks. Raises ValueError naming the modes."""
    if mode == "dense":
        return DenseRetriever(store=store, embeddings=embeddings, dense=dense, k=k)
    if mode == "bm25":
        return BM25Retriever(store=store, lexical=lexical, k=k)
    if mode in {"hybrid", "hybrid+eligibility"}:
        return HybridRetriever(
            store=store,
            embeddings=embeddings,
            dense=dense,
            lexical=lexical,
            k=k,
            params=params or FusionParams(),
            use_eligibility=mode == "hybrid+eligibility",
        )
    raise ValueError(f"mode de recherche inconnu : {mode!r} ; modes disponibles : {', '.join(RETRIEVAL_MODES)}")
