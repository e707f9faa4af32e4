"""Texting shorthand written out before any reading of the question (``ingest/texting.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.service import Assistant
from assistant.settings import Settings
from index.query import analyse
from ingest.texting import written_out


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("g 1 jeune de 17a ki a lach l'ecole, ya koi pr lui", "j'ai un jeune de 17 ans qui a lach l'ecole, il y a quoi pour lui"),
        ("slt jsuis avec 1 jeune ss diplom, c pr kel age ?", "salut je suis avec un jeune sans diplôme, c'est pour quel age ?"),
        ("jhabite a lille jcherche du taf", "j'habite a lille je cherche du taf"),
        ("cb de jeunes ? et c qd le prochain ?", "combien de jeunes ? et c'est quand le prochain ?"),
        ("le num de la ML de Roubaix", "le numéro de la Mission Locale de Roubaix"),
        ("g 1 jeune ki a 1 bb et pa de logt", "j'ai un jeune qui a un bébé et pas de logement"),
        ("etud de 20a, ptet 1 aide ?", "étudiant de 20 ans, peut-être un aide ?"),
        (
            "ptite question: ya 1 truc pr 1 jeune au chomdu ? ossi il a pa le permis",
            "petite question: il y a un truc pour un jeune au chômage ? aussi il a pas le permis",
        ),
        ("jv le voir dmn, il est sorti du lycé", "je vais le voir demain, il est sorti du lycée"),
    ],
)
def test_shorthand_is_written_out(typed: str, meant: str) -> None:
    assert written_out(typed) == meant


@pytest.mark.parametrize(
    "question",
    [
        "Quelle action pour un décrocheur de 17 ans à Loos ?",
        "Combien de jeunes en 2019 ? 1 000 ou 1 200 ?",  # numbers stay numbers
        "Le 1er forum a eu lieu à 9 h, annexe C, réseau 4G.",  # "C", "G" are labels, "1er" an ordinal
        "Jérémy, 19 ans, veut jouer au foot à Lille : c'est possible ?",  # "c'", "j" + vowel are French
        "Sa mère est peu disponible, il a vu Déclic'Sportif vs Booster.",  # "sa", "peu", "vs" are words
        "How many young people did the ML reach in 1 year, and who is the contact?",  # English: not French shorthand
    ],
)
def test_a_question_written_out_passes_unchanged(question: str) -> None:
    assert written_out(question) == question


def test_the_person_in_a_texted_question_is_read_as_in_the_written_one() -> None:
    typed = analyse(written_out("1 jeune 24a denain veu passer son permi, ya 1 aide ?"))
    written = analyse("un jeune de 24 ans à Denain veut passer son permis, il y a une aide ?")
    assert typed.age == written.age == 24
    assert [p.name for p in typed.outside] == [p.name for p in written.outside] == ["Denain"]
    assert typed.needs == written.needs == ("permis",)


def test_the_chain_reads_the_texted_question_and_keeps_it_as_typed(settings: Settings, keyword_embeddings) -> None:
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    typed = "1 jeune 19a a Roubaix ss diplom ki cherch 1 logement"
    answer = assistant.ask(typed)
    assert answer.question == typed  # the record keeps what the counsellor typed
    assert answer.filters is not None and (answer.filters["age"], answer.filters["communes"]) == (19, ["Roubaix"])
    assert "sans_diplome" in answer.filters["situations"]  # "ss diplom": "sans diplôme"
    follow = assistant.ask("et s'il a 20 ans ?", history=["1 jeune ss diplom a Roubaix"])
    assert follow.filters is not None and "sans_diplome" in follow.filters["situations"]  # the history too


def test_skipping_the_shorthands_absent_changes_nothing() -> None:
    # written_out runs only the patterns whose shorthand the text holds: the same text as running them all.
    import json

    from ingest import texting
    from ingest.spelling import mended

    def every_pattern(text: str) -> str:
        if texting.english_words(text):
            return text
        text = texting._AGE.sub(r"\1 ans", text)
        text = texting._ONE.sub("un ", text)
        text = texting._J_H.sub("j'", texting._JE.sub("je ", text))
        for _, pattern, full in texting._table():
            text = pattern.sub(full, text)
        return mended(text)

    root = Path(__file__).parents[1] / "eval" / "data"
    texts = [json.loads(line).get("question", "") for path in root.glob("*.jsonl") for line in path.open(encoding="utf-8")]
    for short, _, _ in texting._table():
        texts += [f"g 1 jeune {short} ki cherche", f"{short.upper()} ?", f"{short.capitalize()}, stp", f"x{short}x"]
    assert len(texts) > 500
    assert [t for t in texts if texting.written_out(t) != every_pattern(t)] == []
