"""The HTTP API (FastAPI), with the Gradio chat mounted at `/`: one server, one loaded model.

    POST /api/ask                 a question -> exactly `Answer.to_json()` (the `reperes ask --json` contract)
    GET  /api/health              index loaded? how many passages, which model and chunker
    GET  /api/sources/{source}    the (repaired) text of lines of a corpus document, to show a citation
    GET  /api/actions             the action catalogue, filtered by age, commune, theme, words (`reperes actions --json`)
    GET  /api/actions/{id}        one action of the catalogue
    POST /api/feedback            a counsellor's 👍/👎 on an answer, stored in <home>/feedback.sqlite3
    GET  /passage/{source}        the page a citation link of the chat opens (HTML, quote highlighted)
    GET  /fiche?a=ID&a=ID         the handout for the young person (HTML; also /fiche.pdf and /fiche.txt)

The OpenAPI description is at `/openapi.json` (interactive docs at `/docs`). Endpoints are plain
functions: FastAPI runs them in its thread pool, all sharing the one ``Assistant`` (its model and
index load once and are read-only afterwards). With a token, every request but ``/api/health`` needs
``Authorization: Bearer <token>`` or the session cookie of the login page ``/connexion``, the chat and the
API docs included (assistant.access). ``serve`` runs it (`reperes serve`).
"""

from __future__ import annotations

import http
import json
import logging
import re
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from importlib import metadata
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator
from starlette.exceptions import HTTPException

from assistant.access import AccessMiddleware, BlockUploadsMiddleware, RateLimitMiddleware, SecurityHeadersMiddleware
from assistant.feedback import FeedbackNotWritable, FeedbackStore, feedback_path, settings_version
from assistant.filters import make_filters
from assistant.handout import HANDOUT_CSP, handout_html, handout_query, handout_text
from assistant.inputs import (
    EXAMPLE_QUESTION,
    MAX_FEEDBACK_ANSWER_CHARS,
    MAX_FEEDBACK_CITATIONS,
    MAX_K,
    bad_character,
    history_problem,
    question_problem,
    text_problem,
)
from assistant.limits import AnswerLimitMiddleware
from assistant.observability import Metrics, RequestLogMiddleware, configure_logging, note_answer
from assistant.passage import error_page, passage_page
from assistant.service import Assistant
from index.catalogue import ActionFilter, filter_actions
from index.reload import IndexWatcher, index_version
from index.store import IndexNotReady
from ingest.loaders import load_corpus
from ingest.records import Action, Chunk, SourceDoc

# The lengths of a question, of its history and of a comment are settings (REPERES_MAX_QUESTION_CHARS,
# REPERES_MAX_HISTORY), checked in the routes; the body size (REPERES_MAX_BODY_BYTES) by BodySizeMiddleware;
# a rated answer's size by FeedbackRequest (MAX_FEEDBACK_ANSWER_CHARS, MAX_FEEDBACK_CITATIONS).
_HEALTH_LOADER = anyio.CapacityLimiter(1)  # /api/health's one thread, apart from the answers' pool
MAX_QUOTE = 1000  # characters of the text a passage page highlights (quotes are at most 400)


# --- Request and response models (the response models document the contract in OpenAPI) ---------


def _non_empty_question(value: str) -> str:
    if not value.strip():
        raise ValueError(f"la question est vide : posez une question, par exemple « {EXAMPLE_QUESTION} »")
    return value.strip()


class FiltersIn(BaseModel):
    """The chat's filters panel: they complete what the question says about the young person."""

    commune: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None, description="Commune du jeune (MEL ou Valenciennes Métropole).", examples=["Loos"]
    )
    age: int | None = Field(default=None, description="Âge du jeune (10 à 99 ans).", examples=[17])
    territory: Literal["MEL", "CAVM"] | None = Field(
        default=None, description="Territoire : « MEL » ou « CAVM » (Valenciennes Métropole)."
    )

    @model_validator(mode="after")
    def _known_values(self) -> FiltersIn:
        make_filters(self.commune, self.age, self.territory)  # a French ValueError on an unknown commune, a bad age
        return self


class AskRequest(BaseModel):
    """Fields not listed here are ignored (clients may send more); the body size cap bounds them."""

    question: str = Field(
        description="La question du conseiller ou de la conseillère (REPERES_MAX_QUESTION_CHARS caractères au plus, 4000 par défaut).",
        examples=[EXAMPLE_QUESTION],
    )
    history: list[str] = Field(
        default_factory=list,
        description=(
            "Les questions précédentes de la conversation, la plus ancienne d'abord (pour « et s'il a 19 ans ? ») ; "
            "REPERES_MAX_HISTORY au plus (50 par défaut)."
        ),
    )
    k: int | None = Field(default=None, ge=1, le=MAX_K, description="Nombre de passages recherchés (défaut : REPERES_TOP_K).")
    filters: FiltersIn | None = Field(
        default=None, description="Filtres (commune, âge, territoire) : complètent ce que la question ne dit pas."
    )

    _question = field_validator("question")(_non_empty_question)


class CitationOut(BaseModel):
    n: int = Field(description="Numéro de la citation : [n] dans le texte de la réponse.")
    source: str = Field(description="Nom du fichier du corpus.")
    title: str
    line_start: int = Field(description="Première ligne citée (à partir de 1, incluse).")
    line_end: int = Field(description="Dernière ligne citée (incluse).")
    page: int | None
    quote: str = Field(description="Texte exact du passage cité.")


class RetrievedOut(BaseModel):
    source: str
    line_start: int
    line_end: int
    score: float
    title: str
    why: dict[str, Any] | None = Field(default=None, description="Détail du classement (présent selon le mode de recherche).")


class GroundingDropOut(BaseModel):
    sentence: str
    reason: str


class PisteOut(BaseModel):
    """A person answer's action in fields (what its line in ``answer`` says): the chat draws its cards from it."""

    n: int = Field(description="La citation [n] d'où viennent ces informations.")
    section: Literal["fit", "more", "condition", "excluded"] = Field(
        description="Retenue (fit), autre piste (more), sous condition (condition), écartée (excluded)."
    )
    title: str
    acronym: str
    porteur: str
    public: str
    offer: str = Field(description="Ce que propose l'action, tel que le passage l'écrit.")
    fits: list[str] = Field(description="Pourquoi elle convient à ce jeune (âge, territoire).")
    check: list[str] = Field(description="Ce qui reste à vérifier, ou pourquoi elle est écartée.")
    contact: str
    emails: list[str]
    phones: list[str]
    urls: list[str]
    action_id: str = Field(description="L'action du catalogue (/api/actions/{id}), vide pour un passage de plan.")


class AskResponse(BaseModel):
    """Exactly the record of `reperes ask --json`."""

    question: str
    answer: str = Field(description="La réponse en markdown, avec des renvois [n] vers les citations.")
    refused: bool = Field(description="Vrai quand les documents ne permettent pas de répondre.")
    citations: list[CitationOut]
    retrieved: list[RetrievedOut] = Field(description="Les passages trouvés, du meilleur au moins bon.")
    timings_ms: dict[str, float]
    filters: dict[str, Any] | None = Field(description="Ce qui a été compris de la question (âge, communes…).")
    grounding_drops: list[GroundingDropOut]
    kind: Literal["answer", "refusal", "clarification", "out_of_scope", "error"] = Field(
        description="Nature de la réponse : réponse, refus (les documents ne le disent pas), demande de précision, hors champ, erreur."
    )
    pistes: list[PisteOut] = Field(description="Pour une question sur un jeune : chaque action de la réponse, en champs.")


class HealthResponse(BaseModel):
    status: Literal["ok"]
    chunks: int = Field(description="Nombre de passages dans l'index.")
    index: dict[str, Any] = Field(description="Modèle, découpage, nombre de passages, date et version de l'index servi.")


class SourceResponse(BaseModel):
    source: str
    line_start: int
    line_end: int
    title: str
    text: str = Field(description="Texte réparé de ces lignes du document (une ligne du fichier par ligne).")


class FeedbackRequest(BaseModel):
    question: str = Field(description="La question posée.")
    answer: dict[str, Any] = Field(description="La réponse notée : l'objet JSON renvoyé par /api/ask.")
    rating: Literal["up", "down"] = Field(description="« up » (👍) ou « down » (👎).")
    comment: str = Field(default="", description="Commentaire libre (facultatif).")

    _question = field_validator("question")(_non_empty_question)

    @field_validator("answer")
    @classmethod
    def _an_answer_record(cls, answer: dict[str, Any]) -> dict[str, Any]:
        text, citations = answer.get("answer"), answer.get("citations", [])
        if isinstance(text, str) and len(text) > MAX_FEEDBACK_ANSWER_CHARS:
            raise ValueError(
                f"la réponse notée est trop longue ({len(text)} caractères, {MAX_FEEDBACK_ANSWER_CHARS} au plus) : "
                "envoyez l'objet renvoyé par /api/ask tel quel"
            )
        if isinstance(citations, list) and len(citations) > MAX_FEEDBACK_CITATIONS:
            raise ValueError(
                f"la réponse notée a trop de citations ({len(citations)}, {MAX_FEEDBACK_CITATIONS} au plus) : "
                "envoyez l'objet renvoyé par /api/ask tel quel"
            )
        if bad_character(json.dumps(answer, ensure_ascii=False)) is not None:
            raise ValueError(
                "la réponse notée contient un caractère invalide (pas de l'UTF-8) : renvoyez-la telle que /api/ask l'a donnée"
            )
        return answer


class FeedbackResponse(BaseModel):
    id: int


class ErrorResponse(BaseModel):
    detail: str = Field(description="Message d'erreur en français.")


class ContactOut(BaseModel):
    name: str | None = Field(description="Personne, telle qu'écrite (null pour une organisation).")
    role: str | None
    organisation: str | None
    emails: list[str]
    phones: list[str]
    urls: list[str]
    line: int | None = Field(description="Ligne (à partir de 1) du document où le contact commence.")
    text: str | None = Field(description="Les lignes telles qu'écrites quand le texte ne dit pas à qui sont e-mail et téléphone.")


class FigureOut(BaseModel):
    value: str = Field(description="Le chiffre, tel qu'écrit (« 75 jeunes »).")
    sentence: str = Field(description="La phrase qui le donne.")
    line: int


class ActionOut(BaseModel):
    """Exactly one record of `reperes actions --json`: every value is read from the document at ingest."""

    id: str = Field(description="Identifiant stable (document + titre).")
    title: str
    source: str = Field(description="Fichier du corpus (clé de citation).")
    line_start: int
    line_end: int
    document: str
    kind: str = Field(description="Structure lue : card, deck, table_row, item ou paragraph.")
    page: int | None
    acronym: str | None
    porteur: str | None
    partners: list[str]
    public: str | None = Field(description="La phrase qui dit à qui s'adresse l'action, telle qu'écrite.")
    age_min: int | None
    age_max: int | None
    age_max_extended: int | None
    age_condition: str | None
    age_evidence: str | None = Field(description="La phrase d'où viennent les âges.")
    communes: list[str]
    epci: str | None
    territory_scope: str | None
    territory_evidence: str | None
    qpv: Literal["only", "excluded"] | None = Field(description="« only » : habitants des QPV ; « excluded » : hors QPV.")
    qpv_evidence: str | None
    mission_locale_sectors: list[str]
    situations: list[str]
    themes: list[str]
    summary: str | None
    figures: list[FigureOut]
    contacts: list[ContactOut]
    section: str | None


class ActionsResponse(BaseModel):
    count: int
    actions: list[ActionOut]


# --- Corpus documents for /api/sources ----------------------------------------------------------


class _Documents:
    """The corpus documents (repaired, as indexed), loaded once on first use and kept by source name."""

    def __init__(self, assistant: Assistant) -> None:
        self._assistant = assistant
        self._docs: dict[str, SourceDoc] | None = None
        self._lock = threading.Lock()

    def get(self, source: str) -> SourceDoc | None:
        if self._docs is None:
            with self._lock:
                if self._docs is None:
                    settings = self._assistant.settings
                    docs, _problems = load_corpus(settings.corpus, max_file_bytes=settings.max_corpus_file_bytes)
                    self._docs = {doc.source: doc for doc in docs}
        return self._docs.get(source)


_LINES = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")
# Digits of a line number: no document has a billion lines, and int() of 4,300 digits or more raises (a 500).
MAX_LINE_DIGITS = 9


def _line_range(lines: str | None, count: int) -> tuple[int, int]:
    """``a-b`` (or ``a``) as 1-based inclusive lines of a document of ``count`` lines; the whole document if None."""
    if lines is None:
        return 1, max(count, 1)
    match = _LINES.fullmatch(lines) if len(lines) <= 100 else None
    if match is None:
        shown = lines if len(lines) <= 40 else lines[:40] + "…"
        raise HTTPException(400, f"paramètre lines={shown!r} invalide : écrivez une plage de lignes comme lines=12-18")
    if any(len(number) > MAX_LINE_DIGITS for number in match.groups() if number):
        raise HTTPException(
            400, f"numéro de ligne trop grand dans lines : le document a {count} lignes ; écrivez par exemple lines=12-18"
        )
    start = int(match.group(1))
    end = int(match.group(2) or start)
    if start < 1 or end < start:
        raise HTTPException(400, f"plage de lignes {start}-{end} invalide : les lignes commencent à 1 et la fin suit le début")
    if end > count:
        raise HTTPException(400, f"plage de lignes {start}-{end} hors du document, qui a {count} lignes")
    return start, end


def _check_fields(*checks: tuple[str, str | None]) -> None:
    """A 422 in French naming every field whose check found a problem (checks against the settings' limits,
    which the request models cannot know)."""
    errors = [{"type": "value_error", "loc": ("body", field), "ctx": {"error": problem}} for field, problem in checks if problem]
    if errors:
        raise RequestValidationError(errors)


def _cited_chunk(assistant: Assistant, source: str, start: int, end: int) -> Chunk | None:
    """The indexed passage with exactly these lines (its title and page), if the index is there."""
    try:
        chunks = assistant.store.chunks
    except IndexNotReady:
        return None
    return next((c for c in chunks if (c.source, c.line_start, c.line_end) == (source, start, end)), None)


# The passage page echoes the request's text (escaped): forbid scripts and outside resources anyway.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'", "X-Content-Type-Options": "nosniff"}
# The handout page runs one script (its buttons), allowed by its hash.
HANDOUT_HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": HANDOUT_CSP, "Referrer-Policy": "no-referrer"}
MAX_HANDOUT = 12  # actions on one handout


def _handout_actions(assistant: Assistant, values: list[str] | None) -> list[Action]:
    """The catalogue actions named by ``a=ID&a=ID`` (or ``a=ID1,ID2``), in order, once each; unknown ids skipped.

    Raises an HTTPException with a French message: 400 past ``MAX_HANDOUT`` ids, 404 when none is known.
    """
    ids = list(dict.fromkeys(part.strip() for value in values or () for part in value.split(",") if part.strip()))
    if len(ids) > MAX_HANDOUT:
        raise HTTPException(
            400, f"Trop d'actions ({len(ids)}) : une fiche en réunit {MAX_HANDOUT} au plus. Retirez-en quelques-unes."
        )
    known = assistant.store.actions_by_id
    chosen = [known[i] for i in ids if i in known]
    if not chosen:
        raise HTTPException(
            404, "Aucune action reconnue : choisissez des actions dans une réponse ou dans « Toutes les actions »."
        )
    return chosen


# --- Errors in French ------------------------------------------------------------------------------

_STATUS_FR = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    413: "Requête trop volumineuse.",
    500: "Erreur interne du serveur.",
    503: "Service indisponible.",
}


def _french_error(error: dict[str, Any]) -> str:
    """One pydantic validation error as a French sentence naming the field."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    # "body", "query" and "path" say where FastAPI looked, not which field: the field's name is enough.
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")) or "corps de la requête"
    if kind == "json_invalid":  # its location is a character offset, not a field
        where = "corps de la requête"
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "")))
    messages = {
        "missing": "champ obligatoire manquant",
        "string_type": "doit être un texte",
        "string_too_long": f"trop long ({ctx.get('max_length')} caractères au plus)",
        "int_type": "doit être un nombre entier",
        "int_parsing": "doit être un nombre entier",
        "int_from_float": "doit être un nombre entier",
        "greater_than_equal": f"doit être ≥ {ctx.get('ge')}",
        "less_than_equal": f"doit être ≤ {ctx.get('le')}",
        "list_type": "doit être une liste",
        "too_long": f"trop d'éléments ({ctx.get('max_length')} au plus)",
        "dict_type": "doit être un objet JSON",
        "model_attributes_type": "doit être un objet JSON",
        "literal_error": f"doit valoir {ctx.get('expected', '')}".replace(" or ", " ou "),
        "json_invalid": "JSON invalide",
        "string_unicode": "contient un caractère invalide (pas de l'UTF-8, comme un « \\ud800 » isolé) : renvoyez un texte UTF-8",
        "int_parsing_size": "nombre trop grand",
        "finite_number": "doit être un nombre fini",
        "float_parsing": "doit être un nombre",
        "float_type": "doit être un nombre",
        "bool_parsing": "doit valoir true ou false",
        "bool_type": "doit valoir true ou false",
    }
    return f"{where} : {messages.get(kind, 'valeur invalide')}"


def _install_error_handlers(app: FastAPI) -> None:
    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [_french_error(dict(e)) for e in exc.errors()]
        return JSONResponse({"detail": "Requête invalide : " + " ; ".join(errors)}, status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        detail = exc.detail
        if detail == http.HTTPStatus(exc.status_code).phrase:  # Starlette's English default
            detail = _STATUS_FR.get(exc.status_code, detail)
        elif detail == "There was an error parsing the body":  # FastAPI's, for a body json.loads cannot read
            detail = (
                "Requête invalide : corps de la requête illisible ; envoyez un objet JSON encodé en UTF-8 "
                "(nombres de moins de 4300 chiffres)."
            )
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    async def index_not_ready(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises the exception after this response: the server logs the traceback.
        return JSONResponse({"detail": "Erreur interne du serveur : réessayez ; si elle persiste, consultez les journaux."}, 500)

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(IndexNotReady, index_not_ready)
    app.add_exception_handler(Exception, server_error)


# --- Bearer token --------------------------------------------------------------------------------

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_ASGI = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


# The token check (Bearer header or the login page's session cookie) lives in assistant.access.
BearerTokenMiddleware = AccessMiddleware


class BodySizeMiddleware:
    """An /api request whose body is over ``max_bytes`` gets a 413 in French before the body is read whole.

    A declared Content-Length is refused at once; a body without one (chunked) is counted as it arrives.
    Only /api: the chat's Gradio requests carry the whole conversation and are bounded by Gradio itself.
    """

    def __init__(self, app: _ASGI, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self, size: int | None) -> str:
        got = f"{size} octets" if size is not None else f"plus de {self.max_bytes} octets"
        return (
            f"Requête trop volumineuse : {got} pour {self.max_bytes} au plus (réglage REPERES_MAX_BODY_BYTES) ; "
            "raccourcissez la question, l'historique ou les champs envoyés."
        )

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        if root and path.startswith(root):
            path = path[len(root) :]
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        declared = next((bytes(v) for k, v in scope.get("headers") or [] if k == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await JSONResponse({"detail": self._detail(int(declared))}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def limited() -> MutableMapping[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises an HTTPException met while reading the body: the error handler answers it.
                    raise HTTPException(413, self._detail(None))
            return message

        await self.app(scope, limited, send)


# Documents the bearer scheme in OpenAPI; BearerTokenMiddleware is what enforces it (chat included).
_bearer_doc = HTTPBearer(auto_error=False, description="Jeton d'accès (REPERES_API_TOKEN), quand il est configuré.")


# --- The application -----------------------------------------------------------------------------


def _version() -> str:
    try:
        return metadata.version("reperes")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def create_app(
    assistant: Assistant, token: str | None = None, cors_origins: list[str] | None = None, mount_ui: bool = True
) -> FastAPI:
    """The API over ``assistant`` (and the Gradio chat at `/` when ``mount_ui``)."""
    app = FastAPI(
        title="Repères",
        version=_version(),
        description=(
            "API de Repères : les actions jeunesse de la MEL et de Valenciennes Métropole, avec leurs sources. "
            "Les réponses de /api/ask ont le format de `reperes ask --json`."
        ),
    )
    app.state.assistant = assistant
    app.state.feedback = feedback = FeedbackStore(feedback_path(assistant.settings))
    app.state.settings_version = version = settings_version(assistant.settings)
    documents = _Documents(assistant)
    settings = assistant.settings
    _install_error_handlers(app)

    errors: dict[int | str, dict[str, Any]] = {422: {"model": ErrorResponse, "description": "Requête invalide."}}
    if token:
        errors[401] = {"model": ErrorResponse, "description": "Jeton absent ou invalide."}
    router = APIRouter(prefix="/api", tags=["Repères"], dependencies=[Security(_bearer_doc)] if token else [], responses=errors)

    @router.post(
        "/ask",
        operation_id="ask",
        summary="Poser une question",
        description="Répond à une question sur le corpus, avec citations ; le JSON est celui de `reperes ask --json`.",
        response_model=None,
        responses={
            200: {"model": AskResponse, "description": "La réponse, ses citations et les passages trouvés."},
            503: {
                "model": ErrorResponse,
                "description": "Index absent ou illisible, ou service très sollicité (réessayer après Retry-After secondes).",
            },
        },
    )
    def ask(body: AskRequest, request: Request) -> JSONResponse:
        _check_fields(
            ("question", question_problem(body.question, settings)), ("history", history_problem(body.history, settings))
        )
        f = body.filters
        filters = make_filters(f.commune, f.age, f.territory) if f is not None else None  # validated with the body
        try:
            answer = assistant.ask(body.question, k=body.k, history=body.history, filters=filters)
        except ValueError as exc:  # a question with nothing to read ("???"): the assistant's French message
            raise RequestValidationError([{"type": "value_error", "loc": ("body", "question"), "ctx": {"error": exc}}]) from exc
        record = answer.to_json()
        note_answer(request.state, record, body.question)  # kind and timings for the access log and /metrics
        return JSONResponse(record)

    @router.get(
        "/health",
        operation_id="health",
        summary="État du service",
        description="Index chargé, nombre de passages, modèle et découpage utilisés.",
        response_model=HealthResponse,
        responses={503: {"model": ErrorResponse, "description": "Index absent ou illisible."}},
    )
    async def health() -> dict[str, Any]:
        # async: answered on the event loop, not in the worker pool the answers fill, so a load balancer's
        # probe stays instant under load; it reads only the loaded index's counts (no disk, no lock).
        store = assistant.loaded_store
        if store is None:
            # Not loaded yet (`reperes serve` loads it before listening): load it once, in a thread of its
            # own limiter so a full worker pool cannot hold the probe; a missing index is a French 503.
            store = await anyio.to_thread.run_sync(lambda: assistant.store, limiter=_HEALTH_LOADER)
        m = store.manifest
        return {
            "status": "ok",
            "chunks": len(store.chunks),
            # version: which published index answers (it changes when `reperes ingest` publishes a new one)
            "index": {
                "model": m.embed_model,
                "chunker": m.chunker,
                "count": m.count,
                "created": m.created,
                "version": index_version(m),
            },
        }

    @router.get(
        "/sources/{source}",
        operation_id="source",
        summary="Lire un passage cité",
        description="Le texte (réparé) des lignes `lines=a-b` d'un document du corpus ; le document entier sans `lines`.",
        response_model=SourceResponse,
        responses={
            400: {"model": ErrorResponse, "description": "Plage de lignes invalide."},
            404: {"model": ErrorResponse, "description": "Document inconnu."},
        },
    )
    def source_text(
        source: str,
        lines: Annotated[str | None, Query(description="Plage de lignes, par exemple 12-18 (à partir de 1, incluses).")] = None,
    ) -> dict[str, Any]:
        doc = documents.get(source)
        if doc is None:
            raise HTTPException(404, f"document « {source} » inconnu : il n'est pas dans le corpus indexé")
        doc_lines = doc.lines
        start, end = _line_range(lines, len(doc_lines))
        return {
            "source": doc.source,
            "line_start": start,
            "line_end": end,
            "title": doc.title,
            "text": "\n".join(doc_lines[start - 1 : end]),
        }

    @router.get(
        "/actions",
        operation_id="actions",
        summary="Catalogue des actions",
        description=(
            "Les actions de tous les documents (titre, porteur, public, âges, communes, contacts…), lues dans les textes. "
            "Avec `age` ou `commune`, les actions qui conviennent d'abord, puis celles à vérifier ; celles qui excluent "
            "ce jeune sont retirées."
        ),
        response_model=ActionsResponse,
        responses={503: {"model": ErrorResponse, "description": "Index absent ou illisible."}},
    )
    def actions(
        age: Annotated[int | None, Query(ge=5, le=99, description="Âge du jeune.")] = None,
        commune: Annotated[str | None, Query(max_length=100, description="Commune du jeune.")] = None,
        theme: Annotated[
            str | None, Query(max_length=100, description="Thème ou situation (emploi, logement, décrochage…).")
        ] = None,
        search: Annotated[str | None, Query(max_length=200, description="Mots à chercher (titre, porteur, public…).")] = None,
        porteur: Annotated[str | None, Query(max_length=200, description="Qui porte l'action (porteur ou partenaire).")] = None,
    ) -> dict[str, Any]:
        try:
            listed = filter_actions(
                assistant.store.actions, ActionFilter(age=age, commune=commune, theme=theme, search=search, porteur=porteur)
            )
        except ValueError as exc:
            raise RequestValidationError([{"type": "value_error", "loc": ("query", "commune"), "ctx": {"error": exc}}]) from exc
        return {"count": len(listed), "actions": [item.action.to_json() for item in listed]}

    @router.get(
        "/actions/{action_id}",
        operation_id="action",
        summary="Une action du catalogue",
        response_model=ActionOut,
        responses={404: {"model": ErrorResponse, "description": "Action inconnue."}},
    )
    def action(action_id: str) -> dict[str, Any]:
        found = assistant.store.actions_by_id.get(action_id)
        if found is None:
            raise HTTPException(404, f"action « {action_id} » inconnue : la liste est sur /api/actions")
        return found.to_json()

    @router.post(
        "/feedback",
        operation_id="feedback",
        summary="Noter une réponse",
        description="Enregistre un 👍 ou un 👎 (et un commentaire) sur une réponse de /api/ask.",
        status_code=201,
        response_model=FeedbackResponse,
    )
    def record_feedback(body: FeedbackRequest) -> dict[str, int]:
        _check_fields(
            ("question", question_problem(body.question, settings)),
            ("comment", text_problem(body.comment, "le commentaire", settings.max_question_chars, "REPERES_MAX_QUESTION_CHARS")),
        )
        try:
            row = feedback.record(body.question, body.answer, body.rating, body.comment, settings_version=version)
        except FeedbackNotWritable as exc:
            # The server's own trouble (read-only or full data home): the log says where, the client what to do.
            logging.getLogger(__name__).error("%s", exc)
            raise HTTPException(
                503,
                "Avis non enregistré : le serveur ne peut pas écrire ses données pour le moment. Réessayez plus "
                "tard ; si cela dure, prévenez l'administrateur (le journal du serveur dit quel dossier corriger).",
                headers={"Retry-After": "60"},
            ) from exc
        except ValueError as exc:
            raise RequestValidationError([{"type": "value_error", "loc": ("body", "answer"), "ctx": {"error": exc}}]) from exc
        return {"id": row}

    app.include_router(router)

    app.state.metrics = metrics = Metrics()

    # Not exempted from the token (not in PUBLIC_PATHS): request counts and timings are the service's own.
    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/passage/{source}", include_in_schema=False)
    def passage(
        source: str,
        lines: str | None = None,
        hl: Annotated[str, Query(max_length=MAX_QUOTE)] = "",
        embed: bool = False,
    ) -> HTMLResponse:
        """The page a citation link of the chat opens: the cited lines, the quote (``hl``) highlighted.

        ``embed=1``: the compact page of the chat's source panel (an iframe), linking to this page without
        it. Both keep PAGE_HEADERS: they set no X-Frame-Options nor frame-ancestors, so the chat can frame
        the panel, also when the chat is itself framed by a host page of another origin (README): a
        ``frame-ancestors 'self'`` would be checked against that host too and blank the panel there.
        """
        from urllib.parse import quote, urlencode

        from assistant.passage import date_of, hidden_lines

        doc = documents.get(source)
        try:
            if doc is None:
                raise HTTPException(404, f"Le document « {source} » n'est pas dans le corpus indexé.")
            start, end = _line_range(lines, len(doc.lines))
        except HTTPException as exc:
            return HTMLResponse(error_page(str(exc.detail)), status_code=exc.status_code, headers=PAGE_HEADERS)
        chunk = _cited_chunk(assistant, doc.source, start, end)
        shared = {"lines": f"{start}-{end}", **({"hl": hl} if hl else {})}
        page = passage_page(
            document=doc.title,
            title=(chunk.title if chunk is not None and chunk.title else doc.title),
            source=doc.source,
            line_start=start,
            lines=doc.lines[start - 1 : end],
            page=chunk.page if chunk is not None else None,
            quote=hl,
            hidden=hidden_lines(doc),
            date=date_of(doc),
            embed=embed,
            # The same address without embed, relative to /passage/ (works behind a proxy prefix too).
            full_page=f"{quote(doc.source, safe='')}?{urlencode(shared, quote_via=quote)}" + ("#cite" if hl else ""),
        )
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.get("/fiche", include_in_schema=False)
    def handout(request: Request, a: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
        """The handout for the young person: the chosen actions, to print, download as PDF or copy."""
        try:
            chosen = _handout_actions(assistant, a)
        except HTTPException as exc:
            return HTMLResponse(error_page(str(exc.detail)), status_code=exc.status_code, headers=PAGE_HEADERS)
        share_url = f"{request.url_for('handout')}?{handout_query(action.id for action in chosen)}"
        return HTMLResponse(handout_html(chosen, date.today(), share_url), headers=HANDOUT_HEADERS)

    @app.get("/fiche.pdf", include_in_schema=False)
    def handout_as_pdf(a: Annotated[list[str] | None, Query()] = None) -> Response:
        """The handout as an A4 PDF, downloaded as fiche-jeune.pdf."""
        from assistant.handout_pdf import handout_pdf  # fpdf2 loads only when a PDF is asked for

        try:
            chosen = _handout_actions(assistant, a)
        except HTTPException as exc:
            return HTMLResponse(error_page(str(exc.detail)), status_code=exc.status_code, headers=PAGE_HEADERS)
        return Response(
            handout_pdf(chosen, date.today()),
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="fiche-jeune.pdf"', "X-Content-Type-Options": "nosniff"},
        )

    @app.get("/fiche.txt", include_in_schema=False)
    def handout_as_text(a: Annotated[list[str] | None, Query()] = None) -> Response:
        """The handout as plain text (UTF-8)."""
        try:
            chosen = _handout_actions(assistant, a)
        except HTTPException as exc:
            return HTMLResponse(error_page(str(exc.detail)), status_code=exc.status_code, headers=PAGE_HEADERS)
        return PlainTextResponse(handout_text(chosen, date.today()), headers={"X-Content-Type-Options": "nosniff"})

    @app.get("/embed-demo", include_in_schema=False)
    def embed_demo() -> Any:
        """A static page that embeds the chat in an iframe, to try the integration locally."""
        from importlib import resources

        return HTMLResponse(resources.files("assistant").joinpath("static/embed-demo.html").read_text(encoding="utf-8"))

    if mount_ui:
        import os

        # Before gradio is imported: it reads the variable then, and would otherwise call its analytics hosts.
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        import gradio

        from assistant.app import build_app, page_assets
        from assistant.french_page import FrenchPageMiddleware

        # After the API routes: they win. No footer: its links (Gradio's API page, its settings) are for
        # developers, not for the counsellors of a page that embeds the chat; the API is at /docs.
        # The chat's answers count in /metrics like the API's (its requests are Gradio's queue calls, not answers).
        chat = build_app(assistant, feedback, observe=metrics.observe_chat_answer)
        gradio.mount_gradio_app(app, chat, path="/", footer_links=[], **page_assets())
        app.add_middleware(FrenchPageMiddleware)  # the page in French whatever the browser's language

    # Innermost of the API's own middlewares: only authenticated requests of an acceptable size queue for a slot.
    app.add_middleware(
        AnswerLimitMiddleware,
        max_in_flight=settings.max_concurrent_answers,
        max_queued=settings.max_queued_answers,
        queue_timeout_s=settings.queue_timeout_s,
    )
    app.add_middleware(BodySizeMiddleware, max_bytes=settings.max_body_bytes)
    if mount_ui:
        app.add_middleware(BlockUploadsMiddleware)  # inside the token check: a stranger still gets a 401 there
    if token or settings.oidc_issuer:
        app.add_middleware(AccessMiddleware, token=token or "", session_hours=settings.session_hours, settings=settings)
    if settings.rate_limit_per_minute:
        # Outside the token check, so guesses at the token are limited too.
        app.add_middleware(
            RateLimitMiddleware, per_minute=settings.rate_limit_per_minute, trusted_proxies=settings.trusted_proxies
        )
    app.add_middleware(SecurityHeadersMiddleware)  # a CSP on every HTML page, the login page and redirects included
    if cors_origins:
        # Added last so it is outermost: preflights are answered, and 401s carry the CORS headers too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # Outermost: every request gets an id and an access line, those refused by the token or size checks too.
    app.add_middleware(RequestLogMiddleware, metrics=metrics, log_questions=settings.log_questions)
    return app


def serve(assistant: Assistant, host: str, port: int) -> None:
    """Load the model and index, then serve the chat and the API (uvicorn) until interrupted."""
    import uvicorn

    from assistant.feedback import purge_expired

    s = assistant.settings
    configure_logging()
    if deleted := purge_expired(s):  # the retention holds even when nobody runs `reperes purge`
        print(f"{deleted} avis de plus de {s.retention_days} jours supprimés (REPERES_RETENTION_DAYS).", file=sys.stderr)
    assistant.warm_up()  # load before the first question, not during it
    # A new index published by `reperes ingest` is swapped in without a restart: looked for every
    # REPERES_INDEX_POLL_S seconds, and at once on SIGHUP (`kill -HUP <pid>`).
    watcher = IndexWatcher(s.index_dir, assistant.refresh_index, s.index_poll_s).start()
    signal.signal(signal.SIGHUP, lambda _signum, _frame: watcher.trigger())
    origins = [o.strip() for o in s.cors_origins.split(",") if o.strip()]
    app = create_app(assistant, token=s.api_token or None, cors_origins=origins or None)
    if host not in {"127.0.0.1", "localhost", "::1"} and not (s.api_token or s.oidc_issuer):
        print(
            "Attention : serveur ouvert au réseau sans REPERES_API_TOKEN ni REPERES_OIDC_ISSUER : tout le monde peut s'en servir.",
            file=sys.stderr,
        )
    print(f"Repères est prêt : http://{host}:{port} (API : /api, documentation : /docs)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
