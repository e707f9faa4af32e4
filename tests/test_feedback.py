"""Feedback store: validated ratings in SQLite (WAL, concurrent writers), exported in the eval-set format."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.feedback import FeedbackStore, settings_version
from assistant.settings import Settings
from eval.dataset import load_set
from eval.drafts import drafts_from_feedback

EXPORT_KEYS = {"id", "question", "answer", "sources", "rating", "comment", "created", "settings_version"}


def _answer(text: str = "Le Permis solidaire finance une partie du permis [1].") -> dict[str, Any]:
    """A record shaped like `reperes ask --json` (only the fields feedback reads matter)."""
    return {
        "question": "permis à Roubaix",
        "answer": text,
        "refused": False,
        "citations": [
            {"n": 1, "source": "actions.txt", "title": "Guide", "line_start": 3, "line_end": 7, "page": None, "quote": "…"},
            {"n": 2, "source": "actions.txt", "title": "Guide", "line_start": 3, "line_end": 7, "page": None, "quote": "…"},
            {"n": 3, "source": "logement.md", "title": "Logement", "line_start": 3, "line_end": 4, "page": None, "quote": "…"},
        ],
        "retrieved": [],
        "timings_ms": {},
        "filters": None,
        "grounding_drops": [],
    }


def test_the_database_is_created_on_first_write_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "feedback.sqlite3"
    store = FeedbackStore(path)
    assert not path.exists() and store.count() == 0 and store.all() == []
    assert not path.exists()  # reading an absent store creates nothing
    assert store.record("permis à Roubaix", _answer(), "up", "très utile", settings_version="abc") == 1
    assert store.record("logement Lille", _answer(), "down") == 2
    assert store.count() == 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first = store.all()[0]
    assert (first.question, first.rating, first.comment, first.settings_version) == (
        "permis à Roubaix",
        "up",
        "très utile",
        "abc",
    )
    assert first.created.endswith("Z") and first.created.startswith("20")
    assert [c["source"] for c in first.citations] == ["actions.txt", "actions.txt", "logement.md"]
    assert "quote" not in first.citations[0]  # corpus text is not copied into the feedback base


@pytest.mark.parametrize(
    ("question", "answer", "rating", "message"),
    [
        ("q", _answer(), "bof", "avis invalide"),
        ("q", _answer(), "UP", "avis invalide"),
        ("   ", _answer(), "up", "question notée est vide"),
        ("q", {"citations": []}, "up", "réponse notée"),
        ("q", {**_answer(), "citations": [{"source": "a.txt"}]}, "up", "citation 1"),
        ("q", {**_answer(), "citations": [{"source": "a.txt", "line_start": 5, "line_end": 2}]}, "up", "plage de lignes"),
        ("q", {**_answer(), "citations": "a.txt"}, "down", "doit être une liste"),
    ],
)
def test_invalid_feedback_is_refused_in_french_and_nothing_is_stored(
    tmp_path: Path, question: str, answer: dict[str, Any], rating: str, message: str
) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with pytest.raises(ValueError, match=message):
        store.record(question, answer, rating)
    assert store.count() == 0


def test_export_is_the_eval_set_format_and_feeds_the_drafts(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.record("Quelle aide pour le permis à Roubaix ?", _answer(), "up", settings_version="v1")
    store.record("Un logement à Lille ?", {**_answer("Je ne trouve pas."), "citations": []}, "down", "rien trouvé", "v1")
    out = tmp_path / "out" / "feedback.jsonl"
    assert store.export(out) == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [set(line) for line in lines] == [EXPORT_KEYS, EXPORT_KEYS]
    up, down = lines
    assert up["id"] == "feedback-1" and up["rating"] == "up" and up["settings_version"] == "v1"
    assert up["sources"] == [  # duplicates merged, citation order kept
        {"file": "actions.txt", "line_start": 3, "line_end": 7},
        {"file": "logement.md", "line_start": 3, "line_end": 4},
    ]
    assert (down["sources"], down["comment"], down["answer"]) == ([], "rien trouvé", "Je ne trouve pas.")

    items = load_set(out)  # must_include is optional in a set
    assert [i.id for i in items] == ["feedback-1", "feedback-2"] and items[0].sources[0].file == "actions.txt"
    drafts = drafts_from_feedback(out)
    assert len(drafts) == 2
    assert drafts[0]["answer"] == up["answer"] and drafts[0]["sources"] == up["sources"]
    assert drafts[1]["answer"] == "" and drafts[1]["review"]["comment"] == "rien trouvé"

    store.record("Une troisième question ?", _answer(), "up")
    assert store.export(out) == 3 and len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert sorted(p.name for p in out.parent.iterdir()) == ["feedback.jsonl"]  # replaced in place, no temp file left


def test_export_of_an_empty_store_writes_an_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "feedback.jsonl"
    assert FeedbackStore(tmp_path / "none.sqlite3").export(out) == 0
    assert out.read_text(encoding="utf-8") == ""


def test_concurrent_writers_from_threads_lose_no_row(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                store.record(f"question {worker}-{i}", _answer(), "up" if i % 2 else "down", settings_version="v")
        except BaseException as exc:  # surfaced below: a thread's exception would otherwise be lost
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert errors == []
    assert store.count() == threads * per_thread
    assert len({f.question for f in store.all()}) == threads * per_thread
    assert [f.id for f in store.all()] == list(range(1, threads * per_thread + 1))


def _write_from_process(path: str, worker: int, count: int) -> int:
    store = FeedbackStore(Path(path))  # each process opens its own store, as separate servers would
    return len([store.record(f"processus {worker}-{i}", _answer(), "up") for i in range(count)])


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork (fast process start)")
def test_concurrent_writers_from_processes_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    processes, per_process = 8, 10  # all start together on a new file: the WAL switch races
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        written = list(pool.map(_write_from_process, [str(path)] * processes, range(processes), [per_process] * processes))
    assert written == [per_process] * processes
    assert FeedbackStore(path).count() == processes * per_process


def test_settings_version_follows_answer_settings_only() -> None:
    base = Settings.from_env(environ={})
    version = settings_version(base)
    assert len(version) == 12 and version == settings_version(Settings.from_env(environ={}))
    for changed in (
        replace(base, retrieval="bm25"),
        replace(base, rrf_k=base.rrf_k + 1),
        replace(base, dense_weight=0.5),
        replace(base, llm="openai", llm_model="albert-large"),
        replace(base, embed_model="intfloat/multilingual-e5-base"),
        replace(base, top_k=base.top_k + 1),
    ):
        assert settings_version(changed) != version
    for same in (
        replace(base, llm_api_key="sk-secret"),
        replace(base, home=Path("/elsewhere")),
        replace(base, corpus=Path("/other/corpus")),
        replace(base, port=8000, host="0.0.0.0"),
        replace(base, gate_mrr_at_10=0.5),
    ):
        assert settings_version(same) == version
    # A local model or GGUF file counts by its name, wherever it is stored.
    assert settings_version(replace(base, llm="llamacpp", llm_gguf="/a/model.gguf")) == settings_version(
        replace(base, llm="llamacpp", llm_gguf="/b/model.gguf")
    )
