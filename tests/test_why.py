"""The ``why`` record of a retrieved passage: its JSON shape (the API's contract), read back as written."""

from __future__ import annotations

import json

import pytest

from index.eligibility import Verdict
from index.why import Why

FULL = Why(
    lexical_rank=1,
    dense_rank=3,
    rrf=0.2125,
    eligibility=Verdict("match", 0, ("17 ans : dans la tranche 16 à 25 ans",)),
    place="Anzin",
    mention="ATTA",
    referent=True,
    part=True,
)


def test_the_json_keys_are_the_contracts() -> None:
    assert FULL.to_json() == {
        "lexical_rank": 1,
        "dense_rank": 3,
        "rrf": 0.2125,
        "eligibility": {"status": "match", "reasons": ["17 ans : dans la tranche 16 à 25 ans"]},
        "place": "Anzin",
        "mention": "ATTA",
        "referent": True,
        "part": True,
    }
    # The optional keys are absent, not null: the ranks and the score are always there.
    assert Why(None, 2, 0.04).to_json() == {"lexical_rank": None, "dense_rank": 2, "rrf": 0.04}
    json.dumps(FULL.to_json())  # Document metadata stays JSON


def test_a_record_reads_back_as_written() -> None:
    for why in (FULL, Why(None, 2, 0.04), Why(4, None, 0.1, eligibility=Verdict("excluded"))):
        assert Why.from_json(why.to_json()) == why


def test_a_partial_record_reads_with_defaults() -> None:
    # What a retriever without fusion (nothing) or a test document (a verdict, a mention) carries.
    assert Why.from_json(None) == Why(None, None, 0.0)
    only_verdict = Why.from_json({"eligibility": {"status": "excluded", "reasons": ["17 ans : …"]}})
    assert (only_verdict.status, only_verdict.reasons, only_verdict.rrf) == ("excluded", ("17 ans : …",), 0.0)
    only_mention = Why.from_json({"mention": "PROGRAMME BOOSTER"})
    assert (only_mention.mention, only_mention.status, only_mention.reasons) == ("PROGRAMME BOOSTER", "unknown", ())
    assert Why.from_json({"eligibility": {}}).status == "unknown"


def test_a_rank_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"dense_rank must be >= 1 .*got 0"):
        Why(1, 0, 0.1)
