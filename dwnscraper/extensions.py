"""Crawl extensions: progress (a live line on a terminal, plain log lines in pipes and CI), a
``JOBDIR`` that stays resumable when the crawl process is killed and cannot go stale, and a stop
(Ctrl-C, SIGTERM) that stops fetching at once."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import create_looping_call
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

TTY_REFRESH_SECONDS = 0.5


def progress_mode(setting: str, stream: Any = sys.stderr) -> str:
    """``tty``, ``log`` or ``off`` for a ``DWN_PROGRESS`` value (``auto`` looks at the stream)."""
    if setting == "auto":
        return "tty" if stream.isatty() else "log"
    return setting


class Progress:
    """Report pages fetched, articles new and updated, errors, pages/s and elapsed time."""

    def __init__(self, crawler: Crawler, mode: str, interval: float) -> None:
        self.stats = crawler.stats
        self.mode = mode
        self.interval = TTY_REFRESH_SECONDS if mode == "tty" else interval
        self.started = time.monotonic()
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        mode = progress_mode(crawler.settings.get("DWN_PROGRESS"))
        if mode == "off":
            raise NotConfigured("DWN_PROGRESS is off")
        extension = cls(crawler, mode, crawler.settings.getfloat("DWN_PROGRESS_INTERVAL"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.task = create_looping_call(self.report)
        self.task.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.report()
        if self.mode == "tty":
            sys.stderr.write("\n")
            sys.stderr.flush()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        pages = self.stats.get_value("dwn/pages_archived", 0)
        get = self.stats.get_value
        return (f"{pages} pages fetched, {get('dwn/articles_new', 0)} articles new, "
                f"{get('dwn/articles_updated', 0)} updated, {get('dwn/errors', 0)} errors, "
                f"{pages / elapsed if elapsed else 0.0:.1f} pages/s, {elapsed:.0f} s elapsed")

    def report(self) -> None:
        if self.mode == "tty":
            sys.stderr.write("\r\x1b[2K" + self.line())
            sys.stderr.flush()
        else:
            logger.info("Progress: %s", self.line())


JOB_FILE = "dwn-job.json"
RUNNING_FILE = "dwn-running"
SCRAPY_JOB_STATE = ("requests.seen", "requests.queue", "spider.state")
"""What Scrapy keeps in a ``JOBDIR``: the seen fingerprints, the request queue, the spider state."""


def write_durably(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all, and on disk before returning (write, fsync, rename)."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def job_id(jobdir: str | Path) -> str:
    """The id of the crawl job kept in ``jobdir``, made by its first crawl; crawl runs record it."""
    path = Path(jobdir) / JOB_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_durably(path, json.dumps({"job": uuid.uuid4().hex}))
    return json.loads(path.read_text(encoding="utf-8"))["job"]


class StaleJob(ValueError):
    """A job directory made for a crawl of another archive or another spider."""


def prepare_job(jobdir: str | Path, db: str | Path, spider: str) -> str | None:
    """Make ``jobdir`` ready for a crawl of ``spider`` into ``db``; return a line to tell, if any.

    A job directory names the archive and spider it was made for (``dwn-job.json``), and a crawl of
    anything else is refused (:class:`StaleJob`): its queue and seen requests would silently skip
    pages. A job whose crawl finished has nothing left to continue, so a scheduled command that always
    passes ``--resume`` would fetch nothing forever: its Scrapy state is dropped and a new job starts.
    """
    jobdir = Path(jobdir)
    path = jobdir / JOB_FILE
    made_for = {"db": str(Path(db).resolve()), "spider": spider}
    line = None
    if path.exists():
        job = {**made_for, **json.loads(path.read_text(encoding="utf-8"))}
        if job["db"] != made_for["db"] or job["spider"] != spider:
            raise StaleJob(f"The job directory {jobdir} belongs to a {job['spider']} crawl into {job['db']}, "
                           f"not to a {spider} crawl into {made_for['db']}; give another --resume directory.")
        if "finished_at" not in job:
            write_durably(path, json.dumps(job))
            return None
        discard_scrapy_state(jobdir)
        line = f"The crawl job in {jobdir} finished at {job['finished_at']}; a new job starts there."
    jobdir.mkdir(parents=True, exist_ok=True)
    write_durably(path, json.dumps({"job": uuid.uuid4().hex, **made_for}))
    return line


def discard_scrapy_state(jobdir: Path) -> None:
    for name in SCRAPY_JOB_STATE:
        path = jobdir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


class ResumableJob:
    """Keep a ``JOBDIR`` resumable when the crawl process is killed (SIGKILL, the OOM killer, power loss).

    Scrapy completes a job's state only when the spider closes cleanly: ``requests.seen`` grows
    during the crawl, but the queue's index and the spider state are written at the end. After a
    kill they disagree, and a resume would never fetch the requests that count as seen but sit in
    no queue. So a marker file exists while a crawl of the job runs. Finding it at the start means
    the last crawl died: Scrapy's part of the job is thrown away and the crawl starts over from the
    start requests, while the archive, whose committed transactions survive any kill, tells the
    spiders what is stored already (``DwnSpider``) and which of the job's runs never closed
    (``RawPagePipeline``). Sets ``dwn/job_recovered`` in the stats when it recovers.

    A job whose crawl ends ``finished`` is marked so in ``dwn-job.json``; the next crawl given the
    directory starts a new job there (``prepare_job``).
    """

    def __init__(self, jobdir: Path) -> None:
        self.jobdir = jobdir
        self.marker = jobdir / RUNNING_FILE

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured("no JOBDIR")
        if line := prepare_job(jobdir, crawler.settings.get("DWN_DB"), crawler.spidercls.name):
            logger.warning(line)
        extension = cls(Path(jobdir))
        if extension.begin():
            crawler.stats.set_value("dwn/job_recovered", 1)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def begin(self) -> bool:
        """Mark the job as running; return True if its last crawl never stopped (and was cleaned up)."""
        job = job_id(self.jobdir)
        died = self.marker.exists()
        if died:
            logger.warning("The last crawl of job %s (%s) did not stop cleanly: its queue is lost, so this "
                           "crawl starts over and skips what the archive holds.", job, self.jobdir)
            discard_scrapy_state(self.jobdir)
        write_durably(self.marker, str(os.getpid()))
        return died

    def spider_closed(self, reason: str) -> None:
        """Scrapy has saved the queue; a crawl that ``finished`` left nothing in it to continue."""
        if reason == "finished":
            path = self.jobdir / JOB_FILE
            job = json.loads(path.read_text(encoding="utf-8"))
            write_durably(path, json.dumps({**job, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}))

    def engine_stopped(self) -> None:
        """Scrapy has written the job's state (queue, seen requests, spider state): the job is whole."""
        self.marker.unlink(missing_ok=True)


class StoppedBeforeFetch(IgnoreRequest):
    """A request the crawl was told to stop before sending: back in the queue, not an error."""


class QuickStop:
    """Stop fetching at once when the crawl is told to stop (Ctrl-C, SIGTERM, ``Crawler.stop``).

    Scrapy's graceful stop waits for every request already handed to the downloader, and its slots
    queue up to ``CONCURRENT_REQUESTS`` of them, each sent only after its slot's delay
    (``DOWNLOAD_DELAY``, AutoThrottle up to 30 s): one Ctrl-C kept a polite crawl fetching for 20 s.
    The stop shows as the crawler no longer ``crawling`` while its spider is open. From then until the
    spider closes, the requests not yet sent are taken out of the slots: each goes back to the
    scheduler (so a ``JOBDIR`` keeps it for ``--resume``) and fails as :class:`StoppedBeforeFetch`.
    Requests on the wire are answered and stored as usual, and so is robots.txt: without it every
    request waiting for it would count as allowed.
    """

    CHECK_SECONDS = 0.1

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.task: Any = None
        self.unsent = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.task = create_looping_call(self.check)
        self.task.start(self.CHECK_SECONDS, now=False)

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.unsent:
            logger.info("Stopped: %d requests not yet sent are left for the next crawl", self.unsent)

    def check(self) -> None:
        if not self.crawler.crawling:
            self.drop_unsent()

    def drop_unsent(self) -> None:
        engine = self.crawler.engine
        for slot in engine.downloader.slots.values():
            keep = [entry for entry in slot.queue if entry[0].meta.get("dont_obey_robotstxt")]
            unsent = [entry for entry in slot.queue if not entry[0].meta.get("dont_obey_robotstxt")]
            slot.queue.clear()
            slot.queue.extend(keep)
            for request, waiting in unsent:
                engine.crawl(request.replace(dont_filter=True))
                waiting.errback(Failure(StoppedBeforeFetch(f"The crawl stopped before fetching {request.url}")))
            self.unsent += len(unsent)
        if self.unsent:
            self.crawler.stats.set_value("dwn/requests_unsent_at_stop", self.unsent)
