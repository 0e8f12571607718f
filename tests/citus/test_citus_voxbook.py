"""voxbook on a real Citus cluster (a coordinator and two workers on 127.0.0.1, conftest.py), end to end.

Migrated through `voxbook db migrate` on the coordinator, then used as in production: `voxbook serve` and
`voxbook worker` processes against the coordinator as voxbook_app, Vapi's payloads over HTTP, the fake Twilio
(a real HTTP server). The guarantees of README "The guarantees" are checked again here: one winner per slot,
one run per redelivered tool call, each SMS sent once by workers claiming across shards, tenancy. The pgTAP
suite on the coordinator is test_citus_pgtap.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from clinic_helpers import new_clinic, unique_phone
from conftest import REPO_ROOT, TEST_CODE_PEPPER, run_cli
from dashboard_helpers import dashboard_token, end_of_call_report, login
from fake_twilio import FakeTwilio
from sms_helpers import start_worker_process, wait_until, worker_env
from vapi_helpers import ADMIN, AUTH, day, tc, tool_calls

from voxbook.citus_cluster import NODE_HOST, CitusCluster
from voxbook.db import ApiError, call_sync
from voxbook.migrate import migrate

ANCHOR = "voxbook.holds"
# The foreign keys of voxbook's tables, not counting the coordinator's own copies of reference-table shards
# (organizations_102008 refers to time_zones and countries as organizations does).
FOREIGN_KEYS_SQL = ("SELECT count(*) FROM pg_constraint c WHERE c.contype = 'f'"
                    " AND c.connamespace = 'voxbook'::regnamespace"
                    " AND c.conrelid::regclass::text !~ '_[0-9]+$'")


def _item(resp: httpx.Response) -> dict:
    assert resp.status_code == 200, resp.text
    [item] = resp.json()["results"]
    return item


def _result(resp: httpx.Response) -> dict:
    return json.loads(_item(resp)["result"])


def _hook(base: str, payload: dict) -> httpx.Response:
    return httpx.post(base + "/vapi/webhook", json=payload, headers=AUTH, timeout=30)


def post_report(base: str, payload: dict) -> dict:
    r = _hook(base, payload)
    assert r.status_code == 200, r.text
    return r.json()


async def _post_all(base: str, payloads: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(payloads), max_keepalive_connections=len(payloads))
    async with httpx.AsyncClient(base_url=base, headers=AUTH, limits=limits, timeout=60) as client:
        return await asyncio.gather(*(client.post("/vapi/webhook", json=p) for p in payloads))


def _distribution(conn: psycopg.Connection) -> dict[str, tuple[str, str | None]]:
    """Every Citus table of schema voxbook: (kind, distribution column)."""
    rows = conn.cursor().execute(
        "SELECT table_name::text, citus_table_type, distribution_column FROM citus_tables"
        " WHERE table_name::text LIKE 'voxbook.%'").fetchall()
    return {t: (kind, col) for t, kind, col in rows}


def _org_tables(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " AND a.attname = 'org_id' AND NOT a.attisdropped"
        " WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind IN ('r', 'p')")}


# -- the distribution step -------------------------------------------------------------------------


def test_migrate_distributes_the_schema_and_is_idempotent(voxbook_citus):
    with psycopg.connect(voxbook_citus) as conn:
        dist = _distribution(conn)
        org_tables = _org_tables(conn)
        colocated = {r[0] for r in conn.execute(
            "SELECT logicalrelid::regclass::text FROM pg_dist_partition WHERE colocationid ="
            " (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = %s::regclass)", (ANCHOR,))}
        delegated = {r[0]: r[1] for r in conn.execute(
            "SELECT p.proname::text, d.distribution_argument_index IS NOT NULL"
            "  FROM pg_dist_object d JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid"
            " WHERE p.pronamespace = 'api'::regnamespace")}
        helpers_everywhere = conn.execute(
            "SELECT count(*) FROM pg_proc p WHERE p.pronamespace IN ('api'::regnamespace, 'internal'::regnamespace)"
            "   AND NOT EXISTS (SELECT 1 FROM pg_dist_object d WHERE d.classid = 'pg_proc'::regclass"
            "                   AND d.objid = p.oid)").fetchone()[0]
    assert dist["voxbook.organizations"] == ("reference", "<none>")
    assert dist["voxbook.sms_inbound"] == ("distributed", "message_sid")
    assert org_tables and all(dist.get(t) == ("distributed", "org_id") for t in org_tables), dist
    assert org_tables <= colocated   # one clinic's rows of every table on one node
    # Delegated by org_id: the per-clinic api functions; never those that work across clinics (a NULL
    # distribution argument crashes Citus 13.2.2's coordinator).
    assert delegated["claim_slot_atomic"] and delegated["verify_otp"] and delegated["run_tool_call"]
    for across in ("expire_stale_holds", "claim_sms_batch", "find_organization", "record_sms_status",
                   "calendar_feed", "dashboard_login"):
        assert delegated[across] is False, across
    assert helpers_everywhere == 0   # every function known to Citus, so created on every node

    again = run_cli("db", "migrate", database_url=voxbook_citus, extra_env={"VOXBOOK_CODE_PEPPER": TEST_CODE_PEPPER})
    assert again.returncode == 0, again.stderr
    assert "0 migration(s) applied" in again.stdout and "distributed on Citus" in again.stdout
    with psycopg.connect(voxbook_citus) as conn:
        assert _distribution(conn) == dist


def test_an_existing_database_with_data_is_distributed_in_place(citus_cluster: CitusCluster, tmp_path: Path):
    name = "voxbook_existing"
    url = citus_cluster.coordinator.create_database(name)   # on the coordinator only, no citus yet
    try:
        env = {"VOXBOOK_CODE_PEPPER": TEST_CODE_PEPPER}
        assert run_cli("db", "migrate", database_url=url, extra_env=env).returncode == 0
        assert run_cli("db", "seed-demo", database_url=url).returncode == 0
        with psycopg.connect(url, autocommit=True) as conn:
            org = conn.execute("SELECT id FROM voxbook.organizations LIMIT 1").fetchone()[0]
            slot = call_sync(conn, "check_availability", org_id=org, date=day(2), days=7)["slots"][0]
            hold = call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id=slot["calendar_id"],
                             slot_time=slot["time"], call_sid="existing-call", patient_name="Eve Existing",
                             patient_phone="+15557001234")
            assert hold["success"], hold
            call_sync(conn, "issue_dashboard_token", org_id=org, label="existing")
            before = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _org_tables(conn)}
            fks = conn.execute(FOREIGN_KEYS_SQL).fetchone()[0]
            conn.execute("CREATE EXTENSION citus")
        for w in citus_cluster.workers:
            with psycopg.connect(w.create_database(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION citus")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT citus_set_coordinator_host(%s, %s)", (NODE_HOST, citus_cluster.coordinator.port))
            for w in citus_cluster.workers:
                conn.execute("SELECT citus_add_node(%s, %s)", (NODE_HOST, w.port))

        res = run_cli("db", "migrate", database_url=url, extra_env=env)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "distributed on Citus" in res.stdout
        with psycopg.connect(url, autocommit=True) as conn:
            dist = _distribution(conn)
            assert all(dist.get(t) == ("distributed", "org_id") for t in before), dist
            after = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
            assert after == before and after["voxbook.holds"] == 1
            assert conn.execute(FOREIGN_KEYS_SQL).fetchone()[0] == fks
            assert call_sync(conn, "get_hold", hold_id=hold["hold_id"], org_id=org)["success"]
            assert call_sync(conn, "check_availability", org_id=org, date=day(2), days=7)["slots"]

        # A later migration adds a clinic table referring to organizations: the same migrate distributes it
        # (db/README.md "Writing functions that run on Citus too": no identity column, no key to another clinic
        # table in that migration -- Citus makes such a table a "Citus local table" first).
        db_dir = tmp_path / "db"
        shutil.copytree(REPO_ROOT / "db", db_dir)
        last = sorted(p.stem for p in (db_dir / "migrations").glob("*.sql"))[-1]
        (db_dir / "migrations" / "9999_later_table.sql").write_text(
            f"-- depends: {last}\n"
            "CREATE TABLE voxbook.later_notes (org_id uuid NOT NULL REFERENCES voxbook.organizations (id)"
            " ON DELETE CASCADE, id uuid NOT NULL DEFAULT gen_random_uuid(), note text, PRIMARY KEY (org_id, id));\n")
        result = migrate(url, db_dir=db_dir)
        assert result.migrations_applied == ["9999_later_table"] and result.citus_files
        with psycopg.connect(url, autocommit=True) as conn:
            assert _distribution(conn)["voxbook.later_notes"] == ("distributed", "org_id")
            conn.execute("INSERT INTO voxbook.later_notes (org_id, note) VALUES (%s, 'n')", (org,))
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                conn.execute("INSERT INTO voxbook.later_notes (org_id, note) VALUES (%s, 'n')", (uuid.uuid4(),))
    finally:
        citus_cluster.drop_database(name)


# -- the runtime: NULL distribution arguments -------------------------------------------------------


def test_call_refuses_a_null_org_id_without_sending_anything(citus_app_url):
    closed = psycopg.connect(citus_app_url, autocommit=True)
    closed.close()   # a statement sent on it would fail with OperationalError, not ApiError
    for function in ("claim_slot_atomic", "expire_stale_holds"):
        with pytest.raises(ApiError) as refused:
            call_sync(closed, function, org_id=None, calendar_id="cal-a")
        assert (refused.value.sqlstate, refused.value.message) == ("VB400", "org_id is required")


def test_a_null_org_id_is_refused_before_it_reaches_the_coordinator(citus_server, citus_app_url, cdb):
    with psycopg.connect(citus_app_url, autocommit=True) as bystander:
        assert bystander.execute("SELECT 1").fetchone() == (1,)
        # /rpc with org_id null: 400, and no backend of the coordinator was reset (Citus 13.2.2 crashes on a
        # delegated call with a NULL distribution argument, taking every session with it).
        r = httpx.post(citus_server + "/rpc/claim_slot_atomic", headers={"Authorization": f"Bearer {ADMIN}"},
                       json={"org_id": None, "calendar_id": "cal-a", "slot_time": "2030-01-15T15:00:00Z",
                             "call_sid": "null-org", "patient_name": "Nil"}, timeout=30)
        assert r.status_code == 400 and r.json()["code"] == "VB400", r.text
        assert "org_id" in r.json()["message"]
        with pytest.raises(ApiError) as refused:
            call_sync(bystander, "expire_stale_holds", org_id=None)
        assert refused.value.sqlstate == "VB400"
        # Across clinics: called without org_id, it runs on the coordinator (not delegated).
        assert call_sync(bystander, "expire_stale_holds")["success"] is True
        assert bystander.execute("SELECT 1").fetchone() == (1,)   # the same session, still there


# -- the booking flow through the HTTP API and the SMS worker ---------------------------------------


def test_whole_booking_flow_over_http_and_the_sms_worker(citus_server, citus_app_url, cdb):
    """A caller books through the webhook while the worker process runs on the coordinator, as in production:
    no NOTIFY reaches it there, so its poll finds the code while the hold is live (a code whose hold became an
    appointment before it went out is skipped, rightly), then the confirmation and the owner's alert."""
    org, phone = new_clinic(cdb, "Citus Dental")
    caller, vapi_call = unique_phone(), f"citus-flow-{uuid.uuid4()}"

    def tool(name: str, args: dict) -> dict:
        return _result(_hook(citus_server, tool_calls(phone, [tc(f"{name}-{uuid.uuid4()}", name, args)],
                                                      vapi_call=vapi_call, caller=caller)))

    def to_caller() -> list[dict]:
        return [m for m in fake.messages if m["to"] == caller]

    with FakeTwilio() as fake:
        proc = start_worker_process(worker_env(fake, citus_app_url))
        try:
            avail = tool("check_availability", {"date": day(), "service": "cleaning"})
            assert avail["success"] and avail["slots"]
            slot = avail["slots"][0]
            held = tool("reserve_atomic", {"slotId": slot["time"], "calendarId": slot["calendarId"],
                                           "patientName": "Cit Us", "service": "cleaning"})
            assert held["success"] and held["holdId"]
            again = _result(_hook(citus_server, tool_calls(phone, [tc("other", "reserve_atomic", {
                "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Late"})],
                vapi_call="late-call", caller=unique_phone())))
            assert (again["success"], again["code"]) == (False, "slot_taken")
            sent = tool("send_otp_code", {"holdId": held["holdId"]})
            assert sent["success"] and sent["codeSent"]
            # The caller reads the code off the text the worker sent through Twilio.
            wait_until(lambda: len(to_caller()) == 1, timeout=30, what="the code SMS at Twilio")
            code = re.match(r"^(\d{4,8}) ", to_caller()[0]["body"]).group(1)
            wrong = tool("verify_otp", {"holdId": held["holdId"],
                                        "providedOTP": "0" * len(code) if code[0] != "0" else "1" * len(code)})
            assert (wrong["success"], wrong["code"]) == (False, "wrong_code")
            booked = tool("verify_otp", {"holdId": held["holdId"], "providedOTP": code})
            assert booked["success"] and booked["appointmentId"]
            confirmed = tool("send_confirmation_sms", {"appointmentId": booked["appointmentId"]})
            assert confirmed["success"]
            report = post_report(citus_server, end_of_call_report(phone, vapi_call, caller=caller, name="Cit Us",
                                                                  transcript="User: how much is whitening?",
                                                                  summary="Booked a cleaning"))
            assert report, report
            wait_until(lambda: cdb.execute(
                "SELECT count(*) FILTER (WHERE status = 'sent') AS n FROM voxbook.sms_outbox WHERE org_id = %s",
                (org,)).fetchone()["n"] == 3, timeout=30, what="code, confirmation and alert sent")
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=30)
        assert [m["body"].startswith(code) for m in to_caller()] == [True, False]   # code, then confirmation
        assert "confirmed" in to_caller()[1]["body"]
        statuses = cdb.execute("SELECT kind, status FROM voxbook.sms_outbox WHERE org_id = %s ORDER BY kind",
                               (org,)).fetchall()
        assert [(r["kind"], r["status"]) for r in statuses] == [
            ("confirmation", "sent"), ("hot_lead", "sent"), ("otp", "sent"), ("reminder", "queued")]   # due later
        assert '"polling_only":true' in err   # it says that it polls


def test_hot_leads_reach_the_dashboard_by_polling(citus_server, cdb):
    from test_dashboard import SSEReader   # the stream reader of the single-node dashboard tests

    org, phone = new_clinic(cdb, "Citus Leads")
    stream = SSEReader(login(citus_server, dashboard_token(cdb, org)))
    try:
        stream.next("hello")
        stream.next("resync", timeout=20)   # the hub's first poll of this clinic
        call_id = f"citus-lead-{uuid.uuid4()}"
        post_report(citus_server, end_of_call_report(phone, call_id, caller="+15557659001", name="Polly Poll",
                                                     transcript="User: how much does whitening cost?",
                                                     summary="Price question"))
        lead = json.loads(stream.next("hot_lead", timeout=20)["data"])
        assert lead["call_id"] == call_id and "Polly Poll" in lead["html"]
    finally:
        stream.close()


# -- the guarantees --------------------------------------------------------------------------------


def test_fifty_callers_race_for_one_slot_one_winner_every_round(citus_server, cdb):
    org, phone = new_clinic(cdb, "Citus Race")
    for rnd in range(3):
        slot = _result(_hook(citus_server, tool_calls(phone, [tc(f"avail-{rnd}", "check_availability", {
            "date": day(40 + rnd), "calendarId": "cal-a"})])))["slots"][0]
        payloads = [tool_calls(phone, [tc(f"race-{rnd}-{i}", "reserve_atomic", {
            "slotId": slot["time"], "calendarId": "cal-a", "patientName": f"Caller {i}"})],
            vapi_call=f"citus-race-{rnd}-{i}", caller=f"+1555301{i:04d}") for i in range(50)]
        answers = [json.loads(_item(r)["result"]) for r in asyncio.run(_post_all(citus_server, payloads))]
        winners = [a for a in answers if a["success"]]
        assert len(winners) == 1, f"round {rnd}: {len(winners)} winners"
        assert all(a["code"] == "slot_taken" for a in answers if not a["success"])
    held = cdb.execute("SELECT count(*) AS n FROM voxbook.holds WHERE org_id = %s AND status = 'held'",
                       (org,)).fetchone()["n"]
    assert held == 3


def test_a_redelivered_tool_call_runs_once(citus_server, cdb):
    org, phone = new_clinic(cdb, "Citus Redelivery")
    slot = _result(_hook(citus_server, tool_calls(phone, [tc("avail", "check_availability", {"date": day(45)})])))["slots"][0]
    reserve = tool_calls(phone, [tc("dup-reserve", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Gil"})], vapi_call="citus-dup")
    items = [_item(r) for r in asyncio.run(_post_all(citus_server, [reserve] * 10))]
    assert all(i == items[0] for i in items)
    code = tool_calls(phone, [tc("dup-code", "send_otp_code", {"holdId": json.loads(items[0]["result"])["holdId"]})],
                      vapi_call="citus-dup")
    items = [_item(r) for r in asyncio.run(_post_all(citus_server, [code] * 10))]
    assert all(i == items[0] for i in items)
    counts = cdb.execute(
        "SELECT (SELECT count(*) FROM voxbook.holds WHERE org_id = %(o)s) AS holds,"
        " (SELECT count(*) FROM voxbook.sms_outbox WHERE org_id = %(o)s AND kind = 'otp') AS codes,"
        " (SELECT count(*) FROM voxbook.tool_calls WHERE org_id = %(o)s) AS runs", {"o": org}).fetchone()
    assert counts == {"holds": 1, "codes": 1, "runs": 3}   # availability, reserve, code: one row each


def test_two_workers_claiming_across_shards_send_each_message_once(voxbook_citus, citus_app_url, cdb):
    orgs = [new_clinic(cdb, f"Citus SMS {i}")[0] for i in range(40)]
    ids = [str(cdb.execute("SELECT (internal.queue_sms(%s, 'other', %s, %s)).id AS id",
                           (org, unique_phone(), f"Message {n} of clinic {i}")).fetchone()["id"])
           for i, org in enumerate(orgs) for n in range(10)]
    shards = cdb.execute("SELECT count(DISTINCT get_shard_id_for_distribution_column('voxbook.sms_outbox', org_id))"
                         " AS n, count(DISTINCT nodeport) AS nodes FROM voxbook.sms_outbox m"
                         " JOIN citus_shards s ON s.shardid = get_shard_id_for_distribution_column("
                         "'voxbook.sms_outbox', m.org_id) WHERE m.id = ANY(%s::uuid[])", (ids,)).fetchone()
    assert shards["n"] > 10 and shards["nodes"] == 2   # spread over many shards on both workers
    with FakeTwilio() as fake:
        fake.delay = 0.05   # ~5 s of sending for one worker alone: both take part
        procs = [start_worker_process({**worker_env(fake, citus_app_url, api_base=f"{fake.base_url}/w{n}"),
                                       "WORKER_BATCH_SIZE": "25"}) for n in (1, 2)]
        try:
            wait_until(lambda: cdb.execute("SELECT count(*) FILTER (WHERE status = 'sent') AS n FROM voxbook.sms_outbox"
                                           " WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()["n"] == len(ids),
                       timeout=120, what="every message sent")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.communicate(timeout=30)
        sent = [parse_qs(urlsplit(m["_params"]["StatusCallback"]).query)["message_id"][0] for m in fake.messages]
        mine = [s for s in sent if s in set(ids)]
        assert sorted(mine) == sorted(ids)   # every message once, none twice
        by_worker = {p: sum(1 for m in fake.messages if m["_prefix"] == p) for p in ("/w1", "/w2")}
        assert all(by_worker.values()), by_worker


def test_tenancy_holds_on_citus(citus_server, citus_app_url, cdb):
    org_a, phone_a = new_clinic(cdb, "Citus Tenant A")
    org_b, _ = new_clinic(cdb, "Citus Tenant B")
    slot = _result(_hook(citus_server, tool_calls(phone_a, [tc("avail", "check_availability", {"date": day(33)})])))["slots"][0]
    held = _result(_hook(citus_server, tool_calls(phone_a, [tc("r", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Ten Ant"})], vapi_call="tenant-a")))
    with psycopg.connect(citus_app_url, autocommit=True) as app:
        assert call_sync(app, "get_hold", hold_id=held["holdId"], org_id=org_a)["success"]
        for function in ("get_hold", "release_hold"):
            with pytest.raises(ApiError) as other:
                call_sync(app, function, hold_id=held["holdId"], org_id=org_b)
            assert other.value.sqlstate == "VB404", function   # another clinic's id is unknown
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SELECT count(*) FROM voxbook.holds")   # the API role reads no table
    r = httpx.post(citus_server + "/rpc/release_hold", headers={"Authorization": f"Bearer {ADMIN}"},
                   json={"hold_id": held["holdId"], "org_id": org_b}, timeout=30)
    assert r.status_code == 404, r.text
    assert cdb.execute("SELECT status FROM voxbook.holds WHERE org_id = %s AND id = %s",
                       (org_a, held["holdId"])).fetchone()["status"] == "held"

