"""The SQLite archive: schema, migrations, batched writes and the read-only queries built on them.

This is the only module that knows SQL. Everything is one SQLite file (WAL mode) opened through
sqlite-utils; the schema is created and upgraded by the ``Migrations`` set ``dwnscraper`` (applied
migrations are recorded in ``_sqlite_migrations``). Dates are ISO 8601 strings with an offset;
JSON columns hold JSON text (``json_extract`` works on them).

Tables (the read side that ``query``, ``search``, ``export``, ``reparse`` and ``stats`` build on):

``raw_pages`` -- every response ever fetched, stored before parsing so nothing is lost.
    ``id`` (pk), ``crawl_run_id``, ``url`` (as requested, live host), ``final_url`` (after
    redirects), ``status``, ``headers`` (JSON object, header name -> value), ``flags`` (JSON list,
    e.g. ``["dataloss"]`` for a truncated body), ``fetched_at``, ``body`` (compressed bytes),
    ``body_compression`` (``"zstd"``; ``"zlib"`` in older archives), ``body_size`` (uncompressed
    bytes), ``content_hash`` (SHA-256 hex of the uncompressed body). ``Archive.raw_page_body(row)`` decompresses.

``articles`` -- one row per article identity (``id:503386`` or ``wp:/2016/09/24/slug/``), the
    latest content whatever URL variant was fetched. ``identity`` (pk) plus the contract fields of
    ``parse-output.md``: ``article_id``, ``url``, ``canonical_url``, ``layout``, ``section``,
    ``headline``, ``lead``, ``authors`` (JSON), ``published_raw``, ``published_at``,
    ``published_on`` (the Berlin day of ``published_at``, ``YYYY-MM-DD``), ``updated_raw``,
    ``updated_at``, ``reading_time_minutes``, ``image_url``, ``image_caption``,
    ``image_credit``, ``topics`` (JSON), ``body`` (JSON list of blocks), ``body_text`` (block texts
    joined by blank lines), ``body_html`` (the blocks as sanitized HTML for display: ``p``, ``h2``,
    ``blockquote``, ``ul``/``li`` and text, no attribute, script or link), ``paywalled`` (0/1),
    ``word_count``, ``warnings`` (JSON); and
    bookkeeping: ``revision`` (latest revision number), ``content_hash``, ``raw_page_id``,
    ``first_seen_at``, ``last_fetched_at``, ``crawl_run_id`` (run that last fetched it).
    FTS5 index ``articles_fts`` over ``headline``, ``lead``, ``body_text``, kept in sync by
    triggers (``sqlite-utils search dwn.db articles "Inflation"`` works).

``article_revisions`` -- every distinct content version of an article, the first included.
    ``id`` (pk), ``identity``, ``revision`` (1, 2, ...), ``content_hash``, ``fetched_at``,
    ``raw_page_id``, ``crawl_run_id``, ``record`` (the full parse output as JSON).

``listings`` -- one row per fetched listing page (section, tag, search).
    ``raw_page_id`` (pk), ``url``, ``listing``, ``section``, ``page``, ``next_page``,
    ``teaser_count``, ``fetched_at``, ``crawl_run_id``, ``warnings`` (JSON).

``teasers`` -- which page showed which card where. ``raw_page_id`` + ``position`` (pk),
    ``page_url``, ``page_kind`` (``article`` or ``listing``), ``sponsored``, ``section``,
    ``headline``, ``url``, ``identity`` (the linked article's identity, null if not an article),
    ``published_raw``, ``published_on``, ``snippet``, ``seen_at``.

``crawl_runs`` -- ``id`` (pk), ``spider``, ``started_at``, ``finished_at``, ``finish_reason``,
    ``options`` (JSON), ``pages_fetched``, ``articles_new``, ``articles_updated``,
    ``articles_unchanged``, ``listings``, ``errors``, ``coverage`` (JSON: layout -> {"articles": n,
    field: share 0..1}), ``stats`` (JSON: Scrapy's stats at the end). ``finish_reason`` is
    Scrapy's (``finished``, ``shutdown`` after Ctrl-C, ``closespider_pagecount``, ...) or
    ``interrupted``: the process died (or a second Ctrl-C forced it to stop) and the next crawl, holding
    the writer lock, closed the row.

``errors`` -- ``id`` (pk), ``crawl_run_id``, ``url``, ``stage`` (``discover``: a URL given to
    fetch that is not an article's, ``download``, ``http``, ``parse``, ``validate``), ``message``,
    ``raw_page_id`` (null when nothing was fetched), ``occurred_at``.

View ``teaser_placements`` -- how long each article stood on which listing page at which position,
    from the teasers of every listing page fetched: one row per ``identity`` + ``page_url`` (the
    listing page as fetched, e.g. ``.../politik/page/2/``) + ``position``, with ``first_seen_at``
    and ``last_seen_at`` (the first and last fetch of that page showing the article there),
    ``hours_seen`` (the time between the two) and ``times_seen`` (fetches of the page showing it
    there). Teaser boxes on article pages are not placements.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import signal
import sqlite3
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import nh3
import zstandard
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from dwnscraper.revisit import RevisitPolicy

BERLIN = ZoneInfo("Europe/Berlin")
"""DWN's time zone: the site prints Berlin wall time, and its days are Berlin days."""
DEFAULT_BATCH_SIZE = 200
SQL_VARIABLES = 500
"""Bound parameters per statement, well under SQLite's limit."""
BODY_COMPRESSION = "zstd"
"""How new raw pages are compressed: zstd compresses HTML as small as zlib does, several times faster."""
_COMPRESS = zstandard.ZstdCompressor(level=3).compress
_DECOMPRESS = {"zstd": zstandard.ZstdDecompressor().decompress, "zlib": zlib.decompress}
"""Every compression an archive may hold; older archives stored zlib."""

CONTENT_FIELDS = (
    "section", "headline", "lead", "authors", "published_at", "updated_at",
    "reading_time_minutes", "image", "topics", "body", "paywalled",
)
"""The parsed fields whose change makes a new article revision (teasers and warnings do not)."""

COVERAGE_FIELDS = {
    "headline": "headline <> ''",
    "lead": "coalesce(lead, '') <> ''",
    "section": "coalesce(section, '') <> ''",
    "authors": "authors <> '[]'",
    "published_at": "published_at IS NOT NULL",
    "updated_at": "updated_at IS NOT NULL",
    "reading_time_minutes": "reading_time_minutes IS NOT NULL",
    "image": "image_url IS NOT NULL",
    "topics": "topics <> '[]'",
    "body": "body_text <> ''",
}
"""Field name -> SQL condition that an article row has it; the coverage report's columns."""


def coverage_columns(expression: str) -> str:
    """SQL select columns, one per coverage field, named after it: ``expression`` with ``{share}``
    standing for the share (0..1) of the grouped article rows that have the field."""
    return ", ".join(
        expression.format(share=f"avg(CASE WHEN {condition} THEN 1.0 ELSE 0.0 END)") + f" AS [{field}]"
        for field, condition in COVERAGE_FIELDS.items())


migrations = Migrations("dwnscraper")


@migrations()
def m001_initial(db: Database) -> None:
    db["crawl_runs"].create(
        {"id": int, "spider": str, "started_at": str, "finished_at": str, "finish_reason": str,
         "options": str, "pages_fetched": int, "articles_new": int, "articles_updated": int,
         "articles_unchanged": int, "listings": int, "errors": int, "coverage": str, "stats": str},
        pk="id",
    )
    db["raw_pages"].create(
        {"id": int, "crawl_run_id": int, "url": str, "final_url": str, "status": int,
         "headers": str, "flags": str, "fetched_at": str, "body": bytes, "body_compression": str,
         "body_size": int, "content_hash": str},
        pk="id", foreign_keys=[("crawl_run_id", "crawl_runs", "id")],
    )
    db["raw_pages"].create_index(["url"])
    db["raw_pages"].create_index(["content_hash"])
    db["articles"].create(
        {"identity": str, "article_id": int, "url": str, "canonical_url": str, "layout": str,
         "section": str, "headline": str, "lead": str, "authors": str, "published_raw": str,
         "published_at": str, "updated_raw": str, "updated_at": str,
         "reading_time_minutes": int, "image_url": str, "image_caption": str,
         "image_credit": str, "topics": str, "body": str, "body_text": str, "paywalled": int,
         "word_count": int, "warnings": str, "revision": int, "content_hash": str,
         "raw_page_id": int, "first_seen_at": str, "last_fetched_at": str, "crawl_run_id": int},
        pk="identity", not_null=["headline"],
        foreign_keys=[("raw_page_id", "raw_pages", "id"), ("crawl_run_id", "crawl_runs", "id")],
    )
    for columns in (["article_id"], ["published_at"], ["section"], ["layout"], ["crawl_run_id"]):
        db["articles"].create_index(columns)
    db["articles"].enable_fts(["headline", "lead", "body_text"], create_triggers=True)
    db["article_revisions"].create(
        {"id": int, "identity": str, "revision": int, "content_hash": str, "fetched_at": str,
         "raw_page_id": int, "crawl_run_id": int, "record": str},
        pk="id", foreign_keys=[("raw_page_id", "raw_pages", "id")],
    )
    db["article_revisions"].create_index(["identity", "revision"], unique=True)
    db["listings"].create(
        {"raw_page_id": int, "url": str, "listing": str, "section": str, "page": int,
         "next_page": str, "teaser_count": int, "fetched_at": str, "crawl_run_id": int,
         "warnings": str},
        pk="raw_page_id", foreign_keys=[("raw_page_id", "raw_pages", "id")],
    )
    db["listings"].create_index(["url"])
    db["teasers"].create(
        {"raw_page_id": int, "position": int, "page_url": str, "page_kind": str,
         "sponsored": int, "section": str, "headline": str, "url": str, "identity": str,
         "published_raw": str, "published_on": str, "snippet": str, "seen_at": str},
        pk=("raw_page_id", "position"), foreign_keys=[("raw_page_id", "raw_pages", "id")],
    )
    db["teasers"].create_index(["identity"])
    db["errors"].create(
        {"id": int, "crawl_run_id": int, "url": str, "stage": str, "message": str,
         "raw_page_id": int, "occurred_at": str},
        pk="id",
    )
    db["errors"].create_index(["crawl_run_id"])


@migrations()
def m002_articles_body_html(db: Database) -> None:
    """Articles get ``body_html``, filled from the stored body blocks."""
    db["articles"].add_column("body_html", str)
    rows = db.execute("SELECT identity, body FROM articles").fetchall()
    db.conn.executemany("UPDATE articles SET body_html = ? WHERE identity = ?",
                        [(body_html(json.loads(blocks)), identity) for identity, blocks in rows])


@migrations()
def m003_articles_published_on(db: Database) -> None:
    """Articles get ``published_on``, the Berlin day of ``published_at``, indexed: a day's articles
    are those of the site's own calendar day, not of the UTC day (01:03 Berlin is still yesterday in UTC)."""
    db["articles"].add_column("published_on", str)
    rows = db.execute("SELECT identity, published_at FROM articles").fetchall()
    db.conn.executemany("UPDATE articles SET published_on = ? WHERE identity = ?",
                        [(berlin_day(published_at), identity) for identity, published_at in rows])
    db["articles"].create_index(["published_on"])


TEASER_PLACEMENTS_SQL = """
SELECT identity, page_url, position, min(seen_at) AS first_seen_at, max(seen_at) AS last_seen_at,
  round((julianday(max(seen_at)) - julianday(min(seen_at))) * 24, 1) AS hours_seen, count(*) AS times_seen
FROM teasers WHERE page_kind = 'listing' AND identity IS NOT NULL
GROUP BY identity, page_url, position
""".strip()


@migrations()
def m004_teaser_placements(db: Database) -> None:
    """The view ``teaser_placements`` over the listing teasers (see the module docstring)."""
    db.create_view("teaser_placements", TEASER_PLACEMENTS_SQL)


def utc_now() -> datetime:
    return datetime.now(UTC)


def berlin_day(moment: str | None) -> str | None:
    """The Europe/Berlin calendar day (``YYYY-MM-DD``) of an ISO 8601 time (one without an offset is
    Berlin time, as the site prints it)."""
    if moment is None:
        return None
    parsed = datetime.fromisoformat(moment)
    return (parsed.astimezone(BERLIN) if parsed.tzinfo else parsed).date().isoformat()


def _iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else moment.isoformat()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def content_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 over the content fields of a parsed article: equal hashes, same revision."""
    content = {field: record.get(field) for field in CONTENT_FIELDS}
    return hashlib.sha256(_json(content).encode()).hexdigest()


def body_text(blocks: list[Mapping[str, str]]) -> str:
    return "\n\n".join(block["text"] for block in blocks)


BLOCK_TAGS = {"paragraph": "p", "heading": "h2", "quote": "blockquote", "list_item": "li"}
"""Body block kind -> the HTML element ``body_html`` gives it; list items are grouped in ``ul``."""

BODY_HTML_CLEANER = nh3.Cleaner(tags={*BLOCK_TAGS.values(), "ul"}, attributes={}, url_schemes=set(),
                                strip_comments=True, link_rel=None)
"""Ammonia with nothing but the block elements: no attribute (so no ``on*`` handler, ``style`` or
``href``), no ``script``/``style``/``iframe``/``svg``; text is kept, escaped."""


def _block_element(block: Mapping[str, str]) -> str:
    tag = BLOCK_TAGS.get(block["kind"], "p")
    return f"<{tag}>{html.escape(block['text'], quote=False)}</{tag}>"


def body_html(blocks: list[Mapping[str, str]]) -> str:
    """The body blocks as HTML for display: each block's text escaped in its element, then sanitized.

    Escaping keeps markup written in a text inert; the sanitizer checks the whole fragment again,
    so a slip in building it cannot let script or an event attribute through.
    """
    parts = []
    for is_list, group in groupby(blocks, key=lambda block: block["kind"] == "list_item"):
        elements = "".join(_block_element(block) for block in group)
        parts.append(f"<ul>{elements}</ul>" if is_list else elements)
    return BODY_HTML_CLEANER.clean("".join(parts))


@dataclass(frozen=True)
class RawPage:
    """A stored response, body decompressed: what ``reparse`` feeds back into ``parse_page``."""

    id: int
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    fetched_at: str
    body: bytes


class Archive:
    """The crawl archive in one SQLite file.

    Writes are buffered and flushed in one transaction per batch (``batch_size`` pages), whenever
    the owner calls ``flush()`` (the crawl does every ``DWN_COMMIT_INTERVAL`` seconds), and on
    ``close()``. One process writes at a time (``dwnscraper.lock``); readers may use the file
    concurrently (WAL).
    """

    def __init__(self, path: str | Path, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.db: Database | None = None
        self.counts: Counter[str] = Counter()
        self._next_raw_id = 1
        self._pending_raw: dict[int, dict[str, Any]] = {}
        """Raw page rows by id; a row's ``body`` stays the fetched bytes until ``packed()`` or the flush packs it."""
        self._pending_articles: list[tuple[PreparedArticle, int, str, int | None]] = []
        self._pending_listings: list[dict[str, Any]] = []
        self._pending_teasers: list[dict[str, Any]] = []
        self._teaser_pages: set[int] = set()
        """Raw pages whose teaser set is rewritten by the next flush (their old rows go first)."""
        self._pending_errors: list[dict[str, Any]] = []

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> Archive:
        self.db = Database(self.path)
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        migrations.apply(self.db)
        self._next_raw_id = self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM raw_pages").fetchone()[0]
        return self

    def close(self) -> None:
        if self.db is not None:
            self.flush()
            self.db.close()
            self.db = None

    def __enter__(self) -> Archive:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- crawl runs ------------------------------------------------------------------------

    def start_run(self, spider: str, options: Mapping[str, Any], started_at: datetime | None = None) -> int:
        table = self.db["crawl_runs"]
        table.insert({"spider": spider, "started_at": _iso(started_at or utc_now()), "options": _json(dict(options))})
        return table.last_pk

    def finish_run(self, run_id: int, finish_reason: str, stats: Mapping[str, Any]) -> dict[str, dict[str, float]]:
        """Flush, then record counts, per-layout field coverage and Scrapy's stats; return the coverage."""
        self.flush()
        coverage = self.coverage(run_id)
        self.db["crawl_runs"].update(run_id, {
            "finished_at": _iso(utc_now()),
            "finish_reason": finish_reason,
            "pages_fetched": self.counts["pages"],
            "articles_new": self.counts["articles_new"],
            "articles_updated": self.counts["articles_updated"],
            "articles_unchanged": self.counts["articles_unchanged"],
            "listings": self.counts["listings"],
            "errors": self.counts["errors"],
            "coverage": _json(coverage),
            "stats": _json({key: value if isinstance(value, int | float | str) else str(value)
                            for key, value in stats.items()}),
        })
        return coverage

    def set_finish_reason(self, run_id: int, reason: str) -> None:
        self.db["crawl_runs"].update(run_id, {"finish_reason": reason})

    def close_interrupted_runs(self) -> list[int]:
        """Close the runs that never finished (their process was killed or forced to stop):
        ``finish_reason`` ``interrupted``, ``finished_at`` their last fetch, counts from what they
        stored. Return their ids. Only the holder of the writer lock (``dwnscraper.lock``) may call
        this: the lock proves that no other crawl is running, so every open run is a dead one."""
        interrupted = [row[0] for row in self.db.execute(
            "SELECT id FROM crawl_runs WHERE finished_at IS NULL OR finish_reason = 'closing'")]
        with self.db.atomic():
            for run_id in interrupted:
                self.db.execute(_CLOSE_INTERRUPTED_RUN, {"run": run_id})
        return interrupted

    # -- buffered writes -------------------------------------------------------------------

    def add_raw_page(self, *, url: str, final_url: str, status: int, headers: Mapping[str, str],
                     body: bytes, fetched_at: datetime | str, flags: list[str] | None = None,
                     crawl_run_id: int | None = None) -> int:
        """Queue a fetched response for storage and return its ``raw_pages.id``.

        The body is compressed and hashed when the page's parse worker sends it packed (``packed()``),
        else by the flush that writes it.
        """
        raw_id = self._next_raw_id
        self._next_raw_id += 1
        self._pending_raw[raw_id] = {
            "id": raw_id, "crawl_run_id": crawl_run_id, "url": url, "final_url": final_url,
            "status": status, "headers": _json(dict(headers)), "flags": _json(flags or []),
            "fetched_at": _iso(fetched_at), "body": body,
        }
        self.counts["pages"] += 1
        self._maybe_flush()
        return raw_id

    def packed(self, raw_page_id: int, packed: PackedBody) -> None:
        """The body of a queued raw page, packed (``pack_body``) elsewhere; a page written already was packed
        by its flush."""
        row = self._pending_raw.get(raw_page_id)
        if row is not None:
            row.update(_packed_columns(packed))

    def add_article(self, record: Mapping[str, Any], raw_page_id: int, fetched_at: datetime | str,
                    crawl_run_id: int | None = None, prepared: PreparedArticle | None = None) -> None:
        """Queue a parsed article; ``prepared`` is ``prepare_article(record)`` when the caller made it."""
        self._pending_articles.append((prepared or prepare_article(record), raw_page_id, _iso(fetched_at),
                                       crawl_run_id))
        self._add_teasers(record, raw_page_id, "article", fetched_at)
        self._maybe_flush()

    def add_listing(self, record: Mapping[str, Any], raw_page_id: int, fetched_at: datetime | str,
                    crawl_run_id: int | None = None) -> None:
        self._pending_listings.append({
            "raw_page_id": raw_page_id, "url": record["url"], "listing": record["listing"],
            "section": record["section"], "page": record["page"], "next_page": record["next_page"],
            "teaser_count": len(record["teasers"]), "fetched_at": _iso(fetched_at),
            "crawl_run_id": crawl_run_id, "warnings": _json(record["warnings"]),
        })
        self.counts["listings"] += 1
        self._add_teasers(record, raw_page_id, "listing", fetched_at)
        self._maybe_flush()

    def add_error(self, *, url: str, stage: str, message: str, raw_page_id: int | None = None,
                  crawl_run_id: int | None = None) -> None:
        self._pending_errors.append({
            "crawl_run_id": crawl_run_id, "url": url, "stage": stage, "message": message,
            "raw_page_id": raw_page_id, "occurred_at": _iso(utc_now()),
        })
        self.counts["errors"] += 1
        self._maybe_flush()

    def _add_teasers(self, record: Mapping[str, Any], raw_page_id: int, page_kind: str,
                     seen_at: datetime | str) -> None:
        if raw_page_id in self._teaser_pages:
            self._pending_teasers[:] = [row for row in self._pending_teasers if row["raw_page_id"] != raw_page_id]
        self._teaser_pages.add(raw_page_id)
        for teaser in record["teasers"]:
            self._pending_teasers.append({
                "raw_page_id": raw_page_id, "position": teaser["position"], "page_url": record["url"],
                "page_kind": page_kind, "sponsored": teaser["sponsored"], "section": teaser["section"],
                "headline": teaser["headline"], "url": teaser["url"],
                "identity": url_identity(teaser["url"]), "published_raw": teaser["published_raw"],
                "published_on": teaser["published_on"], "snippet": teaser["snippet"],
                "seen_at": _iso(seen_at),
            })

    def _maybe_flush(self) -> None:
        if len(self._pending_raw) + len(self._pending_articles) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write everything queued in one transaction."""
        with self.db.atomic():
            if self._pending_raw:
                for row in self._pending_raw.values():
                    if "body_size" not in row:
                        row.update(_packed_columns(pack_body(row["body"])))
                self._insert("raw_pages", list(self._pending_raw.values()))
            self._flush_articles()
            if self._pending_listings:
                self._insert("listings", self._pending_listings, "OR REPLACE")
            if self._teaser_pages:
                pages = sorted(self._teaser_pages)
                for start in range(0, len(pages), SQL_VARIABLES):
                    chunk = pages[start:start + SQL_VARIABLES]
                    self.db.execute(f"DELETE FROM teasers WHERE raw_page_id IN ({', '.join('?' * len(chunk))})",
                                    chunk)
            if self._pending_teasers:
                self._insert("teasers", self._pending_teasers)
            if self._pending_errors:
                self._insert("errors", self._pending_errors)
        for pending in (self._pending_raw, self._pending_articles, self._pending_listings,
                        self._pending_teasers, self._pending_errors, self._teaser_pages):
            pending.clear()

    def _flush_articles(self) -> None:
        if not self._pending_articles:
            return
        latest = self._current_versions({prepared.identity for prepared, *_ in self._pending_articles})
        rows: dict[str, dict[str, Any]] = {}
        revisions = []
        for prepared, raw_page_id, fetched_at, run_id in self._pending_articles:
            identity, digest = prepared.identity, prepared.content_hash
            previous = latest.get(identity)
            if previous is None:
                outcome, revision, first_seen = "new", 1, fetched_at
            elif previous["content_hash"] == digest:
                outcome, revision, first_seen = "unchanged", previous["revision"], previous["first_seen_at"]
            else:
                outcome, revision, first_seen = "updated", previous["revision"] + 1, previous["first_seen_at"]
            self.counts[f"articles_{outcome}"] += 1
            if outcome != "unchanged":
                revisions.append({"identity": identity, "revision": revision, "content_hash": digest,
                                  "fetched_at": fetched_at, "raw_page_id": raw_page_id,
                                  "crawl_run_id": run_id, "record": prepared.record_json})
            latest[identity] = {"content_hash": digest, "revision": revision, "first_seen_at": first_seen}
            rows[identity] = _article_row(prepared, revision, raw_page_id, first_seen, fetched_at, run_id)
        self._insert("articles", list(rows.values()), upsert="identity")
        if revisions:
            self._insert("article_revisions", revisions)

    def _insert(self, table: str, rows: list[dict[str, Any]], verb: str = "", upsert: str | None = None) -> None:
        """Insert ``rows`` (dicts with the same keys, values SQLite takes as they are) with one prepared
        statement; ``upsert``: the key column whose conflict updates the row's other columns instead.

        A third of the time of sqlite-utils' ``insert_all``/``upsert_all``, which look at every value of every
        row; the crawl's reactor thread writes some 20 rows a page.
        """
        columns = list(rows[0])
        names = ", ".join(f"[{column}]" for column in columns)
        sql = f"INSERT {verb + ' ' if verb else ''}INTO [{table}] ({names}) VALUES ({', '.join('?' * len(columns))})"
        if upsert is not None:
            updates = ", ".join(f"[{column}] = excluded.[{column}]" for column in columns if column != upsert)
            sql += f" ON CONFLICT([{upsert}]) DO UPDATE SET {updates}"
        self.db.conn.executemany(sql, [tuple(row[column] for column in columns) for row in rows])

    def _current_versions(self, identities: set[str]) -> dict[str, dict[str, Any]]:
        marks = ", ".join("?" for _ in identities)
        return {row["identity"]: row for row in self.db.query(
            f"SELECT identity, content_hash, revision, first_seen_at FROM articles WHERE identity IN ({marks})",
            list(identities))}

    # -- reads -----------------------------------------------------------------------------

    def known_identities(self) -> set[str]:
        """Identities of every stored article (the incremental crawl skips these)."""
        return {row[0] for row in self.db.execute("SELECT identity FROM articles")}

    def identities_walked_past(self) -> dict[str, set[str]]:
        """Per listing page URL, the identities of the stored articles it showed when a finished run
        fetched it.

        A run that finished walked each listing until a page whose articles were all known, so every
        article on the pages before is stored. A run stopped or killed may have fetched a listing page
        and not the pages after it: its listings do not count, and the next run walks on past them.
        """
        walked: dict[str, set[str]] = {}
        for url, identity in self.db.execute(
                "SELECT DISTINCT listings.url, teasers.identity FROM teasers"
                " JOIN listings ON listings.raw_page_id = teasers.raw_page_id"
                " JOIN crawl_runs ON crawl_runs.id = listings.crawl_run_id"
                " JOIN articles ON articles.identity = teasers.identity"
                " WHERE crawl_runs.finish_reason = 'finished'"):
            walked.setdefault(url, set()).add(identity)
        return walked

    @property
    def pending(self) -> bool:
        """True when writes are queued that the next ``flush()`` commits."""
        return bool(self._pending_raw or self._pending_articles or self._pending_listings
                    or self._teaser_pages or self._pending_errors)

    def due_articles(self, policy: RevisitPolicy, now: datetime) -> list[dict[str, Any]]:
        """The stored articles the revisit policy makes due at ``now`` (see ``dwnscraper.revisit``):
        identity, URL, age basis (``published_at``, else ``first_seen_at``) and last fetch."""
        if not policy:
            return []
        tiers = " ".join(f"WHEN age < {age.total_seconds()!r} THEN {interval.total_seconds()!r}"
                         for age, interval in policy)
        return list(self.db.query(_DUE_ARTICLES.format(tiers=tiers), {"now": _iso(now)}))

    def coverage(self, run_id: int) -> dict[str, dict[str, float]]:
        """Per layout, the number of articles fetched in ``run_id`` and the share having each field."""
        shares = coverage_columns("{share}")
        rows = self.db.query(
            f"SELECT layout, count(*) AS articles, {shares} FROM articles "
            "WHERE crawl_run_id = ? GROUP BY layout ORDER BY layout", [run_id])
        return {row.pop("layout"): row for row in rows}

    def pages_answered(self, run_id: int) -> int:
        """Pages the run ``run_id`` stored that came back without an HTTP error."""
        return self.db.execute("SELECT count(*) FROM raw_pages WHERE crawl_run_id = ? AND status < 400",
                               [run_id]).fetchone()[0]

    def run(self, run_id: int) -> dict[str, Any]:
        return self.db["crawl_runs"].get(run_id)

    def raw_pages(self, where: str | None = None, where_args: list | None = None) -> Iterator[RawPage]:
        for row in self.db["raw_pages"].rows_where(where, where_args, order_by="id"):
            yield raw_page_from_row(row)


_DUE_ARTICLES = """
SELECT identity, url, age_basis, last_fetched_at FROM (
  SELECT identity, coalesce(canonical_url, url) AS url, coalesce(published_at, first_seen_at) AS age_basis,
    last_fetched_at, round((julianday(:now) - julianday(coalesce(published_at, first_seen_at))) * 86400.0) AS age,
    round((julianday(:now) - julianday(last_fetched_at)) * 86400.0) AS since_fetch
  FROM articles)
WHERE since_fetch >= CASE {tiers} END
ORDER BY age_basis DESC
"""
"""Due articles: the CASE gives the interval of the article's age tier (seconds), NULL past the last.
Ages are rounded to whole seconds: julianday's fractions would make 15 minutes 899.9999 seconds."""

_CLOSE_INTERRUPTED_RUN = """
UPDATE crawl_runs SET
  finish_reason = 'interrupted',
  finished_at = coalesce(finished_at, (SELECT max(fetched_at) FROM raw_pages WHERE crawl_run_id = :run), started_at),
  pages_fetched = (SELECT count(*) FROM raw_pages WHERE crawl_run_id = :run),
  articles_new = (SELECT count(*) FROM article_revisions WHERE crawl_run_id = :run AND revision = 1),
  articles_updated = (SELECT count(*) FROM article_revisions WHERE crawl_run_id = :run AND revision > 1),
  listings = (SELECT count(*) FROM listings WHERE crawl_run_id = :run),
  errors = (SELECT count(*) FROM errors WHERE crawl_run_id = :run)
WHERE id = :run
"""


def article_identity_of(record: Mapping[str, Any]) -> str:
    """The identity of a parsed article: from its canonical URL, else the URL it was fetched from."""
    return url_identity(record["canonical_url"]) or url_identity(record["url"]) or record["canonical_url"]


def url_identity(url: str) -> str | None:
    """The article identity of a URL (``parsing.urls.article_identity``), imported on first use: the parsing
    package costs a fifth of a second to import, which the read commands, never writing, do not pay."""
    from dwnscraper.parsing.urls import article_identity

    return article_identity(url)


def raw_page_body(row: Mapping[str, Any]) -> bytes:
    decompress = _DECOMPRESS.get(row["body_compression"])
    if decompress is None:
        raise ValueError(f"raw page {row['id']} uses unknown compression {row['body_compression']!r}")
    return decompress(row["body"])


def raw_page_from_row(row: Mapping[str, Any]) -> RawPage:
    return RawPage(id=row["id"], url=row["url"], final_url=row["final_url"], status=row["status"],
                   headers=json.loads(row["headers"]), fetched_at=row["fetched_at"], body=raw_page_body(row))


@dataclass(frozen=True)
class PreparedArticle:
    """What storing a parsed article costs in CPU, done ahead (``prepare_article``): the crawl does it in
    the parse worker, beside the parse, so that its reactor thread only queues and inserts rows."""

    identity: str
    content_hash: str
    columns: dict[str, Any]
    """The ``articles`` columns that come from the record alone (see ``_article_row``)."""
    record_json: str
    """The record as ``article_revisions.record`` stores it."""


@dataclass(frozen=True)
class PackedBody:
    """A raw page's body as ``raw_pages`` stores it (``pack_body``): the crawl packs it in the parse worker."""

    body: bytes
    compression: str
    size: int
    content_hash: str


def _packed_columns(packed: PackedBody) -> dict[str, Any]:
    return {"body": packed.body, "body_compression": packed.compression, "body_size": packed.size,
            "content_hash": packed.content_hash}


def pack_body(body: bytes) -> PackedBody:
    """Compress and hash a fetched body: pure, so it can run in any process."""
    return PackedBody(body=_COMPRESS(body), compression=BODY_COMPRESSION, size=len(body),
                      content_hash=hashlib.sha256(body).hexdigest())


def prepare_article(record: Mapping[str, Any]) -> PreparedArticle:
    """The record's identity, content hash, row columns and JSON: pure, so it can run in any process."""
    return PreparedArticle(identity=article_identity_of(record), content_hash=content_hash(record),
                           columns=_article_columns(record), record_json=_json(record))


def _article_columns(record: Mapping[str, Any]) -> dict[str, Any]:
    image = record.get("image") or {}
    return {
        "article_id": record["article_id"],
        "url": record["url"],
        "canonical_url": record["canonical_url"],
        "layout": record["layout"],
        "section": record["section"],
        "headline": record["headline"],
        "lead": record["lead"],
        "authors": _json(record["authors"]),
        "published_raw": record["published_raw"],
        "published_at": record["published_at"],
        "published_on": berlin_day(record["published_at"]),
        "updated_raw": record["updated_raw"],
        "updated_at": record["updated_at"],
        "reading_time_minutes": record["reading_time_minutes"],
        "image_url": image.get("url"),
        "image_caption": image.get("caption"),
        "image_credit": image.get("credit"),
        "topics": _json(record["topics"]),
        "body": _json(record["body"]),
        "body_text": body_text(record["body"]),
        "body_html": body_html(record["body"]),
        "paywalled": record["paywalled"],
        "word_count": record["word_count"],
        "warnings": _json(record["warnings"]),
    }


def _article_row(prepared: PreparedArticle, revision: int, raw_page_id: int, first_seen_at: str,
                 fetched_at: str, run_id: int | None) -> dict[str, Any]:
    return {
        "identity": prepared.identity,
        **prepared.columns,
        "revision": revision,
        "content_hash": prepared.content_hash,
        "raw_page_id": raw_page_id,
        "first_seen_at": first_seen_at,
        "last_fetched_at": fetched_at,
        "crawl_run_id": run_id,
    }


# == Read side ======================================================================================
# Read-only connections and the queries behind ``query``, ``search``, ``export``, ``stats``, ``show``,
# ``raw`` and ``reparse``. Nothing below writes: reparse writes through ``Archive`` above.

JSON_COLUMNS = ("authors", "topics", "body", "warnings")
"""Article columns holding JSON text; ``export`` decodes them in JSON Lines."""
ARCHIVE_JSON_COLUMNS = frozenset({*JSON_COLUMNS, "headers", "flags", "options", "coverage", "stats", "record"})
"""Every column of the archive that holds JSON text: ``query`` decodes a value of a column so named
in JSON output when it parses as JSON."""

FTS_COLUMNS = ("headline", "lead", "body_text")
SEARCH_WEIGHTS = (10.0, 4.0, 1.0)
"""bm25 weights of the FTS columns headline, lead, body_text: a hit in the headline ranks first."""

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_READ_PRAGMAS_WITH_ARGUMENT = {
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "integrity_check", "quick_check", "foreign_key_check",
}
_WRITING_PRAGMAS = {"optimize", "wal_checkpoint", "incremental_vacuum", "shrink_memory"}
_REFUSED_ACTIONS = {
    sqlite3.SQLITE_DELETE: "DELETE", sqlite3.SQLITE_INSERT: "INSERT", sqlite3.SQLITE_UPDATE: "UPDATE",
    sqlite3.SQLITE_ATTACH: "ATTACH", sqlite3.SQLITE_DETACH: "DETACH", sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE",
    sqlite3.SQLITE_TRANSACTION: "a transaction", sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
    sqlite3.SQLITE_REINDEX: "REINDEX", sqlite3.SQLITE_ANALYZE: "ANALYZE",
}
_WRITE_KEYWORDS = {"VACUUM", "REINDEX", "ANALYZE", "REPLACE", "CREATE", "DROP"}
PROGRESS_STEPS = 10_000
"""SQLite virtual machine steps between two checks of a running query's deadline and Ctrl-C (well
under a millisecond)."""


class NotAnArchive(Exception):
    """The file is not a SQLite database, or not one that ``dwnscraper crawl`` wrote (or, for a crawl,
    one it cannot write)."""


SQLITE_HEADER = b"SQLite format 3\x00"
"""The first bytes of every SQLite database file."""


class QueryRefused(Exception):
    """A statement ``query`` will not run because it would change something."""


class QueryStopped(Exception):
    """A running query was ended: Ctrl-C, or it ran past its time limit."""


def _connect_read_only(path: Path) -> tuple[sqlite3.Connection, set[str]]:
    """A connection to ``path`` that cannot write (``mode=ro`` plus ``PRAGMA query_only``) and its tables."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA query_only = ON")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        conn.close()
        raise NotAnArchive(f"{path} is not a SQLite database ({error}).") from error
    return conn, tables


def open_read_only(path: str | Path) -> Database:
    """The archive through a connection that cannot write: ``mode=ro`` plus ``PRAGMA query_only``."""
    path = Path(path)
    if not path.is_file():
        raise NotAnArchive(f"{path} does not exist.")
    conn, tables = _connect_read_only(path)
    if "articles" not in tables:
        conn.close()
        raise NotAnArchive(f"{path} is not a dwnscraper archive: it has no articles table.")
    return Database(conn)


def check_crawl_target(path: str | Path) -> None:
    """Refuse, before a crawl starts, a database file it cannot write or must not change.

    A missing or empty file is fine (the crawl makes it an archive). A SQLite file with tables but no
    ``articles`` table is someone else's database: the crawl's migrations would add the archive's
    tables to it. The folder must take new files, as SQLite's WAL mode writes ``-wal``/``-shm`` beside it.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise NotAnArchive(f"The folder {folder} for the database {path} does not exist; create it first.")
    if path.is_dir():
        raise NotAnArchive(f"{path} is a folder, not a database file.")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise NotAnArchive(f"The database {path} cannot be written: its folder {folder} does not take "
                           f"new files ({error.strerror}).") from error
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise NotAnArchive(f"{path} is not a SQLite database, so it cannot be a dwnscraper archive.")
    conn, tables = _connect_read_only(path)
    conn.close()
    if tables and "articles" not in tables:
        raise NotAnArchive(f"{path} is a SQLite database but not a dwnscraper archive (it has no articles "
                           "table); give a new file, so that its tables are left alone.")


def _keyword(sql: str) -> str:
    return sql.split(None, 1)[0].upper() if sql.strip() else ""


def _refusal(sql: str, action: int, name: str | None) -> str:
    keyword = _keyword(sql)
    if keyword in _WRITE_KEYWORDS:
        what = keyword
    elif action == sqlite3.SQLITE_PRAGMA:
        what = f"PRAGMA {name}" if name in _WRITING_PRAGMAS else f"PRAGMA {name} with a value"
    else:
        what = _REFUSED_ACTIONS.get(action, "a statement that writes")
    return f"query only reads the archive, so {what} is refused; nothing was changed."


def _guard(sql: str, refused: list[str]):
    """The authorizer of ``query``: reading is allowed, everything else refused and named.

    SQLite reports the schema declaration of a virtual table it connects to (an FTS5 index,
    ``json_each``, ``pragma_table_info``) as an UPDATE of ``sqlite_master`` while it prepares a
    statement that reads from it; that is allowed unless the statement itself is an UPDATE (the
    read-only connection would refuse a real write anyway).
    """
    def authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
        if action in _ALLOWED_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and _keyword(sql) != "UPDATE":
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and (
            (arg2 is None and arg1 not in _WRITING_PRAGMAS) or arg1 in _READ_PRAGMAS_WITH_ARGUMENT
        ):
            return sqlite3.SQLITE_OK
        refused.append(_refusal(sql, action, arg1))
        return sqlite3.SQLITE_DENY

    return authorize


def _misuse(error: sqlite3.ProgrammingError) -> str:
    """A sentence for what the sqlite3 module refuses before SQLite runs anything."""
    message = str(error)
    if "one statement at a time" in message:
        return "query runs one SQL statement at a time; split it into several commands."
    missing = re.search(r"binding parameter (:\w+)", message)
    if missing:
        return f"The SQL needs a value for {missing[1]}: give it with -p {missing[1][1:]} VALUE."
    if "has no name" in message:
        return "The SQL has a ? placeholder, which -p cannot fill: name it (:name) and give -p name VALUE."
    return f"The SQL could not run ({message.rstrip('.')})."


def read_only_query(db: Database, sql: str,
                    params: Mapping[str, Any] | None = None) -> tuple[list[str], Iterator[tuple]]:
    """Run one SELECT-like statement; return its column names and a cursor over the rows.

    An authorizer refuses every action but reading (DELETE, DROP, ATTACH, PRAGMA assignments, ...)
    before the statement runs; the read-only connection is the second line of defence.
    """
    refused: list[str] = []
    db.conn.set_authorizer(_guard(sql, refused))
    try:
        cursor = db.conn.execute(sql, dict(params or {}))
    except sqlite3.ProgrammingError as error:
        raise QueryRefused(_misuse(error)) from error
    except sqlite3.DatabaseError as error:
        if refused:
            raise QueryRefused(refused[0]) from error
        if "readonly" in str(error):
            raise QueryRefused(_refusal(sql, sqlite3.SQLITE_OK, None)) from error
        raise
    return [column[0] for column in cursor.description or ()], cursor


@contextmanager
def stoppable(db: Database, timeout: float | None) -> Iterator[None]:
    """Let Ctrl-C (SIGINT) and a time limit of ``timeout`` seconds end the SQLite work done inside.

    SQLite runs a statement in C, where Python's own Ctrl-C handling waits for it to return: a
    progress handler, called every ``PROGRESS_STEPS`` steps, lets the SIGINT handler run and aborts
    the statement once it fired or the deadline passed. Raises ``QueryStopped`` with a sentence.
    """
    deadline = time.monotonic() + timeout if timeout else None
    stopped: list[str] = []

    def on_sigint(_signal: int, _frame: object) -> None:
        stopped.append("it was interrupted (Ctrl-C)")

    def check() -> int:
        if not stopped and deadline is not None and time.monotonic() > deadline:
            stopped.append(f"it ran longer than --timeout {timeout:g} seconds")
        return 1 if stopped else 0

    previous = signal.signal(signal.SIGINT, on_sigint)
    db.conn.set_progress_handler(check, PROGRESS_STEPS)
    try:
        yield
    except sqlite3.OperationalError as error:
        if stopped and "interrupt" in str(error):
            raise QueryStopped(f"The query stopped because {stopped[0]}; nothing was changed.") from error
        raise
    finally:
        db.conn.set_progress_handler(None, 0)
        signal.signal(signal.SIGINT, previous)


def decode_json_values(columns: list[str], rows: Iterator[tuple]) -> Iterator[list[Any]]:
    """Rows of any query with the values of the archive's JSON columns (by name) decoded, when they parse."""
    positions = [number for number, column in enumerate(columns) if column in ARCHIVE_JSON_COLUMNS]
    for row in rows:
        values = list(row)
        for number in positions:
            value = values[number]
            if isinstance(value, str) and value[:1] in ("[", "{"):
                with suppress(json.JSONDecodeError):
                    values[number] = json.loads(value)
        yield values


# -- search ------------------------------------------------------------------------------------

_FTS_TOKENS = re.compile(r'"(?:[^"]|"")*"\*?|[()]|[^\s()"]+|"[^"]*$|\s+')
"""A search text in FTS5 tokens: a phrase (closed, maybe a prefix), a parenthesis, a run of other
characters, an unclosed phrase to the end (left for FTS5 to report), blanks."""
_FTS_OPERATORS = {"AND", "OR", "NOT"}
_BAREWORD = re.compile(r"[\w\u0080-\U0010ffff]+")
"""What FTS5 reads as one word without quotes: letters, digits, ``_`` and any non-ASCII character."""
_COLUMN_FILTER = re.compile(r"([A-Za-z_]\w*):(.*)")


def quoted(word: str) -> str:
    """``word`` as an FTS5 string: a phrase of its parts, whatever characters it holds."""
    return '"' + word.replace('"', '""') + '"'


def _fts_word(word: str) -> str:
    """One blank-separated word of a search text as FTS5 reads it (see ``fts_expression``)."""
    if word in _FTS_OPERATORS:
        return word
    column = _COLUMN_FILTER.fullmatch(word)
    if column:
        return f"{column[1]}:" + (_fts_word(column[2]) if column[2] else "")
    if word.startswith("^") and len(word) > 1:
        return "^" + _fts_word(word[1:])
    stem, star = (word[:-1], "*") if word.endswith("*") and len(word) > 1 else (word, "")
    return stem + star if _BAREWORD.fullmatch(stem) else quoted(stem) + star


def fts_expression(text: str) -> str:
    """The FTS5 query for a search text: a plain word is searched as that word, whatever it holds.

    German text is full of words FTS5 would read as syntax (``Ukraine-Konflikt``, ``90.000``,
    ``Merkel.``, ``C++``): such a word is quoted, which makes it the phrase of its parts. FTS5 syntax
    is kept: ``OR``, ``AND``, ``NOT``, ``"phrases"``, ``prefix*``, ``^first``, ``column:``,
    parentheses. A malformed expression (an unclosed quote, a dangling ``OR``) stays malformed, for
    SQLite to report.
    """
    parts = []
    for token in _FTS_TOKENS.findall(text):
        parts.append(token if token.isspace() or token[0] in '"()' else _fts_word(token))
    return "".join(parts)


def fts_problem(expression: str) -> str | None:
    """What SQLite says is wrong with an FTS5 query over the archive's columns, or None if it is sound."""
    with closing(sqlite3.connect(":memory:")) as probe:
        probe.execute(f"CREATE VIRTUAL TABLE probe USING fts5({', '.join(FTS_COLUMNS)})")
        try:
            probe.execute("SELECT * FROM probe WHERE probe MATCH ?", [expression]).fetchall()
        except sqlite3.OperationalError as error:
            return str(error)
    return None


def _date_filters(column: str, since: str | None, until: str | None) -> tuple[list[str], list[str]]:
    """SQL conditions on a ``YYYY-MM-DD`` day column for the days ``since`` .. ``until`` (inclusive)."""
    where, args = [], []
    if since:
        where.append(f"{column} >= ?")
        args.append(since)
    if until:
        where.append(f"{column} <= ?")
        args.append(until)
    return where, args


def _article_filters(sections: tuple[str, ...], since: str | None, until: str | None,
                     table: str = "articles") -> tuple[str, list[str]]:
    """`` AND ...`` conditions (Berlin days, sections) on the articles table and their arguments."""
    where, args = _date_filters(f"{table}.published_on", since, until)
    if sections:
        where.append(f"{table}.section IN ({', '.join('?' for _ in sections)})")
        args.extend(sections)
    return "".join(f" AND {condition}" for condition in where), args


SEARCH_COLUMNS = ("published_at", "section", "headline", "snippet", "url")
SEARCH_JOIN = " FROM articles_fts JOIN articles ON articles.rowid = articles_fts.rowid"
SEARCH_ORDER = (f"bm25(articles_fts, {', '.join(str(weight) for weight in SEARCH_WEIGHTS)}),"
                " articles.published_at DESC")
"""Best match first; between equal matches the newest."""


def search_articles(db: Database, text: str, *, sections: tuple[str, ...] = (), since: str | None = None,
                    until: str | None = None, limit: int = 20, highlight: tuple[str, str] = ("**", "**")
                    ) -> tuple[int, sqlite3.Cursor]:
    """Full-text search over headline, lead and body, best bm25 rank first (``fts_expression`` reads ``text``).

    Returns the number of matching articles and a cursor over the first ``limit``, as tuples in
    ``SEARCH_COLUMNS`` order; the snippet marks hits with ``highlight``.
    """
    conditions, args = _article_filters(sections, since, until)
    match = [fts_expression(text), *args]
    where = " WHERE articles_fts MATCH ?" + conditions
    total = db.execute("SELECT count(*)" + SEARCH_JOIN + where, match).fetchone()[0]
    sql = (
        "SELECT articles.published_at, articles.section, articles.headline,"
        " snippet(articles_fts, -1, ?, ?, '…', 12) AS snippet, articles.canonical_url AS url"
        + SEARCH_JOIN + where + f" ORDER BY {SEARCH_ORDER} LIMIT ?"
    )
    return total, db.execute(sql, [*highlight, *match, limit])


def decode_json_columns(columns: list[str], rows: Iterator[tuple]) -> Iterator[list[Any]]:
    """Article rows with their JSON columns as values and ``paywalled`` as a boolean."""
    positions = [number for number, column in enumerate(columns) if column in JSON_COLUMNS]
    paywalled = columns.index("paywalled")
    for row in rows:
        values = list(row)
        for number in positions:
            values[number] = json.loads(values[number]) if values[number] is not None else None
        values[paywalled] = bool(values[paywalled])
        yield values


def export_articles(db: Database, *, sections: tuple[str, ...] = (), since: str | None = None,
                    until: str | None = None) -> tuple[list[str], sqlite3.Cursor]:
    """Column names and a cursor over every matching article row (body text included), oldest first."""
    conditions, args = _article_filters(sections, since, until)
    cursor = db.execute(f"SELECT * FROM articles WHERE 1{conditions} ORDER BY published_at, identity", args)
    return [column[0] for column in cursor.description], cursor


# -- stats -------------------------------------------------------------------------------------

PERIODS = {"month": 7, "year": 4}
"""Period of the stats -> length of its ``YYYY-MM-DD`` prefix."""


def articles_per_section_and_period(db: Database, by: str = "month") -> list[dict[str, Any]]:
    return list(db.query(
        f"SELECT coalesce(section, '') AS section, coalesce(substr(published_on, 1, {PERIODS[by]}), '') AS {by},"
        " count(*) AS articles FROM articles GROUP BY 1, 2 ORDER BY 1, 2"))


def articles_per_period(db: Database, by: str = "month") -> list[dict[str, Any]]:
    """Articles per Berlin month or year, every period from the first to the last included (a gap
    shows as 0); articles without a date count under ``''``."""
    counts = {row[0]: row[1] for row in db.execute(
        f"SELECT coalesce(substr(published_on, 1, {PERIODS[by]}), ''), count(*) FROM articles GROUP BY 1")}
    dated = sorted(period for period in counts if period)
    periods = _every_period(dated[0], dated[-1], by) if dated else []
    return [{by: period, "articles": counts.get(period, 0)} for period in periods + ([""] if "" in counts else [])]


def _every_period(first: str, last: str, by: str) -> list[str]:
    if by == "year":
        return [str(year) for year in range(int(first), int(last) + 1)]
    (year, month), (last_year, last_month) = (map(int, first.split("-")), map(int, last.split("-")))
    periods = []
    while (year, month) <= (last_year, last_month):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def articles_per_section(db: Database) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT coalesce(section, '') AS section, count(*) AS articles, min(published_on) AS first_day,"
        " max(published_on) AS last_day, sum(paywalled) AS paywalled FROM articles GROUP BY 1 ORDER BY 2 DESC, 1"))


def coverage_per_layout(db: Database) -> list[dict[str, Any]]:
    """One row per field (the first: the article count), one column per layout: the percentage
    of that layout's articles having the field."""
    shares = coverage_columns("round(100.0 * {share}, 1)")
    per_layout = list(db.query(
        f"SELECT layout, count(*) AS articles, {shares} FROM articles GROUP BY layout ORDER BY layout"))
    return [{"field": field, **{row["layout"]: row[field] for row in per_layout}}
            for field in ("articles", *COVERAGE_FIELDS)]


def crawl_run_rows(db: Database, after: int = 0) -> list[dict[str, Any]]:
    """The crawl runs with an id above ``after`` (all by default), oldest first."""
    return list(db.query(
        "SELECT id, spider, started_at, finished_at, finish_reason, pages_fetched, articles_new,"
        " articles_updated, errors FROM crawl_runs WHERE id > ? ORDER BY id", [after]))


def last_crawl_run_id(db: Database) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM crawl_runs").fetchone()[0]


def error_counts(db: Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT stage, count(*) AS errors FROM errors GROUP BY stage ORDER BY stage"))


def archive_stats(db: Database, by: str = "month") -> dict[str, list[dict[str, Any]]]:
    """The tables ``dwnscraper stats`` prints, by title; the first is its chart."""
    return {
        f"articles_per_{by}": articles_per_period(db, by),
        "articles_per_section": articles_per_section(db),
        f"articles_per_section_and_{by}": articles_per_section_and_period(db, by),
        "field_coverage_percent_per_layout": coverage_per_layout(db),
        "crawl_runs": crawl_run_rows(db),
        "errors_per_stage": error_counts(db),
    }


# -- one article: show, raw --------------------------------------------------------------------


class NotFound(LookupError):
    """No stored article or page answers the reference given; the message is a sentence."""


def find_article(db: Database, reference: str) -> dict[str, Any]:
    """The article row a user means by ``reference``: its id (``503386``), identity (``id:503386``,
    ``wp:/2014/09/26/slug/``) or any URL variant of it (``http``, ``www.``, a slug or none)."""
    reference = reference.strip()
    if reference.isdigit():
        row = next(db.query("SELECT * FROM articles WHERE article_id = ? ORDER BY identity", [int(reference)]), None)
    elif "://" not in reference:
        row = stored_article(db, reference)
    else:
        row = stored_article(db, url_identity(reference) or "") or next(db.query(
            "SELECT * FROM articles WHERE ? IN (url, canonical_url)", [reference]), None)
    if row is None:
        raise NotFound(f"The archive holds no article {reference!r}; give its id, identity or URL.")
    return row


def article_revisions(db: Database, identity: str) -> list[dict[str, Any]]:
    """Every stored revision of an article, the first included, oldest first: number, fetch time, crawl
    run, page and URL fetched, content hash and the record (the parse output) decoded."""
    return [{**row, "record": json.loads(row["record"])} for row in db.query(
        "SELECT article_revisions.id, article_revisions.revision, article_revisions.fetched_at,"
        " article_revisions.crawl_run_id, article_revisions.raw_page_id, raw_pages.url,"
        " article_revisions.content_hash, article_revisions.record"
        " FROM article_revisions LEFT JOIN raw_pages ON raw_pages.id = article_revisions.raw_page_id"
        " WHERE identity = ? ORDER BY revision", [identity])]


def teasers_with_links(db: Database, raw_page_id: int) -> list[dict[str, Any]]:
    """The teasers a page showed, each with the identity of the linked article when the archive holds it."""
    return [{**row, "sponsored": bool(row["sponsored"])} for row in db.query(
        "SELECT teasers.position, teasers.sponsored, teasers.section, teasers.headline, teasers.url,"
        " articles.identity FROM teasers LEFT JOIN articles ON articles.identity = teasers.identity"
        " WHERE teasers.raw_page_id = ? ORDER BY teasers.position", [raw_page_id])]


def raw_page_id_of(db: Database, reference: str, revision: int | None = None) -> int:
    """The stored page ``raw`` writes: an article's newest fetch (or the fetch of its ``revision``),
    else the newest fetch of a URL that is no stored article (a listing, a page that did not parse)."""
    try:
        article = find_article(db, reference)
    except NotFound:
        if revision is not None or "://" not in reference:
            raise
        row = db.execute("SELECT max(id) FROM raw_pages WHERE ? IN (url, final_url)", [reference]).fetchone()
        if row[0] is None:
            raise NotFound(f"The archive holds no page fetched from {reference}.") from None
        return row[0]
    if revision is None:
        return article["raw_page_id"]
    row = db.execute("SELECT raw_page_id FROM article_revisions WHERE identity = ? AND revision = ?",
                     [article["identity"], revision]).fetchone()
    if row is None:
        raise NotFound(f"Article {article['identity']} has revisions 1 to {article['revision']}, not {revision}.")
    return row[0]


def reparse_page_ids(db: Database) -> list[int]:
    """The pages the archive's records come from, plus the newest fetch of every URL (which may
    not have parsed before), in fetch order."""
    return [row[0] for row in db.execute(
        "SELECT raw_page_id FROM articles UNION SELECT raw_page_id FROM listings"
        " UNION SELECT max(id) FROM raw_pages GROUP BY url ORDER BY 1")]


def raw_page(db: Database, page_id: int) -> RawPage:
    """One stored page by id (a plain query: ``Table.get`` reads the table's schema on every call)."""
    row = next(db.query("SELECT * FROM raw_pages WHERE id = ?", [page_id]), None)
    if row is None:
        raise LookupError(f"the archive holds no raw page {page_id}")
    return raw_page_from_row(row)


def stored_article(db: Database, identity: str) -> dict[str, Any] | None:
    return next(db.query("SELECT * FROM articles WHERE identity = ?", [identity]), None)


def stored_listing(db: Database, raw_page_id: int) -> dict[str, Any] | None:
    return next(db.query("SELECT * FROM listings WHERE raw_page_id = ?", [raw_page_id]), None)


def stored_teasers(db: Database, raw_page_id: int) -> list[dict[str, Any]]:
    return [
        {**row, "sponsored": bool(row["sponsored"])}
        for row in db.query(
            "SELECT position, sponsored, section, headline, url, published_raw, published_on, snippet"
            " FROM teasers WHERE raw_page_id = ? ORDER BY position", [raw_page_id])
    ]


def article_record(row: Mapping[str, Any], teasers: list[dict[str, Any]]) -> dict[str, Any]:
    """The parse output an article row was stored from (the inverse of ``_article_row``)."""
    image = None
    if row["image_url"] is not None:
        image = {"url": row["image_url"], "caption": row["image_caption"], "credit": row["image_credit"]}
    record = {field: row[field] for field in (
        "url", "canonical_url", "article_id", "layout", "section", "headline", "lead", "published_raw",
        "published_at", "updated_raw", "updated_at", "reading_time_minutes", "word_count")}
    record.update({field: json.loads(row[field]) for field in JSON_COLUMNS})
    record.update(kind="article", image=image, paywalled=bool(row["paywalled"]), teasers=teasers)
    return record


def listing_record(row: Mapping[str, Any], teasers: list[dict[str, Any]]) -> dict[str, Any]:
    """The parse output a listing row was stored from."""
    return {"kind": "listing", "listing": row["listing"], "url": row["url"], "section": row["section"],
            "page": row["page"], "next_page": row["next_page"], "warnings": json.loads(row["warnings"]),
            "teasers": teasers}


# -- following articles: the listing signal, revisions, changes, placements --------------------------

def changed_teasers(db: Database, teasers: list[Mapping[str, Any]]) -> set[str]:
    """Identities of stored articles that a listing's ``teasers`` show with another headline than the
    stored one, or a newer date (``published_on`` after the day of the stored update or publication).

    A teaser seen before on a listing page with the same headline and date is no signal: a site
    that always titles a card differently from its article would otherwise have it fetched on
    every crawl.
    """
    shown = [(identity, teaser["headline"], teaser["published_on"])
             for teaser in teasers if teaser["url"] and (identity := url_identity(teaser["url"]))]
    changed = set()
    for start in range(0, len(shown), SQL_VARIABLES // 3):
        chunk = shown[start:start + SQL_VARIABLES // 3]
        values = ", ".join("(?, ?, ?)" for _ in chunk)
        changed |= {row[0] for row in db.execute(_CHANGED_TEASERS.format(values=values),
                                                 [value for row in chunk for value in row])}
    return changed


_CHANGED_TEASERS = """
WITH shown(identity, headline, shown_on) AS (VALUES {values})
SELECT DISTINCT shown.identity FROM shown JOIN articles ON articles.identity = shown.identity
WHERE (shown.headline <> articles.headline
       OR shown.shown_on > substr(coalesce(articles.updated_at, articles.published_at), 1, 10))
  AND NOT EXISTS (SELECT 1 FROM teasers WHERE teasers.identity = shown.identity AND teasers.page_kind = 'listing'
                  AND teasers.headline IS shown.headline AND teasers.published_on IS shown.shown_on)
"""


def article_placements(db: Database, identity: str) -> list[dict[str, Any]]:
    """The article's rows of ``teaser_placements``, from the view's own SELECT: an archive that no crawl
    has migrated since the view was added (read commands do not migrate) gives them too."""
    return list(db.query(
        "SELECT page_url, position, first_seen_at, last_seen_at, hours_seen, times_seen"
        f" FROM ({TEASER_PLACEMENTS_SQL}) WHERE identity = ? ORDER BY first_seen_at, page_url, position", [identity]))


def _field_changed(field: str) -> str:
    return (f"CASE WHEN json_extract(new.record, '$.{field}') IS NOT json_extract(old.record, '$.{field}')"
            f" THEN ', {field}' ELSE '' END")


CHANGES_SQL = f"""
SELECT new.identity, new.revision, new.fetched_at, json_extract(new.record, '$.headline') AS headline,
  substr({' || '.join(_field_changed(field) for field in CONTENT_FIELDS)}, 3) AS changed_fields,
  coalesce(json_extract(new.record, '$.canonical_url'), json_extract(new.record, '$.url')) AS url
FROM article_revisions AS new
JOIN article_revisions AS old ON old.identity = new.identity AND old.revision = new.revision - 1
WHERE julianday(new.fetched_at) >= julianday(:since)
  AND (coalesce(:until, '') = '' OR julianday(new.fetched_at) < julianday(:until))
ORDER BY new.fetched_at, new.identity
""".strip()
"""The articles that got a new revision in a period: ``:since`` (inclusive) to ``:until`` (exclusive,
empty: no end), ISO 8601 times; the fields that changed from the revision before, comma-separated.
``dwnscraper changes`` and the Datasette canned query ``changes`` run this same statement."""


def revision_changes(db: Database, since: str, until: str | None) -> tuple[list[str], sqlite3.Cursor]:
    cursor = db.execute(CHANGES_SQL, {"since": since, "until": until})
    return [column[0] for column in cursor.description], cursor
