-- Appointments after confirmation: the confirmation SMS tool, cancel, reschedule, lookup.

-- Finds an appointment of this clinic, locked; with patient_phone (the voice path) it must also be
-- that patient's, so a caller cannot act on someone else's booking by guessing ids.
CREATE FUNCTION internal.lock_appointment(org_id uuid, appointment_id uuid, patient_phone text)
    RETURNS voxbook.appointments
    LANGUAGE plpgsql AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    caller text := internal.normalize_phone(patient_phone, o.country);
    a voxbook.appointments;
BEGIN
    PERFORM internal.require(appointment_id, 'appointment_id');
    SELECT x.* INTO a FROM voxbook.appointments AS x
      JOIN voxbook.contacts AS ct ON ct.org_id = x.org_id AND ct.id = x.contact_id
     WHERE x.org_id = o.id AND x.id = lock_appointment.appointment_id
       AND (caller IS NULL OR ct.phone = caller)
       FOR UPDATE OF x;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown appointment',
                              'Use the appointment_id returned by api.verify_otp or api.confirm_held_slot for this clinic.');
    END IF;
    RETURN a;
END
$$;


CREATE FUNCTION api.send_confirmation_sms(appointment_id uuid, org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    a voxbook.appointments := internal.lock_appointment(org_id, appointment_id, NULL);
    m voxbook.sms_outbox;
BEGIN
    IF a.status <> 'confirmed' THEN
        RETURN internal.refusal('cancelled', internal.message('refusal.cancelled', 'en'), jsonb_build_object('appointment_id', a.id));
    END IF;
    SELECT * INTO m FROM voxbook.sms_outbox AS x
     WHERE x.org_id = a.org_id AND x.appointment_id = a.id AND x.kind = 'confirmation' AND x.status <> 'failed';
    IF NOT FOUND THEN
        -- Only when every earlier confirmation failed outright: never a second one on its way.
        m := internal.queue_appointment_sms(a.org_id, a.id, 'confirmation');
    END IF;
    RETURN jsonb_build_object('success', m.status NOT IN ('skipped', 'cancelled', 'undelivered'),
                              'appointment_id', a.id, 'message_id', m.id, 'status', m.status,
                              'provider_message_id', m.provider_message_id,
                              'message_sent', m.status IN ('sent', 'delivered'))
           || CASE WHEN m.status = 'skipped'
                   THEN jsonb_build_object('code', 'opted_out', 'error', internal.message('refusal.opted_out', 'en'))
                   WHEN m.status = 'undelivered'
                   THEN jsonb_build_object('code', 'undelivered', 'error', internal.message('refusal.undelivered', 'en'))
                   ELSE '{}'::jsonb END;
END
$$;
COMMENT ON FUNCTION api.send_confirmation_sms(uuid, uuid) IS
$$Sends nothing itself: reports the appointment's confirmation SMS in the outbox, and queues one (in
voxbook.sms_outbox) only if every earlier one failed; the SMS worker sends it. The confirmation is already
queued when the appointment is confirmed (same transaction), so a call normally only reports it, idempotently
(the name is the seed's): {"success", "appointment_id", "message_id", "status" (queued, sending, sent,
delivered, ...), "provider_message_id", "message_sent" (true once the worker has sent it)}. Never a second
confirmation (unique index sms_outbox_one_confirmation).
{"success": false, "code": "cancelled" | "opted_out" | "undelivered", ...} otherwise.
Errors: VB404 unknown org or appointment.$$;


-- The clinic's cancellation notice (organizations.cancellation_notice_minutes): a caller (voice or SMS, no
-- staff_user) may not cancel or move an appointment starting within it: the refusal "within_notice", or NULL
-- when the change may go ahead. Staff (staff_user given) are never refused.
CREATE FUNCTION internal.notice_refusal(o voxbook.organizations, appointment_id uuid, starts timestamptz,
                                        staff_user text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    hours text := trim_scale(round(o.cancellation_notice_minutes / 60.0, 1))::text;
BEGIN
    IF staff_user IS NOT NULL OR o.cancellation_notice_minutes = 0
       OR starts >= internal.clock() + make_interval(mins => o.cancellation_notice_minutes) THEN
        RETURN NULL;
    END IF;
    RETURN internal.refusal('within_notice',
                            internal.message('refusal.within_notice', 'en', jsonb_build_object('notice_hours', hours)),
                            jsonb_build_object('appointment_id', appointment_id, 'starts_at', internal.utc_iso(starts),
                                               'notice_minutes', o.cancellation_notice_minutes,
                                               'notice_hours', hours));
END
$$;

-- What the audit log keeps of an appointment (internal.audit, 63_audit.sql).
CREATE FUNCTION internal.appointment_audit(org_id uuid, appointment_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object('status', a.status, 'calendar_id', h.calendar_id,
                                      'starts_at', internal.utc_iso(h.starts_at), 'ends_at', internal.utc_iso(h.ends_at),
                                      'service', a.service_id, 'patient_name', a.patient_name,
                                      'booked_by', a.booked_by, 'cancelled_by', a.cancelled_by,
                                      'cancel_reason', a.cancel_reason)
              FROM voxbook.appointments AS a
              JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
             WHERE a.org_id = appointment_audit.org_id AND a.id = appointment_audit.appointment_id);
END
$$;


CREATE FUNCTION api.cancel_appointment(appointment_id uuid, org_id uuid, reason text DEFAULT NULL,
                            patient_phone text DEFAULT NULL, notify boolean DEFAULT true,
                            staff_user text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    a voxbook.appointments := internal.lock_appointment(org_id, appointment_id, patient_phone);
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    staff text := internal.audit_name(staff_user);   -- capped, the email kept (63_audit.sql)
    starts timestamptz;
    before jsonb;
    refused jsonb;
BEGIN
    IF a.status = 'cancelled' THEN
        RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment was already cancelled');
    END IF;
    SELECT h.starts_at INTO starts FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
    refused := internal.notice_refusal(o, a.id, starts, staff);
    IF refused IS NOT NULL THEN
        RETURN refused;
    END IF;
    IF staff IS NOT NULL THEN
        before := internal.appointment_audit(a.org_id, a.id);
    END IF;
    UPDATE voxbook.appointments AS x SET status = 'cancelled', cancelled_at = now_ts,
                                         cancel_reason = left(reason, 500), cancelled_by = staff, updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.id;
    UPDATE voxbook.holds AS x SET status = 'cancelled', release_reason = 'appointment cancelled', updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.hold_id;
    PERFORM internal.schedule_reminder(a.org_id, a.id);   -- cancels the pending reminder, schedules none
    IF notify AND starts > now_ts THEN
        PERFORM internal.queue_appointment_sms(a.org_id, a.id, 'cancellation');
    END IF;
    IF staff IS NOT NULL THEN
        PERFORM internal.audit(a.org_id, staff, 'cancel_appointment', 'appointment', a.id::text, before,
                               internal.appointment_audit(a.org_id, a.id));
    END IF;
    RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment cancelled');
END
$$;
COMMENT ON FUNCTION api.cancel_appointment(uuid, uuid, text, text, boolean, text) IS
$$Cancels an appointment: its time is free at once, its pending reminder is cancelled and (notify, for a
future appointment) a cancellation SMS is queued. Idempotent. With patient_phone (the voice path) the
appointment must belong to that caller. Returns the appointment with "status": "cancelled" and "message".
Cancellation notice: without staff_user (a caller, by voice or SMS) an appointment starting within the clinic's
organizations.cancellation_notice_minutes is not cancelled: {"success": false, "code": "within_notice", "error",
"appointment_id", "starts_at", "notice_minutes", "notice_hours"}. staff_user (the staff member's name) overrides
the notice, is stored as appointments.cancelled_by and the change is audited (voxbook.audit_log). Never a tool
argument: api.run_tool_call refuses it.
Errors: VB404 unknown org or appointment (or not this caller's); VB400 malformed phone.
Example: SELECT api.cancel_appointment('<appointment_id>', 'a0000000-0000-0000-0000-000000000001',
         'patient called', staff_user => 'front desk');$$;


CREATE FUNCTION api.reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamptz,
                                calendar_id text DEFAULT NULL, patient_phone text DEFAULT NULL,
                                notify boolean DEFAULT true, staff_user text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    a voxbook.appointments := internal.lock_appointment(org_id, appointment_id, patient_phone);
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    staff text := internal.audit_name(staff_user);   -- capped, the email kept (63_audit.sql)
    old voxbook.holds;
    new_hold voxbook.holds;
    c voxbook.calendars;
    s voxbook.services;
    span interval;
    occ tstzrange;
    before jsonb;
    refused jsonb;
BEGIN
    PERFORM internal.require_instant(slot_time, 'slot_time');
    IF a.status <> 'confirmed' THEN
        RETURN internal.refusal('cancelled', internal.message('refusal.cancelled.reschedule', 'en'), jsonb_build_object('appointment_id', a.id));
    END IF;
    SELECT * INTO old FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
    -- The service is read into a variable: a row read inside a query has a shard's row type on Citus.
    SELECT * INTO s FROM voxbook.services AS sv WHERE sv.org_id = o.id AND sv.id = old.service_id;
    -- The calendar lock, shared, before the new time is checked (internal.lock_calendar, 12_lookups.sql): a
    -- concurrent api.block_time of it waits or is seen.
    c := internal.lock_calendar(o.id, coalesce(calendar_id, old.calendar_id));
    IF c.id = old.calendar_id AND slot_time = old.starts_at THEN
        RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment is already at that time');
    END IF;
    refused := internal.notice_refusal(o, a.id, old.starts_at, staff);
    IF refused IS NOT NULL THEN
        RETURN refused;
    END IF;
    span := old.ends_at - old.starts_at;
    IF c.id <> old.calendar_id THEN
        PERFORM internal.require_offered(c, s);
    END IF;
    PERFORM internal.assert_bookable(o, c, slot_time, slot_time + span);
    occ := internal.occupied(slot_time, slot_time + span, s.buffer_before_minutes, s.buffer_after_minutes);
    IF staff IS NOT NULL THEN
        before := internal.appointment_audit(a.org_id, a.id);
    END IF;

    -- Lock, in id order and before changing any, the old hold and every claim on the new time. Two
    -- reschedules swapping times otherwise each freed their own time and then waited, in the insert
    -- below, for the other's: a deadlock (31 of 300 concurrent swaps). With one lock order the second
    -- waits here for the first to finish, then finds the time still taken (or free) and answers.
    PERFORM 1 FROM voxbook.holds AS h
      WHERE h.org_id = o.id
        AND (h.id = old.id
             OR (h.calendar_id = c.id AND h.status IN ('held', 'confirmed')
                 AND coalesce(h.occupies, tstzrange(h.starts_at, h.ends_at, '[)')) && occ))
      ORDER BY h.id
        FOR UPDATE;

    -- The old time stays claimed by this uncommitted transaction while the new one is tried: nobody
    -- else can take it meanwhile, and a new time overlapping the old one does not collide with it.
    UPDATE voxbook.holds AS h SET status = 'rescheduled', release_reason = 'appointment rescheduled', updated_at = now_ts
     WHERE h.org_id = old.org_id AND h.id = old.id;
    PERFORM internal.flip_expired_holds(o.id, c.id, occ);
    INSERT INTO voxbook.holds AS h (org_id, calendar_id, service_id, starts_at, ends_at, occupies, vapi_call_id,
                                    patient_name, patient_phone, status, expires_at, otp_verified_at, locale)
    VALUES (old.org_id, c.id, old.service_id, slot_time, slot_time + span, occ, old.vapi_call_id,
            old.patient_name, old.patient_phone, 'confirmed', now_ts, old.otp_verified_at, old.locale)
    ON CONFLICT DO NOTHING
    RETURNING h.* INTO new_hold;
    IF new_hold.id IS NULL THEN
        UPDATE voxbook.holds AS h SET status = 'confirmed', release_reason = NULL, updated_at = now_ts
         WHERE h.org_id = old.org_id AND h.id = old.id;
        -- With the other times to offer, as a refused claim (internal.alternatives, 20_booking.sql).
        RETURN internal.refusal('slot_taken', internal.message('refusal.slot_taken.reschedule', 'en'),
                                jsonb_build_object('appointment_id', a.id, 'slot_time', internal.utc_iso(slot_time),
                                                   'calendar_id', c.id,
                                                   'alternatives', internal.alternatives(o, s, slot_time, a.locale)));
    END IF;
    UPDATE voxbook.appointments AS x SET hold_id = new_hold.id, updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.id;
    PERFORM internal.schedule_reminder(a.org_id, a.id);
    IF notify THEN
        PERFORM internal.queue_appointment_sms(a.org_id, a.id, 'reschedule');
    END IF;
    IF staff IS NOT NULL THEN
        PERFORM internal.audit(a.org_id, staff, 'reschedule_appointment', 'appointment', a.id::text, before,
                               internal.appointment_audit(a.org_id, a.id));
    END IF;
    RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment moved');
END
$$;
COMMENT ON FUNCTION api.reschedule_appointment(uuid, uuid, timestamptz, text, text, boolean, text) IS
$$Moves an appointment to slot_time (optionally to another calendar, which must offer its service), keeping its
duration and its service's buffers. The new time is claimed before the old one is freed, in one transaction:
if the new time is taken the appointment keeps its old time ({"success": false, "code": "slot_taken", "error",
"appointment_id", "slot_time", "calendar_id", "alternatives"}: the other times, as api.claim_slot_atomic gives
them). The pending reminder follows the appointment and (notify) an SMS tells the patient. With patient_phone
the appointment must be that caller's.
Cancellation notice: without staff_user an appointment starting within the clinic's cancellation_notice_minutes
is not moved ({"success": false, "code": "within_notice", ...} as api.cancel_appointment); staff_user overrides
it and the move is audited (voxbook.audit_log). Never a tool argument.
Returns the appointment with the new "starts_at" and "message".
Errors: VB404 unknown org, appointment or calendar; VB400 slot not bookable (see api.claim_slot_atomic), a
calendar that does not offer the appointment's service.$$;


CREATE FUNCTION api.get_appointment(appointment_id uuid, org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM internal.require_org(org_id);
    result := internal.appointment_json(org_id, appointment_id);
    IF result IS NULL THEN
        PERFORM internal.fail('VB404', 'unknown appointment',
                              'Use the appointment_id returned by api.verify_otp or api.confirm_held_slot for this clinic.');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION api.get_appointment(uuid, uuid) IS
$$One appointment: {"success": true, "appointment_id", "status", "hold_id", "contact_id", "patient_name",
"calendar_id", "provider", "service", "starts_at", "ends_at", "local_time", "spoken_time", "time_zone",
"confirmed_via", "otp_verified", "confirmation_sms": {"message_id", "status", "provider_message_id"},
"reminder_sms": {"message_id", "status", "send_after"}}. Errors: VB404 unknown org or appointment.$$;


-- -------------------------------------------------------------------------------------------------------------
-- Looking things up, for staff (issue 14): appointments by time, a phone number's people, the texts that failed.

CREATE FUNCTION api.list_appointments(org_id uuid, from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL,
                                      calendar_id text DEFAULT NULL, patient_phone text DEFAULT NULL,
                                      status text DEFAULT NULL, max_rows int DEFAULT 500)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    lo timestamptz := coalesce(from_time, internal.clock());
    caller_phone text := internal.normalize_phone(patient_phone, o.country);
    result jsonb;
    n bigint;
BEGIN
    PERFORM internal.require_instant(from_time, 'from_time', optional => true);
    PERFORM internal.require_instant(to_time, 'to_time', optional => true);
    IF to_time < lo THEN
        PERFORM internal.fail('VB400', 'to_time is before from_time', 'Give from_time <= to_time (from_time defaults to now).');
    END IF;
    IF status IS NOT NULL AND status NOT IN ('confirmed', 'cancelled') THEN
        PERFORM internal.fail('VB400', 'status must be confirmed or cancelled', 'Leave it out for both.');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 5000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 5000', 'Narrow the time range instead.');
    END IF;
    IF calendar_id IS NOT NULL THEN
        PERFORM internal.require_calendar(o.id, calendar_id);
    END IF;
    SELECT coalesce(jsonb_agg(x.j ORDER BY x.starts_at, x.id) FILTER (WHERE x.rn <= max_rows), '[]'), count(*)
      INTO result, n
      FROM (SELECT h.starts_at, a.id, row_number() OVER (ORDER BY h.starts_at, a.id) AS rn,
                   jsonb_build_object(
                       'appointment_id', a.id, 'status', a.status, 'contact_id', a.contact_id,
                       'patient_name', coalesce(a.patient_name, ct.name),
                       'phone_masked', internal.mask_phone(ct.phone),
                       'calendar_id', h.calendar_id, 'provider', c.display_name,
                       'service', a.service_id, 'service_name', sv.name,
                       'starts_at', internal.utc_iso(h.starts_at), 'ends_at', internal.utc_iso(h.ends_at),
                       'local_time', internal.local_text(h.starts_at, o.time_zone),
                       'confirmed_via', a.confirmed_via, 'booked_by', a.booked_by,
                       'cancelled_by', a.cancelled_by, 'cancel_reason', a.cancel_reason) AS j
              FROM voxbook.appointments AS a
              JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
              JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
              JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
              LEFT JOIN voxbook.services AS sv ON sv.org_id = a.org_id AND sv.id = a.service_id
             WHERE a.org_id = o.id AND h.starts_at >= lo AND (to_time IS NULL OR h.starts_at < to_time)
               AND (list_appointments.calendar_id IS NULL OR h.calendar_id = list_appointments.calendar_id)
               AND (caller_phone IS NULL OR ct.phone = caller_phone)
               AND (list_appointments.status IS NULL OR a.status = list_appointments.status)) AS x;
    RETURN jsonb_build_object('success', true, 'time_zone', o.time_zone, 'appointments', result, 'more', n > max_rows);
END
$$;
COMMENT ON FUNCTION api.list_appointments(uuid, timestamptz, timestamptz, text, text, text, int) IS
$$The clinic's appointments starting in [from_time, to_time) (default: from now on, no end), in time order;
optionally of one provider (calendar_id), one phone number (patient_phone, read in the clinic's country) and
one status ('confirmed' or 'cancelled'; default both); at most max_rows (default 500).
Returns {"success": true, "time_zone", "appointments": [{"appointment_id", "status", "contact_id",
"patient_name" (the person it was booked for), "phone_masked", "calendar_id", "provider", "service",
"service_name", "starts_at", "ends_at" (UTC), "local_time", "confirmed_via", "booked_by", "cancelled_by",
"cancel_reason"}], "more": true when max_rows left some out}.
Errors: VB404 unknown org or calendar; VB400 a time out of range, to_time before from_time, another status,
max_rows not 1-5000, a malformed phone.
Example: SELECT api.list_appointments('a0000000-0000-0000-0000-000000000001', now(), now() + interval '1 day');$$;


CREATE FUNCTION api.find_patient(org_id uuid, phone text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    number text;
    ct voxbook.contacts;
    now_ts timestamptz := internal.clock();
    people jsonb;
BEGIN
    PERFORM internal.require(nullif(btrim(phone), ''), 'phone');
    number := internal.normalize_phone(phone, o.country);
    SELECT * INTO ct FROM voxbook.contacts AS x WHERE x.org_id = o.id AND x.phone = number;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('success', true, 'phone', number, 'found', false, 'contact_id', NULL,
                                  'sms_opted_out', false, 'people', '[]'::jsonb);
    END IF;
    -- The people of the number: each name its appointments were booked for (case and blanks aside), and the
    -- number's own name; each with their upcoming confirmed appointments.
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'name', p.name,
               'appointments_booked', p.booked,
               'upcoming', p.upcoming) ORDER BY p.first_booked NULLS FIRST, p.name), '[]')
      INTO people
      FROM (SELECT min(x.name) AS name, count(x.appointment_id) AS booked, min(x.created_at) AS first_booked,
                   coalesce(jsonb_agg(jsonb_build_object(
                                'appointment_id', x.appointment_id, 'calendar_id', x.calendar_id,
                                'provider', x.provider, 'service', x.service_id,
                                'starts_at', internal.utc_iso(x.starts_at), 'ends_at', internal.utc_iso(x.ends_at),
                                'local_time', internal.local_text(x.starts_at, o.time_zone))
                            ORDER BY x.starts_at) FILTER (WHERE x.upcoming), '[]') AS upcoming
              FROM (SELECT coalesce(a.patient_name, ct.name) AS name, a.id AS appointment_id, a.created_at,
                           h.calendar_id, c.display_name AS provider, a.service_id, h.starts_at, h.ends_at,
                           a.status = 'confirmed' AND h.starts_at >= now_ts AS upcoming
                      FROM voxbook.appointments AS a
                      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
                      JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
                     WHERE a.org_id = o.id AND a.contact_id = ct.id
                    UNION ALL
                    SELECT ct.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false
                     WHERE ct.name IS NOT NULL) AS x
             WHERE x.name IS NOT NULL
             GROUP BY lower(btrim(x.name))) AS p;
    RETURN jsonb_build_object('success', true, 'phone', number, 'found', true, 'contact_id', ct.id,
                              'sms_opted_out', ct.sms_opted_out, 'people', people);
END
$$;
COMMENT ON FUNCTION api.find_patient(uuid, text) IS
$$The people at a phone number (read in the clinic's country) and their upcoming appointments. A contact is a
number (its SMS opt-out belongs to it); the people are the names its appointments were booked for (a parent
and a child on one number are two people) and the number's own name.
Returns {"success": true, "phone" (E.164), "found", "contact_id", "sms_opted_out", "people": [{"name",
"appointments_booked", "upcoming": [{"appointment_id", "calendar_id", "provider", "service", "starts_at",
"ends_at", "local_time"}]}]} ("found": false and no people for a number the clinic does not know).
Errors: VB404 unknown org; VB400 phone missing or malformed.
Example: SELECT api.find_patient('a0000000-0000-0000-0000-000000000001', '(555) 555-0123');$$;


CREATE FUNCTION api.list_problem_sms(org_id uuid, from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL,
                                     max_rows int DEFAULT 500)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    hi timestamptz := coalesce(to_time, internal.clock());
    lo timestamptz := coalesce(from_time, coalesce(to_time, internal.clock()) - interval '7 days');
    result jsonb;
    n bigint;
BEGIN
    PERFORM internal.require_instant(from_time, 'from_time', optional => true);
    PERFORM internal.require_instant(to_time, 'to_time', optional => true);
    IF hi < lo THEN
        PERFORM internal.fail('VB400', 'to_time is before from_time', 'Give from_time <= to_time (default: the last 7 days).');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 5000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 5000', 'Narrow the time range instead.');
    END IF;
    SELECT coalesce(jsonb_agg(x.j ORDER BY x.created_at DESC, x.id) FILTER (WHERE x.rn <= max_rows), '[]'), count(*)
      INTO result, n
      FROM (SELECT m.created_at, m.id, row_number() OVER (ORDER BY m.created_at DESC, m.id) AS rn,
                   jsonb_build_object(
                       'message_id', m.id, 'kind', m.kind, 'status', m.status,
                       'why', coalesce(m.skip_reason, nullif(concat_ws(': ', m.error_code, m.error_message), ''),
                                       m.provider_status, m.status),
                       'error_code', m.error_code, 'skip_reason', m.skip_reason, 'attempts', m.attempts,
                       'phone_masked', internal.mask_phone(m.recipient),
                       'appointment_id', m.appointment_id, 'patient_name', a.patient_name,
                       'created_at', internal.utc_iso(m.created_at),
                       'updated_at', internal.utc_iso(coalesce(m.status_updated_at, m.updated_at)),
                       'local_time', internal.local_text(m.created_at, o.time_zone)) AS j
              FROM voxbook.sms_outbox AS m
              LEFT JOIN voxbook.appointments AS a ON a.org_id = m.org_id AND a.id = m.appointment_id
             WHERE m.org_id = o.id AND m.status IN ('failed', 'undelivered', 'skipped')
               AND m.created_at >= lo AND m.created_at < hi) AS x;
    RETURN jsonb_build_object('success', true, 'messages', result, 'more', n > max_rows);
END
$$;
COMMENT ON FUNCTION api.list_problem_sms(uuid, timestamptz, timestamptz, int) IS
$$The clinic's texts that did not reach their recipient, queued in [from_time, to_time) (default: the last 7
days), newest first, at most max_rows (default 500): status 'failed' (the carrier refused or every retry failed),
'undelivered' (the carrier could not deliver it) or 'skipped' (never sent: the number opted out, the hold or
appointment was gone...), each with why. No bodies (a code's digits), phones masked.
Returns {"success": true, "messages": [{"message_id", "kind", "status", "why", "error_code", "skip_reason",
"attempts", "phone_masked", "appointment_id", "patient_name", "created_at", "updated_at", "local_time"}],
"more"}.
Errors: VB404 unknown org; VB400 a time out of range, to_time before from_time, max_rows not 1-5000.
Example: SELECT api.list_problem_sms('a0000000-0000-0000-0000-000000000001');$$;
