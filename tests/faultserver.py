"""A fault-injecting HTTP server for the tests: the fixture site on 127.0.0.1, with faults per path.

A path without a fault is answered as ``dwnscraper.mirror.resolve`` answers it (the mapping of
``fixtures/site/README.md``). A path with a fault gets the fault on its first ``times`` requests
(``None``: on every request) and the site's own answer after that. Extra links can be written into
a page, so a crawl finds fault paths that the saved site does not link.

``Trap`` listens where the crawler must never go (another port on 127.0.0.1, 127.0.0.2) and only
logs. Every listener logs each request with the address it arrived at: the tests' proof, on the
server side, of which host:port was asked what. Test-only code; every address here is loopback.
"""

from __future__ import annotations

import gzip
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from dwnscraper.mirror import Reply, load_routes, resolve

HANG_LIMIT_SECONDS = 60.0
"""A hanging answer gives up after this long, or at once when the server stops."""

META_CHARSET = re.compile(rb'<meta charset="[^"]*">', re.IGNORECASE)
STREAM_CHUNK = 64 * 1024
BOMB_MEMBER = 64 * 1024 * 1024


@dataclass(frozen=True)
class Hit:
    """One request: the listener it reached (``host:port``), its Host header, target and what answered."""

    listener: str
    host: str
    target: str
    answer: str
    at: float

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


Answer = Callable[["_Handler", Reply], None]
"""Writes a whole answer for one request; gets the handler and the site's own reply for the path."""


@dataclass(frozen=True)
class Fault:
    """``answer`` for the first ``times`` requests of a path (``None``: for all of them)."""

    name: str
    answer: Answer
    times: int | None = None


# -- the faults ------------------------------------------------------------------------------------

def status(code: int, retry_after: int | None = None, times: int | None = None) -> Fault:
    """An error status (with ``Retry-After`` seconds if given) and a short HTML body."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}

    def answer(handler: _Handler, _site: Reply) -> None:
        handler.reply(Reply(code, f"<h1>{code}</h1>".encode(), {"Content-Type": "text/html", **headers}))

    return Fault(f"status {code}", answer, times)


def hang(times: int | None = None) -> Fault:
    """Read the request, then never answer (the client's timeout has to end it)."""

    def answer(handler: _Handler, _site: Reply) -> None:
        handler.server.stopping.wait(HANG_LIMIT_SECONDS)
        handler.close_connection = True

    return Fault("timeout", answer, times)


def slow(seconds: float, times: int | None = None) -> Fault:
    """The site's answer after ``seconds`` (or at once when the server stops): a slow server."""

    def answer(handler: _Handler, site: Reply) -> None:
        handler.server.stopping.wait(seconds)
        handler.reply(site)

    return Fault("slow", answer, times)


def reset(after: int = 2000, page: str | None = None, times: int | None = None) -> Fault:
    """Send the headers and ``after`` bytes of the page (or of the site's ``page``), then reset the
    connection (RST)."""

    def answer(handler: _Handler, site: Reply) -> None:
        site = handler.server.site_reply(page) if page else site
        handler.send_head(site, len(site.body))
        handler.wfile.write(site.body[:after])
        handler.wfile.flush()
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
        handler.close_connection = True

    return Fault("reset", answer, times)


def truncate(after: int = 3000, page: str | None = None, times: int | None = None) -> Fault:
    """The page (or the site's ``page``) with a correct status and ``Content-Length``, but the
    connection closes cleanly after ``after`` bytes."""

    def answer(handler: _Handler, site: Reply) -> None:
        site = handler.server.site_reply(page) if page else site
        handler.reply(Reply(site.status, site.body, site.headers, truncate_at=after))

    return Fault("truncated", answer, times)


def charset(header: str, body: str, times: int | None = None) -> Fault:
    """The page re-encoded to ``body`` with a matching ``<meta charset>``, sent as ``charset=header``."""

    def answer(handler: _Handler, site: Reply) -> None:
        text = site.body.decode("utf-8").encode(body, errors="xmlcharrefreplace")
        text = META_CHARSET.sub(f'<meta charset="{body}">'.encode(), text, count=1)
        handler.reply(Reply(site.status, text, {**site.headers, "Content-Type": f"text/html; charset={header}"}))

    return Fault(f"charset {header} over {body}", answer, times)


def redirect(location: str, times: int | None = None) -> Fault:
    def answer(handler: _Handler, _site: Reply) -> None:
        handler.reply(Reply(302, b"", {"Location": location}))

    return Fault(f"redirect to {location}", answer, times)


def oversize(size: int, announced: bool = True, times: int | None = None) -> Fault:
    """A body of ``size`` bytes, with ``Content-Length`` (``announced``) or streamed until the client quits."""

    def answer(handler: _Handler, _site: Reply) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        if announced:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        chunk = b" " * STREAM_CHUNK
        try:
            for _ in range(size // STREAM_CHUNK):
                handler.wfile.write(chunk)
        except OSError:
            pass

    return Fault(f"oversize {size} B{'' if announced else ' unannounced'}", answer, times)


@cache
def gzip_of_zeros(size: int) -> bytes:
    """``size`` zero bytes (a multiple of 64 MiB), gzip-compressed to about a thousandth of that: one
    compressed 64 MiB member, repeated (a gzip stream may hold several members, RFC 1952)."""
    member = gzip.compress(bytes(BOMB_MEMBER), compresslevel=9)
    return member * (size // BOMB_MEMBER)


def gzip_bomb(size: int, times: int | None = None) -> Fault:
    """``Content-Encoding: gzip`` of ``size`` zero bytes."""

    def answer(handler: _Handler, _site: Reply) -> None:
        handler.reply(Reply(200, gzip_of_zeros(size),
                            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}))

    return Fault(f"gzip bomb {size} B", answer, times)


# -- the servers -----------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        fault = self.server.fault_for(path)
        listener = "{}:{}".format(*self.connection.getsockname()[:2])
        self.server.log(Hit(listener, self.headers.get("Host", ""), self.path,
                            fault.name if fault else "site", time.monotonic()))
        site = self.server.site_reply(self.path)
        if fault is not None:
            fault.answer(self, site)
        else:
            self.reply(site)

    def send_head(self, reply: Reply, length: int) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        if reply.truncate_at is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def reply(self, reply: Reply) -> None:
        self.send_head(reply, len(reply.body))
        self.wfile.write(reply.body[:reply.truncate_at])

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path | None, faults: Mapping[str, Fault],
                 links: Mapping[str, list[str]]) -> None:
        super().__init__(address, _Handler)
        self.root = root
        self.routes = load_routes(root) if root else {}
        self.faults = dict(faults)
        self.links = dict(links)
        self.hits: list[Hit] = []
        self.requests: Counter[str] = Counter()
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def log(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def add_fault(self, path: str, fault: Fault) -> None:
        with self.lock:
            self.faults[path] = fault
            self.requests[path] = 0

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            self.requests[path] += 1
            seen = self.requests[path]
        fault = self.faults.get(path)
        if fault is None or (fault.times is not None and seen > fault.times):
            return None
        return fault

    def site_reply(self, target: str) -> Reply:
        if self.root is None:
            return Reply(404, b"trap", {"Content-Type": "text/plain"})
        reply = resolve(self.root, target, self.routes)
        extra = self.links.get(urlsplit(target).path)
        if not extra:
            return reply
        anchors = "".join(f'<a href="{url}">{url}</a>' for url in extra).encode()
        return Reply(reply.status, reply.body.replace(b"</body>", anchors + b"</body>", 1), reply.headers)

    def handle_error(self, request: object, client_address: object) -> None:
        """Faults break connections on purpose; a client hanging up is no server error."""


class _Listener:
    def __init__(self, host: str, root: Path | None, faults: Mapping[str, Fault] | None = None,
                 links: Mapping[str, list[str]] | None = None) -> None:
        self._server = _Server((host, 0), root, faults or {}, links or {})
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return "{}:{}".format(*self._server.server_address[:2])

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def hits(self) -> list[Hit]:
        return list(self._server.hits)

    def add_fault(self, path: str, fault: Fault) -> None:
        """Switch ``fault`` on for ``path`` from now on, its request count starting from zero."""
        self._server.add_fault(path, fault)

    def __enter__(self) -> _Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class FaultServer(_Listener):
    """``root`` (the fixture site) on 127.0.0.1, port chosen by the system, with ``faults`` by path
    and ``links`` (page path -> URLs written into that page)."""

    def __init__(self, root: Path, faults: Mapping[str, Fault],
                 links: Mapping[str, list[str]] | None = None) -> None:
        super().__init__("127.0.0.1", root, faults, links)


class Trap(_Listener):
    """A listener on a loopback address the crawler must never reach; it logs what reaches it."""

    def __init__(self, host: str) -> None:
        super().__init__(host, None)
