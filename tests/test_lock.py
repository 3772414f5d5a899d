"""The archive's writer lock, held by a real second process: refused, waited for, freed by kill -9."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dwnscraper.lock import ArchiveLocked, lock_path, writer_lock

HOLD = """
import sys, time
from dwnscraper.lock import writer_lock
with writer_lock(sys.argv[1], holder="a sections crawl"):
    print("HELD", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@contextmanager
def holding(db: Path, seconds: float = 60.0) -> Iterator[subprocess.Popen]:
    """A process that takes the lock of ``db``, says HELD, and keeps it ``seconds`` (killed at the end)."""
    with subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE,
                          text=True) as process:
        assert process.stdout.readline() == "HELD\n"
        try:
            yield process
        finally:
            process.kill()


@pytest.fixture
def holder(tmp_path) -> Iterator[subprocess.Popen]:
    with holding(tmp_path / "dwn.db") as process:
        yield process


def test_a_second_writer_is_refused_with_a_sentence_naming_the_holder(tmp_path, holder):
    db = tmp_path / "dwn.db"
    with pytest.raises(ArchiveLocked) as refused, writer_lock(db, holder="a feed crawl"):
        pass
    recorded = json.loads(lock_path(db).read_text(encoding="utf-8"))
    assert recorded["pid"] == holder.pid and recorded["holder"] == "a sections crawl"
    assert str(refused.value) == (f"{db} is being written by a sections crawl (pid {holder.pid}, started "
                                  f"{recorded['started_at']}); only one crawl may write an archive at a time.")


def test_the_lock_dies_with_a_process_killed_with_sigkill(tmp_path, holder):
    db = tmp_path / "dwn.db"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with writer_lock(db, holder="a feed crawl"):
        assert json.loads(lock_path(db).read_text(encoding="utf-8"))["pid"] == os.getpid()


def test_a_writer_told_to_wait_gets_the_lock_when_the_holder_ends(tmp_path):
    db = tmp_path / "dwn.db"
    with holding(db, seconds=1.0) as process, writer_lock(db, holder="a feed crawl", wait=30.0):
        assert process.wait(timeout=10) == 0, "the holder kept its lock to the end of its sleep"
        assert json.loads(lock_path(db).read_text(encoding="utf-8"))["holder"] == "a feed crawl"


def test_a_writer_waits_no_longer_than_told(tmp_path, holder):
    started = time.monotonic()
    with pytest.raises(ArchiveLocked), writer_lock(tmp_path / "dwn.db", holder="a feed crawl", wait=0.5):
        pass
    assert time.monotonic() - started >= 0.5


TRY = """
import sys
from dwnscraper.lock import ArchiveLocked, writer_lock
try:
    with writer_lock(sys.argv[1], holder="a feed crawl"):
        print("TAKEN")
except ArchiveLocked:
    print("REFUSED")
"""


def other_process_tries(db: Path) -> str:
    return subprocess.run([sys.executable, "-c", TRY, str(db)], capture_output=True, text=True, check=True).stdout


def test_the_lock_is_reentrant_in_its_process_and_released_by_the_last_user(tmp_path):
    db = tmp_path / "dwn.db"
    with writer_lock(db, holder="a crawl"):
        with writer_lock(db, holder="its pipeline"):
            pass
        assert other_process_tries(db) == "REFUSED\n"
    assert lock_path(db).read_text(encoding="utf-8") == ""
    assert other_process_tries(db) == "TAKEN\n"


def test_reparse_of_an_archive_respects_the_writer_lock(tmp_path, crawled):
    db = tmp_path / "dwn.db"
    shutil.copy(crawled, db)
    command = [sys.executable, "-m", "dwnscraper", "reparse", str(db), "-j", "1"]
    with holding(db) as process:
        refused = subprocess.run(command, capture_output=True, text=True, timeout=120)
        checked = subprocess.run([*command, "--check"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 3
    assert refused.stderr.startswith(f"Error: {db} is being written by a sections crawl (pid {process.pid}, ")
    assert "Traceback" not in refused.stderr
    assert checked.returncode == 0, checked.stderr
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
