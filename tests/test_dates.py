from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dwnscraper.parsing import dates
from dwnscraper.parsing.dates import BERLIN, find_date, isoformat, parse_date, parse_datetime

FETCHED_AT = datetime(2026, 1, 21, 10, 0, tzinfo=UTC)  # 11:00 in Berlin


def iso(text, fetched_at=None):
    moment = parse_datetime(text, fetched_at)
    return isoformat(moment) if moment else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31.12.2021 20:40", "2021-12-31T20:40:00+01:00"),
        ("30.06.2023 14:12", "2023-06-30T14:12:00+02:00"),
        ("24.09.2016 01:03", "2016-09-24T01:03:00+02:00"),
        ("13.04.2020 10:22", "2020-04-13T10:22:00+02:00"),
        ("01.01.2020 00:00", "2020-01-01T00:00:00+01:00"),
        ("21.01.2026", "2026-01-21T00:00:00+01:00"),
        ("06.01.26", "2026-01-06T00:00:00+01:00"),
        ("15.07.19", "2019-07-15T00:00:00+02:00"),
        ("1.2.2025 8:05", "2025-02-01T08:05:00+01:00"),
        ("09.01.2026 06:15 Uhr", "2026-01-09T06:15:00+01:00"),
        ("  13.04.2020\xa0\xa010:22\n", "2020-04-13T10:22:00+02:00"),
        ("Aktualisiert: 09.01.2026 08:02", "2026-01-09T08:02:00+01:00"),
        ("Aktualisiert:\xa009.01.2026", "2026-01-09T00:00:00+01:00"),
    ],
)
def test_fixed_forms(text, expected):
    assert iso(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Spring forward, 30.03.2025: 02:00-03:00 does not exist; read with the winter offset.
        ("30.03.2025 01:59", "2025-03-30T01:59:00+01:00"),
        ("30.03.2025 02:00", "2025-03-30T03:00:00+02:00"),
        ("30.03.2025 02:30", "2025-03-30T03:30:00+02:00"),
        ("30.03.2025 03:00", "2025-03-30T03:00:00+02:00"),
        # Fall back, 26.10.2025: 02:00-03:00 happens twice; fold=0 takes the first (summer time).
        ("26.10.2025 01:59", "2025-10-26T01:59:00+02:00"),
        ("26.10.2025 02:30", "2025-10-26T02:30:00+02:00"),
        ("26.10.2025 03:00", "2025-10-26T03:00:00+01:00"),
    ],
)
def test_dst_transitions(text, expected):
    assert iso(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21. Januar 2026", "2026-01-21T00:00:00+01:00"),
        ("3. März 2025, 14:05 Uhr", "2025-03-03T14:05:00+01:00"),
        ("3. März 2025 um 14:05 Uhr", "2025-03-03T14:05:00+01:00"),
        ("Dienstag, 21. Januar 2026", "2026-01-21T00:00:00+01:00"),
        ("3. Mär 2025", "2025-03-03T00:00:00+01:00"),
        ("12. Sept. 2025", "2025-09-12T00:00:00+02:00"),
        ("1. Juli 2024, 09:00 Uhr", "2024-07-01T09:00:00+02:00"),
        ("21.\xa0Januar\xa02026", "2026-01-21T00:00:00+01:00"),
        ("30. März 2025, 02:30 Uhr", "2025-03-30T03:30:00+02:00"),
        ("26. Oktober 2025, 02:30 Uhr", "2025-10-26T02:30:00+02:00"),
    ],
)
def test_written_dates(text, expected):
    assert iso(text) == expected


@pytest.mark.parametrize(
    ("text", "fetched_at", "expected"),
    [
        ("vor 3 Stunden", FETCHED_AT, "2026-01-21T08:00:00+01:00"),
        ("vor 90 Minuten", FETCHED_AT, "2026-01-21T09:30:00+01:00"),
        ("vor einer Stunde", FETCHED_AT, "2026-01-21T10:00:00+01:00"),
        ("vor 2 Tagen", FETCHED_AT, "2026-01-19T00:00:00+01:00"),
        ("vor 1 Woche", FETCHED_AT, "2026-01-14T00:00:00+01:00"),
        ("vor 2 Monaten", FETCHED_AT, "2025-11-21T00:00:00+01:00"),
        ("gestern", FETCHED_AT, "2026-01-20T00:00:00+01:00"),
        ("gestern, 14:30", FETCHED_AT, "2026-01-20T14:30:00+01:00"),
        ("heute", FETCHED_AT, "2026-01-21T00:00:00+01:00"),
        ("heute, 09:12 Uhr", FETCHED_AT, "2026-01-21T09:12:00+01:00"),
        (" heute,\xa009:12\xa0Uhr ", FETCHED_AT, "2026-01-21T09:12:00+01:00"),
        # 23:30 UTC is already the next day in Berlin.
        ("heute", datetime(2026, 1, 20, 23, 30, tzinfo=UTC), "2026-01-21T00:00:00+01:00"),
        ("gestern, 14:30", datetime(2026, 1, 20, 23, 30, tzinfo=UTC), "2026-01-20T14:30:00+01:00"),
        # A naive fetch time is Berlin local time.
        ("vor 3 Stunden", datetime(2026, 1, 21, 11, 0), "2026-01-21T08:00:00+01:00"),
        # Elapsed time across the spring change: 03:30 CEST minus 3 h is 23:30 CET the day before.
        ("vor 3 Stunden", datetime(2025, 3, 30, 1, 30, tzinfo=UTC), "2025-03-29T23:30:00+01:00"),
        # Across the autumn change: 03:30 CET minus 1 h and 2 h are the two 02:30s.
        ("vor 1 Stunde", datetime(2025, 10, 26, 2, 30, tzinfo=UTC), "2025-10-26T02:30:00+01:00"),
        ("vor 2 Stunden", datetime(2025, 10, 26, 2, 30, tzinfo=UTC), "2025-10-26T02:30:00+02:00"),
        # A clock time is Berlin wall time, whatever the offset on the fetch day.
        ("gestern, 14:30", datetime(2025, 3, 30, 8, 0, tzinfo=UTC), "2025-03-29T14:30:00+01:00"),
    ],
)
def test_relative_dates_use_fetch_time(text, fetched_at, expected):
    assert iso(text, fetched_at) == expected


def test_elapsed_time_is_exact_across_dst():
    fetched_at = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert fetched_at - parse_datetime("vor 3 Stunden", fetched_at) == timedelta(hours=3)


@pytest.mark.parametrize("text", ["vor 3 Stunden", "gestern, 14:30", "heute", "vor 2 Tagen"])
def test_relative_dates_without_fetch_time_are_none(text):
    assert parse_datetime(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-09T06:15:00+01:00", "2026-01-09T06:15:00+01:00"),
        ("2026-01-09T06:15", "2026-01-09T06:15:00+01:00"),
        ("2026-01-09", "2026-01-09T00:00:00+01:00"),
        ("2023-06-30T12:12:00Z", "2023-06-30T14:12:00+02:00"),
        ("2023-06-30T12:12:00+00:00", "2023-06-30T14:12:00+02:00"),
        ("2025-03-30T02:30", "2025-03-30T03:30:00+02:00"),
    ],
)
def test_iso_metadata(text, expected):
    assert iso(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\xa0",
        "Lesezeit: 3 min",
        "Deutsche Wirtschaftsnachrichten",
        "31.02.2025",
        "31.02.2025 10:00",
        "32.01.2026",
        "21.13.2026",
        "21.01.2026 24:00",
        "21.01.2026 10:60",
        "01.01.1899",
        "01.01.3026",
        "01.01.0001 00:00",
        "31.12.9999 23:59",
        "21. Januar 1850",
        "21. Januar 3000",
        "31. Februar 2025",
        "21. Januar",
        "14:30",
        "1700000000",
        "2026-13-01",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2100-12-31T23:30:00-05:00",
        "vor 99999999 Jahren",
    ],
)
def test_not_a_date(text):
    assert parse_datetime(text, FETCHED_AT) is None


@pytest.mark.parametrize(
    "fetched_at",
    [datetime(9999, 12, 31, 23, 30, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 30)],
)
def test_absurd_fetch_times_give_none(fetched_at):
    assert parse_datetime("vor 3 Stunden", fetched_at) is None
    assert parse_datetime("gestern, 14:30", fetched_at) is None


def test_results_are_berlin_aware():
    for text in ["31.12.2021 20:40", "21. Januar 2026", "2023-06-30T12:12:00Z", "vor 3 Stunden"]:
        assert parse_datetime(text, FETCHED_AT).tzinfo is BERLIN


@pytest.mark.parametrize(
    ("text", "fetched_at", "expected"),
    [
        ("21.01.2026", None, date(2026, 1, 21)),
        ("31.12.2021 20:40", None, date(2021, 12, 31)),
        ("2026-01-20T23:30:00+00:00", None, date(2026, 1, 21)),
        ("gestern", FETCHED_AT, date(2026, 1, 20)),
        ("gestern", None, None),
        ("kein Datum", None, None),
    ],
)
def test_parse_date(text, fetched_at, expected):
    assert parse_date(text, fetched_at) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13.04.2020 10:22\xa0\xa0Aktualisiert: 13.04.2020 11:00", "13.04.2020 10:22"),
        ("Autor DWN 09.01.2026 06:15 Lesezeit: 3 min", "09.01.2026 06:15"),
        ("Lesezeit: 3 min 21.01.2026 Netflix ...", "21.01.2026"),
        ("vom 13.04.2020\xa010:22 Uhr", "13.04.2020 10:22 Uhr"),
        ("Am 13.04.2020 um 10:22", "13.04.2020 um 10:22"),
        ("Veröffentlicht am 15.08.2021 um 10:00 Uhr", "15.08.2021 um 10:00 Uhr"),
        ("Freitag, 25. Oktober 2019, 17:57 Uhr Lesezeit: 3 min", "Freitag, 25. Oktober 2019, 17:57 Uhr"),
        ("Aktualisiert: 25.10.2019 18:28 ¦ Stand: 24.10.2019", "24.10.2019"),
        ("99.99.2025 und 01.02.2025 08:00", "01.02.2025 08:00"),
        ("06.01.26", "06.01.26"),
        ("gestern, 18:30", "gestern, 18:30"),
        ("Die Regierung hat heute beschlossen", None),
        ("Version 1.2.20255", None),
        ("Kein Datum hier", None),
        ("", None),
    ],
)
def test_find_date(text, expected):
    found = find_date(text, FETCHED_AT)
    assert (found.raw if found else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13.04.2020 10:22\xa0\xa0Aktualisiert: 13.04.2020 11:00", "13.04.2020 11:00"),
        ("Aktualisiert: Freitag, 25. Oktober 2019, 18:28 Uhr", "Freitag, 25. Oktober 2019, 18:28 Uhr"),
        ("Zuletzt aktualisiert am 15.08.2021 um 12:00 Uhr", "15.08.2021 um 12:00 Uhr"),
        ("13.04.2020 10:22", None),
    ],
)
def test_find_update_date(text, expected):
    found = find_date(text, FETCHED_AT, updated=True)
    assert (found.raw if found else None) == expected


def test_isoformat():
    assert isoformat(datetime(2021, 12, 31, 19, 40, 12, 345, tzinfo=UTC)) == "2021-12-31T20:40:12+01:00"
    assert isoformat(datetime(2023, 6, 30, 14, 12, tzinfo=BERLIN)) == "2023-06-30T14:12:00+02:00"


def test_isoformat_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        isoformat(datetime(2021, 12, 31, 20, 40))


class _Tripwire:
    """Stands in for the module's dateparser parser and records every use."""

    def __init__(self, real):
        self.real = real
        self.calls = []

    def get_date_data(self, text):
        self.calls.append(text)
        return self.real.get_date_data(text)


@pytest.fixture
def tripwire(monkeypatch):
    wire = _Tripwire(dates.dateparser())
    monkeypatch.setattr(dates, "dateparser", lambda: wire)
    return wire


def test_fixed_forms_and_iso_never_reach_dateparser(tripwire):
    texts = ["31.12.2021 20:40", "21.01.2026", "06.01.26", "31.02.2025", "2026-01-09T06:15:00+01:00"]
    assert [iso(text) for text in texts] == [
        "2021-12-31T20:40:00+01:00",
        "2026-01-21T00:00:00+01:00",
        "2026-01-06T00:00:00+01:00",
        None,
        "2026-01-09T06:15:00+01:00",
    ]
    assert find_date("Stand 13.04.2020 10:22 Uhr").raw == "13.04.2020 10:22 Uhr"
    assert tripwire.calls == []


def test_written_and_relative_forms_never_reach_dateparser(tripwire):
    assert iso("Freitag, 21. Januar 2026, 17:57 Uhr") == "2026-01-21T17:57:00+01:00"
    assert iso("vor 3 Stunden", FETCHED_AT) == "2026-01-21T08:00:00+01:00"
    assert iso("Heute, 00:05", FETCHED_AT) == "2026-01-21T00:05:00+01:00"
    assert tripwire.calls == []


def test_other_forms_use_the_one_dateparser(tripwire):
    assert iso("Jan 21, 2026") == "2026-01-21T00:00:00+01:00"
    assert iso("Lesezeit") is None
    assert tripwire.calls == ["Jan 21, 2026"]


def test_relative_dates_follow_the_fetch_time_not_the_clock():
    fetched_in_2016 = datetime(2016, 9, 24, 9, 0, tzinfo=UTC)
    assert iso("gestern, 14:30", fetched_in_2016) == "2016-09-23T14:30:00+02:00"
    assert iso("vor 2 Tagen", FETCHED_AT + timedelta(days=400)) == "2027-02-23T00:00:00+01:00"


@given(st.text(max_size=80), st.none() | st.datetimes(timezones=st.just(UTC)))
def test_arbitrary_text_never_raises(text, fetched_at):
    moment = parse_datetime(text, fetched_at)
    assert moment is None or moment.tzinfo is BERLIN
    assert parse_date(text, fetched_at) == (moment.date() if moment else None)
    found = find_date(text, fetched_at)
    assert found is None or found.moment.tzinfo is BERLIN


_DATEISH_TOKENS = st.sampled_from(
    ["vor", "in", "3", "99999", "Stunden", "Tagen", "Monaten", "Jahren", "gestern", "heute", "morgen", "um",
     ",", ":", ".", "-", "T", "Z", "14:30", "24:61", "21.", "31.02.", "Januar", "Mär", "Sept.", "2026", "0001",
     "9999", "26", "Uhr", "MEZ", "+02:00", "Aktualisiert:", "Dienstag", "\xa0", " "]
)


@given(st.lists(_DATEISH_TOKENS, max_size=8).map("".join), st.none() | st.datetimes(timezones=st.just(UTC)))
def test_date_like_text_never_raises(text, fetched_at):
    moment = parse_datetime(text, fetched_at)
    assert moment is None or (moment.tzinfo is BERLIN and 1990 <= moment.year <= 2100)


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31, 23, 59)))
def test_printed_wall_time_round_trips(wall_time):
    wall_time = wall_time.replace(second=0, microsecond=0, fold=0)  # a printed time is read as its first occurrence
    moment = parse_datetime(wall_time.strftime("%d.%m.%Y %H:%M"))
    assert moment.astimezone(UTC) == wall_time.replace(tzinfo=BERLIN).astimezone(UTC)
    assert moment.replace(tzinfo=None) in (wall_time, wall_time + timedelta(hours=1))
