"""Scraper, parser and SQLite archive of Deutsche Wirtschafts Nachrichten (DWN)."""

__version__ = "0.1.0"

LIVE_SITE = "https://deutsche-wirtschafts-nachrichten.de"
