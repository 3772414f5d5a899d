"""When a stored article is fetched again: the revisit policy (``DWN_REVISIT``) and the crawl's clock.

DWN edits articles after publication, mostly while they are young. The policy is a list of
``AGE:INTERVAL`` tiers, e.g. ``6h:15m,2d:2h,14d:1d``: an article younger than AGE (counted from its
``published_at``, else from its first fetch) is due again once its last fetch is INTERVAL old;
older than the last AGE it is never revisited by policy. ``storage.Archive.due_articles`` applies
the policy in SQL; the spiders request what it returns beside the new articles.

The clock is the crawl's "now": ``DWN_NOW`` (ISO 8601 with an offset) fixes it, so that tests can
crawl the fixture site, whose articles are from 2014 to 2026, as if it were the day they were new.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

DEFAULT_POLICY = "6h:15m,2d:2h,14d:1d"

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
DURATION = re.compile(r"(\d+)([smhd])")

RevisitPolicy = tuple[tuple[timedelta, timedelta], ...]
"""(AGE, INTERVAL) tiers, youngest first."""


def parse_duration(text: str) -> timedelta:
    """``30m``, ``6h``, ``2d``, ``0s`` (a whole number and one unit) as a timedelta."""
    match = DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a duration: write a whole number and s, m, h or d, e.g. 30m or 2d.")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


def parse_policy(text: str) -> RevisitPolicy:
    """``AGE:INTERVAL,...`` as tiers sorted by age; an empty text is no revisiting at all."""
    tiers = []
    for pair in filter(None, (part.strip() for part in text.split(","))):
        age, sep, interval = pair.partition(":")
        if not sep:
            raise ValueError(f"DWN_REVISIT takes AGE:INTERVAL pairs like 6h:15m, not {pair!r}.")
        try:
            tier = parse_duration(age), parse_duration(interval)
        except ValueError as error:
            raise ValueError(f"DWN_REVISIT: {error}") from error
        if tier[0] <= timedelta(0):
            raise ValueError(f"The age in the DWN_REVISIT pair {pair!r} must be more than 0.")
        tiers.append(tier)
    return tuple(sorted(tiers))


def parse_now(text: str | None) -> datetime | None:
    """``DWN_NOW`` as an aware UTC moment; ``None`` (the real clock) when unset."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"DWN_NOW must be an ISO 8601 time with an offset, not {text!r}.") from error
    if moment.tzinfo is None:
        raise ValueError(f"DWN_NOW must name its offset (e.g. {text}+01:00), or its time is ambiguous.")
    return moment.astimezone(UTC)


def crawl_clock(fixed: datetime | None) -> Callable[[], datetime]:
    """The crawl's clock: the fixed ``DWN_NOW`` moment, else the real time (UTC)."""
    return (lambda: fixed) if fixed is not None else (lambda: datetime.now(UTC))
