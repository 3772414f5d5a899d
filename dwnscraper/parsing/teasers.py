"""Teaser cards (section pages and the end of articles) and the listing pages that hold them."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from lxml import etree

from dwnscraper.parsing import dates, urls
from dwnscraper.parsing._walk import CardParts, normalized_start
from dwnscraper.parsing.text import (
    Page,
    blank,
    body_of,
    clean,
    css,
    holders_of,
    in_page_chrome,
    string_value,
    text_of,
)

CARDS = css("div.boxtext")
SEARCH_RESULTS = etree.XPath("//dl[dt][dd//a[@href]][not(ancestor::nav or ancestor::footer or ancestor::aside)]")
SEARCH_TITLE = css("a.title")
"""The result's title link; without that class, its first link to an article."""
NEXT_ANCHORS = etree.XPath("//a[@rel='next']/@href")
ALL_LINKS = etree.XPath("//a[@href]")
H1 = etree.XPath("//h1")
LISTING_HEADINGS = ("h1", "h2")
"""The tags a listing's heading may stand in; read by ``iter()``, a third of the time of ``//h1 | //h2``, which
walks the page twice."""
_SLUG_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
CONTENT_LINKS = etree.XPath(
    "//a[@href][not(ancestor::nav or ancestor::header or ancestor::footer or ancestor::aside"
    " or ancestor::*[contains(@class, 'cookie')])]"
)

_LINKS = etree.XPath(".//a[@href]")
MORE_ON_TOPIC_WORDS = ("Mehr", "zum", "Thema")
"""In the page text (with any whitespace between) wherever an element's ``normalize-space(.)`` starts with
'Mehr zum Thema'."""
MORE_ON_TOPIC_LABEL = "Mehr zum Thema"
_XPATH_SPACE = re.compile(r"[ \t\r\n]+")
_LABEL_STARTS = etree.XPath(
    f"descendant::text()[contains(., '{MORE_ON_TOPIC_LABEL[0]}')]"
    f"[starts-with(normalize-space(.), '{MORE_ON_TOPIC_LABEL[0]}')]"
)
"""The text nodes below an element that a 'Mehr zum Thema' label may start with, in document order.

``descendant::`` spares libxml2 the node set of ``//``'s every node, and the cheap ``contains()`` spares it
normalizing most texts (a sixth of the time of ``//text()[starts-with(normalize-space(.), …)]``'s filtering).
"""
_TOPIC_LINKS = etree.XPath(".//a[contains(@href, '/thema/')]")
LABEL_TAGS = {"h2", "h3", "h4", "div", "span", "p"}
"""The elements :func:`more_on_topic_labels` takes for a 'Mehr zum Thema' label."""
MIN_CARDS = 3
PAGE_IN_PATH = re.compile(r"/page/(\d+)/?$")
TAG_HEADING = re.compile(r"^(?:Alle Artikel zu|Themenseite)\s*:?\s*", re.IGNORECASE)
ARTEFACT = "title"
ARTEFACT_SUFFIX = re.compile(rf"\s+{ARTEFACT}$")
BRAND_LABELS = {"DWN", "Anzeige", "Deutsche Wirtschafts Nachrichten", "Deutsche Wirtschaftsnachrichten"}
SECTIONS = frozenset({"Politik", "Finanzen", "Wirtschaft", "Weltwirtschaft", "Deutschland", "Unternehmen",
                      "Panorama", "Technologie"})
"""The sections DWN labels its articles with."""
MAX_LABEL = 30
"""The longest text a section label may show."""
SECTION_LINK = re.compile(r"^(?:https?://[^/]+)?/([a-z][a-z-]{2,30})/?$")


def article_teasers(page: Page, base_url: str) -> list[dict]:
    """The teaser cards at the end of an article page, in page order."""
    return _numbered(parse_card(card, base_url, page) for card in CARDS(page.document, page))


def cue_teasers(page: Page, base_url: str) -> list[dict]:
    """Cards without their class names: the repeated blocks after a ``Mehr zum Thema`` heading."""
    labels = more_on_topic_labels(page.scopes(MORE_ON_TOPIC_WORDS, _is_label_tag))
    for label in labels:
        heading = label if isinstance(label.tag, str) else label.getparent()
        cards = repeated_cards(heading.getparent(), minimum=1)
        if cards:
            return _numbered(parse_card(card, base_url, page) for card in cards)
    return []


def _is_label_tag(element) -> bool:
    return element.tag in LABEL_TAGS


def more_on_topic_labels(scopes: list) -> list:
    """The label elements without /thema/ links whose text starts with 'Mehr zum Thema', in document order, from
    the subtrees ``scopes`` (:meth:`Page.scopes`) that hold them all.

    The XPath ``//*[self::h2 or self::h3 or self::h4 or self::div or self::span or self::p]
    [starts-with(normalize-space(.), 'Mehr zum Thema')][not(.//a[contains(@href, '/thema/')])]``, answered by
    climbing from the text nodes such a label can start with instead of normalizing the text of every element.
    """
    labels = []
    for text in (text for scope in scopes for text in _LABEL_STARTS(scope)):
        seen = _XPATH_SPACE.sub(" ", text).lstrip(" ")
        if seen.startswith(MORE_ON_TOPIC_LABEL) or MORE_ON_TOPIC_LABEL.startswith(seen):
            labels.extend(
                element for element in reversed(_starting_with(text))
                if element.tag in LABEL_TAGS and starts_with_label(element) and not _TOPIC_LINKS(element)
            )
    return labels


def _starting_with(text) -> list:
    """The elements whose text (their string value) shows nothing before the text node ``text``, innermost first."""
    owner = text.getparent()
    if text.is_tail and isinstance(owner.tag, str) and not blank(string_value(owner)):
        return []
    chain = [] if text.is_tail else [owner]
    node = owner
    while (parent := node.getparent()) is not None and not _shows_text_before(node, parent):
        chain.append(parent)
        node = parent
    return chain


def _shows_text_before(node, parent) -> bool:
    """Whether ``parent`` has text before its child ``node``."""
    return not blank(parent.text) or any(
        not blank(sibling.tail) or (isinstance(sibling.tag, str) and not blank(string_value(sibling)))
        for sibling in node.itersiblings(preceding=True)
    )


def starts_with_label(element) -> bool:
    """``starts-with(normalize-space(.), 'Mehr zum Thema')``, reading only as much text as it needs (in C)."""
    return normalized_start(element, len(MORE_ON_TOPIC_LABEL)) == MORE_ON_TOPIC_LABEL


def repeated_cards(container, minimum: int = MIN_CARDS) -> list:
    """The children of the element below ``container`` that holds the most teaser-like blocks (the first of
    those holding most).

    A teaser-like block links to an article and shows more text than the link (a date, a snippet). The parents
    tried are those of the XPath ``descendant-or-self::*[count(*) >= 2][not(ancestor-or-self::nav or
    ancestor-or-self::header or ancestor-or-self::footer or ancestor-or-self::aside)]`` that hold an article link:
    no other element holds such a block.
    """
    holders = _article_link_holders(container)
    best: list = []
    for parent in holders:
        if sum(isinstance(child.tag, str) for child in parent) < 2 or in_page_chrome(parent):
            continue
        cards = [child for child in parent if child in holders and _is_card(child)]
        if len(cards) > len(best):
            best = cards
    return best if len(best) >= minimum else []


def _article_link_holders(container) -> dict:
    """The elements from ``container`` down with a link to an article below them, in document order (as keys)."""
    links = (link for link in container.iter("a")
             if link is not container and urls.is_article_url(link.get("href", "")))
    return holders_of(links, top=container)


def _is_card(element) -> bool:
    links = [link for link in _LINKS(element) if urls.is_article_url(link.get("href", ""))]
    if not links:
        return False
    link_text = sum(len(text_of(link)) for link in _LINKS(element))
    return len(text_of(element)) > link_text + 5


def parse_card(card, base_url: str, page: Page) -> dict | None:
    """A teaser card's record, or ``None`` when it has no headline link.

    Its section is the text of its first section link, its headline the longest text among its other links to
    articles (else among all its other links), brand links left out; its date the first ``.pubdate`` showing text,
    else the first loose text that is a date as a whole; the rest of its loose text is the snippet.
    """
    parts = CardParts(card)
    absolute = page.absolute
    section = title_href = title = any_href = any_title = None
    for href, text in parts.links:
        if not absolute(href, base_url):
            continue
        if section is None and _is_section(href, text):
            section = text
        elif text not in BRAND_LABELS:
            if urls.is_article_url(href):
                if title is None or len(text) > len(title):
                    title_href, title = href, text
            elif any_title is None or len(text) > len(any_title):
                any_href, any_title = href, text
    if title is None:
        title_href, title = any_href, any_title
        if title is None:
            return None
    headline = _strip_prefix(title, section)
    if not headline:
        return None
    loose = parts.loose
    date_text = parts.dated[0] if parts.dated else next((text for text in loose if _is_printed_date(text, page)), "")
    snippet = " ".join(text for text in loose if text not in BRAND_LABELS and text != date_text
                       and text != section)  # cleaned texts, none empty: clean already
    return teaser(section, headline, absolute(title_href, base_url), date_text, snippet,
                  parts.sponsored or "Anzeige" in loose, page.day_of(date_text))


def _is_printed_date(text: str, page: Page) -> bool:
    """Whether a card's loose text is a date as a whole (``21.01.2026``, ``vor 3 Stunden``), read without
    dateparser: any other text of a card is its snippet."""
    return len(text) <= dates.LONGEST_DATE_TEXT and dates.read_date(text, page.fetched_at, general=False) is not None


def teaser(section, headline, url, date_text, snippet, sponsored=False, published_on=None) -> dict:
    """A teaser's record; ``published_on`` is the day of ``date_text`` (:meth:`Page.day_of`)."""
    return {
        "position": 0,
        "sponsored": sponsored,
        "section": section or None,
        "headline": headline,
        "url": url,
        "published_raw": date_text or None,
        "published_on": published_on,
        "snippet": snippet or None,
    }


def _is_section_link(link, page: Page) -> bool:
    return _is_section(link.get("href", ""), page.text_of(link))


def _is_section(href: str, text: str) -> bool:
    """Whether a link with this target and text is a section label (``/wirtschaft``, ``Wirtschaft``)."""
    return 0 < len(text) <= MAX_LABEL and text not in BRAND_LABELS and bool(SECTION_LINK.match(href.strip()))


def _strip_prefix(headline: str, section: str | None) -> str:
    if section and headline.startswith(section + " "):
        headline = headline[len(section) + 1:]
    if headline.endswith(ARTEFACT):  # the cleaned text ends there: only then can the pattern match
        headline = ARTEFACT_SUFFIX.sub("", headline)
    return headline.strip()


def _numbered(teasers) -> list[dict]:
    found = [item for item in teasers if item]
    for position, item in enumerate(found, start=1):
        item["position"] = position
    return found


def _search_results(document) -> list:
    """:data:`SEARCH_RESULTS`, not asked of a page without a ``<dl>`` (most pages): lxml's ``iter()`` finds one in
    a fifth of the time of the XPath's walk."""
    return SEARCH_RESULTS(document) if next(document.iter("dl"), None) is not None else []


def search_teasers(page: Page, base_url: str) -> list[dict]:
    """Search results: ``<dt>`` dates (two- or four-digit years) followed by ``<dd>`` items with ``a.title``, each
    with its section label before or at the start of the title link where it shows one."""
    found = []
    for results in _search_results(page.document):
        date_text = ""
        for item in results:
            if item.tag == "dt":
                date_text = text_of(item)
            elif item.tag == "dd":
                titles = SEARCH_TITLE(item, page) or [
                    link for link in _LINKS(item)
                    if urls.is_article_url(urls.absolute(link.get("href"), base_url) or "")
                ]
                if not titles or not text_of(titles[0]):
                    continue
                title = titles[0]
                section, inside = _search_label(item, title, page)
                loose = list(CardParts(item).loose)
                if section in loose:
                    loose.remove(section)
                headline = _strip_prefix(text_of(title), section) if inside else text_of(title)
                found.append(teaser(section, headline,
                                    urls.absolute(title.get("href"), base_url), date_text, clean(" ".join(loose)),
                                    published_on=page.day_of(date_text)))
    return _numbered(found)


def _search_label(result, title, page: Page) -> tuple[str | None, bool]:
    """A search result's section and whether it stands inside the title link: an element before the title link,
    or at the start inside it, that is a section link, wears a ``rubrik`` class or shows only a known section's
    name; ``None`` where there is none."""
    inside = next((child for child in title if isinstance(child.tag, str)), None)
    if inside is not None and not (title.text or "").strip() and page.text_of(inside) in SECTIONS:
        return page.text_of(inside), True
    for element in result.iter(etree.Element):
        if element is title:
            break
        text = page.text_of(element)
        labelled = "rubrik" in (element.get("class") or "") and 0 < len(text) <= MAX_LABEL
        if labelled or text in SECTIONS or (element.tag == "a" and _is_section_link(element, page)):
            return text, False
    return None, False


def link_teasers(document, base_url: str) -> list[dict]:
    """Title + lead pairs (tag pages): article links in the content, the following block as snippet."""
    found, seen = [], set()
    for link in CONTENT_LINKS(document):
        url = urls.absolute(link.get("href"), base_url)
        headline = text_of(link)
        if not url or not urls.is_article_url(url) or len(headline) < 15 or url in seen:
            continue
        seen.add(url)
        block = link
        while block.getparent() is not None and block.getnext() is None and block.tag not in {"h2", "h3", "h4"}:
            block = block.getparent()
        following = block.getnext()
        snippet = text_of(following) if following is not None and not _LINKS(following) else ""
        found.append(teaser(None, headline, url, "", snippet))
    return _numbered(found)


def page_number(url: str) -> int:
    parts = urlsplit(url)
    match = PAGE_IN_PATH.search(parts.path)
    if match:
        return int(match.group(1))
    values = parse_qs(parts.query).get("page")
    return int(values[0]) if values and values[0].isdigit() and int(values[0]) > 0 else 1


def next_page_url(page: Page, url: str, number: int) -> str | None:
    """The link to page ``number + 1`` of the same listing, if the page has one: a ``<link rel="next">`` (from the
    page's pooled links, without a walk over the page), an ``<a rel="next">``, else a link to that page's URL."""
    document = page.document
    marked = [link.get("href") for link in page.by_tag["link"] if link.get("rel") == "next"]
    for href in marked or NEXT_ANCHORS(document):
        candidate = urls.absolute(href, url)
        if candidate:
            return candidate
    wanted = _page_url(url, number + 1)
    for link in ALL_LINKS(document):
        href = link.get("href", "")
        if "page" not in href:
            continue
        candidate = urls.absolute(href, url)
        if candidate and _same_listing_page(candidate, wanted):
            return candidate
    return None


def _page_url(url: str, page: int) -> str:
    parts = urlsplit(url)
    if parts.query and "act=" in parts.query:
        query = parse_qs(parts.query)
        query["page"] = [str(page)]
        return urlunsplit(("", "", parts.path, urlencode(query, doseq=True), ""))
    base = PAGE_IN_PATH.sub("", parts.path).rstrip("/")
    return f"{base}/page/{page}/"


def _same_listing_page(candidate: str, wanted: str) -> bool:
    have, want = urlsplit(candidate), urlsplit(wanted)
    if have.path.rstrip("/") != want.path.rstrip("/"):
        return False
    if not want.query:
        return True
    have_query, want_query = parse_qs(have.query), parse_qs(want.query)
    return all(have_query.get(key) == value for key, value in want_query.items())


def parse_listing(page: Page, url: str) -> dict | None:
    """A section, tag or search page; ``None`` when the page is none of them."""
    document = page.document
    path = urlsplit(url).path
    heading = _listing_heading(document, path)
    body = body_of(document)
    content = document if body is None else body
    blocks: list = []  # the repeated blocks, once looked for
    warnings: list[str] = []
    if _search_results(document) or path.rstrip("/") == "/search":
        kind, section, items = "search", None, search_teasers(page, url)
    elif TAG_HEADING.match(heading) or path.startswith("/thema/"):
        kind, section = "tag", TAG_HEADING.sub("", heading) or None
        items = article_teasers(page, url) or link_teasers(document, url)
        if not section:
            section = _slug_name(path)
            warnings.append("section taken from the URL; the page shows no tag name.")
    elif CARDS(document, page) or (blocks := repeated_cards(content)):
        kind, section, items = "section", heading or None, article_teasers(page, url)
        if not items:
            items = _numbered(parse_card(card, url, page) for card in blocks or repeated_cards(content))
            warnings.append(
                "teasers taken from repeated blocks with article links; the layout's card markup is missing."
            )
        if not section:
            section = _slug_name(path)
            warnings.append("section taken from the URL; the page shows no section heading.")
    else:
        return None
    number = page_number(url)
    return {
        "kind": "listing",
        "listing": kind,
        "url": url,
        "section": section,
        "page": number,
        "teasers": items,
        "next_page": next_page_url(page, url, number),
        "warnings": warnings,
    }


def _listing_heading(document, path: str) -> str:
    """The heading that names the listing: a tag heading with its name, else the one naming the URL's
    section or tag (``Künstliche Intelligenz`` for ``/thema/kuenstliche-intelligenz/``), else the first
    ``<h1>`` that is not the site's brand."""
    headings = [text for element in document.iter(*LISTING_HEADINGS) if (text := text_of(element))]
    slug = _name_key(_slug_of(path))
    for text in headings:
        if TAG_HEADING.match(text) and TAG_HEADING.sub("", text):
            return text
    for text in headings:
        if slug and _name_key(TAG_HEADING.sub("", text)) == slug:
            return text
    return next((text_of(h1) for h1 in H1(document) if text_of(h1) and text_of(h1) not in BRAND_LABELS), "")


def _name_key(name: str) -> str:
    """A name as a URL slug writes it: ``Künstliche Intelligenz`` -> ``kuenstliche-intelligenz``."""
    return "-".join(name.lower().translate(_SLUG_LETTERS).split())


def _slug_of(path: str) -> str:
    parts = [part for part in PAGE_IN_PATH.sub("", path).split("/") if part and part != "thema"]
    return parts[-1] if parts else ""


def _slug_name(path: str) -> str | None:
    slug = _slug_of(path)
    return slug.replace("-", " ").title() if slug else None
