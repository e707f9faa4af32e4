"""Grid search of the fusion parameters on a question set: `python -m eval.tune [FILE.jsonl]`.

Only the *tune* half of the set is read (``eval.dataset.tune_items``): the check half stays unseen,
so `reperes eval` can tell a parameter that generalises from one fitted to these questions.

Each question's BM25 and dense candidate lists are computed once; every parameter combination is
then scored by re-fusing them (milliseconds each). Prints the best combinations by recall@5, then
eligibility recall@5, then MRR@10. Copy the chosen values into the settings (`REPERES_*`).
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.service import Assistant
from assistant.settings import Settings
from eval.dataset import tune_items
from eval.metrics import mrr_at_k, recall_at_k
from index.hybrid import fuse
from index.lexical import lexical_index
from index.query import analyse

DEV_SET = Path(__file__).parent / "data" / "dev.jsonl"
GRID: dict[str, list[Any]] = {
    "rrf_k": [5, 20, 60],
    "lexical_weight": [1.0],
    "dense_weight": [0.0, 0.2, 0.4, 0.7, 1.0],
    "excluded_factor": [0.1, 0.3, 0.6],
    "unknown_factor": [0.7, 0.85, 1.0],
    "match_boost": [0.0, 0.15, 0.3],
    "mention_boost": [0.0, 0.5, 1.0],
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    items = [i for i in tune_items(Path(args[0]) if args else DEV_SET) if i.answerable and i.sources]
    assistant = Assistant(Settings.from_env())
    assistant.ingest()
    base = assistant.fusion_params
    lexical, store = lexical_index(assistant.store), assistant.store
    prepared = []
    for item in items:
        analysis = analyse(item.question)
        prepared.append(
            (
                item,
                analysis,
                lexical.search(analysis.lexical_query, base.candidates),
                store.search(assistant.embeddings.embed_query(item.question), base.candidates),
            )
        )
    results = []
    names = list(GRID)
    for values in itertools.product(*(GRID[n] for n in names)):
        params = replace(base, **dict(zip(names, values, strict=True)))
        r5 = mrr = elig = 0.0
        n_elig = 0
        for item, analysis, lex, dense in prepared:
            fused = fuse(item.question, analysis, lex, dense, params, use_eligibility=True)
            spans = [(c.source, c.line_start, c.line_end) for c, _, _ in fused[:10]]
            hit5 = recall_at_k(spans, item.sources, 5)
            r5 += hit5
            mrr += mrr_at_k(spans, item.sources, 10)
            if item.type == "eligibility":
                elig += hit5
                n_elig += 1
        n = len(prepared)
        results.append((r5 / n, elig / max(n_elig, 1), mrr / n, params))
    results.sort(key=lambda r: (-min(r[0], r[1]), -r[0], -r[2]))
    print(f"{len(results)} combinations on {len(prepared)} answerable questions of the tune half")
    for r5, elig, mrr, params in results[:10]:
        chosen = {n: getattr(params, n) for n in names}
        print(f"recall@5 {r5:.3f}  eligibility@5 {elig:.3f}  MRR@10 {mrr:.3f}  {chosen}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
