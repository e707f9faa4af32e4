"""The vector index on disk: FAISS vectors + chunk records + a manifest. All index I/O lives here.

Layout of an index folder (published atomically, never pickled)::

    manifest.json   what was indexed with what (staleness check), and the sha256 and size of the
                    three files below (checked at every load: a damaged index is never served)
    vectors.faiss   FAISS's own file format; row i is the vector of line i of chunks.jsonl
    chunks.jsonl    one `Chunk.to_json()` record per line
    actions.jsonl   one `Action.to_json()` record per line: the action catalogue chunks point to (action_id)
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import fsync_dir, publish_dir, publishing, recover_dir, staging_dir
from ingest.records import Action, Chunk

FORMAT_VERSION = 2  # 2: actions.jsonl (the action catalogue) beside the chunks
# Exact search (flat inner product on normalised vectors) is fast enough up to about 50k chunks;
# above, an HNSW graph answers in ~1 ms at a small recall cost. Past SQ_THRESHOLD the float32 vectors
# alone pass 300 MB (1.5 GB at 1M chunks of 384 dimensions): an inverted file over 8-bit scalar-quantised
# codes (IVF-SQ8) keeps a quarter of that (about 0.4 GB at 1M) and builds in seconds where an HNSW graph
# over 1M takes most of an hour on 2 cores. Chosen at build by size, kept in the manifest (`faiss_index`);
# `reperes bench` measures each kind's recall@10 against exact search.
HNSW_THRESHOLD = 50_000
HNSW_NEIGHBOURS = 32
# Candidates an HNSW search keeps. Measured at 100k synthetic chunks (dev questions' real query vectors):
# efSearch 64 -> recall@10 0.79, 128 -> 0.87, 256 -> 0.91, 512 -> 0.97 at about 1.4 ms a query on 2 cores.
HNSW_EF_SEARCH = 512
SQ_THRESHOLD = 200_000
IVF_TRAIN_PER_LIST = 50  # k-means training sample per list (FAISS warns under 39)
# Lists scanned per query. Measured at 1M synthetic chunks (1,000 lists, dev questions' real query vectors):
# nprobe 32 -> recall@10 0.80, 64 -> 0.89, 128 -> 0.93, 256 -> 0.96 at about 5 ms a query on 2 cores (IVF-Flat
# gives the same recall: the probing, not the 8-bit codes, loses neighbours). `reperes bench` re-measures it.
IVF_NPROBE = 256
INDEX_KINDS = ("IndexFlatIP", "IndexHNSWFlat", "IndexIVFScalarQuantizer")
# The files of an index folder the manifest vouches for (the manifest itself is checked by parsing it).
INDEX_FILES = ("vectors.faiss", "chunks.jsonl", "actions.jsonl")
REBUILD = "Lancez `reperes ingest --force` pour le reconstruire."

log = logging.getLogger(__name__)
_WARNED: set[Path] = set()  # index folders without checksums already reported


def index_kind(count: int) -> str:
    """The FAISS index type for ``count`` chunks."""
    if count > SQ_THRESHOLD:
        return "IndexIVFScalarQuantizer"
    return "IndexHNSWFlat" if count > HNSW_THRESHOLD else "IndexFlatIP"


def ivf_lists(count: int) -> int:
    """Inverted lists of an IVF index over ``count`` vectors: about sqrt(count) (1,000 at 1M), the usual balance
    between the lists scanned per query and the k-means cost of building them."""
    return int(min(8192, max(16, round(math.sqrt(count)))))


def _new_index(kind: str, dimension: int, vectors: np.ndarray) -> Any:
    """An empty FAISS index of ``kind`` (trained on ``vectors`` when the kind needs it)."""
    import faiss

    if kind == "IndexFlatIP":
        return faiss.IndexFlatIP(dimension)
    index: Any
    if kind == "IndexHNSWFlat":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        return index
    if kind == "IndexIVFScalarQuantizer":
        lists = ivf_lists(len(vectors))
        quantizer = faiss.IndexFlatIP(dimension)  # the python wrapper keeps it alive with the index
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        # A fixed sample: the same vectors give the same index (and checksums) at every build.
        sample = min(len(vectors), IVF_TRAIN_PER_LIST * lists)
        rows = np.sort(np.random.default_rng(0).choice(len(vectors), size=sample, replace=False))
        index.train(np.ascontiguousarray(vectors[rows], dtype=np.float32))
        return index
    raise ValueError(f"unknown FAISS index kind {kind!r}: use one of {', '.join(INDEX_KINDS)}")


def _tune(index: Any) -> None:
    """Search-time parameters (set once: searches then share the index read-only)."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH  # faiss searches max(efSearch, k) candidates anyway
    if hasattr(index, "nprobe"):
        index.nprobe = min(IVF_NPROBE, index.nlist)


def _read_index(path: Path) -> Any:
    """Read a FAISS file memory-mapped where FAISS allows it (flat codes, inverted lists): the pages come
    from the page cache, so the server, its workers and `reperes ask` share one copy of the vectors.

    FAISS refuses some flag sets for some kinds (both mmap flags on an IVF): the next set is tried, down
    to a plain read."""
    import faiss

    last: Exception | None = None
    for flags in (
        faiss.IO_FLAG_MMAP | faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY,
        faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY,
        0,
    ):
        try:
            return faiss.read_index(str(path), flags)
        except RuntimeError as exc:
            last = exc
    assert last is not None
    raise last


class IndexNotReady(RuntimeError):
    """The index is missing, damaged or built for another model; the message says how to fix it."""


class ModelNotReady(IndexNotReady):
    """The embedding model is missing or damaged; the message (French) says how to fix it.

    A kind of IndexNotReady because it has the same effect (nothing can be searched) and every face
    (CLI, API, chat) already shows that error's message instead of a traceback.
    """


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
    # sha256 and size in bytes of each of INDEX_FILES, as written by ``save``. Empty in an index written
    # before checksums existed: it is still served, with a warning (see ``check_files``), so an upgrade
    # does not cost a rebuild; `reperes ingest --force` adds them.
    checksums: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One search result: a chunk and its similarity score (cosine, higher is better)."""

    chunk: Chunk
    score: float
    rank: int


def parts_by_action(chunks: Sequence[Chunk]) -> dict[str, tuple[Chunk, ...]]:
    """The chunks of each catalogue action, in document order (a long table row is several chunks)."""
    parts: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        # A table row holding several actions is a part of each (``action_ids``).
        for action_id in chunk.metadata.get("action_ids") or (
            [chunk.metadata["action_id"]] if chunk.metadata.get("action_id") else []
        ):
            parts.setdefault(action_id, []).append(chunk)
    return {action_id: tuple(found) for action_id, found in parts.items()}


class RecordSet:
    """Chunks, actions and manifest held in memory, with the lookups built once on first use."""

    def __init__(self, chunks: Sequence[Chunk], actions: Sequence[Action], manifest: Manifest) -> None:
        self.chunks: list[Chunk] = list(chunks)
        self.actions: list[Action] = list(actions)
        self.manifest = manifest

    def __len__(self) -> int:
        return len(self.chunks)

    @cached_property
    def by_id(self) -> dict[str, Chunk]:
        return {c.id: c for c in self.chunks}

    @cached_property
    def actions_by_id(self) -> dict[str, Action]:
        return {a.id: a for a in self.actions}

    @cached_property
    def parts_by_action(self) -> dict[str, tuple[Chunk, ...]]:
        return parts_by_action(self.chunks)

    def action_of(self, chunk: Chunk) -> Action | None:
        action_id = chunk.metadata.get("action_id")
        return self.actions_by_id.get(action_id) if action_id else None


class FaissStore(RecordSet):
    """Chunks and their normalised vectors in a FAISS inner-product index (the lookups by id are RecordSet's)."""

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, manifest: Manifest, actions: list[Action] | None = None) -> None:
        if len(chunks) != vectors.shape[0]:
            raise ValueError(f"{len(chunks)} chunks but {vectors.shape[0]} vectors: they must match one to one")
        super().__init__(chunks, actions or [], manifest)
        if manifest.faiss_index == "IndexIVFScalarQuantizer" and not len(chunks):
            raise ValueError("an IVF index is trained on its vectors: an empty index is an IndexFlatIP")
        self._index: Any = _new_index(manifest.faiss_index, manifest.dimension, vectors)
        _tune(self._index)
        if len(chunks):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def from_faiss(cls, chunks: list[Chunk], index: Any, manifest: Manifest, actions: list[Action] | None = None) -> FaissStore:
        store = cls.__new__(cls)
        RecordSet.__init__(store, chunks, actions or [], manifest)
        store._index = index
        _tune(index)
        if index.ntotal != len(chunks):
            raise IndexNotReady(f"Index abîmé : {index.ntotal} vecteurs pour {len(chunks)} passages. {REBUILD}")
        return store

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

    def save(self, folder: Path) -> Manifest:
        """Write the index to ``folder`` atomically (a complete new folder replaces the old one); returns the
        manifest as written (with the files' checksums), which becomes this store's."""
        import shutil

        import faiss

        with publishing(folder):  # recovery in another process leaves our staging folder alone meanwhile
            work = staging_dir(folder)
            try:
                faiss.write_index(self._index, str(work / "vectors.faiss"))
                with open(work / "chunks.jsonl", "w", encoding="utf-8") as handle:
                    for chunk in self.chunks:
                        handle.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")
                with open(work / "actions.jsonl", "w", encoding="utf-8") as handle:
                    for action in self.actions:
                        handle.write(json.dumps(action.to_json(), ensure_ascii=False) + "\n")
                for name in INDEX_FILES:
                    _fsync_file(work / name)  # on disk before the manifest vouches for them
                manifest = replace(
                    self.manifest,
                    checksums={name: _sha256(work / name) for name in INDEX_FILES},
                    sizes={name: (work / name).stat().st_size for name in INDEX_FILES},
                )
                # Written last: a staging folder with a readable manifest whose checksums match is complete.
                (work / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False))
                _fsync_file(work / "manifest.json")
                fsync_dir(work)
                publish_dir(work, folder)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
        self.manifest = manifest
        return manifest

    @classmethod
    def load(cls, folder: Path) -> FaissStore:
        """Read an index folder written by ``save``, after repairing an interrupted swap and checking every
        file against the manifest's checksums. Raises IndexNotReady with the fix if it is unusable.

        The vectors are memory-mapped read-only (see ``_read_index``): a later publish replaces the folder,
        never the mapped file in place, so a loaded store keeps reading the index it checked."""
        recover_index(folder)
        manifest = read_manifest(folder)
        if manifest is None:
            raise IndexNotReady(_unreadable(folder))
        check_files(folder, manifest)
        try:
            with open(folder / "chunks.jsonl", encoding="utf-8") as handle:
                chunks = [Chunk.from_json(json.loads(line)) for line in handle if line.strip()]
            with open(folder / "actions.jsonl", encoding="utf-8") as handle:
                actions = [Action.from_json(json.loads(line)) for line in handle if line.strip()]
            index = _read_index(folder / "vectors.faiss")
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexNotReady(f"Index illisible dans {folder} ({exc}). {REBUILD}") from exc
        if index.d != manifest.dimension:
            raise IndexNotReady(
                f"Index abîmé dans {folder} : vecteurs de {index.d} dimensions, le manifeste en annonce {manifest.dimension}. "
                + REBUILD
            )
        return cls.from_faiss(chunks, index, manifest, actions)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_problems(folder: Path, manifest: Manifest) -> list[str]:
    """What is wrong with the files of the index in ``folder`` (empty: all there and as written).

    Hashing costs about 3 ms for the bundled corpus (1.6 MB: 400 chunks of 384 dimensions) and grows
    linearly, about 2 ms per MB: cheap enough to do at every load.
    """
    problems = []
    for name in INDEX_FILES:
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            problems.append(f"{name} manquant")
            continue
        if not manifest.checksums:
            continue  # an index older than checksums: see check_files
        if name in manifest.sizes and size != manifest.sizes[name]:
            problems.append(f"{name} fait {size} octets au lieu de {manifest.sizes[name]} (tronqué ou remplacé)")
        elif _sha256(path) != manifest.checksums.get(name):
            problems.append(f"{name} modifié depuis sa construction (somme de contrôle différente)")
    return problems


def check_files(folder: Path, manifest: Manifest) -> None:
    """Raise IndexNotReady (French, with the fix) unless every index file is there and matches its checksum.

    An index without checksums (written by a version before them) is accepted with a warning: refusing it
    would cost every installation a rebuild at upgrade, and it was served unchecked until now anyway.
    """
    problems = file_problems(folder, manifest)
    if problems:
        raise IndexNotReady(f"Index abîmé dans {folder} : {' ; '.join(problems)}. {REBUILD}")
    if not manifest.checksums and folder not in _WARNED:
        _WARNED.add(folder)  # once per process: `ask` checks at ingest and again at load
        log.warning(
            "Index sans sommes de contrôle dans %s (construit par une version précédente) : utilisé sans vérification. "
            "`reperes ingest --force` le reconstruit avec elles.",
            folder,
        )


def index_intact(folder: Path) -> bool:
    """True when ``folder`` holds a complete index: readable manifest, every file there and matching it."""
    manifest = read_manifest(folder)
    return manifest is not None and not file_problems(folder, manifest)


def recover_index(folder: Path) -> str | None:
    """Repair an interrupted publication of ``folder`` (see ``index.atomic.recover_dir``); returns what was done."""
    done = recover_dir(folder, index_intact)
    if done:
        log.warning("Index : %s.", done)
    return done


def _unreadable(folder: Path) -> str:
    """Why ``read_manifest`` found no usable index in ``folder``, and what to run."""
    path = folder / "manifest.json"
    if not folder.exists():
        return f"Aucun index dans {folder} : lancez `reperes ingest` (ou `make run`) pour le construire."
    if not path.exists():
        return f"Index abîmé dans {folder} : manifest.json manquant. {REBUILD}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"Index abîmé dans {folder} : manifest.json illisible. {REBUILD}"
    if isinstance(data, dict) and data.get("format") != FORMAT_VERSION:
        return (
            f"Index dans {folder} au format {data.get('format')!r}, cette version lit le format {FORMAT_VERSION} : "
            "lancez `reperes ingest` pour le reconstruire."
        )
    return f"Index abîmé dans {folder} : manifest.json incomplet. {REBUILD}"


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of the index in ``folder``, or None if there is no readable index there."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None
    if manifest.format != FORMAT_VERSION or not isinstance(manifest.checksums, dict) or not isinstance(manifest.sizes, dict):
        return None
    return manifest
