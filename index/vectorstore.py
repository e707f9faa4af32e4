"""The dense side of retrieval as a LangChain ``VectorStore``: ``FaissVectorStore`` over a ``FaissStore``.

Retrievers search any ``VectorStore`` by vector (``dense_hits``) and map its documents back to the records by
id, so PostgreSQL's ``PGVectorStore`` (``index.pgstore``) plugs in where FAISS was. ``FaissVectorStore`` wraps
the on-disk ``FaissStore`` unchanged: its persistence is the store's ``save``/``load`` (checksummed, no pickle).
``add_texts``/``delete`` work in memory (LangChain's contract, and its standard suite); each rebuilds the
FAISS index from its vectors (linear in the store's size: meant for small additions, not for indexing a corpus,
which ``index.build`` does).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from index.records import Records
from index.store import FaissStore, Hit, Manifest, index_kind
from ingest.records import Chunk


def chunk_document(chunk: Chunk) -> Document:
    """A chunk as the vector store returns it: its id, text and metadata (provenance: ``index.documents``)."""
    return Document(id=chunk.id, page_content=chunk.text, metadata=dict(chunk.metadata))


def stored_vectors(store: FaissStore) -> np.ndarray:
    """The vectors of ``store``, row i for chunk i: exact for the flat and HNSW-flat kinds; for an inverted file
    of 8-bit codes (IVF-SQ8, the largest indexes) the decoded codes, as FAISS itself compares them."""
    index = store._index  # FaissStore exposes no accessor; read only, never modified here
    if not len(store.chunks):
        return np.zeros((0, store.manifest.dimension), dtype=np.float32)
    try:
        return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)
    except RuntimeError:
        # An inverted file reconstructs only with a direct map (id -> list, offset), which the served index does
        # not keep: build it on a copy, never on the (possibly memory-mapped, read-only) index itself.
        import faiss

        copy = faiss.clone_index(index)
        faiss.extract_index_ivf(copy).make_direct_map()
        return np.asarray(copy.reconstruct_n(0, copy.ntotal), dtype=np.float32)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


class FaissVectorStore(VectorStore):
    """A ``FaissStore`` as a LangChain ``VectorStore``: cosine similarity on normalised vectors (higher is better).

    ``store`` is None until the first texts are added to a new, empty vector store (the dimension comes from
    the first vectors). Searches read the current ``store``; a mutation swaps in a new one under a lock.
    """

    def __init__(self, embedding: Embeddings, store: FaissStore | None = None) -> None:
        self._embedding = embedding
        self.store = store
        self._lock = threading.Lock()

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    # -- persistence: FaissStore's own files (manifest with checksums, FAISS format, JSONL; never a pickle)

    def save(self, folder: Path) -> Manifest:
        if self.store is None:
            raise ValueError("empty vector store: nothing to save")
        return self.store.save(folder)

    @classmethod
    def load(cls, folder: Path, embedding: Embeddings) -> FaissVectorStore:
        return cls(embedding, FaissStore.load(folder))

    # -- writing (in memory)

    def add_texts(
        self, texts: Iterable[str], metadatas: list[dict] | None = None, *, ids: list[str] | None = None, **kwargs: Any
    ) -> list[str]:
        texts = list(texts)
        if not texts:
            return []
        vectors = np.asarray(self._embedding.embed_documents(texts), dtype=np.float32)
        return self.add_embeddings(texts, vectors, metadatas, ids=ids)

    def add_embeddings(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        metadatas: Sequence[dict] | None = None,
        *,
        ids: Sequence[str | None] | None = None,
    ) -> list[str]:
        """Add (or replace, for an id already there) texts with their vectors; returns their ids."""
        given = list(ids) if ids is not None else [None] * len(texts)
        if len(given) != len(texts) or (metadatas is not None and len(metadatas) != len(texts)):
            raise ValueError(f"{len(texts)} texts, {len(given)} ids and {len(metadatas or texts)} metadatas: they must match")
        new_ids = [i or str(uuid.uuid4()) for i in given]
        new = [
            Chunk(source="", line_start=1, line_end=1, text=t, metadata=dict((metadatas or [{}] * len(texts))[n]), id=new_ids[n])
            for n, t in enumerate(texts)
        ]
        with self._lock:
            old_chunks, old_vectors = self._current()
            replaced = set(new_ids)
            keep = [n for n, c in enumerate(old_chunks) if c.id not in replaced]
            added = _normalised(np.atleast_2d(np.asarray(vectors, dtype=np.float32)))
            self._rebuild([old_chunks[n] for n in keep] + new, np.vstack([old_vectors[keep], added]) if keep else added)
        return new_ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if ids is None:
            raise ValueError("delete needs the ids of the documents to delete")
        with self._lock:
            chunks, vectors = self._current()
            gone = set(ids)
            keep = [n for n, c in enumerate(chunks) if c.id not in gone]
            if len(keep) != len(chunks):
                self._rebuild([chunks[n] for n in keep], vectors[keep])
        return True

    def _current(self) -> tuple[list[Chunk], np.ndarray]:
        if self.store is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        return list(self.store.chunks), stored_vectors(self.store)

    def _rebuild(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        dimension = vectors.shape[1] if vectors.size else (self.store.manifest.dimension if self.store else 0)
        if self.store is not None:
            manifest = replace(
                self.store.manifest, count=len(chunks), faiss_index=index_kind(len(chunks)), checksums={}, sizes={}
            )
            actions = self.store.actions
        else:
            manifest = Manifest(0, "", "", "", dimension, len(chunks), index_kind(len(chunks)), datetime.now(UTC).isoformat())
            actions = []
        self.store = FaissStore(chunks, vectors.reshape(len(chunks), dimension), manifest, actions)

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        store = self.store
        if store is None:
            return []
        return [chunk_document(store.by_id[i]) for i in ids if i in store.by_id]

    # -- searching

    def similarity_search_with_score_by_vector(
        self, embedding: list[float] | np.ndarray, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents closest to ``embedding`` with their cosine similarity, best first."""
        store = self.store
        if store is None or not len(store.chunks):
            return []
        return [(chunk_document(h.chunk), h.score) for h in store.search(embedding, k)]

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k)]

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        return self.similarity_search_with_score_by_vector(self._embedding.embed_query(query), k)

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # Cosine in [-1, 1] to LangChain's relevance in [0, 1].
        return lambda score: (1.0 + score) / 2.0

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> FaissVectorStore:
        store = cls(embedding)
        store.add_texts(texts, metadatas, ids=ids)
        return store


@runtime_checkable
class _ScoredByVector(Protocol):
    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]: ...


def vectorstore_of(store: Records, embeddings: Embeddings) -> VectorStore:
    """The dense side of ``store``: its own ``vectorstore`` (PostgreSQL), or a ``FaissVectorStore`` over a FaissStore."""
    own = getattr(store, "vectorstore", None)
    if isinstance(own, VectorStore):
        return own
    if isinstance(store, FaissStore):
        return FaissVectorStore(embeddings, store)
    raise TypeError(f"{type(store).__name__} has no vector store: pass one (dense=…)")


def dense_hits(dense: VectorStore, records: Records, vector: list[float] | np.ndarray, k: int) -> list[Hit]:
    """The ``k`` chunks of ``records`` nearest to ``vector`` in ``dense``, best first, ranked from 1.

    Scores are cosine similarities: FAISS's own score, and for another store LangChain's relevance score of its
    distance (for pgvector's cosine distance d: 1 - d, the cosine). A document the records do not hold (added to
    the store after they were read) is left out.
    """
    if k < 1:
        raise ValueError(f"k ({k}) must be >= 1")
    if isinstance(dense, FaissVectorStore) and dense.store is records:
        # The store's own search, on the vector exactly as given (no copy of its documents).
        return dense.store.search(vector, k)
    values = [float(x) for x in np.asarray(vector, dtype=np.float32).ravel()]
    if isinstance(dense, _ScoredByVector):
        found = dense.similarity_search_with_score_by_vector(values, k=k)
        to_similarity = (lambda s: s) if isinstance(dense, FaissVectorStore) else dense._select_relevance_score_fn()
    else:
        found = [(doc, 0.0) for doc in dense.similarity_search_by_vector(values, k=k)]
        to_similarity = float
    hits: list[Hit] = []
    for doc, raw in found:
        chunk = records.by_id.get(str(doc.id))
        if chunk is not None:
            hits.append(Hit(chunk, float(to_similarity(raw)), len(hits) + 1))
    return hits
