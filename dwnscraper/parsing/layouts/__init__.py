"""The three DWN article layouts. Each module holds its selector constants as a :class:`Layout`."""

from __future__ import annotations

from dataclasses import dataclass, field

from dwnscraper.parsing._walk import TagsAndClasses
from dwnscraper.parsing.text import Selector, css


@dataclass(frozen=True)
class Layout:
    """Where one layout keeps each field. Every selector is relative to the whole document."""

    name: str
    markers: Selector
    section: Selector
    headline: Selector
    lead: Selector
    author: Selector
    published: Selector
    updated: Selector
    reading_time: Selector
    image: Selector
    image_caption: Selector
    topics: Selector
    body: Selector
    paywall: Selector
    not_body: Selector
    """Elements inside the body container that are no body text (ads, boxes, captions): tags and classes only
    (:attr:`Selector.compounds`), which the body walk tests each child for."""

    not_body_test: TagsAndClasses = field(init=False, repr=False, compare=False)
    """:attr:`not_body` prepared for the body walk once."""

    def __post_init__(self):
        compounds = self.not_body.compounds
        if compounds is None:
            raise ValueError(f"{self.name}: not_body must be tags and classes only, not {self.not_body.css!r}")
        object.__setattr__(self, "not_body_test", TagsAndClasses(compounds))


NOT_BODY_COMMON = (
    ".ad, .ads, .anzeige, .newsletter, .hardpay, .teaser-list, .boxtext, figure, .caption, "
    ".wp-caption, .tags, .notify, .ankuendigung, .entry-social, .entry-tools, .entry-logo, "
    ".article-image, .article-picture, .share, .social, .related, .cookie, .banner"
)


def selectors(**fields: str) -> dict[str, Selector]:
    return {name: css(selector) for name, selector in fields.items()}
