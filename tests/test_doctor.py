"""Configuration that cannot work is reported at start, in one log format.

`voxbook doctor` (OK/PROBLEM and a fix, exit 1 on a problem), the start-up checks logged by `voxbook worker`
and `voxbook serve`, and GET /health's detail. The case of the issue: Twilio credentials and a clinic
without a sender number, which used to surface only when a caller had been told "I've just texted you a
code" and the worker failed the message permanently. Real processes, real database.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from voxbook.logs import setup_logging
from voxbook.pgcluster import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET_PASSWORD = "doctor-pw-S3cret"


def _env(database_url: str | None, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("TWILIO_", "SMS_", "VAPI_", "PUBLIC_BASE_URL", "DATABASE_URL", "LOG_FORMAT"))}
    return keep | ({"DATABASE_URL": database_url} if database_url else {}) | extra


def _voxbook(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxbook.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "doctor-token",
          "PUBLIC_BASE_URL": "https://voxbook.example.com", "VAPI_SECRET": "doctor-vapi-secret"}


@pytest.fixture
def clinic_without_sender(db):
    org = str(db.execute("SELECT tests.create_clinic() AS org").fetchone()["org"])
    db.execute("UPDATE voxbook.organizations SET sms_from = NULL WHERE id = %s", [org])
    yield org
    db.execute("DELETE FROM voxbook.organizations WHERE id = %s", [org])


def test_doctor_reports_a_clinic_twilio_cannot_send_from(clinic_without_sender, app_database_url):
    res = _voxbook("doctor", env=_env(app_database_url, **TWILIO))
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"PROBLEM  sms_sender: clinic {clinic_without_sender} has no sender number" in res.stdout
    assert "fix: set organizations.sms_from for it, or TWILIO_MESSAGING_SERVICE_SID" in res.stdout

    # A Messaging Service sends for clinics without a number: nothing left to report.
    res = _voxbook("doctor", env=_env(app_database_url, **TWILIO, TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32))
    assert (res.returncode, res.stdout.startswith("OK ")) == (0, True), res.stdout + res.stderr
    # The console provider sends nothing through Twilio: no sender needed either.
    res = _voxbook("doctor", env=_env(app_database_url, VAPI_SECRET="s", SMS_PROVIDER="console"))
    assert res.returncode == 0, res.stdout + res.stderr


def test_doctor_reports_settings_that_cannot_work(app_database_url):
    res = _voxbook("doctor", env=_env(app_database_url, SMS_PROVIDER="twilio"))
    assert res.returncode == 1
    for check in ("vapi_secret", "twilio_credentials", "public_base_url"):
        assert f"PROBLEM  {check}:" in res.stdout, res.stdout


def test_doctor_reports_an_unmigrated_or_unreachable_database(pg_cluster):
    empty = pg_cluster.create_database(f"voxbook_doctor_{os.getpid()}")
    res = _voxbook("doctor", env=_env(empty, VAPI_SECRET="s"))
    assert res.returncode == 1 and "PROBLEM  migrated:" in res.stdout, res.stdout + res.stderr
    assert "fix: run voxbook db migrate" in res.stdout

    gone = f"postgresql://doctor:{SECRET_PASSWORD}@127.0.0.1:{free_port()}/voxbook"
    res = _voxbook("doctor", env=_env(gone, VAPI_SECRET="s"))
    assert res.returncode == 1 and "PROBLEM  database: the database is unreachable" in res.stdout, res.stdout
    assert SECRET_PASSWORD not in res.stdout + res.stderr


def test_doctor_reports_codes_off_without_a_pepper(pg_cluster, database_url):
    # A login role without the code pepper of `voxbook db migrate --app-role`.
    role = f"doctor_plain_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN IN ROLE voxbook_api")
    try:
        url = pg_cluster.url("voxbook_test", user=role)
        res = _voxbook("doctor", env=_env(url, VAPI_SECRET="s"))
        assert res.returncode == 1 and "PROBLEM  code_pepper: one-time codes are off" in res.stdout, res.stdout
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")


def _json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line that is not the one format (JSON off a terminal): {line!r}\n{text}")
    return records


def test_worker_logs_the_checks_at_start(clinic_without_sender, app_database_url):
    res = _voxbook("worker", "--once", env=_env(app_database_url, **TWILIO, TWILIO_API_BASE="http://127.0.0.1:9"))
    records = _json_lines(res.stderr)
    problems = [r for r in records if r["event"] == "config.problem"]
    assert {"check": "sms_sender", "org_id": clinic_without_sender, "component": "worker"}.items() <= \
        next(p for p in problems if p.get("org_id") == clinic_without_sender).items(), problems
    assert not any(p["check"] == "vapi_secret" for p in problems), "the worker has no use for the Vapi secret"
    assert all({"ts", "level", "logger", "event"} <= r.keys() for r in records)


def test_serve_logs_one_format_and_health_shows_the_problems(clinic_without_sender, app_database_url, tmp_path):
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "voxbook.cli", "serve", "--port", str(port)], cwd=ROOT,
                                env=_env(app_database_url, **TWILIO), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    health = json.load(r)
                break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert health["status"] == "degraded" and health["database"] == "ok"
    assert {"check": "sms_sender", "org_id": clinic_without_sender}.items() <= \
        next(p for p in health["problems"] if p.get("org_id") == clinic_without_sender).items()

    records = _json_lines(log_path.read_text())
    loggers = {r["logger"] for r in records}
    # uvicorn's own lines (start-up, the access log) and ours, in the same format.
    assert {"uvicorn.error", "uvicorn.access", "voxbook.doctor"} <= loggers, loggers
    assert any(r["event"] == "config.problem" and r.get("org_id") == clinic_without_sender for r in records)


def test_text_format_on_request():
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging("text", stream=out)
        logging.getLogger("voxbook.test").warning("sms.failed", extra={"fields": {"to": "+1*******21"}})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    line = out.getvalue().strip()
    assert " WARNING voxbook.test sms.failed to=+1*******21" in line and not line.startswith("{"), line


def test_doctor_reports_a_clinic_whose_carrier_token_no_key_opens(db, app_database_url):
    from voxbook.secrets_box import SecretsBox, generate_key

    old_key, new_key = generate_key(), generate_key()
    old, new = SecretsBox(old_key), SecretsBox(new_key)
    org = str(db.execute("SELECT tests.create_clinic() AS org").fetchone()["org"])
    token, sid = "doctor-carrier-token-" + "7" * 16, "AC" + "7" * 32
    cipher = old.encrypt(token)
    db.execute("SELECT api.set_carrier_account(%s, %s, %s, %s)", (org, sid, cipher, old.key_id))
    base = {"VAPI_SECRET": "s", "SMS_PROVIDER": "console"}
    try:
        res = _voxbook("doctor", env={k: v for k, v in _env(app_database_url, **base).items()
                                      if k != "VOXBOOK_SECRETS_KEY"})
        assert res.returncode == 1, res.stdout + res.stderr
        assert (f"PROBLEM  carrier_secrets_key: clinic {org} has its own carrier account, but VOXBOOK_SECRETS_KEY "
                "is not set") in res.stdout, res.stdout
        outputs = [res.stdout + res.stderr]

        # A key, but not the one that made the token (rotated away): named by its id, never shown.
        res = _voxbook("doctor", env=_env(app_database_url, **base, VOXBOOK_SECRETS_KEY=new_key))
        assert res.returncode == 1
        assert (f"PROBLEM  carrier_secrets_key: clinic {org} has its own carrier account, but no key of "
                f"VOXBOOK_SECRETS_KEY made its token (key id {old.key_id})") in res.stdout, res.stdout
        assert f"fix: put the key with id {old.key_id} in VOXBOOK_SECRETS_KEY" in res.stdout
        outputs.append(res.stdout + res.stderr)

        # A malformed key is a problem of its own (by position, not value).
        res = _voxbook("doctor", env=_env(app_database_url, **base, VOXBOOK_SECRETS_KEY="not-a-fernet-key"))
        assert "PROBLEM  secrets_key: VOXBOOK_SECRETS_KEY: key 1 is not a Fernet key" in res.stdout, res.stdout
        outputs.append(res.stdout + res.stderr)

        # Both keys, the new one first (a rotation in progress): the token opens, nothing to report.
        res = _voxbook("doctor", env=_env(app_database_url, **base, VOXBOOK_SECRETS_KEY=f"{new_key},{old_key}"))
        assert (res.returncode, "carrier_secrets_key" in res.stdout) == (0, False), res.stdout + res.stderr
        outputs.append(res.stdout + res.stderr)
        for out in outputs:
            for secret in (old_key, new_key, token, cipher, "not-a-fernet-key"):
                assert secret not in out
    finally:
        db.execute("DELETE FROM voxbook.organizations WHERE id = %s", [org])
