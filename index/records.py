"""The chunk and action records a retriever reads beside its vector search, whatever store holds them.

Retrieval needs three things of an index: a dense search (a LangChain ``VectorStore``, ``index.vectorstore``),
a lexical search (``index.lexical.LexicalSearch``) and the records below: the chunks in index order, the action
catalogue, and the lookups built over them. ``FaissStore`` (``index.store``) is one such record holder; ``PgStore``
(``index.pgstore``) another, read from PostgreSQL. ``RecordSet`` is the plain in-memory implementation a store
that is not a ``FaissStore`` builds on, with the same lookups as ``FaissStore``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from ingest.records import Action, Chunk

if TYPE_CHECKING:
    import numpy as np

    from index.store import Hit, Manifest


class Records(Protocol):
    """The chunks and actions of an index, and the lookups retrieval and the composer use."""

    @property
    def chunks(self) -> list[Chunk]: ...  # in index order (BM25 breaks ties by it)

    @property
    def actions(self) -> list[Action]: ...

    @property
    def manifest(self) -> Manifest: ...

    @property
    def by_id(self) -> dict[str, Chunk]: ...

    @property
    def actions_by_id(self) -> dict[str, Action]: ...

    @property
    def parts_by_action(self) -> dict[str, tuple[Chunk, ...]]: ...

    def action_of(self, chunk: Chunk) -> Action | None: ...


class IndexStore(Records, Protocol):
    """Records with their own dense search by vector, as ``FaissStore.search``: what the assistant loads
    (``Assistant.store``) and what the evaluation's tuning and latency tools search directly."""

    def search(self, vector: list[float] | np.ndarray, k: int) -> list[Hit]: ...


def parts_by_action(chunks: Sequence[Chunk]) -> dict[str, tuple[Chunk, ...]]:
    """The chunks of each catalogue action, in document order (a long table row is several chunks).

    The same grouping as ``FaissStore.parts_by_action`` (tests/test_pgstore.py checks both agree)."""
    parts: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        # A table row holding several actions is a part of each (``action_ids``).
        for action_id in chunk.metadata.get("action_ids") or (
            [chunk.metadata["action_id"]] if chunk.metadata.get("action_id") else []
        ):
            parts.setdefault(action_id, []).append(chunk)
    return {action_id: tuple(found) for action_id, found in parts.items()}


class RecordSet:
    """Chunks, actions and manifest held in memory, with the lookups built once on first use."""

    def __init__(self, chunks: Sequence[Chunk], actions: Sequence[Action], manifest: Manifest) -> None:
        self.chunks: list[Chunk] = list(chunks)
        self.actions: list[Action] = list(actions)
        self.manifest = manifest

    def __len__(self) -> int:
        return len(self.chunks)

    @cached_property
    def by_id(self) -> dict[str, Chunk]:
        return {c.id: c for c in self.chunks}

    @cached_property
    def actions_by_id(self) -> dict[str, Action]:
        return {a.id: a for a in self.actions}

    @cached_property
    def parts_by_action(self) -> dict[str, tuple[Chunk, ...]]:
        return parts_by_action(self.chunks)

    def action_of(self, chunk: Chunk) -> Action | None:
        action_id = chunk.metadata.get("action_id")
        return self.actions_by_id.get(action_id) if action_id else None
