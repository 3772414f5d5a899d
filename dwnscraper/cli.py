"""The ``dwnscraper`` command line: a thin click layer over the library modules.

Each command imports what it uses inside its function, so a command pays only for its own
imports: ``query`` or ``--version`` never load Scrapy, Twisted, dateparser or the parsers. A new
command that reads the archive takes this shape (its logic in its own module, imported inside)::

    @main.command()
    @db_argument
    @format_option
    def history(db: Path, fmt: str | None) -> None:
        (docstring: one summary line, what it does, then "Example:" and a dwnscraper command line)
        from dwnscraper.history import article_history

        with read_only(db) as archive:
            _write_rows(*article_history(archive), fmt)
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dwnscraper import __version__, output

if TYPE_CHECKING:
    from sqlite_utils import Database

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version")
def main() -> None:
    """Scrape, parse and archive Deutsche Wirtschafts Nachrichten (DWN) in SQLite."""


def _moment(_context: click.Context, _option: click.Parameter, value: str | None) -> str | None:
    """``--fetched-at`` checked: an ISO 8601 time with its UTC offset (relative dates are resolved against it)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time with its offset, e.g. 2026-01-21T10:00:00+01:00.")
    return value


def _no_fixtures(folder: Path) -> str:
    return (f"{folder} holds no fixtures (NAME.html beside NAME.meta.json); "
            "give a fixture folder such as fixtures/pages.")


@main.command()
@click.argument("page", type=click.Path(exists=True, path_type=Path))
@click.option("--url", help="The URL the page was fetched from (required for a single file).")
@click.option("--fetched-at", callback=_moment,
              help="When the page was fetched, ISO 8601 with its offset (resolves 'vor 3 Stunden').")
@click.option("--write-expected", is_flag=True,
              help="With a fixture folder: rewrite each NAME.expected.json from the parser (review the diff!).")
def parse(page: Path, url: str | None, fetched_at: str | None, write_expected: bool) -> None:
    """Parse saved DWN pages and print one JSON object per page (JSON Lines).

    PAGE is one HTML file (give --url) or a folder: every *.html below it, with URL and fetch time
    from the fixture's NAME.meta.json. Exits 1 if any page could not be parsed.

    Example:

        dwnscraper parse fixtures/pages/current/seed-2021-12-31.html \\
            --url https://deutsche-wirtschafts-nachrichten.de/516872 --fetched-at 2026-01-21T10:00:00+00:00
    """
    from dwnscraper.fixtures import iter_fixtures, render
    from dwnscraper.parsing import parse_page

    if page.is_dir():
        jobs = [(fixture.html.read_bytes(), fixture.url, fixture.fetched_at, fixture.headers, fixture)
                for fixture in iter_fixtures(page)]
        if not jobs:
            raise click.UsageError(_no_fixtures(page))
    elif not url:
        raise click.UsageError("A single page needs --url: the URL it was fetched from.")
    else:
        jobs = [(page.read_bytes(), url, fetched_at, None, None)]
    failed = False
    for body, page_url, page_fetched_at, headers, fixture in jobs:
        record = parse_page(body, page_url, page_fetched_at, headers)
        failed = failed or record["kind"] == "error"
        if write_expected and fixture is not None:
            fixture.expected_path.write_text(render(record, indent=2), encoding="utf-8")
        click.echo(render(record))
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("spider", type=click.Choice(["sections", "feed", "archive", "articles"]), default="sections")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default="dwn.db", show_default=True,
              help="The SQLite file to write (created if missing).")
@click.option("--mirror", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Serve this saved copy of the site on 127.0.0.1 and crawl it (e.g. fixtures/site).")
@click.option("--site", help="Crawl a copy of the site served at this address, e.g. http://127.0.0.1:8000.")
@click.option("--refresh", is_flag=True, help="Fetch articles again even when they are stored.")
@click.option("--full", is_flag=True, help="Paginate every listing to its end, not just to the first known page.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Listing pages per section or search at most.")
@click.option("--resume", type=click.Path(file_okay=False, path_type=Path),
              help="Job directory: keep the crawl's queue here, and continue it if it was stopped.")
@click.option("--wait", type=click.FloatRange(min=0), metavar="SECONDS",
              help="If another crawl is writing the database, wait this long for it [default: exit 3 at once].")
@click.option("--section", "sections", multiple=True, help="sections: only this section (repeatable).")
@click.option("--start", help="archive: first day, YYYY-MM-DD.")
@click.option("--end", help="archive: last day, YYYY-MM-DD (default today).")
@click.option("--search-section", help="archive: the search's section id (27241 Politik, 27242 Wirtschaft).")
@click.option("--url", "urls", multiple=True, help="articles: an article URL (repeatable).")
@click.option("--urls-file", type=click.Path(exists=True, dir_okay=False), help="articles: a file of URLs, one a line.")
@click.option("-O", "--output", "feed", metavar="FILE",
              help="Also write the parsed records, as stored, to FILE (format from its extension: .jsonl, "
                   ".json, .csv, .xml), as scrapy crawl -O does.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or DWN_* setting, as with scrapy crawl -s (repeatable).")
def crawl(spider: str, db: Path, mirror: Path | None, site: str | None, refresh: bool, full: bool,
          max_pages: int | None, resume: Path | None, wait: float | None, sections: tuple[str, ...], start: str | None,
          end: str | None, search_section: str | None, urls: tuple[str, ...], urls_file: str | None,
          feed: str | None, overrides: tuple[str, ...]) -> None:
    """Crawl DWN into a SQLite database, incrementally and politely.

    SPIDER is sections (default: section fronts and their articles; --section as the site prints
    it or as slug), feed (the RSS feed), archive (a date range through the search, needs --start)
    or articles (--url / --urls-file). A crawl of the live site needs your contact in DWN_CONTACT.
    Exits 0 when the crawl did its job; 1 when it failed (every request failed, or a field's coverage
    in one layout fell under its threshold, DWN_COVERAGE_THRESHOLDS); 2 on a bad argument, setting or
    database; 3 when another crawl writes the database; 4 when stopped before the end (5 with
    --resume: run it again to continue).

    Example:

        dwnscraper crawl --mirror fixtures/site --db dwn.db
    """
    from scrapy.exceptions import UsageError
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.conf import feed_process_params_from_cli

    from dwnscraper.crawl import LOCKED, crawl_settings, run_crawl, serving, summary_lines
    from dwnscraper.extensions import StaleJob
    from dwnscraper.lock import ArchiveLocked
    from dwnscraper.preflight import check_crawl

    if mirror and site:
        raise click.UsageError("Give --mirror or --site, not both.")
    spider_args = {"sections": ",".join(sections) or None, "start": start, "end": end,
                   "section": search_section, "urls": ",".join(urls) or None, "file": urls_file}
    spider_args = {name: value for name, value in spider_args.items() if value is not None}
    with serving(mirror) as mirror_url:
        options = {"DWN_DB": str(db), "DWN_SITE": mirror_url or site, "DWN_REFRESH": refresh or None,
                   "DWN_FULL": full or None, "DWN_MAX_PAGES": max_pages,
                   "JOBDIR": str(resume) if resume else None, "DWN_LOCK_WAIT": wait}
        try:
            settings = crawl_settings(options, overrides, mirror=mirror is not None)
            if feed:
                settings.set("FEEDS", feed_process_params_from_cli(settings, [], overwrite_output=[feed]),
                             priority="cmdline")
            check_crawl(settings)
            # A spider checks its arguments when it is built: build it once now, before the crawl.
            get_spider_loader(settings).load(spider)(**spider_args)
        except (ValueError, UsageError) as error:
            raise click.UsageError(str(error)) from error
        try:
            result = run_crawl(spider, settings, spider_args, tell=click.echo)
        except ArchiveLocked as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(LOCKED)
        except StaleJob as error:
            raise click.UsageError(str(error)) from error
    for line in summary_lines(result):
        click.echo(line)
    for failure in result.failures:
        click.echo(f"Error: {failure}", err=True)
    sys.exit(result.exit_code)


@main.command("serve-fixtures")
@click.argument("site_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default="fixtures/site")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free one).")
def serve_fixtures(site_dir: Path, port: int) -> None:
    """Serve a saved copy of the site on 127.0.0.1 until interrupted (Ctrl-C).

    Crawl it from another terminal with --site; links to the live host are fetched from here.

    Example:

        dwnscraper serve-fixtures fixtures/site --port 8000
    """
    from dwnscraper.mirror import MirrorServer

    try:
        server = MirrorServer(site_dir, port=port)
    except OSError as error:
        raise click.UsageError(f"Port {port} on 127.0.0.1 cannot be used ({error.strerror}); "
                               "choose another with --port.") from error
    click.echo(f"Serving {site_dir} on {server.url} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")


# -- using the archive: query, search, show, raw, export, reparse, stats ---------------------------

DATE = click.DateTime(formats=["%Y-%m-%d"])
SEARCH_HIGHLIGHT = ("**", "**")
"""Markers around search hits in snippets; a terminal table shows the hits in bold instead."""


def db_argument(function):
    return click.argument("db", type=click.Path(exists=True, dir_okay=False, path_type=Path))(function)


def format_option(function):
    return click.option("-f", "--format", "fmt", type=click.Choice(output.FORMATS),
                        help="Output format [default: table on a terminal, json otherwise].")(function)


def _section_names(_context: click.Context, _option: click.Parameter, names: tuple[str, ...]) -> tuple[str, ...]:
    """``--section`` values as the archive holds them (the printed name), whatever case or slug was typed."""
    from dwnscraper.sections import UnknownSection, section_name

    try:
        return tuple(section_name(name) for name in names)
    except UnknownSection as error:
        raise click.BadParameter(str(error)) from error


def filter_options(function):
    for option in reversed((
        click.option("--section", "sections", multiple=True, callback=_section_names,
                     help="Only articles of this section, as printed or as slug (repeatable)."),
        click.option("--since", type=DATE, help="Only articles published on or after this day, YYYY-MM-DD."),
        click.option("--until", type=DATE, help="Only articles published on or before this day, YYYY-MM-DD."),
    )):
        function = option(function)
    return function


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def _open(db: Path) -> Database:
    from dwnscraper import storage

    try:
        return storage.open_read_only(db)
    except storage.NotAnArchive as error:
        raise click.ClickException(str(error)) from error


@contextmanager
def read_only(db: Path) -> Iterator[Database]:
    """The archive at ``db`` opened read-only for one command, closed after it; a file that is no
    archive, or an article or page it does not hold, ends the command with a sentence."""
    from dwnscraper import storage

    archive = _open(db)
    try:
        yield archive
    except storage.NotFound as error:
        raise click.ClickException(str(error)) from error
    finally:
        archive.close()


def _write_rows(columns: list[str], rows, fmt: str | None, highlight: tuple[str, str] | None = None) -> None:
    stdout = sys.stdout
    output.write_rows(columns, rows, fmt or output.default_format(stdout), stdout, highlight)


@main.command()
@db_argument
@click.argument("sql")
@click.option("-p", "--param", "params", type=(str, str), multiple=True, metavar="NAME VALUE",
              help="Bind VALUE to :NAME in the SQL (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60, show_default=True,
              metavar="SECONDS", help="Stop the query, rows written included, after this many seconds.")
@format_option
def query(db: Path, sql: str, params: tuple[tuple[str, str], ...], timeout: float, fmt: str | None) -> None:
    """Run one SQL statement on the archive, read-only, and print the rows.

    The database is opened read-only and every statement that would write (INSERT, UPDATE,
    DELETE, DROP, CREATE, ATTACH, VACUUM, PRAGMA with a value, ...) is refused before it runs;
    reading FTS tables, json_each() and pragma_table_info() is allowed. JSON columns come out
    as JSON in json and jsonl output. Ctrl-C or --timeout stops a query that runs away.

    Example:

        dwnscraper query dwn.db "select headline from articles where section = :s" -p s Politik
    """
    from dwnscraper import storage

    with read_only(db) as archive:
        try:
            with storage.stoppable(archive, timeout):
                columns, rows = storage.read_only_query(archive, sql, dict(params))
                fmt = fmt or output.default_format(sys.stdout)
                if fmt in ("json", "jsonl"):
                    rows = storage.decode_json_values(columns, rows)
                output.write_rows(columns, rows, fmt, sys.stdout)
        except (storage.QueryRefused, storage.QueryStopped) as error:
            raise click.ClickException(str(error)) from error
        except sqlite3.Error as error:
            raise click.ClickException(f"The SQL failed: {error}.") from error


@main.command()
@db_argument
@click.argument("text")
@filter_options
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Results at most.")
@format_option
def search(db: Path, text: str, sections: tuple[str, ...], since: datetime | None, until: datetime | None,
           limit: int, fmt: str | None) -> None:
    """Full-text search of headline, lead and body, best match first, hits highlighted.

    TEXT is words (all must occur; a word with - . + or ' in it, like Ukraine-Konflikt or
    90.000, is searched as that word), "a phrase", OR, NOT, prefix*, headline:word (SQLite FTS5).
    Ranking is bm25 with a headline hit worth most; the snippet marks hits with **...** (bold on
    a terminal). --since and --until are Berlin days. Says on standard error when -n cut the results.

    Example:

        dwnscraper search dwn.db "Inflation OR Zinsen" --section Finanzen --since 2024-01-01
    """
    from dwnscraper import storage

    with read_only(db) as archive:
        try:
            total, rows = storage.search_articles(archive, text, sections=sections, since=_day(since),
                                                  until=_day(until), limit=limit, highlight=SEARCH_HIGHLIGHT)
            _write_rows(list(storage.SEARCH_COLUMNS), rows, fmt, SEARCH_HIGHLIGHT)
        except sqlite3.OperationalError as error:
            raise click.ClickException(
                f"{text!r} is not a valid search expression ({error}); put words in double quotes to search "
                "for them literally.") from error
    if total > limit:
        click.echo(f"{limit} of {total} shown; -n {total} shows all.", err=True)


@main.command()
@db_argument
@click.argument("article")
@click.option("-w", "--width", type=click.IntRange(min=20), help="Wrap at this width [default: the window].")
def show(db: Path, article: str, width: int | None) -> None:
    """Print one article readably: kicker, headline, dates, reading time, lead, image caption,
    body, topics, its revisions and the teasers its page showed.

    ARTICLE is the article's id (503386), identity (id:503386, wp:/2014/09/26/slug/) or URL.

    Example:

        dwnscraper show dwn.db id:718426
    """
    from dwnscraper.show import show_article

    with read_only(db) as archive:
        show_article(archive, article, sys.stdout, width)


@main.command()
@db_argument
@click.argument("page")
@click.option("-r", "--revision", type=click.IntRange(min=1),
              help="The fetch that stored this revision of the article.")
@click.option("-o", "--output", "target", type=click.File("wb", lazy=True), default="-",
              help="Write to this file instead of standard output.")
def raw(db: Path, page: str, revision: int | None, target) -> None:
    """Write the stored HTML of an article's newest fetch (or of --revision N), decompressed, as it
    was fetched: ready to open in a browser or to become a fixture.

    PAGE is an article's id, identity or URL, or the URL of any fetched page (a listing).

    Example:

        dwnscraper raw dwn.db id:718426 -o gold.html
    """
    from dwnscraper.show import raw_html

    with read_only(db) as archive:
        body = raw_html(archive, page, revision)
    target.write(body)


@main.command()
@db_argument
@filter_options
@click.option("-f", "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="JSON Lines (JSON columns as JSON) or CSV (JSON columns as text).")
@click.option("-o", "--output", "target", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Write to this file instead of standard output.")
def export(db: Path, sections: tuple[str, ...], since: datetime | None, until: datetime | None, fmt: str,
           target) -> None:
    """Export articles with their body text as JSON Lines or CSV, row by row in constant memory.

    --since and --until are Berlin days of publication.

    Example:

        dwnscraper export dwn.db --section Politik --since 2025-01-01 -f csv -o politik.csv
    """
    from dwnscraper import storage

    with read_only(db) as archive:
        columns, cursor = storage.export_articles(archive, sections=sections, since=_day(since), until=_day(until))
        rows = storage.decode_json_columns(columns, cursor) if fmt == "jsonl" else cursor
        output.write_rows(columns, rows, fmt, target)


@main.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if any page's output differs (from the archive, or the golden JSON).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Processes to use [default: all cores].")
def reparse(source: Path, check: bool, jobs: int | None) -> None:
    """Rerun the current parsers over the archive's raw pages, or over a folder of saved pages.

    SOURCE is an archive (DB): every page an article or listing was stored from, and the newest
    fetch of every URL, is parsed again; records whose output changed are updated (a new article
    revision where the content changed). SOURCE a folder: every fixture below it is parsed and
    compared with its NAME.expected.json. Prints, per field, how many pages changed. Progress
    shows on a terminal only.

    Example:

        dwnscraper reparse dwn.db && dwnscraper reparse fixtures/pages --check
    """
    from dwnscraper import storage
    from dwnscraper.fixtures import iter_fixtures
    from dwnscraper.reparse import available_cores, check_fixture_folder, reparse_archive

    jobs = jobs or available_cores()
    if source.is_dir():
        if not (count := sum(1 for _ in iter_fixtures(source))):
            raise click.UsageError(_no_fixtures(source))
        with output.progress(count, "Checking fixtures") as advance:
            report = check_fixture_folder(source, jobs=jobs, advance=advance)
        lines = report.fixture_lines()
    else:
        archive = _open(source)
        page_ids = storage.reparse_page_ids(archive)
        archive.close()
        from dwnscraper.crawl import LOCKED
        from dwnscraper.lock import ArchiveLocked, writer_lock

        try:
            with (nullcontext() if check else writer_lock(source, holder="a reparse")), \
                    output.progress(len(page_ids), "Reparsing") as advance:
                report, written = reparse_archive(source, page_ids, jobs=jobs, check=check, advance=advance)
        except ArchiveLocked as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(LOCKED)
        except KeyboardInterrupt:
            raise click.ClickException("Reparse stopped by Ctrl-C; the records updated before it are kept, "
                                       "and running it again finishes the rest.") from None
        except sqlite3.Error as error:
            raise click.ClickException(f"The archive {source} could not be updated: {error}.") from error
        lines = report.archive_lines()
        if not check:
            lines.append(f"Updated {report.count('changed') + report.count('new')} records "
                         f"({written['articles_new']} new articles, "
                         f"{written['articles_updated']} new article revisions).")
    for line in lines:
        click.echo(line)
    differing = report.count("changed") + report.count("new")
    if check and differing:
        raise click.ClickException(f"{differing} of {report.pages} pages differ; see the fields above.")


@main.command()
@db_argument
@click.option("--by", type=click.Choice(["month", "year"]), default="month", show_default=True,
              help="Count articles per Berlin month or year.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "csv"]),
              help="table: a chart and tables; json: every table; csv: articles per section and period "
                   "[default: table on a terminal, json otherwise].")
def stats(db: Path, by: str, fmt: str | None) -> None:
    """Summarize the archive: a chart of articles per month (or year), articles per section, field
    coverage per layout (percent of articles having each field), crawl runs and errors per stage.

    Example:

        dwnscraper stats dwn.db --by year
    """
    import json

    from dwnscraper import storage

    with read_only(db) as archive:
        tables = storage.archive_stats(archive, by)
    stdout = sys.stdout
    fmt = fmt or output.default_format(stdout)
    if fmt == "json":
        click.echo(json.dumps(tables, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        rows = tables[f"articles_per_section_and_{by}"]
        output.write_rows(["section", by, "articles"], (tuple(row.values()) for row in rows), fmt, stdout)
        return
    chart = tables.pop(f"articles_per_{by}")
    tables.pop(f"articles_per_section_and_{by}")
    output.write_bars(f"Articles per {by}:", [(row[by] or "no date", row["articles"]) for row in chart], stdout)
    for title, rows in tables.items():
        click.echo(title.replace("_", " ").capitalize() + ":")
        output.write_rows(list(rows[0]) if rows else ["none"], (tuple(row.values()) for row in rows), fmt, stdout)


# -- following articles: history, changes, watch ---------------------------------------------------


@main.command()
@db_argument
@click.argument("article")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]),
              help="Output format [default: table on a terminal, json otherwise].")
def history(db: Path, article: str, fmt: str | None) -> None:
    """Show every revision of one article: fetch time, the fields that changed, a word diff of
    headline, lead and body ([-old-]{+new+}), and where it stood on listing pages.

    ARTICLE is the numeric article id, the identity (id:503386, wp:/2016/09/24/slug/) or any URL
    of the article.

    Example:

        dwnscraper history dwn.db 503412
    """
    from dwnscraper.history import article_history, write_history

    with read_only(db) as archive:
        found = article_history(archive, article)
    write_history(found, fmt or output.default_format(sys.stdout), sys.stdout)


@main.command()
@db_argument
@click.option("--since", required=True, help="From this day (YYYY-MM-DD) or time (ISO 8601), inclusive.")
@click.option("--until", help="Up to this day or time, exclusive [default: now].")
@format_option
def changes(db: Path, since: str, until: str | None, fmt: str | None) -> None:
    """List the articles that got a new revision in a period, with the fields that changed.

    Days and times without an offset are Europe/Berlin time.

    Example:

        dwnscraper changes dwn.db --since 2026-01-20 --until 2026-01-21
    """
    from dwnscraper.history import parse_moment, write_changes

    period = []
    for name, value in (("--since", since), ("--until", until)):
        try:
            period.append(parse_moment(value) if value else None)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint=f"'{name}'") from error
    archive = _open(db)
    try:
        write_changes(archive, *period, fmt or output.default_format(sys.stdout), sys.stdout)
    finally:
        archive.close()


def _duration(_ctx: click.Context, param: click.Parameter, value: str):
    from dwnscraper.revisit import parse_duration

    try:
        span = parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error
    if not span:
        raise click.BadParameter(f"{param.name} must be longer than 0s.")
    return span


@main.command()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default="dwn.db", show_default=True,
              help="The SQLite file to keep current (created if missing).")
@click.option("--every", default="15m", show_default=True, callback=_duration,
              help="Pause between the end of one cycle and the start of the next: 30m, 1h, ...")
@click.option("--retry", default="1m", show_default=True, callback=_duration,
              help="Wait after a failed cycle, doubled after each failure in a row (at most --every).")
@click.option("--cycles", type=click.IntRange(min=1), help="Stop after this many cycles [default: never].")
@click.option("--mirror", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Serve this saved copy of the site on 127.0.0.1 and crawl it.")
@click.option("--site", help="Crawl a copy of the site served at this address.")
@click.option("--section", "sections", multiple=True, help="sections: only this section (repeatable).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A setting for every crawl, as with crawl -s (repeatable).")
def watch(db: Path, every, retry, cycles: int | None, mirror: Path | None, site: str | None,
          sections: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Keep the archive current: crawl sections, then the feed, every --every until stopped.

    Each cycle runs `dwnscraper crawl sections` and `dwnscraper crawl feed` as processes (new
    articles and the ones the revisit policy makes due) and prints one line. A failed cycle is
    retried after a backoff; SIGTERM or Ctrl-C lets the crawl running stop gracefully, then exits 0.

    Example:

        dwnscraper watch --db dwn.db --every 15m
    """
    from dwnscraper.crawl import MIRROR_SPEED, serving
    from dwnscraper.watch import Watch, WatchRefused

    if mirror and site:
        raise click.UsageError("Give --mirror or --site, not both.")
    with serving(mirror) as mirror_url:
        settings = [*(f"{name}={value}" for name, value in MIRROR_SPEED.items() if mirror_url), *overrides]
        arguments = [*(["--site", mirror_url or site] if mirror_url or site else []),
                     *(argument for section in sections for argument in ("--section", section)),
                     *(argument for item in settings for argument in ("-s", item))]
        try:
            code = Watch(db, arguments, every, retry, cycles, echo=click.echo).run()
        except WatchRefused as error:
            refused = click.ClickException(str(error))
            refused.exit_code = 2
            raise refused from error
    sys.exit(code)
