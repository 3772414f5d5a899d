"""The C walks of ``dwnscraper.parsing._walk`` give what the XPath they stand for gives, on every page of the
fixtures (articles, listings, the fixture site) and on hand-made edge cases; its text helpers what their Python
spelling gives, on every character."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from dwnscraper.parsing import LAYOUTS, _walk
from dwnscraper.parsing.article import BODY_RULES, links_before
from dwnscraper.parsing.layouts.current import LAYOUT as CURRENT
from dwnscraper.parsing.text import INVISIBLE, Page, Selector, asked_classes, css, detect_encoding, parse_as, parse_html

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGES = [path for path in sorted(FIXTURES.rglob("*.html")) if parse_html(path.read_bytes()) is not None]
"""Every page with elements (the empty and binary ones of ``fixtures/pages/broken`` have none)."""

STRING = etree.XPath("string()", smart_strings=False)
SHOWN = etree.XPath(".//text()[not(ancestor::script or ancestor::style)]", smart_strings=False)
FOLLOWING = etree.XPath(
    "following::text()[normalize-space()][not(ancestor::script or ancestor::style)]", smart_strings=False
)
CLASS_VALUES = etree.XPath("//@class")
WORDPRESS = etree.XPath("boolean(//@src[contains(., '/wp-content/')])")
PUBDATE = "contains(concat(' ', normalize-space(@class), ' '), ' pubdate ')"
CARD_LINKS = etree.XPath(".//a[@href]")
CARD_DATED = etree.XPath(f"descendant-or-self::*[{PUBDATE}]")
CARD_LOOSE = etree.XPath(
    f".//text()[normalize-space()][not(ancestor::a or ancestor::script or ancestor::style or ancestor::*[{PUBDATE}])]",
    smart_strings=False,
)
CARD_SPONSORED = etree.XPath(
    "boolean(descendant-or-self::*[contains(@class, 'sponsor') or contains(@class, 'anzeige')])"
)


def shown(element) -> str:
    return "" if element.tag in ("script", "style") else "".join(SHOWN(element))


def xpath_index(document) -> tuple[dict, dict]:
    classed, index = {}, {}
    for value in CLASS_VALUES(document):
        names = asked_classes(value)
        if names:
            classed[value.getparent()] = names
            for name in names:
                index.setdefault(name, []).append(value.getparent())
    return classed, index


def xpath_card(card) -> tuple:
    links = [(link.get("href"), python_clean(shown(link))) for link in CARD_LINKS(card)]
    dated = [text for element in CARD_DATED(card) if (text := python_clean(shown(element)))]
    loose = [text for node in CARD_LOOSE(card) if (text := python_clean(node))]
    return links, dated, loose, CARD_SPONSORED(card)


def walk_card(card) -> tuple:
    parts = _walk.CardParts(card)
    return parts.links, parts.dated, parts.loose, parts.sponsored


@pytest.fixture(scope="module", params=PAGES, ids=lambda path: str(path.relative_to(FIXTURES)))
def document(request):
    return parse_html(request.param.read_bytes())


def test_there_are_pages_to_walk():
    assert len(PAGES) >= 100


def test_texts_of_every_element(document):
    for element in document.iter(etree.Element):
        assert _walk.string_value(element) == STRING(element)
        assert _walk.shown_string(element) == shown(element)


def test_texts_after_elements(document):
    """Every tenth element and the headings (``following::`` makes the XPath slow to ask of every element)."""
    elements = list(document.iter(etree.Element))
    for element in elements[::10] + list(document.iter("h1")):
        following = FOLLOWING(element)
        for limit in (1, 60, len(following) + 1):
            assert _walk.texts_after(element, limit) == following[:limit]


def test_normalized_start(document):
    normalized = etree.XPath("normalize-space(string(.))", smart_strings=False)
    for element in list(document.iter(etree.Element))[::3]:
        whole = normalized(element)
        for length in (1, 14, 200):
            assert _walk.normalized_start(element, length) == whole[:length]


def test_links_before(document):
    """The Python walk back from an element that stands for ``preceding::a[normalize-space()]``."""
    preceding = etree.XPath("preceding::a[normalize-space()][position() <= 3]")
    for element in list(document.iter(etree.Element))[::5] + list(document.iter("h1")):
        assert links_before(element, 3) == list(reversed(preceding(element)))


def test_selector_count(document):
    """``Selector.count`` of every layout selector: the number of elements the selector gives."""
    for layout in LAYOUTS:
        for field in dataclasses.fields(layout):
            selector = getattr(layout, field.name)
            if isinstance(selector, Selector):
                assert selector.count(Page(document)) == len(selector(document, Page(document))), selector


def test_page_mentions():
    page = Page(parse_html(b"<html><body><p>Ein Satz</p><script>Geheim</script></body></html>"))
    assert page.mentions("Satz") and not page.mentions("Geheim") and not page.mentions("Lesezeit")


def test_survey(document):
    tags = ("h1", "title", "meta", "link", "script", "style", "figure")
    classed, index, pooled = _walk.survey(document, {}, asked_classes, tags)
    expected_classed, expected_index = xpath_index(document)
    assert list(classed.items()) == list(expected_classed.items())
    assert index == expected_index
    assert pooled == {tag: document.xpath(f"//{tag}") for tag in tags}


def test_attribute_contains(document):
    assert _walk.attribute_contains(document, "src", "/wp-content/") == WORDPRESS(document)


MENTIONED = [("Im Folgenden:", "Lesen Sie in diesem Artikel:"), ("Aktualisiert", "aktualisiert"), ("Autor",),
             ("Lesezeit",), ("Benachrichtigung über neue Artikel",), ("function",), ("Mehr zum",)]


@pytest.mark.parametrize("phrases", MENTIONED, ids=lambda phrases: phrases[0])
def test_shown_texts(document, phrases):
    texts = _walk.ShownTexts(document)
    for phrase in phrases:
        alone = etree.XPath(f"boolean(//text()[contains(., '{phrase}')][not(ancestor::script or ancestor::style)])")
        assert texts.holds(phrase) == alone(document)


def test_holding_words(document):
    more_on_topic = re.compile(r"Mehr\s+zum\s+Thema")
    expected = [child for section in document if isinstance(section.tag, str) for child in section
                if isinstance(child.tag, str) and child.tag not in ("script", "style")
                and more_on_topic.search(STRING(child))]
    assert _walk.holding_words(document, ("Mehr", "zum", "Thema")) == expected


@pytest.mark.parametrize("blank", [" ", "  ", "\n\t", "\u00a0", "\u2009", "\u3000"])
def test_holding_words_between_any_whitespace(blank):
    document = parse_html(f"<html><body><div>x Mehr{blank}zum <b>Thema</b></div><p>Mehr zum</p></body></html>".encode())
    assert [element.tag for element in _walk.holding_words(document, ("Mehr", "zum", "Thema"))] == ["div"]


def test_card_parts_of_every_element(document):
    for element in document.iter(etree.Element):
        assert walk_card(element) == xpath_card(element)


EDGES = """<html><head><style>.pubdate{}</style></head><body>
<div class="teaser sponsored-box"><a href>  </a><a>no href</a><a href="/1/x">Titel <script>var s;</script>eins</a>
  <div class="a&#9;pubdate&#10;b">13.05.2026<span>12:00</span></div>Anzeige<p>Snippet <b>fett</b> Ende</p>
  <div class="pubdatex">keine Zeit</div></div>
<a href="/2/y"><div class="card">Im Link <span class="pubdate">gestern</span></div></a>
<h1>Kopf</h1>\t\r\n<p>\u00a0</p><script>x</script><p>nach</p>
</body></html>"""


@pytest.mark.parametrize("path", ["//div[@class='teaser sponsored-box']", "//div[@class='card']", "//body"])
def test_card_parts_edges(path):
    card = parse_html(EDGES.encode())
    element = card.xpath(path)[0]
    assert walk_card(element) == xpath_card(element)


def test_texts_after_edges():
    document = parse_html(EDGES.encode())
    h1 = document.find(".//h1")
    assert _walk.texts_after(h1, 5) == ["\u00a0", "nach"]  # a no-break space is no XPath blank
    assert _walk.texts_after(document.xpath("//p")[-1], 5) == []


def test_elements_made_in_python():
    """A tree built through lxml's API, whose text nodes the parser never split, is walked the same."""
    root = etree.Element("div", {"class": "boxtext"})
    link = etree.SubElement(root, "a", href="/3/z")
    link.text = "Überschrift mit „Anführung“"
    link.tail = " danach"
    assert walk_card(root) == ([("/3/z", "Überschrift mit „Anführung“")], [], ["danach"], False)
    assert _walk.string_value(root) == "Überschrift mit „Anführung“ danach"


MARKERS = re.compile(r"article:(?:fokus_txt|full_access)")
INVISIBLE_CHARACTERS = re.compile(f"[{INVISIBLE}]")
WORDLESS = re.compile(r" (?:[^\w ]|_)+(?= )")


def python_clean(text: str | None) -> str:
    """What :func:`_walk.clean` stands for, spelled with Python's string methods and regexes."""
    text = INVISIBLE_CHARACTERS.sub("", MARKERS.sub(" ", text or ""))
    return " ".join(text.split())


def python_word_count(texts: list[str]) -> int:
    """What :func:`_walk.word_count` stands for: the tokens of the cleaned texts less those without ``\\w`` but
    ``_``."""
    text = " ".join(texts)
    return text.count(" ") + 1 - len(WORDLESS.findall(f" {text} ")) if text else 0


def test_clean_and_word_count_on_every_character():
    """Each code point alone, between letters, among blanks and after a marker: whitespace as ``str.split()``
    takes it, invisible characters, and letters and digits as ``\\w`` takes them."""
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        for text in (char, f"a{char}b", f" {char} x{char}{char}", f"article:fokus_txt{char}"):
            assert _walk.clean(text) == python_clean(text), hex(point)
        texts = [text for text in (python_clean(f"x {char} y"), python_clean(char)) if text]
        assert _walk.word_count(texts) == python_word_count(texts), hex(point)


@given(st.lists(st.sampled_from([
    " ", "\t", "\n", "\xa0", "\u00ad", "\u200b", "\u3000", "a", "_", "–", ".", "é", "€", "𝔘",
    "article:fokus_txt", "article:full_access", "article:", "artic",
]), max_size=14))
def test_clean_and_word_count_on_mixed_texts(pieces):
    text = "".join(pieces)
    assert _walk.clean(text) == python_clean(text)
    texts = [python_clean(text)] if python_clean(text) else []
    assert _walk.word_count(texts) == python_word_count(texts)


def test_clean_of_none_and_of_str_subclasses():
    assert _walk.clean(None) == "" and _walk.clean("") == ""
    smart = etree.fromstring("<p>  Ein\u00a0 Text </p>").xpath("//text()")[0]
    assert type(_walk.clean(smart)) is str and _walk.clean(smart) == "Ein Text"


class PythonBodyWalker:
    """What :class:`_walk.BodyWalk` stands for, spelled with lxml's Python API."""

    def __init__(self, skip: set):
        self.skip = skip
        self.blocks: list[tuple[str, str]] = []
        self.hit_paywall = False

    def walk(self, container) -> None:
        run = [container.text or ""]
        for child in container:
            if self.hit_paywall:
                return
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag in BODY_RULES.inline and child not in self.skip:
                run.append(self._inline_text(child, tag))
                run.append(child.tail or "")
                continue
            self._flush(run)
            run = [child.tail or ""]
            if not tag or tag in BODY_RULES.never or tag.startswith("amp-") or child in self.skip:
                continue
            text = python_clean(shown(child))
            if self._is_box(child, text):
                continue
            if tag == "p":
                self._add("paragraph", text)
            elif tag in BODY_RULES.headings:
                self._add("heading", text)
            elif tag == "li":
                self._add("list_item", text)
            elif tag == "blockquote":
                for part in [p for p in child if p.tag == "p"] or [child]:
                    self._add("quote", python_clean(shown(part)))
            else:
                self.walk(child)
        self._flush(run)

    def _inline_text(self, element, tag: str) -> str:
        if tag != "br":
            return shown(element)
        following = element.getnext()
        next_is_br = following is not None and following.tag == "br" and not (element.tail or "").strip()
        return "\n\n" if next_is_br else " "

    def _is_box(self, element, text: str) -> bool:
        if text.startswith(BODY_RULES.paywall_cues):
            self.hit_paywall = True
            return True
        return element.tag in {"div", "section", "span"} and (
            text.startswith(BODY_RULES.box_starts) or bool(element.xpath(".//input | .//form"))
        )

    def _flush(self, run: list[str]) -> None:
        for paragraph in "".join(run).split("\n\n"):
            self._add("paragraph", python_clean(paragraph))

    def _add(self, kind: str, text: str) -> None:
        if text:
            self.blocks.append((kind, text))


def test_body_walk_of_every_element(document):
    """Every element taken for a body container, with the current layout's boxes (``not_body``) skipped: the C walk
    tests each child for the selector's tags and classes, the Python spelling looks it up among the matches."""
    page = Page(document)
    for element in document.iter(etree.Element):
        skip = set(CURRENT.not_body(element, page))
        walk = _walk.BodyWalk(element, CURRENT.not_body_test, BODY_RULES)
        expected = PythonBodyWalker(skip)
        expected.walk(element)
        assert (walk.blocks, walk.hit_paywall) == (expected.blocks, expected.hit_paywall)


@pytest.mark.parametrize("html", [
    "<div>Eins<br>zwei<br><br>drei <b>fett</b> vier<p>Absatz</p>Ende<br> <br>Schluss</div>",
    "<div><p>Vorher</p><div>Im Folgenden: Bezahlt</div><p>Danach</p></div>",
    "<div><div>Newsletter <input></div><section><form></form>Formular</section><blockquote>Zitat</blockquote>"
    "<blockquote><p>Eins</p><p>Zwei</p></blockquote><amp-ad>Werbung</amp-ad><ul><li>Punkt</li></ul></div>",
    "<div><?pi x?>Text<span>inline <script>x()</script>mehr</span>\u00a0<h2>Titel</h2></div>",
])
def test_body_walk_edges(html):
    container = parse_html(f"<html><body>{html}</body></html>".encode()).find(".//body/*")
    walk = _walk.BodyWalk(container, _walk.TagsAndClasses([]), BODY_RULES)
    expected = PythonBodyWalker(set())
    expected.walk(container)
    assert (walk.blocks, walk.hit_paywall) == (expected.blocks, expected.hit_paywall)
    assert walk.blocks


def test_body_walk_skips_tags_and_classes():
    selector = css("div.ad.box, .x, figure")
    document = parse_html(
        b"<html><body><div><p>Eins</p><div class='box ad'>Werbung</div><div class='ad'><p>Zwei</p></div>"
        b"<figure>Bild</figure><span class='y x'>weg</span><b class='x'>fett weg</b> Ende</div></body></html>"
    )
    container = document.find(".//body/div")
    walk = _walk.BodyWalk(container, _walk.TagsAndClasses(selector.compounds), BODY_RULES)
    expected = PythonBodyWalker(set(selector(container, Page(document))))
    expected.walk(container)
    assert walk.blocks == expected.blocks == [("paragraph", "Eins"), ("paragraph", "Zwei"), ("paragraph", "Ende")]


LEADS = range(0x80, 0x100)
SECOND_BYTES = (0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF)
PLACES = [
    b"<html><body><p>x%sy</p></body></html>", b'<html><body><p title="a%sb">t</p></body></html>',
    b"<html><body><!-- c%sd --><p>t</p></body></html>", b"<html><head><script>a='%s'</script></head></html>",
    b"<html><head><style>a{content:'%s'}</style></head></html>", b"<html><body><textarea>%s</textarea></body></html>",
]


def test_libxml2_reports_invalid_utf8_where_python_does():
    """What ``parse_html`` relies on to parse UTF-8 without checking it first: libxml2 reports invalid bytes
    (``ERR_INVALID_ENCODING``) in a page exactly when Python's decoder refuses it, in text, attributes, comments,
    scripts, styles and text areas, for every lead byte and the second bytes that decide."""
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, collect_ids=False)
    for place in PLACES:
        for lead in LEADS:
            for second in SECOND_BYTES:
                for rest in (b"", b"\x80", b"\x80\x80", b"\xbf\xbf"):
                    page = place.replace(b"%s", bytes([lead, second]) + rest)
                    etree.fromstring(page, parser)
                    reported = any(error.type_name == "ERR_INVALID_ENCODING" for error in parser.error_log)
                    assert reported == (not python_utf8(page)), page


def python_utf8(page: bytes) -> bool:
    try:
        page.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("change", ["as it is", "latin-1 byte", "cut inside a character", "bad byte at the end"])
def test_parse_html_reads_every_page_as_when_it_checked_first(change):
    for path in PAGES[::3]:
        body = path.read_bytes()
        if change == "latin-1 byte":
            body = body.replace(b"</title>", b"\xfc</title>", 1)
        elif change == "cut inside a character":
            body = body[:body.rfind("ü".encode()) + 1]
        elif change == "bad byte at the end":
            body += b"\xff"
        expected = parse_as(body, detect_encoding(body))  # the encoding decided first, as parse_html did before
        assert (parse_html(body) is None) == (expected is None), path
        if expected is not None:
            assert etree.tostring(parse_html(body)) == etree.tostring(expected), path
