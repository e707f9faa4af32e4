"""The Missions Locales of the MEL and of Valenciennes Métropole: their names and the communes of their sector.

The table is ``ingest/data/missions_locales.tsv`` (package data, loaded once). Each Mission Locale has the
name used today, the other names the documents and counsellors give it ("MLMS", "Impulsions Sud",
"ML Lille avenir", "Mission Locale de Roubaix"), and its sector in two parts: the communes a source states
and the ones written from memory (``doubtful``; see the table's header and ``ingest/data/README.md``).

- ``mission_locale_of("Loos")`` -> ["Mission Locale Impulsions Métropole Sud"] (any spelling of the commune);
- ``find_missions_locales("jeune suivi par la Mission Locale de Roubaix")`` -> ["Mission Locale Roubaix"]:
  names matched folded (case, accents, hyphens), "Missions Locales" as "Mission Locale", the little words
  de/du/d'/la/le ignored, an alias written in capitals (MLMS, MELT) only in capitals; e-mail and web
  addresses are not read ("jckapusta@mlms.fr" is no mention).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ingest.gazetteer import EPCI_CODES, Gazetteer, joined, load_gazetteer, mask_addresses, tokenize
from ingest.tsv import data_rows

# Plural and singular are one; little words are skipped on both sides.
_SAME = {"missions": "mission", "locales": "locale"}
_SKIP = frozenset({"de", "d", "du", "des", "la", "le", "l", "les"})


@dataclass(frozen=True)
class MissionLocale:
    """A Mission Locale and its sector (official commune names of ``ingest/data/communes.tsv``)."""

    id: str
    name: str
    aliases: tuple[str, ...]
    epci: str  # "MEL" or "CAVM"
    communes: tuple[str, ...]  # stated by a source
    doubtful: tuple[str, ...]  # written from memory, to be checked
    source: str = ""
    note: str = ""

    @property
    def sector(self) -> tuple[str, ...]:
        return self.communes + self.doubtful


@dataclass(frozen=True)
class _Alias:
    words: tuple[str, ...]
    upper: bool  # written all in capitals: matches only in capitals
    mission_locale: MissionLocale


def _words(text: str) -> list[tuple[str, int, int]]:
    """(normalised word, start, end) of the tokens of ``text`` that count, addresses masked."""
    masked = mask_addresses(text)
    tokens = tokenize(masked)
    words: list[tuple[str, int, int]] = []
    for k, token in enumerate(tokens):
        if token.key in _SKIP:
            continue
        # A word far from the previous one (another line, punctuation) starts a new run: marked by a gap.
        if words and not joined(masked, tokens[k - 1], token) and masked[tokens[k - 1].end : token.start].strip(" \t"):
            words.append(("", token.start, token.start))
        words.append((_SAME.get(token.key, token.key), token.start, token.end))
    return words


class MissionsLocales:
    """Lookups over the table: by commune, by name, in a text."""

    def __init__(self, missions: Iterable[MissionLocale], gazetteer: Gazetteer | None = None) -> None:
        self.gazetteer = gazetteer or load_gazetteer()
        self.all: tuple[MissionLocale, ...] = tuple(missions)
        self._aliases: list[_Alias] = []
        for mission in self.all:
            for label in (mission.name, *mission.aliases):
                words = tuple(w for w, _, _ in _words(label) if w)
                upper = label.isupper()
                if words and all(a.words != words or a.upper != upper for a in self._aliases):
                    self._aliases.append(_Alias(words, upper, mission))
        self._aliases.sort(key=lambda a: -len(a.words))  # longest first
        self._longest = max((len(a.words) for a in self._aliases), default=1)

    def get(self, name: str) -> MissionLocale | None:
        """The Mission Locale with this id, name or alias (as ``find`` reads it), or None."""
        for mission in self.all:
            if name in (mission.id, mission.name):
                return mission
        found = self.find(name)
        return found[0] if len(found) == 1 else None

    def of(self, commune: str, *, include_doubtful: bool = True) -> list[MissionLocale]:
        """The Missions Locales whose sector holds ``commune`` (any spelling the gazetteer knows)."""
        member = self.gazetteer.get(commune)
        name = member.name if member is not None else commune
        return [m for m in self.all if name in m.communes or (include_doubtful and name in m.doubtful)]

    def find(self, text: str) -> list[MissionLocale]:
        """The Missions Locales named in ``text``, each once, in order of first mention."""
        words = _words(text)
        found: list[MissionLocale] = []
        i = 0
        while i < len(words):
            match = self._match(text, words, i)
            if match is None:
                i += 1
                continue
            length, mission = match
            if mission not in found:
                found.append(mission)
            i += length
        return found

    def _match(self, text: str, words: list[tuple[str, int, int]], i: int) -> tuple[int, MissionLocale] | None:
        window = [w for w, _, _ in words[i : i + self._longest]]
        for alias in self._aliases:  # longest first
            n = len(alias.words)
            if tuple(window[:n]) != alias.words:
                continue
            if alias.upper and not text[words[i][1] : words[i + n - 1][2]].isupper():
                continue
            return n, alias.mission_locale
        return None


def parse_table(text: str, gazetteer: Gazetteer | None = None) -> list[MissionLocale]:
    """Parse ``missions_locales.tsv``; every commune must be a commune of the gazetteer, spelt officially."""
    gazetteer = gazetteer or load_gazetteer()
    known = {c.name for c in gazetteer.communes}
    missions: list[MissionLocale] = []
    for number, cells in data_rows(text, width=8):
        ident, name, aliases, epci, communes, doubtful, source, note = cells[:8]
        if not ident or not name or epci not in EPCI_CODES:
            raise ValueError(f"missions_locales.tsv line {number}: expected id, name, aliases, epci (MEL/CAVM)…, got {cells!r}")
        mission = MissionLocale(
            id=ident,
            name=name,
            aliases=_split(aliases),
            epci=epci,
            communes=_split(communes),
            doubtful=_split(doubtful),
            source=source,
            note=note,
        )
        unknown = [c for c in mission.sector if c not in known]
        if unknown:
            raise ValueError(
                f"missions_locales.tsv line {number}: unknown communes {unknown} (official spellings of communes.tsv)"
            )
        missions.append(mission)
    return missions


def _split(cell: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in cell.split("|") if x.strip())


@cache
def load_missions_locales() -> MissionsLocales:
    """The packaged table (loaded once)."""
    table = resources.files("ingest").joinpath("data/missions_locales.tsv").read_text(encoding="utf-8")
    return MissionsLocales(parse_table(table))


def mission_locale_of(commune: str, *, include_doubtful: bool = True) -> list[str]:
    """Names of the Missions Locales whose sector holds ``commune`` ([] outside the two territories)."""
    return [m.name for m in load_missions_locales().of(commune, include_doubtful=include_doubtful)]


def find_missions_locales(text: str) -> list[str]:
    """Names of the Missions Locales named in ``text``, each once, in order of first mention."""
    return [m.name for m in load_missions_locales().find(text)]


def sector_of(name: str, *, include_doubtful: bool = True) -> list[str]:
    """The communes of a Mission Locale's sector (by id, name or alias); [] for an unknown name."""
    mission = load_missions_locales().get(name)
    if mission is None:
        return []
    return list(mission.sector if include_doubtful else mission.communes)
