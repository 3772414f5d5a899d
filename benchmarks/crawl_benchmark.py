"""Crawl speed and memory: the full pipeline next to a no-op spider, on a generated mirror.

    python benchmarks/crawl_benchmark.py --articles 5000

Generates a mirror of N article pages (copies of the fixture site's current and legacy articles
under new ids) and section listings linking them, serves it on 127.0.0.1 from this process, then
runs in fresh subprocesses, with the same settings:

- ``noop``: the ``sections`` spider's discovery, fetching every page, yielding no items;
- ``full``: ``dwnscraper crawl sections``: archive raw page + parse + validate + store.

Reports pages/s and peak RSS (the crawl process's own ``VmHWM``) of each, and the full crawl
of a fifth of the pages to show whether memory grows with the number of pages stored.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "fixtures" / "site"
CARDS_PER_PAGE = 50
SETTINGS = {
    "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LOG_LEVEL": "WARNING", "DWN_PROGRESS": "off",
    "DWN_COVERAGE_THRESHOLDS": "{}",
}
CARD = """<div class="boxtext">
<a class="brand" href="/"><img src="/images/dwn.svg" alt="DWN"></a>
<a class="section" href="/politik">Politik</a>
<a class="title" href="{path}">Politik Meldung {number}</a>
<div class="pubdate">{day}</div>
<p class="snippet">Kurzfassung der Meldung {number} ...</p>
</div>"""
TEASER_GRID = re.compile(
    r'(<div class="teaser-grid">).*?(</div>\n<div class="pagination">).*?(</div>\n</section>)', re.S)


def templates() -> list[tuple[str, str, bytes]]:
    """(path, id, page bytes) of every fixture article with a numeric id."""
    manifest = json.loads((SITE / "_manifest.json").read_text(encoding="utf-8"))["articles"]
    found = []
    for article in manifest:
        if article["identity"].startswith("id:"):
            path = article["url"].split(".de", 1)[1]
            found.append((path, article["identity"][3:], (SITE / f"{path.strip('/')}.html").read_bytes()))
    return found


def generate(root: Path, count: int) -> None:
    write_listings(root, write_articles(root, count))
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /intern/\n", encoding="utf-8")


def write_articles(root: Path, count: int) -> list[str]:
    """``count`` article pages made from the fixture templates (``/800000/Meldung-0`` ...); their paths."""
    pages = templates()
    paths = []
    for number in range(count):
        path, old_id, body = pages[number % len(pages)]
        new_id = str(800000 + number)
        new_path = f"/{new_id}/Meldung-{number}"
        target = root / f"{new_path.strip('/')}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body.replace(path.encode(), new_path.encode())
                           .replace(f'data-id="{old_id}"'.encode(), f'data-id="{new_id}"'.encode()))
        paths.append(new_path)
    return paths


def write_listings(root: Path, paths: list[str], days: dict[str, str] | None = None) -> None:
    """The Politik front and its pages, ``CARDS_PER_PAGE`` cards each, listing ``paths`` in order;
    each card dated ``days[path]`` (``DD.MM.YYYY``, default 20.01.2026)."""
    listing = (SITE / "politik.html").read_text(encoding="utf-8")
    count = len(paths)
    page_count = -(-count // CARDS_PER_PAGE)
    for page in range(1, page_count + 1):
        chunk = paths[(page - 1) * CARDS_PER_PAGE:page * CARDS_PER_PAGE]
        cards = "\n".join(CARD.format(path=path, number=path.rsplit("-", 1)[1],
                                      day=(days or {}).get(path, "20.01.2026")) for path in chunk)
        pager = (f'<a class="next" rel="next" href="/politik/page/{page + 1}/">Nächste Seite</a>'
                 if page < page_count else "")
        html = TEASER_GRID.sub(
            lambda m, cards=cards, pager=pager: f"{m.group(1)}\n{cards}\n{m.group(2)}{pager}{m.group(3)}", listing)
        name = "politik.html" if page == 1 else f"politik/page/{page}.html"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(html, encoding="utf-8")


def child(mode: str, site: str, db: str) -> None:
    """Run one crawl in this (fresh) process and print its numbers as JSON."""
    from scrapy.crawler import CrawlerProcess

    from dwnscraper.crawl import crawl_settings
    from dwnscraper.spiders.sections import SectionsSpider

    class NoopSpider(SectionsSpider):
        name = "noop"

        def fetched(self, response: Any) -> None:
            return None

        def parse_listing(self, response: Any, section: str, page: int) -> Any:
            return (output for output in super().parse_listing(response, section, page) if output is not None)

        def parse_page(self, response: Any, **cb_kwargs: Any) -> Any:
            return iter(())

    overrides = [f"{name}={value}" for name, value in SETTINGS.items()]
    settings = crawl_settings({"DWN_DB": db, "DWN_SITE": site, "DWN_FULL": True}, overrides)
    if mode == "noop":
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NoopSpider if mode == "noop" else "sections")
    process.crawl(crawler, sections="politik")
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"pages": stats.get("response_received_count", 0),
                      "seconds": stats["elapsed_time_seconds"],
                      "peak_mb": own_peak_mb(),
                      "articles": stats.get("dwn/articles_new", 0)}))


def own_peak_mb() -> float:
    """This process's own peak RSS (``VmHWM``, reset at exec).

    Scrapy's memusage reads ``ru_maxrss``, which after fork and exec also counts the parent: this
    benchmark, which holds the generated site in memory."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def measure(mode: str, site: str, db: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--site", site, "--db", str(db)],
                          capture_output=True, text=True, check=True, cwd=REPO)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["pages_per_s"] = result["pages"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--child", choices=["noop", "full"])
    parser.add_argument("--site")
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.site, args.db)
        return
    from dwnscraper.mirror import MirrorServer

    rows = []
    with tempfile.TemporaryDirectory(prefix="dwn-bench-") as temp:
        temp_dir = Path(temp)
        for count, modes in ((args.articles // 5, ("full",)), (args.articles, ("noop", "full"))):
            site_dir = temp_dir / f"site-{count}"
            site_dir.mkdir()
            generate(site_dir, count)
            with MirrorServer(site_dir) as mirror:
                for mode in modes:
                    result = measure(mode, mirror.url, temp_dir / f"{mode}-{count}.db")
                    rows.append((mode, count, result))
    noop = next(result for mode, count, result in rows if mode == "noop")
    print(f"{'run':<6} {'articles':>8} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'vs noop':>8} "
          f"{'peak MB':>8} {'stored':>7}")
    for mode, count, result in rows:
        print(f"{mode:<6} {count:>8} {result['pages']:>6} {result['seconds']:>8.1f} {result['pages_per_s']:>8.1f} "
              f"{result['pages_per_s'] / noop['pages_per_s']:>8.0%} {result['peak_mb']:>8.0f} {result['articles']:>7}")


if __name__ == "__main__":
    main()
