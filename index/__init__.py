"""Index: embeddings (bundled e5 by default), the FAISS store and retrieval. Imports `ingest` only."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.build import BuildReport, build_index, index_is_current, load_chunks
    from index.embeddings import BUNDLED, SentenceTransformerEmbeddings, make_embeddings, model_fingerprint
    from index.retriever import DenseRetriever
    from index.store import FaissStore, Hit, IndexNotReady, Manifest

# Loaded on first use: importing one module of the package (the question prefetch's child imports
# index.onnx_query alone) must not import all of them (LangChain, FAISS, bm25s: most of a second).
_EXPORTS = {
    "BuildReport": "index.build",
    "build_index": "index.build",
    "index_is_current": "index.build",
    "load_chunks": "index.build",
    "BUNDLED": "index.embeddings",
    "SentenceTransformerEmbeddings": "index.embeddings",
    "make_embeddings": "index.embeddings",
    "model_fingerprint": "index.embeddings",
    "DenseRetriever": "index.retriever",
    "FaissStore": "index.store",
    "Hit": "index.store",
    "IndexNotReady": "index.store",
    "Manifest": "index.store",
}
__all__ = [
    "BUNDLED",
    "BuildReport",
    "DenseRetriever",
    "FaissStore",
    "Hit",
    "IndexNotReady",
    "Manifest",
    "SentenceTransformerEmbeddings",
    "build_index",
    "index_is_current",
    "load_chunks",
    "make_embeddings",
    "model_fingerprint",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
