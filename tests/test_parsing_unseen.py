"""Classes of page the parser had never seen (issue 9): AMP copies, other hosts, invisible characters, bylines with
initials, class-less pages without metadata. The date forms and labels are in ``test_parsing_date_matrix.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dwnscraper.fixtures import Fixture
from dwnscraper.parsing import parse_page
from dwnscraper.parsing.text import INVISIBLE, clean

SITE = "https://deutsche-wirtschafts-nachrichten.de"
SISTER = "https://deutsche-mittelstands-nachrichten.de"
FETCHED_AT = "2026-01-21T10:00:00+00:00"
PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def parse(html: str, url: str = f"{SITE}/718460/Slug") -> dict:
    return parse_page(html.encode(), url, FETCHED_AT)


def record_of(name: str) -> dict:
    fixture = Fixture(PAGES / f"{name}.html")
    return parse_page(fixture.html.read_bytes(), fixture.url, fixture.fetched_at, fixture.headers)


def test_an_amp_copy_gives_the_regular_pages_record():
    regular = record_of("current/weltwirtschaft-autor-utm-sponsored")
    amp = record_of("current/amp-copy-weltwirtschaft")
    assert amp["url"].endswith("/amp")
    assert amp["image"] == {
        "url": f"{SITE}/images/2026/01/china-qingdao-hafen-container-1200.jpg",
        "caption": "Containerschiffe im Hafen von Qingdao: Chinas Exporteure suchen neue Absatzmärkte.",
        "credit": "dpa/XinHua | Liang Xu",
    }
    assert not any("Anzeige" in block["text"] for block in amp["body"])
    differing = {key for key in regular.keys() | amp.keys() if regular.get(key) != amp.get(key)}
    assert differing == {"url", "warnings"}


ARTICLE = """<html {html_attributes}><head>{head}</head><body><article class="article">
<div class="article-kicker"><a href="/politik">Politik</a></div><h1 class="article-title">Die Schlagzeile</h1>
<div class="article-meta"><time class="article-date">21.01.2026 09:00</time></div>
<div class="article-body"><p>Eins.</p>{inside}<p>Zwei.</p></div></article></body></html>"""


@pytest.mark.parametrize("url", [f"{SITE}/718460/Slug/amp", f"{SITE}/718460/Slug/amp/", f"http://www.{SITE[8:]}/718460/Slug/amp"])
def test_an_amp_url_without_canonical_link_is_the_article(url):
    html = ARTICLE.format(html_attributes="amp", head="", inside="")
    record = parse(html, url)
    assert (record["canonical_url"], record["article_id"]) == (f"{SITE}/718460/Slug", 718460)


@pytest.mark.parametrize("ad", [
    '<amp-ad width="300" height="250" type="doubleclick"><div placeholder>Anzeige</div></amp-ad>',
    '<amp-embed type="taboola"><div fallback>Empfohlene Artikel</div></amp-embed>',
    '<amp-sticky-ad layout="nodisplay"><amp-ad type="adsense"><span>Werbung hier</span></amp-ad></amp-sticky-ad>',
])
def test_amp_widgets_are_never_body(ad):
    record = parse(ARTICLE.format(html_attributes="amp", head="", inside=ad))
    assert record["body"] == [{"kind": "paragraph", "text": "Eins."}, {"kind": "paragraph", "text": "Zwei."}]


def test_an_amp_image_in_a_figure_gives_image_caption_and_credit():
    figure = ('<figure><amp-img src="/img/x.jpg" width="1200" height="675" layout="responsive"></amp-img>'
              "<figcaption>Der Hafen. (Foto: dpa) Foto: Liang Xu</figcaption></figure>")
    html = ARTICLE.format(html_attributes="amp", head="", inside="")
    record = parse(html.replace('<div class="article-body">', figure + '<div class="article-body">'))
    assert record["image"] == {"url": f"{SITE}/img/x.jpg", "caption": "Der Hafen.", "credit": "dpa"}


@pytest.mark.parametrize(("url", "canonical", "host"), [
    (f"{SISTER}/2016/09/24/slug/", f"{SISTER}/2016/09/24/slug/", "deutsche-mittelstands-nachrichten.de"),
    (f"{SISTER}/2016/09/24/slug/", None, "deutsche-mittelstands-nachrichten.de"),
    (f"{SISTER}/719001/Titel", "/719001/Titel", "deutsche-mittelstands-nachrichten.de"),
    ("https://www.example.org/719001/Titel", f"{SISTER}/719001/Titel", "deutsche-mittelstands-nachrichten.de"),
    (f"{SISTER}/politik", None, "deutsche-mittelstands-nachrichten.de"),
])
def test_pages_of_other_hosts_are_errors_naming_the_host(url, canonical, host):
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    record = parse(ARTICLE.format(html_attributes="", head=head, inside=""), url)
    assert record == {"kind": "error", "url": url,
                      "error": f"The page is from another host, {host}, not from Deutsche Wirtschafts Nachrichten: "
                               "it is not archived as a DWN page."}


@pytest.mark.parametrize(("url", "canonical", "expected"), [
    (f"{SITE}/718460/Slug", f"{SISTER}/1/x", f"{SITE}/718460/Slug"),
    ("http://127.0.0.1:8000/718460/Slug", f"{SITE}/718460/Slug", f"{SITE}/718460/Slug"),
    (f"https://web.archive.org/web/20150612083412/http://{SITE[8:]}/2015/06/12/Slug/", None,
     f"{SITE}/2015/06/12/slug/"),
])
def test_pages_on_dwn_by_url_or_canonical_link_stay_articles(url, canonical, expected):
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    record = parse(ARTICLE.format(html_attributes="", head=head, inside=""), url)
    assert (record["kind"], record["canonical_url"]) == ("article", expected)


def test_the_parse_command_exits_1_on_a_sister_site_page(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(ARTICLE.format(html_attributes="", head="", inside=""), encoding="utf-8")
    command = [sys.executable, "-m", "dwnscraper", "parse", str(page), "--url", f"{SISTER}/2016/09/24/slug/"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "deutsche-mittelstands-nachrichten.de, not from Deutsche Wirtschafts Nachrichten" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("char", list(INVISIBLE))
def test_invisible_characters_are_removed(char):
    assert clean(f"Wirt{char}schaft {char}und\xa0Politik{char}") == "Wirtschaft und Politik"


def test_every_text_field_is_cleaned_of_invisible_characters():
    shy, zwsp, wj, bom = "\u00ad", "\u200b", "\u2060", "\ufeff"
    html = f"""<html><head><script type="application/ld+json">{{"@type": "NewsArticle",
    "articleSection": "Wirt{shy}schaft"}}</script></head><body><article class="article">
    <h1 class="article-title">Wirt{shy}schafts{zwsp}krise in Euro{shy}pa</h1>
    <p class="article-lead">Die Kon{shy}junktur{wj} schwächelt.\u00a0DWN-Gastautor Hel{shy}mut K. Anheier erklärt.</p>
    <div class="article-meta"><time class="article-date">{bom}21.01.2026{zwsp} 09:00</time></div>
    <figure class="article-image"><img src="/i.jpg"><figcaption>Ein Ha{shy}fen. (Foto: d{zwsp}pa)</figcaption></figure>
    <div class="article-body"><p>{bom}Ers{shy}ter Absatz.</p><p>Zwei{wj}ter.</p></div></article>
    <section><div class="boxtext"><a href="/politik">Poli{shy}tik</a><a href="/719001/T">Die Schlag{shy}zeile</a>
    <div class="pubdate">21.01.2026</div>Der Schnip{shy}sel ...</div></section></body></html>"""
    record = parse(html)
    assert (record["section"], record["headline"], record["lead"]) == (
        "Wirtschaft", "Wirtschaftskrise in Europa",
        "Die Konjunktur schwächelt. DWN-Gastautor Helmut K. Anheier erklärt.")
    assert record["authors"] == ["Helmut K. Anheier"]
    assert (record["published_raw"], record["published_at"]) == ("21.01.2026 09:00", "2026-01-21T09:00:00+01:00")
    assert (record["image"]["caption"], record["image"]["credit"]) == ("Ein Hafen.", "dpa")
    assert [block["text"] for block in record["body"]] == ["Erster Absatz.", "Zweiter."]
    teaser = record["teasers"][0]
    assert (teaser["section"], teaser["headline"], teaser["snippet"]) == (
        "Politik", "Die Schlagzeile", "Der Schnipsel ...")


@pytest.mark.parametrize(("lead", "authors"), [
    ("DWN-Gastautor Helmut K. Anheier zeigt, wie es geht.", ["Helmut K. Anheier"]),
    ("DWN-Kolumnist John F. W. Kennedy erklärt.", ["John F. W. Kennedy"]),
    ("DWN-Gastautorin Ursula von der Leyen sagt etwas.", ["Ursula von der Leyen"]),
    ("DWN-Gastautor Prof. Dr. Max Otte meint.", ["Prof. Dr. Max Otte"]),
    ("DWN-Gastautor Karl-Heinz Müller erklärt.", ["Karl-Heinz Müller"]),
    ("Ein Text von DWN-Kolumnist Ronald Barazon.", ["Ronald Barazon"]),
    ("DWN-Gastautor Helmut K. zeigt nichts weiter.", ["Helmut"]),
])
def test_bylines_in_the_lead_keep_initials_and_particles(lead, authors):
    html = ARTICLE.format(html_attributes="", head="", inside="").replace(
        '<div class="article-meta">', f'<p class="article-lead">{lead}</p><div class="article-meta">')
    assert parse(html)["authors"] == authors


CLASSLESS = """<html><body><header><nav><a href="/politik">Politik</a><a href="/weltwirtschaft">Weltwirtschaft</a></nav>
</header>{kicker}<h1 class="q1">Die Schlagzeile des Artikels</h1>{between}<div class="q2">{date}</div>
<div class="q4">Lesezeit: 3 min</div>
<div class="q3"><p>Erster Absatz des Artikels mit etwas Text darin.</p><p>Zweiter Absatz des Artikels.</p></div>
</body></html>"""
LEAD = "Die Koalition hat sich in der Nacht nicht auf einen Haushalt einigen können, eine Arbeitsgruppe soll helfen."


def test_a_classless_page_takes_kicker_and_lead_with_warnings():
    record = parse(CLASSLESS.format(kicker='<div><a href="/politik">Politik</a></div>',
                                    between=f"<p>{LEAD}</p><div>Autor Deutsche Wirtschaftsnachrichten</div>",
                                    date="21.01.2026 09:00"))
    assert (record["section"], record["lead"]) == ("Politik", LEAD)
    assert "section taken from the kicker link before the headline; the layout's kicker markup is missing." \
        in record["warnings"]
    assert "lead taken from the text between the headline and the date line; the layout's lead markup is missing." \
        in record["warnings"]


def test_a_menu_link_is_no_kicker():
    record = parse(CLASSLESS.format(kicker="", between=f"<p>{LEAD}</p>", date="21.01.2026 09:00"))
    assert record["section"] is None
    assert "section not found in the page." in record["warnings"]


@pytest.mark.parametrize(("between", "date", "why"), [
    (f"<p>{LEAD}</p><p>{LEAD} Noch ein Satz.</p>", "21.01.2026 09:00",
     "lead not taken from the text before the date line: 2 blocks there could be it."),
    (f"<p>{LEAD}</p>", "Ohne Datum", None),
    ("<p>Kurz.</p>", "21.01.2026 09:00", None),
])
def test_an_unsure_lead_is_null_with_a_warning(between, date, why):
    record = parse(CLASSLESS.format(kicker='<a href="/politik">Politik</a>', between=between, date=date))
    assert record["lead"] is None
    assert "lead not found in the page." in record["warnings"]
    assert why is None or why in record["warnings"]


@pytest.mark.parametrize("lead", [
    "Am 1. Januar 2026 tritt das neue Gesetz in Kraft, doch viele Betriebe sind noch nicht vorbereitet darauf.",
    "Seit dem 01.01.2026 um 00:00 Uhr gilt die neue Regel für alle Betriebe, doch viele sind nicht vorbereitet.",
])
def test_a_date_in_the_lead_is_not_the_articles_date(lead):
    date_line = "Veröffentlicht am 12.01.2026 um 14:30 Uhr"
    record = parse(CLASSLESS.format(kicker="", between=f"<p>{lead}</p>", date=date_line))
    assert (record["lead"], record["published_raw"], record["published_at"]) == (
        lead, "12.01.2026 um 14:30 Uhr", "2026-01-12T14:30:00+01:00")
