"""The whole of France (``ingest.france``): reference data, lookups, places in questions, filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.query import analyse
from ingest.france import CAVM_SIREN, MEL_SIREN, load_france
from ingest.gazetteer import load_gazetteer, load_phrases, name_key

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "ingest" / "data"


def outside(question: str) -> list[tuple[str, str]]:
    """(kind, name) of the places outside both territories (or of unknown side) understood in a question."""
    return [(p.kind, p.name) for p in load_france().find_places(question) if p.in_territory is not True]


# -- reference data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["france_communes.tsv", "france_epcis.tsv", "france_departments.tsv", "france_regions.tsv", "france_common_words.tsv"]
)
def test_data_files_record_their_source_and_stay_small(name: str) -> None:
    path = DATA / name
    header = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    assert "@etalab/decoupage-administratif" in header and "Licence Ouverte" in header
    assert "python ingest/data/build_france.py" in header  # the exact command
    assert path.stat().st_size < 3_000_000


def test_the_national_tables_are_complete() -> None:
    france = load_france()
    assert len(france.communes) > 34_000
    assert len(france.departments) >= 101 and len(france.regions) >= 18
    assert len({c.insee for c in france.communes}) == len(france.communes)
    # Paris, Lyon, Marseille: one commune each, with every postal code of their arrondissements.
    marseille = france.named("Marseille")
    assert [(c.insee, c.department) for c in marseille] == [("13055", "13")]
    assert {f"130{n:02d}" for n in range(1, 17)} <= set(marseille[0].postal_codes)
    assert not any("Arrondissement" in c.name for c in france.communes)
    assert [c.name for c in france.with_postal_code("75015")] == ["Paris"]


def test_the_territories_match_the_etalab_epci_member_lists() -> None:
    """Every member of communes.tsv is in the national table with its EPCI's SIREN, and the counts agree."""
    france = load_france()
    sirens = {"MEL": MEL_SIREN, "CAVM": CAVM_SIREN}
    for member in load_gazetteer().communes:
        if member.associated_with:
            continue  # Hellemmes, Lomme: communes associées of Lille, not current communes
        national = [c for c in france.named(member.name) if c.department == "59"]
        assert len(national) == 1, member.name
        assert national[0].name == member.name  # same official spelling
        assert national[0].epci_siren == sirens[member.epci], member.name
    for code, count in (("MEL", 95), ("CAVM", 35)):
        epci = france.epci(sirens[code])
        assert epci is not None and epci.members == count == len(france.members(sirens[code]))
        assert len(load_gazetteer().members(code)) == count
        assert {c.name for c in france.members(sirens[code])} == {c.name for c in load_gazetteer().members(code)}


# -- lookups ----------------------------------------------------------------------------------------


def test_postal_codes() -> None:
    france = load_france()
    assert [c.name for c in france.with_postal_code("59120")] == ["Loos"]
    # 59300 is shared: every commune that has it, the largest first.
    assert [c.name for c in france.with_postal_code("59300")] == ["Valenciennes", "Aulnoy-lez-Valenciennes", "Famars"]
    assert france.with_postal_code("00000") == []
    # A commune associée's own postal code gives it rather than Lille.
    assert [p.name for p in france.postal_places("59160")] == ["Lomme", "Capinghem"]


def test_homonyms_resolve_to_all_candidates_the_nord_and_pas_de_calais_first() -> None:
    france = load_france()
    named = france.named("Saint-Amand")
    assert named[0].name == "Saint-Amand-les-Eaux"  # what "Saint-Amand" means in the Nord (an alias)
    assert [c.department for c in named[1:]] == ["62", "23"]  # the communes named so, the Pas-de-Calais first
    place = france.lookup("Saint-Amand")[0]
    assert place.ambiguous and [c.department for c in place.alternatives] == ["62", "23"]
    assert france.named("saint amand les eaux")[0].insee == "59526"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Nord", "59"),
        ("le 62", "62"),
        ("Pas-de-Calais", "62"),
        ("pas de calais", "62"),
        ("59", "59"),
        ("département du Nord", "59"),
        ("Landes", "40"),
        ("2A", "2A"),
        ("la Somme", "80"),
    ],
)
def test_departments_by_name_or_number(text: str, code: str) -> None:
    department = load_france().department(text)
    assert department is not None and department.code == code


def test_regions_and_unknown_areas() -> None:
    france = load_france()
    region = france.region("Hauts-de-France")
    assert region is not None and region.code == "32"
    assert france.department("Atlantide") is None and france.region("Atlantide") is None


def test_lookup_of_a_field_value() -> None:
    france = load_france()
    assert [(p.name, p.in_territory, p.epci) for p in france.lookup("loos")] == [("Loos", True, "MEL")]
    assert [(p.name, p.in_territory, p.epci) for p in france.lookup("Denain")] == [("Denain", False, "CA de la Porte du Hainaut")]
    assert [p.name for p in france.lookup("Roubiax")] == ["Roubaix"]  # the gazetteer's typo tolerance
    assert [p.name for p in france.lookup("59120")] == ["Loos"]
    assert [(p.kind, p.name) for p in france.lookup("Pas-de-Calais")] == [("department", "Pas-de-Calais")]
    assert france.lookup("Trifouilly-les-Oies") == []


# -- places in questions ------------------------------------------------------------------------------


def test_denain_is_outside_both_territories_with_its_epci() -> None:
    a = analyse("décrocheur de 19 ans à Denain")
    assert (a.communes, a.epci, a.age) == ((), None, 19)
    assert a.to_json()["places"] == [
        {
            "kind": "commune",
            "name": "Denain",
            "insee": "59172",
            "postal_codes": ["59220"],
            "department": "59",
            "region": "32",
            "epci": "CA de la Porte du Hainaut",
            "epci_siren": "200042190",
            "in_territory": False,
            "ambiguous": False,
            "alternatives": [],
            "via": "name",
            "surface": "Denain",
            "residence": True,
            "located": False,
            "near": False,
        }
    ]
    assert a.lives_outside and a.has_person


@pytest.mark.parametrize(
    ("question", "name", "epci"),
    [
        ("Quelle action pour un jeune de Maubeuge ?", "Maubeuge", "CA Maubeuge Val de Sambre"),
        ("jeune de 20 ans qui habite Marseille", "Marseille", "Métropole d'Aix-Marseille-Provence"),
        ("il vit à Lens", "Lens", "CA de Lens - Liévin"),
        ("secteur de Maubeuge", "Maubeuge", "CA Maubeuge Val de Sambre"),
        ("il habite au Havre", "Le Havre", "CU Le Havre Seine Métropole"),
        ("un jeune de Loos-en-Gohelle", "Loos-en-Gohelle", "CA de Lens - Liévin"),  # not Loos
        ("un jeune de Villeneuve-sur-Lot", "Villeneuve-sur-Lot", "CA du Grand Villeneuvois"),  # not Villeneuve-d'Ascq
        ("DECROCHEUR DE 19 ANS A DENAIN", "Denain", "CA de la Porte du Hainaut"),
        ("jeune de 18 ans à denain", "Denain", "CA de la Porte du Hainaut"),
        ("habite à Eu", "Eu", "CC des Villes Soeurs"),  # a common word, but after "à" and capitalised
        ("Marseille : quelle action pour un jeune ?", "Marseille", "Métropole d'Aix-Marseille-Provence"),
    ],
)
def test_communes_outside_the_territories(question: str, name: str, epci: str) -> None:
    a = analyse(question)
    assert a.communes == () and a.epci is None
    assert [(p.name, p.epci, p.in_territory) for p in a.places] == [(name, epci, False)]


def test_a_postal_code_is_its_communes() -> None:
    assert (
        analyse("quelle action pour un jeune de 17 ans, 59120 ?").communes
        == analyse("jeune de 17 ans à Loos").communes
        == ("Loos",)
    )
    a = analyse("un décrocheur au 59300")
    assert (a.communes, a.epci) == (("Valenciennes", "Aulnoy-lez-Valenciennes", "Famars"), "CAVM")
    assert {p.via for p in a.places} == {"postal_code"}
    # The commune named beside its postal code is the one.
    assert analyse("jeune habitant 59300 Valenciennes").communes == ("Valenciennes",)
    # Quantities are not postal codes.
    assert outside("un budget de 15000 euros pour 10000 jeunes") == []
    assert outside("de 10000 à 15000 par an") == []


def test_a_department_alone_is_recorded_but_is_not_a_commune() -> None:
    a = analyse("un jeune dans le Nord")
    assert (a.communes, a.epci, a.has_person) == ((), None, False)
    assert [(p.kind, p.name, p.department, p.in_territory) for p in a.places] == [("department", "Nord", "59", None)]
    assert a.topic == "un jeune"
    for question, code in (
        ("jeune du 62", "62"),
        ("un jeune qui vit dans le 93", "93"),
        ("en Seine-Saint-Denis", "93"),
        ("Lille (59)", "59"),
    ):
        assert [p.department for p in analyse(question).places if p.kind == "department"] == [code], question
    var = analyse("un jeune qui vit dans le Var")
    assert [(p.kind, p.name, p.in_territory) for p in var.places] == [("department", "Var", False)] and var.lives_outside


def test_homonyms_in_a_question_say_they_are_ambiguous() -> None:
    place = analyse("un jeune de Saint-Amand").places[0]
    assert (place.name, place.ambiguous, place.department) == ("Saint-Amand-les-Eaux", True, "59")
    assert analyse("un jeune de Saint-Amand").to_json()["places"][0]["alternatives"][0] == {
        "name": "Saint-Amand",
        "insee": "62741",
        "department": "62",
    }


@pytest.mark.parametrize(
    "question",
    [
        "il a eu un bac plus deux",
        "quelle action pour un jeune ?",
        "ma sœur a 17 ans",
        "il est à la rue depuis une semaine",
        "elle cherche un job d'été",
        "il a sept frères et sœurs",
        "oui, il a le permis",
        "il veut aller au Salon de l'étudiant",
        "la somme de 500 euros suffit ?",
        "le contact de Mme Nancy Martin",
        "Nancy a 17 ans",
        "partir à l'étranger",
        "l'offre de services de la Mission Locale",
        "inscription avant le 18 mars",
        "il a eu 18 ans le 17",
        "permanences dans 12 lycées",
        "les partenaires du PIA",
        "elle habite en face de la gare",
        "un jeune qui vit chez sa mère",
        "au lycée Descartes",
        "un jeune de la métropole lilloise",
        "il a besoin de plus d'aide",
        "il est au chômage depuis 3 mois",
        "Bonjour, une question sur la Garantie jeunes",
        "jeune de Moulins",  # a quartier of Lille, not Moulins (Allier)
    ],
)
def test_ordinary_sentences_place_nobody_elsewhere(question: str) -> None:
    assert outside(question) == []


def test_the_dev_questions_place_nobody_elsewhere() -> None:
    """The evaluation questions are about the two territories: the only other place they name is the Nord."""
    for line in (ROOT / "eval" / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        question = json.loads(line)["question"]
        assert set(outside(question)) <= {("department", "Nord")}, question


def test_in_territory_matching_is_unchanged() -> None:
    gazetteer = load_gazetteer()
    for question in ("Un jeune de Roubiax cherche un emploi", "jeune de st saulve", "jeune de croix", "une lilloise de 20 ans"):
        expected = tuple(dict.fromkeys(c.name for c in gazetteer.find_in_question(question)))
        assert analyse(question).communes == expected and expected
        assert all(p.in_territory for p in analyse(question).places)
    # A commune associée keeps its name.
    place = analyse("jeune de Lomme").places[0]
    assert (place.name, place.epci, place.in_territory, place.insee, place.postal_codes) == (
        "Lomme",
        "MEL",
        True,
        None,
        ("59160",),
    )


def test_the_gazetteer_phrase_lists_come_from_the_data_file() -> None:
    phrases = load_phrases()
    kinds = {kind for kind, _, _ in phrases.rows}
    assert {"scope_phrase", "scope_acronym", "other_place", "other_acronym", "locative", "not_typo", "street_word"} <= kinds
    assert ("Lille Métropole", "MEL") in phrases.pairs("scope_phrase")
    gazetteer = load_gazetteer()
    assert gazetteer.scopes("actions de Lille Métropole et de la CAVM") == ["MEL", "CAVM"]
    assert gazetteer.find("Loos-en-Gohelle") == []
    assert gazetteer.find_in_question("le réseau") == []  # not_typo: not Préseau
    assert gazetteer.find("rue de Lille") == []
    # Every alias, quartier and associee_postal row points at something real.
    france = load_france()
    assert all(france.commune(insee) for _, insee in phrases.pairs("alias"))
    assert all(gazetteer.get(name) for name, _ in phrases.pairs("associee_postal"))
    assert all(gazetteer.get(commune) for _, commune in phrases.pairs("quartier"))
    assert all(france.named(name) for name, _ in phrases.pairs("quartier"))
    assert all(name_key(word) == word for word in phrases.values("common_word"))


def test_where_one_works_studies_or_goes_is_not_where_one_lives() -> None:
    for question in ("il veut travailler à Paris", "un stage à Lyon"):
        a = analyse(question)
        assert [p.residence for p in a.places] == [False], question
        assert not a.lives_outside and not a.has_person, question
        assert a.to_json()["places"][0]["residence"] is False
    # Where an organisation or an action is, with no place of the two territories named: the question is
    # about that place, outside both (no home there either).
    a = analyse("Que propose la Mission Locale de Maubeuge ?")
    assert [(p.residence, p.located) for p in a.places] == [(False, True)]
    assert a.lives_outside
    assert not analyse("un jeune de Lille suivi par la Mission Locale de Maubeuge").lives_outside
    a = analyse("elle habite à Denain et cherche un stage à Lille")
    assert a.communes == ("Lille",)  # as before: a commune of the territories named in the question
    assert [(p.name, p.residence) for p in a.places] == [("Denain", True), ("Lille", False)]
    assert a.lives_outside
    # Whatever is done there (a service civique, an apprenticeship) says where the young person goes.
    a = analyse("ma jeune de 17 ans vit à Courtrai, elle veut faire un service civique à Lille")
    assert [(p.name, p.residence) for p in a.places] == [("Courtrai", True), ("Lille", False)] and a.lives_outside
    assert not analyse("jeune de 19 ans en alternance à Lille").lives_outside
    # A correction: the place said after "pardon", "plutôt" is the home.
    a = analyse("jeune de 22 ans à Valenciennes... ah non pardon à Maubeuge, il cherche une formation")
    assert [(p.name, p.residence) for p in a.places] == [("Valenciennes", False), ("Maubeuge", True)] and a.lives_outside
    a = analyse("un jeune de Roubaix qui veut travailler plutôt à Paris")
    assert [(p.name, p.residence) for p in a.places] == [("Roubaix", True), ("Paris", False)]


def test_the_build_script_writes_the_tables_from_an_etalab_package(tmp_path: Path) -> None:
    """ingest/data/build_france.py on a tiny package of the same shape (the real one is run by hand)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_france", DATA / "build_france.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    package = tmp_path / "package"
    (package / "data").mkdir(parents=True)
    files = {
        "package.json": {"name": "@etalab/decoupage-administratif", "version": "9.9.9", "license": "MIT"},
        "data/communes.json": [
            {
                "code": "13055",
                "nom": "Marseille",
                "type": "commune-actuelle",
                "departement": "13",
                "codesPostaux": ["13001"],
                "population": 9,
            },
            {
                "code": "13201",
                "nom": "Marseille 1er Arrondissement",
                "type": "arrondissement-municipal",
                "commune": "13055",
                "departement": "13",
                "codesPostaux": ["13001"],
            },
            {"code": "59355", "nom": "Lomme", "type": "commune-associee", "departement": "59"},
            {"code": "59172", "nom": "Denain", "type": "commune-actuelle", "departement": "59", "codesPostaux": ["59220"]},
        ],
        "data/epci.json": [
            {"code": "200042190", "nom": "CA de la Porte du Hainaut", "type": "CA", "membres": [{"code": "59172"}]}
        ],
        "data/departements.json": [{"code": "59", "nom": "Nord", "region": "32"}],
        "data/regions.json": [{"code": "32", "nom": "Hauts-de-France"}],
    }
    for name, content in files.items():
        (package / name).write_text(json.dumps(content), encoding="utf-8")
    words = tmp_path / "french"
    words.write_text("marseille\nDenain\nnord\n", encoding="utf-8")
    script.build(package, words, tmp_path, "python ingest/data/build_france.py package --words french")

    communes = (tmp_path / "france_communes.tsv").read_text(encoding="utf-8")
    assert "@etalab/decoupage-administratif 9.9.9" in communes and "build_france.py package --words french" in communes
    rows = [line.split("\t") for line in communes.splitlines() if not line.startswith("#")]
    assert rows == [
        ["insee", "name", "postal_codes", "department", "epci_siren", "population"],
        ["13055", "Marseille", "13001", "13", "", "9"],
        ["59172", "Denain", "59220", "59", "200042190", ""],
    ]
    assert "200042190\tCA de la Porte du Hainaut\tCA\t1" in (tmp_path / "france_epcis.tsv").read_text(encoding="utf-8")
    common = (tmp_path / "france_common_words.tsv").read_text(encoding="utf-8").splitlines()
    assert [w for w in common if not w.startswith("#")] == ["word", "marseille"]  # "Denain" is a proper noun there


def test_a_place_abroad_is_outside_both_territories_a_country_only_where_the_young_person_lives() -> None:
    france = load_france()

    def places(text: str) -> list[tuple[str, str, bool | None, bool]]:
        return [(p.name, p.kind, p.in_territory, p.residence) for p in france.find_places(text)]

    assert places("Jeune de 23 ans de Tournai qui cherche un emploi à Lille") == [
        ("Tournai", "abroad", False, True),
        ("Lille", "commune", True, False),  # where he works, not where he lives
    ]
    assert places("Jeune de 22 ans qui vit en Belgique") == [("Belgique", "abroad", False, True)]
    assert places("jeune originaire de Belgique, à Lille") == [("Lille", "commune", True, True)]  # an origin
    assert places("jeune de 19 ans à Mons")[0][0] == "Mons-en-Barœul"  # not Mons in Belgium
    # In English too: a city's English name, a country after "lives in".
    assert places("For a 20 year old in Brussels, what can you suggest?") == [("Brussels", "abroad", False, True)]
    assert places("a young person who lives in Belgium") == [("Belgium", "abroad", False, True)]


def test_a_place_the_young_person_only_goes_to_is_not_where_they_live() -> None:
    found = load_france().find_places("Ma jeune habite à Paris mais vient souvent à Lille")
    assert [(p.name, p.residence) for p in found] == [("Paris", True), ("Lille", False)]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # A move done is the new home; a move planned is not yet.
        ("il vient de déménager à Amiens", [("Amiens", True)]),
        ("il a déménagé à Amiens", [("Amiens", True)]),
        ("il va déménager à Lille, il habite Lens", [("Lille", False), ("Lens", True)]),
        # The place moved to is the home, over the one left or followed in until now.
        ("il vient de déménager de Valenciennes à Maubeuge", [("Valenciennes", False), ("Maubeuge", True)]),
        ("suivie jusqu'ici à Armentières, elle vient de s'installer à Bailleul", [("Armentières", False), ("Bailleul", True)]),
        ("elle a quitté Roubaix pour vivre chez sa tante à Douai", [("Roubaix", False), ("Douai", True)]),
        # Who runs something is no home, nor the place joined to it; places joined keep one role.
        (
            "le forum organisé par Haubourdin et Loos, pour un jeune de Douai",
            [("Haubourdin", False), ("Loos", False), ("Douai", True)],
        ),
        ("un jeune de Loos ou Haubourdin", [("Loos", True), ("Haubourdin", True)]),
        ("un jeune de Lille qui part vivre à Bordeaux", [("Lille", False), ("Bordeaux", True)]),
        # A town of size written apart, as case notes do, even when its name is also a word.
        ("jeune de 21 ans, Douai, cherche une formation", [("Douai", True)]),
        # "near" is its own cue: a landmark, not the home when one is given.
        ("a 20-year-old from Tournai who wants an apprenticeship near Lille", [("Tournai", True), ("Lille", False)]),
        # The young person as counsellors call them, then "de" and a lower-case town.
        ("un gamin de cambrai 17 ans qui décroche", [("Cambrai", True)]),
    ],
)
def test_where_the_young_person_lives_now(question: str, expected: list[tuple[str, bool]]) -> None:
    assert [(p.name, p.residence) for p in load_france().find_places(question)] == expected


def test_a_pays_of_the_nord_pas_de_calais_is_outside_both_territories() -> None:
    found = load_france().find_places("un jeune de 20 ans du Douaisis cherche une formation")
    assert [(p.name, p.kind, p.region, p.in_territory) for p in found] == [("Douaisis", "pays", "Nord", False)]
    assert load_france().find_places("une douaisis") == []  # a pays is read capitalised only


def test_a_street_named_after_a_department_is_no_place() -> None:
    found = load_france().find_places("Jeune de 18 ans habitant rue de Paris à Lille, sans emploi")
    assert [(p.name, p.kind) for p in found] == [("Lille", "commune")]


def test_a_member_communes_name_said_belgian_is_the_town_across_the_border() -> None:
    france = load_france()
    for text, name in (("un jeune de 19 ans de Mons en Belgique", "Mons"), ("jeune de Comines (Belgique)", "Comines")):
        (place,) = france.find_places(text)
        assert (place.kind, place.name, place.region, place.in_territory) == ("abroad", name, "Belgique", False), text
    assert [p.name for p in france.find_places("jeune de Comines")] == ["Comines"]
    assert [p.in_territory for p in france.find_places("un jeune de Lille, belge, 19 ans")] == [True]  # a nationality


def test_where_one_comes_from_is_not_a_home_and_a_landmark_is_the_home_only_alone() -> None:
    a = analyse("Jeune de 23 ans originaire de Roubaix mais qui vit à Lyon depuis deux ans")
    assert [(p.name, p.residence) for p in a.places] == [("Roubaix", False), ("Lyon", True)] and a.lives_outside
    a = analyse("Mon jeune est né à Courtrai mais il habite Roubaix depuis 5 ans")
    assert [(p.name, p.residence) for p in a.places] == [("Courtrai", False), ("Roubaix", True)]
    assert not a.lives_outside
    a = analyse("il habite à Denain, juste à côté de Valenciennes, 18 ans")
    assert [(p.name, p.residence, p.near) for p in a.places] == [("Denain", True, False), ("Valenciennes", False, True)]
    assert a.lives_outside
    a = analyse("un jeune de 19 ans qui habite près de Dunkerque")
    assert [(p.name, p.residence, p.near) for p in a.places] == [("Dunkerque", True, True)] and a.lives_outside
    # English questions place the person with "from", "in", "near".
    assert analyse("a 20-year-old guy from Calais wants to go abroad").lives_outside
    assert [p.residence for p in analyse("a young man living in Lille, born in Lyon").places] == [True, False]


def test_the_place_a_young_person_came_or_moved_from_is_no_home_a_region_too() -> None:
    # "from" alone places the person; after a word of coming or moving it is the place left.
    a = analyse("A young woman who came from Ile-de-France, who can help her find training?")
    assert [(p.name, p.residence) for p in a.places] == [("Île-de-France", False)] and not a.lives_outside
    a = analyse("A 20-year-old who moved here from Lyon last month wants a job")
    assert [(p.name, p.residence) for p in a.places] == [("Lyon", False)] and not a.lives_outside
    assert analyse("a young man from Calais looking for a job").lives_outside
    # French: "arrivée de" is the place left, "arrivé à" the new home.
    a = analyse("Jeune femme arrivée de Marseille, 20 ans, qui cherche une formation")
    assert [(p.name, p.residence) for p in a.places] == [("Marseille", False)] and not a.lives_outside
    assert [(p.name, p.residence) for p in analyse("Jeune arrivé à Lille il y a un mois, 20 ans").places] == [("Lille", True)]
    # An area is read by the word before it, as a commune is.
    assert not analyse("Jeune de 20 ans originaire de Bretagne, habite Roubaix").lives_outside
    assert analyse("Jeune de 20 ans qui vit dans le Var").lives_outside
    assert analyse("jeune de 19 ans du Pas-de-Calais cherche un emploi").lives_outside


def test_the_former_region_nord_pas_de_calais_holds_both_territories_others_are_outside() -> None:
    # However it is written (the corpus: "Nord – Pas de Calais"), it is one region, not the Pas-de-Calais.
    for text in ("le PO du Nord – Pas de Calais", "the Nord Pas-de-Calais FSE programme", "région Nord Pas de Calais"):
        a = analyse(text)
        assert [(p.name, p.kind, p.in_territory) for p in a.places] == [("Nord-Pas-de-Calais", "region", None)], text
        assert not a.lives_outside, text
    assert analyse("jeune de 20 ans qui vit en Picardie").lives_outside  # merged into the Hauts-de-France, outside
    assert not analyse("un jeune du Nord/Pas-de-Calais, 19 ans").lives_outside  # the Nord holds both territories
    assert analyse("un jeune de Douai, dans le Nord, 19 ans").lives_outside  # a commune outside, in the Nord


def test_nord_named_beside_another_area_is_the_department_and_both_are_not_outside() -> None:
    # "Nord" alone is a word ("le Nord" is the department); paired with an area it is the department too.
    for text in ("Who is the contact in the Nord and Pas-de-Calais?", "Nord, Pas-de-Calais", "jeune du Nord et du Pas-de-Calais"):
        a = analyse(text)
        assert [(p.name, p.in_territory) for p in a.places] == [("Nord", None), ("Pas-de-Calais", False)], text
        assert not a.lives_outside, text
    assert [p.name for p in analyse("a young man in the Nord").places] == ["Nord"]  # "the": a cue in English
    assert analyse("who to contact in the Pas-de-Calais").lives_outside
    assert analyse("Lens, Pas-de-Calais").lives_outside
    assert analyse("Léa Nord et Paris").places == ()  # a name, then a word: no area


def test_sms_style_age_then_commune_places_the_person() -> None:
    assert [p.name for p in analyse("jeune 22 ans cambrai cherche du boulot urgent").places] == ["Cambrai"]
    assert analyse("jeune 22 ans cambrai cherche du boulot urgent").lives_outside
    assert analyse("17 ans roubaix decrocheur").communes == ("Roubaix",)
    for question in ("20 ans sans diplome", "18 ans bien motive", "25 ans max", "21 ans fille"):
        assert analyse(question).places == (), question


def test_a_town_misspelled_by_one_letter_after_de_or_a_is_that_town() -> None:
    from index.query import analyse

    # "Maubeuje" is one letter from Maubeuge, a town of some size: outside both territories.
    analysis = analyse("Bonjour, une jeune de Maubeuje voudrait se former, y a un truc pour elle ?")
    assert [p.name for p in analysis.places] == ["Maubeuge"] and analysis.lives_outside
    # Not a word in lower case, not a word without a cue before it, not a short word.
    assert analyse("une jeune maubeuje").places == ()
    assert [p.name for p in analyse("il a vu Maubeuje hier").places] == []


def test_an_intercommunality_next_door_is_a_place_outside_both_territories() -> None:
    france = load_france()
    for text, name in (
        ("un jeune de 20 ans de la Porte du Hainaut", "CA de la Porte du Hainaut"),
        ("un jeune de la CAPH, 19 ans", "CA de la Porte du Hainaut"),
        ("jeune de 18 ans en Pévèle Carembault", "CC Pévèle-Carembault"),
        ("un jeune de Flandre Lys", "CC Flandre Lys"),
    ):
        (place,) = france.find_places(text)
        assert (place.name, place.in_territory, place.residence) == (name, False, True), text
    # Initials that mean something else in youth work are no place.
    assert france.find_places("un jeune réfugié hébergé en CADA") == []


def test_token_keys_are_tokenize_keys_for_every_name_of_the_table() -> None:
    # France keys its 35,000 names with token_keys (the fast path): the keys must be tokenize's, name by name.
    from ingest.france import _rows
    from ingest.gazetteer import load_phrases, token_keys, tokenize

    names = [row[1] for row in _rows("france_communes.tsv")] + [alias for alias, _ in load_phrases().pairs("alias")]
    assert len(names) > 30_000
    assert [n for n in names if token_keys(n) != [t.key for t in tokenize(n)]] == []
    # Texts off the fast path: a step inside a word, a fraction, another script, abbreviations.
    for text in ("McDonald", "1½ rue", "Ἀθῆναι", "L'Haÿ-les-Roses", "St-Amand-lez-Eaux", "ŒUVRE d’Art", "aB cD"):
        assert token_keys(text) == [t.key for t in tokenize(text)], text
