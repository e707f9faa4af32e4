"""Dense retrieval over a FaissStore, behind LangChain's ``BaseRetriever``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from index.store import FaissStore, Hit


def hit_to_document(hit: Hit) -> Document:
    """A LangChain Document with the fixed provenance keys of the chunk."""
    c = hit.chunk
    return Document(
        id=c.id,
        page_content=c.text,
        metadata={
            "chunk_id": c.id,
            "source": c.source,
            "line_start": c.line_start,
            "line_end": c.line_end,
            "page": c.page,
            "title": c.title,
            "kind": c.kind,
            "score": hit.score,
            "dense_rank": hit.rank,
            **{f"meta_{k}": v for k, v in c.metadata.items()},
        },
    )


class DenseRetriever(BaseRetriever):
    """The ``k`` chunks whose e5 vectors are closest to the question's."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: FaissStore
    embeddings: Embeddings
    k: int = Field(default=10, ge=1)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        hits = self.store.search(self.embeddings.embed_query(query), k)
        return [hit_to_document(h) for h in hits]


# Retrieval modes by name (settings `REPERES_RETRIEVAL`, `reperes eval --compare`).
RETRIEVAL_MODES = ("dense", "bm25", "hybrid", "hybrid+eligibility")


def make_retriever(mode: str, store: FaissStore, embeddings: Embeddings, k: int, params: Any = None) -> BaseRetriever:
    """The retriever for a mode name; ``params`` are the fusion parameters. Raises ValueError naming the modes."""
    if mode == "dense":
        return DenseRetriever(store=store, embeddings=embeddings, k=k)
    if mode == "bm25":
        from index.lexical import BM25Retriever

        return BM25Retriever(store=store, k=k)
    if mode in {"hybrid", "hybrid+eligibility"}:
        from index.hybrid import FusionParams, HybridRetriever

        return HybridRetriever(
            store=store, embeddings=embeddings, k=k, params=params or FusionParams(), use_eligibility=mode == "hybrid+eligibility"
        )
    raise ValueError(f"mode de recherche inconnu : {mode!r} ; modes disponibles : {', '.join(RETRIEVAL_MODES)}")
