"""The quality gate: metrics of a run against the thresholds of the settings, with a readable diff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.settings import Settings


@dataclass(frozen=True)
class Check:
    """One gate rule: a metric over the questions of ``scope`` must stay >= minimum (or <= maximum)."""

    metric: str
    label: str
    minimum: float | None = None
    maximum: float | None = None
    scope: str = "all"  # "all" or a question type


def checks(settings: Settings) -> list[Check]:
    """The gate rules, from the one settings object."""
    return [
        Check("recall@5", "rappel@5", minimum=settings.gate_recall_at_5),
        Check(
            "recall@5", "rappel@5 des questions d'éligibilité", minimum=settings.gate_eligibility_recall_at_5, scope="eligibility"
        ),
        Check("mrr@10", "MRR@10", minimum=settings.gate_mrr_at_10),
        Check("coverage", "couverture des faits", minimum=settings.gate_coverage),
        Check(
            "coverage", "couverture des questions d'éligibilité", minimum=settings.gate_eligibility_coverage, scope="eligibility"
        ),
        Check("refusal", "refus sur les questions sans réponse", minimum=settings.gate_refusal),
        Check("false_refusal", "faux refus", maximum=settings.gate_max_false_refusal),
        Check("invented_contacts", "contacts inventés", maximum=float(settings.gate_max_invented_contacts)),
    ]


def gate_failures(run: dict[str, Any], settings: Settings) -> list[str]:
    """French lines describing what dropped below the gate (empty when the run passes)."""
    failures = []
    for check in checks(settings):
        value = run["metrics"].get(check.scope, {}).get(check.metric)
        if value is None:
            continue
        if check.minimum is not None and value < check.minimum:
            failures.append(
                f"{check.label} ({check.metric}) : {value:.3f} < seuil {check.minimum:.3f} (écart {value - check.minimum:+.3f})"
            )
        if check.maximum is not None and value > check.maximum:
            failures.append(f"{check.label} ({check.metric}) : {value:g} > maximum {check.maximum:g}")
    if failures:
        by_type = run["metrics"]
        worst = sorted(
            ((kind, m["recall@5"]) for kind, m in by_type.items() if kind != "all" and m.get("recall@5") is not None),
            key=lambda pair: pair[1],
        )
        failures.append("rappel@5 par type : " + ", ".join(f"{kind} {value:.2f}" for kind, value in worst))
    return failures
