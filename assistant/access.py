"""Who may use the server, how often, and what its pages may load: plain ASGI middlewares for assistant.api.

- ``AccessMiddleware``: with a token, every request needs ``Authorization: Bearer <token>`` or the session
  cookie the login page (``/connexion``) sets; with an OpenID Connect provider (``REPERES_OIDC_*``, with or
  without a token) the login page also offers "Se connecter avec ProConnect" (assistant.oidc), whose return
  sets the same cookie; ``/api/health`` stays open for load balancers.
- ``RateLimitMiddleware``: a token bucket per client on ``/api`` and the login routes (French 429); the client's
  address is taken from ``X-Forwarded-For`` only behind the proxies of ``REPERES_TRUSTED_PROXIES``.
- ``SecurityHeadersMiddleware``: a Content-Security-Policy on every HTML page that has none.
- ``BlockUploadsMiddleware``: Gradio's upload routes answer 404 (the chat takes no file).

Plain ASGI (not ``BaseHTTPMiddleware``) so the chat's streamed responses pass through untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import ipaddress
import logging
import math
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from assistant.oidc import OidcError, OidcLogin
    from assistant.settings import Settings

log = logging.getLogger(__name__)

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_ASGI = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

HEALTH_PATH = "/api/health"
LOGIN_PATH = "/connexion"
LOGOUT_PATH = "/deconnexion"
OIDC_START_PATH = "/connexion/oidc"  # sends the browser to the OIDC provider
OIDC_CALLBACK_PATH = "/connexion/retour"  # where the provider sends it back (the redirect URI to register)
SESSION_COOKIE = "reperes_session"
PENDING_COOKIE = "reperes_oidc"  # a login under way at the provider (state, nonce, PKCE verifier), 10 minutes
SESSION_SECRET_FILE = "session-secret"  # in the data home: the random part of the session key with OIDC
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


def _headers(scope: _Scope, wanted: bytes) -> list[bytes]:
    """Every value of a header that may be repeated (X-Forwarded-For)."""
    return [bytes(value) for name, value in scope.get("headers") or [] if name == wanted]


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


def session_key(token: str, secret: bytes = b"") -> bytes:
    """The signing key of session cookies, derived from the token and, with OIDC, the data home's random secret
    (``session_secret``): changing either ends every session."""
    return hmac.new(secret + token.encode("utf-8"), b"reperes-session-v1", hashlib.sha256).digest()


def session_secret(home: Path) -> bytes:
    """The random secret of ``home/session-secret`` (64 hex digits), created on first use readable by its owner
    only (0600) and atomically: written whole to a temporary file, then linked into place, so concurrent workers
    all end up reading the one that won. A file readable by others is closed to them."""
    path = home / SESSION_SECRET_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{SESSION_SECRET_FILE}.", dir=home)  # mode 0600 whatever the umask
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another worker made it meanwhile: theirs is kept
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise ValueError(f"{path} is too short to be a session secret")
    return value.encode("ascii")


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


def login_page(
    root: str, suite: str, error: str = "", token_form: bool = True, oidc_label: str = "", token_error: bool = True
) -> str:
    """The French login page (no script: the CSP forbids any): the token form and, with ``oidc_label``, a link
    that logs in with that OpenID Connect provider (a link, not a form: the CSP's form-action would block the
    redirect to the provider)."""
    alert = f'<p class="erreur" role="alert" id="erreur">{html.escape(error)}</p>' if error else ""
    described = ' aria-describedby="erreur" aria-invalid="true"' if error and token_error else ""
    label = html.escape(oidc_label)
    if oidc_label and token_form:
        intro = f"Ce service est réservé. Connectez-vous avec {label}, ou saisissez le jeton d'accès que vous a donné la personne qui administre Repères."
    elif oidc_label:
        intro = f"Ce service est réservé. Connectez-vous avec {label}."
    else:
        intro = "Ce service est réservé. Saisissez le jeton d'accès que vous a donné la personne qui administre Repères."
    oidc = (
        f'<p><a class="bouton" id="connexion-oidc" href="{html.escape(root + OIDC_START_PATH)}?suite='
        f'{html.escape(quote(suite, safe=""))}">Se connecter avec {label}</a></p>'
        if oidc_label
        else ""
    )
    form = (
        f"""<form method="post" action="{html.escape(root + LOGIN_PATH)}">
<label for="jeton">Jeton d'accès</label>
<input type="password" id="jeton" name="jeton" required autocomplete="current-password"{"" if oidc_label else " autofocus"}{described}>
<input type="hidden" name="suite" value="{html.escape(suite)}">
<button type="submit">Se connecter</button>
</form>"""
        if token_form
        else ""
    )
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
.bouton {{ display: inline-block; margin-top: .5rem; padding: .6rem 1.25rem; background: #000091; color: #fff;
  font-weight: 600; text-decoration: none; }}
.bouton:focus, .bouton:hover {{ background: #1212ff; outline: 2px solid #0a76f6; outline-offset: 2px; }}
.erreur {{ color: #b91c1c; font-weight: 600; }}
</style>
</head>
<body>
<main>
<h1>Repères</h1>
<p>{intro}</p>
{alert}
{oidc}
{form}
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
    """With a token and/or an OpenID Connect provider: the Bearer header (token) or the session cookie on every
    request but ``/api/health``.

    The cookie is set by the login page (``/connexion``: the token typed in) or by the return from the provider
    (``/connexion/oidc`` → provider → ``/connexion/retour``). A browser asking for a page without either is sent
    to ``/connexion`` (303); any other request gets a French 401 JSON; a websocket is closed (1008).
    ``/api/health`` stays open: load balancers probe it without credentials, and it says nothing but whether the
    index is loaded.

    ``settings`` (optional) brings the OIDC provider (``REPERES_OIDC_*``) and ``REPERES_PUBLIC_URL``; with a
    provider the session key also depends on a random secret of the data home, so it exists without a token.
    """

    def __init__(self, app: _ASGI, token: str = "", session_hours: float = 12.0, settings: Settings | None = None) -> None:
        self.app = app
        self._token = token.encode("utf-8")
        self._hours = session_hours
        self._oidc: OidcLogin | None = None
        self._public_url = settings.public_url.strip().rstrip("/") if settings is not None else ""
        if settings is not None and settings.oidc_issuer:
            from assistant.oidc import OidcConfig, OidcLogin  # authlib only where OIDC is configured

            config = OidcConfig.from_settings(settings)
            assert config is not None
            self._oidc = OidcLogin(config)
            try:
                secret = session_secret(settings.home)
            except (OSError, ValueError) as exc:
                # A data home that cannot be written: derive the key from the client secret (the provider knows it,
                # so a writable REPERES_HOME is better).
                log.warning(
                    "No session secret in %s (%s): the session key derives from the OIDC client secret", settings.home, exc
                )
                secret = hashlib.sha256(b"reperes-oidc-client|" + config.client_secret.encode("utf-8")).hexdigest().encode()
            self._key = session_key(token, secret)
        elif token:
            self._key = session_key(token)
        else:
            raise ValueError("AccessMiddleware needs a token or an OIDC provider (REPERES_API_TOKEN, REPERES_OIDC_*)")

    def _bearer_ok(self, scope: _Scope) -> bool:
        value = _header(scope, b"authorization")
        if value is None or not self._token:  # no token: no Bearer access (an empty one would match an empty header)
            return False
        scheme, _, credentials = value.strip().partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self._token)

    def _allowed(self, scope: _Scope) -> bool:
        return self._bearer_ok(scope) or valid_session(self._key, _cookie(scope, SESSION_COOKIE))

    def _secure(self, scope: _Scope) -> bool:
        # Behind a TLS proxy the scheme is http unless uvicorn trusts its headers; a forged header only
        # makes the forger's own cookie https-only.
        return (
            scope.get("scheme") in ("https", "wss")
            or _header(scope, b"x-forwarded-proto") == b"https"
            or self._public_url.startswith("https://")
        )

    def _cookie_header(self, scope: _Scope, value: str, max_age: int, name: str = SESSION_COOKIE, path: str = "") -> str:
        where = path or str(scope.get("root_path", "")) or "/"
        secure = "; Secure" if self._secure(scope) else ""
        return f"{name}={value}; Max-Age={max_age}; Path={where}; HttpOnly; SameSite=Lax{secure}"

    def _session_cookie(self, scope: _Scope) -> str:
        return self._cookie_header(scope, make_session(self._key, self._hours), int(self._hours * 3600))

    def _page(self, scope: _Scope, suite: str, error: str = "", status: int = 200, token_error: bool = True) -> HTMLResponse:
        headers = {"Content-Security-Policy": LOGIN_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        label = self._oidc.config.label if self._oidc is not None else ""
        page = login_page(
            str(scope.get("root_path", "")), suite, error, token_form=bool(self._token), oidc_label=label, token_error=token_error
        )
        return HTMLResponse(page, status_code=status, headers=headers)

    @staticmethod
    def _method_not_allowed(scope: _Scope, path: str, allowed: str, use: str) -> JSONResponse:
        return JSONResponse(
            {"detail": f"Méthode {scope['method']} non prise en charge sur {path} : utilisez {use}."},
            status_code=405,
            headers={"Allow": allowed},
        )

    async def _login(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        root = str(scope.get("root_path", ""))
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
            response = self._page(scope, safe_next((query.get("suite") or ["/"])[0]))
        elif scope["method"] == "POST":
            body = await _read_body(receive, MAX_LOGIN_BODY)
            form = parse_qs((body or b"").decode("utf-8", "replace"))
            suite = safe_next((form.get("suite") or ["/"])[0])
            given = (form.get("jeton") or [""])[0].strip().encode("utf-8")
            if not self._token:
                label = self._oidc.config.label if self._oidc is not None else ""
                error = f"La connexion par jeton n'est pas activée sur ce serveur : utilisez « Se connecter avec {label} »."
                response = self._page(scope, suite, error, status=400)
            elif body is not None and given and hmac.compare_digest(given, self._token):
                response = RedirectResponse(root + suite, status_code=303, headers={"Cache-Control": "no-store"})
                response.headers.append("Set-Cookie", self._session_cookie(scope))
            else:
                error = (
                    "Jeton incorrect : vérifiez le jeton (réglage REPERES_API_TOKEN du serveur) auprès de la personne "
                    "qui administre Repères, puis saisissez-le de nouveau."
                )
                response = self._page(scope, suite, error, status=401)
        else:
            response = self._method_not_allowed(scope, LOGIN_PATH, "GET, HEAD, POST", "GET ou POST")
        await response(scope, receive, send)

    # --- OpenID Connect ------------------------------------------------------------------------

    def _redirect_uri(self, scope: _Scope) -> str:
        """Where the provider sends the browser back: ``REPERES_PUBLIC_URL`` (or this request's own address)
        followed by ``/connexion/retour``; it must be registered with the provider, which refuses any other."""
        if self._public_url:
            return self._public_url + OIDC_CALLBACK_PATH
        host = (_header(scope, b"host") or b"").decode("latin-1")
        if not host:
            server = scope.get("server") or ("localhost", None)
            host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
        scheme = "https" if self._secure(scope) else "http"
        return f"{scheme}://{host}{scope.get('root_path', '')}{OIDC_CALLBACK_PATH}"

    def _pending_cookie(self, scope: _Scope, value: str, max_age: int) -> str:
        return self._cookie_header(scope, value, max_age, name=PENDING_COOKIE, path=f"{scope.get('root_path', '')}{LOGIN_PATH}")

    def _refused(self, scope: _Scope, suite: str, error: OidcError) -> HTMLResponse:
        log.warning("OIDC login not completed (%s): %s", error.status, error.reason)
        response = self._page(scope, suite, str(error), status=error.status, token_error=False)
        response.headers.append("Set-Cookie", self._pending_cookie(scope, "", 0))
        return response

    async def _oidc_start(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        from assistant.oidc import PENDING_SECONDS, OidcError

        assert self._oidc is not None
        response: Response
        if scope["method"] != "GET":  # not HEAD either: a link checker would overwrite a login under way
            response = self._method_not_allowed(scope, OIDC_START_PATH, "GET", "GET (le bouton de la page de connexion)")
        else:
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
            suite = safe_next((query.get("suite") or ["/"])[0])
            try:
                url, pending = await self._oidc.start(self._redirect_uri(scope), suite)
            except OidcError as exc:
                response = self._refused(scope, suite, exc)
            else:
                response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
                response.headers.append("Set-Cookie", self._pending_cookie(scope, pending.seal(self._key), PENDING_SECONDS))
        await response(scope, receive, send)

    async def _oidc_callback(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        from assistant.oidc import OidcError, Pending

        assert self._oidc is not None
        response: Response
        if scope["method"] != "GET":  # not HEAD either: it would spend the one-time code
            response = self._method_not_allowed(scope, OIDC_CALLBACK_PATH, "GET", "GET (le retour du fournisseur d'identité)")
            await response(scope, receive, send)
            return
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("utf-8", "replace"))
        params = {name: values[0] for name, values in query.items() if values}
        pending = Pending.open(self._key, _cookie(scope, PENDING_COOKIE))
        suite = safe_next(pending.suite) if pending is not None else "/"
        try:
            await self._oidc.finish(params, pending, self._redirect_uri(scope))
        except OidcError as exc:
            response = self._refused(scope, suite, exc)
        else:
            root = str(scope.get("root_path", ""))
            response = RedirectResponse(root + suite, status_code=303, headers={"Cache-Control": "no-store"})
            response.headers.append("Set-Cookie", self._session_cookie(scope))
            response.headers.append("Set-Cookie", self._pending_cookie(scope, "", 0))
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
        elif path == OIDC_START_PATH and scope["type"] == "http" and self._oidc is not None:
            await self._oidc_start(scope, receive, send)
        elif path == OIDC_CALLBACK_PATH and scope["type"] == "http" and self._oidc is not None:
            await self._oidc_callback(scope, receive, send)
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
            how = (
                "ajoutez l'en-tête « Authorization: Bearer <jeton> » (jeton REPERES_API_TOKEN), ou connectez-vous dans "
                f"un navigateur sur {LOGIN_PATH}."
                if self._token
                else f"connectez-vous dans un navigateur sur {LOGIN_PATH}."
            )
            response = JSONResponse(
                {"detail": f"Authentification requise : {how}"},
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


_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[_Network, ...]:
    """``"10.0.0.5, 172.18.0.0/16"`` → the networks (a bare address is a network of one); ValueError on a bad one."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())


def _ip(value: str) -> _Address | None:
    """An address as proxies write it (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``, ``::ffff:1.2.3.4``), or None."""
    text = value.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


class RateLimitMiddleware:
    """``per_minute`` requests per client on ``/api`` (health apart) and on the login routes, else a French 429.

    A client is its IP address and the credentials it sends (hashed): counsellors behind one intranet address
    each have their own bucket once logged in, and guesses at the token share the address's bucket. When the
    direct peer is one of ``trusted_proxies`` (``REPERES_TRUSTED_PROXIES``), the address is the right-most one of
    ``X-Forwarded-For`` that is not a trusted proxy (what the outermost trusted proxy saw); otherwise the header is
    ignored, since anyone can write it.
    """

    def __init__(self, app: _ASGI, per_minute: int, trusted_proxies: str = "") -> None:
        self.app = app
        self.limiter = RateLimiter(per_minute)
        self._trusted = parse_networks(trusted_proxies)

    def _is_trusted(self, address: _Address | None) -> bool:
        return address is not None and any(address in network for network in self._trusted)

    def client_address(self, scope: _Scope) -> str:
        """The client's address for the rate limit (see the class)."""
        client = scope.get("client")
        peer = str(client[0]) if client else "?"
        if not self._trusted or not self._is_trusted(_ip(peer)):
            return peer
        hops = [hop for raw in _headers(scope, b"x-forwarded-for") for hop in raw.decode("latin-1").split(",") if hop.strip()]
        address = peer
        for hop in reversed(hops):
            parsed = _ip(hop)
            if parsed is None:  # not an address: what lies left of it cannot be trusted either
                break
            address = str(parsed)
            if not self._is_trusted(parsed):
                break
        return address

    def _key(self, scope: _Scope) -> str:
        address = self.client_address(scope)
        secret = _header(scope, b"authorization") or (_cookie(scope, SESSION_COOKIE) or "").encode()
        return f"{address}|{hashlib.sha256(secret).hexdigest()[:16]}" if secret else address

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        path = _path(scope) if scope["type"] == "http" else ""
        limited = (
            (path.startswith("/api/") and path != HEALTH_PATH)
            or (path == LOGIN_PATH and scope.get("method") == "POST")
            or path in (OIDC_START_PATH, OIDC_CALLBACK_PATH)  # each may make calls to the OIDC provider
        )
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
