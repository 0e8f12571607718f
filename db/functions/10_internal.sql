-- Internal helpers of the api functions. They live in the private schema voxbook (not granted to
-- anyone) and run with the rights of the api function that calls them.

-- The one clock of the booking logic. Tests freeze it per transaction with
-- set_config('voxbook.frozen_now', '...', true) (see tests/helpers.pgsql); production never sets it.
-- Any session may set a custom setting, so the frozen time counts only for a session whose login role
-- may move the clock (a superuser or a member of voxbook_clock): the API's roles cannot book in 2020.
-- session_user, not current_user: inside the SECURITY DEFINER api functions current_user is their owner.
CREATE OR REPLACE FUNCTION voxbook.clock() RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN coalesce(current_setting('voxbook.frozen_now', true), '') = '' THEN now()
                WHEN pg_has_role(session_user, 'voxbook_clock', 'MEMBER')
                    THEN current_setting('voxbook.frozen_now', true)::timestamptz
                ELSE now() END
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

-- The one range of dates and instants the api functions accept: from 2000-01-01 to five years after
-- the clock. An infinite date made generate_series endless in api.check_availability (one tool call
-- held a pooled connection and wrote temp files at 250 MB/s); year 0 or 10,000 days out is never a
-- booking, a call or a schedule anybody asks for. Five years covers the longest booking horizon (730 days).
CREATE OR REPLACE FUNCTION voxbook.in_time_range(value timestamptz) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT value >= timestamptz '2000-01-01 00:00:00+00' AND value <= voxbook.clock() + interval '5 years'
$$;

-- VB400 unless value is in voxbook.in_time_range; NULL passes when optional, else is "required".
CREATE OR REPLACE FUNCTION voxbook.require_instant(value timestamptz, what text, optional boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF value IS NULL THEN
        IF NOT optional THEN
            PERFORM voxbook.require(value, what);
        END IF;
    ELSIF NOT voxbook.in_time_range(value) THEN
        PERFORM voxbook.fail('VB400', what || ' is out of range',
                             'Give a real date from 2000 to five years ahead, e.g. 2026-03-02 (a time: 2026-03-02T14:00:00Z).');
    END IF;
END
$$;

-- The same rule for a date, checked as its first instant in UTC (dates past 9999 do not even convert).
CREATE OR REPLACE FUNCTION voxbook.require_date(value date, what text, optional boolean DEFAULT false)
    RETURNS void
    LANGUAGE sql STABLE AS $$
    SELECT voxbook.require_instant(CASE WHEN value > DATE '9999-12-31' THEN 'infinity'
                                        ELSE value::timestamp AT TIME ZONE 'UTC' END, what, optional)
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

-- Every instant at which a clock in zone tz shows local_ts: none in a spring-forward gap, two in a
-- fall-back's repeated hour, else one. (`local_ts AT TIME ZONE tz` picks one of two, the later: the
-- first pass through a repeated hour was never offered, though a claim for it was accepted.) The zone's
-- UTC offsets a day before and a day after cover any one change of offset.
CREATE OR REPLACE FUNCTION voxbook.local_instants(local_ts timestamp, tz text) RETURNS SETOF timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT DISTINCT c.at
      FROM (VALUES (interval '-1 day'), (interval '1 day')) AS v(side)
     CROSS JOIN LATERAL (SELECT (local_ts + v.side) AT TIME ZONE tz AS near) AS n
     CROSS JOIN LATERAL (SELECT (local_ts - ((n.near AT TIME ZONE tz) - (n.near AT TIME ZONE 'UTC')))
                                    AT TIME ZONE 'UTC' AS at) AS c
     WHERE c.at AT TIME ZONE tz = local_ts
$$;

-- The one definition of a bookable start: api.check_availability offers these (minus taken times) and
-- voxbook.assert_bookable accepts nothing else, so what is offered is exactly what a claim accepts.
-- A start is on the wall-clock grid of a working interval of its local day (every slot_minutes from
-- the interval's start: 9:00 stays 9:00 across DST), at every instant the clinic's clock shows that
-- time (none in a spring-forward gap, both passes through a fall-back's repeated hour); the appointment,
-- `span` of real time, ends by the instant the interval closes (so a 60-minute 01:30 slot on a
-- spring-forward day, which ends at 03:30, does not fit hours ending at 03:00; a closing time that is
-- ambiguous or skipped is read as PostgreSQL reads it, the later instant); the start is at least
-- min_notice_minutes ahead and within booking_horizon_days; and the time is clear of blocked periods.
-- Holds are not looked at: the exclusion constraint decides those, atomically.
-- at_instant: check just this instant (first_day must then be its local date): the claim's hot path.
CREATE OR REPLACE FUNCTION voxbook.slot_starts(o voxbook.organizations, c voxbook.calendars, span interval,
                                               first_day date, last_day date, at_instant timestamptz DEFAULT NULL)
    RETURNS TABLE (starts_at timestamptz, ends_at timestamptz)
    LANGUAGE sql STABLE AS $$
    SELECT i.at, i.at + span
      FROM generate_series(first_day::timestamp, last_day::timestamp, interval '1 day') AS d(day)
      JOIN voxbook.working_hours AS w
        ON w.org_id = c.org_id AND w.calendar_id = c.id AND w.iso_dow = extract(isodow FROM d.day)
     CROSS JOIN LATERAL generate_series(d.day + w.starts, d.day + w.ends,
                                        make_interval(mins => c.slot_minutes)) AS g(local_ts)
     CROSS JOIN LATERAL voxbook.local_instants(g.local_ts, o.time_zone) AS i(at)
     WHERE g.local_ts < d.day + w.ends
       AND (at_instant IS NULL OR g.local_ts = at_instant AT TIME ZONE o.time_zone)
       AND (at_instant IS NULL OR i.at = at_instant)
       AND i.at + span <= (d.day + w.ends) AT TIME ZONE o.time_zone
       AND i.at >= voxbook.clock() + make_interval(mins => o.min_notice_minutes)
       AND i.at <= voxbook.clock() + make_interval(days => o.booking_horizon_days)
       AND NOT EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                        WHERE b.org_id = c.org_id AND b.calendar_id = c.id
                          AND b.during && tstzrange(i.at, i.at + span, '[)'))
$$;

-- Raises VB400 unless starts_at is a bookable start (voxbook.slot_starts) for [starts_at, ends_at),
-- with the reason: in the past, too soon, too far ahead, outside working hours (also: running past
-- their end), off the slot grid, or blocked.
CREATE OR REPLACE FUNCTION voxbook.assert_bookable(o voxbook.organizations, c voxbook.calendars,
                                                   starts_at timestamptz, ends_at timestamptz)
    RETURNS void
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    now_ts    timestamptz := voxbook.clock();
    local_s   timestamp := starts_at AT TIME ZONE o.time_zone;
    interval_start time;
    hint      text := 'Offer a time returned by api.check_availability.';
BEGIN
    IF EXISTS (SELECT 1 FROM voxbook.slot_starts(o, c, ends_at - starts_at, local_s::date, local_s::date,
                                                 at_instant => starts_at)) THEN
        RETURN;
    END IF;
    -- Refused. The decision is made above; what follows only finds the words for it.
    IF starts_at < now_ts THEN
        PERFORM voxbook.fail('VB400', 'slot is in the past', hint);
    END IF;
    IF starts_at < now_ts + make_interval(mins => o.min_notice_minutes) THEN
        PERFORM voxbook.fail('VB400', format('slot is too soon: bookings need %s minutes notice', o.min_notice_minutes), hint);
    END IF;
    IF starts_at > now_ts + make_interval(days => o.booking_horizon_days) THEN
        PERFORM voxbook.fail('VB400', format('slot is too far ahead: bookings open %s days in advance', o.booking_horizon_days), hint);
    END IF;
    SELECT x.starts INTO interval_start FROM voxbook.working_hours AS x
     WHERE x.org_id = o.id AND x.calendar_id = c.id AND x.iso_dow = extract(isodow FROM local_s)
       AND local_s::time >= x.starts AND local_s::time < x.ends;
    IF interval_start IS NOT NULL
       AND (extract(epoch FROM local_s::time - interval_start)::bigint % (c.slot_minutes * 60)) <> 0 THEN
        PERFORM voxbook.fail('VB400', format('slot is not on the %s-minute grid of %s', c.slot_minutes, c.display_name), hint);
    END IF;
    IF interval_start IS NOT NULL
       AND EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                    WHERE b.org_id = o.id AND b.calendar_id = c.id
                      AND b.during && tstzrange(starts_at, ends_at, '[)')) THEN
        PERFORM voxbook.fail('VB400', format('%s is not available then', c.display_name), hint);
    END IF;
    PERFORM voxbook.fail('VB400', format('slot is outside %s''s working hours', c.display_name), hint);
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
    for_hold uuid;
    for_starts timestamptz;
    reminder voxbook.sms_outbox;
BEGIN
    UPDATE voxbook.sms_outbox AS m SET status = 'cancelled', skip_reason = 'appointment moved or cancelled',
                                       updated_at = now()
     WHERE m.org_id = schedule_reminder.org_id AND m.appointment_id = schedule_reminder.appointment_id
       AND m.kind = 'reminder' AND m.status = 'queued';
    SELECT h.starts_at - make_interval(hours => o.reminder_hours), ct.phone, h.id, h.starts_at INTO due, patient, for_hold, for_starts
      FROM voxbook.appointments AS a
      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
      JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
      JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = schedule_reminder.org_id AND a.id = schedule_reminder.appointment_id
       AND a.status = 'confirmed';
    IF due IS NOT NULL AND due > voxbook.clock() THEN
        reminder := voxbook.queue_sms(org_id, 'reminder', patient,
                                      voxbook.appointment_sms('reminder', org_id, appointment_id),
                                      appointment_id => appointment_id, send_after => due);
        -- Stamped with the time it announces: the worker compares this, not the text (45_sms_delivery.sql).
        UPDATE voxbook.sms_outbox AS x SET reminder_hold_id = for_hold, reminder_starts_at = for_starts
         WHERE x.org_id = reminder.org_id AND x.id = reminder.id;
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
