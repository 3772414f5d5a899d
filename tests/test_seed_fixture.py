"""The seed fixture reproduces the visible text of the one real DWN page in shared/seed/, field by field."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from dwnscraper.fixtures import Fixture
from dwnscraper.parsing import parse_page
from dwnscraper.parsing.text import clean

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "fixtures" / "seed" / "dwn-article-2021-12-31.txt"
SHARED_SEED = REPO.parent / "shared" / "seed" / "dwn-article-2021-12-31.txt"
FIXTURE = Fixture(REPO / "fixtures" / "pages" / "current" / "seed-2021-12-31.html")
CARD_LINES = 5


def seed_lines() -> list[str]:
    return [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


def visible_text(html: bytes) -> str:
    document = lxml.html.document_fromstring(html)
    for hidden in document.xpath("//script | //style | //noscript | //head"):
        hidden.drop_tree()
    return clean(document.text_content())


@pytest.fixture(scope="module")
def record() -> dict:
    return parse_page(FIXTURE.html.read_bytes(), FIXTURE.url, FIXTURE.fetched_at, FIXTURE.headers)


@pytest.mark.skipif(not SHARED_SEED.exists(), reason="../shared is not beside the checkout")
def test_seed_copy_is_the_shared_seed() -> None:
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_page_shows_the_seed_text_in_order() -> None:
    assert clean(" ".join(seed_lines())) in visible_text(FIXTURE.html.read_bytes())


def test_parsed_fields_are_the_seed_lines(record: dict) -> None:
    lines = seed_lines()
    teaser_start = lines.index("Mehr zum Thema")
    assert lines[:5] == [
        record["section"], record["headline"], record["lead"], record["published_raw"],
        f"Lesezeit: {record['reading_time_minutes']} min",
    ]
    assert [block["text"] for block in record["body"]] == lines[5:teaser_start]
    assert (record["authors"], record["updated_raw"], record["image"], record["paywalled"]) == ([], None, None, False)
    assert lines[teaser_start + 1] == "article:fokus_txt"


def test_teasers_are_the_seed_cards(record: dict) -> None:
    lines = seed_lines()
    cards = lines[lines.index("article:fokus_txt") + 1:]
    assert len(cards) == CARD_LINES * len(record["teasers"]) == 40
    for position, teaser in enumerate(record["teasers"], start=1):
        brand, section, title, date, snippet = cards[(position - 1) * CARD_LINES: position * CARD_LINES]
        assert (brand, section, date, snippet) == ("DWN", teaser["section"], teaser["published_raw"], teaser["snippet"])
        assert title in {f"{section} {teaser['headline']}", f"{section} {teaser['headline']} title"}
        assert not teaser["headline"].endswith(" title")
        assert teaser["sponsored"] is False and teaser["position"] == position
