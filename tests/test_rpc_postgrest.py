"""/rpc speaks PostgREST: its error body {code, message, details, hint} everywhere, PostgreSQL's SQLSTATE passed
through, PGRST202 for an unknown function or argument, GET for STABLE/IMMUTABLE functions -- checked with the
`postgrest` client library itself, and with plain HTTP for every error shape."""

from __future__ import annotations

import pytest
from postgrest import APIError, SyncPostgrestClient

from clinic_helpers import new_clinic
from vapi_helpers import ADMIN, AUTH, MAX_BODY, day

ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
POSTGREST_KEYS = {"code", "message", "details", "hint"}


def _problem(r, status: int, code: str) -> dict:
    """The response is PostgREST's error body with this status and code (and a message that says something)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert set(body) == POSTGREST_KEYS, body
    assert body["code"] == code, body
    assert body["message"], body
    return body


@pytest.fixture
def postgrest(client):
    # The library's own client, over our app (the TestClient is an httpx.Client): what a PostgREST user runs.
    pg = SyncPostgrestClient(str(client.base_url), headers={"Authorization": f"Bearer {ADMIN}"}, http_client=client)
    yield pg


def test_the_postgrest_client_calls_a_function_and_parses_our_errors(postgrest, db):
    org, phone = new_clinic(db)
    assert postgrest.rpc("find_organization", {"phone": phone}).execute().data["org_id"] == org
    # GET, as the library sends it for a read-only call: STABLE functions answer it.
    assert postgrest.rpc("get_organization", {"org_id": org}, get=True).execute().data["org_id"] == org

    with pytest.raises(APIError) as err:
        postgrest.rpc("find_organization", {"phone": "+15550009999"}).execute()
    assert (err.value.code, err.value.message) == ("VB404", "no clinic answers on this number")
    assert "E.164" in err.value.hint

    with pytest.raises(APIError) as err:     # PostgreSQL's own SQLSTATE, not VB400
        postgrest.rpc("get_organization", {"org_id": "not-a-uuid"}).execute()
    assert err.value.code == "22P02" and "uuid" in err.value.message

    with pytest.raises(APIError) as err:
        postgrest.rpc("find_organisation", {"phone": phone}).execute()
    assert err.value.code == "PGRST202" and "api.find_organization" in err.value.hint
    assert "find_organisation" in err.value.message

    with pytest.raises(APIError) as err:
        postgrest.rpc("get_organization", {"org_id": org, "colour": "red"}).execute()
    assert err.value.code == "PGRST202" and err.value.hint == "Perhaps you meant to call the function api.get_organization(org_id)"
    assert err.value.details    # names what was given


def test_sqlstates_pass_through_with_postgrests_statuses(client, db):
    org, _ = new_clinic(db)
    cases = [
        ({"org_id": "not-a-uuid"}, 400, "22P02"),
        ({"org_id": "00000000-0000-0000-0000-000000000000"}, 404, "VB404"),
        ({"org_id": "\u0000"}, 400, "22021"),   # refused before PostgreSQL: its code for a NUL in text
    ]
    for args, status, code in cases:
        _problem(client.post("/rpc/get_organization", json=args, headers=ADMIN_AUTH), status, code)
    body = _problem(client.post("/rpc/check_availability", json={"org_id": org, "date": "2026-02-30"},
                                headers=ADMIN_AUTH), 400, "22008")
    assert "date" in body["message"]


def test_unknown_functions_and_arguments_are_pgrst202(client, db):
    org, _ = new_clinic(db)
    for name, args in [("nope", {}), ("fail", {}), ("Get_Organization", {}), ("x" * 70, {}),
                       ("get_organization", {}),                             # a required argument missing
                       ("get_organization", {"org_id": org, "bogus": 1}),    # an argument it does not have
                       ("check_availability", {"org_id": org})]:              # `date` has no default
        _problem(client.post(f"/rpc/{name}", json=args, headers=ADMIN_AUTH), 404, "PGRST202")
    # optional arguments may be left out
    r = client.post("/rpc/check_availability", json={"org_id": org, "date": day(), "max_slots": 1}, headers=ADMIN_AUTH)
    assert r.status_code == 200 and len(r.json()["slots"]) == 1


def test_functions_for_the_servers_own_processes_are_not_over_http(client, db):
    """Even the admin token gets no password hashes (dashboard_login_accounts), no session without a password
    (dashboard_login) and no stored credential's ciphertext: as if they did not exist, and never suggested."""
    org, _ = new_clinic(db)
    calls = [("dashboard_login_accounts", {"email": "owner@example.com", "client_address": "127.0.0.1"}),
             ("dashboard_login", {"email": "owner@example.com", "client_address": "127.0.0.1"}),
             ("accept_staff_invite", {"token": "x", "password_hash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"}),
             ("get_carrier_account", {"org_id": org}),
             ("get_calendar_connection", {"org_id": org, "calendar_id": "cal-a"}),
             ("dashboard_hub_changes", {"org_ids": [org]})]
    for name, args in calls:
        body = _problem(client.post(f"/rpc/{name}", json=args, headers=ADMIN_AUTH), 404, "PGRST202")
        assert f"api.{name}(" not in (body["hint"] or ""), body   # no parameters shown: it does not exist here
        _problem(client.get(f"/rpc/{name}", params=args, headers=ADMIN_AUTH), 404, "PGRST202")
    # The rule lives in the database (db/functions/99_grants.sql): the server's processes may execute them,
    # /rpc's role may not -- and these are all it is refused.
    withheld = {r["name"] for r in db.execute(
        "SELECT p.proname::text AS name FROM pg_proc AS p WHERE p.pronamespace = 'api'::regnamespace"
        "   AND has_function_privilege('voxbook_api', p.oid, 'EXECUTE')"
        "   AND NOT has_function_privilege('voxbook_rpc', p.oid, 'EXECUTE')").fetchall()}
    assert withheld == {"dashboard_login_accounts", "dashboard_login", "accept_staff_invite",
                        "get_calendar_connection", "get_carrier_account", "find_inbound_carrier_accounts",
                        "list_carrier_accounts", "claim_calendar_syncs", "claim_calendar_sync",
                        "dashboard_hub_changes"}, withheld
    # every function whose COMMENT speaks of a ciphertext or a password hash is withheld from /rpc's role, but
    # those that only take one in (the admin stores what it encrypted itself); called with all their required
    # arguments, so that only "no such function here" can answer PGRST202
    takes_only = {"set_carrier_account", "connect_calendar"}
    dummy = {"uuid": "00000000-0000-0000-0000-000000000000", "integer": 1, "boolean": False, "jsonb": {}}
    rows = db.execute(
        "SELECT p.proname::text AS name, (p.proargnames)[1:p.pronargs - p.pronargdefaults] AS required,"
        "       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) AS t) AS types,"
        "       has_function_privilege('voxbook_rpc', p.oid, 'EXECUTE') AS rpc"
        "  FROM pg_proc AS p WHERE p.pronamespace = 'api'::regnamespace"
        "   AND obj_description(p.oid, 'pg_proc') ~* '(ciphertext|password_hash|argon2)'").fetchall()
    assert {"get_calendar_connection", "claim_calendar_syncs", "dashboard_login_accounts"} <= {r["name"] for r in rows}
    for r in rows:
        if r["name"] in takes_only:
            continue
        assert not r["rpc"], f"api.{r['name']} hands out a secret: keep it from voxbook_rpc in 99_grants.sql"
        args = {n: dummy.get(t, "x") for n, t in zip(r["required"] or [], r["types"])}
        _problem(client.post(f"/rpc/{r['name']}", json=args, headers=ADMIN_AUTH), 404, "PGRST202")
    body = _problem(client.post("/rpc/dashboard_login_account", json={}, headers=ADMIN_AUTH), 404, "PGRST202")
    assert not any(f"api.{n}" in (body["hint"] or "").split(" or ") or f"function api.{n}" in (body["hint"] or "")
                   for n, _ in calls), body   # a near miss is not pointed at them either
    # what a dashboard may do over /rpc still works
    r = client.post("/rpc/dashboard_hot_leads", json={"org_id": org}, headers=ADMIN_AUTH)
    assert r.status_code == 200, r.text


def test_get_calls_stable_functions_and_refuses_volatile_ones(client, db):
    org, phone = new_clinic(db)
    r = client.get("/rpc/check_availability", params={"org_id": org, "date": day(), "max_slots": "2"},
                   headers=ADMIN_AUTH)
    assert r.status_code == 200 and len(r.json()["slots"]) == 2
    r = client.get("/rpc/find_organization", params={"phone": phone}, headers=ADMIN_AUTH)
    assert r.status_code == 200 and r.json()["org_id"] == org

    before = db.execute("SELECT count(*) AS n FROM voxbook.holds").fetchone()["n"]
    r = client.get("/rpc/expire_stale_holds", headers=ADMIN_AUTH)   # VOLATILE: it changes data
    body = _problem(r, 405, "PGRST101")
    assert "POST" in body["hint"] and r.headers["allow"] == "POST"
    r = client.get("/rpc/claim_slot_atomic", params={"org_id": org, "calendar_id": "cal-a",
                                                    "slot_time": day() + "T15:00:00Z", "call_sid": "get-1",
                                                    "patient_name": "Gil", "patient_phone": "+15553330001"},
                   headers=ADMIN_AUTH)
    _problem(r, 405, "PGRST101")
    assert db.execute("SELECT count(*) AS n FROM voxbook.holds").fetchone()["n"] == before

    _problem(client.get("/rpc/get_organization", params={"org_id": "nope"}, headers=ADMIN_AUTH), 400, "22P02")
    _problem(client.get("/rpc/get_organization", params={"org_id": org, "bogus": "1"}, headers=ADMIN_AUTH),
             404, "PGRST202")
    _problem(client.get(f"/rpc/get_organization?org_id={org}&org_id={org}", headers=ADMIN_AUTH), 400, "PGRST100")
    _problem(client.get("/rpc/get_organization", params={"org_id": org}), 401, "PGRST302")


def test_our_own_refusals_have_postgrests_shape(client, db):
    org, _ = new_clinic(db)
    body = _problem(client.post("/rpc/get_organization", json={"org_id": org}), 401, "PGRST302")
    assert "Bearer" in body["hint"]
    _problem(client.post("/rpc/get_organization", json={"org_id": org}, headers={"Authorization": "Bearer nope"}),
             401, "PGRST301")
    _problem(client.post("/rpc/get_organization", content=b"[1]",
                         headers={**ADMIN_AUTH, "content-type": "application/json"}), 400, "PGRST102")
    _problem(client.post("/rpc/get_organization", content=b"org_id=1",
                         headers={**ADMIN_AUTH, "content-type": "text/plain"}), 415, "PGRST107")
    _problem(client.put("/rpc/get_organization", json={}, headers=ADMIN_AUTH), 405, "PGRST117")
    _problem(client.get("/no/such/path"), 404, "PGRST125")
    # Vapi's endpoints outside a tool call's answer, Litestar's own limits, Twilio's callbacks, the dashboard
    _problem(client.post("/vapi/webhook", json={}), 401, "PGRST301")
    _problem(client.post("/vapi/webhook", content=b"x" * (MAX_BODY + 1),
                         headers={**AUTH, "content-type": "application/json"}), 413, "54000")
    _problem(client.post("/vapi/webhook", json={"message": {"type": "tool-calls", "toolCallList": []}},
                         headers=AUTH), 400, "PGRST102")
    _problem(client.post("/vapi/webhook", json={"message": {"type": "end-of-call-report", "call": {"id": "c"},
                                                            "phoneNumber": {"number": "+15550000002"}}},
                         headers=AUTH), 404, "VB404")
    _problem(client.post("/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "sent"}), 403, "42501")
    _problem(client.get("/dashboard/phone"), 401, "PGRST302")


def test_content_type_names_its_charset_once(client, db):
    org, _ = new_clinic(db)
    for path in ("/dashboard", "/dashboard/assets/dashboard.js", "/dashboard/assets/dashboard.css"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].count("charset") == 1, (path, r.headers["content-type"])
    feed = db.execute("SELECT api.issue_calendar_feed_token(%s, 'cal-a') AS t", [org]).fetchone()["t"]
    r = client.get(feed["path"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"


def test_a_json_array_is_an_array_argument(client, db):
    """PostgREST takes a JSON array for an array parameter (upsert_service's providers text[]): it goes as an
    array literal, every element quoted, so an element cannot close the array or open another."""
    org, _ = new_clinic(db)
    r = client.post("/rpc/upsert_service", json={"org_id": org, "service_id": "rpc-array", "name": "Array",
                                                 "duration_minutes": 30, "providers": ["cal-b"]}, headers=ADMIN_AUTH)
    assert r.status_code == 200, r.text
    providers = db.execute("SELECT array_agg(calendar_id) AS p FROM voxbook.service_providers "
                           "WHERE org_id = %s AND service_id = 'rpc-array'", [org]).fetchone()["p"]
    assert providers == ["cal-b"]
    # an element carrying array syntax is one (unknown) calendar, not two known ones: refused, nothing changed
    r = client.post("/rpc/upsert_service", json={"org_id": org, "service_id": "rpc-array",
                                                 "providers": ['cal-a","cal-b']}, headers=ADMIN_AUTH)
    assert r.status_code == 400 and r.json()["message"] == 'unknown provider cal-a","cal-b', r.text
    providers = db.execute("SELECT array_agg(calendar_id) AS p FROM voxbook.service_providers "
                           "WHERE org_id = %s AND service_id = 'rpc-array'", [org]).fetchone()["p"]
    assert providers == ["cal-b"]
