"""Benchmark 6: claims per second through a Citus coordinator (two workers, this machine) vs a single node.

The same pgbench load on both: ``api.claim_slot_atomic`` on random grid slots of ``CLINICS`` clinics (one
script per clinic with its id as a literal, so that Citus delegates each call to the node holding that
clinic, as it does for the API's calls), fsync on everywhere. Besides claims per second, the CPU time every
node spent per claim is measured (from /proc: the postmaster's reaped children plus its live backends), which
is what the model for more machines in bench/README.md is built from.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path

import psycopg

from bench.common import BenchResult, BenchServer, Row, Scale, cpu_seconds as _cpu_seconds, log, median, ratio, run
from voxbook.citus_cluster import CitusCluster
from voxbook.migrate import migrate
from voxbook.pgcluster import PgCluster

CLINICS = 32          # spread over Citus's 32 default shards, so over both workers
CALENDARS = 20
_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.M)

_SCRIPT = """\\set cal random(1, {ncal})
\\set day random(2, 700)
\\set slot random(0, 15)
\\set n random(1, 2000000000)
SELECT api.claim_slot_atomic(org_id => '{org}'::uuid, calendar_id => 'c' || :cal::text, slot_time => ((current_date + :day::int) + time '08:00' + :slot::int * interval '30 minutes') AT TIME ZONE 'UTC', call_sid => 'pgb-' || :client_id::text || '-' || :n::text, patient_name => 'Bench Caller', patient_phone => '+15555550123');
"""


def _create_clinics(url: str, orgs: list[str]) -> None:
    """Plain inserts, one clinic per transaction (works the same on one node and through a coordinator)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for k, org in enumerate(orgs):
            with conn.transaction():
                conn.execute("INSERT INTO voxbook.organizations (id, name, phone, time_zone, sms_from,"
                             " min_notice_minutes, booking_horizon_days)"
                             " VALUES (%s, %s, %s, 'UTC', '+15550009999', 0, 730)",
                             (org, f"Citus Bench {k}", f"+1555600{k:04d}"))
                conn.execute("INSERT INTO voxbook.calendars (org_id, id, display_name)"
                             " SELECT %s, format('c%%s', i), format('Dr. Bench %%s', i) FROM generate_series(1, %s) i",
                             (org, CALENDARS))
                conn.execute("INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends)"
                             " SELECT %s, format('c%%s', i), d, '08:00', '16:00'"
                             "   FROM generate_series(1, %s) i, generate_series(1, 7) d", (org, CALENDARS))
                conn.execute("INSERT INTO voxbook.services (org_id, id, name, duration_minutes, price_cents, value_tier)"
                             " VALUES (%s, 'consultation', 'Consultation', 30, 10000, 'standard')", (org,))
        conn.execute("ANALYZE voxbook.organizations")




def _pgbench(pgbench: str, env: dict[str, str], scripts: list[Path], scale: Scale) -> dict[str, float]:
    args = [pgbench, "-n", "-M", "prepared", "-c", str(scale.claims_clients), "-j", "2",
            "-T", str(int(max(1, scale.claims_seconds)))]
    for s in scripts:
        args += ["-f", f"{s}@1"]
    out = run(args, env=env, timeout=scale.claims_seconds * 4 + 60)
    tps, failed = _TPS.search(out), _FAILED.search(out)
    if not tps:
        raise RuntimeError(f"pgbench printed no tps:\n{out[-1500:]}")
    return {"tps": float(tps.group(1)), "failed": int(failed.group(1)) if failed else 0}


def _env(node: PgCluster, db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    env.update(PGHOST=str(node.socket_dir), PGPORT=str(node.port), PGUSER="postgres", PGDATABASE=db)
    return env


def run_citus(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("citus")
    orgs = [str(uuid.uuid4()) for _ in range(CLINICS)]
    single_db = "bench_citus_single"
    _create_clinics(server.new_db(single_db), orgs)
    cluster = CitusCluster.temporary(workers=2, fsync=True)
    runs: dict[str, list[dict[str, float]]] = {"single": [], "citus": []}
    try:
        cluster.start()
        url = cluster.create_database("bench_citus")
        migrate(url)   # distributes: the same step as `voxbook db migrate` on a coordinator
        _create_clinics(url, orgs)
        with tempfile.TemporaryDirectory(prefix="voxbook-bench-citus-") as tmp:
            scripts = []
            for k, org in enumerate(orgs):
                p = Path(tmp) / f"claim_{k}.pgbench"
                p.write_text(_SCRIPT.format(org=org, ncal=CALENDARS))
                scripts.append(p)
            targets = {
                "single": (str(server.cluster.bindir / "pgbench"), _env(server.cluster, single_db), [server.cluster]),
                "citus": (str(cluster.coordinator.bindir / "pgbench"), _env(cluster.coordinator, "bench_citus"),
                          cluster.nodes),
            }
            for name, (pgbench, env, _) in targets.items():   # warm-up: plans, caches, Citus's connections
                _pgbench(pgbench, env, scripts, Scale.quick())
            for r in range(scale.rounds):
                for name in (("single", "citus") if r % 2 == 0 else ("citus", "single")):
                    pgbench, env, nodes = targets[name]
                    before = [_cpu_seconds(n) for n in nodes]
                    out = _pgbench(pgbench, env, scripts, scale)
                    cpu = [_cpu_seconds(n) - b for n, b in zip(nodes, before, strict=True)]
                    claims = out["tps"] * max(1, int(scale.claims_seconds))
                    out["cpu_ms_per_claim"] = [1000 * c / claims for c in cpu]   # per node: coordinator first
                    runs[name].append(out)
                log(f"citus round {r + 1}/{scale.rounds}: single {runs['single'][-1]['tps']:.0f} tps, "
                    f"citus {runs['citus'][-1]['tps']:.0f} tps")
        with psycopg.connect(url) as conn:
            placements = conn.execute(
                "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'voxbook.holds'::regclass"
                " AND shardid IN (SELECT get_shard_id_for_distribution_column('voxbook.holds', o::uuid)"
                " FROM unnest(%s::text[]) o)", (orgs,)).fetchone()[0]
            held = conn.execute("SELECT count(*) FROM voxbook.holds").fetchone()[0]
    finally:
        cluster.cleanup()

    single = [x["tps"] for x in runs["single"]]
    citus = [x["tps"] for x in runs["citus"]]
    r_citus = median(ratio(a, b) for a, b in zip(citus, single))
    coord_ms = median(x["cpu_ms_per_claim"][0] for x in runs["citus"])
    workers_ms = median(sum(x["cpu_ms_per_claim"][1:]) for x in runs["citus"])
    single_ms = median(x["cpu_ms_per_claim"][0] for x in runs["single"])
    bench = f"6 citus (pgbench, {scale.claims_clients} clients, {CLINICS} clinics, fsync on)"
    res.rows += [
        Row(bench, "single node claims/s", median(single), "tx/s"),
        Row(bench, "coordinator + 2 workers claims/s (one machine)", median(citus), "tx/s",
            "single node", median(single), r_citus),
        Row(bench, "CPU per claim: single node", single_ms, "ms"),
        Row(bench, "CPU per claim: coordinator", coord_ms, "ms", "single node", single_ms, ratio(coord_ms, single_ms)),
        Row(bench, "CPU per claim: workers (sum)", workers_ms, "ms", "single node", single_ms,
            ratio(workers_ms, single_ms)),
    ]
    res.checks["pgbench_failed_transactions"] = sum(x["failed"] for v in runs.values() for x in v)
    res.checks["clinics_on_both_workers"] = placements == 2
    res.checks["holds_claimed_on_citus"] = held > 0
    res.raw = {"runs": runs, "clinics": CLINICS, "calendars": CALENDARS, "clients": scale.claims_clients,
               "seconds_per_run": scale.claims_seconds, "cpus": os.cpu_count()}
    return res
