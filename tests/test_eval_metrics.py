"""Eval metrics on hand-computed cases, question-set validation, feedback drafts and the gate."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant.settings import Settings
from eval.dataset import DatasetError, EvalItem, GoldSource, load_set
from eval.drafts import drafts_from_feedback
from eval.gate import gate_failures
from eval.metrics import (
    aggregate,
    citation_precision,
    contacts_in,
    coverage,
    grounding_drops,
    invented_contacts,
    missing_facts,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)

GOLD = (GoldSource("a.txt", 10, 20), GoldSource("b.txt", 5, 5))
# Ranked: miss, hit (a.txt 15-30 overlaps 10-20), miss, hit (b.txt 1-5 overlaps 5-5), hit again on a.txt
RETRIEVED = [("a.txt", 1, 9), ("a.txt", 15, 30), ("c.txt", 1, 3), ("b.txt", 1, 5), ("a.txt", 18, 19)]


def test_recall_at_k_counts_a_hit_by_line_overlap() -> None:
    assert recall_at_k(RETRIEVED, GOLD, 1) == 0.0
    assert recall_at_k(RETRIEVED, GOLD, 2) == 1.0
    assert recall_at_k([("a.txt", 21, 30)], GOLD, 5) == 0.0  # adjacent, not overlapping
    with pytest.raises(ValueError, match="k"):
        recall_at_k(RETRIEVED, GOLD, 0)


def test_mrr_is_one_over_the_first_hit_rank() -> None:
    assert mrr_at_k(RETRIEVED, GOLD, 10) == 0.5
    assert mrr_at_k(RETRIEVED, GOLD, 1) == 0.0


def test_ndcg_by_hand() -> None:
    # gains at ranks 2 and 4 (rank 5 re-hits a.txt: no gain); ideal: ranks 1 and 2.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(RETRIEVED, GOLD, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(RETRIEVED, GOLD, 1) == 0.0


def test_coverage_is_accent_case_and_space_insensitive() -> None:
    answer = "Le Programme BOOSTER (Unis-Cité) accueille les 16 - 25 ans à Tourcoing."
    assert missing_facts(answer, ["programme booster", "Unis-Cite", "16-25 ans", "Roubaix"]) == ["Roubaix"]
    assert coverage(answer, ["programme booster", "Unis-Cite", "16-25 ans", "Roubaix"]) == 0.75
    assert coverage(answer, []) is None


def test_non_precise_is_satisfied_by_a_refusal() -> None:
    assert coverage("Les documents ne précisent pas le budget.", ["non précisé"]) == 1.0
    assert coverage("Autre chose.", ["non précisé"], refused=True) == 1.0
    assert coverage("Le budget est de 12 000 €.", ["non précisé"]) == 0.0


def test_citation_precision() -> None:
    assert citation_precision([("a.txt", 12, 14), ("c.txt", 1, 2)], GOLD) == 0.5
    assert citation_precision([], GOLD) is None


def test_invented_contacts_and_grounding_drops() -> None:
    corpus = contacts_in("Contact : jean@mlms.fr / 06 99 78 34 23")
    answer = "Écrire à jean@mlms.fr ou a.b@faux.fr, 06 99 78 34 23 ou 03 20 00 00 00 [1]."
    assert invented_contacts(answer, corpus) == sorted(["a.b@faux.fr", "0320000000"])
    cited = ["Jean : jean@mlms.fr, 06.99.78.34.23. Pour les jeunes de 16 à 25 ans."]
    assert grounding_drops("jean@mlms.fr, 06 99 78 34 23, de 16 à 25 ans [1]", cited) == []
    assert grounding_drops("Pour les 16 à 30 ans, 120 places [1]", cited) == ["120", "16 à 30 ans"]
    # The same number written another way is the same contact, as for the grounding check.
    assert invented_contacts("Appelez le +33 (0)6 99 78 34 23.", corpus) == []
    assert grounding_drops("**[1] Titre** (001_x.txt, lignes 146–245, p. 13) : de 16 à 25 ans", cited) == []


def test_aggregate_means_per_type_and_sums_counts() -> None:
    rows = [
        ("eligibility", {"recall@5": 1.0, "coverage": 0.5, "invented_contacts": 1.0}),
        ("eligibility", {"recall@5": 0.0, "coverage": None, "invented_contacts": 0.0}),
        ("factual", {"recall@5": 1.0, "coverage": 1.0, "invented_contacts": 2.0}),
    ]
    result = aggregate(rows)
    assert result["eligibility"] == {"questions": 2.0, "recall@5": 0.5, "coverage": 0.5, "invented_contacts": 1.0}
    assert result["all"]["recall@5"] == pytest.approx(2 / 3)
    assert result["all"]["coverage"] == 0.75
    assert result["all"]["invented_contacts"] == 3.0


def test_percentile_nearest_rank() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.5) == 20.0
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.95) == 40.0


def test_the_dev_set_loads(tmp_path: Path) -> None:
    items = load_set(Path(__file__).resolve().parent.parent / "eval" / "data" / "dev.jsonl")
    assert len(items) == 60 and sum(not i.answerable for i in items) == 8
    assert isinstance(items[0], EvalItem) and items[0].sources


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "question": "ok"}\n{pas du json\n', "ligne 2 : JSON invalide"),
        ('{"id": "a"}\n', '"question"'),
        ('{"id": "a", "question": "q", "sources": [{"file": "x"}]}\n', "source 1"),
        ('{"id": "a", "question": "q", "sources": [{"file": "x", "line_start": 9, "line_end": 2}]}\n', "plage"),
        ('{"id": "a", "question": "q"}\n{"id": "a", "question": "r"}\n', "en double"),
        ("\n", "aucune question"),
    ],
)
def test_malformed_sets_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_set(path)


def test_feedback_becomes_drafts_for_review(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.jsonl"
    src = [{"file": "001.txt", "line_start": 797, "line_end": 1004}]
    feedback.write_text(
        json.dumps({"question": "Connect'Emploi ?", "answer": "Réponse [1]", "sources": src, "rating": "up"})
        + "\n"
        + json.dumps({"question": "Horaires ?", "answer": "Faux", "sources": src, "rating": "down", "comment": "inventé"})
        + "\n"
        + json.dumps({"question": "Connect'Emploi ?", "answer": "Réponse [1]", "sources": src, "rating": "up"})
        + "\n",
        encoding="utf-8",
    )
    drafts = drafts_from_feedback(feedback)
    assert len(drafts) == 2
    up, down = drafts
    assert up["answer"] == "Réponse [1]" and up["sources"] == src and up["must_include"] == []
    assert down["answer"] == "" and down["sources"] == [] and down["review"]["comment"] == "inventé"
    out = tmp_path / "drafts.jsonl"
    out.write_text("".join(json.dumps(d) + "\n" for d in drafts), encoding="utf-8")
    assert [i.type for i in load_set(out)] == ["à_qualifier", "à_qualifier"]  # drafts load as a set
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "rating": "bof"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="ligne 1"):
        drafts_from_feedback(bad)


def test_gate_lists_what_dropped() -> None:
    settings = Settings.from_env(environ={})
    good = {
        "metrics": {
            "all": {"recall@5": 0.97, "mrr@10": 0.95, "coverage": 0.9, "refusal": 1.0, "invented_contacts": 0.0},
            "eligibility": {"recall@5": 0.95},
        }
    }
    assert gate_failures(good, settings) == []
    bad = {
        "metrics": {
            "all": {"recall@5": 0.10, "mrr@10": 0.95, "coverage": 0.9, "refusal": 1.0, "invented_contacts": 2.0},
            "eligibility": {"recall@5": 0.0},
            "factual": {"recall@5": 0.3},
        }
    }
    failures = gate_failures(bad, settings)
    assert failures[0].startswith("rappel@5 (recall@5) : 0.100 < seuil")
    assert failures[1].startswith("rappel@5 des questions d'éligibilité (recall@5) : 0.000 < seuil 0.900")
    assert "contacts inventés" in failures[2]
    assert failures[-1] == "rappel@5 par type : eligibility 0.00, factual 0.30"


def test_conversation_sets_become_turns_with_history() -> None:
    items = load_set(Path(__file__).resolve().parent.parent / "eval" / "data" / "dev-conversations.jsonl")
    first, second, third = items[:3]
    assert (first.id, second.id, third.id) == ("devconv-01#1", "devconv-01#2", "devconv-01#3")
    assert third.history == (first.question, second.question) and third.type == "conversation"
    assert third.must_not_include == ("francine.blas@itineraires.asso.fr",)
