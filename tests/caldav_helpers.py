"""A real CalDAV server for the calendar sync tests: Radicale (from PyPI, the test extra) as a subprocess on
127.0.0.1, a free port, htpasswd authentication (plain) and a temporary storage folder.

``RadicaleServer`` starts it and waits until it answers; a server that will not start FAILS the test that
needs it (never a skip). Users: ``alice`` (owns her calendars), ``reader`` (may read alice's calendars, not
write them: the "no write permission" case). ``stop()`` kills it (a CalDAV server that is down) and
``start()`` brings it back on the same port with the same data.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import caldav
import psycopg
import pytest

# The suite's CalDAV servers listen on 127.0.0.1, which voxbook refuses by default (no SSRF through a clinic's
# URL): allowed here as for a calendar server on a clinic's own network (workers/README.md, "Calendar sync").
# tests/test_calendar_adversarial.py turns it off where it proves the refusal.
os.environ["CALDAV_ALLOW_PRIVATE_HOSTS"] = "1"

USERS = {"alice": "alice-" + secrets.token_hex(8), "reader": "reader-" + secrets.token_hex(8)}

# First matching section wins (Radicale's rights file). reader: read-only on alice's calendars.
RIGHTS = """
[reader-reads-alice]
user: reader
collection: alice(/[^/]+)?
permissions: Rr

[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[calendars]
user: .+
collection: {user}/[^/]+
permissions: rw
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RadicaleServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="voxbook-radicale-"))
        self.port = free_port()
        (self.dir / "users").write_text("".join(f"{u}:{p}\n" for u, p in USERS.items()))
        (self.dir / "rights").write_text(RIGHTS)
        (self.dir / "config").write_text(f"""
[server]
hosts = 127.0.0.1:{self.port}
[auth]
type = htpasswd
htpasswd_filename = {self.dir / 'users'}
htpasswd_encryption = plain
[rights]
type = from_file
file = {self.dir / 'rights'}
[storage]
filesystem_folder = {self.dir / 'collections'}
[logging]
level = warning
""")
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "radicale.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(self.dir / "config")],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"radicale exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"radicale did not answer on port {self.port} within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Kills it (SIGKILL): the server is simply gone, as in an outage."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, user: str = "alice", password: str | None = None) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.base_url + f"/{user}/", username=user,
                                password=password if password is not None else USERS[user],
                                enable_rfc6764=False, timeout=10)

    def new_calendar(self, user: str = "alice") -> caldav.Calendar:
        """A fresh calendar collection of ``user``; its URL is what a clinic connects."""
        cal_id = "cal-" + uuid.uuid4().hex[:10]
        with self.client(user) as client:
            return client.principal().make_calendar(name=cal_id, cal_id=cal_id)

    def calendar(self, url: str, user: str = "alice") -> caldav.Calendar:
        return caldav.Calendar(client=self.client(user), url=url)

    def __enter__(self) -> RadicaleServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


def event_ics(uid: str, start: str, end: str | None = None, *, summary: str = "Busy", rrule: str | None = None,
              transparent: bool = False, status: str | None = None, all_day: bool = False,
              extra: str = "") -> str:
    """An iCalendar object as a provider's phone would write it. start/end: '20300115T100000Z', or a date
    '20300115' with all_day."""
    value = ";VALUE=DATE" if all_day else ""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//voxbook tests//EN", "BEGIN:VEVENT", f"UID:{uid}",
             "DTSTAMP:20260101T000000Z", f"DTSTART{value}:{start}", f"SUMMARY:{summary}"]
    if end:
        lines.append(f"DTEND{value}:{end}")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    if transparent:
        lines.append("TRANSP:TRANSPARENT")
    if status:
        lines.append(f"STATUS:{status}")
    if extra:
        lines.append(extra)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def our_events(cal: caldav.Calendar) -> list:
    """The events voxbook wrote there (UID ...@voxbook), loaded."""
    out = []
    for obj in cal.search(event=True):
        ical = obj.icalendar_instance
        for comp in ical.walk("VEVENT"):
            if str(comp.get("UID", "")).endswith("@voxbook"):
                out.append(comp)
    return out


# The module fixtures of the CalDAV tests: import them by name (`from caldav_helpers import radicale,
# no_connections_left_behind`) and pytest uses them in that module.
@pytest.fixture(scope="module")
def radicale():
    with RadicaleServer() as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def no_connections_left_behind(database_url):
    """The connections a module makes are encrypted with its own key, and `voxbook doctor` (other tests) would
    report them: gone when the module ends."""
    yield
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM voxbook.calendar_connections")
