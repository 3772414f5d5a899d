"""Pure parsers: a fetched DWN page (bytes, URL, fetch time) to the record of the contract,
``dwnscraper/schema/parse-output.md``.

Nothing here imports Scrapy's engine; the same function serves the crawl pipelines, the
``dwnscraper parse`` command and notebooks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from lxml import etree

try:
    from dwnscraper.parsing import _walk  # noqa: F401  (imported first: its absence is said in one sentence)
except ImportError as error:  # a checkout installed before the parser had its C part
    raise ImportError(
        "The parser's C part (dwnscraper/parsing/_walk.pyx) is not built: install the package again "
        "(pip install -e .), which compiles it."
    ) from error
from dwnscraper.parsing import dates, urls
from dwnscraper.parsing._walk import attribute_contains
from dwnscraper.parsing.article import READING_TIME, Article
from dwnscraper.parsing.layouts import Layout
from dwnscraper.parsing.layouts.current import LAYOUT as CURRENT
from dwnscraper.parsing.layouts.legacy import LAYOUT as LEGACY
from dwnscraper.parsing.layouts.wordpress import LAYOUT as WORDPRESS
from dwnscraper.parsing.metadata import Metadata, read_metadata
from dwnscraper.parsing.teasers import parse_listing
from dwnscraper.parsing.text import (
    Page,
    binary_kind,
    body_of,
    clean,
    looks_binary,
    parse_html,
    string_value,
    text_of,
    truncated,
)

__all__ = ["LAYOUTS", "parse_page"]

logger = logging.getLogger(__name__)

LAYOUTS: tuple[Layout, ...] = (CURRENT, LEGACY, WORDPRESS)

_WORDPRESS_FILES = "/wp-content/"
_READING_LABEL = "Lesezeit"
"""What :data:`READING_TIME` starts with: a page without it is spared cleaning its whole body text."""
_LEGACY_CUE = "Benachrichtigung über neue Artikel"
_COOKIE_ACCEPT = etree.XPath(
    "//*[@id='ck_accept' or contains(@class, 'ck_accept') or @name='ck_accept' or @data-action='ck_accept']"
)
_NOT_FOUND = ("Seite nicht gefunden", "404", "nicht gefunden", "Not Found")
NOT_A_PAGE = "The page holds neither an article nor a listing: no headline, date or teaser cards were found."


def parse_page(
    body: bytes,
    url: str,
    fetched_at: datetime | str | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict:
    """The record for one fetched page: an ``article``, a ``listing`` or an ``error``. Never raises."""
    try:
        return _parse(body, url, _moment(fetched_at), headers)
    except Exception as error:  # the contract: a bad page is an error record, never a traceback
        logger.exception("parser failed on %s", url)
        return error_record(url, f"The parser failed on this page ({type(error).__name__}: {error}).")


def error_record(url: str, message: str) -> dict:
    return {"kind": "error", "url": url, "error": message}


def _moment(fetched_at: datetime | str | None) -> datetime | None:
    if isinstance(fetched_at, str):
        fetched_at = datetime.fromisoformat(fetched_at)
    if fetched_at is not None and fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    return fetched_at


def _parse(body: bytes, url: str, fetched_at: datetime | None, headers) -> dict:
    if not body or body.isspace():  # what strip() would leave nothing of, without copying the body
        return error_record(url, f"The page is empty: the response body has {len(body)} bytes"
                                 f"{' of whitespace' if body else ''}.")
    if looks_binary(body):
        return error_record(url, f"The response is not an HTML page: its body is binary data ({binary_kind(body)}).")
    document = parse_html(body, headers)
    if document is None:
        return error_record(url, "The page holds no HTML elements.")
    page = Page(document, fetched_at)
    metadata = read_metadata(page)
    foreign = urls.foreign_host(url, metadata.canonical)
    if foreign:
        return error_record(url, f"The page is from another host, {foreign}, not from Deutsche Wirtschafts Nachrichten:"
                                 " it is not archived as a DWN page.")
    layout = detect_layout(page)
    if layout is not None or _has_article_signals(page, metadata):
        record = Article(page, layout or _layout_from_cues(page), metadata, url, fetched_at).record()
        if record["headline"]:
            if truncated(body):
                record["warnings"].append(
                    "body may be incomplete: the page ends before </html> (the download was cut off)."
                )
            return record
    not_found = _not_found(page)
    listing = None if not_found else parse_listing(page, url)
    if listing is None:
        return error_record(url, not_found or _why_not_a_page(page))
    if truncated(body):
        listing["warnings"].append(
            "teasers may be incomplete: the page ends before </html> (the download was cut off)."
        )
    return listing


def detect_layout(page: Page) -> Layout | None:
    """The layout whose own markup the page shows most of, or ``None`` when none of it is there."""
    scores = [(layout.markers.count(page), layout) for layout in LAYOUTS]
    best, layout = max(scores, key=lambda scored: scored[0])
    return layout if best else None


def _has_article_signals(page: Page, metadata: Metadata) -> bool:
    """A headline with NewsArticle metadata or a reading time: an article even without known markup.

    A reading time in the raw text is one in the cleaned text too (cleaning only collapses the blanks its pattern
    allows any number of, and removes characters it holds none of): the whole body is cleaned only when the raw
    text shows none.
    """
    if not page.headings:
        return False
    if metadata.is_news_article:
        return True
    body = body_of(page.document)
    text = string_value(body) if body is not None else ""
    return _READING_LABEL in text and bool(READING_TIME.search(text) or READING_TIME.search(clean(text)))


def _layout_from_cues(page: Page) -> Layout:
    """A page whose class names all changed: the era shows in its generator and its text order (the legacy layout
    prints its reading time before its first date).

    A date ends before the 'Lesezeit' that follows it: the text before the label holds every date that comes first.
    """
    if _is_wordpress(page):
        return WORDPRESS
    if _shows_legacy_cue(page):
        return LEGACY
    after = " ".join(page.cues)
    reading_time = after.find("Lesezeit")
    if reading_time < 0 or next(dates.find_dates(after[:reading_time]), None):
        return CURRENT
    return LEGACY if next(dates.find_dates(after[reading_time:]), None) else CURRENT


def _shows_legacy_cue(page: Page) -> bool:
    """Whether a text node outside scripts holds the legacy layout's notification label.

    The texts after the headline, which the layout guess reads anyway, answer for most legacy pages without a walk
    over every text node of the page.
    """
    return any(_LEGACY_CUE in text for text in page.shown_after) or page.mentions_outside_scripts(_LEGACY_CUE)


def _is_wordpress(page: Page) -> bool:
    """WordPress's generator meta tag, or files from ``/wp-content/`` in a link's ``href`` or any ``src``."""
    generators = (meta.get("content", "") for meta in page.by_tag["meta"] if meta.get("name") == "generator")
    return (
        any("WordPress" in generator for generator in generators)
        or any(_WORDPRESS_FILES in link.get("href", "") for link in page.by_tag["link"])
        or attribute_contains(page.document, "src", _WORDPRESS_FILES)
    )


def _not_found(page: Page) -> str | None:
    """The error of DWN's 404 page, which shows teaser cards like a listing; ``None`` for other pages."""
    heading = next((text_of(element) for element in page.headings + page.by_tag["title"] if text_of(element)), "")
    if any(cue in heading for cue in _NOT_FOUND):
        return f"The page is DWN's 404 page „{clean(heading)[:60]}“: there is no article at this URL."
    return None


def _why_not_a_page(page: Page) -> str:
    """Why a page that is neither article nor listing is none: a cookie wall, or nothing recognisable."""
    if _COOKIE_ACCEPT(page.document):
        return "The page is a cookie consent wall (ck_accept) without any article or listing content."
    return NOT_A_PAGE
