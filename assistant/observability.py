"""Structured logs and Prometheus metrics of the HTTP API.

One JSON log line per request (logger ``reperes.access``): request id (the client's ``X-Request-ID``
when it sends a usable one, else a new one; echoed in the response), method, route, status, duration,
and for /api/ask the answer's kind and per-stage timings. The question text is logged only with
REPERES_LOG_QUESTIONS=1, and then pseudonymised: by default the logs say how the service behaves,
not what counsellors asked about young people.

Metrics (``GET /metrics``, Prometheus text format, behind the same token as the other routes): requests
by route, method and status; request latency by route; answer stage latencies (retrieve, answer,
total); server errors; answers by kind (answer, refusal, clarification, out_of_scope, error). Each app
has its own registry, so several apps in one process (the tests) do not share counts.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from assistant.privacy import pseudonymise

ACCESS_LOGGER = "reperes.access"
REQUEST_ID_HEADER = "X-Request-ID"
# Where a route leaves what the access line should say about its answer (kind, timings, question).
STATE_KEY = "reperes_answer"
# A client's request id is echoed only when it is short and plain: it goes into logs and a header.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Seconds: an answer takes from a few ms (refusal) to tens of seconds (an LLM on CPU).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
STAGES = ("retrieve", "answer", "total")

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_ASGI = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the record's ``fields`` (extra={"fields": …})."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the ``reperes`` loggers to stderr as JSON lines (once; `reperes serve` calls it)."""
    logger = logging.getLogger("reperes")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # uvicorn's own handlers would print the line a second time, not as JSON


class Metrics:
    """The counters and histograms of one app, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "reperes_requests", "Requêtes HTTP traitées.", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "reperes_request_duration_seconds", "Durée des requêtes HTTP.", ["route"], buckets=_BUCKETS, registry=self.registry
        )
        self.stages = Histogram(
            "reperes_answer_stage_duration_seconds",
            "Durée des étapes d'une réponse (retrieve, answer, total).",
            ["stage"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter("reperes_errors", "Requêtes terminées en erreur serveur (5xx).", ["route"], registry=self.registry)
        self.answers = Counter(
            "reperes_answers",
            "Réponses par nature (answer, refusal, clarification, out_of_scope, error) et par canal (api, chat).",
            ["kind", "channel"],
            registry=self.registry,
        )

    def observe_answer(self, kind: str, timings_ms: dict[str, float], channel: str = "api") -> None:
        self.answers.labels(kind=kind, channel=channel).inc()
        for stage in STAGES:
            if isinstance(timings_ms.get(stage), int | float):
                self.stages.labels(stage=stage).observe(timings_ms[stage] / 1000)

    def observe_chat_answer(self, kind: str, timings_ms: dict[str, float]) -> None:
        """The chat's answers (streamed through Gradio's queue, so no API route sees them)."""
        self.observe_answer(kind, timings_ms, channel="chat")

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def note_answer(state: Any, answer: dict[str, Any], question: str) -> None:
    """Called by a route that answered: what the access line and the metrics need (``state`` is request.state)."""
    setattr(state, STATE_KEY, {"kind": answer.get("kind"), "timings_ms": answer.get("timings_ms") or {}, "question": question})


def _route_of(scope: _Scope) -> str:
    """The route's template (/api/sources/{source}), not the path: bounded label values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        mounted = str(scope.get("root_path", ""))
        return path if not mounted or path.startswith(mounted) else f"{mounted}{path}"
    return "other"


class RequestLogMiddleware:
    """Request id, one JSON access line and the metrics of every HTTP request (plain ASGI: streams pass)."""

    def __init__(self, app: _ASGI, metrics: Metrics, log_questions: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_questions = log_questions
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((bytes(v).decode("latin-1") for k, v in scope.get("headers") or [] if k == b"x-request-id"), "")
        request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        # The dict routes write into (request.state): created here so that this middleware holds it too.
        state = scope.setdefault("state", {})
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: _Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, state, request_id, status, time.perf_counter() - start)

    def _record(self, scope: _Scope, state: Any, request_id: str, status: int, seconds: float) -> None:
        route = _route_of(scope)
        self.metrics.requests.labels(route=route, method=scope.get("method", ""), status=str(status)).inc()
        self.metrics.latency.labels(route=route).observe(seconds)
        if status >= 500:
            self.metrics.errors.labels(route=route).inc()
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": scope.get("method", ""),
            "path": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        answer = state.get(STATE_KEY) if isinstance(state, dict) else None
        if isinstance(answer, dict):
            kind = str(answer.get("kind") or "answer")
            timings = {k: round(float(v), 1) for k, v in answer["timings_ms"].items() if isinstance(v, int | float)}
            self.metrics.observe_answer(kind, timings)
            fields.update({"kind": kind, "timings_ms": timings})
            if self.log_questions:
                fields["question"] = pseudonymise(str(answer.get("question", "")))
        self.log.info("request", extra={"fields": fields})
