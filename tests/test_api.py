"""HTTP API: the ask contract, health, cited lines, feedback, French errors, bearer token, CORS, the mounted chat."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.feedback import FeedbackStore, feedback_path
from assistant.service import Assistant
from assistant.settings import Settings
from eval.dataset import load_set
from eval.drafts import drafts_from_feedback
from ingest.loaders import load_corpus

ASK_KEYS = {
    "question",
    "answer",
    "refused",
    "citations",
    "retrieved",
    "timings_ms",
    "filters",
    "grounding_drops",
    "kind",
    "pistes",
}
CITATION_KEYS = {"n", "source", "title", "line_start", "line_end", "page", "quote"}
RETRIEVED_KEYS = {"source", "line_start", "line_end", "score", "title"}
TOKEN = "jeton-de-test"


@pytest.fixture
def client(assistant: Assistant) -> TestClient:
    return TestClient(create_app(assistant, mount_ui=False))


def _ask(client: TestClient, question: str, **body: Any) -> dict[str, Any]:
    response = client.post("/api/ask", json={"question": question, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_ask_returns_exactly_the_ask_json_contract(client: TestClient, assistant: Assistant) -> None:
    record = _ask(client, "un jeune de 19 ans à Roubaix veut passer le permis", k=3)
    assert set(record) == ASK_KEYS
    assert isinstance(record["question"], str) and isinstance(record["answer"], str) and record["answer"]
    assert record["refused"] is False
    assert record["citations"] and all(set(c) == CITATION_KEYS for c in record["citations"])
    first = record["citations"][0]
    assert (first["n"], first["source"]) == (1, "actions.txt")
    assert isinstance(first["line_start"], int) and isinstance(first["line_end"], int) and isinstance(first["quote"], str)
    assert 0 < len(record["retrieved"]) <= 3
    assert all(RETRIEVED_KEYS <= set(r) <= RETRIEVED_KEYS | {"why"} for r in record["retrieved"])
    assert all(isinstance(r["score"], float) for r in record["retrieved"])
    assert isinstance(record["timings_ms"], dict) and isinstance(record["timings_ms"]["total"], float)
    assert isinstance(record["filters"], dict) and record["filters"]["age"] == 19
    assert isinstance(record["grounding_drops"], list)
    # The same record as the library (and `reperes ask --json`), timings apart.
    direct = assistant.ask("un jeune de 19 ans à Roubaix veut passer le permis", k=3).to_json()
    assert {**record, "timings_ms": None} == {**direct, "timings_ms": None}


def test_the_published_schema_of_ask_matches_the_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/ask"]["post"]
    assert operation["summary"] == "Poser une question"
    schemas = spec["components"]["schemas"]
    assert set(schemas["AskResponse"]["properties"]) == ASK_KEYS
    assert set(schemas["CitationOut"]["properties"]) == CITATION_KEYS
    assert set(schemas["RetrievedOut"]["properties"]) == RETRIEVED_KEYS | {"why"}
    summaries = {op["summary"] for path in spec["paths"].values() for op in path.values()}
    assert summaries == {
        "Poser une question",
        "État du service",
        "Lire un passage cité",
        "Noter une réponse",
        "Catalogue des actions",
        "Une action du catalogue",
    }


def test_history_makes_a_follow_up(client: TestClient) -> None:
    first = _ask(client, "un jeune de 19 ans à Roubaix veut passer le permis")
    follow_up = _ask(client, "et s'il a 17 ans ?", history=[first["question"]])
    assert (first["filters"]["age"], first["filters"]["communes"]) == (19, ["Roubaix"])
    assert (follow_up["filters"]["age"], follow_up["filters"]["communes"]) == (17, ["Roubaix"])
    alone = _ask(client, "et s'il a 17 ans ?")
    assert alone["filters"]["communes"] != ["Roubaix"]  # the commune came from the history


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": ""}, "la question est vide"),
        ({"question": "   "}, "la question est vide"),
        ({}, "question : champ obligatoire manquant"),
        ({"question": "permis", "k": 0}, "k : doit être ≥ 1"),
        ({"question": "permis", "history": "une question"}, "history : doit être une liste"),
        ({"question": "x" * (Settings().max_question_chars + 1)}, "trop long"),
        ({"question": "?!?...;;"}, "aucun mot"),
    ],
)
def test_ask_rejects_bad_requests_in_french(client: TestClient, body: dict[str, Any], message: str) -> None:
    response = client.post("/api/ask", json=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Requête invalide : ") and message in response.json()["detail"]


def test_ask_rejects_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post("/api/ask", content=b"{pas du json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "JSON invalide" in response.json()["detail"]


def test_health_reports_the_index(client: TestClient, assistant: Assistant) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok" and health["chunks"] == len(assistant.store.chunks) > 0
    assert health["index"]["count"] == health["chunks"]
    assert health["index"]["model"] == assistant.store.manifest.embed_model
    assert health["index"]["chunker"] == assistant.store.manifest.chunker


def test_health_without_an_index_is_503_in_french(settings: Settings, keyword_embeddings: Any) -> None:
    client = TestClient(create_app(Assistant(settings, embeddings=keyword_embeddings), mount_ui=False))
    response = client.get("/api/health")
    assert response.status_code == 503 and "reperes ingest" in response.json()["detail"]
    assert client.post("/api/ask", json={"question": "permis"}).status_code == 503


def test_an_unexpected_error_is_500_in_french(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("panne du modèle")

    monkeypatch.setattr(assistant, "ask", broken)
    client = TestClient(create_app(assistant, mount_ui=False), raise_server_exceptions=False)
    response = client.post("/api/ask", json={"question": "permis"})
    assert response.status_code == 500 and response.json()["detail"].startswith("Erreur interne du serveur")
    assert "panne" not in response.text  # no internals in the response; the server log has the traceback


def test_sources_returns_the_repaired_lines(client: TestClient, mini_corpus: Path) -> None:
    response = client.get("/api/sources/actions.txt", params={"lines": "3-7"})
    assert response.status_code == 200
    body = response.json()
    docs = {d.source: d for d in load_corpus(mini_corpus)[0]}
    assert body == {
        "source": "actions.txt",
        "line_start": 3,
        "line_end": 7,
        "title": docs["actions.txt"].title,
        "text": "\n".join(docs["actions.txt"].lines[2:7]),
    }
    assert body["text"].startswith("PERMIS SOLIDAIRE") and "permis@mobilite-test.fr" in body["text"]
    assert len(body["text"].split("\n")) == 5
    single = client.get("/api/sources/actions.txt", params={"lines": "3"}).json()
    assert (single["line_start"], single["line_end"], single["text"]) == (3, 3, "PERMIS SOLIDAIRE")
    whole = client.get("/api/sources/logement.md").json()
    assert whole["line_start"] == 1 and whole["text"] == docs["logement.md"].text


def test_a_citation_of_an_answer_opens_with_sources(client: TestClient) -> None:
    citation = _ask(client, "un jeune de 19 ans à Roubaix veut passer le permis")["citations"][0]
    lines = f"{citation['line_start']}-{citation['line_end']}"
    body = client.get(f"/api/sources/{citation['source']}", params={"lines": lines}).json()
    assert "Permis solidaire".lower() in body["text"].lower()


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/sources/inconnu.txt?lines=1-2", 404, "document « inconnu.txt » inconnu"),
        ("/api/sources/..%2F..%2Fpyproject.toml", 404, "introuvable"),  # never a path outside the corpus
        ("/api/sources/actions.txt?lines=abc", 400, "écrivez une plage de lignes"),
        ("/api/sources/actions.txt?lines=7-3", 400, "plage de lignes 7-3 invalide"),
        ("/api/sources/actions.txt?lines=0-3", 400, "les lignes commencent à 1"),
        ("/api/sources/actions.txt?lines=1-999", 400, "hors du document"),
        ("/api/inexistant", 404, "Ressource introuvable"),
    ],
)
def test_sources_errors_are_in_french(client: TestClient, path: str, status: int, message: str) -> None:
    response = client.get(path)
    assert response.status_code == status and message in response.json()["detail"]


def test_feedback_is_recorded_and_exported_for_the_eval_drafts(client: TestClient, assistant: Assistant, tmp_path: Path) -> None:
    question = "un jeune de 19 ans à Roubaix veut passer le permis"
    answer = _ask(client, question)
    up = client.post("/api/feedback", json={"question": question, "answer": answer, "rating": "up", "comment": "parfait"})
    assert up.status_code == 201 and up.json() == {"id": 1}
    down = client.post(
        "/api/feedback", json={"question": "logement à Lille ?", "answer": _ask(client, "logement"), "rating": "down"}
    )
    assert down.json() == {"id": 2}

    assert feedback_path(assistant.settings) == assistant.settings.home / "feedback.sqlite3"
    store = FeedbackStore(assistant.settings.home / "feedback.sqlite3")
    assert store.count() == 2
    out = tmp_path / "feedback.jsonl"
    assert store.export(out) == 2
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["question"] == question and first["answer"] == answer["answer"] and first["rating"] == "up"
    assert first["comment"] == "parfait" and first["settings_version"] == client.app.state.settings_version  # type: ignore[attr-defined]
    assert first["sources"] == [
        {"file": c["source"], "line_start": c["line_start"], "line_end": c["line_end"]} for c in answer["citations"]
    ]
    assert len(load_set(out)) == 2
    drafts = drafts_from_feedback(out)
    assert [d["review"]["rating"] for d in drafts] == ["up", "down"] and drafts[0]["sources"] == first["sources"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": "q", "answer": {"answer": "…"}, "rating": "bof"}, "rating : doit valoir 'up' ou 'down'"),
        ({"question": "", "answer": {"answer": "…"}, "rating": "up"}, "la question est vide"),
        ({"question": "q", "rating": "up"}, "answer : champ obligatoire manquant"),
        ({"question": "q", "answer": {"texte": "…"}, "rating": "up"}, "la réponse notée doit être l'objet JSON"),
        ({"question": "q", "answer": {"answer": "…", "citations": [{"source": "a.txt"}]}, "rating": "up"}, "citation 1"),
    ],
)
def test_bad_feedback_is_422_in_french(client: TestClient, assistant: Assistant, body: dict[str, Any], message: str) -> None:
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 422 and message in response.json()["detail"]
    assert FeedbackStore(assistant.settings.home / "feedback.sqlite3").count() == 0


def test_a_token_guards_every_api_route(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, token=TOKEN, mount_ui=False))
    good = {"Authorization": f"Bearer {TOKEN}"}
    for headers in ({}, {"Authorization": "Bearer mauvais"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
        for method, path in (("GET", "/api/actions"), ("GET", "/api/sources/actions.txt"), ("POST", "/api/ask")):
            response = client.request(method, path, headers=headers, json={"question": "permis"})
            assert response.status_code == 401, (method, path, headers)
            assert "Authentification requise" in response.json()["detail"]
            assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/actions", headers=good).status_code == 200
    assert client.get("/api/actions", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    assert client.post("/api/ask", headers=good, json={"question": "permis Roubaix"}).status_code == 200
    assert client.get("/api/health").status_code == 200  # open: load balancers probe it without the token
    # The API description is behind the token too, and says a bearer token is expected.
    assert client.get("/openapi.json").status_code == 401
    spec = client.get("/openapi.json", headers=good)
    assert spec.status_code == 200 and "HTTPBearer" in spec.json()["components"]["securitySchemes"]


def test_no_token_means_open_api(client: TestClient) -> None:
    assert client.get("/api/health").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


def test_cors_allows_the_configured_origins_only(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, token=TOKEN, cors_origins=["https://intranet.example"], mount_ui=False))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    allowed = client.get("/api/health", headers={**auth, "Origin": "https://intranet.example"})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://intranet.example"
    other = client.get("/api/health", headers={**auth, "Origin": "https://ailleurs.example"})
    assert "access-control-allow-origin" not in other.headers
    # A browser's preflight carries no token: it is answered before authentication.
    preflight = client.options(
        "/api/ask",
        headers={
            "Origin": "https://intranet.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "https://intranet.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    # A refused request still tells the browser why (the 401 carries the CORS headers).
    refused = client.get("/api/actions", headers={"Origin": "https://intranet.example"})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "https://intranet.example"


def test_the_chat_is_mounted_at_the_root_behind_the_token(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    with TestClient(create_app(assistant, token=TOKEN, mount_ui=True)) as client:
        assert client.get("/").status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        page = client.get("/", headers=auth)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        config = client.get("/config", headers=auth).json()  # the page: the chat tab and the catalogue tab
        assert {c["props"].get("label") for c in config["components"] if c["type"] == "tabitem"} >= {
            "Poser une question",
            "Toutes les actions",
        }
        # Declared before the mount, the API routes win over the chat's catch-all.
        assert client.get("/api/health", headers=auth).json()["status"] == "ok"
        assert client.get("/openapi.json", headers=auth).status_code == 200


def test_the_embed_demo_page_frames_the_chat(client: TestClient) -> None:
    page = client.get("/embed-demo")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<iframe src="/"' in page.text and "&lt;gradio-app" in page.text and 'lang="fr"' in page.text


def test_ask_takes_the_filters_panel(client: TestClient) -> None:
    record = _ask(client, "permis de conduire", filters={"commune": "Roubaix", "age": 19, "territory": None})
    assert (record["filters"]["age"], record["filters"]["communes"], record["filters"]["epci"]) == (19, ["Roubaix"], "MEL")
    assert _ask(client, "permis de conduire", filters={"territory": "CAVM"})["filters"]["epci"] == "CAVM"
    assert _ask(client, "permis de conduire", filters={})["filters"]["age"] is None  # empty filters: none applied
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schema["FiltersIn"]["properties"]) == {"commune", "age", "territory"}
    assert "filters" in schema["AskRequest"]["properties"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"commune": "Trifouilly-les-Oies"}, "commune « Trifouilly-les-Oies » inconnue dans les filtres"),
        ({"age": 7}, "âge 7 invalide dans les filtres"),
        ({"age": "dix-sept"}, "filters.age : doit être un nombre entier"),
        ({"territory": "Lille"}, "filters.territory : doit valoir 'MEL' ou 'CAVM'"),
        ("Loos", "filters : doit être un objet JSON"),
    ],
)
def test_bad_filters_are_422_in_french(client: TestClient, filters: Any, message: str) -> None:
    response = client.post("/api/ask", json={"question": "permis", "filters": filters})
    assert response.status_code == 422 and message in response.json()["detail"], response.text


def test_the_passage_page_shows_the_cited_lines_with_the_quote_highlighted(client: TestClient, mini_corpus: Path) -> None:
    citation = _ask(client, "un jeune de 19 ans à Roubaix veut passer le permis")["citations"][0]
    from assistant.records import Citation
    from assistant.render import passage_link

    response = client.get("/" + passage_link(Citation(**citation)))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]  # no script can run there
    page = response.text
    doc = {d.source: d for d in load_corpus(mini_corpus)[0]}["actions.txt"]
    assert f'<p class="doc">{doc.title}</p>' in page and "<h1>PERMIS SOLIDAIRE</h1>" in page
    assert f"lignes {citation['line_start']}–{citation['line_end']}" in page
    marked = " ".join(re.findall(r"<mark[^>]*>(.*?)</mark>", page))
    assert "permis de conduire pour les jeunes de 18 à 25 ans" in marked
    assert citation["quote"].endswith(" … permis@mobilite-test.fr")  # "Contact :" is not quoted: not marked
    assert "<li>Contact : <mark>permis@mobilite-test.fr</mark></li>" in page


def test_the_passage_page_escapes_the_request_and_explains_errors_in_french(client: TestClient) -> None:
    page = client.get("/passage/actions.txt", params={"lines": "3-4", "hl": "<script>alert(1)</script>"}).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    unknown = client.get("/passage/inconnu.txt?lines=1-2")
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    assert "Le document « inconnu.txt » n&#x27;est pas dans le corpus indexé." in unknown.text
    bad = client.get("/passage/actions.txt?lines=9-3")
    assert bad.status_code == 400 and "plage de lignes 9-3 invalide" in bad.text
    assert client.get("/passage/actions.txt", params={"hl": "x" * 1001}).status_code == 422


def test_the_passage_page_is_behind_the_token_like_the_chat(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, token=TOKEN, mount_ui=False))
    assert client.get("/passage/actions.txt?lines=3-7").status_code == 401
    assert client.get("/passage/actions.txt?lines=3-7", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


# --- the action catalogue ----------------------------------------------------------------------


@pytest.fixture
def deck_client(tmp_path: Path, keyword_embeddings: Any) -> TestClient:
    """The API over an index of one real document, the FIJeM deck (004): six actions."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = next((Path(__file__).resolve().parent.parent / "data" / "corpus").glob("004_*.txt"))
    (corpus / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assistant = Assistant(Settings.from_env(environ={}, home=tmp_path / "home", corpus=corpus), embeddings=keyword_embeddings)
    assistant.ingest()
    return TestClient(create_app(assistant, mount_ui=False))


def test_actions_lists_the_catalogue_and_filters_it(deck_client: TestClient) -> None:
    every = deck_client.get("/api/actions").json()
    assert every["count"] == 6 == len(every["actions"])
    majyc = next(a for a in every["actions"] if a["acronym"] == "MAJ'YC")
    assert (majyc["age_min"], majyc["age_max"], majyc["qpv"]) == (16, 21, "excluded")
    # 22 ans: MAJ'YC (16-21) and the harassment action (11-18) rule the person out; actions without ages stay.
    at_22 = deck_client.get("/api/actions", params={"age": 22}).json()["actions"]
    assert "MAJ'YC" not in {a["acronym"] for a in at_22} and any(a["acronym"] == "ATTA" for a in at_22)
    assert all(a["age_max"] is None or a["age_max"] >= 22 for a in at_22)
    housing = deck_client.get("/api/actions", params={"theme": "logement"}).json()["actions"]
    assert any("HEBERGEMENT" in a["title"] for a in housing)
    found = deck_client.get("/api/actions", params={"search": "harcèlement"}).json()["actions"]
    assert [a["title"] for a in found] == ["Le pair à pair dans la lutte contre le harcèlement"]


def test_one_action_by_id_and_french_errors(deck_client: TestClient) -> None:
    first = deck_client.get("/api/actions").json()["actions"][0]
    assert deck_client.get(f"/api/actions/{first['id']}").json() == first
    missing = deck_client.get("/api/actions/inconnue")
    assert missing.status_code == 404 and "inconnue" in missing.json()["detail"]
    bad = deck_client.get("/api/actions", params={"commune": "Trifouilly-les-Oies"})
    assert bad.status_code == 422 and "Trifouilly" in bad.json()["detail"]
    assert deck_client.get("/api/actions", params={"age": 3}).status_code == 422


def test_the_published_schema_of_actions_is_the_record(deck_client: TestClient) -> None:
    from ingest.records import Action

    schemas = deck_client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["ActionOut"]["properties"]) == set(Action.__dataclass_fields__)
