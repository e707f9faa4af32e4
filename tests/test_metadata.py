"""Gazetteer and chunk metadata extractors: exact values on short French strings and on the 001 guide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.cards import map_end_label
from ingest.gazetteer import Commune, Gazetteer, load_gazetteer, osa_distance_at_most_one, parse_table
from ingest.metadata import (
    AgeRange,
    Contacts,
    Territory,
    extract_age_range,
    extract_ages,
    extract_contacts,
    extract_porteur,
    extract_public,
    extract_publics,
    is_qpv,
    territory,
    territory_lines,
)

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "data" / "corpus" / "001_1eb8413346c42669.txt"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_gazetteer()


@pytest.fixture(scope="module")
def guide_lines() -> list[str]:
    # "Text already repaired": the only repair 001 needs here is dropping U+FFFD after bullets.
    return GUIDE.read_text(encoding="utf-8").replace("\ufffd", "").split("\n")


def names(communes: list[Commune]) -> list[str]:
    return [c.name for c in communes]


# --- the table ----------------------------------------------------------------------------------


def test_table_has_95_mel_and_35_cavm_members(gaz: Gazetteer) -> None:
    assert len(gaz.members("MEL")) == 95
    assert len(gaz.members("CAVM")) == 35
    assert len({c.name for c in gaz.communes}) == len(gaz.communes)
    for associated in ("Hellemmes", "Lomme"):
        commune = gaz.get(associated)
        assert commune is not None and commune.epci == "MEL" and commune.associated_with == "Lille"
    # the five communes of the CC de la Haute-Deûle (2020) and of the CC des Weppes (2017) are members
    for name in ("Allennes-les-Marais", "Annœullin", "Bauvin", "Carnin", "Provin", "Aubers", "Le Maisnil"):
        assert gaz.epci_of(name) == "MEL"


def test_table_rejects_unknown_epci_and_flags() -> None:
    assert parse_table("# comment\nname\tepci\nLille\tMEL\tLille Centre\tlillois\t\tnote\n")[0] == Commune(
        "Lille", "MEL", ("Lille Centre",), ("lillois",)
    )
    with pytest.raises(ValueError, match="unknown epci"):
        parse_table("name\tepci\nDouai\tCAD\n")
    with pytest.raises(ValueError, match="unknown flags"):
        parse_table("name\tepci\nLille\tMEL\t\t\tcapital\n")


def test_load_gazetteer_is_cached(gaz: Gazetteer) -> None:
    assert load_gazetteer() is gaz


# --- find: spellings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("villeneuve dascq", ["Villeneuve-d'Ascq"]),
        ("Villeneuve d’Ascq", ["Villeneuve-d'Ascq"]),
        ("VILLENEUVE-D'ASCQ", ["Villeneuve-d'Ascq"]),
        ("Mons en Baroeul", ["Mons-en-Barœul"]),
        ("ville de Mons-en-Baroeul", ["Mons-en-Barœul"]),
        ("Marcq-en-Barœul", ["Marcq-en-Barœul"]),
        ("LOOS", ["Loos"]),
        ("Lys-Les-Lannoy", ["Lys-lez-Lannoy"]),
        ("lys lez lannoy", ["Lys-lez-Lannoy"]),
        ("Annoeullin et Anoeullin", ["Annœullin"]),
        ("St André", ["Saint-André-lez-Lille"]),
        ("Condé sur Escaut", ["Condé-sur-l'Escaut"]),
        ("Bruay-sur-l’Escaut", ["Bruay-sur-l'Escaut"]),
        ("Quievrechain", ["Quiévrechain"]),
        ("Watrelos", ["Wattrelos"]),
        ("Hellemmes et Lomme", ["Hellemmes", "Lomme"]),
        ("Mission locale Lille-Lomme-Hellemmes", ["Lille", "Lomme", "Hellemmes"]),
        # glued and split map labels of the 001 guide
        ("BaisieuxChéreng", ["Baisieux", "Chéreng"]),
        ("WillemsForest- sur-Marque", ["Willems", "Forest-sur-Marque"]),
        ("Neuville-en-FerrainRoncq", ["Neuville-en-Ferrain", "Roncq"]),
        ("Beaucamps Ligny", ["Beaucamps-Ligny"]),
        ("Santes Emmerin", ["Santes", "Emmerin"]),
        ("La Bassée Salomé", ["La Bassée", "Salomé"]),
    ],
)
def test_find_spelling_variants(gaz: Gazetteer, text: str, expected: list[str]) -> None:
    assert names(gaz.find(text)) == expected


def test_find_is_ordered_unique_and_whole_word(gaz: Gazetteer) -> None:
    assert names(gaz.find("Roubaix, Tourcoing puis Roubaix")) == ["Roubaix", "Tourcoing"]
    assert gaz.find("Lillebonne, Hemisphère, Loosdrecht") == []


def test_longest_match_wins_over_short_names(gaz: Gazetteer) -> None:
    assert gaz.find("Loos-en-Gohelle") == []
    assert names(gaz.find("Loos et Loos-en-Gohelle")) == ["Loos"]
    assert gaz.find("Marcq-en-Pévèle, Mons-en-Pévèle, Comines-Warneton, Le Quesnoy") == []
    assert names(gaz.find("Lys-lez-Lannoy")) == ["Lys-lez-Lannoy"]  # not Lannoy


@pytest.mark.parametrize(
    "text",
    [
        "la Métropole Européenne de Lille",
        "Métropole européenne de\nLille",
        "Lille Métropole",
        "les jeunes de la Métropole Lilloise",
        "la MEL",
        "E2C Grand Lille",
        "l'Eurométropole Lille-Kortrijk-Tournai",
    ],
)
def test_lille_inside_the_metropole_is_not_the_commune(gaz: Gazetteer, text: str) -> None:
    assert gaz.find(text) == []


def test_scopes(gaz: Gazetteer) -> None:
    assert gaz.scopes("la Métropole Européenne de Lille et Valenciennes Métropole") == ["MEL", "CAVM"]
    assert gaz.scopes("la MEL") == ["MEL"]
    assert gaz.scopes("un mel de confirmation") == []  # "mél" (e-mail) is not the MEL
    assert names(gaz.find("la MEL et Lille")) == ["Lille"]
    assert names(gaz.find("Valenciennes Métropole et Valenciennes")) == ["Valenciennes"]


def test_addresses_and_streets_are_not_places(gaz: Gazetteer) -> None:
    assert gaz.find("ethurin@mairie-lille.fr, mde-lille.fr, https://www.roubaix.fr/x") == []
    assert names(gaz.find("12 rue de Lille à Roubaix")) == ["Roubaix"]
    assert names(gaz.find("Bleuse Borgne/Faubourg de Lille ;Anzin/Valenciennes)")) == ["Anzin", "Valenciennes"]


def test_common_word_names_need_a_capital_in_documents(gaz: Gazetteer) -> None:
    assert gaz.find("un don de 50 euros à la croix rouge, les santés") == []
    assert names(gaz.find("à Don, Croix et Santes")) == ["Don", "Croix", "Santes"]
    assert gaz.find("la Croix-Rouge") == []


def test_demonyms(gaz: Gazetteer) -> None:
    assert names(gaz.find("Pour les lillois de 18 à 25 ans")) == ["Lille"]
    assert names(gaz.find("les jeunes Monsois et les Roubaisiennes, tourquennois")) == ["Mons-en-Barœul", "Roubaix", "Tourcoing"]
    assert gaz.find("la Mission locale jeunes du Valenciennois") == []  # the area, not the commune


def test_epci_of(gaz: Gazetteer) -> None:
    assert gaz.epci_of("Lomme") == "MEL"
    assert gaz.epci_of("valenciennes") == "CAVM"
    assert gaz.epci_of("Mons en Baroeul") == "MEL"
    assert gaz.epci_of("Métropole Européenne de Lille") == "MEL"
    assert gaz.epci_of("Loos-en-Gohelle") is None
    assert gaz.epci_of("Paris") is None


# --- find_in_question: typos -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("une action pour un jeune de Tourcoign ?", ["Tourcoing"]),
        ("décrocheur de 17 ans à Wattignie", ["Wattignies"]),
        ("Haubourdn", ["Haubourdin"]),
        ("mons en baroeil", ["Mons-en-Barœul"]),
        ("Valencienne", ["Valenciennes"]),
        ("un jeune de croix", ["Croix"]),  # lower-case common-word name after a locative
        ("villeneuve dascq ou LOOS", ["Villeneuve-d'Ascq", "Loos"]),
        ("Loas", []),  # names under 7 letters get no typo tolerance
        ("quel réseau pour les jeunes ?", []),  # a French word one edit from Préseau
        ("elle vient avec ses copines", []),
        ("faire un don à la croix rouge", []),
        ("loos en gohele", []),  # a typo of a non-member place stays a non-member place
    ],
)
def test_find_in_question(gaz: Gazetteer, question: str, expected: list[str]) -> None:
    assert names(gaz.find_in_question(question)) == expected


def test_documents_get_no_typo_tolerance(gaz: Gazetteer) -> None:
    assert gaz.find("Tourcoign") == []


def test_osa_distance() -> None:
    assert osa_distance_at_most_one("tourcoign", "tourcoing")  # swap
    assert osa_distance_at_most_one("wattignie", "wattignies")  # deletion
    assert osa_distance_at_most_one("haubourdin", "haubourdin")
    assert not osa_distance_at_most_one("roubaix", "tourcoing")
    assert not osa_distance_at_most_one("abcx", "xabc")


# --- the map labels of the 001 guide -------------------------------------------------------------------


def map_windows(lines: list[str]) -> list[list[str]]:
    """Non-blank lines from each "Porteur de l'action" line to the map's last label "Radinghem-en-Weppes"."""
    windows: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if re.match(r"\s*Porteurs? de l", line):
            current = []
            continue
        if current is None or not line.strip():
            continue
        if line.strip().startswith(("Pour ", "Sur ", "sur ")):
            current = None  # a card without a map
            continue
        current.append(line.strip())
        if line.strip() == "Radinghem-en-Weppes":
            windows.append(current)
            current = None
    return windows


def test_every_map_label_line_of_the_guide_is_recognised(gaz: Gazetteer, guide_lines: list[str]) -> None:
    windows = map_windows(guide_lines)
    assert len(windows) == 22
    labels = {line for window in windows for line in window}
    assert len(labels) > 80
    # The only map lines that are not commune names: a highlighted quartier of Lille (l.1746-1747).
    assert {line for line in labels if not gaz.is_label_line(line)} == {"Quartier Faubourg", "de BéthuneHerlies"}
    found = {c.name for line in labels for c in gaz.find(line)}
    assert all(gaz.epci_of(name) == "MEL" for name in found)
    assert {"Saint-André-lez-Lille", "Noyelles-lès-Seclin", "Hallennes-lez-Haubourdin", "Beaucamps-Ligny"} <= found


def test_label_lines(gaz: Gazetteer) -> None:
    assert gaz.is_label_line(" Lille")
    assert gaz.is_label_line("Lomme Villeneuve d’Ascq")
    assert not gaz.is_label_line("Bruay-sur-l’Escaut)")  # an item of a list in prose
    assert not gaz.is_label_line("Roubaisienne")  # a demonym is not a label
    assert not gaz.is_label_line("et ses communes limitrophes")
    assert not gaz.is_label_line("")


# --- ages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pour les jeunes de 16 à 25 ans", (16, 25)),
        ("jeunes âgés entre 16 et 25 ans", (16, 25)),
        ("les 16-25 ans", (16, 25)),
        ("ET SOCIAL DES 16 - 17 ANS", (16, 17)),
        ("ET SOCIAL DES 16\u2009-\u200917 ANS", (16, 17)),  # thin spaces
        ("de 16 ans à 25 ans", (16, 25)),
        ("10 jeunes concernés, 19/27 ans", (19, 27)),
        ("de 16 à\n25 ans", (16, 25)),
        ("les moins de 26 ans", (None, 25)),
        ("jusqu'à 25 ans", (None, 25)),
        ("à partir de 16 ans", (16, None)),
        ("dès 18 ans", (18, None)),
        ("à partir de 16 ans et jusqu’à 25 ans", (16, 25)),
        ("des jeunes mineurs", (None, 17)),
        ("les jeunes majeurs", (18, None)),
        ("31 mineurs / 12 majeurs", (None, None)),
        ("des enjeux majeurs", (None, None)),
        ("les collégiens", (11, 15)),
        ("les lycéens", (15, 18)),
        ("collégiens et lycéens", (11, 18)),
        ("Pour les jeunes de 6e et 5e", (11, 13)),
        ("la 5^{ème} épicerie solidaire", (None, None)),
        ("Pour les étudiants de la Métropole", (None, None)),
        ("Zidane, 19 ans, originaire de Loos", (None, None)),
        ("2017-2020 : déploiement", (None, None)),
        ("un accompagnement sur 10 à 12 ans", (None, None)),
        ("logements anciens (+ de 35 ans)", (None, None)),
        ("", (None, None)),
    ],
)
def test_extract_ages(text: str, expected: tuple[int | None, int | None]) -> None:
    assert extract_ages(text) == expected


def test_age_extension_keeps_the_general_bound() -> None:
    text = "Pour les jeunes de 16 à 25 ans, pouvant aller jusqu’à 30 ans si le jeune est \nreconnu travailleur handicapé\n\nLES RESSOURCES"
    assert extract_age_range(text) == AgeRange(16, 25, 30, "si le jeune est reconnu travailleur handicapé")
    assert extract_ages(text) == (16, 25)


def test_public_line_wins_over_other_ages() -> None:
    text = "Accompagner les jeunes de 13 à 30 ans du quartier.\n\nPour les jeunes de 16 à 25 ans\n"
    assert extract_ages(text) == (13, 30)  # no public given: envelope of the ranges
    assert extract_ages(text, public="Pour les jeunes de 16 à 25 ans") == (16, 25)
    # a bound the public line does not give is taken from the text
    card = "accompagner les jeunes de 16 à 17 ans en situation de décrochage"
    assert extract_ages(card, "Pour les décrocheurs scolaires ayant quitté l’école après 16 ans") == (16, 17)
    # ... unless it contradicts the public line
    assert extract_ages("de 18 à 25 ans", "Pour les jeunes de moins de 18 ans") == (None, 17)
    # words count only when a source has no number
    assert extract_ages("raccrochage scolaire de jeunes mineurs", "Pour les jeunes de 16 à 25 ans") == (16, 25)


# --- contacts ------------------------------------------------------------------------------------------

CONTACT_BLOCK = "\n".join(
    [
        " POUR EN SAVOIR PLUS",
        "",
        "Chargée de projet  ",  # the source's trailing spaces
        "Coline Spillemaecker",
        "c.spillemaecker@reussir.asso.fr",
        "Tél : 03 20 14 85 50 / 06 63 80 59 51",
        "",
        " mde-lille.fr / missionlocale-lille.fr",
        " Coline Spillemaecker Pro",
        "",
        "Mission Locale de Lille Lomme ",
    ]
)


def test_extract_contacts_from_a_card_block() -> None:
    assert extract_contacts(CONTACT_BLOCK) == Contacts(
        emails=("c.spillemaecker@reussir.asso.fr",),
        phones=("03 20 14 85 50", "06 63 80 59 51"),
        urls=("mde-lille.fr", "missionlocale-lille.fr"),
        handles=("Coline Spillemaecker Pro",),
        names=("Coline Spillemaecker",),
    )


def test_phones_as_written() -> None:
    text = "Tél : 06 99 78 34 23\nTél. 03.20.89.44.33\nStandard : +33(0)3 20 21 22 23\nFax 0320148550"
    assert extract_contacts(text).phones == ("06 99 78 34 23", "03.20.89.44.33", "+33(0)3 20 21 22 23", "0320148550")
    helplines = 'contacter le 3018 (gratuit et anonyme)\n- Appeler le N°vert "Non au harcèlement" : 3020'
    assert extract_contacts(helplines).phones == ("3018", "3020")
    assert extract_contacts("120 jeunes en 2019, 3020 euros").phones == ()


def test_urls_and_emails_as_written() -> None:
    text = (
        "www.lillemetropole.fr\n"
        "https://www.lot-et-garonne.gouv.fr/le-violentometre-06186.html>\n"
        "voir http://guide-aides.hautsdefrance.fr/>.\n"
        "anne.caniaux@tineraires.asso.fr\n"  # a typo of the source, kept
        "ethurin@mairie-lille.fr"
    )
    contacts = extract_contacts(text)
    assert contacts.urls == (
        "www.lillemetropole.fr",
        "https://www.lot-et-garonne.gouv.fr/le-violentometre-06186.html",
        "http://guide-aides.hautsdefrance.fr/",
    )
    assert contacts.emails == ("anne.caniaux@tineraires.asso.fr", "ethurin@mairie-lille.fr")


def test_emails_cut_at_a_line_end() -> None:
    assert extract_contacts("c.descamps@competencesetem-\nplois.org").emails == ("c.descamps@competencesetemplois.org",)
    assert extract_contacts("resp-\njeunesse@ville-seclin.fr").emails == ("resp-jeunesse@ville-seclin.fr",)


def test_handles_are_lone_lines_starting_with_a_space_near_contacts() -> None:
    text = (
        "cyrielle@pourtoilentrepreneur.com \n\n Pour toi l’entrepreneur\n\n ptle59\n fcm_mobilitymakers \n"
        " afev.metropolelilloise\n Face Lille\n Lille\n Sur l’ensemble du \n territoire métropolitain\n"
        " POUR EN SAVOIR PLUS\n Pour les jeunes de 16 à 25 ans\n"
    )
    assert extract_contacts(text).handles == (
        "Pour toi l’entrepreneur",
        "ptle59",
        "fcm_mobilitymakers",
        "afev.metropolelilloise",
        "Face Lille",
    )
    far = "\n".join(["ptle59@x.fr"] + ["texte"] * 15 + [" ptle59"])
    assert extract_contacts(far).handles == ()


# --- public and porteur ----------------------------------------------------------------------------------


def test_extract_public() -> None:
    assert extract_public(
        "Radinghem-en-Weppes\n\nLille\n\nPour les décrocheurs scolaires ayant quitté l’école après 16 ans\n\nLES RESSOURCES"
    ) == ("Pour les décrocheurs scolaires ayant quitté l’école après 16 ans")
    assert extract_public(
        "Pour les jeunes de 13 à 30 ans, demandeurs d’emploi résidant dans la MEL \n(principalement à Lille, Lomme ou Hellemmes)\n\nLES"
    ) == ("Pour les jeunes de 13 à 30 ans, demandeurs d’emploi résidant dans la MEL (principalement à Lille, Lomme ou Hellemmes)")
    assert extract_public("Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin. \nLa suite") == (
        "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin."
    )
    assert extract_public("Pour les jeunes de 6e et 5e en temps scolaire, les acteurs édu-\ncatifs et les parents. \n") == (
        "Pour les jeunes de 6e et 5e en temps scolaire, les acteurs éducatifs et les parents."
    )
    assert extract_public("Pour les jeunes de 18 à 30 ans\nLES RESSOURCES\nDeux salariés") == "Pour les jeunes de 18 à 30 ans"
    assert (
        extract_public(" Pour les jeunes Monsois de 16 à 25 ans\n POUR EN SAVOIR PLUS")
        == "Pour les jeunes Monsois de 16 à 25 ans"
    )
    assert extract_public("Jeunes de la Métropole Lilloise entre 18 et 30 ans, ayant une ou plusieurs \ndifficultés\n") == (
        "Jeunes de la Métropole Lilloise entre 18 et 30 ans, ayant une ou plusieurs difficultés"
    )
    assert extract_public("L’action est ouverte.\npour les jeunes du quartier") is None
    assert extract_publics("Pour les jeunes de 16 à 25 ans\n\nPour les étudiants\n") == [
        "Pour les jeunes de 16 à 25 ans",
        "Pour les étudiants",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Porteur de l'action : Itinéraires\n\nWarneton", "Itinéraires"),
        ("Porteurs de l’action : villes d’Haubourdin et de Loos", "villes d’Haubourdin et de Loos"),
        (
            "Porteur de l’actions : Centres sociaux Mosaïque et Echo\n Pour les jeunes de 13 à 20 ans",
            "Centres sociaux Mosaïque et Echo",
        ),
        ("Porteur de l’action : Centre Social Imagine Pour les jeunes de 16 à 25 ans", "Centre Social Imagine"),
        ("Porteur de l’action : CRIJ Hauts-de-France Sur l’ensemble du territoire", "CRIJ Hauts-de-France"),
        ("Porteur de l’action : FACE MEL ", "FACE MEL"),
        ("Porteur de l’action :", None),
        ("Le porteur de l'action est une association.", None),
    ],
)
def test_extract_porteur(text: str, expected: str | None) -> None:
    assert extract_porteur(text) == expected


# --- territory -----------------------------------------------------------------------------------------


def test_territory_from_the_public_line(gaz: Gazetteer) -> None:
    public = "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin."
    assert territory(public, public, None, gaz) == Territory(("Loos", "Wattignies", "Haubourdin"), "several", False, "public")
    assert territory("", "Pour les lillois de 18 à 25 ans", "ville de Lille", gaz) == Territory(
        ("Lille",), "commune", False, "public"
    )
    assert territory("", "Pour les jeunes métropolitains de 18 à 25 ans", None, gaz) == Territory((), "MEL", False, "public")
    # the public line wins over a highlighted map label
    text = "Radinghem-en-Weppes\n\nLille\n\nPour les étudiants de la Métropole Européenne de Lille\n"
    assert territory(text, "Pour les étudiants de la Métropole Européenne de Lille", None, gaz) == Territory(
        (), "MEL", False, "public"
    )
    # a metropolitan phrase sets the scope, the named communes are kept
    public = (
        "Pour les jeunes de 13 à 30 ans, demandeurs d’emploi résidant dans la MEL (principalement à Lille, Lomme ou Hellemmes)"
    )
    assert territory("", public, None, gaz) == Territory(("Lille", "Lomme", "Hellemmes"), "MEL", False, "public")


def test_territory_from_explicit_lines(gaz: Gazetteer) -> None:
    text = "Porteur de l’action : CRIJ Hauts-de-France\n Sur l’ensemble du \nterritoire métropolitain\n\n"
    assert territory(text, None, "CRIJ Hauts-de-France", gaz) == Territory((), "MEL", False, "line")
    text = "Porteur de l’action : Association Itinéraires\n Lille\n Pour les jeunes collégiens"
    assert territory(text, "Pour les jeunes collégiens", "Association Itinéraires", gaz) == Territory(
        ("Lille",), "commune", False, "line"
    )


def test_territory_never_from_a_whole_map(gaz: Gazetteer, guide_lines: list[str]) -> None:
    card = "\n".join(guide_lines[183:345])  # l.184-345: porteur, map, highlighted "Lille", public
    end = map_end_label(guide_lines)  # read from the guide: the label that closes every map
    assert end == "Radinghem-en-Weppes"
    assert territory(card, extract_public(card), extract_porteur(card), gaz, map_end=end) == Territory(
        ("Lille",), "commune", False, "line"
    )
    assert territory(card, extract_public(card), extract_porteur(card), gaz) == Territory()  # unknown map end: no guess
    map_only = "\n".join(guide_lines[183:342])  # up to the map's last label: no highlight
    assert territory(map_only, None, "Itinéraires", gaz, map_end=end) == Territory()
    assert territory_lines("\n".join(guide_lines[185:300]), gaz) == []  # a piece of a map


def test_territory_from_the_porteur(gaz: Gazetteer) -> None:
    public = "Pour les jeunes de 13 à 25 ans du territoire"
    assert territory("", public, "ville de Seclin", gaz) == Territory(("Seclin",), "commune", False, "porteur")
    assert territory("", None, "villes de Croix, Hem, Lys-Les-Lannoy, Roubaix", gaz) == Territory(
        ("Croix", "Hem", "Lys-lez-Lannoy", "Roubaix"), "several", False, "porteur"
    )
    assert territory("", None, "Métropole Européenne de Lille", gaz) == Territory((), "MEL", False, "porteur")
    assert territory("", None, "FACE MEL", gaz) == Territory()
    assert territory("", None, "Maison de quartier Moulins", gaz) == Territory()


def test_territory_valenciennes(gaz: Gazetteer) -> None:
    text = "Valenciennes Métropole déploie l'action sur l'ensemble du territoire."
    assert territory(text, None, None, gaz) == Territory((), "Valenciennes Métropole", False, "line")
    assert territory("sur l'ensemble du territoire.", None, None, gaz, metropole="CAVM").scope == "Valenciennes Métropole"
    assert territory("sur l'ensemble du territoire.", None, None, gaz).scope == "MEL"


def test_qpv() -> None:
    assert is_qpv("Pour les jeunes de 16 à 25 ans principalement issus de quartiers prioritaires \npolitique de la ville")
    assert is_qpv("habitants des QPV")
    assert is_qpv("les quartiers politique de la ville")
    assert not is_qpv("jeunes des secteurs hors QPV")
    assert not is_qpv("secteurs HORS POLITIQUE DE LA VILLE")
    assert territory("", "Pour les jeunes de 15 à 30 ans des quartiers prioritaires de la métropole", None) == Territory(
        (), "MEL", True, "public"
    )


# --- the hand-checked gold records of the 001 guide (shared/fixtures/gold-records-sample.json) ------------


@pytest.mark.parametrize(
    ("lines", "ages", "communes", "scope"),
    [
        ((140, 350), (16, 17), ("Lille",), "commune"),  # décrochage 16-17, Itinéraires
        ((352, 571), (13, 30), ("Haubourdin", "Loos"), "several"),  # Forum emploi
        ((1445, 1662), (18, 25), (), "MEL"),  # Parcours inversés
        ((2596, 2805), (18, 25), ("Lille",), "commune"),  # Permis de réciprocité
        ((5765, 5823), (13, 25), ("Seclin",), "commune"),  # PIJ numérique
        ((5960, 6023), (13, 17), (), "MEL"),  # Wi-Filles
    ],
)
def test_gold_cards(
    gaz: Gazetteer,
    guide_lines: list[str],
    lines: tuple[int, int],
    ages: tuple[int, int],
    communes: tuple[str, ...],
    scope: str,
) -> None:
    card = "\n".join(guide_lines[lines[0] - 1 : lines[1]])
    public = extract_public(card)
    assert extract_ages(card, public) == ages
    found = territory(card, public, extract_porteur(card), gaz, map_end=map_end_label(guide_lines))
    assert (found.communes, found.scope) == (communes, scope)


def test_places_are_every_commune_the_passage_names_in_order() -> None:
    from ingest.enrich import chunk_metadata

    meta = chunk_metadata("Collèges Chasse Royale de Valenciennes et Jules Ferry d'Anzin.", document="Annexe", epci="CAVM")
    assert meta["places"] == ["Valenciennes", "Anzin"]
    assert chunk_metadata("Ateliers au centre social.", document="Annexe", epci="CAVM")["places"] == []


def test_a_public_outside_priority_neighbourhoods_is_read_from_the_text() -> None:
    from ingest.metadata import excludes_qpv

    assert excludes_qpv("Une action de raccrochage des jeunes, pour les territoires hors QPV")
    assert excludes_qpv("jeunes décrocheurs originaires des secteurs HORS POLITIQUE DE LA VILLE des Missions Locales")
    assert not excludes_qpv("Production de logements prioritairement hors QPV.")  # not about a public
    assert not excludes_qpv("Pour les jeunes des quartiers prioritaires.")


def test_every_chunk_carries_exactly_the_documented_metadata_keys() -> None:
    from ingest.enrich import ELIGIBILITY_KEYS, METADATA_KEYS, chunk_metadata

    meta = chunk_metadata("Pour les jeunes de 16 à 25 ans à Loos.", document="Guide", epci="MEL")
    assert set(meta) == set(METADATA_KEYS) and set(ELIGIBILITY_KEYS) <= set(meta)


@pytest.mark.parametrize(
    ("public", "gender"),
    [
        ("Pour les jeunes filles âgées de 13 à 17 ans ayant envie de découvrir les métiers numériques", "f"),
        ("Jeunes femmes de 18 à 30 ans", "f"),
        ("Pour les filles et les garçons de 11 à 15 ans", None),
        ("Pour les jeunes de 16 à 25 ans", None),
        (None, None),
    ],
)
def test_public_gender_follows_the_public_line(public: str | None, gender: str | None) -> None:
    from ingest.metadata import public_gender

    assert public_gender(public) == gender
