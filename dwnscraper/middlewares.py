"""Downloader middlewares: serve the live site from a mirror, let nothing else leave the machine, obey
robots.txt for every request, and wait as long as a server asks before a retry."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from dwnscraper import LIVE_SITE
from dwnscraper.parsing.urls import LIVE_HOST, is_dwn_url

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, int]:
    """``(host, port)`` of a URL, the port made explicit."""
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def moved(url: str, to: str) -> str:
    """``url`` with the scheme and host of ``to``; path and query kept, fragment dropped."""
    parts, target = urlsplit(url), urlsplit(to)
    return urlunsplit((target.scheme, target.netloc, parts.path or "/", parts.query, ""))


class SiteMirrorMiddleware:
    """Fetch every live-site URL (http or https, ``www.`` or not) from ``DWN_SITE`` instead.

    The request is rewritten to the mirror before robots.txt is checked, so the mirror's robots.txt
    applies; the response is handed back under the live URL, so spiders, items and the archive
    only ever see live URLs. Disabled when ``DWN_SITE`` is the live site.
    """

    def __init__(self, site: str) -> None:
        self.site = site

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        site = crawler.settings.get("DWN_SITE")
        if is_dwn_url(site):
            raise NotConfigured("DWN_SITE is the live site")
        return cls(site)

    def process_request(self, request: Request) -> Request | None:
        if not is_dwn_url(request.url):
            return None
        return request.replace(url=moved(request.url, self.site), dont_filter=True,
                               meta={**request.meta, "dwn_live_url": request.url})

    def process_response(self, request: Request, response: Response) -> Response:
        if origin(response.url) != origin(self.site):
            return response
        live = request.meta.get("dwn_live_url")
        if live is None or moved(live, self.site) != response.url:
            live = moved(response.url, LIVE_SITE)
        return response.replace(url=live)


class _OneLine(logging.Filter):
    """Log a record without its traceback: the message names the failure already."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


class EveryWaiterRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with robots.txt obeyed by every request that waited for it.

    While a host's robots.txt is fetched, Scrapy 2.19 makes each further request await the same
    Deferred with ``maybe_deferred_to_future``, whose callback hands the first waiter the parser and
    leaves ``None`` to the next ones, which then count as allowed: a crawl starting (or resuming) with
    many requests fetched pages robots.txt disallows. Each waiter here gets its own Deferred.

    Scrapy logs a robots.txt that could not be fetched (a site down) with the traceback of the
    connection error; here it is the one line naming the error.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        robots_logger = logging.getLogger(RobotsTxtMiddleware.__module__)
        if not any(isinstance(known, _OneLine) for known in robots_logger.filters):
            robots_logger.addFilter(_OneLine())

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        own: Deferred[RobotParser | None] = Deferred()

        def pass_on(parser: RobotParser | None) -> RobotParser | None:
            own.callback(parser)
            return parser

        pending.addCallback(pass_on)
        return await maybe_deferred_to_future(own)


class OffsiteGuardMiddleware:
    """The last middleware before the wire: drop any request to a host other than the crawled site.

    Allowed are the ``DWN_SITE`` origin (a mirror) or, when crawling live, the live host with or
    without ``www.``. Each drop is logged and counted in the stats as ``offsite_guard/dropped``
    and ``offsite_guard/dropped/<host>``.
    """

    def __init__(self, allowed: set[tuple[str, int]], stats: StatsCollector) -> None:
        self.allowed = allowed
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        site = crawler.settings.get("DWN_SITE")
        if is_dwn_url(site):
            allowed = {(host, port) for host in (LIVE_HOST, f"www.{LIVE_HOST}") for port in DEFAULT_PORTS.values()}
        else:
            allowed = {origin(site)}
        return cls(allowed, crawler.stats)

    def process_request(self, request: Request) -> None:
        target = origin(request.url)
        if target in self.allowed:
            return None
        host = f"{target[0]}:{target[1]}"
        self.stats.inc_value("offsite_guard/dropped")
        self.stats.inc_value(f"offsite_guard/dropped/{host}")
        logger.warning("Dropped a request to %s: only %s may be fetched", request.url,
                       ", ".join(f"{h}:{p}" for h, p in sorted(self.allowed)))
        raise IgnoreRequest(f"offsite: {host}")


def retries_left(request: Request, max_retry_times: int) -> int:
    """How often ``RetryMiddleware`` would still retry ``request``."""
    return request.meta.get("max_retry_times", max_retry_times) - request.meta.get("retry_times", 0)


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for (delay seconds or an HTTP date); ``None`` if unreadable."""
    text = (value or b"").decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    """Honour ``Retry-After`` on responses that Scrapy's ``RetryMiddleware`` will retry (503, 429, ...).

    Scrapy retries them at once, whatever the server asked (scrapy/scrapy#3849). This middleware sits
    between ``RetryMiddleware`` and the downloader, so it sees the response first and sleeps for the
    wait asked before handing it on to be retried; the download slot is free meanwhile. A wait longer
    than ``DWN_RETRY_AFTER_MAX`` seconds is not waited for: the request is not retried, and the
    response is stored as an error for a later crawl to try again. Each wait is counted in the stats
    as ``retry_after/waited`` and ``retry_after/seconds``, each refusal as ``retry_after/too_long``.
    """

    def __init__(self, codes: set[int], max_retry_times: int, longest: float, stats: StatsCollector) -> None:
        self.codes = codes
        self.max_retry_times = max_retry_times
        self.longest = longest
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("RETRY_ENABLED is off")
        return cls({int(code) for code in settings.getlist("RETRY_HTTP_CODES")}, settings.getint("RETRY_TIMES"),
                   settings.getfloat("DWN_RETRY_AFTER_MAX"), crawler.stats)

    def will_retry(self, request: Request, response: Response) -> bool:
        return (response.status in self.codes and not request.meta.get("dont_retry")
                and retries_left(request, self.max_retry_times) > 0)

    async def process_response(self, request: Request, response: Response) -> Response:
        if not self.will_retry(request, response):
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None or wait <= 0:
            return response
        if wait > self.longest:
            logger.warning("%s asks to retry in %.0f s, longer than DWN_RETRY_AFTER_MAX (%.0f s): not retried",
                           request.url, wait, self.longest)
            self.stats.inc_value("retry_after/too_long")
            request.meta["dont_retry"] = True
            return response
        logger.info("%s answered %d: waiting %.1f s (Retry-After) before the retry", request.url, response.status, wait)
        self.stats.inc_value("retry_after/waited")
        self.stats.inc_value("retry_after/seconds", wait)
        await sleep(wait)
        return response


class RetryDataLossMiddleware:
    """Retry a body cut short (the connection closed or was reset before ``Content-Length`` bytes came).

    With ``DOWNLOAD_FAIL_ON_DATALOSS = False`` a truncated body reaches the pipelines, so the raw
    page is archived, but Scrapy never retries it. This middleware makes every attempt but the last
    fail on data loss, which ``RetryMiddleware`` retries; the last attempt keeps what arrived,
    flagged ``dataloss``. Off when ``DOWNLOAD_FAIL_ON_DATALOSS`` is on (every attempt fails then).
    """

    def __init__(self, max_retry_times: int) -> None:
        self.max_retry_times = max_retry_times

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED") or settings.getbool("DOWNLOAD_FAIL_ON_DATALOSS"):
            raise NotConfigured("nothing to retry: retries are off or every data loss fails anyway")
        return cls(settings.getint("RETRY_TIMES"))

    def process_request(self, request: Request) -> None:
        last_try = request.meta.get("dont_retry") or retries_left(request, self.max_retry_times) <= 0
        request.meta["download_fail_on_dataloss"] = not last_try
