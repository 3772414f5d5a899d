"""query, search, export, reparse and stats through click's CliRunner, on a database built by a real
crawl of the bundled fixture site (Scrapy in a subprocess, over HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing, suppress
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from dwnscraper.cli import main
from dwnscraper.storage import Archive, article_record, stored_teasers

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "fixtures" / "site"
PAGES = REPO / "fixtures" / "pages"
BERLIN = ZoneInfo("Europe/Berlin")
GOLD = "id:718426"
GOLD_HEADLINE = "Goldpreis auf Rekordhoch: Anleger flüchten in sichere Häfen"
GOLD_URL = "https://deutsche-wirtschafts-nachrichten.de/718426/Goldpreis-auf-Rekordhoch-Anleger-fluechten-in-sichere"


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    """The articles the fixture site holds, as its generator recorded them."""
    return json.loads((SITE / "_manifest.json").read_text(encoding="utf-8"))["articles"]


@pytest.fixture
def db(crawled, tmp_path) -> Path:
    """A private copy of the crawled database, for tests that write."""
    copy = tmp_path / "dwn.db"
    with closing(sqlite3.connect(crawled)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    return copy


def run(*args: str):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def berlin_days(db: Path) -> list[tuple[str, str]]:
    """Section and Berlin publication day of every article, computed here from ``published_at``."""
    return [(section, datetime.fromisoformat(published_at).astimezone(BERLIN).date().isoformat())
            for section, published_at in sql(db, "select section, published_at from articles")]


def fingerprint(db: Path) -> tuple[list[str], str]:
    """The files beside the database (SQLite's own -wal and -shm aside) and a hash of its content."""
    files = sorted(path.name for path in db.parent.iterdir() if not path.name.endswith(("-wal", "-shm")))
    with closing(sqlite3.connect(db)) as connection:
        content = hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    return files, content


def sql(db: Path, statement: str, *params: object) -> list[tuple]:
    """Run one statement on the database directly (committed) and return its rows."""
    with closing(sqlite3.connect(db)) as connection, connection:
        return connection.execute(statement, params).fetchall()


# -- query -----------------------------------------------------------------------------------------


def test_query_prints_json_outside_a_terminal(crawled, manifest):
    result = run("query", crawled, "select section, count(*) as n from articles group by section order by section")
    assert result.exit_code == 0, result.output
    per_section = Counter(article["section"] for article in manifest)
    expected = ",\n ".join(json.dumps({"section": section, "n": n}, ensure_ascii=False)
                           for section, n in sorted(per_section.items()))
    assert result.stdout == f"[{expected}]\n"


def test_query_named_parameters_and_csv(crawled):
    result = run("query", crawled, "select identity, headline from articles where identity = :id", "-p", "id", GOLD,
                 "-f", "csv")
    assert result.stdout == f"identity,headline\n{GOLD},{GOLD_HEADLINE}\n"


def test_query_jsonl_and_table(crawled):
    sql = "select identity, layout from articles where identity = :id"
    assert run("query", crawled, sql, "-p", "id", GOLD, "-f", "jsonl").stdout == (
        f'{{"identity": "{GOLD}", "layout": "current"}}\n')
    table = run("query", crawled, sql, "-p", "id", GOLD, "-f", "table").stdout
    assert "identity" in table and GOLD in table and "current" in table


def test_query_empty_result_is_an_empty_array(crawled):
    assert run("query", crawled, "select * from articles where 0").stdout == "[]\n"


@pytest.mark.parametrize(("sql", "what"), [
    ("DELETE FROM articles", "DELETE"),
    ("DROP TABLE articles", "DROP"),
    ("ATTACH 'other.db' AS other", "ATTACH"),
    ("DETACH main", "DETACH"),
    ("INSERT INTO errors (url, stage, message) VALUES ('x', 'parse', 'x')", "INSERT"),
    ("UPDATE articles SET headline = 'x'", "UPDATE"),
    ("WITH doomed AS (SELECT identity FROM articles) DELETE FROM articles WHERE identity IN doomed", "DELETE"),
    ("CREATE TABLE notes (x)", "CREATE"),
    ("ALTER TABLE articles ADD COLUMN x", "ALTER TABLE"),
    ("VACUUM", "VACUUM"),
    ("VACUUM INTO 'copy.db'", "VACUUM"),
    ("PRAGMA user_version = 7", "PRAGMA user_version with a value"),
    ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode with a value"),
    ("BEGIN", "a transaction"),
    ("REINDEX", "REINDEX"),
    ("REPLACE INTO errors (url) VALUES ('x')", "REPLACE"),
    ("SAVEPOINT before", "SAVEPOINT"),
    ("ANALYZE", "ANALYZE"),
    ("PRAGMA optimize", "PRAGMA optimize"),
    ("PRAGMA wal_checkpoint", "PRAGMA wal_checkpoint"),
])
def test_query_refuses_every_write_and_changes_nothing(db, sql, what):
    before = fingerprint(db)
    result = run("query", db, sql)
    assert result.exit_code == 1
    assert result.stderr == f"Error: query only reads the archive, so {what} is refused; nothing was changed.\n"
    assert fingerprint(db) == before


def test_query_read_only_pragmas_are_allowed(crawled):
    assert run("query", crawled, "PRAGMA user_version", "-f", "csv").stdout == "user_version\n0\n"
    assert "identity" in run("query", crawled, "PRAGMA table_info(articles)", "-f", "csv").stdout


def test_query_errors_are_sentences(crawled, tmp_path):
    assert run("query", crawled, "select * from nowhere").stderr == "Error: The SQL failed: no such table: nowhere.\n"
    two = run("query", crawled, "select 1; select 2")
    assert two.exit_code == 1 and two.stderr.startswith("Error: query runs one SQL statement at a time")
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello, this is no database" * 100)
    assert run("query", not_db, "select 1").stderr.startswith(f"Error: {not_db} is not a SQLite database")
    empty = tmp_path / "empty.db"
    sql(empty, "create table t (x)")
    assert run("query", empty, "select 1").stderr == (
        f"Error: {empty} is not a dwnscraper archive: it has no articles table.\n")


@pytest.mark.parametrize("statement", [
    "with recursive n(i) as (select 1 union all select i + 1 from n where i < 3) select sum(i) from n",
    "select count(*) from articles_fts('Goldpreis')",
    "select count(*) from articles_fts where articles_fts match 'headline:Goldpreis'",
    "select count(*) from json_tree('{\"a\": [1, 2]}')",
    "select count(*) from articles where json_extract(authors, '$[0]') is not null",
    "select count(*) from pragma_index_list('articles') where name = 'idx_articles_published_on'",
    "PRAGMA integrity_check",
])
def test_query_runs_every_reading_statement(crawled, statement):
    result = run("query", crawled, statement, "-f", "csv")
    assert result.exit_code == 0, result.output
    [(value,)] = sql(crawled, statement)
    assert result.stdout.splitlines()[1] == str(value) and value not in (0, None)


def test_query_refuses_writing_the_schema_table(db):
    before = fingerprint(db)
    result = run("query", db, "UPDATE sqlite_master SET sql = ''")
    assert result.exit_code == 1
    assert result.stderr == "Error: The SQL failed: table sqlite_master may not be modified.\n"
    assert fingerprint(db) == before


def test_query_reads_the_fts_index_json_each_and_pragma_functions(crawled):
    fts = run("query", crawled, "select headline from articles_fts where articles_fts match 'headline:Goldpreis'",
              "-f", "csv")
    assert fts.exit_code == 0, fts.output
    assert fts.stdout == f"headline\n{GOLD_HEADLINE}\n"
    ranked = run("query", crawled, "select rowid from articles_fts('Milliarden') order by rank", "-f", "csv")
    assert len(ranked.stdout.splitlines()) == 3
    per_topic = run("query", crawled, "select value as topic, count(*) as n from articles, json_each(articles.topics)"
                    " group by value order by value", "-f", "csv")
    assert per_topic.exit_code == 0, per_topic.output
    stored = sql(crawled, "select topics from articles")
    expected = Counter(topic for (topics,) in stored for topic in json.loads(topics))
    assert per_topic.stdout == "topic,n\n" + "".join(f"{topic},{n}\n" for topic, n in sorted(expected.items()))
    columns = run("query", crawled, "select name from pragma_table_info('articles') where name like 'published%'",
                  "-f", "csv")
    assert columns.stdout == "name\npublished_raw\npublished_at\npublished_on\n"
    per_author = run("query", crawled, "select count(*) as n from articles, json_each(authors)", "-f", "csv")
    authors = sum(len(json.loads(authors)) for (authors,) in sql(crawled, "select authors from articles"))
    assert per_author.stdout == f"n\n{authors}\n"


def test_query_names_a_missing_value_instead_of_blaming_statements(crawled):
    named = run("query", crawled, "select headline from articles where section = :s")
    assert named.exit_code == 1
    assert named.stderr == "Error: The SQL needs a value for :s: give it with -p s VALUE.\n"
    positional = run("query", crawled, "select headline from articles where section = ?")
    assert positional.stderr == (
        "Error: The SQL has a ? placeholder, which -p cannot fill: name it (:name) and give -p name VALUE.\n")


def test_query_decodes_json_columns_in_json_output_only(crawled):
    statement = "select identity, topics, authors, body from articles where identity = :id"
    [row] = sql(crawled, "select topics, authors, body from articles where identity = ?", GOLD)
    record = json.loads(run("query", crawled, statement, "-p", "id", GOLD, "-f", "jsonl").stdout)
    assert record == {"identity": GOLD, "topics": json.loads(row[0]), "authors": json.loads(row[1]),
                      "body": json.loads(row[2])}
    assert isinstance(record["body"], list) and record["body"][0]["kind"] == "paragraph"
    [as_csv] = csv.DictReader(run("query", crawled, statement, "-p", "id", GOLD, "-f", "csv").stdout.splitlines())
    assert as_csv["topics"] == row[0]
    text_like_json = run("query", crawled, "select '[not json' as topics, '{\"a\": 1}' as other", "-f", "jsonl")
    assert json.loads(text_like_json.stdout) == {"topics": "[not json", "other": '{"a": 1}'}


def has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` holds ``path`` open (the query has opened the archive)."""
    folder = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(folder):
        with suppress(FileNotFoundError):
            if os.readlink(folder / fd) == str(path.resolve()):
                return True
    return False


RUNAWAY = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"


def test_query_stops_at_its_timeout(crawled):
    result = run("query", crawled, RUNAWAY, "--timeout", "0.5")
    assert result.exit_code == 1
    assert result.stderr == ("Error: The query stopped because it ran longer than --timeout 0.5 seconds; "
                             "nothing was changed.\n")


def test_query_stops_at_once_on_ctrl_c(crawled):
    command = [sys.executable, "-m", "dwnscraper", "query", str(crawled), RUNAWAY, "--timeout", "600"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        while not has_open(process.pid, crawled):
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.05)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert stderr == "Error: The query stopped because it was interrupted (Ctrl-C); nothing was changed.\n"
    assert stdout == ""


def test_query_table_shows_wide_rows_as_records_with_whole_values(crawled, monkeypatch):
    from dwnscraper import output

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "80")
    [row] = sql(crawled, "select * from articles where identity = ?", GOLD)
    columns = [name for (name,) in sql(crawled, "select name from pragma_table_info('articles')")]
    terminal = Terminal()
    assert output.write_rows(columns, [row], "table", terminal) == 1
    lines = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue()).splitlines()
    assert lines[0].startswith("-- row 1 ")
    width = max(map(len, columns))
    assert f"{'identity'.rjust(width)}: {GOLD}" in lines
    assert f"{'canonical_url'.rjust(width)}: {GOLD_URL}" in lines
    assert "…" not in terminal.getvalue()
    narrow = Terminal()
    output.write_rows(["identity", "section"], [(GOLD, "Finanzen")], "table", narrow)
    assert "┃ identity  ┃ section  ┃" in re.sub(r"\x1b\[[0-9;]*m", "", narrow.getvalue())


# -- search ----------------------------------------------------------------------------------------


def test_search_ranks_headline_hits_first_with_highlighted_snippet(crawled):
    result = run("search", crawled, "Goldpreis", "-n", "1", "-f", "jsonl")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "published_at": "2026-01-18T08:14:00+01:00", "section": "Finanzen", "headline": GOLD_HEADLINE,
        "snippet": "**Goldpreis** auf Rekordhoch: Anleger flüchten in sichere Häfen", "url": GOLD_URL}


def test_search_filters_by_section_and_dates(crawled):
    every = run("search", crawled, "Milliarden", "-f", "csv").stdout.splitlines()
    assert every[0] == "published_at,section,headline,snippet,url"
    assert len(every) == 3
    filtered = run("search", crawled, "Milliarden", "--section", "Unternehmen", "--since", "2026-01-16",
                   "--until", "2026-01-16", "-f", "csv").stdout.splitlines()
    assert filtered[1:] == [
        "2026-01-16T10:28:00+01:00,Unternehmen,Autobauer unter Druck: Zollstreit mit den USA kostet Milliarden,"
        "Autobauer unter Druck: Zollstreit mit den USA kostet **Milliarden**,"
        "https://deutsche-wirtschafts-nachrichten.de/718452/Autobauer-unter-Druck-Zollstreit-mit-den-USA"]
    assert run("search", crawled, "Milliarden", "--until", "2000-01-01").stdout == "[]\n"


@pytest.mark.parametrize("expression", ['"Goldpreis', "AND", "nowhere:Gold", "Gold OR"])
def test_search_malformed_expression_is_one_sentence(crawled, expression):
    result = run("search", crawled, expression)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {expression!r} is not a valid search expression (")
    assert result.stderr.endswith("put words in double quotes to search for them literally.\n")
    assert "Traceback" not in result.output


def test_search_rejects_a_date_that_is_no_day(crawled):
    result = run("search", crawled, "Gold", "--since", "gestern")
    assert result.exit_code == 2 and "'gestern' does not match the format '%Y-%m-%d'" in result.stderr


@pytest.mark.parametrize(("text", "expression"), [
    ("Ukraine-Konflikt", '"Ukraine-Konflikt"'),
    ("90.000 Dollar", '"90.000" Dollar'),
    ("Merkel.", '"Merkel."'),
    ("C++ oder Rust", '"C++" oder Rust'),
    ("Gold OR Silber NOT Öl", "Gold OR Silber NOT Öl"),
    ('"sichere Häfen" Anleger', '"sichere Häfen" Anleger'),
    ("Gold* Zoll-Streit*", 'Gold* "Zoll-Streit"*'),
    ("headline:Gold lead:Ukraine-Krieg", 'headline:Gold lead:"Ukraine-Krieg"'),
    ("(Gold OR Silber) 10:30", '(Gold OR Silber) "10:30"'),
    ("^Merkel", "^Merkel"),
    ('"Goldpreis', '"Goldpreis'),
])
def test_fts_expression_quotes_plain_words_and_keeps_syntax(text, expression):
    from dwnscraper.storage import fts_expression

    assert fts_expression(text) == expression


@pytest.mark.parametrize(("text", "headlines"), [
    ("Grönland-Krise", ["Grönland-Krise im Fokus vor dem Gipfeltreffen in Davos"]),
    ("90.000", ["Bitcoin fällt unter 90.000 Dollar: Was Anleger jetzt wissen müssen"]),
    ("Merkel.", ["Merkel verteidigt Flüchtlingspolitik vor der Fraktion"]),
    ("C++", []),
    ("Ukraine-Konflikt", []),
    ("headline:Gold*", [GOLD_HEADLINE]),
    ('"sichere Häfen"', [GOLD_HEADLINE]),
    ("Zinsen NOT Gold", ["EZB lässt Zinsen unverändert – Lagarde warnt vor Inflation"]),
])
def test_search_takes_plain_words_as_words_and_keeps_fts_syntax(crawled, text, headlines):
    result = run("search", crawled, text, "-f", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["headline"] for line in result.stdout.splitlines()] == headlines


def test_search_says_when_the_limit_cut_the_results(crawled):
    cut = run("search", crawled, "Milliarden", "-n", "1", "-f", "csv")
    assert len(cut.stdout.splitlines()) == 2
    assert cut.stderr == "1 of 2 shown; -n 2 shows all.\n"
    assert run("search", crawled, "Milliarden", "-n", "2").stderr == ""


# -- export ----------------------------------------------------------------------------------------


def test_export_jsonl_has_every_article_with_body_and_decoded_json(crawled, manifest):
    lines = run("export", crawled).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(record["identity"] for record in records) == sorted(article["identity"] for article in manifest)
    gold = next(record for record in records if record["identity"] == GOLD)
    assert gold["headline"] == GOLD_HEADLINE
    assert isinstance(gold["body"], list) and gold["body_text"].startswith(gold["body"][0]["text"])
    assert isinstance(gold["paywalled"], bool) and isinstance(gold["warnings"], list)
    assert [record["published_at"] for record in records] == sorted(record["published_at"] for record in records)


def test_export_filters_and_csv(crawled, manifest, tmp_path):
    target = tmp_path / "politik.csv"
    result = run("export", crawled, "--section", "Politik", "--since", "2020-01-01", "-f", "csv", "-o", target)
    assert result.exit_code == 0 and result.stdout == ""
    with target.open(encoding="utf-8", newline="") as lines:
        rows = list(csv.DictReader(lines))
    politik = {article["identity"] for article in manifest if article["section"] == "Politik"}
    assert {row["identity"] for row in rows} <= politik
    assert rows and all(row["published_at"] >= "2020-01-01" and row["section"] == "Politik" for row in rows)
    assert json.loads(rows[0]["authors"]) is not None and rows[0]["body_text"]


def test_export_of_one_day(crawled):
    lines = run("export", crawled, "--since", "2014-09-26", "--until", "2014-09-26").stdout.splitlines()
    oelpreis = "wp:/2014/09/26/oelpreis-faellt-auf-tiefsten-stand-seit-jahren/"
    assert [json.loads(line)["identity"] for line in lines] == [oelpreis]


def test_published_on_is_the_berlin_day_and_filters_use_it(crawled):
    days = dict(sql(crawled, "select identity, published_on from articles"))
    times = dict(sql(crawled, "select identity, published_at from articles"))
    assert days == {identity: datetime.fromisoformat(moment).astimezone(BERLIN).date().isoformat()
                    for identity, moment in times.items()}
    oelpreis = "wp:/2014/09/26/oelpreis-faellt-auf-tiefsten-stand-seit-jahren/"
    assert (times[oelpreis], days[oelpreis]) == ("2014-09-26T01:03:00+02:00", "2014-09-26")
    found = run("search", crawled, "Ölpreis", "--since", "2014-09-26", "--until", "2014-09-26", "-f", "jsonl")
    assert [json.loads(line)["published_at"] for line in found.stdout.splitlines()] == [times[oelpreis]]
    assert run("search", crawled, "Ölpreis", "--until", "2014-09-25").stdout == "[]\n"


def test_migration_fills_published_on_of_an_older_archive(db):
    sql(db, "drop index idx_articles_published_on")
    sql(db, "alter table articles drop column published_on")
    sql(db, "delete from _sqlite_migrations where name = 'm003_articles_published_on'")
    with Archive(db):
        pass
    rows = sql(db, "select published_at, published_on from articles")
    assert len(rows) == 32 and all(
        day == datetime.fromisoformat(moment).astimezone(BERLIN).date().isoformat() for moment, day in rows)
    indexes = sql(db, "select name from pragma_index_list('articles') where name like '%published_on'")
    assert indexes == [("idx_articles_published_on",)]


# -- show and raw ----------------------------------------------------------------------------------


def test_show_prints_the_article_readably_by_id_identity_or_url(crawled):
    by_identity = run("show", crawled, GOLD)
    assert by_identity.exit_code == 0, by_identity.output
    [row] = sql(crawled, "select lead, body, image_caption from articles where identity = ?", GOLD)
    lines = by_identity.stdout.splitlines()
    assert lines[:3] == ["Finanzen", GOLD_HEADLINE, "Veröffentlicht: 18.01.2026 08:14 · Lesezeit: 3 min"]
    assert lines[4] == row[0]
    assert lines[6].startswith(f"Bild: {row[2]}")
    assert [block["text"] for block in json.loads(row[1])] == [line for line in lines[8:] if line][:len(
        json.loads(row[1]))]
    assert "Revisionen (1):" in lines and "Teaser auf der Seite (4):" in lines
    assert "<p>" not in by_identity.stdout
    for reference in ("718426", GOLD_URL, GOLD_URL.replace("https://", "http://www.") + "?utm_source=x"):
        assert run("show", crawled, reference).stdout == by_identity.stdout


def test_show_wraps_at_the_width_asked(crawled):
    lines = run("show", crawled, GOLD, "--width", "40").stdout.splitlines()
    assert max(map(len, lines)) == 40 and GOLD_HEADLINE not in lines


def test_show_on_a_terminal_is_styled_and_fits_the_window(crawled, monkeypatch):
    from dwnscraper.show import show_article
    from dwnscraper.storage import open_read_only

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "60")
    terminal = Terminal()
    archive = open_read_only(crawled)
    show_article(archive, GOLD, terminal)
    archive.close()
    styled = terminal.getvalue()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", styled).splitlines()
    assert f"\x1b[1m{GOLD_HEADLINE[:40]}" in styled
    assert plain[:2] == ["Finanzen", GOLD_HEADLINE] and max(map(len, plain)) == 60


def test_show_of_an_unknown_article_is_one_sentence(crawled):
    result = run("show", crawled, "id:1")
    assert result.exit_code == 1
    assert result.stderr == "Error: The archive holds no article 'id:1'; give its id, identity or URL.\n"


def test_raw_writes_the_stored_html_of_the_newest_fetch(crawled, tmp_path):
    [(digest, size)] = sql(crawled, "select raw_pages.content_hash, raw_pages.body_size from articles"
                           " join raw_pages on raw_pages.id = articles.raw_page_id where identity = ?", GOLD)
    target = tmp_path / "gold.html"
    result = run("raw", crawled, GOLD_URL, "-o", target)
    assert result.exit_code == 0 and result.stdout == ""
    body = target.read_bytes()
    assert hashlib.sha256(body).hexdigest() == digest and len(body) == size
    assert GOLD_HEADLINE.encode() in body
    piped = subprocess.run([sys.executable, "-m", "dwnscraper", "raw", str(crawled), GOLD, "--revision", "1"],
                           capture_output=True, timeout=60, check=True)
    assert piped.stdout == body


def test_raw_of_a_listing_url_and_of_a_missing_revision(crawled):
    [(url, digest)] = sql(crawled, "select url, content_hash from raw_pages where id ="
                          " (select max(raw_page_id) from listings where page = 1 and section = 'Politik')")
    listing = run("raw", crawled, url)
    assert listing.exit_code == 0, listing.output
    assert hashlib.sha256(listing.stdout_bytes).hexdigest() == digest
    missing = run("raw", crawled, GOLD, "--revision", "2")
    assert missing.exit_code == 1
    assert missing.stderr == f"Error: Article {GOLD} has revisions 1 to 1, not 2.\n"
    nowhere = run("raw", crawled, "https://deutsche-wirtschafts-nachrichten.de/politik?page=99")
    assert nowhere.stderr == ("Error: The archive holds no page fetched from "
                              "https://deutsche-wirtschafts-nachrichten.de/politik?page=99.\n")


# -- cold start ------------------------------------------------------------------------------------


IMPORTS_OF = """
import runpy, sys
sys.argv = ["dwnscraper", *sys.argv[1:]]
try:
    runpy.run_module("dwnscraper", run_name="__main__")
except SystemExit:
    pass
heavy = sorted(name for name in sys.modules if name.split(".")[0] in {"scrapy", "twisted", "dateparser", "lxml"}
               or name.startswith("dwnscraper.parsing"))
sys.stderr.write("HEAVY:" + ",".join(heavy))
"""
"""Runs ``dwnscraper ARGS`` in this process, then writes the crawler and parser modules it imported."""


@pytest.mark.parametrize("arguments", [
    ["--version"], ["query", "{db}", "select count(*) from articles"], ["search", "{db}", "Gold"],
    ["show", "{db}", GOLD], ["stats", "{db}"], ["export", "{db}"], ["raw", "{db}", GOLD],
])
def test_read_commands_import_no_crawler_or_parser(crawled, arguments):
    done = subprocess.run([sys.executable, "-c", IMPORTS_OF, *(arg.format(db=crawled) for arg in arguments)],
                          capture_output=True, text=True, timeout=60)
    assert done.stderr.rsplit("HEAVY:", 1)[1] == ""
    assert done.stdout


# -- reparse ---------------------------------------------------------------------------------------


CRAWL_REPARSE_LINE = ("Reparsed 47 pages: 32 articles (0 new, 0 changed, 32 unchanged), 12 listings (0 new, 0 changed, "
                      "12 unchanged), 3 did not parse, 0 superseded by a newer fetch.")


def test_reparse_of_a_fresh_crawl_changes_nothing(db):
    before = fingerprint(db)
    result = run("reparse", db, "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{CRAWL_REPARSE_LINE}\nNo field changed.\n"
    assert fingerprint(db) == before


def _store_as_an_older_parser_would(db: Path, identity: str, **changes) -> None:
    """Rewrite one article through the Archive as if an older parser had produced ``changes``."""
    with Archive(db) as archive:
        row = archive.db["articles"].get(identity)
        record = {**article_record(row, stored_teasers(archive.db, row["raw_page_id"])), **changes}
        archive.add_article(record, row["raw_page_id"], row["last_fetched_at"], row["crawl_run_id"])


def test_reparse_updates_changed_articles_with_a_new_revision(db):
    _store_as_an_older_parser_would(db, GOLD, headline="Goldpreis", warnings=["headline taken from <title>."])
    check = run("reparse", db, "--check", "-j", "2")
    assert check.exit_code == 1
    assert check.stdout.splitlines()[1:] == ["Pages changed per field:", "  headline  1", "  warnings  1"]
    assert check.stderr == "Error: 1 of 47 pages differ; see the fields above.\n"

    result = run("reparse", db)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Reparsed 47 pages: 32 articles (0 new, 1 changed, 31 unchanged), 12 listings (0 new, 0 changed, "
        "12 unchanged), 3 did not parse, 0 superseded by a newer fetch.\n"
        "Pages changed per field:\n  headline  1\n  warnings  1\n"
        "Updated 1 records (0 new articles, 1 new article revisions).\n")
    assert sql(db, "select headline, revision from articles where identity = ?", GOLD) == [(GOLD_HEADLINE, 3)]
    assert sql(db, "select count(*) from article_revisions where identity = ?", GOLD) == [(3,)]
    assert run("reparse", db, "--check").stdout == f"{CRAWL_REPARSE_LINE}\nNo field changed.\n"


def test_reparse_adds_articles_that_failed_to_parse_before(db):
    sql(db, "delete from articles where identity = ?", GOLD)
    sql(db, "delete from article_revisions where identity = ?", GOLD)
    result = run("reparse", db, "-j", "1")
    assert result.stdout.startswith("Reparsed 47 pages: 32 articles (1 new, 0 changed, 31 unchanged)")
    assert result.stdout.endswith("Updated 1 records (1 new articles, 0 new article revisions).\n")


def test_reparse_with_one_and_with_all_processes_agree(db):
    _store_as_an_older_parser_would(db, GOLD, lead="alt")
    assert run("reparse", db, "--check", "-j", "1").stdout == run("reparse", db, "--check", "-j", "2").stdout


def test_reparse_fixture_folder_matches_the_golden_files():
    result = run("reparse", PAGES, "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == ["No field changed."]
    assert result.stdout.startswith("Checked ") and " 0 differ, 0 have no golden file." in result.stdout


def test_reparse_check_names_fixtures_that_differ(tmp_path):
    folder = tmp_path / "pages"
    shutil.copytree(PAGES / "listings", folder / "listings")
    expected_path = next((folder / "listings").glob("*.expected.json"))
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    expected["page"] = 99
    expected_path.write_text(json.dumps(expected), encoding="utf-8")
    result = run("reparse", folder, "--check")
    assert result.exit_code == 1
    name = f"listings/{expected_path.name.removesuffix('.expected.json')}"
    assert result.stdout.splitlines()[1:] == ["Pages changed per field:", "  page  1", f"  {name}: page"]
    assert result.stderr.startswith("Error: 1 of ")


# -- stats -----------------------------------------------------------------------------------------


def test_stats_json(crawled, manifest):
    result = run("stats", crawled)
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert sum(row["articles"] for row in stats["articles_per_section_and_month"]) == len(manifest)
    per_month = {row["month"]: row["articles"] for row in stats["articles_per_month"]}
    assert list(per_month)[0] == "2014-09" and list(per_month)[-1] == "2026-01"
    assert len(per_month) == 12 * 11 + 5 and per_month["2018-03"] == 0 and sum(per_month.values()) == len(manifest)
    assert per_month["2026-01"] == sum(day.startswith("2026-01") for _, day in berlin_days(crawled))
    sections = {row["section"]: row for row in stats["articles_per_section"]}
    assert sections["Unternehmen"] == {"section": "Unternehmen", "articles": 4, "first_day": "2014-09-26",
                                       "last_day": "2026-01-16", "paywalled": 0}
    coverage = {row["field"]: row for row in stats["field_coverage_percent_per_layout"]}
    layouts = Counter(article["layout"] for article in manifest)
    assert coverage["articles"] == {"field": "articles", **layouts}
    assert coverage["headline"] == {"field": "headline", "current": 100.0, "legacy": 100.0, "wordpress": 100.0}
    [crawl_run] = stats["crawl_runs"]
    assert (crawl_run["spider"], crawl_run["articles_new"], crawl_run["errors"]) == ("sections", 32, 3)
    assert stats["errors_per_stage"] == [{"stage": "download", "errors": 1}, {"stage": "http", "errors": 1},
                                         {"stage": "parse", "errors": 1}]


def test_stats_table_is_a_chart_per_year_and_a_section_summary(crawled, manifest):
    result = run("stats", crawled, "--by", "year", "-f", "table")
    lines = result.stdout.splitlines()
    assert lines[0] == "Articles per year:"
    bars = {line.split()[0]: line.split() for line in lines[1:14]}
    assert list(bars) == [str(year) for year in range(2014, 2027)]
    assert bars["2018"] == ["2018", "0"]
    newest = sum(day.startswith("2026") for _, day in berlin_days(crawled))
    longest = next(line for line in lines[1:14] if line.startswith("2026 "))
    assert len(longest) == 100 and bars["2026"][2] == str(newest)
    assert bars["2016"][1] == "█" * round(len(bars["2026"][1]) * 2 / newest) and bars["2016"][2] == "2"
    assert lines[14] == "Articles per section:"
    for title in ("Field coverage percent per layout:", "Crawl runs:", "Errors per stage:"):
        assert title in result.stdout
    assert "Articles per section and year" not in result.stdout


def test_stats_csv_is_articles_per_section_and_period(crawled, manifest):
    rows = list(csv.DictReader(run("stats", crawled, "--by", "year", "-f", "csv").stdout.splitlines()))
    assert list(rows[0]) == ["section", "year", "articles"]
    expected = Counter((section, day[:4]) for section, day in berlin_days(crawled))
    assert {(row["section"], row["year"]): int(row["articles"]) for row in rows} == expected


# -- the archive in sqlite-utils -------------------------------------------------------------------


def sqlite_utils(*args: object) -> str:
    executable = Path(sys.executable).with_name("sqlite-utils")
    done = subprocess.run([str(executable), *map(str, args)], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_sqlite_utils_reads_the_articles_back(crawled, manifest):
    counts = {row["table"]: row["count"] for row in json.loads(sqlite_utils("tables", crawled, "--counts"))}
    assert counts["articles"] == len(manifest)
    rows = json.loads(sqlite_utils("rows", crawled, "articles", "-c", "identity", "-c", "headline"))
    assert {row["identity"]: row["headline"] for row in rows} == {a["identity"]: a["headline"] for a in manifest}
    hits = json.loads(sqlite_utils("search", crawled, "articles", "Goldpreis", "-c", "identity"))
    assert {"identity": GOLD} in hits


# -- the archive in Datasette, configured by datasette/metadata.json -------------------------------


def test_datasette_metadata_configures_search_and_facets(crawled):
    from datasette.app import Datasette

    metadata = json.loads((REPO / "datasette" / "metadata.json").read_text(encoding="utf-8"))
    app = Datasette([str(crawled)], metadata=metadata)

    async def get(path: str) -> dict:
        response = await app.client.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    found = asyncio.run(get("/dwn/articles.json?_search=Goldpreis&_shape=objects"))
    assert GOLD in {row["identity"] for row in found["rows"]}
    facets = asyncio.run(get("/dwn/articles.json?_size=0"))["facet_results"]
    assert {"section", "layout", "paywalled", "topics", "authors", "published_on"} <= set(facets)
