"""The vector index on disk: FAISS vectors + chunk records + a manifest. All index I/O lives here.

Layout of an index folder (published atomically, never pickled)::

    manifest.json   what was indexed with what (staleness check)
    vectors.faiss   FAISS's own file format; row i is the vector of line i of chunks.jsonl
    chunks.jsonl    one `Chunk.to_json()` record per line
    actions.jsonl   one `Action.to_json()` record per line: the action catalogue chunks point to (action_id)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import publish_dir, staging_dir
from ingest.records import Action, Chunk

FORMAT_VERSION = 2  # 2: actions.jsonl (the action catalogue) beside the chunks
# Exact search (flat inner product on normalised vectors) is fast enough up to about 50k chunks;
# above, an HNSW graph answers in ~1 ms at a small recall cost. Chosen at build, kept in the manifest.
HNSW_THRESHOLD = 50_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 64


def index_kind(count: int) -> str:
    """The FAISS index type for ``count`` chunks."""
    return "IndexHNSWFlat" if count > HNSW_THRESHOLD else "IndexFlatIP"


class IndexNotReady(RuntimeError):
    """The index is missing, damaged or built for another model; the message says how to fix it."""


@dataclass(frozen=True)
class Manifest:
    """What an index holds and how it was built."""

    format: int
    corpus_fingerprint: str
    chunker: str
    embed_model: str
    dimension: int
    count: int
    faiss_index: str
    created: str


@dataclass(frozen=True)
class Hit:
    """One search result: a chunk and its similarity score (cosine, higher is better)."""

    chunk: Chunk
    score: float
    rank: int


class FaissStore:
    """Chunks and their normalised vectors in a FAISS inner-product index."""

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, manifest: Manifest, actions: list[Action] | None = None) -> None:
        if len(chunks) != vectors.shape[0]:
            raise ValueError(f"{len(chunks)} chunks but {vectors.shape[0]} vectors: they must match one to one")
        import faiss

        self.chunks = chunks
        self.actions: list[Action] = list(actions or [])
        self.manifest = manifest
        self._index: Any
        if manifest.faiss_index == "IndexHNSWFlat":
            self._index = faiss.IndexHNSWFlat(manifest.dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = 80
            self._index.hnsw.efSearch = HNSW_EF_SEARCH  # once: searches share the index read-only
        elif manifest.faiss_index == "IndexFlatIP":
            self._index = faiss.IndexFlatIP(manifest.dimension)
        else:
            raise ValueError(f"unknown FAISS index kind {manifest.faiss_index!r}: use IndexFlatIP or IndexHNSWFlat")
        if len(chunks):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def from_faiss(cls, chunks: list[Chunk], index: Any, manifest: Manifest, actions: list[Action] | None = None) -> FaissStore:
        store = cls.__new__(cls)
        store.chunks, store.manifest, store._index = chunks, manifest, index
        store.actions = list(actions or [])
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = HNSW_EF_SEARCH  # faiss searches max(efSearch, k) candidates anyway
        if index.ntotal != len(chunks):
            raise IndexNotReady(
                f"index damaged: {index.ntotal} vectors for {len(chunks)} chunks. Rebuild it with `reperes ingest --force`."
            )
        return store

    def __len__(self) -> int:
        return len(self.chunks)

    @cached_property
    def by_id(self) -> dict[str, Chunk]:
        """Chunks by id (built once, on first use: a follow-up looks its referents up here)."""
        return {c.id: c for c in self.chunks}

    @cached_property
    def actions_by_id(self) -> dict[str, Action]:
        """The catalogue's actions by id (a chunk's ``action_id`` is looked up here)."""
        return {a.id: a for a in self.actions}

    @cached_property
    def parts_by_action(self) -> dict[str, tuple[Chunk, ...]]:
        """The chunks of each catalogue action, in document order (a long table row is several chunks)."""
        parts: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            # A table row holding several actions is a part of each (``action_ids``).
            for action_id in chunk.metadata.get("action_ids") or (
                [chunk.metadata["action_id"]] if chunk.metadata.get("action_id") else []
            ):
                parts.setdefault(action_id, []).append(chunk)
        return {action_id: tuple(chunks) for action_id, chunks in parts.items()}

    def action_of(self, chunk: Chunk) -> Action | None:
        """The action ``chunk`` is part of, or None."""
        action_id = chunk.metadata.get("action_id")
        return self.actions_by_id.get(action_id) if action_id else None

    def search(self, vector: list[float] | np.ndarray, k: int) -> list[Hit]:
        """The ``k`` chunks most similar to ``vector``, best first."""
        if k < 1:
            raise ValueError(f"k ({k}) must be >= 1")
        if not self.chunks:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.manifest.dimension:
            raise IndexNotReady(
                f"query vector has {query.shape[1]} dimensions, the index {self.manifest.dimension}: "
                "the embedding model changed, rebuild with `reperes ingest`."
            )
        scores, ids = self._index.search(query, min(k, len(self.chunks)))
        return [
            Hit(self.chunks[i], float(s), rank) for rank, (s, i) in enumerate(zip(scores[0], ids[0], strict=True), 1) if i >= 0
        ]

    def save(self, folder: Path) -> None:
        """Write the index to ``folder`` atomically (a complete new folder replaces the old one)."""
        import faiss

        work = staging_dir(folder)
        try:
            faiss.write_index(self._index, str(work / "vectors.faiss"))
            with open(work / "chunks.jsonl", "w", encoding="utf-8") as handle:
                for chunk in self.chunks:
                    handle.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")
            with open(work / "actions.jsonl", "w", encoding="utf-8") as handle:
                for action in self.actions:
                    handle.write(json.dumps(action.to_json(), ensure_ascii=False) + "\n")
            (work / "manifest.json").write_text(json.dumps(asdict(self.manifest), indent=2, ensure_ascii=False))
            publish_dir(work, folder)
        except BaseException:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
            raise

    @classmethod
    def load(cls, folder: Path) -> FaissStore:
        """Read an index folder written by ``save``. Raises IndexNotReady with the fix if it is unusable."""
        import faiss

        manifest = read_manifest(folder)
        if manifest is None:
            raise IndexNotReady(f"Aucun index dans {folder} : lancez `reperes ingest` (ou `make run`) pour le construire.")
        try:
            with open(folder / "chunks.jsonl", encoding="utf-8") as handle:
                chunks = [Chunk.from_json(json.loads(line)) for line in handle if line.strip()]
            with open(folder / "actions.jsonl", encoding="utf-8") as handle:
                actions = [Action.from_json(json.loads(line)) for line in handle if line.strip()]
            index = faiss.read_index(str(folder / "vectors.faiss"))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexNotReady(
                f"Index illisible dans {folder} ({exc}) : reconstruisez-le avec `reperes ingest --force`."
            ) from exc
        if index.d != manifest.dimension:
            raise IndexNotReady(
                f"index damaged: vectors of {index.d} dimensions, manifest says {manifest.dimension}. Run `reperes ingest --force`."
            )
        return cls.from_faiss(chunks, index, manifest, actions)


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of the index in ``folder``, or None if there is no readable index there."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None
    if manifest.format != FORMAT_VERSION:
        return None
    return manifest
