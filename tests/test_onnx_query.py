"""The ONNX question encoder: the same vectors as torch, used without importing torch, never trusted when damaged."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embeddings import SentenceTransformerEmbeddings, make_embeddings
from index.onnx_query import QUERY_INFO, QUERY_ONNX, OnnxQueryEncoder, export_attempted, export_query_encoder, query_encoder_ready

QUESTIONS = [
    "quelle action pour un décrocheur de 17 ans à Loos ?",
    "permis",
    "Un jeune de 24 ans sans diplôme cherche une formation dans le numérique à Valenciennes, qui contacter ?",
]


@pytest.fixture(scope="module")
def model_copy(bundled_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the converted model folder, its ONNX encoder exported (tests may damage it)."""
    folder = tmp_path_factory.mktemp("model") / bundled_model.name
    shutil.copytree(bundled_model, folder)
    if not query_encoder_ready(folder):
        assert export_query_encoder(folder)
    return folder


@pytest.mark.slow
def test_onnx_questions_match_torch_questions(model_copy: Path) -> None:
    onnx = make_embeddings("bundled", model_copy.parents[1])
    assert isinstance(onnx, SentenceTransformerEmbeddings) and onnx.query_encoder is not None
    torch_only = SentenceTransformerEmbeddings(model_copy, local_files_only=True)
    got = np.asarray([onnx.embed_query(q) for q in QUESTIONS])
    expected = np.asarray([torch_only.embed_query(q) for q in QUESTIONS])
    assert np.min(np.sum(got * expected, axis=1)) >= 0.9999
    batch = np.asarray(onnx.embed_queries(QUESTIONS))  # padded together: the mask keeps each vector its own
    assert np.min(np.sum(batch * expected, axis=1)) >= 0.9999
    assert onnx._model is None  # the questions never loaded the torch model


@pytest.mark.slow
def test_a_question_imports_neither_torch_nor_sentence_transformers(model_copy: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from index.embeddings import make_embeddings; "
        f"e = make_embeddings('bundled', Path({str(model_copy.parents[1])!r})); v = e.embed_query('permis'); "
        "print(len(v), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300).stdout
    assert out.split() == ["384", "False", "False"]


@pytest.mark.slow
def test_a_damaged_onnx_file_is_not_used_and_torch_answers(
    model_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "models" / model_copy.name
    shutil.copytree(model_copy, folder)
    (folder / QUERY_ONNX).write_bytes((folder / QUERY_ONNX).read_bytes()[:1000])  # truncated
    assert not query_encoder_ready(folder)  # its size is not the one checked at export
    embeddings = make_embeddings("bundled", tmp_path)
    assert isinstance(embeddings, SentenceTransformerEmbeddings) and embeddings.query_encoder is None
    assert len(embeddings.embed_query("permis")) == 384
    # Damaged after it was found sound (same size, other bytes): the first question falls back, with a warning.
    data = bytearray((model_copy / QUERY_ONNX).read_bytes())
    data[: len(data) // 2] = bytes(len(data) // 2)
    (folder / QUERY_ONNX).write_bytes(bytes(data))
    broken = SentenceTransformerEmbeddings(folder, local_files_only=True, query_encoder=OnnxQueryEncoder(folder, 512))
    with caplog.at_level(logging.WARNING):
        vector = broken.embed_query("permis")
    assert len(vector) == 384 and broken.query_encoder is None
    assert any("Encodeur ONNX des questions inutilisable" in r.getMessage() for r in caplog.records)


def test_a_failed_export_is_recorded_and_not_retried(tmp_path: Path) -> None:
    folder = tmp_path / "modele"
    folder.mkdir()  # no model in it: the export fails
    assert not export_query_encoder(folder)
    info = json.loads((folder / QUERY_INFO).read_text(encoding="utf-8"))
    assert info["failed"] and export_attempted(folder) and not query_encoder_ready(folder)
    assert not (folder / QUERY_ONNX).exists() and [p.name for p in folder.iterdir()] == [QUERY_INFO]  # no temp left


def test_the_encoder_refuses_a_bad_length() -> None:
    with pytest.raises(ValueError, match="max_length"):
        OnnxQueryEncoder(Path("."), 0)
