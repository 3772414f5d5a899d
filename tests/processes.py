"""Starting crawl subprocesses whose memory figures are their own."""

from __future__ import annotations

FRESH_SHELL = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]
"""Prefix that runs a command as a grandchild forked from a small shell.

Linux keeps a process's peak RSS (``ru_maxrss``, which Scrapy's MemoryUsage extension reads) across
``exec`` and counts in it the memory of the process it was forked from: a crawl started straight
from a large pytest process would start with pytest's peak. The shell forks the command instead of
exec'ing it (``; exit $?`` keeps it from being the last command), so the command's peak is its own.
"""


def fresh(command: list[str]) -> list[str]:
    """``command`` run through :data:`FRESH_SHELL`, with its exit status passed on."""
    return [*FRESH_SHELL, *command]
