"""SourceDoc -> list[Chunk], along the document's structure.

A guide of action cards (see ``ingest.cards``) gives one chunk per card, reassembled in reading
order with its map labels removed, plus one chunk per section introduction. Other documents:
paragraphs (runs of non-blank lines) are packed into chunks of at most ``max_chars`` characters;
a paragraph longer than that is cut between lines. Every chunk keeps the 1-based line range of
the original file, so ``"\\n".join(lines[line_start-1:line_end])`` contains the chunk's text.
"""

from __future__ import annotations

from ingest.cards import Card, is_guide, parse_guide
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
    """Chunks of ``doc``: action cards when it is a guide of cards, else packed paragraphs."""
    if is_guide(doc.lines):
        return guide_chunks(doc, max_chars)
    return paragraph_chunks(doc, max_chars)


def guide_chunks(doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """One chunk per action card (reading order, no map labels), section introductions as paragraphs."""
    lines = doc.lines
    layout = parse_guide(lines)
    chunks = [_card_chunk(doc, card) for card in layout.cards]
    for start, end, theme in layout.sections:
        part = SourceDoc(doc.source, "\n".join([""] * start + lines[start:end]), doc.title, doc.pages)
        for chunk in paragraph_chunks(part, max_chars):
            chunks.append(
                Chunk(**{**chunk.__dict__, "id": "", "kind": "section", "metadata": {**chunk.metadata, "theme": theme}})
            )
    if layout.directory_start is not None:
        part = SourceDoc(
            doc.source, "\n".join([""] * layout.directory_start + lines[layout.directory_start :]), doc.title, doc.pages
        )
        for chunk in paragraph_chunks(part, max_chars):
            chunks.append(Chunk(**{**chunk.__dict__, "id": "", "kind": "directory"}))
    return sorted(chunks, key=lambda c: c.line_start)


def _card_chunk(doc: SourceDoc, card: Card) -> Chunk:
    lines = doc.lines

    def text(numbers: tuple[int, ...]) -> str:
        return "\n".join(lines[i].strip() for i in numbers)

    title = " ".join(lines[i].strip() for i in card.title)
    # Reading order a counsellor expects: what, who runs it, what it does, for whom, where, how, whom to call.
    parts = [title, text(card.porteur), text(card.description), text(card.timeline), text(card.public), text(card.territory)]
    parts += [text(card.resources), ("Contacts :\n" + text(card.contacts)) if card.contacts else ""]
    return Chunk(
        source=doc.source,
        line_start=card.start + 1,
        line_end=card.end,
        text="\n\n".join(p for p in parts if p),
        title=title,
        kind="action_card",
        page=doc.pages[card.start] if doc.pages else None,
        metadata={
            "document_title": doc.title,
            "theme": card.theme,
            "porteur": text(card.porteur),
            "public": " ".join(lines[i].strip() for i in card.public) or None,
            "territory_lines": [lines[i].strip() for i in card.territory],
            "map_highlights": list(card.highlights),
            "contacts_text": text(card.contacts),
        },
    )


def paragraph_chunks(doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
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
