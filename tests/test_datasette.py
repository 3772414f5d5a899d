"""The archive in a real ``datasette serve`` on 127.0.0.1, with the shipped metadata and plugin:
the search box, Berlin days, and the article page, read in headless Chromium."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from browser import CHROMIUM, chromium, datasette

from dwnscraper.storage import Archive

REPO = Path(__file__).resolve().parent.parent
METADATA = REPO / "datasette" / "metadata.json"
GOLD = "id:718426"
GOLD_PAGE = "/dwn/articles/id~3A718426"
GOLD_HEADLINE = "Goldpreis auf Rekordhoch: Anleger flüchten in sichere Häfen"
OELPREIS = "wp:/2014/09/26/oelpreis-faellt-auf-tiefsten-stand-seit-jahren/"


@pytest.fixture(scope="module")
def server(crawled) -> str:
    with datasette(crawled, METADATA) as url:
        yield url


def get(url: str) -> tuple[int, str, str]:
    """Status, final URL (after redirects) and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.url, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode("utf-8")


def get_json(url: str) -> dict:
    status, _, body = get(url)
    assert status == 200, body[:2000]
    return json.loads(body)


def search_url(server: str, text: str, path: str = "/dwn/articles") -> str:
    return f"{server}{path}?{urllib.parse.urlencode({'_search': text})}"


# -- the search box --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "identities"), [
    ("Grönland-Krise", ["id:718582"]),
    ("90.000", ["id:718595"]),
    ("Merkel.", ["wp:/2016/09/24/merkel-verteidigt-fluechtlingspolitik-vor-der-fraktion/"]),
    ("C++", []),
    ("Ukraine-Konflikt", []),
    ("headline:Gold*", [GOLD]),
    ('"sichere Häfen"', [GOLD]),
    ('"Goldpreis', None),
    ("Gold OR", None),
    ("AND", None),
])
def test_search_box_takes_any_text_and_ranks_the_best_match_first(server, text, identities):
    status, final_url, body = get(search_url(server, text))
    assert status == 200, body[:2000]
    assert urllib.parse.urlsplit(final_url).path == "/dwn/search"
    rows = get_json(f"{server}/dwn/search.json?{urllib.parse.urlencode({'q': text})}&_shape=objects")["rows"]
    if identities is not None:
        assert [row["identity"] for row in rows] == identities


def test_search_box_ranks_by_relevance_not_by_date(server, crawled):
    rows = get_json(f"{server}/dwn/search.json?q=Goldpreis&_shape=objects")["rows"]
    assert rows[0]["identity"] == GOLD and rows[0]["snippet"].startswith("**Goldpreis** auf Rekordhoch")
    with closing(sqlite3.connect(crawled)) as connection:
        newest = connection.execute(
            "select articles.identity from articles_fts join articles on articles.rowid = articles_fts.rowid"
            " where articles_fts match 'Goldpreis' order by published_at desc limit 1").fetchone()[0]
    assert newest != GOLD
    status, _, page = get(f"{server}/dwn/search?q=Goldpreis")
    assert f'<a href="{GOLD_PAGE}">{GOLD}</a>' in page and "<mark>Goldpreis</mark> auf Rekordhoch" in page


def test_table_search_with_facets_and_json_never_fails(server):
    for text in ("Ukraine-Konflikt", "90.000", '"Goldpreis', "C++ OR Merkel."):
        status, final_url, body = get(search_url(server, text, "/dwn/articles.json") + "&_shape=objects")
        assert status == 200, body[:2000]
    found = get_json(search_url(server, "90.000", "/dwn/articles.json") + "&_shape=objects")["rows"]
    assert [row["identity"] for row in found] == ["id:718595"]
    faceted = get(search_url(server, "Gold*") + "&section=Finanzen")
    assert faceted[0] == 200 and urllib.parse.urlsplit(faceted[1]).path == "/dwn/articles"


# -- Berlin days -----------------------------------------------------------------------------------


def test_days_are_berlin_days_in_facets_and_filters(server):
    day = get_json(f"{server}/dwn/articles.json?published_on=2014-09-26&_shape=objects&_col=published_at")
    assert [(row["identity"], row["published_at"]) for row in day["rows"]] == [
        (OELPREIS, "2014-09-26T01:03:00+02:00")]
    facets = get_json(f"{server}/dwn/articles.json?_size=0")["facet_results"]
    assert {"section", "layout", "paywalled", "topics", "authors", "published_on"} <= set(facets)
    days = {item["value"]: item["count"] for item in facets["published_on"]["results"]}
    assert days.get("2014-09-26") == 1 and "2014-09-25" not in days


# -- the article page ------------------------------------------------------------------------------


def test_article_page_is_the_article_to_read(server, crawled):
    status, _, page = get(server + GOLD_PAGE)
    assert status == 200
    with closing(sqlite3.connect(crawled)) as connection:
        lead, body_html, revision_id, raw_page_id = connection.execute(
            "select lead, body_html, article_revisions.id, articles.raw_page_id from articles join article_revisions"
            " using (identity) where identity = ?", [GOLD]).fetchone()
    assert f"<h1>{GOLD_HEADLINE}</h1>" in page
    assert '<p class="kicker">Finanzen</p>' in page
    assert '<time datetime="2026-01-18T08:14:00+01:00">18.01.2026 08:14</time> · Lesezeit: 3 min' in page
    assert f'<p class="lead">{lead}</p>' in page
    assert f'<div class="body">{body_html}</div>' in page and "&lt;p&gt;" not in page
    assert f'<a href="/dwn/article_revisions/{revision_id}">Revision 1</a>' in page
    assert f'<a href="/dwn/raw_pages/{raw_page_id}">gespeicherte Seite {raw_page_id}</a>' in page
    assert '<li><a href="/dwn/articles/id~3A718543">Dax schließt im Minus: Sorgen um Konjunktur belasten</a>' in page
    assert page.count(body_html) == 1


def test_article_page_of_a_wordpress_identity(server, crawled):
    from datasette.utils import tilde_encode

    with closing(sqlite3.connect(crawled)) as connection:
        [(headline,)] = connection.execute("select headline from articles where identity = ?", [OELPREIS]).fetchall()
    status, _, page = get(f"{server}/dwn/articles/{tilde_encode(OELPREIS)}")
    assert status == 200 and f"<h1>{headline}</h1>" in page
    assert '<time datetime="2014-09-26T01:03:00+02:00">26.09.2014 01:03</time>' in page


PAYLOAD = "window.__pwned = 'script'; alert('script')"
HOSTILE_BODY_HTML = (
    "<p>Vorher.</p><script>" + PAYLOAD + "</script>"
    "<img src=x onerror=\"window.__pwned = 'onerror'; alert('onerror')\">"
    "<svg onload=\"window.__pwned = 'svg'\"></svg><iframe srcdoc=\"<script>parent.__pwned = 'iframe'</script>\">"
    "</iframe><p onclick=\"window.__pwned = 'click'\">Nachher.</p>"
    "<a href=\"javascript:window.__pwned = 'link'\">Link</a>"
)


@pytest.fixture
def hostile(crawled, tmp_path, make_article) -> str:
    """A copy of the archive with an article whose text holds script, stored through the Archive,
    whose ``body_html`` is then replaced by raw script (as an old or hand-edited archive might hold)."""
    db = tmp_path / "dwn.db"
    with closing(sqlite3.connect(crawled)) as source, closing(sqlite3.connect(db)) as target:
        source.backup(target)
    record = make_article(
        headline="<script>window.__pwned = 'headline'</script>Übernahme: „Ärger“ – größer",
        lead="<img src=x onerror=\"window.__pwned = 'lead'\">Ein Vorspann.",
        body=[{"kind": "paragraph", "text": "Erster Absatz mit <script>window.__pwned = 'block'</script> als Text."},
              {"kind": "heading", "text": "Zwischentitel"},
              {"kind": "quote", "text": "Ein Zitat <img src=x onerror=alert(1)>"},
              {"kind": "list_item", "text": "Punkt eins"}, {"kind": "list_item", "text": "Punkt zwei"}],
        url="https://deutsche-wirtschafts-nachrichten.de/999001/hostile",
        canonical_url="https://deutsche-wirtschafts-nachrichten.de/999001/hostile", article_id=999001,
    )
    with Archive(db) as archive:
        page = archive.add_raw_page(url=record["url"], final_url=record["url"], status=200, headers={},
                                    body=b"<html></html>", fetched_at="2026-01-20T10:00:00+00:00")
        archive.add_article(record, page, "2026-01-20T10:00:00+00:00")
    with Archive(db) as archive:
        stored = archive.db["articles"].get("id:999001")["body_html"]
        archive.db.execute("UPDATE articles SET body_html = ? WHERE identity = 'id:999001'",
                           [stored + HOSTILE_BODY_HTML])
    with datasette(db, METADATA) as url:
        yield url


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium); "
                                              ".ci/run installs it")
def test_article_page_in_chromium_shows_the_text_and_runs_no_script_from_it(hostile, server):
    with chromium() as page:
        page.open(server + GOLD_PAGE)
        text = page.evaluate("document.body.innerText")
        assert GOLD_HEADLINE in text and "Lesezeit: 3 min" in text and "Revision 1" in text
        assert "<p>" not in text
        paragraphs = page.evaluate("Array.from(document.querySelectorAll('.body p')).map(p => p.innerText)")
        assert len(paragraphs) == 3 and paragraphs[0].startswith("In Brüssel wird über ein neues Maßnahmenpaket")

        page.open(hostile + "/dwn/articles/id~3A999001")
        text = page.evaluate("document.body.innerText")
        assert "<script>window.__pwned = 'headline'</script>Übernahme: „Ärger“ – größer" in text
        assert "Erster Absatz mit <script>window.__pwned = 'block'</script> als Text." in text
        assert "Vorher.\n\nNachher." in text or ("Vorher." in text and "Nachher." in text)
        blocks = page.evaluate("Array.from(document.querySelector('.body').children).map(e => e.tagName)")
        assert blocks[:4] == ["P", "H2", "BLOCKQUOTE", "UL"]
        assert page.evaluate("document.querySelectorAll('.body script, .body img, .body svg, .body iframe,"
                             " .body [onclick], .body a').length") == 0
        page.evaluate("document.querySelectorAll('.body p').forEach(p => p.click())")
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.dialogs == []


def test_plugin_leaves_other_databases_alone(crawled, tmp_path):
    import asyncio

    from datasette.app import Datasette

    other = tmp_path / "notes.db"
    with closing(sqlite3.connect(other)) as connection, connection:
        connection.execute("create table articles (id integer primary key, title text)")
        connection.execute("insert into articles values (1, 'Eine Notiz')")
    app = Datasette([str(crawled), str(other)], metadata=json.loads(METADATA.read_text(encoding="utf-8")))

    async def fetch(path: str):
        return await app.client.get(path)

    row = asyncio.run(fetch("/notes/articles/1"))
    assert row.status_code == 200 and "Eine Notiz" in row.text and "dwn-article" not in row.text
    table = asyncio.run(fetch("/notes/articles?_search=Notiz"))
    assert table.status_code != 302
    assert asyncio.run(fetch("/notes/search")).status_code == 404
    assert asyncio.run(fetch("/dwn/search?q=Goldpreis")).status_code == 200
