"""Action cards of a guide laid out like "Ils innovent pour l'avenir des jeunes" (001), reassembled.

The PDF extraction emits each card in a fixed but wrong order (docs/data-quality.md §2.1)::

    POUR EN SAVOIR PLUS        contact block (function, name, e-mail, phone, site)
    UNE ACTION INNOVANTE...    bullets, then the description paragraph
    <TITLE IN CAPITALS>        one or two lines
    <timeline>                 years and bullets
    Porteur(s) de l'action : …
    <map>                      ~80 commune labels, one per line (noise)
    <territory line(s)>        the highlighted communes, "Sur l'ensemble du territoire…"
    <public>                   "Pour les jeunes de 16 à 25 ans habitant …"
    LES RESSOURCES …

so a card runs from one "POUR EN SAVOIR PLUS" to the end of its resources paragraph. Everything
here keys on those layout signals and on the document's own repeated map labels; no line offsets,
so a new edition with other cards comes out right. Text between cards is a section introduction
whose capitalised heading is the theme of the cards that follow.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.text import EMAIL, fold, is_caps

CARD_START = re.compile(r"^\s*POUR EN SAVOIR PLUS\s*$")
INNOVATION = re.compile(r"^\s*UNE ACTION INNOVANTE")
PORTEUR = re.compile(r"^\s*Porteurs?\s+de\s+l[’']actions?\b", re.IGNORECASE)
RESOURCES = re.compile(r"^\s*LES RESSOURCES\b")
DIRECTORY = re.compile(r"^\s*CONTACTS\s*$")
# A line ending on a word that cannot end a title: the title goes on ("SUR LA", "DES", "ET", "L’").
OPEN_END = re.compile(r"(?:^|\s)(?:LA|LE|LES|L[’']|DE|DES|DU|D[’']|ET|OU|À|A|AU|AUX|EN|SUR|POUR|PAR|AVEC|DANS)\s*$")
MIN_MAP_RUN = 8  # a map has ~80 labels; shorter runs of place names are real text
MIN_LABEL_REPEATS = 4  # a map label recurs on many cards


@dataclass(frozen=True)
class Card:
    """Line spans (0-based, end exclusive) of the parts of one card, in the original file's numbering."""

    start: int
    end: int
    title: tuple[int, ...]
    contacts: tuple[int, ...]
    description: tuple[int, ...]
    timeline: tuple[int, ...]
    porteur: tuple[int, ...]
    territory: tuple[int, ...]
    public: tuple[int, ...]
    resources: tuple[int, ...]
    map_lines: tuple[int, ...]
    highlights: tuple[str, ...] = ()  # communes highlighted on the map (territory candidates)
    theme: str = ""
    figures: tuple[int, ...] = ()  # the page's key figure printed after the card ("149 jeunes accompagnés…")


@dataclass(frozen=True)
class GuideLayout:
    """The cards of a guide, the section introductions between them and the directory's start."""

    cards: list[Card]
    sections: list[tuple[int, int, str]]  # (start, end, theme) of the text between cards
    directory_start: int | None


def _recurring(lines: list[str]) -> frozenset[str]:
    counts = Counter(_key(line) for line in lines if line.strip())
    return frozenset(k for k, n in counts.items() if n >= MIN_LABEL_REPEATS)


def is_guide(lines: list[str]) -> bool:
    """True when the document has the card layout (several "POUR EN SAVOIR PLUS" blocks)."""
    return sum(1 for line in lines if CARD_START.match(line)) >= 3


def _key(text: str) -> str:
    """Comparison key for labels: no accents, case, spaces or hyphens."""
    return "".join(filter(str.isalnum, fold(text)))


def _all_upper(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def is_heading(line: str) -> bool:
    """A section heading: capitals, two words or more, not the end of a sentence ("MRES, ASCIST).")."""
    text = line.strip()
    return is_caps(text) and len(text.split()) >= 2 and not text.endswith((".", ",", ";", ")"))


def _looks_like_place(text: str) -> bool:
    """Every word capitalised, as in place names ("Le Maisnil", "Villeneuve d’Ascq"), unlike "Sur l’ensemble du"."""
    return all(w[0].isupper() or re.match(r"^[dl][’'][A-ZÀ-Ý]", w) for w in text.split())


def map_labels(lines: list[str]) -> frozenset[str]:
    """Keys of the lines that recur like map labels: short, capitalised, no digits, seen on many cards."""
    counts = Counter(line.strip() for line in lines if line.strip())
    return frozenset(
        _key(text)
        for text, n in counts.items()
        if n >= MIN_LABEL_REPEATS
        and len(text) <= 40
        and _looks_like_place(text)
        and not any(c.isdigit() for c in text)
        and not is_caps(text)
    )


def _glued_labels(line: str, labels: frozenset[str]) -> list[str] | None:
    """Split a line made of labels glued together ("HaubourdinLoos"), or None if it is not one."""
    key = _key(line)
    if not key:
        return None
    best: list[list[str] | None] = [None] * (len(key) + 1)
    best[0] = []
    longest = max(map(len, labels), default=0)  # no longer piece can be a label: every line of the guide is tried
    for i in range(len(key)):
        if best[i] is None:
            continue
        for j in range(i + 3, min(len(key), i + longest) + 1):
            if key[i:j] in labels and best[j] is None:
                best[j] = [*best[i], key[i:j]]  # type: ignore[misc]
    return best[len(key)]


def _map_runs(lines: list[str], start: int, end: int, labels: frozenset[str]) -> list[tuple[int, int]]:
    """Runs of map-label lines in [start, end): >= MIN_MAP_RUN labels, blank lines and one stray line tolerated."""
    runs: list[tuple[int, int]] = []
    run_start, last_label, count, strays = None, None, 0, 0
    for i in range(start, end):
        text = lines[i].strip()
        if not text:
            continue
        if _glued_labels(text, labels) is not None:
            if run_start is None:
                run_start, count, strays = i, 0, 0
            last_label, count = i, count + 1
            continue
        if run_start is not None and strays == 0 and len(text) <= 40 and not PORTEUR.match(text) and not text.startswith("Pour "):
            strays = 1  # e.g. "Quartier Faubourg de Béthune" between labels
            continue
        if run_start is not None and count >= MIN_MAP_RUN and last_label is not None:
            runs.append((run_start, last_label + 1))
        run_start, last_label, count, strays = None, None, 0, 0
    if run_start is not None and count >= MIN_MAP_RUN and last_label is not None:
        runs.append((run_start, last_label + 1))
    return runs


def _nonblank(lines: list[str], span: range) -> tuple[int, ...]:
    return tuple(i for i in span if lines[i].strip())


def _paragraph_end(lines: list[str], i: int, stop: int) -> int:
    """End (exclusive) of the paragraph starting at or after i: first blank line or capitals heading."""
    j = i
    while j < stop and not lines[j].strip():
        j += 1
    while j < stop and lines[j].strip() and not (j > i and is_heading(lines[j]) and not RESOURCES.match(lines[j])):
        j += 1
    return j


def map_end_label(lines: list[str]) -> str | None:
    """The label that closes the maps of a guide (its last drawn label), as written, or None."""
    labels = map_labels(lines)
    key = _map_end(lines, labels)
    return next((line.strip() for line in lines if key and _key(line) == key), None)


def _map_end(lines: list[str], labels: frozenset[str]) -> str | None:
    """The label that most often closes a map run (the last label drawn): highlighted communes come after it."""
    ends = Counter(_key(lines[end - 1]) for _start, end in _map_runs(lines, 0, len(lines), labels))
    return ends.most_common(1)[0][0] if ends else None


def _card(
    lines: list[str], start: int, stop: int, labels: frozenset[str], recurring: frozenset[str], map_end: str | None
) -> Card:
    """Parse one card found between ``start`` (its POUR EN SAVOIR PLUS line) and ``stop``."""
    body = range(start + 1, stop)
    innovation = next((i for i in body if INNOVATION.match(lines[i])), None)
    resources = next((i for i in body if RESOURCES.match(lines[i])), None)
    end = _paragraph_end(lines, resources + 1, stop) if resources is not None else stop
    porteur = next((i for i in range(start, end) if PORTEUR.match(lines[i])), None)
    desc_start = innovation if innovation is not None else start + 1
    # Title: the first capitals block after the description starts (before the porteur line).
    title_stop = porteur if porteur is not None else end
    title_first = next(
        (i for i in range(desc_start + 1, title_stop) if is_caps(lines[i]) and not INNOVATION.match(lines[i])),
        None,
    )
    title: tuple[int, ...] = ()
    if title_first is not None:
        j = title_first
        while j < title_stop and lines[j].strip() and is_caps(lines[j]):
            j += 1
        title = tuple(range(title_first, j))
        # A title is never cut mid-phrase: one ending on a function word ("… DU SERVICE CIVIQUE SUR LA")
        # goes on after the blank line the layout put in it ("MEL").
        while title and OPEN_END.search(lines[title[-1]]):
            follow = next((k for k in range(title[-1] + 1, title_stop) if lines[k].strip()), None)
            if follow is None or not _all_upper(lines[follow]):
                break
            title = (*title, follow)
    contacts = _nonblank(lines, range(start + 1, innovation if innovation is not None else start + 1))
    description = _nonblank(lines, range(desc_start, title[0] if title else title_stop))
    timeline = _nonblank(lines, range(title[-1] + 1 if title else title_stop, title_stop))

    after_porteur = porteur + 1 if porteur is not None else title_stop
    tail_stop = resources if resources is not None else end
    runs = _map_runs(lines, after_porteur, tail_stop, labels)
    map_lines = tuple(i for a, b in runs for i in range(a, b) if lines[i].strip())
    # Labels repeated after the map's usual last label are the highlighted communes (e.g. "Lille").
    closing = [i for i in map_lines if _key(lines[i]) == map_end]
    after_map = tuple(i for i in map_lines if closing and i > closing[-1])
    map_lines = tuple(i for i in map_lines if i not in after_map)
    # A one-off line of several glued labels ("HaubourdinLoos") is a highlight the layout moved.
    highlights = [
        lines[i].strip() for i in map_lines if _key(lines[i]) not in recurring and len(_glued_labels(lines[i], labels) or []) >= 2
    ]
    rest_start = runs[-1][1] if runs else after_porteur
    rest = [i for i in range(rest_start, tail_stop) if lines[i].strip()]
    # Public: the paragraph before LES RESSOURCES, from its "Pour les…" line if there is one.
    public_first = next((i for i in rest if re.match(r"^\s*Pour (les|des|tous|toutes)\b", lines[i])), None)
    if public_first is None and rest:
        k = len(rest) - 1
        while k > 0 and rest[k - 1] == rest[k] - 1:
            k -= 1
        public_first = rest[k]
    public = tuple(i for i in rest if public_first is not None and i >= public_first)
    territory = after_map + tuple(i for i in rest if public_first is None or i < public_first)
    # Territory lines that are bare commune labels are highlights too ("Lille" after the map).
    highlights += [lines[i].strip() for i in territory if _glued_labels(lines[i], labels) is not None]
    # A porteur line may carry the public too: "Porteur … Centre Social Imagine Pour les jeunes …".
    porteur_lines = (porteur,) if porteur is not None else ()
    return Card(
        start=start,
        end=end,
        title=title,
        contacts=contacts,
        description=description,
        timeline=timeline,
        porteur=porteur_lines,
        territory=territory,
        public=public,
        resources=_nonblank(lines, range(resources, end)) if resources is not None else (),
        map_lines=map_lines,
        highlights=tuple(dict.fromkeys(highlights)),
    )


def parse_guide(lines: list[str]) -> GuideLayout:
    """Find the cards, the section introductions (with their themes) and the contact directory."""
    labels, recurring = map_labels(lines), _recurring(lines)
    map_end = _map_end(lines, labels)
    starts = [i for i, line in enumerate(lines) if CARD_START.match(line)]
    directory = next((i for i in range(starts[-1] if starts else 0, len(lines)) if DIRECTORY.match(lines[i])), None)
    limit = directory if directory is not None else len(lines)
    cards: list[Card] = []
    sections: list[tuple[int, int, str]] = []
    previous_end = 0
    theme = ""
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else limit
        between = [i for i in range(previous_end, start) if lines[i].strip()]
        if cards and _is_key_figure(lines, between):
            # A short line of figures between two cards is the previous card's key figure (the
            # page's banner), not a section of its own.
            cards[-1] = Card(**{**cards[-1].__dict__, "end": between[-1] + 1, "figures": tuple(between)})
        elif between:
            heading = _last_heading(lines, previous_end, start)
            theme = heading or theme
            sections.append((previous_end, start, theme))
        card = _card(lines, start, stop, labels, recurring, map_end)
        cards.append(Card(**{**card.__dict__, "theme": theme}))
        previous_end = card.end
    if any(line.strip() for line in lines[previous_end:limit]):
        sections.append((previous_end, limit, theme))
    return GuideLayout(cards, sections, directory)


def _is_key_figure(lines: list[str], numbers: list[int]) -> bool:
    """One or two short lines, each starting with a figure: "149 jeunes accompagnés - 98 entreprises"."""
    return 0 < len(numbers) <= 2 and all(re.match(r"^\s*\d[\d\s]*\s+[^\W\d_]", lines[i]) and len(lines[i]) < 120 for i in numbers)


def _last_heading(lines: list[str], start: int, end: int) -> str:
    """The last capitals heading (one or more consecutive lines) in [start, end), as one line of text."""
    heading: list[str] = []
    previous = -2
    result = ""
    for i in range(start, end):
        if is_heading(lines[i]) and not CARD_START.match(lines[i]):
            heading = [*heading, lines[i].strip()] if i == previous + 1 else [lines[i].strip()]
            result, previous = " ".join(heading), i
    return result


ACTIONS_HEADER = re.compile(r"^\s*Actions?\s+concern", re.IGNORECASE)
PAGE_REF = re.compile(r"(.+?)\s*p\.\s?(\d{1,3})\b", re.DOTALL)


@dataclass(frozen=True)
class DirectoryEntry:
    """One contact of the guide's closing directory and the actions (with guide pages) it is listed for."""

    emails: frozenset[str]
    actions: tuple[tuple[str, int], ...]


def parse_directory(lines: list[str], start: int) -> list[DirectoryEntry]:
    """Entries of the contact directory: blocks holding e-mails and "Action(s) concernée(s) … p.N"."""
    entries: list[DirectoryEntry] = []
    block: list[str] = []
    for line in [*lines[start:], ""]:
        if line.strip():
            block.append(line.strip())
            continue
        header = next((k for k, text in enumerate(block) if ACTIONS_HEADER.match(text)), None)
        if header is not None:
            listed = " ".join(block[header + 1 :])
            actions = tuple((" ".join(name.split()).strip(" ,;"), int(page)) for name, page in PAGE_REF.findall(listed))
            emails = frozenset(e.lower() for text in block[:header] for e in EMAIL.findall(text))
            if actions:
                entries.append(DirectoryEntry(emails, actions))
        block = []
    return entries


def guide_page(title: str, emails: set[str], directory: list[DirectoryEntry]) -> int | None:
    """The guide page of a card: the directory lists its contacts with "<action> p.N".

    Among the actions listed for the card's e-mails, the one whose name shares most words with the
    card's title wins (a contact may be listed for several actions).
    """
    wanted = {w for w in re.findall(r"\w+", fold(title)) if len(w) > 2}
    best: tuple[int, int] | None = None
    for entry in directory:
        if not entry.emails & emails:
            continue
        for name, page in entry.actions:
            score = len(wanted & {w for w in re.findall(r"\w+", fold(name)) if len(w) > 2})
            if score and (best is None or score > best[0]):
                best = (score, page)
    return best[1] if best else None
