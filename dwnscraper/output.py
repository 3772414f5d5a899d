"""Rows to the terminal or a file: a rich table on a terminal, JSON, JSON Lines or CSV otherwise.

Every writer but the table streams: it writes each row as the cursor yields it, so memory stays
constant however many rows a query returns.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "json", "jsonl", "csv")
"""``table`` (rich), ``json`` (one array), ``jsonl`` (JSON Lines: one object per line), ``csv``."""

TABLE_CELL_LIMIT = 200
"""Characters shown of one cell in a table (the rest as "…"): a table is for looking; JSON and CSV
carry whole values."""
UNBOUNDED_WIDTH = 10_000
"""A table written to a file or pipe is as wide as its content; on a terminal it fits the window."""


def default_format(stream: TextIO) -> str:
    return "table" if stream.isatty() else "json"


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value


def _text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def json_line(row: dict[str, Any]) -> str:
    return json.dumps({key: _json_value(value) for key, value in row.items()}, ensure_ascii=False)


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, stream: TextIO,
               highlight: tuple[str, str] | None = None) -> int:
    """Write ``rows`` (sequences in ``columns`` order) to ``stream`` as ``fmt``; return the row count.

    ``highlight`` is the pair of markers around search hits; the table shows the text between them
    in bold instead.
    """
    if fmt == "table":
        return _write_table(columns, rows, stream, highlight)
    count = 0
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text_value(value) for value in row])
            count += 1
        return count
    for count, row in enumerate(rows, 1):
        line = json_line(dict(zip(columns, row, strict=True)))
        if fmt == "jsonl":
            stream.write(f"{line}\n")
        else:
            stream.write(("[" if count == 1 else ",\n ") + line)
    if fmt == "json":
        stream.write("]\n" if count else "[]\n")
    return count


def _write_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], stream: TextIO,
                 highlight: tuple[str, str] | None) -> int:
    table = Table(*columns, show_lines=False)
    count = 0
    for row in rows:
        table.add_row(*(_cell(value, highlight) for value in row))
        count += 1
    Console(file=stream, width=None if stream.isatty() else UNBOUNDED_WIDTH).print(table)
    return count


def _cell(value: Any, highlight: tuple[str, str] | None) -> Text:
    if isinstance(value, bytes):
        return Text(f"<{len(value)} bytes>", style="dim")
    text = _text_value(value)
    if len(text) > TABLE_CELL_LIMIT:
        text = text[:TABLE_CELL_LIMIT - 1] + "…"
    if not highlight or highlight[0] not in text:
        return Text(text)
    start, end = highlight
    cell = Text()
    for number, part in enumerate(text.replace(end, start).split(start)):
        cell.append(part, style="bold yellow" if number % 2 else None)
    return cell


@contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error when it is a terminal; a no-op in pipes and CI.

    Yields ``advance(n)``, to call after each ``n`` items done.
    """
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)
