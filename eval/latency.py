"""Latency benchmark: `python -m eval.latency [N]` prints load time and per-question ask latency.

Runs the first N questions of the dev set (all by default) through the same Assistant the CLI
uses, after a warm-up, and prints p50/p95/max per stage. A benchmark prints numbers; no test
asserts on time (timed tests flake).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from assistant.service import Assistant
from assistant.settings import Settings

DEV_SET = Path(__file__).parent / "data" / "dev.jsonl"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    questions = [json.loads(line)["question"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args:
        questions = questions[: int(args[0])]
    assistant = Assistant(Settings.from_env())
    start = time.perf_counter()
    report = assistant.ingest()
    print(
        f"index: {'built' if report.rebuilt else 'current'} ({report.manifest.count} chunks) in {time.perf_counter() - start:.2f} s"
    )
    print(f"load (model + index): {assistant.warm_up():.2f} s")
    stages: dict[str, list[float]] = {}
    for question in questions:
        for stage, ms in assistant.ask(question).timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    print(f"questions: {len(questions)}")
    for stage, values in stages.items():
        print(
            f"{stage:>9}: p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms   max {max(values):7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
