"""German dates as DWN prints them, read as aware datetimes in Europe/Berlin.

The site prints Berlin local time without a zone. :func:`find_date` is the one place a date is found in a
text, for every field that holds one (article dates, ``<time>`` elements, JSON-LD, teaser cards, search
results). It reads exactly, without dateparser: the numeric forms (``31.12.2021 20:40``, ``21.01.2026``,
``06.01.26``), the written ones (``Freitag, 25. Oktober 2019, 17:57 Uhr``, ``3. März 2025 um 14:05 Uhr``),
ISO strings from page metadata (``Z`` and offsets converted to Berlin) and the relative forms of teaser cards
(``vor 20 Minuten``, ``Heute, 00:05``, ``gestern``), each with an optional label (``Veröffentlicht am``,
``Aktualisiert:``, ``Stand:``). A printed time is never dropped; a date without one is 00:00. Any other short
text with a digit goes through one German :class:`dateparser.DateDataParser` built once.

Local times that do not exist or exist twice are read with ``fold=0`` (PEP 495): a time in the
spring gap takes the offset in force before the change and is normalized to the time that
exists (``30.03.2025 02:30`` is ``2025-03-30T03:30:00+02:00``); an ambiguous autumn time is its
first occurrence, still in summer time (``26.10.2025 02:30`` is ``2025-10-26T02:30:00+02:00``).

Relative dates are resolved against the time the page was fetched in Berlin time, never the clock at parse
time: elapsed seconds, minutes and hours (``vor 3 Stunden``) as exact elapsed time, days, weeks, months and
years on the calendar at 00:00, ``heute``/``gestern``/``vorgestern`` with a printed clock time as Berlin wall
time on that day. Fetched at 22:30 UTC on 13 May (00:30 on 14 May in Berlin), ``vor 45 Minuten`` is 13 May
and ``Heute, 00:05`` is 14 May. For dateparser, whose settings (RELATIVE_BASE included) are fixed when it is
built, relative results are read against a fixed base in 1901 and the offset is applied to the fetch time;
the base lies before any accepted year, so a result that dateparser took from it is recognised by its year.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

if TYPE_CHECKING:
    from dateparser import DateDataParser
    from dateparser.date import DateData

BERLIN = ZoneInfo("Europe/Berlin")

EARLIEST_YEAR = 1990
LATEST_YEAR = 2100
LONGEST_DATE_TEXT = 64
LONGEST_WHOLE_TEXT = 256
"""The longest text that may be one date as a whole, blanks and label included."""

_CLOCK = r"(?:,?\s*(?:um\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?:\s*Uhr)?|\s*Uhr)(?![\d:]))?"
"""A printed time after a date: ``17:57``, ``, 17:57 Uhr``, ``um 10:00 Uhr``, ``um 10 Uhr``."""
_NUMERIC = re.compile(
    r"(?<![\d.])(?P<day>\d{1,2})\.\s?(?P<month>\d{1,2})\.\s?(?P<year>\d{4}|\d{2})(?![\d])" + _CLOCK
)
MONTHS = {
    "Januar": 1, "Jänner": 1, "Jan": 1, "Februar": 2, "Feb": 2, "März": 3, "Maerz": 3, "Mär": 3, "Mrz": 3,
    "April": 4, "Apr": 4, "Mai": 5, "Juni": 6, "Jun": 6, "Juli": 7, "Jul": 7, "August": 8, "Aug": 8,
    "September": 9, "Sept": 9, "Sep": 9, "Oktober": 10, "Okt": 10, "November": 11, "Nov": 11,
    "Dezember": 12, "Dez": 12,
}
_WEEKDAY = r"(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag|Mo|Di|Mi|Do|Fr|Sa|So)\.?"
_WRITTEN_DATE = (
    rf"(?<!\d)(?P<day>\d{{1,2}})\.\s*"
    rf"(?P<month>{'|'.join(sorted(MONTHS, key=len, reverse=True))})\.?\s+(?P<year>\d{{4}})(?!\d)" + _CLOCK
)
_WRITTEN = re.compile(_WRITTEN_DATE)
"""A written date without its weekday, to search for: a pattern starting with a digit fails fast elsewhere."""
_WRITTEN_WHOLE = re.compile(rf"(?:{_WEEKDAY},?\s+)?" + _WRITTEN_DATE)
_WEEKDAY_BEFORE = re.compile(rf"(?<!\w){_WEEKDAY},?\s+$")
WEEKDAY_REACH = 16
"""How many characters before a written date its weekday (``Donnerstag, ``) takes."""
_AGO = re.compile(
    r"vor\s+(?P<count>\d{1,9}|einer|einem|eine|ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|zwölf)\s+"
    r"(?P<unit>Sekunden?|Minuten?|Stunden?|Tagen?|Wochen?|Monaten?|Monat|Jahren?)",
    re.IGNORECASE,
)
_DAY_WORD = re.compile(r"(?P<word>vorgestern|gestern|heute)" + _CLOCK, re.IGNORECASE)
_NUMBER_WORDS = {"ein": 1, "eine": 1, "einer": 1, "einem": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
                 "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "zwölf": 12}
_DAYS_BACK = {"heute": 0, "gestern": 1, "vorgestern": 2}
_ELAPSED_SECONDS = {"sek": 1, "min": 60, "stu": 3600}
_CALENDAR_UNITS = {"tag": "days", "woc": "weeks", "mon": "months", "jah": "years"}
_CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}|\d{1,2}\s*Uhr\b", re.IGNORECASE)
_ISO_FORM = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+\-Z]+)?")
_LABEL = (r"(?:(?:Zuletzt\s+)?(?P<updated>Aktualisiert)|Veröffentlicht|Erschienen|Stand)"
          r"(?:\s+(?:am|um))?\s*:?\s*(?:¦\s*)?")
_LEADING_LABEL = re.compile("^" + _LABEL, re.IGNORECASE)
_LABEL_BEFORE = re.compile(_LABEL + "$", re.IGNORECASE)
LABEL_REACH = 40
"""How many characters before a date its label (``Aktualisiert am``) may start."""
_FOUR_DIGITS = re.compile(r"\d{4}")
_DIGIT = re.compile(r"\d")

_RELATIVE_BASE = datetime(1901, 1, 15, 12, 0)


@cache
def dateparser() -> DateDataParser:
    """The one German dateparser parser, built (and its package imported, a tenth of a second) when a text first
    needs it: the site's own forms never do, so a parse of one page usually starts without it."""
    from dateparser import DateDataParser

    return DateDataParser(
        languages=["de"],
        settings={
            "RELATIVE_BASE": _RELATIVE_BASE,
            "TIMEZONE": "Europe/Berlin",
            "RETURN_AS_TIMEZONE_AWARE": False,
            "PREFER_DATES_FROM": "past",
            "PARSERS": ["relative-time", "absolute-time"],
            "REQUIRE_PARTS": ["day", "month", "year"],
        },
    )


class Found(NamedTuple):
    """A date found in a text: as printed (its label left out), the moment it names, whether its label says it is
    an update (``Aktualisiert:``), and where it stands in the text."""

    raw: str
    moment: datetime
    updated: bool = False
    start: int = 0


def parse_datetime(text: str, fetched_at: datetime | None = None) -> datetime | None:
    """A visible German date/time string -> aware datetime in Europe/Berlin, or None if it is not a date
    (or is relative and fetched_at is None). Date-only strings give 00:00 Berlin that day.

    A naive ``fetched_at`` is taken as Berlin local time.
    """
    found = read_date(text, fetched_at)
    return found.moment if found else None


def parse_date(text: str, fetched_at: datetime | None = None) -> date | None:
    """The Berlin calendar day of :func:`parse_datetime`, or None."""
    moment = parse_datetime(text, fetched_at)
    return moment.date() if moment else None


def read_date(text: str, fetched_at: datetime | None = None, *, general: bool = True) -> Found | None:
    """The date a whole text is (``Aktualisiert: 09.01.2026 08:02``, ``gestern, 18:30``), label left out of ``raw``.

    The site's forms, ISO strings and relative dates are read exactly; other short texts with a digit go through
    dateparser unless ``general`` is false. A text longer than :data:`LONGEST_WHOLE_TEXT` is none (and is not
    remembered).
    """
    return _read_whole(text, fetched_at, general) if len(text) <= LONGEST_WHOLE_TEXT else None


@lru_cache(maxsize=4096)
def _read_whole(text: str, fetched_at: datetime | None, general: bool) -> Found | None:
    """:func:`read_date`, remembered: the cards of a listing and the teasers of the pages of a day print the same few
    dates, and the cards of one page are read against one fetch time."""
    cleaned = " ".join(text.split())
    label = _LEADING_LABEL.match(cleaned)
    if label:
        cleaned = cleaned[label.end():]
    if not cleaned:
        return None
    moment = _read(cleaned, _to_berlin(fetched_at) if fetched_at is not None else None, general)
    if moment is None or not _plausible(moment):
        return None
    return Found(cleaned, moment, bool(label and label["updated"]))


def find_date(text: str, fetched_at: datetime | None = None, *, updated: bool = False) -> Found | None:
    """The first date in a text, or the one after an update label (``updated``): the one place dates are found.

    A text that is a date as a whole (:func:`read_date`) is that date, relative ones included. Inside a longer
    text only the printed forms count (``25.10.2019 17:57``, ``Freitag, 25. Oktober 2019, 17:57 Uhr``, with
    ``um … Uhr``): a ``heute`` in a sentence is no date.
    """
    whole = read_date(text, fetched_at)
    if whole is not None:
        return whole if whole.updated == updated else None
    return next((found for found in find_dates(text) if found.updated == updated), None)


def find_dates(text: str) -> Iterator[Found]:
    """Every valid printed date inside ``text`` (whitespace collapsed), in text order, each with its label's
    meaning."""
    text = " ".join(text.split())
    upcoming = {form: form.search(text) for form in (_NUMERIC, _WRITTEN)}  # searched lazily: callers stop early
    while any(upcoming.values()):
        form, match = min(((form, found) for form, found in upcoming.items() if found),
                          key=lambda pair: pair[1].start())
        upcoming[form] = form.search(text, match.end())
        moment = _from_match(match)
        if moment is None:
            continue
        start = match.start()
        weekday = _WEEKDAY_BEFORE.search(text, max(0, start - WEEKDAY_REACH), start) if form is _WRITTEN else None
        start = weekday.start() if weekday else start
        label = _LABEL_BEFORE.search(text, max(0, start - LABEL_REACH), start)
        yield Found(text[start:match.end()], moment, bool(label and label["updated"]), start)


def isoformat(moment: datetime) -> str:
    """An aware datetime as ISO 8601 in Berlin time, with seconds and offset."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r} has no offset to print")
    return moment.astimezone(BERLIN).isoformat(timespec="seconds")


def _plausible(moment: datetime) -> bool:
    return EARLIEST_YEAR <= moment.year <= LATEST_YEAR


def _berlin(wall_time: datetime) -> datetime | None:
    """Berlin wall time -> aware datetime; fold=0 for gaps and repeats, gaps normalized."""
    if not _plausible(wall_time):
        return None
    return wall_time.replace(tzinfo=BERLIN, fold=0).astimezone(UTC).astimezone(BERLIN)


def _to_berlin(moment: datetime) -> datetime | None:
    """Naive as Berlin wall time, aware converted; None outside the accepted years."""
    if moment.tzinfo is None:
        return _berlin(moment)
    if not _plausible(moment):
        return None
    return moment.astimezone(BERLIN)


def _read(text: str, fetched: datetime | None, general: bool) -> datetime | None:
    """The moment a whole cleaned text names, ``None`` when it is none; relative ones against ``fetched``."""
    relative = _AGO.fullmatch(text) or _DAY_WORD.fullmatch(text)
    if relative:
        return _from_relative(relative, fetched) if fetched is not None else None
    printed, moment = _read_printed(text)
    if printed:
        return moment
    if general and len(text) <= LONGEST_DATE_TEXT and _DIGIT.search(text):
        return _from_dateparser(text, fetched)
    return None


@lru_cache(maxsize=4096)
def _read_printed(text: str) -> tuple[bool, datetime | None]:
    """Whether a whole text is in a printed form or ISO, and the moment it names (``None`` for no real date).

    Remembered apart from the fetch time, which changes with every page while the printed dates repeat.
    """
    for form in (_NUMERIC, _WRITTEN_WHOLE):
        match = form.fullmatch(text)
        if match:
            return True, _from_match(match)
    if _ISO_FORM.fullmatch(text):
        return True, _from_iso(text)
    return False, None


def _from_match(match: re.Match[str]) -> datetime | None:
    """The Berlin moment of a printed date; ``None`` for a day or time that does not exist."""
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 2000
    month = MONTHS[match["month"]] if match["month"] in MONTHS else int(match["month"])
    try:
        wall_time = datetime(year, month, int(match["day"]), int(match["hour"] or 0), int(match["minute"] or 0))
    except ValueError:
        return None
    return _berlin(wall_time)


def _from_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _to_berlin(moment)


def _from_relative(match: re.Match[str], fetched: datetime) -> datetime | None:
    """``vor 20 Minuten`` as elapsed time before the fetch; days and longer on Berlin's calendar, at 00:00;
    ``gestern, 18:30`` as Berlin wall time on the day it names."""
    try:
        if "word" in match.re.groupindex:
            day = fetched.date() - timedelta(days=_DAYS_BACK[match["word"].lower()])
            return _berlin(datetime.combine(day, time(int(match["hour"] or 0), int(match["minute"] or 0))))
        count, unit = match["count"].lower(), match["unit"][:3].lower()
        amount = int(count) if count.isdigit() else _NUMBER_WORDS[count]
        if unit in _ELAPSED_SECONDS:
            return (fetched.astimezone(UTC) - timedelta(seconds=amount * _ELAPSED_SECONDS[unit])).astimezone(BERLIN)
        day = fetched.date() - relativedelta(**{_CALENDAR_UNITS[unit]: amount})
        return _berlin(datetime.combine(day, time(0)))
    except (OverflowError, ValueError):
        return None


def _from_dateparser(text: str, fetched_at: datetime | None) -> datetime | None:
    try:
        parsed = dateparser().get_date_data(text)
    except (ValueError, OverflowError):
        return None
    if parsed.date_obj is None:
        return None
    if parsed.date_obj.year >= EARLIEST_YEAR:
        return _berlin(parsed.date_obj)
    if _FOUR_DIGITS.search(text):
        return None
    return _resolve_relative(parsed, text, fetched_at)


def _resolve_relative(parsed: DateData, text: str, fetched_at: datetime | None) -> datetime | None:
    if fetched_at is None:
        return None
    fetched = _to_berlin(fetched_at)
    if fetched is None:
        return None
    read = parsed.date_obj
    try:
        if "time" in parsed.parts and not _CLOCK_TIME.search(text):
            return (fetched.astimezone(UTC) + (read - _RELATIVE_BASE)).astimezone(BERLIN)
        day = fetched.date() + relativedelta(read.date(), _RELATIVE_BASE.date())
    except (OverflowError, ValueError):
        return None
    clock = read.time() if "time" in parsed.parts else time(0)
    return _berlin(datetime.combine(day, clock))
