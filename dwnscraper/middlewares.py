"""Downloader middlewares: serve the live site from a mirror, and let nothing else leave the machine."""

from __future__ import annotations

import logging
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from dwnscraper import LIVE_SITE
from dwnscraper.parsing.urls import LIVE_HOST, is_dwn_url

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, int]:
    """``(host, port)`` of a URL, the port made explicit."""
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def is_live_site(site: str) -> bool:
    return is_dwn_url(site)


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
        if is_live_site(site):
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
        if is_live_site(site):
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
