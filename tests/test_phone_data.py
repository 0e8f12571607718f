"""db/functions/18_country_data.sql is exactly what `python -m voxbook.phone_data` makes from the installed
phonenumbers (as tests/test_schema_snapshot.py checks db/schema.sql): the database reads numbers with the same
libphonenumber metadata as Python."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import phonenumbers

from voxbook.phone_data import render, rows

DATA_FILE = Path(__file__).resolve().parent.parent / "db" / "functions" / "18_country_data.sql"
REGENERATE = "python -m voxbook.phone_data > db/functions/18_country_data.sql"


def test_committed_country_data_is_the_generators_output() -> None:
    produced = subprocess.run([sys.executable, "-m", "voxbook.phone_data"], capture_output=True, text=True,
                              check=True).stdout
    stored = DATA_FILE.read_text()
    if produced != stored:
        diff = "".join(difflib.unified_diff(stored.splitlines(keepends=True), produced.splitlines(keepends=True),
                                            "db/functions/18_country_data.sql", "generator", n=1))
        raise AssertionError(f"18_country_data.sql is stale (phonenumbers {phonenumbers.__version__}); "
                             f"regenerate it with `{REGENERATE}`\n{diff[:6000]}")


def test_every_region_libphonenumber_knows_is_a_row() -> None:
    regions = [r[0] for r in rows()]
    assert regions == sorted(phonenumbers.SUPPORTED_REGIONS) and len(regions) > 240
    by_iso = {r[0]: r for r in rows()}
    assert by_iso["GB"][1:4] == ("44", True, "0") and by_iso["US"][1:4] == ("1", True, "1")
    assert by_iso["IT"][3] is None and by_iso["IT"][4] is None       # Italy keeps its leading 0
    assert by_iso["CA"][1:3] == ("1", False)                         # +1 numbers are read by US rules
    assert sum(1 for r in rows() if r[2]) == len({r[1] for r in rows()})   # one main region per calling code


def test_the_database_holds_exactly_the_generated_rows(db) -> None:
    stored = db.execute("SELECT count(*) AS n, count(*) FILTER (WHERE main_region) AS main FROM voxbook.countries"
                        ).fetchone()
    assert stored == {"n": len(rows()), "main": sum(1 for r in rows() if r[2])}
    gb = db.execute("SELECT calling_code, national_prefix, possible_lengths, example FROM voxbook.countries "
                    "WHERE iso_code = 'GB'").fetchone()
    assert gb == {"calling_code": "44", "national_prefix": "0", "possible_lengths": [7, 9, 10],
                  "example": "07400 123456"}
    assert render().count("\n    ('") == len(rows())
