"""Pseudonymisation of what counsellors type, before it is stored (feedback) or logged.

Counsellors write about young people: a question or a comment may hold a name, an e-mail, a phone
number, a birth date or an address. None of these helps to answer (the assistant needs the age, the
commune, the situation), so they are replaced by French placeholders — « [nom] », « [e-mail] »,
« [téléphone] », « [date] », « [adresse] » — while ages (« 17 ans »), communes, action and
organisation names stay, so that an exported question still reads as the question that was asked.

Names are found without a named-entity model, from cues only: « je m'appelle », « s'appelle »,
« nommé(e) », civilities (« M. », « Mme », « Madame »…), « jeune homme / femme / fille X », kinship
words (« son fils X »), and a capitalised pair of words followed by what describes a person
(« Jean Dupont, né le… », « Léa Martin, 17 ans ») or opening a comment before a comma. A first-name
list was left out: no installed package ships one, and a list written from memory could not name its
source. A name with no cue (« Jean Dupont a 17 ans ») therefore stays: the cues cover how counsellors
introduce a young person, not every sentence.
"""

from __future__ import annotations

import re
from functools import cache

NAME = "[nom]"
EMAIL = "[e-mail]"
PHONE = "[téléphone]"
DATE = "[date]"
ADDRESS = "[adresse]"

_UP = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ"
_LOW = "a-zàâäçéèêëîïôöùûüÿœæ"
# A capitalised word (Jean, Jean-Pierre, O'Brien) or one in capitals (DUPONT), as names are written.
_WORD = rf"(?:[{_UP}][{_LOW}]+(?:[-'’][{_UP}][{_LOW}]+)*|[{_UP}]{{2,}}(?:-[{_UP}]{{2,}})*)"
_NAME_WORDS = rf"{_WORD}(?:[ \t]+{_WORD}){{0,2}}"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# French numbers: 06 12 34 56 78, 06.12.34.56.78, 0612345678, +33 6 12 34 56 78, 0033 6…
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?|0)[1-9](?:[ .-]?\d{2}){4}(?!\d)")
_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
# Full dates only (day, month and year): « le 3 février » or « en 2008 » say nothing exact about a person
# and may be an action's session date or the year the age comes from.
_DATE = re.compile(
    rf"(?<![\d/.-])(?:(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|1[0-2])[/.-](?:\d{{4}}|\d{{2}})(?![\d/.-]\d)"
    rf"|(?:1er|\d{{1,2}})[ \t]+(?:{_MONTHS})[ \t]+\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_STREET = (
    r"rue|avenue|av\.|bd|boulevard|place|impasse|allée|allee|chemin|route|quai|cours|square|résidence|residence"
    r"|chaussée|chaussee|sentier|voie|passage|cité|cite|parvis|hameau|lotissement|rond-point"
)
# « 12 rue des Lilas », « 3 bis, avenue Jean Jaurès » : a number, a street word, then its name.
_ADDRESS = re.compile(
    rf"(?<![\w,.])\d{{1,4}}(?:[ \t]*(?i:bis|ter))?,?[ \t]+(?i:{_STREET})(?!\w)"
    rf"(?:[ \t]+(?:(?i:de|du|des|la|le|les|aux|au)[ \t]+|(?i:d|l)['’])*{_WORD})*"
)
_CUE = re.compile(
    rf"(?P<cue>\b(?i:je m['’]appelle|[mt]['’]appelle|s['’]appel(?:le|lent|ait)|(?:pré)?nommée?s?|appelée?|prénom[ \t]*:?"
    rf"|nom[ \t]*:|jeune (?:homme|femme|fille|garçon)|(?:son|mon|ton|sa|ma|ta) (?:fils|fille|frère|sœur|soeur|cousin|cousine)"
    rf"|(?:^|(?<=[\s(]))(?:M\.|Mme|Mlle|Mr|Monsieur|Madame|Mademoiselle))[ \t]+)(?P<name>{_NAME_WORDS})"
)
# A capitalised pair then what describes a person: « Jean Dupont, né le… », « Léa Martin (17 ans) ».
_PERSON_PAIR = re.compile(
    rf"\b(?P<name>{_WORD}[ \t]+{_WORD}(?:[ \t]+{_WORD})?)(?=[ \t]*[,(]?[ \t]*(?:née?s?\b|âgée?s?\b|\d{{1,2}}[ \t]*ans\b))"
)
# A comment opening with a capitalised pair before a comma: « Jean Dupont, suivi depuis mars ».
_OPENING_PAIR = re.compile(rf"^(?P<lead>\s*)(?P<name>{_WORD}[ \t]+{_WORD}(?:[ \t]+{_WORD})?)(?=[ \t]*,)")

# Capitalised words that open sentences, or name organisations, places and actions, never a person:
# a pair holding one of them is not taken for a name.
_NOT_NAME_WORDS = """
    le la les l un une des du de d au aux mon ma mes son sa ses ton ta notre votre leur pour par sur avec sans
    chez dans en et ou mais donc car quel quelle quels quelles qui que quoi quand comment où combien est-ce
    bonjour bonsoir salut merci cordialement madame monsieur mme mlle m mr
    mission missions locale locales pôle france travail emploi cap maison service services centre point info
    garantie jeunes jeune école ecole lycée college collège conseil département departement région region
    métropole metropole ville communauté agglomération caf cpam apec afpa epide e2c csc mel cavm qpv rsa
    nord hauts lille roubaix tourcoing loos valenciennes action actions projet dispositif programme réponse
    question avis très bien bonne bon mauvaise mauvais pas oui non il elle ils elles je tu nous vous on
    """
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


@cache
def _communes() -> object:
    from ingest.gazetteer import load_gazetteer

    return load_gazetteer()


def _is_place(words: str) -> bool:
    """True when ``words`` (or any of its words) is a commune of the gazetteer: communes stay."""
    from ingest.gazetteer import Gazetteer

    gazetteer = _communes()
    assert isinstance(gazetteer, Gazetteer)
    return gazetteer.get(words) is not None or any(gazetteer.get(w) is not None for w in words.split())


def _looks_like_name(words: str) -> bool:
    parts = words.split()
    return not any(p.lower().strip("'’") in _NOT_NAMES for p in parts) and not _is_place(words)


def _cue_name(match: re.Match[str]) -> str:
    name = match.group("name")
    # After a cue, one word is enough (« s'appelle Kevin »); a commune or a stop word is not a name.
    parts = name.split()
    kept: list[str] = []
    for part in parts:
        if part.lower() in _NOT_NAMES:
            break
        kept.append(part)
    if not kept or _is_place(" ".join(kept)):
        return match.group(0)
    rest = name[len(" ".join(kept)) :]
    return f"{match.group('cue')}{NAME}{rest}"


def _pair_name(match: re.Match[str]) -> str:
    return NAME if _looks_like_name(match.group("name")) else match.group(0)


def _opening_name(match: re.Match[str]) -> str:
    return f"{match.group('lead')}{NAME}" if _looks_like_name(match.group("name")) else match.group(0)


def pseudonymise(text: str) -> str:
    """``text`` with e-mails, French phone numbers, full dates, street addresses and cued names replaced by
    « [e-mail] », « [téléphone] », « [date] », « [adresse] », « [nom] »; everything else unchanged."""
    if not text:
        return text
    # E-mails first (their digits would look like a phone), dates before phones (« 03.02.2008 »).
    text = _EMAIL.sub(EMAIL, text)
    text = _DATE.sub(DATE, text)
    text = _PHONE.sub(PHONE, text)
    text = _ADDRESS.sub(ADDRESS, text)
    text = _CUE.sub(_cue_name, text)
    text = _PERSON_PAIR.sub(_pair_name, text)
    return "\n".join(_OPENING_PAIR.sub(_opening_name, line) for line in text.split("\n"))
