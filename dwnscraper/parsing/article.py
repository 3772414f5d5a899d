"""Article pages: each field from the layout's markup, then page metadata, then visible text cues."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from lxml import etree

from dwnscraper.parsing import dates, urls
from dwnscraper.parsing._walk import BodyWalk, attribute_contains, word_count
from dwnscraper.parsing.layouts import Layout
from dwnscraper.parsing.metadata import Metadata
from dwnscraper.parsing.teasers import MORE_ON_TOPIC_WORDS, article_teasers, cue_teasers, starts_with_label
from dwnscraper.parsing.text import (
    Page,
    Selector,
    blank,
    clean,
    first_text,
    holders_of,
    in_page_chrome,
    string_value,
    text_of,
)

READING_TIME = re.compile(r"Lesezeit:?\s*(?:¦\s*)?(\d{1,3})\s*(?:min|Min)")
CREDIT_IN_BRACKETS = re.compile(r"\(\s*(?:Foto|Fotos|Quelle|Illustration|Grafik|Bild)\s*:\s*([^)]*)\)")
CREDIT_PLAIN = re.compile(r"(?:^|\s)(?:Quelle|Foto)\s*:\s*(.+)$")
_NAME = r"[A-ZÄÖÜ][\w'-]*[^\W\d_]"
"""One name of a person: capitalised, at least two letters, no period."""
BYLINE_IN_LEAD = re.compile(
    r"DWN-(?:Kolumnist|Gastautor|Redakteur|Korrespondent)(?:in)?\s+"
    rf"((?:(?:Dr|Prof)\.\s+)*{_NAME}(?:(?:\s+[A-ZÄÖÜ]\.)*\s+{_NAME}"
    rf"|\s+(?:von|van|de|zu)(?:\s+(?:der|den|dem))?\s+{_NAME})?)(?!\w)"
)
"""A byline in the lead: title, first name, then a last name after any initials (``Helmut K. Anheier``) or a
particle (``von der``); initials without a name after them are left out rather than cut into the name."""
AUTHOR_LABEL = re.compile(r"^(?:Autor(?:in)?|Von)\s*:?\s*")
TOPIC_SUFFIX = re.compile(r"\s*>$")
PAYWALL_CUES = ("Im Folgenden:", "Lesen Sie in diesem Artikel:")
MAX_CAPTION = 400
SECTION_PATH = re.compile(r"^(?:https?://[^/]+)?/([a-z][a-z-]{2,30})/?$")

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
INLINE = frozenset({"a", "b", "i", "em", "strong", "span", "u", "small", "sup", "sub", "abbr", "cite", "q", "mark",
                    "time", "font", "s", "del", "ins", "br", "wbr"})
NEVER_BODY = frozenset({"script", "style", "noscript", "iframe", "form", "button", "input", "select", "textarea",
                        "svg", "img", "figure", "figcaption", "nav", "aside", "video", "audio", "picture", "object",
                        "embed", "canvas", "template", "label", "header", "footer"})
NAVIGATION = {"nav", "aside", "footer"}
BOX_STARTS = ("Anzeige", "Newsletter")
"""What the text of a box inside the body (a ``div``, ``section`` or ``span``) starts with."""


class BodyRules(NamedTuple):
    """What :class:`_walk.BodyWalk` takes for inline text, for never body, for headings and for boxes.

    AMP's own elements (``amp-ad``, ``amp-img``, ``amp-social-share`` …: ads, media and widgets) are never body
    either.
    """

    inline: frozenset[str]
    never: frozenset[str]
    headings: frozenset[str]
    paywall_cues: tuple[str, ...]
    box_starts: tuple[str, ...]


BODY_RULES = BodyRules(INLINE, NEVER_BODY, HEADINGS, PAYWALL_CUES, BOX_STARTS)

UPDATE_LABELS = ("Aktualisiert", "aktualisiert")
AUTHOR_LABELS = ("Autor",)
AUTHOR_LABEL_WITHIN = 12
"""How many fragments after the headline may be an 'Autor:' label."""
KICKER_LINKS = 3
"""How many links before the headline may be its kicker."""
BLOCK_TAGS = ("p", "div")
BLOCKS_AFTER = 8
"""How many blocks of text after the headline (innermost ``p`` and ``div``) may hold lead and date line."""
MAX_DATE_LINE = 80
"""The longest block taken for a date line (``Veröffentlicht am Freitag, 25. Oktober 2019, um 17:57 Uhr``)."""
MIN_LEAD_WORDS = 8
"""The fewest words a lead has: kicker, author and reading time lines have fewer."""
LABELS = ("Lesezeit", "Aktualisiert")
_ALL_LABEL_TEXT = etree.XPath(
    "//text()[contains(., 'Lesezeit') or contains(., 'Aktualisiert')][not(ancestor::script or ancestor::style)]"
)
IMAGE_TAGS = ("img", "amp-img")
"""The elements of an image (``amp-img`` in AMP copies)."""
TOPIC_PATH = "/thema/"
_PARAGRAPH_HOLDERS = etree.XPath("//p/parent::*")
RUN_TAGS = {"p", "h2", "h3", "blockquote", "ul", "ol"}
"""The children of a run of paragraphs."""
MIN_RUN = 2
_FIGCAPTION = etree.XPath(".//figcaption")
_IMAGE_AFTER = etree.XPath(
    "following::img[not(ancestor::nav or ancestor::header or ancestor::footer or ancestor::aside)][1]"
)
_THEMA_LINKS = etree.XPath(".//a[contains(@href, '/thema/')]")

FIELD_NOUNS = {
    "headline": "headline",
    "section": "kicker",
    "lead": "lead",
    "authors": "byline",
    "published_at": "date",
    "updated_at": "update time",
    "reading_time_minutes": "reading time",
    "image": "image",
    "topics": "tag box",
    "body": "body",
    "teasers": "teaser card",
}


class Article:
    """Collects one article's fields and the warnings about where they came from."""

    def __init__(self, page: Page, layout: Layout, metadata: Metadata, url: str, fetched_at: datetime | None):
        self.page = page
        self.document = page.document
        self.layout = layout
        self.metadata = metadata
        self.url = url
        self.fetched_at = fetched_at
        self.warnings: list[str] = []
        self.h1 = page.headline
        self.canonical = self._canonical_url()
        self.base = self.canonical if urls.is_dwn_url(url) else url
        """Relative links resolve against the canonical URL, except in copies served elsewhere."""

    def pick(self, field: str, sources: Iterable[tuple[str | None, Callable]], required: bool = True):
        """The first source that yields a value; a warning when it is a fallback or none does."""
        for position, (source, extract) in enumerate(sources):
            value = extract()
            if _found(value):
                if position:
                    self.warnings.append(
                        f"{field} taken from {source}; the layout's {FIELD_NOUNS[field]} markup is missing."
                    )
                return value
        if required:
            self.warnings.append(f"{field} not found in the page.")
        return None

    def select(self, selector: Selector, context=None) -> list:
        """The matches of one of the layout's selectors below ``context`` (default: the whole page)."""
        return selector(self.document if context is None else context, self.page)

    def cue_text(self) -> str:
        return " ¦ ".join(self.page.cues)

    def _head_text(self) -> str:
        """The short cues of the article's head, where its date line stands: those before the second long text (the
        lead is one, before or after the date line; the body's first paragraph ends the head) and before 'Mehr zum
        Thema'.

        A date in the lead (``Am 1. Januar 2026 tritt …``), further down in the body or on a teaser card is no date
        of the article: long texts are left out.
        """
        head, long_texts = [], 0
        for text in self.page.cues:
            if text.startswith("Mehr zum Thema"):
                break
            if _is_long(text):
                long_texts += 1
                if long_texts == 2:
                    break
            elif len(text) <= MAX_DATE_LINE:
                head.append(text)
        return " ¦ ".join(head)

    def record(self) -> dict:
        layout, meta = self.layout, self.metadata
        section = self.pick("section", [
            (None, lambda: first_text(self.select(layout.section))),
            ("JSON-LD articleSection", lambda: meta.json_ld_text("articleSection")),
            ("the article:section meta tag", lambda: meta.meta.get("article:section", "")),
            ("the kicker link before the headline", self._kicker_cue),
        ])
        headline = self.pick("headline", [
            (None, lambda: first_text(self.select(layout.headline))),
            ("JSON-LD headline", lambda: meta.json_ld_text("headline")),
            ("the first <h1>", lambda: text_of(self.h1) if self.h1 is not None else ""),
            ("the og:title meta tag", lambda: meta.meta.get("og:title", "")),
        ])
        lead = self.pick("lead", [
            (None, lambda: first_text(self.select(layout.lead))),
            ("the meta description", lambda: meta.meta.get("description", "")),
            ("the og:description meta tag", lambda: meta.meta.get("og:description", "")),
            ("the text between the headline and the date line", self._lead_cue),
        ])
        published_raw, published_at = self._published()
        updated_raw, updated_at = self._updated()
        reading_time = self.pick("reading_time_minutes", [
            (None, lambda: _minutes(first_text(self.select(layout.reading_time)))),
            ("the text cue 'Lesezeit:'", self._reading_time_cue),
            ("JSON-LD timeRequired", meta.reading_time_minutes),
        ])
        image, topics = self._image(headline), self._topics()
        body, paywalled = self._body()
        canonical = self.canonical
        return {
            "kind": "article",
            "url": self.url,
            "canonical_url": canonical,
            "article_id": urls.article_id(canonical),
            "layout": layout.name,
            "section": section,
            "headline": headline,
            "lead": lead,
            "authors": self._authors(lead),
            "published_raw": published_raw,
            "published_at": dates.isoformat(published_at) if published_at else None,
            "updated_raw": updated_raw,
            "updated_at": dates.isoformat(updated_at) if updated_at else None,
            "reading_time_minutes": reading_time,
            "image": image,
            "topics": topics,
            "body": body,
            "paywalled": paywalled,
            "teasers": self._teasers(),
            "word_count": word_count(block["text"] for block in body),
            "warnings": self.warnings,
        }

    def _teasers(self) -> list[dict]:
        found = self.pick("teasers", [
            (None, lambda: article_teasers(self.page, self.base)),
            ("the 'Mehr zum Thema' section", lambda: cue_teasers(self.page, self.base)),
        ], required=False)
        return found or []

    def _canonical_url(self) -> str:
        link = self.metadata.canonical and self.page.absolute(self.metadata.canonical, self.url)
        if link and urls.is_dwn_url(link):
            canonical = urls.canonical_url(link)
            if canonical:
                return canonical
        archived = urls.archived_dwn_url(self.url)
        return urls.canonical_url(self.url) or (archived and urls.canonical_url(archived)) or self.url

    def _kicker_cue(self) -> str:
        """The section link nearest above the headline, outside the site's navigation."""
        if self.h1 is None:
            return ""
        for link in links_before(self.h1, KICKER_LINKS):
            text = text_of(link)
            if SECTION_PATH.match(link.get("href", "")) and 0 < len(text) <= 30 and not _in_navigation(link):
                return text
        return ""

    def _lead_cue(self) -> str:
        """The one block of text between the headline and the date line, where the current layout prints its lead;
        nothing (with a warning) when there is no date line or more than one block could be the lead."""
        if self.h1 is None:
            return ""
        candidates = []
        for block in blocks_after(self.h1):
            text = self.page.text_of(block)
            if len(text) <= MAX_DATE_LINE and dates.find_date(text, self.fetched_at):
                break
            if _is_long(text) and not in_page_chrome(block):
                candidates.append(text)
        else:
            return ""
        if len(candidates) > 1:
            self.warnings.append(
                f"lead not taken from the text before the date line: {len(candidates)} blocks there could be it."
            )
        return candidates[0] if len(candidates) == 1 else ""

    def _published(self) -> tuple[str | None, datetime | None]:
        metadata_value = self.metadata.json_ld_text("datePublished") or self.metadata.meta.get(
            "article:published_time", ""
        )
        found = self.pick("published_at", [
            (None, lambda: self._date_in(self.select(self.layout.published), updated=False)),
            ("the date line near the headline", lambda: self._date_cue(updated=False)),
            ("JSON-LD datePublished", lambda: self._metadata_date(metadata_value)),
        ])
        return found or (None, None)

    def _updated(self) -> tuple[str | None, datetime | None]:
        found = self.pick("updated_at", [
            (None, lambda: self._date_in(self.select(self.layout.updated), updated=True)),
            ("the text cue 'Aktualisiert:'", self._updated_cue),
        ], required=False)
        return found or (None, None)

    def _date_in(self, elements: list, updated: bool) -> tuple[str | None, datetime] | None:
        """The date of the first of the layout's date elements showing text: a ``<time>``'s ``datetime`` first
        (unless it lacks the time the text prints), its visible text second."""
        element = next((element for element in elements if self.page.text_of(element)), None)
        if element is None:
            return None
        shown = dates.find_date(self.page.text_of(element), self.fetched_at, updated=updated)
        stamp = _datetime_attribute(element) if not updated else None
        if stamp is not None and (shown is None or "T" in stamp.raw or shown.moment.date() != stamp.moment.date()):
            return (shown.raw if shown else None), stamp.moment
        return (shown.raw, shown.moment) if shown else None

    def _date_cue(self, updated: bool) -> tuple[str, datetime] | None:
        found = dates.find_date(self._head_text(), self.fetched_at, updated=updated)
        return (found.raw, found.moment) if found else None

    def _metadata_date(self, value: str) -> tuple[None, datetime] | None:
        moment = dates.parse_datetime(value) if value else None
        return (None, moment) if moment else None

    def _updated_cue(self) -> tuple[str, datetime] | None:
        """The update time in the text after the headline; no page text without 'Aktualisiert' holds one."""
        return self._date_cue(updated=True) if self.page.mentions(*UPDATE_LABELS) else None

    def _reading_time_cue(self) -> int | None:
        found = _minutes(self.cue_text())
        if found is None:
            labels = _ALL_LABEL_TEXT(self.document) if self.page.mentions(*LABELS) else []
            found = _minutes(" ¦ ".join(clean(text) for text in labels))
        return found

    def _authors(self, lead: str | None) -> list[str]:
        names = []
        for element in self.select(self.layout.author):
            name = AUTHOR_LABEL.sub("", text_of(element))
            if name and name not in names:
                names.append(name)
        if not names:
            names = self._author_cue()
        for match in BYLINE_IN_LEAD.finditer(lead or ""):
            if match.group(1) not in names:
                names.append(match.group(1))
        return names or self.metadata.json_ld_person_authors()

    def _author_cue(self) -> list[str]:
        """The fragment after an 'Autor:' label among the first twelve after the headline."""
        if not self.page.mentions(*AUTHOR_LABELS):
            return []
        cues = self.page.first_cues(AUTHOR_LABEL_WITHIN + 1)
        for position, text in enumerate(cues[:AUTHOR_LABEL_WITHIN]):
            if text in {"Autor", "Autor:", "Autorin", "Autorin:"} and position + 1 < len(cues):
                return [cues[position + 1]]
        return []

    def _image(self, headline: str | None) -> dict | None:
        found = self.pick("image", [
            (None, lambda: self._image_in(
                self.select(self.layout.image), lambda box: self.select(self.layout.image_caption, box)
            )),
            ("the first <figure>", lambda: self._image_in(_figures_with_images(self.document), _FIGCAPTION)),
            ("the first image after the headline", lambda: self._image_after_headline(headline)),
        ], required=False)
        return found

    def _image_in(self, containers: Iterable, captions_in: Callable[[etree._Element], list]) -> dict | None:
        for container in containers:
            image = next(container.iterdescendants(*IMAGE_TAGS), None)
            captions = captions_in(container)
            if image is None and not captions:
                continue
            source = None
            if image is not None:
                source = image.get("src") or image.get("data-src") or image.get("data-lazy-src")
            caption, credit = split_credit(text_of(captions[0]) if captions else "")
            return {"url": self.page.absolute(source, self.base), "caption": caption, "credit": credit}
        return None

    def _image_after_headline(self, headline: str) -> dict | None:
        """The first image after the headline, if its caption carries a credit or its title repeats the headline."""
        images = _IMAGE_AFTER(self.h1) if self.h1 is not None else []
        if not images:
            return None
        image = images[0]
        caption_text = text_of(image.getparent())
        caption, credit = split_credit(caption_text) if len(caption_text) <= MAX_CAPTION else (None, None)
        if credit is None and clean(image.get("title")) != headline:
            return None
        source = image.get("src") or image.get("data-src")
        return {"url": self.page.absolute(source, self.base), "caption": caption if credit else None, "credit": credit}

    def _topics(self) -> list[str]:
        found = self.pick("topics", [
            (None, lambda: _topic_names(self.select(self.layout.topics))),
            ("the 'Mehr zum Thema:' box", lambda: _topic_names(self._topic_box_links())),
        ], required=False)
        return found or []

    def _topic_box_links(self) -> list:
        """The /thema/ links of the first 'Mehr zum Thema' box."""
        box = _first_topic_box(self.page.scopes(MORE_ON_TOPIC_WORDS, starts_with_label))
        return _THEMA_LINKS(box) if box is not None else []

    def _body(self) -> tuple[list[dict], bool]:
        paywalled = bool(self.select(self.layout.paywall))
        container = self.pick("body", [
            (None, lambda: next(iter(self.select(self.layout.body)), None)),
            ("the longest run of paragraphs", self._paragraph_container),
        ])
        if container is None:
            return [], paywalled or self._paywall_cue()
        walk = BodyWalk(container, self.layout.not_body_test, BODY_RULES)
        blocks = [{"kind": kind, "text": text} for kind, text in walk.blocks]
        return blocks, paywalled or walk.hit_paywall or self._paywall_cue()

    def _paragraph_container(self):
        candidates = _paragraph_parents(self.page)
        if not candidates:
            return None
        return max(candidates, key=lambda element: sum(len(self.page.text_of(p)) for p in element if p.tag == "p"))

    def _paywall_cue(self) -> bool:
        return self.page.mentions(*PAYWALL_CUES)


def _figures_with_images(document) -> Iterator:
    """The figures holding an image, in document order, found as they are asked for: the XPath
    ``//figure[.//img or .//amp-img]`` evaluates its test for every figure of the page, and makes a node set of
    every node of it first."""
    return (figure for figure in document.iter("figure") if next(figure.iter(*IMAGE_TAGS), None) is not None)


def links_before(element, limit: int) -> list:
    """The nearest ``limit`` links before ``element`` (not around it) that show more than XPath blanks, nearest
    first.

    The XPath ``preceding::a[normalize-space()][position() <= 3]``, answered by walking back from ``element``
    instead of testing the whole page before it.
    """
    found: list = []
    node = element
    while node is not None and len(found) < limit:
        for sibling in node.itersiblings(preceding=True):
            if isinstance(sibling.tag, str):
                found.extend(link for link in reversed(list(sibling.iter("a"))) if not blank(string_value(link)))
                if len(found) >= limit:
                    break
        node = node.getparent()
    return found[:limit]


def _in_navigation(element) -> bool:
    """Whether ``element`` lies in a ``nav``, ``aside`` or ``footer``: the site's menus, not the article's head."""
    return any(ancestor.tag in NAVIGATION for ancestor in element.iterancestors())


def blocks_after(element, limit: int = BLOCKS_AFTER) -> Iterator:
    """The first ``limit`` innermost ``p`` and ``div`` elements after ``element`` (not inside it) that show more
    than XPath whitespace, in document order, found as they are asked for.

    The XPath ``following::*[self::p or self::div][not(descendant::p or descendant::div)][normalize-space()]
    [position() <= 8]``, answered by walking forward from ``element``: libxml2 tests the descendants of every
    element after it, to the end of the page, while the lead and date line stand in the first few.
    """
    found = 0
    node = element
    while node is not None:
        for sibling in node.itersiblings():
            for block in sibling.iter(*BLOCK_TAGS):
                if next(islice(block.iter(*BLOCK_TAGS), 1, None), None) is None and not blank(string_value(block)):
                    yield block
                    found += 1
                    if found == limit:
                        return
        node = node.getparent()


def _datetime_attribute(element) -> dates.Found | None:
    """The moment in the ``datetime`` attribute of a ``<time>`` element that is or lies in ``element``."""
    stamp = element.get("datetime") if element.tag == "time" else next(
        (time.get("datetime") for time in element.iter("time") if time.get("datetime")), None
    )
    return dates.read_date(stamp) if stamp else None


def _paragraph_parents(page: Page) -> list:
    """The elements holding a run of paragraphs, in document order.

    The XPath ``//*[count(p | h2 | h3 | blockquote | ul | ol) >= 2][p][not(.//h1)][not(ancestor-or-self::nav
    or ancestor-or-self::footer or ancestor-or-self::aside or ancestor-or-self::header)]``, answered by testing
    only the parents of paragraphs instead of every element of the page.
    """
    above_headline = {ancestor for h1 in page.headings for ancestor in h1.iterancestors()}
    return [
        element for element in _PARAGRAPH_HOLDERS(page.document)
        if element not in above_headline
        and sum(1 for child in element if child.tag in RUN_TAGS) >= MIN_RUN
        and not in_page_chrome(element)
    ]


def _found(value) -> bool:
    if isinstance(value, (str, list, tuple, dict)):  # a tuple is checked four times faster than a union
        return len(value) > 0
    return value is not None


def _minutes(text: str) -> int | None:
    match = READING_TIME.search(text)
    return int(match.group(1)) if match else None


def _is_long(text: str) -> bool:
    """Whether a cleaned text has as many words as a lead at least (counted by its spaces: cheap, for every cue)."""
    return text.count(" ") + 1 >= MIN_LEAD_WORDS


def _first_topic_box(scopes: list):
    """The first of the innermost elements holding /thema/ links whose text starts with 'Mehr zum Thema', or ``None``;
    from the subtrees ``scopes`` (:meth:`Page.scopes`) that hold all such elements.

    First in the order of the first link each holds, then outermost first. The XPath
    ``//*[.//a[…]][starts-with(normalize-space(.), …)][not(*[…])]``, answered by climbing from the links
    instead of testing every element of the page, and by testing their ancestors only up to the first box.
    """
    scopes = [scope for scope in scopes if attribute_contains(scope, "href", TOPIC_PATH)]  # most hold none: in C
    holders = holders_of(link for scope in scopes for link in scope.iter("a") if TOPIC_PATH in link.get("href", ""))
    labelled: dict = {}

    def is_labelled(element) -> bool:
        if element not in labelled:
            labelled[element] = starts_with_label(element)
        return labelled[element]

    return next((
        element for element in holders
        if is_labelled(element) and not any(is_labelled(child) for child in element if child in holders)
    ), None)


def _topic_names(links: Iterable) -> list[str]:
    names = []
    for link in links:
        name = TOPIC_SUFFIX.sub("", text_of(link))
        if name and name not in names:
            names.append(name)
    return names


def split_credit(caption: str) -> tuple[str | None, str | None]:
    """A caption and its image credit: ``'Leere. (Foto: dpa) Foto: X'`` -> ``('Leere.', 'dpa')``."""
    caption = clean(caption)
    match = CREDIT_IN_BRACKETS.search(caption) or CREDIT_PLAIN.search(caption)
    if not match:
        return caption or None, None
    credit = clean(match.group(1))
    text = clean(caption[: match.start()])
    return text or None, credit or None
