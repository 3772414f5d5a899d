"""A real crawl against a server that misbehaves in every way the crawler must survive.

The fixture site is served by ``faultserver.FaultServer`` with faults on some of its article paths
(each for the first request only: a retry must succeed) and on new paths written into the Politik
page (on every request: each must end as an ``errors`` row naming the URL and the cause). Traps
listen on the loopback addresses the redirects point to; nothing may reach them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from faultserver import (
    Fault,
    FaultServer,
    Trap,
    charset,
    gzip_bomb,
    gzip_of_zeros,
    hang,
    oversize,
    redirect,
    reset,
    status,
    truncate,
)
from scrapy import Request
from scrapy.exceptions import DownloadTimeoutError
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from dwnscraper import LIVE_SITE
from dwnscraper.middlewares import RetryAfterMiddleware, retry_after_seconds
from dwnscraper.settings import DOWNLOAD_MAXSIZE

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"
MIB = 1024 * 1024
BOMB_SIZE = 1024 * MIB
PEAK_RSS_LIMIT = 300 * MIB
"""A crawl of the fixture site stays near 100 MB; inflating the bomb would take over 1 GB."""

DOWNLOAD_TIMEOUT = 2
EXPECTED_TIMEOUTS = 3 + 1
"""Three tries of the page that never answers, one of the page that answers the second try."""
PAGE = "/503440/Nato-und-Russland-Die-Woche-der-Wahrheit"
"""A site article whose bytes the resetting and truncating faults on new paths send (in part)."""
CRAWL = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", f"DOWNLOAD_TIMEOUT={DOWNLOAD_TIMEOUT}"]

RECOVERED = {
    "/718400/koalition-ringt-um-den-haushalt-streit-ueber": status(503, retry_after=1, times=1),
    "/718504/Chipfabrik-in-Magdeburg-Das-Ende-eines-Prestigeprojekts": hang(times=1),
    "/503412/Erholung-in-Sicht-Italiens-Wirtschaft-oeffnet-schrittweise": reset(times=1),
    "/503475/Deutsche-Bank-streicht-tausende-Stellen": truncate(times=1),
    "/503468/Brexit-Verhandlungen-stocken-erneut": status(500, times=2),
}
"""Faults on the first request(s) of a site article: the retry must fetch and store it."""

MISREAD = {
    "/718426/Goldpreis-auf-Rekordhoch-Anleger-fluechten-in-sichere": charset("utf-8", "windows-1252"),
    "/718439/kuenstliche-intelligenz-mittelstand-zoegert-bei-investitionen": charset("iso-8859-1", "utf-8"),
}
"""Pages whose ``Content-Type`` charset contradicts their ``<meta charset>``: stored with the right text."""


def failing(trap: Trap, other_host: Trap) -> dict[str, tuple[Fault, str, str]]:
    """New article paths that fail on every request -> (fault, errors.stage, words of errors.message)."""
    return {
        "/730500/Dauerhafter-Serverfehler": (status(500, retry_after=1), "http", "HTTP status 500"),
        "/730408/Keine-Antwort": (hang(), "download", "TimeoutError"),
        "/730104/Verbindung-getrennt": (reset(page=PAGE), "download", "truncated"),
        "/730206/Abgeschnitten": (truncate(page=PAGE), "download", "truncated"),
        "/730301/Im-Kreis": (redirect("/730302/Im-Kreis-zurueck"), "download", "max redirections"),
        "/730302/Im-Kreis-zurueck": (redirect("/730301/Im-Kreis"), "download", "max redirections"),
        "/730311/Anderer-Port": (redirect(f"{trap.url}/politik"), "download", f"offsite: {trap.address}"),
        "/730312/Andere-Adresse": (redirect(f"{other_host.url}/politik"), "download",
                                   f"offsite: {other_host.address}"),
        "/730313/Anderer-Name": (redirect(f"http://localhost:{trap.port}/politik"), "download",
                                 f"offsite: localhost:{trap.port}"),
        "/730413/Zu-gross": (oversize(DOWNLOAD_MAXSIZE + MIB), "download", "larger than download max size"),
        "/730414/Zu-gross-ohne-Laenge": (oversize(2 * DOWNLOAD_MAXSIZE, announced=False), "download",
                                         f"DOWNLOAD_MAXSIZE, {DOWNLOAD_MAXSIZE} bytes"),
        "/730900/Gzip-Bombe": (gzip_bomb(BOMB_SIZE), "download", "exceeded DOWNLOAD_MAXSIZE"),
    }


PEAK_REPORTER = """
import atexit, os, pathlib, runpy, sys

def report_peak():
    status = pathlib.Path("/proc/self/status").read_text()
    peak_kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    pathlib.Path(os.environ["DWN_TEST_PEAK_FILE"]).write_text(peak_kib)

atexit.register(report_peak)
sys.argv[0] = "dwnscraper"
runpy.run_module("dwnscraper", run_name="__main__")
"""
"""Runs ``python -m dwnscraper ARGS`` and writes the process's own peak RSS (``VmHWM``) at exit.

The kernel's ``ru_maxrss`` of a child counts the memory of the parent it was forked from (this test
process, large in a full test run), so the crawl reports its own high-water mark instead."""


def run_measured(arguments: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str, int]:
    """Run ``dwnscraper ARGUMENTS``; return its exit code, its stderr and its own peak resident memory in bytes."""
    out, err, peak = cwd / "crawl.out", cwd / "crawl.err", cwd / "crawl.peak"
    environment = {**os.environ, "DWN_TEST_PEAK_FILE": str(peak)}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.run([sys.executable, "-c", PEAK_REPORTER, *arguments], stdout=stdout,
                                 stderr=stderr, cwd=cwd, env=environment, timeout=timeout, check=False)
    return process.returncode, err.read_text(encoding="utf-8"), int(peak.read_text()) * 1024


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    return json.loads((SITE / "_manifest.json").read_text(encoding="utf-8"))["articles"]


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory):
    """One ``sections`` crawl through every fault: (server, traps, failing faults, db, exit code, stderr, peak RSS)."""
    tmp = tmp_path_factory.mktemp("faults")
    db = tmp / "dwn.db"
    gzip_of_zeros(BOMB_SIZE)  # built before the crawl, not while it runs
    with Trap("127.0.0.1") as trap, Trap("127.0.0.2") as other_host:
        broken = failing(trap, other_host)
        faults = {**RECOVERED, **MISREAD, **{path: fault for path, (fault, *_) in broken.items()}}
        links = {"/politik": [f"{LIVE_SITE}{path}" for path in broken]}
        with FaultServer(SITE, faults, links) as server:
            arguments = ["crawl", "--site", server.url, "--db", str(db), *CRAWL]
            code, stderr, peak = run_measured(arguments, tmp)
    return server, (trap, other_host), broken, db, code, stderr, peak


def test_crawl_completes(faulty_crawl):
    *_, code, stderr, _ = faulty_crawl
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stderr


def test_every_site_article_stored_once_despite_the_faults(faulty_crawl, manifest):
    _, _, _, db, *_ = faulty_crawl
    stored = dict(rows(db, "SELECT identity, headline FROM articles WHERE identity NOT LIKE 'id:730%'"))
    assert stored == {article["identity"]: article["headline"] for article in manifest}
    assert rows(db, "SELECT count(*) FROM article_revisions") == [(len(manifest),)]


def test_transient_faults_end_in_a_successful_retry(faulty_crawl):
    server, _, _, db, *_ = faulty_crawl
    tries = Counter(hit.path for hit in server.hits)
    for path, fault in RECOVERED.items():
        assert tries[path] == fault.times + 1, (path, fault.name)
        assert rows(db, "SELECT count(*) FROM errors WHERE url LIKE ?", f"%{path}%") == [(0,)]
        assert rows(db, "SELECT status FROM raw_pages WHERE url LIKE ?", f"%{path}%") == [(200,)]


def test_retry_after_is_honoured(faulty_crawl):
    server, *_ = faulty_crawl
    for path in ("/718400/koalition-ringt-um-den-haushalt-streit-ueber", "/730500/Dauerhafter-Serverfehler"):
        times = [hit.at for hit in server.hits if hit.path == path]
        assert len(times) >= 2
        assert min(later - earlier for earlier, later in zip(times, times[1:], strict=False)) >= 0.95, path


def test_contradicting_charsets_are_read_right(faulty_crawl):
    _, _, _, db, *_ = faulty_crawl
    for path in MISREAD:
        [(headline, text)] = rows(db, "SELECT headline, body_text FROM articles WHERE url LIKE ?", f"%{path}%")
        assert any(letter in headline for letter in "äöüÄÖÜß"), headline
        assert "\ufffd" not in headline + text and "Ã" not in headline + text


def test_every_permanent_fault_is_an_error_row_naming_url_and_cause(faulty_crawl):
    _, _, broken, db, *_ = faulty_crawl
    errors = rows(db, "SELECT url, stage, message FROM errors WHERE url LIKE ?", f"{LIVE_SITE}/730%")
    by_path = {urlsplit(url).path: (stage, message) for url, stage, message in errors}
    assert len(errors) == len(by_path) == len(broken), errors
    for path, (_, stage, cause) in broken.items():
        assert by_path[path][0] == stage and cause in by_path[path][1], (path, by_path[path])


def test_no_request_leaves_the_site(faulty_crawl):
    server, traps, _, db, *_ = faulty_crawl
    assert [hit for trap in traps for hit in trap.hits] == []
    assert {hit.listener for hit in server.hits} == {server.address}
    assert {hit.host for hit in server.hits} == {server.address}
    stats = json.loads(rows(db, "SELECT stats FROM crawl_runs")[0][0])
    # Requests Scrapy sent = requests the site logged + requests dropped by the guard, except that
    # a request timing out under load before the server read it is counted but never logged.
    unlogged = stats["downloader/request_count"] - stats["offsite_guard/dropped"] - len(server.hits)
    extra_timeouts = stats[f"downloader/exception_type_count/{DownloadTimeoutError.__module__}.DownloadTimeoutError"] \
        - EXPECTED_TIMEOUTS
    assert 0 <= unlogged <= extra_timeouts
    dropped = {key.removeprefix("offsite_guard/dropped/"): value for key, value in stats.items()
               if key.startswith("offsite_guard/dropped/")}
    # Each redirect off the site is dropped twice: its robots.txt request, then the request itself.
    assert dropped == {traps[0].address: 2, traps[1].address: 2, f"localhost:{traps[0].port}": 2}


def test_memory_stays_bounded_with_the_gzip_bomb(faulty_crawl):
    server, *_, peak = faulty_crawl
    assert "/730900/Gzip-Bombe" in {hit.path for hit in server.hits}
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / MIB:.0f} MiB"


@pytest.mark.parametrize(("header", "seconds"), [
    (b"3", 3.0), (b"Wed, 21 Oct 2015 07:28:00 GMT", 0.0), (b"soon", None), (None, None)])
def test_retry_after_values(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_a_wait_longer_than_the_limit_is_not_retried():
    crawler = get_crawler(settings_dict={"DWN_RETRY_AFTER_MAX": 60})
    middleware = RetryAfterMiddleware.from_crawler(crawler)
    request = Request(f"{LIVE_SITE}/politik")
    response = HtmlResponse(request.url, status=503, headers={"Retry-After": "3600"}, request=request)
    assert middleware.will_retry(request, response)
    coroutine = middleware.process_response(request, response)
    with pytest.raises(StopIteration) as done:
        coroutine.send(None)
    assert done.value.value is response and request.meta["dont_retry"] is True
    assert crawler.stats.get_value("retry_after/too_long") == 1
