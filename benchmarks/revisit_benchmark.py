"""What the revisit policy costs: article requests per crawl on a 1,000-article site, watched every 15 minutes.

    python benchmarks/revisit_benchmark.py --articles 1000 --per-day 40 --hours 24

Generates the synthetic site of ``crawl_benchmark.py`` (article pages made from the fixture
templates, the Politik front paginating them) and gives each article a publication time: ``--per-day``
articles a day, at random times (seeded) between 06:00 and 22:00 Berlin time, the newest at the
end of the watched period. Serves it on 127.0.0.1 from this process, crawls once at the start of the
period (filling the archive), then crawls every ``--every`` minutes with the crawl clock
(``DWN_NOW``) at that moment, the listings showing only what is published by then, newest first:
what ``dwnscraper watch`` would see. Each crawl is a real ``dwnscraper crawl sections`` process.

Prints, per crawl, the article requests split into new articles and revisits (stored articles
fetched again: the policy's cost) with the mirror's request log as the count, then the mean, median
and maximum of the revisits per crawl and their total, next to the new articles, under the policy
given (default: the project's ``DWN_REVISIT``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from crawl_benchmark import SETTINGS, templates, write_articles, write_listings

from dwnscraper.mirror import MirrorServer
from dwnscraper.parsing import parse_page
from dwnscraper.revisit import DEFAULT_POLICY

BERLIN = ZoneInfo("Europe/Berlin")
END = datetime(2026, 1, 20, 22, 0, tzinfo=BERLIN)
"""The end of the watched period (CET all along: no daylight-saving change in the site's dates)."""


def publication_times(count: int, per_day: int, end: datetime, seed: int = 11) -> list[datetime]:
    """``count`` publication times, newest first: ``per_day`` a day between 06:00 and 22:00, back from ``end``."""
    rng = random.Random(seed)
    times: list[datetime] = []
    day = end.replace(hour=0, minute=0)
    while len(times) < count:
        times += [day + timedelta(hours=6, minutes=rng.randrange(16 * 60)) for _ in range(per_day)]
        day -= timedelta(days=1)
    return sorted((moment for moment in times if moment <= end), reverse=True)[:count]


def date_forms(moment: datetime) -> dict[str, str]:
    return {"raw": moment.strftime("%d.%m.%Y %H:%M"), "iso": moment.isoformat(),
            "short": moment.strftime("%Y-%m-%dT%H:%M")}


def redate(root: Path, paths: list[str], times: list[datetime]) -> None:
    """Give each generated page its publication time (the update time the same), in every form its
    template prints it: the visible line, the ISO metadata and the ``datetime`` attribute."""
    shown = []
    for path, _, body in templates():
        record = parse_page(body, f"https://deutsche-wirtschafts-nachrichten.de{path}", END)
        shown.append([(record[f"{field}_raw"], record[f"{field}_at"])
                      for field in ("published", "updated") if record[f"{field}_raw"]])
    for number, (path, moment) in enumerate(zip(paths, times, strict=True)):
        page = root / f"{path.strip('/')}.html"
        text, new = page.read_text(encoding="utf-8"), date_forms(moment)
        for raw, iso in shown[number % len(shown)]:
            text = text.replace(raw, new["raw"]).replace(iso, new["iso"]).replace(iso[:16], new["short"])
        page.write_text(text, encoding="utf-8")


def crawl(site: str, db: Path, now: datetime, policy: str) -> None:
    settings = {**SETTINGS, "DWN_NOW": now.isoformat(), "DWN_REVISIT": policy}
    command = [sys.executable, "-m", "dwnscraper", "crawl", "sections", "--section", "politik", "--site", site,
               "--db", str(db), *(item for name, value in settings.items() for item in ("-s", f"{name}={value}"))]
    subprocess.run(command, capture_output=True, text=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=40, help="Articles published a day.")
    parser.add_argument("--hours", type=int, default=24, help="The watched period.")
    parser.add_argument("--every", type=int, default=15, help="Minutes between crawls.")
    parser.add_argument("--policy", default=DEFAULT_POLICY, help="DWN_REVISIT.")
    args = parser.parse_args()
    times = publication_times(args.articles, args.per_day, END)
    with tempfile.TemporaryDirectory(prefix="dwn-revisit-") as temp:
        root, db = Path(temp) / "site", Path(temp) / "dwn.db"
        root.mkdir()
        paths = write_articles(root, args.articles)
        redate(root, paths, times)
        (root / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
        days = {path: moment.strftime("%d.%m.%Y") for path, moment in zip(paths, times, strict=True)}
        stored: set[str] = set()
        revisits, new = [], []
        with MirrorServer(root) as mirror:
            start = END - timedelta(hours=args.hours)
            steps = args.hours * 60 // args.every
            print(f"{'crawl at':<26} {'new':>5} {'revisits':>9}")
            for step in range(steps + 1):
                now = start + timedelta(minutes=step * args.every)
                write_listings(root, [path for path, moment in zip(paths, times, strict=True) if moment <= now], days)
                earlier = len(mirror.hits)
                crawl(mirror.url, db, now, args.policy)
                fetched = {urlsplit(hit.target).path for hit in mirror.hits[earlier:]} & set(paths)
                if step:
                    new.append(len(fetched - stored))
                    revisits.append(len(fetched & stored))
                    print(f"{now.isoformat():<26} {new[-1]:>5} {revisits[-1]:>9}")
                else:
                    print(f"{now.isoformat():<26} {len(fetched):>5} {'(first)':>9}")
                stored |= fetched
    print(f"\nPolicy {args.policy!r}, {args.articles} articles ({args.per_day} a day), {len(revisits)} crawls "
          f"every {args.every} min over {args.hours} h:")
    print(f"revisits per crawl: mean {statistics.mean(revisits):.1f}, median {statistics.median(revisits):.0f}, "
          f"max {max(revisits)}; total {sum(revisits)} (new articles: {sum(new)}, "
          f"{sum(revisits) / max(sum(new), 1):.1f} revisits per new article)")


if __name__ == "__main__":
    main()
