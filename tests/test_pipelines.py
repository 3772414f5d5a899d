"""The pipelines' own checks, beside the crawls that run them (tests/test_crawl.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dwnscraper.parseworker import contract_violation, prepare_page
from dwnscraper.storage import content_hash, raw_page_body

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def test_a_record_within_the_contract_has_no_violation(make_article):
    assert contract_violation(make_article()) is None


def test_a_record_breaking_the_contract_is_named_in_a_sentence(make_article):
    assert contract_violation({**make_article(), "headline": ""}) == (
        "The parse output breaks the contract at headline: '' should be non-empty")
    assert contract_violation({**make_article(), "published_at": "2020-04-13"}).startswith(
        "The parse output breaks the contract at published_at: ")


def test_the_worker_job_parses_and_checks(make_article):
    record, violation, prepared, packed = prepare_page(b"", "https://deutsche-wirtschafts-nachrichten.de/503386",
                                                       None, {})
    assert record["kind"] == "error" and violation is None and prepared is None
    assert packed.size == 0


def test_the_worker_job_prepares_an_article_row():
    page = PAGES / "current" / "amp-copy-weltwirtschaft"
    meta = json.loads(page.with_suffix(".meta.json").read_text(encoding="utf-8"))
    body = page.with_suffix(".html").read_bytes()
    record, violation, prepared, packed = prepare_page(body, meta["url"], meta["fetched_at"], {})
    assert violation is None
    assert prepared.identity == "id:718604"
    assert prepared.content_hash == content_hash(record)
    assert json.loads(prepared.record_json) == record
    assert prepared.columns["body_text"] == "\n\n".join(block["text"] for block in record["body"])
    assert prepared.columns["body_html"].startswith(f"<p>{record['body'][0]['text']}")
    assert raw_page_body({"id": 1, "body": packed.body, "body_compression": packed.compression}) == body
    assert (packed.size, packed.content_hash) == (len(body), hashlib.sha256(body).hexdigest())
