"""`voxbook simulate-call --returning` and `--waitlist` as the README tells a newcomer to run them: `voxbook up`,
then the command; its outcome checked again here through /rpc and the console outbox of `voxbook up`.

- returning: the first call books; a second call from the same number (a new Vapi call id) is greeted by first
  name, finds that appointment by the number Vapi sees, moves it a week later and cancels it.
- waitlist: a first call books; a second caller wants that very time and joins the waitlist by the join_waitlist
  tool (the number Vapi sees); the first appointment is cancelled; `voxbook up`'s own worker texts the freed time;
  the BOOK reply books it and the confirmation is sent.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from test_up import ROOT, Up, data_dir  # noqa: F401  (data_dir: the fixture, a fresh data dir)

from voxbook.pgcluster import free_port

DEMO_PHONE = "+15551234567"


class Simulated:
    """One `voxbook simulate-call --<scenario>` against a fresh `voxbook up`, and the admin's /rpc on it."""

    def __init__(self, data_dir: Path, scenario: str, phone: str, name: str):
        self.data_dir = data_dir
        self.up = Up(data_dir, free_port())
        try:
            self.up.wait_healthy()
            sim = subprocess.run(
                [sys.executable, "-m", "voxbook.cli", "simulate-call", "--base-url", self.up.base, "--data-dir",
                 str(data_dir), f"--{scenario}", "--patient-phone", phone, "--patient-name", name],
                cwd=ROOT, capture_output=True, text=True, timeout=180,
            )
            assert sim.returncode == 0, sim.stdout + sim.stderr + self.up.output()
            self.out = sim.stdout
            env = dict(line.split("=", 1) for line in (data_dir / "local.env").read_text().splitlines()
                       if "=" in line and not line.startswith("#"))
            self._token = env["ADMIN_TOKEN"]
            self.org = self.rpc("find_organization", phone=DEMO_PHONE)["org_id"]
        except BaseException:
            self.up.ctrl_c()   # no `voxbook up` left behind by a failed scenario
            raise

    def rpc(self, function: str, **args) -> dict:
        req = urllib.request.Request(self.up.base + f"/rpc/{function}", data=json.dumps(args).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def texts_to(self, phone: str) -> list[str]:
        lines = (self.data_dir / "outbox.jsonl").read_text().splitlines()
        return [t["body"] for t in map(json.loads, lines) if t["to"] == phone]

    def stop(self) -> None:
        assert self.up.ctrl_c() == 0, self.up.output()


def test_a_second_call_from_the_same_number_finds_moves_and_cancels(data_dir):  # noqa: F811
    patient = "+15555550177"
    sim = Simulated(data_dir, "returning", patient, "Alex Morgan")
    try:
        first, _, second = sim.out.partition("--- the same caller calls back ---")
        booked = re.search(r"OK: appointment ([0-9a-f-]{36}) confirmed", first).group(1)
        # The second call: greeted by first name only, the appointment read back, moved, cancelled.
        assert "Assistant: Hi Alex, " in second and "Morgan" not in second.split("Caller:")[0]
        assert "upcoming appointment" in second
        assert "Done: your appointment is now " in second
        assert re.search(rf"OK: appointment {booked} found by the caller's number, moved to .+, then cancelled", second)
        assert sim.rpc("get_appointment", appointment_id=booked, org_id=sim.org)["status"] == "cancelled"
        # What the caller's phone received after the first call: the move, then the cancellation, of that visit.
        bodies = sim.texts_to(patient)
        moved = next(i for i, b in enumerate(bodies) if b.startswith("Your appointment is moved to "))
        assert any(" is cancelled." in b for b in bodies[moved + 1:]), bodies
    finally:
        sim.stop()


def test_a_waitlisted_caller_books_the_freed_time_by_text(data_dir):  # noqa: F811
    waiter = "+15555550188"
    sim = Simulated(data_dir, "waitlist", waiter, "Wendy Wait")
    try:
        first, _, second = sim.out.partition("--- another caller wants that very time ---")
        freed = re.search(r"OK: appointment ([0-9a-f-]{36}) confirmed", first).group(1)
        assert "Assistant: You're on the waitlist." in second
        assert "Reply BOOK or 1 within 15 minutes" in second
        booked = re.search(rf"OK: waitlist appointment ([0-9a-f-]{{36}}) confirmed for .+ \(the time {freed} freed\); "
                           r"confirmation SMS (sent|delivered)\.", second).group(1)
        old = sim.rpc("get_appointment", appointment_id=freed, org_id=sim.org)
        new = sim.rpc("get_appointment", appointment_id=booked, org_id=sim.org)
        assert old["status"] == "cancelled" and new["status"] == "confirmed"
        assert (new["starts_at"], new["calendar_id"]) == (old["starts_at"], old["calendar_id"])
        entries = sim.rpc("list_waitlist", org_id=sim.org, status="booked")["entries"]
        assert [e["appointment_id"] for e in entries] == [booked]
        # The waitlisted caller's phone: the offer, then the confirmation.
        bodies = sim.texts_to(waiter)
        assert "a time opened up" in bodies[0] and bodies[-1].startswith("Your appointment is confirmed"), bodies
    finally:
        sim.stop()
