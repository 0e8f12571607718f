"""A carrier account per clinic (issue 13): two clinics on two accounts of the fake Twilio each send through
their own account and have their own callbacks checked; a clinic without one uses the process-wide account.

Real parts only: the worker and the API against the test database, the real twilio library over HTTP to
tests/fake_twilio.py, which checks HTTP basic auth (account SID + token) per account like Twilio does.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import replace
from urllib.parse import urlencode

import psycopg
import pytest
from litestar.testing import TestClient
from twilio.request_validator import RequestValidator

from clinic_helpers import new_clinic
from conftest import run_cli
from fake_twilio import FakeTwilio
from sms_helpers import (
    MESSAGING_SERVICE_SID,
    PUBLIC_BASE_URL,
    WorkerThread,
    new_phone,
    outbox,
    queue,
    run_once,
    settings_for,
    wait_until,
    worker_env,
)
from voxbook.api.app import create_app
from voxbook.secrets_box import SecretsBox, generate_key

SECRETS_KEY = generate_key()
BOX = SecretsBox(SECRETS_KEY)


def new_sid(prefix: str = "AC") -> str:
    return prefix + secrets.token_hex(16)


class Account:
    """A clinic's own account at the fake: SID, token, optional Messaging Service."""

    def __init__(self, fake: FakeTwilio, service: str | None = None):
        self.sid, self.token, self.service = new_sid(), secrets.token_hex(16), service
        fake.add_account(self.sid, self.token)


def give_account(db, org: str, account: Account, token: str | None = None) -> None:
    """What `voxbook clinic carrier set` stores (the CLI itself is tested below): the ciphertext only."""
    db.execute("SELECT api.set_carrier_account(%s, %s, %s, %s, %s)",
               (org, account.sid, BOX.encrypt(token or account.token), BOX.key_id, account.service))


@pytest.fixture(scope="module", autouse=True)
def _no_accounts_left_behind(database_url):
    """The accounts made here are encrypted with this module's key, which no later test has: `voxbook doctor`
    (tests/test_doctor.py) would rightly report each of them."""
    yield
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM voxbook.carrier_accounts")


@pytest.fixture(scope="module")
def fake():
    with FakeTwilio() as f:
        yield f


@pytest.fixture
def settings(fake, app_database_url):
    return replace(settings_for(fake, app_database_url), secrets_key=SECRETS_KEY)


def created(fake: FakeTwilio, account_sid: str, to: str) -> list[dict]:
    return [m for m in fake.messages_for(account_sid) if m["to"] == to]


def test_each_clinic_sends_through_its_own_account_and_the_others_through_the_process_wide_one(db, fake, settings):
    a_from, b_from = new_phone(), new_phone()
    org_a, _ = new_clinic(db, "Clinic A", sms_from=a_from)
    org_b, _ = new_clinic(db, "Clinic B", sms_from=b_from)
    org_c, _ = new_clinic(db, "Clinic C")   # no account, no number: the process-wide Messaging Service
    acc_a, acc_b = Account(fake, service=new_sid("MG")), Account(fake)
    give_account(db, org_a, acc_a)
    give_account(db, org_b, acc_b)
    patient = new_phone()
    ids = {org: queue(db, org, patient, f"Hello from {name}") for org, name in ((org_a, "A"), (org_b, "B"), (org_c, "C"))}

    assert run_once(settings) == 0

    [msg_a] = created(fake, acc_a.sid, patient)
    [msg_b] = created(fake, acc_b.sid, patient)
    [msg_c] = created(fake, fake.account_sid, patient)
    # Its own Messaging Service first (even though the clinic has a number), else its own number.
    assert (msg_a["body"], msg_a["_params"].get("MessagingServiceSid"), msg_a["_params"].get("From")) == \
        ("Hello from A", acc_a.service, None)
    assert (msg_b["body"], msg_b["_params"].get("From"), msg_b["_params"].get("MessagingServiceSid")) == \
        ("Hello from B", b_from, None)
    assert (msg_c["body"], msg_c["_params"].get("MessagingServiceSid")) == ("Hello from C", MESSAGING_SERVICE_SID)
    assert [a["account"] for a in fake.auth_failures if a["account"] in (acc_a.sid, acc_b.sid)] == []
    for org, mid in ids.items():
        row = outbox(db, mid)
        assert row["status"] == "sent"
        # The status callback still names the clinic and the message.
        [m] = [m for m in (msg_a, msg_b, msg_c) if mid in m["_params"]["StatusCallback"]]
        assert f"org_id={org}" in m["_params"]["StatusCallback"]


def test_a_send_through_the_wrong_account_fails_and_nothing_goes_out_elsewhere(db, fake, settings):
    org, _ = new_clinic(db, sms_from=new_phone())
    acc = Account(fake)
    give_account(db, org, acc, token=secrets.token_hex(16))   # not the account's token
    patient = new_phone()
    mid = queue(db, org, patient, "Wrong token")
    assert run_once(settings) == 0
    assert {"method": "POST", "account": acc.sid} in fake.auth_failures   # refused like Twilio: 401 / 20003
    assert [m for m in fake.messages if m["to"] == patient] == []      # nothing sent, not even by the main account
    row = outbox(db, mid)
    assert (row["status"], row["error_code"]) == ("queued", "20003")   # retried later (a token may be fixed)


def test_a_clinic_account_that_cannot_be_decrypted_is_never_replaced_by_another_account(db, fake, settings):
    org, _ = new_clinic(db, sms_from=new_phone())
    acc = Account(fake)
    give_account(db, org, acc)
    patient = new_phone()
    mid = queue(db, org, patient, "Needs the key")
    other_key = replace(settings, secrets_key=generate_key())
    assert run_once(other_key) == 0
    assert [m for m in fake.messages if m["to"] == patient] == []
    row = outbox(db, mid)
    assert (row["status"], row["error_code"]) == ("queued", "carrier_account_unusable")


def test_a_rotated_token_is_used_once_the_cache_expires(db, fake, settings):
    org, _ = new_clinic(db, sms_from=new_phone())
    acc = Account(fake)
    give_account(db, org, acc)
    patient = new_phone()
    ttl = 4.0

    def send(body: str) -> str:
        mid = queue(db, org, patient, body)
        wait_until(lambda: outbox(db, mid)["status"] == "sent", what=f"send of {body!r}")
        [post] = [p for p in fake.posts_for(patient) if p["params"]["Body"] == body]
        return post["token"]

    with WorkerThread(settings, carrier_ttl_seconds=ttl):
        cached_before = time.monotonic()
        assert send("one") == "primary"
        # Twilio's rotation: a secondary token works beside the primary until it is promoted.
        new_token = secrets.token_hex(16)
        fake.add_account(acc.sid, acc.token, secondary=new_token)
        give_account(db, org, acc, token=new_token)
        # Within the TTL the worker still uses the token it read with the account.
        assert send("two") == "primary"
        assert time.monotonic() - cached_before < ttl, "the test machine was too slow to show the cache"
        # After the TTL it reads the account again: the new token.
        time.sleep(max(0.0, cached_before + ttl + 0.5 - time.monotonic()))
        assert send("three") == "secondary"
        fake.add_account(acc.sid, new_token)   # promoted: the old token is refused from now on
        assert send("four") == "primary"
    assert [m["body"] for m in created(fake, acc.sid, patient)] == ["one", "two", "three", "four"]
    assert [f for f in fake.auth_failures if f["account"] == acc.sid] == []


def sign(token: str, url: str, form: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, form)


def post_signed(client, path: str, form: dict[str, str], token: str):
    sig = sign(token, PUBLIC_BASE_URL + path, form)
    return client.post(path, content=urlencode(form),
                       headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


def sent(db, org: str, sid: str) -> str:
    mid = queue(db, org, new_phone(), "Status test")
    db.execute("UPDATE voxbook.sms_outbox SET status = 'sent', provider_message_id = %s, sent_at = now() WHERE id = %s",
               (sid, mid))
    return mid


def status(path_org: str, mid: str, sid: str, account_sid: str, value: str = "delivered") -> tuple[str, dict]:
    path = "/twilio/status?" + urlencode({"org_id": path_org, "message_id": mid})
    return path, {"MessageSid": sid, "MessageStatus": value, "AccountSid": account_sid, "ApiVersion": "2010-04-01"}


def test_status_callbacks_are_checked_with_the_token_of_the_clinic_the_url_names(db, fake, client):
    org_a, _ = new_clinic(db)
    org_b, _ = new_clinic(db)
    org_c, _ = new_clinic(db)
    acc_a, acc_b = Account(fake), Account(fake)
    give_account(db, org_a, acc_a)
    give_account(db, org_b, acc_b)
    sid_a, sid_c = new_sid("SM"), new_sid("SM")
    mid_a, mid_c = sent(db, org_a, sid_a), sent(db, org_c, sid_c)

    # Clinic B's token, whatever account it claims, cannot move clinic A's message.
    for account_sid in (acc_b.sid, acc_a.sid):
        path, form = status(org_a, mid_a, sid_a, account_sid)
        assert post_signed(client, path, form, acc_b.token).status_code == 403
    assert outbox(db, mid_a)["status"] == "sent"
    # Nor can clinic A's token move a message of clinic C (no own account: the process-wide token).
    path, form = status(org_c, mid_c, sid_c, acc_a.sid)
    assert post_signed(client, path, form, acc_a.token).status_code == 403
    assert outbox(db, mid_c)["status"] == "sent"

    path, form = status(org_a, mid_a, sid_a, acc_a.sid)
    assert post_signed(client, path, form, acc_a.token).status_code == 204
    assert outbox(db, mid_a)["status"] == "delivered"
    path, form = status(org_c, mid_c, sid_c, fake.account_sid)
    assert post_signed(client, path, form, fake.auth_token).status_code == 204
    assert outbox(db, mid_c)["status"] == "delivered"
    # A message clinic A sent before it had its own account reports through the process-wide account.
    mid_old = sent(db, org_a, new_sid("SM"))
    path, form = status(org_a, mid_old, outbox(db, mid_old)["provider_message_id"], fake.account_sid)
    assert post_signed(client, path, form, fake.auth_token).status_code == 204
    assert outbox(db, mid_old)["status"] == "delivered"


def inbound(to: str, sender: str, body: str, account_sid: str) -> dict[str, str]:
    return {"MessageSid": new_sid("SM"), "AccountSid": account_sid, "From": sender, "To": to, "Body": body,
            "NumMedia": "0"}


def opted_out(db, org: str, phone: str) -> bool:
    row = db.execute("SELECT sms_opted_out FROM voxbook.contacts WHERE org_id = %s AND phone = %s", (org, phone)).fetchone()
    return bool(row and row["sms_opted_out"])


def test_inbound_stop_is_checked_with_the_receiving_clinics_token_and_opts_out_of_that_clinic_only(db, fake, client):
    a_from, b_from = new_phone(), new_phone()
    org_a, _ = new_clinic(db, sms_from=a_from)
    org_b, _ = new_clinic(db, sms_from=b_from)
    acc_a, acc_b = Account(fake), Account(fake)
    give_account(db, org_a, acc_a)
    give_account(db, org_b, acc_b)
    patient = new_phone()
    pending = {org: queue(db, org, patient, "Pending") for org in (org_a, org_b)}

    # Signed with clinic B's token: refused, whichever account the form names.
    for account_sid in (acc_b.sid, acc_a.sid):
        r = post_signed(client, "/twilio/inbound", inbound(a_from, patient, "STOP", account_sid), acc_b.token)
        assert r.status_code == 403
    assert not opted_out(db, org_a, patient) and outbox(db, pending[org_a])["status"] == "queued"

    r = post_signed(client, "/twilio/inbound", inbound(a_from, patient, "STOP", acc_a.sid), acc_a.token)
    assert r.status_code == 200
    assert opted_out(db, org_a, patient) and outbox(db, pending[org_a])["status"] == "skipped"
    assert not opted_out(db, org_b, patient) and outbox(db, pending[org_b])["status"] == "queued"   # A only

    # HELP to B's number through B's account answers with B's help.
    r = post_signed(client, "/twilio/inbound", inbound(b_from, patient, "HELP", acc_b.sid), acc_b.token)
    assert r.status_code == 200 and "<Message>Test Clinic: appointment texts." in r.text


def test_inbound_stop_to_a_clinics_messaging_service_number_opts_out_of_that_clinic_only(db, fake, client):
    org_a, _ = new_clinic(db)
    org_b, _ = new_clinic(db)
    org_c, _ = new_clinic(db)
    acc_a, acc_b = Account(fake, service=new_sid("MG")), Account(fake, service=new_sid("MG"))
    give_account(db, org_a, acc_a)
    give_account(db, org_b, acc_b)
    patient, pool_number = new_phone(), new_phone()   # a number of A's service, no clinic's own
    pending = {org: queue(db, org, patient, "Pending") for org in (org_a, org_b, org_c)}

    r = post_signed(client, "/twilio/inbound", inbound(pool_number, patient, "STOP", acc_a.sid), acc_b.token)
    assert r.status_code == 403
    r = post_signed(client, "/twilio/inbound", inbound(pool_number, patient, "STOP", acc_a.sid), acc_a.token)
    assert r.status_code == 200
    assert [opted_out(db, o, patient) for o in (org_a, org_b, org_c)] == [True, False, False]
    assert [outbox(db, pending[o])["status"] for o in (org_a, org_b, org_c)] == ["skipped", "queued", "queued"]


def test_the_cli_stores_the_token_encrypted_and_shows_it_masked(db, database_url):
    org, phone = new_clinic(db)
    sid, service, token = new_sid(), new_sid("MG"), secrets.token_hex(16)
    env = {"VOXBOOK_SECRETS_KEY": SECRETS_KEY, "CARRIER_TOKEN": token}
    r = run_cli("clinic", "carrier", "set", "--org", phone, "--account-sid", sid, "--messaging-service-sid", service,
                "--auth-token-env", "CARRIER_TOKEN", database_url=database_url, extra_env=env)
    assert r.returncode == 0, r.stderr
    assert token not in r.stdout + r.stderr and sid not in r.stdout
    row = db.execute("SELECT * FROM voxbook.carrier_accounts WHERE org_id = %s", (org,)).fetchone()
    assert token not in json.dumps(row, default=str)                      # the database never sees it
    assert row["auth_token_ciphertext"] != token and BOX.decrypt(row["auth_token_ciphertext"]) == token
    assert (row["account_sid"], row["messaging_service_sid"], row["key_id"]) == (sid, service, BOX.key_id)

    shown = run_cli("clinic", "carrier", "show", "--org", org, database_url=database_url, extra_env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"AC…{sid[-4:]}" in shown.stdout and "opens it: yes" in shown.stdout
    assert token not in shown.stdout and sid not in shown.stdout and row["auth_token_ciphertext"] not in shown.stdout

    # No token on the command line, ever: without the variable it reads one line from stdin.
    r = run_cli("clinic", "carrier", "set", "--org", org, "--account-sid", "AC123", "--auth-token-env", "CARRIER_TOKEN",
                database_url=database_url, extra_env=env)
    assert r.returncode != 0 and "--account-sid must be AC" in r.stderr
    assert db.execute("SELECT account_sid FROM voxbook.carrier_accounts WHERE org_id = %s", (org,)).fetchone()["account_sid"] == sid

    # Key rotation: a new key in front, rekey, and the old key is no longer needed.
    new_key = generate_key()
    both = {"VOXBOOK_SECRETS_KEY": f"{new_key},{SECRETS_KEY}"}
    r = run_cli("clinic", "carrier", "rekey", database_url=database_url, extra_env=both)
    assert r.returncode == 0, r.stderr
    row = db.execute("SELECT * FROM voxbook.carrier_accounts WHERE org_id = %s", (org,)).fetchone()
    assert row["key_id"] == SecretsBox(new_key).key_id and SecretsBox(new_key).decrypt(row["auth_token_ciphertext"]) == token

    r = run_cli("clinic", "carrier", "clear", "--org", org, database_url=database_url, extra_env=env)
    assert r.returncode == 0 and "removed" in r.stdout
    assert db.execute("SELECT count(*) AS n FROM voxbook.carrier_accounts WHERE org_id = %s", (org,)).fetchone()["n"] == 0


def test_no_token_sid_or_phone_in_the_logs(db, fake, settings, app_database_url, client, caplog):
    sender = new_phone()
    org, _ = new_clinic(db, sms_from=sender)
    acc = Account(fake)
    give_account(db, org, acc)
    patient = new_phone()
    queue(db, org, patient, "Private")
    # The worker as deployed (its own logging setup), sending through the clinic's account.
    env = worker_env(fake, app_database_url) | {"VOXBOOK_SECRETS_KEY": SECRETS_KEY, "LOG_FORMAT": "json"}
    r = run_cli("worker", "--once", database_url=app_database_url, extra_env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert created(fake, acc.sid, patient), "sent through the clinic's account"
    # The callbacks, refused and accepted, as the API logs them.
    caplog.set_level(logging.DEBUG, logger="voxbook")
    post_signed(client, "/twilio/inbound", inbound(sender, patient, "STOP", acc.sid), "forged-token")
    post_signed(client, "/twilio/inbound", inbound(sender, patient, "STOP", acc.sid), acc.token)
    logs = r.stdout + r.stderr + "\n".join(rec.getMessage() + " " + json.dumps(rec.__dict__, default=str)
                                          for rec in caplog.records)
    assert '"event": "sms.sent"' in logs or "sms.sent" in logs     # the log is there
    for secret in (acc.token, acc.sid, fake.auth_token, patient, sender, SECRETS_KEY):
        assert secret not in logs


def knows(db, org: str, phone: str) -> None:
    """The clinic has the number as a contact (a patient who booked there)."""
    db.execute("INSERT INTO voxbook.contacts (org_id, phone, name) VALUES (%s, %s, 'Pat') ON CONFLICT DO NOTHING",
               (org, phone))


def test_a_stop_to_a_pool_number_of_a_shared_account_opts_out_of_that_accounts_clinics_only(db, fake, client):
    # A and B share one account (each row with its own ciphertext of the same token); C is on the
    # process-wide account, D on an account of its own. All four know the patient.
    org_a, _ = new_clinic(db)
    org_b, _ = new_clinic(db)
    org_c, _ = new_clinic(db)
    org_d, _ = new_clinic(db)
    shared, acc_d = Account(fake, service=new_sid("MG")), Account(fake)
    give_account(db, org_a, shared)
    give_account(db, org_b, shared)
    give_account(db, org_d, acc_d)
    patient, pool_number = new_phone(), new_phone()   # a number of the shared account's service, no clinic's own
    orgs = (org_a, org_b, org_c, org_d)
    for org in orgs:
        knows(db, org, patient)
    pending = {org: queue(db, org, patient, "Pending") for org in orgs}

    r = post_signed(client, "/twilio/inbound", inbound(pool_number, patient, "STOP", shared.sid), shared.token)
    assert r.status_code == 200
    assert [opted_out(db, o, patient) for o in orgs] == [True, True, False, False]
    assert [outbox(db, pending[o])["status"] for o in orgs] == ["skipped", "skipped", "queued", "queued"]
    # START through the same account opts back in at the same two clinics only.
    knows(db, org_c, patient)
    db.execute("UPDATE voxbook.contacts SET sms_opted_out = true, sms_opted_out_at = now() WHERE org_id = %s AND phone = %s",
               (org_c, patient))
    r = post_signed(client, "/twilio/inbound", inbound(pool_number, patient, "START", shared.sid), shared.token)
    assert r.status_code == 200
    assert [opted_out(db, o, patient) for o in orgs] == [False, False, True, False]


def test_a_status_callback_moves_only_a_message_of_the_clinic_its_url_names(db, fake, client):
    # A and B share one account, so the token that signs for A also signs for B: the URL's clinic scopes the sid.
    org_a, _ = new_clinic(db)
    org_b, _ = new_clinic(db)
    shared = Account(fake)
    give_account(db, org_a, shared)
    give_account(db, org_b, shared)
    sid_b = new_sid("SM")
    mid_b = sent(db, org_b, sid_b)

    path, form = status(org_a, mid_b, sid_b, shared.sid)   # A's URL naming B's message and its sid
    assert post_signed(client, path, form, shared.token).status_code == 204
    assert outbox(db, mid_b)["status"] == "sent", "B's message is not A's to report on"
    path, form = status(org_b, mid_b, sid_b, shared.sid)
    assert post_signed(client, path, form, shared.token).status_code == 204
    assert outbox(db, mid_b)["status"] == "delivered"
