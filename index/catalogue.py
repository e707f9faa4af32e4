"""Browsing the action catalogue: filters by age, commune, theme, porteur and words (`reperes actions`, `/api/actions`).

An action is kept for an age or a commune unless its record rules the person out (the eligibility
verdict of ``index.eligibility``, as for answers): "match" first, then "unknown" (the record says
nothing on it: to check). Theme and words filter on the record's text fields, folded.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.eligibility import EXCLUDED, MATCH, Verdict, eligibility
from index.query import Filters, analyse, with_filters
from ingest.chunking import eligibility_of
from ingest.records import Action
from ingest.text import fold_words


@dataclass(frozen=True)
class ActionFilter:
    """What a counsellor browses the catalogue by; every field optional. Checked on construction."""

    age: int | None = None
    commune: str | None = None
    theme: str | None = None
    search: str | None = None
    porteur: str | None = None  # who runs the action: words of its porteur or partners ("Unis-Cité", "AFEV")

    def __post_init__(self) -> None:
        if self.age is not None and not 5 <= self.age <= 99:
            raise ValueError(f"âge {self.age} invalide : donnez un âge entre 5 et 99 ans.")


@dataclass(frozen=True)
class Listed:
    """One action of a filtered list, with its verdict for the age and commune asked (None without)."""

    action: Action
    verdict: Verdict | None = None


def _words(action: Action) -> str:
    contacts = " ".join(" ".join(filter(None, (c.name, c.organisation, c.role))) for c in action.contacts)
    parts = (action.title, action.acronym, action.porteur, action.public, action.summary, action.section, contacts)
    return fold_words(" ".join(p for p in parts if p))


def _has_theme(action: Action, theme: str) -> bool:
    wanted = fold_words(theme)
    keys = {fold_words(k) for k in (*action.themes, *action.situations)}
    return wanted in keys or any(wanted in k for k in keys) or wanted in fold_words(action.section or "")


def filter_actions(actions: list[Action], query: ActionFilter) -> list[Listed]:
    """The actions ``query`` keeps: the ones that fit first, then the ones to check, each in catalogue order.

    Raises ValueError (French message) for a commune no gazetteer knows.
    """
    person = None
    if query.age is not None or query.commune:
        person = with_filters(analyse(""), Filters(commune=query.commune, age=query.age))
    words = fold_words(query.search).split() if query.search else []
    porteur = fold_words(query.porteur).split() if query.porteur else []
    kept: list[Listed] = []
    for action in actions:
        if query.theme and not _has_theme(action, query.theme):
            continue
        if porteur and not all(w in fold_words(" ".join(filter(None, (action.porteur, *action.partners)))) for w in porteur):
            continue
        if words:
            text = _words(action)
            if not all(w in text for w in words):
                continue
        verdict = eligibility(eligibility_of(action), person) if person is not None else None
        if verdict is not None and verdict.status == EXCLUDED:
            continue
        kept.append(Listed(action, verdict))
    kept.sort(key=lambda item: 0 if item.verdict is None or item.verdict.status == MATCH else 1)
    return kept
