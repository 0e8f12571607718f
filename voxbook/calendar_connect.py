"""Connecting a provider's CalDAV calendar: the one path of ``voxbook calendar connect`` (voxbook/calendar_cli.py)
and of the dashboard's Calendars page (api/dashboard_desk.py). The calendar is tried for real first (is it a
calendar, do the credentials work, may this account write there: workers/calendar_sync.py's check), then the
password is encrypted with VOXBOOK_SECRETS_KEY (voxbook/secrets_box.py); the caller stores the result with
``api.connect_calendar`` over its own connection (the database gets the ciphertext only).

Blocking (the caldav library is synchronous): the dashboard runs it in a thread. The password is never in a
message: the reasons come from the worker's classification, which names the class and the HTTP status only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from voxbook.secrets_box import SecretsBox

TEST_TIMEOUT_SECONDS = 15.0


class CalendarCheckFailed(Exception):
    """The connection test failed: ``kind`` is the error class (bad_credentials | not_a_calendar |
    no_write_permission | unreachable | server_error), ``str()`` the reason for people."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind

    @property
    def message(self) -> str:
        """'bad credentials: the server refused ...': what the CLI and the page say."""
        return f"{self.kind.replace('_', ' ')}: {self}"


@dataclass(frozen=True)
class SealedConnection:
    """What api.connect_calendar takes besides the clinic, provider, URL and username."""

    secret_ciphertext: str
    key_id: str
    display_name: str | None   # the calendar's name as the server gives it (None: not tested)

    def __repr__(self) -> str:   # never the ciphertext in a log line either
        return f"SealedConnection(key_id={self.key_id!r}, display_name={self.display_name!r})"


def check_calendar(url: str, username: str, password: str, timeout: float = TEST_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Tries the calendar as the sync worker will use it (and writes, then deletes, a test event). Returns
    {"display_name", "writable"}; raises CalendarCheckFailed with the reason staff can act on."""
    from voxbook.caldav_client import CalDavCalendar, SyncError, classify

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CalendarCheckFailed("not_a_calendar", "the URL is not an http(s) URL: copy the calendar's CalDAV URL")
    if "@" in parts.netloc:
        # Credentials in the URL would travel (and be stored, and shown) in clear.
        raise CalendarCheckFailed("not_a_calendar", "the URL must not contain user:password@: the username and "
                                                    "password are asked for separately")
    try:
        cal = CalDavCalendar(url, username, password, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - classified (a URL the HTTP client refuses)
        error = classify(exc)
        raise CalendarCheckFailed(error.kind, str(error)) from None
    try:
        return cal.check(write=True)
    except SyncError as exc:
        raise CalendarCheckFailed(exc.kind, str(exc)) from None
    finally:
        cal.close()


def seal_connection(box: SecretsBox, url: str, username: str, password: str, *, test: bool = True,
                    timeout: float = TEST_TIMEOUT_SECONDS) -> SealedConnection:
    """Tests the calendar (unless test=False), then encrypts the password: nothing is encrypted, let alone
    stored, for a calendar that failed its test."""
    found = check_calendar(url, username, password, timeout=timeout) if test else {}
    return SealedConnection(box.encrypt(password), box.key_id, found.get("display_name"))
