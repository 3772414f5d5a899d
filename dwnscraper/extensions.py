"""Crawl progress: a live line on a terminal, plain log lines in pipes and CI."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

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
