"""Benchmark of ``dwnscraper export``: rows/s, and peak memory (RSS) that does not grow with the archive.

Builds the reparse benchmark's archive (PAGES stored pages), then a copy whose article rows are
repeated under new identities up to ARTICLES articles (100,000 by default), and exports each in a
fresh process (JSON Lines and CSV, to /dev/null), reporting rows/s and the process's peak RSS next
to that of ``dwnscraper --version`` (interpreter and imports alone). The archives are built in a
temporary folder removed at the end, unless ``--keep DIR``. Not a test: run it by hand.

    python benchmarks/export_benchmark.py [--pages 2000] [--articles 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reparse_benchmark import build_archive
from sqlite_utils import Database


def grow(source: Path, target: Path, articles: int) -> int:
    """Copy ``source`` with its article rows repeated under new identities up to ``articles`` rows;
    return the article count."""
    shutil.copy(source, target)
    db = Database(target)
    columns = ", ".join(f"[{column}]" for column in db["articles"].columns_dict if column != "identity")
    originals = db["articles"].count
    with db.conn:
        for copy in range(1, -(-articles // originals)):
            db.execute(f"INSERT INTO articles (identity, {columns}) SELECT identity || '#{copy}', {columns} "
                       "FROM articles WHERE identity NOT LIKE '%#%' ORDER BY identity LIMIT ?",
                       [articles - copy * originals])
    count = db["articles"].count
    db.close()
    return count


PEAK_REPORTER = """
import atexit, os, pathlib, runpy, sys

def report_peak():
    status = pathlib.Path("/proc/self/status").read_text()
    peak_kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    pathlib.Path(os.environ["DWN_BENCH_PEAK_FILE"]).write_text(peak_kib)

atexit.register(report_peak)
sys.argv[0] = "dwnscraper"
runpy.run_module("dwnscraper", run_name="__main__")
"""
"""Runs ``python -m dwnscraper ARGS`` and writes the process's own peak RSS (``VmHWM``) at exit."""


def peak_rss_of(arguments: list[str], folder: Path) -> tuple[float, float]:
    """Run ``dwnscraper ARGUMENTS`` in a fresh child; return its wall time (s) and its own peak RSS (MiB).

    Not the child's ``ru_maxrss``: after fork and exec the kernel counts in the parent it was forked from,
    this benchmark, which has just built the archive.
    """
    peak = folder / "peak"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_REPORTER, *arguments], stdout=subprocess.DEVNULL,
                          env={**os.environ, "DWN_BENCH_PEAK_FILE": str(peak)}, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"dwnscraper {' '.join(arguments)} exited {done.returncode}")
    return seconds, int(peak.read_text()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Build the archives in this folder and keep them.")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.pages, args.articles)
    else:
        with tempfile.TemporaryDirectory(prefix="dwn-export-bench-") as folder:
            run(Path(folder), args.pages, args.articles)


def run(folder: Path, pages: int, articles: int) -> None:
    small, large = folder / "bench.db", folder / f"bench-{articles}.db"
    if not small.exists():
        build_archive(small, pages)
    sizes = {small: Database(small)["articles"].count, large: grow(small, large, articles)}
    for db, articles in sizes.items():
        print(f"{db.name}: {articles} articles, {db.stat().st_size / 2**20:.0f} MiB")
    _, baseline = peak_rss_of(["--version"], folder)
    print(f"baseline (dwnscraper --version): peak RSS {baseline:.1f} MiB")
    for fmt in ("jsonl", "csv"):
        for db, articles in sizes.items():
            seconds, rss = peak_rss_of(["export", str(db), "-f", fmt, "-o", "/dev/null"], folder)
            print(f"export -f {fmt} {db.name}: {articles} articles in {seconds:.2f} s "
                  f"({articles / seconds:.0f} rows/s), peak RSS {rss:.1f} MiB")


if __name__ == "__main__":
    main()
