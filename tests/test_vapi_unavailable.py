"""Database trouble is the server's problem, reported as 503 (retry), never as a 500 or a caller error."""

from __future__ import annotations

from litestar.testing import TestClient

from api.app import create_app
from vapi_helpers import AUTH, day, new_clinic, settings_for, tc, tool_calls


def test_lost_database_connections_give_503_then_recover(app_database_url, db):
    org, phone = new_clinic(db)
    name = "vapi-503-test"
    url = app_database_url + ("&" if "?" in app_database_url else "?") + f"application_name={name}"
    payload = tool_calls(phone, [tc("u1", "check_availability", {"date": day()})])
    with TestClient(create_app(settings_for(url))) as c:
        # Every pooled connection is cut, as by a database restart or failover.
        killed = db.execute("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
                            "WHERE application_name = %s", [name]).fetchone()["n"]
        assert killed >= 1
        r = c.post("/vapi/webhook", json=payload, headers=AUTH)
        assert r.status_code == 503 and "unavailable" in r.json()["error"]
        # The pool drops broken connections: once the database answers again, so do we.
        for _ in range(3):
            r = c.post("/vapi/webhook", json=payload, headers=AUTH)
            if r.status_code == 200:
                break
        assert r.status_code == 200 and "result" in r.json()["results"][0]


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
