"""`voxbook simulate-call`: plays Vapi against a running voxbook, as a real call would.

It sends real-format ``tool-calls`` messages (the same JSON Vapi posts to the server URL) for a whole
booking, reads the one-time code from the console SMS outbox (the caller's phone, on a laptop), sends
the ``end-of-call-report``, prints what the caller would hear, and then checks through ``POST /rpc``
that the confirmation and the owner's hot-lead SMS were really sent. Standard library only: it is a
client, and must run wherever the CLI runs.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from voxbook.db import ApiError
from voxbook.phones import to_e164
from voxbook.up import local_env

CODE_RE = re.compile(r"^(\d{4,8}) is your ")


class SimulationFailed(Exception):
    pass


def post_json(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise SimulationFailed(f"{url} answered HTTP {exc.code}: {exc.read()[:300]!r}") from exc
    except urllib.error.URLError as exc:
        raise SimulationFailed(f"cannot reach {url} ({exc.reason}); is `voxbook up` running?") from exc
    return json.loads(body or b"{}")


@dataclass
class Vapi:
    """The Vapi side of one call: posts messages with the call's context, like Vapi does."""

    base_url: str
    secret: str
    clinic_phone: str
    caller_phone: str
    call_id: str = field(default_factory=lambda: f"sim-{uuid.uuid4()}")

    def post(self, path: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        return post_json(self.base_url + path, payload, headers)

    def _envelope(self, message: dict[str, Any]) -> dict[str, Any]:
        customer = {"number": self.caller_phone}
        return {"message": {
            "timestamp": int(time.time() * 1000),
            "call": {"id": self.call_id, "type": "inboundPhoneCall", "customer": customer},
            "phoneNumber": {"number": self.clinic_phone},
            "customer": customer,
            **message,
        }}

    def tool(self, name: str, **arguments: Any) -> tuple[dict[str, Any], str]:
        """One tool call; returns (parsed result or {"error": ...}, what the assistant says)."""
        tool_call_id = f"call_{uuid.uuid4().hex[:12]}"
        call = {"id": tool_call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        answer = self.post("/vapi/webhook", self._envelope({"type": "tool-calls", "toolCallList": [call]}),
                           {"X-Vapi-Secret": self.secret})
        (result,) = answer["results"]
        if result.get("toolCallId") != tool_call_id:
            raise SimulationFailed(f"{name}: the answer does not carry our toolCallId")
        spoken = result.get("message") or ""
        spoken = spoken.get("content", "") if isinstance(spoken, dict) else spoken
        if "error" in result:
            return {"success": False, "error": result["error"]}, spoken or result["error"]
        return json.loads(result["result"]), spoken

    def end_of_call(self, started: datetime, transcript: str, summary: str, structured: dict[str, Any]) -> None:
        self.post("/vapi/webhook", self._envelope({
            "type": "end-of-call-report",
            "endedReason": "customer-ended-call",
            "startedAt": started.isoformat().replace("+00:00", "Z"),
            "endedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "artifact": {"transcript": transcript, "messages": []},
            "analysis": {"summary": summary, "structuredData": structured, "successEvaluation": "true"},
        }), {"X-Vapi-Secret": self.secret})


class Admin:
    """POST /rpc/{function} with the admin token: how a script reads state without psql."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token

    def __call__(self, function: str, **args: Any) -> dict[str, Any]:
        return post_json(f"{self.base_url}/rpc/{function}", args, {"Authorization": f"Bearer {self.token}"})


def _next_weekday(today: date) -> date:
    d = today + timedelta(days=1)
    while d.isoweekday() > 5:  # the demo clinic works Monday to Friday
        d += timedelta(days=1)
    return d


def _wait_for(what: str, check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise SimulationFailed(f"timed out waiting for {what}")


def _code_from_outbox(outbox: Path, phone: str, after: int) -> str | None:
    """The newest code texted to ``phone`` in the console outbox (JSON lines) past byte ``after``."""
    if not outbox.is_file():
        return None
    with outbox.open("rb") as f:
        f.seek(after)
        lines = f.read().decode(errors="replace").splitlines()
    for line in reversed(lines):
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("to") == phone and (m := CODE_RE.match(msg.get("body", ""))):
            return m.group(1)
    return None


def say(who: str, text: str) -> None:
    print(f"{who:>10}: {text}", flush=True)


def simulate(base_url: str, data_dir: Path, day: date | None, clinic_phone: str, patient_name: str,
             patient_phone: str, service: str) -> int:
    book_call(base_url, data_dir, day, clinic_phone, patient_name, patient_phone, service)
    return 0


def book_call(base_url: str, data_dir: Path, day: date | None, clinic_phone: str, patient_name: str,
              patient_phone: str, service: str) -> dict[str, Any]:
    """One whole booking call, checked; returns the clinic, the numbers (E.164), the day and the appointment."""
    env = local_env(data_dir)
    outbox = data_dir / "outbox.jsonl"
    admin = Admin(base_url.rstrip("/"), env["ADMIN_TOKEN"])
    # The numbers as Vapi sends them (E.164): the clinic's as the database reads it (E.164, or national in
    # its country), the caller's as said in the clinic's country ('07700 900456' for a London clinic).
    clinic = admin("find_organization", phone=clinic_phone)
    clinic_phone, patient_phone = clinic["phone"], to_e164(patient_phone, clinic["country"])
    vapi = Vapi(base_url.rstrip("/"), env["VAPI_SECRET"], clinic_phone, patient_phone)
    day = day or _next_weekday(date.today())
    started = datetime.now(UTC) - timedelta(minutes=8)   # an eight-minute call, as in the seed's example

    say("Caller", f"Hi, I'd like to book a {service.replace('-', ' ')} on {day:%A, %B} {day.day}.")
    avail, spoken = vapi.tool("check_availability", date=day.isoformat(), service=service)
    say("Assistant", spoken)
    if not avail.get("slots"):
        raise SimulationFailed(f"no free slot on {day}: {avail}")
    slot = avail["slots"][0]
    say("Caller", f"{slot['spokenTime']} with {slot['provider']} works for me.")
    held, spoken = vapi.tool("reserve_atomic", slotId=slot["time"], calendarId=slot["calendarId"],
                             patientName=patient_name, patientPhone=patient_phone, service=service)
    say("Assistant", spoken)
    if not held.get("success"):
        raise SimulationFailed(f"reserve_atomic failed: {held}")
    mark = outbox.stat().st_size if outbox.is_file() else 0
    sent, spoken = vapi.tool("send_otp_code", holdId=held["holdId"])
    say("Assistant", spoken)
    if not sent.get("success"):
        raise SimulationFailed(f"send_otp_code failed: {sent}")
    code = _wait_for(f"the code SMS in {outbox}", lambda: _code_from_outbox(outbox, patient_phone, mark))
    say("Caller", f"The code is {' '.join(code)}.")
    verified, spoken = vapi.tool("verify_otp", holdId=held["holdId"], providedOTP=code)
    say("Assistant", spoken)
    if not verified.get("success"):
        raise SimulationFailed(f"verify_otp failed: {verified}")
    confirmed, spoken = vapi.tool("send_confirmation_sms", appointmentId=verified["appointmentId"])
    say("Assistant", spoken)
    say("Caller", "Great, thank you. Bye!")
    vapi.end_of_call(
        started,
        transcript=f"User: I'd like a {service.replace('-', ' ')}. How much does it cost?\nAI: ...",
        summary=f"{patient_name} booked {service} for {slot['localTime']}.",
        structured={"service": service, "sentiment": "positive", "patientName": patient_name},
    )

    org = clinic["org_id"]
    appointment = _wait_for("the confirmation SMS to be sent", lambda: (
        a if (a := admin("get_appointment", appointment_id=verified["appointmentId"], org_id=org))
        ["confirmation_sms"]["status"] in ("sent", "delivered") else None))
    call = _wait_for("the hot-lead alert SMS to be sent", lambda: (
        c if (c := admin("get_call", org_id=org, call_id=vapi.call_id)).get("alert")
        and c["alert"]["sms_status"] in ("sent", "delivered") else None))
    print(
        f"\nOK: appointment {appointment['appointment_id']} confirmed for {appointment['local_time']} "
        f"with {appointment['provider']}; confirmation SMS {appointment['confirmation_sms']['status']}; "
        f"lead score {call['score']} ({', '.join(r['factor'] for r in call['reasons'])}); "
        f"hot-lead alert SMS {call['alert']['sms_status']}.",
        flush=True,
    )
    return {"org_id": org, "clinic_phone": clinic_phone, "patient_phone": patient_phone, "day": day,
            "appointment": appointment}


def race(base_url: str, data_dir: Path, day: date | None, clinic_phone: str, callers: int, service: str) -> int:
    """N callers want the same time at the same moment: one wins, the others hear a polite no."""
    env = local_env(data_dir)
    day = day or _next_weekday(date.today())
    probe = Vapi(base_url.rstrip("/"), env["VAPI_SECRET"], clinic_phone, "+15555550100")
    avail, _ = probe.tool("check_availability", date=day.isoformat(), service=service)
    if not avail.get("slots"):
        raise SimulationFailed(f"no free slot on {day}")
    slot = avail["slots"][0]
    print(f"{callers} callers all ask for {slot['localTime']} with {slot['provider']} at once:", flush=True)

    def one(i: int):
        v = Vapi(probe.base_url, probe.secret, clinic_phone, f"+1555555{i:04d}")
        return i, *v.tool("reserve_atomic", slotId=slot["time"], calendarId=slot["calendarId"],
                          patientName=f"Caller {i}", service=service)

    with ThreadPoolExecutor(max_workers=min(callers, 64)) as pool:
        results = list(pool.map(one, range(1, callers + 1)))
    winners = [i for i, r, _ in results if r.get("success")]
    for i, r, spoken in results:
        say(f"caller {i}", ("WON: " if r.get("success") else "") + spoken)
    print(f"\n{len(winners)} winner, {callers - len(winners)} polite refusals.", flush=True)
    if len(winners) != 1:
        raise SimulationFailed(f"expected exactly one winner, got {len(winners)}")
    # Let the slot go again, so the demo can be run twice.
    holder = next(r for i, r, _ in results if r.get("success"))
    admin = Admin(probe.base_url, env["ADMIN_TOKEN"])
    admin("release_hold", hold_id=holder["holdId"], org_id=admin("find_organization", phone=clinic_phone)["org_id"])
    return 0


def _texts_to(outbox: Path, phone: str, after: int) -> list[str]:
    """The bodies of the texts sent to ``phone`` in the console outbox past byte ``after``, oldest first."""
    if not outbox.is_file():
        return []
    with outbox.open("rb") as f:
        f.seek(after)
        lines = f.read().decode(errors="replace").splitlines()
    bodies = []
    for line in lines:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("to") == phone:
            bodies.append(msg.get("body", ""))
    return bodies


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def returning(base_url: str, data_dir: Path, day: date | None, clinic_phone: str, patient_name: str,
              patient_phone: str, service: str) -> int:
    """A caller books, then calls back from the same number: the second call is greeted by first name, finds the
    appointment by the number Vapi sees (no code), moves it a week later and cancels it (db/README.md "Returning
    callers"). Exits 0 only if the database shows it moved and then cancelled and both texts were sent."""
    first = book_call(base_url, data_dir, day, clinic_phone, patient_name, patient_phone, service)
    env = local_env(data_dir)
    outbox = data_dir / "outbox.jsonl"
    admin = Admin(base_url.rstrip("/"), env["ADMIN_TOKEN"])
    org, booked = first["org_id"], first["appointment"]["appointment_id"]
    # A new call (a new call id) from the same number.
    vapi = Vapi(base_url.rstrip("/"), env["VAPI_SECRET"], first["clinic_phone"], first["patient_phone"])
    print("\n--- the same caller calls back ---", flush=True)
    hello = vapi.post("/vapi/webhook", vapi._envelope({"type": "assistant-request"}), {"X-Vapi-Secret": vapi.secret})
    say("Assistant", hello.get("assistant", {}).get("firstMessage", ""))

    say("Caller", "I need to move my appointment.")
    found, spoken = vapi.tool("find_my_appointments")
    say("Assistant", spoken)
    if booked not in [a.get("appointmentId") for a in found.get("appointments") or []]:
        raise SimulationFailed(f"find_my_appointments did not list the first call's appointment: {found}")

    later = _next_weekday(first["day"] + timedelta(days=6))   # the same weekday a week on, or the next one
    say("Caller", f"Do you have something on {later:%A, %B} {later.day}?")
    avail, spoken = vapi.tool("check_availability", date=later.isoformat(), service=service)
    say("Assistant", spoken)
    if not avail.get("slots"):
        raise SimulationFailed(f"no free slot on {later}: {avail}")
    slot = avail["slots"][0]
    say("Caller", f"{slot['spokenTime']} works.")
    mark = outbox.stat().st_size if outbox.is_file() else 0
    moved, spoken = vapi.tool("reschedule_my_appointment", appointmentId=booked, slotId=slot["time"],
                              calendarId=slot["calendarId"])
    say("Assistant", spoken)
    if not moved.get("success"):
        raise SimulationFailed(f"reschedule_my_appointment failed: {moved}")
    now = admin("get_appointment", appointment_id=booked, org_id=org)
    if now["status"] != "confirmed" or _instant(now["starts_at"]) != _instant(slot["time"]):
        raise SimulationFailed(f"the appointment was not moved to {slot['time']}: {now}")

    say("Caller", "Actually, please cancel it. I'll call again when I know my schedule.")
    cancelled, spoken = vapi.tool("cancel_my_appointment", appointmentId=booked, reason="schedule unknown")
    say("Assistant", spoken)
    if cancelled.get("status") != "cancelled":
        raise SimulationFailed(f"cancel_my_appointment failed: {cancelled}")
    say("Caller", "Thanks, bye!")
    vapi.end_of_call(datetime.now(UTC) - timedelta(minutes=3),
                     transcript="User: I need to move my appointment.\nAI: ...",
                     summary="A returning caller moved, then cancelled, their appointment.",
                     structured={"service": service, "sentiment": "neutral"})

    final = admin("get_appointment", appointment_id=booked, org_id=org)
    if final["status"] != "cancelled":
        raise SimulationFailed(f"the appointment is not cancelled: {final}")
    texts = _wait_for("the reschedule and cancellation texts to the caller",
                      lambda: t if len(t := _texts_to(outbox, first["patient_phone"], mark)) >= 2 else None)
    print(f"\nOK: appointment {booked} found by the caller's number, moved to {now['local_time']}, then cancelled; "
          f"{len(texts)} texts to the caller after the move (moved, cancelled).", flush=True)
    return 0


def waitlist(base_url: str, data_dir: Path, day: date | None, clinic_phone: str, patient_name: str,
             patient_phone: str, service: str) -> int:
    """A caller books a time; a second caller wants exactly that time and joins the waitlist (the join_waitlist tool,
    by the number Vapi sees); the first cancels; the worker texts the freed time to the second, whose BOOK reply
    (recorded as Twilio's inbound webhook records it) books it (db/README.md "Waitlist"). Exits 0 only if the
    appointment is the waitlisted caller's and its confirmation was sent."""
    first = book_call(base_url, data_dir, day, clinic_phone, "Sam Early", f"+1555555{random.randint(200, 299):04d}",
                      service)
    env = local_env(data_dir)
    outbox = data_dir / "outbox.jsonl"
    admin = Admin(base_url.rstrip("/"), env["ADMIN_TOKEN"])
    org, taken = first["org_id"], first["appointment"]
    clinic = admin("get_organization", org_id=org)
    starts = _instant(taken["starts_at"]).astimezone(ZoneInfo(clinic["time_zone"]))
    caller = to_e164(patient_phone, clinic["country"])
    vapi = Vapi(base_url.rstrip("/"), env["VAPI_SECRET"], first["clinic_phone"], caller)
    print("\n--- another caller wants that very time ---", flush=True)
    say("Caller", f"Do you have {taken['local_time']}? Nothing else works for me.")
    say("Assistant", "That time is taken. I can put you on the waitlist and text you if it opens up.")
    mark = outbox.stat().st_size if outbox.is_file() else 0
    joined, spoken = vapi.tool("join_waitlist", firstDay=starts.date().isoformat(), lastDay=starts.date().isoformat(),
                               fromTime=f"{starts:%H:%M}", toTime=f"{starts + timedelta(minutes=1):%H:%M}",
                               calendarId=taken.get("calendar_id"), patientName=patient_name, service=service)
    say("Assistant", spoken)
    if not joined.get("success"):
        raise SimulationFailed(f"join_waitlist failed: {joined}")

    print("\n--- the first caller cancels (the front desk, by phone) ---", flush=True)
    admin("cancel_appointment", appointment_id=taken["appointment_id"], org_id=org, reason="cannot come",
          staff_user="simulate-call")
    offer = _wait_for("the waitlist offer SMS (the worker sends it on its next round)",
                      lambda: next((b for b in _texts_to(outbox, caller, mark) if "Reply BOOK" in b), None), 30)
    say("SMS", offer)
    say("Caller", "BOOK")
    answer = admin("record_inbound_sms", to_number=clinic.get("sms_from") or clinic["phone"], from_number=caller,
                   body="BOOK", message_sid=f"SMsim{uuid.uuid4().hex}")
    if answer.get("reply"):
        say("SMS", answer["reply"])
    booked = admin("list_waitlist", org_id=org, status="booked")["entries"]
    mine = next((e for e in booked if e["waitlist_id"] == joined["waitlistId"]), None)
    if not mine or not mine.get("appointment_id"):
        raise SimulationFailed(f"the BOOK reply did not book the freed time: {answer}")
    appointment = _wait_for("the confirmation SMS to be sent", lambda: (
        a if (a := admin("get_appointment", appointment_id=mine["appointment_id"], org_id=org))
        ["confirmation_sms"]["status"] in ("sent", "delivered") else None))
    say("SMS", next(b for b in _texts_to(outbox, caller, mark) if b.startswith("Your appointment is confirmed")))
    print(f"\nOK: waitlist appointment {appointment['appointment_id']} confirmed for {appointment['local_time']} "
          f"(the time {first['appointment']['appointment_id']} freed); confirmation SMS "
          f"{appointment['confirmation_sms']['status']}.", flush=True)
    return 0


def main(args) -> int:
    day = date.fromisoformat(args.date) if args.date else None
    try:
        if args.race:
            return race(args.base_url, Path(args.data_dir), day, args.clinic_phone, args.race, args.service)
        if getattr(args, "waitlist", False):
            return waitlist(args.base_url, Path(args.data_dir), day, args.clinic_phone, args.patient_name,
                            args.patient_phone or f"+1555555{random.randint(100, 199):04d}", args.service)
        if getattr(args, "returning", False):
            return returning(args.base_url, Path(args.data_dir), day, args.clinic_phone, args.patient_name,
                             args.patient_phone or f"+1555555{random.randint(100, 199):04d}", args.service)
        return simulate(args.base_url, Path(args.data_dir), day, args.clinic_phone, args.patient_name,
                        args.patient_phone or f"+1555555{random.randint(100, 199):04d}", args.service)
    except SimulationFailed as exc:
        print(f"voxbook simulate-call: FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    except ApiError as exc:   # --patient-phone is no possible number in the clinic's country
        print(f"voxbook simulate-call: --patient-phone: {exc.message}. {exc.hint}", file=sys.stderr, flush=True)
        return 2
