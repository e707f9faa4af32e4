"""The Gradio chat (`reperes serve`). Gradio is imported here only, and only when serving."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assistant.service import Assistant

EXAMPLES = [
    "Quelle action pour un décrocheur de 17 ans à Loos ?",
    "Qui contacter pour l'action Connect'Emploi ?",
    "Quelles actions pour le permis de conduire des jeunes ?",
]


def earlier_questions(history: list[Any] | None) -> list[str]:
    """The counsellor's earlier questions from the chat history (Gradio messages or (user, bot) pairs)."""
    questions: list[str] = []
    for turn in history or []:
        if isinstance(turn, dict) and turn.get("role") == "user" and isinstance(turn.get("content"), str):
            questions.append(turn["content"])
        elif isinstance(turn, list | tuple) and turn and isinstance(turn[0], str):
            questions.append(turn[0])
    return questions


def respond(assistant: Assistant, message: str, history: list[Any] | None = None) -> Iterator[str]:
    """One chat turn, streamed section by section; earlier questions make follow-ups work."""
    if not message or not message.strip():
        yield "Tapez une question, par exemple : « Quelle action pour un décrocheur de 17 ans à Loos ? »"
        return
    try:
        shown = ""
        for section in assistant.stream(message, history=earlier_questions(history)):
            shown += section
            yield shown
    except Exception as exc:  # the chat shows a French message, never a traceback
        yield f"Désolé, une erreur est survenue : {exc}"


def build_app(assistant: Assistant) -> Any:
    import gradio as gr

    return gr.ChatInterface(
        fn=lambda message, history: respond(assistant, message, history),
        title="Repères",
        description="Les actions pour les jeunes de la MEL et de Valenciennes Métropole, avec leurs sources.",
        examples=EXAMPLES,
        examples_label="Exemples",
        cache_examples=False,
        autofocus=True,
        concurrency_limit=8,
        api_name="chat",
    )


def serve(assistant: Assistant, host: str, port: int) -> None:
    """Load the model and index, then serve the chat until interrupted."""
    assistant.warm_up()  # load before the first question, not during it
    app = build_app(assistant)
    app.launch(server_name=host, server_port=port, show_error=False, quiet=True, prevent_thread_lock=True)
    print(f"Repères est prêt : http://{host}:{port}", flush=True)
    app.block_thread()
