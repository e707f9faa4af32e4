"""Dense retrieval over a FaissStore, behind LangChain's ``BaseRetriever``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from index.documents import hit_to_document
from index.store import FaissStore


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
