"""The action catalogue of the bundled corpus: hand-checked records, statistic traps, mutations, provenance.

Expected values below were read by hand in `data/corpus/` (line numbers are 1-based lines of the files);
the code reads them from the text, so the mutation tests change the text and watch the record follow.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.catalogue import acronym_of, build_catalogue, catalogue_stats, document_actions, qpv_condition
from ingest.chunking import chunk_document
from ingest.gazetteer import load_gazetteer
from ingest.loaders import repair_documents
from ingest.metadata import eligibility_statements, is_eligibility_statement
from ingest.records import Action, SourceDoc
from ingest.text import fold

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"


@pytest.fixture(scope="module")
def catalogue(corpus_docs: dict[str, SourceDoc]) -> list[Action]:
    return build_catalogue(list(corpus_docs.values()))


def _by_title(actions: list[Action], start: str) -> Action:
    found = [a for a in actions if fold(a.title).startswith(fold(start))]
    assert len(found) == 1, [a.title for a in found]
    return found[0]


def _mutated(doc: SourceDoc, *pairs: tuple[str, str]) -> SourceDoc:
    raw = (CORPUS / doc.source).read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in raw, old
        raw = raw.replace(old, new)
    return repair_documents([SourceDoc(doc.source, raw, doc.title)])[0]


# --- every document has actions ------------------------------------------------------------------


def test_every_document_has_actions_with_unique_stable_ids(corpus_docs: dict[str, SourceDoc], catalogue: list[Action]) -> None:
    stats = catalogue_stats(catalogue)
    assert set(stats.by_source) == {d.source for d in corpus_docs.values()}
    assert stats.by_source[corpus_docs["001"].source] == 40
    assert stats.by_source[corpus_docs["004"].source] == 6
    assert len({a.id for a in catalogue}) == len(catalogue)
    assert [a.id for a in build_catalogue(list(corpus_docs.values()))] == [a.id for a in catalogue]  # stable across runs
    assert all(a.line_start <= a.line_end for a in catalogue)


def test_records_round_trip_through_json(catalogue: list[Action]) -> None:
    for action in catalogue:
        assert Action.from_json(action.to_json()) == action


# --- the guide (001) ----------------------------------------------------------------------------


def test_guide_cards_have_whole_titles_publics_and_pages(catalogue: list[Action], corpus_docs: dict[str, SourceDoc]) -> None:
    cards = [a for a in catalogue if a.source == corpus_docs["001"].source]
    assert all(a.kind == "card" and a.public and a.porteur and a.page for a in cards)
    titles = [a.title for a in cards]
    assert "DÉVELOPPEMENT DU SERVICE CIVIQUE SUR LA MEL" in titles  # never cut mid-phrase
    assert not any(re.search(r"\b(?:SUR LA|DE|DES|ET|DU)$", t) for t in titles)


def test_connect_emploi(catalogue: list[Action]) -> None:
    a = _by_title(catalogue, "CONNECT’EMPLOI")
    assert (a.line_start, a.line_end, a.page) == (797, 1006, 13)
    assert a.porteur == "Mission Locale Métropole Sud"
    assert a.public == "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin."
    assert (a.age_min, a.age_max, a.age_evidence) == (16, 25, a.public)
    assert a.communes == ("Loos", "Wattignies", "Haubourdin") and a.territory_scope == "several" and a.epci == "MEL"
    assert a.summary and a.summary.startswith("Ce dispositif propose un accompagnement de proximité")
    people = {c.name: c for c in a.contacts if c.name}
    assert people["Jean-Claude Kapusta"].emails == ("jckapusta@mlms.fr",)
    assert people["Jean-Claude Kapusta"].phones == ("06 99 78 34 23",)
    assert people["Christine Buisine"].emails == ("cbuisine@mlmsl.fr",)  # the source's typo, as written
    assert any(f.value == "149 jeunes" for f in a.figures)


def test_guide_qpv_conditions(catalogue: list[Action]) -> None:
    labo = _by_title(catalogue, "LABO 148")
    assert (labo.qpv, labo.age_min, labo.age_max) == ("only", 15, 30) and "quartiers prioritaires" in (labo.qpv_evidence or "")
    coop = _by_title(catalogue, "COOP MONS")  # "principalement issus de quartiers prioritaires": a priority, not a condition
    assert coop.qpv is None


def test_acronyms() -> None:
    assert acronym_of("ACCROCHE TOI A TON AVENIR : Lutte contre le décrochage scolaire", "l'action ATTA vise à") == "ATTA"
    assert acronym_of("« Mon Avenir J'Y Crois » (MAJ'YC)", "") == "MAJ'YC"
    # After an elided article: the part of the deck that names the coordination, not the whole action.
    assert acronym_of("ACCROCHE TOI A TON AVENIR", "Mission Locale Lille Avenirs (Coordination d'ATTA)") == "ATTA"
    assert acronym_of("L’ENGAGEMENT ÇA SE PARTAGE", "LES RESSOURCES") is None


# --- the FIJeM deck (004) -------------------------------------------------------------------------


def test_fijem_actions(catalogue: list[Action], corpus_docs: dict[str, SourceDoc]) -> None:
    deck = [a for a in catalogue if a.source == corpus_docs["004"].source]
    assert [a.kind for a in deck] == ["deck"] * 6

    harassment = _by_title(deck, "Le pair à pair dans la lutte contre le harcèlement")
    assert (harassment.age_min, harassment.age_max) == (11, 18)
    # Who runs it: its "Qui intervient ?" part, as written; not the "Intervenants" who presented an action.
    assert harassment.porteur == "8 volontaires d'Unis Cité ; 5 volontaires de l'Afev ; 3 médiateurs·rices de Citéo Médiation"
    assert harassment.age_evidence == "Auprès de jeunes entre 11 et 18 ans"

    majyc = _by_title(deck, "« Mon Avenir J'Y Crois »")
    assert (majyc.line_start, majyc.acronym, majyc.age_min, majyc.age_max) == (251, "MAJ'YC", 16, 21)
    assert majyc.qpv == "excluded" and "HORS POLITIQUE DE LA VILLE" in (majyc.qpv_evidence or "")
    assert majyc.communes == ()  # "Lille" of "Mission Locale Lille Avenirs" is not where the action is
    assert len(majyc.mission_locale_sectors) == 2
    assert "decrochage" in majyc.situations
    assert majyc.summary == "Une action de prévention du décrochage, et de raccrochage des jeunes, pour les territoires hors QPV"
    assert any(f.value == "75 jeunes" for f in majyc.figures)

    atta = _by_title(deck, "ACCROCHE TOI A TON AVENIR")
    assert (atta.acronym, atta.age_min, atta.age_max, atta.territory_scope) == ("ATTA", 16, 25, "MEL")

    housing = _by_title(deck, "SECURISER L'ACCES A L'HEBERGEMENT TEMPORAIRE")
    assert (housing.age_min, housing.age_max) == (None, None)  # "10 jeunes concernés à ce jour, 19/27 ans" is a count
    assert housing.porteur is None  # an empty "Qui ?" (its logos were lost); "Intervenants : Christophe CATTEAU…"
    assert "logement" in housing.themes

    works = _by_title(deck, "CHANTIERS ÉDUCATIFS")
    assert (works.age_min, works.age_max) == (16, 25)
    assert {"Roubaix", "Tourcoing", "Wattrelos", "Leers"} <= set(works.communes)

    pantry = _by_title(deck, "« Structuration et consolidation des dispositifs épiceries solidaires")
    assert "etudiant" in pantry.situations and (pantry.age_min, pantry.age_max) == (None, None)


# --- the contrats de ville (002, 003) and the PIA note (000) ------------------------------------------


def test_contrat_de_ville_actions(catalogue: list[Action], corpus_docs: dict[str, SourceDoc]) -> None:
    cavm = [a for a in catalogue if a.source == corpus_docs["003"].source]
    pop = _by_title(cavm, "Pop School")
    assert pop.line_start <= 1260 <= pop.line_end and pop.epci == "Valenciennes Métropole"
    assert pop.summary and "développeur web et mobile" in pop.summary
    cap = _by_title(cavm, "Cap Quartiers")
    assert [f.value for f in cap.figures] == ["2000€"] and "porteur de projets" in (cap.public or "")

    mel = [a for a in catalogue if a.source == corpus_docs["002"].source]
    start = _by_title(mel, "Start'Avenir")
    assert start.line_start == 289 and start.kind == "table_row" and start.epci == "MEL"
    assert start.qpv == "only" and "quartiers prioritaires" in (start.qpv_evidence or "")

    pia = [a for a in catalogue if a.source == corpus_docs["000"].source]
    assert len(pia) == 2
    accroche = _by_title(pia, "Accroche active")
    assert accroche.line_start <= 13 <= accroche.line_end


# Hand-checked records of the two contrats de ville: (document, title start, line inside, field values read by hand).
PROTOCOL_RECORDS = [
    ("002", "Start'Avenir", 289, {"kind": "table_row", "qpv": "only", "epci": "MEL"}),
    ("002", "Initiative pour l'emploi des jeunes", 276, {"age_min": 25, "age_max": 29, "porteur": "Department du Nord"}),
    (
        "002",
        "Les Maisons de l'Insertion et de l'Emploi",
        277,
        {"communes": ("Lille", "Roubaix", "Tourcoing"), "porteur": "Département du Nord"},
    ),
    ("002", "Développement du PAQTE", 287, {"qpv": "only", "qpv_evidence": "habitants des quartiers prioritaires"}),
    ("002", "Incubateur culinaire « Food Job Fabrique »", 268, {"communes": ("Lille",), "territory_scope": "commune"}),
    ("002", "CHEQUE PASS FORMATION", 272, {"porteur": "Région Hauts-de-France", "age_min": None}),
    ("002", "Activ'Emploi", 276, {"age_min": None, "age_max": None}),
    ("003", "Cap Quartiers", 1462, {"qpv": "only", "line_end": 1463}),
    ("003", "Proch’Emploi", 1178, {"porteur": "Région Hauts de France"}),
    ("003", "Plateforme Insertion et Emploi", 1181, {"porteur": "Département du Nord"}),
    ("003", "PAQTE", 1291, {"porteur": "Valenciennes Métropole", "qpv": "only"}),
    ("003", "Garage Numérique", 1251, {"epci": "Valenciennes Métropole", "age_min": None}),
    ("000", "Investir dans les jeunesses", 19, {"porteur": "Métropole européenne de Lille (MEL)", "epci": "MEL"}),
]


@pytest.mark.parametrize(("prefix", "title", "line", "fields"), PROTOCOL_RECORDS, ids=[r[1] for r in PROTOCOL_RECORDS])
def test_hand_checked_protocol_records(
    prefix: str, title: str, line: int, fields: dict, catalogue: list[Action], corpus_docs: dict[str, SourceDoc]
) -> None:
    action = _by_title([a for a in catalogue if a.source == corpus_docs[prefix].source], title)
    assert action.line_start <= line <= action.line_end
    assert {k: getattr(action, k) for k in fields} == fields


def test_a_protocol_measure_without_a_place_applies_to_the_protocols_territory(
    catalogue: list[Action], corpus_docs: dict[str, SourceDoc]
) -> None:
    cavm = [a for a in catalogue if a.source == corpus_docs["003"].source]
    assert cavm and all(a.epci == "Valenciennes Métropole" for a in cavm)
    assert any(a.territory_evidence == "document" and a.territory_scope == "Valenciennes Métropole" for a in cavm)


# --- eligibility only from eligibility statements --------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Avec près d’un habitant sur trois ayant moins de 20 ans, la MEL est une des métropoles les plus jeunes",  # 001 l.9
        "- 10 jeunes concernés à ce jour (5 G et 5 F), 19/27 ans",  # 004 l.703
        "1 Taux d’emploi : nombre de personnes de 15 à 64 ans ayant un emploi",  # 003 l.1060
        "44% des demandeurs d’emploi des quartiers ont moins de 26 ans.",
        "L’association a accompagné 120 jeunes de 16 à 25 ans en 2019.",  # invented: a count of people served
        "Un jeune sur deux a entre 18 et 24 ans.",  # invented: a share
        "70% des jeunes âgés de 16 à 25 ans sont sans emploi.",  # invented: a share with "âgés"
        "la part des jeunes âgés de 15 à 24 ans au chômage",  # invented
    ],
)
def test_statistics_are_not_eligibility_statements(sentence: str) -> None:
    assert not is_eligibility_statement(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin.",
        "- Cible : les jeunes de 16-25 ans, en situation de décrochage scolaire",
        "Jeunes âgés entre 16 et 25 ans résidant sur le territoire de la Métropole Européenne de Lille",
        "- Auprès de jeunes entre 11 et 18 ans",
        "Ce dispositif est réservé aux jeunes de 18 à 25 ans sans emploi.",  # invented
        # 002 l.402: a priority cell qualifying its people by an age range.
        "Favoriser l'insertion sociale et/ou professionnelle des jeunes en difficulté âgés 16 à 25 ans",
    ],
)
def test_eligibility_statements(sentence: str) -> None:
    assert is_eligibility_statement(sentence)


def test_a_for_whom_heading_makes_the_next_sentence_a_statement() -> None:
    assert eligibility_statements(["Pour qui ?", "", "Des élèves de lycée professionnel de 15 à 18 ans"]) == [
        "Des élèves de lycée professionnel de 15 à 18 ans"
    ]


def test_the_three_statistic_traps_give_no_ages_to_any_chunk_or_action(
    corpus_docs: dict[str, SourceDoc], catalogue: list[Action]
) -> None:
    traps = [("001", 9), ("004", 703), ("003", 1060)]
    for prefix, line in traps:
        doc = corpus_docs[prefix]
        for chunk in chunk_document(doc):
            if chunk.line_start <= line <= chunk.line_end:
                assert (chunk.metadata["age_min"], chunk.metadata["age_max"]) == (None, None), (prefix, line, chunk.title)
        for action in catalogue:
            if action.source == doc.source and action.line_start <= line <= action.line_end:
                assert (action.age_min, action.age_max) == (None, None), (prefix, line, action.title)


def test_qpv_condition_reads_the_statement() -> None:
    assert qpv_condition(["Pour les jeunes hors QPV"])[0] == "excluded"
    assert qpv_condition(["Pour les habitants des quartiers prioritaires de Roubaix"]) == (
        "only",
        "habitants des quartiers prioritaires de Roubaix",
    )
    assert qpv_condition(["Pour les jeunes principalement issus de quartiers prioritaires"]) == (None, None)
    assert qpv_condition(["Pour les jeunes de 16 à 25 ans"]) == (None, None)


# --- mutations: the record follows the text ---------------------------------------------------------


def test_a_changed_fijem_action_yields_a_changed_record(corpus_docs: dict[str, SourceDoc]) -> None:
    doc = _mutated(
        corpus_docs["004"],
        (
            "âgés de 16 à 21 ans originaires des secteurs HORS POLITIQUE DE LA VILLE",
            "âgés de 17 à 23 ans habitant des quartiers prioritaires de Roubaix",
        ),
        ("- 10 jeunes concernés à ce jour (5 G et 5 F), 19/27 ans", "- Pour les jeunes de 18 à 27 ans sans hébergement"),
    )
    actions = document_actions(doc)
    majyc = _by_title(actions, "« Mon Avenir J'Y Crois »")
    assert (majyc.age_min, majyc.age_max, majyc.qpv, majyc.communes) == (17, 23, "only", ("Roubaix",))
    housing = _by_title(actions, "SECURISER L'ACCES")
    assert (housing.age_min, housing.age_max) == (18, 27)  # now the text says whom it is for
    changed = _mutated(corpus_docs["004"], ("5 volontaires de l'Afev", "6 volontaires de la Croix-Rouge"))
    assert "6 volontaires de la Croix-Rouge" in (_by_title(document_actions(changed), "Le pair à pair").porteur or "")


def test_a_changed_card_yields_a_changed_record_and_a_moved_phone_follows_the_text(corpus_docs: dict[str, SourceDoc]) -> None:
    doc = _mutated(
        corpus_docs["001"],
        (
            "Pour les jeunes de 16 à 25 ans habitant Loos, Wattignies ou Haubourdin.",
            "Pour les jeunes de 18 à 29 ans habitant Seclin ou Roubaix, hors QPV.",
        ),
        ("jckapusta@mlms.fr / 06 99 78 34 23", "jckapusta@mlms.fr"),
        ("cbuisine@mlmsl.fr / 07 82 16 95 52", "cbuisine@mlmsl.fr / 07 82 16 95 52 / 06 99 78 34 23"),
    )
    card = _by_title(document_actions(doc), "CONNECT’EMPLOI")
    assert (card.age_min, card.age_max, card.communes, card.qpv) == (18, 29, ("Seclin", "Roubaix"), "excluded")
    people = {c.name: c for c in card.contacts if c.name}
    assert people["Jean-Claude Kapusta"].phones == ()
    assert people["Christine Buisine"].phones == ("07 82 16 95 52", "06 99 78 34 23")


def test_no_phone_is_given_to_a_person_the_text_does_not_give_it_to(
    catalogue: list[Action], corpus_docs: dict[str, SourceDoc]
) -> None:
    """For every person of every action, each phone is on a line of that person's own block."""
    for action in catalogue:
        lines = corpus_docs[action.source[:3]].lines
        for contact in action.contacts:
            if contact.name and contact.phones and contact.line:
                block = "\n".join(lines[contact.line - 1 : contact.line + 5])
                assert all(p in block for p in contact.phones), (action.title, contact)
    kev = [c for a in catalogue for c in a.contacts if c.name == "Catherine Kev"]
    assert kev and all(c.phones == () for c in kev)


# --- provenance: every extracted value is in the action's own lines -----------------------------------


def test_every_extracted_value_occurs_in_the_actions_source_lines(
    corpus_docs: dict[str, SourceDoc], catalogue: list[Action]
) -> None:
    gazetteer = load_gazetteer()

    def norm(text: str) -> str:
        return fold(" ".join(text.replace("-\n", "").split())).replace("’", "'")

    for action in catalogue:
        lines = corpus_docs[action.source[:3]].lines[action.line_start - 1 : action.line_end]
        text = "\n".join(lines)
        flat = norm(text)
        joined = norm(re.sub(r"-\s*\n\s*", "", text))
        evidence = (action.age_evidence or "").split(" / ")
        porteurs = (action.porteur or "").split(" ; ")  # a table row's authorities, one per cell item
        for value in (action.public, *evidence, action.qpv_evidence, action.summary, *porteurs):
            if value:
                bare = norm(value.rstrip(" .…;"))
                assert bare in flat or bare in joined or bare[:60] in flat, (action.title, value)
        for figure in action.figures:
            assert norm(figure.value) in flat, (action.title, figure)
        for contact in action.contacts:
            for item in (*contact.emails, *contact.phones, *(n for n in (contact.name,) if n)):
                assert norm(item) in joined or norm(item) in flat, (action.title, item)
        named = {c.name for c in gazetteer.find(text)}
        assert set(action.communes) <= named, (action.title, action.communes)
        for age in (action.age_min, action.age_max):
            if age is not None and action.age_evidence:
                assert (
                    str(age) in action.age_evidence
                    or f"moins de {age + 1}" in action.age_evidence
                    or re.search(r"mineur|majeur|coll[ée]gien|lyc[ée]en|\d\s*e\b", action.age_evidence)
                ), action.title


def test_a_table_rows_priority_cell_gives_its_public(catalogue: list[Action]) -> None:
    # 002 l.402: the FAJeM's row says whom it is for in its PRIORITES cell, not in its own objective.
    fajem = _by_title(catalogue, "Fonds Métropolitain d'aides aux Jeunes")
    assert (fajem.age_min, fajem.age_max, fajem.acronym) == (16, 25, "FAJeM")
    assert fajem.public is not None and "âgés 16 à 25 ans" in fajem.public


def test_actions_for_other_people_are_not_packed_into_one_chunk(corpus_docs: dict[str, SourceDoc]) -> None:
    # The PIA notice presents one action of Valenciennes Métropole, then one of the MEL, in two short
    # paragraphs: packed together, the chunk would hold two territories and state none.
    chunks = [c for c in chunk_document(corpus_docs["000"]) if c.metadata["action_ids"]]
    scopes = {c.metadata["action_id"]: c.metadata["territory_scope"] for c in chunks}
    assert sorted(scopes.values()) == ["MEL", "Valenciennes Métropole"], scopes
    # The rule follows the text: when both actions are Valenciennes Métropole's, their paragraphs stay
    # packed in one chunk, as any paragraphs do.
    doc = _mutated(
        corpus_docs["000"],
        ('de la Métropole Européenne de Lille" a pour objectif', 'du Valenciennois" a pour objectif'),
        ("proté par la Métropole européenne de Lille (MEL)", "porté par Valenciennes Métropole"),
    )
    together = [c for c in chunk_document(doc) if len(c.metadata["action_ids"]) == 2]
    assert [(c.line_start, c.line_end) for c in together] == [(13, 25)]


def test_a_part_of_a_table_row_belongs_to_every_action_of_the_row(corpus_docs: dict[str, SourceDoc]) -> None:
    # Row 292 of the protocol is cut in parts; the one with the "AUTORITES RESPONSABLES" cells names only
    # "Circuits-Courts" in its text, yet it holds the porteur of every objective of the row.
    parts = [c for c in chunk_document(corpus_docs["002"]) if c.line_start == 292 and "AUTORITES RESPONSABLES" in c.text]
    assert parts
    ids = set(parts[0].metadata["action_ids"])
    assert {"002-circuits-courts", "002-un-parcours-de-reussite-vers-l-apprentissage-et"} <= ids
    assert parts[0].metadata["action_id"] == "002-circuits-courts"  # the one its text names stays its own


def test_a_summary_says_what_the_action_does_not_only_whom_it_is_for(
    catalogue: list[Action], corpus_docs: dict[str, SourceDoc]
) -> None:
    # Fabrique ta ville's paragraph opens on whom it is for (its public line's job), then says what it does.
    assert "mobilier" in (_by_title(catalogue, "FABRIQUE TA VILLE").summary or "")
    # Connect'Emploi's opens on what it does: kept.
    assert (_by_title(catalogue, "CONNECT’EMPLOI").summary or "").startswith("Ce dispositif propose")
    # The text decides: without the "whom" opening, the first sentence is the summary again.
    doc = _mutated(corpus_docs["001"], ("Cette action s’adresse à des jeunes", "Cette action accueille des jeunes"))
    assert (_by_title(document_actions(doc), "FABRIQUE TA VILLE").summary or "").startswith("Cette action accueille")
