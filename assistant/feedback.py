"""Counsellors' 👍/👎 on answers, kept in SQLite and exported as an eval-set JSONL (`reperes feedback export`).

One database file (``<home>/feedback.sqlite3``), created on first write. Several threads and several
processes (web workers, a CLI export) may use it at once: WAL journal, a busy timeout, one short
``BEGIN IMMEDIATE`` transaction per write, so concurrent writers wait for each other instead of
failing, and a row is either fully stored or not at all, even when the process is killed mid-write
(tests/test_faults.py kills a writer and runs ``PRAGMA integrity_check``). The file holds counsellors'
questions about young people: it is created readable by its owner only (0600; SQLite gives its -wal and
-shm files the same mode). Questions and comments are pseudonymised before they are written
(assistant.privacy: names, e-mails, phones, full dates, addresses), and rows older than the retention
(REPERES_RETENTION_DAYS) are deleted by ``purge`` (`reperes purge`, and the server at start).

The export is the input of ``eval.drafts.drafts_from_feedback`` (and loads with ``eval.dataset.load_set``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.privacy import pseudonymise
from assistant.settings import Settings
from index.atomic import write_text_atomic
from index.hybrid import FusionParams

RATINGS = ("up", "down")
FEEDBACK_FILE = "feedback.sqlite3"
CREATED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: rows compare by date as strings
BUSY_TIMEOUT_MS = 30_000
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    settings_version TEXT NOT NULL
)
"""

# The settings that change an answer. Allow-listed on purpose: secrets (llm_api_key), endpoints
# (llm_base_url) and paths (home, corpus) never enter the hash, and a new setting is left out until
# someone decides it changes answers.
_ANSWER_SETTINGS = (
    "embed_model",
    "query_prompt",
    "passage_prompt",
    "retrieval",
    *(f.name for f in fields(FusionParams) if f.name in {g.name for g in fields(Settings)}),  # they change the answers
    "top_k",
    "llm",
    "llm_model",
    "llm_passages",
)


def feedback_path(settings: Settings) -> Path:
    """Where the ratings of this installation are kept (the API, the chat and the CLI export share it)."""
    return settings.home / FEEDBACK_FILE


def purge_expired(settings: Settings) -> int:
    """Delete the ratings past ``settings.retention_days`` (none when it is 0); returns how many."""
    if settings.retention_days <= 0:
        return 0
    return FeedbackStore(feedback_path(settings)).purge(settings.retention_days)


def settings_version(settings: Settings) -> str:
    """A short, stable hash of the settings that change answers (no secrets, no paths)."""
    values: dict[str, Any] = {name: getattr(settings, name) for name in _ANSWER_SETTINGS}
    if Path(settings.embed_model).is_absolute():
        values["embed_model"] = Path(settings.embed_model).name  # a local model folder: its name, not where it lives
    values["llm_gguf"] = Path(settings.llm_gguf).name if settings.llm_gguf else ""
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Feedback:
    """One stored rating."""

    id: int
    created: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    rating: str
    comment: str
    settings_version: str

    def to_eval_json(self) -> dict[str, Any]:
        """The export line: the eval-set format plus what the counsellor said."""
        sources: list[dict[str, Any]] = []
        for c in self.citations:
            source = {"file": c["source"], "line_start": c["line_start"], "line_end": c["line_end"]}
            if source not in sources:
                sources.append(source)
        return {
            "id": f"feedback-{self.id}",
            "question": self.question,
            "answer": self.answer,
            "sources": sources,
            "rating": self.rating,
            "comment": self.comment,
            "created": self.created,
            "settings_version": self.settings_version,
        }


def _citations(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The citations of an `ask --json` record, checked (file and 1-based line range) and without quotes."""
    raw = answer.get("citations", [])
    if not isinstance(raw, list):
        raise ValueError("« citations » doit être une liste (format de `reperes ask --json`)")
    citations = []
    for n, c in enumerate(raw, start=1):
        try:
            source, start, end = c["source"], c["line_start"], c["line_end"]
        except (KeyError, TypeError):
            raise ValueError(f"la citation {n} doit avoir « source », « line_start » et « line_end »") from None
        if not isinstance(source, str) or not source or type(start) is not int or type(end) is not int or not 1 <= start <= end:
            raise ValueError(f"la citation {n} a une source ou une plage de lignes invalide")
        citations.append(
            {
                "n": c.get("n", n),
                "source": source,
                "title": str(c.get("title") or ""),
                "line_start": start,
                "line_end": end,
                "page": c.get("page"),
            }
        )
    return citations


class FeedbackNotWritable(sqlite3.OperationalError):
    """A rating could not be stored (read-only or full data home…); the message (French) says what to fix.

    An ``sqlite3.OperationalError``, so callers that handle SQLite's errors handle this one too.
    """


def _create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite then creates its -wal and -shm with
    that mode). ``fchmod`` after ``O_CREAT``: the mode given to ``open`` is filtered by the umask. A file
    left readable by others (made by an older version, or copied in) is closed to them."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with contextlib.suppress(OSError):  # not ours to change (another owner): left as it is
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class FeedbackStore:
    """Ratings of answers in one SQLite file, safe for concurrent writers (threads and processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions, each write says BEGIN IMMEDIATE itself.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")  # a committed rating survives a power cut
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self._ensure_schema()
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front: a writer waits (busy timeout) rather than failing
        # half-way when another writer upgrades its lock first.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
            conn = self._connect()
            try:
                self._use_wal(conn)
                with self._transaction(conn):
                    conn.execute(_SCHEMA)
                    if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            finally:
                conn.close()
            self._ready = True

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (persistent: done once per file, by whichever process comes first).

        Changing the journal mode needs the file to itself, and SQLite reports "database is locked" at
        once (without waiting for the busy timeout) when another process opens the new file meanwhile:
        retry until the busy timeout has passed.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
                if mode != "wal":
                    mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
                break
            except sqlite3.OperationalError as exc:
                busy = (exc.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        if mode != "wal":
            raise sqlite3.OperationalError(
                f"journal WAL impossible sur {self.path} (mode {mode}) : placez REPERES_HOME sur un disque local"
            )

    def record(self, question: str, answer: dict[str, Any], rating: str, comment: str = "", settings_version: str = "") -> int:
        """Store one rating of an answer (``answer`` is the `reperes ask --json` record); returns its id."""
        if rating not in RATINGS:
            raise ValueError(f"avis invalide {rating!r} : « up » (👍) ou « down » (👎)")
        if not isinstance(question, str) or not question.strip():
            raise ValueError("la question notée est vide")
        if not isinstance(answer, dict) or not isinstance(answer.get("answer"), str):
            raise ValueError("la réponse notée doit être l'objet JSON renvoyé par /api/ask (avec son champ « answer »)")
        citations = _citations(answer)
        created = datetime.now(UTC).strftime(CREATED_FORMAT)
        try:
            with self._connection() as conn, self._transaction(conn):
                cursor = conn.execute(
                    "INSERT INTO feedback (created, question, answer, citations, rating, comment, settings_version)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        created,
                        # The question and the comment are the counsellor's words about a young person: no
                        # name, contact or birth date is kept. The answer is the corpus's text (its contacts
                        # are organisations'), stored as shown.
                        pseudonymise(question.strip()),
                        answer["answer"],
                        json.dumps(citations, ensure_ascii=False),
                        rating,
                        pseudonymise((comment or "").strip()),
                        settings_version,
                    ),
                )
                row_id = cursor.lastrowid
        except (OSError, sqlite3.OperationalError) as exc:  # read-only or full home, a lock held too long
            raise FeedbackNotWritable(
                f"Avis non enregistré dans {self.path} ({exc}) : le dossier doit être accessible en écriture et "
                "avoir de la place ; sinon choisissez-en un autre avec REPERES_HOME."
            ) from exc
        if row_id is None:  # cannot happen after an INSERT; keeps the type exact
            raise sqlite3.DatabaseError("identifiant de l'avis introuvable après l'enregistrement")
        return row_id

    def count(self) -> int:
        """Number of stored ratings (0 when the database does not exist yet)."""
        if not self.path.exists():
            return 0
        with self._connection() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def all(self) -> list[Feedback]:
        """Every stored rating, oldest first (one consistent snapshot)."""
        if not self.path.exists():
            return []
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT id, created, question, answer, citations, rating, comment, settings_version FROM feedback ORDER BY id"
            ).fetchall()
        return [
            Feedback(
                id=row[0],
                created=row[1],
                question=row[2],
                answer=row[3],
                citations=json.loads(row[4]),
                rating=row[5],
                comment=row[6],
                settings_version=row[7],
            )
            for row in rows
        ]

    def export(self, out: Path) -> int:
        """Write every rating to ``out`` as JSONL in the eval-set format (atomically); returns the count."""
        items = self.all()
        write_text_atomic(out, "".join(json.dumps(f.to_eval_json(), ensure_ascii=False) + "\n" for f in items))
        return len(items)

    def purge(self, older_than_days: int | None = None, now: datetime | None = None) -> int:
        """Delete the ratings older than ``older_than_days`` days (all of them when None); returns how many.

        Rows written before pseudonymisation existed leave with their age like the others; ``--all`` empties
        the table at once. VACUUM afterwards so the deleted text does not linger in free pages of the file.
        """
        if not self.path.exists():
            return 0
        with self._connection() as conn:
            with self._transaction(conn):
                if older_than_days is None:
                    deleted = conn.execute("DELETE FROM feedback").rowcount
                else:
                    cutoff = ((now or datetime.now(UTC)) - timedelta(days=older_than_days)).strftime(CREATED_FORMAT)
                    deleted = conn.execute("DELETE FROM feedback WHERE created < ?", (cutoff,)).rowcount
            if deleted:
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the deleted rows' pages leave the -wal file too
        return int(deleted)
