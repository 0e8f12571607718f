"""`voxbook simulate-call --waitlist` as the README tells a newcomer to run it: `voxbook up`, then the command.

A first call books; a second caller wants that very time and joins the waitlist by the join_waitlist tool (the
number Vapi sees); the first appointment is cancelled; `voxbook up`'s own worker texts the freed time; the BOOK
reply books it and the confirmation is sent -- checked by the command and here again in the database of `voxbook up`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request

from test_up import ROOT, Up, data_dir  # noqa: F401  (data_dir: the fixture, a fresh data dir)

from voxbook.pgcluster import free_port

WAITER = "+15555550188"


def _rpc(base: str, token: str, function: str, **args) -> dict:
    req = urllib.request.Request(base + f"/rpc/{function}", data=json.dumps(args).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def test_a_waitlisted_caller_books_the_freed_time_by_text(data_dir):  # noqa: F811
    up = Up(data_dir, free_port())
    try:
        up.wait_healthy()
        sim = subprocess.run(
            [sys.executable, "-m", "voxbook.cli", "simulate-call", "--base-url", up.base, "--data-dir", str(data_dir),
             "--waitlist", "--patient-phone", WAITER, "--patient-name", "Wendy Wait"],
            cwd=ROOT, capture_output=True, text=True, timeout=180,
        )
        out = sim.stdout
        assert sim.returncode == 0, out + sim.stderr + up.output()
        first, _, second = out.partition("--- another caller wants that very time ---")
        freed = re.search(r"OK: appointment ([0-9a-f-]{36}) confirmed", first).group(1)
        assert "Assistant: You're on the waitlist." in second
        assert "Reply BOOK or 1 within 15 minutes" in second
        booked = re.search(rf"OK: waitlist appointment ([0-9a-f-]{{36}}) confirmed for .+ \(the time {freed} freed\); "
                           r"confirmation SMS (sent|delivered)\.", second).group(1)

        env = dict(line.split("=", 1) for line in (data_dir / "local.env").read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
        org = _rpc(up.base, env["ADMIN_TOKEN"], "find_organization", phone="+15551234567")["org_id"]
        old = _rpc(up.base, env["ADMIN_TOKEN"], "get_appointment", appointment_id=freed, org_id=org)
        new = _rpc(up.base, env["ADMIN_TOKEN"], "get_appointment", appointment_id=booked, org_id=org)
        assert old["status"] == "cancelled" and new["status"] == "confirmed"
        assert (new["starts_at"], new["calendar_id"]) == (old["starts_at"], old["calendar_id"])
        entries = _rpc(up.base, env["ADMIN_TOKEN"], "list_waitlist", org_id=org, status="booked")["entries"]
        assert [e["appointment_id"] for e in entries] == [booked]
        # The waitlisted caller's phone: the offer, then the confirmation.
        texts = [json.loads(line) for line in (data_dir / "outbox.jsonl").read_text().splitlines()]
        bodies = [t["body"] for t in texts if t["to"] == WAITER]
        assert "a time opened up" in bodies[0] and bodies[-1].startswith("Your appointment is confirmed"), bodies
    finally:
        assert up.ctrl_c() == 0, up.output()
