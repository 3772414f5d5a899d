"""Run ``dwnscraper crawl`` and stop dead inside one archive statement, so a test can SIGKILL it there.

    python tests/pausing_crawl.py SQL_PREFIX NTH crawl --db dwn.db ...

The archive's SQLite connection gets a trace callback (``sqlite3.Connection.set_trace_callback``)
that only watches: when the NTH statement starting with SQL_PREFIX is about to run, it writes
``PAUSED <prefix> in_transaction=<bool>`` to stderr and sleeps until killed. The crawler's own code
runs unchanged up to that point; the statement and its transaction are the crawler's own. Test-only.
"""

from __future__ import annotations

import sys
import threading

from dwnscraper.cli import main
from dwnscraper.storage import Archive

PAUSED = "PAUSED"


def pause_at(prefix: str, nth: int) -> None:
    seen = 0
    original_open = Archive.open

    def open_watched(archive: Archive) -> Archive:
        original_open(archive)
        connection = archive.db.conn

        def watch(statement: str) -> None:
            nonlocal seen
            if not statement.lstrip().startswith(prefix):
                return
            seen += 1
            if seen == nth:
                sys.stderr.write(f"\n{PAUSED} {prefix} in_transaction={connection.in_transaction}\n")
                sys.stderr.flush()
                threading.Event().wait()

        connection.set_trace_callback(watch)
        return archive

    Archive.open = open_watched


if __name__ == "__main__":
    prefix, nth, *arguments = sys.argv[1:]
    pause_at(prefix, int(nth))
    main(arguments, prog_name="dwnscraper")
