"""``dwnscraper watch`` as a real process: crawl cycles against the fixture site on 127.0.0.1, a
failing cycle retried with backoff, and a graceful stop by SIGTERM in the middle of a cycle."""

from __future__ import annotations

import itertools
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from faultserver import Fault, FaultServer, hang

from dwnscraper.mirror import MirrorServer

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"
QUICK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
         "-s", "DWN_PROGRESS=off", "-s", "LOG_LEVEL=WARNING"]


def watch(db: Path, site: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "dwnscraper", "watch", "--db", str(db), "--site", site, *QUICK, *args]


def crawl_runs(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT id, spider, finished_at IS NOT NULL, finish_reason FROM crawl_runs"
                                  " ORDER BY id").fetchall()


def hang_on_second_request() -> Fault:
    """The site's page the first time; the second time, no answer (the crawl is held mid-cycle)."""
    requests = itertools.count(1)
    held = hang()

    def answer(handler, site):
        if next(requests) == 2:
            held.answer(handler, site)
        else:
            handler.reply(site)

    return Fault("hang on the second request", answer)


def test_sigterm_mid_cycle_stops_the_crawl_gracefully(tmp_path):
    db = tmp_path / "dwn.db"
    with FaultServer(SITE, {"/politik": hang_on_second_request()}) as server:
        process = subprocess.Popen(watch(db, server.url, "--every", "1s", "-s", "DOWNLOAD_TIMEOUT=5"),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        while sum(hit.path == "/politik" for hit in server.hits) < 2:
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-3000:]
    lines = stdout.splitlines()
    assert len(lines) == 3, stdout
    assert lines[0].startswith("Cycle 1 (") and "sections ok (run 1 finished:" in lines[0]
    assert "feed ok (run 2 finished:" in lines[0] and lines[0].endswith("next cycle in 1s.")
    assert lines[1].startswith("Cycle 2 (")
    assert "(run 3 shutdown:" in lines[1] and "feed" not in lines[1] and lines[1].endswith("stopping.")
    assert lines[2] == "Stopped by SIGTERM after 2 cycles."
    assert crawl_runs(db) == [(1, "sections", 1, "finished"), (2, "feed", 1, "finished"),
                              (3, "sections", 1, "shutdown")]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_failing_cycle_is_retried_with_backoff(tmp_path):
    """A coverage threshold no layout meets makes every crawl that fetches articles fail (exit 1);
    with --refresh each cycle fetches them all again."""
    db = tmp_path / "dwn.db"
    with MirrorServer(SITE) as mirror:
        done = subprocess.run(watch(db, mirror.url, "--every", "1h", "--retry", "1s", "--cycles", "3",
                                    "-s", 'DWN_COVERAGE_THRESHOLDS={"topics": 1.0}', "-s", "DWN_REFRESH=True"),
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [line.split(": ", 1)[1].split(" (run")[0] for line in lines] == ["sections failed (exit 1)"] * 3
    assert [line.rsplit("; ", 1)[1] for line in lines] == ["retry in 1s.", "retry in 2s.", "stopping."]
    assert [spider for _, spider, _, _ in crawl_runs(db)] == ["sections", "feed"] * 3


def test_a_setting_every_crawl_refuses_stops_the_watch(tmp_path):
    done = subprocess.run(watch(tmp_path / "dwn.db", "http://127.0.0.1:9", "-s", "DWN_REVISIT=2d"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: dwnscraper crawl sections refused its arguments (exit 2, see above); every cycle would fail "
        "the same way.")
    assert "Traceback" not in done.stderr


def test_bad_durations_are_one_sentence():
    done = subprocess.run([sys.executable, "-m", "dwnscraper", "watch", "--every", "0s"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1] == (
        "Error: Invalid value for '--every': every must be longer than 0s.")
