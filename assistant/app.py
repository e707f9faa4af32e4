"""The Gradio chat (`reperes serve`), mounted beside the HTTP API. Gradio is imported only when serving.

Answers stream section by section; earlier questions of the conversation make follow-ups work;
👍/👎 on an answer is stored with its citations in the feedback database (`reperes feedback export`).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from assistant.feedback import FeedbackStore, feedback_path, settings_version
from assistant.render import render
from assistant.service import Assistant

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


def respond(
    assistant: Assistant,
    message: str,
    history: list[Any] | None = None,
    remember: Callable[[str, dict[str, Any]], None] | None = None,
) -> Iterator[str]:
    """One chat turn, streamed section by section; ``remember`` keeps the JSON record a 👍/👎 will rate."""
    if not message or not message.strip():
        yield "Tapez une question, par exemple : « Quelle action pour un décrocheur de 17 ans à Loos ? »"
        return
    try:
        answer = assistant.ask(message, history=earlier_questions(history))
        text = render(answer)
        if remember is not None:
            remember(text, answer.to_json())
        shown = ""
        for i, section in enumerate(text.split("\n\n")):
            shown += section if i == 0 else "\n\n" + section
            yield shown
    except Exception as exc:  # the chat shows a French message, never a traceback
        yield f"Désolé, une erreur est survenue : {exc}"


def build_app(assistant: Assistant, feedback: FeedbackStore | None = None) -> Any:
    """The chat: streamed answers, examples, follow-ups, 👍/👎 stored in the feedback database."""
    import gradio as gr

    memory = AnswerMemory()

    def chat(message: str, history: list[Any]) -> Iterator[str]:  # a generator function: Gradio streams it
        yield from respond(assistant, message, history, remember=memory.put)

    demo = gr.ChatInterface(
        fn=chat,
        title="Repères",
        description="Les actions pour les jeunes de la MEL et de Valenciennes Métropole, avec leurs sources.",
        chatbot=gr.Chatbot(label="Repères", buttons=["copy"]),  # a copy button on each answer
        textbox=gr.Textbox(
            placeholder="Posez votre question : âge, commune, situation du jeune…", show_label=False, submit_btn=True
        ),
        examples=EXAMPLES,
        examples_label="Exemples",
        cache_examples=False,
        autofocus=True,
        concurrency_limit=8,
        api_name="chat",
        flagging_mode="never",  # "manual" would write Gradio's own CSV; the 👍/👎 below go to FeedbackStore
    )
    store = feedback or FeedbackStore(feedback_path(assistant.settings))  # same file as /api/feedback
    if store is not None:
        version = settings_version(assistant.settings)

        def on_like(history: list[dict[str, Any]], data: gr.LikeData) -> None:
            index = data.index if isinstance(data.index, int) else data.index[0]
            shown = _text(history[index]["content"])
            questions = earlier_questions(history[:index])
            if not questions or data.liked not in (True, False):
                return
            record = memory.get(shown) or {"question": questions[-1], "answer": shown, "citations": []}
            store.record(questions[-1], record, "up" if data.liked else "down", settings_version=version)
            gr.Info("Merci pour votre avis !")

        # This module postpones annotations and imports gradio lazily: give Gradio the real class, or it
        # cannot see that ``data`` is the event's LikeData (and calls on_like with one argument).
        on_like.__annotations__["data"] = gr.LikeData
        with demo:
            demo.chatbot.like(on_like, inputs=[demo.chatbot], outputs=None, api_visibility="private")
    return demo


def serve(assistant: Assistant, host: str, port: int) -> None:
    """Load the model and index, then serve the chat and the API (uvicorn) until interrupted."""
    import uvicorn

    from assistant.api import create_app

    s = assistant.settings
    assistant.warm_up()  # load before the first question, not during it
    origins = [o.strip() for o in s.cors_origins.split(",") if o.strip()]
    app = create_app(assistant, token=s.api_token or None, cors_origins=origins or None)
    if host not in {"127.0.0.1", "localhost", "::1"} and not s.api_token:
        print("Attention : serveur ouvert au réseau sans REPERES_API_TOKEN.", file=sys.stderr)
    print(f"Repères est prêt : http://{host}:{port} (API : /api, documentation : /docs)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
