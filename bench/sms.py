"""Benchmark 4: SMS dispatch through `voxbook worker` (the real twilio library) to a fast fake Twilio.

Latency: a confirmation is queued the product's way -- api.confirm_held_slot (staff path) commits the
appointment and its outbox row in one transaction -- one at a time, with the worker idle on LISTEN;
measured from the moment that commit is acknowledged to the fake receiving the POST.
Throughput: N rows are INSERTed straight into voxbook.sms_outbox as the owner (kind 'other', one
transaction: the fastest way to have a full queue), with the worker(s) already connected and idle;
messages per second = N / (time from that commit until every row is 'sent' in the database).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path

import psycopg

from voxbook.db import call_sync
from bench.common import REPO_ROOT, BenchResult, BenchServer, Row, Scale, create_clinic, log, median, percentile, ratio
from bench.fake_twilio import FastFakeTwilio

CLINIC_PHONE = "+15550000004"
ACCOUNT_SID = "AC" + "b" * 32


class Worker:
    def __init__(self, server: BenchServer, db: str, fake: FastFakeTwilio, name: str, log_dir: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "WORKER_", "PUBLIC_"))}
        env.update(DATABASE_URL=server.url(db, app=True), SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                   TWILIO_AUTH_TOKEN="bench-token", TWILIO_API_BASE=fake.base_url, PYTHONPATH=str(REPO_ROOT))
        self.log_path = log_dir / f"bench-worker-{name}.log"
        # Defaults of `voxbook worker` (concurrency, batch size, poll interval): the deployed configuration.
        self.proc = subprocess.Popen([sys.executable, "-m", "voxbook.cli", "worker", "--worker-id", f"bench-{name}"],
                                     env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                     stderr=self.log_path.open("wb"))

    def wait_connected(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}: {self.log_path.read_text()[-1500:]}")
            if b'"worker.connected"' in self.log_path.read_bytes():
                return
            time.sleep(0.05)
        raise RuntimeError("worker did not connect within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.002)


def _queue_direct(url: str, org: str, n: int, tag: str) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO voxbook.sms_outbox (org_id, kind, recipient, body, encoding, segments) "
            "SELECT %s, 'other', '+1555' || lpad((4000000 + g)::text, 7, '0'), %s || g, 'GSM-7', 1 "
            "FROM generate_series(1, %s) AS g", [org, f"Bench message {tag} ", n])
        conn.commit()
        return time.monotonic()


def _throughput(url: str, org: str, fake: FastFakeTwilio, n: int, tag: str) -> dict:
    fake.reset()
    t0 = _queue_direct(url, org, n, tag)
    with psycopg.connect(url, autocommit=True) as conn:
        def all_sent() -> bool:
            if fake.count < n:
                return False
            left = conn.execute("SELECT count(*) FROM voxbook.sms_outbox WHERE body LIKE %s AND status <> 'sent'",
                                [f"Bench message {tag} %"]).fetchone()[0]
            return left == 0
        try:
            _wait(all_sent, 30 + n / 20, f"{n} messages to be sent")
        except RuntimeError as exc:
            states = conn.execute("SELECT status, count(*) FROM voxbook.sms_outbox GROUP BY 1").fetchall()
            raise RuntimeError(f"{exc}: fake Twilio got {fake.count}, outbox {dict(states)}") from None
        done = time.monotonic()
        not_sent = conn.execute("SELECT count(*) FROM voxbook.sms_outbox WHERE body LIKE %s AND status <> 'sent'",
                                [f"Bench message {tag} %"]).fetchone()[0]
    return {"messages": n, "seconds": done - t0, "msgs_per_s": n / (done - t0), "received": fake.count,
            "not_sent": not_sent}


def run_sms(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("sms")
    db = "bench_sms"
    url = server.new_db(db)
    org = create_clinic(url, 2, CLINIC_PHONE)
    log_dir = Path(server.cluster.socket_dir)
    fake = FastFakeTwilio().start()
    workers: list[Worker] = []
    latencies, from_send = [], []
    thr = {"1": [], "2": []}
    try:
        w1 = Worker(server, db, fake, "1", log_dir)
        workers.append(w1)
        w1.wait_connected()
        # Warm-up: each of the worker's sender threads builds its twilio client on first use.
        _throughput(url, org, fake, 8, "warm")

        # -- latency: one confirmation at a time -------------------------------------------------
        probes = scale.sms_probes * scale.rounds
        with psycopg.connect(server.url(db, app=True), autocommit=True) as conn:
            holds = []
            for k in range(probes):
                day = date.today() + timedelta(days=3 + k // 16)
                slot = datetime.combine(day, dtime(8, 0), UTC) + timedelta(minutes=30 * (k % 16))
                r = call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id="c1", slot_time=slot,
                              patient_name="Bench Patient", patient_phone=f"+1555{3000000 + k:07d}")
                holds.append((r["hold_id"], f"+1555{3000000 + k:07d}"))
            fake.reset()
            for hold_id, phone in holds:
                t_send = time.monotonic()
                call_sync(conn, "confirm_held_slot", hold_id=hold_id, org_id=org, staff_user="bench")
                t_commit = time.monotonic()
                _wait(lambda: phone in fake.arrivals, 10, f"the confirmation to {phone}")
                arrived = fake.arrivals[phone]
                latencies.append((arrived - t_commit) * 1000)
                from_send.append((arrived - t_send) * 1000)
                time.sleep(scale.sms_probe_gap)
        log(f"sms latency: p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
            f"over {len(latencies)} confirmations")

        # -- throughput: 1 worker, then 2, alternating ------------------------------------------
        for rnd in range(scale.rounds):
            for k in (("1", "2") if rnd % 2 == 0 else ("2", "1")):
                extra = None
                if k == "2":
                    extra = Worker(server, db, fake, f"2-{rnd}", log_dir)
                    workers.append(extra)
                    extra.wait_connected()
                thr[k].append(_throughput(url, org, fake, scale.sms_messages, f"r{rnd}w{k}"))
                if extra:
                    extra.stop()
            log(f"sms round {rnd + 1}/{scale.rounds}: 1 worker {thr['1'][-1]['msgs_per_s']:.0f} msg/s, "
                f"2 workers {thr['2'][-1]['msgs_per_s']:.0f} msg/s")
        with psycopg.connect(url) as conn:
            confirmed = conn.execute("SELECT count(DISTINCT appointment_id) FROM voxbook.sms_outbox "
                                     "WHERE kind = 'confirmation' AND provider_message_id IS NOT NULL").fetchone()[0]
            dupes = conn.execute("SELECT count(*) FROM (SELECT provider_message_id FROM voxbook.sms_outbox "
                                 "WHERE provider_message_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d").fetchone()[0]
    finally:
        for w in workers:
            w.stop()
        fake.stop()

    one = median(x["msgs_per_s"] for x in thr["1"])
    two = median(x["msgs_per_s"] for x in thr["2"])
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    # The baseline of a latency: the same commit's own duration, measured by the same client.
    commit_ms = median(f - l for f, l in zip(from_send, latencies))
    label = "4 SMS dispatch (voxbook worker -> fake Twilio)"
    res.rows += [
        Row(label, "commit -> Twilio p50", p50, "ms", "confirm transaction", commit_ms, ratio(p50, commit_ms)),
        Row(label, "commit -> Twilio p99", p99, "ms", "confirm transaction", commit_ms, ratio(p99, commit_ms),
            "< 100 ms", p99 < 100),
        Row(label, "throughput, 1 worker", one, "msg/s", target=">= 500/s", met=one >= 500),
        Row(label, "throughput, 2 workers", two, "msg/s", "1 worker", one, ratio(two, one)),
    ]
    res.checks.update({"confirmations_sent": confirmed, "confirmations_expected": len(latencies),
                       "duplicate_provider_ids": dupes,
                       "throughput_not_sent": sum(x["not_sent"] for v in thr.values() for x in v)})
    res.raw = {"latency_ms": latencies, "throughput": thr, "queued_via": {
        "latency": "api.confirm_held_slot(staff_user) in autocommit", "throughput": "direct INSERT as owner"}}
    return res
