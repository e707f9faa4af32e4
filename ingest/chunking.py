"""SourceDoc -> list[Chunk], along the document's structure, with metadata on every chunk.

Which rule applies is read from layout signals, never from file names or line offsets:

- a guide of action cards ("POUR EN SAVOIR PLUS" blocks, ``ingest.cards``): one chunk per card in
  reading order, map labels removed; section introductions and the contact directory as paragraphs;
- a deck whose pages repeat a banner (``ingest.actions``): one chunk per presented action, or its
  sub-parts as children chunks that repeat the action's title when the action is long;
- anything else: sections by heading; tab-separated tables row by row (header kept with each row,
  first column carried down to continuation rows, long cells split between the items they hold);
  paragraphs packed up to a size bound, long ones cut at sentence ends with one line of overlap.

Every chunk keeps the 1-based line range of the original file it comes from (citations point
there) and gets the metadata of ``ingest.enrich``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import replace
from typing import Any

from ingest.actions import parse_actions
from ingest.cards import Card, guide_page, is_guide, parse_directory, parse_guide
from ingest.catalogue import document_actions
from ingest.enrich import CONTACTS_HEADING, chunk_metadata, document_epci
from ingest.metadata import public_gender
from ingest.records import Action, Chunk, SourceDoc
from ingest.text import EMAIL, ITEM_SPLIT, fold, is_caps, is_section_heading

DEFAULT_MAX_CHARS = 1200
SENTENCE_END = re.compile(r"[.!?:;»)]\s*$")


def chunk_document(doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS, actions: list[Action] | None = None) -> list[Chunk]:
    """Chunks of ``doc`` with their metadata (see the module docstring for the rules).

    ``actions`` are the document's catalogue records (``ingest.catalogue.document_actions``, computed
    when not given): a chunk of an action carries its ``action_id`` and reads its eligibility from it.
    """
    if max_chars < 100:
        raise ValueError(f"max_chars ({max_chars}) is too small: use at least 100 characters")
    if actions is None:
        actions = document_actions(doc)
    if is_guide(doc.lines):
        chunks = guide_chunks(doc, max_chars)
    elif doc.banners:
        chunks = action_chunks(doc, max_chars)
    else:
        # A paragraph that presents an action for other people than an action already in the chunk starts
        # a new one: "Accroche active!" (Valenciennes Métropole) packed with the MEL's project would leave
        # the chunk with no territory at all. Actions for the same people stay together.
        starts = {a.line_start - 1: _whom(a) for a in actions if a.source == doc.source}
        chunks = structured_chunks(doc, max_chars, starts)
    epci = document_epci(doc.text)
    ordered = sorted(chunks, key=lambda c: (c.line_start, c.line_end))
    return with_actions([_with_metadata(c, doc, epci) for c in ordered], actions)


# The eligibility an action's chunks read from its record: ages, territory, QPV condition. A part
# that states nothing on it (its "Les réussites ?" half) gets the action's, and a statistic inside a
# part ("15-18 ans") never becomes whom the action is for. Only verdict inputs come from the record,
# never text shown as the chunk's own (public line, porteur, contacts): an answer shows only what the
# cited lines say.


def _overlaps(chunk: Chunk, action: Action) -> bool:
    return action.line_start <= chunk.line_end and chunk.line_start <= action.line_end


def with_actions(chunks: list[Chunk], actions: list[Action]) -> list[Chunk]:
    """``chunks`` with ``action_id`` (the one action a chunk is part of, else None) and ``action_ids``
    (every action whose lines it overlaps); a chunk of one action takes its eligibility keys."""
    tagged = []
    for chunk in chunks:
        if chunk.kind in ("section", "directory"):
            mine: list[Action] = []
        else:
            mine = [a for a in actions if a.source == chunk.source and _overlaps(chunk, a)]
        every = mine
        if len(mine) > 1:
            # A table row or paragraph holding several: the ones whose title the chunk's text names.
            text = fold(" ".join(chunk.text.split()))
            named = [a for a in mine if fold(a.title) in text]
            mine = named or mine
        # A part of a table row holds the row's other columns for all its actions (the "AUTORITES
        # RESPONSABLES" cells of every objective): it is a part of each of them, named or not.
        ids = every if chunk.kind == "table_row" else mine
        metadata = {**chunk.metadata, "action_id": mine[0].id if len(mine) == 1 else None, "action_ids": [a.id for a in ids]}
        if len(mine) == 1:
            metadata.update(eligibility_of(mine[0]))
        tagged.append(replace(chunk, metadata=metadata))
    return tagged


def _whom(action: Action) -> Hashable:
    """Whom an action is for, as eligibility reads it (ages, territory, conditions): comparable."""
    return tuple(
        (k, tuple(v) if isinstance(v, list) else v) for k, v in eligibility_of(action).items() if k != "territory_evidence"
    )


def eligibility_of(action: Action) -> dict[str, Any]:
    """The chunk metadata keys eligibility reads (``ELIGIBILITY_KEYS``), from an action's record."""
    values: dict[str, Any] = {
        "age_min": action.age_min,
        "age_max": action.age_max,
        "age_max_extended": action.age_max_extended,
        "age_condition": action.age_condition,
        "communes": list(action.communes),
        "territory_scope": action.territory_scope,
        "territory_evidence": action.territory_evidence,
        "qpv_excluded": action.qpv == "excluded",
        "gender": public_gender(action.public),
    }
    return values


def chunk_documents(docs: list[SourceDoc], max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Chunk every document, in corpus order."""
    return [chunk for doc in docs for chunk in chunk_document(doc, max_chars)]


def _with_metadata(chunk: Chunk, doc: SourceDoc, epci: str | None) -> Chunk:
    hints = chunk.metadata
    extracted = chunk_metadata(
        chunk.text,
        document=doc.title,
        epci=epci,
        theme=hints.get("theme"),
        public=hints.get("public"),
        porteur_line=hints.get("porteur_line"),
        territory_text=hints.get("territory_text"),
        highlights=tuple(hints.get("map_highlights", ())),
    )
    kept = {k: v for k, v in hints.items() if k not in {"porteur_line", "territory_text", "public", "theme"}}
    return replace(chunk, metadata={**extracted, **kept})


# ------------------------------------------------------------------------------------------------
# Paragraphs (the generic rule)
# ------------------------------------------------------------------------------------------------


def paragraphs(lines: list[str], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """0-based, end-exclusive spans of the non-blank runs of ``lines[start:end]``."""
    end = len(lines) if end is None else end
    spans: list[tuple[int, int]] = []
    first = None
    for i in range(start, end):
        if lines[i].strip():
            if first is None:
                first = i
        elif first is not None:
            spans.append((first, i))
            first = None
    if first is not None:
        spans.append((first, end))
    return spans


def _split_long(lines: list[str], span: tuple[int, int], max_chars: int) -> list[tuple[int, int]]:
    """Cut a paragraph longer than ``max_chars`` after lines that end a sentence (one line of overlap).

    Falls back to any line end when a single sentence is longer than the bound.
    """
    start, end = span
    pieces: list[tuple[int, int]] = []
    piece_start, size, last_sentence_end = start, 0, None
    for i in range(start, end):
        size += len(lines[i]) + 1
        if SENTENCE_END.search(lines[i]):
            last_sentence_end = i
        if size > max_chars and i > piece_start:
            cut = last_sentence_end if last_sentence_end is not None and last_sentence_end > piece_start else i - 1
            pieces.append((piece_start, cut + 1))
            # Overlap: the next piece repeats the last line of this one unless it ended a sentence.
            piece_start = cut + 1 if cut == last_sentence_end else cut
            size = sum(len(lines[j]) + 1 for j in range(piece_start, i + 1))
            last_sentence_end = None
    pieces.append((piece_start, end))
    return [p for p in pieces if p[0] < p[1]]


def _pack(
    lines: list[str], spans: list[tuple[int, int]], max_chars: int, starts: Mapping[int, Hashable] | None = None
) -> list[list[tuple[int, int]]]:
    """Group consecutive spans into chunks of at most ``max_chars`` characters. ``starts``: the 0-based
    lines where an action begins, with whom it is for; a span beginning one for other people than an
    action already in the chunk begins a new chunk."""
    starts = starts or {}
    groups: list[list[tuple[int, int]]] = []
    size = 0
    publics: set[Hashable] = set()  # whom the actions begun in the current chunk are for
    pieces = [piece for s in spans for piece in _split_long(lines, s, max_chars)]
    for k, span in enumerate(pieces):
        length = sum(len(lines[i]) + 1 for i in range(*span))
        public = starts.get(span[0])
        if groups and size + length <= max_chars and not (public is not None and publics - {public}):
            groups[-1].append(span)
            size += length
        elif groups and public is None and _continues(lines, pieces[k - 1], span) and size + length <= max_chars * 3 // 2:
            # A sentence the extraction broke over a blank line ("… rapide et sans pré" / "requis de diplôme, …")
            # stays in one chunk: a chunk that begins mid-sentence has lost its subject, the one before its end.
            groups[-1].append(span)
            size += length
        else:
            groups.append([span])
            size, publics = length, set()
        if public is not None:
            publics.add(public)
    return groups


def _continues(lines: list[str], before: tuple[int, int], span: tuple[int, int]) -> bool:
    """``span`` goes on with the sentence ``before`` leaves open: no sentence end, then a lower-case start."""
    first = lines[span[0]].lstrip()
    return before[1] == span[0] - 1 and not SENTENCE_END.search(lines[before[1] - 1]) and first[:1].islower()


def _chunk(doc: SourceDoc, spans: list[tuple[int, int]], kind: str, title: str = "", prefix: str = "", **metadata: Any) -> Chunk:
    lines = doc.lines
    blocks = ["\n".join(lines[i].strip() for i in range(a, b) if lines[i].strip()) for a, b in spans]
    text = "\n\n".join(b for b in blocks if b)
    first = next((" ".join(line.split()) for line in text.split("\n") if line.strip()), "")
    return Chunk(
        source=doc.source,
        line_start=spans[0][0] + 1,
        line_end=spans[-1][1],
        text=f"{prefix}\n\n{text}" if prefix else text,
        title=title or first[:100],
        kind=kind,
        page=doc.pages[spans[0][0]] if doc.pages else None,
        metadata=metadata,
    )


def paragraph_chunks(
    doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS, start: int = 0, end: int | None = None, **meta: Any
) -> list[Chunk]:
    """Paragraphs of ``doc.lines[start:end]`` packed into chunks of about ``max_chars``."""
    groups = _pack(doc.lines, paragraphs(doc.lines, start, end), max_chars)
    return [_chunk(doc, g, "paragraph", **meta) for g in groups]


# ------------------------------------------------------------------------------------------------
# Sections and tables (contrats de ville and any other document)
# ------------------------------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [" ".join(cell.split()) for cell in line.split("\t")]


def _is_table_header(line: str) -> bool:
    cells = [c for c in _cells(line) if c]
    return len(cells) >= 3 and sum(is_caps(c) or len(c) <= 40 for c in cells) == len(cells)


def structured_chunks(
    doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS, starts: Mapping[int, Hashable] | None = None
) -> list[Chunk]:
    """Sections by heading, tables row by row, paragraphs packed (the rule for any document); ``starts``
    as for ``_pack``: an action for other people than one already in the chunk begins a new chunk."""
    lines = doc.lines
    chunks: list[Chunk] = []
    heading = ""
    heading_lines: list[str] = []
    prose: list[tuple[int, int]] = []
    header: list[str] | None = None
    carried = ""
    previous_heading_line = -2

    def flush_prose() -> None:
        if prose:
            for group in _pack(lines, prose, max_chars, starts):
                chunks.append(_chunk(doc, group, "paragraph", title=heading or "", section=heading or None))
            prose.clear()

    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if "\t" in line and _is_table_header(line):
            flush_prose()
            header, carried = _cells(line), ""
            continue
        if header is not None and "\t" in line:
            cells = _cells(line)
            if cells[0]:
                carried = cells[0]
            chunks += _row_chunks(doc, i, header, cells, carried, heading, max_chars)
            continue
        header = None
        if is_section_heading(line):
            if i > previous_heading_line + 2:
                flush_prose()
            # Consecutive heading lines ("CHANTIER 1 : …" then "THEMATIQUES : …") read as one heading;
            # the heading lines stay in the text of the section's first chunk.
            head = line.strip() + _continuation(lines, i)
            heading_lines = [*heading_lines, head] if i <= previous_heading_line + 2 else [head]
            heading, previous_heading_line = " — ".join(heading_lines[-3:]), i
        if prose and prose[-1][1] == i:
            prose[-1] = (prose[-1][0], i + 1)
        else:
            prose.append((i, i + 1))
    flush_prose()
    return chunks


def _continuation(lines: list[str], i: int) -> str:
    """The end of a heading the PDF broke onto the next line ("A) Accompagner les entreprises … afin" then
    "d'ouvrir les possibilités aux talents des quartiers"): a short line in lower case right after it (one
    blank line between at most), with " " before it; "" when the heading is whole."""
    if SENTENCE_END.search(lines[i]):
        return ""
    for k in (i + 1, i + 2):
        if k >= len(lines):
            return ""
        text = lines[k].strip()
        if not text:
            continue
        if text[:1].islower() and len(text) <= 80 and "\t" not in lines[k]:
            return " " + text
        return ""
    return ""


def _row_chunks(
    doc: SourceDoc, i: int, header: list[str], cells: list[str], carried: str, heading: str, max_chars: int
) -> list[Chunk]:
    """One table row as "COLUMN : value" lines; a row too long is split between the items of its cells."""
    named = list(zip(header, cells, strict=False))
    first_name = header[0] if header else ""
    label = f"{first_name} : {carried}" if carried else ""
    fields = [f"{name} : {value}" for name, value in named if value and name != first_name]
    title = " — ".join(p for p in (heading, carried) if p)[:160]
    context = "\n".join(p for p in (heading, label) if p)
    body = "\n".join(fields)
    if len(context) + len(body) <= max_chars:
        return [_table_chunk(doc, i, title, f"{context}\n{body}".strip())]
    # Several dispositifs in one cell (former <p> items): one chunk per run of items, context repeated.
    items = [f"{name} : {item}" for name, value in named if value and name != first_name for item in ITEM_SPLIT.split(value)]
    pieces: list[str] = []
    for item in items:
        if pieces and len(pieces[-1]) + len(item) + len(context) < max_chars:
            pieces[-1] += "\n" + item
        else:
            pieces.append(item)
    return [_table_chunk(doc, i, title, f"{context}\n{piece}".strip()) for piece in pieces]


def _table_chunk(doc: SourceDoc, i: int, title: str, text: str) -> Chunk:
    return Chunk(
        source=doc.source,
        line_start=i + 1,
        line_end=i + 1,
        text=text,
        title=title,
        kind="table_row",
        page=doc.pages[i] if doc.pages else None,
        metadata={"section": title or None},
    )


# ------------------------------------------------------------------------------------------------
# Guide of action cards (001)
# ------------------------------------------------------------------------------------------------


def guide_chunks(doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """One chunk per action card (reading order, no map labels), section introductions as paragraphs."""
    layout = parse_guide(doc.lines)
    directory = parse_directory(doc.lines, layout.directory_start) if layout.directory_start is not None else []
    chunks = []
    for card in layout.cards:
        chunk = _card_chunk(doc, card)
        emails = {e.lower() for i in card.contacts for e in EMAIL.findall(doc.lines[i])}
        page = guide_page(chunk.title, emails, directory)
        # The guide's own page numbers exist only in its directory ("Action concernée … p.13").
        chunks.append(
            replace(chunk, page=page, metadata={**chunk.metadata, "guide_page": f"p.{page}" if page else None}) if page else chunk
        )
    for start, end, theme in layout.sections:
        chunks += [replace(c, kind="section") for c in paragraph_chunks(doc, max_chars, start, end, theme=theme)]
    if layout.directory_start is not None:
        chunks += [replace(c, kind="directory") for c in paragraph_chunks(doc, max_chars, layout.directory_start)]
    return chunks


def _card_chunk(doc: SourceDoc, card: Card) -> Chunk:
    lines = doc.lines

    def text(numbers: tuple[int, ...]) -> str:
        return "\n".join(lines[i].strip() for i in numbers)

    title = " ".join(lines[i].strip() for i in card.title)
    # Reading order a counsellor expects: what, who runs it, what it does, for whom, where, how, whom to call.
    parts = [title, text(card.porteur), text(card.description), text(card.timeline), text(card.public), text(card.territory)]
    parts += [text(card.resources), (f"{CONTACTS_HEADING}\n" + text(card.contacts)) if card.contacts else "", text(card.figures)]
    return Chunk(
        source=doc.source,
        line_start=card.start + 1,
        line_end=card.end,
        text="\n\n".join(p for p in parts if p),
        title=title,
        kind="action_card",
        page=doc.pages[card.start] if doc.pages else None,
        metadata={
            "theme": card.theme,
            "porteur_line": text(card.porteur),
            "public": " ".join(lines[i].strip() for i in card.public) or None,
            "territory_text": "\n".join([text(card.territory), text(card.porteur)]),
            "map_highlights": list(card.highlights),
        },
    )


# ------------------------------------------------------------------------------------------------
# Deck of presented actions (004)
# ------------------------------------------------------------------------------------------------


def action_chunks(doc: SourceDoc, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """One chunk per presented action; long actions as sub-part chunks repeating the action's title."""
    lines = doc.lines
    budget = max_chars * 3 // 2  # an action is read whole when it fits the model window (~512 tokens)
    chunks: list[Chunk] = []
    first_banner = doc.banners[0] - 1 if doc.banners else len(lines)
    chunks += paragraph_chunks(doc, max_chars, 0, first_banner)
    for action in parse_actions(lines, doc.banners):
        spans = paragraphs(lines, action.start, action.end)
        if sum(len(lines[i]) + 1 for a, b in spans for i in range(a, b)) <= budget:
            chunks.append(_chunk(doc, spans, "action", title=action.title, action=action.title))
            continue
        for group in _pack(lines, [s for a, b in action.parts for s in paragraphs(lines, a, b)], budget):
            has_title = any(a <= i < b for a, b in group for i in action.title_lines)
            prefix = "" if has_title else action.title
            chunks.append(_chunk(doc, group, "action_part", title=action.title, prefix=prefix, action=action.title))
    return chunks
