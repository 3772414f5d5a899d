"""The site's sections: the names it prints (``Politik``) and the slugs of their listing paths (``politik``).

Every command that takes a section goes through here, so ``Politik``, ``politik`` and ``POLITIK`` mean
the same everywhere and an unknown name is refused with the list of valid ones. The crawler also takes
a listing path below a section or tag (``thema/europa``); the archive's ``section`` columns hold the
printed name.
"""

from __future__ import annotations

from collections.abc import Iterable

SECTIONS = {
    "politik": "Politik",
    "wirtschaft": "Wirtschaft",
    "finanzen": "Finanzen",
    "unternehmen": "Unternehmen",
    "technologie": "Technologie",
    "panorama": "Panorama",
    "deutschland": "Deutschland",
    "weltwirtschaft": "Weltwirtschaft",
}
"""Slug (the listing path ``/politik``) -> the name the site prints on kickers and cards."""


class UnknownSection(ValueError):
    """A section name that is neither a printed name nor a slug of the site's sections."""


def section_slug(name: str) -> str:
    """The slug of a section given as printed or as slug, in any case: ``Politik`` -> ``politik``."""
    slug = name.strip().strip("/").casefold()
    if slug not in SECTIONS:
        valid = ", ".join(SECTIONS.values())
        raise UnknownSection(f"{name.strip()!r} is not a DWN section; valid sections are {valid} "
                             "(as printed or in lower case).")
    return slug


def section_name(name: str) -> str:
    """The printed name of a section given as printed or as slug: ``politik`` -> ``Politik``."""
    return SECTIONS[section_slug(name)]


def listing_paths(names: Iterable[str]) -> list[str]:
    """The listing paths a crawl walks for ``names``: a section's slug, or a path below a section or tag
    as given (``thema/europa``); every section when none is named."""
    paths = []
    for name in names:
        path = name.strip().strip("/")
        paths.append(path if "/" in path else section_slug(path))
    return paths or list(SECTIONS)
