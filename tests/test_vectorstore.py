"""FaissVectorStore (index/vectorstore.py): LangChain's VectorStore standard suite, and retrieval through it
identical to the FaissStore's own search."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from index.store import FaissStore, Manifest
from index.vectorstore import FaissVectorStore, dense_hits, vectorstore_of
from ingest.records import Chunk

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TestFaissVectorStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Iterator[VectorStore]:  # type: ignore[override]
        yield FaissVectorStore(self.get_embeddings())


_DIM = 16
_TEXTS = [f"passage {n} sur l'emploi des jeunes, numéro {n * 7 % 11}" for n in range(30)]


def _store() -> FaissStore:
    chunks = [Chunk(source="a.txt", line_start=i, line_end=i, text=t, metadata={"n": i}) for i, t in enumerate(_TEXTS, 1)]
    vectors = np.asarray(DeterministicFakeEmbedding(size=_DIM).embed_documents(_TEXTS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return FaissStore(chunks, vectors, Manifest(2, "x", "test", "fake", _DIM, len(chunks), "IndexFlatIP", "2026-01-01"))


def test_dense_hits_are_the_faiss_store_search() -> None:
    store = _store()
    embeddings = DeterministicFakeEmbedding(size=_DIM)
    dense = vectorstore_of(store, embeddings)
    assert isinstance(dense, FaissVectorStore) and dense.store is store
    vector = embeddings.embed_query("emploi des jeunes")
    expected = store.search(vector, 7)
    assert dense_hits(dense, store, vector, 7) == expected
    # Through the VectorStore interface (as for any other store): same chunks, ranks and scores.
    other = FaissVectorStore(embeddings, store)
    found = other.similarity_search_with_score_by_vector(vector, 7)
    assert [(d.id, pytest.approx(s)) for d, s in found] == [(h.chunk.id, h.score) for h in expected]


def test_add_keeps_the_records_and_persists_through_faiss_store(tmp_path: Path) -> None:
    embeddings = DeterministicFakeEmbedding(size=_DIM)
    vs = FaissVectorStore(embeddings, _store())
    [new_id] = vs.add_texts(["un passage ajouté"], [{"ajout": True}])
    assert vs.store is not None and len(vs.store.chunks) == len(_TEXTS) + 1
    vs.delete([vs.store.chunks[0].id])
    vs.save(tmp_path / "idx")
    again = FaissVectorStore.load(tmp_path / "idx", embeddings)
    assert again.store is not None and [c.id for c in again.store.chunks] == [c.id for c in vs.store.chunks]
    assert again.get_by_ids([new_id])[0].metadata == {"ajout": True}
    top = again.similarity_search("un passage ajouté", k=1)
    assert top[0].id == new_id


@pytest.mark.parametrize("kind", ["IndexFlatIP", "IndexHNSWFlat", "IndexIVFScalarQuantizer"])
def test_stored_vectors_read_back_every_index_kind(kind: str) -> None:
    import index.store
    from index.vectorstore import stored_vectors

    if kind not in getattr(index.store, "INDEX_KINDS", ("IndexFlatIP", "IndexHNSWFlat")):
        pytest.skip(f"{kind} is not an index kind of this FaissStore")
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(2000, _DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(source="a.txt", line_start=i, line_end=i, text=f"passage {i}") for i in range(1, 2001)]
    store = FaissStore(chunks, vectors, Manifest(2, "x", "test", "fake", _DIM, len(chunks), kind, "2026-01-01"))
    read = stored_vectors(store)
    assert read.shape == vectors.shape
    # Exact for the flat kinds; 8-bit codes decoded for IVF-SQ8 (a step of about 1/128 of each dimension's range).
    assert np.abs(read - vectors).max() <= (0.0 if kind != "IndexIVFScalarQuantizer" else 0.01)
