"""`reperes bench` (`make bench`): what the pipeline costs, beside the textbook LangChain pipeline.

On the bundled corpus, ours and the textbook pipeline (``RecursiveCharacterTextSplitter(1000, 200)``, the same
embedder, ``langchain_community`` FAISS, ``similarity_search``) measured in the same run: ingest, embedding
throughput, index build, cold start (a new process until its answer), retrieval and answer p50/p95 (medians over
``repeats`` runs of the development questions) and peak RSS; then, per synthetic size (10k, 100k, 1M chunks), the
search path of a store of that size: the FAISS index the store chooses (built by ``FaissStore`` itself), its
recall@10 against exact search, the BM25 index and the fusion — each size in its own process so that its peak RSS
is its own. Synthetic chunks recombine the corpus's chunks (text: two chunks glued; vector: their two real
vectors plus noise, normalised): the table says which figures use synthetic vectors. A benchmark prints numbers
(a table, and ``out/bench/bench.json`` written atomically); no test asserts on time.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, overload

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.service import Assistant
from assistant.settings import REPO_ROOT, Settings
from eval.dataset import load_set
from eval.metrics import percentile
from index.atomic import write_text_atomic
from index.build import CHUNKER_ID, load_records
from index.embeddings import SentenceTransformerEmbeddings
from index.memo import forget_questions
from index.store import FORMAT_VERSION, FaissStore, Manifest, index_kind
from ingest.records import Chunk

DEV_SET = Path(__file__).parent / "data" / "dev.jsonl"
DEFAULT_OUT = REPO_ROOT / "out" / "bench" / "bench.json"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_REPEATS = 3
# Synthetic texts are this many distinct pairs of corpus chunks, repeated: analysing a text costs about
# 1.3 ms (100k distinct texts would be minutes of the 10-minute budget), so the analysis is cached per
# distinct text while BM25 indexes every chunk (said in the table).
DISTINCT_TEXTS = 10_000
# Above this many chunks BM25 is built on a random sample of this size (bm25s's index at 1M chunks of
# ~200 tokens is minutes and GBs): the dense search is over every chunk, the lexical one is not (said).
LEXICAL_SAMPLE = 100_000
NOISE = 0.035  # per dimension: the noise is ~0.7 in norm, about half of the pair's sum
TEXTBOOK_CHUNK_SIZE, TEXTBOOK_OVERLAP = 1000, 200
EMBED_SAMPLE = 96  # passages of ours embedded to measure throughput
METRICS = (
    "ingest_s",
    "full_ingest_s",
    "embed_per_s",
    "build_s",
    "cold_ask_s",
    "retrieval_p50_ms",
    "retrieval_p95_ms",
    "answer_p50_ms",
    "answer_p95_ms",
    "peak_rss_mb",
)


@dataclass(frozen=True)
class Row:
    """One line of the table: a pipeline on a corpus. ``None``: not measured there (``notes`` says why)."""

    pipeline: str  # "reperes", "textbook", "synthetic"
    corpus: str  # "bundled" or the synthetic size ("10k"…)
    chunks: int
    faiss_index: str
    vectors: str  # "real" or "synthetic"
    ingest_s: float | None = None
    full_ingest_s: float | None = None  # read, chunk, embed every passage, write the index (ours: a new process)
    unchanged_ingest_s: float | None = None  # `reperes ingest` again, nothing changed (a new process)
    embed_per_s: float | None = None
    build_s: float | None = None
    cold_ask_s: float | None = None
    retrieval_p50_ms: float | None = None
    retrieval_p95_ms: float | None = None
    answer_p50_ms: float | None = None
    answer_p95_ms: float | None = None
    peak_rss_mb: float | None = None
    recall_at_10: float | None = None
    index_mb: float | None = None
    index_load_ms: float | None = None
    dense_p50_ms: float | None = None
    lexical_chunks: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchReport:
    rows: tuple[Row, ...]
    ratios: dict[str, float | None]  # ours / textbook, same run
    targets: dict[str, dict[str, Any]]
    repeats: int
    questions: int
    seconds: float
    created: str
    cpus: int = field(default_factory=lambda: os.cpu_count() or 0)
    # ours / the textbook's dense search with our question encoder: for information, not a target
    ratios_to_textbook_with_our_encoder: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def median_of(runs: list[float]) -> float:
    return float(statistics.median(runs))


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM (peak resident set) of a process, in MB; None when /proc cannot tell.

    Not ``wait4``'s ``ru_maxrss``: on Linux it counts the parent's pages the child had between fork and exec,
    so a child of a 2 GB bench reported 2 GB. VmHWM belongs to the program the child runs."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc; empty elsewhere)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        pass
    return found


def timed_process(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float | None, str]:
    """Run ``cmd`` to its end: (wall seconds, peak RSS in MB, stdout). Raises on failure.

    The peak is read from /proc every 20 ms while the process runs (VmHWM only grows; once it exits it is gone):
    the process's own, plus the peak of each child it starts (`reperes ask`'s question prefetch), summed as if
    they peaked together: the figure is never below what the command held at once."""
    start = time.perf_counter()
    peaks: dict[int, float] = {}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        while proc.poll() is None:
            for pid in [proc.pid, *_children(proc.pid)]:
                if (rss := peak_rss_mb(pid)) is not None:
                    peaks[pid] = max(rss, peaks.get(pid, 0.0))
            time.sleep(0.02)
        peak = round(sum(peaks.values()), 1) if peaks else None
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… a échoué (code {proc.returncode}) : {stderr.strip()[-500:]}")
    return seconds, peak, stdout


def _latencies(values_per_run: list[list[float]]) -> tuple[float, float]:
    """(p50, p95) of each run, then the median of the runs."""
    p50 = median_of([statistics.median(v) for v in values_per_run])
    p95 = median_of([percentile(v, 0.95) for v in values_per_run])
    return round(p50, 2), round(p95, 2)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("reperes")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "assistant.cli"]


# --------------------------------------------------------------------------------------------
# The bundled corpus: ours and the textbook pipeline
# --------------------------------------------------------------------------------------------


def bench_ours(
    assistant: Assistant, questions: list[str], repeats: int, cold: bool, tick: Callable[[str], None]
) -> tuple[Row, np.ndarray, list[Chunk]]:
    """Our pipeline on the bundled corpus; returns its row, the chunks' real vectors and the chunks."""
    settings = assistant.settings
    assistant.ingest()  # the cold `ask` below must find a current index
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        chunks, actions, _ = load_records(settings.corpus)
        runs.append(time.perf_counter() - start)
    ingest_s = median_of(runs)
    tick("nos passages : embedding")
    # Throughput on a fixed sample (embedding every passage again would be minutes of the budget); the vectors
    # are those the index holds, computed by the same embedder at ingest (exact index: read back as they are).
    sample = [c.text for c in chunks[:: max(1, len(chunks) // EMBED_SAMPLE)]][:EMBED_SAMPLE]
    start = time.perf_counter()
    assistant.embeddings.embed_documents(sample)
    embed_per_s = len(sample) / (time.perf_counter() - start)
    store = assistant.store
    if isinstance(store, FaissStore):
        vectors = _index_vectors(store, chunks)
    else:  # another backend (pgvector): embed them here
        vectors = np.asarray(assistant.embeddings.embed_documents([c.text for c in chunks]), dtype=np.float32)
    tick("nos passages : index")
    manifest = Manifest(
        FORMAT_VERSION, "bench", CHUNKER_ID, "bench", int(vectors.shape[1]), len(chunks), index_kind(len(chunks)), ""
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="reperes-bench-") as tmp:
        for n in range(repeats):
            start = time.perf_counter()
            FaissStore(chunks, vectors, manifest, actions).save(Path(tmp) / f"index-{n}")
            runs.append(time.perf_counter() - start)
    build_s = median_of(runs)
    tick("nos réponses")
    assistant.warm_up()
    retrieve: list[list[float]] = []
    answer: list[list[float]] = []
    for _ in range(repeats):
        timings = [_fresh_ask(assistant, q) for q in questions]
        retrieve.append([t["retrieve"] for t in timings])
        answer.append([t["total"] for t in timings])
    notes = [
        f"emb./s sur {len(sample)} passages (vecteurs : ceux de l'index)",
        "index : FaissStore + écriture atomique (sommes de contrôle, fsync)",
        "réponse : composée, sans LLM",
    ]
    cold_s = rss = full_s = unchanged_s = None
    if cold:
        tick("ingest complet (nouveau processus)")
        full_s, unchanged_s = _full_ingest(settings, repeats)
        notes.append(
            "ingest complet : `reperes ingest --force` dans un nouveau processus (modèle chargé, tous les passages "
            "encodés, index écrit) ; inchangé : `reperes ingest` ensuite"
        )
        tick("démarrage à froid de `reperes ask`")
        runs, peaks = [], []
        for n in range(repeats):
            seconds, peak, _ = timed_process([*_cli(), "ask", questions[n % len(questions)]])
            runs.append(seconds)
            peaks.append(peak)
        cold_s, rss = median_of(runs), max((p for p in peaks if p is not None), default=None)
        notes.append("RSS : pics de `reperes ask` et de son processus qui encode la question, additionnés")
    else:
        notes.append("démarrage à froid et RSS non mesurés (embedder de test)")
    r50, r95 = _latencies(retrieve)
    a50, a95 = _latencies(answer)
    row = Row(
        "reperes",
        "bundled",
        len(chunks),
        manifest.faiss_index,
        "real",
        ingest_s=round(ingest_s, 3),
        full_ingest_s=None if full_s is None else round(full_s, 2),
        unchanged_ingest_s=None if unchanged_s is None else round(unchanged_s, 2),
        embed_per_s=round(embed_per_s, 2),
        build_s=round(build_s, 4),
        cold_ask_s=None if cold_s is None else round(cold_s, 2),
        retrieval_p50_ms=r50,
        retrieval_p95_ms=r95,
        answer_p50_ms=a50,
        answer_p95_ms=a95,
        peak_rss_mb=rss,
        notes=tuple(notes),
    )
    return row, vectors, chunks


def _fresh_ask(assistant: Assistant, question: str) -> dict[str, float]:
    """The timings of one answer to ``question`` read afresh: the memos of questions already read are dropped
    (``index.memo``), or the second and third runs would time a lookup instead of the question's reading."""
    forget_questions()
    return assistant.ask(question).timings_ms


def _full_ingest(settings: Settings, repeats: int) -> tuple[float, float]:
    """(full, unchanged) ingest seconds, medians of new `reperes ingest` processes in a scratch data home that
    shares the converted model (converting it is setup, not ingest) and starts without index or embedding cache."""
    runs, unchanged = [], []
    with tempfile.TemporaryDirectory(prefix="reperes-bench-home-") as tmp:
        (Path(tmp) / "models").symlink_to(settings.home / "models", target_is_directory=True)
        env = {**os.environ, "REPERES_HOME": tmp}
        for _ in range(repeats):
            runs.append(timed_process([*_cli(), "ingest", "--force", "--no-progress"], env=env)[0])
            unchanged.append(timed_process([*_cli(), "ingest", "--no-progress"], env=env)[0])
    return median_of(runs), median_of(unchanged)


def _index_vectors(store: FaissStore, chunks: list[Chunk]) -> np.ndarray:
    """The vectors of ``chunks`` as the store holds them (reconstructed from its FAISS index)."""
    row = {c.id: i for i, c in enumerate(store.chunks)}
    index = store._index
    if not chunks or any(c.id not in row for c in chunks):  # cannot happen after ingest; said if it does
        raise RuntimeError("l'index ne correspond pas aux passages du corpus : lancez `reperes ingest`")
    return np.stack([index.reconstruct(row[c.id]) for c in chunks]).astype(np.float32)


def _textbook_documents(corpus: Path) -> list[Any]:
    """The textbook load and split: each file's text as one Document, cut by the recursive splitter."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.loaders import corpus_files, load_corpus

    files = corpus_files(corpus)
    if all(f.suffix.lower() in (".txt", ".md") for f in files):  # the textbook's TextLoader, file by file
        from langchain_community.document_loaders import TextLoader

        docs = [doc for f in files for doc in TextLoader(str(f), encoding="utf-8").load()]
    else:  # PDFs, Word or HTML: our loaders' text (no textbook loader reads them all alike)
        docs = [Document(page_content=d.text, metadata={"source": d.source}) for d in load_corpus(corpus)[0]]
    splitter = RecursiveCharacterTextSplitter(chunk_size=TEXTBOOK_CHUNK_SIZE, chunk_overlap=TEXTBOOK_OVERLAP)
    return splitter.split_documents(docs)


class TextbookEmbeddings(Embeddings):
    """Our model, called the way LangChain's ``HuggingFaceEmbeddings`` calls a sentence-transformers model:
    ``encode`` with each side's e5 prompt (its ``encode_kwargs`` / ``query_encode_kwargs``), normalised; no ONNX
    question encoder, no single-text shortcut. The same weights object as ours (loaded once). Why not the package
    itself: langchain-huggingface pins huggingface_hub < 2, and transformers 5 here runs on huggingface_hub 2."""

    def __init__(self, model: Any, query_prompt: str, passage_prompt: str) -> None:
        self.model, self.query_prompt, self.passage_prompt = model, query_prompt, passage_prompt

    def _encode(self, texts: list[str], prompt: str) -> list[list[float]]:
        vectors = self.model.encode(
            list(texts), prompt=prompt, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return [[float(x) for x in row] for row in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, self.passage_prompt)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], self.query_prompt)[0]


def textbook_embeddings(embeddings: Embeddings) -> Embeddings:
    """The textbook's embedder for ours: the same sentence-transformers model called as LangChain does; any other
    embedder (the tests' fake) as it is."""
    if isinstance(embeddings, SentenceTransformerEmbeddings):
        return TextbookEmbeddings(embeddings.model, embeddings.query_prompt, embeddings.passage_prompt)
    return embeddings


def _search_latencies(store: Any, questions: list[str], k: int, repeats: int) -> tuple[list[list[float]], list[list[float]]]:
    """Per run, each question's retrieval ms (``similarity_search``) and answer ms (plus the "stuff" step)."""
    retrieve: list[list[float]] = []
    answer: list[list[float]] = []
    for _ in range(repeats):
        r_run, a_run = [], []
        for q in questions:
            start = time.perf_counter()
            found = store.similarity_search(q, k=k)
            middle = time.perf_counter()
            context = "\n\n".join(d.page_content for d in found)  # the "stuff" step before an LLM
            assert context is not None
            end = time.perf_counter()
            r_run.append((middle - start) * 1000)
            a_run.append((end - start) * 1000)
        retrieve.append(r_run)
        answer.append(a_run)
    return retrieve, answer


def bench_textbook(
    settings: Settings,
    embeddings: Embeddings,
    questions: list[str],
    repeats: int,
    cold: bool,
    tick: Callable[[str], None],
    our_embeddings: Embeddings | None = None,
) -> tuple[Row, Row | None]:
    """The textbook LangChain pipeline on the bundled corpus, with the same model (``textbook_embeddings``); and,
    with ``our_embeddings``, a second row: the same store searched with our question encoder, which says how much
    of the gap is the encoder and how much the rest of the pipeline."""
    from langchain_community.vectorstores import FAISS

    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        docs = _textbook_documents(settings.corpus)
        runs.append(time.perf_counter() - start)
    ingest_s = median_of(runs)
    tick("manuel : embedding")
    texts = [d.page_content for d in docs]
    start = time.perf_counter()
    vectors = embeddings.embed_documents(texts)
    embed_s = time.perf_counter() - start
    embed_per_s = len(texts) / embed_s
    tick("manuel : index")
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        store = FAISS.from_embeddings(list(zip(texts, vectors, strict=True)), embeddings, metadatas=[d.metadata for d in docs])
        runs.append(time.perf_counter() - start)
    build_s = median_of(runs)
    tick("manuel : recherches")
    k = settings.top_k
    retrieve, answer = _search_latencies(store, questions, k, repeats)
    notes = [
        "build: FAISS.from_embeddings en mémoire (save_local écrit un pickle : non mesuré)",
        "réponse : recherche + contexte assemblé, sans LLM",
    ]
    cold_s = rss = None
    if cold:
        tick("manuel : démarrage à froid")
        import faiss

        with tempfile.TemporaryDirectory(prefix="reperes-bench-textbook-") as tmp:
            faiss.write_index(store.index, str(Path(tmp) / "index.faiss"))
            records = [{"text": d.page_content, "metadata": d.metadata} for d in docs]
            (Path(tmp) / "docs.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
            runs, peaks = [], []
            for n in range(repeats):
                cmd = [sys.executable, "-m", "eval.bench", "--textbook-cold", tmp, "--question", questions[n % len(questions)]]
                seconds, peak, _ = timed_process(cmd, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
                runs.append(seconds)
                peaks.append(peak)
        cold_s, rss = median_of(runs), max((p for p in peaks if p is not None), default=None)
        notes.append("froid : nouveau processus, index FAISS + documents JSON relus, similarity_search")
    r50, r95 = _latencies(retrieve)
    a50, a95 = _latencies(answer)
    faster = None
    if our_embeddings is not None and our_embeddings is not embeddings:
        tick("manuel : recherches avec notre encodeur")
        ours = FAISS(our_embeddings, store.index, store.docstore, store.index_to_docstore_id)
        f_retrieve, f_answer = _search_latencies(ours, questions, k, repeats)
        (f50, f95), (fa50, fa95) = _latencies(f_retrieve), _latencies(f_answer)
        faster = Row(
            "textbook_encoder",
            "bundled",
            len(texts),
            type(store.index).__name__,
            "real",
            retrieval_p50_ms=f50,
            retrieval_p95_ms=f95,
            answer_p50_ms=fa50,
            answer_p95_ms=fa95,
            notes=("le même index que la ligne manuel, les questions encodées par notre encodeur (ONNX Runtime)",),
        )
    row = Row(
        "textbook",
        "bundled",
        len(texts),
        type(store.index).__name__,
        "real",
        ingest_s=round(ingest_s, 3),
        full_ingest_s=round(ingest_s + embed_s + build_s, 3),  # as ingest_s: a tiny corpus takes milliseconds
        embed_per_s=round(embed_per_s, 2),
        build_s=round(build_s, 4),
        cold_ask_s=None if cold_s is None else round(cold_s, 2),
        retrieval_p50_ms=r50,
        retrieval_p95_ms=r95,
        answer_p50_ms=a50,
        answer_p95_ms=a95,
        peak_rss_mb=rss,
        notes=tuple(notes),
    )
    return row, faster


def textbook_cold(folder: Path, question: str) -> int:
    """The textbook pipeline's cold start, run in a new process: load the embedder and the saved store, search once."""
    import faiss
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document

    from index.embeddings import make_embeddings

    settings = Settings.from_env()
    embeddings = textbook_embeddings(
        make_embeddings(settings.embed_model, settings.home, settings.query_prompt, settings.passage_prompt)
    )
    records = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
    docstore = InMemoryDocstore({str(i): Document(page_content=r["text"], metadata=r["metadata"]) for i, r in enumerate(records)})
    store = FAISS(embeddings, faiss.read_index(str(folder / "index.faiss")), docstore, {i: str(i) for i in range(len(records))})
    found = store.similarity_search(question, k=settings.top_k)
    print("\n\n".join(d.page_content for d in found)[:200])
    return 0


# --------------------------------------------------------------------------------------------
# Synthetic sizes
# --------------------------------------------------------------------------------------------


class SyntheticChunks(Sequence[Chunk]):
    """``size`` chunks recombined from ``base``: chunk i glues two base chunks (one of DISTINCT_TEXTS pairs).

    Made on demand: a million Chunk objects would take GBs the real store's chunks would not (their text is
    read from disk once); the search path only looks up the rows it returns.
    """

    def __init__(self, base: list[Chunk], size: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        distinct = min(size, DISTINCT_TEXTS)
        self.base, self.size = base, size
        self.pairs = rng.integers(0, len(base), size=(distinct, 2))
        self.pair_of = np.concatenate([np.arange(distinct), rng.integers(0, distinct, size=size - distinct)])

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, i: int) -> Chunk: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Chunk]: ...
    def __getitem__(self, i: int | slice) -> Chunk | Sequence[Chunk]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.size))]
        if not -self.size <= i < self.size:
            raise IndexError(i)
        i %= self.size
        a, b = (self.base[int(j)] for j in self.pairs[self.pair_of[i]])
        return Chunk(
            source=a.source,
            line_start=a.line_start,
            line_end=a.line_end,
            text=a.text + "\n\n" + b.text,
            title=a.title,
            kind=a.kind,
            page=a.page,
            metadata=a.metadata,
            id=f"synthetic-{i}",
        )

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(self.size))

    def vectors(self, base: np.ndarray, seed: int = 1, block: int = 100_000) -> np.ndarray:
        """Chunk i's vector: its two base chunks' real vectors plus Gaussian noise, normalised (float32)."""
        rng = np.random.default_rng(seed)
        out = np.empty((self.size, base.shape[1]), dtype=np.float32)
        for start in range(0, self.size, block):
            pairs = self.pairs[self.pair_of[start : start + block]]
            rows = base[pairs[:, 0]] + base[pairs[:, 1]]
            rows += NOISE * rng.standard_normal(rows.shape, dtype=np.float32)
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            out[start : start + len(rows)] = rows
        return out


def bench_size(
    size: int, base: list[Chunk], base_vectors: np.ndarray, questions: list[str], query_vectors: np.ndarray, repeats: int
) -> Row:
    """The search path at ``size`` synthetic chunks (run in its own process by ``run_bench``)."""
    import faiss

    import index.lexical
    from index.hybrid import FusionParams, fuse
    from index.lexical import LexicalIndex
    from index.query import analyse
    from index.store import _read_index

    chunks = SyntheticChunks(base, size)
    vectors = chunks.vectors(base_vectors)
    kind = index_kind(size)
    manifest = Manifest(FORMAT_VERSION, "bench", CHUNKER_ID, "bench", int(vectors.shape[1]), size, kind, "")
    start = time.perf_counter()
    store = FaissStore(cast(list[Chunk], chunks), vectors, manifest)
    build_s = time.perf_counter() - start
    notes = ["vecteurs synthétiques (vrais vecteurs du corpus + bruit, normalisés)"]
    with tempfile.TemporaryDirectory(prefix="reperes-bench-") as tmp:
        path = Path(tmp) / "vectors.faiss"
        faiss.write_index(store._index, str(path))
        index_mb = path.stat().st_size / 2**20
        loads = []
        for _ in range(repeats):
            begin = time.perf_counter()
            mapped = _read_index(path)
            loads.append(time.perf_counter() - begin)
        store = FaissStore.from_faiss(cast(list[Chunk], chunks), mapped, manifest)  # search the mapped copy
        # recall@10 of the index the store chose, against exact search over the same vectors.
        _, exact = faiss.knn(query_vectors, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
        del vectors  # the store reads the mapped file from here on
        _, approx = store._index.search(query_vectors, 10)
        recall = float(np.mean([len(set(e) & set(a)) / 10 for e, a in zip(exact, approx, strict=True)]))
        # BM25: the real LexicalIndex, the analysis cached per distinct text (see DISTINCT_TEXTS).
        lexical_chunks: Sequence[Chunk] = chunks
        if size > LEXICAL_SAMPLE:
            rows = np.sort(np.random.default_rng(2).choice(size, size=LEXICAL_SAMPLE, replace=False))
            lexical_chunks = [chunks[int(i)] for i in rows]
            notes.append(f"BM25 sur un échantillon de {LEXICAL_SAMPLE:,} passages".replace(",", " "))
        original = index.lexical.analyse_text
        index.lexical.analyse_text = functools.cache(original)
        try:
            begin = time.perf_counter()
            lexical = LexicalIndex(list(lexical_chunks))
            lexical_s = time.perf_counter() - begin
        finally:
            index.lexical.analyse_text = original
        notes.append(f"build = FAISS {build_s:.1f} s + BM25 {lexical_s:.1f} s (analyse en cache par texte distinct)")
        params = FusionParams()
        analyses = [analyse(q) for q in questions]
        retrieval: list[list[float]] = []
        dense: list[list[float]] = []
        for _ in range(repeats):
            r_run, d_run = [], []
            for question, analysis, vector in zip(questions, analyses, query_vectors, strict=True):
                begin = time.perf_counter()
                lex = lexical.search(analysis.lexical_query, params.candidates)
                middle = time.perf_counter()
                hits = store.search(vector, params.candidates)
                after = time.perf_counter()
                fuse(question, analysis, lex, hits, params, use_eligibility=True)
                end = time.perf_counter()
                r_run.append((end - begin) * 1000)
                d_run.append((after - middle) * 1000)
            retrieval.append(r_run)
            dense.append(d_run)
    notes.append("recherche = BM25 + FAISS + fusion (sans l'analyse ni l'embedding de la question)")
    r50, r95 = _latencies(retrieval)
    d50, _ = _latencies(dense)
    return Row(
        "synthetic",
        _size_label(size),
        size,
        kind,
        "synthetic",
        build_s=round(build_s + lexical_s, 3),
        retrieval_p50_ms=r50,
        retrieval_p95_ms=r95,
        recall_at_10=round(recall, 4),
        index_mb=round(index_mb, 1),
        index_load_ms=round(median_of(loads) * 1000, 2),
        dense_p50_ms=d50,
        lexical_chunks=len(lexical_chunks),
        notes=tuple(notes),
    )


def _size_label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k" if size % 1000 == 0 else str(size)


def _size_worker(data: Path, size: int, repeats: int) -> int:
    """``python -m eval.bench --size N --data DIR``: one synthetic size, its row as JSON on stdout."""
    arrays = np.load(data / "vectors.npz")
    base = [Chunk.from_json(json.loads(line)) for line in (data / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = json.loads((data / "questions.json").read_text(encoding="utf-8"))
    row = bench_size(size, base, arrays["base"], questions, arrays["queries"], repeats)
    print(json.dumps(asdict(replace(row, peak_rss_mb=peak_rss_mb())), ensure_ascii=False))
    return 0


def run_sizes(
    sizes: Sequence[int],
    chunks: list[Chunk],
    vectors: np.ndarray,
    questions: list[str],
    query_vectors: np.ndarray,
    repeats: int,
    tick: Callable[[str], None],
) -> list[Row]:
    """Each size in a new process (its own peak RSS); the worker reads the base chunks and vectors from files."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="reperes-bench-data-") as tmp:
        data = Path(tmp)
        np.savez(data / "vectors.npz", base=vectors, queries=query_vectors)
        (data / "chunks.jsonl").write_text(
            "".join(json.dumps(c.to_json(), ensure_ascii=False) + "\n" for c in chunks), encoding="utf-8"
        )
        (data / "questions.json").write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        for size in sizes:
            tick(f"taille synthétique {_size_label(size)}")
            cmd = [sys.executable, "-m", "eval.bench", "--size", str(size), "--data", tmp, "--repeats", str(repeats)]
            _, _, stdout = timed_process(cmd, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
            row = Row(**json.loads(stdout.strip().splitlines()[-1]))
            rows.append(replace(row, notes=(*row.notes, "RSS : pic du processus de cette taille (vecteurs float32 compris)")))
    return rows


# --------------------------------------------------------------------------------------------
# The whole run, the table, the JSON
# --------------------------------------------------------------------------------------------


def run_bench(
    settings: Settings,
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeats: int = DEFAULT_REPEATS,
    embeddings: Any = None,
    cold: bool = True,
    progress: bool = True,
    questions: int | None = None,
) -> BenchReport:
    """Everything in the module docstring. ``embeddings``: another embedder (tests); ``cold``: also time new
    processes (they load the settings' model, so only with the real one)."""
    from tqdm import tqdm

    started = time.perf_counter()
    items = [item.question for item in load_set(DEV_SET)]
    items = items[:questions] if questions else items
    assistant = Assistant(settings, embeddings=embeddings)
    bar = tqdm(total=(9 if cold else 7) + len(sizes), desc="banc", file=sys.stderr, disable=not progress, unit="étape")

    def tick(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    tick("nos passages : lecture et découpage")
    ours, vectors, chunks = bench_ours(assistant, items, repeats, cold, tick)
    textbook, textbook_encoder = bench_textbook(
        settings, textbook_embeddings(assistant.embeddings), items, repeats, cold, tick, assistant.embeddings
    )
    query_vectors = np.asarray([assistant.embeddings.embed_query(q) for q in items], dtype=np.float32)
    synthetic = run_sizes(sizes, chunks, vectors, items, query_vectors, repeats, tick)
    bar.close()
    ratios = {m: _ratio(getattr(ours, m), getattr(textbook, m)) for m in METRICS}
    largest = max(synthetic, key=lambda r: r.chunks, default=None)
    targets = {
        "retrieval_p50_vs_textbook": _target(ratios["retrieval_p50_ms"], 0.6, "≤"),
        "answer_p50_ms": _target(ours.answer_p50_ms, 100, "≤"),
        "cold_ask_s": _target(ours.cold_ask_s, 4, "≤"),
        "ingest_and_index_s": _target(ours.full_ingest_s, 45, "≤"),
        "unchanged_ingest_s": _target(ours.unchanged_ingest_s, 5, "≤"),
        "recall_at_10_largest": _target(None if largest is None else largest.recall_at_10, 0.95, "≥"),
        "index_mb_largest": _target(None if largest is None else largest.index_mb, 1024, "≤"),
    }
    return BenchReport(
        rows=(ours, textbook, *([textbook_encoder] if textbook_encoder else []), *synthetic),
        ratios=ratios,
        # Not a target (the textbook encodes questions as LangChain does): how much the encoder explains.
        ratios_to_textbook_with_our_encoder={
            m: _ratio(getattr(ours, m), getattr(textbook_encoder, m)) for m in ("retrieval_p50_ms", "answer_p50_ms")
        }
        if textbook_encoder
        else {},
        targets=targets,
        repeats=repeats,
        questions=len(items),
        seconds=round(time.perf_counter() - started, 1),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return None if ours is None or not theirs else round(ours / theirs, 3)


def _target(value: float | None, limit: float, sense: str) -> dict[str, Any]:
    met = None if value is None else (value <= limit if sense == "≤" else value >= limit)
    return {"value": value, "target": f"{sense} {limit}", "met": met}


COLUMNS = (
    ("pipeline", "chaîne"),
    ("corpus", "corpus"),
    ("chunks", "passages"),
    ("faiss_index", "index FAISS"),
    ("vectors", "vecteurs"),
    ("ingest_s", "lecture s"),
    ("full_ingest_s", "ingest s"),
    ("unchanged_ingest_s", "inchangé s"),
    ("embed_per_s", "emb./s"),
    ("build_s", "index s"),
    ("cold_ask_s", "froid s"),
    ("retrieval_p50_ms", "rech. p50"),
    ("retrieval_p95_ms", "rech. p95"),
    ("answer_p50_ms", "rép. p50"),
    ("answer_p95_ms", "rép. p95"),
    ("peak_rss_mb", "RSS Mo"),
    ("recall_at_10", "rappel@10"),
    ("index_mb", "index Mo"),
    ("index_load_ms", "mmap ms"),
)
LABELS = {
    "reperes": "Repères",
    "textbook": "manuel LangChain",
    "textbook_encoder": "manuel + notre encodeur",
    "synthetic": "Repères (synth.)",
    "real": "réels",
    "synthetic_v": "synthétiques",
}


def format_table(report: BenchReport) -> str:
    """The printed table (French), the ratios ours/textbook, the targets and the notes."""

    def cell(row: Row, key: str) -> str:
        value = getattr(row, key)
        if value is None:
            return "—"
        if key == "vectors":
            return "réels" if value == "real" else "SYNTHÉTIQUES"
        if key == "pipeline":
            return LABELS[value]
        if isinstance(value, float):
            return f"{value:.3g}" if value < 10 else f"{value:.1f}"
        return str(value)

    table = [[title for _, title in COLUMNS]] + [[cell(row, key) for key, _ in COLUMNS] for row in report.rows]
    ratio_row = ["Repères / manuel", "bundled", "", "", ""] + [
        "—" if key not in report.ratios or report.ratios[key] is None else f"×{report.ratios[key]:.2f}" for key, _ in COLUMNS[5:]
    ]
    table.append(ratio_row)
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(text.rjust(w) if i >= 2 else text.ljust(w) for i, (text, w) in enumerate(zip(line, widths, strict=True)))
        for line in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    out = [*lines, "", "Objectifs (mesurés, non imposés) :"]
    for name, target in report.targets.items():
        verdict = "non mesuré" if target["met"] is None else "atteint" if target["met"] else "NON atteint"
        out.append(f"  - {name} : {target['value']} (objectif {target['target']}) {verdict}")
    if report.ratios_to_textbook_with_our_encoder:
        shown = " ; ".join(f"{k} ×{v}" for k, v in report.ratios_to_textbook_with_our_encoder.items() if v is not None)
        out.append(
            f"Pour information (pas un objectif) : Repères / manuel + notre encodeur : {shown} (le manuel ne fait que "
            "la recherche dense ; Repères y ajoute BM25, la lecture de la question, la fusion et l'éligibilité)"
        )
    out.append("Notes :")
    for row in report.rows:
        out.append(f"  - {LABELS[row.pipeline]} {row.corpus} : " + " ; ".join(row.notes))
    out.append(
        f"(médianes de {report.repeats} passages sur {report.questions} questions de eval/data/dev.jsonl ; temps en ms sauf "
        f"« s » ; {report.cpus} cœurs ; {report.seconds:.0f} s au total)"
    )
    return "\n".join(out)


def write_json(report: BenchReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry of the worker processes (`--size`, `--textbook-cold`); `reperes bench` is the user's command."""
    parser = argparse.ArgumentParser(prog="python -m eval.bench")
    parser.add_argument("--size", type=int)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument("--textbook-cold", type=Path)
    parser.add_argument("--question", default="")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.textbook_cold:
        return textbook_cold(args.textbook_cold, args.question)
    if args.size and args.data:
        return _size_worker(args.data, args.size, args.repeats)
    parser.error("--size with --data, or --textbook-cold: use `reperes bench`")
    return 2


if __name__ == "__main__":
    sys.exit(main())
