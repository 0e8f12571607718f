"""The clinic dashboard (``/dashboard``) and provider calendar feeds (``GET /calendars/{id}.ics``).

Sign-in: each person has a staff account of one clinic (db/functions/71_staff_accounts.sql), invited by an
owner (``/dashboard/staff``, or ``voxbook staff invite`` for a clinic's first owner), with a password hashed
with argon2id in api/dashboard_auth.py. A session secret goes in an HttpOnly, SameSite=Strict cookie; every
request resolves it with ``api.dashboard_session`` to exactly one clinic and person, and every call after it
passes that clinic's id: no parameter through which a browser could name another clinic. The clinic dashboard
token (``voxbook dashboard-token``) no longer signs in: actions are audited in a person's name.

The rules every handler here and in api/dashboard_desk.py follows (the ``staff`` dependency, guards, CSRF and
Origin on every state change, templates) are in api/dashboard_auth.py's docstring. Pages are Jinja templates
under api/templates/dashboard/. Tokens, passwords, session secrets, phone numbers and bodies are never logged;
uvicorn's access log gets the ``token=`` of feed and invite URLs redacted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from uuid import UUID

from litestar import Litestar, Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage

from voxbook.api.dashboard_auth import (
    COOKIE,
    COOKIE_PATH,
    PASSWORD_MIN,
    PRESESSION_COOKIE,
    SESSION_HOURS,
    CsrfMiddleware,
    CurrentStaff,
    NotAllowed,
    current_staff,
    SignedOut,
    Staff,
    hash_password_async,
    not_allowed_handler,
    owner_only,
    page,
    password_problem,
    provide_staff,
    session_cookie,
    signed_in,
    signed_out_handler,
    verify_password_async,
)
from voxbook.api.dashboard_desk import desk_handlers
from voxbook.api.dashboard_events import Event, HotLeadHub, Subscriber
from voxbook.api.errors import http_status
from voxbook.api.ics import render_feed
from voxbook.db import ApiError, call

log = logging.getLogger("voxbook.api.dashboard")

KEEPALIVE_SECONDS = 15.0       # comment lines keep proxies from closing an idle stream
STREAM_SECONDS = 300.0         # a stream ends after this; the browser reconnects at once (bounds shutdown)
RETRY_MS = 1000
CALENDAR_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
FIELD_MAX = 1100   # longer form values are refused before they reach argon2 or the database

_ASSETS = {
    # Litestar adds "; charset=utf-8" to every text/* type itself: naming it here sent it twice.
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
    "desk.js": "text/javascript",     # the front desk's (api/dashboard_desk.py)
    "desk.css": "text/css",
    "reveal.js": "text/javascript",   # a masked number shown on request, on every page (base.html)
}


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("dashboard_assets", name).read_text("utf-8")


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:FIELD_MAX] if isinstance(value, str) else ""


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _too_many(result: dict[str, Any]) -> str:
    minutes = max(1, -(-int(result.get("retry_after_seconds") or 60) // 60))
    return f"Too many sign-in attempts: wait {minutes} minute{'s' if minutes != 1 else ''} and try again."


# -- sign-in, invites, sign-out --------------------------------------------------------------------


@get("/", include_in_schema=False)
async def dashboard(request: Request, state: State) -> Response:
    staff = await current_staff(request)
    if staff is None:
        return await page(request, "dashboard/login.html")
    org = staff.org_id
    async with state.pool.connection() as conn:
        leads = await call(conn, "dashboard_hot_leads", org_id=org)
        schedule = await call(conn, "dashboard_schedule", org_id=org)
        holds = await call(conn, "dashboard_live_holds", org_id=org)
    return await page(request, "dashboard/home.html", {"leads": leads, "schedule": schedule, "holds": holds})


@post("/login", include_in_schema=False, status_code=303)
async def login(request: Request, state: State) -> Response:
    """Email and password; when the password matches accounts of one email in several clinics, the page asks
    which clinic (org_id) and the next attempt is limited to it."""
    form = await request.form()
    email, password = _field(form, "email"), _field(form, "password")
    org_id = _field(form, "org_id") or None
    try:
        org = UUID(org_id) if org_id else None
    except ValueError:
        org = None
    address = _client_address(request)
    # No pooled connection is held while argon2 works: a burst of sign-ins must not starve the booking path.
    in_clinic = {"org_id": org} if org else {}   # org_id=None is refused by call(): left out instead
    async with state.pool.connection() as conn:
        found = await call(conn, "dashboard_login_accounts", email=email, client_address=address, **in_clinic)
    if not found.get("success"):
        return await _too_many_page(request, found, email)
    accounts = found["accounts"] or [{"password_hash": None}]
    # Every account checked (not only until the first match): the time taken says nothing about which.
    checks = [(a, await verify_password_async(a.get("password_hash"), password)) for a in accounts]
    matched = [(a, rehash) for a, (ok, rehash) in checks if ok]
    if len(matched) > 1:
        # The limit looked at again, as api.dashboard_login does before a session: guesses sent at once all
        # passed the first look, and this page would tell the right one past the limit.
        async with state.pool.connection() as conn:
            again = await call(conn, "dashboard_login_accounts", email=email, client_address=address)
        if not again.get("success"):
            return await _too_many_page(request, again, email)
        return await page(request, "dashboard/login.html", {
            "email": email, "clinics": [{"org_id": a["org_id"], "clinic": a["clinic"]} for a, _ in matched],
            "error": "Your email has an account in more than one clinic: choose one."})
    outcome = ({"org_id": matched[0][0]["org_id"], "staff_id": matched[0][0]["staff_id"],
                "password_rehash": matched[0][1]} if matched else {})
    async with state.pool.connection() as conn:
        result = await call(conn, "dashboard_login", email=email, client_address=address,
                            session_hours=SESSION_HOURS, **outcome)
    if not result.get("success"):
        if result.get("code") == "too_many_attempts":
            return await _too_many_page(request, result, email)
        log.info("dashboard sign-in refused")
        return await page(request, "dashboard/login.html", {"error": "Wrong email or password.", "email": email},
                          status_code=401)
    log.info("dashboard sign-in for clinic %s", result["org_id"])
    return _signed_in(request, result["session"])


async def _too_many_page(request: Request, refusal: dict[str, Any], email: str) -> Response:
    log.info("dashboard sign-in refused: too many attempts")
    return await page(request, "dashboard/login.html", {"error": _too_many(refusal), "email": email}, status_code=429)


def _signed_in(request: Request, secret: str) -> Response:
    response = Redirect("/dashboard", status_code=303, cookies=[session_cookie(request, secret)],
                        headers={"Cache-Control": "no-store"})
    response.delete_cookie(PRESESSION_COOKIE, path=COOKIE_PATH)
    return response


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: Request, state: State) -> Response:
    secret = request.cookies.get(COOKIE)
    if secret:
        async with state.pool.connection() as conn:
            await call(conn, "dashboard_logout", session=secret)
    response = Redirect("/dashboard", status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@get("/invite", include_in_schema=False)
async def invite_page(request: Request, state: State, token: FromQuery[str | None] = None) -> Response:
    async with state.pool.connection() as conn:
        invite = await call(conn, "staff_invite", token=(token or "")[:FIELD_MAX])
    if not invite.get("success"):
        return await page(request, "dashboard/invite.html", {"error": invite["error"] + "."}, status_code=404)
    return await page(request, "dashboard/invite.html", {"invite": invite, "token": token,
                                                          "password_min": PASSWORD_MIN})


@post("/invite", include_in_schema=False, status_code=303)
async def accept_invite(request: Request, state: State) -> Response:
    form = await request.form()
    token, password = _field(form, "token"), _field(form, "password")
    async with state.pool.connection() as conn:
        invite = await call(conn, "staff_invite", token=token)
    if not invite.get("success"):
        return await page(request, "dashboard/invite.html", {"error": invite["error"] + "."}, status_code=404)
    problem = password_problem(password, _field(form, "password2"))
    if problem:
        return await page(request, "dashboard/invite.html", {"invite": invite, "token": token, "error": problem,
                                                              "password_min": PASSWORD_MIN}, status_code=400)
    password_hash = await hash_password_async(password)   # no pooled connection held meanwhile
    async with state.pool.connection() as conn:
        result = await call(conn, "accept_staff_invite", token=token, password_hash=password_hash,
                            session_hours=SESSION_HOURS)
    if not result.get("success"):   # used or expired in between
        return await page(request, "dashboard/invite.html", {"error": result["error"] + "."}, status_code=404)
    log.info("staff invite accepted for clinic %s", result["org_id"])
    return _signed_in(request, result["session"])


# -- staff accounts (owners) -----------------------------------------------------------------------


async def _staff_page(request: Request, staff: Staff, *, invited: dict[str, Any] | None = None,
                      error: str | None = None, status_code: int = 200) -> Response:
    async with request.app.state.pool.connection() as conn:
        accounts = await call(conn, "list_staff", org_id=staff.org_id)
    return await page(request, "dashboard/staff.html", {"accounts": accounts["staff"], "invited": invited,
                                                         "error": error}, status_code=status_code)


def _public_base(request: Request) -> str:
    base = request.app.state.settings.public_base_url
    return base or f"{request.url.scheme}://{request.headers.get('host', '')}"


@get("/staff", include_in_schema=False, guards=[owner_only])
async def staff_accounts(request: Request, staff: CurrentStaff) -> Response:
    return await _staff_page(request, staff)


@post("/staff/invite", include_in_schema=False, guards=[owner_only], status_code=200)
async def invite_staff(request: Request, state: State, staff: CurrentStaff) -> Response:
    form = await request.form()
    try:
        async with state.pool.connection() as conn:
            result = await call(conn, "invite_staff", org_id=staff.org_id, email=_field(form, "email"),
                                name=_field(form, "name"), role=_field(form, "role"), changed_by=staff.audit_name)
    except ApiError as exc:
        if http_status(exc) == 404:
            raise
        return await _staff_page(request, staff, error=exc.message, status_code=http_status(exc))
    invited = {"name": result["name"], "email": result["email"], "expires_local": result["expires_local"],
               "link": _public_base(request) + result["path"]}
    return await _staff_page(request, staff, invited=invited)


async def _staff_change(request: Request, staff: Staff, function: str, **args: Any) -> Response:
    try:
        async with request.app.state.pool.connection() as conn:
            await call(conn, function, org_id=staff.org_id, changed_by=staff.audit_name, **args)
    except ApiError as exc:
        if http_status(exc) != 409:   # 404 for another clinic's account: as any unknown id
            raise
        return await _staff_page(request, staff, error=exc.message, status_code=409)
    return Redirect("/dashboard/staff", status_code=303, headers={"Cache-Control": "no-store"})


@post("/staff/{staff_id:uuid}/role", include_in_schema=False, guards=[owner_only], status_code=303)
async def set_staff_role(request: Request, staff: CurrentStaff, staff_id: FromPath[UUID]) -> Response:
    form = await request.form()
    return await _staff_change(request, staff, "set_staff_role", staff_id=staff_id, role=_field(form, "role"))


@post("/staff/{staff_id:uuid}/deactivate", include_in_schema=False, guards=[owner_only], status_code=303)
async def deactivate_staff(request: Request, staff: CurrentStaff, staff_id: FromPath[UUID]) -> Response:
    return await _staff_change(request, staff, "deactivate_staff", staff_id=staff_id)


# -- fragments of the leads page -------------------------------------------------------------------


@get("/fragments/{name:str}", include_in_schema=False, guards=[signed_in])
async def fragment(name: FromPath[str], request: Request, state: State, staff: CurrentStaff) -> Response:
    if name not in ("leads", "schedule", "holds"):
        raise NotFoundException()
    org = staff.org_id
    async with state.pool.connection() as conn:
        if name == "leads":
            return await page(request, "dashboard/_leads.html", {"leads": await call(conn, "dashboard_hot_leads", org_id=org)})
        if name == "schedule":
            return await page(request, "dashboard/_schedule.html",
                              {"schedule": await call(conn, "dashboard_schedule", org_id=org)})
        return await page(request, "dashboard/_holds.html", {"holds": await call(conn, "dashboard_live_holds", org_id=org)})


@get("/lead", include_in_schema=False, guards=[signed_in])
async def lead(request: Request, state: State, staff: CurrentStaff, call_id: FromQuery[str]) -> Response:
    async with state.pool.connection() as conn:
        detail = await call(conn, "dashboard_lead", org_id=staff.org_id, call_id=call_id)
    return await page(request, "dashboard/_lead_detail.html", {"lead": detail})


@get("/phone", include_in_schema=False, guards=[signed_in])
async def phone(state: State, staff: CurrentStaff, call_id: FromQuery[str | None] = None,
                appointment_id: FromQuery[UUID | None] = None, hold_id: FromQuery[UUID | None] = None) -> Response:
    async with state.pool.connection() as conn:
        result = await call(conn, "dashboard_reveal_phone", org_id=staff.org_id, call_id=call_id,
                            appointment_id=appointment_id, hold_id=hold_id)
    return Response({"phone": result["phone"], "display": result["display"]}, headers={"Cache-Control": "no-store"})


@get("/assets/{name:str}", include_in_schema=False)
async def asset(name: FromPath[str]) -> Response:
    if name not in _ASSETS:
        raise NotFoundException()
    try:
        body = _asset(name)
    except FileNotFoundError:
        raise NotFoundException() from None
    return Response(body, media_type=_ASSETS[name], headers={"Cache-Control": "no-cache",
                                                             "X-Content-Type-Options": "nosniff"})


# -- the live stream -------------------------------------------------------------------------------


async def _still_signed_in(state: State, secret: str, staff: Staff) -> bool:
    async with state.pool.connection() as conn:
        session = await call(conn, "dashboard_session", session=secret)
    return bool(session.get("success")) and str(session["org_id"]) == str(staff.org_id)


async def _events(state: State, hub: HotLeadHub, sub: Subscriber, secret: str,
                  staff: Staff) -> AsyncIterator[ServerSentEventMessage]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    try:
        yield ServerSentEventMessage(event="hello", data=json.dumps({"clinic": staff.clinic}), retry=RETRY_MS)
        while loop.time() < deadline:
            try:
                event: Event | None = await asyncio.wait_for(sub.queue.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                event = None
            # The session before every event and keep-alive, not only when the clinic is quiet: a busy clinic's
            # events (hot leads with callers' names) never reach a signed-out or deactivated person's stream.
            if not await _still_signed_in(state, secret, staff):
                yield ServerSentEventMessage(event="signed_out", data="{}")
                return
            if event is None:
                yield ServerSentEventMessage(comment="keep-alive", data=None)
            else:
                yield ServerSentEventMessage(event=event.kind, data=event.data, id=event.id)
    finally:
        hub.unsubscribe(sub)


@get("/events", include_in_schema=False, guards=[signed_in])
async def events(request: Request, state: State, staff: CurrentStaff) -> Response:
    hub: HotLeadHub = state.dashboard_hub
    sub = hub.subscribe(staff.org_id)
    return ServerSentEvent(_events(state, hub, sub, request.cookies[COOKIE], staff),
                           headers={"Cache-Control": "no-store"})


# Every handler under /dashboard, the front desk's included: CSRF and Origin checked on each state change
# (CsrfMiddleware), the ``staff`` dependency, SignedOut answered as a redirect or a 401.
dashboard_router = Router(
    path="/dashboard",
    route_handlers=[dashboard, login, logout, invite_page, accept_invite, staff_accounts, invite_staff,
                    set_staff_role, deactivate_staff, fragment, lead, phone, asset, events, *desk_handlers],
    middleware=[CsrfMiddleware()],
    dependencies={"staff": Provide(provide_staff)},
    exception_handlers={SignedOut: signed_out_handler, NotAllowed: not_allowed_handler},
)


# -- calendar feeds --------------------------------------------------------------------------------


@get("/calendars/{feed:str}", include_in_schema=False)
async def calendar_feed(feed: FromPath[str], state: State, token: FromQuery[str | None] = None) -> Response:
    """``/calendars/cal-smith.ics?token=...``: 404 for anything but a live token of that very calendar."""
    calendar_id = feed.removesuffix(".ics")
    if not feed.endswith(".ics") or not token or not CALENDAR_ID.fullmatch(calendar_id):
        raise NotFoundException("unknown calendar feed")
    async with state.pool.connection() as conn:
        data = await call(conn, "calendar_feed", calendar_id=calendar_id, token=token)
    if not data.get("success"):
        raise NotFoundException("unknown calendar feed")
    return Response(render_feed(data), media_type="text/calendar",
                    headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer",
                             "Content-Disposition": f'inline; filename="{calendar_id}.ics"'})


# -- wiring ----------------------------------------------------------------------------------------


class _RedactTokens(logging.Filter):
    """uvicorn's access log prints the query string: feed URLs carry their token there."""

    _pattern = re.compile(r"((?:^|[?&])token=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._pattern.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = self._pattern.sub(r"\1[redacted]", record.msg)
        return True


def install_log_redaction() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactTokens) for f in access.filters):
        access.addFilter(_RedactTokens())


@asynccontextmanager
async def dashboard_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Runs after the pool's lifespan (api/app.py): the hub reads leads through that pool."""
    install_log_redaction()
    hub = HotLeadHub(app.state.settings.database_url, app.state.pool)
    app.state.dashboard_hub = hub
    try:
        yield
    finally:
        await hub.close()


route_handlers = [dashboard_router, calendar_feed]
