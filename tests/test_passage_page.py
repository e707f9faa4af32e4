"""The passage page and its compact `embed=1` shape for the chat's source panel: map labels of the guide
(001) masked with honest line numbers, the quote highlighted, the link to the shareable page, the framing
headers, and the document's date read in its text."""

from __future__ import annotations

import datetime
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.passage import EMBED_CSS, MASKED, PAGE_CSS, document_date, map_label_lines, passage_page
from assistant.service import Assistant
from assistant.settings import Settings
from ingest.records import SourceDoc
from tests.conftest import KeywordEmbeddings

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 1, 15)

# Connect'Emploi, a card of the guide (docs/data-quality.md §2.1): l.797-1006, its map l.851-992.
CARD = (797, 1006)
MAP = (851, 992)
PUBLIC = "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin."


def _items(page: str) -> list[str]:
    """The <li> of the lines list, as written."""
    body = page.split('<ol class="lines"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<li[^>]*>.*?</li>", body)


def _text(item: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", item))


# --- the date of a document ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Délibération du 28 mars 2019.\nLe 24 septembre 2019, la Région a voté.", "septembre 2019"),
        ("Ministère de la Jeunesse, 02/08/2016.\nPréfecture, 22/07/2016.", "août 2016"),
        ("signé le 1er juillet 2019 par les partenaires", "juillet 2019"),
        ("la circulaire du 22 janvier\n2019 relative aux quartiers", "janvier 2019"),  # cut across lines
        # A deadline or a plan is not the document's date.
        ("signé le 16 juillet 2018 ; prorogé jusqu'au 31 décembre 2022.", "juillet 2018"),
        ("Réunion le 4 juin 2019, avant le 30 septembre 2019 au plus tard.", "juin 2019"),
        # Nor a date after today.
        ("Bilan le 27 juin 2025 ; enquête le 12 mars 2027.", "juin 2025"),
        # A named day wins over a later month alone ("collecte : décembre 2025" is a plan).
        ("Temps fort le 27 juin 2025. Collecte : décembre 2025.", "juin 2025"),
        # No named day: the most recent month, plans aside.
        ("Rapport réalisé en février 2018, puis en mai 2019 ; résultats fin juin 2026.", "mai 2019"),
        # Years alone are periods and targets: no date.
        ("Contrat de ville 2015-2020, prolongé jusqu'en 2022, depuis 2017.", None),
        ("31/02/2019 n'existe pas ; 12/18/2020 non plus.", None),
        ("", None),
    ],
)
def test_document_date_reads_the_most_recent_day_the_text_names(text: str, date: str | None) -> None:
    assert document_date(text, today=TODAY) == date


def test_the_corpus_documents_are_dated_from_their_text(corpus_docs: dict[str, SourceDoc]) -> None:
    dates = {name: document_date(doc.text, today=TODAY) for name, doc in corpus_docs.items()}
    assert dates == {
        "000": "septembre 2016",  # its sources: "Préfecture …, 02/09/2016"
        "001": None,  # the guide names years only (timelines 2017-2021)
        "002": "septembre 2019",  # "Le 24 septembre 2019, le Conseil régional …"
        "003": "juillet 2019",  # glyph-shifted dates read once repaired; "jusqu'au 31 décembre 2022" left out
        "004": "juin 2025",  # "23 juin – 27 juin 2025"; the 2026 plans left out
    }


# --- map labels ----------------------------------------------------------------------------------------


def test_map_label_lines_are_the_maps_ingest_leaves_out_of_the_cards(corpus_docs: dict[str, SourceDoc]) -> None:
    guide = corpus_docs["001"].lines
    hidden = map_label_lines(guide)
    assert 1700 < len(hidden) < 1900  # ~1 801 labels (docs/data-quality.md §2.2)
    assert all(guide[n - 1].strip() for n in hidden)
    assert {890, 918} <= hidden and guide[917] == "BaisieuxChéreng" and guide[889] == "Templemars"
    assert all(n in hidden for n in range(MAP[0], MAP[1] + 1) if guide[n - 1].strip())
    # The communes a map highlights, after its last label, are the card's territory: they stay.
    assert guide[342] == "Lille" and 343 not in hidden
    assert guide[558:560] == ["Haubourdin", "Loos"] and not {559, 560} & hidden
    assert not map_label_lines(corpus_docs["004"].lines)  # no guide, nothing hidden


def test_hidden_lines_become_one_placeholder_and_the_numbers_stay_the_files() -> None:
    lines = ["Porteur : Ville", "Warneton", "", "Templemars", "BaisieuxChéreng", "", "Pour les jeunes. Templemars."]
    page = passage_page(
        document="Guide",
        title="T",
        source="g.txt",
        line_start=10,
        lines=lines,
        page=None,
        quote="Templemars.",
        hidden={11, 13, 14},
    )
    items = _items(page)
    assert items[0] == "<li>Porteur : Ville</li>"
    assert _text(items[1]) == f"{MASKED} — lignes 11–14" and 'value="11"' in items[1] and 'class="masked"' in items[1]
    assert items[2] == '<li value="15"></li>'  # the blank after the map keeps its own number
    assert items[3] == '<li>Pour les jeunes. <mark id="cite">Templemars.</mark></li>'  # never a masked label
    assert "Warneton" not in page and "BaisieuxChéreng" not in page
    single = passage_page(document="d", title="t", source="s", line_start=1, lines=["a", "Loos", "b"], page=None, hidden={2})
    assert [_text(i) for i in _items(single)] == ["a", f"{MASKED} — ligne 2", "b"] and '<li value="3">b</li>' in single


def test_every_text_colour_has_a_contrast_of_at_least_4_5() -> None:
    def luminance(colour: str) -> float:
        rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    def contrast(colour: str, background: str) -> float:
        light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
        return (light + 0.05) / (dark + 0.05)

    for css in (EMBED_CSS, PAGE_CSS):
        colours = re.findall(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", css)
        assert len(colours) >= 5
        assert all(contrast(colour, "#ffffff") >= 4.5 for colour in colours), colours  # text sits on white
    # The highlight and the quoted extract keep the body's text colour on their own backgrounds.
    assert "mark { background: #ffe066; color: #1d2430;" in EMBED_CSS and contrast("#1d2430", "#ffe066") >= 4.5
    assert contrast("#1d2430", "#fff8e1") >= 4.5
    assert "system-ui" in EMBED_CSS and "max-width" not in EMBED_CSS  # fluid down to a 360 px panel


# --- over HTTP, on the guide ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guide_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The API over an index of the guide (001) and the FIJeM deck (004)."""
    home = tmp_path_factory.mktemp("passage")
    corpus = home / "corpus"
    corpus.mkdir()
    for prefix in ("001", "004"):
        source = next((ROOT / "data" / "corpus").glob(f"{prefix}_*.txt"))
        (corpus / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings.from_env(environ={}, home=home / "home", corpus=corpus)
    assistant = Assistant(settings, embeddings=KeywordEmbeddings())
    assistant.ingest()
    return TestClient(create_app(assistant, mount_ui=False))


def _guide_name() -> str:
    return next((ROOT / "data" / "corpus").glob("001_*.txt")).name


def _get(client: TestClient, **params: Any) -> Any:
    response = client.get(f"/passage/{_guide_name()}", params={"lines": f"{CARD[0]}-{CARD[1]}", "hl": PUBLIC, **params})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("embed", [False, True])
def test_a_card_spanning_a_map_shows_no_map_label(guide_client: TestClient, embed: bool) -> None:
    page = _get(guide_client, **({"embed": "1"} if embed else {})).text
    items = _items(page)
    shown = [_text(i) for i in items]
    for label in ("Warneton", "Templemars", "BaisieuxChéreng", "Radinghem-en-Weppes", "VendevilleWattignies"):
        assert label not in shown
    masked = [i for i in items if 'class="masked"' in i]
    assert len(masked) == 1 and f'value="{MAP[0]}"' in masked[0] and f"lignes {MAP[0]}–{MAP[1]}" in _text(masked[0])
    assert MASKED in _text(masked[0])
    # Every other line is shown under its own number: the list counts from 797, restarts after the map.
    assert f'<ol class="lines" start="{CARD[0]}">' in page and f'<li value="{MAP[1] + 1}">' in page
    assert len(items) == (CARD[1] - CARD[0] + 1) - (MAP[1] - MAP[0])
    assert shown[0] == "POUR EN SAVOIR PLUS " and shown[-1].startswith("149 jeunes accompagnés")
    # The quote is highlighted, on its line (994).
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", page) == [PUBLIC]
    assert items[994 - CARD[0] - (MAP[1] - MAP[0])].startswith(f'<li><mark id="cite">{PUBLIC}</mark>')


def test_the_embed_is_compact_and_links_to_the_shareable_page(guide_client: TestClient) -> None:
    response = _get(guide_client, embed="1")
    page = response.text
    assert '<html lang="fr">' in page and 'name="viewport"' in page
    body = page.split("<body", 1)[1]
    # Compact: no header, quoted-extract box or file line; one <main> landmark for screen readers.
    assert body.count("<main>") == 1 and "<header" not in body and "<blockquote" not in body and "fichier" not in body
    assert '<p class="doc">ILS INNOVENT POUR L’AVENIR DES JEUNES EN MÉTROPOLE</p>' in body
    assert "<h1>CONNECT’EMPLOI</h1>" in body
    assert '<p class="meta">page 13</p>' in body  # the guide's page (its directory); the guide has no date
    assert "Document de" not in body
    link = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">Ouvrir la page du passage</a>', body)
    assert link is not None
    href = unescape(link.group(1))
    # The same passage without embed, relative to the panel's address.
    url = urljoin(str(response.url), href)
    parts = urlsplit(url)
    assert parts.path == f"/passage/{_guide_name()}" and parts.fragment == "cite"
    assert parse_qs(parts.query) == {"lines": [f"{CARD[0]}-{CARD[1]}"], "hl": [PUBLIC]}
    full = guide_client.get(url)
    assert full.status_code == 200 and "<main>" in full.text and "<h1>CONNECT’EMPLOI</h1>" in full.text
    assert "Ouvrir la page du passage" not in full.text and "fichier <code>" in full.text


def test_the_embed_shows_the_documents_date_when_its_text_gives_one(guide_client: TestClient) -> None:
    deck = next((ROOT / "data" / "corpus").glob("004_*.txt")).name
    embed = guide_client.get(f"/passage/{deck}", params={"lines": "1-20", "embed": "1"}).text
    assert re.search(r'<p class="meta">Document de juin 2025</p>', embed)
    full = guide_client.get(f"/passage/{deck}", params={"lines": "1-20"}).text
    assert "lignes 1–20 — fichier" in full and "— Document de juin 2025</p>" in full


def test_the_embed_can_be_framed_by_the_chat_and_still_runs_no_script(guide_client: TestClient) -> None:
    for params in ({"embed": "1"}, {}):
        headers = _get(guide_client, **params).headers
        assert "x-frame-options" not in headers
        csp = headers["content-security-policy"]
        # No frame-ancestors at all: 'none' would blank the panel, and 'self' too when a host page of
        # another origin frames the chat (the README's Missions Locales embedding), as every ancestor is checked.
        assert "frame-ancestors" not in csp
        assert "default-src 'none'" in csp and "script" not in csp and headers["x-content-type-options"] == "nosniff"
    escaped = guide_client.get(f"/passage/{_guide_name()}", params={"lines": "1-3", "hl": "<script>x</script>", "embed": "1"})
    assert escaped.status_code == 200 and "<script" not in escaped.text
    errors = guide_client.get("/passage/inconnu.txt", params={"embed": "1"})
    assert errors.status_code == 404 and "Passage introuvable" in errors.text
