"""Shared pytest fixtures. Keep each one generic and documented: several test modules use them."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dwnscraper import LIVE_SITE
from dwnscraper.mirror import MirrorServer

REPO = Path(__file__).resolve().parent.parent
FIXTURE_SITE = REPO / "fixtures" / "site"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-examples", type=int, default=None, metavar="N",
                     help="hostile pages the fuzz tests push through the parsers and pipelines "
                          "(default: a CI-sized run; 10000 for the figure in README.md)")


_ARTICLE = {
    "kind": "article",
    "url": f"{LIVE_SITE}/503386/Erholung?utm_medium=email",
    "canonical_url": f"{LIVE_SITE}/503386/Erholung",
    "article_id": 503386,
    "layout": "legacy",
    "section": "Weltwirtschaft",
    "headline": "Erholung in Sicht: Italiens Wirtschaft öffnet schrittweise",
    "lead": "Die Regierung in Rom lockert die Maßnahmen – vorsichtig.",
    "authors": [],
    "published_raw": "13.04.2020 10:22",
    "published_at": "2020-04-13T10:22:00+02:00",
    "updated_raw": "13.04.2020 10:22",
    "updated_at": "2020-04-13T10:22:00+02:00",
    "reading_time_minutes": 9,
    "image": {"url": f"{LIVE_SITE}/img/rom.jpg", "caption": "Leere herrscht in Rom.", "credit": "dpa"},
    "topics": ["Europa"],
    "body": [{"kind": "paragraph", "text": "Italiens Wirtschaft „erholt“ sich langsam."},
             {"kind": "heading", "text": "Größere Sorgen"},
             {"kind": "paragraph", "text": "Die Exporte brechen ein."}],
    "paywalled": False,
    "teasers": [{"position": 1, "sponsored": False, "section": "Finanzen",
                 "headline": "US-Börsen: Netflix übertrifft Erwartungen, doch Aktie fällt",
                 "url": f"{LIVE_SITE}/718001/netflix", "published_raw": "21.01.2026",
                 "published_on": "2026-01-21", "snippet": "Netflix gab am Dienstag ..."}],
    "word_count": 12,
    "warnings": [],
}

_LISTING = {
    "kind": "listing", "listing": "section", "url": f"{LIVE_SITE}/politik/page/2/",
    "section": "Politik", "page": 2, "next_page": f"{LIVE_SITE}/politik/page/3/", "warnings": [],
    "teasers": [{"position": 1, "sponsored": True, "section": None, "headline": "Jetzt Gold kaufen",
                 "url": "https://advertiser.example/gold", "published_raw": None,
                 "published_on": None, "snippet": "Sichern Sie sich"},
                {"position": 2, "sponsored": False, "section": "Politik",
                 "headline": "Koalition streitet über Haushalt", "url": f"{LIVE_SITE}/718460/Haushalt",
                 "published_raw": "09.01.2026", "published_on": "2026-01-09", "snippet": "Berlin ..."}],
}


@pytest.fixture
def make_article() -> Callable[..., dict[str, Any]]:
    """Factory of parse-contract article dicts (``parse-output.md``); keyword arguments override fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        record = copy.deepcopy(_ARTICLE)
        record.update(overrides)
        return record

    return make


@pytest.fixture
def make_listing() -> Callable[..., dict[str, Any]]:
    """Factory of parse-contract listing dicts; keyword arguments override fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        record = copy.deepcopy(_LISTING)
        record.update(overrides)
        return record

    return make


@pytest.fixture
def fixture_site() -> Path:
    """The bundled crawlable copy of the site, ``fixtures/site/``."""
    return FIXTURE_SITE


@pytest.fixture
def mirror(fixture_site: Path) -> Iterator[MirrorServer]:
    """``fixtures/site/`` served on 127.0.0.1 (ephemeral port) for one test; ``.hits`` logs every request answered."""
    with MirrorServer(fixture_site) as server:
        yield server


@pytest.fixture(scope="session")
def crawled(tmp_path_factory) -> Path:
    """One ``dwnscraper crawl --mirror fixtures/site`` (a subprocess, over HTTP on 127.0.0.1) into a
    fresh ``dwn.db``; tests that only read share it (copy it to write)."""
    db = tmp_path_factory.mktemp("crawled") / "dwn.db"
    command = [sys.executable, "-m", "dwnscraper", "crawl", "--mirror", str(FIXTURE_SITE), "--db", str(db),
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=db.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return db
