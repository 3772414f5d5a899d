"""Rows to the terminal or a file: a rich table on a terminal, JSON, JSON Lines or CSV otherwise.

Every writer but the table streams: it writes each row as the cursor yields it, so memory stays
constant however many rows a query returns. rich is imported by the functions that draw, so JSON
and CSV output start without it.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

FORMATS = ("table", "json", "jsonl", "csv")
"""``table`` (rich), ``json`` (one array), ``jsonl`` (JSON Lines: one object per line), ``csv``."""

UNBOUNDED_WIDTH = 10_000
"""A table written to a file or pipe is as wide as its content; on a terminal it fits the window."""
TABLE_PADDING = 3
"""Characters a rich table adds to each column (a border and a blank either side)."""
BAR = "█"


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


def site_time(iso: str | None) -> str | None:
    """An ISO time with the Berlin offset as the site prints it: ``2014-09-26T01:03:00+02:00`` ->
    ``26.09.2014 01:03``."""
    if not iso:
        return None
    year, month, day = iso[:10].split("-")
    return f"{day}.{month}.{year} {iso[11:16]}"


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


def console(stream: TextIO) -> Console:
    """A rich console on ``stream``: the window's width on a terminal, unbounded in a file or pipe."""
    from rich.console import Console

    return Console(file=stream, width=None if stream.isatty() else UNBOUNDED_WIDTH, highlight=False)


def _write_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], stream: TextIO,
                 highlight: tuple[str, str] | None) -> int:
    """A table when every value fits the window whole, else one block per row (``column: value``
    lines): cutting values to fit shows a grid of "…" and hides the data."""
    from rich.table import Table

    cells = [[_cell(value, highlight) for value in row] for row in rows]
    out = console(stream)
    widths = [len(column) for column in columns]
    for row in cells:
        widths = [max(width, *(len(line) for line in cell.plain.split("\n"))) for width, cell in zip(widths, row,
                                                                                                     strict=True)]
    if sum(widths) + TABLE_PADDING * len(columns) + 1 <= out.width:
        table = Table(*columns, show_lines=False)
        for row in cells:
            table.add_row(*row)
        out.print(table)
    else:
        _write_records(columns, cells, out)
    return len(cells)


def _write_records(columns: Sequence[str], cells: list[list[Text]], out: Console) -> None:
    """Each row as ``column: value`` lines; the terminal wraps a long value, so a URL stays one line to copy."""
    from rich.text import Text

    label_width = max(map(len, columns))
    for number, row in enumerate(cells, 1):
        out.print(Text(f"-- row {number} " + "-" * max(0, label_width - 6), style="dim"))
        for column, cell in zip(columns, row, strict=True):
            out.print(Text(f"{column.rjust(label_width)}: ", style="bold").append_text(cell), soft_wrap=True)


def _cell(value: Any, highlight: tuple[str, str] | None) -> Text:
    from rich.text import Text

    if isinstance(value, bytes):
        return Text(f"<{len(value)} bytes>", style="dim")
    text = _text_value(value)
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
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    err = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)


def write_bars(label: str, rows: Sequence[tuple[str, int]], stream: TextIO) -> None:
    """A bar chart of counts, one line per label (``2024-05 ████████ 132``), scaled to the window."""
    from rich.text import Text

    out = console(stream)
    label_width = max([1, *(len(name) for name, _ in rows)])
    number_width = max([1, *(len(f"{count:,}") for _, count in rows)])
    most = max([1, *(count for _, count in rows)])
    room = max(10, min(out.width, 100) - label_width - number_width - 2)
    out.print(Text(label, style="bold"))
    for name, count in rows:
        bar = BAR * round(room * count / most) if count else ""
        out.print(Text(f"{name.ljust(label_width)} ").append(bar, style="cyan").append(f" {count:,}"))
