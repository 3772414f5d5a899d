"""The Datasette plugin shipped with dwnscraper (registered as an entry point, so installing the
project next to Datasette enables it).

- The article page: an article's row page (``/dwn/articles/id~3A718426``) is the article as a
  person reads it (``templates/row-dwn-articles.html``): kicker, headline, authors, dates, reading
  time, lead, image caption, the body from ``body_html`` sanitized once more here, topics, its
  revisions and the teasers its page showed, with links.
- The search box: a plain word is searched as that word (``Ukraine-Konflikt``, ``90.000``), FTS5
  syntax keeps working, and no text gives an HTTP 400. The box of the articles table goes to the
  canned query ``search`` (best match first, ``dwn_fts(:q)``); a table search with other
  arguments (facets, filters, ``.json``) stays a table search, with the text made safe the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from markupsafe import Markup, escape
from sqlite_utils import Database

from dwnscraper import storage
from dwnscraper.output import site_time

ARTICLES = "articles"
SEARCH_QUERY = "search"
_TABLE_SEARCH = re.compile(rf"^/(?P<database>[^/]+)/{ARTICLES}(?P<format>\.\w+)?$")
_HIT = re.compile(r"\*\*(.+?)\*\*")
SEARCH_LIMIT = 100


def safe_fts_expression(text: str | None) -> str:
    """``storage.fts_expression``, or every word quoted when that is malformed (an unclosed quote, a
    dangling OR): a search box matches what it can instead of failing."""
    expression = storage.fts_expression(text or "")
    if expression.strip() and storage.fts_problem(expression) is None:
        return expression
    return " ".join(storage.quoted(word) for word in re.findall(r'[^\s"]+', text or "")) or '""'


@hookimpl
def prepare_connection(conn) -> None:
    conn.create_function("dwn_fts", 1, safe_fts_expression, deterministic=True)


@hookimpl
def canned_queries(datasette, database: str) -> Any:
    async def search_query() -> dict[str, Any]:
        if not await _is_archive(datasette, database):
            return {}
        return {SEARCH_QUERY: {
            "title": "Search articles, best match first",
            "description": "Words (a word with - or . is searched as it is), \"a phrase\", OR, NOT, prefix*, "
                           "headline:word. A hit in the headline ranks first.",
            "sql": ("SELECT articles.identity, articles.published_on, articles.section, articles.headline,"
                    " snippet(articles_fts, -1, '**', '**', '…', 12) AS snippet" + storage.SEARCH_JOIN
                    + " WHERE articles_fts MATCH dwn_fts(:q) ORDER BY " + storage.SEARCH_ORDER
                    + f" LIMIT {SEARCH_LIMIT}"),
        }}

    return search_query


@hookimpl
def render_cell(row, value, column: str, table: str | None, database: str, datasette) -> Markup | None:
    """In the search query's results: the identity links to the article page, hits are marked."""
    # row is a sqlite3.Row, whose "in" looks at values: its column names are its keys()
    if table is not None or "snippet" not in row.keys() or not isinstance(value, str):  # noqa: SIM118
        return None
    if column == "identity":
        return Markup('<a href="{}">{}</a>').format(article_url(datasette, database, value), value)
    if column == "snippet":
        return Markup(_HIT.sub(r"<mark>\1</mark>", str(escape(value))))
    return None


def article_url(datasette, database: str, identity: str) -> str:
    return datasette.urls.row(database, ARTICLES, tilde_encode(identity))


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def search_box(scope, receive, send) -> None:
            match = _TABLE_SEARCH.match(scope.get("path", "")) if scope["type"] == "http" else None
            arguments = parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True)
            text = next((value for name, value in arguments if name == "_search"), None)
            if match and text is not None and await _is_archive(datasette, route=match["database"]):
                if match["format"] is None and {name for name, _ in arguments} == {"_search"}:
                    location = datasette.urls.query(match["database"], SEARCH_QUERY) + "?" + urlencode({"q": text})
                    await send({"type": "http.response.start", "status": 302,
                                "headers": [(b"location", location.encode("utf-8"))]})
                    await send({"type": "http.response.body", "body": b""})
                    return
                arguments = [(name, value) for name, value in arguments if name not in ("_search", "_searchmode")]
                arguments += [("_search", safe_fts_expression(text)), ("_searchmode", "raw")]
                scope = {**scope, "query_string": urlencode(arguments).encode("utf-8")}
            await app(scope, receive, send)

        return search_box

    return wrap


async def _is_archive(datasette, name: str | None = None, route: str | None = None) -> bool:
    """Whether the database named ``name`` (or served at ``route``) is a dwnscraper archive: it has
    the articles' FTS index. Other databases Datasette serves beside it are left alone."""
    try:
        database = datasette.get_database(name, route=route)
    except KeyError:
        return False
    return await database.table_exists(f"{ARTICLES}_fts")


@hookimpl
def extra_template_vars(view_name: str, table: str | None, database: str, request, datasette) -> Any:
    if view_name != "row" or table != ARTICLES:
        return None

    async def article_vars() -> dict[str, Any]:
        if not await _is_archive(datasette, database):
            return {}
        [identity] = urlsafe_components(request.url_vars["pks"])
        page = await datasette.get_database(database).execute_fn(lambda conn: article_page(conn, identity))
        for teaser in page["teasers"]:
            teaser["link"] = article_url(datasette, database, teaser["identity"]) if teaser["identity"] else None
        return page

    return article_vars


def article_page(conn, identity: str) -> dict[str, Any]:
    """What the article page shows beyond the row: decoded lists, printed dates, revisions, teasers.

    ``body_html`` was sanitized when stored; it is sanitized again here, so an archive written by an
    older version, or edited by hand, cannot put script on the page.
    """
    db = Database(conn)
    row = storage.stored_article(db, identity)
    return {
        "article": row,
        "authors": json.loads(row["authors"]),
        "topics": json.loads(row["topics"]),
        "published": site_time(row["published_at"]) or row["published_raw"],
        "updated": site_time(row["updated_at"]),
        "body_html": storage.BODY_HTML_CLEANER.clean(row["body_html"] or ""),
        "revisions": storage.article_revisions(db, identity),
        "teasers": storage.teasers_with_links(db, row["raw_page_id"]),
    }
