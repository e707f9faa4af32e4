"""Markdown of an answer for people (the chat, `reperes ask` without --json)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlencode

from assistant.records import Answer, Citation
from ingest.text import MARKER


def passage_link(citation: Citation, base: str = "passage/") -> str:
    """The address of the page showing a cited passage, its quote highlighted (served by `assistant.api`).

    Relative by default: the chat page is the server's root, in a tab or in an iframe, so the link
    reaches the same server, also behind a proxy that serves it under a prefix. Every character that
    could end a markdown link (spaces, parentheses) is percent-encoded.
    """
    query = urlencode({"lines": f"{citation.line_start}-{citation.line_end}", "hl": citation.quote}, quote_via=quote)
    return f"{base}{quote(citation.source, safe='')}?{query}#cite"


def render(answer: Answer, link: Callable[[Citation], str] | None = None, refusal_note: bool = False) -> str:
    """Markdown for the chat: the answer (its own "Sources :" line names the documents), then where each
    cited passage is in its file, so a counsellor can check it.

    With ``link`` (the chat), each `[n]` and each entry of "Passages cités" links to ``link(citation)``;
    with ``refusal_note``, a refusal's first paragraph is set apart as a note, the leads below it.
    The terminal (`reperes ask`) uses neither: plain markdown.
    """
    text = answer.answer
    if refusal_note and answer.refused:
        first, _, rest = text.partition("\n\n")
        text = f"> ℹ️ **{first.strip()}**" + (f"\n\n{rest}" if rest else "")
    if not answer.citations:
        return text
    if link is not None:
        by_n = {c.n: c for c in answer.citations}

        def linked(match: re.Match[str]) -> str:
            cited = by_n.get(int(match.group(1)))
            return match.group(0) if cited is None else f"[\\[{cited.n}\\]]({link(cited)})"

        text = MARKER.sub(linked, text)
    entries = []
    for c in answer.citations:
        where = f"{c.title} — `{c.source}`, lignes {c.line_start}–{c.line_end}" + (f", page {c.page}" if c.page else "")
        if link is None:
            entries.append(f"{c.n}. {where}")
        else:  # a bullet, not "3.": markdown renumbers an ordered list 1, 2, 3…, which would not match [3]
            label = where.replace("[", "\\[").replace("]", "\\]")
            entries.append(f"- [\\[{c.n}\\] {label}]({link(c)})")
    return f"{text}\n\n---\n**Passages cités**\n" + "\n".join(entries)
