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
