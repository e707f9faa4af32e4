"""Quartiers (``ingest.quartiers``, ``ingest/data/quartiers.tsv``) and their reading in questions (``index.query``).

A quartier named in a question places the young person in its commune exactly as typing the commune would
(``communes``, ``epci``), and appears in ``filters.places`` with ``kind`` "quartier"; common words ("le
centre", "le sud", "centre-ville") place nobody.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from index.eligibility import EXCLUDED, MATCH, eligibility
from index.query import Filters, analyse, in_context, with_filters
from ingest.france import load_france
from ingest.gazetteer import load_gazetteer, load_phrases, name_key
from ingest.quartier_table import Quartier, parse_quartiers
from ingest.quartiers import Quartiers, find_quartiers, load_quartiers
from ingest.repair import fix_glyph_shift

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "ingest" / "data" / "quartiers.tsv"
CORPUS = ROOT / "data" / "corpus"
_REFERENCE = re.compile(r"^(\d{3}) l\.(\d+)(?:-(\d+))?$")
_OTHER_SOURCES = {"Ville de Lille", "knowledge"}
LILLE_QUARTIERS = {  # the city's ten quartiers (Hellemmes and Lomme are communes associées)
    "Bois-Blanc",
    "Lille-Centre",
    "Faubourg de Béthune",
    "Fives",
    "Lille-Moulins",
    "Lille-Sud",
    "Saint-Maurice Pellevoisin",
    "Vauban-Esquermes",
    "Vieux-Lille",
    "Wazemmes",
}


def corpus_lines(prefix: str) -> list[str]:
    """The lines of a corpus document, glyph-shifted lines repaired (003) as ingest reads them; same numbering."""
    (path,) = CORPUS.glob(f"{prefix}_*.txt")
    return [fix_glyph_shift(line) for line in path.read_text(encoding="utf-8").split("\n")]


def quartier_places(question: str) -> list[tuple[str, str]]:
    return [(p.name, p.to_json()["commune"]) for p in analyse(question).places if p.kind == "quartier"]


# -- the data file ----------------------------------------------------------------------------------


def test_the_table_records_its_sources() -> None:
    header = "\n".join(line for line in TABLE.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    assert "Ville de Lille" in header and "003 l.1063-1097" in header and "002 l.257" in header
    quartiers = load_quartiers().all
    assert len(quartiers) == len({q.name for q in quartiers}) >= 50
    assert {q.name for q in quartiers if q.commune == "Lille" and "Ville de Lille" in q.source} == LILLE_QUARTIERS


def test_every_commune_is_a_commune_of_the_territories() -> None:
    gazetteer = load_gazetteer()
    for quartier in load_quartiers().all:
        member = gazetteer.get(quartier.commune)
        assert member is not None and member.name == quartier.commune, quartier  # the official spelling
        for form in quartier.forms:
            assert gazetteer.get(form) is None, form  # no quartier is named like a member commune


def test_every_corpus_line_cited_holds_the_quartier_name() -> None:
    cited = 0
    for quartier in load_quartiers().all:
        references = [s.strip() for s in quartier.source.split(";") if s.strip()]
        assert references, quartier.name
        keys = [name_key(form) for form in quartier.forms]
        for reference in references:
            if reference in _OTHER_SOURCES:
                continue
            match = _REFERENCE.match(reference)
            assert match, (quartier.name, reference)
            lines = corpus_lines(match[1])
            first, last = int(match[2]), int(match[3] or match[2])
            assert 1 <= first <= last <= len(lines) and last - first <= 2, (quartier.name, reference)
            text = name_key(" ".join(lines[first - 1 : last]))
            assert any(key in text for key in keys), (quartier.name, reference, lines[first - 1 : last])
            cited += 1
        if quartier.qpv:  # a QPV status comes from the documents, never from memory
            assert any(_REFERENCE.match(r.strip()) for r in references), quartier.name
    assert cited >= 60


def test_the_quartiers_are_the_only_source_of_quartier_names() -> None:
    assert load_phrases().values("quartier") == []  # moved from gazetteer_phrases.tsv
    france = load_france()
    # The names that are also communes elsewhere, read as the quartier in a question: exactly these.
    homonyms = {form for form in load_quartiers().blocking_forms() if france.named(form)}
    assert homonyms == {"Moulins", "Saint-Maurice", "Pellevoisin", "Vauban", "Saint-Sauveur", "Fresnoy"}
    assert [p.kind for p in france.find_places("un jeune à Moulins")] == []  # not Moulins (Allier)
    # "quartier" rows (Saint-Waast, Saint-Pierre) leave the commune of that name alone.
    assert [(p.name, p.department) for p in france.find_places("un jeune de Saint-Waast")] == [("Saint-Waast", "59")]


def test_bad_rows_are_refused() -> None:
    header = "name\tvariants\tcommune\tqpv\tmatch\tsource\tnote\n"
    with pytest.raises(ValueError, match="line 2"):
        parse_quartiers(header + "Wazemmes\t\tLille\tpeut-être\tauto\t\t\n")
    with pytest.raises(ValueError, match="unknown commune"):
        Quartiers(parse_quartiers(header + "Wazemmes\t\tLile\tunknown\tauto\t\t\n"))
    with pytest.raises(ValueError, match="two communes"):
        Quartiers([Quartier("Centre", "Lille", match="quartier"), Quartier("Centre", "Roubaix", match="quartier")])


def test_counts_per_commune() -> None:
    counts = Counter(q.commune for q in load_quartiers().all)
    assert counts["Lille"] == 13 and counts["Roubaix"] == 7 and counts["Valenciennes"] == 5
    print(dict(sorted(counts.items())))


# -- questions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "quartier", "commune"),
    [
        ("un jeune de 18 ans de Wazemmes", "Wazemmes", "Lille"),
        ("jeune de 17 ans du quartier Chasse Royale", "Chasse Royale", "Valenciennes"),
        ("un jeune à Moulins", "Lille-Moulins", "Lille"),  # not Moulins (Allier)
        ("jeune du quartier des Moulins", "Lille-Moulins", "Lille"),
        ("un jeune du Trieu", "Le Trieu", "Fresnes-sur-Escaut"),
        ("elle habite Le Trieu", "Le Trieu", "Fresnes-sur-Escaut"),
        ("jeune de la cité du Trieu, 19 ans", "Le Trieu", "Fresnes-sur-Escaut"),
        ("une jeune de Fives sans diplôme", "Fives", "Lille"),
        ("jeune de 20 ans du Faubourg de Béthune", "Faubourg de Béthune", "Lille"),
        ("jeune de Lille Sud", "Lille-Sud", "Lille"),
        ("un jeune de Lille centre-ville", "Lille-Centre", "Lille"),
        ("un jeune du Vieux-Lille", "Vieux-Lille", "Lille"),
        ("il vit à l'Épeule", "Épeule", "Roubaix"),
        ("un jeune du Pile", "Le Pile", "Roubaix"),
        ("un jeune de la Bourgogne", "La Bourgogne", "Tourcoing"),
        ("jeune des Oliveaux", "Les Oliveaux", "Loos"),
        ("jeune de Loos-les-Oliveaux", "Les Oliveaux", "Loos"),
        ("jeune du Nouveau Mons", "Nouveau Mons", "Mons-en-Barœul"),
        ("jeune de la cité Lecoq", "Lecocq", "Condé-sur-l'Escaut"),
        ("un jeune du quartier Saint-Waast", "Saint-Waast", "Valenciennes"),
        ("un jeune du quartier Saint-Pierre", "Saint-Pierre", "Condé-sur-l'Escaut"),
        ("jeune du Faubourg de Cambrai", "Faubourg de Cambrai", "Valenciennes"),
        ("JEUNE DE 17 ANS A WAZEMMES", "Wazemmes", "Lille"),
        ("jeune de wazemmes", "Wazemmes", "Lille"),
        # English names the quartier before the word for it.
        ("a 26-year-old who lives in the Moulins neighbourhood of Lille", "Lille-Moulins", "Lille"),
        ("a young man from the Epeule district", "Épeule", "Roubaix"),
    ],
)
def test_a_quartier_places_the_person_in_its_commune(question: str, quartier: str, commune: str) -> None:
    analysis = analyse(question)
    assert quartier_places(question) == [(quartier, commune)]
    assert analysis.communes == (commune,)
    assert analysis.epci == load_gazetteer().epci_of(commune)
    assert analysis.has_person and not analysis.lives_outside and not analysis.outside


@pytest.mark.parametrize(
    "question",
    [
        "centre-ville",
        "un jeune du centre-ville",
        "le sud",
        "un jeune du sud de la métropole",
        "il vit dans le centre",
        "un jeune de Roubaix centre-ville",  # Roubaix, no quartier
        "Le Trieu a un centre social ?",  # a one-word name without a cue
        "il vient de Bourgogne",  # the region, not La Bourgogne (Tourcoing)
        "jeune du pile ou face",  # a common word in lower case
        "JEUNE DU PILE",  # capitals say nothing
        "une formation à la pépinière d'entreprises",
        "il habite rue de Fives",  # a street
        "il habite rue du Faubourg de Lille",
        "le projet Tast'in Fives",
        "un jeune de Saint-Waast",  # the commune of the Nord, not the quartier of Valenciennes
        "un jeune de Saint-Pierre",
        "le contact de M. Dutemple",
        "he moved to Moulins last year",  # an English question without the word for a quartier: Moulins needs a cue
    ],
)
def test_common_words_name_no_quartier(question: str) -> None:
    assert quartier_places(question) == []
    assert find_quartiers(question) == []


def test_a_quartier_is_read_as_its_commune_would_be() -> None:
    for quartier, commune in (("Wazemmes", "Lille"), ("Moulins", "Lille"), ("Bleuse Borgne", "Anzin")):
        by_quartier = analyse(f"quelle action pour un jeune de 18 ans de {quartier} qui cherche un emploi ?")
        by_commune = analyse(f"quelle action pour un jeune de 18 ans de {commune} qui cherche un emploi ?")
        for field in ("age", "communes", "epci", "situations", "needs"):
            assert getattr(by_quartier, field) == getattr(by_commune, field), (quartier, field)
        assert by_quartier.topic == by_commune.topic
    # Eligibility: an action of Lille fits a young person of Wazemmes; one of Loos does not.
    wazemmes = analyse("un jeune de 18 ans de Wazemmes")
    assert eligibility({"communes": ["Lille"], "territory_scope": "commune"}, wazemmes).status == MATCH
    assert eligibility({"communes": ["Loos"], "territory_scope": "commune"}, wazemmes).status == EXCLUDED
    assert eligibility({"territory_scope": "Valenciennes Métropole"}, wazemmes).status == EXCLUDED


def test_the_quartier_place_in_the_filters() -> None:
    (place,) = analyse("jeune de 17 ans du quartier Chasse Royale").to_json()["places"]
    assert {k: place[k] for k in ("kind", "name", "commune", "in_territory", "qpv", "epci", "insee", "surface")} == {
        "kind": "quartier",
        "name": "Chasse Royale",
        "commune": "Valenciennes",
        "in_territory": True,
        "qpv": True,
        "epci": "CAVM",
        "insee": "59606",
        "surface": "Chasse Royale",
    }
    (wazemmes,) = analyse("un jeune de Wazemmes").to_json()["places"]
    assert (wazemmes["commune"], wazemmes["qpv"], wazemmes["epci"]) == ("Lille", None, "MEL")  # QPV status not known
    # With its commune named too, both are places, in the order written.
    assert [(p.kind, p.name) for p in analyse("jeune de Lille-Sud").places] == [("commune", "Lille"), ("quartier", "Lille-Sud")]
    assert [p.kind for p in analyse("un jeune du Trieu à Fresnes").places] == ["quartier", "commune"]
    assert analyse("un jeune du Trieu à Fresnes").communes == ("Fresnes-sur-Escaut",)


def test_a_qpv_quartier_sets_qpv_unless_the_question_says() -> None:
    assert analyse("jeune de 17 ans du quartier Chasse Royale").qpv is True
    assert analyse("un jeune du Trieu").qpv is True
    assert analyse("un jeune du Trieu, pas en QPV").qpv is False  # the question wins over the table
    assert analyse("un jeune du Trieu en QPV").qpv is True
    assert analyse("un jeune de Wazemmes").qpv is None  # not known for Wazemmes
    # A question about the quartier, not about a person living there.
    lecocq = analyse("Quel est le taux d'emploi du quartier Lecocq à Condé-sur-Escaut ?")
    assert lecocq.communes == ("Condé-sur-l'Escaut",) and lecocq.qpv is None
    # Where the person works or studies is not where they live.
    stage = analyse("un jeune de 19 ans cherche un stage à Chasse Royale")
    assert stage.communes == ("Valenciennes",) and stage.qpv is None and stage.places[0].residence is False


def test_a_commune_named_wins_over_a_quartier_of_another_commune() -> None:
    table = Quartiers([Quartier("Hem Centre", "Roubaix"), Quartier("Lille-Sud", "Lille")])
    assert table.find("un jeune de Hem Centre") == []  # Hem is read: not a quartier of Roubaix
    assert [q.name for q in table.find("un jeune de Lille-Sud")] == ["Lille-Sud"]  # its own commune
    # A commune elsewhere read inside a quartier's name gives way to it.
    assert [(p.kind, p.name) for p in analyse("un jeune à l'Hermitage").places] == [("quartier", "La Solitude - Hermitage")]


def test_filters_and_follow_ups() -> None:
    filtered = with_filters(analyse("quelle action pour un décrocheur ?"), Filters(commune="Wazemmes"))
    assert filtered.communes == ("Lille",) and filtered.epci == "MEL"
    assert [(p.kind, p.name) for p in filtered.places] == [("quartier", "Wazemmes")]
    with pytest.raises(ValueError, match="inconnue"):
        with_filters(analyse("quelle action ?"), Filters(commune="Centre"))
    _, merged = in_context("et à Wazemmes ?", ["quelle action pour un décrocheur de 17 ans à Roubaix ?"])
    assert merged.communes == ("Lille",) and merged.age == 17


def test_in_territory_communes_are_unchanged() -> None:
    gazetteer = load_gazetteer()
    for question in (
        "un jeune de Roubaix",
        "jeune de 18 ans à Tourcong",
        "jeune de croix",
        "décrocheur à Loos",
        "jeune de Valenciennes",
    ):
        analysis = analyse(question)
        assert analysis.communes == tuple(c.name for c in gazetteer.find_in_question(question)), question
        assert not any(p.kind == "quartier" for p in analysis.places), question


def test_the_dev_questions_gain_no_wrong_commune() -> None:
    """Every dev question whose communes the quartiers change, checked by hand (printed with ``-s``)."""
    named: dict[str, list[str]] = {}
    gained: dict[str, list[str]] = {}
    qpv: dict[str, bool | None] = {}
    for line in (ROOT / "eval" / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        analysis = analyse(item["question"])
        quartiers = [p for p in analysis.places if p.kind == "quartier"]
        if not quartiers:
            continue
        by_communes = {p.name for p in analysis.places if p.kind == "commune" and p.in_territory}
        named[item["id"]] = [p.name for p in quartiers]
        gained[item["id"]] = [c for c in analysis.communes if c not in by_communes]
        qpv[item["id"]] = analysis.qpv
        print(item["id"], item["question"], "->", analysis.communes, named[item["id"]], analysis.qpv)
    # dev-12: "Jeune de 27 ans du quartier Faubourg de Béthune qui veut créer sa boîte" (Lille);
    # dev-23: "Quel est le taux d'emploi du quartier Lecocq à Condé-sur-Escaut…" (Condé named too; a fact).
    assert named == {"dev-12": ["Faubourg de Béthune"], "dev-23": ["Lecocq"]}
    assert gained == {"dev-12": ["Lille"], "dev-23": []}
    assert qpv == {"dev-12": None, "dev-23": None}
