"""The three DWN article layouts. Each module holds its selector constants as a :class:`Layout`."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from dwnscraper.parsing.text import css


@dataclass(frozen=True)
class Layout:
    """Where one layout keeps each field. Every selector is relative to the whole document."""

    name: str
    markers: etree.XPath
    section: etree.XPath
    headline: etree.XPath
    lead: etree.XPath
    author: etree.XPath
    published: etree.XPath
    updated: etree.XPath
    reading_time: etree.XPath
    image: etree.XPath
    image_caption: etree.XPath
    topics: etree.XPath
    body: etree.XPath
    paywall: etree.XPath
    not_body: etree.XPath
    """Elements inside the body container that are no body text (ads, boxes, captions)."""


NOT_BODY_COMMON = (
    ".ad, .ads, .anzeige, .newsletter, .hardpay, .teaser-list, .boxtext, figure, .caption, "
    ".wp-caption, .tags, .notify, .ankuendigung, .entry-social, .entry-tools, .entry-logo, "
    ".article-image, .article-picture, .share, .social, .related, .cookie, .banner"
)


def selectors(**fields: str) -> dict[str, etree.XPath]:
    return {name: css(selector) for name, selector in fields.items()}
