"""Serve a saved copy of the site (``fixtures/site/``) over HTTP on 127.0.0.1.

How a request maps to a file is documented in ``fixtures/site/README.md``; ``resolve()`` is that
mapping. ``MirrorServer`` runs a threaded ``http.server`` in a background thread and logs every
request it answers, so tests can prove that nothing else was asked.
"""

from __future__ import annotations

import gzip
import json
import logging
import mimetypes
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

logger = logging.getLogger(__name__)

ROUTES_FILE = "_routes.json"
NOT_FOUND_FILE = "404.html"
FILE_SUFFIXES = (".html", ".xml")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Reply:
    """What the mirror answers for one request."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate_at: int | None = None


@dataclass(frozen=True)
class Hit:
    """One request the mirror answered: the Host header, the request target, the status sent and the
    User-Agent header."""

    host: str
    target: str
    status: int
    agent: str = ""


def load_routes(root: Path) -> dict[str, dict]:
    routes_file = root / ROUTES_FILE
    return json.loads(routes_file.read_text(encoding="utf-8")) if routes_file.exists() else {}


def sorted_query(query: str) -> str:
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def _inside(root: Path, candidate: Path) -> bool:
    return candidate.is_file() and candidate.resolve().is_relative_to(root.resolve())


def _candidates(root: Path, path: str, query: str) -> list[Path]:
    stem = unquote(path).strip("/") or "index"
    candidates = []
    if query:
        candidates += [root / f"{stem}@{sorted_query(query)}{suffix}" for suffix in FILE_SUFFIXES]
    candidates.append(root / stem)
    candidates += [root / f"{stem}{suffix}" for suffix in FILE_SUFFIXES]
    candidates += [root / stem / f"index{suffix}" for suffix in FILE_SUFFIXES]
    return candidates


def _file_reply(path: Path, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None,
                truncate_at: int | None = None) -> Reply:
    content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/html; charset=utf-8"
    return Reply(status, path.read_bytes(), {"Content-Type": content_type, **(headers or {})}, truncate_at)


def resolve(root: Path, target: str, routes: dict[str, dict] | None = None) -> Reply:
    """The reply for a request target (path and query) under ``root``."""
    routes = load_routes(root) if routes is None else routes
    parts = urlsplit(target)
    route_keys = [f"{parts.path}?{sorted_query(parts.query)}"] if parts.query else []
    route = next((routes[key] for key in [*route_keys, parts.path] if key in routes), None)
    if route is not None:
        return _route_reply(root, route)
    for candidate in _candidates(root, parts.path, parts.query):
        if _inside(root, candidate):
            return _file_reply(candidate)
    return _not_found(root)


def _route_reply(root: Path, route: dict) -> Reply:
    status = route.get("status", HTTPStatus.OK)
    headers = dict(route.get("headers", {}))
    if "redirect" in route:
        return Reply(status if status != HTTPStatus.OK else HTTPStatus.MOVED_PERMANENTLY,
                     headers={"Location": route["redirect"], **headers})
    if "file" in route:
        return _file_reply(root / route["file"], status, headers, route.get("truncate"))
    return Reply(status, route.get("body", "").encode(), {"Content-Type": "text/html; charset=utf-8", **headers})


def _not_found(root: Path) -> Reply:
    page = root / NOT_FOUND_FILE
    if page.is_file():
        return _file_reply(page, HTTPStatus.NOT_FOUND)
    return Reply(HTTPStatus.NOT_FOUND, b"Not Found", {"Content-Type": "text/plain; charset=utf-8"})


class _Handler(BaseHTTPRequestHandler):
    server: _MirrorHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        reply = resolve(self.server.root, self.path, self.server.routes)
        self.server.hits.append(Hit(self.headers.get("Host", ""), self.path, reply.status,
                                    self.headers.get("User-Agent", "")))
        if self.server.compress and reply.body and "gzip" in self.headers.get("Accept-Encoding", ""):
            reply = self.server.gzipped(reply)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.truncate_at is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if send_body:
            self.wfile.write(reply.body[:reply.truncate_at])

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("mirror: " + format, *args)


class _MirrorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, compress: bool) -> None:
        super().__init__(address, _Handler)
        self.root = root
        self.routes = load_routes(root)
        self.hits: list[Hit] = []
        self.compress = compress
        self._gzipped: dict[bytes, bytes] = {}

    def gzipped(self, reply: Reply) -> Reply:
        """``reply`` with its body gzipped (each body compressed once), as a web server sends it."""
        if reply.body not in self._gzipped:
            self._gzipped[reply.body] = gzip.compress(reply.body, compresslevel=6, mtime=0)
        return Reply(reply.status, self._gzipped[reply.body],
                     {**reply.headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}, reply.truncate_at)


class MirrorServer:
    """A saved site served on ``host:port`` (port 0 picks a free one) in a background thread; with
    ``compress``, bodies are gzipped for clients that accept it, as real web servers do.

    >>> with MirrorServer("fixtures/site") as mirror:
    ...     mirror.url   # 'http://127.0.0.1:40123'
    """

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0, compress: bool = False) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"no site directory at {self.root}")
        self._server = _MirrorHTTPServer((host, port), self.root, compress)
        self._thread = threading.Thread(target=self._server.serve_forever, name="dwn-mirror", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def hits(self) -> list[Hit]:
        return self._server.hits

    def start(self) -> MirrorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
