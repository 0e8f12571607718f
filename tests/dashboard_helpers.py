"""Shared pieces of the dashboard tests: a real uvicorn server on 127.0.0.1 (the app as voxbook_app),
clinics with a schedule for tomorrow, staff accounts signed in, and Vapi end-of-call reports.

Signing in as a staff member of a role (for any dashboard test, the front desk's included)::

    def test_x(live_server, db, staff_client):
        org, _ = new_clinic(db, "X Dental")
        desk = staff_client(org, role="front_desk")      # a StaffClient: an httpx.Client, signed in over HTTP
        desk.get("/dashboard/schedule")                    # session cookie sent
        desk.act("/dashboard/...", {"field": "v"})         # a form POST with _csrf and Origin, as the page does
        desk.post("/dashboard/...", json={...}, headers=desk.csrf_headers)   # as a script does
        desk.staff.name, desk.staff.staff_id               # who it is (StaffLogin), for audit checks

``create_staff(db, org, role=...)`` makes the account only (email and password in the StaffLogin);
``sign_in(base_url, login)`` signs an account in. Every StaffClient sends ``Origin`` = the server's own.
"""

from __future__ import annotations

import queue
import re
import secrets
import socket
import uuid
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from voxbook.api.app import create_app
from voxbook.api.dashboard_auth import hash_password
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


@dataclass(frozen=True)
class StaffLogin:
    """A staff account made by create_staff, with what signs it in."""

    org_id: str
    staff_id: str
    email: str
    password: str
    name: str
    role: str


def create_staff(db, org: str, role: str = "owner", *, name: str | None = None, email: str | None = None,
                 password: str | None = None) -> StaffLogin:
    """An active staff account of the clinic: invited and accepted through the api, as a person would."""
    name = name or f"{role.replace('_', ' ').title()} {secrets.token_hex(3)}"
    email = email or f"{role}-{uuid.uuid4().hex[:12]}@clinic.example"
    password = password or "pw-" + secrets.token_urlsafe(12)
    invite = db.execute("SELECT api.invite_staff(%s, %s, %s, %s, 'tests') AS r", [org, email, name, role]).fetchone()["r"]
    accepted = db.execute("SELECT api.accept_staff_invite(%s, %s) AS r",
                          [invite["token"], hash_password(password)]).fetchone()["r"]
    assert accepted["success"], accepted
    db.execute("SELECT api.dashboard_logout(%s)", [accepted["session"]])   # that session was only a by-product
    return StaffLogin(org, str(invite["staff_id"]), invite["email"], password, name, role)


class StaffClient(httpx.Client):
    """An httpx client signed in as one staff member; ``csrf`` is its session's token (as in the page's meta)."""

    staff: StaffLogin
    csrf: str

    @property
    def csrf_headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    def act(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """A form POST as the dashboard's own page sends it: the form's fields plus _csrf."""
        return self.post(path, data={**(data or {}), "_csrf": self.csrf}, **kwargs)


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_META.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def sign_in(base_url: str, who: StaffLogin) -> StaffClient:
    """Signs in over HTTP as a browser does: the sign-in page (pre-session cookie and its token), then the form."""
    client = StaffClient(base_url=base_url, timeout=10, headers={"Origin": base_url})
    form = client.get("/dashboard")
    assert form.status_code == 200, form.text
    resp = client.post("/dashboard/login", data={"email": who.email, "password": who.password, "_csrf": csrf_of(form)})
    assert resp.status_code == 303, resp.text
    client.staff = who
    client.csrf = csrf_of(client.get("/dashboard"))
    return client


@pytest.fixture
def staff_client(live_server: Server, db) -> Iterator[Any]:
    """staff_client(org, role="front_desk", **create_staff options) -> a signed-in StaffClient."""
    clients: list[StaffClient] = []

    def make(org: str, role: str = "front_desk", **options: Any) -> StaffClient:
        client = sign_in(live_server.base_url, create_staff(db, org, role, **options))
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def dashboard_token(db, org: str) -> StaffLogin:
    """A new owner of the clinic (the clinic dashboard token no longer signs in); sign in with ``login``."""
    return create_staff(db, org, "owner")


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


def login(base_url: str, who: StaffLogin) -> StaffClient:
    return sign_in(base_url, who)


class SSEReader:
    """Reads an event stream in a thread so that tests wait on it with bounded timeouts."""

    def __init__(self, client: httpx.Client, path: str = "/dashboard/events") -> None:
        self.events: queue.Queue[dict[str, str]] = queue.Queue()
        self._cm = client.stream("GET", path, timeout=httpx.Timeout(10, read=None))
        self.response = self._cm.__enter__()
        assert self.response.status_code == 200, self.response.read()
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if event:
                        self.events.put(event)
                    event = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    event[name] = event[name] + "\n" + value if name == "data" and name in event else value
        except Exception:  # noqa: BLE001 - closed by the test
            pass

    def next(self, kind: str, timeout: float = 10) -> dict[str, str]:
        """The next event of this kind (others before it are dropped); fails after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {kind!r} event within {timeout} s")
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event.get("event") == kind:
                return event

    def kinds_within(self, seconds: float) -> list[str]:
        """The kinds of every event that arrives within `seconds` (to assert that nothing arrives)."""
        deadline = time.monotonic() + seconds
        kinds = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                kinds.append(self.events.get(timeout=left).get("event"))
            except queue.Empty:
                break
        return kinds

    def close(self) -> None:
        self.response.close()
        try:
            self._cm.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - already closed
            pass
        try:
            self._cm.__exit__(None, None, None)
        except Exception:  # noqa: BLE001
            pass
