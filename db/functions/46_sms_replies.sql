-- Replies by SMS (issue 15): what a patient's text that is not a carrier keyword does. The confirmation and the
-- reminder say "Reply C to confirm or R to reschedule. Call to cancel." (sms.confirmation, sms.reminder): C, R and
-- the rest are never carrier keywords (STOP, CANCEL, END, QUIT, UNSUBSCRIBE, STOPALL, OPTOUT, REVOKE opt out at
-- Twilio, START/YES/UNSTOP opt back in, HELP/INFO ask for help: api.record_inbound_sms handles those first).
-- api.record_inbound_sms (45_sms_delivery.sql) calls internal.route_inbound_reply for every other non-empty text,
-- after its MessageSid check: a redelivered webhook gets the first answer and does nothing twice.
--   C (CONFIRM, CONFIRMAR) -> the patient's next appointment at that clinic is confirmed by the patient
--                             (appointments.patient_confirmed_at, shown on the dashboard); a short thanks.
--   R (RESCHEDULE, CAMBIAR) -> a callback request of kind reschedule_request (internal.request_callback,
--                             52_front_desk.sql: texted to the front desk once); the answer says when to expect the call.
--   anything else          -> voxbook.sms_inbox, for staff (api.list_sms_inbox, api.resolve_sms_inbox_item), and one
--                             SMS to the front desk (front_desk_phone, else hot_lead_alert_phone).
-- CANCEL opts out at Twilio (nothing reaches the patient any more); internal.flag_may_not_come marks their next
-- appointment "may not come" for staff (appointments.may_not_come_at).
-- No answer goes to a number opted out at the clinic (Twilio would refuse it).

-- The patient's next appointment at a clinic: confirmed, not started, by the number it was booked at; the
-- soonest (two people on one number: the earlier one). NULL when none.
CREATE FUNCTION internal.next_appointment(org_id uuid, phone text, now_ts timestamptz) RETURNS uuid
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT a.id
              FROM voxbook.appointments AS a
              JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
              JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
             WHERE a.org_id = next_appointment.org_id AND ct.phone = next_appointment.phone
               AND a.status = 'confirmed' AND h.starts_at > now_ts
             ORDER BY h.starts_at, a.id LIMIT 1);
END
$$;

-- CANCEL at the carrier: the patient's next appointment at this clinic may not come (kept from the first such
-- text: a redelivery or a second CANCEL changes nothing). Returns the appointment, or NULL when they have none.
CREATE FUNCTION internal.flag_may_not_come(org_id uuid, phone text) RETURNS uuid
    LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    appt uuid := internal.next_appointment(org_id, phone, now_ts);
BEGIN
    IF appt IS NOT NULL THEN
        UPDATE voxbook.appointments AS a SET may_not_come_at = coalesce(a.may_not_come_at, now_ts)
         WHERE a.org_id = flag_may_not_come.org_id AND a.id = appt;
    END IF;
    RETURN appt;
END
$$;

-- The clinic a reply concerns, of those the inbound message may concern (api.record_inbound_sms's orgs): the one
-- where the sender's next appointment is soonest, else `preferred` (the clinic whose own number To is), else the
-- only one. NULL: nobody to route to. One clinic's shard per read.
CREATE FUNCTION internal.sms_reply_org(orgs uuid[], phone text, preferred uuid) RETURNS uuid
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    candidate uuid;
    appt uuid;
    starts timestamptz;
    best uuid;
    best_starts timestamptz;
BEGIN
    FOREACH candidate IN ARRAY coalesce(orgs, '{}') LOOP
        appt := internal.next_appointment(candidate, phone, now_ts);
        CONTINUE WHEN appt IS NULL;
        SELECT h.starts_at INTO starts FROM voxbook.appointments AS a
          JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
         WHERE a.org_id = candidate AND a.id = appt;
        IF best IS NULL OR starts < best_starts THEN
            best := candidate;
            best_starts := starts;
        END IF;
    END LOOP;
    IF best IS NOT NULL THEN
        RETURN best;
    ELSIF preferred = ANY (orgs) THEN
        RETURN preferred;
    ELSIF cardinality(orgs) = 1 THEN
        RETURN orgs[1];
    END IF;
    RETURN NULL;
END
$$;

-- What a reply is: 'confirm', 'reschedule' or NULL (anything else), from its whole body, case-insensitive,
-- spaces and a final full stop or exclamation mark ignored.
CREATE FUNCTION internal.sms_reply_word(body text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN w IN ('C', 'CONFIRM', 'CONFIRMED', 'CONFIRMAR', 'CONFIRMO', 'CONFIRMADO') THEN 'confirm'
                WHEN w IN ('R', 'RESCHEDULE', 'CAMBIAR', 'REPROGRAMAR') THEN 'reschedule' END
      FROM (SELECT upper(regexp_replace(btrim(coalesce(body, '')), '[[:space:].!]+$', '')) AS w) AS x
$$;

-- Routes one reply at one clinic (see the top of this file) and returns {"kind": "confirm" | "reschedule" |
-- "no_appointment" | "inbox" (| "waitlist"), "reply" (the text to answer with, or null), "appointment_id",
-- "callback_request_id", "inbox_id"}. message_sid: Twilio's (the inbox keeps it once per clinic).
CREATE FUNCTION internal.route_sms_reply(org_id uuid, phone text, body text, message_sid text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    o voxbook.organizations;
    now_ts timestamptz := internal.clock();
    word text := internal.sms_reply_word(body);
    waitlist jsonb;
    appt uuid;
    appt_status text;
    starts timestamptz;
    provider text;
    patient text;
    tag text;
    clinic_tag text;
    opted_out boolean;
    args jsonb;
    kind text;
    reply text;
    request_id uuid;
    item voxbook.sms_inbox;
    recent boolean;
    desk text;
    forward voxbook.sms_outbox;
    text_in text := left(btrim(coalesce(body, '')), 1600);
BEGIN
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = route_sms_reply.org_id;
    IF NOT FOUND OR phone IS NULL OR text_in = '' THEN
        RETURN NULL;
    END IF;

    -- == Waitlist offers first (issue 15, 48_waitlist.sql): an answer to a live offer is the waitlist's. ==
    waitlist := internal.waitlist_reply(org_id, phone, body, message_sid);
    IF waitlist IS NOT NULL THEN
        RETURN waitlist || jsonb_build_object('kind', 'waitlist');   -- "action": waitlist_booked | _gone | _expired
    END IF;
    -- == end of the waitlist's place ==

    SELECT ct.sms_opted_out INTO opted_out FROM voxbook.contacts AS ct
     WHERE ct.org_id = o.id AND ct.phone = route_sms_reply.phone;
    clinic_tag := internal.clinic_locale(o.locale);
    args := jsonb_build_object('clinic', o.name, 'clinic_phone', internal.display_phone(o.phone, o.country));

    -- The next appointment, locked by its key (replies of one patient at once: one after the other), checked again.
    appt := internal.next_appointment(o.id, phone, now_ts);
    IF appt IS NOT NULL THEN
        SELECT a.status INTO appt_status FROM voxbook.appointments AS a
         WHERE a.org_id = o.id AND a.id = appt FOR UPDATE;
        IF appt_status IS DISTINCT FROM 'confirmed' THEN
            appt := internal.next_appointment(o.id, phone, now_ts);
        END IF;
    END IF;
    IF appt IS NOT NULL THEN
        SELECT h.starts_at, c.display_name, a.locale, coalesce(a.patient_name, ct.name)
          INTO starts, provider, tag, patient
          FROM voxbook.appointments AS a
          JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
          JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
          JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE a.org_id = o.id AND a.id = appt;
        tag := coalesce(tag, clinic_tag);
        args := args || internal.when_parts(starts, o.time_zone, internal.locale(tag))
                     || jsonb_build_object('provider', provider);
    ELSE
        tag := clinic_tag;
    END IF;

    IF word IS NOT NULL AND appt IS NULL THEN
        kind := 'no_appointment';
        reply := internal.message('sms.reply.no_appointment', tag, args);
    ELSIF word = 'confirm' THEN
        kind := 'confirm';
        UPDATE voxbook.appointments AS a SET patient_confirmed_at = coalesce(a.patient_confirmed_at, now_ts)
         WHERE a.org_id = o.id AND a.id = appt;
        reply := internal.message('sms.reply.confirmed', tag, args);
    ELSIF word = 'reschedule' THEN
        kind := 'reschedule';
        -- One open request per appointment: a second R finds the first (the front desk was texted once).
        SELECT r.id INTO request_id FROM voxbook.callback_requests AS r
         WHERE r.org_id = o.id AND r.appointment_id = appt AND r.kind = 'reschedule_request' AND r.status = 'open'
         ORDER BY r.created_at LIMIT 1;
        IF request_id IS NULL THEN
            request_id := (internal.request_callback(
                o.id, 'reschedule_request',
                internal.message('sms.reply.reschedule_reason', clinic_tag,
                                 internal.when_parts(starts, o.time_zone, internal.locale(clinic_tag))
                                 || jsonb_build_object('provider', provider)),
                phone, patient, NULL, appt)->'callback_request'->>'id')::uuid;
        END IF;
        reply := internal.message('sms.reply.reschedule', tag, args);
    END IF;

    IF kind IS NULL THEN
        kind := 'inbox';
        -- Several texts in a row (or another machine answering ours): the first of the hour is forwarded and
        -- acknowledged, the others are only stored (no loop of automatic answers, one SMS to the desk).
        recent := EXISTS (SELECT 1 FROM voxbook.sms_inbox AS i
                           WHERE i.org_id = o.id AND i.phone = route_sms_reply.phone
                             AND i.received_at > now_ts - interval '1 hour');
        INSERT INTO voxbook.sms_inbox AS i (org_id, message_sid, phone, body, appointment_id, received_at)
        VALUES (o.id, message_sid, phone, text_in, appt, now_ts)
        ON CONFLICT ON CONSTRAINT sms_inbox_once_per_message DO NOTHING
        RETURNING i.* INTO item;
        IF item.id IS NULL THEN   -- this message was stored before (only without sms_inbound's check)
            SELECT * INTO item FROM voxbook.sms_inbox AS i
             WHERE i.message_sid = route_sms_reply.message_sid AND i.org_id = o.id;
            recent := true;
        END IF;
        desk := internal.front_desk_number(o);   -- front_desk_phone, else hot_lead_alert_phone (52_front_desk.sql)
        IF NOT recent AND desk IS NOT NULL THEN
            forward := internal.queue_sms(o.id, 'other', desk, internal.gsm7(internal.message(
                'sms.reply.forward', clinic_tag, jsonb_build_object(
                    'clinic', o.name,
                    'name', coalesce(nullif(btrim(patient), ''),
                                     internal.message('sms.hot_lead.unknown_caller', clinic_tag, '{}')),
                    'phone', internal.display_phone(phone, o.country),
                    'text', CASE WHEN length(text_in) > 100 THEN left(text_in, 97) || '...' ELSE text_in END))));
            UPDATE voxbook.sms_inbox AS i SET forwarded_sms_id = forward.id
             WHERE i.org_id = o.id AND i.id = item.id;
        END IF;
        IF NOT recent THEN
            reply := internal.message('sms.reply.received', tag, args);
        END IF;
    END IF;

    RETURN jsonb_build_object(
        'kind', kind,
        -- Twilio refuses a text to a number opted out of the clinic: no answer then (the reply is still acted on).
        'reply', CASE WHEN coalesce(opted_out, false) THEN NULL ELSE internal.gsm7(reply) END,
        'org_id', o.id, 'appointment_id', appt, 'callback_request_id', request_id, 'inbox_id', item.id);
END
$$;

-- Called by api.record_inbound_sms for a text that is no carrier keyword: chooses the clinic (internal.sms_reply_org)
-- and routes it there. NULL when no clinic is concerned.
CREATE FUNCTION internal.route_inbound_reply(orgs uuid[], phone text, preferred uuid, body text, message_sid text)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    target uuid := internal.sms_reply_org(orgs, phone, preferred);
BEGIN
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN internal.route_sms_reply(target, phone, body, message_sid);
END
$$;


CREATE FUNCTION api.list_sms_inbox(org_id uuid, status text DEFAULT 'open', max_items int DEFAULT 50)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    loc constant jsonb := internal.field_locale(o.locale);
BEGIN
    IF status IS NULL OR status NOT IN ('open', 'done', 'all') THEN
        PERFORM internal.fail('VB400', 'status must be open, done or all', 'Leave it out for the open messages.');
    END IF;
    IF max_items IS NULL OR max_items NOT BETWEEN 1 AND 500 THEN
        PERFORM internal.fail('VB400', 'max_items must be between 1 and 500', 'Leave it out for the newest 50.');
    END IF;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'items', (
        SELECT coalesce(jsonb_agg(x.j ORDER BY x.received_at DESC, x.id), '[]')
          FROM (SELECT i.received_at, i.id, jsonb_build_object(
                       'inbox_id', i.id, 'status', i.status, 'body', i.body,
                       'phone', i.phone, 'phone_display', internal.display_phone(i.phone, o.country),
                       'patient_name', coalesce(a.patient_name, ct.name),
                       'appointment_id', i.appointment_id,
                       'appointment_local_time', internal.local_text(h.starts_at, o.time_zone, loc),
                       'received_at', internal.utc_iso(i.received_at),
                       'local_received_at', internal.local_text(i.received_at, o.time_zone, loc),
                       'forwarded', i.forwarded_sms_id IS NOT NULL,
                       'done_at', internal.utc_iso(i.done_at), 'done_by', i.done_by) AS j
                  FROM voxbook.sms_inbox AS i
                  LEFT JOIN voxbook.appointments AS a ON a.org_id = i.org_id AND a.id = i.appointment_id
                  LEFT JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
                  LEFT JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
                 WHERE i.org_id = o.id AND (list_sms_inbox.status = 'all' OR i.status = list_sms_inbox.status)
                 ORDER BY i.received_at DESC, i.id
                 LIMIT max_items) AS x));
END
$$;
COMMENT ON FUNCTION api.list_sms_inbox(uuid, text, int) IS
$$The clinic's SMS inbox: texts from patients that were not a carrier keyword (STOP, HELP...) nor a reply C or R
(db/functions/46_sms_replies.sql), newest first. status: 'open' (default), 'done' or 'all'; max_items 1-500
(default 50). Returns {"success": true, "org_id", "items": [{"inbox_id", "status", "body", "phone",
"phone_display", "patient_name", "appointment_id" (the sender's next appointment when it came, or null),
"appointment_local_time", "received_at", "local_received_at", "forwarded" (texted to the front desk),
"done_at", "done_by"}]}. Errors: VB404 unknown org; VB400 status or max_items out of range.
Example: SELECT api.list_sms_inbox('a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    item voxbook.sms_inbox;
    now_ts timestamptz := internal.clock();
    -- required, so not internal.changed_by (which would put the database user in for a blank one); capped
    -- as every audited name is (63_audit.sql), never refused for its length
    who text := internal.audit_name(done_by);
    changed boolean := false;
BEGIN
    PERFORM internal.require(inbox_id, 'inbox_id');
    IF who IS NULL THEN
        PERFORM internal.fail('VB400', 'done_by is required',
                              'Pass the name of the staff member who handled the message.');
    END IF;
    SELECT * INTO item FROM voxbook.sms_inbox AS i
     WHERE i.org_id = o.id AND i.id = resolve_sms_inbox_item.inbox_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'inbox message not found',
                              'Pass an inbox_id of this clinic from api.list_sms_inbox.');
    END IF;
    IF item.status = 'open' THEN
        UPDATE voxbook.sms_inbox AS i SET status = 'done', done_at = now_ts, done_by = who
         WHERE i.org_id = o.id AND i.id = item.id
        RETURNING i.* INTO item;
        changed := true;
    END IF;
    RETURN jsonb_build_object('success', true, 'inbox_id', item.id, 'status', item.status, 'changed', changed,
                              'done_at', internal.utc_iso(item.done_at), 'done_by', item.done_by);
END
$$;
COMMENT ON FUNCTION api.resolve_sms_inbox_item(uuid, uuid, text) IS
$$Marks a message of the clinic's SMS inbox handled (status done) by done_by (a staff member's name; a longer one
than 200 characters is shortened as internal.audit_name does, a trailing <email> kept whole). Already
done: nothing changes ("changed": false, the first done_by and done_at stay). Returns {"success": true,
"inbox_id", "status": "done", "changed", "done_at", "done_by"}. Errors: VB404 unknown org or inbox_id (another
clinic's message is unknown here); VB400 missing inbox_id or done_by.
Example: SELECT api.resolve_sms_inbox_item('a0000000-0000-0000-0000-000000000001', '<inbox_id>', 'Ana');$$;
