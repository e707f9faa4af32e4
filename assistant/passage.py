"""The page a citation link opens (`/passage/{source}`): the cited lines, the quoted sentences highlighted.

Two shapes: the full page (to share, `/passage/{source}?lines=a-b&hl=…`) and, with ``embed=True``
(`…&embed=1`), a compact one for the chat's source panel, an iframe maybe 360 px wide. Both hide the
commune labels that the maps of the guide (001) dump into the text, with the lines ingest already finds
(``ingest.cards``), and keep every line number shown equal to the line of the file.

Pure functions from text to HTML, so the page is testable without a server. Everything shown comes
from the corpus or the request and is HTML-escaped; the page has no script and loads nothing.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Collection, Sequence
from functools import lru_cache

from ingest.cards import is_guide, parse_guide
from ingest.records import SourceDoc
from ingest.text import QUOTE_SPLIT  # the quote was cut with it (assistant/citations.py)

# A quote is whole sentences of its passage (see assistant/citations.py): " … " marks a gap, a final
# "…" a cut. Sentences are looked up one by one: a card's passage text can follow a reading order
# that differs from the file's lines, and whitespace differs (the quote collapses it).
_MIN_SENTENCE = 3  # shorter pieces ("-", "p.") would highlight noise

FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"
MASKED = "… (noms de communes d'une carte, masqués)"  # stands for a run of map-label lines

# Every text colour is at least 4.5:1 on its background (white, #fff8e1, #ffe066, #f4f5f7).
PAGE_CSS = f"""
body {{ font-family: {FONTS}; margin: 0; background: #f4f5f7; color: #1d2430; }}
main {{ max-width: 900px; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; }}
.doc {{ color: #4a5568; margin: 0; }}
h1 {{ font-size: 1.4rem; margin: .3rem 0; }}
.where {{ color: #4a5568; }}
blockquote {{ border-left: 4px solid #f0b400; background: #fff8e1; margin: 1rem 0; padding: .5rem 1rem; }}
.note {{ color: #8a4b00; }}
ol.lines {{ font-family: {MONO}; font-size: .9rem; line-height: 1.45; padding-left: 4.5em; }}
ol.lines li {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
ol.lines li::marker {{ color: #5f6b7a; }}
ol.lines li.masked {{ list-style: none; color: #5f6b7a; font-family: {FONTS}; font-style: italic; font-size: .85rem; }}
mark {{ background: #ffe066; color: #1d2430; padding: 0 .1em; }}
"""

# The source panel: no card, no header block, small type; fits a 360 px wide iframe.
EMBED_CSS = f"""
html {{ -webkit-text-size-adjust: 100%; }}
body {{ font-family: {FONTS}; margin: 0; padding: .75rem .85rem 1rem; background: #fff; color: #1d2430; font-size: .95rem; line-height: 1.4; }}
.doc {{ color: #4a5568; margin: 0; font-size: .85rem; }}
h1 {{ font-size: 1.05rem; line-height: 1.3; margin: .2rem 0 .3rem; overflow-wrap: anywhere; }}
.meta {{ color: #4a5568; margin: 0 0 .5rem; font-size: .85rem; }}
.note {{ color: #8a4b00; font-size: .9rem; }}
ol.lines {{ font-family: {MONO}; font-size: .8rem; line-height: 1.45; margin: .5rem 0; padding-left: 3.6em; }}
ol.lines li {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
ol.lines li::marker {{ color: #5f6b7a; }}
ol.lines li.masked {{ list-style: none; color: #5f6b7a; font-family: {FONTS}; font-style: italic; font-size: .8rem; }}
mark {{ background: #ffe066; color: #1d2430; padding: 0 .1em; }}
.open {{ margin: .75rem 0 0; }}
a {{ color: #0b5394; }}
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


# --- Map labels ---------------------------------------------------------------------------------------


def map_label_lines(lines: Sequence[str]) -> frozenset[int]:
    """1-based numbers of the lines that are commune labels of a map (docs/data-quality.md §2.2).

    The lines ingest already leaves out of the cards' text (``Card.map_lines``: runs of at least 8 labels
    of the document's own recurring label set, glued labels such as "BaisieuxChéreng" included). The
    communes a map highlights, repeated after its last label ("Lille"), are territory, not map: they stay.
    """
    text = list(lines)
    if not is_guide(text):
        return frozenset()
    return frozenset(i + 1 for card in parse_guide(text).cards for i in card.map_lines)


@lru_cache(maxsize=16)
def hidden_lines(doc: SourceDoc) -> frozenset[int]:
    """``map_label_lines`` of a corpus document, worked out once per document (the guide has 6 700 lines)."""
    return map_label_lines(doc.lines)


def _masked_runs(hidden: Collection[int], first: int, lines: Sequence[str]) -> dict[int, int]:
    """{first line: last line} of each run of hidden lines among ``lines`` (numbered from ``first``).

    A blank line between two hidden lines belongs to their run: a map is one placeholder, not one per label.
    """
    runs: dict[int, int] = {}
    run_start: int | None = None
    last_hidden = 0
    for number in range(first, first + len(lines)):
        if number in hidden:
            if run_start is None:
                run_start = number
            last_hidden = number
        elif lines[number - first].strip() and run_start is not None:
            runs[run_start] = last_hidden
            run_start = None
    if run_start is not None:
        runs[run_start] = last_hidden
    return runs


# --- The date of a document ---------------------------------------------------------------------------

_MONTHS = {
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
}
_MONTH_NAMES = ("", *(m for m in _MONTHS if m not in {"fevrier", "aout", "decembre"}))
_MONTH = "|".join(_MONTHS)
_YEAR = r"((?:19|20)\d\d)"
_DAY_DATE = re.compile(rf"\b(1er|[0-3]?\d)\s+({_MONTH})\s+{_YEAR}\b", re.IGNORECASE)  # "24 septembre 2019"
_NUMERIC_DATE = re.compile(rf"(?<![\d/])([0-3]?\d)/([01]?\d)/{_YEAR}\b")  # "02/09/2016"
_MONTH_DATE = re.compile(rf"(?<!\d\s)(?<!1er\s)\b({_MONTH})\s+{_YEAR}\b", re.IGNORECASE)  # "juillet 2019"
# A date given as a deadline or a plan is no date of the document: "jusqu'au 31 décembre 2022",
# "d'ici fin 2022", "avant le …", "à partir de …", "fin juin 2026", "début juillet 2026".
_DEADLINE = re.compile(
    r"(?:jusqu['’]\s*(?:au|à|en)|d['’]ici|avant|au plus tard|à partir d[eu]|à compter d[eu]|après|fin|début|horizon)"
    r"(?:\s+(?:le|la|l['’]|du|de|fin|début))*\s*$",
    re.IGNORECASE,
)


def document_date(text: str, today: datetime.date | None = None) -> str | None:
    """The month the document dates from, read in its text ("septembre 2019"), or None.

    The corpus files carry no date field (ingest reads none), so it is read in the text: the most recent
    day the document names ("le 24 septembre 2019", "02/09/2016"), as a month; failing any, its most
    recent "mois année". Dates given as a deadline or a plan ("jusqu'au 31 décembre 2022", "fin juin
    2026") and dates after ``today`` are not the document's. Bare years are not used: they are mostly
    periods and targets ("2015-2020", "jusqu'en 2022", "depuis 2017"), so a text with only years has no date.
    """
    flat = " ".join(text.split())  # a date cut across lines ("22 janvier\n2019") is found too
    limit = today or datetime.date.today()

    def kept(start: int, when: datetime.date) -> bool:
        return when <= limit and not _DEADLINE.search(flat[max(0, start - 40) : start])

    found: list[datetime.date] = []
    for match in _DAY_DATE.finditer(flat):
        day = 1 if match[1].lower() == "1er" else int(match[1])
        found += [d for d in _valid(int(match[3]), _MONTHS[match[2].lower()], day) if kept(match.start(), d)]
    for match in _NUMERIC_DATE.finditer(flat):
        found += [d for d in _valid(int(match[3]), int(match[2]), int(match[1])) if kept(match.start(), d)]
    if not found:
        for match in _MONTH_DATE.finditer(flat):
            found += [d for d in _valid(int(match[2]), _MONTHS[match[1].lower()], 1) if kept(match.start(), d)]
    if not found:
        return None
    latest = max(found)
    return f"{_MONTH_NAMES[latest.month]} {latest.year}"


def _valid(year: int, month: int, day: int) -> list[datetime.date]:
    try:
        return [datetime.date(year, month, day)]
    except ValueError:  # "31/02/2019", a score "12/18/2020"
        return []


@lru_cache(maxsize=16)
def date_of(doc: SourceDoc) -> str | None:
    """``document_date`` of a corpus document, read once per document."""
    return document_date(doc.text)


# --- The pages ----------------------------------------------------------------------------------------


def _line_items(lines: list[str], line_start: int, quote: str, hidden: Collection[int]) -> tuple[str, bool]:
    """The <li> of each shown line (map labels as one placeholder per run), and whether the quote was found."""
    runs = _masked_runs(hidden, line_start, lines)
    masked = {n for a, b in runs.items() for n in range(a, b + 1)}
    # Hidden lines are blanked before the quote is looked up: a highlight never lands in a masked map.
    visible = ["" if line_start + i in masked else line for i, line in enumerate(lines)]
    spans = highlight_spans("\n".join(visible), quote) if quote.strip() else []
    marked = _marked_lines(visible, spans)
    items: list[str] = []
    number = line_start
    follows_gap = False
    while number < line_start + len(lines):
        if number in runs:
            last = runs[number]
            where = f"ligne {number}" if last == number else f"lignes {number}–{last}"
            items.append(f'<li class="masked" value="{number}">{html.escape(MASKED)} <span class="range">— {where}</span></li>')
            number, follows_gap = last + 1, True
            continue
        value = f' value="{number}"' if follows_gap else ""  # the number after a placeholder is the file's
        items.append(f"<li{value}>{marked[number - line_start]}</li>")
        number, follows_gap = number + 1, False
    return "\n".join(items), bool(spans)


def passage_page(
    *,
    document: str,
    title: str,
    source: str,
    line_start: int,
    lines: list[str],
    page: int | None,
    quote: str = "",
    hidden: Collection[int] = (),
    date: str | None = None,
    embed: bool = False,
    full_page: str = "",
) -> str:
    """The French HTML page of lines ``line_start``… of ``source``, ``quote``'s sentences highlighted.

    ``hidden``: 1-based line numbers of the file not to show (map labels, see ``map_label_lines``), each run
    replaced by one placeholder line; ``date``: the document's date ("septembre 2019"), when known.
    ``embed``: the compact page of the chat's source panel, with a link to ``full_page`` (the shareable page).
    """
    items, found = _line_items(lines, line_start, quote, hidden)
    missing = ""
    if quote.strip() and not found:
        missing = (
            '<p class="note">Cet extrait n\'a pas été retrouvé mot pour mot dans ces lignes : lisez le passage ci-dessous.</p>'
        )
    dated = f"Document de {html.escape(date)}" if date else ""
    if embed:
        return _embed_page(
            document=document,
            title=title,
            page=page,
            dated=dated,
            missing=missing,
            items=items,
            start=line_start,
            full_page=full_page,
        )
    line_end = line_start + len(lines) - 1
    where = f"lignes {line_start}–{line_end}" + (f", page {page}" if page else "")
    cited = f"<blockquote><strong>Extrait cité :</strong> {html.escape(quote)}</blockquote>{missing}" if quote.strip() else ""
    body = f"""<main>
<p class="doc">{html.escape(document)}</p>
<h1>{html.escape(title)}</h1>
<p class="where">{where} — fichier <code>{html.escape(source)}</code>{f" — {dated}" if dated else ""}</p>
{cited}
<ol class="lines" start="{line_start}">
{items}
</ol>
</main>"""
    return _page(title, PAGE_CSS, body)


def _embed_page(
    *, document: str, title: str, page: int | None, dated: str, missing: str, items: str, start: int, full_page: str
) -> str:
    """The source panel: document, passage title, page and date on one line, the lines, the link to share."""
    meta = " · ".join(part for part in (f"page {page}" if page else "", dated) if part)
    heading = f'<p class="doc">{html.escape(document)}</p>\n' if document.strip() != title.strip() else ""
    link = ""
    if full_page:
        link = (
            f'<p class="open"><a href="{html.escape(full_page)}" target="_blank" rel="noopener">Ouvrir la page du passage</a></p>'
        )
    body = f"""<main>
{heading}<h1>{html.escape(title)}</h1>
{f'<p class="meta">{meta}</p>' if meta else ""}
{missing}
<ol class="lines" start="{start}">
{items}
</ol>
{link}
</main>"""
    return _page(title, EMBED_CSS, body, body_class="embed")


def _page(title: str, css: str, body: str, body_class: str = "") -> str:
    """A whole French page around ``body`` (its own CSS inline: the pages allow no other source)."""
    attrs = f' class="{body_class}"' if body_class else ""
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} — Repères</title>
<style>{css}</style>
</head>
<body{attrs}>
{body}
</body>
</html>
"""


def error_page(message: str) -> str:
    """A short French page for a link that cannot be shown (unknown document, bad lines)."""
    return (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8"><title>Passage introuvable — Repères</title>'
        f"<style>{PAGE_CSS}</style></head>\n<body><main><h1>Passage introuvable</h1><p>{html.escape(message)}</p></main></body></html>\n"
    )
