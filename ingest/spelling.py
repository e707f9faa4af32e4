"""Misspelt words of a question mended toward the words of the domain vocabulary: "cherche une formaton dans
le batimen, pas de logemen" is read as "formation", "batiment", "logement".

Counsellors typing from a phone drop final letters and slip a key; the synonym table (``synonyms.tsv``)
then misses the need, and the question reads as a person with nothing asked. Only a word that is no French
word at all is mended (the lexicon is the French word-frequency list of ``pyspellchecker``), only in lower
case (a capitalised word may be a name: "Booster", "Connect'Emploi"), and only toward a single word of the
table's triggers: at one edit (a letter dropped, added, swapped or changed) before its last two letters,
or cut short of its last letters. A word that a trigger already matches ("décrocheur" for "decroch*") is left as typed.
"""

from __future__ import annotations

import bisect
import re
from functools import cache

from ingest.text import fold_words, one_edit
from ingest.vocabulary import load_concepts

_MIN = 5  # shorter words have too many neighbours ("taf", "kiff" are the texting table's)
_CUT = 3  # letters a word may lose at its end ("logemen", "formatio", "apprentiss")
_WORD = re.compile(rf"(?<![\w'’-])[a-zà-ÿœæ]{{{_MIN},}}(?![\w'’-])")


@cache
def _targets() -> tuple[frozenset[str], tuple[str, ...]]:
    """The whole words of the synonym table's triggers, and its stems (a trigger ending in ``*``)."""
    words: set[str] = set()
    stems: set[str] = set()
    for concept in load_concepts():
        for trigger in concept.written:
            for token in re.findall(r"[^\s…()/]+", trigger):
                if token.endswith("*"):
                    stems.add(fold_words(token[:-1]))
                else:
                    words.update(w for w in fold_words(token).split() if len(w) >= _MIN and w.isalpha())
    return frozenset(words), tuple(sorted(s for s in stems if s))


@cache
def _by_ending() -> dict[str, tuple[str, ...]]:
    """The trigger words by their last two letters (an edit that spares the ending keeps them): ``mend`` tries
    a word against these instead of all of them, for every word of every question."""
    by_ending: dict[str, list[str]] = {}
    for word in _targets()[0]:
        by_ending.setdefault(word[-2:], []).append(word)
    return {ending: tuple(words) for ending, words in by_ending.items()}


@cache
def _ordered() -> tuple[str, ...]:
    """The trigger words in order, for the words a question's word begins (``bisect``)."""
    return tuple(sorted(_targets()[0]))


@cache
def _lexicon() -> frozenset[str]:
    """French words, folded (accents off): a word found here is never mended."""
    from spellchecker import SpellChecker  # 140k words, 0.6 s: only when a word is one edit from the vocabulary

    return frozenset(fold_words(w) for w in SpellChecker(language="fr").word_frequency.dictionary)


def mend(word: str) -> str | None:
    """The trigger word ``word`` (lower case, folded) stands for, or None: known, matched already, or no single
    word near it."""
    words, stems = _targets()
    if len(word) < _MIN or word in words or any(word.startswith(s) for s in stems):
        return None
    # The edit spares the ending, which carries the grammar ("financeur" is no "financer"); a word cut short
    # keeps two thirds of its letters at least ("perso" is no "personne").
    near = {w for w in _by_ending().get(word[-2:], ()) if one_edit(word, w)}
    ordered = _ordered()
    at = bisect.bisect_left(ordered, word)  # the words that start with ``word`` follow it in order
    while at < len(ordered) and ordered[at].startswith(word):
        if len(ordered[at]) - len(word) <= min(_CUT, len(word) // 3):
            near.add(ordered[at])
        at += 1
    # A word and its plural are one ("formatio": "formation", "formations"): the singular stands for both.
    singular = {w for w in near if not (w[-1] in "sx" and w[:-1] in near)}
    if len(singular) != 1:
        return None
    # Only now the lexicon (loaded once, on the first near miss; most questions never need it): a French word,
    # or a plural whose singular is one, is what was meant.
    if word in _lexicon() or (word[-1] in "sx" and (word[:-1] in words or word[:-1] in _lexicon())):
        return None
    return singular.pop()


def mended(text: str) -> str:
    """``text`` with its misspelt vocabulary words mended (unchanged when none is)."""

    mends = {m.span(): near for m in _WORD.finditer(text) if (near := mend(fold_words(m.group(0))))}
    if not mends:
        return text
    # A place typed in lower case ("lomme", "conde") is a place, never a misspelt word ("homme", "conge"):
    # the words the place reader finds in the text are kept.
    from ingest.france import load_france

    places = {w for p in load_france().find_places(text) for w in fold_words(p.surface or p.name).split()}
    for (start, end), near in sorted(mends.items(), reverse=True):
        if fold_words(text[start:end]) not in places:
            text = text[:start] + near + text[end:]
    return text
