-- Availability, holds and confirmation: the booking core.
-- Every api function is SECURITY DEFINER with a fixed search_path, so the API role needs nothing but
-- EXECUTE, and takes org_id so that one clinic's ids are useless to another.

-- The free slots of a clinic: the bookable starts (internal.slot_starts, the one definition shared with the
-- claim) of every active calendar offering the service, or of one, sized for a service (else each calendar's
-- default length), minus the times whose occupied range (the service's buffers included) overlaps that of a
-- live hold or confirmed appointment, over `days` local days from first_day. Unordered: callers
-- order and cut. The one query behind api.check_availability and the other times a refused claim or
-- reschedule offers (internal.alternatives), so both offer exactly the same times.
CREATE FUNCTION internal.free_slots(o voxbook.organizations, calendar_id text, s voxbook.services,
                                    first_day date, days int)
    RETURNS TABLE (cal_id text, provider text, starts_at timestamptz, ends_at timestamptz)
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    c voxbook.calendars;
    ids text[];
    names text[];
    slots int[];
    spans interval[];
    cals text[];
    starts timestamptz[];
    ends timestamptz[];
    span tstzrange;
    taken_cals text[];
    taken tstzrange[];
    now_ts timestamptz := internal.clock();
BEGIN
    -- In steps, each one query over one clinic's rows, none calling a function that reads a table from inside
    -- a query (db/README.md, Citus: on a shard that nests a distributed query, and a calendar row read inside a
    -- query has the shard's row type). The calendars one at a time only to ask internal.offers; then the
    -- bookable starts of all of them in one internal.slot_starts call and their holds in one query (one call
    -- per calendar made a refused claim's alternatives ~400 queries at a clinic of 200 providers).
    FOR c IN SELECT * FROM voxbook.calendars AS x
              WHERE x.org_id = o.id AND x.active
                AND (free_slots.calendar_id IS NULL OR x.id = free_slots.calendar_id)
    LOOP
        -- Only the providers who offer the service (voxbook.service_providers; none listed: all).
        CONTINUE WHEN NOT internal.offers(c, s);
        ids := ids || c.id;
        names := names || c.display_name;
        slots := slots || c.slot_minutes;
        spans := spans || make_interval(mins => coalesce(s.duration_minutes, c.default_duration_minutes));
    END LOOP;
    IF ids IS NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(y.cal_id), array_agg(y.starts_at), array_agg(y.ends_at),
           internal.occupied(min(y.starts_at), max(y.ends_at), s.buffer_before_minutes, s.buffer_after_minutes)
      INTO cals, starts, ends, span
      FROM internal.slot_starts(o, ids, slots, spans, free_slots.first_day,
                                free_slots.first_day + (free_slots.days - 1)) AS y;
    IF starts IS NULL THEN
        RETURN;
    END IF;
    -- The time occupied (buffers included) by these calendars' live holds and confirmed appointments anywhere
    -- near their starts (holds_no_overlap's index on org_id and the range). A start is free when the time it
    -- would occupy overlaps none of its calendar's: exactly the test of holds_no_overlap, which the claim meets.
    SELECT array_agg(h.calendar_id), array_agg(coalesce(h.occupies, tstzrange(h.starts_at, h.ends_at, '[)')))
      INTO taken_cals, taken
      FROM voxbook.holds AS h
     WHERE h.org_id = o.id AND h.calendar_id = ANY (ids)
       AND h.status IN ('held', 'confirmed')
       AND (h.status = 'confirmed' OR h.expires_at > now_ts)
       AND coalesce(h.occupies, tstzrange(h.starts_at, h.ends_at, '[)')) && span;
    RETURN QUERY
    SELECT x.cal, n.name, x.st, x.en
      FROM unnest(cals, starts, ends) AS x(cal, st, en)
      JOIN unnest(ids, names) AS n(id, name) ON n.id = x.cal
     WHERE NOT EXISTS (SELECT 1 FROM unnest(taken_cals, taken) AS t(cal, r)
                        WHERE t.cal = x.cal
                          AND t.r && internal.occupied(x.st, x.en, s.buffer_before_minutes, s.buffer_after_minutes));
END
$$;


-- What to offer a caller who lost `lost` (a claim or a reschedule refused with slot_taken): the two free
-- times of that local day nearest to it, of any calendar, sized for the same service; one per spoken time
-- (two providers free at 2 PM are one offer, said once), ties to the earlier; listed in time order.
-- PL/pgSQL rather than SQL: its plan is cached per session (a SQL function's query is planned on every
-- call, which made each refused claim ~2.5 ms slower instead of ~0.8 ms).
-- Times written in the caller's locale (tag: the claim's call, the appointment's) when known, else the clinic's.
CREATE FUNCTION internal.alternatives(o voxbook.organizations, s voxbook.services, lost timestamptz,
                                      tag text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    loc constant jsonb := internal.field_locale(o.locale, tag);
    f record;
    spoken text;
    first_spoken text;
    offered int := 0;
    starts timestamptz[];
    cal_ids text[];
    providers text[];
    spokens text[];
BEGIN
    -- Nearest first; a time is offered unless one nearer was already offered under the same spoken time. So
    -- only the few nearest free times are put into words, not the day's every one (that was two thirds of a
    -- refused claim's CPU, paid at once by the 54 losers of a hot slot: bench/README.md).
    FOR f IN SELECT x.starts_at, x.cal_id, x.provider
               FROM internal.free_slots(o, NULL, s, (lost AT TIME ZONE o.time_zone)::date, 1) AS x
              ORDER BY abs(extract(epoch FROM x.starts_at - lost)), x.starts_at, x.cal_id
    LOOP
        spoken := internal.spoken_time(f.starts_at, o.time_zone, loc);
        CONTINUE WHEN offered = 1 AND spoken IS NOT DISTINCT FROM first_spoken;
        first_spoken := coalesce(first_spoken, spoken);
        starts := starts || f.starts_at;
        cal_ids := cal_ids || f.cal_id;
        providers := providers || f.provider;
        spokens := spokens || spoken;
        offered := offered + 1;
        EXIT WHEN offered = 2;
    END LOOP;
    RETURN (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'time', internal.utc_iso(a.starts_at),
                   'calendar_id', a.cal_id,
                   'provider', a.provider,
                   'spoken_time', a.spoken,
                   'local_time', internal.local_text(a.starts_at, o.time_zone, loc))
                   ORDER BY a.starts_at, a.cal_id), '[]')
          FROM unnest(starts, cal_ids, providers, spokens) AS a(starts_at, cal_id, provider, spoken));
END
$$;


CREATE FUNCTION api.check_availability(org_id uuid, date date, calendar_id text DEFAULT NULL,
                            service text DEFAULT NULL, days int DEFAULT 1,
                            max_slots int DEFAULT NULL, spread int DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    s voxbook.services := internal.find_service(org_id, service);
    result jsonb;
    more boolean;
    loc constant jsonb := internal.field_locale(o.locale);   -- local_time, spoken_time as the clinic writes them
BEGIN
    PERFORM internal.require_date(date, 'date');
    IF days IS NULL OR days NOT BETWEEN 1 AND 62 THEN
        PERFORM internal.fail('VB400', 'days must be between 1 and 62', 'Ask for one day, or a range of at most 62 days.');
    END IF;
    IF max_slots < 1 THEN
        PERFORM internal.fail('VB400', 'max_slots must be at least 1', 'Leave it out for every free slot.');
    END IF;
    IF spread NOT BETWEEN 1 AND 100 THEN
        PERFORM internal.fail('VB400', 'spread must be between 1 and 100', 'Ask for the few times you will offer, e.g. 3.');
    END IF;
    IF calendar_id IS NOT NULL THEN
        PERFORM internal.require_offered(internal.require_calendar(org_id, calendar_id), s);
    ELSE
        PERFORM internal.require_offered(NULL, s);
    END IF;
    -- internal.free_slots stands on internal.slot_starts, the one definition of a bookable start shared with
    -- the claim: what is offered here is exactly what api.claim_slot_atomic accepts, DST days included.
    WITH free AS (
        SELECT f.* FROM internal.free_slots(o, check_availability.calendar_id, s, check_availability.date, days) AS f
         ORDER BY f.starts_at, f.cal_id
         LIMIT max_slots + 1   -- one more than asked for tells whether there are more; NULL: no limit
    ), numbered AS (
        SELECT f.*, row_number() OVER (ORDER BY f.starts_at, f.cal_id) AS rn,
               least(count(*) OVER (), coalesce(max_slots, count(*) OVER ())) AS m
          FROM free AS f
    ), chosen AS (
        -- Of the m earliest free slots, all, or `spread` of them evenly apart, first and last included
        -- (index round(i * (m - 1) / (spread - 1)) for i in 0 .. spread - 1): what a voice offers.
        SELECT nb.* FROM numbered AS nb
         WHERE nb.rn <= nb.m
           AND (spread IS NULL OR nb.m <= spread
                OR (spread = 1 AND nb.rn = 1)
                OR (spread > 1 AND EXISTS (
                        SELECT 1 FROM generate_series(0, spread - 1) AS i
                         WHERE (2 * i * (nb.m - 1) + (spread - 1)) / (2 * greatest(spread - 1, 1)) = nb.rn - 1)))
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'time', internal.utc_iso(f.starts_at),
               'ends_at', internal.utc_iso(f.ends_at),
               'calendar_id', f.cal_id,
               'provider', f.provider,
               'local_time', internal.local_text(f.starts_at, o.time_zone, loc),
               'spoken_time', internal.spoken_time(f.starts_at, o.time_zone, loc))
               ORDER BY f.starts_at, f.cal_id), '[]'),
           (SELECT count(*) FROM free) > count(*)
      INTO result, more
      FROM chosen AS f;
    RETURN jsonb_build_object('success', true, 'date', check_availability.date, 'days', days,
                              'time_zone', o.time_zone, 'service', s.id, 'slots', result, 'more', more);
END
$$;
COMMENT ON FUNCTION api.check_availability(uuid, date, text, text, int, int, int) IS
$$Free slots of a clinic for a local date (or `days` days from it), in the clinic's time zone.
Optionally for one calendar and sized for one service (its duration; else the calendar's default).
Excludes live holds, confirmed appointments (with the buffers of both: no time whose service's buffers
would overlap another booking's, nor one inside another booking's buffers), blocked periods and clinic
closures, past and too-soon times; a date's hours exceptions replace its weekday's hours. With a service:
only the providers who offer it (all active ones when it names none), "any provider" merging them.
max_slots: only the earliest max_slots free slots. spread: only that many of them, evenly apart over the
range (first and last included), for a voice that offers three times instead of reading out a day.
Returns {"success": true, "date", "days", "time_zone", "service", "slots": [{"time" (UTC, the slot id),
"ends_at", "calendar_id", "provider", "local_time", "spoken_time"}], "more": true when free slots were
left out by max_slots or spread}.
On DST days both passes through a repeated hour are offered, a wall-clock time skipped by the change is not,
and a slot must end (in real minutes) by the end of its working interval: exactly what a claim accepts.
Errors: VB404 unknown org/calendar/service; VB400 date missing, infinite, before 2000 or over five years
ahead, days not 1-62, max_slots below 1, spread not 1-100, an inactive service, a calendar that does not
offer the service.
Example: SELECT api.check_availability('a0000000-0000-0000-0000-000000000001', '2026-12-01');$$;


CREATE FUNCTION api.claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamptz,
                           call_sid text DEFAULT NULL, patient_name text DEFAULT NULL,
                           patient_phone text DEFAULT NULL, hold_minutes int DEFAULT NULL,
                           service text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    -- The calendar lock, shared, before anything is checked (internal.lock_calendar, 12_lookups.sql): a concurrent
    -- api.block_time of this provider or clinic (exclusive) is then either seen by the checks below or waits for
    -- this claim.
    c voxbook.calendars := internal.lock_calendar(org_id, calendar_id);
    -- Helpers only where they have something to do (no service named; the checks below on their failure
    -- path): each PL/pgSQL call or PERFORM costs ~30-50 k instructions in every transaction before it does
    -- anything, and the claim is the hot path (bench/README.md, issue 18). The rules stay in the helpers.
    s voxbook.services := CASE WHEN service IS NOT NULL THEN internal.find_service(org_id, service) END;
    phone text := internal.normalize_phone(patient_phone, o.country);
    minutes int := coalesce(hold_minutes, o.hold_minutes);
    now_ts timestamptz := internal.clock();
    ends timestamptz;
    occ tstzrange;
    h voxbook.holds;
    blocker voxbook.holds;
    caller_locale text;
BEGIN
    IF internal.in_time_range(slot_time) IS NOT TRUE THEN   -- NULL or out of range: the helper says which
        PERFORM internal.require_instant(slot_time, 'slot_time');
    END IF;
    IF minutes NOT BETWEEN 1 AND 60 THEN
        PERFORM internal.fail('VB400', 'hold_minutes must be between 1 and 60', 'Leave it out to use the clinic''s hold length.');
    END IF;
    IF length(patient_name) > 200 OR length(call_sid) > 200 THEN
        PERFORM internal.fail('VB400', 'patient_name and call_sid are limited to 200 characters', 'Shorten the value.');
    END IF;
    ends := slot_time + make_interval(mins => coalesce(s.duration_minutes, c.default_duration_minutes));
    IF s.id IS NOT NULL THEN   -- no service: the calendar's default length, always offered
        PERFORM internal.require_offered(c, s);
    END IF;
    PERFORM internal.assert_bookable(o, c, slot_time, ends);
    -- The time kept from other claims: the service's buffers included (holds.occupies, holds_no_overlap).
    occ := internal.occupied(slot_time, ends, s.buffer_before_minutes, s.buffer_after_minutes);

    -- The exclusion constraint holds_no_overlap is the arbiter. ON CONFLICT DO NOTHING checks it before
    -- inserting anything, so a caller who lost the race leaves no dead tuple behind (it waits for a
    -- concurrent winner to commit first); of racing claims exactly one row gets in. Only a refused
    -- claim reads who holds the time: the common, free case costs one index probe, not two.
    -- The caller's language when the call said one (voxbook.call_locales, 17_locales.sql): the hold's code
    -- and its appointment's texts are in it. NULL: the clinic's.
    IF call_sid IS NOT NULL THEN
        SELECT cl.locale INTO caller_locale FROM voxbook.call_locales AS cl
         WHERE cl.org_id = o.id AND cl.vapi_call_id = claim_slot_atomic.call_sid;
    END IF;
    FOR attempt IN 1..3 LOOP
        INSERT INTO voxbook.holds AS x (org_id, calendar_id, service_id, starts_at, ends_at, occupies, vapi_call_id,
                                        patient_name, patient_phone, expires_at, locale)
        VALUES (o.id, c.id, s.id, slot_time, ends, occ, call_sid, internal.one_line(patient_name), phone,
                now_ts + make_interval(mins => minutes), caller_locale)
        ON CONFLICT DO NOTHING
        RETURNING x.* INTO h;
        EXIT WHEN h.id IS NOT NULL;

        SELECT * INTO blocker FROM voxbook.holds AS y
         WHERE y.org_id = o.id AND y.calendar_id = c.id AND hashtextextended(y.calendar_id, 0) = hashtextextended(c.id, 0)
           AND y.status IN ('held', 'confirmed')
           AND (y.status = 'confirmed' OR y.expires_at > now_ts)
           AND coalesce(y.occupies, tstzrange(y.starts_at, y.ends_at, '[)')) && occ
         ORDER BY y.vapi_call_id IS NOT DISTINCT FROM claim_slot_atomic.call_sid DESC
         LIMIT 1;
        IF FOUND THEN
            IF call_sid IS NOT NULL AND blocker.vapi_call_id = call_sid THEN
                -- Vapi redelivers tool calls: the same call claiming the same slot gets the same hold.
                IF blocker.starts_at = slot_time AND blocker.ends_at = ends THEN
                    RETURN internal.hold_json(blocker, o, c, 'Slot already reserved on this call');
                END IF;
                IF blocker.status = 'held' THEN   -- this caller's own other time overlaps: it gives way
                    UPDATE voxbook.holds AS x SET status = 'released', release_reason = 'superseded by a new hold',
                                                  updated_at = now_ts
                     WHERE x.org_id = blocker.org_id AND x.id = blocker.id AND x.status = 'held';
                    CONTINUE;
                END IF;
            END IF;
            EXIT;   -- taken by someone else: refused below
        END IF;
        -- No live claim in the way: expired holds are, which count for the constraint until their status
        -- flips. Flip those (correctness never waits for housekeeping), in id order so that two
        -- claimers cannot deadlock on them, and try again.
        PERFORM internal.flip_expired_holds(o.id, c.id, occ);
    END LOOP;
    IF h.id IS NULL THEN
        -- Only a refused claim looks for other times (the fast path stays one index probe): the ones the
        -- assistant offers next, computed here so that the answer is complete in this one statement.
        RETURN internal.refusal('slot_taken', internal.message('refusal.slot_taken', 'en'),
                                jsonb_build_object('slot_time', internal.utc_iso(slot_time), 'calendar_id', c.id,
                                                   'alternatives', internal.alternatives(o, s, slot_time, caller_locale)));
    END IF;

    -- A call holds one slot at a time: a caller who changes their mind frees the previous time.
    -- "IS TRUE" keeps the planner on holds_by_call: a bare status test matches the partial predicate
    -- of holds_no_overlap, which it then picks on stale statistics and scans every hold of the clinic.
    IF call_sid IS NOT NULL THEN
        UPDATE voxbook.holds AS x SET status = 'released', release_reason = 'superseded by a new hold', updated_at = now_ts
         WHERE x.org_id = o.id AND x.vapi_call_id = claim_slot_atomic.call_sid AND (x.status = 'held') IS TRUE
           AND x.id <> h.id;
    END IF;
    RETURN internal.hold_json(h, o, c, format('Slot reserved for %s minutes', minutes));
END
$$;
COMMENT ON FUNCTION api.claim_slot_atomic(uuid, text, timestamptz, text, text, text, int, text) IS
$$Holds a slot for hold_minutes (default: the clinic's, 10) so nobody else can take it while the caller
confirms. Atomic: of concurrent claims on overlapping time exactly one wins (exclusion constraint
holds_no_overlap). The hold covers the service's duration, or the calendar's default, and keeps the service's
buffers before and after free too (a 60-minute cleaning with 10 minutes after occupies 70): no claim whose
time or buffers overlap another's time or buffers gets in. The calendar must offer the service
(voxbook.service_providers). It takes the provider's calendar lock (shared) first, so a concurrent api.block_time of
that time (or a clinic closure) and this claim never both succeed.
call_sid is Vapi's call.id (stored as holds.vapi_call_id; the parameter keeps the seed's name). The same
call claiming the same slot again gets the same hold; a new slot on the same call releases its previous hold.
Returns {"success": true, "hold_id", "expires_at", "message", "status", "calendar_id", "provider",
"starts_at", "ends_at", "local_time", "spoken_time"} or
{"success": false, "code": "slot_taken", "error": "Slot already held", "slot_time", "calendar_id",
"alternatives": [{"time", "calendar_id", "provider", "spoken_time", "local_time"}]}: the alternatives are the
two free times of that local day nearest to the one lost (any calendar, the same service, one per spoken
time, in time order; [] when none).
Errors: VB404 unknown org/calendar/service; VB400 slot_time missing or out of range (infinite, before 2000,
over five years ahead), slot in the past, too soon, outside working hours (or that date's hours exception),
off the slot grid, blocked, the clinic closed, malformed phone, an inactive service or one the calendar does
not offer.
Example: SELECT api.claim_slot_atomic('a0000000-0000-0000-0000-000000000001', 'cal-smith',
         '2026-12-01T15:00:00Z', 'call-123', 'John Smith', '+15555550123');$$;


CREATE FUNCTION api.release_hold(hold_id uuid, org_id uuid, reason text DEFAULT 'released')
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    h voxbook.holds;
BEGIN
    PERFORM internal.require_org(org_id);
    h := internal.lock_hold(org_id, hold_id);
    IF h.status = 'confirmed' THEN
        RETURN internal.refusal('already_confirmed', internal.message('refusal.already_confirmed', 'en'),
                                jsonb_build_object('hold_id', h.id, 'status', h.status));
    END IF;
    IF h.status = 'held' THEN
        UPDATE voxbook.holds AS x SET status = 'released', release_reason = coalesce(reason, 'released'), updated_at = now()
         WHERE x.org_id = h.org_id AND x.id = h.id
        RETURNING x.* INTO h;
        -- a code still waiting to go out is pointless now
        PERFORM internal.cancel_unsent_codes(h.org_id, h.id, 'hold released');
    END IF;
    RETURN jsonb_build_object('success', true, 'hold_id', h.id, 'status', h.status,
                              'message', 'The time is free again');
END
$$;
COMMENT ON FUNCTION api.release_hold(uuid, uuid, text) IS
$$Frees a live hold at once (caller hung up or changed their mind); idempotent on a hold that is already
released or expired. A confirmed hold is refused: cancel the appointment instead.
Returns {"success": true, "hold_id", "status", "message"} or
{"success": false, "code": "already_confirmed", "error", "hold_id", "status"}. Errors: VB404 unknown hold.
Example: SELECT api.release_hold('<hold_id>', 'a0000000-0000-0000-0000-000000000001');$$;


-- The one way a hold becomes an appointment; api.verify_otp and api.confirm_held_slot both end here.
CREATE FUNCTION internal.confirm_hold(org_id uuid, hold_id uuid, contact_id uuid, service text,
                                      via text, staff_user text)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    h voxbook.holds;
    s voxbook.services;
    cal voxbook.calendars;
    ct voxbook.contacts;
    appointment_id uuid;
    confirmation voxbook.sms_outbox;
BEGIN
    h := internal.lock_hold(org_id, hold_id);
    IF h.status = 'confirmed' THEN   -- a repeated confirmation returns the appointment made the first time
        SELECT a.id INTO appointment_id FROM voxbook.appointments AS a
         WHERE a.org_id = h.org_id AND a.hold_id = h.id;
        RETURN internal.appointment_json(h.org_id, appointment_id)
               || jsonb_build_object('message', 'Appointment already confirmed');
    END IF;
    IF h.status <> 'held' OR h.expires_at <= now_ts THEN
        RETURN internal.refusal('hold_expired', internal.message('refusal.hold_expired', 'en'),
                                jsonb_build_object('hold_id', h.id));
    END IF;
    IF via = 'otp' AND h.otp_verified_at IS NULL THEN
        RETURN internal.refusal('not_verified', internal.message('refusal.not_verified', 'en'),
                                jsonb_build_object('hold_id', h.id));
    END IF;
    s := coalesce(internal.find_service(org_id, service), internal.find_service(org_id, h.service_id));
    -- The hold's time range is what the exclusion constraint keeps for this appointment. A service of
    -- another length named only now (a 30-minute hold confirmed as a 60-minute cleaning) would book time
    -- nobody holds, for someone else to take: the caller must reserve a time for that service instead.
    -- Its buffers too: a service needing more buffer time than the hold keeps (holds.occupies) is refused alike.
    IF s.id IS DISTINCT FROM h.service_id
       AND (make_interval(mins => s.duration_minutes) <> h.ends_at - h.starts_at
            OR NOT coalesce(h.occupies, tstzrange(h.starts_at, h.ends_at, '[)'))
                   @> internal.occupied(h.starts_at, h.ends_at, s.buffer_before_minutes, s.buffer_after_minutes)) THEN
        RETURN internal.refusal('service_mismatch',
                                internal.message('refusal.service_mismatch', 'en', jsonb_build_object(
                                   'held_minutes', extract(epoch FROM h.ends_at - h.starts_at)::bigint / 60,
                                   'service', s.name, 'service_minutes', s.duration_minutes)),
                                jsonb_build_object('hold_id', h.id, 'service', s.id,
                                                   'held_minutes', extract(epoch FROM h.ends_at - h.starts_at)::bigint / 60,
                                                   'service_minutes', s.duration_minutes));
    END IF;

    -- A service named only now must be one the hold's provider offers (voxbook.service_providers).
    IF s.id IS DISTINCT FROM h.service_id THEN
        SELECT * INTO cal FROM voxbook.calendars AS x WHERE x.org_id = h.org_id AND x.id = h.calendar_id;
        PERFORM internal.require_offered(cal, s);
    END IF;

    IF contact_id IS NOT NULL THEN
        SELECT * INTO ct FROM voxbook.contacts AS x
         WHERE x.org_id = confirm_hold.org_id AND x.id = confirm_hold.contact_id FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM internal.fail('VB404', 'unknown contact', 'Leave contact_id out to create the contact from the hold''s phone.');
        END IF;
    ELSIF h.patient_phone IS NULL THEN
        PERFORM internal.fail('VB400', 'the hold has no patient phone', 'Claim with patient_phone, or pass contact_id.');
    ELSE
        INSERT INTO voxbook.contacts AS x (org_id, phone, name)
        VALUES (h.org_id, h.patient_phone, h.patient_name)
        ON CONFLICT ON CONSTRAINT contacts_org_id_phone_key
            DO UPDATE SET name = coalesce(x.name, excluded.name)
        RETURNING x.* INTO ct;
    END IF;
    UPDATE voxbook.contacts AS x
       SET booking_source = CASE WHEN via = 'otp' THEN 'phone_ai' ELSE 'manual' END,
           booking_completed_at = now_ts, last_booking_hold_id = h.id, updated_at = now_ts
     WHERE x.org_id = ct.org_id AND x.id = ct.id;

    UPDATE voxbook.holds AS x SET status = 'confirmed', service_id = coalesce(s.id, x.service_id), updated_at = now_ts
     WHERE x.org_id = h.org_id AND x.id = h.id;
    -- The appointment carries the name it is booked for: a contact is a number, which a parent and a child
    -- may share, and every reader shows this name (0024).
    INSERT INTO voxbook.appointments AS a (org_id, hold_id, contact_id, service_id, vapi_call_id, confirmed_via,
                                           confirmed_by, otp_verified, otp_verified_at, locale, patient_name)
    VALUES (h.org_id, h.id, ct.id, coalesce(s.id, h.service_id), h.vapi_call_id, via, staff_user,
            h.otp_verified_at IS NOT NULL, h.otp_verified_at, h.locale, left(coalesce(h.patient_name, ct.name), 200))
    RETURNING a.id INTO appointment_id;

    -- Same transaction: an appointment without its confirmation in the outbox cannot exist.
    confirmation := internal.queue_appointment_sms(h.org_id, appointment_id, 'confirmation');
    PERFORM internal.schedule_reminder(h.org_id, appointment_id);
    RETURN internal.appointment_json(h.org_id, appointment_id)
           || jsonb_build_object('message', 'Appointment confirmed', 'message_id', confirmation.id);
END
$$;


CREATE FUNCTION api.confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid DEFAULT NULL,
                           service_type text DEFAULT NULL, staff_user text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
BEGIN
    PERFORM internal.require(hold_id, 'hold_id');
    staff_user := internal.audit_name(staff_user);   -- capped, the email kept (63_audit.sql)
    RETURN internal.confirm_hold(org_id, hold_id, contact_id, service_type,
                                 CASE WHEN staff_user IS NULL THEN 'otp' ELSE 'staff' END, staff_user);
END
$$;
COMMENT ON FUNCTION api.confirm_held_slot(uuid, uuid, uuid, text, text) IS
$$Turns a live hold into a confirmed appointment, creates or updates the contact (from the hold's phone
unless contact_id is given), queues the confirmation SMS and schedules the reminder, all in one
transaction. Without staff_user the hold's one-time code must have been verified (api.verify_otp
already confirms in that case, so this returns the same appointment); with staff_user it is the staff
path, recorded as confirmed_via = 'staff'. Repeating it returns the same appointment.
service_type may name the service only if it fits the held time: one of another length than the hold
(a 30-minute hold confirmed as a 60-minute cleaning) is refused with "service_mismatch"; reserve again
with that service.
Returns the appointment ({"success": true, "appointment_id", "message", "status", "starts_at", ...}) or
{"success": false, "code": "hold_expired" | "not_verified", "error", "hold_id"} or
{"success": false, "code": "service_mismatch", "error", "hold_id", "service", "held_minutes", "service_minutes"}.
Errors: VB404 unknown org, hold, contact or service; VB400 hold without phone and no contact_id.
Example: SELECT api.confirm_held_slot('<hold_id>', 'a0000000-0000-0000-0000-000000000001',
         staff_user => 'front desk');$$;


-- Staff book for a patient (front desk, phone in hand): no code, the same claim (and so the same guarantees:
-- holds_no_overlap, the calendar lock, every rule of the clinic), then the same confirmation as the voice flow.
CREATE FUNCTION api.book_for_patient(org_id uuid, calendar_id text, slot_time timestamptz, service text DEFAULT NULL,
                                     patient_name text DEFAULT NULL, patient_phone text DEFAULT NULL,
                                     staff_user text DEFAULT NULL, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    staff text := internal.audit_name(staff_user);   -- one line, capped, the email kept (63_audit.sql)
    claimed jsonb;
    confirmed jsonb;
    appointment uuid;
BEGIN
    PERFORM internal.require_org(org_id);
    PERFORM internal.require(staff, 'staff_user');
    PERFORM internal.require(nullif(btrim(patient_name), ''), 'patient_name');
    PERFORM internal.require(nullif(btrim(patient_phone), ''), 'patient_phone');
    -- A one-minute hold, confirmed at once in this transaction: nobody ever sees it live.
    claimed := api.claim_slot_atomic(org_id, calendar_id, slot_time, NULL, patient_name, patient_phone, 1, service);
    IF NOT (claimed ->> 'success')::boolean THEN
        RETURN claimed;   -- slot_taken, with the alternatives
    END IF;
    confirmed := internal.confirm_hold(org_id, (claimed ->> 'hold_id')::uuid, NULL, NULL, 'staff', staff);
    IF NOT (confirmed ->> 'success')::boolean THEN
        RETURN confirmed;
    END IF;
    appointment := (confirmed ->> 'appointment_id')::uuid;
    UPDATE voxbook.appointments AS x SET booked_by = staff
     WHERE x.org_id = book_for_patient.org_id AND x.id = appointment;
    PERFORM internal.audit(org_id, coalesce(changed_by, staff), 'book_for_patient', 'appointment', appointment::text,
                           NULL, internal.appointment_audit(org_id, appointment));
    RETURN internal.appointment_json(org_id, appointment)
           || jsonb_build_object('booked_by', staff, 'message', 'Appointment booked', 'message_id', confirmed -> 'message_id');
END
$$;
COMMENT ON FUNCTION api.book_for_patient(uuid, text, timestamptz, text, text, text, text, text) IS
$$Staff book an appointment for a patient, without a code: the time is claimed exactly as api.claim_slot_atomic
claims it (the same rules: working hours and exceptions, closures and blocks, buffers, the providers offering
the service, notice and horizon; the same exclusion constraint and calendar lock, so of a staff booking and a
voice claim of one time exactly one wins) and confirmed at once: confirmed_via 'staff', confirmed_by and
appointments.booked_by = staff_user, the patient's name on the appointment (two people on one number are two
names), the confirmation SMS queued and the reminder scheduled in the same transaction. Audited (changed_by,
default staff_user).
Returns the appointment (as api.get_appointment) with "booked_by", "message", "message_id" (the confirmation),
or {"success": false, "code": "slot_taken", "error", "slot_time", "calendar_id", "alternatives"}.
Errors: VB404 unknown org, calendar or service; VB400 staff_user, patient_name or patient_phone missing, a
malformed phone, a time that is not bookable (as api.claim_slot_atomic).
Example: SELECT api.book_for_patient('a0000000-0000-0000-0000-000000000001', 'cal-smith', '2026-12-01T15:00:00Z',
         'cleaning', 'Mia Lee', '+15555550123', staff_user => 'front desk');$$;


CREATE FUNCTION api.expire_stale_holds(org_id uuid DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    n int := 0;
    -- A value, not the clock inside the UPDATE: Citus refuses a non-IMMUTABLE call in a multi-shard UPDATE.
    now_ts timestamptz := internal.clock();
    e record;
BEGIN
    -- A loop, not internal.cancel_unsent_codes per row of the UPDATE: on Citus that nests a distributed
    -- query in a shard's.
    FOR e IN
        UPDATE voxbook.holds AS x SET status = 'expired', release_reason = 'expired', updated_at = now()
         WHERE x.status = 'held' AND x.expires_at <= now_ts
           AND (expire_stale_holds.org_id IS NULL OR x.org_id = expire_stale_holds.org_id)
        RETURNING x.org_id, x.id
    LOOP
        PERFORM internal.cancel_unsent_codes(e.org_id, e.id, 'hold expired');
        n := n + 1;
    END LOOP;
    RETURN jsonb_build_object('success', true, 'expired', n);
END
$$;
COMMENT ON FUNCTION api.expire_stale_holds(uuid) IS
$$Housekeeping: marks live holds past their expiry as expired (all clinics, or one) and cancels their
unsent codes. Correctness never depends on it: claims flip expired holds in their way themselves and an
expired hold can never be confirmed. Returns {"success": true, "expired": n}.
Example: SELECT api.expire_stale_holds();$$;


CREATE FUNCTION api.get_hold(hold_id uuid, org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    h voxbook.holds;
    cal voxbook.calendars;
    o voxbook.organizations := internal.require_org(org_id);
BEGIN
    SELECT * INTO h FROM voxbook.holds AS x WHERE x.org_id = o.id AND x.id = get_hold.hold_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown hold', 'Use the hold_id returned by api.claim_slot_atomic for this clinic.');
    END IF;
    SELECT * INTO cal FROM voxbook.calendars AS x WHERE x.org_id = h.org_id AND x.id = h.calendar_id;
    RETURN internal.hold_json(h, o, cal, NULL) || jsonb_build_object(
        'live', h.status = 'held' AND h.expires_at > internal.clock(),
        'code_sent', h.otp_hash IS NOT NULL,
        'code_verified', h.otp_verified_at IS NOT NULL,
        'code_attempts', h.otp_attempts,
        'release_reason', h.release_reason);
END
$$;
COMMENT ON FUNCTION api.get_hold(uuid, uuid) IS
$$A hold as the API sees it: hold fields plus "live", "code_sent", "code_verified", "code_attempts",
"release_reason". Never shows the code. Errors: VB404 unknown org or hold.$$;
