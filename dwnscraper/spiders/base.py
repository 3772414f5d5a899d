"""What every dwnscraper spider shares: incremental article requests and the fetched-page item."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, UsageError
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from sqlite_utils import Database
from twisted.python.failure import Failure

from dwnscraper.extensions import StoppedBeforeFetch
from dwnscraper.items import FetchedPage, FetchFailure, PageRole
from dwnscraper.parsing import parse_page
from dwnscraper.parsing.urls import LIVE_HOST, article_identity, is_article_url
from dwnscraper.preflight import CrawlRefused, check_crawl
from dwnscraper.revisit import crawl_clock, parse_now, parse_policy
from dwnscraper.storage import Archive, changed_teasers, open_read_only

SITE_LINKS = LinkExtractor(allow_domains=[LIVE_HOST], unique=True)
"""Every link to the live site (``www.`` included) on a page."""

LISTING_PAGE = re.compile(r"/page/\d+/?$")
"""The page part of a listing page's path (``/politik/page/2/``)."""

ROBOTS_FORBIDDEN = "Forbidden by robots.txt"
"""Scrapy's reason for not fetching what robots.txt disallows: the site's wish, not a failure."""


def header_dict(response: Response) -> dict[str, str]:
    return {name.decode("latin-1"): b", ".join(values).decode("latin-1")
            for name, values in response.headers.items()}


def listing_of(url: str) -> str:
    """The listing a listing page belongs to: its path without the page (``/politik`` for
    ``https://deutsche-wirtschafts-nachrichten.de/politik/page/2/``)."""
    return LISTING_PAGE.sub("", urlsplit(url).path).rstrip("/")


def same_path(url: str, path: str) -> bool:
    return urlsplit(url).path.rstrip("/") == path.rstrip("/")


class DwnSpider(Spider):
    """Base of the dwnscraper spiders.

    An article is requested once per crawl whatever URL variant links to it, and not at all when it
    is already in the archive (unless ``DWN_REFRESH``). Known identities are read from the archive
    when the crawl starts; with a ``JOBDIR`` the identities already requested survive a resume.
    A listing page counts as all known only if each of its articles is stored and was shown on a
    page of the same listing that a finished run fetched (``Archive.identities_walked_past``):
    articles stored by a run that was stopped or killed before the end of its listings, or seen in
    another listing, never end pagination early, so the next run, resumed or not, walks on until it
    meets what a finished run saw there.

    Spiders that follow the news (``revisits``) also fetch the stored articles that are due: by the
    revisit policy ``DWN_REVISIT`` when the crawl starts, and by the listing signal when a listing
    shows a stored article with another headline or a newer date (``storage.changed_teasers``).
    """

    revisits = False
    archive_reader: Database | None = None
    """A read-only connection for the listing signal, open while a ``revisits`` spider crawls."""
    now: Callable[[], datetime]
    known: set[str]
    walked_past: dict[str, set[str]]
    requested: set[str]
    due: set[str]
    skipped: set[str]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """The spider with its clock (``DWN_NOW`` or the real time), which every fetched page is stamped by."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.now = crawl_clock(parse_now(crawler.settings.get("DWN_NOW")))
        return spider

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """Check the crawl before anything runs (``scrapy crawl`` answers a ``UsageError`` with its sentence
        and exit status 2) and send the user agent with the operator's contact."""
        super().update_settings(settings)
        try:
            agent = check_crawl(settings)
        except CrawlRefused as error:
            raise UsageError(str(error), print_help=False) from error
        settings.set("USER_AGENT", agent, priority="spider")

    @property
    def arguments(self) -> dict[str, Any]:
        """The spider's own options, recorded with the crawl run."""
        return {}

    async def start(self) -> Any:
        settings = self.crawler.settings
        self.refresh = settings.getbool("DWN_REFRESH")
        self.full = settings.getbool("DWN_FULL")
        self.max_pages = settings.getint("DWN_MAX_PAGES")
        with Archive(settings.get("DWN_DB")) as archive:
            self.known = archive.known_identities()
            self.walked_past = {}
            for url, identities in archive.identities_walked_past().items():
                self.walked_past.setdefault(listing_of(url), set()).update(identities)
            revisit = archive.due_articles(parse_policy(settings.get("DWN_REVISIT")), self.now()) \
                if self.revisits and not self.refresh else []
        self.archive_reader = open_read_only(settings.get("DWN_DB")) if self.revisits else None
        self.due = {row["identity"] for row in revisit}
        self.crawler.stats.set_value("dwn/articles_due_revisit", len(revisit))
        self.skipped = set()
        state = getattr(self, "state", {})
        self.requested = state.setdefault("requested_identities", set())
        for request in self.start_requests_for_site():
            yield request
        for request in self.article_requests(row["url"] for row in revisit):
            yield request

    def closed(self, reason: str) -> None:
        if self.archive_reader is not None:
            self.archive_reader.close()

    def start_requests_for_site(self) -> Iterable[Request]:
        raise NotImplementedError

    def page_request(self, url: str, role: PageRole, callback: Any = None, **cb_kwargs: Any) -> Request:
        return Request(url, callback=callback or self.parse_page, errback=self.fetch_failed,
                       cb_kwargs=cb_kwargs, meta={"dwn_requested_url": url, "dwn_role": role})

    def article_request(self, url: str) -> Request | None:
        """A request for an article URL, or ``None`` if it is stored (and not due) or already requested."""
        identity = article_identity(url)
        if identity in self.requested:
            return None
        if identity in self.known and not self.refresh and identity not in self.due:
            if identity not in self.skipped:
                self.crawler.stats.inc_value("dwn/articles_skipped_known")
                self.skipped.add(identity)
            return None
        self.requested.add(identity)
        return self.page_request(url, "article")

    def article_requests(self, urls: Iterable[str]) -> Iterator[Request]:
        for url in urls:
            if is_article_url(url) and (request := self.article_request(url)) is not None:
                yield request

    def article_links(self, response: Response) -> list[str]:
        return [link.url for link in SITE_LINKS.extract_links(response) if is_article_url(link.url)]

    def all_known(self, urls: list[str], listing: str) -> bool:
        """True when a page of ``listing`` (see ``listing_of``) shows articles and every one of them is
        stored and was on a page of that listing that a finished run walked past."""
        walked = self.walked_past.get(listing, set())
        return bool(urls) and all(article_identity(url) in walked for url in urls)

    def listing_signal(self, response: Response) -> set[str]:
        """The stored articles this listing shows changed (another headline, a newer date), now due
        whatever their age. The listing is parsed here too (a few milliseconds, on few pages): the
        pipeline's parse comes after the spider has decided what to request."""
        if self.archive_reader is None or self.refresh:
            return set()
        record = parse_page(response.body, response.url, self.now())
        changed = changed_teasers(self.archive_reader, record.get("teasers", []))
        self.due |= changed
        self.crawler.stats.inc_value("dwn/articles_due_listing", len(changed - self.requested))
        return changed

    def fetched(self, response: Response) -> FetchedPage:
        return FetchedPage(
            url=response.meta.get("dwn_requested_url", response.url),
            final_url=response.url,
            status=response.status,
            headers=header_dict(response),
            body=response.body,
            fetched_at=self.now(),
            role=response.meta.get("dwn_role", "article"),
            flags=list(response.flags),
        )

    def parse_page(self, response: Response, **cb_kwargs: Any) -> Iterator[Any]:
        yield self.fetched(response)

    def fetch_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """Every request that got no response becomes an error, with its cause: timeouts, resets, too
        many redirects, a redirect off the site, a body over ``DOWNLOAD_MAXSIZE`` (also when inflated).
        Only what robots.txt disallows is skipped silently (Scrapy counts it), and what a stopping crawl
        never sent (``StoppedBeforeFetch``): the next run or the resumed job fetches it."""
        if failure.check(StoppedBeforeFetch) or (
                failure.check(IgnoreRequest) and failure.getErrorMessage() == ROBOTS_FORBIDDEN):
            return
        request = failure.request
        reason = failure.getErrorMessage()
        if not reason and failure.check(DownloadCancelledError):
            limit = request.meta.get("download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            reason = f"cancelled while receiving the body (Scrapy cancels bodies over DOWNLOAD_MAXSIZE, {limit} bytes)"
        self.logger.error("Could not fetch %s: %s", request.url, reason)
        yield FetchFailure(url=request.meta.get("dwn_requested_url", request.url),
                           message=f"{failure.type.__name__}: {reason}", fetched_at=self.now())
