"""Database trouble is the server's problem, never a 500 or a caller error.

Vapi ignores every answer but a 200, so a tool call always gets one, with a per-call ``error`` the
assistant can say, within a few seconds (the pool waits 2 s for a connection). Other endpoints answer 503.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row
from litestar.testing import TestClient

from voxbook.api.app import create_app
from voxbook.api.vapi_routes import UNAVAILABLE
from clinic_helpers import new_clinic
from conftest import HELPERS_SQL, TEST_CODE_PEPPER, run_cli
from vapi_helpers import AUTH, day, results, settings_for, tc, tool_calls
from voxbook.migrate import ensure_login_role
from voxbook.pgcluster import PgCluster

# Generous: proves a tool call no longer waits 30 s for a 503, without timing the machine.
ANSWER_BOUND_SECONDS = 5.0


def test_lost_database_connections_are_replaced_at_once(app_database_url, db):
    """Every pooled connection cut, as by a restart or failover: the pool checks a connection as it
    leaves, so the very next tool call gets a fresh one and succeeds (it used to get a 503). The check polls the
    socket (api.app.connection_check), so a cut is a backend that has exited: pg_terminate_backend(pid, timeout)
    waits for that (without it, the request could run while the backend is still handling its SIGTERM, which
    no restart or failover produces: they close the sockets before anything can reconnect)."""
    org, phone = new_clinic(db)
    name = "vapi-cut-test"
    url = app_database_url + ("&" if "?" in app_database_url else "?") + f"application_name={name}"
    payload = tool_calls(phone, [tc("u1", "check_availability", {"date": day()})])
    with TestClient(create_app(settings_for(url))) as c:
        assert "result" in results(c.post("/vapi/webhook", json=payload, headers=AUTH))[0]
        killed = db.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) AS n FROM pg_stat_activity "
                            "WHERE application_name = %s", [name]).fetchone()["n"]
        assert killed >= 1
        payload = tool_calls(phone, [tc("u2", "check_availability", {"date": day()})])
        assert "result" in results(c.post("/vapi/webhook", json=payload, headers=AUTH))[0]


def test_a_lock_wait_is_cut_short_and_spoken(app_database_url, db, database_url):
    """lock_timeout (3 s, set on the app role by `voxbook db migrate`): a tool call stuck behind a lock
    gets 200 and the spoken error instead of hanging; the next one, lock gone, succeeds."""
    org, phone = new_clinic(db)
    with TestClient(create_app(settings_for(app_database_url))) as c, psycopg.connect(database_url) as locker:
        locker.execute("LOCK TABLE voxbook.holds IN ACCESS EXCLUSIVE MODE")   # held until rollback
        started = time.monotonic()
        r = c.post("/vapi/webhook", json=tool_calls(phone, [tc("l1", "check_availability", {"date": day()}),
                                                           tc("l2", "check_availability", {"date": day(31)})]),
                   headers=AUTH)
        elapsed = time.monotonic() - started
        items = results(r)
        assert [i["toolCallId"] for i in items] == ["l1", "l2"]
        assert all(i.get("error") == UNAVAILABLE and "result" not in i for i in items)
        assert elapsed < ANSWER_BOUND_SECONDS   # cut at 3 s; the second call is not tried after the first
        locker.rollback()
        assert "result" in results(c.post("/vapi/webhook", headers=AUTH, json=tool_calls(
            phone, [tc("l3", "check_availability", {"date": day()})])))[0]


@pytest.fixture
def own_cluster() -> Iterator[tuple[PgCluster, str]]:
    """A throwaway cluster of its own, migrated like production, that the test may stop and start."""
    cluster = PgCluster.temporary(fsync=False)
    try:
        cluster.initdb()
        cluster.start()
        url = cluster.create_database("voxbook_outage")
        res = run_cli("db", "migrate", database_url=url, extra_env={"VOXBOOK_CODE_PEPPER": TEST_CODE_PEPPER})
        assert res.returncode == 0, res.stdout + res.stderr
        with psycopg.connect(url) as conn:
            conn.execute(HELPERS_SQL.read_text())
        ensure_login_role(url, "voxbook_app", code_pepper=TEST_CODE_PEPPER)
        yield cluster, url
    finally:
        cluster.cleanup()


def test_database_outage_tool_calls_get_a_spoken_error_fast_then_recover(own_cluster):
    cluster, url = own_cluster
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        org, phone = new_clinic(conn)
    app_url = cluster.url("voxbook_outage", user="voxbook_app")

    def tool_call(n: int) -> tuple[float, dict]:
        started = time.monotonic()
        r = c.post("/vapi/webhook", headers=AUTH, json=tool_calls(
            phone, [tc(f"o{n}-a", "check_availability", {"date": day()}),
                    tc(f"o{n}-b", "check_availability", {"date": day(31)})]))
        return time.monotonic() - started, r

    with TestClient(create_app(settings_for(app_url))) as c:
        _, r = tool_call(0)
        assert all("result" in i for i in results(r))

        cluster.stop()
        for n in range(1, 4):   # the pool's own reconnection attempts keep failing meanwhile
            elapsed, r = tool_call(n)
            items = results(r)   # asserts 200
            assert [i["toolCallId"] for i in items] == [f"o{n}-a", f"o{n}-b"]
            assert all(i.get("error") == UNAVAILABLE for i in items)
            assert elapsed < ANSWER_BOUND_SECONDS, elapsed
        # Not a tool call: the end-of-call report is Vapi's to retry, and a load balancer reads /health.
        r = c.post("/vapi/webhook", headers=AUTH, json={"message": {
            "type": "end-of-call-report", "call": {"id": "outage-call"}, "phoneNumber": {"number": phone}}})
        assert r.status_code == 503
        assert c.get("/health").status_code == 503   # the outage now lasts longer than the pool's reconnect_timeout

        cluster.start()
        restarted = time.monotonic()
        for n in range(10, 20):
            _, r = tool_call(n)
            if all("result" in i for i in results(r)):
                break
        recovered = time.monotonic() - restarted
        assert all("result" in i for i in results(r)), results(r)
        assert recovered < ANSWER_BOUND_SECONDS, recovered


def test_health_is_503_while_the_database_refuses_us(database_url, db):
    """A load balancer reads the status code: unreachable database, 503; back again, 200."""
    role = "voxbook_health_probe"
    db.execute(f"DROP ROLE IF EXISTS {role}")
    db.execute(f"CREATE ROLE {role} LOGIN IN ROLE voxbook_api")
    url = database_url.replace("postgresql://postgres@", f"postgresql://{role}@", 1)
    try:
        with TestClient(create_app(settings_for(url))) as c:
            assert c.get("/health").status_code == 200
            db.execute(f"ALTER ROLE {role} NOLOGIN")
            db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            r = c.get("/health")
            assert r.status_code == 503 and r.json()["database"] == "unreachable"
            db.execute(f"ALTER ROLE {role} LOGIN")
            for _ in range(10):
                r = c.get("/health")
                if r.status_code == 200:
                    break
            assert r.status_code == 200
    finally:
        db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
        db.execute(f"DROP ROLE IF EXISTS {role}")
