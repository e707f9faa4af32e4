"""Eligibility (``index.eligibility``): synthetic chunk metadata against the person of a question."""

from __future__ import annotations

from typing import Any

import pytest

from index.eligibility import EXCLUDED, MATCH, UNKNOWN, Verdict, eligibility
from index.query import Filters, QueryAnalysis, analyse, with_filters

CONDITION = "si le jeune est reconnu travailleur handicapé"


def action(**meta: Any) -> dict[str, Any]:
    """Chunk metadata as written by ``ingest.enrich`` (every eligibility key present, None when not stated)."""
    record: dict[str, Any] = {
        "age_min": None,
        "age_max": None,
        "age_max_extended": None,
        "age_condition": None,
        "communes": [],
        "territory_scope": None,
        "qpv": False,
        "qpv_excluded": False,
    }
    record.update(meta)
    return record


AGES_16_25 = action(age_min=16, age_max=25)
LILLE_ONLY = action(communes=["Lille"], territory_scope="commune")
MEL_WIDE = action(territory_scope="MEL")
CAVM_WIDE = action(territory_scope="Valenciennes Métropole")


# -- age --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "age", "expected"),
    [
        (AGES_16_25, 17, Verdict(MATCH, 1, ("17 ans : dans la tranche 16 à 25 ans",))),
        (AGES_16_25, 16, Verdict(MATCH, 1, ("16 ans : dans la tranche 16 à 25 ans",))),
        (AGES_16_25, 25, Verdict(MATCH, 1, ("25 ans : dans la tranche 16 à 25 ans",))),
        (AGES_16_25, 15, Verdict(EXCLUDED, 0, ("15 ans : l'action est pour les 16 à 25 ans",))),
        (AGES_16_25, 26, Verdict(EXCLUDED, 0, ("26 ans : l'action est pour les 16 à 25 ans",))),
        # Open ranges.
        (action(age_min=18), 30, Verdict(MATCH, 1, ("30 ans : dans la tranche 18 ans et plus",))),
        (action(age_min=18), 17, Verdict(EXCLUDED, 0, ("17 ans : l'action est pour les 18 ans et plus",))),
        (action(age_max=25), 12, Verdict(MATCH, 1, ("12 ans : dans la tranche 25 ans au plus",))),
        (action(age_max=25), 26, Verdict(EXCLUDED, 0, ("26 ans : l'action est pour les 25 ans au plus",))),
        # No age stated: age decides nothing.
        (action(), 17, Verdict(UNKNOWN, 0, ())),
        # A narrow range made for this age counts twice in the score (the reason is the same).
        (action(age_min=25, age_max=29), 27, Verdict(MATCH, 2, ("27 ans : dans la tranche 25 à 29 ans",))),
        (action(age_min=16, age_max=17), 16, Verdict(MATCH, 2, ("16 ans : dans la tranche 16 à 17 ans",))),
        (action(age_min=25, age_max=29), 24, Verdict(EXCLUDED, 0, ("24 ans : l'action est pour les 25 à 29 ans",))),
    ],
)
def test_age(meta: dict[str, Any], age: int, expected: Verdict) -> None:
    assert eligibility(meta, QueryAnalysis(text=f"jeune de {age} ans", age=age)) == expected


def test_age_from_the_question() -> None:
    assert eligibility(AGES_16_25, analyse("DECROCHEUR DE 17 ANS A LOOS")).reasons[0] == "17 ans : dans la tranche 16 à 25 ans"
    assert eligibility(action(age_min=18, age_max=25), analyse("g 1 jeune 17a")) == Verdict(
        EXCLUDED, 0, ("17 ans : l'action est pour les 18 à 25 ans",)
    )


EXTENDED = action(age_min=16, age_max=25, age_max_extended=30, age_condition=CONDITION)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (25, Verdict(MATCH, 1, ("25 ans : dans la tranche 16 à 25 ans",))),
        # The question does not say the condition holds: to check (the answer puts it "Sous condition").
        (28, Verdict(MATCH, 1, (f"à vérifier : 28 ans, admis jusqu'à 30 ans seulement {CONDITION}",))),
        (30, Verdict(MATCH, 1, (f"à vérifier : 30 ans, admis jusqu'à 30 ans seulement {CONDITION}",))),
        (31, Verdict(EXCLUDED, 0, ("31 ans : l'action est pour les 16 à 25 ans",))),
    ],
)
def test_conditional_extension(age: int, expected: Verdict) -> None:
    verdict = eligibility(EXTENDED, QueryAnalysis(text="", age=age))
    assert verdict == expected


def test_conditional_extension_names_the_condition() -> None:
    verdict = eligibility(EXTENDED, analyse("jeune de 28 ans avec une RQTH"))
    assert verdict.status == MATCH
    assert verdict.reasons == ("28 ans : admis jusqu'à 30 ans si le jeune est reconnu travailleur handicapé",)
    assert "28 ans" in verdict.reasons[0] and "travailleur handicapé" in verdict.reasons[0]


def test_a_young_person_without_the_condition_is_a_piste_to_check() -> None:
    verdict = eligibility(EXTENDED, analyse("jeune de 28 ans, pas de RQTH"))
    assert verdict.reasons == (f"à vérifier : 28 ans, admis jusqu'à 30 ans seulement {CONDITION}",)


def test_extension_without_condition_text() -> None:
    meta = action(age_min=16, age_max=25, age_max_extended=30)
    assert eligibility(meta, QueryAnalysis(text="", age=28)) == Verdict(
        MATCH, 1, ("à vérifier : 28 ans, admis jusqu'à 30 ans seulement sous condition",)
    )


@pytest.mark.parametrize(
    ("question", "meta", "expected"),
    [
        (
            "un mineur",
            action(age_min=18, age_max=25),
            Verdict(EXCLUDED, 0, ("jusqu'à 17 ans : l'action est pour les 18 à 25 ans",)),
        ),
        ("un mineur", AGES_16_25, Verdict(MATCH, 1, ("tranche compatible avec 16 à 25 ans",))),
        (
            "un jeune majeur",
            action(age_min=11, age_max=15),
            Verdict(EXCLUDED, 0, ("à partir de 18 ans : l'action est pour les 11 à 15 ans",)),
        ),
        ("un jeune majeur", AGES_16_25, Verdict(MATCH, 1, ("tranche compatible avec 16 à 25 ans",))),
        # The extension reaches a range above the general bound.
        ("jeunes de plus de 26 ans", EXTENDED, Verdict(MATCH, 1, ("tranche compatible avec 16 à 25 ans",))),
        (
            "jeunes entre 16 et 18 ans",
            action(age_min=18, age_max=25),
            Verdict(MATCH, 1, ("tranche compatible avec 18 à 25 ans",)),
        ),
        (
            "jeunes entre 16 et 18 ans",
            action(age_min=20, age_max=25),
            Verdict(EXCLUDED, 0, ("jusqu'à 18 ans : l'action est pour les 20 à 25 ans",)),
        ),
        ("un jeune de moins de 26 ans", AGES_16_25, Verdict(MATCH, 1, ("tranche compatible avec 16 à 25 ans",))),
        (
            "quelles actions pour les 16 à 25 ans ?",
            action(age_min=18, age_max=30),
            Verdict(MATCH, 1, ("tranche compatible avec 18 à 30 ans",)),
        ),
        ("un mineur", action(), Verdict(UNKNOWN, 0, ())),
    ],
)
def test_age_range_of_the_question(question: str, meta: dict[str, Any], expected: Verdict) -> None:
    assert eligibility(meta, analyse(question)) == expected


# -- place ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "meta", "expected"),
    [
        ("jeune de Lille", LILLE_ONLY, Verdict(MATCH, 1, ("Lille : commune de l'action",))),
        ("une lilloise", LILLE_ONLY, Verdict(MATCH, 1, ("Lille : commune de l'action",))),
        (
            "jeune de Roubiax",
            action(communes=["Roubaix", "Tourcoing"], territory_scope="several"),
            Verdict(MATCH, 1, ("Roubaix : commune de l'action",)),
        ),
        (
            "jeune de Loos",
            action(communes=["Roubaix", "Tourcoing"], territory_scope="several"),
            Verdict(EXCLUDED, 0, ("Loos : l'action concerne Roubaix, Tourcoing",)),
        ),
        # A commune associée is served by an action of its commune.
        ("jeune de Lomme", LILLE_ONLY, Verdict(MATCH, 1, ("Lomme : commune de l'action",))),
        ("jeune d'Hellemmes", LILLE_ONLY, Verdict(MATCH, 1, ("Hellemmes : commune de l'action",))),
        (
            "jeune de Loos",
            LILLE_ONLY,
            Verdict(EXCLUDED, 0, ("Loos : l'action concerne Hellemmes, Lille, Lomme",)),
        ),
        # Metropolitan-wide actions.
        ("jeune de Wattrelos", MEL_WIDE, Verdict(MATCH, 1, ("Wattrelos : action sur tout le territoire (MEL)",))),
        ("jeune de Lomme", MEL_WIDE, Verdict(MATCH, 1, ("Lomme : action sur tout le territoire (MEL)",))),
        ("jeune d'Anzin", MEL_WIDE, Verdict(EXCLUDED, 0, ("Anzin : hors du territoire de l'action (MEL)",))),
        (
            "jeune d'Anzin",
            CAVM_WIDE,
            Verdict(MATCH, 1, ("Anzin : action sur tout le territoire (Valenciennes Métropole)",)),
        ),
        (
            "jeune de Roubaix",
            CAVM_WIDE,
            Verdict(EXCLUDED, 0, ("Roubaix : hors du territoire de l'action (Valenciennes Métropole)",)),
        ),
        # One of the communes given is enough.
        ("jeune d'Anzin ou de Lille", MEL_WIDE, Verdict(MATCH, 1, ("Lille : action sur tout le territoire (MEL)",))),
        # No territory stated: place decides nothing.
        ("jeune de Loos", action(), Verdict(UNKNOWN, 0, ())),
        ("jeune de Loos", action(communes=["Lille"]), Verdict(UNKNOWN, 0, ())),
    ],
)
def test_place(question: str, meta: dict[str, Any], expected: Verdict) -> None:
    assert eligibility(meta, analyse(question)) == expected


# -- QPV --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "meta", "expected"),
    [
        ("jeune en QPV", action(qpv=True), Verdict(MATCH, 1, ("quartier prioritaire : l'action vise les QPV",))),
        ("jeune en quartier prioritaire", action(qpv=False), Verdict(UNKNOWN, 0, ())),
        # Only a positive match is informative: a chunk that mentions QPV may also serve others.
        ("jeune hors QPV", action(qpv=True), Verdict(UNKNOWN, 0, ())),
    ],
)
def test_qpv(question: str, meta: dict[str, Any], expected: Verdict) -> None:
    assert eligibility(meta, analyse(question)) == expected


# -- no person, several criteria ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Combien de jeunes MAJ'YC a-t-il accompagnés ?",
        "Quel est le budget de Wi-Filles ?",
        "jeune sans diplôme qui veut le permis",
    ],
)
def test_no_person_is_unknown(question: str) -> None:
    meta = action(age_min=18, age_max=25, communes=["Lille"], territory_scope="commune", qpv=True)
    assert eligibility(meta, analyse(question)) == Verdict(UNKNOWN, 0, ())


def test_one_match_one_excluded_is_excluded() -> None:
    meta = action(age_min=16, age_max=25, communes=["Lille"], territory_scope="commune")
    verdict = eligibility(meta, analyse("jeune de 19 ans à Tourcoing"))
    assert verdict == Verdict(EXCLUDED, 0, ("Tourcoing : l'action concerne Hellemmes, Lille, Lomme",))


def test_age_excluded_and_place_excluded_keep_both_reasons() -> None:
    meta = action(age_min=18, age_max=25, communes=["Lille"], territory_scope="commune")
    verdict = eligibility(meta, analyse("DECROCHEUR DE 17 ANS A LOOS"))
    assert verdict == Verdict(
        EXCLUDED,
        0,
        ("17 ans : l'action est pour les 18 à 25 ans", "Loos : l'action concerne Hellemmes, Lille, Lomme"),
    )


def test_two_matches() -> None:
    meta = action(age_min=16, age_max=25, territory_scope="MEL")
    verdict = eligibility(meta, analyse("jeune de 19 ans à Tourcoing"))
    assert verdict == Verdict(
        MATCH,
        2,
        ("19 ans : dans la tranche 16 à 25 ans", "Tourcoing : action sur tout le territoire (MEL)"),
    )


def test_three_matches() -> None:
    meta = action(age_min=16, age_max=25, communes=["Roubaix"], territory_scope="commune", qpv=True)
    verdict = eligibility(meta, analyse("jeune de 22 ans en QPV à Roubaix"))
    assert verdict == Verdict(
        MATCH,
        3,
        (
            "22 ans : dans la tranche 16 à 25 ans",
            "Roubaix : commune de l'action",
            "quartier prioritaire : l'action vise les QPV",
        ),
    )


def test_one_match_one_unknown_is_match() -> None:
    verdict = eligibility(AGES_16_25, analyse("jeune de 19 ans à Anzin"))
    assert verdict == Verdict(MATCH, 1, ("19 ans : dans la tranche 16 à 25 ans",))


def test_to_json() -> None:
    verdict = eligibility(LILLE_ONLY, analyse("jeune de Loos"))
    assert verdict.to_json() == {"status": "excluded", "reasons": ["Loos : l'action concerne Hellemmes, Lille, Lomme"]}
    assert Verdict(UNKNOWN).to_json() == {"status": "unknown", "reasons": []}


@pytest.mark.parametrize(
    ("question", "status", "reason"),
    [
        ("un décrocheur de 17 ans", MATCH, "à vérifier : seulement si le jeune n'habite pas un QPV"),
        ("un décrocheur de 17 ans, pas en QPV", MATCH, "hors QPV : l'action est pour les jeunes hors QPV"),
        (
            "un décrocheur de 17 ans en quartier prioritaire",
            EXCLUDED,
            "quartier prioritaire : l'action est pour les jeunes hors QPV",
        ),
    ],
)
def test_an_action_outside_priority_neighbourhoods_says_what_to_check(question: str, status: str, reason: str) -> None:
    verdict = eligibility(action(age_min=16, age_max=21, qpv_excluded=True), analyse(question))
    assert verdict.status == status and verdict.reasons[-1] == reason


def test_a_territory_alone_rules_out_the_other_metropolis() -> None:
    q = with_filters(analyse("aide au permis"), Filters(territory="CAVM"))
    assert eligibility(action(territory_scope="MEL"), q).status == EXCLUDED
    assert eligibility(action(territory_scope="Valenciennes Métropole"), q).status == MATCH
    assert eligibility(action(epci="MEL"), q).status == EXCLUDED  # a MEL document's passage
    assert eligibility(action(), q).status == UNKNOWN
    # Comparing both metropolises places nobody.
    assert analyse("SREI : MEL vs Valenciennes Métropole ?").epci is None


# -- a young person living outside both territories ---------------------------------------------------


@pytest.mark.parametrize(
    "meta",
    [
        MEL_WIDE,
        CAVM_WIDE,
        LILLE_ONLY,
        action(communes=["Loos", "Wattignies", "Haubourdin"], territory_scope="several"),
        action(epci="MEL"),  # a passage of a MEL document
        action(epci="CAVM", age_min=16, age_max=25),
    ],
)
def test_an_action_of_the_territories_does_not_fit_a_young_person_living_elsewhere(meta: dict[str, Any]) -> None:
    verdict = eligibility(meta, analyse("décrocheur de 19 ans à Denain"))
    assert verdict.status == EXCLUDED
    assert "Denain : hors MEL et Valenciennes Métropole" in verdict.reasons


def test_an_action_stating_no_territory_stays_unknown_for_a_young_person_living_elsewhere() -> None:
    assert eligibility(action(), analyse("un jeune de Maubeuge")) == Verdict(UNKNOWN, 0, ())
    # Its age still decides.
    assert eligibility(AGES_16_25, analyse("jeune de 19 ans à Marseille")).status == MATCH
    assert eligibility(AGES_16_25, analyse("jeune de 30 ans à Marseille")).status == EXCLUDED


def test_a_department_outside_rules_out_the_territories_but_the_nord_does_not() -> None:
    assert eligibility(MEL_WIDE, analyse("un jeune qui vit dans le Var")).status == EXCLUDED
    assert eligibility(MEL_WIDE, analyse("un jeune qui vit dans le Nord")).status == UNKNOWN


def test_a_commune_of_the_territories_named_too_keeps_the_usual_rules() -> None:
    # "de Denain à Roubaix": a commune of the MEL is given, the action of the MEL fits.
    verdict = eligibility(MEL_WIDE, analyse("un jeune qui a déménagé de Denain à Roubaix"))
    assert verdict == Verdict(MATCH, 1, ("Roubaix : action sur tout le territoire (MEL)",))


def test_a_commune_elsewhere_typed_in_the_filters_panel_rules_out_the_territories() -> None:
    q = with_filters(analyse("quelle action pour un décrocheur ?"), Filters(commune="Maubeuge"))
    assert eligibility(MEL_WIDE, q) == Verdict(EXCLUDED, 0, ("Maubeuge : hors MEL et Valenciennes Métropole",))


def test_a_public_of_girls_only_excludes_a_boy_and_admits_a_girl() -> None:
    girls = action(age_min=13, age_max=17, gender="f")
    boy = eligibility(girls, analyse("Je peux orienter un garçon de 15 ans vers Wi-Filles ?"))
    assert boy.status == EXCLUDED and boy.reasons == ("garçon : l'action est pour les jeunes filles",)
    assert eligibility(girls, analyse("une fille de 16 ans à Roubaix")).status == MATCH
    assert eligibility(girls, analyse("un jeune de 15 ans")).status == MATCH  # not said: only the age is checked
    assert eligibility(action(age_min=13, age_max=17), analyse("un garçon de 15 ans")).status == MATCH
