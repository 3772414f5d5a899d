"""``scrapy crawl`` with the exit status of ``dwnscraper crawl``, which a scheduler alerts on (README,
"Running it every day"): Scrapy's own exits 0 whenever the spider ran, a crawl that fetched nothing,
was stopped or found the archive locked included."""

from __future__ import annotations

import argparse
import logging

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from dwnscraper.crawl import crawl_result

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    def long_desc(self) -> str:
        return ("Run a spider of the current project, by name. The exit status is dwnscraper crawl's: 0 when the "
                "crawl did its job, 1 when it failed, 3 when another crawl writes the archive, 4 when it was "
                "stopped before the end (5 with a JOBDIR).")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("running 'scrapy crawl' needs the name of one spider")
        try:
            crawler = self._create_crawler(args[0])
        except KeyError:
            names = ", ".join(sorted(self.crawler_process.spider_loader.list()))
            raise UsageError(f"There is no spider {args[0]!r}; the spiders are {names}.", print_help=False) from None
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        crashes = ["see the log above"] if self.crawler_process.bootstrap_failed else []
        result = crawl_result(crawler, crashes)
        for line in result.failures:
            logger.error(line)
        self.exitcode = result.exit_code
