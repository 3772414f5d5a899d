"""Running a crawl from Python or ``dwnscraper crawl``: settings, the Scrapy process, the verdict.

The verdict is what a scheduler alerts on, as the exit code (README, "Running it every day"). A crawl
did its job when it ran to its end, got at least one page it asked for, and kept the coverage:
thresholds are how a redesign of the site is noticed (when the share of articles of one layout
having a field drops under its threshold, the crawl is reported as failed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from dwnscraper.extensions import prepare_job, progress_mode
from dwnscraper.lock import writer_lock
from dwnscraper.mirror import MirrorServer
from dwnscraper.revisit import parse_now, parse_policy
from dwnscraper.storage import COVERAGE_FIELDS, Archive

MIRROR_SPEED = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
"""Politeness is for other people's servers: the bundled mirror on loopback is fetched at full speed."""

OPTION_PRIORITY = 25
"""The command's options beat the project settings (20) and lose to ``-s`` (``cmdline``, 40)."""


OK, FAILED, BAD_INPUT, LOCKED, STOPPED, STOPPED_RESUMABLE = range(6)
"""The exit codes of a crawl: it did its job; it ran but failed (fetched nothing, every request
failed, coverage under a threshold); a bad argument, setting or file; another crawl holds the
archive's writer lock; stopped before the end (Ctrl-C, SIGTERM); stopped before the end with
``--resume``, so the same command continues it."""

ARCHIVE_LOCKED = "archive_locked"
"""The finish reason of a crawl that found another one writing its archive (``RawPagePipeline``)."""
STOPPED_REASONS = {"shutdown", "interrupted"}
"""Finish reasons of a crawl stopped from outside: a graceful stop, or one forced (a second Ctrl-C)."""
LIMIT_REASONS = {"closespider_timeout", "closespider_itemcount", "closespider_pagecount"}
"""Scrapy's finish reasons for a limit the operator set: the crawl did what it was asked."""


@dataclass(frozen=True)
class CrawlResult:
    run: dict[str, Any] | None
    """The crawl run's row; ``None`` when the crawl stopped before it opened the archive."""
    stats: dict[str, Any]
    failures: list[str]
    db_path: Path
    resumable: bool = False
    crashed: bool = False
    """The crawl ended with an exception (in a spider, a pipeline or an extension), not a stop."""
    locked: bool = False
    """Another crawl held the archive's writer lock, so this one closed before it began."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def stopped(self) -> bool:
        return not self.crashed and self.run is not None and self.run["finish_reason"] in STOPPED_REASONS

    @property
    def exit_code(self) -> int:
        if self.locked:
            return LOCKED
        if self.stopped:
            return STOPPED_RESUMABLE if self.resumable else STOPPED
        return FAILED if self.failures else OK


def parse_setting(assignment: str) -> tuple[str, str]:
    name, sep, value = assignment.partition("=")
    if not sep or not name:
        raise ValueError(f"A setting must look like NAME=VALUE, not {assignment!r}.")
    return name.strip(), value


def crawl_settings(options: Mapping[str, Any], overrides: Iterable[str] = (), mirror: bool = False) -> Settings:
    """Project settings, then the command's options, then ``-s NAME=VALUE`` (which win); a bad
    ``DWN_REVISIT`` or ``DWN_NOW`` is a ``ValueError`` saying what is wrong."""
    settings = Settings()
    settings.setmodule("dwnscraper.settings", priority="project")
    if mirror:
        settings.setdict(MIRROR_SPEED, priority=OPTION_PRIORITY)
    settings.setdict({name: value for name, value in options.items() if value is not None}, priority=OPTION_PRIORITY)
    settings.setdict(dict(parse_setting(item) for item in overrides), priority="cmdline")
    if progress_mode(settings.get("DWN_PROGRESS")) == "tty" and settings.getpriority("LOG_LEVEL") < 40:
        settings.set("LOG_LEVEL", "WARNING", priority=OPTION_PRIORITY)
    parse_policy(settings.get("DWN_REVISIT"))
    parse_now(settings.get("DWN_NOW"))
    return settings


@contextmanager
def serving(mirror_dir: Path | None) -> Iterator[str | None]:
    """Serve ``mirror_dir`` on 127.0.0.1 for the crawl and give its address (``None``: no mirror)."""
    with (MirrorServer(mirror_dir) if mirror_dir else nullcontext()) as server:
        yield server.url if server else None


def run_crawl(spider: str, settings: Settings, spider_args: Mapping[str, Any],
              tell: Callable[[str], None] = print) -> CrawlResult:
    """Run one spider to the end in this process (Twisted allows one run per process).

    The archive's writer lock is taken first (waiting up to ``DWN_LOCK_WAIT`` seconds, else
    ``ArchiveLocked``), so that a refused crawl does no work at all; then the ``--resume`` job
    directory is checked (``StaleJob``) and renewed if its crawl finished, which ``tell`` reports.
    """
    db_path = Path(settings.get("DWN_DB"))
    with writer_lock(db_path, holder=f"a {spider} crawl", wait=settings.getfloat("DWN_LOCK_WAIT")):
        jobdir = settings.get("JOBDIR")
        if jobdir and (line := prepare_job(jobdir, db_path, spider)):
            tell(line)
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(spider)
        crashes: list[str] = []
        running = process.crawl(crawler, **{key: value for key, value in spider_args.items() if value is not None})
        running.addErrback(lambda failure: crashes.append(f"{failure.type.__name__}: {failure.getErrorMessage()}"))
        process.start()
        return crawl_result(crawler, crashes)


def crawl_result(crawler: Crawler, crashes: list[str]) -> CrawlResult:
    """What a crawler that ran judges of itself (``verdict``), once its process is done: ``dwnscraper crawl``
    and ``scrapy crawl`` (``dwnscraper.commands.crawl``) exit with its ``exit_code``.

    First the archive and its lock are let go (a forced stop left them open).
    """
    from dwnscraper.pipelines import RawPagePipeline

    settings = crawler.settings
    db_path = Path(settings.get("DWN_DB"))
    jobdir = bool(settings.get("JOBDIR"))
    with suppress(RuntimeError):  # no engine: the crawl never began
        crawler.get_item_pipeline(RawPagePipeline).release()
    stats = crawler.stats.get_stats()
    if stats.get("finish_reason") == ARCHIVE_LOCKED:
        return CrawlResult(run=None, stats=stats, db_path=db_path, locked=True,
                           failures=["Another crawl is writing the archive (see the log above)."])
    run = None
    if "dwn/crawl_run_id" in stats:
        with Archive(db_path) as archive:
            run = archive.run(stats["dwn/crawl_run_id"])
            answered = archive.pages_answered(run["id"])
    if crashes:
        return CrawlResult(run=run, stats=stats, failures=[f"The crawl failed ({crashes[0]})."], db_path=db_path,
                           crashed=True)
    failures = verdict(run, answered if run else 0, stats, settings.getdict("DWN_COVERAGE_THRESHOLDS"), jobdir)
    return CrawlResult(run=run, stats=stats, failures=failures, db_path=db_path, resumable=jobdir)


def verdict(run: Mapping[str, Any] | None, answered: int, stats: Mapping[str, Any],
            thresholds: Mapping[str, float], resumable: bool) -> list[str]:
    """Why the crawl did not do its job, a sentence each; empty when it did.

    ``answered`` is the number of pages of the run that came back without an HTTP error.
    """
    if run is None:
        return ["The crawl stopped before it opened the archive (see the log above)."]
    reason = run["finish_reason"]
    if reason in STOPPED_REASONS:
        again = "the same command with the same --resume continues it" if resumable else \
            "the same command again fetches the rest"
        return [f"The crawl was stopped before the end ({reason}); {again}."]
    if reason != "finished" and reason not in LIMIT_REASONS:
        return [f"The crawl ended before its end ({reason}); see the log above."]
    tried = (run["pages_fetched"] or 0) + (run["errors"] or 0) + stats.get("robotstxt/forbidden", 0)
    if answered == 0 and tried:
        fetched = run["pages_fetched"] or 0
        what = f"the {fetched} pages fetched were all HTTP errors" if fetched else "no page was fetched"
        return [f"Every request failed: {what}, with {run['errors'] or 0} failures in the errors table; "
                "is the site down or --site wrong?"]
    return coverage_failures(json.loads(run["coverage"] or "{}"), thresholds)


def coverage_lines(coverage: Mapping[str, Mapping[str, float]]) -> list[str]:
    """One line per layout: ``legacy (10 articles): headline 100%, lead 90%, ...``."""
    return [f"{layout} ({int(row['articles'])} articles): "
            + ", ".join(f"{field} {row[field]:.0%}" for field in COVERAGE_FIELDS if field in row)
            for layout, row in coverage.items()]


def coverage_failures(coverage: Mapping[str, Mapping[str, float]], thresholds: Mapping[str, float]) -> list[str]:
    """A sentence for every field of every layout whose share is under its threshold."""
    return [f"Field {field} is in only {row[field]:.1%} of the {int(row['articles'])} {layout} articles "
            f"fetched (threshold {float(minimum):.0%}): the site's markup may have changed."
            for layout, row in coverage.items()
            for field, minimum in thresholds.items()
            if row.get(field, 0.0) < float(minimum)]


def summary_lines(result: CrawlResult) -> list[str]:
    stats = result.stats
    if result.run is None:
        return [f"Database: {result.db_path.resolve()}"]
    run = {key: 0 if value is None else value for key, value in result.run.items()}
    skipped = stats.get("dwn/articles_skipped_known", 0)
    lines = [
        f"Crawl run {run['id']} ({run['spider']}) {run['finish_reason'] or 'finished'}: "
        f"{run['pages_fetched']} pages fetched, {run['listings']} listings stored.",
        f"Articles: {run['articles_new']} new, {run['articles_updated']} updated, "
        f"{run['articles_unchanged']} unchanged, {skipped} skipped as already stored.",
        f"Revisits: {stats.get('dwn/articles_due_revisit', 0)} due by age (DWN_REVISIT), "
        f"{stats.get('dwn/articles_due_listing', 0)} by a changed teaser on a listing.",
        f"Failed: {run['errors']} (see the errors table), "
        f"{stats.get('robotstxt/forbidden', 0)} forbidden by robots.txt, "
        f"{stats.get('offsite_guard/dropped', 0)} offsite requests dropped.",
        *[f"Coverage {line}" for line in coverage_lines(json.loads(run["coverage"] or "{}"))],
        f"Database: {result.db_path.resolve()}",
    ]
    return lines
