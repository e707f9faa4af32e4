"""The chat's pieces: citation links, the passage page, refusals, the filters panel, the new-conversation
button, and 8 answers at once through the live server (the browser itself: tests/test_browser.py)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from assistant.api import create_app
from assistant.app import build_app, chat_turn
from assistant.filters import make_filters
from assistant.passage import highlight_spans, passage_page
from assistant.records import Answer, Citation
from assistant.render import passage_link, render
from assistant.service import Assistant

CITATION = Citation(
    n=2,
    source="guide (2).txt",
    title="PERMIS [SOLIDAIRE]",
    line_start=3,
    line_end=7,
    page=4,
    quote="Porteur de l'action : Mobilité (Pour Tous). … Contact : a&b@test.fr",
)
ANSWER = Answer(
    question="permis ?",
    answer="Le permis est financé [2]. Autre [9].\n\nSources : [2] Guide, p. 4",
    refused=False,
    citations=(CITATION,),
)


# --- Citation links and refusals in the markdown -----------------------------------------------------


def test_the_terminal_markdown_is_unchanged() -> None:
    assert render(ANSWER) == (
        "Le permis est financé [2]. Autre [9].\n\nSources : [2] Guide, p. 4\n\n---\n**Passages cités**\n"
        "2. PERMIS [SOLIDAIRE] — `guide (2).txt`, lignes 3–7, page 4"
    )
    assert render(Answer("q", "Les documents ne précisent pas le montant.", refused=True)) == (
        "Les documents ne précisent pas le montant."
    )


def test_the_passage_link_keeps_source_lines_and_quote_and_cannot_break_the_markdown() -> None:
    link = passage_link(CITATION)
    assert not re.search(r"[\s()\[\]]", link)  # nothing that ends a markdown link early
    parts = urlsplit(link)
    assert parts.path == "passage/guide%20%282%29.txt" and parts.fragment == "cite"
    assert parse_qs(parts.query) == {"lines": ["3-7"], "hl": [CITATION.quote]}


def test_the_chat_links_each_marker_and_each_cited_passage() -> None:
    link = passage_link(CITATION)
    text = render(ANSWER, link=passage_link)
    assert text.count(f"[\\[2\\]]({link})") == 2  # in the answer and in its "Sources :" line
    assert "Autre [9]." in text  # a number without a citation stays as it is
    # A bullet (markdown would renumber "2." as 1.), brackets of the title escaped inside the link text.
    assert text.endswith(f"- [\\[2\\] PERMIS \\[SOLIDAIRE\\] — `guide (2).txt`, lignes 3–7, page 4]({link})")


def test_a_refusal_is_set_apart_with_its_leads_below() -> None:
    refused = Answer(
        "q",
        "Les documents ne précisent pas le montant demandé.\n\nPassages les plus proches :\n\n- **Permis** : … [2]",
        refused=True,
        citations=(CITATION,),
    )
    text = render(refused, link=passage_link, refusal_note=True)
    assert text.startswith("> ℹ️ **Les documents ne précisent pas le montant demandé.**\n\nPassages les plus proches :")
    assert f"[\\[2\\]]({passage_link(CITATION)})" in text.split("---")[0]  # the lead is still listed and linked
    assert not render(ANSWER, refusal_note=True).startswith(">")  # only refusals


# --- The passage page ----------------------------------------------------------------------------------


def test_highlight_spans_finds_each_quoted_sentence_across_lines_and_gaps() -> None:
    text = "TITRE\nPorteur de l'action :  Mobilité\n(Pour Tous). Autre phrase.\nContact : a&b@test.fr\nFin"
    spans = highlight_spans(text, CITATION.quote)
    assert [text[a:b] for a, b in spans] == ["Porteur de l'action :  Mobilité\n(Pour Tous).", "Contact : a&b@test.fr"]
    assert highlight_spans(text, "Absent du texte.") == []
    # A cut quote ("…" at the end) highlights what it kept.
    assert [text[a:b] for a, b in highlight_spans(text, "Autre phrase. Contact : a&b…")] == ["Autre phrase.\nContact : a&b"]


def test_the_passage_page_escapes_everything_and_marks_the_quote() -> None:
    lines = ["<b>TITRE</b>", "Porteur de l'action :  Mobilité", "(Pour Tous). Autre.", "Contact : a&b@test.fr"]
    page = passage_page(
        document="Guide <2025>", title="PERMIS & co", source="g.txt", line_start=3, lines=lines, page=4, quote=CITATION.quote
    )
    assert '<html lang="fr">' in page and "<title>PERMIS &amp; co — Repères</title>" in page
    assert "lignes 3–6, page 4" in page and "Guide &lt;2025&gt;" in page
    assert "<li>&lt;b&gt;TITRE&lt;/b&gt;</li>" in page and "<b>" not in page
    assert '<ol class="lines" start="3">' in page
    # One highlight per line it covers; the first carries the anchor the link scrolls to.
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", page) == [
        "Porteur de l&#x27;action :  Mobilité",
        "(Pour Tous).",
        "Contact : a&amp;b@test.fr",
    ]
    assert page.count('id="cite"') == 1 and '<mark id="cite">Porteur' in page
    # Two quoted sentences with a blank line between them: one highlight each, none on the blank line.
    gap = passage_page(
        document="d", title="t", source="s", line_start=1, lines=["Un. ", "", "Deux."], page=None, quote="Un. Deux."
    )
    assert re.findall(r"<li>(.*?)</li>", gap) == ['<mark id="cite">Un.</mark> ', "", "<mark>Deux.</mark>"]
    unknown = passage_page(document="d", title="t", source="s", line_start=1, lines=["rien"], page=None, quote="<script>")
    assert "pas été retrouvé mot pour mot" in unknown and "&lt;script&gt;" in unknown and "<script>" not in unknown


# --- Filters panel ----------------------------------------------------------------------------------------


def test_make_filters_empty_fields_mean_none() -> None:
    assert make_filters(None, None, None) is None
    assert make_filters("  ", None, "") is None
    filters = make_filters(" Loos ", 17.0, "MEL")
    assert filters is not None and (filters.commune, filters.age, filters.territory) == ("Loos", 17, "MEL")


@pytest.mark.parametrize(
    ("commune", "age", "territory", "message"),
    [
        ("Trifouilly-les-Oies", None, None, "commune « Trifouilly-les-Oies » inconnue dans les filtres"),
        (None, 7, None, "âge 7 invalide dans les filtres"),
        (None, 17.5, None, "âge 17.5 invalide dans les filtres"),
        (None, None, "Lille", "territoire « Lille » inconnu"),
    ],
)
def test_make_filters_refuses_bad_values_in_french(
    commune: str | None, age: float | None, territory: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_filters(commune, age, territory)


def test_the_chat_applies_the_filters_and_answers_a_bad_one_in_french(assistant: Assistant) -> None:
    plain = list(chat_turn(assistant, "permis de conduire", [], None, None, ""))[-1]
    filtered = list(chat_turn(assistant, "permis de conduire", [], "Roubaix", 19, ""))[-1]
    # The panel describes the person the question does not: the answer is laid out for them.
    assert "Pistes pour ce jeune" not in plain
    # The person answer as cards, the filters' values as chips under its heading.
    assert filtered.startswith('<div class="rp-answer rp-person"><h3 class="rp-heading">Pistes pour ce jeune</h3>')
    assert '<span class="rp-chip">19 ans</span>' in filtered and '<span class="rp-chip">Roubaix</span>' in filtered
    assert '<article class="rp-card">' in filtered
    assert 'href="passage/actions.txt?lines=3-7&amp;hl=' in filtered  # each card links its passage
    bad = list(chat_turn(assistant, "permis de conduire", [], "Trifouilly-les-Oies", None, ""))
    assert bad == [
        "⚠️ Commune « Trifouilly-les-Oies » inconnue dans les filtres : indiquez une commune française (son nom ou son code postal)."
    ]


def test_the_interface_has_the_filters_panel_and_a_french_new_conversation_button(assistant: Assistant) -> None:
    demo = build_app(assistant)
    config = demo.get_config_file()
    by_id = {c["id"]: c for c in config["components"]}
    accordion = next(c for c in by_id.values() if c["type"] == "accordion")
    assert accordion["props"]["label"] == "Filtres" and accordion["props"]["open"] is False
    labels = {c["props"].get("label") for c in by_id.values()}
    assert {"Commune du jeune", "Âge du jeune", "Territoire"} <= labels
    button = next(c for c in by_id.values() if c["type"] == "button" and c["props"].get("value") == "Nouvelle conversation")
    assert button["props"]["visible"] is not False
    # Its click empties the chatbot (and the interface's copy of the history) and the three filters.
    click = next(d for d in config["dependencies"] if [button["id"], "click"] in [list(t) for t in d["targets"]])
    chat = demo.chat_interface
    assert chat.chatbot._id in click["outputs"] and chat.chatbot_state._id in click["outputs"]
    assert {f._id for f in chat.additional_inputs} <= set(click["outputs"])
    age = next(c for c in by_id.values() if c["props"].get("label") == "Âge du jeune")
    assert age["type"] == "textbox" and age["props"]["value"] == ""  # empty, never 0


# --- Concurrency: 8 answers at once, the page still served ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, threading.Barrier]]:
    """The real app (API + chat) on a free port; every answer waits at a barrier of 8 answers + the test."""
    import uvicorn

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    barrier = threading.Barrier(9, timeout=30)  # a broken barrier (fewer than 8 at once) fails the answers
    real_stream = assistant.stream

    def stream_when_eight_are_running(*args: Any, **kwargs: Any) -> Iterator[str | Answer]:
        barrier.wait()
        yield from real_stream(*args, **kwargs)

    monkeypatch.setattr(assistant, "stream", stream_when_eight_are_running)
    port = _free_port()
    config = uvicorn.Config(create_app(assistant), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", barrier
    barrier.abort()  # after a failure, no answer stays blocked
    server.should_exit = True
    thread.join(timeout=30)


def test_eight_chat_answers_run_at_once_without_blocking_the_page(live_server: tuple[str, threading.Barrier]) -> None:
    from gradio_client import Client

    url, barrier = live_server
    client = Client(url + "/", verbose=False)
    questions = [f"permis de conduire Roubaix {i}" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(client.predict, q, None, None, "", api_name="/chat") for q in questions]
        # The 8 answers are in flight together: each waits at the barrier until all 8 (and this test) are there.
        deadline = time.monotonic() + 30  # only bounds a failure: 8 arrive in well under a second
        while barrier.n_waiting < 8:
            assert time.monotonic() < deadline, f"only {barrier.n_waiting} answers ran at once, not 8"
            assert not any(job.done() for job in jobs), [job.exception() for job in jobs if job.done()]
            time.sleep(0.05)
        # Meanwhile the page, the API and a passage still answer: the UI is not blocked.
        assert httpx.get(url + "/", timeout=30).status_code == 200
        assert httpx.get(url + "/api/health", timeout=30).json()["status"] == "ok"
        assert httpx.get(url + "/passage/actions.txt", params={"lines": "3-7"}, timeout=30).status_code == 200
        barrier.wait()  # release them all
        replies = [job.result(timeout=60) for job in jobs]
    assert all('<details class="rp-sources">' in reply and "passage/actions.txt" in reply for reply in replies)


def test_a_rating_is_stored_with_the_optional_comment_or_the_reason_picked(tmp_path: Any) -> None:
    from assistant.app import DISLIKE_REASONS, AnswerMemory, rate
    from assistant.feedback import FeedbackStore

    store, memory = FeedbackStore(tmp_path / "f.sqlite3"), AnswerMemory()
    cited = {"n": 1, "source": "g.txt", "line_start": 3, "line_end": 9}
    memory.put("Booster [1]", {"question": "décrocheur ?", "answer": "Booster [1]", "citations": [cited]})
    history = [{"role": "user", "content": "décrocheur ?"}, {"role": "assistant", "content": "Booster [1]"}]
    assert rate(store, memory, history, 1, True, "  très utile ")
    assert rate(store, memory, history, 1, DISLIKE_REASONS[0], "le contact a changé")
    assert not rate(store, memory, history, 0, False)  # a question is not rated
    assert not rate(store, memory, history, 1, "autre chose")  # not an offered value
    rows = store.all()
    assert [(r.rating, r.comment) for r in rows] == [
        ("up", "très utile"),
        ("down", "Information inexacte — le contact a changé"),
    ]
    assert rows[0].citations[0]["source"] == "g.txt"  # the answer's record, found by its text


def test_the_chat_offers_a_comment_box_and_dislike_reasons(assistant: Assistant) -> None:
    import gradio as gr

    demo = build_app(assistant)
    assert list(demo.chat_interface.chatbot.feedback_options[2:]) == [
        "Information inexacte",
        "Réponse incomplète",
        "Source mal citée",
    ]
    boxes = [b for b in demo.blocks.values() if isinstance(b, gr.Textbox) and b.elem_id == "commentaire"]
    assert len(boxes) == 1 and "facultatif" in str(boxes[0].label)


# --- The catalogue tab, the filters' note, feedback events, the French page -------------------------------


def _catalogue() -> list[Any]:
    from ingest.records import Action

    return [
        Action(
            id="g-booster",
            title="PROGRAMME BOOSTER",
            source="g.txt",
            line_start=1,
            line_end=5,
            porteur="UnisCité",
            age_min=16,
            age_max=25,
            themes=("engagement",),
            situations=("decrochage",),
            summary="Un service civique 3 jours par semaine.",
        ),
        Action(
            id="g-forum",
            title="FORUM EMPLOI",
            source="g.txt",
            line_start=10,
            line_end=15,
            porteur="villes d'Haubourdin et de Loos",
            partners=("Mission Locale",),
            age_min=13,
            age_max=30,
            themes=("emploi",),
        ),
        Action(id="g-senior", title="CLUB SENIOR", source="g.txt", line_start=20, line_end=22, age_min=26, age_max=30),
    ]


def test_the_catalogue_tab_filters_by_age_theme_porteur_and_words() -> None:
    from assistant.app import browse

    actions = _catalogue()

    def titles(html: str) -> list[str]:
        return re.findall(r'<h4 class="rp-title">([^<]+)', html)

    everything = browse(actions, "", None, "", "", "")
    assert titles(everything) == ["PROGRAMME BOOSTER", "FORUM EMPLOI", "CLUB SENIOR"] and ">3 actions<" in everything
    assert titles(browse(actions, "17", None, "", "", "")) == ["PROGRAMME BOOSTER", "FORUM EMPLOI"]  # 26-30 ruled out
    assert titles(browse(actions, "", None, "decrochage", "", "")) == ["PROGRAMME BOOSTER"]
    assert titles(browse(actions, "", None, "", "Mission Locale", "")) == ["FORUM EMPLOI"]  # a partner counts
    assert titles(browse(actions, "", None, "", "unis cité", "")) == ["PROGRAMME BOOSTER"]
    assert titles(browse(actions, "", None, "", "", "service civique")) == ["PROGRAMME BOOSTER"]
    assert "Aucune action ne correspond" in browse(actions, "", None, "", "", "plongée sous-marine")
    card = browse(actions, "", None, "", "", "booster")
    assert "#rp-demander:C%27est%20quoi%20PROGRAMME%20BOOSTER%20%3F" in card and 'href="fiche?a=g-booster"' in card
    assert browse(actions, "dix-sept", None, "", "", "").startswith('<p class="rp-note" role="alert">⚠️ Âge « dix-sept » invalide')


def test_the_filters_note_explains_a_bad_value_as_it_is_typed() -> None:
    from assistant.app import filter_note

    assert filter_note(None, "", "") == "" and filter_note("Loos", "17", "MEL") == ""
    assert filter_note(None, "0", "").startswith("⚠️ Âge 0 invalide dans les filtres")
    assert "Commune « Trifouilly-les-Oies » inconnue" in filter_note("Trifouilly-les-Oies", "", "")


def test_one_click_is_one_rating_event() -> None:
    from assistant.app import AnswerMemory

    memory = AnswerMemory()
    assert memory.new_rating(("s1", 1), False)  # 👎
    assert memory.new_rating(("s1", 1), "Information inexacte")  # a reason: Gradio fires it twice…
    assert not memory.new_rating(("s1", 1), "Information inexacte")  # …the second is no new click
    assert not memory.new_rating(("s1", 1), "")  # the reason unselected: no rating
    assert memory.new_rating(("s1", 1), "Information inexacte")  # chosen again: a new click
    assert memory.new_rating(("s2", 1), "Information inexacte")  # another browser, its own click


def test_the_page_is_served_in_french_whatever_the_browsers_language(assistant: Assistant) -> None:
    from fastapi.testclient import TestClient

    from assistant.french_page import FRENCH_FIRST, in_french

    assert in_french(b'<html lang="en"><head><title>x</title>') == b'<html lang="fr"><head>' + FRENCH_FIRST + b"<title>x</title>"
    client = TestClient(create_app(assistant))
    page = client.get("/", headers={"Accept-Language": "en-US"})
    assert page.status_code == 200 and int(page.headers["content-length"]) == len(page.content)
    assert 'lang="fr"' in page.text and 'lang="en"' not in page.text
    assert page.text.index('d("language","fr-FR")') < page.text.index('<script type="module"')  # before Gradio's bundle
    assert client.get("/api/health").json()["status"] == "ok"  # the API is untouched
