"""Quartiers of the MEL and of Valenciennes Métropole, and their matching in questions.

The table is ``ingest/data/quartiers.tsv`` (read by ``ingest.quartier_table``; its header and
``ingest/data/README.md`` give the sources): each quartier has a name, other names, its commune (an
official name of ``communes.tsv``), whether it is a QPV (``True``, ``False`` or ``None`` when the sources do
not say) and how a question may name it (``match``).

- ``find_quartiers("un jeune de 18 ans de Wazemmes")`` -> [the Wazemmes quartier of Lille];
- ``load_quartiers().mentions(text)``: the same with the spans and the cue read;
- ``quartier_place(mention)``: the ``Place`` of ``filters.places`` (``kind`` "quartier", with its commune).

Names are matched like commune names (``ingest.gazetteer``: folded case, accents, hyphens, spaces,
apostrophes; "st" = "saint"), whole words only, the longest name first. Words that are common elsewhere
must not place anybody ("il vit dans le centre", "le sud", "centre-ville"), so:

* a name of two words or more, not counting articles, de/du/des and saint/sainte ("Chasse Royale",
  "Faubourg de Béthune", "Lille-Sud", "Cité Thiers"), is a quartier wherever it is written;
* a name of one word ("Wazemmes", "Fives", "Moulins", "Le Trieu", "Saint-Maurice") only after a cue: a
  locative word ("à", "de", "du", "au", "sur", "habite", "vit"…, the place cues of
  ``gazetteer_phrases.tsv``) or "quartier"/"cité"/"résidence" (a few articles may come between: "quartier des
  Moulins", "à l'Épeule"). A name that starts with an article keeps it, or its contraction: "du Trieu",
  "aux Oliveaux", "de la Bourgogne" (not "de Bourgogne", the region);
* ``match = cased`` (the words are also common words: "Le Pile", "Bois-Blanc", "Les Villas"): besides, a
  capital letter is required, unless "quartier"/"cité" comes before;
* ``match = quartier`` (a commune's name elsewhere or a common phrase: "Saint-Waast", "Saint-Pierre"): only
  right after "quartier"/"cité"/"résidence";
* never right after a street word ("rue du Faubourg de Lille") and never where the gazetteer reads a commune
  of the territories other than the quartier's own: a commune named wins over a quartier of another commune.

In a question, a quartier's name that is also a commune elsewhere in France ("Moulins", "Vauban",
"Fresnoy") is the quartier, not that commune: ``ingest.france`` does not read the forms of
``blocking_forms()`` as communes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ingest.france import France, Place, load_france
from ingest.gazetteer import Gazetteer, Phrases, Token, joined, load_gazetteer, load_phrases, mask_addresses, tokenize
from ingest.quartier_table import MATCH_MODES, Quartier, blocking_forms, read_quartiers
from ingest.text import PHRASE_BREAK

_ARTICLES = frozenset({"le", "la", "l", "les"})
_OF = frozenset({"de", "d", "du", "des"})
# Words not counted in a name's length: "Le Trieu", "Saint-Maurice" and "Les Oliveaux" are one word long.
_LITTLE = _ARTICLES | _OF | frozenset({"saint", "sainte", "et", "a", "au", "aux", "en", "sur"})
# The contractions that stand for a name's article: "du Trieu" (de + Le Trieu), "aux Oliveaux".
_CONTRACTED = {"du": "le", "au": "le", "des": "les", "aux": "les"}
# Right before a name (some articles between): it is a quartier ("quartier des Moulins", "la cité Cuvinot").
_QUARTIER_WORDS = frozenset({"quartier", "quartiers", "cite", "cites", "residence", "residences"})
# Right after a name, in English: it is a quartier ("the Moulins neighbourhood of Lille", "Quatre Chasses estate").
_QUARTIER_AFTER = frozenset({"neighbourhood", "neighborhood", "estate", "district"})


@dataclass(frozen=True)
class QuartierMention:
    """One quartier named in a text: character span, as written, and how it was recognised."""

    start: int
    end: int
    surface: str
    quartier: Quartier
    cue: str  # "name" (a name of two words or more), "locative" ("à", "de"…) or "quartier"
    residence: bool = True  # False: where the person works, studies or goes ("un stage à Fives")


@dataclass(frozen=True)
class QuartierPlace(Place):
    """A quartier in ``filters.places``: the fields of its commune's place (INSEE code, postal codes,
    department, EPCI), ``kind`` "quartier", its own name, and its ``commune`` and ``qpv``."""

    commune: str = ""
    qpv: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "commune": self.commune, "qpv": self.qpv}


@dataclass(frozen=True)
class _Form:
    keys: tuple[str, ...]  # folded tokens of the form
    article: str | None  # its leading article ("le" for "Le Trieu")
    words: int  # tokens that count (no article, de/du, saint)
    quartier: Quartier


class Quartiers:
    """The table's quartiers and their matching in texts."""

    def __init__(self, quartiers: Iterable[Quartier], gazetteer: Gazetteer | None = None, phrases: Phrases | None = None) -> None:
        self.gazetteer = gazetteer or load_gazetteer()
        phrases = phrases or load_phrases()
        self.all: tuple[Quartier, ...] = tuple(quartiers)
        self._cues = phrases.words("place_cue") | phrases.words("place_cue_weak") | frozenset(_CONTRACTED)
        self._elsewhere = phrases.words("elsewhere_word")
        self._street_words = phrases.words("street_word")
        self._by_key: dict[str, list[_Form]] = {}
        self._max_tokens = 1
        for quartier in self.all:
            if quartier.match not in MATCH_MODES:
                raise ValueError(
                    f"quartiers.tsv: {quartier.name}: unknown match {quartier.match!r} (expected {', '.join(MATCH_MODES)})"
                )
            if self.gazetteer.get(quartier.commune) is None:
                raise ValueError(f"quartiers.tsv: {quartier.name}: unknown commune {quartier.commune!r}")
            for text in quartier.forms:
                keys = tuple(t.key for t in tokenize(text))
                if not keys:
                    raise ValueError(f"quartiers.tsv: empty name in {quartier.name!r}")
                article = keys[0] if keys[0] in _ARTICLES and len(keys) > 1 else None
                form = _Form(keys, article, sum(k not in _LITTLE for k in keys), quartier)
                listed = self._by_key.setdefault("".join(keys), [])
                if any(f.quartier.commune != quartier.commune for f in listed):
                    raise ValueError(f"quartiers.tsv: {text!r} names quartiers of two communes")
                listed.append(form)
                if article:  # "du Trieu", "aux Oliveaux": the name without its article, after the contraction
                    self._by_key.setdefault("".join(keys[1:]), []).append(_Form(keys[1:], article, form.words, quartier))
                self._max_tokens = max(self._max_tokens, len(keys))

    # -- lookups ---------------------------------------------------------------------------------

    def get(self, name: str) -> Quartier | None:
        """The quartier called ``name`` (its name or a variant, folded), or None."""
        forms = self._by_key.get("".join(t.key for t in tokenize(name)), [])
        return next((f.quartier for f in forms if f.article is None or f.keys[0] == f.article), None)

    def of_commune(self, commune: str) -> list[Quartier]:
        return [q for q in self.all if q.commune == commune]

    def blocking_forms(self) -> list[str]:
        """The names that, in a question, are the quartier rather than a commune of the same name elsewhere
        ("à Moulins" is Lille): every form of the quartiers not restricted to "quartier …"."""
        return blocking_forms(self.all)

    # -- matching --------------------------------------------------------------------------------

    def mentions(self, text: str) -> list[QuartierMention]:
        """The quartiers named in ``text``, in order, the longest name first (see the module docstring)."""
        masked = mask_addresses(text)
        tokens = tokenize(masked)
        shouting = not any(c.islower() for c in text)  # capitals say nothing in "JEUNE DU PILE"
        communes = [m for m in self.gazetteer.mentions(text, question=True) if m.commune is not None or m.scope is not None]
        found: list[QuartierMention] = []
        i = 0
        while i < len(tokens):
            best = self._match(masked, tokens, i, shouting)
            if best is None:
                i += 1
                continue
            j, form, cue, cue_at = best
            start, end = tokens[i].start, tokens[j].end
            # A commune of the territories read over the same words wins, unless it is the quartier's own
            # ("Lille-Sud", "Loos-les-Oliveaux", "Nouveau Mons").
            if any(
                m.start < end and start < m.end and (m.commune is None or m.commune.name != form.quartier.commune)
                for m in communes
            ):
                i += 1
                continue
            if cue == "name":  # "un stage à Chasse Royale": the locative word before a name that needs none
                cue_at = self._locative_cue(masked, tokens, i, bare=False) or i
            residence = not (cue != "quartier" and cue_at >= 1 and tokens[cue_at - 1].key in self._elsewhere)
            found.append(QuartierMention(start, end, text[start:end], form.quartier, cue, residence))
            i = j + 1
        return found

    def find(self, text: str) -> list[Quartier]:
        """The quartiers named in ``text``, each once, in order of first mention."""
        return list(dict.fromkeys(m.quartier for m in self.mentions(text)))

    def _match(self, text: str, tokens: list[Token], i: int, shouting: bool) -> tuple[int, _Form, str, int] | None:
        """(last token, form, cue, cue token index) of the longest accepted form starting at token i."""
        best: tuple[int, _Form, str, int] | None = None
        key = ""
        for j in range(i, min(len(tokens), i + self._max_tokens)):
            if j > i and not joined(text, tokens[j - 1], tokens[j]):
                break
            key += tokens[j].key
            for form in self._by_key.get(key, []):
                if _boundaries(tokens[i : j + 1]) <= _boundaries_of(form.keys):
                    accepted = self._accept(text, tokens, i, j, form, shouting)
                    if accepted is not None:
                        best = (j, form, *accepted)
                        break
        return best

    def _accept(self, text: str, tokens: list[Token], i: int, j: int, form: _Form, shouting: bool) -> tuple[str, int] | None:
        """How the form at tokens i..j is cued ("name", "locative", "quartier"; and where), or None."""
        if self._after_street_word(tokens, i):
            return None  # "rue du Faubourg de Lille", "rue de Fives"
        bare = form.article is not None and tokens[i].key != form.article  # "Trieu" of "Le Trieu"
        quartier_cue = self._quartier_cue(text, tokens, i)
        if (
            quartier_cue is None
            and j + 1 < len(tokens)
            and tokens[j + 1].key in _QUARTIER_AFTER
            and joined(text, tokens[j], tokens[j + 1])
        ):
            quartier_cue = j + 1  # English names the quartier first: "the Moulins neighbourhood", "Quatre Chasses estate"
        previous = tokens[i - 1].key if i > 0 and joined(text, tokens[i - 1], tokens[i]) else None
        if bare and quartier_cue is None and _CONTRACTED.get(previous or "") != form.article:
            return None  # "de Bourgogne" is not "La Bourgogne"; "du Trieu" is "Le Trieu"
        if quartier_cue is not None:
            return "quartier", quartier_cue
        if form.quartier.match == "quartier":
            return None
        span = [t for t in tokens[i : j + 1] if t.key not in _LITTLE] or tokens[i : j + 1]
        if form.quartier.match == "cased" and (shouting or not any(text[t.start : t.start + 1].isupper() for t in span)):
            return None
        if form.words >= 2:
            return "name", i
        cue_at = self._locative_cue(text, tokens, i, bare)
        return ("locative", cue_at) if cue_at is not None else None

    def _locative_cue(self, text: str, tokens: list[Token], i: int, bare: bool) -> int | None:
        """The index of the locative word before token i ("à", "de", "du", "habite"; "à l'Épeule"), or None."""
        k = i - 1
        if (
            not bare
            and k >= 1
            and tokens[k].key in _ARTICLES
            and tokens[i].key not in _ARTICLES
            and joined(text, tokens[k], tokens[i])
        ):
            k -= 1  # "à l'Épeule", "de la Bourgogne" is matched with its article
        if k < 0 or not joined(text, tokens[k], tokens[k + 1]) or PHRASE_BREAK.search(text, tokens[k].end, tokens[k + 1].start):
            return None
        return k if tokens[k].key in self._cues else None

    def _quartier_cue(self, text: str, tokens: list[Token], i: int) -> int | None:
        """The index of "quartier"/"cité"/"résidence" before token i, at most two little words between
        ("quartier des Moulins", "quartier de la Bourgogne", "la cité Cuvinot"), or None."""
        k = i - 1
        while k >= 0 and i - k <= 3 and joined(text, tokens[k], tokens[k + 1]):
            if tokens[k].key in _QUARTIER_WORDS:
                return k
            if tokens[k].key not in _ARTICLES | _OF:
                return None
            k -= 1
        return None

    def _after_street_word(self, tokens: list[Token], i: int) -> bool:
        """ "rue de Fives", "rue du Faubourg de Lille", "avenue Vauban": a street, not where one lives."""
        if i >= 1 and tokens[i - 1].key in self._street_words:
            return True
        return i >= 2 and tokens[i - 1].key in _OF | _ARTICLES and tokens[i - 2].key in self._street_words


def _boundaries(tokens: list[Token]) -> frozenset[int]:
    """Where each written word ends in the joined key: the text may glue words, not split a name's word."""
    return _boundaries_of(tuple(t.key for t in tokens))


def _boundaries_of(keys: tuple[str, ...]) -> frozenset[int]:
    ends, total = set(), 0
    for key in keys:
        total += len(key)
        ends.add(total)
    return frozenset(ends)


def quartier_place(mention: QuartierMention, france: France | None = None) -> QuartierPlace:
    """The place of ``filters.places`` for a quartier named in a question (its commune's codes and EPCI)."""
    france = france or load_france()
    quartier = mention.quartier
    member = france.gazetteer.get(quartier.commune)
    if member is None:  # checked when the table is loaded
        raise ValueError(f"quartiers.tsv: {quartier.name}: unknown commune {quartier.commune!r}")
    home = france.home_place(member, mention.surface)
    return QuartierPlace(
        **{**home.__dict__, "kind": "quartier", "name": quartier.name, "residence": mention.residence},
        commune=quartier.commune,
        qpv=quartier.qpv,
    )


@cache
def load_quartiers() -> Quartiers:
    """The packaged ``ingest/data/quartiers.tsv`` (loaded once)."""
    return Quartiers(read_quartiers())


def find_quartiers(text: str) -> list[Quartier]:
    """The quartiers a question names, each once, in order ("un jeune de Wazemmes" -> [Wazemmes (Lille)])."""
    return load_quartiers().find(text)
