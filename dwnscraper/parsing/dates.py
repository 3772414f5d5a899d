"""German dates as DWN prints them, read as aware datetimes in Europe/Berlin.

The site prints Berlin local time without a zone. Its fixed forms (``31.12.2021 20:40``,
``21.01.2026``, ``06.01.26``) and ISO strings from page metadata are read exactly, without
dateparser. Everything else (month names, weekdays, ``vor 3 Stunden``, ``gestern, 14:30``,
``heute``) goes through one German :class:`dateparser.DateDataParser` built once.

Local times that do not exist or exist twice are read with ``fold=0`` (PEP 495): a time in the
spring gap takes the offset in force before the change and is normalized to the time that
exists (``30.03.2025 02:30`` is ``2025-03-30T03:30:00+02:00``); an ambiguous autumn time is its
first occurrence, still in summer time (``26.10.2025 02:30`` is ``2025-10-26T02:30:00+02:00``).

Relative dates are resolved against the time the page was fetched, never the clock at parse
time. dateparser fixes its settings, RELATIVE_BASE included, when the parser is built, so the
parser reads them against a fixed base in 1901 and the offset from that base is applied to
``fetched_at`` in Berlin local time: elapsed hours and minutes (``vor 3 Stunden``) as exact
elapsed time, days, weeks, months and years on the calendar, a printed clock time
(``gestern, 14:30``) as Berlin wall time. Relative forms without a clock time name a day and
give 00:00, like date-only strings. The base lies before any accepted year, so a result that
dateparser took from it is recognised by its year.
"""

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateparser import DateDataParser
from dateparser.date import DateData
from dateutil.relativedelta import relativedelta

BERLIN = ZoneInfo("Europe/Berlin")

EARLIEST_YEAR = 1990
LATEST_YEAR = 2100
LONGEST_DATE_TEXT = 64

_FIXED_FORM = re.compile(
    r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4}|\d{2})"
    r"(?:,?\s+(?:um\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?:\s*Uhr)?)?"
)
_ISO_FORM = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+\-Z]+)?")
_PRINTED_DATETIME = re.compile(r"(?<![\d.])\d{1,2}\.\d{1,2}\.\d{4}(?:\s+\d{1,2}:\d{2})?(?![\d:])")
_LEADING_LABEL = re.compile(r"^(?:Aktualisiert|Veröffentlicht|Stand)\s*:?\s*", re.IGNORECASE)
_CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}|\d{1,2}\s*Uhr\b", re.IGNORECASE)
_FOUR_DIGITS = re.compile(r"\d{4}")

_RELATIVE_BASE = datetime(1901, 1, 15, 12, 0)
_DATEPARSER = DateDataParser(
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


def parse_datetime(text: str, fetched_at: datetime | None = None) -> datetime | None:
    """A visible German date/time string -> aware datetime in Europe/Berlin, or None if it is not a date
    (or is relative and fetched_at is None). Date-only strings give 00:00 Berlin that day.

    A naive ``fetched_at`` is taken as Berlin local time.
    """
    cleaned = _clean(text)
    if not cleaned:
        return None
    fixed, moment = _in_fixed_form(cleaned)
    if not fixed:
        moment = _from_other_forms(cleaned, fetched_at)
    if moment is None or not _plausible(moment):
        return None
    return moment


def parse_date(text: str, fetched_at: datetime | None = None) -> date | None:
    """The Berlin calendar day of :func:`parse_datetime`, or None."""
    moment = parse_datetime(text, fetched_at)
    return moment.date() if moment else None


def find_datetime(text: str) -> str | None:
    """The first `DD.MM.YYYY HH:MM` (or `DD.MM.YYYY`) found inside a longer text, as printed; for text cues.

    Only a valid date counts: ``99.99.2025`` is skipped.
    """
    for match in _PRINTED_DATETIME.finditer(text):
        if parse_datetime(match.group()) is not None:
            return match.group()
    return None


def isoformat(moment: datetime) -> str:
    """An aware datetime as ISO 8601 in Berlin time, with seconds and offset."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r} has no offset to print")
    return moment.astimezone(BERLIN).isoformat(timespec="seconds")


def _clean(text: str) -> str:
    collapsed = " ".join(text.split())
    return _LEADING_LABEL.sub("", collapsed)


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


@lru_cache(maxsize=4096)
def _in_fixed_form(text: str) -> tuple[bool, datetime | None]:
    """Whether ``text`` is in one of the site's fixed forms, and the moment it names (``None`` for no real date).

    Remembered: the cards of a listing and the teasers of the pages of a day print the same few dates.
    """
    fixed = _FIXED_FORM.fullmatch(text)
    return (True, _from_fixed_form(fixed)) if fixed else (False, None)


def _from_other_forms(text: str, fetched_at: datetime | None) -> datetime | None:
    """An ISO string exactly, anything else short enough through dateparser."""
    if _ISO_FORM.fullmatch(text):
        return _from_iso(text)
    if len(text) <= LONGEST_DATE_TEXT:
        return _from_dateparser(text, fetched_at)
    return None


def _from_fixed_form(match: re.Match[str]) -> datetime | None:
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 2000
    try:
        wall_time = datetime(
            year,
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
        )
    except ValueError:
        return None
    return _berlin(wall_time)


def _from_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _to_berlin(moment)


def _from_dateparser(text: str, fetched_at: datetime | None) -> datetime | None:
    try:
        parsed = _DATEPARSER.get_date_data(text)
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
