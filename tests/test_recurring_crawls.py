"""Crawls run again and again: overlapping, stopped, resumed, failing. Real crawl processes, a real
second process, real signals, the fixture site on 127.0.0.1 (``faultserver.FaultServer``)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from faultserver import FaultServer, hang, slow

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "fixtures" / "site"
HELD_PAGE = "/503468/Brexit-Verhandlungen-stocken-erneut"
"""An article on page 2 of Politik: the server holds the request for it, so the crawl stays running."""
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log"]
DEADLINE_SECONDS = 60
ARTICLES = 32
"""Articles of the fixture site a full crawl stores."""


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer(SITE, {}) as fault_server:
        yield fault_server


def crawl_argv(site: str, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dwnscraper", "crawl", "--site", site, "--db", str(db), *FAST, *extra]


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=DEADLINE_SECONDS, cwd=cwd)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert process.poll() is None, f"the crawl ended before {what}"
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.02)


def requested(server: FaultServer, path: str, since: int = 0) -> Callable[[], bool]:
    return lambda: any(hit.path == path for hit in server.hits[since:])


@contextmanager
def crawling(argv: list[str], cwd: Path) -> Iterator[subprocess.Popen]:
    """A crawl process in the background, its output in files; killed if still running at the end. It leads
    a process group of its own, with its parse workers, as a command started in a terminal does."""
    with (cwd / f"crawl-{time.monotonic_ns()}.out").open("w+") as out, \
            subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


@contextmanager
def held_crawl(server: FaultServer, db: Path, cwd: Path) -> Iterator[subprocess.Popen]:
    """A crawl of ``db`` that is running, held at an unanswered request."""
    server.add_fault(HELD_PAGE, hang(times=1))
    earlier = len(server.hits)
    with crawling(crawl_argv(server.url, db), cwd) as first:
        wait_for(requested(server, HELD_PAGE, earlier), first, "the held page was requested")
        yield first


# -- one writer per archive ------------------------------------------------------------------------

def test_a_second_crawl_is_refused_at_once_with_a_sentence_naming_the_first(server, tmp_path):
    db = tmp_path / "dwn.db"
    with held_crawl(server, db, tmp_path) as first:
        runs_before = rows(db, "SELECT id FROM crawl_runs")
        second = run(crawl_argv(server.url, db, "feed"), tmp_path)
        assert second.returncode == 3
        assert second.stdout == ""
        assert re.fullmatch(rf"Error: {re.escape(str(db))} is being written by a sections crawl \(pid {first.pid}, "
                            r"started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\); only one crawl may write an archive "
                            r"at a time\.\n", second.stderr), second.stderr
        assert rows(db, "SELECT id FROM crawl_runs") == runs_before


def test_scrapy_crawl_from_the_repository_respects_the_lock(server, tmp_path):
    db = tmp_path / "dwn.db"
    with held_crawl(server, db, tmp_path) as first:
        runs_before = rows(db, "SELECT id FROM crawl_runs")
        scrapy = run([sys.executable, "-m", "scrapy", "crawl", "feed", "-s", f"DWN_DB={db}",
                      "-s", f"DWN_SITE={server.url}", "-s", "DWN_PROGRESS=log"], REPO)
        assert scrapy.returncode == 3, scrapy.stderr[-2000:]
        assert f"{db} is being written by a sections crawl (pid {first.pid}, started " in scrapy.stderr
        assert "Spider closed (archive_locked)" in scrapy.stderr
        assert rows(db, "SELECT id FROM crawl_runs") == runs_before
        assert "'downloader/request_count'" not in scrapy.stderr, "it fetched nothing"


def test_a_crawl_told_to_wait_takes_over_when_the_first_is_killed_and_closes_its_run(server, tmp_path):
    db = tmp_path / "dwn.db"
    with held_crawl(server, db, tmp_path) as first, \
            crawling(crawl_argv(server.url, db, "--wait", "60"), tmp_path) as second:
        time.sleep(1.0)
        assert second.poll() is None, "the second crawl waits for the lock"
        assert rows(db, "SELECT count(*) FROM crawl_runs") == [(1,)]
        first.send_signal(signal.SIGKILL)
        assert second.wait(timeout=DEADLINE_SECONDS) == 0
    assert rows(db, "SELECT id, finish_reason FROM crawl_runs ORDER BY id") == [(1, "interrupted"), (2, "finished")]
    assert rows(db, "SELECT count(*) FROM crawl_runs WHERE pages_fetched IS NULL OR finished_at IS NULL") == [(0,)]
    assert rows(db, "SELECT count(*) FROM articles") == [(ARTICLES,)]


# -- --resume that cannot go stale -----------------------------------------------------------------

def test_the_job_of_a_finished_crawl_starts_a_new_job(server, tmp_path):
    db, job = tmp_path / "dwn.db", tmp_path / "job"
    assert run(crawl_argv(server.url, db, "--resume", str(job)), tmp_path).returncode == 0
    again = run(crawl_argv(server.url, db, "--resume", str(job)), tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert re.match(rf"The crawl job in {re.escape(str(job))} finished at \S+; a new job starts there\.\n",
                    again.stdout), again.stdout
    (first_job, _), (second_job, listings) = rows(
        db, "SELECT json_extract(options, '$.job'), listings FROM crawl_runs ORDER BY id")
    assert first_job != second_job
    assert listings >= 8, "the new job fetched the section fronts again"


@pytest.mark.parametrize("other", ["database", "spider"])
def test_a_job_dir_made_for_another_database_or_spider_is_refused(other, server, tmp_path):
    db, job, other_db = tmp_path / "dwn.db", tmp_path / "job", tmp_path / "other.db"
    with held_crawl(server, db, tmp_path) as first:
        first.kill()
    assert run(crawl_argv(server.url, db, "--resume", str(job), "--max-pages", "1"), tmp_path).returncode == 0
    argv = crawl_argv(server.url, other_db, "--resume", str(job)) if other == "database" else \
        crawl_argv(server.url, db, "feed", "--resume", str(job))
    refused = run(argv, tmp_path)
    assert refused.returncode == 2
    wanted = ("sections", other_db.resolve()) if other == "database" else ("feed", db.resolve())
    assert (f"Error: The job directory {job} belongs to a sections crawl into {db.resolve()}, not to a "
            f"{wanted[0]} crawl into {wanted[1]}; give another --resume directory.") in refused.stderr
    assert not other_db.exists()
    assert rows(db, "SELECT count(*) FROM crawl_runs") == [(2,)]


# -- commits by time -------------------------------------------------------------------------------

def raw_pages_visible(db: Path) -> int:
    try:
        return rows(db, "SELECT count(*) FROM raw_pages")[0][0]
    except sqlite3.OperationalError:
        return 0


def test_pages_are_committed_by_time_long_before_a_batch_is_full(server, tmp_path):
    """One page every 0.3 s, batches of 200: without commits by time nothing would be visible, and a
    kill would lose everything fetched."""
    db = tmp_path / "dwn.db"
    argv = crawl_argv(server.url, db, "-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                      "-s", "DWN_COMMIT_INTERVAL=0.5")
    earlier = len(server.hits)
    with crawling(argv, tmp_path) as process:
        wait_for(lambda: raw_pages_visible(db) >= 5, process, "5 raw pages were visible to another process")
        fetched = len(server.hits) - earlier
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert fetched < 200
    assert rows(db, "SELECT count(*) FROM raw_pages")[0][0] >= 5
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


# -- exit codes ------------------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_crawl_whose_every_request_failed_exits_1(tmp_path):
    db = tmp_path / "dwn.db"
    done = run(crawl_argv(f"http://127.0.0.1:{closed_port()}", db, "feed", "-s", "RETRY_TIMES=0"), tmp_path)
    assert done.returncode == 1
    assert "0 pages fetched" in done.stdout and "None" not in done.stdout
    assert ("Error: Every request failed: no page was fetched, with 1 failures in the errors table; is the site "
            "down or --site wrong?") in done.stderr
    assert rows(db, "SELECT stage FROM errors") == [("download",)]


def test_a_forced_double_ctrl_c_exits_4_with_counts_and_the_run_closed(server, tmp_path):
    db = tmp_path / "dwn.db"
    server.add_fault(HELD_PAGE, slow(20.0, times=1))
    earlier = len(server.hits)
    with crawling(crawl_argv(server.url, db), tmp_path) as process:
        wait_for(requested(server, HELD_PAGE, earlier), process, "the slow page was requested")
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert process.poll() is None, "the first Ctrl-C waits for the page on the wire"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=DEADLINE_SECONDS) == 4
    output = next(tmp_path.glob("crawl-*.out")).read_text(encoding="utf-8")
    assert not re.search(r"None (pages|listings|new|updated|unchanged|\(see)", output)
    assert re.search(r"Crawl run 1 \(sections\) interrupted: [1-9]\d* pages fetched", output), output[-3000:]
    assert "Error: The crawl was stopped before the end (interrupted); the same command again fetches the rest." \
        in output
    (reason, pages), = rows(db, "SELECT finish_reason, pages_fetched FROM crawl_runs")
    assert reason == "interrupted" and pages == rows(db, "SELECT count(*) FROM raw_pages")[0][0] > 0


def test_one_ctrl_c_stops_a_polite_crawl_sending_nothing_more(server, tmp_path):
    """Polite settings (a delay between requests, AutoThrottle): after one Ctrl-C (SIGINT to the process
    group, as a terminal sends it, so the parse worker gets it too) no request is sent, what came back is
    stored, no process prints a traceback, and the exit status says the crawl stopped before the end."""
    db = tmp_path / "dwn.db"
    argv = [sys.executable, "-m", "dwnscraper", "crawl", "--site", server.url, "--db", str(db),
            "-s", "DWN_PROGRESS=log", "-s", "DOWNLOAD_DELAY=0.5", "-s", "AUTOTHROTTLE_START_DELAY=0.5"]
    earlier = len(server.hits)
    with crawling(argv, tmp_path) as process:
        wait_for(lambda: len(server.hits) - earlier >= 6, process, "6 requests were made")
        os.killpg(process.pid, signal.SIGINT)
        signalled = len(server.hits)
        assert process.wait(timeout=DEADLINE_SECONDS) == 4
    output = "".join(path.read_text() for path in tmp_path.glob("crawl-*.out"))
    assert "Traceback" not in output, output[-3000:]
    after = server.hits[signalled:]
    assert len(after) <= 1, f"requests sent after Ctrl-C: {after}"
    pages = [hit for hit in server.hits[earlier:] if hit.path != "/robots.txt"]
    assert rows(db, "SELECT count(*) FROM raw_pages") == [(len(pages),)]
    stats = json.loads(rows(db, "SELECT stats FROM crawl_runs")[0][0])
    assert stats["dwn/requests_unsent_at_stop"] >= 1
    assert rows(db, "SELECT count(*) FROM errors") == [(0,)], "a request left unsent is no error"


def test_the_stopped_requests_of_a_resumable_crawl_are_kept_for_the_next(server, tmp_path):
    db, job = tmp_path / "dwn.db", tmp_path / "job"
    argv = crawl_argv(server.url, db, "--resume", str(job), "-s", "DOWNLOAD_DELAY=0.3")
    earlier = len(server.hits)
    with crawling(argv, tmp_path) as process:
        wait_for(lambda: len(server.hits) - earlier >= 6, process, "6 requests were made")
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=DEADLINE_SECONDS) == 5
    resumed = run(crawl_argv(server.url, db, "--resume", str(job)), tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert rows(db, "SELECT count(*) FROM articles") == [(ARTICLES,)]
