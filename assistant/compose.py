"""The extractive answerer: a French answer composed from the retrieved passages, every line cited.

No LLM: it picks the kind of question and lays out what the passages say.

- eligibility / list ("quelle action pour…", a person described): the fitting actions, each with its
  porteur, public, territory, a contact and why it fits; then the ones that do not fit and why;
- contact: the contacts (names, e-mails, phones) of the action the question names;
- porteur: who runs it;
- fact (and anything else): the sentences of the top passages that answer, chosen by scoring.

Every value shown comes from a passage's text or from metadata extracted from it, and the passage is
cited as ``[n]``. When the passages do not hold what the question asks for (no e-mail for a contact
question, no amount for "quel budget", no date for "quand"…), it says so: "Les documents ne précisent
pas …", with the closest passages as leads.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

from langchain_core.documents import Document

from assistant import grounding
from assistant.answerability import SLOT_EVIDENCE, SLOT_LABEL, counted_noun, counts_noun, holds, not_stated
from assistant.citations import best_quote
from assistant.records import CLARIFICATION, CONDITION, EXCLUDED, FIT, MORE, OUT_OF_SCOPE, Citation, Piste
from index.eligibility import OTHER_DOCUMENT, WHOLE_TERRITORY
from index.intent import (
    RHYTHM,
    WHOLE_METROPOLIS,
    Assertion,
    EntityMatch,
    Intent,
    KindClassifier,
    durations,
    read_intent,
    rhythm_of,
    strong_situations,
    without_qualifiers,
)
from index.query import QueryAnalysis, analyse
from index.why import Why
from ingest.catalogue import acronym_of
from ingest.contacts import ROLE, format_contact
from ingest.france import Place
from ingest.gazetteer import EPCI_NAMES
from ingest.records import Action, Contact
from ingest.text import EMAIL, MARKER, PHONE, PUBLIC_AGE_RANGE, fold, passage_sentences, squash
from ingest.text import fold_words as fold_question  # apostrophes (’ too) and hyphens as spaces
from ingest.vocabulary import Concept, english_words, french_for, load_concepts
from ingest.vocabulary import label as concept_label

LIST, CONTACT, PORTEUR, FACT = "list", "contact", "porteur", "fact"
_WHO_IS = re.compile(r"\bqui\s+(?:est|sont|c est)\s+(?:le|la|les|l)\b")
_CONTACT = re.compile(
    r"\b(?:contact\w*|mail|e-?mail|courriel|joindre|telephone|tel|numero|(?<!\bs )adresse|qui appeler|ecrire)\b"
)
_PORTEUR = re.compile(r"\b(?:qui porte|quelle structure|qui pilote|qui organise|qui anime|porteur|porte par|qui mene|qui gere)\b")
_FACT = re.compile(
    r"\b(?:combien|quelle part|taux|quel montant|quels montants|montants?|quand|quelle date|quelle difference|quel est le nombre)\b"
)
_LIST = re.compile(
    r"\b(?:quelle action|quelles actions|quoi pour|on a quoi|on fait quoi|piste|proposer|orienter|y a t il|existe|que proposent|quelque chose|aide)\b"
)
# "où est-il prévu ?", "dans quels quartiers ?": the places are the answer, not the person's commune.
_WHERE = re.compile(r"(?:^|[\s:,])où\b|\bdans quel(?:le)?s? (?:quartiers?|communes?|villes?|territoires?)\b")
# "Quelle Mission Locale couvre Fretin ?", "de quelle structure dépend …": who serves a commune.
_COVERS = re.compile(r"\b(?:couvre|couvrent|depend|dependent|competente?s? (?:pour|sur|a)|rattache\w*|s occupe de)\b")
# "c'est pour quel âge ?", "pour qui ?": the public line answers, not a sentence that shares words.
_AGE_ASKED = re.compile(
    r"\b(?:quel age|quels ages|quelle tranche d age|tranche d age|quel public|pour qui|age minimum|age maximum)\b"
)
# "quelle différence entre A et B ?": one line per named action, side by side.
_COMPARE = re.compile(r"\b(?:difference|differences|differe\w*|comparer|compare\w*|versus|vs|plutot)\b")
# The parts of a question that asks two things: "combien … et combien …", "… et quel …".
_PART = re.compile(r"\s*(?:,\s*)?\bet\s+(?=(?:combien|quel\w*|comment|qui)\b)")
# Where a question asking several things of one action splits ("… et pour quel âge ?", "… and who is the
# contact?"): "et"/"and", maybe a preposition or "c'est", then a question word. Read on the question as typed.
_PARTS = re.compile(
    r"\s*,?\s+(?:et|and)\s+(?=(?:(?:pour|à|a|de|c['’]est|jusqu['’]\s*à|up\s+to|for|from|in|at|to)\s+){0,2}"
    r"(?:combien|quel\w*|comment|qui|où|quand|who|how|which|what|where|when)\b)",
    re.IGNORECASE,
)
# The kinds of reading a part may have for a question to be split (each has a handler about a named action).
_PART_KINDS = ("contact", "porteur", "fact", "definition")
# A year written in a question ("combien de jeunes en 2024 ?").
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# What a fact question asks for, and the evidence a passage must hold to answer it.


@dataclass(frozen=True)
class Item:
    """One retrieved passage with its citation number and metadata."""

    n: int
    doc: Document
    # The catalogue record of the action the passage holds whole (a guide card, a short slide): its fields
    # were read from exactly the cited lines, so the answer may show them. None for a part of an action.
    record: Action | None = None
    name: str = ""  # the title of the one catalogue action the passage presents, when the passage writes it
    # The catalogue action the passage is a part of (or holds whole): a field of it is shown only when the
    # passage writes it (a part may not).
    action: Action | None = None

    @property
    def meta(self) -> dict[str, Any]:
        return self.doc.metadata

    @cached_property  # frozen but without __slots__: the cache goes to the instance's __dict__
    def why(self) -> Why:
        """How retrieval ranked the passage (``index.hybrid``); the document carries it as JSON."""
        return Why.from_json(self.meta.get("why"))

    @property
    def verdict(self) -> str:
        return self.why.status


def asks_contact(question: str) -> bool:
    """The question asks for someone to reach ("tu as un contact ?", "son numéro ?")."""
    return _CONTACT.search(fold_question(question)) is not None


def has_contact(doc: Document) -> bool:
    """The passage (or its action) gives someone to reach: an e-mail, a phone or a site."""
    return bool(_people(doc))


def question_kind(question: str, analysis: QueryAnalysis) -> str:
    folded = fold_question(question)
    if _CONTACT.search(folded) or (_WHO_IS.search(folded) and ROLE.search(question)):
        return CONTACT  # "qui est le référent CLAP …": a person is asked for
    if _PORTEUR.search(folded):
        return PORTEUR
    if _FACT.search(folded) or _WHERE.search(question.lower()):
        return FACT
    if analysis.has_person or _LIST.search(folded):
        return LIST
    return FACT


def _describes(question: str) -> bool:
    """The question itself gives the young person's age or place (not only an earlier turn)."""
    own = analyse(question)
    return own.age is not None or bool(own.communes or own.places or own.epci)


def _meta(doc: Document, key: str) -> Any:
    return doc.metadata.get(f"meta_{key}", doc.metadata.get(key))


def _title(doc: Document) -> str:
    title = " ".join(str(_meta(doc, "action") or doc.metadata.get("title") or "").split())
    return re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", title)  # "6 CONTRIBUTION DE…": the number is layout


def _people(doc: Document) -> list[Contact]:
    """The people and organisations of the passage with an e-mail, phone or site, as the text groups them."""
    people = [Contact.from_json(p) for p in _meta(doc, "people") or []]
    return [p for p in people if p.emails or p.phones or p.urls]


def _named_people(items: list[Item], communes: tuple[str, ...]) -> tuple[Item, list[Contact]] | None:
    """The first of ``items`` (the passages of the action named) whose text names people without any e-mail,
    phone or site, with them; those whose organisation or name holds a commune of ``communes`` first."""
    where = _stems(" ".join(communes))
    for item in items:
        people = [p for p in (Contact.from_json(x) for x in _meta(item.doc, "people") or []) if p.name]
        if people:
            people.sort(key=lambda p: not (where and where & _stems(f"{p.organisation or ''} {p.name}")))
            return item, people[:4]
    return None


def _contact_line(doc: Document) -> str:
    """One contact of the passage (the first person with details), never a name paired with another's phone."""
    people = _people(doc)
    return format_contact(people[0]) if people else ""


# A reason that leaves something to check ("à vérifier : seulement si le jeune n'habite pas un QPV").
_TO_CHECK = re.compile(r"\bà vérifier\b", re.IGNORECASE)
# What an action that states nothing on the person's age or place leaves to the counsellor.
UNSTATED = "âge ou territoire à vérifier dans la fiche"


def split_reasons(reasons: tuple[str, ...] | list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Eligibility reasons as (why the action fits, what is left to check): the cards' two rows."""
    return tuple(r for r in reasons if not _TO_CHECK.search(r)), tuple(r for r in reasons if _TO_CHECK.search(r))


def _ages(doc: Document) -> str:
    low, high = _meta(doc, "age_min"), _meta(doc, "age_max")
    if low is not None and high is not None:
        return f"{low} à {high} ans"
    if low is not None:
        return f"à partir de {low} ans"
    if high is not None:
        return f"jusqu'à {high} ans"
    return ""


def _grounded(text: str, doc: Document, question: str) -> bool:
    """Every fact of ``text`` (figure, age range, contact) is written in the passage or the question: the
    grounding check's own rule (ages read from words, or shared from another part, are not written)."""
    return not grounding.unsupported(text, [doc.page_content, question])


def _grounded_reasons(item: Item, question: str) -> list[str]:
    """The eligibility reasons of ``item`` whose facts its passage or the question state."""
    return [r for r in item.why.reasons if _grounded(r, item.doc, question)]


def _card_fields(item: Item, name: str = "") -> tuple[str, str, str]:
    """(title, porteur, public) of an action's passage, from its record when it has one. ``name`` titles a
    passage that is not the action's own (a row or paragraph of several)."""
    doc, record = item.doc, item.record
    title = record.title if record else (name or item.name or _title(doc))
    porteur = (record.porteur if record else _meta(doc, "porteur")) or ""
    public = _meta(doc, "public") or (record.public if record else None) or ""
    return title, porteur, public


def _card_head(item: Item, question: str = "", name: str = "") -> str:
    """The card's head, "**Title** (ACRONYM) — porteur. Public": who runs the action and for whom, as the
    passage says."""
    doc, record = item.doc, item.record
    title, porteur, public = _card_fields(item, name)
    acronym = (record.acronym if record else None) or acronym_of(title, doc.page_content)
    head = f"**{title}**" + (f" ({acronym})" if acronym and acronym not in title else "")
    if porteur:
        head += f" — {porteur}"
    details = [public] if public else [a for a in (_ages(doc),) if a and _grounded(a, doc, question)]
    return ". ".join([head, *(d.rstrip(". ") for d in details)])


def _list_line(
    item: Item,
    analysis: QueryAnalysis,
    shown_contacts: set[str] | None = None,
    skip: tuple[str, ...] = (),
    frequency: Callable[[str], float] | None = None,
    detail: str | None = None,
    collect: list[Piste] | None = None,
    section: str = FIT,
) -> str:
    """One piste in full: who runs it, for whom, what it does, the local detail, its figures, ``detail``
    (a slot the question asks of the actions: "how often is it open?") where the passage states it, whom
    to contact, why it fits. ``collect`` receives the same piste in fields (the chat's card)."""
    doc, record = item.doc, item.record
    title, porteur, public = _card_fields(item)
    line = _card_head(item, analysis.text)
    offer: list[str] = []  # what the line says the action does, in order
    # What the action does: the sentence closest to the question, else the record's summary (headings, the
    # public and what the answer says already, ``skip``, passed over).
    shown: tuple[str, ...] = (title, public, porteur, *skip)
    key = _key_sentence(analysis.lexical_query, doc, skip=shown, frequency=frequency)
    if EMAIL.search(key) or PHONE.search(key):
        key = ""  # a contact line is no description: the contact is shown apart, as ingest grouped it
    if key.rstrip().endswith(":"):
        # The line that opens a list ("Quatre priorités régionales affirmées afin de concourir à la transformation
        # des quartiers :") says what follows, not what the action does: its own item (the record's summary,
        # "Le Projet d'Initiative Citoyenne (PIC) (soutien de microprojets …)") does.
        key = ""
    key = _whole_measure(doc, key) if key else (record.summary if record and record.summary else "")
    if key:
        line += f". {key.rstrip('.')}"
        shown += (key,)
        offer.append(key)
    # Where the question's commune appears in the passage ("La Campuserie (campus Pont de Bois à
    # Villeneuve d'Ascq)"): the local detail a counsellor looks for.
    local = _local_sentence(doc, analysis, skip=shown)
    if local:
        line += f". {local.rstrip('.')}"
        shown += (local,)
        offer.append(local)
    # What the action gives, in figures ("80 heures de bénévolat", "300 €"): the counsellor's first question.
    figure = _key_sentence(analysis.text, doc, skip=shown, numbers_only=True)
    if figure:
        line += f". {figure.rstrip('.')}"
        offer.append(figure)
        sibling = _next_item(doc, figure)
        if sibling:  # "- CDD : jusqu'à 5 000 €" then "- CDI : jusqu'à 15 000 €": the list's other figure
            line += f". {sibling.rstrip('.')}"
            offer.append(sibling)
        shown += (figure,)
    if detail:
        stated = next(
            (x for x in _sentences(doc.page_content) if holds(detail, x, analysis.text) and all(x not in y for y in shown)),
            "",
        )
        if stated:
            line += f". {_clip(stated, 300).rstrip('.')}"
            offer.append(_clip(stated, 300))
    reachable = [c for c in record.contacts if c.emails or c.phones or c.urls] if record else []
    contact = format_contact(reachable[0]) if reachable else _contact_line(doc)
    if contact and shown_contacts is not None and contact in shown_contacts:
        line += ". Contact : le même que plus haut"  # each contact once in an answer
    elif contact:
        line += f". Contact : {contact}"
        if shown_contacts is not None:
            shown_contacts.add(contact)
    reasons = _grounded_reasons(item, analysis.text)
    unknown = not reasons and analysis.has_person and item.verdict == "unknown"
    if reasons:
        line += f" ({'; '.join(reasons)})"
    elif unknown:
        line += f" ({UNSTATED})"
    if collect is not None:
        fits, check = split_reasons(reasons)
        people = reachable or _people(doc)
        reached = people[0] if people else None
        acronym = (record.acronym if record else None) or acronym_of(title, doc.page_content) or ""
        action = item.record or item.action
        collect.append(
            Piste(
                n=item.n,
                section=section,
                title=title,
                acronym=acronym if acronym not in title else "",
                porteur=porteur,
                public=public or (a if (a := _ages(doc)) and _grounded(a, doc, analysis.text) else ""),
                offer=". ".join(x.strip().rstrip(".") for x in offer),
                fits=fits,
                check=(*check, *((UNSTATED,) if unknown else ())),
                contact=contact,
                emails=reached.emails if reached else (),
                phones=reached.phones if reached else (),
                urls=reached.urls if reached else (),
                action_id=action.id if action else "",
            )
        )
    return f"{line} [{item.n}]"


def _whole_measure(doc: Document, key: str, limit: int = 420) -> str:
    """``key`` with the other sentences of its measure, when a short title above names the measure and it holds
    two or three sentences: a plan's row lists measures, each a title then what is done ("La diversité, un atout
    pour l'emploi" / "Engager les demandeurs d'emploi des QPV dans des programmes … NQT" / "Former ces acteurs aux
    pratiques d'embauche … sans discriminer"); the sentence nearest the question alone would leave out the means."""
    sentences = _sentences(doc.page_content)
    start = fold(key.removesuffix(" …"))[:60]
    k = next((i for i, x in enumerate(sentences) if fold(_readable(_unmarked(x.strip()))).startswith(start)), None)
    if k is None:
        return key

    def titles(line: str) -> bool:  # a measure's title: a short line with no stop, not a thing to do, no label
        return _label(line) and ":" not in line and not _TO_DO.match(line) and not _is_heading(line)

    top = next((j for j in range(k - 1, max(0, k - 4), -1) if titles(sentences[j])), None)
    if top is None:
        return key  # (the passage's first line is its own title: its sentences are no one measure)
    end = next((j for j in range(top + 1, len(sentences)) if titles(sentences[j]) or _is_heading(sentences[j])), len(sentences))
    # A second column's cell is another thing (who acts, when): the measure ends there.
    group: list[str] = []
    for x in sentences[top + 1 : end]:
        if x.lstrip().startswith(_ITEM_MARKS) or _PERSON_LINE.match(x) or EMAIL.search(x) or PHONE.search(x):
            return key  # list items are measures each; a speaker or a contact is no part of one
        cell = _CELL.match(x.strip())
        if cell and any((m := _CELL.match(y.strip())) and m["label"] != cell["label"] for y in group):
            break
        group.append(x)
    if not 2 <= len(group) <= 3 or k >= top + 1 + len(group):
        return key  # (a long run is no one measure)
    text = " ".join(f"{_readable(_unmarked(x.strip())).rstrip(' .…')}." for x in group)
    return text if len(text) <= limit else key


def _next_item(doc: Document, sentence: str) -> str:
    """The list item right after ``sentence`` when both are items holding a figure, else ""."""
    sentences = _sentences(doc.page_content)
    k = next((k for k, x in enumerate(sentences) if x.strip() == sentence.strip()), None)
    if k is None or k + 1 >= len(sentences) or not sentence.lstrip().startswith(("-", "•")):
        return ""
    following = sentences[k + 1].strip()
    return following if following.startswith(("-", "•")) and re.search(r"\d", following) and len(following) <= 200 else ""


def _local_sentence(doc: Document, analysis: QueryAnalysis, skip: tuple[str, ...]) -> str:
    """A sentence of the passage that names the question's commune, unless what is shown names it, or ""."""
    names = [re.compile(rf"\b{re.escape(fold_question(c))}\b") for c in analysis.communes]
    shown = [fold_question(x) for x in skip if x]
    if not names or any(p.search(x) for p in names for x in shown):
        return ""
    for sentence in _sentences(doc.page_content):
        folded = fold_question(sentence)
        if len(sentence) >= 20 and not _is_heading(sentence) and any(p.search(folded) for p in names):
            return _clip(sentence, 220)
    return ""


def _clarification(analysis: QueryAnalysis) -> str:
    """The request for what is missing (prompts/clarification.md): what the question gave is noted, and only the
    rest is asked ("J'ai noté : 20 ans · jeune fille. … il me manque **sa commune** … et **ce qu'il cherche**")."""
    from prompts import load  # (the answerer's texts; read when needed, as in __call__)

    text = load("clarification")
    profile = _profile(analysis)
    head, _, examples = text.partition("\n\n")
    if not profile:
        return text
    aged = analysis.age is not None or analysis.age_min is not None or analysis.age_max is not None
    placed = bool(analysis.communes) or analysis.epci is not None or bool(analysis.places)
    sought = bool(analysis.needs) or bool(strong_situations(analysis))
    asked = [
        part for part, missing in zip(_ASKED_PARTS, (not aged, not placed, not sought), strict=True) if missing and part in head
    ]
    if not asked:
        return text
    said = asked[0] if len(asked) == 1 else f"{', '.join(asked[:-1])} et {asked[-1]}"
    lead = head.split(" : ")[0]
    return f"J'ai noté : {profile}. {lead} : {said}.\n\n{examples}"


# The parts of prompts/clarification.md's request, in its order: the age, the commune, the need.
_ASKED_PARTS = (
    "**l'âge** du jeune",
    "**sa commune** (ou son quartier)",
    "**ce qu'il cherche** (emploi, formation, logement, remobilisation, mobilité…)",
)


def _profile(analysis: QueryAnalysis) -> str:
    """The person as understood, in the question's own terms (a wrong reading is then visible)."""
    bits = []
    if analysis.age is not None:
        bits.append(f"{analysis.age} ans")
    bits += list(analysis.communes)
    bits += [p.name for p in analysis.outside]
    bits += [concept_label(s) for s in analysis.situations if s != "qpv"]
    if analysis.qpv is False:
        bits.append("hors QPV")
    elif analysis.qpv:
        bits.append("QPV")
    return " · ".join(bits)


# A word written with a capital after another word of its line ("le PIA", "d'Annœullin"), or an acronym
# anywhere ("FAJEM : …"): a name.
_NAME_WORD = re.compile(r"(?<=[^\W\d_][’' ])[A-ZÀ-Ý][\w’'-]+|\b[A-ZÀ-Ý]{2,}[A-ZÀ-Ý0-9’'-]*\b")


def _sentences(text: str) -> list[str]:
    """``ingest.text.passage_sentences`` of a passage, split once per passage text: an answer reads the same
    passages' sentences a dozen times (lines, key sentences, slots, corrections), a tenth of its time."""
    return list(_split(text))  # a list of its own: a caller may change it


@lru_cache(maxsize=4096)
def _split(text: str) -> tuple[str, ...]:
    return tuple(passage_sentences(text))


@lru_cache(maxsize=65536)
def _stems(text: str) -> frozenset[str]:
    from index.lexical import analyse_text

    stems = frozenset(analyse_text(text)) - _GENERIC
    english = english_words(text)
    # An English question's function words ("them", "of", "in") are no subject, even where some passage
    # holds them (a quotation, a programme's English name).
    return stems - frozenset(analyse_text(" ".join(english))) if english else stems


# Question words that say what kind of answer is wanted, not what it is about.
_GENERIC = {"combien", "quel", "quell", "qui", "quoi", "ou", "comment", "jeun", "action", "est", "a", "t", "il", "y"}


_OFFER = re.compile(r"\d[\d\s.,]*\s*(?:€|euros?|heures?|h\b|jours?|mois|semaines?|séances?|places?)", re.IGNORECASE)


def _key_sentence(
    question: str,
    doc: Document,
    skip: str | tuple[str, ...] = "",
    numbers_only: bool = False,
    frequency: Callable[[str], float] | None = None,
) -> str:
    """The sentence of a passage that shares most stems with the question, or "".

    With ``frequency`` (the share of passages holding a stem), a rare stem weighs more than a common one: "se
    former en milieu carcéral" says more of a young man in prison than "programme se former pour un métier".

    Sentences already shown (``skip``: the title, the public line…) and headings in capitals are passed
    over, so the next best sentence, the one that says what the action does, is chosen instead.
    With ``numbers_only``, only sentences stating an amount or a duration ("300 €", "80 heures").
    """
    wanted = _stems(question)
    shown = [fold(x) for x in ((skip,) if isinstance(skip, str) else skip) if x]
    best, best_score = "", 0.0
    # A table cell's list flattened into one line: each item is a sentence of its own ("… - Se former en milieu
    # carcéral : …" is what fits a young person in detention, not the cell's opening).
    pieces = [_unmarked(x) for sentence in _sentences(doc.page_content) for x in _inline_items(sentence)]
    for sentence in pieces:
        if len(sentence) < 20 or _is_heading(sentence) or _PERSON_LINE.match(sentence) or sentence.rstrip().endswith("?"):
            continue  # (a slide's question, "La plus-value du FIJeM ?", heads what follows)
        folded = fold(sentence).rstrip(". ")
        if any(folded in x or x in folded for x in shown):
            continue
        if numbers_only and not _OFFER.search(sentence):
            continue
        if _not_prose(sentence):
            continue
        shared = wanted & _stems(sentence)
        score = (sum(_rarity(w, frequency) for w in shared) if frequency else len(shared)) + (1 if numbers_only else 0)
        if score > best_score:
            best, best_score = sentence, score
    return _clip(best, 220)


def _rarity(stem: str, frequency: Callable[[str], float]) -> float:
    share = frequency(stem)
    return 1.0 if share < 0.05 else 0.5 if share < 0.2 else 0.25


@lru_cache(maxsize=65536)  # a passage's sentence, read again for every question its passage answers
def _not_prose(sentence: str) -> bool:
    """A flattened table row (a fifth of digits) or a tally, not a sentence a counsellor can read."""
    return sum(c.isdigit() for c in sentence) > 0.2 * len(sentence) or _tally(sentence)


def _tally(sentence: str) -> bool:
    """A count of people without a sentence around it ("43 Jeunes MLMS 20 filles / 23 garçons 31 mineurs / 12
    majeurs"): three numbers or more, and as many numbers as every two words."""
    numbers = len(re.findall(r"\d+(?:[,.]\d+)?", sentence))
    words = len(re.findall(r"[^\W\d_]{2,}", sentence))
    return numbers >= 3 and 2 * numbers >= words


# The marks that open a list item ("- ", "• ", "► "…).
_ITEM_MARKS = ("-", "•", "►", "▶", "✓")


def _unmarked(sentence: str) -> str:
    """``sentence`` without the mark of the list item it is."""
    return sentence.lstrip("".join(_ITEM_MARKS) + " ")


def _dated(sentence: str, year: str | None) -> str:
    """A figure's sentence with the year of the deck's part it is under ("2018 : 365 missions créées."), once."""
    return f"{year} : {_unmarked(sentence)}" if year and year not in sentence else sentence


# "- Adèle Bréant, cheffe de projets …": a speaker or a contact, not what the action does.
_PERSON_LINE = re.compile(r"^[-•]?\s*[A-ZÉÈ][a-zéèëï]+(?:-[A-ZÉ][a-zéè]+)?\s+[A-ZÉ][A-Za-zéèëï'-]+\s*,")


# A flattened table row opens with its headings in capitals ("CHANTIER 1 : … PRIORITES : EMPLOI …
# INDICATEURS DE SUIVI : Le Département prévoit …"): what follows the last one is the cell's text.
_ROW_LABELS = re.compile(r"^.*\b[A-ZÉÈÀÇŒ][A-ZÉÈÀÇŒ'’ ]{3,}\s:\s+(?=\S)")


def _readable(sentence: str) -> str:
    """``sentence`` without the capitalised row headings glued before it (when some text remains)."""
    rest = _ROW_LABELS.sub("", sentence)
    return rest if len(rest) >= 20 and rest != sentence else sentence


@lru_cache(maxsize=65536)  # asked of the same passages' sentences by every step of an answer
def _is_heading(sentence: str) -> bool:
    """A title line in capitals ("INTERNET ET LES RÉSEAUX SOCIAUX…"): it names, it does not describe."""
    letters = [c for c in sentence if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) > 0.8 * len(letters)


def _clip(text: str, limit: int) -> str:
    """``text`` cut between words (never inside a phone number or a figure), with "…" when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:·") + " …"


def _sentences_answering(
    question: str, items: list[Item], limit: int = 3, extra: list[Item] | None = None
) -> list[tuple[str, int]]:
    """The best sentences of the top passages for ``question``: (sentence, citation number). ``extra``:
    passages retrieval did not rank (the other parts of a named action), heard after the top four."""
    wanted = _stems(question)
    wants_number = bool(re.search(r"\b(?:combien|montant|nombre|taux|part|quel pourcentage)\b", fold_question(question)))
    asked_figures = set(re.findall(r"\d+(?:[,.]\d+)?", question))
    scored: list[tuple[float, int, str, int]] = []
    for rank, item in enumerate([*items[:4], *(extra or [])]):
        for sentence in _sentences(item.doc.page_content):
            if len(sentence) < 12 or sentence.isupper():
                continue  # titles in capitals name an action, they do not answer
            overlap = len(wanted & _stems(sentence))
            number = 2.0 if wants_number and re.search(r"\d", sentence) else 0.0
            # A figure the question itself names ("5,7 millions ou 12 millions ?") marks the sentence to show.
            named = 2.0 if any(re.search(rf"(?<![\d,.]){re.escape(x)}(?![\d,])", sentence) for x in asked_figures) else 0.0
            score = overlap + number + named - 0.3 * rank
            scored.append((score, -rank, sentence, item.n))
    scored.sort(reverse=True)
    chosen: list[tuple[str, int]] = []
    top = scored[0][0] if scored else 0
    for score, _, sentence, n in scored:
        # Keep sentences close to the best one (a second fact, not padding); another passage's best
        # sentence gets more room: comparisons need one fact from each side.
        margin = 3.0 if all(n != m for _, m in chosen) else 1.5
        if score <= 0 or score < top - margin or any(sentence == s for s, _ in chosen):
            continue
        chosen.append((sentence[:400], n))
        if len(chosen) == limit:
            break
    # A question asking two things ("combien rencontrés, et combien ont signé ?"): each part its sentence.
    parts = [part for part in _PART.split(fold_question(question)) if part.strip()]
    if len(parts) > 1:
        for k, part in enumerate(parts):
            own = _stems(part) - set().union(*(_stems(p) for j, p in enumerate(parts) if j != k))
            if not own or any(own <= _stems(sentence) for sentence, _ in chosen):
                continue
            best_part = max(
                (
                    (len(own & _stems(sentence)) + (1 if wants_number and re.search(r"\d", sentence) else 0), -rank, sentence, n)
                    for score, rank, sentence, n in scored
                    if own & _stems(sentence)
                ),
                default=None,
            )
            if best_part and best_part[0] >= 2 and all(best_part[2] != s for s, _ in chosen):
                chosen.append((best_part[2][:400], best_part[3]))
    # Each figure the question confronts ("5,7 millions ou 12 millions ?") gets the best sentence stating it.
    for figure in sorted(asked_figures):
        pattern = re.compile(rf"(?<![\d,.]){re.escape(figure)}(?![\d,])")
        if any(pattern.search(sentence) for sentence, _ in chosen):
            continue
        best = next(((sentence, n) for score, _, sentence, n in scored if score > 0 and pattern.search(sentence)), None)
        if best:
            chosen.append((best[0][:400], best[1]))
    return [(_with_list(sentence, n, items), n) for sentence, n in chosen]


def _with_list(sentence: str, n: int, items: list[Item]) -> str:
    """A sentence that announces a list ("4 sites d'intérêt national :") with the items that follow it."""
    year = re.match(r"(?:19|20)\d{2} : ", sentence)  # the year ``_slot_sentences`` put before it
    if year:
        return year.group(0) + _with_list(sentence[year.end() :], n, items)
    found = next((_sentences(i.doc.page_content) for i in items if i.n == n), [])
    # The sentence as read from a year's part of the passage may start or end apart from the whole's.
    at = next((k for k, x in enumerate(found) if x == sentence or x.endswith(sentence) or sentence.endswith(x)), None)
    after = found[at + 1 :] if at is not None else []
    if sentence.endswith(":"):
        listed = [x for x in after[:8] if re.match(r"^[-•►▶✓o]\s", x)]
        return " ".join([sentence, *listed])[:700]
    # "… 4 sites d'intérêts nationaux/régionaux" followed by exactly 4 items: the items are the answer.
    count = re.search(r"\b(\d{1,2})\s+[^\W\d][^:;.]*$", sentence)
    items_after = list(itertools.takewhile(lambda x: re.match(r"^[-•►▶✓o]\s", x) is not None, after))
    if count and len(items_after) == int(count.group(1)):
        return " ".join([sentence, *items_after])[:700]
    # A short line with a figure heading the items under it ("62 actions déployées" then "• 30 circuits
    # courts. • 21 actions jeunes. • 11 médiations."): the items say what the figure counts.
    if items_after and len(sentence) <= 60 and re.search(r"\d", sentence) and not sentence.endswith("."):
        return " ".join([sentence, *items_after[:8]])[:700]
    return sentence


_CONTACT_WORDS = {
    "contact",
    "contacte",
    "mail",
    "courriel",
    "joindr",
    "telephon",
    "numero",
    "adress",
    "ecrir",
    "appel",
    "coordon",
    # Asking for it: "donne-moi le contact", "tu peux m'indiquer", "passe-moi le numéro".
    "don",
    "indiqu",
    "pass",
    "fil",
    "envoi",
    "communiqu",
}


def _about(
    question: str, doc: Document, frequency: Callable[[str], float] | None = None, known: bool = False, share_missing: float = 0.0
) -> bool:
    """True when the passage holds the question's rare words (its subject), contact words aside.

    Rare = found in under a fifth of the passages of the index; one may be missing when there are
    three or more (a title written differently), or up to ``share_missing`` of them (a long question
    that says where it comes from: "pour le volet santé du contrat de ville, qui est le directeur…").
    ``known``: only words some passage holds count ("ok", a typo, can say which passage nobody's
    question is about).
    """
    share = frequency or (lambda _stem: 0.0)  # without the index's counts every word counts as rare
    wanted = {w for w in _stems(question) if w not in _CONTACT_WORDS and share(w) < 0.2 and (share(w) > 0 or not known)}
    have = _stems(" ".join([doc.page_content, str(doc.metadata.get("title", ""))]))
    # An English question's words in French are guesses among several ("reach": "touchés", "rencontrés"):
    # one the passage holds says it is about the subject, one it lacks says nothing.
    wanted -= _stems(" ".join(french_for(question))) - have
    missing = len(wanted - have)
    return missing == 0 or (len(wanted) >= 3 and missing <= max(1, int(len(wanted) * share_missing)))


# A person answer's pistes in fields (``Piste``), numbered as its text: set by each call of the composer and
# read right after it in the same context, as ``assistant.llm.GROUNDING_DROPS`` (the answer's text stays the
# contract; the chat draws its cards from these).
PISTES: ContextVar[tuple[Piste, ...]] = ContextVar("PISTES", default=())


class ComposingAnswerer:
    """The default answerer (no LLM); see the module docstring."""

    def __init__(
        self,
        max_items: int = 6,
        min_items: int = 4,
        full_items: int = 4,
        max_excluded: int = 2,
        frequency: Callable[[str], float] | None = None,
        actions: Callable[[], Mapping[str, Action]] | None = None,
        classifier: Callable[[], KindClassifier | None] | None = None,
        spelled: Callable[[str], bool] | None = None,
    ) -> None:
        """``frequency``: share of the index's passages holding a stem (tells a subject from everyday
        words); the service passes its own index's. Without it every word counts as rare (strict).
        ``spelled``: the index writes a stem or one spelled nearly so (a subject the documents never name is
        outside them; a typo is not).
        ``actions``: the catalogue by id (the index's), read when a passage is an action's."""
        self.max_items = max_items
        self.full_items = full_items  # pistes shown in full; the others in one line each
        self.min_items = min_items  # actions that state nothing on the person are shown up to this many pistes
        self.max_excluded = max_excluded
        self.frequency = frequency
        self.actions = actions
        self.classifier = classifier  # decides the kind of a question no phrase list reads (index.intent)
        self.spelled = spelled

    def _record(self, doc: Document) -> Action | None:
        """The action ``doc`` holds whole, or None (no catalogue, no action, or only a part of it)."""
        action_id = doc.metadata.get("meta_action_id")
        action = self.actions().get(action_id) if self.actions is not None and action_id else None
        if action is None or action.source != doc.metadata.get("source"):
            return None
        whole = doc.metadata.get("line_start", 0) <= action.line_start and action.line_end <= doc.metadata.get("line_end", 0)
        return action if whole else None

    def _action(self, doc: Document) -> Action | None:
        """The catalogue action ``doc`` is a part of, or None."""
        action_id = doc.metadata.get("meta_action_id")
        return self.actions().get(action_id) if self.actions is not None and action_id else None

    def _name(self, doc: Document) -> str:
        """The title of the one action a passage presents (a paragraph under "La culture" that presents
        "Résidence d'artistes en collège"), when the passage writes it; else ""."""
        action_id = doc.metadata.get("meta_action_id")
        catalogue = self.actions() if self.actions is not None else {}
        text = fold(" ".join(doc.page_content.split()))
        action = catalogue.get(action_id) if action_id else None
        if action is None:
            # A paragraph presenting several actions under a plan's heading ("C) Développer des projets des
            # sites d'excellence…": Rubika, the Garage Numérique, Pop School): named by those it writes, in order.
            several = [catalogue[a] for a in doc.metadata.get("meta_action_ids") or () if a in catalogue]
            written = sorted((text.find(fold(a.title)), a.title) for a in several if fold(a.title) in text)
            return " · ".join(title for _, title in written) if len(written) > 1 else ""
        return action.title if fold(action.title) in text else ""

    def _unknown_subject(self, intent: Intent, analysis: QueryAnalysis, places: frozenset[str]) -> str:
        """A name in a question about no one and nothing of the catalogue that no passage writes, or ""."""
        if self.frequency is None or self.spelled is None or analysis.translations:
            return ""  # (an English question's words are not the documents' French)
        if intent.kind not in ("fact", "definition", "contact", "porteur", "too_vague") or intent.entities or intent.plans:
            return ""
        if (
            analysis.age is not None
            or analysis.situations
            or analysis.needs
            or (analysis.communes and intent.kind == "too_vague")
        ):
            return ""
        # A name, written with its capital inside a sentence ("dans Outlook", "un abonnement Netflix"): everyday
        # words the documents happen not to write ("tient", "téléphone") say nothing of the subject.
        # (As the distinctive check reads names: ``_NAME_WORD``; an acronym aside, four letters or more.)
        names = {fold_question(m): m for m in _NAME_WORD.findall(analysis.text) if len(m) >= 4 and not m.isupper()}
        for word in intent.content:
            stems = _stems(word) - places
            if word in names and stems and not any(map(self.spelled, stems)):
                return names[word]
        return ""

    def _distinctive(self, question: str, doc: Document) -> bool:
        """A short question is specific enough when a word of it is rare in the index (in under 5 % of the
        passages) and written in a retrieved passage: "PIA ?" names something, "aide jeunes" does not.
        ``question``: its words that carry a subject (``Intent.content``), not "existent" or "idées"."""
        if self.frequency is None:
            return False
        have = _stems(doc.page_content)
        rare = {stem for stem in _stems(question) if 0 < self.frequency(stem) < 0.05 and stem in have}
        # A name is written with its capital inside a sentence ("le PIA", "à la Campuserie"); a common word
        # that happens to be rare ("au mieux", "en ce moment") names nothing.
        return any(_stems(word) & rare for word in _NAME_WORD.findall(doc.page_content))

    def intent(self, question: str, analysis: QueryAnalysis) -> Intent:
        """What ``question`` asks for (index.intent), read against this index's action catalogue."""
        actions = list(self.actions().values()) if self.actions is not None else []
        return read_intent(question, analysis, actions, self.classifier() if self.classifier is not None else None)

    def __call__(
        self, question: str, docs: list[Document], analysis: QueryAnalysis | None = None
    ) -> tuple[str, list[Citation], bool | str]:
        from assistant.citations import make_citation
        from prompts import load

        analysis = analysis or analyse(question)
        PISTES.set(())
        intent = self.intent(question, analysis)
        if intent.entities and docs:
            # "le Fonds d'Innovation Jeunes en Métropole" read in part as "Fonds Métropolitain d'aides aux Jeunes":
            # a longer name the passages write word for word is what the question names.
            intent = replace(intent, entities=tuple(e for e in intent.entities if not _named_otherwise(question, e, docs)))
        if intent.kind == "fact":
            # A value of "Parcours Sport Emploi de FACE" is read from that action's passages, not FACE's others.
            intent = replace(intent, entities=without_qualifiers(intent.entities))
        # Nothing to look up: a greeting or a question too vague to place anyone asks for what is missing;
        # a subject outside youth insertion gets a short out-of-scope answer, without pistes.
        # A rare word names something ("PIA ?"); a place alone ("Roubaix") says where, not who nor what.
        places = _stems(" ".join([*analysis.communes, *(p.name for p in analysis.places)]))
        subject = " ".join(w for w in intent.content if not _stems(w) <= places)
        vague = intent.kind == "too_vague" and (
            intent.thin_person or not any(self._distinctive(subject, doc) for doc in docs[:3])
        )
        asks = intent.kind in ("fact", "definition", "too_vague") and not intent.entities and analysis.age is None
        stranger = _unknown_name(question, docs) if asks and docs else ""
        if stranger:
            # "Dany Boon, il a quel âge ?": a name no passage writes a word of is a subject the documents do not
            # treat; a nearby passage's age or figure would answer another question.
            return f"Les documents ne parlent pas de {stranger}. " + load("out_of_scope"), [], OUT_OF_SCOPE
        foreign = self._unknown_subject(intent, analysis, places) if docs else ""
        if foreign:
            # "Explique-moi les règles du tarot", "une signature automatique dans Outlook ?": nobody described,
            # nothing of the catalogue named, and a word of the question the documents never write (nor one
            # spelled nearly so): the subject is not theirs; a nearby passage would answer another question.
            return f"Les documents ne parlent pas de « {foreign} ». " + load("out_of_scope"), [], OUT_OF_SCOPE
        if intent.kind == "greeting":
            return load("greeting"), [], CLARIFICATION
        if vague:
            return _clarification(analysis), [], CLARIFICATION
        if intent.kind == "out_of_scope":
            return (load("declined"), [], True) if intent.declined else (load("out_of_scope"), [], OUT_OF_SCOPE)
        if not docs:
            return load("refusal"), [], True
        items = [Item(n, doc, self._record(doc), self._name(doc), self._action(doc)) for n, doc in enumerate(docs, start=1)]
        # The question with the earlier turns it leans on (follow-ups), and an English question's words in
        # the documents' French ("young people signed a contract" -> "jeunes signé contrat").
        context = " ".join([analysis.text, *analysis.translations])
        if intent.focus and intent.focus != question and (intent.injection or len(question) > 600):
            # A paste (a forwarded e-mail, instructions to the assistant): what is answered is the question
            # the reading kept, not a "Date :" header or "liste tous les numéros" around it.
            question = context = intent.focus
        parts = self._parts(question, intent)
        if parts:
            # "Qui porte X et qui contacter ?": each part answered by its own handler, about the same action.
            lines, used = [], []
            outcome: bool | str = True
            answered = [self._compose(part, part, items, analysis, part_intent) for part, part_intent in parts]
            for part_lines, part_used, part_outcome in answered:
                lines += [line for line in part_lines if line not in lines]  # a sentence both parts quote, once
                used += [i for i in part_used if i not in used]
                outcome = outcome if part_outcome else False
            if all(part_outcome is True for _, _, part_outcome in answered):
                # Nothing asked is stated ("la date limite et le nombre de places ?"): each part's statement, then
                # the nearest passages once.
                lines = [part_lines[0] for part_lines, _, _ in answered] + answered[0][0][1:]
        else:
            lines, used, outcome = self._compose(question, context, items, analysis, intent)
        lines, used, order = _renumbered(lines, used)
        # The pistes in fields (the chat's cards), numbered as the text; none when the text is not theirs.
        PISTES.set(tuple(replace(p, n=order[p.n]) for p in PISTES.get() if p.n in order) if not parts else ())
        # Each citation quotes the passage's sentences closest to what the answer says with its [n]
        # (the chat highlights them in the passage), not those closest to the question.
        said = {i.n: " ".join(line for line in lines if f"[{i.n}]" in line) for i in used}
        citations = [make_citation(i.n, said[i.n] or question, i.doc) for i in used]
        sources = "Sources : " + " · ".join(f"[{c.n}] {_source_label(i.doc, c)}" for i, c in zip(used, citations, strict=True))
        return "\n\n".join([*lines, sources] if used else lines), citations, outcome

    def _parts(self, question: str, intent: Intent) -> list[tuple[str, Intent]]:
        """The parts of a question that asks several things of one action ("qui porte X et pour quel âge ?",
        "which organisation runs X and who is the contact?"), each with its own reading; [] for one question.

        A part that does not name the action gets its name, so each handler reads it as a question of its own.
        Only the kinds whose handler answers about a named action split a question; a person's question
        ("17 ans et qui cherche un emploi") stays whole.
        """
        if not intent.entities or intent.kind not in _PART_KINDS:
            return []
        pieces = [p.strip(" ,;") for p in _PARTS.split(question) if p.strip(" ,;?")]
        if len(pieces) < 2:
            return []
        # Every action named ("Connect'Emploi et le Forum emploi : qui porte chacun et pour quel âge ?"): a part
        # that names none asks it of each.
        named = [e for e in intent.entities if e.action_id] or list(intent.entities[:1])
        name = ", ".join(dict.fromkeys(e.surface for e in named))
        parts = []
        for piece in pieces:
            says = any(fold(e.surface) in fold(piece) for e in named)
            text = piece if says else f"{piece.rstrip(' ?')} ({name}) ?"
            parts.append((text, self.intent(text, analyse(text))))
        readings = {(p.kind, p.slot) for _, p in parts}
        if len(readings) < 2 or any(p.kind not in _PART_KINDS for _, p in parts):
            return []
        return parts

    def _compose(
        self, question: str, context: str, items: list[Item], analysis: QueryAnalysis, intent: Intent
    ) -> tuple[list[str], list[Item], bool | str]:
        """The answer's lines and the passages they cite, and its outcome (refused, or a kind's name), for one
        question (or one part of one); ``context`` is the question with the earlier turns it leans on."""
        kind = question_kind(question, analysis)
        if intent.kind == "fact" and (
            (kind == LIST and intent.slot not in (None, "other"))
            # "à quelle tranche d'âge s'adresse-t-il ?": no contact asked
            or (kind == CONTACT and intent.slot not in (None, "other", "phone", "email", "place"))
        ):
            # "Le contrat de ville se termine fin 2020 ?": a date is asked, even if "politique de la ville"
            # reads like a person's quartier.
            kind = FACT
        # A follow-up about the previous answer's action ("who runs it?", "t'as un mail ?") asks it of that action.
        referent = any(i.why.referent for i in items)
        if intent.kind == "contact" and (intent.entities or referent or kind == LIST):
            # "Coop Lab, qui j'appelle ?": the reading of the question names the action and asks for a person,
            # whatever its wording; the phrase lists of ``question_kind`` only know the common ones.
            kind = CONTACT
        if intent.kind == "porteur" and (intent.entities or referent):
            kind = PORTEUR  # "Qui est derrière la Fabrique citoyenne des mobilités ?"
        if (
            intent.kind == "person"
            and not intent.entities
            and (kind in (CONTACT, PORTEUR) or (kind == FACT and _describes(question)))
        ):
            # "17 ans à Halluin… des actions ou des contacts ?": each piste gives its contact; "22 ans à Lille,
            # veut faire un service civique mais ne sait pas où chercher. Qui peut l'aider ?": actions asked;
            # "Porteur de projet de 27 ans à Onnaing… des aides à la création ?" describes, asks no porteur.
            kind = LIST
        lines: list[str] = []
        used: list[Item] = []
        refused = False
        entity_ids = {i for e in intent.entities for i in ((e.action_id,) if e.action_id else e.runs)}
        named = [i for i in items if i.why.mention]
        # The actions the question names (index.intent, against the catalogue): what a slot or an
        # assertion is checked against.
        entity_items = [i for i in items if entity_ids & set(i.meta.get("meta_action_ids") or ())]
        # The action a follow-up is about ("c'est où ?", "ça finance combien ?") is asked of as if named.
        referred = [i for i in items if i.why.mention and (i.why.referent or i.why.part)] if not entity_items else []
        focus = named or items
        entity = intent.entities[0].name if intent.entities else None
        # Without a named action, a figure or a date the question asserts ("le contrat de ville se termine
        # fin 2020") is checked against the top passages about its subject.
        about = [i for i in items[:2] if _about(context, i.doc, self.frequency)]
        corrections = _corrections(intent, entity_items or named or about, question)
        # In a passage presenting several actions (a plan's list), the value is read from the sentences that
        # name the one asked about: "Nos Quartiers d'Été" has no sum beside the SREI's.
        slot_names = tuple(e.name for e in intent.entities if len(e.name) >= 4)
        # Whether what is asked is stated is read from the slot the question asks (below), never from its words.
        if (
            corrections
            and intent.kind in ("contact", "porteur")
            and not any(a.slot == intent.kind for a in intent.asserted)  # "porté par X, non ?" asks nothing else
            and not intent.reason.startswith("asserted")
        ):
            # "Pour le Forum Emploi organisé par Roubaix et Tourcoing, qui contacter ?": what the question
            # asserts on the way is corrected, then what it asks is answered.
            rest, rest_used, rest_outcome = self._compose(question, context, items, analysis, replace(intent, asserted=()))
            lines, used = corrections[0] + rest, corrections[1] + [i for i in rest_used if i not in corrections[1]]
            # The correction answers, even when the rest is not stated ("… à qui m'adresser ?": no contact).
            return lines, used, False if rest_outcome is True else rest_outcome
        elif corrections and intent.outside:
            # "Wi-Filles, ça existe aussi à Lyon ? … vient de partir y vivre": the young person lives outside
            # both territories; what the documents say of the action follows the statement.
            where = ", ".join(_where(p) for p in analysis.outside)
            lines = [f"**{where}** : {_OUTSIDE}", *corrections[0][1:]]
            return lines, corrections[1], OUT_OF_SCOPE
        elif corrections:
            # "Booster demande 12 mois ?": what the question asserts is not what the action's passage says.
            # Then the action's card (porteur, public, contact): what the counsellor needs to go on with it
            # ("… porté par la ML de Lille ? Je voudrais les contacter").
            lines, used = list(corrections[0]), list(corrections[1])
            card = next((i for i in used if i.record is not None or i.action is not None), None)
            if card is not None:
                line = _list_line(card, analysis, set(), skip=tuple(lines[1:]))  # the quoted sentence once
                if line != f"**{_card_fields(card)[0]}** [{card.n}]":  # more than its title
                    lines.append(f"Sa fiche : {line}")
        elif (
            kind == FACT
            and intent.slot in ANSWERABLE
            and not _slot_sentences(
                context,
                question,
                intent.slot,
                # The passages the answer would quote (below): a figure further down is another action's.
                _subject(entity_items or referred, items, intent) or _top(focus),
                6,
                # Without a subject named, as the answer below: a sentence about what is asked, not any figure.
                not _subject(entity_items or referred, items, intent),
                everywhere=True,
                names=slot_names,
            )
        ):
            # No passage about the subject holds the slot asked (an amount, a count of what is counted, a
            # date…): a figure of another unit never answers.
            refused = True
            statement = not_stated(intent.slot, entity, counted_noun(question, as_written=True))
            years = _YEAR.findall(question) if intent.slot in ("count", "amount", "rate") else []
            if years:  # "combien … en 2024 ?": the year the figure is asked for is said
                statement = statement[:-1] + f" en {years[0]}."
            lines, used = _refusal(statement, entity_items or focus, lambda i: best_quote(context, i.doc.page_content, 200))
        elif kind == CONTACT:
            # Only passages about what the question names: the rare words of the question must be there.
            # An action the question names (or a follow-up's referent) is what is asked about.
            with_contacts = [
                i
                for i in (items if entity_items else focus)
                if _contact_line(i.doc)
                and (
                    i in named
                    or i in entity_items
                    or _names(i.doc, intent)
                    # Its words that some passage holds ("ok, et l'action qui passe par les clubs de sport ?"),
                    # when the question names no action of the catalogue: a named one is what is asked about.
                    or (not entity_items and _about(context, i.doc, self.frequency, known=True, share_missing=1 / 3))
                )
            ]
            # The passage whose person the question describes best comes first ("le référent CLAP de la
            # Mission Locale Métropole Sud": the directory line with that role and that organisation).
            people_of = {
                i.n: _people_scored(context, i.doc, analysis.communes, _title(i.doc) if i in entity_items else "")
                for i in with_contacts
            }
            fit = {n: max((x for x, _ in scored), default=0.0) for n, scored in people_of.items()}
            with_contacts.sort(key=lambda i: -fit[i.n])
            if len(with_contacts) > 1 and int(fit[with_contacts[1].n]) < int(fit[with_contacts[0].n]):
                with_contacts = with_contacts[:1]  # the second fits fewer of the question's words: noise
            # Per passage, the people the question describes best ("Pour le Nord : M. Olivier Rovere"), or,
            # when it describes none (or several as well), everyone with the sentence closest to the
            # question; each person once (a guide card and the directory list the same people).
            chosen: list[tuple[Item, list[Contact], bool]] = []
            seen: set[str] = set()
            places_asked = [stems for p in analysis.places if (stems := _stems(p.name))]
            for item in with_contacts[:2]:
                scored = people_of[item.n]
                top = scored[0][0] if scored else 0.0
                best = [p for x, p in scored if x == top] if top >= 1 else []
                # Between people fitting as well, a named person beats a nameless list of addresses.
                best = [p for p in best if p.name] or best
                # Several places asked ("pour le Nord et le Pas-de-Calais", "à Roubaix et à Tourcoing"): the
                # person of each place, when the passage has one.
                if len(places_asked) > 1:
                    listed = _people(item.doc)
                    words = dict(zip(map(_person_key, listed), _person_words(item.doc, listed), strict=True))
                    for place in places_asked:
                        theirs = next((p for _, p in scored if p.name and place <= words.get(_person_key(p), frozenset())), None)
                        if theirs is not None and theirs not in best:
                            best.append(theirs)
                # (Each place's own person answers it: no sentence around them is needed either.)
                one = len(best) == 1 or (len(places_asked) > 1 and len(best) > 1 and all(p.name for p in best))
                people = [p for p in (best or [p for _, p in scored])[:4] if _person_key(p) not in seen]
                if people:
                    seen |= {_person_key(p) for p in people}
                    chosen.append((item, people, one))
            people_named = _named_people(entity_items, analysis.communes) if not chosen else None
            if people_named:
                # A slide's "Intervenants : A (ML Lille avenir), B (ML Roubaix)": no e-mail nor phone, but the
                # people to ask for at their structure; those of the person's commune first.
                item, people = people_named
                refused = True
                lines = [
                    f"Les documents ne donnent ni e-mail ni téléphone pour {entity or _title(item.doc)} ; "
                    f"ils nomment : {'; '.join(format_contact(p) for p in people)} [{item.n}]"
                ]
                used = [item]
            elif not chosen:
                refused = True
                lines, used = _refusal("Les documents ne précisent pas de contact pour cette demande.", focus)
            else:
                if intent.slot in _CONTACT_ASKED and not _contact_given(intent.slot, chosen):
                    # "c'est quoi son numéro ?" where the person has an e-mail only: the phone is not stated;
                    # what the passage does give follows, cited.
                    refused = True
                    asked = next(
                        (p.name for _, people, _ in chosen for p in people if p.name and fold(p.name) in fold(question)), entity
                    )
                    lines.append(
                        f"Les documents ne précisent pas {_CONTACT_ASKED[intent.slot]}" + (f" pour {asked}." if asked else ".")
                    )
                for item, people, one in chosen:
                    # A directory page has no title of its own (its first organisation is not the person's).
                    label = "Contact" if item.meta.get("kind") == "directory" else _title(item.doc)
                    lines.append(f"**{label}** : {'; '.join(format_contact(p) for p in people)} [{item.n}]")
                    if not one and item.meta.get("kind") != "directory":
                        key = _key_sentence(context, item.doc, skip=(_title(item.doc),))
                        if key and key not in lines[-1]:
                            lines.append(f"{key} [{item.n}]")
                    used.append(item)
        elif (
            intent.kind == "comparison"
            and (counted_noun(question) is not None or intent.slot in _FIGURES)
            and len(sides := _sides(intent, items)) >= 2
        ):
            # "En 2017, qui a touché le plus de jeunes : A ou B ?": each side's sentence with the figure asked
            # ("130 jeunes touchés"), from all its parts, side by side; the reader compares.
            figure = intent.slot if intent.slot in _FIGURES else "count"
            for side in sides:
                found = _slot_sentences(context, question, figure, side, 1, False, everywhere=True)
                if found:
                    sentence, n = found[0]
                    lines.append(f"- **{next(_title(i.doc) for i in side if i.n == n)}** : {sentence} [{n}]")
                    used.append(next(i for i in side if i.n == n))
                else:
                    lines.append(f"- **{_title(side[0].doc)}** : les documents ne donnent pas ce chiffre [{side[0].n}]")
                    used.append(side[0])
        elif (
            intent.kind == "comparison"
            and intent.slot in _FIGURES
            and len(figures := _figures_compared(context, question, intent.slot, items, self.frequency)) >= 2
        ):
            # "Qui a obtenu le plus, A ou B, et combien ?" where a side is no action of the catalogue (a project
            # a press release names): the sentences of different passages that hold the figure asked.
            for sentence, n in figures:
                item = next(i for i in items if i.n == n)
                title = _title(item.doc)
                title = "" if fold(title)[:40] in fold(sentence) else title  # the sentence says it already
                lines.append(f"- **{title}** : {sentence} [{n}]" if title else f"- {sentence} [{n}]")
                used.append(item)
        elif kind == PORTEUR:
            # One passage per action named (its card, with its "Porteur" line, first), else the top two.
            catalogue = self.actions() if self.actions is not None else {}
            runs = [catalogue[a] for a in entity_ids if a in catalogue]
            ranked = sorted(entity_items, key=lambda i: not _porteur_of(i, runs)[0])
            pool = _one_per_action(ranked) or focus
            told: set[str] = set()  # each action's porteur once (a table row of several actions has no .action)
            for item in pool[:2]:
                porteur, title = _porteur_of(item, runs)
                # Its "► Qui ?" section, or the line that gives the role asked ("qui coordonne ?": "Mission
                # Locale Lille Avenirs (Coordination d'ATTA)"), wherever in the action's parts it is written.
                siblings = [item, *(j for j in entity_items if j is not item and _same_action(j, item))]
                who = next((w for j in siblings if (w := _who_section(j.doc.page_content))), "")
                role = "" if porteur or who else _role_line(question, siblings)
                if role:
                    who, item = role[0], next(j for j in siblings if j.n == role[1])
                if title in told or (told and not porteur):
                    continue  # said already, or a second passage that does not say it
                if porteur:
                    told.add(title)
                    lines.append(f"**{title}** est porté par {porteur} [{item.n}].")
                elif who:
                    # A slide's "► Qui ?" section names who runs the action ("Mission Locale Lille Avenirs
                    # (Coordination d'ATTA)", then the partners).
                    lines.append(f"**{_title(item.doc)}** : {who} [{item.n}]")
                else:
                    # No "Porteur de l'action" line: the passage's opening lines name the organisation
                    # in these documents (FIJeM slides), then the sentence closest to the question.
                    opening = " · ".join(_sentences(item.doc.page_content)[:3])
                    opening = _clip(opening, 300)  # between words, never inside a phone number or a figure
                    key = _key_sentence(context, item.doc, skip=opening)
                    lines.append(" — ".join(x for x in (opening, key) if x) + f" [{item.n}]")
                used.append(item)
        elif (
            kind == LIST
            and analysis.communes
            and not analysis.lives_outside
            and not _asked_actions(intent, entity_items, analysis)  # the named action's verdict comes first
            and not any(
                i.verdict == "match" or (i.verdict == "unknown" and _about(context, i.doc, self.frequency))
                for i in items[: self.max_items]
            )
        ):
            # A place is named and no action serves it. What the documents of that territory say on the
            # person's need (a plan for young parents, a housing scheme) still helps the counsellor; only
            # when no passage speaks of it is this a refusal.
            where = ", ".join(analysis.communes)
            on_need = _on_the_need(
                context,
                analysis,
                [i for i in items if i.verdict != "excluded"],
                self.frequency,
                own=question,
                measures_first=bool(intent.plans),
                aside=intent.plans,
            )
            if on_need:
                lines.append(
                    f"Les documents ne décrivent pas d'action dédiée à ce profil pour {where}. Sur ce besoin, ils prévoient :"
                )
                lines += [f"- {sentence} [{n}]" for sentence, n in on_need]
                used = [i for i in items if i.n in {n for _, n in on_need}]
                # The actions on the need that this person cannot join, and why ("PIJ Numérique — 26 ans : l'action
                # est pour les 13 à 25 ans"): the counsellor looks at them first.
                ruled = [i for i in items if i.verdict == "excluded" and _is_action(i) and i not in used]
                ruled = sorted(ruled, key=lambda i: all(OTHER_DOCUMENT in r for r in i.why.reasons))[: self.max_excluded]
                ruled = [i for i in ruled if not all(OTHER_DOCUMENT in r for r in i.why.reasons)]
                if ruled:
                    lines.append(
                        "**Ne conviennent pas** : "
                        + " ; ".join(f"{_title(i.doc)} — {_reason(i, context)} [{i.n}]" for i in ruled)
                    )
                    used += ruled
            else:
                refused = True
                statement = f"Les documents ne décrivent pas d'action correspondante pour {where}."
                # (Why each lead does not fit is said only of those ruled out: one that states nothing on the person
                # is not "hors des critères".)
                lines, used = _refusal(statement, items, lambda i: _reason(i, context) if i.verdict == "excluded" else "")
        elif (
            kind == LIST
            and analysis.communes
            and not analysis.lives_outside
            and _COVERS.search(fold_question(question))
            and not any(c in (_meta(i.doc, "places") or []) for i in items for c in analysis.communes)
        ):
            # "Quelle Mission Locale couvre Fretin ?": only a passage naming the commune can say.
            refused = True
            statement = f"Les documents ne précisent pas quelle structure couvre {', '.join(analysis.communes)}."
            lines, used = _refusal(statement, items)
        elif kind == LIST:
            # Explicit matches first, then actions that state nothing on the person; each in retrieval
            # order (relevance, with eligibility and locality already weighed in).
            # Pistes are actions (a passage of a catalogue action): not a statistic, a strategy paragraph,
            # a table header or a contact directory. Explicit matches first; those that state nothing on the
            # person only fill a short list.
            # (A passage retrieval added only to be heard, an unnamed part, is no piste.)
            eligible = [i for i in items if i.verdict != "excluded" and i.meta.get("kind") != "directory" and not _heard_only(i)]
            # (A corpus in which ingest found no action at all still gets its passages as pistes.)
            actions = [i for i in eligible if _is_action(i)] if any(_is_action(i) for i in items) else eligible
            matches = [i for i in actions if i.verdict == "match"]
            # Those that fit only if a condition holds ("seulement si le jeune n'habite pas un QPV") come after,
            # under their own heading; the firm ones that speak of the person's need or situation, or are of
            # the person's own commune, first; retrieval order (relevance) otherwise.
            conditional = [i for i in matches if _conditional(i)][: self.max_excluded]
            # What the young person seeks ("partir à l'étranger") lifts an action more than who they are
            # ("étudiant"); the situation's words count when no need is named. "décrochage", not "scolaire".
            sought = [c for c in load_concepts() if c.key in analysis.needs] or [
                c for c in load_concepts() if c.key in analysis.situations
            ]
            phrases = _need_phrases(sought, self.frequency)

            def speaks(item: Item) -> bool:
                return _speaks(item, phrases)

            def titled(item: Item) -> bool:
                # An action named after the need ("PIJ NUMÉRIQUE", "SÉCURISER L'ACCÈS À L'HÉBERGEMENT") is about
                # it; one that speaks of it somewhere in its text may only mention it.
                title = _stems(item.action.title if item.action else _title(item.doc))
                return any(p <= title for p in phrases) if analysis.needs else False

            # An action whose public is who the young person is ("jeunes filles", "étudiants") is a firm piste too,
            # before one open to all (a programme for girls, for a girl); one that is both for them and speaks
            # of their need comes first.
            who_they_are = [c for c in load_concepts() if c.key in analysis.situations and c.key != "qpv"]

            def for_them(item: Item) -> bool:
                # Who an action is for is said by its public line or by its title ("Lutte contre le décrochage
                # scolaire"): either names the person's situation.
                public = str(_meta(item.doc, "public") or (item.record.public if item.record else "") or "")
                said = fold(f"{public} {item.action.title if item.action else ''}")
                return any(re.search(rf"\b{re.escape(fold(e))}\b", said) for c in who_they_are for e in c.expansions)

            firm = sorted(
                (i for i in matches if not _conditional(i)),
                # An action of the person's own commune that speaks of their need fits on both counts, and the
                # commune is the rarer fit ("accompagnement de proximité" for a young person of Wattignies: the
                # action for Loos, Wattignies and Haubourdin before one for every jobseeker of the MEL).
                key=lambda i: (
                    not (speaks(i) or _local(i) or for_them(i)),
                    not (_local(i) and speaks(i)),
                    not (for_them(i) and speaks(i)),
                    not for_them(i),
                ),
            )[: self.max_items]
            # A plan's measure that fits anyone of the territory and does not speak of the need named ("permis
            # de louer" for a young person without a driving licence) is no piste beside actions that fit.
            generic = [i for i in firm if phrases and analysis.needs and _open_to_all(i) and not speaks(i)]
            if len(firm) - len(generic) >= 2:
                firm = [i for i in firm if i not in generic]
            else:
                generic = []
            # An action that states nothing on the person but speaks of their need ("sécuriser l'accès à
            # l'hébergement temporaire" for a young person on the street) is a piste to check, after the firm.
            unchecked = [i for i in actions if i.verdict != "match"]
            on_topic = [i for i in unchecked if phrases and analysis.needs and speaks(i)][:2]
            fill = [i for i in unchecked if i not in on_topic]
            # A plan's measure that fits only by covering the whole territory is no firmer a piste than an
            # action that speaks of the need and states nothing on the person: it comes after it.
            broad = [i for i in firm if on_topic and _open_to_all(i)]
            # An action of the person's commune that says nothing of the need named ("le permis de réciprocité"
            # for a young person of Lille looking for a flat) fits where they live, not what they need: after the
            # actions that speak of it.
            # (Any of the need's words counts here, frequent ones too: "PIJ NUMÉRIQUE" is about it.)
            every_phrase = [_stems(e) for c in sought for e in c.expansions]
            aside = [
                i
                for i in firm
                if i not in broad
                and phrases
                and analysis.needs
                and not _speaks(i, every_phrase)
                and not for_them(i)
                and (on_topic or any(speaks(j) for j in firm))
            ]
            firm_first = [i for i in firm if i not in broad and i not in aside]
            # An action named after the need comes before those that only speak of it, even when what it
            # states of the person is still to check.
            # (After the first ones for who the young person is or of their commune: "des collégiens … autour de
            # l'engagement" wants the action for collégiens before the "service civique" ones, 16 and over.)
            # (An action of their commune that says nothing of the need the question names does not lead: "une
            # action hébergement ?" wants the action named after it before a local one on something else.)
            lead = list(
                itertools.takewhile(
                    lambda i: for_them(i) or (_local(i) and (speaks(i) or not (phrases and analysis.needs))), firm_first
                )
            )
            # A passage that speaks of who the young person is in the rare words of it ("se former en milieu
            # carcéral" for a young man in prison, "reconnu travailleur handicapé") is about them, whatever need
            # the question adds: it comes next, even when it states nothing of their age or commune.
            situated_phrases = _need_phrases([c for c in who_they_are if c.key not in _WHO_ONLY], self.frequency)
            # (An action for some people before a measure for the whole territory, as below.)
            about_them = sorted(
                (i for i in firm + on_topic + fill if i not in lead and situated_phrases and _speaks(i, situated_phrases)),
                key=_open_to_all,
            )[:2]
            # An action made for the young person's own quartier ("CONCIERGERIE DE QUARTIER À MOULINS" for a young
            # man of Moulins: retrieval marks it, ``why.place``) is a firm piste, whatever need is named.
            quartiers = {p.name for p in analysis.places if p.kind == "quartier"}
            home = [i for i in matches if not _conditional(i) and i not in lead and i.why.place in quartiers][:1]
            situated = home + [i for i in about_them if i not in home]
            named_after = [i for i in firm_first + on_topic if titled(i) and i not in lead]
            filler = [i for i in fill if i not in situated][
                : max(0, self.min_items - len(firm) - len(on_topic) - len(conditional))
            ]
            # Each once, at its first place (a passage lifted above keeps that place).
            fitting = _once(lead + situated + named_after + firm_first + on_topic + aside + broad + filler)
            # Ruled out: actions only (a plan's heading is no action to rule out), those ruled out for this
            # person (an age, a commune of the action) before those of the other territory's document.
            excluded = sorted(
                (
                    i
                    for i in items
                    if i.verdict == "excluded" and not _heard_only(i) and (_is_action(i) or not any(_is_action(j) for j in items))
                ),
                key=lambda i: all(OTHER_DOCUMENT in r for r in i.why.reasons),
            )[: self.max_excluded]
            profile = _profile(analysis)
            shown_contacts: set[str] = set()
            # "Un jeune de 27 ans peut-il faire Booster ?": the named action's verdict for this person comes
            # first (yes, under a condition, no and why, or not stated), then the other pistes.
            # A follow-up describing a person after an answer about one action ("C'est quoi Fabrique ta ville ?"
            # then "j'ai un jeune de 28 ans, il peut y aller ?") asks that action's verdict, as if it named it.
            verdicts = _asked_actions(intent, entity_items or [i for i in referred if i.why.referent], analysis)
            if verdicts:
                fitting, conditional, excluded = (
                    [i for i in group if not any(i is a or _same_action(i, a) for a in verdicts)]
                    for group in (fitting, conditional, excluded)
                )
                lines += [_verdict_line(a, analysis, context, shown_contacts) for a in verdicts]
            unspoken = ""  # the need named that no fitting action speaks of
            named_only = ""  # the need the fitting actions name only by its common words ("emploi")
            shortened: list[Item] = []  # open to the person, shown in a line when none speaks of the need
            if analysis.lives_outside:
                # The documents describe the actions of two territories: none is offered as a fit elsewhere.
                where = ", ".join(_where(p) for p in analysis.outside)
                lines.append(f"**{where}** : {_OUTSIDE}")
                # Every action is ruled out for the same reason: naming them would only lengthen the answer.
                fitting, excluded, refused = [], [], True
            else:
                heading = "Autres pistes pour ce jeune" if verdicts else "Pistes pour ce jeune"
                if fitting or conditional or not verdicts:
                    lines.append(f"**{heading}** ({profile})" if profile else f"**{heading}**")
                # (The need's own name counts here however common: "Emplois Francs" speaks of "emploi", which
                # half the passages write; it is too common to lift an action, not to say one is about it.)
                need_names = [_stems(c.label) for c in sought if _stems(c.label)]
                if phrases and firm and not any(speaks(i) for i in firm):
                    asked = ", ".join(concept_label(c.key) for c in sought)
                    if not any(_speaks(i, need_names) for i in firm):
                        # A need named ("passer le BAFA") that no fitting action speaks of: say so, rather than
                        # let actions open to the person pass for an answer to it.
                        lines.append(f"Aucune de ces actions ne parle de ce besoin ({asked}) ; elles sont ouvertes à ce jeune :")
                        unspoken = asked
                    else:
                        # The pistes name the need without its distinctive words: no claim that none speaks of it,
                        # no refusal, but what the plans say of it is heard, as for a need none speaks of.
                        named_only = asked
            planned: list[tuple[str, int]] = []
            if intent.plans and not verdicts and not analysis.lives_outside:
                # "Que prévoit le contrat de ville pour elle ?": what the plans and their partners commit to on the
                # person's need answers it (a plan's measure, a partner's engagement); the actions come after.
                pool = [i for i in items if i.verdict != "excluded" and _not_directory(i)]
                planned = _on_the_need(
                    context, analysis, pool, self.frequency, limit=3, own=question, measures_first=True, aside=intent.plans
                )
            if planned:
                # The need and who the person is ("formation, jeune parent"): the plans answer both.
                keys = [*analysis.needs, *(k for k in analysis.situations if k not in _WHO_ONLY)]
                needs_said = ", ".join(concept_label(k) for k in dict.fromkeys(keys))
                start = next((k for k, line in enumerate(lines) if line.startswith(f"**{heading}**")), len(lines))
                lines[start:start] = [
                    f"**Ce que prévoient les documents sur ce besoin ({needs_said})** :"
                    if needs_said
                    else "**Ce que prévoient les documents** :",
                    *(f"- {sentence} [{n}]" for sentence, n in planned),
                ]
            on_need = []
            if (unspoken or named_only) and not analysis.lives_outside:
                # What the other passages say on that need (a measure of a plan, "6 réunions de circuits-courts
                # entre une dizaine de jeunes et 4 entreprises"): the counsellor's lead when no action fits it.
                shown = [*verdicts, *fitting, *conditional, *excluded, *generic]  # generic: judged off the need
                others = [i for i in items if i not in shown and i.verdict != "excluded" and _not_directory(i)]
                on_need = _on_the_need(context, analysis, others, self.frequency, limit=2, own=question)
                if (
                    unspoken
                    and not on_need
                    and not planned
                    and not verdicts
                    and all(not speaks(i) and (i.verdict == "unknown" or _open_to_all(i)) for i in fitting)
                ):
                    # Nothing in the documents speaks of that need for this person: it is not stated. The
                    # actions open to them stay in one line, for another need, never as the answer.
                    where = f" à {', '.join(analysis.communes)}" if analysis.communes else ""
                    start = next(k for k, line in enumerate(lines) if line.startswith(f"**{heading}**"))
                    lines[start:] = [f"Les documents ne précisent pas d'action sur ce besoin ({unspoken}){where}."]
                    if fitting:
                        lines.append(
                            "**Ouvertes à ce jeune, sur d'autres besoins** : "
                            + " ; ".join(f"{_short_line(i)} [{i.n}]" for i in fitting)
                        )
                    refused, shortened = True, fitting
                    fitting = []
                unspoken = unspoken or named_only
            elif phrases and analysis.needs and not verdicts and not analysis.lives_outside and sum(map(speaks, fitting)) < 2:
                # One action at most speaks of the need: the plans' measures on it (a "forum des financeurs de la
                # création d'activité" beside one grant for creators) widen a short list; they are no action, so
                # they come after the pistes, as sentences.
                shown = [*fitting, *conditional, *excluded, *generic]
                others = [i for i in items if i not in shown and i.verdict != "excluded" and _not_directory(i)]
                on_need = _on_the_need(context, analysis, others, self.frequency, limit=2, own=question)
                unspoken = ", ".join(concept_label(c.key) for c in sought)
            elif phrases and len(sought) > 1 and not verdicts and not analysis.lives_outside:
                # Several needs named ("emploi en Flandre, mais il ne parle pas un mot de néerlandais"): one that no
                # fitting action speaks of gets the plans' measures on it, so that every need asked is answered.
                # (Only the pistes shown in full count: one in the "Autres pistes" line shows its title alone.)
                full = fitting[: self.full_items]
                unmet = [
                    (c, p) for c in sought if (p := _need_phrases([c], self.frequency)) and not any(_speaks(i, p) for i in full)
                ]
                if unmet:
                    shown = [*full, *conditional, *excluded, *generic]
                    others = [i for i in items if i not in shown and i.verdict != "excluded" and _not_directory(i)]
                    narrowed = replace(analysis, expansions=tuple(e for c, _ in unmet for e in c.expansions))
                    own_phrases = [p for _, ps in unmet for p in ps]
                    on_need = [
                        (x, n)
                        for x, n in _on_the_need(context, narrowed, others, self.frequency, limit=4, own=question)
                        if any(p <= _stems(x) for p in own_phrases)
                    ][:2]
                    unspoken = ", ".join(concept_label(c.key) for c, _ in unmet)
            # The best four in full (who runs it, for whom, why it fits, whom to contact); the others in a line
            # each, so that the answer reads in seconds and nothing that fits is hidden.
            detail = intent.slot if intent.kind == "person" else None
            pistes: list[Piste] = []  # the same pistes in fields: the chat's cards
            lines += [
                f"{k}. {_list_line(item, analysis, shown_contacts, frequency=self.frequency, detail=detail, collect=pistes)}"
                for k, item in enumerate(fitting[: self.full_items], start=1)
            ]
            if fitting[self.full_items :]:
                lines.append("**Autres pistes** : " + " ; ".join(f"{_short_line(i)} [{i.n}]" for i in fitting[self.full_items :]))
                for i in fitting[self.full_items :]:  # each in full on its card, as it would read in the list
                    _list_line(i, analysis, frequency=self.frequency, detail=detail, collect=pistes, section=MORE)
            if conditional and fitting is not None and not analysis.lives_outside:
                lines.append("**Sous condition**")
                lines += [
                    f"{k}. {_list_line(item, analysis, shown_contacts, frequency=self.frequency, collect=pistes, section=CONDITION)}"
                    for k, item in enumerate(conditional, start=len(fitting) + 1)
                ]
            else:
                conditional = []
            on_need = [(x, n) for x, n in on_need if all(x != y for y, _ in planned)]
            if on_need:
                lines.append(f"**Sur ce besoin ({unspoken}), les documents disent aussi** :")
                lines += [f"- {sentence} [{n}]" for sentence, n in on_need]
            on_them: list[tuple[str, int]] = []
            if situated_phrases and not analysis.lives_outside:
                # Who the young person is, in the rare words of it ("suivi par la justice": "prévention de la
                # délinquance", "PJJ"), may be what a plan's row is about, no catalogue action ("Rapprocher les
                # jeunes des institutions via le sport — MEL-PJJ-Parquet"): what it provides is heard too.
                shown = [*verdicts, *fitting, *conditional, *excluded, *generic]
                heard_ns = {n for _, n in [*planned, *on_need]}
                others = [
                    i
                    for i in items[:6]
                    if i not in shown
                    and i.n not in heard_ns
                    and i.verdict != "excluded"
                    and _not_directory(i)
                    and _speaks(i, situated_phrases)
                ]
                # Each as its title (the row's theme and priority) and the sentence nearest the question ("via le
                # sport"), one per title.
                for i in others:
                    title = _title(i.doc)
                    if len(on_them) < 2 and all(not x.startswith(f"**{title}**") for x, _ in on_them):
                        key = _key_sentence(context, i.doc, skip=(title,), frequency=self.frequency)
                        if key and fold(_readable(key)) in fold(title):  # the row's heading again, under its label
                            key = _key_sentence(context, i.doc, skip=(title, key), frequency=self.frequency)
                        key = _readable(_whole_measure(i.doc, key)) if key else ""
                        on_them.append((f"**{title}**" + (f" : {key}" if key else ""), i.n))
            if on_them:
                labels = ", ".join(concept_label(c.key) for c in who_they_are if c.key not in _WHO_ONLY)
                lines.append(f"**Sur sa situation ({labels}), les documents prévoient aussi** :")
                lines += [f"- {sentence} [{n}]" for sentence, n in on_them]
            if excluded:
                lines.append(
                    "**Ne conviennent pas** : " + " ; ".join(f"{_title(i.doc)} — {_reason(i, context)} [{i.n}]" for i in excluded)
                )
                pistes += [Piste(i.n, EXCLUDED, _title(i.doc), check=(_reason(i, context),)) for i in excluded]
            PISTES.set(tuple(pistes))
            cited = {n for _, n in [*planned, *on_need, *on_them]}
            used = shortened + verdicts + fitting + conditional + [i for i in items if i.n in cited] + excluded
        elif kind == FACT and intent.kind == "definition" and entity_items and not _COMPARE.search(fold_question(question)):
            # "C'est quoi Connect'Emploi ?", "What is Connect'Emploi?": the action as a card line (who runs
            # it, for whom, what it does, whom to contact), from the passage that presents it.
            # The passage that spells the name out ("PAQTE (Pacte Avec les Quartiers…)"), else one that
            # writes it, a card first.
            names = _entity_names(intent)
            pattern = _name_pattern(names)
            ranked = sorted(
                entity_items,
                key=lambda i: (
                    not _expands(i, names),
                    not (pattern and pattern.search(fold_question(i.doc.page_content))),
                    not (i.meta.get("meta_public") or i.record),
                ),
            )
            item = ranked[0]
            # A plan's paragraph that names the measure in passing ("…éligible au dispositif des « Emplois
            # Francs ». Il s'agit d'une aide aux employeurs…"): what it says from there on defines it.
            own = set(item.meta.get("meta_action_ids") or ())
            head = _card_head(item, name=next((e.name for e in intent.entities if e.action_id in own), entity or ""))
            said = [x for x in _naming_sentences(item, names) if fold_question(x.rstrip(".")) not in fold_question(head)]
            if said:
                contact = _contact_line(item.doc)
                lines.append(f"{head}. {' '.join(said)}" + (f" Contact : {contact}" if contact else "") + f" [{item.n}]")
            else:
                lines.append(_list_line(item, analysis))
            used = [item]
        elif _COMPARE.search(fold_question(question)) and len(compared := _compared(question, intent, items, named)) >= 2:
            # "Quelle différence entre Booster et MAJ'YC ?": each side's who, for whom, what, contact, and how it
            # goes ("trois semaines de stages", "passent leur code et leur permis"): where two actions differ.
            for item in compared:
                line = _list_line(item, analysis)
                how = _how_it_goes(item, skip=line)
                if how:  # before the contact, which ends what is said of the action
                    at = line.find(". Contact : ") if ". Contact : " in line else line.rfind(" [")
                    line = f"{line[:at]}. En pratique : {how.rstrip('.')}{line[at:]}"
                lines.append(f"- {line}")
            used = compared
        elif (
            kind == FACT
            and (intent.slot == "age" or _AGE_ASKED.search(fold_question(question)))
            and (publics := _publics(_one_per_action(entity_items)[:2] or focus[:2], context, entity_items))
        ):
            if intent.asserted and not any(re.search(r"\d", line.rsplit("[", 1)[0]) for line in publics):
                # "KAPS c'est pour les 11-15 ans ?" of an action whose public states no age: neither confirmed
                # nor contradicted; what the documents say of its public follows.
                lines.append(f"Les documents ne précisent pas d'âge pour {entity or 'cette action'} ; ils disent :")
            lines += publics
            cited = {n for line in publics for n in re.findall(r"\[(\d+)\]$", line)}
            used = [i for i in items if str(i.n) in cited]
            # "C'est quoi X et c'est pour quel âge ?": the other part gets its sentences too.
            if len([p for p in _PART.split(fold_question(question)) if p.strip()]) > 1:
                more = [(x, n) for x, n in _sentences_answering(context, focus, limit=2) if x not in " ".join(lines)]
                lines += [f"{x} [{n}]" for x, n in more]
                used += [i for i in focus if i.n in {n for _, n in more} and i not in used]
        else:
            # The parts retrieval did not rank (index.hybrid.with_parts) only serve the slot asked, below.
            # A contact directory answers who, not what: its lines are no sentence of a fact's answer.
            pool = [i for i in (focus if named else items) if _not_directory(i)]
            ranked = [i for i in pool if not i.why.part] or [i for i in items if _not_directory(i)] or items
            answer = _sentences_answering(context, ranked, extra=[i for i in pool if i not in ranked])
            if intent.slot == "place" and (entity_items or referred):
                # "Where does Déclic'Sportif take place?": the named action's sentence that names a place
                # ("les équipements sportifs du CREPS de Wattignies") comes first.
                # Of all its parts, the sentence naming the most places ("un accueil sur le site de Lille et/ou
                # sur les antennes d'Annœullin et La Bassée"), then the one closest to the question.
                wanted = _stems(context)
                scored_wheres = [
                    (-places, -len(wanted & _stems(x)), k, _clip(_readable(x), 400), i.n)
                    for k, i in enumerate(entity_items or referred)
                    for x in _sentences(i.doc.page_content)
                    if len(x) >= 20 and not _is_heading(x) and (places := _places_named(x))
                ]
                wheres = [(x, n) for *_, x, n in sorted(scored_wheres)[:1]]
                answer = wheres + [(x, n) for x, n in answer if all(x != w for w, _ in wheres)]
            pieces = [p for p in _PART.split(fold_question(question)) if p.strip()]
            # "combien pour la MEL et combien pour Valenciennes Métropole ?": each part asks the same figure.
            one_question = len(pieces) == 1 or all(re.search(r"\bcombien\b", p) for p in pieces)
            if one_question and (intent.slot in SLOT_EVIDENCE or intent.slot == "count"):
                # The named action's sentence that holds the slot asked ("combien de sorties positives ?":
                # "… soit 402 jeunes insérés"), wherever in its parts it is, comes first. (A question asking
                # two things gets a sentence per part from ``_sentences_answering``.)
                # (The named action's own parts need not share the question's words; other passages must.)
                # (The same passages as the answerability check above: the named action's, and those that
                # write its name.)
                subject = _subject(entity_items or referred, items, intent)
                held = _slot_sentences(
                    context,
                    question,
                    intent.slot,
                    subject or _top(items),
                    2,
                    not subject,
                    everywhere=True,
                    names=slot_names,
                )
                kept: list[tuple[str, int]] = []
                for x, n in [(_with_list(x, n, items), n) for x, n in held]:  # each fact once: the longer wins
                    if not any(x in y for y, _ in kept):
                        kept = [(y, m) for y, m in kept if y not in x] + [(x, n)]
                # The other sentences, unless they repeat one of these (or hold it under its row headings);
                # asked for a year, a figure of the slot comes only from that year's part (above).
                dated = bool(_YEAR.search(question)) and intent.slot in ("count", "amount", "rate")
                answer = kept + [
                    (x, n)
                    for x, n in answer
                    if not any(_unmarked(x) in h or h in x for h, _ in kept) and not (dated and holds(intent.slot, x, question))
                ]
            if not answer:
                refused = True
                lines, used = _refusal("Les documents ne précisent pas de réponse à cette question.", items)
            else:
                lines += [f"{sentence} [{n}]" for sentence, n in answer]
                used = [i for i in items if i.n in {n for _, n in answer}]
        outcome: bool | str = refused
        if kind == LIST and intent.outside and refused:
            outcome = OUT_OF_SCOPE
        return lines, used, outcome


# Situations that say who the young person is and nothing of what they face.
_WHO_ONLY = frozenset({"qpv", "fille", "garcon"})

# What is said of a place of residence outside both territories.
_OUTSIDE = (
    "hors de la Métropole Européenne de Lille et de Valenciennes Métropole. Les documents ne décrivent que les "
    "actions de ces deux territoires ; aucune ne peut être proposée comme adaptée à ce jeune."
)


def _open_to_all(item: Item) -> bool:
    """An action that fits only because it covers the whole territory, for no stated age or public (a
    measure of a plan): fitting the person says nothing of fitting their need."""
    return (
        _meta(item.doc, "age_min") is None
        and _meta(item.doc, "age_max") is None
        and not _meta(item.doc, "public")
        and bool(item.why.reasons)
        and all(WHOLE_TERRITORY in r for r in item.why.reasons)
    )


def _need_phrases(concepts: list[Concept], frequency: Callable[[str], float] | None) -> list[frozenset[str]]:
    """The phrases of the needs or situations ``concepts`` as stem sets, those holding a rare word only.

    A passage speaks of the need when it holds all the words of one phrase ("permis de conduire":
    "permis" and "conduire", not the "permis de louer" of a housing measure); a word in 5 % of the
    passages or more ("emploi") says too little to count.
    """
    share = frequency or (lambda _stem: 0.0)
    rare = {w for c in concepts for w in _stems(" ".join(c.expansions)) if share(w) < 0.05}
    return [_stems(e) for c in concepts for e in c.expansions if _stems(e) & rare]


def _speaks(item: Item, phrases: list[frozenset[str]]) -> bool:
    """The passage holds one of ``phrases``: its words together, within a few words of each other ("inclusion
    numérique", not "inclusion sociale" in one sentence and "Garage Numérique" in another)."""
    have = _stems(item.doc.page_content)
    return any(p <= have and _near(p, item.doc.page_content) for p in phrases)


_SPAN = 4  # words a phrase's words may lie apart ("accompagnement social et professionnel")


@lru_cache(maxsize=65536)
def _ordered_stems(text: str) -> tuple[str, ...]:
    from index.lexical import analyse_text

    return tuple(analyse_text(text))


def _near(phrase: frozenset[str], text: str) -> bool:
    if len(phrase) < 2:
        return True
    stems = _ordered_stems(text)
    last: dict[str, int] = {}
    for k, stem in enumerate(stems):
        if stem in phrase:
            last[stem] = k
            if len(last) == len(phrase) and k - min(last.values()) <= len(phrase) - 1 + _SPAN:
                return True
    return False


def _on_the_need(
    question: str,
    analysis: QueryAnalysis,
    items: list[Item],
    frequency: Callable[[str], float] | None,
    limit: int = 3,
    own: str = "",
    measures_first: bool = False,
    aside: tuple[str, ...] = (),
    relaxed: bool = False,
) -> list[tuple[str, int]]:
    """Sentences of ``items`` that speak of the person's need: (sentence, citation number), best first.

    The need is read from the question's rare words (in under a fifth of the passages) and from the
    wording of the situations and needs it names (``analysis.expansions``: "jeune maman" reads
    "parentalité", "vie familiale"); places and ages say who, not what, so they do not count. A word in
    under 5 % of the passages weighs 1, a commoner one ½; a sentence qualifies with a weight of 1½, or
    with one word of a named need found in under 2.5 % of the passages ("parents", "épicerie").
    Each passage's best sentence comes first, so that several sources are heard. ``question`` holds the
    earlier turns of a follow-up; ``own`` is the new question alone, whose words weigh full.
    ``aside``: words of the question that say where to look ("contrat de ville"), not what the need is.
    ``measures_first``: what is done (a list item, a sentence that commits someone) before what is found ("Les
    problématiques sont nombreuses…"), for a question asking what the plans provide.
    """
    share = frequency or (lambda _stem: 0.0)
    places = _stems(" ".join([*analysis.communes, *(p.name for p in analysis.places), *aside]))
    # Two letters are too short to say much ("an" of "20 ans"), unless written as an acronym ("CV", "RH").
    acronyms = {w.lower() for w in re.findall(r"\b[A-Z]{2}\b", question)}
    rare = {w for w in _stems(question) - places if share(w) < 0.2 and not w.isdigit() and (len(w) > 2 or w in acronyms)}
    # A need's phrase counts whole ("petite enfance", not the "Enfance" of child protection), its words once.
    # Each need (or situation) is one thing the person is about: a sentence speaking of two of them says more than
    # one writing two words of one ("développeur web" is one phrase of the digital careers; "entreprenariat
    # numérique" speaks of them and of creating a business). Its phrases are grouped by it.
    of_concept = {e: c.key for c in load_concepts() if c.key in (*analysis.needs, *analysis.situations) for e in c.expansions}
    grouped: dict[str, list[frozenset[str]]] = {}
    for e in analysis.expansions:
        if p := frozenset(w for w in _stems(e) - places - {"jeun"} if len(w) > 2):
            grouped.setdefault(of_concept.get(e, e), []).append(p)
    phrases = [p for group in grouped.values() for p in group]
    need = set().union(*phrases)
    # In a follow-up, the words of the earlier turns say who; the new question's words say what it is about.
    earlier = rare - _stems(own) if own else set()
    # A question that describes the person, then asks what the plans provide for something ("… il traîne tout
    # l'été faute d'argent. La MEL a prévu quelque chose pour l'accès des jeunes au sport et à la culture ?"):
    # what the asking sentence names is what the plans are asked about; what the description implies ("faute
    # d'argent") comes after it. (Only then: a need none of the pistes meets is read from the whole question.)
    asking = _asking_sentence(own or question)
    asked = _stems(asking) - places if measures_first and asking != (own or question).strip() else set()
    # Asked what the plans provide on a need it names ("que dit le contrat de ville sur la santé des jeunes ?"), a
    # sentence holding the need's own word is heard when none holds a rarer one ("santé" is in a tenth of them).
    named = {w for w in _stems(own or question) if w in need} if measures_first else set()
    best: dict[int, list[tuple[float, str]]] = {}
    # Asked what the plans provide, every passage retrieved is heard (a plan's row on the need may rank tenth
    # behind the actions' cards); otherwise the top six.
    for item in items if measures_first else items[:6]:
        # A list written in one line (a table cell) is heard whole, to say whether it speaks of the need, and
        # quoted by its item that does (the one holding most of the need's words).
        cells = [(piece, x) for x in _sentences(item.doc.page_content) for piece in _inline_items(x)]
        sentences = [piece for piece, _ in cells]
        for k, sentence in enumerate(sentences):
            if len(sentence) < 30 or _is_heading(sentence) or _PERSON_LINE.match(sentence) or _label(sentence):
                continue
            if sentence[:1].islower():
                continue  # the end of a sentence the passage before holds ("numérique, et d'expérimenter …")
            if sentence.rstrip().endswith((":", "?")):
                # A line that opens a list says what follows, not what is done; a slide's question ("Quels types
                # d'actions une entreprise peut-elle mener … ?") asks, it commits to nothing.
                continue
            whole = cells[k][1]
            have = _stems(whole)
            matched = (rare & have).union(*(p for p in phrases if p <= have))
            mine = {w for w in matched if w in _stems(sentence)}
            if whole != sentence and not mine:
                continue  # an item of the cell that says nothing of the need
            weight = sum((1.0 if share(w) < 0.05 else 0.5) / (2 if w in earlier else 1) for w in matched)
            # Each further need the sentence speaks of counts one more (ranks only).
            bonus = max(0.0, sum(1.0 for group in grouped.values() if any(p <= have for p in group)) - 1)
            if whole != sentence:
                weight += 0.01 * len(mine)  # among a cell's items, the one holding most of the need's words
            # The asking sentence's words count twice ("… travaille-t-elle l'esprit d'entreprise des NEET ?").
            ranking = sum(1.0 if share(w) < 0.05 else 0.5 for w in matched & asked)
            # A structure named after the need ("Ouvrir 8 Maisons des Parents") is a place to send them (a rare
            # word of it: "Pôle Emploi" is named after every jobseeker's need).
            rare_matched = {w for w in matched if share(w) < 0.05}
            weight += 1.0 if any(_stems(name) & rare_matched for name in _PROPER_NAME.findall(sentence)) else 0.0
            if asked and not matched & (asked | need):
                continue  # only words of the description ("dans leur cité"): not what the plans are asked about
            if weight + ranking >= 1.5 or any(w in need and share(w) < 0.025 for w in matched) or (relaxed and matched & named):
                # Scored alone, quoted whole: the item's next sentence may say who acts, and a finding ("L'absence
                # de couverture maladie … constitue un facteur de renoncement aux soins.") what is done about it.
                quoted = _whole_item(sentences, k)
                after = sentences[k + 1] if k + 1 < len(sentences) and quoted == sentences[k] else ""
                if after and not _COMMITS.search(quoted) and _COMMITS.search(after) and len(quoted) + len(after) <= 400:
                    quoted = f"{quoted} {after}"
                # An item of a list says what is done; the line that opens the list says who does it ("Dans ce
                # cadre général, la CAF du Nord :" then "- Contribue … petite enfance").
                # "Cela permettra aux centres sociaux …": the sentence before says what "cela" is.
                if k and quoted == sentences[k] and _ANAPHOR.match(quoted) and not _is_heading(sentences[k - 1]):
                    before = sentences[k - 1].strip()
                    if not before.startswith(_ITEM_MARKS) and not before.endswith(":") and len(before) + len(quoted) <= 450:
                        quoted = f"{before} {quoted}"
                # (A plan's sentence often says who acts at its end: "… via … des acteurs qu'il finance, comme les
                # centres sociaux et les clubs de prévention spécialisée." It is quoted whole up to 480 characters.)
                quoted = _clip(_unmarked(quoted).strip(), 480 if measures_first else 400)
                means = _row_means(item.doc.page_content, quoted) if measures_first else ""
                if means:
                    quoted = f"{quoted} — {means}"
                lead = _lead_in(sentences, k)
                if measures_first and not lead:
                    # A plan's section names the measure its sentences describe ("2.2 Les conseils locaux en santé
                    # mentale (CLSM)" above "Là encore, la mise en place d'une coordination …"); so does a table
                    # row's first cell, the catalogue action's title ("AMELIO +" for "Face à la montée …").
                    lead = _section_above(sentences, k) or _measure_name(item, quoted)
                if measures_first and (
                    sentences[k].lstrip().startswith(_ITEM_MARKS)
                    or _COMMITS.search(quoted)
                    or _TO_DO.match(sentences[k])
                    or _means_cell(sentences[k])
                    or _in_measure_cell(item.doc.page_content, sentences[k])
                ):
                    bonus += 10.0  # (ranks only: every measure before every finding)
                elif not measures_first and _COMMITS.search(quoted):
                    # For a young person, what someone does on the need ("… est mobilisée pour le projet des
                    # centres sociaux connectés") says more than what is found or framed ("Lutte contre la
                    # fracture numérique" in a list of framework documents): a half-word ahead (ranks only).
                    bonus += 0.5
                best.setdefault(item.n, []).append((weight + bonus + ranking, f"{lead} {quoted}" if lead else quoted))
    firsts = sorted(((max(found)[0], n, max(found)[1]) for n, found in best.items()), key=lambda x: -x[0])
    rest = sorted(((w, n, x) for n, found in best.items() for w, x in found), key=lambda x: -x[0])
    chosen: list[tuple[str, int]] = []
    for _, n, sentence in [*firsts, *rest]:
        if len(chosen) < limit and all(sentence != s for s, _ in chosen):
            chosen.append((sentence, n))
    if not chosen and named and not relaxed:
        return _on_the_need(question, analysis, items, frequency, limit, own, measures_first, aside, relaxed=True)
    return chosen


def _asking_sentence(question: str) -> str:
    """The sentence of ``question`` that asks (the last one ending with "?"), or the whole question."""
    pieces = [p.strip() for p in re.split(r"(?<=[.!?])\s+", question.strip()) if p.strip()]
    asking = [p for p in pieces if p.endswith("?")]
    return asking[-1] if asking and len(pieces) > 1 else question.strip()


# A list written inside one line (a table cell: "… en 3 axes - Formation Professionnelle : … - Se former en milieu
# carcéral : …"): an item mark between two words, the item starting with a capital.
_INLINE_ITEM = re.compile(r"\s+(?:[-•►▶✓]|o)\s+(?=[A-ZÉÈÀ«])")


def _inline_items(sentence: str) -> list[str]:
    """A long sentence holding a list in one line, cut into its items (each a measure of its own, written with
    its mark as a list item is); a sentence that holds none, whole."""
    if len(sentence) < 200:
        return [sentence]
    pieces = _INLINE_ITEM.split(sentence)
    if len(pieces) < 3:
        return [sentence]
    return [pieces[0].strip(), *(f"- {p.strip()}" for p in pieces[1:] if p.strip())]


# A sentence that opens on what the one before named ("Cela permettra …", "Ce dispositif vise …").
_ANAPHOR = re.compile(r"(?:Cela|Ceci|Celui-ci|Celle-ci|Ce dispositif|Ce projet|Ce programme|Cette action|Cette démarche)\b")
# A plan's measure written as what is to be done: an infinitive first, after a column's label ("OBJECTIFS :
# Continuer à diffuser l'offre de services AMELIO +", "Ouvrir 8 Maisons des Parents").
_TO_DO = re.compile(
    r"\s*(?:[A-ZÉÈ ]{4,}\s*:\s*)?(?!(?:Notre|Votre|Autre|Entre|Contre|Leur|Premier|Dernier)\b)[A-ZÉÈ][a-zéèêëïîô]+(?:er|ir|re)\b"
)
# A numbered section's title ("2.2 Les conseils locaux en santé mentale (CLSM)", "C) Favoriser …").
_NUMBERED = re.compile(r"(?:\d+(?:\.\d+)*\.?|[A-H]\))\s+(?P<title>[A-ZÉÀ«].*)")


def _section_above(sentences: list[str], k: int) -> str:
    """The title of the numbered section sentence ``k`` is in, without its number, followed by ":" ("Les
    conseils locaux en santé mentale (CLSM) :"), or "" when the passage shows none above it."""
    for line in reversed(sentences[:k]):
        m = _NUMBERED.fullmatch(line.strip())
        if m and len(line.split()) <= 15 and not re.search(r"[.!?;:]$", line.strip()):
            return f"{m['title'].strip()} :"
    return ""


def _measure_name(item: Item, sentence: str) -> str:
    """The title of the one catalogue action a table row or list item holds, followed by ":", when
    ``sentence`` does not write it and the passage does (the name shown is the cited passage's)."""
    action = item.record or item.action
    if action is None or action.kind not in ("table_row", "item") or len(item.meta.get("meta_action_ids") or ()) > 1:
        return ""
    title = action.title.strip()
    if fold(title) in fold(sentence) or fold(title) not in fold(item.doc.page_content) or len(title) > 120:
        return ""
    return f"{title} :"


def _lead_in(sentences: list[str], k: int, reach: int = 8) -> str:
    """The line that opens the list item ``k`` is in ("Valenciennes Métropole pourra appuyer … des projets :"),
    or "" when ``k`` is no list item or the list has no short opening line within ``reach`` sentences."""
    if not sentences[k].lstrip().startswith(_ITEM_MARKS):
        return ""
    for j in range(k - 1, max(-1, k - 1 - reach), -1):
        line = sentences[j].strip()
        if line.endswith(":") and not line.startswith(_ITEM_MARKS):
            return line if len(line) <= 160 else ""
        if _is_heading(line):
            return ""  # the list began under a heading, without an opening line
    return ""


def _how_it_goes(item: Item, skip: str = "", most: int = 2, limit: int = 400) -> str:
    """The sentences after an action's summary in its description paragraph (what the young people do, for how
    long), those ``skip`` holds aside, or "" when the passage has none."""
    action = item.record or item.action  # the part that presents it holds its summary
    summary = action.summary if action else None
    sentences = _sentences(item.doc.page_content)
    at = next((k for k, x in enumerate(sentences) if summary and x.strip() == summary.strip()), None)
    if at is None:
        return ""
    after = itertools.takewhile(
        lambda x: not x.lstrip().startswith(_ITEM_MARKS) and not _is_heading(x) and not _label(x), sentences[at + 1 :]
    )
    return _clip(" ".join([x for x in after if x.strip() not in skip][:most]), limit)


# A line that is no prose: a web address or a number alone (a footnote's, a page's).
_NOT_PROSE = re.compile(r"(?:https?://|www\.)\S*|[\d\s.,]+")


def _whole_item(sentences: list[str], k: int) -> str:
    """List item ``k`` with the sentences that carry it on up to the next item ("- Contribue … d'insertion."
    then "La CAF participe …", then "- S'engage …"): who acts is often said in the item's second sentence."""
    if not sentences[k].lstrip().startswith(_ITEM_MARKS) or not sentences[k].rstrip().endswith("."):
        return sentences[k]  # (an item without its full stop is a table's cell: the next line is another cell)
    # (A web address or a bare page number after the item is a footnote's, not the item's: "… politique de la
    # ville." then "http://www.legifrance.gouv.fr/…" then "61".)
    rest = list(
        itertools.takewhile(
            lambda x: not x.lstrip().startswith(_ITEM_MARKS) and not _NOT_PROSE.fullmatch(x.strip()), sentences[k + 1 : k + 3]
        )
    )
    if not rest or k + 1 + len(rest) >= len(sentences):  # not followed by another item: text after the list
        return sentences[k]
    return " ".join([sentences[k], *rest])


# A sentence that commits someone to doing something: what a plan provides, not what it finds.
_COMMITS = re.compile(
    r"\b(?:s[’']engage\w*|prévoi\w*|propos\w*|met(?:tra)? en place|déploi\w*|financ\w*|soutien\w*|accompagn\w*|organis\w*"
    r"|mobilisée?s?)\b",
    re.IGNORECASE,
)
# A name of two capitalised words or more, linked or not by "de", "des", "du", "de la", "l'" ("Maisons des
# Parents", "Point Information Jeunesse"), after a sentence's first word.
_PROPER_NAME = re.compile(r"(?<=\w )[A-ZÉ][\w’'-]+(?:\s+(?:(?:de la|des|du|de|d[’']|l[’'])\s*)?[A-ZÉ][\w’'-]+)+")


def _label(sentence: str) -> bool:
    """A table's row or column label ("Action sociale, santé, soutien aux familles monoparentales, tranquillité
    publique et justice"): a short line that is neither a list item nor a sentence. It names a theme; it
    says nothing that is done."""
    line = sentence.strip()
    if _CELL.match(line):
        return False  # a table row's cell under its column's label ("OBJECTIFS : Renforcer l'accès à la culture")
    return not line.startswith(_ITEM_MARKS) and not re.search(r"[.!?:;)»]$", line) and len(line.split()) <= 15


# A table row's cell as ingest writes it, under its column's label ("MOYENS MOBILISABLES : …").
_CELL = re.compile(r"(?P<label>[A-ZÉÈÀÂÊÎÔÛÇ][A-ZÉÈÀÂÊÎÔÛÇ' ]{3,40}?)\s*:\s+(?P<value>\S.*)")
# The column of a plan's table that says what is done for an objective ("MOYENS MOBILISABLES", "ACTIONS").
_MEANS = re.compile(r"\b(?:MOYENS?|ACTIONS?|MISE EN (?:ŒUVRE|OEUVRE))\b")


def _cells(text: str) -> list[tuple[str, str]]:
    """The cells of a table row's passage, (column label, value), in order: its lines "LABEL : value"."""
    return [(m["label"].strip(), m["value"].strip()) for line in text.split("\n") if (m := _CELL.match(line.strip()))]


def _means_cell(sentence: str) -> bool:
    """A table row's cell under a means column ("MOYENS MOBILISABLES : Collaboration avec 10 entreprises …"):
    what is done, whatever its first word."""
    cell = _CELL.match(sentence.strip())
    return bool(cell and _MEANS.search(cell["label"]))


# The columns of a plan's table that say how a measure is followed or who answers for it, not what is done.
_NOT_DONE = re.compile(r"\b(?:INDICATEURS?|R[ÉE]SULTATS?|AUTORIT[ÉE]S?|CALENDRIER|[ÉE]VALUATION)\b")


def _in_measure_cell(text: str, sentence: str) -> bool:
    """``sentence`` is in a cell of a table row (``text``) under a column of what is done (objectives,
    priorities, means: "… EYES Développer les capacités entrepreneuriales des NEETS …" in the OBJECTIFS
    cell), not under its indicators or its authorities."""
    said = squash(_unmarked(sentence))[:60]
    return bool(said) and any(not _NOT_DONE.search(label) and said in squash(value) for label, value in _cells(text))


def _row_means(text: str, quoted: str) -> str:
    """The means cell of the table row ``quoted`` is a cell of (not that cell), "LABEL : value", or "": an
    objective says what is aimed at, the means what is done for it ("Renforcer l'accès à la culture des
    jeunes" — "les équipements culturels métropolitains … Summer Pass")."""
    own = _CELL.match(quoted.strip())
    if own is None or _MEANS.search(own["label"]):
        return ""
    return next(
        (
            f"{label} : {_clip(value, 250)}"
            for label, value in _cells(text)
            if _MEANS.search(label) and fold(value)[:40] not in fold(quoted)
        ),
        "",
    )


def _slot_sentences(
    context: str,
    question: str,
    slot: str,
    items: list[Item],
    limit: int = 2,
    need_overlap: bool = True,
    everywhere: bool = False,
    names: tuple[str, ...] = (),
) -> list[tuple[str, int]]:
    """The sentences of the top passages (``everywhere``: of all ``items``) about the subject that hold the
    slot asked, closest to the question first: a figure of another unit never answers
    (assistant.answerability). ``names``: what the question names; in a passage of several actions (or none
    of the catalogue's), only the sentences writing one of them count."""
    folded_names = [fold_question(n) for n in names if n]
    wanted = _stems(context)
    own = _stems(question)
    # "combien de jeunes en 2024 ?": a figure of a passage that does not write that year is another year's.
    years = set(_YEAR.findall(question)) if slot in ("count", "amount", "rate") else set()
    scored = []
    for rank, item in enumerate(items if everywhere else items[:3]):
        if years and not any(y in item.doc.page_content or _dated_above(item, y, items) for y in years):
            continue
        # Under which year each sentence is: between two figures the question fits as well, the latest is
        # what the action is now ("2019 … (8 par session)" over "2018 … Première session : 4 jeunes").
        under = _years_of(item.doc.page_content)
        for year, part in _year_sections(item.doc.page_content) if years else [(None, item.doc.page_content)]:
            if year is not None and year not in years:
                continue  # "2017 … 267 missions créées" under another year's heading
            sentences = list(map(_readable, _sentences(part)))
            # A list of several actions that writes the name asked: only its sentences speak of it (a part of
            # a table row that does not write it, "402 jeunes insérés" under INDICATEURS, is the row's own).
            listed = (
                bool(folded_names)
                and len(item.meta.get("meta_action_ids") or ()) != 1
                and any(n in fold_question(item.doc.page_content) for n in folded_names)
            )
            for k, sentence in enumerate(sentences):
                if len(sentence) < 15 and k and holds(slot, sentence, question):
                    # A figure on a slide's line of its own ("PRIX REDUITS !" then "de -70 à -90 %"): the line
                    # above says what it is a figure of.
                    sentence = f"{sentences[k - 1].rstrip()} {sentence}"
                if listed and not any(n in fold_question(sentence) for n in folded_names):
                    continue
                if len(sentence) >= 15 and holds(slot, sentence, question) and not _is_heading(sentence):
                    # The year the figure is under is said with it: "2018 : 365 missions créées."
                    shown = _dated(sentence, year)
                    have = _stems(sentence)
                    latest = -int(under.get(" ".join(sentence.split()), "0"))
                    exact = slot == "count" and counts_noun(sentence, question)
                    scored.append((len(wanted & have), len(own & have), rank, latest, shown, item.n, exact))
    # A figure of the very noun counted first ("202 jeunes" for "combien de jeunes", before "2 430 étudiants");
    # then the words of the new question ("ça se passe dans quels équipements ?": the sentence naming them),
    # then those of the turns it leans on.
    scored = sorted(
        (row for row in scored if row[0] > 0 or not need_overlap), key=lambda row: (not row[6], -row[1], -row[0], row[2], row[3])
    )
    if scored and scored[0][6]:
        scored = [row for row in scored if row[6]]  # counted under another name, they are other people
    return [(_clip(sentence, 400), n) for _overlap, _own, _rank, _latest, sentence, n, _exact in scored[:limit]]


def _years_of(text: str) -> dict[str, str]:
    """Each sentence of a passage (spaces squeezed, as ``_readable`` gives it) with the year it is under."""
    return {" ".join(_readable(x).split()): year for year, part in _year_sections(text) if year for x in _sentences(part)}


def _dated_above(item: Item, year: str, items: list[Item], depth: int = 3) -> bool:
    """A passage right above ``item`` in its document (ending at most 5 lines before it) writes ``year``, or is
    itself so dated (up to ``depth`` passages up): "le PIA de 2015, 9 projets ont été retenus" dates the
    amounts of the two paragraphs that follow, as long as none writes another year."""
    source, start = item.doc.metadata.get("source"), item.doc.metadata.get("line_start") or 0
    above = [
        other
        for other in items
        if other.doc.metadata.get("source") == source and 0 <= start - (other.doc.metadata.get("line_end") or 0) <= 5
    ]
    return any(
        year in other.doc.page_content
        or (depth > 1 and not _YEAR.search(other.doc.page_content) and _dated_above(other, year, items, depth - 1))
        for other in above
    )


def _year_sections(text: str) -> list[tuple[str | None, str]]:
    """A passage cut at the lines that start with a year ("2018", "2017 Mise en place de l'action"): each
    part with the year it is under (None before the first); a deck's yearly figures stay with their year."""
    parts: list[tuple[str | None, str]] = []
    year: str | None = None
    start = 0
    for match in re.finditer(r"(?m)^\s*((?:19|20)\d{2})\b(?!\s*[-–/]\s*(?:19|20)?\d{2})", text):
        parts.append((year, text[start : match.start()]))
        year, start = match.group(1), match.start()
    parts.append((year, text[start:]))
    return [(y, part) for y, part in parts if part.strip()]


# Slots a sentence must hold to answer: a figure of another unit never answers (assistant.answerability).
# A count is enforced with its noun read tolerantly (numbers in words, young people under other names, a
# count without its noun: assistant.answerability.holds). A duration in words counts ("pendant plusieurs
# semaines", "trois semaines": assistant.answerability.SLOT_EVIDENCE).
ANSWERABLE = frozenset({"amount", "date", "rate", "hours", "count", "duration", "frequency", "papers"})


def _corrections(intent: Intent, named: list[Item], question: str = "") -> tuple[list[str], list[Item]] | None:
    """Corrections of what the question asserts about a named action that its record or passage
    contradicts (a porteur, an age range, a QPV condition, a duration, an amount, a date, a place), each
    with the documented value, cited; None when nothing is contradicted (or nothing can be checked)."""
    lines: list[str] = []
    used: list[Item] = []
    # A porteur asserted ("X est porté par l'APELS") is about the action named by its title, not the
    # organisation the assertion names (which is matched as an entity too).
    titled = {e.action_id for e in intent.entities if e.action_id and e.via != "porteur"}
    # What is asserted is said of the action named first ("Start'Avenir, le forum emploi pour les jeunes des
    # QPV": not of FORUM EMPLOI, whose words the description also holds).
    first = intent.entities[0].action_id if intent.entities and intent.entities[0].via != "porteur" else None
    own = [i for i in named if first and first in (i.meta.get("meta_action_ids") or ())]
    for assertion in intent.asserted:
        subjects = own or named
        if assertion.slot == "porteur" and titled:
            subjects = [i for i in named if titled & set(i.meta.get("meta_action_ids") or ())] or named
        for item in subjects[:8]:
            found = _contradiction(assertion, item, question)
            if found:
                lines.append(f"{found} [{item.n}]")
                used.append(item) if item not in used else None
                break
    if not lines:
        return None
    return ["Ce n'est pas ce que disent les documents :", *lines], used


def _contradiction(assertion: Assertion, item: Item, question: str = "") -> str:
    """The documented value that contradicts ``assertion`` in ``item``'s passage, as a French sentence, or "".
    Among several sentences holding a value of the slot, the one sharing most words of ``question`` beside the
    value ("20 000 € pour un CDI ?": "CDI : jusqu'à 15 000 €", not the line for a CDD)."""
    record, title = item.record, item.record.title if item.record else (item.name or _title(item.doc))
    text = " ".join(item.doc.page_content.split())
    folded_text = fold_question(text)
    if assertion.slot == "porteur":
        porteur = (record.porteur if record else None) or _meta(item.doc, "porteur")
        # "organisé par Haubourdin et Loos" of "villes d'Haubourdin et de Loos": the same organisations.
        # "#Versunmétier de Pôle emploi sur la MEL": where it acts is not who runs it (but "la Mission Locale de
        # Roubaix" is one organisation, not Lille Avenirs).
        said = _stems(re.split(r"\s+(?:sur|dans)\s+", assertion.value)[0]) - _stems("ville")
        if porteur and said - _stems(porteur) and porteur in text:
            return f"**{title}** est porté par {porteur}"
        # "coordonné par la ML de Roubaix ?" of a slide without a porteur line: its line giving that role
        # ("Mission Locale Lille Avenirs (Coordination d'ATTA)").
        role = None if porteur else _role_line(assertion.text, [item])
        if role and said - _stems(role[0]):
            return f"**{title}** : {role[0]}"
        return ""
    if assertion.slot == "age":
        low, high = (record.age_min, record.age_max) if record else (_meta(item.doc, "age_min"), _meta(item.doc, "age_max"))
        stated = _ages(item.doc) if not record else (f"{low} à {high} ans" if low is not None and high is not None else "")
        asked = assertion.value.split("-")
        if stated and low is not None and high is not None and asked != [str(low), str(high)] and _grounded(stated, item.doc, ""):
            return f"**{title}** est pour les jeunes de {stated}"
        return ""
    if assertion.slot == "qpv":
        # The action's QPV condition as its passage writes it ("HORS POLITIQUE DE LA VILLE"), also from a
        # part of the action when that part writes it; "réservé aux QPV ?" of an action that sets no QPV
        # condition is answered with its public, as written.
        action = record or item.action
        if action is None:
            return ""
        squashed = " ".join(text.split())
        if action.qpv and action.qpv != assertion.value and action.qpv_evidence and action.qpv_evidence in squashed:
            return f"**{action.title}** : « {action.qpv_evidence} »"
        if action.qpv is None and assertion.value == "only" and action.public and action.public in squashed:
            return f"**{action.title}** ne pose pas de condition de quartier prioritaire : « {action.public} »"
        return ""
    slot = assertion.slot
    if slot == "place" and (territory := _territory_contradiction(assertion, item, title, text)):
        return territory
    if slot == "rhythm":
        # "5 jours par semaine ?" of "un service civique 3 jours par semaine": the same unit and period, another
        # number; the sentence that gives it is the correction.
        unit_period = assertion.value.split(" ", 1)[1]
        given = [
            (sentence, value)
            for sentence in _sentences(item.doc.page_content)
            for value in map(rhythm_of, RHYTHM.finditer(sentence))
            if value.split(" ", 1)[1] == unit_period
        ]
        if given and all(value != assertion.value for _, value in given):
            return f"**{title}** : {_clip(given[0][0], 300)}"
        return ""
    if slot == "duration" and (claimed := durations(assertion.value)):
        # "6 mois ?" of an action "d'une durée d'un an": the same family of units (months and years, or weeks
        # and days), in words or digits; a sentence with the asserted length confirms it.
        family, length = claimed[0]
        sentences = _sentences(item.doc.page_content)
        lengths = [(x, d) for x in sentences for f, d in durations(x) if f == family]
        if lengths and not any(abs(d - length) < 0.5 for _, d in lengths):
            return f"**{title}** : {_clip(lengths[0][0], 300)}"
        if lengths:
            return ""
        # "six mois de stage" of an action of "trois semaines de stages": a length in the other family, of
        # the same thing (a word after the asserted length that the sentence writes too).
        what = _stems(_LENGTH_UNIT.split(assertion.text)[-1]) if _LENGTH_UNIT.search(assertion.text) else frozenset()
        # "Déclic'Sportif dure 6 mois ?": the length of the action itself; the one its passage states, in weeks,
        # is another length.
        itself = not what and bool(re.match(r"(?:dur|last)", fold_question(assertion.text)))
        other = [x for x in sentences if durations(x) and ((what and what & _stems(x)) or itself)]
        if other:
            return f"**{title}** : {_clip(other[0], 300)}"
    if slot in ("duration", "amount", "date", "place", "hours", "count"):
        value = fold_question(assertion.value)
        # The same unit as the assertion ("12 mois" is contradicted by a sentence in months, not by "3 jours").
        unit = re.sub(r"[\d\s.,]+", " ", value).split()
        evidence = [
            s
            for s in _sentences(item.doc.page_content)
            if (slot == "place" or holds(slot, s))
            and _shares_subject(assertion, s)
            and (slot == "place" or not (PHONE.search(s) or EMAIL.search(s)))  # a contact line holds no figure
            and (slot not in ("duration", "count") or not unit or re.search(rf"\d\s*{re.escape(unit[0][:4])}", fold_question(s)))
        ]
        if slot == "place":  # the sentence that says most about where ("les équipements du CREPS de …")
            evidence.sort(key=lambda s: -len(_stems(s) & _PLACE_WORDS))
        elif question:
            context = _stems(question) - _stems(assertion.text)
            evidence.sort(key=lambda s: -len(_stems(s) & context))
        if evidence and not any(value in fold_question(s) for s in evidence) and value not in folded_text:
            if slot == "count":
                # Each count the passage gives of it ("Première session : 4 jeunes", "… 32 jeunes sur 2 ans (8 par
                # session)"): which one the question meant is the counsellor's to see.
                under = _years_of(item.doc.page_content)  # each with its year, when a deck dates it
                counts = [_dated(x, under.get(" ".join(_readable(x).split()))) for x in dict.fromkeys(evidence[:3])]
                return f"**{title}** : {_clip(' '.join(counts), 400)}"
            return f"**{title}** : {_clip(evidence[0], 300)}"
    return ""


# The unit of an asserted length: what follows it is what lasts ("impose six mois de stage": "stage").
_LENGTH_UNIT = re.compile(r"\b(?:mois|semaines?|jours?|ans?|années?|heures?)\b", re.IGNORECASE)


def _places_named(sentence: str) -> int:
    """How many communes and places (quartiers, sites) a sentence names; 0 for a contact line ("Face Lille",
    an e-mail, a phone), which says whom to reach, not where."""
    if EMAIL.search(sentence) or PHONE.search(sentence):
        return 0
    said = analyse(sentence)
    return len(set(said.communes) | {p.name for p in said.places})


def _shares_subject(assertion: Assertion, sentence: str) -> bool:
    """The sentence speaks of what the assertion is about (for a place: where the action takes place)."""
    if assertion.slot != "place":
        return True
    # A sentence that says where names a place; a venue word alone ("installation du lieu") does not say where.
    return _places_named(sentence) > 0


# The two territories by code or by name (an action's record says "MEL" or "Valenciennes Métropole"), and
# as a sentence says them.
_SCOPES = {**{code: code for code in EPCI_NAMES}, **{name: code for code, name in EPCI_NAMES.items()}}
_SCOPE_LABELS = {code: ("la " if code == "MEL" else "") + name for code, name in EPCI_NAMES.items()}


def _territory_contradiction(assertion: Assertion, item: Item, title: str, text: str) -> str:
    """A place asserted for an action ("Fibr'&Co, c'est à Valenciennes ?") that its record's communes or
    territory contradict, as a sentence with what the action's lines say; "" when they do not contradict it."""
    action = item.record or item.action
    said = analyse(assertion.value)
    # "tous les jeunes de la métropole", "la MEL": the whole territory is asserted, no commune.
    whole = not said.communes and (assertion.value == WHOLE_METROPOLIS or (said.epci is not None and not said.places))
    if action is None or not (said.communes or said.places or whole):
        return ""
    evidence = next(
        (x for x in (action.public, action.territory_evidence) if x and len(x) > 12 and x in text),
        "",
    )
    quoted = f" : « {evidence} »" if evidence else ""
    if action.communes and ((said.communes and not set(said.communes) & set(action.communes)) or whole):
        where = ", ".join(action.communes)
        return f"**{title}** concerne {where}{quoted}" if evidence or all(c in text for c in action.communes) else ""
    scope = _SCOPES.get(action.territory_scope or "")
    outside = any(p.in_territory is False for p in said.places)
    if scope and evidence and (outside or (said.epci is not None and _SCOPES.get(said.epci) != scope)):
        return f"**{title}** est une action du territoire de {_SCOPE_LABELS[scope]}{quoted}"
    return ""


# Words that say where an action takes place (stemmed as the sentences are).
_PLACE_WORDS = _stems("lieu site salle CREPS centre se déroule se passe")


def _short_line(item: Item) -> str:
    """A piste in one line: its title (and acronym) and who runs it."""
    record = item.record
    title = record.title if record else (item.name or _title(item.doc))
    acronym = (record.acronym if record else None) or acronym_of(title, item.doc.page_content)
    porteur = record.porteur if record else _meta(item.doc, "porteur")
    return f"**{title}**" + (f" ({acronym})" if acronym and acronym not in title else "") + (f" — {porteur}" if porteur else "")


_FIGURES = ("count", "amount", "rate")


def _figures_compared(
    context: str, question: str, slot: str, items: list[Item], frequency: Callable[[str], float] | None
) -> list[tuple[str, int]]:
    """The sentences holding the figure asked (``slot``) in the top passages that write a rare word of the
    question, one per passage, at most three: the sides of a comparison the catalogue does not know ("Investir
    dans les jeunesses"). (The sentence need not repeat the name: "Ce projet … est soutenu à hauteur de …".)"""
    share = frequency or (lambda _stem: 0.0)
    rare = {w for w in _stems(question) if share(w) < 0.2 and not w.isdigit() and len(w) > 2}
    about = [i for i in items[:8] if rare & _stems(i.doc.page_content)]
    # A bare "combien chacun ?" counts nothing named: amounts, when two passages give one, are what is compared
    # ("qui a obtenu le plus ?"), before any number.
    for figure in [slot] if slot != "count" or counted_noun(question) else ["amount", "count"]:
        one_each: dict[int, str] = {}
        for sentence, n in _slot_sentences(context, question, figure, about, 6, False, everywhere=True):
            one_each.setdefault(n, sentence)
        if len(one_each) >= 2:
            return [(sentence, n) for n, sentence in one_each.items()][:3]
    return []


def _sides(intent: Intent, items: list[Item]) -> list[list[Item]]:
    """The passages of each action the question names, in the order it names them (one list per action
    that retrieval found)."""
    sides = []
    for entity in intent.entities:
        ids = {entity.action_id} if entity.action_id else set(entity.runs)
        side = [i for i in items if ids & set(i.meta.get("meta_action_ids") or ())]
        if side:
            sides.append(side)
    return sides


def _where(place: Place) -> str:
    """A place outside both territories as the answer names it: "Denain (CA de la Porte du Hainaut)",
    "Mouscron (Belgique)", "Pas-de-Calais"."""
    detail = place.epci or (place.region if place.kind in ("abroad", "pays") and place.region != place.name else None)
    return f"{place.name} ({detail})" if detail else place.name


# The roles a porteur question may name, as stems of the question and of the line that gives them.
# A line names who holds the role by its noun or a passive ("Coordination d'ATTA", "piloté par"), not by a verb
# of what the action does ("organiser un forum").
_ROLES = {
    "coordonn": r"coordination\b|coordinat(?:eur|rice)|coordonne(?:e|s)? par",
    "pilot": r"pilotage\b|pilote(?:e|s)? par",
    "anim": r"anime(?:e|s)? par|animat(?:eur|rice)",
    "organis": r"organise(?:e|s)? par|organisat(?:eur|rice)",
}


def _role_line(question: str, items: list[Item]) -> tuple[str, int] | None:
    """The first line of ``items`` naming the role the question asks of ("qui coordonne ?": a line with
    "Coordination"), with its citation number; None when the question names no role or no line gives it."""
    folded = fold_question(question)
    wanted = [pattern for stem, pattern in _ROLES.items() if stem in folded]
    for item in items:
        for line in item.doc.page_content.splitlines():
            if any(re.search(rf"\b(?:{p})", fold_question(line)) for p in wanted) and 8 <= len(line.strip()) <= 200:
                return _unmarked(" ".join(line.split())), item.n
    return None


_SECTION = re.compile(r"^\W*(?P<name>[A-Za-zÀ-ÿ' ]{2,20})\s*\?\s*$")


# The headings of a slide's section on who runs the action: "► Qui ?", "Qui intervient ?", "Qui porte ?".
_WHO_HEADS = frozenset({"qui", "qui intervient", "qui porte", "qui pilote", "qui anime", "qui coordonne"})


def _who_section(text: str, limit: int = 6) -> str:
    """The lines under a slide's "► Qui ?" heading, up to the next heading ("► Quoi ?"), joined; or ""."""
    lines = [line.strip() for line in text.split("\n")]
    start = next(
        (k for k, line in enumerate(lines) if (m := _SECTION.match(line)) and fold(m["name"]).strip() in _WHO_HEADS), None
    )
    if start is None:
        return ""
    taken: list[str] = []
    for line in lines[start + 1 :]:
        if _SECTION.match(line) or line.startswith("►"):
            break
        if line:
            taken.append(line.lstrip("-•► ").strip())
        if len(taken) == limit:
            break
    return _clip(" ; ".join(x for x in taken if x), 400)


def _conditional(item: Item) -> bool:
    """The person fits the action only if a condition holds (a reason "à vérifier : …")."""
    return any("à vérifier" in r for r in item.why.reasons)


def _asked_actions(intent: Intent, entity_items: list[Item], analysis: QueryAnalysis) -> list[Item]:
    """The actions a person's question names ("Booster, ça marche pour mon jeune de 27 ans ?"), one passage
    each, the one with a verdict on the person (then the card) first; [] when none is named."""
    # (A reading of "definition" with a person described, "et si elle habitait Valenciennes, ATTA la prendrait
    # en charge ?", asks the same.)
    if intent.kind not in ("person", "definition") or not analysis.has_person or analysis.lives_outside:
        return []
    ranked = sorted(
        (i for i in entity_items if _is_action(i)), key=lambda i: (i.verdict == "unknown", not _meta(i.doc, "porteur"))
    )
    return _one_per_action(ranked)[:2]


def _verdict_line(item: Item, analysis: QueryAnalysis, question: str, shown_contacts: set[str]) -> str:
    """Whether the named action is open to the person described, and why, from its eligibility verdict."""
    title = item.record.title if item.record else (item.name or _title(item.doc))
    if item.verdict == "excluded":
        public = _meta(item.doc, "public") or (item.record.public if item.record else None)
        if not (public and _grounded(public, item.doc, question)):
            public = _eligibility_sentence(item)
        said = f" Public : {public.rstrip('. ')}." if public else ""
        return f"**Non** : **{title}** ne convient pas à ce jeune ({_reason(item, question)}).{said} [{item.n}]"
    if item.verdict == "match":
        word = "Sous condition" if _conditional(item) else "Oui"
        return f"**{word}** : {_list_line(item, analysis, shown_contacts)}"
    return f"**À vérifier** : {_list_line(item, analysis, shown_contacts)}"


def _eligibility_sentence(item: Item) -> str:
    """The passage's sentence that says whom the action is for, when it has no public line: the one naming
    its communes ("résidant sur le Versant Nord-Est : … Roubaix, Wattrelos-Leers") or an age range; or ""."""
    action = item.record or item.action
    names = [re.compile(rf"\b{re.escape(fold_question(c))}\b") for c in (action.communes if action else ())]
    for sentence in _sentences(item.doc.page_content):
        if len(sentence) < 20 or _is_heading(sentence) or _PERSON_LINE.match(sentence):
            continue
        folded = fold_question(sentence)
        if any(p.search(folded) for p in names) or (not names and PUBLIC_AGE_RANGE.search(sentence)):
            return _clip(_readable(sentence.lstrip("-•► ").strip()), 300)
    return ""


def _porteur_of(item: Item, asked: list[Action]) -> tuple[str, str]:
    """Who runs the passage's action and its title: its own "Porteur" line, else the porteur of its catalogue
    action (or of an action the question names that the passage holds: a table row of several) when the
    cited lines write it ("AUTORITES RESPONSABLES : Région Hauts-de-France"); ("", "") when none is written."""
    ids = set(item.meta.get("meta_action_ids") or ())
    text = " ".join(item.doc.page_content.split())
    # The action the question names first: a part of a table row holds the porteurs of all its actions.
    for action in [*(a for a in asked if a.id in ids), *([item.action] if item.action else [])]:
        # (A porteur of several lines is recorded joined by " ; ": each of its parts is written.)
        if action.porteur and all(" ".join(part.split()) in text for part in action.porteur.split(" ; ")):
            return action.porteur, action.title
    own = _meta(item.doc, "porteur")
    if own:
        return str(own), _title(item.doc)
    return "", ""


def _subject(entity_items: list[Item], items: list[Item], intent: Intent) -> list[Item]:
    """The passages a slot of a named action is read from: the action's own, then the top ones that write its
    name; never a contact directory's page."""
    named = [i for i in items[:6] if i not in entity_items and _names(i.doc, intent)]
    return [i for i in entity_items + named if _not_directory(i)]


# A name as a question writes it: two or more words with a capital, joined by "de", "d'", "du", "des", "la",
# "le", "à" ("Nos Quartiers d'Été"), or a name between quotes.
_CAPITALISED_NAME = re.compile(
    r"«\s*([^»]{4,60}?)\s*»|\"([^\"]{4,60})\"|((?:[A-ZÀ-Ý][\w’'-]+)(?:\s+(?:(?:de|du|des|la|le|à|d['’])\s*)?[A-ZÀ-Ý][\w’'-]+)+)"
)


# Greetings and forms of address written with a capital ("Bonjour Madame"): no name of a subject.
_CIVILITIES = frozenset(
    {"bonjour", "bonsoir", "salut", "hello", "madame", "monsieur", "mademoiselle", "mme", "merci", "cordialement", "dear"}
)


def _unknown_name(question: str, docs: list[Document]) -> str:
    """A name the question writes (two capitalised words or more, no place nor institution) of which no
    retrieved passage writes a single word; "" otherwise."""
    passages = " ".join(fold_question(d.page_content) for d in docs)
    for match in _CAPITALISED_NAME.finditer(question):
        name = next(g for g in match.groups() if g).strip()
        said = analyse(name)
        words = [w for w in (fold_question(w) for w in re.findall(r"[^\W\d_]{3,}", name)) if w not in _CIVILITIES]
        if said.communes or said.places or said.epci or len(words) < 2:
            continue
        if not any(re.search(rf"\b{re.escape(w)}", passages) for w in words):
            return name
    return ""


# A proper name as written: capitalised words, linked by "de", "d'", "des", "du", "en", "aux", "la", "le", "et".
_WRITTEN_NAME = re.compile(
    r"[A-ZÀ-Ý][\w’'-]*(?:\s+(?:(?:de|des|du|en|aux|la|le|et)\s+|d[’'])?[A-ZÀ-Ý][\w’'-]*)*(?:\s*\([A-Za-zÀ-ÿ]+\))?"
)


def _named_otherwise(question: str, entity: EntityMatch, docs: list[Document]) -> bool:
    """``entity`` matched in part (``score`` < 1) inside a longer name of the question that a passage writes
    word for word and the entity's name does not: the question names that other thing."""
    if entity.score >= 1.0 or not entity.surface:
        return False
    passages: list[str] = []
    for match in _WRITTEN_NAME.finditer(question):
        written = match.group(0)
        if entity.surface not in written or len(written.split()) <= len(entity.surface.split()):
            continue
        longer = fold_question(written)
        if longer in fold_question(entity.name):
            continue
        # (The passage's text, or its document's title: a deck's title page names the programme.) Folded once.
        passages = passages or [fold_question(f"{d.page_content} {_meta(d, 'document') or ''}") for d in docs]
        if any(longer in x for x in passages):
            return True
    return False


def _heard_only(item: Item) -> bool:
    """A part of an action or a row that retrieval added to be heard (index.hybrid.with_row_parts), which the
    question does not name: no piste, nothing to rule out."""
    return item.why.part and not item.why.mention


def _top(items: list[Item]) -> list[Item]:
    """The passages a value is read from when no action is named: the top six, and the other parts of the top
    one's action that retrieval brought (index.hybrid: a slide's figure in its next chunk)."""
    return items[:6] + [i for i in items[6:] if i.why.part and _same_action(i, items[0])]


def _not_directory(item: Item) -> bool:
    """A contact directory's page names actions ("Actions concernées : …") but states none of their facts."""
    return item.meta.get("kind") != "directory"


def _one_per_action(items: list[Item]) -> list[Item]:
    """``items`` with one passage per catalogue action (the first), passages of no action kept."""
    return [i for k, i in enumerate(items) if not any(_same_action(i, j) for j in items[:k])]


def _same_action(a: Item, b: Item) -> bool:
    return a.action is not None and b.action is not None and a.action.id == b.action.id


def _once(items: list[Item]) -> list[Item]:
    """``items`` without their repeats (the same passage), each at its first place."""
    kept: list[Item] = []
    for item in items:
        if not any(item is k for k in kept):
            kept.append(item)
    return kept


def _local(item: Item) -> bool:
    """The action is one of the person's commune (it names it), not one of the whole territory."""
    return any("commune de l'action" in r for r in item.why.reasons)


def _is_action(item: Item) -> bool:
    """The passage presents an action of the catalogue (a card, a slide, a measure a row or an item names)."""
    if item.meta.get("kind") == "directory":
        return False
    return bool(item.meta.get("meta_action_ids")) or item.meta.get("kind") in ("action_card", "action", "action_part")


def _renumbered(lines: list[str], used: list[Item]) -> tuple[list[str], list[Item], dict[int, int]]:
    """Citations numbered 1..n in the order the answer first uses them (retrieval ranks are no reader's
    business), the used passages in that order, and the new number of each old one."""
    order: dict[int, int] = {}
    for line in lines:
        for match in MARKER.finditer(line):
            order.setdefault(int(match.group(1)), len(order) + 1)
    by_n = {i.n: i for i in used}
    for item in used:  # a passage used without a marker (none today) keeps a number after the others
        order.setdefault(item.n, len(order) + 1)
    renumber = lambda text: MARKER.sub(lambda m: f"[{order.get(int(m.group(1)), int(m.group(1)))}]", text)  # noqa: E731
    items = [Item(order[n], by_n[n].doc, by_n[n].record, by_n[n].name) for n in sorted(by_n, key=lambda n: order[n])]
    return [renumber(line) for line in lines], items, order


def _publics(items: list[Item], question: str, parts: list[Item] | None = None) -> list[str]:
    """ "**Title** : public (or ages) [n]" for the passages that state whom they are for (ages only when
    the cited passage writes them: a part of an action may carry the action's ages in its metadata). A
    passage that states neither gives way to another of ``parts`` of the same action that does ("Jeunes
    âgés entre 16 et 25 ans…" on ATTA's next slide)."""
    lines = []
    for first in items:
        candidates = [first, *(j for j in parts or () if j is not first and _same_action(j, first))]
        item = next((j for j in candidates if _meta(j.doc, "public") or _eligibility_sentence(j)), first)
        ages = _ages(item.doc)
        public = (
            _meta(item.doc, "public")
            or (ages if ages and _grounded(ages, item.doc, question) else "")
            or (_eligibility_sentence(item) if item is not first else "")
        )
        bounds = [str(v) for v in (_meta(item.doc, "age_min"), _meta(item.doc, "age_max")) if v is not None]
        if public and ages and not all(re.search(rf"\b{b}\b", public) for b in bounds) and _grounded(ages, item.doc, question):
            # "Pour les décrocheurs scolaires ayant quitté l'école après 16 ans" under a title "… DES 16 - 17
            # ANS": the ages the passage writes elsewhere say the range the public line does not.
            public = f"{public.rstrip('. ')} ({ages})"
        if public:
            # Who runs it beside whom it is for ("KAPS — AFEV : pour les étudiants"): a counsellor sending someone
            # needs both; only as the cited passage writes it.
            porteur = (item.record.porteur if item.record else None) or _meta(item.doc, "porteur")
            runs = f" — {porteur}" if porteur and porteur in " ".join(item.doc.page_content.split()) else ""
            lines.append(f"**{_title(item.doc)}**{runs} : {public.rstrip('. ')} [{item.n}]")
    return lines


def _entity_names(intent: Intent) -> list[str]:
    """The names of the entities the question names, each with its short form ("PAQTE" for
    "PAQTE (Pacte Avec les Quartiers…)") and the words the question used for it."""
    names: list[str] = []
    for entity in intent.entities:
        for name in (entity.name, entity.name.split(" (")[0], entity.surface):
            if name and len(name) >= 3 and name not in names:
                names.append(name)
    return names


def _name_pattern(names: list[str]) -> re.Pattern[str] | None:
    folded = sorted({fold_question(n) for n in names if fold_question(n)}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in folded) + r")\b") if folded else None


def _expands(item: Item, names: list[str]) -> bool:
    """The passage spells the name out ("PAQTE (Pacte Avec les Quartiers…)"): where it is defined."""
    short = [n for n in names if n.isupper() and " " not in n]
    return any(re.search(rf"\b{re.escape(n)}\s*\(", item.doc.page_content) for n in short)


def _naming_sentences(item: Item, names: list[str], most: int = 6, limit: int = 700) -> list[str]:
    """The passage from its first sentence naming the entity on (at most ``most`` sentences and ``limit``
    characters, up to the next heading), when the passage is titled otherwise: what a plan's paragraph
    says of a measure it names in passing. A passage titled with the name (a card) gives [] (its card
    line presents it)."""
    pattern = _name_pattern(names)
    if pattern is None or pattern.search(fold_question(_title(item.doc))):
        return []
    sentences = _sentences(item.doc.page_content)
    first = next((k for k, x in enumerate(sentences) if pattern.search(fold_question(x))), None)
    if first is None:
        return []
    chosen: list[str] = []
    for sentence in sentences[first:]:
        if (chosen and _is_heading(sentence)) or len(chosen) >= most or sum(map(len, chosen)) + len(sentence) > limit:
            break
        chosen.append(sentence.strip())
    return chosen


def _compared(question: str, intent: Intent, items: list[Item], named: list[Item]) -> list[Item]:
    """One passage per action a comparison names, in the question's order, the one holding its card (the whole
    action, else its public or a contact) first: a slide's title page says nothing to compare."""
    folded = fold_question(question)
    written = sorted(intent.entities, key=lambda e: folded.find(fold_question(e.surface)) % (len(folded) + 1))
    sides = _sides(replace(intent, entities=tuple(written)), items)
    if len(sides) < 2:
        return _named_actions(named)

    def presents(i: Item) -> bool:  # the part that says what the action is (its summary) or for whom
        said = [x for x in (i.action.summary, i.action.age_evidence) if x] if i.action else []
        return any(" ".join(x.split()) in " ".join(i.doc.page_content.split()) for x in said)

    return [
        min(
            side,
            key=lambda i: (
                i.record is None,
                not presents(i),
                not (i.meta.get("meta_public") or has_contact(i.doc)),
                items.index(i),
            ),
        )
        for side in sides
    ]


def _named_actions(named: list[Item]) -> list[Item]:
    """The best passage of each action the question names, in retrieval order."""
    seen: dict[str, Item] = {}
    for item in named:
        seen.setdefault(str(item.why.mention or item.meta.get("meta_action_id") or item.n), item)
    return list(seen.values())


_ACRONYM = re.compile(r"[A-Z][A-Z0-9'’&.-]+")


def _names(doc: Document, intent: Intent) -> bool:
    """True when the passage writes what the question named an action by ("CLAP": a directory's "Action
    concernée : CLAP Métropolitains" line)."""
    text = fold_question(doc.page_content)
    # Between word boundaries, whatever punctuation follows ("Accroche active! Pour une jeunesse…").
    # An acronym is written in capitals: "FACE" names the foundation, "faire face" does not.
    return any(
        e.surface
        and re.search(rf"(?<!\w){re.escape(fold_question(e.surface).strip())}(?!\w)", text)
        and (
            not _ACRONYM.fullmatch(e.surface.strip())
            or re.search(rf"(?<!\w){re.escape(e.surface.strip())}(?!\w)", doc.page_content)
        )
        for e in intent.entities
    )


def _person_key(person: Contact) -> str:
    """Who a contact is, whichever passage lists it: the first e-mail, else the folded name."""
    return person.emails[0].lower() if person.emails else fold(person.name or "")


# The contact slots (index.intent) a person may lack, as a refusal names them.
_CONTACT_ASKED = {"phone": SLOT_LABEL["phone"], "email": SLOT_LABEL["email"], "place": "d'adresse postale"}


def _contact_given(slot: str, chosen: list[tuple[Item, list[Contact], bool]]) -> bool:
    """The people shown have what ``slot`` asks for; a postal address is no field of a Contact: their
    passages must write one."""
    if slot == "place":
        return any(_ADDRESS.search(item.doc.page_content) for item, _, _ in chosen)
    return any(p.phones if slot == "phone" else p.emails for _, people, _ in chosen for p in people)


# A postal address as the documents write one: "12 rue …", "5, place …", "BP 123", "59000 Lille".
_ADDRESS = re.compile(
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|route|square|parvis)\b"
    r"|\bBP\s?\d+|\b59\d{3}\s+[A-Z]",
    re.IGNORECASE,
)


def _contact_person(question: str, doc: Document, places: tuple[str, ...] = ()) -> str:
    """The one person (or organisation) of the passage the question is about, formatted, or "" (tie or none).

    Each contact is scored on its own words (name, role, organisation) and on the lines that write its
    name, e-mail or phone ("Pour le Nord : M. …"); what is shown is the contact as ingest grouped it,
    never a line that runs into the next person's details.
    """
    scored = _people_scored(question, doc, places)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return ""
    return format_contact(scored[0][1])


def _person_words(doc: Document, people: list[Contact], title: str = "") -> list[frozenset[str]]:
    """The stems each person's name, role, organisation and lines write (``title``: the action whose contacts
    they are)."""
    lines = doc.page_content.split("\n")
    starts = sorted({p.line for p in people if p.line})
    # A line that names a person is theirs: a nameless list of the same addresses ("mailto:a mailto:b") does
    # not also fit the words of every named person's line ("Pour le Nord : M. A – a@…").
    named_lines = {n for person in people if person.name for n, line in enumerate(lines) if person.name in line}
    words_of = []
    for person in people:
        keys = [k for k in (person.name, *person.emails, *person.phones) if k]
        written = " ".join(
            line for n, line in enumerate(lines) if any(k in line for k in keys) and (person.name or n not in named_lines)
        )
        if person.line and doc.metadata.get("kind") == "directory":
            # In a directory, the person's block, up to the next person's heading: "Action concernée : CLAP
            # Métropolitains" says which action this person answers for. (On a card, every person answers
            # for the card's action.)
            end = next((s - 2 for s in starts if s > person.line), len(lines))
            written += " " + " ".join(lines[person.line - 1 : max(end, person.line)])
        words_of.append(
            _stems(" ".join(filter(None, (person.name, person.role, person.organisation, person.text, written, title))))
        )
    return words_of


def _people_scored(question: str, doc: Document, places: tuple[str, ...] = (), title: str = "") -> list[tuple[float, Contact]]:
    """The passage's people with the number of the question's words each one's name, role, organisation
    and lines write, best first. A commune the question names (``places``) counts twice: "le référent de
    Roubaix" is first of all someone in Roubaix. ``title``: the action whose contacts the passage's people
    are (the card of the action the question names)."""
    wanted = {w for w in _stems(question) if w not in _CONTACT_WORDS}
    where = _stems(" ".join(places)) & wanted
    people = _people(doc)
    words_of = _person_words(doc, people, title)
    # The number of the question's words a person fits; between people fitting as many, a word every
    # person of a directory shares ("CLAP", "Mission locale") tells them apart less than the one only
    # two share ("Roubaix"): each word then weighs 1 / the number of people it fits (a fraction below 1).
    shared = Counter(w for words in words_of for w in words & wanted)
    scored = []
    for person, words in zip(people, words_of, strict=True):
        fits = words & wanted
        scored.append((len(fits) + len(fits & where) + sum(1 / shared[w] for w in fits) / (len(fits) + 1), person))
    scored.sort(key=lambda pair: -pair[0])
    return scored


def _refusal(statement: str, leads: list[Item], detail: Callable[[Item], str] | None = None) -> tuple[list[str], list[Item]]:
    """What the documents do not state, then the two closest passages as leads (with a detail each)."""
    shown = leads[:2]
    lines = [statement, "Passages les plus proches :"]
    lines += [f"- **{_title(i.doc)}**" + (f" : {said}" if detail and (said := detail(i)) else "") + f" [{i.n}]" for i in shown]
    return lines, shown


def _reason(item: Item, question: str) -> str:
    reasons = _grounded_reasons(item, question)
    return reasons[0] if reasons else "hors des critères d'âge ou de territoire"


def _source_label(doc: Document, citation: Citation) -> str:
    document = _meta(doc, "document") or citation.source
    where = f"p. {citation.page}" if citation.page else f"lignes {citation.line_start}–{citation.line_end}"
    return f"{document}, {where}"
