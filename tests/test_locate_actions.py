"""Actions located inside table and prose documents (``ingest.locate``): issue 11, item 1.

Every expected action below was checked by reading the repaired texts: titles as written, line spans as
1-based inclusive lines of the original files (002: the MEL protocol's TSV tables, l.251-416, and its prose;
003: the Valenciennes annex, prose with bullet items; 000: the PIA note). Negatives: table headers, verb-phrase
objectives, generic verb items, institutions, "Exemples de questions" and "Sources" lists. Mutations: a renamed
action keeps its span and takes the new name; an invented bullet naming a dispositif is found.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ingest.loaders import load_corpus
from ingest.locate import ActionSpan, locate_actions, prose_actions, table_actions

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"


@pytest.fixture(scope="module")
def lines() -> dict[str, list[str]]:
    docs, _ = load_corpus(CORPUS)
    return {doc.source[:3]: list(doc.lines) for doc in docs}


@pytest.fixture(scope="module")
def actions(lines: dict[str, list[str]]) -> dict[str, list[ActionSpan]]:
    return {key: locate_actions(lines[key]) for key in ("000", "002", "003")}


def _one(found: list[ActionSpan], title: str) -> ActionSpan:
    matches = [a for a in found if a.title == title]
    assert len(matches) == 1, (title, [a.title for a in found])
    return matches[0]


def _span(action: ActionSpan) -> tuple[int, int]:
    """1-based inclusive lines, as a reader of the file counts them."""
    return action.start + 1, action.end


# ------------------------------------------------------------------------------------------------
# 002: the MEL protocol (tables row by row, packed cells, shifted cells; a few named dispositifs in prose)
# ------------------------------------------------------------------------------------------------

EXPECTED_002 = [
    ("Start'Avenir, un forum emploi pour les jeunes des quartiers prioritaires", (289, 289), "table_row"),
    ("Incubateur culinaire « Food Job Fabrique » dans le cadre du projet européen Tast'in Fives", (268, 268), "table_row"),
    ("Activ'Emploi", (275, 276), "table_row"),  # its way to apply sits in the MOYENS cell of l.276
    ("Initiative pour l'emploi des jeunes- 25 à 29 ans", (276, 276), "table_row"),
    ("#Agir pour réussir", (285, 285), "table_row"),
    ("#Versunmétier", (286, 286), "table_row"),
    ("Développement du PAQTE", (287, 287), "table_row"),
    ("Proch'Orientation", (271, 271), "table_row"),  # glued inside the objectives cell of l.271
    ("Une orientation, une formation, un métier", (271, 271), "table_row"),
    ("Fabrique à Entreprendre MEL", (293, 293), "table_row"),  # l.293 packs five dispositifs
    ("Entreprendre autrement avec la MEL", (293, 293), "table_row"),
    ("EYES", (293, 293), "table_row"),
    ("Les Ruches d'entreprises comme outils de création d'activités en QPV", (293, 293), "table_row"),
    ("Mel toi du Territoire", (297, 297), "table_row"),
    ("Ambassadeurs des Territoires", (298, 298), "table_row"),
    (
        "Le réseau des tiers-lieux métropolitains comme vecteur d'innovation sociale et de médiation numérique",
        (279, 282),
        "table_row",
    ),
    ("Promeneurs du net", (376, 376), "table_row"),  # "Développer le dispositif "Promeneurs du net"" (MOYENS)
    ("Summer Pass", (385, 385), "table_row"),
    # "Positionner le Fonds Métropolitain d'aides aux Jeunes (FAJeM) comme un outil …": the verb acts on a
    # dispositif named with its acronym.
    (
        "Fonds Métropolitain d'aides aux Jeunes (FAJeM)",
        (402, 402),
        "table_row",
    ),  # "Reconduction et déploiement de l'action Summer Pass issue #JEM"
    ("Nos Quartiers d'Été", (114, 114), "item"),
    ("URBACT Comm'Unity Lab", (83, 83), "item"),
]


@pytest.mark.parametrize(("title", "span", "kind"), EXPECTED_002, ids=[t for t, _, _ in EXPECTED_002])
def test_actions_of_the_mel_protocol(actions: dict[str, list[ActionSpan]], title: str, span: tuple[int, int], kind: str) -> None:
    action = _one(actions["002"], title)
    assert _span(action) == span
    assert action.kind == kind


def test_a_table_row_carries_its_cells_authority_and_context(actions: dict[str, list[ActionSpan]]) -> None:
    start_avenir = _one(actions["002"], "Start'Avenir, un forum emploi pour les jeunes des quartiers prioritaires")
    assert start_avenir.porteur_hint is not None and start_avenir.porteur_hint.startswith("Réseau Alliances/Face MEL")
    assert start_avenir.text.startswith("OBJECTIFS : Start'Avenir, un forum emploi")
    assert "MOYENS MOBILISABLES : Préparer les jeunes des QPV" in start_avenir.text
    assert "INDICATEURS DE SUIVI : 2019 : Organisation du premier forum" in start_avenir.text
    assert start_avenir.section is not None and "EMPLOI Réduire le taux de chômage" in start_avenir.section
    assert _one(actions["002"], "Promeneurs du net").porteur_hint == "CAF"


def test_a_shifted_cell_goes_to_the_action_it_names(actions: dict[str, list[ActionSpan]]) -> None:
    activ_emploi = _one(actions["002"], "Activ'Emploi")
    iej = _one(actions["002"], "Initiative pour l'emploi des jeunes- 25 à 29 ans")
    assert "La demande d'activ'Emploi se fait auprès du référent RSA" in activ_emploi.text
    assert "activ'Emploi" not in iej.text
    assert iej.porteur_hint == "Department du Nord"  # reproduced as written (typo of the source)


def test_a_packed_cell_gives_each_dispositif_only_its_own_items(actions: dict[str, list[ActionSpan]]) -> None:
    eyes = _one(actions["002"], "EYES")
    ruches = _one(actions["002"], "Les Ruches d'entreprises comme outils de création d'activités en QPV")
    fabrique = _one(actions["002"], "Fabrique à Entreprendre MEL")
    assert "NEETS" in eyes.text and "Ruches" not in eyes.text and "Fabrique à Entreprendre" not in eyes.text
    assert "Accueillir, héberger et accompagner les entreprises" in ruches.text and "EYES" not in ruches.text
    assert "Susciter la prise d'initiative" in fabrique.text and "Interreg" not in fabrique.text
    # five authority items for five dispositifs: one each
    assert eyes.porteur_hint is not None and eyes.porteur_hint.endswith("Union Européenne")
    assert fabrique.porteur_hint is not None and fabrique.porteur_hint.endswith("Réseau des acteurs de la Fabrique")


def test_headers_and_verb_phrase_objectives_are_not_actions(
    lines: dict[str, list[str]], actions: dict[str, list[ActionSpan]]
) -> None:
    found = actions["002"]
    headers = {i for i, line in enumerate(lines["002"]) if "\t" in line and "OBJECTIFS" in line}
    assert len(headers) >= 10
    assert not [a for a in found if a.start in headers]
    header_words = {"PRIORITES", "OBJECTIFS", "AUTORITES RESPONSABLES", "MOYENS MOBILISABLES", "INDICATEURS DE SUIVI"}
    assert not [a for a in found if a.title.upper() in header_words]
    # "Faciliter l'accès vers les parcs d'activités …" (l.265), "Transformer des projets dormants …" (l.256),
    # "Réunir un comité de pilotage …" (l.409) state objectives; "MEL / URHLM" (l.350) is an authority.
    assert not [a for a in found if a.start + 1 in (256, 265, 350, 409)]
    verbs = ("Faciliter", "Transformer", "Réunir", "Favoriser", "Renforcer", "Développer", "Accompagner", "Mobiliser")
    assert not [a.title for a in found if a.title.split()[0] in verbs]


# ------------------------------------------------------------------------------------------------
# 003: the Valenciennes annex (prose, bullet items naming dispositifs)
# ------------------------------------------------------------------------------------------------

EXPECTED_003 = [
    ("Pop School", (1260, 1268), "item"),
    ("Cap Quartiers", (1462, 1463), "item"),
    ("Garage Numérique", (1251, 1257), "item"),
    ("Rubika", (1242, 1246), "item"),
    ("Micro-Folie Chasse Royale", (1225, 1227), "item"),
    ("Proch’Emploi", (1178, 1179), "item"),
    ("Plateforme Insertion et Emploi", (1181, 1183), "item"),
    ("PAQTE (Pacte Avec les Quartiers pour Toutes les Entreprises)", (1291, 1296), "paragraph"),
    ("Territoire Zéro Chômeurs de Longue Durée", (1454, 1461), "item"),
    ("Emplois Francs", (1143, 1149), "paragraph"),
    ("Résidence d’artistes en collège", (730, 738), "item"),  # the item names it, l.733-738 describe it
    ("Soutien Régional à l’Emploi et à l’Innovation (SREI)", (377, 380), "item"),  # a list of "dispositifs"
    ("Nos Quartiers d’Eté", (382, 384), "item"),
    ("Projet d’Initiative Citoyenne (PIC)", (420, 422), "item"),
]


@pytest.mark.parametrize(("title", "span", "kind"), EXPECTED_003, ids=[t for t, _, _ in EXPECTED_003])
def test_actions_of_the_valenciennes_annex(
    actions: dict[str, list[ActionSpan]], title: str, span: tuple[int, int], kind: str
) -> None:
    action = _one(actions["003"], title)
    assert _span(action) == span
    assert action.kind == kind


def test_prose_porteur_and_section(actions: dict[str, list[ActionSpan]]) -> None:
    found = actions["003"]
    assert _one(found, "Proch’Emploi").porteur_hint == "Région Hauts de France"  # "le Dispositif Proch'Emploi de la Région …"
    assert _one(found, "Plateforme Insertion et Emploi").porteur_hint == "Département du Nord"
    assert _one(found, "PAQTE (Pacte Avec les Quartiers pour Toutes les Entreprises)").porteur_hint == "Valenciennes Métropole"
    assert _one(found, "Pop School").porteur_hint is None  # the item names no organisation
    pop_school = _one(found, "Pop School")
    assert pop_school.section is not None and pop_school.section.startswith("Développer des projets des sites d’excellence")
    assert pop_school.text.startswith("Accompagner Pop School pour qu’il continue")
    assert pop_school.text.endswith("(ex : recrutement et financement de formation)")


def test_generic_items_institutions_and_question_lists_are_not_actions(
    lines: dict[str, list[str]], actions: dict[str, list[ActionSpan]]
) -> None:
    found = actions["003"]
    starts = {a.start + 1 for a in found}
    # "- Mobiliser les acteurs économiques du territoire", "- Proposer des petits déjeuners RSE …", "- Organiser des
    # ateliers de circuits-courts …", "- Appuyer les initiatives des bailleurs sociaux …", "- Identifier …", …
    generic_items = {1286, 1312, 1339, 1472, 1570, 1573, 1577, 1580, 1584, 1588}
    assert not starts & generic_items
    assert not [a.title for a in found if a.title.split()[0] in ("Sensibiliser", "Mobiliser", "Proposer", "Organiser")]
    # "Exemples de questions :" lists (l.1319-1333, l.1418-1429), whose l.1330 mentions "le dispositif des Emplois Francs"
    assert not [a for a in found if 1319 <= a.start + 1 <= 1333 or 1418 <= a.start + 1 <= 1429]
    institutions = {"Valenciennes Métropole", "Pôle Emploi", "Mission Locale", "Département du Nord", "CCI", "Etat", "Région"}
    assert not [a.title for a in found if a.title in institutions or a.title.startswith(("Mission locale", "Région "))]
    assert table_actions(lines["003"]) == []  # no objectives table in the annex


def test_a_name_mentioned_again_is_one_action(actions: dict[str, list[ActionSpan]]) -> None:
    titles = [a.title for a in actions["003"]]
    assert titles.count("PAQTE (Pacte Avec les Quartiers pour Toutes les Entreprises)") == 1
    assert sum(t.startswith("Accroche Active") for t in titles) == 1  # l.879 and l.900
    assert sum(t.startswith("Projets Territoriaux Structurants") for t in titles) == 1  # l.787, 831, 865, 949
    assert sum(t.lower() == "proch'orientation" for t in (a.title for a in actions["002"])) == 1  # l.271 and l.394


# ------------------------------------------------------------------------------------------------
# 000: the PIA note
# ------------------------------------------------------------------------------------------------


def test_the_two_pia_projects(actions: dict[str, list[ActionSpan]]) -> None:
    found = actions["000"]
    assert [a.title for a in found] == [
        "Accroche active! Pour une jeunesse mobilisée et actrice de son avenir",
        "Investir dans les jeunesses de la Métropole Européenne de Lille",
    ]
    accroche, investir = found
    assert (_span(accroche), _span(investir)) == ((13, 17), (19, 25))
    assert accroche.porteur_hint == "Valenciennes Métropole"  # "Valenciennes Métropole sera soutenu pour son action …"
    assert investir.porteur_hint == "Métropole européenne de Lille (MEL)"  # "Ce projet, proté par la Métropole …"
    assert "5,7 millions d'euros" in investir.text  # the "Sources" list repeats the name: the description is kept


# ------------------------------------------------------------------------------------------------
# Shape, synthetic inputs, mutations
# ------------------------------------------------------------------------------------------------


def test_spans_are_well_formed(lines: dict[str, list[str]], actions: dict[str, list[ActionSpan]]) -> None:
    assert dataclasses.is_dataclass(ActionSpan) and ActionSpan.__dataclass_params__.frozen  # type: ignore[attr-defined]
    for key, found in actions.items():
        assert found, key
        for action in found:
            assert 0 <= action.start < action.end <= len(lines[key]), action
            assert action.kind in ("table_row", "item", "paragraph")
            assert action.title == " ".join(action.title.split()) and action.title[:1] not in '-–•«»"“” '
            assert action.text.strip()
            assert lines[key][action.start].strip(), action  # a span starts on a written line


def test_tables_are_found_by_their_header_words() -> None:
    text = [
        "Quelques actions",
        "",
        "AXES\tACTIONS\tPILOTES\tMOYENS\tINDICATEURS",
        "Emploi\tForum Jeunes Talents Organiser un forum de recrutement pour les jeunes.\tVille de Testville\tSalle des fêtes\t200 jeunes",
        "\t\tAssociation Relais\tNavettes depuis les quartiers\t",
        "\tFaciliter l'accès aux stages des collégiens.\tVille de Testville\tBourse aux stages\t",
        "",
        "NOM\tPRENOM\tVILLE",
        "Martin\tJeanne\tLille",
    ]
    found = table_actions(text)
    assert [(a.title, a.start, a.end, a.kind) for a in found] == [("Forum Jeunes Talents", 3, 5, "table_row")]
    assert found[0].porteur_hint == "Ville de Testville ; Association Relais"
    assert "Navettes depuis les quartiers" in found[0].text and "Bourse aux stages" not in found[0].text
    assert prose_actions(text) == []


def test_an_objective_acting_on_a_dispositif_named_with_its_acronym_names_it() -> None:
    text = [
        "PRIORITES\tOBJECTIFS\tAUTORITES RESPONSABLES\tMOYENS MOBILISABLES",
        "Insertion des jeunes âgés 16 à 25 ans\tRenforcer le Fonds Local d'aide aux Jeunes (FLAJ) comme outil de parcours.\tVille\tCommissions",
        "Logement\tFaciliter l'accès au logement des jeunes (FSL, APL).\tVille\tGuichet",
    ]
    assert [a.title for a in table_actions(text)] == ["Fonds Local d'aide aux Jeunes (FLAJ)"]


def test_generic_prose_is_not_an_action() -> None:
    text = [
        "Les partenaires pourront :",
        "",
        "- Sensibiliser les publics et prescripteurs via des visites d’entreprises ;",
        "- Accompagner Pôle Emploi pour relayer les offres ;",
        "- S’appuyer sur la Mission Locale et le Département du Nord ;",
        "",
        "Exemples de questions :",
        "o Faut-il développer le dispositif Cap Avenir ?",
        "o Faire un focus sur le dispositif Cap Avenir.",
    ]
    assert locate_actions(text) == []


def test_renaming_an_action_renames_it(lines: dict[str, list[str]]) -> None:
    renamed = [line.replace("Pop School", "Code Factory") for line in lines["003"]]
    found = locate_actions(renamed)
    assert "Pop School" not in [a.title for a in found]
    assert _span(_one(found, "Code Factory")) == (1260, 1268)

    renamed = [line.replace("Start'Avenir", "Cap'Emploi") for line in lines["002"]]
    found = locate_actions(renamed)
    assert _span(_one(found, "Cap'Emploi, un forum emploi pour les jeunes des quartiers prioritaires")) == (289, 289)


def test_an_invented_bullet_is_found(lines: dict[str, list[str]]) -> None:
    mutated = list(lines["003"])
    assert not mutated[1464].strip()  # l.1465, between the Cap Quartiers item and the next one
    mutated[1464] = "- Accompagner Super Projet Test pour aider les jeunes"
    invented = _one(locate_actions(mutated), "Super Projet Test")
    assert (_span(invented), invented.kind) == ((1465, 1465), "item")
    assert invented.text == "Accompagner Super Projet Test pour aider les jeunes"
    assert _span(_one(locate_actions(mutated), "Cap Quartiers")) == (1462, 1463)  # its neighbour is unchanged
