"""Tests that fail when the harness or `voxbook db migrate` is broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from conftest import REPO_ROOT, run_cli
from voxbook.migrate import migrate
from voxbook.pgcluster import PgCluster

PROBE_SQL = "CREATE FUNCTION api.zz_probe() RETURNS int LANGUAGE sql AS 'select 42';\n"


def test_server_answers(db):
    row = db.execute("SELECT current_database() AS db, 1 + 1 AS two").fetchone()
    assert row == {"db": "voxbook_test", "two": 2}


def test_required_extensions_installed(db):
    names = {r["extname"] for r in db.execute("SELECT extname FROM pg_extension")}
    assert {"btree_gist", "pgcrypto", "pgtap"} <= names


def test_app_role_can_log_in(app_database_url):
    with psycopg.connect(app_database_url) as conn:
        user, is_member = conn.execute(
            "SELECT current_user, pg_has_role(current_user, 'voxbook_api', 'MEMBER')"
        ).fetchone()
    assert (user, is_member) == ("voxbook_app", True)


def test_migrate_cli_is_idempotent(database_url):
    res = run_cli("db", "migrate", database_url=database_url)
    assert res.returncode == 0, res.stderr
    assert "0 migration(s) applied" in res.stdout


def test_migrate_reapplies_function_files(pg_cluster: PgCluster, tmp_path: Path):
    copy = tmp_path / "db"
    shutil.copytree(REPO_ROOT / "db", copy)
    (copy / "functions").mkdir(exist_ok=True)
    (copy / "functions" / "zz_probe.sql").write_text(PROBE_SQL)

    url = pg_cluster.create_database("voxbook_probe")
    probe = "SELECT to_regprocedure('api.zz_probe()') IS NOT NULL"

    result = migrate(url, db_dir=copy)
    assert result.function_files[-1] == "zz_probe.sql"
    with psycopg.connect(url) as conn:
        assert conn.execute(probe).fetchone() == (True,)
        assert conn.execute("SELECT api.zz_probe()").fetchone() == (42,)

    # Same database, the real db/: the probe must vanish because the first function file
    # drops and recreates schema api.
    result = migrate(url)
    assert result.migrations_applied == []
    with psycopg.connect(url) as conn:
        assert conn.execute(probe).fetchone() == (False,)


def test_migrate_cli_fails_cleanly_when_db_unreachable(tmp_path: Path):
    secret = "pw-Do-Not-Print-7"
    url = f"postgresql://voxbook:{secret}@/voxbook?host={tmp_path / 'nowhere'}&port=1"
    res = run_cli("db", "migrate", database_url=url, timeout=60)
    assert res.returncode != 0
    err = res.stderr.strip()
    assert err.startswith("voxbook: error:"), err
    assert "\n" not in err, err
    assert "Traceback" not in res.stderr
    assert secret not in res.stderr + res.stdout


def test_cli_without_database_url_is_a_usage_error():
    res = run_cli("db", "migrate", database_url=None, timeout=60)
    assert res.returncode == 2
    assert res.stderr.strip() == "voxbook: error: no database: set DATABASE_URL or pass --database-url"
