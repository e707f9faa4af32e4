"""Ingest: load corpus files and cut them into cited chunks. Imports nothing from the project."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.chunking import chunk_document, chunk_documents
    from ingest.loaders import LoadProblem, load_corpus, load_file
    from ingest.records import Chunk, SourceDoc

# Loaded on first use: importing one module of the package (the settings read ingest.loaders'
# limits) must not import all of them (LangChain, FAISS, bm25s: most of a second).
_EXPORTS = {
    "chunk_document": "ingest.chunking",
    "chunk_documents": "ingest.chunking",
    "LoadProblem": "ingest.loaders",
    "load_corpus": "ingest.loaders",
    "load_file": "ingest.loaders",
    "Chunk": "ingest.records",
    "SourceDoc": "ingest.records",
}
__all__ = ["Chunk", "LoadProblem", "SourceDoc", "chunk_document", "chunk_documents", "load_corpus", "load_file"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
