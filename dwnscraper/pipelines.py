"""Item pipelines, in order: archive the raw page -> parse it -> validate the record -> store it.

The raw page is written first, so nothing fetched is lost even when parsing fails. Every failure
becomes an ``errors`` row and a log line, and the crawl goes on.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.asyncio import create_looping_call

from dwnscraper.crawl import ARCHIVE_LOCKED, coverage_failures, coverage_lines
from dwnscraper.extensions import job_id
from dwnscraper.items import FetchedPage, FetchFailure
from dwnscraper.lock import ArchiveLocked, writer_lock
from dwnscraper.parseworker import PreparedPage, prepare_page
from dwnscraper.parsing import error_record
from dwnscraper.parsing.urls import article_identity
from dwnscraper.storage import Archive, pack_body
from dwnscraper.workerpool import WorkerLost, WorkerPool

logger = logging.getLogger(__name__)

EXPECTED_KIND = {"article": "article", "listing": "listing"}
"""Page role -> the record kind its parse must give; feed pages are archived, not parsed."""


class RawPagePipeline:
    """Owns the archive for the crawl: takes its writer lock, opens it and a crawl run, stores each raw
    page, commits at least every ``DWN_COMMIT_INTERVAL`` seconds, closes both.

    The lock is taken here, where the archive is opened, so ``scrapy crawl`` respects it as well as
    ``dwnscraper crawl``; it is held until the run's finish reason is written. Holding it proves no
    other crawl runs, so every run still open in the archive is a dead one: it is closed as
    ``interrupted``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.lock = ExitStack()
        self.committer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.start_committing, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.record_finish_reason, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        settings = self.crawler.settings
        spider = self.crawler.spider
        try:
            self.lock.enter_context(writer_lock(settings.get("DWN_DB"), holder=f"a {spider.name} crawl",
                                                wait=settings.getfloat("DWN_LOCK_WAIT")))
        except ArchiveLocked as error:
            logger.error("%s", error)
            raise CloseSpider(ARCHIVE_LOCKED) from error
        self.archive = Archive(settings.get("DWN_DB"), batch_size=settings.getint("DWN_BATCH_SIZE")).open()
        for run_id in self.archive.close_interrupted_runs():
            logger.warning("Crawl run %d never finished (its process was killed); it is closed as interrupted",
                           run_id)
        options = {"spider_arguments": spider.arguments,
                   **{name: settings.get(name) for name in ("DWN_SITE", "DWN_REFRESH", "DWN_FULL",
                                                            "DWN_MAX_PAGES", "JOBDIR")}}
        if settings.get("JOBDIR"):
            options["job"] = job_id(settings.get("JOBDIR"))
        self.run_id = self.archive.start_run(spider.name, options)
        self.crawler.stats.set_value("dwn/crawl_run_id", self.run_id)
        logger.info("Crawl run %d writes to %s", self.run_id, self.archive.path)

    def start_committing(self) -> None:
        self.committer = create_looping_call(self.commit)
        self.committer.start(self.crawler.settings.getfloat("DWN_COMMIT_INTERVAL"), now=False)

    def commit(self) -> None:
        """Commit what is queued, so that no write waits longer than ``DWN_COMMIT_INTERVAL``."""
        if self.archive is not None and self.archive.pending:
            self.archive.flush()

    def process_item(self, item: FetchedPage | FetchFailure) -> FetchedPage:
        if isinstance(item, FetchFailure):
            self.error(item.url, item.stage, item.message)
            raise DropItem(f"Nothing fetched from {item.url}", log_level="INFO")
        item.raw_page_id = self.archive.add_raw_page(
            url=item.url, final_url=item.final_url, status=item.status, headers=item.headers,
            body=item.body, fetched_at=item.fetched_at, flags=item.flags, crawl_run_id=self.run_id)
        self.crawler.stats.inc_value("dwn/pages_archived")
        if item.status >= 400:
            self.error(item.url, "http", f"HTTP status {item.status}", item.raw_page_id)
            raise DropItem(f"HTTP {item.status} for {item.url}", log_level="INFO")
        if "dataloss" in item.flags:
            self.error(item.url, "download", "The body is truncated (fewer bytes than Content-Length).",
                       item.raw_page_id)
            raise DropItem(f"Truncated body from {item.url}", log_level="INFO")
        return item

    def publish_counts(self) -> None:
        """Copy the archive's running counts into the stats, where progress and summary read them."""
        for name in ("articles_new", "articles_updated", "articles_unchanged", "listings"):
            self.crawler.stats.set_value(f"dwn/{name}", self.archive.counts[name])

    def error(self, url: str, stage: str, message: str, raw_page_id: int | None = None) -> None:
        logger.error("%s error for %s: %s", stage, url, message)
        self.archive.add_error(url=url, stage=stage, message=message, raw_page_id=raw_page_id,
                               crawl_run_id=self.run_id)
        self.crawler.stats.inc_value("dwn/errors")

    def close_spider(self) -> None:
        if self.archive is None:
            return
        if self.committer is not None and self.committer.running:
            self.committer.stop()
        stats = self.crawler.stats
        coverage = self.archive.finish_run(self.run_id, "closing", stats.get_stats())
        self.publish_counts()
        for line in coverage_lines(coverage):
            logger.info("Coverage %s", line)
        for failure in coverage_failures(coverage, self.crawler.settings.getdict("DWN_COVERAGE_THRESHOLDS")):
            logger.error(failure)
            stats.inc_value("dwn/coverage_failures")
        self.archive.close()
        self.archive = None

    def record_finish_reason(self, spider: Any, reason: str) -> None:
        if self.run_id is not None:
            with Archive(self.crawler.settings.get("DWN_DB")) as archive:
                archive.set_finish_reason(self.run_id, reason)
        self.lock.close()

    def release(self) -> None:
        """Let the archive and its lock go once the crawl process is done. A forced stop (a second
        Ctrl-C) closes nothing: then first commit what was stored and close the run as interrupted,
        still under the lock."""
        if self.archive is not None:
            self.archive.flush()
            self.archive.close_interrupted_runs()
            self.archive.close()
            self.archive = None
        self.lock.close()


class _ArchiveUser:
    """A pipeline stage that writes through the archive owned by ``RawPagePipeline``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def owner(self) -> RawPagePipeline:
        return self.crawler.get_item_pipeline(RawPagePipeline)

    def fail(self, item: FetchedPage, stage: str, message: str) -> DropItem:
        self.owner.error(item.url, stage, message, item.raw_page_id)
        return DropItem(f"{stage} failed for {item.url}", log_level="INFO")


class ParsePipeline(_ArchiveUser):
    """Run the parsing core on article and listing pages.

    Parsing is CPU work (a few milliseconds a page). With ``DWN_PARSE_WORKERS`` > 0 it runs in worker
    processes, on another core, while the reactor goes on fetching; the raw page is already stored.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.pool: WorkerPool | None = None

    def open_spider(self) -> None:
        workers = self.crawler.settings.getint("DWN_PARSE_WORKERS")
        if workers > 0:
            self.pool = WorkerPool(workers, job="dwnscraper.parseworker:prepare_page",
                                   warm_up="dwnscraper.parseworker:warm_up")

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        if item.role not in EXPECTED_KIND:
            return item
        arguments = (item.body, item.final_url, item.fetched_at, item.headers)
        prepared = prepare_page(*arguments) if self.pool is None else await self._parse_in_pool(arguments)
        item.record, item.contract_violation, item.prepared = prepared.record, prepared.violation, prepared.article
        self.owner.archive.packed(item.raw_page_id, prepared.body)
        if item.record["kind"] == "error":
            raise self.fail(item, "parse", item.record["error"])
        return item

    async def _parse_in_pool(self, arguments: tuple) -> PreparedPage:
        return await parse_in_pool(self.pool, arguments)


async def parse_in_pool(pool: WorkerPool, arguments: tuple) -> PreparedPage:
    """The page prepared by a worker of ``pool``, a new worker trying it again when one dies on it.

    A page on which a second worker dies is an ``error`` record, never parsed in the crawl's own process: a page
    that crashes the parser would take the crawl down with it there. Its raw page is stored all the same.
    """
    body, url = arguments[0], arguments[1]
    for attempt in range(1, PARSE_ATTEMPTS + 1):
        try:
            return await pool.run(*arguments)
        except WorkerLost:
            logger.error("A parse worker died on %s (attempt %d of %d)", url, attempt, PARSE_ATTEMPTS)
    record = error_record(url, f"The parser crashed on this page: {PARSE_ATTEMPTS} parse workers died on it. Its raw "
                               "page is stored; `dwnscraper reparse` parses it again.")
    return PreparedPage(record, None, None, pack_body(body))


PARSE_ATTEMPTS = 2
"""How many workers try a page before it is an error: one may die for another reason (the OOM killer)."""


class ValidatePipeline(_ArchiveUser):
    """Refuse a record that breaks ``parse-output.schema.json`` (checked beside the parse, in the worker)
    or does not fit what the page was fetched as."""

    def process_item(self, item: FetchedPage) -> FetchedPage:
        if item.record is None:
            return item
        if item.contract_violation is not None:
            raise self.fail(item, "validate", item.contract_violation)
        expected = EXPECTED_KIND[item.role]
        if item.record["kind"] != expected:
            raise self.fail(item, "validate", f"Fetched as {expected} but parsed as {item.record['kind']}.")
        if expected == "article" and article_identity(item.record["canonical_url"]) is None \
                and article_identity(item.url) is None:
            raise self.fail(item, "validate",
                            "The article has no identity: neither its URL nor its canonical link is an article URL.")
        return item


class StorePipeline(_ArchiveUser):
    """Store the parsed article (with revisions) or listing, with its teasers.

    The record stored (the contract's JSON) is what leaves the last pipeline, so Scrapy's feed exports
    (``scrapy crawl sections -O items.jsonl``) write exactly the records stored. A page archived raw
    and not parsed (the RSS feed) ends here.
    """

    def process_item(self, item: FetchedPage) -> dict[str, Any]:
        if item.record is None:
            raise DropItem(f"{item.url} is archived raw, not parsed", log_level="DEBUG")
        owner = self.owner
        if item.record["kind"] == "article":
            owner.archive.add_article(item.record, item.raw_page_id, item.fetched_at, crawl_run_id=owner.run_id,
                                      prepared=item.prepared)
        else:
            owner.archive.add_listing(item.record, item.raw_page_id, item.fetched_at, crawl_run_id=owner.run_id)
        owner.publish_counts()
        return item.record
