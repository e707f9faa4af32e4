"""Admission control for answers: a bounded number of `/api/ask` in flight and a bounded queue.

Answers are CPU-bound (embedding, BM25, composing): past a few at once, more threads only make every
answer slower and let the wait grow without bound. Measured on 2 cores with 200 clients and no limit:
p95 12-20 s, and nobody was ever told to come back later. Here at most ``max_in_flight`` answers run,
at most ``max_queued`` wait their turn (each at most ``queue_timeout_s``), and anyone beyond gets a
French 503 with ``Retry-After`` at once, so load is shed instead of piling up in memory.

The chat is not concerned: Gradio has its own queue and concurrency limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_ASGI = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

BUSY_DETAIL = "Le service est très sollicité : réessayez dans quelques secondes."
RETRY_AFTER_S = 2
LIMITED_PATHS = frozenset({"/api/ask"})


class AnswerLimitMiddleware:
    """At most ``max_in_flight`` requests to the limited paths at once and ``max_queued`` waiting; the
    others, and those that waited ``queue_timeout_s``, get 503 + ``Retry-After`` (JSON, in French)."""

    def __init__(self, app: _ASGI, max_in_flight: int, max_queued: int, queue_timeout_s: float) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued
        self.queue_timeout_s = queue_timeout_s
        self.in_flight = 0
        self.waiting = 0
        self.shed = 0  # requests refused since start (full queue or waited too long)
        # Waiters in arrival order (first come, first served). Futures belong to one event loop: the
        # middleware may outlive a loop (test clients), so they are only ever created on the running one.
        self._queue: list[asyncio.Future[None]] = []

    def _limited(self, scope: _Scope) -> bool:
        if scope["type"] != "http":
            return False
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        if root and path.startswith(root):
            path = path[len(root) :]
        return path in LIMITED_PATHS

    async def _busy(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        self.shed += 1
        response = JSONResponse({"detail": BUSY_DETAIL}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
        await response(scope, receive, send)

    async def _admit(self) -> bool:
        """Take a slot, waiting in the queue if needed; False when the queue is full or the wait too long."""
        if self.in_flight < self.max_in_flight and not self._queue:
            self.in_flight += 1
            return True
        if self.waiting >= self.max_queued:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        self.waiting += 1
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.queue_timeout_s)
            return True  # _release handed its slot over: in_flight already counts this request
        except (TimeoutError, asyncio.CancelledError) as exc:  # waited too long, or the client went away
            if turn.done() and not turn.cancelled():
                self._release()  # the slot arrived as the wait ended: pass it on, never leak it
            turn.cancel()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return False
        finally:
            self.waiting -= 1
            if turn in self._queue:
                self._queue.remove(turn)

    def _release(self) -> None:
        """Hand the slot to the first live waiter, or free it."""
        while self._queue:
            turn = self._queue.pop(0)
            if not turn.done():
                turn.set_result(None)
                return
        self.in_flight -= 1

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if not self._limited(scope):
            await self.app(scope, receive, send)
            return
        if not await self._admit():
            await self._busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._release()
