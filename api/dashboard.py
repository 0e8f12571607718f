"""The clinic dashboard (``GET /dashboard``) and provider calendar feeds (``GET /calendars/{id}.ics``).

Login: the owner pastes the clinic's dashboard token (``voxbook dashboard-token``); ``api.dashboard_login``
swaps it for a session whose secret goes in an HttpOnly, SameSite=Strict cookie. Every request resolves
that cookie with ``api.dashboard_session`` to exactly one clinic, and every read after it passes that
clinic's id: there is no parameter through which a browser could name another clinic.

Data comes only from ``api.dashboard_*`` functions; this module renders it (api/dashboard_html.py) and
streams hot leads (api/dashboard_events.py). Tokens, session secrets, phone numbers and bodies are never
logged; uvicorn's access log gets the ``token=`` of feed URLs redacted.
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
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage

from voxbook.api import dashboard_html as html
from voxbook.api.dashboard_events import HotLeadHub, Subscriber
from voxbook.api.errors import HttpError
from voxbook.api.ics import render_feed
from voxbook.db import call

log = logging.getLogger("voxbook.api.dashboard")

COOKIE = "voxbook_dashboard"
SESSION_HOURS = 12
KEEPALIVE_SECONDS = 15.0       # comment lines keep proxies from closing an idle stream
STREAM_SECONDS = 300.0         # a stream ends after this; the browser reconnects at once (bounds shutdown)
RETRY_MS = 1000
CALENDAR_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}
_ASSETS = {
    # Litestar adds "; charset=utf-8" to every text/* type itself: naming it here sent it twice.
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("dashboard_assets", name).read_text("utf-8")


def _page(content: str, status_code: int = 200) -> Response:
    return Response(content, status_code=status_code, media_type="text/html",
                    headers=SECURITY_HEADERS)


def _unauthorized() -> Response:
    return _page('<p>Signed out. <a href="/dashboard">Sign in</a></p>', status_code=401)


def _secure_cookie(request: Request) -> bool:
    base = request.app.state.settings.public_base_url or ""
    return request.url.scheme == "https" or base.startswith("https://")


async def _clinic(request: Request) -> dict[str, Any] | None:
    """The session's clinic ({"org_id", "clinic", ...}) or None when not signed in."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    async with request.app.state.pool.connection() as conn:
        session = await call(conn, "dashboard_session", session=secret)
    return session if session.get("success") else None


# -- pages and fragments ---------------------------------------------------------------------------


@get("/", include_in_schema=False)
async def dashboard(request: Request, state: State) -> Response:
    clinic = await _clinic(request)
    if clinic is None:
        response = _page(html.login_page())
        if COOKIE in request.cookies:
            response.delete_cookie(COOKIE, path="/dashboard")
        return response
    org = clinic["org_id"]
    async with state.pool.connection() as conn:
        leads = await call(conn, "dashboard_hot_leads", org_id=org)
        schedule = await call(conn, "dashboard_schedule", org_id=org)
        holds = await call(conn, "dashboard_live_holds", org_id=org)
    return _page(html.dashboard_page(clinic, leads, schedule, holds))


@post("/login", include_in_schema=False, status_code=303)
async def login(request: Request, state: State) -> Response:
    form = await request.form()
    token = str(form.get("token") or "")
    async with state.pool.connection() as conn:
        result = await call(conn, "dashboard_login", token=token, session_hours=SESSION_HOURS)
    if not result.get("success"):
        log.info("dashboard sign-in refused")
        return _page(html.login_page("That token is not valid (or was revoked)."), status_code=401)
    log.info("dashboard sign-in for clinic %s", result["org_id"])
    cookie = Cookie(key=COOKIE, value=result["session"], path="/dashboard", httponly=True, samesite="strict",
                    secure=_secure_cookie(request), max_age=SESSION_HOURS * 3600)
    return Redirect("/dashboard", status_code=303, cookies=[cookie], headers={"Cache-Control": "no-store"})


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: Request, state: State) -> Response:
    secret = request.cookies.get(COOKIE)
    if secret:
        async with state.pool.connection() as conn:
            await call(conn, "dashboard_logout", session=secret)
    response = Redirect("/dashboard", status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


@get("/fragments/{name:str}", include_in_schema=False)
async def fragment(name: FromPath[str], request: Request, state: State) -> Response:
    if name not in ("leads", "schedule", "holds"):
        raise NotFoundException()
    clinic = await _clinic(request)
    if clinic is None:
        return _unauthorized()
    org = clinic["org_id"]
    async with state.pool.connection() as conn:
        if name == "leads":
            body = html.leads_fragment(await call(conn, "dashboard_hot_leads", org_id=org))
        elif name == "schedule":
            body = html.schedule_fragment(await call(conn, "dashboard_schedule", org_id=org))
        else:
            body = html.holds_fragment(await call(conn, "dashboard_live_holds", org_id=org))
    return _page(body)


@get("/lead", include_in_schema=False)
async def lead(request: Request, state: State, call_id: FromQuery[str]) -> Response:
    clinic = await _clinic(request)
    if clinic is None:
        return _unauthorized()
    async with state.pool.connection() as conn:
        detail = await call(conn, "dashboard_lead", org_id=clinic["org_id"], call_id=call_id)
    return _page(html.lead_detail(detail))


@get("/phone", include_in_schema=False)
async def phone(request: Request, state: State, call_id: FromQuery[str | None] = None,
                appointment_id: FromQuery[UUID | None] = None, hold_id: FromQuery[UUID | None] = None) -> Response:
    clinic = await _clinic(request)
    if clinic is None:
        raise HttpError(401, "signed out", code="PGRST302", hint="Sign in again at /dashboard.",
                        headers={"Cache-Control": "no-store"})
    async with state.pool.connection() as conn:
        result = await call(conn, "dashboard_reveal_phone", org_id=clinic["org_id"], call_id=call_id,
                            appointment_id=appointment_id, hold_id=hold_id)
    return Response({"phone": result["phone"], "display": result["display"]}, headers={"Cache-Control": "no-store"})


@get("/assets/{name:str}", include_in_schema=False)
async def asset(name: FromPath[str]) -> Response:
    if name not in _ASSETS:
        raise NotFoundException()
    return Response(_asset(name), media_type=_ASSETS[name], headers={"Cache-Control": "no-cache",
                                                                     "X-Content-Type-Options": "nosniff"})


# -- the live stream -------------------------------------------------------------------------------


async def _events(state: State, hub: HotLeadHub, sub: Subscriber, secret: str,
                  clinic: dict[str, Any]) -> AsyncIterator[ServerSentEventMessage]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    try:
        yield ServerSentEventMessage(event="hello", data=json.dumps({"clinic": clinic["clinic"]}), retry=RETRY_MS)
        while loop.time() < deadline:
            try:
                event = await asyncio.wait_for(sub.queue.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                # Also when a sign-out or a revoked token is noticed: the stream ends with the session.
                async with state.pool.connection() as conn:
                    session = await call(conn, "dashboard_session", session=secret)
                if not session.get("success") or session["org_id"] != clinic["org_id"]:
                    yield ServerSentEventMessage(event="signed_out", data="{}")
                    return
                yield ServerSentEventMessage(comment="keep-alive", data=None)
                continue
            yield ServerSentEventMessage(event=event.kind, data=event.data, id=event.id)
    finally:
        hub.unsubscribe(sub)


@get("/events", include_in_schema=False)
async def events(request: Request, state: State) -> Response:
    clinic = await _clinic(request)
    if clinic is None:
        return _unauthorized()
    hub: HotLeadHub = state.dashboard_hub
    sub = hub.subscribe(clinic["org_id"])
    return ServerSentEvent(_events(state, hub, sub, request.cookies[COOKIE], clinic),
                           headers={"Cache-Control": "no-store"})


dashboard_router = Router(path="/dashboard", route_handlers=[dashboard, login, logout, fragment, lead, phone,
                                                             asset, events])


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
