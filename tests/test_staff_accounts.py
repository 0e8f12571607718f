"""Staff accounts over real HTTP (uvicorn on 127.0.0.1, the app as voxbook_app): invites (one-time,
expiring), passwords (argon2id, rehashed when the parameters change), the sign-in rate limit, deactivation
and role changes taking effect at the next request, the last owner kept, the same email in two clinics,
the CLI for a clinic's first owner, and no password in any log.

Each sign-in test comes from its own client address (X-Forwarded-For, which uvicorn honours from
127.0.0.1 as it would from a proxy), so the per-address limit of one test does not count another's."""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid

import httpx
from argon2 import PasswordHasher
from clinic_helpers import new_clinic
from conftest import run_cli
from dashboard_helpers import create_staff, csrf_of

from voxbook.api.dashboard_auth import verify_password


def _address() -> str:
    return f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


class Browser:
    """A browser from one client address: the sign-in page's token, then the form."""

    def __init__(self, base: str, address: str | None = None) -> None:
        self.address = address or _address()
        self.http = httpx.Client(base_url=base, timeout=10,
                                 headers={"Origin": base, "X-Forwarded-For": self.address})

    def sign_in(self, email: str, password: str, **extra: str) -> httpx.Response:
        token = csrf_of(self.http.get("/dashboard"))
        return self.http.post("/dashboard/login", data={"email": email, "password": password, "_csrf": token, **extra})


def _staff(db, org: str, staff_id: str):
    return db.execute("SELECT s.* FROM voxbook.staff_accounts AS s WHERE s.org_id = %s AND s.id = %s",
                      [org, staff_id]).fetchone()


# -- invites -----------------------------------------------------------------------------------------------------


def test_an_owner_invites_and_the_link_works_once(live_server, db, staff_client):
    org, _ = new_clinic(db, "Invite Dental")
    owner = staff_client(org, role="owner")
    email = f"Nina.{uuid.uuid4().hex[:6]}@Clinic.Example"
    page = owner.act("/dashboard/staff/invite", {"email": email, "name": "Nina <b>Nurse</b>", "role": "front_desk"})
    assert page.status_code == 200, page.text
    assert "Nina &lt;b&gt;Nurse&lt;/b&gt;" in page.text and "<b>Nurse</b>" not in page.text   # escaped
    link = re.search(r'value="(http://[^"]+/dashboard/invite\?token=(vbi_[0-9a-f]{48}))"', page.text)
    assert link, page.text
    url, token = link.group(1), link.group(2)
    assert url.startswith(live_server.base_url)
    row = db.execute("SELECT s.id, s.status, s.email FROM voxbook.staff_accounts AS s WHERE s.org_id = %s AND s.name = %s",
                     [org, "Nina <b>Nurse</b>"]).fetchone()
    assert row["status"] == "invited" and row["email"] == email.lower()
    stored = db.execute("SELECT i.token_hash FROM voxbook.staff_invites AS i WHERE i.org_id = %s AND i.staff_id = %s",
                        [org, row["id"]]).fetchone()["token_hash"]
    assert token.encode() not in bytes(stored)   # the hash only
    audit = db.execute("SELECT a.changed_by, a.action FROM voxbook.audit_log AS a WHERE a.org_id = %s"
                       " AND a.entity = 'staff_account' AND a.entity_id = %s", [org, str(row["id"])]).fetchall()
    assert [(a["action"], a["changed_by"]) for a in audit] == [("invite_staff", f"{owner.staff.name} <{owner.staff.email}>")]

    nina = httpx.Client(base_url=live_server.base_url, timeout=10, headers={"Origin": live_server.base_url})
    form = nina.get("/dashboard/invite", params={"token": token})
    assert form.status_code == 200 and "Invite Dental" in form.text and "front desk" in form.text
    csrf = csrf_of(form)
    short = nina.post("/dashboard/invite", data={"token": token, "password": "short", "password2": "short", "_csrf": csrf})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    differ = nina.post("/dashboard/invite", data={"token": token, "password": "a-long-password-1",
                                                  "password2": "a-long-password-2", "_csrf": csrf})
    assert differ.status_code == 400 and "differ" in differ.text
    assert _staff(db, org, row["id"])["status"] == "invited"
    done = nina.post("/dashboard/invite", data={"token": token, "password": "nina-chose-this", "password2": "nina-chose-this",
                                                "_csrf": csrf})
    assert done.status_code == 303 and "voxbook_dashboard" in nina.cookies   # signed in at once
    home = nina.get("/dashboard")
    assert "Nina &lt;b&gt;Nurse&lt;/b&gt;" in home.text and 'href="/dashboard/staff"' not in home.text   # front desk
    account = _staff(db, org, row["id"])
    assert account["status"] == "active" and account["password_hash"].startswith("$argon2id$")
    assert "nina-chose-this" not in account["password_hash"]

    # Once only: the link, used, is refused (and changes nothing), in another browser too.
    again = httpx.Client(base_url=live_server.base_url, timeout=10, headers={"Origin": live_server.base_url})
    used = again.get("/dashboard/invite", params={"token": token})
    assert used.status_code == 404 and "used already" in used.text
    replay = again.post("/dashboard/invite", data={"token": token, "password": "attacker-password",
                                                   "password2": "attacker-password", "_csrf": csrf_of(used)})
    assert replay.status_code == 404 and "voxbook_dashboard" not in again.cookies
    assert _staff(db, org, row["id"])["password_hash"] == account["password_hash"]
    assert Browser(live_server.base_url).sign_in(email, "nina-chose-this").status_code == 303


def test_an_expired_or_made_up_invite_is_refused(live_server, db):
    org, _ = new_clinic(db, "Expiry Dental")
    invite = db.execute("SELECT api.invite_staff(%s, 'late@clinic.example', 'Lou Late', 'front_desk', 'tests', 1) AS r",
                        [org]).fetchone()["r"]
    db.execute("UPDATE voxbook.staff_invites SET expires_at = now() - interval '1 second' WHERE org_id = %s", [org])
    browser = httpx.Client(base_url=live_server.base_url, timeout=10, headers={"Origin": live_server.base_url})
    page = browser.get("/dashboard/invite", params={"token": invite["token"]})
    assert page.status_code == 404 and "expired" in page.text
    post = browser.post("/dashboard/invite", data={"token": invite["token"], "password": "too-late-password",
                                                   "password2": "too-late-password", "_csrf": csrf_of(page)})
    assert post.status_code == 404 and "voxbook_dashboard" not in browser.cookies
    assert _staff(db, org, invite["staff_id"])["status"] == "invited"
    made_up = browser.get("/dashboard/invite", params={"token": "vbi_" + "0" * 48})
    assert made_up.status_code == 404 and "not valid" in made_up.text


def test_the_cli_invites_a_new_clinics_first_owner(live_server, db, database_url):
    org, phone = new_clinic(db, "First Owner Dental")
    res = run_cli("staff", "invite", "--org", phone, "--email", "olga@first.example", "--name", "Olga Owner",
                  "--role", "owner", "--base-url", live_server.base_url, database_url=database_url)
    assert res.returncode == 0, res.stderr
    url = re.search(r"^(http://\S+/dashboard/invite\?token=vbi_[0-9a-f]{48})$", res.stdout, re.M).group(1)
    browser = httpx.Client(timeout=10, headers={"Origin": live_server.base_url})
    form = browser.get(url)
    assert "First Owner Dental" in form.text and "owner" in form.text
    token = url.split("token=")[1]
    done = browser.post(f"{live_server.base_url}/dashboard/invite",
                        data={"token": token, "password": "olga-password", "password2": "olga-password",
                              "_csrf": csrf_of(form)})
    assert done.status_code == 303
    assert browser.get(f"{live_server.base_url}/dashboard/staff").status_code == 200   # an owner
    listed = run_cli("staff", "list", "--org", org, database_url=database_url)
    assert listed.returncode == 0 and re.search(r"Olga Owner\s+olga@first.example\s+owner\s+active", listed.stdout)
    audit = db.execute("SELECT a.changed_by FROM voxbook.audit_log AS a WHERE a.org_id = %s AND a.action = 'invite_staff'",
                       [org]).fetchone()
    assert audit["changed_by"].endswith("(voxbook staff)")
    bad = run_cli("staff", "invite", "--org", phone, "--email", "not-an-email", "--name", "X", "--role", "owner",
                  database_url=database_url)
    assert bad.returncode != 0 and "email must be an email address" in bad.stderr


# -- sign-in -----------------------------------------------------------------------------------------------------


def test_sign_in_is_rate_limited_per_account(live_server, db):
    org, _ = new_clinic(db, "Limit Dental")
    who = create_staff(db, org, "front_desk")
    browser = Browser(live_server.base_url)
    for i in range(5):
        wrong = browser.sign_in(who.email, f"wrong-password-{i}")
        assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    # The 6th attempt is refused even with the right password, from another address too.
    sixth = Browser(live_server.base_url).sign_in(who.email, who.password)
    assert sixth.status_code == 429 and "Too many sign-in attempts: wait 15 minutes" in sixth.text
    assert db.execute("SELECT count(*) AS n FROM voxbook.dashboard_sessions WHERE org_id = %s", [org]).fetchone()["n"] == 0
    # The email's case or spaces make no other account to guess against.
    assert Browser(live_server.base_url).sign_in(f"  {who.email.upper()} ", who.password).status_code == 429
    # Once the failures age out of the window (15 minutes), the right password signs in.
    db.execute("UPDATE voxbook.sign_in_attempts SET at = at - interval '15 minutes'")
    assert Browser(live_server.base_url).sign_in(who.email, who.password).status_code == 303


def test_unknown_emails_are_limited_alike(live_server, db):
    browser = Browser(live_server.base_url)
    email = f"nobody-{uuid.uuid4().hex[:8]}@clinic.example"
    assert [browser.sign_in(email, "whatever-password").status_code for _ in range(6)] == [401] * 5 + [429]


def test_sign_in_is_rate_limited_per_address_and_a_success_does_not_reset_it(live_server, db):
    org, _ = new_clinic(db, "Address Dental")
    first, second = create_staff(db, org, "front_desk"), create_staff(db, org, "front_desk")
    browser = Browser(live_server.base_url)
    for i in range(29):   # 29 failures, each for another email (no email reaches its own limit)
        assert browser.sign_in(f"guess-{i}-{uuid.uuid4().hex[:6]}@clinic.example", "guess").status_code == 401
    assert browser.sign_in(first.email, first.password).status_code == 303   # a success...
    assert browser.sign_in(second.email, "wrong-once").status_code == 401    # ...then the 30th failure
    refused = browser.sign_in(second.email, second.password)
    assert refused.status_code == 429 and "Too many sign-in attempts" in refused.text
    # Another address is not held back by this one.
    assert Browser(live_server.base_url).sign_in(second.email, second.password).status_code == 303


def test_a_password_hashed_with_old_parameters_is_rehashed_at_sign_in(live_server, db):
    org, _ = new_clinic(db, "Rehash Dental")
    who = create_staff(db, org, "front_desk")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(who.password)
    db.execute("UPDATE voxbook.staff_accounts SET password_hash = %s WHERE org_id = %s AND id = %s",
               [weak, org, who.staff_id])
    assert Browser(live_server.base_url).sign_in(who.email, who.password).status_code == 303
    now = _staff(db, org, who.staff_id)["password_hash"]
    assert now != weak and "m=65536,t=3,p=4" in now and verify_password(now, who.password)[0]


def test_an_unknown_email_is_checked_against_a_dummy_hash(live_server, db):
    assert verify_password(None, "anything") == (False, None)
    assert verify_password("not-a-hash", "anything") == (False, None)


def test_the_same_email_in_two_clinics_signs_in_where_its_password_fits(live_server, db):
    org_a, _ = new_clinic(db, "Two Places A")
    org_b, _ = new_clinic(db, "Two Places B")
    email = f"locum-{uuid.uuid4().hex[:8]}@clinic.example"
    in_a = create_staff(db, org_a, "front_desk", email=email, password="password-for-a")
    create_staff(db, org_b, "owner", email=email, password="password-for-b")
    browser = Browser(live_server.base_url)
    assert browser.sign_in(email, "password-for-b").status_code == 303
    assert "Two Places B" in browser.http.get("/dashboard").text

    # The same password in both: the page asks which clinic; the answer signs in there only.
    db.execute("UPDATE voxbook.staff_accounts SET password_hash = %s WHERE org_id = %s AND email = %s",
               [db.execute("SELECT password_hash FROM voxbook.staff_accounts WHERE org_id = %s AND email = %s",
                           [org_a, email]).fetchone()["password_hash"], org_b, email])
    both = Browser(live_server.base_url)
    ask = both.sign_in(email, "password-for-a")
    assert ask.status_code == 200 and "more than one clinic" in ask.text
    assert "Two Places A" in ask.text and "Two Places B" in ask.text
    assert "voxbook_dashboard" not in both.http.cookies
    chosen = both.sign_in(email, "password-for-a", org_id=org_a)
    assert chosen.status_code == 303
    home = both.http.get("/dashboard")
    assert "Two Places A" in home.text and in_a.name in home.text


# -- accounts change at the next request -----------------------------------------------------------------------


def test_deactivating_an_account_ends_its_sessions(live_server, db, staff_client):
    org, _ = new_clinic(db, "Deactivate Dental")
    owner = staff_client(org, role="owner")
    desk = staff_client(org, role="front_desk")
    assert desk.get("/dashboard/fragments/leads").status_code == 200
    resp = owner.act(f"/dashboard/staff/{desk.staff.staff_id}/deactivate")
    assert resp.status_code == 303
    assert desk.get("/dashboard/fragments/leads").status_code == 401   # at its very next request
    assert desk.get("/dashboard", headers={"Accept": "text/html"}).status_code == 200   # the sign-in page
    assert Browser(live_server.base_url).sign_in(desk.staff.email, desk.staff.password).status_code == 401
    row = _staff(db, org, desk.staff.staff_id)
    assert row["status"] == "deactivated" and row["password_hash"] is None
    assert db.execute("SELECT count(*) AS n FROM voxbook.dashboard_sessions WHERE org_id = %s AND staff_id = %s",
                      [org, desk.staff.staff_id]).fetchone()["n"] == 0
    audit = db.execute("SELECT a.changed_by FROM voxbook.audit_log AS a WHERE a.org_id = %s AND a.action = 'deactivate_staff'",
                       [org]).fetchone()
    assert audit["changed_by"] == f"{owner.staff.name} <{owner.staff.email}>"


def test_a_role_change_applies_at_the_next_request(live_server, db, staff_client):
    org, _ = new_clinic(db, "Role Dental")
    owner = staff_client(org, role="owner")
    desk = staff_client(org, role="front_desk")
    assert desk.get("/dashboard/staff").status_code == 403
    page = desk.get("/dashboard/staff", headers={"Accept": "text/html", "Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 403 and "Not for your role" in page.text and desk.staff.name in page.text
    assert owner.act(f"/dashboard/staff/{desk.staff.staff_id}/role", {"role": "owner"}).status_code == 303
    assert desk.get("/dashboard/staff").status_code == 200   # same session, new role
    assert owner.act(f"/dashboard/staff/{desk.staff.staff_id}/role", {"role": "front_desk"}).status_code == 303
    assert desk.get("/dashboard/staff").status_code == 403
    bad = owner.act(f"/dashboard/staff/{desk.staff.staff_id}/role", {"role": "admin"})
    assert bad.status_code == 400


def test_the_last_owner_cannot_be_removed_or_demoted(live_server, db, staff_client):
    org, _ = new_clinic(db, "Last Owner Dental")
    owner = staff_client(org, role="owner")
    for action, form in (("role", {"role": "front_desk"}), ("deactivate", {})):
        resp = owner.act(f"/dashboard/staff/{owner.staff.staff_id}/{action}", form)
        assert resp.status_code == 409 and "at least one active owner" in resp.text
        assert _staff(db, org, owner.staff.staff_id)["role"] == "owner"
        assert _staff(db, org, owner.staff.staff_id)["status"] == "active"
    second = staff_client(org, role="owner")
    assert owner.act(f"/dashboard/staff/{owner.staff.staff_id}/role", {"role": "front_desk"}).status_code == 303
    assert second.act(f"/dashboard/staff/{second.staff.staff_id}/deactivate").status_code == 409


# -- no password in any log --------------------------------------------------------------------------------------


def test_passwords_reach_no_log(live_server, db, pg_cluster, caplog):
    from test_privacy_logs import LogTail, barrier

    caplog.set_level(logging.DEBUG)
    tail = LogTail(pg_cluster.log_file)
    org, _ = new_clinic(db, "Quiet Dental")
    password = "secret-" + secrets.token_hex(8)
    wrong = "wrong-" + secrets.token_hex(8)
    invite = db.execute("SELECT api.invite_staff(%s, %s, 'Quinn Quiet', 'owner', 'tests') AS r",
                        [org, f"quinn-{uuid.uuid4().hex[:6]}@clinic.example"]).fetchone()["r"]
    browser = httpx.Client(base_url=live_server.base_url, timeout=10,
                           headers={"Origin": live_server.base_url, "X-Forwarded-For": _address()})
    form = browser.get("/dashboard/invite", params={"token": invite["token"]})
    browser.post("/dashboard/invite", data={"token": invite["token"], "password": password, "password2": wrong,
                                            "_csrf": csrf_of(form)})
    browser.post("/dashboard/invite", data={"token": invite["token"], "password": password, "password2": password,
                                            "_csrf": csrf_of(form)})
    stored = db.execute("SELECT password_hash FROM voxbook.staff_accounts WHERE org_id = %s", [org]).fetchone()
    assert stored["password_hash"].startswith("$argon2id$")
    Browser(live_server.base_url).sign_in(invite["email"], wrong)
    Browser(live_server.base_url).sign_in(invite["email"], password)
    Browser(live_server.base_url).sign_in(invite["email"], password, org_id="not-a-uuid")
    barrier(db, tail)
    time.sleep(0.2)
    # The server's side: PostgreSQL's log and every Python logger but this test's own HTTP client's.
    server_log = tail.text() + "\n".join(r.getMessage() for r in caplog.records
                                         if not r.name.startswith(("httpx", "httpcore")))
    assert "dashboard sign-in" in server_log   # the log was captured: the sign-ins are in it, without secrets
    for secret in (password, wrong, stored["password_hash"], invite["token"]):
        assert secret not in server_log


def test_an_invite_accepted_from_several_browsers_at_once_is_used_once(live_server, db):
    import threading

    org, _ = new_clinic(db, "Race Invite Dental")
    invite = db.execute("SELECT api.invite_staff(%s, 'rae@clinic.example', 'Rae Race', 'front_desk', 'tests') AS r",
                        [org]).fetchone()["r"]
    browsers = [httpx.Client(base_url=live_server.base_url, timeout=20, headers={"Origin": live_server.base_url})
                for _ in range(6)]
    forms = [csrf_of(b.get("/dashboard/invite", params={"token": invite["token"]})) for b in browsers]
    start = threading.Barrier(len(browsers))
    codes: list[int] = []

    def accept(i: int) -> None:
        start.wait()
        pw = f"password-of-browser-{i}"
        codes.append(browsers[i].post("/dashboard/invite", data={"token": invite["token"], "password": pw,
                                                                 "password2": pw, "_csrf": forms[i]}).status_code)

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [303] + [404] * (len(browsers) - 1)
    assert db.execute("SELECT count(*) AS n FROM voxbook.dashboard_sessions WHERE org_id = %s", [org]).fetchone()["n"] == 1
