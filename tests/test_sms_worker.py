"""The SMS worker against a fake Twilio over real HTTP, through the real twilio library.

The database is shared with other tests (their queued messages get sent too), so every assertion is
about this test's own clinic, numbers and message ids.
"""

from __future__ import annotations

import collections
import json
import signal

import psycopg
import pytest

from voxbook.db import call_sync
from clinic_helpers import new_clinic
from fake_twilio import FakeTwilio
from sms_helpers import (
    MESSAGING_SERVICE_SID,
    PUBLIC_BASE_URL,
    WorkerThread,
    book,
    new_phone,
    outbox,
    queue,
    run_once,
    settings_for,
    start_worker_process,
    wait_until,
    worker_env,
)


@pytest.fixture
def fake():
    with FakeTwilio() as f:
        yield f


def test_confirmed_booking_sends_code_and_exactly_one_confirmation(db, fake, app_database_url):
    sender = new_phone()
    org, _ = new_clinic(db, sms_from=sender)
    patient = new_phone()
    settings = settings_for(fake, app_database_url)
    hold_id, otp_id = _book_code(db, org, patient)

    assert run_once(settings) == 0
    [otp_post] = fake.posts_for(patient)
    otp_params = otp_post["params"]
    code = otp_params["Body"].split()[0]     # what the patient reads on the phone
    assert code.isdigit() and "Reply STOP" not in otp_params["Body"]
    assert 1 <= int(otp_params["ValidityPeriod"]) <= 600     # the code dies with the 10-minute hold
    assert otp_params["From"] == sender and "MessagingServiceSid" not in otp_params
    otp = outbox(db, otp_id)
    assert otp["status"] == "sent" and code not in otp["body"]   # no longer stored in clear

    appt = db.execute("SELECT api.verify_otp(%s, %s, %s) AS r", (hold_id, org, code)).fetchone()["r"]
    assert appt["success"], appt
    assert run_once(settings) == 0
    assert run_once(settings) == 0   # a second pass finds nothing to send
    again = db.execute("SELECT api.send_confirmation_sms(%s, %s) AS r", (appt["appointment_id"], org)).fetchone()["r"]
    assert run_once(settings) == 0

    conf_id = appt["message_id"]
    assert fake.created_for([otp_id, conf_id]) == {otp_id: 1, conf_id: 1}
    posts = fake.posts_for(patient)
    assert len(posts) == 2
    conf_params = posts[1]["params"]
    assert conf_params["Body"].startswith("Your appointment is confirmed:") and "Reply STOP" in conf_params["Body"]
    assert "ValidityPeriod" not in conf_params
    assert conf_params["StatusCallback"] == f"{PUBLIC_BASE_URL}/twilio/status?org_id={org}&message_id={conf_id}"

    conf = outbox(db, conf_id)
    sid = next(m["sid"] for m in fake.messages if m["body"] == conf_params["Body"])
    assert (conf["status"], conf["provider_message_id"], conf["attempts"]) == ("sent", sid, 1)
    got = db.execute("SELECT api.get_appointment(%s, %s) AS r", (appt["appointment_id"], org)).fetchone()["r"]
    assert got["confirmation_sms"] == {"message_id": conf_id, "status": "sent", "provider_message_id": sid}
    assert again["message_id"] == conf_id and again["message_sent"]


def test_messaging_service_is_used_when_the_clinic_has_no_sender(db, fake, app_database_url):
    org, _ = new_clinic(db)
    to = new_phone()
    mid = queue(db, org, to, "Service route")
    run_once(settings_for(fake, app_database_url))
    [post] = fake.posts_for(to)
    assert post["params"]["MessagingServiceSid"] == MESSAGING_SERVICE_SID and "From" not in post["params"]
    assert outbox(db, mid)["status"] == "sent"


def test_transient_errors_are_retried_until_sent(db, fake, app_database_url):
    org, _ = new_clinic(db)
    to = new_phone()
    fake.script(to, [("error", 429, 20429), ("error", 503, 20500), ("drop",)])
    mid = queue(db, org, to, "Retry me")

    with WorkerThread(settings_for(fake, app_database_url), retry_base_seconds=0.05):
        wait_until(lambda: outbox(db, mid)["status"] == "sent", what="message sent after retries")

    row = outbox(db, mid)
    assert [p["outcome"] for p in fake.posts_for(to)] == ["error", "error", "drop", "ok"]
    assert fake.created_for([mid]) == {mid: 1}
    # 429 (refused), 503 and a dropped connection (maybe accepted: looked up before resending), then sent.
    assert row["attempts"] == 4 and row["error_code"] is None
    assert any(g["query"].get("To") == to for g in fake.gets), "an ambiguous failure must be reconciled"


def test_transient_errors_stop_at_max_attempts(db, fake, app_database_url):
    org, _ = new_clinic(db)
    to = new_phone()
    fake.script(to, [("error", 429, 20429)] * 10)
    mid = queue(db, org, to, "Never gets through")
    db.execute("UPDATE voxbook.sms_outbox SET max_attempts = 3 WHERE id = %s", (mid,))

    with WorkerThread(settings_for(fake, app_database_url), retry_base_seconds=0.02):
        wait_until(lambda: outbox(db, mid)["status"] == "failed", what="message failed")
    row = outbox(db, mid)
    assert (row["attempts"], row["error_code"]) == (3, "20429")
    assert len(fake.posts_for(to)) == 3


@pytest.mark.parametrize("code", [21211, 21614, 21408])
def test_permanent_errors_are_not_retried(db, fake, app_database_url, code):
    org, _ = new_clinic(db)
    to = new_phone()
    fake.script(to, [("error", 400, code)])
    mid = queue(db, org, to, "Bad number")

    with WorkerThread(settings_for(fake, app_database_url)):
        wait_until(lambda: outbox(db, mid)["status"] == "failed", what="message failed")
        # Later rounds (the worker polls every 0.2 s) must not try again.
        other = queue(db, org, new_phone(), "Canary after the failure")
        wait_until(lambda: outbox(db, other)["status"] == "sent", what="canary sent")

    row = outbox(db, mid)
    assert (row["attempts"], row["error_code"]) == (1, str(code))
    assert len(fake.posts_for(to)) == 1


def test_error_21610_opts_the_recipient_out(db, fake, app_database_url):
    org, _ = new_clinic(db)
    to = new_phone()
    fake.script(to, [("error", 400, 21610)])
    first = queue(db, org, to, "First")
    settings = settings_for(fake, app_database_url)
    run_once(settings)

    assert outbox(db, first)["status"] == "failed"
    contact = db.execute("SELECT * FROM voxbook.contacts WHERE org_id = %s AND phone = %s", (org, to)).fetchone()
    assert contact["sms_opted_out"] and contact["sms_opt_out_source"] == "twilio:21610"
    later = queue(db, org, to, "Second")
    run_once(settings)
    assert outbox(db, later)["status"] == "skipped"
    assert len(fake.posts_for(to)) == 1


def test_stop_blocks_queued_and_later_messages_and_start_allows_again(db, fake, app_database_url):
    sender = new_phone()
    org, _ = new_clinic(db, sms_from=sender)
    patient = new_phone()
    queued = queue(db, org, patient, "Queued before STOP")
    stop = db.execute("SELECT api.record_inbound_sms(%s, %s, 'Stop', 'SMstop1') AS r", (sender, patient)).fetchone()["r"]
    assert stop["action"] == "opt_out"
    _, code_message = _book_code(db, org, patient)   # refused at queue time
    later = queue(db, org, patient, "Queued after STOP")
    settings = settings_for(fake, app_database_url)
    run_once(settings)

    assert fake.posts_for(patient) == []
    assert {outbox(db, m)["status"] for m in (queued, later, code_message)} == {"skipped"}

    db.execute("SELECT api.record_inbound_sms(%s, %s, 'START', 'SMstart1')", (sender, patient))
    again = queue(db, org, patient, "After START")
    run_once(settings)
    assert [p["params"]["Body"] for p in fake.posts_for(patient)] == ["After START"]
    assert outbox(db, again)["status"] == "sent"


def _book_code(db, org, phone):
    """A hold with its code SMS queued (and not yet verified)."""
    slot = db.execute("SELECT tests.at(%s, (current_date + 8) + time '14:00') AS t", (org,)).fetchone()["t"]
    hold = db.execute("SELECT api.claim_slot_atomic(%s, 'cal-b', %s, 'call-x', 'Pat', %s) AS r",
                      (org, slot, phone)).fetchone()["r"]
    sent = db.execute("SELECT api.send_otp_code(%s, %s) AS r", (hold["hold_id"], org)).fetchone()["r"]
    return hold["hold_id"], sent["message_id"]


def test_code_of_a_released_or_expired_hold_is_never_sent(db, fake, app_database_url):
    org, _ = new_clinic(db)
    p1, p2 = new_phone(), new_phone()
    hold1, code1 = _book_code(db, org, p1)
    db.execute("SELECT api.release_hold(%s, %s)", (hold1, org))
    hold2, code2 = _book_code(db, org, p2)
    db.execute("UPDATE voxbook.holds SET expires_at = now() - interval '1 second' WHERE id = %s", (hold2,))
    run_once(settings_for(fake, app_database_url))

    assert fake.posts_for(p1) == [] and fake.posts_for(p2) == []
    assert outbox(db, code1)["status"] == "cancelled"   # release_hold cancels it at once
    row = outbox(db, code2)
    assert row["status"] == "skipped" and row["skip_reason"] == "code not sent: the hold is no longer live"
    assert row["body"].startswith("**** is your"), "the code must be redacted"


def test_reminder_is_sent_when_due_and_not_when_cancelled(db, fake, app_database_url):
    org, _ = new_clinic(db)
    kept_phone, cancelled_phone = new_phone(), new_phone()
    kept = book(db, org, kept_phone, days_ahead=5, hour=9)
    cancelled = book(db, org, cancelled_phone, days_ahead=5, hour=11)
    settings = settings_for(fake, app_database_url)
    run_once(settings)   # codes and confirmations

    def reminder(appt):
        return db.execute("SELECT * FROM voxbook.sms_outbox WHERE appointment_id = %s AND kind = 'reminder'"
                          " ORDER BY created_at DESC LIMIT 1", (appt["appointment_id"],)).fetchone()

    assert reminder(kept)["status"] == "queued" and reminder(kept)["send_after"] > db.execute("SELECT now() AS n").fetchone()["n"]
    assert not [p for p in fake.posts_for(kept_phone) if p["params"]["Body"].startswith("Reminder")]
    db.execute("SELECT api.cancel_appointment(%s, %s)", (cancelled["appointment_id"], org))
    # Time passes: both reminders' moment arrives.
    db.execute("UPDATE voxbook.sms_outbox SET send_after = now() WHERE kind = 'reminder' AND appointment_id IN (%s, %s)",
               (kept["appointment_id"], cancelled["appointment_id"]))
    run_once(settings)

    sent = [p["params"]["Body"] for p in fake.posts_for(kept_phone) if p["params"]["Body"].startswith("Reminder")]
    assert len(sent) == 1 and "Dr. Able" in sent[0]
    assert reminder(kept)["status"] == "sent"
    assert not [p for p in fake.posts_for(cancelled_phone) if p["params"]["Body"].startswith("Reminder")]
    assert reminder(cancelled)["status"] == "cancelled"


def test_timeout_after_twilio_accepted_is_reconciled_not_sent_twice(db, fake, app_database_url):
    org, _ = new_clinic(db)
    slow, dropped = new_phone(), new_phone()
    fake.script(slow, [("slow", 3.0)])            # accepted, answer arrives after our 1 s timeout
    fake.script(dropped, [("drop_after_create",)])  # accepted, connection lost before the answer
    ids = [queue(db, org, slow, "Slow answer"), queue(db, org, dropped, "Lost answer")]

    with WorkerThread(settings_for(fake, app_database_url, timeout=1.0), retry_base_seconds=0.05):
        wait_until(lambda: all(outbox(db, m)["status"] == "sent" for m in ids), what="reconciled")

    assert fake.created_for(ids) == {ids[0]: 1, ids[1]: 1}
    assert len(fake.posts_for(slow)) == 1 and len(fake.posts_for(dropped)) == 1
    for mid in ids:
        row = outbox(db, mid)
        created = next(m for m in fake.messages if m["_params"]["StatusCallback"].endswith(mid))
        assert row["provider_message_id"] == created["sid"]


def test_messages_queued_while_no_worker_runs_are_sent_and_due_ones_are_found_by_polling(db, fake, app_database_url):
    org, _ = new_clinic(db)
    early, late = new_phone(), new_phone()
    waiting = queue(db, org, early, "Queued while the worker was down")   # its NOTIFY reached nobody
    with WorkerThread(settings_for(fake, app_database_url)):
        wait_until(lambda: outbox(db, waiting)["status"] == "sent", what="catch-up")
        # Due in a moment: no NOTIFY will ever announce it (internal.queue_sms sends one only for due rows).
        future = queue(db, org, late, "Due later", send_after_sql="now() + interval '1 second'")
        assert outbox(db, future)["status"] == "queued"
        wait_until(lambda: outbox(db, future)["status"] == "sent", what="poll")
    assert len(fake.posts_for(early)) == 1 and len(fake.posts_for(late)) == 1


def test_worker_reconnects_after_losing_the_database(db, fake, app_database_url):
    org, _ = new_clinic(db)
    to = new_phone()
    with WorkerThread(settings_for(fake, app_database_url), worker_id="reconnect-test",
                      reconnect_initial_seconds=0.1):
        def worker_backends():
            return [r["pid"] for r in db.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'voxbook-worker'"
                " AND usename = 'voxbook_app'").fetchall()]
        wait_until(lambda: len(worker_backends()) >= 2, what="worker connected")
        old = set(worker_backends())
        db.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (list(old),))
        wait_until(lambda: len(set(worker_backends()) - old) >= 2, what="worker reconnected")
        mid = queue(db, org, to, "After the reconnect")
        wait_until(lambda: outbox(db, mid)["status"] == "sent", what="sent after reconnect")


def test_two_workers_send_500_messages_each_exactly_once(db, fake, app_database_url):
    org, _ = new_clinic(db)
    ids = [str(r["id"]) for r in db.execute(
        "SELECT (internal.queue_sms(%s, 'other', '+1556' || lpad(i::text, 7, '0'), 'Bulk message ' || i)).id"
        " FROM generate_series(1, 500) AS i", (org,)).fetchall()]
    fake.gate.clear()   # hold every POST until both workers have one in flight
    procs = [start_worker_process(worker_env(fake, app_database_url, api_base=f"{fake.base_url}/{name}", timeout=30),
                                  "--once", "--worker-id", name, "--batch-size", "25", "--concurrency", "4")
             for name in ("w1", "w2")]
    try:
        fake.wait_for(lambda: fake.in_flight["/w1"] > 0 and fake.in_flight["/w2"] > 0, what="both workers sending")
        fake.gate.set()
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        fake.gate.set()
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], outputs

    created = fake.created_for(ids)
    assert len(created) == 500 and set(created.values()) == {1}
    by_worker = collections.Counter(m["_prefix"] for m in fake.messages if m["body"].startswith("Bulk message "))
    assert by_worker["/w1"] > 0 and by_worker["/w2"] > 0 and sum(by_worker.values()) == 500
    rows = db.execute("SELECT status, count(*) AS n FROM voxbook.sms_outbox WHERE org_id = %s GROUP BY status",
                      (org,)).fetchall()
    assert rows == [{"status": "sent", "n": 500}]
    logs = "".join(err for _, err in outputs)
    assert '"event":"sms.sent"' in logs
    assert "+1556" not in logs and "Bulk message" not in logs, "no phone numbers or bodies in logs"


def test_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(db, fake, app_database_url):
    org, _ = new_clinic(db)
    prefix = "+1557" + new_phone()[5:9]
    ids = [str(r["id"]) for r in db.execute(
        "SELECT (internal.queue_sms(%s, 'other', %s || lpad(i::text, 3, '0'), 'Batch ' || i)).id"
        " FROM generate_series(1, 30) AS i", (org, prefix)).fetchall()]
    fake.delay = 0.5   # each message is created at once and answered 0.5 s later
    env = worker_env(fake, app_database_url, timeout=1.0)   # a send's lease: 2 x 1 s + 5 s
    victim = start_worker_process(env, "--worker-id", "victim", "--concurrency", "2", "--batch-size", "30",
                                  "--lease-seconds", "1")
    try:
        # Kill while requests are in flight: Twilio has those messages, the worker never learns their sid.
        fake.wait_for(lambda: len(fake.created_for(ids)) >= 6 and fake.in_flight[""] > 0, what="mid-batch")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    states = {m: outbox(db, m)["status"] for m in ids}
    assert "sending" in states.values() and "sent" in states.values(), states   # really killed mid-batch
    created_before = set(fake.created_for(ids))
    # Twilio has these, the database does not know it: the dangerous ones.
    ambiguous = {m for m in created_before if states[m] == "sending"}
    assert ambiguous

    fake.delay = 0.0
    # The victim's rows are its own until their leases run out: 1 s for those still waiting, the send's
    # lease (7 s) for those whose send had begun. Then the next worker takes them over.
    wait_until(lambda: db.execute("SELECT count(*) AS n FROM voxbook.sms_outbox WHERE id = ANY(%s::uuid[])"
                                  " AND status = 'sending' AND lease_until >= now()", (ids,)).fetchone()["n"] == 0,
               timeout=20, what="the victim's leases ran out")
    rescuer = start_worker_process(env, "--once", "--worker-id", "rescuer")
    out, err = rescuer.communicate(timeout=120)
    assert rescuer.returncode == 0, err

    created = fake.created_for(ids)
    assert len(created) == 30 and set(created.values()) == {1}, created
    rows = {m: outbox(db, m) for m in ids}
    assert {r["status"] for r in rows.values()} == {"sent"}
    sid_of = {m["_params"]["StatusCallback"].rsplit("=", 1)[1]: m["sid"] for m in fake.messages}
    assert all(rows[m]["provider_message_id"] == sid_of[m] for m in ids)
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    reconciled = {e["message_id"] for e in events if e["event"] == "sms.reconciled"}
    assert reconciled == ambiguous   # found at Twilio and recorded, not sent again


def test_sigterm_finishes_the_message_in_flight_and_releases_the_rest(db, fake, app_database_url):
    org, _ = new_clinic(db)
    prefix = "+1558" + new_phone()[5:9]
    ids = [str(r["id"]) for r in db.execute(
        "SELECT (internal.queue_sms(%s, 'other', %s || lpad(i::text, 3, '0'), 'Graceful ' || i)).id"
        " FROM generate_series(1, 10) AS i", (org, prefix)).fetchall()]
    fake.gate.clear()
    proc = start_worker_process(worker_env(fake, app_database_url, timeout=30), "--worker-id", "graceful",
                                "--concurrency", "1", "--batch-size", "10")
    try:
        fake.wait_for(lambda: fake.in_flight[""] > 0, what="a send in flight")
        wait_until(lambda: sum(outbox(db, m)["status"] == "sending" for m in ids) == 10, what="batch claimed")
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: '"event":"worker.stopping"' in proc.stderr_so_far() or proc.poll() is not None,
                   what="worker.stopping logged")
        assert proc.poll() is None, "worker exited before the send in flight could finish"
        fake.gate.set()   # only now may the send in flight complete
        out, err = proc.communicate(timeout=60)
    finally:
        fake.gate.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    rows = [outbox(db, m) for m in ids]
    sent = [r for r in rows if r["status"] == "sent"]
    queued = [r for r in rows if r["status"] == "queued"]
    assert (len(sent), len(queued)) == (1, 9)   # the one in flight finished, the rest went back
    assert all(r["attempts"] == 0 and r["locked_by"] is None for r in queued)
    assert fake.created_for(ids) == {str(sent[0]["id"]): 1}
    assert err.count('"event":"sms.released"') == 9


def test_a_claim_skips_rows_another_worker_is_claiming_instead_of_waiting(db, app_database_url):
    org, _ = new_clinic(db)
    ids = {queue(db, org, new_phone(), f"Locked {i}") for i in range(5)}
    with psycopg.connect(app_database_url) as a, psycopg.connect(app_database_url) as b:
        b.execute("SET lock_timeout = '5s'")   # without SKIP LOCKED, b would wait for a, then fail
        b.commit()
        first = call_sync(a, "claim_sms_batch", worker_id="tx-a", batch_size=1000)   # a's transaction stays open
        mine_a = {m["message_id"] for m in first["messages"]} & ids
        assert mine_a == ids
        second = call_sync(b, "claim_sms_batch", worker_id="tx-b", batch_size=1000)
        b.commit()
        assert not ({m["message_id"] for m in second["messages"]} & ids)
        a.rollback()
    assert {outbox(db, m)["status"] for m in ids} == {"queued"}


def test_without_twilio_credentials_messages_go_to_the_console(db, app_database_url, tmp_path):
    org, _ = new_clinic(db)
    to = new_phone()
    mid = queue(db, org, to, "Hello from the laptop")
    env = {k: v for k, v in worker_env(FakeTwilio(), app_database_url, api_base="http://127.0.0.1:9").items()
           if not k.startswith(("TWILIO_", "SMS_"))}
    env["SMS_CONSOLE_OUTBOX"] = str(tmp_path / "outbox.jsonl")
    proc = start_worker_process(env, "--once")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"to:   {to}" in out and "body: Hello from the laptop" in out
    assert '"provider":"console"' in err and to not in err
    row = outbox(db, mid)
    assert row["status"] == "sent" and row["provider_message_id"].startswith("console-")
    lines = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert {"to": to, "body": "Hello from the laptop", "id": row["provider_message_id"]}.items() <= \
        next(r for r in lines if r["message_id"] == mid).items()
