"""A parse job for workers that dies the way a crash in the parser would (a page asking for it ends the process
at once), and prepares every other page as the real job does."""

from __future__ import annotations

import os

from dwnscraper.parseworker import prepare_page

CRASH = b"<!-- crash the parser -->"


def prepare_or_crash(body: bytes, url: str, fetched_at, headers):
    if CRASH in body:
        os._exit(70)
    return prepare_page(body, url, fetched_at, headers)
