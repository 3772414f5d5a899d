"""``dwnscraper history`` and ``dwnscraper changes``: how an article changed, revision by revision.

A revision is a distinct version of an article's own content (``storage.CONTENT_FIELDS``). The
history compares each revision with the one before field by field; headline, lead and body also
get a word-level diff (``difflib`` over whitespace-separated words), rendered ``[-old-]{+new+}`` in
text (coloured on a terminal) and as a list of operations in JSON.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text
from sqlite_utils import Database

from dwnscraper import storage
from dwnscraper.output import write_rows

DIFFED_FIELDS = ("headline", "lead", "body")
CONTEXT_WORDS = 8
"""Unchanged words shown in text around a change; longer unchanged runs are cut to "…"."""
STYLES = {"delete": "red strike", "insert": "green"}
MARKERS = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}


def word_diff(old: str, new: str) -> list[dict[str, str]]:
    """The word-level difference of two texts: ``{"op": "equal"|"delete"|"insert", "text": ...}``
    in order (a replaced run is a delete then an insert)."""
    before, after = old.split(), new.split()
    operations = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            operations.append({"op": "equal", "text": " ".join(before[i1:i2])})
            continue
        if i2 > i1:
            operations.append({"op": "delete", "text": " ".join(before[i1:i2])})
        if j2 > j1:
            operations.append({"op": "insert", "text": " ".join(after[j1:j2])})
    return operations


def _field_value(record: dict[str, Any], field: str) -> Any:
    return storage.body_text(record["body"]) if field == "body" else record.get(field)


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The content fields that differ between two revisions' records, with old and new value (the body
    as its text) and, for headline, lead and body, the word diff."""
    changes = []
    for field in storage.CONTENT_FIELDS:
        before, after = _field_value(old, field), _field_value(new, field)
        if before == after:
            continue
        change = {"field": field, "old": before, "new": after}
        if field in DIFFED_FIELDS:
            change["diff"] = word_diff(before or "", after or "")
        changes.append(change)
    return changes


def article_history(db: Database, key: str) -> dict[str, Any]:
    """Every revision of the article ``key`` (numeric id, identity or URL) with what changed from the
    one before, and its placements on listing pages."""
    article = storage.find_article(db, key)
    revisions, previous = [], None
    for row in storage.article_revisions(db, article["identity"]):
        record = row.pop("record")
        revisions.append({**row, "changes": field_changes(previous, record) if previous else []})
        previous = record
    return {"identity": article["identity"], "article_id": article["article_id"], "url": article["canonical_url"],
            "headline": article["headline"], "first_seen_at": article["first_seen_at"],
            "last_fetched_at": article["last_fetched_at"], "revisions": revisions,
            "placements": storage.article_placements(db, article["identity"])}


def parse_moment(text: str) -> str:
    """A ``--since``/``--until`` value (a day ``YYYY-MM-DD`` or an ISO 8601 time; Europe/Berlin when it
    names no offset) as an ISO 8601 time with its offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a day (YYYY-MM-DD) or an ISO 8601 time.") from error
    return (moment if moment.tzinfo else moment.replace(tzinfo=storage.BERLIN)).isoformat()


def write_changes(db: Database, since: str, until: str | None, fmt: str, stream: TextIO) -> int:
    """The articles with a new revision from ``since`` to ``until`` and the fields that changed."""
    columns, cursor = storage.revision_changes(db, since, until)
    return write_rows(columns, cursor, fmt, stream)


# -- text ----------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def diff_text(operations: list[dict[str, str]]) -> Text:
    """A word diff as one line: deletions ``[-...-]``, insertions ``{+...+}`` (styled for a
    terminal), long unchanged runs cut to their first and last words around "…"."""
    line = Text()
    for number, operation in enumerate(operations):
        if line:
            line.append(" ")
        if operation["op"] == "equal":
            line.append(_context(operation["text"].split(), first=number == 0, last=number == len(operations) - 1))
            continue
        start, end = MARKERS[operation["op"]]
        line.append(f"{start}{operation['text']}{end}", style=STYLES[operation["op"]])
    return line


def _context(words: list[str], first: bool, last: bool) -> str:
    """Unchanged words between changes: at most ``CONTEXT_WORDS`` next to each change."""
    keep_before = 0 if first else CONTEXT_WORDS
    keep_after = 0 if last else CONTEXT_WORDS
    if len(words) <= keep_before + keep_after + 1:
        return " ".join(words)
    return " ".join([*words[:keep_before], "…", *words[len(words) - keep_after:]])


def history_lines(history: dict[str, Any]) -> Iterator[Text | str]:
    count = len(history["revisions"])
    yield f"{history['identity']}: {history['headline']}"
    yield history["url"]
    yield (f"First seen {history['first_seen_at']}, last fetched {history['last_fetched_at']}, "
           f"{count} revision{'s' if count != 1 else ''}.")
    for revision in history["revisions"]:
        changed = ", ".join(change["field"] for change in revision["changes"]) or "first version"
        yield ""
        yield (f"Revision {revision['revision']}, fetched {revision['fetched_at']} "
               f"(crawl run {revision['crawl_run_id']}): {changed}")
        for change in revision["changes"]:
            if "diff" in change:
                yield Text(f"  {change['field']}: ").append_text(diff_text(change["diff"]))
            else:
                yield f"  {change['field']}: {_shown(change['old'])} → {_shown(change['new'])}"
    yield ""
    if not history["placements"]:
        yield "Placements: never seen on a listing page."
        return
    yield "Placements on listing pages (page, position, first and last seen, hours, times seen):"
    for place in history["placements"]:
        yield (f"  {place['page_url']}  #{place['position']}  {place['first_seen_at']} – {place['last_seen_at']}"
               f"  {place['hours_seen']} h  {place['times_seen']}×")


def write_history(history: dict[str, Any], fmt: str, stream: TextIO) -> None:
    """``table`` (text, styled on a terminal, plain in a pipe) or ``json``."""
    if fmt == "json":
        stream.write(json.dumps(history, ensure_ascii=False, indent=2) + "\n")
        return
    console = Console(file=stream, highlight=False, soft_wrap=True, emoji=False, markup=False)
    for line in history_lines(history):
        console.print(line)
