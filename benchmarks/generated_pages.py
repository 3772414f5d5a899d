"""DWN-like pages generated for the parse benchmark: card-heavy pages and cards printing relative dates.

The fixtures are whole articles with a handful of teaser cards; these stress the cards. Each page carries
the chrome of a live page (mega menu, sidebar, footer sitemap) so that it weighs 60–120 KB like one, and
is written with its ``.meta.json`` into a folder the benchmark reads like the fixtures. Nothing here is
committed output: the pages are made at run time, the same every run.
"""

from __future__ import annotations

import json
from pathlib import Path

SITE = "https://deutsche-wirtschafts-nachrichten.de"
FETCHED_AT = "2026-05-13T22:30:00+00:00"
SECTIONS = ("Politik", "Finanzen", "Wirtschaft", "Weltwirtschaft", "Deutschland", "Unternehmen", "Technologie")
FIXED_DATES = ("13.05.2026", "12.05.2026", "11.05.2026", "08.05.2026")
RELATIVE_DATES = ("vor 20 Minuten", "vor 3 Stunden", "Heute, 00:05", "gestern, 18:30", "gestern", "vor 2 Tagen")
WORDS = ("Zinsen", "Inflation", "Bundesregierung", "Export", "Mittelstand", "Energiepreise", "Börse", "Europa",
         "Konjunktur", "Haushalt", "Löhne", "Industrie", "Handel", "Zölle", "Digitalisierung", "Immobilien")


def _sentence(seed: int, words: int) -> str:
    picked = [WORDS[(seed * 7 + step * 3) % len(WORDS)] for step in range(words)]
    return " ".join(picked).capitalize() + " – für die deutsche Wirtschaft ein großes Thema."


def _chrome_top() -> str:
    topics = "".join(f'<li><a href="/thema/{word.lower()}-{n}/">{word} {n}</a></li>'
                     for n in range(6) for word in WORDS[:4])
    menu = "".join(f'<li><a href="/{section.lower()}">{section}</a><ul>{topics}</ul></li>' for section in SECTIONS)
    return f'<header><a href="/" class="logo">DWN</a><nav class="mega"><ul>{menu}</ul></nav></header>'


def _chrome_bottom() -> str:
    sidebar = "".join(
        f'<li><a href="/7{20000 + n}/Meistgelesen-{n}">{_sentence(n, 6)}</a></li>' for n in range(25)
    )
    sitemap = "".join(
        f'<div class="col"><h4>{section}</h4><ul>'
        + "".join(f'<li><a href="/{section.lower()}/page/{n}/">{section} Seite {n}</a></li>' for n in range(1, 16))
        + "</ul></div>"
        for section in SECTIONS
    )
    return (f'<aside class="sidebar"><h3>Meistgelesen</h3><ol>{sidebar}</ol></aside>'
            f'<footer class="site-footer">{sitemap}<p>© 2026 Deutsche Wirtschafts Nachrichten</p></footer>')


def _head(title: str, canonical: str, extra: str = "") -> str:
    style = "".join(f".c{n}{{margin:{n}px;padding:{n % 7}px;color:#{n:03x}}}" for n in range(900))
    return (f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{title} | Deutsche Wirtschafts '
            f'Nachrichten</title><link rel="canonical" href="{canonical}">{extra}<style>{style}</style></head><body>')


def _card(number: int, section: str, date_text: str | None) -> str:
    date = f'<div class="pubdate">{date_text}</div>' if date_text else ""
    return (
        '<div class="boxtext">'
        '<a class="boxtext-brand" href="/"><img src="/assets/img/dwn-logo-small.svg" alt="DWN"></a>'
        f'<a class="boxtext-section" href="/{section.lower()}">{section}</a>'
        f'<a class="boxtext-title" href="/72{3000 + number}/Titel-{number}">{section} {_sentence(number, 5)}</a>'
        f'<figure class="boxtext-img"><img src="/images/teaser/{number}.jpg" alt=""></figure>'
        f'{date}<div class="boxtext-snippet"><p>{_sentence(number + 1, 12)}...</p></div></div>'
    )


def article_page(cards: int) -> str:
    url = f"{SITE}/723999/Generierter-Artikel"
    body = "".join(f"<p>{_sentence(n, 40)}</p>" + ("<h2>Zwischentitel</h2>" if n % 4 == 3 else "") for n in range(14))
    teasers = "".join(_card(n, SECTIONS[n % len(SECTIONS)], FIXED_DATES[n % len(FIXED_DATES)]) for n in range(cards))
    return (
        _head("Generierter Artikel", url) + _chrome_top()
        + '<main><article class="article"><div class="article-kicker"><a href="/wirtschaft">Wirtschaft</a></div>'
        '<h1 class="article-title">Mittelstand unter Druck: Energiepreise bremsen die Industrie</h1>'
        f'<p class="article-lead">{_sentence(99, 20)}</p>'
        '<div class="article-meta"><time class="article-date" datetime="2026-05-13T18:15">13.05.2026 18:15</time>'
        '<span class="article-readtime">Lesezeit: 4 min</span></div>'
        '<figure class="article-image"><img src="/images/723999.jpg" alt=""><figcaption>Eine Werkhalle.'
        ' (Foto: dpa)</figcaption></figure>'
        f'<div class="article-body">{body}</div></article>'
        f'<section class="teaser-list"><h2>Mehr zum Thema</h2>{teasers}</section></main>'
        + _chrome_bottom() + "</body></html>"
    )


def section_page(cards: int, dates: tuple[str, ...]) -> str:
    url = f"{SITE}/wirtschaft"
    teasers = "".join(_card(n, "Wirtschaft", dates[n % len(dates)]) for n in range(cards))
    return (
        _head("Wirtschaft", url, f'<link rel="next" href="{url}/page/2/">') + _chrome_top()
        + f'<main><h1>Wirtschaft</h1><div class="teasers">{teasers}</div>'
        '<a class="pager" rel="next" href="/wirtschaft/page/2/">Weiter</a></main>'
        + _chrome_bottom() + "</body></html>"
    )


PAGES = {
    "article-10-cards": (f"{SITE}/723999/Generierter-Artikel", lambda: article_page(10)),
    "section-20-cards": (f"{SITE}/wirtschaft", lambda: section_page(20, FIXED_DATES)),
    "section-20-relative-dates": (f"{SITE}/wirtschaft", lambda: section_page(20, RELATIVE_DATES)),
}


def write_pages(folder: Path) -> Path:
    """Write every generated page with its ``.meta.json`` into ``folder``; return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (url, build) in PAGES.items():
        (folder / f"{name}.html").write_text(build(), encoding="utf-8")
        meta = {"url": url, "fetched_at": FETCHED_AT, "description": "generated for the parse benchmark"}
        (folder / f"{name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder
