"""Benchmark 3: Vapi tool calls over HTTP -- reserve_atomic vs a SELECT 1 endpoint on the same server."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path

import psycopg

from bench.common import (CLK_TCK, REPO_ROOT, BenchResult, BenchServer, Row, Scale, cpu_seconds, create_clinic,
                          log, median, percentile, ratio, serve_app)
from bench.httpload import post_request, run_load

CLINIC_PHONE = "+15550000003"
CALENDARS = 20
SLOTS_PER_DAY = 16


def _serve(server: BenchServer, db: str, secret: str, log_path: Path) -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAPI_", "ADMIN_", "TWILIO_"))}
    env.update(DATABASE_URL=server.url(db, app=True), VAPI_SECRET=secret, PYTHONPATH=str(REPO_ROOT))
    return serve_app("bench.http_app:create_bench_app", env, log_path, "the bench server")


def _process_cpu_seconds(pid: int) -> float:
    # utime + stime of one process (the API server: one uvicorn worker, its threads included)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _reserve_maker(secret: str, run_tag: str, first: int):
    headers = {"X-Vapi-Secret": secret}
    today = date.today()

    def make(i: int) -> bytes:
        n = first + i   # unique across the whole benchmark: every request books a free slot
        cal, rest = n % CALENDARS, n // CALENDARS
        day = today + timedelta(days=2 + rest // SLOTS_PER_DAY)
        slot = datetime.combine(day, dtime(8, 0), UTC) + timedelta(minutes=30 * (rest % SLOTS_PER_DAY))
        caller = f"+1555{2000000 + n % 8000000:07d}"
        body = {"message": {
            "type": "tool-calls",
            "toolCallList": [{"id": f"tc-{run_tag}-{i}", "type": "function", "function": {
                "name": "reserve_atomic",
                "arguments": {"slotId": slot.strftime("%Y-%m-%dT%H:%M:%SZ"), "calendarId": f"c{cal + 1}",
                              "patientName": "Bench Caller", "patientPhone": caller}}}],
            "call": {"id": f"call-{run_tag}-{i}", "customer": {"number": caller}},
            "phoneNumber": {"number": CLINIC_PHONE}}}
        return post_request("/vapi/webhook", json.dumps(body, separators=(",", ":")).encode(), headers)

    return make


def _reserved(status: int, body: bytes) -> bool:
    # The tool result is a JSON string inside the JSON answer: its quotes arrive escaped.
    return status == 200 and b'success\\":true' in body


def run_tool_calls(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("http")
    db = "bench_http"
    url = server.new_db(db)
    create_clinic(url, CALENDARS, CLINIC_PHONE)
    secret = secrets.token_urlsafe(24)
    log_path = Path(server.cluster.socket_dir) / "bench-http-server.log"
    proc, port = _serve(server, db, secret, log_path)
    select_req = post_request("/bench/select1", _reserve_maker(secret, "x", 0)(0).split(b"\r\n\r\n", 1)[1], {})
    used = 0
    runs = {"select1": [], "reserve_atomic": []}
    try:
        async def one(kind: str, tag: str, seconds: float) -> dict:
            nonlocal used
            # CPU per request of the API process and of PostgreSQL (/proc): steady whatever the neighbours do,
            # unlike req/s on the shared box.
            api0, pg0 = _process_cpu_seconds(proc.pid), cpu_seconds(server.cluster)
            if kind == "select1":
                r = await run_load(port, lambda i: select_req, callers=scale.http_callers, seconds=seconds,
                                   max_requests=scale.http_max_requests, ok=lambda s, b: s == 200)
            else:
                r = await run_load(port, _reserve_maker(secret, tag, used), callers=scale.http_callers,
                                   seconds=seconds, max_requests=scale.http_max_requests, ok=_reserved)
                used += r.requests + scale.http_callers
            api_cpu, pg_cpu = _process_cpu_seconds(proc.pid) - api0, cpu_seconds(server.cluster) - pg0
            n = r.requests or 1
            return {"api_cpu_us": api_cpu / n * 1e6, "pg_cpu_us": pg_cpu / n * 1e6,
                    "rps": r.rps, "requests": r.requests, "ok": r.ok, "statuses": r.statuses,
                    "p50_ms": percentile(r.latencies_ms, 50), "p99_ms": percentile(r.latencies_ms, 99),
                    "failures": r.sample_failures}

        async def all_runs() -> None:
            # Warm-up: pool connections opened, statements planned, code paths imported.
            await one("select1", "warm", min(1.0, scale.http_seconds))
            await one("reserve_atomic", "warm", min(1.0, scale.http_seconds))
            for rnd in range(scale.rounds):
                order = ["select1", "reserve_atomic"] if rnd % 2 == 0 else ["reserve_atomic", "select1"]
                for kind in order:
                    runs[kind].append(await one(kind, f"r{rnd}", scale.http_seconds))
                log(f"http round {rnd + 1}/{scale.rounds}: select1 {runs['select1'][-1]['rps']:.0f} rps, "
                    f"reserve_atomic {runs['reserve_atomic'][-1]['rps']:.0f} rps "
                    f"(p99 {runs['reserve_atomic'][-1]['p99_ms']:.1f} ms)")

        asyncio.run(all_runs())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    with psycopg.connect(url) as conn:
        overlaps = conn.execute("SELECT bench.overlapping_holds()").fetchone()[0]
        holds = conn.execute("SELECT count(*) FROM voxbook.holds WHERE status = 'held'").fetchone()[0]

    base = [r["rps"] for r in runs["select1"]]
    ours = [r["rps"] for r in runs["reserve_atomic"]]
    r_rps = median(ratio(a, b) for a, b in zip(ours, base))
    p50 = median(r["p50_ms"] for r in runs["reserve_atomic"])
    p99 = median(r["p99_ms"] for r in runs["reserve_atomic"])
    s50 = median(r["p50_ms"] for r in runs["select1"])
    s99 = median(r["p99_ms"] for r in runs["select1"])
    label = f"3 tool calls over HTTP ({scale.http_callers} callers)"
    res.rows += [
        Row(label, "SELECT 1 endpoint", median(base), "req/s"),
        Row(label, "reserve_atomic (Vapi payload)", median(ours), "req/s", "SELECT 1 endpoint", median(base), r_rps,
            ">= 0.5", r_rps >= 0.5),
        Row(label, "reserve_atomic p50", p50, "ms", "SELECT 1 p50", s50, ratio(p50, s50)),
        Row(label, "reserve_atomic p99", p99, "ms", "SELECT 1 p99", s99, ratio(p99, s99), "< 50 ms", p99 < 50),
    ]
    for side, what in (("api_cpu_us", "API process"), ("pg_cpu_us", "PostgreSQL")):
        mine = [r[side] for r in runs["reserve_atomic"]]
        theirs = [r[side] for r in runs["select1"]]
        res.rows.append(Row(f"3 tool calls over HTTP: {what} CPU per request", "reserve_atomic", median(mine), "us",
                            "SELECT 1 endpoint", median(theirs), median(ratio(a, b) for a, b in zip(mine, theirs))))
    failed = sum(r["requests"] - r["ok"] for v in runs.values() for r in v)
    res.checks.update({"overlapping_holds": overlaps, "requests_not_ok": failed,
                       "holds_created": holds,
                       "every_reserve_succeeded": all(r["ok"] == r["requests"] for r in runs["reserve_atomic"])})
    res.raw = {"runs": runs, "callers": scale.http_callers, "seconds_per_run": scale.http_seconds}
    return res
