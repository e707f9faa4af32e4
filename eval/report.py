"""Evaluation report: one self-contained HTML page, a Markdown summary and the raw results (JSON).

``write_report(results, out_dir)`` writes ``report.html``, ``report.md`` and ``results.json``, each
atomically. The HTML page has inline CSS and hand-written inline SVG charts: it loads nothing from the
network (no script, font, image or style sheet by address), so it can be opened anywhere, offline.

Everything a reader sees is in French: numbers use a decimal comma, rates are percentages, a missing
value (a metric that does not apply) is "—".

The ``results`` dict (also the content of ``results.json``) of `reperes eval`, one entry per set::

    {"created": "<ISO 8601>", "configs": ["hybrid+eligibility", ...], "split": "both" | "check" | "tune",
     "seconds": 104.2, "sets": [<one set>, ...], "history": [...]}

One set (``eval.run.run_set``; a dict of this shape alone, without "sets", is rendered too)::

    {"set": "eval/data/dev.jsonl", "kind": "dev" | "expect" | "adversarial" | "conversations",
     "split": "both", "created": "<ISO 8601>", "configs": ["dense", ...], "seconds": 33.7,
     "gate": ["[config] moitié contrôle : …", ...],          # with --gate only; [] when it passes
     "runs": [{"config": "dense",
               "metrics": {"all": {"questions": 60.0, "handled": .., "recall@1": .., "recall@5": .., "recall@10": ..,
                                   "mrr@10": .., "ndcg@10": .., "coverage": .., "citation_precision": .., "refusal": ..,
                                   "false_refusal": .., "invented_contacts": .., "forbidden": .., "leaks": ..,
                                   "followup_coverage": .., "ruled_out_kept": .., "grounding_drops": ..},
                                   # None where a metric does not apply
                           "<question type>": {...same keys...}},
               "by_expect": {"all": {...}, "answer" | "refuse" | "clarify" | "out_of_scope" | "error_message": {...}},
               "halves": {"check": {"metrics": {...per type...}, "by_expect": {...}}, "tune": {...}},
               "latency": {"retrieve" | "answer" | "total": {"p50": ms, "p95": ms, "max": ms}},
               "latencies_ms": {"retrieve" | "answer" | "total": [ms per question]},
               "questions": [{"id", "type", "expect", "split": "check" | "tune", "question", "expected_answer", "note",
                              "must_include": [..], "must_not_include": [..],
                              "sources": [{"file", "line_start", "line_end"}], "answer", "refused",
                              "kind": "answer" | "refusal" | "clarification" | "out_of_scope" | "error",
                              "citations": [{"n", "source", "title", "line_start", "line_end", "page", "quote"}],
                              "retrieved": [{"source", "line_start", "line_end", "score", "title", "hit"}],
                              "timings_ms": {"retrieve", "answer", "total"}, "scores": {metric: value},
                              "missing": [facts], "found_forbidden": [texts], "failed": bool}]}],
     "history": []}

``history``: [{"created", "config", "set", "metrics": {"handled": .., "recall@5": .., "mrr@10": .., "coverage": .., ...}}].

The report shows first the halves side by side (check first) per set, per question type and per
expected behaviour, with the issue's targets met or not and the gate; then each set in detail.
Missing parts are tolerated (an empty section or "—"), so a partial run still gets a report.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from eval.dataset import HALVES
from eval.gate import Check, targets_met
from eval.metrics import COUNTS, EXPECTED_KIND, MISSING_PLACES, latency_summary, refusal_reason

TITLE = "Rapport d'évaluation Repères"
NBSP = "\u00a0"
DASH = "—"

# (key, column header, kind). kind: "count" (integer), "rate" (0-1 shown as %), "score" (0-1 decimal), "ms" (latency).
COLUMNS: list[tuple[str, str, str]] = [
    ("questions", "Questions", "count"),
    ("handled", "Traitées", "rate"),
    ("recall@1", "Rappel@1", "rate"),
    ("recall@5", "Rappel@5", "rate"),
    ("recall@10", "Rappel@10", "rate"),
    ("mrr@10", "MRR@10", "score"),
    ("ndcg@10", "nDCG@10", "score"),
    ("coverage", "Couverture des faits", "rate"),
    ("citation_precision", "Précision des citations", "rate"),
    ("refusal", "Taux de refus (sans réponse)", "rate"),
    ("false_refusal", "Faux refus", "rate"),
    ("invented_contacts", "Contacts inventés", "count"),
    ("grounding_drops", "Pertes d'ancrage", "count"),
    ("latency_p50", "Latence p50 (totale)", "ms"),
    ("latency_p95", "Latence p95 (totale)", "ms"),
]
HIGHER_IS_BETTER = {
    "handled",
    "followup_coverage",
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "coverage",
    "citation_precision",
    "refusal",
}
LOWER_IS_BETTER = {
    "leaks",
    "ruled_out_kept",
    "false_refusal",
    "invented_contacts",
    "grounding_drops",
    "latency_p50",
    "latency_p95",
}

DEFINITIONS: dict[str, str] = {
    "questions": "Nombre de questions du jeu (ou du type).",
    "handled": "Part des questions traitées : réponse du genre attendu (réponse, « non précisé », demande de précision, "
    "hors champ, message d'erreur), tous les faits attendus présents et aucun texte interdit (« must not include »).",
    "leaks": "Entrées hostiles : nombre de textes interdits retrouvés dans les réponses (e-mails ou téléphones de l'annuaire, "
    "adresse ou script injectés).",
    "followup_coverage": "Conversations : part des faits attendus présents dans les réponses aux relances (tours 2 et suivants).",
    "ruled_out_kept": "Conversations : part des tours où une action que la relance écarte (« must not include ») apparaît encore.",
    "recall@1": "Part des questions (avec réponse) dont un passage de référence est le premier passage retrouvé.",
    "recall@5": "Part des questions (avec réponse) dont un passage de référence figure parmi les 5 premiers passages retrouvés.",
    "recall@10": "Part des questions (avec réponse) dont un passage de référence figure parmi les 10 premiers passages retrouvés.",
    "mrr@10": "Moyenne de 1 / rang du premier passage de référence dans les 10 premiers (0 s'il n'y en a pas) ; de 0 à 1.",
    "ndcg@10": "Qualité du classement des 10 premiers passages (chaque source de référence compte une fois) ; de 0 à 1.",
    "coverage": "Part des faits attendus (« must include ») présents dans la réponse, sans tenir compte des accents ni de la casse.",
    "citation_precision": "Part des passages cités par la réponse qui recouvrent une source de référence.",
    "refusal": "Questions sans réponse dans les documents : part où l'assistant dit que l'information n'est pas précisée (plus c'est haut, mieux c'est).",
    "false_refusal": "Questions avec réponse : part où l'assistant a refusé de répondre (plus c'est bas, mieux c'est).",
    "invented_contacts": "Nombre d'adresses e-mail ou de numéros de téléphone des réponses absents de tout le corpus.",
    "grounding_drops": "Pertes d'ancrage : nombre de contacts ou de nombres des réponses absents des passages qu'elles citent.",
    "latency_p50": "Médiane du temps total par question (recherche + réponse).",
    "latency_p95": "95e centile du temps total par question.",
}

TYPE_LABELS: dict[str, str] = {
    "all": "Toutes les questions",
    "eligibility": "Éligibilité",
    "factual": "Factuelle",
    "contact": "Contact",
    "unanswerable": "Sans réponse",
    "porteur": "Porteur",
    "comparison/multi-hop": "Comparaison / multi-sources",
    "comparison": "Comparaison",
    "multi-hop": "Multi-sources",
    "territory": "Territoire",
    "conversation": "Conversation",
    "out_of_territory": "Hors territoire",
    "off_topic": "Hors sujet",
    "vague": "Trop vague",
    "false_premise": "Fausse prémisse",
    "english": "En anglais",
    "sms": "Style SMS",
    "adversarial": "Entrée hostile ou malformée",
}

CHART_METRICS: list[tuple[str, str]] = [("recall@5", "Rappel@5"), ("mrr@10", "MRR@10"), ("coverage", "Couverture des faits")]
# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999", "#000000"]
HISTORY_STYLES = {"recall@5": ("#0072B2", ""), "mrr@10": ("#D55E00", "6 4"), "coverage": ("#009E73", "2 3")}
TOP_RETRIEVED = 10


# --- public API ----------------------------------------------------------------------------------


def write_report(results: dict, out_dir: Path) -> dict[str, Path]:
    """Write report.html, report.md and results.json into out_dir (created if needed), each atomically
    (temp file in the same folder + os.replace). Returns {"html": path, "md": path, "json": path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Render everything first: a rendering error leaves the previous files untouched.
    texts = {
        "json": json.dumps(results, ensure_ascii=False, indent=2) + "\n",
        "md": render_markdown(results),
        "html": render_html(results),
    }
    paths = {"html": out_dir / "report.html", "md": out_dir / "report.md", "json": out_dir / "results.json"}
    for key in ("json", "md", "html"):
        _write_atomic(paths[key], texts[key])
    return paths


def render_html(results: dict) -> str:
    """The whole report as one self-contained HTML page (inline CSS and SVG, no external resource)."""
    sets = _sets(results)
    many = len(sets) > 1
    nav = ['<a href="#moities">Moitiés côte à côte</a>'] if any(_has_halves(s) for s in sets) else []
    if many:
        nav += [f'<a href="#jeu-{i + 1}">{_e(_set_name(s))}</a>' for i, s in enumerate(sets)]
    else:
        nav += [
            '<a href="#comparaison">Comparaison</a><a href="#par-type">Par type</a><a href="#graphiques">Graphiques</a>'
            '<a href="#latence">Latence</a><a href="#echecs">Questions en échec</a>'
        ]
    nav += ['<a href="#historique">Historique</a><a href="#definitions">Définitions</a>']
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(TITLE)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{_e(TITLE)}</h1>",
        '<dl class="meta">',
        f"<dt>{'Jeux de questions' if many else 'Jeu de questions'}</dt>"
        f"<dd>{', '.join(f'<code>{_e(_set_name(s))}</code>' for s in sets)}</dd>",
        f"<dt>Date</dt><dd>{_e(_fmt_date(results.get('created') or (sets[0].get('created') if sets else None)))}</dd>",
        f"<dt>Configurations</dt><dd>{_e(', '.join(_set_configs(results, sets)) or DASH)}</dd>",
        f"<dt>Questions</dt><dd>{_e(' ; '.join(_question_count(_runs(s)) for s in sets))}</dd>",
        f"<dt>Moitiés</dt><dd>{_e(_split_text(results, sets))}</dd>",
        "</dl>",
        f"<nav>{''.join(nav)}</nav>",
        "</header>",
    ]
    if any(_has_halves(s) for s in sets):
        parts += [
            '<section id="moities">',
            "<h2>Moitiés côte à côte : contrôle, puis réglage</h2>",
            f'<p class="note">{_e(HALVES_NOTE)}</p>',
            *(_halves_html(s) for s in sets if _has_halves(s)),
            "</section>",
        ]
    for index, one in enumerate(sets):
        suffix = f"-{index + 1}" if many else ""
        if many:
            parts.append(f'<section id="jeu-{index + 1}"><h2>Jeu <code>{_e(_set_name(one))}</code> : détail</h2>')
        parts += _set_html(one, suffix)
        if many:
            parts.append("</section>")
    parts += [
        '<section id="historique">',
        "<h2>Historique des exécutions</h2>",
        _history_section(results.get("history") or []),
        "</section>",
        '<section id="definitions">',
        "<h2>Définitions</h2>",
        '<dl class="glossary">',
        *(f"<dt>{_e(header)}</dt><dd>{_e(DEFINITIONS[key])}</dd>" for key, header in _glossary()),
        "</dl>",
        "</section>",
        f'<footer class="note">Rapport généré à partir de <code>results.json</code> ({_e(_fmt_date(results.get("created")))}). '
        "Page autonome : aucune ressource externe.</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _set_html(results: dict, suffix: str) -> list[str]:
    """The detailed sections of one set: configurations compared, per type, charts, latency, failures."""
    runs = _runs(results)
    types = _types(runs)
    level = "h3" if suffix else "h2"
    parts = [
        f'<section id="comparaison{suffix}">',
        f"<{level}>Comparaison des configurations</{level}>",
        '<p class="note">Toutes les questions du jeu. En gras et en vert : la meilleure valeur de chaque colonne.</p>',
        _html_table("Configuration", [(_config(run), _row(run, "all")) for run in runs], highlight=True),
        "</section>",
        f'<section id="par-type{suffix}">',
        f"<{level}>Résultats par type de question</{level}>",
    ]
    if not runs:
        parts.append('<p class="note">Aucune exécution dans les résultats.</p>')
    for run in runs:
        kinds = ["all", *[t for t in types if t in _run_types(run)]]
        parts.append(f"<h3>{_e(_config(run))}</h3>")
        parts.append(_html_table("Type de question", [(_type_label(k), _row(run, k)) for k in kinds], highlight=False))
    parts += [
        "</section>",
        f'<section id="graphiques{suffix}">',
        f"<{level}>Rappel@5, MRR@10 et couverture par type de question</{level}>",
        '<p class="note">Une barre par configuration ; axe de 0 à 100 % (le MRR@10, de 0 à 1, est multiplié par 100). '
        "« — » : la mesure ne s'applique pas à ce type.</p>",
    ]
    for metric, label in CHART_METRICS:
        parts.append(f"<figure><figcaption>{_e(label)}</figcaption>{_bar_chart(metric, label, runs, types)}</figure>")
    parts += [
        "</section>",
        f'<section id="latence{suffix}">',
        f"<{level}>Latence totale par question</{level}>",
        _latency_section(runs),
        "</section>",
        f'<section id="echecs{suffix}">',
        f"<{level}>Questions en échec</{level}>",
        _failed_section(runs),
        "</section>",
    ]
    return parts


def render_markdown(results: dict) -> str:
    """The halves side by side, then per set the comparison table, the per-type tables and a compact
    list of the failed questions."""
    sets = _sets(results)
    many = len(sets) > 1
    lines = [
        f"# {TITLE}",
        "",
        f"- **{'Jeux de questions' if many else 'Jeu de questions'}** : " + ", ".join(f"`{_set_name(s)}`" for s in sets),
        f"- **Date** : {_fmt_date(results.get('created') or (sets[0].get('created') if sets else None))}",
        f"- **Configurations** : {_md(', '.join(_set_configs(results, sets)) or DASH)}",
        f"- **Questions** : {' ; '.join(_question_count(_runs(s)) for s in sets)}",
        f"- **Moitiés** : {_md(_split_text(results, sets))}",
    ]
    if any(_has_halves(s) for s in sets):
        lines += ["", "## Moitiés côte à côte : contrôle, puis réglage", "", _md(HALVES_NOTE)]
        for one in sets:
            if _has_halves(one):
                lines += _halves_md(one)
    for one in sets:
        lines += ["", f"## Jeu `{_set_name(one)}` : détail"] if many else []
        lines += _set_md(one)
    lines += ["", "## Définitions", ""]
    lines += [f"- **{_md(header)}** : {_md(DEFINITIONS[key])}" for key, header in _glossary()]
    return "\n".join(lines) + "\n"


def _set_md(results: dict) -> list[str]:
    runs = _runs(results)
    types = _types(runs)
    lines = [
        "",
        "### Comparaison des configurations",
        "",
        "Toutes les questions ; en gras, la meilleure valeur de chaque colonne.",
        "",
        *_md_table("Configuration", [(_config(run), _row(run, "all")) for run in runs], highlight=True),
        "",
        "### Résultats par type de question",
    ]
    for run in runs:
        kinds = ["all", *[t for t in types if t in _run_types(run)]]
        lines += ["", f"#### {_md(_config(run))}", ""]
        lines += _md_table("Type de question", [(_type_label(k), _row(run, k)) for k in kinds], highlight=False)
    lines += ["", "### Questions en échec"]
    for run in runs:
        failed = [q for q in _questions(run) if q.get("failed")]
        lines += ["", f"#### {_md(_config(run))} — {_failed_count_text(len(failed), len(_questions(run)))}", ""]
        if not failed:
            lines.append("Aucune question en échec.")
        shown, hidden = _readable_failures(failed)
        for q in shown:
            lines += _md_failed(q)
        if hidden:
            lines += ["", _hidden_text(hidden)]
    return lines


def _readable_failures(failed: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The failed questions a reader may see, and how many are not shown: those of the check half (it is
    read by the evaluation alone; its questions are never shown, so nothing is written for them)."""
    shown = [q for q in failed if q.get("split") != "check"]
    return shown, len(failed) - len(shown)


def _hidden_text(count: int) -> str:
    noun = "question de la moitié contrôle" if count == 1 else "questions de la moitié contrôle"
    return f"{count} {noun} en échec : non affichée(s), la moitié contrôle n'est lue que par l'évaluation."


def render_text(results: dict) -> str:
    """The halves side by side as plain text for the terminal (`reperes eval`): per set and
    configuration, the tables per type and per expected behaviour, the targets met and the gate."""
    out: list[str] = []
    for one in _sets(results):
        for run in _runs(one):
            halves = [h for h in HALVES if h in (run.get("halves") or {})]
            if not halves:
                continue
            out += ["", f"== {_set_name(one)} — {_config(run)} ({_kind_label(one)}) : {_split_count_text(run)}"]
            for title, group, labels in (("type", "metrics", _type_label), ("comportement attendu", "by_expect", _expect_label)):
                rows = _half_rows(run, group, labels)
                columns = _half_columns(rows, halves)
                if len(rows) < 2 or not columns or (group == "by_expect" and len(rows) == 2):
                    continue  # one behaviour expected: the same numbers as "all"
                head = [
                    f"par {title}",
                    *(f"{TEXT_HEADERS.get(key, header)} {HALF_SHORT[h]}" for key, header, _ in columns for h in halves),
                ]
                body = [
                    [label, *(_fmt(cells.get(h, {}).get(key), kind) for key, _, kind in columns for h in halves)]
                    for label, cells in rows
                ]
                out += _text_table(head, body)
            where = _missing_where_text(run, halves)
            if where:
                out.append(where)
            wrongly = _false_refusals_text(run, halves)
            if wrongly:
                out.append(wrongly)
            targets = targets_met(run, str(one.get("kind") or "dev"))
            if targets:
                out.append("Objectifs de l'issue :")
                out += [f"  - {_target_text(target, cells)}" for target, cells in targets]
            gate = _gate_lines(one)
            if gate is not None:
                out.append("Seuils de qualité : " + ("non atteints (voir ci-dessous)" if gate else "tous atteints"))
    if out:
        out.append(
            f"({HALF_SHORT['check']} = moitié contrôle, {HALF_SHORT['tune']} = moitié réglage ; Couv. : couverture des faits, "
            "Inventés : contacts inventés, Relances : couverture des relances, Écartée : tours gardant une action écartée)"
        )
    return "\n".join(out).lstrip("\n")


def _missing_where_text(run: dict[str, Any], halves: Sequence[str]) -> str:
    """Where the facts the answers miss were, per half: whether retrieval or the answer lost them."""
    labels = dict(
        zip(
            MISSING_PLACES,
            (
                "dans un passage cité",
                "dans les 5 premiers passages",
                "aux rangs 6 à 10",
                "non retrouvés",
                "absents du corpus mot pour mot",
            ),
            strict=True,
        )
    )
    counts = {h: {p: 0 for p in labels} for h in halves}
    for q in _questions(run):
        for place in q.get("missing_where") or ():
            if q.get("split") in counts and place in labels:
                counts[q["split"]][place] += 1
    if not any(sum(c.values()) for c in counts.values()):
        return ""
    cells = " ; ".join(f"{label} {' / '.join(str(counts[h][p]) for h in halves)}" for p, label in labels.items())
    return f"Faits manquants ({' / '.join(HALF_SHORT[h] for h in halves)}) : {cells}"


def _false_refusals_text(run: dict[str, Any], halves: Sequence[str]) -> str:
    """Which refusal answered the questions the documents do answer, per half (counts, no item shown)."""
    counts: dict[str, dict[str, int]] = {}
    for q in _questions(run):
        if (q.get("scores") or {}).get("false_refusal") and q.get("split") in halves:
            reason = refusal_reason(str(q.get("kind") or ""), str(q.get("answer") or ""))
            counts.setdefault(reason, {h: 0 for h in halves})[q["split"]] += 1
    if not counts:
        return ""
    cells = " ; ".join(f"{reason} {' / '.join(str(c[h]) for h in halves)}" for reason, c in sorted(counts.items()))
    return f"Refus à tort par motif ({' / '.join(HALF_SHORT[h] for h in halves)}) : {cells}"


# --- halves side by side -------------------------------------------------------------------------

HALVES_NOTE = (
    "Chaque jeu est partagé une fois pour toutes en deux moitiés par une empreinte de l'identifiant : "
    "les règles, listes de formulations, exemples et paramètres s'écrivent à partir de la moitié réglage seulement ; "
    "la moitié contrôle n'est lue que par l'évaluation. Un écart entre les deux signale un réglage sur mesure."
)
HALF_LABELS = {"check": "Contrôle", "tune": "Réglage"}
HALF_SHORT = {"check": "C", "tune": "R"}
# Shorter headers for the terminal.
TEXT_HEADERS = {
    "questions": "Quest.",
    "recall@5": "R@5",
    "coverage": "Couv.",
    "refusal": "Refus",
    "invented_contacts": "Inventés",
    "followup_coverage": "Relances",
    "ruled_out_kept": "Écartée",
}
# (key, header, kind) of the side-by-side tables; a column no row fills is left out.
HALF_COLUMNS: list[tuple[str, str, str]] = [
    ("questions", "Questions", "count"),
    ("handled", "Traitées", "rate"),
    ("recall@5", "Rappel@5", "rate"),
    ("coverage", "Couverture des faits", "rate"),
    ("refusal", "Refus justes", "rate"),
    ("false_refusal", "Faux refus", "rate"),
    ("invented_contacts", "Contacts inventés", "count"),
    ("leaks", "Fuites", "count"),
    ("followup_coverage", "Couverture des relances", "rate"),
    ("ruled_out_kept", "Action écartée gardée", "rate"),
]
EXPECT_LABELS: dict[str, str] = {
    "all": "Toutes les questions",
    "answer": "Répondre",
    "refuse": "Dire que ce n'est pas précisé",
    "clarify": "Faire préciser",
    "out_of_scope": "Hors champ",
    "error_message": "Message d'erreur",
}
KIND_LABELS: dict[str, str] = {
    "dev": "réponses et refus",
    "expect": "comportements attendus",
    "adversarial": "entrées hostiles",
    "conversations": "conversations",
}


def _has_halves(results: dict) -> bool:
    return any(run.get("halves") for run in _runs(results))


def _expect_label(expect: str) -> str:
    return EXPECT_LABELS.get(expect, expect)


def _kind_label(results: dict) -> str:
    kind = str(results.get("kind") or "dev")
    return KIND_LABELS.get(kind, kind)


def _split_count_text(run: dict[str, Any]) -> str:
    halves = run.get("halves") or {}
    counts = []
    for half in HALVES:
        if half in halves:
            n = _number(((halves[half].get("metrics") or {}).get("all") or {}).get("questions"))
            counts.append(f"{HALF_LABELS[half].lower()} {_fmt(n, 'count')}")
    return ", ".join(counts) + " questions"


def _split_text(results: dict, sets: Sequence[dict]) -> str:
    split = results.get("split") or next((s.get("split") for s in sets if s.get("split")), None)
    return {"both": "contrôle et réglage", "check": "contrôle seulement", "tune": "réglage seulement"}.get(
        str(split), "non séparées"
    )


def _half_rows(
    run: dict[str, Any], group: str, labels: Callable[[str], str]
) -> list[tuple[str, dict[str, dict[str, float | None]]]]:
    """(label, {half: {metric: value}}) for "all" then each group (type or expect) seen in a half."""
    halves = run.get("halves") or {}
    names: list[str] = ["all"]
    for half in HALVES:
        for name in (halves.get(half) or {}).get(group) or {}:
            if name not in names:
                names.append(str(name))
    rows = []
    for name in names:
        cells: dict[str, dict[str, float | None]] = {
            half: {
                key: _number((((halves.get(half) or {}).get(group) or {}).get(name) or {}).get(key)) for key, _, _ in HALF_COLUMNS
            }
            for half in HALVES
            if half in halves
        }
        rows.append((labels(name), cells))
    return rows


def _half_columns(
    rows: Sequence[tuple[str, dict[str, dict[str, float | None]]]], halves: Sequence[str]
) -> list[tuple[str, str, str]]:
    return [
        column for column in HALF_COLUMNS if any(cells.get(h, {}).get(column[0]) is not None for _, cells in rows for h in halves)
    ]


def _target_value(target: Check, value: float | None) -> str:
    return _fmt(value, "count" if target.metric in COUNTS else "rate")


def _target_text(target: Check, cells: dict[str, tuple[float | None, bool | None]]) -> str:
    bits = []
    for half, (value, met) in cells.items():
        if met is None:
            bits.append(f"{HALF_LABELS[half].lower()} sans objet")
        else:
            bits.append(f"{HALF_LABELS[half].lower()} {_target_value(target, value)} {'atteint' if met else 'non atteint'}")
    return f"{target.label} ({', '.join(bits)})"


def _gate_lines(results: dict) -> list[str] | None:
    gate = results.get("gate")
    return [str(line) for line in gate] if isinstance(gate, list) else None


def _halves_html(results: dict) -> str:
    parts = [f"<h3>Jeu <code>{_e(_set_name(results))}</code> ({_e(_kind_label(results))})</h3>"]
    for run in _runs(results):
        halves = [h for h in HALVES if h in (run.get("halves") or {})]
        if not halves:
            continue
        parts.append(f'<p class="note">Configuration {_e(_config(run))} : {_e(_split_count_text(run))}.</p>')
        for title, group, labels in (
            ("Type de question", "metrics", _type_label),
            ("Comportement attendu", "by_expect", _expect_label),
        ):
            rows = _half_rows(run, group, labels)
            columns = _half_columns(rows, halves)
            if not columns:
                continue
            head1 = f'<th scope="col" rowspan="2" class="text">{_e(title)}</th>' + "".join(
                f'<th scope="colgroup" colspan="{len(halves)}" title="{_e(DEFINITIONS[key])}">{_e(header)}</th>'
                for key, header, _ in columns
            )
            head2 = "".join(f'<th scope="col" class="{h}">{_e(HALF_LABELS[h])}</th>' for _ in columns for h in halves)
            body = []
            for label, cells in rows:
                tds = "".join(
                    f'<td class="{"check" if h == "check" else "tune"}">{_e(_fmt(cells.get(h, {}).get(key), kind))}</td>'
                    for key, _, kind in columns
                    for h in halves
                )
                body.append(f'<tr><th scope="row" class="text">{_e(label)}</th>{tds}</tr>')
            parts.append(
                f'<div class="table-wrap"><table class="halves"><thead><tr>{head1}</tr><tr>{head2}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table></div>"
            )
        targets = targets_met(run, str(results.get("kind") or "dev"))
        if targets:
            rows_html = []
            for target, reached in targets:
                tds = ""
                for h in halves:
                    value, met = reached.get(h, (None, None))
                    mark = (
                        "sans objet"
                        if met is None
                        else ('<span class="ok">✓ atteint</span>' if met else '<span class="bad">✗ non atteint</span>')
                    )
                    tds += f'<td>{_e(_target_value(target, value))}</td><td class="text">{mark}</td>'
                rows_html.append(f'<tr><th scope="row" class="text">{_e(target.label)}</th>{tds}</tr>')
            head = '<th scope="col" class="text">Objectif de l\'issue</th>' + "".join(
                f'<th scope="col">{_e(HALF_LABELS[h])}</th><th scope="col" class="text">atteint ?</th>' for h in halves
            )
            parts.append(
                f'<div class="table-wrap"><table class="targets"><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows_html)}</tbody></table></div>"
            )
    gate = _gate_lines(results)
    if gate is not None:
        if gate:
            items = "".join(f"<li>{_e(line)}</li>" for line in gate)
            parts.append(f'<p class="bad">Seuils de qualité non atteints :</p><ul class="gate">{items}</ul>')
        else:
            parts.append('<p class="ok">Seuils de qualité : tous atteints (moitié contrôle et moitié réglage).</p>')
    return "".join(parts)


def _halves_md(results: dict) -> list[str]:
    lines = ["", f"### Jeu `{_set_name(results)}` ({_md(_kind_label(results))})"]
    for run in _runs(results):
        halves = [h for h in HALVES if h in (run.get("halves") or {})]
        if not halves:
            continue
        lines += ["", f"Configuration {_md(_config(run))} : {_md(_split_count_text(run))}."]
        for title, group, labels in (
            ("Type de question", "metrics", _type_label),
            ("Comportement attendu", "by_expect", _expect_label),
        ):
            rows = _half_rows(run, group, labels)
            columns = _half_columns(rows, halves)
            if not columns:
                continue
            heads = [_md(title), *(_md(f"{header} · {HALF_LABELS[h].lower()}") for _, header, _ in columns for h in halves)]
            lines += ["", "| " + " | ".join(heads) + " |", "|" + "|".join([":---", *("---:" for _ in heads[1:])]) + "|"]
            for label, cells in rows:
                values = [_fmt(cells.get(h, {}).get(key), kind) for key, _, kind in columns for h in halves]
                lines.append("| " + " | ".join([_md(label), *values]) + " |")
        targets = targets_met(run, str(results.get("kind") or "dev"))
        if targets:
            lines += ["", "Objectifs de l'issue :", ""]
            lines += [f"- {_md(_target_text(target, cells))}" for target, cells in targets]
    gate = _gate_lines(results)
    if gate is not None:
        lines += ["", "Seuils de qualité : " + ("non atteints" if gate else "tous atteints (moitié contrôle et moitié réglage).")]
        lines += [f"- {_md(line)}" for line in gate]
    return lines


def _text_table(head: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    widths[0] = min(widths[0], 34)

    def line(row: Sequence[str]) -> str:
        first = row[0] if len(row[0]) <= widths[0] else row[0][: widths[0] - 1] + "…"
        return "  ".join([first.ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True))])

    return [line(head), *(line(row) for row in body)]


def _glossary() -> list[tuple[str, str]]:
    seen = {key for key, _, _ in COLUMNS}
    return [(key, header) for key, header, _ in COLUMNS] + [(key, header) for key, header, _ in HALF_COLUMNS if key not in seen]


# --- files ---------------------------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file next to ``path``, then rename it over ``path`` (never a half-written file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a report is meant to be read
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --- reading the results -------------------------------------------------------------------------


def _sets(results: dict) -> list[dict[str, Any]]:
    """The sets of a run: ``results["sets"]`` (one `reperes eval` over several sets), or the results
    themselves (one set, the shape before several sets)."""
    sets = results.get("sets")
    if isinstance(sets, list):
        return [s for s in sets if isinstance(s, dict)]
    return [results]


def _set_name(results: dict) -> str:
    return str(results.get("set") or DASH)


def _set_configs(results: dict, sets: Sequence[dict[str, Any]]) -> list[str]:
    configs: list[str] = []
    for one in sets:
        for name in [_config(run) for run in _runs(one)] or [str(c) for c in one.get("configs") or []]:
            if name not in configs:
                configs.append(name)
    return configs or [str(c) for c in results.get("configs") or []]


def _runs(results: dict) -> list[dict[str, Any]]:
    return [run for run in results.get("runs") or [] if isinstance(run, dict)]


def _config(run: dict[str, Any]) -> str:
    return str(run.get("config") or "?")


def _questions(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for q in run.get("questions") or [] if isinstance(q, dict)]


def _run_types(run: dict[str, Any]) -> set[str]:
    return {str(k) for k in (run.get("metrics") or {}) if k != "all"} | {
        str(q.get("type")) for q in _questions(run) if q.get("type")
    }


def _types(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Question types in first-seen order over every run (metrics first, then questions)."""
    seen: list[str] = []
    for run in runs:
        names = [str(k) for k in (run.get("metrics") or {})] + [str(q.get("type")) for q in _questions(run) if q.get("type")]
        for name in names:
            if name != "all" and name not in seen:
                seen.append(name)
    return seen


def _type_label(kind: str) -> str:
    return TYPE_LABELS.get(kind, kind)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _total_latencies(run: dict[str, Any], kind: str = "all") -> list[float]:
    """Total per-question latencies (ms) of a run, or of one question type."""
    if kind == "all":
        listed = (run.get("latencies_ms") or {}).get("total")
        if isinstance(listed, list):
            return [v for v in (_number(x) for x in listed) if v is not None]
    questions = [q for q in _questions(run) if kind == "all" or str(q.get("type")) == kind]
    values = (_number((q.get("timings_ms") or {}).get("total")) for q in questions)
    return [v for v in values if v is not None]


def _row(run: dict[str, Any], kind: str) -> dict[str, float | None]:
    """The table values of one run for one question type ("all" for every question)."""
    metrics = (run.get("metrics") or {}).get(kind) or {}
    row = {key: _number(metrics.get(key)) for key, _, _ in COLUMNS if not key.startswith("latency_")}
    if row["questions"] is None:
        count = sum(1 for q in _questions(run) if kind == "all" or str(q.get("type")) == kind)
        row["questions"] = float(count) if count else None
    summary: dict[str, Any] = {}
    if kind == "all":
        summary = (run.get("latency") or {}).get("total") or {}
    if _number(summary.get("p50")) is None:
        values = _total_latencies(run, kind)
        summary = latency_summary(values) if values else {}
    row["latency_p50"] = _number(summary.get("p50"))
    row["latency_p95"] = _number(summary.get("p95"))
    return row


def _question_count(runs: Sequence[dict[str, Any]]) -> str:
    counts = {_row(run, "all")["questions"] for run in runs} - {None}
    return " / ".join(_fmt(c, "count") for c in sorted(c for c in counts if c is not None)) or DASH


def _best(rows: Sequence[dict[str, float | None]], key: str) -> float | None:
    """The best value of a column when there is something to compare (two distinct values at least)."""
    values = [v for v in (row.get(key) for row in rows) if v is not None]
    if len(set(values)) < 2:
        return None
    if key in HIGHER_IS_BETTER:
        return max(values)
    if key in LOWER_IS_BETTER:
        return min(values)
    return None


# --- formatting ----------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _decimal(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def _fmt_ms(value: float) -> str:
    if value >= 1000:
        return _decimal(value / 1000, 2) + NBSP + "s"
    if value >= 100:
        return _decimal(value, 0) + NBSP + "ms"
    if value >= 10:
        return _decimal(value, 1) + NBSP + "ms"
    return _decimal(value, 2) + NBSP + "ms"


def _fmt(value: Any, kind: str) -> str:
    number = _number(value)
    if number is None:
        return DASH
    if kind == "rate":
        return _decimal(number * 100, 1) + NBSP + "%"
    if kind == "score":
        return _decimal(number, 3)
    if kind == "ms":
        return _fmt_ms(number)
    return str(int(number)) if number.is_integer() else _decimal(number, 1)


def _parse_date(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _fmt_date(value: Any) -> str:
    parsed = _parse_date(value)
    if parsed is None:
        return str(value) if value else DASH
    text = parsed.strftime("%d/%m/%Y à %H:%M")
    offset = parsed.utcoffset()
    if offset is None:
        return text
    if offset == timedelta(0):
        return text + " UTC"
    sign = "+" if offset >= timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return text + f" UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _lines_text(item: dict[str, Any]) -> str:
    start, end = item.get("line_start"), item.get("line_end")
    if start is None:
        return ""
    return f"l. {start}" if end in (None, start) else f"l. {start}–{end}"


def _source_text(item: dict[str, Any], key: str = "file") -> str:
    return " ".join(p for p in (str(item.get(key) or "?"), _lines_text(item)) if p)


def _failed_count_text(failed: int, total: int) -> str:
    if failed == 0:
        return f"aucune question en échec sur {total}"
    noun = "question en échec" if failed == 1 else "questions en échec"
    return f"{failed} {noun} sur {total}"


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# --- HTML pieces ---------------------------------------------------------------------------------


def _html_table(first: str, rows: Sequence[tuple[str, dict[str, float | None]]], highlight: bool) -> str:
    if not rows:
        return '<p class="note">Aucune donnée.</p>'
    best = {key: _best([r for _, r in rows], key) for key, _, _ in COLUMNS} if highlight else {}
    head = f'<th scope="col" class="text">{_e(first)}</th>' + "".join(
        f'<th scope="col" title="{_e(DEFINITIONS[key])}">{_e(header)}</th>' for key, header, _ in COLUMNS
    )
    body = []
    for label, row in rows:
        cells = []
        for key, _, kind in COLUMNS:
            text = _e(_fmt(row.get(key), kind))
            is_best = best.get(key) is not None and row.get(key) == best[key]
            cells.append(f'<td class="best">{text}</td>' if is_best else f"<td>{text}</td>")
        body.append(f'<tr><th scope="row" class="text">{_e(label)}</th>{"".join(cells)}</tr>')
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _f(value: float) -> str:
    return f"{value:.1f}"


def _svg_text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11, cls: str = "") -> str:
    css = f' class="{cls}"' if cls else ""
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}"{css}>{_e(text)}</text>'


def _wrap(text: str, width: int) -> list[str]:
    """Split a label into at most two lines of about ``width`` characters."""
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    if len(lines) > 2:
        lines = [lines[0], _shorten(" ".join(lines[1:]), width)]
    return lines


def _legend(entries: Sequence[tuple[str, str, str]], x: float, y: float) -> str:
    """A horizontal legend: (colour, dash pattern or "" for a filled square, label)."""
    out = []
    for colour, dash, label in entries:
        if dash == "":
            out.append(f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="12" height="12" rx="2" fill="{colour}"/>')
        else:
            dash_attr = f' stroke-dasharray="{dash}"' if dash != "solid" else ""
            out.append(
                f'<line x1="{_f(x)}" y1="{_f(y - 3)}" x2="{_f(x + 22)}" y2="{_f(y - 3)}" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            )
            x += 10
        out.append(_svg_text(x + 17, y + 1, label, anchor="start", size=12))
        x += 17 + 7 * len(label) + 22
    return "".join(out)


def _percent_axis(left: float, right: float, top: float, height: float) -> str:
    out = []
    for tick in (0, 25, 50, 75, 100):
        y = top + height * (1 - tick / 100)
        out.append(
            f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(right)}" y2="{_f(y)}" class="{"axis" if tick == 0 else "grid"}"/>'
        )
        out.append(_svg_text(left - 6, y + 4, f"{tick}{NBSP}%", anchor="end", size=11, cls="tick"))
    return "".join(out)


def _svg(width: int, height: int, label: str, body: Iterable[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{_e(label)}</title>{''.join(body)}</svg>"
    )


def _bar_chart(metric: str, label: str, runs: Sequence[dict[str, Any]], types: Sequence[str]) -> str:
    """Grouped bars: one group per question type (all questions first), one bar per configuration."""
    if not runs:
        return '<p class="note">Aucune donnée.</p>'
    groups = ["all", *types]
    width, height, left, right, top, bottom = 1000, 320, 56, 12, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    group_w = plot_w / len(groups)
    inner = group_w * 0.82
    bar_w = inner / len(runs)
    kind = next(k for key, _, k in COLUMNS if key == metric)
    body = [_percent_axis(left, width - right, top, plot_h)]
    for gi, group in enumerate(groups):
        gx = left + gi * group_w + (group_w - inner) / 2
        if gi == 1:
            sep = left + group_w
            body.append(f'<line x1="{_f(sep)}" y1="{_f(top)}" x2="{_f(sep)}" y2="{_f(top + plot_h)}" class="sep"/>')
        for ci, run in enumerate(runs):
            row = _row(run, group)
            value = row.get(metric)
            x = gx + ci * bar_w
            colour = PALETTE[ci % len(PALETTE)]
            tip = f"{_config(run)} — {_type_label(group)} : {_fmt(value, kind)}"
            if row.get("questions") is not None:
                tip += f" ({_fmt(row['questions'], 'count')} questions)"
            if value is None:
                body.append(_svg_text(x + bar_w / 2, top + plot_h - 4, DASH, size=11, cls="muted"))
                continue
            share = min(1.0, max(0.0, value))
            bar_h = plot_h * share
            y = top + plot_h - bar_h
            body.append(
                f'<rect x="{_f(x + 1)}" y="{_f(y)}" width="{_f(max(1.0, bar_w - 2))}" height="{_f(max(bar_h, 0.5))}" '
                f'fill="{colour}"><title>{_e(tip)}</title></rect>'
            )
            if bar_w >= 18:
                body.append(_svg_text(x + bar_w / 2, y - 4, str(round(share * 100)), size=10, cls="value"))
        for li, line in enumerate(_wrap(_type_label(group), max(8, int(group_w / 6.8)))):
            body.append(_svg_text(left + gi * group_w + group_w / 2, top + plot_h + 17 + li * 14, line, size=12, cls="label"))
    legend = [(PALETTE[i % len(PALETTE)], "", _config(run)) for i, run in enumerate(runs)]
    body.append(_legend(legend, left, 20))
    return _svg(width, height, f"{label} par type de question et par configuration", body)


def _count_ticks(maximum: int) -> list[int]:
    step = 1
    while maximum / step > 5:
        for factor in (2, 5, 10):
            if maximum / (step * factor) <= 5 or factor == 10:
                step *= factor
                break
    top = max(step, math.ceil(maximum / step) * step)
    return list(range(0, top + 1, step))


def _latency_section(runs: Sequence[dict[str, Any]]) -> str:
    series = [(_config(run), _total_latencies(run)) for run in runs]
    series = [(name, values) for name, values in series if values]
    if not series:
        return '<p class="note">Aucune mesure de latence dans les résultats.</p>'
    values = [v for _, vs in series for v in vs]
    lo, hi = min(values), max(values)
    log_scale = lo > 0 and hi / lo > 20
    note = (
        "Nombre de questions par tranche de temps total (recherche + réponse), une barre par configuration. "
        "Traits pointillés : médiane (p50) de chaque configuration."
    )
    if log_scale:
        note += " Échelle logarithmique : les temps vont de " + _fmt_ms(lo) + " à " + _fmt_ms(hi) + "."
    return f'<p class="note">{_e(note)}</p><figure><figcaption>Histogramme de la latence totale</figcaption>{_histogram(series, log_scale)}</figure>'


def _histogram(series: Sequence[tuple[str, list[float]]], log_scale: bool) -> str:
    values = [v for _, vs in series for v in vs]
    lo, hi = min(values), max(values)
    if hi <= lo:
        lo, hi = (lo * 0.9, hi * 1.1) if lo > 0 else (0.0, max(1.0, hi + 1.0))
    bins = max(6, min(24, math.ceil(math.sqrt(max(len(vs) for _, vs in series))) * 2))

    def fraction(v: float) -> float:
        if log_scale:
            return (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (v - lo) / (hi - lo)

    edges = [
        math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / bins) if log_scale else lo + (hi - lo) * i / bins
        for i in range(bins + 1)
    ]
    counts = []
    for _, vs in series:
        row = [0] * bins
        for v in vs:
            row[min(bins - 1, max(0, int(fraction(v) * bins)))] += 1
        counts.append(row)
    ticks = _count_ticks(max(max(row) for row in counts))
    width, height, left, right, top, bottom = 1000, 320, 56, 40, 40, 58
    plot_w, plot_h = width - left - right, height - top - bottom

    def xpos(v: float) -> float:
        return left + plot_w * min(1.0, max(0.0, fraction(v)))

    def ypos(count: float) -> float:
        return top + plot_h * (1 - count / ticks[-1])

    body = []
    for tick in ticks:
        y = ypos(tick)
        body.append(
            f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" y2="{_f(y)}" class="{"axis" if tick == 0 else "grid"}"/>'
        )
        body.append(_svg_text(left - 6, y + 4, str(tick), anchor="end", cls="tick"))
    for si, (name, _) in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        for bi in range(bins):
            if not counts[si][bi]:
                continue
            x0, x1 = xpos(edges[bi]), xpos(edges[bi + 1])
            sub = (x1 - x0) / len(series)
            x = x0 + si * sub
            y = ypos(counts[si][bi])
            tip = f"{name} : {counts[si][bi]} question(s) entre {_fmt_ms(edges[bi])} et {_fmt_ms(edges[bi + 1])}"
            body.append(
                f'<rect x="{_f(x + 0.5)}" y="{_f(y)}" width="{_f(max(1.0, sub - 1))}" height="{_f(top + plot_h - y)}" '
                f'fill="{colour}"><title>{_e(tip)}</title></rect>'
            )
    every = max(1, math.ceil((bins + 1) / 9))
    for i in range(0, bins + 1, every):
        x = xpos(edges[i])
        body.append(f'<line x1="{_f(x)}" y1="{_f(top + plot_h)}" x2="{_f(x)}" y2="{_f(top + plot_h + 5)}" class="axis"/>')
        body.append(_svg_text(x, top + plot_h + 18, _fmt_ms(edges[i]), size=11, cls="tick"))
    for si, (name, vs) in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        p50 = latency_summary(vs)["p50"]
        x = xpos(p50)
        # A white halo keeps the median line and its label visible over a bar of the same colour.
        body.append(f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(top + plot_h)}" stroke="#fff" stroke-width="5"/>')
        body.append(
            f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(top + plot_h)}" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="5 4"><title>{_e(f"{name} : médiane {_fmt_ms(p50)}")}</title></line>'
        )
        anchor, dx = ("end", -5) if x > left + plot_w * 0.85 else ("start", 5)
        body.append(
            f'<text x="{_f(x + dx)}" y="{_f(top + 12 + 15 * si)}" text-anchor="{anchor}" font-size="11" class="value halo">'
            f"{_e(f'{name} : p50 {_fmt_ms(p50)}')}</text>"
        )
    body.append(_svg_text(left + plot_w / 2, height - 8, "Temps total par question", size=12, cls="label"))
    body.append(
        f'<text transform="translate(14 {_f(top + plot_h / 2)}) rotate(-90)" text-anchor="middle" font-size="12" class="label">Questions</text>'
    )
    body.append(_legend([(PALETTE[i % len(PALETTE)], "", name) for i, (name, _) in enumerate(series)], left, 20))
    return _svg(width, height, "Histogramme de la latence totale par question", body)


def _history_section(history: Sequence[Any]) -> str:
    entries = [(order, h) for order, h in enumerate(history, start=1) if isinstance(h, dict)]
    if len(entries) < 2:
        return (
            f'<p class="note">Historique insuffisant : {len(entries)} exécution(s) enregistrée(s). '
            "Il en faut au moins deux pour tracer une évolution.</p>"
        )
    groups: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    for order, entry in entries:
        groups.setdefault((str(entry.get("config") or "?"), str(entry.get("set") or DASH)), []).append((order, entry))
    parts = [
        '<p class="note">Rappel@5, MRR@10 (multiplié par 100) et couverture des faits à chaque exécution enregistrée, '
        "une courbe par configuration et par jeu de questions ; abscisse : ordre des exécutions, avec leur date.</p>"
    ]
    singles = []
    for (config, set_name), points in groups.items():
        if len(points) < 2:
            singles.append(f"{config} ({set_name})")
            continue
        caption = f"{config} — {set_name}"
        parts.append(f"<figure><figcaption>{_e(caption)}</figcaption>{_line_chart(caption, points)}</figure>")
    if singles:
        parts.append(f'<p class="note">Une seule exécution, pas de courbe : {_e(", ".join(singles))}.</p>')
    return "".join(parts)


def _line_chart(caption: str, points: Sequence[tuple[int, dict[str, Any]]]) -> str:
    width, height, left, right, top, bottom = 1000, 300, 56, 36, 40, 54
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(points)

    def xpos(i: int) -> float:
        return left + 20 + (plot_w - 40) * (i / (n - 1) if n > 1 else 0.5)

    def ypos(value: float) -> float:
        return top + plot_h * (1 - min(1.0, max(0.0, value)))

    body = [_percent_axis(left, width - right, top, plot_h)]
    every = max(1, math.ceil(n / 10))
    for i, (order, entry) in enumerate(points):
        if i % every and i != n - 1:
            continue
        x = xpos(i)
        parsed = _parse_date(entry.get("created"))
        first, second = (parsed.strftime("%d/%m/%Y"), parsed.strftime("%H:%M")) if parsed else (f"n° {order}", "")
        body.append(f'<line x1="{_f(x)}" y1="{_f(top + plot_h)}" x2="{_f(x)}" y2="{_f(top + plot_h + 5)}" class="axis"/>')
        body.append(_svg_text(x, top + plot_h + 18, first, size=11, cls="tick"))
        if second:
            body.append(_svg_text(x, top + plot_h + 32, second, size=11, cls="tick"))
    for metric, label in CHART_METRICS:
        colour, dash = HISTORY_STYLES[metric]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        segment: list[str] = []
        segments: list[list[str]] = [segment]
        for i, (order, entry) in enumerate(points):
            value = _number((entry.get("metrics") or {}).get(metric))
            if value is None:
                segment = []
                segments.append(segment)
                continue
            x, y = xpos(i), ypos(value)
            segment.append(f"{_f(x)},{_f(y)}")
            tip = f"{label} : {_decimal(value * 100, 1)} — exécution n° {order}, {_fmt_date(entry.get('created'))}"
            body.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{colour}"><title>{_e(tip)}</title></circle>')
        for seg in segments:
            if len(seg) >= 2:
                body.insert(
                    1, f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
                )
    body.append(_legend([(HISTORY_STYLES[m][0], HISTORY_STYLES[m][1] or "solid", label) for m, label in CHART_METRICS], left, 20))
    return _svg(width, height, f"Historique : {caption}", body)


def _failed_section(runs: Sequence[dict[str, Any]]) -> str:
    if not runs:
        return '<p class="note">Aucune exécution dans les résultats.</p>'
    parts = [
        '<p class="note">Cliquer sur une question pour voir la réponse donnée, les faits attendus '
        "(les manquants sont surlignés), la réponse attendue, les sources de référence et les passages retrouvés.</p>"
    ]
    for run in runs:
        questions = _questions(run)
        failed = [q for q in questions if q.get("failed")]
        parts.append(f"<h3>{_e(_config(run))} — {_e(_failed_count_text(len(failed), len(questions)))}</h3>")
        if not failed:
            parts.append('<p class="note">Aucune question en échec.</p>')
        shown, hidden = _readable_failures(failed)
        parts += [_failed_question_html(q) for q in shown]
        if hidden:
            parts.append(f'<p class="note">{_e(_hidden_text(hidden))}</p>')
    return "".join(parts)


def _failed_question_html(q: dict[str, Any]) -> str:
    facts = [str(f) for f in q.get("must_include") or []]
    missing = {str(m) for m in q.get("missing") or []}
    kind = str(q.get("type") or "?")
    summary_bits = [
        f'<span class="qid">{_e(q.get("id") or "?")}</span>',
        f'<span class="tag">{_e(_type_label(kind))}</span>',
        f'<span class="qtext">{_e(_shorten(str(q.get("question") or ""), 150))}</span>',
    ]
    if missing:
        summary_bits.append(f'<span class="badge bad">{len(missing)} fait(s) manquant(s)</span>')
    if q.get("refused"):
        summary_bits.append('<span class="badge">refus</span>')
    found = [str(f) for f in q.get("found_forbidden") or []]
    if found:
        summary_bits.append(f'<span class="badge bad">{len(found)} texte(s) interdit(s)</span>')
    expected_kind = _expected_kind_text(q)
    if expected_kind:
        summary_bits.append(f'<span class="badge">{_e(expected_kind)}</span>')
    if q.get("split") in HALF_LABELS:
        summary_bits.append(f'<span class="tag">{_e(HALF_LABELS[str(q["split"])])}</span>')
    body = [f"<h4>Question</h4><p>{_e(q.get('question') or DASH)}</p>"]
    if expected_kind:
        body.append(f"<h4>Comportement</h4><p>{_e(expected_kind)}</p>")
    if found:
        body.append("<h4>Textes interdits présents</h4>")
        marks = "".join(f'<li><mark class="missing">{_e(f)}</mark></li>' for f in found)
        body.append(f'<ul class="facts">{marks}</ul>')
    if q.get("note"):
        body.append(f'<h4>Note du jeu</h4><p class="note">{_e(q["note"])}</p>')
    answer = str(q.get("answer") or "")
    refused = " (l'assistant a refusé de répondre)" if q.get("refused") else ""
    body.append(f"<h4>Réponse donnée{_e(refused)}</h4>")
    body.append(f'<div class="answer">{_e(answer)}</div>' if answer else '<p class="note">Aucune réponse.</p>')
    body.append("<h4>Faits attendus</h4>")
    if facts:
        items = []
        for fact in facts:
            if fact in missing:
                items.append(
                    f'<li class="missing"><mark class="missing">{_e(fact)}</mark> <span class="bad">manquant</span></li>'
                )
            else:
                items.append(f'<li class="found"><span class="ok">✓</span> {_e(fact)}</li>')
        body.append(f'<ul class="facts">{"".join(items)}</ul>')
    else:
        body.append('<p class="note">Aucun fait attendu pour cette question.</p>')
    expected = str(q.get("expected_answer") or "")
    body.append("<h4>Réponse attendue</h4>")
    body.append(f'<div class="answer expected">{_e(expected)}</div>' if expected else '<p class="note">Non fournie.</p>')
    gold = [s for s in q.get("sources") or [] if isinstance(s, dict)]
    body.append("<h4>Sources de référence</h4>")
    body.append(
        f'<ul class="sources">{"".join(f"<li>{_e(_source_text(s))}</li>" for s in gold)}</ul>'
        if gold
        else '<p class="note">Aucune source (la réponse n\'est pas dans les documents).</p>'
    )
    retrieved = [r for r in q.get("retrieved") or [] if isinstance(r, dict)][:TOP_RETRIEVED]
    body.append(f"<h4>Passages retrouvés ({len(retrieved)} premiers)</h4>")
    body.append(_retrieved_table(retrieved) if retrieved else '<p class="note">Aucun passage retrouvé.</p>')
    citations = [c for c in q.get("citations") or [] if isinstance(c, dict)]
    if citations:
        items = []
        for c in citations:
            page = f", p. {c['page']}" if c.get("page") is not None else ""
            title = f" — {c['title']}" if c.get("title") else ""
            quote = f' <span class="quote">« {_e(_shorten(str(c["quote"]), 300))} »</span>' if c.get("quote") else ""
            items.append(f"<li>[{_e(c.get('n', '?'))}] {_e(_source_text(c, 'source') + page + title)}{quote}</li>")
        body.append(f'<h4>Citations de la réponse</h4><ul class="sources">{"".join(items)}</ul>')
    scores = q.get("scores") or {}
    shown = [(header, _fmt(scores.get(key), kind)) for key, header, kind in COLUMNS if key in scores]
    if shown:
        body.append("<h4>Mesures de la question</h4>")
        body.append('<p class="scores">' + " · ".join(f"{_e(h)} : <b>{_e(v)}</b>" for h, v in shown) + "</p>")
    timings = q.get("timings_ms") or {}
    names = {"retrieve": "recherche", "answer": "réponse", "total": "total"}
    timed = [(label, _number(timings.get(key))) for key, label in names.items()]
    if any(v is not None for _, v in timed):
        body.append(
            '<p class="note">Temps : ' + ", ".join(f"{label} {_e(_fmt_ms(v))}" for label, v in timed if v is not None) + "</p>"
        )
    return f'<details><summary>{" ".join(summary_bits)}</summary><div class="qbody">{"".join(body)}</div></details>'


def _retrieved_table(retrieved: Sequence[dict[str, Any]]) -> str:
    rows = []
    for rank, r in enumerate(retrieved, start=1):
        hit = bool(r.get("hit"))
        score = _number(r.get("score"))
        mark = '<span class="ok">✓ pertinent</span>' if hit else '<span class="muted">—</span>'
        rows.append(
            f'<tr class="{"hit" if hit else ""}"><td>{rank}</td><td class="text">{_e(r.get("source") or "?")}</td>'
            f"<td>{_e(_lines_text(r))}</td><td>{_e(_decimal(score, 3) if score is not None else DASH)}</td>"
            f'<td class="text wrap">{_e(r.get("title") or "")}</td><td class="text">{mark}</td></tr>'
        )
    head = (
        '<tr><th scope="col">Rang</th><th scope="col" class="text">Source</th><th scope="col">Lignes</th>'
        '<th scope="col">Score</th><th scope="col" class="text">Titre</th><th scope="col" class="text">Recoupe la référence</th></tr>'
    )
    return f'<div class="table-wrap"><table class="retrieved"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


# --- Markdown pieces -----------------------------------------------------------------------------

_MD_SPECIAL = set("\\`*_[]<>|&~#")


def _md(text: Any) -> str:
    """Inline Markdown text: special characters escaped, on one line."""
    flat = " ".join(str(text).split())
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in flat)


def _md_table(first: str, rows: Sequence[tuple[str, dict[str, float | None]]], highlight: bool) -> list[str]:
    if not rows:
        return ["Aucune donnée."]
    best = {key: _best([r for _, r in rows], key) for key, _, _ in COLUMNS} if highlight else {}
    lines = [
        "| " + " | ".join([_md(first), *(_md(header) for _, header, _ in COLUMNS)]) + " |",
        "|" + "|".join([":---", *("---:" for _ in COLUMNS)]) + "|",
    ]
    for label, row in rows:
        cells = [_md(label)]
        for key, _, kind in COLUMNS:
            text = _fmt(row.get(key), kind)
            cells.append(f"**{text}**" if best.get(key) is not None and row.get(key) == best[key] else text)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


ANSWER_KIND_LABELS = {
    "answer": "une réponse",
    "refusal": "« non précisé »",
    "clarification": "une demande de précision",
    "out_of_scope": "hors champ",
    "error": "un message d'erreur",
}


def _expected_kind_text(q: dict[str, Any]) -> str:
    """ "attendu : faire préciser ; obtenu : « non précisé »" when the answer's kind is not the expected one."""
    expect, kind = q.get("expect"), q.get("kind")
    if not expect or not kind or EXPECTED_KIND.get(str(expect)) == kind:
        return ""
    return f"attendu : {_expect_label(str(expect)).lower()} ; obtenu : {ANSWER_KIND_LABELS.get(str(kind), str(kind))}"


def _md_failed(q: dict[str, Any]) -> list[str]:
    head = f"- **{_md(q.get('id') or '?')}** ({_md(_type_label(str(q.get('type') or '?')))}) — {_md(_shorten(str(q.get('question') or ''), 200))}"
    lines = [head]
    missing = [str(m) for m in q.get("missing") or []]
    if missing:
        lines.append("  - Faits manquants : " + ", ".join(f"**{_md(m)}**" for m in missing))
    found = [str(f) for f in q.get("found_forbidden") or []]
    if found:
        lines.append("  - Textes interdits présents : " + ", ".join(f"**{_md(f)}**" for f in found))
    expected_kind = _expected_kind_text(q)
    if expected_kind:
        lines.append(f"  - Comportement : {_md(expected_kind)}")
    answer = str(q.get("answer") or "")
    refused = " (refus)" if q.get("refused") else ""
    lines.append(f"  - Réponse donnée{refused} : {_md(_shorten(answer, 300)) if answer else DASH}")
    gold = [_source_text(s) for s in q.get("sources") or [] if isinstance(s, dict)]
    lines.append(f"  - Sources de référence : {_md(' ; '.join(gold)) if gold else DASH}")
    retrieved = [r for r in q.get("retrieved") or [] if isinstance(r, dict)][:TOP_RETRIEVED]
    ranks = [str(i) for i, r in enumerate(retrieved, start=1) if r.get("hit")]
    hit_ranks = f"rang(s) {', '.join(ranks)}" if ranks else "aucun"
    lines.append(f"  - Passages pertinents dans les {len(retrieved)} premiers retrouvés : {hit_ranks}")
    return lines


CSS = """
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6472; --line: #d9dee6; --bg: #f5f6f8; --card: #ffffff;
  --accent: #0b5cad; --bad: #b3261e; --ok: #1e7b34; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 22px 20px 48px; }
h1 { font-size: 28px; margin: 0 0 10px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 17px; margin: 22px 0 8px; }
h4 { font-size: 12px; margin: 14px 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 0 0 14px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; font-weight: 600; }
nav { display: flex; flex-wrap: wrap; gap: 6px; }
nav a { color: var(--accent); text-decoration: none; background: var(--card); border: 1px solid var(--line);
  border-radius: 14px; padding: 2px 12px; font-size: 13px; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 10px; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 5px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
thead th { background: #eef1f5; vertical-align: bottom; white-space: normal; font-weight: 600; }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: none; }
tbody tr:nth-child(even) { background: #fafbfc; }
th.text, td.text { text-align: left; }
tbody th { font-weight: 600; white-space: normal; min-width: 100px; }
td.wrap { white-space: normal; min-width: 200px; }
td.best { font-weight: 700; color: var(--ok); }
figure { margin: 14px 0; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { display: block; width: 100%; height: auto; }
svg text { fill: var(--ink); font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg text.tick, svg text.muted { fill: var(--muted); }
svg text.value { fill: #333; }
svg text.halo { stroke: #fff; stroke-width: 3px; paint-order: stroke; font-weight: 600; }
svg line.grid { stroke: #e4e8ee; stroke-width: 1; }
svg line.axis { stroke: #8a93a0; stroke-width: 1; }
svg line.sep { stroke: #b8c0cc; stroke-width: 1; stroke-dasharray: 3 3; }
details { background: var(--card); border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
summary { cursor: pointer; padding: 7px 12px; }
details[open] > summary { border-bottom: 1px solid var(--line); background: #f9fafb; }
.qbody { padding: 2px 16px 14px; }
.qid { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-weight: 700; }
.tag { display: inline-block; background: #e8eef7; color: #24405f; border-radius: 10px; padding: 0 8px; font-size: 12px; }
.badge { display: inline-block; border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; font-size: 12px; }
.badge.bad { border-color: #f1b8b4; background: #fdecea; color: var(--bad); }
.answer { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--bg); border-left: 3px solid #9fb3c8;
  padding: 8px 12px; font-size: 14px; border-radius: 0 4px 4px 0; }
.answer.expected { border-left-color: var(--ok); }
ul.facts { list-style: none; padding-left: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 6px 14px; }
mark.missing { background: #fde2e1; color: var(--bad); font-weight: 700; padding: 0 4px; border-radius: 3px; }
.bad { color: var(--bad); font-size: 12px; }
.ok { color: var(--ok); font-weight: 700; }
.muted { color: var(--muted); }
ul.sources { margin: 4px 0; padding-left: 20px; }
.quote { color: var(--muted); font-style: italic; }
tr.hit, tbody tr.hit:nth-child(even) { background: #e6f4ea; }
.scores { font-size: 13px; }
.glossary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; font-size: 14px; }
.glossary dt { font-weight: 600; }
.glossary dd { margin: 0; color: var(--muted); }
footer { margin-top: 32px; }
.table-wrap + .table-wrap, .table-wrap + p { margin-top: 10px; }
table.halves th[scope="colgroup"] { text-align: center; border-left: 1px solid var(--line); }
table.halves td.check, table.halves th.check { border-left: 1px solid var(--line); font-weight: 600; }
table.halves td.tune, table.halves th.tune { color: var(--muted); }
ul.gate { margin: 4px 0 10px; padding-left: 20px; color: var(--bad); }
"""
