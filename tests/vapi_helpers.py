"""Shared pieces of the Vapi adapter tests: an app on the real test database (as the unprivileged
voxbook_app role), clinics, and payloads in Vapi's real wire format (as Vapi's server-message reference documents it)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tempfile
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from voxbook.api.app import create_app
from voxbook.pgcluster import free_port
from voxbook.settings import Settings

SECRET = "test-vapi-secret-" + secrets.token_hex(8)
HMAC_KEY = "test-hmac-key-" + secrets.token_hex(8)
ADMIN = "test-admin-token-" + secrets.token_hex(8)
AUTH = {"X-Vapi-Secret": SECRET}
MAX_BODY = 32 * 1024


def settings_for(url: str, **overrides: Any) -> Settings:
    values = dict(database_url=url, vapi_secret=SECRET, vapi_hmac_secret=HMAC_KEY, admin_token=ADMIN,
                  max_body_bytes=MAX_BODY)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def client(app_database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(app_database_url))) as c:
        yield c


def day(offset: int = 30) -> str:
    # Far enough ahead that no clock or time zone makes it "too soon" or past.
    return (date.today() + timedelta(days=offset)).isoformat()


def written(db, org: str) -> dict[str, int]:
    """Rows a clinic has in every table the adapter could touch: for "nothing written" checks."""
    out = {}
    for table in ("holds", "appointments", "contacts", "sms_outbox", "calls", "hot_lead_alerts", "tool_calls"):
        out[table] = db.execute(f"SELECT count(*) AS n FROM voxbook.{table} WHERE org_id = %s", [org]).fetchone()["n"]
    return out


def tc(call_id: str | None, name: str, args: dict[str, Any] | str, form: str = "function") -> dict[str, Any]:
    """One tool call as Vapi sends it: arguments as an object ("function"), as a JSON string
    ("string", what the spec says), or the docs' flat {"id", "name", "parameters"} ("flat")."""
    if form == "flat":
        item: dict[str, Any] = {"name": name, "parameters": args}
    else:
        if form == "string" and not isinstance(args, str):
            args = json.dumps(args)
        item = {"type": "function", "function": {"name": name, "arguments": args}}
    if call_id is not None:
        item["id"] = call_id
    return item


def tool_calls(phone: str | None, calls: list[dict[str, Any]], *, vapi_call: str = "call-1",
               caller: str | None = "+15557654321", list_key: str = "toolCallList") -> dict[str, Any]:
    """A whole tool-calls message, with the call, phone number and echoes Vapi puts around it."""
    call: dict[str, Any] = {"id": vapi_call, "orgId": "vapi-org", "type": "inboundPhoneCall",
                            "phoneCallProviderId": "CA" + vapi_call, "phoneNumberId": "pn-1",
                            "assistantId": "asst-1",
                            "assistantOverrides": {"variableValues": {}, "metadata": {}}}
    msg: dict[str, Any] = {"type": "tool-calls", "timestamp": 1769000000000, "call": call,
                           "assistant": {"metadata": {}}, "artifact": {"messages": []}}
    if caller:
        call["customer"] = {"number": caller}
        msg["customer"] = {"number": caller}
    if phone:
        msg["phoneNumber"] = {"id": "pn-1", "number": phone}
    if list_key == "toolWithToolCallList":
        msg[list_key] = [{"type": "function", "function": {"name": c.get("function", {}).get("name", c.get("name")),
                                                            "parameters": {}},
                          "server": {"url": "https://example.test/vapi/webhook"}, "toolCall": c} for c in calls]
    elif list_key == "both":
        msg["toolCallList"] = calls
        msg["toolCalls"] = calls
    else:
        msg[list_key] = calls
    return {"message": msg}


def results(resp) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    return resp.json()["results"]


def result_of(item: dict[str, Any]) -> dict[str, Any]:
    assert "error" not in item, item
    return json.loads(item["result"])


def spoken(item: dict[str, Any]) -> str:
    return item["message"]["content"]


def single_line(item: dict[str, Any]) -> bool:
    texts = [item.get("result"), item.get("error"), (item.get("message") or {}).get("content")]
    return all("\n" not in t and "\r" not in t for t in texts if t is not None)


def first_slot(client: TestClient, phone: str, when: str | None = None, **args: Any) -> dict[str, Any]:
    r = client.post("/vapi/webhook", json=tool_calls(phone, [tc("avail-" + secrets.token_hex(4),
                                                               "check_availability", {"date": when or day(), **args})]),
                    headers=AUTH)
    return result_of(results(r)[0])["slots"][0]


@contextmanager
def serve_process(database_url: str, what: str = "", **env: str) -> Iterator[str]:
    """`voxbook serve` (uvicorn) as a subprocess on a free port of 127.0.0.1, as the given database user;
    yields its base URL once /health says the database answers, and stops it after."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "VAPI_SECRET": SECRET, **env}
    # Its output to a file, not a pipe: a pipe nobody reads fills (64 KiB of log lines) and blocks the server.
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxbook.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=Path(__file__).resolve().parent.parent, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"

    def output() -> str:
        log.seek(0)
        return log.read()[-5000:]

    last = "no answer"
    deadline = time.monotonic() + 90   # a loaded machine (the whole suite, CI beside it) starts it slowly
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"voxbook serve exited {proc.returncode}:\n{output()}")
            try:
                r = httpx.get(base + "/health", timeout=5)
                last = f"{r.status_code} {r.text[:300]}"
                if r.json().get("database") == "ok":
                    break
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.05)
        else:
            pytest.fail(f"voxbook serve did not come up{what} (last /health: {last}):\n{output()}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
