"""The Gradio chat (`reperes serve`). Gradio is imported here only, and only when serving."""

from __future__ import annotations

from typing import Any

from assistant.records import Answer
from assistant.service import Assistant

EXAMPLES = [
    "Quelle action pour un décrocheur de 17 ans à Loos ?",
    "Qui contacter pour l'action Connect'Emploi ?",
    "Quelles actions pour le permis de conduire des jeunes ?",
]


def render(answer: Answer) -> str:
    """Markdown for the chat: the answer, then its sources with their line ranges."""
    if answer.refused or not answer.citations:
        return answer.answer
    sources = "\n".join(
        f"{c.n}. {c.title} — `{c.source}`, lignes {c.line_start}–{c.line_end}" + (f", page {c.page}" if c.page else "")
        for c in answer.citations
    )
    return f"{answer.answer}\n\n---\n**Sources**\n{sources}"


def respond(assistant: Assistant, message: str, history: list[Any] | None = None) -> str:
    """One chat turn (history is not used yet: each question stands alone)."""
    if not message or not message.strip():
        return "Tapez une question, par exemple : « Quelle action pour un décrocheur de 17 ans à Loos ? »"
    try:
        return render(assistant.ask(message))
    except Exception as exc:  # the chat shows a French message, never a traceback
        return f"Désolé, une erreur est survenue : {exc}"


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
