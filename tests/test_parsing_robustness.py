"""Bad input: random bytes and mutated fixtures never make the parser raise or emit invalid records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dwnscraper.fixtures import iter_fixtures
from dwnscraper.parsing import parse_page

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "dwnscraper" / "schema" / "parse-output.schema.json").read_text(encoding="utf-8"))
PAGES = [fixture.html.read_bytes() for fixture in iter_fixtures(REPO / "fixtures" / "pages")]
TAG = re.compile(rb"<[^<>]{1,200}>")
URL = "https://deutsche-wirtschafts-nachrichten.de/718460/Slug"
FETCHED_AT = "2026-01-21T10:00:00+00:00"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_valid_record(record: dict) -> None:
    jsonschema.validate(record, SCHEMA)
    assert record["kind"] in {"article", "listing", "error"}
    if record["kind"] == "error":
        assert not record["error"].startswith("The parser failed"), record["error"]


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(body: bytes) -> None:
    assert_valid_record(parse_page(body, URL, FETCHED_AT))


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcdhpt1ä„–&;!-")), max_size=2000))
def test_tag_soup(text: str) -> None:
    assert_valid_record(parse_page(text.encode("utf-8"), URL, FETCHED_AT))


pages = st.sampled_from(PAGES) if PAGES else st.nothing()


@FUZZ
@given(pages, st.floats(min_value=0, max_value=1))
def test_cut_pages(page: bytes, where: float) -> None:
    assert_valid_record(parse_page(page[: int(len(page) * where)], URL, FETCHED_AT))


@FUZZ
@given(pages, st.sets(st.integers(min_value=0, max_value=3000), max_size=200))
def test_pages_with_tags_deleted(page: bytes, doomed: set[int]) -> None:
    counter = iter(range(10**9))
    mutated = TAG.sub(lambda match: b"" if next(counter) in doomed else match.group(0), page)
    assert_valid_record(parse_page(mutated, URL, FETCHED_AT))


@FUZZ
@given(pages, st.sampled_from(["cp1252", "latin-1", "utf-16", "utf-32", "koi8-r", "shift_jis", "ascii"]),
       st.sampled_from([None, "text/html; charset=utf-8", "text/html; charset=iso-8859-1", "text/html"]))
def test_pages_in_other_encodings(page: bytes, encoding: str, content_type: str | None) -> None:
    body = page.decode("utf-8", errors="replace").encode(encoding, errors="replace")
    headers = {"Content-Type": content_type} if content_type else None
    assert_valid_record(parse_page(body, URL, FETCHED_AT, headers))


@FUZZ
@given(pages, st.integers(min_value=1, max_value=5000), st.binary(min_size=1, max_size=64))
def test_pages_with_garbage_spliced_in(page: bytes, where: int, garbage: bytes) -> None:
    where = where % max(len(page), 1)
    assert_valid_record(parse_page(page[:where] + garbage + page[where:], URL, FETCHED_AT))


@pytest.mark.parametrize("depth", [100, 3000])
def test_deeply_nested_markup(depth: int) -> None:
    body = b"<html><body>" + b"<div>" * depth + b"<h1>Titel</h1><p>Lesezeit: 3 min</p>" + b"</div>" * depth
    assert_valid_record(parse_page(body, URL, FETCHED_AT))


def test_giant_attribute() -> None:
    body = b'<html><body><h1 class="article-title" data-x="' + b"x" * 5_000_000 + b'">Titel</h1></body></html>'
    assert_valid_record(parse_page(body, URL, FETCHED_AT))
