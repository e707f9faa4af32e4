"""The handout for the young person ("Fiche pour le jeune"): HTML, plain text, PDF and the /fiche routes."""

from __future__ import annotations

import io
import re
from datetime import date

import numpy as np
import pypdf
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.handout import (
    HANDOUT_CSP,
    HANDOUT_SCRIPT,
    HandoutEntry,
    french_date,
    handout_html,
    handout_text,
)
from assistant.handout_pdf import handout_pdf, pdf_safe
from assistant.service import Assistant
from assistant.settings import Settings
from index.store import FaissStore, Manifest
from ingest.records import Action, Contact

MADE = date(2026, 12, 2)
SHARE = "http://test/fiche?a=forum-emploi"

FORUM = Action(
    id="forum-emploi",
    title="FORUM EMPLOI",
    source="001_guide.txt",
    line_start=352,
    line_end=571,
    document="ILS INNOVENT POUR L’AVENIR DES JEUNES EN MÉTROPOLE",
    page=11,
    porteur="villes d’Haubourdin et de Loos",
    public="Pour les jeunes de 13 à 30 ans",
    age_min=13,
    age_max=30,
    summary="L’action vise à faire connaître les filières porteuses d’emploi… 5 € l’entrée, « œuvre » — fin.",
    contacts=(
        Contact(
            name="Coline Spillemaecker",
            role="Chargée de projet",
            emails=("c.spillemaecker@reussir.asso.fr",),
            phones=("03 20 14 85 50", "06.63.80.59.51"),
            urls=("mde-lille.fr", "javascript:alert(1)"),
        ),
    ),
)
GARANTIE = Action(
    id="garantie-jeunes",
    title="Garantie <script>alert('x')</script> Jeunes",
    source="002_protocole.txt",
    line_start=40,
    line_end=58,
    document="Protocole & engagements",
    public="Jeunes « NEET » sans ressources",
    age_min=16,
    age_max=25,
    age_max_extended=30,
    age_condition="si le jeune est reconnu travailleur handicapé",
)
BARE = Action(id="permis", title="Aide au permis", source="003_permis.txt", line_start=5, line_end=9)


def _entries_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


# --- the entries and the dates ------------------------------------------------------------------


def test_french_dates() -> None:
    assert french_date(MADE) == "2 décembre 2026"
    assert french_date(date(2027, 5, 1)) == "1er mai 2027"
    assert french_date(date(2026, 8, 15)) == "15 août 2026"


def test_an_entry_reads_the_action_in_plain_words() -> None:
    forum = HandoutEntry.from_action(FORUM)
    assert forum.offer == FORUM.summary  # the summary, else the public
    assert forum.audience == "Pour les jeunes de 13 à 30 ans — âge : de 13 à 30 ans"
    assert forum.where == "page 11" and forum.porteur == "villes d’Haubourdin et de Loos"
    assert forum.contacts[0].label == "Coline Spillemaecker, Chargée de projet"
    garantie = HandoutEntry.from_action(GARANTIE)
    assert garantie.offer == "Jeunes « NEET » sans ressources" and garantie.audience.startswith("De 16 à 25 ans")
    assert "jusqu’à 30 ans si le jeune est reconnu travailleur handicapé" in garantie.audience
    assert garantie.where == "lignes 40–58"
    bare = HandoutEntry.from_action(BARE)
    assert (bare.offer, bare.audience, bare.porteur, bare.contacts) == ("", "", "", ())
    assert bare.document == "003_permis.txt"  # no document title: the file name


# --- HTML ----------------------------------------------------------------------------------------


def test_the_page_shows_the_actions_with_links_and_references() -> None:
    page = handout_html([FORUM, GARANTIE], MADE, SHARE)
    assert page.startswith("<!doctype html>") and '<html lang="fr">' in page
    assert "<title>Fiche pour le jeune</title>" in page
    assert "<h2>FORUM EMPLOI</h2>" in page
    assert "Faite le 2 décembre 2026" in page
    assert '<a href="tel:0320148550">03 20 14 85 50</a>' in page
    assert '<a href="tel:0663805951">06.63.80.59.51</a>' in page
    assert '<a href="mailto:c.spillemaecker@reussir.asso.fr">' in page
    assert '<a href="https://mde-lille.fr">mde-lille.fr</a>' in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page  # shown, never a link
    assert "Porté par :</span> villes d’Haubourdin et de Loos" in page
    assert "« ILS INNOVENT POUR L’AVENIR DES JEUNES EN MÉTROPOLE », page 11 (fichier 001_guide.txt)" in page
    assert "« Protocole &amp; engagements », lignes 40–58" in page
    assert page.index("FORUM EMPLOI") < page.index("Garantie")  # the order asked for


def test_the_page_escapes_the_documents_text() -> None:
    page = handout_html([GARANTIE], MADE, 'http://test/fiche?a="><script>')
    assert "<script>alert" not in page
    assert "Garantie &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Jeunes" in page
    assert page.count("<script>") == 1 and '"><script>' not in page  # the page's own script only


def test_the_page_has_the_buttons_the_share_link_and_the_text_to_copy() -> None:
    page = handout_html([FORUM, GARANTIE], MADE, SHARE)
    assert '<button type="button" id="print-button">Imprimer</button>' in page and "window.print()" in page
    assert '<a href="fiche.pdf?a=forum-emploi&amp;a=garantie-jeunes" download="fiche-jeune.pdf">Télécharger en PDF</a>' in page
    assert "Copier le texte" in page and "navigator.clipboard" in page
    assert f'<a href="{SHARE}">{SHARE}</a>' in page
    assert "Ce lien ne contient que les actions choisies, aucune donnée sur le jeune." in page
    hidden = re.search(r'<pre id="handout-text" hidden>(.*?)</pre>', page, re.S)
    assert hidden is not None and "1. FORUM EMPLOI" in hidden.group(1) and "Tél. : 03 20 14 85 50" in hidden.group(1)
    assert page.count('class="toolbar no-print"') == 1 and page.count('class="share no-print"') == 1


def test_the_page_prints_on_a4_without_cutting_anything() -> None:
    page = handout_html([FORUM], MADE, SHARE)
    css = page[page.index("<style>") : page.index("</style>")]
    assert "@page { size: A4; margin: 10mm 12mm; }" in css
    assert "@media print" in css and ".no-print { display: none !important; }" in css
    assert re.search(r"\.action \{[^}]*break-inside: avoid", css)
    assert not re.search(r"(?<![-\w])(height|max-height)\s*:", css)  # nothing of fixed height
    assert "min-height: 44px" in css and "min-height: 24px" in css  # targets
    assert "system-ui" in css and "@import" not in css and "url(" not in css  # system fonts, nothing loaded


def test_the_csp_allows_exactly_the_page_script() -> None:
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(HANDOUT_SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in HANDOUT_CSP and "default-src 'none'" in HANDOUT_CSP
    assert f"<script>{HANDOUT_SCRIPT}</script>" in handout_html([FORUM], MADE, SHARE)


# --- text and PDF --------------------------------------------------------------------------------


def test_the_text_has_the_same_content() -> None:
    text = handout_text([FORUM, GARANTIE, BARE], MADE)
    assert text.startswith("Fiche pour le jeune\nFaite le 2 décembre 2026 avec Repères\n")
    assert "1. FORUM EMPLOI\nCe que c’est : L’action vise" in text
    assert "Pour qui : Pour les jeunes de 13 à 30 ans — âge : de 13 à 30 ans" in text
    assert "  - Coline Spillemaecker, Chargée de projet\n    Tél. : 03 20 14 85 50, 06.63.80.59.51\n" in text
    assert "    E-mail : c.spillemaecker@reussir.asso.fr\n    Site : mde-lille.fr, javascript:alert(1)\n" in text
    assert "2. Garantie <script>alert('x')</script> Jeunes" in text  # plain text: as written
    assert "Référence : « Protocole & engagements », lignes 40–58 (fichier 002_protocole.txt)" in text
    assert "3. Aide au permis\nRéférence : « 003_permis.txt », lignes 5–9" in text


def test_pdf_safe_keeps_french_typography_and_maps_the_rest() -> None:
    assert pdf_safe("L’œuvre « coûte » 5 € – “oui” — Œ…") == "L’œuvre « coûte » 5 € – “oui” — Œ…"
    assert pdf_safe("a\u202f: ≥ 16 → ő ✓ 漢") == "a\u00a0: >= 16 -> o v ?"
    pdf_safe("x").encode("windows-1252")


def test_the_pdf_is_one_a4_page_with_the_content() -> None:
    pdf = handout_pdf([FORUM, GARANTIE, BARE], MADE)
    assert pdf.startswith(b"%PDF") and b"/Count 1" in pdf
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = _entries_text(pdf)
    for expected in (
        "Fiche pour le jeune",
        "Faite le 2 décembre 2026",
        "FORUM EMPLOI",
        "5 € l’entrée, « œuvre » — fin.",
        "03 20 14 85 50",
        "c.spillemaecker@reussir.asso.fr",
        "Garantie <script>alert('x')</script> Jeunes",
        "page 11 (fichier 001_guide.txt)",
        "lignes 40–58",
    ):
        assert expected in text.replace("\n", " "), expected
    links = [a.get_object()["/A"]["/URI"] for a in reader.pages[0]["/Annots"]]
    assert "tel:0320148550" in links and "mailto:c.spillemaecker@reussir.asso.fr" in links


def test_six_actions_fit_one_page_and_more_are_never_cut() -> None:
    six = [FORUM, GARANTIE, BARE, FORUM, GARANTIE, BARE]
    assert len(pypdf.PdfReader(io.BytesIO(handout_pdf(six, MADE))).pages) == 1
    many = [FORUM, GARANTIE] * 8
    pdf = handout_pdf(many, MADE)
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) > 1
    assert _entries_text(pdf).count("FORUM EMPLOI") == 8 and _entries_text(pdf).count("lignes 40–58") == 8


# --- the routes ----------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> TestClient:
    """The API over a store holding only the hand-made actions (no model, no index on disk)."""
    assistant = Assistant(settings)
    manifest = Manifest(
        format=2,
        corpus_fingerprint="test",
        chunker="test",
        embed_model="test",
        dimension=4,
        count=0,
        faiss_index="IndexFlatIP",
        created="2026-12-02",
    )
    assistant._store = FaissStore([], np.zeros((0, 4), dtype=np.float32), manifest, actions=[FORUM, GARANTIE, BARE])
    return TestClient(create_app(assistant, mount_ui=False))


def test_the_route_serves_the_page_in_the_order_asked(client: TestClient) -> None:
    response = client.get("/fiche?a=garantie-jeunes&a=inconnue&a=forum-emploi&a=garantie-jeunes")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.index("Garantie") < page.index("FORUM EMPLOI") and page.count("<h2>") == 2  # unknown skipped, deduped
    assert "http://testserver/fiche?a=garantie-jeunes&amp;a=forum-emploi" in page  # the share link: action ids only
    assert f"Faite le {french_date(date.today())}" in page
    assert response.headers["content-security-policy"] == HANDOUT_CSP


def test_the_routes_accept_comma_separated_ids(client: TestClient) -> None:
    page = client.get("/fiche", params={"a": "forum-emploi, permis"}).text
    assert page.index("FORUM EMPLOI") < page.index("Aide au permis")
    text = client.get("/fiche.txt?a=permis,forum-emploi")
    assert text.status_code == 200 and text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.text.index("1. Aide au permis") < text.text.index("2. FORUM EMPLOI")


def test_the_pdf_route_downloads_the_fiche(client: TestClient) -> None:
    response = client.get("/fiche.pdf", params=[("a", "forum-emploi"), ("a", "garantie-jeunes")])
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="fiche-jeune.pdf"'
    assert response.content.startswith(b"%PDF") and b"/Count 1" in response.content
    assert "FORUM EMPLOI" in _entries_text(response.content)


@pytest.mark.parametrize("path", ["/fiche", "/fiche.pdf", "/fiche.txt"])
def test_no_known_action_is_a_french_404_page(client: TestClient, path: str) -> None:
    for query in ("?a=inconnue,autre", "", "?a=,"):
        response = client.get(path + query)
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
        assert "Aucune action reconnue : choisissez des actions dans une réponse ou dans « Toutes les actions »." in (
            response.text.replace("&#x27;", "'").replace("&quot;", '"')
        )


@pytest.mark.parametrize("path", ["/fiche", "/fiche.pdf", "/fiche.txt"])
def test_more_than_twelve_actions_is_a_french_400(client: TestClient, path: str) -> None:
    twelve = ",".join(["forum-emploi"] + [f"x{i}" for i in range(11)])
    assert client.get(f"{path}?a={twelve}").status_code == 200
    response = client.get(f"{path}?a={twelve},x11")
    assert response.status_code == 400 and "une fiche en réunit 12 au plus" in response.text.replace("&#x27;", "'")
    same_twice = "&".join(["a=forum-emploi"] * 20)  # duplicates count once
    assert client.get(f"{path}?{same_twice}").status_code == 200
