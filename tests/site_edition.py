"""The second edition of the bundled fixture site: the site as DWN shows it on the evening of 20.01.2026.

``make_second_edition(target)`` copies ``fixtures/site/`` to ``target`` and edits the copy the way
the site changes during a day, so that a test can crawl the first edition, then the second, over
the same archive:

- ``NEW``: two new articles (pages made from existing ones with a new id, slug, headline and
  publication time), each with a card at the top of its section front;
- ``REWORDED``: two headlines reworded, in the article page and everywhere the site shows the
  article (section fronts, the teaser boxes of other articles);
- ``EXTENDED``: two bodies with a new paragraph, nothing changed on any listing;
- every edited article gets the update time ``UPDATED``.

Nothing else changes, so every other article must keep exactly one revision.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from dwnscraper import LIVE_SITE

FIXTURE_SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"

UPDATED = "20.01.2026 18:30"
UPDATED_AT = "2026-01-20T18:30:00+01:00"
ADDED_PARAGRAPH = "Nachtrag: Die Bundesregierung kündigte am Abend weitere Gespräche mit den Verbänden an."


def _article(path: str) -> dict[str, str]:
    article_id = path.split("/")[0]
    return {"identity": f"id:{article_id}", "path": path, "url": f"{LIVE_SITE}/{path}"}


NEW = [
    {**_article("718608/Hafenstreik-legt-Hamburg-lahm"),
     "source": "718556/reedereien-meiden-rotes-meer-lieferketten-wieder-gestoert",
     "headline": "Hafenstreik legt Hamburg lahm: Reedereien warnen vor Engpässen", "front": "unternehmen.html",
     "section": "Unternehmen", "published": ("2026-01-20T16:45", "20.01.2026 16:45"),
     "source_published": ("2026-01-08T06:24", "08.01.2026 06:24")},
    {**_article("718621/EZB-Sondersitzung-zur-Anleihekrise"),
     "source": "718491/EZB-laesst-Zinsen-unveraendert-Lagarde-warnt-vor",
     "headline": "EZB-Sondersitzung: Lagarde beruft Rat wegen Anleihekrise ein", "front": "weltwirtschaft.html",
     "section": "Weltwirtschaft", "published": ("2026-01-20T17:10", "20.01.2026 17:10"),
     "source_published": ("2026-01-13T13:49", "13.01.2026 13:49")},
]
"""New articles: ``source`` is the page they are made from, ``front`` the section front listing them."""

REWORDED = [
    {**_article("503412/Erholung-in-Sicht-Italiens-Wirtschaft-oeffnet-schrittweise"),
     "old": "Erholung in Sicht: Italiens Wirtschaft öffnet schrittweise",
     "headline": "Erholung verzögert sich: Italiens Wirtschaft öffnet nur zögerlich"},
    {**_article("718530/Exporte-nach-China-sinken-deutlich-Oekonomen-besorgt"),
     "old": "Exporte nach China sinken deutlich – Ökonomen besorgt",
     "headline": "Exporte nach China brechen ein – Ökonomen schlagen Alarm"},
]
"""Reworded headlines: an old (2020) legacy article and a 2025 current one, both on section fronts."""

EXTENDED = [_article("718465/Energiepreise-Warum-Gas-im-Winter-wieder-teurer"),
            _article("718595/bitcoin-faellt-unter-90-000-dollar-was")]
"""Bodies extended by ``ADDED_PARAGRAPH``: 2025 articles, older than 14 days, younger than 400."""

EDITED = [*REWORDED, *EXTENDED]


def make_second_edition(target: Path) -> Path:
    """Copy the bundled site to ``target`` and apply the second edition's changes; return ``target``."""
    shutil.copytree(FIXTURE_SITE, target)
    for article in NEW:
        _add_new_article(target, article)
    for article in REWORDED:
        for page in target.rglob("*.html"):
            text = page.read_text(encoding="utf-8")
            if article["old"] in text:
                page.write_text(text.replace(article["old"], article["headline"]), encoding="utf-8")
    for article in EXTENDED:
        _edit(target / f"{article['path']}.html",
              lambda text: text.replace('<div class="article-body">\n',
                                        f'<div class="article-body">\n<p>{ADDED_PARAGRAPH}</p>\n', 1))
    for article in EDITED:
        _edit(target / f"{article['path']}.html", _mark_updated)
    return target


def _edit(page: Path, change) -> None:
    text = page.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text, f"the second edition did not change {page}"
    page.write_text(changed, encoding="utf-8")


def _mark_updated(text: str) -> str:
    """Give an article page the update time ``UPDATED`` (current: the meta line; legacy: the date line)."""
    if 'class="article-updated"' in text:
        return re.sub(r'(<span class="article-updated">Aktualisiert: )[^<]*', rf"\g<1>{UPDATED}", text)
    if 'class="article-date"' in text:
        return re.sub(r'(<time class="article-date"[^>]*>[^<]*</time>)',
                      rf'\1\n<span class="article-updated">Aktualisiert: {UPDATED}</span>', text, count=1)
    return re.sub(r'(<div class="date">[^<&]*)', rf"\1&nbsp;&nbsp;Aktualisiert: {UPDATED}", text, count=1)


def _add_new_article(site: Path, article: dict) -> None:
    source = site / f"{article['source']}.html"
    text = source.read_text(encoding="utf-8")
    source_id, source_slug = article["source"].split("/")
    new_id, new_slug = article["path"].split("/")
    old_headline = re.search(r'<h1 class="article-title">([^<]*)</h1>', text)[1]
    for old, new in ((source_slug, new_slug), (source_id, new_id), (old_headline, article["headline"]),
                     *zip(article["source_published"], article["published"], strict=True)):
        text = text.replace(old, new)
    page = site / f"{article['path']}.html"
    page.parent.mkdir(exist_ok=True)
    page.write_text(text, encoding="utf-8")
    card = (f'<div class="boxtext">\n<a class="brand" href="/"><img src="/images/dwn.svg" alt="DWN"></a>\n'
            f'<a class="section" href="/{article["section"].lower()}">{article["section"]}</a>\n'
            f'<a class="title" href="/{article["path"]}">{article["section"]} {article["headline"]}</a>\n'
            f'<div class="pubdate">{article["published"][1][:10]}</div>\n'
            f'<p class="snippet">Neu am Abend: {article["headline"]} ...</p>\n</div>\n')
    _edit(site / article["front"], lambda front: front.replace('<div class="teaser-grid">\n',
                                                               f'<div class="teaser-grid">\n{card}', 1))
