"""Corpus folder -> chunks -> embeddings -> FaissStore, rebuilt only when something changed."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from index.atomic import FolderNotWritable, check_writable
from index.store import FORMAT_VERSION, FaissStore, IndexNotReady, Manifest, check_files, index_kind, read_manifest, recover_index
from ingest.catalogue import build_catalogue
from ingest.chunking import DEFAULT_MAX_CHARS, chunk_document
from ingest.loaders import LoadProblem, corpus_files, load_corpus
from ingest.records import Action, Chunk

# Identifies the chunking recipe; bump it when chunking changes so indexes get rebuilt.
_RECIPE = f"structure-v23-{DEFAULT_MAX_CHARS}"


def reference_data_digest(folder: Path | None = None) -> str:
    """sha256 over the tables of ``folder`` (default ``ingest/data``): the catalogue an index holds (an action's
    communes, situations, themes) is read with them, so an edited table (a synonym, a commune spelling) rebuilds
    the index too."""
    from importlib import resources

    digest = hashlib.sha256()
    tables = folder if folder is not None else resources.files("ingest").joinpath("data")
    for entry in sorted(tables.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(".tsv"):
            digest.update(entry.name.encode() + b"\0" + hashlib.sha256(entry.read_bytes()).digest())
    return digest.hexdigest()[:12]


# The recipe and the reference data it reads: what an index's manifest must match to be reused.
CHUNKER_ID = f"{_RECIPE}+data-{reference_data_digest()}"


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` did."""

    rebuilt: bool
    manifest: Manifest
    problems: tuple[LoadProblem, ...]
    seconds: float


def corpus_fingerprint(corpus: Path) -> str:
    """sha256 over the names and bytes of the corpus files: any edit, addition or removal changes it."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus):
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def index_is_current(folder: Path, corpus: Path, model_id: str) -> bool:
    """True when ``folder`` holds an index of exactly this corpus, chunker and model."""
    manifest = read_manifest(folder)
    return (
        manifest is not None
        and manifest.corpus_fingerprint == corpus_fingerprint(corpus)
        and manifest.chunker == CHUNKER_ID
        and manifest.embed_model == model_id
        and (folder / "vectors.faiss").is_file()
    )


def load_chunks(corpus: Path) -> tuple[list[Chunk], list[LoadProblem]]:
    """Load and chunk a corpus folder (no embedding)."""
    chunks, _, problems = load_records(corpus)
    return chunks, problems


def load_actions(corpus: Path) -> tuple[list[Action], list[LoadProblem]]:
    """The action catalogue of a corpus folder (no chunking, no embedding)."""
    docs, problems = load_corpus(corpus)
    return build_catalogue(docs), problems


def load_records(corpus: Path) -> tuple[list[Chunk], list[Action], list[LoadProblem]]:
    """Chunks and actions of a corpus folder, each document's actions read once for both."""
    docs, problems = load_corpus(corpus)
    actions = build_catalogue(docs)
    chunks: list[Chunk] = []
    for doc in docs:
        chunks += chunk_document(doc, DEFAULT_MAX_CHARS, [a for a in actions if a.source == doc.source])
    return chunks, actions, problems


def build_index(corpus: Path, folder: Path, embeddings: Embeddings, model_id: str, force: bool = False) -> BuildReport:
    """Build the index of ``corpus`` into ``folder`` unless it is already current.

    Args:
        corpus: folder of source documents.
        folder: where the index lives (replaced atomically).
        embeddings: passage embedder (its ``embed_documents`` is used).
        model_id: identifies the embedder in the manifest (see ``model_fingerprint``).
        force: rebuild even if the index looks current.
    """
    start = time.perf_counter()
    recover_index(folder)  # a swap killed half-way: the intact copy back in place, leftovers removed
    if not force and index_is_current(folder, corpus, model_id):
        manifest = read_manifest(folder)
        assert manifest is not None
        # Current but damaged is said, not silently rebuilt: a rebuild takes minutes and the cause
        # (a disk, a copy) deserves a look.
        check_files(folder, manifest)
        return BuildReport(False, manifest, (), time.perf_counter() - start)
    _check_writable(folder)  # before minutes of embedding, not after
    fingerprint = corpus_fingerprint(corpus)
    chunks, actions, problems = load_records(corpus)
    _check_writable(folder, _index_bytes(chunks, actions))
    vectors = np.asarray(embeddings.embed_documents([c.text for c in chunks]), dtype=np.float32)
    dimension = vectors.shape[1] if len(chunks) else len(embeddings.embed_query("dimension"))
    manifest = Manifest(
        format=FORMAT_VERSION,
        corpus_fingerprint=fingerprint,
        chunker=CHUNKER_ID,
        embed_model=model_id,
        dimension=int(dimension),
        count=len(chunks),
        faiss_index=index_kind(len(chunks)),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    store = FaissStore(chunks, vectors.reshape(len(chunks), int(dimension)), manifest, actions)
    manifest = store.save(folder)
    return BuildReport(True, manifest, tuple(problems), time.perf_counter() - start)


# Dimensions assumed when estimating an index's size before embedding (the model says after): the
# largest common sentence embedders (e5-large, bge-m3) have 1024.
_MAX_DIMENSION = 1024


def _index_bytes(chunks: list[Chunk], actions: list[Action]) -> int:
    """About what the index files of these records take: their JSON (about 3x the text: metadata, escapes)
    and float32 vectors. An overestimate on purpose: running out of space after the embedding wastes it."""
    text = sum(len(c.text.encode()) for c in chunks) + sum(len(json.dumps(a.to_json())) for a in actions)
    return 3 * text + 4 * _MAX_DIMENSION * len(chunks)


def _check_writable(folder: Path, need_bytes: int = 0) -> None:
    """IndexNotReady (French: the folder, the cause, REPERES_HOME) unless the index can be written there."""
    try:
        check_writable(folder.parent, need_bytes)
    except FolderNotWritable as exc:
        raise IndexNotReady(str(exc)) from exc
