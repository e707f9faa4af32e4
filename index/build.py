"""Corpus folder -> chunks -> embeddings -> FaissStore, rebuilt only when something changed.

Incremental: the staleness check hashes only the corpus files whose (size, mtime) stamp changed (the
stamps are kept beside the embedding cache), and a rebuild embeds only the passages whose text the
embedding cache (index/cache.py) does not hold. The index itself is still written whole, in a staging
folder, and published atomically (FaissStore.save).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from index.atomic import FolderNotWritable, check_writable, write_text_atomic
from index.cache import FileByteStore, VectorCache
from index.reload import index_version
from index.store import FORMAT_VERSION, FaissStore, IndexNotReady, Manifest, check_files, index_kind, read_manifest, recover_index
from ingest.catalogue import build_catalogue
from ingest.chunking import DEFAULT_MAX_CHARS, chunk_document
from ingest.loaders import LoadProblem, corpus_files, load_corpus, load_file, repair_documents
from ingest.records import Action, Chunk, SourceDoc

log = logging.getLogger(__name__)

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
class DocumentChanges:
    """The corpus files an ingest found added, edited or removed since the index it replaced (by content hash;
    all empty when that index's per-document hashes were not known)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` did."""

    rebuilt: bool
    manifest: Manifest
    problems: tuple[LoadProblem, ...]
    seconds: float
    # Passages whose vectors were computed (the others came from the embedding cache), and the documents.
    embedded: int = 0
    reused: int = 0
    documents: DocumentChanges = field(default_factory=DocumentChanges)


# What a long ingest reports as it goes: (stage, done, total), stage "documents" (files read) or
# "passages" (passages embedded); the CLI draws it as progress bars.
Progress = Callable[[str, int, int], None]

# Passages per call to the embedder: at least EMBED_BATCH (sentence-transformers batches 32), and at most
# about EMBED_STEPS calls in all (a distributed embedder starts its workers at each call). Each call's
# vectors are cached at once: an interrupted ingest resumes where it stopped.
EMBED_BATCH = 32
EMBED_STEPS = 20
# A file modified this close before it was stamped may be modified again within the same timestamp tick
# (coarse on some file systems): its stamp is not kept, so its bytes are read again next time.
RACY_NS = 2_000_000_000
STAMPS = "stamps.json"


@dataclass(frozen=True)
class FileStamp:
    """A corpus file's size and modification time when its bytes had this sha256."""

    size: int
    mtime_ns: int
    sha256: str
    trusted: bool = True  # False: modified just before it was stamped (see RACY_NS), not kept


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (the only place the staleness check reads a corpus file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_stamps(corpus: Path, known: Mapping[str, FileStamp] | None = None) -> dict[str, FileStamp]:
    """Each corpus file's stamp, in ``corpus_files`` order; a file's bytes are hashed only when its size or
    mtime differs from ``known`` (so a `touch` costs one hash, and an unchanged corpus none)."""
    known = known or {}
    stamps: dict[str, FileStamp] = {}
    for path in corpus_files(corpus):
        now = time.time_ns()
        st = path.stat()  # before the read: a write during or after it changes the stamp seen next time
        old = known.get(path.name)
        if old is not None and old.trusted and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
            stamps[path.name] = old
        else:
            trusted = st.st_mtime_ns < now - RACY_NS
            stamps[path.name] = FileStamp(st.st_size, st.st_mtime_ns, file_digest(path), trusted)
    return stamps


def fingerprint_of(stamps: Mapping[str, FileStamp]) -> str:
    """sha256 over the names and content hashes of the corpus files: any edit, addition or removal changes it."""
    digest = hashlib.sha256()
    for name, stamp in stamps.items():
        digest.update(name.encode() + b"\0")
        digest.update(bytes.fromhex(stamp.sha256))
    return digest.hexdigest()


def corpus_fingerprint(corpus: Path) -> str:
    """The fingerprint of ``corpus``, every file's bytes read (``index_is_current`` with a cache reads only
    the files whose stamp changed)."""
    return fingerprint_of(corpus_stamps(corpus))


def _read_sidecar(cache: Path | None) -> dict[str, Any]:
    """The stamps file of ``cache`` (empty when absent or unreadable: everything is hashed then)."""
    if cache is None:
        return {}
    try:
        data = json.loads((cache / STAMPS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_stamps(cache: Path | None) -> dict[str, FileStamp]:
    """The file stamps kept in ``cache`` (an entry that does not parse is left out: that file is hashed)."""
    files = _read_sidecar(cache).get("files")
    stamps: dict[str, FileStamp] = {}
    for name, value in (files if isinstance(files, dict) else {}).items():
        try:
            size, mtime_ns, sha = value
            stamps[name] = FileStamp(int(size), int(mtime_ns), str(bytes.fromhex(sha).hex()))
        except (TypeError, ValueError):
            continue
    return stamps


def _write_sidecar(cache: Path, stamps: Mapping[str, FileStamp], indexed: dict[str, Any] | None = None) -> None:
    """Keep the trusted stamps (and, after a build, the index's per-document hashes); best effort: a cache that
    cannot be written costs hashing next time, never an error."""
    data: dict[str, Any] = {
        "files": {name: [s.size, s.mtime_ns, s.sha256] for name, s in stamps.items() if s.trusted},
        "indexed": indexed if indexed is not None else _read_sidecar(cache).get("indexed"),
    }
    try:
        write_text_atomic(cache / STAMPS, json.dumps(data, ensure_ascii=False, indent=1))
    except OSError as exc:
        log.debug("stamps not written in %s: %s", cache, exc)


def _current_stamps(corpus: Path, cache: Path | None) -> dict[str, FileStamp]:
    """The corpus' stamps, reusing those kept in ``cache``; kept again when some file had to be hashed."""
    known = read_stamps(cache)
    stamps = corpus_stamps(corpus, known)
    if cache is not None and stamps != known:
        _write_sidecar(cache, stamps)
    return stamps


def index_is_current(folder: Path, corpus: Path, model_id: str, cache: Path | None = None) -> bool:
    """True when ``folder`` holds an index of exactly this corpus, chunker and model.

    With ``cache`` (the folder ``build_index`` was given), a corpus file is read only when its size or mtime
    changed since it was last hashed; without, every file is hashed."""
    manifest = read_manifest(folder)
    return (
        manifest is not None
        and manifest.chunker == CHUNKER_ID
        and manifest.embed_model == model_id
        and (folder / "vectors.faiss").is_file()
        and manifest.corpus_fingerprint == fingerprint_of(_current_stamps(corpus, cache))
    )


def load_chunks(corpus: Path) -> tuple[list[Chunk], list[LoadProblem]]:
    """Load and chunk a corpus folder (no embedding)."""
    chunks, _, problems = load_records(corpus)
    return chunks, problems


def load_actions(corpus: Path) -> tuple[list[Action], list[LoadProblem]]:
    """The action catalogue of a corpus folder (no chunking, no embedding)."""
    docs, problems = load_corpus(corpus)
    return build_catalogue(docs), problems


def load_records(corpus: Path, progress: Progress | None = None) -> tuple[list[Chunk], list[Action], list[LoadProblem]]:
    """Chunks and actions of a corpus folder, each document's actions read once for both."""
    docs, problems = _load_documents(corpus, progress)
    actions = build_catalogue(docs)
    chunks: list[Chunk] = []
    for doc in docs:
        chunks += chunk_document(doc, DEFAULT_MAX_CHARS, [a for a in actions if a.source == doc.source])
    return chunks, actions, problems


def _load_documents(corpus: Path, progress: Progress | None) -> tuple[list[SourceDoc], list[LoadProblem]]:
    """``load_corpus``, file by file so that ``progress`` can follow it."""
    if progress is None:
        return load_corpus(corpus)
    files = corpus_files(corpus)
    docs: list[SourceDoc] = []
    problems: list[LoadProblem] = []
    progress("documents", 0, len(files))
    for done, path in enumerate(files, 1):
        try:
            docs.append(load_file(path))
        except ValueError as exc:
            problems.append(LoadProblem(path, str(exc)))
        progress("documents", done, len(files))
    if not docs:
        return load_corpus(corpus)  # raises its French "no readable document", file by file
    return repair_documents(docs), problems


def embedding_namespace(embeddings: Embeddings, model_id: str) -> str:
    """What a cached vector was computed with: the model and the passage prompt put before the text."""
    return f"{model_id}|{getattr(embeddings, 'passage_prompt', '')}"


def embed_passages(
    texts: list[str],
    embeddings: Embeddings,
    cache: VectorCache | None = None,
    fresh: bool = False,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """The vectors of ``texts`` (one row each) and how many texts were embedded: those the cache holds (all
    of one dimension, checked) are read from it, unless ``fresh``; the others are embedded and kept."""
    unique = list(dict.fromkeys(texts))
    found = cache.get(unique) if cache is not None and not fresh else [None] * len(unique)
    vectors: dict[str, np.ndarray] = {t: v for t, v in zip(unique, found, strict=True) if v is not None}
    # Longest first, in batches of similar lengths: little padding, as one big encode() call would do.
    missing = sorted((t for t in unique if t not in vectors), key=len, reverse=True)
    if progress is not None:
        progress("passages", 0, len(missing))
    # An embedder may ask for larger calls (a distributed one starts its workers at each: index.distributed).
    size = max(int(getattr(embeddings, "min_call_size", EMBED_BATCH)), -(-len(missing) // EMBED_STEPS))
    for start in range(0, len(missing), size):
        batch = missing[start : start + size]
        computed = np.asarray(embeddings.embed_documents(batch), dtype=np.float32).reshape(len(batch), -1)
        # Stand-in vectors (index.embeddings: torch answering for a broken int8 export) are not kept under the
        # model's name: the next ingest with the export back computes them again.
        if cache is not None and not getattr(embeddings, "approximate", False):
            cache.put(batch, computed)
        vectors.update(zip(batch, computed, strict=True))
        if progress is not None:
            progress("passages", start + len(batch), len(missing))
    if len({v.shape[0] for v in vectors.values()}) > 1 and not fresh:
        # Cached vectors of another size than the model's (a model swapped under the same name): all anew.
        return embed_passages(texts, embeddings, cache, fresh=True, progress=progress)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.stack([vectors[t] for t in texts]).astype(np.float32), len(missing)


def build_index(
    corpus: Path,
    folder: Path,
    embeddings: Embeddings,
    model_id: str,
    force: bool = False,
    cache: Path | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Build the index of ``corpus`` into ``folder`` unless it is already current.

    Args:
        corpus: folder of source documents.
        folder: where the index lives (replaced atomically).
        embeddings: passage embedder (its ``embed_documents`` is used).
        model_id: identifies the embedder in the manifest (see ``model_fingerprint``).
        force: rebuild even if the index looks current, every passage embedded anew.
        cache: folder of the embedding cache and the corpus files' stamps (outside ``folder``): only the
            passages whose text it does not hold are embedded, and the staleness check reads only the files
            whose size or mtime changed. None: no cache (every passage embedded, every file hashed).
        progress: called as documents are read and passages embedded.
    """
    start = time.perf_counter()
    recover_index(folder)  # a swap killed half-way: the intact copy back in place, leftovers removed
    if not force and index_is_current(folder, corpus, model_id, cache):
        manifest = read_manifest(folder)
        assert manifest is not None
        # Current but damaged is said, not silently rebuilt: a rebuild takes minutes and the cause
        # (a disk, a copy) deserves a look.
        check_files(folder, manifest)
        return BuildReport(False, manifest, (), time.perf_counter() - start)
    _check_writable(folder)  # before minutes of embedding, not after
    stamps = _current_stamps(corpus, cache)
    fingerprint = fingerprint_of(stamps)
    chunks, actions, problems = load_records(corpus, progress)
    _check_writable(folder, _index_bytes(chunks, actions))
    vector_cache = VectorCache(FileByteStore(cache / "vectors"), embedding_namespace(embeddings, model_id)) if cache else None
    vectors, embedded = embed_passages([c.text for c in chunks], embeddings, vector_cache, fresh=force, progress=progress)
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
    previous = _indexed_documents(cache, read_manifest(folder))
    store = FaissStore(chunks, vectors.reshape(len(chunks), int(dimension)), manifest, actions)
    manifest = store.save(folder)
    documents = {name: s.sha256 for name, s in stamps.items()}
    if cache is not None and vector_cache is not None:
        vector_cache.prune([c.text for c in chunks])  # the cache holds what the published index holds
        _write_sidecar(cache, stamps, {"version": index_version(manifest), "documents": documents})
    return BuildReport(
        True,
        manifest,
        tuple(problems),
        time.perf_counter() - start,
        embedded=embedded,
        reused=len(set(c.text for c in chunks)) - embedded,
        documents=_changes(previous, documents),
    )


def _indexed_documents(cache: Path | None, manifest: Manifest | None) -> dict[str, str] | None:
    """The per-document hashes of the index in place (None: unknown, or kept for another index)."""
    indexed = _read_sidecar(cache).get("indexed")
    if manifest is None or not isinstance(indexed, dict) or indexed.get("version") != index_version(manifest):
        return None
    documents = indexed.get("documents")
    return documents if isinstance(documents, dict) else None


def _changes(before: Mapping[str, str] | None, after: Mapping[str, str]) -> DocumentChanges:
    if before is None:
        return DocumentChanges()
    return DocumentChanges(
        added=tuple(n for n in after if n not in before),
        changed=tuple(n for n in after if n in before and before[n] != after[n]),
        removed=tuple(n for n in before if n not in after),
    )


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
