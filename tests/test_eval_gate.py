"""The evaluation gate on the real dev set and index: it passes as built and fails when retrieval breaks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.service import Assistant
from assistant.settings import Settings
from eval.dataset import load_set
from eval.gate import gate_failures
from eval.run import run_set
from index.documents import hit_to_document
from index.store import FaissStore, Hit

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "eval" / "data" / "dev.jsonl"


class RandomRetriever(BaseRetriever):
    """Ten random passages, whatever the question: retrieval broken on purpose."""

    store: FaissStore
    seed: int = 0

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def _get_relevant_documents(self, query: str, *, run_manager) -> list[Document]:
        rng = random.Random(f"{self.seed}{query}")
        return [hit_to_document(Hit(chunk, 0.0, rank)) for rank, chunk in enumerate(rng.sample(self.store.chunks, 10), 1)]


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    assistant = Assistant(Settings.from_env())
    assistant.ingest()
    return assistant


@pytest.mark.slow
def test_gate_passes_on_the_dev_set_and_fails_with_a_random_retriever(assistant: Assistant, monkeypatch) -> None:
    items = load_set(DEV)
    mode = assistant.settings.retrieval
    results = run_set(items, assistant, [mode], str(DEV), progress=False)
    assert gate_failures(results["runs"][0], assistant.settings) == []

    monkeypatch.setattr("assistant.service.make_retriever", lambda *args, **kwargs: RandomRetriever(store=args[1]))
    broken = run_set(items, assistant, [mode], str(DEV), progress=False)
    failures = gate_failures(broken["runs"][0], assistant.settings)
    assert failures and failures[0].startswith("rappel@5")
    assert any(line.startswith("rappel@5 par type") for line in failures)


@pytest.mark.slow
def test_reperes_eval_writes_the_three_report_files(tmp_path: Path) -> None:
    """The CLI on a few dev questions, in a home of its own (the real model and index linked in) so
    its run history stays out of the user's; the gate itself is `make test`'s last step."""
    import os
    import subprocess
    import sys

    real, home = Settings.from_env().home, tmp_path / "home"
    home.mkdir()
    for name in ("models", "indexes"):
        (home / name).symlink_to(real / name, target_is_directory=True)
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(DEV.read_text(encoding="utf-8").splitlines(keepends=True)[:6]), encoding="utf-8")
    hostile = tmp_path / "dev-adversarial.jsonl"  # the empty and emoji-only questions, and an injection
    lines = (ROOT / "eval" / "data" / "dev-adversarial.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    hostile.write_text("".join(line for line in lines if '"devadv-1' in line[:20]), encoding="utf-8")
    out = tmp_path / "report"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "eval",
            "--set",
            f"{subset},{hostile}",
            "--report",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "REPERES_HOME": str(home)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.md", "results.json"]
    results = json.loads((out / "results.json").read_text())
    dev, adversarial = results["sets"]
    assert dev["runs"][0]["metrics"]["all"]["questions"] == 6 and dev["kind"] == "dev"
    halves = dev["runs"][0]["halves"]
    assert halves["check"]["metrics"]["all"]["questions"] + halves["tune"]["metrics"]["all"]["questions"] == 6
    assert adversarial["kind"] == "adversarial" and "gate" not in adversarial  # no --gate: a subset is not the set
    empty = next(q for q in adversarial["runs"][0]["questions"] if q["id"] == "devadv-11")
    assert empty["kind"] == "error" and empty["scores"]["handled"] == 1.0  # the empty question is refused as an error
    assert "Traitées C  Traitées R" in result.stdout  # the halves side by side, check first
    assert (home / "eval" / "history.jsonl").exists()  # the history went to this home


@pytest.mark.slow
def test_the_composed_answers_of_the_dev_set_are_fully_grounded(assistant: Assistant) -> None:
    """Every e-mail, phone, age range, amount and figure of a composed answer is in a passage it cites."""
    from assistant.grounding import check

    texts: dict[tuple[str, int, int], list[str]] = {}
    for chunk in assistant.store.chunks:
        texts.setdefault((chunk.source, chunk.line_start, chunk.line_end), []).append(chunk.text)
    for item in load_set(DEV):
        answer = assistant.ask(item.question)
        cited = {c.n: "\n".join(texts[(c.source, c.line_start, c.line_end)]) for c in answer.citations}
        result = check(answer.answer, cited, item.question)
        assert result.dropped == [], (item.id, result.dropped)
