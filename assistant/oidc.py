"""OpenID Connect login (ProConnect or any OIDC provider) for assistant.access: the authorization-code flow with
PKCE, state and nonce, on authlib (OAuth client, ID-token claims) and joserfc (signatures).

Nothing is kept on the server between the two legs of a login, so several workers need share nothing:

1. ``OidcLogin.start`` builds the provider's authorization URL; its state, nonce and PKCE verifier, and the page
   to return to, travel in a short-lived signed cookie (``Pending.seal``) that the start route sets;
2. the provider sends the browser back to ``/connexion/retour`` with a code; ``OidcLogin.finish`` checks the
   state against that cookie, exchanges the code (with the verifier) for tokens, validates the ID token
   (signature from the provider's JWKS, iss, aud, azp, exp, iat, nonce, at_hash), reads the e-mail address (from
   the ID token, else from the userinfo endpoint, which ProConnect answers as a signed JWT) and checks its domain.

The provider is discovered (``<issuer>/.well-known/openid-configuration``) on the first login, never at import
or at start, and every call has a timeout. Every failure is an ``OidcError`` whose text is French, for the login
page, with an HTTP status and a short English reason for the logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger(__name__)


def _http_module() -> Any:
    """The HTTP client library authlib's httpx integration runs on: httpx2 when installed, httpx otherwise."""
    try:
        return importlib.import_module("httpx2")
    except ImportError:
        return importlib.import_module("httpx")


HTTP = _http_module()

TIMEOUT_S = 10.0  # each call to the provider (discovery, keys, token, userinfo)
PENDING_SECONDS = 600  # a login must come back from the provider within 10 minutes
LEEWAY_S = 60  # clock skew allowed on exp / iat
METADATA_TTL_S = 24 * 3600  # the discovery document (and keys) are fetched again after a day
# Signatures accepted on ID tokens and userinfo: asymmetric ones only, whose keys come from the provider's JWKS
# (never "none", never HS256 keyed with the client secret).
SIGNING_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class OidcError(Exception):
    """A login that did not succeed: ``str(error)`` is the French message of the login page."""

    def __init__(self, message: str, status: int = 401, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or message  # short, English, for the server's log


@dataclass(frozen=True)
class OidcConfig:
    """The provider and this client, as registered there (from the ``REPERES_OIDC_*`` settings)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str = "openid email"
    allowed_domains: tuple[str, ...] = ()  # lower-case e-mail domains; empty = any authenticated user
    label: str = "ProConnect"

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        """The configuration, or None when OIDC is off (no ``REPERES_OIDC_ISSUER``)."""
        if not settings.oidc_issuer:
            return None
        return cls(
            issuer=settings.oidc_issuer.strip(),
            client_id=settings.oidc_client_id.strip(),
            client_secret=settings.oidc_client_secret.strip(),
            scopes=" ".join(settings.oidc_scopes.replace(",", " ").split()),
            allowed_domains=allowed_domains(settings.oidc_allowed_domains),
            label=settings.oidc_label.strip() or "ProConnect",
        )


def allowed_domains(value: str) -> tuple[str, ...]:
    """``"@a.fr, B.fr"`` → ``("a.fr", "b.fr")``."""
    return tuple(d.strip().lower().lstrip("@") for d in value.split(",") if d.strip())


@dataclass(frozen=True)
class Pending:
    """A login started in this browser: what its return from the provider must match (sealed in a cookie)."""

    state: str
    nonce: str
    verifier: str  # PKCE code_verifier: only its S256 hash went to the provider
    suite: str  # the page to open once logged in (already a safe path)
    expiry: int

    LABEL: ClassVar[bytes] = b"reperes-oidc-pending-v1|"

    def seal(self, key: bytes) -> str:
        """``<base64url JSON>.<HMAC>``: signed, not encrypted (it only ever travels between this browser and us)."""
        data = json.dumps([self.state, self.nonce, self.verifier, self.suite, self.expiry], separators=(",", ":"))
        payload = base64.urlsafe_b64encode(data.encode("utf-8")).rstrip(b"=")
        return f"{payload.decode()}.{hmac.new(key, self.LABEL + payload, hashlib.sha256).hexdigest()}"

    @classmethod
    def open(cls, key: bytes, value: str | None, now: float | None = None) -> Pending | None:
        """The sealed login, or None when ``value`` is missing, tampered with, malformed or expired."""
        if not value or len(value) > 8192:
            return None
        payload, _, mac = value.rpartition(".")
        expected = hmac.new(key, cls.LABEL + payload.encode("latin-1"), hashlib.sha256).hexdigest()
        if not payload or not hmac.compare_digest(mac.encode("latin-1"), expected.encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        if not (isinstance(data, list) and len(data) == 5 and all(isinstance(v, str) for v in data[:4])):
            return None
        if not isinstance(data[4], int) or data[4] <= (time.time() if now is None else now):
            return None
        return cls(data[0], data[1], data[2], data[3], data[4])


@dataclass(frozen=True)
class Identity:
    """Who logged in: the provider's subject and, when given, the e-mail address (lower case)."""

    subject: str
    email: str


class OidcLogin:
    """The two legs of a login with one provider; the provider's metadata and keys cached for a day."""

    # The HTTP transport of every call to the provider: None = the network. Tests put a fake provider here.
    transport: ClassVar[Any] = None

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._keys: KeySet | None = None

    # --- Messages ------------------------------------------------------------------------------

    def _unreachable(self, reason: str) -> OidcError:
        return OidcError(
            f"{self.config.label} ne répond pas pour le moment : réessayez dans quelques minutes. Si le problème "
            "dure, prévenez la personne qui administre Repères (réglage REPERES_OIDC_ISSUER).",
            status=503,
            reason=reason,
        )

    def _misconfigured(self, reason: str) -> OidcError:
        return OidcError(
            f"La connexion avec {self.config.label} est mal configurée sur ce serveur : prévenez la personne qui "
            "administre Repères (réglages REPERES_OIDC_*).",
            status=503,
            reason=reason,
        )

    def _invalid(self, reason: str) -> OidcError:
        return OidcError(
            f"La réponse de {self.config.label} n'a pas pu être vérifiée : recommencez la connexion ; si le problème "
            "persiste, prévenez la personne qui administre Repères.",
            status=401,
            reason=reason,
        )

    def _expired(self, reason: str) -> OidcError:
        return OidcError(
            "La demande de connexion a expiré ou n'a pas été faite depuis ce navigateur : cliquez de nouveau sur "
            f"« Se connecter avec {self.config.label} ».",
            status=400,
            reason=reason,
        )

    # --- Provider ------------------------------------------------------------------------------

    def _client(self) -> AsyncOAuth2Client:
        extra = {"transport": self.transport} if self.transport is not None else {}
        return AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=self.config.scopes,
            code_challenge_method="S256",
            timeout=TIMEOUT_S,
            **extra,
        )

    async def _get(self, client: AsyncOAuth2Client, url: str, **headers: str) -> Any:
        response = await client.request("GET", url, withhold_token=True, headers=headers or None)
        response.raise_for_status()
        return response

    async def _metadata_of(self, client: AsyncOAuth2Client) -> dict[str, Any]:
        """The provider's discovery document, fetched on first use and checked (issuer, endpoints)."""
        if self._metadata is not None and time.monotonic() - self._fetched_at < METADATA_TTL_S:
            return self._metadata
        issuer = self.config.issuer.rstrip("/")
        data = (await self._get(client, f"{issuer}/.well-known/openid-configuration")).json()
        if not isinstance(data, dict):
            raise self._misconfigured("discovery document is not a JSON object")
        if str(data.get("issuer", "")).rstrip("/") != issuer:
            raise self._misconfigured(f"discovery issuer {data.get('issuer')!r} is not {self.config.issuer!r}")
        schemes = {"https", urlsplit(issuer).scheme}  # http only for a provider configured on http (local tests)
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = data.get(name)
            if not isinstance(value, str) or urlsplit(value).scheme not in schemes:
                raise self._misconfigured(f"discovery {name} missing or not https: {value!r}")
        self._metadata, self._fetched_at, self._keys = data, time.monotonic(), None
        return data

    async def _key_set(self, client: AsyncOAuth2Client, metadata: dict[str, Any], force: bool = False) -> KeySet:
        if self._keys is None or force:
            self._keys = KeySet.import_key_set((await self._get(client, metadata["jwks_uri"])).json())
        return self._keys

    async def _decode(self, client: AsyncOAuth2Client, metadata: dict[str, Any], value: str, supported: object) -> jwt.Token:
        """A JWT of the provider, its signature checked with the provider's keys (fetched again once when the
        token names a key not seen yet: the provider rotated its keys)."""
        offered = supported if isinstance(supported, list) and supported else ["RS256"]
        algorithms = [a for a in offered if a in SIGNING_ALGS]
        if not algorithms:
            raise self._misconfigured(f"no asymmetric signing algorithm among {offered!r}")
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            return jwt.decode(value, await self._key_set(client, metadata), registry=registry)
        except InvalidKeyIdError:
            return jwt.decode(value, await self._key_set(client, metadata, force=True), registry=registry)

    # --- The two legs --------------------------------------------------------------------------

    async def start(self, redirect_uri: str, suite: str, now: float | None = None) -> tuple[str, Pending]:
        """The provider's authorization URL for a new login, and what its return must match."""
        pending = Pending(
            state=generate_token(43),
            nonce=generate_token(43),
            verifier=generate_token(64),
            suite=suite,
            expiry=int((time.time() if now is None else now) + PENDING_SECONDS),
        )
        try:
            async with self._client() as client:
                metadata = await self._metadata_of(client)
                url, _ = client.create_authorization_url(
                    metadata["authorization_endpoint"],
                    state=pending.state,
                    code_verifier=pending.verifier,
                    nonce=pending.nonce,
                    redirect_uri=redirect_uri,
                )
        except OidcError:
            raise
        except (HTTP.HTTPError, OSError, ValueError) as exc:  # down, timeout, 5xx, not JSON
            raise self._unreachable(f"discovery failed: {exc!r}") from exc
        return str(url), pending

    async def finish(self, params: dict[str, str], pending: Pending | None, redirect_uri: str) -> Identity:
        """The identity of a login coming back from the provider with ``params`` (its query string)."""
        if params.get("error"):
            raise OidcError(
                f"Connexion avec {self.config.label} annulée ou refusée : recommencez, ou adressez-vous à la personne "
                "qui administre Repères.",
                status=401,
                reason=f"provider error {params['error']!r}: {params.get('error_description', '')!r}",
            )
        if pending is None:
            raise self._expired("no valid pending-login cookie")
        if not hmac.compare_digest(params.get("state", "").encode(), pending.state.encode()):
            raise self._expired("state does not match")
        if not params.get("code"):
            raise self._invalid("no code")
        try:
            async with self._client() as client:
                metadata = await self._metadata_of(client)
                methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
                client.token_endpoint_auth_method = (
                    "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
                )
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=params["code"],
                    code_verifier=pending.verifier,
                    redirect_uri=redirect_uri,
                )
                claims = await self._id_token_claims(client, metadata, token, pending.nonce)
                email, verified = claims.get("email"), claims.get("email_verified")
                if not email and metadata.get("userinfo_endpoint"):
                    info = await self._userinfo(client, metadata, str(token.get("access_token", "")), str(claims["sub"]))
                    email, verified = info.get("email"), info.get("email_verified", verified)
        except OidcError:
            raise
        except OAuthError as exc:  # the token endpoint refused the code (used twice, expired, wrong verifier…)
            raise self._invalid(f"token endpoint: {exc!r}") from exc
        except JoseError as exc:  # bad signature, expired, wrong iss / aud / nonce…
            raise self._invalid(f"token not valid: {exc!r}") from exc
        except (HTTP.HTTPError, OSError) as exc:
            raise self._unreachable(f"provider call failed: {exc!r}") from exc
        except (ValueError, KeyError, TypeError) as exc:  # a response that is not what the protocol says
            raise self._invalid(f"unexpected provider response: {exc!r}") from exc
        return self._identity(str(claims["sub"]), email, verified)

    async def _id_token_claims(
        self, client: AsyncOAuth2Client, metadata: dict[str, Any], token: dict[str, Any], nonce: str
    ) -> CodeIDToken:
        if not isinstance(token.get("id_token"), str):
            raise self._invalid("no id_token in the token response")
        decoded = await self._decode(client, metadata, token["id_token"], metadata.get("id_token_signing_alg_values_supported"))
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"essential": True, "value": metadata["issuer"]}, "aud": {"essential": True, "value": self.config.client_id}},
            {"nonce": nonce, "client_id": self.config.client_id, "access_token": token.get("access_token")},
        )
        claims.validate(leeway=LEEWAY_S)  # iss, sub, aud, exp, iat, nonce, azp, at_hash
        return claims

    async def _userinfo(
        self, client: AsyncOAuth2Client, metadata: dict[str, Any], access_token: str, subject: str
    ) -> dict[str, Any]:
        """The userinfo claims: JSON, or a signed JWT (ProConnect) checked like the ID token."""
        response = await self._get(
            client,
            metadata["userinfo_endpoint"],
            Authorization=f"Bearer {access_token}",
            Accept="application/jwt, application/json",
        )
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/jwt":
            supported = metadata.get("userinfo_signing_alg_values_supported") or metadata.get(
                "id_token_signing_alg_values_supported"
            )
            info = (await self._decode(client, metadata, response.text.strip(), supported)).claims
            audience = info.get("aud", self.config.client_id)
            if "iss" in info and info["iss"] != metadata["issuer"]:
                raise self._invalid(f"userinfo iss {info['iss']!r}")
            if self.config.client_id not in (audience if isinstance(audience, list) else [audience]):
                raise self._invalid(f"userinfo aud {audience!r}")
        else:
            info = response.json()
        if not isinstance(info, dict) or info.get("sub") != subject:  # OIDC Core 5.3.2: the same person
            raise self._invalid("userinfo sub differs from the ID token's")
        return info

    def _identity(self, subject: str, email: object, verified: object) -> Identity:
        address = email.strip().lower() if isinstance(email, str) else ""
        domains = self.config.allowed_domains
        if domains:
            if "@" not in address:
                raise OidcError(
                    f"{self.config.label} n'a pas transmis votre adresse e-mail, nécessaire pour vérifier votre accès : "
                    "prévenez la personne qui administre Repères (REPERES_OIDC_SCOPES doit contenir « email »).",
                    status=403,
                    reason="no e-mail address",
                )
            domain = address.rsplit("@", 1)[1]
            if domain not in domains or verified is False:
                listed = ", ".join(f"@{d}" for d in domains)
                raise OidcError(
                    f"Votre compte ({address}) n'est pas autorisé sur ce service : seules les adresses {listed} le sont "
                    "(réglage REPERES_OIDC_ALLOWED_DOMAINS). Adressez-vous à la personne qui administre Repères.",
                    status=403,
                    reason=f"domain {domain!r} not allowed" if domain not in domains else "e-mail not verified",
                )
        return Identity(subject=subject, email=address)
