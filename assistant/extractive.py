"""The default answerer: no LLM, it quotes the best passages with numbered citations.

Every fact in its answer is a verbatim quote of a cited passage, so it cannot invent anything.
"""

from __future__ import annotations

from langchain_core.documents import Document

from assistant.citations import make_citation
from assistant.records import Citation
from prompts import load


class ExtractiveAnswerer:
    """Answer = an introduction, then one quoted, cited item per passage (``cite_k`` passages)."""

    def __init__(self, cite_k: int = 3) -> None:
        if cite_k < 1:
            raise ValueError(f"cite_k ({cite_k}) must be >= 1")
        self.cite_k = cite_k

    def __call__(self, question: str, docs: list[Document], analysis: object = None) -> tuple[str, list[Citation], bool]:
        """Return (answer text, citations, refused)."""
        if not docs:
            return load("refusal"), [], True
        citations = [make_citation(n, question, doc) for n, doc in enumerate(docs[: self.cite_k], start=1)]
        item = load("extractive_item")
        parts = [load("extractive_intro")]
        parts += [
            item.format(n=c.n, title=c.title, source=c.source, line_start=c.line_start, line_end=c.line_end, quote=c.quote)
            for c in citations
        ]
        return "\n\n".join(parts), citations, False
