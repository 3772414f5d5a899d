"""The SQLite archive on hand-written parse-contract records."""

from __future__ import annotations

import json
import sqlite3
import zlib

import pytest
from sqlite_utils import Database

from dwnscraper.storage import Archive, berlin_day, raw_page_body

FETCHED = "2026-01-21T10:00:00+00:00"


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "dwn.db", batch_size=3) as opened:
        yield opened


def store_page(archive, record, body=b"<html>seite</html>"):
    raw_id = archive.add_raw_page(url=record["url"], final_url=record["url"], status=200,
                                  headers={"Content-Type": "text/html"}, body=body, fetched_at=FETCHED)
    archive.add_article(record, raw_id, FETCHED)
    return raw_id


def test_schema_is_created_by_recorded_migrations(tmp_path):
    Archive(tmp_path / "dwn.db").open().close()
    db = Database(tmp_path / "dwn.db")
    assert {"raw_pages", "articles", "article_revisions", "listings", "teasers", "crawl_runs",
            "errors", "articles_fts"} <= set(db.table_names())
    assert [row["name"] for row in db["_sqlite_migrations"].rows] == [
        "m001_initial", "m002_articles_body_html", "m003_articles_published_on", "m004_teaser_placements"]
    assert db.view_names() == ["teaser_placements"]
    assert db.journal_mode == "wal"


def test_reopening_applies_no_migration_twice(tmp_path):
    for _ in range(2):
        Archive(tmp_path / "dwn.db").open().close()
    assert Database(tmp_path / "dwn.db")["_sqlite_migrations"].count == 4


def test_article_row_carries_contract_fields(archive, make_article):
    store_page(archive, make_article())
    archive.flush()
    row = archive.db["articles"].get("id:503386")
    assert row["article_id"] == 503386
    assert row["headline"] == "Erholung in Sicht: Italiens Wirtschaft öffnet schrittweise"
    assert row["published_at"] == "2020-04-13T10:22:00+02:00"
    assert row["image_credit"] == "dpa"
    assert json.loads(row["topics"]) == ["Europa"]
    assert row["body_text"] == (
        "Italiens Wirtschaft „erholt“ sich langsam.\n\nGrößere Sorgen\n\nDie Exporte brechen ein.")
    assert json.loads(row["body"])[1] == {"kind": "heading", "text": "Größere Sorgen"}
    assert row["paywalled"] == 0
    assert row["revision"] == 1


def test_raw_page_is_stored_compressed_with_hash(archive, make_article):
    body = "<html>Größe</html>".encode() * 100
    raw_id = store_page(archive, make_article(), body=body)
    archive.flush()
    row = archive.db["raw_pages"].get(raw_id)
    assert len(row["body"]) < len(body)
    assert raw_page_body(row) == body
    assert row["body_size"] == len(body)
    assert len(row["content_hash"]) == 64
    [page] = archive.raw_pages()
    assert page.body == body and page.headers == {"Content-Type": "text/html"}


def test_url_variants_fold_into_one_article(archive, make_article):
    base = "https://deutsche-wirtschafts-nachrichten.de/503386/Erholung"
    for url in (f"http://www.{base[8:]}/feed", f"{base}?comments=1", base):
        store_page(archive, make_article(url=url))
    archive.flush()
    assert archive.db["articles"].count == 1
    assert archive.db["article_revisions"].count == 1
    assert archive.counts["articles_new"] == 1 and archive.counts["articles_unchanged"] == 2


def test_changed_content_adds_a_revision_and_keeps_the_old(archive, make_article):
    store_page(archive, make_article())
    archive.flush()
    store_page(archive, make_article(headline="Erholung abgesagt", teasers=[]))
    store_page(archive, make_article(headline="Erholung abgesagt", warnings=["x"]))
    archive.flush()
    revisions = list(archive.db.query("SELECT revision, record FROM article_revisions ORDER BY revision"))
    assert [r["revision"] for r in revisions] == [1, 2]
    assert json.loads(revisions[0]["record"])["headline"].startswith("Erholung in Sicht")
    assert archive.db["articles"].get("id:503386")["revision"] == 2
    assert archive.counts["articles_updated"] == 1


def test_wordpress_article_keyed_by_path(archive, make_article):
    url = "https://deutsche-wirtschafts-nachrichten.de/2016/09/24/Merkel-Reform/"
    store_page(archive, make_article(url=url, canonical_url=url.lower(), article_id=None, layout="wordpress"))
    archive.flush()
    assert archive.known_identities() == {"wp:/2016/09/24/merkel-reform/"}


def store_listing(archive, record):
    raw_id = archive.add_raw_page(url=record["url"], final_url=record["url"], status=200,
                                  headers={}, body=b"x", fetched_at=FETCHED)
    archive.add_listing(record, raw_id, FETCHED)
    archive.flush()
    return raw_id


def test_listing_and_teasers_are_stored(archive, make_listing):
    raw_id = store_listing(archive, make_listing())
    assert archive.db["listings"].get(raw_id)["next_page"].endswith("/politik/page/3/")
    teasers = list(archive.db.query("SELECT position, sponsored, identity FROM teasers ORDER BY position"))
    assert teasers == [{"position": 1, "sponsored": 1, "identity": None},
                       {"position": 2, "sponsored": 0, "identity": "id:718460"}]


def test_storing_a_page_again_replaces_its_whole_teaser_set(archive, make_listing):
    record = make_listing()
    raw_id = store_listing(archive, record)
    archive.add_listing({**record, "teasers": record["teasers"][:1]}, raw_id, FETCHED)
    archive.flush()
    assert [row["position"] for row in archive.db.query("SELECT position FROM teasers")] == [1]
    archive.add_listing(record, raw_id, FETCHED)
    archive.add_listing({**record, "teasers": []}, raw_id, FETCHED)
    archive.flush()
    assert archive.db["teasers"].count == 0


def test_full_text_search_finds_umlauts(archive, make_article):
    store_page(archive, make_article())
    archive.flush()
    hits = list(archive.db["articles"].search("Größere"))
    assert [hit["identity"] for hit in hits] == ["id:503386"]


def test_writes_are_batched(tmp_path, make_article):
    with Archive(tmp_path / "dwn.db", batch_size=100) as archive:
        store_page(archive, make_article())
        other = sqlite3.connect(tmp_path / "dwn.db")
        assert other.execute("SELECT count(*) FROM raw_pages").fetchone() == (0,)
    assert other.execute("SELECT count(*) FROM raw_pages").fetchone() == (1,)
    other.close()


def test_run_records_counts_and_coverage(archive, make_article):
    run_id = archive.start_run("sections", {"refresh": False})
    raw_id = archive.add_raw_page(url="u", final_url="u", status=200, headers={}, body=b"",
                                  fetched_at=FETCHED, crawl_run_id=run_id)
    archive.add_article(make_article(), raw_id, FETCHED, crawl_run_id=run_id)
    archive.add_error(url="u2", stage="http", message="HTTP 500", crawl_run_id=run_id)
    coverage = archive.finish_run(run_id, "finished", {"downloader/request_count": 2})
    assert coverage["legacy"]["articles"] == 1
    assert coverage["legacy"]["headline"] == 1.0 and coverage["legacy"]["authors"] == 0.0
    run = archive.run(run_id)
    assert (run["pages_fetched"], run["articles_new"], run["errors"]) == (1, 1, 1)
    assert json.loads(run["stats"])["downloader/request_count"] == 2


def test_raw_pages_of_older_zlib_archives_still_read():
    assert raw_page_body({"id": 1, "body_compression": "zlib", "body": zlib.compress(b"<html>alt</html>")}) \
        == b"<html>alt</html>"
    with pytest.raises(ValueError, match="unknown compression 'lzma'"):
        raw_page_body({"id": 2, "body_compression": "lzma", "body": b""})


@pytest.mark.parametrize(("moment", "day"), [
    ("2014-09-26T01:03:00+02:00", "2014-09-26"),
    ("2014-09-25T23:03:00+00:00", "2014-09-26"),
    ("2026-01-18T23:30:00+00:00", "2026-01-19"),
    ("2026-01-18T22:59:59+00:00", "2026-01-18"),
    ("2026-03-29T00:30:00+00:00", "2026-03-29"),
    ("2014-09-26T01:03:00", "2014-09-26"),
    (None, None),
])
def test_berlin_day_is_the_day_in_berlin(moment, day):
    assert berlin_day(moment) == day
