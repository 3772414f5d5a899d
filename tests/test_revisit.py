"""Following articles as they change: the revisit policy, the listing signal and revisions.

Three real ``sections`` crawls over one archive, each against a mirror on 127.0.0.1 with the clock
set by ``DWN_NOW``: the bundled site at 10:00 on 20.01.2026, its second edition (``site_edition``)
at 22:00 with the default policy, and the second edition again at 23:00 with ``DWN_REVISIT=400d:0s``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from site_edition import ADDED_PARAGRAPH, EDITED, EXTENDED, NEW, REWORDED, UPDATED_AT, make_second_edition
from test_crawl import crawl, rows

from dwnscraper import LIVE_SITE
from dwnscraper.mirror import MirrorServer
from dwnscraper.parsing.urls import article_identity
from dwnscraper.revisit import parse_duration, parse_policy
from dwnscraper.storage import CHANGES_SQL, Archive, changed_teasers

MORNING = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
EVENING = MORNING + timedelta(hours=12)
NIGHT = EVENING + timedelta(hours=1)


def fetched_identities(mirror: MirrorServer, db: Path) -> set[str]:
    """The stored articles a crawl asked the mirror for (the site's broken pages, never stored, are
    asked for by every crawl)."""
    stored = {identity for (identity,) in rows(db, "SELECT identity FROM articles")}
    return {article_identity(f"{LIVE_SITE}{urlsplit(hit.target).path}") for hit in mirror.hits} & stored


def listing_paths(mirror: MirrorServer) -> set[str]:
    return {urlsplit(hit.target).path.rstrip("/") for hit in mirror.hits if "/page/" in hit.target}


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> Iterator[dict]:
    """The three crawls: for each, the mirror (with its hit log) and the finished process."""
    folder = tmp_path_factory.mktemp("revisit")
    db = folder / "dwn.db"
    second = make_second_edition(folder / "site-v2")
    crawls = {}
    for name, site, now, extra in (("first", Path(__file__).parent.parent / "fixtures" / "site", MORNING, ()),
                                   ("second", second, EVENING, ()),
                                   ("third", second, NIGHT, ("-s", "DWN_REVISIT=400d:0s"))):
        with MirrorServer(site) as mirror:
            crawls[name] = (mirror, crawl(mirror, db, "-s", f"DWN_NOW={now.isoformat()}", *extra))
    yield {"db": db, **crawls}


def revisions(db: Path) -> dict[str, int]:
    return dict(rows(db, "SELECT identity, count(*) FROM article_revisions GROUP BY identity"))


def test_all_three_crawls_succeed(editions):
    for name in ("first", "second", "third"):
        assert editions[name][1].returncode == 0, editions[name][1].stderr[-3000:]


def test_second_crawl_stores_the_new_articles_and_follows_reworded_headlines(editions):
    db = editions["db"]
    headlines = dict(rows(db, "SELECT identity, headline FROM articles"))
    for article in NEW + REWORDED:
        assert headlines[article["identity"]] == article["headline"]
    mirror, _ = editions["second"]
    new_or_changed = {article["identity"] for article in NEW + REWORDED}
    young = {identity for identity, published in rows(db, "SELECT identity, published_at FROM articles")
             if datetime.fromisoformat(published) > EVENING - timedelta(days=14)}
    fetched = fetched_identities(mirror, db)
    assert new_or_changed <= fetched
    assert fetched - new_or_changed <= young, "an article older than 14 days and unchanged in the listings was fetched"
    assert fetched - new_or_changed == {"id:718413"}, "only the article younger than 2 days is due after 12 hours"


def test_a_listing_with_a_changed_teaser_is_not_all_known(editions):
    """Finanzen page 1 shows only stored articles, one with a reworded headline: page 2 is fetched
    in the second crawl only; Wirtschaft (unchanged) stops at page 1 every time."""
    assert "/finanzen/page/2" in listing_paths(editions["second"][0])
    assert "/finanzen/page/2" not in listing_paths(editions["third"][0])
    assert "/wirtschaft/page/2" not in listing_paths(editions["second"][0]) | listing_paths(editions["third"][0])


def test_a_refetch_with_unchanged_content_only_updates_last_fetched(editions):
    db = editions["db"]
    [(revision, first_seen, last_fetched, fetches)] = rows(
        db, "SELECT revision, first_seen_at, last_fetched_at, (SELECT count(*) FROM raw_pages"
            " WHERE url LIKE '%/718413/%') FROM articles WHERE identity = 'id:718413'")
    assert (revision, first_seen, last_fetched, fetches) == (1, MORNING.isoformat(), NIGHT.isoformat(), 3)


def test_extended_bodies_arrive_only_with_the_wider_policy(editions):
    db = editions["db"]
    extended = {article["identity"] for article in EXTENDED}
    assert not extended & fetched_identities(editions["second"][0], db)
    for identity in extended:
        [(body, updated_at)] = rows(db, "SELECT body_text, updated_at FROM articles WHERE identity = ?", identity)
        assert body.startswith(ADDED_PARAGRAPH)
        assert updated_at == UPDATED_AT
    younger_than_400_days = {identity for identity, published in rows(db, "SELECT identity, published_at FROM articles")
                             if datetime.fromisoformat(published) > NIGHT - timedelta(days=400)}
    assert fetched_identities(editions["third"][0], db) == younger_than_400_days


def test_every_edited_article_has_two_revisions_and_every_other_one(editions):
    counts = revisions(editions["db"])
    edited = {article["identity"] for article in EDITED}
    assert {identity for identity, count in counts.items() if count == 2} == edited
    assert {count for identity, count in counts.items() if identity not in edited} == {1}
    assert len(counts) == 34


def test_changed_teaser_boxes_make_no_revision(editions):
    """718504's page shows a card of the reworded 718530; refetched, it keeps its one revision."""
    db = editions["db"]
    shown = rows(db, "SELECT teasers.headline FROM articles JOIN teasers ON teasers.raw_page_id = articles.raw_page_id"
                     " WHERE articles.identity = 'id:718504' AND teasers.identity = 'id:718530'")
    assert shown == [(REWORDED[1]["headline"],)]
    assert revisions(db)["id:718504"] == 1


def test_durations_and_policy():
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("0s") == timedelta(0)
    assert parse_policy("14d:1d,6h:15m, 2d:2h") == ((timedelta(hours=6), timedelta(minutes=15)),
                                                    (timedelta(days=2), timedelta(hours=2)),
                                                    (timedelta(days=14), timedelta(days=1)))
    assert parse_policy("") == ()
    for bad in ("6h", "6x:1h", "0s:1h", "1.5h:1h"):
        with pytest.raises(ValueError, match="DWN_REVISIT"):
            parse_policy(bad)


def test_due_articles_follow_the_tiers(tmp_path, make_article):
    """One article per case, published and last fetched relative to ``now``."""
    now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    cases = {  # article id: (age, since last fetch, due?)
        1: (timedelta(hours=1), timedelta(minutes=20), True),
        2: (timedelta(hours=1), timedelta(minutes=10), False),
        3: (timedelta(days=1), timedelta(hours=1), False),
        4: (timedelta(days=1), timedelta(hours=3), True),
        5: (timedelta(days=3), timedelta(hours=25), True),
        6: (timedelta(days=20), timedelta(days=10), False),
        7: (timedelta(hours=2), timedelta(minutes=15), True),
    }
    with Archive(tmp_path / "dwn.db") as archive:
        for article_id, (age, since, _) in cases.items():
            url = f"https://deutsche-wirtschafts-nachrichten.de/{article_id}/a"
            record = make_article(url=url, canonical_url=url, article_id=article_id,
                                  published_at=(now - age).isoformat())
            archive.add_article(record, archive.add_raw_page(url=url, final_url=url, status=200, headers={},
                                                             body=b"x", fetched_at=now - since), now - since)
        archive.flush()
        due = archive.due_articles(parse_policy("6h:15m,2d:2h,14d:1d"), now)
        assert {row["identity"] for row in due} == {f"id:{n}" for n, case in cases.items() if case[2]}
        assert archive.due_articles(parse_policy("400d:0s"), now) and not archive.due_articles((), now)


def test_a_bad_policy_or_clock_is_one_sentence(tmp_path):
    for setting in ("DWN_REVISIT=2d", "DWN_NOW=yesterday", "DWN_NOW=2026-01-20T10:00"):
        done = subprocess.run([sys.executable, "-m", "dwnscraper", "crawl", "--db", str(tmp_path / "x.db"),
                               "--site", "http://127.0.0.1:9", "-s", setting], capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and ("DWN_REVISIT" in done.stderr or "DWN_NOW" in done.stderr)
        assert not (tmp_path / "x.db").exists()


def test_integrity(editions):
    with sqlite3.connect(editions["db"]) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# -- history and changes, through the command line -------------------------------------------------


def cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dwnscraper", *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def test_history_shows_each_revision_with_a_word_diff(editions):
    db = editions["db"]
    done = cli("history", db, "503412", "-f", "table")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"id:503412: {REWORDED[0]['headline']}"
    assert "Revision 1, fetched 2026-01-20T09:00:00+00:00 (crawl run 1): first version" in lines
    assert "Revision 2, fetched 2026-01-20T21:00:00+00:00 (crawl run 2): headline, updated_at" in lines
    assert ("  headline: Erholung [-in Sicht:-] {+verzögert sich:+} Italiens Wirtschaft öffnet "
            "[-schrittweise-] {+nur zögerlich+}") in lines
    assert f"  updated_at: (none) → {UPDATED_AT}" in lines
    placement = next(line for line in lines if "/politik" in line)
    assert placement.split() == [f"{LIVE_SITE}/politik", "#3", "2026-01-20T09:00:00+00:00", "–",
                                 "2026-01-20T22:00:00+00:00", "13.0", "h", "3×"]


def test_history_json_is_the_same_as_data_for_any_key(editions):
    db = editions["db"]
    article = EXTENDED[0]
    outputs = [json.loads(cli("history", db, key, "-f", "json").stdout)
               for key in (article["identity"], article["url"] + "?utm_source=x", "718465")]
    assert outputs[0] == outputs[1] == outputs[2]
    history = outputs[0]
    assert [revision["revision"] for revision in history["revisions"]] == [1, 2]
    changes = {change["field"]: change for change in history["revisions"][1]["changes"]}
    assert set(changes) == {"body", "updated_at"}
    assert changes["body"]["diff"][0] == {"op": "insert", "text": ADDED_PARAGRAPH}
    assert [op["op"] for op in changes["body"]["diff"]] == ["insert", "equal"]
    assert changes["body"]["new"] == f"{ADDED_PARAGRAPH}\n\n{changes['body']['old']}"


def test_history_of_an_unknown_article_is_one_sentence(editions):
    done = cli("history", editions["db"], "https://example.org/1/x")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: The archive holds no article 'https://example.org/1/x'; give its id, identity or URL."]


def test_changes_lists_the_revised_articles_of_a_period(editions):
    db = editions["db"]
    second = json.loads(cli("changes", db, "--since", "2026-01-20T21:30", "--until", "2026-01-20T23:00").stdout)
    assert {row["identity"]: row["changed_fields"] for row in second} == {
        REWORDED[0]["identity"]: "headline, updated_at", REWORDED[1]["identity"]: "headline, updated_at"}
    everything = json.loads(cli("changes", db, "--since", "2026-01-20").stdout)
    assert {row["identity"] for row in everything} == {article["identity"] for article in EDITED}
    assert {row["changed_fields"] for row in everything if row["identity"] in {a["identity"] for a in EXTENDED}} \
        == {"updated_at, body"}
    assert json.loads(cli("changes", db, "--since", "2026-01-21").stdout) == []
    bad = cli("changes", db, "--since", "gestern")
    assert bad.returncode == 2 and "'gestern' is not a day (YYYY-MM-DD) or an ISO 8601 time." in bad.stderr


def test_datasette_canned_query_gives_the_same_changes(editions):
    from datasette.app import Datasette

    metadata = json.loads((Path(__file__).parent.parent / "datasette" / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["databases"]["dwn"]["queries"]["changes"]["sql"] == CHANGES_SQL
    app = Datasette([str(editions["db"])], metadata=metadata)
    since = "2026-01-20T00:00:00+01:00"

    async def get() -> list[dict]:
        response = await app.client.get(f"/dwn/changes.json?since={quote(since)}&until=&_shape=objects")
        assert response.status_code == 200, response.text
        return response.json()["rows"]

    assert asyncio.run(get()) == json.loads(cli("changes", editions["db"], "--since", since).stdout)


def test_listing_signal_compares_teasers_with_stored_articles(tmp_path, make_article, make_listing):
    url = make_article()["canonical_url"]
    stored = make_article()

    def teaser(headline: str = stored["headline"], day: str = "2020-04-13", link: str = url) -> dict:
        return {"position": 1, "sponsored": False, "section": "Politik", "headline": headline, "url": link,
                "published_raw": None, "published_on": day, "snippet": None}

    reworded = teaser("Erholung verzögert sich")
    with Archive(tmp_path / "dwn.db") as archive:
        raw = archive.add_raw_page(url=url, final_url=url, status=200, headers={}, body=b"x", fetched_at=MORNING)
        archive.add_article(stored, raw, MORNING)
        archive.flush()
        signal = {"same": [teaser()], "older date": [teaser(day="2020-04-12")], "reworded": [reworded],
                  "newer date": [teaser(day="2020-04-14")], "variant URL": [teaser("Neu", link=url + "?utm=1")],
                  "not stored": [teaser("Neu", link=url.replace("503386", "503387"))], "no date": [teaser(day=None)]}
        assert {name for name, teasers in signal.items() if changed_teasers(archive.db, teasers)} == {
            "reworded", "newer date", "variant URL"}
        listing_url = "https://deutsche-wirtschafts-nachrichten.de/politik"
        page = archive.add_raw_page(url=listing_url, final_url=listing_url, status=200, headers={}, body=b"x",
                                    fetched_at=EVENING)
        archive.add_listing(make_listing(url=listing_url, teasers=[reworded]), page, EVENING)
        archive.flush()
        assert changed_teasers(archive.db, [reworded]) == set(), "a teaser seen on a listing before is no signal"
        assert changed_teasers(archive.db, [teaser(day="2020-04-14")] * 200) == {"id:503386"}
