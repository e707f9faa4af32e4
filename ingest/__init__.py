"""Ingest: load corpus files and cut them into cited chunks. Imports nothing from the project."""

from ingest.chunking import chunk_document, chunk_documents
from ingest.loaders import LoadProblem, load_corpus, load_file
from ingest.records import Chunk, SourceDoc

__all__ = ["Chunk", "LoadProblem", "SourceDoc", "chunk_document", "chunk_documents", "load_corpus", "load_file"]
