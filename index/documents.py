"""A store hit as a LangChain ``Document`` with the chunk's fixed provenance keys (every retriever's output)."""

from __future__ import annotations

from langchain_core.documents import Document

from index.store import Hit


def hit_to_document(hit: Hit) -> Document:
    """A LangChain Document with the fixed provenance keys of the chunk."""
    c = hit.chunk
    return Document(
        id=c.id,
        page_content=c.text,
        metadata={
            "chunk_id": c.id,
            "source": c.source,
            "line_start": c.line_start,
            "line_end": c.line_end,
            "page": c.page,
            "title": c.title,
            "kind": c.kind,
            "score": hit.score,
            "dense_rank": hit.rank,
            **{f"meta_{k}": v for k, v in c.metadata.items()},
        },
    )
