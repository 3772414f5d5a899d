"""Benchmark of the read commands' cold start beside ``sqlite-utils query`` on the same database.

Each command runs as a fresh process (its console script, as a user types it) ROUNDS times, the
commands taking turns so that a busy moment of the machine falls on all of them alike; the median
wall time of each is printed with its ratio to ``sqlite-utils query`` (goal: at most 1.5x). The
database is the reparse benchmark's archive of PAGES stored pages, built in a temporary folder
that is removed at the end (or ``--db`` to time an archive you have). Not a test: run it by hand.

    python benchmarks/startup_benchmark.py [--rounds 15] [--pages 200] [--db dwn.db]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlite_utils import Database

GOAL = 1.5
"""A read command may start at most this many times slower than ``sqlite-utils query``."""


def commands(db: Path) -> dict[str, list[str]]:
    """Label -> command line; the first is the baseline."""
    archive = Database(db)
    identity, day = next(archive.query("SELECT identity, published_on FROM articles ORDER BY published_on DESC"
                                       " LIMIT 1")).values()
    archive.close()
    count = "select count(*) from articles"
    return {
        "sqlite-utils query": ["sqlite-utils", "query", str(db), count],
        "dwnscraper --version": ["dwnscraper", "--version"],
        "dwnscraper query": ["dwnscraper", "query", str(db), count],
        "dwnscraper search": ["dwnscraper", "search", str(db), "Gold", "-n", "5"],
        "dwnscraper show": ["dwnscraper", "show", str(db), identity],
        "dwnscraper stats": ["dwnscraper", "stats", str(db)],
        "dwnscraper export": ["dwnscraper", "export", str(db), "--since", day],
    }


def wall_time(command: list[str]) -> float:
    executable = str(Path(sys.executable).with_name(command[0]))
    started = time.perf_counter()
    subprocess.run([executable, *command[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--db", type=Path, help="Time this archive instead of building one.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dwn-startup-bench-") as folder:
        db = args.db
        if db is None:
            from reparse_benchmark import build_archive

            db = Path(folder) / "dwn.db"
            build_archive(db, args.pages)
        lines = commands(db)
        times: dict[str, list[float]] = {label: [] for label in lines}
        for _ in range(args.rounds):
            for label, command in lines.items():
                times[label].append(wall_time(command))
    medians = {label: statistics.median(values) for label, values in times.items()}
    baseline = medians["sqlite-utils query"]
    print(f"Cold start, median of {args.rounds} fresh processes each ({db.name}):")
    print(f"| command | median (ms) | vs sqlite-utils query (goal <= {GOAL}x) |")
    print("|---|---:|---:|")
    for label, median in medians.items():
        print(f"| {label} | {median * 1000:.0f} | {median / baseline:.2f}x |")


if __name__ == "__main__":
    main()
