"""The retrieval modes by name (settings ``REPERES_RETRIEVAL``, ``reperes eval --compare``) and their retrievers."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from index.hybrid import FusionParams, HybridRetriever
from index.lexical import BM25Retriever
from index.retriever import DenseRetriever
from index.store import FaissStore

RETRIEVAL_MODES = ("dense", "bm25", "hybrid", "hybrid+eligibility")


def make_retriever(
    mode: str, store: FaissStore, embeddings: Embeddings, k: int, params: FusionParams | None = None
) -> BaseRetriever:
    """The retriever for a mode name; ``params`` are the fusion parameters. Raises ValueError naming the modes."""
    if mode == "dense":
        return DenseRetriever(store=store, embeddings=embeddings, k=k)
    if mode == "bm25":
        return BM25Retriever(store=store, k=k)
    if mode in {"hybrid", "hybrid+eligibility"}:
        return HybridRetriever(
            store=store, embeddings=embeddings, k=k, params=params or FusionParams(), use_eligibility=mode == "hybrid+eligibility"
        )
    raise ValueError(f"mode de recherche inconnu : {mode!r} ; modes disponibles : {', '.join(RETRIEVAL_MODES)}")
