"""Assistant: the retrieval chain, answers with citations, the CLI and the web chat."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.chain import build_chain
    from assistant.records import Answer, Citation, Retrieved
    from assistant.service import Assistant
    from assistant.settings import Settings

# Loaded on first use: importing one module of the package (`reperes` starts its question prefetch
# from assistant.launch) must not import all of them (LangChain, FAISS, bm25s: most of a second).
_EXPORTS = {
    "build_chain": "assistant.chain",
    "Answer": "assistant.records",
    "Citation": "assistant.records",
    "Retrieved": "assistant.records",
    "Assistant": "assistant.service",
    "Settings": "assistant.settings",
}
__all__ = ["Answer", "Assistant", "Citation", "Retrieved", "Settings", "build_chain"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
