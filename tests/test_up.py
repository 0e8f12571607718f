"""The README's run command, exercised as a newcomer would: `voxbook up`, a simulated call, Ctrl-C, again.

`voxbook up` is started in its own session and stopped with SIGINT to the whole process group,
which is what Ctrl-C in a terminal does. It must run its own PostgreSQL (no DATABASE_URL here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from voxbook.pgcluster import free_port

ROOT = Path(__file__).resolve().parent.parent


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Up:
    def __init__(self, data_dir: Path, port: int, cwd: Path = ROOT, data_dir_arg: bool = True):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")}
        self.log = open(data_dir.parent / f"up-{port}-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115
        where = ["--data-dir", str(data_dir)] if data_dir_arg else []   # else the default, .voxbook in cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voxbook.cli", "up", *where, "--port", str(port)],
            cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"voxbook up exited early:\n{self.output()}"
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as r:
                    if json.load(r).get("database") == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.3)
        pytest.fail(f"/health never answered:\n{self.output()}")

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            pytest.fail(f"voxbook up did not stop on Ctrl-C:\n{self.output()}")


@pytest.fixture
def data_dir():
    base = Path(tempfile.mkdtemp(prefix="voxbook-up-"))
    os.chmod(base, 0o755)  # our own fresh dir: the server user (postgres, when root) must traverse it
    yield base / "data"
    subprocess.run(["rm", "-rf", str(base)], check=False)


def _postmaster_pid(data_dir: Path) -> int | None:
    pidfile = data_dir / "pg" / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def test_run_command_serves_a_call_stops_cleanly_and_keeps_data(data_dir):
    port = free_port()
    up = Up(data_dir, port)
    try:
        up.wait_healthy()
        started = _descendants(up.proc.pid)
        postmaster = _postmaster_pid(data_dir)
        assert postmaster and _alive(postmaster), "voxbook up must run its own PostgreSQL"

        sim = subprocess.run(
            [sys.executable, "-m", "voxbook.cli", "simulate-call", "--base-url", up.base, "--data-dir", str(data_dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert sim.returncode == 0, sim.stdout + sim.stderr + up.output()
        assert "Assistant:" in sim.stdout and "Caller:" in sim.stdout
        appointment = re.search(r"appointment ([0-9a-f-]{36}) confirmed", sim.stdout).group(1)

        race = subprocess.run(
            [sys.executable, "-m", "voxbook.cli", "simulate-call", "--base-url", up.base, "--data-dir", str(data_dir),
             "--race", "8"],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert race.returncode == 0, race.stdout + race.stderr
        assert "1 winner, 7 polite refusals." in race.stdout
        assert race.stdout.count("WON: ") == 1
    finally:
        code = up.ctrl_c()
    assert code == 0, up.output()
    assert "voxbook up: stopped" in up.output()
    assert f"{up.base}/dashboard" in up.output()
    env_lines = (data_dir / "local.env").read_text()
    assert "DASHBOARD_EMAIL=" in env_lines and "DASHBOARD_PASSWORD=" in env_lines
    leftovers = [p for p in started | {postmaster} if _alive(p)]
    assert leftovers == [], f"processes left running: {leftovers}"

    # Started again on the same data dir: the appointment is still there.
    again = Up(data_dir, port)
    try:
        again.wait_healthy()
        token = dict(
            line.split("=", 1) for line in (data_dir / "local.env").read_text().splitlines() if "=" in line and not line.startswith("#")
        )["ADMIN_TOKEN"]
        req = urllib.request.Request(
            again.base + "/rpc/find_organization", data=json.dumps({"phone": "+15551234567"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, method="POST",
        )
        org = json.load(urllib.request.urlopen(req, timeout=10))["org_id"]
        req = urllib.request.Request(
            again.base + "/rpc/get_appointment",
            data=json.dumps({"appointment_id": appointment, "org_id": org}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, method="POST",
        )
        assert json.load(urllib.request.urlopen(req, timeout=10))["status"] == "confirmed"

        # The demo clinic's owner signs in to the dashboard with the password kept in local.env (README's tour).
        from dashboard_helpers import StaffLogin, sign_in

        env = dict(line.split("=", 1) for line in (data_dir / "local.env").read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
        owner = sign_in(again.base, StaffLogin(org, "", env["DASHBOARD_EMAIL"], env["DASHBOARD_PASSWORD"], "", "owner"))
        assert "Demo Owner" in owner.get("/dashboard").text and owner.get("/dashboard/staff").status_code == 200
    finally:
        assert again.ctrl_c() == 0, again.output()


def test_run_command_works_from_a_checkout_under_a_private_directory(tmp_path):
    """A checkout in a mode-700 directory, as /root/voxbook is: `voxbook up` run from it with its defaults.

    As root the server runs as the postgres user, which cannot pass that directory: the cluster must then
    live where it can (under /var/lib/voxbook, found again on the next start: the data survives). As an
    ordinary user it stays in the checkout's .voxbook/."""
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    checkout = private / "voxbook"
    checkout.mkdir()
    for folder in ("voxbook", "api", "workers", "db"):
        shutil.copytree(ROOT / folder, checkout / folder, ignore=shutil.ignore_patterns("__pycache__"))
    data_dir = checkout / ".voxbook"
    port = free_port()
    shared = None
    try:
        up = Up(data_dir, port, cwd=checkout, data_dir_arg=False)
        try:
            up.wait_healthy()
            assert "loaded the demo clinic" in up.output()
            pg = data_dir / "pg"
            if os.geteuid() == 0:
                assert pg.is_symlink(), up.output()
                shared = pg.resolve().parent
                assert shared.parent == Path("/var/lib/voxbook"), shared
            postmaster = int((pg / "postmaster.pid").read_text().split()[0])
            assert _alive(postmaster)
        finally:
            assert up.ctrl_c() == 0, up.output()
        assert not _alive(postmaster)
        again = Up(data_dir, port, cwd=checkout, data_dir_arg=False)
        try:
            again.wait_healthy()
            assert "loaded the demo clinic" not in again.output(), "the data must survive a restart"
        finally:
            assert again.ctrl_c() == 0, again.output()
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)
