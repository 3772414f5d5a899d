"""Real crawls: Scrapy in a subprocess, over HTTP, against the fixture site served on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dwnscraper.mirror import MirrorServer

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log"]
ARTICLE_PATH_PREFIXES = ("/7", "/5", "/20")
TRUNCATED_PAGE = "/721510/"


def crawl(mirror: MirrorServer, db: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "dwnscraper", "crawl", *args, "--site", mirror.url, "--db", str(db), *FAST]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=db.parent)


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def last_run(db: Path) -> dict:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return dict(connection.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())


def article_hits(mirror: MirrorServer) -> Counter[str]:
    """Article fetches per path; server errors and the truncated page (both retried) left out."""
    return Counter(urlsplit(hit.target).path for hit in mirror.hits
                   if hit.target.startswith(ARTICLE_PATH_PREFIXES) and hit.status < 500
                   and not hit.target.startswith(TRUNCATED_PAGE))


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    site = Path(__file__).resolve().parent.parent / "fixtures" / "site"
    return json.loads((site / "_manifest.json").read_text(encoding="utf-8"))["articles"]


@pytest.fixture(scope="module")
def first_crawl(tmp_path_factory, manifest):
    """One full ``sections`` crawl of the fixture site: (mirror with its hit log, db path, process)."""
    db = tmp_path_factory.mktemp("crawl") / "dwn.db"
    site = Path(__file__).resolve().parent.parent / "fixtures" / "site"
    with MirrorServer(site) as mirror:
        done = crawl(mirror, db)
    return mirror, db, done


def test_crawl_succeeds_and_prints_summary(first_crawl):
    _, db, done = first_crawl
    assert done.returncode == 0, done.stderr[-3000:]
    assert "32 new" in done.stdout
    assert f"Database: {db}" in done.stdout


def test_every_article_stored_once_with_its_fields(first_crawl, manifest):
    _, db, _ = first_crawl
    stored = {identity: (layout, section, headline) for identity, layout, section, headline in
              rows(db, "SELECT identity, layout, section, headline FROM articles")}
    assert stored == {a["identity"]: (a["layout"], a["section"], a["headline"]) for a in manifest}
    assert rows(db, "SELECT count(*) FROM articles WHERE published_at IS NULL OR body_text = ''") == [(0,)]


def test_url_variants_are_fetched_once(first_crawl):
    mirror, _, _ = first_crawl
    variants_linked = {"/718400/koalition-ringt-um-den-haushalt-streit-ueber",
                       "/718413/Industrie-in-der-Krise-Auftraege-brechen-im",
                       "/503419/Corona-Krise-Bundesregierung-schnuert-Rettungspaket"}
    hits = article_hits(mirror)
    assert max(hits.values()) == 1, hits
    assert variants_linked <= {path.removesuffix("/feed") for path in hits}


def test_listings_and_teasers_stored(first_crawl):
    _, db, _ = first_crawl
    assert rows(db, "SELECT count(*) FROM listings WHERE listing = 'section'") == [(12,)]
    assert rows(db, "SELECT count(*) FROM teasers WHERE page_kind = 'listing' AND sponsored = 1") == [(1,)]
    assert rows(db, "SELECT count(*) FROM teasers WHERE page_kind = 'article'")[0][0] >= 26 * 4


def test_bad_pages_give_error_rows_and_keep_the_raw_page(first_crawl):
    _, db, _ = first_crawl
    errors = rows(db, "SELECT e.stage, r.status, r.url FROM errors e JOIN raw_pages r ON r.id = e.raw_page_id "
                      "ORDER BY e.stage")
    assert [(stage, status, url.rsplit("/", 2)[-2]) for stage, status, url in errors] == [
        ("download", 200, "721510"), ("http", 500, "721500"), ("parse", 200, "721520")]


def test_no_request_leaves_the_mirror_and_robots_is_obeyed(first_crawl):
    mirror, db, _ = first_crawl
    netloc = urlsplit(mirror.url).netloc
    assert {hit.host for hit in mirror.hits} == {netloc}
    assert not [hit for hit in mirror.hits if hit.target.startswith(("/720999/", "/intern/"))]
    assert "/robots.txt" in {hit.target for hit in mirror.hits}
    stats = json.loads(last_run(db)["stats"])
    assert stats["downloader/request_count"] == len(mirror.hits)
    assert "offsite_guard/dropped" not in stats
    assert stats["robotstxt/forbidden"] == 1


def test_crawl_run_records_counts_and_coverage(first_crawl):
    _, db, _ = first_crawl
    run = last_run(db)
    assert (run["spider"], run["finish_reason"], run["articles_new"], run["errors"]) == (
        "sections", "finished", 32, 3)
    coverage = json.loads(run["coverage"])
    assert {layout: row["articles"] for layout, row in coverage.items()} == {
        "current": 16, "legacy": 10, "wordpress": 6}
    assert coverage["legacy"]["topics"] == 1.0


def test_second_run_fetches_listings_but_no_article(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    assert crawl(mirror, db).returncode == 0
    first = len(mirror.hits)
    done = crawl(mirror, db)
    assert done.returncode == 0, done.stderr[-3000:]
    second = mirror.hits[first:]
    refetched = {hit.target.split("/")[1] for hit in second if hit.target.startswith(ARTICLE_PATH_PREFIXES)}
    assert refetched == {"721500", "721510", "721520"}, "only the pages that failed are tried again"
    assert {"/politik", "/finanzen"} <= {hit.target for hit in second}
    assert not [hit for hit in second if "/page/2/" in hit.target], "a page of stored articles ends pagination"
    run = last_run(db)
    assert (run["articles_new"], run["pages_fetched"]) == (0, 8 + 3)
    assert rows(db, "SELECT count(*) FROM articles") == [(32,)]


def test_articles_stored_outside_a_listing_do_not_end_its_pagination(tmp_path, mirror):
    """Page 1 of Politik shows three articles, all stored by an ``articles`` crawl: no finished run
    walked Politik's pages, so page 2 is fetched, and its articles; a second run then stops at page 1."""
    db = tmp_path / "dwn.db"
    page_1 = ["/718504/Chipfabrik-in-Magdeburg-Das-Ende-eines-Prestigeprojekts",
              "/718400/koalition-ringt-um-den-haushalt-streit-ueber",
              "/503412/Erholung-in-Sicht-Italiens-Wirtschaft-oeffnet-schrittweise"]
    urls = [arg for path in page_1 for arg in ("--url", f"https://deutsche-wirtschafts-nachrichten.de{path}")]
    assert crawl(mirror, db, "articles", *urls).returncode == 0
    first = len(mirror.hits)
    done = crawl(mirror, db, "--section", "politik")
    assert done.returncode == 0, done.stderr[-3000:]
    assert [hit.target for hit in mirror.hits[first:] if hit.target.startswith("/politik")] == [
        "/politik", "/politik/page/2/"]
    assert rows(db, "SELECT count(*) FROM articles WHERE identity IN ('id:503468', 'wp:/2016/09/24/merkel-"
                    "verteidigt-fluechtlingspolitik-vor-der-fraktion/')") == [(2,)]
    second = len(mirror.hits)
    assert crawl(mirror, db, "--section", "politik").returncode == 0
    assert [hit.target for hit in mirror.hits[second:] if hit.target.startswith("/politik")] == ["/politik"]


def test_refresh_fetches_articles_again_and_keeps_one_revision(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    crawl(mirror, db)
    done = crawl(mirror, db, "--refresh", "--section", "politik")
    assert done.returncode == 0, done.stderr[-3000:]
    run = last_run(db)
    assert run["articles_new"] == 0 and run["articles_unchanged"] >= 3
    assert rows(db, "SELECT max(revision) FROM articles") == [(1,)]


def test_resumed_crawl_finishes_the_work(tmp_path, mirror, manifest):
    db, jobdir = tmp_path / "dwn.db", tmp_path / "job"
    stopped = crawl(mirror, db, "--resume", str(jobdir), "-s", "CLOSESPIDER_PAGECOUNT=12",
                    "-s", "CONCURRENT_REQUESTS=1")
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert last_run(db)["finish_reason"] == "closespider_pagecount"
    assert rows(db, "SELECT count(*) FROM articles")[0][0] < 32
    resumed = crawl(mirror, db, "--resume", str(jobdir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert last_run(db)["finish_reason"] == "finished"
    assert rows(db, "SELECT count(*) FROM articles") == [(len(manifest),)]
    assert max(article_hits(mirror).values()) == 1


def test_feed_spider_fetches_the_newest_articles(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    done = crawl(mirror, db, "feed")
    assert done.returncode == 0, done.stderr[-3000:]
    assert rows(db, "SELECT count(*) FROM articles") == [(10,)]
    assert rows(db, "SELECT count(*) FROM raw_pages WHERE url LIKE '%/feed/'") == [(1,)]


def test_archive_spider_walks_search_pages(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    done = crawl(mirror, db, "archive", "--start", "2020-01-01", "--end", "2020-12-31")
    assert done.returncode == 0, done.stderr[-3000:]
    assert rows(db, "SELECT listing, page FROM listings ORDER BY page") == [("search", 1), ("search", 2)]
    assert rows(db, "SELECT count(*) FROM articles WHERE published_at LIKE '2020-%'")[0][0] >= 5


def test_articles_spider_folds_url_variants(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    path = "/718413/Industrie-in-der-Krise-Auftraege-brechen-im"
    urls = [f"http://www.deutsche-wirtschafts-nachrichten.de{path}?utm_medium=email",
            f"https://deutsche-wirtschafts-nachrichten.de{path}/feed",
            f"https://deutsche-wirtschafts-nachrichten.de{path}"]
    done = crawl(mirror, db, "articles", *[arg for url in urls for arg in ("--url", url)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert rows(db, "SELECT identity, url FROM articles") == [("id:718413", urls[0])]
    assert sum(article_hits(mirror).values()) == 1


def test_robots_txt_is_obeyed_by_every_request_that_waited_for_it(tmp_path, mirror):
    """The start requests wait for robots.txt together; the one it disallows, last of them, is not fetched."""
    db = tmp_path / "dwn.db"
    paths = ["/718413/Industrie-in-der-Krise-Auftraege-brechen-im", "/503419/Corona-Krise-Bundesregierung-schnuert",
             "/718400/koalition-ringt-um-den-haushalt-streit-ueber", "/720999/Zurueckgezogener-Artikel"]
    urls = [arg for path in paths for arg in ("--url", f"https://deutsche-wirtschafts-nachrichten.de{path}")]
    done = crawl(mirror, db, "articles", *urls)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not [hit for hit in mirror.hits if hit.target.startswith("/720999/")]
    assert json.loads(last_run(db)["stats"])["robotstxt/forbidden"] == 1
    assert rows(db, "SELECT count(*) FROM raw_pages") == [(3,)]


def test_low_field_coverage_fails_the_crawl(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    done = crawl(mirror, db, "--section", "politik", "-s", 'DWN_COVERAGE_THRESHOLDS={"authors": 0.9}')
    assert done.returncode == 1
    assert "Field authors is in only" in done.stderr and "articles fetched (threshold 90%)" in done.stderr
