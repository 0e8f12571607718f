-- Returning callers (issue 15): a caller finds, cancels and moves their own appointments by voice.
-- Whose appointments: the phone number's (a contact is a number; find_patient, 40_appointments.sql). Which
-- number: the caller's own, as Vapi saw it (call.customer.number: caller_phone, passed by the adapter from the
-- webhook's call, never from the model), or one the caller names (phone) -- then only after a code texted to
-- THAT number was read back on this call (voxbook.caller_verifications, the code machinery of 30_codes.sql:
-- HMAC with the pepper, max_code_sends / max_code_attempts, the sliding windows of voxbook.code_events).
-- Cancelling and moving go through api.cancel_appointment / api.reschedule_appointment (the caller's path: no
-- staff_user, so the clinic's cancellation notice holds), for the appointment the caller means: its id from
-- find_my_appointments, its position in that list ("the second one") or its local date, time or weekday ("my
-- Tuesday one").

-- How long a code to prove a caller lives, and how long a proven number stays proven for the call.
CREATE FUNCTION internal.caller_code_minutes() RETURNS int
    LANGUAGE sql IMMUTABLE AS $$ SELECT 10 $$;
CREATE FUNCTION internal.caller_verified_for() RETURNS interval
    LANGUAGE sql IMMUTABLE AS $$ SELECT interval '4 hours' $$;


-- Whose appointments a call may see and change: subject is the number (E.164), verified whether the call may
-- (the caller's own number, or one this call proved with a code). subject NULL: no number at all (a withheld
-- caller who named none).
CREATE FUNCTION internal.my_identity(o voxbook.organizations, call_id text, caller_phone text, phone text,
                                     OUT subject text, OUT verified boolean)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    caller constant text := internal.normalize_phone(nullif(btrim(caller_phone), ''), o.country);
    now_ts constant timestamptz := internal.clock();
BEGIN
    subject := coalesce(internal.normalize_phone(nullif(btrim(phone), ''), o.country), caller);
    verified := coalesce(subject = caller, false);   -- never NULL: a withheld caller proves nothing
    IF subject IS NOT NULL AND NOT verified AND call_id IS NOT NULL THEN
        verified := EXISTS (SELECT 1 FROM voxbook.caller_verifications AS v
                             WHERE v.org_id = o.id AND v.vapi_call_id = internal.vapi_call_key(call_id)
                               AND v.phone = subject AND v.verified_at IS NOT NULL
                               AND v.verified_at > now_ts - internal.caller_verified_for());
    END IF;
END
$$;


-- The number's upcoming confirmed appointments, soonest first, numbered from 1 ("position": what the caller
-- means by "the second one"), with times in the call's language.
CREATE FUNCTION internal.my_upcoming(o voxbook.organizations, subject text, call_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    now_ts constant timestamptz := internal.clock();
    loc constant jsonb := internal.field_locale(o.locale, internal.call_locale(o, call_id));
    result jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'position', x.n, 'appointment_id', x.id, 'patient_name', x.patient_name,
               'calendar_id', x.calendar_id, 'provider', x.provider, 'service', x.service_id,
               'service_name', x.service_name,
               'starts_at', internal.utc_iso(x.starts_at), 'ends_at', internal.utc_iso(x.ends_at),
               'local_time', internal.local_text(x.starts_at, o.time_zone, loc),
               'day', internal.local_day(x.starts_at, o.time_zone, loc),
               'spoken_time', internal.spoken_time(x.starts_at, o.time_zone, loc)) ORDER BY x.n), '[]')
      INTO result
      FROM (SELECT row_number() OVER (ORDER BY h.starts_at, a.id) AS n, a.id,
                   coalesce(a.patient_name, ct.name) AS patient_name, h.calendar_id, c.display_name AS provider,
                   a.service_id, sv.name AS service_name, h.starts_at, h.ends_at
              FROM voxbook.contacts AS ct
              JOIN voxbook.appointments AS a ON a.org_id = ct.org_id AND a.contact_id = ct.id
              JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
              JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
              LEFT JOIN voxbook.services AS sv ON sv.org_id = a.org_id AND sv.id = a.service_id
             WHERE ct.org_id = o.id AND ct.phone = subject AND a.status = 'confirmed' AND h.starts_at >= now_ts
             ORDER BY h.starts_at, a.id
             LIMIT 20) AS x;
    RETURN result;
END
$$;


-- A weekday as a caller says it (English or Spanish, full or short, accents optional): its ISO number, or NULL.
CREATE FUNCTION internal.weekday_number(word text) RETURNS int
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    w constant text := translate(lower(btrim(coalesce(word, ''))), 'áéíóú', 'aeiou');
BEGIN
    RETURN CASE WHEN w IN ('monday', 'mon', 'lunes', 'lun') THEN 1
                WHEN w IN ('tuesday', 'tue', 'tues', 'martes', 'mar') THEN 2
                WHEN w IN ('wednesday', 'wed', 'miercoles', 'mie') THEN 3
                WHEN w IN ('thursday', 'thu', 'thur', 'thurs', 'jueves', 'jue') THEN 4
                WHEN w IN ('friday', 'fri', 'viernes', 'vie') THEN 5
                WHEN w IN ('saturday', 'sat', 'sabado', 'sab') THEN 6
                WHEN w IN ('sunday', 'sun', 'domingo', 'dom') THEN 7 END;
END
$$;


-- The appointment a caller means, among the number's upcoming ones (list, from internal.my_upcoming): by id
-- (one find_my_appointments gave), by position (1-based), or by when (the local date 'YYYY-MM-DD', a date and a
-- time 'YYYY-MM-DD HH:MM', a time 'HH:MM', or a weekday 'Tuesday'); nothing given and a single appointment:
-- that one. Returns {"appointment_id"}, or a refusal: "no_appointments", "not_found", or "ambiguous" with the
-- candidates as "appointments" (the assistant asks which). VB400 for a "which" that is not a position or an
-- "at" that is none of those forms.
CREATE FUNCTION internal.pick_my_appointment(list jsonb, tz text, appointment_id uuid, which int, at text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    heard constant text := lower(btrim(coalesce(at, '')));
    on_date date;
    at_time time;
    dow int;
    m text[];
    found jsonb;
BEGIN
    IF jsonb_array_length(list) = 0 THEN
        RETURN internal.refusal('no_appointments', internal.message('refusal.no_appointments', 'en'));
    END IF;
    IF appointment_id IS NOT NULL THEN
        SELECT coalesce(jsonb_agg(e), '[]') INTO found FROM jsonb_array_elements(list) AS e
         WHERE e->>'appointment_id' = appointment_id::text;
    ELSIF which IS NOT NULL THEN
        IF which < 1 THEN
            PERFORM internal.fail('VB400', 'which must be a position from 1', 'Give 1 for the first appointment find_my_appointments listed, 2 for the second, ...');
        END IF;
        SELECT coalesce(jsonb_agg(e), '[]') INTO found FROM jsonb_array_elements(list) AS e
         WHERE (e->>'position')::int = which;
    ELSIF heard <> '' THEN
        m := regexp_match(heard, '^(\d{4}-\d{2}-\d{2})(?:[t ](\d{1,2}:\d{2})(?::\d{2})?)?$');
        IF m IS NOT NULL THEN
            on_date := m[1]::date;
            at_time := m[2]::time;
            PERFORM internal.require_date(on_date, 'at');
        ELSIF heard ~ '^\d{1,2}:\d{2}$' THEN
            at_time := heard::time;
        ELSE
            dow := internal.weekday_number(heard);
            IF dow IS NULL THEN
                PERFORM internal.fail('VB400', 'at is not a date, a time or a weekday',
                                      'Give the local date (2030-01-15), a date and time (2030-01-15 10:00), a time (10:00) or a weekday (Tuesday).');
            END IF;
        END IF;
        SELECT coalesce(jsonb_agg(e ORDER BY (e->>'position')::int), '[]') INTO found
          FROM jsonb_array_elements(list) AS e
         WHERE (on_date IS NULL OR ((e->>'starts_at')::timestamptz AT TIME ZONE tz)::date = on_date)
           AND (at_time IS NULL OR ((e->>'starts_at')::timestamptz AT TIME ZONE tz)::time = at_time)
           AND (dow IS NULL OR extract(isodow FROM (e->>'starts_at')::timestamptz AT TIME ZONE tz) = dow);
    ELSE
        found := list;
    END IF;
    IF jsonb_array_length(found) = 0 THEN
        RETURN internal.refusal('not_found', internal.message('refusal.my_appointment_not_found', 'en'),
                                jsonb_build_object('appointments', list));
    END IF;
    IF jsonb_array_length(found) > 1 THEN
        RETURN internal.refusal('ambiguous', internal.message('refusal.my_appointment_ambiguous', 'en'),
                                jsonb_build_object('appointments', found));
    END IF;
    RETURN jsonb_build_object('appointment_id', found->0->>'appointment_id');
END
$$;


-- Texts a code to the number a caller named, for this call. Uniform whether or not the number has appointments
-- here (the answer never tells a stranger that): a number without any gets no text, but the same answer, and
-- counts against the same limits. Returns the "verification_required" answer, or a refusal (codes_unavailable,
-- destination_not_allowed, resend_limit, rate_limited).
CREATE FUNCTION internal.send_caller_code(o voxbook.organizations, call_id text, number text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    call_key constant text := internal.vapi_call_key(call_id);
    now_ts constant timestamptz := internal.clock();
    pepper constant bytea := internal.code_pepper();
    salt constant bytea := gen_random_bytes(16);
    expires constant timestamptz := now_ts + make_interval(mins => internal.caller_code_minutes());
    v voxbook.caller_verifications;
    code text;
    limited jsonb;
    m voxbook.sms_outbox;
    on_file boolean;
BEGIN
    IF pepper IS NULL THEN
        RETURN internal.codes_unavailable(NULL) - 'hold_id';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM unnest(coalesce(o.allowed_sms_calling_codes, ARRAY[o.country_code])) AS p
                    WHERE starts_with(number, '+' || p)) THEN
        RETURN internal.refusal('destination_not_allowed', internal.message('refusal.destination_not_allowed', 'en'));
    END IF;
    -- The row of (call, number), locked: parallel sends of one call for one number wait for each other.
    INSERT INTO voxbook.caller_verifications AS x (org_id, vapi_call_id, phone, created_at, updated_at)
    VALUES (o.id, call_key, number, now_ts, now_ts)
    ON CONFLICT ON CONSTRAINT caller_verifications_once DO NOTHING;
    SELECT * INTO v FROM voxbook.caller_verifications AS x
     WHERE x.org_id = o.id AND x.vapi_call_id = call_key AND x.phone = number FOR UPDATE;
    IF v.otp_sends >= o.max_code_sends THEN
        RETURN internal.refusal('resend_limit', internal.message('refusal.resend_limit', 'en'),
                                jsonb_build_object('sends_left', 0));
    END IF;
    limited := internal.code_rate_limit(o, 'send', number, call_key, NULL, now_ts);
    IF limited IS NOT NULL THEN
        RETURN limited - 'hold_id';
    END IF;
    code := lpad(((('x' || encode(gen_random_bytes(8), 'hex'))::bit(64)::bigint & 9223372036854775807)
                  % (10 ^ o.code_length)::bigint)::text, o.code_length, '0');
    -- A code of this call for this number still waiting to go out is superseded: only the newest one verifies.
    UPDATE voxbook.sms_outbox AS x
       SET status = 'cancelled', skip_reason = 'superseded by a new code', updated_at = now_ts,
           body = internal.redact_sms(x.body)
     WHERE x.org_id = o.id AND x.kind = 'otp' AND x.hold_id IS NULL AND x.recipient = number
       AND x.status = 'queued' AND x.created_at >= v.created_at;
    UPDATE voxbook.caller_verifications AS x
       SET otp_salt = salt, otp_hash = internal.code_hash(salt, code, pepper), otp_sends = x.otp_sends + 1,
           otp_attempts = 0, sent_at = now_ts, expires_at = expires, updated_at = now_ts
     WHERE x.org_id = v.org_id AND x.id = v.id
    RETURNING x.* INTO v;
    INSERT INTO voxbook.code_events (org_id, kind, at, phone, vapi_call_id, hold_id)
    VALUES (o.id, 'send', now_ts, number, call_key, NULL);
    on_file := EXISTS (SELECT 1 FROM voxbook.contacts AS ct
                         JOIN voxbook.appointments AS a ON a.org_id = ct.org_id AND a.contact_id = ct.id
                        WHERE ct.org_id = o.id AND ct.phone = number);
    IF on_file THEN
        m := internal.queue_sms(o.id, 'otp', number,
                                internal.gsm7(internal.message('sms.caller_code',
                                                               internal.call_locale(o, call_id),
                                                               jsonb_build_object('code', code, 'clinic', o.name,
                                                                                  'minutes', internal.caller_code_minutes()))),
                                expires_at => expires, redact_after_send => true);
    END IF;
    RETURN jsonb_build_object('success', false, 'code', 'verification_required',
                              'error', internal.message('refusal.verification_required.sent', 'en'),
                              'code_sent', true, 'phone_masked', internal.mask_phone(number),
                              'sends_left', o.max_code_sends - v.otp_sends, 'code_length', o.code_length,
                              'expires_at', internal.utc_iso(expires));
END
$$;


-- Checks the code a caller read back for the number they named: NULL when it matches (the call is then
-- proven for that number), else the refusal (no_code, code_expired, codes_unavailable, rate_limited,
-- malformed_code, wrong_code with retries_left, attempts_exhausted).
CREATE FUNCTION internal.check_caller_code(o voxbook.organizations, call_id text, number text, code text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    call_key constant text := internal.vapi_call_key(call_id);
    now_ts constant timestamptz := internal.clock();
    pepper constant bytea := internal.code_pepper();
    given constant text := regexp_replace(coalesce(code, ''), '[\s-]', '', 'g');
    v voxbook.caller_verifications;
    limited jsonb;
    left_ int;
BEGIN
    -- The row lock serialises parallel guesses, so the attempt limit cannot be outrun.
    SELECT * INTO v FROM voxbook.caller_verifications AS x
     WHERE x.org_id = o.id AND x.vapi_call_id = call_key AND x.phone = number FOR UPDATE;
    IF NOT FOUND OR v.otp_hash IS NULL THEN
        RETURN internal.refusal('no_code', internal.message('refusal.no_code', 'en'));
    END IF;
    IF v.expires_at <= now_ts THEN
        RETURN internal.refusal('code_expired', internal.message('refusal.code_expired', 'en'));
    END IF;
    IF pepper IS NULL THEN
        RETURN internal.codes_unavailable(NULL) - 'hold_id';
    END IF;
    limited := internal.code_rate_limit(o, 'failure', number, call_key, NULL, now_ts);
    IF limited IS NOT NULL THEN
        RETURN (limited - 'hold_id') || jsonb_build_object('retries_left', greatest(o.max_code_attempts - v.otp_attempts, 0));
    END IF;
    IF given !~ '^[0-9]{4,8}$' THEN
        RETURN internal.refusal('malformed_code', internal.message('refusal.malformed_code', 'en'),
                                jsonb_build_object('retries_left', greatest(o.max_code_attempts - v.otp_attempts, 0)));
    END IF;
    IF internal.code_hash(v.otp_salt, given, pepper) = v.otp_hash THEN
        UPDATE voxbook.caller_verifications AS x
           SET verified_at = now_ts, otp_attempts = x.otp_attempts + 1, otp_hash = NULL, otp_salt = NULL,
               updated_at = now_ts
         WHERE x.org_id = v.org_id AND x.id = v.id;
        RETURN NULL;
    END IF;
    UPDATE voxbook.caller_verifications AS x SET otp_attempts = x.otp_attempts + 1, updated_at = now_ts
     WHERE x.org_id = v.org_id AND x.id = v.id
    RETURNING x.* INTO v;
    INSERT INTO voxbook.code_events (org_id, kind, at, phone, vapi_call_id, hold_id)
    VALUES (o.id, 'failure', now_ts, number, call_key, NULL);
    left_ := greatest(o.max_code_attempts - v.otp_attempts, 0);
    IF left_ = 0 THEN
        -- Out of attempts: this code is dead; a new one may be asked for (within max_code_sends).
        UPDATE voxbook.caller_verifications AS x SET otp_hash = NULL, otp_salt = NULL, updated_at = now_ts
         WHERE x.org_id = v.org_id AND x.id = v.id;
        RETURN internal.refusal('attempts_exhausted', internal.message('refusal.attempts_exhausted.caller', 'en'),
                                jsonb_build_object('retries_left', 0));
    END IF;
    RETURN internal.refusal('wrong_code', internal.message('refusal.wrong_code', 'en'),
                            jsonb_build_object('retries_left', left_));
END
$$;


-- The call's right to act for a number, or why not (a refusal: phone_needed, verification_required).
CREATE FUNCTION internal.my_access(o voxbook.organizations, call_id text, caller_phone text, phone text,
                                   OUT subject text, OUT refused jsonb)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    ok boolean;
BEGIN
    SELECT i.subject, i.verified INTO subject, ok FROM internal.my_identity(o, call_id, caller_phone, phone) AS i;
    IF subject IS NULL THEN
        refused := internal.refusal('phone_needed', internal.message('refusal.phone_needed', 'en'));
    ELSIF NOT ok THEN
        refused := internal.refusal('verification_required', internal.message('refusal.verification_required', 'en'),
                                    jsonb_build_object('code_sent', false, 'phone_masked', internal.mask_phone(subject)));
    END IF;
END
$$;


CREATE FUNCTION api.find_my_appointments(org_id uuid, call_id text DEFAULT NULL, caller_phone text DEFAULT NULL,
                                         phone text DEFAULT NULL, code text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    who record;
    refused jsonb;
    list jsonb;
BEGIN
    SELECT * INTO who FROM internal.my_identity(o, call_id, caller_phone, phone) AS i;
    IF who.subject IS NULL THEN
        RETURN internal.refusal('phone_needed', internal.message('refusal.phone_needed', 'en'));
    END IF;
    IF NOT who.verified THEN
        IF nullif(btrim(call_id), '') IS NULL THEN
            PERFORM internal.fail('VB400', 'call_id is required to verify a caller',
                                  'Pass Vapi''s call.id: the code proves the number for that call.');
        END IF;
        IF nullif(btrim(code), '') IS NULL THEN
            RETURN internal.send_caller_code(o, call_id, who.subject);
        END IF;
        refused := internal.check_caller_code(o, call_id, who.subject, code);
        IF refused IS NOT NULL THEN
            RETURN refused;
        END IF;
    END IF;
    list := internal.my_upcoming(o, who.subject, call_id);
    RETURN jsonb_build_object('success', true, 'time_zone', o.time_zone, 'phone_masked', internal.mask_phone(who.subject),
                              'verified_by', CASE WHEN who.verified   -- a stray code with a trusted caller id is never checked
                                                       AND who.subject = internal.normalize_phone(nullif(btrim(caller_phone), ''), o.country)
                                                  THEN 'caller_id' ELSE 'code' END,
                              'appointments', list);
END
$$;
COMMENT ON FUNCTION api.find_my_appointments(uuid, text, text, text, text) IS
$$A caller's upcoming appointments (the voice tool find_my_appointments), by phone number: the caller's own
(caller_phone: Vapi's call.customer.number, which the adapter passes from the webhook's call, never from the
model) or, from a withheld or another number, the one they name (phone) once proven: the first call without code
texts a one-time code to THAT number (uniform answer, whether or not it has appointments here), the call with
the code read back (code) proves it for this call (call_id: Vapi's call.id) and lists. Codes as api.send_otp_code:
HMAC with the pepper, max_code_sends and max_code_attempts per (call, number), the code_* sliding windows, only
the clinic's allowed calling codes; a code lives 10 minutes.
Returns {"success": true, "time_zone", "phone_masked", "verified_by": "caller_id" | "code", "appointments":
[{"position" (1 = soonest), "appointment_id", "patient_name", "calendar_id", "provider", "service",
"service_name", "starts_at", "ends_at", "local_time", "day", "spoken_time"}]} (at most 20), or {"success": false,
"code": "verification_required" (with "code_sent", "phone_masked", "sends_left", "code_length", "expires_at") |
"phone_needed" (no number at all) | "no_code" | "code_expired" | "wrong_code" (with "retries_left") |
"attempts_exhausted" | "malformed_code" | "resend_limit" | "rate_limited" | "destination_not_allowed" |
"codes_unavailable", "error"}.
Errors: VB404 unknown org; VB400 a malformed phone, no call_id when a code is needed.
Example: SELECT api.find_my_appointments('a0000000-0000-0000-0000-000000000001', 'call-123', '+15555550123');$$;


CREATE FUNCTION api.cancel_my_appointment(org_id uuid, call_id text DEFAULT NULL, caller_phone text DEFAULT NULL,
                                          phone text DEFAULT NULL, appointment_id uuid DEFAULT NULL,
                                          which int DEFAULT NULL, at text DEFAULT NULL, reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    access record;
    picked jsonb;
BEGIN
    SELECT * INTO access FROM internal.my_access(o, call_id, caller_phone, phone) AS x;
    IF access.refused IS NOT NULL THEN
        RETURN access.refused;
    END IF;
    picked := internal.pick_my_appointment(internal.my_upcoming(o, access.subject, call_id), o.time_zone,
                                           appointment_id, which, at);
    IF NOT picked ? 'appointment_id' THEN
        RETURN picked || jsonb_build_object('time_zone', o.time_zone);
    END IF;
    -- The caller's path: no staff_user, so the clinic's cancellation notice holds; patient_phone: it must be
    -- this number's (checked again under the appointment's row lock).
    RETURN api.cancel_appointment((picked->>'appointment_id')::uuid, o.id,
                                  coalesce(nullif(btrim(reason), ''), 'cancelled by the patient by phone'),
                                  patient_phone => access.subject);
END
$$;
COMMENT ON FUNCTION api.cancel_my_appointment(uuid, text, text, text, uuid, int, text, text) IS
$$Cancels one of a caller's upcoming appointments (the voice tool cancel_my_appointment). The caller as in
api.find_my_appointments: their own number (caller_phone, from Vapi's call), or a number this call proved with a
code (phone). The appointment: appointment_id (from find_my_appointments), or which (its position there, 1 =
soonest), or at (local 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM', 'HH:MM' or a weekday, English or Spanish); nothing and a
single upcoming appointment: that one. Then exactly api.cancel_appointment on the caller's path (the clinic's
cancellation notice holds, the time is free at once, the cancellation SMS queued), in one transaction.
Returns api.cancel_appointment's result, or {"success": false, "code": "verification_required" (with
"code_sent": false: ask find_my_appointments with phone for a code) | "phone_needed" | "no_appointments" |
"not_found" | "ambiguous" (with the candidates as "appointments") | "within_notice", "error", ...}.
Errors: VB404 unknown org or appointment; VB400 a malformed phone, which below 1, an unreadable at.
Example: SELECT api.cancel_my_appointment('a0000000-0000-0000-0000-000000000001', 'call-123', '+15555550123', at => 'Tuesday');$$;


CREATE FUNCTION api.reschedule_my_appointment(org_id uuid, slot_time timestamptz, call_id text DEFAULT NULL,
                                              caller_phone text DEFAULT NULL, phone text DEFAULT NULL,
                                              appointment_id uuid DEFAULT NULL, which int DEFAULT NULL,
                                              at text DEFAULT NULL, calendar_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    access record;
    picked jsonb;
BEGIN
    PERFORM internal.require_instant(slot_time, 'slot_time');
    SELECT * INTO access FROM internal.my_access(o, call_id, caller_phone, phone) AS x;
    IF access.refused IS NOT NULL THEN
        RETURN access.refused;
    END IF;
    picked := internal.pick_my_appointment(internal.my_upcoming(o, access.subject, call_id), o.time_zone,
                                           appointment_id, which, at);
    IF NOT picked ? 'appointment_id' THEN
        RETURN picked || jsonb_build_object('time_zone', o.time_zone);
    END IF;
    -- The caller's path (no staff_user): the notice holds; the new time is claimed before the old is freed.
    RETURN api.reschedule_appointment((picked->>'appointment_id')::uuid, o.id, slot_time, calendar_id,
                                      patient_phone => access.subject);
END
$$;
COMMENT ON FUNCTION api.reschedule_my_appointment(uuid, timestamptz, text, text, text, uuid, int, text, text) IS
$$Moves one of a caller's upcoming appointments to slot_time (a "time" from api.check_availability; the voice
tool reschedule_my_appointment), optionally to calendar_id. The caller and the appointment as in
api.cancel_my_appointment; then exactly api.reschedule_appointment on the caller's path (the clinic's
cancellation notice holds; the new time is claimed before the old one is freed, atomically; the patient is
texted). Returns api.reschedule_appointment's result (a taken time: "slot_taken" with "alternatives"), or the
refusals of api.cancel_my_appointment.
Errors: VB404 unknown org, appointment or calendar; VB400 slot not bookable, a malformed phone, which below 1, an
unreadable at.
Example: SELECT api.reschedule_my_appointment('a0000000-0000-0000-0000-000000000001', '2030-01-16T15:00:00Z',
         'call-123', '+15555550123', which => 1);$$;


CREATE FUNCTION api.caller_greeting(org_id uuid, caller_phone text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    caller text;
    now_ts constant timestamptz := internal.clock();
    loc constant jsonb := internal.field_locale(o.locale);
    who text;
    starts timestamptz;
BEGIN
    -- A withheld or unreadable caller ID is nobody known, never an error: the call goes on as a new caller's.
    BEGIN
        caller := internal.normalize_phone(nullif(btrim(caller_phone), ''), o.country);
    EXCEPTION WHEN sqlstate 'VB400' THEN
        caller := NULL;
    END;
    IF caller IS NOT NULL THEN
        SELECT coalesce(a.patient_name, ct.name), h.starts_at INTO who, starts
          FROM voxbook.contacts AS ct
          JOIN voxbook.appointments AS a ON a.org_id = ct.org_id AND a.contact_id = ct.id
          JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
         WHERE ct.org_id = o.id AND ct.phone = caller AND a.status = 'confirmed' AND h.starts_at >= now_ts
         ORDER BY h.starts_at, a.id LIMIT 1;
        IF who IS NULL THEN
            SELECT ct.name INTO who FROM voxbook.contacts AS ct WHERE ct.org_id = o.id AND ct.phone = caller;
        END IF;
    END IF;
    IF who IS NULL AND starts IS NULL THEN
        RETURN jsonb_build_object('success', true, 'known', false);
    END IF;
    RETURN jsonb_build_object('success', true, 'known', true,
                              'first_name', nullif(split_part(btrim(coalesce(who, '')), ' ', 1), ''),
                              'next_appointment', CASE WHEN starts IS NOT NULL THEN jsonb_build_object(
                                  'starts_at', internal.utc_iso(starts),
                                  'day', internal.local_day(starts, o.time_zone, loc),
                                  'spoken_time', internal.spoken_time(starts, o.time_zone, loc)) END);
END
$$;
COMMENT ON FUNCTION api.caller_greeting(uuid, text) IS
$$Who is calling back, for the assistant's greeting (the webhook's assistant-request): from the caller's own
number (caller_phone: Vapi's call.customer.number, never one the caller says), only the first name and the day
and time of the next appointment -- nothing more personal before the caller is verified.
Returns {"success": true, "known": false} (a new, withheld or unreadable number) or {"success": true, "known":
true, "first_name", "next_appointment": {"starts_at", "day", "spoken_time"} | null}.
Errors: VB404 unknown org.
Example: SELECT api.caller_greeting('a0000000-0000-0000-0000-000000000001', '+15555550123');$$;


-- The line the assistant says for a list of a caller's appointments (find_my_appointments' success, or the
-- candidates of an "ambiguous" or "not_found" pick), in the call's language: called by internal.spoken_line.
CREATE FUNCTION internal.my_appointments_line(function_name text, result jsonb, language text, tz text, loc jsonb)
    RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    list constant jsonb := coalesce(result->'appointments', '[]');
    n constant int := jsonb_array_length(list);
    times text;
    prefix text;
BEGIN
    IF n = 0 THEN
        RETURN internal.message('spoken.find_my_appointments.none', language);
    END IF;
    times := internal.or_list(ARRAY(
                 SELECT internal.message('spoken.my_appointment', language, jsonb_build_object(
                            'local_time', internal.local_text((e->>'starts_at')::timestamptz, tz, loc),
                            'provider', e->>'provider'))
                   FROM jsonb_array_elements(list) WITH ORDINALITY AS x(e, i) ORDER BY i), language);
    prefix := CASE WHEN result->>'code' = 'ambiguous' THEN 'spoken.my_appointments.ambiguous'
                   WHEN result->>'code' = 'not_found' THEN 'spoken.my_appointments.not_found'
                   WHEN n = 1 THEN 'spoken.find_my_appointments.one'
                   ELSE 'spoken.find_my_appointments.success' END;
    RETURN internal.message(prefix, language, jsonb_build_object('appointments', times, 'count', n));
END
$$;
