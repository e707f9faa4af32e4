"""The assistant as a library: settings in, answers out. The CLI and the web app are thin faces over it.

Heavy parts (embedding model, index) load on first use and are shared by all callers of one
``Assistant`` (thread-safe), so a batch or a web server loads them once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.chain import build_chain, build_stream
from assistant.compose import ComposingAnswerer
from assistant.inputs import check_question
from assistant.records import Answer
from assistant.settings import Settings
from index.build import BuildReport, Progress, build_index
from index.embeddings import PrefetchedEmbeddings, make_embeddings, model_fingerprint
from index.fusion import FusionParams
from index.intent import KindClassifier
from index.lexical import lexical_index
from index.modes import RETRIEVAL_MODES, make_retriever
from index.prefetch import QuestionPrefetch
from index.query import Filters
from index.records import IndexStore
from index.reload import Identity, index_version, manifest_identity
from index.store import FaissStore, IndexNotReady
from ingest.loaders import file_size_limit

# Configurations an evaluation can compare (`reperes eval --compare`): the retrieval modes for now.
CONFIGURATIONS = RETRIEVAL_MODES

log = logging.getLogger(__name__)


class Assistant:
    """Answers questions on the indexed corpus described by ``settings``."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._store: IndexStore | None = None  # a FaissStore, or a PgStore (REPERES_STORE=pgvector)
        self._identity: Identity | None = None  # manifest of the loaded store (refresh_index)
        self._answerer: Any = None
        self._classifier: KindClassifier | None = None
        self._lock = threading.RLock()
        self._model_loading: threading.Thread | None = None  # load()'s model thread

    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            with self._lock:
                if self._embeddings is None:
                    s = self.settings
                    self._embeddings = make_embeddings(s.embed_model, s.home, s.query_prompt, s.passage_prompt)
        return self._embeddings

    @property
    def model_id(self) -> str:
        return model_fingerprint(self.settings.embed_model)

    def ingest(self, force: bool = False, progress: Progress | None = None) -> BuildReport:
        """Build the index of the corpus if missing or stale (or always, with ``force``): only the passages
        whose text changed are embedded (the embedding cache of ``settings.index_cache_dir``)."""
        s = self.settings
        with file_size_limit(s.max_corpus_file_bytes):
            report = build_index(
                s.corpus, s.index_dir, self.embeddings, self.model_id, force=force, cache=s.index_cache_dir, progress=progress
            )
        if report.rebuilt:
            self._store = None
        return report

    def refresh_index(self) -> bool:
        """Switch to the index on disk if it is not the one loaded (a new `reperes ingest` published it).

        The new store is loaded and checked whole (and its BM25 built) before one reference is swapped:
        an answer running meanwhile finishes on the store it started with (``chain`` binds it), the next
        one starts on the new. A damaged or half-published index is logged and the loaded one kept.
        Returns False when the index changed again during the load (call again), else True."""
        folder = self.settings.index_dir
        seen = manifest_identity(folder)
        if self.settings.store != "faiss":
            return True  # PostgreSQL: a new copy (`reperes migrate`) is loaded at the next start
        if seen is None or seen == self._identity or self._store is None:
            return True  # nothing published (or mid-swap), nothing new, or nothing loaded yet (loads lazily)
        try:
            store = FaissStore.load(folder)
            lexical_index(store)  # built now, not by the first question after the switch
        except IndexNotReady as exc:
            if manifest_identity(folder) != seen:
                return False  # replaced while we read it: try the newer one
            log.warning("Nouvel index refusé, l'index chargé reste servi : %s", exc)
            self._identity = seen
            return True
        if manifest_identity(folder) != seen:
            return False  # replaced during the load: the store may mix two publications
        if store.manifest.embed_model != self.model_id:  # its vectors would not compare with our questions'
            log.warning(
                "Nouvel index refusé : construit avec le modèle %s, ce serveur utilise %s.",
                store.manifest.embed_model,
                self.model_id,
            )
            self._identity = seen
            return True
        with self._lock:
            previous, self._store, self._identity = self._store, store, seen
        log.warning(
            "Index rechargé : version %s (%d passages), à la place de %s.",
            index_version(store.manifest),
            len(store),
            index_version(previous.manifest),
        )
        return True

    @property
    def loaded_store(self) -> IndexStore | None:
        """The index if already loaded, else None: never reads the disk (for /api/health under load)."""
        return self._store

    @property
    def store(self) -> IndexStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    identity = manifest_identity(self.settings.index_dir)  # before the load: a newer one is seen
                    if self.settings.store == "pgvector":  # shared by the instances (index/pgstore.py)
                        from index.pgstore import PgStore

                        self._store = PgStore.load(self.settings.pg_dsn, self.embeddings)
                    else:
                        self._store = FaissStore.load(self.settings.index_dir)
                    self._identity = identity
        return self._store

    @property
    def answerer(self) -> Any:
        """The composing answerer, or the configured LLM (built once; its facts are grounding-checked)."""
        return self._answerer_of(self.store)

    def _answerer_of(self, store: IndexStore) -> Any:
        """The answerer reading ``store`` (built once per loaded index: a reload builds the next one)."""
        bound = self._answerer
        if bound is None or bound[0] is not store:
            with self._lock:
                bound = self._answerer
                if bound is None or bound[0] is not store:
                    s = self.settings
                    if s.llm:
                        from assistant.llm import LLMAnswerer, make_chat_model

                        model = make_chat_model(
                            s.llm,
                            s.llm_base_url or None,
                            s.llm_model or None,
                            s.llm_api_key or None,
                            s.llm_gguf or None,
                            timeout_s=s.llm_timeout_s,
                            retries=s.llm_retries,
                        )
                        # An endpoint down, silent or failing: the composed answer, with a notice.
                        answerer: Any = LLMAnswerer(model, s.llm_passages, fallback=self._composer(store))
                    else:
                        answerer = self._composer(store)
                    bound = self._answerer = (store, answerer)
        return bound[1]

    def _composer(self, store: IndexStore | None = None) -> ComposingAnswerer:
        """The composing answerer, reading word frequencies and the action catalogue from ``store`` (default:
        this assistant's loaded index, whichever it is when read), and the kind of a question no phrase list
        reads from the nearest example questions."""

        def index() -> IndexStore:
            return store if store is not None else self.store

        return ComposingAnswerer(
            frequency=lambda stem: lexical_index(index()).document_frequency(stem),
            spelled=lambda stem: lexical_index(index()).spelled(stem),
            actions=lambda: index().actions_by_id,
            classifier=lambda: self.classifier,
        )

    @property
    def classifier(self) -> KindClassifier:
        """The question-kind classifier over this assistant's embedder (its examples embedded once, lazily)."""
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    self._classifier = KindClassifier(self.embeddings)
        return self._classifier

    @property
    def fusion_params(self) -> FusionParams:
        # Every fusion parameter the settings carry (REPERES_RRF_K, …); the others keep their default.
        return FusionParams(
            **{f.name: getattr(self.settings, f.name) for f in fields(FusionParams) if hasattr(self.settings, f.name)}
        )

    def use_prefetch(self, prefetch: QuestionPrefetch) -> None:
        """Answer the questions ``prefetch`` embedded from it (a one-question `reperes ask`: ``assistant.launch``);
        any other text goes to the model as before."""
        self._embeddings = PrefetchedEmbeddings(self.embeddings, prefetch)

    def load(self, model: bool = True) -> float:
        """Load the index now and the model beside it; returns the seconds spent on the index. What one question
        needs and no more: a single `reperes ask` pays only this (the rest loads on first use, if that question
        uses it).

        The model loads in a thread, beside BM25 and the first question's analysis tables: ONNX Runtime builds
        its session (0.2 s) without holding the GIL, though the tokenizer (about a second) holds it, which is why
        a one-question `reperes ask` embeds its question in another process instead (``index.prefetch``). The
        question's own ``embed_query`` waits for the model on the encoder's lock. A failure there is
        raised again, in French, by that ``embed_query``. ``model`` False: not the model (a question prefetched
        by another process needs none; it loads on first use if another text needs it)."""
        start = time.perf_counter()
        if model:
            self._model_loading = threading.Thread(target=self._load_model, name="reperes-model")
            self._model_loading.start()
        lexical_index(self.store)  # loads the index and builds BM25
        return time.perf_counter() - start

    def _load_model(self) -> None:
        try:
            self.embeddings.embed_query("préchauffage")
        except Exception as exc:  # said to the user by the question's own embed_query
            log.debug("model preload failed: %s", exc)

    def wait_loaded(self) -> None:
        """Wait for the model ``load`` started (nothing to wait for when it was not called)."""
        if self._model_loading is not None:
            self._model_loading.join()

    def warm_up(self) -> float:
        """Load everything a first answer would load (for a server: not during a counsellor's first question);
        returns the seconds spent."""
        start = time.perf_counter()
        self.load()
        self.wait_loaded()
        # One question through the whole chain: what loads on first use (the question-kind classifier's
        # examples, the vocabulary, the spelling lexicon, the catalogue) loads now. The first counsellor's
        # answer took 1.4 s instead of 0.15 s without it.
        for question in ("Quelle action pour un jeune de 17 ans sans emploi à Lille ?", "Combien coûte cette formation ?"):
            self.ask(question)  # a person's question, and a fact's (the slot readers)
        # The classifier is asked only when no phrase reads a question's kind (not by those two): its examples
        # are embedded now, or the first such question waits 1.6 s for them.
        self.classifier.matrix  # noqa: B018 - a property that loads
        return time.perf_counter() - start

    def chain(self, k: int | None = None, config: str | None = None, streaming: bool = False) -> Any:
        """The retrieval chain for a configuration name (default: the settings' retrieval mode);
        ``streaming``: the chat's chain, whose ``.stream()`` yields the text as written, then the Answer."""
        mode = config or self.settings.retrieval
        store = self.store  # read once: an index swapped in meanwhile (refresh_index) serves the next answer
        retriever = make_retriever(mode, store, self.embeddings, k or self.settings.top_k, self.fusion_params)
        # A follow-up ("tu as un contact ?") replays the previous question to learn what it is about:
        # the composer does it in a millisecond, where an LLM would cost a second call.
        return (build_stream if streaming else build_chain)(retriever, self._answerer_of(store), referee=self._composer(store))

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: list[str] | None = None,
        config: str | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """Answer one question; ``k`` passages are retrieved (default ``settings.top_k``).

        ``history`` holds the counsellor's earlier questions, oldest first: a follow-up ("et s'il a 19
        ans ?") keeps their person and subject. ``config`` is one of ``CONFIGURATIONS``. ``filters``
        (the chat's panel: commune, age, territory) completes what the question says about the person.
        Raises InputError (a ValueError, French) for a question or history past the settings' limits.
        """
        check_question(question, history, self.settings)  # before any analysis: its cost grows with the length
        start = time.perf_counter()
        answer: Answer = self.chain(k, config).invoke({"question": question, "history": list(history or []), "filters": filters})
        answer.timings_ms["total"] = (time.perf_counter() - start) * 1000
        return answer

    def stream(
        self, question: str, history: list[str] | None = None, filters: Filters | None = None, k: int | None = None
    ) -> Iterator[str | Answer]:
        """Like ``ask``, for the chat: the answer's new text as it is written, then the ``Answer``."""
        check_question(question, history, self.settings)
        start = time.perf_counter()
        request = {"question": question, "history": list(history or []), "filters": filters}
        for item in self.chain(k, streaming=True).stream(request):
            if isinstance(item, Answer):
                item.timings_ms["total"] = (time.perf_counter() - start) * 1000
            yield item
