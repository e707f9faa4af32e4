"""Incremental ingest: per-passage embedding cache, per-file stamps, a server that swaps in a new index.

Every count here is of texts the fake embedder was actually asked to embed, and of corpus files whose
bytes were actually hashed (a spy on ``index.build.file_digest``).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from langchain_tests.integration_tests import BaseStoreSyncTests

from assistant.cli import main
from assistant.service import Assistant
from assistant.settings import Settings
from index import build as build_module
from index.build import build_index, index_is_current, load_records, read_stamps
from index.cache import FileByteStore, decode_vector, encode_vector
from index.reload import IndexWatcher, index_version
from index.store import FaissStore, read_manifest
from tests.conftest import MINI_CORPUS, KeywordEmbeddings

HOUR_AGO_NS = time.time_ns() - 3600 * 10**9


class CountingEmbeddings(KeywordEmbeddings):
    """Keyword embeddings that keep every passage text they were asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return super().embed_documents(texts)


def _age(corpus: Path) -> None:
    """Files last written an hour ago, as a corpus usually is (a file written in the last two seconds is
    hashed again at each check: see ``RACY_NS``)."""
    for path in corpus.iterdir():
        os.utime(path, ns=(HOUR_AGO_NS, HOUR_AGO_NS))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    copy = tmp_path / "corpus"
    shutil.copytree(MINI_CORPUS, copy)
    _age(copy)
    return copy


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    """(index folder, cache folder), as ``Settings.index_dir`` and ``index_cache_dir`` place them."""
    return tmp_path / "home" / "indexes" / "idx", tmp_path / "home" / "cache" / "idx"


def _edit_one_line(corpus: Path) -> tuple[str, str]:
    """Change one word on one non-blank line of the first document; returns (file name, new line)."""
    path = sorted(corpus.iterdir())[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    n = next(i for i, line in enumerate(lines) if len(line.split()) > 3)
    lines[n] = lines[n] + " Modifié"
    path.write_text("\n".join(lines), encoding="utf-8")
    os.utime(path, ns=(HOUR_AGO_NS + 10**9, HOUR_AGO_NS + 10**9))  # a later, but not racy, modification
    return path.name, lines[n]


def _cache_entries(cache: Path) -> list[str]:
    return list(FileByteStore(cache / "vectors").yield_keys())


def test_an_unchanged_corpus_embeds_nothing(corpus: Path, paths: tuple[Path, Path]) -> None:
    folder, cache = paths
    spy = CountingEmbeddings()
    first = build_index(corpus, folder, spy, "kw", cache=cache)
    chunks, _, _ = load_records(corpus)
    assert first.rebuilt and first.embedded == len(spy.texts) == len({c.text for c in chunks}) > 0
    spy.texts.clear()
    assert not build_index(corpus, folder, spy, "kw", cache=cache).rebuilt and spy.texts == []
    # The index lost (or another recipe to write): rebuilt from the cache, nothing embedded, same vectors.
    before = FaissStore.load(folder)
    shutil.rmtree(folder)
    again = build_index(corpus, folder, spy, "kw", cache=cache)
    assert again.rebuilt and again.embedded == 0 and again.reused == first.embedded and spy.texts == []
    after = FaissStore.load(folder)
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]
    query = KeywordEmbeddings().embed_query("insertion des jeunes")
    assert [(h.chunk.id, round(h.score, 6)) for h in after.search(query, 5)] == [
        (h.chunk.id, round(h.score, 6)) for h in before.search(query, 5)
    ]
    # --force embeds every passage anew (a model swapped under the same name is then recomputed).
    assert build_index(corpus, folder, spy, "kw", force=True, cache=cache).embedded == first.embedded == len(spy.texts)


def test_one_edited_line_re_embeds_only_the_chunks_whose_text_changed(corpus: Path, paths: tuple[Path, Path]) -> None:
    folder, cache = paths
    build_index(corpus, folder, CountingEmbeddings(), "kw", cache=cache)
    old = {c.text for c in load_records(corpus)[0]}
    name, line = _edit_one_line(corpus)
    new_chunks = load_records(corpus)[0]
    changed = {c.text for c in new_chunks} - old
    spy = CountingEmbeddings()
    report = build_index(corpus, folder, spy, "kw", cache=cache)
    assert report.rebuilt and sorted(spy.texts) == sorted(changed) and report.embedded == len(changed) == 1
    assert line in spy.texts[0]
    assert report.documents.changed == (name,) and not report.documents.added and not report.documents.removed
    assert len(_cache_entries(cache)) == len({c.text for c in new_chunks})  # the stale entry pruned


def test_a_removed_document_is_gone_from_chunks_actions_and_cache(corpus: Path, paths: tuple[Path, Path]) -> None:
    folder, cache = paths
    build_index(corpus, folder, CountingEmbeddings(), "kw", cache=cache)
    removed = sorted(corpus.iterdir())[0]
    assert any(c.source == removed.name for c in FaissStore.load(folder).chunks)
    removed.unlink()
    spy = CountingEmbeddings()
    report = build_index(corpus, folder, spy, "kw", cache=cache)
    store = FaissStore.load(folder)
    assert report.rebuilt and spy.texts == [] and report.documents.removed == (removed.name,)
    assert all(c.source != removed.name for c in store.chunks) and all(a.source != removed.name for a in store.actions)
    assert len(_cache_entries(cache)) == len({c.text for c in store.chunks})  # pruned to what the index holds
    assert removed.name not in read_stamps(cache)


def test_a_touched_but_unchanged_file_is_hashed_once_and_does_not_rebuild(
    corpus: Path, paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, cache = paths
    build_index(corpus, folder, CountingEmbeddings(), "kw", cache=cache)
    hashed: list[str] = []
    real = build_module.file_digest
    monkeypatch.setattr(build_module, "file_digest", lambda path: hashed.append(path.name) or real(path))
    assert index_is_current(folder, corpus, "kw", cache) and hashed == []  # stamps match: no byte read
    touched = sorted(corpus.iterdir())[-1]
    os.utime(touched, ns=(HOUR_AGO_NS + 5 * 10**9, HOUR_AGO_NS + 5 * 10**9))
    spy = CountingEmbeddings()
    assert not build_index(corpus, folder, spy, "kw", cache=cache).rebuilt and spy.texts == []
    assert hashed == [touched.name]  # the touched file alone was read, once
    assert index_is_current(folder, corpus, "kw", cache) and hashed == [touched.name]  # its new stamp kept
    # Without a cache the meaning is the same, every file read.
    assert index_is_current(folder, corpus, "kw") and len(hashed) == 1 + len(list(corpus.iterdir()))
    assert not index_is_current(folder, corpus, "another model", cache)


def test_an_edit_that_keeps_size_and_mtime_is_caught_when_the_stamp_was_racy(corpus: Path, paths: tuple[Path, Path]) -> None:
    """A file stamped right after a write may be written again within the same timestamp tick: such a stamp is
    not kept, so the next check reads the bytes."""
    folder, cache = paths
    path = sorted(corpus.iterdir())[0]
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")  # just written: racy
    build_index(corpus, folder, CountingEmbeddings(), "kw", cache=cache)
    assert path.name not in read_stamps(cache)
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("a", "e", 1), encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same mtime
    assert not index_is_current(folder, corpus, "kw", cache)


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "other dimension", "not finite", "garbage"])
def test_a_corrupt_cache_entry_is_re_embedded(corpus: Path, paths: tuple[Path, Path], damage: str) -> None:
    folder, cache = paths
    build_index(corpus, folder, CountingEmbeddings(), "kw", cache=cache)
    entry = sorted((cache / "vectors").iterdir())[0]
    raw = bytearray(entry.read_bytes())
    if damage == "flipped byte":
        raw[20] ^= 0x40
    elif damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "other dimension":
        raw = bytearray(encode_vector(np.ones(8, dtype=np.float32)))
    elif damage == "not finite":
        raw = bytearray(encode_vector(np.full(256, np.nan, dtype=np.float32)))
    else:
        raw = bytearray(b"\x80\x04not a vector")  # e.g. a pickle someone put there: never loaded
    assert decode_vector(bytes(raw), 256) is None
    entry.write_bytes(bytes(raw))
    shutil.rmtree(folder)
    spy = CountingEmbeddings()
    report = build_index(corpus, folder, spy, "kw", cache=cache)
    assert report.embedded == len(spy.texts) == 1  # that passage alone, embedded again
    fresh = np.asarray(KeywordEmbeddings().embed_documents(spy.texts), dtype=np.float32)[0]
    assert np.allclose(decode_vector(entry.read_bytes(), 256), fresh)  # and the entry repaired


def test_the_byte_store_refuses_keys_that_are_not_file_names(tmp_path: Path) -> None:
    store = FileByteStore(tmp_path / "kv")
    for key in ("../escape", "a/b", ".hidden", "", "x" * 129):
        with pytest.raises(ValueError):
            store.mset([(key, b"v")])
    store.mset([("k1", b"v1")])
    assert store.mget(["k1", "k2"]) == [b"v1", None] and list(store.yield_keys(prefix="k")) == ["k1"]
    assert [p.name for p in (tmp_path / "kv").iterdir()] == ["k1"]  # no temporary file left


class TestFileByteStoreStandard(BaseStoreSyncTests[bytes]):
    """LangChain's own key-value suite (``langchain-tests``) on the cache's ByteStore."""

    @pytest.fixture
    def kv_store(self, tmp_path: Path) -> FileByteStore:
        return FileByteStore(tmp_path / "kv")

    @pytest.fixture
    def three_values(self) -> tuple[bytes, bytes, bytes]:
        return b"foo", b"bar", b"buzz"


def test_cli_ask_reads_no_corpus_byte_when_the_stamps_match(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REPERES_CORPUS", str(corpus))
    embeddings = CountingEmbeddings()
    monkeypatch.setattr("assistant.service.make_embeddings", lambda *args, **kwargs: embeddings)
    assert main(["ingest", "--no-progress"]) == 0
    assert "passages encodés" in capsys.readouterr().out
    hashed: list[Path] = []
    real = build_module.file_digest
    monkeypatch.setattr(build_module, "file_digest", lambda path: hashed.append(path) or real(path))
    embeddings.texts.clear()
    assert main(["ask", "--json", "--no-progress", "Quelle action pour un jeune de 17 ans à Lille ?"]) == 0
    assert hashed == [] and embeddings.texts == []
    assert main(["ingest"]) == 0 and "déjà à jour" in capsys.readouterr().out and hashed == []


def test_ingest_progress_bars_are_french_and_only_when_asked(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REPERES_CORPUS", str(corpus))
    monkeypatch.setattr("assistant.service.make_embeddings", lambda *args, **kwargs: KeywordEmbeddings())
    assert main(["ingest"]) == 0  # stderr is not a terminal here: no bar
    assert "Documents lus" not in capsys.readouterr().err
    assert main(["ingest", "--force", "--progress"]) == 0
    err = capsys.readouterr().err
    assert "Documents lus" in err and "Passages encodés" in err
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"id": "1", "question": "Un jeune de 17 ans à Lille ?"}\n', encoding="utf-8")
    assert main(["ask", "--batch", str(batch), "--out", str(tmp_path / "out.jsonl"), "--progress"]) == 0
    assert "Questions traitées" in capsys.readouterr().err


# --- A running server picks up a new index -------------------------------------------------------------

NEW_DOCUMENT = "# Atelier robotique\n\nUn atelier zorglubique de robotique pour les jeunes de Roubaix.\n"


def _wait(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_a_running_server_switches_to_a_newly_published_index_without_failing_an_answer(tmp_path: Path, corpus: Path) -> None:
    from assistant.api import create_app

    settings = Settings.from_env(environ={}, home=tmp_path / "home", corpus=corpus)
    served = Assistant(settings, embeddings=KeywordEmbeddings())
    served.ingest()
    served.warm_up()
    client = TestClient(create_app(served, mount_ui=False))
    before = client.get("/api/health").json()["index"]
    assert before["version"] == index_version(served.store.manifest)
    old_store = served.store
    old_chain = served.chain()  # an answer that started before the switch

    failures: list[BaseException] = []
    answered = {"n": 0}
    stop = threading.Event()

    def ask_all_the_time() -> None:
        while not stop.is_set():
            try:
                answer = served.ask("Quelle action pour un jeune de 17 ans à Roubaix ?")
                assert answer.answer
                answered["n"] += 1
            except BaseException as exc:  # any failure of an answer is what this test looks for
                failures.append(exc)

    askers = [threading.Thread(target=ask_all_the_time) for _ in range(2)]
    watcher = IndexWatcher(settings.index_dir, served.refresh_index, every=0.05).start()
    try:
        for thread in askers:
            thread.start()
        assert _wait(lambda: answered["n"] >= 3)
        # `reperes ingest` in another thread (its own Assistant, as another process would be) publishes.
        (corpus / "robotique.md").write_text(NEW_DOCUMENT, encoding="utf-8")
        report = Assistant(settings, embeddings=KeywordEmbeddings()).ingest()
        assert report.rebuilt
        assert _wait(lambda: served.loaded_store is not old_store)
        count = answered["n"]
        assert _wait(lambda: answered["n"] >= count + 3)  # answers go on on the new index
    finally:
        stop.set()
        for thread in askers:
            thread.join(timeout=30)
        watcher.stop()
    assert failures == []
    new_store = served.loaded_store
    assert new_store is not None and new_store.manifest == read_manifest(settings.index_dir)
    assert any(c.source == "robotique.md" for c in new_store.chunks)
    after = client.get("/api/health").json()
    assert after["index"]["version"] == index_version(new_store.manifest) != before["version"]
    assert after["chunks"] == len(new_store.chunks) > before["count"]
    # The chain built before the switch finishes on the index it started with; a new one sees the new document.
    question = {"question": "atelier zorglubique de robotique", "history": [], "filters": None}
    assert all(r.source != "robotique.md" for r in old_chain.invoke(question).retrieved)
    assert any(r.source == "robotique.md" for r in served.chain().invoke(question).retrieved)


def test_a_damaged_new_index_is_refused_and_the_loaded_one_kept(tmp_path: Path, corpus: Path) -> None:
    settings = Settings.from_env(environ={}, home=tmp_path / "home", corpus=corpus)
    served = Assistant(settings, embeddings=KeywordEmbeddings())
    served.ingest()
    loaded = served.store
    (corpus / "robotique.md").write_text(NEW_DOCUMENT, encoding="utf-8")
    Assistant(settings, embeddings=KeywordEmbeddings()).ingest()
    with open(settings.index_dir / "chunks.jsonl", "ab") as handle:
        handle.write(b"damaged\n")
    assert served.refresh_index() and served.loaded_store is loaded  # refused, said in the log, still served
    assert served.ask("Quelle action pour un jeune de 17 ans à Lille ?").answer


def test_sighup_reloads_at_once_without_polling(tmp_path: Path, corpus: Path) -> None:
    """``every=0``: the watcher only acts on ``trigger`` (what `reperes serve`'s SIGHUP handler calls)."""
    settings = Settings.from_env(environ={}, home=tmp_path / "home", corpus=corpus)
    served = Assistant(settings, embeddings=KeywordEmbeddings())
    served.ingest()
    loaded = served.store
    watcher = IndexWatcher(settings.index_dir, served.refresh_index, every=0).start()
    try:
        (corpus / "robotique.md").write_text(NEW_DOCUMENT, encoding="utf-8")
        Assistant(settings, embeddings=KeywordEmbeddings()).ingest()
        time.sleep(0.2)
        assert served.loaded_store is loaded  # no polling
        watcher.trigger()
        assert _wait(lambda: served.loaded_store is not loaded)
    finally:
        watcher.stop()


def test_an_index_published_before_the_watcher_started_is_not_missed(tmp_path: Path, corpus: Path) -> None:
    settings = Settings.from_env(environ={}, home=tmp_path / "home", corpus=corpus)
    served = Assistant(settings, embeddings=KeywordEmbeddings())
    served.ingest()
    loaded = served.store
    (corpus / "robotique.md").write_text(NEW_DOCUMENT, encoding="utf-8")
    Assistant(settings, embeddings=KeywordEmbeddings()).ingest()  # between the load and the watcher's start
    watcher = IndexWatcher(settings.index_dir, served.refresh_index, every=0.05).start()
    try:
        assert _wait(lambda: served.loaded_store is not loaded)
    finally:
        watcher.stop()


def test_an_embedder_can_ask_for_fewer_larger_calls() -> None:
    class Batching(CountingEmbeddings):
        min_call_size = 70  # as a distributed embedder does (index.distributed.RayEmbeddings)

        def __init__(self) -> None:
            super().__init__()
            self.calls: list[int] = []

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            self.calls.append(len(texts))
            return super().embed_documents(texts)

    texts = [f"passage numéro {n} sur l'emploi" for n in range(100)]
    batching, plain = Batching(), CountingEmbeddings()
    vectors, embedded = build_module.embed_passages(texts, batching)
    assert embedded == 100 and batching.calls == [70, 30]  # not twenty calls of five
    assert np.allclose(vectors, build_module.embed_passages(texts, plain)[0])  # the same vectors, in order
