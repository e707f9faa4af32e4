"""`reperes bench` on tiny sizes with the fake embedder: the table and JSON shapes, every figure positive (never a
timing assertion); and the index kinds the store chooses by size, the approximate one included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings
from eval.bench import METRICS, Row, bench_size, format_table, run_bench, write_json
from index.store import FORMAT_VERSION, FaissStore, Manifest, index_kind
from ingest.records import Chunk
from tests.conftest import KeywordEmbeddings


def test_bench_on_a_tiny_synthetic_size_gives_the_table_and_json(settings: Settings, tmp_path: Path) -> None:
    report = run_bench(settings, sizes=[300], repeats=2, embeddings=KeywordEmbeddings(), cold=False, progress=False, questions=4)
    ours, textbook, synthetic = report.rows
    assert (ours.pipeline, textbook.pipeline, synthetic.pipeline) == ("reperes", "textbook", "synthetic")
    assert synthetic.chunks == 300 and synthetic.vectors == "synthetic" and synthetic.faiss_index == "IndexFlatIP"
    new_process = ("cold_ask_s", "peak_rss_mb", "full_ingest_s")  # new processes would load the real model
    for row in (ours, textbook):
        for metric in METRICS:
            if metric not in new_process:
                assert getattr(row, metric) > 0, (row.pipeline, metric)
        assert row.cold_ask_s is None and row.peak_rss_mb is None
    assert ours.full_ingest_s is None and ours.unchanged_ingest_s is None and report.targets["ingest_and_index_s"]["met"] is None
    # The textbook embeds every chunk in-process: its full ingest is its reading, embedding and index build.
    assert textbook.full_ingest_s is not None and textbook.full_ingest_s >= (textbook.ingest_s or 0)
    assert synthetic.recall_at_10 == 1.0  # exact search finds the exact neighbours
    for metric in ("build_s", "retrieval_p50_ms", "retrieval_p95_ms", "peak_rss_mb", "index_mb", "index_load_ms"):
        assert getattr(synthetic, metric) > 0, metric
    assert set(report.ratios) == set(METRICS) and report.ratios["retrieval_p50_ms"] > 0
    assert report.targets["cold_ask_s"]["met"] is None  # not measured is said, not passed

    out = tmp_path / "bench" / "bench.json"
    write_json(report, out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [r["pipeline"] for r in data["rows"]] == ["reperes", "textbook", "synthetic"]
    assert data["rows"][2]["vectors"] == "synthetic" and data["repeats"] == 2 and data["questions"] == 4
    table = format_table(report)
    assert "SYNTHÉTIQUES" in table and "Repères / manuel" in table and "manuel LangChain" in table


def _base(n: int = 40, dim: int = 32) -> tuple[list[Chunk], np.ndarray]:
    rng = np.random.default_rng(5)
    chunks = [
        Chunk(source=f"doc{i % 3}.txt", line_start=i + 1, line_end=i + 1, text=f"action {i} emploi jeunes Lille")
        for i in range(n)
    ]
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_store_chooses_ivf_sq8_past_its_threshold_and_the_bench_measures_its_recall(monkeypatch: pytest.MonkeyPatch) -> None:
    import index.store

    monkeypatch.setattr(index.store, "HNSW_THRESHOLD", 500)
    monkeypatch.setattr(index.store, "SQ_THRESHOLD", 1000)
    assert [index_kind(n) for n in (500, 501, 1001)] == ["IndexFlatIP", "IndexHNSWFlat", "IndexIVFScalarQuantizer"]
    chunks, vectors = _base()
    queries = vectors[:6] + 0.01
    row = bench_size(3000, chunks, vectors, ["emploi Lille"] * 6, queries / np.linalg.norm(queries, axis=1, keepdims=True), 1)
    assert isinstance(row, Row) and row.faiss_index == "IndexIVFScalarQuantizer" and row.chunks == 3000
    assert 0 < row.recall_at_10 <= 1 and row.index_mb > 0 and row.lexical_chunks == 3000


def test_an_ivf_index_is_saved_checked_and_loaded_memory_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks, vectors = _base(2000)
    manifest = Manifest(FORMAT_VERSION, "fp", "chunker", "model", 32, len(chunks), "IndexIVFScalarQuantizer", "")
    store = FaissStore(chunks, vectors, manifest)
    written = store.save(tmp_path / "idx")
    assert written.faiss_index == "IndexIVFScalarQuantizer" and set(written.checksums) == set(index.store.INDEX_FILES)
    loaded = FaissStore.load(tmp_path / "idx")
    assert loaded._index.nprobe == min(index.store.IVF_NPROBE, loaded._index.nlist)
    hits = loaded.search(vectors[7], k=5)
    assert hits[0].chunk == chunks[7] and [h.rank for h in hits] == [1, 2, 3, 4, 5]
    # A second save of the same vectors is the same file: the training sample is fixed.
    again = FaissStore(chunks, vectors, manifest).save(tmp_path / "idx2")
    assert again.checksums["vectors.faiss"] == written.checksums["vectors.faiss"]


def test_an_ivf_index_needs_vectors_to_train_on() -> None:
    manifest = Manifest(FORMAT_VERSION, "fp", "chunker", "model", 8, 0, "IndexIVFScalarQuantizer", "")
    with pytest.raises(ValueError, match="IndexFlatIP"):
        FaissStore([], np.zeros((0, 8), dtype=np.float32), manifest)


import index.store  # noqa: E402 (after the tests that monkeypatch it by name)


class _RecordingModel:
    """Stands for a SentenceTransformer: records the prompt of each ``encode`` call."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def encode(self, texts: list[str], prompt: str = "", **_: object) -> np.ndarray:
        self.prompts.append(prompt)
        return np.ones((len(texts), 4), dtype=np.float32) / 2


def test_the_textbook_calls_our_model_as_langchain_does_with_each_sides_prompt() -> None:
    from eval.bench import TextbookEmbeddings, textbook_embeddings
    from index.embeddings import SentenceTransformerEmbeddings

    model = _RecordingModel()
    ours = SentenceTransformerEmbeddings("some/model", query_prompt="query: ", passage_prompt="passage: ")
    ours._model = model  # loaded: the textbook shares the weights object instead of loading a second copy
    textbook = textbook_embeddings(ours)
    assert isinstance(textbook, TextbookEmbeddings) and textbook.model is model
    assert textbook.embed_documents(["a", "b"]) == [[0.5] * 4, [0.5] * 4] and textbook.embed_query("q") == [0.5] * 4
    assert model.prompts == ["passage: ", "query: "]
    fake = KeywordEmbeddings()
    assert textbook_embeddings(fake) is fake  # the tests' embedder is used as it is


def test_per_question_memos_are_forgotten_between_timed_questions() -> None:
    # The bench asks the same questions several times: a run after the first must read each question again,
    # not time a memo's lookup.
    from index.memo import forget_questions
    from index.query import analyse

    analyse("quelle action pour un décrocheur de 17 ans à Loos ?")
    from index import query

    assert query._analysed.cache_info().currsize >= 1
    forget_questions()
    assert query._analysed.cache_info().currsize == 0


def test_the_peak_rss_of_a_command_counts_the_children_it_starts() -> None:
    # `reperes ask` embeds its question in a child process: the command's memory is both processes'.
    import sys

    from eval.bench import timed_process

    child = "x = bytearray(200_000_000); import time; time.sleep(0.6)"
    script = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    _, peak, _ = timed_process([sys.executable, "-c", script])
    assert peak is not None and peak >= 200
