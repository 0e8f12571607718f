"""The staff dashboard attacked over real HTTP (uvicorn on 127.0.0.1, the app as voxbook_app): what the adversarial
review of issue 16 found, each a request an attacker (or an unlucky account) can make, checked in the database.

The SQL side (the sign-in limit per IPv6 /64) is tests/pgtap/test_90_dashboard_adversarial.sql."""

from __future__ import annotations

import uuid

import httpx
from clinic_helpers import new_clinic, unique_phone
from dashboard_helpers import csrf_of
from dashboard_helpers import SSEReader

from voxbook.api.dashboard_auth import Staff


def blocks(db, org: str) -> list[dict]:
    return db.execute("SELECT id, reason FROM voxbook.blocked_periods WHERE org_id = %s ORDER BY id", [org]).fetchall()


# -- the live stream ends with the session, however busy the clinic --------------------------------------------


def test_a_deactivated_accounts_open_stream_gets_no_further_event(live_server, db, staff_client):
    """The stream checked its session only after 15 quiet seconds: in a clinic where something changes every
    few seconds, a deactivated (or signed-out) person kept getting the clinic's events, hot leads with callers'
    names included, until the stream's five minutes were up."""
    org, _ = new_clinic(db, "Stream Dental")
    owner = staff_client(org, role="owner")
    desk = staff_client(org, role="front_desk")
    stream = SSEReader(desk)
    try:
        stream.next("hello")
        resp = owner.act(f"/dashboard/staff/{desk.staff.staff_id}/deactivate")
        assert resp.status_code == 303, resp.text
        # Something changes on the board: the marker poll (every 2 s) pushes it to the clinic's streams.
        db.execute("SELECT api.block_local_time(%s, 'cal-a', current_date + 30, '13:00', '14:00')", [org])
        event = stream.events.get(timeout=10)
        assert event.get("event") == "signed_out", event
    finally:
        stream.close()
    # The owner's own stream still gets the change (the event above was really sent).
    watcher = SSEReader(owner)
    try:
        watcher.next("hello")
        db.execute("SELECT api.block_local_time(%s, 'cal-a', current_date + 31, '13:00', '14:00')", [org])
        watcher.next("schedule")
    finally:
        watcher.close()


# -- a staff member whose name and email are as long as the account allows -------------------------------------


def test_staff_with_a_long_name_and_email_can_work_the_queues(live_server, db, staff_client):
    """An account may have a 100-character name and a 254-character email, but "name <email>" went whole into
    done_by (at most 200 characters): every callback or SMS reply that person handled was refused (VB400). The
    dashboard sends the name whole; the database caps it where it stores it (internal.audit_name), once for every
    caller. (An email of more than 196 characters is cut to 200 itself: no room for a name.)"""
    org, clinic_phone = new_clinic(db, "Long Name Dental")
    email = f"{uuid.uuid4().hex}{'x' * 200}"[:165] + "@clinic.example"   # 180: with the name, 283 in all
    desk = staff_client(org, role="front_desk", name="N" * 100, email=email)

    callback = db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed')"
                          " AS r", [org, f"long-{uuid.uuid4()}", unique_phone()]).fetchone()["r"]["callback_request"]
    resp = desk.act(f"/dashboard/callbacks/{callback['id']}/resolve", {"note": "called back"})
    assert resp.status_code == 303, resp.text[-600:]

    db.execute("SELECT api.record_inbound_sms(%s, %s, 'is parking free?', %s)",
               [clinic_phone, unique_phone(), "SM" + uuid.uuid4().hex])
    inbox_id = db.execute("SELECT id FROM voxbook.sms_inbox WHERE org_id = %s", [org]).fetchone()["id"]
    resp = desk.act(f"/dashboard/inbox/{inbox_id}/resolve")
    assert resp.status_code == 303, resp.text[-600:]

    done_by = db.execute("SELECT r.done_by AS a, i.done_by AS b FROM voxbook.callback_requests AS r,"
                         " voxbook.sms_inbox AS i WHERE r.org_id = %s AND i.org_id = %s", [org, org]).fetchone()
    # Who it was stays unambiguous: the email (unique in the clinic) whole, the name shortened to fit -- by the
    # database, which got all 283 characters (the dashboard no longer cuts them itself).
    sent = "N" * 100 + f" <{email}>"
    assert Staff(org_id=uuid.UUID(org), clinic="", time_zone="", locale="", staff_id=uuid.uuid4(), name="N" * 100,
                 role="front_desk", csrf_token="", email=email).audit_name == sent
    assert done_by["a"] == done_by["b"] == "N" * 17 + f" <{email}>", done_by
    assert done_by["a"] == db.execute("SELECT internal.audit_name(%s) AS n", [sent]).fetchone()["n"]


# -- form bodies that are not UTF-8 ------------------------------------------------------------------------------


def test_a_form_that_is_not_utf8_is_refused_and_changes_nothing(live_server, db, staff_client):
    """A lone surrogate or other invalid UTF-8 was stored as U+FFFD, raw bytes as Latin-1 (urlencoded), or was a
    500 (multipart): a clear 400 instead, before any handler runs, and nothing stored."""
    org, _ = new_clinic(db, "Unicode Dental")
    desk = staff_client(org, role="front_desk")
    token = desk.csrf.encode()
    form = b"_csrf=" + token + b"&calendar_id=cal-a&date=2030-06-04&from_time=13:00&to_time=14:00&reason="
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    bad = {
        "a lone surrogate, percent-encoded": (form + b"%ED%A0%80", urlencoded),
        "invalid UTF-8, percent-encoded": (form + b"%FF%FE", urlencoded),
        "raw bytes that are not ASCII": (form + b"caf\xc3\xa9", urlencoded),
        "the token in a header, the body invalid": (form.replace(b"_csrf=" + token, b"x=1") + b"%C3%28",
                                                    {**urlencoded, "X-CSRF-Token": desk.csrf}),
    }
    fields = [(b"_csrf", token), (b"calendar_id", b"cal-a"), (b"date", b"2030-06-04"), (b"reason", b"caf\xff")]
    multipart = b"".join(b'--B0UND\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"
                         for name, value in fields) + b"--B0UND--\r\n"
    bad["multipart with invalid UTF-8"] = (multipart, {"Content-Type": "multipart/form-data; boundary=B0UND"})
    for what, (body, headers) in bad.items():
        resp = desk.post("/dashboard/blocks", content=body, headers=headers)
        assert resp.status_code == 400, (what, resp.status_code, resp.text[:300])
        assert resp.json()["code"] == "22021", what
    assert blocks(db, org) == []
    # The same form, properly encoded, is taken (the refusals above were about the encoding only).
    good = desk.post("/dashboard/blocks", content=form + b"caf%C3%A9", headers=urlencoded)
    assert good.status_code == 303, good.text[:300]
    assert [b["reason"] for b in blocks(db, org)] == ["café"]


# -- CSRF: the pre-session token is for the sign-in forms only -------------------------------------------------


def test_a_pre_session_token_does_not_pass_for_a_signed_in_session(live_server, db, staff_client):
    """Any pre-session cookie's token passed for a signed-in session too: a cookie planted in the browser (from a
    sibling subdomain, or over plain HTTP) gave the attacker a token for every state change of the person's
    session. With a session cookie, only that session's token passes."""
    org, _ = new_clinic(db, "Presession Dental")
    desk = staff_client(org, role="front_desk")
    planted = httpx.Client(base_url=live_server.base_url, timeout=10)
    page = planted.get("/dashboard")
    known_token, known_cookie = csrf_of(page), planted.cookies["voxbook_presession"]
    desk.cookies.set("voxbook_presession", known_cookie, path="/dashboard")
    resp = desk.post("/dashboard/blocks", data={"_csrf": known_token, "calendar_id": "cal-a", "date": "2030-06-05"})
    assert resp.status_code == 403, resp.text[:300]
    assert resp.json()["code"] == "PGRST303"
    assert blocks(db, org) == []
    # The session's own token still passes, with the planted cookie there.
    ok = desk.act("/dashboard/blocks", {"calendar_id": "cal-a", "date": "2030-06-05"})
    assert ok.status_code == 303, ok.text[:300]
    # Signed out, the pre-session token is what the sign-in form carries: it passes there.
    who = desk.staff
    fresh = httpx.Client(base_url=live_server.base_url, timeout=10, headers={"Origin": live_server.base_url})
    form = fresh.get("/dashboard")
    signed = fresh.post("/dashboard/login", data={"email": who.email, "password": who.password, "_csrf": csrf_of(form)})
    assert signed.status_code == 303, signed.text[:300]


# -- the sign-in limit holds for a burst of guesses ----------------------------------------------------------------


def test_a_burst_of_guesses_learns_nothing_past_the_limit_from_the_clinic_chooser(live_server, db):
    """The limit is read before the (slow) password check and counted after it, so guesses sent at once all pass
    the first step. A wrong one is counted and a right one met by the second step's check; but a password right
    in two clinics went straight to the "choose a clinic" page, past any limit: a burst of guesses found it."""
    from dashboard_helpers import create_staff

    base = live_server.base_url
    email, password = f"locum-{uuid.uuid4().hex[:8]}@clinic.example", "locum-" + uuid.uuid4().hex
    for name in ("Burst Dental A", "Burst Dental B"):
        create_staff(db, new_clinic(db, name)[0], "front_desk", email=email, password=password)
    browser = httpx.Client(base_url=base, timeout=60, headers={"Origin": base})
    token = csrf_of(browser.get("/dashboard"))

    def attempt(guess: str) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60, headers={"Origin": base}, cookies=browser.cookies) as c:
            return c.post("/dashboard/login", data={"email": email, "password": guess, "_csrf": token})

    import concurrent.futures
    import time
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        wrong = [pool.submit(attempt, f"wrong-{i}") for i in range(15)]
        time.sleep(0.2)   # the right guess last: it passes the first step, then waits behind the wrong ones
        right = pool.submit(attempt, password)
        codes = [f.result().status_code for f in wrong]
        last = right.result()
    failures = db.execute("SELECT count(*) AS n FROM voxbook.sign_in_attempts WHERE NOT succeeded"
                          " AND email_hash = sha256(convert_to(%s, 'UTF8'))", [email]).fetchone()["n"]
    assert failures >= 5 and codes.count(401) == failures, (codes, failures)
    assert last.status_code == 429, (last.status_code, "choose one" in last.text)
    assert "Burst Dental" not in last.text
