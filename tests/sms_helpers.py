"""Helpers of the SMS worker and Twilio callback tests (imported by plain name)."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import tempfile
import sys
import threading
import time
from pathlib import Path

from voxbook.settings import Settings
from voxbook.workers.sms import SmsWorker, WorkerConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
PUBLIC_BASE_URL = "https://voxbook.example.com"
MESSAGING_SERVICE_SID = "MG" + "1" * 32


def new_phone() -> str:
    return "+1555" + f"{random.randrange(10**7):07d}"


def queue(db, org: str, to: str, body: str, kind: str = "other", send_after_sql: str = "now()") -> str:
    return str(db.execute(
        f"SELECT (internal.queue_sms(%s, %s, %s, %s, send_after => {send_after_sql})).id AS id",
        (org, kind, to, body)).fetchone()["id"])


def outbox(db, message_id: str) -> dict:
    return db.execute("SELECT * FROM voxbook.sms_outbox WHERE id = %s", (message_id,)).fetchone()


def book(db, org: str, phone: str, days_ahead: int = 7, hour: int = 10, calendar: str = "cal-a") -> dict:
    """A confirmed appointment through the real flow: claim, code SMS, verify. Returns ids."""
    slot = db.execute("SELECT tests.at(%s, (current_date + %s) + make_time(%s, 0, 0)) AS t",
                      (org, days_ahead, hour)).fetchone()["t"]
    hold = db.execute(
        "SELECT api.claim_slot_atomic(org_id => %s, calendar_id => %s, slot_time => %s, call_sid => %s,"
        " patient_name => 'Pat Doe', patient_phone => %s) AS r",
        (org, calendar, slot, f"call-{random.random()}", phone)).fetchone()["r"]
    assert hold["success"], hold
    sent = db.execute("SELECT api.send_otp_code(%s, %s) AS r", (hold["hold_id"], org)).fetchone()["r"]
    assert sent["success"], sent
    code = db.execute("SELECT tests.code_of(%s) AS c", (hold["hold_id"],)).fetchone()["c"]
    appt = db.execute("SELECT api.verify_otp(%s, %s, %s) AS r", (hold["hold_id"], org, code)).fetchone()["r"]
    assert appt["success"], appt
    return {"hold_id": hold["hold_id"], "appointment_id": appt["appointment_id"],
            "otp_message_id": sent["message_id"], "confirmation_message_id": appt["message_id"], "code": code}


def settings_for(fake, database_url: str, api_base: str | None = None, timeout: float = 5.0) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url=PUBLIC_BASE_URL,
        sms_provider="twilio",
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=fake.auth_token,
        twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
        twilio_api_base=api_base or fake.base_url,
        twilio_timeout_seconds=timeout,
        worker_poll_seconds=0.2,
        worker_batch_size=50,
    )


def worker_env(fake, database_url: str, api_base: str | None = None, timeout: float = 5.0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "WORKER_"))}
    env.update({
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID,
        "TWILIO_API_BASE": api_base or fake.base_url,
        "TWILIO_TIMEOUT_SECONDS": str(timeout),
        "WORKER_POLL_SECONDS": "0.2",
    })
    return env


class WorkerProcess(subprocess.Popen):
    """A process whose stdout and stderr go to temporary files, not pipes: a pipe nobody reads until the end
    fills (64 KiB, about 100 sent messages' log lines) and then blocks the worker's next log line, which
    looked like a worker that stopped claiming. ``communicate`` waits and returns both as text."""

    def __init__(self, argv: list[str], **kwargs):
        self._out, self._err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        super().__init__(argv, stdout=self._out, stderr=self._err, text=True, **kwargs)

    def stderr_so_far(self) -> str:
        """What the process has logged so far (pread: the file's offset stays where communicate expects it)."""
        return os.pread(self._err.fileno(), 1 << 24, 0).decode(errors="replace")

    def communicate(self, input=None, timeout=None):  # noqa: A002 - Popen's signature
        self.wait(timeout)
        texts = []
        for f in (self._out, self._err):
            f.seek(0)
            texts.append(f.read())
            f.close()
        return texts[0], texts[1]


def start_worker_process(env: dict[str, str], *args: str) -> subprocess.Popen:
    """``voxbook worker`` as a real process (its output to files, read by ``communicate()``)."""
    return WorkerProcess([sys.executable, "-m", "voxbook.cli", "worker", *args], cwd=REPO_ROOT, env=env)


class WorkerThread:
    """An SmsWorker running in this process (own thread and event loop) until the block ends."""

    def __init__(self, settings: Settings, **overrides):
        overrides.setdefault("retry_base_seconds", 0.05)
        self.config = WorkerConfig.from_settings(settings, **overrides)
        self.worker = SmsWorker(self.config, settings)
        self.exit_code: int | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="sms-worker")

    def _run(self) -> None:
        self.exit_code = asyncio.run(self.worker.run())

    def __enter__(self) -> WorkerThread:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.worker.request_stop()
        self._thread.join(30)
        assert not self._thread.is_alive(), "worker did not stop"

    def join(self, timeout: float = 60) -> int | None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "worker did not finish"
        return self.exit_code


def run_once(settings: Settings, **overrides) -> int | None:
    """Sends what is due now and returns (the worker's --once mode)."""
    w = WorkerThread(settings, once=True, **overrides)
    w._thread.start()
    return w.join()


def wait_until(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
