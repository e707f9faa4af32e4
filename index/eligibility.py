"""Eligibility of an action for the person in a question, from the chunk's metadata (pure).

Each criterion the question gives (age, commune, QPV, a public of girls or of boys only) is checked against what the chunk states:

- ``match``: the chunk states it and the person fits (an age within "16-25 ans"; a commune the action
  names, or any commune of the EPCI for a metropolitan-wide action);
- ``excluded``: the chunk states it and the person does not fit (17 for "18-25 ans"; Loos for an
  action for Lille only; a MEL commune for a Valenciennes Métropole action; a young person of Denain,
  outside both territories, for an action of the MEL or of some of its communes) — the reason is recorded;
- ``unknown``: the chunk states nothing on it;
- a condition the question does not settle ("pour les territoires hors QPV" when the question says
  nothing of a QPV) leaves the verdict as it is and adds a reason: "à vérifier : …".

The verdict is ``excluded`` if any criterion excludes, ``match`` if at least one matches and none
excludes, ``unknown`` otherwise. A conditional extension ("jusqu'à 30 ans si … handicapé") admits the
person with a reason that names the condition.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from index.query import QueryAnalysis
from ingest.gazetteer import EPCI_NAMES, Gazetteer, load_gazetteer
from ingest.text import fold_words

MATCH, UNKNOWN, EXCLUDED = "match", "unknown", "excluded"
# The reason of an action that covers the whole territory of the person's commune: it fits anyone there
# (assistant.compose reads it to tell a plan's measure from an action for a public).
WHOLE_TERRITORY = "action sur tout le territoire"
# The reason of a passage of a document about the other territory (no action's own territory): the least
# telling way to be ruled out.
OTHER_DOCUMENT = "hors du territoire du document"
CHECK = "check"  # a criterion the question does not settle: its reason says what to check
_EPCI_OF_SCOPE = {"MEL": "MEL", "Valenciennes Métropole": "CAVM"}


@dataclass(frozen=True)
class Verdict:
    """Eligibility of one chunk for one question, with the reason of each criterion (French)."""

    status: str
    matched: int = 0
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        """The verdict ``to_json`` wrote; ``matched`` is not written (it only weighs the score), so it reads 0."""
        return cls(str(data.get("status") or UNKNOWN), 0, tuple(data.get("reasons") or ()))


def _age_verdict(meta: dict[str, Any], q: QueryAnalysis) -> tuple[str, str] | None:
    low, high, extended = meta.get("age_min"), meta.get("age_max"), meta.get("age_max_extended")
    if low is None and high is None:
        return None
    # As the documents say it: "16 à 25 ans", "18 ans et plus", "25 ans au plus".
    stated = (
        f"{low} à {high} ans"
        if low is not None and high is not None
        else f"{low} ans et plus"
        if low is not None
        else f"{high} ans au plus"
    )
    if q.age is not None:
        if low is not None and q.age < low:
            return EXCLUDED, f"{q.age} ans : l'action est pour les {stated}"
        if high is not None and q.age > high:
            if extended is not None and q.age <= extended:
                condition = meta.get("age_condition") or "sous condition"
                if "handicap" in q.situations and "handicap" in fold_words(condition):
                    return MATCH, f"{q.age} ans : admis jusqu'à {extended} ans {condition}"
                # The question does not say the condition holds: a piste to check, not a firm one.
                return MATCH, f"à vérifier : {q.age} ans, admis jusqu'à {extended} ans seulement {condition}"
            return EXCLUDED, f"{q.age} ans : l'action est pour les {stated}"
        return MATCH, f"{q.age} ans : dans la tranche {stated}"
    # A range from the question ("mineur" = up to 17): excluded only when the ranges cannot meet.
    if q.age_max is not None and low is not None and low > q.age_max:
        return EXCLUDED, f"jusqu'à {q.age_max} ans : l'action est pour les {stated}"
    if q.age_min is not None and high is not None and high < q.age_min and (extended is None or extended < q.age_min):
        return EXCLUDED, f"à partir de {q.age_min} ans : l'action est pour les {stated}"
    if q.age_min is not None or q.age_max is not None:
        return MATCH, f"tranche compatible avec {stated}"
    return None


def _place_verdict(
    meta: dict[str, Any], q: QueryAnalysis, gazetteer: Gazetteer, home_outside: str | None
) -> tuple[str, str] | None:
    """``home_outside``: where the young person lives when outside both territories (``QueryAnalysis.outside``)."""
    scope = meta.get("territory_scope")
    if home_outside is not None:
        return _outside_verdict(meta, home_outside)
    if not q.communes:
        return _territory_verdict(meta, q.epci) if q.epci else None
    if scope is None:
        # No territory stated: the document's EPCI still rules out communes of the other one.
        epci = meta.get("epci")
        outside = [c for c in q.communes if gazetteer.epci_of(c) not in (None, epci)]
        if epci and len(outside) == len(q.communes):
            return EXCLUDED, f"{outside[0]} : {OTHER_DOCUMENT} ({EPCI_NAMES.get(epci, epci)})"
        return None
    served = set(meta.get("communes") or [])
    # A commune associée (Lomme, Hellemmes) is served by an action of its commune (Lille).
    for name in list(served):
        served |= _associated(gazetteer).get(name, set())
    if scope in _EPCI_OF_SCOPE:
        epci = _EPCI_OF_SCOPE[scope]
        inside = [c for c in q.communes if gazetteer.epci_of(c) == epci]
        if inside:
            return MATCH, f"{inside[0]} : {WHOLE_TERRITORY} ({scope})"
        return EXCLUDED, f"{q.communes[0]} : hors du territoire de l'action ({scope})"
    hit = [c for c in q.communes if c in served]
    if hit:
        return MATCH, f"{hit[0]} : commune de l'action"
    return EXCLUDED, f"{q.communes[0]} : l'action concerne {', '.join(sorted(served)) or 'd’autres communes'}"


def _outside_verdict(meta: dict[str, Any], place: str) -> tuple[str, str] | None:
    """A young person living outside both territories ("Denain", "dans le Var"): an action of the MEL or
    of Valenciennes Métropole, of some of their communes, or a passage of a document about one of them
    does not serve them; an action that states no territory leaves the place unsettled (as for a commune
    of the territories, the communes a passage names without a ``territory_scope`` are not its territory)."""
    if meta.get("territory_scope") or meta.get("epci"):
        return EXCLUDED, f"{place} : hors MEL et Valenciennes Métropole"
    return None


def _territory_verdict(meta: dict[str, Any], epci: str) -> tuple[str, str] | None:
    """A territory without a commune ("à Valenciennes Métropole", the filters panel): the action's
    metropolitan scope or its document's EPCI settles it; communes of an action are not checked here."""
    name = EPCI_NAMES.get(epci, epci)
    scope_epci = _EPCI_OF_SCOPE.get(meta.get("territory_scope") or "")
    if scope_epci is not None:
        return (
            (MATCH, f"{name} : {WHOLE_TERRITORY}")
            if scope_epci == epci
            else (EXCLUDED, f"{name} : hors du territoire de l'action")
        )
    if meta.get("epci") and meta["epci"] != epci:
        return EXCLUDED, f"{name} : {OTHER_DOCUMENT} ({EPCI_NAMES.get(meta['epci'], meta['epci'])})"
    return None


_ASSOCIATED: weakref.WeakKeyDictionary[Gazetteer, dict[str, set[str]]] = weakref.WeakKeyDictionary()


def _associated(gazetteer: Gazetteer) -> dict[str, set[str]]:
    """Commune -> its communes associées, computed once per gazetteer."""
    table = _ASSOCIATED.get(gazetteer)
    if table is None:
        table = {}
        for c in gazetteer.communes:
            if c.associated_with:
                table.setdefault(c.associated_with, set()).add(c.name)
        _ASSOCIATED[gazetteer] = table
    return table


def _qpv_verdict(meta: dict[str, Any], q: QueryAnalysis) -> tuple[str, str] | None:
    # "qpv_excluded": the public lives outside priority neighbourhoods ("pour les territoires hors QPV").
    if meta.get("qpv_excluded"):
        if q.qpv:
            return EXCLUDED, "quartier prioritaire : l'action est pour les jeunes hors QPV"
        if q.qpv is False:
            return MATCH, "hors QPV : l'action est pour les jeunes hors QPV"
        return CHECK, "à vérifier : seulement si le jeune n'habite pas un QPV"
    # "qpv" on a chunk means it mentions priority neighbourhoods; only a positive match is informative.
    if q.qpv and meta.get("qpv"):
        return MATCH, "quartier prioritaire : l'action vise les QPV"
    return None


def _gender_verdict(meta: dict[str, Any], q: QueryAnalysis) -> tuple[str, str] | None:
    """An action whose public line is for girls only ("Pour les jeunes filles …": ``gender`` "f") and a boy
    described ("un garçon de 15 ans"), or the reverse. "garçon" written wins over a "fille" read elsewhere
    (an action's name: "Wi-Filles")."""
    gender = meta.get("gender")
    person = "m" if "garcon" in q.situations else "f" if "fille" in q.situations else None
    if gender is None or person is None:
        return None
    public = "les jeunes filles" if gender == "f" else "les garçons"
    if person == gender:
        return MATCH, f"{'jeune fille' if person == 'f' else 'garçon'} : l'action est pour {public}"
    return EXCLUDED, f"{'garçon' if person == 'm' else 'jeune fille'} : l'action est pour {public}"


def eligibility(meta: dict[str, Any], q: QueryAnalysis, gazetteer: Gazetteer | None = None) -> Verdict:
    """The verdict of a chunk (its metadata) for the person of ``q``."""
    return judge(q, gazetteer)(meta)


def judge(q: QueryAnalysis, gazetteer: Gazetteer | None = None) -> Callable[[dict[str, Any]], Verdict]:
    """``eligibility`` for the person of ``q``, as a function of a chunk's metadata: what it reads of the question
    (whether it gives criteria, a home outside both territories) is read once for the hundred passages that
    retrieval re-scores (``index.hybrid.rescore``), where reading it for each was most of the verdicts' time."""
    if not q.has_criteria:
        return lambda meta: Verdict(UNKNOWN)
    home_outside = q.outside[0].name if q.lives_outside else None
    return partial(_verdict, q=q, gazetteer=gazetteer or load_gazetteer(), home_outside=home_outside)


def _verdict(meta: dict[str, Any], q: QueryAnalysis, gazetteer: Gazetteer, home_outside: str | None) -> Verdict:
    checks = (
        _age_verdict(meta, q),
        _place_verdict(meta, q, gazetteer, home_outside),
        _qpv_verdict(meta, q),
        _gender_verdict(meta, q),
    )
    results = [r for r in checks if r]
    reasons = tuple(reason for _, reason in results)
    if any(status == EXCLUDED for status, _ in results):
        return Verdict(EXCLUDED, 0, tuple(r for s, r in results if s == EXCLUDED))
    matched = sum(status == MATCH for status, _ in results)
    # An age within a narrow range ("25 à 29 ans", "16-17 ans") is a fit made for this age, not one among the
    # ages of a broad public ("13 à 30 ans"): it counts twice in the score.
    low, high = meta.get("age_min"), meta.get("age_max")
    if q.age is not None and low is not None and high is not None and high - low <= _NARROW and low <= q.age <= high:
        matched += 1
    return Verdict(MATCH if matched else UNKNOWN, matched, reasons)


_NARROW = 5  # years: "16 à 21 ans" is narrow, "16 à 25 ans" is the common public of youth insertion
