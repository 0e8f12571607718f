"""`voxbook simulate-call --returning` as the README tells a newcomer to run it: `voxbook up`, then the command.

The first call books; a second call from the same number (a new Vapi call id) is greeted by first name, finds that
appointment by the number Vapi sees, moves it a week later and cancels it -- every step through the webhook, the
outcome read back through /rpc by the command itself and checked here again, in the database of `voxbook up`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request

from test_up import ROOT, Up, data_dir  # noqa: F401  (data_dir: the fixture, a fresh data dir)

from voxbook.pgcluster import free_port

PATIENT = "+15555550177"


def _rpc(base: str, token: str, function: str, **args) -> dict:
    req = urllib.request.Request(base + f"/rpc/{function}", data=json.dumps(args).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def test_a_second_call_from_the_same_number_finds_moves_and_cancels(data_dir):  # noqa: F811
    up = Up(data_dir, free_port())
    try:
        up.wait_healthy()
        sim = subprocess.run(
            [sys.executable, "-m", "voxbook.cli", "simulate-call", "--base-url", up.base, "--data-dir", str(data_dir),
             "--returning", "--patient-phone", PATIENT, "--patient-name", "Alex Morgan"],
            cwd=ROOT, capture_output=True, text=True, timeout=180,
        )
        out = sim.stdout
        assert sim.returncode == 0, out + sim.stderr + up.output()
        first, _, second = out.partition("--- the same caller calls back ---")
        booked = re.search(r"OK: appointment ([0-9a-f-]{36}) confirmed", first).group(1)
        # The second call: greeted by first name only, the appointment read back, moved, cancelled.
        assert "Assistant: Hi Alex, " in second and "Morgan" not in second.split("Caller:")[0]
        assert "upcoming appointment" in second
        assert "Done: your appointment is now " in second
        assert re.search(rf"OK: appointment {booked} found by the caller's number, moved to .+, then cancelled", second)

        env = dict(line.split("=", 1) for line in (data_dir / "local.env").read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
        org = _rpc(up.base, env["ADMIN_TOKEN"], "find_organization", phone="+15551234567")["org_id"]
        appointment = _rpc(up.base, env["ADMIN_TOKEN"], "get_appointment", appointment_id=booked, org_id=org)
        assert appointment["status"] == "cancelled"
        # What the caller's phone received after the first call: the move, then the cancellation, of that visit.
        texts = [json.loads(line) for line in (data_dir / "outbox.jsonl").read_text().splitlines()]
        bodies = [t["body"] for t in texts if t["to"] == PATIENT]
        moved = next(i for i, b in enumerate(bodies) if b.startswith("Your appointment is moved to "))
        assert any(" is cancelled." in b for b in bodies[moved + 1:]), bodies
    finally:
        assert up.ctrl_c() == 0, up.output()
