"""A generated matrix: every printed date form in every place a page holds a date, at instants in winter and summer
time, around midnight and around both DST changes, each parsed through ``parse_page`` and checked against the
instant it names. The same for relative card dates against fetch times around midnight and the DST changes, and for
the section label of search results and cards.

Expected instants are derived from UTC: each case starts from an instant, prints its Berlin wall time (taken with
``astimezone``, never by the parser's own code) and expects the parser to give the instant back. A wall time that
autumn repeats is printed the same both times and reads as its first occurrence, in summer time.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from dwnscraper.parsing import parse_page
from dwnscraper.parsing.dates import BERLIN

SITE = "https://deutsche-wirtschafts-nachrichten.de"
ARTICLE_URL = f"{SITE}/718460/Slug"
FETCHED_AT = datetime(2026, 5, 13, 22, 30, tzinfo=UTC)
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
          "Dezember")
SHORT_MONTHS = ("Jan.", "Feb.", "Mär.", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez.")

INSTANTS = {
    "winter afternoon": datetime(2026, 1, 21, 16, 40, tzinfo=UTC),
    "winter 23:59": datetime(2025, 12, 31, 22, 59, tzinfo=UTC),
    "winter midnight": datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
    "winter 00:30": datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
    "summer 23:59": datetime(2025, 7, 14, 21, 59, tzinfo=UTC),
    "summer midnight": datetime(2025, 7, 14, 22, 0, tzinfo=UTC),
    "summer 00:30": datetime(2025, 7, 14, 22, 30, tzinfo=UTC),
    "before spring change": datetime(2025, 3, 30, 0, 59, tzinfo=UTC),
    "at spring change": datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
    "after spring change": datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
    "before autumn change": datetime(2025, 10, 25, 23, 59, tzinfo=UTC),
    "autumn 02:30 first": datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
    "autumn 02:30 again": datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
    "after autumn change": datetime(2025, 10, 26, 2, 0, tzinfo=UTC),
}


def wall(instant: datetime) -> datetime:
    return instant.astimezone(BERLIN)


def read_back(instant: datetime) -> datetime:
    """The instant a printed Berlin wall time names: its first occurrence when autumn repeats it."""
    shown = wall(instant)
    return instant - timedelta(hours=1) if shown.fold else instant


# name: (printed text, the raw string the parser keeps, whether it prints the time)
def forms(moment: datetime) -> dict[str, tuple[str, str, bool]]:
    d, m, y, hh, mm = moment.day, moment.month, moment.year, moment.hour, moment.minute
    numeric = f"{d:02}.{m:02}.{y}"
    written = f"{d}. {MONTHS[m - 1]} {y}"
    printed = {
        "numeric": (f"{numeric} {hh:02}:{mm:02}", True),
        "numeric Uhr": (f"{numeric}, {hh:02}:{mm:02} Uhr", True),
        "numeric um Uhr": (f"{numeric} um {hh:02}:{mm:02} Uhr", True),
        "weekday written": (f"{WEEKDAYS[moment.weekday()]}, {written}, {hh:02}:{mm:02} Uhr", True),
        "written um": (f"{written} um {hh}:{mm:02} Uhr", True),
        "short month": (f"{d}. {SHORT_MONTHS[m - 1]} {y}, {hh:02}:{mm:02} Uhr", True),
        "numeric date only": (numeric, False),
        "two-digit year": (f"{d:02}.{m:02}.{y % 100:02}", False),
        "written date only": (written, False),
        "weekday date only": (f"{WEEKDAYS[moment.weekday()]}, {written}", False),
    }
    labelled = {
        "Veröffentlicht am": ("Veröffentlicht am ", "numeric um Uhr"),
        "Stand:": ("Stand: ", "weekday written"),
    }
    cases = {name: (text, text, timed) for name, (text, timed) in printed.items()}
    for label, (prefix, form) in labelled.items():
        text, timed = printed[form]
        cases[f"{label} {form}"] = (prefix + text, text, timed)
    return cases


def expected_instant(instant: datetime, timed: bool) -> str:
    moment = read_back(instant) if timed else datetime.combine(wall(instant).date(), datetime.min.time(), BERLIN)
    return moment.astimezone(BERLIN).isoformat(timespec="seconds")


def current_page(date_html: str, head: str = "") -> str:
    return f"""<html><head>{head}</head><body><article class="article">
<div class="article-kicker"><a href="/politik">Politik</a></div>
<h1 class="article-title">Die Schlagzeile des Artikels</h1><p class="article-lead">Der Lead des Artikels.</p>
<div class="article-meta">{date_html}<span class="article-readtime">Lesezeit: 3 min</span></div>
<div class="article-body"><p>Eins.</p><p>Zwei.</p></div></article></body></html>"""


def legacy_page(text: str) -> str:
    return f"""<html><body><div class="article-head"><div class="kicker"><a href="/politik">Politik</a></div>
<h1>Die Schlagzeile des Artikels</h1><div class="readtime">Lesezeit: 9 min</div>
<div class="date">{text}</div><div class="lead">Der Lead.</div></div>
<div class="article-text"><p>Eins.</p><p>Zwei.</p></div></body></html>"""


def wordpress_page(text: str) -> str:
    return f"""<html><body><div class="entry-category">Politik</div><h1 class="entry-title">Die Schlagzeile</h1>
<div class="entry-excerpt">Der Lead.</div><div class="entry-date">{text}</div>
<div class="entry-content"><p>Eins.</p><p>Zwei.</p></div></body></html>"""


def classless_page(text: str) -> str:
    return f"""<html><body><div class="q1"><a href="/politik">Politik</a></div>
<h1 class="q2">Die Schlagzeile des Artikels</h1><p class="q3">Der Lead des Artikels.</p>
<div class="q4">{text}</div><div class="q5">Lesezeit: 3 min</div>
<div class="q6"><p>Erster Absatz des Artikels.</p><p>Zweiter Absatz des Artikels.</p></div></body></html>"""


VISIBLE_PLACES = {
    "current time element": lambda text: current_page(f'<time class="article-date">{text}</time>'),
    "legacy date line": lambda text: legacy_page(f"{text}&nbsp;&nbsp;Aktualisiert: 01.01.2026 12:00"),
    "wordpress entry date": wordpress_page,
    "class-less date line": classless_page,
}


def article(html: str, fetched_at: datetime = FETCHED_AT) -> dict:
    record = parse_page(html.encode(), ARTICLE_URL, fetched_at)
    assert record["kind"] == "article", record
    return record


VISIBLE_CASES = [
    pytest.param(place, instant_name, form, id=f"{place}|{instant_name}|{form}")
    for place in VISIBLE_PLACES
    for instant_name in INSTANTS
    for form in forms(wall(INSTANTS[instant_name]))
]


@pytest.mark.parametrize(("place", "instant_name", "form"), VISIBLE_CASES)
def test_printed_date_in_every_place(place, instant_name, form):
    instant = INSTANTS[instant_name]
    text, raw, timed = forms(wall(instant))[form]
    record = article(VISIBLE_PLACES[place](text))
    assert (record["published_raw"], record["published_at"]) == (raw, expected_instant(instant, timed))


UPDATE_FORMS = ("numeric", "numeric Uhr", "weekday written", "written date only")


@pytest.mark.parametrize(
    ("place", "instant_name", "form"),
    [pytest.param(place, name, form, id=f"{place}|{name}|{form}")
     for place in ("current updated element", "legacy date line", "class-less date line")
     for name in INSTANTS for form in UPDATE_FORMS],
)
def test_update_date_in_every_place(place, instant_name, form):
    instant = INSTANTS[instant_name]
    text, raw, timed = forms(wall(instant))[form]
    published = "01.01.2025 08:00"
    html = {
        "current updated element": current_page(
            f'<time class="article-date">{published}</time><span class="article-updated">Aktualisiert: {text}</span>'
        ),
        "legacy date line": legacy_page(f"{published}&nbsp;&nbsp;Aktualisiert: {text}"),
        "class-less date line": classless_page(f"{published}</div><div class='q7'>Aktualisiert: {text}"),
    }[place]
    record = article(html)
    assert record["published_at"] == "2025-01-01T08:00:00+01:00"
    assert (record["updated_raw"], record["updated_at"]) == (raw, expected_instant(instant, timed))


def iso_forms(instant: datetime) -> dict[str, str]:
    return {
        "Z": instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "UTC offset": instant.isoformat(),
        "Berlin offset": wall(instant).isoformat(),
        "Z with milliseconds": instant.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def json_ld(shape: str, stamp: str) -> dict:
    news = {"@type": "NewsArticle", "headline": "Die Schlagzeile"}
    if shape == "flat":
        return {**news, "datePublished": stamp}
    if shape == "graph":
        return {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, {**news, "datePublished": stamp}]}
    return {"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "datePublished": stamp}, news]}


@pytest.mark.parametrize(
    ("instant_name", "form", "shape"),
    [pytest.param(name, form, shape, id=f"{name}|{form}|{shape}")
     for name in INSTANTS for form in iso_forms(INSTANTS[name]) for shape in ("flat", "graph", "graph, on WebPage")],
)
def test_json_ld_date(instant_name, form, shape):
    instant = INSTANTS[instant_name]
    head = f'<script type="application/ld+json">{json.dumps(json_ld(shape, iso_forms(instant)[form]))}</script>'
    record = article(current_page("", head))
    assert (record["published_raw"], record["published_at"]) == (None, instant.astimezone(BERLIN).isoformat())
    assert "published_at taken from JSON-LD datePublished; the layout's date markup is missing." in record["warnings"]


@pytest.mark.parametrize(
    ("instant_name", "form"),
    [pytest.param(name, form, id=f"{name}|{form}") for name in INSTANTS
     for form in ("numeric", "weekday written", "written date only")],
)
def test_time_element_reads_its_datetime_attribute_first(instant_name, form):
    instant = INSTANTS[instant_name]
    text, raw, _ = forms(wall(instant))[form]
    stamp = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    record = article(current_page(f'<time class="article-date" datetime="{stamp}">{text}</time>'))
    assert (record["published_raw"], record["published_at"]) == (raw, instant.astimezone(BERLIN).isoformat())


def card(text: str, with_class: bool) -> str:
    date_html = f'<div class="pubdate">{text}</div>' if with_class else f"<span>{text}</span>"
    return (f'<div class="boxtext"><a href="/">DWN</a><a href="/politik">Politik</a><a href="/719001/Titel">Politik'
            f' Die Schlagzeile der Karte</a>{date_html}<p>Der Text der Karte ...</p></div>')


def section_page(cards_html: str) -> str:
    return f"<html><body><h1>Politik</h1><div>{cards_html * 3}</div></body></html>"


def search_page(text: str) -> str:
    return (f'<html><body><h1>Suche</h1><dl><dt>{text}</dt><dd><a class="title" href="/719001/Titel">Die '
            f"Schlagzeile</a><p>Der Text ...</p></dd></dl></body></html>")


LISTING_PLACES = {
    "card pubdate": (lambda text: section_page(card(text, True)), f"{SITE}/politik"),
    "card loose text": (lambda text: section_page(card(text, False)), f"{SITE}/politik"),
    "search dt": (search_page, f"{SITE}/search?act=yes&section=27241"),
}
DAY_FORMS = ("numeric", "numeric date only", "two-digit year", "written date only", "weekday written")


@pytest.mark.parametrize(
    ("place", "instant_name", "form"),
    [pytest.param(place, name, form, id=f"{place}|{name}|{form}")
     for place in LISTING_PLACES for name in INSTANTS for form in DAY_FORMS],
)
def test_listing_dates(place, instant_name, form):
    instant = INSTANTS[instant_name]
    text, _, _ = forms(wall(instant))[form]
    build, url = LISTING_PLACES[place]
    record = parse_page(build(text).encode(), url, FETCHED_AT)
    first = record["teasers"][0]
    assert (first["published_raw"], first["published_on"]) == (text, wall(instant).date().isoformat())
    assert first["snippet"] == "Der Text der Karte ..." if place.startswith("card") else "Der Text ..."


FETCH_TIMES = {
    "Berlin just after midnight in May": FETCHED_AT,
    "Berlin just after midnight in January": datetime(2026, 1, 20, 23, 30, tzinfo=UTC),
    "Berlin noon in summer": datetime(2025, 7, 14, 10, 0, tzinfo=UTC),
    "just after the spring change": datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
    "in the repeated autumn hour": datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
    "Berlin 23:50 in winter": datetime(2026, 2, 10, 22, 50, tzinfo=UTC),
}


def relative_instant(text: str, fetched: datetime) -> datetime:
    """What a relative text names, fetched at ``fetched``: elapsed time exactly, days on Berlin's calendar."""
    today = fetched.astimezone(BERLIN).date()

    def on(day: date, hour: int = 0, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)

    return {
        "vor 20 Minuten": fetched - timedelta(minutes=20),
        "vor 45 Minuten": fetched - timedelta(minutes=45),
        "vor einer Stunde": fetched - timedelta(hours=1),
        "vor 3 Stunden": fetched - timedelta(hours=3),
        "Heute, 00:05": on(today, 0, 5),
        "heute": on(today),
        "gestern, 18:30": on(today - timedelta(days=1), 18, 30),
        "Gestern": on(today - timedelta(days=1)),
        "vorgestern": on(today - timedelta(days=2)),
        "vor 2 Tagen": on(today - timedelta(days=2)),
    }[text]


RELATIVE_TEXTS = ("vor 20 Minuten", "vor 45 Minuten", "vor einer Stunde", "vor 3 Stunden", "Heute, 00:05", "heute",
                  "gestern, 18:30", "Gestern", "vorgestern", "vor 2 Tagen")


@pytest.mark.parametrize(
    ("place", "fetch", "text"),
    [pytest.param(place, fetch, text, id=f"{place}|{fetch}|{text}")
     for place in ("card pubdate", "card loose text") for fetch in FETCH_TIMES for text in RELATIVE_TEXTS],
)
def test_relative_card_dates(place, fetch, text):
    fetched = FETCH_TIMES[fetch]
    build, url = LISTING_PLACES[place]
    record = parse_page(build(text).encode(), url, fetched)
    first = record["teasers"][0]
    expected = relative_instant(text, fetched).astimezone(BERLIN).date().isoformat()
    assert (first["published_raw"], first["published_on"]) == (text, expected)
    assert first["snippet"] == "Der Text der Karte ..."


@pytest.mark.parametrize(
    ("fetch", "text"),
    [pytest.param(fetch, text, id=f"{fetch}|{text}") for fetch in FETCH_TIMES for text in RELATIVE_TEXTS],
)
def test_relative_article_date(fetch, text):
    fetched = FETCH_TIMES[fetch]
    record = article(current_page(f'<time class="article-date">{text}</time>'), fetched)
    expected = relative_instant(text, fetched).astimezone(BERLIN).isoformat(timespec="seconds")
    assert (record["published_raw"], record["published_at"]) == (text, expected)


def test_the_issue_examples_of_relative_dates():
    """Fetched at 22:30 UTC on 13 May, 00:30 on 14 May in Berlin."""
    cases = {"vor 45 Minuten": "2026-05-13", "Heute, 00:05": "2026-05-14", "gestern, 18:30": "2026-05-13"}
    for text, day in cases.items():
        record = parse_page(section_page(card(text, True)).encode(), f"{SITE}/politik", FETCHED_AT)
        assert record["teasers"][0]["published_on"] == day


@pytest.mark.parametrize(("text", "day"), [("Aktualisiert: 21.01.2026", "2026-01-21"), ("Stand: gestern", "2026-05-13"),
                                           ("vom 20.01.2026, 10:00 Uhr", "2026-01-20")])
def test_a_card_date_with_a_label_or_words_around_it(text, day):
    record = parse_page(section_page(card(text, True)).encode(), f"{SITE}/politik", FETCHED_AT)
    assert (record["teasers"][0]["published_raw"], record["teasers"][0]["published_on"]) == (text, day)


def test_relative_dates_without_a_fetch_time_give_null():
    record = parse_page(section_page(card("vor 3 Stunden", True)).encode(), f"{SITE}/politik")
    assert [(t["published_raw"], t["published_on"]) for t in record["teasers"]] == [("vor 3 Stunden", None)] * 3


# Section labels of search results: (markup before the title, markup inside the title link) -> expected section.
LABELS = {
    "rubrik span before": ('<span class="rubrik">{section}</span> ', "", True),
    "section link before": ('<a href="/{slug}">{section}</a> ', "", True),
    "plain element before": ("<div>{section}</div>", "", True),
    "span inside title": ("", "<span>{section}</span> ", True),
    "none": ("", "", False),
}
SECTIONS = ("Politik", "Wirtschaft", "Weltwirtschaft", "Deutschland", "Unternehmen", "Finanzen")
HEADLINES = ("Immer mehr Apotheken schließen", "Deutschland steht still: Streik legt Bahn lahm")


@pytest.mark.parametrize(
    ("label", "section", "headline", "year_digits"),
    [pytest.param(label, section, headline, digits, id=f"{label}|{section}|{headline[:12]}|{digits}")
     for label in LABELS for section in SECTIONS for headline in HEADLINES for digits in (2, 4)],
)
def test_search_result_section_labels(label, section, headline, year_digits):
    before, inside, shown = LABELS[label]
    values = {"section": section, "slug": section.lower()}
    printed = "15.09.2025" if year_digits == 4 else "15.09.25"
    html = (f'<html><body><h1>Suche</h1><dl><dt>{printed}</dt><dd>{before.format(**values)}<a class="title" '
            f'href="/719001/Titel">{inside.format(**values)}{headline}</a> <p>Die Zahl der Apotheken sinkt ...</p>'
            "</dd></dl></body></html>")
    record = parse_page(html.encode(), f"{SITE}/search?act=yes", FETCHED_AT)
    assert record["teasers"] == [{
        "position": 1, "sponsored": False, "section": section if shown else None, "headline": headline,
        "url": f"{SITE}/719001/Titel", "published_raw": printed, "published_on": "2025-09-15",
        "snippet": "Die Zahl der Apotheken sinkt ...",
    }]


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("inside", [True, False])
def test_card_section_labels(section, inside):
    title = f"{section} Die Schlagzeile" if inside else "Die Schlagzeile"
    html = section_page(f'<div class="boxtext"><a href="/">DWN</a><a href="/{section.lower()}">{section}</a>'
                        f'<a href="/719001/Titel">{title}</a><div class="pubdate">21.01.2026</div>'
                        "<p>Der Text ...</p></div>")
    first = parse_page(html.encode(), f"{SITE}/politik", FETCHED_AT)["teasers"][0]
    assert (first["section"], first["headline"], first["snippet"]) == (section, "Die Schlagzeile", "Der Text ...")
