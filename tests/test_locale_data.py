"""db/functions/19_locale_data.sql is what `python -m voxbook.locale_data` writes from babel's CLDR data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from voxbook import locale_data

COMMITTED = Path(__file__).resolve().parent.parent / "db" / "functions" / "19_locale_data.sql"


def test_committed_file_is_the_generators_output():
    generated = subprocess.run([sys.executable, "-m", "voxbook.locale_data"], check=True, capture_output=True,
                               text=True).stdout
    assert generated == COMMITTED.read_text(), (
        "db/functions/19_locale_data.sql is stale: run `python -m voxbook.locale_data > db/functions/19_locale_data.sql`")


def test_every_generated_locale_has_only_known_fields_and_no_no_break_space():
    for tag in locale_data.LOCALES:
        f = locale_data.formats(tag)
        for text in (f.day_template, f.day_time_template, f.spoken_hour_template, f.spoken_time_template,
                     f.am, f.pm, *f.months_abbr, *f.weekdays_abbr):
            assert "\u202f" not in text and "\u00a0" not in text, (tag, text)
    assert locale_data.DEFAULT_LOCALE in locale_data.LOCALES


def test_an_unknown_field_stops_the_generator():
    try:
        locale_data.template("G y", "test")
    except ValueError as exc:
        assert "has no placeholder" in str(exc)
    else:
        raise AssertionError("an era field was written without a placeholder")
