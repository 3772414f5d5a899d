"""``archive``: backfill a date range through the site's search."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy import Request
from scrapy.http import Response

from dwnscraper import LIVE_SITE
from dwnscraper.parsing.dates import BERLIN
from dwnscraper.spiders.base import SITE_LINKS, DwnSpider


def search_url(start: date, end: date, section: str | None, page: int) -> str:
    params = [("act", "yes")]
    if section:
        params.append(("section", section))
    params += [("d1", start.day), ("m1", start.month), ("y1", start.year),
               ("d2", end.day), ("m2", end.month), ("y2", end.year)]
    if page > 1:
        params.append(("page", page))
    return f"{LIVE_SITE}/search?{urlencode(params)}"


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def calendar_day(value: str, which: str) -> date:
    """A day written ``YYYY-MM-DD``; anything else is refused with a sentence naming ``which`` day it was."""
    if ISO_DAY.fullmatch(value.strip()):
        with suppress(ValueError):
            return date.fromisoformat(value.strip())
    raise ValueError(f"The {which} day {value!r} is not a date written YYYY-MM-DD (e.g. 2025-01-31).")


def day_range(start: str | None, end: str | None) -> tuple[date, date]:
    """The days to search, checked: ``start`` is required, ``end`` defaults to today (in Berlin, the
    site's time) and may not be later, and ``start`` may not come after ``end``."""
    if not start:
        raise ValueError("The archive spider needs a first day: --start YYYY-MM-DD (-a start=... with scrapy crawl).")
    today = datetime.now(BERLIN).date()
    first, last = calendar_day(start, "start"), calendar_day(end, "end") if end else today
    if last > today:
        raise ValueError(f"The end day {last} is after today ({today}): the site has no articles from the future.")
    if first > last:
        raise ValueError(f"The start day {first} is after the end day {last}.")
    return first, last


def page_of(url: str) -> int:
    parts = urlsplit(url)
    return int(parse_qs(parts.query).get("page", ["1"])[0]) if parts.path.rstrip("/") == "/search" else 0


class ArchiveSpider(DwnSpider):
    """Walk the search results for ``-a start=YYYY-MM-DD -a end=YYYY-MM-DD`` (optional
    ``-a section=27241``) page by page, up to ``DWN_MAX_PAGES``, and fetch the articles listed."""

    name = "archive"

    def __init__(self, start: str | None = None, end: str | None = None, section: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.first_day, self.last_day = day_range(start, end)
        self.search_section = section

    @property
    def arguments(self) -> dict[str, Any]:
        return {"start": self.first_day.isoformat(), "end": self.last_day.isoformat(), "section": self.search_section}

    def start_requests_for_site(self) -> Iterable[Request]:
        yield self.search_request(1)

    def search_request(self, page: int) -> Request:
        url = search_url(self.first_day, self.last_day, self.search_section, page)
        return self.page_request(url, "listing", self.parse_results, page=page)

    def parse_results(self, response: Response, page: int) -> Iterator[Any]:
        yield self.fetched(response)
        if response.status != 200:
            return
        yield from self.article_requests(self.article_links(response))
        if self.max_pages and page >= self.max_pages:
            return
        if any(page_of(link.url) == page + 1 for link in SITE_LINKS.extract_links(response)):
            yield self.search_request(page + 1)
