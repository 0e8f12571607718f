"""How each locale writes a day and a time, from CLDR (through babel), as SQL data.

``python -m voxbook.locale_data > db/functions/19_locale_data.sql`` writes the rows of
``voxbook.locale_formats`` that the database's formatters (db/functions/17_locales.sql) fill in: month and
weekday names, the day periods, and for each of our three forms a template derived from babel's CLDR
pattern for a skeleton, with named fields:

- the day ("Wed, Jan 15", "mié, 15 ene"): skeleton ``MMMEd``;
- the day and time ("Wed, Jan 15 at 10:00 AM", "mié, 15 ene, 10:00"): the day and the time joined by the
  locale's "at time" date-time pattern of width long (CLDR dateTimeFormats-atTime, which babel keeps as
  ``datetime_formats_relative``; the plain long pattern where the locale has none);
- the spoken time ("10 AM", "3:30 PM" / "10:00", "15:30"): on a 12-hour locale (its short time pattern
  uses ``h`` or ``K``) skeleton ``h`` for a whole hour and ``hm`` otherwise; on a 24-hour locale ``Hm``.

Babel tokenises the patterns (``babel.dates.tokenize_pattern``); every field becomes a ``{name}`` of the
template (:data:`FIELDS`), and a field outside that set stops the generator rather than be written wrong.
One deliberate difference from CLDR: narrow and ordinary no-break spaces (U+202F, U+00A0, which CLDR puts
before "AM" and in some names) are written as plain spaces. They are not in GSM-7, so an SMS would turn
them into '?' (or go UCS-2 at three times the cost), and a voice reads both alike. tests/test_locales.py
compares the database's output with babel's own formatting, with that one substitution.

The file is committed and re-applied on every migrate; tests/test_locale_data.py fails when it differs
from this generator's output (a babel upgrade with new CLDR data, or an edit here).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import babel
from babel import Locale
from babel.dates import tokenize_pattern

# The locales generated: every language of the message catalogue (en, es; db/functions/16_messages*.sql)
# with the regions clinics call from -- English: US, Canada, UK, Ireland, Australia, New Zealand, India;
# Spanish: Spain, Mexico, the US (a large share of US callers prefer Spanish), Colombia, Argentina -- and
# the languages of the other countries we take numbers for (Germany, Austria, France, Canada, Italy; issue
# 13), ready for their catalogues: until a language has its texts, a clinic or call asking for it gets its
# texts and dates in English (internal.resolve_locale), never a German date in an English sentence.
LOCALES = (
    "en", "en-US", "en-CA", "en-GB", "en-IE", "en-AU", "en-NZ", "en-IN",
    "es", "es-ES", "es-MX", "es-US", "es-CO", "es-AR",
    "de", "de-DE", "de-AT",
    "fr", "fr-FR", "fr-CA",
    "it", "it-IT",
)
# What a clinic gets when its locale is unknown, and what the API's own fields (local_time, spoken_time
# of a result, the dashboard) use: the behaviour before clinics had a locale.
DEFAULT_LOCALE = "en-US"

# CLDR pattern field (letter, count) -> the template's placeholder, filled by internal.fill_time.
FIELDS: dict[tuple[str, int], str] = {
    ("E", 1): "weekday_abbr", ("E", 2): "weekday_abbr", ("E", 3): "weekday_abbr", ("E", 4): "weekday_wide",
    ("M", 1): "month", ("M", 2): "month2", ("M", 3): "month_abbr", ("M", 4): "month_wide",
    ("d", 1): "day", ("d", 2): "day2",
    ("h", 1): "hour12", ("h", 2): "hour12_2",
    ("H", 1): "hour24", ("H", 2): "hour24_2",
    ("m", 1): "minute", ("m", 2): "minute2",
    ("a", 1): "period", ("a", 2): "period", ("a", 3): "period",
}
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


def plain(text: str) -> str:
    """CLDR text with its no-break spaces as plain ones (see the module's docstring)."""
    return text.translate(_SPACES)


@dataclass(frozen=True)
class LocaleFormats:
    locale: str
    hour_cycle: int
    months_abbr: list[str]
    months_wide: list[str]
    weekdays_abbr: list[str]   # Monday first (ISO)
    weekdays_wide: list[str]
    am: str
    pm: str
    day_pattern: str
    time_pattern: str
    day_time_pattern: str
    day_template: str
    day_time_template: str
    spoken_hour_template: str
    spoken_time_template: str


def babel_locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def twelve_hour(loc: Locale) -> bool:
    return any(kind == "field" and value[0] in "hK" for kind, value in tokenize_pattern(loc.time_formats["short"].pattern))


def skeletons(loc: Locale) -> dict[str, str]:
    """The CLDR skeleton of each form: day, time (day and time), spoken_hour, spoken_time."""
    if twelve_hour(loc):
        return {"day": "MMMEd", "time": "hm", "spoken_hour": "h", "spoken_time": "hm"}
    return {"day": "MMMEd", "time": "Hm", "spoken_hour": "Hm", "spoken_time": "Hm"}


def day_time_glue(loc: Locale) -> str:
    """The locale's pattern joining a date ({1}) and a time ({0}): "at time", long, else long."""
    at_time = loc._data["datetime_formats_relative"].get("long")
    return str(at_time) if at_time else str(loc.datetime_formats["long"])


def skeleton_pattern(loc: Locale, skeleton: str) -> str:
    return loc.datetime_skeletons[skeleton].pattern


def day_time_pattern(loc: Locale) -> str:
    s = skeletons(loc)
    return (day_time_glue(loc).replace("{1}", skeleton_pattern(loc, s["day"]))
            .replace("{0}", skeleton_pattern(loc, s["time"])))


def template(pattern: str, where: str) -> str:
    out: list[str] = []
    for kind, value in tokenize_pattern(pattern):
        if kind == "chars":
            if "{" in value or "}" in value:
                raise ValueError(f"{where}: literal braces in {pattern!r}")
            out.append(plain(value))
            continue
        name = FIELDS.get(value)
        if name is None:
            raise ValueError(f"{where}: field {value[0] * value[1]!r} of {pattern!r} has no placeholder; add it "
                             "to FIELDS and to internal.fill_time")
        out.append("{" + name + "}")
    return "".join(out)


def formats(tag: str) -> LocaleFormats:
    loc = babel_locale(tag)
    s = skeletons(loc)
    months, days = loc.months["format"], loc.days["format"]
    periods = loc.day_periods["format"]["abbreviated"]
    day_time = day_time_pattern(loc)
    return LocaleFormats(
        locale=tag,
        hour_cycle=12 if twelve_hour(loc) else 24,
        months_abbr=[plain(months["abbreviated"][i]) for i in range(1, 13)],
        months_wide=[plain(months["wide"][i]) for i in range(1, 13)],
        weekdays_abbr=[plain(days["abbreviated"][i]) for i in range(7)],
        weekdays_wide=[plain(days["wide"][i]) for i in range(7)],
        am=plain(periods["am"]),
        pm=plain(periods["pm"]),
        day_pattern=skeleton_pattern(loc, s["day"]),
        time_pattern=skeleton_pattern(loc, s["time"]),
        day_time_pattern=day_time,
        day_template=template(skeleton_pattern(loc, s["day"]), f"{tag} day"),
        day_time_template=template(day_time, f"{tag} day and time"),
        spoken_hour_template=template(skeleton_pattern(loc, s["spoken_hour"]), f"{tag} spoken hour"),
        spoken_time_template=template(skeleton_pattern(loc, s["spoken_time"]), f"{tag} spoken time"),
    )


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _arr(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(_lit(v) for v in values) + "]"


COLUMNS = ("locale", "hour_cycle", "months_abbr", "months_wide", "weekdays_abbr", "weekdays_wide", "am", "pm",
           "day_pattern", "time_pattern", "day_time_pattern", "day_template", "day_time_template", "spoken_hour_template",
           "spoken_time_template")


def _row(f: LocaleFormats) -> str:
    values = []
    for c in COLUMNS:
        v = getattr(f, c)
        values.append(str(v) if isinstance(v, int) else _arr(v) if isinstance(v, list) else _lit(v))
    return "    (" + ",\n     ".join(values) + ")"


def render() -> str:
    rows = [formats(tag) for tag in LOCALES]
    default = next(f for f in rows if f.locale == DEFAULT_LOCALE)
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "locale")
    return f"""-- GENERATED by `python -m voxbook.locale_data > db/functions/19_locale_data.sql` from babel {babel.__version__}
-- (CLDR data): do not edit; change voxbook/locale_data.py and regenerate (tests/test_locale_data.py checks).
-- How each locale writes a day and a time: names, day periods, and the templates internal.fill_time fills
-- (db/functions/17_locales.sql). Upserted on every migrate; a locale no longer listed is deleted (a clinic or
-- call still naming it falls back to its language's row, then to {DEFAULT_LOCALE}).

INSERT INTO voxbook.locale_formats AS t ({", ".join(COLUMNS)}) VALUES
{(","  + chr(10)).join(_row(f) for f in rows)}
ON CONFLICT (locale) DO UPDATE SET {updates}
 WHERE ({", ".join("t." + c for c in COLUMNS if c != "locale")})
       IS DISTINCT FROM ({", ".join("excluded." + c for c in COLUMNS if c != "locale")});

-- The default locale's row as a value, for the formatters that take no locale (internal.local_text(ts, tz)
-- and its siblings: the API's own fields and the dashboard), so they read no table: the same keys as
-- internal.locale() gives (to_jsonb of the row).
CREATE FUNCTION internal.default_locale_formats() RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $json$
    SELECT {_lit(json.dumps({c: getattr(default, c) for c in COLUMNS}, ensure_ascii=False, sort_keys=True))}::jsonb
$json$;

DO $$
DECLARE
    keep CONSTANT text[] := {_arr([f.locale for f in rows])};
BEGIN
    DELETE FROM voxbook.locale_formats AS t WHERE NOT t.locale = ANY (keep);
END
$$;
"""


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
