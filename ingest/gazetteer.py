"""Gazetteer of the communes served: the Métropole Européenne de Lille (MEL) and Valenciennes Métropole (CAVM).

The list lives in ``ingest/data/communes.tsv`` (package data, read with ``importlib.resources``). The
communes of the rest of France are in ``ingest.france``, which matches them in questions around this one.

Matching works on *tokens*: runs of letters/digits, with a lowercase→uppercase step inside a run also
counted as a boundary, so the glued map labels of the 001 guide ("BaisieuxChéreng", "HellemmesLomme")
split into names. Every token is folded (case, accents, œ/æ ligatures; "st"→"saint", "ste"→"sainte",
"lez"→"les") and a name matches when the concatenation of consecutive folded tokens equals the
concatenation of the folded tokens of the name. Hyphens, spaces, apostrophes (' ’), dots and a single
line break between the tokens are therefore all equivalent, and may even be missing: "Villeneuve-d'Ascq",
"villeneuve d ascq" and "villeneuve dascq" are the same key. Matches are whole tokens only and the
longest match wins at each position, so "Loos-en-Gohelle" is not "Loos" and "Lys-lez-Lannoy" is not
"Lannoy".

The hand-written lists (scopes, other places, locative words, words that are not typos, street words)
are in ``ingest/data/gazetteer_phrases.tsv``, each row with its reason. Besides the communes, the
index holds two kinds of phrases that consume their tokens without yielding a
commune:

* metropolitan scopes: "Métropole Européenne de Lille", "Lille Métropole", "métropole lilloise", "MEL"
  (upper case only), "Valenciennes Métropole", "CAVM"… so the "Lille" inside them is not the commune;
* other places that contain a member's name: "Loos-en-Gohelle", "Marcq-en-Pévèle", "Croix-Rouge",
  "Comines-Warneton", "le Valenciennois"…

E-mail addresses and web addresses are masked before matching ("ethurin@mairie-lille.fr" is not Lille).

Names flagged ``cased`` in the table are also common words ("Don", "Croix", "Santes", "Salomé"): in
documents they match only when written with a capital; in questions, also in lower case right after a
locative word ("à", "de", "d'", "sur", "habitant"…).

``find`` is meant for document text (no typo tolerance). ``find_in_question`` also accepts one edit
(substitution, insertion, deletion or swap of two neighbours) on names of at least 7 letters, unless the
typed word is a French word that happens to be one edit away from a name ("réseau"/Préseau…).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ingest.text import fold
from ingest.tsv import data_rows

EPCI_CODES = ("MEL", "CAVM")
EPCI_NAMES = {"MEL": "Métropole Européenne de Lille", "CAVM": "Valenciennes Métropole"}

# The hand-written phrase lists (metropolitan scopes, other places, locative words, words that are not
# typos, street words) live in ``ingest/data/gazetteer_phrases.tsv``, each with its reason.
_OF = frozenset({"de", "d", "du", "des"})
_FUNCTION_WORDS = frozenset({"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "ou", "s", "sur", "y"})

_DEMONYM_SUFFIXES = ("", "e", "s", "es", "ne", "nes")
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
# Gap allowed between two tokens of one name: hyphens, spaces, apostrophes, dots, at most one line break.
_SEP = r"[ \t\u00a0\u2009\u202f\-\u2010\u2011\u2012\u2013'’`´.]*"
_GAP = re.compile(rf"{_SEP}(?:\n{_SEP})?")
# E-mail and web addresses are blanked out before matching.
_ADDRESS = re.compile(
    r"\S+@\S+|(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:fr|com|org|net|eu|be|info|io|asso|gouv)\b\S*",
    re.IGNORECASE,
)
_LABEL_PUNCT = frozenset(" \t\u00a0\u2009\u202f-\u2010\u2011\u2012\u2013'’`´.")
_CANON = {"st": "saint", "ste": "sainte", "lez": "les"}
_MIN_FUZZY_NAME = 7


@dataclass(frozen=True)
class Commune:
    """A commune of the MEL or of Valenciennes Métropole."""

    name: str  # official spelling
    epci: str  # "MEL" or "CAVM"
    variants: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()  # masculine singular, as listed in the table
    associated_with: str | None = None  # "Lille" for the communes associées (Hellemmes, Lomme)
    cased: bool = False  # the name is also a common word


@dataclass(frozen=True)
class Mention:
    """One match in a text. ``start``/``end`` are character offsets in the text given."""

    start: int
    end: int
    surface: str
    commune: Commune | None = None
    scope: str | None = None  # "MEL" or "CAVM" for a metropolitan phrase
    via: str = "name"  # name | variant | demonym | scope | other | fuzzy


@dataclass(frozen=True)
class _Entry:
    kind: str  # name | variant | demonym | scope | other
    commune: Commune | None = None
    scope: str | None = None
    cased: bool = False
    upper: bool = False  # acronym: the surface must be all upper case


@dataclass(frozen=True)
class Token:
    """A token of a text: its character span and its folded key ("St" -> "saint")."""

    start: int
    end: int
    key: str


@dataclass(frozen=True)
class Phrases:
    """The hand-written lists of ``ingest/data/gazetteer_phrases.tsv``: (value, extra) pairs by kind."""

    rows: tuple[tuple[str, str, str], ...]  # (kind, value, extra), in file order

    def pairs(self, kind: str) -> list[tuple[str, str]]:
        return [(value, extra) for k, value, extra in self.rows if k == kind]

    def values(self, kind: str) -> list[str]:
        return [value for k, value, _ in self.rows if k == kind]

    def words(self, kind: str) -> frozenset[str]:
        """Single folded words of a kind ("près" and "pres" are one)."""
        return frozenset(fold(value) for value in self.values(kind))


def parse_phrases(text: str) -> Phrases:
    """Parse ``gazetteer_phrases.tsv`` (kind, value, extra, note)."""
    rows: list[tuple[str, str, str]] = []
    for number, cells in data_rows(text, width=3):
        kind, value, extra = cells[:3]
        if not kind or not value:
            raise ValueError(f"gazetteer_phrases.tsv line {number}: expected kind<TAB>value[<TAB>extra<TAB>note], got {cells!r}")
        rows.append((kind, value, extra))
    return Phrases(tuple(rows))


@cache
def load_phrases() -> Phrases:
    """The packaged ``ingest/data/gazetteer_phrases.tsv`` (loaded once)."""
    return parse_phrases(resources.files("ingest").joinpath("data/gazetteer_phrases.tsv").read_text(encoding="utf-8"))


def _split_camel(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split text[start:end] where a lower-case letter is directly followed by an upper-case one."""
    # Most runs have no such step: no capital after the first letter, or no lower-case letter at all
    # (str.islower/isupper test the same character properties as the loop below, without the loop).
    if text[start + 1 : end].islower() or text[start:end].isupper():
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for i in range(start + 1, end):
        if text[i].isupper() and text[i - 1].islower():
            pieces.append((piece_start, i))
            piece_start = i
    pieces.append((piece_start, end))
    return pieces


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` (see the module docstring): letter/digit runs, split at a lower→upper step."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        for start, end in _split_camel(text, match.start(), match.end()):
            key = fold(text[start:end])
            tokens.append(Token(start, end, _CANON.get(key, key)))
    return tokens


# Texts whose tokens ``token_keys`` may read off the folded text at once: French letters (whose fold is letters),
# digits and separators only, with no lower-case letter directly followed by an upper-case one.
_PLAIN = re.compile(r"[A-Za-z0-9À-ÖØ-öø-ÿŒœ \t'’.\-()/]*")
_STEP = re.compile(r"[a-zß-öø-ÿœ][A-ZÀ-ÖØ-ÞŒ]")


def token_keys(text: str) -> list[str]:
    """The keys of ``tokenize(text)``, without their positions. The national table's 35,000 names are keyed at
    every process start (``ingest.france``): folding a plain name once and cutting it at its separators gives
    the same keys in a fifth of the time (``tests/test_france.py`` checks every name of the table)."""
    if _PLAIN.fullmatch(text) and not _STEP.search(text):
        return [_CANON.get(key, key) for key in _TOKEN.findall(fold(text))]
    return [token.key for token in tokenize(text)]


def joined(text: str, before: Token, after: Token) -> bool:
    """True when two tokens are close enough to be parts of one name (separators, at most one line break)."""
    return _GAP.fullmatch(text, before.end, after.start) is not None


def name_key(name: str) -> str:
    """The matching key of a name: folded tokens joined without separators ("villeneuvedascq")."""
    return "".join(token.key for token in tokenize(name))


def mask_addresses(text: str) -> str:
    """``text`` with its e-mail and web addresses blanked out (same length, so offsets hold)."""
    return _ADDRESS.sub(lambda m: " " * len(m.group()), text)


def osa_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by at most one substitution, insertion, deletion or adjacent swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]  # swap
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


class Gazetteer:
    """Finds the communes (and metropolitan scopes) mentioned in a text."""

    def __init__(self, communes: list[Commune], phrases: Phrases | None = None) -> None:
        phrases = phrases or load_phrases()
        self.communes: tuple[Commune, ...] = tuple(communes)
        self._locatives = phrases.words("locative")
        self._not_typos = phrases.words("not_typo")
        self._street_words = phrases.words("street_word")
        self._by_name = {c.name: c for c in communes}
        self._index: dict[str, _Entry] = {}
        self._key_tokens: dict[str, int] = {}
        self._max_tokens = 1
        for commune in communes:
            self._add(commune.name, _Entry("name", commune, cased=commune.cased))
            for variant in commune.variants:
                self._add(variant, _Entry("variant", commune, cased=commune.cased))
            for demonym in commune.demonyms:
                for suffix in _DEMONYM_SUFFIXES:
                    self._add(demonym + suffix, _Entry("demonym", commune), replace=False)
        for phrase, epci in phrases.pairs("scope_phrase"):
            self._add(phrase, _Entry("scope", scope=_epci_code(epci)))
        for acronym, epci in phrases.pairs("scope_acronym"):
            self._add(acronym, _Entry("scope", scope=_epci_code(epci), upper=True))
        for place in phrases.values("other_place"):
            self._add(place, _Entry("other"))
        for acronym in phrases.values("other_acronym"):
            self._add(acronym, _Entry("other", upper=True))
        self._fuzzy_keys = [
            (key, entry)
            for key, entry in self._index.items()
            if len(key) >= _MIN_FUZZY_NAME and not entry.cased and not entry.upper
        ]
        # Every prefix of a key: a span whose joined keys are no key's prefix cannot grow into a name, so
        # ``_match_exact`` stops there instead of trying the next tokens (most words of a document).
        self._prefixes = frozenset(key[:n] for key in self._index for n in range(1, len(key) + 1))
        # By first letter (a fuzzy match keeps it): every question word is tried against the keys, and scanning
        # all of them was a tenth of an answer's time.
        # And by length (a fuzzy match is one letter longer or shorter at most), with their order in the table.
        self._fuzzy_by_first: dict[tuple[str, int], list[tuple[int, str, _Entry]]] = {}
        for n, (key, entry) in enumerate(self._fuzzy_keys):
            self._fuzzy_by_first.setdefault((key[0], len(key)), []).append((n, key, entry))

    def _add(self, text: str, entry: _Entry, replace: bool = True) -> None:
        tokens = tokenize(text)
        key = "".join(t.key for t in tokens)
        if not key:
            raise ValueError(f"empty name in the gazetteer: {text!r}")
        existing = self._index.get(key)
        if existing is not None and existing != entry:
            same_commune = existing.commune is not None and existing.commune == entry.commune
            if same_commune or not replace:
                return  # e.g. a variant that folds to the official name, or a demonym inflection clash
            raise ValueError(f"ambiguous gazetteer key {key!r}: {text!r} and an earlier entry")
        self._index[key] = entry
        self._key_tokens[key] = len(tokens)
        self._max_tokens = max(self._max_tokens, len(tokens) + 2)

    # -- lookups ---------------------------------------------------------------------------------

    def get(self, name: str) -> Commune | None:
        """The commune named ``name`` (any spelling, variant or demonym), or None."""
        commune = self._by_name.get(name)
        if commune is not None:
            return commune
        entry = self._index.get(name_key(name))
        return entry.commune if entry is not None else None

    def epci_of(self, name: str) -> str | None:
        """ "MEL" or "CAVM" for a commune (any spelling) or a metropolitan phrase; None otherwise."""
        commune = self._by_name.get(name)
        if commune is not None:
            return commune.epci
        entry = self._index.get(name_key(name))
        if entry is None:
            return None
        if entry.commune is not None:
            return entry.commune.epci
        return entry.scope

    def members(self, epci: str) -> list[Commune]:
        """Member communes of an EPCI, communes associées excluded (95 for MEL, 35 for CAVM)."""
        return [c for c in self.communes if c.epci == epci and c.associated_with is None]

    # -- matching --------------------------------------------------------------------------------

    def mentions(self, text: str, *, question: bool = False) -> list[Mention]:
        """Every commune, scope or other place matched in ``text``, in order, longest match first."""
        masked = mask_addresses(text)
        tokens = tokenize(masked)
        found: list[Mention] = []
        i = 0
        while i < len(tokens):
            exact = self._match_exact(text, tokens, i, question)
            fuzzy = self._match_fuzzy(text, tokens, i) if question else None
            best = exact
            if fuzzy is not None and (exact is None or fuzzy[0] > exact[0]):
                best = fuzzy
            if best is None:
                i += 1
                continue
            last, entry, via = best
            start, end = tokens[i].start, tokens[last].end
            found.append(Mention(start, end, text[start:end], entry.commune, entry.scope, via))
            i = last + 1
        return found

    def find(self, text: str) -> list[Commune]:
        """Communes mentioned in document text, each once, in order of first appearance."""
        return _unique(m.commune for m in self.mentions(text))

    def find_in_question(self, text: str) -> list[Commune]:
        """Like ``find``, tolerant of one typo on names of at least 7 letters and of lower-case common-word names."""
        return _unique(m.commune for m in self.mentions(text, question=True))

    def scopes(self, text: str) -> list[str]:
        """EPCI codes of the metropolitan phrases in ``text`` ("MEL", "CAVM"), each once, in order."""
        seen: list[str] = []
        for mention in self.mentions(text):
            if mention.scope is not None and mention.scope not in seen:
                seen.append(mention.scope)
        return seen

    def is_label_line(self, line: str) -> bool:
        """True when ``line`` is made only of commune names (a map label line of the 001 guide).

        Names and variants only (no demonym, scope or other place); letters, spaces, hyphens,
        apostrophes and dots only ("Bruay-sur-l'Escaut)" in a list is not a label line).
        """
        if not all(c.isalpha() or c in _LABEL_PUNCT or unicodedata.combining(c) for c in line):
            return False
        tokens = tokenize(line)
        if not tokens:
            return False
        covered = 0
        for mention in self.mentions(line):
            if mention.commune is None or mention.via not in ("name", "variant"):
                return False
            covered += sum(1 for t in tokens if mention.start <= t.start and t.end <= mention.end)
        return covered == len(tokens)

    def _match_exact(self, text: str, tokens: list[Token], i: int, question: bool) -> tuple[int, _Entry, str] | None:
        best: tuple[int, _Entry, str] | None = None
        joined = ""
        for j in range(i, min(len(tokens), i + self._max_tokens)):
            if j > i and not _GAP.fullmatch(text, tokens[j - 1].end, tokens[j].start):
                break
            joined += tokens[j].key
            if joined not in self._prefixes:
                break
            entry = self._index.get(joined)
            if entry is not None and self._accept(entry, text, tokens, i, j, question):
                best = (j, entry, entry.kind)
        return best

    def _match_fuzzy(self, text: str, tokens: list[Token], i: int) -> tuple[int, _Entry, str] | None:
        """Longest span starting at token i that is one edit away from exactly one key of >= 7 letters.

        Guards: the first letter must be right; the span may have at most one token more than the
        name; it may not start or end with a function word the name does not start or end with
        ("Valenciennes Métropole a", "d'Haubourdin"); known French words are never corrected.
        """
        best: tuple[int, _Entry, str] | None = None
        joined = ""
        for j in range(i, min(len(tokens), i + 4)):
            if j > i and not _GAP.fullmatch(text, tokens[j - 1].end, tokens[j].start):
                break
            joined += tokens[j].key
            if len(joined) < _MIN_FUZZY_NAME - 1 or joined.isdigit() or joined in self._not_typos or joined in self._index:
                continue
            span = j - i + 1
            first, last = tokens[i].key, tokens[j].key
            near = [c for size in (-1, 0, 1) for c in self._fuzzy_by_first.get((joined[0], len(joined) + size), ())]
            matches = [
                (key, entry)
                for _, key, entry in sorted(near, key=lambda c: c[0])  # the table's order: matches[0] below
                if span <= self._key_tokens[key] + 1
                and (first not in _FUNCTION_WORDS or key.startswith(first))
                and (last not in _FUNCTION_WORDS or key.endswith(last))
                and osa_distance_at_most_one(joined, key)
            ]
            targets = {(e.commune.name if e.commune else None, e.scope, e.kind == "other") for _, e in matches}
            if len(targets) == 1:
                best = (j, matches[0][1], "fuzzy")
        return best

    def _accept(self, entry: _Entry, text: str, tokens: list[Token], i: int, j: int, question: bool) -> bool:
        surface = text[tokens[i].start : tokens[j].end]
        if entry.commune is not None and self.after_street_word(tokens, i):
            return False  # "rue de Lille", "Faubourg de Lille" (a quartier of Valenciennes) name a street or a quartier
        if entry.upper:
            return surface.isupper()
        if entry.cased and not surface[0].isupper():
            return question and i > 0 and tokens[i - 1].key in self._locatives
        return True

    def after_street_word(self, tokens: list[Token], i: int) -> bool:
        """True when tokens[i] follows "rue de", "avenue du", "Faubourg de"…: a street or a quartier."""
        return i >= 2 and tokens[i - 1].key in _OF and tokens[i - 2].key in self._street_words


def _epci_code(code: str) -> str:
    if code not in EPCI_CODES:
        raise ValueError(f"gazetteer_phrases.tsv: unknown epci {code!r} (expected MEL or CAVM)")
    return code


def _unique(communes: Iterable[Commune | None]) -> list[Commune]:
    seen: list[Commune] = []
    for commune in communes:
        if commune is not None and commune not in seen:
            seen.append(commune)
    return seen


def parse_table(text: str) -> list[Commune]:
    """Parse the communes table (see the header of ``ingest/data/communes.tsv``)."""
    communes: list[Commune] = []
    for number, cells in data_rows(text, width=6):
        name, epci, variants, demonyms, flags = cells[:5]
        if not name or not epci:
            raise ValueError(f"communes.tsv line {number}: expected name<TAB>epci[...], got {cells!r}")
        if epci not in EPCI_CODES:
            raise ValueError(f"communes.tsv line {number}: unknown epci {epci!r} (expected MEL or CAVM)")
        flag_set = {f.strip() for f in flags.split(",") if f.strip()}
        unknown = flag_set - {"associee", "cased"}
        if unknown:
            raise ValueError(f"communes.tsv line {number}: unknown flags {sorted(unknown)}")
        communes.append(
            Commune(
                name=name,
                epci=epci,
                variants=tuple(v.strip() for v in variants.split("|") if v.strip()),
                demonyms=tuple(d.strip() for d in demonyms.split("|") if d.strip()),
                associated_with="Lille" if "associee" in flag_set else None,
                cased="cased" in flag_set,
            )
        )
    return communes


@cache
def load_gazetteer() -> Gazetteer:
    """The gazetteer built from the packaged ``ingest/data/communes.tsv`` (loaded once)."""
    table = resources.files("ingest").joinpath("data/communes.tsv").read_text(encoding="utf-8")
    return Gazetteer(parse_table(table))
