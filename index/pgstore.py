"""The index in PostgreSQL + pgvector (``REPERES_STORE=pgvector``): chunks, vectors, actions and manifest in tables
several app instances share, the dense search through langchain-postgres's ``PGVectorStore``.

Layout (one set of tables per copy, never modified once published)::

    reperes_versions     version, manifest (JSON), created: one row per copy
    reperes_current      one row: the version instances load (the pointer)
    reperes_chunks_vN    langchain_id (TEXT: the chunk id), content (its text), embedding vector(d),
                         langchain_metadata (JSON: the chunk's ``to_json()`` record), position (index order)
    reperes_actions_vN   id, position, record (JSON: the action's ``to_json()``)

``migrate`` copies a FAISS index into new tables and moves the pointer in the same transaction: an instance
loading meanwhile reads the old copy or the new one, never half of one. An instance keeps the version it
loaded until it restarts, so the previous copy is kept (``KEEP`` versions) and older ones dropped.

The lexical side stays in memory: BM25 (``index.lexical``) over the chunks read from here. PostgreSQL's French
full-text search would rank differently (its own stemming and stop words, ``ts_rank`` instead of BM25, no
elision repair), so answers would change with the store, and the composer's word statistics (document
frequency, near spellings) need the vocabulary in the process anyway; building BM25 takes a few hundred
milliseconds at 10k chunks, once per instance.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from index.records import RecordSet
from index.store import HNSW_EF_SEARCH, HNSW_NEIGHBOURS, FaissStore, Hit, IndexNotReady, Manifest
from index.vectorstore import dense_hits, stored_vectors
from ingest.records import Action, Chunk

if TYPE_CHECKING:
    from langchain_postgres import PGEngine, PGVectorStore

VERSIONS = "reperes_versions"
POINTER = "reperes_current"
KEEP = 2  # copies kept: the current one and the one instances started before the last migration still read
_LOCK_KEY = 0x7265706572  # pg_advisory_xact_lock key: one migration at a time
_HNSW_ROWS = 200
MIGRATE = "Lancez `reperes migrate --to pgvector` pour y copier l'index."


def chunks_table(version: int) -> str:
    return f"reperes_chunks_v{version}"


def actions_table(version: int) -> str:
    return f"reperes_actions_v{version}"


def sqlalchemy_url(dsn: str) -> str:
    """``dsn`` (``postgresql://user:password@host:port/base``) for SQLAlchemy with the psycopg 3 driver."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql+psycopg://", dsn)


def masked(dsn: str) -> str:
    """``dsn`` without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", dsn)


def _connect(dsn: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as exc:
        raise IndexNotReady(
            f"PostgreSQL injoignable ({masked(dsn)}) : {str(exc).strip()}. Vérifiez REPERES_PG_DSN et que le serveur tourne."
        ) from exc


def _vector_text(vector: np.ndarray) -> str:
    # float32 -> repr of the same value as a double: pgvector's float4 reads back the exact float32.
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


@dataclass(frozen=True)
class Migration:
    """What ``migrate`` copied: the version now current, its counts, and the versions dropped."""

    version: int
    chunks: int
    actions: int
    dropped: tuple[int, ...]
    seconds: float


def migrate(store: FaissStore, dsn: str, keep: int = KEEP) -> Migration:
    """Copy ``store`` (chunks, vectors, actions, manifest) into new tables and make them current, in one
    transaction; then drop the copies older than the ``keep`` last. Raises IndexNotReady if PostgreSQL is
    unreachable (French message, password masked)."""
    if keep < 1:
        raise ValueError(f"keep ({keep}) must be >= 1")
    start = time.perf_counter()
    vectors = stored_vectors(store)
    manifest = store.manifest
    with _connect(dsn) as conn:  # commits at the end of the block, rolls back on any error
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSIONS} (version INTEGER PRIMARY KEY, manifest JSON NOT NULL,"
            " created TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {POINTER} (singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),"
            f" version INTEGER NOT NULL REFERENCES {VERSIONS} (version))"
        )
        version = int(conn.execute(f"SELECT coalesce(max(version), 0) + 1 FROM {VERSIONS}").fetchone()[0])
        chunks, actions = chunks_table(version), actions_table(version)
        # A table left by a failed run cannot exist (DDL is transactional), but a hand-made one might.
        conn.execute(f"DROP TABLE IF EXISTS {chunks}, {actions}")
        conn.execute(
            f"CREATE TABLE {chunks} (langchain_id TEXT PRIMARY KEY, content TEXT NOT NULL,"
            f" embedding vector({int(manifest.dimension)}) NOT NULL, langchain_metadata JSON, position INTEGER)"
        )
        conn.execute(f"CREATE TABLE {actions} (id TEXT PRIMARY KEY, position INTEGER NOT NULL, record JSON NOT NULL)")
        with conn.cursor() as cur:
            with cur.copy(f"COPY {chunks} (langchain_id, content, embedding, langchain_metadata, position) FROM STDIN") as copy:
                for n, (chunk, vector) in enumerate(zip(store.chunks, vectors, strict=True)):
                    copy.write_row(
                        (chunk.id, chunk.text, _vector_text(vector), json.dumps(chunk.to_json(), ensure_ascii=False), n)
                    )
            with cur.copy(f"COPY {actions} (id, position, record) FROM STDIN") as copy:
                for n, action in enumerate(store.actions):
                    copy.write_row((action.id, n, json.dumps(action.to_json(), ensure_ascii=False)))
        if manifest.faiss_index != "IndexFlatIP":
            # As FAISS: exact search up to HNSW_THRESHOLD chunks, an approximate index above (pgvector's HNSW graph
            # for FAISS's HNSW and IVF-SQ8 alike: it keeps full vectors, searched with ef_search rows).
            conn.execute(
                f"CREATE INDEX {chunks}_hnsw ON {chunks} USING hnsw (embedding vector_cosine_ops)"
                f" WITH (m = {HNSW_NEIGHBOURS}, ef_construction = 80)"
            )
        conn.execute(f"INSERT INTO {VERSIONS} (version, manifest) VALUES (%s, %s)", (version, json.dumps(asdict(manifest))))
        conn.execute(
            f"INSERT INTO {POINTER} (singleton, version) VALUES (TRUE, %s)"
            " ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version",
            (version,),
        )
    dropped = _drop_old(dsn, version - keep)
    return Migration(version, len(store.chunks), len(store.actions), dropped, time.perf_counter() - start)


def _drop_old(dsn: str, newest: int) -> tuple[int, ...]:
    """Drop the copies up to version ``newest``: an instance still reading one fails its next search and says so."""
    with _connect(dsn) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        old = [int(r[0]) for r in conn.execute(f"SELECT version FROM {VERSIONS} WHERE version <= %s", (newest,)).fetchall()]
        for version in old:
            conn.execute(f"DROP TABLE IF EXISTS {chunks_table(version)}, {actions_table(version)}")
            conn.execute(f"DELETE FROM {VERSIONS} WHERE version = %s", (version,))
    return tuple(old)


def current_version(dsn: str) -> int | None:
    """The version instances load, or None when nothing was migrated there yet."""
    with _connect(dsn) as conn:
        if conn.execute("SELECT to_regclass(%s)", (POINTER,)).fetchone()[0] is None:
            return None
        row = conn.execute(f"SELECT version FROM {POINTER}").fetchone()
    return int(row[0]) if row else None


class PgStore(RecordSet):
    """The index read from PostgreSQL: records in memory (as FaissStore's), vectors searched in the database."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        actions: Sequence[Action],
        manifest: Manifest,
        version: int,
        vectorstore: PGVectorStore,
        engine: PGEngine,
    ) -> None:
        super().__init__(chunks, actions, manifest)
        self.version = version
        self.vectorstore = vectorstore
        self._engine = engine

    @classmethod
    def load(cls, dsn: str, embeddings: Embeddings) -> PgStore:
        """The current copy (``reperes_current``). Raises IndexNotReady (French, with the fix) when PostgreSQL
        is unreachable, nothing was migrated, or the copy is incomplete."""
        from langchain_postgres import PGEngine, PGVectorStore
        from langchain_postgres.v2.indexes import HNSWQueryOptions

        with _connect(dsn) as conn:
            if conn.execute("SELECT to_regclass(%s)", (POINTER,)).fetchone()[0] is None:
                raise IndexNotReady(f"Aucun index dans PostgreSQL ({masked(dsn)}). {MIGRATE}")
            row = conn.execute(f"SELECT v.version, v.manifest FROM {POINTER} p JOIN {VERSIONS} v USING (version)").fetchone()
            if row is None:
                raise IndexNotReady(f"Aucun index dans PostgreSQL ({masked(dsn)}). {MIGRATE}")
            version, data = int(row[0]), row[1]
            chunks = [
                Chunk.from_json(r[0])
                for r in conn.execute(f"SELECT langchain_metadata FROM {chunks_table(version)} ORDER BY position, langchain_id")
            ]
            actions = [
                Action.from_json(r[0]) for r in conn.execute(f"SELECT record FROM {actions_table(version)} ORDER BY position")
            ]
        manifest = Manifest(**data)
        if len(chunks) != manifest.count:
            raise IndexNotReady(
                f"Index abîmé dans PostgreSQL (version {version}) : {len(chunks)} passages, le manifeste en annonce "
                f"{manifest.count}. {MIGRATE}"
            )
        engine = PGEngine.from_connection_string(sqlalchemy_url(dsn))
        vectorstore = PGVectorStore.create_sync(
            engine,
            embeddings,
            chunks_table(version),
            id_column="langchain_id",
            content_column="content",
            embedding_column="embedding",
            metadata_json_column="langchain_metadata",
            # pgvector's HNSW returns at most ef_search rows (FAISS searches max(efSearch, k)): room for the
            # hybrid's candidates (60 by default).
            index_query_options=HNSWQueryOptions(ef_search=max(HNSW_EF_SEARCH, _HNSW_ROWS))
            if manifest.faiss_index != "IndexFlatIP"
            else None,
        )
        return cls(chunks, actions, manifest, version, vectorstore, engine)

    def search(self, vector: list[float] | np.ndarray, k: int) -> list[Hit]:
        """The ``k`` chunks most similar to ``vector``, best first (cosine, as FaissStore.search)."""
        if k < 1:
            raise ValueError(f"k ({k}) must be >= 1")
        if not self.chunks:
            return []
        size = np.asarray(vector).size
        if size != self.manifest.dimension:
            raise IndexNotReady(
                f"query vector has {size} dimensions, the index {self.manifest.dimension}: "
                "the embedding model changed, rebuild with `reperes ingest` and `reperes migrate --to pgvector`."
            )
        return dense_hits(self.vectorstore, self, vector, min(k, len(self.chunks)))

    def close(self) -> None:
        """Close the connection pool (the store is unusable afterwards)."""
        import asyncio

        loop = self._engine._loop
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._engine.close(), loop).result(timeout=10)
