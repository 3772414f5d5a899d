"""``articles.body_html``: the body as HTML for display, which cannot run script whatever the page held."""

from __future__ import annotations

import json

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from dwnscraper.storage import BLOCK_TAGS, Archive, body_html, migrations

ALLOWED_TAGS = {*BLOCK_TAGS.values(), "ul"}

HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    "</p><script>alert(document.cookie)</script><p>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">Klick</a>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
    "<!--<script>alert(1)</script>-->",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "javascript:alert(1)",
    '" onmouseover="alert(1)',
]


def elements(fragment: str) -> list:
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return [element for element in root.iter() if element is not root]


def assert_inert(fragment: str) -> None:
    """Only the block elements, not one attribute: nothing that can run script or follow a link."""
    found = elements(fragment)
    assert all(element.tag in ALLOWED_TAGS and not element.attrib for element in found), fragment


@pytest.mark.parametrize("kind", sorted(BLOCK_TAGS))
@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_is_shown_not_run(kind, text):
    fragment = body_html([{"kind": kind, "text": text}])
    assert_inert(fragment)
    assert [element.text for element in elements(fragment) if element.tag != "ul"] == [text]


def test_blocks_become_their_elements_with_list_items_grouped():
    blocks = [{"kind": "paragraph", "text": "Italiens Wirtschaft „erholt“ sich – langsam."},
              {"kind": "list_item", "text": "Exporte"}, {"kind": "list_item", "text": "Tourismus"},
              {"kind": "heading", "text": "Größere Sorgen"}, {"kind": "quote", "text": "Wir & ihr"}]
    assert body_html(blocks) == (
        "<p>Italiens Wirtschaft „erholt“ sich – langsam.</p><ul><li>Exporte</li><li>Tourismus</li></ul>"
        "<h2>Größere Sorgen</h2><blockquote>Wir &amp; ihr</blockquote>")


blocks = st.lists(st.fixed_dictionaries({
    "kind": st.sampled_from(sorted(BLOCK_TAGS)),
    "text": st.lists(st.one_of(st.sampled_from(["<", ">", "&", '"', "=", "/", "script", "onload", "javascript:"]),
                               st.characters(exclude_categories=("Cc", "Cs")))).map("".join),
}), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(blocks)
def test_any_text_round_trips_inert(blocks):
    fragment = body_html(blocks)
    assert_inert(fragment)
    assert [element.text or "" for element in elements(fragment) if element.tag != "ul"] == \
        [block["text"] for block in blocks]


def test_migration_fills_body_html_of_articles_stored_before_it(tmp_path):
    path = tmp_path / "dwn.db"
    db = Database(path)
    migrations.apply(db, stop_before="m002_articles_body_html")
    body = [{"kind": "paragraph", "text": '<img src=x onerror="alert(1)">'}]
    db["articles"].insert({"identity": "id:503386", "headline": "Alt", "body": json.dumps(body)})
    db.close()

    with Archive(path) as archive:
        row = archive.db["articles"].get("id:503386")
    assert row["body_html"] == "<p>&lt;img src=x onerror=\"alert(1)\"&gt;</p>"


def test_stored_article_carries_body_html(tmp_path, make_article):
    record = make_article(body=[{"kind": "paragraph", "text": "<script>alert(1)</script>"}])
    with Archive(tmp_path / "dwn.db") as archive:
        raw_id = archive.add_raw_page(url=record["url"], final_url=record["url"], status=200, headers={},
                                      body=b"<html></html>", fetched_at="2026-01-21T10:00:00+00:00")
        archive.add_article(record, raw_id, "2026-01-21T10:00:00+00:00")
        archive.flush()
        assert archive.db["articles"].get("id:503386")["body_html"] == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
