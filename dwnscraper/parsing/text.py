"""Text helpers shared by the parsers: bytes to a tree, whitespace and template markers."""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Set
from datetime import datetime
from functools import cache, cached_property

from cssselect import HTMLTranslator
from cssselect import parser as css_parser
from lxml import etree
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from dwnscraper.parsing import dates, urls
from dwnscraper.parsing._walk import (
    ShownTexts,
    clean,
    holding_words,
    shown_string,
    string_value,
    survey,
    texts_after,
)

INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
"""Soft hyphen, zero-width space, non-joiner and joiner, word joiner, byte order mark: they show nothing and are
removed from every text by :func:`clean`, the one text helper every field goes through."""
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
"""The control bytes text never holds (tab, line feeds, form feed and escape it may)."""
_NOT_CONTROL = bytes(sorted(set(range(256)) - set(_CONTROL_BYTES)))
BINARY_SAMPLE = 4096
"""How many leading bytes :func:`looks_binary` reads."""
XPATH_BLANKS = " \t\r\n"
"""The characters XPath's ``normalize-space()`` takes for blanks (``str.strip()`` takes more)."""
PAGE_CHROME = frozenset({"nav", "header", "footer", "aside"})
"""Elements around the content, which hold neither article text nor teaser cards."""
POOLED_TAGS = ("h1", "title", "meta", "link", "script", "style")
"""The tags a page is read for by name alone: its headings and title, its metadata, its code."""
MAX_CUES = 60
"""How many text fragments after the headline are read for cues."""
_ASKED: set[str] = set()
"""Every class name a compiled :class:`Selector` may ask a page about: a page's index holds only these."""
_ASKED_IN: dict[str, frozenset[str]] = {}
""":func:`asked_classes` of the class attribute values seen, emptied when it holds :data:`MAX_CLASS_VALUES`."""
MAX_CLASS_VALUES = 4096
_NO_CLASSES: frozenset[str] = frozenset()
_UNKNOWN = object()
Compound = tuple[str | None, frozenset[str]]
"""A CSS compound selector as a tag (``None``: any) and the class names it requires."""
_TRANSLATOR = HTMLTranslator()
_CLASS_NAME = re.compile(r"[^ \t\n\r]+")
"""A class name as XPath's ``normalize-space(@class)`` delimits it: only these four characters split."""


class Page:
    """One parsed document and what its selectors consult more than once: its classes, its text."""

    def __init__(self, document, fetched_at: datetime | None = None):
        self.document = document
        self.fetched_at = fetched_at
        """When the page was fetched: what its relative dates (``vor 3 Stunden``) count back from."""
        self.selected: dict = {}
        """Each :class:`Selector`'s answer, by ``(selector, context element)``, and other answers about an element
        asked again, by ``(the function asking, element)``."""
        self._strings: dict = {}
        self._texts: dict = {}
        self._absolute: dict[str, tuple[str | None, dict]] = {}
        """For each base URL, its origin and the links resolved against it."""
        self._days: dict[str, str | None] = {}
        self._phrases: dict[str, bool] = {}
        self._after: list[str] | None = None
        self._cues: list[str] | None = None
        self._classed, self.by_class, self.by_tag = survey(document, _ASKED_IN, asked_classes, POOLED_TAGS)
        """From one walk over the page in C (:func:`_walk.survey`): every element wearing a class name selectors ask
        for, in document order, with those names; the elements wearing each such name; the page's elements of each
        of :data:`POOLED_TAGS`. A page wears some 600 class attributes, of which a dozen or two hold a name
        selectors ask for: the rest (menus, footer, consent dialog) cost one lookup each."""
        self.classes: frozenset[str] = frozenset(self.by_class)
        """The class names selectors ask for that the page wears."""

    @property
    def headings(self) -> list:
        """The page's ``<h1>`` elements, in document order."""
        return self.by_tag["h1"]

    @property
    def headline(self):
        """The first ``<h1>``, ``None`` when the page has none."""
        return self.headings[0] if self.headings else None

    @property
    def shown_after(self) -> list[str]:
        """The visible text nodes after the first ``<h1>`` (:func:`texts_after`), as they stand.

        Read once a page: both the layout guess of a drifted page and the article's fallbacks consult them.
        """
        if self._after is None:
            self._after = texts_after(self.headline, MAX_CUES) if self.headline is not None else []
        return self._after

    @property
    def cues(self) -> list[str]:
        """The cleaned :attr:`shown_after`, where kicker, dates and reading time stand."""
        if self._cues is None:
            self._cues = [clean(text) for text in self.shown_after]
        return self._cues

    def first_cues(self, count: int) -> list[str]:
        """The first ``count`` of :attr:`cues`, without reading all of them when they were not read yet."""
        if self._after is not None or self.headline is None:
            return self.cues[:count]
        return [clean(text) for text in texts_after(self.headline, count)]

    def string(self, element) -> str:
        """The element's text (its text nodes but those of scripts and styles inside it), once per element."""
        string = self._strings.get(element)  # one lookup where the answer is known: most calls
        if string is None:
            string = self._strings[element] = shown_string(element)
        return string

    def absolute(self, href: str | None, base: str) -> str | None:
        """:func:`urls.absolute`, computed once per link target: teaser cards repeat theirs."""
        known = self._absolute.get(base)
        if known is None:
            known = self._absolute[base] = (urls.origin(base), {})
        origin, resolved = known
        found = resolved.get(href, _UNKNOWN)
        if found is _UNKNOWN:
            found = resolved[href] = urls.absolute(href, base, origin)
        return found

    def day_of(self, text: str) -> str | None:
        """The day (ISO) of the date ``text`` is as a whole, else the first date in it; ``None`` without one. Once
        per text: the cards of a page print the same few dates."""
        day = self._days.get(text, _UNKNOWN)
        if day is _UNKNOWN:
            found = (dates.read_date(text, self.fetched_at) or dates.find_date(text, self.fetched_at)) if text else None
            day = self._days[text] = found.moment.date().isoformat() if found else None
        return day

    def text_of(self, element) -> str:
        """:func:`text_of`, computed once per element."""
        text = self._texts.get(element)
        if text is None:
            text = self._texts[element] = clean(self.string(element))
        return text

    def having(self, compounds: Iterable[tuple[str | None, frozenset[str]]]) -> list:
        """The elements matching any ``(tag, class names)`` pair (tag ``None``: any), in document order."""
        matches = [self._wearing(tag, names) for tag, names in compounds]
        if len(matches) == 1:
            return matches[0]
        found = set().union(*matches)
        return [element for element in self._classed if element in found]

    def below(self, pairs: Iterable[tuple[Compound | None, Compound]]) -> list:
        """The elements matching any ``(ancestor, subject)`` pair of ``(tag, class names)``, in document order.

        A subject matches anywhere when its ancestor is ``None``, else only below an element matching that.
        """
        found = set()
        for ancestor, subject in pairs:
            for element in self._wearing(*subject):
                if ancestor is None or any(self._is(above, *ancestor) for above in element.iterancestors()):
                    found.add(element)
        return [element for element in self._classed if element in found]

    def _is(self, element, tag: str | None, names: frozenset[str]) -> bool:
        return (tag is None or element.tag == tag) and names <= self._classed.get(element, _NO_CLASSES)

    def walk(self, context, compounds: list[tuple[str | None, frozenset[str]]]) -> list:
        """The elements from ``context`` down matching any ``(tag, class names)`` pair, in document order."""
        tags = {tag for tag, names in compounds if not names}
        classed = [(tag, names) for tag, names in compounds if names]
        if not classed:  # tags alone: lxml's iterator filters them in C
            return list(context.iter(*tags))
        found = []
        for element in context.iter(etree.Element):
            if element.tag in tags:
                found.append(element)
                continue
            worn = self._classed.get(element)
            if worn and any((tag is None or element.tag == tag) and names <= worn for tag, names in classed):
                found.append(element)
        return found

    def nested(self, elements: list) -> bool:
        """True when one of ``elements`` lies inside another."""
        if len(elements) < 2:
            return False
        members = set(elements)
        return any(ancestor in members for element in elements for ancestor in element.iterancestors())

    def _wearing(self, tag: str | None, names: frozenset[str]) -> list:
        if tag is None and len(names) == 1:  # every element indexed under the name wears it
            return list(self.by_class.get(next(iter(names)), ()))
        return [
            element for element in self.by_class.get(next(iter(names)), ())
            if (tag is None or element.tag == tag) and names <= self._classed[element]
        ]

    def scopes(self, words: tuple[str, ...], outer: Callable) -> list:
        """The subtrees that hold every element whose string value holds ``words`` (:func:`_walk.holding_words`),
        in document order; none when no element's does: a search for such elements need look below these only.

        They are the elements below the root's children whose own string value holds them. The root and its
        children, whose text stands in several pieces, are asked ``outer(element)`` instead: it must be true for
        each of them that may be what the search looks for, and makes the whole document the scope.
        """
        if any(outer(element) for element in (self.document, *self.document) if isinstance(element.tag, str)):
            return [self.document]
        return holding_words(self.document, words)

    @cached_property
    def _shown_texts(self) -> ShownTexts:
        """The page's text nodes outside scripts and styles, gathered once for :meth:`mentions`."""
        return ShownTexts(self.document)

    def mentions(self, *phrases: str) -> bool:
        """Whether a text node outside scripts and styles holds one of ``phrases``, each looked for once a page."""
        for phrase in phrases:
            held = self._phrases.get(phrase)
            if held is None:
                held = self._phrases[phrase] = self._shown_texts.holds(phrase)
            if held:
                return True
        return False

    def mentions_outside_scripts(self, phrase: str) -> bool:
        """Whether a text node outside scripts holds ``phrase`` (a style's may): a style holds nothing but text."""
        return self.mentions(phrase) or any(phrase in (style.text or "") for style in self.by_tag["style"])


class Selector:
    """A CSS selector compiled once, evaluated on a :class:`Page` with as little XPath as it can.

    Nothing is evaluated when the page lacks a class every branch needs. On the whole page, ``tag.class``
    branches are answered from the page's class index, and branches that all start with the same
    ``tag.class`` ancestor (``.head h1``) run only their rest as XPath below that ancestor's elements.
    Below an element, branches made of a tag or ``tag.class`` alone are a walk over its subtree.
    Each page remembers the answers, since layouts ask some selectors twice.
    """

    def __init__(self, css: str):
        self.css = css
        self._xpath = etree.XPath(_TRANSLATOR.css_to_xpath(css))
        branches = [branch.parsed_tree for branch in css_parser.parse(css)]
        self._needs = tuple(frozenset(_required_classes(branch)) for branch in branches)
        _ask_for(frozenset().union(*self._needs))
        compounds = [_tag_and_classes(branch) for branch in branches]
        self._compounds = compounds if all(compounds) else None
        self._simple = [_simple(branch) for branch in branches]
        self._below = _below_one_ancestor(branches)
        pairs = [_ancestor_and_subject(branch) for branch in branches]
        self._pairs = pairs if all(pairs) else None

    def __call__(self, context, page: Page) -> list:
        """The matches below ``context``, an element of ``page``, in document order."""
        key = (self, context)
        found = page.selected.get(key)
        if found is None:
            found = page.selected[key] = self._evaluate(context, page) if self._possible(page) else []
        return found

    def _possible(self, page: Page) -> bool:
        """Whether the page wears all the class names of one branch at least: else the selector matches nothing."""
        classes = page.classes
        return any(needed <= classes for needed in self._needs)

    @property
    def compounds(self) -> list[tuple[str | None, frozenset[str]]] | None:
        """The branches as ``(tag, class names)`` pairs (tag ``None``: any) when each is a tag, classes or both
        (``figure``, ``.ad``, ``div.box``); ``None`` for a selector with any other branch."""
        return list(self._simple) if all(self._simple) else None

    def count(self, page: Page) -> int:
        """How many elements of the whole page the selector matches, without putting them in document order."""
        if self._compounds is None or (self, page.document) in page.selected:
            return len(self(page.document, page))
        if not self._possible(page):
            return 0
        return len(set().union(*(page._wearing(tag, names) for tag, names in self._compounds)))

    def _evaluate(self, context, page: Page) -> list:
        if context is not page.document:
            return page.walk(context, self._simple) if all(self._simple) else self._xpath(context)
        if self._compounds is not None:
            return page.having(self._compounds)
        if self._below is not None:
            ancestor, rest = self._below
            anchors = page.having([ancestor])
            if not page.nested(anchors):
                return [match for anchor in anchors for match in rest(anchor)]
        if self._pairs is not None:
            return page.below(self._pairs)
        return self._xpath(context)

    def __repr__(self) -> str:
        return f"Selector({self.css!r})"


def _required_classes(tree) -> set[str]:
    """The class names a parsed CSS branch cannot match without (not those under ``:not()``)."""
    if isinstance(tree, css_parser.CombinedSelector):
        return _required_classes(tree.selector) | _required_classes(tree.subselector)
    own = {tree.class_name} if isinstance(tree, css_parser.Class) else set()
    inner = getattr(tree, "selector", None)
    return own | (_required_classes(inner) if inner is not None else set())


def _tag_and_classes(tree) -> tuple[str | None, frozenset[str]] | None:
    """``(tag, class names)`` for a branch like ``h1.a.b`` or ``.a``; ``None`` for anything else."""
    names = set()
    while isinstance(tree, css_parser.Class):
        names.add(tree.class_name)
        tree = tree.selector
    if not names or type(tree) is not css_parser.Element or tree.namespace is not None:
        return None
    return (None if tree.element in (None, "*") else tree.element), frozenset(names)


def _ancestor_and_subject(tree):
    """``(None, subject)`` for a branch like ``time.a``, ``(ancestor, subject)`` for one like ``.meta .a``: each a
    ``(tag, class names)`` pair; ``None`` for anything else."""
    subject = _tag_and_classes(tree)
    if subject is not None:
        return None, subject
    if not isinstance(tree, css_parser.CombinedSelector) or tree.combinator != " ":
        return None
    ancestor, subject = _tag_and_classes(tree.selector), _tag_and_classes(tree.subselector)
    return (ancestor, subject) if ancestor and subject else None


def _simple(tree) -> tuple[str | None, frozenset[str]] | None:
    """``(tag, class names)`` for a branch like ``figure`` or ``h1.a``; ``None`` for anything else."""
    if type(tree) is css_parser.Element and tree.namespace is None and tree.element not in (None, "*"):
        return tree.element, frozenset()
    return _tag_and_classes(tree)


def _below_one_ancestor(branches: list) -> tuple[tuple[str | None, frozenset[str]], etree.XPath] | None:
    """For branches like ``.head a, .head .name``: the shared ancestor ``tag.class`` and an XPath for the rests."""
    split = [_split_leftmost(branch) for branch in branches]
    if not all(split) or len({ancestor for ancestor, _ in split}) != 1:
        return None
    rests = " | ".join("descendant::" + str(_TRANSLATOR.xpath(rest)) for _, rest in split)
    return split[0][0], etree.XPath(rests)


def _split_leftmost(tree):
    """``(tag and classes of the leftmost compound, the rest)`` when it is followed by a descendant combinator."""
    if not isinstance(tree, css_parser.CombinedSelector):
        return None
    if isinstance(tree.selector, css_parser.CombinedSelector):
        inner = _split_leftmost(tree.selector)
        if inner is None:
            return None
        ancestor, rest = inner
        return ancestor, css_parser.CombinedSelector(rest, tree.combinator, tree.subselector)
    ancestor = _tag_and_classes(tree.selector)
    if ancestor is None or tree.combinator != " ":
        return None
    return ancestor, tree.subselector


def _ask_for(names: Set[str]) -> None:
    """Add class names to those the page indexes hold (a selector matches only elements wearing its own)."""
    if not names <= _ASKED:
        _ASKED.update(names)
        _ASKED_IN.clear()


def asked_classes(value: str) -> frozenset[str]:
    """The class names in a class attribute that selectors ask for; remembered across pages (in
    :data:`_ASKED_IN`), whose templates repeat their classes."""
    if len(_ASKED_IN) >= MAX_CLASS_VALUES:
        _ASKED_IN.clear()
    value = str(value)  # a plain str: no entry keeps a tree alive
    names = _ASKED_IN[value] = frozenset(_CLASS_NAME.findall(value)) & _ASKED
    return names


def css(selector: str) -> Selector:
    """Compile a CSS selector once, to be evaluated relative to any element of a :class:`Page`."""
    return Selector(selector)


def text_of(element) -> str:
    """The element's visible text, cleaned."""
    return clean(string_value(element))


def blank(text: str | None) -> bool:
    """Whether XPath's ``normalize-space()`` leaves nothing of ``text``."""
    return not text or not text.strip(XPATH_BLANKS)


def first_text(matches: Iterable) -> str:
    """The cleaned text of the first non-empty match (element or string)."""
    for match in matches:
        text = clean(match) if isinstance(match, str) else text_of(match)
        if text:
            return text
    return ""


def holders_of(links: Iterable, top=None) -> dict:
    """The ancestors of ``links`` (given in document order), up to and with ``top`` when given, in document order
    as a dict's keys.

    Climbing from each link stops at the first ancestor met before: the ones above it are in already, and those
    first met for a later link come after them in document order.
    """
    holders: dict = {}
    for link in links:
        unseen = []
        for ancestor in link.iterancestors():
            if ancestor in holders:
                break
            unseen.append(ancestor)
            if ancestor is top:
                break
        holders.update(dict.fromkeys(reversed(unseen)))
    return holders


def in_page_chrome(element) -> bool:
    """Whether ``element`` is or lies in a ``nav``, ``header``, ``footer`` or ``aside``."""
    return element.tag in PAGE_CHROME or any(ancestor.tag in PAGE_CHROME for ancestor in element.iterancestors())


def looks_binary(body: bytes) -> bool:
    """True for bodies that are no text at all (images, archives, random bytes)."""
    if read_bom(body)[0]:
        return False
    sample = body[:BINARY_SAMPLE]
    return b"\x00" in sample or len(sample.translate(None, _NOT_CONTROL)) > len(sample) // 100


_MAGIC = ((b"\xff\xd8\xff", "a JPEG image"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
          (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "gzip data"),
          (b"RIFF", "a RIFF file"))


def binary_kind(body: bytes) -> str:
    """What a binary body is, by its magic number, for error messages."""
    return next((name for magic, name in _MAGIC if body.startswith(magic)), "not text")


def truncated(body: bytes) -> bool:
    """True when an HTML page stops before its closing ``</html>`` tag (in its last 4 KB, in any case): the download
    was cut off."""
    start = max(0, len(body) - TAIL)
    if body.find(b"</html", start) >= 0 or body.find(b"</HTML", start) >= 0:  # read in place, no copy
        return False
    return b"</html" not in body[start:].lower()


TAIL = 4096
"""How many bytes at the end of a page :func:`truncated` looks at."""


def detect_encoding(body: bytes, headers: Mapping[str, str] | None = None) -> str:
    """The encoding the bytes are really in.

    A byte order mark wins; bytes that are valid UTF-8 are UTF-8 whatever is declared (German text in
    windows-1252 is never valid UTF-8); otherwise the first declared encoding that is not UTF-8, from
    the page's ``<meta charset>`` or the HTTP header, else windows-1252.
    """
    bom, _ = read_bom(body)
    if bom:
        return bom
    return "utf-8" if _is_utf8(body) else _declared_encoding(body, headers)


def _declared_encoding(body: bytes, headers: Mapping[str, str] | None) -> str:
    """The encoding of bytes that are not UTF-8: the first one declared that is not UTF-8, from the page's
    ``<meta charset>`` or the HTTP header, else windows-1252."""
    declared = [
        html_body_declared_encoding(body[:4096]),
        http_content_type_encoding(_content_type(headers)),
    ]
    for name in declared:
        encoding = resolve_encoding(name) if name else None
        if encoding and encoding != "utf-8":
            return encoding
    return "cp1252"


def _is_utf8(body: bytes) -> bool:
    """Whether the bytes are UTF-8, a page cut inside a multi-byte sequence included.

    Decoded in pieces of :data:`UTF8_PIECE` bytes, never as one string: a string of a whole page is too large
    for the allocator's pool, and takes fresh memory from the system (page faults) every page, five times the
    time of the decoding itself. The decoder keeps a sequence split between pieces, and is never told the input
    ended, so an incomplete sequence at the end is no error.
    """
    decoder = _UTF8()
    view = memoryview(body)
    try:
        for start in range(0, len(body), UTF8_PIECE):
            decoder.decode(view[start:start + UTF8_PIECE])
    except UnicodeDecodeError:
        return False
    return True


UTF8_PIECE = 16384
_UTF8 = codecs.getincrementaldecoder("utf-8")
_INVALID_ENCODING = etree.ErrorTypes.ERR_INVALID_ENCODING


def _content_type(headers: Mapping[str, str] | None) -> str | None:
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return None


@cache
def _parser(encoding: str) -> etree.HTMLParser:
    """lxml's plain HTML parser: the tree of ``lxml.html``'s, without its Python class lookup for each element.

    No parser keeps a table of ``id`` attributes: nothing looks elements up by ``id()``.
    """
    return etree.HTMLParser(encoding=encoding, remove_comments=True, collect_ids=False)


def parse_html(body: bytes, headers: Mapping[str, str] | None = None):
    """Bytes as fetched to an lxml document, decoded by :func:`detect_encoding`; ``None`` without elements.

    Bytes without a byte order mark whose first piece is UTF-8 are parsed as UTF-8 at once, and checked only when
    libxml2 reports invalid bytes: it reports them exactly where Python's decoder refuses some (``test_walk``
    holds it to that), and a page cut off inside a character is still UTF-8. Any other page is parsed again in
    its encoding.
    """
    bom, _ = read_bom(body)
    if bom:
        return parse_as(body, bom)
    if _is_utf8(memoryview(body)[:UTF8_PIECE]):
        parser = _parser("utf-8")
        document = etree.fromstring(body, parser=parser)
        if not any(error.type == _INVALID_ENCODING for error in parser.error_log) or _is_utf8(body):
            return document
    return parse_as(body, _declared_encoding(body, headers))  # the bytes were found not to be UTF-8 already


def parse_as(body: bytes, encoding: str):
    """Bytes to an lxml document, decoded as ``encoding``; ``None`` without elements."""
    if encoding == "cp1252":
        # Python decodes windows-1252 faster than libxml2 and to the same text, but for the five bytes the
        # encoding leaves undefined: Python refuses those, and libxml2 reads them its own way. The text goes to
        # lxml as it is, a tenth faster than encoded to UTF-8 bytes first (one large copy fewer), unless it
        # declares an encoding (``<?xml … encoding=…?>``), which lxml refuses in a str.
        with contextlib.suppress(UnicodeDecodeError):
            text = body.decode(encoding)
            with contextlib.suppress(ValueError):
                return etree.fromstring(text, parser=_parser("utf-8"))
            body, encoding = text.encode("utf-8"), "utf-8"
    elif encoding != "utf-8":
        body, encoding = body.decode(encoding, errors="replace").encode("utf-8"), "utf-8"
    return etree.fromstring(body, parser=_parser(encoding))


def body_of(document):
    """The document's ``<body>`` element, ``None`` when it has none.

    The parser puts it below the root, where ``find()`` takes it at once: ``next(iter("body"))`` would walk the
    whole page, since lxml's iterator looks ahead for a next match.
    """
    body = document.find("body")
    return body if body is not None else next(document.getroottree().iter("body"), None)
