"""The whole of France: communes, postal codes, EPCIs, departments and regions, and their matching in questions.

Reference data: ``ingest/data/france_*.tsv``, written by ``ingest/data/build_france.py`` from the Etalab
« découpage administratif » package (see ``ingest/data/README.md``); loaded lazily, once
(``load_france()``). The MEL and Valenciennes Métropole stay the business of ``ingest.gazetteer``
(variants, demonyms, one typo); this module places everything else around it.

Lookups (pure): ``named("Saint-Amand")`` (every commune of that name, the Nord and the Pas-de-Calais
first, then by population), ``with_postal_code("59300")``, ``department("le 62")``, ``lookup(value)``
(a value typed in a field: a postal code, a commune, a department), ``find_places(question)``.

In a question, a commune outside the two EPCIs is a place only when the words around it say so, because
France has communes named "Y", "Eu", "Bar", "Mont", "Orange" or "Nancy":

* written with a capital and right after a locative cue ("à Denain", "sur Marseille", "habite Lens",
  "secteur de Maubeuge", "au Havre") it is a place;
* after a bare "de"/"d'"/"du" ("un jeune de Maubeuge") only when it is not a common word (the tokens of
  ``france_common_words.tsv``), or a town of 10 000 inhabitants or more ("de Paris");
* without a cue, a capitalised name of at least 4 letters that is not a common word and is not beside
  another capitalised word (a person, an action's title: "Julie Nancy", "Pass Avenir"); a hyphenated
  name with two capitals ("Bois-Colombes", "Saint-Denis") also;
* in lower case (or in an all-capitals word) only after a cue, when it is not a common word or is a
  town of more than 50 000 inhabitants after a strong cue ("habite a paris"); never a name of fewer
  than 3 letters.

A department or region ("dans le Nord", "la Somme", "en Gironde", "Pas-de-Calais", "le 62", "(59)") is
recorded as such; a postal code ("59120") gives every commune that has it, unless the question also names
one of them. The cue words are in ``ingest/data/gazetteer_phrases.tsv``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache, cached_property
from importlib import resources
from itertools import pairwise
from typing import Any

from ingest.gazetteer import (
    Commune,
    Gazetteer,
    Mention,
    Phrases,
    Token,
    joined,
    load_gazetteer,
    load_phrases,
    mask_addresses,
    name_key,
    token_keys,
    tokenize,
)
from ingest.quartier_table import blocking_forms, read_quartiers
from ingest.text import PHRASE_BREAK, one_edit
from ingest.vocabulary import english_words

MEL_SIREN = "200093201"
CAVM_SIREN = "245901160"
TERRITORY_SIRENS = {MEL_SIREN: "MEL", CAVM_SIREN: "CAVM"}
HOME_DEPARTMENTS = ("59", "62")  # preferred among homonyms: the Nord and the Pas-de-Calais
HOME_DEPARTMENT = "59"  # holds both territories: neither in nor out
HOME_REGION = "32"  # Hauts-de-France
HOME_FORMER_REGION = "31"  # Nord-Pas-de-Calais (merged into the Hauts-de-France in 2016): holds both territories

# Words joining two places of one role ("par Haubourdin et Loos").
_JOINS = frozenset({"et", "ou", "and", "or"})
_LINKS = frozenset({"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "s", "sous", "sur", "lo", "y"})
_ARTICLES = frozenset({"le", "la", "l", "les", "du", "de", "d", "des"})
_QUANTITY_SIGN = re.compile(r"\s*(?:[%€$]|[/:.,]\s*\d|-\s*\d)")
_POSTAL_CODE = re.compile(r"\d{5}")
# "dans le", "département du", "région", "en": what may come before an area typed in a field.
_AREA_PREFIX = re.compile(
    r"^(?:(?:dans|en)\s+)?(?:(?:d[ée]partement|dept|dpt|r[ée]gion)\.?\s*)?(?:(?:le|la|les|du|des|de la|de)\s+|l['’]\s*|de l['’]\s*)?",
    re.IGNORECASE,
)
# Words ending in s or x that are not plural nouns ("du 59 depuis 2 ans", "le 62 sans diplôme").
_NOT_PLURALS = frozenset(
    {"depuis", "sans", "dans", "sous", "vers", "plus", "mais", "puis", "alors", "tous", "chez", "apres", "pres"}
)
# After "c'est" and a place (and the places listed with it), "qui l'organise", "qui portent": the place names who
# runs an action (the keys of the tokens that follow, joined by spaces).
_RUNS_IT = re.compile(r"(?:(?:et|ou)\s+\S+\s+){0,3}?qui\s+(?:(?:l|le|la|les)\s+)?(?:organis|port|ger|anim|pilot|coordonn|financ)")
_WEAK_CUE_POPULATION = 10_000  # "de Paris", "de Calais": big enough to be the town
_LOWER_CUE_POPULATION = 20_000  # "habite a paris", "vit a tours", "22 ans cambrai"
_TYPO_POPULATION = 20_000  # "Maubeuje": a town big enough to be the one meant, misspelled by one letter


@dataclass(frozen=True)
class FrenchCommune:
    """A current commune of France (Code officiel géographique)."""

    insee: str
    name: str
    postal_codes: tuple[str, ...]
    department: str
    epci_siren: str | None
    population: int | None = None


@dataclass(frozen=True)
class Epci:
    """An EPCI à fiscalité propre: "CA de la Porte du Hainaut" (type CA, 47 member communes)."""

    siren: str
    name: str
    type: str
    members: int


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region: str


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class Place:
    """A place understood in a text: a commune (in the MEL/CAVM or not), a department or a region.

    ``epci`` is "MEL" or "CAVM" for the two territories, the EPCI's name otherwise ("CA de la Porte du
    Hainaut"). ``in_territory``: True for a commune of the MEL or Valenciennes Métropole, False for a
    place outside both, None for the Nord or the Hauts-de-France (which hold both and more).
    ``alternatives`` are the other communes of the same name (the place is then ``ambiguous``).
    """

    kind: str  # "commune", "department", "region", "abroad" (a city or a country: ``region`` holds the country)
    # or "pays" (the Douaisis: ``region`` holds its department)
    name: str
    surface: str = ""  # as written
    insee: str | None = None
    postal_codes: tuple[str, ...] = ()
    department: str | None = None
    region: str | None = None
    epci: str | None = None
    epci_siren: str | None = None
    in_territory: bool | None = None
    alternatives: tuple[FrenchCommune, ...] = ()
    via: str = "name"  # "name", "postal_code" or "code" (a department number)
    residence: bool = True  # False: where the young person works, studies, goes ("un stage à Lyon"), comes from
    located: bool = False  # where an organisation or an action is ("la Mission Locale d'Arras")
    near: bool = False  # a landmark the home is near ("juste à côté de Valenciennes"): the home when none other is
    # Where the young person has moved to ("vient de s'installer à Bailleul"): the home, whatever other place
    # the question gives as a home (where they were followed until now).
    moved: bool = False

    @property
    def ambiguous(self) -> bool:
        return bool(self.alternatives)

    @property
    def outside(self) -> bool:
        """A place of residence outside both territories (a commune or an area)."""
        return self.in_territory is False and self.residence

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "insee": self.insee,
            "postal_codes": list(self.postal_codes),
            "department": self.department,
            "region": self.region,
            "epci": self.epci,
            "epci_siren": self.epci_siren,
            "in_territory": self.in_territory,
            "ambiguous": self.ambiguous,
            "alternatives": [{"name": c.name, "insee": c.insee, "department": c.department} for c in self.alternatives],
            "via": self.via,
            "surface": self.surface,
            "residence": self.residence,
            "located": self.located,
            "near": self.near,
        }


@dataclass(frozen=True)
class _Cues:
    strong: frozenset[str]
    english: frozenset[str]
    weak: frozenset[str]
    lead: frozenset[str]
    articles: dict[str, str]
    weak_articles: frozenset[str]
    person: frozenset[str]
    building: frozenset[str]
    elsewhere: frozenset[str]
    adverbs: frozenset[str]
    done: frozenset[str]
    located: frozenset[str]
    origin: frozenset[str]
    origin_direct: frozenset[str]
    origin_cue: frozenset[str]
    origin_motion: frozenset[str]
    moved: frozenset[str]
    move_verb: frozenset[str]
    move_lead: frozenset[str]
    not_epci_acronyms: frozenset[str]
    located_direct: frozenset[str]
    near: frozenset[str]
    area: frozenset[str]
    area_lower: frozenset[str]
    postal: frozenset[str]
    quantity: frozenset[str]

    @classmethod
    def of(cls, phrases: Phrases) -> _Cues:
        return cls(
            strong=phrases.words("place_cue"),
            english=phrases.words("place_cue_english"),
            weak=phrases.words("place_cue_weak"),
            lead=phrases.words("place_cue_lead"),
            articles=dict(phrases.pairs("article_cue") + phrases.pairs("article_cue_weak")),
            weak_articles=phrases.words("article_cue_weak"),
            person=phrases.words("person_title"),
            building=phrases.words("building_word"),
            elsewhere=phrases.words("elsewhere_word"),
            adverbs=phrases.words("elsewhere_adverb"),
            done=phrases.words("done_word"),
            located=phrases.words("located_word"),
            origin=phrases.words("origin_word"),
            origin_direct=phrases.words("origin_direct"),
            origin_cue=phrases.words("place_cue_origin"),
            origin_motion=phrases.words("origin_motion"),
            moved=phrases.words("moved_word"),
            move_verb=phrases.words("move_verb"),
            move_lead=phrases.words("move_lead"),
            not_epci_acronyms=phrases.words("not_epci_acronym"),
            located_direct=phrases.words("located_direct"),
            near=phrases.words("near_word"),
            area=phrases.words("department_cue"),
            area_lower=phrases.words("department_cue_lower"),
            postal=phrases.words("postal_cue"),
            quantity=phrases.words("quantity_word"),
        )


class France:
    """The communes, EPCIs, departments and regions of France, with the gazetteer of the two territories."""

    def __init__(
        self,
        communes: Iterable[FrenchCommune],
        epcis: Iterable[Epci],
        departments: Iterable[Department],
        regions: Iterable[Region],
        common_words: Iterable[str],
        abroad: Iterable[tuple[str, str, str]] = (),
        phrases: Phrases | None = None,
        gazetteer: Gazetteer | None = None,
        quartier_forms: Iterable[str] | None = None,
    ) -> None:
        phrases = phrases or load_phrases()
        self.gazetteer = gazetteer or load_gazetteer()
        self.communes: tuple[FrenchCommune, ...] = tuple(communes)
        self.epcis = {e.siren: e for e in epcis}
        self.departments = {d.code: d for d in departments}
        self.regions = {r.code: r for r in regions}
        self._by_insee = {c.insee: c for c in self.communes}
        self._by_key: dict[str, list[FrenchCommune]] = {}
        self._key_tokens: dict[str, int] = {}  # the most tokens a name of that key has
        self._bounds: dict[str, list[frozenset[int]]] = {}  # where the words of each name of that key end
        for commune in self.communes:
            self._index(commune.name, commune)
        for alias, insee in phrases.pairs("alias"):
            self._index(alias, self._by_insee[insee])
        self._max_tokens = max(self._key_tokens.values())
        for listed in self._by_key.values():
            listed.sort(key=_rank)
        self._by_postal: dict[str, list[FrenchCommune]] = {}
        for commune in self.communes:
            for code in commune.postal_codes:
                self._by_postal.setdefault(code, []).append(commune)
        for listed in self._by_postal.values():
            listed.sort(key=_rank)
        if quartier_forms is None:
            quartier_forms = blocking_forms(read_quartiers())
        # A quartier of a member commune named like a commune elsewhere ("à Moulins" is in Lille): not that commune.
        self._quartiers = frozenset(name_key(q) for q in quartier_forms)
        self._associee_postal = {code: name for name, code in phrases.pairs("associee_postal")}
        # Areas by name key; a department wins over the region of the same name (Guadeloupe, La Réunion).
        self._areas: dict[str, Department | Region] = {name_key(r.name): r for r in self.regions.values()}
        self._areas.update({name_key(d.name): d for d in self.departments.values()})
        # The regions merged in 2016, as people still name them ("le Nord – Pas de Calais"), with their former code.
        for name, code in phrases.pairs("former_region"):
            self._areas.setdefault(name_key(name), Region(code, name))
        self._area_tokens = max(len(tokenize(a.name)) for a in self._areas.values())
        self._common = frozenset(common_words) | phrases.words("common_word")
        # Places abroad (abroad.tsv): name key -> (name, "city" or "country", country).
        self._abroad = {name_key(name): (name, kind, country) for name, kind, country in abroad}
        self._abroad_tokens = max((len(tokenize(name)) for name, _, _ in self._abroad.values()), default=0)
        self._cues = _Cues.of(phrases)
        # The intercommunalities of the Nord and the Pas-de-Calais outside the two territories, named as
        # counsellors do ("de la Porte du Hainaut", "en Pévèle Carembault", "de la CAPH"): read like a pays.
        for name, department, forms in self._nearby_epcis():
            for form in forms:
                self._abroad.setdefault(name_key(form), (name, "pays", department))
                self._abroad_tokens = max(self._abroad_tokens, len(tokenize(form)))
        # The national record of each commune of the gazetteer (communes associées: their commune's).
        self._home: dict[str, FrenchCommune] = {}
        for member in self.gazetteer.communes:
            candidates = [c for c in self._by_key.get(name_key(member.name), []) if c.epci_siren in TERRITORY_SIRENS]
            if candidates:
                self._home[member.name] = candidates[0]

    def _nearby_epcis(self) -> list[tuple[str, str, list[str]]]:
        """(name, department, forms) of each EPCI of the Nord and the Pas-de-Calais outside the two
        territories: its full name, its name without the "CA de la" prefix when that keeps two capitalised
        words or one that is not a French word, and its initials of four letters or more ("CAPH")."""
        departments: dict[str, str] = {}
        for commune in self.communes:
            if commune.epci_siren and commune.department in HOME_DEPARTMENTS and commune.epci_siren not in TERRITORY_SIRENS:
                departments.setdefault(commune.epci_siren, commune.department)
        found = []
        for siren, code in departments.items():
            epci = self.epcis.get(siren)
            if epci is None:
                continue
            core = re.sub(r"^(?:CA|CC|CU|Métropole)\s+(?:de\s+la\s+|de\s+l['’]|du\s+|des\s+|de\s+|d['’])?", "", epci.name)
            words = [w for w in re.findall(r"\w+", core) if w[:1].isupper()]
            forms = [epci.name]
            if core != epci.name and (len(words) >= 2 or any(name_key(w) not in self._common for w in words)):
                forms.append(core)
            initials = epci.name.split()[0] + "".join(w[0] for w in words)
            if len(initials) >= 4 and initials.isupper() and name_key(initials) not in self._cues.not_epci_acronyms:
                forms.append(initials)
            found.append((epci.name, self.departments[code].name if code in self.departments else code, forms))
        return found

    def _index(self, name: str, commune: FrenchCommune) -> None:
        keys = token_keys(name)
        key = "".join(keys)
        listed = self._by_key.setdefault(key, [])
        if commune not in listed:
            listed.append(commune)
        self._key_tokens[key] = max(self._key_tokens.get(key, 0), len(keys))
        self._bounds.setdefault(key, []).append(_ends(keys))

    # -- lookups ---------------------------------------------------------------------------------

    def commune(self, insee: str) -> FrenchCommune | None:
        return self._by_insee.get(insee)

    def named(self, name: str) -> list[FrenchCommune]:
        """Every commune named ``name`` (folded: case, accents, hyphens), the Nord/Pas-de-Calais first."""
        return list(self._by_key.get(name_key(name), []))

    def with_postal_code(self, code: str) -> list[FrenchCommune]:
        return list(self._by_postal.get(code.strip(), []))

    def members(self, siren: str) -> list[FrenchCommune]:
        return [c for c in self.communes if c.epci_siren == siren]

    def epci(self, siren: str | None) -> Epci | None:
        return self.epcis.get(siren) if siren else None

    def department(self, text: str) -> Department | None:
        """A department by name or number: "Nord", "59", "le 62", "Pas-de-Calais", "département du Nord"."""
        value = _AREA_PREFIX.sub("", text.strip())
        value = value.strip(" ()")
        if value.upper() in self.departments:
            return self.departments[value.upper()]
        if value.isdigit() and len(value) == 1 and "0" + value in self.departments:
            return self.departments["0" + value]
        area = self._areas.get(name_key(value)) if value else None
        return area if isinstance(area, Department) else None

    def region(self, text: str) -> Region | None:
        value = _AREA_PREFIX.sub("", text.strip())
        return next((r for r in self.regions.values() if name_key(r.name) == name_key(value)), None) if value else None

    def in_territory(self, commune: FrenchCommune) -> bool:
        return commune.epci_siren in TERRITORY_SIRENS

    def epci_label(self, commune: FrenchCommune) -> str | None:
        """ "MEL" or "CAVM" in the two territories, the EPCI's name elsewhere, None outside any EPCI."""
        if commune.epci_siren in TERRITORY_SIRENS:
            return TERRITORY_SIRENS[commune.epci_siren]
        epci = self.epci(commune.epci_siren)
        return epci.name if epci else None

    def place(
        self, commune: FrenchCommune, surface: str = "", via: str = "name", alternatives: Iterable[FrenchCommune] = ()
    ) -> Place:
        """The place of a national commune (a member of the MEL or CAVM is in the territory)."""
        department = self.departments.get(commune.department)
        return Place(
            kind="commune",
            name=commune.name,
            surface=surface,
            insee=commune.insee,
            postal_codes=commune.postal_codes,
            department=commune.department,
            region=department.region if department else None,
            epci=self.epci_label(commune),
            epci_siren=commune.epci_siren,
            in_territory=self.in_territory(commune),
            alternatives=tuple(alternatives),
            via=via,
        )

    def home_place(self, member: Commune, surface: str = "", via: str = "name") -> Place:
        """The place of a commune of the gazetteer (a commune associée keeps its own name, no INSEE code)."""
        national = self._home.get(member.name)
        if national is not None and member.associated_with is None:
            return self.place(national, surface, via)
        postal = tuple(code for code, name in self._associee_postal.items() if name == member.name)
        siren = next((s for s, code in TERRITORY_SIRENS.items() if code == member.epci), None)
        return Place(
            kind="commune",
            name=member.name,
            surface=surface,
            postal_codes=postal,
            department=HOME_DEPARTMENT,
            region=HOME_REGION,
            epci=member.epci,
            epci_siren=siren,
            in_territory=True,
            via=via,
        )

    def area_place(self, area: Department | Region, surface: str = "", via: str = "name") -> Place:
        if isinstance(area, Department):
            inside = None if area.code == HOME_DEPARTMENT else False
            return Place("department", area.name, surface, department=area.code, region=area.region, in_territory=inside, via=via)
        inside = None if area.code in (HOME_REGION, HOME_FORMER_REGION) else False
        return Place("region", area.name, surface, region=area.code, in_territory=inside, via=via)

    def postal_places(self, code: str, surface: str = "") -> list[Place]:
        """One place per commune of a postal code (59160: Lomme rather than Lille, and Capinghem)."""
        places: list[Place] = []
        for commune in self._by_postal.get(code, []):
            associee = self._associee_postal.get(code)
            member = self.gazetteer.get(associee) if associee and commune.name == "Lille" else None
            places.append(
                self.home_place(member, surface, "postal_code") if member else self.place(commune, surface, "postal_code")
            )
        return places

    def lookup(self, value: str) -> list[Place]:
        """The places a value typed in a field names: a postal code (every commune that has it), a commune
        (exactly, else with the gazetteer's typo tolerance), else a department or a region; [] when unknown."""
        text = value.strip()
        if _POSTAL_CODE.fullmatch(text):
            return self.postal_places(text, text)
        member = self.gazetteer.get(text)
        if member is not None:
            return [self.home_place(member, text)]
        candidates = self._by_key.get(name_key(text)) if text else None
        if candidates:
            return [self.place(candidates[0], text, alternatives=candidates[1:])]
        found = self.gazetteer.find_in_question(text)
        if found:
            return [self.home_place(found[0], text)]
        area: Department | Region | None = self.department(text) or self.region(text)
        return [self.area_place(area, text, "code" if text.strip(" ()").isdigit() else "name")] if area else []

    # -- matching in questions -------------------------------------------------------------------

    def find_places(self, text: str) -> list[Place]:
        """The places of a question, in order, each once (see the module docstring)."""
        tokens = tokenize(mask_addresses(text))
        shouting = not any(c.islower() for c in text)  # "DECROCHEUR DE 17 ANS A DENAIN": capitals say nothing
        by_start = {t.start: k for k, t in enumerate(tokens)}
        by_end = {t.end: k for k, t in enumerate(tokens)}
        home: dict[int, tuple[int, Mention]] = {}
        for mention in self.gazetteer.mentions(text, question=True):
            i, j = by_start.get(mention.start), by_end.get(mention.end)
            if i is not None and j is not None:
                home[i] = (j, mention)
        found: list[Place] = []
        spans: list[tuple[int, int]] = []  # the tokens of each place found
        i = last = 0
        while i < len(tokens):
            spans += [(last, i - 1)] * (len(found) - len(spans))
            last = i
            national = self._match_commune(text, tokens, i, shouting)
            if i in home:
                j, mention = home[i]
                exact_elsewhere = mention.via == "fuzzy" and self._key(tokens, i, j) in self._by_key
                if national is not None and (national[0] > j or exact_elsewhere):
                    found.append(national[1])
                    i = national[0] + 1
                    continue
                if mention.commune is not None and not exact_elsewhere:
                    # "Comines (Belgique)": the Belgian town of the same name across the border.
                    home_place = _belgian(self.home_place(mention.commune, mention.surface), text, tokens, i, j)
                    found.append(self._placed(home_place, tokens, i))
                elif mention.scope is None:  # another place: "Loos-en-Gohelle", "Le Quesnoy", "Porte du Hainaut"
                    other = self._match_commune(text, tokens, i, shouting, last=j) or self._match_abroad(
                        text, tokens, i, shouting
                    )
                    if other is not None:
                        found.append(other[1])
                i = j + 1
                continue
            if national is not None:
                j = national[0]
                # A member of the territories starting inside the span and going further wins.
                if not any(home[k][0] > j for k in range(i + 1, j + 1) if k in home):
                    found.append(_belgian(national[1], text, tokens, i, j))
                    i = j + 1
                    continue
            far = self._match_abroad(text, tokens, i, shouting)
            if far is not None:
                found.append(far[1])
                i = far[0] + 1
                continue
            area = self._match_area(text, tokens, i)
            if area is not None:
                # The word before an area says what it is to the person, as for a commune: "came from Île-de-France"
                # is the place left, "originaire de Bretagne" an origin, "dans le Nord" a home.
                found.append(self._placed(area[1], tokens, i))
                i = area[0] + 1
                continue
            typo = self._match_typo(text, tokens, i, shouting)
            if typo is not None:
                found.append(typo)
                i += 1
                continue
            found += self._match_numbers(text, tokens, i)
            i += 1
        spans += [(last, len(tokens) - 1)] * (len(found) - len(spans))
        # "organisé par Haubourdin et Loos", "déménagé de Roubaix ou Tourcoing": a place joined to the one before
        # plays its part.
        for k in range(1, len(found)):
            start, (_, end) = spans[k][0], spans[k - 1]
            if start >= 2 and end == start - 2 and tokens[start - 1].key in _JOINS:
                before = found[k - 1]
                found[k] = replace(
                    found[k], residence=before.residence, located=before.located, near=before.near, moved=before.moved
                )
        # "il habite à Denain, juste à côté de Valenciennes": the landmark is not the home when one is given.
        if any(p.residence and not p.near for p in found):
            found = [replace(p, residence=False) if p.near else p for p in found]
        # "suivie jusqu'ici à Armentières, elle vient de s'installer à Bailleul": the new home is the home.
        if any(p.moved for p in found):
            found = [replace(p, residence=False) if p.residence and not p.moved else p for p in found]
        return _narrow(found)

    def _match_typo(self, text: str, tokens: list[Token], i: int, shouting: bool) -> Place | None:
        """A town of some size misspelled by one letter, written as a name after a strong cue ("une jeune de
        Maubeuje"): the town, when exactly one commune of at least ``_TYPO_POPULATION`` inhabitants is one
        edit away. A word of the vocabulary, or a short one, is never read so."""
        token = tokens[i]
        key = token.key
        if shouting or len(key) < 6 or not key.isalpha() or key in self._common or not self._is_title(text, token):
            return None
        if self._title_after(text, tokens, i) or (i + 1 < len(tokens) and "-" in text[token.end : tokens[i + 1].start]):
            return None  # part of a longer name ("Maubeuje-Nord", "Saint Amandd Les Eaux")
        if self._cue(text, tokens, i) != "strong":
            return None
        near = {c.insee: c for k, communes in self._large_towns if one_edit(k, key) for c in communes}
        if len(near) != 1:
            return None
        (commune,) = near.values()
        return self._placed(self.place(commune, text[token.start : token.end]), tokens, i)

    @cached_property
    def _large_towns(self) -> tuple[tuple[str, tuple[FrenchCommune, ...]], ...]:
        """The name keys of the communes of at least ``_TYPO_POPULATION`` inhabitants (a few hundred), with them."""
        towns = {k: tuple(c for c in cs if (c.population or 0) >= _TYPO_POPULATION) for k, cs in self._by_key.items()}
        return tuple((k, cs) for k, cs in towns.items() if cs)

    def _key(self, tokens: list[Token], i: int, j: int) -> str:
        return "".join(t.key for t in tokens[i : j + 1])

    def _match_commune(
        self, text: str, tokens: list[Token], i: int, shouting: bool, last: int | None = None
    ) -> tuple[int, Place] | None:
        """The longest accepted commune name starting at token i (ending at ``last`` when given).

        The words of the text may run together ("villeneuve dascq") but not split a name's word:
        "l'offre" is not Loffre, "par ce" is not Parcé, "l'étranger" is not Le Tranger: each word of the
        text must end where a word of the name ends."""
        if tokens[i].key.isdigit():
            return None
        article = self._cues.articles.get(tokens[i - 1].key) if i > 0 and joined(text, tokens[i - 1], tokens[i]) else None
        best: tuple[int, Place] | None = None
        key = ""
        stop = min(len(tokens), i + self._max_tokens) if last is None else last + 1
        for j in range(i, stop):
            if j > i and not joined(text, tokens[j - 1], tokens[j]):
                break
            key += tokens[j].key
            if last is not None and j < last:
                continue
            for candidate_key, via_article in ((key, False), ((article or "") + key, True)):
                if via_article and not article:
                    continue
                candidates = self._by_key.get(candidate_key)
                ends = _ends([article or ""] * via_article + [t.key for t in tokens[i : j + 1]])
                if (
                    candidates
                    and candidate_key not in self._quartiers
                    and any(ends <= name_ends for name_ends in self._bounds[candidate_key])
                    and self._accept(text, tokens, i, j, candidates, via_article, shouting)
                ):
                    surface = text[tokens[i].start : tokens[j].end]
                    place = self.place(candidates[0], surface, alternatives=candidates[1:])
                    best = (j, self._placed(place, tokens, i))
                    break
        return best

    def _accept(
        self, text: str, tokens: list[Token], i: int, j: int, candidates: list[FrenchCommune], via_article: bool, shouting: bool
    ) -> bool:
        span = tokens[i : j + 1]
        key = "".join(t.key for t in span)
        if len(key) < 2 or self.gazetteer.after_street_word(tokens, i):
            return False
        head = text[self._head(span).start : self._head(span).end]
        title = not shouting and self._is_title(text, self._head(span))
        acronym = not shouting and len(head) > 1 and head.isupper()  # "du PIA": an acronym, not Pia
        if title and i > 0 and tokens[i - 1].key in self._cues.person and joined(text, tokens[i - 1], tokens[i]):
            return False  # "M. Martin", "Mme Nancy"
        k = i - 2 if i >= 2 and tokens[i - 1].key in _ARTICLES else i - 1
        if k >= 0 and tokens[k].key in self._cues.building:
            return False  # "lycée Descartes", "collège de Marly"
        if via_article:  # "au Havre" = à Le Havre, "du Havre" = de Le Havre
            cue: str | None = "weak" if tokens[i - 1].key in self._cues.weak_articles else "strong"
        else:
            cue = self._cue(text, tokens, i)
        common = all(t.key in self._common or t.key in _LINKS for t in span)
        population = max(c.population or 0 for c in candidates)
        beside = self._title_after(text, tokens, j)
        if title:
            if cue == "strong":
                return True
            if cue == "weak":
                return (not common or population >= _WEAK_CUE_POPULATION) and not beside
            if beside or self._title_before(text, tokens, i):
                return False
            if j > i and self._hyphenated(text, span) and sum(self._is_title(text, t) for t in span) >= 2:
                return True  # "Bois-Colombes", "Saint-Denis"
            if common and population >= _LOWER_CUE_POPULATION and self._set_apart(text, tokens, i, j):
                return True  # "jeune de 21 ans, Douai, cherche…": a town of size written apart, as a case note does
            return not common and len(key) >= 4
        if cue is None or len(key) < 3 or (acronym and cue != "strong"):
            return False
        return not common or (cue == "strong" and population > _LOWER_CUE_POPULATION)

    def _role(self, tokens: list[Token], i: int) -> str:
        """What the word before the place's cue says the place is: "home" (where the young person lives),
        "goes" (where they work, study, go: "un stage à Lyon") or "located" (where an organisation or an
        action is: "la Mission Locale d'Arras")."""
        cue = i - 1
        if cue >= 0 and tokens[cue].key in ("est", "sont") and _RUNS_IT.match(" ".join(t.key for t in tokens[i + 1 : i + 8])):
            # "c'est Seclin et Wattignies qui l'organisent ?": who runs something, not a home ("un jeune de Douai
            # qui porte un projet" lives there: only "c'est … qui" names the one who runs it).
            return "located"
        if cue >= 0 and tokens[cue].key in self._cues.near:
            return "near"  # "an apprenticeship near Lille": the word is its own cue
        if cue >= 0 and tokens[cue].key in self._cues.origin_direct:
            return "origin"  # "elle a quitté Roubaix"
        if cue >= 0 and tokens[cue].key in self._cues.located_direct:
            return "located"  # "le forum organisé par Loos": who runs something, not a home
        if cue < 1 or tokens[cue].key not in self._cues.strong | self._cues.english | self._cues.weak | set(self._cues.articles):
            return "home"
        before = cue - 1
        while before > 0 and tokens[before].key in self._cues.adverbs:  # "vient souvent à Lille"
            before -= 1
        key = tokens[before].key
        if tokens[cue].key in self._cues.origin_cue and key in self._cues.origin_motion:
            return "origin"  # "she came from Île-de-France", "moved here from Lyon": the place left, not a home
        if key in self._cues.moved or (
            key in self._cues.move_verb and before >= 1 and tokens[before - 1].key in self._cues.move_lead
        ):
            # "déménager de Valenciennes à Maubeuge": the place left, then the new home; "il part vivre à
            # Bordeaux": the home to be, what the question is about.
            return "origin" if tokens[cue].key in self._cues.weak else "moved"
        if before >= 2 and tokens[before - 1].key in ("de", "d") and tokens[before - 2].key in self._cues.done:
            # "il vient de déménager à Amiens": done, the place is where they live now (and "de Roubaix" the
            # place left).
            return "origin" if tokens[cue].key in self._cues.weak else "moved"
        for role, words in (
            ("located", self._cues.located),
            ("origin", self._cues.origin),
            ("near", self._cues.near),
            ("goes", self._cues.elsewhere),
        ):
            if key in words:
                return role
        return "home"

    def _placed(self, place: Place, tokens: list[Token], i: int) -> Place:
        role = self._role(tokens, i)
        return replace(
            place,
            residence=role in ("home", "near", "moved"),
            located=role == "located",
            near=role == "near",
            moved=role == "moved",
        )

    def _cue(self, text: str, tokens: list[Token], i: int) -> str | None:
        """ "strong", "weak" or None: the word right before token i ("à", "habite"; "de"; "secteur de")."""
        if i == 0 or not joined(text, tokens[i - 1], tokens[i]):
            return None
        previous = tokens[i - 1].key
        if previous in self._cues.strong or (previous in self._cues.english and english_words(text)):
            return "strong"
        if previous in self._cues.weak:
            lead = i >= 2 and tokens[i - 2].key in self._cues.lead and joined(text, tokens[i - 2], tokens[i - 1])
            return "strong" if lead else "weak"
        return None

    @staticmethod
    def _head(span: list[Token]) -> Token:
        """The first token that is not an article or a link ("le Havre" -> "Havre")."""
        return next((t for t in span if t.key not in _LINKS), span[0])

    @staticmethod
    def _is_title(text: str, token: Token) -> bool:
        surface = text[token.start : token.end]
        return surface[:1].isupper() and not (len(surface) > 1 and surface.isupper())

    @staticmethod
    def _hyphenated(text: str, span: list[Token]) -> bool:
        return all("-" in text[a.end : b.start] for a, b in pairwise(span))

    def _title_after(self, text: str, tokens: list[Token], j: int) -> bool:
        """The next word, in the same phrase, is capitalised ("Julie Nancy", "Orange Bank")."""
        if j + 1 >= len(tokens) or PHRASE_BREAK.search(text, tokens[j].end, tokens[j + 1].start):
            return False
        following = tokens[j + 1]
        return following.key not in _LINKS and self._is_title(text, following)

    def _set_apart(self, text: str, tokens: list[Token], i: int, j: int) -> bool:
        """Tokens i..j stand between punctuation (or the text's ends) on both sides: ", Douai,"."""
        before = i == 0 or PHRASE_BREAK.search(text, tokens[i - 1].end, tokens[i].start) is not None
        after = j + 1 >= len(tokens) or PHRASE_BREAK.search(text, tokens[j].end, tokens[j + 1].start) is not None
        return before and after

    def _title_before(self, text: str, tokens: list[Token], i: int) -> bool:
        """The previous word, in the same phrase, is capitalised ("Véronique Cormont", "Ecole Descartes")."""
        if i == 0 or PHRASE_BREAK.search(text, tokens[i - 1].end, tokens[i].start):
            return False
        previous = tokens[i - 1]
        return previous.key not in _LINKS and self._is_title(text, previous)

    def _match_abroad(self, text: str, tokens: list[Token], i: int, shouting: bool) -> tuple[int, Place] | None:
        """A place abroad (abroad.tsv) or a pays of the Nord-Pas-de-Calais (pays.tsv) starting at token i: a
        city or a pays written capitalised ("de Tournai", "du Douaisis"), a country after a word saying where
        the young person lives ("vit en Belgique")."""
        key, best = "", None
        for j in range(i, min(len(tokens), i + self._abroad_tokens)):
            if j > i and not joined(text, tokens[j - 1], tokens[j]):
                break
            key += tokens[j].key
            found = self._abroad.get(key)
            if found is None:
                continue
            name, kind, country = found
            if kind in ("city", "pays"):  # a pays: "un jeune du Douaisis" (pays.tsv); an EPCI's initials: "CAPH"
                written = text[tokens[i].start : tokens[j].end]
                accepted = (
                    shouting or self._is_title(text, tokens[i]) or (kind == "pays" and written.isupper() and len(written) >= 4)
                )
            else:
                before = {t.key for t in tokens[max(0, i - 3) : i]}
                accepted = bool(before & _LIVES)
            if accepted:
                surface = text[tokens[i].start : tokens[j].end]
                place = Place("pays" if kind == "pays" else "abroad", name, surface, region=country, in_territory=False)
                best = (j, self._placed(place, tokens, i))
        return best

    def _match_area(self, text: str, tokens: list[Token], i: int) -> tuple[int, Place] | None:
        """A department or region name: "dans le Nord", "la Somme", "en Gironde", "Pas-de-Calais"; not after
        "rue de" ("rue de Paris", "avenue de Flandre": a street)."""
        key = ""
        best: tuple[int, Place] | None = None
        if self.gazetteer.after_street_word(tokens, i):
            return None
        for j in range(i, min(len(tokens), i + self._area_tokens)):
            if j > i and not joined(text, tokens[j - 1], tokens[j]):
                break
            key += tokens[j].key
            area = self._areas.get(key)
            if area is None:
                continue
            span = tokens[i : j + 1]
            several = len([t for t in span if t.key not in _LINKS]) > 1
            cue = i > 0 and tokens[i - 1].key in self._cues.area and joined(text, tokens[i - 1], tokens[i])
            if self._is_title(text, self._head(span)):
                accepted = several or cue or (j == i and self._paired_area(text, tokens, j + 1))
            else:
                accepted = (several and (cue or self._hyphenated(text, span))) or self._lower_area_cue(text, tokens, i)
            if accepted:
                best = (j, self.area_place(area, text[tokens[i].start : tokens[j].end]))
        return best

    def _paired_area(self, text: str, tokens: list[Token], k: int) -> bool:
        """True when an area starts at token ``k``, maybe after "et"/"and" and an article: "Nord" is a name
        without its cue ("le Nord"), yet "Nord et Pas-de-Calais", "Nord, Pas-de-Calais" pair it with one."""
        if k < len(tokens) and tokens[k].key in _JOINS:
            k += 1
        if k < len(tokens) and tokens[k].key in self._cues.area:
            k += 1
        return k < len(tokens) and self._match_area(text, tokens, k) is not None

    def _lower_area_cue(self, text: str, tokens: list[Token], i: int) -> bool:
        """ "dans le nord", "département du nord", "département de la somme": the only cues for a lower-case
        department name ("la somme de 500 euros" is not the Somme)."""
        k = i - 1
        while k >= 0 and i - k <= 2 and tokens[k].key in _ARTICLES:
            k -= 1
        if k < 0 or tokens[k].key not in self._cues.area_lower:
            return False
        return tokens[k].key != "dans" or k < i - 1  # "dans" needs its article: "dans le nord"

    def _match_numbers(self, text: str, tokens: list[Token], i: int) -> list[Place]:
        """A postal code ("59120", "CP 59300") or a department number ("le 62", "dans le 59", "(59)")."""
        key = tokens[i].key
        if self._quantity_after(text, tokens, i) or self._number_before(tokens, i):
            return []
        surface = text[tokens[i].start : tokens[i].end]
        if len(key) == 5 and key.isdigit():
            return self.postal_places(key, surface)
        code = key.upper()
        if code not in self.departments or not (key.isdigit() or code in ("2A", "2B")):
            return []
        before = text[: tokens[i].start].rstrip()
        if before.endswith("(") and text[tokens[i].end :].lstrip().startswith(")"):
            return [self.area_place(self.departments[code], surface, "code")]
        if self._noun_after(text, tokens, i):
            return []  # "dans 12 lycées", "le 62 habitants"
        previous = tokens[i - 1].key if i > 0 else ""
        if previous in ("du", "en", "departement", "dept", "dpt"):
            return [self.area_place(self.departments[code], surface, "code")]
        if previous == "le" and not (i >= 2 and (tokens[i - 2].key.isdigit() or tokens[i - 2].key in self._cues.quantity)):
            return [self.area_place(self.departments[code], surface, "code")]
        return []

    def _quantity_after(self, text: str, tokens: list[Token], i: int) -> bool:
        """After the number: a unit, a month or another number ("15000 euros", "le 18 mars", "du 15 au 20")."""
        if _QUANTITY_SIGN.match(text, tokens[i].end):
            return True
        if i + 1 >= len(tokens):
            return False
        following = tokens[i + 1].key
        if following.isdigit() or following in self._cues.quantity:
            return True
        return following in ("a", "au", "et", "ou") and i + 2 < len(tokens) and tokens[i + 2].key.isdigit()

    @staticmethod
    def _noun_after(text: str, tokens: list[Token], i: int) -> bool:
        """A plural word right after the number: it counts something ("12 lycées", "33 établissements")."""
        if i + 1 >= len(tokens) or PHRASE_BREAK.search(text, tokens[i].end, tokens[i + 1].start):
            return False
        following = tokens[i + 1]
        word = text[following.start : following.end]
        return word.islower() and following.key[-1:] in ("s", "x") and following.key not in _NOT_PLURALS

    def _number_before(self, tokens: list[Token], i: int) -> bool:
        """Before the number: another number ("de 10000 à 15000", "06 12 34 56 78")."""
        if i >= 1 and tokens[i - 1].key.isdigit():
            return True
        return i >= 2 and tokens[i - 1].key in ("a", "au", "et", "ou", "entre") and tokens[i - 2].key.isdigit()


def _ends(keys: Iterable[str]) -> frozenset[int]:
    """Where each word ends in the joined key: ("villeneuve", "d", "ascq") -> {10, 11, 15}."""
    ends, total = set(), 0
    for key in keys:
        total += len(key)
        ends.add(total)
    return frozenset(ends)


def _rank(commune: FrenchCommune) -> tuple[int, int, str]:
    """Homonyms: the two territories, then the Nord and Pas-de-Calais, then the most populous."""
    home = 0 if commune.epci_siren in TERRITORY_SIRENS else 1 if commune.department in HOME_DEPARTMENTS else 2
    return home, -(commune.population or 0), commune.insee


# Words saying where a young person lives: before a country, it is a place of residence, not an origin.
_LIVES = frozenset(
    [
        "vit",
        "vivent",
        "habite",
        "habitent",
        "reside",
        "residant",
        "residente",
        "installe",
        "installee",
        "installes",
        "domicilie",
        "domiciliee",
        "demeure",
        # English, as counsellors sometimes write: "lives in Belgium", "living in Germany", "based in Spain".
        "lives",
        "living",
        "live",
        "based",
    ]
)


def _belgian_after(text: str, tokens: list[Token], j: int) -> bool:
    """The words right after token j say Belgium: "en Belgique", "côté belge", "(Belgique)"."""
    after = [t.key for t in tokens[j + 1 : j + 3]]
    if after[:2] in (["en", "belgique"], ["cote", "belge"]):
        return True
    return after[:1] == ["belgique"] and text[tokens[j].end : tokens[j + 1].start].strip() == "("


def _belgian(place: Place, text: str, tokens: list[Token], i: int, j: int) -> Place:
    """The Belgian town of a member commune's name when the words after it say Belgium ("Mons en Belgique",
    "Comines (Belgique)"), else ``place``."""
    if place.in_territory and _belgian_after(text, tokens, j):
        surface = text[tokens[i].start : tokens[j].end]
        return replace(place, kind="abroad", name=surface, region="Belgique", epci=None, epci_siren=None,
                       insee=None, postal_codes=(), department=None, in_territory=False)  # fmt: skip
    return place


def _narrow(found: list[Place]) -> list[Place]:
    """Each place once; a postal code's communes give way to the one the question also names."""
    named = {p.insee or p.name for p in found if p.via == "name" and p.kind == "commune"}
    groups: dict[str, set[str]] = {}
    for p in found:
        if p.via == "postal_code":
            groups.setdefault(p.surface, set()).add(p.insee or p.name)
    narrowed = {code for code, members in groups.items() if members & named}
    kept: list[Place] = []
    seen: set[tuple[str, str]] = set()
    for p in found:
        if p.via == "postal_code" and p.surface in narrowed:
            continue
        identity = (p.kind, p.insee or p.department or p.region or p.name) if p.kind != "commune" else (p.kind, p.insee or p.name)
        if identity not in seen:
            seen.add(identity)
            kept.append(p)
    return kept


def _rows(name: str) -> list[list[str]]:
    """The data rows of a packaged ``ingest/data`` table (comments and header row skipped)."""
    text = resources.files("ingest").joinpath(f"data/{name}").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]


def parse_communes(rows: Iterable[list[str]]) -> list[FrenchCommune]:
    return [
        FrenchCommune(
            insee=insee,
            name=name,
            postal_codes=tuple(p for p in postal.split("|") if p),
            department=department,
            epci_siren=siren or None,
            population=int(population) if population else None,
        )
        for insee, name, postal, department, siren, population in rows
    ]


@cache
def load_france() -> France:
    """The packaged national tables and the gazetteer of the two territories (loaded once)."""
    return France(
        communes=parse_communes(_rows("france_communes.tsv")),
        epcis=[Epci(siren, name, kind, int(members)) for siren, name, kind, members in _rows("france_epcis.tsv")],
        departments=[Department(code, name, region) for code, name, region in _rows("france_departments.tsv")],
        regions=[Region(code, name) for code, name in _rows("france_regions.tsv")],
        common_words=[row[0] for row in _rows("france_common_words.tsv")],
        abroad=[(name, kind, where) for name, kind, where in [*_rows("abroad.tsv"), *_rows("pays.tsv")]],
    )
