"""Benchmarks 1 and 2: claims in SQL (pgbench) and the hot slot (64 racers, 10 slots)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path

import psycopg

from voxbook.db import call
from bench.common import (APP_ROLE, BENCH_DIR, CLK_TCK, BenchResult, BenchServer, Row, Scale, cpu_seconds, create_clinic,
                          log, median, percentile, ratio, run)

SCRIPTS = {
    "plain_insert": BENCH_DIR / "sql" / "plain_insert.pgbench",
    "claim_slot_atomic": BENCH_DIR / "sql" / "claim_atomic.pgbench",
    "seed_design": BENCH_DIR / "sql" / "seed_design.pgbench",
    "guarantee_floor": BENCH_DIR / "sql" / "floor_insert.pgbench",
}
_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)
_LAT = re.compile(r"^latency average = ([0-9.]+) ms", re.M)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.M)


_TXNS = re.compile(r"^number of transactions actually processed: (\d+)", re.M)


def _pgbench(server: BenchServer, db: str, script: str, org: str, scale: Scale) -> dict[str, float]:
    # The server's CPU time over the run (every backend, the WAL writer, autovacuum: /proc), per transaction:
    # what a claim costs the server whatever else the machine is doing, where tps also measure the neighbours.
    cpu0 = cpu_seconds(server.cluster)
    out = run([server.pg_bin("pgbench"), "-n", "-M", "prepared", "-c", str(scale.claims_clients), "-j", "2",
               "-T", str(int(max(1, scale.claims_seconds))), "-D", f"org={org}",
               "-D", f"ncal={scale.claims_calendars}", "-f", str(SCRIPTS[script])],
              env=server.libpq_env(db), timeout=scale.claims_seconds * 4 + 60)
    cpu = cpu_seconds(server.cluster) - cpu0
    tps, lat = _TPS.search(out), _LAT.search(out)
    failed, txns = _FAILED.search(out), _TXNS.search(out)
    if not tps:
        raise RuntimeError(f"pgbench printed no tps for {script}:\n{out[-1500:]}")
    n = int(txns.group(1)) if txns else 0
    return {"tps": float(tps.group(1)), "latency_ms": float(lat.group(1)) if lat else float("nan"),
            "failed": int(failed.group(1)) if failed else 0,
            "server_cpu_us_per_tx": cpu / n * 1e6 if n else float("nan")}


def _settle(url: str) -> None:
    # Fresh statistics and a checkpoint before every run: no variant pays for the full-page writes
    # that follow a checkpoint landing in its window, and plans see the tables as they are.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE voxbook.holds, bench.plain_holds, bench.seed_holds, bench.floor_holds")
        conn.execute("CHECKPOINT")


def run_claims(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("claims")
    db = "bench_claims"
    url = server.new_db(db)
    org = create_clinic(url, scale.claims_calendars, "+15550000001")
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in SCRIPTS}
    overlaps = 0
    # Warm-up: tables start with some rows (a booking table is never empty for long), then statistics.
    # Tables are not emptied between runs: holds accumulate as in production; over ~2 million grid
    # slots a few percent of claims land on a taken slot and answer slot_taken (the cheaper path).
    warm = dataclasses.replace(scale, claims_seconds=1)
    for script in SCRIPTS:
        _pgbench(server, db, script, str(org), warm)
    for r in range(scale.rounds):
        # Alternate the order so that drift (a noisy neighbour, a warming cache) hits each variant alike.
        order = list(SCRIPTS) if r % 2 == 0 else list(reversed(SCRIPTS))
        for script in order:
            _settle(url)
            runs[script].append(_pgbench(server, db, script, str(org), scale))
            with psycopg.connect(url) as conn:
                overlaps += conn.execute("SELECT bench.overlapping_holds()").fetchone()[0]
        log(f"claims round {r + 1}/{scale.rounds}: " + ", ".join(f"{k} {runs[k][-1]['tps']:.0f} tps" for k in SCRIPTS))

    base = [x["tps"] for x in runs["plain_insert"]]
    ours = [x["tps"] for x in runs["claim_slot_atomic"]]
    seed = [x["tps"] for x in runs["seed_design"]]
    floor = [x["tps"] for x in runs["guarantee_floor"]]
    # Ratios are paired per round (same minute, same noise), then the median is taken.
    r_ours = median(ratio(a, b) for a, b in zip(ours, base))
    r_seed = median(ratio(a, b) for a, b in zip(seed, base))
    r_vs_seed = median(ratio(a, b) for a, b in zip(ours, seed))
    r_floor = median(ratio(a, b) for a, b in zip(floor, base))
    r_vs_floor = median(ratio(a, b) for a, b in zip(ours, floor))
    res.rows += [
        Row("1 claims (pgbench, 16 clients, fsync on)", "plain INSERT tps", median(base), "tx/s"),
        Row("1 claims (pgbench, 16 clients, fsync on)", "api.claim_slot_atomic tps", median(ours), "tx/s",
            "plain INSERT", median(base), r_ours, ">= 0.6 (then 0.85)", r_ours >= 0.6),
        Row("1 claims (pgbench, 16 clients, fsync on)", "same guarantee, no logic tps", median(floor), "tx/s",
            "plain INSERT", median(base), r_floor),
        Row("1 claims (pgbench, 16 clients, fsync on)", "claim_slot_atomic / same guarantee", r_vs_floor, "x",
            "same guarantee, no logic", median(floor), r_vs_floor),
        Row("1 claims (pgbench, 16 clients, fsync on)", "seed design tps", median(seed), "tx/s",
            "plain INSERT", median(base), r_seed),
        Row("1 claims (pgbench, 16 clients, fsync on)", "claim_slot_atomic / seed design", r_vs_seed, "x",
            "seed design", median(seed), r_vs_seed, "> 1 (beat the seed)", r_vs_seed > 1),
    ]
    # Server CPU per transaction: the cost itself, steady on a shared machine (tps depend on the neighbours).
    cpu = {k: [x["server_cpu_us_per_tx"] for x in v] for k, v in runs.items()}
    for key, label in (("guarantee_floor", "same guarantee, no logic"), ("claim_slot_atomic", "api.claim_slot_atomic"),
                       ("seed_design", "seed design")):
        res.rows.append(Row("1 claims: server CPU per transaction", label, median(cpu[key]), "us",
                            "plain INSERT", median(cpu["plain_insert"]),
                            median(ratio(a, b) for a, b in zip(cpu[key], cpu["plain_insert"]))))
    res.checks["overlapping_holds"] = overlaps
    res.checks["pgbench_failed_transactions"] = sum(x["failed"] for v in runs.values() for x in v)
    res.raw = {"runs": runs, "clients": scale.claims_clients, "calendars": scale.claims_calendars,
               "seconds_per_run": scale.claims_seconds}
    return res


# -- hot slot -------------------------------------------------------------------------------------

_CLAIM_TIMED = ("SELECT api.claim_slot_atomic(org_id => %s, calendar_id => %s, slot_time => %s, call_sid => %s, "
                "patient_name => 'Hot Caller', patient_phone => %s), "
                # statement_timestamp() is when the server received the statement: this is the time
                # spent inside PostgreSQL, lock waits included, without our client's own delays.
                "extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000")


async def _hot_round(conns: list[psycopg.AsyncConnection], org: str, slots: list[datetime], rnd: int):
    go = asyncio.Event()

    async def one(i: int):
        conn = conns[i]
        slot = slots[i % len(slots)]
        await go.wait()
        t0 = time.perf_counter()
        cur = await conn.execute(_CLAIM_TIMED, [org, "c1", slot, f"hot-{rnd}-{i}", f"+1555700{i:04d}"])
        result, server_ms = await cur.fetchone()
        return i % len(slots), result, (time.perf_counter() - t0) * 1000, float(server_ms)

    tasks = [asyncio.ensure_future(one(i)) for i in range(len(conns))]
    await asyncio.sleep(0.05)   # every task is parked on the event before anyone goes
    go.set()
    return await asyncio.gather(*tasks)


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) one backend has used so far, from /proc: what a claim costs the server,
    whatever else the shared machine is running (ticks of 1/CLK_TCK s, so summed over many claims)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# What the cluster wrote and how many transaction ids it handed out (pg_snapshot_xmax: the next xid). Read
# as the owner around each round: a refused claim that writes nothing adds neither.
_WAL_XID = "SELECT pg_current_wal_insert_lsn(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint"


class _WaitSampler:
    """What the claiming backends are doing, sampled from pg_stat_activity every millisecond or so from a thread
    of its own while a round runs: each active API backend counted under its wait event ("CPU" when none). It
    says what a loser waits on (the winner's commit, the calendar's row lock, the WAL flush...)."""

    def __init__(self, url: str) -> None:
        self.url, self.counts, self._stop, self._thread = url, Counter(), threading.Event(), None

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                for event, n in conn.execute(
                        "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*) FROM pg_stat_activity "
                        "WHERE usename = %s AND state = 'active' GROUP BY 1", [APP_ROLE]):
                    self.counts[event] += n
                time.sleep(0.001)

    def __enter__(self) -> _WaitSampler:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


async def _hot(server: BenchServer, scale: Scale, res: BenchResult) -> None:
    db = "bench_hot"
    url = server.new_db(db)
    org = create_clinic(url, 2, "+15550000002")
    app_url = server.url(db, app=True)
    conns = [await psycopg.AsyncConnection.connect(app_url, autocommit=True) for _ in range(scale.hot_clients)]
    pids = [(await (await c.execute("SELECT pg_backend_pid()")).fetchone())[0] for c in conns]
    losers_cpu_s = 0.0
    winners_cpu_s = 0.0
    wal_bytes: list[int] = []
    xids: list[int] = []
    losers_ms: list[float] = []
    losers_server_ms: list[float] = []
    winners_ms: list[float] = []
    solo_ms: list[float] = []
    per_round = []
    bad_rounds = []
    sampler = _WaitSampler(url)
    try:
        # Warm-up, as pooled production connections are: the first claim on a connection compiles the
        # PL/pgSQL and plans every statement, which is not what a steady-state caller waits for.
        # One uncontended claim per connection, on the other calendar, far from the measured days.
        for i, c in enumerate(conns):
            await call(c, "get_organization", org_id=org)
            warm_slot = datetime.combine(date.today() + timedelta(days=300 + i // 16), dtime(8, 0), UTC)
            await call(c, "claim_slot_atomic", org_id=org, calendar_id="c2",
                       slot_time=warm_slot + timedelta(minutes=30 * (i % 16)),
                       call_sid=f"warm-{i}", patient_name="Warm Caller", patient_phone="+15557999998")
        for rnd in range(scale.hot_rounds):
            day = date.today() + timedelta(days=2 + rnd)
            slots = [datetime.combine(day, dtime(8, 0), UTC) + timedelta(minutes=30 * k) for k in range(scale.hot_slots)]
            # Baseline: the same claim, alone, on the other calendar's same slots (no contention).
            for k, s in enumerate(slots):
                t0 = time.perf_counter()
                await call(conns[0], "claim_slot_atomic", org_id=org, calendar_id="c2", slot_time=s,
                           call_sid=f"solo-{rnd}-{k}", patient_name="Solo Caller", patient_phone="+15557999999")
                solo_ms.append((time.perf_counter() - t0) * 1000)
            with psycopg.connect(url, autocommit=True) as conn:
                lsn0, xid0 = conn.execute(_WAL_XID).fetchone()
                cpu0 = [_backend_cpu(p) for p in pids]
                with sampler:
                    out = await _hot_round(conns, org, slots, rnd)
                cpu1 = [_backend_cpu(p) for p in pids]
                lsn1, xid1 = conn.execute(_WAL_XID).fetchone()
                wal_bytes.append(conn.execute("SELECT pg_wal_lsn_diff(%s, %s)::bigint", [lsn1, lsn0]).fetchone()[0])
                xids.append(xid1 - xid0)
            wins_by_slot = [0] * len(slots)
            lost = []
            for i, (slot_i, result, ms, srv) in enumerate(out):   # gather keeps the order of conns
                if result.get("success"):
                    wins_by_slot[slot_i] += 1
                    winners_ms.append(ms)
                    winners_cpu_s += cpu1[i] - cpu0[i]
                else:
                    losers_cpu_s += cpu1[i] - cpu0[i]
                    if result.get("code") != "slot_taken":
                        bad_rounds.append({"round": rnd, "unexpected": result})
                    lost.append(ms)
                    losers_server_ms.append(srv)
            losers_ms += lost
            with psycopg.connect(url) as conn:
                active = conn.execute(
                    "SELECT count(*) FROM voxbook.holds WHERE org_id = %s AND calendar_id = 'c1' "
                    "AND status IN ('held', 'confirmed') AND starts_at BETWEEN %s AND %s", [org, slots[0], slots[-1]]).fetchone()[0]
            if wins_by_slot != [1] * len(slots) or active != len(slots):
                bad_rounds.append({"round": rnd, "wins_by_slot": wins_by_slot, "active_holds": active})
            per_round.append({"winners": sum(wins_by_slot), "active_holds": active, "losers": len(lost),
                              "losers_p50_ms": percentile(lost, 50), "losers_p99_ms": percentile(lost, 99)})
        with psycopg.connect(url) as conn:
            overlaps = conn.execute("SELECT bench.overlapping_holds()").fetchone()[0]
    finally:
        for c in conns:
            await c.close()

    solo = median(solo_ms)
    p99 = percentile(losers_ms, 99)
    res.rows += [
        Row("2 hot slot (64 clients, 10 slots)", "winners per round", median(r["winners"] for r in per_round),
            "", target=f"exactly {scale.hot_slots}",
            met=not bad_rounds and all(r["winners"] == scale.hot_slots for r in per_round)),
        Row("2 hot slot (64 clients, 10 slots)", "losers p50", percentile(losers_ms, 50), "ms",
            "uncontended claim p50", solo, ratio(percentile(losers_ms, 50), solo)),
        Row("2 hot slot (64 clients, 10 slots)", "losers p99", p99, "ms",
            "uncontended claim p50", solo, ratio(p99, solo), "< 20 ms", p99 < 20),
        Row("2 hot slot (64 clients, 10 slots)", "losers p99 inside PostgreSQL", percentile(losers_server_ms, 99),
            "ms", "uncontended claim p50", solo, ratio(percentile(losers_server_ms, 99), solo)),
        # What a loser costs and writes, steady on a shared box where the latencies are not: its backend's CPU
        # (/proc), and the WAL and transaction ids of a whole round (10 winners + 54 losers).
        Row("2 hot slot (64 clients, 10 slots)", "CPU per loser (its backend)",
            losers_cpu_s / len(losers_ms) * 1000 if losers_ms else float("nan"), "ms",
            "CPU per winner", winners_cpu_s / len(winners_ms) * 1000 if winners_ms else float("nan"),
            ratio(losers_cpu_s / max(len(losers_ms), 1), winners_cpu_s / max(len(winners_ms), 1))),
        Row("2 hot slot (64 clients, 10 slots)", "transaction ids per round", median(xids), "",
            "claims per round", scale.hot_clients, ratio(median(xids), scale.hot_clients)),
        Row("2 hot slot (64 clients, 10 slots)", "WAL bytes per round", median(wal_bytes), "B"),
    ]
    res.checks.update({
        "rounds": scale.hot_rounds,
        "winners_per_round": [r["winners"] for r in per_round],
        "exactly_one_winner_per_slot_every_round": not bad_rounds,
        "bad_rounds": bad_rounds,
        "overlapping_holds": overlaps,
    })
    res.raw = {"per_round": per_round, "winners_p99_ms": percentile(winners_ms, 99),
               "uncontended_ms": {"p50": solo, "p99": percentile(solo_ms, 99)},
               "losers_server_p50_ms": percentile(losers_server_ms, 50), "samples": len(losers_ms),
               "losers_cpu_ms": losers_cpu_s / max(len(losers_ms), 1) * 1000,
               "winners_cpu_ms": winners_cpu_s / max(len(winners_ms), 1) * 1000,
               "wal_bytes_per_round": wal_bytes, "xids_per_round": xids,
               "wait_events_sampled": dict(sampler.counts.most_common())}


def run_hot_slot(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("hot_slot")
    asyncio.run(_hot(server, scale, res))
    log(f"hot slot: winners {res.checks['winners_per_round']}, losers p99 {res.rows[2].value:.1f} ms "
        f"(inside PostgreSQL {res.rows[3].value:.1f} ms, uncontended {res.raw['uncontended_ms']['p50']:.1f} ms); "
        f"CPU per loser {res.raw['losers_cpu_ms']:.2f} ms, per winner {res.raw['winners_cpu_ms']:.2f} ms; "
        f"xids per round {res.raw['xids_per_round']}, WAL bytes per round median {res.rows[6].value:.0f}; "
        f"claiming backends sampled: {res.raw['wait_events_sampled']}")
    return res
