"""Benchmark 7: the arbiter alone -- what keeping two active claims of one calendar from overlapping costs.

Each candidate is a table with a hold's columns, nothing but its primary key and the arbiter, and one
pgbench script: a bare ``INSERT ... ON CONFLICT DO NOTHING`` of a 30-minute claim (random calendar of
200, day, grid slot: the values of benchmark 1), no function, no validation. The baseline is the same
INSERT into a table with only the primary key (benchmark 1's plain INSERT). Tables are not emptied
between runs, so a few percent of claims meet a taken time and are refused, as in benchmark 1.

Every candidate must refuse an overlapping active claim whatever the application writes (buffers:
ranges of any length and alignment): ``_prove`` tries the same overlapping and adjacent pairs on each.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

import psycopg

from bench.common import BenchResult, BenchServer, Row, Scale, create_clinic, log, median, ratio, run

COLUMNS = """
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL,
    calendar_id   text NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    occupies      tstzrange,
    vapi_call_id  text,
    patient_name  text,
    patient_phone text,
    status        text NOT NULL DEFAULT 'held',
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)"""
RANGE = "(coalesce(occupies, tstzrange(starts_at, ends_at, '[)')))"
LIVE = "WHERE (status IN ('held', 'confirmed'))"

# name -> (what it is, DDL). Every table is arb.<name>; `calendar_key` is filled by the insert where it exists.
CANDIDATES: dict[str, tuple[str, str]] = {
    "plain": ("baseline: primary key only, no arbiter", f"CREATE TABLE arb.plain ({COLUMNS})"),
    "gist_uuid_text": (
        "GiST (org_id uuid =, calendar_id text =, range &&): holds_no_overlap from 0024 to 0032",
        f"CREATE TABLE arb.gist_uuid_text ({COLUMNS}, EXCLUDE USING gist "
        f"(org_id WITH =, calendar_id WITH =, {RANGE} WITH &&) {LIVE})"),
    "gist_uuid_hash": (
        "GiST (org_id uuid =, hashtextextended(calendar_id, 0) bigint =, range &&): an expression, no new "
        "column; holds_no_overlap since 0033",
        f"CREATE TABLE arb.gist_uuid_hash ({COLUMNS}, EXCLUDE USING gist "
        f"(org_id WITH =, (hashtextextended(calendar_id, 0)) WITH =, {RANGE} WITH &&) {LIVE})"),
    "gist_uuid_key": (
        "GiST (org_id uuid =, calendar_key bigint column =, range &&)",
        f"CREATE TABLE arb.gist_uuid_key ({COLUMNS}, calendar_key bigint NOT NULL, EXCLUDE USING gist "
        f"(org_id WITH =, calendar_key WITH =, {RANGE} WITH &&) {LIVE})"),
    "gist_key_only": (
        "GiST (calendar_key bigint =, range &&): no org_id, not allowed on Citus (reference only)",
        f"CREATE TABLE arb.gist_key_only ({COLUMNS}, calendar_key bigint NOT NULL, EXCLUDE USING gist "
        f"(calendar_key WITH =, {RANGE} WITH &&) {LIVE})"),
    "btree_cells": (
        "btree unique (org_id, calendar_id, cell) over 5-minute cells, kept by a trigger (one row per cell "
        "the range touches); a conflict is a unique_violation, caught in a subtransaction",
        f"""CREATE TABLE arb.btree_cells ({COLUMNS});
        CREATE TABLE arb.cells (org_id uuid NOT NULL, calendar_id text NOT NULL, cell timestamptz NOT NULL,
                                hold_id uuid NOT NULL, PRIMARY KEY (org_id, calendar_id, cell));
        CREATE FUNCTION arb.take_cells() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- every 5-minute cell the occupied range touches, from the cell holding its start
            INSERT INTO arb.cells (org_id, calendar_id, cell, hold_id)
            SELECT NEW.org_id, NEW.calendar_id, g, NEW.id
              FROM coalesce(NEW.occupies, tstzrange(NEW.starts_at, NEW.ends_at, '[)')) AS r,
                   generate_series(to_timestamp(floor(extract(epoch FROM lower(r)) / 300) * 300),
                                   upper(r) - interval '1 microsecond', interval '5 minutes') AS g;
            RETURN NULL;
        END $$;
        CREATE TRIGGER btree_cells_take AFTER INSERT ON arb.btree_cells FOR EACH ROW
            WHEN (NEW.status IN ('held', 'confirmed')) EXECUTE FUNCTION arb.take_cells();
        CREATE FUNCTION arb.claim_cells(o uuid, cal text, st timestamptz, en timestamptz, sid text)
            RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO arb.btree_cells (org_id, calendar_id, starts_at, ends_at, vapi_call_id, patient_name,
                                         patient_phone, expires_at)
            VALUES (o, cal, st, en, sid, 'Bench Caller', '+15555550123', now() + interval '10 minutes');
            RETURN true;
        EXCEPTION WHEN unique_violation THEN
            RETURN false;
        END $$;"""),
}

_SETS = """\\set cal random(1, :ncal)
\\set day random(2, 700)
\\set slot random(0, 15)
\\set n random(1, 2000000000)
"""
_START = "((current_date + :day::int) + time '08:00' + :slot::int * interval '30 minutes') AT TIME ZONE 'UTC'"
_END = "((current_date + :day::int) + time '08:30' + :slot::int * interval '30 minutes') AT TIME ZONE 'UTC'"


def _script(name: str) -> str:
    if name == "btree_cells":
        return _SETS + (f"SELECT arb.claim_cells(:org::uuid, 'c' || :cal::text, {_START}, {_END}, "
                        "'pgb-' || :client_id::text || '-' || :n::text);\n")
    key_col, key_val = (", calendar_key", ", :cal") if "key" in name else ("", "")
    return _SETS + (f"INSERT INTO arb.{name} (org_id, calendar_id{key_col}, starts_at, ends_at, vapi_call_id, "
                    f"patient_name, patient_phone, expires_at) VALUES (:org::uuid, 'c' || :cal::text{key_val}, "
                    f"{_START}, {_END}, 'pgb-' || :client_id::text || '-' || :n::text, 'Bench Caller', "
                    "'+15555550123', now() + interval '10 minutes') ON CONFLICT DO NOTHING;\n")


_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)


def _pgbench(server: BenchServer, db: str, script: Path, org: str, scale: Scale) -> float:
    out = run([server.pg_bin("pgbench"), "-n", "-M", "prepared", "-c", str(scale.claims_clients), "-j", "2",
               "-T", str(int(max(1, scale.claims_seconds))), "-D", f"org={org}",
               "-D", f"ncal={scale.claims_calendars}", "-f", str(script)],
              env=server.libpq_env(db), timeout=scale.claims_seconds * 4 + 60)
    m = _TPS.search(out)
    if not m:
        raise RuntimeError(f"pgbench printed no tps for {script.name}:\n{out[-1500:]}")
    return float(m.group(1))


def _prove(conn: psycopg.Connection, name: str) -> dict[str, bool]:
    """What the candidate does on one calendar with ranges unaligned to any grid (buffers make those):
    ``refuses_overlaps`` -- every overlapping claim refused, by a minute too, and another calendar still
    free (the guarantee; must hold); ``takes_adjacent`` -- a claim that only touches another is taken
    (False: the arbiter refuses free time)."""
    org = "00000000-0000-0000-0000-0000000000aa"
    t0 = "2030-01-07 09:00+00"

    def claim(cal: str, start_min: int, end_min: int) -> bool:
        st = f"timestamptz '{t0}' + interval '{start_min} minutes'"
        en = f"timestamptz '{t0}' + interval '{end_min} minutes'"
        if name == "btree_cells":
            return conn.execute(f"SELECT arb.claim_cells('{org}', '{cal}', {st}, {en}, 'p')").fetchone()[0]
        key_col, key_val = (", calendar_key", f", {int(cal[1:])}") if "key" in name else ("", "")
        cur = conn.execute(f"INSERT INTO arb.{name} (org_id, calendar_id{key_col}, starts_at, ends_at, expires_at) "
                           f"VALUES ('{org}', '{cal}'{key_val}, {st}, {en}, now() + interval '10 minutes') "
                           "ON CONFLICT DO NOTHING")
        return cur.rowcount == 1

    with conn.transaction(force_rollback=True):
        refuses = (claim("p1", 0, 31) and not claim("p1", 30, 59) and not claim("p1", 7, 8)
                   and not claim("p1", -20, 1) and claim("p2", 0, 31))
    with conn.transaction(force_rollback=True):
        adjacent = claim("p1", 0, 31) and claim("p1", 31, 62) and claim("p1", -17, 0)
    return {"refuses_overlaps": refuses, "takes_adjacent": adjacent}


def _loop_us(conn: psycopg.Connection, name: str, org: str, n: int) -> float:
    """CPU per insert inside one backend: n inserts in one transaction, rolled back (no commit, no client,
    no contention): the arbiter's own cost, far less noisy than tps on a shared machine."""
    if name == "btree_cells":
        stmt = ("PERFORM arb.claim_cells(o, 'c' || (1 + i % 200), t, t + interval '30 minutes', 'loop')")
    else:
        key_col, key_val = (", calendar_key", ", 1 + i % 200") if "key" in name else ("", "")
        stmt = (f"INSERT INTO arb.{name} (org_id, calendar_id{key_col}, starts_at, ends_at, expires_at) "
                f"VALUES (o, 'c' || (1 + i % 200){key_val}, t, t + interval '30 minutes', now()) ON CONFLICT DO NOTHING")
    with conn.transaction(force_rollback=True):
        conn.execute(f"""CREATE TEMP TABLE IF NOT EXISTS arb_loop (us float8);
        DO $$
        DECLARE o uuid := '{org}'; t timestamptz; t0 timestamptz := clock_timestamp();
        BEGIN
            FOR i IN 1..{n} LOOP
                t := timestamptz '2031-01-01 08:00+00' + (i / 200) * interval '30 minutes';
                {stmt};
            END LOOP;
            INSERT INTO arb_loop VALUES (extract(epoch FROM clock_timestamp() - t0) * 1e6 / {n});
        END $$""")
        return conn.execute("SELECT us FROM arb_loop").fetchone()[0]


def run_arbiters(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("arbiters")
    db = "bench_arbiters"
    url = server.new_db(db)
    org = create_clinic(url, 2, "+15550000007")
    names = list(CANDIDATES)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA arb")
        for _, ddl in CANDIDATES.values():
            conn.execute(ddl)
        proven = {n: _prove(conn, n) for n in names if n != "plain"}
    tps: dict[str, list[float]] = {n: [] for n in names}
    loop_us: dict[str, list[float]] = {n: [] for n in names}
    loop_n = 20_000 if scale.name == "full" else 1_000
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {n: Path(tmp) / f"{n}.pgbench" for n in names}
        for n, p in scripts.items():
            p.write_text(_script(n))
        for n in names:   # warm-up: some rows in every table, then statistics
            _pgbench(server, db, scripts[n], org, dataclasses.replace(scale, claims_seconds=1))
        for r in range(scale.rounds):
            order = names if r % 2 == 0 else list(reversed(names))
            for n in order:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("ANALYZE")
                    conn.execute("CHECKPOINT")
                tps[n].append(_pgbench(server, db, scripts[n], org, scale))
            with psycopg.connect(url) as conn:
                for n in order:
                    loop_us[n].append(_loop_us(conn, n, org, loop_n))
            log(f"arbiters round {r + 1}/{scale.rounds}: " + ", ".join(f"{n} {tps[n][-1]:.0f} tps {loop_us[n][-1]:.1f} us"
                                                                        for n in names))
    base = tps["plain"]
    res.rows.append(Row("7 arbiters alone (bare INSERT, pgbench 16 clients)", "no arbiter (primary key only) tps",
                        median(base), "tx/s"))
    for n in names[1:]:
        rr = median(ratio(a, b) for a, b in zip(tps[n], base))
        res.rows.append(Row("7 arbiters alone (bare INSERT, pgbench 16 clients)", f"{n} tps", median(tps[n]), "tx/s",
                            "no arbiter", median(base), rr))
    for n in names:
        res.rows.append(Row("7 arbiters alone (one backend, loop)", f"{n} insert", median(loop_us[n]), "us",
                            "no arbiter", median(loop_us["plain"]),
                            median(ratio(a, b) for a, b in zip(loop_us[n], loop_us["plain"]))))
    res.checks["candidates"] = proven
    res.checks["exactly_every_arbiter_refuses_overlaps"] = all(p["refuses_overlaps"] for p in proven.values())
    res.raw = {"tps": tps, "loop_us": loop_us, "loop_inserts": loop_n, "candidates": {n: d for n, (d, _) in CANDIDATES.items()}}
    return res
