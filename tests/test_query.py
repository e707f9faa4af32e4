"""Query analysis (``index.query.analyse``): what a counsellor types, and what must be understood.

Each phrasing is checked on every person field (age, range, communes, EPCI, QPV) and on the situations
and needs found: a field not given in a case must be empty.
"""

from __future__ import annotations

from typing import Any

import pytest

from index.query import Filters, QueryAnalysis, analyse, in_context, leans_on_previous, load_concepts, with_filters

FIELDS = ("age", "age_min", "age_max", "communes", "epci", "qpv", "situations", "needs")


def expect(**fields: Any) -> dict[str, Any]:
    """The expected ``to_json()`` fields: everything not given is empty."""
    unknown = set(fields) - set(FIELDS)
    assert not unknown, unknown
    expected: dict[str, Any] = {
        "age": None,
        "age_min": None,
        "age_max": None,
        "communes": [],
        "epci": None,
        "qpv": None,
        "situations": [],
        "needs": [],
    }
    expected.update({k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()})
    return expected


def understood(question: str) -> dict[str, Any]:
    data = analyse(question).to_json()
    return {k: data[k] for k in FIELDS}


PHRASINGS = [
    # Typos in commune names (one edit on names of at least 7 letters).
    pytest.param(
        "Un jeune de Roubiax cherche un emploi",
        expect(communes=["Roubaix"], epci="MEL", needs=["emploi"]),
        id="typo-roubiax",
    ),
    pytest.param("jeune de 18 ans à Tourcong", expect(age=18, communes=["Tourcoing"], epci="MEL"), id="typo-tourcong"),
    pytest.param(
        "un jeune de villeneuve dascq qui cherche une alternance",
        expect(communes=["Villeneuve-d'Ascq"], epci="MEL", needs=["alternance"]),
        id="typo-villeneuve-dascq",
    ),
    pytest.param(
        "jeune de Mons en Baroeul, 20 ans", expect(age=20, communes=["Mons-en-Barœul"], epci="MEL"), id="mons-en-baroeul"
    ),
    pytest.param("il habite marcq en bareul", expect(communes=["Marcq-en-Barœul"], epci="MEL"), id="typo-marcq-en-bareul"),
    pytest.param("jeune de wasquhal", expect(communes=["Wasquehal"], epci="MEL"), id="typo-wasquhal"),
    # Case and accents.
    pytest.param(
        "DECROCHEUR DE 17 ANS A LOOS",
        expect(age=17, communes=["Loos"], epci="MEL", situations=["decrochage"]),
        id="upper-case-no-accents",
    ),
    pytest.param("jeune de Villeneuve-d’Ascq", expect(communes=["Villeneuve-d'Ascq"], epci="MEL"), id="typographic-apostrophe"),
    pytest.param("jeune de st saulve", expect(communes=["Saint-Saulve"], epci="CAVM"), id="st-for-saint"),
    # SMS style.
    pytest.param(
        "g 1 jeune 17a lille ki veut le permi",
        expect(age=17, communes=["Lille"], epci="MEL", needs=["permis"]),
        id="sms-permi",
    ),
    pytest.param(
        "jeune 19a tourcoing sans diplome",
        expect(age=19, communes=["Tourcoing"], epci="MEL", situations=["sans_diplome"]),
        id="sms-19a",
    ),
    pytest.param("ya koi pour 1 mineur a roubaix", expect(age_max=17, communes=["Roubaix"], epci="MEL"), id="sms-mineur"),
    pytest.param(
        "jeune 17ans roubaix pas de diplome cherche apprentissage",
        expect(age=17, communes=["Roubaix"], epci="MEL", situations=["sans_diplome"], needs=["alternance"]),
        id="sms-no-punctuation",
    ),
    # Ages written as words.
    pytest.param("un jeune de dix-sept ans", expect(age=17), id="word-dix-sept"),
    pytest.param("une jeune de vingt et un ans", expect(age=21, situations=["fille"]), id="word-vingt-et-un"),
    pytest.param("elle a seize ans", expect(age=16), id="word-seize"),
    pytest.param("il a vingt-cinq ans", expect(age=25), id="word-vingt-cinq"),
    # Ranges.
    pytest.param("un mineur à Lille", expect(age_max=17, communes=["Lille"], epci="MEL"), id="mineur"),
    pytest.param("une mineure de 16 ans", expect(age=16), id="mineure-with-age"),
    pytest.param("un jeune majeur à Roubaix", expect(age_min=18, communes=["Roubaix"], epci="MEL"), id="majeur"),
    pytest.param("jeunes entre 16 et 18 ans", expect(age_min=16, age_max=18), id="entre-16-et-18"),
    pytest.param("jeunes de 16 ans à 18 ans", expect(age_min=16, age_max=18), id="de-16-ans-a-18-ans"),
    pytest.param(
        "quelles actions pour les 16-25 ans à Roubaix ?",
        expect(age_min=16, age_max=25, communes=["Roubaix"], epci="MEL"),
        id="hyphen-16-25",
    ),
    pytest.param("pour les 16 à 25 ans", expect(age_min=16, age_max=25), id="les-16-a-25"),
    pytest.param("un jeune de moins de 26 ans", expect(age_max=25), id="moins-de-26"),
    pytest.param("jeunes de plus de 18 ans", expect(age_min=18), id="plus-de-18"),
    # Durations are not ages.
    pytest.param("il a décroché depuis 2 ans", expect(situations=["decrochage"]), id="duration-depuis-2-ans"),
    pytest.param("décroché depuis six mois", expect(situations=["decrochage"]), id="duration-six-mois"),
    pytest.param("il a quitté l'école il y a 3 ans", expect(situations=["decrochage"]), id="duration-il-y-a"),
    pytest.param("arrivé en France depuis 12 ans, il cherche un emploi", expect(needs=["emploi"]), id="duration-depuis-12-ans"),
    pytest.param("elle vit à Roubaix depuis quinze ans", expect(communes=["Roubaix"], epci="MEL"), id="duration-word"),
    pytest.param(
        "jeune au chômage depuis plus de 10 ans", expect(situations=["chomage_longue_duree"]), id="duration-depuis-plus-de"
    ),
    pytest.param(
        "jeune de 24 ans sorti de l'école depuis 10 ans", expect(age=24, situations=["decrochage"]), id="age-then-duration"
    ),
    pytest.param("un jeune de 17 ans qui a 3 ans d'expérience", expect(age=17), id="experience-not-age"),
    # Leaving school, in words the list does not spell out: a dropout, and no lycéen.
    pytest.param("17 ans, sorti du lycée en cours d'année", expect(age=17, situations=["decrochage"]), id="sorti-du-lycee"),
    pytest.param("il a plaqué le collège", expect(situations=["decrochage"]), id="plaque-le-college"),
    # Punctuation inside a gap is no word of it; the fac a lycéenne thinks is not for her is a need, not who she is.
    pytest.param(
        "lycéenne, elle pense que la fac « ce n'est pas pour elle »",
        expect(situations=["lyceen", "fille"], needs=["superieur"]),
        id="gap-over-quotes",
    ),
    pytest.param("collégien, il ne trouve pas de stage", expect(situations=["collegien"], needs=["stage"]), id="stage"),
    # Followed by the justice, or a young parent, said in everyday words or in English.
    pytest.param("slt, jeune 16a, pb avec la justice", expect(age=16, situations=["justice"]), id="justice-sms"),
    pytest.param("a 16-year-old always in trouble with the police", expect(age=16, situations=["justice"]), id="justice-en"),
    pytest.param("she is 22 and has a baby", expect(age=22, situations=["jeune_parent"]), id="parent-en"),
    # Everyday words for a flat, for not knowing what to do, for money, for having no papers.
    pytest.param("jeune 20 ans cherche un appart", expect(age=20, needs=["logement"]), id="appart"),
    pytest.param("il joue au studio de musique", expect(needs=["culture"]), id="studio-not-a-flat"),
    pytest.param("19 ans, il sait pas quoi faire de sa vie", expect(age=19, needs=["orientation"]), id="sait-pas-quoi-faire"),
    pytest.param("elle a trouvé sa voie dans la cuisine", expect(), id="voie-found-asks-nothing"),
    pytest.param("my 19 year old has no idea what to do with his life", expect(age=19, needs=["orientation"]), id="no-idea-en"),
    pytest.param("jeune 19 ans, il a besoin de thunes", expect(age=19, needs=["aide_financiere"]), id="thunes"),
    pytest.param("jeune 20 ans il a pas de papiers", expect(age=20, situations=["refugie"]), id="pas-de-papiers"),
    # Signs of depression in everyday words, an adverb inside.
    pytest.param(
        "il ne sort presque plus de sa chambre et n'a plus goût à rien", expect(needs=["sante_mentale"]), id="gout-a-rien"
    ),
    # Sleeping badly is no housing need; sleeping at friends' or outside is.
    pytest.param("jeune de 19 ans, il dort mal", expect(age=19), id="dort-mal"),
    pytest.param(
        "il dort dehors depuis une semaine, 22 ans",
        expect(age=22, situations=["sans_logement"], needs=["logement"]),
        id="dort-dehors",
    ),
    # One person is a girl or a boy: the first named is who they are.
    pytest.param(
        "une jeune femme qui pense que ce métier est pour les garçons",
        expect(situations=["fille"], needs=["orientation"]),
        id="girl-first",
    ),
    pytest.param(
        "un jeune homme qui veut travailler avec les filles du quartier",
        expect(situations=["garcon"], needs=["emploi"]),
        id="boy-first",
    ),
    pytest.param("un lycéen de 16 ans", expect(age=16, situations=["lyceen"]), id="lyceen-stays"),
    # A situation denied is not the person's; a business named with a verb of starting is a need.
    pytest.param("il n'est pas étudiant", expect(), id="negated-situation"),
    # Who they are not ("pas de RQTH") is denied; what they lack may be what they seek ("sans emploi").
    pytest.param("28 ans, pas de RQTH", expect(age=28), id="lacked-situation"),
    pytest.param("jeune sans emploi qui veut bosser", expect(needs=["emploi"]), id="lacked-need-is-sought"),
    pytest.param("elle n'est plus au lycée", expect(situations=["decrochage"]), id="no-longer-at-school"),
    pytest.param("il veut ouvrir un food-truck", expect(needs=["entrepreneuriat"]), id="open-a-business"),
    pytest.param("ouvrir un compte en banque", expect(), id="open-an-account"),
    # A commune alone (follow-up question).
    pytest.param("et à Wattrelos ?", expect(communes=["Wattrelos"], epci="MEL"), id="commune-only"),
    pytest.param("jeune de croix", expect(communes=["Croix"], epci="MEL"), id="cased-name-after-de"),
    # Demonyms.
    pytest.param("une lilloise de 20 ans", expect(age=20, communes=["Lille"], epci="MEL"), id="demonym-lilloise"),
    pytest.param("un ado monsois", expect(communes=["Mons-en-Barœul"], epci="MEL"), id="demonym-monsois"),
    pytest.param(
        "jeune roubaisien qui cherche un job",
        expect(communes=["Roubaix"], epci="MEL", needs=["emploi"]),
        id="demonym-roubaisien",
    ),
    pytest.param(
        "une valenciennoise de 18 ans", expect(age=18, communes=["Valenciennes"], epci="CAVM"), id="demonym-valenciennoise"
    ),
    # QPV, positive and negative.
    pytest.param(
        "jeune de 22 ans en QPV à Roubaix",
        expect(age=22, communes=["Roubaix"], epci="MEL", qpv=True, situations=["qpv"]),
        id="en-qpv",
    ),
    pytest.param("il habite en quartier prioritaire", expect(qpv=True, situations=["qpv"]), id="quartier-prioritaire"),
    pytest.param(
        "qui vit dans un quartier de la politique de la ville", expect(qpv=True, situations=["qpv"]), id="politique-de-la-ville"
    ),
    pytest.param("jeune de 20 ans pas en quartier prioritaire", expect(age=20, qpv=False), id="pas-en-quartier-prioritaire"),
    pytest.param("jeune hors QPV à Lille", expect(communes=["Lille"], epci="MEL", qpv=False), id="hors-qpv"),
    pytest.param("il n'habite pas dans un quartier prioritaire", expect(qpv=False), id="n-habite-pas-dans-un-qpv"),
    pytest.param("il n'est pas du tout en QPV", expect(qpv=False), id="pas-du-tout-en-qpv"),
    pytest.param("hors d'un quartier prioritaire", expect(qpv=False), id="hors-d-un-qpv"),
    pytest.param(
        "jeune 19 ans roubaix pas de diplome en qpv",
        expect(age=19, communes=["Roubaix"], epci="MEL", qpv=True, situations=["sans_diplome", "qpv"]),
        id="pas-de-diplome-en-qpv",
    ),
    # Valenciennes Métropole.
    pytest.param("jeune de 19 ans à Anzin", expect(age=19, communes=["Anzin"], epci="CAVM"), id="cavm-anzin"),
    pytest.param("à Valenciennes, 24 ans", expect(age=24, communes=["Valenciennes"], epci="CAVM"), id="cavm-valenciennes"),
    pytest.param("jeune de Saint-Saulve", expect(communes=["Saint-Saulve"], epci="CAVM"), id="cavm-saint-saulve"),
    pytest.param("actions Valenciennes Métropole", expect(epci="CAVM"), id="cavm-scope-phrase"),
    # Metropolitan phrases: the "Lille" inside is not the commune.
    pytest.param("actions dans la métropole lilloise pour les 18 ans", expect(age=18, epci="MEL"), id="metropole-lilloise"),
    pytest.param("Quelles aides sur la MEL pour un jeune de 20 ans ?", expect(age=20, epci="MEL"), id="mel-acronym"),
    # Several communes.
    pytest.param("jeune de Lille ou de Roubaix", expect(communes=["Lille", "Roubaix"], epci="MEL"), id="two-mel-communes"),
    pytest.param("jeune d'Anzin et de Lille", expect(communes=["Anzin", "Lille"]), id="two-epcis-no-epci"),
    # Communes associées of Lille.
    pytest.param("jeune de 26 ans à Lomme", expect(age=26, communes=["Lomme"], epci="MEL"), id="lomme"),
    pytest.param("jeune à Hellemmes", expect(communes=["Hellemmes"], epci="MEL"), id="hellemmes"),
    # Situations and needs.
    pytest.param("jeune décrocheur de 17 ans", expect(age=17, situations=["decrochage"]), id="decrocheur"),
    pytest.param("jeune sans diplôme", expect(situations=["sans_diplome"]), id="sans-diplome"),
    pytest.param(
        "sans aucun diplôme, il veut apprendre un métier",
        expect(situations=["sans_diplome"], needs=["alternance", "orientation"]),
        id="aucun-diplome-apprendre-un-metier",
    ),
    pytest.param("jeune qui veut passer le permis", expect(needs=["permis"]), id="permis"),
    pytest.param("jeune qui cherche un logement", expect(needs=["logement"]), id="logement"),
    pytest.param("il dort à droite à gauche", expect(needs=["logement"]), id="dort-a-droite-a-gauche"),
    pytest.param(
        "étudiante de 20 ans à Lille",
        expect(age=20, communes=["Lille"], epci="MEL", situations=["etudiant", "fille"]),
        id="etudiante",
    ),
    pytest.param("jeune avec une RQTH", expect(situations=["handicap"]), id="rqth"),
    pytest.param("jeune qui veut faire un service civique", expect(needs=["engagement"]), id="service-civique"),
    pytest.param("une jeune fille de 16 ans", expect(age=16, situations=["fille"]), id="jeune-fille"),
    # No person: nothing to filter on.
    pytest.param("Combien de jeunes MAJ'YC a-t-il accompagnés ?", expect(), id="no-person-majyc"),
    pytest.param("Comment s'inscrire à la Garantie jeunes ?", expect(), id="no-person-garantie-jeunes"),
    pytest.param("C'est quoi le CEJ ?", expect(), id="no-person-cej"),
]


@pytest.mark.parametrize(("question", "expected"), PHRASINGS)
def test_phrasing(question: str, expected: dict[str, Any]) -> None:
    assert understood(question) == expected


def test_enough_phrasings() -> None:
    assert len(PHRASINGS) >= 35


@pytest.mark.parametrize(
    "question",
    [
        "Combien de jeunes MAJ'YC a-t-il accompagnés ?",
        "Comment s'inscrire à la Garantie jeunes ?",
        "C'est quoi le CEJ ?",
    ],
)
def test_question_without_person_passes_through(question: str) -> None:
    a = analyse(question)
    assert a.has_person is False
    assert a.expansions == ()
    assert a.lexical_query == question


def test_action_name_with_a_trigger_has_no_person_but_is_expanded() -> None:
    # "Wi-Filles" is an action's name; its "filles" triggers the situation, which only adds words.
    a = analyse("Quel est le budget de Wi-Filles ?")
    assert a.has_person is False
    assert a.situations == ("fille",)
    assert a.lexical_query == "Quel est le budget de Wi-Filles ? filles jeunes filles"


@pytest.mark.parametrize(
    ("question", "has_person"),
    [
        ("et à Wattrelos ?", True),
        ("un mineur", True),
        ("jeune majeur", True),
        ("elle a seize ans", True),
        ("jeune hors QPV", True),
        ("jeune en QPV", True),
        ("jeune sans diplôme qui veut le permis", False),  # situations alone are not checked by eligibility
        ("actions dans la métropole lilloise", False),  # an EPCI alone is not a person
    ],
)
def test_has_person(question: str, has_person: bool) -> None:
    assert analyse(question).has_person is has_person


def test_expansions_add_the_documents_words() -> None:
    a = analyse("jeune décrocheur de 17 ans")
    assert a.expansions == (
        "décrochage scolaire",
        "décrocheurs",
        "raccrochage",
        "remobilisation",
        "sortis du système scolaire",
    )
    assert a.lexical_query == (
        "jeune décrocheur de 17 ans décrochage scolaire décrocheurs raccrochage remobilisation sortis du système scolaire"
    )


def test_expansions_of_several_concepts_are_not_repeated() -> None:
    a = analyse("décrocheur sans diplôme qui veut le permis")
    assert a.situations == ("decrochage", "sans_diplome")
    assert a.needs == ("permis",)
    assert a.expansions == (
        "décrochage scolaire",
        "décrocheurs",
        "raccrochage",
        "remobilisation",
        "sortis du système scolaire",
        "sans diplôme",
        "sans qualification",
        "deuxième chance",
        "permis de conduire",
        "mobilité",
    )
    assert a.expansions.count("sortis du système scolaire") == 1
    assert a.lexical_query == " ".join(["décrocheur sans diplôme qui veut le permis", *a.expansions])


def test_negated_qpv_adds_no_qpv_words() -> None:
    a = analyse("jeune de 20 ans pas en QPV")
    assert a.qpv is False
    assert "qpv" not in a.situations
    assert a.expansions == ()
    assert a.lexical_query == "jeune de 20 ans pas en QPV"


def test_positive_qpv_adds_qpv_words() -> None:
    a = analyse("jeune en QPV")
    assert a.expansions == ("quartiers prioritaires", "politique de la ville", "QPV")
    assert a.lexical_query == "jeune en QPV quartiers prioritaires politique de la ville QPV"


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("DECROCHEUR DE 17 ANS A LOOS", "decrocheur"),
        ("jeune de 18 ans à Tourcong", "jeune"),
        ("jeune de st saulve", "jeune"),
        ("une lilloise de 20 ans", "une"),
        ("g 1 jeune 17a lille ki veut le permi", "g 1 jeune ki veut le permi"),
        ("quelles actions pour les 16-25 ans à Roubaix ?", "quelles actions pour les ?"),
        ("Combien de jeunes MAJ'YC a-t-il accompagnés ?", "combien de jeunes maj yc a t il accompagnes ?"),
    ],
)
def test_topic_is_the_question_without_the_person(question: str, topic: str) -> None:
    assert analyse(question).topic == topic


def test_to_json_shape() -> None:
    assert analyse("DECROCHEUR DE 17 ANS A LOOS").to_json() == {
        "age": 17,
        "age_min": None,
        "age_max": None,
        "communes": ["Loos"],
        "epci": "MEL",
        "qpv": None,
        "situations": ["decrochage"],
        "needs": [],
        "topic": "decrocheur",
        "places": [
            {
                "kind": "commune",
                "name": "Loos",
                "insee": "59360",
                "postal_codes": ["59120"],
                "department": "59",
                "region": "32",
                "epci": "MEL",
                "epci_siren": "200093201",
                "in_territory": True,
                "ambiguous": False,
                "alternatives": [],
                "via": "name",
                "surface": "LOOS",
                "residence": True,
                "located": False,
                "near": False,
            }
        ],
    }


def test_analysis_is_a_value() -> None:
    # Expansions are derived data: two analyses of one question compare equal.
    assert analyse("jeune de 17 ans à Loos") == analyse("jeune de 17 ans à Loos")
    assert QueryAnalysis(text="x", age=17) == QueryAnalysis(text="x", age=17, expansions=("a",))


def test_the_question_fold_is_the_text_modules() -> None:
    from index import query
    from ingest.text import fold_words

    assert query.fold is fold_words  # still importable from index.query by the modules not yet switched


def test_synonym_table_is_well_formed() -> None:
    concepts = load_concepts()
    keys = [c.key for c in concepts]
    assert len(keys) == len(set(keys))
    assert {c.kind for c in concepts} == {"situation", "need"}
    assert all(c.triggers and c.expansions for c in concepts)


@pytest.mark.parametrize(
    ("question", "need"),
    [
        ("il est à la rue depuis une semaine", "logement"),
        ("il veut passer son code", "permis"),
        ("elle veut partir à l'étranger", "international"),
        ("il veut monter sa micro-entreprise de livraison", "entrepreneuriat"),
        ("elle aimerait rencontrer d'autres jeunes qui s'engagent", "engagement"),
        ("il sort plus de sa chambre", "remobilisation"),
    ],
)
def test_everyday_wordings_of_needs(question: str, need: str) -> None:
    assert analyse(question).needs == (need,)


def test_a_girl_is_read_from_feminine_words_not_from_an_adjective() -> None:
    assert "fille" in analyse("ma jeune a 15 ans, collégienne à Mons-en-Barœul").situations
    assert "fille" in analyse("Étudiante de 20 ans à Lille").situations
    # "étudiante" as an adjective of a measure says nothing of the person.
    assert "fille" not in analyse("la précarité alimentaire étudiante à Lille").situations


def test_a_partir_de_is_not_a_trip_abroad() -> None:
    assert "international" not in analyse("à partir de 16 ans à Lille").needs


def test_follow_ups_keep_the_person_and_change_what_the_new_question_says() -> None:
    history = ["quelle action pour un décrocheur de 17 ans à Loos ?"]
    text, a = in_context("et s'il a 19 ans ?", history)
    assert (a.age, a.communes, a.situations) == (19, ("Loos",), ("decrochage",))
    assert text.startswith(history[0]) and text.endswith("et s'il a 19 ans ?")
    _, b = in_context("et à Roubaix ?", history)
    assert (b.age, b.communes) == (17, ("Roubaix",))
    # A question that stands alone is analysed alone.
    text, c = in_context("Quel est le budget de l'action Wi-Filles pour les jeunes de la métropole ?", history)
    assert c.age is None and c.communes == () and not text.startswith(history[0])


def test_a_follow_up_with_another_subject_searches_it_alone_for_the_same_person() -> None:
    history = ["un jeune de 23 ans de Comines sans voiture pour aller au travail"]
    text, a = in_context("et pour une aide financière ponctuelle ?", history)
    assert text == "et pour une aide financière ponctuelle ?" and (a.age, a.communes) == (23, ("Comines",))
    _, bafa = in_context("et pour l'aide au BAFA ?", ["permis de conduire pour un jeune de 17 ans à Loos"])
    assert bafa.needs == ("bafa",) and "permis" not in bafa.lexical_query  # the earlier need is dropped
    # Who the person is stays in the search: a student's housing, not anyone's.
    _, housing = in_context("et pour le logement ?", ["étudiant de 20 ans à Lille, il saute des repas"])
    assert "étudiants" in housing.expansions and "logement" in housing.lexical_query
    # "et côté MEL ?" after Valenciennes: the territory changes, the earlier commune no longer holds.
    _, b = in_context("et côté MEL, il y a un événement ?", ["un collégien de Valenciennes cherche un stage"])
    assert (b.epci, b.communes) == ("MEL", ())


# --- The chat's filters panel -------------------------------------------------------------------


def test_filters_fill_in_what_the_question_leaves_out() -> None:
    a = with_filters(analyse("quelle action pour un décrocheur ?"), Filters(commune="loos", age=17))
    assert (a.age, a.communes, a.epci) == (17, ("Loos",), "MEL")
    assert "Loos" in a.lexical_query  # the commune helps the lexical search as if typed
    assert a.situations == ("decrochage",)


def test_the_question_wins_over_the_filters() -> None:
    a = with_filters(analyse("un jeune de 19 ans à Roubaix"), Filters(commune="Loos", age=17, territory="CAVM"))
    assert (a.age, a.communes, a.epci) == (19, ("Roubaix",), "MEL")


def test_territory_filter_sets_the_epci_without_a_commune() -> None:
    assert with_filters(analyse("aide au permis"), Filters(territory="CAVM")).epci == "CAVM"
    assert with_filters(analyse("aide au permis"), None) == analyse("aide au permis")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"age": 5}, "âge 5"), ({"territory": "Paris"}, "territoire « Paris »")],
)
def test_bad_filters_are_named_in_french(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Filters(**kwargs)


def test_unknown_commune_filter_is_named() -> None:
    with pytest.raises(ValueError, match="commune « Trifouilly-les-Oies » inconnue"):
        with_filters(analyse("aide au permis"), Filters(commune="Trifouilly-les-Oies"))


def test_a_commune_elsewhere_in_france_is_accepted_by_the_filters_and_marked() -> None:
    a = with_filters(analyse("aide au permis"), Filters(commune="Denain", territory="MEL"))
    assert (a.communes, a.epci) == ((), None)  # the commune wins over the territory
    assert [(p.name, p.epci, p.in_territory) for p in a.places] == [("Denain", "CA de la Porte du Hainaut", False)]
    assert a.lives_outside and a.has_person
    assert a.to_json()["places"][0]["in_territory"] is False


def test_a_postal_code_in_the_filters_is_its_commune() -> None:
    a = with_filters(analyse("aide au permis"), Filters(commune="59120"))
    assert (a.communes, a.epci) == (("Loos",), "MEL")
    assert "Loos" in a.lexical_query


@pytest.mark.parametrize(
    ("question", "leans"),
    [
        ("tu as un contact ?", True),
        ("c'est pour quel âge ?", True),
        ("et s'il a 19 ans ?", True),
        ("et s'il habitait Roubaix ?", True),
        ("et si elle habitait un quartier prioritaire ?", True),
        ("et c'est combien ?", True),
        ("c'est combien le loyer ?", True),  # a property of what was shown: rent, duration, price, places
        ("ça dure combien de temps ?", True),
        ("c'est gratuit ?", True),
        ("et le numéro vert ?", True),  # a helpline is a phone
        ("et pour le logement ?", False),
        ("c'est pour quel âge exactement ?", True),  # elisions do not lengthen it; "exactement" only insists
        ("C'est quoi Wi-Filles ?", False),  # a subject of its own
        ("tu as un contact pour la première ?", True),  # a piste shown, by its rank
        ("tu as le numéro du coordinateur ?", True),  # a role of the people an action gives
        ("celle-là, c'est porté par qui ?", True),
        ("qui l'organise ?", True),
        ("et pour une aide au transport ?", False),  # a subject of its own
        ("quelle action pour un décrocheur de 17 ans à Loos ?", False),  # not a follow-up
        ("ok merci, t'as un mail ?", True),  # thanks carry no subject
        ("who runs it?", True),  # English: the roles asked, "it?" a function word despite its "?"
        ("and for housing?", False),
        ("cette action d'hébergement, c'est porté par qui ?", True),  # "cette action": one shown, its words say which
        # "y", "en": taking part in what was shown, whatever else describes the person
        ("j'ai un jeune de 28 ans demandeur d'emploi qui serait intéressé, il peut y aller ?", True),
        ("elle peut s'y inscrire, avec son bac pro ?", True),
        ("il y a une aide pour le permis ?", False),  # "il y a" points at nothing
        # what the counsellor will do with a contact is no subject; a need is
        ("et le contact pour orienter quelqu'un ?", True),
        ("et pour l'orientation ?", False),
        # what was shown, by its kind and a definite article; "pour la …", "une …" ask for one
        ("elle dure combien de temps, la mission ?", True),
        ("et pour la formation ?", False),
        ("et une formation ?", False),
        ("ça se passe dans quels équipements ?", True),  # where what was shown takes place
        # a short question about "the sessions" of nothing named, nor of anyone or anywhere: those shown
        ("Les jeunes sont rémunérés pendant les sessions ?", True),
        ("Combien de jeunes ont suivi le programme Booster ?", False),  # the kind names an action after it
        ("Quelles sont les formations pour un jeune de 19 ans ?", False),  # asks for formations, for someone
        ("Les formations sont gratuites à Roubaix ?", False),
    ],
)
def test_which_follow_ups_lean_on_the_previous_answer(question: str, leans: bool) -> None:
    assert leans_on_previous(question) is leans


# --- Places elsewhere in France ----------------------------------------------------------------------


def test_a_commune_elsewhere_is_a_place_not_a_commune_of_the_territories() -> None:
    a = analyse("décrocheur de 19 ans à Denain")
    assert understood("décrocheur de 19 ans à Denain") == expect(age=19, situations=["decrochage"])
    assert [(p.name, p.epci, p.in_territory) for p in a.places] == [("Denain", "CA de la Porte du Hainaut", False)]
    assert a.has_person and a.topic == "decrocheur"


def test_a_postal_code_fills_the_communes_as_the_name_would() -> None:
    assert understood("jeune de 17 ans au 59120") == understood("jeune de 17 ans à Loos")


def test_follow_ups_move_the_person_elsewhere_and_back() -> None:
    history = ["quelle action pour un décrocheur de 17 ans à Loos ?"]
    _, a = in_context("et à Denain ?", history)
    assert (a.age, a.communes, a.epci, [p.name for p in a.places]) == (17, (), None, ["Denain"])
    assert leans_on_previous("et à Denain ?")  # a change of place, no subject of its own
    _, b = in_context("et à Roubaix ?", ["quelle action pour un décrocheur de 17 ans à Denain ?"])
    assert (b.communes, b.epci, [p.name for p in b.places]) == (("Roubaix",), "MEL", ["Roubaix"])
    _, c = in_context("et s'il a 19 ans ?", ["un décrocheur de 17 ans à Denain"])
    assert (c.age, [p.name for p in c.places], c.lives_outside) == (19, ["Denain"], True)


def test_a_question_in_english_gives_the_age_the_situation_and_the_need() -> None:
    a = analyse("Which action helps 17-year-old dropouts in Loos?")
    assert (a.age, a.situations, a.communes) == (17, ("decrochage",), ("Loos",))
    b = analyse("Is there a program for young women aged 19 looking for housing in Lille?")
    assert (b.age, b.situations, b.needs) == (19, ("fille",), ("logement",))


def test_a_commune_the_young_person_only_goes_to_is_not_checked_when_their_home_is_given() -> None:
    assert analyse("Mon jeune vit à Valenciennes mais voudrait une action à Lille").communes == ("Valenciennes",)
    assert analyse("un stage à Roubaix pour un jeune de 17 ans").communes == ("Roubaix",)  # no home given: kept


def test_an_english_question_is_searched_with_the_documents_french_words() -> None:
    english = analyse("How many young people signed a contract with ATTA?")
    assert {"jeunes", "signé", "contrat"} <= set(english.translations)
    assert "contrat" in english.lexical_query
    assert analyse("Combien de jeunes ont signé un contrat avec ATTA ?").translations == ()  # French: nothing added
    dated = analyse("How many students have benefited since September 2024?").translations
    assert {"depuis", "septembre", "bénéficiaires"} <= set(dated)  # a date and who benefited, as the documents say
    assert analyse("Contact de KAPS ?").translations == ()  # an English-looking word alone is no English question
    # The general vocabulary of youth insertion, not only the words of some question.
    mentoring = analyse("Is there a mentoring scheme for jobseekers who left foster care?").translations
    assert {"parrainage", "demandeurs d'emploi", "aide sociale à l'enfance"} <= set(mentoring)
    survey = analyse("When was the last survey on students' living conditions?").translations
    assert {"enquête", "conditions de vie", "étudiants"} <= set(survey)


def test_a_short_form_of_a_commune_counsellors_type_is_read() -> None:
    assert analyse("Une jeune de 21 ans de Condé, en recherche d'emploi").communes == ("Condé-sur-l'Escaut",)
    assert analyse("jeune de 19 ans de Vieux-Condé").communes == ("Vieux-Condé",)


def test_a_follow_up_names_a_piste_by_its_rank() -> None:
    from index.query import ordinal

    assert [ordinal(q) for q in ("un contact pour la première ?", "et la deuxième ?", "la 3e ?", "quel âge ?")] == [1, 2, 3, 0]


def test_a_bare_number_said_of_the_person_is_their_age() -> None:
    for question, age in [("And if she were 18?", 18), ("et s'il avait 18 ?", 18), ("et si elle a 27 ?", 27)]:
        assert analyse(question).age == age, question
    for question in ("il a 3 enfants", "il habite au 12", "il a 30 000 euros"):
        assert analyse(question).age is None, question


def test_an_english_follow_up_leans_on_the_previous_answer_and_reads_its_needs_in_french() -> None:
    from index.query import leans_on_previous

    assert leans_on_previous("Who should I contact?") and leans_on_previous("tu as un contact ?")
    # A role asked of what was shown: "qui coordonne ?", "qui pilote ?", "qui s'en occupe ?".
    assert all(leans_on_previous(q) for q in ("qui coordonne ?", "qui pilote ?", "qui s'en occupe ?", "qui finance ?"))
    assert not leans_on_previous("What about housing?")
    assert "numerique" in analyse("a 15-year-old girl curious about digital jobs, is there a programme?").needs


def test_no_licence_nor_car_is_a_mobility_need() -> None:
    assert {"permis", "mobilite"} <= set(analyse("25 ans à Loos, cherche du taf mais pas le permis ni de voiture").needs)
    assert "mobilite" in analyse("elle n'a aucun moyen de transport pour aller travailler").needs


def test_one_piste_pointed_at_without_its_rank_is_the_first() -> None:
    from index.query import ordinal

    assert [ordinal(q) for q in ("celle-là, c'est porté par qui ?", "un contact pour la deuxième ?", "tu as un contact ?")] == [
        1,
        2,
        0,
    ]


def test_a_follow_up_changing_the_girl_for_a_boy_keeps_the_need_and_drops_the_girl() -> None:
    history = ["une collégienne de 15 ans à Lille adore le numérique, une action pour elle ?", "le contact ?"]
    _, a = in_context("et pour un garçon du même âge, qui habite un quartier prioritaire ?", history)
    assert "garcon" in a.situations and "fille" not in a.situations and "collegien" in a.situations
    assert "numerique" in a.needs and a.age == 15 and a.qpv is True
    assert "filles" not in a.expansions


@pytest.mark.parametrize(
    ("question", "communes", "lives_outside"),
    [
        # A place the question sets aside is not the home.
        ("Un jeune de Béthune (la ville dans le 62, pas le faubourg à Lille !) veut créer sa boîte", (), True),
        ("il n'habite pas à Roubaix mais à Tourcoing", ("Tourcoing",), False),
        # A place said to be in a department elsewhere is not the quartier of the same name.
        ("Une jeune de 20 ans à Moulins dans l'Allier veut se lancer", (), True),
        ("Une jeune de 20 ans à Moulins veut se lancer", ("Lille",), False),
        # Alone, a negated place stays: nothing else says where the person lives.
        ("jeune de 17 ans pas scolarisé à Loos", ("Loos",), False),
    ],
)
def test_a_place_set_aside_or_said_elsewhere_is_not_the_home(
    question: str, communes: tuple[str, ...], lives_outside: bool
) -> None:
    analysis = analyse(question)
    assert (analysis.communes, analysis.lives_outside) == (communes, lives_outside)


@pytest.mark.parametrize(
    ("question", "communes", "needs"),
    [
        # The counsellor's own workplace is neither the young person's home nor a need ("work").
        (
            "Hi! I work at a Mission Locale near Lille. I have a 15-year-old girl into computers and coding.",
            (),
            ("numerique",),
        ),
        ("Bonjour, je suis conseiller à la Mission Locale de Roubaix. Jessica, 23 ans, vit à Anzin.", ("Anzin",), ()),
        (
            "je travaille à la Mission Locale de Roubaix, j'ai un jeune de 19 ans de Lille qui cherche un emploi",
            ("Lille",),
            ("emploi",),
        ),
    ],
)
def test_the_counsellor_introducing_themself_places_no_one(
    question: str, communes: tuple[str, ...], needs: tuple[str, ...]
) -> None:
    analysis = analyse(question)
    assert (analysis.communes, analysis.needs) == (communes, needs)
    assert analysis.text == question  # the question as typed is kept


def test_a_home_said_outside_the_territories_without_a_place_is_outside() -> None:
    for question in (
        "jeune de 20 ans, habite hors MEL, veut passer le permis",
        "un jeune de 19 ans qui vit en dehors de la métropole",
    ):
        analysis = analyse(question)
        assert analysis.lives_outside and analysis.epci is None, question
    # A stage or an action outside is no home; the MEL named alone places no one outside.
    assert not analyse("un jeune de Lille veut un stage hors de la métropole").lives_outside
    assert not analyse("les actions de la MEL pour un jeune de 18 ans").lives_outside


def test_orienting_the_young_person_is_the_counsellors_act_not_a_need() -> None:
    assert "orientation" not in analyse("Étudiant de 21 ans qui saute des repas, vers quoi l'orienter ?").needs
    assert "orientation" in analyse("jeune de 19 ans qui voudrait s'orienter vers un métier manuel").needs
    assert "orientation" in analyse("jeune de 19 ans, besoin d'orientation").needs


def test_another_young_person_in_a_follow_up_does_not_inherit_the_earlier_age() -> None:
    history = ["Apprenti de 18 ans à Tourcoing, il parle de rompre son contrat. Une action contre le décrochage ?"]
    for question, age in [
        ("et pour une étudiante de L1 d'anglais à Lille qui veut tout arrêter ?", None),  # another person
        ("et pour sa cousine ?", None),
        ("et pour sa cousine du même âge ?", 18),  # said to be the same age
        ("et pour sa soeur de 16 ans ?", 16),
        ("et pour une fille ?", 18),  # the same profile, another gender
        ("et à Roubaix ?", 18),
    ]:
        assert in_context(question, history)[1].age == age, question


def test_a_counsellor_of_a_structure_outside_both_territories_asks_about_a_young_person_there() -> None:
    # With no place of the young person, the structure's place says where they are followed.
    assert analyse("Je suis conseillère à la Mission Locale de Lens : quelle action pour un jeune de 19 ans ?").lives_outside
    assert analyse("Je travaille à la ML de Dunkerque, un jeune de 20 ans cherche une formation").lives_outside
    # A structure inside says nothing of the person's home; a home named wins over the structure.
    inside = analyse("Je suis conseillère à la Mission Locale de Roubaix, une action pour un jeune de 19 ans ?")
    assert not inside.lives_outside and inside.communes == ()
    home = analyse("Je suis conseillère à la Mission Locale de Lens, une action pour un jeune de 19 ans à Lille ?")
    assert not home.lives_outside and home.communes == ("Lille",)


def test_english_ages_said_of_the_person() -> None:
    for question, age in [
        ("My client is 24, lives in Tourcoing and wants to start a business", 24),
        ("she is 17 and lives in Roubaix", 17),
        ("my son, 16, dropped out", 16),
        ("He's 22 and unemployed", 22),
        ("a young man of 20 in Lille", 20),
        ("she is 30 minutes from Lille", None),  # a duration, not an age
        ("my client is 35 percent sure", None),
    ]:
        assert analyse(question).age == age, question


def test_an_english_question_about_priority_neighbourhoods_reads_qpv_unless_it_denies_it() -> None:
    a = analyse("How many priority neighbourhoods are there in Valenciennes Métropole?")
    assert a.qpv is True and "qpv" in a.situations and "politique de la ville" in a.lexical_query
    a = analyse("a 19 year old who does not live in a priority neighbourhood")
    assert a.qpv is False and "qpv" not in a.situations


def test_situations_described_rather_than_named_are_read() -> None:
    cases = {
        "il va mal depuis des mois, ne sort plus de sa chambre": "sante_mentale",
        "persuadé qu'on l'écarte à cause de son nom et de son adresse": "discrimination",
        "il pense que son nom et son adresse le desservent": "discrimination",
        "he is never called back because of his name": "discrimination",
        "elle vit du minimum social depuis un an": "rsa",
        "au chômage depuis plus de 3 ans": "chomage_longue_duree",
        "pas d'ordinateur, perdue avec les démarches en ligne": "inclusion_numerique",
        "il a une idée de petite entreprise": "entrepreneuriat",
        "il ne parle pas un mot de néerlandais": "langue",
        "incarcéré pour encore 14 mois, il veut apprendre un métier pendant sa détention": "justice",
        "elle n'a plus un euro pour tenir jusqu'à la première paie": "aide_financiere",
        "il se fait recaler à chaque entretien d'embauche": "emploi",
    }
    for question, key in cases.items():
        analysis = analyse(question)
        assert key in (*analysis.situations, *analysis.needs), question


def test_a_trigger_writes_groups_and_words_side_by_side() -> None:
    # "(son/sa) (nom/adresse) … (dessert/…)": a group per word, then a gap; the words alone name no need.
    assert "discrimination" in analyse("ses origines le pénalisent").needs
    assert "discrimination" not in analyse("le nom du dispositif qui dessert Loos").needs
    assert "discrimination" not in analyse("son adresse e-mail ?").needs


def test_landing_an_interview_is_no_dropping_out() -> None:
    analysis = analyse("24 ans, il envoie des CV sans jamais décrocher d'entretien")
    assert "decrochage" not in analysis.situations and "emploi" in analysis.needs
    assert "decrochage" in analyse("il a décroché du lycée à 17 ans").situations


def test_a_piste_pointed_at_by_what_it_does() -> None:
    from index.query import picked_by

    assert picked_by("celle avec les clubs de sport, ça dure combien ?") == {"clubs", "sport"}
    assert picked_by("le dispositif pour les filles, c'est où ?") == {"fille"}
    assert picked_by("quelle action pour un jeune de 17 ans ?") == frozenset()
    assert leans_on_previous("celle avec les clubs de sport, ça dure combien ?")


def test_a_question_pointing_at_the_file_or_asking_in_english_without_a_subject_leans_on_the_previous_answer() -> None:
    assert leans_on_previous("Je contacte qui pour monter le dossier ?")
    assert leans_on_previous("Great, can I get the contact details?")
    assert not leans_on_previous("Who runs Booster?")
    assert not leans_on_previous("More details about the housing scheme please")
    assert not leans_on_previous("le dossier de candidature au service civique, je le trouve où ?")


def test_where_a_young_person_is_held_is_not_where_they_live() -> None:
    held = analyse("Un jeune de 20 ans que je suivais à Loos est incarcéré à Sequedin pour encore 14 mois.")
    assert held.communes == ("Loos",)
    assert analyse("jeune de 19 ans à Sequedin, il cherche du travail").communes == ("Sequedin",)


def test_a_phrase_of_the_vocabulary_is_read_in_the_plural_and_in_the_singular() -> None:
    # "jeune maman" is written once in synonyms.tsv; each of its words may carry its silent plural mark.
    for question in ("des actions pour les jeunes mamans ?", "une jeune maman", "pour les jeune mamans"):
        assert "jeune_parent" in analyse(question).situations, question
    assert "jeune_parent" not in analyse("une jeune femme de 20 ans").situations


def test_a_young_person_put_out_of_home_has_no_home() -> None:
    for question in ("un jeune qui s'est fait virer de chez lui", "elle a été jetée de chez ses parents"):
        assert "sans_logement" in analyse(question).situations, question


def test_an_english_word_that_names_a_commune_is_no_place_without_a_cue() -> None:
    # "His" (Haute-Garonne), "Son" (Ardennes): an English question's words, not where the young person lives.
    analysis = analyse("Young man, 23, from Beuvrages. How to help someone from his neighbourhood get this job?")
    assert analysis.communes == ("Beuvrages",) and not analysis.outside and not analysis.places[1:]
    assert [p.name for p in analyse("un jeune qui habite à His").outside] == ["His"]  # with a cue, the commune


def test_the_communes_said_to_run_an_action_are_not_where_the_young_person_lives() -> None:
    question = "Le Forum Emploi, c'est Seclin et Wattignies qui l'organisent ? J'ai un jeune de 22 ans d'Emmerin"
    analysis = analyse(question)
    assert analysis.communes == ("Emmerin",)
    assert [(p.name, p.located) for p in analysis.places if p.name != "Emmerin"] == [("Seclin", True), ("Wattignies", True)]
    # Who the young person is, said of them, stays where they live.
    assert analyse("un jeune de Douai qui porte un projet").lives_outside


def test_an_elided_article_glued_to_its_word_is_read_as_written_apart() -> None:
    # SMS style drops the apostrophe: "a letranger", "lach lecole", "pas dargent".
    assert "international" in analyse("g 1 jeune ki veut partir a letranger").needs
    assert "decrochage" in analyse("mon jeune de 16 ans a lach lecole").situations
    assert "aide_financiere" in analyse("pas dargent pour le permis").needs
    assert analyse("un jeune de Loos, il passe demain").needs == ()  # "demain" is no glued "emain"


def test_a_young_person_sleeping_at_friends_has_no_home_and_one_doing_nothing_is_neet() -> None:
    assert "sans_logement" in analyse("jeune de 21 ans qui dort chez des potes").situations
    assert "neet" in analyse("il fait rien de ses journées").situations


def test_english_words_for_situations_and_needs_are_read() -> None:
    analysis = analyse("My client is 19, a single mother with no diploma, she wants a driving licence")
    assert {"jeune_parent", "sans_diplome"} <= set(analysis.situations) and "permis" in analysis.needs
    assert "sortant_ase" in analyse("a care leaver of 18 in Lille").situations
    assert "sans_logement" in analyse("a homeless 19 year old in Roubaix").situations
    assert "entrepreneuriat" in analyse("une action qui travaille l'esprit d'entreprise des NEET ?").needs
    assert "entrepreneuriat" not in analyse("il cherche un stage en entreprise").needs
    assert "sans_logement" not in analyse("a 19 year old in Roubaix looking for a flat").situations
    # Ambiguous English words are left out: "of course" asks no training, a "food truck" no food aid.
    assert not {"formation", "alimentation"} & set(analyse("of course, he wants to open a food truck").needs)
