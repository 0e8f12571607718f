"""A Spanish-speaking caller books end to end over HTTP (issue 13): a clinic in Mexico City (locale es-MX, offering
Spanish and English), the assistant's language detection, the tool answers, the code SMS, the confirmation and the
reminder -- queued by the booking, and again by a staff reschedule days later, another path -- all in Spanish with
the times as es-MX writes them, counted at the fake Twilio. And what does not change: a clinic that does not offer
a language answers in its own."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton

from clinic_helpers import new_clinic
from fake_twilio import FakeTwilio
from sms_helpers import new_phone, run_once, settings_for
from vapi_helpers import AUTH, day, result_of, results, spoken, tc, tool_calls
from voxbook.locale_data import plain

MX = "America/Mexico_City"
FOLD = str.maketrans("áíóúÁÍÓÚ", "aiouAIOU")   # what GSM-7 lacks of Spanish (db/functions/16_messages_es.sql)
STOP_ES = "Responda STOP para no recibir mas mensajes."


@pytest.fixture
def fake():
    with FakeTwilio() as f:
        yield f


def hook(client, payload):
    r = client.post("/vapi/webhook", json=payload, headers=AUTH)
    assert r.status_code == 200, r.text
    return r


def message(phone: str, kind: str, vapi_call: str, caller: str, **fields) -> dict:
    """A non-tool message of a call (assistant-request, language-change-detected), with Vapi's envelope."""
    payload = tool_calls(phone, [], vapi_call=vapi_call, caller=caller)
    msg = payload["message"]
    msg.pop("toolCallList")
    msg["type"] = kind
    msg.update(fields)
    return payload


def es_mx(instant: str) -> tuple[str, str, str]:
    """(day, day and time, spoken time) of an instant in Mexico City, as babel writes them for es_MX (CLDR:
    12-hour clock with a.m./p.m.; no "at" word, the date and time joined by ", ")."""
    local = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(ZoneInfo(MX))
    day_ = plain(format_skeleton("MMMEd", local, locale="es_MX"))
    time_ = plain(format_skeleton("hm", local, locale="es_MX"))
    said = plain(format_skeleton("h" if local.minute == 0 else "hm", local, locale="es_MX"))
    return day_, f"{day_}, {time_}", said


def bodies(fake: FakeTwilio, to: str) -> list[str]:
    return [p["params"]["Body"] for p in fake.posts_for(to)]


def test_spanish_caller_books_end_to_end(client, db, fake, app_database_url):
    org, phone = new_clinic(db, "Clínica Sonrisa", sms_from=new_phone(), locale="es-MX", languages=["es", "en"],
                            time_zone=MX)
    caller, vapi_call = new_phone(), "call-es-" + secrets.token_hex(4)
    worker = settings_for(fake, app_database_url)

    # The assistant Vapi asks for: Spanish prompt and greeting, multilingual transcriber and voice.
    assistant = hook(client, message(phone, "assistant-request", vapi_call, caller)).json()["assistant"]
    assert assistant["firstMessage"].startswith("¡Hola, gracias por llamar a Clínica Sonrisa!")
    assert assistant["transcriber"] == {"provider": "deepgram", "model": "nova-2", "language": "multi"}
    assert assistant["voice"] == {"provider": "azure", "voiceId": "multilingual-auto"}
    assert "language-change-detected" in assistant["serverMessages"]
    assert "Usted es la recepcionista de Clínica Sonrisa" in assistant["model"]["messages"][0]["content"]

    # The transcriber heard Spanish.
    assert hook(client, message(phone, "language-change-detected", vapi_call, caller, language="es")).json() == {}
    assert db.execute("SELECT locale FROM voxbook.call_locales WHERE org_id = %s AND vapi_call_id = %s",
                      (org, vapi_call)).fetchone()["locale"] == "es-MX"

    def tool(name: str, args: dict) -> tuple[dict, str]:
        [item] = results(hook(client, tool_calls(phone, [tc("tc-" + secrets.token_hex(4), name, args)],
                                                 vapi_call=vapi_call, caller=caller)))
        return result_of(item), spoken(item)

    avail, said = tool("check_availability", {"date": day(), "service": "consultation"})
    first = avail["slots"][0]
    day_es, _, first_said = es_mx(first["time"])
    assert said.startswith(f"El {day_es} tenemos {first_said}"), said
    assert said.endswith("También hay otros horarios, si ninguno de esos le conviene.")

    held, said = tool("reserve_atomic", {"slotId": first["time"], "calendarId": first["calendarId"],
                                         "patientName": "Ana López", "service": "consultation"})
    assert held["success"], held
    _, when_es, _ = es_mx(first["time"])
    assert said == f"Le reservé el {when_es} con {first['provider']}."

    sent, said = tool("send_otp_code", {"holdId": held["holdId"]})
    assert sent["success"] and said == ("Le acabo de enviar por mensaje de texto un código de 6 dígitos. "
                                        "Por favor, léamelo.")
    run_once(worker)
    [code_sms] = bodies(fake, caller)
    m = re.fullmatch(r"([0-9]{6}) es su codigo de Clinica Sonrisa para confirmar su cita\. Vence en [0-9]+ minutos\.",
                     code_sms)
    assert m, code_sms

    booked, said = tool("verify_otp", {"holdId": held["holdId"], "providedOTP": m.group(1)})
    assert booked["success"], booked
    assert said == f"¡Perfecto! Su cita quedó reservada para el {when_es} con {first['provider']}."
    _, said = tool("send_confirmation_sms", {"appointmentId": booked["appointmentId"]})
    assert said == "¡Perfecto! Revise su mensaje de texto con los detalles."
    run_once(worker)
    confirmation = bodies(fake, caller)[1]
    assert confirmation.startswith(f"Su cita esta confirmada: {when_es.translate(FOLD)} con {first['provider']}. "
                                   "Clinica Sonrisa, "), confirmation
    assert confirmation.endswith("Responda C para confirmar o R para cambiarla. Llame para cancelar. " + STOP_ES)

    # The reminder, queued at the booking for reminder_hours before: sent when its time comes (brought to now).
    db.execute("UPDATE voxbook.sms_outbox SET send_after = now() WHERE org_id = %s AND appointment_id = %s "
               "AND kind = 'reminder' AND status = 'queued'", (org, booked["appointmentId"]))
    run_once(worker)
    reminder = bodies(fake, caller)[2]
    assert reminder.startswith(f"Recordatorio: su cita es el {when_es.translate(FOLD)} con {first['provider']}."), reminder
    assert reminder.endswith(STOP_ES)

    # Days later the front desk moves it (no call, no language given): the appointment keeps the caller's.
    later = avail["slots"][-1]["time"]
    moved = db.execute("SELECT api.reschedule_appointment(%s, %s, %s) AS r",
                       (booked["appointmentId"], org, later)).fetchone()["r"]
    assert moved["success"], moved
    db.execute("UPDATE voxbook.sms_outbox SET send_after = now() WHERE org_id = %s AND appointment_id = %s "
               "AND kind = 'reminder' AND status = 'queued'", (org, booked["appointmentId"]))
    run_once(worker)
    _, later_es, _ = es_mx(later)
    rest = bodies(fake, caller)[3:]
    assert sorted(b.split(" ", 1)[0] for b in rest) == ["Recordatorio:", "Su"], rest
    assert any(b.startswith(f"Su cita se cambió al {later_es}".translate(FOLD)) for b in rest), rest
    assert any(b.startswith(f"Recordatorio: su cita es el {later_es.translate(FOLD)}") for b in rest), rest

    # Five texts, all Spanish, all GSM-7 (one segment each but the reschedule's), counted at Twilio.
    assert len(bodies(fake, caller)) == 5
    rows = db.execute("SELECT kind, encoding, segments FROM voxbook.sms_outbox WHERE org_id = %s ORDER BY created_at",
                      (org,)).fetchall()
    assert {r["encoding"] for r in rows} == {"GSM-7"}, rows


def test_a_language_argument_and_a_language_not_offered(client, db):
    org, phone = new_clinic(db, "Bright Smile", languages=["en", "es"])
    vapi_call = "call-arg-" + secrets.token_hex(4)

    def said(args: dict, call: str = vapi_call) -> str:
        [item] = results(hook(client, tool_calls(phone, [tc("tc-" + secrets.token_hex(4), "check_availability",
                                                            {"date": day(), "maxSlots": 1, **args})], vapi_call=call)))
        return spoken(item)

    # a US clinic offering Spanish: the caller's language in the clinic's region, es-US (12-hour, a.m./p.m.)
    assert re.fullmatch(r"El [a-záéíóú]+, [0-9]{1,2} de [a-z]+ tenemos [0-9]{1,2}(:[0-9]{2})? [ap]\.m\. "
                        r"También hay otros horarios, si ninguno de esos le conviene\.", said({"language": "es"}))
    # the call keeps it for its next tool calls, without the argument
    assert said({}).startswith("El ")
    # a language the clinic does not offer: its default, English, as before
    assert said({"language": "fr"}, call="call-fr-" + secrets.token_hex(4)).startswith("On ")
    # a clinic offering English only: a detected Spanish changes nothing
    org2, phone2 = new_clinic(db, "English Only")
    call2 = "call-en-" + secrets.token_hex(4)
    hook(client, message(phone2, "language-change-detected", call2, "+15557654321", language="es"))
    [item] = results(hook(client, tool_calls(phone2, [tc("tc-" + secrets.token_hex(4), "check_availability",
                                                          {"date": day(), "maxSlots": 1})], vapi_call=call2)))
    assert spoken(item).startswith("On ")
