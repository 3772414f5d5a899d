"""``feed``: the newest articles from the RSS feed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree
from scrapy import Request
from scrapy.http import Response

from dwnscraper import LIVE_SITE
from dwnscraper.spiders.base import DwnSpider

logger = logging.getLogger(__name__)

ITEM_LINKS = etree.XPath("//item/link/text()")

FEED_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True)
"""The feed is untrusted XML: no entity is expanded, no DTD or external entity is loaded from a file
or the network, and broken markup is read as far as it goes (libxml2 stops at the declarations of
a "billion laughs", whose amplification it measures even unexpanded)."""


def feed_links(body: bytes, url: str) -> list[str]:
    """The article links of an RSS feed, as written in its ``<item><link>`` elements.

    A feed that is not XML gives no links, a broken one the links before the break; both are logged.
    """
    try:
        root = etree.fromstring(body, FEED_PARSER)
    except etree.XMLSyntaxError as error:
        logger.warning("The feed %s is not XML (%s): no links taken from it.", url, error)
        return []
    if broken := FEED_PARSER.error_log.filter_from_errors():
        logger.warning("The feed %s is broken (%s): links read up to the break.", url, broken[0].message)
    return [] if root is None else [link.strip() for link in ITEM_LINKS(root)]


class FeedSpider(DwnSpider):
    """Fetch ``/feed/`` (stored raw, not parsed), every article it links that is not stored yet and
    the stored articles the revisit policy makes due."""

    name = "feed"
    revisits = True

    def start_requests_for_site(self) -> Iterable[Request]:
        yield self.page_request(f"{LIVE_SITE}/feed/", "feed", self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        yield self.fetched(response)
        if response.status == 200:
            yield from self.article_requests(feed_links(response.body, response.url))
