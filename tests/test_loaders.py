"""PDF, Word and HTML loaders: text, page numbers, and damaged files reported without stopping the corpus."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import docx
import pypdf
import pytest
import trafilatura
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from pypdf.errors import DependencyError

from ingest.chunking import chunk_document
from ingest.loaders import load_corpus, load_file

PAGE_ONE = ["Aides à la mobilité", "Le permis de conduire est financé à 50 %.", "Reçu par le conseiller."]
PAGE_TWO = ["Logement des jeunes", "Le garçon a reçu une aide à l'installation."]


def _write_pdf(path: Path, pages: list[list[str]], title: str = "", **encryption: Any) -> Path:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if encryption:
        pdf.set_encryption(**encryption)
    pdf.set_font("Helvetica", size=12)  # core font: latin-1, enough for é à ç
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def _write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Contrat d'engagement jeune", level=1)
    document.add_paragraph("Un accompagnement intensif pour les 16-25 ans, avec une allocation.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Âge", "Montant"), ("18-25 ans", "jusqu'à 528 €")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_paragraph("Après le tableau.")
    document.save(str(path))
    return path


ARTICLE_HTML = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Le CEJ en bref</title>
<script>var tracker = "ne pas garder";</script></head>
<body>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/contact">Contactez-nous</a></li></ul></nav>
<header><div class="banner">Bandeau cookies : acceptez-vous les cookies ?</div></header>
<main><article>
<h1>Le contrat d'engagement jeune</h1>
<p>Le contrat d'engagement jeune s'adresse aux jeunes de 16 à 25 ans qui ne sont ni en emploi ni en formation.
Il propose un accompagnement intensif de quinze à vingt heures par semaine.</p>
<p>L'allocation peut atteindre 528 euros par mois selon l'âge et les ressources du foyer fiscal du jeune.</p>
<p>La Mission Locale de Valenciennes reçoit les demandes du lundi au vendredi, sur rendez-vous.</p>
</article></main>
<footer><p>Mentions légales — Plan du site — © 2024 Mission Locale</p></footer>
</body></html>
"""


def test_pdf_gives_text_and_the_page_of_every_line(tmp_path: Path) -> None:
    doc = load_file(_write_pdf(tmp_path / "aides.pdf", [PAGE_ONE, PAGE_TWO]))
    assert doc.source == "aides.pdf"
    assert doc.lines == PAGE_ONE + PAGE_TWO
    assert doc.pages == (1, 1, 1, 2, 2)
    assert doc.title == "Aides à la mobilité"
    # The chunker turns the line's page into the citation page.
    assert [c.page for c in chunk_document(doc, max_chars=100)] == [1, 2]


def test_pdf_title_comes_from_metadata_when_present(tmp_path: Path) -> None:
    doc = load_file(_write_pdf(tmp_path / "a.pdf", [PAGE_ONE], title="Guide des aides"))
    assert doc.title == "Guide des aides"


def test_pdf_without_text_layer_asks_for_ocr(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OCR") as info:
        load_file(_write_pdf(tmp_path / "scan.pdf", [[], []]))
    assert "couche de texte" in str(info.value)


def test_password_protected_pdf_is_unreadable_but_permissions_only_pdf_loads(tmp_path: Path) -> None:
    rc4 = EncryptionMethod.RC4  # AES would need the `cryptography` package, in fpdf2 and pypdf alike
    locked = _write_pdf(tmp_path / "verrou.pdf", [PAGE_ONE], owner_password="x", user_password="secret", encryption_method=rc4)
    with pytest.raises(ValueError, match="PDF illisible : protégé par un mot de passe"):
        load_file(locked)
    restricted = _write_pdf(tmp_path / "restreint.pdf", [PAGE_ONE], owner_password="x", user_password="", encryption_method=rc4)
    assert load_file(restricted).lines == PAGE_ONE


def test_aes_pdf_without_cryptography_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `cryptography` is not a dependency; pypdf then raises DependencyError on AES-encrypted files.
    path = _write_pdf(
        tmp_path / "aes.pdf", [PAGE_ONE], owner_password="x", user_password="", encryption_method=EncryptionMethod.RC4
    )

    def no_aes(self: pypdf.PdfReader, password: str) -> None:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(pypdf.PdfReader, "decrypt", no_aes)
    with pytest.raises(ValueError, match="PDF illisible : chiffrement AES"):
        load_file(path)


def test_docx_keeps_headings_paragraphs_and_table_rows_in_order(tmp_path: Path) -> None:
    doc = load_file(_write_docx(tmp_path / "cej.docx"))
    assert doc.lines == [
        "Contrat d'engagement jeune",
        "Un accompagnement intensif pour les 16-25 ans, avec une allocation.",
        "Âge\tMontant",
        "18-25 ans\tjusqu'à 528 €",
        "Après le tableau.",
    ]
    assert doc.pages == ()
    assert doc.title == "Contrat d'engagement jeune"


def test_html_keeps_the_article_and_drops_the_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "cej.html"
    path.write_text(ARTICLE_HTML, encoding="utf-8")
    doc = load_file(path)
    assert doc.title == "Le CEJ en bref"
    assert "ni en emploi ni en formation" in doc.text
    assert "528 euros par mois" in doc.text
    for boilerplate in ("Contactez-nous", "cookies", "Mentions légales", "tracker"):
        assert boilerplate not in doc.text
    assert doc.pages == ()


def test_html_falls_back_to_tag_stripping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trafilatura, "extract", lambda *args, **kwargs: None)
    path = tmp_path / "page.htm"
    path.write_text(
        "<html><head><title> Horaires </title><style>p {color: red}</style></head>"
        "<body><h2>Accueil</h2><p>Ouvert le <b>mardi</b> à 9 h.</p><table><tr><td>Lun</td><td>Fermé</td></tr></table></body></html>",
        encoding="utf-8",
    )
    doc = load_file(path)
    assert doc.title == "Horaires"
    assert doc.lines == ["Accueil", "Ouvert le mardi à 9 h.", "Lun Fermé"]


def test_damaged_files_are_reported_by_name_and_the_rest_still_loads(tmp_path: Path) -> None:
    _write_pdf(tmp_path / "bon.pdf", [PAGE_ONE])
    _write_docx(tmp_path / "bon.docx")
    (tmp_path / "bon.html").write_text(ARTICLE_HTML, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("Des notes lisibles.", encoding="utf-8")
    (tmp_path / "casse.pdf").write_bytes(os.urandom(2048))
    (tmp_path / "ancien.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2048))  # an old binary .doc
    docs, problems = load_corpus(tmp_path)
    assert sorted(d.source for d in docs) == ["bon.docx", "bon.html", "bon.pdf", "notes.txt"]
    reasons = {p.path.name: p.reason for p in problems}
    assert sorted(reasons) == ["ancien.docx", "casse.pdf"]
    assert reasons["casse.pdf"].startswith("PDF illisible : ")
    assert "document Word illisible" in reasons["ancien.docx"]


def test_unknown_format_lists_every_accepted_format(tmp_path: Path) -> None:
    path = tmp_path / "tableur.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(ValueError, match="non pris en charge") as info:
        load_file(path)
    for suffix in (".txt", ".md", ".pdf", ".docx", ".html", ".htm"):
        assert suffix in str(info.value)
