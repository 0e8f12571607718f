"""Who is signed in to the dashboard, and what they may do: staff sessions, roles, CSRF/Origin, passwords.

The contract for every dashboard handler (api/dashboard.py, api/dashboard_desk.py)
------------------------------------------------------------------------------------
* Declare ``staff: CurrentStaff`` (``NamedDependency[Staff]``; a plain ``staff: Staff`` works too, with
  Litestar's deprecation warning for an inferred dependency) to get the signed-in person; the dashboard router
  provides it. Tenancy: a handler never takes org_id from the request; it passes ``staff.org_id`` to the
  ``api.*`` function, and an id of another clinic is then VB404 -> 404 (no existence oracle). Audited
  functions get ``changed_by=staff.audit_name`` ("Name <email>").
* Guards: ``guards=[signed_in]`` (any active staff) or ``guards=[owner_only]`` (role owner). Not signed in: a
  browser navigating (GET for text/html) is redirected to /dashboard (the sign-in page); anything else gets 401
  with PostgREST's error body (api/errors.py). Signed in without the role: 403 (:class:`NotAllowed`: a page for
  a browser navigating, PostgREST's body otherwise). A handler that declares ``staff`` is signed-in only even
  without a guard. Role and account status are read at every request: a change applies at the next one.
* CSRF and Origin: enforced for every POST/PUT/PATCH/DELETE under /dashboard by :class:`CsrfMiddleware` on the
  dashboard router, so a new handler has it without doing anything. A request passes when
  - its ``Origin`` header (lacking one: the origin of ``Referer``) is the server's own origin (PUBLIC_BASE_URL's
    when set, else the request's scheme and Host), and
  - it carries the CSRF token, form field ``_csrf`` or header ``X-CSRF-Token``, of the browser's session (or,
    only when it has no session cookie, of its pre-session cookie: the sign-in and invite forms are protected
    too).
  Else 403. The token is HMAC-SHA256 of the session secret (the HttpOnly cookie): bound to the session,
  unguessable without the cookie, compared in constant time. A form body that is not UTF-8: 400 (22021).
* Templates (api/templates/dashboard/): render with :func:`page`; ``staff`` (None on the sign-in pages) and
  ``csrf_token`` are always in the context. Every form writes the token as
  ``<input type="hidden" name="_csrf" value="{{ csrf_token }}">``; scripts read it from
  ``<meta name="csrf-token">`` (base.html) and send it as ``X-CSRF-Token``.
* Tests: tests/dashboard_helpers.py ``staff_client(org, role=...)`` signs a StaffClient in over HTTP; every
  route that changes something or takes an id goes into tests/dashboard_routes.py (CSRF, role and tenancy
  tests walk that table).
* Passwords: :func:`hash_password_async` / :func:`verify_password_async` (argon2id through argon2-cffi, off the
  event loop); the database only stores the encoded hash (db/functions/71_staff_accounts.sql). Passwords are
  never logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, select_autoescape
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send

from voxbook.api.errors import HttpError, error_body, http_error_body
from voxbook.db import call

TEMPLATES_DIR = Path(__file__).parent / "templates"   # api/templates (voxbook/api/templates in the wheel)
COOKIE = "voxbook_dashboard"            # the session secret (HttpOnly, SameSite=Strict, path /dashboard)
PRESESSION_COOKIE = "voxbook_presession"  # before sign-in: what the sign-in and invite forms' CSRF token is bound to
COOKIE_PATH = "/dashboard"
SESSION_HOURS = 12
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
PASSWORD_MIN = 10
PASSWORD_MAX = 1024   # argon2 takes any length; this only bounds the work one request can ask for
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STATE_KEY = "voxbook_dashboard_staff"   # the request's resolved session, once per request
_PRESESSION_KEY = "voxbook_dashboard_presession"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on a form POST, and the
    # Origin check could not tell our own forms from anyone's. Nothing leaves for other sites either way.
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member and their clinic, from ``api.dashboard_session`` at this request."""

    org_id: UUID
    clinic: str
    time_zone: str
    locale: str
    staff_id: UUID
    name: str
    role: str            # "owner" | "front_desk"
    csrf_token: str
    email: str = ""
    clinic_phone: str = ""   # as the clinic's country writes it

    @property
    def audit_name(self) -> str:
        """What goes into ``changed_by`` / ``done_by`` / ``staff_user`` of audited api functions: the person,
        unambiguous within the clinic by the email. Whole, however long (a 100-character name and a 254-character
        email are allowed): the database caps it where it is stored (internal.audit_name, db/functions/63_audit.sql,
        the name shortened first so that the email stays whole as long as it fits)."""
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


CurrentStaff = NamedDependency[Staff]
"""``staff: CurrentStaff`` in a dashboard handler's signature: the signed-in person."""


# -- templates -------------------------------------------------------------------------------------


@cache
def jinja_environment() -> Environment:
    """The one Jinja environment (api/app.py hands it to Litestar): autoescape on for .html, so every value from
    the database (callers' names, transcripts) is escaped unless a template says otherwise."""
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                       autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context: Any) -> str:
    """A template rendered outside a request (a hot lead pushed over SSE, api/dashboard_events.py)."""
    return jinja_environment().get_template(template).render(**context)


def lead_item(lead: dict[str, Any]) -> str:
    """One hot lead's list item: the page's list and the live stream render the same template."""
    return render("dashboard/_lead_item.html", lead=lead)


# -- passwords -------------------------------------------------------------------------------------

# argon2-cffi's defaults (RFC 9106's second recommendation: argon2id, 64 MiB, t=3, p=4). A library upgrade
# that changes them makes check_needs_rehash true, and the next sign-in stores a new hash.
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verified against when the email has no account, so an unknown email costs the same time as a wrong password.
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, new hash when the parameters changed). A missing hash is checked against a dummy one."""
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if not password_hash:
        return False, None
    return True, (hash_password(password) if _hasher.check_needs_rehash(password_hash) else None)


# argon2 takes ~0.1 s of CPU and 64 MiB per check (its point): done in threads (argon2-cffi releases the GIL), never
# on the event loop, where it would hold up every other request, Vapi's tool calls included; two at a time at
# most, so a burst of sign-ins queues instead of taking every core and that much memory each.
_password_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="voxbook-argon2")


async def verify_password_async(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    return await asyncio.get_running_loop().run_in_executor(_password_pool, verify_password, password_hash, password)


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_password_pool, hash_password, password)


def password_problem(password: str, repeated: str) -> str | None:
    """Why a chosen password is refused, or None. (The database never sees it, so this rule lives here.)"""
    if password != repeated:
        return "The two passwords differ."
    if len(password) < PASSWORD_MIN:
        return f"Choose a password of at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Choose a password of at most {PASSWORD_MAX} characters."
    return None


# -- sessions and CSRF -----------------------------------------------------------------------------


def csrf_token_for(secret: str) -> str:
    digest = hmac.new(secret.encode(), b"voxbook dashboard csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_cookie(request: Request, secret: str) -> Cookie:
    return Cookie(key=COOKIE, value=secret, path=COOKIE_PATH, httponly=True, samesite="strict",
                  secure=_secure(request), max_age=SESSION_HOURS * 3600)


def _secure(request: Request) -> bool:
    base = request.app.state.settings.public_base_url or ""
    return request.url.scheme == "https" or base.startswith("https://")


async def current_staff(request: ASGIConnection) -> Staff | None:
    """The session's staff member, or None. Resolved once per request (guards and the dependency share it)."""
    if _STATE_KEY in request.scope:
        return request.scope[_STATE_KEY]   # type: ignore[literal-required]
    staff = None
    secret = request.cookies.get(COOKIE)
    if secret:
        async with request.app.state.pool.connection() as conn:
            s = await call(conn, "dashboard_session", session=secret)
        if s.get("success"):
            staff = Staff(org_id=UUID(str(s["org_id"])), clinic=s["clinic"], time_zone=s["time_zone"],
                          locale=s.get("locale") or "en-US", staff_id=UUID(str(s["staff_id"])),
                          name=s["staff_name"], role=s["role"], csrf_token=csrf_token_for(secret),
                          email=s.get("staff_email") or "", clinic_phone=s.get("phone") or "")
    request.scope[_STATE_KEY] = staff   # type: ignore[literal-required]
    return staff


class SignedOut(Exception):
    """No valid session: a browser navigating is sent to the sign-in page, anything else gets 401."""


def _navigating(request: Request) -> bool:
    mode = request.headers.get("sec-fetch-mode")
    return (request.method == "GET" and "text/html" in request.headers.get("accept", "")
            and mode in (None, "navigate"))


def signed_out_handler(request: Request, _: SignedOut) -> Response:
    if _navigating(request):
        response: Response = Redirect("/dashboard", status_code=303, headers={"Cache-Control": "no-store"})
    else:
        response = Response(error_body("PGRST302", "signed out", hint="Sign in again at /dashboard."),
                            status_code=401, headers={"Cache-Control": "no-store"})
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: any active staff member of any role."""
    if await current_staff(connection) is None:
        raise SignedOut()


class NotAllowed(HttpError):
    """Signed in, but the role does not allow it: 403 (a page saying so to a browser navigating)."""


def not_allowed_handler(request: Request, exc: NotAllowed) -> Response:
    if _navigating(request):
        staff = request.scope.get(_STATE_KEY)   # type: ignore[call-overload]
        return Template(template_name="dashboard/error.html", status_code=403, media_type="text/html",
                        headers=SECURITY_HEADERS,
                        context={"staff": staff, "csrf_token": staff.csrf_token if staff else "",
                                 "heading": "Not for your role", "message": f"{exc.detail}: {exc.hint}"})
    return Response(http_error_body(exc), status_code=exc.status_code, headers=exc.headers)


async def owner_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: the clinic's owners (settings and staff accounts)."""
    staff = await current_staff(connection)
    if staff is None:
        raise SignedOut()
    if staff.role != "owner":
        raise NotAllowed(403, "only the clinic's owners may do this", code="PGRST303",
                         hint="Ask an owner of the clinic.", headers={"Cache-Control": "no-store"})


async def provide_staff(request: Request) -> Staff:
    """The ``staff`` dependency of dashboard handlers."""
    staff = await current_staff(request)
    if staff is None:
        raise SignedOut()
    return staff


def _presession(request: Request) -> tuple[str, bool]:
    """The pre-session secret: the cookie's, else a new one for this response to set (created, True)."""
    value = request.cookies.get(PRESESSION_COOKIE)
    if value and len(value) <= 100:
        return value, False
    if _PRESESSION_KEY not in request.scope:
        request.scope[_PRESESSION_KEY] = secrets.token_urlsafe(32)   # type: ignore[literal-required]
    return request.scope[_PRESESSION_KEY], True   # type: ignore[literal-required]


async def page(request: Request, template: str, context: dict[str, Any] | None = None, *,
               status_code: int = 200, cookies: list[Cookie] | None = None) -> Template:
    """A dashboard page or fragment from api/templates/dashboard/, with the context every template may use."""
    staff = await current_staff(request)
    cookies = list(cookies or [])
    if staff is not None:
        csrf = staff.csrf_token
    else:
        secret, created = _presession(request)
        csrf = csrf_token_for(secret)
        if created:
            cookies.append(Cookie(key=PRESESSION_COOKIE, value=secret, path=COOKIE_PATH, httponly=True,
                                  samesite="strict", secure=_secure(request), max_age=SESSION_HOURS * 3600))
    response = Template(template_name=template, context={"staff": staff, "csrf_token": csrf, **(context or {})},
                        status_code=status_code, media_type="text/html", headers=SECURITY_HEADERS, cookies=cookies)
    if staff is None and COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=COOKIE_PATH)   # an ended session's cookie
    return response


# -- the CSRF and Origin check ---------------------------------------------------------------------


def own_origin(request: Request) -> str:
    base = request.app.state.settings.public_base_url
    if base:
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}".lower()
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


def _origin_of(request: Request) -> str | None:
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return None
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.lower()


def _forbidden(message: str, hint: str) -> HttpError:
    return HttpError(403, message, code="PGRST303", hint=hint, headers={"Cache-Control": "no-store"})


async def _require_utf8_form(request: Request) -> None:
    """400 for a form body that is not UTF-8, which Litestar would store mangled (an invalid sequence as U+FFFD,
    a raw byte of a urlencoded body as Latin-1) or fail on with a 500 (multipart)."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            # Browsers percent-encode every byte that is not ASCII: a raw one is no form of ours.
            parse_qsl((await request.body()).decode("ascii"), keep_blank_values=True, errors="strict")
        elif content_type.startswith("multipart/form-data"):
            await request.form()
    except UnicodeDecodeError:
        raise HttpError(400, "the form is not valid UTF-8", code="22021",
                        hint="Send the form as the dashboard's pages do (UTF-8, percent-encoded).",
                        headers={"Cache-Control": "no-store"}) from None


async def check_csrf(request: Request) -> None:
    """Raises 403 unless an unsafe request comes from our own pages (see the module docstring); 400 for a form
    body that is not UTF-8."""
    origin = _origin_of(request)
    if origin is None or not hmac.compare_digest(origin.encode(), own_origin(request).encode()):
        raise _forbidden("cross-origin request refused", "Submit the form from the dashboard's own pages; "
                         "behind a proxy, set PUBLIC_BASE_URL to the address browsers use.")
    await _require_utf8_form(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            token = (await request.form()).get(CSRF_FIELD)
    # With a session cookie, only its token: a pre-session cookie planted in the browser (a sibling subdomain,
    # plain HTTP) must not give a known token for the person's session. Without one, the pre-session's (the
    # sign-in and invite forms; page() deletes an ended session's cookie when it shows them).
    secret = request.cookies.get(COOKIE) or request.cookies.get(PRESESSION_COOKIE)
    if not (secret and isinstance(token, str)
            and hmac.compare_digest(token.encode(), csrf_token_for(secret).encode())):
        raise _forbidden("missing or wrong CSRF token", "Reload the page and try again.")


class CsrfMiddleware(ASGIMiddleware):
    """On the dashboard router: every POST/PUT/PATCH/DELETE is checked before its handler (and its guards) run."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            await check_csrf(Request(scope, receive, send))
        await next_app(scope, receive, send)
