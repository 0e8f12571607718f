"""The CalDAV client voxbook speaks through (issue 17): one provider's calendar over the caldav library, with
what an untrusted server may not do to us enforced in one place (no private targets unless
CALDAV_ALLOW_PRIVATE_HOSTS, no redirects, no other host, bounded answers), errors classified for people, and our
events built with icalendar. Used by the sync worker (workers/calendar_sync.py) and by connecting a calendar
(voxbook/calendar_connect.py: the CLI and the dashboard), so it sits on the package's floor: it imports only the
floor and the libraries.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import caldav
import icalendar
from caldav.elements import dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error as caldav_error

from voxbook.logs import event as log_event
from voxbook.settings import Settings

CHANNEL = "voxbook_calendar"
APPLICATION_NAME = "voxbook-calendar-sync"
OUR_UID_SUFFIX = "@voxbook"
OUR_PROPERTY = "X-VOXBOOK-APPOINTMENT"
CALDAV_CALENDAR = "{urn:ietf:params:xml:ns:caldav}calendar"
# What one calendar may cost the worker, whatever its server answers: one response's body (a calendar of
# thousands of events is a few MB), and the occurrences one recurring event is expanded to (FREQ=SECONDLY over
# the booking horizon would be millions; beyond this the rest of the window is one busy block).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MAX_OCCURRENCES_PER_EVENT = 2000
log = logging.getLogger("voxbook.calendar_sync")


class GetCTag(ValuedBaseElement):
    """The collection tag (calendarserver.org extension): changes whenever anything in the calendar changes. The
    caldav library builds and parses the PROPFIND; it has no element class for this one property."""

    tag = "{http://calendarserver.org/ns/}getctag"


def _event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    # Ids and error classes only: never a password, a patient's name or an event's title.
    log_event(log, name, level, **fields)


# -- errors ---------------------------------------------------------------------------------------


class SyncError(Exception):
    """A CalDAV failure, classified: ``kind`` is the error class staff see (api.list_calendar_connections),
    ``str()`` the reason for people (never a secret)."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind


class LeaseLost(Exception):
    """This worker's lease on the calendar ran out and another worker holds it: stop this round at once."""


def classify(exc: BaseException, writing: bool = False) -> SyncError:
    """What went wrong, in the words staff need: bad credentials, not a calendar, no write permission,
    unreachable, or the server failing."""
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, caldav_error.AuthorizationError):
        if getattr(exc, "status", None) != 403:
            return SyncError("bad_credentials", "the server refused the username or password (401): check them; "
                                                "iCloud and Fastmail need an app-specific password")
        if writing:
            return SyncError("no_write_permission", "the server refused to let this account write to the calendar "
                                                    "(403): give it write access, or connect a calendar it owns")
        return SyncError("not_a_calendar", "the server refused this account access to that URL (403): is it one of "
                                           "this account's calendars?")
    if isinstance(exc, caldav_error.NotFoundError):
        return SyncError("not_a_calendar", "nothing at that URL (404): copy the calendar's CalDAV URL again")
    if isinstance(exc, caldav_error.DAVError):
        status = getattr(exc, "status", None)
        if isinstance(exc, caldav_error.PropfindError) and (status is None or status < 500 or status == 501):
            # A web page, not a WebDAV server: PROPFIND is not understood there (405, 501) or answered with HTML.
            return SyncError("not_a_calendar", f"the URL does not answer CalDAV requests ({status or 'no XML'}): "
                                               "a plain web page, not a calendar")
        return SyncError("server_error", f"the CalDAV server failed ({status or type(exc).__name__})")
    # Connection refused, DNS, TLS, timeouts: requests/niquests/urllib3 raise their own classes.
    name = type(exc).__name__
    if isinstance(exc, (OSError, TimeoutError)) or any(k in name for k in ("Connection", "Timeout", "SSL", "Resolution")):
        return SyncError("unreachable", f"the CalDAV server cannot be reached ({name})")
    return SyncError("server_error", f"unexpected answer from the CalDAV server ({name})")


# -- one CalDAV calendar --------------------------------------------------------------------------


def _etag(headers: Any) -> str | None:
    value = headers.get("ETag") or headers.get("etag") if headers is not None else None
    return str(value) if value else None


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def check_target(url: str, origin: tuple[str, str, int], allow_private: bool) -> None:
    """Refuses (SyncError) a request the clinic's URL or its server's answers could aim anywhere: another scheme,
    host or port than the connected calendar's (an href in a multistatus pointing elsewhere would get the
    password), and, unless CALDAV_ALLOW_PRIVATE_HOSTS, a host whose addresses are not public (loopback, private,
    link-local such as the cloud metadata service 169.254.169.254, ...). The reason names no address."""
    target = _origin(url)
    if target[0] not in ("http", "https") or target != origin:
        raise SyncError("not_a_calendar", "the server pointed the client at another host or scheme than the "
                                          "calendar's URL; refused")
    if allow_private:
        return
    for *_, sockaddr in socket.getaddrinfo(target[1], target[2], type=socket.SOCK_STREAM):
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise SyncError("unreachable", "the calendar's host is a private, loopback or link-local address: "
                                           "voxbook connects there only when CALDAV_ALLOW_PRIVATE_HOSTS is set")


def _guard(session: Any, origin: tuple[str, str, int], allow_private: bool, read_seconds: float) -> None:
    """Every request the caldav library makes through ``session`` is checked first (check_target), follows no
    redirect (a 3xx could lead anywhere: it is an error naming the status), and has its body read with a cap on
    its size and on the time the whole body may take (a server trickling bytes would hold a worker thread)."""
    send = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        check_target(str(url), origin, allow_private)
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        resp = send(method, url, *args, **kwargs)
        if 300 <= resp.status_code < 400:
            resp.close()
            raise SyncError("not_a_calendar", f"the server redirects ({resp.status_code}) elsewhere: connect the "
                                              "calendar's own URL (redirects are not followed)")
        deadline = time.monotonic() + read_seconds
        body = bytearray()
        try:
            for chunk in resp.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise SyncError("server_error", f"the CalDAV server sent over {MAX_RESPONSE_BYTES // 2**20} MB "
                                                    "in one answer")
                if time.monotonic() > deadline:
                    raise SyncError("unreachable", f"the CalDAV server took over {read_seconds:.0f} s to send one "
                                                   "answer")
        finally:
            resp.close()
        resp._content = bytes(body)
        resp._content_consumed = True
        return resp

    session.request = request


class CalDavCalendar:
    """A provider's calendar collection through the caldav library (its HTTP client, its XML). Every request is
    confined to the calendar's own origin and, unless allowed, to public addresses (_guard)."""

    def __init__(self, url: str, username: str, password: str, timeout: float = 15.0,
                 allow_private: bool | None = None):
        self.url = url if url.endswith("/") else url + "/"
        if allow_private is None:
            allow_private = Settings.from_env().caldav_allow_private_hosts
        # No RFC 6764 discovery: the URL is the calendar's own (discovery would try other hosts).
        self.client = caldav.DAVClient(url=self.url, username=username, password=password, timeout=timeout,
                                       enable_rfc6764=False)
        _guard(self.client.session, _origin(self.url), allow_private, read_seconds=4 * timeout)
        self.calendar = caldav.Calendar(client=self.client, url=self.url)

    def close(self) -> None:
        self.client.close()

    def href_of(self, appointment_id: str) -> str:
        return f"{self.url}voxbook-{appointment_id}.ics"

    # The connection test of `voxbook calendar connect|test`: each failure said the way staff can fix it.
    def check(self, write: bool = True) -> dict[str, Any]:
        try:
            props = self.calendar.get_properties([dav.ResourceType(), dav.DisplayName()])
        except Exception as exc:  # noqa: BLE001 - classified
            raise classify(exc) from None
        kinds = props.get("{DAV:}resourcetype") or []
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if CALDAV_CALENDAR not in kinds:
            what = "a principal (an account), not one of its calendars" if "{DAV:}principal" in kinds else \
                "a collection that is not a calendar" if "{DAV:}collection" in kinds else "a plain page, not a calendar"
            hint = ""
            if "{DAV:}principal" in kinds or "{DAV:}collection" in kinds:
                try:
                    # The account's calendars (current-user-principal, then its calendar home): the URLs to use.
                    names = [str(c.url) for c in self.client.principal().calendars()][:5]
                    hint = f"; this account's calendars: {', '.join(names)}" if names else ""
                except Exception:  # noqa: BLE001 - a hint only
                    hint = ""
            raise SyncError("not_a_calendar", f"the URL is {what}{hint}")
        if write:
            probe = f"{self.url}voxbook-probe-{uuid.uuid4().hex}.ics"
            body = build_event(f"probe-{uuid.uuid4().hex}{OUR_UID_SUFFIX}", "probe",
                               datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2000, 1, 1, 0, 5, tzinfo=timezone.utc),
                               "voxbook connection test")
            try:
                resp = self.client.put(probe, body, {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"})
                if resp.status >= 400:
                    raise SyncError("no_write_permission" if resp.status in (403, 405) else "server_error",
                                    f"writing a test event failed ({resp.status})")
                self.client.delete(probe)
            except SyncError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified
                raise classify(exc, writing=True) from None
        return {"display_name": props.get("{DAV:}displayname"), "writable": write}

    # -- out
    def put_event(self, href: str | None, appointment_id: str, body: str, etag: str | None) -> tuple[str, str | None]:
        """Writes the event, creating it or replacing it; returns (href, etag). Never makes a second one."""
        href = href or self.href_of(appointment_id)
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        resp = self.client.put(href, body, headers | ({"If-Match": etag} if etag else {"If-None-Match": "*"}))
        if resp.status in (412, 409) or (etag and resp.status == 404):
            # Exists already (created by a push whose record was lost) or changed there meanwhile (we are the
            # truth for our own events): read its ETag now and replace exactly that version.
            current = self.client.request(href, "GET")
            if current.status == 404:
                resp = self.client.put(href, body, headers | {"If-None-Match": "*"})
            else:
                resp = self.client.put(href, body, headers | ({"If-Match": _etag(current.headers)}
                                                              if _etag(current.headers) else {}))
        if resp.status >= 400:
            raise SyncError("no_write_permission" if resp.status == 403 else "server_error",
                            f"writing an event failed ({resp.status})")
        new_etag = _etag(resp.headers)
        if new_etag is None:
            new_etag = _etag(self.client.request(href, "GET").headers)
        return href, new_etag

    def delete_event(self, href: str) -> None:
        resp = self.client.delete(href)
        if resp.status >= 400 and resp.status not in (404, 410):
            raise SyncError("no_write_permission" if resp.status == 403 else "server_error",
                            f"deleting an event failed ({resp.status})")

    # -- in
    def ctag(self) -> str | None:
        try:
            value = self.calendar.get_property(GetCTag())
        except caldav_error.DAVError:
            return None   # not every server has one
        return str(value) if value else None

    def changes(self, sync_token: str | None, ctag: str | None, full: bool):
        """(objects, deleted hrefs, new sync token, new ctag, full read?) since the last round.

        With the server's sync-token (RFC 6578): what changed and what was deleted. A server without one: the
        ctag first (unchanged: nothing to read), else the caldav library's fallback, which reads every object and
        keeps a digest of their ETags as the token ("fake-..."; the same digest: nothing changed)."""
        fake = bool(sync_token and sync_token.startswith("fake-"))
        new_ctag = self.ctag() if fake or full or sync_token is None else ctag
        if fake and not full and new_ctag is not None and new_ctag == ctag:
            return [], [], sync_token, ctag, False
        result = self.calendar.get_objects_by_sync_token(None if full else sync_token, load_objects=True)
        token = str(result.sync_token) if result.sync_token is not None else None
        fell_back = bool(token and token.startswith("fake-"))
        # On the fallback a new digest means the objects returned are the whole calendar (maybe none: all deleted).
        full_read = full or sync_token is None or (fell_back and token != sync_token)
        if fell_back and sync_token and not fake:
            # The server refused our real token (expired): read in full now, and ask it for a real one again on
            # the next round instead of staying on the fallback.
            token = None
        gone = result.deleted_urls
        deleted = [] if full_read else [str(u) for u in gone]
        objects = [o for o in result.objects if o.url.canonical() not in gone] if gone else list(result.objects)
        return objects, deleted, token, new_ctag, full_read


def build_event(uid: str, appointment_id: str, starts: datetime, ends: datetime, title: str) -> str:
    """One appointment as iCalendar (icalendar builds and escapes it). No phone number, no description."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//voxbook//calendar sync//EN")
    cal.add("version", "2.0")
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", datetime.now(timezone.utc).replace(microsecond=0))
    ev.add("dtstart", starts)
    ev.add("dtend", ends)
    ev.add("summary", title)
    ev.add("transp", "OPAQUE")
    ev.add(OUR_PROPERTY, appointment_id)
    cal.add_component(ev)
    return cal.to_ical().decode("utf-8")
