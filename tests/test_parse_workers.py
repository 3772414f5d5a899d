"""Parse workers: processes fed by the crawl's event loop, which answer, fail loudly and never outlive
the crawl."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crashing_parser import CRASH

from dwnscraper.pipelines import PARSE_ATTEMPTS, parse_in_pool
from dwnscraper.workerpool import WorkerLost, WorkerPool

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"

CRAWL = """
import asyncio, sys
from dwnscraper.workerpool import WorkerPool

async def main():
    pool = WorkerPool(1, job="operator:add", warm_up="gc:collect")
    assert await pool.run(1, 2) == 3
    print(pool.workers[0].process.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


BUSY_CRAWL = """
import asyncio, sys, time
from dwnscraper.workerpool import WorkerPool

async def main():
    pool = WorkerPool(1, job="time:sleep", warm_up="gc:collect")
    await pool.run(0)
    pages = [asyncio.create_task(pool.run(0.01)) for _ in range(5)]
    for _ in range(3):  # the pages go out; their answers come back while the loop stands still
        await asyncio.sleep(0)
    print(pool.workers[0].process.pid, flush=True)
    time.sleep(60)

asyncio.run(main())
"""
"""A crawl whose loop stands still with pages at its worker: the worker's answers pile up unread, and the
crawl's death resets the socket (ECONNRESET) instead of closing it."""


def run(coroutine_function):
    return asyncio.run(coroutine_function())


def ended(pid: int) -> bool:
    """Whether process ``pid`` is gone or a zombie (ended, not yet reaped by whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def test_workers_answer_in_any_order_of_arrival() -> None:
    async def main():
        pool = WorkerPool(2, job="operator:mul", warm_up="gc:collect")
        try:
            return await asyncio.gather(*(pool.run(number, 3) for number in range(50)))
        finally:
            pool.close()

    assert run(main) == [number * 3 for number in range(50)]


def test_an_exception_in_the_job_reaches_the_caller() -> None:
    async def main():
        pool = WorkerPool(1, job="operator:truediv", warm_up="gc:collect")
        try:
            with pytest.raises(ZeroDivisionError):
                await pool.run(1, 0)
            return await pool.run(6, 3)
        finally:
            pool.close()

    assert run(main) == 2


def test_a_worker_that_dies_fails_its_page_and_is_replaced() -> None:
    async def main():
        pool = WorkerPool(1, job="os:_exit", warm_up="gc:collect")
        try:
            first = pool.workers[0].process
            with pytest.raises(WorkerLost):
                await pool.run(3)
            assert first.wait(10) == 3
            assert pool.workers[0].process is not first
            with pytest.raises(WorkerLost):
                await pool.run(4)
        finally:
            pool.close()

    run(main)


def test_closing_the_pool_ends_its_workers_at_once() -> None:
    async def main():
        pool = WorkerPool(2, job="operator:add", warm_up="gc:collect")
        await asyncio.gather(pool.run(1, 1), pool.run(2, 2))
        processes = [worker.process for worker in pool.workers]
        started = time.monotonic()
        pool.close()
        return processes, time.monotonic() - started

    processes, seconds = run(main)
    assert [process.returncode for process in processes] == [0, 0]
    assert seconds < 2


@pytest.mark.parametrize("script", [CRAWL, BUSY_CRAWL], ids=["idle", "answers unread"])
def test_a_worker_ends_when_its_crawl_is_killed(script: str) -> None:
    crawl = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    with crawl:
        try:
            worker = int(crawl.stdout.readline())
            assert not ended(worker)
            time.sleep(0.5)
            crawl.kill()
            crawl.wait()
            deadline = time.monotonic() + 10
            while not ended(worker) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert ended(worker)
        finally:
            crawl.kill()


def test_a_worker_outlives_the_stop_signals_of_its_crawl() -> None:
    """systemd's stop sends SIGTERM to every process of the service: the crawl stops, its worker goes on
    parsing the pages the crawl still stores, and ends when the crawl closes its socket."""

    async def main():
        pool = WorkerPool(1, job="operator:add", warm_up="gc:collect")
        try:
            assert await pool.run(1, 2) == 3
            for stop in (signal.SIGTERM, signal.SIGINT):
                os.kill(pool.workers[0].process.pid, stop)
            await asyncio.sleep(0.2)
            return await pool.run(2, 3), pool.workers[0].process.returncode
        finally:
            pool.close()

    assert run(main) == (5, None)


def test_ctrl_c_in_the_terminal_does_not_reach_a_worker() -> None:
    async def main():
        pool = WorkerPool(1, job="operator:add", warm_up="gc:collect")
        try:
            worker = pool.workers[0].process
            assert await pool.run(1, 2) == 3
            assert os.getpgid(worker.pid) != os.getpgid(0)
        finally:
            pool.close()

    run(main)


def test_a_page_that_crashes_the_parser_is_an_error_not_a_crash_of_the_crawl() -> None:
    """A worker dies on the page, a new one tries it and dies too: the page is an error record (its body packed for
    the raw page), the crawl's process never parses it itself, and the next page is parsed by a new worker."""
    page = (FIXTURES / "current" / "seed-2021-12-31.html").read_bytes()
    url = "https://deutsche-wirtschafts-nachrichten.de/516842/x"

    async def main():
        pool = WorkerPool(1, job="crashing_parser:prepare_or_crash", warm_up="gc:collect")
        try:
            crashed = await parse_in_pool(pool, (page.replace(b"<body", CRASH + b"<body", 1), url, None, {}))
            parsed = await parse_in_pool(pool, (page, url, None, {}))
        finally:
            pool.close()
        return crashed, parsed

    crashed, parsed = run(main)
    assert crashed.record["kind"] == "error" and f"{PARSE_ATTEMPTS} parse workers died" in crashed.record["error"]
    assert crashed.body is not None and crashed.article is None
    assert parsed.record["kind"] == "article" and parsed.record["article_id"] == 516842
