"""How fast ``parse_page`` is on the article fixtures, against lxml alone, trafilatura and a cold CLI start.

Prints Markdown: per page and overall the median parse time of ``parse_page`` next to bare
``lxml.html.fromstring`` on the same bytes (the floor; goal: at most 2x; the two are timed in blocks of runs that
take turns), trafilatura's time and how far its text agrees with our body, the wall time of a fresh
``dwnscraper parse FILE --url URL`` (goal: under 0.5 s) with the imports that cost most, and how often dateparser
was called.

Besides the fixtures it times the pages of :mod:`generated_pages`, made at run time: an article with ten
teaser cards, a section page of twenty cards and one whose cards print relative dates (``vor 20 Minuten``).

Example:

    python benchmarks/parse_benchmark.py --repeat 20
"""

from __future__ import annotations

import cProfile
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import lxml.html
import trafilatura
from dateparser.date import DateDataParser

from dwnscraper.fixtures import Fixture, iter_fixtures
from dwnscraper.parsing import parse_page

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated_pages import write_pages  # noqa: E402  (a sibling script, not a package)

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
ARTICLE_FOLDERS = ("current", "legacy", "wordpress")
RATIO_GOAL = 2.0
BLOCKS = 4
"""How many blocks of consecutive runs the timings of lxml and ``parse_page`` take turns in, page by page."""
COLD_GOAL_SECONDS = 0.5
WORD = re.compile(r"\w+")
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass
class PageResult:
    fixture: Fixture
    layout: str
    lxml_seconds: float
    parse_seconds: float
    trafilatura_seconds: float
    agreement: float

    @property
    def ratio(self) -> float:
        return self.parse_seconds / self.lxml_seconds


STATISTICS = {"median": statistics.median, "min": min}
"""How the timed runs of one call are summed up: ``min``, the least disturbed run, suits a machine other processes
share (their load only ever adds time)."""
Summary = Callable[[list[float]], float]


def timed_seconds(call: Callable[[], object], repeat: int, warmup: int, summary: Summary = statistics.median) -> float:
    """The median (or ``summary``) wall time of ``call`` over ``repeat`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return summary(times)


def timed_in_blocks(calls: list[Callable[[], object]], repeat: int, warmup: int, blocks: int,
                    summary: Summary = statistics.median) -> list[float]:
    """:func:`timed_seconds` of each call, its ``repeat`` runs made in ``blocks`` blocks of consecutive runs, the
    calls' blocks taking turns: a stretch of load on the machine spoils a block of each, not all runs of one."""
    for call in calls:
        for _ in range(warmup):
            call()
    times: list[list[float]] = [[] for _ in calls]
    for block in range(blocks):
        runs = repeat // blocks + (block < repeat % blocks)
        for call, taken in zip(calls, times, strict=True):
            for _ in range(runs):
                start = time.perf_counter()
                call()
                taken.append(time.perf_counter() - start)
    return [summary(taken) for taken in times]


def word_f1(ours: str, theirs: str) -> float:
    """Token-level F1 of two texts: bags of lower-cased ``\\w+`` words, multiplicity counted."""
    mine, other = Counter(WORD.findall(ours.lower())), Counter(WORD.findall(theirs.lower()))
    common = sum((mine & other).values())
    if not common:
        return 0.0
    precision, recall = common / sum(other.values()), common / sum(mine.values())
    return 2 * precision * recall / (precision + recall)


def bench_page(fixture: Fixture, repeat: int, warmup: int, summary: Summary) -> PageResult:
    body = fixture.html.read_bytes()
    record = parse_page(body, fixture.url, fixture.fetched_at, fixture.headers)
    extracted = trafilatura.extract(body, url=fixture.url) or ""
    ours = "\n".join(block["text"] for block in record.get("body", []))
    lxml_seconds, parse_seconds = timed_in_blocks([
        lambda: lxml.html.fromstring(body),
        lambda: parse_page(body, fixture.url, fixture.fetched_at, fixture.headers),
    ], repeat, warmup, BLOCKS, summary)
    return PageResult(
        fixture=fixture,
        layout=record.get("layout") or record["kind"],
        lxml_seconds=lxml_seconds,
        parse_seconds=parse_seconds,
        trafilatura_seconds=timed_seconds(lambda: trafilatura.extract(body, url=fixture.url), repeat, warmup, summary),
        agreement=word_f1(ours, extracted),
    )


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def page_table(results: list[PageResult]) -> str:
    rows = [
        "| page | layout | KB | lxml ms | parse_page ms | ratio | trafilatura ms | body F1 |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for result in results:
        fixture = result.fixture
        rows.append(
            f"| {fixture.html.parent.name}/{fixture.name} | {result.layout} | {fixture.html.stat().st_size / 1024:.0f}"
            f" | {milliseconds(result.lxml_seconds)} | {milliseconds(result.parse_seconds)} | {result.ratio:.2f}"
            f" | {milliseconds(result.trafilatura_seconds)} | {result.agreement:.3f} |"
        )
    lxml_total = sum(result.lxml_seconds for result in results)
    parse_total = sum(result.parse_seconds for result in results)
    rows.append(
        f"| **all {len(results)} pages** | | | {milliseconds(lxml_total)} | {milliseconds(parse_total)}"
        f" | {parse_total / lxml_total:.2f} | {milliseconds(sum(result.trafilatura_seconds for result in results))}"
        f" | {statistics.mean(result.agreement for result in results):.3f} (mean) |"
    )
    return "\n".join(rows)


def count_dateparser_calls(fixtures: list[Fixture]) -> Counter:
    """The texts handed to any ``DateDataParser.get_date_data`` during one parse of every fixture."""
    texts: Counter = Counter()
    original = DateDataParser.get_date_data

    def counting(self, date_string, *args, **kwargs):
        texts[date_string] += 1
        return original(self, date_string, *args, **kwargs)

    DateDataParser.get_date_data = counting
    try:
        for fixture in fixtures:
            parse_page(fixture.html.read_bytes(), fixture.url, fixture.fetched_at, fixture.headers)
    finally:
        DateDataParser.get_date_data = original
    return texts


def cli_command(fixture: Fixture) -> list[str]:
    script = Path(sys.executable).with_name("dwnscraper")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "dwnscraper"]
    return [*program, "parse", str(fixture.html), "--url", fixture.url]


def cold_seconds(command: list[str], runs: int) -> float:
    """The median wall time of ``command`` as a fresh process, after one untimed run (warm disk cache)."""
    return timed_seconds(lambda: subprocess.run(command, capture_output=True, check=False), runs, 1)


def import_offenders(fixture: Fixture, top: int) -> tuple[float, list[tuple[str, float]]]:
    """Total import time of one ``dwnscraper parse`` run and the third-party packages costing most.

    A package's cost is the cumulative time of its outermost import: itself and whatever it pulls in.
    """
    command = [sys.executable, "-X", "importtime", "-m", "dwnscraper", *cli_command(fixture)[-4:]]
    report = subprocess.run(command, capture_output=True, text=True, check=False).stderr
    by_package: Counter = Counter()
    total = 0
    for match in IMPORT_LINE.finditer(report):
        cumulative_us, indent, name = int(match[2]), match[3], match[4]
        package = name.split(".")[0]
        if package != "dwnscraper":
            by_package[package] = max(by_package[package], cumulative_us)
        if len(indent) == 1:
            total += cumulative_us
    return total / 1e6, [(name, us / 1e6) for name, us in by_package.most_common(top)]


def profile_report(fixtures: list[Fixture], rounds: int, top: int) -> str:
    bodies = [(fixture.html.read_bytes(), fixture) for fixture in fixtures]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        for body, fixture in bodies:
            parse_page(body, fixture.url, fixture.fetched_at, fixture.headers)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = ["| function | calls | own ms | cumulative ms |", "|---|--:|--:|--:|"]
    entries = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, function), (_, calls, own, cumulative, _) in entries:
        where = f"{Path(filename).parent.name}/{Path(filename).name}:{line}({function})" if line else function
        rows.append(f"| `{where}` | {calls} | {own * 1000 / rounds:.1f} | {cumulative * 1000 / rounds:.1f} |")
    return "\n".join(rows)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repeat", default=20, show_default=True, help="Timed runs per page and tool (the median is shown).")
@click.option("--warmup", default=3, show_default=True, help="Untimed runs before each timing.")
@click.option("--cold-runs", default=7, show_default=True, help="Fresh `dwnscraper parse` processes to time.")
@click.option("--profile", "profile_top", default=0, show_default=True,
              help="Also profile parse_page over all pages and list this many functions by own time.")
@click.option("--statistic", "summary", type=click.Choice(sorted(STATISTICS)), default="median", show_default=True,
              help="Sum up the timed runs by their median or their minimum (on a busy shared machine).")
@click.option("--pages", type=click.Path(exists=True, file_okay=False, path_type=Path), default=PAGES,
              show_default=True, help="The fixture folder holding current/, legacy/ and wordpress/.")
def main(repeat: int, warmup: int, cold_runs: int, profile_top: int, summary: str, pages: Path) -> None:
    """Time parse_page against lxml and trafilatura on the article fixtures; print Markdown."""
    fixtures = [fixture for folder in ARTICLE_FOLDERS for fixture in iter_fixtures(pages / folder)]
    if not fixtures:
        raise click.ClickException(f"No article fixtures below {pages} ({', '.join(ARTICLE_FOLDERS)}).")
    with tempfile.TemporaryDirectory(prefix="dwn-bench-") as folder:
        timed = fixtures + list(iter_fixtures(write_pages(Path(folder) / "generated")))
        results = [bench_page(fixture, repeat, warmup, STATISTICS[summary]) for fixture in timed]
        page_report = page_table(results)
        calls = count_dateparser_calls(timed)
    worst = max(results, key=lambda result: result.ratio)
    overall = sum(result.parse_seconds for result in results) / sum(result.lxml_seconds for result in results)
    click.echo(f"## parse_page against lxml.html.fromstring ({summary} of {repeat}, {warmup} warm-up runs)\n")
    click.echo(page_report)
    click.echo(
        f"\nOverall ratio {overall:.2f} (goal <= {RATIO_GOAL:g}: {'met' if overall <= RATIO_GOAL else 'NOT met'});"
        f" worst page {worst.fixture.name} at {worst.ratio:.2f}. Body F1: token-level F1 of lower-cased words"
        " (multiset) between trafilatura.extract(body, url=url) and our body blocks joined.\n"
    )
    click.echo(f"## dateparser\n\nDateDataParser.get_date_data calls in one parse of all pages: {sum(calls.values())}")
    for text, count in calls.most_common():
        click.echo(f"- {count} x `{text}`")
    sample = min(fixtures, key=lambda fixture: fixture.html.stat().st_size)
    command = cli_command(sample)
    cli = cold_seconds(command, cold_runs)
    interpreter = cold_seconds([sys.executable, "-c", "pass"], cold_runs)
    imports, offenders = import_offenders(sample, top=8)
    click.echo(
        f"\n## Cold start: `dwnscraper parse {sample.html.parent.name}/{sample.html.name} --url URL`\n\n"
        f"Median wall time of {cold_runs} fresh processes: {cli:.3f} s (goal < {COLD_GOAL_SECONDS:g} s:"
        f" {'met' if cli < COLD_GOAL_SECONDS else 'NOT met'}); a bare interpreter takes {interpreter:.3f} s.\n"
        f"Imports (python -X importtime, which adds its own overhead): {imports:.3f} s in total; the costliest"
        " packages, each with what it pulls in:\n"
    )
    click.echo("| package | import s |\n|---|--:|")
    for name, seconds in offenders:
        click.echo(f"| {name} | {seconds:.3f} |")
    if profile_top:
        click.echo(f"\n## Profile of parse_page over all {len(fixtures)} pages (cProfile, ms per round)\n")
        click.echo(profile_report(fixtures, rounds=max(1, repeat // 4), top=profile_top))


if __name__ == "__main__":
    main()
