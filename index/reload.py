"""Noticing that `reperes ingest` published a new index while a server runs.

A publication replaces the index folder by renames (index/atomic.py), so its ``manifest.json`` is a new
file: its identity (inode, size, mtime) changes, and a stat every few seconds sees it without reading
the index. ``IndexWatcher`` polls that identity in a daemon thread (and at once when ``trigger`` is called,
from a SIGHUP handler) and calls back; the callback loads the new index fully before swapping it in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from index.store import Manifest

log = logging.getLogger(__name__)

# What tells one published manifest from another (a new file at each publication).
Identity = tuple[int, int, int, int]


def manifest_identity(folder: Path) -> Identity | None:
    """(device, inode, size, mtime_ns) of ``folder``'s manifest, or None while there is none (between the two
    renames of a publication, or before the first build)."""
    try:
        st = os.stat(folder / "manifest.json")
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def index_version(manifest: Manifest) -> str:
    """A short id of an index's content (its corpus, recipe, model and files' checksums): what /api/health
    reports, so an operator sees which build a server answers from."""
    keys = [manifest.corpus_fingerprint, manifest.chunker, manifest.embed_model, manifest.created]
    digest = hashlib.sha256(json.dumps([keys, manifest.checksums], sort_keys=True).encode())
    return digest.hexdigest()[:12]


class IndexWatcher:
    """Calls ``on_change()`` when the manifest of ``folder`` changes: checked every ``every`` seconds (0: only
    when ``trigger`` is called) in a daemon thread. ``on_change`` returns False to be called again at the next
    check (the folder changed again while it loaded); an exception there is logged and the watching goes on."""

    def __init__(self, folder: Path, on_change: Callable[[], bool], every: float) -> None:
        self.folder = folder
        self.on_change = on_change
        self.every = every
        self._wake = threading.Event()
        self._stop = threading.Event()
        # None: the first check calls back, so an index published between the caller's load and this
        # watcher's start is not missed (the callback compares with what it loaded: a no-op if the same).
        self._seen: Identity | None = None
        self._thread = threading.Thread(target=self._run, name="reperes-index-watcher", daemon=True)

    def start(self) -> IndexWatcher:
        self._thread.start()
        return self

    def trigger(self) -> None:
        """Check now (safe from a signal handler: it only sets an event)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            forced = self._wake.wait(self.every if self.every > 0 else None)
            self._wake.clear()
            if self._stop.is_set():
                return
            seen = manifest_identity(self.folder)
            if forced or (seen is not None and seen != self._seen):
                settled = True
                try:
                    settled = self.on_change()
                except Exception:  # a watcher that dies would stop every later reload
                    log.exception("Rechargement de l'index en échec dans %s", self.folder)
                if settled:
                    self._seen = seen
