"""Hostile pages at scale through the parsers and the real storage pipelines.

Hypothesis mutates the saved pages of ``fixtures/pages`` (tags deleted, nested, left open; bytes cut,
flipped and spliced in; other encodings and lying charsets; giant attributes; deep nesting; bad
character references) and adds pages of pure noise. Each example is one or two crawl runs: the
pages become items as the spiders make them (``DwnSpider.fetched`` on a response,
``DwnSpider.fetch_failed`` on a failure) and go through the project's four item pipelines, with
a real ``Archive`` on a fresh SQLite file. After each run the database must hold every page and its
outcome (article, listing or an error row) completely: nothing half-written, counts consistent,
``PRAGMA integrity_check`` ok. No exception may escape a pipeline, and the parser may not fail
inside (it would turn its own exception into a "The parser failed" error).

CI runs a moderate number of pages; ``pytest tests/test_hostile_input.py --fuzz-examples 10000``
runs the figure quoted in README.md.
"""

from __future__ import annotations

import inspect
import json
import re
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.utils.test import get_crawler
from twisted.internet.error import TCPTimedOutError
from twisted.python.failure import Failure

from dwnscraper import LIVE_SITE
from dwnscraper.fixtures import iter_fixtures
from dwnscraper.items import FetchedPage, FetchFailure
from dwnscraper.spiders.articles import ArticlesSpider
from dwnscraper.storage import BLOCK_TAGS, article_identity_of, content_hash, raw_page_body

REPO = Path(__file__).resolve().parent.parent
CI_PAGES = 1500
"""Fetches per CI run (pages and failed fetches): about 15 s on two cores."""
PAGES_PER_EXAMPLE = 20
ALLOWED_BODY_TAGS = {*BLOCK_TAGS.values(), "ul"}


@dataclass(frozen=True)
class Source:
    url: str
    role: str
    body: bytes


SOURCES = [Source(fixture.url, "listing" if fixture.html.parent.name == "listings" else "article",
                  fixture.html.read_bytes())
           for fixture in iter_fixtures(REPO / "fixtures" / "pages")]

# -- mutations of a saved page ----------------------------------------------------------------------

TAG_SNIPPETS = [
    b"<div>", b"</div>", b"<p>", b"</p>", b"<h1>", b"</h1>", b'<div class="article-body">',
    b'<h1 class="article-title">', b"<article>", b"</article>", b"<table><tr><td>", b"</table>",
    b"<a href=\"", b"<a href='javascript:alert(1)'>", b"<!--", b"-->", b"<![CDATA[", b"]]>",
    b"<script>", b"</script>", b"<style>", b"<title>", b"</html>", b"<html>", b"<body>", b"<svg onload=alert(1)>",
    b"<img src=x onerror=alert(1)>", b"<meta charset=\"utf-16\">", b"<base href=\"javascript:\">",
    b"<template>", b"<noscript>", b"<select>", b"<math>", b"<frameset>", b"<plaintext>", b"<", b">",
    b'<link rel="canonical" href="', b'<link rel="canonical" href="https://deutsche-wirtschafts-nachrichten.de/1/x">',
]
CHARACTER_REFERENCES = [
    b"&#0;", b"&#xD800;", b"&#x110000;", b"&#99999999999999;", b"&#x;", b"&;", b"&nbsp", b"&amp;amp;",
    b"&#128;", b"&#x1F600;", b"&lt;script&gt;", b"&NotARealEntity;", b"&#-1;",
]
BYTE_SNIPPETS = [b"\x00", b"\xed\xa0\x80", b"\xc0\xaf", b"\xff\xfe", b"\xef\xbb\xbf", b"\xf4\x90\x80\x80", b"\r",
                 b"\x1b"]
ENCODINGS = ["utf-16", "utf-16-be", "utf-32", "cp1252", "latin-1", "koi8-r", "shift_jis", "gb18030", "big5",
             "iso-2022-jp", "utf-7", "euc-kr", "mac_roman", "cp037"]
CHARSETS = [b"utf-8", b"utf-16", b"windows-1252", b"iso-8859-1", b"koi8-r", b"x-bogus", b"", b"utf-7", b"\x00"]
CONTENT_TYPES = [None, "text/html; charset=utf-8", "text/html; charset=iso-8859-1", "text/html",
                 "text/html; charset=utf-16", "text/html; charset=x-bogus", "application/octet-stream",
                 "text/html; charset=", "text/html; charset=\"utf-8", "text/html; charset=gb18030"]
TAG = re.compile(rb"<[^<>]{1,200}>")
TAG_NAME = re.compile(rb"<[a-zA-Z][a-zA-Z0-9]*")
GIANT_ATTRIBUTES = [(b' data-x="', b"x", b'"'), (b' class="', b"article-title ", b'"'),
                    (b' href="https://deutsche-wirtschafts-nachrichten.de/', b"1", b'/"'), (b' data-open="', b"y", b"")]


def position(draw: st.DrawFn, body: bytes) -> int:
    return draw(st.integers(min_value=0, max_value=len(body)))


def cut(draw: st.DrawFn, body: bytes) -> bytes:
    where = position(draw, body)
    return body[:where] if draw(st.booleans()) else body[where:]


def delete_tags(draw: st.DrawFn, body: bytes) -> bytes:
    doomed = draw(st.sets(st.integers(min_value=0, max_value=3000), max_size=300))
    counter = iter(range(10**9))
    return TAG.sub(lambda match: b"" if next(counter) in doomed else match.group(0), body)


def nest(draw: st.DrawFn, body: bytes) -> bytes:
    """A stretch of the page copied into its own middle, again and again: tags nested in themselves."""
    start = position(draw, body)
    stretch = body[start:start + draw(st.integers(min_value=1, max_value=5000))]
    nested = stretch
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        half = len(nested) // 2
        nested = nested[:half] + stretch + nested[half:]
    return body[:start] + nested + body[start + len(stretch):]


def insert_snippets(draw: st.DrawFn, body: bytes, snippets: list[bytes]) -> bytes:
    for _ in range(draw(st.integers(min_value=1, max_value=20))):
        where = position(draw, body)
        body = body[:where] + draw(st.sampled_from(snippets)) * draw(st.integers(1, 50)) + body[where:]
    return body


def giant_attribute(draw: st.DrawFn, body: bytes) -> bytes:
    """Up to a megabyte of attribute after a tag's name; the last kind is never closed."""
    where = draw(st.sampled_from([match.end() for match in TAG_NAME.finditer(body[:200_000])] or [0]))
    start, filler, end = draw(st.sampled_from(GIANT_ATTRIBUTES))
    attribute = start + filler * draw(st.integers(min_value=1, max_value=1_000_000 // len(filler))) + end
    return body[:where] + attribute + body[where:]


def deep_nesting(draw: st.DrawFn, body: bytes) -> bytes:
    depth = draw(st.integers(min_value=100, max_value=20_000))
    tag = draw(st.sampled_from([b"div", b"p", b"b", b"li", b"table", b"a", b"span", b"blockquote"]))
    where = position(draw, body)
    closing = b"</" + tag + b">" if draw(st.booleans()) else b""
    return body[:where] + (b"<" + tag + b">") * depth + closing * depth + body[where:]


def flip_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    if not body:
        return body
    mutable = bytearray(body)
    for _ in range(draw(st.integers(min_value=1, max_value=64))):
        mutable[draw(st.integers(min_value=0, max_value=len(body) - 1))] = draw(st.integers(0, 255))
    return bytes(mutable)


def splice_garbage(draw: st.DrawFn, body: bytes) -> bytes:
    where = position(draw, body)
    return body[:where] + draw(st.binary(min_size=1, max_size=256)) + body[where:]


def reencode(draw: st.DrawFn, body: bytes) -> bytes:
    text = body.decode("utf-8", errors="replace")
    return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


def lie_about_charset(draw: st.DrawFn, body: bytes) -> bytes:
    return body.replace(b"charset=utf-8", b"charset=" + draw(st.sampled_from(CHARSETS))).replace(
        b'charset="UTF-8"', b'charset="' + draw(st.sampled_from(CHARSETS)) + b'"')


MUTATIONS = [
    cut, delete_tags, nest, giant_attribute, deep_nesting, flip_bytes, splice_garbage, reencode,
    lie_about_charset,
    lambda draw, body: insert_snippets(draw, body, TAG_SNIPPETS),
    lambda draw, body: insert_snippets(draw, body, CHARACTER_REFERENCES),
    lambda draw, body: insert_snippets(draw, body, BYTE_SNIPPETS),
]


@st.composite
def mutated_page(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(url, role, body): a saved page after one to three mutations."""
    source = draw(st.sampled_from(SOURCES))
    body = source.body
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        body = mutation(draw, body)
    return source.url, source.role, body


TAG_SOUP = st.text(alphabet=st.sampled_from(list("<>/=\"' abcdhpt1ä„–&;!-#x")), max_size=3000)


@st.composite
def noise_page(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(url, role, body): random bytes, tag soup or deep markup at a random article or listing URL."""
    body = draw(st.one_of(
        st.binary(max_size=8192),
        TAG_SOUP.map(lambda text: text.encode("utf-8")),
        st.builds(lambda tag, depth: b"<html><body>" + b"<%s>" % tag * depth + b"<h1>Titel</h1>",
                  st.sampled_from([b"div", b"p", b"li", b"table"]), st.integers(min_value=1, max_value=20_000)),
    ))
    slug = draw(st.text(max_size=40))
    url = draw(st.sampled_from([f"{LIVE_SITE}/{draw(st.integers(1, 10**7))}/{slug}",
                                f"{LIVE_SITE}/politik/page/{draw(st.integers(1, 500))}/",
                                f"{LIVE_SITE}/2016/09/24/{slug}/"]))
    return url, draw(st.sampled_from(["article", "listing"])), body


@dataclass
class Fetch:
    """One fetch as the spider would see it: a response, or a failure with no response."""

    url: str
    role: str
    body: bytes
    status: int
    content_type: str | None
    flags: list[str]
    failed: bool

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a failing example: the body by size and start, not in full."""
        printer.text(f"Fetch(url={self.url!r}, role={self.role!r}, body=<{len(self.body)} bytes: "
                     f"{self.body[:80]!r}...>, status={self.status}, content_type={self.content_type!r}, "
                     f"flags={self.flags}, failed={self.failed})")


@st.composite
def fetches(draw: st.DrawFn) -> Fetch:
    url, role, body = draw(st.one_of(*[mutated_page()] * 4, noise_page()))
    role = draw(st.sampled_from([role] * 17 + ["article", "listing", "feed"]))
    status = draw(st.sampled_from([200] * 27 + [203, 404, 500, 503]))
    flags = draw(st.sampled_from([[]] * 19 + [["dataloss"]]))
    return Fetch(url, role, body, status, draw(st.sampled_from(CONTENT_TYPES)), flags,
                 failed=draw(st.sampled_from([False] * 39 + [True])))




@st.composite
def crawl_runs(draw: st.DrawFn) -> list[list[Fetch]]:
    """``PAGES_PER_EXAMPLE`` fetches in one crawl run, or split over two runs into one database."""
    batch = draw(st.lists(fetches(), min_size=PAGES_PER_EXAMPLE, max_size=PAGES_PER_EXAMPLE))
    split = draw(st.integers(min_value=0, max_value=PAGES_PER_EXAMPLE - 1))
    return [batch[:split], batch[split:]] if split else [batch]


# -- the pipelines as a crawl runs them -----------------------------------------------------------------


def _project_settings() -> dict[str, Any]:
    settings = Settings()
    settings.setmodule("dwnscraper.settings", priority="project")
    project = SETTINGS_PRIORITIES["project"]
    return {name: value for name, value in settings.items() if settings.getpriority(name) == project}


PROJECT_SETTINGS = _project_settings()
"""``dwnscraper/settings.py`` as Scrapy reads it (Scrapy's defaults left to ``get_crawler``)."""


def project_crawler(db: Path, batch_size: int) -> Crawler:
    """A crawler with the project's settings, spider and item pipelines, and no download handler.

    Its engine is built but never started: this test hands items to the pipelines itself, as
    Scrapy's scraper would, so no request is made.
    """
    overrides = {"DWN_DB": str(db), "DWN_BATCH_SIZE": batch_size, "DWN_CONTACT": "tests@example.org",
                 "DOWNLOAD_HANDLERS": {"http": None, "https": None}}
    crawler = get_crawler(ArticlesSpider, {**PROJECT_SETTINGS, **overrides})
    crawler.spider = crawler._create_spider(url=f"{LIVE_SITE}/503386")
    crawler.engine = crawler._create_engine()
    return crawler


def item_for(crawler: Crawler, fetch: Fetch) -> Iterator[FetchedPage | FetchFailure]:
    """The item the spider makes of this fetch (``fetched`` or ``fetch_failed``)."""
    spider = crawler.spider
    request = Request(fetch.url, meta={"dwn_requested_url": fetch.url, "dwn_role": fetch.role})
    if fetch.failed:
        failure = Failure(TCPTimedOutError())
        failure.request = request
        yield from spider.fetch_failed(failure)
        return
    headers = {"Content-Type": fetch.content_type} if fetch.content_type else {}
    yield spider.fetched(HtmlResponse(fetch.url, status=fetch.status, headers=headers, body=fetch.body,
                                      request=request, flags=list(fetch.flags)))


@dataclass
class Outcome:
    """What became of one item: ``dropped`` with an error row, or ``exported`` by the last pipeline
    (the stored record, what feed exports write; ``None`` for a page archived raw only)."""

    item: FetchedPage | FetchFailure
    dropped: bool
    run_id: int
    exported: dict[str, Any] | None = None


def finished(result: Any) -> Any:
    """A pipeline's result: the item, or the value of its coroutine, which parses in this process here
    (the parse pipeline's workers start in ``open_spider``, which this test leaves to the owner only)."""
    if not inspect.iscoroutine(result):
        return result
    try:
        result.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the pipeline waited for something; it should have parsed in this process")


def crawl(crawler: Crawler, batch: list[Fetch]) -> list[Outcome]:
    """One crawl run: open the pipelines, push every item through them in order, close them."""
    pipelines = crawler.engine.scraper.itemproc.middlewares
    owner = pipelines[0]
    owner.open_spider()
    outcomes = []
    for fetch in batch:
        for item in item_for(crawler, fetch):
            result, dropped, exported = item, False, None
            for pipeline in pipelines:
                try:
                    result = finished(pipeline.process_item(result))
                except DropItem:
                    dropped = pipeline is not pipelines[-1]
                    break
            else:
                exported = result
            outcomes.append(Outcome(item, dropped, owner.run_id, exported))
    owner.close_spider()
    return outcomes


# -- what a complete database holds ------------------------------------------------------------------


def query(connection: sqlite3.Connection, sql: str, *params: Any) -> list[sqlite3.Row]:
    return connection.execute(sql, params).fetchall()


def assert_inert(fragment: str) -> None:
    if fragment:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
        assert all(element.tag in ALLOWED_BODY_TAGS and not element.attrib
                   for element in root.iter() if element is not root), fragment


def assert_consistent(connection: sqlite3.Connection, outcomes: list[Outcome]) -> None:
    """Every page stored with its outcome, nothing half-written, the counts adding up."""
    assert query(connection, "PRAGMA integrity_check")[0][0] == "ok"
    assert query(connection, "PRAGMA foreign_key_check") == []
    connection.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")

    pages = [outcome for outcome in outcomes if isinstance(outcome.item, FetchedPage)]
    raw = {row["id"]: row for row in query(connection, "SELECT * FROM raw_pages")}
    assert sorted(raw) == sorted(outcome.item.raw_page_id for outcome in pages)
    for outcome in pages:
        row = raw[outcome.item.raw_page_id]
        assert raw_page_body(row) == outcome.item.body
        assert (row["url"], row["status"], row["body_size"]) == (
            outcome.item.url, outcome.item.status, len(outcome.item.body))

    errors = query(connection, "SELECT raw_page_id, message FROM errors")
    assert Counter(row["raw_page_id"] for row in errors) == Counter(
        outcome.item.raw_page_id if isinstance(outcome.item, FetchedPage) else None
        for outcome in outcomes if outcome.dropped)
    assert not [row["message"] for row in errors if row["message"].startswith("The parser failed")]

    stored = [outcome for outcome in pages if not outcome.dropped and outcome.item.record is not None]
    listings = [outcome.item for outcome in stored if outcome.item.record["kind"] == "listing"]
    articles = [outcome.item for outcome in stored if outcome.item.record["kind"] == "article"]
    assert sorted(row[0] for row in query(connection, "SELECT raw_page_id FROM listings")) == \
        sorted(item.raw_page_id for item in listings)
    assert Counter(row[0] for row in query(connection, "SELECT raw_page_id FROM teasers")) == Counter({
        item.raw_page_id: len(item.record["teasers"]) for item in (*listings, *articles) if item.record["teasers"]})
    assert all(outcome.item.role != "feed" or outcome.item.record is None for outcome in pages)
    assert all(outcome.exported is (outcome.item.record if outcome in stored else None) for outcome in outcomes)

    assert_articles_and_revisions(connection, articles)
    assert_run_counts(connection, outcomes)


def assert_articles_and_revisions(connection: sqlite3.Connection, articles: list[FetchedPage]) -> None:
    """The latest fetch of each article is its row; each change of content is one revision."""
    latest: dict[str, FetchedPage] = {}
    revisions: dict[str, list[tuple[int, str]]] = {}
    for item in articles:
        identity, digest = article_identity_of(item.record), content_hash(item.record)
        latest[identity] = item
        history = revisions.setdefault(identity, [])
        if not history or history[-1][1] != digest:
            history.append((item.raw_page_id, digest))
    rows = {row["identity"]: row for row in query(connection, "SELECT * FROM articles")}
    assert set(rows) == set(latest)
    for identity, item in latest.items():
        row = rows[identity]
        assert (row["raw_page_id"], row["content_hash"], row["revision"], row["headline"]) == (
            item.raw_page_id, content_hash(item.record), len(revisions[identity]), item.record["headline"])
        assert json.loads(row["body"]) == item.record["body"]
        assert_inert(row["body_html"])
    stored_revisions = query(connection, "SELECT identity, raw_page_id, content_hash FROM article_revisions "
                                         "ORDER BY identity, revision")
    assert [(row[0], row[1], row[2]) for row in stored_revisions] == [
        (identity, raw_id, digest) for identity in sorted(revisions) for raw_id, digest in revisions[identity]]
    assert query(connection, "SELECT count(*) FROM articles_fts")[0][0] == len(rows)


def assert_run_counts(connection: sqlite3.Connection, outcomes: list[Outcome]) -> None:
    runs = query(connection, "SELECT * FROM crawl_runs ORDER BY id")
    for run in runs:
        mine = [outcome for outcome in outcomes if outcome.run_id == run["id"]]
        assert run["finished_at"] is not None
        assert run["pages_fetched"] == sum(isinstance(outcome.item, FetchedPage) for outcome in mine)
        assert run["errors"] == sum(outcome.dropped for outcome in mine) == \
            query(connection, "SELECT count(*) FROM errors WHERE crawl_run_id = ?", run["id"])[0][0]
        assert run["listings"] == query(connection, "SELECT count(*) FROM listings WHERE crawl_run_id = ?",
                                        run["id"])[0][0]
        stored_articles = sum(not outcome.dropped and isinstance(outcome.item, FetchedPage)
                              and (outcome.item.record or {}).get("kind") == "article" for outcome in mine)
        assert run["articles_new"] + run["articles_updated"] + run["articles_unchanged"] == stored_articles
    assert sum(run["articles_new"] for run in runs) == query(connection, "SELECT count(*) FROM articles")[0][0]
    assert sum(run["articles_new"] + run["articles_updated"] for run in runs) == \
        query(connection, "SELECT count(*) FROM article_revisions")[0][0]


# -- the tests ----------------------------------------------------------------------------------------


def stored_as(outcome: Outcome) -> str:
    if outcome.dropped:
        return "errors"
    return f"{outcome.item.record['kind']}s" if outcome.item.record else "feeds"


@pytest.fixture(scope="module")
def tally(request) -> Iterator[Counter[str]]:
    """Fuzz cases that passed every check, printed at the end of the module's tests."""
    counts: Counter[str] = Counter()
    yield counts
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"hostile input: {counts['fetches']} fuzz cases ({counts['pages']} pages, the rest failed fetches) "
            f"in {counts['runs']} crawl runs passed through parser and pipelines with no exception and "
            f"nothing half-written: {counts['articles']} stored as articles, {counts['listings']} as listings, "
            f"{counts['feeds']} as raw feed pages, {counts['errors']} as error rows")


def test_hostile_pages_through_parsers_and_pipelines(request, tally):
    wanted = request.config.getoption("--fuzz-examples") or CI_PAGES

    @settings(max_examples=max(1, -(-wanted // PAGES_PER_EXAMPLE)), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(runs=crawl_runs(), batch_size=st.integers(min_value=1, max_value=30))
    def check(runs: list[list[Fetch]], batch_size: int) -> None:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "dwn.db"
            outcomes: list[Outcome] = []
            for batch in runs:
                outcomes += crawl(project_crawler(db, batch_size), batch)
                with sqlite3.connect(db) as connection:
                    connection.row_factory = sqlite3.Row
                    assert_consistent(connection, outcomes)
        tally.update(map(stored_as, outcomes))
        tally.update(fetches=sum(map(len, runs)), runs=len(runs),
                     pages=sum(isinstance(outcome.item, FetchedPage) for outcome in outcomes))

    check()


BODY_START = b'<div class="article-body">'
HOSTILE_BODY = """<p>Vorher <script>alert(1)</script> nachher.</p>
<p><img src="x" onerror="alert(1)">Bild <a href="javascript:alert(1)">Link</a>
<svg onload="alert(1)"><circle r="1"/></svg> &lt;script&gt;alert(2)&lt;/script&gt;</p>
<h2 onclick="alert(1)">Zwischentitel <iframe src="javascript:alert(1)"></iframe></h2>"""


def test_hostile_article_body_is_stored_inert(tmp_path):
    """A real article page whose body carries script, event handlers and javascript: links."""
    source = next(source for source in SOURCES if BODY_START in source.body)
    body = source.body.replace(BODY_START, BODY_START + HOSTILE_BODY.encode(), 1)
    [outcome] = crawl(project_crawler(tmp_path / "dwn.db", 10),
                      [Fetch(source.url, "article", body, 200, "text/html; charset=utf-8", [], False)])
    assert not outcome.dropped
    with sqlite3.connect(tmp_path / "dwn.db") as connection:
        connection.row_factory = sqlite3.Row
        assert_consistent(connection, [outcome])
        [row] = query(connection, "SELECT body_html FROM articles")
    assert_inert(row["body_html"])
    assert "<p>Vorher" in row["body_html"]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in row["body_html"]
    lowered = row["body_html"].lower()
    assert "<script" not in lowered and "javascript:" not in lowered and "onerror" not in lowered
