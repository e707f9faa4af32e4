"""The person filters a counsellor sets beside the question (the chat's panel, the API's ``filters``)."""

from __future__ import annotations

from index.query import Filters, QueryAnalysis, with_filters

# The territory choices of the chat's panel: (label, value of ``Filters.territory``).
TERRITORIES = [("Tous", ""), ("MEL", "MEL"), ("Valenciennes Métropole", "CAVM")]


def make_filters(commune: str | None, age: float | None, territory: str | None) -> Filters | None:
    """The filters panel (or the API's ``filters``) as ``Filters``; None when all are empty.

    Raises ValueError with a French message on an unknown commune, an age outside 10–99 or another
    territory: checked here, before any search, with the same rule the chain applies.
    """
    if age is not None and age != int(age):
        raise ValueError(f"âge {age} invalide dans les filtres : indiquez un nombre entier d'années.")
    filters = Filters(
        commune=(commune or "").strip() or None,
        age=None if age is None else int(age),
        territory=(territory or "").strip() or None,
    )
    if filters.empty:
        return None
    with_filters(QueryAnalysis(text=""), filters)  # an empty question: the commune is looked up, or refused
    return filters
