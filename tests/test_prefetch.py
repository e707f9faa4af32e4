"""The question prefetch of a one-question `reperes ask`: the child's vector is the in-process encoder's, any
miss or failure falls back to the model, and the CLI answers the same with and without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import MINI_CORPUS, KeywordEmbeddings

from assistant.launch import question_candidates, start_prefetch
from index.embeddings import PrefetchedEmbeddings
from index.onnx_query import ENCODER_INFO, OnnxEncoder, encoder_ready, recorded_max_length
from index.prefetch import QuestionPrefetch

QUESTION = "quelle action pour un décrocheur de 17 ans à Loos ?"


def test_the_candidates_are_the_arguments_of_a_one_question_ask() -> None:
    assert question_candidates(["ask", QUESTION]) == [QUESTION]
    assert QUESTION in question_candidates(["ask", "-k", "3", "--json", QUESTION, "--corpus", "docs"])
    assert question_candidates(["ask", "--batch", "in.jsonl", "--out", "out.jsonl"]) == []
    assert question_candidates(["ask", "--help"]) == [] and question_candidates(["ask"]) == []
    assert question_candidates(["eval", "--set", "x.jsonl"]) == [] and question_candidates([]) == []


def test_no_prefetch_without_an_exported_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path))  # no model converted there
    assert start_prefetch(["ask", QUESTION]) is None


def test_a_failed_child_or_another_text_falls_back_to_the_model(tmp_path: Path) -> None:
    inner = KeywordEmbeddings()
    broken = QuestionPrefetch(tmp_path, 512, [QUESTION], "query: ")  # no encoder in tmp_path: the child fails
    embeddings = PrefetchedEmbeddings(inner, broken)
    assert embeddings.embed_query(QUESTION) == inner.embed_query(QUESTION)
    assert embeddings.embed_query("permis") == inner.embed_query("permis")
    assert embeddings.embed_documents(["a b"]) == inner.embed_documents(["a b"])
    with pytest.raises(ValueError, match="max_length"):
        QuestionPrefetch(tmp_path, 0, [QUESTION], "query: ")


def test_close_stops_a_child_never_asked(tmp_path: Path) -> None:
    prefetch = QuestionPrefetch(tmp_path, 512, [QUESTION], "query: ")
    process = prefetch._process
    prefetch.close()
    assert process is not None and process.poll() is not None
    assert prefetch.vector(QUESTION) is None  # closed: nothing, and no wait


@pytest.mark.slow
def test_the_childs_vector_is_the_in_process_encoders(bundled_model: Path) -> None:
    if not encoder_ready(bundled_model):
        pytest.skip(f"no ONNX export in {bundled_model} (see {ENCODER_INFO})")
    max_length = recorded_max_length(bundled_model)
    assert max_length
    prefetch = QuestionPrefetch(bundled_model, max_length, [QUESTION, "permis"], "query: ")
    local = OnnxEncoder(bundled_model, max_length)
    for text in (QUESTION, "permis"):
        got = prefetch.vector(text)
        assert got is not None and np.array_equal(np.asarray(got, dtype=np.float32), local.encode(["query: " + text])[0])
    assert prefetch.vector("autre chose") is None


@pytest.mark.slow
def test_the_cli_answers_the_same_and_never_loads_the_encoder(
    bundled_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    home = tmp_path / "home"
    shutil.copytree(bundled_model, home / "models" / bundled_model.name)
    monkeypatch.setenv("REPERES_HOME", str(home))
    argv = ["ask", "--json", "--corpus", str(MINI_CORPUS), QUESTION]
    assert main(argv) == 0  # builds the index; no prefetch
    plain = json.loads(capsys.readouterr().out)
    prefetch = start_prefetch(argv)
    assert prefetch is not None

    def no_load(self: OnnxEncoder) -> None:
        raise AssertionError("the question was embedded in-process")

    monkeypatch.setattr(OnnxEncoder, "_load", no_load)
    assert main(argv, prefetch=prefetch) == 0
    prefetched = json.loads(capsys.readouterr().out)
    assert prefetched["answer"] == plain["answer"] and prefetched["citations"] == plain["citations"]
