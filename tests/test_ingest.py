"""Loading and the first chunking: provenance invariants on a tiny French corpus."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from ingest.chunking import chunk_document, chunk_documents
from ingest.loaders import load_corpus, load_file
from ingest.records import Chunk, SourceDoc


def _lines_of(chunk: Chunk, doc: SourceDoc) -> str:
    return "\n".join(doc.lines[chunk.line_start - 1 : chunk.line_end])


def test_every_chunk_points_at_its_original_lines(mini_corpus: Path) -> None:
    docs, problems = load_corpus(mini_corpus)
    assert problems == []
    by_name = {d.source: d for d in docs}
    chunks = chunk_documents(docs, max_chars=200)
    assert len(chunks) > len(docs)
    for chunk in chunks:
        original = _lines_of(chunk, by_name[chunk.source])
        # Each paragraph of the chunk is a run of whole original lines, in order.
        for block in chunk.text.split("\n\n"):
            assert block in original
        assert chunk.text.split("\n")[0].strip() in original.split("\n")[0]


def test_long_paragraphs_are_cut_at_sentence_ends_with_one_line_of_overlap() -> None:
    doc = SourceDoc("a.txt", "\n".join(f"Ligne numéro {i} du paragraphe" + ("." if i % 3 == 2 else "") for i in range(60)))
    chunks = chunk_document(doc, max_chars=300)
    assert all(len(c.text) <= 300 for c in chunks)
    assert chunks[0].line_start == 1 and chunks[-1].line_end == 60
    for before, after in itertools.pairwise(chunks):
        assert after.line_start in (before.line_end, before.line_end + 1)  # contiguous, at most one line shared
        if after.line_start == before.line_end + 1:
            assert before.text.endswith(".")  # a cut without overlap is a sentence end


def test_a_sentence_broken_over_a_blank_line_stays_in_one_chunk() -> None:
    # Extraction writes a blank line inside a sentence ("… rapide et sans pré" / "requis de diplôme, …"): the
    # chunk boundary falls at a sentence end, not inside it; a sentence ended before the blank line may be cut.
    lines = [f"Phrase numéro {i} sur la formation au numérique." for i in range(12)]
    lines += ["Une offre de formation gratuite au métier de développeur, rapide et sans pré", "", "requis de diplôme, pour tous."]
    doc = SourceDoc("a.txt", "\n\n".join(lines[:-2]) + "\n\n" + lines[-1])
    # A bound that the broken sentence's second half would cross.
    bound = sum(len(line) + 1 for line in lines[:-2]) + 5
    chunks = chunk_document(doc, max_chars=bound)
    assert all(not c.text.lstrip()[:1].islower() for c in chunks), [c.text[:40] for c in chunks]
    assert any("sans pré" in c.text and "requis de diplôme" in c.text for c in chunks)
    # A sentence ended before the blank line is cut there as before.
    ended = SourceDoc("b.txt", "\n\n".join([*lines[:-2], "Requis : aucun diplôme."]))
    assert len(chunk_document(ended, max_chars=bound)) == 2


def test_ids_are_stable_and_depend_on_text() -> None:
    doc = SourceDoc("a.txt", "Premier paragraphe.\n\nSecond paragraphe.")
    assert [c.id for c in chunk_document(doc)] == [c.id for c in chunk_document(doc)]
    changed = SourceDoc("a.txt", "Premier paragraphe modifié.\n\nSecond paragraphe.")
    assert chunk_document(doc)[0].id != chunk_document(changed)[0].id


def test_empty_and_blank_documents_give_no_chunks() -> None:
    assert chunk_document(SourceDoc("vide.txt", "")) == []
    assert chunk_document(SourceDoc("blanc.txt", "\n  \n\n")) == []


def test_chunk_rejects_bad_line_ranges() -> None:
    with pytest.raises(ValueError, match="1-based"):
        Chunk(source="a.txt", line_start=0, line_end=2, text="x")


def test_json_round_trip_keeps_the_contract_keys() -> None:
    chunk = chunk_document(SourceDoc("a.txt", "L’État finance.\n\nDeuxième."))[0]
    record = chunk.to_json()
    assert list(record) == ["id", "source", "line_start", "line_end", "page", "kind", "title", "text", "metadata"]
    assert Chunk.from_json(record) == chunk


def test_unsupported_and_unreadable_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Un texte lisible.", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "ancien.txt").write_bytes("Économie et société".encode("cp1252"))
    docs, problems = load_corpus(tmp_path)
    assert sorted(d.source for d in docs) == ["ancien.txt", "ok.txt"]
    assert next(d for d in docs if d.source == "ancien.txt").text == "Économie et société"
    assert [p.path.name for p in problems] == ["image.png"]
    assert "non pris en charge" in problems[0].reason


def test_missing_corpus_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--corpus"):
        load_corpus(tmp_path / "absent")


def test_crlf_files_keep_one_line_per_original_line(tmp_path: Path) -> None:
    path = tmp_path / "dos.txt"
    path.write_bytes(b"un\r\ndeux\r\n\r\ntrois")
    assert load_file(path).lines == ["un", "deux", "", "trois"]


def test_a_heading_the_pdf_broke_onto_the_next_line_is_titled_whole() -> None:
    text = (
        "A) Accompagner les entreprises dans leurs projets de recrutements afin\n\n"
        "d’ouvrir les possibilités aux talents des quartiers\n\n"
        "Lorsqu’une entreprise s’installe, il convient de connaître ses besoins de recrutement.\n"
    )
    chunks = chunk_document(SourceDoc("a.txt", text), actions=[])
    assert chunks[0].title == (
        "A) Accompagner les entreprises dans leurs projets de recrutements afin "
        "d’ouvrir les possibilités aux talents des quartiers"
    )
    ended = chunk_document(SourceDoc("c.txt", "C) Développer l’emploi :\n\nles jeunes des quartiers.\n"), actions=[])
    assert ended[0].title == "C) Développer l’emploi :"  # a heading that ends its sentence is whole
