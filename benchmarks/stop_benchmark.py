"""How fast one Ctrl-C stops a polite crawl: requests sent after it, and seconds until the process ends.

    python benchmarks/stop_benchmark.py --delay 0.3 --after 8 --trials 3

Serves the fixture site on 127.0.0.1, each answer ``--delay`` seconds late (a slow server), and
crawls it with the project's polite settings (``DOWNLOAD_DELAY`` 1 s, AutoThrottle). After
``--after`` requests it sends SIGINT, then reports the requests the server still received and the
seconds from the signal to the last of them and to the end of the process, with the ``QuickStop``
extension and, for comparison, without it (Scrapy's own graceful stop).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dwnscraper.mirror import load_routes, resolve

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"
WITHOUT_QUICK_STOP = ["-s", 'EXTENSIONS={"dwnscraper.extensions.QuickStop": null}']


class SlowSite(ThreadingHTTPServer):
    """The fixture site, every answer ``delay`` seconds late; ``arrivals`` holds when each request came."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), SlowHandler)
        self.delay = delay
        self.routes = load_routes(SITE)
        self.arrivals: list[float] = []


class SlowHandler(BaseHTTPRequestHandler):
    server: SlowSite
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.arrivals.append(time.monotonic())
        reply = resolve(SITE, self.path, self.server.routes)
        time.sleep(self.server.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def trial(site: SlowSite, after: int, extra: list[str]) -> tuple[int, float, float]:
    """(requests after SIGINT, seconds to the last of them, seconds to the end of the process)."""
    site.arrivals.clear()
    with tempfile.TemporaryDirectory() as tmp:
        url = "http://{}:{}".format(*site.server_address[:2])
        argv = [sys.executable, "-m", "dwnscraper", "crawl", "--site", url, "--db", f"{tmp}/dwn.db",
                "-s", "DWN_PROGRESS=off", "-s", "LOG_LEVEL=WARNING", *extra]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while len(site.arrivals) < after:
            time.sleep(0.01)
        signalled = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait()
        ended = time.monotonic()
    late = [moment for moment in site.arrivals if moment > signalled]
    return len(late), (max(late) - signalled) if late else 0.0, ended - signalled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.3, help="seconds each answer is late")
    parser.add_argument("--after", type=int, default=8, help="requests before the SIGINT")
    parser.add_argument("--trials", type=int, default=3)
    options = parser.parse_args()
    site = SlowSite(options.delay)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    print(f"server answers {options.delay} s late; SIGINT after {options.after} requests; "
          f"median of {options.trials} trials")
    print(f"{'stop':<22} {'requests after':>14} {'last request s':>14} {'process end s':>13}")
    for name, extra in (("QuickStop", []), ("Scrapy's graceful stop", WITHOUT_QUICK_STOP)):
        results = [trial(site, options.after, extra) for _ in range(options.trials)]
        late, last, end = (statistics.median(column) for column in zip(*results, strict=True))
        print(f"{name:<22} {late:>14.0f} {last:>14.1f} {end:>13.1f}")
    site.shutdown()


if __name__ == "__main__":
    main()
