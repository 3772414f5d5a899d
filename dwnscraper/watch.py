"""``dwnscraper watch``: keep the archive current, one incremental crawl cycle every ``--every``.

A cycle runs ``dwnscraper crawl sections`` and then ``dwnscraper crawl feed``, each in its own
process (Twisted's reactor cannot be started twice in one process), so each is one crawl run that
takes and releases the archive's writer lock like any crawl. A cycle fails when a crawl exits
non-zero; the next one then comes after a backoff (``--retry``, doubled after each failure in a
row, never later than ``--every``). A crawl that finds the archive locked by another crawl (exit 3)
is retried the same way.

SIGTERM or SIGINT stops the watch gracefully: the crawl running is sent SIGTERM once, which Scrapy
takes as a graceful stop (requests in flight finish, pages are stored, the run is closed); the watch
waits for it, starts nothing more and exits 0. The crawls run in their own process group, so a
Ctrl-C at the terminal reaches only the watch, which forwards it once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from sqlite_utils import Database

from dwnscraper import storage

CYCLE_SPIDERS = ("sections", "feed")
EXIT_OK = 0
EXIT_BAD_SETTING = 2
EXIT_LOCKED = 3
EXIT_STOPPED = (4, 5)
"""Crawl exit codes (README, "Running it every day"): stopped before the end, without / with --resume."""


class WatchRefused(Exception):
    """A crawl refused its arguments or settings: every later cycle would too."""


def duration_text(span: timedelta) -> str:
    """``15m``, ``2h``, ``90s``: the largest unit that divides the span."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@dataclass
class CrawlOutcome:
    spider: str
    exit_code: int
    runs: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        state = {EXIT_OK: "ok", EXIT_LOCKED: "locked by another crawl"}.get(self.exit_code,
                                                                           f"failed (exit {self.exit_code})")
        if self.exit_code in EXIT_STOPPED or self.exit_code < 0:
            state = f"stopped (exit {self.exit_code})"
        runs = "; ".join(f"run {run['id']} {run['finish_reason'] or 'unfinished'}: "
                         f"{counted(run['pages_fetched'] or 0, 'page')}, {run['articles_new'] or 0} new, "
                         f"{run['articles_updated'] or 0} updated, {counted(run['errors'] or 0, 'error')}"
                         for run in self.runs)
        return f"{self.spider} {state}" + (f" ({runs})" if runs else "")


class Watch:
    """The watch loop; ``crawl_arguments`` are passed to every ``dwnscraper crawl`` after the spider."""

    def __init__(self, db: Path, crawl_arguments: Sequence[str], every: timedelta, retry: timedelta,
                 cycles: int | None = None, echo: Callable[[str], None] = print) -> None:
        self.db = db
        self.crawl_arguments = list(crawl_arguments)
        self.every, self.retry, self.cycles = every, retry, cycles
        self.echo = echo
        self.stop_signal: int | None = None
        self.wake = threading.Event()
        self.child: subprocess.Popen | None = None

    def stop(self, signum: int, _frame: FrameType | None = None) -> None:
        """Signal handler: finish the crawl running (forwarding one SIGTERM), then end."""
        if self.stop_signal is None and self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
        self.stop_signal = signum
        self.wake.set()

    def run(self) -> int:
        """Cycle until stopped (exit 0) or ``cycles`` are done (0 if the last cycle did its job, else 1)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.stop)
        failures, number, ok = 0, 0, True
        while self.stop_signal is None and (self.cycles is None or number < self.cycles):
            number += 1
            started = datetime.now(UTC).replace(microsecond=0)
            outcomes = self.cycle()
            ok = all(outcome.exit_code == EXIT_OK for outcome in outcomes)
            failures = 0 if ok else failures + 1
            wait = self.every if ok else min(self.every, self.retry * 2 ** (failures - 1))
            done = self.stop_signal is not None or number == self.cycles
            after = "stopping" if done else f"next cycle in {duration_text(wait)}" if ok \
                else f"retry in {duration_text(wait)}"
            self.echo(f"Cycle {number} ({started.isoformat()}): "
                      + "; ".join(outcome.text for outcome in outcomes) + f"; {after}.")
            if not done:
                self.wake.wait(wait.total_seconds())
        if self.stop_signal is not None:
            self.echo(f"Stopped by {signal.Signals(self.stop_signal).name} after {counted(number, 'cycle')}.")
            return 0
        return 0 if ok else 1

    def cycle(self) -> list[CrawlOutcome]:
        """Run the cycle's crawls in turn; none starts once a stop was asked."""
        outcomes = []
        for spider in CYCLE_SPIDERS:
            if self.stop_signal is not None:
                break
            outcomes.append(self.crawl(spider))
        return outcomes

    def crawl(self, spider: str) -> CrawlOutcome:
        before = self._last_run_id()
        command = [sys.executable, "-m", "dwnscraper", "crawl", spider, "--db", str(self.db), *self.crawl_arguments]
        self.child = subprocess.Popen(command, stdout=sys.stderr, start_new_session=True)
        exit_code = self.child.wait()
        self.child = None
        if exit_code == EXIT_BAD_SETTING:
            raise WatchRefused(f"dwnscraper crawl {spider} refused its arguments (exit 2, see above); "
                               "every cycle would fail the same way.")
        return CrawlOutcome(spider, exit_code, self._runs_after(before))

    def _last_run_id(self) -> int:
        return self._read(storage.last_crawl_run_id, 0)

    def _runs_after(self, run_id: int) -> list[dict]:
        return self._read(lambda db: storage.crawl_run_rows(db, after=run_id), [])

    def _read(self, query: Callable[[Database], Any], missing: Any) -> Any:
        """``query`` on a read-only connection to the archive; ``missing`` if there is no archive yet."""
        if not self.db.exists():
            return missing
        db = storage.open_read_only(self.db)
        try:
            return query(db)
        finally:
            db.close()
