"""eval.report: the HTML / Markdown / JSON report of an evaluation run, written atomically, readable offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from eval.report import render_html, render_markdown, write_report

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
METRIC_KEYS = [
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "coverage",
    "citation_precision",
    "refusal",
    "false_refusal",
    "invented_contacts",
    "grounding_drops",
]


def _metrics(questions: float, base: float, **overrides: float | None) -> dict[str, float | None]:
    values: dict[str, float | None] = {key: base for key in METRIC_KEYS}
    values.update(refusal=None, false_refusal=0.0, invented_contacts=0.0, grounding_drops=1.0)
    values.update(overrides)
    return {"questions": questions, **values}


def _question(qid: str, kind: str, *, failed: bool, total: float, answer: str, missing: list[str]) -> dict[str, Any]:
    return {
        "id": qid,
        "type": kind,
        "question": f"Question {qid} : quelle action pour un jeune de 17 ans à Loos ?",
        "expected_answer": "Programme Booster (Unis-Cité), 16-25 ans.",
        "must_include": ["Booster", "16-25"],
        "sources": [{"file": "001_x.txt", "line_start": 10, "line_end": 20}],
        "answer": answer,
        "refused": False,
        "citations": [
            {"n": 1, "source": "001_x.txt", "title": "Booster", "line_start": 10, "line_end": 20, "page": 13, "quote": "Booster"}
        ],
        "retrieved": [
            {"source": "002_y.txt", "line_start": 1, "line_end": 5, "score": 0.91, "title": "Autre fiche", "hit": False},
            {"source": "001_x.txt", "line_start": 12, "line_end": 18, "score": 0.83, "title": "Booster", "hit": True},
        ],
        "timings_ms": {"retrieve": total * 0.9, "answer": total * 0.1, "total": total},
        "scores": {"recall@5": 1.0, "coverage": 0.5 if missing else 1.0, "citation_precision": None},
        "missing": missing,
        "failed": failed,
    }


def _run(config: str, base: float, speed: float, failing: bool) -> dict[str, Any]:
    questions = [
        _question("dev-01", "eligibility", failed=False, total=12.0 * speed, answer="Booster, 16-25 ans [1].", missing=[]),
        _question(
            "dev-02",
            "eligibility",
            failed=failing,
            total=15.5 * speed,
            answer="Le programme Booster <b>& co</b>\nsur deux lignes [1]." if failing else "Booster, 16-25 ans.",
            missing=["16-25"] if failing else [],
        ),
        _question("dev-03", "factual", failed=False, total=30.0 * speed, answer="Booster, 16-25 ans.", missing=[]),
    ]
    totals = [q["timings_ms"]["total"] for q in questions]
    return {
        "config": config,
        "metrics": {
            "all": _metrics(3.0, base),
            "eligibility": _metrics(2.0, base - 0.1, citation_precision=None),  # the null metric
            "factual": _metrics(1.0, 1.0),
        },
        "latency": {"total": {"p50": sorted(totals)[1], "p95": max(totals), "max": max(totals)}},
        "latencies_ms": {"total": totals, "retrieve": [t * 0.9 for t in totals], "answer": [t * 0.1 for t in totals]},
        "questions": questions,
    }


@pytest.fixture
def results() -> dict[str, Any]:
    return {
        "set": "eval/data/dev.jsonl",
        "created": "2026-11-22T01:30:00+00:00",
        "configs": ["dense", "bm25"],
        "runs": [_run("dense", 0.8, 1.0, failing=True), _run("bm25", 0.6, 2.5, failing=False)],
        "history": [
            {
                "created": "2026-11-20T10:00:00+00:00",
                "config": "dense",
                "set": "eval/data/dev.jsonl",
                "metrics": {"recall@5": 0.7, "mrr@10": 0.5, "coverage": 0.3},
            },
            {
                "created": "2026-11-21T10:00:00+00:00",
                "config": "dense",
                "set": "eval/data/dev.jsonl",
                "metrics": {"recall@5": 0.75, "mrr@10": 0.55, "coverage": None},
            },
            {
                "created": "2026-11-22T01:30:00+00:00",
                "config": "dense",
                "set": "eval/data/dev.jsonl",
                "metrics": {"recall@5": 0.8, "mrr@10": 0.62, "coverage": 0.41},
            },
        ],
    }


def test_write_report_writes_three_files_and_json_round_trips(tmp_path: Path, results: dict[str, Any]) -> None:
    paths = write_report(results, tmp_path / "new" / "folder")
    assert set(paths) == {"html", "md", "json"}
    assert all(p.is_file() and p.parent == tmp_path / "new" / "folder" for p in paths.values())
    assert [p.name for p in (paths["html"], paths["md"], paths["json"])] == ["report.html", "report.md", "results.json"]
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == results
    assert paths["json"].read_text(encoding="utf-8") == json.dumps(results, ensure_ascii=False, indent=2) + "\n"
    assert paths["html"].read_text(encoding="utf-8") == render_html(results)
    assert paths["md"].read_text(encoding="utf-8") == render_markdown(results)


def test_html_has_tables_charts_and_failed_question(results: dict[str, Any]) -> None:
    page = render_html(results)
    assert "<title>Rapport d&#x27;évaluation Repères</title>" in page and "eval/data/dev.jsonl" in page
    assert "22/11/2026 à 01:30 UTC" in page
    for header in ("Rappel@1", "Rappel@5", "Rappel@10", "MRR@10", "nDCG@10", "Couverture des faits", "Précision des citations"):
        assert f">{header}</th>" in page
    for header in (
        "Taux de refus (sans réponse)",
        "Faux refus",
        "Contacts inventés",
        "Pertes d&#x27;ancrage",
        "Latence p50 (totale)",
    ):
        assert f">{header}</th>" in page
    assert page.count("<svg") >= 5  # 3 bar charts, the latency histogram, the history of "dense"
    assert '<th scope="row" class="text">dense</th>' in page and '<th scope="row" class="text">bm25</th>' in page
    assert "Éligibilité" in page and "Factuelle" in page  # per-type tables, French type names
    assert "80,0\u00a0%" in page and "0,800" in page and "—" in page  # a rate, a score, the null metric
    comparison = page.split('id="comparaison"', 1)[1].split("</section>", 1)[0]
    assert "15,5\u00a0ms" in comparison and "30,0\u00a0ms" in comparison  # latency columns: p50 and p95
    # dense fails dev-02 (missing "16-25"); bm25 fails nothing
    failed = page.split('id="echecs"', 1)[1]
    assert "dev-02" in failed and "dev-01" not in failed and "dev-03" not in failed
    assert '<mark class="missing">16-25</mark>' in failed
    assert "Aucune question en échec." in failed
    assert "<details>" in failed and "Programme Booster (Unis-Cité), 16-25 ans." in failed  # the expected answer
    assert "001_x.txt l. 10–20" in failed  # gold source
    assert "002_y.txt" in failed and '<tr class="hit">' in failed  # retrieved passages, the hit marked


def test_html_escapes_text_and_loads_nothing_external(results: dict[str, Any]) -> None:
    results["runs"][1]["config"] = 'bm25 "<x>"'
    page = render_html(results)
    assert "Le programme Booster &lt;b&gt;&amp; co&lt;/b&gt;\nsur deux lignes" in page  # escaped, newline kept
    assert "<b>& co" not in page
    assert "<x>" not in page and "bm25 &quot;&lt;x&gt;&quot;" in page
    assert "src=" not in page and not re.search(r"href\s*=\s*[\"']?\s*(https?:)?//", page)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "@import" not in page and "url(" not in page and "<link" not in page


def test_history_needs_two_runs(results: dict[str, Any]) -> None:
    assert "<polyline" in render_html(results)
    results["history"] = results["history"][:1]
    page = render_html(results)
    assert "Historique insuffisant" in page and "<polyline" not in page
    results["history"] = []
    assert "Historique insuffisant" in render_html(results)


def test_markdown_tables_and_failed_list(results: dict[str, Any]) -> None:
    text = render_markdown(results)
    assert text.startswith("# Rapport d'évaluation Repères\n")
    comparison = text.split("## Comparaison des configurations", 1)[1].split("## Résultats par type", 1)[0]
    rows = [line for line in comparison.splitlines() if line.startswith("| ")]
    assert len(rows) == 3 and rows[1].startswith("| dense |") and rows[2].startswith("| bm25 |")
    assert all(row.count("|") == rows[0].count("|") for row in rows)
    assert "| Éligibilité |" in text and "| Factuelle |" in text
    failed = text.split("## Questions en échec", 1)[1]
    assert "- **dev-02** (Éligibilité)" in failed
    assert "16-25" in failed and "Aucune question en échec." in failed
    assert "\\<b\\>\\& co\\</b\\> sur deux lignes" in failed  # escaped, on one line


def test_renders_sparse_results() -> None:
    for results in ({}, {"runs": [{"config": "vide", "questions": [{"id": "q1", "failed": True}]}], "history": [{}, {}]}):
        page, text = render_html(results), render_markdown(results)
        assert "</html>" in page and text.startswith("# Rapport")


def test_write_is_atomic_and_replaces_whole_file(tmp_path: Path, results: dict[str, Any]) -> None:
    stale = tmp_path / "report.html"
    stale.write_text("ANCIEN RAPPORT " * 100_000, encoding="utf-8")  # longer than the new report
    paths = write_report(results, tmp_path)
    assert paths["html"].read_text(encoding="utf-8") == render_html(results)
    assert "ANCIEN" not in paths["html"].read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md", "results.json"]


def test_failed_render_leaves_previous_files(tmp_path: Path, results: dict[str, Any]) -> None:
    write_report(results, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    results["runs"][0]["unserialisable"] = object()
    with pytest.raises(TypeError):
        write_report(results, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_report_renders_in_headless_chromium(tmp_path: Path, results: dict[str, Any]) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium package (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    paths = write_report(results, tmp_path / "report")
    shot = tmp_path / "report.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
        f"--screenshot={shot}",
        paths["html"].resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert shot.is_file(), f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    artifacts = REPO / "out" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, artifacts / "eval-report.png")
    assert _png_size(shot) == (1280, 2000)
    # A blank 1280x2000 page compresses to a few KB; tables, charts and text take far more.
    assert shot.stat().st_size > 20_000, f"the screenshot is too small ({shot.stat().st_size} bytes): blank page?"


def test_a_failed_question_of_the_check_half_is_counted_never_shown(results: dict[str, Any]) -> None:
    check = results["runs"][0]["questions"][1]  # dev-02, failed
    check["split"] = "check"
    for text in (render_markdown(results), render_html(results)):
        assert "Question dev-02" not in text  # its wording is the check half's: read by the evaluation alone
        assert "1 question de la moitié contrôle en échec" in text
    check["split"] = "tune"
    assert "Question dev-02" in render_markdown(results)
