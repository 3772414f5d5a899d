"""Running a crawl from Python or ``dwnscraper crawl``: settings, the Scrapy process, the verdict.

Coverage thresholds are how a redesign of the site is noticed: when the share of articles of one
layout having a field drops under its threshold, the crawl is reported as failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from dwnscraper.extensions import progress_mode
from dwnscraper.mirror import MirrorServer
from dwnscraper.revisit import parse_now, parse_policy
from dwnscraper.storage import COVERAGE_FIELDS, Archive

MIRROR_SPEED = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
"""Politeness is for other people's servers: the bundled mirror on loopback is fetched at full speed."""

OPTION_PRIORITY = 25
"""The command's options beat the project settings (20) and lose to ``-s`` (``cmdline``, 40)."""


@dataclass(frozen=True)
class CrawlResult:
    run: dict[str, Any]
    stats: dict[str, Any]
    failures: list[str]
    db_path: Path

    @property
    def ok(self) -> bool:
        return not self.failures


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


def run_crawl(spider: str, settings: Settings, spider_args: Mapping[str, Any]) -> CrawlResult:
    """Run one spider to the end in this process (Twisted allows one run per process)."""
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **{key: value for key, value in spider_args.items() if value is not None})
    process.start()
    stats = crawler.stats.get_stats()
    db_path = Path(settings.get("DWN_DB"))
    with Archive(db_path) as archive:
        run = archive.run(stats["dwn/crawl_run_id"])
    failures = coverage_failures(json.loads(run["coverage"] or "{}"), settings.getdict("DWN_COVERAGE_THRESHOLDS"))
    return CrawlResult(run=run, stats=stats, failures=failures, db_path=db_path)


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
    run, stats = result.run, result.stats
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
