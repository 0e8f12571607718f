"""The database's dates and times (db/functions/17_locales.sql over 19_locale_data.sql) are babel's, for every
generated locale, at many instants: ordinary days, every hour of a day, and the DST changes of New York,
London, Madrid and Mexico City (Mexico has had none since 2022: the same wall clock all year)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton

from voxbook import locale_data
from voxbook.locale_data import babel_locale, day_time_glue, plain, skeletons

ZONES = ("America/New_York", "Europe/London", "Europe/Madrid", "America/Mexico_City")


def instants() -> list[datetime]:
    out: list[datetime] = []
    # Around the DST changes of 2030 in each zone (US: Mar 10 / Nov 3; EU: Mar 31 / Oct 27), every 30 minutes
    # for six hours across the change, plus Mexico City's old April/October dates.
    for start in ("2030-03-10T04:00", "2030-11-03T03:00", "2030-03-31T00:00", "2030-10-27T00:00",
                  "2030-04-07T06:00", "2030-10-27T05:00"):
        t0 = datetime.fromisoformat(start).replace(tzinfo=UTC)
        out += [t0 + timedelta(minutes=30 * k) for k in range(13)]
    # Every hour of one day (midnight, noon, 12-hour edges), every month's and weekday's name, odd minutes.
    t0 = datetime(2031, 1, 1, tzinfo=UTC)
    out += [t0 + timedelta(hours=h) for h in range(24)]
    out += [datetime(2031, m, 1 + m, 13 + m % 5, (7 * m) % 60, tzinfo=UTC) for m in range(1, 13)]
    out += [datetime(2031, 6, d, 23, 59, tzinfo=UTC) for d in range(1, 8)]
    return out


def babel_forms(tag: str, at: datetime, zone: str) -> tuple[str, str, str]:
    """(day, day and time, spoken time) as babel formats them, no-break spaces made plain."""
    loc = babel_locale(tag)
    local = at.astimezone(ZoneInfo(zone))
    s = skeletons(loc)
    day = format_skeleton(s["day"], local, locale=loc)
    time = format_skeleton(s["time"], local, locale=loc)
    spoken = format_skeleton(s["spoken_hour"] if local.minute == 0 else s["spoken_time"], local, locale=loc)
    # The "at time" glue is a pattern too: its quoted literals unquoted, as babel's format_datetime does.
    glue = day_time_glue(loc).replace("''", "\0").replace("'", "").replace("\0", "'")
    return plain(day), plain(glue.replace("{1}", day).replace("{0}", time)), plain(spoken)


@pytest.mark.parametrize("tag", locale_data.LOCALES)
def test_sql_formats_are_babels(db, tag):
    points = instants()
    rows = db.execute(
        """SELECT z, t, internal.local_day(t, z, l) AS day, internal.local_text(t, z, l) AS day_time,
                  internal.spoken_time(t, z, l) AS spoken
             FROM unnest(%s::timestamptz[]) AS t, unnest(%s::text[]) AS z, internal.locale(%s) AS l
            ORDER BY z, t""",
        [points, list(ZONES), tag]).fetchall()
    assert len(rows) == len(points) * len(ZONES)
    mismatches = []
    for r in rows:
        expected = babel_forms(tag, r["t"], r["z"])
        got = (r["day"], r["day_time"], r["spoken"])
        if got != expected:
            mismatches.append((r["z"], r["t"].isoformat(), got, expected))
    assert not mismatches, mismatches[:5]


def test_examples_read_as_people_write_them(db):
    def forms(tag: str, at: str, zone: str = "America/New_York") -> tuple[str, str, str]:
        r = db.execute("SELECT internal.local_day(%s, %s, l) AS d, internal.local_text(%s, %s, l) AS t, "
                       "internal.spoken_time(%s, %s, l) AS s FROM internal.locale(%s) AS l",
                       [at, zone, at, zone, at, zone, tag]).fetchone()
        return r["d"], r["t"], r["s"]

    assert forms("en-US", "2030-01-15 15:00Z") == ("Tue, Jan 15", "Tue, Jan 15 at 10:00 AM", "10 AM")
    assert forms("en-US", "2030-01-15 20:30Z") == ("Tue, Jan 15", "Tue, Jan 15 at 3:30 PM", "3:30 PM")
    assert forms("es", "2030-01-16 09:00Z", "Europe/Madrid") == ("mié, 16 ene", "mié, 16 ene, 10:00", "10:00")
    assert forms("es", "2030-01-16 14:30Z", "Europe/Madrid")[2] == "15:30"
    assert forms("en-GB", "2030-01-16 10:00Z", "Europe/London")[1] == "Wed 16 Jan at 10:00"
    # an unknown region falls back to its language, an unknown language to en-US
    assert forms("es-PE", "2030-01-16 09:00Z", "Europe/Madrid") == forms("es", "2030-01-16 09:00Z", "Europe/Madrid")
    assert forms("xx-YY", "2030-01-15 15:00Z") == forms("en-US", "2030-01-15 15:00Z")
    # the formatters without a locale are en-US (the API's fields, the dashboard): as before locales existed
    r = db.execute("SELECT internal.when_parts('2030-03-10 15:00Z', 'America/New_York') AS p").fetchone()
    assert r["p"] == {"day": "Sun, Mar 10", "spoken_time": "11 AM", "local_time": "Sun, Mar 10 at 11:00 AM"}
