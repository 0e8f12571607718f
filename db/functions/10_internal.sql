-- Internal helpers of the api functions. They live in the private schema voxbook (not granted to
-- anyone) and run with the rights of the api function that calls them.

-- The one clock of the booking logic. Tests freeze it per transaction with
-- set_config('voxbook.frozen_now', '...', true) (see tests/helpers.pgsql); production never sets it.
CREATE OR REPLACE FUNCTION voxbook.clock() RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('voxbook.frozen_now', true), '')::timestamptz, now())
$$;

-- Errors for invalid requests. Their SQLSTATEs are the documented contract (db/README.md):
--   VB400 invalid parameter, VB404 unknown id (also: an id of another clinic), VB409 state conflict.
CREATE OR REPLACE FUNCTION voxbook.fail(code text, message text, hint text, detail text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint;
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint, DETAIL = detail;
END
$$;

CREATE OR REPLACE FUNCTION voxbook.require(value anyelement, what text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF value IS NULL THEN
        PERFORM voxbook.fail('VB400', what || ' is required', 'Pass ' || what || ' (named parameter).');
    END IF;
END
$$;

-- Accepts what people and models say: '+1 (555) 123-4567', '555.123.4567', '0044 20 7946 0958'.
-- National numbers without '+' get the clinic's country code; NANP (+1) numbers must have 10 digits.
CREATE OR REPLACE FUNCTION voxbook.normalize_phone(raw text, country_code text DEFAULT '1')
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    s text := regexp_replace(coalesce(raw, ''), '[\s().\-/]', '', 'g');
BEGIN
    IF raw IS NULL OR s = '' THEN
        RETURN NULL;
    END IF;
    IF s LIKE '00%' THEN
        s := '+' || substr(s, 3);
    ELSIF s !~ '^\+' THEN
        IF country_code = '1' AND s ~ '^1[0-9]{10}$' THEN
            s := '+' || s;
        ELSE
            s := '+' || country_code || s;
        END IF;
    END IF;
    IF s !~ '^\+[1-9][0-9]{7,14}$' OR (s LIKE '+1%' AND s !~ '^\+1[2-9][0-9]{9}$') THEN
        PERFORM voxbook.fail('VB400', 'malformed phone number',
                             'Give an E.164 number such as +15551234567 (spaces, dashes and brackets are fine).');
    END IF;
    RETURN s;
END
$$;

-- '+15551234567' -> '(555) 123-4567' for NANP numbers; others stay in E.164.
CREATE OR REPLACE FUNCTION voxbook.display_phone(e164 text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN e164 ~ '^\+1[0-9]{10}$'
                THEN format('(%s) %s-%s', substr(e164, 3, 3), substr(e164, 6, 3), substr(e164, 9, 4))
                ELSE e164 END
$$;

CREATE OR REPLACE FUNCTION voxbook.require_org(org_id uuid) RETURNS voxbook.organizations
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    o voxbook.organizations;
BEGIN
    PERFORM voxbook.require(org_id, 'org_id');
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = require_org.org_id;
    IF NOT FOUND THEN
        PERFORM voxbook.fail('VB404', 'unknown organization', 'Check org_id; api.find_organization(phone) looks a clinic up by its number.');
    END IF;
    RETURN o;
END
$$;

CREATE OR REPLACE FUNCTION voxbook.require_calendar(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    PERFORM voxbook.require(calendar_id, 'calendar_id');
    SELECT * INTO c FROM voxbook.calendars AS x
     WHERE x.org_id = require_calendar.org_id AND x.id = require_calendar.calendar_id AND x.active;
    IF NOT FOUND THEN
        PERFORM voxbook.fail('VB404', 'unknown calendar',
                             'Calendar ids are per clinic, e.g. cal-smith; api.check_availability lists them with their slots.');
    END IF;
    RETURN c;
END
$$;

-- The hold of this clinic, row-locked (the caller is about to change it), or VB404: another clinic's
-- hold id is as unknown as a made-up one.
CREATE OR REPLACE FUNCTION voxbook.lock_hold(org_id uuid, hold_id uuid) RETURNS voxbook.holds
    LANGUAGE plpgsql AS $$
DECLARE
    h voxbook.holds;
BEGIN
    PERFORM voxbook.require(hold_id, 'hold_id');
    SELECT * INTO h FROM voxbook.holds AS x
     WHERE x.org_id = lock_hold.org_id AND x.id = lock_hold.hold_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM voxbook.fail('VB404', 'unknown hold', 'Use the hold_id returned by api.claim_slot_atomic for this clinic.');
    END IF;
    RETURN h;
END
$$;

-- A service by id ('teeth-whitening') or by name, case-insensitively ('Teeth Whitening'); NULL for NULL.
CREATE OR REPLACE FUNCTION voxbook.find_service(org_id uuid, service text) RETURNS voxbook.services
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    s voxbook.services;
BEGIN
    IF service IS NULL OR btrim(service) = '' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO s FROM voxbook.services AS x
     WHERE x.org_id = find_service.org_id
       AND (x.id = lower(btrim(service)) OR lower(x.name) = lower(btrim(service))
            OR x.id = regexp_replace(lower(btrim(service)), '[^a-z0-9]+', '-', 'g'))
     ORDER BY x.id = lower(btrim(service)) DESC
     LIMIT 1;
    IF NOT FOUND THEN
        PERFORM voxbook.fail('VB404', 'unknown service',
                             'Use a service id or name of this clinic (see api.get_organization).', service);
    END IF;
    RETURN s;
END
$$;

-- Raises VB400 unless [starts_at, ends_at) is a slot the calendar offers: in the future beyond the
-- clinic's notice, within the booking horizon, inside one working interval of that local day,
-- on the slot grid, and clear of blocked periods. Holds are not looked at here: the exclusion
-- constraint decides those, atomically.
CREATE OR REPLACE FUNCTION voxbook.assert_bookable(o voxbook.organizations, c voxbook.calendars,
                                                   starts_at timestamptz, ends_at timestamptz)
    RETURNS void
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    now_ts    timestamptz := voxbook.clock();
    local_s   timestamp := starts_at AT TIME ZONE o.time_zone;
    local_e   timestamp := ends_at AT TIME ZONE o.time_zone;
    interval_start time;
    blocked   boolean;
    hint      text := 'Offer a time returned by api.check_availability.';
BEGIN
    IF starts_at < now_ts THEN
        PERFORM voxbook.fail('VB400', 'slot is in the past', hint);
    END IF;
    IF starts_at < now_ts + make_interval(mins => o.min_notice_minutes) THEN
        PERFORM voxbook.fail('VB400', format('slot is too soon: bookings need %s minutes notice', o.min_notice_minutes), hint);
    END IF;
    IF starts_at > now_ts + make_interval(days => o.booking_horizon_days) THEN
        PERFORM voxbook.fail('VB400', format('slot is too far ahead: bookings open %s days in advance', o.booking_horizon_days), hint);
    END IF;
    -- One statement for both lookups: this runs on every claim.
    SELECT (SELECT x.starts FROM voxbook.working_hours AS x
             WHERE x.org_id = o.id AND x.calendar_id = c.id
               AND x.iso_dow = extract(isodow FROM local_s)
               AND local_s::time >= x.starts
               AND local_e <= local_s::date + x.ends
             LIMIT 1),
           EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                    WHERE b.org_id = o.id AND b.calendar_id = c.id
                      AND b.during && tstzrange(starts_at, ends_at, '[)'))
      INTO interval_start, blocked;
    IF interval_start IS NULL THEN
        PERFORM voxbook.fail('VB400', format('slot is outside %s''s working hours', c.display_name), hint);
    END IF;
    IF (extract(epoch FROM local_s::time - interval_start)::bigint % (c.slot_minutes * 60)) <> 0 THEN
        PERFORM voxbook.fail('VB400', format('slot is not on the %s-minute grid of %s', c.slot_minutes, c.display_name), hint);
    END IF;
    IF blocked THEN
        PERFORM voxbook.fail('VB400', format('%s is not available then', c.display_name), hint);
    END IF;
END
$$;

-- 'Wed, Jan 15 at 10:00 AM' in the clinic's time zone.
CREATE OR REPLACE FUNCTION voxbook.local_text(ts timestamptz, tz text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'Dy, Mon FMDD "at" FMHH12:MI AM')
$$;

-- '10 AM', '3:30 PM': how the assistant says a time.
CREATE OR REPLACE FUNCTION voxbook.spoken_time(ts timestamptz, tz text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN extract(minute FROM ts AT TIME ZONE tz) = 0
                THEN to_char(ts AT TIME ZONE tz, 'FMHH12 AM')
                ELSE to_char(ts AT TIME ZONE tz, 'FMHH12:MI AM') END
$$;

-- ISO 8601 in UTC with a Z, the format tools and the seed use for slot ids.
-- Small SQL helpers here are declared no stricter than what they call (to_char, format and
-- jsonb_build_object are STABLE): only then does the planner inline them. A helper declared IMMUTABLE
-- over a STABLE call runs as a separate SQL function, parsed and planned again in every transaction
-- (seen with perf as base_yyparse in every claim).
CREATE OR REPLACE FUNCTION voxbook.utc_iso(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Keeps message text in the GSM-7 alphabet: one character outside it (an emoji, a curly quote)
-- makes the whole SMS UCS-2 and triples its cost. Names are folded to ASCII where GSM-7 lacks the letter.
CREATE OR REPLACE FUNCTION voxbook.gsm7(t text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(
             translate(t, '‘’‚“”„–—…ÀÁÂÃÈÊËÌÍÎÏÒÓÔÕÙÚÛÝáâãêëíîïóôõúûýÿçšžŠŽ',
                          '''''''"""--.AAAAEEEIIIIOOOOUUUYaaaeeiiiooouuyycszSZ'),
             '[^@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&''()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\\[~\]|€]',
             '?', 'g')
$$;

-- What a one-time code message keeps once it is sent, cancelled or skipped: no digits to reuse.
CREATE OR REPLACE FUNCTION voxbook.redact_sms(body text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(body, '[0-9]{4,}', '****', 'g')
$$;

-- Encoding and number of segments, as carriers bill them.
CREATE OR REPLACE FUNCTION voxbook.sms_parts(body text, OUT encoding text, OUT segments int)
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    septets int;
    units int;
BEGIN
    IF body = voxbook.gsm7(body) THEN
        encoding := 'GSM-7';
        septets := length(body) + length(regexp_replace(body, '[^\^{}\\\[~\]|€]', '', 'g'));
        segments := CASE WHEN septets <= 160 THEN 1 ELSE ceil(septets / 153.0)::int END;
    ELSE
        encoding := 'UCS-2';
        -- characters outside the Basic Multilingual Plane (emoji) take two UTF-16 units
        units := length(body) + length(regexp_replace(body, '[\u0001-\uFFFF]', '', 'g'));
        segments := CASE WHEN units <= 70 THEN 1 ELSE ceil(units / 67.0)::int END;
    END IF;
END
$$;

-- Queues one SMS (or records why it is skipped) in the caller's transaction.
CREATE OR REPLACE FUNCTION voxbook.queue_sms(org_id uuid, kind text, recipient text, body text,
                                             appointment_id uuid DEFAULT NULL, hold_id uuid DEFAULT NULL,
                                             send_after timestamptz DEFAULT NULL,
                                             expires_at timestamptz DEFAULT NULL,
                                             redact_after_send boolean DEFAULT false)
    RETURNS voxbook.sms_outbox
    LANGUAGE plpgsql AS $$
DECLARE
    m voxbook.sms_outbox;
    parts record;
    opted_out boolean;
BEGIN
    parts := voxbook.sms_parts(body);
    -- After STOP a number gets nothing from us (Twilio would refuse it with 21610 anyway).
    SELECT ct.sms_opted_out INTO opted_out FROM voxbook.contacts AS ct
     WHERE ct.org_id = queue_sms.org_id AND ct.phone = queue_sms.recipient;
    INSERT INTO voxbook.sms_outbox AS x (org_id, kind, appointment_id, hold_id, recipient, sender, body,
                                         redact_after_send, encoding, segments, status, skip_reason,
                                         send_after, expires_at)
    SELECT queue_sms.org_id, kind, appointment_id, hold_id, recipient, o.sms_from, body,
           redact_after_send, parts.encoding, parts.segments,
           CASE WHEN coalesce(opted_out, false) THEN 'skipped' ELSE 'queued' END,
           CASE WHEN coalesce(opted_out, false) THEN 'recipient opted out (STOP)' END,
           coalesce(send_after, now()), expires_at
      FROM voxbook.organizations AS o WHERE o.id = queue_sms.org_id
    RETURNING x.* INTO m;
    RETURN m;
END
$$;

DROP FUNCTION IF EXISTS voxbook.hold_json(voxbook.holds, text);   -- its former signature

-- PL/pgSQL rather than SQL: its expression plan is cached per session, and it takes the clinic and
-- calendar rows the caller already holds instead of reading them again (claims are the hot path).
CREATE OR REPLACE FUNCTION voxbook.hold_json(h voxbook.holds, o voxbook.organizations, c voxbook.calendars,
                                             message text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
        'success', true,
        'hold_id', h.id,
        'expires_at', voxbook.utc_iso(h.expires_at),
        'message', message,
        'status', h.status,
        'calendar_id', h.calendar_id,
        'provider', c.display_name,
        'starts_at', voxbook.utc_iso(h.starts_at),
        'ends_at', voxbook.utc_iso(h.ends_at),
        'local_time', voxbook.local_text(h.starts_at, o.time_zone),
        'spoken_time', voxbook.spoken_time(h.starts_at, o.time_zone));
END
$$;

-- Business outcomes that are not errors (a lost race, a wrong code) share one shape.
CREATE OR REPLACE FUNCTION voxbook.refusal(code text, error text, extra jsonb DEFAULT '{}') RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('success', false, 'code', code, 'error', error) || extra
$$;

-- Texts of appointment messages; GSM-7 only, patient messages end with the STOP line.
CREATE OR REPLACE FUNCTION voxbook.appointment_sms(kind text, org_id uuid, appointment_id uuid) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT voxbook.gsm7(format(
        CASE kind
            WHEN 'confirmation' THEN 'Your appointment is confirmed: %1$s with %2$s. %3$s, %4$s. Call to reschedule. Reply STOP to unsubscribe.'
            WHEN 'reminder'     THEN 'Reminder: your appointment is %1$s with %2$s. %3$s, %4$s. Call to reschedule. Reply STOP to unsubscribe.'
            WHEN 'cancellation' THEN 'Your appointment on %1$s with %2$s is cancelled. %3$s, %4$s. Call to book again. Reply STOP to unsubscribe.'
            WHEN 'reschedule'   THEN 'Your appointment is moved to %1$s with %2$s. %3$s, %4$s. Call with questions. Reply STOP to unsubscribe.'
        END,
        voxbook.local_text(h.starts_at, o.time_zone), c.display_name, o.name, voxbook.display_phone(o.phone)))
      FROM voxbook.appointments AS a
      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
      JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
      JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = appointment_sms.org_id AND a.id = appointment_sms.appointment_id
$$;

-- Queues the reminder for an appointment's current time, reminder_hours before it, unless that
-- moment has passed (a booking made for tomorrow morning gets its confirmation only).
CREATE OR REPLACE FUNCTION voxbook.schedule_reminder(org_id uuid, appointment_id uuid) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    due timestamptz;
    patient text;
BEGIN
    UPDATE voxbook.sms_outbox AS m SET status = 'cancelled', skip_reason = 'appointment moved or cancelled',
                                       updated_at = now()
     WHERE m.org_id = schedule_reminder.org_id AND m.appointment_id = schedule_reminder.appointment_id
       AND m.kind = 'reminder' AND m.status = 'queued';
    SELECT h.starts_at - make_interval(hours => o.reminder_hours), ct.phone INTO due, patient
      FROM voxbook.appointments AS a
      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
      JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
      JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = schedule_reminder.org_id AND a.id = schedule_reminder.appointment_id
       AND a.status = 'confirmed';
    IF due IS NOT NULL AND due > voxbook.clock() THEN
        PERFORM voxbook.queue_sms(org_id, 'reminder', patient,
                                  voxbook.appointment_sms('reminder', org_id, appointment_id),
                                  appointment_id => appointment_id, send_after => due);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION voxbook.appointment_json(org_id uuid, appointment_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'success', true,
        'appointment_id', a.id,
        'status', a.status,
        'hold_id', a.hold_id,
        'contact_id', a.contact_id,
        'patient_name', ct.name,
        'calendar_id', h.calendar_id,
        'provider', c.display_name,
        'service', a.service_id,
        'starts_at', voxbook.utc_iso(h.starts_at),
        'ends_at', voxbook.utc_iso(h.ends_at),
        'local_time', voxbook.local_text(h.starts_at, o.time_zone),
        'spoken_time', voxbook.spoken_time(h.starts_at, o.time_zone),
        'time_zone', o.time_zone,
        'confirmed_via', a.confirmed_via,
        'otp_verified', a.otp_verified,
        'confirmation_sms', (SELECT jsonb_build_object('message_id', m.id, 'status', m.status,
                                                       'provider_message_id', m.provider_message_id)
                               FROM voxbook.sms_outbox AS m
                              WHERE m.org_id = a.org_id AND m.appointment_id = a.id AND m.kind = 'confirmation'
                              ORDER BY m.created_at DESC LIMIT 1),
        'reminder_sms', (SELECT jsonb_build_object('message_id', m.id, 'status', m.status,
                                                   'send_after', voxbook.utc_iso(m.send_after))
                           FROM voxbook.sms_outbox AS m
                          WHERE m.org_id = a.org_id AND m.appointment_id = a.id AND m.kind = 'reminder'
                          ORDER BY m.created_at DESC LIMIT 1))
      FROM voxbook.appointments AS a
      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
      JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
      JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
      JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = appointment_json.org_id AND a.id = appointment_json.appointment_id
$$;
