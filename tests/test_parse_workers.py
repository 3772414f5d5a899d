"""Parse workers: the crawl parses in worker processes that never outlive it."""

from __future__ import annotations

import subprocess
import sys

WORKER = """
import sys, time
from dwnscraper.parseworker import end_with_process
end_with_process(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(60)
"""


def test_a_worker_ends_when_its_crawl_is_killed() -> None:
    crawl = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(crawl.pid)], stdout=subprocess.PIPE, text=True)
    with crawl, worker:
        try:
            assert worker.stdout.readline() == "watching\n"
            crawl.kill()
            crawl.wait()
            assert worker.wait(timeout=10) == 0
        finally:
            for process in (crawl, worker):
                process.kill()


def test_a_worker_whose_crawl_is_already_gone_ends_at_once() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    worker = subprocess.run([sys.executable, "-c", WORKER, str(gone.pid)], capture_output=True, text=True, timeout=10)
    assert worker.returncode == 0
