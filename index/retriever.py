"""Dense retrieval over any LangChain ``VectorStore`` (FAISS, PostgreSQL), behind LangChain's ``BaseRetriever``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from pydantic import ConfigDict, Field, SkipValidation, model_validator

from index.documents import hit_to_document
from index.records import Records
from index.vectorstore import dense_hits, vectorstore_of


class DenseRetriever(BaseRetriever):
    """The ``k`` chunks whose e5 vectors are closest to the question's."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: SkipValidation[Records]  # the chunks the vector store's ids map to
    embeddings: Embeddings
    # The vector store searched; default: the store's own (``index.vectorstore.vectorstore_of``).
    dense: SkipValidation[VectorStore | None] = None
    k: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _default_dense(self) -> DenseRetriever:
        if self.dense is None:
            self.dense = vectorstore_of(self.store, self.embeddings)
        return self

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        assert self.dense is not None  # set at construction
        hits = dense_hits(self.dense, self.store, self.embeddings.embed_query(query), k)
        return [hit_to_document(h) for h in hits]
