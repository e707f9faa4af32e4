"""Evaluation metrics: pure functions over one question's result, then aggregation per type.

Retrieval: a *hit* is a retrieved passage whose line range overlaps a gold source of the question.
Answers: must-include coverage is accent-, case- and space-insensitive; a "non précisé" item is
satisfied by a refusal. Contacts: an e-mail or phone number in an answer that appears nowhere in the
corpus is *invented*. Grounding: an e-mail, phone or number of the answer that is in none of the
passages it cites is a *grounding drop*.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections.abc import Iterable, Sequence

from assistant import grounding
from eval.dataset import EvalItem, GoldSource

Span = tuple[str, int, int]  # (source file, line_start, line_end) of a retrieved or cited passage

REFUSAL_MARKERS = ("non precise", "ne precisent pas", "ne precise pas", "ne le disent pas", "ne disent pas", "ne mentionnent pas")


def normalise(text: str) -> str:
    """Lower case, no accents, one space: "Métropole  Européenne" -> "metropole europeenne"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _squash(text: str) -> str:
    return normalise(text).replace(" ", "")


# --- retrieval -----------------------------------------------------------------------------------


def hits(retrieved: Sequence[Span], gold: Sequence[GoldSource]) -> list[bool]:
    """For each retrieved passage, whether it overlaps a gold source."""
    return [any(g.overlaps(*span) for g in gold) for span in retrieved]


def recall_at_k(retrieved: Sequence[Span], gold: Sequence[GoldSource], k: int) -> float:
    """1.0 when a gold source is hit in the top ``k``, else 0.0 (the question-level recall)."""
    if k < 1:
        raise ValueError(f"k ({k}) must be >= 1")
    return float(any(hits(retrieved[:k], gold)))


def mrr_at_k(retrieved: Sequence[Span], gold: Sequence[GoldSource], k: int = 10) -> float:
    """1 / rank of the first hit in the top ``k``, 0.0 without one."""
    for rank, hit in enumerate(hits(retrieved[:k], gold), start=1):
        if hit:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(retrieved: Sequence[Span], gold: Sequence[GoldSource], k: int = 10) -> float:
    """Binary-relevance nDCG@k; the ideal ranking puts min(k, |gold|) hits first.

    A gold source counts once: a second passage overlapping an already-hit source adds no gain, so
    ten chunks of the same card do not look like ten relevant answers.
    """
    seen: set[GoldSource] = set()
    dcg = 0.0
    for rank, span in enumerate(retrieved[:k], start=1):
        fresh = [g for g in gold if g.overlaps(*span) and g not in seen]
        if fresh:
            seen.update(fresh)
            dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, len(gold)) + 1))
    return dcg / ideal if ideal else 0.0


# --- answers -------------------------------------------------------------------------------------


def is_refusal_marker(fact: str) -> bool:
    return normalise(fact) in {"non precise", "non precisee", "non precises"}


def says_not_stated(answer: str) -> bool:
    """True when the answer says the documents do not state it."""
    text = normalise(answer)
    return any(marker in text for marker in REFUSAL_MARKERS)


def missing_facts(answer: str, must_include: Iterable[str], refused: bool = False) -> list[str]:
    """The must-include facts absent from the answer (accent-, case- and space-insensitive)."""
    squashed = _squash(answer)
    missing = []
    for fact in must_include:
        if is_refusal_marker(fact):
            if not (refused or says_not_stated(answer)):
                missing.append(fact)
        elif _squash(fact) not in squashed:
            missing.append(fact)
    return missing


def coverage(answer: str, must_include: Sequence[str], refused: bool = False) -> float | None:
    """Share of the must-include facts present in the answer; None when there are none to check."""
    if not must_include:
        return None
    return 1.0 - len(missing_facts(answer, must_include, refused)) / len(must_include)


def citation_precision(cited: Sequence[Span], gold: Sequence[GoldSource]) -> float | None:
    """Share of the cited passages that overlap a gold source; None when nothing is cited."""
    if not cited:
        return None
    return sum(hits(cited, gold)) / len(cited)


def contacts_in(text: str) -> set[str]:
    """E-mails and phone numbers written in ``text``, as the grounding check compares them."""
    return grounding.contact_keys(text)


def invented_contacts(answer: str, corpus_contacts: set[str]) -> list[str]:
    """Contacts of the answer that appear nowhere in the corpus (``contacts_in`` of the corpus text)."""
    return sorted(c for c in contacts_in(answer) if c not in corpus_contacts)


def grounding_drops(answer: str, cited_texts: Sequence[str]) -> list[str]:
    """Facts of the answer (contacts, figures, age ranges, amounts) found in none of its cited passages:
    the product's own grounding check (assistant/grounding.py), so the metric and the check agree.
    Provenance ("[n]", file names, "lignes a–b", page numbers) is not a fact."""
    return grounding.missing_facts(answer, cited_texts)


# --- aggregation ---------------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 1]) of a non-empty list."""
    if not values:
        raise ValueError("percentile of an empty list")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency_summary(values: Sequence[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p95": percentile(values, 0.95), "max": max(values)} if values else {}


def per_question_scores(
    item: EvalItem,
    retrieved: Sequence[Span],
    cited: Sequence[Span],
    cited_texts: Sequence[str],
    answer: str,
    refused: bool,
    corpus_contacts: set[str],
) -> dict[str, float | None]:
    """Every metric of one question (None where it does not apply)."""
    answerable = item.answerable and bool(item.sources)
    invented = invented_contacts(answer, corpus_contacts)
    return {
        "recall@1": recall_at_k(retrieved, item.sources, 1) if answerable else None,
        "recall@5": recall_at_k(retrieved, item.sources, 5) if answerable else None,
        "recall@10": recall_at_k(retrieved, item.sources, 10) if answerable else None,
        "mrr@10": mrr_at_k(retrieved, item.sources, 10) if answerable else None,
        "ndcg@10": ndcg_at_k(retrieved, item.sources, 10) if answerable else None,
        "coverage": coverage(answer, item.must_include, refused) if item.answerable else None,
        "citation_precision": citation_precision(cited, item.sources) if answerable else None,
        "refusal": float(refused or says_not_stated(answer)) if not item.answerable else None,
        "false_refusal": float(refused) if item.answerable else None,
        "invented_contacts": float(len(invented)),
        # Conversations: facts the follow-up made wrong must be gone ("must_not_include").
        "forbidden": float(len(item.must_not_include) - len(missing_facts(answer, item.must_not_include)))
        if item.must_not_include
        else None,
        # What the counsellor said (the question) is not a fact to ground: "17 ans · Loos" restates it.
        "grounding_drops": float(len(grounding_drops(answer, [*cited_texts, item.question, *item.history]))),
    }


def aggregate(rows: Sequence[tuple[str, dict[str, float | None]]]) -> dict[str, dict[str, float | None]]:
    """Mean of each metric per question type and over all questions ("all").

    ``rows`` are (type, per-question scores). Counts (invented contacts, grounding drops) are summed.
    """
    groups: dict[str, list[dict[str, float | None]]] = {"all": []}
    for kind, scores in rows:
        groups["all"].append(scores)
        groups.setdefault(kind, []).append(scores)
    result: dict[str, dict[str, float | None]] = {}
    for kind, group in groups.items():
        names = list(group[0]) if group else []
        result[kind] = {"questions": float(len(group))}
        for name in names:
            values = [g[name] for g in group]
            if name in {"invented_contacts", "grounding_drops", "forbidden"}:
                result[kind][name] = float(sum(v or 0.0 for v in values))
            else:
                result[kind][name] = mean(values)
    return result
