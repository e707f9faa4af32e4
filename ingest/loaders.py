"""Files -> SourceDoc. All corpus file I/O lives here.

One small loader per format (plain text, Markdown, PDF, Word .docx, HTML), chosen by suffix in ``LOADERS``.
Unreadable or unsupported files are reported, never fatal: the rest of the corpus still loads.
The PDF/Word/HTML libraries are imported inside their loader so ``import ingest`` stays fast.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

from ingest.records import SourceDoc
from ingest.repair import banner_line_numbers, build_vocabulary, fix_glyph_shift, repair_lines

# Bytes of one corpus file (REPERES_MAX_CORPUS_FILE_BYTES): text is chunked at about 4 s a MB, so a 50 MB
# file kept `reperes chunks` busy for minutes with no word; the bundled documents are 3 to 120 kB.
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
# The limit in force. index.build loads the corpus without settings, so the faces that have them (CLI, API,
# Assistant.ingest) set it around their calls with ``file_size_limit`` instead of passing it down.
_max_file_bytes: ContextVar[int] = ContextVar("max_file_bytes", default=DEFAULT_MAX_FILE_BYTES)


@contextmanager
def file_size_limit(max_bytes: int) -> Iterator[None]:
    """Within the block, corpus files over ``max_bytes`` are refused (reported as a LoadProblem)."""
    token = _max_file_bytes.set(max_bytes)
    try:
        yield
    finally:
        _max_file_bytes.reset(token)


@dataclass(frozen=True)
class LoadProblem:
    """A file that could not be loaded, with a reason a counsellor can act on (in French)."""

    path: Path
    reason: str


def corpus_files(corpus: Path) -> list[Path]:
    """Files of a corpus folder, sorted by name (hidden files skipped).

    Raises FileNotFoundError (no such folder, or a file) or ValueError (no file in it) with a French message:
    an empty folder would otherwise give an index of 0 passages and only refusals.
    """
    if corpus.exists() and not corpus.is_dir():
        raise FileNotFoundError(
            f"Le corpus {corpus} est un fichier, pas un dossier : indiquez avec --corpus le dossier qui contient les documents."
        )
    if not corpus.is_dir():
        raise FileNotFoundError(f"Dossier de corpus introuvable : {corpus}. Indiquez un dossier existant avec --corpus.")
    try:
        files = sorted(p for p in corpus.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise FileNotFoundError(f"Dossier de corpus illisible : {corpus} ({os_reason(exc)}).") from exc
    if not files:
        raise ValueError(
            f"Le dossier de corpus {corpus} ne contient aucun document : ajoutez-y des fichiers "
            f"({', '.join(LOADERS)}) ou indiquez un autre dossier avec --corpus."
        )
    return files


def load_file(path: Path, max_bytes: int | None = None) -> SourceDoc:
    """Load one file. Raises ValueError with a French message if it cannot be read.

    A file over ``max_bytes`` (default: the limit of ``file_size_limit``, REPERES_MAX_CORPUS_FILE_BYTES) is
    refused before it is read whole.
    """
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        accepted = ", ".join(LOADERS)
        raise ValueError(f"format non pris en charge ({path.suffix or 'sans extension'}) ; formats acceptés : {accepted}")
    limit = _max_file_bytes.get() if max_bytes is None else max_bytes
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # one byte past the limit tells "too big" without reading the rest
    except OSError as exc:
        raise ValueError(f"lecture impossible ({os_reason(exc)})") from exc
    if len(raw) > limit:
        raise ValueError(
            f"fichier trop volumineux ({_megabytes(path.stat().st_size)}, la limite est {_megabytes(limit)}) : "
            "découpez-le en plusieurs documents, ou relevez REPERES_MAX_CORPUS_FILE_BYTES"
        )
    if not raw.strip():
        raise ValueError("fichier vide : rien à indexer ; remplacez-le par le document complet, ou retirez-le du corpus")
    if path.suffix.lower() in _TEXT_SUFFIXES and _is_binary(raw):
        raise ValueError(
            f"fichier binaire, pas du texte (extension {path.suffix} trompeuse ?) : "
            "enregistrez le document en texte UTF-8, ou ajoutez-le dans son format d'origine (PDF, Word)"
        )
    return loader(path, raw)


def load_corpus(corpus: Path, max_file_bytes: int | None = None) -> tuple[list[SourceDoc], list[LoadProblem]]:
    """Load every file of ``corpus``; return the documents and the files that failed.

    Raises ValueError (French) when no file at all could be loaded: the problems say why, file by file.
    """
    docs: list[SourceDoc] = []
    problems: list[LoadProblem] = []
    for path in corpus_files(corpus):
        try:
            docs.append(load_file(path, max_file_bytes))
        except ValueError as exc:
            problems.append(LoadProblem(path, str(exc)))
    if not docs:
        reasons = " ; ".join(f"{p.path.name} — {p.reason}" for p in problems[:5])
        more = f" (et {len(problems) - 5} autres)" if len(problems) > 5 else ""
        raise ValueError(f"Aucun document lisible dans {corpus} : {reasons}{more}.")
    return repair_documents(docs), problems


def repair_documents(docs: list[SourceDoc]) -> list[SourceDoc]:
    """Repair extraction damage (ingest.repair) line by line; line i stays line i of the original file."""
    vocabulary = build_vocabulary(d.lines for d in docs)
    repaired = []
    for doc in docs:
        readable = [fix_glyph_shift(line) for line in doc.lines]
        lines, _report = repair_lines(doc.lines, vocabulary)
        # Banner positions are read before repair blanks them: they delimit the actions of a slide deck.
        repaired.append(replace(doc, text="\n".join(lines), banners=tuple(sorted(banner_line_numbers(readable)))))
    return repaired


def _load_text(path: Path, raw: bytes) -> SourceDoc:
    # Normalise line ends only: one line of the original file stays one line here (citations).
    text = _newlines(_decode(raw))
    return SourceDoc(source=path.name, text=text, title=_guess_title(text, path))


def _load_pdf(path: Path, raw: bytes) -> SourceDoc:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(raw))
        # Many PDFs are encrypted only to restrict printing/copying: they open with an empty password.
        locked = reader.is_encrypted and not reader.decrypt("")
        page_texts = [] if locked else [_newlines(page.extract_text() or "") for page in reader.pages]
        meta_title = "" if locked or reader.metadata is None else reader.metadata.title or ""
    except DependencyError as exc:
        raise ValueError(
            "PDF illisible : chiffrement AES non pris en charge (paquet Python « cryptography » absent) ; "
            "enregistrez-en une copie non protégée (Imprimer > PDF)"
        ) from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise ValueError(f"PDF illisible : fichier endommagé ou qui n'est pas un PDF (détail : {exc})") from exc
    if locked:
        raise ValueError("PDF illisible : protégé par un mot de passe ; enregistrez-en une copie sans mot de passe")
    if not any(text.strip() for text in page_texts):
        raise ValueError(
            "PDF sans couche de texte (document numérisé ?) : passez-le par une reconnaissance de caractères (OCR) "
            "avant de l'ajouter au corpus"
        )
    lines: list[str] = []
    pages: list[int] = []
    for number, text in enumerate(page_texts, start=1):
        page_lines = text.split("\n")
        lines += page_lines
        pages += [number] * len(page_lines)
    text = "\n".join(lines)
    title = " ".join(meta_title.split()) or _guess_title(text, path)
    return SourceDoc(source=path.name, text=text, title=title, pages=tuple(pages))


def _load_docx(path: Path, raw: bytes) -> SourceDoc:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
        lines: list[str] = []
        for block in document.iter_inner_content():  # paragraphs (headings included) and tables, in order
            if isinstance(block, Table):
                # One line per row, cells joined by a tab (a TSV row); a cell's own line breaks become spaces.
                lines += ["\t".join(" ".join(cell.text.split()) for cell in row.cells) for row in block.rows]
            else:
                lines.append(block.text)
        meta_title = document.core_properties.title or ""
    except Exception as exc:  # not a zip, missing parts, wrong content type...
        raise ValueError("document Word illisible : fichier endommagé ou ancien format .doc (réenregistrez-le en .docx)") from exc
    text = _newlines("\n".join(lines))
    return SourceDoc(source=path.name, text=text, title=" ".join(meta_title.split()) or _guess_title(text, path))


def _load_html(path: Path, raw: bytes) -> SourceDoc:
    import trafilatura

    html = _decode(raw)
    stripped = _HtmlText()
    stripped.feed(html)
    stripped.close()
    # trafilatura keeps the main content (menus, footers dropped); plain tag stripping when it finds none.
    text = trafilatura.extract(html, output_format="txt", include_tables=True, include_comments=False) or stripped.text()
    text = _newlines(text)
    return SourceDoc(source=path.name, text=text, title=" ".join(stripped.title.split()) or _guess_title(text, path))


class _HtmlText(HTMLParser):
    """Stdlib fallback: the visible text, one line per block element, and the <title>."""

    # fmt: off
    BLOCKS = frozenset({
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "tr", "ul",
    })
    # fmt: on
    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self._parts: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCKS:
            self._parts.append("\n")
        elif tag in ("td", "th"):
            self._parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCKS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden:
            self._parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self._parts).split("\n"))
        return "\n".join(line for line in lines if line)


LOADERS: dict[str, Callable[[Path, bytes], SourceDoc]] = {
    ".txt": _load_text,
    ".md": _load_text,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".html": _load_html,
    ".htm": _load_html,
}


_TEXT_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm"})


def _is_binary(raw: bytes) -> bool:
    """Whether bytes read as text are rather an image, an archive, a binary .doc: NUL bytes in the first 8 kB
    (no text encoding uses them, UTF-16 apart, which its byte-order mark tells)."""
    head = raw[:8192]
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")


def os_reason(exc: OSError) -> str:
    """An operating-system error in French (its ``strerror`` is in the system's language, often English)."""
    import errno

    reasons = {
        errno.ENOENT: "fichier ou dossier introuvable",
        errno.EACCES: "permission refusée",
        errno.EPERM: "opération non permise",
        errno.EISDIR: "c'est un dossier, pas un fichier",
        errno.ENOTDIR: "un élément du chemin est un fichier, pas un dossier",
        errno.EROFS: "système de fichiers en lecture seule",
        errno.ENOSPC: "disque plein",
        errno.EDQUOT: "quota disque dépassé",
        errno.EEXIST: "existe déjà",
        errno.ENAMETOOLONG: "nom trop long",
        errno.ELOOP: "trop de liens symboliques",
        errno.EINVAL: "chemin invalide",
    }
    return reasons.get(exc.errno or 0) or exc.strerror or str(exc)


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark (Windows "Unicode" text)
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")  # a UTF-8 byte-order mark is not part of the first line
    except UnicodeDecodeError:
        # Older exports are often Windows-1252; it decodes every byte, so it is the safe fallback.
        return raw.decode("cp1252", errors="replace")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _guess_title(text: str, path: Path) -> str:
    """A readable title: the first line of three words or more, with the capitals lines that continue it.

    Lines are read with the glyph-shift repair applied (003's title is garbled otherwise); a heading
    in capitals split over lines ("ILS INNOVENT POUR / L'AVENIR DES JEUNES") is joined; cut at 120 chars.
    """
    lines = [" ".join(fix_glyph_shift(line).split()) for line in text.split("\n")[:80]]
    for i, words in enumerate(lines):
        if len(words.split()) < 3:
            continue
        title = words
        for following in lines[i + 1 : i + 3]:
            if not (words.isupper() and following.isupper()):
                break
            title += " " + following
        return title if len(title) <= 120 else title[:119].rsplit(" ", 1)[0] + "…"
    return path.stem
