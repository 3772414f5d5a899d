"""``feed``: the newest articles from the RSS feed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from dwnscraper import LIVE_SITE
from dwnscraper.spiders.base import DwnSpider

ITEM_LINKS = "//item/link/text()"


class FeedSpider(DwnSpider):
    """Fetch ``/feed/`` (stored raw, not parsed) and every article it links that is not stored yet."""

    name = "feed"

    def start_requests_for_site(self) -> Iterable[Request]:
        yield self.page_request(f"{LIVE_SITE}/feed/", "feed", self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        yield self.fetched(response)
        if response.status == 200:
            links = [link.strip() for link in response.xpath(ITEM_LINKS).getall()]
            yield from self.article_requests(links)
