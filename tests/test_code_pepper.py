"""The key of the one-time code hashes (VOXBOOK_CODE_PEPPER), and the clock the app's roles cannot move.

The pepper is a role setting that `voxbook db migrate` makes from the environment: not in a pg_dump of the
database, never in the server log, and without it the code tools refuse politely and /health says why.
These run the real CLI against a second database of the session's cluster, migrated by its own superuser
role (role settings are cluster-wide: the main test database's roles keep their pepper).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import subprocess
from datetime import date, timedelta

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg.rows import dict_row

from voxbook.api.app import create_app
from conftest import run_cli
from vapi_helpers import settings_for
from voxbook.pgcluster import PgCluster
from voxbook.up import local_env

DB = "voxbook_pepper"
DBA = "pepper_dba"        # a superuser whose every statement the server logs
APP = "pepper_app"
NO_PEPPER = "nopepper_app"
DEMO_ORG = "a0000000-0000-0000-0000-000000000001"


@pytest.fixture(scope="module")
def peppered(pg_cluster: PgCluster) -> dict:
    """voxbook_pepper migrated by `voxbook db migrate --app-role pepper_app` with a fresh pepper, logging all."""
    pepper = secrets.token_urlsafe(32)
    with pg_cluster.connect(autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {DBA} LOGIN SUPERUSER")
        # The worst case for a secret in a statement: every statement and its duration logged.
        conn.execute(f"ALTER ROLE {DBA} SET log_statement = 'all'")
        conn.execute(f"ALTER ROLE {DBA} SET log_min_duration_statement = 0")
        conn.execute(f"CREATE DATABASE {DB} OWNER {DBA}")
    url = pg_cluster.url(DB, user=DBA)
    env = {"VOXBOOK_CODE_PEPPER": pepper}
    res = run_cli("db", "migrate", "--app-role", APP, database_url=url, extra_env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "code pepper set" in res.stdout
    res = run_cli("db", "seed-demo", database_url=url)
    assert res.returncode == 0, res.stdout + res.stderr
    return {"pepper": pepper, "url": url, "app_url": pg_cluster.url(DB, user=APP), "cluster": pg_cluster}


def _role_settings(url: str, role: str) -> list[str]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT s.setconfig FROM pg_db_role_setting AS s JOIN pg_roles AS r ON r.oid = s.setrole"
            " WHERE r.rolname = %s AND s.setdatabase = 0", [role]).fetchone()
    return row[0] if row else []


def test_migrate_stores_the_pepper_for_its_own_role_and_the_app_role(peppered):
    expected = f"voxbook.code_pepper={peppered['pepper']}"
    assert expected in _role_settings(peppered["url"], DBA)
    assert expected in _role_settings(peppered["url"], APP)
    with psycopg.connect(peppered["app_url"]) as conn:
        assert conn.execute("SELECT api.code_status()").fetchone()[0] == {"available": True}


def test_the_app_role_hashes_codes_with_the_migrated_pepper(peppered):
    day = (date.today() + timedelta(days=30)).isoformat()
    with psycopg.connect(peppered["app_url"], autocommit=True) as app, \
            psycopg.connect(peppered["url"], autocommit=True, row_factory=dict_row) as dba:
        slots = app.execute("SELECT api.check_availability(%s, %s::date, 'cal-smith')", [DEMO_ORG, day]).fetchone()[0]
        hold = app.execute("SELECT api.claim_slot_atomic(%s, 'cal-smith', %s::timestamptz, 'call-pepper', 'Pat',"
                           " '+15553090001')", [DEMO_ORG, slots["slots"][0]["time"]]).fetchone()[0]
        sent = app.execute("SELECT api.send_otp_code(%s, %s)", [hold["hold_id"], DEMO_ORG]).fetchone()[0]
        assert sent["success"] is True
        body = dba.execute("SELECT body FROM voxbook.sms_outbox WHERE id = %s", [sent["message_id"]]).fetchone()["body"]
        code = body.split(" ", 1)[0]
        assert len(code) == 6 and code.isdigit()
        row = dba.execute("SELECT otp_salt, otp_hash FROM voxbook.holds WHERE id = %s", [hold["hold_id"]]).fetchone()
        keyed = hmac.new(peppered["pepper"].encode(), bytes(row["otp_salt"]) + code.encode(), hashlib.sha256).digest()
        assert bytes(row["otp_hash"]) == keyed
        done = app.execute("SELECT api.verify_otp(%s, %s, %s)", [hold["hold_id"], DEMO_ORG, code]).fetchone()[0]
        assert done["success"] is True


def test_pg_dump_of_the_database_does_not_carry_the_pepper(peppered):
    cluster = peppered["cluster"]
    for extra in ([], ["--create"]):
        out = subprocess.run([str(cluster.bindir / "pg_dump"), *extra, "--dbname", peppered["url"]],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "CREATE TABLE voxbook.code_events" in out.stdout      # a real dump of the database
        assert peppered["pepper"] not in out.stdout


def test_the_pepper_is_not_in_the_server_log(peppered):
    log = peppered["cluster"].log_file.read_text(errors="replace")
    # Statement logging was on for the migrating role: its migration and the pepper step are there...
    assert "CREATE TABLE voxbook.code_events" in log
    assert "set_config" in log
    # ...but not the statement carrying the pepper.
    assert peppered["pepper"] not in log
    assert "SET voxbook.code_pepper" not in log


def test_migrate_refuses_a_short_pepper_without_showing_it(peppered):
    res = run_cli("db", "migrate", database_url=peppered["url"], extra_env={"VOXBOOK_CODE_PEPPER": "short-pepper-42"})
    assert res.returncode != 0
    assert "too short" in res.stderr
    assert "short-pepper-42" not in res.stdout + res.stderr
    assert f"voxbook.code_pepper={peppered['pepper']}" in _role_settings(peppered["url"], DBA)


@pytest.fixture(scope="module")
def no_pepper_url(pg_cluster: PgCluster, database_url: str) -> str:
    """A login role of the API without a code pepper, on the main test database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {NO_PEPPER} LOGIN IN ROLE voxbook_api")
    return pg_cluster.url("voxbook_test", user=NO_PEPPER)


def test_without_a_pepper_codes_are_refused_politely_and_nothing_is_sent(db, no_pepper_url):
    org = db.execute("SELECT tests.create_clinic('No Pepper Clinic') AS org").fetchone()["org"]
    day = date.today() + timedelta(days=30)
    hold = db.execute("SELECT api.claim_slot_atomic(%s, 'cal-a', tests.at(%s, %s::timestamp), 'call-np', 'Pat',"
                      " '+15553100001') AS j", [org, org, f"{day} 10:00"]).fetchone()["j"]
    with psycopg.connect(no_pepper_url, autocommit=True) as conn:
        assert conn.execute("SELECT api.code_status()").fetchone()[0] == {
            "available": False, "reason": "no pepper configured"}
        sent = conn.execute("SELECT api.send_otp_code(%s, %s)", [hold["hold_id"], org]).fetchone()[0]
    assert (sent["success"], sent["code"]) == (False, "codes_unavailable")
    outbox = db.execute("SELECT count(*) AS n FROM voxbook.sms_outbox WHERE hold_id = %s", [hold["hold_id"]]).fetchone()
    assert outbox["n"] == 0


def test_health_says_why_codes_are_off(no_pepper_url, app_database_url):
    with TestClient(create_app(settings_for(no_pepper_url))) as client:
        r = client.get("/health")
    assert r.status_code == 200     # the database answers; another instance would have no pepper either
    assert r.json()["codes"] == "no pepper configured" and r.json()["database"] == "ok"
    with TestClient(create_app(settings_for(app_database_url))) as client:
        r = client.get("/health")
    assert (r.status_code, r.json()["status"], r.json()["codes"]) == (200, "ok", "ok")


def test_voxbook_up_generates_the_pepper_once(tmp_path, monkeypatch):
    monkeypatch.delenv("VOXBOOK_CODE_PEPPER", raising=False)
    (tmp_path / "local.env").write_text("VAPI_SECRET=kept\nADMIN_TOKEN=also-kept\n")   # an older installation
    first = local_env(tmp_path)
    assert first["VAPI_SECRET"] == "kept" and len(first["VOXBOOK_CODE_PEPPER"]) >= 32
    assert local_env(tmp_path)["VOXBOOK_CODE_PEPPER"] == first["VOXBOOK_CODE_PEPPER"]
    assert stat.S_IMODE(os.stat(tmp_path / "local.env").st_mode) == 0o600


# -- the clock (issue 10, item 11) ------------------------------------------------------------------

def _claim_in_2020(conn: psycopg.Connection, org: str) -> str | None:
    """Freeze the clock at 2020-01-06 and claim 2020-01-07 10:00; the SQLSTATE, or None when it is held."""
    conn.execute("SET voxbook.frozen_now = '2020-01-06 15:00:00+00'")
    try:
        r = conn.execute("SELECT api.claim_slot_atomic(%s, 'cal-a', '2020-01-07 10:00 America/New_York', 'call-2020',"
                         " 'Pat', '+15553110001')", [org]).fetchone()[0]
    except psycopg.Error as exc:
        return exc.sqlstate
    assert r["success"] is True, r
    return None


def test_the_app_role_cannot_move_the_clock(db, database_url, app_database_url):
    org = db.execute("SELECT tests.create_clinic('Clock Clinic') AS org").fetchone()["org"]
    with psycopg.connect(app_database_url) as conn:
        assert _claim_in_2020(conn, org) == "VB400"     # the frozen time is ignored: 2020 is in the past
        conn.rollback()
    with psycopg.connect(database_url) as conn:          # a superuser session (the tests) may freeze it
        assert _claim_in_2020(conn, org) is None
        conn.rollback()
