"""Rerun the current parsers over stored raw pages (or saved fixtures) on all cores.

The main process only hands out chunks of work and writes; each worker opens the archive read-only
once, then for every page of its chunk decompresses the body, parses it, loads the record the
archive holds for that page and compares the two field by field. Only changed records travel back.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from dwnscraper.fixtures import Fixture, iter_fixtures
from dwnscraper.parsing import parse_page
from dwnscraper.storage import (
    Archive,
    article_identity_of,
    article_record,
    listing_record,
    open_read_only,
    raw_page,
    stored_article,
    stored_listing,
    stored_teasers,
)

CHUNK_SIZE = 50
"""Pages per task sent to a worker: large enough that pickling is cheap, small enough to balance."""

_archive: Database | None = None
"""The worker process's own read-only connection, opened by ``_open_archive``."""


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class PageResult:
    """What reparsing one page found; ``record`` is set only when the archive should be updated."""

    page: int | str
    kind: str
    outcome: str
    fields: tuple[str, ...] = ()
    record: dict[str, Any] | None = None
    fetched_at: str | None = None
    crawl_run_id: int | None = None


@dataclass
class Report:
    """Counts over all pages: outcome per kind and, per field, how many pages changed it."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    differing: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return self.outcomes.total()

    def count(self, outcome: str, kind: str | None = None) -> int:
        return sum(n for (k, o), n in self.outcomes.items() if o == outcome and kind in (None, k))

    def add(self, kind: str, outcome: str, fields: tuple[str, ...], name: str | None = None) -> None:
        """Count one page; ``name`` it to have it listed among the differing pages."""
        self.outcomes[kind, outcome] += 1
        self.fields.update(fields)
        if fields and name:
            self.differing.append((name, fields))

    def _kind_summary(self, kind: str, label: str) -> str:
        counts = {outcome: self.count(outcome, kind) for outcome in ("new", "changed", "unchanged")}
        parts = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        return f"{sum(counts.values())} {label} ({parts})"

    def field_lines(self) -> list[str]:
        if not self.fields:
            return ["No field changed."]
        width = max(map(len, self.fields))
        rows = [f"  {name:<{width}}  {count}" for name, count in sorted(self.fields.items())]
        return ["Pages changed per field:", *rows]

    def archive_lines(self) -> list[str]:
        """What reparsing the archive found: pages per kind and outcome, then per field."""
        first = (f"Reparsed {self.pages} pages: {self._kind_summary('article', 'articles')}, "
                 f"{self._kind_summary('listing', 'listings')}, {self.count('error')} did not parse, "
                 f"{self.count('superseded')} superseded by a newer fetch.")
        return [first, *self.field_lines()]

    def fixture_lines(self) -> list[str]:
        """What checking a fixture folder found: totals, per field, then each differing fixture."""
        first = (f"Checked {self.pages} fixtures against their golden JSON: {self.count('unchanged')} match, "
                 f"{self.count('changed')} differ, {self.count('new')} have no golden file.")
        differing = [f"  {name}: {', '.join(fields)}" for name, fields in self.differing]
        return [first, *self.field_lines(), *differing]


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key)))


# -- the worker side -------------------------------------------------------------------------------


def _open_archive(path: str) -> None:
    global _archive
    _archive = open_read_only(path)


def reparse_stored_pages(page_ids: list[int]) -> list[PageResult]:
    """Worker task: reparse stored pages and compare each with what the archive holds for it."""
    return [_reparse_one(_archive, page_id) for page_id in page_ids]


def _reparse_one(db: Database, page_id: int) -> PageResult:
    page = raw_page(db, page_id)
    record = parse_page(page.body, page.final_url, page.fetched_at, page.headers)
    kind = record["kind"]
    if kind == "article":
        stored = stored_article(db, article_identity_of(record))
        if stored is not None and stored["raw_page_id"] > page_id:
            return PageResult(page_id, kind, "superseded")
        to_record = article_record
    elif kind == "listing":
        stored = stored_listing(db, page_id)
        to_record = listing_record
    else:
        return PageResult(page_id, kind, "error")
    if stored is None:
        return PageResult(page_id, kind, "new", record=record, fetched_at=page.fetched_at)
    fields = changed_fields(to_record(stored, stored_teasers(db, stored["raw_page_id"])), record)
    if not fields:
        return PageResult(page_id, kind, "unchanged")
    return PageResult(page_id, kind, "changed", fields, record, page.fetched_at, stored["crawl_run_id"])


def check_fixtures(fixtures: list[tuple[str, str]]) -> list[PageResult]:
    """Worker task: parse saved fixtures (name, HTML path) and compare each with its golden JSON."""
    return [_check_one(name, Fixture(Path(path))) for name, path in fixtures]


def _check_one(name: str, fixture: Fixture) -> PageResult:
    record = parse_page(fixture.html.read_bytes(), fixture.url, fixture.fetched_at, fixture.headers)
    if not fixture.expected_path.exists():
        return PageResult(name, record["kind"], "new")
    fields = changed_fields(fixture.expected(), record)
    return PageResult(name, record["kind"], "changed" if fields else "unchanged", fields)


# -- the driver ------------------------------------------------------------------------------------


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def start_worker(initializer: Callable[..., None] | None, *initargs: Any) -> None:
    """Pool worker initializer: ignore SIGINT, then run ``initializer``. Ctrl-C reaches every process of
    the terminal's group; the command stops the pool, and a worker must not die with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer:
        initializer(*initargs)


def run_chunks(task: Callable[[list[Any]], list[PageResult]], chunks: Iterable[list[Any]], jobs: int,
               initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> Iterator[list[PageResult]]:
    """Run ``task`` over ``chunks`` on ``jobs`` processes, yielding results in order.

    At most two chunks per process are in flight, so work is never queued all at once. With one
    job everything runs in this process (no pickling, the one-process baseline).
    """
    if jobs == 1:
        if initializer:
            initializer(*initargs)
        yield from map(task, chunks)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(jobs, context, start_worker, (initializer, *initargs)) as pool:
        window: deque[Future] = deque()
        for chunk in chunks:
            window.append(pool.submit(task, chunk))
            if len(window) >= 2 * jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def reparse_archive(path: Path, page_ids: list[int], *, jobs: int, check: bool,
                    advance: Callable[[int], None]) -> tuple[Report, Counter]:
    """Reparse the stored pages ``page_ids`` (``storage.reparse_page_ids``); write changes unless ``check``.

    Returns the report and the archive's write counts (``articles_updated`` = new revisions).
    """
    report = Report()
    archive = None if check else Archive(path).open()
    try:
        for results in run_chunks(reparse_stored_pages, chunked(page_ids, CHUNK_SIZE), jobs,
                                  _open_archive, (str(path),)):
            for result in results:
                report.add(result.kind, result.outcome, result.fields)
                if archive is not None and result.record is not None:
                    _store(archive, result)
            advance(len(results))
    finally:
        if archive is not None:
            archive.close()
    return report, archive.counts if archive is not None else Counter()


def _store(archive: Archive, result: PageResult) -> None:
    store = archive.add_article if result.kind == "article" else archive.add_listing
    store(result.record, result.page, result.fetched_at, result.crawl_run_id)


def check_fixture_folder(folder: Path, *, jobs: int, advance: Callable[[int], None]) -> Report:
    """Parse every fixture below ``folder`` and compare it with its golden JSON."""
    fixtures = list(iter_fixtures(folder))
    report = Report()
    jobs_list = [(str(fixture.html.relative_to(folder).with_suffix("")), str(fixture.html)) for fixture in fixtures]
    for results in run_chunks(check_fixtures, chunked(jobs_list, CHUNK_SIZE), jobs):
        for result in results:
            report.add(result.kind, result.outcome, result.fields, str(result.page))
        advance(len(results))
    return report
