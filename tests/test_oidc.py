"""OpenID Connect login (assistant/oidc.py through assistant/access.py) against a fake provider served in-process
(an httpx MockTransport: discovery, JWKS, token and a ProConnect-like signed userinfo), the settings that
configure it, the session secret of the data home, and the rate limiter's trusted proxies. No network."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import stat
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from assistant import oidc
from assistant.access import RateLimitMiddleware, make_session, session_key, session_secret, valid_session
from assistant.api import create_app
from assistant.oidc import OidcLogin, Pending
from assistant.service import Assistant
from assistant.settings import Settings, SettingsError
from tests.test_access import HTML, _concrete, _routes

ISSUER = "https://fournisseur.test/api/v2"
CLIENT_ID = "client-reperes"
CLIENT_SECRET = "secret-du-client-reperes"
TOKEN = "jeton-de-test"
OIDC = {
    "oidc_issuer": ISSUER,
    "oidc_client_id": CLIENT_ID,
    "oidc_client_secret": CLIENT_SECRET,
    "oidc_allowed_domains": "lille.fr, @mission-locale.fr",
}


@pytest.fixture(scope="module")
def provider_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "cle-1"})


@pytest.fixture(scope="module")
def other_key() -> RSAKey:
    """Another key with the same id: what a forger would sign with."""
    return RSAKey.generate_key(2048, parameters={"kid": "cle-1"})


@dataclass
class FakeProvider:
    """A ProConnect-like provider: client_secret_post, RS256, the e-mail only in a signed userinfo JWT."""

    key: RSAKey
    email: str = "conseillere@lille.fr"
    down: bool = False
    requests: list[Any] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    id_token_changes: dict[str, Any] = field(default_factory=dict)  # claims overridden (None = removed)
    sign_with: RSAKey | None = None  # another key: a forged ID token
    userinfo_jwt: bool = True  # ProConnect signs userinfo; most providers answer plain JSON
    userinfo_sub: str = "agent-42"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "jwks_uri": f"{ISSUER}/jwks",
            "end_session_endpoint": f"{ISSUER}/session/end",
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "email", "given_name", "usual_name"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
        }

    def authorize(self, location: str) -> dict[str, str]:
        """What the provider does once the person has logged in: the query string it sends back to Repères."""
        url = urlsplit(location)
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/authorize"
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        assert query["scope"].split() == ["openid", "email"]
        assert query["state"] and query["nonce"] and query["state"] != query["nonce"]
        code = f"code-{len(self.codes)}"
        self.codes[code] = query
        return {"code": code, "state": query["state"]}

    def _sign(self, claims: dict[str, Any]) -> str:
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def handler(self, request: Any) -> Any:
        http = oidc.HTTP
        self.requests.append(request)
        if self.down:
            raise http.ConnectError("connexion refusée", request=request)
        path = request.url.path.removeprefix("/api/v2")
        if path == "/.well-known/openid-configuration":
            return http.Response(200, json=self.metadata())
        if path == "/jwks":
            return http.Response(200, json=KeySet([self.key]).as_dict(private=False))
        if path == "/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            asked = self.codes.pop(form.get("code", ""), None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest()).rstrip(b"=")
            if (
                asked is None
                or form.get("grant_type") != "authorization_code"
                or (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET)
                or form.get("redirect_uri") != asked["redirect_uri"]
                or challenge.decode() != asked["code_challenge"]
            ):
                return http.Response(400, json={"error": "invalid_grant"})
            now = int(time.time())
            claims: dict[str, Any] = {
                "iss": ISSUER,
                "sub": "agent-42",
                "aud": CLIENT_ID,
                "exp": now + 60,
                "iat": now,
                "nonce": asked["nonce"],
                "acr": "eidas1",
                "amr": ["pwd"],
            }
            claims.update(self.id_token_changes)
            claims = {k: v for k, v in claims.items() if v is not None}
            return http.Response(
                200, json={"access_token": "acces-1", "token_type": "Bearer", "expires_in": 60, "id_token": self._sign(claims)}
            )
        if path == "/userinfo":
            assert request.headers["authorization"] == "Bearer acces-1"
            info = {"iss": ISSUER, "aud": CLIENT_ID, "sub": self.userinfo_sub, "email": self.email, "given_name": "Camille"}
            if not self.userinfo_jwt:
                return http.Response(200, json=info)
            return http.Response(200, content=self._sign(info).encode(), headers={"content-type": "application/jwt"})
        return http.Response(404)

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix("/api/v2") for r in self.requests]


@pytest.fixture
def provider(provider_key: RSAKey, monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    fake = FakeProvider(provider_key)
    monkeypatch.setattr(OidcLogin, "transport", oidc.HTTP.MockTransport(fake.handler))
    return fake


def _app(
    assistant: Assistant,
    monkeypatch: pytest.MonkeyPatch,
    token: str | None = None,
    base_url: str = "http://testserver",
    **changes: Any,
) -> TestClient:
    monkeypatch.setattr(assistant, "settings", replace(assistant.settings, **{**OIDC, **changes}))
    return TestClient(create_app(assistant, token=token, mount_ui=False), base_url=base_url, follow_redirects=False)


def _login(client: TestClient, provider: FakeProvider, suite: str = "/api/actions") -> Any:
    """The whole flow in a browser: start, the provider's page, the return; the return's response."""
    start = client.get("/connexion/oidc", params={"suite": suite})
    assert start.status_code == 303, start.text
    returned = provider.authorize(start.headers["location"])
    return client.get("/connexion/retour", params=returned)


# --- The flow ------------------------------------------------------------------------------------


def test_a_login_with_the_provider_opens_the_service(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch)
    assert client.get("/api/actions").status_code == 401
    sent = client.get("/api/actions?age=17", headers=HTML)
    assert sent.status_code == 303 and sent.headers["location"] == "/connexion?suite=%2Fapi%2Factions%3Fage%3D17"
    page = client.get(sent.headers["location"])
    assert page.status_code == 200 and "Se connecter avec ProConnect" in page.text
    assert 'href="/connexion/oidc?suite=%2Fapi%2Factions%3Fage%3D17"' in page.text
    assert 'name="jeton"' not in page.text  # no token configured: no token form
    assert "<script" not in page.text and "default-src 'none'" in page.headers["content-security-policy"]
    assert provider.requests == []  # showing the page asks nothing of the provider

    start = client.get("/connexion/oidc", params={"suite": "/api/actions?age=17"})
    assert start.status_code == 303 and start.headers["location"].startswith(f"{ISSUER}/authorize?")
    pending = start.headers["set-cookie"]
    assert pending.startswith("reperes_oidc=") and "HttpOnly" in pending and "SameSite=Lax" in pending
    assert "Path=/connexion;" in pending and "Max-Age=600" in pending
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["redirect_uri"] == ["http://testserver/connexion/retour"]

    returned = client.get("/connexion/retour", params=provider.authorize(start.headers["location"]))
    assert returned.status_code == 303, returned.text
    assert returned.headers["location"] == "/api/actions?age=17"
    cookies = returned.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("reperes_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Max-Age=43200" in session and "Secure" not in session
    assert any(c.startswith("reperes_oidc=;") and "Max-Age=0" in c for c in cookies)  # the pending login is cleared
    # PKCE, client_secret_post, the signed userinfo (ProConnect puts the e-mail only there).
    assert provider.paths() == ["/.well-known/openid-configuration", "/token", "/jwks", "/userinfo"]

    assert client.get("/api/actions?age=17").status_code == 200
    assert client.get("/docs").status_code == 200

    # A second login reuses the discovery document and keys.
    client.cookies.clear()
    assert _login(client, provider).status_code == 303
    assert provider.paths().count("/.well-known/openid-configuration") == 1 and provider.paths().count("/jwks") == 1

    out = client.get("/deconnexion")
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/api/actions").status_code == 401


def test_the_token_form_stays_beside_the_button(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch, token=TOKEN, oidc_label="votre compte Agents")
    page = client.get("/connexion")
    assert 'name="jeton"' in page.text and "Se connecter avec votre compte Agents" in page.text
    assert client.get("/api/actions", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    typed = client.post("/connexion", data={"jeton": TOKEN, "suite": "/api/actions"})
    assert typed.status_code == 303 and typed.headers["set-cookie"].startswith("reperes_session=")
    assert client.get("/api/actions").status_code == 200
    client.cookies.clear()
    assert _login(client, provider).status_code == 303
    assert client.get("/api/actions").status_code == 200


def test_without_a_token_no_bearer_and_no_token_form_open_anything(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch)
    for header in ("Bearer ", "Bearer", "bearer  "):
        assert client.get("/api/actions", headers={"Authorization": header}).status_code == 401, header
    typed = client.post("/connexion", data={"jeton": "", "suite": "/"})
    assert typed.status_code == 400 and "pas activée" in typed.text and "set-cookie" not in typed.headers
    detail = client.get("/api/actions").json()["detail"]
    assert "Authentification requise" in detail and "/connexion" in detail and "Bearer" not in detail
    # Only GET starts or ends a login (a HEAD would spend the one-time code).
    for method, path in (("HEAD", "/connexion/retour"), ("POST", "/connexion/retour"), ("POST", "/connexion/oidc")):
        assert client.request(method, path).status_code == 405, (method, path)
    assert provider.requests == []


def test_public_url_makes_the_redirect_uri_and_secure_cookies(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The proxy speaks https to the browser and http to Repères (no X-Forwarded-Proto here): the public URL decides.
    client = _app(assistant, monkeypatch, public_url="https://reperes.example.org/", base_url="https://reperes.example.org")
    start = client.get("/connexion/oidc")
    assert parse_qs(urlsplit(start.headers["location"]).query)["redirect_uri"] == ["https://reperes.example.org/connexion/retour"]
    assert "; Secure" in start.headers["set-cookie"]
    returned = client.get("/connexion/retour", params=provider.authorize(start.headers["location"]))
    assert returned.status_code == 303 and "; Secure" in returned.headers["set-cookie"]


# --- Refusals: the login page with a French message, never a 500 ---------------------------------


def _refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/html") and '<html lang="fr">' in response.text
    assert words in html.unescape(response.text) and "Traceback" not in response.text
    assert 'role="alert"' in response.text and "Se connecter avec ProConnect" in response.text  # to try again
    assert not any(c.startswith("reperes_session=") for c in response.headers.get_list("set-cookie"))


def test_a_wrong_or_missing_state_is_refused(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch)
    start = client.get("/connexion/oidc")
    returned = provider.authorize(start.headers["location"])
    _refused(client.get("/connexion/retour", params={**returned, "state": "un-autre-etat"}), 400, "a expiré")
    # Another browser (no pending cookie) with the right state and code: refused too (no login CSRF).
    stranger = TestClient(client.app, follow_redirects=False)
    _refused(stranger.get("/connexion/retour", params=returned), 400, "a expiré")
    # A tampered or expired pending cookie.
    key = session_key("", session_secret(assistant.settings.home))
    old = Pending("s", "n", "v", "/", int(time.time()) - 1)
    assert Pending.open(key, old.seal(key)) is None and Pending.open(key, old.seal(key)[:-2] + "00") is None
    fresh = Pending("s", "n", "v", "/", int(time.time()) + 60)
    assert Pending.open(key, fresh.seal(key)) == fresh and Pending.open(b"autre", fresh.seal(key)) is None
    assert "/token" not in provider.paths()  # nothing was exchanged
    assert client.get("/api/actions").status_code == 401


def test_a_denied_login_is_explained(assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _app(assistant, monkeypatch)
    start = client.get("/connexion/oidc")
    state = provider.authorize(start.headers["location"])["state"]
    denied = client.get("/connexion/retour", params={"error": "access_denied", "state": state})
    _refused(denied, 401, "annulée ou refusée")


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 600, "iat": int(time.time()) - 1200},  # expired
        {"aud": "un-autre-client"},
        {"aud": ["un-autre-client", "encore-un"]},
        {"iss": "https://autre-fournisseur.test"},
        {"nonce": "rejoue"},
        {"nonce": None},
        {"exp": None},
    ],
    ids=["expired", "wrong-audience", "wrong-audiences", "wrong-issuer", "wrong-nonce", "no-nonce", "no-exp"],
)
def test_an_invalid_id_token_is_refused(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]
) -> None:
    client = _app(assistant, monkeypatch)
    provider.id_token_changes = changes
    _refused(_login(client, provider), 401, "n'a pas pu être vérifiée")
    assert client.get("/api/actions").status_code == 401


def test_a_forged_id_token_is_refused(
    assistant: Assistant, provider: FakeProvider, other_key: RSAKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch)
    provider.sign_with = other_key  # same key id, another key: the signature does not verify
    _refused(_login(client, provider), 401, "n'a pas pu être vérifiée")
    # Unsigned ("alg": "none"): never accepted.
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "x", "aud": CLIENT_ID, "exp": now + 60, "iat": now}
    unsigned = b".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=") for part in ({"alg": "none"}, claims)
    ).decode()
    monkeypatch.setattr(FakeProvider, "_sign", lambda self, claims: unsigned + ".")
    provider.sign_with = None
    _refused(_login(client, provider), 401, "n'a pas pu être vérifiée")


def test_a_code_refused_by_the_provider_is_explained(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch)
    start = client.get("/connexion/oidc")
    returned = provider.authorize(start.headers["location"])
    provider.codes.clear()  # the code was already used, or has expired
    _refused(client.get("/connexion/retour", params=returned), 401, "n'a pas pu être vérifiée")


def test_a_domain_not_allowed_is_refused(assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _app(assistant, monkeypatch)
    provider.email = "quelquun@gmail.com"
    refused = _login(client, provider)
    _refused(refused, 403, "n'est pas autorisé")
    assert "@lille.fr, @mission-locale.fr" in refused.text and "REPERES_OIDC_ALLOWED_DOMAINS" in refused.text
    assert "quelquun@gmail.com" in refused.text
    assert client.get("/api/actions").status_code == 401
    # An address of a listed domain (any case) gets in; without a list, any account does.
    provider.email = "Agent@Mission-Locale.fr"
    assert _login(client, provider).status_code == 303
    open_client = _app(assistant, monkeypatch, oidc_allowed_domains="")
    provider.email = "quelquun@gmail.com"
    assert _login(open_client, provider).status_code == 303


def test_other_providers_userinfo_forms(assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _app(assistant, monkeypatch)
    provider.userinfo_jwt = False  # plain JSON userinfo
    assert _login(client, provider).status_code == 303
    provider.userinfo_sub = "quelquun-d-autre"  # userinfo about another person than the ID token: refused
    _refused(_login(client, provider), 401, "n'a pas pu être vérifiée")
    provider.requests.clear()
    provider.id_token_changes = {"email": "agent@lille.fr", "email_verified": True}  # the e-mail in the ID token
    assert _login(client, provider).status_code == 303 and "/userinfo" not in provider.paths()
    provider.id_token_changes = {"email": "agent@lille.fr", "email_verified": False}  # not verified: not trusted
    _refused(_login(client, provider), 403, "n'est pas autorisé")


def test_an_unreachable_provider_is_explained(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch)
    provider.down = True
    _refused(client.get("/connexion/oidc"), 503, "ne répond pas pour le moment")

    def slow(request: Any) -> Any:
        raise oidc.HTTP.ReadTimeout("trop long", request=request)

    monkeypatch.setattr(OidcLogin, "transport", oidc.HTTP.MockTransport(slow))
    _refused(client.get("/connexion/oidc"), 503, "ne répond pas pour le moment")
    # Back up: the failure was not cached.
    provider.down = False
    monkeypatch.setattr(OidcLogin, "transport", oidc.HTTP.MockTransport(provider.handler))
    start = client.get("/connexion/oidc")
    returned = provider.authorize(start.headers["location"])
    provider.down = True  # gone again between the two legs
    _refused(client.get("/connexion/retour", params=returned), 503, "ne répond pas pour le moment")


def test_a_misconfigured_provider_is_explained(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(assistant, monkeypatch)
    monkeypatch.setattr(FakeProvider, "metadata", lambda self: {"issuer": "https://ailleurs.test"})
    _refused(client.get("/connexion/oidc"), 503, "mal configurée")


# --- No network at start, every route still closed -----------------------------------------------


def test_no_provider_call_at_import_or_start(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(OidcLogin, "transport", oidc.HTTP.MockTransport(lambda request: calls.append(request)))
    monkeypatch.setattr(assistant, "settings", replace(assistant.settings, **OIDC))
    with TestClient(create_app(assistant, mount_ui=False), follow_redirects=False) as client:
        assert client.get("/api/health").status_code == 200
        assert client.get("/connexion").status_code == 200
        assert client.get("/api/actions").status_code == 401
    assert calls == []


def test_every_route_needs_a_login_with_oidc(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setattr(assistant, "settings", replace(assistant.settings, **OIDC))
    with TestClient(create_app(assistant, mount_ui=True), follow_redirects=False) as chat:
        walked = list(_routes(list(chat.app.routes)))  # type: ignore[attr-defined]
        assert any(p.startswith("/gradio_api/") for _, p, _ in walked) and len(walked) > 50
        for method, template, _ in walked:
            path = _concrete(template)
            response = chat.request(method, path, json={}, headers={"Authorization": "Bearer "})
            if path == "/api/health":
                assert response.status_code in (200, 503), (method, path)
                continue
            assert response.status_code == 401, (method, path, response.status_code)
            if method != "HEAD":
                assert "Authentification requise" in response.json()["detail"]
            if method == "GET":
                page = chat.get(path, headers=HTML)
                assert page.status_code == 303 and page.headers["location"].startswith("/connexion?suite="), path
        assert provider.requests == []
        assert _login(chat, provider, "/config").headers["location"] == "/config"
        assert chat.get("/config").status_code == 200 and chat.get("/", headers=HTML).status_code == 200


# --- The session secret --------------------------------------------------------------------------


def test_the_session_secret_is_private_stable_and_shared(
    assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "maison"
    first = session_secret(home)
    path = home / "session-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 64
    assert session_secret(home) == first and [p.name for p in home.iterdir()] == ["session-secret"]  # no temporary left
    path.chmod(0o644)
    assert session_secret(home) == first and stat.S_IMODE(path.stat().st_mode) == 0o600

    # Two servers on one data home accept each other's sessions; a new secret ends them all.
    client = _app(assistant, monkeypatch)
    assert _login(client, provider).status_code == 303
    cookie = client.cookies["reperes_session"]
    other = TestClient(create_app(assistant, mount_ui=False), cookies={"reperes_session": cookie})
    assert other.get("/api/actions").status_code == 200
    (assistant.settings.home / "session-secret").unlink()
    renewed = TestClient(create_app(assistant, mount_ui=False), cookies={"reperes_session": cookie})
    assert renewed.get("/api/actions").status_code == 401
    # Without OIDC the key is still the token's alone (existing sessions survive the upgrade).
    key = session_key(TOKEN)
    assert valid_session(key, make_session(key, 1)) and session_key(TOKEN, b"") == key


# --- Settings --------------------------------------------------------------------------------------


def test_oidc_settings_are_checked() -> None:
    env = {f"REPERES_{k.upper()}": v for k, v in OIDC.items()}
    settings = Settings.from_env(environ=env)
    assert settings.oidc_issuer == ISSUER and CLIENT_SECRET not in repr(settings)
    for missing in ("REPERES_OIDC_CLIENT_ID", "REPERES_OIDC_CLIENT_SECRET", "REPERES_OIDC_ISSUER"):
        with pytest.raises(SettingsError, match=f"incomplète : {missing}"):
            Settings.from_env(environ={k: v for k, v in env.items() if k != missing})
    for issuer in ("http://fournisseur.test", "fournisseur.test", "https://fournisseur.test/?a=1"):
        with pytest.raises(SettingsError, match=r"REPERES_OIDC_ISSUER=.*invalide"):
            Settings.from_env(environ={**env, "REPERES_OIDC_ISSUER": issuer})
    assert Settings.from_env(environ={**env, "REPERES_OIDC_ISSUER": "http://localhost:8080/realms/test"}).oidc_issuer
    with pytest.raises(SettingsError, match=r"REPERES_OIDC_SCOPES.*openid"):
        Settings.from_env(environ={**env, "REPERES_OIDC_SCOPES": "email profile"})
    with pytest.raises(SettingsError, match="« pas un domaine »"):
        Settings.from_env(environ={**env, "REPERES_OIDC_ALLOWED_DOMAINS": "lille.fr, pas un domaine"})
    with pytest.raises(SettingsError, match=r"REPERES_PUBLIC_URL=.*invalide"):
        Settings.from_env(environ={"REPERES_PUBLIC_URL": "reperes.example.org"})
    assert Settings.from_env(environ={"REPERES_PUBLIC_URL": "http://127.0.0.1:7860"}).public_url


def test_trusted_proxies_are_checked() -> None:
    assert Settings.from_env(environ={"REPERES_TRUSTED_PROXIES": "127.0.0.1, 172.18.0.0/16,::1"}).trusted_proxies
    with pytest.raises(SettingsError, match=r"REPERES_TRUSTED_PROXIES : « proxy\.local » n'est ni une adresse IP"):
        Settings.from_env(environ={"REPERES_TRUSTED_PROXIES": "127.0.0.1,proxy.local"})


# --- Trusted proxies ---------------------------------------------------------------------------------


def _scope(peer: str, *forwarded: str) -> dict[str, Any]:
    return {"type": "http", "client": (peer, 1234), "headers": [(b"x-forwarded-for", f.encode()) for f in forwarded]}


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    untrusting = RateLimitMiddleware(app, 10)
    assert untrusting.client_address(_scope("10.0.0.2", "203.0.113.7")) == "10.0.0.2"
    limiter = RateLimitMiddleware(app, 10, trusted_proxies="10.0.0.0/24, 2001:db8::1")
    assert limiter.client_address(_scope("198.51.100.9", "203.0.113.7")) == "198.51.100.9"  # not a trusted peer
    assert limiter.client_address(_scope("10.0.0.2", "203.0.113.7")) == "203.0.113.7"
    # A client that writes the header itself: the proxy appends the real address, the right-most untrusted one.
    assert limiter.client_address(_scope("10.0.0.2", "1.1.1.1, 203.0.113.7")) == "203.0.113.7"
    assert limiter.client_address(_scope("10.0.0.2", "1.1.1.1", "203.0.113.7, 10.0.0.3")) == "203.0.113.7"  # two proxies
    assert limiter.client_address(_scope("::ffff:10.0.0.2", "[2001:db8::5]:443")) == "2001:db8::5"
    assert limiter.client_address(_scope("2001:db8::1", "203.0.113.7:5555")) == "203.0.113.7"
    assert limiter.client_address(_scope("10.0.0.2", "1.1.1.1, n'importe quoi, 10.0.0.3")) == "10.0.0.3"
    assert limiter.client_address(_scope("10.0.0.2")) == "10.0.0.2"  # no header: the proxy itself
    assert limiter.client_address(_scope("10.0.0.2", "10.0.0.4")) == "10.0.0.4"  # only proxies: the left-most


def test_clients_behind_a_trusted_proxy_have_their_own_buckets(settings: Settings, keyword_embeddings: Any) -> None:
    limited = Assistant(replace(settings, rate_limit_per_minute=2, trusted_proxies="10.0.0.1"), embeddings=keyword_embeddings)
    limited.ingest()
    client = TestClient(create_app(limited, mount_ui=False), client=("10.0.0.1", 5000))
    first = {"X-Forwarded-For": "203.0.113.7"}
    assert [client.get("/api/actions", headers=first).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/actions", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200
    # From an untrusted peer the header changes nothing: one bucket for the address.
    direct = TestClient(create_app(limited, mount_ui=False), client=("198.51.100.9", 5000))
    statuses = [direct.get("/api/actions", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
    assert statuses == [200, 200, 429]


def test_login_routes_are_rate_limited(assistant: Assistant, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _app(assistant, monkeypatch, rate_limit_per_minute=2)
    assert [client.get("/connexion/retour", params={"code": "x", "state": "y"}).status_code for _ in range(3)] == [400, 400, 429]
