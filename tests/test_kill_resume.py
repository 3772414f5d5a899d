"""Stop a crawl with SIGKILL, SIGINT or SIGTERM at several points, run the same command again (with
``--resume DIR`` and without), and compare with a crawl never stopped.

The SIGKILL points are hit deterministically: *fetching*, when the server receives a request it holds
unanswered; *a database write*, inside a batch's transaction (``pausing_crawl.py`` stops the process
at the second insert of article revisions); *the final report*, at the crawl run's closing update with its
counts and coverage. SIGINT (Ctrl-C) and SIGTERM come while the server is slowly answering page 1 or
page 2 of the Politik listing (so the articles only on page 2 are not yet requested).
The archive after the second run must hold the same articles with the same content, each once, every
page of the site, and pass ``PRAGMA integrity_check``: no run may trust what a stopped run stored.
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
from faultserver import FaultServer, hang, slow

from dwnscraper.parsing.urls import article_identity

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"
PAUSING_CRAWL = Path(__file__).resolve().parent / "pausing_crawl.py"
HELD_PAGE = "/503468/Brexit-Verhandlungen-stocken-erneut"
"""An article on page 2 of Politik: the server holds a request for it, and the kill comes then."""
PAGE_1 = "/politik"
PAGE_2 = "/politik/page/2/"
"""The second page of the Politik listing; four of the site's articles are linked only from page 2."""
SLOW_SECONDS = 1.0

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "DWN_BATCH_SIZE=8"]
DEADLINE_SECONDS = 60


def command(server: FaultServer, db: Path, *extra: str) -> list[str]:
    return ["crawl", "--site", server.url, "--db", str(db), *FAST, *extra]


def run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dwnscraper", *arguments], capture_output=True, text=True,
                          timeout=DEADLINE_SECONDS, cwd=cwd)


def resuming(jobdir: Path | None) -> list[str]:
    return ["--resume", str(jobdir)] if jobdir else []


def kill_when(argv: list[str], cwd: Path, reached: Callable[[str], bool], signum: int = signal.SIGKILL) -> str:
    """Start ``argv``, send it ``signum`` as soon as ``reached(stderr so far)``, wait for its end; return
    its stderr. SIGKILL must end it at once; SIGINT and SIGTERM must end it as stopped before the end
    (exit status 4, or 5 with ``--resume``)."""
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
        os.kill(process.pid, signum)
        process.wait(timeout=DEADLINE_SECONDS)
    stopped = 5 if "--resume" in argv else 4
    assert process.returncode == (-signal.SIGKILL if signum == signal.SIGKILL else stopped), log.read_text()[-3000:]
    return log.read_text(encoding="utf-8", errors="replace")


def kill_while_fetching(server: FaultServer, db: Path, cwd: Path, jobdir: Path | None) -> str:
    server.add_fault(HELD_PAGE, hang(times=1))
    earlier = len(server.hits)
    argv = [sys.executable, "-m", "dwnscraper", *command(server, db, *resuming(jobdir))]
    return kill_when(argv, cwd, lambda _: any(hit.path == HELD_PAGE for hit in server.hits[earlier:]))


def kill_inside(prefix: str, nth: int) -> Callable[[FaultServer, Path, Path, Path | None], str]:
    def kill(server: FaultServer, db: Path, cwd: Path, jobdir: Path | None) -> str:
        argv = [sys.executable, str(PAUSING_CRAWL), prefix, str(nth), *command(server, db, *resuming(jobdir))]
        stderr = kill_when(argv, cwd, lambda text: "PAUSED" in text)
        assert f"PAUSED {prefix} in_transaction=True" in stderr
        return stderr

    return kill


def stop_while_answering(path: str, signum: int) -> Callable[[FaultServer, Path, Path, Path | None], str]:
    """Send ``signum`` while the server takes ``SLOW_SECONDS`` to answer ``path``."""

    def stop(server: FaultServer, db: Path, cwd: Path, jobdir: Path | None) -> str:
        server.add_fault(path, slow(SLOW_SECONDS, times=1))
        earlier = len(server.hits)
        argv = [sys.executable, "-m", "dwnscraper", *command(server, db, *resuming(jobdir))]
        return kill_when(argv, cwd, lambda _: any(hit.path == path for hit in server.hits[earlier:]), signum)

    return stop


KILL_POINTS = {
    "fetching": kill_while_fetching,
    "database write": kill_inside('INSERT INTO [article_revisions]', 2),
    "final report": kill_inside('update "crawl_runs" set "finished_at"', 1),
}
STOPS = {f"{signal.Signals(signum).name} while {where}": stop_while_answering(path, signum)
         for signum in (signal.SIGINT, signal.SIGTERM)
         for where, path in (("page 1 of a listing is answered", PAGE_1), ("page 2 is answered", PAGE_2))}
"""Graceful stops: Scrapy closes the spider; page 2 (or its article) in flight is stored, what was
queued is not fetched in this run."""
IN_TURN = [kill_while_fetching, kill_inside('INSERT INTO [article_revisions]', 1), KILL_POINTS["final report"]]
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
    assert runs[-1] == ("finished",) and set(runs[:-1]) <= {("interrupted",), ("shutdown",)}, runs
    assert query(db, "SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL") == [(0,)]


@pytest.mark.parametrize("again", ["with --resume", "plain"])
@pytest.mark.parametrize("point", [*KILL_POINTS, *STOPS])
def test_stopped_once_and_run_again(point, again, server, uninterrupted, tmp_path):
    db, jobdir = tmp_path / "dwn.db", (tmp_path / "job" if again == "with --resume" else None)
    {**KILL_POINTS, **STOPS}[point](server, db, tmp_path, jobdir)
    if point in STOPS:
        assert query(db, "SELECT count(*) FROM articles") < [(len(uninterrupted["articles"]),)], "stopped early"
    again = run(command(server, db, *resuming(jobdir)), tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_same_as_uninterrupted(db, uninterrupted)


def test_killed_at_every_point_in_turn_and_resumed(server, uninterrupted, tmp_path):
    db, jobdir = tmp_path / "dwn.db", tmp_path / "job"
    for kill in IN_TURN:
        kill(server, db, tmp_path, jobdir)
    resumed = run(command(server, db, "--resume", str(jobdir)), tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_as_uninterrupted(db, uninterrupted)
    assert len(query(db, "SELECT id FROM crawl_runs")) == len(IN_TURN) + 1
