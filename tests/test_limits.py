"""AnswerLimitMiddleware: a bounded number of answers in flight, a bounded queue, a French 503 beyond.

A fake slow app stands in for the assistant (no model): it holds every request until the test lets go.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from assistant.limits import BUSY_DETAIL, AnswerLimitMiddleware
from assistant.settings import Settings, SettingsError


class SlowApp:
    """Answers 200 once ``release`` is set; counts the requests running inside it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.peak = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b"{}"})
        finally:
            self.running -= 1


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def _settle(limiter: AnswerLimitMiddleware, in_flight: int, waiting: int) -> None:
    for _ in range(200):
        if (limiter.in_flight, limiter.waiting) == (in_flight, waiting):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"in flight {limiter.in_flight}, waiting {limiter.waiting}")


def test_the_request_past_slots_and_queue_gets_a_french_503_and_counts_return_to_zero() -> None:
    async def run() -> None:
        slow = SlowApp()
        limiter = AnswerLimitMiddleware(slow, max_in_flight=2, max_queued=3, queue_timeout_s=30)
        async with _client(limiter) as client:
            held = [asyncio.create_task(client.post("/api/ask", json={"question": "q"})) for _ in range(5)]
            await _settle(limiter, in_flight=2, waiting=3)
            extra = await client.post("/api/ask", json={"question": "q"})  # the N+M+1-th
            assert extra.status_code == 503
            assert extra.headers["retry-after"] == "2"
            assert extra.json() == {"detail": BUSY_DETAIL}
            # Other paths are not limited (health, the chat): they go straight through.
            other = asyncio.create_task(client.get("/api/health"))
            await _settle(limiter, in_flight=2, waiting=3)
            slow.release.set()
            responses = await asyncio.gather(*held, other)
        assert [r.status_code for r in responses] == [200] * 6
        assert slow.peak <= 2 + 1  # two answers at most, plus the unlimited health request
        assert (limiter.in_flight, limiter.waiting, limiter.shed) == (0, 0, 1)

    asyncio.run(run())


def test_a_request_that_waits_too_long_gets_the_503_and_frees_its_place() -> None:
    async def run() -> None:
        slow = SlowApp()
        limiter = AnswerLimitMiddleware(slow, max_in_flight=1, max_queued=5, queue_timeout_s=0.05)
        async with _client(limiter) as client:
            first = asyncio.create_task(client.post("/api/ask", json={}))
            await _settle(limiter, in_flight=1, waiting=0)
            late = await client.post("/api/ask", json={})
            assert late.status_code == 503
            assert late.headers["retry-after"] == "2"
            assert limiter.waiting == 0
            slow.release.set()
            assert (await first).status_code == 200
            assert (await client.post("/api/ask", json={})).status_code == 200  # the slot came back
        assert (limiter.in_flight, limiter.waiting) == (0, 0)

    asyncio.run(run())


def test_a_client_gone_while_waiting_leaks_no_slot() -> None:
    async def run() -> None:
        slow = SlowApp()
        limiter = AnswerLimitMiddleware(slow, max_in_flight=1, max_queued=5, queue_timeout_s=30)
        async with _client(limiter) as client:
            first = asyncio.create_task(client.post("/api/ask", json={}))
            await _settle(limiter, in_flight=1, waiting=0)
            gone = asyncio.create_task(client.post("/api/ask", json={}))
            await _settle(limiter, in_flight=1, waiting=1)
            gone.cancel()
            await _settle(limiter, in_flight=1, waiting=0)
            slow.release.set()
            assert (await first).status_code == 200
        assert (limiter.in_flight, limiter.waiting) == (0, 0)

    asyncio.run(run())


def test_waiters_are_served_in_turn_when_slots_free_up() -> None:
    async def run() -> None:
        slow = SlowApp()
        limiter = AnswerLimitMiddleware(slow, max_in_flight=1, max_queued=10, queue_timeout_s=30)
        async with _client(limiter) as client:
            tasks = [asyncio.create_task(client.post("/api/ask", json={})) for _ in range(8)]
            await _settle(limiter, in_flight=1, waiting=7)
            slow.release.set()
            assert [r.status_code for r in await asyncio.gather(*tasks)] == [200] * 8
        assert slow.peak == 1
        assert (limiter.in_flight, limiter.waiting, limiter.shed) == (0, 0, 0)

    asyncio.run(run())


@pytest.mark.parametrize(
    ("name", "value"), [("max_concurrent_answers", "0"), ("max_queued_answers", "-1"), ("queue_timeout_s", "0")]
)
def test_bad_limit_settings_are_refused_in_french(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"REPERES_{name.upper()}"):
        Settings.from_env({f"REPERES_{name.upper()}": value})


def test_the_api_sheds_answers_past_its_settings(settings: Settings, keyword_embeddings: Any) -> None:
    """Wired into create_app: one answer at a time and no queue, so a second concurrent question gets the 503."""
    import threading
    from dataclasses import replace

    from assistant.api import create_app
    from assistant.service import Assistant

    assistant = Assistant(replace(settings, max_concurrent_answers=1, max_queued_answers=0), embeddings=keyword_embeddings)
    assistant.ingest()
    answering, release = threading.Event(), threading.Event()
    real_ask = assistant.ask

    def slow_ask(*args: Any, **kwargs: Any) -> Any:
        answering.set()
        release.wait(10)
        return real_ask(*args, **kwargs)

    assistant.ask = slow_ask  # type: ignore[method-assign]
    app = create_app(assistant, mount_ui=False)

    async def run() -> None:
        async with _client(app) as client:
            first = asyncio.create_task(client.post("/api/ask", json={"question": "quelle action pour un jeune ?"}))
            while not answering.is_set():
                await asyncio.sleep(0.01)
            second = await client.post("/api/ask", json={"question": "quelle action pour un jeune ?"})
            assert second.status_code == 503
            assert second.headers["retry-after"] == "2"
            assert second.json()["detail"] == BUSY_DETAIL
            assert (await client.get("/api/health")).status_code == 200  # not queued behind the answer
            release.set()
            assert (await first).status_code == 200

    asyncio.run(run())
