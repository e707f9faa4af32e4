"""The FAISS store and the index build: round trip, atomic writes, staleness, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import CHUNKER_ID, build_index, index_is_current
from index.retriever import DenseRetriever
from index.store import FaissStore, IndexNotReady, read_manifest


def test_build_save_load_and_search(mini_corpus: Path, tmp_path: Path, keyword_embeddings) -> None:
    folder = tmp_path / "idx"
    report = build_index(mini_corpus, folder, keyword_embeddings, "kw")
    assert report.rebuilt and report.manifest.count > 0 and report.manifest.chunker == CHUNKER_ID
    assert sorted(p.name for p in folder.iterdir()) == ["actions.jsonl", "chunks.jsonl", "manifest.json", "vectors.faiss"]
    store = FaissStore.load(folder)
    hits = store.search(keyword_embeddings.embed_query("logement temporaire apprentis"), k=3)[:2]
    assert hits[0].chunk.source == "logement.md"
    assert [h.rank for h in hits] == [1, 2]
    assert hits[0].score >= hits[1].score and len(store) == report.manifest.count


def test_second_build_is_skipped_and_edits_trigger_a_rebuild(tmp_path: Path, keyword_embeddings) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "data" / "mini_corpus", corpus)
    folder = tmp_path / "idx"
    assert build_index(corpus, folder, keyword_embeddings, "kw").rebuilt
    assert not build_index(corpus, folder, keyword_embeddings, "kw").rebuilt
    assert not index_is_current(folder, corpus, "another-model")
    (corpus / "actions.txt").write_text((corpus / "actions.txt").read_text() + "\nNOUVELLE ACTION\n")
    assert not index_is_current(folder, corpus, "kw")
    assert build_index(corpus, folder, keyword_embeddings, "kw").rebuilt


def test_a_failed_save_keeps_the_previous_index(mini_corpus: Path, tmp_path: Path, keyword_embeddings, monkeypatch) -> None:
    folder = tmp_path / "idx"
    build_index(mini_corpus, folder, keyword_embeddings, "kw")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    import faiss

    def broken_write(*args, **kwargs):
        raise OSError("disque plein")

    monkeypatch.setattr(faiss, "write_index", broken_write)
    with pytest.raises(OSError, match="disque plein"):
        build_index(mini_corpus, folder, keyword_embeddings, "kw", force=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no staging folder left behind


def test_missing_or_damaged_index_gives_an_actionable_error(mini_corpus: Path, tmp_path: Path, keyword_embeddings) -> None:
    with pytest.raises(IndexNotReady, match="reperes ingest"):
        FaissStore.load(tmp_path / "absent")
    folder = tmp_path / "idx"
    build_index(mini_corpus, folder, keyword_embeddings, "kw")
    (folder / "vectors.faiss").write_bytes(b"not a faiss file")
    with pytest.raises(IndexNotReady, match="--force"):
        FaissStore.load(folder)
    (folder / "manifest.json").write_text("{broken")
    assert read_manifest(folder) is None


def test_query_with_another_dimension_is_refused(mini_corpus: Path, tmp_path: Path, keyword_embeddings) -> None:
    build_index(mini_corpus, tmp_path / "idx", keyword_embeddings, "kw")
    store = FaissStore.load(tmp_path / "idx")
    with pytest.raises(IndexNotReady, match="rebuild"):
        store.search([0.1] * 7, k=2)


def test_dense_retriever_returns_documents_with_provenance(mini_corpus: Path, tmp_path: Path, keyword_embeddings) -> None:
    build_index(mini_corpus, tmp_path / "idx", keyword_embeddings, "kw")
    retriever = DenseRetriever(store=FaissStore.load(tmp_path / "idx"), embeddings=keyword_embeddings, k=2)
    docs = retriever.invoke("permis de conduire Roubaix")
    assert len(docs) == 2
    meta = docs[0].metadata
    assert meta["source"] == "actions.txt" and "PERMIS SOLIDAIRE" in docs[0].page_content
    assert {"source", "line_start", "line_end", "page", "title", "score", "chunk_id"} <= set(meta)


def test_large_indexes_switch_to_hnsw_and_record_it(mini_corpus: Path, tmp_path: Path, keyword_embeddings, monkeypatch) -> None:
    import index.store

    monkeypatch.setattr(index.store, "HNSW_THRESHOLD", 2)  # the mini corpus is "large" for this test
    report = build_index(mini_corpus, tmp_path / "idx", keyword_embeddings, "kw")
    assert report.manifest.faiss_index == "IndexHNSWFlat"
    store = FaissStore.load(tmp_path / "idx")
    hits = store.search(keyword_embeddings.embed_query("logement temporaire apprentis"), k=3)
    assert hits[0].chunk.source == "logement.md"


def test_an_edited_reference_table_changes_the_recipe_an_index_must_match(tmp_path: Path) -> None:
    from index.build import reference_data_digest

    (tmp_path / "synonyms.tsv").write_text("key\tkind\ndecrochage\tsituation\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a table", encoding="utf-8")
    before = reference_data_digest(tmp_path)
    (tmp_path / "notes.md").write_text("edited, still not a table", encoding="utf-8")
    assert reference_data_digest(tmp_path) == before
    (tmp_path / "synonyms.tsv").write_text("key\tkind\ndecrochage\tsituation\nneet\tsituation\n", encoding="utf-8")
    assert reference_data_digest(tmp_path) != before
    assert CHUNKER_ID.endswith("+data-" + reference_data_digest())
