"""Text repairs for PDF-extracted lines, applied BEFORE any Unicode normalisation.

Each repair is a small pure function over one line (or over the list of lines when it needs a
neighbour); ``repair_lines`` chains them and reports what changed. Every repair keeps the number
of lines: line ``i`` of the output is line ``i`` of the original file, because citations point
into the original file. Text only moves between lines in two cases: a word cut by a hyphen at a
line end (only the first token of the next line moves up), and a footnote, whose text is also
written, in brackets, where its number is glued to the text (the note itself stays where it is).

Why before normalisation: NFKC turns U+037E (GREEK QUESTION MARK, which stands for "(" in the
glyph-shifted file) into ";", and stripping combining marks deletes U+035B (which stands for the
apostrophe). See ``docs/data-quality.md`` for the problems and their line numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

from ingest.text import CONTACT_HINT, EMAIL_ASCII

# --- 1. Glyph-shift mojibake -------------------------------------------------------------------

# One subset-embedded font without a usable ToUnicode map shifts letters to fixed wrong code points
# (docs/data-quality.md §1, each mapping checked on the real file).
_GLYPH_TABLE: dict[str, str] = {
    "\u0176": "n",  # Ŷ
    "\u018c": "r",  # ƌ
    "\u0110": "c",  # Đ
    "\u0175": "m",  # ŵ
    "\u0120": "é",  # Ġ
    "\u035b": "’",  # combining zigzag above
    "\u035a": "’",  # combining double ring below
    "\u010f": "b",  # ď
    "\u018b": "q",  # Ƌ
    "\u01c6": "x",  # ǆ
    "\u01c7": "y",  # Ǉ
    "\u011f": "è",  # ğ
    "\u0121": "ê",  # ġ
    "\u037e": "(",  # GREEK QUESTION MARK
    "\u037f": ")",  # GREEK CAPITAL LETTER YOT
    **{chr(0x03EC + digit): str(digit) for digit in range(10)},  # Ϭ ϭ Ϯ ϯ ϰ ϱ ϲ ϳ ϴ ϵ -> 0..9
}
# "‘" is a genuine left quote elsewhere, so it is only remapped on lines that carry the signature below
# (like ")", handled apart because it needs its right-hand context).
_CONTEXTUAL_TABLE: dict[str, str] = {"\u2018": "R"}
# Every key of the table never occurs in French text, so a single one is a reliable signature.
# A higher threshold would miss real cases: in file 003, 8 garbled lines carry exactly one such
# character (e.g. "– sujets d’aĐtu.", "l’atelier auprğs des", and "20ϭϵ" where half the digits are clean).
_GLYPH_SIGNATURE = frozenset(_GLYPH_TABLE)
_GLYPH_TRANSLATION = str.maketrans({**_GLYPH_TABLE, **_CONTEXTUAL_TABLE})
# ")" stands for "Z" only inside a word: directly followed by a lowercase or a shifted letter (")oŶe" -> "Zone");
# the file's 72 ordinary ")" are followed by a space, a punctuation mark or the line end.
_SHIFTED_LETTERS = frozenset(k for k, v in _GLYPH_TABLE.items() if v.isalpha())
_PAREN_BEFORE = re.compile(r"\)(?=(.))")


def _paren_or_z(match: re.Match[str]) -> str:
    following = match[1]
    return "Z" if following.islower() or following in _SHIFTED_LETTERS else ")"


def has_glyph_shift(line: str) -> bool:
    """True when ``line`` carries at least one character of the glyph-shift signature."""
    return not _GLYPH_SIGNATURE.isdisjoint(line)


def fix_glyph_shift(line: str) -> str:
    """Undo the glyph-shift mojibake on a garbled line; any other line is returned unchanged."""
    if not has_glyph_shift(line):
        return line
    # The ")" rule looks at the shifted letters, so it runs before the table.
    return _PAREN_BEFORE.sub(_paren_or_z, line).translate(_GLYPH_TRANSLATION)


# --- 2. Replacement characters and glyph bullets ---------------------------------------------------

_GLYPH_BULLETS = "•▪►▶✓❑❖●✂"
# U+FFFD and Private-Use-Area symbols (Symbol/Wingdings bullets: U+F0B7, U+F0A7, U+F0FC, U+F0D8 ...).
_JUNK = "\ufffd\ue000-\uf8ff"
_BULLET_CHARS = f"{_GLYPH_BULLETS}{_JUNK}"
# Leading indentation, an optional existing "-" marker, then a run of bullet glyphs / junk and spaces.
_LEADING_BULLET = re.compile(rf"^(?P<indent>[ \t]*)(?:-[ \t]*)?[{_BULLET_CHARS}][{_BULLET_CHARS} \t]*")
_ANY_BULLET = re.compile(rf"[{_BULLET_CHARS}]+")


def strip_replacement_and_bullets(line: str) -> str:
    """Turn a leading bullet glyph (with its U+FFFD / PUA debris) into "- "; drop such characters elsewhere.

    A line that already had a "-" marker before the glyph ("- ✓ Renforcer") keeps a single marker.
    """
    match = _LEADING_BULLET.match(line)
    if match is None:
        return _ANY_BULLET.sub("", line)
    rest = _ANY_BULLET.sub("", line[match.end() :])
    # A bullet with nothing after it (its text is on the next line) still marks a list item.
    return f"{match['indent']}- {rest}" if rest.strip() else f"{match['indent']}-"


# --- 3. Markup leftovers (Markdown, LaTeX, HTML) --------------------------------------------------------

_BOLD = re.compile(r"\*\*")
# A single "*" touching a word on one side only (or inside a word) is emphasis: "*Unis*Cité", "Roubaisienne*".
# A "*" with spaces on both sides ("- * Créer", "* Extraction des données") is a bullet or a note mark: kept.
_EMPHASIS = re.compile(r"(?<=\S)\*|\*(?=\S)")
_SUPERSCRIPT = re.compile(r"[ \t]*\^\{([^{}]*)\}")
# Paragraph / line / list-item tags inside a flattened table cell. Between two pieces of text they
# become a visible separator, because the next stage splits cells that pack several dispositifs
# (002 l.293) on these boundaries and a line must stay a line (citations); " ; " reads as a list
# separator in French. At the edge of a cell or of the line they simply vanish.
_BLOCK_TAGS = re.compile(r" *(?:</?(?:p|li|br|ul|ol|div)\b[^<>]*> *)+", re.I)
_INLINE_TAGS = re.compile(r"</?(?:u|b|i|em|strong|span|font|sup|sub)\b[^<>]*>", re.I)
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+|mailto:[^<>\s]+)>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&apos;": "'", "&nbsp;": "\u00a0"}
_ENTITY = re.compile("|".join(map(re.escape, _ENTITIES)))


def _block_boundary(match: re.Match[str]) -> str:
    before = match.string[: match.start()]
    after = match.string[match.end() :]
    if not before.strip() or before.endswith("\t") or not after.strip() or after.startswith("\t"):
        return ""
    # " ; " reads as a list separator; after a sentence end or before a "- " item a space is enough.
    return " " if before.rstrip()[-1] in ".;:!?" or after.lstrip().startswith("-") else " ; "


def strip_markup(line: str) -> str:
    """Remove Markdown emphasis, LaTeX superscripts, HTML tags and entities; keep the words."""
    if not any(c in line for c in "*^<&"):
        return line  # every pattern below needs one of these characters; most lines have none
    text = _BOLD.sub("", line)
    text = _EMPHASIS.sub("", text)
    text = _SUPERSCRIPT.sub(r"\1", text)  # "4 ^{ème}" -> "4ème", "1^{er}" -> "1er"
    text = _AUTOLINK.sub(r"\1", text)
    text = _INLINE_TAGS.sub("", text)
    text = _BLOCK_TAGS.sub(_block_boundary, text)
    return _ENTITY.sub(lambda m: _ENTITIES[m.group()], text)


# --- 4. Spaces ----------------------------------------------------------------------------------

# Thin, narrow no-break, no-break and other fixed-width spaces break regexes on ages ("16 - 17 ANS").
_ODD_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INNER_RUN = re.compile(r"(?<=\S) {2,}(?=\S)")


def normalise_spaces(line: str) -> str:
    """Map exotic spaces to " " and collapse runs of spaces between words.

    Leading and trailing whitespace is kept (a leading space marks a lost icon in 001), and tabs
    are kept (they separate table cells).
    """
    return _INNER_RUN.sub(" ", _ODD_SPACES.sub(" ", line))


# --- 5. Letter-spaced words -----------------------------------------------------------------------

_LETTERS = r"[^\W\d_]"
_WORD = re.compile(rf"{_LETTERS}+(?:-{_LETTERS}+)*")
_ELISION = re.compile(r"^[«(\"'“]*(?:(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])['’])?", re.I)
_TRAILING_PUNCT = ".,;:!?)»\"'”…"
_ONLY_LETTERS = re.compile(rf"{_LETTERS}+")
# Genuine one-letter French words: never a fragment on their own.
_ONE_LETTER_WORDS = frozenset("aàyô")
# "I l est" / "I ls ont": the only join that is safe without a vocabulary.
_SPLIT_IL = re.compile(r"(?<![\w’'])I (ls?)(?=\s+[a-zàâçéèêëîïôûùüÿœ])")
_ACCENTED = {"e": "éèêë", "a": "àâ", "i": "îï", "o": "ô", "u": "ùûü", "E": "ÉÈÊ", "A": "ÀÂ", "I": "Î", "O": "Ô", "U": "Û"}
_MAX_RUN = 5  # "na î t re" has 4 pieces; longer runs are not letter-spacing


def build_vocabulary(documents: Iterable[Iterable[str]], min_count: int = 2) -> set[str]:
    """Lower-cased words (and hyphenated compounds) seen at least ``min_count`` times in ``documents``.

    Lines are glyph-repaired first so file 003 contributes real words. ``min_count=2`` keeps out
    most one-off fragments of letter-spaced or hyphen-cut words ("imentat", "iques"). Words in
    capitals are skipped: titles drop their accents ("DEVELOPPEMENT"), which would make unaccented
    spellings look like words.
    """
    counts: Counter[str] = Counter()
    for lines in documents:
        for line in lines:
            for match in _WORD.finditer(fix_glyph_shift(line)):
                if match.group().isupper():
                    continue
                word = match.group().lower()
                counts[word] += 1
                if "-" in word:
                    counts.update(word.split("-"))
    return {word for word, count in counts.items() if count >= min_count and len(word) > 1}


def _is_fragment(piece: str, vocabulary: set[str]) -> bool:
    if len(piece) == 1:
        return piece.lower() not in _ONE_LETTER_WORDS
    return piece.lower() not in vocabulary


def _joined_word(pieces: list[str], vocabulary: set[str]) -> str | None:
    """The word ``pieces`` spell once glued, if the vocabulary knows it; else None."""
    joined = "".join(pieces)
    # First an accented letter extracted as its base letter plus a space ("nume rique", "e conomique"):
    # the accented spelling is the standard one when both exist.
    cut = 0
    for piece in pieces[:-1]:
        cut += len(piece)
        for accented in _ACCENTED.get(joined[cut - 1], ""):
            candidate = joined[: cut - 1] + accented + joined[cut:]
            if candidate.lower() in vocabulary:
                return candidate
    return joined if joined.lower() in vocabulary else None


def fix_letter_spacing(line: str, vocabulary: set[str]) -> str:
    """Join letter-spaced pieces of a word ("expér imentat ion" -> "expérimentation").

    Conservative: a run of 2 to 5 pieces is joined only when the result is a vocabulary word, NO
    piece is a vocabulary word itself, and every piece after the first starts in lowercase. Allowing
    one real word among the pieces would repair "De partemental" (003 l.511) but also turn
    "de placement" (002 l.278) into "déplacement": the two cannot be told apart without a full
    dictionary. With an empty vocabulary only "I l" -> "Il" is repaired.
    """
    line = _SPLIT_IL.sub(r"I\1", line)
    if not vocabulary:
        return line
    tokens = list(re.finditer(r"\S+", line))
    out: list[str] = []
    position = 0
    i = 0
    while i < len(tokens):
        replacement = _letter_spaced_run(tokens, i, vocabulary)
        if replacement is None:
            i += 1
            continue
        end, text = replacement
        out.append(line[position : tokens[i].start()] + text)
        position = tokens[end].end()
        i = end + 1
    out.append(line[position:])
    return "".join(out)


def _letter_spaced_run(tokens: list[re.Match[str]], start: int, vocabulary: set[str]) -> tuple[int, str] | None:
    """(index of the last token, replacement text) for the longest joinable run starting at ``start``."""
    first = tokens[start].group()
    prefix = _ELISION.match(first)
    head = first[prefix.end() :] if prefix else first
    if not _ONLY_LETTERS.fullmatch(head) or not _is_fragment(head, vocabulary):
        return None  # (the head is every run's first piece: a known word ends them all; most words are)
    lead = first[: len(first) - len(head)]
    for end in range(min(start + _MAX_RUN, len(tokens)) - 1, start, -1):
        pieces = [head]
        suffix = ""
        for k in range(start + 1, end + 1):
            token = tokens[k].group()
            core = token
            if k == end:
                core = token.rstrip(_TRAILING_PUNCT)
                suffix = token[len(core) :]
            if not core or not _ONLY_LETTERS.fullmatch(core) or not core[0].islower():
                break
            pieces.append(core)
        else:
            if all(_is_fragment(piece, vocabulary) for piece in pieces):
                word = _joined_word(pieces, vocabulary)
                if word is not None:
                    return end, lead + word + suffix
    return None


# --- 6. Words cut by a hyphen at a line end ---------------------------------------------------------------

_CUT_AT_END = re.compile(r"(?P<left>(?<!\S)\S*[^\W\d_])-[ \t]*$")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
# Continuations that make a place-name compound: Lys-lez-Lannoy, Mons-en-Barœul, Villeneuve-d'Ascq.
_PARTICLES = frozenset({"lez", "lès", "les", "le", "la", "en", "sur", "sous", "de", "du", "des", "aux", "au", "saint", "sainte"})
_ELIDED_PARTICLE = re.compile(r"^d['’]", re.I)
# Prefixes French writes with a hyphen ("co-construire", "non-recours"): the hyphen is real.
_HYPHEN_PREFIXES = frozenset({"co", "ex", "non", "mi", "demi", "semi", "quasi", "vice", "néo", "pseudo", "après", "avant"})
_MAX_BLANKS = 2  # 003 is double-spaced: the continuation can sit after one or two blank lines


def _keeps_hyphen(left: str, fragment: str, vocabulary: set[str]) -> bool:
    """Decide whether ``left``-``fragment`` is a real compound (True) or one word cut in two (False)."""
    word = _ONLY_LETTERS.match(fragment)
    head = word.group().lower() if word else ""
    stem = _ELISION.sub("", left).split("-")[-1].lower()
    if vocabulary:
        if f"{stem}-{head}" in vocabulary:
            return True
        if stem + head in vocabulary:
            return False
    if "-" in fragment or _ELIDED_PARTICLE.match(fragment) or head in _PARTICLES:
        return True
    return stem in _HYPHEN_PREFIXES


def join_hyphenated(lines: list[str], vocabulary: set[str] | None = None) -> list[str]:
    """Re-join words cut by a hyphen at a line end, keeping every line in place.

    When line ``i`` ends with "xxx-" and the next non-blank line (at most two blank lines further)
    starts with a lowercase letter, its first token moves up to the end of line ``i``: without the
    hyphen for an ordinary cut or an e-mail / URL ("c.descamps@competencesetem-" + "plois.org"),
    and nothing moves for a real compound ("Fresnes-" + "sur-Escaut", "co-" + "construire"), so a
    compound is left exactly as extracted.
    """
    out = list(lines)
    vocab = vocabulary or set()
    i = 0
    while i < len(out):
        if not _join_next(out, i, vocab):
            i += 1
        # else: look at line i again, in case the moved token itself ends with a hyphen
    return out


def _join_next(out: list[str], i: int, vocab: set[str]) -> bool:
    """Join line ``i`` with the start of the next non-blank line, in place; True when something moved."""
    match = _CUT_AT_END.search(out[i])
    if match is None:
        return False
    nxt = next((j for j in range(i + 1, min(i + 2 + _MAX_BLANKS, len(out))) if out[j].strip()), None)
    if nxt is None:
        return False
    body = out[nxt].lstrip()
    fragment = body.split(maxsplit=1)[0]
    if not fragment[0].islower():
        return False
    left = match["left"]
    glued = (left + fragment).strip(_TRAILING_PUNCT + "(«")
    is_address = bool(EMAIL_ASCII.fullmatch(glued) or _URL.match(glued))
    if not is_address and _keeps_hyphen(left, fragment, vocab):
        return False
    indent = out[nxt][: len(out[nxt]) - len(body)]
    rest = body[len(fragment) :].lstrip()
    out[i] = out[i][: match.end("left")] + fragment
    out[nxt] = indent + rest if rest else ""
    return True


# --- 7. Repeated banners (running page headers) --------------------------------------------------------

_MIN_BANNER_CHARS = 10
_MIN_BANNER_REPEATS = 3
_MIN_TITLE_WORDS = 5
_TITLE_WORD = re.compile(rf"{_LETTERS}{{2,}}")
# Contacts repeat too (one person on several cards, then in the directory) and must never be dropped.


def _banner_key(line: str) -> str:
    return " ".join(line.split())


def _banner_candidates(lines: list[str]) -> set[str]:
    """Keys of lines that could belong to a banner: long enough, repeated, not prose, not a contact."""
    counts = Counter(_banner_key(line) for line in lines if line.strip())
    # A line followed directly by a lowercase start is wrapped prose (001: "Dans le cadre du projet
    # «Investir dans les" / "jeunesses de la ..."), however often the boilerplate repeats.
    prose = {_banner_key(line) for line, following in pairwise(lines) if following[:1].islower()}
    return {
        key
        for key, n in counts.items()
        if n >= _MIN_BANNER_REPEATS
        and len(key) >= _MIN_BANNER_CHARS
        and key not in prose
        and not key[0].islower()
        and not CONTACT_HINT.search(key)
    }


def banner_line_numbers(lines: list[str]) -> set[int]:
    """1-based numbers of the lines that belong to a running banner (a repeated page header).

    A banner is a block of at least two non-blank lines (blank lines between them allowed) that
    always come together, in the same order, at least 3 times, with a blank line (or the file
    edge) around every occurrence; each of its lines has at least 10 characters and one reads
    like a title (5 words or more). These rules keep content that merely repeats: map labels
    (single names), card headings ("POUR EN SAVOIR PLUS" precedes a different contact each time),
    contacts (e-mails, phones) and boilerplate sentences wrapped over several lines.
    """
    candidate = _banner_candidates(lines)
    filled = [(number, _banner_key(line)) for number, line in enumerate(lines, start=1) if line.strip()]
    counts = Counter(key for _, key in filled)
    pairs = Counter((a, b) for (_, a), (_, b) in pairwise(filled) if a in candidate and b in candidate)
    # "Always together": every occurrence of a is followed by b, and every b is preceded by a.
    bonded = {(a, b) for (a, b), n in pairs.items() if a != b and n == counts[a] == counts[b]}

    blocks: list[list[tuple[int, str]]] = [filled[:1]] if filled else []
    for previous, current in pairwise(filled):
        if (previous[1], current[1]) in bonded:
            blocks[-1].append(current)
        else:
            blocks.append([current])

    def isolated(block: list[tuple[int, str]]) -> bool:
        before, after = block[0][0] - 2, block[-1][0]  # 0-based indexes of the neighbouring lines
        return (before < 0 or not lines[before].strip()) and (after >= len(lines) or not lines[after].strip())

    by_keys: dict[tuple[str, ...], list[list[tuple[int, str]]]] = {}
    for block in blocks:
        if len(block) >= 2:
            by_keys.setdefault(tuple(key for _, key in block), []).append(block)
    banners: set[int] = set()
    for keys, occurrences in by_keys.items():
        titled = any(len(_TITLE_WORD.findall(key)) >= _MIN_TITLE_WORDS for key in keys)
        if titled and len(occurrences) >= _MIN_BANNER_REPEATS and all(map(isolated, occurrences)):
            banners.update(number for block in occurrences for number, _ in block)
    return banners


def drop_repeated_banners(lines: list[str]) -> list[str]:
    """Blank (replace by "") the lines of repeated banners; see ``banner_line_numbers``."""
    banners = banner_line_numbers(lines)
    return ["" if number in banners else line for number, line in enumerate(lines, start=1)]


# --- 8. Footnotes -----------------------------------------------------------------------------------

# A page's footnotes start under a rule the extraction turned into a line of spaces (003 l.1059, 1248,
# 1304, 2570); each note is its number, then its text ("2 Organisé par l'Office de Tourisme …"), on one
# line or the next.
_NOTE_RULE = re.compile(r"^[ \t]{30,}$")
_NOTE_START = re.compile(r"^\s*(?P<n>\d{1,2})(?:\s+(?P<text>\S.*?))?\s*$")
# The number glued to the word (or, in the glyph-shifted text, to the shifted year: "ϮϬϮϬ2" is 2020 and
# note 2) it annotates, before a space, a punctuation mark or the line's end.
_MARKER = r"(?<=[^\W\d_]){n}(?=[\s,.;:)»]|$)"
_NOTE_ABOVE = 60  # lines above the rule a note's number may be on (its page)
_NOTE_BELOW = 12  # and below it (a table's header under the notes)
_NOTE_GAP = 8  # blank lines a note block may hold after its rule


def _notes_under(lines: list[str], rule: int) -> list[tuple[str, str]]:
    """The notes (number, text) under the rule at index ``rule``: each runs to a blank line, a list item or a
    line after a full stop."""
    notes: list[tuple[str, str]] = []

    def filled(i: int) -> int:  # the next line from ``i`` with text (or past the block's blank lines)
        while i < len(lines) and not lines[i].strip() and i - rule < _NOTE_GAP:
            i += 1
        return i

    i = rule + 1
    while i < len(lines):
        i = filled(i)
        start = _NOTE_START.match(lines[i]) if i < len(lines) else None
        if start is None:
            break
        number, text = start["n"], [start["text"]] if start["text"] else []
        i += 1
        if not text:  # "1" alone, its text on the next line
            i = filled(i)
            if i >= len(lines) or _NOTE_START.match(lines[i]):
                break
            text, i = [lines[i].strip()], i + 1
        while (
            i < len(lines) and lines[i].strip() and not text[-1].endswith(".") and not re.match(r"\s*[-\ue000-\uf8ff•]", lines[i])
        ):
            text, i = [*text, lines[i].strip()], i + 1
        notes.append((number, " ".join(" ".join(text).split())))
    return notes


def inline_footnotes(lines: list[str]) -> list[str]:
    """Write each footnote's text in brackets where its number is glued to the text: "Made in Valenciennes
    ϮϬϮϬ2 et" -> "Made in Valenciennes ϮϬϮϬ (note 2 : Organisé par l'Office de Tourisme … (36 entreprises
    partenaires en 2019).) et". A note is read with what it annotates, not wherever the page broke; a number
    no word nearby carries is left alone (nothing is guessed)."""
    out = list(lines)
    for rule, line in enumerate(lines):
        if not _NOTE_RULE.match(line):
            continue
        for number, text in _notes_under(lines, rule):
            marker = re.compile(_MARKER.format(n=number))
            above = range(rule - 1, max(-1, rule - _NOTE_ABOVE), -1)
            below = range(rule + 1, min(len(lines), rule + _NOTE_BELOW))
            found = next(
                ((k, m) for k in [*above, *below] if (m := marker.search(out[k])) and not _NOTE_START.match(out[k])), None
            )
            if found is not None:
                k, m = found
                out[k] = f"{out[k][: m.start()]} (note {number} : {fix_glyph_shift(text)}){out[k][m.end() :]}"
    return out


# --- Entry point ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairReport:
    """What ``repair_lines`` changed."""

    repaired_lines: int  # lines changed by any repair
    counts: dict[str, int]  # per repair name, number of lines it changed


def _per_line(repair: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    return lambda lines: [repair(line) for line in lines]


def repair_lines(lines: list[str], vocabulary: set[str] | None = None) -> tuple[list[str], RepairReport]:
    """Return repaired lines, SAME LENGTH as the input (line i of the output is line i of the original file).

    ``vocabulary`` (see ``build_vocabulary``) enables the letter-spacing joins and sharpens the
    hyphen decisions; without it only the safe rules run.
    """
    vocab = vocabulary or set()
    # Order matters: footnotes and the glyph table first (they need the raw code points), then per-line cleaning,
    # then joins that read the cleaned text, and banners last so their lines compare cleanly.
    steps: list[tuple[str, Callable[[list[str]], list[str]]]] = [
        ("footnotes", inline_footnotes),  # on the raw lines: a note's number is the ASCII digit after a shifted glyph
        ("glyph_shift", _per_line(fix_glyph_shift)),
        ("bullets", _per_line(strip_replacement_and_bullets)),
        ("markup", _per_line(strip_markup)),
        ("letter_spacing", _per_line(lambda line: fix_letter_spacing(line, vocab))),
        ("spaces", _per_line(normalise_spaces)),
        ("hyphenation", lambda current: join_hyphenated(current, vocab)),
        ("banners", drop_repeated_banners),
    ]
    counts: dict[str, int] = {}
    current = list(lines)
    for name, step in steps:
        repaired = step(current)
        if len(repaired) != len(current):  # a broken repair must never shift citations
            raise AssertionError(f"repair {name} changed the number of lines")
        counts[name] = sum(a != b for a, b in zip(current, repaired, strict=True))
        current = repaired
    changed = sum(a != b for a, b in zip(lines, current, strict=True))
    return current, RepairReport(repaired_lines=changed, counts=counts)
