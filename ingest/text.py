"""Small text helpers shared by the extractors: sentence splitting with line numbers, slugs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.cards import is_caps
from ingest.gazetteer import fold

# A sentence ends at . ! ? (or ;) followed by a space and a capital, a bullet or a line end; "M." and
# "Mme." and initials ("J.-C.") do not end one; a line that starts with a bullet starts a new sentence.
_END = re.compile(r"(?<!\b[A-Z])(?<!\bM)(?<!\bMme)(?<!\bMM)(?<!\bcf)[.!?;](?=\s+(?:[A-ZÀ-Ý«\"\-–•►▶]|$))|[.!?](?=\s*$)")
_BULLET = re.compile(r"^\s*(?:[-–•►▶✓❑❖o]\s+|\*\s+|\d+[.)]\s+)")


# Cell items: former <p> boundaries (ingest.repair.strip_markup writes " ; ").
ITEM_SPLIT = re.compile(r"\s+;\s+")
# "2.2. Actualisation du Contrat de Ville", "C) Développer …"; not a year ("2018 (délibération …").
_NUMBERED_HEADING = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]+\.|[A-H][.)])\s+[«\"A-ZÀ-ÖØ-Þ].{2,100}$")


def is_section_heading(line: str) -> bool:
    """A heading: capitals (two words or more) or a short numbered title ("2.3 Les publics", "C) Développer …")."""
    text = line.strip()
    if not text or "\t" in line or len(text) > 160:
        return False
    if is_caps(text) and len(text.split()) >= 2 and not text.endswith((",", ";")):
        return True
    return bool(_NUMBERED_HEADING.match(text)) and not text.endswith((".", ",", ";")) and len(text) <= 100


@dataclass(frozen=True)
class Sentence:
    """A sentence of a block of lines, whitespace collapsed, with the 0-based index of its first line."""

    text: str
    line: int
    bullet: bool = False  # it starts a bulleted item


def sentences(lines: list[str], first: int = 0) -> list[Sentence]:
    """Sentences of ``lines`` (``first`` = index of lines[0]): blank lines and bullets break sentences.

    A word cut with a hyphen at a line end and continued in lower case is joined ("accompagne-" +
    "ment"); otherwise lines are joined with a space.
    """
    found: list[Sentence] = []
    current = ""
    start = first
    bullet = False
    gap = False
    for offset, raw in enumerate(lines):
        line = " ".join(raw.split())
        number = first + offset
        if not line:
            gap = True
            continue
        # After a blank line, a line in lower case goes on with an unfinished sentence (the guide's
        # bullets have blank lines inside them); anything else starts a new one.
        is_bullet = _BULLET.match(raw) is not None
        new_paragraph = gap and (not current or current.endswith((".", "!", "?", ":", ";")) or not line[:1].islower())
        if current and (is_bullet or new_paragraph):
            found.append(Sentence(current.strip(), start, bullet))
            current = ""
        if is_bullet or new_paragraph or (not found and not current):
            bullet = is_bullet  # the sentences of an item are the item's, up to the next paragraph
        gap = False
        if is_bullet:
            line = " ".join(_BULLET.sub("", raw, count=1).split())
        if not current:
            start = number
            current = line
        elif current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}"
        # Cut every sentence that ends inside the accumulated text (the rest waits for the next line).
        cut = 0
        for match in _END.finditer(current):
            head = current[cut : match.end()].strip()
            if head:
                found.append(Sentence(head, start, bullet))
                start = number
            cut = match.end()
        current = current[cut:].strip()
    if current.strip():
        found.append(Sentence(current.strip(), start, bullet))
    return found


def slug(text: str, limit: int = 48) -> str:
    """ "Connect’Emploi" -> "connect-emploi": folded, letters and digits, hyphen-separated."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out}-{word}" if out else word
    return out or "action"


def squash(text: str) -> str:
    """Whitespace collapsed, for comparing a value with the text it was read from."""
    return " ".join(text.split())
