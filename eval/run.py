"""Run a question set through the assistant under one or several configurations and score it.

A configuration is a name the assistant knows (``assistant.service.CONFIGURATIONS``: retrieval modes,
answerers); each runs the same questions with the same loaded model and index. The result is the
plain dict written to ``results.json`` (shape documented in ``eval.report``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from assistant.service import Assistant
from eval.dataset import EvalItem
from eval.metrics import aggregate, contacts_in, hits, latency_summary, missing_facts, per_question_scores

# A question "fails" in the report when one of these is below 1 (or, for refusals, wrong).
FAIL_RULES: dict[str, Callable[[float], bool]] = {
    "recall@5": lambda v: v < 1.0,
    "coverage": lambda v: v < 1.0,
    "refusal": lambda v: v < 1.0,
    "false_refusal": lambda v: v > 0.0,
    "invented_contacts": lambda v: v > 0.0,
    "grounding_drops": lambda v: v > 0.0,
    "forbidden": lambda v: v > 0.0,
}


def _progress(iterable: Sequence[Any], label: str, enabled: bool) -> Any:
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=label, unit="question", file=sys.stderr, leave=False)


def run_config(items: Sequence[EvalItem], assistant: Assistant, config: str, progress: bool = True) -> dict[str, Any]:
    """Every item through ``assistant`` under ``config``; per-question scores, metrics per type, latency."""
    store = assistant.store
    texts: dict[tuple[str, int, int], str] = {}
    for c in store.chunks:  # a long table row is several chunks over the same line: a citation covers all
        span = (c.source, c.line_start, c.line_end)
        texts[span] = f"{texts[span]}\n{c.text}" if span in texts else c.text
    corpus_contacts = contacts_in("\n".join(texts.values()))
    questions: list[dict[str, Any]] = []
    for item in _progress(items, config, progress):
        answer = assistant.ask(item.question, history=list(item.history), config=config)
        retrieved = [(r.source, r.line_start, r.line_end) for r in answer.retrieved]
        cited = [(c.source, c.line_start, c.line_end) for c in answer.citations]
        cited_texts = [texts.get(span, c.quote) for span, c in zip(cited, answer.citations, strict=True)]
        scores = per_question_scores(item, retrieved, cited, cited_texts, answer.answer, answer.refused, corpus_contacts)
        record = answer.to_json()
        for r, hit in zip(record["retrieved"], hits(retrieved, item.sources), strict=True):
            r["hit"] = hit
        questions.append(
            {
                "id": item.id,
                "type": item.type,
                "question": item.question,
                "expected_answer": item.answer,
                "must_include": list(item.must_include),
                "sources": [{"file": s.file, "line_start": s.line_start, "line_end": s.line_end} for s in item.sources],
                "answer": answer.answer,
                "refused": answer.refused,
                "citations": record["citations"],
                "retrieved": record["retrieved"],
                "timings_ms": record["timings_ms"],
                "scores": scores,
                "missing": missing_facts(answer.answer, item.must_include, answer.refused) if item.answerable else [],
                "failed": any(v is not None and FAIL_RULES[k](v) for k, v in scores.items() if k in FAIL_RULES),
            }
        )
    latencies: dict[str, list[float]] = {}
    for q in questions:
        for stage, ms in q["timings_ms"].items():
            latencies.setdefault(stage, []).append(ms)
    return {
        "config": config,
        "metrics": aggregate([(q["type"], q["scores"]) for q in questions]),
        "latency": {stage: latency_summary(values) for stage, values in latencies.items()},
        "latencies_ms": latencies,
        "questions": questions,
    }


def run_set(
    items: Sequence[EvalItem], assistant: Assistant, configs: Sequence[str], set_name: str, progress: bool = True
) -> dict[str, Any]:
    """The same set under every configuration: the ``results.json`` dict (history added by the caller)."""
    assistant.warm_up()
    runs = [run_config(items, assistant, config, progress) for config in configs]
    return {
        "set": set_name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "configs": list(configs),
        "runs": runs,
        "history": [],
    }
