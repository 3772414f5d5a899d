"""What a crawl checks before its first request, the same for ``dwnscraper crawl`` and ``scrapy crawl``.

The site must be a web address and the numeric settings numbers.

The database must be writable and be an archive (or new), and a crawl of the live site must name
the person who runs it: their contact (``DWN_CONTACT``, an e-mail address or a web address) goes
into the user agent, so that the site's operators can reach someone. A mirror needs no contact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from dwnscraper import __version__
from dwnscraper.parsing.urls import is_dwn_url
from dwnscraper.storage import NotAnArchive, check_crawl_target

PROJECT_AGENT = f"dwnscraper/{__version__} (news archive research crawler)"
"""The user agent without a contact: crawls of a mirror or a copy of the site (``--site``)."""
EMAIL = re.compile(r"[^@\s<>();,]+@[^@\s<>();,]+\.[^@\s<>();,.]{2,}")
NO_CONTACT = ("A crawl of the live site must name who runs it: set DWN_CONTACT to your e-mail address or "
              "web address (export DWN_CONTACT=you@example.org, or -s DWN_CONTACT=...); "
              "crawls of a mirror (--mirror, --site) need none.")


NUMBER_SETTINGS = {
    "DWN_PARSE_WORKERS": int, "DWN_BATCH_SIZE": int, "DWN_MAX_PAGES": int, "DWN_COMMIT_INTERVAL": float,
    "DWN_PROGRESS_INTERVAL": float, "DWN_RETRY_AFTER_MAX": float, "DWN_LOCK_WAIT": float,
}
"""The numeric ``DWN_*`` settings, each a whole number or a number of seconds, none negative."""
PROGRESS_MODES = ("auto", "tty", "log", "off")


class CrawlRefused(ValueError):
    """A crawl that must not start, with the sentence that says why and what to do."""


def check_site(site: str) -> None:
    """``DWN_SITE`` must be a web address with its scheme: ``127.0.0.1:8000`` alone would make every
    request fail."""
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CrawlRefused(f"The site {site!r} is not a web address; give it with its scheme, "
                           "e.g. http://127.0.0.1:8000.")


def check_numbers(settings: Mapping[str, Any]) -> None:
    """Each numeric ``DWN_*`` setting is a number of its kind, not negative; ``DWN_PROGRESS`` a known mode."""
    for name, kind in NUMBER_SETTINGS.items():
        value = settings.get(name)
        try:
            number = kind(value) if value not in (None, "") else 0
        except (TypeError, ValueError):
            number = -1
        if number < 0:
            what = "a whole number" if kind is int else "a number of seconds"
            raise CrawlRefused(f"The setting {name} must be {what}, 0 or more, not {value!r}.")
    if settings.get("DWN_PROGRESS") not in PROGRESS_MODES:
        raise CrawlRefused(f"The setting DWN_PROGRESS must be one of {', '.join(PROGRESS_MODES)}, "
                           f"not {settings.get('DWN_PROGRESS')!r}.")


def contact_link(contact: str) -> str:
    """``DWN_CONTACT`` as a link for the user agent: ``mailto:`` an e-mail address, or the web address."""
    contact = contact.strip()
    if EMAIL.fullmatch(contact):
        return f"mailto:{contact.removeprefix('mailto:')}"
    parts = urlsplit(contact)
    if parts.scheme in ("http", "https") and "." in (parts.hostname or "") and not any(c.isspace() for c in contact):
        return contact
    raise CrawlRefused(f"DWN_CONTACT {contact!r} is neither an e-mail address nor an http(s) web address.")


def user_agent(contact: str | None) -> str:
    """The project's user agent, with the operator's contact when there is one."""
    if not contact:
        return PROJECT_AGENT
    return f"dwnscraper/{__version__} (news archive research crawler; +{contact_link(contact)})"


def check_crawl(settings: Mapping[str, Any]) -> str:
    """Check the crawl's database and contact (``DWN_DB``, ``DWN_SITE``, ``DWN_CONTACT``) and give the
    user agent to send; raise :class:`CrawlRefused` with one sentence when the crawl must not start.
    The site's address and the numeric settings are checked too."""
    check_site(settings.get("DWN_SITE") or "")
    check_numbers(settings)
    try:
        check_crawl_target(settings.get("DWN_DB"))
    except NotAnArchive as error:
        raise CrawlRefused(str(error)) from error
    contact = (settings.get("DWN_CONTACT") or "").strip()
    if not contact and is_dwn_url(settings.get("DWN_SITE") or ""):
        raise CrawlRefused(NO_CONTACT)
    return user_agent(contact)
