"""People and organisations of a contact passage, each with the details the text gives *it*.

``extract_people`` reads a block of lines (a guide card's "POUR EN SAVOIR PLUS" block, the guide's
directory, a slide's "Intervenants" list, a paragraph of prose) and returns one ``Contact`` per
person or organisation. Pure functions, no I/O; values are as written (typos kept), e-mails cut with a
hyphen at a line end are joined as ``ingest.metadata`` does.

An e-mail, phone or web address belongs to a person only when the text puts them together:

* the same line or sentence: "M. Olivier Rovere - olivier.rovere@ars.sante.fr – 03 62 72 86 61",
  "Jean Dupont, chargé de mission – jdupont@x.fr – Tél : 06 …";
* the guide's layout: a block of lines "function / name / e-mail / phone / site" with no other name
  in between (001 l.140-150, 797-810); the function line before the name is the role ("Coordinatrice",
  "Chargé de projet emploi"), a function line right after a name is that name's role. In the
  directory (l.6281-), an entry is a paragraph "[organisation] / function / name / e-mail / [Tél]"
  closed by "Action(s) concernée(s) … p.N": a phone never crosses from one entry to the next
  (l.6283-6294: 03 20 12 87 36 is Olivier Letailleur's, Catherine Kev has none). The organisation
  line heads its entries and, in the directory only, the entries that follow it without one.

Details after a blank line belong to the single person of the block when the block has only one
(a cut e-mail repaired in place leaves such a blank line, 001 l.2811-2813); with several people they
get no owner. An organisation's own details stay the organisation's (``name`` None): a generic address
(contact@, accueil@ …), a line labelled "Standard"/"Accueil", details on the line of an organisation's
name ("Mission Locale … : 03 20 …"). Several people followed by shared details ("Marie Lefebvre /
Paul Girard / Tél : …", "A et B : 06 …") are never paired by position: each person is returned without
the details, the details without an owner, all with ``text`` = the lines as written.

Names are "Prénom Nom", "Prénom NOM", "M. / Mme X": never commune labels, titles in capitals, icon
lines (a leading space: social handles whose icon was lost), nor "POUR EN SAVOIR PLUS". A bare name
line counts only with a layout cue (a function line, its own details, a "pour :" line, an
"Intervenants :" list); inside a line a name counts after a civility, after a cue ("Intervenants :",
"contactez"), as the next item of a list of people, when a function or details follow it, or at the
start of a line that also gives a function, an organisation or details ("Aline Messaoudi, Roubaix" over
her e-mail line, not "Bois Blanc, Lille Sud, Fives" in prose).

Known limits: no first-name lexicon, so an organisation shaped like a name ("Condition Publique") is
told apart by its place only (it heads the entries, before a function line); an indented line without
a civility is read as an icon line, never as a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.metadata import SHORT_NUMBER, clean_spaces, find_urls, join_cut_emails
from ingest.records import Contact
from ingest.text import CONTACT_EMAIL, CONTACT_PHONE, fold

# ---------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------

_A = "['’]"


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A function, at the start of a line or after a comma/dash: "Coordinatrice", "Chargée de mission",
# "Cheffe de projet", "Directeur du centre social", "Référent CLAP", "CPE au lycée …".
_ROLE = re.compile(
    rf"(?:co-?)?coordinat(?:eur|rice)s?\b|charg[ée]e?s?\s+(?:de|des|du|d{_A})|chef(?:fe)?s?\s+(?:de|du|d{_A})|"
    r"direct(?:eur|rice)s?\b|responsables?\b|conseill(?:er|ère)s?\b|r[ée]f[ée]rent(?:e)?s?\b|animat(?:eur|rice)s?\b|"
    r"(?:vice-)?présidente?s?\b|déléguée?s?\b|assistante?s?\b|secrétaires?\b|éducat(?:eur|rice)s?\b|"
    r"médiat(?:eur|rice)s?\b|CPE\b|principale?\b|proviseur|adjointe?s?\b|gestionnaires?\b|psychologues?\b|"
    r"infirmi(?:er|ère)s?\b|format(?:eur|rice)s?\b|accompagnat(?:eur|rice)s?\b|correspondante?s?\b|"
    r"pilotes?\b|élue?s?\b|maire\b|agent(?:e)?s?\s+(?:de|d{_A})|inspect(?:eur|rice)s?\b|coach\b|tut(?:eur|rice)s?\b|"
    r"intervenante?s?\b|manager\b",
    re.IGNORECASE,
)
ROLE = _ROLE  # public: a question asking "qui est le référent …" asks for a person (assistant.compose)
# Organisations, at the start of a line: "Mission locale Métropole Sud", "Ville de Croix", "Centre social Echo".
_ORG = re.compile(
    rf"(?:missions?\s+locales?|ML\s+[A-Z]|maisons?\s+(?:de|des|du|d{_A})|villes?\s+(?:de|du|d{_A})|mairie|CCAS\b|"
    r"centres?\s+soci|association|fédération|groupe\s|laboratoire|[ée]cole|métropole|direction\b|services?\s|"
    r"agence|universit|lycée|collège|conseil\s|département|région|pôle\s+emploi|france\s+travail|cap\s+emploi|"
    r"point\s+information|espace\s|PIJ\b|BIJ\b|CRIJ\b|E2C\b|fondation|institut|foyer|club\s|réseau|plateforme|"
    r"préfecture|communauté|caisse|CAF\b|ARS\b)",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(?:POUR EN SAVOIR PLUS|EN SAVOIR PLUS|(?:CONTACTS?\s*)+|INFORMATIONS PRATIQUES|COORDONN[ÉE]ES)$")
_ACTIONS = re.compile(r"^Actions?\s+concern", re.IGNORECASE)  # the directory's "Action(s) concernée(s)"
_POUR = re.compile(r"^pour\s*:?$", re.IGNORECASE)  # 004: "Marina Dogadalski / pour :" (the logo is lost)
_CUE = re.compile(
    rf"\b(?:intervenant(?:e)?s?|contacts?|r[ée]f[ée]rent(?:e)?s?|interlocut(?:eur|rice)s?|contactez|contacter|joindre|"
    rf"auprès\s+de|s{_A}adresser\s+à|témoignages?\s+de|animée?s?\s+par|présentée?s?\s+par|coordonnée?s?\s+par|"
    rf"portée?s?\s+par)\s*:?\s*$",
    re.IGNORECASE,
)
_CUE_LINE = re.compile(r"^(?:intervenant(?:e)?s?|contacts?|r[ée]f[ée]rent(?:e)?s?|interlocut(?:eur|rice)s?)\s*:$", re.IGNORECASE)
_BULLET = re.compile(r"^[\s\-–—•▪►▶✓❑❖●*·]*")
# What may stand around details on a details-only line.
_LABELS = re.compile(
    r"\b(?:t[ée]l[ée]?(?:phone)?|tel|mob(?:ile)?|port(?:able)?|fixe|fax|e-?mail|mail|courriel|mél|mailto|"
    r"site(?:\s+(?:web|internet))?|web|internet|standard|accueil|secr[ée]tariat|n°|numéro|ou|et)\b\.?",
    re.IGNORECASE,
)
_SWITCHBOARD = re.compile(r"^\W*(?:standard|accueil|secr[ée]tariat)\b(?![@.-])", re.IGNORECASE)  # a label, not accueil@
_GENERIC_LOCAL = _wordset(
    "contact contacts accueil info infos information informations secretariat secrétariat standard bonjour hello "
    "mairie courrier administration reception direction"
)

# Words that never stand in a person's name: determiners, labels, organisation words, functions,
# place and programme words of the corpus, acronyms ("Face Lille", "Apels HDF", "Condition Publique").
_NOT_NAME = _wordset(
    """
    le la les l un une des du de d au aux en et ou sur sous pour par vers avec dans chez sans selon entre contre
    mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce cet cette ces il elle ils elles nous vous on
    tout tous toute toutes chaque plus moins tres bien aussi ainsi alors puis
    contact contacts tel telephone mail email courriel site web portable fax standard accueil action actions
    concernee concernees intervenant intervenants intervenante intervenantes temoignage temoignages porteur porteurs
    public publics ville villes mission missions locale locales centre centres social sociale sociaux association
    maison federation groupe laboratoire ecole metropole metropolitain metropolitaine direction mairie service
    services agence universite lycee college conseil departement region pole espace point club foyer institut
    fondation reseau plateforme cite cites cooperation emploi emplois jeunesse jeune jeunes quartier quartiers europe
    europeen europeenne direct pro projet projets programme fabrique citoyenne citoyen citoyens mobilite mobilites
    lille roubaix tourcoing valenciennes hauts france nord sud est ouest hdf up labo video parcours forum permis pass
    coop booster filles face apels lianes condition publique unis elu elus
    coordinatrice coordinateur chargee charge cheffe chef directeur directrice responsable conseiller conseillere
    referent referente animateur animatrice president presidente delegue deleguee assistant assistante secretaire
    educateur educatrice mediateur mediatrice principal principale proviseur adjoint adjointe
    janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
    lundi mardi mercredi jeudi vendredi samedi dimanche
    ml mel clap qpv pia cej rsa afev adice crij pij bij ars caf ccas fijem fajem e2c
    """
)
_PARTICLES = _wordset("de du des le la van von der den di da dos el al ben")
_CIVILITY = re.compile(r"^(?:M\.|MM\.|Mme\.?|Mlle\.?|Madame|Monsieur|Mademoiselle|Dr\.?|Docteur|Pr\.)$")
_UP, _LO = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿœ"
_CAP_WORD = re.compile(rf"^(?:[dD]{_A}|O{_A})?[{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)*$")  # Jean-Claude, Cabé-Maury
_CAPS_WORD = re.compile(rf"^[{_UP}]{{2,}}(?:-[{_UP}]{{2,}})*$")  # CATTEAU
_TOKEN = re.compile(r"(?:M|MM|Mme|Mlle|Dr|Pr)\.|[^\W\d_](?:[\w’'-]*[^\W\d_])?")
_MAX_NAME_WORDS = 4
_SHORT_WORDS = 12  # a line or sentence of at most this many words can be part of a contact block
_ORG_WORDS = 10


def _words(text: str) -> int:
    return len(text.split())


# ---------------------------------------------------------------------------------------------------
# Details
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Details:
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def add(self, other: _Details) -> None:
        self.emails += other.emails
        self.phones += other.phones
        self.urls += other.urls

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.urls)


def _details(text: str) -> _Details:
    emails = CONTACT_EMAIL.findall(text)
    phones = [m.group().strip() for m in CONTACT_PHONE.finditer(text)]
    phones += [m.group(1) or m.group(2) for m in SHORT_NUMBER.finditer(text)]
    return _Details(emails, phones, find_urls(CONTACT_EMAIL.sub(" ", text)))


def _split_generic(details: _Details) -> tuple[_Details, _Details]:
    """(the holder's own details, an organisation's generic addresses: contact@, accueil@ …)."""
    generic = [e for e in details.emails if fold(e.split("@")[0]) in _GENERIC_LOCAL]
    own = _Details([e for e in details.emails if e not in generic], details.phones, details.urls)
    return own, _Details(generic)


def _without_details(text: str) -> str:
    """``text`` with its e-mails, phones and web addresses blanked out (same length)."""
    masked = CONTACT_EMAIL.sub(lambda m: " " * len(m.group()), text)
    masked = CONTACT_PHONE.sub(lambda m: " " * len(m.group()), masked)
    for url in find_urls(masked):
        masked = masked.replace(url, " " * len(url))
    return masked


def _remainder(text: str) -> str:
    """What a line says besides its details and their labels ("Tél : … / …" -> "")."""
    rest = _LABELS.sub(" ", SHORT_NUMBER.sub(" ", _without_details(text)))
    return rest if re.search(r"[^\W_]", rest) else ""


# ---------------------------------------------------------------------------------------------------
# Names inside a line
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Name:
    start: int
    end: int
    text: str
    civility: bool


def _name_at(tokens: list[re.Match[str]], k: int, text: str) -> tuple[_Name, int] | None:
    """The name starting at token ``k`` and the index of the token after it, or None."""

    def adjacent(a: int) -> bool:  # tokens a and a+1 separated by spaces only
        return a + 1 < len(tokens) and re.fullmatch(r"[ \t]+", text[tokens[a].end() : tokens[a + 1].start()]) is not None

    first = tokens[k].group()
    civility = _CIVILITY.match(first) is not None
    if not civility and (not _CAP_WORD.match(first) or fold(first) in _NOT_NAME):
        return None
    parts = [k]
    j = k
    while adjacent(j) and len(parts) < _MAX_NAME_WORDS + civility:
        word = tokens[j + 1].group()
        middle = fold(word) in _PARTICLES and adjacent(j + 1) and _CAP_WORD.match(tokens[j + 2].group()) is not None
        if not (middle or _CAP_WORD.match(word) or _CAPS_WORD.match(word)):
            break
        if fold(word) in _NOT_NAME and not middle:
            break
        parts.append(j + 1)
        j += 1
    while len(parts) > 1 and fold(tokens[parts[-1]].group()) in _PARTICLES:
        parts.pop()  # "Jean de" without a surname after it
    if len(parts) < 2:
        return None
    start, end = tokens[parts[0]].start(), tokens[parts[-1]].end()
    return _Name(start, end, text[start:end], civility), parts[-1] + 1


def _names(text: str) -> list[_Name]:
    """Name-shaped word runs of one line (e-mails and addresses masked first), left to right."""
    masked = _without_details(text)
    tokens = list(_TOKEN.finditer(masked))
    names: list[_Name] = []
    k = 0
    while k < len(tokens):
        found = _name_at(tokens, k, text)
        if found is None:
            k += 1
            continue
        names.append(found[0])
        k = found[1]
    return names


def _bare_name(text: str) -> _Name | None:
    """The name when the whole line (bullet aside) is one: "Jean-Claude Kapusta", "Mme Brembor"."""
    body = _BULLET.sub("", text).strip()
    names = _names(body)
    if len(names) == 1 and names[0].text == body:
        return names[0]
    return None


# ---------------------------------------------------------------------------------------------------
# One line or sentence: "Name, role – e-mail – Tél : …", "Intervenants : A (org), B (org)", prose
# ---------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Person:
    name: str | None
    line: int  # 0-based index in the block: the function line before the name, or the name's line
    role: str | None = None
    organisation: str | None = None
    details: _Details = field(default_factory=_Details)
    lines: tuple[int, int] | None = None  # ambiguous grouping: the lines to keep as written
    confirmed: bool = True  # a bare name line needs a layout cue to be a person
    leading: bool = False  # a bare name line that opens its paragraph (maybe the organisation heading it)


@dataclass(eq=False)
class _Loose:
    """Details without a person: an organisation's own, or nobody's that the text establishes."""

    line: int
    details: _Details
    organisation: str | None = None
    role: str | None = None
    lines: tuple[int, int] | None = None  # no owner established: the lines to keep as written
    of_block: bool = False  # the organisation heading the block owns them (switchboard, contact@)


def _role_text(text: str) -> str:
    """A function as written, cut before the details and what leads to them ("… – Tél :")."""
    cut = len(text)
    for pattern in (CONTACT_EMAIL, CONTACT_PHONE):
        match = pattern.search(text)
        if match:
            cut = min(cut, match.start())
    for url in find_urls(CONTACT_EMAIL.sub(" ", text)):
        cut = min(cut, text.find(url))
    role = text[:cut].rstrip()
    while True:
        shorter = re.sub(rf"(?:\s*[-–—,:/|(]\s*|\s+(?:{_LABELS.pattern})\s*)$", "", role, flags=re.IGNORECASE).rstrip()
        if shorter == role:
            return role.strip()
        role = shorter


def _attributes(text: str, pos: int) -> tuple[str | None, str | None, int]:
    """Function and organisation written right after a name (", role", " – role", " (organisation)"),
    and where they end."""
    role: str | None = None
    organisation: str | None = None
    while pos < len(text):
        rest = text[pos:]
        paren = re.match(r"[ \t]*\(([^()\n]*)\)", rest)
        if paren:
            inside = paren.group(1).strip()
            if not inside or _details(inside):
                break
            if role is None and _ROLE.match(inside):
                role = inside
            elif organisation is None:
                organisation = inside
            else:
                break
            pos += paren.end()
            continue
        sep = re.match(r"\s*(?:,|–|—|-)\s*", rest)
        if not sep:
            break
        body = rest[sep.end() :]
        end = re.search(r"\s*(?:[,;()\n]|[ \t][-–—][ \t]+(?=\S*(?:@|\d{2}|t[ée]l|mail)))", body)
        piece = body[: end.start()] if end else body
        if role is None and _ROLE.match(piece):
            role = _role_text(piece) or None
            pos += sep.end() + len(piece)
        elif organisation is None and _ORG.match(piece) and not _details(piece) and _words(piece) <= _ORG_WORDS:
            organisation = piece.strip()
            pos += sep.end() + len(piece)
        else:
            break
    return role, organisation, pos


def _accepted(text: str, name: _Name, before: str, prev_end: int | None, said: bool, layout: bool) -> bool:
    """Is a name-shaped run of a line a person? Only with a cue: a civility, a list of people, a cue
    word before it, a function or details right after it; at the start of a line, only when the line
    also gives a function, an organisation or details, or the layout does (``said``, ``layout``)."""
    if name.civility:
        return True  # "M. Olivier Rovere", "Mme Brembor"
    if prev_end is not None and re.fullmatch(r"[\s,;/&]*(?:(?:et|ou)\s+)?", text[prev_end : name.start]):
        return True  # the next one of a list of people: "A (ML Lille avenir), B (ML Roubaix)"
    if _CUE.search(before):
        return True  # "Intervenants : …", "contactez …"
    after = text[name.end :]
    head = _BULLET.sub("", before)
    if not head.strip() or (_ROLE.match(head) and head.rstrip().endswith(":")):
        # "Aline Messaoudi, Roubaix" over her e-mail; not "Bois Blanc, Lille Sud, Fives" in prose
        separated = re.match(r"[ \t]*(?:[,(–—/:-]|$)", after) is not None
        return separated and (said or layout or bool(_details(after)))
    role_after = re.match(r"[ \t]*(?:,|\(|–|—|-)[ \t]*", after)
    if role_after and _ROLE.match(after[role_after.end() :]):
        return True  # "… Jean Dupont, chargé de mission …"
    return (
        re.match(r"[ \t]*(?:[-–—:,][ \t]*)?(?:t[ée]l\w*[ \t]*\.?[ \t]*:?[ \t]*)?(?:\S+@|\+?\d{2}[ .]?\d{2})", after) is not None
    )


@dataclass
class _Unit:
    people: list[_Person]
    loose: _Details  # details no person of the unit owns
    organisation: str | None  # the organisation a unit without people names at its start
    ambiguous: bool


def _unit(text: str, line_of: list[int], layout: bool = False) -> _Unit:
    """People of one line or sentence (its lines joined by "\\n"), each with the details it is given.
    ``layout``: the block's layout puts the line among a person's lines (a details line follows it).

    One person: every detail of the sentence is theirs. Several: a detail is the person's written
    before it when something of that person's own stands between them ("A - a@x - 06 …, B - b@x");
    people written one after the other with nothing of their own share the details after them, which
    makes them ambiguous ("A et B : 06 …"): nobody gets them.
    """
    found: list[tuple[_Name, str | None, str | None, int]] = []  # name, role, organisation, end of attributes
    offset = 0
    prev_end: int | None = None
    for piece in text.split("\n"):
        for name in _names(piece):
            start, end = offset + name.start, offset + name.end
            if found and start < found[-1][3]:
                continue  # inside the previous person's function ("CPE au lycée Antoine de Saint-Exupéry")
            shifted = _Name(start, end, name.text, name.civility)
            before = text[offset:start] if prev_end is None or prev_end < offset else text[prev_end:start]
            role, organisation, attr_end = _attributes(text, end)
            said = role is not None or (organisation is not None and _ORG.match(organisation) is not None)
            if not _accepted(text, shifted, before, prev_end, said, layout):
                continue
            if not found:
                head = text[offset:start]
                prefix = re.match(rf"^\W*((?:{_ROLE.pattern})[^:]*?)\s*:\s*$", head, re.IGNORECASE)
                if role is None and prefix and not re.match(r"\W*(?:intervenant|contact)", head, re.IGNORECASE):
                    role = prefix.group(1).strip()  # "Coordinatrice : Francine Blas"
                heading = _BULLET.sub("", head).rstrip(" \t–—-:,")
                if organisation is None and _is_organisation(heading):
                    organisation = heading  # "Mission Locale Métropole Sud – Jean Dupont – 06 …"
            found.append((shifted, role, organisation, attr_end))
            prev_end = attr_end
        offset += len(piece) + 1

    if not found:
        body = _BULLET.sub("", text)
        head = re.split(r"\s*(?:[,:;(/]|\s[-–—]\s)", body, maxsplit=1)[0].strip()
        return _Unit([], _details(text), head if _is_organisation(head) else None, False)

    people = [_Person(name.text, line_of[name.start], role, organisation) for name, role, organisation, _e in found]
    pieces = [_details(text[: found[0][0].start])]
    for k, (_name, _role, _org, attr_end) in enumerate(found):
        stop = found[k + 1][0].start if k + 1 < len(found) else len(text)
        pieces.append(_details(text[attr_end:stop]) if stop > attr_end else _Details())
    loose = _Details()
    ambiguous = False
    if len(found) == 1:
        people[0].details.add(pieces[0])
        people[0].details.add(pieces[1])
        return _Unit(people, loose, None, False)
    loose.add(pieces[0])
    run: list[_Person] = []  # people written one after another with nothing of their own between them
    for person, own, (_name, role, organisation, _e) in zip(people, pieces[1:], found, strict=True):
        run.append(person)
        if own:
            if len(run) == 1:
                person.details.add(own)
            else:
                loose.add(own)
                ambiguous = True
                for member in run:
                    member.lines = (line_of[0], line_of[-1])
            run = []
        elif role or organisation:
            run = []  # "A, chargée de mission, B, …": A's own words close her entry
    return _Unit(people, loose, None, ambiguous)


def _is_organisation(text: str) -> bool:
    return (
        bool(text) and text[:1].isupper() and _ORG.match(text) is not None and _words(text) <= _ORG_WORDS and not _details(text)
    )


_ABBREVIATIONS = _wordset("m mm mme mlle dr pr st ste cf p n° tél tel etc av bd")


def _sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``; "M. Dupont" and initials do not end one."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"[.!?]\s+(?=[«\"A-ZÀ-Þ])", text):
        before = re.search(r"(\S+)$", text[start : match.start()])
        word = before.group(1).lstrip("(«\"'").lower() if before else ""
        if match.group().startswith(".") and (word in _ABBREVIATIONS or len(word) == 1):
            continue
        spans.append((start, match.start() + 1))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _units(lines: list[tuple[int, str]]) -> list[tuple[str, list[int]]]:
    """Sentences of consecutive text lines, with the line of each character. A line continues the
    previous one when that one does not end a sentence and it starts in lower case
    ("… contactez Jean Dupont,\\nchargé de mission, au 06 …")."""
    groups: list[list[tuple[int, str]]] = []
    for index, text in lines:
        body = text.strip()
        if groups and not re.search(r"[.!?:;]$", groups[-1][-1][1]) and re.match(r"[a-zß-ÿ0-9(]", body):
            groups[-1].append((index, body))
        else:
            groups.append([(index, body)])
    units: list[tuple[str, list[int]]] = []
    for group in groups:
        text = "\n".join(body for _i, body in group)
        line_of = [index for index, body in group for _c in f"{body}\n"]
        units += [(text[a:b], line_of[a:b]) for a, b in _sentences(text)]
    return units


# ---------------------------------------------------------------------------------------------------
# Lines and paragraphs
# ---------------------------------------------------------------------------------------------------

_BLANK, _HEADING_K, _ACTIONS_K, _ROLE_K, _NAME_K, _DETAILS_K = "blank", "heading", "actions", "role", "name", "details"
_SWITCH_K, _ORG_K, _POUR_K, _CUE_K, _ICON_K, _TEXT_K = "switchboard", "org", "pour", "cue", "icon", "text"


@dataclass(frozen=True)
class _Line:
    kind: str
    text: str  # spaces cleaned, cut e-mails joined
    name: _Name | None = None


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


@lru_cache(maxsize=4096)  # a line is read again in each chunk and action holding it (frozen result, shared)
def _classify(text: str) -> _Line:
    body = text.strip()
    if not body:
        return _Line(_BLANK, text)
    if _HEADING.match(body) or (_is_caps(body) and _words(body) >= 3):
        return _Line(_HEADING_K, text)  # "POUR EN SAVOIR PLUS", "CONTACTS", titles in capitals
    if _ACTIONS.match(body):
        return _Line(_ACTIONS_K, text)
    if _POUR.match(body):
        return _Line(_POUR_K, text)
    if _CUE_LINE.match(_BULLET.sub("", body)):
        return _Line(_CUE_K, text)
    if _details(body):
        rest = _remainder(body)
        if not rest:
            return _Line(_SWITCH_K if _SWITCHBOARD.match(body) else _DETAILS_K, text)
        heading = _BULLET.sub("", rest).strip(" \t:–—-,/")
        if _is_organisation(heading) and not _names(heading):
            return _Line(_ORG_K, text)  # "Mission Locale Métropole Sud : 03 20 …"
        return _Line(_TEXT_K, text)
    if text[:1].isspace() and not any(name.civility for name in _names(body)):
        if _is_organisation(body) and not re.search(r"[.:!?]$", body):
            return _Line(_ORG_K, text)  # the directory's " Maison de quartier Moulins"
        return _Line(_ICON_K, text)  # its icon lost: " ptle59", " Face Lille", " Coline Spillemaecker Pro"
    if _ROLE.match(body) and _words(body) <= 8 and not re.search(r"[.;!?]$|[:\d]", body):
        return _Line(_ROLE_K, text)
    if _is_organisation(body) and not re.search(r"[.:!?]$", body):
        return _Line(_ORG_K, text)
    name = _bare_name(body)
    if name is not None:
        return _Line(_NAME_K, text, name)
    return _Line(_TEXT_K, text)


def _paragraphs(lines: list[_Line], joined: set[int]) -> list[list[int]]:
    """Indices of the non-blank lines of each paragraph; a line emptied by a join does not split one."""
    paragraphs: list[list[int]] = [[]]
    for i, line in enumerate(lines):
        if line.kind != _BLANK:
            paragraphs[-1].append(i)
        elif i not in joined and paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


@dataclass(eq=False)
class _Group:
    """Bare names one after the other with nothing of their own ("Marie Lefebvre / Paul Girard")."""

    members: list[_Person]
    last: int
    role: str | None = None
    details: _Details = field(default_factory=_Details)


@dataclass(eq=False)
class _Block:
    """What one paragraph gives."""

    people: list[_Person] = field(default_factory=list)
    loose: list[_Loose] = field(default_factory=list)
    organisation: str | None = None  # the organisation line(s) heading it
    open_person: _Person | None = None  # the person whose lines end the paragraph
    entry: bool = False  # a directory entry: closed by "Action(s) concernée(s) …"
    trivial: bool = True  # nothing but headings, icon lines and short captions


class _Reader:
    """Reads one paragraph line by line: entries are "[function] name [function] details…"."""

    def __init__(self, lines: list[_Line], indices: list[int]) -> None:
        self.lines, self.indices = lines, indices
        self.block = _Block()
        self.people: list[_Person] = []
        self.org_names: list[tuple[int, str]] = []  # the organisation heading the paragraph, line by line
        self.pending: list[tuple[int, _Details]] = []  # details before anybody
        self.current: _Person | _Group | _Loose | None = None
        self.role_for_next: tuple[str, int] | None = None
        self.seen_person = False
        self.heading = True  # only headings and organisation lines so far

    def read(self) -> _Block:
        k = 0
        while k < len(self.indices):
            i = self.indices[k]
            line = self.lines[i]
            previous = self.indices[k - 1] if k else -1
            following = self.lines[self.indices[k + 1]] if k + 1 < len(self.indices) else None
            if line.kind == _ACTIONS_K:
                self.block.entry = True
                self.close()
                break  # a directory entry ends with its list of actions
            opens = self.heading  # a bare name right after the headings may be the organisation's
            if line.kind not in (_TEXT_K, _ORG_K, _HEADING_K, _ICON_K):
                self.heading = False
            if line.kind == _TEXT_K:
                run = [i]
                while k + 1 < len(self.indices) and self.lines[self.indices[k + 1]].kind == _TEXT_K:
                    k += 1
                    run.append(self.indices[k])
                self.text(run, self.lines[self.indices[k + 1]] if k + 1 < len(self.indices) else None)
            elif line.kind == _ROLE_K:
                self.role(i, line.text.strip(), previous, following)
            elif line.kind == _NAME_K:
                assert line.name is not None
                self.name(i, line.name, previous, opens)
            elif line.kind in (_DETAILS_K, _SWITCH_K):
                self.details(i, line)
            elif line.kind == _ORG_K:
                self.organisation(i, line)
            elif line.kind == _POUR_K:
                for person in self.current.members if isinstance(self.current, _Group) else [self.current]:
                    if isinstance(person, _Person):
                        person.confirmed = True
            elif line.kind == _CUE_K:
                self.close()
                self.block.trivial = False
            k += 1
        self.block.open_person = self.current if isinstance(self.current, _Person) else None
        self.close()
        return self.finish()

    def close(self) -> None:
        group = self.current
        if isinstance(group, _Group):
            if group.details or group.role:
                span = (group.members[0].line, group.last)
                for member in group.members:
                    member.lines, member.confirmed = span, True
                self.block.loose.append(_Loose(group.members[0].line, group.details, role=group.role, lines=span))
            self.people.extend(group.members)
        self.current = None

    def role(self, i: int, text: str, previous: int, following: _Line | None) -> None:
        self.block.trivial = False
        current = self.current
        if following is not None and (
            following.kind == _NAME_K or (following.kind == _TEXT_K and _starts_with_person(following.text))
        ):
            self.role_for_next = (text, i)  # "Coordinatrice / Francine Blas"
        elif isinstance(current, _Person) and current.name and current.role is None and current.line == previous:
            current.role, current.confirmed = text, True  # "Francine Blas / Coordinatrice"
        elif isinstance(current, _Group) and current.role is None and current.last == previous:
            current.role, current.last = text, i
        else:
            self.close()
            self.current = _Person(None, i, text)  # a function whose holder is not named
            self.people.append(self.current)
            self.seen_person = True

    def name(self, i: int, name: _Name, previous: int, opens: bool) -> None:
        self.block.trivial = False
        person = _Person(name.text, i, confirmed=name.civility)
        current = self.current
        if self.role_for_next is None and isinstance(current, _Person) and _bare(current) and current.line == previous:
            self.people = [p for p in self.people if p is not current]
            self.current = _Group([current, person], last=i)
        elif (
            self.role_for_next is None
            and isinstance(current, _Group)
            and not current.details
            and current.role is None
            and current.last == previous
        ):
            current.members.append(person)
            current.last = i
        else:
            self.close()
            if self.role_for_next is not None:
                person.role, person.line = self.role_for_next
                person.confirmed = True
            person.leading = opens
            self.people.append(person)
            self.current = person
        self.role_for_next = None
        self.seen_person = True

    def details(self, i: int, line: _Line) -> None:
        self.block.trivial = False
        details = _details(line.text)
        current = self.current
        if line.kind == _SWITCH_K:
            self.block.loose.append(_Loose(i, details, of_block=True))  # "Standard : 03 20 …"
        elif isinstance(current, _Person):
            current.details.add(details)
            current.confirmed = True
        elif isinstance(current, _Group):
            current.details.add(details)
            current.last = i
        elif isinstance(current, _Loose):
            current.details.add(details)
        else:
            self.pending.append((i, details))

    def organisation(self, i: int, line: _Line) -> None:
        self.block.trivial = False
        details = _details(line.text)
        body = _BULLET.sub("", line.text).strip()
        head = re.split(r"\s*(?:[,:;(/]|\s[-–—]\s)\s*", _without_details(body), maxsplit=1)[0].strip() if details else body
        if self.heading:
            self.org_names.append((i, head))
        self.heading = self.heading and not details
        if details or self.seen_person:
            self.close()
            loose = _Loose(i, details, head)
            self.block.loose.append(loose)
            self.current = loose

    def text(self, run: list[int], following: _Line | None) -> None:
        short = _words(" ".join(self.lines[j].text for j in run)) <= _SHORT_WORDS
        units = _units([(j, self.lines[j].text) for j in run])
        for number, (text, line_of) in enumerate(units):
            # The layout vouches for a name line over a details line or under a function line.
            layout = (number == len(units) - 1 and following is not None and following.kind == _DETAILS_K) or (
                number == 0 and self.role_for_next is not None
            )
            unit = _unit(text, line_of, layout)
            span = (line_of[0], line_of[-1])
            current = self.current
            if unit.people:
                self.block.trivial = False
                self.close()
                first = unit.people[0]
                if self.role_for_next is not None and first.role is None:
                    first.role, first.line = self.role_for_next
                self.role_for_next = None
                self.seen_person = True
                if unit.loose:
                    self.block.loose.append(_Loose(span[0], unit.loose, lines=span))
                contact_like = short and not text.rstrip().endswith(".")
                if contact_like and len(unit.people) == 1:
                    self.people.append(first)
                    self.current = first
                elif contact_like and not unit.ambiguous and not any(p.details for p in unit.people):
                    self.current = _Group(list(unit.people), last=span[1])  # "Intervenants : A, B" + details lines
                else:
                    self.people.extend(unit.people)
            elif unit.loose:
                self.block.trivial = False
                if unit.organisation is not None:
                    self.close()
                    self.current = _Loose(span[0], unit.loose, unit.organisation)
                    self.block.loose.append(self.current)
                elif short and isinstance(current, _Person | _Loose | _Group):
                    current.details.add(unit.loose)
                    if isinstance(current, _Group):
                        current.last = span[1]
                elif not self.seen_person:
                    self.pending.append((span[0], unit.loose))
                else:
                    self.block.loose.append(_Loose(span[0], unit.loose, lines=span))
            elif self.heading and _caption(text):
                self.org_names.append((line_of[0], text.strip()))  # "Compétences et Emploi", "Direction …, Jeunesse"
                continue
            elif not short:
                self.block.trivial = False
                self.close()
            self.heading = False

    def finish(self) -> _Block:
        block = self.block
        kept: list[_Person] = []
        for person in self.people:
            if person.confirmed or person.details or person.role:
                kept.append(person)
            elif person.leading and not kept:
                self.org_names.append((person.line, person.name or ""))  # "Condition Publique / Coordinatrice / Ute …"
        block.organisation = " ".join(name for _i, name in sorted(self.org_names)) or None
        for person in kept:
            own, generic = _split_generic(person.details)
            person.details = own
            if generic:
                where = next(
                    (i for i in self.indices if i >= person.line and generic.emails[0] in self.lines[i].text), person.line
                )
                block.loose.append(_Loose(where, generic, person.organisation, of_block=True))
        if self.pending:
            details = _Details()
            for _j, part in self.pending:
                details.add(part)
            first = self.pending[0][0]
            span = (first, self.pending[-1][0])
            named = [p for p in kept if p.name]
            if not named:
                block.loose.append(
                    _Loose(first, details, of_block=block.organisation is not None, lines=None if block.organisation else span)
                )
            elif len(named) == 1 and block.organisation is None:
                named[0].details.add(details)  # one person in the block: no other name between
            elif block.organisation is not None and first < named[0].line:
                block.loose.append(_Loose(first, details, of_block=True))  # under the organisation's name
            else:
                block.loose.append(_Loose(first, details, lines=span))
        block.people = [p for p in kept if p.name or p.details]
        if not any(p is block.open_person for p in block.people):
            block.open_person = None
        return block


def _caption(text: str) -> bool:
    """A short line that can name the organisation heading a block: "Compétences et Emploi", "Interphaz"."""
    body = text.strip()
    return (
        _words(body) <= 4
        and body[:1].isupper()
        and re.search(r"[^\W\d_]{2}", body) is not None
        and not re.search(r"[.:!?]$", body)
    )


def _bare(person: _Person) -> bool:
    return person.name is not None and not person.confirmed and not person.details and person.role is None


def _starts_with_person(text: str) -> bool:
    names = _names(_BULLET.sub("", text))
    return bool(names) and names[0].start == 0


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


def _prepare(lines: list[str]) -> tuple[list[str], set[int]]:
    """Lines with exotic spaces cleaned and an e-mail cut at a line end joined on its first line
    (the second one left empty, so line numbers stay)."""
    cleaned = [clean_spaces(line) for line in lines]
    joined: set[int] = set()
    for i in range(len(cleaned) - 1):
        merged = join_cut_emails(f"{cleaned[i]}\n{cleaned[i + 1]}")
        if "\n" not in merged:
            cleaned[i], cleaned[i + 1] = merged, ""
            joined.add(i + 1)
    return cleaned, joined


def _attach_trailing(blocks: list[_Block]) -> None:
    """Details alone after a blank line are the single person's of a one-person block (the guide's
    "function / name / e-mail / phone / site" with a blank line in it); with several people, nobody's."""
    named = [(number, person) for number, block in enumerate(blocks) for person in block.people if person.name]
    if len(named) != 1 or blocks[named[0][0]].open_person is not named[0][1]:
        return
    number, person = named[0]
    for block in blocks[number + 1 :]:
        if block.people or any(loose.organisation or loose.of_block or loose.role for loose in block.loose):
            break
        if not block.loose and not block.trivial:
            break
        for loose in block.loose:
            person.details.add(loose.details)
        block.loose = []


def extract_people(lines: list[str], first_line: int = 1) -> tuple[Contact, ...]:
    """The people and organisations ``lines`` give, each with the details the text gives it.

    ``lines[0]`` is line ``first_line`` (1-based) of the original file; ``Contact.line`` counts the
    same way. See the module docstring for what gives a detail to a person, and when nothing does.
    """
    cleaned, joined = _prepare(lines)
    classified = [_classify(text) for text in cleaned]
    blocks = [_Reader(classified, paragraph).read() for paragraph in _paragraphs(classified, joined)]
    _attach_trailing(blocks)

    contacts: list[Contact] = []
    inherited: str | None = None  # the directory lists an organisation's people under its name once
    for block in blocks:
        organisation = block.organisation or (inherited if block.entry else None)
        if block.entry:
            inherited = organisation
        elif block.people or block.loose:
            inherited = None
        for person in sorted(block.people, key=lambda p: p.line):
            contacts.append(
                Contact(
                    name=person.name,
                    role=person.role,
                    organisation=person.organisation or organisation,
                    emails=_dedupe(person.details.emails),
                    phones=_dedupe(person.details.phones),
                    urls=_dedupe(person.details.urls),
                    line=person.line + first_line,
                    text=_written(lines, person.lines) if person.lines else None,
                )
            )
        for loose in sorted(block.loose, key=lambda item: item.line):
            if not (loose.details or loose.role):
                continue
            owner = loose.organisation or (organisation if loose.of_block else None)
            span = loose.lines or (None if owner else (loose.line, loose.line))
            contacts.append(
                Contact(
                    name=None,
                    role=loose.role,
                    organisation=owner,
                    emails=_dedupe(loose.details.emails),
                    phones=_dedupe(loose.details.phones),
                    urls=_dedupe(loose.details.urls),
                    line=loose.line + first_line,
                    text=_written(lines, span) if span else None,
                )
            )
    return tuple(contacts)


def _written(lines: list[str], span: tuple[int, int]) -> str:
    return "\n".join(line.rstrip() for line in lines[span[0] : span[1] + 1])


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def format_contact(contact: Contact) -> str:
    """One line of French for an answer: "Jean-Claude Kapusta (chargé de projet emploi), jckapusta@mlms.fr, 06 99 78 34 23".

    The function, then the organisation after a name, stand in parentheses; an organisation's own
    details start with its name; the details follow as written.
    """
    qualifiers = [_lower_first(contact.role)] if contact.role else []
    if contact.name and contact.organisation:
        qualifiers.append(contact.organisation)
    head = contact.name or contact.organisation or ""
    if head and qualifiers:
        head = f"{head} ({', '.join(qualifiers)})"
    elif not head and contact.role:
        head = contact.role
    return ", ".join(part for part in (head, *contact.emails, *contact.phones, *contact.urls) if part)


def _lower_first(text: str) -> str:
    """ "Chargé de mission" -> "chargé de mission"; an acronym stays ("CPE au lycée …")."""
    first = text.split()[0] if text.split() else text
    if len(first) > 1 and first[1].isupper():
        return text
    return text[:1].lower() + text[1:]
