"""Evaluation history: one JSON line per configuration run, so a report can plot metrics over time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from index.atomic import write_text_atomic

KEPT = (
    "handled",
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "coverage",
    "citation_precision",
    "refusal",
    "false_refusal",
)


def history_path(home: Path) -> Path:
    return home / "eval" / "history.jsonl"


def read_history(path: Path) -> list[dict[str, Any]]:
    """Past runs, oldest first; unreadable lines are skipped (the file is a log, not a contract)."""
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def append_history(path: Path, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Add one entry per run of ``results`` (rewritten atomically) and return the whole history."""
    entries = read_history(path)
    for run in results["runs"]:
        overall = run["metrics"]["all"]
        entries.append(
            {
                "created": results["created"],
                "config": run["config"],
                "set": results["set"],
                "metrics": {k: overall.get(k) for k in KEPT},
            }
        )
    write_text_atomic(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))
    return entries
