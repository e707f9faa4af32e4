"""The embedding cache: a passage's vector kept on disk under the hash of its text and of the model.

An ingest embeds only the passages whose text the cache does not hold, so an unchanged corpus embeds
nothing and an edited line re-embeds the chunks whose text changed. Layout (no pickle)::

    <cache>/vectors/<key>   one entry per passage: ``RPV1``, the dimension (uint32), the float32 vector,
                            then 8 bytes of BLAKE2b over what precedes; ``key`` = sha256(namespace, text)

``FileByteStore`` is a LangChain ``ByteStore`` (one file per key, written atomically); ``VectorCache``
encodes vectors into it and checks every entry it reads: a wrong magic, length, dimension, digest or a
non-finite value is a miss (the passage is embedded again), never a vector served. LangChain's own
``CacheBackedEmbeddings`` moved to ``langchain-classic`` with 1.0 and trusts its entries as JSON; this is
the same idea with those checks. After a publish, ``prune`` drops the entries the new index no longer
holds, so the cache stays the size of the index.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from langchain_core.stores import ByteStore

log = logging.getLogger(__name__)

MAGIC = b"RPV1"
_HEADER = struct.Struct("<4sI")
_DIGEST = 8
# Keys become file names: a safe, bounded alphabet (no separator, no dot-files, no "..").
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


class FileByteStore(ByteStore):
    """A LangChain ``ByteStore`` in a folder: one file per key, each written through a temporary file and a
    rename (a reader sees the old bytes or the new ones, never half). Keys are file names: letters, digits,
    ``_ - .`` (not first), at most 128 characters; another key is a ValueError."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"invalid key {key!r}: letters, digits, '_', '-', '.' (not first), at most 128 characters")
        return self.folder / key

    def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        values: list[bytes | None] = []
        for key in keys:
            try:
                values.append(self._path(key).read_bytes())
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                values.append(None)
        return values

    def mset(self, key_value_pairs: Sequence[tuple[str, bytes]]) -> None:
        if key_value_pairs:
            self.folder.mkdir(parents=True, exist_ok=True)
        for key, value in key_value_pairs:
            path = self._path(key)
            fd, tmp = tempfile.mkstemp(prefix=".tmp.", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(value)
                # No fsync per entry: an entry torn by a power cut fails its digest and is embedded again.
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def mdelete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def yield_keys(self, *, prefix: str | None = None) -> Iterator[str]:
        try:
            names = sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return
        for name in names:
            if _KEY.fullmatch(name) and not name.startswith(".") and (prefix is None or name.startswith(prefix)):
                yield name


def encode_vector(vector: np.ndarray) -> bytes:
    """A cache entry: magic, dimension, float32 values, digest."""
    values = np.ascontiguousarray(vector, dtype="<f4").reshape(-1)
    body = _HEADER.pack(MAGIC, values.shape[0]) + values.tobytes()
    return body + hashlib.blake2b(body, digest_size=_DIGEST).digest()


def decode_vector(entry: bytes | None, dimension: int | None = None) -> np.ndarray | None:
    """The vector of a cache entry, or None when it is missing, damaged or of another ``dimension``."""
    if entry is None or len(entry) < _HEADER.size + _DIGEST:
        return None
    magic, size = _HEADER.unpack_from(entry)
    if magic != MAGIC or size == 0 or len(entry) != _HEADER.size + 4 * size + _DIGEST:
        return None
    if dimension is not None and size != dimension:
        return None
    body, digest = entry[:-_DIGEST], entry[-_DIGEST:]
    if hashlib.blake2b(body, digest_size=_DIGEST).digest() != digest:
        return None
    vector = np.frombuffer(body, dtype="<f4", offset=_HEADER.size).astype(np.float32)
    return vector if np.isfinite(vector).all() else None


class VectorCache:
    """Passage vectors by (namespace, text) in a ``ByteStore``; ``namespace`` names the model and prompt, so
    another model never reads this one's vectors."""

    def __init__(self, store: ByteStore, namespace: str) -> None:
        self.store = store
        self.namespace = namespace
        self._write_failed = False

    def key(self, text: str) -> str:
        return hashlib.sha256(self.namespace.encode() + b"\0" + text.encode()).hexdigest()

    def get(self, texts: Sequence[str], dimension: int | None = None) -> list[np.ndarray | None]:
        """The cached vector of each text (None: not cached, or an entry that fails its checks).

        Without ``dimension``, the dimension most entries share is expected: a stray entry of another size
        is a miss, not a reason to distrust the others."""
        try:
            entries = self.store.mget([self.key(t) for t in texts])
        except OSError as exc:  # an unreadable cache costs an embedding, never the ingest
            log.warning("Cache des vecteurs illisible (%s) : tout est recalculé.", exc)
            return [None] * len(texts)
        vectors = [decode_vector(e) for e in entries]
        if dimension is None:
            sizes = [v.shape[0] for v in vectors if v is not None]
            dimension = max(set(sizes), key=sizes.count) if sizes else None
        return [v if v is not None and v.shape[0] == dimension else None for v in vectors]

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep these vectors; a cache that cannot be written is said once and the ingest goes on."""
        try:
            self.store.mset([(self.key(t), encode_vector(v)) for t, v in zip(texts, vectors, strict=True)])
        except OSError as exc:
            if not self._write_failed:
                self._write_failed = True
                log.warning("Cache des vecteurs non écrit (%s) : le prochain ingest recalculera ces passages.", exc)

    def prune(self, keep: Sequence[str]) -> int:
        """Delete every entry but those of ``keep`` (the texts of the index just published); returns how many
        went. Entries of another namespace go too: the cache holds one index's vectors."""
        wanted = {self.key(t) for t in keep}
        try:
            stale = [k for k in self.store.yield_keys() if k not in wanted]
            self.store.mdelete(stale)
        except OSError as exc:
            log.warning("Cache des vecteurs non nettoyé (%s).", exc)
            return 0
        return len(stale)
