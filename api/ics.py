"""iCalendar (RFC 5545) text of a provider's feed, from the jsonb of ``api.calendar_feed``.

All times are UTC (``...Z``), so no VTIMEZONE is needed and no client can misread a zone.
Lines are CRLF-terminated and folded at 75 octets without splitting a UTF-8 character (3.1).
"""

from __future__ import annotations

from typing import Any

PRODID = "-//voxbook//Clinic calendar feed//EN"


def _utc(iso: str) -> str:
    # '2026-11-25T15:00:00Z' -> '20261125T150000Z' (api functions always return this shape)
    return iso.replace("-", "").replace(":", "")


def _text(value: Any) -> str:
    """TEXT value escaping (3.3.11): backslash, semicolon, comma, newline."""
    s = "" if value is None else str(value)
    s = s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return s.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    limit = 75
    current = b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
            limit = 74   # continuation lines start with one space
        current += b
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def render_feed(feed: dict[str, Any]) -> str:
    name = f"{feed.get('provider')} - {feed.get('clinic')}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"NAME:{_text(name)}",
        f"X-WR-CALNAME:{_text(name)}",
        # How often subscribers should refetch (RFC 7986 and the de-facto Microsoft property).
        "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
        "X-PUBLISHED-TTL:PT15M",
    ]
    for ev in feed.get("events") or []:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_text(ev['uid'])}",
            f"DTSTAMP:{_utc(ev['updated_at'])}",
            f"DTSTART:{_utc(ev['starts_at'])}",
            f"DTEND:{_utc(ev['ends_at'])}",
            f"CREATED:{_utc(ev['created_at'])}",
            f"LAST-MODIFIED:{_utc(ev['updated_at'])}",
            f"SUMMARY:{_text(ev.get('summary'))}",
            f"DESCRIPTION:{_text(ev.get('description'))}",
            f"LOCATION:{_text(ev.get('location'))}",
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
