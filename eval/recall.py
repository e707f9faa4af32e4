"""Retrieval recall on a question set: `python -m eval.recall [FILE.jsonl]` prints recall@1/5/10.

A hit is a retrieved passage whose line range overlaps a gold source of the question. Unanswerable
questions are skipped (their sources show the silence). The full evaluation command comes with the evaluation issue;
this prints the number the ingest and retrieval work is judged on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.service import Assistant
from assistant.settings import Settings
from index.retriever import DenseRetriever

DEV_SET = Path(__file__).parent / "data" / "dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEV_SET
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [q for q in questions if q.get("sources") and q.get("type") != "unanswerable"]
    assistant = Assistant(Settings.from_env())
    assistant.ingest()
    retriever = DenseRetriever(store=assistant.store, embeddings=assistant.embeddings, k=10)
    hits = {1: 0, 5: 0, 10: 0}
    by_type: dict[str, list[int]] = {}
    for q in questions:
        docs = retriever.invoke(q["question"])
        rank = next(
            (
                r
                for r, d in enumerate(docs, 1)
                if any(
                    d.metadata["source"] == g["file"]
                    and d.metadata["line_start"] <= g["line_end"]
                    and g["line_start"] <= d.metadata["line_end"]
                    for g in q["sources"]
                )
            ),
            None,
        )
        for k in hits:
            hits[k] += bool(rank and rank <= k)
        counts = by_type.setdefault(q.get("type", "?"), [0, 0])
        counts[0] += bool(rank and rank <= 5)
        counts[1] += 1
    n = len(questions)
    print(f"answerable questions: {n}")
    print("  ".join(f"recall@{k} {v / n:.3f}" for k, v in hits.items()))
    print("recall@5 by type: " + ", ".join(f"{t} {a}/{b}" for t, (a, b) in sorted(by_type.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
