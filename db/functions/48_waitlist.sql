-- The waitlist (issue 15): a caller for whom no time fits joins it (api.join_waitlist, the join_waitlist
-- tool); when a time in their window is free again -- an appointment cancelled or moved, a hold released or
-- expired, staff time off lifted -- api.offer_waitlist_openings (the SMS worker calls it on every poll) texts it
-- to the first waiting patients (first come first served, at most max_offers at once per time) with a short
-- reply window; the first reply that takes it (BOOK or 1: not YES/START/UNSTOP, which re-subscribe at
-- Twilio) books it through the same atomic claim as every booking (internal.waitlist_reply, called first by
-- the SMS reply router); the others are told it is gone and stay on the list for the next time.
-- Tables: voxbook.waitlist, voxbook.waitlist_offers (migration 0029).

-- The words that take an offer: whole body, case-insensitive, trailing punctuation ignored.
CREATE FUNCTION internal.waitlist_accept_word(body text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
    SELECT upper(regexp_replace(btrim(coalesce(body, '')), '[[:space:].!]+$', '')) IN ('BOOK', '1')
$$;


-- The text of an offer-related message in the entry's language (NULL: the clinic's).
CREATE FUNCTION internal.waitlist_text(key text, o voxbook.organizations, tag text, starts timestamptz,
                                       provider text, minutes int DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    loc constant text := coalesce(tag, internal.clinic_locale(o.locale));
BEGIN
    RETURN internal.gsm7(internal.message(key, loc,
               internal.when_parts(starts, o.time_zone, internal.field_locale(o.locale, tag))
               || jsonb_build_object('clinic', o.name, 'provider', provider, 'minutes', minutes,
                                     'clinic_phone', internal.display_phone(o.phone, o.country))));
END
$$;


CREATE FUNCTION api.join_waitlist(org_id uuid, caller_phone text DEFAULT NULL, first_day date DEFAULT NULL,
                                  last_day date DEFAULT NULL, from_time time DEFAULT NULL, to_time time DEFAULT NULL,
                                  service text DEFAULT NULL, calendar_id text DEFAULT NULL,
                                  patient_name text DEFAULT NULL, call_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    s voxbook.services := internal.find_service(org_id, service);
    phone text := internal.normalize_phone(nullif(btrim(caller_phone), ''), o.country);
    call_sid constant text := nullif(btrim(call_id), '');
    today date := (internal.clock() AT TIME ZONE o.time_zone)::date;
    last_d date := coalesce(last_day, first_day);
    e voxbook.waitlist;
BEGIN
    -- The offers go to this number and a reply from it books: only the number the call comes from (Vapi's
    -- call.customer.number, the adapter's caller_phone) will do. Withheld: a refusal the assistant words.
    IF phone IS NULL THEN
        RETURN jsonb_build_object('success', false, 'code', 'phone_needed',
                                  'error', 'The caller''s number is withheld; the waitlist texts the number a caller calls from');
    END IF;
    PERFORM internal.require_date(first_day, 'first_day');
    PERFORM internal.require_date(last_d, 'last_day');
    IF last_d < first_day OR last_d < today OR last_d - greatest(first_day, today) > 62 THEN
        PERFORM internal.fail('VB400', 'the waitlist window must end today or later, after it starts, within 62 days',
                              'Give first_day and last_day as local dates, e.g. the next two weeks.');
    END IF;
    IF coalesce(from_time, '00:00') >= coalesce(to_time, '23:59') THEN
        PERFORM internal.fail('VB400', 'from_time must be before to_time',
                              'Give the earliest and latest local start times, e.g. 09:00 and 12:00.');
    END IF;
    IF length(patient_name) > 200 OR length(call_sid) > 200 THEN
        PERFORM internal.fail('VB400', 'patient_name and call_id are limited to 200 characters', 'Shorten the value.');
    END IF;
    IF calendar_id IS NOT NULL THEN
        PERFORM internal.require_offered(internal.require_calendar(org_id, calendar_id), s);
    ELSE
        PERFORM internal.require_offered(NULL, s);
    END IF;
    -- A redelivered tool call (same call) finds the entry made the first time.
    IF call_sid IS NOT NULL THEN
        SELECT * INTO e FROM voxbook.waitlist AS w WHERE w.org_id = o.id AND w.vapi_call_id = call_sid;
    END IF;
    IF e.id IS NULL THEN
        INSERT INTO voxbook.waitlist AS w (org_id, service_id, calendar_id, first_day, last_day, from_time, to_time,
                                           patient_name, phone, locale, vapi_call_id)
        VALUES (o.id, s.id, join_waitlist.calendar_id, greatest(first_day, today), last_d,
                coalesce(from_time, '00:00'), coalesce(to_time, '23:59'), internal.one_line(patient_name), phone,
                internal.call_locale(o, call_sid), call_sid)
        ON CONFLICT ON CONSTRAINT waitlist_once_per_call DO NOTHING
        RETURNING w.* INTO e;
        IF e.id IS NULL THEN
            SELECT * INTO e FROM voxbook.waitlist AS w WHERE w.org_id = o.id AND w.vapi_call_id = call_sid;
        END IF;
    END IF;
    RETURN jsonb_build_object('success', true, 'waitlist_id', e.id, 'status', e.status,
                              'first_day', e.first_day, 'last_day', e.last_day,
                              'from_time', to_char(e.from_time, 'HH24:MI'), 'to_time', to_char(e.to_time, 'HH24:MI'),
                              'service', e.service_id, 'calendar_id', e.calendar_id,
                              'message', 'On the waitlist: a freed time in the window is texted to the patient');
END
$$;
COMMENT ON FUNCTION api.join_waitlist(uuid, text, date, date, time, time, text, text, text, text) IS
$$Puts a caller on the clinic's waitlist when no time fits: caller_phone (the trusted caller number: the
join_waitlist voice tool passes Vapi's call.customer.number, never the model's), a window of local dates first_day..last_day (default: first_day only;
a past start is moved to today) and local start times from_time..to_time (default the whole day), a service
(its length and buffers; NULL: the provider's default) and a provider (calendar_id; NULL: any who offers it).
First come first served. Idempotent per call (call_id, Vapi's call.id). Offers come by SMS
(api.offer_waitlist_openings); a reply of BOOK or 1 takes one.
Returns {"success": true, "waitlist_id", "status", "first_day", "last_day", "from_time", "to_time", "service",
"calendar_id", "message"}, or {"success": false, "code": "phone_needed", "error"} when caller_phone is missing
(a withheld number: nothing is stored).
Errors: VB404 unknown org, calendar or service; VB400 first_day missing, a malformed phone, a window that ended,
ends before it starts or spans more than 62 days, from_time not before to_time, a calendar that does not offer
the service.
Example: SELECT api.join_waitlist('a0000000-0000-0000-0000-000000000001', '+15555550123', current_date,
         current_date + 7, '09:00', '12:00', 'cleaning');$$;


-- One clinic's round: live offers past their window expire, entries past their last day expire, then each
-- waiting entry without a live offer, oldest first, is offered the earliest free time of its window not yet
-- offered to it that fewer than max_offers patients hold a live offer for. Returns the offers made.
CREATE FUNCTION internal.waitlist_sweep(org_id uuid, max_offers int, reply_minutes int) RETURNS int
    LANGUAGE plpgsql AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    today date := (now_ts AT TIME ZONE o.time_zone)::date;
    e voxbook.waitlist;
    s voxbook.services;
    slot record;
    candidate record;
    chosen boolean;
    offer voxbook.waitlist_offers;
    sms voxbook.sms_outbox;
    n int := 0;
    first_d date;
BEGIN
    UPDATE voxbook.waitlist_offers AS x SET status = 'expired', answered_at = now_ts
     WHERE x.org_id = o.id AND x.status = 'sent' AND x.expires_at <= now_ts;
    UPDATE voxbook.waitlist AS w SET status = 'expired', updated_at = now_ts
     WHERE w.org_id = o.id AND w.status = 'waiting' AND w.last_day < today;
    FOR e IN SELECT * FROM voxbook.waitlist AS w
              WHERE w.org_id = o.id AND w.status = 'waiting'
                AND NOT EXISTS (SELECT 1 FROM voxbook.waitlist_offers AS x
                                 WHERE x.org_id = w.org_id AND x.entry_id = w.id AND x.status = 'sent')
              ORDER BY w.created_at, w.id
    LOOP
        -- Two workers sweeping at once: each entry is offered by one of them.
        PERFORM 1 FROM voxbook.waitlist AS w WHERE w.org_id = e.org_id AND w.id = e.id AND w.status = 'waiting'
           FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        BEGIN
            s := internal.find_service(o.id, e.service_id);
        EXCEPTION WHEN SQLSTATE 'VB404' THEN
            CONTINUE;
        END;
        CONTINUE WHEN s.id IS NOT NULL AND NOT s.active;
        first_d := greatest(e.first_day, today);
        -- The free times first, on their own; then the offers of each, one statement at a time. On Citus a
        -- statement that reads a clinic table beside internal.free_slots() is pushed to the shard, and
        -- free_slots' own queries cannot run from there ("a distributed query from a query on a shard").
        chosen := false;
        FOR candidate IN
            SELECT f.cal_id, f.provider, f.starts_at
              FROM internal.free_slots(o, e.calendar_id, s, first_d, e.last_day - first_d + 1) AS f
             WHERE (f.starts_at AT TIME ZONE o.time_zone)::time >= e.from_time
               AND (f.starts_at AT TIME ZONE o.time_zone)::time <= e.to_time
               AND f.starts_at > now_ts
             ORDER BY f.starts_at, f.cal_id
        LOOP
            CONTINUE WHEN EXISTS (SELECT 1 FROM voxbook.waitlist_offers AS x
                                   WHERE x.org_id = o.id AND x.entry_id = e.id
                                     AND x.calendar_id = candidate.cal_id AND x.starts_at = candidate.starts_at);
            CONTINUE WHEN (SELECT count(*) FROM voxbook.waitlist_offers AS x
                            WHERE x.org_id = o.id AND x.calendar_id = candidate.cal_id
                              AND x.starts_at = candidate.starts_at AND x.status = 'sent') >= max_offers;
            slot := candidate;
            chosen := true;
            EXIT;
        END LOOP;
        CONTINUE WHEN NOT chosen;
        INSERT INTO voxbook.waitlist_offers AS x (org_id, entry_id, calendar_id, service_id, starts_at, phone, expires_at,
                                                  created_at)
        VALUES (o.id, e.id, slot.cal_id, s.id, slot.starts_at, e.phone, now_ts + make_interval(mins => reply_minutes),
                now_ts)
        ON CONFLICT ON CONSTRAINT waitlist_offers_once DO NOTHING
        RETURNING x.* INTO offer;
        CONTINUE WHEN offer.id IS NULL;
        -- The offer text is useless once the reply window has passed: it expires with it.
        sms := internal.queue_sms(o.id, 'other', e.phone,
                                  internal.waitlist_text('sms.waitlist_offer', o, e.locale, slot.starts_at,
                                                         slot.provider, reply_minutes),
                                  expires_at => offer.expires_at);
        UPDATE voxbook.waitlist_offers AS x SET sms_id = sms.id WHERE x.org_id = o.id AND x.id = offer.id;
        slot := NULL;
        offer := NULL;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;


CREATE FUNCTION api.offer_waitlist_openings(org_id uuid DEFAULT NULL, max_offers int DEFAULT 3,
                                            reply_minutes int DEFAULT 15)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    clinic uuid;
    n int := 0;
BEGIN
    IF org_id IS NOT NULL THEN
        PERFORM internal.require_org(org_id);   -- VB404 for an unknown clinic, not a silent "offers": 0
    END IF;
    IF max_offers IS NULL OR max_offers NOT BETWEEN 1 AND 50 THEN
        PERFORM internal.fail('VB400', 'max_offers must be between 1 and 50', 'Offer a freed time to a few patients at once, e.g. 3.');
    END IF;
    IF reply_minutes IS NULL OR reply_minutes NOT BETWEEN 1 AND 240 THEN
        PERFORM internal.fail('VB400', 'reply_minutes must be between 1 and 240', 'A short window, e.g. 15.');
    END IF;
    -- Candidates unlocked across clinics (Citus: no multi-shard FOR UPDATE), then one clinic at a time.
    FOR clinic IN SELECT DISTINCT w.org_id FROM voxbook.waitlist AS w
                   WHERE w.status = 'waiting' AND (offer_waitlist_openings.org_id IS NULL OR w.org_id = offer_waitlist_openings.org_id)
    LOOP
        n := n + internal.waitlist_sweep(clinic, max_offers, reply_minutes);
    END LOOP;
    RETURN jsonb_build_object('success', true, 'offers', n);
END
$$;
COMMENT ON FUNCTION api.offer_waitlist_openings(uuid, int, int) IS
$$Offers freed times to waitlisted patients (all clinics, or one): expires offers whose reply window passed and
entries whose last day passed, then gives each waiting patient without a live offer, first come first served,
the earliest free time of their window (service, provider or any, local days and start times) not offered to
them before, as long as fewer than max_offers patients hold a live offer of that time; each offer is an SMS
("Reply BOOK or 1 within N minutes"), live for reply_minutes. A time frees up when an appointment is cancelled
or moved, a hold released or expired, or time off lifted: free is what api.check_availability offers. The SMS
worker calls it on every poll; a reply books through internal.waitlist_reply (the SMS reply router).
Returns {"success": true, "offers": n}. Errors: VB404 an org_id that is no clinic; VB400 max_offers not 1-50,
reply_minutes not 1-240.
Example: SELECT api.offer_waitlist_openings('a0000000-0000-0000-0000-000000000001');$$;


-- An SMS reply from `phone` to the clinic: when it takes (BOOK or 1) an offer made to that number, books it and
-- returns what happened ({"success", "action": "waitlist_booked" | "waitlist_gone" | "waitlist_expired",
-- "reply": the text to answer with (NULL: the confirmation SMS says it), "appointment_id"}); NULL when the text
-- is not an answer to a waitlist offer (the SMS reply router then goes on). The first reply among those offered
-- one time wins: the same claim as every booking (api.claim_slot_atomic: holds_no_overlap), confirmed with
-- confirmed_via 'waitlist' (the reply from the number the offer went to is the verification, confirmed_by
-- "sms reply <MessageSid>"); the other live offers of that time are told it is gone, once: their own BOOK
-- racing the winner's gets no second text (reply NULL), a later one is answered. A second BOOK from the winner
-- returns the same appointment.
CREATE FUNCTION internal.waitlist_reply(org_id uuid, phone text, body text, message_sid text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    o voxbook.organizations;
    now_ts timestamptz := internal.clock();
    offer voxbook.waitlist_offers;
    e voxbook.waitlist;
    other voxbook.waitlist_offers;
    other_entry voxbook.waitlist;
    provider text;
    claimed jsonb;
    confirmed jsonb;
    hold uuid;
    appointment uuid;
BEGIN
    IF phone IS NULL OR NOT internal.waitlist_accept_word(body) THEN
        RETURN NULL;
    END IF;
    -- The offer this answers: a live one (oldest first), else the newest of the last day (to say it is gone).
    SELECT * INTO offer FROM voxbook.waitlist_offers AS x
     WHERE x.org_id = waitlist_reply.org_id AND x.phone = waitlist_reply.phone
       AND x.created_at > now_ts - interval '1 day'
     ORDER BY x.status = 'sent' DESC,
              CASE WHEN x.status = 'sent' THEN x.created_at END ASC,
              x.created_at DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    o := internal.require_org(org_id);
    -- Replies of one patient are serialised on their offer (a redelivered or repeated BOOK).
    SELECT * INTO offer FROM voxbook.waitlist_offers AS x
     WHERE x.org_id = offer.org_id AND x.id = offer.id FOR UPDATE;
    SELECT * INTO e FROM voxbook.waitlist AS w WHERE w.org_id = offer.org_id AND w.id = offer.entry_id;
    SELECT c.display_name INTO provider FROM voxbook.calendars AS c
     WHERE c.org_id = offer.org_id AND c.id = offer.calendar_id;
    IF offer.status = 'accepted' THEN
        RETURN jsonb_build_object('success', true, 'action', 'waitlist_booked', 'duplicate', true,
                                  'appointment_id', offer.appointment_id, 'reply', NULL);
    END IF;
    IF offer.status = 'sent' AND offer.expires_at <= now_ts THEN
        UPDATE voxbook.waitlist_offers AS x SET status = 'expired', answered_at = now_ts, answer_sid = message_sid
         WHERE x.org_id = offer.org_id AND x.id = offer.id;
        offer.status := 'expired';
    END IF;
    IF offer.status = 'expired' THEN
        RETURN jsonb_build_object('success', true, 'action', 'waitlist_expired', 'appointment_id', NULL,
                                  'reply', internal.waitlist_text('sms.waitlist_expired', o, e.locale, offer.starts_at, provider));
    END IF;
    IF offer.status = 'sent' AND e.status = 'waiting' THEN
        BEGIN
            claimed := api.claim_slot_atomic(offer.org_id, offer.calendar_id, offer.starts_at, NULL, e.patient_name,
                                             offer.phone, 1, offer.service_id);
        EXCEPTION WHEN SQLSTATE 'VB400' OR SQLSTATE 'VB404' THEN
            -- no longer bookable (too soon now, the provider's hours changed): gone as well
            claimed := jsonb_build_object('success', false, 'code', 'not_bookable');
        END;
        IF (claimed->>'success')::boolean THEN
            hold := (claimed->>'hold_id')::uuid;
            UPDATE voxbook.holds AS x SET locale = e.locale, vapi_call_id = e.vapi_call_id
             WHERE x.org_id = offer.org_id AND x.id = hold;
            confirmed := internal.confirm_hold(offer.org_id, hold, NULL, NULL, 'waitlist',
                                               'sms reply ' || coalesce(left(message_sid, 64), 'without MessageSid'));
            appointment := (confirmed->>'appointment_id')::uuid;
            UPDATE voxbook.waitlist_offers AS x
               SET status = 'accepted', answered_at = now_ts, answer_sid = message_sid, appointment_id = appointment
             WHERE x.org_id = offer.org_id AND x.id = offer.id;
            UPDATE voxbook.waitlist AS w SET status = 'booked', appointment_id = appointment, updated_at = now_ts
             WHERE w.org_id = e.org_id AND w.id = e.id;
            -- The others offered this time: told it is gone (they stay on the list). One that is replying at
            -- this very moment holds its row: skipped here, it learns it from its own claim.
            FOR other IN SELECT * FROM voxbook.waitlist_offers AS x
                          WHERE x.org_id = offer.org_id AND x.calendar_id = offer.calendar_id
                            AND x.starts_at = offer.starts_at AND x.status = 'sent' AND x.id <> offer.id
                          ORDER BY x.id FOR UPDATE SKIP LOCKED
            LOOP
                UPDATE voxbook.waitlist_offers AS x SET status = 'lost', answered_at = now_ts
                 WHERE x.org_id = other.org_id AND x.id = other.id;
                SELECT * INTO other_entry FROM voxbook.waitlist AS w WHERE w.org_id = other.org_id AND w.id = other.entry_id;
                PERFORM internal.queue_sms(o.id, 'other', other.phone,
                                           internal.waitlist_text('sms.waitlist_gone', o, other_entry.locale,
                                                                  other.starts_at, provider));
            END LOOP;
            RETURN jsonb_build_object('success', true, 'action', 'waitlist_booked', 'appointment_id', appointment,
                                      'reply', NULL);
        END IF;
    END IF;
    -- Lost to the winner's reply, whose transaction queued this patient's "gone" text (answer_sid still NULL):
    -- that text is the answer, so a BOOK racing the winner's is told once, not twice. A later BOOK is answered.
    IF offer.status = 'lost' AND offer.answer_sid IS NULL THEN
        UPDATE voxbook.waitlist_offers AS x SET answer_sid = message_sid
         WHERE x.org_id = offer.org_id AND x.id = offer.id;
        RETURN jsonb_build_object('success', true, 'action', 'waitlist_gone', 'appointment_id', NULL, 'reply', NULL);
    END IF;
    -- Taken by someone else (or this entry was booked meanwhile): this offer is lost; the entry keeps waiting.
    IF offer.status = 'sent' THEN
        UPDATE voxbook.waitlist_offers AS x SET status = 'lost', answered_at = now_ts, answer_sid = message_sid
         WHERE x.org_id = offer.org_id AND x.id = offer.id;
    END IF;
    RETURN jsonb_build_object('success', true, 'action', 'waitlist_gone', 'appointment_id', NULL,
                              'reply', internal.waitlist_text('sms.waitlist_gone', o, e.locale, offer.starts_at, provider));
END
$$;


CREATE FUNCTION api.list_waitlist(org_id uuid, status text DEFAULT 'waiting', max_rows int DEFAULT 200)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    loc constant jsonb := internal.field_locale(o.locale);
BEGIN
    IF status IS NOT NULL AND status NOT IN ('waiting', 'booked', 'removed', 'expired') THEN
        PERFORM internal.fail('VB400', 'status must be waiting, booked, removed or expired', 'Or NULL for every entry.');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 1000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 1000', 'Leave it out for 200.');
    END IF;
    -- One clinic's rows joined on org_id and grouped (no correlated subquery: on Citus the whole statement is
    -- routed to the clinic's shard, which takes a join but not a subquery per row beside one in FROM).
    RETURN jsonb_build_object('success', true, 'entries', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'waitlist_id', w.id, 'status', w.status, 'patient_name', w.patient_name,
                   'phone', internal.display_phone(w.phone, o.country), 'service', w.service_id,
                   'calendar_id', w.calendar_id, 'first_day', w.first_day, 'last_day', w.last_day,
                   'from_time', to_char(w.from_time, 'HH24:MI'), 'to_time', to_char(w.to_time, 'HH24:MI'),
                   'joined_at', internal.utc_iso(w.created_at), 'appointment_id', w.appointment_id,
                   'offers', w.offers)
                   ORDER BY w.created_at, w.id)
          FROM (SELECT y.id, y.status, y.patient_name, y.phone, y.service_id, y.calendar_id, y.first_day, y.last_day,
                       y.from_time, y.to_time, y.created_at, y.appointment_id,
                       coalesce(jsonb_agg(jsonb_build_object(
                                    'offer_id', x.id, 'status', x.status, 'calendar_id', x.calendar_id,
                                    'time', internal.utc_iso(x.starts_at),
                                    'local_time', internal.local_text(x.starts_at, o.time_zone, loc),
                                    'expires_at', internal.utc_iso(x.expires_at))
                                ORDER BY x.created_at) FILTER (WHERE x.id IS NOT NULL), '[]') AS offers
                  FROM voxbook.waitlist AS y
                  LEFT JOIN voxbook.waitlist_offers AS x ON x.org_id = y.org_id AND x.entry_id = y.id
                 WHERE y.org_id = o.id AND (list_waitlist.status IS NULL OR y.status = list_waitlist.status)
                 GROUP BY y.org_id, y.id
                 ORDER BY y.created_at, y.id LIMIT max_rows) AS w), '[]'));
END
$$;
COMMENT ON FUNCTION api.list_waitlist(uuid, text, int) IS
$$The clinic's waitlist for staff, first come first served: {"success": true, "entries": [{"waitlist_id", "status"
(waiting, booked, removed, expired), "patient_name", "phone" (as the clinic writes it), "service", "calendar_id"
(NULL: any provider), "first_day", "last_day", "from_time", "to_time" (local), "joined_at", "appointment_id" (when
booked), "offers": [{"offer_id", "status" (sent, accepted, lost, expired), "calendar_id", "time", "local_time",
"expires_at"}]}]}. status NULL: every entry; max_rows (default 200, at most 1000): the oldest first.
Errors: VB404 unknown org; VB400 unknown status, max_rows not 1-1000.
Example: SELECT api.list_waitlist('a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.remove_from_waitlist(org_id uuid, waitlist_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    e voxbook.waitlist;
    now_ts timestamptz := internal.clock();
BEGIN
    PERFORM internal.require_org(org_id);
    PERFORM internal.require(waitlist_id, 'waitlist_id');
    SELECT * INTO e FROM voxbook.waitlist AS w
     WHERE w.org_id = remove_from_waitlist.org_id AND w.id = remove_from_waitlist.waitlist_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown waitlist entry', 'Use a waitlist_id from api.list_waitlist.');
    END IF;
    IF e.status = 'waiting' THEN
        UPDATE voxbook.waitlist AS w SET status = 'removed', updated_at = now_ts
         WHERE w.org_id = e.org_id AND w.id = e.id RETURNING w.* INTO e;
        UPDATE voxbook.waitlist_offers AS x SET status = 'expired', answered_at = now_ts
         WHERE x.org_id = e.org_id AND x.entry_id = e.id AND x.status = 'sent';
    END IF;
    RETURN jsonb_build_object('success', true, 'waitlist_id', e.id, 'status', e.status);
END
$$;
COMMENT ON FUNCTION api.remove_from_waitlist(uuid, uuid) IS
$$Takes a waiting patient off the waitlist (status removed; their live offer ends).
Idempotent; an entry already booked, removed or expired is returned as it is.
Returns {"success": true, "waitlist_id", "status"}. Errors: VB404 unknown org or entry; VB400 waitlist_id missing.
Example: SELECT api.remove_from_waitlist('a0000000-0000-0000-0000-000000000001', '<waitlist_id>');$$;
