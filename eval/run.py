"""Run a question set through the assistant under one or several configurations and score it.

A configuration is a name the assistant knows (``assistant.service.CONFIGURATIONS``: retrieval modes,
answerers); each runs the same questions with the same loaded model and index. The result is the
plain dict written to ``results.json`` (shape documented in ``eval.report``): metrics per question
type and per ``expect``, over the whole set and over each half (check, tune) present.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from assistant.service import Assistant
from eval.dataset import HALVES, EvalItem, set_kind
from eval.metrics import (
    aggregate,
    answer_kind,
    contacts_in,
    found_facts,
    hits,
    latency_summary,
    missing_facts,
    per_question_scores,
    where_missing,
)

# A question "fails" in the report when one of these is below 1 (or, for refusals, wrong).
FAIL_RULES: dict[str, Callable[[float], bool]] = {
    "recall@5": lambda v: v < 1.0,
    "coverage": lambda v: v < 1.0,
    "refusal": lambda v: v < 1.0,
    "false_refusal": lambda v: v > 0.0,
    "invented_contacts": lambda v: v > 0.0,
    "grounding_drops": lambda v: v > 0.0,
    "forbidden": lambda v: v > 0.0,
    "handled": lambda v: v < 1.0,
    "leaks": lambda v: v > 0.0,
}


def _progress(iterable: Sequence[Any], label: str, enabled: bool) -> Any:
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=label, unit="question", file=sys.stderr, leave=False)


def _error_record(question: str, message: str, seconds: float) -> dict[str, Any]:
    """What an input the assistant rejects (an empty question: ``ValueError`` with its French message)
    looks like to the scorer: an answer of kind "error" whose text is the message."""
    return {
        "question": question,
        "answer": message,
        "refused": True,
        "kind": "error",
        "citations": [],
        "retrieved": [],
        "timings_ms": {"total": seconds * 1000},
    }


def metrics_of(questions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Metrics per question type (``metrics``) and per expected behaviour (``by_expect``)."""
    return {
        "metrics": aggregate([(q["type"], q["scores"]) for q in questions]),
        "by_expect": aggregate([(q["expect"], q["scores"]) for q in questions]),
    }


def run_config(items: Sequence[EvalItem], assistant: Assistant, config: str, progress: bool = True) -> dict[str, Any]:
    """Every item through ``assistant`` under ``config``; per-question scores, metrics per type and per
    expect (whole run and each half), latency."""
    store = assistant.store
    texts: dict[tuple[str, int, int], str] = {}
    for c in store.chunks:  # a long table row is several chunks over the same line: a citation covers all
        span = (c.source, c.line_start, c.line_end)
        texts[span] = f"{texts[span]}\n{c.text}" if span in texts else c.text
    corpus_text = "\n".join(texts.values())
    corpus_contacts = contacts_in(corpus_text)
    questions: list[dict[str, Any]] = []
    for item in _progress(items, config, progress):
        start = time.perf_counter()
        try:
            answer = assistant.ask(item.question, history=list(item.history), config=config)
        except ValueError as exc:  # an input the assistant rejects (empty question): handling it is the test
            record = _error_record(item.question, str(exc), time.perf_counter() - start)
            retrieved, cited, cited_texts = [], [], []
        else:
            record = answer.to_json()
            retrieved = [(r.source, r.line_start, r.line_end) for r in answer.retrieved]
            cited = [(c.source, c.line_start, c.line_end) for c in answer.citations]
            cited_texts = [texts.get(span, c.quote) for span, c in zip(cited, answer.citations, strict=True)]
        text, refused, kind = record["answer"], bool(record["refused"]), answer_kind(record)
        missing = missing_facts(text, item.must_include, refused)
        scores = per_question_scores(item, retrieved, cited, cited_texts, text, refused, corpus_contacts, kind=kind)
        for r, hit in zip(record["retrieved"], hits(retrieved, item.sources), strict=True):
            r["hit"] = hit
        questions.append(
            {
                "id": item.id,
                "type": item.type,
                "expect": item.expect,
                "split": item.split,
                "question": item.question,
                "expected_answer": item.answer,
                "note": item.note,
                "must_include": list(item.must_include),
                "must_not_include": list(item.must_not_include),
                "sources": [{"file": s.file, "line_start": s.line_start, "line_end": s.line_end} for s in item.sources],
                "answer": text,
                "refused": refused,
                "kind": kind,
                "citations": record["citations"],
                "retrieved": record["retrieved"],
                "timings_ms": record["timings_ms"],
                "scores": scores,
                "missing": missing,
                # Retrieval or answer: where each missing fact was (cited, retrieved, elsewhere, nowhere).
                "missing_where": where_missing(
                    missing, [texts.get(span, "") for span in retrieved[:10]], cited_texts, corpus_text
                ),
                "found_forbidden": found_facts(text, item.must_not_include, refused),
                "failed": any(v is not None and FAIL_RULES[k](v) for k, v in scores.items() if k in FAIL_RULES),
            }
        )
    latencies: dict[str, list[float]] = {}
    for q in questions:
        for stage, ms in q["timings_ms"].items():
            latencies.setdefault(stage, []).append(ms)
    whole = metrics_of(questions)
    return {
        "config": config,
        "metrics": whole["metrics"],
        "by_expect": whole["by_expect"],
        "halves": {
            half: metrics_of([q for q in questions if q["split"] == half])
            for half in HALVES
            if any(q["split"] == half for q in questions)
        },
        "latency": {stage: latency_summary(values) for stage, values in latencies.items()},
        "latencies_ms": latencies,
        "questions": questions,
    }


def run_set(
    items: Sequence[EvalItem],
    assistant: Assistant,
    configs: Sequence[str],
    set_name: str,
    progress: bool = True,
    split: str = "both",
    kind: str | None = None,
) -> dict[str, Any]:
    """The same set under every configuration: one set's ``results.json`` dict (history added by the
    caller). ``items`` are those of ``split`` ("both", "check" or "tune"); ``kind`` (``set_kind`` of the
    whole set, by default of ``items``) says which gate applies."""
    assistant.warm_up()
    started = time.perf_counter()
    runs = [run_config(items, assistant, config, progress) for config in configs]
    return {
        "set": set_name,
        "kind": kind or set_kind(list(items)),
        "split": split,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "configs": list(configs),
        "seconds": time.perf_counter() - started,
        "runs": runs,
        "history": [],
    }
