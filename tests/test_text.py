"""The text module (folds, patterns, sentences with their lines, slugs), the reference-table reader, the vocabulary."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ingest.text import (
    AGE_RANGE,
    CONTACT_EMAIL,
    CONTACT_PHONE,
    EMAIL,
    EMAIL_ASCII,
    PHONE,
    PUBLIC_AGE_RANGE,
    _fold_slowly,
    fold,
    fold_spaces,
    fold_words,
    is_section_heading,
    line_sentences,
    passage_sentences,
    printed_length,
    sentences,
    slug,
)
from ingest.tsv import data_rows
from ingest.vocabulary import concepts_in


def test_sentences_keep_their_first_line_and_join_cut_words() -> None:
    lines = ["L’action a pour objectif de développer l’accueil au sein", "de l’AFEV. La structure accompagne-", "ment 20 jeunes."]
    found = sentences(lines, first=10)
    assert [(s.text, s.line) for s in found] == [
        ("L’action a pour objectif de développer l’accueil au sein de l’AFEV.", 10),
        ("La structure accompagnement 20 jeunes.", 11),
    ]


def test_bullets_and_blank_lines() -> None:
    # The guide's bullets have blank lines inside them: a line in lower case goes on with the item.
    lines = ["- Qui met en place un accompagnement", "", "personnalisé des jeunes.", "", "Un paragraphe. M. Dupont le suit."]
    found = sentences(lines)
    assert [(s.text, s.bullet) for s in found] == [
        ("Qui met en place un accompagnement personnalisé des jeunes.", True),
        ("Un paragraphe.", False),
        ("M. Dupont le suit.", False),
    ]


def test_slug() -> None:
    assert slug("Connect’Emploi") == "connect-emploi"
    assert slug("« Mon Avenir J'Y Crois » (MAJ'YC)") == "mon-avenir-j-y-crois-maj-yc"
    assert slug("!!!") == "action"


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("CHANTIER 1 : METTRE EN ŒUVRE", True),
        ("2.3 Les publics", True),
        ("C) Développer l’emploi", True),
        ("2018 (délibération du", False),
        ("Un texte.", False),
    ],
)
def test_section_headings(line: str, heading: bool) -> None:
    assert is_section_heading(line) is heading


def test_data_rows_skip_comments_and_the_header_and_pad() -> None:
    assert data_rows("# source\nname\tepci\n\nLille\tMEL\nLoos\n", width=3) == [(4, ["Lille", "MEL", ""]), (5, ["Loos", "", ""])]


def test_concepts_of_a_document_text() -> None:
    assert concepts_in("Pour les jeunes de 16 à 25 ans en situation de décrochage scolaire", "situation") == ["decrochage"]
    assert set(concepts_in("financer le passage du permis de conduire", "need")) >= {"permis"}


def test_the_three_folds() -> None:
    assert fold("Mons-en-Barœul L’ÉCOLE") == "mons-en-baroeul l’ecole"
    assert fold_words("  Mons-en-Barœul  L’ÉCOLE ") == "mons en baroeul l ecole"
    assert fold_spaces("Métropole  Européenne de l’AFEV, 16-25 ans") == "metropole europeenne de l'afev, 16-25 ans"


def test_fact_patterns_and_their_extraction_variants_differ_where_documented() -> None:
    assert PHONE.search("tél. 03/20/12/34/56") and not CONTACT_PHONE.search("tél. 03/20/12/34/56")
    assert CONTACT_PHONE.search("+32 56 12 34 56") and not PHONE.search("+32 56 12 34 56")
    assert EMAIL.fullmatch("élodie@mairie.fr") and not EMAIL_ASCII.fullmatch("élodie@mairie.fr")
    assert not CONTACT_EMAIL.fullmatch("élodie@mairie.fr") and CONTACT_EMAIL.fullmatch("elodie@mairie-lille.fr")
    assert AGE_RANGE.search("16 et 17 ans") and not PUBLIC_AGE_RANGE.search("16 et 17 ans")
    assert PUBLIC_AGE_RANGE.search("entre 16 et 25 ans") and PUBLIC_AGE_RANGE.search("de 16 à 25 ans")


def test_answer_lines_split_into_sentences_with_their_markers() -> None:
    line = "Voir M. Dupont au 03 20 00 00 00 [1]. Ensuite, cf. la fiche [2]. 2. Fin"
    assert line_sentences(line) == ["Voir M. Dupont au 03 20 00 00 00 [1].", "Ensuite, cf. la fiche [2].", "2. Fin"]


def test_a_flattened_table_cell_under_its_column_label_is_a_sentence_of_its_own() -> None:
    row = "OBJECTIFS : Une GPEC métropolitaine\nOBJECTIFS : Activ'Emploi est une aide d'un montant de 150 euros par an"
    assert passage_sentences(row) == [
        "OBJECTIFS : Une GPEC métropolitaine",
        "OBJECTIFS : Activ'Emploi est une aide d'un montant de 150 euros par an",
    ]


def test_a_label_and_its_value_alone_on_the_next_paragraph_are_one_sentence() -> None:
    text = "Environ 150 participants\n\nProchain parcours intensif « Sprint » :\n\n23 juin – 27 juin 2025\n\n- La suite ?"
    assert "Prochain parcours intensif « Sprint » : 23 juin – 27 juin 2025" in passage_sentences(text)
    # A list after a label stays a list: its items are sentences of their own.
    assert passage_sentences("Les objectifs :\n\n- Éveiller l'intérêt\n- Encourager") == [
        "Les objectifs :",
        "- Éveiller l'intérêt",
        "- Encourager",
    ]


def test_a_named_list_item_and_its_figure_alone_on_the_next_paragraph_are_one_sentence() -> None:
    # A slide's figures: each named item, then its figure on a line of its own.
    text = "- « Challenge d'Hiver »\n\nEnviron 120 participants\n\n- « Sprint vers l'Emploi »\n\nEnviron 150 participants"
    assert passage_sentences(text) == [
        "- « Challenge d'Hiver » : Environ 120 participants",
        "- « Sprint vers l'Emploi » : Environ 150 participants",
    ]
    # An item that is a sentence (a figure, a full stop) is no name: the next line stays apart.
    assert passage_sentences("- Deux parcours en 2024.\n\nEnviron 150 participants") == [
        "- Deux parcours en 2024.",
        "Environ 150 participants",
    ]


def test_a_negative_figure_on_its_own_line_is_no_list_item() -> None:
    # A slide: "PRIX REDUITS !", "de -70 à", "-90 %": the last line goes on, it starts no list item.
    assert passage_sentences("PRIX\nREDUITS !\nde -70 à\n-90 %") == ["PRIX REDUITS ! de -70 à -90 %"]
    assert passage_sentences("Objectifs :\n- Repérer\n- Accompagner") == ["Objectifs :", "- Repérer", "- Accompagner"]


def test_a_list_item_wrapped_before_a_capital_stays_one_item_but_a_short_one_does_not() -> None:
    text = (
        "- Sensibiliser les publics et prescripteurs via des visites, immersions et témoignages\n"
        "- Faire le lien entre la plateforme Stages de 3ème de l’Etat et la bourse aux stages du PIE\n"
        "Jeunesse pilotée par Valenciennes Métropole pour faire découvrir le monde économique aux\n"
        "jeunes des QPV.\n"
        "- Court item\n"
        "Nouvelle ligne de texte."
    )
    found = passage_sentences(text)
    # The PDF wrapped the line as long as the paragraph's longest: "Jeunesse" goes on with it.
    assert any(x.startswith("- Faire le lien") and x.endswith("aux jeunes des QPV.") for x in found)
    # A short item line ends the item: the capitalised line after it is new text.
    assert found[-2:] == ["- Court item", "Nouvelle ligne de texte."]


def test_a_line_ending_on_an_article_or_a_preposition_goes_on_even_across_a_blank_line() -> None:
    text = "- Organiser chaque année le forum des financeurs dans un\n\nQPV\n\n- Former les prescripteurs de\nMaisons de Quartier"
    assert passage_sentences(text) == [
        "- Organiser chaque année le forum des financeurs dans un QPV",
        "- Former les prescripteurs de Maisons de Quartier",
    ]
    # A new item after it is still a new item.
    assert passage_sentences("- Réunir les acteurs de\n\n- Former") == ["- Réunir les acteurs de", "- Former"]


def test_a_footnote_written_into_a_line_does_not_count_in_its_printed_length() -> None:
    line = "en s'appuyant sur Made in Valenciennes 2020 (note 2 : Organisé par l'Office (36 entreprises en 2019).) et"
    assert printed_length(line) == len("en s'appuyant sur Made in Valenciennes 2020 et")
    assert printed_length("  une ligne (entre parenthèses) ") == len("une ligne (entre parenthèses)")


def test_fold_table_agrees_with_unicode_normalisation() -> None:
    # The fast path (a translation table) must give what NFKD and dropping the marks give, on the corpus's
    # lines, on every character of Latin-1 to Latin Extended-B, and on decomposed or foreign letters.
    corpus = Path(__file__).resolve().parents[1] / "data" / "corpus"
    samples = [line for path in sorted(corpus.iterdir()) for line in path.read_text(encoding="utf-8").splitlines()]
    samples += [chr(code) for code in range(0x20, 0x3000)]
    samples += ["Mons-en-Barœul", "ÉCOLE", "e\u0301cole", "Straße", "Øresund", "ﬁbre", "Ⅻ", "ǅ", "한국어", "ΣΑΣ"]
    rng = random.Random(0)  # and mixtures: marks after letters, ligatures beside apostrophes…
    alphabet = [chr(code) for code in range(0x20, 0x3000)]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12))) for _ in range(5000)]
    assert [fold(s) for s in samples] == [_fold_slowly(s) for s in samples]
    assert fold("Mons-en-Barœul L’ÉCOLE") == "mons-en-baroeul l’ecole"
