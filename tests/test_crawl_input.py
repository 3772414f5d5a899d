"""Bad input is answered with one sentence and exit status 2, before anything is fetched or written;
sections are taken as printed or as slugs; feed exports get the stored records; the user agent names
the operator. Real ``dwnscraper`` and ``scrapy`` processes, the fixture site served on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import os
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dwnscraper.mirror import MirrorServer
from dwnscraper.preflight import PROJECT_AGENT
from dwnscraper.sections import SECTIONS
from dwnscraper.storage import article_record, listing_record, open_read_only, stored_teasers

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "fixtures" / "site"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DWN_PROGRESS=log"]
VALID = ", ".join(SECTIONS.values())
ARTICLE = "https://deutsche-wirtschafts-nachrichten.de/718413/Industrie-in-der-Krise-Auftraege-brechen-im"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, scrapy: bool = False) -> subprocess.CompletedProcess:
    """``dwnscraper ARGS`` (or ``scrapy ARGS`` in the repository) in a subprocess, without DWN_CONTACT
    from the environment unless ``env`` gives it."""
    environment = {key: value for key, value in os.environ.items() if key != "DWN_CONTACT"} | (env or {})
    command = [sys.executable, "-m", "scrapy" if scrapy else "dwnscraper", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment,
                          cwd=REPO if scrapy else cwd)


def refused(done: subprocess.CompletedProcess, sentence: str) -> None:
    """Exit 2, the sentence on stderr, and no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert sentence in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM sqlite_master ORDER BY name")]


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


# -- the database ---------------------------------------------------------------------------------


def test_db_under_a_missing_folder(tmp_path, mirror):
    done = run("crawl", "--site", mirror.url, "--db", "nowhere/dwn.db", *FAST, cwd=tmp_path)
    refused(done, "The folder nowhere for the database nowhere/dwn.db does not exist; create it first.")
    assert not (tmp_path / "nowhere").exists() and mirror.hits == []


def test_db_in_a_read_only_folder(tmp_path, mirror):
    folder = tmp_path / "readonly"
    folder.mkdir()
    command = ["crawl", "--site", mirror.url, "--db", str(folder / "dwn.db"), *FAST]
    if os.geteuid() == 0:
        # root writes in any folder whatever its mode: make it a read-only mount in a mount namespace.
        shell = 'mount --bind -o ro "$0" "$0" && exec "$@"'
        done = subprocess.run(["unshare", "-m", "sh", "-c", shell, str(folder), sys.executable, "-m", "dwnscraper",
                               *command], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    else:
        folder.chmod(0o555)
        done = run(*command, cwd=tmp_path)
    refused(done, f"The database {folder / 'dwn.db'} cannot be written: its folder {folder} does not take new files")
    assert list(folder.iterdir()) == [] and mirror.hits == []


def test_db_that_is_not_sqlite_is_left_alone(tmp_path, mirror):
    notes = tmp_path / "notes.txt"
    notes.write_text("Einkaufsliste: Brot, Käse\n", encoding="utf-8")
    done = run("crawl", "--site", mirror.url, "--db", "notes.txt", *FAST, cwd=tmp_path)
    refused(done, "notes.txt is not a SQLite database, so it cannot be a dwnscraper archive.")
    assert notes.read_text(encoding="utf-8") == "Einkaufsliste: Brot, Käse\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_someone_elses_sqlite_file_gets_no_tables(tmp_path, mirror):
    other = tmp_path / "budget.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE expenses (item TEXT, euro REAL)")
        connection.execute("INSERT INTO expenses VALUES ('Miete', 900)")
    done = run("crawl", "--site", mirror.url, "--db", "budget.db", *FAST, cwd=tmp_path)
    refused(done, "budget.db is a SQLite database but not a dwnscraper archive (it has no articles table)")
    assert tables(other) == ["expenses"]
    assert rows(other, "SELECT * FROM expenses") == [("Miete", 900.0)]


def test_an_empty_file_becomes_an_archive(tmp_path, mirror):
    (tmp_path / "dwn.db").touch()
    done = run("crawl", "--site", mirror.url, "--db", "dwn.db", "--section", "finanzen", "--max-pages", "1", *FAST,
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert rows(tmp_path / "dwn.db", "SELECT count(*) FROM listings") == [(1,)]


# -- the archive spider's days ----------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "sentence"), [
    ("01.01.2025", None, "The start day '01.01.2025' is not a date written YYYY-MM-DD (e.g. 2025-01-31)."),
    ("2025-01-01", "tomorrow", "The end day 'tomorrow' is not a date written YYYY-MM-DD (e.g. 2025-01-31)."),
    ("2025-02-30", None, "The start day '2025-02-30' is not a date written YYYY-MM-DD"),
    ("2025-03-01", "2025-02-01", "The start day 2025-03-01 is after the end day 2025-02-01."),
    ("2025-03-01", "2999-01-01", "The end day 2999-01-01 is after today"),
])
def test_archive_days_are_checked_before_the_crawl(tmp_path, mirror, start, end, sentence):
    done = run("crawl", "archive", "--start", start, *(["--end", end] if end else []), "--site", mirror.url,
               "--db", "dwn.db", *FAST, cwd=tmp_path)
    refused(done, sentence)
    assert mirror.hits == [] and not (tmp_path / "dwn.db").exists()


def test_scrapy_crawl_refuses_a_bad_day_with_the_spiders_sentence(tmp_path, mirror):
    done = run("crawl", "archive", "-a", "start=01.01.2025", "-s", f"DWN_SITE={mirror.url}",
               "-s", f"DWN_DB={tmp_path / 'dwn.db'}", *FAST, cwd=tmp_path, scrapy=True)
    assert done.returncode != 0
    assert "The start day '01.01.2025' is not a date written YYYY-MM-DD" in done.stderr
    assert mirror.hits == []


# -- the articles spider ----------------------------------------------------------------------------


def test_articles_without_urls_is_refused(tmp_path, mirror):
    done = run("crawl", "articles", "--site", mirror.url, "--db", "dwn.db", *FAST, cwd=tmp_path)
    refused(done, "The articles spider needs article URLs: --url URL or --urls-file FILE")
    assert mirror.hits == []


def test_scrapy_crawl_articles_takes_url_as_well_as_urls(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    done = run("crawl", "articles", "-a", f"url={ARTICLE}", "-s", f"DWN_SITE={mirror.url}", "-s", f"DWN_DB={db}",
               *FAST, cwd=tmp_path, scrapy=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert rows(db, "SELECT identity FROM articles") == [("id:718413",)]


def test_a_url_that_is_not_an_article_becomes_an_error_row(tmp_path, mirror):
    db = tmp_path / "dwn.db"
    (tmp_path / "urls.txt").write_text(f"# zwei\n{ARTICLE}\nhttps://example.org/718413/Fremd\n", encoding="utf-8")
    done = run("crawl", "articles", "--urls-file", "urls.txt", "--site", mirror.url, "--db", "dwn.db", *FAST,
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert rows(db, "SELECT identity FROM articles") == [("id:718413",)]
    assert rows(db, "SELECT stage, url, message FROM errors") == [
        ("discover", "https://example.org/718413/Fremd", "Not an article URL of the DWN site: not fetched.")]
    assert "discover error for https://example.org/718413/Fremd" in done.stderr
    assert [urlsplit(hit.target).path for hit in mirror.hits] == ["/robots.txt", urlsplit(ARTICLE).path]


# -- sections -------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["Politik", "politik", "POLITIK"])
def test_a_section_as_printed_or_as_slug(tmp_path, mirror, given):
    done = run("crawl", "--section", given, "--max-pages", "1", "--site", mirror.url, "--db", "dwn.db", *FAST,
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    listings = [hit.target for hit in mirror.hits if not hit.target.startswith(("/robots", "/7", "/5", "/20"))]
    assert listings == ["/politik"]
    assert rows(tmp_path / "dwn.db", "SELECT section, page FROM listings") == [("Politik", 1)]


def test_an_unknown_section_is_refused_with_the_valid_ones(tmp_path, mirror):
    done = run("crawl", "--section", "Europa", "--site", mirror.url, "--db", "dwn.db", *FAST, cwd=tmp_path)
    refused(done, f"'Europa' is not a DWN section; valid sections are {VALID} (as printed or in lower case).")
    assert mirror.hits == []


def test_a_tag_listing_path_is_still_crawled(tmp_path, mirror):
    done = run("crawl", "--section", "thema/europa", "--max-pages", "1", "--site", mirror.url, "--db", "dwn.db",
               *FAST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "/thema/europa" in [hit.target for hit in mirror.hits]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Path:
    """One crawl of the whole fixture site, written also as a feed export (``-O``)."""
    folder = tmp_path_factory.mktemp("exported")
    done = run("crawl", "--mirror", str(SITE), "--db", "dwn.db", "-O", "items.jsonl", *FAST, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


@pytest.mark.parametrize("command", ["search", "export"])
def test_read_commands_take_slugs_and_refuse_unknown_sections(crawled, command):
    text = ["Prozent"] if command == "search" else []

    def read(section: str) -> subprocess.CompletedProcess:
        return run(command, "dwn.db", *text, "--section", section, "-f", "jsonl", cwd=crawled)

    printed, slug = read("Wirtschaft"), read("wirtschaft")
    assert printed.returncode == slug.returncode == 0, printed.stderr + slug.stderr
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    assert lines and {line["section"] for line in lines} == {"Wirtschaft"}
    assert slug.stdout == printed.stdout
    refused(read("Sport"), f"'Sport' is not a DWN section; valid sections are {VALID}")


# -- feed exports -----------------------------------------------------------------------------------


def stored_records(db: Path) -> list[dict]:
    archive = open_read_only(db)
    try:
        articles = [article_record(row, stored_teasers(archive, row["raw_page_id"]))
                    for row in archive.query("SELECT * FROM articles")]
        listings = [listing_record(row, stored_teasers(archive, row["raw_page_id"]))
                    for row in archive.query("SELECT * FROM listings")]
    finally:
        archive.close()
    return articles + listings


def by_url(records: list[dict]) -> dict[str, dict]:
    return {record["url"]: record for record in records}


def test_crawl_output_holds_exactly_the_stored_records(crawled):
    exported = [json.loads(line) for line in (crawled / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    stored = stored_records(crawled / "dwn.db")
    assert len(exported) == len(stored) == len(by_url(exported))
    assert by_url(exported) == by_url(stored)
    assert {record["kind"] for record in exported} == {"article", "listing"}


def test_scrapy_crawl_of_an_unknown_spider_is_a_sentence(tmp_path):
    done = run("crawl", "sektionen", "-s", f"DWN_DB={tmp_path / 'dwn.db'}", *FAST, cwd=tmp_path, scrapy=True)
    refused(done, "There is no spider 'sektionen'; the spiders are archive, articles, feed, sections.")


def test_scrapy_crawl_exits_as_dwnscraper_crawl_when_every_request_fails(tmp_path):
    db = tmp_path / "dwn.db"
    done = run("crawl", "feed", "-s", "DWN_SITE=http://127.0.0.1:9", "-s", f"DWN_DB={db}", *FAST, cwd=tmp_path,
               scrapy=True)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "ERROR: Every request failed: no page was fetched, with 1 failures in the errors table; is the site down" \
        in done.stderr
    assert "Traceback" not in done.stderr


def test_scrapy_crawl_o_writes_the_records(tmp_path, mirror):
    db, items = tmp_path / "dwn.db", tmp_path / "items.jsonl"
    done = run("crawl", "sections", "-a", "sections=Finanzen", "-s", f"DWN_SITE={mirror.url}", "-s", f"DWN_DB={db}",
               "-O", str(items), *FAST, cwd=tmp_path, scrapy=True)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = [json.loads(line) for line in items.read_text(encoding="utf-8").splitlines()]
    assert exported and by_url(exported) == by_url(stored_records(db))


# -- the operator's contact -------------------------------------------------------------------------


def test_a_crawl_of_the_live_site_needs_a_contact(tmp_path):
    done = run("crawl", "--db", "dwn.db", *FAST, cwd=tmp_path)
    refused(done, "A crawl of the live site must name who runs it: set DWN_CONTACT to your e-mail address")
    assert not (tmp_path / "dwn.db").exists()


def test_scrapy_crawl_of_the_live_site_needs_a_contact(tmp_path):
    done = run("crawl", "feed", "-s", f"DWN_DB={tmp_path / 'dwn.db'}", *FAST, cwd=tmp_path, scrapy=True)
    refused(done, "A crawl of the live site must name who runs it")
    assert not (tmp_path / "dwn.db").exists()


def test_a_contact_that_is_neither_mail_nor_web_address_is_refused(tmp_path, mirror):
    done = run("crawl", "--site", mirror.url, "--db", "dwn.db", *FAST, cwd=tmp_path,
               env={"DWN_CONTACT": "ruf mich an"})
    refused(done, "DWN_CONTACT 'ruf mich an' is neither an e-mail address nor an http(s) web address.")


@pytest.mark.parametrize(("contact", "agent"), [
    (None, PROJECT_AGENT),
    ("archiv@example.org", "dwnscraper/0.1.0 (news archive research crawler; +mailto:archiv@example.org)"),
    ("https://example.org/kontakt", "dwnscraper/0.1.0 (news archive research crawler; +https://example.org/kontakt)"),
])
def test_the_user_agent_names_the_contact(tmp_path, mirror, contact, agent):
    done = run("crawl", "feed", "--site", mirror.url, "--db", "dwn.db", *FAST, cwd=tmp_path,
               env={"DWN_CONTACT": contact} if contact else None)
    assert done.returncode == 0, done.stderr[-2000:]
    assert mirror.hits and {hit.agent for hit in mirror.hits} == {agent}


# -- other commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("arguments", "sentence"), [
    (["--site", "127.0.0.1:8000"], "The site '127.0.0.1:8000' is not a web address; give it with its scheme"),
    (["--site", "http://127.0.0.1:9", "-s", "DWN_PARSE_WORKERS=abc"],
     "The setting DWN_PARSE_WORKERS must be a whole number, 0 or more, not 'abc'."),
    (["--site", "http://127.0.0.1:9", "-s", "DWN_COMMIT_INTERVAL=-1"],
     "The setting DWN_COMMIT_INTERVAL must be a number of seconds, 0 or more, not '-1'."),
    (["--site", "http://127.0.0.1:9", "-s", "DWN_PROGRESS=loud"],
     "The setting DWN_PROGRESS must be one of auto, tty, log, off, not 'loud'."),
])
def test_a_bad_site_or_setting_is_refused_before_the_crawl(tmp_path, arguments, sentence):
    done = run("crawl", "--db", str(tmp_path / "dwn.db"), *arguments, cwd=tmp_path)
    refused(done, sentence)
    assert not (tmp_path / "dwn.db").exists()


def test_serve_fixtures_on_a_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve-fixtures", str(SITE), "--port", str(port), cwd=tmp_path)
    refused(done, f"Port {port} on 127.0.0.1 cannot be used (Address already in use); choose another with --port.")


@pytest.mark.parametrize("moment", ["yesterday", "2026-01-21T10:00:00", "21.01.2026 10:00"])
def test_parse_fetched_at_needs_an_aware_iso_time(tmp_path, moment):
    page = next((REPO / "fixtures" / "pages" / "current").glob("*.html"))
    done = run("parse", str(page), "--url", ARTICLE, "--fetched-at", moment, cwd=tmp_path)
    refused(done, f"{moment!r} is not an ISO 8601 time with its offset, e.g. 2026-01-21T10:00:00+01:00.")


@pytest.mark.parametrize("command", [["parse"], ["reparse", "--check"]])
def test_a_folder_without_fixtures_is_refused(tmp_path, command):
    (tmp_path / "empty").mkdir()
    done = run(*command[:1], "empty", *command[1:], cwd=tmp_path)
    refused(done, "empty holds no fixtures (NAME.html beside NAME.meta.json); give a fixture folder")


def test_gzip_mirror_serves_what_the_plain_one_does(tmp_path):
    """The benchmark's gzipping server: a crawl of it stores the same pages as of the plain one."""
    stored = []
    for compress in (False, True):
        db = tmp_path / f"{compress}.db"
        with MirrorServer(SITE, compress=compress) as server:
            done = run("crawl", "--section", "politik", "--site", server.url, "--db", db.name, *FAST, cwd=tmp_path)
            request = urllib.request.Request(f"{server.url}/politik", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=10) as response:
                sent = response.headers.get("Content-Encoding"), response.read()
        assert done.returncode == 0, done.stderr[-2000:]
        stored.append(rows(db, "SELECT url, content_hash FROM raw_pages ORDER BY url"))
        page = (SITE / "politik.html").read_bytes()
        assert sent == (("gzip", gzip.compress(page, compresslevel=6, mtime=0)) if compress else (None, page))
    assert stored[0] == stored[1] and stored[0]
