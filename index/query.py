"""Query analysis: who the young person is, from a counsellor's question (pure, French).

Reads an age ("17 ans", "17a", "dix-sept ans") or an age range ("mineur", "entre 16 et 18 ans",
"les 16-25 ans", "moins de 26 ans"), the communes (gazetteer of the ingest package: missing accents,
case and one typo tolerated; a quartier, ``ingest.quartiers``, gives its commune: "de Wazemmes" is Lille),
quartier prioritaire (with negation: "pas en QPV"; a quartier the data gives as a QPV), situations and needs
(``ingest/data/synonyms.tsv``, read by ``ingest.vocabulary``; a trigger's silent final "s" may be missing, as in SMS style: "le permi"),
and the residual topic. Situations and needs add the documents' own words to the lexical query. A
question without a person passes through unchanged (``has_person`` is False and nothing is filtered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from index.lexical import analyse_text
from index.memo import per_question
from ingest.france import France, Place, load_france
from ingest.gazetteer import Gazetteer
from ingest.quartiers import QuartierMention, QuartierPlace, load_quartiers, quartier_place
from ingest.text import QUESTION_AGE_RANGE, fold_words
from ingest.vocabulary import english_words, french_for, load_concepts, read_concepts

# The question fold under its former name, for the modules that still import it from here
# (assistant/compose.py, assistant/answerability.py, index/intent.py): ``ingest.text.fold_words``.
fold = fold_words

_UNITS = {
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "dix sept": 17,
    "dix huit": 18,
    "dix neuf": 19,
    "vingt": 20,
    "vingt et un": 21,
    "vingt deux": 22,
    "vingt trois": 23,
    "vingt quatre": 24,
    "vingt cinq": 25,
    "vingt six": 26,
    "vingt sept": 27,
    "vingt huit": 28,
    "vingt neuf": 29,
    "trente": 30,
}
# Longest first so "dix sept" wins over "dix", "vingt cinq" over "vingt".
_WORD_AGE = re.compile(r"\b(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\s*ans?\b")
_NUM_AGE = re.compile(
    r"\b(\d{1,2})\s*(?:ans?|a|year olds?|years olds?|yo)\b(?!\s*(?:d experience|de carriere|d anciennete|de chomage|plus tard|apres))"
    r"|\baged\s+(\d{1,2})\b"  # English questions: "a 17 year old", "aged 19"
    # A bare number said of the person: "et s'il avait 18 ?", "and if she were 18?", "she is 19".
    r"|\b(?:s ils?|si elles?|il|elle|if (?:he|she|they)|(?:he|she) (?:is|s))\s+(?:a|avait|avaient|aura|were|was|is|turns|turned)?\s*(\d{2})\s*(?:\?|$|,|\.)"
    # English, said of a person before any other word: "she is 17 and lives in Roubaix", "my client is 24,
    # lives …", "my son, 16, dropped out", "a young man of 20".
    r"|\b(?:he|she|client|son|daughter|person|man|woman|girl|boy|guy|kid|student|youth)"
    r"(?:\s+(?:is|was|turns|turned|just turned)|,|\s+of| s)\s+(\d{2})\b"  # "he's 22": "he s 22" once folded
    r"(?!\s*(?:%|percent|euros?|eur|hours?|km|minutes|years? ago|months?|weeks?|days?))"
)
# "moins de 26 ans" (up to 25), "plus de 18 ans" (from 18).
_AGE_BOUND = re.compile(r"\b(moins|plus)\s+de\s+(\d{1,2})\s*ans\b")
_DURATION = re.compile(r"\b(?:depuis|pendant|durant|il y a|dans|sur)\s+(?:\w+\s+)?$")
_MINOR = re.compile(r"\bmineur(?:e|s|es)?\b")
_ADULT = re.compile(r"\bmajeur(?:e|s|es)?\b")
# Words that describe a person ("un jeune", "elle habite"): a QPV quartier is then where the person lives.
_PERSON = re.compile(
    r"\b(?:jeunes?|ados?|adolescente?s?|filles?|garcons?|mineure?s?|majeure?s?|il|elle|habite\w*|vit|vivent|reside\w*|domicilie\w*)\b"
)
_QPV = re.compile(r"\b(?:qpv|quartiers? prioritaires?|politique de la ville)\b")
_QPV_NEGATED_EN = re.compile(r"\b(?:not|outside|no)\b(?:\s+\w+){0,3}\s+(?:priority|deprived)\b")
_QPV_NEGATED = re.compile(
    # "pas de diplôme en QPV" denies the diploma, not the QPV: no "de"/"d" + noun among the words in between.
    r"\b(?:pas|hors|non|plus|ni)\s+(?:(?!(?:de|d)\s+(?!(?:la|l|un|une|les)\s)\w)\w+\s+){0,2}(?:en\s+|d[ue]\s+|dans\s+(?:un\s+|les?\s+)?)?(?:qpv|quartiers? prioritaires?|politique de la ville)\b"
)


@dataclass(frozen=True)
class QueryAnalysis:
    """What was understood from a question (the `filters` of `reperes ask --json`)."""

    text: str
    age: int | None = None
    age_min: int | None = None  # a range in the question ("mineur" -> max 17, "entre 16 et 18 ans")
    age_max: int | None = None
    communes: tuple[str, ...] = ()  # communes of the MEL and Valenciennes Métropole only
    epci: str | None = None  # "MEL" / "CAVM": from the communes or a metropolitan phrase
    qpv: bool | None = None  # True: lives in a QPV; False: explicitly not; None: not said
    situations: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    expansions: tuple[str, ...] = field(default=(), compare=False)
    # An English question's words in the documents' French ("young people signed" -> "jeunes", "signé"):
    # searched with it and read by the answerer (``ingest/data/english.tsv``).
    translations: tuple[str, ...] = field(default=(), compare=False)
    topic: str = ""
    # Every place understood, in order: the communes above, communes elsewhere in France ("Denain"),
    # departments and regions ("dans le Nord"), postal codes' communes, quartiers of the two territories
    # (``kind`` "quartier", with their ``commune`` and ``qpv``: "Wazemmes" fills ``communes`` with Lille).
    places: tuple[Place, ...] = ()

    @property
    def outside(self) -> tuple[Place, ...]:
        """The places of residence outside both territories (a commune of the CA de la Porte du Hainaut, the
        Var…); not a place where the person works or studies ("un stage à Lyon"). A question that names no
        place of the two territories and an organisation or action elsewhere ("la Mission Locale d'Arras",
        "un forum emploi à Douai") is about that place: it counts too."""
        homes = tuple(p for p in self.places if p.outside)
        if homes or any(p.in_territory for p in self.places):
            return homes
        return tuple(p for p in self.places if p.located and p.in_territory is False)

    @property
    def lives_outside(self) -> bool:
        """True when the question places the person's home outside the MEL and Valenciennes Métropole only
        ("à Denain"; "à Denain, cherche un stage à Lille": Lille is not where they live)."""
        home_inside = any(p.kind in ("commune", "quartier") and p.in_territory and p.residence for p in self.places)
        # "dans le Nord/Pas-de-Calais": areas only, one of which holds both territories (the Nord): not outside.
        areas = ("department", "region")
        around = all(p.kind in areas for p in self.outside) and any(
            p.kind in areas and p.in_territory is None and p.residence for p in self.places
        )
        return bool(self.outside) and not home_inside and not around and not (self.communes and not self.places)

    @property
    def has_person(self) -> bool:
        """True when the question describes a person (age, place or situation) that eligibility can check."""
        return (
            self.age is not None
            or self.age_min is not None
            or self.age_max is not None
            or bool(self.communes)
            or bool(self.outside)
            or self.qpv is not None
        )

    @property
    def has_criteria(self) -> bool:
        """True when eligibility has something to check: a person, or a territory alone ("à Valenciennes
        Métropole", the filters panel's territory) that rules out the other metropolis' actions."""
        return self.has_person or self.epci is not None

    @property
    def lexical_query(self) -> str:
        """The question plus the documents' words for its situations and needs."""
        return " ".join([self.text, *self.expansions])

    def to_json(self) -> dict[str, Any]:
        return {
            "age": self.age,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "communes": list(self.communes),
            "epci": self.epci,
            "qpv": self.qpv,
            "situations": list(self.situations),
            "needs": list(self.needs),
            "topic": self.topic,
            "places": [p.to_json() for p in self.places],
        }


def _ages(folded: str) -> tuple[int | None, int | None, int | None, list[tuple[int, int]]]:
    """(age, age_min, age_max, spans used) read from a folded question."""
    spans: list[tuple[int, int]] = []
    age = age_min = age_max = None
    for m in QUESTION_AGE_RANGE.finditer(folded):
        low, high = int(m.group(1)), int(m.group(2))
        if 5 <= low <= high <= 99:
            age_min, age_max = low, high
            spans.append(m.span())
    for m in _AGE_BOUND.finditer(folded):
        value = int(m.group(2))
        spans.append(m.span())  # consumed even as a duration ("depuis plus de 10 ans"): not an age either
        if not 10 <= value <= 36 or _DURATION.search(folded[: m.start()]):
            continue
        if m.group(1) == "moins" and age_max is None:
            age_max = value - 1
        elif m.group(1) == "plus" and age_min is None:
            age_min = value
    for m in _NUM_AGE.finditer(folded):
        value = int(next(g for g in m.groups() if g))
        inside_range = any(a <= m.start() < b for a, b in spans)
        if inside_range or not 10 <= value <= 35 or _DURATION.search(folded[: m.start()]):
            continue
        age = value
        spans.append(m.span())
        break
    if age is None:
        word = _WORD_AGE.search(folded)
        if word and not _DURATION.search(folded[: word.start()]):
            age = _UNITS[word.group(1)]
            spans.append(word.span())
    if age is None and age_max is None and _MINOR.search(folded):
        age_max = 17
    if age is None and age_min is None and _ADULT.search(folded):
        age_min = 18
    return age, age_min, age_max, spans


def analyse(question: str, gazetteer: Gazetteer | None = None, france: France | None = None) -> QueryAnalysis:
    """Read the person and the topic out of ``question`` (see the module docstring)."""
    if gazetteer is None and france is None:
        return _analysed(question)
    return _analyse(question, gazetteer, france)


@per_question(1024)
def _analysed(question: str) -> QueryAnalysis:
    """``analyse`` with the bundled tables, remembered: one answer reads the same text at several stages (the
    chain, the follow-up tests, the question's reading, the composer's checks), each a few milliseconds. The
    analysis is a frozen record of the text alone."""
    return _analyse(question, None, None)


def _analyse(question: str, gazetteer: Gazetteer | None, france: France | None) -> QueryAnalysis:
    original, question = question, _SELF.sub(" ", question)
    france = france or load_france()
    gazetteer = gazetteer or france.gazetteer
    folded = fold_words(question)
    age, age_min, age_max, spans = _ages(folded)

    # The places of the whole country, the two territories' communes among them ("59120" is Loos).
    places: tuple[Place, ...] = ()
    if gazetteer is france.gazetteer:
        # A quartier ("de Wazemmes", "quartier Chasse Royale") places the person in its commune, as if typed.
        places = _with_quartiers(question, france.find_places(question), load_quartiers().mentions(question), france)
        places = _not_home(question, places)
        intro = _SELF.search(original)
        if intro and not places:
            # "Je suis conseillère à la Mission Locale de Lens : quelle action pour un jeune de 19 ans ?": with no
            # place of the person, a structure outside both territories says the documents do not cover them
            # (one inside says nothing of where the young person lives).
            structure = re.sub(r"^.*?\s(?:at|in|for|à|a|au|en|dans|chez|pour)\s+", "", intro.group(0), count=1, flags=re.I)
            places = tuple(p for p in france.find_places(structure) if p.in_territory is False)
        # Where the young person lives: a commune they only go to ("une action à Lille", "un stage à Roubaix")
        # is not checked against the actions' territories when their home is given.
        homes = [p for p in places if home_commune(p) and p.residence]
        communes = tuple(dict.fromkeys(name for name in map(home_commune, homes or places) if name))
    else:  # a gazetteer of its own: its communes only
        communes = tuple(dict.fromkeys(c.name for c in gazetteer.find_in_question(question)))
    # "il habite hors MEL", "en dehors de la métropole": a home outside both territories, no place named.
    beyond = _BEYOND.search(question)
    if beyond and gazetteer is france.gazetteer and not any(p.outside for p in places):
        phrase = " ".join(beyond.group(0).split())
        places += (Place(kind="region", name=phrase[:1].upper() + phrase[1:], surface=phrase, in_territory=False),)
    epcis = {gazetteer.epci_of(name) for name in communes} - {None}
    scopes = gazetteer.scopes(_BEYOND.sub(" ", question))
    # One territory only: "MEL vs Valenciennes Métropole" compares, it does not place a person.
    epci = next(iter(epcis)) if len(epcis) == 1 else (scopes[0] if len(set(scopes)) == 1 else None)

    # An English question's needs are read in the documents' French too ("digital jobs" -> "numérique").
    translations = french_for(question)
    qpv: bool | None = None
    if _QPV_NEGATED.search(folded) or _QPV_NEGATED_EN.search(folded):
        qpv = False
    elif _QPV.search(folded) or any(_QPV.search(fold_words(t)) for t in translations):
        qpv = True  # ("priority neighbourhoods": "quartiers prioritaires")

    situations: list[str] = []
    needs: list[str] = []
    expansions: list[str] = []
    readable = " ".join([folded, *(fold_words(t) for t in translations)])
    for concept in read_concepts(readable):
        if concept.key == "qpv" and qpv is not True:
            continue  # "pas en QPV" must not pull QPV-only actions up
        (situations if concept.kind == "situation" else needs).append(concept.key)
        expansions += [e for e in concept.expansions if e not in expansions]
    in_qpv_quartier = any(isinstance(p, QuartierPlace) and p.qpv and p.residence for p in places)
    described = age is not None or age_min is not None or age_max is not None or bool(situations) or bool(_PERSON.search(folded))
    if qpv is None and in_qpv_quartier and described:
        # A young person who lives in a quartier the data gives as a QPV ("jeune de 17 ans du quartier Chasse
        # Royale"). Only when the question says nothing of QPVs itself: "pas en QPV" (or "en QPV") as written
        # wins over the table; and not for a question about the quartier ("le taux d'emploi du quartier Lecocq").
        qpv = True

    topic = folded
    for a, b in sorted(spans, reverse=True):
        topic = topic[:a] + " " + topic[b:]
    for place in places:  # a quartier first: its name may hold its commune's ("Lille-Sud", "Loos-les-Oliveaux")
        if place.kind == "quartier" and place.surface:
            topic = re.sub(rf"\b{re.escape(fold_words(place.surface))}\b", " ", topic)
    for mention in gazetteer.mentions(question, question=True):
        if mention.commune is not None:  # as typed: "Roubiax", "lilloise", "st saulve"
            topic = topic.replace(fold_words(mention.surface), " ")
    for place in places:  # "Denain", "59120", "le Nord"
        if place.surface:
            topic = re.sub(rf"\b{re.escape(fold_words(place.surface))}\b", " ", topic)
    # Prepositions left dangling by the removals ("de 17 ans à Loos" -> "de a", "au 59300", "dans le Nord").
    topic = re.sub(
        r"\b(?:de|a|d|du|au|aux|en|sur|dans(?:\s+(?:le|la|l))?)\s+(?=(?:de|a|d|du|au|aux|en|sur|dans)\b|[,.;:?!]|$)", " ", topic
    )
    return QueryAnalysis(
        text=original,
        age=age,
        age_min=age_min,
        age_max=age_max,
        communes=communes,
        epci=epci,
        qpv=qpv,
        situations=tuple(situations),
        needs=tuple(needs),
        expansions=tuple(dict.fromkeys([*expansions, *translations])),
        translations=translations,
        topic=" ".join(topic.split()),
        places=places,
    )


# A place the question sets aside ("Béthune, pas le faubourg à Lille", "il n'habite pas à Roubaix"): the
# negation, then up to four words, then the place, inside one clause.
_NEGATED_BEFORE = re.compile(
    r"(?:\bpas|\bnon|\bni|plutôt que|plutot que|au lieu de)(?:\s+(?!mais\b|plut)[^\s,;.!?()]+){0,4}\s+$", re.I
)
# A home said to be outside the territories without naming the place ("hors MEL", "en dehors de la métropole").
_BEYOND = re.compile(
    r"\b(?:hors|en\s+dehors|à\s+l['’]\s*extérieur|a\s+l['’]\s*exterieur|loin)\s+(?:de\s+|du\s+|des\s+)?(?:la\s+|l['’]\s*)?"
    r"(?:MEL\b|m[ée]tropole(?:\s+lilloise)?\b|agglo(?:m[ée]ration)?\b|Valenciennes\s+M[ée]tropole\b|CAVM\b|territoire\b)",
    re.IGNORECASE,
)
# A place said to be in a department or region elsewhere: "Moulins dans l'Allier", "Loos (62)".
_QUALIFIER = re.compile(r"\s*(?:,\s*)?(?:\(\s*|dans\s+(?:l['’]\s*|le\s+|la\s+|les\s+)?|en\s+)")


def _not_home(question: str, places: tuple[Place, ...]) -> tuple[Place, ...]:
    """``places`` without the places of the two territories the question sets aside (a negation before it)
    or says are elsewhere ("Moulins dans l'Allier" is not Lille's quartier of Moulins), when another place
    is left to be the home."""
    outside = [p for p in places if p.in_territory is False and p.surface]
    dropped = set()
    for k, place in enumerate(places):
        if not place.in_territory or not place.surface:
            continue
        at = question.find(place.surface)
        if at < 0:
            continue
        clause = re.split(r"[,;:.!?()]", question[:at])[-1]
        after = question[at + len(place.surface) :]
        qualifier = _QUALIFIER.match(after)
        elsewhere = qualifier is not None and any(after[qualifier.end() :].startswith(o.surface) for o in outside)
        if _NEGATED_BEFORE.search(clause + " ") or elsewhere:
            dropped.add(k)
    if not dropped or len(dropped) == len(places):
        return places
    return tuple(p for k, p in enumerate(places) if k not in dropped)


# The counsellor introducing themself ("I work at a Mission Locale near Lille", "je suis conseillère à la
# Mission Locale de Roubaix"): neither the young person's home nor a need ("work").
_SELF = re.compile(
    r"\b(?:i\s+work|i\s+am\s+a\s+\w+|i'm\s+a\s+\w+|je\s+(?:travaille|bosse)|je\s+suis\s+(?:conseill\w*|éducat\w*|educat\w*|référent\w*|referent\w*))"
    r"\s+(?:at|in|for|à|a|au|en|dans|chez|pour)\s+(?:(?:the|a|an|la|le|l['’]\s*|une?)\s*)?"
    r"(?:mission\s+locale|ml|association|structure|centre\s+social|maison\s+de\s+quartier|pij|[A-Z][\w'’-]+)"
    r"(?:\s+(?:jeunes\s+)?(?:near|close\s+to|de|du|des|d['’]\s*|à|a|in|of|près\s+de|pres\s+de)\s*[A-ZÀ-Ý][\w'’-]+(?:[\s-][A-ZÀ-Ý][\w'’-]+)*)?",
    re.IGNORECASE,
)


def home_commune(place: Place) -> str | None:
    """The commune of the two territories a place gives: a member commune's name, a quartier's commune."""
    if isinstance(place, QuartierPlace):
        return place.commune
    return place.name if place.kind == "commune" and place.in_territory else None


def _with_quartiers(question: str, places: list[Place], mentions: list[QuartierMention], france: France) -> tuple[Place, ...]:
    """The places of a question with its quartiers, in the order they are written.

    A commune elsewhere in France read inside a quartier's name gives way to it ("quartier Saint-Pierre" in
    Condé); ``ingest.france`` already ignores the names the quartiers table holds ("à Moulins")."""
    if not mentions:
        return tuple(places)
    positioned: list[tuple[int, int, Place]] = []
    at = 0
    for place in places:
        found = question.find(place.surface, at) if place.surface else -1
        start = found if found >= 0 else at
        at = start
        overlaps = found >= 0 and any(m.start < start + len(place.surface) and start < m.end for m in mentions)
        if not (overlaps and place.in_territory is not True):
            positioned.append((start, len(positioned), place))
    positioned += [(m.start, len(positioned) + n, quartier_place(m, france)) for n, m in enumerate(mentions)]
    return tuple(p for _, _, p in sorted(positioned, key=lambda item: (item[0], item[1])))


_FOLLOW_UP = re.compile(
    r"^(?:et|mais|aussi|sinon|ou|alors|c est)\b|\b(?:il|elle|ils|elles|lui|leur|ca|cela|cette action|ce dispositif|ce programme|la meme|le meme)\b"
)


# A follow-up that brings another subject for the same person: "et pour une aide au transport ?",
# "et côté MEL, il y a un événement ?".
_SWITCH = re.compile(
    r"^(?:et|mais|sinon)\s+(?:pour\s+(?:l|la|le|les|un|une|des|du|ses|son|sa)\b|cote\b|concernant\b|niveau\b|sinon\b)"
)


def is_follow_up(question: str) -> bool:
    """True when a question leans on the previous one ("et s'il a 19 ans ?", "tu as une adresse mail ?")."""
    folded = fold_words(question)
    # Elided words ("c'", "l'", "qu'") do not lengthen a question: "c'est pour quel âge exactement ?" is short.
    if ordinal(question):
        return True  # "un contact pour la deuxième ?": one of the pistes shown
    return bool(_FOLLOW_UP.search(folded)) or len([w for w in folded.split() if len(w) > 1]) <= 6


# Stems that carry no subject in a follow-up: thanks and acknowledgements ("ok merci, t'as un mail ?"), and the
# English words of the roles and contacts asked ("who runs it?", "what's the email?").
_FILLER = frozenset(
    {"ok", "okay", "merc", "bon", "sup", "top", "accord", "parfait", "nickel", "thank", "great", "cool", "alright"}
    | {"run", "organis", "organiz", "manag", "lead", "email", "phon", "numb", "address", "contact", "locat", "where"}
)


# Stems of a follow-up that ask again about what was shown, not about a new subject: contact, age,
# place of residence, price, dates, conditions ("tu as un contact ?", "c'est pour quel âge ?").
_RESTATING = frozenset(
    [
        "contact",
        "adress",
        "mail",
        "courriel",
        "telephon",
        "numero",
        "vert",  # "le numéro vert": a helpline is a phone
        "portabl",
        "joindr",
        "appel",
        "ecrir",
        "coordonne",
        "detail",  # "the contact details", "les détails"
        "info",
        "quel",
        "age",
        "combien",
        "jeun",
        "si",
        "habit",
        "veut",
        "etre",
        "quand",
        "dej",
        "auss",
        "encor",
        "plus",
        "ca",
        "cel",
        "cout",
        "prix",
        "tarif",
        "loi",  # "loyer" (the stemmer's)
        "mont",  # "montant"
        "gratuit",
        "pai",  # "payant", "payer"
        "dure",
        "dur",
        "dat",
        "heur",
        "plac",
        "temp",  # "combien de temps"
        "horair",
        "inscrir",
        "inscript",
        "lieu",
        "equip",  # "ça se passe dans quels équipements ?"
        "pass",  # "ça se passe où ?" ("passer le permis" keeps "permis")
        "locaux",
        "condit",
        "criter",
        "vit",
        "viv",
        "etait",
        "avait",
        "cet",
        "celui",
        "action",
        "disposit",
        "programm",
        # A role of the people an action gives: "tu as le numéro du coordinateur ?", "c'est qui le porteur ?".
        "coordin",
        "coordon",  # "qui coordonne ?"
        "pilot",  # "qui pilote ?"
        "financ",  # "qui finance ?"
        "occup",  # "qui s'en occupe ?"
        "respons",
        "referent",
        "charg",
        "charge",
        "directeur",
        "directric",
        "anim",
        "conseil",
        "conseiller",
        "porteur",
        "port",  # "c'est porté par qui ?", "qui porte ça ?"
        "organis",
        "ger",  # "qui gère ?"
        # Which of the pistes shown: "pour la première", "la deuxième", "la dernière".
        "premi",
        "premier",
        "deuxiem",
        "second",
        "troisiem",
        "quatriem",
        "derni",
        "dernier",
        # Adverbs that only insist: "c'est pour quel âge exactement ?", "précisément", "au maximum".
        "exact",
        "precis",
        "vraiment",
        "bien",
        "maximum",
        "minimum",
        "max",
        "min",
        "limit",
    ]
)
_QPV_STEMS = frozenset({"quarti", "prioritair", "qpv", "politiqu", "vill"})


def leans_on_previous(question: str) -> bool:
    """True for a follow-up without a subject of its own: it asks about what the previous answer showed.

    "tu as un contact ?", "c'est pour quel âge ?", "et s'il a 19 ans ?", "et s'il habitait Roubaix ?"
    lean on it; "et pour une aide au transport ?" brings its own subject (the person is still kept).
    """
    folded = fold_words(question)
    if _THE_ONE_WITH.search(folded) and not analyse(question).has_person:
        return True  # "celle avec les clubs de sport, ça dure combien ?": one of the pistes just shown
    if not is_follow_up(question):
        # "Les jeunes sont rémunérés pendant les sessions ?": a short question about "the sessions" of no action
        # named, nor of any person or place, asks about the sessions just shown.
        words = [w for w in folded.split() if len(w) > 1]
        pointer = _THE_KIND.search(folded)
        # ("le programme Booster": the kind names the action after it; it points at none)
        named = pointer is not None and re.search(rf"(?i:\b{pointer.group(0).split()[-1]}s?)\s+[«\"“]?\s*[A-ZÀ-Ý]", question)
        if len(words) <= 9 and pointer and not named and not _THE_KIND_OPENING.match(folded):
            bare = analyse(question)
            return bare.age is None and not bare.communes and not bare.places and not bare.situations
        # "Great, can I get the contact details?": English asks with no subject of its own, without French's "et".
        return bool(english_words(question)) and len(words) <= 12 and not _own_subject(question)
    if _THAT_ONE.search(folded) or _THERE.search(folded) or _THE_KIND.search(folded):
        # "cette action d'hébergement, c'est porté par qui ?": its words say which one was shown; "un jeune de
        # 28 ans demandeur d'emploi, il peut y aller ?": "y" is what was shown, whatever else is said.
        return True
    return not _own_subject(question)


def _own_subject(question: str) -> set[str]:
    """The words of ``question`` that name a subject of its own (not restating, filler, English function words)."""
    analysis = analyse(question)
    english = english_words(question)  # "Who should I contact?": "who", "should" are no subject
    # "et le contact pour orienter quelqu'un ?": what the counsellor will do with the answer is no subject.
    words = re.findall(r"[^\W_]+", _PURPOSE.sub(" ", fold_words(analysis.topic)))
    own = set(analyse_text(" ".join(w for w in words if w not in english))) - _RESTATING - _FILLER
    if analysis.qpv is not None:
        own -= _QPV_STEMS
    return own


_ORDINALS = {"premier": 1, "premiere": 1, "1re": 1, "1ere": 1, "deuxieme": 2, "second": 2, "seconde": 2, "2e": 2, "2eme": 2,
             "troisieme": 3, "3e": 3, "3eme": 3, "quatrieme": 4, "4e": 4, "4eme": 4}  # fmt: skip


# What the counsellor will do with a contact: "pour orienter quelqu'un", "pour l'inscrire", "pour y envoyer un jeune".
_PURPOSE = re.compile(
    r"\bpour\s+(?:l\s+|le\s+|la\s+|les\s+|y\s+|lui\s+)?(?:orienter|inscrire|adresser|envoyer|positionner|presenter)"
    r"(?:\s+(?:quelqu\s*un|un\s+jeune|le\s+jeune|mon\s+jeune|ma\s+jeune|des\s+jeunes))?\b"
)
# Taking part in what was shown, pointed at by "y" or "en": "il peut y aller ?", "elle peut s'y inscrire ?",
# "il peut en bénéficier ?" ("il y a …" is no such pointer: "a" is not a verb of taking part).
_THERE = re.compile(
    r"\b(?:y|en)\s+(?:aller|participer|entrer|acceder|postuler|pretendre|(?:avoir|a)\s+(?:droit|acces)|"
    r"beneficier|profiter|etre\s+(?:admise?|accepte|acceptee|inscrite?)|inscrire|rentrer)\b"
)
# What was shown, by the kind of thing it is, with a definite article: "elle dure combien de temps, la
# mission ?", "les ateliers ont lieu quel jour ?" ("et pour une formation ?", "et pour la formation ?" ask for one).
_THE_KIND = re.compile(
    r"(?<!pour )\b(?:cette|ce|cet|ces|la|le|l|les)\s+(?:mission|formation|stage|stages|atelier|ateliers|session|sessions|"
    r"projet|parcours|accompagnement|programme|dispositif|action|structure|association|asso|dossier|inscription|candidature|demarche)\b"
)
# "Les formations pour un jeune de 19 ans ?", "la formation BAFA c'est où ?": a kind opening the question asks
# for those things, not about the one shown.
_THE_KIND_OPENING = re.compile(
    r"^(?:quel\w*\s+sont\s+)?(?:les|la|le|l)\s+(?:mission|formation|stage|atelier|session|projet|parcours|accompagnement|programme|dispositif|action|structure|association)s?\b"
)
# One piste pointed at without its rank: "celle-là", "celui-ci", "cette action" (the first one shown).
_THAT_ONE = re.compile(r"\b(?:celle|celui)\s+(?:la|ci)\b|\bcette action\b|\bce dispositif\b|\bce programme\b")


# One piste pointed at by what it has or does: "celle avec les clubs de sport", "celui pour les filles".
_THE_ONE_WITH = re.compile(
    r"\b(?:celle|celui|l action|le dispositif|le programme|la formation)\s+(?:avec|pour|qui|sur|ou|dans)\s+(?P<what>[^,?.!;]{3,60})"
)


def picked_by(question: str) -> frozenset[str]:
    """The words a follow-up points at one piste by ("celle avec les clubs de sport": "clubs", "sport"),
    their first five letters, or an empty set."""
    match = _THE_ONE_WITH.search(fold_words(question))
    if match is None:
        return frozenset()
    return frozenset(w[:5] for w in match["what"].split() if len(w) > 3 and w not in _FILLER)


def ordinal(question: str) -> int:
    """Which piste a follow-up points at ("un contact pour la deuxième ?" -> 2; "celle-là" -> 1), 0 when none."""
    folded = fold_words(question)
    return next((_ORDINALS[w] for w in folded.split() if w in _ORDINALS), 1 if _THAT_ONE.search(folded) else 0)


# Situations a person has one of: "et pour un garçon du même âge ?" replaces the girl; "et si elle était au
# lycée ?" the collégienne.
_EXCLUSIVE = (frozenset({"fille", "garcon"}), frozenset({"collegien", "lyceen", "etudiant"}))


# Another young person than the one described: a relative or friend, someone of another school or work status,
# "un autre jeune".
_OTHER_PERSON = re.compile(
    r"\b(?:pour|si c est|si c etait|et)\s+(?:une?|sa|son|ses|des|leur)\s+(?:autre\s+(?:jeune|fille|garcon)|"
    r"cousine?s?|freres?|soeurs?|amie?s?|copains?|copines?|voisine?s?|etudiante?s?|collegien(?:ne)?s?|lyceen(?:ne)?s?|"
    r"apprentie?s?|petite?\s+(?:frere|soeur|cousine?))\b"
)
_SAME_AGE = re.compile(r"\bmeme\s+age\b")


def _kept(earlier: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    """The earlier situations a follow-up keeps: all but those of a group it names another one of."""
    replaced = {key for group in _EXCLUSIVE if group & set(new) for key in group - set(new)}
    return tuple(key for key in earlier if key not in replaced)


def _without(expansions: tuple[str, ...], dropped: set[str]) -> tuple[str, ...]:
    """``expansions`` without the words of the ``dropped`` situations."""
    words = {e for c in load_concepts() if c.key in dropped for e in c.expansions}
    return tuple(e for e in expansions if e not in words)


def in_context(question: str, history: list[str] | tuple[str, ...]) -> tuple[str, QueryAnalysis]:
    """The text to search and the person to check for a question asked after ``history``.

    A follow-up keeps the earlier questions' person and subject, with what the new question changes:
    "et s'il a 19 ans ?" replaces the age, "et à Roubaix ?" the commune. The search text is the last
    earlier question followed by the new one. A question that stands alone is analysed alone.
    """
    current = analyse(question)
    if not history or not is_follow_up(question):
        return question, current
    merged = analyse(history[0])
    for earlier in [*history[1:], question]:
        step = current if earlier is question else analyse(earlier)
        age_given = step.age is not None or step.age_min is not None or step.age_max is not None
        # "et pour une étudiante de L1 qui veut tout arrêter ?", "et pour sa cousine ?": another young person,
        # whose age is not the earlier one's ("et pour une fille ?" only changes the gender).
        other = bool(_OTHER_PERSON.search(fold_words(earlier))) and not age_given and not _SAME_AGE.search(fold_words(earlier))
        # "et à Denain ?" moves the person as "et à Roubaix ?" does; "et côté MEL ?" changes the territory.
        moved = bool(step.communes) or bool(step.outside)
        territory_changed = bool(step.epci) and step.epci != merged.epci
        merged = QueryAnalysis(
            text=earlier,
            age=step.age if age_given or other else merged.age,
            age_min=step.age_min if age_given or other else merged.age_min,
            age_max=step.age_max if age_given or other else merged.age_max,
            # "et côté MEL ?" changes the territory: the earlier communes of another one no longer hold.
            communes=step.communes if moved else (() if territory_changed else merged.communes),
            epci=step.epci if moved or step.epci else merged.epci,
            qpv=step.qpv if step.qpv is not None else merged.qpv,
            situations=tuple(dict.fromkeys([*(kept := _kept(merged.situations, step.situations)), *step.situations])),
            needs=tuple(dict.fromkeys([*merged.needs, *step.needs])),
            expansions=tuple(dict.fromkeys([*_without(merged.expansions, set(merged.situations) - set(kept)), *step.expansions])),
            translations=tuple(dict.fromkeys([*merged.translations, *step.translations])),
            topic=" ".join(x for x in (merged.topic, step.topic) if x),
            places=step.places if moved or territory_changed else tuple(dict.fromkeys([*merged.places, *step.places])),
        )
    # "et pour l'aide au BAFA ?" switches the subject: search it alone, the person kept (age, place,
    # QPV, situations), the earlier needs and words dropped.
    # "et pour un garçon du même âge ?" changes the person, not the subject: only a need named switches.
    if _SWITCH.search(fold_words(question)) and current.needs:
        # Who the person is still says which actions fit ("étudiant": a student's housing): the words of
        # their situations stay in the search.
        situated = [e for c in load_concepts() if c.key in merged.situations for e in c.expansions]
        expansions = tuple(dict.fromkeys([*current.expansions, *situated]))
        switched = {"needs": current.needs, "expansions": expansions, "topic": current.topic}
        return question, QueryAnalysis(**{**merged.__dict__, **switched, "text": question})
    text = f"{history[-1]} {question}"
    return text, QueryAnalysis(**{**merged.__dict__, "text": text})


@dataclass(frozen=True)
class Filters:
    """The chat's filters panel: the young person's commune, age and territory, set beside the question.

    They feed the same analysis as the question: what the question itself says wins (a counsellor who
    types "et à Roubaix ?" means Roubaix), the panel fills in what it leaves out.
    """

    commune: str | None = None
    age: int | None = None
    territory: str | None = None  # "MEL" or "CAVM"

    def __post_init__(self) -> None:
        if self.age is not None and not 10 <= self.age <= 99:
            raise ValueError(f"âge {self.age} invalide dans les filtres : indiquez un âge entre 10 et 99 ans.")
        if self.territory not in (None, "MEL", "CAVM"):
            raise ValueError(
                f"territoire « {self.territory} » inconnu dans les filtres : choisissez MEL ou CAVM (Valenciennes Métropole)."
            )

    @property
    def empty(self) -> bool:
        return self.commune is None and self.age is None and self.territory is None


def with_filters(
    analysis: QueryAnalysis, filters: Filters | None, gazetteer: Gazetteer | None = None, france: France | None = None
) -> QueryAnalysis:
    """``analysis`` completed by the filters panel; an unknown commune is a French error naming it.

    The panel's commune may be anywhere in France, by name or postal code: "Denain" is accepted and
    recorded as a place outside the two territories (``places``), "59120" is Loos."""
    if filters is None or filters.empty:
        return analysis
    france = france or load_france()
    gazetteer = gazetteer or france.gazetteer
    changes: dict[str, Any] = {}
    asked_age = analysis.age is not None or analysis.age_min is not None or analysis.age_max is not None
    if filters.age is not None and not asked_age:
        changes["age"] = filters.age
    if filters.commune and not analysis.communes and not analysis.outside:
        if gazetteer is france.gazetteer:
            found = france.lookup(filters.commune)
            quartier = load_quartiers().get(filters.commune) if not found else None
            if quartier is not None:  # a quartier typed in the commune field: "Wazemmes" is Lille
                value = filters.commune.strip()
                found = [quartier_place(QuartierMention(0, len(value), value, quartier, "name"), france)]
        else:  # a gazetteer of its own: its communes only
            found = [france.home_place(c, filters.commune) for c in gazetteer.find_in_question(filters.commune)[:1]]
        if not found:
            raise ValueError(
                f"commune « {filters.commune} » inconnue dans les filtres : indiquez une commune française (son nom ou son code postal)."
            )
        changes["places"] = (*analysis.places, *found)
        inside = tuple(dict.fromkeys(name for name in map(home_commune, found) if name))
        if inside:
            changes["communes"] = inside
            changes["epci"] = gazetteer.epci_of(inside[0])
            # The commune's name helps the lexical search as if it had been typed.
            changes["expansions"] = (*analysis.expansions, *inside)
    placed = analysis.communes or analysis.outside or "communes" in changes or any(p.outside for p in changes.get("places", ()))
    if filters.territory and not placed and analysis.epci is None:
        changes["epci"] = filters.territory
    return QueryAnalysis(**{**analysis.__dict__, **changes}) if changes else analysis
