"""Reading the package's reference tables (``ingest/data/*.tsv``): one reader for every table."""

from __future__ import annotations


def data_rows(text: str, width: int = 0) -> list[tuple[int, list[str]]]:
    """(1-based line number, stripped cells) of each data row of a table.

    ``#`` lines are comments, blank lines are skipped and the first other line is the header. Rows
    are padded with empty cells to ``width`` so optional trailing columns may be left out.
    """
    rows: list[tuple[int, list[str]]] = []
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        cells = [cell.strip() for cell in raw.split("\t")]
        rows.append((number, cells + [""] * (width - len(cells))))
    return rows
