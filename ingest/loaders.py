"""Files -> SourceDoc. All corpus file I/O lives here.

This first version reads plain text and Markdown; other formats come with the ingest issue.
Unreadable or unsupported files are reported, never fatal: the rest of the corpus still loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.records import SourceDoc

TEXT_SUFFIXES = {".txt", ".md"}


@dataclass(frozen=True)
class LoadProblem:
    """A file that could not be loaded, with a reason a counsellor can act on (in French)."""

    path: Path
    reason: str


def corpus_files(corpus: Path) -> list[Path]:
    """Files of a corpus folder, sorted by name (hidden files skipped)."""
    if not corpus.is_dir():
        raise FileNotFoundError(f"Dossier de corpus introuvable : {corpus}. Indiquez un dossier existant avec --corpus.")
    return sorted(p for p in corpus.iterdir() if p.is_file() and not p.name.startswith("."))


def load_file(path: Path) -> SourceDoc:
    """Load one file. Raises ValueError with a French message if it cannot be read."""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise ValueError(f"format non pris en charge ({path.suffix or 'sans extension'}) ; formats acceptés : .txt, .md")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"lecture impossible ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Older exports are often Windows-1252; it decodes every byte, so it is the safe fallback.
        text = raw.decode("cp1252", errors="replace")
    # Normalise line ends only: one line of the original file stays one line here (citations).
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceDoc(source=path.name, text=text, title=_guess_title(text, path))


def load_corpus(corpus: Path) -> tuple[list[SourceDoc], list[LoadProblem]]:
    """Load every file of ``corpus``; return the documents and the files that failed."""
    docs: list[SourceDoc] = []
    problems: list[LoadProblem] = []
    for path in corpus_files(corpus):
        try:
            docs.append(load_file(path))
        except ValueError as exc:
            problems.append(LoadProblem(path, str(exc)))
    return docs, problems


def _guess_title(text: str, path: Path) -> str:
    for line in text.split("\n"):
        words = " ".join(line.split())
        if len(words) >= 4:
            return words[:120]
    return path.stem
