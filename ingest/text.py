"""The one home of the text handling every package shares: folds, stop words, the e-mail, phone and age
patterns, citation markers, and sentence splitting; also slugs and heading tests.

This module imports nothing from the project, so any module of any package may import it.

Folds (pick one by name; never write another):

- ``fold``: case (``casefold``), accents and the œ/æ ligatures, nothing else: "Mons-en-Barœul" ->
  "mons-en-baroeul". Names, keys, slugs, word overlap.
- ``fold_words``: ``fold`` with apostrophes (’ ' `) and hyphens read as spaces, and one space between
  words: "L’ÉCOLE de Mons-en-Barœul" -> "l ecole de mons en baroeul". Questions and the domain vocabulary
  (``index.query``, ``ingest.vocabulary``), BM25 (``index.lexical``).
- ``fold_spaces``: ``fold`` with ’ written ' and one space between words, other punctuation kept: facts
  compared as written in two texts ("16-25 ans", "l'AFEV"; ``eval.metrics``).

Patterns come in pairs where two uses need two readings; the variant is documented next to the pattern:

- ``EMAIL`` / ``PHONE`` / ``AGE_RANGE``: anything written like one (answers, passages, directory blocks):
  the grounding check and the evaluation must find every e-mail or phone an answer holds.
- ``CONTACT_EMAIL`` / ``CONTACT_PHONE`` / ``PUBLIC_AGE_RANGE``: what the extractors keep from a document
  (``ingest.metadata``, ``ingest.contacts``), stricter where a document holds look-alikes;
  ``QUESTION_AGE_RANGE``: the range in a question once folded (``index.query``); ``EMAIL_ASCII``: ``EMAIL``
  in ASCII letters (a cut address, not a cut word: ``ingest.repair``).
- ``CONTACT_HINT`` (a text holding an e-mail or a phone, at a glance), ``AGE_MENTION`` (a statement
  speaking of ages), ``MARKER`` (a citation marker "[3]").

Stop words: ``STOP_WORDS`` (words that carry no topic), ``SHORT_WORDS`` (the little words an acronym skips).

Sentence splitters, one per kind of text: ``sentences`` (lines of a document, with their line numbers),
``passage_sentences`` (a chunk's text, for choosing what to say), ``QUOTE_SPLIT`` (where a quote may be
cut), ``line_sentences`` (one line of an answer, its ``[n]`` markers kept).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------
# Folds
# ---------------------------------------------------------------------------------------------------

_WORD_JOINERS = re.compile(r"[’'`\-]")


def _fold_slowly(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


class _FoldTable(dict[int, str]):
    """Each character's fold, computed by the slow path the first time it is met (a few hundred in all).

    Folding a text is folding each character: NFKD decomposes character by character and only reorders the
    combining marks, which are dropped; casefold maps character by character. ``fold`` is called on every
    passage and question word, and normalising the whole string each time was a fifth of an answer's time."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_slowly(chr(code))
        return folded


_FOLDED = _FoldTable()


def fold(text: str) -> str:
    """Lower case without accents, ligatures unfolded: "Mons-en-Barœul" -> "mons-en-baroeul"."""
    return text.translate(_FOLDED)


def fold_words(text: str) -> str:
    """``fold``, apostrophes and hyphens as spaces, one space: "  Mons-en-Barœul  L’ÉCOLE " -> "mons en baroeul l ecole"."""
    return " ".join(_WORD_JOINERS.sub(" ", fold(text)).split())


def one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one letter dropped, added or changed, or two neighbours swapped ("roubiax")."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]


def fold_spaces(text: str) -> str:
    """``fold``, ’ written ', one space: "Métropole  Européenne l’AFEV" -> "metropole europeenne l'afev"."""
    return " ".join(fold(text.replace("’", "'")).split())


# ---------------------------------------------------------------------------------------------------
# Stop words
# ---------------------------------------------------------------------------------------------------


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Short French function words (folded) that carry no topic: they must not decide which sentence is quoted.
STOP_WORDS = _wordset(
    "a au aux avec ce ces dans de des du elle en et il ils je la le les leur leurs l d ma mes mon ne nous on ou par pas"
    " pour qu que qui quel quelle quelles quels sa se ses son sur ta te tes ton tu un une vos votre vous y est sont ans an"
)
# The little words an acronym may skip ("ATTA" for "Accroche toi à ton avenir"), folded.
SHORT_WORDS = _wordset("a au aux d de des du en et l la le les pour sur un une")

# ---------------------------------------------------------------------------------------------------
# E-mails, phones, ages, citation markers
# ---------------------------------------------------------------------------------------------------

# Anything written like an e-mail address (letters of any script): what an answer or a block holds.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Variant: ``EMAIL`` with ASCII letters only, to tell a word cut at a line end from a cut address
# (ingest.repair: "accompagne-" + "ment" has an accent, an address has none).
EMAIL_ASCII = re.compile(EMAIL.pattern, re.ASCII)
# Variant: an address as the extractors keep it: ASCII, starting with a letter or digit, a domain
# ending in a top-level domain of two letters or more (no "x@y.z" scraps of a broken line).
CONTACT_EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# A French phone number as an answer or a passage may write it: 0 or +33 (optionally "(0)"), then nine
# digits in pairs, any space, dot, slash or hyphen between; never inside a longer number or a word.
PHONE = re.compile(r"(?<![\d\w])(?:\+33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s./-]?\d{2}){4}(?!\d)")
# Variant: a phone number as the extractors keep it from a document: separators are a space, a dot or
# a hyphen only (a slash or a line break joins two numbers of a list), Belgian +32 numbers too.
CONTACT_PHONE = re.compile(
    r"(?<![\d+])0[1-9](?:[ .\-]?\d{2}){4}(?!\d)"
    r"|\+33\s?(?:\(0\)\s?)?[1-9](?:[ .\-]?\d{2}){4}(?!\d)"
    r"|\+32\s?(?:\(0\)\s?)?\d{1,2}(?:[ .\-]?\d{2,3}){3}(?!\d)"
)
# At a glance, a text that holds an e-mail or a phone (a contact line, not a sentence to quote).
CONTACT_HINT = re.compile(r"@|\b0\d(?:[ .]?\d{2}){4}\b")

# An age range as written anywhere: "de 16 à 25 ans", "16-25 ans", "16 ans à 25 ans", "16 et 17 ans";
# groups: the two bounds.
AGE_RANGE = re.compile(
    r"(?<![\w,.])(\d{1,2})\s*(?:ans\s*)?(?:à|a|au|et|-|–|—|/)\s*(\d{1,2})\s*ans\b",
    re.IGNORECASE,
)
# Variant: the range of a public as the extractors read it: "et" only after "entre" ("16 et 17 ans"
# alone may list two ages), never right after a digit, slash, dot or comma (a date, a score); groups:
# the two bounds of "entre … et …", or the two bounds of the other forms.
_N = r"(\d{1,2})"
_ANS = r"\s*ans\b"
PUBLIC_AGE_RANGE = re.compile(
    rf"(?:\bentre\s+{_N}(?:{_ANS})?\s+et\s+{_N}{_ANS})"
    rf"|(?:(?<![\d/.,])\b{_N}(?:{_ANS})?\s*(?:à|a|au|-|–|—|/)\s*{_N}{_ANS})",
    re.IGNORECASE,
)
# Variant: the range in a question folded by ``fold_words`` (no accents, hyphens as spaces): "de 16 a 25
# ans", "entre 16 et 18 ans", "les 16 25 ans" (written "16-25"), "16/25 ans"; groups: the two bounds.
QUESTION_AGE_RANGE = re.compile(r"\b(?:(?:de|entre)\s+)?(\d{1,2})(?:\s*(?:ans\s+)?(?:a|et)\s+|\s*/\s*|\s+)(\d{1,2})\s*ans\b")
# A statement that speaks of ages: "16 ans", "16-25 ans", "mineurs", "majeurs", "collégiens", "lycéens", "3e".
AGE_MENTION = re.compile(
    r"\b\d{1,2}\s*(?:ans|-\s*\d{1,2}\s*ans)\b|\bmineur|\bmajeur|coll[ée]gien|lyc[ée]en|\b[3-6]\s*(?:e|è|ème)\b", re.IGNORECASE
)

# A citation marker of an answer, "[3]"; group: the number.
MARKER = re.compile(r"\[(\d+)\]")


# ---------------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------------

# A sentence ends at . ! ? (or ;) followed by a space and a capital, a bullet or a line end; "M." and
# "Mme." and initials ("J.-C.") do not end one; a line that starts with a bullet starts a new sentence.
# (The leading look-ahead is implied by both branches: it lets the engine test the look-behinds only at a
# punctuation mark, not at every character, four times faster; every passage is split into sentences.)
_END = re.compile(
    r"(?=[.!?;])(?:(?<!\b[A-Z])(?<!\bM)(?<!\bMme)(?<!\bMM)(?<!\bcf)[.!?;](?=\s+(?:[A-ZÀ-Ý«\"\-–•►▶]|$))|[.!?](?=\s*$))"
)
_BULLET = re.compile(r"^\s*(?:[-–•►▶✓❑❖o]\s+|\*\s+|\d+[.)]\s+)")


# Punctuation between two words that breaks a phrase: a place name never runs across it.
PHRASE_BREAK = re.compile(r"[.!?:;,()\[\]«»\"\n]")
# Where a passage is cut into the sentences a quote is made of: after . ! ? ; : and a space, or a blank line.
QUOTE_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n{2,}")
# The end of a sentence of an answer: . ! ? (and the markers right after it), before a capital, a digit,
# a bullet or the end of the line.
_ANSWER_END = re.compile(r"[.!?…](?:\s*\[\d+\])*(?=\s+[A-ZÀ-Ý0-9«\"*(•-]|\s*$)")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:[^\W\d_]|cf|etc|art|Mme|Mlle|MM|Dr|St|n°)\.$", re.IGNORECASE)

# Cell items: former <p> boundaries (ingest.repair.strip_markup writes " ; ").
ITEM_SPLIT = re.compile(r"\s+;\s+")
# "2.2. Actualisation du Contrat de Ville", "C) Développer …"; not a year ("2018 (délibération …").
_NUMBERED_HEADING = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]+\.|[A-H][.)])\s+[«\"A-ZÀ-ÖØ-Þ].{2,100}$")


def is_caps(line: str) -> bool:
    """A heading in capitals: at least 4 letters, nearly all upper case."""
    letters = "".join(filter(str.isalpha, line))  # (filter and map: every heading candidate line is tested)
    return len(letters) >= 4 and sum(map(str.isupper, letters)) >= 0.9 * len(letters)


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


# A footnote written where its number was glued to the text (ingest.repair.inline_footnotes): " (note 2 : …)".
_NOTE_OPEN = re.compile(r" \(note \d{1,2} : ")


def printed_length(line: str) -> int:
    """The length of ``line`` as the PDF printed it, without the footnotes written into it: what tells a line
    wrapped at the page's width from a short one."""
    length = len(line.strip())
    for match in _NOTE_OPEN.finditer(line):
        depth, end = 1, match.end()
        while end < len(line) and depth:
            depth += {"(": 1, ")": -1}.get(line[end], 0)
            end += 1
        length -= end - match.start()
    return max(0, length)


# A short line alone that holds a figure (a date, an amount, a count) and starts no list item: a value.
_VALUE_LINE = re.compile(r"^(?![-•►▶✓])(?=[^\n]*\d)[^\n]{1,60}$")


# A list item that is a name alone: short, one line, no figure, no verb's punctuation ("- « Challenge d'Hiver »").
_NAMED_ITEM = re.compile(r"^[-•►▶✓]\s*[^\n\d.;:!?,]{2,60}$")


# A line ending on an article, a preposition or a conjunction goes on on the next line.
_OPEN_END = re.compile(
    r"\b(?:un|une|le|la|les|de|du|des|d[’']|l[’']|à|au|aux|et|ou|en|dans|pour|par|sur|avec|sans|son|sa|ses|leur|leurs|ce|cette)$",
    re.IGNORECASE,
)


def passage_sentences(text: str) -> list[str]:
    """Sentences of a passage: PDF lines of a paragraph joined, list items kept apart, split at . ? ;"""
    found: list[str] = []
    # Double-spaced extractions (003) put blank lines inside sentences: a paragraph that does not end
    # a sentence and a next one that starts in lower case are one paragraph.
    paragraphs: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraphs and (
            (not re.search(r"[.!?:;»]\s*$", paragraphs[-1]) and paragraph.lstrip()[:1].islower())
            or (_OPEN_END.search(paragraphs[-1].rstrip()) is not None and not re.match(r"\s*[-•►▶✓]", paragraph))
        ):
            paragraphs[-1] += "\n" + paragraph.strip()
        elif paragraphs and _NAMED_ITEM.match(paragraphs[-1].strip()) and _VALUE_LINE.match(paragraph.strip()):
            # A slide's figures: "- « Sprint vers l'Emploi »" then, alone, "Environ 150 participants": the
            # figure is the named item's, one sentence with it.
            paragraphs[-1] = paragraphs[-1].rstrip() + " : " + paragraph.strip()
        elif paragraphs and paragraphs[-1].rstrip().endswith(":") and _VALUE_LINE.match(paragraph.strip()):
            # "Prochain parcours intensif « Sprint vers l'Emploi » :" then, alone, "23 juin – 27 juin 2025": the
            # label's value, one sentence with it.
            paragraphs[-1] = paragraphs[-1].rstrip() + " " + paragraph.strip()
        else:
            paragraphs.append(paragraph)
    for paragraph in paragraphs:
        # A line starting a list item or a label ("- ", "Contact :") begins a new piece; others continue.
        pieces: list[str] = []
        # A line as long as the paragraph's longest was wrapped by the PDF: what follows goes on with it.
        width = max((printed_length(x) for x in paragraph.split("\n")), default=0)
        previous = ""
        for line in paragraph.split("\n"):
            # A flattened table row: its cells stay apart ("35 ; 31 ; 10", not "35 31 10").
            line = " ; ".join(cell.strip() for cell in line.split("\t") if cell.strip()) if "\t" in line else line.strip()
            if not line:
                continue
            # A capitalised line after a complete list item is a new line of text, not the item's end.
            after_item = bool(pieces) and re.match(r"^[-•►▶✓]", pieces[-1]) is not None and line[:1].isupper()
            after_item = after_item and not re.search(r"[,\-–(]$", pieces[-1])
            # ("- … la bourse aux stages du PIE" wrapped before "Jeunesse pilotée par …": one item.)
            wrapped = (
                printed_length(previous) >= 60
                and printed_length(previous) >= 0.85 * width
                and not re.search(r"[.;:!?]$", previous)
            )
            # ("… le forum des financeurs de la création d'activité dans un" then "QPV": no item ends on "un".)
            wrapped = wrapped or _OPEN_END.search(previous) is not None
            after_item = after_item and not wrapped
            previous = line
            if (
                pieces
                and not after_item
                # ("-90 %" is a negative figure that goes on the line above, not a list item.)
                and not re.match(r"^(?:-(?!\d)|[•►▶✓]|\d+[.)]\s|[A-ZÉ][^.!?]{0,40}:\s*$)", line)
                # A flattened table's cell under its column label ("OBJECTIFS : …") is a piece of its own.
                and not re.match(r"^[A-ZÉÈ][A-ZÉÈÀÊ '’-]{2,40} : ", line)
                and not pieces[-1].endswith(":")
            ):
                pieces[-1] = pieces[-1][:-1] + line if pieces[-1].endswith("-") and line[:1].islower() else f"{pieces[-1]} {line}"
            else:
                pieces.append(line)
        for piece in pieces:
            # "!" is left alone: it ends names ("Accroche active!") more often than sentences here.
            found += [
                " ".join(x.split())
                for x in re.split(r"(?<=[.?;])(?<![\s(]M\.)(?<!Mme\.)\s+(?=[A-ZÀ-Ý0-9«\"-])", piece)
                if x.strip()
            ]
    return found


def line_sentences(line: str) -> list[str]:
    """Sentences of one line of an answer; the ``[n]`` markers after a full stop stay with the sentence they close."""
    pieces: list[str] = []
    start = 0
    for match in _ANSWER_END.finditer(line):
        piece = line[start : match.end()]
        if (_ABBREVIATION.search(piece.rstrip()) and not MARKER.search(match.group(0))) or re.fullmatch(r"\s*\d+[.)]", piece):
            continue  # "M. Dupont", "cf. la fiche", an inline list number "2.": not an end
        pieces.append(piece.strip())
        start = match.end()
    pieces.append(line[start:].strip())
    return [p for p in pieces if p]


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
