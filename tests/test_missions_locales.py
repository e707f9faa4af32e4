"""Missions Locales (``ingest.missions_locales``): the table, names in texts, sectors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ingest.gazetteer import load_gazetteer
from ingest.missions_locales import (
    find_missions_locales,
    load_missions_locales,
    mission_locale_of,
    parse_table,
    sector_of,
)

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def test_every_commune_is_in_exactly_one_sector_of_its_territory() -> None:
    table = load_missions_locales()
    for epci in ("MEL", "CAVM"):
        counts = Counter(c for m in table.all if m.epci == epci for c in m.sector)
        communes = {c.name for c in load_gazetteer().communes if c.epci == epci}
        assert set(counts) == communes, epci
        assert set(counts.values()) == {1}, epci
    assert len([m for m in table.all if m.epci == "MEL"]) == 9


def test_every_row_says_where_it_comes_from_and_what_is_doubtful() -> None:
    for mission in load_missions_locales().all:
        assert mission.source
        assert mission.note or not mission.doubtful, mission.name  # a doubtful sector says why
        assert not set(mission.communes) & set(mission.doubtful)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("jeune suivi par la Mission Locale de Roubaix", ["Mission Locale Roubaix"]),
        (
            "Intervenants : Olivier (ML Lille avenir), Sarah (ML Roubaix)",
            ["Mission Locale Lille Avenirs", "Mission Locale Roubaix"],
        ),
        (
            "des Missions Locales Lille Avenirs et Impulsions Sud",
            ["Mission Locale Lille Avenirs", "Mission Locale Impulsions Métropole Sud"],
        ),
        ("Mission locale Lille-Lomme-Hellemmes", ["Mission Locale Lille Avenirs"]),
        ("porté par la MLMS", ["Mission Locale Impulsions Métropole Sud"]),
        ("Mission Locale Métropole Sud", ["Mission Locale Impulsions Métropole Sud"]),
        ("1113 jeunes/an pour la MELT", ["Mission Emploi Lys-Tourcoing"]),
        ("Mission Emploi Lys-Tourcoing", ["Mission Emploi Lys-Tourcoing"]),
        ("ADELIE Villeneuve d'Ascq Mons en Baroeul", ["Mission Locale Métropole Est (ADELIE)"]),
        ("la Mission locale jeunes du Valenciennois", ["Mission Locale Jeunes du Valenciennois"]),
        ("Mission locale Wattrelos-Leers", ["Mission Locale Wattrelos-Leers"]),
        ("mission locale val de marque", ["Mission Locale Val de Marque"]),
        # Not a Mission Locale: an address, a generic mention, a lower-case acronym.
        ("écrire à jckapusta@mlms.fr", []),
        ("les missions locales de la métropole", []),
        ("la mission locale", []),
        ("il va faire fondre (melt) la glace", []),
    ],
)
def test_names_in_texts(text: str, names: list[str]) -> None:
    assert find_missions_locales(text) == names


def test_every_mission_locale_of_the_corpus_list_is_found() -> None:
    """004 lists the nine Missions Locales of the MEL; each is recognised in its own words."""
    text = (CORPUS / "004_2142389b9465621c.txt").read_text(encoding="utf-8")
    found = set(find_missions_locales(text))
    mel = {m.name for m in load_missions_locales().all if m.epci == "MEL"}
    assert mel <= found


def test_mission_locale_of_a_commune() -> None:
    assert mission_locale_of("Loos") == ["Mission Locale Impulsions Métropole Sud"]
    assert mission_locale_of("loos") == mission_locale_of("Loos")  # any spelling
    assert mission_locale_of("Lomme") == ["Mission Locale Lille Avenirs"]
    assert mission_locale_of("Roubiax") == []  # exact spellings only (no typo tolerance)
    assert mission_locale_of("Valenciennes") == ["Mission Locale Jeunes du Valenciennois"]
    assert mission_locale_of("Denain") == []  # outside both territories
    # Sectors written from memory can be left out.
    assert mission_locale_of("Hem") == ["Mission Locale Val de Marque"]
    assert mission_locale_of("Hem", include_doubtful=False) == []


def test_sector_of() -> None:
    assert sector_of("MLMS", include_doubtful=False) == ["Loos", "Wattignies", "Haubourdin"]
    assert "Seclin" in sector_of("Mission Locale Impulsions Métropole Sud")
    assert sector_of("roubaix", include_doubtful=False) == ["Roubaix", "Lys-lez-Lannoy"]
    assert sector_of("Mission Locale de Nulle Part") == []


def test_the_table_refuses_an_unknown_commune() -> None:
    header = "id\tname\taliases\tepci\tcommunes\tcommunes_doubtful\tsource\tnote\n"
    with pytest.raises(ValueError, match="unknown communes"):
        parse_table(header + "x\tMission Locale X\t\tMEL\tLille|Denain\t\tsource\t\n")
    with pytest.raises(ValueError, match="line 2"):
        parse_table(header + "x\tMission Locale X\t\tPARIS\tLille\t\tsource\t\n")
