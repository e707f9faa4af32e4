"""From counsellors' feedback to draft eval items, for a person to review before they join a set.

Input: the JSONL written by `reperes feedback export` (one object per rated answer, in the eval-set
format: ``question``, ``answer``, ``sources``, plus ``rating`` "up"/"down" and an optional
``comment``). Output: draft items in the eval-set format with ``"type": "à_qualifier"``, no
``must_include`` yet, and a ``review`` block that says what the counsellor thought. A 👍 answer is
kept as the draft reference answer; a 👎 answer is not (it is shown under ``review`` only).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from eval.dataset import DatasetError, jsonl_records

DRAFT_TYPE = "à_qualifier"


def draft_item(record: dict[str, Any], where: str) -> dict[str, Any]:
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f'{where} : le champ "question" doit être un texte non vide')
    rating = record.get("rating")
    if rating not in {"up", "down"}:
        raise DatasetError(f'{where} : "rating" doit valoir "up" ou "down" (reçu {rating!r})')
    answer = str(record.get("answer", ""))
    sources = [
        {"file": s["file"], "line_start": int(s["line_start"]), "line_end": int(s["line_end"])}
        for s in record.get("sources", []) or []
        if isinstance(s, dict) and {"file", "line_start", "line_end"} <= set(s)
    ]
    digest = hashlib.sha256(f"{question}\0{answer}".encode()).hexdigest()[:10]
    return {
        "id": f"draft-{digest}",
        "question": question,
        "answer": answer if rating == "up" else "",
        "must_include": [],
        "sources": sources if rating == "up" else [],
        "type": DRAFT_TYPE,
        "review": {"rating": rating, "comment": str(record.get("comment") or ""), "answer_given": answer, "cited": sources},
    }


def drafts_from_feedback(path: Path) -> list[dict[str, Any]]:
    """Draft items for every feedback line of ``path`` (duplicates of the same question and answer merged)."""
    drafts: dict[str, dict[str, Any]] = {}
    for where, record in jsonl_records(path):
        if not isinstance(record, dict):
            raise DatasetError(f"{where} : un objet JSON est attendu")
        item = draft_item(record, where)
        drafts.setdefault(item["id"], item)
    return list(drafts.values())
