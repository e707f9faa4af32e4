"""Action cards of the guide (001): reassembled in reading order, map labels gone, real corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.cards import map_labels, parse_guide
from ingest.chunking import chunk_document
from ingest.loaders import load_file
from ingest.records import SourceDoc

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "data" / "corpus" / "001_1eb8413346c42669.txt"
GOLD = ROOT / "tests" / "data" / "gold-records-sample.json"


@pytest.fixture(scope="module")
def guide() -> SourceDoc:
    return load_file(GUIDE)


def test_all_forty_cards_have_a_title_and_a_porteur(guide: SourceDoc) -> None:
    cards = [c for c in chunk_document(guide) if c.kind == "action_card"]
    assert len(cards) == 40
    for card in cards:
        assert card.title and card.title.upper() == card.title, card.line_start
        assert card.metadata["porteur"].lower().startswith("porteur"), card.title
        assert card.metadata["theme"], card.title


def test_no_chunk_of_the_corpus_contains_a_run_of_map_labels() -> None:
    labels = map_labels(load_file(GUIDE).lines)
    for path in sorted((ROOT / "data" / "corpus").iterdir()):
        for chunk in chunk_document(load_file(path)):
            run = 0
            for line in chunk.text.split("\n"):
                key = "".join(c for c in line.lower() if c.isalnum())
                run = run + 1 if key and any(key == "".join(c for c in label if c.isalnum()) for label in labels) else 0
                assert run < 4, f"map labels in {chunk.source}:{chunk.line_start}"


def test_cards_read_in_order_title_porteur_description_public_contacts(guide: SourceDoc) -> None:
    card = next(c for c in chunk_document(guide) if c.title == "CONNECT’EMPLOI")
    text = card.text
    order = [
        text.index(s)
        for s in (
            "CONNECT’EMPLOI",
            "Porteur de l’action",
            "UNE ACTION INNOVANTE",
            "Pour les jeunes de 16 à 25 ans",
            "LES RESSOURCES",
            "Contacts :",
        )
    ]
    assert order == sorted(order)
    assert "jckapusta@mlms.fr" in text
    assert card.metadata["public"] == "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin."
    assert card.metadata["map_highlights"] == ["HaubourdinLoos", "VendevilleWattignies"]
    assert (card.line_start, card.line_end) == (797, 1004)


def test_every_gold_record_of_the_guide_is_matched_by_an_overlapping_card(guide: SourceDoc) -> None:
    gold = [g for g in json.loads(GOLD.read_text()) if g["source_file"] == GUIDE.name]
    cards = [c for c in chunk_document(guide) if c.kind == "action_card"]
    assert gold
    for record in gold:
        match = [c for c in cards if c.line_start <= record["line_end"] and record["line_start"] <= c.line_end]
        assert match, record["id"]
        best = max(match, key=lambda c: min(c.line_end, record["line_end"]) - max(c.line_start, record["line_start"]))
        for contact in record["contacts"]:
            for email in [w for w in contact.split() if "@" in w]:
                assert email.strip(".,;") in best.text.replace("-\n", ""), (record["id"], email)


def test_a_changed_card_yields_changed_metadata(guide: SourceDoc) -> None:
    """Mutation: the card's public line and porteur are read from the text, not from a table."""
    lines = guide.lines
    mutated = [
        line.replace(
            "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin.",
            "Pour les jeunes de 18 à 29 ans habitant Seclin.",
        ).replace("Porteur de l’action : Mission Locale Métropole Sud", "Porteur de l’action : Association Nouvelle")
        for line in lines
    ]
    card = next(
        c for c in chunk_document(SourceDoc(guide.source, "\n".join(mutated), guide.title)) if c.title == "CONNECT’EMPLOI"
    )
    assert card.metadata["public"] == "Pour les jeunes de 18 à 29 ans habitant Seclin."
    assert card.metadata["porteur"] == "Porteur de l’action : Association Nouvelle"


def test_documents_without_cards_fall_back_to_paragraphs() -> None:
    doc = SourceDoc("x.txt", "Titre\n\nUn paragraphe.\n\nPOUR EN SAVOIR PLUS\nUn seul bloc ne fait pas un guide.")
    assert {c.kind for c in chunk_document(doc)} == {"paragraph"}
    assert parse_guide(doc.lines).cards  # the parser itself still reads one card
