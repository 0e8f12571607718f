"""db/schema.sql: the schema that the migrations and function files produce, in one file.

A table's shape is spread over several migrations and its functions over ``db/functions``; this snapshot
shows what a freshly migrated database holds (``pg_dump --schema-only``, normalised: no dates, versions or
session settings, so it only changes when the schema does). tests/test_schema_snapshot.py migrates an empty
database and fails with a diff when the file is stale, as procrastinate checks its ``schema.sql``.

Regenerate it (needs the PostgreSQL server binaries, as the tests do)::

    python -m voxbook.schema_snapshot > db/schema.sql
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from voxbook.migrate import migrate, to_libpq_url
from voxbook.pgcluster import PgCluster, find_bindir

# A file of the repository (a development tool), not of the installed package.
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "db" / "schema.sql"
REGENERATE = "python -m voxbook.schema_snapshot > db/schema.sql"
HEADER = (
    "-- The schema of a freshly migrated voxbook database: db/migrations and db/functions applied by\n"
    "-- `voxbook db migrate`. Generated, do not edit: " + REGENERATE + "\n"
    "-- (tests/test_schema_snapshot.py fails when it is stale).\n"
)
# yoyo's bookkeeping is not our schema.
_EXCLUDED_TABLES = ("public._yoyo_*", "public.yoyo_lock")
# Lines that change with the pg_dump version or run, not with the schema: its banner, the session
# settings it emits (new ones come with new versions), PostgreSQL 17's random \restrict keys, and the
# bare "--" lines framing each "-- Name: ..." line.
_NOISE = re.compile(
    r"^(--|-- Dumped (from|by) .*|-- PostgreSQL database dump( complete)?|SET .*|"
    r"SELECT pg_catalog\.set_config\(.*|\\(un)?restrict .*)$"
)


def normalise(dump: str) -> str:
    """The dump without noise lines, with at most one blank line in a row, under HEADER."""
    lines = [line.rstrip() for line in dump.splitlines() if not _NOISE.match(line)]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return HEADER + "\n" + text + "\n"


def dump_schema(database_url: str, bindir: Path | None = None) -> str:
    """``pg_dump --schema-only`` of a database, normalised (see :func:`normalise`)."""
    pg_dump = (bindir or find_bindir()) / "pg_dump"
    cmd = [str(pg_dump), "--schema-only", "--no-owner", "--no-tablespaces"]
    cmd += [f"--exclude-table={t}" for t in _EXCLUDED_TABLES]
    cmd += ["--dbname", to_libpq_url(database_url)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"pg_dump exited {res.returncode}: {res.stderr.strip()}")
    return normalise(res.stdout)


def snapshot_of(empty_database_url: str, bindir: Path | None = None) -> str:
    """Migrate an empty database (no pepper: a role setting, not schema) and return its snapshot."""
    migrate(empty_database_url, code_pepper=None)
    return dump_schema(empty_database_url, bindir)


def generate() -> str:
    """The snapshot, made in a throwaway cluster (started and deleted here)."""
    cluster = PgCluster.temporary(fsync=False)
    try:
        cluster.initdb()
        cluster.start()
        return snapshot_of(cluster.create_database("voxbook_schema"), cluster.bindir)
    finally:
        cluster.cleanup()


def main() -> int:
    sys.stdout.write(generate())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
