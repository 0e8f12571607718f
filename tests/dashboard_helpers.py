"""Shared pieces of the dashboard tests: a real uvicorn server on 127.0.0.1 (the app as voxbook_app),
clinics with a schedule for tomorrow, tokens, and Vapi end-of-call reports."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from voxbook.api.app import create_app
from voxbook.settings import Settings

VAPI_SECRET = "dash-vapi-secret-" + secrets.token_hex(8)


@dataclass
class Server:
    base_url: str
    server: uvicorn.Server
    app: Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(app_database_url: str) -> Iterator[Server]:
    """The real app under a real uvicorn in a thread: SSE, cookies and the LISTEN hub as in production."""
    app = create_app(Settings(database_url=app_database_url, vapi_secret=VAPI_SECRET))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start for the dashboard tests")
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{port}", server, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def tomorrow(db, org: str) -> str:
    """Tomorrow's date in the clinic's zone: always bookable, whatever the hour of the test run."""
    return str(db.execute(
        "SELECT ((now() AT TIME ZONE o.time_zone)::date + 1)::text AS d FROM voxbook.organizations AS o WHERE o.id = %s",
        [org]).fetchone()["d"])


def book(db, org: str, calendar: str, local: str, name: str, phone: str, service: str | None = None,
         call_sid: str | None = None, confirm: bool = True) -> dict[str, Any]:
    """Claims `local` (clinic time, 'YYYY-MM-DD HH:MM') and, unless confirm=False, confirms it at the desk."""
    hold = db.execute(
        "SELECT api.claim_slot_atomic(org_id => %s, calendar_id => %s, slot_time => tests.at(%s, %s::timestamp),"
        " call_sid => %s, patient_name => %s, patient_phone => %s, service => %s) AS r",
        [org, calendar, org, local, call_sid, name, phone, service]).fetchone()["r"]
    assert hold["success"], hold
    if not confirm:
        return hold
    appt = db.execute("SELECT api.confirm_held_slot(hold_id => %s, org_id => %s, staff_user => 'desk') AS r",
                      [hold["hold_id"], org]).fetchone()["r"]
    assert appt["success"], appt
    return appt


def dashboard_token(db, org: str) -> str:
    return db.execute("SELECT api.issue_dashboard_token(%s, 'tests') ->> 'token' AS t", [org]).fetchone()["t"]


def end_of_call_report(clinic_phone: str, call_id: str, *, caller: str, name: str, transcript: str,
                       summary: str, minutes: int = 8, service: str = "teeth-whitening") -> dict[str, Any]:
    """Vapi's end-of-call-report for a long, interested call: scores hot (>= 70) without a booking."""
    return {"message": {
        "type": "end-of-call-report",
        "call": {"id": call_id, "type": "inboundPhoneCall", "customer": {"number": caller}},
        "phoneNumber": {"number": clinic_phone},
        "customer": {"number": caller},
        "startedAt": "2026-01-15T15:00:00.000Z",
        "endedAt": f"2026-01-15T15:{minutes:02d}:00.000Z",
        "endedReason": "customer-ended-call",
        "artifact": {"transcript": transcript},
        "analysis": {"summary": summary,
                     "structuredData": {"patientName": name, "service": service, "sentiment": "positive"}},
    }}


def post_report(base_url: str, payload: dict[str, Any]) -> dict[str, Any]:
    resp = httpx.post(f"{base_url}/vapi/webhook", json=payload, headers={"X-Vapi-Secret": VAPI_SECRET}, timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body.get("hot") is True, body
    return body


def login(base_url: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    resp = client.post("/dashboard/login", data={"token": token})
    assert resp.status_code == 303, resp.text
    return client
