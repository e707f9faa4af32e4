"""The quartiers table, ``ingest/data/quartiers.tsv``, read once: its rows as ``Quartier`` records.

Each quartier has a name, other names, its commune (an official name of ``communes.tsv``), whether it
is a QPV (``True``, ``False`` or ``None`` when the sources do not say) and how a question may name it
(``match``, see ``ingest.quartiers``). This module only reads the table: ``ingest.france`` needs the
names (``blocking_forms``) and ``ingest.quartiers`` matches them in texts, on top of ``ingest.france``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ingest.tsv import data_rows

MATCH_MODES = ("auto", "cased", "quartier")
QPV_VALUES = {"yes": True, "no": False, "unknown": None}


@dataclass(frozen=True)
class Quartier:
    """A quartier of a commune of the MEL or of Valenciennes Métropole."""

    name: str
    commune: str  # official name, as in communes.tsv
    variants: tuple[str, ...] = ()
    qpv: bool | None = None  # a QPV (or an NPNRU site) per the source; None: not known
    match: str = "auto"  # "auto", "cased" or "quartier" (ingest.quartiers' docstring)
    source: str = ""
    note: str = ""

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.name, *self.variants)


def parse_quartiers(text: str) -> list[Quartier]:
    """Parse ``quartiers.tsv`` (name, variants, commune, qpv, match, source, note)."""
    quartiers: list[Quartier] = []
    for number, cells in data_rows(text, width=7):
        name, variants, commune, qpv, match, source, note = cells[:7]
        if not name or not commune or qpv not in QPV_VALUES or match not in MATCH_MODES:
            raise ValueError(
                f"quartiers.tsv line {number}: expected name, variants, commune, qpv (yes/no/unknown), match, source, note: {cells!r}"
            )
        quartiers.append(
            Quartier(
                name=name,
                commune=commune,
                variants=tuple(v.strip() for v in variants.split("|") if v.strip()),
                qpv=QPV_VALUES[qpv],
                match=match,
                source=source,
                note=note,
            )
        )
    return quartiers


@cache
def read_quartiers() -> tuple[Quartier, ...]:
    """The rows of the packaged ``ingest/data/quartiers.tsv`` (read once)."""
    table = resources.files("ingest").joinpath("data/quartiers.tsv").read_text(encoding="utf-8")
    return tuple(parse_quartiers(table))


def blocking_forms(quartiers: Iterable[Quartier]) -> list[str]:
    """The names that, in a question, are the quartier rather than a commune of the same name elsewhere
    ("à Moulins" is Lille): every form of the quartiers not restricted to "quartier …"."""
    return [form for q in quartiers if q.match != "quartier" for form in q.forms]
