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


CREATE FUNCTION api.cancel_appointment(appointment_id uuid, org_id uuid, reason text DEFAULT NULL,
                            patient_phone text DEFAULT NULL, notify boolean DEFAULT true)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    a voxbook.appointments := internal.lock_appointment(org_id, appointment_id, patient_phone);
    now_ts timestamptz := internal.clock();
    starts timestamptz;
BEGIN
    IF a.status = 'cancelled' THEN
        RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment was already cancelled');
    END IF;
    SELECT h.starts_at INTO starts FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
    UPDATE voxbook.appointments AS x SET status = 'cancelled', cancelled_at = now_ts,
                                         cancel_reason = left(reason, 500), updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.id;
    UPDATE voxbook.holds AS x SET status = 'cancelled', release_reason = 'appointment cancelled', updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.hold_id;
    PERFORM internal.schedule_reminder(a.org_id, a.id);   -- cancels the pending reminder, schedules none
    IF notify AND starts > now_ts THEN
        PERFORM internal.queue_appointment_sms(a.org_id, a.id, 'cancellation');
    END IF;
    RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment cancelled');
END
$$;
COMMENT ON FUNCTION api.cancel_appointment(uuid, uuid, text, text, boolean) IS
$$Cancels an appointment: its time is free at once, its pending reminder is cancelled and (notify, for a
future appointment) a cancellation SMS is queued. Idempotent. With patient_phone (the voice path) the
appointment must belong to that caller. Returns the appointment with "status": "cancelled" and "message".
Errors: VB404 unknown org or appointment (or not this caller's); VB400 malformed phone.$$;


CREATE FUNCTION api.reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamptz,
                                calendar_id text DEFAULT NULL, patient_phone text DEFAULT NULL,
                                notify boolean DEFAULT true)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    a voxbook.appointments := internal.lock_appointment(org_id, appointment_id, patient_phone);
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    old voxbook.holds;
    new_hold voxbook.holds;
    c voxbook.calendars;
    s voxbook.services;
    span interval;
BEGIN
    PERFORM internal.require_instant(slot_time, 'slot_time');
    IF a.status <> 'confirmed' THEN
        RETURN internal.refusal('cancelled', internal.message('refusal.cancelled.reschedule', 'en'), jsonb_build_object('appointment_id', a.id));
    END IF;
    SELECT * INTO old FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
    c := internal.require_calendar(o.id, coalesce(calendar_id, old.calendar_id));
    IF c.id = old.calendar_id AND slot_time = old.starts_at THEN
        RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment is already at that time');
    END IF;
    span := old.ends_at - old.starts_at;
    PERFORM internal.assert_bookable(o, c, slot_time, slot_time + span);

    -- Lock, in id order and before changing any, the old hold and every claim on the new time. Two
    -- reschedules swapping times otherwise each freed their own time and then waited, in the insert
    -- below, for the other's: a deadlock (31 of 300 concurrent swaps). With one lock order the second
    -- waits here for the first to finish, then finds the time still taken (or free) and answers.
    PERFORM 1 FROM voxbook.holds AS h
      WHERE h.org_id = o.id
        AND (h.id = old.id
             OR (h.calendar_id = c.id AND h.status IN ('held', 'confirmed')
                 AND tstzrange(h.starts_at, h.ends_at, '[)') && tstzrange(slot_time, slot_time + span, '[)')))
      ORDER BY h.id
        FOR UPDATE;

    -- The old time stays claimed by this uncommitted transaction while the new one is tried: nobody
    -- else can take it meanwhile, and a new time overlapping the old one does not collide with it.
    UPDATE voxbook.holds AS h SET status = 'rescheduled', release_reason = 'appointment rescheduled', updated_at = now_ts
     WHERE h.org_id = old.org_id AND h.id = old.id;
    PERFORM internal.flip_expired_holds(o.id, c.id, tstzrange(slot_time, slot_time + span, '[)'));
    INSERT INTO voxbook.holds AS h (org_id, calendar_id, service_id, starts_at, ends_at, vapi_call_id, patient_name,
                                    patient_phone, status, expires_at, otp_verified_at)
    VALUES (old.org_id, c.id, old.service_id, slot_time, slot_time + span, old.vapi_call_id,
            old.patient_name, old.patient_phone, 'confirmed', now_ts, old.otp_verified_at)
    ON CONFLICT DO NOTHING
    RETURNING h.* INTO new_hold;
    IF new_hold.id IS NULL THEN
        UPDATE voxbook.holds AS h SET status = 'confirmed', release_reason = NULL, updated_at = now_ts
         WHERE h.org_id = old.org_id AND h.id = old.id;
        -- With the other times to offer, as a refused claim (internal.alternatives, 20_booking.sql). The
        -- service is read into a variable first: a row read inside a query has a shard's row type on Citus.
        SELECT * INTO s FROM voxbook.services AS sv WHERE sv.org_id = o.id AND sv.id = old.service_id;
        RETURN internal.refusal('slot_taken', internal.message('refusal.slot_taken.reschedule', 'en'),
                                jsonb_build_object('appointment_id', a.id, 'slot_time', internal.utc_iso(slot_time),
                                                   'calendar_id', c.id,
                                                   'alternatives', internal.alternatives(o, s, slot_time)));
    END IF;
    UPDATE voxbook.appointments AS x SET hold_id = new_hold.id, updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.id;
    PERFORM internal.schedule_reminder(a.org_id, a.id);
    IF notify THEN
        PERFORM internal.queue_appointment_sms(a.org_id, a.id, 'reschedule');
    END IF;
    RETURN internal.appointment_json(a.org_id, a.id) || jsonb_build_object('message', 'Appointment moved');
END
$$;
COMMENT ON FUNCTION api.reschedule_appointment(uuid, uuid, timestamptz, text, text, boolean) IS
$$Moves an appointment to slot_time (optionally to another calendar), keeping its duration. The new time
is claimed before the old one is freed, in one transaction: if the new time is taken the appointment keeps
its old time ({"success": false, "code": "slot_taken", "error", "appointment_id", "slot_time", "calendar_id",
"alternatives"}: the other times, as api.claim_slot_atomic gives them). The pending reminder follows the appointment
and (notify) an SMS tells the patient. With patient_phone the appointment must be that caller's.
Returns the appointment with the new "starts_at" and "message".
Errors: VB404 unknown org, appointment or calendar; VB400 slot not bookable (see api.claim_slot_atomic).$$;


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
