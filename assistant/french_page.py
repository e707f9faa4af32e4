"""The chat page in French whatever the browser's language (an ASGI middleware on the page's HTML).

Gradio's frontend picks its language from ``navigator.language`` when the page starts and has no setting
for it; its page says ``<html lang="en">``. A counsellor's browser may be in English, and a screen reader
reads the page in the language it declares. So the page's HTML is served with ``lang="fr"`` and, first
thing in its ``<head>``, a script that makes ``navigator.language`` read "fr-FR" before Gradio's bundle
runs (a ``head=`` script of Gradio's comes too late: it is inserted after load).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_ASGI = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

FRENCH_FIRST = (
    b"<script>(function(){var d=function(n,v){try{Object.defineProperty(Navigator.prototype,n,"
    b'{get:function(){return v},configurable:true})}catch(e){}};d("language","fr-FR");d("languages",["fr-FR","fr"]);})();'
    b"</script>"
)


def in_french(html: bytes) -> bytes:
    """The page's HTML declared French, with the language script first in its head."""
    return html.replace(b'lang="en"', b'lang="fr"', 1).replace(b"<head>", b"<head>" + FRENCH_FIRST, 1)


class FrenchPageMiddleware:
    """Rewrites the HTML of the chat page (``GET`` of ``paths``) with ``in_french``; every other response
    passes untouched (streamed as it comes)."""

    def __init__(self, app: _ASGI, paths: tuple[str, ...] = ("/",)) -> None:
        self.app, self.paths = app, frozenset(paths)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        start: _Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: _Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message  # held until the body is known: its length changes
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = dict(start["headers"])
            if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                body = in_french(body)
                start["headers"] = [(k, str(len(body)).encode() if k == b"content-length" else v) for k, v in start["headers"]]
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)
