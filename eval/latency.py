"""Latency benchmark: `python -m eval.latency [N]` prints per-stage latency over the dev questions.

Loads the model and index first (timed apart), then for each of the first N dev questions (all by
default) times the stages of retrieval one by one — query analysis, BM25, query embedding, FAISS
search, fusion with eligibility — and the whole `ask` (retrieval + answer) as the CLI runs it. A
benchmark prints numbers; no test asserts on time (timed tests flake).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from assistant.service import Assistant
from assistant.settings import Settings
from eval.dataset import load_set
from eval.metrics import percentile
from index.hybrid import fuse
from index.lexical import lexical_index
from index.query import analyse

DEV_SET = Path(__file__).parent / "data" / "dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.latency", description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, help="only the first N dev questions (default: all)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    items = load_set(DEV_SET)[: args.n] if args.n else load_set(DEV_SET)
    settings = Settings.from_env()
    assistant = Assistant(settings)
    start = time.perf_counter()
    report = assistant.ingest()
    print(
        f"index: {'built' if report.rebuilt else 'current'} ({report.manifest.count} chunks) in {time.perf_counter() - start:.2f} s"
    )
    print(f"load (model + index + BM25): {assistant.warm_up():.2f} s")
    lexical, store, params = lexical_index(assistant.store), assistant.store, assistant.fusion_params
    stages: dict[str, list[float]] = {}

    def timed(stage: str, since: float) -> float:
        now = time.perf_counter()
        stages.setdefault(stage, []).append((now - since) * 1000)
        return now

    for item in items:
        t0 = time.perf_counter()
        analysis = analyse(item.question)
        t = timed("analysis", t0)
        lex = lexical.search(analysis.lexical_query, params.candidates)
        t = timed("bm25", t)
        vector = assistant.embeddings.embed_query(item.question)
        t = timed("embed query", t)
        dense = store.search(vector, params.candidates)
        t = timed("faiss", t)
        fuse(item.question, analysis, lex, dense, params, use_eligibility=True)
        timed("fusion", t)
        timed("retrieval (all above)", t0)
        for stage, ms in assistant.ask(item.question).timings_ms.items():
            stages.setdefault(f"ask: {stage}", []).append(ms)
    print(f"questions: {len(items)}, retrieval mode: {settings.retrieval}")
    for stage, values in stages.items():
        print(
            f"{stage:>22}: p50 {statistics.median(values):7.2f} ms   p95 {percentile(values, 0.95):7.2f} ms   max {max(values):7.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
