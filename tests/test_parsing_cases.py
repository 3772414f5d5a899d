"""Targeted parser cases built inline: the dwn-site.md sketch, renamed classes, embeds, encodings, headings."""

from __future__ import annotations

import re

import pytest

from dwnscraper.parsing import parse_page
from dwnscraper.parsing.text import Page, css, parse_html, text_of

SITE = "https://deutsche-wirtschafts-nachrichten.de"
FETCHED_AT = "2026-01-21T10:00:00+00:00"

SKETCH = """<html><head>
<link rel="canonical" href="https://deutsche-wirtschafts-nachrichten.de/718460/Slug">
<meta property="og:title" content="Og Titel"><meta name="description" content="Der Lead.">
<meta property="article:published_time" content="2026-01-09T06:15:00+01:00">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Die Schlagzeile",
 "datePublished": "2026-01-09T06:15:00+01:00", "dateModified": "2026-01-09T08:02:00+01:00",
 "articleSection": "Wirtschaft", "author": {"@type": "Organization", "name": "Deutsche Wirtschaftsnachrichten"},
 "isAccessibleForFree": false}</script>
</head><body>
<article class="article" data-id="718460">
  <div class="article-kicker"><a href="/wirtschaft">Wirtschaft</a></div>
  <h1 class="article-title">Die Schlagzeile</h1>
  <p class="article-lead">Der Lead.</p>
  <div class="article-author"><span>Autor</span> <a href="/autor/dwn">Deutsche Wirtschaftsnachrichten</a></div>
  <div class="article-meta">
    <time class="article-date" datetime="2026-01-09T06:15">09.01.2026 06:15</time>
    <span class="article-updated">Aktualisiert: 09.01.2026 08:02</span>
    <span class="article-readtime">Lesezeit: 3 min</span>
  </div>
  <figure class="article-image"><img src="/img/a.jpg" title="Die Schlagzeile" alt="x">
    <figcaption>Caption text. (Foto: dpa/XinHua | Liang Xu) Foto: Liang Xu</figcaption></figure>
  <div class="article-body"> <p>Eins zwei.</p> <h2>Zwischentitel</h2> <blockquote>Zitat „hier“</blockquote>
    <ul><li>Punkt</li></ul>
    <div class="ad">Anzeige Kaufen</div> <div class="newsletter"><p>Newsletter abonnieren</p></div> </div>
  <div class="hardpay"> Im Folgenden: <ul><li>Was?</li><li>Wie?</li><li>Wer?</li></ul> Jetzt abonnieren </div>
</article>
<section class="teaser-list"> <h2>Mehr zum Thema</h2> article:fokus_txt
  <div class="boxtext"><a href="/"><img alt="DWN"></a><a href="/finanzen">Finanzen</a>
    <a href="/718001/x">Finanzen US-Börsen: Netflix</a><div class="pubdate">21.01.2026</div>Netflix gab ...</div>
</section></body></html>"""

EXPECTED_BODY = [
    {"kind": "paragraph", "text": "Eins zwei."},
    {"kind": "heading", "text": "Zwischentitel"},
    {"kind": "quote", "text": "Zitat „hier“"},
    {"kind": "list_item", "text": "Punkt"},
]
EXPECTED_TEASER = {
    "position": 1, "sponsored": False, "section": "Finanzen", "headline": "US-Börsen: Netflix",
    "url": f"{SITE}/718001/x", "published_raw": "21.01.2026", "published_on": "2026-01-21",
    "snippet": "Netflix gab ...",
}


def parse(html: str, url: str = f"{SITE}/718460/Slug", **kwargs) -> dict:
    return parse_page(html.encode(kwargs.pop("encoding", "utf-8")), url, FETCHED_AT, **kwargs)


def renamed(html: str) -> str:
    return re.sub(r'class="[^"]*"', 'class="x9f"', html)


def test_the_sketch_of_dwn_site_md() -> None:
    record = parse(SKETCH, "http://www.deutsche-wirtschafts-nachrichten.de/718460/slug?utm_source=x")
    assert record["canonical_url"] == f"{SITE}/718460/Slug" and record["article_id"] == 718460
    assert (record["layout"], record["section"], record["headline"], record["lead"]) == (
        "current", "Wirtschaft", "Die Schlagzeile", "Der Lead.")
    assert record["authors"] == ["Deutsche Wirtschaftsnachrichten"]
    assert (record["published_at"], record["updated_at"]) == ("2026-01-09T06:15:00+01:00", "2026-01-09T08:02:00+01:00")
    assert record["reading_time_minutes"] == 3
    assert record["image"] == {
        "url": f"{SITE}/img/a.jpg", "caption": "Caption text.", "credit": "dpa/XinHua | Liang Xu"}
    assert record["body"] == EXPECTED_BODY and record["paywalled"] is True and record["word_count"] == 6
    assert record["teasers"] == [EXPECTED_TEASER]
    assert record["warnings"] == []


def test_the_sketch_with_every_class_renamed_keeps_its_fields_and_names_the_fallbacks() -> None:
    record = parse(renamed(SKETCH))
    assert (record["section"], record["headline"], record["published_raw"], record["updated_raw"]) == (
        "Wirtschaft", "Die Schlagzeile", "09.01.2026 06:15", "09.01.2026 08:02")
    assert record["reading_time_minutes"] == 3 and record["paywalled"] is True
    assert record["body"] == EXPECTED_BODY
    assert record["teasers"] == [EXPECTED_TEASER]
    assert record["warnings"] == [
        "section taken from JSON-LD articleSection; the layout's kicker markup is missing.",
        "headline taken from JSON-LD headline; the layout's headline markup is missing.",
        "lead taken from the meta description; the layout's lead markup is missing.",
        "published_at taken from the date line near the headline; the layout's date markup is missing.",
        "updated_at taken from the text cue 'Aktualisiert:'; the layout's update time markup is missing.",
        "reading_time_minutes taken from the text cue 'Lesezeit:'; the layout's reading time markup is missing.",
        "image taken from the first <figure>; the layout's image markup is missing.",
        "body taken from the longest run of paragraphs; the layout's body markup is missing.",
        "teasers taken from the 'Mehr zum Thema' section; the layout's teaser card markup is missing.",
    ]


def test_renamed_classes_without_metadata_still_give_the_visible_fields() -> None:
    html = re.sub(r"<head>.*</head>", "<head></head>", renamed(SKETCH), flags=re.S)
    record = parse(html)
    assert (record["headline"], record["published_at"], record["reading_time_minutes"]) == (
        "Die Schlagzeile", "2026-01-09T06:15:00+01:00", 3)
    assert record["section"] == "Wirtschaft" and record["body"] == EXPECTED_BODY


def test_a_script_inside_a_paragraph_is_no_body_text() -> None:
    html = SKETCH.replace("<p>Eins zwei.</p>", "<p>Eins <script>var x = 1;</script>zwei.<style>p{}</style></p>")
    assert parse(html)["body"][0] == {"kind": "paragraph", "text": "Eins zwei."}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_page_with_a_byte_order_mark_is_text(encoding: str) -> None:
    record = parse(SKETCH.replace("„hier“", "„hier“ – Größe"), encoding=encoding)
    assert record["kind"] == "article" and record["body"][2]["text"] == "Zitat „hier“ – Größe"


LISTING = """<html><body><header><h1><img alt="DWN"> Deutsche Wirtschafts Nachrichten</h1></header>
<main>{heading}
<div class="boxtext"><a href="/"><img alt="DWN"></a><a href="/politik">Politik</a>
<a href="/718001/x">Politik Ein Titel mit Länge</a><div class="pubdate">21.01.2026</div>Ein Text ...</div>
</main></body></html>"""


@pytest.mark.parametrize(("url", "heading", "section"), [
    (f"{SITE}/politik", "<h2>Politik</h2>", "Politik"),
    (f"{SITE}/thema/kuenstliche-intelligenz/", "<h1>Themenseite</h1><h2>Künstliche Intelligenz</h2>",
     "Künstliche Intelligenz"),
    (f"{SITE}/thema/europa/page/2/", "<h1>Alle Artikel zu: Europa</h1>", "Europa"),
])
def test_the_listing_is_named_by_its_heading_not_the_brand(url: str, heading: str, section: str) -> None:
    record = parse(LISTING.format(heading=heading), url)
    assert record["kind"] == "listing" and record["section"] == section and record["warnings"] == []


TAG_BOX = ('<div class="x1">Mehr zum Thema:&nbsp; <a href="/thema/europa/">Europa</a> &gt; '
           '<a href="/thema/china/">China</a> &gt;</div>')
LEGACY_RENAMED = ('<div class="x2"><a href="/weltwirtschaft">Weltwirtschaft</a></div><h1>Die Schlagzeile</h1>'
                  '<div class="x3">Lesezeit: 9 min</div>'
                  '<div class="x4">13.04.2020 10:22&nbsp;&nbsp;Aktualisiert: 13.04.2020 10:22</div>'
                  '<div class="x5"><p>Absatz eins.</p><p>Absatz zwei.</p></div>')


@pytest.mark.parametrize(("body", "topics"), [
    (TAG_BOX + LEGACY_RENAMED, ["Europa", "China"]),
    (f"<nav><a href='/thema/nav/'>Nav</a></nav><main>{LEGACY_RENAMED}{TAG_BOX}</main>", ["Europa", "China"]),
    (f"<header>DWN</header><main><h2>Mehr zum Thema</h2>{LEGACY_RENAMED}</main>"
     "<footer><a href='/thema/x/'>X</a></footer>", []),
])
def test_the_tag_box_of_a_renamed_legacy_page_is_found_wherever_it_stands(body: str, topics: list[str]) -> None:
    record = parse(f"<html><head><title>T</title></head><body>{body}</body></html>", f"{SITE}/524018/Slug")
    assert record["layout"] == "legacy" and record["topics"] == topics


def test_a_selector_compiled_after_import_finds_its_class() -> None:
    selector = css("p.ein-neuer-name")
    page = Page(parse_html(b"<html><body><p class='x ein-neuer-name'>Hallo</p><p class='x'>Nein</p></body></html>"))
    assert [text_of(element) for element in selector(page.document, page)] == ["Hallo"]
