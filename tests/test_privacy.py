"""Personal data: pseudonymisation, feedback stored without names, retention and purge, logs without
question text, request ids, /metrics, Gradio's analytics off."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.app import respond
from assistant.cli import main
from assistant.feedback import FeedbackStore, feedback_path, purge_expired
from assistant.observability import ACCESS_LOGGER, JsonFormatter, Metrics
from assistant.privacy import pseudonymise
from assistant.service import Assistant
from assistant.settings import Settings, SettingsError

ANSWER = {"answer": "Connect'Emploi [1].", "citations": []}

# What counsellors type, and what must be left of it.
REPLACED = [
    ("Jean Dupont, né le 3/2/2008, cherche un emploi", "[nom], né le [date], cherche un emploi"),
    ("Léa Martin (17 ans) à Villeneuve d'Ascq", "[nom] (17 ans) à Villeneuve d'Ascq"),
    ("Je m'appelle Marie Curie", "Je m'appelle [nom]"),
    ("Elle s'appelle Léa, 17 ans, à Tourcoing", "Elle s'appelle [nom], 17 ans, à Tourcoing"),
    ("un jeune nommé Kevin Durand à Loos", "un jeune nommé [nom] à Loos"),
    ("Mme Durand demande pour son fils Kevin", "Mme [nom] demande pour son fils [nom]"),
    ("M. Petit a appelé la Mission Locale de Roubaix", "M. [nom] a appelé la Mission Locale de Roubaix"),
    ("jeune homme Mohamed BENALI, 19 ans", "jeune homme [nom], 19 ans"),
    ("Madame Jean-Baptiste, sans emploi", "Madame [nom], sans emploi"),
    ("son mail : kevin.durand59@gmail.com", "son mail : [e-mail]"),
    ("tél 06 12 34 56 78 ou 0612345678", "tél [téléphone] ou [téléphone]"),
    ("joignable au +33 6 12 34 56 78", "joignable au [téléphone]"),
    ("fixe 03.20.12.34.56", "fixe [téléphone]"),
    ("née le 03/02/2008 à Lille", "née le [date] à Lille"),
    ("né le 3 février 2008", "né le [date]"),
    ("né le 1er mars 2007", "né le [date]"),
    ("habite 12 rue des Lilas à Roubaix", "habite [adresse] à Roubaix"),
    ("au 3 bis, avenue Jean Jaurès, Loos", "au [adresse], Loos"),
    ("5 rue de l'Église", "[adresse]"),
    ("Kevin Durand, suivi depuis mars, veut passer le permis", "[nom], suivi depuis mars, veut passer le permis"),
]

KEPT = [
    "Quelle action pour un décrocheur de 17 ans à Loos ?",
    "Qui contacter pour l'action Connect'Emploi ?",
    "Quelles actions pour le permis de conduire des jeunes ?",
    "Booster ou Garantie Jeunes pour un jeune de 19 ans à Valenciennes ?",
    "Le Quesnoy, 17 ans, quelle action ?",
    "Saint-Amand-les-Eaux, 18 ans, en QPV",
    "Villeneuve d'Ascq, 18 ans",
    "Mission Locale, très bien",
    "Réponse fausse, Connect'Emploi n'est pas à Loos",
    "Et s'il a 19 ans ?",
    "Le jeune est né en 2008 et habite à Wattrelos, quartier prioritaire",
    "Une jeune femme de 22 ans à Roubaix, sans diplôme, cherche un logement",
    "Pôle Emploi Roubaix, la CAF et le CCAS de Tourcoing",
    "Le 3 février, réunion d'information à la Maison de l'Emploi",
]


@pytest.mark.parametrize(("text", "expected"), REPLACED)
def test_personal_data_is_replaced_by_french_placeholders(text: str, expected: str) -> None:
    assert pseudonymise(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_what_the_answer_needs_is_kept(text: str) -> None:
    assert pseudonymise(text) == text


def test_pseudonymise_is_idempotent_and_handles_empty_text() -> None:
    once = pseudonymise(REPLACED[0][0])
    assert pseudonymise(once) == once
    assert pseudonymise("") == ""


def _record(store: FeedbackStore, question: str, comment: str = "") -> int:
    return store.record(question, ANSWER, "down", comment)


def test_feedback_is_stored_and_exported_pseudonymised(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    _record(store, "Jean Dupont, né le 3/2/2008, 17 ans à Loos : quelle action ?", "Appeler Mme Durand au 06 12 34 56 78")
    out = tmp_path / "export.jsonl"
    store.export(out)
    line = json.loads(out.read_text(encoding="utf-8"))
    assert line["question"] == "[nom], né le [date], 17 ans à Loos : quelle action ?"
    assert line["comment"] == "Appeler Mme [nom] au [téléphone]"
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("feedback.sqlite3*"))
    assert b"Dupont" not in raw and b"06 12 34" not in raw
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_a_feedback_file_left_readable_by_others_is_closed_to_them(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    _record(FeedbackStore(path), "permis à Roubaix", "Connect'Emploi")
    path.chmod(0o644)  # as an older version left it
    _record(FeedbackStore(path), "permis à Lille", "Connect'Emploi")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert FeedbackStore(path).export(tmp_path / "out.jsonl") == 2  # nothing lost on the way


def _age_rows(path: Path, days: dict[int, int]) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    with conn:
        for row_id, age in days.items():
            created = (datetime.now(UTC) - timedelta(days=age)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            conn.execute("UPDATE feedback SET created = ? WHERE id = ?", (created, row_id))
    conn.close()


def test_purge_deletes_rows_past_the_retention_and_all_on_demand(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    ids = [_record(store, f"question {n} à Loos") for n in range(3)]
    _age_rows(store.path, {ids[0]: 40, ids[1]: 10})
    assert store.purge(30) == 1
    assert [f.id for f in store.all()] == ids[1:]
    assert store.purge(5) == 1
    assert store.purge(None) == 1
    assert store.count() == 0
    assert FeedbackStore(tmp_path / "none.sqlite3").purge(30) == 0


def test_reperes_purge_and_the_server_start_apply_the_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path))
    settings = Settings.from_env()
    store = FeedbackStore(feedback_path(settings))
    ids = [_record(store, f"question {n}") for n in range(4)]
    _age_rows(store.path, {ids[0]: 31, ids[1]: 20, ids[2]: 8})
    assert purge_expired(settings) == 1  # default retention: 30 days
    assert main(["purge", "--older-than", "15"]) == 0
    assert "1 avis supprimé (les avis de plus de 15 jours)" in capsys.readouterr().out
    monkeypatch.setenv("REPERES_RETENTION_DAYS", "7")
    assert main(["purge"]) == 0
    assert "1 avis supprimé" in capsys.readouterr().out
    assert main(["purge", "--all"]) == 0
    assert "1 avis supprimé (tous les avis)" in capsys.readouterr().out
    assert store.count() == 0
    monkeypatch.setenv("REPERES_RETENTION_DAYS", "0")  # no automatic deletion
    _record(store, "question")
    assert purge_expired(Settings.from_env()) == 0 and main(["purge"]) == 0 and store.count() == 1


def test_the_new_settings_are_validated() -> None:
    assert Settings.from_env(environ={}).retention_days == 30
    assert Settings.from_env(environ={}).log_questions is False
    assert Settings.from_env(environ={"REPERES_LOG_QUESTIONS": "1"}).log_questions is True
    with pytest.raises(SettingsError, match="REPERES_RETENTION_DAYS"):
        Settings.from_env(environ={"REPERES_RETENTION_DAYS": "-1"})
    with pytest.raises(SettingsError, match="REPERES_LOG_QUESTIONS"):
        Settings.from_env(environ={"REPERES_LOG_QUESTIONS": "peut-être"})


QUESTION = "Jean Dupont, 17 ans, décrocheur à Loos : quelle action ?"


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == ACCESS_LOGGER]


def test_each_request_logs_one_json_line_with_request_id_and_timings_but_no_question(
    assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(create_app(assistant, mount_ui=False))
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        response = client.post("/api/ask", json={"question": QUESTION}, headers={"X-Request-ID": "abc-123"})
        other = client.get("/api/health")
    assert response.headers["x-request-id"] == "abc-123"
    assert len(other.headers["x-request-id"]) == 32  # generated when the client sends none
    ask_line, health_line = _access_lines(caplog)
    assert ask_line["request_id"] == "abc-123" and ask_line["path"] == "/api/ask" and ask_line["status"] == 200
    assert ask_line["kind"] == response.json()["kind"]
    assert {"retrieve", "answer", "total"} <= set(ask_line["timings_ms"]) and ask_line["duration_ms"] >= 0
    assert health_line["request_id"] == other.headers["x-request-id"]
    text = "\n".join(r.getMessage() + json.dumps(_access_lines(caplog), ensure_ascii=False) for r in caplog.records)
    assert "Dupont" not in text and "décrocheur" not in text and "question" not in ask_line


def test_questions_are_logged_pseudonymised_only_when_enabled(
    settings: Settings, keyword_embeddings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from dataclasses import replace

    assistant = Assistant(replace(settings, log_questions=True), embeddings=keyword_embeddings)
    assistant.ingest()
    client = TestClient(create_app(assistant, mount_ui=False))
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.post("/api/ask", json={"question": QUESTION})
    (line,) = _access_lines(caplog)
    assert line["question"] == "[nom], 17 ans, décrocheur à Loos : quelle action ?"


def test_metrics_count_requests_stages_errors_and_answer_kinds(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, mount_ui=False))
    client.post("/api/ask", json={"question": "permis de conduire à Roubaix"})
    client.post("/api/ask", json={"question": "Quelle est la capitale de l'Australie ?"})
    client.get("/api/sources/absent.md")
    text = client.get("/metrics").text
    assert 'reperes_requests_total{method="POST",route="/api/ask",status="200"} 2.0' in text
    assert 'reperes_requests_total{method="GET",route="/api/sources/{source}",status="404"} 1.0' in text
    for stage in ("retrieve", "answer", "total"):
        assert f'reperes_answer_stage_duration_seconds_count{{stage="{stage}"}} 2.0' in text
    assert 'reperes_answers_total{channel="api",kind=' in text
    assert sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("reperes_answers_total{")) == 2
    assert "reperes_request_duration_seconds_bucket" in text and "# TYPE reperes_errors_total counter" in text


def test_the_chats_answers_are_counted_beside_the_apis(assistant: Assistant) -> None:
    metrics = Metrics()
    list(respond(assistant, "permis de conduire à Roubaix", [], observe=metrics.observe_chat_answer))
    list(respond(assistant, "", [], observe=metrics.observe_chat_answer))  # a note, not an answer: not counted
    text = metrics.render()[0].decode()
    counted = [line for line in text.splitlines() if line.startswith("reperes_answers_total{")]
    assert len(counted) == 1 and 'channel="chat"' in counted[0] and counted[0].endswith(" 1.0")
    assert 'reperes_answer_stage_duration_seconds_count{stage="total"} 1.0' in text


def test_metrics_need_the_token_like_the_other_routes(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, token="jeton-de-test", mount_ui=False))
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer jeton-de-test"})
    assert ok.status_code == 200 and "reperes_requests_total" in ok.text


def test_the_chat_page_is_built_without_gradio_analytics(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        if "gradio.app" in str(host) or "huggingface" in str(host):
            raise AssertionError(f"appel réseau vers {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    from assistant.app import build_app

    page = build_app(assistant)
    import gradio.analytics

    assert page.analytics_enabled is False
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False" and not gradio.analytics.analytics_enabled()
    client = TestClient(create_app(assistant))  # the page mounted by the API, as `reperes serve` does
    assert client.get("/").status_code == 200
    assert not [h for h in looked_up if "gradio.app" in h or "huggingface" in h]
