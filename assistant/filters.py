"""The person filters a counsellor sets beside the question (the chat's panel, the API's ``filters``)."""

from __future__ import annotations

from index.query import Filters, QueryAnalysis, with_filters

# The territory choices of the chat's panel: (label, value of ``Filters.territory``).
TERRITORIES = [("Tous", ""), ("MEL", "MEL"), ("Valenciennes Métropole", "CAVM")]


def parse_age(age: str | float | None) -> int | None:
    """An age as typed in a filter field ("17", " 17 ", 17.0) as an int; None when empty. Raises ValueError
    with a French message for anything else ("dix-sept", "17,5")."""
    if age is None or (isinstance(age, str) and not age.strip()):
        return None
    if isinstance(age, str):
        text = age.strip().removesuffix("ans").strip()
        if not text.isdigit():
            raise ValueError(
                f"âge « {age.strip()} » invalide dans les filtres : indiquez un nombre entier d'années, par exemple 17."
            )
        return int(text)
    if age != int(age):
        raise ValueError(f"âge {age} invalide dans les filtres : indiquez un nombre entier d'années.")
    return int(age)


def make_filters(commune: str | None, age: str | float | None, territory: str | None) -> Filters | None:
    """The filters panel (or the API's ``filters``) as ``Filters``; None when all are empty.

    Raises ValueError with a French message on an unknown commune, an age outside 10–99 or another
    territory: checked here, before any search, with the same rule the chain applies.
    """
    filters = Filters(
        commune=(commune or "").strip() or None,
        age=parse_age(age),
        territory=(territory or "").strip() or None,
    )
    if filters.empty:
        return None
    with_filters(QueryAnalysis(text=""), filters)  # an empty question: the commune is looked up, or refused
    return filters
