"""Atomic publication of files and folders: readers see the old version or the new one, never half.

A folder is published by renames (``publish_dir``): the complete new copy is written in a staging folder
beside ``dest`` (``.<name>.XXXX``), the current copy moved aside to ``.<name>.old``, the new one renamed
into place, the old one removed. A process killed between two of these steps leaves ``dest`` absent or
leftovers beside it; ``recover_dir`` (run at the next start) puts an intact copy back and removes the
leftovers. The steps are listed by ``swap_steps`` so tests can stop between any two of them.

Builders hold ``publishing(dest)`` (an advisory lock on the parent folder) from the creation of their
staging folder to the publication: recovery skips the clean-up while it is held, so it never removes
the staging folder of a build running in another process.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.loaders import os_reason

# Free space a build needs beyond its own estimate (the file system's bookkeeping, SQLite, logs).
SPARE_BYTES = 20 * 1024 * 1024


class FolderNotWritable(RuntimeError):
    """A folder Repères must write to is read-only, missing or full; the message (French) says how to fix it."""


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def staging_dir(dest: Path) -> Path:
    """A fresh folder beside ``dest`` (same file system, so the final rename is atomic)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))


def old_copy(dest: Path) -> Path:
    """Where ``publish_dir`` keeps the previous copy of ``dest`` between its two renames."""
    return dest.with_name(f".{dest.name}.old")


def leftovers(dest: Path) -> list[Path]:
    """Folders an interrupted publication of ``dest`` may have left beside it (staging folders, the old copy)."""
    prefix = f".{dest.name}."
    try:
        return sorted(p for p in dest.parent.iterdir() if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink())
    except OSError:  # no parent yet, or not readable: nothing to recover from
        return []


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames, creations) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder: the renames are still atomic
        pass
    finally:
        os.close(fd)


def swap_steps(src: Path, dest: Path) -> list[tuple[str, Callable[[], None]]]:
    """The steps of ``publish_dir(src, dest)``, in order; a kill may happen between any two."""
    old = old_copy(dest)

    def drop_stale_old() -> None:
        # A stale old copy is removed only while ``dest`` exists: otherwise it may be the only intact copy.
        if dest.exists():
            shutil.rmtree(old, ignore_errors=True)

    def move_current_aside() -> None:
        if dest.exists():
            os.replace(dest, old)

    def move_new_in() -> None:
        os.replace(src, dest)

    def flush() -> None:
        fsync_dir(dest.parent)

    def drop_old() -> None:
        shutil.rmtree(old, ignore_errors=True)

    return [
        ("drop_stale_old", drop_stale_old),
        ("move_current_aside", move_current_aside),
        ("move_new_in", move_new_in),
        ("flush", flush),
        ("drop_old", drop_old),
    ]


def publish_dir(src: Path, dest: Path) -> None:
    """Replace ``dest`` by the complete folder ``src`` using renames only.

    Between the two renames ``dest`` is briefly absent; readers treat that as "not built" and
    never see a mix of old and new files. A kill there is repaired by ``recover_dir``.
    """
    for _name, step in swap_steps(src, dest):
        step()


@contextmanager
def publishing(dest: Path, wait: bool = True) -> Iterator[bool]:
    """Hold the publication lock of ``dest``'s parent folder; yields False when ``wait`` is False and
    another process holds it (or the folder cannot be opened).

    The lock is ``flock`` on the parent folder itself: no lock file to leave behind, and the kernel
    releases it when the holder dies, so a killed build never blocks the next one.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(dest.parent, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def recover_dir(dest: Path, intact: Callable[[Path], bool]) -> str | None:
    """Repair what an interrupted ``publish_dir`` left: returns what was done (None: nothing to do).

    When ``dest`` is absent, the newest staging copy that ``intact`` accepts (a build killed between its
    renames had finished writing it) is moved into place, else the old copy if ``intact`` accepts it.
    Then every leftover folder is removed. Skipped while another process publishes ``dest``.
    """
    found = leftovers(dest)
    if not found:
        return None
    try:
        with publishing(dest, wait=False) as locked:
            if not locked:
                return None  # a build is writing its staging folder right now: not ours to clean
            found = leftovers(dest)  # again, under the lock
            done = None
            if not dest.exists():
                old = old_copy(dest)
                staged = sorted((p for p in found if p != old), key=lambda p: p.stat().st_mtime, reverse=True)
                for candidate in [*staged, old]:
                    if candidate.is_dir() and intact(candidate):
                        os.replace(candidate, dest)
                        done = f"{dest.name} restauré depuis {candidate.name}"
                        break
            for path in found:
                if path.exists():
                    shutil.rmtree(path, ignore_errors=True)
            fsync_dir(dest.parent)
            return done or f"{len(found)} dossier(s) temporaire(s) supprimé(s) près de {dest.name}"
    except OSError:  # a read-only home: nothing can be repaired here; the caller reports what is missing
        return None


def check_writable(folder: Path, need_bytes: int = 0, setting: str = "REPERES_HOME") -> None:
    """Raise FolderNotWritable (French, naming ``folder`` and the fix) unless a file can be created in
    ``folder`` (created if missing) and ``need_bytes`` plus a margin are free there.

    A real write is tried, not ``os.access``: root passes ``os.access`` on any folder, and only a write
    sees a read-only mount or a full disk.
    """
    elsewhere = f"choisissez un autre dossier avec {setting}=/chemin/accessible"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".reperes-probe.", dir=folder)
        try:
            os.write(fd, b"\0" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = os_reason(exc)  # the system's reason in French, as the CLI says it
        fix = f"libérez de la place ou {elsewhere}" if full else f"rendez-le accessible en écriture ou {elsewhere}"
        raise FolderNotWritable(f"Impossible d'écrire dans {folder} ({reason}) : {fix}.") from exc
    free = shutil.disk_usage(folder).free
    if free < need_bytes + SPARE_BYTES:
        raise FolderNotWritable(
            f"Place insuffisante dans {folder} : {_mb(free)} libres, il en faut environ {_mb(need_bytes + SPARE_BYTES)} ; "
            f"libérez de la place ou {elsewhere}."
        )


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} Mo"
