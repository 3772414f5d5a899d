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
