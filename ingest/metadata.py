"""Metadata extracted from the text of one chunk: ages, contacts, target public, porteur, territory.

Every function is pure and works on text that is already repaired (003 glyph table applied, U+FFFD
dropped); thin and no-break spaces are treated as ordinary spaces here anyway. Values are returned
*as written* in the source (never "fixed": a typo in an e-mail domain stays), except for the two
documented joins of words cut at a line end (e-mail addresses, and the "Pour les …" line).

Ages (``extract_age_range`` / ``extract_ages``)
-----------------------------------------------
Numeric forms, ``N`` and ``M`` being ages in years:

====================================================  ===================
"de N à M ans", "N à M ans", "N-M ans", "N - M ANS",  (N, M)
"N/M ans", "de N ans à M ans", "entre N et M ans"
"moins de N ans", "- de N ans", "< N ans"             (None, N-1)
"jusqu'à N ans", "au plus N ans", "N ans maximum",    (None, N)
"N ans et moins"
"à partir de N ans", "dès N ans", "plus de N ans",    (N, None)
"après N ans", "au moins N ans", "N ans et plus",     ("plus de 16 ans" is read as "16 and over",
"N ans minimum", "> N ans"                            as French eligibility rules usually mean)
====================================================  ===================

Word forms, used only when a source has no numeric age at all:

===========================================  =========
"collégiens" (any gender/number)             (11, 15)
"lycéens"                                    (15, 18)
"mineurs" (plural, after jeunes/les/des/N)   (None, 17)
"majeurs" (plural, after jeunes/les/des/N)   (18, None)
school years "de 6e et 5e", "en 3e" …        6e (11, 12), 5e (12, 13), 4e (13, 14), 3e (14, 15)
===========================================  =========

"étudiants", "professionnels jeunesse" and the like give no age, nor does "+ de N ans" (002 uses it for
the age of buildings). A range preceded by a duration word
("pendant", "durant", "sur", "depuis", "dans", "durée de", "d'ici") is a duration, not an age.

An extension such as "de 16 à 25 ans, pouvant aller jusqu'à 30 ans si le jeune est reconnu travailleur
handicapé" keeps the general bound: age_max = 25, age_max_extended = 30, extension_condition =
"si le jeune est reconnu travailleur handicapé". An extension is a "jusqu'à N ans" that follows a range
in the same sentence and is introduced by "pouvant aller", "voire", "et jusqu'à", "extensible", or
followed by a condition ("si", "pour", "en cas", "lorsque", "quand", "sous condition").

Within one source, two-sided ranges win and are merged into their envelope (lowest minimum, highest
maximum), so a chunk is never filtered out for a public it names; without a range, one-sided bounds
are combined ("à partir de 16 ans et jusqu'à 25 ans" -> 16-25) and contradictory ones ("31 mineurs /
12 majeurs") give no bound. The target-public line ("Pour les …", the
``public`` argument) wins: each bound it gives is kept, and only a bound it does not give is taken
from the rest of the text ("Pour les décrocheurs … après 16 ans" + "jeunes de 16 à 17 ans" -> 16-17).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.gazetteer import EPCI_NAMES, Gazetteer, load_gazetteer, name_key
from ingest.text import CONTACT_EMAIL, CONTACT_PHONE, PUBLIC_AGE_RANGE, fold_words, sentences

# (A character class, not str.translate: translating a text with accents looks every character up in a
# dict, a dozen times slower, and every chunk and sentence is cleaned.)
_SPACES = re.compile("[\u00a0\u2009\u202f\u2007\u2002\u2003]")
_APOS = "['’]"


def _clean(text: str) -> str:
    """Same length as ``text``: exotic spaces become plain spaces (offsets stay valid)."""
    return _SPACES.sub(" ", text)


# ---------------------------------------------------------------------------------------------------
# Ages
# ---------------------------------------------------------------------------------------------------

# A range of a public ("de 16 à 25 ans", "entre 16 et 18 ans") is ingest.text's PUBLIC_AGE_RANGE.
_N = r"(\d{1,2})"
_ANS = r"\s*ans\b"
_DURATION_BEFORE = re.compile(
    rf"(?:pendant|durant|sur|depuis|dans|durée\s+de|d{_APOS}ici|tous\s+les|toutes\s+les|il\s+y\s+a)\s+(?:de\s+|d{_APOS}\s*)?$",
    re.IGNORECASE,
)
_UPPER_EXCL = re.compile(rf"(?:\bmoins\s+de|(?<![\w-])-\s*de|<)\s*{_N}{_ANS}", re.IGNORECASE)
_UPPER_INCL = re.compile(
    rf"(?:\bjusqu{_APOS}\s*(?:à|a)\s+|\bau\s+plus\s+){_N}{_ANS}|\b{_N}{_ANS}\s+(?:maximum|max\b|et\s+moins|ou\s+moins)",
    re.IGNORECASE,
)
_LOWER = re.compile(
    rf"(?:\bà\s+partir\s+de|\ba\s+partir\s+de|\bdès|\bplus\s+de|\bau\s+moins|\baprès|>)\s*{_N}{_ANS}"
    rf"|\b{_N}{_ANS}\s+(?:et|ou)\s+(?:plus|\+)|\b{_N}{_ANS}\s+minimum",
    re.IGNORECASE,
)
_EXTENSION = re.compile(
    rf"(?P<intro>pouvant\s+aller\s+|voire\s+|et\s+|extensible\s+|étendu[es]*\s+)?jusqu{_APOS}\s*(?:à|a)\s+(?P<age>\d{{1,2}}){_ANS}"
    r"(?P<cond>\s*,?\s*(?:si|pour|en\s+cas|lorsque|quand|sous\s+condition)\b[^.;)\n]*(?:\n[^\n.;)]+)?)?",
    re.IGNORECASE,
)
_WORD_AGES: tuple[tuple[re.Pattern[str], tuple[int | None, int | None]], ...] = (
    (re.compile(r"\bcoll[ée]gien", re.IGNORECASE), (11, 15)),
    (re.compile(r"\blyc[ée]en", re.IGNORECASE), (15, 18)),
    (re.compile(r"\b(?:jeunes|les|des|aux|publics?|personnes|\d+)\s+mineur(?:e)?s\b", re.IGNORECASE), (None, 17)),
    (re.compile(r"\b(?:jeunes|les|des|aux|publics?|personnes|\d+)\s+majeur(?:e)?s\b", re.IGNORECASE), (18, None)),
)
_GRADE = re.compile(
    r"\b(?:de|en|élèves\s+de|classes?\s+de)\s+([3-6])\s*(?:e|è|ème|eme|\^\{?[eè]me\}?)\b((?:\s*(?:et|à|,)\s*[3-6]\s*(?:e|è|ème|eme)\b)*)",
    re.IGNORECASE,
)
_GRADE_AGES = {6: (11, 12), 5: (12, 13), 4: (13, 14), 3: (14, 15)}
_MIN_AGE, _MAX_AGE = 5, 99


@dataclass(frozen=True)
class AgeRange:
    """Ages of the public. ``age_max_extended`` is a conditional upper bound ("jusqu'à 30 ans si …")."""

    age_min: int | None = None
    age_max: int | None = None
    age_max_extended: int | None = None
    extension_condition: str | None = None


def _plausible(*ages: int | None) -> bool:
    return all(a is None or _MIN_AGE <= a <= _MAX_AGE for a in ages)


def _numeric_ages(text: str) -> list[tuple[int | None, int | None]]:
    found: list[tuple[int | None, int | None]] = []
    taken: list[tuple[int, int]] = []
    extension_spans = [m.span() for m in _EXTENSION.finditer(text) if _is_extension(text, m)]

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= s or span[0] >= e for s, e in taken + extension_spans)

    for match in PUBLIC_AGE_RANGE.finditer(text):
        if _DURATION_BEFORE.search(text[max(0, match.start() - 30) : match.start()]):
            continue  # "sur 10 à 12 ans": a duration
        low, high = (int(g) for g in match.groups() if g is not None)
        if _plausible(low, high) and low <= high:
            found.append((low, high))
            taken.append(match.span())
    for match in _UPPER_EXCL.finditer(text):
        if free(match.span()):
            age = int(match.group(1))
            if _plausible(age - 1):
                found.append((None, age - 1))
                taken.append(match.span())
    for match in _UPPER_INCL.finditer(text):
        if free(match.span()):
            age = int(next(g for g in match.groups() if g is not None))
            if _plausible(age):
                found.append((None, age))
                taken.append(match.span())
    for match in _LOWER.finditer(text):
        if free(match.span()):
            age = int(next(g for g in match.groups() if g is not None))
            if _plausible(age):
                found.append((age, None))
                taken.append(match.span())
    return found


def _word_ages(text: str) -> list[tuple[int | None, int | None]]:
    found: list[tuple[int | None, int | None]] = []
    for pattern, ages in _WORD_AGES:
        if pattern.search(text):
            found.append(ages)
    for match in _GRADE.finditer(text):
        grades = [int(match.group(1)), *(int(g) for g in re.findall(r"[3-6]", match.group(2) or ""))]
        found.append((min(_GRADE_AGES[g][0] for g in grades), max(_GRADE_AGES[g][1] for g in grades)))
    return found


def _envelope(ages: list[tuple[int | None, int | None]]) -> tuple[int | None, int | None]:
    """Two-sided ranges win and are merged into their envelope; else one-sided bounds are combined
    ("à partir de 16 ans … jusqu'à 25 ans" -> 16-25), and bounds that contradict each other
    ("mineurs" and "majeurs") give no bound at all."""
    full = [(low, high) for low, high in ages if low is not None and high is not None]
    if full:
        return min(low for low, _ in full), max(high for _, high in full)
    lows = [low for low, _ in ages if low is not None]
    highs = [high for _, high in ages if high is not None]
    low, high = (min(lows) if lows else None), (max(highs) if highs else None)
    if low is not None and high is not None and low > high:
        return None, None
    return low, high


def _source_ages(text: str) -> tuple[int | None, int | None]:
    numeric = _numeric_ages(text)
    return _envelope(numeric) if numeric else _envelope(_word_ages(text))


def _is_extension(text: str, match: re.Match[str]) -> bool:
    if not match.group("intro") and not match.group("cond"):
        return False
    sentence_start = max(text.rfind(".", 0, match.start()), text.rfind("\n\n", 0, match.start()))
    return PUBLIC_AGE_RANGE.search(text, sentence_start + 1, match.start()) is not None


def _extension(text: str) -> tuple[int, str | None] | None:
    for match in _EXTENSION.finditer(text):
        if _is_extension(text, match) and _plausible(int(match.group("age"))):
            condition = " ".join((match.group("cond") or "").split()).lstrip(", ").strip() or None
            return int(match.group("age")), condition
    return None


def extract_age_range(text: str, public: str | None = None) -> AgeRange:
    """Ages of the public of a chunk; see the module docstring for every mapping and the precedence."""
    text = _clean(text)
    public_low, public_high = _source_ages(_clean(public)) if public else (None, None)
    low, high = public_low, public_high
    if low is None or high is None:
        text_low, text_high = _source_ages(text)
        low = text_low if low is None else low
        high = text_high if high is None else high
    if low is not None and high is not None and low > high:
        low, high = public_low, public_high  # a bound taken from the text contradicts the public line: drop it
    extension = (_extension(_clean(public)) if public else None) or _extension(text)
    if extension is None:
        return AgeRange(low, high)
    return AgeRange(low, high, extension[0], extension[1])


def extract_ages(text: str, public: str | None = None) -> tuple[int | None, int | None]:
    """(age_min, age_max) of the public; None where the text gives no bound. See ``extract_age_range``."""
    ages = extract_age_range(text, public)
    return ages.age_min, ages.age_max


# ---------------------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------------------

# An address cut at a line end: inside the domain the hyphen is a soft hyphen (domain labels cannot end
# with "-"), inside the local part it is kept ("resp-jeunesse@…" is a real address).
_EMAIL_CUT_DOMAIN = re.compile(r"(@[A-Za-z0-9.-]*[A-Za-z0-9])-[ \t]*\n[ \t]*([a-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})")
_EMAIL_CUT_LOCAL = re.compile(r"([A-Za-z0-9._%+]*[A-Za-z0-9])-[ \t]*\n[ \t]*([A-Za-z0-9._%+-]+@)")
_SHORT_NUMBER = re.compile(
    r"\b(?:le|au|appel\w*|compos\w*|numéro|n°|tél\w*|contact\w*)\b[^\n\d]{0,40}?(?<!\d)(3018|3020|3919|3114|3949|3939|3646|3230|119|115)(?!\d)"
    r"|:\s*(3018|3020|3919|3114|3949|3939|3646|3230|119|115)(?!\d)",
    re.IGNORECASE,
)
_TLDS = r"(?:fr|com|org|net|eu|be|info|io|gouv\.fr|asso\.fr)"
_URL = re.compile(
    r"https?://[^\s<>\"']+|www\.[^\s<>\"']+"
    rf"|(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+{_TLDS}(?:/[^\s<>\"']*)?(?![\w@-])",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?»)]>"
_HANDLE_ONE = re.compile(r"^[\w@&'’.+-]+$")
_PERSON = re.compile(r"^[A-ZÀ-ÖØ-Þ][\w'’-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w'’-]+){1,3}$")
_NOT_HANDLE_START = re.compile(r"^(?:Pour\s+(?:les|des|tous|toutes)\b|Sur\s|sur\s|Tél|Tel\b|Mail\b|E-?mail\b|[•\-–(\d])")
_CONTACT_WINDOW = 10


@dataclass(frozen=True)
class Contacts:
    """Contact details as written, each list in order of appearance without duplicates.

    ``handles`` are the social-network names whose icon was lost in the PDF extraction: a short line
    that starts with a space, next to other contact details (" ptle59", " Face Lille"); the platform is
    unknown. ``names`` are people's names written on the line just above an e-mail address.
    """

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def _join_cut_emails(text: str) -> str:
    if "@" not in text:
        return text  # both patterns need one; most passages have none
    text = _EMAIL_CUT_DOMAIN.sub(r"\1\2", text)
    return _EMAIL_CUT_LOCAL.sub(r"\1-\2", text)


def _urls(line: str) -> list[str]:
    urls = []
    for match in _URL.finditer(line):
        url = match.group().rstrip(_URL_TRAILING)
        if "@" not in url:
            urls.append(url)
    return urls


def _is_handle(stripped: str, gazetteer: Gazetteer) -> bool:
    if not stripped or len(stripped) > 60 or _NOT_HANDLE_START.match(stripped) or stripped[-1] in ".,;:":
        return False
    if CONTACT_EMAIL.search(stripped) or CONTACT_PHONE.search(stripped) or _URL.search(stripped):
        return False
    if gazetteer.is_label_line(stripped):
        return False
    words = stripped.split()
    letters = [c for c in stripped if c.isalpha()]
    if len(words) >= 3 and letters and all(c.isupper() for c in letters):
        return False  # a title in capitals
    if len(words) == 1:
        return bool(_HANDLE_ONE.match(stripped))
    return len(words) <= 6 and (stripped[0].isupper() or stripped[0].isdigit()) and not any(c in stripped for c in ";()[]")


def extract_contacts(text: str, gazetteer: Gazetteer | None = None) -> Contacts:
    """E-mails, phones, web addresses, social handles and people's names, exactly as written."""
    gazetteer = gazetteer or load_gazetteer()
    text = _join_cut_emails(_clean(text))
    lines = text.split("\n")
    emails: list[str] = []
    phones: list[str] = []
    urls: list[str] = []
    names: list[str] = []
    contact_lines: list[int] = []
    for number, line in enumerate(lines):
        line_emails = CONTACT_EMAIL.findall(line)
        line_phones = [m.group().strip() for m in CONTACT_PHONE.finditer(line)]
        line_phones += [m.group(1) or m.group(2) for m in _SHORT_NUMBER.finditer(line)]
        line_urls = _urls(CONTACT_EMAIL.sub(" ", line))
        emails += line_emails
        phones += line_phones
        urls += line_urls
        if line_emails or line_phones or line_urls:
            contact_lines.append(number)
        if line_emails:
            previous = next((lines[k].strip() for k in range(number - 1, max(-1, number - 3), -1) if lines[k].strip()), "")
            if _PERSON.match(previous) and not gazetteer.is_label_line(previous):
                names.append(previous)
    handles: list[str] = []
    for number, line in enumerate(lines):
        if not line.startswith((" ", "\t")) or not any(abs(number - k) <= _CONTACT_WINDOW for k in contact_lines):
            continue
        stripped = line.strip()
        if _is_handle(stripped, gazetteer):
            handles.append(stripped)
    return Contacts(_dedupe(emails), _dedupe(phones), _dedupe(urls), _dedupe(handles), _dedupe(names))


# The same pattern and helpers under public names, for ingest.contacts (people and their own details);
# the e-mail and phone patterns are ingest.text's CONTACT_EMAIL and CONTACT_PHONE.
SHORT_NUMBER = _SHORT_NUMBER
clean_spaces, join_cut_emails, find_urls = _clean, _join_cut_emails, _urls


# ---------------------------------------------------------------------------------------------------
# Target public and porteur
# ---------------------------------------------------------------------------------------------------

_PUBLIC_START = re.compile(
    rf"^[ \t]*((?:Pour\s+(?:les|des|tous\s+les|toutes\s+les|l{_APOS}ensemble\s+des)|Jeunes\s+(?:de|du|des|âgés|entre|habitant|résidant))\b.*)$",
    re.MULTILINE,
)
_HEADER_LINE = re.compile(r"^[^a-zà-ÿ]*[A-ZÀ-Þ]{2}[^a-zà-ÿ]*$")  # a line in capitals: "LES RESSOURCES"
_STOP_LINE = re.compile(rf"^\s*(?:Pour\s+(?:les|des|tous|toutes)\b|Porteurs?\s+de\s+l{_APOS}|POUR EN SAVOIR PLUS)")
_MAX_CONTINUATION = 3


def extract_publics(text: str) -> list[str]:
    """Every "Pour les …" target-public statement, with its continuation lines, whitespace collapsed.

    A statement starts a line with "Pour les / des / tous les / toutes les / l'ensemble des", or with a
    capitalised "Jeunes de / du / des / âgés / entre / habitant / résidant" (001 l.2541 "Jeunes de la
    Métropole Lilloise entre 18 et 30 ans", 004 l.540), which the guide uses in the same place.

    A statement continues on the next lines until a blank line, a sentence end (. ! ?), a line in
    capitals, another "Pour les"/"Porteur" line, or three continuation lines. A word cut with a hyphen
    at a line end and continued in lower case is joined ("édu-" + "catifs" -> "éducatifs").
    """
    text = _clean(text)
    lines = text.split("\n")
    starts = {text.count("\n", 0, m.start(1)) for m in _PUBLIC_START.finditer(text)}
    publics: list[str] = []
    for number in sorted(starts):
        statement = lines[number].strip()
        for follow in lines[number + 1 : number + 1 + _MAX_CONTINUATION]:
            nxt = follow.strip()
            if not nxt or statement.endswith((".", "!", "?")) or _HEADER_LINE.match(nxt) or _STOP_LINE.match(follow):
                break
            soft_hyphen = statement.endswith("-") and nxt[0].islower()
            statement = statement[:-1] + nxt if soft_hyphen else f"{statement} {nxt}"
        publics.append(" ".join(statement.split()))
    return publics


def extract_public(text: str) -> str | None:
    """The first "Pour les …" target-public statement (see ``extract_publics``), or None."""
    publics = extract_publics(text)
    return publics[0] if publics else None


# ---------------------------------------------------------------------------------------------------
# Eligibility statements: the sentences that say who may take part (docs/data-quality.md §7)
# ---------------------------------------------------------------------------------------------------

# Whom a sentence is about: people an action can be for.
_PEOPLE = (
    r"jeunes?|personnes?|élèves|étudiant[·.]?\w*|publics?|habitant[·.]?\w*|décrocheu\w*|allocataires?|collégien\w*|"
    r"lycéen\w*|demandeu\w*|porteu\w*\s+de\s+projets?|filles|garçons|mineur\w*|majeur\w*|adolescent\w*|volontaires|"
    r"bénéficiaires|lillois\w*|monsois\w*|roubaisien\w*|tourquennois\w*|apprenti\w*|stagiaires"
)
# A target cue before the people ("pour les", "à destination des", "cible :", "réservé aux"…) or a
# statement that starts with them ("Jeunes âgés entre 16 et 25 ans résidant…", "Auprès de jeunes…").
_TARGET = re.compile(
    rf"(?:^|\b)(?:pour|auprès|à\s+destination|à\s+tou(?:t|te|s|tes)|destinée?s?|s{_APOS}adress\w*|réservée?s?|ouverte?s?|accessibles?|cibles?|"
    rf"publics?(?:\s+(?:cibles?|visés?|concernés?|prioritaires?))?\s*:|bénéficiaires?\s*:|éligibles?|accueill\w*|"
    rf"espace\s+de\s+\w+\s+pour|concerne)\b[^.;]{{0,60}}?\b(?:{_PEOPLE})\b"
    rf"|^\W*(?:des\s+|les\s+)?(?:{_PEOPLE})\b\s+(?:de|du|des|âgé\w*|entre|habitant|résidant|issus?|originaires?|en\s+situation)\b"
    # "l'insertion … des jeunes en difficulté âgés 16 à 25 ans": people qualified by an age range.
    rf"|\b(?:{_PEOPLE})\b(?:\s+[\w/-]+){{0,3}}?\s+âgée?s?\s+(?:de\s+|entre\s+)?\d{{1,2}}\s*(?:à|-|et)\s*\d{{1,2}}\s*ans\b",
    re.IGNORECASE,
)
# Counts of people already served, shares and definitions are statistics, never whom an action is for:
# "10 jeunes concernés à ce jour, 19/27 ans", "un habitant sur trois ayant moins de 20 ans",
# "nombre de personnes de 15 à 64 ans ayant un emploi".
_COUNTED_PEOPLE = re.compile(
    rf"(?<![\w/])\d[\d  .,]*\s*(?:%\s*)?(?:des\s+|de\s+)?(?:{_PEOPLE})\b|\b(?:un|une|deux|trois)\s+(?:{_PEOPLE})\s+sur\b",
    re.IGNORECASE,
)
_STATISTIC = re.compile(
    r"\b(?:à\s+ce\s+jour|taux|nombre\s+(?:de|total)|sur\s+(?:deux|trois|quatre|cinq|dix)|en\s+moyenne|proportion|part\s+des)\b|%",
    re.IGNORECASE,
)
_FOR_WHOM_HEADING = re.compile(
    r"^\W*(?:Pour\s+qui|Public(?:s)?(?:\s+cibles?|\s+visés?)?|Cibles?|Bénéficiaires)\s*[?:]?\s*$", re.IGNORECASE
)


@lru_cache(maxsize=4096)  # a sentence is read again in each chunk and action holding it (a third are repeats)
def is_eligibility_statement(sentence: str) -> bool:
    """True when ``sentence`` says who may take part, and is no statistic (see the module's traps)."""
    text = " ".join(_clean(sentence).split())
    if _COUNTED_PEOPLE.search(text) or _STATISTIC.search(text):
        return False
    return _PUBLIC_START.match(text) is not None or _TARGET.search(text) is not None


def eligibility_statements(lines: list[str]) -> list[str]:
    """The sentences of ``lines`` that say who may take part, in order, whitespace collapsed.

    A sentence right after a "Pour qui ?" / "Public :" / "Cible" heading is one too.
    """
    found: list[str] = []
    after_heading = False
    for sentence in sentences(lines):
        text = sentence.text
        if _FOR_WHOM_HEADING.match(text):
            after_heading = True
            continue
        if (after_heading and not _COUNTED_PEOPLE.search(text) and not _STATISTIC.search(text)) or is_eligibility_statement(text):
            found.append(text)
        after_heading = False
    return list(dict.fromkeys(found))


_PORTEUR = re.compile(rf"^[ \t]*Porteurs?\s+de\s+l{_APOS}\s*actions?\s*:\s*(.*?)\s*$", re.MULTILINE | re.IGNORECASE)
_PORTEUR_CUT = re.compile(rf"\s+(?:Pour\s+(?:les|des|tous|toutes)\b|Sur\s+(?:l{_APOS}ensemble|tout)\b).*$", re.IGNORECASE)


def extract_porteur(text: str) -> str | None:
    """The organisation(s) after "Porteur(s) de l'action(s) :", as written, cut before a public/territory phrase."""
    match = _PORTEUR.search(_clean(text))
    if match is None:
        return None
    porteur = _PORTEUR_CUT.sub("", match.group(1)).strip()
    return porteur or None


# ---------------------------------------------------------------------------------------------------
# Territory
# ---------------------------------------------------------------------------------------------------

SCOPE_COMMUNE = "commune"
SCOPE_SEVERAL = "several"
SCOPE_MEL = "MEL"
SCOPE_CAVM = EPCI_NAMES["CAVM"]  # "Valenciennes Métropole"
_SCOPE_OF_EPCI = {"MEL": SCOPE_MEL, "CAVM": SCOPE_CAVM}

_METRO_WORDS = re.compile(
    r"\b(?:territoire|jeunes|échelle|habitants)\s+métropolitaine?s?\b"
    r"|\b(?:de|dans|sur)\s+(?:toute\s+|l['’]ensemble\s+de\s+)?la\s+métropole\b(?!\s+(?:de\s+lille|européenne|lilloise))",
    re.IGNORECASE,
)
_WHOLE_TERRITORY = re.compile(
    rf"\b(?:l{_APOS}ensemble\s+du|tout\s+le)\s+territoire(?:\s+métropolitain)?\s*(?:$|[.,;)])"
    rf"|\b(?:l{_APOS}ensemble\s+du|tout\s+le)\s+territoire\s+métropolitain\b",
    re.IGNORECASE | re.MULTILINE,
)
_TOWN_PORTEUR = re.compile(rf"\b(?:villes?|mairies?|communes?|CCAS)\s+(?:de\s+la\s+|de\s+|d{_APOS}\s*|du\s+)(.+)", re.IGNORECASE)
_QPV = re.compile(
    r"\bquartiers?\s+prioritaires?\b|\bQPV\b|\bquartiers?\s+(?:de\s+la\s+|en\s+)?politique\s+de\s+la\s+ville\b",
    re.IGNORECASE,
)
_QPV_NEGATION = re.compile(r"\bhors\s+(?:des\s+|les\s+|de\s+)?$", re.IGNORECASE)
# "pour les territoires hors QPV", "jeunes … originaires des secteurs HORS POLITIQUE DE LA VILLE":
# the public is outside priority neighbourhoods (a "for whom" word before "hors").
_HORS_QPV = (
    r"\bhors\s+(?:des\s+|les\s+|de\s+(?:la\s+)?)?"
    r"(?:QPV|quartiers?\s+prioritaires?|(?:quartiers?\s+(?:de\s+la\s+|en\s+)?)?politique\s+de\s+la\s+ville)\b"
)
# The phrase itself, up to the end of its clause ("hors politique de la ville des Missions Locales …").
HORS_QPV = re.compile(_HORS_QPV + r"[^,;.]*", re.IGNORECASE)
_QPV_EXCLUDED = re.compile(
    r"\b(?:pour|jeunes|originaires|résidant|residant|habitant)\b[^.\n]{0,80}?" + _HORS_QPV,
    re.IGNORECASE,
)
_MAX_TERRITORY_RUN = 3  # longer runs of label lines are (pieces of) maps


@dataclass(frozen=True)
class Territory:
    """Where an action applies.

    ``scope``: "commune" (one commune), "several" (several communes), "MEL", "Valenciennes Métropole",
    or None when the text says nothing usable. ``communes`` lists the communes named by the evidence
    used (official names; possibly with a metropolitan scope, e.g. "résidant dans la MEL (principalement
    à Lille, Lomme ou Hellemmes)"). ``evidence`` tells which source decided: "public", "line" or "porteur".
    """

    communes: tuple[str, ...] = ()
    scope: str | None = None
    qpv: bool = False
    evidence: str | None = None


_FEMALE = re.compile(r"\b(?:jeunes?\s+filles?|filles|femmes|jeunes\s+femmes|lyceennes|collegiennes)\b")
_MALE = re.compile(r"\b(?:garcons?|jeunes?\s+hommes?|hommes)\b")


def public_gender(public: str | None) -> str | None:
    """ "f" when a public line is for girls or women only ("Pour les jeunes filles âgées de 13 à 17 ans"),
    "m" for boys or men only, None when it says neither or both ("filles et garçons")."""
    if not public:
        return None
    folded = fold_words(public)
    female, male = bool(_FEMALE.search(folded)), bool(_MALE.search(folded))
    return "f" if female and not male else "m" if male and not female else None


def excludes_qpv(text: str) -> bool:
    """True when the text says its public lives outside priority neighbourhoods ("pour les territoires hors QPV")."""
    return _QPV_EXCLUDED.search(_clean(text)) is not None


def is_qpv(text: str) -> bool:
    """True when the text mentions priority neighbourhoods (QPV), "hors QPV" and the like excepted."""
    return any(not _QPV_NEGATION.search(text[max(0, m.start() - 12) : m.start()]) for m in _QPV.finditer(_clean(text)))


def _metropole_of(text: str, gazetteer: Gazetteer) -> str:
    scopes = gazetteer.scopes(text)
    if "CAVM" in scopes and "MEL" not in scopes:
        return "CAVM"
    epcis = {c.epci for c in gazetteer.find(text)}
    if epcis == {"CAVM"} and "MEL" not in scopes:
        return "CAVM"
    return "MEL"


def _scope_for(communes: list[str], metro: str | None) -> str | None:
    if metro is not None:
        return _SCOPE_OF_EPCI[metro]
    if len(communes) == 1:
        return SCOPE_COMMUNE
    return SCOPE_SEVERAL if communes else None


def _from_statement(statement: str, gazetteer: Gazetteer, metropole: str) -> tuple[list[str], str | None]:
    communes = [c.name for c in gazetteer.find(statement)]
    scopes = gazetteer.scopes(statement)
    if _METRO_WORDS.search(statement) or _WHOLE_TERRITORY.search(statement):
        scopes.append(metropole)
    return communes, (scopes[0] if scopes else None)


def territory_lines(text: str, gazetteer: Gazetteer, map_end: str | None = None) -> list[str]:
    """Lines made only of commune names that state a territory, map label lists excluded.

    Consecutive label lines (blank lines aside) form a run. ``map_end`` is the label that closes the
    document's maps (``ingest.cards.map_end_label`` reads it from the document): in a run that holds
    it, only the lines after it count, the highlighted communes being repeated there. Otherwise a run
    of at most 3 lines is a territory statement (" Lille", "Haubourdin / Loos") and a longer run is a
    piece of a map and counts for nothing.
    """
    closing = name_key(map_end) if map_end else None
    runs: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if gazetteer.is_label_line(line):
            current.append(line.strip())
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    kept: list[str] = []
    for run in runs:
        last = max((k for k, line in enumerate(run) if closing and name_key(line) == closing), default=None)
        if last is not None:
            kept += run[last + 1 :]
        elif len(run) <= _MAX_TERRITORY_RUN:
            kept += run
    return kept


def territory(
    text: str,
    public: str | None,
    porteur: str | None,
    gazetteer: Gazetteer | None = None,
    *,
    metropole: str | None = None,
    map_end: str | None = None,
) -> Territory:
    """Territory of a chunk, from the best evidence available (docs/data-quality.md §2.2), never from a map list.

    Evidence, in order, the first one that names a place decides:

    1. the target-public line ``public`` ("habitant Loos, Wattignies ou Haubourdin", "lillois",
       "jeunes métropolitains", "de la Métropole Lilloise");
    2. explicit lines of ``text``: "Sur l'ensemble du / tout le territoire (métropolitain)", and lines
       made only of commune names that are not a map list (see ``territory_lines``);
    3. the porteur when it is a town ("ville(s) de X", "mairie de X", "CCAS de X") or the EPCI itself.

    "métropolitain" and "territoire" mean the EPCI given by ``metropole`` ("MEL" or "CAVM"); without
    it, Valenciennes Métropole when the text names it (or only its communes) and the MEL otherwise.
    A metropolitan phrase sets the scope even when communes are also named. ``qpv`` is computed on the
    text and the public line.
    """
    gazetteer = gazetteer or load_gazetteer()
    text = _clean(text)
    metro = metropole or _metropole_of(f"{text}\n{public or ''}", gazetteer)
    qpv = is_qpv(text) or (public is not None and is_qpv(public))

    if public:
        communes, scope = _from_statement(_clean(public), gazetteer, metro)
        if communes or scope:
            return Territory(tuple(communes), _scope_for(communes, scope), qpv, "public")

    line_communes: list[str] = []
    for line in territory_lines(text, gazetteer, map_end):
        line_communes += [c.name for c in gazetteer.find(line) if c.name not in line_communes]
    whole = metro if _WHOLE_TERRITORY.search(text) else None
    if line_communes or whole:
        return Territory(tuple(line_communes), _scope_for(line_communes, whole), qpv, "line")

    if porteur:
        porteur = _clean(porteur).strip()
        scope_only = gazetteer.epci_of(porteur) if gazetteer.get(porteur) is None else None
        if scope_only:
            return Territory((), _SCOPE_OF_EPCI[scope_only], qpv, "porteur")
        town = _TOWN_PORTEUR.search(porteur)
        if town:
            communes = [c.name for c in gazetteer.find(town.group(1))]
            if communes:
                return Territory(tuple(communes), _scope_for(communes, None), qpv, "porteur")

    return Territory((), None, qpv, None)
