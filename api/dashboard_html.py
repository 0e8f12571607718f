"""HTML of the clinic dashboard, rendered on the server from the jsonb of the ``api.dashboard_*`` functions.

Every value from the database goes through ``e()`` (html.escape, quotes included): names, summaries and
transcripts are what callers said, so they are untrusted. The same functions render the first page and
the fragments the page's script fetches or receives over SSE, so there is one renderer, not two.
"""

from __future__ import annotations

from html import escape
from typing import Any

SMS_LABELS = {
    "queued": "queued", "sending": "sending", "unknown": "checking", "sent": "sent", "delivered": "delivered",
    "undelivered": "undelivered", "failed": "failed", "cancelled": "cancelled", "skipped": "skipped",
}
# Which badge colour a state gets: staff should spot a failed confirmation at a glance.
SMS_TONE = {
    "delivered": "good", "sent": "ok", "queued": "wait", "sending": "wait", "unknown": "wait",
    "undelivered": "bad", "failed": "bad", "cancelled": "muted", "skipped": "muted",
}


def e(value: Any) -> str:
    return "" if value is None else escape(str(value), quote=True)


def _minutes(seconds: Any) -> str:
    if not isinstance(seconds, int) or seconds <= 0:
        return ""
    m, s = divmod(seconds, 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _reveal(kind: str, ident: Any, masked: Any) -> str:
    if not masked:
        return '<span class="phone none">no number</span>'
    return (f'<span class="phone"><span class="phone-value">{e(masked)}</span> '
            f'<button type="button" class="link reveal" data-{kind}="{e(ident)}">show</button></span>')


# -- hot leads -------------------------------------------------------------------------------------


def lead_item(lead: dict[str, Any]) -> str:
    reasons = "".join(
        f'<li><span class="pts">{int(r.get("points") or 0):+d}</span> {e(r.get("detail"))}</li>'
        for r in (lead.get("reasons") or [])
    )
    appt = lead.get("appointment") or {}
    booked = (f'<span class="badge good">Booked {e(appt.get("local_time"))}</span>' if lead.get("booked")
              else '<span class="badge bad">Not booked: call back</span>')
    meta = " · ".join(x for x in (e(lead.get("service_name") or "service not stated"),
                                  _minutes(lead.get("duration_seconds")), e(lead.get("local_time"))) if x)
    return (
        f'<li class="lead" data-alert-id="{e(lead.get("alert_id"))}" data-call-id="{e(lead.get("call_id"))}">'
        f'<button type="button" class="lead-open" data-call-id="{e(lead.get("call_id"))}">'
        f'<span class="score" title="lead score">{e(lead.get("score"))}</span>'
        f'<span class="lead-body"><strong class="lead-name">{e(lead.get("name") or "Unknown caller")}</strong> {booked}'
        f'<span class="lead-meta">{meta}</span>'
        f'<ul class="reasons">{reasons}</ul></span></button>'
        f'{_reveal("call-id", lead.get("call_id"), lead.get("phone_masked"))}'
        f'</li>'
    )


def leads_fragment(data: dict[str, Any]) -> str:
    leads = data.get("leads") or []
    items = "".join(lead_item(x) for x in leads)
    empty = '' if leads else '<li class="empty">No hot leads yet. They appear here the moment a call ends.</li>'
    return f'<ul id="leads" class="leads">{empty}{items}</ul>'


def lead_detail(lead: dict[str, Any]) -> str:
    reasons = "".join(
        f'<li><span class="pts">{int(r.get("points") or 0):+d}</span> {e(r.get("detail"))}</li>'
        for r in (lead.get("reasons") or [])
    )
    appt = lead.get("appointment") or {}
    booking = (f'Booked: {e(appt.get("local_time"))} with {e(appt.get("provider"))} ({e(appt.get("status"))})'
               if appt else "Not booked")
    alert_sms = lead.get("alert_sms_status")
    return (
        f'<article class="lead-detail" data-call-id="{e(lead.get("call_id"))}">'
        f'<header><h2>{e(lead.get("name") or "Unknown caller")}</h2>'
        f'<span class="score big">{e(lead.get("score"))}</span></header>'
        f'<p>{_reveal("call-id", lead.get("call_id"), lead.get("phone_masked"))}</p>'
        f'<p class="lead-meta">{e(lead.get("service_name") or "Service not stated")} · '
        f'{e(_minutes(lead.get("duration_seconds")))} · call started {e(lead.get("local_started") or lead.get("local_time"))}'
        f'{" · " + e(lead.get("ended_reason")) if lead.get("ended_reason") else ""}</p>'
        f'<p>{booking}</p>'
        f'{"<p>Owner alert SMS: " + _sms_badge(alert_sms) + "</p>" if alert_sms else ""}'
        f'<h3>Why it scored</h3><ul class="reasons">{reasons}</ul>'
        f'<h3>Summary</h3><p class="summary">{e(lead.get("summary") or "No summary.")}</p>'
        f'<h3>Transcript</h3><pre class="transcript">{e(lead.get("transcript") or "No transcript.")}</pre>'
        f'</article>'
    )


# -- schedule and holds ---------------------------------------------------------------------------


def _sms_badge(status: Any) -> str:
    if not status:
        return '<span class="badge muted">none</span>'
    return f'<span class="badge {SMS_TONE.get(status, "muted")}">{e(SMS_LABELS.get(status, status))}</span>'


def _sms_cell(label: str, sms: dict[str, Any] | None) -> str:
    if not sms:
        return f'<span class="sms">{label}: <span class="badge muted">none</span></span>'
    extra = ""
    if label == "Reminder" and sms.get("status") == "queued" and sms.get("local_send_after"):
        extra = f' <span class="when">{e(sms["local_send_after"])}</span>'
    if sms.get("error_code"):
        extra += f' <span class="when">error {e(sms["error_code"])}</span>'
    return f'<span class="sms" data-sms="{e(label.lower())}">{label}: {_sms_badge(sms.get("status"))}{extra}</span>'


def _reply_badges(x: dict[str, Any]) -> str:
    """The patient's replies by SMS (db/functions/46_sms_replies.sql): C confirmed, CANCEL may not come."""
    badges = ""
    if x.get("patient_confirmed_at"):
        badges += ' <span class="badge reply-confirmed" data-reply="confirmed">patient confirmed</span>'
    if x.get("may_not_come_at"):
        badges += ' <span class="badge reply-may-not-come" data-reply="may-not-come">may not come</span>'
    return badges


def _entry_row(x: dict[str, Any]) -> str:
    status = x.get("status") or ""
    if x.get("kind") == "hold":
        phone = _reveal("hold-id", x.get("hold_id"), x.get("phone_masked"))
        sms = (f'<span class="sms">Hold expires in <span class="countdown" data-expires="{e(x.get("expires_at"))}">'
               f'…</span></span>')
    else:
        phone = _reveal("appointment-id", x.get("appointment_id"), x.get("phone_masked"))
        sms = _sms_cell("Confirmation", x.get("confirmation_sms")) + _sms_cell("Reminder", x.get("reminder_sms"))
    return (
        f'<tr class="entry {e(status)}" data-status="{e(status)}">'
        f'<td class="time">{e(x.get("local_start"))}<span class="until">–{e(x.get("local_end"))}</span></td>'
        f'<td><strong class="patient">{e(x.get("patient_name") or "Unnamed")}</strong><br>{phone}</td>'
        f'<td>{e(x.get("service_name") or "")}</td>'
        f'<td><span class="badge status-{e(status)}">{e(status)}</span>{_reply_badges(x)}</td>'
        f'<td class="sms-cell">{sms}</td>'
        f'</tr>'
    )


def schedule_fragment(data: dict[str, Any]) -> str:
    days = []
    for day in data.get("days") or []:
        providers = []
        for p in day.get("providers") or []:
            entries = p.get("entries") or []
            rows = "".join(_entry_row(x) for x in entries) or (
                '<tr class="empty"><td colspan="5">Nothing booked.</td></tr>')
            providers.append(
                f'<section class="provider" data-calendar-id="{e(p.get("calendar_id"))}">'
                f'<h4>{e(p.get("provider"))}</h4>'
                f'<table><tbody>{rows}</tbody></table></section>'
            )
        title = ("Today, " if day.get("is_today") else "") + e(day.get("label"))
        days.append(f'<section class="day" data-date="{e(day.get("date"))}"><h3>{title}</h3>{"".join(providers)}</section>')
    return f'<div id="schedule" data-time-zone="{e(data.get("time_zone"))}">{"".join(days)}</div>'


def holds_fragment(data: dict[str, Any]) -> str:
    holds = data.get("holds") or []
    items = "".join(
        f'<li class="hold" data-hold-id="{e(h.get("hold_id"))}">'
        f'<span class="countdown" data-expires="{e(h.get("expires_at"))}">{int(h.get("seconds_left") or 0) // 60}:'
        f'{int(h.get("seconds_left") or 0) % 60:02d}</span> '
        f'<strong>{e(h.get("local_time"))}</strong> with {e(h.get("provider"))} · '
        f'{e(h.get("patient_name") or "caller")} {_reveal("hold-id", h.get("hold_id"), h.get("phone_masked"))}'
        f'{" · " + e(h.get("service_name")) if h.get("service_name") else ""}'
        f'{" · code sent" if h.get("code_sent") else ""}'
        f'</li>'
        for h in holds
    )
    empty = "" if holds else '<li class="empty">No live holds: the assistant is not booking anyone right now.</li>'
    return f'<ul id="holds" class="holds" data-server-time="{e(data.get("server_time"))}">{empty}{items}</ul>'


# -- pages -----------------------------------------------------------------------------------------

_HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="referrer" content="no-referrer">'
    '<link rel="icon" href="data:,">'
    '<title>{title}</title><link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head>'
)


def login_page(error: str | None = None) -> str:
    err = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    return (
        _HEAD.format(title="voxbook · sign in")
        + '<body class="login"><main class="card">'
        '<h1>voxbook</h1><p>Sign in with your clinic\'s dashboard token.</p>'
        f'{err}'
        '<form method="post" action="/dashboard/login" autocomplete="off">'
        '<label for="token">Dashboard token</label>'
        '<input id="token" name="token" type="password" required autofocus spellcheck="false">'
        '<button type="submit">Sign in</button></form>'
        '<p class="hint">No token? An administrator creates one with '
        '<code>voxbook dashboard-token --org &lt;clinic&gt;</code>.</p>'
        '</main></body></html>'
    )


def dashboard_page(clinic: dict[str, Any], leads: dict[str, Any], schedule: dict[str, Any],
                   holds: dict[str, Any]) -> str:
    return (
        _HEAD.format(title=f"{e(clinic.get('clinic'))} · voxbook")
        + f'<body data-server-time="{e(schedule.get("server_time"))}">'
        '<header class="top"><div><h1>' + e(clinic.get("clinic")) + '</h1>'
        f'<span class="sub">{e(clinic.get("phone"))} · {e(clinic.get("time_zone"))}</span></div>'
        '<div class="right"><span id="live" class="live off" aria-live="polite">connecting…</span>'
        '<form method="post" action="/dashboard/logout"><button type="submit" class="link">Sign out</button></form>'
        '</div></header>'
        '<main class="grid">'
        '<section class="panel leads-panel"><h2>Hot leads</h2>' + leads_fragment(leads) + '</section>'
        '<div class="col">'
        '<section class="panel"><h2>Live holds</h2>' + holds_fragment(holds) + '</section>'
        '<section class="panel"><h2>Schedule</h2>' + schedule_fragment(schedule) + '</section>'
        '</div></main>'
        '<dialog id="lead-dialog"><form method="dialog"><button class="close" aria-label="Close">×</button></form>'
        '<div id="lead-content"></div></dialog>'
        '<script src="/dashboard/assets/dashboard.js" defer></script>'
        '</body></html>'
    )
