"""One stored article for a person on a terminal (``dwnscraper show``) and one stored page as its
HTML (``dwnscraper raw``).

``show`` prints what the article page shows, in the site's order: kicker (section), headline,
authors, dates and reading time, lead, image caption, the body blocks as wrapped text (headings
bold, quotes indented, list items bulleted), topics, then the revisions and the teasers the page
showed. On a terminal it is styled; in a pipe it is plain text.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from sqlite_utils import Database

from dwnscraper import storage
from dwnscraper.output import console, site_time

BLOCK_STYLES = {"heading": ("", "bold"), "quote": ("  │ ", "italic"), "list_item": ("  • ", "")}
"""Body block kind -> the prefix of its first line and its rich style; a paragraph has neither."""


def article_lines(row: Mapping[str, Any], revisions: Sequence[Mapping[str, Any]],
                  teasers: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The article as ``(text, rich style)`` lines, a blank line between its parts."""
    authors = json.loads(row["authors"])
    topics = json.loads(row["topics"])
    dates = [f"Veröffentlicht: {site_time(row['published_at']) or row['published_raw'] or 'ohne Datum'}"]
    if row["updated_at"]:
        dates.append(f"Aktualisiert: {site_time(row['updated_at'])}")
    if row["reading_time_minutes"]:
        dates.append(f"Lesezeit: {row['reading_time_minutes']} min")
    lines = [(row["section"] or "", "bold cyan"), (row["headline"], "bold")]
    if authors:
        lines.append(("von " + ", ".join(authors), "italic"))
    lines += [(" · ".join(dates), "dim"), ("", "")]
    if row["lead"]:
        lines += [(row["lead"], "bold"), ("", "")]
    if row["image_caption"] or row["image_credit"]:
        caption = " ".join(part for part in (row["image_caption"], f"(Foto: {row['image_credit']})"
                                              if row["image_credit"] else None) if part)
        lines += [(f"Bild: {caption}", "dim italic"), ("", "")]
    for block in json.loads(row["body"]):
        prefix, style = BLOCK_STYLES.get(block["kind"], ("", ""))
        lines.append((prefix + block["text"], style))
        if block["kind"] != "list_item":
            lines.append(("", ""))
    if row["paywalled"]:
        lines += [("[Der Rest des Artikels steht hinter der Bezahlschranke.]", "dim"), ("", "")]
    if topics:
        lines += [("Themen: " + ", ".join(topics), ""), ("", "")]
    lines.append((f"{row['canonical_url']}  ({row['identity']}, Revision {row['revision']})", "dim"))
    lines += _revision_lines(revisions) + _teaser_lines(teasers)
    return lines


def _revision_lines(revisions: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    lines = [("", ""), (f"Revisionen ({len(revisions)}):", "bold")]
    for revision in revisions:
        lines.append((f"  {revision['revision']}  {revision['fetched_at']}  raw page {revision['raw_page_id']}"
                      f"  {revision['url']}", ""))
    return lines


def _teaser_lines(teasers: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    if not teasers:
        return []
    lines = [("", ""), (f"Teaser auf der Seite ({len(teasers)}):", "bold")]
    for teaser in teasers:
        label = " (Anzeige)" if teaser["sponsored"] else ""
        lines.append((f"  {teaser['position']:>2}. {teaser['headline']}{label}  {teaser['url']}", ""))
    return lines


READING_WIDTH = 100
"""Text on a terminal is wrapped at the window's width, at most this many characters."""


def write_article(row: Mapping[str, Any], revisions: Sequence[Mapping[str, Any]],
                  teasers: Sequence[Mapping[str, Any]], stream: TextIO, width: int | None = None) -> None:
    """Print the article: on a terminal styled and wrapped at ``width`` (default: the window, at most
    ``READING_WIDTH``); elsewhere plain, one line per paragraph unless ``width`` is given. rich is
    imported for a terminal only, which keeps ``show`` in a pipe as quick to start as ``query``."""
    lines = article_lines(row, revisions, teasers)
    if not stream.isatty():
        for text, _style in lines:
            stream.write((textwrap.fill(text, width, break_on_hyphens=False) if width and text else text) + "\n")
        return
    from rich.text import Text

    out = console(stream)
    out.width = width or min(out.width, READING_WIDTH)
    for text, style in lines:
        out.print(Text(text, style=style), overflow="fold")


def show_article(db: Database, reference: str, stream: TextIO, width: int | None = None) -> None:
    row = storage.find_article(db, reference)
    write_article(row, storage.article_revisions(db, row["identity"]),
                  storage.stored_teasers(db, row["raw_page_id"]), stream, width)


def raw_html(db: Database, reference: str, revision: int | None = None) -> bytes:
    """The stored HTML (decompressed, as fetched) of an article's newest fetch or of ``revision``,
    or of the newest fetch of a URL."""
    return storage.raw_page(db, storage.raw_page_id_of(db, reference, revision)).body
