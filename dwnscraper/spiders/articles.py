"""``articles``: given article URLs, as arguments or in a file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scrapy import Request

from dwnscraper.spiders.base import DwnSpider


class ArticlesSpider(DwnSpider):
    """Fetch ``-a urls=URL,URL`` and/or the URLs in ``-a file=PATH`` (one per line, ``#`` comments).

    Articles already stored are skipped unless ``DWN_REFRESH``; URL variants of one article are
    fetched once.
    """

    name = "articles"

    def __init__(self, urls: str | None = None, file: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        given = [url.strip() for url in (urls or "").split(",")]
        if file:
            given += [line.strip() for line in Path(file).read_text(encoding="utf-8").splitlines()
                      if not line.lstrip().startswith("#")]
        self.urls = [url for url in given if url]

    @property
    def arguments(self) -> dict[str, Any]:
        return {"urls": self.urls}

    def start_requests_for_site(self) -> Iterable[Request]:
        return self.article_requests(self.urls)
