"""Bad input wherever a user types or sends something: CLI arguments, batch files, HTTP bodies and query
strings, chat fields, corpus files. Each case gets a French message (exit code 2 on the CLI, a 4xx with a French
``detail`` on the API, a note in the chat), never a traceback, and nothing is lost: a batch line that cannot be
asked gets an error record and the run goes on; only a line that is not JSON stops it, before any answer.

Fast: the keyword embeddings and the mini corpus, no model.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.app import AnswerMemory, rate, respond
from assistant.cli import main
from assistant.feedback import FeedbackStore, feedback_path
from assistant.inputs import InputError, check_question
from assistant.records import Answer
from assistant.service import Assistant
from assistant.settings import Settings, SettingsError
from index.build import load_actions, load_chunks
from ingest.loaders import file_size_limit, load_corpus, load_file

ROOT = Path(__file__).resolve().parent.parent
LIMIT = Settings().max_question_chars
TOO_LONG = "x" * (LIMIT + 1)


def _unwritable(folder: Path) -> bool:
    """Whether even this user (root too) cannot create a file in ``folder`` (sysfs refuses everyone)."""
    try:
        (folder / "reperes-test.jsonl").open("w").close()
    except OSError:
        return True
    (folder / "reperes-test.jsonl").unlink()
    return False


@pytest.fixture
def fake_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mini_corpus: Path, keyword_embeddings: Any) -> Path:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REPERES_CORPUS", str(mini_corpus))
    monkeypatch.setattr("assistant.service.make_embeddings", lambda *args, **kwargs: keyword_embeddings)
    return tmp_path


@pytest.fixture
def no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI must refuse before loading anything: building an Assistant fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an Assistant was built: the input should have been refused before any answer")

    monkeypatch.setattr("assistant.cli.Assistant", refuse)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# --- CLI arguments: exit code 2, a French message, no traceback, nothing loaded --------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask"], "Posez une question"),
        (["ask", "   "], "Posez une question"),
        (["ask", "permis", "-k", "0"], "-k (0) doit être entre 1 et 100"),
        (["ask", "permis", "-k", "101"], "-k (101) doit être entre 1 et 100"),
        (["ask", "permis", "-k", "abc"], "'abc' n'est pas un nombre entier"),
        (["ask", "permis", "--out", "x.jsonl"], "--out va avec --batch"),
        (["ask", "permis", "--batch", "in.jsonl", "--out", "x.jsonl"], "soit une question, soit --batch"),
        (["ask", "--batch", "in.jsonl"], "--batch demande --out"),
        (["ask", TOO_LONG], f"Texte trop long pour la question : {LIMIT + 1} caractères, {LIMIT} au plus"),
        (["ask", "caf\udce9 à Loos"], "octets qui ne sont pas de l'UTF-8"),  # what Python makes of a non-UTF-8 byte
        (["inconnue"], "choix 'inconnue' inconnu"),
        ([], "arguments obligatoires manquants"),
        (["ask", "permis", "--inconnue"], "arguments non reconnus : --inconnue"),
        (["ask", "permis", "-k"], "une valeur est attendue"),
        (["eval", "--set", "x.jsonl", "--split", "moitié"], "choix 'moitié' inconnu"),
        (["actions", "--age", "500"], "âge 500 invalide"),
        (["actions", "--age", "dix-sept"], "'dix-sept' n'est pas un nombre entier"),
        (["serve", "--port", "99999"], "port (99999) invalide"),
    ],
)
def test_bad_arguments_exit_2_in_french(
    fake_env: Path, no_answer: None, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = _cli(capsys, *args)
    assert code == 2 and "Erreur" in err and message in err and out == ""


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPERES_MAX_QUESTION_CHARS", "beaucoup", "REPERES_MAX_QUESTION_CHARS='beaucoup' n'est pas un nombre entier"),
        ("REPERES_MAX_BATCH_LINES", "0", "REPERES_MAX_BATCH_LINES (0) doit être ≥ 1"),
        ("REPERES_MAX_BODY_BYTES", "-5", "REPERES_MAX_BODY_BYTES (-5) doit être ≥ 1"),
        ("REPERES_MAX_HISTORY", "-1", "REPERES_MAX_HISTORY (-1) doit être ≥ 0"),
        ("REPERES_MAX_CORPUS_FILE_BYTES", "0", "REPERES_MAX_CORPUS_FILE_BYTES (0) doit être ≥ 1"),
    ],
)
def test_a_bad_limit_setting_names_the_variable(
    fake_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(environ={variable: value})
    monkeypatch.setenv(variable, value)
    code, _, err = _cli(capsys, "chunks")
    assert code == 2 and message in err


def test_a_non_utf8_argument_from_a_real_terminal_exits_2(tmp_path: Path) -> None:
    """The real argv bytes (b"caf\\xe9", Latin-1), as a terminal in another encoding sends them."""
    env = {**os.environ, "REPERES_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", b"caf\xe9 \xe0 Loos"], capture_output=True, cwd=ROOT, env=env, timeout=120
    )
    err = result.stderr.decode("utf-8")
    assert result.returncode == 2 and "pas de l'UTF-8" in err and "Traceback" not in err
    assert not (tmp_path / "home").exists()  # refused before anything loaded


# --- Corpus folders given on the command line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "absent", "Dossier de corpus introuvable"),
        (lambda tmp: _file(tmp / "un-fichier.txt", b"du texte"), "est un fichier, pas un dossier"),
        (lambda tmp: _folder(tmp / "vide"), "ne contient aucun document"),
        (lambda tmp: _file(_folder(tmp / "tableurs") / "aides.xlsx", b"PK").parent, "Aucun document lisible"),
    ],
)
def test_unusable_corpus_folders_exit_2_in_french(
    fake_env: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    corpus = make(fake_env)
    for command in ("chunks", "ingest"):
        code, _, err = _cli(capsys, command, "--corpus", str(corpus))
        assert code == 2 and message in err, command


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- --out and --report: checked before any answer ----------------------------------------------------


@pytest.mark.parametrize(
    ("make_out", "message"),
    [
        (lambda tmp: _folder(tmp / "sorties"), "est un dossier : indiquez un fichier"),
        (lambda tmp: _file(tmp / "un-fichier", b"x") / "out.jsonl", "est un fichier, pas un dossier"),
        (lambda tmp: tmp / "absent" / "out.jsonl", "n'existe pas ; créez-le"),
        pytest.param(
            lambda tmp: Path("/sys/reperes-out.jsonl"),
            "impossible d'écrire dans /sys",
            marks=pytest.mark.skipif(not Path("/sys").is_dir() or not _unwritable(Path("/sys")), reason="needs sysfs"),
        ),
        pytest.param(
            lambda tmp: _read_only(tmp / "lecture-seule") / "out.jsonl",
            "permission refusée",
            marks=pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes in read-only folders"),
        ),
    ],
)
def test_an_unwritable_batch_out_is_refused_before_any_answer(
    fake_env: Path, no_answer: None, capsys: pytest.CaptureFixture[str], make_out: Any, message: str
) -> None:
    batch = _file(fake_env / "in.jsonl", b'{"id": 1, "question": "logement des apprentis"}\n')
    out = make_out(fake_env)
    code, _, err = _cli(capsys, "ask", "--batch", str(batch), "--out", str(out))
    assert code == 2 and "--out" in err and message in err


def _read_only(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o555)
    return path


def test_the_other_outs_are_checked_before_work(fake_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feedback = _file(fake_env / "avis.jsonl", b"")
    code, _, err = _cli(capsys, "eval-drafts", str(feedback), "--out", str(_folder(fake_env / "d")))
    assert code == 2 and "est un dossier" in err
    code, _, err = _cli(capsys, "feedback", "export", "--out", str(fake_env / "absent" / "f.jsonl"))
    assert code == 2 and "n'existe pas" in err
    report = _file(fake_env / "rapport", b"x")
    code, _, err = _cli(capsys, "eval", "--set", str(ROOT / "eval" / "data" / "dev.jsonl"), "--report", str(report))
    assert code == 2 and "--report" in err and "est un fichier" in err


# --- Batch files: a bad line is an error record and the run goes on -------------------------------------

GOOD_LINE = '{"id": "ok", "question": "logement des apprentis"}'


@pytest.mark.parametrize(
    ("line", "line_id", "message"),
    [
        ('{"id": "q", "question": ""}', "q", "la question est vide"),
        ('{"id": "q", "question": "   \\t "}', "q", "la question est vide"),
        ('{"id": "q", "question": 42}', "q", "la question doit être un texte (reçu : un nombre)"),
        ('{"id": "q", "question": null}', "q", "la question doit être un texte (reçu : null)"),
        ('{"id": "q", "question": ["permis"]}', "q", "(reçu : une liste)"),
        ('{"id": "q", "question": {"texte": "permis"}}', "q", "(reçu : un objet)"),
        ('{"id": "q"}', "q", "champ « question » manquant"),
        ("[1, 2]", None, 'doit être un objet JSON {"id", "question"} (reçu : une liste)'),
        ('"juste une question ?"', None, "(reçu : un texte)"),
        ('{"id": "q", "question": "permis", "history": "logement"}', "q", "« history » doit être une liste"),
        ('{"id": "q", "question": "permis", "history": [3]}', "q", "n° 1 de « history » doit être un texte"),
        (json.dumps({"id": "q", "question": "permis", "history": ["a"] * 51}), "q", "« history » a trop de questions : 51"),
        (
            json.dumps({"id": "q", "question": "permis", "history": [TOO_LONG]}),
            "q",
            "texte trop long pour la question précédente n° 1",
        ),
        (json.dumps({"id": "q", "question": TOO_LONG}), "q", f"{LIMIT + 1} caractères, {LIMIT} au plus"),
        ('{"id": "q", "question": "\\ud800 permis"}', "q", "caractère invalide dans la question (position 1)"),
        ('{"id": "q", "question": "???"}', "q", "aucun mot"),
    ],
)
def test_a_batch_line_that_cannot_be_asked_is_an_error_record(
    fake_env: Path, capsys: pytest.CaptureFixture[str], line: str, line_id: Any, message: str
) -> None:
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    batch.write_text(f"{line}\n{GOOD_LINE}\n", encoding="utf-8")
    code, _, err = _cli(capsys, "ask", "--batch", str(batch), "--out", str(out))
    assert code == 0 and "dont 1 lignes en erreur" in err
    rows = [json.loads(row) for row in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["kind"]) for r in rows] == [(line_id, "error"), ("ok", "answer")]
    assert rows[0]["refused"] is True and rows[0]["citations"] == [] and message in rows[0]["answer"]
    assert not out.with_name("out.jsonl.partial").exists()


def test_a_batch_saved_with_a_byte_order_mark_is_read(fake_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    batch.write_bytes(b"\xef\xbb\xbf" + GOOD_LINE.encode() + b"\r\n")  # as Windows editors save UTF-8
    assert _cli(capsys, "ask", "--batch", str(batch), "--out", str(out))[0] == 0
    assert json.loads(out.read_text(encoding="utf-8"))["kind"] == "answer"


def test_a_lone_surrogate_is_kept_in_its_error_record(fake_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing is lost: the question comes back as written (escaped in the file, which stays UTF-8)."""
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    batch.write_text('{"id": "s", "question": "\\ud800 permis"}\n', encoding="utf-8")
    assert _cli(capsys, "ask", "--batch", str(batch), "--out", str(out))[0] == 0
    out.read_bytes().decode("utf-8")
    assert json.loads(out.read_text(encoding="utf-8"))["question"] == "\ud800 permis"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"{GOOD_LINE}\n{{pas du json}}\n".encode(), "ligne 2 : JSON invalide (colonne 2)"),
        (f"{GOOD_LINE}\n".encode() + b'{"id": 2, "question": "caf\xe9"}\n', "ligne 2 : octet 27 qui n'est pas de l'UTF-8"),
        (f'{GOOD_LINE}\n{{"id": 1{"0" * 5000}, "question": "x"}}\n'.encode(), "ligne 2 : JSON illisible"),
        (("[" * 100_000 + "]" * 100_000 + "\n").encode(), "ligne 1 : JSON illisible"),
        (b"\n  \n", "ne contient aucune question"),
    ],
)
def test_a_malformed_batch_stops_before_any_answer(
    fake_env: Path, no_answer: None, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    batch.write_bytes(content)
    code, _, err = _cli(capsys, "ask", "--batch", str(batch), "--out", str(out))
    assert code == 2 and message in err
    assert not out.exists() and not out.with_name("out.jsonl.partial").exists()


@pytest.mark.parametrize(
    ("make_batch", "message"),
    [
        (lambda tmp: _folder(tmp / "questions"), "est un dossier : indiquez le fichier JSONL"),
        (lambda tmp: tmp / "absent.jsonl", "fichier ou dossier introuvable"),
    ],
)
def test_an_unreadable_batch_is_refused_in_french(
    fake_env: Path, no_answer: None, capsys: pytest.CaptureFixture[str], make_batch: Any, message: str
) -> None:
    code, _, err = _cli(capsys, "ask", "--batch", str(make_batch(fake_env)), "--out", str(fake_env / "out.jsonl"))
    assert code == 2 and message in err


def test_a_batch_over_the_line_limit_is_refused_before_any_answer(
    fake_env: Path, no_answer: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPERES_MAX_BATCH_LINES", "3")
    batch = _file(fake_env / "in.jsonl", (GOOD_LINE + "\n\n").encode() * 4)  # blank lines do not count
    code, _, err = _cli(capsys, "ask", "--batch", str(batch), "--out", str(fake_env / "out.jsonl"))
    assert code == 2 and "plus de 3 questions (réglage REPERES_MAX_BATCH_LINES)" in err


def test_ctrl_c_keeps_the_answers_computed_in_out_partial(
    fake_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def ask(self: Assistant, question: str, **kwargs: Any) -> Answer:
        asked.append(question)
        if len(asked) == 2:
            raise KeyboardInterrupt
        return Answer(question, "Réponse.", refused=False)

    monkeypatch.setattr(Assistant, "warm_up", lambda self: 0.0)
    monkeypatch.setattr(Assistant, "ask", ask)
    batch, out = fake_env / "in.jsonl", fake_env / "out.jsonl"
    out.write_text("ancien\n", encoding="utf-8")
    batch.write_text("".join(json.dumps({"id": n, "question": f"question {n}"}) + "\n" for n in (1, 2, 3)), encoding="utf-8")
    code, _, err = _cli(capsys, "ask", "--batch", str(batch), "--out", str(out))
    assert code == 130
    assert f"les 1 réponses déjà calculées (sur 3) sont dans {out}.partial" in err and "n'a pas été modifié" in err
    kept = [json.loads(row) for row in out.with_name("out.jsonl.partial").read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["answer"]) for r in kept] == [(1, "Réponse.")]
    assert out.read_text(encoding="utf-8") == "ancien\n"  # untouched


def test_a_bug_of_ours_is_one_french_line_and_a_private_traceback_file(
    fake_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def ask(self: Assistant, question: str, **kwargs: Any) -> Answer:
        raise RuntimeError("état imprévu")

    monkeypatch.setattr(Assistant, "ask", ask)
    code, out, err = _cli(capsys, "ask", "permis à Roubaix")
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.splitlines()[-1].startswith("Erreur interne inattendue (RuntimeError) : état imprévu. Ce n'est pas")
    trace = Path(err.rsplit("en joignant ", 1)[1].strip().rstrip("."))
    assert "RuntimeError: état imprévu" in trace.read_text(encoding="utf-8")
    assert trace.stat().st_mode & 0o777 == 0o600
    trace.unlink()


# --- HTTP API: a 4xx with a French detail, never a 500 -------------------------------------------------


@pytest.fixture
def client(assistant: Assistant) -> TestClient:
    return TestClient(create_app(assistant, mount_ui=False), raise_server_exceptions=False)


def _json(body: str) -> dict[str, Any]:
    return {"content": body.encode("utf-8"), "headers": {"Content-Type": "application/json"}}


CITATION = {"n": 1, "source": "actions.txt", "title": "t", "line_start": 1, "line_end": 2, "page": None, "quote": "q"}


@pytest.mark.parametrize(
    ("method", "path", "sent", "status", "message"),
    [
        ("get", "/api/sources/actions.txt?lines=1-" + "9" * 5000, {}, 400, "invalide : écrivez une plage de lignes"),
        ("get", "/api/sources/actions.txt?lines=1-99999999999", {}, 400, "numéro de ligne trop grand"),
        ("get", "/api/sources/actions.txt?lines=" + "9" * 50, {}, 400, "numéro de ligne trop grand"),
        ("get", "/api/actions?age=" + "9" * 5000, {}, 422, "age : nombre trop grand"),
        ("get", "/api/actions?age=dix", {}, 422, "age : doit être un nombre entier"),
        ("post", "/api/ask", {"json": {"question": "permis", "inconnu": "x" * (10 * 2**20)}}, 413, "Requête trop volumineuse"),
        ("post", "/api/ask", {"json": {"question": "x" * (5 * 2**20)}}, 413, "REPERES_MAX_BODY_BYTES"),
        ("post", "/api/ask", {"json": {"question": TOO_LONG}}, 422, "texte trop long pour la question"),
        (
            "post",
            "/api/ask",
            {"json": {"question": "permis", "history": ["a"] * 51}},
            422,
            "« history » a trop de questions : 51",
        ),
        ("post", "/api/ask", {"json": {"question": "permis", "history": [TOO_LONG]}}, 422, "question précédente n° 1"),
        ("post", "/api/ask", {"json": {"question": "permis", "history": [1]}}, 422, "history.0 : doit être un texte"),
        ("post", "/api/ask", _json('{"question": "\\ud800 permis"}'), 422, "caractère invalide dans la question"),
        ("post", "/api/ask", _json('{"question": "permis", "k": 1' + "0" * 5000 + "}"), 400, "corps de la requête illisible"),
        (
            "post",
            "/api/ask",
            {"content": '{"question": "café"}'.encode("latin-1"), "headers": {"Content-Type": "application/json"}},
            400,
            "encodé en UTF-8",
        ),
        ("post", "/api/ask", _json("{pas du json"), 422, "JSON invalide"),
        ("post", "/api/ask", _json("[1, 2]"), 422, "doit être un objet JSON"),
        ("post", "/api/ask", {"json": {"question": "permis", "k": 101}}, 422, "k : doit être ≤ 100"),
        ("post", "/api/ask", _json('{"question": "permis", "filters": {"age": 1e400}}'), 422, "doit être un nombre fini"),
        ("post", "/api/ask", _json('{"question": "permis", "filters": {"commune": "\\udc80"}}'), 422, "pas de l'UTF-8"),
        (
            "post",
            "/api/feedback",
            {"json": {"question": "q", "answer": {"answer": "x", "citations": [CITATION] * 20_000}, "rating": "up"}},
            413,
            "Requête trop volumineuse",
        ),
        (
            "post",
            "/api/feedback",
            {"json": {"question": "q", "answer": {"answer": "x", "citations": [CITATION] * 101}, "rating": "up"}},
            422,
            "trop de citations (101, 100 au plus)",
        ),
        (
            "post",
            "/api/feedback",
            {"json": {"question": "q", "answer": {"answer": "x" * 50_001}, "rating": "up"}},
            422,
            "la réponse notée est trop longue (50001 caractères",
        ),
        (
            "post",
            "/api/feedback",
            _json('{"question": "q", "answer": {"answer": "\\ud800"}, "rating": "up"}'),
            422,
            "pas de l'UTF-8",
        ),
        ("post", "/api/feedback", _json('{"question": "\\ud800", "answer": {"answer": "x"}, "rating": "up"}'), 422, "invalide"),
        (
            "post",
            "/api/feedback",
            {"json": {"question": "q", "answer": {"answer": "x"}, "rating": "up", "comment": TOO_LONG}},
            422,
            "texte trop long pour le commentaire",
        ),
    ],
)
def test_bad_requests_are_4xx_in_french(
    client: TestClient, assistant: Assistant, method: str, path: str, sent: dict[str, Any], status: int, message: str
) -> None:
    response = getattr(client, method)(path, **sent)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert FeedbackStore(feedback_path(assistant.settings)).count() == 0  # a refused rating is not stored


def test_the_passage_page_explains_an_absurd_line_range_in_french(client: TestClient) -> None:
    response = client.get("/passage/actions.txt?lines=1-" + "9" * 5000)
    assert response.status_code == 400 and "plage de lignes" in response.text and "<html" in response.text


def test_a_streamed_body_without_length_is_capped_too(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "permis", "inconnu": "'
        for _ in range(64):
            yield b"x" * 8192
        yield b'"}'

    response = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "Requête trop volumineuse" in response.json()["detail"]


def test_unknown_fields_within_the_cap_are_ignored(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "logement des apprentis", "inconnu": "x" * 1000})
    assert response.status_code == 200 and response.json()["kind"] == "answer"


def test_the_api_limits_are_the_settings(tmp_path: Path, mini_corpus: Path, keyword_embeddings: Any) -> None:
    settings = Settings.from_env(
        environ={}, home=tmp_path / "home", corpus=mini_corpus, max_question_chars=20, max_history=1, max_body_bytes=500
    )
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    client = TestClient(create_app(assistant, mount_ui=False))
    long = client.post("/api/ask", json={"question": "logement des jeunes apprentis"})
    assert long.status_code == 422 and "29 caractères, 20 au plus" in long.json()["detail"]
    history = client.post("/api/ask", json={"question": "logement", "history": ["a", "b"]})
    assert history.status_code == 422 and "2 pour 1 au plus" in history.json()["detail"]
    body = client.post("/api/ask", json={"question": "logement", "inconnu": "x" * 600})
    assert body.status_code == 413 and "pour 500 au plus" in body.json()["detail"]


# --- The chat: a French note, no analysis ------------------------------------------------------------


@pytest.fixture
def no_stream(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    def refuse(*args: Any, **kwargs: Any) -> Iterator[str]:
        raise AssertionError("the question was analysed: it should have been refused first")

    monkeypatch.setattr(assistant, "stream", refuse)
    return assistant


@pytest.mark.parametrize(
    ("message", "note"),
    [
        ("x" * 2**20, f"Texte trop long pour la question : {2**20} caractères, {LIMIT} au plus"),
        (TOO_LONG, "REPERES_MAX_QUESTION_CHARS"),
        ("\ud800 permis", "Caractère invalide dans la question"),
    ],
)
def test_the_chat_answers_a_note_without_analysis(no_stream: Assistant, message: str, note: str) -> None:
    shown = list(respond(no_stream, message, []))
    assert len(shown) == 1 and shown[0].startswith("⚠️ ") and note in shown[0]


def test_a_refused_question_does_not_block_the_conversation(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    stream = assistant.stream

    def spy(question: str, history: list[str] | None = None, **kwargs: Any) -> Iterator[Any]:
        seen.append(list(history or []))
        return stream(question, history=history, **kwargs)

    monkeypatch.setattr(assistant, "stream", spy)
    limit = assistant.settings.max_history
    history: list[Any] = [{"role": "user", "content": f"question {n}"} for n in range(limit + 5)]
    history.append({"role": "user", "content": TOO_LONG})  # refused by a note a turn earlier
    shown = list(respond(assistant, "logement des apprentis", history))
    assert "foyer" in shown[-1].lower()
    assert seen == [[f"question {n}" for n in range(5, limit + 5)]]  # the latest ones, the refused one left out


@pytest.mark.parametrize(
    ("question", "answer", "comment"),
    [
        ("permis ?", "x" * 50_001, ""),  # what the browser sends back is not trusted
        ("permis ?", "réponse \udc80", ""),
        (TOO_LONG, "réponse", ""),
        ("permis ?", "réponse", TOO_LONG),
    ],
)
def test_the_chat_does_not_store_a_rating_past_the_limits(
    tmp_path: Path, settings: Settings, question: str, answer: str, comment: str
) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    assert not rate(store, AnswerMemory(), history, 1, True, comment, settings=settings)
    assert rate(store, AnswerMemory(), [history[0], {"role": "assistant", "content": "réponse"}], 1, True, settings=settings) is (
        question != TOO_LONG
    )
    assert store.count() == (0 if question == TOO_LONG else 1)


# --- The library: the same checks before any analysis --------------------------------------------------


@pytest.mark.parametrize(
    ("question", "history", "message"),
    [
        ("", None, "La question est vide"),
        (TOO_LONG, None, "Texte trop long"),
        ("permis", ["a"] * 51, "trop de questions"),
        ("permis \udcff", None, "Caractère invalide"),
    ],
)
def test_the_assistant_refuses_before_analysing(settings: Settings, question: str, history: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_question(question, history, settings)
    assistant = Assistant(settings)  # no index, no model: the refusal comes first
    with pytest.raises(InputError, match=message):
        assistant.ask(question, history=history)


# --- Corpus files: skipped with their name and the reason, never a hang --------------------------------


def test_a_50_mb_corpus_file_is_refused_at_once(fake_env: Path, capsys: pytest.CaptureFixture[str], mini_corpus: Path) -> None:
    corpus = _folder(fake_env / "corpus")
    (corpus / "actions.txt").write_bytes((mini_corpus / "actions.txt").read_bytes())
    with (corpus / "gros.txt").open("wb") as handle:
        handle.truncate(50 * 2**20)  # sparse: costs no disk
    code, out, err = _cli(capsys, "chunks", "--corpus", str(corpus))
    assert code == 0 and "Fichier ignoré : gros.txt — fichier trop volumineux (50,0 Mo, la limite est 20,0 Mo)" in err
    assert {json.loads(line)["source"] for line in out.splitlines()} == {"actions.txt"}


def test_the_corpus_size_limit_is_a_setting(
    fake_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mini_corpus: Path
) -> None:
    monkeypatch.setenv("REPERES_MAX_CORPUS_FILE_BYTES", "300")  # logement.md is 221 bytes, actions.txt 692
    code, _, err = _cli(capsys, "ingest", "--corpus", str(mini_corpus))
    assert (
        code == 0 and "Fichier ignoré : actions.txt — fichier trop volumineux" in err and "REPERES_MAX_CORPUS_FILE_BYTES" in err
    )


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "fichier binaire, pas du texte"),
        ("vide.txt", b"", "fichier vide"),
        ("blanc.md", b"  \n\n \t\n", "fichier vide"),
        ("scan.pdf", b"%PDF-1.4 pas vraiment un PDF", "PDF illisible"),
        ("tableur.xlsx", b"PK\x03\x04", "format non pris en charge (.xlsx)"),
    ],
)
def test_unreadable_corpus_files_are_named_with_the_reason(
    tmp_path: Path, mini_corpus: Path, name: str, data: bytes, reason: str
) -> None:
    corpus = _folder(tmp_path / "corpus")
    (corpus / "logement.md").write_bytes((mini_corpus / "logement.md").read_bytes())
    (corpus / name).write_bytes(data)
    docs, problems = load_corpus(corpus)
    assert [d.source for d in docs] == ["logement.md"]
    assert [(p.path.name, reason in p.reason) for p in problems] == [(name, True)]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Accompagnement des jeunes à Lille, été 2024.\n".encode("cp1252"), "été"),  # old Windows export
        ("\ufeffAccompagnement des jeunes à Lille.\n".encode(), "Accompagnement"),  # UTF-8 byte-order mark dropped
        ("Accompagnement des jeunes à Lille.\n".encode("utf-16"), "à Lille"),  # Windows "Unicode" text
    ],
)
def test_text_in_other_encodings_is_read(tmp_path: Path, data: bytes, text: str) -> None:
    path = _file(tmp_path / "notes.txt", data)
    doc = load_file(path)
    assert doc.text.startswith(text) or text in doc.text
    assert "\ufeff" not in doc.text and "\ufffd" not in doc.text


def test_the_size_limit_applies_where_it_is_set(tmp_path: Path) -> None:
    path = _file(tmp_path / "notes.txt", b"Des notes lisibles sur les aides.\n" * 10)
    with file_size_limit(100), pytest.raises(ValueError, match="fichier trop volumineux"):
        load_file(path)
    assert load_file(path).text  # the default limit outside the block
    with pytest.raises(ValueError, match="la limite est 0,0 Mo"):
        load_file(path, max_bytes=10)


# --- Damaged documents: whatever the damage, ingest reads what it can and never stops --------------------


def _damaged(lines: list[str], damage: str, rng: random.Random) -> list[str]:
    """The bundled text as a bad PDF extraction or a hasty paste could leave it."""
    if damage == "shuffled":  # columns read in the wrong order
        return rng.sample(lines, len(lines))
    if damage == "excerpt":  # a few lines pasted out of their context
        start = rng.randrange(len(lines))
        return lines[start : start + rng.randrange(5, 80)]
    if damage == "holes":  # half the lines lost
        return [line for line in lines if rng.random() < 0.5]
    if damage == "cut":  # lines cut at random points
        return [line[: rng.randrange(len(line) + 1)] for line in lines]
    if damage == "glued":  # words glued together
        return [line.replace(" ", "") if rng.random() < 0.3 else line for line in lines]
    raise AssertionError(damage)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["shuffled", "excerpt", "holes", "cut", "glued"])
def test_a_damaged_corpus_is_ingested_without_stopping(tmp_path: Path, damage: str) -> None:
    rng = random.Random(damage)
    for source in sorted(Settings().corpus.iterdir()):
        lines = _damaged(source.read_text(encoding="utf-8").splitlines(), damage, rng)
        (tmp_path / source.name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    chunks, problems = load_chunks(tmp_path)
    actions, _ = load_actions(tmp_path)
    assert not problems and chunks  # every file read, its text chunked
    # Lines as the loader numbers them (a final newline opens an empty last line).
    sizes = {p.name: len(p.read_text(encoding="utf-8").split("\n")) for p in tmp_path.iterdir()}
    for chunk in chunks:
        assert 1 <= chunk.line_start <= chunk.line_end <= sizes[chunk.source], (chunk.source, chunk.line_start, chunk.line_end)
    for action in actions:  # an action is only what has a name and lies in its file
        assert action.title.strip() and 1 <= action.line_start <= action.line_end <= sizes[action.source], action.id
