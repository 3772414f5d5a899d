"""The ``dwnscraper`` command line: a thin click layer over the library modules."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dwnscraper import __version__
from dwnscraper.fixtures import iter_fixtures, render
from dwnscraper.parsing import parse_page

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version")
def main() -> None:
    """Scrape, parse and archive Deutsche Wirtschafts Nachrichten (DWN) in SQLite."""


@main.command()
@click.argument("page", type=click.Path(exists=True, path_type=Path))
@click.option("--url", help="The URL the page was fetched from (required for a single file).")
@click.option("--fetched-at", help="When the page was fetched, ISO 8601 (resolves 'vor 3 Stunden').")
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
    if page.is_dir():
        jobs = [(fixture.html.read_bytes(), fixture.url, fixture.fetched_at, fixture.headers, fixture)
                for fixture in iter_fixtures(page)]
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
@click.option("--section", "sections", multiple=True, help="sections: only this section (repeatable).")
@click.option("--start", help="archive: first day, YYYY-MM-DD.")
@click.option("--end", help="archive: last day, YYYY-MM-DD (default today).")
@click.option("--search-section", help="archive: the search's section id (27241 Politik, 27242 Wirtschaft).")
@click.option("--url", "urls", multiple=True, help="articles: an article URL (repeatable).")
@click.option("--urls-file", type=click.Path(exists=True, dir_okay=False), help="articles: a file of URLs, one a line.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or DWN_* setting, as with scrapy crawl -s (repeatable).")
def crawl(spider: str, db: Path, mirror: Path | None, site: str | None, refresh: bool, full: bool,
          max_pages: int | None, resume: Path | None, sections: tuple[str, ...], start: str | None,
          end: str | None, search_section: str | None, urls: tuple[str, ...], urls_file: str | None,
          overrides: tuple[str, ...]) -> None:
    """Crawl DWN into a SQLite database, incrementally and politely.

    SPIDER is sections (default: section fronts and their articles), feed (the RSS feed), archive
    (a date range through the search, needs --start) or articles (--url / --urls-file). Exits 1
    when a field's coverage in one layout falls under its threshold (DWN_COVERAGE_THRESHOLDS).

    Example:

        dwnscraper crawl --mirror fixtures/site --db dwn.db
    """
    from dwnscraper.crawl import crawl_settings, run_crawl, serving, summary_lines

    if mirror and site:
        raise click.UsageError("Give --mirror or --site, not both.")
    if spider == "archive" and not start:
        raise click.UsageError("The archive spider needs --start YYYY-MM-DD.")
    spider_args = {"sections": ",".join(sections) or None, "start": start, "end": end,
                   "section": search_section, "urls": ",".join(urls) or None, "file": urls_file}
    with serving(mirror) as mirror_url:
        options = {"DWN_DB": str(db), "DWN_SITE": mirror_url or site, "DWN_REFRESH": refresh or None,
                   "DWN_FULL": full or None, "DWN_MAX_PAGES": max_pages,
                   "JOBDIR": str(resume) if resume else None}
        try:
            settings = crawl_settings(options, overrides, mirror=mirror is not None)
        except ValueError as error:
            raise click.UsageError(str(error)) from error
        result = run_crawl(spider, settings, spider_args)
    for line in summary_lines(result):
        click.echo(line)
    if not result.ok:
        raise click.ClickException("\n".join(result.failures))


@main.command("serve-fixtures")
@click.argument("site_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default="fixtures/site")
@click.option("--port", type=int, default=8000, show_default=True, help="Port on 127.0.0.1.")
def serve_fixtures(site_dir: Path, port: int) -> None:
    """Serve a saved copy of the site on 127.0.0.1 until interrupted (Ctrl-C).

    Crawl it from another terminal with --site; links to the live host are fetched from here.

    Example:

        dwnscraper serve-fixtures fixtures/site --port 8000
    """
    from dwnscraper.mirror import MirrorServer

    server = MirrorServer(site_dir, port=port)
    click.echo(f"Serving {site_dir} on {server.url} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
