"""The domain vocabulary of youth counselling (``ingest/data/synonyms.tsv``): situations and needs.

Questions are read with it (``index.query``: the young person's situations and needs) and so are the
actions (``ingest.catalogue``: the situations an action is for and its themes), so a question's
"décrocheur" and an action's "décrochage scolaire" meet on one key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from ingest.text import fold_words
from ingest.tsv import data_rows


@dataclass(frozen=True)
class Concept:
    """A situation or need of the synonym table."""

    key: str
    kind: str  # "situation" or "need"
    triggers: tuple[re.Pattern[str], ...]
    expansions: tuple[str, ...]
    label: str = ""  # accented French, as shown to a counsellor ("décrochage scolaire")
    # Concepts this one's words hold without meaning them: "sorti du lycée" is a dropout, not a lycéen.
    silences: tuple[str, ...] = ()
    written: tuple[str, ...] = ()  # the triggers as the table writes them ("decroch*", "sorti* … lycee")


@cache
def load_concepts() -> tuple[Concept, ...]:
    """The synonym table ``ingest/data/synonyms.tsv``."""
    table = resources.files("ingest").joinpath("data/synonyms.tsv").read_text(encoding="utf-8")
    concepts = []
    for _number, cells in data_rows(table, width=6):
        key, kind, triggers, expansions, label, silences = cells[:6]
        patterns = tuple(_trigger(t) for t in triggers.split("|") if t.strip())
        concepts.append(
            Concept(
                key,
                kind,
                patterns,
                tuple(e for e in expansions.split("|") if e.strip()),
                label or key,
                tuple(k for k in silences.split("|") if k.strip()),
                tuple(t.strip() for t in triggers.split("|") if t.strip()),
            )
        )
    return tuple(concepts)


# "il n'est pas étudiant", "elle n'a jamais été en QPV": a situation denied just before its word is not hers.
_NEGATED = re.compile(
    r"\bn\s+(?:est|etait|a|avait|ont|sont)\s+(?:pas|plus|jamais)\s+(?:(?:ete|un|une|des|de|d|en|au|a|la|le|l)\s+){0,2}$"
)


# Who the young person is not: "pas de RQTH", "sans statut étudiant", "aucune reconnaissance handicap". Only a
# situation is denied so: what they lack may be what they seek ("pas de permis", "sans emploi").
_LACKED = re.compile(r"\b(?:pas\s+(?:de|d|d\s+un|d\s+une)|sans|aucune?|ni)\s+(?:(?:statut|reconnaissance)\s+(?:de\s+|d\s+)?)?$")


def read_concepts(folded: str) -> list[Concept]:
    """The concepts a (folded) question speaks of, in table order, but for a word denied ("il n'est pas
    étudiant"). A concept whose every trigger found lies
    inside what another one's triggers found, and which that one silences, is not read: "sorti du lycée en
    cours d'année" is a dropout, and its "lycée" says no lycéen."""
    spans = {
        c.key: [
            m.span()
            for p in c.triggers
            for m in p.finditer(folded)
            if not _NEGATED.search(folded[: m.start()]) and not (c.kind == "situation" and _LACKED.search(folded[: m.start()]))
        ]
        for c in load_concepts()
    }
    found = [c for c in load_concepts() if spans[c.key]]
    silenced = {
        key
        for c in found
        for key in c.silences
        if spans.get(key) and all(any(a <= x and y <= b for a, b in spans[c.key]) for x, y in spans[key])
    }
    # One young person is a girl or a boy: the one named first is who they are, the other someone spoken of
    # ("a 15-year-old girl … she thinks tech jobs are for boys").
    for group in _ONE_OF:
        named = sorted((min(spans[k])[0], k) for k in group if spans.get(k) and k not in silenced)
        silenced |= {k for _, k in named[1:]}
    return [c for c in found if c.key not in silenced]


_ONE_OF = (("fille", "garcon"),)


def _trigger(text: str) -> re.Pattern[str]:
    """A trigger as a pattern: words matched whole, a trailing ``*`` for any ending, " … " for a gap of up to
    three words ("sorti* … lycee": "sorti du lycée", "sortie du lycée général"), "(a/b)" for one of several
    words ("(quitt/lach)* … (lycee/college)"), groups and words side by side ("(son/sa) (nom/adresse)")."""
    return re.compile(_trigger_source(text))


def _trigger_source(text: str) -> str:
    """``_trigger``'s pattern as text, so that pieces and whole alternations (``_document_patterns``) are
    compiled once, as a whole, not piece by piece first."""
    if "…" in text:
        pieces = [_trigger_source(piece.strip()) for piece in text.split("…") if piece.strip()]
        # (Punctuation between the words is no word of the gap: "la fac « ce n'est pas pour elle »".)
        return r"(?:\s+[^\w\s]+)*(?:\s+\w\S*(?:\s+[^\w\s]+)*){0,3}?\s+".join(pieces)
    group = re.fullmatch(r"\(([^()]+)\)(\*?)", text.strip())
    if group:
        alternatives = [_trigger_source(a.strip() + group.group(2)) for a in group.group(1).split("/") if a.strip()]
        return "(?:" + "|".join(alternatives) + ")"
    parts = re.findall(r"\([^()]+\)\*?|[^\s()]+", text)
    if len(parts) > 1 and any(p.startswith("(") for p in parts):
        # Words and groups side by side: "(son/sa) (nom/adresse)", "a cause de (son/sa) origine".
        return r"\s+".join(_trigger_source(p) for p in parts)
    words = fold_words(text.rstrip("*")).split()
    if not words:
        return r"(?!x)x"
    # Every word of a phrase with its silent plural mark or without it: "jeune maman" is also "jeunes mamans",
    # "jeune mamans"; and SMS style drops the silent final s ("le permi"). Short words (de, la, un) stay as written.
    pieces = [_plural(w) for w in words[:-1]]
    last = words[-1]
    pieces.append(re.escape(last) + r"\w*" if text.endswith("*") else _plural(last))
    # SMS style glues an elided article to its word ("partir a letranger", "lach lecole", "pas dargent").
    glued = r"(?:[ldjnmst](?=[aeiouyh]))?" if words[0][:1] in "aeiouyh" else ""
    return r"\b" + glued + r"\s+".join(pieces) + r"\b"


def _plural(word: str) -> str:
    """A folded word as a pattern taking or dropping its silent plural mark ("maman(s)", "permi(s)", "jeu(x)")."""
    if len(word) < 3 or not word.isalpha():
        return re.escape(word)
    if word[-1] in "sx":
        return re.escape(word[:-1]) + "[sx]?"
    return re.escape(word) + "[sx]?"


def concepts_in(text: str, kind: str | None = None) -> list[str]:
    """Keys of the concepts a document text speaks of: a trigger or one of the documents' own words
    (the expansions) occurs in it. ``kind`` keeps only "situation" or "need"."""
    folded = fold_words(text)
    return [key for key, of_kind, pattern in _document_patterns() if kind in (None, of_kind) and pattern.search(folded)]


@cache
def _document_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """Each concept's triggers and expansions as one alternation (key, kind, pattern), compiled once.

    An alternation matches somewhere exactly when one of its patterns does, and one scan of a text is several
    times faster than one per pattern (the catalogue reads every action's text with all of them)."""
    patterns = []
    for concept in load_concepts():
        sources = [p.pattern for p in concept.triggers] + [_trigger_source(e) for e in concept.expansions]
        patterns.append((concept.key, concept.kind, re.compile("|".join(f"(?:{s})" for s in sources))))
    return tuple(patterns)


def label(key: str) -> str:
    """How a situation or need key is shown to a counsellor ("decrochage" -> "décrochage scolaire")."""
    return next((c.label for c in load_concepts() if c.key == key), key.replace("_", " "))


@cache
def _english() -> tuple[frozenset[str], tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]]:
    """``ingest/data/english.tsv``: the function words that tell an English question, and each English
    word's French equivalents."""
    table = resources.files("ingest").joinpath("data/english.tsv").read_text(encoding="utf-8")
    function: frozenset[str] = frozenset()
    pairs = []
    for _number, cells in data_rows(table, width=2):
        english, french = cells[0], cells[1]
        if french == "function":
            function = frozenset(fold_words(w) for w in english.split("|"))
            continue
        pattern = "|".join(_trigger_source(w) for w in english.split("|") if w.strip())
        pairs.append((re.compile(pattern), tuple(f for f in french.split("|") if f.strip())))
    return function, tuple(pairs)


@lru_cache(maxsize=1024)  # read for every candidate place of a question (ingest.france): once per question
def english_words(question: str) -> frozenset[str]:
    """The English function words of an English question ("who", "should"), none for another question:
    they say nothing of its subject."""
    folded = re.findall(r"[^\W_]+", fold_words(question))  # "who runs it?": "it", not "it?"
    function = _english()[0]
    found = frozenset(w for w in folded if w in function)
    return found if len(found) >= 2 else frozenset()


def french_noun(english: str) -> str | None:
    """The French word for an English noun phrase as the documents write it ("young people" -> "jeunes",
    "students" -> "étudiants"), or None."""
    folded = fold_words(english)
    for pattern, french in _english()[1]:
        match = pattern.search(folded)
        if match and match.start() == 0 and french:
            return french[0]
    return None


def french_for(question: str) -> tuple[str, ...]:
    """The French words for an English question's words ("young people signed a contract" -> "jeunes",
    "signé", "contrat"); () for a question that is not English (fewer than two English function words)."""
    folded = fold_words(question)
    function, pairs = _english()
    if len({w for w in re.findall(r"[^\W_]+", folded) if w in function}) < 2:
        return ()
    found: list[str] = []
    for pattern, french in pairs:
        if pattern.search(folded):
            found += [f for f in french if f not in found]
    return tuple(found)
