"""One writer per archive: an OS lock on ``<db>.lock`` that says who holds it.

Two crawls writing one SQLite file would collide on raw page ids and on SQLite's own lock, and a
crawl that finds another one's run open could not tell a dead crawl from a running one. The lock is
``fcntl.flock`` on a file beside the database, so the kernel releases it when its process ends,
however it ends (``kill -9`` included): a lock file left behind never blocks anyone. Whoever holds
the lock writes itself into the file as JSON (pid, start time, what it is), so that the one refused
can name it.

The lock is re-entrant within a process: ``dwnscraper crawl`` takes it before Scrapy starts (to
wait or refuse before any work), and the pipeline that opens the archive takes it again, which is
what makes ``scrapy crawl`` respect it too.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

POLL_SECONDS = 0.1
"""How often a waiting writer tries the lock again."""


class ArchiveLocked(Exception):
    """Another process holds the archive's writer lock; the message names it."""


_held: dict[Path, list[int]] = {}
"""Lock file -> [file descriptor, depth] for the locks this process holds."""


def lock_path(db_path: str | Path) -> Path:
    """The lock file of the archive ``db_path``: ``<db>.lock`` beside it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


def _holder_sentence(db_path: Path, path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        who = f"{holder['holder']} (pid {holder['pid']}, started {holder['started_at']})"
    except (OSError, ValueError, KeyError, TypeError):
        who = "another process (which has not yet said who it is)"
    return f"{db_path} is being written by {who}; only one crawl may write an archive at a time."


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _acquire(db_path: Path, path: Path, holder: str, wait: float) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            os.close(fd)
            raise ArchiveLocked(_holder_sentence(db_path, path))
        time.sleep(POLL_SECONDS)
    record = {"pid": os.getpid(), "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "holder": holder}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)
    return fd


@contextmanager
def writer_lock(db_path: str | Path, *, holder: str, wait: float = 0.0) -> Iterator[Path]:
    """Hold the writer lock of the archive ``db_path`` for the block; yield the lock file's path.

    ``holder`` says who writes (e.g. ``"a sections crawl"``). When another process holds the lock,
    wait up to ``wait`` seconds for it, then raise :class:`ArchiveLocked`. Taking a lock this process
    already holds only counts one more user.
    """
    path = lock_path(db_path).resolve()
    if path in _held:
        _held[path][1] += 1
    else:
        _held[path] = [_acquire(Path(db_path), path, holder, wait), 1]
    try:
        yield path
    finally:
        entry = _held[path]
        entry[1] -= 1
        if entry[1] == 0:
            del _held[path]
            os.ftruncate(entry[0], 0)
            os.close(entry[0])
