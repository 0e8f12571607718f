"""db/schema.sql is exactly what the migrations and function files produce (as procrastinate checks its
schema.sql): a fresh database is migrated and dumped the way voxbook/schema_snapshot.py makes the file."""

from __future__ import annotations

import difflib

from voxbook.pgcluster import PgCluster
from voxbook.schema_snapshot import REGENERATE, SCHEMA_FILE, normalise, snapshot_of


def test_migrations_produce_exactly_db_schema_sql(pg_cluster: PgCluster) -> None:
    url = pg_cluster.create_database("voxbook_schema_snapshot")
    produced = snapshot_of(url, pg_cluster.bindir)
    stored = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
    if produced != stored:
        diff = "".join(difflib.unified_diff(stored.splitlines(keepends=True), produced.splitlines(keepends=True),
                                            "db/schema.sql", "migrated database", n=2))
        lines = diff.splitlines()
        shown = "\n".join(lines[:120]) + (f"\n... ({len(lines) - 120} more diff lines)" if len(lines) > 120 else "")
        raise AssertionError(f"db/schema.sql is stale; regenerate it with `{REGENERATE}`\n{shown}")


def test_snapshot_has_no_version_or_session_noise() -> None:
    dump = ("--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.8\n"
            "-- Dumped by pg_dump version 15.8\n\\restrict abc123\nSET statement_timeout = 0;\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\n\n\n\n"
            "--\n-- Name: api; Type: SCHEMA; Schema: -; Owner: -\n--\n\nCREATE SCHEMA api;\n"
            "CREATE FUNCTION api.f() RETURNS int\n    LANGUAGE sql\n    SET search_path TO 'pg_catalog'\n    AS $$ SELECT 1 $$;\n"
            "\\unrestrict abc123\n")
    text = normalise(dump)
    for noise in ("version 15.8", "restrict", "statement_timeout", "set_config", "database dump", "\n--\n", "\n\n\n"):
        assert noise not in text, noise
    # a function's own SET clause is schema, kept
    assert "CREATE SCHEMA api;" in text and "    SET search_path TO 'pg_catalog'" in text
