"""What ingest found in each document: `reperes ingest --report`."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingest.cards import is_guide, parse_guide
from ingest.catalogue import document_actions
from ingest.chunking import chunk_document
from ingest.loaders import LoadProblem, corpus_files, load_file, repair_documents
from ingest.records import Chunk
from ingest.repair import build_vocabulary, repair_lines

# e5 reads 512 tokens; French runs about 4 characters a token, so longer chunks are cut when embedded.
LONG_CHUNK_CHARS = 2000


@dataclass(frozen=True)
class DocumentReport:
    """Counts and warnings for one document."""

    source: str
    title: str
    lines: int
    chunks: int
    kinds: dict[str, int]
    cards: int
    repaired_lines: int
    noise_lines: int  # map labels and page banners kept out of the chunks
    warnings: tuple[str, ...] = ()
    actions: int = 0  # actions of the catalogue read in the document
    without_public: int = 0
    without_ages: int = 0
    without_contact: int = 0  # no e-mail, phone or site
    ambiguous_contacts: int = 0  # contact lines kept as written: the text does not say whose they are


@dataclass(frozen=True)
class CorpusReport:
    documents: list[DocumentReport]
    problems: list[LoadProblem]
    seconds: dict[str, float] = field(default_factory=dict)


def corpus_report(corpus: Path) -> CorpusReport:
    """Load, repair and chunk ``corpus`` (no embedding) and describe what was found, with timings."""
    start = time.perf_counter()
    raw, problems = [], []
    for path in corpus_files(corpus):
        try:
            raw.append(load_file(path))
        except ValueError as exc:
            problems.append(LoadProblem(path, str(exc)))
    loaded = time.perf_counter()
    docs = repair_documents(raw)
    repaired = time.perf_counter()
    vocabulary = build_vocabulary(d.lines for d in raw)
    reports = []
    chunk_seconds = 0.0
    for before, doc in zip(raw, docs, strict=True):
        t = time.perf_counter()
        actions = document_actions(doc)
        chunks = chunk_document(doc, actions=actions)
        chunk_seconds += time.perf_counter() - t
        cards = parse_guide(doc.lines).cards if is_guide(doc.lines) else []
        noise = sum(len(c.map_lines) for c in cards) + len(doc.banners)
        reports.append(
            DocumentReport(
                source=doc.source,
                title=doc.title,
                lines=len(doc.lines),
                chunks=len(chunks),
                kinds=dict(Counter(c.kind for c in chunks)),
                cards=len(cards),
                repaired_lines=repair_lines(before.lines, vocabulary)[1].repaired_lines,
                noise_lines=noise,
                warnings=tuple(_warnings(chunks)),
                actions=len(actions),
                without_public=sum(1 for a in actions if not a.public),
                without_ages=sum(1 for a in actions if a.age_min is None and a.age_max is None),
                without_contact=sum(1 for a in actions if not any(c.emails or c.phones or c.urls for c in a.contacts)),
                ambiguous_contacts=sum(1 for a in actions for c in a.contacts if c.text),
            )
        )
    seconds = {"load": loaded - start, "repair": repaired - loaded, "chunk": chunk_seconds}
    return CorpusReport(reports, problems, seconds)


def _warnings(chunks: list[Chunk]) -> list[str]:
    found = []
    for c in chunks:
        where = f"lignes {c.line_start}-{c.line_end}"
        if c.kind == "action_card" and not c.metadata.get("public"):
            found.append(f"fiche « {c.title} » ({where}) : public non trouvé")
        if c.kind == "action_card" and c.metadata.get("territory_scope") is None:
            found.append(f"fiche « {c.title} » ({where}) : territoire non trouvé")
        if len(c.text) > LONG_CHUNK_CHARS:
            found.append(f"passage long ({len(c.text)} caractères, {where}) : la fin dépasse la fenêtre du modèle")
    return found


def format_report(report: CorpusReport) -> str:
    """The report as a French text table, then warnings and timings."""
    head = f"{'document':<28} {'lignes':>6} {'passages':>8} {'fiches':>6} {'réparées':>8} {'bruit':>6}  types"
    rows = [head, "-" * len(head)]
    for d in report.documents:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(d.kinds.items()))
        rows.append(f"{d.source:<28} {d.lines:>6} {d.chunks:>8} {d.cards:>6} {d.repaired_lines:>8} {d.noise_lines:>6}  {kinds}")
    head = f"{'document':<28} {'actions':>7} {'sans public':>11} {'sans âges':>9} {'sans contact':>12} {'contacts ambigus':>16}"
    rows += ["", head, "-" * len(head)]
    for d in report.documents:
        rows.append(
            f"{d.source:<28} {d.actions:>7} {d.without_public:>11} {d.without_ages:>9} {d.without_contact:>12} {d.ambiguous_contacts:>16}"
        )
    for d in report.documents:
        for w in d.warnings:
            rows.append(f"Attention : {d.source} — {w}")
    for p in report.problems:
        rows.append(f"Fichier ignoré : {p.path.name} — {p.reason}")
    s = report.seconds
    rows.append(
        f"Durée (sans plongements) : lecture {s['load']:.2f} s, réparation {s['repair']:.2f} s, découpage {s['chunk']:.2f} s, "
        f"total {sum(s.values()):.2f} s"
    )
    return "\n".join(rows)
