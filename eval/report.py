"""Evaluation report: one self-contained HTML page, a Markdown summary and the raw results (JSON).

``write_report(results, out_dir)`` writes ``report.html``, ``report.md`` and ``results.json``, each
atomically. The HTML page has inline CSS and hand-written inline SVG charts: it loads nothing from the
network (no script, font, image or style sheet by address), so it can be opened anywhere, offline.

Everything a reader sees is in French: numbers use a decimal comma, rates are percentages, a missing
value (a metric that does not apply) is "—".

The ``results`` dict (also the content of ``results.json``)::

    {"set": "eval/data/dev.jsonl", "created": "<ISO 8601>", "configs": ["dense", ...],
     "runs": [{"config": "dense",
               "metrics": {"all": {"questions": 60.0, "recall@1": .., "recall@5": .., "recall@10": .., "mrr@10": ..,
                                   "ndcg@10": .., "coverage": .., "citation_precision": .., "refusal": .., "false_refusal": ..,
                                   "invented_contacts": .., "grounding_drops": ..},   # None where a metric does not apply
                           "<question type>": {...same keys...}},
               "latency": {"retrieve" | "answer" | "total": {"p50": ms, "p95": ms, "max": ms}},
               "latencies_ms": {"retrieve" | "answer" | "total": [ms per question]},
               "questions": [{"id", "type", "question", "expected_answer", "must_include": [..],
                              "sources": [{"file", "line_start", "line_end"}], "answer", "refused",
                              "citations": [{"n", "source", "title", "line_start", "line_end", "page", "quote"}],
                              "retrieved": [{"source", "line_start", "line_end", "score", "title", "hit"}],
                              "timings_ms": {"retrieve", "answer", "total"}, "scores": {metric: value},
                              "missing": [facts], "failed": bool}]}],
     "history": [{"created", "config", "set", "metrics": {"recall@5": .., "mrr@10": .., "coverage": .., ...}}]}

Missing parts are tolerated (an empty section or "—"), so a partial run still gets a report.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from eval.metrics import latency_summary

TITLE = "Rapport d'évaluation Repères"
NBSP = "\u00a0"
DASH = "—"

# (key, column header, kind). kind: "count" (integer), "rate" (0-1 shown as %), "score" (0-1 decimal), "ms" (latency).
COLUMNS: list[tuple[str, str, str]] = [
    ("questions", "Questions", "count"),
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
HIGHER_IS_BETTER = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "coverage", "citation_precision", "refusal"}
LOWER_IS_BETTER = {"false_refusal", "invented_contacts", "grounding_drops", "latency_p50", "latency_p95"}

DEFINITIONS: dict[str, str] = {
    "questions": "Nombre de questions du jeu (ou du type).",
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
    runs = _runs(results)
    types = _types(runs)
    configs = [_config(run) for run in runs] or [str(c) for c in results.get("configs") or []]
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
        f"<dt>Jeu de questions</dt><dd><code>{_e(results.get('set') or DASH)}</code></dd>",
        f"<dt>Date</dt><dd>{_e(_fmt_date(results.get('created')))}</dd>",
        f"<dt>Configurations</dt><dd>{_e(', '.join(configs) or DASH)}</dd>",
        f"<dt>Questions</dt><dd>{_e(_question_count(runs))}</dd>",
        "</dl>",
        '<nav><a href="#comparaison">Comparaison</a><a href="#par-type">Par type</a><a href="#graphiques">Graphiques</a>'
        '<a href="#latence">Latence</a><a href="#historique">Historique</a><a href="#echecs">Questions en échec</a>'
        '<a href="#definitions">Définitions</a></nav>',
        "</header>",
        '<section id="comparaison">',
        "<h2>Comparaison des configurations</h2>",
        '<p class="note">Toutes les questions du jeu. En gras et en vert : la meilleure valeur de chaque colonne.</p>',
        _html_table("Configuration", [(_config(run), _row(run, "all")) for run in runs], highlight=True),
        "</section>",
        '<section id="par-type">',
        "<h2>Résultats par type de question</h2>",
    ]
    if not runs:
        parts.append('<p class="note">Aucune exécution dans les résultats.</p>')
    for run in runs:
        kinds = ["all", *[t for t in types if t in _run_types(run)]]
        parts.append(f"<h3>{_e(_config(run))}</h3>")
        parts.append(_html_table("Type de question", [(_type_label(k), _row(run, k)) for k in kinds], highlight=False))
    parts += [
        "</section>",
        '<section id="graphiques">',
        "<h2>Rappel@5, MRR@10 et couverture par type de question</h2>",
        '<p class="note">Une barre par configuration ; axe de 0 à 100 % (le MRR@10, de 0 à 1, est multiplié par 100). '
        "« — » : la mesure ne s'applique pas à ce type.</p>",
    ]
    for metric, label in CHART_METRICS:
        parts.append(f"<figure><figcaption>{_e(label)}</figcaption>{_bar_chart(metric, label, runs, types)}</figure>")
    parts += [
        "</section>",
        '<section id="latence">',
        "<h2>Latence totale par question</h2>",
        _latency_section(runs),
        "</section>",
        '<section id="historique">',
        "<h2>Historique des exécutions</h2>",
        _history_section(results.get("history") or []),
        "</section>",
        '<section id="echecs">',
        "<h2>Questions en échec</h2>",
        _failed_section(runs),
        "</section>",
        '<section id="definitions">',
        "<h2>Définitions</h2>",
        '<dl class="glossary">',
        *(f"<dt>{_e(header)}</dt><dd>{_e(DEFINITIONS[key])}</dd>" for key, header, _ in COLUMNS),
        "</dl>",
        "</section>",
        f'<footer class="note">Rapport généré à partir de <code>results.json</code> ({_e(_fmt_date(results.get("created")))}). '
        "Page autonome : aucune ressource externe.</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def render_markdown(results: dict) -> str:
    """The comparison table, the per-type tables and a compact list of the failed questions."""
    runs = _runs(results)
    types = _types(runs)
    configs = [_config(run) for run in runs] or [str(c) for c in results.get("configs") or []]
    lines = [
        f"# {TITLE}",
        "",
        f"- **Jeu de questions** : `{results.get('set') or DASH}`",
        f"- **Date** : {_fmt_date(results.get('created'))}",
        f"- **Configurations** : {_md(', '.join(configs) or DASH)}",
        f"- **Questions** : {_question_count(runs)}",
        "",
        "## Comparaison des configurations",
        "",
        "Toutes les questions ; en gras, la meilleure valeur de chaque colonne.",
        "",
        *_md_table("Configuration", [(_config(run), _row(run, "all")) for run in runs], highlight=True),
        "",
        "## Résultats par type de question",
    ]
    for run in runs:
        kinds = ["all", *[t for t in types if t in _run_types(run)]]
        lines += ["", f"### {_md(_config(run))}", ""]
        lines += _md_table("Type de question", [(_type_label(k), _row(run, k)) for k in kinds], highlight=False)
    lines += ["", "## Questions en échec"]
    for run in runs:
        failed = [q for q in _questions(run) if q.get("failed")]
        lines += ["", f"### {_md(_config(run))} — {_failed_count_text(len(failed), len(_questions(run)))}", ""]
        if not failed:
            lines.append("Aucune question en échec.")
        for q in failed:
            lines += _md_failed(q)
    lines += ["", "## Définitions", ""]
    lines += [f"- **{_md(header)}** : {_md(DEFINITIONS[key])}" for key, header, _ in COLUMNS]
    return "\n".join(lines) + "\n"


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
        parts += [_failed_question_html(q) for q in failed]
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
    body = [f"<h4>Question</h4><p>{_e(q.get('question') or DASH)}</p>"]
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


def _md_failed(q: dict[str, Any]) -> list[str]:
    head = f"- **{_md(q.get('id') or '?')}** ({_md(_type_label(str(q.get('type') or '?')))}) — {_md(_shorten(str(q.get('question') or ''), 200))}"
    lines = [head]
    missing = [str(m) for m in q.get("missing") or []]
    if missing:
        lines.append("  - Faits manquants : " + ", ".join(f"**{_md(m)}**" for m in missing))
    answer = str(q.get("answer") or "")
    refused = " (refus)" if q.get("refused") else ""
    lines.append(f"  - Réponse donnée{refused} : {_md(_shorten(answer, 300)) if answer else DASH}")
    gold = [_source_text(s) for s in q.get("sources") or [] if isinstance(s, dict)]
    lines.append(f"  - Sources de référence : {_md(' ; '.join(gold)) if gold else DASH}")
    retrieved = [r for r in q.get("retrieved") or [] if isinstance(r, dict)][:TOP_RETRIEVED]
    ranks = [str(i) for i, r in enumerate(retrieved, start=1) if r.get("hit")]
    found = f"rang(s) {', '.join(ranks)}" if ranks else "aucun"
    lines.append(f"  - Passages pertinents dans les {len(retrieved)} premiers retrouvés : {found}")
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
"""
