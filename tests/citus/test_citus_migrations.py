"""Later migrations on a database Citus already distributes (db/README.md "Writing functions that run on Citus
too"): a new table made a "Citus local table" by its key to organizations can have no identity column and no
key to another clinic table; `CALL voxbook.distribute_if_citus(...)` (migration 0019) distributes it at once
instead, so one migration may do both. And the rule of db/citus/10_distribute_tables.sql: every voxbook table
without org_id is a reference table, whatever its name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from conftest import REPO_ROOT

from voxbook.citus_cluster import CitusCluster
from voxbook.migrate import MigrationError, migrate

# A clinic table with an identity column and keys to organizations (a reference table) and to calendars (a
# distributed one), and a table without org_id that it refers to: what db/README.md once said needs two
# migrations. {call} is where the migration distributes its tables, or nothing.
THROWAWAY = """-- depends: {last}
CREATE TABLE voxbook.throwaway_kinds (kind text PRIMARY KEY);
{call_kinds}
INSERT INTO voxbook.throwaway_kinds (kind) VALUES ('memo'), ('recall');
CREATE TABLE voxbook.throwaway_notes (
    org_id      uuid NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    calendar_id text NOT NULL,
    kind        text NOT NULL,
    PRIMARY KEY (org_id, id)
);
{call_notes}
ALTER TABLE voxbook.throwaway_notes ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.throwaway_notes ADD FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id);
ALTER TABLE voxbook.throwaway_notes ADD FOREIGN KEY (kind) REFERENCES voxbook.throwaway_kinds (kind);
"""


def _partition(conn: psycopg.Connection, table: str) -> tuple[str, str, int] | None:
    row = conn.execute("SELECT partmethod::text, repmodel::text, colocationid FROM pg_dist_partition"
                       " WHERE logicalrelid = %s::regclass", (table,)).fetchone()
    return tuple(row) if row else None


def test_a_migration_distributes_its_new_tables_at_once(citus_cluster: CitusCluster, tmp_path: Path):
    name = "voxbook_later_migrations"
    url = citus_cluster.create_database(name)
    try:
        db_dir = tmp_path / "db"
        shutil.copytree(REPO_ROOT / "db", db_dir)
        assert migrate(url, db_dir=db_dir).citus_files   # a distributed database, as in production
        with psycopg.connect(url, autocommit=True) as conn:
            org = conn.execute("INSERT INTO voxbook.organizations (name, phone, time_zone)"
                               " VALUES ('Later Clinic', '+15557190001', 'America/Chicago') RETURNING id").fetchone()[0]
            other = conn.execute("INSERT INTO voxbook.organizations (name, phone, time_zone)"
                                 " VALUES ('Other Clinic', '+15557190002', 'Europe/Berlin') RETURNING id").fetchone()[0]
            conn.execute("INSERT INTO voxbook.calendars (org_id, id, display_name) VALUES (%s, 'cal-a', 'Dr. A'),"
                         " (%s, 'cal-b', 'Dr. B')", (org, other))

        last = sorted(p.stem for p in (db_dir / "migrations").glob("*.sql"))[-1]
        migration = db_dir / "migrations" / "9001_throwaway_notes.sql"
        # Without the helper Citus refuses it (the restriction is real) and nothing of it stays.
        migration.write_text(THROWAWAY.format(last=last, call_kinds="", call_notes=""))
        with pytest.raises(MigrationError):
            migrate(url, db_dir=db_dir)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT to_regclass('voxbook.throwaway_notes')").fetchone()[0] is None

        migration.write_text(THROWAWAY.format(
            last=last, call_kinds="CALL voxbook.distribute_if_citus('voxbook.throwaway_kinds');",
            call_notes="CALL voxbook.distribute_if_citus('voxbook.throwaway_notes');"))
        assert migrate(url, db_dir=db_dir).migrations_applied == ["9001_throwaway_notes"]
        with psycopg.connect(url, autocommit=True) as conn:
            holds = _partition(conn, "voxbook.holds")
            notes = _partition(conn, "voxbook.throwaway_notes")
            assert notes is not None and notes[0] == "h" and notes[2] == holds[2], (notes, holds)  # colocated
            assert _partition(conn, "voxbook.throwaway_kinds")[1] == "t"                         # reference
            ids = [conn.execute("INSERT INTO voxbook.throwaway_notes (org_id, calendar_id, kind)"
                                " VALUES (%s, 'cal-a', 'memo') RETURNING id", (org,)).fetchone()[0] for _ in range(2)]
            assert ids[1] > ids[0]                                                # the identity column works
            with pytest.raises(psycopg.errors.ForeignKeyViolation):               # another clinic's calendar
                conn.execute("INSERT INTO voxbook.throwaway_notes (org_id, calendar_id, kind)"
                             " VALUES (%s, 'cal-b', 'memo')", (org,))
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                conn.execute("INSERT INTO voxbook.throwaway_notes (org_id, calendar_id, kind)"
                             " VALUES (%s, 'cal-a', 'no-such-kind')", (org,))
        # The next migrate finds nothing to do, and the keys are still there.
        assert migrate(url, db_dir=db_dir).migrations_applied == []
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                                " AND conrelid = 'voxbook.throwaway_notes'::regclass").fetchone()[0] == 3
    finally:
        citus_cluster.drop_database(name)


def test_every_table_without_org_id_is_a_reference_table(voxbook_citus: str):
    with psycopg.connect(voxbook_citus) as conn:
        wrong = conn.execute(
            "SELECT c.oid::regclass::text, p.partmethod::text, p.repmodel::text"
            "  FROM pg_class AS c LEFT JOIN pg_dist_partition AS p ON p.logicalrelid = c.oid"
            " WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            "   AND c.oid <> 'voxbook.sms_inbound'::regclass"
            "   AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = c.oid AND a.attname = 'org_id'"
            "                      AND NOT a.attisdropped)"
            "   AND p.repmodel IS DISTINCT FROM 't'").fetchall()
        assert wrong == []
        assert _partition(conn, "voxbook.time_zones")[1] == "t"
        assert _partition(conn, "voxbook.sms_inbound")[0] == "h"
        # Organizations (a reference table) refers to time_zones (another one): a clinic's zone is checked on
        # the coordinator as on one node.
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO voxbook.organizations (name, phone, time_zone)"
                         " VALUES ('Zone Clinic', '+15557190003', 'CST')")
