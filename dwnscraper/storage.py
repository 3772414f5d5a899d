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
    ``body_compression`` (``"zlib"``), ``body_size`` (uncompressed bytes), ``content_hash``
    (SHA-256 hex of the uncompressed body). ``Archive.raw_page_body(row)`` decompresses.

``articles`` -- one row per article identity (``id:503386`` or ``wp:/2016/09/24/slug/``), the
    latest content whatever URL variant was fetched. ``identity`` (pk) plus the contract fields of
    ``parse-output.md``: ``article_id``, ``url``, ``canonical_url``, ``layout``, ``section``,
    ``headline``, ``lead``, ``authors`` (JSON), ``published_raw``, ``published_at``,
    ``updated_raw``, ``updated_at``, ``reading_time_minutes``, ``image_url``, ``image_caption``,
    ``image_credit``, ``topics`` (JSON), ``body`` (JSON list of blocks), ``body_text`` (block texts
    joined by blank lines), ``paywalled`` (0/1), ``word_count``, ``warnings`` (JSON); and
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
    field: share 0..1}), ``stats`` (JSON: Scrapy's stats at the end).

``errors`` -- ``id`` (pk), ``crawl_run_id``, ``url``, ``stage`` (``download``, ``http``,
    ``parse``, ``validate``), ``message``, ``raw_page_id`` (null when nothing was fetched),
    ``occurred_at``.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from dwnscraper.parsing.urls import article_identity

DEFAULT_BATCH_SIZE = 200
BODY_COMPRESSION = "zlib"

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


def utc_now() -> datetime:
    return datetime.now(UTC)


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

    Writes are buffered and flushed in one transaction per batch (``batch_size`` pages), and on
    ``close()``. One process writes at a time; readers may use the file concurrently (WAL).
    """

    def __init__(self, path: str | Path, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.db: Database | None = None
        self.counts: Counter[str] = Counter()
        self._next_raw_id = 1
        self._pending_raw: list[dict[str, Any]] = []
        self._pending_articles: list[tuple[dict[str, Any], int, str, int | None]] = []
        self._pending_listings: list[dict[str, Any]] = []
        self._pending_teasers: list[dict[str, Any]] = []
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

    # -- buffered writes -------------------------------------------------------------------

    def add_raw_page(self, *, url: str, final_url: str, status: int, headers: Mapping[str, str],
                     body: bytes, fetched_at: datetime | str, flags: list[str] | None = None,
                     crawl_run_id: int | None = None) -> int:
        """Queue a fetched response for storage and return its ``raw_pages.id``."""
        raw_id = self._next_raw_id
        self._next_raw_id += 1
        self._pending_raw.append({
            "id": raw_id, "crawl_run_id": crawl_run_id, "url": url, "final_url": final_url,
            "status": status, "headers": _json(dict(headers)), "flags": _json(flags or []),
            "fetched_at": _iso(fetched_at), "body": zlib.compress(body),
            "body_compression": BODY_COMPRESSION, "body_size": len(body),
            "content_hash": hashlib.sha256(body).hexdigest(),
        })
        self.counts["pages"] += 1
        self._maybe_flush()
        return raw_id

    def add_article(self, record: Mapping[str, Any], raw_page_id: int, fetched_at: datetime | str,
                    crawl_run_id: int | None = None) -> None:
        self._pending_articles.append((dict(record), raw_page_id, _iso(fetched_at), crawl_run_id))
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
        for teaser in record["teasers"]:
            self._pending_teasers.append({
                "raw_page_id": raw_page_id, "position": teaser["position"], "page_url": record["url"],
                "page_kind": page_kind, "sponsored": teaser["sponsored"], "section": teaser["section"],
                "headline": teaser["headline"], "url": teaser["url"],
                "identity": article_identity(teaser["url"]), "published_raw": teaser["published_raw"],
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
                self.db["raw_pages"].insert_all(self._pending_raw)
            self._flush_articles()
            if self._pending_listings:
                self.db["listings"].insert_all(self._pending_listings, replace=True)
            if self._pending_teasers:
                self.db["teasers"].insert_all(self._pending_teasers, replace=True)
            if self._pending_errors:
                self.db["errors"].insert_all(self._pending_errors)
        for pending in (self._pending_raw, self._pending_articles, self._pending_listings,
                        self._pending_teasers, self._pending_errors):
            pending.clear()

    def _flush_articles(self) -> None:
        if not self._pending_articles:
            return
        latest = self._current_versions({article_identity_of(record) for record, *_ in self._pending_articles})
        rows: dict[str, dict[str, Any]] = {}
        revisions = []
        for record, raw_page_id, fetched_at, run_id in self._pending_articles:
            identity = article_identity_of(record)
            digest = content_hash(record)
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
                                  "crawl_run_id": run_id, "record": _json(record)})
            latest[identity] = {"content_hash": digest, "revision": revision, "first_seen_at": first_seen}
            rows[identity] = _article_row(record, identity, digest, revision, raw_page_id,
                                          first_seen, fetched_at, run_id)
        self.db["articles"].upsert_all(rows.values(), pk="identity")
        if revisions:
            self.db["article_revisions"].insert_all(revisions)

    def _current_versions(self, identities: set[str]) -> dict[str, dict[str, Any]]:
        marks = ", ".join("?" for _ in identities)
        return {row["identity"]: row for row in self.db.query(
            f"SELECT identity, content_hash, revision, first_seen_at FROM articles WHERE identity IN ({marks})",
            list(identities))}

    # -- reads -----------------------------------------------------------------------------

    def known_identities(self) -> set[str]:
        """Identities of every stored article (the incremental crawl skips these)."""
        return {row[0] for row in self.db.execute("SELECT identity FROM articles")}

    def coverage(self, run_id: int) -> dict[str, dict[str, float]]:
        """Per layout, the number of articles fetched in ``run_id`` and the share having each field."""
        shares = ", ".join(f"avg(CASE WHEN {condition} THEN 1.0 ELSE 0.0 END) AS [{field}]"
                           for field, condition in COVERAGE_FIELDS.items())
        rows = self.db.query(
            f"SELECT layout, count(*) AS articles, {shares} FROM articles "
            "WHERE crawl_run_id = ? GROUP BY layout ORDER BY layout", [run_id])
        return {row.pop("layout"): row for row in rows}

    def run(self, run_id: int) -> dict[str, Any]:
        return self.db["crawl_runs"].get(run_id)

    def raw_pages(self, where: str | None = None, where_args: list | None = None) -> Iterator[RawPage]:
        for row in self.db["raw_pages"].rows_where(where, where_args, order_by="id"):
            yield raw_page_from_row(row)


def article_identity_of(record: Mapping[str, Any]) -> str:
    """The identity of a parsed article: from its canonical URL, else the URL it was fetched from."""
    return article_identity(record["canonical_url"]) or article_identity(record["url"]) or record["canonical_url"]


def raw_page_body(row: Mapping[str, Any]) -> bytes:
    if row["body_compression"] != BODY_COMPRESSION:
        raise ValueError(f"raw page {row['id']} uses unknown compression {row['body_compression']!r}")
    return zlib.decompress(row["body"])


def raw_page_from_row(row: Mapping[str, Any]) -> RawPage:
    return RawPage(id=row["id"], url=row["url"], final_url=row["final_url"], status=row["status"],
                   headers=json.loads(row["headers"]), fetched_at=row["fetched_at"], body=raw_page_body(row))


def _article_row(record: Mapping[str, Any], identity: str, digest: str, revision: int,
                 raw_page_id: int, first_seen_at: str, fetched_at: str, run_id: int | None) -> dict[str, Any]:
    image = record.get("image") or {}
    return {
        "identity": identity,
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
        "updated_raw": record["updated_raw"],
        "updated_at": record["updated_at"],
        "reading_time_minutes": record["reading_time_minutes"],
        "image_url": image.get("url"),
        "image_caption": image.get("caption"),
        "image_credit": image.get("credit"),
        "topics": _json(record["topics"]),
        "body": _json(record["body"]),
        "body_text": body_text(record["body"]),
        "paywalled": record["paywalled"],
        "word_count": record["word_count"],
        "warnings": _json(record["warnings"]),
        "revision": revision,
        "content_hash": digest,
        "raw_page_id": raw_page_id,
        "first_seen_at": first_seen_at,
        "last_fetched_at": fetched_at,
        "crawl_run_id": run_id,
    }
