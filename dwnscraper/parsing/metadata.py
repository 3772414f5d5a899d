"""Page metadata: JSON-LD ``NewsArticle``, OpenGraph / ``article:*`` meta tags, the canonical link."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from lxml import etree

from dwnscraper.parsing.text import Page, clean

_TEXT_NODES = etree.XPath("text()")
_JSON_LD_TYPE = "application/ld+json"
_ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle"}
_DATE_KEYS = ("datePublished", "dateModified")
_DURATION_MINUTES = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?", re.IGNORECASE)


@dataclass(frozen=True)
class Metadata:
    """What the page says about itself outside the visible layout."""

    json_ld: dict = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None
    graph_dates: dict[str, str] = field(default_factory=dict)
    """The first ``datePublished`` and ``dateModified`` of any JSON-LD node: an ``@graph`` may hold them on its
    ``WebPage`` node rather than on the article's."""

    def json_ld_text(self, key: str) -> str:
        value = self.json_ld.get(key)
        if value is None and key in _DATE_KEYS:
            value = self.graph_dates.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        return clean(value) if isinstance(value, str) else ""

    def json_ld_person_authors(self) -> list[str]:
        authors = self.json_ld.get("author")
        if isinstance(authors, dict):
            authors = [authors]
        if not isinstance(authors, list):
            return []
        return [
            clean(author.get("name"))
            for author in authors
            if isinstance(author, dict) and author.get("@type") == "Person" and clean(author.get("name"))
        ]

    def reading_time_minutes(self) -> int | None:
        match = _DURATION_MINUTES.match(self.json_ld_text("timeRequired"))
        if not match or not any(match.groups()):
            return None
        hours, minutes = (int(part or 0) for part in match.groups())
        return hours * 60 + minutes

    @property
    def is_news_article(self) -> bool:
        return bool(self.json_ld)


_WANTED_META = ("og:title", "og:description", "description", "article:published_time", "article:section", "og:type")


def read_metadata(page: Page) -> Metadata:
    tags = _HeadTags(page.by_tag)
    first = _first_meta_contents(tags.meta)
    cleaned = {name: clean(first.get(name)) for name in _WANTED_META}
    meta = {name: value for name, value in cleaned.items() if value}
    canonical = tags.canonical
    nodes = _nodes(tags.json_ld)
    return Metadata(
        json_ld=_news_article(nodes),
        graph_dates={key: value for key in _DATE_KEYS if (value := _first_value(nodes, key))},
        meta=meta,
        canonical=canonical[0].strip() if canonical and canonical[0].strip() else None,
    )


class _HeadTags:
    """The page's metadata, in document order, from its ``meta``, ``link`` and ``script`` elements anywhere (not
    only in ``<head>``).

    ``meta``: ``//meta[@content]``; ``canonical``: ``//link[@rel='canonical']/@href``; ``json_ld``:
    ``//script[@type='application/ld+json']/text()``.
    """

    def __init__(self, by_tag: dict[str, list]):
        self.meta: list = [element for element in by_tag["meta"] if element.get("content") is not None]
        self.canonical: list[str] = [
            element.get("href") for element in by_tag["link"]
            if element.get("rel") == "canonical" and element.get("href") is not None
        ]
        self.json_ld: list[str] = [
            text for element in by_tag["script"] if element.get("type") == _JSON_LD_TYPE
            for text in _TEXT_NODES(element)
        ]


def _first_meta_contents(tags: list) -> dict[str, str]:
    """For each wanted name, the content of the first of the ``<meta>`` ``tags`` whose property or name it is."""
    first: dict[str, str] = {}
    for tag in tags:
        for key in (tag.get("property"), tag.get("name")):
            if key in _WANTED_META and key not in first:
                first[key] = tag.get("content")
    return first


def _nodes(scripts: list[str]) -> list[dict]:
    """Every JSON-LD object of the page's scripts, ``@graph`` members included, in order."""
    nodes = []
    for script in scripts:
        try:
            data = json.loads(script, strict=False)
        except ValueError:
            continue
        nodes.extend(_candidates(data))
    return nodes


def _news_article(nodes: list[dict]) -> dict:
    for candidate in nodes:
        kinds = candidate.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(kind, str) and kind in _ARTICLE_TYPES for kind in kinds):
            return candidate
    return {}


def _first_value(nodes: list[dict], key: str) -> str | None:
    return next((node[key] for node in nodes if isinstance(node.get(key), str)), None)


def _candidates(data):
    if isinstance(data, list):
        for item in data:
            yield from _candidates(item)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _candidates(data["@graph"])
