"""``sections``: section front pages, their pagination and the articles they list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from dwnscraper import LIVE_SITE
from dwnscraper.spiders.base import SITE_LINKS, DwnSpider, same_path

SECTIONS = ("politik", "wirtschaft", "finanzen", "unternehmen", "technologie", "panorama",
            "deutschland", "weltwirtschaft")


class SectionsSpider(DwnSpider):
    """Crawl section listings page by page and fetch the articles they show.

    ``-a sections=politik,finanzen`` picks sections (any listing path works, e.g. ``thema/europa``).
    A section stops paginating at a page whose articles were all stored before and whose teasers
    show none of them changed (unless ``DWN_FULL``), or after ``DWN_MAX_PAGES`` pages. Stored
    articles that are due (``DWN_REVISIT``, the listing signal) are fetched again.
    """

    name = "sections"
    revisits = True

    def __init__(self, sections: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        chosen = [part.strip().strip("/") for part in (sections or "").split(",") if part.strip()]
        self.sections = chosen or list(SECTIONS)

    @property
    def arguments(self) -> dict[str, Any]:
        return {"sections": self.sections}

    def start_requests_for_site(self) -> Iterable[Request]:
        for section in self.sections:
            yield self.page_request(f"{LIVE_SITE}/{section}", "listing", self.parse_listing,
                                    section=section, page=1)

    def parse_listing(self, response: Response, section: str, page: int) -> Iterator[Any]:
        yield self.fetched(response)
        if response.status != 200:
            return
        articles = self.article_links(response)
        changed = self.listing_signal(response)
        yield from self.article_requests(articles)
        if self.all_known(articles) and not changed and not self.full:
            self.logger.info("Stopping %s at page %d: every article on it is stored", section, page)
            return
        if self.max_pages and page >= self.max_pages:
            return
        next_path = f"/{section}/page/{page + 1}/"
        if any(same_path(link.url, next_path) for link in SITE_LINKS.extract_links(response)):
            yield self.page_request(f"{LIVE_SITE}{next_path}", "listing", self.parse_listing,
                                    section=section, page=page + 1)
