-- An appointment as the API returns it, and the messages that go with it.

-- PL/pgSQL: no SQL-language function reads a table (db/README.md, "Writing functions that run on Citus too").
CREATE FUNCTION internal.appointment_json(org_id uuid, appointment_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    tag text;
    clinic_tag text;
    loc jsonb;
BEGIN
    -- local_time and spoken_time in the appointment's locale (the caller's), else the clinic's: fetched first,
    -- not per row of the query below (internal.field_locale reads tables; db/README.md, Citus).
    SELECT a.locale, o.locale INTO tag, clinic_tag
      FROM voxbook.appointments AS a JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = appointment_json.org_id AND a.id = appointment_json.appointment_id;
    loc := internal.field_locale(clinic_tag, tag);
    RETURN (
    SELECT jsonb_build_object(
        'success', true,
        'appointment_id', a.id,
        'status', a.status,
        'hold_id', a.hold_id,
        'contact_id', a.contact_id,
        'patient_name', coalesce(a.patient_name, ct.name),   -- the person it was booked for (0024)
        'calendar_id', h.calendar_id,
        'provider', c.display_name,
        'service', a.service_id,
        'starts_at', internal.utc_iso(h.starts_at),
        'ends_at', internal.utc_iso(h.ends_at),
        'local_time', internal.local_text(h.starts_at, o.time_zone, loc),
        'spoken_time', internal.spoken_time(h.starts_at, o.time_zone, loc),
        'time_zone', o.time_zone,
        'confirmed_via', a.confirmed_via,
        'otp_verified', a.otp_verified,
        'confirmation_sms', (SELECT jsonb_build_object('message_id', m.id, 'status', m.status,
                                                       'provider_message_id', m.provider_message_id)
                               FROM voxbook.sms_outbox AS m
                              WHERE m.org_id = a.org_id AND m.appointment_id = a.id AND m.kind = 'confirmation'
                              ORDER BY m.created_at DESC LIMIT 1),
        'reminder_sms', (SELECT jsonb_build_object('message_id', m.id, 'status', m.status,
                                                   'send_after', internal.utc_iso(m.send_after))
                           FROM voxbook.sms_outbox AS m
                          WHERE m.org_id = a.org_id AND m.appointment_id = a.id AND m.kind = 'reminder'
                          ORDER BY m.created_at DESC LIMIT 1))
      FROM voxbook.appointments AS a
      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
      JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
      JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
      JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = appointment_json.org_id AND a.id = appointment_json.appointment_id);
END
$$;

-- The text of an appointment message (kind: confirmation, reminder, cancellation, reschedule), from the
-- message catalogue (sms.<kind>, 16_messages*.sql), in the appointment's locale (the caller's, from its hold;
-- else the clinic's), whichever path queues it (a reminder days later, a reschedule by staff); GSM-7 only.
-- PL/pgSQL, not SQL: its body is resolved when it runs, so it may use internal.message and the formatters,
-- which later files create.
CREATE FUNCTION internal.appointment_sms(kind text, org_id uuid, appointment_id uuid) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    args jsonb;
    starts timestamptz;
    tz text;
    tag text;
    clinic_tag text;
    patient text;
    number_name text;
    body text;
BEGIN
    -- The values first, then the locale and the message: internal.locale and internal.message read tables, and
    -- are not called per row of a query (on Citus that nests a distributed query in a shard's).
    SELECT h.starts_at, o.time_zone, a.locale, o.locale,
           jsonb_build_object('provider', c.display_name, 'clinic', o.name,
                              'clinic_phone', internal.display_phone(o.phone, o.country)),
           a.patient_name, ct.name
      INTO starts, tz, tag, clinic_tag, args, patient, number_name
      FROM voxbook.appointments AS a
      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
      JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
      JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
      JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = appointment_sms.org_id AND a.id = appointment_sms.appointment_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    tag := coalesce(tag, internal.clinic_locale(clinic_tag));
    body := internal.message('sms.' || kind, tag, internal.when_parts(starts, tz, internal.locale(tag)) || args);
    -- Two people on one number (a parent and a child): a text about an appointment booked for another name
    -- than the number's first says whose it is ("For Mia Lee: ..."); the usual text is unchanged.
    IF btrim(patient) <> '' AND lower(btrim(patient)) <> lower(btrim(number_name)) THEN
        body := internal.message('sms.for_patient', tag, jsonb_build_object('patient', btrim(patient), 'text', body));
    END IF;
    RETURN internal.gsm7(body);
END
$$;

-- Renders the appointment message of this kind and queues it to the appointment's patient (its
-- contact's phone), in the caller's transaction: the one way an appointment SMS is made.
CREATE FUNCTION internal.queue_appointment_sms(org_id uuid, appointment_id uuid, kind text,
                                               send_after timestamptz DEFAULT NULL)
    RETURNS voxbook.sms_outbox
    LANGUAGE plpgsql AS $$
DECLARE
    patient text;
BEGIN
    SELECT ct.phone INTO patient FROM voxbook.appointments AS a
      JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
     WHERE a.org_id = queue_appointment_sms.org_id AND a.id = queue_appointment_sms.appointment_id;
    RETURN internal.queue_sms(org_id, kind, patient, internal.appointment_sms(kind, org_id, appointment_id),
                              appointment_id => appointment_id, send_after => send_after);
END
$$;

-- Queues the reminder for an appointment's current time, reminder_hours before it, unless that
-- moment has passed (a booking made for tomorrow morning gets its confirmation only).
CREATE FUNCTION internal.schedule_reminder(org_id uuid, appointment_id uuid) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    due timestamptz;
    for_hold uuid;
    for_starts timestamptz;
    reminder voxbook.sms_outbox;
BEGIN
    UPDATE voxbook.sms_outbox AS m SET status = 'cancelled', skip_reason = 'appointment moved or cancelled',
                                       updated_at = now()
     WHERE m.org_id = schedule_reminder.org_id AND m.appointment_id = schedule_reminder.appointment_id
       AND m.kind = 'reminder' AND m.status = 'queued';
    SELECT h.starts_at - make_interval(hours => o.reminder_hours), h.id, h.starts_at INTO due, for_hold, for_starts
      FROM voxbook.appointments AS a
      JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
      JOIN voxbook.organizations AS o ON o.id = a.org_id
     WHERE a.org_id = schedule_reminder.org_id AND a.id = schedule_reminder.appointment_id
       AND a.status = 'confirmed';
    IF due IS NOT NULL AND due > internal.clock() THEN
        reminder := internal.queue_appointment_sms(org_id, appointment_id, 'reminder', send_after => due);
        -- Stamped with the time it announces: the worker compares this, not the text (45_sms_delivery.sql).
        UPDATE voxbook.sms_outbox AS x SET reminder_hold_id = for_hold, reminder_starts_at = for_starts
         WHERE x.org_id = reminder.org_id AND x.id = reminder.id;
    END IF;
END
$$;
