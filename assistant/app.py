"""The Gradio chat (`reperes serve`), mounted beside the HTTP API. Gradio is imported only when serving.

Answers stream as they are written; earlier questions of the conversation make follow-ups work;
each `[n]` links to the cited passage (`/passage/…`, quote highlighted); a refusal is set apart;
an optional filters panel (commune, age, territory) completes the question; 👍/👎 on an answer is
stored with its citations in the feedback database (`reperes feedback export`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from html import escape
from pathlib import Path
from typing import Any

from assistant.card import answer_html, catalogue_html
from assistant.feedback import FeedbackStore, feedback_path, settings_version
from assistant.filters import TERRITORIES, make_filters, parse_age
from assistant.inputs import MAX_FEEDBACK_ANSWER_CHARS, bad_character, question_problem, text_problem
from assistant.render import passage_link
from assistant.service import Assistant
from assistant.settings import Settings
from index.catalogue import ActionFilter, filter_actions
from index.query import Filters
from ingest.gazetteer import load_gazetteer
from ingest.records import Action
from ingest.vocabulary import label as concept_label

EXAMPLES = [
    "Quelle action pour un décrocheur de 17 ans à Loos ?",
    "Qui contacter pour l'action Connect'Emploi ?",
    "Quelles actions pour le permis de conduire des jeunes ?",
]


def _text(content: Any) -> str:
    """A chat message's text: Gradio 6 gives a list of parts ({"type": "text", "text": ...}), older a string."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", "")) if content.get("type", "text") == "text" else ""
    if isinstance(content, list | tuple):
        return "\n".join(t for t in (_text(part) for part in content) if t)
    return ""


def earlier_questions(history: list[Any] | None) -> list[str]:
    """The counsellor's earlier questions from the chat history (Gradio messages or (user, bot) pairs)."""
    questions: list[str] = []
    for turn in history or []:
        if isinstance(turn, dict) and turn.get("role") == "user":
            if text := _text(turn.get("content")).strip():
                questions.append(text)
        elif isinstance(turn, list | tuple) and turn and isinstance(turn[0], str):
            questions.append(turn[0])
    return questions


class AnswerMemory:
    """The last answers shown, by their rendered text: a 👍/👎 finds the JSON record (citations) it rates."""

    def __init__(self, size: int = 500) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._ratings: OrderedDict[tuple[str, int], Any] = OrderedDict()  # the last like event of each answer shown
        self._size, self._lock = size, threading.Lock()

    def put(self, text: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._items[text.strip()] = record
            self._items.move_to_end(text.strip())
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def get(self, text: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get(text.strip())

    def new_rating(self, key: tuple[str, int], liked: Any) -> bool:
        """Whether a like event of the answer ``key`` (browser session, message index) is a new click: Gradio
        fires one click on a 👎 reason twice with the same value, and a deselection as "" (no rating)."""
        with self._lock:
            last = self._ratings.get(key)
            self._ratings[key] = liked
            self._ratings.move_to_end(key)
            while len(self._ratings) > self._size:
                self._ratings.popitem(last=False)
        return liked not in ("", None) and liked != last


def respond(
    assistant: Assistant,
    message: str,
    history: list[Any] | None = None,
    remember: Callable[[str, dict[str, Any]], None] | None = None,
    filters: Filters | None = None,
    observe: Callable[[str, dict[str, float]], None] | None = None,
) -> Iterator[str]:
    """One chat turn, streamed as written (the composer's sections, an LLM's checked sentences), then
    the final answer with its links; ``remember`` keeps the JSON record a 👍/👎 will rate, ``observe``
    counts the answer's kind and stage timings (the server's /metrics)."""
    if not message or not message.strip():
        yield "Tapez une question, par exemple : « Quelle action pour un décrocheur de 17 ans à Loos ? »"
        return
    settings = assistant.settings
    if problem := question_problem(message, settings):  # before any analysis (a 1 MB paste took minutes)
        yield f"⚠️ {problem[:1].upper()}{problem[1:]}."
        return
    # The questions a note refused stay in the chat's history: leave them out, and keep the latest ones within
    # the limit, so a long conversation goes on instead of being refused at every turn.
    earlier = [q for q in earlier_questions(history) if question_problem(q, settings) is None]
    earlier = earlier[len(earlier) - settings.max_history :] if settings.max_history else []
    try:
        shown = ""
        for item in assistant.stream(message, history=earlier, filters=filters):
            if isinstance(item, str):
                shown += item
                yield shown
                continue
            # The record, last: its text is authoritative (a refusal replaces what was shown).
            text = answer_html(item, passage_link)
            if remember is not None:
                remember(text, item.to_json())
            if observe is not None:
                observe(item.kind, dict(item.timings_ms))
            yield text
    except Exception as exc:  # the chat shows a French message, never a traceback
        if observe is not None:
            observe("error", {})
        yield f"Désolé, une erreur est survenue : {exc}"


def chat_turn(
    assistant: Assistant,
    message: str,
    history: list[Any] | None,
    commune: str | None,
    age: str | float | None,
    territory: str | None,
    remember: Callable[[str, dict[str, Any]], None] | None = None,
    observe: Callable[[str, dict[str, float]], None] | None = None,
) -> Iterator[str]:
    """A chat turn with the filters panel's values; a bad filter is answered in French, not searched."""
    try:
        filters = make_filters(commune, age, territory)
    except ValueError as exc:
        yield f"⚠️ {str(exc)[:1].upper()}{str(exc)[1:]}"
        return
    yield from respond(assistant, message, history, remember=remember, filters=filters, observe=observe)


# Offered beside 👍/👎: one click records a 👎 with the reason as its comment.
DISLIKE_REASONS = ("Information inexacte", "Réponse incomplète", "Source mal citée")


def rate(
    store: FeedbackStore,
    memory: AnswerMemory,
    history: list[Any],
    index: int,
    liked: bool | str,
    comment: str = "",
    version: str = "",
    settings: Settings | None = None,
) -> bool:
    """Store a rating of the answer at ``index`` of the chat ``history``: 👍 (True), 👎 (False) or a
    reason of ``DISLIKE_REASONS`` (a 👎 whose comment is the reason, then the typed comment).
    Returns False when there is nothing to rate (no question before it, an unknown value, or a question,
    answer or comment past the limits: the history comes back from the browser, which may send anything)."""
    if not 0 <= index < len(history) or not isinstance(history[index], dict):
        return False
    questions = earlier_questions(history[:index])
    if not questions or not (liked in (True, False) or liked in DISLIKE_REASONS):
        return False
    shown = _text(history[index].get("content"))
    settings = settings or Settings()
    limit = settings.max_question_chars
    if (
        question_problem(questions[-1], settings)
        or text_problem(comment or "", "le commentaire", limit, "REPERES_MAX_QUESTION_CHARS")
        or len(shown) > MAX_FEEDBACK_ANSWER_CHARS
        or bad_character(shown) is not None
    ):
        return False
    record = memory.get(shown) or {"question": questions[-1], "answer": shown, "citations": []}
    note = " — ".join(x for x in ((liked if isinstance(liked, str) else ""), (comment or "").strip()) if x)
    store.record(questions[-1], record, "up" if liked is True else "down", comment=note, settings_version=version)
    return True


def filter_note(commune: str | None, age: str | None, territory: str | None) -> str:
    """What is wrong with the filters as typed, in French ("" when they are usable): shown under them as the
    counsellor types, before any question."""
    try:
        make_filters(commune, age, territory)
    except ValueError as exc:
        return f"⚠️ {str(exc)[:1].upper()}{str(exc)[1:]}"
    return ""


def browse(
    actions: list[Action], age: str | None, commune: str | None, theme: str | None, porteur: str | None, words: str
) -> str:
    """The catalogue view for the filters of the "Toutes les actions" tab (a French note for a bad one)."""
    try:
        query = ActionFilter(
            age=parse_age(age),
            commune=(commune or "").strip() or None,
            theme=theme or None,
            porteur=porteur or None,
            search=(words or "").strip()[:200] or None,
        )
        listed = filter_actions(actions, query)
    except ValueError as exc:
        return f'<p class="rp-note" role="alert">⚠️ {escape(str(exc)[:1].upper() + str(exc)[1:])}</p>'
    return catalogue_html(listed)


def _themes(actions: list[Action]) -> list[tuple[str, str]]:
    """The themes and situations the catalogue's actions are read with, as (label, key), by label."""
    keys = dict.fromkeys(k for a in actions for k in (*a.themes, *a.situations))
    return sorted(((concept_label(k), k) for k in keys), key=lambda pair: pair[0].casefold())


def _porteurs(actions: list[Action]) -> list[str]:
    return sorted({a.porteur for a in actions if a.porteur}, key=str.casefold)


STATIC = Path(__file__).parent / "static"


# Gradio's French translation lacks these keys (its English would show).
FRENCH_KEYS = {
    "chatbot.copy_message": "Copier le message",
    "chatbot.copied_message": "Message copié",
    "chat_interface.new_chat": "Nouvelle conversation",
}


def quiet_gradio() -> None:
    """Switch Gradio's analytics off unless the environment says otherwise: call before ``import gradio``.

    Gradio reports page builds and launches to its analytics hosts by default (DNS look-ups at start);
    counsellors' usage stays on the machine.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def page_assets() -> dict[str, Any]:
    """The page's look and behaviour for ``gradio.mount_gradio_app``: its CSS and script (static/), one system
    font for every weight (the default web font fakes its bold), the French keys Gradio lacks."""
    quiet_gradio()
    import gradio as gr

    script = (STATIC / "chat.js").read_text(encoding="utf-8")
    system = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Liberation Sans", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
    return {
        "css": (STATIC / "chat.css").read_text(encoding="utf-8"),
        "head": f"<script>{script}</script>",
        "theme": gr.themes.Default(font=system, font_mono=mono),
        "i18n": gr.I18n(fr=FRENCH_KEYS),
    }


def build_app(
    assistant: Assistant,
    feedback: FeedbackStore | None = None,
    observe: Callable[[str, dict[str, float]], None] | None = None,
) -> Any:
    """The page: a tab to ask (streamed answers as action cards, examples, follow-ups, filters, 👍/👎
    stored in the feedback database, conversations kept in the browser) and a tab to browse the catalogue;
    ``observe`` is told each answer's kind and timings (the API's metrics)."""
    quiet_gradio()
    import gradio as gr

    memory = AnswerMemory()

    def chat(
        message: str, history: list[Any], commune: str | None, age: str | None, territory: str | None
    ) -> Iterator[str]:  # a generator function: Gradio streams it
        yield from chat_turn(assistant, message, history, commune, age, territory, remember=memory.put, observe=observe)

    communes = sorted((c.name for c in load_gazetteer().communes), key=str.casefold)
    title = "Repères — les actions pour les jeunes, avec leurs sources"
    with gr.Blocks(title=title, fill_height=False, analytics_enabled=False) as page:
        gr.HTML(
            '<h1 class="rp-page-title">Repères <span>— les actions pour les jeunes de la MEL et de Valenciennes '
            "Métropole, avec leurs sources</span></h1>"
        )
    with page, gr.Tabs(elem_id="rp-tabs"):
        with gr.Tab("Poser une question", id="chat", elem_id="rp-tab-chat"):
            filters: list[Any] = [
                gr.Dropdown(
                    choices=communes,
                    value=None,
                    label="Commune du jeune",
                    allow_custom_value=True,  # typed names go through the gazetteer (variants, one typo)
                    filterable=True,
                    render=False,
                    elem_id="filtre-commune",
                ),
                # A text field, not gr.Number: an empty number field reads as 0, and "Âge 0" then broke every
                # question once the panel had been opened. Empty means no filter; make_filters explains a bad one.
                gr.Textbox(
                    value="",
                    label="Âge du jeune",
                    placeholder="ex. 17",
                    max_length=3,
                    render=False,
                    elem_id="filtre-age",
                ),
                gr.Radio(choices=TERRITORIES, value="", label="Territoire", render=False, elem_id="filtre-territoire"),
            ]
            demo = gr.ChatInterface(
                fn=chat,
                # Half the window, not all of it (fill_height): the input, the filters and "Nouvelle conversation"
                # stay in view below the answers, in a full tab as in an iframe of 600 px. The page's script
                # (static/chat.js) shows the top of each new answer: Gradio's autoscroll would show its end.
                chatbot=gr.Chatbot(
                    label="Réponses",
                    buttons=[],  # its copy would copy the answer's HTML: each answer has "Copier la réponse"
                    height="55vh",
                    min_height=260,
                    autoscroll=False,
                    feedback_options=("Like", "Dislike", *DISLIKE_REASONS),  # reasons: a 👎 with its comment
                    elem_id="reponses",
                ),
                fill_height=False,
                textbox=gr.Textbox(
                    placeholder="Posez votre question : âge, commune, situation du jeune…",
                    label="Votre question",
                    show_label=False,
                    submit_btn="Envoyer",
                    elem_id="question",  # a stable handle for pages that embed or test the chat
                ),
                examples=[[question] for question in EXAMPLES],  # lists: with additional inputs, Gradio requires them
                examples_label="Exemples",
                cache_examples=False,
                autofocus=True,
                autoscroll=False,
                additional_inputs=filters,
                # render=False: built here it would also show, empty, where it is created.
                additional_inputs_accordion=gr.Accordion("Filtres", open=False, render=False),
                concurrency_limit=8,
                api_name="chat",
                flagging_mode="never",  # "manual" would write Gradio's own CSV; the 👍/👎 below go to FeedbackStore
                save_history=True,  # past conversations listed and deletable, in the browser only
                analytics_enabled=False,  # as the page's Blocks: no report to Gradio's analytics hosts
            )
            # The browser's list is encrypted with this secret, random per process by default: the list would be
            # lost at every restart. Stable per installation, it survives them.
            demo.saved_conversations.secret = hashlib.sha256(f"reperes:{assistant.settings.home}".encode()).hexdigest()
            note = gr.Markdown("", elem_id="filtres-note")
            for box in filters:
                box.change(filter_note, filters, note, queue=False, show_progress="hidden", api_visibility="private")
            # One "Nouvelle conversation", under the chat (the side list's own button is hidden: two buttons of one
            # name would differ, its own keeping the filters). It empties what is shown, the interface's copy of
            # the history and the filters, and starts a new conversation in the browser's list (the one shown
            # stays listed), so the next question starts afresh.
            demo.new_chat_button.visible = False
            new_chat = gr.Button("Nouvelle conversation", variant="secondary", size="sm", elem_id="nouvelle-conversation")
            new_chat.click(
                lambda: ([], [], [], None, None, "", "", ""),
                None,
                [demo.chatbot, demo.chatbot_state, demo.chatbot_value, demo.conversation_id, *filters, note],
                queue=False,
                api_visibility="private",
            )
            comment = gr.Textbox(
                label="Commentaire (facultatif) : il accompagne votre prochain avis (pouce levé ou baissé)",
                placeholder="Ce qui manque, ce qui est faux…",
                lines=1,
                max_length=assistant.settings.max_question_chars,  # the limit the feedback store is given
                elem_id="commentaire",
            )
        with gr.Tab("Toutes les actions", id="catalogue", elem_id="rp-tab-catalogue"):

            def catalogue() -> list[Action]:  # the index's, read once the page is asked for (built by then)
                return list(assistant.store.actions)

            theme = gr.Dropdown(
                choices=[("Tous", "")], value="", label="Thème", min_width=160, elem_id="catalogue-theme", render=False
            )
            porteur = gr.Dropdown(
                choices=[("Tous", "")], value="", label="Porteur", min_width=160, elem_id="catalogue-porteur", render=False
            )
            browse_inputs: list[Any] = [
                gr.Textbox(label="Âge", placeholder="ex. 17", max_length=3, min_width=90, elem_id="catalogue-age", render=False),
                gr.Dropdown(
                    choices=communes,
                    value=None,
                    label="Commune",
                    allow_custom_value=True,
                    filterable=True,
                    min_width=160,
                    elem_id="catalogue-commune",
                    render=False,
                ),
                theme,
                porteur,
                gr.Textbox(
                    label="Mots",
                    placeholder="titre, public, partenaire…",
                    max_length=200,
                    min_width=160,
                    elem_id="catalogue-mots",
                    render=False,
                ),
            ]
            with gr.Row(equal_height=True):
                for box in browse_inputs:
                    box.render()
            listing = gr.HTML("", elem_id="rp-catalogue")

            def fill() -> tuple[Any, Any, str]:
                actions = catalogue()
                return (
                    gr.Dropdown(choices=[("Tous", ""), *_themes(actions)]),
                    gr.Dropdown(choices=[("Tous", ""), *((p, p) for p in _porteurs(actions))]),
                    catalogue_html(filter_actions(actions, ActionFilter())),
                )

            page.load(fill, None, [theme, porteur, listing], queue=False, api_visibility="private")
            for box in browse_inputs:
                box.change(
                    lambda *values: browse(catalogue(), *values),
                    browse_inputs,
                    listing,
                    queue=False,
                    show_progress="hidden",
                    api_visibility="private",
                )
    demo.chatbot.elem_id = "reponses"
    page.chat_interface = demo  # handles for tests and embedding pages
    store = feedback or FeedbackStore(feedback_path(assistant.settings))  # same file as /api/feedback
    if store is not None:
        version = settings_version(assistant.settings)

        def on_like(history: list[dict[str, Any]], comment: str, data: gr.LikeData, request: gr.Request) -> str:
            index = data.index if isinstance(data.index, int) else data.index[0]
            if not memory.new_rating((str(getattr(request, "session_hash", "") or ""), index), data.liked):
                return comment  # the same click's second event, or a reason unselected: one row per click
            if rate(store, memory, history, index, data.liked, comment, version, settings=assistant.settings):
                gr.Info("Merci pour votre avis !")
                return ""  # the comment went with this rating
            return comment

        # This module postpones annotations and imports gradio lazily: give Gradio the real class, or it
        # cannot see that ``data`` is the event's LikeData (and calls on_like with one argument).
        on_like.__annotations__["data"] = gr.LikeData
        on_like.__annotations__["request"] = gr.Request
        with page:
            demo.chatbot.like(on_like, inputs=[demo.chatbot, comment], outputs=[comment], api_visibility="private")
    return page
