"""`reperes ingest --report` on the real corpus: counts that follow the documents."""

from __future__ import annotations

from pathlib import Path

from ingest.report import corpus_report, format_report

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def test_report_counts_cards_repairs_and_noise() -> None:
    report = corpus_report(CORPUS)
    by_name = {d.source[:3]: d for d in report.documents}
    assert by_name["001"].cards == 40 and by_name["001"].noise_lines > 1500  # map labels kept out
    assert by_name["003"].repaired_lines >= 715  # the glyph-shift lines at least
    assert by_name["004"].noise_lines == 18  # the repeated banner
    assert by_name["002"].kinds["table_row"] > 100
    assert by_name["001"].actions == 40 and by_name["001"].without_public == 0 and by_name["004"].actions == 6
    assert all(d.actions > 0 for d in report.documents)
    assert by_name["004"].without_ages == 2  # the housing and food-aid actions state no age (their counts are no public)
    assert sum(report.seconds.values()) < 60  # sanity only; the 10 s target is measured, not asserted
    text = format_report(report)
    assert text.count("\n") > len(report.documents) and "Durée" in text and "contacts ambigus" in text
