"""Crawl speed and memory: the full pipeline next to a no-op spider, on generated mirrors.

    python benchmarks/crawl_benchmark.py --articles 5000 --site-articles 1000

Generates a mirror of N article pages (copies of the fixture site's current and legacy articles
under new ids) and section listings linking them (50 cards a page), serves it on 127.0.0.1 from
this process, then runs in fresh subprocesses, with the same settings:

- ``noop``: the ``sections`` spider's discovery, fetching every page, yielding no items;
- ``full``: ``dwnscraper crawl sections``: archive raw page + parse + validate + store.

Reports pages/s and peak RSS (the crawl process's own ``VmHWM``) of each, and the full crawl
of a fifth of the pages to show whether memory grows with the number of pages stored.

Then a second mirror shaped like the real site (``--site-articles`` pages of 60-120 KB: 20 cards a
listing, 10 teaser cards an article, menus and inline configuration around them) is served twice,
plain and gzipped as real servers send it, and both runs are made on each, alternating, ``--repeat``
times (the fastest of each counts). Pages/s there are per second of the whole crawl process (start to
exit, shutdown included), the goal being ``full`` at 75 % or more of ``noop`` on the same server.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
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


TEASER_LIST = re.compile(r'(<section class="teaser-list"><h2>Mehr zum Thema</h2>).*?(</section>)', re.S)
TOPIC_MENU = "".join(f'<li><a href="/thema/thema-{number}/">Thema {number}</a></li>' for number in range(150))
"""The real site's pages carry menus of many topic links; every spider's link extraction meets them."""


def realistic_size(number: int) -> int:
    """The size in bytes of the realistic site's page ``number``: spread over 60-120 KB."""
    return (60 + number * 37 % 61) * 1024


def padded(html: str, size: int) -> str:
    """``html`` grown to about ``size`` bytes as real pages are: a topic menu and inline configuration."""
    menu = f'<nav class="topic-menu"><ul>{TOPIC_MENU}</ul></nav>'
    missing = max(0, size - len(html.encode()) - len(menu))
    config = json.dumps({"ads": [{"slot": f"div-gpt-ad-{slot}", "sizes": [[300, 250], [728, 90]]}
                                 for slot in range(missing // 62)]})
    return html.replace("</body>", f"{menu}\n<script>window.dwnAds = {config};</script>\n</body>")


def generate(root: Path, count: int, cards_per_page: int = CARDS_PER_PAGE, teasers: int = 0) -> None:
    """A mirror of ``count`` articles under ``/politik``. With ``teasers``, every page is grown to
    60-120 KB and each article ends in that many teaser cards linking other articles, as on the site."""
    write_listings(root, write_articles(root, count, teasers), cards_per_page=cards_per_page, grown=bool(teasers))
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /intern/\n", encoding="utf-8")


def card(path: str, day: str = "20.01.2026") -> str:
    return CARD.format(path=path, number=path.rsplit("-", 1)[1], day=day)


def write_articles(root: Path, count: int, teasers: int = 0) -> list[str]:
    """``count`` article pages made from the fixture templates (``/800000/Meldung-0`` ...), each with
    ``teasers`` cards and grown to 60-120 KB when ``teasers``; their paths."""
    pages = templates()
    paths = [f"/{800000 + number}/Meldung-{number}" for number in range(count)]
    for number, new_path in enumerate(paths):
        path, old_id, body = pages[number % len(pages)]
        html = (body.replace(path.encode(), new_path.encode())
                .replace(f'data-id="{old_id}"'.encode(), f'data-id="{800000 + number}"'.encode())).decode("utf-8")
        if teasers:
            cards = "\n".join(card(paths[(number + step) % count]) for step in range(1, teasers + 1))
            html = padded(TEASER_LIST.sub(lambda m, cards=cards: f"{m.group(1)}\n{cards}\n{m.group(2)}", html, 1),
                          realistic_size(number))
        target = root / f"{new_path.strip('/')}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    return paths


def write_listings(root: Path, paths: list[str], days: dict[str, str] | None = None,
                   cards_per_page: int = CARDS_PER_PAGE, grown: bool = False) -> None:
    """The Politik front and its pages, ``cards_per_page`` cards each, listing ``paths`` in order;
    each card dated ``days[path]`` (``DD.MM.YYYY``, default 20.01.2026); ``grown``: 60-120 KB a page."""
    listing = (SITE / "politik.html").read_text(encoding="utf-8")
    page_count = -(-len(paths) // cards_per_page)
    for page in range(1, page_count + 1):
        chunk = paths[(page - 1) * cards_per_page:page * cards_per_page]
        cards = "\n".join(card(path, (days or {}).get(path, "20.01.2026")) for path in chunk)
        pager = (f'<a class="next" rel="next" href="/politik/page/{page + 1}/">Nächste Seite</a>'
                 if page < page_count else "")
        html = TEASER_GRID.sub(
            lambda m, cards=cards, pager=pager: f"{m.group(1)}\n{cards}\n{m.group(2)}{pager}{m.group(3)}", listing)
        if grown:
            html = padded(html, realistic_size(page))
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
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--site", site, "--db", str(db)],
                          capture_output=True, text=True, check=True, cwd=REPO)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    result["pages_per_s"] = result["pages"] / result["seconds"]
    result["pages_per_wall_s"] = result["pages"] / result["wall"]
    return result


def print_table(title: str, rows: list[tuple[str, int, dict[str, float]]], rate: str) -> None:
    """One table of runs, each compared with the no-op run of the same mirror and server."""
    print(title)
    print(f"{'run':<12} {'articles':>8} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'vs noop':>8} "
          f"{'peak MB':>8} {'stored':>7}")
    for name, count, result in rows:
        noop = next(other for other_name, _, other in rows if other_name == name.replace("full", "noop"))
        seconds = result["wall"] if rate == "pages_per_wall_s" else result["seconds"]
        print(f"{name:<12} {count:>8} {result['pages']:>6} {seconds:>8.1f} {result[rate]:>8.1f} "
              f"{result[rate] / noop[rate]:>8.0%} {result['peak_mb']:>8.0f} {result['articles']:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="articles of the small-page mirror (0: skip it)")
    parser.add_argument("--site-articles", type=int, default=1000,
                        help="articles of the mirror shaped like the real site (0: skip it)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each crawl on the real-site-shaped mirror, alternating; the fastest counts "
                             "(other processes on the machine only ever slow a run down)")
    parser.add_argument("--child", choices=["noop", "full"])
    parser.add_argument("--site")
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.site, args.db)
        return
    from dwnscraper.mirror import MirrorServer

    small, realistic = [], []
    with tempfile.TemporaryDirectory(prefix="dwn-bench-") as temp:
        temp_dir = Path(temp)
        if args.articles:
            for count, modes in ((args.articles // 5, ("full",)), (args.articles, ("noop", "full"))):
                site_dir = temp_dir / f"site-{count}"
                site_dir.mkdir()
                generate(site_dir, count)
                with MirrorServer(site_dir) as mirror:
                    for mode in modes:
                        small.append((mode, count, measure(mode, mirror.url, temp_dir / f"{mode}-{count}.db")))
        if args.site_articles:
            site_dir = temp_dir / "site-realistic"
            site_dir.mkdir()
            generate(site_dir, args.site_articles, cards_per_page=20, teasers=10)
            for server, compress in (("plain", False), ("gzip", True)):
                with MirrorServer(site_dir, compress=compress) as mirror:
                    runs: dict[str, list[dict[str, float]]] = {"noop": [], "full": []}
                    for attempt in range(args.repeat):
                        for mode in runs:
                            db = temp_dir / f"{mode}-{server}-{attempt}.db"
                            runs[mode].append(measure(mode, mirror.url, db))
                    realistic += [(f"{mode} {server}", args.site_articles, min(results, key=lambda r: r["wall"]))
                                  for mode, results in runs.items()]
    if small:
        print_table("Small pages (50 cards a listing), pages/s while crawling:", small, "pages_per_s")
    if realistic:
        print_table("Pages of 60-120 KB (20 cards a listing, 10 teasers an article), pages/s of the whole process:",
                    realistic, "pages_per_wall_s")


if __name__ == "__main__":
    main()
