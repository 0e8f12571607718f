"""Benchmark 9: the soak (issue 18) -- a compressed hour of a busy clinic network, memory / connections / table
sizes sampled throughout and required to be flat at the end.

What runs (bench/README.md, "9. Soak" says why each number):
* voxbook's own app (``voxbook.api.app:create_app`` under uvicorn, the options of ``voxbook serve``) and one SMS
  worker (``workers/sms.py``, its real housekeeping) sending to a fake Twilio, all over 127.0.0.1;
* ``plan.clinics`` clinics, each taking ``CALLS_PER_CLINIC_HOUR`` Vapi calls an hour (open loop, Poisson arrivals):
  bookings with a texted code, abandoned holds, returning callers who cancel or move, front-desk transfers,
  enquiries scored as leads; every call ends with an end-of-call report;
* every SMS the fake receives gets Twilio's two signed status callbacks (sent, delivered); some confirmations
  get a signed "C" reply; one signed-in member of staff per clinic polls ``/dashboard/changes`` and opens the
  schedule and the queues now and then;
* ``voxbook.tool_calls`` starts with the two days of history the retention keeps (``KEEP_DAYS``), laid out so
  that the worker's purge deletes, during the compressed hour, one hour of history -- what a real hour's purges
  delete (module docstring of :func:`_prefill_history`).

Sampled every ``plan.sample_every`` seconds: RSS (and private RSS) of the API process and of the worker, the
PostgreSQL backends (count, private and total RSS), every voxbook table's total and index size, live and dead
tuples, autovacuum / autoanalyze counts. The flatness readings compare the last third of the run with the middle
third (the first third is warm-up: caches, pools and autovacuum's first passes).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import queue
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import psycopg
from psycopg.rows import dict_row
from twilio.request_validator import RequestValidator

from voxbook.migrate import ensure_login_role
from bench.common import (APP_ROLE, CLK_TCK, REPO_ROOT, BenchResult, BenchServer, Row, Scale, cpu_seconds,
                          create_clinic, log, ratio, serve_app)
from bench.fake_twilio import FastFakeTwilio

# -- what "a busy clinic network" is ---------------------------------------------------------------------------
# A busy dental / medical clinic answers ~15-25 calls an hour at its peak, through the voice receptionist; 20 is
# used for every hour of the soak (the whole hour at peak). A call makes ~3-5 tool calls (availability, hold,
# code, verify, confirmation), ~2 SMS (code and confirmation; hot-lead alerts for some enquiries), each SMS two
# Twilio status callbacks, and a front desk keeps the dashboard open.
CALLS_PER_CLINIC_HOUR = 20
# The retention (api.purge_tool_calls, workers/sms.py): tool_calls older than 2 days are deleted. A clinic day is
# ~10 open hours at about this rate; nights are quiet: the history kept is 2 x 10 hours of this traffic.
KEEP_DAYS = 2
OPEN_HOURS_PER_DAY = 10
# The dashboard: desk.js polls /dashboard/changes when its event stream is down -- the dearer case, taken for
# every clinic -- every 15 s of clinic time; a schedule page every 10th poll, the queues every 20th.
DASHBOARD_POLL_SIM_SECONDS = 15.0
# A call lasts ~4 minutes of clinic time; the caller speaks between tool calls.
CALL_SIM_SECONDS = 240.0
CALL_STEPS = 6
CALENDARS = 4
TWILIO_SID = "AC" + "5" * 32
TWILIO_TOKEN = "soak-twilio-token"
PUBLIC_BASE_URL = "https://soak.voxbook.example"
CODE_RE = re.compile(r"^(\d{4,8}) is your ")
CALL_KINDS = (("book", 50), ("abandon", 10), ("cancel", 8), ("reschedule", 5), ("front_desk", 10),
              ("enquiry", 17))
# Flatness tolerances (last third vs middle third); README "9. Soak" justifies each.
TOL_RSS = 0.10          # Python processes: allocator arenas and caches wander by a few %; a leak of 10 % of the
                        # process per 20 minutes of clinic time is ~ +30 %/hour, far above the noise
TOL_PG_MEM = 0.15       # backends' private memory: plan/catalog caches of pooled sessions fill as new plans appear
TOL_TOOL_CALLS = 0.05   # the retained window moves by < 1 % per 20 minutes; 5 % leaves room for page granularity
TC_GROWTH_TARGET = 2.0  # %/hour of clinic time: a table that reuses what each purge frees moves by less than its
                        # page granularity; one that does not grows by an hour of calls (~5 % of two days' window)
TOL_DEAD = 1.5          # dead tuples: the last third's peak at most 1.5 x the middle third's (or the trigger point)


@dataclass(frozen=True)
class Plan:
    clinics: int
    real_seconds: float        # the compressed hour, measured part
    sim_seconds: float = 3600.0
    sample_every: float = 5.0
    warmup_calls: int = 2      # per clinic kind mix, before sampling starts: first-use imports and plans
    max_calls_in_flight: int = 120

    @property
    def compression(self) -> float:
        return self.sim_seconds / self.real_seconds

    @staticmethod
    def for_scale(scale: Scale) -> Plan:
        seconds = float(os.environ.get("VOXBOOK_SOAK_SECONDS") or 0)
        if scale.name == "quick":
            return Plan(clinics=3, real_seconds=seconds or 18, sample_every=0.75, warmup_calls=1)
        return Plan(clinics=int(os.environ.get("VOXBOOK_SOAK_CLINICS") or 50), real_seconds=seconds or 720)


# -- processes -------------------------------------------------------------------------------------------------


def _rss(pid: int) -> dict[str, float]:
    """VmRSS and RssAnon (private: what a leak grows; shared buffers are RssShmem) of one process, MB."""
    out = {"rss_mb": 0.0, "anon_mb": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = int(line.split()[1]) / 1024
            elif line.startswith("RssAnon:"):
                out["anon_mb"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def _pg_children(server: BenchServer) -> list[int]:
    pid = int((server.cluster.data_dir / "postmaster.pid").read_text().split()[0])
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _env(server: BenchServer, db: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VAPI_", "ADMIN_", "TWILIO_", "SMS_", "WORKER_", "PUBLIC_"))}
    env.update(DATABASE_URL=server.url(db, app=True), PYTHONPATH=str(REPO_ROOT), TWILIO_ACCOUNT_SID=TWILIO_SID,
               TWILIO_AUTH_TOKEN=TWILIO_TOKEN, PUBLIC_BASE_URL=PUBLIC_BASE_URL, **extra)
    return env


def _serve(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, int]:
    return serve_app("voxbook.api.app:create_app", env, log_path, "the soak API")


# The worker as `voxbook worker` runs it (Settings.from_env, WorkerConfig.from_settings, run_worker), with one
# override: the purge's cadence, compressed like the clock of the traffic (see _prefill_history).
_WORKER = """
import sys
from voxbook.cli import _setup_logging
from voxbook.settings import Settings
from voxbook.workers.sms import WorkerConfig, run_worker
settings = Settings.from_env()
_setup_logging()
sys.exit(run_worker(WorkerConfig.from_settings(settings, worker_id="soak", purge_every_seconds=float(sys.argv[1])),
                    settings))
"""


def _start_worker(env: dict[str, str], purge_every: float, log_path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(purge_every)], env={**env, "SMS_PROVIDER": "twilio"},
                            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=log_path.open("wb"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the soak worker exited {proc.returncode}: {log_path.read_text()[-1500:]}")
        if b'"worker.connected"' in log_path.read_bytes():
            return proc
        time.sleep(0.05)
    raise RuntimeError("the soak worker did not connect within 30 s")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RecordingFakeTwilio(FastFakeTwilio):
    """The fast fake, also keeping what the soak answers to: each message's body (the code a caller reads back),
    its StatusCallback and sid (Twilio's callbacks), handed to the traffic loop through a queue."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: queue.SimpleQueue = queue.SimpleQueue()
        self.sids: list[str] = []

    def _created(self, account: str, body: bytes, now: float) -> dict:
        answer = super()._created(account, body, now)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.messages.put({"sid": answer["sid"], "to": form.get("To", ""), "from": form.get("From", ""),
                           "body": form.get("Body", ""), "callback": form.get("StatusCallback")})
        return answer


# -- setup -----------------------------------------------------------------------------------------------------


@dataclass
class Clinic:
    org_id: str
    phone: str
    staff_email: str
    staff_password: str


def _setup_clinics(url: str, n: int) -> list[Clinic]:
    from voxbook.api.dashboard_auth import hash_password

    clinics = []
    for i in range(n):
        phone = f"+1555{1000000 + i:07d}"
        org = create_clinic(url, CALENDARS, phone, "UTC", "08:00", "18:00")
        clinics.append(Clinic(org, phone, f"desk-{i}@soak.example", "pw-" + secrets.token_urlsafe(12)))
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        # Each clinic texts from its own number (replies find it) and has an owner's phone for hot-lead alerts.
        conn.execute("UPDATE voxbook.organizations SET sms_from = phone, "
                     "hot_lead_alert_phone = '+1555' || lpad((2000000 + row_number)::text, 7, '0') "
                     "FROM (SELECT id AS oid, row_number() OVER (ORDER BY phone) FROM voxbook.organizations) AS r "
                     "WHERE id = r.oid")
        for c in clinics:
            invite = conn.execute("SELECT api.invite_staff(%s, %s, 'Front Desk', 'front_desk', 'soak') AS r",
                                  [c.org_id, c.staff_email]).fetchone()["r"]
            acc = conn.execute("SELECT api.accept_staff_invite(%s, %s) AS r",
                               [invite["token"], hash_password(c.staff_password)]).fetchone()["r"]
            conn.execute("SELECT api.dashboard_logout(%s)", [acc["session"]])
        conn.execute("ANALYZE")
    return clinics


def _prefill_history(url: str, clinics: list[Clinic], plan: Plan, per_sim_hour: int, t0: datetime) -> dict:
    """Two days of tool_calls history, as the retention keeps it in steady state, before the run.

    A compressed hour cannot age a row two days, so the history's *oldest hour* is compressed like the traffic:
    its rows are dated from ``t0 - KEEP_DAYS`` to ``t0 - KEEP_DAYS + real run``, so the worker's purge (real clock,
    ``older_than`` 2 days, its cadence compressed too) deletes them during the run at the rate the run inserts new
    ones -- what one real hour of purges deletes in production. The other ``KEEP_DAYS x OPEN_HOURS_PER_DAY - 1``
    hours are dated after that and stay. Responses are copies of the warm-up's real rows (same sizes)."""
    hours = KEEP_DAYS * OPEN_HOURS_PER_DAY
    total = per_sim_hour * hours
    oldest = per_sim_hour
    keep = timedelta(days=KEEP_DAYS)
    start_old = t0 - keep
    span_old = timedelta(seconds=plan.real_seconds)
    span_rest = keep - span_old - timedelta(minutes=5)
    orgs = [c.org_id for c in clinics]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "WITH s AS (SELECT array_agg(response) AS r, array_agg(tool_name) AS t FROM voxbook.tool_calls), "
            "g AS (SELECT g FROM generate_series(1, %(total)s) AS g) "
            "INSERT INTO voxbook.tool_calls (org_id, tool_call_id, tool_name, vapi_call_id, response, created_at) "
            "SELECT (%(orgs)s::uuid[])[1 + g %% %(n)s], 'hist-' || g, s.t[1 + g %% cardinality(s.t)], "
            "       'hist-call-' || (g / 5), s.r[1 + g %% cardinality(s.r)], "
            "       CASE WHEN g <= %(oldest)s THEN %(a)s + %(span_old)s * (g::float8 / %(oldest)s) "
            "            ELSE %(b)s + %(span_rest)s * ((g - %(oldest)s)::float8 / (%(total)s - %(oldest)s)) END "
            "  FROM g, s",
            {"total": total, "orgs": orgs, "n": len(orgs), "oldest": oldest, "a": start_old, "span_old": span_old,
             "b": start_old + span_old, "span_rest": span_rest})
        conn.execute("VACUUM ANALYZE voxbook.tool_calls")
        n = conn.execute("SELECT count(*) FROM voxbook.tool_calls").fetchone()[0]
    return {"rows": n, "per_sim_hour": per_sim_hour, "hours_kept": hours, "oldest_hour_compressed_into_s":
            plan.real_seconds}


# -- the sampler -----------------------------------------------------------------------------------------------

_TABLES_SQL = """
SELECT s.relname AS t, pg_total_relation_size(s.relid) AS total, pg_indexes_size(s.relid) AS idx,
       s.n_live_tup AS live, s.n_dead_tup AS dead, s.autovacuum_count AS av, s.autoanalyze_count AS aa,
       coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                  WHERE option_name = 'autovacuum_vacuum_scale_factor'),
                current_setting('autovacuum_vacuum_scale_factor')::float8) AS sf,
       coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                  WHERE option_name = 'autovacuum_vacuum_threshold'),
                current_setting('autovacuum_vacuum_threshold')::float8) AS th
  FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
 WHERE s.schemaname = 'voxbook'
"""


class Sampler(threading.Thread):
    def __init__(self, server: BenchServer, url: str, api_pid: int, worker_pid: int, every: float, seconds: float):
        super().__init__(name="soak-sampler", daemon=True)
        # Samples while calls arrive, not during the drain after it (a quieter tail would flatter the last third).
        self.seconds = seconds
        self.server, self.url, self.api_pid, self.worker_pid, self.every = server, url, api_pid, worker_pid, every
        self.samples: list[dict[str, Any]] = []
        self.started_at = 0.0
        self._halt = threading.Event()
        self.error: str | None = None

    def stop(self) -> None:
        self._halt.set()
        self.join(30)

    def run(self) -> None:
        self.started_at = time.monotonic()
        try:
            with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
                while True:
                    self.samples.append(self.sample(conn))
                    if self._halt.wait(self.every) or time.monotonic() - self.started_at >= self.seconds:
                        self.samples.append(self.sample(conn))
                        return
        except Exception as exc:  # noqa: BLE001 - reported in the results, the run goes on
            self.error = f"{type(exc).__name__}: {exc}"

    def sample(self, conn: psycopg.Connection) -> dict[str, Any]:
        kids = _pg_children(self.server)
        mems = [_rss(p) for p in kids]
        conns = conn.execute("SELECT backend_type, count(*) AS n FROM pg_stat_activity GROUP BY 1").fetchall()
        client_pids = [r["pid"] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchall()]
        client_anon = sum(_rss(p)["anon_mb"] for p in client_pids)
        tables = {r["t"]: {k: r[k] for k in ("total", "idx", "live", "dead", "av", "aa", "sf", "th")}
                  for r in conn.execute(_TABLES_SQL).fetchall()}
        tool_calls = conn.execute("SELECT count(*) AS n FROM voxbook.tool_calls").fetchone()["n"]
        return {"t": round(time.monotonic() - self.started_at, 2), "api": _rss(self.api_pid),
                "worker": _rss(self.worker_pid), "pg_processes": len(kids),
                "pg_rss_mb": round(sum(m["rss_mb"] for m in mems), 1),
                "pg_anon_mb": round(sum(m["anon_mb"] for m in mems), 1),
                # Per client backend: the pool may hold one more or one fewer connection from one sample to the
                # next (and autovacuum workers come and go); a leak grows what each backend keeps.
                "pg_client_anon_mb_each": round(client_anon / max(1, len(client_pids)), 2),
                "client_backends": sum(r["n"] for r in conns if r["backend_type"] == "client backend"),
                "backends": {r["backend_type"]: r["n"] for r in conns}, "tool_calls_rows": tool_calls,
                "tables": tables}


# -- the traffic -----------------------------------------------------------------------------------------------


@dataclass
class Stats:
    requests: int = 0
    not_ok: int = 0
    calls: int = 0
    booked: int = 0
    refused_claims: int = 0
    code_timeouts: int = 0
    status_callbacks: int = 0
    replies: int = 0
    dashboard: int = 0


class Traffic:
    def __init__(self, port: int, secret: str, clinics: list[Clinic], fake: RecordingFakeTwilio, plan: Plan):
        self.base = f"http://127.0.0.1:{port}"
        self.secret, self.clinics, self.fake, self.plan = secret, clinics, fake, plan
        self.stats = Stats()
        self.kinds: dict[str, int] = {}
        self.failures: list[str] = []
        self.refusals: list[str] = []
        self.sessions: dict[str, dict[str, str]] = {}   # org_id -> the signed-in desk's cookies
        self.codes: dict[str, str] = {}           # caller phone -> last code texted to it
        self.booked: list[tuple[Clinic, str]] = []  # (clinic, caller phone) with an upcoming appointment
        self.rng = random.Random(18)
        self.validator = RequestValidator(TWILIO_TOKEN)
        self.tasks: set[asyncio.Task] = set()
        self.client: httpx.AsyncClient | None = None
        self._n = 0

    def sim(self, sim_seconds: float) -> float:
        """Real seconds for a span of clinic time."""
        return sim_seconds / self.plan.compression

    def _fail(self, what: str) -> None:
        self.stats.not_ok += 1
        if len(self.failures) < 10:
            self.failures.append(what[:300])

    async def post(self, path: str, **kw: Any) -> httpx.Response | None:
        self.stats.requests += 1
        try:
            r = await self.client.post(self.base + path, **kw)
        except httpx.HTTPError as exc:
            self._fail(f"{path}: {type(exc).__name__}")
            return None
        if r.status_code >= 300 and r.status_code != 303:
            self._fail(f"{path}: {r.status_code} {r.text[:200]}")
        return r

    # -- Vapi ---------------------------------------------------------------------------------------------------
    def _envelope(self, clinic: Clinic, call_id: str, caller: str, message: dict[str, Any]) -> dict[str, Any]:
        customer = {"number": caller}
        return {"message": {"timestamp": int(time.time() * 1000),
                            "call": {"id": call_id, "type": "inboundPhoneCall", "customer": customer},
                            "phoneNumber": {"number": clinic.phone}, "customer": customer, **message}}

    async def tool(self, clinic: Clinic, call_id: str, caller: str, name: str, **args: Any) -> dict[str, Any]:
        self._n += 1
        tc = {"id": f"tc-{self._n}-{uuid.uuid4().hex[:8]}", "type": "function",
              "function": {"name": name, "arguments": args}}
        r = await self.post("/vapi/webhook", json=self._envelope(clinic, call_id, caller,
                                                                 {"type": "tool-calls", "toolCallList": [tc]}),
                            headers={"X-Vapi-Secret": self.secret})
        if r is None or r.status_code != 200:
            return {"success": False}
        (result,) = r.json()["results"]
        if "error" in result:
            answer = {"success": False, "error": result["error"]}
        else:
            answer = json.loads(result["result"])
        if answer.get("success") is False and len(self.refusals) < 10:
            # Business refusals (a slot just taken, a code mistyped) are part of the traffic; kept as samples.
            self.refusals.append(f"{name}: {json.dumps(answer)[:300]}")
        return answer

    async def end_of_call(self, clinic: Clinic, call_id: str, caller: str, booked: bool, minutes: int) -> None:
        started = datetime.now(UTC) - timedelta(minutes=minutes)
        interested = "I'd like teeth whitening, how much does it cost? Can I come this week?"
        await self.post("/vapi/webhook", headers={"X-Vapi-Secret": self.secret}, json=self._envelope(
            clinic, call_id, caller, {
                "type": "end-of-call-report", "endedReason": "customer-ended-call",
                "startedAt": started.isoformat().replace("+00:00", "Z"),
                "endedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "artifact": {"transcript": f"User: {interested}\nAI: Let me check the schedule.", "messages": []},
                "analysis": {"summary": "Caller asked about whitening." + (" Booked." if booked else ""),
                             "structuredData": {"service": "teeth-whitening", "sentiment": "positive",
                                                "patientName": "Soak Caller"},
                             "successEvaluation": "true" if booked else "false"}}))

    async def pause(self) -> None:
        # The caller speaking between two tool calls, in clinic time.
        await asyncio.sleep(self.sim(self.rng.uniform(0.5, 1.5) * CALL_SIM_SECONDS / CALL_STEPS))

    async def wait_code(self, phone: str) -> str | None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if code := self.codes.pop(phone, None):
                return code
            await asyncio.sleep(0.05)
        self.stats.code_timeouts += 1
        return None

    def _day(self) -> str:
        return (date.today() + timedelta(days=self.rng.randint(1, 60))).isoformat()

    async def _hold(self, clinic: Clinic, call_id: str, caller: str) -> dict[str, Any] | None:
        avail = await self.tool(clinic, call_id, caller, "check_availability", date=self._day())
        await self.pause()
        for slot in (avail.get("slots") or [])[:2]:
            held = await self.tool(clinic, call_id, caller, "reserve_atomic", slotId=slot["time"],
                                   calendarId=slot["calendarId"], patientName="Soak Caller", patientPhone=caller)
            if held.get("success"):
                return held
            self.stats.refused_claims += 1
        return None

    async def call(self, kind: str) -> None:
        clinic = self.rng.choice(self.clinics)
        if kind in ("cancel", "reschedule") and self.booked:
            clinic, caller = self.booked.pop(self.rng.randrange(len(self.booked)))
        else:
            kind = "book" if kind in ("cancel", "reschedule") else kind
            caller = f"+1555{3000000 + self.rng.randrange(6000000):07d}"
        call_id = f"soak-{uuid.uuid4()}"
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.stats.calls += 1
        booked = False
        if kind in ("book", "abandon"):
            held = await self._hold(clinic, call_id, caller)
            if held and kind == "book":
                await self.pause()
                sent = await self.tool(clinic, call_id, caller, "send_otp_code", holdId=held["holdId"])
                code = await self.wait_code(caller) if sent.get("success") else None
                if code:
                    await self.pause()
                    ok = await self.tool(clinic, call_id, caller, "verify_otp", holdId=held["holdId"], providedOTP=code)
                    if ok.get("success"):
                        await self.tool(clinic, call_id, caller, "send_confirmation_sms",
                                        appointmentId=ok["appointmentId"])
                        booked = True
                        self.stats.booked += 1
                        self.booked.append((clinic, caller))
        elif kind == "cancel":
            await self.tool(clinic, call_id, caller, "find_my_appointments")
            await self.pause()
            await self.tool(clinic, call_id, caller, "cancel_my_appointment", which=1, reason="soak")
        elif kind == "reschedule":
            await self.tool(clinic, call_id, caller, "find_my_appointments")
            await self.pause()
            avail = await self.tool(clinic, call_id, caller, "check_availability", date=self._day())
            if slots := avail.get("slots"):
                await self.pause()
                moved = await self.tool(clinic, call_id, caller, "reschedule_my_appointment", which=1,
                                        slotId=slots[-1]["time"], calendarId=slots[-1]["calendarId"])
                booked = bool(moved.get("success"))
            self.booked.append((clinic, caller))
        elif kind == "front_desk":
            await self.pause()
            await self.post("/vapi/webhook", headers={"X-Vapi-Secret": self.secret},
                            json=self._envelope(clinic, call_id, caller, {"type": "transfer-destination-request"}))
        else:  # enquiry: availability, then a long interested call scored as a lead
            await self.tool(clinic, call_id, caller, "check_availability", date=self._day())
            await self.pause()
        await self.end_of_call(clinic, call_id, caller, booked, minutes=4 if kind != "enquiry" else 9)

    # -- Twilio ---------------------------------------------------------------------------------------------------
    async def twilio_post(self, public_url: str, form: dict[str, str]) -> None:
        parts = urlsplit(public_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sig = self.validator.compute_signature(public_url, form)
        await self.post(path, content=urlencode(form), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})

    async def after_send(self, m: dict[str, Any]) -> None:
        """What Twilio does after accepting a message: 'sent', then 'delivered'; the patient may reply C."""
        for status in ("sent", "delivered"):
            await asyncio.sleep(self.sim(self.rng.uniform(2, 10)))
            if m["callback"]:
                self.stats.status_callbacks += 1
                await self.twilio_post(m["callback"], {
                    "MessageSid": m["sid"], "SmsSid": m["sid"], "MessageStatus": status, "SmsStatus": status,
                    "AccountSid": TWILIO_SID, "From": m["from"], "To": m["to"], "ApiVersion": "2010-04-01"})
        if "Reply C to confirm" in m["body"] and self.rng.random() < 0.3:
            await asyncio.sleep(self.sim(self.rng.uniform(30, 300)))
            self.stats.replies += 1
            await self.twilio_post(PUBLIC_BASE_URL + "/twilio/inbound", {
                "MessageSid": "SM" + uuid.uuid4().hex, "SmsSid": "SM" + uuid.uuid4().hex, "AccountSid": TWILIO_SID,
                "From": m["to"], "To": m["from"], "Body": "C", "NumMedia": "0", "ApiVersion": "2010-04-01"})

    async def pump_sms(self, done: asyncio.Event) -> None:
        # Runs until the last call has ended: a call still in progress after the arrivals stop waits for its code.
        while not done.is_set() or not self.fake.messages.empty():
            try:
                while True:
                    m = self.fake.messages.get_nowait()
                    if code := CODE_RE.match(m["body"]):
                        self.codes[m["to"]] = code.group(1)
                    self.spawn(self.after_send(m))
            except queue.Empty:
                pass
            await asyncio.sleep(0.05)

    # -- dashboard ------------------------------------------------------------------------------------------------
    @staticmethod
    def _keep(jar: dict[str, str], r: httpx.Response) -> None:
        for line in r.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in line.lower():
                jar[name.strip()] = value
            else:
                jar.pop(name.strip(), None)

    @staticmethod
    def _cookie(jar: dict[str, str]) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}

    async def sign_in_all(self) -> None:
        """One member of staff per clinic signs in, once (a session lasts the working day): a few at a time, as
        a morning's sign-ins spread out -- argon2 is meant to be slow, 50 at once would be an attack's shape.

        The deployment is https (PUBLIC_BASE_URL): its cookies are Secure and its Origin is the public one. The
        load comes over plain http on 127.0.0.1, where a client keeps Secure cookies to itself, so this browser
        sends them by hand, as the browser behind the TLS proxy does."""
        gate = asyncio.Semaphore(2)

        async def one(clinic: Clinic) -> None:
            jar: dict[str, str] = {}
            async with gate, httpx.AsyncClient(base_url=self.base, timeout=120,
                                               headers={"Origin": PUBLIC_BASE_URL}) as c:
                form = await c.get("/dashboard")
                self._keep(jar, form)
                csrf = re.search(r'<meta name="csrf-token" content="([^"]*)">', form.text).group(1)
                r = await c.post("/dashboard/login", headers=self._cookie(jar), data={
                    "email": clinic.staff_email, "password": clinic.staff_password, "_csrf": csrf})
                self._keep(jar, r)
                if r.status_code != 303:
                    raise RuntimeError(f"sign-in answered {r.status_code}")
            self.sessions[clinic.org_id] = jar

        await asyncio.gather(*(one(c) for c in self.clinics))

    async def staff(self, clinic: Clinic, until: float) -> None:
        """The desk's open dashboard: the changes poll, the schedule and the queues now and then."""
        jar = self.sessions[clinic.org_id]
        every = max(0.5, self.sim(DASHBOARD_POLL_SIM_SECONDS))
        async with httpx.AsyncClient(base_url=self.base, timeout=60, headers={"Origin": PUBLIC_BASE_URL}) as c:
            await asyncio.sleep(self.rng.uniform(0, every))
            k = 0
            while time.monotonic() < until:
                path = ("/dashboard/schedule" if k % 10 == 5 else "/dashboard/queues" if k % 20 == 11
                        else "/dashboard/changes")
                k += 1
                self.stats.requests += 1
                self.stats.dashboard += 1
                try:
                    r = await c.get(path, headers=self._cookie(jar))
                    if r.status_code != 200:
                        self._fail(f"{path}: {r.status_code}")
                except httpx.HTTPError as exc:
                    self._fail(f"{path}: {type(exc).__name__}")
                await asyncio.sleep(every)

    # -- the run --------------------------------------------------------------------------------------------------
    def spawn(self, coro) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self._done)

    def _done(self, t: asyncio.Task) -> None:
        self.tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            self._fail(f"task: {type(t.exception()).__name__}: {t.exception()}")

    async def run(self, seconds: float, calls_per_second: float, dashboard: bool, warmup: bool = False) -> None:
        limits = httpx.Limits(max_connections=48, max_keepalive_connections=48)
        async with httpx.AsyncClient(timeout=60, limits=limits) as self.client:
            until = time.monotonic() + seconds
            calls_over = asyncio.Event()
            pump = asyncio.create_task(self.pump_sms(calls_over))
            staff = [asyncio.create_task(self.staff(c, until)) for c in self.clinics] if dashboard else []
            kinds, weights = zip(*CALL_KINDS)
            if warmup:
                for kind in kinds:
                    for _ in range(self.plan.warmup_calls):
                        self.spawn(self.call(kind))
            else:
                while (now := time.monotonic()) < until:
                    await asyncio.sleep(min(self.rng.expovariate(calls_per_second), until - now))
                    if time.monotonic() < until and len(self.tasks) < self.plan.max_calls_in_flight:
                        self.spawn(self.call(self.rng.choices(kinds, weights)[0]))
            await asyncio.gather(*staff)
            # The calls in progress finish, and their SMS get their callbacks (bounded).
            deadline = time.monotonic() + 120
            while self.tasks and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            calls_over.set()
            await asyncio.wait_for(pump, 10)
            for t in list(self.tasks):
                t.cancel()


# -- readings --------------------------------------------------------------------------------------------------


def _thirds(samples: list[dict], get) -> tuple[list[float], list[float]]:
    n = len(samples)
    vals = [float(get(s)) for s in samples]
    return vals[n // 3: 2 * n // 3], vals[2 * n // 3:]


def _mean(v: list[float]) -> float:
    return sum(v) / len(v) if v else math.nan


def _slope_per_hour(samples: list[dict], get, plan: Plan) -> float:
    """Least-squares slope over the last third, per hour of clinic time."""
    last = samples[2 * len(samples) // 3:]
    if len(last) < 2:
        return math.nan
    xs = [s["t"] * plan.compression / 3600 for s in last]
    ys = [float(get(s)) for s in last]
    mx, my = _mean(xs), _mean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else math.nan


def _flat(samples, get, plan, tol: float, floor: float = 0.0) -> dict[str, Any]:
    mid, last = _thirds(samples, get)
    m, l = _mean(mid), _mean(last)
    return {"middle": round(m, 2), "last": round(l, 2), "ratio": round(ratio(l, m), 4) if m else math.nan,
            "slope_per_sim_hour": round(_slope_per_hour(samples, get, plan), 2), "tolerance": tol,
            "flat": bool(l <= m * (1 + tol) + floor)}


def run_soak(server: BenchServer, scale: Scale) -> BenchResult:
    plan = Plan.for_scale(scale)
    res = BenchResult("soak")
    db = "bench_soak"
    url = server.new_db(db)
    log(f"soak: {plan.clinics} clinics, {CALLS_PER_CLINIC_HOUR} calls/clinic/hour, one hour of clinic time in "
        f"{plan.real_seconds:.0f} s ({plan.compression:.0f}x)")
    clinics = _setup_clinics(url, plan.clinics)
    # Texted codes need the code pepper, a setting of the API's login role in production (VOXBOOK_CODE_PEPPER at
    # `voxbook db migrate`); the shared bench role has none, the soak's calls need one.
    ensure_login_role(url, APP_ROLE, code_pepper=secrets.token_urlsafe(32))
    secret = secrets.token_urlsafe(24)
    log_dir = Path(server.cluster.socket_dir)
    env = _env(server, db, VAPI_SECRET=secret)
    fake = RecordingFakeTwilio().start()
    env["TWILIO_API_BASE"] = fake.base_url
    api = worker = None
    sampler: Sampler | None = None
    # The worker's hourly purge, compressed: every 10 minutes of clinic time, so the delete -> autovacuum ->
    # reuse cycle is seen six times inside the hour (production deletes the same rows in one go, hourly).
    purge_every = max(1.0, 600 / plan.compression)
    try:
        api, port = _serve(env, log_dir / "bench-soak-api.log")
        worker = _start_worker(env, purge_every, log_dir / "bench-soak-worker.log")
        traffic = Traffic(port, secret, clinics, fake, plan)
        asyncio.run(traffic.sign_in_all())
        # Warm-up: every kind of call once per clinic-ish, dashboards signed in -- first-use imports, templates
        # and plans are not a leak; then the history is laid down under a worker that is not yet purging.
        asyncio.run(traffic.run(max(3.0, traffic.sim(CALL_SIM_SECONDS) * 1.5), 0, dashboard=True, warmup=True))
        log(f"soak warm-up: {traffic.stats.calls} calls, {traffic.stats.requests} requests")
        calls_per_second = plan.clinics * CALLS_PER_CLINIC_HOUR / plan.real_seconds
        with psycopg.connect(url) as conn:
            per_call = conn.execute("SELECT count(*)::float8 / greatest(1, count(DISTINCT vapi_call_id)) "
                                    "FROM voxbook.tool_calls").fetchone()[0]
        # Tool calls per call, as the warm-up made them (a vapi_call_id per call; 4 if that reading fails).
        per_call = per_call if 1 <= per_call <= 10 else 4.0
        per_sim_hour = int(plan.clinics * CALLS_PER_CLINIC_HOUR * per_call)
        t0 = datetime.now(UTC) + timedelta(seconds=5)
        history = _prefill_history(url, clinics, plan, per_sim_hour, t0)
        log(f"soak history: {history['rows']} tool_calls rows ({per_sim_hour}/hour x {history['hours_kept']} h)")
        sampler = Sampler(server, url, api.pid, worker.pid, plan.sample_every, plan.real_seconds)
        cpu0 = (_process_cpu(api.pid), _process_cpu(worker.pid), cpu_seconds(server.cluster))
        stats0 = asdict(traffic.stats)
        sampler.start()
        t_start = time.monotonic()
        asyncio.run(traffic.run(plan.real_seconds, calls_per_second, dashboard=True))
        elapsed = time.monotonic() - t_start
        sampler.stop()
        cpu = [a - b for a, b in zip((_process_cpu(api.pid), _process_cpu(worker.pid), cpu_seconds(server.cluster)),
                                     cpu0)]
        # Drain: the worker sends what is still due (bounded), then the checks.
        with psycopg.connect(url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and conn.execute(
                    "SELECT count(*) FROM voxbook.sms_outbox WHERE status IN ('queued', 'sending') "
                    "AND send_after <= now()").fetchone()[0]:
                time.sleep(0.5)
            checks = conn.execute("""
                SELECT bench.overlapping_holds() AS overlapping_holds,
                       (SELECT count(*) FROM (SELECT provider_message_id FROM voxbook.sms_outbox
                          WHERE provider_message_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d)
                         AS duplicate_provider_ids,
                       (SELECT count(*) FROM voxbook.sms_outbox WHERE status IN ('queued', 'sending')
                          AND send_after <= now()) AS due_not_sent,
                       (SELECT count(*) FROM voxbook.sms_outbox WHERE status = 'failed') AS sms_failed,
                       (SELECT count(*) FROM voxbook.appointments) AS appointments,
                       (SELECT count(*) FROM voxbook.appointments a WHERE NOT EXISTS (SELECT 1 FROM voxbook.sms_outbox o
                          WHERE o.appointment_id = a.id AND o.kind = 'confirmation'))
                         AS appointments_without_confirmation,
                       (SELECT count(*) FROM voxbook.tool_calls WHERE created_at < now() - %s::interval)
                         AS tool_calls_past_keep,
                       (SELECT count(*) FROM voxbook.callback_requests) AS callback_requests,
                       (SELECT count(*) FROM voxbook.calls) AS calls_recorded
            """, [f"{KEEP_DAYS} days {int(2 * purge_every) + 5} seconds"]).fetchone()
            names = ["overlapping_holds", "duplicate_provider_ids", "due_not_sent", "sms_failed", "appointments",
                     "appointments_without_confirmation", "tool_calls_past_keep", "callback_requests", "calls_recorded"]
            res.checks.update(dict(zip(names, checks)))
    finally:
        if sampler and sampler.is_alive():
            sampler.stop()
        _stop(worker)
        _stop(api)
        fake.stop()

    worker_log = (log_dir / "bench-soak-worker.log").read_text().splitlines()
    purged = [json.loads(line).get("deleted", 0) for line in worker_log
              if '"tool_calls.purged"' in line and line.startswith("{")]
    s = sampler.samples
    stats = {k: v - stats0.get(k, 0) for k, v in asdict(traffic.stats).items()}
    readings = {
        "api_rss_mb": _flat(s, lambda x: x["api"]["rss_mb"], plan, TOL_RSS),
        "worker_rss_mb": _flat(s, lambda x: x["worker"]["rss_mb"], plan, TOL_RSS),
        "pg_private_mb": _flat(s, lambda x: x["pg_anon_mb"], plan, TOL_PG_MEM, floor=5.0),
        "pg_private_mb_per_client_backend": _flat(s, lambda x: x["pg_client_anon_mb_each"], plan, TOL_PG_MEM,
                                                  floor=0.5),
        "pg_rss_mb": _flat(s, lambda x: x["pg_rss_mb"], plan, TOL_PG_MEM, floor=5.0),
        # Connections: pooled, so the last third may not open more than the middle third's peak (+1: one pooled
        # connection opened for a burst is the pool working, not a leak).
        "client_backends": {**_flat(s, lambda x: x["client_backends"], plan, 0.0, floor=1.0),
                            "max_middle": max(_thirds(s, lambda x: x["client_backends"])[0] or [0]),
                            "max_last": max(_thirds(s, lambda x: x["client_backends"])[1] or [0])},
        "tool_calls_bytes": _flat(s, lambda x: x["tables"]["tool_calls"]["total"], plan, TOL_TOOL_CALLS),
        "tool_calls_rows": _flat(s, lambda x: x["tool_calls_rows"], plan, TOL_TOOL_CALLS),
    }
    cb = readings["client_backends"]
    cb["flat"] = cb["max_last"] <= cb["max_middle"] + 1
    tables: dict[str, Any] = {}
    for name in sorted(s[-1]["tables"]):
        get = lambda x, n=name: x["tables"][n]     # noqa: E731
        mid, last = _thirds(s, lambda x, n=name: x["tables"][n]["dead"])
        trigger = get(s[-1])["th"] + get(s[-1])["sf"] * get(s[-1])["live"]
        dead_ok = (max(last or [0]) <= max(TOL_DEAD * max(mid or [0]), TOL_DEAD * trigger))
        first, end = get(s[0]), get(s[-1])
        grown_rows = end["live"] - first["live"]
        tables[name] = {
            "bytes_start": first["total"], "bytes_end": end["total"], "index_bytes_end": end["idx"],
            "live_start": first["live"], "live_end": end["live"], "dead_end": end["dead"],
            "dead_max_middle": max(mid or [0]), "dead_max_last": max(last or [0]), "autovacuum_trigger": round(trigger),
            "autovacuums": end["av"] - first["av"], "autoanalyzes": end["aa"] - first["aa"],
            # Bytes added per row added: what a business table costs per booking, steady if no bloat.
            "bytes_per_new_row": round((end["total"] - first["total"]) / grown_rows) if grown_rows > 0 else None,
            "dead_tuples_kept_down": bool(dead_ok)}
    res.checks.update({
        "flat_api_rss": readings["api_rss_mb"]["flat"], "flat_worker_rss": readings["worker_rss_mb"]["flat"],
        "flat_pg_memory": readings["pg_private_mb_per_client_backend"]["flat"],
        "flat_connections": readings["client_backends"]["flat"],
        "flat_tool_calls": readings["tool_calls_bytes"]["flat"] and readings["tool_calls_rows"]["flat"],
        "tool_calls_purged_rows": sum(purged), "tool_call_purges": len(purged),
        "autovacuum_keeping_up": all(t["dead_tuples_kept_down"] for t in tables.values()),
        "tables_not_keeping_up": [n for n, t in tables.items() if not t["dead_tuples_kept_down"]],
        "requests_not_ok": stats["not_ok"], "code_timeouts": stats["code_timeouts"], "sampler_error": sampler.error,
        "samples": len(s)})
    sim_hours = plan.real_seconds * plan.compression / 3600    # calls arrive during the compressed hour only
    n_calls = max(1, stats["calls"])
    label = "9 soak (compressed hour)"
    tc = readings["tool_calls_bytes"]
    tc_growth = round(100 * tc["slope_per_sim_hour"] / tc["middle"], 2) if tc["middle"] else math.nan
    res.rows += [
        Row(label, "API process RSS, last third", readings["api_rss_mb"]["last"], "MB", "middle third",
            readings["api_rss_mb"]["middle"], readings["api_rss_mb"]["ratio"], f"<= {1 + TOL_RSS:.2f} x",
            readings["api_rss_mb"]["flat"]),
        Row(label, "SMS worker RSS, last third", readings["worker_rss_mb"]["last"], "MB", "middle third",
            readings["worker_rss_mb"]["middle"], readings["worker_rss_mb"]["ratio"], f"<= {1 + TOL_RSS:.2f} x",
            readings["worker_rss_mb"]["flat"]),
        Row(label, "PostgreSQL private memory per client backend, last third",
            readings["pg_private_mb_per_client_backend"]["last"], "MB", "middle third",
            readings["pg_private_mb_per_client_backend"]["middle"],
            readings["pg_private_mb_per_client_backend"]["ratio"],
            f"<= {1 + TOL_PG_MEM:.2f} x", readings["pg_private_mb_per_client_backend"]["flat"]),
        Row(label, "PostgreSQL private memory (all processes), last third", readings["pg_private_mb"]["last"], "MB",
            "middle third", readings["pg_private_mb"]["middle"], readings["pg_private_mb"]["ratio"]),
        Row(label, "client backends, last third (peak)", readings["client_backends"]["max_last"], "", "middle third",
            readings["client_backends"]["max_middle"] or 1.0,
            ratio(readings["client_backends"]["max_last"], readings["client_backends"]["max_middle"] or 1.0),
            "<= middle + 1", readings["client_backends"]["flat"]),
        Row(label, "tool_calls size, last third", readings["tool_calls_bytes"]["last"] / 2**20, "MB", "middle third",
            readings["tool_calls_bytes"]["middle"] / 2**20, readings["tool_calls_bytes"]["ratio"],
            f"<= {1 + TOL_TOOL_CALLS:.2f} x", readings["tool_calls_bytes"]["flat"]),
        # Growth over the last third, projected to an hour of clinic time, as a share of the table: the ratio above
        # says "bounded", this says whether the purged space is reused within the hour (autovacuum on time).
        Row(label, "tool_calls growth per hour of clinic time, last third", tc_growth, "%",
            target=f"<= {TC_GROWTH_TARGET:.0f} %/h", met=bool(tc_growth <= TC_GROWTH_TARGET)),
        Row(label, f"calls per hour of clinic time ({plan.clinics * CALLS_PER_CLINIC_HOUR} planned)",
            stats["calls"] / max(sim_hours, 1e-9), "calls/h"),
        Row(label, "PostgreSQL CPU per call", cpu[2] / n_calls * 1000, "ms"),
        Row(label, "API CPU per call", cpu[0] / n_calls * 1000, "ms"),
    ]
    res.raw = {"plan": {**asdict(plan), "compression": plan.compression, "calls_per_clinic_hour": CALLS_PER_CLINIC_HOUR,
                        "purge_every_real_s": purge_every, "keep_days": KEEP_DAYS},
               "elapsed_s": round(elapsed, 1), "sim_hours": round(sim_hours, 3), "traffic": stats,
               "call_kinds": traffic.kinds, "cpu_s": {"api": cpu[0], "worker": cpu[1], "postgres": cpu[2]},
               "history": history, "purged": purged, "readings": readings, "tables": tables,
               "failures": traffic.failures, "refusals": traffic.refusals, "samples": s}
    log(f"soak: {stats['calls']} calls, {stats['requests']} requests ({stats['not_ok']} not ok), "
        f"{stats['booked']} booked, purges {len(purged)} ({sum(purged)} rows); flat: api "
        f"{readings['api_rss_mb']['ratio']}, worker {readings['worker_rss_mb']['ratio']}, pg per backend "
        f"{readings['pg_private_mb_per_client_backend']['ratio']}, tool_calls "
        f"{readings['tool_calls_bytes']['ratio']}; not keeping up: {res.checks['tables_not_keeping_up']}")
    return res
