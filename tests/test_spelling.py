"""Misspelt words of a question mended toward the domain vocabulary (``ingest/spelling.py``)."""

from __future__ import annotations

import pytest

from index.query import analyse
from ingest.spelling import mend, mended
from ingest.text import one_edit
from ingest.texting import written_out


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("logemen", "logement"),  # cut short of its last letter
        ("formatio", "formation"),  # "formation" and "formations" are one word: the singular
        ("formaton", "formation"),  # a letter dropped
        ("alternence", "alternance"),  # a letter changed
        ("logmeent", "logement"),  # two neighbours swapped
    ],
)
def test_a_misspelt_vocabulary_word_is_mended(typed: str, meant: str) -> None:
    assert mend(typed) == meant


@pytest.mark.parametrize(
    "word",
    [
        "stade",  # a French word near "stage": never mended
        "financeur",  # a French word missing from the list: the edit would change its ending ("financer")
        "perso",  # too short a start of "personne"
        "decrocheur",  # already matched by the trigger "decroch*"
        "reorientations",  # a plural whose singular is a French word
        "kaps",  # shorter than five letters: too many neighbours
    ],
)
def test_a_word_that_is_no_misspelling_is_kept(word: str) -> None:
    assert mend(word) is None


def test_only_lower_case_words_are_mended_and_the_rest_of_the_text_is_kept() -> None:
    # "Logemen" with a capital may be a name; punctuation and spacing stay as typed.
    assert mended("Logemen, pas de logemen !") == "Logemen, pas de logement !"
    assert mended("Quelle action pour un décrocheur de 17 ans à Loos ?") == "Quelle action pour un décrocheur de 17 ans à Loos ?"


def test_a_place_typed_in_lower_case_is_never_mended() -> None:
    # "lomme" is one edit from "homme", "conde" from "conge": the place reader knows them as places.
    assert mended("jeune de 18 ans à lomme, pas de logemen") == "jeune de 18 ans à lomme, pas de logement"
    assert mended("il habite conde, cherche une formaton") == "il habite conde, cherche une formation"


def test_one_edit() -> None:
    assert one_edit("roubiax", "roubaix") and one_edit("lile", "lille") and one_edit("lillle", "lille")
    assert not one_edit("lille", "lille") and not one_edit("lile", "lilles") and not one_edit("roubaix", "rubiax")


def test_a_mended_need_is_read() -> None:
    # The need is missed as typed and read once mended: the reading serves the kind, not one question.
    typed = "jeune 19a a roubaix, pa de logemen, cherche 1 formaton"
    assert "logement" not in analyse(typed).needs
    reading = analyse(written_out(typed))
    assert {"logement", "formation"} <= set(reading.needs)
    assert reading.age == 19 and reading.communes == ("Roubaix",)


def test_an_english_question_is_not_mended() -> None:
    question = "Is there housing support for a 19-year-old in Roubaix?"
    assert written_out(question) == question
