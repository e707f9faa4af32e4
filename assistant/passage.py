"""The page a citation link opens (`/passage/{source}`): the cited lines, the quoted sentences highlighted.

Pure functions from text to HTML, so the page is testable without a server. Everything shown comes
from the corpus or the request and is HTML-escaped; the page has no script and loads nothing.
"""

from __future__ import annotations

import html

from ingest.text import QUOTE_SPLIT  # the quote was cut with it (assistant/citations.py)

# A quote is whole sentences of its passage (see assistant/citations.py): " … " marks a gap, a final
# "…" a cut. Sentences are looked up one by one: a card's passage text can follow a reading order
# that differs from the file's lines, and whitespace differs (the quote collapses it).
_MIN_SENTENCE = 3  # shorter pieces ("-", "p.") would highlight noise

PAGE_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2430; }
main { max-width: 900px; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; }
.doc { color: #4a5568; margin: 0; }
h1 { font-size: 1.4rem; margin: .3rem 0; }
.where { color: #4a5568; }
blockquote { border-left: 4px solid #f0b400; background: #fff8e1; margin: 1rem 0; padding: .5rem 1rem; }
.note { color: #8a4b00; }
ol.lines { font-family: ui-monospace, monospace; font-size: .9rem; line-height: 1.45; padding-left: 4.5em; }
ol.lines li { white-space: pre-wrap; overflow-wrap: anywhere; }
ol.lines li::marker { color: #8a94a6; }
mark { background: #ffe066; padding: 0 .1em; }
"""


def highlight_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Character ranges of ``text`` holding the sentences of ``quote`` (whitespace-insensitive), merged."""
    folded: list[str] = []  # text with each whitespace run as one space…
    origin: list[int] = []  # …and where each of its characters is in ``text``
    for i, ch in enumerate(text):
        if ch.isspace():
            if folded and folded[-1] != " ":
                folded.append(" ")
                origin.append(i)
        else:
            folded.append(ch)
            origin.append(i)
    haystack = "".join(folded)
    spans: list[tuple[int, int]] = []
    position = 0
    for fragment in quote.strip().removesuffix("…").split(" … "):
        for sentence in QUOTE_SPLIT.split(fragment):
            needle = " ".join(sentence.split())
            if len(needle) < _MIN_SENTENCE:
                continue
            # In quote order first (a short sentence may occur twice), anywhere otherwise.
            at = haystack.find(needle, position)
            if at < 0:
                at = haystack.find(needle)
            if at < 0:
                continue
            spans.append((origin[at], origin[at + len(needle) - 1] + 1))
            position = at + len(needle)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _marked_lines(lines: list[str], spans: list[tuple[int, int]]) -> list[str]:
    """Each line as escaped HTML, the parts inside ``spans`` (offsets in the lines joined by newlines) in <mark>."""
    out: list[str] = []
    offset = 0
    first = True
    for line in lines:
        end_of_line = offset + len(line)
        pieces: list[str] = []
        cursor = offset
        for span_start, span_end in spans:
            start, end = max(span_start, offset), min(span_end, end_of_line)
            piece = line[start - offset : end - offset] if start < end else ""
            if not piece.strip():  # a blank line inside a span: nothing to mark
                continue
            # Spaces at the ends of a line's piece (where a span crosses lines) stay unmarked.
            start, end = start + len(piece) - len(piece.lstrip()), end - (len(piece) - len(piece.rstrip()))
            pieces.append(html.escape(line[cursor - offset : start - offset]))
            anchor = ' id="cite"' if first else ""  # the link's #cite scrolls to the first highlight
            first = False
            pieces.append(f"<mark{anchor}>{html.escape(line[start - offset : end - offset])}</mark>")
            cursor = end
        pieces.append(html.escape(line[cursor - offset :]))
        out.append("".join(pieces))
        offset = end_of_line + 1  # the newline joining it to the next line
    return out


def passage_page(
    *, document: str, title: str, source: str, line_start: int, lines: list[str], page: int | None, quote: str = ""
) -> str:
    """The French HTML page of lines ``line_start``… of ``source``, ``quote``'s sentences highlighted."""
    spans = highlight_spans("\n".join(lines), quote) if quote.strip() else []
    line_end = line_start + len(lines) - 1
    where = f"lignes {line_start}–{line_end}" + (f", page {page}" if page else "")
    cited = ""
    if quote.strip():
        cited = f"<blockquote><strong>Extrait cité :</strong> {html.escape(quote)}</blockquote>"
        if not spans:
            cited += '<p class="note">Cet extrait n\'a pas été retrouvé mot pour mot dans ces lignes : lisez le passage ci-dessous.</p>'
    items = "\n".join(f"<li>{line}</li>" for line in _marked_lines(lines, spans))
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} — Repères</title>
<style>{PAGE_CSS}</style>
</head>
<body>
<main>
<p class="doc">{html.escape(document)}</p>
<h1>{html.escape(title)}</h1>
<p class="where">{where} — fichier <code>{html.escape(source)}</code></p>
{cited}
<ol class="lines" start="{line_start}">
{items}
</ol>
</main>
</body>
</html>
"""


def error_page(message: str) -> str:
    """A short French page for a link that cannot be shown (unknown document, bad lines)."""
    return (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8"><title>Passage introuvable — Repères</title>'
        f"<style>{PAGE_CSS}</style></head>\n<body><main><h1>Passage introuvable</h1><p>{html.escape(message)}</p></main></body></html>\n"
    )
