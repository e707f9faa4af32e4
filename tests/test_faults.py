"""Faults: damaged or foreign index files, interrupted swaps, kills mid-write, read-only or full homes,
damaged models, failing LLM endpoints. Each is detected and answered with a French message saying how
to repair it (or repaired at the next start), never with a traceback.

Everything runs on temporary homes with the keyword embeddings; kill tests are bounded to a few seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI_CORPUS, KeywordEmbeddings
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.cli import main
from assistant.feedback import FeedbackStore
from assistant.llm import FALLBACK_NOTICE, make_chat_model
from assistant.records import Answer
from assistant.service import Assistant
from assistant.settings import Settings
from index.atomic import leftovers, old_copy, publishing, recover_dir, staging_dir, swap_steps
from index.build import build_index
from index.e5_convert import CONVERTER_VERSION, MIN_COSINE, MODEL_DIRNAME, ensure_bundled_model, model_problems
from index.embeddings import SentenceTransformerEmbeddings
from index.store import INDEX_FILES, FaissStore, IndexNotReady, ModelNotReady, read_manifest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


class SpyEmbeddings(KeywordEmbeddings):
    """Keyword embeddings that count the passages they embed (the writability check must come first)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def _corpus_copy(tmp_path: Path, extra: str = "") -> Path:
    """A copy of the mini corpus (with one more document when ``extra``): another index to tell apart."""
    corpus = tmp_path / f"corpus{len(extra)}"
    shutil.copytree(MINI_CORPUS, corpus)
    if extra:
        (corpus / "nouveau.md").write_text(f"# Nouvelle action\n\n{extra}\n", encoding="utf-8")
    return corpus


@pytest.fixture
def built(tmp_path: Path) -> Path:
    folder = tmp_path / "indexes" / "idx"
    build_index(MINI_CORPUS, folder, KeywordEmbeddings(), "kw")
    return folder


# --- 1. Checksums --------------------------------------------------------------------------------


def test_the_manifest_records_a_checksum_and_size_of_every_file(built: Path) -> None:
    manifest = read_manifest(built)
    assert manifest is not None and set(manifest.checksums) == set(manifest.sizes) == set(INDEX_FILES)
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in manifest.checksums.values())
    assert manifest.sizes == {name: (built / name).stat().st_size for name in INDEX_FILES}
    assert FaissStore.load(built).manifest == manifest


def test_random_bytes_inside_the_vectors_are_refused_with_the_fix(built: Path) -> None:
    data = bytearray((built / "vectors.faiss").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = os.urandom(16)  # same size: only a checksum sees it
    (built / "vectors.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexNotReady) as error:
        FaissStore.load(built)
    message = str(error.value)
    assert "Index abîmé" in message and "vectors.faiss" in message and "somme de contrôle" in message
    assert "reperes ingest --force" in message and str(built) in message


def test_truncated_and_foreign_files_are_refused(built: Path, tmp_path: Path) -> None:
    chunks = (built / "chunks.jsonl").read_bytes()
    (built / "chunks.jsonl").write_bytes(chunks[: len(chunks) // 2])
    with pytest.raises(IndexNotReady, match=r"chunks.jsonl fait \d+ octets au lieu de \d+ \(tronqué"):
        FaissStore.load(built)
    (built / "chunks.jsonl").write_bytes(chunks)
    other = tmp_path / "other"
    build_index(_corpus_copy(tmp_path, "Permis de conduire à Tourcoing."), other, KeywordEmbeddings(), "kw")
    shutil.copy(other / "vectors.faiss", built / "vectors.faiss")  # a file of another index
    with pytest.raises(IndexNotReady, match=r"vectors\.faiss fait"):
        FaissStore.load(built)
    (built / "actions.jsonl").unlink()
    with pytest.raises(IndexNotReady, match=r"actions\.jsonl manquant"):
        FaissStore.load(built)


def test_a_broken_manifest_says_damaged_not_absent(built: Path) -> None:
    (built / "manifest.json").write_text('{"format": 2, "cou')
    with pytest.raises(IndexNotReady, match=r"manifest.json illisible\. Lancez `reperes ingest --force`"):
        FaissStore.load(built)
    (built / "manifest.json").unlink()
    with pytest.raises(IndexNotReady, match=r"manifest\.json manquant"):
        FaissStore.load(built)


def test_ingest_says_a_current_but_damaged_index_is_damaged_and_force_rebuilds_it(built: Path) -> None:
    (built / "vectors.faiss").write_bytes(b"\0" * 100)
    spy = SpyEmbeddings()
    with pytest.raises(IndexNotReady, match="--force"):  # not "déjà à jour", not a silent rebuild
        build_index(MINI_CORPUS, built, spy, "kw")
    assert spy.embedded == 0
    assert build_index(MINI_CORPUS, built, spy, "kw", force=True).rebuilt
    assert len(FaissStore.load(built)) > 0


def test_an_index_without_checksums_is_served_with_a_warning(built: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Backward compatibility: an index written before checksums is accepted (an upgrade costs no rebuild),
    with a warning that says how to add them."""
    data = json.loads((built / "manifest.json").read_text())
    del data["checksums"], data["sizes"]
    (built / "manifest.json").write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="index.store"):
        store = FaissStore.load(built)
    assert len(store) > 0 and store.manifest.checksums == {}
    assert "sans sommes de contrôle" in caplog.text and "reperes ingest --force" in caplog.text
    assert not build_index(MINI_CORPUS, built, KeywordEmbeddings(), "kw").rebuilt  # still current


def test_cli_and_api_show_a_damaged_index_as_a_french_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REPERES_CORPUS", str(MINI_CORPUS))
    monkeypatch.setattr("assistant.service.make_embeddings", lambda *args, **kwargs: KeywordEmbeddings())
    assert main(["ingest"]) == 0
    settings = Settings.from_env()
    vectors = settings.index_dir / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:-40])
    capsys.readouterr()
    assert main(["ask", "permis de conduire à Roubaix"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : Index abîmé") and "reperes ingest --force" in err and "Traceback" not in err
    client = TestClient(create_app(Assistant(settings, KeywordEmbeddings()), mount_ui=False))
    response = client.post("/api/ask", json={"question": "permis"})
    assert response.status_code == 503 and "Index abîmé" in response.json()["detail"]  # never served half-built
    assert main(["ingest", "--force"]) == 0
    assert main(["ask", "permis de conduire à Roubaix"]) == 0


# --- 2. Interrupted swaps ------------------------------------------------------------------------


NEW_CORPUS_TEXT = "Une action de plus à Wattrelos."


def _staged_copy(tmp_path: Path, folder: Path) -> Path:
    """A complete new index (of the mini corpus plus one document) in a staging folder beside ``folder``,
    as ``FaissStore.save`` leaves it just before ``publish_dir``: built elsewhere, copied in."""
    elsewhere = tmp_path / "elsewhere" / "idx"
    build_index(_corpus_copy(tmp_path, NEW_CORPUS_TEXT), elsewhere, KeywordEmbeddings(), "kw")
    staged = staging_dir(folder)
    shutil.copytree(elsewhere, staged, dirs_exist_ok=True)
    return staged


STEPS = [name for name, _ in swap_steps(Path("a"), Path("b"))]


@pytest.mark.parametrize("done", range(len(STEPS) + 1), ids=["before", *(f"after-{name}" for name in STEPS)])
def test_a_swap_killed_after_any_step_is_recovered_at_the_next_start(built: Path, tmp_path: Path, done: int) -> None:
    before = read_manifest(built)
    staged = _staged_copy(tmp_path, built)
    after = read_manifest(staged)
    assert before and after and before.corpus_fingerprint != after.corpus_fingerprint
    for _name, step in swap_steps(staged, built)[:done]:
        step()  # … and the process is killed here
    store = FaissStore.load(built)  # the next start
    # The new copy once it was complete and the old one was moved aside; the old one before that.
    expected = after if done >= STEPS.index("move_current_aside") + 1 else before
    assert store.manifest.corpus_fingerprint == expected.corpus_fingerprint
    assert leftovers(built) == []  # staging folder and old copy removed
    assert sorted(p.name for p in built.parent.iterdir()) == ["idx"]


def test_a_kill_between_the_renames_costs_no_rebuild(built: Path, tmp_path: Path) -> None:
    """The measured failure: the index folder absent, `ask` rebuilt silently for 138 s, staging never cleaned."""
    staged = _staged_copy(tmp_path, built)
    for _name, step in swap_steps(staged, built)[:2]:
        step()
    assert not built.exists() and old_copy(built).exists() and staged.exists()
    spy = SpyEmbeddings()
    report = build_index(tmp_path / f"corpus{len(NEW_CORPUS_TEXT)}", built, spy, "kw")  # the new copy's corpus
    assert not report.rebuilt and spy.embedded == 0  # the new copy was put in place, nothing embedded
    assert leftovers(built) == []


def test_the_old_copy_is_restored_when_the_new_one_is_incomplete(built: Path, tmp_path: Path) -> None:
    before = read_manifest(built)
    staged = _staged_copy(tmp_path, built)
    (staged / "vectors.faiss").write_bytes(b"half")  # killed while writing: not what the manifest says
    for _name, step in swap_steps(staged, built)[:2]:
        step()
    spy = SpyEmbeddings()
    assert not build_index(MINI_CORPUS, built, spy, "kw").rebuilt and spy.embedded == 0
    assert read_manifest(built) == before and leftovers(built) == []


def test_a_save_killed_while_writing_leaves_the_index_served_and_the_staging_cleaned(built: Path) -> None:
    partial = staging_dir(built)
    (partial / "vectors.faiss").write_bytes(b"half a file")
    assert FaissStore.load(built) and leftovers(built) == []


def test_recovery_leaves_a_running_build_alone(built: Path) -> None:
    partial = staging_dir(built)
    with publishing(built) as locked:  # another build is writing ``partial`` right now
        assert locked
        assert recover_dir(built, lambda path: True) is None
        assert partial.exists()
    assert recover_dir(built, lambda path: True) is not None and not partial.exists()


def _fork_then_kill(work: Callable[[int], None], delays: tuple[float, ...]) -> None:
    """Fork one child per delay, each running ``work(n)`` forever; once each has done one unit of work
    ("ready"), SIGKILL each after its delay.

    Forked rather than started, and all at once: the children inherit the loaded modules, so the kills
    land at several moments for a fraction of a second each instead of an interpreter start each.
    """
    children: list[tuple[int, int]] = []
    for n in range(len(delays)):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            try:
                os.close(read)
                work_and_signal(work, n, write)
            finally:
                os._exit(1)
        os.close(write)
        children.append((pid, read))
    try:
        for _pid, read in children:
            ready, _, _ = select.select([read], [], [], 30)
            assert ready and os.read(read, 1) == b"r", "a child did not start its work"
        start = time.monotonic()
        for delay, (pid, _read) in sorted(zip(delays, children, strict=True), key=lambda pair: pair[0]):
            time.sleep(max(0.0, start + delay - time.monotonic()))
            os.kill(pid, signal.SIGKILL)
    finally:
        for pid, read in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)


def work_and_signal(work: Callable[[int], None], n: int, write: int) -> None:
    """Run ``work(n)`` once, say "ready" on ``write``, then run it again until killed."""
    work(n)
    os.write(write, b"r")
    while True:
        work(n)


def test_ingest_killed_at_random_moments_leaves_an_intact_index(tmp_path: Path) -> None:
    folder = tmp_path / "indexes" / "idx"
    embeddings = KeywordEmbeddings()

    def build(n: int) -> None:
        build_index(MINI_CORPUS, folder, embeddings, "kw", force=True)

    for delays in ((0.01, 0.07, 0.13), (0.04, 0.1, 0.2)):  # three builders on one folder, killed one by one
        _fork_then_kill(build, delays)
        store = FaissStore.load(folder)  # recovered if a kill fell in a swap; checked either way
        assert len(store) > 0 and leftovers(folder) == []


# --- 3. Writable home before any work -------------------------------------------------------------


def test_a_home_that_cannot_hold_the_index_is_said_before_embedding(tmp_path: Path) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("not a folder")
    spy = SpyEmbeddings()
    with pytest.raises(IndexNotReady) as error:
        build_index(MINI_CORPUS, blocker / "indexes" / "idx", spy, "kw", force=True)
    message = str(error.value)
    assert message.startswith(f"Impossible d'écrire dans {blocker / 'indexes'}") and "REPERES_HOME" in message
    assert spy.embedded == 0


def test_a_full_home_is_said_before_embedding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("index.atomic.shutil.disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 4096, 4096))  # type: ignore[attr-defined]
    spy = SpyEmbeddings()
    with pytest.raises(IndexNotReady, match=r"Place insuffisante dans .*indexes : 0 Mo libres.*REPERES_HOME"):
        build_index(MINI_CORPUS, tmp_path / "indexes" / "idx", spy, "kw", force=True)
    assert spy.embedded == 0


def _private_mounts() -> bool:
    """True when this machine lets us mount a tmpfs in a private mount namespace (root in a container, CI)."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, timeout=10, check=False
    )
    return probe.returncode == 0


_INGEST = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from conftest import KeywordEmbeddings
import assistant.service

class Loud(KeywordEmbeddings):
    def embed_documents(self, texts):
        print("EMBEDDING", file=sys.stderr)
        return super().embed_documents(texts)

assistant.service.make_embeddings = lambda *args, **kwargs: Loud()
from assistant.api import create_app
from assistant.cli import main
sys.exit(main(["ingest", "--force"]))
"""


@pytest.mark.skipif(not _private_mounts(), reason="needs unshare and mount (a private tmpfs)")
@pytest.mark.parametrize(
    ("options", "fill", "reason"),
    [
        ("ro,size=1m", "true", "système de fichiers en lecture seule"),
        ("size=64k", "head -c 1M /dev/zero > $H/plein", "disque plein"),
    ],
    ids=["read-only", "full"],
)
def test_ingest_force_on_a_read_only_or_full_home_fails_at_once_in_french(
    tmp_path: Path, options: str, fill: str, reason: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = _INGEST.format(root=str(ROOT), tests=str(ROOT / "tests"))
    shell = f'H={home}; mount -t tmpfs -o {options} tmpfs "$H" && {{ {fill} 2>/dev/null; true; }} && exec "$0" -c "$1"'
    env = {**os.environ, "REPERES_HOME": str(home), "REPERES_CORPUS": str(MINI_CORPUS)}
    start = time.perf_counter()
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", shell, PYTHON, script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert f"Erreur : Impossible d'écrire dans {home / 'indexes'} ({reason})" in result.stderr
    assert "REPERES_HOME" in result.stderr and "Traceback" not in result.stderr and "EMBEDDING" not in result.stderr
    assert time.perf_counter() - start < 30


# --- 4. The converted model ----------------------------------------------------------------------


def _fake_converted_model(home: Path) -> Path:
    """A folder shaped like a conversion (files, marker, a small but well-formed safetensors)."""
    from safetensors.numpy import save_file

    folder = home / "models" / MODEL_DIRNAME
    (folder / "1_Pooling").mkdir(parents=True)
    for name in ("modules.json", "config.json", "config_sentence_transformers.json", "sentence_bert_config.json"):
        (folder / name).write_text("{}")
    (folder / "1_Pooling" / "config.json").write_text("{}")
    (folder / "tokenizer.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text("{}")
    import numpy as np

    save_file({"weight": np.ones((64, 32), dtype=np.float32)}, str(folder / "model.safetensors"))
    marker = {"converter_version": CONVERTER_VERSION, "min_cosine": MIN_COSINE}
    (folder / "reperes_conversion.json").write_text(json.dumps(marker))
    return folder


def test_a_truncated_or_incomplete_converted_model_says_to_delete_it_and_rerun_ingest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = _fake_converted_model(home)
    assert model_problems(folder) == [] and ensure_bundled_model(home) == folder
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ModelNotReady) as error:
        ensure_bundled_model(home)
    message = str(error.value)
    assert "model.safetensors fait" in message and "tronqué" in message
    assert f"rm -r {folder}" in message and "reperes ingest" in message
    weights.write_bytes(b"\x01")
    assert "model.safetensors tronqué" in model_problems(folder)[0]
    (folder / "config.json").unlink()
    assert "config.json manquant" in model_problems(folder)


def test_a_model_that_does_not_load_is_a_french_message_not_a_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "modele"
    empty.mkdir()
    with pytest.raises(ModelNotReady, match=r"Le modèle d'embedding .*modele ne se charge pas .*REPERES_EMBED_MODEL"):
        SentenceTransformerEmbeddings(empty).embed_query("bonjour")
    (empty / "model.safetensors").write_bytes(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(ModelNotReady, match=r"model\.safetensors illisible"):
        SentenceTransformerEmbeddings(empty, repair="supprimez-le").embed_documents(["bonjour"])


def test_cli_with_a_damaged_model_prints_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    folder = _fake_converted_model(home)
    (folder / "model.safetensors").write_bytes(b"")
    monkeypatch.setenv("REPERES_HOME", str(home))
    monkeypatch.setenv("REPERES_CORPUS", str(MINI_CORPUS))
    monkeypatch.delenv("REPERES_EMBED_MODEL", raising=False)
    assert main(["ask", "permis"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : Modèle converti abîmé") and "reperes ingest" in err and "Traceback" not in err


def test_an_interrupted_model_swap_is_recovered(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = _fake_converted_model(home)
    os.replace(folder, old_copy(folder))  # killed between the two renames of a reconversion
    staging_dir(folder)  # and its staging folder left behind
    assert ensure_bundled_model(home) == folder and leftovers(folder) == []


# --- 5. SQLite -----------------------------------------------------------------------------------


def test_feedback_survives_writers_killed_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "home" / "feedback.sqlite3"
    citations = [{"n": 1, "source": "actions.txt", "line_start": 1, "line_end": 2}]

    def write(n: int) -> None:
        store = FeedbackStore(path)
        i = n * 1_000_000 + store.count()
        store.record(f"q{i}", {"answer": f"r{i} " * 3000, "citations": citations}, "up", comment=f"c{i}")

    _fork_then_kill(write, (0.01, 0.1, 0.25))  # three writers on one database, killed one by one
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute("SELECT question, answer, comment, citations, rating FROM feedback").fetchall()
    assert len(rows) >= 3
    for question, answer, comment, citations_json, rating in rows:  # every row whole
        i = question[1:]
        assert answer == f"r{i} " * 3000 and comment == f"c{i}" and rating == "up"
        assert json.loads(citations_json) == [{**citations[0], "title": "", "page": None}]
    store = FeedbackStore(path)
    assert store.count() == len(rows)
    store.record("encore", {"answer": "oui", "citations": []}, "down")  # still writable
    assert store.count() == len(rows) + 1


def test_the_feedback_database_is_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    previous = os.umask(0)
    try:
        FeedbackStore(path).record("q", {"answer": "r", "citations": []}, "up")
    finally:
        os.umask(previous)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            assert file.stat().st_mode & 0o777 == 0o600, file


def test_a_rating_that_cannot_be_stored_says_where_and_how_to_fix_it(tmp_path: Path) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("not a folder")
    with pytest.raises(sqlite3.OperationalError, match=r"Avis non enregistré dans .*REPERES_HOME"):
        FeedbackStore(blocker / "feedback.sqlite3").record("q", {"answer": "r", "citations": []}, "up")


def test_the_api_answers_a_french_503_when_a_rating_cannot_be_stored(
    assistant: Assistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("not a folder")
    app = create_app(assistant, mount_ui=False)
    app.state.feedback.path = blocker / "feedback.sqlite3"  # the home turned into something unwritable
    body = {"question": "permis à Roubaix", "answer": {"answer": "r", "citations": []}, "rating": "up"}
    with caplog.at_level(logging.ERROR):
        response = TestClient(app, raise_server_exceptions=False).post("/api/feedback", json=body)
    assert response.status_code == 503 and response.headers["retry-after"] == "60"
    assert response.json()["detail"].startswith("Avis non enregistré : le serveur ne peut pas écrire")
    assert str(blocker) not in response.text  # the server's folders stay in its log
    assert any(str(blocker) in r.getMessage() for r in caplog.records)


# --- 6. LLM endpoint faults ----------------------------------------------------------------------


class _Endpoint(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that fails as ``server.mode`` says."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        server: Any = self.server
        server.calls += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if server.mode == "silent":
            server.release.wait(10)  # accepts and never answers (until the test ends)
            return
        status, kind, body = {
            "500": (500, "application/json", b'{"error": {"message": "boom"}}'),
            "bad-json": (200, "application/json", b'{"choices": [{"mess'),
            "bad-stream": (200, "text/event-stream", b"data: {not json\n\n"),
        }[server.mode]
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def endpoint() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    server.daemon_threads, server.block_on_close = True, False
    server.mode, server.calls, server.release = "500", 0, threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more: connection refused


@pytest.fixture(scope="module")
def llm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("llm") / "home"
    Assistant(Settings.from_env(environ={}, home=home, corpus=MINI_CORPUS), KeywordEmbeddings()).ingest()
    return home


def _llm_assistant(home: Path, url: str, timeout_s: float = 0.5, retries: int = 0) -> Assistant:
    settings = Settings.from_env(
        environ={},
        home=home,
        corpus=MINI_CORPUS,
        llm="openai",
        llm_base_url=url,
        llm_model="modele-de-test",
        llm_timeout_s=timeout_s,
        llm_retries=retries,
    )
    return Assistant(settings, KeywordEmbeddings())


@pytest.mark.parametrize("mode", ["refused", "500", "bad-json", "bad-stream", "silent"])
def test_a_failing_llm_endpoint_falls_back_to_the_composed_answer_with_a_notice(
    llm_home: Path, endpoint: Any, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("langchain_openai")
    endpoint.mode = mode
    assistant = _llm_assistant(llm_home, _closed_port_url() if mode == "refused" else endpoint.url)
    question = "permis de conduire à Roubaix"
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="assistant.llm"):
        answer = assistant.ask(question)
    assert time.perf_counter() - start < 5  # the silent endpoint: bounded by the 0.5 s timeout
    assert answer.answer.startswith(FALLBACK_NOTICE + "\n\n") and answer.citations
    assert "PERMIS SOLIDAIRE" in answer.answer.upper()  # the composer's answer, from the documents
    assert "Modèle de langage indisponible" in caplog.text
    composed = Assistant(replace(assistant.settings, llm=""), KeywordEmbeddings()).ask(question)
    assert answer.answer == f"{FALLBACK_NOTICE}\n\n{composed.answer}"
    *_pieces, last = list(assistant.stream(question))  # the chat's path: the record replaces what was shown
    assert isinstance(last, Answer) and last.answer == answer.answer


def test_retries_are_a_setting(llm_home: Path, endpoint: Any) -> None:
    pytest.importorskip("langchain_openai")
    endpoint.mode = "500"
    assistant = _llm_assistant(llm_home, endpoint.url, retries=1)
    assert assistant.ask("permis de conduire à Roubaix").answer.startswith(FALLBACK_NOTICE)
    assert endpoint.calls == 2  # the call and one retry


def test_llm_settings_come_from_the_environment_and_are_checked() -> None:
    settings = Settings.from_env(environ={"REPERES_LLM_TIMEOUT_S": "2.5", "REPERES_LLM_RETRIES": "3"})
    assert (settings.llm_timeout_s, settings.llm_retries) == (2.5, 3)
    assert (Settings().llm_timeout_s, Settings().llm_retries) == (20.0, 1)
    with pytest.raises(ValueError, match="REPERES_LLM_TIMEOUT_S"):
        make_chat_model("openai", "http://127.0.0.1:9/v1", "m", timeout_s=0)
    with pytest.raises(ValueError, match="REPERES_LLM_RETRIES"):
        make_chat_model("openai", "http://127.0.0.1:9/v1", "m", retries=-1)


def test_cli_ask_with_an_unreachable_llm_answers_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("langchain_openai")
    env = {
        "REPERES_HOME": str(tmp_path / "home"),
        "REPERES_CORPUS": str(MINI_CORPUS),
        "REPERES_LLM": "openai",
        "REPERES_LLM_BASE_URL": _closed_port_url(),
        "REPERES_LLM_MODEL": "modele-de-test",
        "REPERES_LLM_TIMEOUT_S": "0.5",
        "REPERES_LLM_RETRIES": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("assistant.service.make_embeddings", lambda *args, **kwargs: KeywordEmbeddings())
    assert main(["ask", "permis de conduire à Roubaix"]) == 0
    captured = capsys.readouterr()
    assert FALLBACK_NOTICE in captured.out and "Traceback" not in captured.err + captured.out


# --- 7. No pickle --------------------------------------------------------------------------------

# Built from pieces so this file does not match itself.
_PICKLE = re.compile(
    "|".join(
        [
            r"^\s*(?:import|from)\s+(?:c?" + "pickle|dill|joblib|cloudpickle)\\b",
            r"\b(?:c?" + r"pickle|dill|joblib)\.loads?\(",
            r"allow_dangerous_" + r"deserialization\s*=\s*True",
            r"allow_" + r"pickle\s*=\s*True",
            r"\btorch\." + r"load\((?![^)]*weights_only\s*=\s*True)",
        ]
    ),
    re.MULTILINE,
)


def test_no_persistence_uses_pickle() -> None:
    skipped = {".venv", ".git", "node_modules", "out", "__pycache__"}
    sources = [p for p in ROOT.rglob("*.py") if not skipped & set(p.relative_to(ROOT).parts)]
    assert len(sources) > 50
    found = [
        f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}: {m.group(0).strip()}"
        for path in sources
        for text in [path.read_text(encoding="utf-8", errors="replace")]
        for m in _PICKLE.finditer(text)
    ]
    assert found == [], "pickle (or a pickle-based loader) in persistence:\n" + "\n".join(found)


def test_the_pickle_check_catches_what_it_claims_to() -> None:
    pickle, torch_load = "pick" + "le", "torch." + "load("
    for bad in (
        f"import {pickle}",
        f"x = {pickle}.load(f)",
        f"model = {torch_load}path)",
        "FAISS.load_local(p, e, allow_dangerous_" + "deserialization=True)",
    ):
        assert _PICKLE.search(bad), bad
    assert not _PICKLE.search(f"{torch_load}path, weights_only=True)")
