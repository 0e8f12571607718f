"""The dashboard's security over real HTTP (uvicorn on 127.0.0.1): CSRF and Origin on every state change,
roles, tenancy, and the sign-in form's own CSRF protection.

The routes are data (tests/dashboard_routes.py): each test walks the whole table, so every route added there
(the front desk's included) is checked the same way."""

from __future__ import annotations

import httpx
import pytest
from clinic_helpers import new_clinic
from dashboard_helpers import create_staff, csrf_of
from dashboard_routes import ROUTES, Ctx

UNSAFE = [r for r in ROUTES if r.unsafe]
OWNER_ONLY = [r for r in ROUTES if r.owner_only]
WITH_IDS = [r for r in ROUTES if r.takes_id]


def _ctx(db, live_server, name: str) -> Ctx:
    org, phone = new_clinic(db, name)
    return Ctx(db, org, phone, live_server.base_url)


def _send(client: httpx.Client, route, ids: dict[str, str], *, csrf: str | None, headers: dict | None = None):
    data = route.form(ids)
    if csrf is not None:
        data = {**data, "_csrf": csrf}
    if route.unsafe:
        return client.request(route.method, route.url(ids), data=data, headers=headers)
    return client.request(route.method, route.url(ids), headers=headers)


@pytest.mark.parametrize("route", UNSAFE, ids=str)
def test_state_changes_need_the_sessions_csrf_token_and_our_origin(route, live_server, db, staff_client):
    ctx = _ctx(db, live_server, "CSRF Dental")
    owner = staff_client(ctx.org, role="owner")
    other = staff_client(ctx.org, role="owner")   # another session of the same clinic
    ids = route.setup(ctx)
    before = route.state(ctx, ids) if route.state else None

    refusals = {
        "no token": _send(owner, route, ids, csrf=None),
        "a wrong token": _send(owner, route, ids, csrf="x" * 43),
        "another session's token": _send(owner, route, ids, csrf=other.csrf),
        "an empty token": _send(owner, route, ids, csrf=""),
        "another origin": _send(owner, route, ids, csrf=owner.csrf, headers={"Origin": "https://evil.example"}),
        "the origin 'null'": _send(owner, route, ids, csrf=owner.csrf, headers={"Origin": "null"}),
        "our host on another port": _send(owner, route, ids, csrf=owner.csrf,
                                          headers={"Origin": live_server.base_url.rsplit(":", 1)[0] + ":1"}),
    }
    # Neither Origin nor Referer: refused too (a browser always sends Origin on a POST).
    bare = httpx.Client(base_url=live_server.base_url, cookies=owner.cookies, timeout=10)
    refusals["no Origin nor Referer"] = _send(bare, route, ids, csrf=owner.csrf)
    refusals["a Referer of another site"] = _send(bare, route, ids, csrf=owner.csrf,
                                                  headers={"Referer": "https://evil.example/dashboard"})
    for what, resp in refusals.items():
        assert resp.status_code == 403, (what, resp.status_code, resp.text[:300])
        assert resp.json()["code"] == "PGRST303", what
    if route.state:
        assert route.state(ctx, ids) == before, "a refused request changed something"
    assert owner.get("/dashboard").status_code == 200 and owner.staff.name in owner.get("/dashboard").text

    # The same request with the token and our Origin (or, lacking Origin, our own Referer) goes through.
    ok = _send(bare, route, ids, csrf=owner.csrf, headers={"Referer": live_server.base_url + "/dashboard/staff"})
    assert ok.status_code in (200, 303), ok.text[:300]
    if route.state:
        assert route.state(ctx, ids) != before, "the accepted request changed nothing: the test proves nothing"


@pytest.mark.parametrize("route", UNSAFE, ids=str)
def test_the_csrf_token_may_come_as_a_header(route, live_server, db, staff_client):
    ctx = _ctx(db, live_server, "Header Dental")
    owner = staff_client(ctx.org, role="owner")
    ids = route.setup(ctx)
    resp = owner.request(route.method, route.url(ids), data=route.form(ids), headers={"X-CSRF-Token": owner.csrf})
    assert resp.status_code in (200, 303), resp.text[:300]
    wrong = owner.request(route.method, route.url(ids), data=route.form(ids), headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403


@pytest.mark.parametrize("route", OWNER_ONLY, ids=str)
def test_front_desk_gets_403_on_every_owner_page_and_action(route, live_server, db, staff_client):
    ctx = _ctx(db, live_server, "Roles Dental")
    desk = staff_client(ctx.org, role="front_desk")
    ids = route.setup(ctx)
    before = route.state(ctx, ids) if route.state else None
    resp = _send(desk, route, ids, csrf=desk.csrf)
    assert resp.status_code == 403, resp.text[:300]
    if route.state:
        assert route.state(ctx, ids) == before
    # ...while an owner of the clinic may (the table's request is a valid one).
    owner = staff_client(ctx.org, role="owner")
    assert _send(owner, route, ids, csrf=owner.csrf).status_code in (200, 303)


@pytest.mark.parametrize("route", WITH_IDS, ids=str)
def test_another_clinics_staff_get_404_for_its_ids(route, live_server, db, staff_client):
    clinic_a = _ctx(db, live_server, "Tenancy Dental A")
    clinic_b = _ctx(db, live_server, "Tenancy Dental B")
    ids = route.setup(clinic_a)
    before = route.state(clinic_a, ids) if route.state else None
    intruder = staff_client(clinic_b.org, role="owner")   # an owner: no role stands in the way
    resp = _send(intruder, route, ids, csrf=intruder.csrf)
    assert resp.status_code == 404, resp.text[:300]
    if route.state:
        assert route.state(clinic_a, ids) == before
    # The clinic's own staff get it (so the 404 is about the clinic, not a broken request).
    insider = staff_client(clinic_a.org, role="owner")
    assert _send(insider, route, ids, csrf=insider.csrf).status_code in (200, 303)


def test_signed_out_requests_get_401_or_the_sign_in_page(live_server, db):
    ctx = _ctx(db, live_server, "Signed Out Dental")
    anon = httpx.Client(base_url=live_server.base_url, timeout=10, headers={"Origin": live_server.base_url})
    token = csrf_of(anon.get("/dashboard"))   # a pre-session token: passes CSRF, then the guard refuses
    for route in (r for r in ROUTES if "public" not in r.tags):
        ids = route.setup(ctx)
        resp = _send(anon, route, ids, csrf=token)
        assert resp.status_code == 401, (str(route), resp.status_code)
        assert resp.json()["code"] == "PGRST302"
    # A browser navigating to a page is sent to the sign-in page instead.
    nav = anon.get("/dashboard/staff", headers={"Accept": "text/html", "Sec-Fetch-Mode": "navigate"})
    assert nav.status_code == 303 and nav.headers["location"] == "/dashboard"


def test_sign_in_form_has_its_own_csrf_protection(live_server, db):
    org, _ = new_clinic(db, "Login CSRF Dental")
    who = create_staff(db, org, "owner")
    base = live_server.base_url
    browser = httpx.Client(base_url=base, timeout=10, headers={"Origin": base})
    page = browser.get("/dashboard")
    assert "voxbook_presession" in page.headers.get("set-cookie", "")
    assert "httponly" in page.headers["set-cookie"].lower() and "samesite=strict" in page.headers["set-cookie"].lower()
    form = {"email": who.email, "password": who.password}
    # Login CSRF: another site posting its own credentials into this browser, without the page's token.
    assert browser.post("/dashboard/login", data=form).status_code == 403
    assert browser.post("/dashboard/login", data={**form, "_csrf": "x"}).status_code == 403
    stranger = httpx.Client(base_url=base, timeout=10, headers={"Origin": base})
    stranger_token = csrf_of(stranger.get("/dashboard"))
    assert browser.post("/dashboard/login", data={**form, "_csrf": stranger_token}).status_code == 403
    assert browser.post("/dashboard/login", data={**form, "_csrf": csrf_of(page)},
                        headers={"Origin": "https://evil.example"}).status_code == 403
    assert "voxbook_dashboard" not in browser.cookies
    assert db.execute("SELECT count(*) AS n FROM voxbook.dashboard_sessions WHERE org_id = %s", [org]).fetchone()["n"] == 0
    ok = browser.post("/dashboard/login", data={**form, "_csrf": csrf_of(page)})
    assert ok.status_code == 303 and "voxbook_dashboard" in browser.cookies


def test_the_page_carries_the_token_and_strict_headers(live_server, db, staff_client):
    org, _ = new_clinic(db, "Headers Dental")
    owner = staff_client(org, role="owner")
    page = owner.get("/dashboard")
    assert csrf_of(page) == owner.csrf
    assert f'name="_csrf" value="{owner.csrf}"' in page.text   # the sign-out form
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["referrer-policy"] == "same-origin" and page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text   # nothing inline: the CSP would block it
