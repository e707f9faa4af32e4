"""The chunk and action records a retriever reads beside its vector search, whatever store holds them.

Retrieval needs three things of an index: a dense search (a LangChain ``VectorStore``, ``index.vectorstore``),
a lexical search (``index.lexical.LexicalSearch``) and the records below: the chunks in index order, the action
catalogue, and the lookups built over them. ``FaissStore`` (``index.store``) is one such record holder; ``PgStore``
(``index.pgstore``) another, read from PostgreSQL. ``RecordSet`` is the plain in-memory implementation a store
that is not a ``FaissStore`` builds on, and ``FaissStore``'s own base: it lives in ``index.store`` (the store
module imports nothing of this one) and is re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from index.store import RecordSet, parts_by_action
from ingest.records import Action, Chunk

if TYPE_CHECKING:
    import numpy as np

    from index.store import Hit, Manifest

__all__ = ["IndexStore", "RecordSet", "Records", "parts_by_action"]


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
