"""BM25 over the chunks with French analysis (accent folding, stop words, Snowball stemming).

bm25s does the scoring (sparse matrices: well under a millisecond per query at 10k chunks); the
analysis is ours so that questions and passages are folded and stemmed exactly alike. The index is
built in memory from the store's chunks when first needed (a few hundred milliseconds at 10k chunks),
once per process, whatever holds them (a FaissStore, or a PgStore's chunks read from PostgreSQL).
``LexicalSearch`` is the interface the hybrid retriever and the composer use.
"""

from __future__ import annotations

import difflib
import re
import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr, SkipValidation

from index.documents import hit_to_document
from index.records import Records
from index.store import Hit
from ingest.records import Chunk
from ingest.text import fold_words

_TOKEN = re.compile(r"\w+")


@cache
def _analysis() -> tuple[frozenset[str], Any]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_FRENCH

    return frozenset(fold_words(w) for w in STOPWORDS_FRENCH), Stemmer.Stemmer("french")


def analyse_text(text: str) -> list[str]:
    """Folded, stop-word-free, stemmed tokens ("Décrocheurs de 16 ans" -> ["decrocheur", "16", "an"])."""
    stopwords, stemmer = _analysis()
    words = [w for w in _TOKEN.findall(fold_words(text)) if w not in stopwords and (len(w) > 1 or w.isdigit())]
    return list(stemmer.stemWords(words))


# A document of at most this many passages (a press release, a one-page note) tells one story.
SHORT_DOCUMENT = 8


def indexed_text(chunk: Chunk, short_document: bool = False) -> str:
    """What BM25 sees of a chunk: its title, text and the metadata a counsellor names (porteur, communes);
    in a short document, also the document's title: its paragraphs share one subject, which the first
    names and the others leave implied ("… pour près de 2 millions d'euros" under a title on the PIA)."""
    meta = chunk.metadata
    extra = [meta.get("porteur") or "", meta.get("theme") or "", meta.get("action") or "", " ".join(meta.get("communes") or [])]
    document = [meta.get("document") or ""] if short_document and meta.get("document") != chunk.title else []
    return "\n".join([chunk.title, chunk.text, *extra, *document])


class LexicalSearch(Protocol):
    """The lexical side of retrieval: what the hybrid retriever searches and the composer asks about words."""

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (only chunks sharing a term with it), best first."""
        ...

    def document_frequency(self, stem: str) -> float:
        """Share of the chunks whose analysed text holds ``stem``."""
        ...

    def spelled(self, stem: str) -> bool:
        """The chunks hold ``stem``, or a stem spelled nearly so."""
        ...


class LexicalIndex:
    """BM25 scores of the chunks of a store."""

    def __init__(self, chunks: Sequence[Chunk], k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s

        self.chunks = list(chunks)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        sizes = Counter(c.source for c in chunks)
        corpus = [analyse_text(indexed_text(c, sizes[c.source] <= SHORT_DOCUMENT)) or ["∅"] for c in chunks]
        self._bm25.index(corpus, show_progress=False)
        self._vocab: dict[str, int] = self._bm25.vocab_dict

    def document_frequency(self, stem: str) -> float:
        """Share of the chunks whose analysed text holds ``stem``."""
        column = self._vocab.get(stem)
        if column is None or not self.chunks:
            return 0.0
        indptr = self._bm25.scores["indptr"]  # bm25s keeps one column of scores per term
        return float(indptr[column + 1] - indptr[column]) / len(self.chunks)

    def spelled(self, stem: str) -> bool:
        """The chunks hold ``stem``, or a stem spelled nearly so (a typo: "decrocheurr", "aprentissage")."""
        # (A short stem a letter away from another is often another word: "tarot" is not "start".)
        cutoff = 0.9 if len(stem) <= 6 else 0.85
        return stem in self._vocab or bool(difflib.get_close_matches(stem, self._vocab, n=1, cutoff=cutoff))

    def _known(self, token: str) -> list[str]:
        """``token`` when the chunks hold it; else the word an elision glued to it hides ("lemploi", "dinsertion",
        typed without the apostrophe), when the chunks hold that; else nothing."""
        if token in self._vocab:
            return [token]
        glued = re.match(r"(?:qu|[ldjnsmt])(?=[aeiouyh])(.{3,})$", token)
        if glued:
            rest = analyse_text(glued.group(1))
            if rest and rest[0] in self._vocab:
                return rest[:1]
        return []

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (only chunks sharing a term with it), best first."""
        tokens = [w for t in analyse_text(query) for w in self._known(t)]
        if not tokens or not self.chunks:
            return []
        scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)[: min(k, len(self.chunks))]
        return [Hit(self.chunks[i], float(scores[i]), rank) for rank, i in enumerate(order, 1) if scores[i] > 0]


_CACHE: weakref.WeakKeyDictionary[Records, LexicalIndex] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def lexical_index(store: Records) -> LexicalIndex:
    """The BM25 index of the chunks of ``store`` (a FaissStore, a PgStore: any ``Records``), built once per store
    object and dropped with it (thread-safe)."""
    index = _CACHE.get(store)
    if index is None:
        with _LOCK:
            index = _CACHE.get(store)
            if index is None:
                index = _CACHE[store] = LexicalIndex(store.chunks)
    return index


class BM25Retriever(BaseRetriever):
    """The ``k`` chunks with the best BM25 score for the question (French analysis)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: SkipValidation[Records]  # the chunks
    # The lexical search; default: BM25 over the store's chunks, built once per store (``lexical_index``).
    lexical: SkipValidation[LexicalSearch | None] = None
    k: int = Field(default=10, ge=1)
    _index: LexicalSearch | None = PrivateAttr(default=None)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        if self._index is None:
            self._index = self.lexical or lexical_index(self.store)
        docs = [hit_to_document(h) for h in self._index.search(query, k)]
        for doc in docs:
            doc.metadata["lexical_rank"] = doc.metadata.pop("dense_rank")
        return docs
