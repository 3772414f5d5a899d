"""The RSS feed is untrusted XML: no entity is expanded and nothing outside the feed is loaded.

Each test serves a copy of the fixture site on 127.0.0.1 whose ``/feed/`` is hostile, runs the
``feed`` spider over real HTTP and inspects every row it stored. Every entity points at a file in
the test's own directory or at a second server on 127.0.0.1 that logs each request it gets.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import fresh

from dwnscraper import LIVE_SITE
from dwnscraper.mirror import MirrorServer
from dwnscraper.spiders.feed import feed_links
from dwnscraper.storage import raw_page_body

MEMORY_LIMIT_MB = 512
"""Scrapy's MemoryUsage extension closes the crawl above this peak RSS; an expanded bomb is gigabytes."""

WATCHED = ["-s", f"MEMUSAGE_LIMIT_MB={MEMORY_LIMIT_MB}", "-s", "MEMUSAGE_CHECK_INTERVAL_SECONDS=0.05"]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log"]

LISTED = f"{LIVE_SITE}/718413/Industrie-in-der-Krise-Auftraege-brechen-im"
HIDDEN = f"{LIVE_SITE}/718400/koalition-ringt-um-den-haushalt-streit-ueber"
SECRET = "Kontodaten-7f3c-geheim"

LAUGHS = "\n".join(
    [' <!ENTITY lol0 "lol">']
    + [f' <!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)]
)

BILLION_LAUGHS = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss [
{LAUGHS}
 <!ENTITY hidden "{HIDDEN}">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>{LISTED}</link><description>&lol9;&lol9;</description></item>
<item><title>Versteckt</title><link>&hidden;</link></item>
</channel></rss>
"""

XXE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss SYSTEM "{entities}/evil.dtd" [
 <!ENTITY hidden "{hidden}">
 <!ENTITY file SYSTEM "{secret_uri}">
 <!ENTITY remote SYSTEM "{entities}/remote.xml">
 <!ENTITY % parameter SYSTEM "{entities}/parameter.dtd">
 %parameter;
]>
<rss version="2.0"><channel><title>&file;</title>
<item><title>&remote;</title><link>{listed}</link><description>&file;</description></item>
<item><title>Datei</title><link>&file;</link></item>
<item><title>Netz</title><link>&remote;</link></item>
<item><title>Versteckt</title><link>&hidden;</link></item>
</channel></rss>
"""


def hostile_site(tmp_path: Path, feed: str) -> Path:
    site = tmp_path / "site"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "site", site)
    (site / "feed.xml").write_text(feed, encoding="utf-8")
    return site


def crawl_feed(site: Path, db: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the ``feed`` spider against ``site`` on 127.0.0.1; the process and the paths it requested."""
    with MirrorServer(site) as mirror:
        command = [sys.executable, "-m", "dwnscraper", "crawl", "feed", "--site", mirror.url,
                   "--db", str(db), *FAST, *WATCHED]
        done = subprocess.run(fresh(command), capture_output=True, text=True, timeout=120, cwd=db.parent)
    return done, [hit.target for hit in mirror.hits]


def stored_text(db: Path) -> Iterator[str]:
    """Every value of every row of every table, raw page bodies decompressed."""
    with sqlite3.connect(db) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in connection.execute(f"SELECT * FROM [{table}]"):
                yield from (str(value) for value in row if not isinstance(value, bytes))
        connection.row_factory = sqlite3.Row
        for row in connection.execute("SELECT id, body, body_compression FROM raw_pages"):
            yield raw_page_body(row).decode("utf-8", errors="replace")


def last_run(db: Path) -> dict:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return dict(connection.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())


def assert_crawl_finished_in_bounded_memory(done: subprocess.CompletedProcess, db: Path) -> None:
    assert done.returncode == 0, done.stderr[-3000:]
    run = last_run(db)
    stats = json.loads(run["stats"])
    assert run["finish_reason"] == "finished"
    assert "memusage/limit_reached" not in stats
    assert stats["memusage/max"] < MEMORY_LIMIT_MB * 1024 * 1024


def test_billion_laughs_feed_is_not_expanded(tmp_path):
    db = tmp_path / "dwn.db"
    done, requested = crawl_feed(hostile_site(tmp_path, BILLION_LAUGHS), db)

    assert_crawl_finished_in_bounded_memory(done, db)
    assert "The feed https://deutsche-wirtschafts-nachrichten.de/feed/ is broken" in done.stderr
    assert requested == ["/robots.txt", "/feed/"]
    assert not any("lollol" in text for text in stored_text(db))


@pytest.fixture
def entity_server(tmp_path) -> Iterator[MirrorServer]:
    """A second loopback server for the DTD and the external entities; it must get no request."""
    folder = tmp_path / "entities"
    folder.mkdir()
    (folder / "evil.dtd").write_text('<!ENTITY lol "lol">', encoding="utf-8")
    (folder / "remote.xml").write_text(f"{HIDDEN}?{SECRET}", encoding="utf-8")
    (folder / "parameter.dtd").write_text(f'<!ENTITY leak "{SECRET}">', encoding="utf-8")
    with MirrorServer(folder) as server:
        yield server


def test_external_entities_are_not_loaded(tmp_path, entity_server):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{HIDDEN}?{SECRET}", encoding="utf-8")
    feed = XXE.format(entities=entity_server.url, secret_uri=secret.as_uri(), listed=LISTED, hidden=HIDDEN)
    db = tmp_path / "dwn.db"
    done, requested = crawl_feed(hostile_site(tmp_path, feed), db)

    assert_crawl_finished_in_bounded_memory(done, db)
    assert entity_server.hits == []
    assert any(target.startswith("/718413/") for target in requested)
    assert not any(SECRET in target for target in requested)
    assert not any(target.startswith("/718400/") for target in requested), "an internal entity was expanded"
    assert not any(SECRET in text for text in stored_text(db))


@pytest.mark.parametrize("body", [b"", b"\x00\xff garbage", b"<rss><channel><item><link>",
                                  BILLION_LAUGHS.encode(), BILLION_LAUGHS.encode()[:400]])
def test_unreadable_feed_gives_no_link(body, caplog):
    assert feed_links(body, f"{LIVE_SITE}/feed/") == []
    assert "The feed https://deutsche-wirtschafts-nachrichten.de/feed/ is" in caplog.text


def test_broken_feed_gives_the_links_before_the_break():
    body = f"<rss><channel><item><link> {LISTED} </link></item><item><link>{HIDDEN}</link>".encode()
    assert feed_links(body, f"{LIVE_SITE}/feed/") == [LISTED, HIDDEN]


def test_internal_entity_is_not_expanded_in_a_link():
    body = f"""<!DOCTYPE rss [<!ENTITY hidden "{HIDDEN}">]>
<rss><channel><item><link>{LISTED}</link></item><item><link>&hidden;</link></item></channel></rss>""".encode()
    assert feed_links(body, f"{LIVE_SITE}/feed/") == [LISTED]
