"""Access: the token on every route (read from the app's route table), the login page and its session cookie,
the open health check, the per-client rate limit, CORS, the pages' CSP, paths never read from disk, no uploads."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from assistant.access import CHAT_CSP, RateLimiter, make_session, safe_next, session_key, valid_session
from assistant.api import create_app
from assistant.service import Assistant
from assistant.settings import Settings, SettingsError

TOKEN = "jeton-de-test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def chat(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The whole server (API and Gradio chat) behind the token."""
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    with TestClient(create_app(assistant, token=TOKEN, mount_ui=True), follow_redirects=False) as client:
        yield client


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """(method, path, route) of every route, mounted sub-apps (the Gradio chat) and included routers included."""
    for route in routes:
        if isinstance(route, Mount):
            yield from _routes(route.routes, prefix + route.path)
        elif hasattr(route, "original_router"):  # FastAPI's include_router entry
            yield from _routes(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            for method in sorted(getattr(route, "methods", None) or {"GET"}):
                yield method, prefix + route.path, route


def _concrete(path: str) -> str:
    """A path template with a dummy value for each parameter (``{source}``, ``{path:path}``…)."""
    return re.sub(r"\{[^}]+\}", "x", path) or "/"


def test_every_route_needs_the_token_but_health(chat: TestClient) -> None:
    walked = list(_routes(list(chat.app.routes)))  # type: ignore[attr-defined]
    paths = {path for _, path, _ in walked}
    assert {"/docs", "/openapi.json", "/api/ask", "/api/feedback", "/passage/{source}", "/config"} <= paths
    assert any(p.startswith("/gradio_api/") for p in paths) and len(walked) > 50
    for method, template, _ in walked:
        path = _concrete(template)
        response = chat.request(method, path, json={})
        if path == "/api/health":
            assert response.status_code in (200, 503), (method, path)
            continue
        assert response.status_code == 401, (method, path, response.status_code)
        if method != "HEAD":  # a HEAD answer has no body
            assert "Authentification requise" in response.json()["detail"]
        if method == "GET":  # a browser is sent to the login page instead
            page = chat.get(path, headers=HTML)
            assert page.status_code == 303, (path, page.status_code)
            assert page.headers["location"].startswith("/connexion?suite="), path
    # The Bearer header still opens them.
    assert chat.get("/docs", headers=AUTH).status_code == 200
    assert chat.get("/openapi.json", headers=AUTH).status_code == 200
    assert chat.get("/config", headers=AUTH).status_code == 200


def test_health_is_open_and_async(chat: TestClient) -> None:
    health = chat.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    route = next(r for _, path, r in _routes(list(chat.app.routes)) if path == "/api/health")  # type: ignore[attr-defined]
    assert inspect.iscoroutinefunction(route.endpoint)  # on the event loop, not in the answers' worker pool


def test_the_login_page_sets_a_signed_session_cookie(chat: TestClient) -> None:
    redirect = chat.get("/passage/actions.txt?lines=3-7", headers=HTML)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/connexion?suite=%2Fpassage%2Factions.txt%3Flines%3D3-7"
    page = chat.get(redirect.headers["location"])
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert '<label for="jeton">' in page.text and 'id="jeton"' in page.text and 'name="jeton"' in page.text
    assert 'value="/passage/actions.txt?lines=3-7"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text

    wrong = chat.post("/connexion", data={"jeton": "mauvais", "suite": "/"})
    assert wrong.status_code == 401 and "Jeton incorrect" in wrong.text and "REPERES_API_TOKEN" in wrong.text
    assert "set-cookie" not in wrong.headers

    right = chat.post("/connexion", data={"jeton": TOKEN, "suite": "/passage/actions.txt?lines=3-7"})
    assert right.status_code == 303 and right.headers["location"] == "/passage/actions.txt?lines=3-7"
    cookie = right.headers["set-cookie"]
    assert cookie.startswith("reperes_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=43200" in cookie and "Secure" not in cookie  # plain http here; https gets Secure
    # The client keeps the cookie: the chat, the passage pages, the API docs and the API open.
    assert chat.get("/", headers=HTML).status_code == 200
    assert chat.get("/passage/actions.txt?lines=3-7").status_code == 200
    assert chat.get("/docs").status_code == 200
    assert chat.get("/api/actions").status_code == 200

    out = chat.get("/deconnexion")
    assert out.status_code == 303 and out.headers["location"] == "/connexion" and "Max-Age=0" in out.headers["set-cookie"]
    assert chat.get("/api/actions").status_code == 401


def test_the_cookie_is_secure_over_https(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, token=TOKEN, mount_ui=False), base_url="https://reperes.example")
    right = client.post("/connexion", data={"jeton": TOKEN}, follow_redirects=False)
    assert right.status_code == 303 and "; Secure" in right.headers["set-cookie"]


def test_a_tampered_or_expired_session_is_refused(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, token=TOKEN, mount_ui=False))
    key = session_key(TOKEN)
    good = make_session(key, 1)
    assert valid_session(key, good)
    expiry, mac = good.split(".")
    for value in (
        f"{int(expiry) + 3600}.{mac}",  # a later expiry, same signature
        f"{expiry}.{'0' * len(mac)}",
        make_session(session_key("autre-jeton"), 1),  # signed with another token
        make_session(key, -1),  # expired an hour ago
        "",
        "n'importe quoi",
    ):
        assert not valid_session(key, value), value
        client.cookies.set("reperes_session", value)
        assert client.get("/api/actions").status_code == 401, value
    client.cookies.set("reperes_session", good)
    assert client.get("/api/actions").status_code == 200


def test_the_return_path_never_leaves_the_site(assistant: Assistant) -> None:
    for value in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil", "/a\r\nb"):
        assert safe_next(value) == "/", value
    assert safe_next("/passage/a.txt?lines=1-2") == "/passage/a.txt?lines=1-2"
    client = TestClient(create_app(assistant, token=TOKEN, mount_ui=False))
    right = client.post("/connexion", data={"jeton": TOKEN, "suite": "//evil.example/"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/"


def test_the_rate_limit_answers_429_in_french(settings: Settings, keyword_embeddings: Any) -> None:
    from dataclasses import replace

    limited = Assistant(replace(settings, rate_limit_per_minute=3), embeddings=keyword_embeddings)
    limited.ingest()
    client = TestClient(create_app(limited, mount_ui=False))
    assert [client.get("/api/actions").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/actions")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "Trop de requêtes" in refused.json()["detail"] and "REPERES_RATE_LIMIT_PER_MINUTE" in refused.json()["detail"]
    assert client.get("/api/health").status_code == 200  # the health check is never limited
    # Another client (other credentials) has its own bucket.
    assert client.get("/api/actions", headers={"Authorization": "Bearer autre"}).status_code == 200


def test_the_rate_limiter_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("a") == 0 for _ in range(60))
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0  # keys are independent
    now[0] += 1.0
    assert limiter.take("a") == 0 and limiter.take("a") > 0


def test_rate_limit_settings_are_checked() -> None:
    assert Settings.from_env(environ={"REPERES_RATE_LIMIT_PER_MINUTE": "0"}).rate_limit_per_minute == 0
    with pytest.raises(SettingsError, match="REPERES_RATE_LIMIT_PER_MINUTE"):
        Settings.from_env(environ={"REPERES_RATE_LIMIT_PER_MINUTE": "-1"})
    with pytest.raises(SettingsError, match="REPERES_SESSION_HOURS"):
        Settings.from_env(environ={"REPERES_SESSION_HOURS": "0"})


def test_cors_refuses_unlisted_origins(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, cors_origins=["https://intranet.example"], mount_ui=False))
    other = client.get("/api/actions", headers={"Origin": "https://ailleurs.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/api/ask", headers={"Origin": "https://ailleurs.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    # Without REPERES_CORS_ORIGINS no origin at all is allowed.
    open_client = TestClient(create_app(assistant, mount_ui=False))
    assert "access-control-allow-origin" not in open_client.get("/api/actions", headers={"Origin": "https://x.example"}).headers


def test_every_html_page_has_a_csp(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    with TestClient(create_app(assistant, mount_ui=True)) as client:
        # The handout's own CSP is tested in test_handout; here its error page.
        for path in ("/", "/passage/actions.txt?lines=3-7", "/passage/inconnu.txt", "/fiche?a=inconnue", "/embed-demo", "/docs"):
            page = client.get(path)
            assert page.headers["content-type"].startswith("text/html"), path
            assert page.headers.get("content-security-policy"), path
        assert client.get("/").headers["content-security-policy"] == CHAT_CSP
        assert "cdn.jsdelivr.net" in client.get("/docs").headers["content-security-policy"]  # Swagger UI's scripts


TRAVERSALS = (
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2Fetc%2Fpasswd",
    "..\\..\\etc\\passwd",
    "..%5C..%5Cetc%5Cpasswd",
    "mini_corpus%2F..%2Factions.txt",
    "%252e%252e%252fetc%252fpasswd",
)


def test_no_user_supplied_path_is_read_from_disk(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant, mount_ui=False))
    for value in TRAVERSALS:
        for route in ("/api/sources/", "/passage/", "/api/actions/"):
            response = client.get(route + value)
            assert response.status_code in (400, 404), (route, value, response.status_code)
            assert "root:" not in response.text and "pyproject" not in response.text
            if response.headers["content-type"].startswith("application/json"):
                detail = response.json()["detail"]
                assert isinstance(detail, str) and ("inconnu" in detail or "introuvable" in detail.lower()), detail
        handout = client.get("/fiche", params={"a": value.replace("%2F", "/")})
        assert handout.status_code in (400, 404) and "root:" not in handout.text
    # Only the corpus's own names are looked up.
    assert client.get("/api/sources/actions.txt?lines=1-2").status_code == 200


def test_uploads_are_off(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    with TestClient(create_app(assistant, mount_ui=True)) as client:
        sent = client.post("/gradio_api/upload", files={"files": ("a.txt", b"x" * 1000, "text/plain")})
        assert sent.status_code == 404 and "Envoi de fichiers désactivé" in sent.json()["detail"]
        assert client.get("/gradio_api/upload_progress?upload_id=x").status_code == 404
    with TestClient(create_app(assistant, token=TOKEN, mount_ui=True)) as client:
        assert client.post("/gradio_api/upload").status_code == 401  # a stranger learns nothing more
        assert client.post("/gradio_api/upload", headers=AUTH).status_code == 404
