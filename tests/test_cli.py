"""`reperes` command contracts: JSON shapes, batch files, errors.

Fast tests swap the embedding model for the keyword fake; the slow ones run the real bundled model.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from ingest.chunking import chunk_documents
from ingest.loaders import load_corpus

ROOT = Path(__file__).resolve().parent.parent
ANSWER_KEYS = ["question", "answer", "refused", "citations", "retrieved", "timings_ms"]
CITATION_KEYS = ["n", "source", "title", "line_start", "line_end", "page", "quote"]
RETRIEVED_KEYS = ["source", "line_start", "line_end", "score", "title"]


@pytest.fixture
def fake_env(monkeypatch, tmp_path: Path, mini_corpus: Path, keyword_embeddings) -> Path:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REPERES_CORPUS", str(mini_corpus))
    monkeypatch.setattr("assistant.service.make_embeddings", lambda *args, **kwargs: keyword_embeddings)
    return tmp_path


def assert_answer_shape(record: dict) -> None:
    assert list(record)[: len(ANSWER_KEYS)] == ANSWER_KEYS
    assert isinstance(record["answer"], str) and isinstance(record["refused"], bool)
    for c in record["citations"]:
        assert list(c) == CITATION_KEYS
        assert c["line_start"] <= c["line_end"]
    for r in record["retrieved"]:
        assert list(r)[: len(RETRIEVED_KEYS)] == RETRIEVED_KEYS and set(r) - set(RETRIEVED_KEYS) <= {
            "why"
        }  # extended, never broken
    scores = [r["score"] for r in record["retrieved"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_json_shape(fake_env: Path, capsys) -> None:
    assert main(["ask", "--json", "permis de conduire à Roubaix", "-k", "2"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert_answer_shape(record)
    assert record["question"] == "permis de conduire à Roubaix"
    assert record["citations"][0]["source"] == "actions.txt"
    assert len(record["retrieved"]) == 2


def test_ask_batch_writes_one_line_per_question_with_its_id(fake_env: Path, capsys) -> None:
    batch = fake_env / "in.jsonl"
    batch.write_text(
        '{"id": "q1", "question": "logement des apprentis"}\n\n'
        '{"id": "q2", "question": "et pour le permis ?", "history": ["logement des apprentis"]}\n'
    )
    out = fake_env / "out.jsonl"
    assert main(["ask", "--batch", str(batch), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2"]
    for r in rows:
        assert_answer_shape(r)


def test_a_batch_line_with_no_word_is_an_error_record_and_the_batch_goes_on(fake_env: Path, capsys) -> None:
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    batch.write_text('{"id": "q1", "question": "???"}\n{"id": "q2", "question": "logement des apprentis"}\n')
    assert main(["ask", "--batch", str(batch), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["kind"]) for r in rows] == [("q1", "error"), ("q2", "answer")]
    assert rows[0]["refused"] is True and "aucun mot" in rows[0]["answer"] and rows[0]["citations"] == []


def test_malformed_batch_lines_are_named_and_nothing_is_written(fake_env: Path, capsys) -> None:
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    batch.write_text('{"id": 1, "question": "ok"}\n{pas du json}\n')
    assert main(["ask", "--batch", str(batch), "--out", str(out)]) == 2
    assert "ligne 2" in capsys.readouterr().err
    assert not out.exists() and not out.with_name("out.jsonl.partial").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"id": 1}\n', "« question » manquant"), ('{"id": 1, "question": "x", "history": "y"}\n', "history")],
)
def test_unusable_batch_lines_are_error_records(fake_env: Path, capsys, content: str, message: str) -> None:
    """Content that cannot be asked (tests/test_bad_input.py has the other cases): an error record, the run goes on."""
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    batch.write_text(content + '{"id": 2, "question": "logement des apprentis"}\n')
    assert main(["ask", "--batch", str(batch), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["kind"]) for r in rows] == [(1, "error"), (2, "answer")]
    assert message in rows[0]["answer"] and rows[0]["refused"] is True


def test_chunks_prints_jsonl_without_building_an_index(fake_env: Path, capsys) -> None:
    assert main(["chunks"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records and all(
        list(r) == ["id", "source", "line_start", "line_end", "page", "kind", "title", "text", "metadata"] for r in records
    )
    assert {r["source"] for r in records} == {"actions.txt", "logement.md"}
    assert not (fake_env / "home").exists()


def test_ingest_then_up_to_date(fake_env: Path, capsys) -> None:
    assert main(["ingest"]) == 0
    assert "construit" in capsys.readouterr().out
    assert main(["ingest"]) == 0
    assert "déjà à jour" in capsys.readouterr().out


def test_user_errors_are_french_messages_with_exit_code_2(fake_env: Path, capsys) -> None:
    assert main(["ask"]) == 2
    assert "Posez une question" in capsys.readouterr().err
    assert main(["ask", "x", "-k", "0"]) == 2
    assert main(["chunks", "--corpus", str(fake_env / "absent")]) == 2
    err = capsys.readouterr().err
    assert "Erreur" in err and "Traceback" not in err


def test_help_documents_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "--help"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    for command in ("ingest", "chunks", "ask", "serve"):
        assert command in out


@pytest.mark.slow
def test_real_model_end_to_end_on_a_tiny_corpus(bundled_model: Path, tmp_path: Path, mini_corpus: Path) -> None:
    """The bundled e5 model, a fresh index of the mini corpus, a question whose passage is known."""
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / bundled_model.name).symlink_to(bundled_model)
    env = {**os.environ, "REPERES_HOME": str(home), "REPERES_CORPUS": str(mini_corpus)}
    cmd = [sys.executable, "-m", "assistant", "ask", "--json", "Où apprendre l'informatique à Loos le mercredi ?", "-k", "3"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    record = json.loads(result.stdout)
    assert_answer_shape(record)
    first = record["citations"][0]
    lines = (mini_corpus / first["source"]).read_text().splitlines()[first["line_start"] - 1 : first["line_end"]]
    assert any("CAFÉ NUMÉRIQUE" in line for line in lines)


@pytest.mark.slow
def test_the_loos_question_on_the_bundled_corpus_cites_data_corpus() -> None:
    """The acceptance question, on the real bundled corpus and index (built by `make` under REPERES_HOME)."""
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--json", "quelle action pour un décrocheur de 17 ans à Loos ?"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    record = json.loads(result.stdout)
    assert_answer_shape(record)
    assert not record["refused"] and len(record["retrieved"]) >= 10
    chunks = chunk_documents(load_corpus(ROOT / "data" / "corpus")[0])  # the passages the index holds
    assert record["citations"]
    for c in record["citations"]:
        cited = [ch for ch in chunks if (ch.source, ch.line_start, ch.line_end) == (c["source"], c["line_start"], c["line_end"])]
        text = " ".join(" ".join(ch.text.split()) for ch in cited)
        assert cited and all(c["line_start"] <= c["line_end"] for _ in cited)
        # A quote is whole sentences of its passage (" … " marks a gap, a final "…" a cut): each is in it.
        for sentence in re.split(r"(?<=[.!?;:])\s+|\n", c["quote"].removesuffix("…").replace(" … ", "\n")):
            assert sentence in text, f"{sentence!r} not in the passage {c['source']}:{c['line_start']}-{c['line_end']}"


def test_ingest_report_prints_a_table_per_document(fake_env: Path, capsys) -> None:
    assert main(["ingest", "--report"]) == 0
    out = capsys.readouterr().out
    assert "actions.txt" in out and "logement.md" in out
    assert "passages" in out and "Durée (sans plongements)" in out


@pytest.mark.slow  # reads the whole bundled corpus
def test_actions_lists_the_catalogue_as_jsonl_and_as_a_table(capsys) -> None:
    from ingest.records import Action

    corpus = str(Path(__file__).resolve().parent.parent / "data" / "corpus")
    assert main(["actions", "--corpus", corpus, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert list(records[0]) == list(Action.__dataclass_fields__)
    assert len({r["source"] for r in records}) == 5 and len({r["id"] for r in records}) == len(records)

    assert main(["actions", "--corpus", corpus, "--json", "--age", "17", "--commune", "Loos"]) == 0
    fitting = {json.loads(line)["title"] for line in capsys.readouterr().out.splitlines()}
    assert "CONNECT’EMPLOI" in fitting and "PARCOURS INVERSÉS" not in fitting  # 18-25: excluded at 17

    assert main(["actions", "--corpus", corpus, "--search", "booster uniscité"]) == 0
    table = capsys.readouterr().out
    assert "PROGRAMME BOOSTER" in table and table.rstrip().endswith("1 action(s).")

    assert main(["actions", "--corpus", corpus, "--commune", "Trifouilly-les-Oies"]) == 2
    assert "Trifouilly" in capsys.readouterr().err
