"""SourceDoc -> list[Chunk]: a first, structure-agnostic chunking.

Paragraphs (runs of non-blank lines) are packed into chunks of at most ``max_chars`` characters;
a paragraph longer than that is cut between lines. Every chunk keeps the 1-based line range of
the original file, so ``"\\n".join(lines[line_start-1:line_end])`` contains the chunk's text.
"""

from __future__ import annotations

from ingest.records import Chunk, SourceDoc

DEFAULT_MAX_CHARS = 1200


def paragraphs(doc: SourceDoc) -> list[tuple[int, int]]:
    """1-based inclusive line ranges of the non-blank runs of ``doc``."""
    spans: list[tuple[int, int]] = []
    start = None
    for number, line in enumerate(doc.lines, start=1):
        if line.strip():
            if start is None:
                start = number
        elif start is not None:
            spans.append((start, number - 1))
            start = None
    if start is not None:
        spans.append((start, len(doc.lines)))
    return spans


def chunk_document(doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Pack paragraphs of ``doc`` into chunks of at most ``max_chars`` (a single long line may exceed it)."""
    if max_chars < 100:
        raise ValueError(f"max_chars ({max_chars}) is too small: use at least 100 characters")
    lines = doc.lines
    # Cut over-long paragraphs between lines first, so packing only ever joins whole pieces.
    pieces: list[tuple[int, int]] = []
    for start, end in paragraphs(doc):
        piece_start, size = start, 0
        for number in range(start, end + 1):
            length = len(lines[number - 1]) + 1
            if size and size + length > max_chars:
                pieces.append((piece_start, number - 1))
                piece_start, size = number, 0
            size += length
        pieces.append((piece_start, end))

    chunks: list[Chunk] = []
    group: list[tuple[int, int]] = []
    size = 0
    for start, end in pieces:
        length = sum(len(lines[n - 1]) + 1 for n in range(start, end + 1))
        if group and size + length > max_chars:
            chunks.append(_make_chunk(doc, group))
            group, size = [], 0
        group.append((start, end))
        size += length
    if group:
        chunks.append(_make_chunk(doc, group))
    return chunks


def _make_chunk(doc: SourceDoc, group: list[tuple[int, int]]) -> Chunk:
    lines = doc.lines
    blocks = ["\n".join(line.rstrip() for line in lines[s - 1 : e]) for s, e in group]
    text = "\n\n".join(blocks).strip()
    first = next((" ".join(line.split()) for line in text.split("\n") if line.strip()), "")
    page = doc.pages[group[0][0] - 1] if doc.pages else None
    return Chunk(
        source=doc.source,
        line_start=group[0][0],
        line_end=group[-1][1],
        text=text,
        title=first[:100],
        kind="paragraph",
        page=page,
        metadata={"document_title": doc.title},
    )


def chunk_documents(docs: list[SourceDoc], max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Chunk every document, in corpus order."""
    return [chunk for doc in docs for chunk in chunk_document(doc, max_chars)]
