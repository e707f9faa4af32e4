"""Markdown of an answer for people (the chat, `reperes ask` without --json)."""

from __future__ import annotations

from assistant.records import Answer


def render(answer: Answer) -> str:
    """Markdown for the chat: the answer (its own "Sources :" line names the documents), then where each
    cited passage is in its file, so a counsellor can check it."""
    if not answer.citations:
        return answer.answer
    where = "\n".join(
        f"{c.n}. {c.title} — `{c.source}`, lignes {c.line_start}–{c.line_end}" + (f", page {c.page}" if c.page else "")
        for c in answer.citations
    )
    return f"{answer.answer}\n\n---\n**Passages cités**\n{where}"
