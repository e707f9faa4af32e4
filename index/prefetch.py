"""A one-question process's question vector, computed by a helper process while this one starts.

Why: a cold `reperes ask` spent about 1.2 s building the tokenizer (``tokenizers`` builds its 250,000-piece
Unigram model holding the GIL) on top of about 2.5 s of imports and tables, all on one core: a thread cannot
overlap them, another process can. Started first thing with the question (``assistant.launch``), a child loads
the ONNX encoder on the other core and embeds the question (``python -m index.onnx_query``) while this process
imports the chain and reads the question. Its vector is the one this process's encoder would compute: the same
file, one text per run, one thread (``index.onnx_query``).

Anything else (another text, the child failed or is late) falls back to the in-process encoder: the prefetch
can save time, never change an answer.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

WAIT_S = 30.0  # a child later than this is stopped and the question embedded here


def usable_cpus() -> int:
    """The CPUs this process may run on: with one, a child would only take turns with it."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


class QuestionPrefetch:
    """A child process embedding ``texts`` (``prompt`` prepended) with the ONNX encoder of ``folder``; started
    at construction, its vectors collected on the first ``vector``."""

    def __init__(self, folder: Path, max_length: int, texts: list[str], prompt: str) -> None:
        if max_length < 1:
            raise ValueError(f"max_length ({max_length}) must be >= 1")
        self.texts = list(dict.fromkeys(t for t in texts if t.strip()))
        self._vectors: dict[str, list[float]] | None = None
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "index.onnx_query", str(folder), str(max_length)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        stdin = self._process.stdin
        assert stdin is not None
        try:  # a few questions: far below a pipe's buffer, written at once so the child starts on them
            stdin.write(json.dumps([prompt + t for t in self.texts]).encode("utf-8"))
            stdin.close()
            self._process.stdin = None  # closed: communicate() must not flush it
        except OSError as exc:  # the child died at once: the question is embedded here
            log.debug("question prefetch not started: %s", exc)
            self.close()

    def vector(self, text: str) -> list[float] | None:
        """The vector of ``text`` if it was one of the texts and the child delivered it, else None."""
        if text not in self.texts:
            return None
        return self._collect().get(text)

    def _collect(self) -> dict[str, list[float]]:
        with self._lock:
            if self._vectors is None:
                self._vectors = {}
                process, self._process = self._process, None
                if process is not None:
                    try:
                        out, _ = process.communicate(timeout=WAIT_S)
                        rows = json.loads(out) if process.returncode == 0 else None
                        if isinstance(rows, list) and len(rows) == len(self.texts):
                            self._vectors = {t: [float(x) for x in row] for t, row in zip(self.texts, rows, strict=True)}
                    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
                        log.debug("question prefetch failed: %s", exc)
                        process.kill()
                        process.wait()
            return self._vectors

    def close(self) -> None:
        """Stop the child if it is still running (its vectors were never asked for)."""
        with self._lock:
            process, self._process = self._process, None
            if self._vectors is None:
                self._vectors = {}
        if process is not None:
            process.kill()
            process.wait()
