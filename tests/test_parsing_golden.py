"""Golden tests: every saved page in fixtures/pages against its hand-checked expected JSON."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from dwnscraper.fixtures import Fixture, iter_fixtures
from dwnscraper.parsing import parse_page

REPO = Path(__file__).resolve().parent.parent
PAGES = REPO / "fixtures" / "pages"
SCHEMA_PATH = REPO / "dwnscraper" / "schema" / "parse-output.schema.json"
SHARED = REPO.parent / "shared"
FIXTURES = list(iter_fixtures(PAGES))


@cache
def parsed(fixture: Fixture) -> dict:
    return parse_page(fixture.html.read_bytes(), fixture.url, fixture.fetched_at, fixture.headers)


def _field_cases():
    for fixture in FIXTURES:
        for field in sorted(fixture.expected()):
            yield pytest.param(fixture, field, id=f"{fixture.html.parent.name}/{fixture.name}:{field}")


@pytest.mark.parametrize(("fixture", "field"), list(_field_cases()))
def test_field_matches_golden_file(fixture: Fixture, field: str) -> None:
    assert parsed(fixture).get(field) == fixture.expected()[field]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda fixture: fixture.name)
def test_no_unexpected_field(fixture: Fixture) -> None:
    assert sorted(parsed(fixture)) == sorted(fixture.expected())


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda fixture: fixture.name)
def test_output_validates_against_contract_schema(fixture: Fixture) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(parsed(fixture), schema)


def test_fixture_counts_per_kind() -> None:
    kinds = {}
    for fixture in FIXTURES:
        record = fixture.expected()
        key = record.get("layout") or record.get("listing") or record["kind"]
        kinds[key] = kinds.get(key, 0) + 1
    assert len(FIXTURES) >= 25
    assert kinds.get("current", 0) >= 8 and kinds.get("legacy", 0) >= 6 and kinds.get("wordpress", 0) >= 3
    assert kinds.get("section", 0) >= 3 and kinds.get("tag", 0) >= 1 and kinds.get("search", 0) >= 1
    assert kinds.get("error", 0) >= 3


@pytest.mark.skipif(not (SHARED / "parse-output.schema.json").exists(), reason="../shared is not beside the checkout")
def test_packaged_schema_is_the_shared_contract() -> None:
    assert SCHEMA_PATH.read_bytes() == (SHARED / "parse-output.schema.json").read_bytes()
