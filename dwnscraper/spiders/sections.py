"""``sections``: section front pages, their pagination and the articles they list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from dwnscraper import LIVE_SITE
from dwnscraper.sections import listing_paths
from dwnscraper.spiders.base import SITE_LINKS, DwnSpider, listing_of, same_path


class SectionsSpider(DwnSpider):
    """Crawl section listings page by page and fetch the articles they show.

    ``-a sections=Politik,finanzen`` picks sections, as printed or as slugs, in any case (an unknown
    one is refused); a listing path below a section or tag works too (``thema/europa``).
    A section stops paginating at a page whose articles a finished run saw on its pages before and
    whose teasers show none of them changed (unless ``DWN_FULL``), or after ``DWN_MAX_PAGES`` pages.
    Stored articles that are due (``DWN_REVISIT``, the listing signal) are fetched again.
    """

    name = "sections"
    revisits = True

    def __init__(self, sections: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sections = listing_paths(part for part in (sections or "").split(",") if part.strip())

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
        if self.all_known(articles, listing_of(response.url)) and not changed and not self.full:
            self.logger.info("Stopping %s at page %d: every article on it is stored", section, page)
            return
        if self.max_pages and page >= self.max_pages:
            return
        next_path = f"/{section}/page/{page + 1}/"
        if any(same_path(link.url, next_path) for link in SITE_LINKS.extract_links(response)):
            yield self.page_request(f"{LIVE_SITE}{next_path}", "listing", self.parse_listing,
                                    section=section, page=page + 1)
