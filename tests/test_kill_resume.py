"""SIGKILL a crawl at three points, resume it with ``--resume DIR`` each time, compare with a crawl never killed.

The points are hit deterministically: *fetching*, when the server receives a request it holds
unanswered; *a database write*, inside a batch's transaction (``pausing_crawl.py`` stops the process
at the second insert of article revisions); *the final report*, at the crawl run's closing update with its
counts and coverage. The resumed archive must hold the same articles with the same
content, each once, every page of the site, and pass ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from faultserver import FaultServer, hang

from dwnscraper.parsing.urls import article_identity

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"
PAUSING_CRAWL = Path(__file__).resolve().parent / "pausing_crawl.py"
HELD_PAGE = "/503468/Brexit-Verhandlungen-stocken-erneut"
"""An article on page 2 of Politik: the server holds a request for it, and the kill comes then."""

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "DWN_BATCH_SIZE=8"]
DEADLINE_SECONDS = 60


def command(server: FaultServer, db: Path, *extra: str) -> list[str]:
    return ["crawl", "--site", server.url, "--db", str(db), *FAST, *extra]


def run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dwnscraper", *arguments], capture_output=True, text=True,
                          timeout=DEADLINE_SECONDS, cwd=cwd)


def kill_when(argv: list[str], cwd: Path, reached: Callable[[str], bool]) -> str:
    """Start ``argv``, SIGKILL it as soon as ``reached(stderr so far)``; return that stderr."""
    log = cwd / f"killed-{time.monotonic_ns()}.err"
    with log.open("wb") as stderr:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, cwd=cwd)
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while not reached(log.read_text(encoding="utf-8", errors="replace")):
            assert process.poll() is None, "the crawl ended before the kill point:\n" + log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    return log.read_text(encoding="utf-8", errors="replace")


def kill_while_fetching(server: FaultServer, db: Path, cwd: Path, jobdir: Path) -> str:
    server.add_fault(HELD_PAGE, hang(times=1))
    earlier = len(server.hits)
    argv = [sys.executable, "-m", "dwnscraper", *command(server, db, "--resume", str(jobdir))]
    return kill_when(argv, cwd, lambda _: any(hit.path == HELD_PAGE for hit in server.hits[earlier:]))


def kill_inside(prefix: str, nth: int) -> Callable[[FaultServer, Path, Path, Path], str]:
    def kill(server: FaultServer, db: Path, cwd: Path, jobdir: Path) -> str:
        argv = [sys.executable, str(PAUSING_CRAWL), prefix, str(nth), *command(server, db, "--resume", str(jobdir))]
        stderr = kill_when(argv, cwd, lambda text: "PAUSED" in text)
        assert f"PAUSED {prefix} in_transaction=True" in stderr
        return stderr

    return kill


KILL_POINTS = {
    "fetching": kill_while_fetching,
    "database write": kill_inside('INSERT INTO "article_revisions"', 2),
    "final report": kill_inside('update "crawl_runs" set "finished_at"', 1),
}
IN_TURN = [kill_while_fetching, kill_inside('INSERT INTO "article_revisions"', 1), KILL_POINTS["final report"]]
"""The kills of one crawl resumed after each. After the first kill, the held page at least is left
to store, so the write to kill in is the first batch of articles."""


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def archive_contents(db: Path) -> dict[str, object]:
    """What must not differ between a crawl killed and resumed and one never killed. Pages are
    compared by URL, articles by identity (which URL variant is fetched first varies)."""
    return {
        "articles": dict(query(db, "SELECT identity, content_hash FROM articles")),
        "revisions": dict(query(db, "SELECT identity, count(*) FROM article_revisions GROUP BY identity")),
        "pages": {article_identity(url) or url for (url,) in query(db, "SELECT DISTINCT url FROM raw_pages")},
        "listing urls": {url for (url,) in query(db, "SELECT DISTINCT url FROM listings")},
    }


@pytest.fixture(scope="module")
def server():
    """The site; the kill while fetching makes it hold one request unanswered."""
    with FaultServer(SITE, {}) as fault_server:
        yield fault_server


@pytest.fixture(scope="module")
def uninterrupted(server, tmp_path_factory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("uninterrupted")
    db = tmp / "dwn.db"
    done = run(command(server, db), tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    return archive_contents(db)


def assert_same_as_uninterrupted(db: Path, uninterrupted: dict[str, object]) -> None:
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA foreign_key_check") == []
    resumed = archive_contents(db)
    assert resumed["articles"] == uninterrupted["articles"], "the same articles with the same content"
    assert set(resumed["revisions"].values()) == {1}, "each article stored exactly once"
    assert resumed["pages"] == uninterrupted["pages"], "every page of the site stored"
    assert resumed["listing urls"] == uninterrupted["listing urls"]
    runs = query(db, "SELECT finish_reason FROM crawl_runs ORDER BY id")
    assert runs[-1] == ("finished",) and set(runs[:-1]) <= {("interrupted",)}, runs
    assert query(db, "SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL") == [(0,)]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_once_and_resumed(point, server, uninterrupted, tmp_path):
    db, jobdir = tmp_path / "dwn.db", tmp_path / "job"
    KILL_POINTS[point](server, db, tmp_path, jobdir)
    resumed = run(command(server, db, "--resume", str(jobdir)), tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_as_uninterrupted(db, uninterrupted)


def test_killed_at_every_point_in_turn_and_resumed(server, uninterrupted, tmp_path):
    db, jobdir = tmp_path / "dwn.db", tmp_path / "job"
    for kill in IN_TURN:
        kill(server, db, tmp_path, jobdir)
    resumed = run(command(server, db, "--resume", str(jobdir)), tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_as_uninterrupted(db, uninterrupted)
    assert len(query(db, "SELECT id FROM crawl_runs")) == len(IN_TURN) + 1
