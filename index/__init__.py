"""Index: embeddings (bundled e5 by default), the FAISS store and retrieval. Imports `ingest` only."""

from index.build import BuildReport, build_index, index_is_current, load_chunks
from index.embeddings import BUNDLED, SentenceTransformerEmbeddings, make_embeddings, model_fingerprint
from index.retriever import DenseRetriever
from index.store import FaissStore, Hit, IndexNotReady, Manifest

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
