"""Answerability from the slot a question asks for: a fact is stated only when a sentence holds that slot.

A question asking "combien coûte …" asks for an *amount*; "combien de jeunes …" for a *count* of young
people; "quand …" for a *date*; "pendant combien de temps …" for a *duration*. A sentence answers only
when it holds a value of that slot (an amount in euros, a number of the people asked about, a date…);
a figure of another unit never does ("60 jeunes" does not answer "combien ça coûte ?"). Which
passages may answer (the named action's, not another's) is the answerer's business; this module only
says whether a sentence holds the slot, and how to say that none does.
"""

from __future__ import annotations

import re

from ingest.text import EMAIL, PHONE
from ingest.text import fold_words as fold_question
from ingest.vocabulary import french_noun

# "5 000", "5.000" or "2000" ("soutien de 2000€"): grouped thousands, or digits written together.
_NUMBER = r"(?<![\w/])(?:\d{1,3}(?:[  .]\d{3})+|\d+)(?:[,.]\d+)?"
_MONTHS = r"janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
SLOT_EVIDENCE: dict[str, re.Pattern[str]] = {
    "amount": re.compile(rf"{_NUMBER}\s*(?:€|euros?\b|k€|millions?\s+d['’]\s*euros|M€)", re.IGNORECASE),
    "date": re.compile(
        rf"\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})(?:\s+\d{{4}})?\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b(?:{_MONTHS})\s+\d{{4}}\b"
        r"|\b(?:en|depuis|dès|à partir de|jusqu['’]en|au)\s+(?:19|20)\d{2}\b",
        re.IGNORECASE,
    ),
    "duration": re.compile(
        rf"{_NUMBER}\s*(?:mois|semaines?|jours?|ans|années?|heures?|h\b)|\b(?:un|une|deux|trois|quatre|six|huit|dix|douze|plusieurs|quelques)\s+(?:mois|semaines?|ans?|années?|jours?)\b",
        re.IGNORECASE,
    ),
    "rate": re.compile(rf"{_NUMBER}\s*%"),
    "frequency": re.compile(
        r"\b(?:une|deux|trois|quatre|\d+)\s+fois\s+par\s+(?:jour|semaine|mois|an|année|trimestre|semestre)\b"
        r"|\b(?:chaque|tous\s+les|toutes\s+les)\s+(?:jours?|semaines?|mois|ans|années?|trimestres?|lundis?|mardis?|mercredis?"
        r"|jeudis?|vendredis?|samedis?|dimanches?|quinze\s+jours|\d+\s+(?:jours|semaines|mois|ans))\b"
        r"|\b(?:hebdomadaires?|mensuel\w*|quotidien\w*|annuel\w*|bimensuel\w*|trimestriel\w*|semestriel\w*)\b",
        re.IGNORECASE,
    ),
    "hours": re.compile(r"\b\d{1,2}\s*h(?:\s*\d{2})?\b|\bde\s+\d{1,2}\s*h\b", re.IGNORECASE),
    # The papers to hand in ("justificatifs", "pièces à fournir", "avis d'imposition", "dossier de candidature").
    "papers": re.compile(
        r"\b(?:justificatifs?|pi[èe]ces?\s+(?:justificatives?|à\s+fournir|a\s+fournir|d['’]\s*identit[ée])|attestations?\s+(?:de|d['’])"
        r"|avis\s+d['’]\s*imposition|dossiers?\s+(?:d['’]\s*inscription|de\s+candidature)|documents?\s+à\s+fournir|fournir\s+(?:un|une|le|la|les|son|sa|ses))",
        re.IGNORECASE,
    ),
    "phone": PHONE,
    "email": EMAIL,
    "age": re.compile(
        r"\b\d{1,2}\s*(?:à|-|/|et)\s*\d{1,2}\s*ans\b|\b(?:moins|plus)\s+de\s+\d{1,2}\s*ans\b|\bmineur|\bmajeur", re.IGNORECASE
    ),
}
# How the refusal names what is asked ("Les documents ne précisent pas le montant pour Cap Quartiers.").
SLOT_LABEL = {
    "amount": "le montant",
    "count": "le nombre",
    "date": "la date",
    "duration": "la durée",
    "rate": "le taux",
    "hours": "les horaires",
    "frequency": "la fréquence",
    "papers": "les pièces à fournir",
    "phone": "de numéro de téléphone",
    "email": "d'adresse e-mail",
    "age": "l'âge",
    "place": "le lieu",
}
# "combien de jeunes", "combien de Missions Locales", "nombre de participants", "qui a touché le plus de
# jeunes": what is counted.
# "combien de places", and with a verb of having or remaining between: "combien reste-t-il de places",
# "combien y a-t-il de sessions", "combien en accueille-t-elle de jeunes" (not "combien coûte la formation de …").
_BETWEEN = r"(?:(?:reste|restent|y|a|en|t|il|ils|elle|elles|ont|sont|existe|existent|compte|comptent|accueille|accueillent|faut|prevoit|propose|proposent|offre|offrent|ete|seront|sera|aura|auront)\s+){1,4}"
_COUNTED = re.compile(
    rf"\b(?:(?:combien|cb)\s+(?:{_BETWEEN})?(?:de|d)|nombre\s+(?:de|d)|le\s+(?:plus|moins)\s+(?:de|d))\s+([a-z]+)"
)


def counted_noun(question: str, as_written: bool = False) -> str | None:
    """The noun a count question counts ("jeunes" in "combien de jeunes …"), folded (``as_written``: with
    its accents, for an answer: "élèves"), or None."""
    match = _COUNTED.search(fold_question(question))
    if match is None:
        # "how many young people …", "how many people took part": what is counted, in the documents' French.
        english = re.search(r"\bhow many\s+(?:of\s+the\s+)?([a-z]+(?:\s+[a-z]+)?)", fold_question(question))
        # The phrase, else its last word ("permanent jobs": "jobs"), else its first ("people took part").
        words = english.group(1).split() if english else []
        said = [" ".join(words), words[-1], words[0]] if words else []
        french = next((f for w in said if (f := french_noun(w)) is not None), None)
        if french is not None:
            return french.lower() if as_written else fold_question(french)
    if match and as_written:
        written = re.search(
            r"\b(?:combien(?:[\s-]+[^\W\d_]+){0,4}?|nombre|plus|moins)\s+(?:de\s+|d['’]\s*)([^\W\d_]+)", question, re.IGNORECASE
        )
        if written and fold_question(written.group(1)) == match.group(1):
            return written.group(1).lower()
    return match.group(1) if match else None


# Numbers written in words ("une dizaine de jeunes", "trois sessions"); not "un", "une": articles first.
_WORD_NUMBERS = (
    r"(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|cinquante|cent|"
    r"mille|dizaines?|vingtaines?|trentaines?|centaines?|milliers?)"
)
# What counts young people (folded, plural "s" dropped as ``_stem`` does).
_PEOPLE = (
    "jeune",
    "personne",
    "participant",
    "beneficiaire",
    "stagiaire",
    "eleve",
    "etudiant",
    "habitant",
    "volontaire",
    "collegien",
    "lyceen",
    "apprenti",
    "inscrit",
    "accompagne",
)


# "le montant du fonds de garantie", "le coût de la formation": what the sum asked is of (a common noun; a
# name written with its capital, "le budget de Wi-Filles", is the action's, read from its passages).
_PRICED = re.compile(r"\b(?:montant|budget|cout|coût|prix|tarif)\s+(?:du|de la|de l['’]\s*|des|de|d['’]\s*)\s*([a-zà-ÿ]{4,})")
_NOT_PRICED = frozenset({"aide", "aides", "action", "actions", "dispositif", "projet", "programme", "subvention", "financement"})


def _priced(question: str) -> str | None:
    """The common noun whose sum the question asks ("fonds" in "le montant du fonds de garantie"), folded."""
    match = _PRICED.search(question)
    if match is None or fold_question(match.group(1)) in _NOT_PRICED:
        return None
    return fold_question(match.group(1))[:5]


# An outcome counted ("combien ont trouvé un emploi", "combien d'insérés"): the sentence must count one too.
_OUTCOME = re.compile(
    r"\b(?:decroche\w*\s+(?:un\s+)?(?:emploi|job|contrat|cdi|cdd)|trouve\w*\s+(?:un\s+)?(?:emploi|job|travail|contrat)"
    r"|insere\w*|sorties?\s+positives?|embauche\w*|recrute\w*|diplome\w*|en\s+emploi|en\s+cdi)\b"
)
# A sum per month is asked, and the sentences that state one.
_MONTHLY = re.compile(r"\b(?:par mois|mensuel\w*|chaque mois|per month|monthly)\b")
_PER_MONTH = re.compile(r"/\s*mois\b|\bpar\s+mois\b|\bmensuel\w*|\bchaque\s+mois\b", re.IGNORECASE)
# What a sum is of, when the question names it ("le loyer", "le salaire", "l'indemnité").
_THINGS_PRICED = re.compile(r"\b(loyer|salaire|indemnite|bourse|allocation|remuneration|gratification|caution)s?\b")


# Whether something costs the young person anything: "gratuit", "payant", "sans frais".
_FREE = re.compile(r"\b(?:gratuit\w*|payant\w*|sans frais|free of charge)\b")
_GENERIC_PEOPLE = ("jeune", "personne", "participant", "beneficiaire", "inscrit", "accompagne")


# A date to come is asked ("la prochaine session", "les inscriptions"): a past year does not answer it.
FUTURE = re.compile(r"\b(?:prochaine?s?|a venir|suivante?|inscriptions?|commencer?a?|debuter?a?|next|upcoming|registrations?)\b")
# A deadline is asked ("la date limite", "jusqu'à quand peut-on s'inscrire"): only a date a sentence gives as
# one answers it ("avant le 30 juin", "jusqu'au 15 mai"), not the date of another event of the action.
DEADLINE = re.compile(
    r"\b(?:date limite|dates limites|deadline|au plus tard|avant quand|jusqu a quand|derniere limite|cloture)\b"
)
_DEADLINE_GIVEN = re.compile(
    rf"\b(?:avant\s+le|jusqu['’]\s*au|au\s+plus\s+tard|date\s+limite|limite|clôture\w*|cloture\w*)\W+(?:\w+\W+){{0,3}}?"
    rf"(?:\d{{1,2}}(?:er)?\s+(?:{_MONTHS})|\d{{1,2}}/\d{{1,2}}|(?:{_MONTHS}))",
    re.IGNORECASE,
)
# A year heading a line of a card's timeline ("2017\nMise en place de l'action"), or "en 2017".
YEAR_LINE = re.compile(r"(?m)^\s*(?:19|20)\d{2}\b|\b(?:en|depuis|dès)\s+(?:19|20)\d{2}\b")


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith(("s", "x")) else word


# The question asks how many benefited ("en ont bénéficié", "have benefited", "beneficiaries") or used the service
# ("ont utilisé les épiceries", "fréquenté", "profité", "have used", "visited"): those an action serves.
_BENEFITED = re.compile(
    r"\b(?:benefici\w*|benefit\w*|utilis\w*|used|frequent\w*|profit\w*|accueilli\w*|served|visited|accompagne\w*|supported|helped)\b"
)


def counts_noun(sentence: str, question: str) -> bool:
    """True when a figure of ``sentence`` counts the very noun the question counts ("202 jeunes" for "combien
    de jeunes"), not people under another name ("2 430 étudiants"): the closest answer to a count."""
    noun = counted_noun(question)
    return noun is not None and _counts(fold_question(sentence), (_stem(noun),), one_word=False)


# The small words that may lie between a figure and what it counts (folded): "4 salons de l'étudiant" counts fairs;
# a year ("en 2022 des jeunes …") counts nothing.
_SMALL_WORDS = r"(?:de|d|des|du|la|l|les|le|en|au|aux|plus|moins|environ|pres|nouveaux|nouvelles|autres)"
_FIGURE = rf"(?:\b(?!(?:19|20)\d\d\b)\d[\d .]*%?|\b{_WORD_NUMBERS})"


def _counts(folded: str, nouns: tuple[str, ...], one_word: bool = True) -> bool:
    """A figure of ``folded`` counts one of ``nouns``: small words between them, and (``one_word``) one word right
    before the noun ("36 entreprises partenaires")."""
    before = r"(?:[a-z]+\s+)?" if one_word else ""
    counted = "|".join(re.escape(n) for n in nouns)
    return re.search(rf"{_FIGURE}\s+(?:{_SMALL_WORDS}\s+){{0,3}}{before}(?:{counted})", folded) is not None


def holds(slot: str, sentence: str, question: str = "") -> bool:
    """True when ``sentence`` holds a value of ``slot``; a count must count what the question counts."""
    if slot == "count":
        noun = counted_noun(question)
        folded = fold_question(sentence)
        if _OUTCOME.search(fold_question(question)) and not _OUTCOME.search(folded):
            # "combien ont décroché un emploi ?": a count of young people followed or met is no count of those
            # who reached the outcome asked.
            return False
        if noun is None:
            return re.search(r"\d", folded) is not None
        # "402 jeunes", "60 % de sorties positives" (a share of what is counted states it too), "une
        # dizaine de jeunes"; people are counted under several names ("120 bénéficiaires" answers
        # "combien de jeunes"); "120 ont signé" answers "combien ont signé" without its noun.
        # A generic noun ("jeunes", "personnes") is answered by any; a group ("élèves", "volontaires") by
        # its own name only: "8 volontaires" does not say how many pupils were trained.
        nouns = _PEOPLE if _stem(noun) in _GENERIC_PEOPLE else (_stem(noun),)
        if _BENEFITED.search(fold_question(question)):
            # "how many students have benefited?": those an action served are its "bénéficiaires", whoever they are.
            nouns = (*nouns, "beneficiaire")
        if _counts(folded, tuple(nouns)):
            return True
        verbs = {w for w in re.findall(r"[a-z]{4,}", fold_question(question)) if w.endswith(("e", "es", "i", "is", "u", "us"))}
        return any(re.search(rf"\b\d[\d .]*\s+(?:ont|sont|a|ont ete)\s+{re.escape(v)}", folded) for v in verbs)
    if slot == "date":
        # "c'est quand exactement, le temps fort 2026 ?": the year the question gives is no answer to it.
        for year in re.findall(r"\b(?:19|20)\d{2}\b", question):
            sentence = re.sub(rf"\b(?:en|depuis|dès|au)\s+{year}\b|\b{year}\b", " ", sentence)
    if slot == "date" and DEADLINE.search(fold_question(question)):
        return _DEADLINE_GIVEN.search(sentence) is not None
    if slot == "date" and not FUTURE.search(fold_question(question)) and YEAR_LINE.search(sentence):
        # "2017 Mise en place de l'action" (a card's timeline) dates what happened; it does not say when
        # the next session is ("prochaine session": only a date to come answers).
        return True
    if slot == "amount" and _FREE.search(fold_question(question)) and _FREE.search(fold_question(sentence)):
        return True  # "c'est gratuit ?": "une offre de formation gratuite" answers it
    if slot == "amount":
        asked = fold_question(question)
        # "le loyer mensuel, c'est combien ?": a sum per month answers it, and a sum of that thing ("747 € de
        # loyer d'entrée" is a deposit; "561,68 €/mois" is another allowance).
        if _MONTHLY.search(asked) and not _PER_MONTH.search(sentence):
            return False
        things = {m for m in _THINGS_PRICED.findall(asked)}
        if things and not any(re.search(rf"\b{t[:5]}", fold_question(sentence)) for t in things):
            return False
    priced = _priced(question)
    if slot == "amount" and priced and priced not in fold_question(sentence):
        return False  # "le montant du fonds de garantie": "747 € de loyer d'entrée" is another sum
    if slot == "duration":
        # "pour les 18 à 26 ans" is an age, not how long the action lasts.
        sentence = SLOT_EVIDENCE["age"].sub(" ", sentence)
    pattern = SLOT_EVIDENCE.get(slot)
    return pattern is None or pattern.search(sentence) is not None


def not_stated(slot: str, entity: str | None = None, asked: str | None = None) -> str:
    """The French refusal for a slot no passage holds: "Les documents ne précisent pas le montant pour X."."""
    what = SLOT_LABEL.get(slot, "ce qui est demandé")
    if slot == "count" and asked:
        asked = asked if asked.endswith(("s", "x")) or " " in asked else f"{asked}s"  # "le nombre d'emplois"
        what = f"le nombre d'{asked}" if re.match(r"[aeiouyàâéèêîôûh]", asked) else f"le nombre de {asked}"
    return f"Les documents ne précisent pas {what}" + (f" pour {entity}" if entity else "") + "."
