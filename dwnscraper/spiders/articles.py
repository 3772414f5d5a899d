"""``articles``: given article URLs, as arguments or in a file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request

from dwnscraper.items import FetchFailure
from dwnscraper.parsing.urls import is_article_url, is_dwn_url
from dwnscraper.spiders.base import DwnSpider


def given_urls(urls: str | None, file: str | None) -> list[str]:
    """The URLs of ``urls`` (comma-separated) and of ``file`` (one a line, ``#`` comments); a file that
    cannot be read, or no URL at all, is refused with a sentence."""
    given = [url.strip() for url in (urls or "").split(",")]
    if file:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"The URL file {file} cannot be read ({error}).") from error
        given += [line.strip() for line in lines if not line.lstrip().startswith("#")]
    found = [url for url in given if url]
    if not found:
        raise ValueError("The articles spider needs article URLs: --url URL or --urls-file FILE "
                         "(-a url=URL,URL or -a file=FILE with scrapy crawl)." if not file
                         else f"The URL file {file} holds no URL.")
    return found


class ArticlesSpider(DwnSpider):
    """Fetch ``-a url=URL,URL`` (``urls`` is the same) and/or the URLs in ``-a file=PATH`` (one per line,
    ``#`` comments). Without any URL the spider refuses to start.

    Articles already stored are skipped unless ``DWN_REFRESH``; URL variants of one article are
    fetched once. A URL that is not a DWN article URL becomes an ``errors`` row (stage ``discover``).
    """

    name = "articles"

    def __init__(self, url: str | None = None, urls: str | None = None, file: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = given_urls(",".join(part for part in (url, urls) if part), file)

    @property
    def arguments(self) -> dict[str, Any]:
        return {"urls": self.urls}

    async def start(self) -> Any:
        for failure in self.not_articles():
            yield failure
        async for request in super().start():
            yield request

    def not_articles(self) -> Iterator[FetchFailure]:
        for url in self.urls:
            if not is_dwn_article(url):
                yield FetchFailure(url=url, message="Not an article URL of the DWN site: not fetched.",
                                   fetched_at=datetime.now(UTC), stage="discover")

    def start_requests_for_site(self) -> Iterable[Request]:
        return self.article_requests(url for url in self.urls if is_dwn_article(url))


def is_dwn_article(url: str) -> bool:
    """An article's URL on the DWN site (another host's URL may have an article's path)."""
    return is_dwn_url(url) and is_article_url(url)
