"""Metadata counsellors filter on, extracted from each chunk's text (never typed in).

The keys set here are fixed for every chunk (null when the text gives nothing), so the index and the
retrieval can rely on them:

    document, theme, porteur, public, age_min, age_max, age_max_extended, age_condition,
    communes, territory_scope, territory_evidence, epci, qpv, qpv_excluded, contacts, places
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

from ingest.contacts import extract_people
from ingest.gazetteer import Gazetteer, load_gazetteer
from ingest.metadata import (
    eligibility_statements,
    excludes_qpv,
    extract_age_range,
    extract_contacts,
    extract_porteur,
    extract_public,
    public_gender,
    territory,
)

# The keys eligibility reads (index/eligibility.py): whom an action is for, where, on what condition.
ELIGIBILITY_KEYS = (
    "age_min",
    "age_max",
    "age_max_extended",
    "age_condition",
    "communes",
    "territory_scope",
    "territory_evidence",
    "qpv_excluded",
    "gender",
)
# Every key of a chunk's metadata (``chunk_metadata``), as `reperes chunks` prints them.
METADATA_KEYS = ("document", "theme", "porteur", "public", *ELIGIBILITY_KEYS, "epci", "qpv", "contacts", "people", "places")
# Set by ``ingest.chunking.with_actions``: the catalogue action a chunk belongs to (None when it is part
# of none, or of several: then ``action_ids`` lists them).
ACTION_KEYS = ("action_id", "action_ids")


def document_epci(text: str, gazetteer: Gazetteer | None = None) -> str | None:
    """The EPCI a document is about: the one whose communes and names it mentions most (MEL or CAVM).

    Returns None when neither clearly dominates (a text about both, like the PIA notice).
    """
    if gazetteer is None or gazetteer is load_gazetteer():
        return _packaged_document_epci(text)
    return _document_epci(text, gazetteer)


# The catalogue and the chunker both ask for each document's EPCI: a document's whole text is scanned once.
# Keyed on the text alone, so only for the packaged gazetteer (itself built once from package data).
@lru_cache(maxsize=16)
def _packaged_document_epci(text: str) -> str | None:
    return _document_epci(text, load_gazetteer())


def _document_epci(text: str, gazetteer: Gazetteer) -> str | None:
    # One pass for both votes: ``find``'s communes (each once) and ``scopes``' phrases (each once).
    mentions = gazetteer.mentions(text)
    votes = Counter(c.epci for c in dict.fromkeys(m.commune for m in mentions if m.commune is not None))
    votes.update(list(dict.fromkeys(m.scope for m in mentions if m.scope is not None)))  # a list: a dict would be counts
    if not votes:
        return None
    (first, n), *rest = votes.most_common(2)
    second = rest[0][1] if rest else 0
    return first if n >= 2 * second + 2 else None


CONTACTS_HEADING = "Contacts :"  # ingest.chunking puts a card's contact block under this line


def contact_part(text: str) -> list[str]:
    """The lines to read people from: a card chunk's contact block, else the whole chunk."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip() == CONTACTS_HEADING), None)
    return lines if start is None else lines[start + 1 :]


def chunk_metadata(
    text: str,
    *,
    document: str,
    epci: str | None,
    theme: str | None = None,
    public: str | None = None,
    porteur_line: str | None = None,
    territory_text: str | None = None,
    highlights: tuple[str, ...] = (),
    gazetteer: Gazetteer | None = None,
) -> dict[str, Any]:
    """Metadata of one chunk.

    Args:
        text: the chunk's (repaired) text; public, porteur, ages and contacts are read from it when
            the structure did not already isolate them.
        document: readable title of the source document.
        epci: the document's EPCI ("MEL", "CAVM" or None): what "métropolitain" means there.
        public, porteur_line, territory_text: parts isolated by the segmenter (action cards).
        highlights: communes highlighted on a map: territory evidence of last resort.
    """
    gazetteer = gazetteer or load_gazetteer()
    public = public or extract_public(text)
    porteur = extract_porteur(porteur_line or text)
    # Ages only from the sentences that say who may take part, never from statistics or definitions.
    ages = extract_age_range("\n".join(eligibility_statements(text.split("\n"))), public)
    place = territory(territory_text if territory_text is not None else text, public, porteur, gazetteer, metropole=epci)
    communes, scope, evidence = list(place.communes), place.scope, place.evidence
    if scope is None and highlights:
        # Last resort (docs/data-quality.md §2.2): the communes highlighted on the card's map.
        communes = [c.name for h in highlights for c in gazetteer.find(h)]
        scope = ("commune" if len(communes) == 1 else "several") if communes else None
        evidence = "map" if communes else None
    contacts = extract_contacts(text, gazetteer)
    return {
        "document": document,
        "theme": theme,
        "porteur": porteur,
        "public": public,
        "age_min": ages.age_min,
        "age_max": ages.age_max,
        "age_max_extended": ages.age_max_extended,
        "age_condition": ages.extension_condition,
        "communes": list(dict.fromkeys(communes)),
        "territory_scope": scope,
        "territory_evidence": evidence,
        "epci": epci,
        "qpv": place.qpv,
        "qpv_excluded": excludes_qpv(text),  # "pour les territoires hors QPV": what to check
        "gender": public_gender(public),  # "Pour les jeunes filles …": "f"
        # Every commune the passage names, in order (not only those it is for): "collège Jules Ferry
        # d'Anzin" makes a passage local to Anzin, which retrieval favours for a young person there.
        "places": list(dict.fromkeys(c.name for c in gazetteer.find(text))),
        # People and organisations as the text groups them (ingest.contacts): an e-mail or a phone is a
        # person's only when the text puts them together; answers show contacts from here.
        "people": [person.to_json() for person in extract_people(contact_part(text))],
        "contacts": {
            "emails": list(contacts.emails),
            "phones": list(contacts.phones),
            "urls": list(contacts.urls),
            "handles": list(contacts.handles),
            "names": list(contacts.names),
        },
    }
