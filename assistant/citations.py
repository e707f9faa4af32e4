"""Citations: choose the sentences to quote from a passage, and map `[n]` markers to sources."""

from __future__ import annotations

import itertools
import re

from langchain_core.documents import Document

from assistant.records import Citation
from ingest.text import MARKER, QUOTE_SPLIT, STOP_WORDS, fold  # assistant/compose.py imports fold from here

_WORD = re.compile(r"\w+")


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(fold(text)) if w not in STOP_WORDS and len(w) > 1}


def best_quote(question: str, passage: str, max_chars: int = 400) -> str:
    """The passage's sentences that share most words with the question, verbatim, in passage order.

    Always returns text found in ``passage`` (whitespace collapsed), never a paraphrase; skipped
    sentences between two quoted ones are marked " … ".
    """
    # (paragraph number, sentence): sentences of different paragraphs are never shown as contiguous.
    pieces = [
        (p, " ".join(s.split()))
        for p, para in enumerate(re.split(r"\n{2,}", passage))
        for s in QUOTE_SPLIT.split(para)
        if s.strip()
    ]
    sentences = [s for _, s in pieces]
    if not sentences:
        return ""
    wanted = content_words(question)
    scored = sorted(range(len(sentences)), key=lambda i: (-len(wanted & content_words(sentences[i])), i))
    chosen: list[int] = []
    size = 0
    for i in scored:
        if chosen and size + len(sentences[i]) > max_chars:
            continue
        chosen.append(i)
        size += len(sentences[i]) + 1
        if size >= max_chars // 2:
            break
    # Adjacent sentences join with a space; a gap between them is shown as " … ".
    ordered = sorted(chosen)
    quote = sentences[ordered[0]]
    for previous, i in itertools.pairwise(ordered):
        contiguous = i == previous + 1 and pieces[i][0] == pieces[previous][0]
        quote += (" " if contiguous else " … ") + sentences[i]
    if len(quote) > max_chars:
        quote = quote[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return quote


def make_citation(n: int, question: str, doc: Document) -> Citation:
    """Citation number ``n`` for a retrieved document (provenance from its metadata)."""
    meta = doc.metadata
    return Citation(
        n=n,
        source=str(meta["source"]),
        title=str(meta.get("title") or meta["source"]),
        line_start=int(meta["line_start"]),
        line_end=int(meta["line_end"]),
        page=meta.get("page"),
        quote=best_quote(question, doc.page_content),
        chunk_id=str(meta.get("chunk_id") or ""),
    )


def referenced(answer_text: str, citations: list[Citation]) -> tuple[list[Citation], list[int]]:
    """The citations whose `[n]` appears in ``answer_text`` (in number order), and unknown numbers."""
    numbers = {int(m) for m in MARKER.findall(answer_text)}
    known = {c.n: c for c in citations}
    return [known[n] for n in sorted(numbers) if n in known], sorted(n for n in numbers if n not in known)
