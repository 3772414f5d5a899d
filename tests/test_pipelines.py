"""The pipelines' own checks, beside the crawls that run them (tests/test_crawl.py)."""

from __future__ import annotations

from dwnscraper.parseworker import contract_violation, parse_and_check


def test_a_record_within_the_contract_has_no_violation(make_article):
    assert contract_violation(make_article()) is None


def test_a_record_breaking_the_contract_is_named_in_a_sentence(make_article):
    assert contract_violation({**make_article(), "headline": ""}) == (
        "The parse output breaks the contract at headline: '' should be non-empty")
    assert contract_violation({**make_article(), "published_at": "2020-04-13"}).startswith(
        "The parse output breaks the contract at published_at: ")


def test_the_worker_job_parses_and_checks(make_article):
    record, violation = parse_and_check(b"", "https://deutsche-wirtschafts-nachrichten.de/503386", None, {})
    assert record["kind"] == "error" and violation is None
