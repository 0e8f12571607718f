"""Benchmark 5: api.check_availability on a clinic with 1 million past appointments vs the same clinic empty."""

from __future__ import annotations

import time
from datetime import date, timedelta

import psycopg

from bench.common import BenchResult, BenchServer, Row, Scale, create_clinic, log, median, ratio

CLINIC_PHONE = "+15550000005"
TIME_ZONE = "America/New_York"
SLOTS_PER_DAY = 16   # 09:00-17:00 on a 30-minute grid
CONTACTS = 100_000

# Past appointments the way the product stores them: a confirmed hold (the time, under the exclusion
# constraint), an appointment pointing at it, a contact. Ids are derived from the row number so the
# three tables join without lookups. session_replication_role = replica skips the FK and NOTIFY
# triggers (the data is consistent by construction); the exclusion constraint, an index, still
# checks every hold. Run as the owner.
_GENERATE = """
SET LOCAL session_replication_role = replica;
INSERT INTO voxbook.contacts (org_id, id, phone, name, booking_source)
SELECT %(org)s, md5('contact' || g)::uuid, '+1555' || lpad(g::text, 7, '0'), 'Patient ' || g, 'phone_ai'
  FROM generate_series(1, least(%(n)s, %(contacts)s)) AS g;
INSERT INTO voxbook.holds (org_id, id, calendar_id, service_id, starts_at, ends_at, status, expires_at, created_at, updated_at)
SELECT %(org)s, md5('hold' || g)::uuid, 'c' || (g %% %(cals)s + 1), 'consultation', s, s + interval '30 minutes',
       'confirmed', s - interval '1 day', s - interval '3 days', s - interval '3 days'
  FROM generate_series(0, %(n)s - 1) AS g,
       LATERAL (SELECT ((current_date - 1 - (g / %(cals)s) / %(spd)s) + time '09:00'
                        + ((g / %(cals)s) %% %(spd)s) * interval '30 minutes') AT TIME ZONE %(tz)s AS s) AS t;
INSERT INTO voxbook.appointments (org_id, id, hold_id, contact_id, service_id, status, confirmed_via, confirmed_by,
                                  created_at, updated_at)
SELECT %(org)s, md5('appt' || g)::uuid, md5('hold' || g)::uuid, md5('contact' || (g %% least(%(n)s, %(contacts)s) + 1))::uuid,
       'consultation', 'confirmed', 'staff', 'import', now(), now()
  FROM generate_series(0, %(n)s - 1) AS g;
"""


def _clinic(url: str, providers: int) -> str:
    return create_clinic(url, providers, CLINIC_PHONE, TIME_ZONE, "09:00", "17:00")


def _time_queries(url: str, org: str, day: date, days: int, n: int) -> list[float]:
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        q = "SELECT api.check_availability(org_id => %s, date => %s, days => %s)"
        for _ in range(min(5, n)):   # plans cached, psycopg's automatic prepare kicked in
            conn.execute(q, [org, day, days]).fetchone()
        for _ in range(n):
            t0 = time.perf_counter()
            r = conn.execute(q, [org, day, days]).fetchone()[0]
            out.append((time.perf_counter() - t0) * 1000)
        out_slots = len(r["slots"])
    return out, out_slots


def run_availability(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("availability")
    empty_url = server.new_db("bench_avail_empty")
    big_url = server.new_db("bench_avail_big")
    orgs = {"empty": _clinic(empty_url, scale.avail_providers), "big": _clinic(big_url, scale.avail_providers)}
    t0 = time.perf_counter()
    with psycopg.connect(big_url) as conn:
        params = {"org": orgs["big"], "n": scale.avail_appointments, "cals": scale.avail_providers,
                  "spd": SLOTS_PER_DAY, "tz": TIME_ZONE, "contacts": CONTACTS}
        for statement in filter(str.strip, _GENERATE.split(";\n")):   # bound parameters: one statement at a time
            conn.execute(statement, params if "%(" in statement else None)
        conn.commit()
    with psycopg.connect(big_url, autocommit=True) as conn:
        # What autovacuum would have done long before a clinic reached a million appointments.
        conn.execute("VACUUM ANALYZE")
        counts = conn.execute("SELECT (SELECT count(*) FROM voxbook.appointments), (SELECT count(*) FROM voxbook.holds),"
                              " (SELECT count(*) FROM voxbook.contacts),"
                              " pg_size_pretty(pg_database_size(current_database()))").fetchone()
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    gen_s = time.perf_counter() - t0
    log(f"availability: {counts[0]:,} past appointments generated in {gen_s:.0f} s ({counts[3]})")

    day = date.today() + timedelta(days=7)
    urls = {"empty": server.url("bench_avail_empty", app=True), "big": server.url("bench_avail_big", app=True)}
    runs: dict[str, list[float]] = {f"{k}_{d}": [] for k in urls for d in (1, 30)}
    slots: dict[str, int] = {}
    for rnd in range(scale.rounds):
        for kind in (("empty", "big") if rnd % 2 == 0 else ("big", "empty")):
            for days in (1, 30):
                ms, n_slots = _time_queries(urls[kind], orgs[kind], day, days,
                                            scale.avail_queries if days == 1 else max(2, scale.avail_queries // 10))
                runs[f"{kind}_{days}"].append(median(ms))
                slots[f"{kind}_{days}"] = n_slots
        log(f"availability round {rnd + 1}/{scale.rounds}: " + ", ".join(f"{k} {v[-1]:.2f} ms" for k, v in runs.items()))

    label = f"5 availability ({scale.avail_providers} providers, {counts[0]:,} past appts)"
    one_big, one_empty = median(runs["big_1"]), median(runs["empty_1"])
    m_big, m_empty = median(runs["big_30"]), median(runs["empty_30"])
    r1 = median(ratio(a, b) for a, b in zip(runs["big_1"], runs["empty_1"]))
    r30 = median(ratio(a, b) for a, b in zip(runs["big_30"], runs["empty_30"]))
    res.rows += [
        Row(label, "one day", one_big, "ms/query", "empty database", one_empty, r1, "< 5 ms; ratio <= 1.2",
            one_big < 5 and r1 <= 1.2),
        Row(label, "30 days", m_big, "ms/query", "empty database", m_empty, r30, "ratio <= 1.2", r30 <= 1.2),
    ]
    res.checks.update({"appointments": counts[0], "holds": counts[1], "contacts": counts[2],
                       "same_slots_as_empty": slots.get("big_1") == slots.get("empty_1")
                       and slots.get("big_30") == slots.get("empty_30"),
                       "slots": slots})
    res.raw = {"runs_median_ms": runs, "generate_seconds": round(gen_s, 1), "database_size": counts[3],
               "query_date": day.isoformat()}
    return res
