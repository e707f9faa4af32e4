"""Who may use the server, how often, and what its pages may load: plain ASGI middlewares for assistant.api.

- ``AccessMiddleware``: with a token, every request needs ``Authorization: Bearer <token>`` or the session
  cookie the login page (``/connexion``) sets; ``/api/health`` stays open for load balancers.
- ``RateLimitMiddleware``: a token bucket per client on ``/api`` and the login form (French 429).
- ``SecurityHeadersMiddleware``: a Content-Security-Policy on every HTML page that has none.
- ``BlockUploadsMiddleware``: Gradio's upload routes answer 404 (the chat takes no file).

Plain ASGI (not ``BaseHTTPMiddleware``) so the chat's streamed responses pass through untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_ASGI = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

HEALTH_PATH = "/api/health"
LOGIN_PATH = "/connexion"
LOGOUT_PATH = "/deconnexion"
SESSION_COOKIE = "reperes_session"
MAX_LOGIN_BODY = 8192  # bytes of the login form: a token and a return path, nothing more
# Gradio's routes that store files sent by anyone (50 MB each, readable by anyone): the chat takes none.
UPLOAD_PATHS = frozenset(
    {"/gradio_api/upload", "/gradio_api/upload_progress", "/gradio_api/process_recording", "/upload", "/upload_progress"}
)

# The chat page (Gradio): its bundle needs inline scripts and styles and evaluates code; everything else
# comes from the server itself (connect-src 'self' covers its SSE and websockets). frame-ancestors *: the
# chat is meant to be embedded in intranet pages of other origins (README, /embed-demo).
CHAT_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors *"
)
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from jsDelivr (and a favicon from fastapi.tiangolo.com).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src 'self' https://fonts.gstatic.com; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)
# The login page: no script at all; the form posts to the server only.
LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"


def _path(scope: _Scope) -> str:
    """The request's path without the proxy prefix (root_path), as the routes see it."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def _header(scope: _Scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers") or []:
        if name == wanted:
            return bytes(value)
    return None


def _cookie(scope: _Scope, wanted: str) -> str | None:
    raw = _header(scope, b"cookie")
    if raw is None:
        return None
    for part in raw.decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == wanted:
            return value
    return None


# --- Sessions: a signed expiry, no server state --------------------------------------------------


def session_key(token: str) -> bytes:
    """The signing key of session cookies, derived from the token: changing the token ends every session."""
    return hmac.new(token.encode("utf-8"), b"reperes-session-v1", hashlib.sha256).digest()


def make_session(key: bytes, hours: float, now: float | None = None) -> str:
    """``<expiry>.<HMAC of expiry>``: nothing secret inside, and unforgeable without the token."""
    expiry = int((time.time() if now is None else now) + hours * 3600)
    return f"{expiry}.{hmac.new(key, str(expiry).encode(), hashlib.sha256).hexdigest()}"


def valid_session(key: bytes, value: str | None, now: float | None = None) -> bool:
    if not value:
        return False
    expiry, _, mac = value.partition(".")
    if not expiry.isdigit() or len(expiry) > 12:
        return False
    expected = hmac.new(key, expiry.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac.encode(), expected.encode()) and int(expiry) > (time.time() if now is None else now)


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path of this site only (never ``//host`` or ``https://…``: no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def login_page(root: str, suite: str, error: str = "") -> str:
    """The French login form (no script: the CSP forbids any)."""
    alert = f'<p class="erreur" role="alert" id="erreur">{html.escape(error)}</p>' if error else ""
    described = ' aria-describedby="erreur" aria-invalid="true"' if error else ""
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connexion – Repères</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; color: #1f2937; }}
label {{ display: block; font-weight: 600; margin: 1rem 0 .25rem; }}
input[type=password] {{ width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }}
button {{ margin-top: 1rem; padding: .5rem 1.25rem; font-size: 1rem; }}
.erreur {{ color: #b91c1c; font-weight: 600; }}
</style>
</head>
<body>
<main>
<h1>Repères</h1>
<p>Ce service est réservé. Saisissez le jeton d'accès que vous a donné la personne qui administre Repères.</p>
{alert}
<form method="post" action="{html.escape(root + LOGIN_PATH)}">
<label for="jeton">Jeton d'accès</label>
<input type="password" id="jeton" name="jeton" required autocomplete="current-password" autofocus{described}>
<input type="hidden" name="suite" value="{html.escape(suite)}">
<button type="submit">Se connecter</button>
</form>
</main>
</body>
</html>
"""


async def _read_body(receive: _Receive, limit: int) -> bytes | None:
    """The request body, or None past ``limit`` bytes."""
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return body


class AccessMiddleware:
    """With a token: the Bearer header or the login page's session cookie on every request but ``/api/health``.

    A browser asking for a page without either is sent to ``/connexion`` (303); any other request gets a
    French 401 JSON; a websocket is closed (1008). ``/api/health`` stays open: load balancers probe it
    without credentials, and it says nothing but whether the index is loaded.
    """

    def __init__(self, app: _ASGI, token: str, session_hours: float = 12.0) -> None:
        self.app = app
        self._token = token.encode("utf-8")
        self._key = session_key(token)
        self._hours = session_hours

    def _bearer_ok(self, scope: _Scope) -> bool:
        value = _header(scope, b"authorization")
        if value is None:
            return False
        scheme, _, credentials = value.strip().partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self._token)

    def _allowed(self, scope: _Scope) -> bool:
        return self._bearer_ok(scope) or valid_session(self._key, _cookie(scope, SESSION_COOKIE))

    @staticmethod
    def _secure(scope: _Scope) -> bool:
        # Behind a TLS proxy the scheme is http unless uvicorn trusts its headers; a forged header only
        # makes the forger's own cookie https-only.
        return scope.get("scheme") in ("https", "wss") or _header(scope, b"x-forwarded-proto") == b"https"

    def _cookie_header(self, scope: _Scope, value: str, max_age: int) -> str:
        root = str(scope.get("root_path", "")) or "/"
        secure = "; Secure" if self._secure(scope) else ""
        return f"{SESSION_COOKIE}={value}; Max-Age={max_age}; Path={root}; HttpOnly; SameSite=Lax{secure}"

    async def _login(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        root = str(scope.get("root_path", ""))
        headers = {"Content-Security-Policy": LOGIN_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
            suite = safe_next((query.get("suite") or ["/"])[0])
            response = HTMLResponse(login_page(root, suite), headers=headers)
        elif scope["method"] == "POST":
            body = await _read_body(receive, MAX_LOGIN_BODY)
            form = parse_qs((body or b"").decode("utf-8", "replace"))
            suite = safe_next((form.get("suite") or ["/"])[0])
            given = (form.get("jeton") or [""])[0].strip().encode("utf-8")
            if body is not None and given and hmac.compare_digest(given, self._token):
                response = RedirectResponse(root + suite, status_code=303, headers={"Cache-Control": "no-store"})
                cookie = self._cookie_header(scope, make_session(self._key, self._hours), int(self._hours * 3600))
                response.headers.append("Set-Cookie", cookie)
            else:
                error = (
                    "Jeton incorrect : vérifiez le jeton (réglage REPERES_API_TOKEN du serveur) auprès de la personne "
                    "qui administre Repères, puis saisissez-le de nouveau."
                )
                response = HTMLResponse(login_page(root, suite, error), status_code=401, headers=headers)
        else:
            response = JSONResponse(
                {"detail": f"Méthode {scope['method']} non prise en charge sur {LOGIN_PATH} : utilisez GET ou POST."},
                status_code=405,
                headers={"Allow": "GET, HEAD, POST"},
            )
        await response(scope, receive, send)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = _path(scope)
        if path == HEALTH_PATH:
            await self.app(scope, receive, send)
        elif path == LOGIN_PATH and scope["type"] == "http":
            await self._login(scope, receive, send)
        elif path == LOGOUT_PATH and scope["type"] == "http":
            root = str(scope.get("root_path", ""))
            logout = RedirectResponse(root + LOGIN_PATH, status_code=303, headers={"Cache-Control": "no-store"})
            logout.headers.append("Set-Cookie", self._cookie_header(scope, "", 0))
            await logout(scope, receive, send)
        elif self._allowed(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        elif scope["method"] in ("GET", "HEAD") and b"text/html" in (_header(scope, b"accept") or b""):
            query = bytes(scope.get("query_string", b"")).decode("latin-1")
            suite = safe_next(path + (f"?{query}" if query else ""))
            location = f"{scope.get('root_path', '')}{LOGIN_PATH}?suite={quote(suite, safe='')}"
            await RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})(scope, receive, send)
        else:
            response = JSONResponse(
                {
                    "detail": (
                        "Authentification requise : ajoutez l'en-tête « Authorization: Bearer <jeton> » (jeton "
                        f"REPERES_API_TOKEN), ou connectez-vous dans un navigateur sur {LOGIN_PATH}."
                    )
                },
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)


# --- Rate limit ----------------------------------------------------------------------------------


class RateLimiter:
    """Token buckets of ``per_minute`` requests, refilled continuously, one per key; thread-safe."""

    MAX_KEYS = 10_000  # past it, full buckets (idle clients) are forgotten, so memory stays bounded

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go on; else the seconds to wait for the next one."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self.MAX_KEYS:
                self._forget_idle(now)
            return (1.0 - tokens) / self._rate

    def _forget_idle(self, now: float) -> None:
        full = [k for k, (tokens, last) in self._buckets.items() if tokens + (now - last) * self._rate >= self.per_minute]
        for key in full:
            del self._buckets[key]


class RateLimitMiddleware:
    """``per_minute`` requests per client on ``/api`` (health apart) and on the login form, else a French 429.

    A client is its IP address and the credentials it sends (hashed): counsellors behind one intranet address
    each have their own bucket once logged in, and guesses at the token share the address's bucket.
    """

    def __init__(self, app: _ASGI, per_minute: int) -> None:
        self.app = app
        self.limiter = RateLimiter(per_minute)

    @staticmethod
    def _key(scope: _Scope) -> str:
        client = scope.get("client")
        address = str(client[0]) if client else "?"
        secret = _header(scope, b"authorization") or (_cookie(scope, SESSION_COOKIE) or "").encode()
        return f"{address}|{hashlib.sha256(secret).hexdigest()[:16]}" if secret else address

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        path = _path(scope) if scope["type"] == "http" else ""
        limited = (path.startswith("/api/") and path != HEALTH_PATH) or (path == LOGIN_PATH and scope.get("method") == "POST")
        wait = self.limiter.take(self._key(scope)) if limited and scope.get("method") != "OPTIONS" else 0.0
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        response = JSONResponse(
            {
                "detail": (
                    f"Trop de requêtes : {self.limiter.per_minute} par minute au plus pour un même poste "
                    f"(réglage REPERES_RATE_LIMIT_PER_MINUTE) ; réessayez dans {seconds} s."
                )
            },
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )
        await response(scope, receive, send)


# --- Headers of HTML pages, upload routes --------------------------------------------------------


class SecurityHeadersMiddleware:
    """A Content-Security-Policy on every HTML response that sets none (the chat's page, the API docs…)."""

    def __init__(self, app: _ASGI) -> None:
        self.app = app

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if _path(scope) in ("/docs", "/redoc") else CHAT_CSP

        async def send_with_policy(message: _Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {bytes(name).lower() for name, _ in headers}
                content_type = next((bytes(v) for n, v in headers if bytes(n).lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", policy.encode()))
                    if b"x-content-type-options" not in names:
                        headers.append((b"x-content-type-options", b"nosniff"))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_policy)


class BlockUploadsMiddleware:
    """Gradio's upload routes answer 404: the chat takes no file, and anyone could store 50 MB files there."""

    def __init__(self, app: _ASGI) -> None:
        self.app = app

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "http" and _path(scope).rstrip("/") in UPLOAD_PATHS:
            response = JSONResponse(
                {"detail": "Envoi de fichiers désactivé : Repères ne prend aucun fichier, posez votre question en texte."},
                status_code=404,
            )
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)
