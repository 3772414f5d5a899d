"""DWN URL shapes: article identity and canonical form, whatever variant was linked or fetched."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from dwnscraper import LIVE_SITE

LIVE_HOST = urlsplit(LIVE_SITE).hostname
_HOSTS = {LIVE_HOST, f"www.{LIVE_HOST}"}
_COPY_SUFFIX = re.compile(r"/(?:feed|amp)/?$")
"""The suffix of an article's feed and AMP copies (``/718460/Slug/feed``, ``/718460/Slug/amp``)."""
_ARCHIVED_DWN_URL = re.compile(rf"/(https?://(?:www\.)?{re.escape(LIVE_HOST)}(?:[:/].*)?)$", re.IGNORECASE)
"""A DWN URL inside a web archive's URL (``https://web.archive.org/web/2015…/http://deutsche-…``)."""
_ID_PATH = re.compile(r"^/(\d{1,7})(?:/([^/]+))?/?$")
_WP_PATH = re.compile(r"^/(\d{4})/(\d{2})/(\d{2})/([^/]+)/?$")
_PLAIN_CHARS = r"[A-Za-z0-9_~%!$&'()*+,=:@-]"
"""Path characters that ``urljoin`` neither splits on (``;``, ``?``, ``#``, ``/``) nor strips (blanks, controls)."""
_PLAIN_URL = re.compile(rf"https?://[A-Za-z0-9.-]+(?:/(?:{_PLAIN_CHARS}|\.)*)*")
"""An http(s) URL that ``urljoin`` gives back as it is: lower-case scheme, plain host, no port, parameters,
query or fragment."""
_PLAIN_SEGMENT = rf"(?!\.\.?(?:/|$))(?:{_PLAIN_CHARS}|\.)+"
"""A path segment of plain characters and dots, but for the dot segments ``.`` and ``..``."""
_PLAIN_PATH = re.compile(rf"/(?:{_PLAIN_SEGMENT}/)*(?:{_PLAIN_SEGMENT})?")
"""A root-relative path that ``urljoin`` appends to the base's origin as it is: no empty or dot segments."""


def is_dwn_url(url: str) -> bool:
    """True for any variant of the live site's host (http/https, with or without ``www.``)."""
    return (urlsplit(url).hostname or "").lower() in _HOSTS


def foreign_host(url: str, canonical: str | None) -> str | None:
    """The host a page belongs to when neither its URL nor its canonical link is on DWN, else ``None``.

    A web archive's copy of a DWN page counts as DWN by the URL it archives. The canonical link's host is named
    first: it says whose page this is.
    """
    try:
        link = (canonical if _PLAIN_URL.fullmatch(canonical) else urljoin(url, canonical)) if canonical else None
        hosts = [urlsplit(candidate).hostname for candidate in (link, url) if candidate]
    except ValueError:
        return None
    if any((host or "").lower() in _HOSTS for host in hosts) or archived_dwn_url(url):
        return None
    return next((host for host in hosts if host), None)


def archived_dwn_url(url: str) -> str | None:
    """The DWN URL a web archive's URL holds (``https://web.archive.org/web/2015…/http://deutsche-…/x/``), else
    ``None``."""
    match = _ARCHIVED_DWN_URL.search(url)
    return match.group(1) if match else None


@lru_cache(maxsize=4096)
def _article_path(url: str) -> tuple[str, re.Match] | None:
    """The article shape of a URL's path and its match; remembered, since teaser cards link one URL twice and
    pages link the same articles."""
    path = _COPY_SUFFIX.sub("", urlsplit(url).path) or "/"
    for kind, shape in (("wp", _WP_PATH), ("id", _ID_PATH)):
        match = shape.match(path)
        if match:
            return kind, match
    return None


def canonical_url(url: str) -> str | None:
    """The one URL of an article: https, no ``www.``, no query, no ``/feed`` or ``/amp``; ``None`` if not an article
    URL."""
    found = _article_path(url)
    if not found:
        return None
    kind, match = found
    if kind == "wp":
        year, month, day, slug = match.groups()
        return f"{LIVE_SITE}/{year}/{month}/{day}/{slug.lower()}/"
    number, slug = match.groups()
    return f"{LIVE_SITE}/{int(number)}/{slug}" if slug else f"{LIVE_SITE}/{int(number)}"


def article_id(url: str) -> int | None:
    """The numeric article id of an id URL, ``None`` for WordPress-era and non-article URLs."""
    found = _article_path(url)
    if not found or found[0] != "id":
        return None
    return int(found[1].group(1))


def article_identity(url: str) -> str | None:
    """A stable key for an article: ``id:503386`` or ``wp:/2016/09/24/slug/``; ``None`` if not an article."""
    found = _article_path(url)
    if not found:
        return None
    kind, match = found
    if kind == "id":
        return f"id:{int(match.group(1))}"
    return "wp:" + urlsplit(canonical_url(url)).path


def is_article_url(url: str) -> bool:
    return _article_path(url) is not None


def origin(base: str) -> str | None:
    """``scheme://host`` of an http(s) URL ``urljoin`` accepts as a base; ``None`` for any other base."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def absolute(href: str | None, base: str, base_origin: str | None = None) -> str | None:
    """``href`` made absolute against ``base``; ``None`` for empty, script, mail and malformed links.

    ``base_origin``, when given, must be :func:`origin` of ``base``: plain absolute URLs and root-relative
    paths are then resolved without ``urljoin``, to the same URL.
    """
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    if base_origin is not None:
        if href[0] == "/":
            if _PLAIN_PATH.fullmatch(href):
                return base_origin + href
        elif _PLAIN_URL.fullmatch(href):
            return href
    try:
        return urljoin(base, href)
    except ValueError:  # e.g. an unbalanced '[' in the host: "Invalid IPv6 URL"
        return None
