"""Texting spellings written out: "g 1 jeune de 17a ki a lach l'ecole, ya koi pr lui" is read as
"j'ai un jeune de 17 ans qui a lach l'ecole, il y a quoi pour lui".

Counsellors type between two appointments, often from a phone. Every later reading (the young person's age
and commune, the need, the kind of question, the lexical search) is written for French as the documents
write it; one rewrite here, from the table ``ingest/data/texting.tsv``, serves them all instead of each
learning the shorthand. Only tokens that are not French words are rewritten, so a question written out
passes through unchanged.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from ingest.spelling import mended
from ingest.tsv import data_rows
from ingest.vocabulary import english_words

# An age typed as "17a" (no space): "17 ans"; "17a" is no other French word.
_AGE = re.compile(r"\b(\d{1,2})a\b(?!['’])")
# "1 jeune", "1 taf": the article; "1 000", "1 h", "1er" stay.
_ONE = re.compile(r"(?<![\w,.])1\s+(?=[^\W\d_]{2,})")
# "jcherche", "jdois", "jhabite": "je cherche", … (no French word starts with a j and a consonant).
_JE = re.compile(r"(?<![\w'’-])j(?=[bcdfgklmnpqrstvwxz][^\W\d_]{2,})", re.IGNORECASE)
_J_H = re.compile(r"(?<![\w'’-])j(?=h[^\W\d_]{2,})", re.IGNORECASE)
# A token is a whole word: no letter, digit, apostrophe or hyphen glued before or after it.
_EDGE_BEFORE = r"(?<![\w'’-])"
_EDGE_AFTER = r"(?![\w'’-])"


@cache
def _table() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(the shorthand casefolded, its pattern, its written form), in table order."""
    text = resources.files("ingest").joinpath("data/texting.tsv").read_text(encoding="utf-8")
    rows = []
    for number, cells in data_rows(text, width=2):
        shorts, full = [s.strip() for s in cells[0].split("|") if s.strip()], cells[1]
        if not shorts or not full:
            raise ValueError(f"ingest/data/texting.tsv, ligne {number} : il faut un mot abrégé et sa forme écrite.")
        for short in shorts:
            # One letter ("c", "g") only in lower case: "C" and "G" are labels ("annexe C", "4G").
            flags = 0 if len(short) == 1 else re.IGNORECASE
            rows.append((short.casefold(), re.compile(_EDGE_BEFORE + re.escape(short) + _EDGE_AFTER, flags), full))
    return tuple(rows)


def written_out(text: str) -> str:
    """``text`` with its texting shorthand replaced by the words it stands for (unchanged otherwise).

    An English question passes unchanged: its "1 year" is no "un" and the table is French shorthand."""
    if english_words(text):
        return text
    text = _AGE.sub(r"\1 ans", text)
    text = _ONE.sub("un ", text)
    text = _J_H.sub("j'", _JE.sub("je ", text))
    # A shorthand absent from the text (casefolded, as its pattern matches) is not searched for: of the table's
    # two hundred patterns a question holds none or one or two, and running them all was 2 ms of its reading.
    folded = text.casefold()
    for short, pattern, full in _table():
        if short in folded and (changed := pattern.sub(full, text)) != text:
            text, folded = changed, changed.casefold()
    return mended(text)
