"""Benchmark of ``dwnscraper reparse DB``: pages per second with one process and with all cores.

Builds a temporary archive of PAGES stored pages: the saved pages of ``fixtures/pages`` (articles of all
three layouts, listings, broken pages) stored again and again under synthetic URLs, article ids renumbered
so that each copy is an article of its own, each with the record the parser made of it. Then runs
the reparse (the same code as the command: every stored page parsed and compared with its record)
with ``--jobs 1`` and with all cores, and next to it the ceiling no parser can pass: the same pages only
decompressed and built into an lxml tree, on the same processes. Not a test: run it by hand.

    python benchmarks/reparse_benchmark.py [--pages 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import tempfile
import time
from pathlib import Path

import lxml.html
from lxml import etree
from sqlite_utils import Database

from dwnscraper import LIVE_SITE
from dwnscraper.fixtures import iter_fixtures
from dwnscraper.parsing import parse_page
from dwnscraper.reparse import CHUNK_SIZE, available_cores, chunked, reparse_archive, run_chunks
from dwnscraper.storage import Archive, open_read_only, raw_page, reparse_page_ids

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
FIRST_SYNTHETIC_ID = 900_000


def synthetic_copy(body: bytes, expected: dict, number: int) -> tuple[bytes, str]:
    """The page as if it were another article: its id renumbered everywhere, under a new URL."""
    article_id = expected.get("article_id")
    if expected.get("kind") == "article" and article_id:
        new_id = FIRST_SYNTHETIC_ID + number
        body = re.sub(rb"(?<![0-9])%d(?![0-9])" % article_id, str(new_id).encode(), body)
        return body, f"{LIVE_SITE}/{new_id}/bench-{number}"
    return body, f"{LIVE_SITE}/bench/{number}/{expected.get('kind', 'page')}/"


def build_archive(db: Path, pages: int) -> None:
    """Store ``pages`` synthetic pages and their parse records through the Archive's write side."""
    fixtures = [(fixture.html.read_bytes(), fixture.expected(), fixture.fetched_at, fixture.headers)
                for fixture in iter_fixtures(PAGES)]
    with Archive(db) as archive:
        run_id = archive.start_run("benchmark", {"pages": pages})
        for number in range(pages):
            original, expected, fetched_at, headers = fixtures[number % len(fixtures)]
            body, url = synthetic_copy(original, expected, number)
            raw_id = archive.add_raw_page(url=url, final_url=url, status=200, headers=headers or {}, body=body,
                                          fetched_at=fetched_at, crawl_run_id=run_id)
            record = parse_page(body, url, fetched_at, headers)
            if record["kind"] == "article":
                archive.add_article(record, raw_id, fetched_at, run_id)
            elif record["kind"] == "listing":
                archive.add_listing(record, raw_id, fetched_at, run_id)
            else:
                archive.add_error(url=url, stage="parse", message=record["error"], raw_page_id=raw_id,
                                  crawl_run_id=run_id)
        archive.finish_run(run_id, "finished", {})


def timed_reparse(db: Path, jobs: int) -> tuple[float, int, str]:
    started = time.perf_counter()
    reader = open_read_only(db)
    page_ids = reparse_page_ids(reader)
    reader.close()
    report, _ = reparse_archive(db, page_ids, jobs=jobs, check=False, advance=lambda done: None)
    return time.perf_counter() - started, report.pages, report.archive_lines()[0]


_reader: Database | None = None
"""A ceiling worker's read-only connection."""


def _open_reader(path: str) -> None:
    global _reader
    _reader = open_read_only(path)


def build_trees(page_ids: list[int]) -> list[int]:
    """Ceiling worker task: each stored page read, decompressed and built into an lxml tree, nothing else."""
    for page_id in page_ids:
        body = raw_page(_reader, page_id).body
        with contextlib.suppress(etree.ParserError):  # an empty or binary page has no tree
            lxml.html.fromstring(body)
    return page_ids


def timed_ceiling(db: Path, jobs: int) -> tuple[float, int]:
    started = time.perf_counter()
    reader = open_read_only(db)
    page_ids = reparse_page_ids(reader)
    reader.close()
    done = sum(len(chunk) for chunk in run_chunks(build_trees, chunked(page_ids, CHUNK_SIZE), jobs,
                                                  _open_reader, (str(db),)))
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="Build the archive in this folder and keep it.")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.pages)
    else:
        with tempfile.TemporaryDirectory(prefix="dwn-reparse-bench-") as folder:
            run(Path(folder), args.pages)


def run(folder: Path, pages: int) -> None:
    """Build the archive of ``pages`` stored pages in ``folder`` and time its reparse and the ceiling."""
    db = folder / "bench.db"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    build_archive(db, pages)
    print(f"built {db} with {pages} stored pages in {time.perf_counter() - started:.1f} s")
    cores = available_cores()
    rates = {}
    for jobs in sorted({1, cores}):
        seconds, pages, summary = timed_reparse(db, jobs)
        rates[jobs] = pages / seconds
        print(f"jobs={jobs}: {pages} pages in {seconds:.2f} s = {rates[jobs]:.0f} pages/s")
        print(f"  {summary}")
    if cores > 1:
        print(f"speed-up with {cores} processes: {rates[cores] / rates[1]:.2f}x")
    for jobs in sorted({1, cores}):
        seconds, pages = timed_ceiling(db, jobs)
        print(f"ceiling, jobs={jobs}: {pages} pages only decompressed and built into an lxml tree in {seconds:.2f} s"
              f" = {pages / seconds:.0f} pages/s (the reparse reaches {rates[jobs] / (pages / seconds):.0%} of it)")


if __name__ == "__main__":
    main()
