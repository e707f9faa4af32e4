"""A person answer's pistes in fields and their cards (assistant.card): fake passages, no model."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

from langchain_core.documents import Document

from assistant.card import SHOWN_CARDS, action_card, answer_html, handout_link
from assistant.chain import build_chain
from assistant.compose import ComposingAnswerer
from assistant.handout import phone_href
from assistant.records import Answer, Citation, Piste
from assistant.render import passage_link
from ingest.records import Action, Contact
from tests.test_assistant import ListRetriever
from tests.test_compose import _doc

QUESTION = "quelle action pour un décrocheur de 17 ans à Loos ?"


def _action(title: str, text: str, line: int, *reasons: str, verdict: str = "match") -> Document:
    """An action's passage as test_compose writes them, with its catalogue ids and porteur."""
    return _doc(title, f"{title}\n{text}", line, verdict, reasons, action_ids=[f"a{line}"], porteur=f"Asso {line}")


DOCS = [
    _action(
        "FORUM",
        "Un forum des métiers pour les jeunes de 13 à 30 ans.\nContact : Jean Lamblin\njlamblin@loos.fr / 03 20 10 20 30",
        10,
        "Loos : commune de l'action",
    ),
    _action("RACCROCHE", "Pour les jeunes en situation de décrochage scolaire.", 20),
    _action("EMPLOI 1", "Un accompagnement vers l'emploi.", 30),
    _action("EMPLOI 2", "Un accompagnement vers l'emploi.", 40),
    _action("EMPLOI 3", "Un accompagnement vers l'emploi.", 50),
    _action("MAJ", "Pour les jeunes décrocheurs hors QPV.", 60, "à vérifier : seulement si le jeune n'habite pas un QPV"),
    _action("LOIN", "Pour les jeunes de Lille.", 70, "Loos : l'action concerne Lille", verdict="excluded"),
]


def _answer() -> Answer:
    return build_chain(ListRetriever(docs=DOCS), ComposingAnswerer(frequency=lambda stem: 0.01)).invoke(QUESTION)


def test_every_piste_of_a_person_answer_is_a_line_of_its_text_with_the_same_facts() -> None:
    answer = _answer()
    by_section = {s: [p.title for p in answer.pistes if p.section == s] for s in ("fit", "more", "condition", "excluded")}
    assert by_section == {
        "fit": ["FORUM", "RACCROCHE", "EMPLOI 1", "EMPLOI 2"],
        "more": ["EMPLOI 3"],
        "condition": ["MAJ"],
        "excluded": ["LOIN"],
    }
    blocks = answer.answer.split("\n\n")
    for piste in answer.pistes:
        # Numbered as the text: the piste's [n] ends the line (or the list entry) that names it.
        line = next(b for b in blocks if f"**{piste.title}**" in b or piste.title in b)
        assert f"[{piste.n}]" in line
        if piste.section in ("fit", "condition"):
            assert piste.offer in line and all(r in line for r in (*piste.fits, *piste.check))
    forum = answer.pistes[0]
    assert forum.fits == ("Loos : commune de l'action",) and forum.check == ()
    assert forum.phones == ("03 20 10 20 30",) and forum.emails == ("jlamblin@loos.fr",)
    assert forum.contact in blocks[1] and forum.action_id == "" and forum.porteur == "Asso 10"
    maj = next(p for p in answer.pistes if p.title == "MAJ")
    assert maj.check == ("à vérifier : seulement si le jeune n'habite pas un QPV",) and maj.fits == ()
    assert answer.to_json()["pistes"][0]["phones"] == ["03 20 10 20 30"]


def test_a_fact_answer_has_no_pistes() -> None:
    docs = [_action("FORUM", "Le forum a lieu le 12 mars à Loos.", 10)]
    answer = build_chain(ListRetriever(docs=docs), ComposingAnswerer()).invoke("Quand a lieu le FORUM ?")
    assert answer.pistes == ()


class _Tags(HTMLParser):
    """The open tags of an HTML fragment, checked for balance."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))
        if tag not in ("br", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def _parse(html: str) -> _Tags:
    tags = _Tags()
    tags.feed(html)
    assert tags.stack == []
    return tags


def test_the_person_answer_is_one_html_block_of_cards_three_open_and_the_rest_behind_voir_les_autres() -> None:
    answer = _answer()
    html = answer_html(answer, passage_link)
    assert "\n\n" not in html  # one raw HTML block for the chatbot's markdown
    tags = _parse(html)
    cards = [a for t, a in tags.seen if t == "article"]
    assert len(cards) == 6  # 4 in full, 1 more, 1 under a condition; the ruled-out one is no card
    first_more = html.index('<details class="rp-more">')
    assert html.count('class="rp-card"', 0, first_more) == SHOWN_CARDS
    assert "<summary>Voir les 3 autres</summary>" in html
    assert "Sous condition</span>" in html  # MAJ's badge
    assert re.search(r'<details class="rp-excluded"><summary>Ne conviennent pas \(1\)</summary><ul><li>LOIN — ', html)
    # Heading and chips: age and commune removable, the situation shown.
    assert '<h3 class="rp-heading">Pistes pour ce jeune</h3>' in html
    # (Controls are anchors whose address says what they do: the chatbot's sanitizer keeps no data-* attribute.)
    assert 'href="#rp-retirer:17%20ans"' in html and 'href="#rp-retirer:Loos"' in html
    assert ">décrochage scolaire</span>" in html  # shown, not removable
    assert 'href="#rp-question:quelle%20action%20pour%20un%20d%C3%A9crocheur%20de%2017%20ans%20%C3%A0%20Loos%20%3F"' in html
    # The contact's buttons.
    assert 'href="tel:0320102030"' in html and 'href="mailto:jlamblin@loos.fr"' in html
    assert f'href="#rp-copier:{quote(answer.pistes[0].contact, safe="")}"' in html  # the contact as the card shows it
    # Every citation link goes to the passage page (the panel opens it), and no "Passages cités" block.
    links = [a["href"] for t, a in tags.seen if t == "a" and a.get("class") in ("rp-cite", "rp-source")]
    assert links and all(h and h.startswith("passage/g.txt?lines=") for h in links)
    assert "Passages cités" not in html and "Sources :" not in html
    # The answer's lines that are pistes are not repeated as text.
    assert "**" not in html and "1. " not in html


def test_a_short_answer_keeps_its_text_form_escaped_with_linked_citations() -> None:
    answer = Answer(
        question="q",
        answer="Le **FORUM** a lieu <le 12 mars> [1].\n\n- un point [1]\n\nSources : [1] Guide, p. 3",
        refused=False,
        citations=(Citation(1, "g.txt", "FORUM", 10, 12, 3, "Le forum a lieu"),),
    )
    html = answer_html(answer, passage_link)
    _parse(html)
    assert "<strong>FORUM</strong>" in html and "&lt;le 12 mars&gt;" in html and "<ul><li>un point" in html
    assert "[1] Guide, p. 3</a>" in html  # the document as the Sources line names it
    refusal = Answer(question="q", answer="Les documents ne précisent pas la date.", refused=True)
    assert 'class="rp-note"' in answer_html(refusal, passage_link)


def test_each_answer_copies_as_plain_text_not_html() -> None:
    from urllib.parse import unquote

    answer = _answer()
    html = answer_html(answer, passage_link)
    copied = re.search(r'<p class="rp-tools"><a class="rp-btn rp-copy" href="#rp-copier:([^"]+)">Copier la réponse</a></p>', html)
    assert copied is not None
    text = unquote(copied.group(1))
    assert text.startswith("Pistes pour ce jeune (17 ans · Loos · décrochage scolaire)")
    assert "**" not in text and "<" not in text and "Sources : [1] g.txt" in text


def test_tel_and_handout_links() -> None:
    assert phone_href("03 20 70 32 59") == "tel:0320703259" and phone_href("+33 (0)3 20") == "tel:+33320"
    pistes = [
        Piste(1, "fit", "A", action_id="001-a"),
        Piste(2, "excluded", "B", action_id="001-b"),
        Piste(3, "more", "C", action_id="001-c"),
        Piste(4, "condition", "D", action_id="001-d"),
        Piste(5, "fit", "E"),  # a plan's passage: no catalogue action
    ]
    assert handout_link(pistes) == "fiche?a=001-a&a=001-d"
    assert handout_link([Piste(1, "fit", "A")]) == ""


def test_a_catalogue_action_is_the_same_card_with_its_passage_and_a_question() -> None:
    action = Action(
        id="001-booster",
        title="PROGRAMME BOOSTER",
        source="g.txt",
        line_start=5,
        line_end=9,
        document="Guide",
        page=36,
        porteur="UnisCité",
        age_min=16,
        age_max=25,
        summary="Un service civique 3 jours par semaine.",
        qpv_evidence="habitant un QPV",
        contacts=(Contact(name="T. V.", emails=("tv@uniscite.fr",), phones=("03 20 70 32 59",)),),
    )
    html = action_card(action)
    tags = _parse(html)
    assert "<dt>Pour qui</dt><dd>de 16 à 25 ans</dd>" in html and "Un service civique" in html
    assert "<dt>À vérifier</dt><dd>habitant un QPV</dd>" in html
    assert 'href="tel:0320703259"' in html and 'href="fiche?a=001-booster"' in html
    assert 'href="#rp-demander:C%27est%20quoi%20PROGRAMME%20BOOSTER%20%3F"' in html
    assert any(t == "a" and (a.get("href") or "").startswith("passage/g.txt?lines=5-9") for t, a in tags.seen)
    assert "Source : Guide, p. 36" in html
